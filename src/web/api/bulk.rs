//! /api/v1/bulk and /api/v1/jobs: start a bulk action on chosen records or on every match of
//! a list's filter (202 with the job), and follow it.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::bulk::{BulkAction, BulkEntity, Failure, Job, JobId};
use crate::services::bulk::Targets;
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, object};

#[derive(Serialize)]
pub struct JobJson {
    job_id: i64,
    entity: &'static str,
    action: &'static str,
    status: &'static str,
    total: i64,
    done: i64,
    failed: i64,
    /// Up to 1,000 of the records that failed, with why.
    failures: Vec<Failure>,
    /// An export's file, once written.
    result_url: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobJson {
    fn from(j: Job) -> Self {
        Self {
            job_id: j.id.0,
            entity: j.entity.as_str(),
            action: j.action.name(),
            status: j.status.as_str(),
            total: j.total,
            done: j.done,
            failed: j.failed,
            failures: j.failures,
            result_url: j.has_result.then(|| format!("/api/v1/jobs/{}/result", j.id.0)),
            error: j.last_error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// A filter object as a list's query string reads it: each value as text.
fn as_params(filter: &serde_json::Map<String, Value>) -> Result<HashMap<String, String>, DomainError> {
    filter
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(DomainError::new("filter", "invalid_value")),
        })
        .collect()
}

/// `{entity, ids? | filter?, action, params}` → 202 `{job_id, status, …}`.
pub async fn start(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let map = object(&body)?;
    let entity = BulkEntity::parse(map.get("entity").and_then(Value::as_str).unwrap_or_default())?;
    let params = map.get("params").cloned().unwrap_or(Value::Object(Default::default()));
    if !params.is_object() {
        return Err(DomainError::new("params", "must_be_object").into());
    }
    let action = BulkAction::parse(entity, map.get("action").and_then(Value::as_str).unwrap_or_default(), &params)?;
    let targets = match (map.get("ids"), map.get("filter")) {
        (Some(Value::Array(items)), None) => Targets::Ids(
            items
                .iter()
                .map(|v| v.as_i64().filter(|i| *i > 0).ok_or(DomainError::new("ids", "invalid_id")))
                .collect::<Result<_, _>>()?,
        ),
        (None, Some(Value::Object(filter))) => {
            crate::web::list_query::matching(&state, &user.0, entity, &as_params(filter)?).await?
        }
        (None, None) => return Err(DomainError::new("ids", "required").into()),
        _ => return Err(DomainError::new("ids", "ids_or_filter").into()),
    };
    let job = state.bulk.start(&user.0, entity, targets, action).await?;
    Ok((StatusCode::ACCEPTED, Json(JobJson::from(job))).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<JobJson>, AppError> {
    Ok(Json(state.bulk.get(&user.0, JobId(id)).await?.into()))
}

/// An export job's CSV.
pub async fn result(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (name, bytes) = state.bulk.result(&user.0, JobId(id)).await?;
    Ok(crate::web::download::csv(&name, bytes))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bulk", post(start))
        .route("/api/v1/jobs/{id}", get(show))
        .route("/api/v1/jobs/{id}/result", get(result))
}
