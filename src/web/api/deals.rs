//! /api/v1/deals, their moves and history, and a pipeline's board: read with DealRead,
//! written with DealWrite. Money travels as decimal strings ("12500.00"), never floats.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::deal::{Column, Cursor, Deal, DealFilter, DealId, DealInput, DealMove, DealSort};
use crate::domain::pipeline::{PipelineId, StageId};
use crate::services::deals::MoveTo;
use crate::web::AppState;
use crate::web::error::AppError;

use super::custom_fields::custom_values;
use super::tags::{TagJson, tag_ids, tags_json};
use super::{ApiUser, Paged};
use crate::domain::custom_field::CustomValues;

#[derive(Serialize)]
pub struct DealJson {
    id: i64,
    title: String,
    pipeline_id: i64,
    stage_id: i64,
    status: &'static str,
    value: Option<String>,
    currency: Option<String>,
    value_base: Option<String>,
    client_id: Option<i64>,
    client_name: Option<String>,
    company_id: Option<i64>,
    company_name: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    expected_close_on: Option<NaiveDate>,
    lost_reason: Option<String>,
    stage_entered_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    tags: Vec<TagJson>,
    /// Values of the live custom fields, by key.
    custom: CustomValues,
}

impl From<Deal> for DealJson {
    fn from(d: Deal) -> Self {
        Self {
            id: d.id.0,
            pipeline_id: d.pipeline_id.0,
            stage_id: d.stage_id.0,
            status: d.status.as_str(),
            value: d.value.map(|(a, _)| a.as_string()),
            currency: d.value.map(|(_, c)| c.as_str().to_owned()),
            value_base: d.value_base.map(|a| a.as_string()),
            client_id: d.client.as_ref().map(|c| c.id.0),
            client_name: d.client.map(|c| c.name),
            company_id: d.company.as_ref().map(|c| c.id.0),
            company_name: d.company.map(|c| c.name),
            owner_id: d.owner.as_ref().map(|o| o.id.0),
            owner_name: d.owner.map(|o| o.name),
            expected_close_on: d.expected_close_on,
            lost_reason: d.lost_reason,
            stage_entered_at: d.stage_entered_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
            tags: tags_json(d.tags),
            custom: d.custom,
            title: d.title,
        }
    }
}

/// A deal's fields from a JSON object: text or numbers as they are, `null` as empty (which
/// clears); anything else is named as invalid. Unknown keys are ignored.
fn deal_input(body: &Value) -> Result<DealInput, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut input = DealInput::default();
    let mut errors = Vec::new();
    for field in DealInput::FIELDS {
        let Some(value) = map.get(field) else { continue };
        let slot = input.field_mut(field).expect("a field of DealInput");
        match value {
            Value::String(s) => *slot = Some(s.clone()),
            Value::Number(n) => *slot = Some(n.to_string()),
            Value::Null => *slot = Some(String::new()),
            _ => errors.push(DomainError::new(field, "invalid_value")),
        }
    }
    input.tag_ids = tag_ids(body).map_err(|e| errors.push(e)).ok().flatten();
    input.custom = custom_values(body).map_err(|e| errors.push(e)).ok().flatten();
    if errors.is_empty() { Ok(input) } else { Err(AppError::Invalid(errors)) }
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<DealJson>>, AppError> {
    let mut errors = Vec::new();
    let paging = super::paging(&params).map_err(|e| errors.extend(e)).ok();
    let filter = DealFilter::parse(&params).map_err(|e| errors.extend(e)).ok();
    let sort = DealSort::parse(params.get("sort").map(String::as_str)).map_err(|e| errors.push(e)).ok();
    let pipeline = match params.get("pipeline_id").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(p) => Some(PipelineId(p)),
            Err(_) => {
                errors.push(DomainError::new("pipeline_id", "invalid_id"));
                None
            }
        },
    };
    let (Some((page, per_page)), Some(filter), Some(sort), true) = (paging, filter, sort, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let found = state.deals.list(&user.0, pipeline, &filter, sort, per_page, (page - 1) * per_page).await?;
    Ok(Json(Paged {
        items: found.deals.into_iter().map(DealJson::from).collect(),
        total: found.total,
        total_exact: found.exact,
        page,
        per_page,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<DealJson>, AppError> {
    Ok(Json(state.deals.get(&user.0, DealId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let mut input = deal_input(&body)?;
    // A new deal is checked for its required fields even when it sends none.
    input.custom.get_or_insert_with(Default::default);
    let deal = state.deals.create(&user.0, &input).await?;
    Ok((StatusCode::CREATED, Json(DealJson::from(deal))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<DealJson>, AppError> {
    Ok(Json(state.deals.update(&user.0, DealId(id), &deal_input(&body)?).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.deals.delete(&user.0, DealId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{stage_id, before_deal_id?, lost_reason?}`.
pub async fn move_deal(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<DealJson>, AppError> {
    let id_of = |field: &'static str| -> Result<Option<i64>, DomainError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(DomainError::new(field, "invalid_id")),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| DomainError::new(field, "invalid_id")),
            Some(_) => Err(DomainError::new(field, "invalid_id")),
        }
    };
    let (stage, before) = (id_of("stage_id"), id_of("before_deal_id"));
    let lost_reason = match body.get("lost_reason") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DomainError::new("lost_reason", "invalid_value")),
    };
    let to = match (stage, before, lost_reason) {
        (Ok(Some(stage)), Ok(before), Ok(lost_reason)) => {
            MoveTo { stage_id: StageId(stage), before: before.map(DealId), lost_reason }
        }
        (stage, before, lost) => {
            let mut errors: Vec<DomainError> = [stage.err(), before.err(), lost.err()].into_iter().flatten().collect();
            if errors.is_empty() {
                errors.push(DomainError::new("stage_id", "required"));
            }
            return Err(AppError::Invalid(errors));
        }
    };
    Ok(Json(state.deals.move_to(&user.0, DealId(id), &to).await?.into()))
}

#[derive(Serialize)]
pub struct MoveJson {
    from_stage_id: Option<i64>,
    from_stage_name: Option<String>,
    to_stage_id: Option<i64>,
    to_stage_name: String,
    user_id: Option<i64>,
    moved_at: DateTime<Utc>,
    seconds_in_previous: Option<i64>,
}

impl From<DealMove> for MoveJson {
    fn from(m: DealMove) -> Self {
        Self {
            from_stage_id: m.from.as_ref().and_then(|f| f.0.map(|s| s.0)),
            from_stage_name: m.from.map(|f| f.1),
            to_stage_id: m.to.0.map(|s| s.0),
            to_stage_name: m.to.1,
            user_id: m.by.map(|b| b.id.0),
            moved_at: m.moved_at,
            seconds_in_previous: m.seconds_in_previous,
        }
    }
}

#[derive(Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

pub async fn history(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Items<MoveJson>>, AppError> {
    let moves = state.deals.history(&user.0, DealId(id)).await?;
    Ok(Json(Items { items: moves.into_iter().map(MoveJson::from).collect() }))
}

#[derive(Serialize)]
pub struct ColumnJson {
    id: i64,
    name: String,
    kind: &'static str,
    deal_count: i64,
    value_base_total: String,
    deals: Vec<DealJson>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
pub struct BoardJson {
    pipeline_id: i64,
    stages: Vec<ColumnJson>,
}

pub async fn board(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<BoardJson>, AppError> {
    let filter = DealFilter::parse(&params).map_err(AppError::Invalid)?;
    let board = state.deals.board(&user.0, PipelineId(id), &filter).await?;
    let stages = board
        .pipeline
        .stages
        .iter()
        .zip(board.columns)
        .map(|(stage, c): (_, Column)| ColumnJson {
            id: stage.id.0,
            name: stage.name.clone(),
            kind: stage.kind.as_str(),
            deal_count: c.deal_count,
            value_base_total: c.value_base_total.as_string(),
            deals: c.deals.into_iter().map(DealJson::from).collect(),
            next_cursor: c.next_cursor.map(Cursor::as_string),
        })
        .collect();
    Ok(Json(BoardJson { pipeline_id: board.pipeline.id.0, stages }))
}

#[derive(Serialize)]
pub struct ColumnPageJson {
    items: Vec<DealJson>,
    next_cursor: Option<String>,
}

pub async fn column(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, stage)): Path<(i64, i64)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ColumnPageJson>, AppError> {
    let mut errors = Vec::new();
    let filter = DealFilter::parse(&params).map_err(|e| errors.extend(e)).ok();
    let cursor = match params.get("cursor").map(|c| c.trim()).filter(|c| !c.is_empty()) {
        None => Some(Cursor { position: f64::MIN, id: DealId(0) }),
        Some(raw) => Cursor::parse(raw).map_err(|e| errors.push(e)).ok(),
    };
    let (Some(filter), Some(cursor)) = (filter, cursor) else {
        return Err(AppError::Invalid(errors));
    };
    let (deals, next) = state.deals.column(&user.0, PipelineId(id), StageId(stage), cursor, &filter).await?;
    Ok(Json(ColumnPageJson {
        items: deals.into_iter().map(DealJson::from).collect(),
        next_cursor: next.map(Cursor::as_string),
    }))
}

/// Deals, their moves, and boards.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/deals", get(list).post(create))
        .route("/api/v1/deals/{id}", get(show).patch(update).delete(delete))
        .route("/api/v1/deals/{id}/move", post(move_deal))
        .route("/api/v1/deals/{id}/history", get(history))
        .route("/api/v1/pipelines/{id}/board", get(board))
        .route("/api/v1/pipelines/{id}/stages/{stage_id}/deals", get(column))
}
