//! /api/v1/tags: read by everyone who reads clients; created, changed and deleted with
//! TagManage. Records take their tags as `tag_ids` in their own create and update bodies.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::tag::{Tag, TagId, TagInput};
use crate::web::AppState;
use crate::web::error::AppError;

use super::ApiUser;

#[derive(Serialize)]
pub struct TagJson {
    id: i64,
    name: String,
    /// `#rrggbb`.
    color: String,
    /// Put on and taken off records by admins alone.
    locked: bool,
}

impl From<Tag> for TagJson {
    fn from(t: Tag) -> Self {
        Self { id: t.id.0, name: t.name, color: t.color.as_str().to_owned(), locked: t.locked }
    }
}

/// The tags of a record, as its JSON carries them.
pub fn tags_json(tags: Vec<Tag>) -> Vec<TagJson> {
    tags.into_iter().map(TagJson::from).collect()
}

#[derive(Serialize)]
pub struct TagList {
    items: Vec<TagJson>,
}

/// A tag's fields from a JSON object: `name` and `color` as text, `locked` as true or false;
/// anything else is named as invalid. Unknown keys are ignored.
fn tag_input(body: &Value) -> Result<TagInput, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut errors = Vec::new();
    let mut text = |field: &'static str| match map.get(field) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => Some(String::new()),
        Some(_) => {
            errors.push(DomainError::new(field, "invalid_value"));
            None
        }
    };
    let name = text("name");
    let color = text("color");
    let locked = match map.get("locked") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(DomainError::new("locked", "invalid_value"));
            None
        }
    };
    if errors.is_empty() { Ok(TagInput { name, color, locked }) } else { Err(AppError::Invalid(errors)) }
}

/// A record's `tag_ids` from its JSON body: absent leaves its tags as they are; a list of ids
/// (numbers or numeric text) sets them; `null` or `[]` takes them all off.
pub fn tag_ids(body: &Value) -> Result<Option<Vec<String>>, DomainError> {
    match body.get("tag_ids") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Number(n) => Ok(n.to_string()),
                Value::String(s) => Ok(s.clone()),
                _ => Err(DomainError::new("tag_ids", "invalid_id")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(DomainError::new("tag_ids", "invalid_value")),
    }
}

pub async fn list(State(state): State<AppState>, user: ApiUser) -> Result<Json<TagList>, AppError> {
    Ok(Json(TagList { items: tags_json(state.tags.list(&user.0).await?) }))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TagJson>, AppError> {
    Ok(Json(state.tags.get(&user.0, TagId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let tag = state.tags.create(&user.0, &tag_input(&body)?).await?;
    Ok((StatusCode::CREATED, Json(TagJson::from(tag))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<TagJson>, AppError> {
    Ok(Json(state.tags.update(&user.0, TagId(id), &tag_input(&body)?).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.tags.delete(&user.0, TagId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tags", get(list).post(create))
        .route("/api/v1/tags/{id}", get(show).patch(update).delete(delete))
}
