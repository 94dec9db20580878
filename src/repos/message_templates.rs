//! The message_templates table: texts agents insert with a click or a `/shortcut`.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::message_template::{MessageTemplate, TemplateFields, TemplateInput};

use super::{RepoError, conflict_on};

/// A template's row as the database holds it; `into_template` parses it.
struct TemplateRecord {
    id: i64,
    title: Option<String>,
    shortcut: Option<String>,
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TemplateRecord {
    fn into_template(self) -> Result<MessageTemplate, RepoError> {
        let stored = TemplateInput {
            title: self.title.unwrap_or_default(),
            shortcut: self.shortcut.unwrap_or_default(),
            body: self.body,
        };
        let fields = stored.parse().map_err(|errors| {
            let refused: Vec<String> = errors.iter().map(|e| format!("{} ({})", e.field, e.code)).collect();
            RepoError::Corrupt(format!("template {}: stored {} refused", self.id, refused.join(", ")))
        })?;
        Ok(MessageTemplate { id: self.id, fields, created_at: self.created_at, updated_at: self.updated_at })
    }
}

const CONFLICTS: &[(&str, &str)] = &[("message_templates_shortcut_key", "shortcut")];

/// The tenant's templates by title (untitled ones by their text), those matching `q` in
/// title, shortcut or text when given.
pub async fn list(tx: &mut TenantTx, q: Option<&str>) -> Result<Vec<MessageTemplate>, RepoError> {
    let tenant = tx.tenant_id().0;
    let pattern = q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    sqlx::query_as!(
        TemplateRecord,
        "SELECT id, title, shortcut, body, created_at, updated_at FROM message_templates
         WHERE tenant_id = $1 AND ($2::text IS NULL OR lower(coalesce(title, '') || ' ' || coalesce(shortcut, '')
                                                           || ' ' || body) LIKE $2)
         ORDER BY lower(coalesce(title, body)), id LIMIT 1000",
        tenant,
        pattern
    )
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .map(TemplateRecord::into_template)
    .collect()
}

pub async fn get(tx: &mut TenantTx, id: i64) -> Result<MessageTemplate, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        TemplateRecord,
        "SELECT id, title, shortcut, body, created_at, updated_at FROM message_templates
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_template()
}

pub async fn insert(tx: &mut TenantTx, t: &TemplateFields) -> Result<MessageTemplate, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        TemplateRecord,
        "INSERT INTO message_templates (tenant_id, title, shortcut, body) VALUES ($1, $2, $3, $4)
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        t.title,
        t.shortcut.as_ref().map(|s| s.as_str()),
        t.body.as_str()
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?
    .into_template()
}

pub async fn update(tx: &mut TenantTx, id: i64, t: &TemplateFields) -> Result<MessageTemplate, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        TemplateRecord,
        "UPDATE message_templates SET title = $3, shortcut = $4, body = $5, updated_at = now()
         WHERE tenant_id = $1 AND id = $2
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        id,
        t.title,
        t.shortcut.as_ref().map(|s| s.as_str()),
        t.body.as_str()
    )
    .fetch_optional(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?
    .ok_or(RepoError::NotFound)?
    .into_template()
}

pub async fn delete(tx: &mut TenantTx, id: i64) -> Result<MessageTemplate, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        TemplateRecord,
        "DELETE FROM message_templates WHERE tenant_id = $1 AND id = $2
         RETURNING id, title, shortcut, body, created_at, updated_at",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_template()
}
