//! /api/v1/message-templates: read by anyone with TemplateRead, changed with TemplateManage.
//! The body is `template` (the seed's name); `title` and `shortcut` are optional.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::message_template::MessageTemplate;
use crate::domain::message_template::TemplateInput;
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, Paged};

#[derive(Serialize)]
pub struct TemplateJson {
    id: i64,
    title: Option<String>,
    shortcut: Option<String>,
    template: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<MessageTemplate> for TemplateJson {
    fn from(t: MessageTemplate) -> Self {
        Self {
            id: t.id,
            shortcut: t.fields.shortcut.map(|s| s.as_str().to_owned()),
            template: t.fields.body.as_str().to_owned(),
            title: t.fields.title,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<TemplateJson>>, AppError> {
    let (page, per_page) = super::paging(&params).map_err(AppError::Invalid)?;
    let list = state.message_templates.list(&user.0, params.get("q").map(String::as_str)).await?;
    Ok(Json(Paged::of_all(list.into_iter().map(TemplateJson::from).collect(), page, per_page)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TemplateJson>, AppError> {
    Ok(Json(state.message_templates.get(&user.0, id).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(input): Json<TemplateInput>,
) -> Result<Response, AppError> {
    let t = state.message_templates.create(&user.0, &input).await?;
    Ok((StatusCode::CREATED, Json(TemplateJson::from(t))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(input): Json<TemplateInput>,
) -> Result<Json<TemplateJson>, AppError> {
    Ok(Json(state.message_templates.update(&user.0, id, &input).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.message_templates.delete(&user.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Message templates.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/message-templates", get(list).post(create))
        .route("/api/v1/message-templates/{id}", get(show).put(update).delete(delete))
}
