//! The thread header's forms: assigning a chat; resolving, reopening, parking or snoozing it;
//! its tags; and giving its client a name.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::chat::{AssigneeFilter, ChatChange, ChatId, InboxRow, StatusChange};
use crate::domain::{ClientInput, DomainError, Permission, UserId};
use crate::services::ServiceError;
use crate::services::tags::may_touch_locked;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::chat_work::{WorkFragment, WorkPanel, snooze_until};
use crate::web::views::tags;

use super::{render, safe_return_path, ticked_tags};

/// What the header's buttons send; each field present is a change.
#[derive(Deserialize)]
pub struct WorkForm {
    /// `me`, `none` or a user's id.
    #[serde(default)]
    assignee: String,
    /// open, pending or resolved.
    #[serde(default)]
    status: String,
    /// One of the snooze lengths offered (`1h`, `4h`, `1d`, `1w`).
    #[serde(default)]
    snooze: String,
    #[serde(default)]
    back: String,
}

impl WorkForm {
    fn change(&self, me: UserId) -> Result<ChatChange, DomainError> {
        let assignee = match self.assignee.trim() {
            "" => None,
            raw => Some(match AssigneeFilter::parse(raw, me)? {
                AssigneeFilter::User(user) => Some(user),
                _ => None,
            }),
        };
        let now = chrono::Utc::now();
        let status = match (self.status.trim(), self.snooze.trim()) {
            ("", "") => None,
            ("", snooze) => match snooze_until(snooze, now) {
                Some(until) => Some(StatusChange::SnoozeUntil(until)),
                None => return Err(DomainError::new("snooze", "invalid_choice")),
            },
            (status, _) => StatusChange::parse(Some(status), None, now)?,
        };
        Ok(ChatChange { assignee, status, tag_ids: None })
    }
}

/// Applies the change and returns to the thread, with the list's filters as they were.
pub async fn change(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<WorkForm>,
) -> Result<Response, AppError> {
    let back = back_to_thread(&form.back, id);
    let change = form.change(me.principal.user_id).map_err(|e| AppError::Invalid(vec![e]))?;
    match state.chats.change(&me.principal, ChatId(id), change).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(ServiceError::Invalid(errors)) if errors.iter().any(|e| e.code == "not_assignable") => {
            Ok(flash::redirect(&back, Flash::error("chats.not_assignable")))
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/chats/{id}/tags: the tags the chat carries, as ticked; back to the thread, with
/// the reason when refused.
pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let back = back_to_thread(f.iter().find(|(k, _)| k == "back").map_or("", |(_, v)| v.as_str()), id);
    let change = ChatChange { tag_ids: Some(ticked_tags(&f)), ..ChatChange::default() };
    match state.chats.change(&me.principal, ChatId(id), change).await {
        Ok(_) => Ok(flash::redirect(&back, Flash::success("flash.tags_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let key = match errors.first().map(|e| e.code) {
                Some("locked_tag") => "error.locked_tag",
                Some("too_many_tags") => "error.too_many_tags",
                _ => "error.unknown_tag",
            };
            Ok(flash::redirect(&back, Flash::error(key)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The thread header's controls for chat `row`, as `me` may use them.
pub(super) async fn work_panel(state: &AppState, me: &CurrentUser, row: &InboxRow) -> Result<WorkPanel, AppError> {
    let can_change = me.principal.can(Permission::ChatUpdate);
    let (people, choices) = match can_change {
        true => {
            let all = state.tags.list(&me.principal).await?;
            let choices = tags::choices(&all, &row.tags, may_touch_locked(&me.principal));
            (state.chats.assignees(&me.principal).await?, choices)
        }
        false => (Vec::new(), Vec::new()),
    };
    Ok(WorkPanel::new(me.tr, row, me.principal.user_id, people, can_change, choices))
}

/// The client's name as the thread header's form gives it.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    back: String,
}

/// Names the chat's client from the thread (a stranger is known by a number), and returns.
pub async fn rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    let back = back_to_thread(&form.back, id);
    let (chat, _) = state.chats.chat(&me.principal, ChatId(id)).await?;
    let patch =
        ClientInput { first_name: Some(form.first_name), last_name: Some(form.last_name), ..Default::default() };
    match state.clients.update(&me.principal, chat.client_id, &patch).await {
        Ok(_) => Ok(flash::redirect(&back, Flash::success("flash.client_saved"))),
        Err(ServiceError::Invalid(_)) => Ok(flash::redirect(&back, Flash::error("chats.rename_invalid"))),
        Err(e) => Err(e.into()),
    }
}

/// A form's way back: this chat's thread (with the list's filters), never elsewhere.
fn back_to_thread(back: &str, id: i64) -> String {
    safe_return_path(back)
        .filter(|b| b.starts_with(&format!("/crm/chats/{id}")))
        .map_or_else(|| format!("/crm/chats/{id}"), str::to_owned)
}

#[derive(Deserialize)]
pub struct PanelQuery {
    #[serde(default)]
    back: String,
}

/// The header's controls as they stand now: fetched by an open thread when its chat changes.
pub async fn panel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<PanelQuery>,
) -> Result<Response, AppError> {
    let (row, _) = state.chats.chat(&me.principal, ChatId(id)).await?;
    let fragment = WorkFragment {
        tr: me.tr,
        csrf: me.csrf.clone(),
        chat_id: id,
        here: back_to_thread(&q.back, id),
        work: work_panel(&state, &me, &row).await?,
    };
    render(StatusCode::OK, &fragment)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/chats/{id}/work", get(panel).post(change))
        .route("/crm/chats/{id}/client-name", post(rename))
        .route("/crm/chats/{id}/tags", post(set_tags))
}
