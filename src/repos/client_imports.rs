//! The client_imports and client_import_issues tables: uploaded CSV files, their runs and reports.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::TenantTx;
use crate::domain::client::import::{Counts, Duplicates, Import, Issue, IssueRow, Status};
use crate::domain::{ClientId, TenantId, UserId};

use super::RepoError;

pub struct NewImport<'a> {
    pub created_by: UserId,
    pub file_name: &'a str,
    pub content: &'a str,
    pub header: &'a [String],
    pub sample: &'a [Vec<String>],
    pub rows_total: i32,
}

pub async fn insert(tx: &mut TenantTx, new: NewImport<'_>) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    let sample = serde_json::to_value(new.sample).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let id = sqlx::query_scalar!(
        "INSERT INTO client_imports (tenant_id, created_by, file_name, content, header, sample, rows_total)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        tenant,
        new.created_by.0,
        new.file_name,
        new.content,
        new.header,
        sample,
        new.rows_total
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

struct ImportRow {
    id: i64,
    created_by: String,
    file_name: String,
    header: Vec<String>,
    sample: serde_json::Value,
    rows_total: i32,
    mapping: Option<String>,
    duplicates: String,
    dry_run: bool,
    status: String,
    error: Option<String>,
    rows_done: i32,
    created: i32,
    merged: i32,
    skipped: i32,
    failed: i32,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<ImportRow> for Import {
    type Error = RepoError;
    fn try_from(r: ImportRow) -> Result<Self, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("client import {}: {what}", r.id));
        Ok(Import {
            id: r.id,
            sample: serde_json::from_value(r.sample.clone()).map_err(|_| corrupt("sample"))?,
            duplicates: r.duplicates.parse().map_err(|_| corrupt("duplicates"))?,
            status: r.status.parse().map_err(|_| corrupt("status"))?,
            counts: Counts {
                rows_done: r.rows_done,
                created: r.created,
                merged: r.merged,
                skipped: r.skipped,
                failed: r.failed,
            },
            created_by: r.created_by,
            file_name: r.file_name,
            header: r.header,
            rows_total: r.rows_total,
            mapping: r.mapping,
            dry_run: r.dry_run,
            error: r.error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
    }
}

pub async fn get(tx: &mut TenantTx, id: i64) -> Result<Import, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        ImportRow,
        r#"SELECT i.id, u.name AS created_by, i.file_name, i.header, i.sample, i.rows_total, i.mapping, i.duplicates,
                  i.dry_run, i.status, i.error, i.rows_done, i.created, i.merged, i.skipped, i.failed, i.created_at,
                  i.finished_at
           FROM client_imports i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.created_by
           WHERE i.tenant_id = $1 AND i.id = $2"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    row.try_into()
}

/// The tenant's latest imports, newest first.
pub async fn recent(tx: &mut TenantTx, limit: i64) -> Result<Vec<Import>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        ImportRow,
        r#"SELECT i.id, u.name AS created_by, i.file_name, i.header, '[]'::jsonb AS "sample!", i.rows_total, i.mapping,
                  i.duplicates, i.dry_run, i.status, i.error, i.rows_done, i.created, i.merged, i.skipped, i.failed,
                  i.created_at, i.finished_at
           FROM client_imports i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.created_by
           WHERE i.tenant_id = $1 ORDER BY i.id DESC LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(Import::try_from).collect()
}

/// The uploaded file, decoded.
pub async fn content(tx: &mut TenantTx, id: i64) -> Result<String, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT content FROM client_imports WHERE tenant_id = $1 AND id = $2", tenant, id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)
}

/// Queues a run of an import that waits for one (uploaded, or checked by a dry run), with
/// a fresh report. `false`: the import is not waiting (already running or finished).
pub async fn queue(
    tx: &mut TenantTx,
    id: i64,
    mapping: &str,
    duplicates: Duplicates,
    dry_run: bool,
) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let queued = sqlx::query!(
        "UPDATE client_imports
         SET status = 'queued', mapping = $3, duplicates = $4, dry_run = $5, error = NULL, run_token = NULL,
             rows_done = 0, created = 0, merged = 0, skipped = 0, failed = 0, started_at = NULL, finished_at = NULL
         WHERE tenant_id = $1 AND id = $2 AND status IN ('uploaded', 'checked')",
        tenant,
        id,
        mapping,
        duplicates.as_str(),
        dry_run
    )
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if queued {
        sqlx::query!("DELETE FROM client_import_issues WHERE tenant_id = $1 AND import_id = $2", tenant, id)
            .execute(tx.conn())
            .await?;
    }
    Ok(queued)
}

/// Stops a queued or running import where it is; what its finished batches wrote stays.
pub async fn cancel(tx: &mut TenantTx, id: i64) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE client_imports SET status = 'cancelled', run_token = NULL, finished_at = now()
         WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A run the worker now holds.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub tenant_id: TenantId,
    pub id: i64,
    pub token: Uuid,
}

/// Takes the oldest queued import of any tenant, or one whose worker has not beaten for `stale`.
pub async fn claim(pool: &sqlx::PgPool, stale: std::time::Duration) -> Result<Option<Claim>, RepoError> {
    let stale = super::interval(stale)?;
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", run_token AS "run_token!" FROM claim_client_import($1)"#,
        stale
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Claim { tenant_id: TenantId(r.tenant_id), id: r.id, token: r.run_token }))
}

/// What a claimed run needs: the file, its mapping and policy, where it stopped, and who started it.
pub struct RunPlan {
    pub content: String,
    pub mapping: String,
    pub duplicates: Duplicates,
    pub dry_run: bool,
    pub counts: Counts,
    pub user_id: UserId,
    pub user_name: String,
}

pub async fn plan(tx: &mut TenantTx, claim: &Claim) -> Result<RunPlan, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        r#"SELECT i.content, i.mapping AS "mapping!", i.duplicates, i.dry_run, i.rows_done, i.created, i.merged,
                  i.skipped, i.failed, i.created_by, u.name AS user_name
           FROM client_imports i JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.created_by
           WHERE i.tenant_id = $1 AND i.id = $2 AND i.run_token = $3 AND i.mapping IS NOT NULL"#,
        tenant,
        claim.id,
        claim.token
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(RunPlan {
        content: r.content,
        mapping: r.mapping,
        duplicates: r.duplicates.parse().map_err(|_| RepoError::Corrupt("client import duplicates".into()))?,
        dry_run: r.dry_run,
        counts: Counts {
            rows_done: r.rows_done,
            created: r.created,
            merged: r.merged,
            skipped: r.skipped,
            failed: r.failed,
        },
        user_id: UserId(r.created_by),
        user_name: r.user_name,
    })
}

/// Records a finished batch: the counts so far, its issues, and (after the last batch) the
/// final status. `false`: the run is no longer ours (cancelled, or taken over), so the caller
/// must roll the batch back.
pub async fn advance(
    tx: &mut TenantTx,
    claim: &Claim,
    counts: Counts,
    issues: &[Issue],
    finished: Option<Status>,
) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let ours = sqlx::query!(
        "UPDATE client_imports
         SET rows_done = $4, created = $5, merged = $6, skipped = $7, failed = $8, heartbeat_at = now(),
             status = coalesce($9, status), finished_at = CASE WHEN $9 IS NULL THEN NULL ELSE now() END,
             run_token = CASE WHEN $9 IS NULL THEN run_token END
         WHERE tenant_id = $1 AND id = $2 AND run_token = $3 AND status = 'running'",
        tenant,
        claim.id,
        claim.token,
        counts.rows_done,
        counts.created,
        counts.merged,
        counts.skipped,
        counts.failed,
        finished.map(Status::as_str)
    )
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if !ours || issues.is_empty() {
        return Ok(ours);
    }
    let mut rows = Vec::new();
    let mut seqs = Vec::new();
    for (i, issue) in issues.iter().enumerate() {
        let seq = issues[..i].iter().filter(|x| x.row_no == issue.row_no).count() as i16;
        rows.push(issue.row_no);
        seqs.push(seq);
    }
    sqlx::query!(
        "INSERT INTO client_import_issues (tenant_id, import_id, row_no, seq, field, code, client_id, same_as_row)
         SELECT $1, $2, * FROM unnest($3::int[], $4::smallint[], $5::text[], $6::text[], $7::bigint[], $8::int[])",
        tenant,
        claim.id,
        &rows,
        &seqs,
        &issues.iter().map(|i| i.field.clone()).collect::<Vec<_>>() as &[Option<String>],
        &issues.iter().map(|i| i.code.clone()).collect::<Vec<_>>(),
        &issues.iter().map(|i| i.client_id.map(|c| c.0)).collect::<Vec<_>>() as &[Option<i64>],
        &issues.iter().map(|i| i.same_as_row).collect::<Vec<_>>() as &[Option<i32>]
    )
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// Ends a run that could not go on (the file no longer parses, the database refused), with why.
pub async fn fail(tx: &mut TenantTx, claim: &Claim, error: &str) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE client_imports SET status = 'failed', error = $4, run_token = NULL, finished_at = now()
         WHERE tenant_id = $1 AND id = $2 AND run_token = $3",
        tenant,
        claim.id,
        claim.token,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A page of an import's report in row order, with the names of the clients it points at.
pub async fn issues(tx: &mut TenantTx, id: i64, limit: i64, offset: i64) -> Result<Vec<IssueRow>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT s.row_no, s.field, s.code, s.client_id, s.same_as_row,
                  c.first_name || coalesce(' ' || c.last_name, '') AS client_name
           FROM client_import_issues s
           LEFT JOIN clients c ON c.tenant_id = s.tenant_id AND c.id = s.client_id
           WHERE s.tenant_id = $1 AND s.import_id = $2
           ORDER BY s.row_no, s.seq LIMIT $3 OFFSET $4"#,
        tenant,
        id,
        limit,
        offset
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IssueRow {
            issue: Issue {
                row_no: r.row_no,
                field: r.field,
                code: r.code,
                client_id: r.client_id.map(ClientId),
                same_as_row: r.same_as_row,
            },
            client_name: r.client_name,
        })
        .collect())
}

/// Deletes imports finished (or left unstarted) longer than `after` ago, in every tenant.
pub async fn purge(pool: &sqlx::PgPool, after: std::time::Duration) -> Result<i64, RepoError> {
    let after = super::interval(after)?;
    let n = sqlx::query_scalar!(r#"SELECT purge_client_imports($1) AS "n!""#, after).fetch_one(pool).await?;
    Ok(n)
}

/// Hands a run back to the queue (its worker is stopping); the next claim resumes it.
pub async fn release(tx: &mut TenantTx, claim: &Claim) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE client_imports SET status = 'queued', run_token = NULL
         WHERE tenant_id = $1 AND id = $2 AND run_token = $3 AND status = 'running'",
        tenant,
        claim.id,
        claim.token
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Analyses the client tables if they grew by more than half since their last analysis
/// (see the migration); `true` if it did.
pub async fn refresh_statistics(pool: &sqlx::PgPool) -> Result<bool, RepoError> {
    let refreshed =
        sqlx::query_scalar!(r#"SELECT refresh_client_statistics() AS "refreshed!""#).fetch_one(pool).await?;
    Ok(refreshed)
}
