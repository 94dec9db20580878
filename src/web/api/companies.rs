//! /api/v1/companies: read with ClientRead; created, changed and deleted with the client
//! permissions. Under `record_visibility: own` an agent reaches only the companies they own.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::company::{Company, CompanyId, CompanyInput};
use crate::web::AppState;
use crate::web::error::AppError;

use super::custom_fields::custom_values;
use super::tags::{TagJson, tag_ids, tags_json};
use super::{ApiUser, Paged};
use crate::domain::custom_field::CustomValues;

#[derive(Serialize)]
pub struct CompanyJson {
    id: i64,
    name: String,
    website: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    tax_id: Option<String>,
    comments: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    /// How many live clients work there.
    people_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    tags: Vec<TagJson>,
    /// Values of the live custom fields, by key.
    custom: CustomValues,
}

impl From<Company> for CompanyJson {
    fn from(c: Company) -> Self {
        let text = CompanyInput::from(&c.fields);
        Self {
            id: c.id.0,
            name: c.fields.name,
            website: text.website,
            phone: text.phone,
            email: text.email,
            address: c.fields.address,
            tax_id: c.fields.tax_id,
            comments: c.fields.comments,
            owner_id: c.owner.as_ref().map(|o| o.id.0),
            owner_name: c.owner.map(|o| o.name),
            people_count: c.people,
            tags: tags_json(c.tags),
            custom: c.custom,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A company's fields from a JSON object: text (or a number, for `owner_id`) as it is, `null`
/// as empty (which clears); anything else is named as invalid. Unknown keys are ignored.
fn company_input(body: &Value) -> Result<CompanyInput, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut input = CompanyInput::default();
    let mut errors = Vec::new();
    for field in CompanyInput::FIELDS {
        let Some(value) = map.get(field) else { continue };
        let slot = input.field_mut(field).expect("a field of CompanyInput");
        match value {
            Value::String(s) => *slot = Some(s.clone()),
            Value::Number(n) if field == "owner_id" => *slot = Some(n.to_string()),
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
) -> Result<Json<Paged<CompanyJson>>, AppError> {
    let mut errors = Vec::new();
    let paging = super::paging(&params).map_err(|e| errors.extend(e)).ok();
    let filter = match crate::web::list_query::company_filter(&state, &user.0, &params).await {
        Ok(filter) => Some(filter),
        Err(AppError::Invalid(more)) => {
            errors.extend(more);
            None
        }
        Err(e) => return Err(e),
    };
    let (Some((page, per_page)), Some(filter), true) = (paging, filter, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let found = state.companies.list(&user.0, &filter, per_page, (page - 1) * per_page).await?;
    Ok(Json(Paged {
        items: found.companies.into_iter().map(CompanyJson::from).collect(),
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
) -> Result<Json<CompanyJson>, AppError> {
    Ok(Json(state.companies.get(&user.0, CompanyId(id)).await?.into()))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let mut input = company_input(&body)?;
    // A new company is checked for its required fields even when it sends none.
    input.custom.get_or_insert_with(Default::default);
    let company = state.companies.create(&user.0, &input).await?;
    Ok((StatusCode::CREATED, Json(CompanyJson::from(company))).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Json<CompanyJson>, AppError> {
    Ok(Json(state.companies.update(&user.0, CompanyId(id), &company_input(&body)?).await?.into()))
}

pub async fn delete(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    state.companies.delete(&user.0, CompanyId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/companies", get(list).post(create))
        .route("/api/v1/companies/{id}", get(show).patch(update).delete(delete))
}
