//! /api/v1/custom-fields: the definitions, read by everyone who reads clients and written
//! with FieldManage. Records take their values as `custom` in their own create and update
//! bodies (`custom_values`), and show them as `custom`.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::custom_field::{CustomField, CustomValues, FieldEntity, FieldId, FieldInput};
use crate::web::AppState;
use crate::web::error::AppError;

use super::ApiUser;

#[derive(Serialize)]
pub struct FieldJson {
    id: i64,
    entity: &'static str,
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: &'static str,
    options: Vec<String>,
    required: bool,
    position: i32,
    /// When it was removed; it may be brought back for 30 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_at: Option<DateTime<Utc>>,
}

impl From<CustomField> for FieldJson {
    fn from(f: CustomField) -> Self {
        Self {
            id: f.id.0,
            entity: f.entity.as_str(),
            key: f.key,
            label: f.label,
            kind: f.kind.as_str(),
            options: f.options,
            required: f.required,
            position: f.position,
            removed_at: f.removed_at,
        }
    }
}

#[derive(Serialize)]
pub struct FieldList {
    items: Vec<FieldJson>,
}

/// A record body's `custom`: an object of values by key (absent or `null`: none sent).
pub fn custom_values(body: &Value) -> Result<Option<CustomValues>, DomainError> {
    match body.get("custom") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(DomainError::new("custom", "must_be_object")),
    }
}

/// A field's definition from a JSON object, each wrong type named. Unknown keys are ignored.
fn field_input(body: &Value) -> Result<FieldInput, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut errors = Vec::new();
    let mut text = |field: &'static str| match map.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(DomainError::new(field, "must_be_string"));
            None
        }
    };
    let mut input = FieldInput {
        entity: text("entity"),
        key: text("key"),
        label: text("label"),
        kind: text("type"),
        ..FieldInput::default()
    };
    match map.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => match items.iter().map(|v| v.as_str().map(str::to_owned)).collect() {
            Some(options) => input.options = Some(options),
            None => errors.push(DomainError::new("options", "must_be_string")),
        },
        Some(_) => errors.push(DomainError::new("options", "must_be_list")),
    }
    match map.get("required") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => input.required = Some(*b),
        Some(_) => errors.push(DomainError::new("required", "must_be_boolean")),
    }
    if errors.is_empty() { Ok(input) } else { Err(AppError::Invalid(errors)) }
}

/// GET ?entity=client|company|deal (all when absent); `removed=true` adds the removed fields
/// (FieldManage).
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<FieldList>, AppError> {
    let entities = match params.get("entity").map(|e| e.trim()).filter(|e| !e.is_empty()) {
        Some(e) => vec![e.parse::<FieldEntity>().map_err(|e| AppError::Invalid(vec![e]))?],
        None => FieldEntity::ALL.to_vec(),
    };
    let removed = matches!(params.get("removed").map(String::as_str), Some("true" | "1"));
    let mut items = Vec::new();
    for entity in entities {
        let fields = match removed {
            true => state.custom_fields.manage(&user.0, entity).await?,
            false => state.custom_fields.list(&user.0, entity).await?,
        };
        items.extend(fields.into_iter().map(FieldJson::from));
    }
    Ok(Json(FieldList { items }))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<FieldJson>, AppError> {
    Ok(Json(state.custom_fields.get(&user.0, FieldId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let field = state.custom_fields.create(&user.0, &field_input(&body)?).await?;
    Ok((StatusCode::CREATED, Json(FieldJson::from(field))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<FieldJson>, AppError> {
    Ok(Json(state.custom_fields.update(&user.0, FieldId(id), &field_input(&body)?).await?.into()))
}

pub async fn remove(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.custom_fields.remove(&user.0, FieldId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<FieldJson>, AppError> {
    Ok(Json(state.custom_fields.restore(&user.0, FieldId(id)).await?.into()))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/custom-fields", get(list).post(create))
        .route("/api/v1/custom-fields/{id}", get(show).patch(update).delete(remove))
        .route("/api/v1/custom-fields/{id}/restore", post(restore))
}
