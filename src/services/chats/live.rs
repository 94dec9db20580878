//! The live feed of a tenant's pages on this node: one task per tenant with open pages hears
//! the tenant's events on the bus, loads what each one changed once (the message, the chat's
//! place in the inbox, the unread total; a deal's event needs nothing loaded, its pipeline's
//! boards fetch themselves) and hands the same loaded change to every page. A
//! page then renders it for its reader, and what readers of the same language and rights
//! would render alike is rendered once (`LiveChange::shared`).
//!
//! Memory stays bounded: a page that falls more than `FEED_CAPACITY` changes behind skips
//! ahead and is told it missed some (`Live::Missed`), so it re-syncs instead of queueing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::db::TenantTx;
use crate::domain::chat::{ChatId, ChatStatus, Message, MessageId};
use crate::domain::settings::RecordVisibility;
use crate::domain::{DomainEvent, Permission, Principal, TenantId, UserId};
use crate::repos::{RepoError, chats, messages, tenants};

use super::{ChatService, ServiceError};

/// Changes kept for a slow page before it is told it missed some.
const FEED_CAPACITY: usize = 256;
/// How often a tenant's feed with no page left checks whether it can stop.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// What a live page hears.
#[derive(Clone)]
pub enum Live {
    Change(Arc<LiveChange>),
    /// Changes went by that this page (or this node) did not get: it should re-sync.
    Missed,
}

/// One event of the tenant with what it changed, loaded once for all of the tenant's pages.
pub struct LiveChange {
    pub event: DomainEvent,
    /// The message written, received or updated, as the thread shows it.
    pub message: Option<Message>,
    /// How the inbox lists changed, when they may have.
    pub lists: Option<ListChange>,
    /// The tenant's unread total, when it may have changed.
    pub unread_total: Option<i64>,
    /// Under the tenant's `record_visibility: own`: who besides admins reaches the chat this
    /// change is about (its assignee and its client's owner). `None`: every reader does.
    pub keepers: Option<Vec<UserId>>,
    /// What pages made of this change, by what makes it differ (say, "message:ru:retry").
    shared: Mutex<HashMap<String, Arc<str>>>,
}

/// How an event changed the inbox lists.
#[derive(Debug, Clone)]
pub enum ListChange {
    /// One chat's row: a list that shows it, or would now, is stale.
    Chat(ChatFacts),
    /// Any list may have changed (a client and their chat went away).
    All,
}

/// What the inbox list filters a chat by: enough for a page to tell whether its list shows
/// the chat, or would now.
#[derive(Debug, Clone)]
pub struct ChatFacts {
    pub id: ChatId,
    pub status: ChatStatus,
    pub assignee: Option<UserId>,
    pub unread: i32,
    /// The number of chats in a view may have changed (a chat came, went, or changed hands or
    /// status): every list's tab counts are stale.
    pub counts: bool,
}

impl LiveChange {
    /// What `make` makes, made once for every page that asks with the same `key`.
    pub fn shared(&self, key: &str, make: impl FnOnce() -> String) -> Arc<str> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(done) = shared.get(key) {
            return done.clone();
        }
        let done: Arc<str> = make().into();
        shared.insert(key.to_owned(), done.clone());
        done
    }

    /// How many different things pages made of this change so far.
    pub fn made(&self) -> usize {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// `event` with nothing loaded yet: what `load` fills in, and what tests of rendering start from.
    pub fn bare(event: DomainEvent) -> Self {
        Self { event, message: None, lists: None, unread_total: None, keepers: None, shared: Mutex::default() }
    }
}

/// The feeds of this node, by tenant.
pub(super) type Feeds = Arc<Mutex<HashMap<TenantId, broadcast::Sender<Live>>>>;

/// What an event asks the feed to load.
struct Wants {
    message: Option<MessageId>,
    chat: Option<(ChatId, bool)>,
    unread_total: bool,
    all_lists: bool,
}

impl Wants {
    /// `None`: no live page cares about this event.
    fn of(event: &DomainEvent) -> Option<Wants> {
        let none = Wants { message: None, chat: None, unread_total: false, all_lists: false };
        Some(match event {
            DomainEvent::MessageSent { chat_id, message_id, .. } => {
                Wants { message: Some(*message_id), chat: Some((*chat_id, false)), ..none }
            }
            DomainEvent::MessageReceived { chat_id, message_id, .. } => {
                Wants { message: Some(*message_id), chat: Some((*chat_id, false)), unread_total: true, ..none }
            }
            DomainEvent::MessageStatusChanged { message_id, .. }
            | DomainEvent::AttachmentsArrived { message_id, .. } => Wants { message: Some(*message_id), ..none },
            DomainEvent::ChatCreated { chat_id, .. } | DomainEvent::ChatUpdated { chat_id, .. } => {
                Wants { chat: Some((*chat_id, true)), ..none }
            }
            DomainEvent::ChatRead { chat_id, .. } => {
                Wants { chat: Some((*chat_id, false)), unread_total: true, ..none }
            }
            // Its chat leaves every list.
            DomainEvent::ClientDeleted { .. } => Wants { unread_total: true, all_lists: true, ..none },
            // A board of the pipeline fetches itself again: nothing to load.
            DomainEvent::DealCreated { .. }
            | DomainEvent::DealUpdated { .. }
            | DomainEvent::DealMoved { .. }
            | DomainEvent::DealDeleted { .. }
            | DomainEvent::PipelineSaved { .. } => none,
            // The bell of the user it is about fetches itself again.
            DomainEvent::NotificationsChanged { .. } => none,
            // They end the pages of the user they are about.
            DomainEvent::UserRoleChanged { .. }
            | DomainEvent::UserDeactivated { .. }
            | DomainEvent::SessionsEnded { .. } => none,
            _ => return None,
        })
    }
}

impl ChatService {
    /// The tenant's live inbox feed, for a page of `by`'s (who must be able to read chats).
    pub fn live(&self, by: &Principal) -> Result<broadcast::Receiver<Live>, ServiceError> {
        super::super::require(by, &[Permission::ChatRead])?;
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(feed) = feeds.get(&by.tenant_id) {
            return Ok(feed.subscribe());
        }
        let (feed, rx) = broadcast::channel(FEED_CAPACITY);
        // Subscribed before this returns: nothing published from now on is missed.
        let events = self.events.subscribe_tenant(by.tenant_id);
        feeds.insert(by.tenant_id, feed.clone());
        tokio::spawn(self.clone().run_feed(by.tenant_id, events, feed));
        Ok(rx)
    }

    /// How many tenants have a live feed on this node.
    pub fn live_feeds(&self) -> usize {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// A tenant's feed: runs until none of its pages is left.
    async fn run_feed(
        self,
        tenant: TenantId,
        mut events: broadcast::Receiver<DomainEvent>,
        feed: broadcast::Sender<Live>,
    ) {
        loop {
            let live = match tokio::time::timeout(IDLE_CHECK, events.recv()).await {
                Err(_) => None,
                Ok(Ok(event)) => match Wants::of(&event) {
                    Some(wants) => Some(self.load(tenant, event, wants).await),
                    None => None,
                },
                Ok(Err(RecvError::Lagged(missed))) => {
                    tracing::warn!(%tenant, missed, "live feed lagged behind the bus");
                    Some(Live::Missed)
                }
                Ok(Err(RecvError::Closed)) => return,
            };
            if let Some(live) = live {
                let _ = feed.send(live);
            }
            if feed.receiver_count() == 0 {
                // Checked again under the lock that `live` subscribes under: no page can join
                // between the check and the removal.
                let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
                if feed.receiver_count() == 0 {
                    if feeds.get(&tenant).is_some_and(|f| f.same_channel(&feed)) {
                        feeds.remove(&tenant);
                    }
                    return;
                }
            }
        }
    }

    /// Loads what `event` changed, in one transaction; `Missed` if that fails (the pages
    /// re-sync instead of showing less than happened).
    async fn load(&self, tenant: TenantId, event: DomainEvent, wants: Wants) -> Live {
        let loaded: Result<LiveChange, ServiceError> = async {
            let mut change = LiveChange::bare(event);
            if wants.all_lists {
                change.lists = Some(ListChange::All);
            }
            if wants.message.is_none() && wants.chat.is_none() && !wants.unread_total {
                return Ok(change);
            }
            let mut tx = TenantTx::begin(&self.pool, tenant).await?;
            if let Some(id) = wants.message {
                change.message = Some(messages::message(&mut tx, id).await?);
            }
            if let Some((id, counts)) = wants.chat {
                change.lists = Some(match chats::inbox_row(&mut tx, id).await {
                    Ok(row) => ListChange::Chat(ChatFacts {
                        id,
                        status: row.status,
                        assignee: row.assignee.map(|a| a.id),
                        unread: row.unread,
                        counts,
                    }),
                    // Its client is archived: gone from every list.
                    Err(RepoError::NotFound) => ListChange::All,
                    Err(e) => return Err(e.into()),
                });
            }
            if wants.unread_total {
                change.unread_total = Some(chats::unread_total(&mut tx, None).await?);
            }
            if let Some(chat) = change.event.chat_id()
                && tenants::settings(&mut tx).await?.record_visibility == RecordVisibility::Own
            {
                change.keepers = Some(chats::keepers(&mut tx, chat).await?);
            }
            tx.commit().await?;
            Ok(change)
        }
        .await;
        match loaded {
            Ok(change) => Live::Change(Arc::new(change)),
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "live feed: cannot load a change");
                Live::Missed
            }
        }
    }
}
