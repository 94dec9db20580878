//! The `notifications` table: what each user is told of, newest first, until they read it.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::UserId;
use crate::domain::notification::{NewNotification, Notification, NotificationId, NotificationKind};

use super::RepoError;

pub async fn insert(tx: &mut TenantTx, n: &NewNotification) -> Result<NotificationId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO notifications (tenant_id, user_id, kind, data, url) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant,
        n.user_id.0,
        n.kind.as_str(),
        n.data,
        n.url
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(NotificationId(id))
}

struct NotificationRecord {
    id: i64,
    kind: String,
    data: serde_json::Value,
    url: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl NotificationRecord {
    fn into_notification(self) -> Result<Notification, RepoError> {
        let kind =
            NotificationKind::parse(&self.kind).map_err(|_| RepoError::Corrupt(format!("notification {}", self.id)))?;
        Ok(Notification {
            id: NotificationId(self.id),
            kind,
            data: self.data,
            url: self.url,
            created_at: self.created_at,
            read_at: self.read_at,
        })
    }
}

/// `user`'s notifications older than `before`, newest first: all, or the unread alone.
pub async fn of(
    tx: &mut TenantTx,
    user: UserId,
    unread_only: bool,
    before: Option<NotificationId>,
    limit: i64,
) -> Result<Vec<Notification>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        NotificationRecord,
        "SELECT id, kind, data, url, created_at, read_at FROM notifications
         WHERE tenant_id = $1 AND user_id = $2 AND id < $3 AND (NOT $4 OR read_at IS NULL)
         ORDER BY id DESC LIMIT $5",
        tenant,
        user.0,
        before.map_or(i64::MAX, |b| b.0),
        unread_only,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(NotificationRecord::into_notification).collect()
}

/// Notification `id`, when it is `user`'s.
pub async fn one(tx: &mut TenantTx, user: UserId, id: NotificationId) -> Result<Notification, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        NotificationRecord,
        "SELECT id, kind, data, url, created_at, read_at FROM notifications
         WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        tenant,
        user.0,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_notification()
}

/// How many of `user`'s notifications are unread, counted up to `cap`.
pub async fn unread(tx: &mut TenantTx, user: UserId, cap: i64) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM notifications
                                         WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL LIMIT $3) u"#,
        tenant,
        user.0,
        cap
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// Marks `ids` of `user`'s notifications read (all of them when `None`); returns how many were unread.
pub async fn mark_read(tx: &mut TenantTx, user: UserId, ids: Option<&[NotificationId]>) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let ids: Option<Vec<i64>> = ids.map(|ids| ids.iter().map(|i| i.0).collect());
    let done = sqlx::query!(
        "UPDATE notifications SET read_at = now()
         WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL AND ($3::bigint[] IS NULL OR id = ANY($3))",
        tenant,
        user.0,
        ids.as_deref()
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
