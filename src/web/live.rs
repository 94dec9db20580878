//! Live updates over Server-Sent Events: each open page of a user who may read chats hears of
//! its own tenant's inbox changes (`ChatService::live`, loaded once per node), and of nothing
//! else. What a page hears:
//! - `message`: a bubble, rendered once per language and rights and appended to its thread or
//!   replacing the one shown (the page drops it when that thread is not open);
//! - `chat`: a chat's facts (id, status, assignee, unread, whether view counts changed), from
//!   which the page decides whether its list shows that chat or would now, and only then asks
//!   for the list again;
//! - `unread`: the navigation's unread badge, ready to show;
//! - `chat-N`: chat N's controls changed (an open thread fetches its header again);
//! - `notify`: a client's message for this reader's desktop notification;
//! - `resync`: changes went by that this page missed: it fetches its list and badge once.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::domain::chat::{ChatId, Message};
use crate::domain::{DomainEvent, Permission, Role, TenantId, UserId};
use crate::i18n::Tr;
use crate::services::chats::{ListChange, Live, LiveChange};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::views::chats::{MessageFragment, MessageView, Swap, UnreadBadge, one_line};

/// A stream ends after this long and the browser reconnects at once, signing in again (a
/// bound for what no event announces, such as a session running out).
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// Who listens: whose stream ends with their session or rights, and who reads.
struct Listener {
    state: AppState,
    tenant: TenantId,
    /// The session the stream was opened under, checked again when one of the user's ends.
    session: String,
    reader: Reader,
}

/// How a page's reader is shown a change: what tells two readers' pages apart.
struct Reader {
    user: UserId,
    tr: Tr,
    can_retry: bool,
    /// An admin: reaches every chat, whatever the tenant's record visibility.
    sees_all: bool,
}

pub async fn events(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let rx = state.chats.live(&me.principal)?;
    let listener = Listener {
        tenant: me.principal.tenant_id,
        session: me.session_token.clone(),
        reader: Reader {
            user: me.principal.user_id,
            tr: me.tr,
            can_retry: me.principal.can(Permission::ChatUpdate),
            sees_all: me.principal.role == Role::Admin,
        },
        state,
    };
    let deadline = Instant::now() + STREAM_LIFETIME;
    // Reconnect quickly after the stream's planned end or a restart.
    let hello = stream::once(async { vec![Event::default().retry(Duration::from_secs(1)).comment("live")] });
    let updates = stream::unfold((rx, listener), move |(mut rx, listener)| async move {
        loop {
            let change = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) | Ok(Err(RecvError::Closed)) => return None,
                // Too slow to keep up, or the node missed some: the page catches up once
                // instead of this stream queueing without end.
                Ok(Err(RecvError::Lagged(_)) | Ok(Live::Missed)) => return Some((vec![resync()], (rx, listener))),
                Ok(Ok(Live::Change(change))) => change,
            };
            // Signed out, deactivated or given another role: the stream ends now, and the
            // browser's reconnection meets the new rights (or the sign-in page).
            if listener.ended_by(&change.event).await {
                return None;
            }
            let out = listener.reader.render(&change);
            if !out.is_empty() {
                return Some((out, (rx, listener)));
            }
        }
    });
    let events = hello.chain(updates).flat_map(|batch| stream::iter(batch.into_iter().map(Ok)));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// "You missed changes: fetch the list and the badge again."
fn resync() -> Event {
    Event::default().event("resync").data("1")
}

impl Listener {
    /// Whether `event` takes away what the stream was opened with.
    async fn ended_by(&self, event: &DomainEvent) -> bool {
        match event {
            DomainEvent::UserRoleChanged { tenant_id, user_id, .. }
            | DomainEvent::UserDeactivated { tenant_id, user_id } => {
                *tenant_id == self.tenant && *user_id == self.reader.user
            }
            DomainEvent::SessionsEnded { tenant_id, user_id }
                if *tenant_id == self.tenant && *user_id == self.reader.user =>
            {
                // One of the user's sessions ended: this one, if it no longer opens.
                !matches!(self.state.auth.session_principal(&self.session).await, Ok(Some(_)))
            }
            _ => false,
        }
    }
}

impl Reader {
    /// What this reader's page should hear of `change` (one of its tenant's). What is the
    /// same for many readers is made once (`LiveChange::shared`).
    fn render(&self, change: &LiveChange) -> Vec<Event> {
        // Under `record_visibility: own`, a chat this reader does not reach says nothing to
        // them; one that changed hands may have left their list, which fetches itself again.
        let own = !self.sees_all && change.keepers.is_some();
        if own && change.keepers.as_ref().is_some_and(|k| !k.contains(&self.user)) {
            return match change.event {
                DomainEvent::ChatUpdated { .. } => vec![resync()],
                _ => Vec::new(),
            };
        }
        let mut out = Vec::new();
        if let Some(message) = &change.message {
            let swap = match change.event {
                DomainEvent::MessageSent { .. } | DomainEvent::MessageReceived { .. } => Swap::Append,
                _ => Swap::Replace,
            };
            let key = format!("message:{}:{}", self.tr.locale.as_str(), self.can_retry);
            let html = change.shared(&key, || self.bubble(message, swap));
            if !html.is_empty() {
                out.push(Event::default().event("message").data(&*html));
            }
            if let DomainEvent::MessageReceived { chat_id, assignee, .. } = change.event
                && let Some(notice) = self.notice(chat_id, assignee, message)
            {
                out.push(notice);
            }
        }
        if let Some(lists) = &change.lists {
            out.push(Event::default().event("chat").data(&*change.shared("chat", || list_change(lists))));
        }
        // An open thread of this chat fetches its header's controls again.
        if let DomainEvent::ChatUpdated { chat_id, .. } = change.event {
            out.push(Event::default().event(format!("chat-{}", chat_id.0)).data("1"));
        }
        match change.unread_total {
            // The tenant's total is not theirs: their badge counts their own chats again.
            Some(_) if own => out.push(Event::default().event("unread-stale").data("1")),
            Some(total) => {
                out.push(Event::default().event("unread").data(&*change.shared("unread", || unread_badge(total))))
            }
            None => {}
        }
        // The reader's bell fetches its count again.
        if let DomainEvent::NotificationsChanged { user_id, .. } = change.event
            && user_id == self.user
        {
            out.push(Event::default().event("bell").data("1"));
        }
        // A board of this pipeline fetches itself again (what it shows is the reader's to see).
        if let DomainEvent::DealCreated { pipeline_id, .. }
        | DomainEvent::DealUpdated { pipeline_id, .. }
        | DomainEvent::DealMoved { pipeline_id, .. }
        | DomainEvent::DealDeleted { pipeline_id, .. }
        | DomainEvent::PipelineSaved { pipeline_id, .. } = change.event
        {
            out.push(Event::default().event("deal").data(pipeline_id.0.to_string()));
        }
        out
    }

    /// "Tell me": a client's message in a chat assigned to this reader or to nobody (as the
    /// event says), as the page's desktop notification shows it (the page decides whether to,
    /// by its reader's choice). Nothing for chats of others.
    fn notice(&self, chat: ChatId, assignee: Option<UserId>, m: &Message) -> Option<Event> {
        if assignee.is_some_and(|a| a != self.user) {
            return None;
        }
        let body = if m.body.is_empty() && !m.attachments.is_empty() {
            self.tr.t("chats.notify_file").to_owned()
        } else {
            one_line(&m.body, 140)
        };
        let data = serde_json::json!({"chat": chat.0, "title": m.sender_name, "body": body, "url": format!("/crm/chats/{}", chat.0)});
        Some(Event::default().event("notify").data(data.to_string()))
    }

    /// The bubble as this reader's language and rights show it. Without the form's `_csrf`
    /// field: it only ever reaches a page through htmx, whose requests carry the token as a
    /// header, so one rendering serves every reader alike.
    fn bubble(&self, message: &Message, swap: Swap) -> String {
        let fragment = MessageFragment {
            tr: self.tr,
            csrf: String::new(),
            m: MessageView::new(self.tr, message, self.can_retry),
            swap,
        };
        askama::Template::render(&fragment).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "live update: render");
            String::new()
        })
    }
}

/// The `chat` event's data: what a page needs to tell whether its list is stale.
fn list_change(lists: &ListChange) -> String {
    let data = match lists {
        ListChange::Chat(c) => serde_json::json!({
            "id": c.id.0,
            "status": c.status.as_str(),
            "assignee": c.assignee.map(|a| a.0),
            "unread": c.unread,
            "counts": c.counts,
        }),
        ListChange::All => serde_json::json!({"id": null, "counts": true}),
    };
    data.to_string()
}

/// The badge as the navigation shows it. Never empty: a browser drops an event without data,
/// and a badge going to zero must still arrive.
fn unread_badge(total: i64) -> String {
    let html = askama::Template::render(&UnreadBadge { total }).unwrap_or_default();
    if html.is_empty() { "<span hidden></span>".to_owned() } else { html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;
    use crate::domain::chat::{ChatStatus, Direction, MessageId, Transport};
    use crate::services::chats::ChatFacts;

    fn received() -> LiveChange {
        let tenant_id = TenantId(uuid::Uuid::nil());
        let event =
            DomainEvent::MessageReceived { tenant_id, chat_id: ChatId(7), message_id: MessageId(9), assignee: None };
        let mut change = LiveChange::bare(event);
        change.message = Some(Message {
            id: MessageId(9),
            chat_id: ChatId(7),
            direction: Direction::Inbound,
            sender_user_id: None,
            sender_contact_id: None,
            sender_name: "Dilnoza".into(),
            body: "Is it still available?".into(),
            transport: Transport::Sms,
            contact_id: None,
            status: None,
            provider_message_id: None,
            error_code: None,
            error: None,
            created_at: chrono::Utc::now(),
            sent_at: None,
            read_at: None,
            send_at: None,
            retrying: None,
            attachments: Vec::new(),
        });
        change.lists = Some(ListChange::Chat(ChatFacts {
            id: ChatId(7),
            status: ChatStatus::Open,
            assignee: None,
            unread: 1,
            counts: false,
        }));
        change.unread_total = Some(3);
        change
    }

    fn reader(user: i64, locale: Locale, can_retry: bool) -> Reader {
        Reader { user: UserId(user), tr: Tr::new(locale), can_retry, sees_all: false }
    }

    #[test]
    fn a_change_is_rendered_once_per_language_and_rights_however_many_pages_hear_it() {
        let change = received();
        let mut pages = Vec::new();
        for page in 0..1000 {
            let locale = if page % 3 == 0 { Locale::Ru } else { Locale::En };
            pages.push(reader(page % 10, locale, page % 2 == 0).render(&change));
        }
        // Two languages × two sets of rights for the bubble; the list's facts and the badge once.
        assert_eq!(change.made(), 4 + 2);
        for events in &pages {
            let text = format!("{events:?}");
            for name in ["event: message", "event: notify", "event: chat", "event: unread"] {
                assert!(text.contains(name), "{name} in {text}");
            }
            assert!(!text.contains("_csrf"), "no page's token in what every page is sent: {text}");
            assert!(!text.contains("event: inbox"), "no page is asked to fetch its list: {text}");
        }
        let chat = format!("{:?}", pages[0][2]);
        assert!(
            chat.contains(r#"{\"assignee\":null,\"counts\":false,\"id\":7,\"status\":\"open\",\"unread\":1}"#),
            "{chat}"
        );
    }

    #[test]
    fn under_own_visibility_a_chat_speaks_only_to_its_keepers_and_admins() {
        let mut change = received();
        change.keepers = Some(vec![UserId(1)]);
        let names = |events: Vec<Event>| format!("{events:?}");

        let stranger = names(reader(2, Locale::En, true).render(&change));
        assert_eq!(stranger, "[]", "a colleague who does not reach the chat hears nothing");
        let keeper = names(reader(1, Locale::En, true).render(&change));
        assert!(keeper.contains("event: message") && keeper.contains("event: unread-stale"), "{keeper}");
        assert!(!keeper.contains("event: unread\\n"), "not the tenant's total: {keeper}");
        let admin = Reader { sees_all: true, ..reader(2, Locale::En, true) };
        let seen = names(admin.render(&change));
        assert!(seen.contains("event: message") && seen.contains("event: unread\\n"), "{seen}");

        // A chat that changed hands: whoever no longer reaches it fetches their list again.
        let mut handed =
            LiveChange::bare(DomainEvent::ChatUpdated { tenant_id: TenantId(uuid::Uuid::nil()), chat_id: ChatId(7) });
        handed.keepers = Some(vec![UserId(1)]);
        assert!(names(reader(2, Locale::En, true).render(&handed)).contains("event: resync"));
    }

    #[test]
    fn a_badge_going_to_zero_still_arrives() {
        assert!(!unread_badge(0).is_empty());
        assert!(unread_badge(120).contains("99+"));
    }
}
