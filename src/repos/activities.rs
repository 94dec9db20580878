//! The `activities` table: every record's timeline, one row per entry, read newest first.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::activity::{Activity, ActivityActor, ActivityId, ActivityKind, NewActivity};
use crate::domain::record::RecordRef;
use crate::domain::{ClientId, UserId};

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
    let (client, company, deal) = on.columns();
    let before = before.map_or(i64::MAX, |b| b.0);
    let kind = kind.map(ActivityKind::as_str);
    // One statement per record kind, so each matches its partial index exactly.
    let rows = match on {
        RecordRef::Client(_) => {
            sqlx::query_as!(
                ActivityRecord,
                "SELECT id, client_id, company_id, deal_id, kind, actor_type, actor_user_id, actor_name, summary, data,
                        happened_at
                 FROM activities
                 WHERE tenant_id = $1 AND client_id = $2 AND client_id IS NOT NULL AND id < $3
                   AND ($4::text IS NULL OR kind = $4)
                 ORDER BY id DESC LIMIT $5",
                tenant,
                client,
                before,
                kind,
                limit
            )
            .fetch_all(tx.conn())
            .await?
        }
        RecordRef::Company(_) => {
            sqlx::query_as!(
                ActivityRecord,
                "SELECT id, client_id, company_id, deal_id, kind, actor_type, actor_user_id, actor_name, summary, data,
                        happened_at
                 FROM activities
                 WHERE tenant_id = $1 AND company_id = $2 AND company_id IS NOT NULL AND id < $3
                   AND ($4::text IS NULL OR kind = $4)
                 ORDER BY id DESC LIMIT $5",
                tenant,
                company,
                before,
                kind,
                limit
            )
            .fetch_all(tx.conn())
            .await?
        }
        RecordRef::Deal(_) => {
            sqlx::query_as!(
                ActivityRecord,
                "SELECT id, client_id, company_id, deal_id, kind, actor_type, actor_user_id, actor_name, summary, data,
                        happened_at
                 FROM activities
                 WHERE tenant_id = $1 AND deal_id = $2 AND deal_id IS NOT NULL AND id < $3
                   AND ($4::text IS NULL OR kind = $4)
                 ORDER BY id DESC LIMIT $5",
                tenant,
                deal,
                before,
                kind,
                limit
            )
            .fetch_all(tx.conn())
            .await?
        }
    };
    rows.into_iter().map(ActivityRecord::into_activity).collect()
}

/// Moves client `from`'s timeline to client `to` (a merge); returns the entries moved.
pub async fn move_client(tx: &mut TenantTx, from: ClientId, to: ClientId) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let moved = sqlx::query_scalar!(
        "UPDATE activities SET client_id = $3 WHERE tenant_id = $1 AND client_id = $2 RETURNING id",
        tenant,
        from.0,
        to.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(moved)
}

/// Moves entries `ids` back to client `to` (a merge undone).
pub async fn move_back(tx: &mut TenantTx, ids: &[i64], to: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("UPDATE activities SET client_id = $3 WHERE tenant_id = $1 AND id = ANY($2)", tenant, ids, to.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}
