//! The delivery worker: takes due messages from the outbox, hands each to the `Provider` of
//! its transport, and records what came of it — `sent` with the provider's id, a retry with
//! backoff, or `failed` with the provider's reason. Several workers may run at once.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::DomainEvent;
use crate::domain::channel::ChannelId;
use crate::domain::chat::DeliveryStatus;
use crate::events::EventBus;
use crate::repos::messages;
use crate::repos::outbox::{self, DeliveryClaim};

use crate::services::ServiceError;
use crate::services::chats::report_in;
use crate::services::files::{FileStore, MediaLinks};

use super::{Outbound, OutboundFile, Providers, SendError};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a claimed message is the worker's; past it, another worker may send it.
    pub lease: Duration,
    /// How long a provider may take before the attempt counts as a time-out.
    pub timeout: Duration,
    /// How often to look for due messages when nothing wakes the worker.
    pub poll: Duration,
    /// Attempts before a message that keeps failing softly is failed for good.
    pub max_attempts: i32,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub first_retry: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            max_attempts: 10,
            first_retry: Duration::from_secs(5),
        }
    }
}

/// The delay before attempt `attempt + 1`: doubling from `first`, at most an hour.
pub fn backoff(first: Duration, attempt: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.clamp(1, 20) as u32 - 1);
    first.saturating_mul(factor).min(Duration::from_secs(3600))
}

#[derive(Clone)]
pub struct DeliveryWorker {
    pool: PgPool,
    events: EventBus,
    providers: Providers,
    /// A message's files: their bytes, and links to them for providers that fetch them.
    files: FileStore,
    links: MediaLinks,
    settings: Settings,
}

impl DeliveryWorker {
    pub fn new(
        pool: PgPool,
        events: EventBus,
        providers: Providers,
        (files, links): (FileStore, MediaLinks),
        settings: Settings,
    ) -> Self {
        Self { pool, events, providers, files, links, settings }
    }

    /// Delivers until `stop` turns true.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let poll = self.settings.poll;
        crate::services::polling::spawn("delivery worker", poll, None, stop, move || {
            let worker = self.clone();
            async move { worker.run_once().await.map(|n| n > 0) }
        })
    }

    /// Claims the due messages (up to 20) and delivers them; returns how many it handled.
    pub async fn run_once(&self) -> Result<usize, ServiceError> {
        let claims = outbox::claim_deliveries(&self.pool, 20, self.settings.lease).await?;
        for claim in &claims {
            if let Err(e) = self.deliver(claim).await {
                tracing::error!(message = claim.message_id.0, error = %e, "delivery failed to record");
            }
        }
        Ok(claims.len())
    }

    async fn deliver(&self, claim: &DeliveryClaim) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let message = messages::message(&mut tx, claim.message_id).await?;
        let to = match message.contact_id {
            Some(contact) => messages::destination(&mut tx, contact, message.transport).await?,
            None => None,
        };
        let wrote_on = messages::last_inbound_channel(&mut tx, message.chat_id, message.transport).await?;
        tx.commit().await?;
        if message.status != Some(DeliveryStatus::Queued) {
            // Sent already (a report beat the worker), or failed since: nothing to send.
            return self.finish(claim, None, None).await;
        }
        let found = self.providers.find(claim.tenant_id, message.transport, wrote_on).await?;
        let channel = found.as_ref().and_then(|(channel, _)| *channel);
        let outcome = match (to, found) {
            (None, _) => Err(SendError::Rejected {
                code: "contact_removed".into(),
                reason: "The contact this message was for has been removed.".into(),
            }),
            (_, None) => Err(SendError::Rejected {
                code: "no_channel".into(),
                reason: format!("No {} channel is set up.", message.transport.as_str()),
            }),
            (Some(to), Some((_, provider))) => {
                let mut files = Vec::with_capacity(message.attachments.len());
                for a in &message.attachments {
                    files.push(OutboundFile {
                        name: a.file_name.clone(),
                        content_type: a.content_type.clone(),
                        bytes: self.files.get(&a.storage_key).await?,
                        url: self.links.link((claim.tenant_id, message.chat_id, a.id), chrono::Utc::now()),
                    });
                }
                let outbound = Outbound {
                    tenant_id: claim.tenant_id,
                    message_id: message.id,
                    transport: message.transport,
                    to,
                    body: message.body.clone(),
                    files,
                };
                match tokio::time::timeout(self.settings.timeout, provider.send(&outbound)).await {
                    Ok(result) => result,
                    Err(_) => {
                        Err(SendError::Retry { reason: "the provider did not answer in time".into(), after: None })
                    }
                }
            }
        };
        self.finish(claim, channel, Some(outcome)).await
    }

    /// Records an attempt's outcome (`None`: there was nothing to send) and the channel it went
    /// through, in one transaction.
    async fn finish(
        &self,
        claim: &DeliveryClaim,
        channel: Option<ChannelId>,
        outcome: Option<Result<String, SendError>>,
    ) -> Result<(), ServiceError> {
        let id = claim.message_id;
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let changed = match outcome {
            None => {
                outbox::dequeue(&mut tx, id).await?;
                None
            }
            Some(Ok(provider_id)) => {
                outbox::dequeue(&mut tx, id).await?;
                if let Some(channel) = channel {
                    messages::set_channel(&mut tx, id, channel).await?;
                }
                report_in(&mut tx, id, DeliveryStatus::Sent, Some(&provider_id), None).await?
            }
            Some(Err(SendError::Retry { reason, after })) if claim.attempt < self.settings.max_attempts => {
                let delay = after.unwrap_or_else(|| backoff(self.settings.first_retry, claim.attempt));
                tracing::info!(message = id.0, attempt = claim.attempt, ?delay, %reason, "delivery will be retried");
                outbox::retry_later(&mut tx, id, delay, &reason).await?;
                None
            }
            Some(Err(SendError::Retry { reason, .. })) => {
                outbox::dequeue(&mut tx, id).await?;
                let reason = format!("Gave up after {} attempts: {reason}", claim.attempt);
                report_in(&mut tx, id, DeliveryStatus::Failed, None, Some(("retries_exhausted", &reason))).await?
            }
            Some(Err(SendError::Rejected { code, reason })) => {
                outbox::dequeue(&mut tx, id).await?;
                report_in(&mut tx, id, DeliveryStatus::Failed, None, Some((&code, &reason))).await?
            }
        };
        tx.commit().await?;
        if let Some((chat_id, status)) = changed {
            let tenant_id = claim.tenant_id;
            self.events.publish(DomainEvent::MessageStatusChanged { tenant_id, chat_id, message_id: id, status });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        let first = Duration::from_secs(5);
        assert_eq!(backoff(first, 1), Duration::from_secs(5));
        assert_eq!(backoff(first, 2), Duration::from_secs(10));
        assert_eq!(backoff(first, 4), Duration::from_secs(40));
        assert_eq!(backoff(first, 30), Duration::from_secs(3600));
    }
}
