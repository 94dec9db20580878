//! /api/v1/channels: a tenant's Twilio and Telegram channels, for ChannelManage. Secrets are
//! write-only: sent to create or replace, never returned (only their last characters).

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::channel::Channel;
use crate::domain::channel::{ChannelId, ChannelInput};
use crate::services::channels::Saved;
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, Paged};

#[derive(Serialize)]
pub struct ChannelJson {
    id: ChannelId,
    kind: &'static str,
    name: String,
    enabled: bool,
    account_sid: Option<String>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    bot_username: Option<String>,
    notify_chat_id: Option<String>,
    notify_locale: &'static str,
    /// The secret's last characters.
    secret_hint: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// What Telegram said when the webhook was registered (on create and replace only).
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook: Option<WebhookJson>,
}

#[derive(Serialize)]
struct WebhookJson {
    ok: bool,
    /// Why it failed: no_answer, unreadable, bad_credentials, refused or setup.
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'static str>,
    message: String,
}

impl From<Channel> for ChannelJson {
    fn from(c: Channel) -> Self {
        Self {
            id: c.id,
            kind: c.kind.as_str(),
            name: c.name,
            enabled: c.enabled,
            account_sid: c.account_sid,
            from: c.sender,
            messaging_service_sid: c.messaging_service_sid,
            bot_username: c.bot_username,
            notify_chat_id: c.notify_chat_id,
            notify_locale: c.notify_locale.as_str(),
            secret_hint: c.secret_hint,
            created_at: c.created_at,
            updated_at: c.updated_at,
            webhook: None,
        }
    }
}

impl From<Saved> for ChannelJson {
    fn from(saved: Saved) -> Self {
        let mut json = ChannelJson::from(saved.channel);
        json.webhook = saved.webhook.map(|answer| match answer {
            Ok(message) => WebhookJson { ok: true, cause: None, message },
            Err(trouble) => WebhookJson { ok: false, cause: Some(trouble.cause.code()), message: trouble.detail },
        });
        json
    }
}

/// A new channel: `ChannelInput`, plus whether it starts enabled.
#[derive(Deserialize)]
pub struct NewChannelJson {
    #[serde(flatten)]
    input: ChannelInput,
    enabled: Option<bool>,
}

/// A change: only the fields given change; secrets left out are kept.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PatchChannelJson {
    kind: Option<String>,
    name: Option<String>,
    account_sid: Option<String>,
    auth_token: Option<String>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    bot_token: Option<String>,
    notify_chat_id: Option<String>,
    notify_locale: Option<String>,
    enabled: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<ChannelJson>>, AppError> {
    let (page, per_page) = super::paging(&params).map_err(AppError::Invalid)?;
    let all = state.channels.list(&user.0).await?.into_iter().map(ChannelJson::from).collect();
    Ok(Json(Paged::of_all(all, page, per_page)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ChannelJson>, AppError> {
    Ok(Json(state.channels.get(&user.0, ChannelId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(new): Json<NewChannelJson>,
) -> Result<Response, AppError> {
    let mut saved = state.channels.create(&user.0, &new.input).await?;
    if new.enabled == Some(false) {
        saved.channel = state.channels.set_enabled(&user.0, saved.channel.id, false).await?;
    }
    Ok((StatusCode::CREATED, Json(ChannelJson::from(saved))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(patch): Json<PatchChannelJson>,
) -> Result<Json<ChannelJson>, AppError> {
    let id = ChannelId(id);
    let current = state.channels.get(&user.0, id).await?;
    let keep = |given: Option<String>, now: Option<String>| given.or(now).unwrap_or_default();
    let input = ChannelInput {
        kind: patch.kind.unwrap_or_else(|| current.kind.as_str().to_owned()),
        name: patch.name.unwrap_or(current.name),
        account_sid: keep(patch.account_sid, current.account_sid),
        auth_token: patch.auth_token.unwrap_or_default(),
        // A new sender of one kind replaces the other.
        from: match (&patch.from, &patch.messaging_service_sid) {
            (None, Some(_)) => String::new(),
            _ => keep(patch.from.clone(), current.sender),
        },
        messaging_service_sid: match (&patch.messaging_service_sid, &patch.from) {
            (None, Some(_)) => String::new(),
            _ => keep(patch.messaging_service_sid.clone(), current.messaging_service_sid),
        },
        bot_token: patch.bot_token.unwrap_or_default(),
        notify_chat_id: keep(patch.notify_chat_id, current.notify_chat_id),
        notify_locale: patch.notify_locale.unwrap_or_else(|| current.notify_locale.as_str().to_owned()),
    };
    let mut saved = state.channels.update(&user.0, id, &input).await?;
    if let Some(enabled) = patch.enabled
        && enabled != saved.channel.enabled
    {
        saved.channel = state.channels.set_enabled(&user.0, id, enabled).await?;
    }
    Ok(Json(saved.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.channels.delete(&user.0, ChannelId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Channels (ChannelManage).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/channels", get(list).post(create))
        .route("/api/v1/channels/{id}", get(show).patch(update).delete(delete))
}
