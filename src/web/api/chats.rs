//! /api/v1/chats, their messages, and a client's chat: the inbox for integrators.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::chat::{
    AssigneeFilter, Attachment, ChatChange, ChatId, ChatStatus, Direction, InboxQuery, InboxRow, Member, Message,
    MessageId, StatusChange, Transport,
};
use crate::domain::tag::TagId;
use crate::domain::{ClientId, ContactId, DomainError, UserId, parse_datetime, parse_id};
use crate::services::chats::Outgoing;
use crate::web::AppState;
use crate::web::error::AppError;
use serde_json::Value;

use super::tags::{TagJson, tag_ids, tags_json};
use super::{ApiUser, Paged};

#[derive(Serialize)]
pub struct ClientRef {
    id: i64,
    name: String,
}

#[derive(Serialize)]
pub struct LastMessageJson {
    id: i64,
    body: String,
    direction: &'static str,
    transport: &'static str,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct ChatJson {
    id: i64,
    client: ClientRef,
    last_message: Option<LastMessageJson>,
    last_message_at: Option<DateTime<Utc>>,
    unread_count: i32,
    /// Who works the chat; `null` when no one does.
    assignee: Option<AssigneeJson>,
    /// open, pending, resolved or snoozed.
    status: &'static str,
    /// When a snoozed chat opens again.
    snoozed_until: Option<DateTime<Utc>>,
    tags: Vec<TagJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<MemberJson>>,
}

#[derive(Serialize)]
pub struct AssigneeJson {
    id: UserId,
    name: String,
}

#[derive(Serialize)]
pub struct MemberJson {
    id: i64,
    #[serde(rename = "type")]
    kind: &'static str,
    user_id: Option<UserId>,
    contact_id: Option<ContactId>,
    transport: Option<&'static str>,
    name: String,
}

impl From<Member> for MemberJson {
    fn from(m: Member) -> Self {
        Self {
            id: m.id,
            kind: m.kind(),
            user_id: m.user_id,
            contact_id: m.contact_id,
            transport: m.transport.map(Transport::as_str),
            name: m.name,
        }
    }
}

impl ChatJson {
    fn new(row: InboxRow, members: Option<Vec<Member>>) -> Self {
        let last = row.last.map(|l| LastMessageJson {
            id: l.id.0,
            body: l.body,
            direction: l.direction.as_str(),
            transport: l.transport.as_str(),
            created_at: l.at,
        });
        Self {
            id: row.id.0,
            client: ClientRef { id: row.client_id.0, name: row.client_name },
            last_message_at: last.as_ref().map(|l| l.created_at),
            last_message: last,
            unread_count: row.unread,
            assignee: row.assignee.map(|a| AssigneeJson { id: a.id, name: a.name }),
            status: row.status.as_str(),
            snoozed_until: row.snoozed_until,
            tags: tags_json(row.tags),
            members: members.map(|all| all.into_iter().map(MemberJson::from).collect()),
        }
    }
}

#[derive(Serialize)]
pub struct SenderJson {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    name: String,
}

#[derive(Serialize)]
pub struct AttachmentJson {
    id: i64,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    /// Served to signed-in staff of the tenant (a browser session), like the inbox shows it.
    url: String,
}

impl AttachmentJson {
    fn new(chat: i64, a: Attachment) -> Self {
        Self {
            url: format!("/crm/chats/{chat}/attachments/{}", a.id),
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
        }
    }
}

#[derive(Serialize)]
pub struct MessageJson {
    id: i64,
    chat_id: i64,
    body: String,
    direction: &'static str,
    sender: SenderJson,
    transport: &'static str,
    /// Outbound messages: queued, sent, delivered, read, failed, undelivered or unknown (the
    /// provider may or may not have sent it: a person decides whether to retry); `note` for a
    /// note; absent for what the client wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    contact_id: Option<i64>,
    attachments: Vec<AttachmentJson>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
    /// When a scheduled message leaves (or left).
    #[serde(skip_serializing_if = "Option::is_none")]
    send_at: Option<DateTime<Utc>>,
}

impl From<Message> for MessageJson {
    fn from(m: Message) -> Self {
        let sender = match (m.direction, m.sender_user_id, m.sender_contact_id) {
            (Direction::Inbound, _, contact) => {
                SenderJson { kind: "client", id: contact.map(|c| c.0), name: m.sender_name }
            }
            (_, Some(user), _) => SenderJson { kind: "user", id: Some(user.0), name: m.sender_name },
            _ => SenderJson { kind: "system", id: None, name: m.sender_name },
        };
        let status = match m.direction {
            Direction::Note => Some("note"),
            _ => m.status.map(|s| s.as_str()),
        };
        Self {
            id: m.id.0,
            chat_id: m.chat_id.0,
            body: m.body,
            direction: m.direction.as_str(),
            sender,
            transport: m.transport.as_str(),
            status,
            error: m.error,
            error_code: m.error_code,
            contact_id: m.contact_id.map(|c| c.0),
            attachments: m.attachments.into_iter().map(|a| AttachmentJson::new(m.chat_id.0, a)).collect(),
            created_at: m.created_at,
            sent_at: m.sent_at,
            read_at: m.read_at,
            send_at: m.send_at,
        }
    }
}

/// The client's one chat, once it has been started (404 before: reading makes nothing).
pub async fn for_client(
    State(state): State<AppState>,
    user: ApiUser,
    Path(client): Path<i64>,
) -> Result<Json<ChatJson>, AppError> {
    let chat = state.chats.find_for_client(&user.0, ClientId(client)).await?.ok_or(AppError::NotFound)?;
    let (row, members) = state.chats.chat(&user.0, chat.id).await?;
    Ok(Json(ChatJson::new(row, Some(members))))
}

/// Starts the client's chat: 201 with it, or 200 with the one there already was.
pub async fn open_for_client(
    State(state): State<AppState>,
    user: ApiUser,
    Path(client): Path<i64>,
) -> Result<Response, AppError> {
    let (chat, started) = state.chats.open_for_client(&user.0, ClientId(client)).await?;
    let (row, members) = state.chats.chat(&user.0, chat.id).await?;
    let status = if started { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ChatJson::new(row, Some(members)))).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<ChatJson>>, AppError> {
    let paging = super::paging(&params);
    let unread = match params.get("unread").map(String::as_str) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(DomainError::new("unread", "must_be_boolean")),
    };
    let assignee = AssigneeFilter::parse(params.get("assignee").map_or("", String::as_str), user.0.user_id);
    let status = match params.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<ChatStatus>().map(Some),
    };
    let tag_id = parse_id("tag_id", params.get("tag_id").map_or("", String::as_str));
    let ((page, per_page), unread_only, assignee, status, tag_id) = match (paging, unread, assignee, status, tag_id) {
        (Ok(p), Ok(u), Ok(a), Ok(s), Ok(t)) => (p, u, a, s, t),
        (p, u, a, s, t) => {
            let mut errors = p.err().unwrap_or_default();
            errors.extend([u.err(), a.err(), s.err(), t.err()].into_iter().flatten());
            return Err(AppError::Invalid(errors));
        }
    };
    let query = InboxQuery {
        q: params.get("q").cloned(),
        unread_only,
        assignee,
        status,
        tag_id: tag_id.map(TagId),
        // One more than the page: whether another page exists, without counting every chat.
        limit: per_page + 1,
        offset: (page - 1) * per_page,
    };
    let mut rows = state.chats.inbox(&user.0, &query).await?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    // Counted as far as read: the rows before this page and on it, one more if another page
    // follows. An empty page past the end knows of none at all.
    let (total, total_exact) = match rows.len() {
        0 if page > 1 => (0, false),
        shown => ((page - 1) * per_page + shown as i64 + i64::from(more), !more),
    };
    Ok(Json(Paged {
        items: rows.into_iter().map(|r| ChatJson::new(r, None)).collect(),
        total,
        total_exact,
        page,
        per_page,
    }))
}

/// Assigns the chat, changes its status and/or its tags:
/// `{assignee_id?: id|null, status?, snoozed_until?, tag_ids?}`. An absent key changes nothing;
/// `assignee_id: null` unassigns.
pub async fn change(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<ChatJson>, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut errors = Vec::new();
    let assignee = match map.get("assignee_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => match v.as_i64().filter(|id| *id > 0) {
            Some(id) => Some(Some(UserId(id))),
            None => {
                errors.push(DomainError::new("assignee_id", "invalid_assignee"));
                None
            }
        },
    };
    let status = match map.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            errors.push(DomainError::new("status", "invalid_choice"));
            None
        }
    };
    let until = match map.get("snoozed_until") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().map(|s| parse_datetime("snoozed_until", s)) {
            Some(Ok(t)) => t,
            _ => {
                errors.push(DomainError::new("snoozed_until", "invalid_datetime"));
                None
            }
        },
    };
    let tag_ids = tag_ids(&body).map_err(|e| errors.push(e)).ok().flatten();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let status = StatusChange::parse(status, until, Utc::now()).map_err(|e| AppError::Invalid(vec![e]))?;
    let row = state.chats.change(&user.0, ChatId(id), ChatChange { assignee, status, tag_ids }).await?;
    Ok(Json(ChatJson::new(row, None)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ChatJson>, AppError> {
    let (row, members) = state.chats.chat(&user.0, ChatId(id)).await?;
    Ok(Json(ChatJson::new(row, Some(members))))
}

#[derive(Serialize)]
pub struct MessagesJson {
    items: Vec<MessageJson>,
}

pub async fn messages(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<MessagesJson>, AppError> {
    let number = |name: &'static str, max: i64| match params.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .map(Some)
            .ok_or(DomainError::new(name, "invalid_number")),
    };
    let (before, limit) = match (number("before", i64::MAX), number("limit", 100)) {
        (Ok(b), Ok(l)) => (b, l.unwrap_or(50)),
        (b, l) => return Err(AppError::Invalid([b.err(), l.err()].into_iter().flatten().collect())),
    };
    let page = state.chats.thread(&user.0, ChatId(id), before.map(MessageId), limit).await?;
    Ok(Json(MessagesJson { items: page.into_iter().map(MessageJson::from).collect() }))
}

#[derive(Deserialize)]
pub struct SendJson {
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    transport: Option<String>,
    #[serde(default)]
    contact_id: Option<i64>,
    #[serde(default)]
    template_id: Option<i64>,
    /// RFC 3339: the message waits as `scheduled` until then.
    #[serde(default)]
    send_at: Option<String>,
}

/// Writes in a chat: a note, or a message queued for its transport (202: delivery happens
/// after the answer; its status follows in the message).
pub async fn send(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(input): Json<SendJson>,
) -> Result<Response, AppError> {
    let transport = input.transport.as_deref().map(str::parse::<Transport>).transpose()?;
    let send_at = parse_datetime("send_at", input.send_at.as_deref().unwrap_or_default())?;
    let out = Outgoing {
        body: input.body.as_deref().unwrap_or_default(),
        transport,
        contact: input.contact_id.map(ContactId),
        template: input.template_id,
        files: Vec::new(),
        send_at,
    };
    let message = state.chats.send(&user.0, ChatId(id), out).await?;
    Ok((StatusCode::ACCEPTED, Json(MessageJson::from(message))).into_response())
}

/// Calls off a scheduled message (409 once it has left); it stays in the chat as `cancelled`.
pub async fn cancel(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    state.chats.cancel(&user.0, ChatId(id), MessageId(message)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mark_message_read(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    state.chats.mark_message_read(&user.0, ChatId(id), MessageId(message)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mark_read(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    state.chats.mark_read(&user.0, ChatId(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Chats, their messages, and a client's chat.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/clients/{id}/chat", get(for_client).post(open_for_client))
        .route("/api/v1/chats", get(list))
        .route("/api/v1/chats/{id}", get(show).patch(change))
        .route("/api/v1/chats/{id}/messages", get(messages).post(send))
        .route("/api/v1/chats/{id}/messages/{message_id}", delete(cancel))
        .route("/api/v1/chats/{id}/messages/{message_id}/read", put(mark_message_read))
        .route("/api/v1/chats/{id}/read", post(mark_read))
}
