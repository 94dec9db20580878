//! The JSON API under /api/v1: Bearer-token auth and its handlers. Errors take the shape of
//! API.md (`{"error": {"code", "message", "fields"}}`), produced by `web::error::render`.

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::get;
use serde::Serialize;

use crate::domain::{DomainError, Permission, Principal};
use crate::web::AppState;
use crate::web::error::AppError;

pub mod bulk;
pub mod channels;
pub mod chats;
pub mod clients;
pub mod companies;
pub mod custom_fields;
pub mod deals;
pub mod message_templates;
pub mod notes;
pub mod notifications;
pub mod openapi;
pub mod pipelines;
pub mod settings;
pub mod tags;
pub mod tasks;

/// The JSON API: each area's routes, merged; anything else under /api/v1 is a JSON 404.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/me", get(me))
        .merge(clients::routes())
        .merge(chats::routes())
        .merge(message_templates::routes())
        .merge(pipelines::routes())
        .merge(companies::routes())
        .merge(deals::routes())
        .merge(tags::routes())
        .merge(custom_fields::routes())
        .merge(tasks::routes())
        .merge(notes::routes())
        .merge(notifications::routes())
        .merge(bulk::routes())
        .merge(channels::routes())
        .merge(settings::routes())
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
}

/// A page of a list, as API.md specifies: `?page=1&per_page=25` (at most 100). Where counting
/// every match would cost more than the page (client search), counting stops early and
/// `total_exact` is false: "at least `total`".
#[derive(Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

/// How deep an offset-paged list goes: reading further means skipping this many rows first,
/// which costs the database more than any page is worth. Past it, narrow the query.
pub const MAX_DEPTH: i64 = 10_000;

impl<T> Paged<T> {
    /// One page of a whole list read at once (a tenant's templates, its channels).
    pub fn of_all(all: Vec<T>, page: i64, per_page: i64) -> Self {
        let total = all.len() as i64;
        let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
        let items = all.into_iter().skip(skip).take(per_page as usize).collect();
        Self { items, total, total_exact: true, page, per_page }
    }
}

/// `page` (from 1) and `per_page` (1 to 100, default 25) from a query string; a page must end
/// within the first `MAX_DEPTH` rows.
pub fn paging(params: &std::collections::HashMap<String, String>) -> Result<(i64, i64), Vec<DomainError>> {
    let number = |name: &'static str, default: i64, max: i64| match params.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(raw) => {
            raw.parse::<i64>().ok().filter(|n| (1..=max).contains(n)).ok_or(DomainError::new(name, "invalid_number"))
        }
    };
    match (number("page", 1, MAX_DEPTH), number("per_page", 25, 100)) {
        (Ok(page), Ok(per_page)) if page * per_page > MAX_DEPTH => Err(vec![DomainError::new("page", "page_too_deep")]),
        (Ok(page), Ok(per_page)) => Ok((page, per_page)),
        (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
    }
}

/// The user an API token acts as, with that user's tenant and permissions.
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::SignInRequired)?;
        let principal = state.auth.api_principal(token).await?.ok_or(AppError::SignInRequired)?;
        Ok(ApiUser(principal))
    }
}

#[derive(Serialize)]
pub struct TenantJson {
    id: String,
    name: String,
}

#[derive(Serialize)]
pub struct MeJson {
    id: i64,
    email: String,
    name: String,
    role: &'static str,
    locale: Option<&'static str>,
    permissions: Vec<&'static str>,
    tenant: TenantJson,
}

/// Who the token acts as: lets an integrator check a token and its permissions.
async fn me(ApiUser(p): ApiUser) -> Json<MeJson> {
    Json(MeJson {
        id: p.user_id.0,
        email: p.email,
        name: p.name,
        role: p.role.as_str(),
        locale: p.locale.map(|l| l.as_str()),
        permissions: p.permissions.iter().map(Permission::as_str).collect(),
        tenant: TenantJson { id: p.tenant_id.to_string(), name: p.tenant_name },
    })
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The JSON object a body must be (400 otherwise).
pub fn object(body: &serde_json::Value) -> Result<&serde_json::Map<String, serde_json::Value>, AppError> {
    body.as_object().ok_or_else(|| AppError::BadRequest("the body must be a JSON object".into()))
}

/// Text field `field` of a JSON object: absent is `None`, text and numbers as they are, `null`
/// as empty (which clears); anything else is `invalid_value` on the field, pushed to `errors`.
pub fn text_field(
    map: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
    errors: &mut Vec<DomainError>,
) -> Option<String> {
    use serde_json::Value;
    match map.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => {
            errors.push(DomainError::new(field, "invalid_value"));
            None
        }
    }
}

/// Boolean field `field` of a JSON object: absent is `None`; anything but true or false is
/// `invalid_value` on the field.
pub fn bool_field(
    map: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
    errors: &mut Vec<DomainError>,
) -> Option<bool> {
    match map.get(field)? {
        serde_json::Value::Bool(b) => Some(*b),
        _ => {
            errors.push(DomainError::new(field, "invalid_value"));
            None
        }
    }
}

/// An id from a query string's `name` (absent or empty: `None`); else 422 on `name`.
pub fn query_id(
    params: &std::collections::HashMap<String, String>,
    name: &'static str,
) -> Result<Option<i64>, DomainError> {
    crate::domain::parse_id(name, params.get(name).map_or("", String::as_str))
}
