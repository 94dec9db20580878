//! The inbox at /crm/chats: the chat list, a thread, sending (with files, as a note, through a
//! chosen contact), marking read, retrying, and the files themselves. Every URL also works as
//! a plain page or form without JavaScript.

use axum::Form;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::limit::RequestBodyLimitLayer;

use crate::domain::attachment::{MAX_FILE_BYTES, MAX_FILES};
use crate::domain::chat::{ChatId, Direction, Message, MessageId, Transport};
use crate::domain::chat::{InboxQuery, InboxRow};
use crate::domain::{ClientId, ContactId, DomainError, Permission};
use crate::services::ServiceError;
use crate::services::chats::{Outgoing, Upload};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::views::Area;
use crate::web::views::chat_work::ViewTab;
use crate::web::views::chats::{
    ChatList, ChatRow, Composer, Hit, InboxFilters, InboxPage, MessageFragment, MessageView, MessagesPage, NoChatPage,
    Swap, TemplateChoice, ThreadDeal, ThreadView, UnreadBadge,
};
use crate::web::views::clients::ContactRow;
use crate::web::views::tags::TagChip;

use super::{is_htmx, render};

const CHATS_PER_PAGE: i64 = 30;
/// "Show more" stops after this many pages (600 conversations, all drawn at once): past them,
/// search and filters find a conversation faster than scrolling, and each page costs more.
const MAX_CHAT_PAGES: i64 = 20;
const MESSAGES_PER_PAGE: i64 = 50;

async fn chat_list(
    state: &AppState,
    me: &CurrentUser,
    filters: InboxFilters,
    active: Option<i64>,
) -> Result<ChatList, AppError> {
    let page = filters.page.unwrap_or(1).clamp(1, MAX_CHAT_PAGES);
    let status = filters.status();
    let query = InboxQuery {
        q: Some(filters.q.clone()).filter(|q| !q.trim().is_empty()),
        unread_only: filters.unread_only(),
        assignee: filters.view().assignee(me.principal.user_id),
        status,
        tag_id: filters.tag_id(),
        limit: CHATS_PER_PAGE * page + 1,
        offset: 0,
    };
    let mut rows = state.chats.inbox(&me.principal, &query).await?;
    let has_next = rows.len() as i64 > CHATS_PER_PAGE * page;
    rows.truncate((CHATS_PER_PAGE * page) as usize);
    let now = chrono::Utc::now();
    let counts = state.chats.view_counts(&me.principal, status).await?;
    let tabs =
        ViewTab::all(filters.view(), counts, |view| format!("/crm/chats{}", filters.with_view(view).query(None)));
    // Why each chat was found, when a message's words found it.
    let ids: Vec<ChatId> = rows.iter().map(|r| r.id).collect();
    let mut hits = match &query.q {
        Some(q) => state.chats.search_hits(&me.principal, &ids, q).await?,
        None => Default::default(),
    };
    let rows = rows
        .iter()
        .map(|r| {
            let mut row = ChatRow::new(me.tr, r, active, now);
            if let (Some((message, body)), Some(q)) = (hits.remove(&r.id), &query.q) {
                row.hit = Some(Hit::new(message.0, &body, q));
            }
            row
        })
        .collect();
    Ok(ChatList {
        tr: me.tr,
        rows,
        tabs,
        filters,
        active,
        me: me.principal.user_id.0,
        page,
        has_next: has_next && page < MAX_CHAT_PAGES,
        capped: has_next && page == MAX_CHAT_PAGES,
    })
}

/// A page of messages, oldest first, for the thread or "load older".
async fn messages_page(
    state: &AppState,
    me: &CurrentUser,
    chat: ChatId,
    before: Option<MessageId>,
) -> Result<(MessagesPage, Option<Transport>), AppError> {
    let mut page = state.chats.thread(&me.principal, chat, before, MESSAGES_PER_PAGE + 1).await?;
    let older = page.len() as i64 > MESSAGES_PER_PAGE;
    page.truncate(MESSAGES_PER_PAGE as usize);
    let client_wrote_on = page.iter().find(|m| m.direction == Direction::Inbound).map(|m| m.transport);
    page.reverse();
    let can_retry = me.principal.can(Permission::ChatUpdate);
    let today = me.tr.zone.today();
    Ok((
        MessagesPage {
            tr: me.tr,
            csrf: me.csrf.clone(),
            chat_id: chat.0,
            older_than: if older { page.first().map(|m| m.id.0) } else { None },
            items: page.iter().map(|m| MessageView::new(me.tr, m, can_retry)).collect(),
            today: today.format("%Y-%m-%d").to_string(),
            yesterday: today.pred_opt().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        },
        client_wrote_on,
    ))
}

/// What the composer shows after a send that failed: what was typed and why.
#[derive(Default)]
struct Draft {
    body: String,
    via: Option<String>,
    note: bool,
    error: Option<&'static str>,
}

async fn composer(
    state: &AppState,
    me: &CurrentUser,
    chat: ChatId,
    client: ClientId,
    draft: Draft,
    preferred: Option<Transport>,
) -> Result<Composer, AppError> {
    let can_send = me.principal.can(Permission::ChatCreate);
    let routes = if can_send { state.chats.routes(&me.principal, chat).await? } else { Vec::new() };
    let templates = if can_send && me.principal.can(Permission::TemplateRead) {
        state.message_templates.filled_for(&me.principal, client).await?.iter().map(TemplateChoice::from).collect()
    } else {
        Vec::new()
    };
    Ok(Composer {
        tr: me.tr,
        csrf: me.csrf.clone(),
        chat_id: chat.0,
        routes: Composer::route_options(me.tr, &routes, draft.via.as_deref(), preferred),
        body: draft.body,
        note: draft.note,
        error: draft.error,
        templates,
        can_send,
        sent: None,
    })
}

/// The inbox page around `list` and the `thread` open in it.
async fn inbox_page(
    state: &AppState,
    me: &CurrentUser,
    list: ChatList,
    thread: Option<ThreadView>,
) -> Result<InboxPage, AppError> {
    let tags = TagChip::of(&state.tags.list(&me.principal).await?);
    Ok(InboxPage { shell: me.shell(Area::Chats), list, thread, tags })
}

async fn thread_view(
    state: &AppState,
    me: &CurrentUser,
    chat: ChatId,
    filters: &InboxFilters,
    before: Option<MessageId>,
    draft: Draft,
) -> Result<ThreadView, AppError> {
    let (header, _) = state.chats.chat(&me.principal, chat).await?;
    let (messages, client_wrote_on) = messages_page(state, me, chat, before).await?;
    let newest = messages.items.last().map(|m| m.id);
    let composer = composer(state, me, chat, header.client_id, draft, client_wrote_on).await?;
    let work = super::chat_work::work_panel(state, me, &header).await?;
    let contacts = thread_contacts(state, me, &header).await?;
    // The client's open deals, for whoever may see deals (none under `own` but their own).
    let deals = if me.principal.can(Permission::DealRead) {
        let open = state.deals.of_client(&me.principal, header.client_id).await?;
        open.iter().map(|d| ThreadDeal::new(me.tr, d)).collect()
    } else {
        Vec::new()
    };
    Ok(ThreadView {
        deals,
        can_add_deal: me.principal.can(Permission::DealWrite),
        work,
        can_rename: me.principal.can(Permission::ClientUpdate),
        here: format!("/crm/chats/{chat}{}", filters.query(None)),
        tr: me.tr,
        csrf: me.csrf.clone(),
        chat_id: chat.0,
        client_id: header.client_id.0,
        initials: crate::web::views::initials(&header.client_name),
        channel: client_wrote_on,
        client_name: header.client_name,
        contacts,
        unread: header.unread,
        messages,
        composer,
        // What a reader sees of an older page is not the newest: only the latest page marks.
        newest: if before.is_none() { newest } else { None },
        can_mark_read: me.principal.can(Permission::ChatUpdate),
        back: format!("/crm/chats{}", filters.query(None)),
    })
}

/// What the thread's header offers to reach the client by; nothing for a reader who may not
/// see clients.
async fn thread_contacts(state: &AppState, me: &CurrentUser, header: &InboxRow) -> Result<Vec<ContactRow>, AppError> {
    match state.clients.contacts(&me.principal, header.client_id).await {
        Ok(contacts) => Ok(ContactRow::ways_to_reach(header.client_phone.as_ref(), &contacts)),
        Err(ServiceError::Forbidden) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(filters): Query<InboxFilters>,
) -> Result<Response, AppError> {
    let list = chat_list(&state, &me, filters, None).await?;
    render(StatusCode::OK, &inbox_page(&state, &me, list, None).await?)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(flatten)]
    filters: InboxFilters,
    /// Show the messages older than this one (the no-JavaScript "older" link).
    before: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let thread = thread_view(&state, &me, ChatId(id), &q.filters, q.before.map(MessageId), Draft::default()).await?;
    let list = chat_list(&state, &me, q.filters, Some(id)).await?;
    render(StatusCode::OK, &inbox_page(&state, &me, list, Some(thread)).await?)
}

#[derive(Deserialize)]
pub struct ChatListQuery {
    #[serde(flatten)]
    filters: InboxFilters,
    active: Option<i64>,
}

/// The chat list alone: search as you type, and the refresh a live update asks for. The
/// address bar follows the filters (HX-Replace-Url), so a reload or a shared link keeps them.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ChatListQuery>,
) -> Result<Response, AppError> {
    let list = chat_list(&state, &me, q.filters, q.active).await?;
    let mut res = render(StatusCode::OK, &list)?;
    if let Ok(url) = header::HeaderValue::from_str(&list.page_url()) {
        res.headers_mut().insert("hx-replace-url", url);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct OlderQuery {
    before: Option<i64>,
}

/// Older messages of a thread, loaded when the reader scrolls to the top.
pub async fn older(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OlderQuery>,
) -> Result<Response, AppError> {
    let (page, _) = messages_page(&state, &me, ChatId(id), q.before.map(MessageId)).await?;
    render(StatusCode::OK, &page)
}

/// The navigation's unread badge.
pub async fn unread(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let total = state.chats.unread_total(&me.principal).await?;
    render(StatusCode::OK, &UnreadBadge { total })
}

/// The Chat tab of a client: their chat, or, before it is started, a page that offers to start
/// it (reading makes nothing).
pub async fn for_client(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(client): Path<i64>,
) -> Result<Response, AppError> {
    let client = ClientId(client);
    if let Some(chat) = state.chats.find_for_client(&me.principal, client).await? {
        return Ok(Redirect::to(&format!("/crm/chats/{}", chat.id)).into_response());
    }
    let (found, _) = state.clients.get(&me.principal, client).await?;
    let page = NoChatPage {
        note: me.tr.t1("chats.no_chat", "name", &found.full_name()),
        shell: me.shell(Area::Chats),
        client_id: client.0,
        name: found.full_name(),
        can_start: me.principal.can(Permission::ChatCreate),
    };
    render(StatusCode::OK, &page)
}

/// Starts a client's chat (if there is none) and opens it.
pub async fn open_for_client(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(client): Path<i64>,
) -> Result<Response, AppError> {
    let (chat, _) = state.chats.open_for_client(&me.principal, ClientId(client)).await?;
    Ok(Redirect::to(&format!("/crm/chats/{}", chat.id)).into_response())
}

/// The composer's form as sent.
struct SendForm {
    body: String,
    via: String,
    note: bool,
    files: Vec<Upload>,
    /// "Send later": a local date and time (`2026-12-31T09:00`) and the browser's offset from
    /// UTC in minutes (`Date.getTimezoneOffset`; absent without JavaScript: UTC).
    send_at: String,
    tz_offset: String,
    /// Why the files cannot go (too large, too many), found while they streamed in.
    refused: Option<DomainError>,
}

async fn read_send_form(mut form: Multipart) -> Result<SendForm, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.to_string());
    let mut out = SendForm {
        body: String::new(),
        via: String::new(),
        note: false,
        files: Vec::new(),
        send_at: String::new(),
        tz_offset: String::new(),
        refused: None,
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("body") => out.body = field.text().await.map_err(bad)?,
            Some("via") => out.via = field.text().await.map_err(bad)?,
            Some("note") => out.note = !field.text().await.map_err(bad)?.is_empty(),
            Some("send_at") => out.send_at = field.text().await.map_err(bad)?,
            Some("tz_offset") => out.tz_offset = field.text().await.map_err(bad)?,
            Some("files") => {
                // A name is only shown: a NUL in it (which nothing can store) is dropped.
                let file_name = field.file_name().unwrap_or_default().replace('\0', "");
                // Checked as it streams in: a file past the limit is never held whole.
                let Some(bytes) = crate::web::input::read_file(field, MAX_FILE_BYTES).await.map_err(bad)? else {
                    out.refused.get_or_insert(DomainError::new("files", "file_too_large"));
                    continue;
                };
                // A form sent with no file chosen has one empty, nameless part.
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                if out.files.len() == MAX_FILES {
                    out.refused.get_or_insert(DomainError::new("files", "too_many_files"));
                    continue;
                }
                out.files.push(Upload { file_name, bytes });
            }
            _ => {}
        }
    }
    crate::web::input::check_text("body", &out.body)?;
    crate::web::input::check_text("via", &out.via)?;
    Ok(out)
}

/// The composer's "send later" time in UTC: the local time typed, moved by the browser's offset.
fn send_at(form: &SendForm) -> Result<Option<chrono::DateTime<chrono::Utc>>, DomainError> {
    let raw = form.send_at.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = || DomainError::new("send_at", "invalid_datetime");
    let local = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map_err(|_| invalid())?;
    let offset: i64 = match form.tz_offset.trim() {
        "" => 0,
        minutes => minutes.parse().ok().filter(|m: &i64| m.abs() <= 16 * 60).ok_or_else(invalid)?,
    };
    Ok(Some(local.and_utc() + chrono::Duration::minutes(offset)))
}

/// The composer's choice of way as its form writes it: `sms:12` (a transport and a contact),
/// `sms:` (the client's phone), or a note. Whether the tenant can send on it is the service's
/// to say.
fn parse_via(via: &str, note: bool) -> Result<(Transport, Option<ContactId>), DomainError> {
    if note {
        return Ok((Transport::Note, None));
    }
    let invalid = || DomainError::new("via", "invalid_transport");
    let (transport, contact) = via.split_once(':').unwrap_or((via, ""));
    let transport: Transport = transport.parse().map_err(|_| invalid())?;
    let contact = match contact {
        "" => None,
        id => Some(ContactId(id.parse().map_err(|_| invalid())?)),
    };
    Ok((transport, contact))
}

pub async fn send(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Multipart,
) -> Result<Response, AppError> {
    let chat = ChatId(id);
    let mut form = read_send_form(form).await?;
    let later = send_at(&form);
    let sent = match (form.refused.take(), parse_via(&form.via, form.note), later) {
        (Some(refused), _, _) | (None, Err(refused), _) | (None, Ok(_), Err(refused)) => Err(refused.into()),
        (None, Ok((transport, contact)), Ok(send_at)) => {
            let out = Outgoing {
                body: &form.body,
                transport: Some(transport),
                contact,
                template: None,
                files: std::mem::take(&mut form.files),
                send_at,
            };
            state.chats.send(&me.principal, chat, out).await
        }
    };
    let (header, _) = state.chats.chat(&me.principal, chat).await?;
    match sent {
        Ok(_) if !is_htmx(&headers) => Ok(Redirect::to(&format!("/crm/chats/{id}")).into_response()),
        Ok(message) => {
            // A fresh composer, still on the channel and in the mode (reply or note) the agent
            // chose, and the new bubble.
            let draft = Draft { via: Some(form.via), note: form.note, ..Draft::default() };
            let mut composer = composer(&state, &me, chat, header.client_id, draft, None).await?;
            composer.sent = Some(MessageFragment {
                tr: me.tr,
                csrf: me.csrf.clone(),
                m: MessageView::new(me.tr, &message, me.principal.can(Permission::ChatUpdate)),
                swap: Swap::Append,
            });
            render(StatusCode::OK, &composer)
        }
        Err(ServiceError::Invalid(errors)) => {
            let code = errors.first().map_or("invalid", |e| e.code);
            let draft = Draft { body: form.body, via: Some(form.via), note: form.note, error: Some(me.tr.error(code)) };
            if is_htmx(&headers) {
                let composer = composer(&state, &me, chat, header.client_id, draft, None).await?;
                return render(StatusCode::UNPROCESSABLE_ENTITY, &composer);
            }
            let thread = thread_view(&state, &me, chat, &InboxFilters::default(), None, draft).await?;
            let list = chat_list(&state, &me, InboxFilters::default(), Some(id)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &inbox_page(&state, &me, list, Some(thread)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ReadForm {
    /// The newest message the reader was shown; everything when absent.
    #[serde(default)]
    up_to: String,
}

pub async fn mark_read(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ReadForm>,
) -> Result<Response, AppError> {
    let up_to = match form.up_to.trim() {
        "" => None,
        raw => {
            Some(MessageId(raw.parse().map_err(|_| AppError::Invalid(vec![DomainError::new("up_to", "invalid_id")]))?))
        }
    };
    state.chats.mark_read(&me.principal, ChatId(id), up_to).await?;
    if is_htmx(&headers) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Redirect::to(&format!("/crm/chats/{id}")).into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let message = state.chats.retry(&me.principal, ChatId(id), MessageId(message)).await?;
    changed_bubble(&me, &headers, &message)
}

/// Calls off a scheduled message; the bubble comes back `cancelled`.
pub async fn cancel(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let message = state.chats.cancel(&me.principal, ChatId(id), MessageId(message)).await?;
    changed_bubble(&me, &headers, &message)
}

/// After a change to one message: its bubble alone for htmx to put in place, else back to the
/// thread.
fn changed_bubble(me: &CurrentUser, headers: &HeaderMap, message: &Message) -> Result<Response, AppError> {
    if is_htmx(headers) {
        let fragment = MessageFragment {
            tr: me.tr,
            csrf: me.csrf.clone(),
            m: MessageView::new(me.tr, message, true),
            swap: Swap::Inline,
        };
        return render(StatusCode::OK, &fragment);
    }
    Ok(Redirect::to(&format!("/crm/chats/{}", message.chat_id)).into_response())
}

/// A message's file, for signed-in users of its tenant only. Images verified at upload show
/// inline; everything else downloads, and nothing served here may run as a page.
pub async fn attachment(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (a, bytes) = state.chats.attachment(&me.principal, ChatId(id), attachment).await?;
    let disposition = if a.is_image() { "inline" } else { "attachment" };
    let encoded = crate::web::error::urlencode(&a.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("{disposition}; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// The inbox and a client's chat tab; sending is in `send_routes` (a larger body).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/clients/{id}/chat", get(for_client).post(open_for_client))
        .route("/crm/chats", get(inbox))
        .route("/crm/chats/list", get(list))
        .route("/crm/chats/unread", get(unread))
        .route("/crm/chats/{id}", get(show))
        .route("/crm/chats/{id}/messages", get(older))
        .route("/crm/chats/{id}/read", post(mark_read))
        .route("/crm/chats/{id}/messages/{message}/retry", post(retry))
        .route("/crm/chats/{id}/messages/{message}/cancel", post(cancel))
        .route("/crm/chats/{id}/attachments/{attachment}", get(attachment))
}

/// Writing in a chat, with a body limit of its own (its files at their limit, the text).
pub fn send_routes() -> Router<AppState> {
    Router::new()
        .route("/crm/chats/{id}/messages", post(send))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(crate::web::MAX_MESSAGE_BYTES))
}
