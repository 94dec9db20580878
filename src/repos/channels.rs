//! The channels table: a tenant's Twilio numbers and Telegram bots, their sealed secrets, and
//! the pre-tenant look-ups webhooks start from.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::domain::channel::{Channel, ChannelId, ChannelKind, Health};

use super::{RepoError, conflict_on};

struct Record {
    id: i64,
    kind: String,
    name: String,
    enabled: bool,
    account_sid: Option<String>,
    sender: Option<String>,
    messaging_service_sid: Option<String>,
    secret_hint: String,
    bot_username: Option<String>,
    notify_chat_id: Option<String>,
    notify_locale: String,
    health_ok_at: Option<DateTime<Utc>>,
    health_error_code: Option<String>,
    health_error: Option<String>,
    health_error_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Record> for Channel {
    type Error = RepoError;
    fn try_from(r: Record) -> Result<Self, RepoError> {
        Ok(Channel {
            id: ChannelId(r.id),
            kind: r.kind.parse().map_err(|_| RepoError::Corrupt(format!("channel {}: kind {}", r.id, r.kind)))?,
            name: r.name,
            enabled: r.enabled,
            account_sid: r.account_sid,
            sender: r.sender,
            messaging_service_sid: r.messaging_service_sid,
            secret_hint: r.secret_hint,
            bot_username: r.bot_username,
            notify_chat_id: r.notify_chat_id,
            notify_locale: r
                .notify_locale
                .parse()
                .map_err(|_| RepoError::Corrupt(format!("channel {}: locale {}", r.id, r.notify_locale)))?,
            health: Health {
                ok_at: r.health_ok_at,
                error: r
                    .health_error_code
                    .zip(r.health_error_at)
                    .map(|(code, at)| (code, r.health_error.unwrap_or_default(), at)),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A channel's columns as the service prepared them (secrets sealed already).
pub struct ChannelRow<'a> {
    pub kind: ChannelKind,
    pub name: &'a str,
    pub account_sid: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub messaging_service_sid: Option<&'a str>,
    pub webhook_key: Option<&'a [u8]>,
    pub secrets: &'a [u8],
    pub secret_hint: &'a str,
    pub notify_chat_id: Option<&'a str>,
    pub notify_locale: &'a str,
}

const CONFLICTS: &[(&str, &str)] =
    &[("channels_twilio_sender_key", "from"), ("channels_twilio_service_key", "messaging_service_sid")];

/// Notes how a test or delivery through the channel went: `Ok` a success, `Err((cause, what
/// the provider said))` a failure that was the channel's.
pub async fn record_health(
    tx: &mut TenantTx,
    id: ChannelId,
    outcome: Result<(), (&str, &str)>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    match outcome {
        Ok(()) => {
            sqlx::query!("UPDATE channels SET health_ok_at = now() WHERE tenant_id = $1 AND id = $2", tenant, id.0)
                .execute(tx.conn())
                .await?
        }
        Err((code, said)) => {
            sqlx::query!(
                "UPDATE channels SET health_error_code = $3, health_error = $4, health_error_at = now()
                 WHERE tenant_id = $1 AND id = $2",
                tenant,
                id.0,
                code,
                said
            )
            .execute(tx.conn())
            .await?
        }
    };
    Ok(())
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Channel>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        Record,
        "SELECT id, kind, name, enabled, account_sid, sender, messaging_service_sid, secret_hint, bot_username,
                notify_chat_id, notify_locale, health_ok_at, health_error_code, health_error, health_error_at,
                created_at, updated_at
         FROM channels WHERE tenant_id = $1 ORDER BY kind, lower(name), id",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(Channel::try_from).collect()
}

pub async fn get(tx: &mut TenantTx, id: ChannelId) -> Result<Channel, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Record,
        "SELECT id, kind, name, enabled, account_sid, sender, messaging_service_sid, secret_hint, bot_username,
                notify_chat_id, notify_locale, health_ok_at, health_error_code, health_error, health_error_at,
                created_at, updated_at
         FROM channels WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .try_into()
}

/// The channel's sealed secrets.
pub async fn secrets(tx: &mut TenantTx, id: ChannelId) -> Result<Vec<u8>, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT secrets FROM channels WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)
}

/// Every channel's sealed secrets, locked until the transaction ends (to seal them again).
pub async fn all_secrets_for_update(tx: &mut TenantTx) -> Result<Vec<(ChannelId, Vec<u8>)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!("SELECT id, secrets FROM channels WHERE tenant_id = $1 ORDER BY id FOR UPDATE", tenant)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|r| (ChannelId(r.id), r.secrets)).collect())
}

/// Replaces a channel's sealed secrets, and nothing else.
pub async fn set_secrets(tx: &mut TenantTx, id: ChannelId, sealed: &[u8]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("UPDATE channels SET secrets = $3 WHERE tenant_id = $1 AND id = $2", tenant, id.0, sealed)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The enabled channel that carries `kind`'s messages: `prefer` if it is one, else the oldest.
pub async fn enabled(
    tx: &mut TenantTx,
    kind: ChannelKind,
    prefer: Option<ChannelId>,
) -> Result<Option<ChannelId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "SELECT id FROM channels WHERE tenant_id = $1 AND kind = $2 AND enabled
         ORDER BY id = $3 DESC NULLS LAST, id LIMIT 1",
        tenant,
        kind.as_str(),
        prefer.map(|c| c.0)
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(id.map(ChannelId))
}

/// The kinds of the tenant's enabled channels.
pub async fn enabled_kinds(tx: &mut TenantTx) -> Result<Vec<ChannelKind>, RepoError> {
    let tenant = tx.tenant_id().0;
    let kinds = sqlx::query_scalar!("SELECT DISTINCT kind FROM channels WHERE tenant_id = $1 AND enabled", tenant)
        .fetch_all(tx.conn())
        .await?;
    Ok(kinds.iter().filter_map(|k| k.parse().ok()).collect())
}

pub async fn insert(tx: &mut TenantTx, row: &ChannelRow<'_>) -> Result<Channel, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO channels (tenant_id, kind, name, account_sid, sender, messaging_service_sid, webhook_key, secrets,
                               secret_hint, notify_chat_id, notify_locale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        tenant,
        row.kind.as_str(),
        row.name,
        row.account_sid,
        row.sender,
        row.messaging_service_sid,
        row.webhook_key,
        row.secrets,
        row.secret_hint,
        row.notify_chat_id,
        row.notify_locale
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?;
    get(tx, ChannelId(id)).await
}

/// Replaces a channel's fields; its kind stays what it was (`row.kind` must match).
pub async fn update(tx: &mut TenantTx, id: ChannelId, row: &ChannelRow<'_>) -> Result<Channel, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE channels SET name = $3, account_sid = $4, sender = $5, messaging_service_sid = $6, webhook_key = $7,
                secrets = $8, secret_hint = $9, notify_chat_id = $10, notify_locale = $11, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND kind = $12",
        tenant,
        id.0,
        row.name,
        row.account_sid,
        row.sender,
        row.messaging_service_sid,
        row.webhook_key,
        row.secrets,
        row.secret_hint,
        row.notify_chat_id,
        row.notify_locale,
        row.kind.as_str()
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?;
    if done.rows_affected() == 0 {
        return Err(RepoError::NotFound);
    }
    get(tx, id).await
}

pub async fn set_enabled(tx: &mut TenantTx, id: ChannelId, enabled: bool) -> Result<Channel, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE channels SET enabled = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        enabled
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(RepoError::NotFound);
    }
    get(tx, id).await
}

/// What the provider said its bot is called (Telegram's getMe).
pub async fn set_bot_username(tx: &mut TenantTx, id: ChannelId, username: Option<&str>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("UPDATE channels SET bot_username = $3 WHERE tenant_id = $1 AND id = $2", tenant, id.0, username)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut TenantTx, id: ChannelId) -> Result<Channel, RepoError> {
    let channel = get(tx, id).await?;
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM channels WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    Ok(channel)
}

/// Pre-tenant: the Twilio channels a webhook may be for (any tenant's), best first: those with
/// its Messaging Service, then those with its number, in its account. Only a signature checked
/// with a channel's own auth token says which one it is.
pub async fn twilio_candidates(
    pool: &PgPool,
    account_sid: &str,
    kind: ChannelKind,
    number: &str,
    service_sid: Option<&str>,
) -> Result<Vec<(TenantId, ChannelId)>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", channel_id AS "channel_id!" FROM twilio_channels($1, $2, $3, $4)"#,
        account_sid,
        kind.as_str(),
        number,
        service_sid
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (TenantId(r.tenant_id), ChannelId(r.channel_id))).collect())
}

/// Pre-tenant: the Telegram channel whose webhook secret hashes to `key`.
pub async fn find_telegram(pool: &PgPool, key: &[u8]) -> Result<Option<(TenantId, ChannelId)>, RepoError> {
    let row =
        sqlx::query!(r#"SELECT tenant_id AS "tenant_id!", channel_id AS "channel_id!" FROM telegram_channel($1)"#, key)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|r| (TenantId(r.tenant_id), ChannelId(r.channel_id))))
}
