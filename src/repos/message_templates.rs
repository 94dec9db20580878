//! The message_templates table: texts agents insert with a click or a `/shortcut`.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;

use super::{RepoError, conflict_on};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Template {
    pub id: i64,
    pub title: Option<String>,
    pub shortcut: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template's fields, already checked by the service.
pub struct TemplateFields<'a> {
    pub title: Option<&'a str>,
    pub shortcut: Option<&'a str>,
    pub body: &'a str,
}

const CONFLICTS: &[(&str, &str)] = &[("message_templates_shortcut_key", "shortcut")];

/// The tenant's templates by title (untitled ones by their text), those matching `q` in
/// title, shortcut or text when given.
pub async fn list(tx: &mut TenantTx, q: Option<&str>) -> Result<Vec<Template>, RepoError> {
    let tenant = tx.tenant_id().0;
    let pattern = q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    Ok(sqlx::query_as!(
        Template,
        "SELECT id, title, shortcut, body, created_at, updated_at FROM message_templates
         WHERE tenant_id = $1 AND ($2::text IS NULL OR lower(coalesce(title, '') || ' ' || coalesce(shortcut, '')
                                                           || ' ' || body) LIKE $2)
         ORDER BY lower(coalesce(title, body)), id LIMIT 1000",
        tenant,
        pattern
    )
    .fetch_all(tx.conn())
    .await?)
}

pub async fn get(tx: &mut TenantTx, id: i64) -> Result<Template, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Template,
        "SELECT id, title, shortcut, body, created_at, updated_at FROM message_templates
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}

pub async fn insert(tx: &mut TenantTx, t: &TemplateFields<'_>) -> Result<Template, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Template,
        "INSERT INTO message_templates (tenant_id, title, shortcut, body) VALUES ($1, $2, $3, $4)
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        t.title,
        t.shortcut,
        t.body
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))
}

pub async fn update(tx: &mut TenantTx, id: i64, t: &TemplateFields<'_>) -> Result<Template, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Template,
        "UPDATE message_templates SET title = $3, shortcut = $4, body = $5, updated_at = now()
         WHERE tenant_id = $1 AND id = $2
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        id,
        t.title,
        t.shortcut,
        t.body
    )
    .fetch_optional(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?
    .ok_or(RepoError::NotFound)
}

pub async fn delete(tx: &mut TenantTx, id: i64) -> Result<Template, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Template,
        "DELETE FROM message_templates WHERE tenant_id = $1 AND id = $2
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}
