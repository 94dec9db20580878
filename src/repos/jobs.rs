//! The `jobs` and `job_items` tables: bulk jobs, their frozen targets and their progress, and
//! the set-wise changes a chunk of a job makes to its records.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::bulk::{BulkAction, BulkEntity, Failure, Job, JobId, JobStatus};
use crate::domain::{TenantId, UserId};

use super::RepoError;

/// A job's table of records, and its id column in tag and activity tables: static names, the
/// only text a query here is assembled from.
fn table(entity: BulkEntity) -> (&'static str, &'static str, &'static str) {
    match entity {
        BulkEntity::Clients => ("clients", "client_tags", "client_id"),
        BulkEntity::Companies => ("companies", "company_tags", "company_id"),
        BulkEntity::Deals => ("deals", "deal_tags", "deal_id"),
    }
}

/// A new job with its targets, all in the caller's transaction; `refused` are records asked
/// for that it will not touch (gone, or out of the author's reach), failed from the start.
pub async fn insert(
    tx: &mut TenantTx,
    entity: BulkEntity,
    action: &BulkAction,
    by: UserId,
    (targets, refused): (&[i64], &[Failure]),
) -> Result<JobId, RepoError> {
    let tenant = tx.tenant_id().0;
    let params = serde_json::to_value(action).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let kept = &refused[..refused.len().min(crate::domain::bulk::MAX_FAILURES_KEPT)];
    let failures = serde_json::to_value(kept).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let id = sqlx::query_scalar!(
        "INSERT INTO jobs (tenant_id, entity, action, params, created_by, total, failed, failures)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id",
        tenant,
        entity.as_str(),
        action.name(),
        params,
        by.0,
        (targets.len() + refused.len()) as i32,
        refused.len() as i32,
        failures
    )
    .fetch_one(tx.conn())
    .await?;
    sqlx::query!(
        "INSERT INTO job_items (tenant_id, job_id, item_id) SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING",
        tenant,
        id,
        targets
    )
    .execute(tx.conn())
    .await?;
    Ok(JobId(id))
}

struct JobRecord {
    id: i64,
    entity: String,
    params: serde_json::Value,
    created_by: i64,
    status: String,
    total: i32,
    done: i32,
    failed: i32,
    failures: serde_json::Value,
    cursor: i64,
    result_key: Option<String>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl JobRecord {
    fn into_job(self) -> Result<Job, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("job {}: {what}", self.id));
        Ok(Job {
            id: JobId(self.id),
            entity: BulkEntity::parse(&self.entity).map_err(|_| corrupt("entity"))?,
            action: serde_json::from_value(self.params).map_err(|_| corrupt("params"))?,
            created_by: UserId(self.created_by),
            status: JobStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            total: self.total.into(),
            done: self.done.into(),
            failed: self.failed.into(),
            failures: serde_json::from_value(self.failures).map_err(|_| corrupt("failures"))?,
            cursor: self.cursor,
            has_result: self.result_key.is_some(),
            last_error: self.last_error,
            created_at: self.created_at,
            finished_at: self.finished_at,
        })
    }
}

pub async fn get(tx: &mut TenantTx, id: JobId) -> Result<Job, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        JobRecord,
        "SELECT id, entity, params, created_by, status, total, done, failed, failures, cursor, result_key, last_error,
                created_at, finished_at
         FROM jobs WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_job()
}

/// Where an export's file is kept, once written.
pub async fn result_key(tx: &mut TenantTx, id: JobId) -> Result<Option<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    let key = sqlx::query_scalar!("SELECT result_key FROM jobs WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(key)
}

/// A claimed run of a job: only its holder of `token` may move it on.
#[derive(Debug, Clone)]
pub struct Claim {
    pub tenant_id: TenantId,
    pub id: JobId,
    pub token: uuid::Uuid,
}

/// Claims the oldest waiting job, or a stale one, in any tenant (see `claim_job`).
pub async fn claim(pool: &sqlx::PgPool, stale: Duration) -> Result<Option<Claim>, RepoError> {
    let stale = super::interval(stale)?;
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", run_token AS "run_token!" FROM claim_job($1)"#,
        stale
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Claim { tenant_id: TenantId(r.tenant_id), id: JobId(r.id), token: r.run_token }))
}

/// Locks the job for this chunk, when `claim` still holds it; its cursor then, else `None`.
pub async fn hold(tx: &mut TenantTx, claim: &Claim) -> Result<Option<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let cursor = sqlx::query_scalar!(
        "SELECT cursor FROM jobs WHERE tenant_id = $1 AND id = $2 AND run_token = $3 AND status = 'running' FOR UPDATE",
        tenant,
        claim.id.0,
        claim.token
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(cursor)
}

/// Up to `limit` of the job's targets after `cursor`, in id order.
pub async fn next_items(tx: &mut TenantTx, id: JobId, cursor: i64, limit: i64) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let items = sqlx::query_scalar!(
        "SELECT item_id FROM job_items WHERE tenant_id = $1 AND job_id = $2 AND item_id > $3 ORDER BY item_id LIMIT $4",
        tenant,
        id.0,
        cursor,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(items)
}

/// Every target of the job, in id order (an export reads them all at once).
pub async fn all_items(tx: &mut TenantTx, id: JobId) -> Result<Vec<i64>, RepoError> {
    next_items(tx, id, 0, i64::MAX).await
}

/// Moves a held job on: its cursor to `cursor`, `done` and `failures` added, its heartbeat now.
pub async fn advance(
    tx: &mut TenantTx,
    claim: &Claim,
    cursor: i64,
    done: usize,
    failures: &[Failure],
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let kept = serde_json::to_value(failures).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    sqlx::query!(
        "UPDATE jobs SET cursor = $4, done = done + $5, failed = failed + $6, heartbeat_at = now(),
                failures = CASE WHEN jsonb_array_length(failures) >= $7 THEN failures
                                ELSE failures || $8 END
         WHERE tenant_id = $1 AND id = $2 AND run_token = $3",
        tenant,
        claim.id.0,
        claim.token,
        cursor,
        done as i32,
        failures.len() as i32,
        crate::domain::bulk::MAX_FAILURES_KEPT as i32,
        kept
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends a held job: done (with an export's file), or failed with why.
pub async fn finish(
    tx: &mut TenantTx,
    claim: &Claim,
    status: JobStatus,
    result_key: Option<&str>,
    error: Option<&str>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE jobs SET status = $4, result_key = coalesce($5, result_key), last_error = $6, finished_at = now(),
                run_token = NULL
         WHERE tenant_id = $1 AND id = $2 AND run_token = $3",
        tenant,
        claim.id.0,
        claim.token,
        status.as_str(),
        result_key,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Hands a job back to the queue (its node is stopping): the next claim resumes it.
pub async fn release(tx: &mut TenantTx, claim: &Claim) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE jobs SET status = 'queued', run_token = NULL WHERE tenant_id = $1 AND id = $2 AND run_token = $3",
        tenant,
        claim.id.0,
        claim.token
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Of `ids`, those records of `entity` that still exist (live clients only) and, when given,
/// that `reader` reaches; in id order.
pub async fn present(
    tx: &mut TenantTx,
    entity: BulkEntity,
    ids: &[i64],
    reader: Option<UserId>,
) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let (records, _, _) = table(entity);
    let reach = match entity {
        BulkEntity::Clients => {
            "AND ($3::bigint IS NULL OR r.id IN (SELECT c FROM clients_reached_by($1, $3) c))
                                AND r.archived_at IS NULL"
        }
        _ => "AND ($3::bigint IS NULL OR r.owner_id = $3)",
    };
    let found: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT r.id FROM {records} r WHERE r.tenant_id = $1 AND r.id = ANY($2) {reach} ORDER BY r.id"
    ))
    .bind(tenant)
    .bind(ids)
    .bind(reader.map(|r| r.0))
    .fetch_all(tx.conn())
    .await?;
    Ok(found)
}

/// Puts `tags` on (or takes them off) every one of `ids`.
pub async fn change_tags(
    tx: &mut TenantTx,
    entity: BulkEntity,
    ids: &[i64],
    tags: &[i64],
    add: bool,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (_, tagged, column) = table(entity);
    let sql = if add {
        format!(
            "INSERT INTO {tagged} (tenant_id, {column}, tag_id)
             SELECT $1, r, t FROM unnest($2::bigint[]) r CROSS JOIN unnest($3::bigint[]) t ON CONFLICT DO NOTHING"
        )
    } else {
        format!("DELETE FROM {tagged} WHERE tenant_id = $1 AND {column} = ANY($2) AND tag_id = ANY($3)")
    };
    sqlx::query(&sql).bind(tenant).bind(ids).bind(tags).execute(tx.conn()).await?;
    Ok(())
}

/// Gives every one of `ids` to `owner` (or to no one).
pub async fn set_owner(
    tx: &mut TenantTx,
    entity: BulkEntity,
    ids: &[i64],
    owner: Option<UserId>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (records, _, _) = table(entity);
    sqlx::query(&format!(
        "UPDATE {records} SET owner_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = ANY($2)
           AND owner_id IS DISTINCT FROM $3"
    ))
    .bind(tenant)
    .bind(ids)
    .bind(owner.map(|o| o.0))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Archives every one of `ids` (clients), or deletes them (companies, deals).
pub async fn remove(tx: &mut TenantTx, entity: BulkEntity, ids: &[i64]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let sql = match entity {
        BulkEntity::Clients => {
            "UPDATE clients SET archived_at = now(), updated_at = now()
             WHERE tenant_id = $1 AND id = ANY($2) AND archived_at IS NULL"
        }
        BulkEntity::Companies => "DELETE FROM companies WHERE tenant_id = $1 AND id = ANY($2)",
        BulkEntity::Deals => "DELETE FROM deals WHERE tenant_id = $1 AND id = ANY($2)",
    };
    sqlx::query(sql).bind(tenant).bind(ids).execute(tx.conn()).await?;
    Ok(())
}

/// What a bulk change writes on each record's timeline (the record aside).
pub struct Entry<'a> {
    pub kind: crate::domain::activity::ActivityKind,
    pub actor: &'a crate::domain::activity::ActivityActor,
    pub summary: String,
    pub data: serde_json::Value,
}

/// One timeline entry on each of `ids`, written in one statement.
pub async fn timeline(tx: &mut TenantTx, entity: BulkEntity, ids: &[i64], entry: &Entry<'_>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (_, _, column) = table(entity);
    sqlx::query(&format!(
        "INSERT INTO activities (tenant_id, {column}, kind, actor_type, actor_user_id, actor_name, summary, data)
         SELECT $1, r, $3, $4, $5, $6, $7, $8 FROM unnest($2::bigint[]) r"
    ))
    .bind(tenant)
    .bind(ids)
    .bind(entry.kind.as_str())
    .bind(entry.actor.kind())
    .bind(entry.actor.user_id().map(|u| u.0))
    .bind(entry.actor.name())
    .bind(&entry.summary)
    .bind(&entry.data)
    .execute(tx.conn())
    .await?;
    Ok(())
}
