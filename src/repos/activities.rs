//! The `activities` table: every record's timeline, one row per entry, read newest first.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::UserId;
use crate::domain::activity::{Activity, ActivityActor, ActivityId, ActivityKind, NewActivity};
use crate::domain::record::RecordRef;

use super::RepoError;

/// Writes `entry`, in the transaction of the change it tells of.
pub async fn record(tx: &mut TenantTx, entry: &NewActivity) -> Result<ActivityId, RepoError> {
    let tenant = tx.tenant_id().0;
    let (client, company, deal) = entry.on.columns();
    let id = sqlx::query_scalar!(
        "INSERT INTO activities (tenant_id, client_id, company_id, deal_id, kind, actor_type, actor_user_id, actor_name,
                                 summary, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        tenant,
        client,
        company,
        deal,
        entry.kind.as_str(),
        entry.actor.kind(),
        entry.actor.user_id().map(|u| u.0),
        entry.actor.name(),
        entry.summary,
        entry.data
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(ActivityId(id))
}

#[derive(sqlx::FromRow)]
struct ActivityRecord {
    id: i64,
    client_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    kind: String,
    actor_type: String,
    actor_user_id: Option<i64>,
    actor_name: String,
    summary: String,
    data: serde_json::Value,
    happened_at: DateTime<Utc>,
}

impl ActivityRecord {
    fn into_activity(self) -> Result<Activity, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("activity {}: {what}", self.id));
        let on =
            RecordRef::from_columns(self.client_id, self.company_id, self.deal_id).ok_or_else(|| corrupt("record"))?;
        let kind = ActivityKind::parse(&self.kind).map_err(|_| corrupt("kind"))?;
        let actor =
            ActivityActor::from_parts(&self.actor_type, self.actor_user_id.map(UserId), self.actor_name.clone())
                .ok_or_else(|| corrupt("actor"))?;
        Ok(Activity {
            id: ActivityId(self.id),
            on,
            kind,
            actor,
            summary: self.summary,
            data: self.data,
            happened_at: self.happened_at,
        })
    }
}

/// Up to `limit` entries of `on`'s timeline older than `before` (all when `None`), newest
/// first, of `kind` alone when given: one range of an index either way.
pub async fn page(
    tx: &mut TenantTx,
    on: RecordRef,
    kind: Option<ActivityKind>,
    before: Option<ActivityId>,
    limit: i64,
) -> Result<Vec<Activity>, RepoError> {
    let tenant = tx.tenant_id().0;
    // The record's own column, so the query meets that column's partial indexes.
    let column = super::records::column(on);
    let rows: Vec<ActivityRecord> = sqlx::query_as(&format!(
        "SELECT id, client_id, company_id, deal_id, kind, actor_type, actor_user_id, actor_name, summary, data,
                happened_at
         FROM activities
         WHERE tenant_id = $1 AND {column} = $2 AND {column} IS NOT NULL AND id < $3
           AND ($4::text IS NULL OR kind = $4)
         ORDER BY id DESC LIMIT $5"
    ))
    .bind(tenant)
    .bind(on.id())
    .bind(before.map_or(i64::MAX, |b| b.0))
    .bind(kind.map(ActivityKind::as_str))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(ActivityRecord::into_activity).collect()
}
