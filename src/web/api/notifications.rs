//! /api/v1/notifications: the caller's own notifications, and marking them read.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::notification::{Notification, NotificationId};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::views::notifications::sentence;

use super::{ApiUser, object, query_id};

#[derive(Serialize)]
pub struct NotificationJson {
    id: i64,
    kind: &'static str,
    /// The sentence, in the caller's language.
    text: String,
    url: String,
    data: Value,
    read: bool,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct NotificationList {
    items: Vec<NotificationJson>,
    /// How many are unread (at most 100).
    unread: i64,
    next_before: Option<i64>,
}

/// `?unread=true&before=ID&limit=N`.
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<NotificationList>, AppError> {
    let unread_only = match params.get("unread").map(|u| u.trim()) {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => return Err(DomainError::new("unread", "invalid_value").into()),
    };
    let before = query_id(&params, "before")?.map(NotificationId);
    let limit = match params.get("limit").map(|l| l.trim()).filter(|l| !l.is_empty()) {
        None => 30,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or(DomainError::new("limit", "invalid_number"))?,
    };
    // Counted first: the list then holds at least what the count says.
    let unread = state.notifications.unread(&user.0).await?;
    let found = state.notifications.list(&user.0, unread_only, before, limit).await?;
    let tr = crate::i18n::Tr::new(user.0.locale.unwrap_or_default());
    let next_before = (found.len() as i64 == limit).then(|| found.last().map(|n| n.id.0)).flatten();
    let items = found.into_iter().map(|n: Notification| NotificationJson {
        id: n.id.0,
        kind: n.kind.as_str(),
        text: sentence(&tr, &n),
        read: n.read_at.is_some(),
        created_at: n.created_at,
        url: n.url,
        data: n.data,
    });
    Ok(Json(NotificationList { items: items.collect(), unread, next_before }))
}

#[derive(Serialize)]
pub struct MarkedJson {
    marked: u64,
}

/// `{ids: [...]}` (numbers or numeric text) marks those read; `{}` marks them all.
pub async fn read(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Json<MarkedJson>, AppError> {
    let id = |v: &Value| {
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        n.filter(|i| *i > 0).map(NotificationId).ok_or(DomainError::new("ids", "invalid_id"))
    };
    let ids = match object(&body)?.get("ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.iter().map(id).collect::<Result<Vec<_>, _>>()?),
        Some(_) => return Err(DomainError::new("ids", "invalid_value").into()),
    };
    let marked = state.notifications.mark_read(&user.0, ids.as_deref()).await?;
    Ok(Json(MarkedJson { marked }))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/notifications", get(list)).route("/api/v1/notifications/read", post(read))
}
