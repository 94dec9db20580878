//! The JSON API under /api/v1: Bearer-token auth and its handlers. Errors take the shape of
//! API.md (`{"error": {"code", "message", "fields"}}`), produced by `web::error::render`.

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::get;
use serde::Serialize;

use crate::domain::{Permission, Principal};
use crate::web::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me)).route("/api/v1/{*rest}", axum::routing::any(not_found))
}

/// The user an API token acts as, with that user's tenant and permissions.
pub struct ApiUser(pub Principal);

impl ApiUser {
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.0.can(permission) { Ok(()) } else { Err(AppError::Forbidden) }
    }
}

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
