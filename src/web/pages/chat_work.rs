//! The thread header's forms: assigning a chat, and resolving, reopening, parking or snoozing it.

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::domain::chat::{AssigneeFilter, ChatChange, ChatId, StatusChange};
use crate::domain::{DomainError, UserId};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::chat_work::snooze_until;

use super::safe_return_path;

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
    let back = safe_return_path(&form.back)
        .filter(|b| b.starts_with(&format!("/crm/chats/{id}")))
        .map_or_else(|| format!("/crm/chats/{id}"), str::to_owned);
    let change = form.change(me.principal.user_id).map_err(|e| AppError::Invalid(vec![e]))?;
    match state.chats.change(&me.principal, ChatId(id), change).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(ServiceError::Invalid(errors)) if errors.iter().any(|e| e.code == "not_assignable") => {
            Ok(flash::redirect(&back, Flash::error("chats.not_assignable")))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/crm/chats/{id}/work", post(change))
}
