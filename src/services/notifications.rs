//! Each user's notifications (the bell): read and marked read by their user alone. Other
//! services write them in their own transactions (`tell`) and announce them after commit.
//! Those of a user who linked Telegram also go there (`TelegramDelivery`).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::notification::{NewNotification, Notification, NotificationId, NotificationKind};
use crate::domain::{DomainEvent, Locale, Principal, TenantId, UserId};
use crate::events::EventBus;
use crate::i18n::Tr;
use crate::repos::notifications as repo;

use super::{ChannelService, ServiceError};

/// The unread count shown stops here ("99+").
pub const UNREAD_CAP: i64 = 100;

#[derive(Clone)]
pub struct NotificationService {
    pool: PgPool,
    events: EventBus,
}

impl NotificationService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// The reader's own notifications older than `before`, newest first.
    pub async fn list(
        &self,
        by: &Principal,
        unread_only: bool,
        before: Option<NotificationId>,
        limit: i64,
    ) -> Result<Vec<Notification>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let found = repo::of(&mut tx, by.user_id, unread_only, before, limit).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// One of the reader's own notifications (another's is `NotFound`).
    pub async fn get(&self, by: &Principal, id: NotificationId) -> Result<Notification, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let found = repo::one(&mut tx, by.user_id, id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// How many of the reader's notifications are unread (at most `UNREAD_CAP`).
    pub async fn unread(&self, by: &Principal) -> Result<i64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let n = repo::unread(&mut tx, by.user_id, UNREAD_CAP).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Marks the reader's notifications `ids` read (all when `None`); another user's ids are
    /// left alone. Returns how many were unread.
    pub async fn mark_read(&self, by: &Principal, ids: Option<&[NotificationId]>) -> Result<u64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let n = repo::mark_read(&mut tx, by.user_id, ids).await?;
        tx.commit().await?;
        if n > 0 {
            self.events.publish(DomainEvent::NotificationsChanged { tenant_id: by.tenant_id, user_id: by.user_id });
        }
        Ok(n)
    }
}

/// Writes `notes` in the caller's transaction; after it commits, `Told::publish` rings the bells.
pub(crate) async fn tell(tx: &mut TenantTx, notes: Vec<NewNotification>) -> Result<Told, ServiceError> {
    let mut told = Told { tenant_id: tx.tenant_id(), users: Vec::new() };
    for n in notes {
        repo::insert(tx, &n).await?;
        if !told.users.contains(&n.user_id) {
            told.users.push(n.user_id);
        }
    }
    Ok(told)
}

/// Who was told something in a transaction: announced once it commits.
#[must_use]
pub struct Told {
    tenant_id: TenantId,
    users: Vec<UserId>,
}

impl Told {
    pub fn publish(self, events: &EventBus) {
        for user_id in self.users {
            events.publish(DomainEvent::NotificationsChanged { tenant_id: self.tenant_id, user_id });
        }
    }
}

/// The sentence for `n` in `tr`'s language: "Ann mentioned you on Aziz Karimov: …",
/// "Reminder: Call back". The bell, the API and Telegram say the same.
pub fn sentence(tr: &Tr, n: &Notification) -> String {
    let key = match n.kind {
        NotificationKind::Mention => "notification.mention",
        NotificationKind::Reminder => "notification.reminder",
        NotificationKind::TaskAssigned => "notification.task_assigned",
    };
    ["by", "record", "title", "excerpt"]
        .into_iter()
        .fold(tr.t(key).to_owned(), |text, name| text.replace(&format!("{{{name}}}"), n.text(name)))
}

/// How many a worker takes at a time, and how long it holds them: a node that dies mid-send
/// leaves them to be taken again then (so a message may, rarely, go twice; never not at all).
const TELEGRAM_BATCH: i64 = 20;
const TELEGRAM_LEASE: Duration = Duration::from_secs(30);
/// Tries before a notification is given up on Telegram (it stays in the bell).
pub const TELEGRAM_TRIES: i32 = 5;

/// Sends linked users' notifications on Telegram through the bot they linked, on every node:
/// each claimed (SKIP LOCKED, under a lease) by one node, sent, and marked sent.
#[derive(Clone)]
pub struct TelegramDelivery {
    pool: PgPool,
    channels: ChannelService,
}

impl TelegramDelivery {
    pub fn new(pool: PgPool, channels: ChannelService) -> Self {
        Self { pool, channels }
    }

    /// One round: up to a batch of due notifications sent. `true` when there were some.
    pub async fn step(&self) -> Result<bool, ServiceError> {
        let claimed = repo::claim_telegram(&self.pool, TELEGRAM_BATCH, TELEGRAM_LEASE).await?;
        for &(tenant, id) in &claimed {
            if let Err(e) = self.send(tenant, id).await {
                tracing::warn!(tenant = %tenant.0, notification = id.0, error = %e, "Telegram notification not sent");
            }
        }
        Ok(!claimed.is_empty())
    }

    pub fn spawn(&self, every: Duration, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        super::polling::spawn("telegram notifications", every, None, stop, move || {
            let service = service.clone();
            async move { service.step().await }
        })
    }

    async fn send(&self, tenant: TenantId, id: NotificationId) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let Some(due) = repo::telegram_due(&mut tx, id).await? else { return Ok(()) };
        tx.commit().await?;
        let bot = match due.to {
            Some((channel, _)) => self.channels.telegram_bot(tenant, channel).await?,
            None => None,
        };
        let outcome = match (bot, due.to) {
            (Some(bot), Some((_, chat))) => {
                let locale = due.locale.parse::<Locale>().unwrap_or_default();
                let link = format!("{}{}", self.channels.endpoints().public_url, due.notification.url);
                let text = format!("{}\n{link}", sentence(&Tr::new(locale), &due.notification));
                bot.notify(&chat.to_string(), &text).await
            }
            // Unlinked, or the bot they linked is gone or off: nothing can reach them there.
            _ => Err("no_bot".to_owned()),
        };
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        match outcome {
            Ok(()) => repo::telegram_done(&mut tx, id, None).await?,
            Err(e) if e == "no_bot" || due.attempts >= TELEGRAM_TRIES => {
                repo::telegram_done(&mut tx, id, Some(&e)).await?
            }
            Err(e) => repo::telegram_retry(&mut tx, id, Duration::from_secs(5 << due.attempts.clamp(0, 6)), &e).await?,
        }
        tx.commit().await?;
        Ok(())
    }
}
