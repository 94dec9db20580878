//! The audit_log table: who changed what, written in the same transaction as the change.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::audit::AuditEntry;
use crate::domain::{Actor, UserId};

use super::RepoError;

/// One change to record. `entity` is a stable lower-case noun (`user`, `api_token`, …).
pub struct Entry<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub summary: &'a str,
}

pub async fn record(tx: &mut TenantTx, actor: &Actor, entry: Entry<'_>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO audit_log (tenant_id, actor_user_id, actor_name, action, entity, entity_id, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        actor.user_id().map(|u| u.0),
        actor.name(),
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.summary
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Many entries by one actor in one statement (an import's created clients).
pub async fn record_many(tx: &mut TenantTx, actor: &Actor, entries: &[Entry<'_>]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    fn text<'a>(entries: &[Entry<'a>], f: impl Fn(&Entry<'a>) -> &'a str) -> Vec<String> {
        entries.iter().map(|e| f(e).to_owned()).collect()
    }
    sqlx::query!(
        "INSERT INTO audit_log (tenant_id, actor_user_id, actor_name, action, entity, entity_id, summary)
         SELECT $1, $2, $3, * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[])",
        tenant,
        actor.user_id().map(|u| u.0),
        actor.name(),
        &text(entries, |e| e.action),
        &text(entries, |e| e.entity),
        &text(entries, |e| e.entity_id),
        &text(entries, |e| e.summary)
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An entry's row as the database holds it.
struct AuditRecord {
    id: i64,
    actor_user_id: Option<i64>,
    actor_name: String,
    action: String,
    entity: String,
    entity_id: String,
    summary: String,
    created_at: DateTime<Utc>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        AuditEntry {
            id: r.id,
            actor_user_id: r.actor_user_id.map(UserId),
            actor_name: r.actor_name,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            summary: r.summary,
            created_at: r.created_at,
        }
    }
}

/// A page of entries, newest first, optionally of one entity kind; and the total matching.
/// The newest entries but those of `routine` actions (each message sent), for a glance at what
/// happened lately.
pub async fn recent(tx: &mut TenantTx, routine: &[&str], limit: i64) -> Result<Vec<AuditEntry>, RepoError> {
    let tenant = tx.tenant_id().0;
    let routine: Vec<String> = routine.iter().map(|a| (*a).to_owned()).collect();
    Ok(sqlx::query_as!(
        AuditRecord,
        "SELECT id, actor_user_id, actor_name, action, entity, entity_id, summary, created_at FROM audit_log
         WHERE tenant_id = $1 AND action <> ALL($2)
         ORDER BY id DESC LIMIT $3",
        tenant,
        &routine,
        limit
    )
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .map(AuditEntry::from)
    .collect())
}

pub async fn list(
    tx: &mut TenantTx,
    entity: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), RepoError> {
    let tenant = tx.tenant_id().0;
    let items = sqlx::query_as!(
        AuditRecord,
        "SELECT id, actor_user_id, actor_name, action, entity, entity_id, summary, created_at FROM audit_log
         WHERE tenant_id = $1 AND ($2::text IS NULL OR entity = $2)
         ORDER BY id DESC LIMIT $3 OFFSET $4",
        tenant,
        entity,
        limit,
        offset
    )
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .map(AuditEntry::from)
    .collect();
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM audit_log WHERE tenant_id = $1 AND ($2::text IS NULL OR entity = $2)"#,
        tenant,
        entity
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((items, total))
}

/// Every entry about one entity, oldest first (for a data export).
pub async fn for_entity(tx: &mut TenantTx, entity: &str, entity_id: &str) -> Result<Vec<AuditEntry>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        AuditRecord,
        "SELECT id, actor_user_id, actor_name, action, entity, entity_id, summary, created_at FROM audit_log
         WHERE tenant_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY id",
        tenant,
        entity,
        entity_id
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

/// The entity kinds present in the tenant's log, for the filter.
pub async fn entities(tx: &mut TenantTx) -> Result<Vec<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows =
        sqlx::query_scalar!("SELECT DISTINCT entity FROM audit_log WHERE tenant_id = $1 ORDER BY entity", tenant)
            .fetch_all(tx.conn())
            .await?;
    Ok(rows)
}
