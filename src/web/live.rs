//! Live updates over Server-Sent Events: each open page of a user who may read chats hears of
//! its own tenant's chat events, and of nothing else (the bus gives it its tenant's channel).
//! A new message arrives rendered for that user (language, permissions) and is appended to its
//! thread if that thread is open; a status change replaces the bubble shown; any chat event
//! tells the list and the unread badge to refresh.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::domain::chat::{ChatId, Message};
use crate::domain::{DomainEvent, Permission, TenantId, UserId};
use crate::i18n::Tr;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::views::chats::{MessageFragment, MessageView, Swap, one_line};

/// A stream ends after this long and the browser reconnects at once, signing in again (a
/// bound for what no event announces, such as a session running out).
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// Who listens, and how to render for them.
struct Listener {
    state: AppState,
    tenant: TenantId,
    user: UserId,
    /// The session the stream was opened under, checked again when one of the user's ends.
    session: String,
    tr: Tr,
    csrf: String,
    can_retry: bool,
}

pub async fn events(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let listener = Listener {
        tenant: me.principal.tenant_id,
        user: me.principal.user_id,
        session: me.session_token.clone(),
        tr: me.tr,
        csrf: me.csrf.clone(),
        can_retry: me.principal.can(Permission::ChatUpdate),
        state: state.clone(),
    };
    let rx = state.chats.live(&me.principal)?;
    let deadline = Instant::now() + STREAM_LIFETIME;
    // Reconnect quickly after the stream's planned end or a restart.
    let hello = stream::once(async { vec![Event::default().retry(Duration::from_secs(1)).comment("live")] });
    let updates = stream::unfold((rx, listener), move |(mut rx, listener)| async move {
        loop {
            let event = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) | Ok(Err(RecvError::Closed)) => return None,
                // Missed events: at least bring the list and badges up to date.
                Ok(Err(RecvError::Lagged(_))) => return Some((vec![inbox()], (rx, listener))),
                Ok(Ok(event)) => event,
            };
            // Signed out, deactivated or given another role: the stream ends now, and the
            // browser's reconnection meets the new rights (or the sign-in page).
            if listener.ended_by(&event).await {
                return None;
            }
            let out = listener.render(&event).await;
            if !out.is_empty() {
                return Some((out, (rx, listener)));
            }
        }
    });
    let events = hello.chain(updates).flat_map(|batch| stream::iter(batch.into_iter().map(Ok)));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// "Refresh the chat list and the unread badge."
fn inbox() -> Event {
    Event::default().event("inbox").data("1")
}

impl Listener {
    /// Whether `event` takes away what the stream was opened with.
    async fn ended_by(&self, event: &DomainEvent) -> bool {
        match event {
            DomainEvent::UserRoleChanged { tenant_id, user_id, .. }
            | DomainEvent::UserDeactivated { tenant_id, user_id } => *tenant_id == self.tenant && *user_id == self.user,
            DomainEvent::SessionsEnded { tenant_id, user_id } if *tenant_id == self.tenant && *user_id == self.user => {
                // One of the user's sessions ended: this one, if it no longer opens.
                !matches!(self.state.auth.session_principal(&self.session).await, Ok(Some(_)))
            }
            _ => false,
        }
    }

    /// What this listener's page should do about `event` (one of its tenant's).
    async fn render(&self, event: &DomainEvent) -> Vec<Event> {
        let (id, swap) = match event {
            DomainEvent::MessageSent { message_id, .. } | DomainEvent::MessageReceived { message_id, .. } => {
                (*message_id, Swap::Append)
            }
            DomainEvent::MessageStatusChanged { message_id, .. }
            | DomainEvent::AttachmentsArrived { message_id, .. } => (*message_id, Swap::Replace),
            // An open thread of this chat fetches its header's controls again.
            DomainEvent::ChatUpdated { chat_id, .. } => {
                return vec![inbox(), Event::default().event(format!("chat-{}", chat_id.0)).data("1")];
            }
            DomainEvent::ChatCreated { .. } | DomainEvent::ChatRead { .. } => return vec![inbox()],
            _ => return Vec::new(),
        };
        // One read of the message serves the bubble and the notification.
        let message = match self.state.chats.message(self.tenant, id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(message_id = %id, error = %e, "live update: cannot load the message");
                return vec![inbox()];
            }
        };
        let mut out = match self.bubble(&message, swap) {
            Some(html) => vec![Event::default().event("message").data(html), inbox()],
            None => vec![inbox()],
        };
        if let DomainEvent::MessageReceived { chat_id, assignee, .. } = event
            && let Some(notice) = self.notice(*chat_id, *assignee, &message)
        {
            out.push(notice);
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

    fn bubble(&self, message: &Message, swap: Swap) -> Option<String> {
        let fragment = MessageFragment {
            tr: self.tr,
            csrf: self.csrf.clone(),
            m: MessageView::new(self.tr, message, self.can_retry),
            swap,
        };
        askama::Template::render(&fragment).map_err(|e| tracing::warn!(error = %e, "live update: render")).ok()
    }
}
