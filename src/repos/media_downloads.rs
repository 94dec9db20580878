//! The media_downloads table: files of inbound messages still to fetch from their provider.

use std::time::Duration;

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::domain::channel::ChannelId;
use crate::domain::chat::{ChatId, MessageId};

use super::RepoError;

/// A file to fetch, as the webhook described it.
pub struct NewDownload<'a> {
    /// Twilio: the MediaUrl; Telegram: the file_id.
    pub source: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

pub async fn insert(
    tx: &mut TenantTx,
    message: MessageId,
    channel: ChannelId,
    d: &NewDownload<'_>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO media_downloads (tenant_id, message_id, channel_id, source, file_name, content_type)
         VALUES ($1, $2, $3, $4, $5, $6)",
        tenant,
        message.0,
        channel.0,
        d.source,
        d.file_name,
        d.content_type
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A download claimed for a while by one worker.
#[derive(Debug, Clone)]
pub struct Claim {
    pub tenant_id: TenantId,
    pub id: i64,
    pub attempts: i32,
}

pub async fn claim(pool: &PgPool, limit: i64, lease: Duration) -> Result<Vec<Claim>, RepoError> {
    let lease = super::interval(lease)?;
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", attempts AS "attempts!" FROM claim_media_downloads($1, $2)"#,
        i32::try_from(limit).unwrap_or(i32::MAX),
        lease
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| Claim { tenant_id: TenantId(r.tenant_id), id: r.id, attempts: r.attempts }).collect())
}

/// A claimed download, with the message and chat it belongs to.
#[derive(Debug, Clone)]
pub struct Download {
    pub id: i64,
    pub message_id: MessageId,
    pub chat_id: ChatId,
    pub channel_id: ChannelId,
    pub source: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
}

pub async fn get(tx: &mut TenantTx, id: i64) -> Result<Download, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT d.id, d.message_id, m.chat_id, d.channel_id, d.source, d.file_name, d.content_type
         FROM media_downloads d JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
         WHERE d.tenant_id = $1 AND d.id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(Download {
        id: r.id,
        message_id: MessageId(r.message_id),
        chat_id: ChatId(r.chat_id),
        channel_id: ChannelId(r.channel_id),
        source: r.source,
        file_name: r.file_name,
        content_type: r.content_type,
    })
}

pub async fn done(tx: &mut TenantTx, id: i64) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM media_downloads WHERE tenant_id = $1 AND id = $2", tenant, id).execute(tx.conn()).await?;
    Ok(())
}

pub async fn retry_later(tx: &mut TenantTx, id: i64, delay: Duration, error: &str) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let delay = super::interval(delay)?;
    sqlx::query!(
        "UPDATE media_downloads SET due_at = now() + $3, last_error = $4 WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
        delay,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
