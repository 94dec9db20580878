//! The thread header's forms: assigning a chat; resolving, reopening, parking or snoozing it;
//! and giving its client a name.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::chat::{AssigneeFilter, ChatChange, ChatId, StatusChange};
use crate::domain::{ClientInput, DomainError, Permission, UserId};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::chat_work::{WorkFragment, WorkPanel, snooze_until};

use super::{render, safe_return_path};

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
        Ok(ChatChange { assignee, status })
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
    let can_change = me.principal.can(Permission::ChatUpdate);
    let people = if can_change { state.chats.assignees(&me.principal).await? } else { Vec::new() };
    let fragment = WorkFragment {
        tr: me.tr,
        csrf: me.csrf.clone(),
        chat_id: id,
        here: back_to_thread(&q.back, id),
        work: WorkPanel::new(me.tr, &row, me.principal.user_id, people, can_change),
    };
    render(StatusCode::OK, &fragment)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/chats/{id}/work", get(panel).post(change))
        .route("/crm/chats/{id}/client-name", post(rename))
}
