//! The `notifications` table: what each user is told of, newest first, until they read it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::channel::ChannelId;
use crate::domain::notification::{NewNotification, Notification, NotificationId, NotificationKind};
use crate::domain::{TenantId, UserId};

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

/// A notification due on Telegram: the notification, where its user's chat is (the bot's
/// channel and the chat id, `None` once unlinked) and the user's language (else the tenant's).
pub struct TelegramDue {
    pub notification: Notification,
    pub to: Option<(ChannelId, i64)>,
    pub locale: String,
    pub attempts: i32,
}

/// Takes up to `limit` notifications due on Telegram, in any tenant, for `lease`.
pub async fn claim_telegram(
    pool: &PgPool,
    limit: i64,
    lease: std::time::Duration,
) -> Result<Vec<(TenantId, NotificationId)>, RepoError> {
    let lease = super::interval(lease)?;
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!" FROM claim_telegram_notifications($1::int, $2)"#,
        limit as i32,
        lease
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (TenantId(r.tenant_id), NotificationId(r.id))).collect())
}

/// Notification `id` as its Telegram delivery needs it, while it is pending.
pub async fn telegram_due(tx: &mut TenantTx, id: NotificationId) -> Result<Option<TelegramDue>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        r#"SELECT n.id, n.kind, n.data, n.url, n.created_at, n.read_at, n.telegram_attempts,
                  u.telegram_channel_id, u.telegram_chat_id, coalesce(u.locale, t.locale) AS "locale!"
           FROM notifications n JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.user_id
                JOIN tenants t ON t.id = n.tenant_id
           WHERE n.tenant_id = $1 AND n.id = $2 AND n.telegram_state = 'pending'"#,
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let notification = NotificationRecord {
        id: r.id,
        kind: r.kind,
        data: r.data,
        url: r.url,
        created_at: r.created_at,
        read_at: r.read_at,
    }
    .into_notification()?;
    let to = r.telegram_channel_id.zip(r.telegram_chat_id).map(|(channel, chat)| (ChannelId(channel), chat));
    Ok(Some(TelegramDue { notification, to, locale: r.locale, attempts: r.telegram_attempts }))
}

/// Ends notification `id`'s Telegram delivery: sent, or failed with `error`.
pub async fn telegram_done(tx: &mut TenantTx, id: NotificationId, error: Option<&str>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE notifications SET telegram_state = CASE WHEN $3::text IS NULL THEN 'sent' ELSE 'failed' END,
                                  telegram_error = $3
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Puts notification `id` back to be tried again `after` from now, saying why it failed.
pub async fn telegram_retry(
    tx: &mut TenantTx,
    id: NotificationId,
    after: std::time::Duration,
    error: &str,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let after = super::interval(after)?;
    sqlx::query!(
        "UPDATE notifications SET telegram_due_at = now() + $3, telegram_error = $4 WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        after,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
