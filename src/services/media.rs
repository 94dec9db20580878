//! The media worker: fetches the files of inbound messages from their provider (Twilio's
//! MediaUrl with the account's basic auth, Telegram's getFile), stores them as attachments,
//! and retries with backoff when the provider fails. Started by `crm serve`.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::DomainEvent;
use crate::domain::attachment::{FileSpec, MAX_FILE_BYTES};
use crate::domain::channel::Credentials;
use crate::events::EventBus;
use crate::repos::media_downloads::{self, Claim};
use crate::repos::messages::{self, NewAttachment};

use super::{ChannelService, FileStore, ServiceError};

/// Attempts before a file is given up (the message keeps its text).
const MAX_ATTEMPTS: i32 = 8;

#[derive(Clone)]
pub struct MediaWorker {
    pool: PgPool,
    events: EventBus,
    channels: ChannelService,
    files: FileStore,
    poll: Duration,
}

impl MediaWorker {
    pub fn new(pool: PgPool, events: EventBus, channels: ChannelService, files: FileStore) -> Self {
        Self { pool, events, channels, files, poll: Duration::from_secs(1) }
    }

    /// Fetches until `stop` turns true.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let poll = self.poll;
        super::polling::spawn("media worker", poll, None, stop, move || {
            let worker = self.clone();
            async move { worker.run_once().await.map(|n| n > 0) }
        })
    }

    /// Claims due downloads (up to 10) and fetches them; returns how many it handled.
    pub async fn run_once(&self) -> Result<usize, ServiceError> {
        let claims = media_downloads::claim(&self.pool, 10, Duration::from_secs(120)).await?;
        for claim in &claims {
            if let Err(e) = self.fetch(claim).await {
                tracing::error!(download = claim.id, error = %e, "media download failed to record");
            }
        }
        Ok(claims.len())
    }

    async fn fetch(&self, claim: &Claim) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let download = media_downloads::get(&mut tx, claim.id).await?;
        tx.commit().await?;
        let fetched = match self.channels.credentials(claim.tenant_id, download.channel_id).await? {
            Credentials::Twilio { account_sid, auth_token, .. } => self
                .channels
                .twilio(&account_sid, &auth_token)
                .fetch(&download.source, MAX_FILE_BYTES)
                .await
                .map(|(bytes, said)| (bytes, said, download.file_name.clone())),
            Credentials::Telegram { bot_token, .. } => match self.channels.telegram(&bot_token) {
                Ok(bot) => bot.fetch(&download.source, MAX_FILE_BYTES).await.map(|(bytes, path)| {
                    (bytes, download.content_type.clone(), download.file_name.clone().or(Some(path)))
                }),
                Err(e) => Err(e),
            },
        };
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        match fetched {
            Ok((bytes, said_type, name)) => {
                let said = said_type.or(download.content_type.clone());
                let spec = FileSpec::received(name.as_deref(), said.as_deref(), &bytes);
                let key = FileStore::new_key(claim.tenant_id);
                let size = bytes.len() as i64;
                self.files.put(&key, bytes).await?;
                let attachment = NewAttachment {
                    file_name: &spec.file_name,
                    content_type: spec.content_type,
                    size_bytes: size,
                    storage_key: &key,
                };
                let stored = async {
                    messages::insert_attachment(&mut tx, download.message_id, &attachment).await?;
                    media_downloads::done(&mut tx, download.id).await?;
                    tx.commit().await?;
                    Ok::<_, ServiceError>(())
                }
                .await;
                if let Err(e) = stored {
                    self.files.delete_all(&[key]).await;
                    return Err(e);
                }
                self.events.publish(DomainEvent::AttachmentsArrived {
                    tenant_id: claim.tenant_id,
                    chat_id: download.chat_id,
                    message_id: download.message_id,
                });
            }
            Err(reason) if claim.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(download = claim.id, %reason, "media download given up");
                media_downloads::done(&mut tx, download.id).await?;
                tx.commit().await?;
            }
            Err(reason) => {
                let delay = crate::services::delivery::backoff(Duration::from_secs(5), claim.attempts);
                tracing::info!(download = claim.id, attempt = claim.attempts, ?delay, %reason, "media download will be retried");
                media_downloads::retry_later(&mut tx, download.id, delay, &reason).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
