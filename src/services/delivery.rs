//! The delivery worker: takes due messages from the outbox, hands each to the `Provider` of
//! its transport, and records what came of it — `sent` with the provider's id, a retry with
//! backoff, or `failed` with the provider's reason. Several workers may run at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::chat::{DeliveryStatus, MessageId, Transport};
use crate::domain::{DomainEvent, TenantId};
use crate::events::EventBus;
use crate::repos::messages;
use crate::repos::outbox::{self, DeliveryClaim};

use super::ServiceError;
use super::chats::report_in;

/// One message for a provider to send.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub transport: Transport,
    /// The contact's value: an E.164 phone, a Telegram handle or chat id.
    pub to: String,
    pub body: String,
}

/// What a provider said to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (rate limit, server error, time-out), after `after` if it said.
    Retry { reason: String, after: Option<Duration> },
    /// Refused for good (an invalid number, a blocked bot): its code and a readable reason.
    Rejected { code: String, reason: String },
}

/// A way out of the CRM: Twilio, Telegram… Implementations map their errors onto `SendError`.
pub trait Provider: Send + Sync {
    /// Sends, and returns the provider's id for the message.
    fn send<'a>(&'a self, message: &'a Outbound) -> BoxFuture<'a, Result<String, SendError>>;
}

/// The provider of each transport.
#[derive(Clone, Default)]
pub struct Providers(HashMap<Transport, Arc<dyn Provider>>);

impl Providers {
    pub fn with(mut self, transport: Transport, provider: Arc<dyn Provider>) -> Self {
        self.0.insert(transport, provider);
        self
    }

    fn get(&self, transport: Transport) -> Option<&Arc<dyn Provider>> {
        self.0.get(&transport)
    }

    /// Whether a message may be written on `transport`: a note always, anything else only
    /// through a provider (`field` names the input that chose it).
    pub fn require(&self, transport: Transport, field: &'static str) -> Result<(), crate::domain::DomainError> {
        if transport == Transport::Note || self.0.contains_key(&transport) {
            Ok(())
        } else {
            Err(crate::domain::DomainError::new(field, "channel_not_configured"))
        }
    }

    /// The transports a message can go out on, in a stable order.
    pub fn transports(&self) -> Vec<Transport> {
        Transport::ALL.into_iter().filter(|t| self.0.contains_key(t)).collect()
    }
}

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
    settings: Settings,
}

impl DeliveryWorker {
    pub fn new(pool: PgPool, events: EventBus, providers: Providers, settings: Settings) -> Self {
        Self { pool, events, providers, settings }
    }

    /// Delivers until `stop` turns true.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !*stop.borrow() {
                match self.run_once().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "delivery worker"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = stop.changed() => {}
                }
            }
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
            Some(contact) => messages::destination(&mut tx, contact).await?,
            None => None,
        };
        tx.commit().await?;
        if message.status != Some(DeliveryStatus::Queued) {
            // Sent already (a report beat the worker), or failed since: nothing to send.
            return self.finish(claim, None).await;
        }
        let outcome = match (to, self.providers.get(message.transport)) {
            (None, _) => Err(SendError::Rejected {
                code: "contact_removed".into(),
                reason: "The contact this message was for has been removed.".into(),
            }),
            (_, None) => Err(SendError::Rejected {
                code: "no_channel".into(),
                reason: format!("No {} channel is set up.", message.transport.as_str()),
            }),
            (Some(to), Some(provider)) => {
                let outbound = Outbound {
                    tenant_id: claim.tenant_id,
                    message_id: message.id,
                    transport: message.transport,
                    to,
                    body: message.body.clone(),
                };
                match tokio::time::timeout(self.settings.timeout, provider.send(&outbound)).await {
                    Ok(result) => result,
                    Err(_) => {
                        Err(SendError::Retry { reason: "the provider did not answer in time".into(), after: None })
                    }
                }
            }
        };
        self.finish(claim, Some(outcome)).await
    }

    /// Records an attempt's outcome (`None`: there was nothing to send) in one transaction.
    async fn finish(
        &self,
        claim: &DeliveryClaim,
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
