//! /api/v1/pipelines and their stages: read with DealRead, kept by admins (SettingsManage).
//! Stages are listed in their order; `PUT .../stage-order` sets it.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::pipeline::{Pipeline, PipelineId, PipelineInput, Stage, StageId, StageInput};
use crate::web::AppState;
use crate::web::error::AppError;

use super::{ApiUser, Paged};

#[derive(Serialize)]
pub struct StageJson {
    id: i64,
    name: String,
    kind: &'static str,
    probability: u8,
    color: String,
}

impl From<Stage> for StageJson {
    fn from(s: Stage) -> Self {
        Self {
            id: s.id.0,
            kind: s.kind.as_str(),
            probability: s.probability,
            color: s.color.as_str().to_owned(),
            name: s.name,
        }
    }
}

#[derive(Serialize)]
pub struct PipelineJson {
    id: i64,
    name: String,
    stages: Vec<StageJson>,
}

impl From<Pipeline> for PipelineJson {
    fn from(p: Pipeline) -> Self {
        Self { id: p.id.0, name: p.name, stages: p.stages.into_iter().map(StageJson::from).collect() }
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<PipelineJson>>, AppError> {
    let (page, per_page) = super::paging(&params).map_err(AppError::Invalid)?;
    let list = state.pipelines.list(&user.0).await?;
    Ok(Json(Paged::of_all(list.into_iter().map(PipelineJson::from).collect(), page, per_page)))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<PipelineJson>, AppError> {
    Ok(Json(state.pipelines.get(&user.0, PipelineId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(input): Json<PipelineInput>,
) -> Result<Response, AppError> {
    let p = state.pipelines.create(&user.0, &input).await?;
    Ok((StatusCode::CREATED, Json(PipelineJson::from(p))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(input): Json<PipelineInput>,
) -> Result<Json<PipelineJson>, AppError> {
    Ok(Json(state.pipelines.rename(&user.0, PipelineId(id), &input).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.pipelines.delete(&user.0, PipelineId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add_stage(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(input): Json<StageInput>,
) -> Result<Response, AppError> {
    let s = state.pipelines.add_stage(&user.0, PipelineId(id), &input).await?;
    Ok((StatusCode::CREATED, Json(StageJson::from(s))).into_response())
}

pub async fn update_stage(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, stage)): Path<(i64, i64)>,
    Json(input): Json<StageInput>,
) -> Result<Json<StageJson>, AppError> {
    Ok(Json(state.pipelines.update_stage(&user.0, PipelineId(id), StageId(stage), &input).await?.into()))
}

#[derive(Deserialize)]
pub struct DeleteStageQuery {
    move_to: Option<String>,
}

pub async fn delete_stage(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, stage)): Path<(i64, i64)>,
    Query(q): Query<DeleteStageQuery>,
) -> Result<StatusCode, AppError> {
    let move_to = match q.move_to.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(raw) => Some(StageId(
            raw.parse().map_err(|_| AppError::Invalid(vec![DomainError::new("move_to", "invalid_stage")]))?,
        )),
    };
    state.pipelines.delete_stage(&user.0, PipelineId(id), StageId(stage), move_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct StageOrder {
    stage_ids: Vec<i64>,
}

pub async fn order_stages(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(order): Json<StageOrder>,
) -> Result<Json<PipelineJson>, AppError> {
    let ids: Vec<StageId> = order.stage_ids.into_iter().map(StageId).collect();
    Ok(Json(state.pipelines.order_stages(&user.0, PipelineId(id), &ids).await?.into()))
}

/// Pipelines and stages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pipelines", get(list).post(create))
        .route("/api/v1/pipelines/{id}", get(show).patch(update).delete(delete))
        .route("/api/v1/pipelines/{id}/stages", post(add_stage))
        .route("/api/v1/pipelines/{id}/stages/{stage_id}", patch(update_stage).delete(delete_stage))
        .route("/api/v1/pipelines/{id}/stage-order", put(order_stages))
}
