//! /api/v1/clients and their contacts.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::custom_field::CustomValues;
use crate::domain::{Client, ClientId, ClientInput, ClientQuery, Contact, ContactId, DomainError};
use crate::web::AppState;
use crate::web::error::AppError;

use super::custom_fields::custom_values;
use super::tags::{TagJson, tag_ids, tags_json};
use super::{ApiUser, Paged};

#[derive(Serialize)]
pub struct ContactJson {
    id: ContactId,
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

impl From<Contact> for ContactJson {
    fn from(c: Contact) -> Self {
        Self { id: c.id, kind: c.kind().as_str(), value: c.value.as_str().to_owned() }
    }
}

/// A client as the API shows it: every field as text by its input name, its contacts and tags.
#[derive(Serialize)]
pub struct ClientJson {
    id: ClientId,
    #[serde(flatten)]
    fields: ClientInput,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    contacts: Vec<ContactJson>,
    tags: Vec<TagJson>,
    /// Values of the live custom fields, by key.
    custom: CustomValues,
}

impl ClientJson {
    fn new(c: Client, contacts: Vec<Contact>) -> Self {
        Self {
            custom: c.custom.clone(),
            id: c.id,
            fields: c.input(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            contacts: contacts.into_iter().map(ContactJson::from).collect(),
            tags: tags_json(c.tags),
        }
    }
}

/// Reads a client body field by field, so each wrong value is named. In a patch, `null`
/// clears a field and an absent key leaves it; in a new client both mean "none".
fn client_input(body: &Value, patch: bool) -> Result<(ClientInput, Vec<(String, String)>), AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut errors = Vec::new();
    let mut input = ClientInput::default();
    for (key, value) in map {
        // Unknown keys are ignored, as clients written against a newer API expect.
        let Some(field) = ClientInput::FIELDS.into_iter().find(|f| *f == key.as_str()) else {
            continue;
        };
        let slot = input.field_mut(field).expect("a field of ClientInput");
        match value {
            Value::String(s) => *slot = Some(s.clone()),
            Value::Number(n) if field == "company_id" => *slot = Some(n.to_string()),
            Value::Null => *slot = patch.then(String::new),
            _ => errors.push(DomainError::new(field, "must_be_string")),
        }
    }
    input.tag_ids = tag_ids(body).map_err(|e| errors.push(e)).ok().flatten();
    input.custom = custom_values(body).map_err(|e| errors.push(e)).ok().flatten();
    let mut contacts = Vec::new();
    match map.get("contacts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if !patch => {
            for item in items {
                match (item.get("type").and_then(Value::as_str), item.get("value").and_then(Value::as_str)) {
                    (Some(t), Some(v)) => contacts.push((t.to_owned(), v.to_owned())),
                    _ => errors.push(DomainError::new("contacts", "invalid_contact")),
                }
            }
        }
        Some(_) => errors.push(DomainError::new("contacts", "invalid_contact")),
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((input, contacts))
}

pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Paged<ClientJson>>, AppError> {
    // Every parameter at fault is named at once: the paging's and the filters'.
    let (paging, query) =
        (super::paging(&params), crate::web::list_query::client_query(&state, &user.0, &params).await);
    let ((page, per_page), query) = match (paging, query) {
        (Ok(p), Ok(q)) => (p, q),
        (p, Err(AppError::Invalid(more))) => {
            return Err(AppError::Invalid(p.err().unwrap_or_default().into_iter().chain(more).collect()));
        }
        (_, Err(e)) => return Err(e),
        (Err(errors), Ok(_)) => return Err(AppError::Invalid(errors)),
    };
    let query = ClientQuery { limit: per_page, offset: (page - 1) * per_page, ..query };
    let result = state.clients.list(&user.0, &query).await?;
    Ok(Json(Paged {
        items: result.items.into_iter().map(|(c, k)| ClientJson::new(c, k)).collect(),
        total_exact: result.total.is_exact(),
        total: result.total.count(),
        page,
        per_page,
    }))
}

pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Response, AppError> {
    let (input, contacts) = client_input(&body, false)?;
    let id = state.clients.create(&user.0, &input, &contacts).await?;
    let (client, contacts) = state.clients.get(&user.0, id).await?;
    Ok((StatusCode::CREATED, Json(ClientJson::new(client, contacts))).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
) -> Result<Json<ClientJson>, AppError> {
    let (client, contacts) = state.clients.get(&user.0, id).await?;
    Ok(Json(ClientJson::new(client, contacts)))
}

pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
    Json(body): Json<Value>,
) -> Result<Json<ClientJson>, AppError> {
    let (patch, _) = client_input(&body, true)?;
    let client = state.clients.update(&user.0, id, &patch).await?;
    let contacts = state.clients.contacts(&user.0, id).await?;
    Ok(Json(ClientJson::new(client, contacts)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
) -> Result<StatusCode, AppError> {
    state.clients.archive(&user.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn contacts(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
) -> Result<Json<Vec<ContactJson>>, AppError> {
    let contacts = state.clients.contacts(&user.0, id).await?;
    Ok(Json(contacts.into_iter().map(ContactJson::from).collect()))
}

pub async fn add_contact(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
    Json(body): Json<Map<String, Value>>,
) -> Result<Response, AppError> {
    let field = |name: &'static str| match body.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(DomainError::new(name, "required")),
        Some(_) => Err(DomainError::new(name, "must_be_string")),
    };
    let (kind, value) = match (field("type"), field("value")) {
        (Ok(k), Ok(v)) => (k, v),
        (k, v) => return Err(AppError::Invalid([k.err(), v.err()].into_iter().flatten().collect())),
    };
    let contact = state.clients.add_contact(&user.0, id, &kind, &value).await?;
    Ok((StatusCode::CREATED, Json(ContactJson::from(contact))).into_response())
}

pub async fn remove_contact(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, contact_id)): Path<(ClientId, ContactId)>,
) -> Result<StatusCode, AppError> {
    state.clients.remove_contact(&user.0, id, contact_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clients and their contacts.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/clients", get(list).post(create))
        .route("/api/v1/clients/{id}", get(show).patch(update).delete(delete))
        .route("/api/v1/clients/{id}/contacts", get(contacts).post(add_contact))
        .route("/api/v1/clients/{id}/contacts/{contact_id}", axum::routing::delete(remove_contact))
        .route("/api/v1/clients/{id}/merge", axum::routing::post(merge))
}

/// Merges `{from_client_id}` into this client → the survivor, contacts included.
pub async fn merge(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<ClientId>,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<ClientJson>, AppError> {
    let from = body
        .get("from_client_id")
        .and_then(serde_json::Value::as_i64)
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::Invalid(vec![crate::domain::DomainError::new("from_client_id", "required")]))?;
    state.clients.merge(&user.0, id, ClientId(from)).await?;
    let (client, contacts) = state.clients.get(&user.0, id).await?;
    Ok(Json(ClientJson::new(client, contacts)))
}
