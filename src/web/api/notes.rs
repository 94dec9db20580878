//! Notes, their comments and the timeline of clients, companies and deals:
//! `/api/v1/{clients|companies|deals}/{id}/notes` and `/activity`, `/api/v1/notes/{id}` and
//! its `/comments`. Read by whoever reads the record, written by whoever may write it.

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

use crate::domain::activity::{Activity, ActivityActor, ActivityId, ActivityKind};
use crate::domain::company::CompanyId;
use crate::domain::deal::DealId;
use crate::domain::note::{CommentId, Note, NoteId};
use crate::domain::record::RecordRef;
use crate::domain::{ClientId, DomainError};
use crate::services::{notes, timeline};
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, object, query_id, text_field};

#[derive(Serialize)]
pub struct AuthorJson {
    id: i64,
    name: String,
}

#[derive(Serialize)]
pub struct CommentJson {
    id: i64,
    parent_id: Option<i64>,
    author: Option<AuthorJson>,
    body: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct NoteJson {
    id: i64,
    entity: &'static str,
    entity_id: i64,
    author: Option<AuthorJson>,
    body: String,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    /// Oldest first; `parent_id` names the comment a reply answers.
    comments: Vec<CommentJson>,
}

impl From<Note> for NoteJson {
    fn from(n: Note) -> Self {
        let author =
            |a: Option<crate::domain::Named<crate::domain::UserId>>| a.map(|a| AuthorJson { id: a.id.0, name: a.name });
        Self {
            id: n.id.0,
            entity: n.on.entity(),
            entity_id: n.on.id(),
            author: author(n.author),
            body: n.body,
            created_at: n.created_at,
            edited_at: n.edited_at,
            comments: n
                .comments
                .into_iter()
                .map(|c| CommentJson {
                    id: c.id.0,
                    parent_id: c.parent_id.map(|p| p.0),
                    author: author(c.author),
                    body: c.body,
                    created_at: c.created_at,
                })
                .collect(),
        }
    }
}

/// A page read newest first: `next_before` fetches the page after it (`?before=`), absent at the end.
#[derive(Serialize)]
pub struct Older<T> {
    items: Vec<T>,
    next_before: Option<i64>,
}

/// `?before=ID&limit=N` (1 to 100, default `default`).
fn cursor(params: &HashMap<String, String>, default: i64) -> Result<(Option<i64>, i64), AppError> {
    let before = query_id(params, "before")?;
    let limit = match params.get("limit").map(|l| l.trim()).filter(|l| !l.is_empty()) {
        None => default,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or(DomainError::new("limit", "invalid_number"))?,
    };
    Ok((before, limit))
}

fn older<T, I>(items: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Older<I>
where
    I: From<T>,
{
    let next_before = (items.len() as i64 == limit).then(|| items.last().map(&id)).flatten();
    Older { items: items.into_iter().map(I::from).collect(), next_before }
}

fn body_text(body: &Value) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let text = text_field(object(body)?, "body", &mut errors).unwrap_or_default();
    if errors.is_empty() { Ok(text) } else { Err(AppError::Invalid(errors)) }
}

async fn notes_of(
    state: AppState,
    user: ApiUser,
    on: RecordRef,
    params: HashMap<String, String>,
) -> Result<Json<Older<NoteJson>>, AppError> {
    let (before, limit) = cursor(&params, notes::PAGE)?;
    let found = state.notes.list(&user.0, on, before.map(NoteId), limit).await?;
    Ok(Json(older(found, limit, |n: &Note| n.id.0)))
}

async fn add_note(state: AppState, user: ApiUser, on: RecordRef, body: Value) -> Result<Response, AppError> {
    let note = state.notes.add(&user.0, on, &body_text(&body)?).await?;
    Ok((StatusCode::CREATED, Json(NoteJson::from(note))).into_response())
}

#[derive(Serialize)]
pub struct ActorJson {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<i64>,
    name: String,
}

#[derive(Serialize)]
pub struct ActivityJson {
    id: i64,
    kind: &'static str,
    actor: ActorJson,
    summary: String,
    data: Value,
    happened_at: DateTime<Utc>,
}

impl From<Activity> for ActivityJson {
    fn from(a: Activity) -> Self {
        let actor = ActorJson {
            kind: a.actor.kind(),
            id: a.actor.user_id().map(|u| u.0),
            name: match &a.actor {
                ActivityActor::System => String::new(),
                other => other.name().to_owned(),
            },
        };
        Self { id: a.id.0, kind: a.kind.as_str(), actor, summary: a.summary, data: a.data, happened_at: a.happened_at }
    }
}

/// `?before=ID&limit=N&kind=KIND`.
async fn activity_of(
    state: AppState,
    user: ApiUser,
    on: RecordRef,
    params: HashMap<String, String>,
) -> Result<Json<Older<ActivityJson>>, AppError> {
    let (before, limit) = cursor(&params, timeline::PAGE)?;
    let kind = match params.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(ActivityKind::parse(k)?),
    };
    let found = state.timeline.page(&user.0, on, kind, before.map(ActivityId), limit).await?;
    Ok(Json(older(found, limit, |a: &Activity| a.id.0)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<NoteJson>, AppError> {
    Ok(Json(state.notes.get(&user.0, NoteId(id)).await?.into()))
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<NoteJson>, AppError> {
    Ok(Json(state.notes.edit(&user.0, NoteId(id), &body_text(&body)?).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.notes.delete(&user.0, NoteId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{body, parent_id?}` → the note with its whole thread.
pub async fn comment(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let map = object(&body)?;
    let mut errors = Vec::new();
    let text = text_field(map, "body", &mut errors).unwrap_or_default();
    let parent = text_field(map, "parent_id", &mut errors)
        .and_then(|raw| crate::domain::parse_id("parent_id", &raw).map_err(|e| errors.push(e)).ok().flatten());
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let note = state.notes.comment(&user.0, NoteId(id), parent.map(CommentId), &text).await?;
    Ok((StatusCode::CREATED, Json(NoteJson::from(note))).into_response())
}

/// The notes and activity routes of one kind of record, under `/api/v1/{plural}/{id}`.
macro_rules! record_routes {
    ($router:expr, $plural:literal, $make:expr) => {
        $router
            .route(
                concat!("/api/v1/", $plural, "/{id}/notes"),
                get(
                    |State(s): State<AppState>,
                     u: ApiUser,
                     Path(id): Path<i64>,
                     Query(q): Query<HashMap<String, String>>| { notes_of(s, u, $make(id), q) },
                )
                .post(
                    |State(s): State<AppState>, u: ApiUser, Path(id): Path<i64>, Json(b): Json<Value>| {
                        add_note(s, u, $make(id), b)
                    },
                ),
            )
            .route(
                concat!("/api/v1/", $plural, "/{id}/activity"),
                get(
                    |State(s): State<AppState>,
                     u: ApiUser,
                     Path(id): Path<i64>,
                     Query(q): Query<HashMap<String, String>>| { activity_of(s, u, $make(id), q) },
                ),
            )
    };
}

pub fn routes() -> Router<AppState> {
    let router = Router::new()
        .route("/api/v1/notes/{id}", get(show).patch(update).delete(delete))
        .route("/api/v1/notes/{id}/comments", post(comment));
    let router = record_routes!(router, "clients", |id| RecordRef::Client(ClientId(id)));
    let router = record_routes!(router, "companies", |id| RecordRef::Company(CompanyId(id)));
    record_routes!(router, "deals", |id| RecordRef::Deal(DealId(id)))
}
