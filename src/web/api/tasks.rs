//! /api/v1/tasks and /api/v1/task-categories: read by everyone who reads clients; tasks
//! written with TaskWrite, categories kept by admins.

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

use crate::domain::record::RecordRef;
use crate::domain::task::{Category, CategoryId, CategoryInput, Task, TaskFilter, TaskId, TaskInput, TaskStatus};
use crate::domain::{DomainError, UserId};
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, Paged, bool_field, object, query_id, text_field};

#[derive(Serialize)]
pub struct CategoryJson {
    id: i64,
    name: String,
    color: String,
    note_required: bool,
}

impl From<Category> for CategoryJson {
    fn from(c: Category) -> Self {
        Self { id: c.id.0, name: c.name, color: c.color.as_str().to_owned(), note_required: c.note_required }
    }
}

#[derive(Serialize)]
pub struct TaskJson {
    id: i64,
    title: String,
    description: String,
    priority: &'static str,
    /// `open` or `done`; `overdue` is an open task past its due time.
    status: &'static str,
    overdue: bool,
    due_at: Option<DateTime<Utc>>,
    remind_at: Option<DateTime<Utc>>,
    reminded_at: Option<DateTime<Utc>>,
    category_id: Option<i64>,
    category: Option<CategoryJson>,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    created_by: Option<i64>,
    client_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    /// The name of the record it is about.
    record_name: Option<String>,
    done_at: Option<DateTime<Utc>>,
    done_by: Option<i64>,
    done_note: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Task> for TaskJson {
    fn from(t: Task) -> Self {
        let (client_id, company_id, deal_id) = t.fields.record.map_or((None, None, None), RecordRef::columns);
        Self {
            id: t.id.0,
            status: if t.is_done() { "done" } else { "open" },
            overdue: t.is_overdue(Utc::now()),
            priority: t.fields.priority.as_str(),
            due_at: t.fields.due_at,
            remind_at: t.fields.remind_at,
            reminded_at: t.reminded_at,
            category_id: t.fields.category_id.map(|c| c.0),
            category: t.category.map(CategoryJson::from),
            assignee_id: t.assignee.as_ref().map(|a| a.id.0),
            assignee_name: t.assignee.map(|a| a.name),
            created_by: t.created_by.map(|c| c.id.0),
            client_id,
            company_id,
            deal_id,
            record_name: t.record.map(|(_, name)| name),
            done_at: t.done_at,
            done_by: t.done_by.map(|d| d.id.0),
            done_note: t.done_note,
            created_at: t.created_at,
            updated_at: t.updated_at,
            title: t.fields.title,
            description: t.fields.description,
        }
    }
}

/// A task's fields from a JSON object (text, numbers, or `null` to clear).
fn task_input(body: &Value) -> Result<TaskInput, AppError> {
    let map = object(body)?;
    let mut input = TaskInput::default();
    let mut errors = Vec::new();
    for field in TaskInput::FIELDS {
        *input.field_mut(field).expect("a field of TaskInput") = text_field(map, field, &mut errors);
    }
    if errors.is_empty() { Ok(input) } else { Err(AppError::Invalid(errors)) }
}

fn category_input(body: &Value) -> Result<CategoryInput, AppError> {
    let map = object(body)?;
    let mut errors = Vec::new();
    let input = CategoryInput {
        name: text_field(map, "name", &mut errors),
        color: text_field(map, "color", &mut errors),
        note_required: bool_field(map, "note_required", &mut errors),
    };
    if errors.is_empty() { Ok(input) } else { Err(AppError::Invalid(errors)) }
}

/// A task list's filters from a query string: `assignee_id` (or `me`), `status`
/// (open, done, overdue, all), `due_before`, and one of `client_id`, `company_id`, `deal_id`.
fn task_filter(user: &ApiUser, params: &HashMap<String, String>) -> Result<TaskFilter, Vec<DomainError>> {
    let mut errors = Vec::new();
    let mut filter = TaskFilter::default();
    match params.get("status").map(String::as_str) {
        None => {}
        Some(raw) => match TaskStatus::parse(raw) {
            Ok(s) => filter.status = s,
            Err(e) => errors.push(e),
        },
    }
    match params.get("assignee_id").map(|a| a.trim()) {
        Some("me") => filter.assignee_id = Some(user.0.user_id),
        _ => match query_id(params, "assignee_id") {
            Ok(a) => filter.assignee_id = a.map(UserId),
            Err(e) => errors.push(e),
        },
    }
    match user.0.time_zone.parse_moment("due_before", params.get("due_before").map_or("", String::as_str)) {
        Ok(t) => filter.due_before = t,
        Err(e) => errors.push(e),
    }
    for name in RecordRef::ID_FIELDS {
        match query_id(params, name) {
            Ok(Some(_)) if filter.record.is_some() => errors.push(DomainError::new(name, "one_record_only")),
            Ok(Some(id)) => filter.record = RecordRef::named(name, id),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(filter) } else { Err(errors) }
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<TaskJson>>, AppError> {
    let mut errors = Vec::new();
    let paging = super::paging(&params).map_err(|e| errors.extend(e)).ok();
    let filter = task_filter(&user, &params).map_err(|e| errors.extend(e)).ok();
    let (Some((page, per_page)), Some(filter)) = (paging, filter) else {
        return Err(AppError::Invalid(errors));
    };
    let found = state.tasks.list(&user.0, &filter, per_page, (page - 1) * per_page).await?;
    Ok(Json(Paged {
        items: found.tasks.into_iter().map(TaskJson::from).collect(),
        total: found.total,
        total_exact: true,
        page,
        per_page,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TaskJson>, AppError> {
    Ok(Json(state.tasks.get(&user.0, TaskId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let task = state.tasks.create(&user.0, &task_input(&body)?).await?;
    Ok((StatusCode::CREATED, Json(TaskJson::from(task))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<TaskJson>, AppError> {
    Ok(Json(state.tasks.update(&user.0, TaskId(id), &task_input(&body)?).await?.into()))
}

/// `{note?}`: 422 `note` when the task's category asks for one and none is given.
pub async fn complete(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<TaskJson>, AppError> {
    let mut errors = Vec::new();
    let note = text_field(object(&body)?, "note", &mut errors).unwrap_or_default();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Json(state.tasks.complete(&user.0, TaskId(id), &note).await?.into()))
}

pub async fn reopen(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<TaskJson>, AppError> {
    Ok(Json(state.tasks.reopen(&user.0, TaskId(id)).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.tasks.delete(&user.0, TaskId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn categories(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<CategoryJson>>, AppError> {
    let (page, per_page) = super::paging(&params).map_err(AppError::Invalid)?;
    let all = state.tasks.categories(&user.0).await?.into_iter().map(CategoryJson::from).collect();
    Ok(Json(Paged::of_all(all, page, per_page)))
}

pub async fn create_category(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let made = state.tasks.create_category(&user.0, &category_input(&body)?).await?;
    Ok((StatusCode::CREATED, Json(CategoryJson::from(made))).into_response())
}

pub async fn update_category(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<CategoryJson>, AppError> {
    Ok(Json(state.tasks.update_category(&user.0, CategoryId(id), &category_input(&body)?).await?.into()))
}

pub async fn delete_category(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    state.tasks.delete_category(&user.0, CategoryId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(list).post(create))
        .route("/api/v1/tasks/{id}", get(show).patch(update).delete(delete))
        .route("/api/v1/tasks/{id}/complete", post(complete))
        .route("/api/v1/tasks/{id}/reopen", post(reopen))
        .route("/api/v1/task-categories", get(categories).post(create_category))
        .route("/api/v1/task-categories/{id}", axum::routing::patch(update_category).delete(delete_category))
}
