//! The delivery worker: takes due messages from the outbox, each under a short lease it renews
//! while it works, hands each to the `Provider` of its transport, and records what came of it:
//! `sent` with the provider's id, a retry with backoff, or `failed` with the provider's reason.
//!
//! Nothing is sent twice by our own doing: every call to a provider is recorded before it is
//! made, and a message whose last call has no known outcome (its node died, the provider did
//! not answer in time) is looked up at the provider before it is ever sent again — adopted if
//! the provider has it, sent again if not, and left `unknown` for a person where the provider
//! cannot be asked. Several workers, on several nodes, may run at once.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::DomainEvent;
use crate::domain::channel::ChannelId;
use crate::domain::chat::Message;
use crate::domain::chat::{ChatId, DeliveryStatus, RetryCause};
use crate::events::EventBus;
use crate::repos::messages;
use crate::repos::outbox::{self, DeliveryClaim, OpenAttempt, Outcome};
use crate::transport::{Lookup, Outbound, OutboundFile, Provider, SendError};

use super::ServiceError;
use super::chats::report_in;
use super::files::{FileStore, MediaLinks};
use super::providers::Providers;

/// What a message that ends `unknown` says, for people to read (the page translates its code).
const UNKNOWN_REASON: &str = "The provider's answer was lost and it cannot be asked whether the message went out: \
                              check with the client, and retry if it did not arrive.";

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a claimed message is the worker's without a sign of life; renewed every third
    /// of it while the worker works on it. A dead node's messages are taken over this soon.
    pub lease: Duration,
    /// How long a provider may take before the call counts as unanswered (its outcome unknown).
    pub timeout: Duration,
    /// How often to look for due messages when nothing wakes the worker.
    pub poll: Duration,
    /// Passes (claims) before a message that keeps failing softly ends for good.
    pub max_attempts: i32,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub first_retry: Duration,
    /// How many messages one worker sends at once.
    pub concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            max_attempts: crate::domain::chat::MAX_DELIVERY_ATTEMPTS,
            first_retry: Duration::from_secs(5),
            concurrency: 8,
        }
    }
}

/// The delay before attempt `attempt + 1`: doubling from `first`, at most an hour.
pub fn backoff(first: Duration, attempt: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.clamp(1, 20) as u32 - 1);
    first.saturating_mul(factor).min(Duration::from_secs(3600))
}

/// What a reconciliation decided.
enum Reconciled {
    /// The message is settled (adopted, ended unknown) or left for later: nothing more now.
    Done,
    /// The provider has no such message: send it.
    SendAgain,
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
        super::polling::spawn("delivery worker", poll, None, stop, move || {
            let worker = self.clone();
            async move { worker.run_once().await.map(|n| n > 0) }
        })
    }

    /// Claims due messages (as many as it sends at once) and delivers them; returns how many
    /// it claimed.
    pub async fn run_once(&self) -> Result<usize, ServiceError> {
        let limit = i32::try_from(self.settings.concurrency.max(1)).unwrap_or(i32::MAX);
        let claims = outbox::claim_deliveries(&self.pool, limit, self.settings.lease).await?;
        futures_util::future::join_all(claims.iter().map(|claim| async move {
            if let Err(e) = self.deliver(claim).await {
                tracing::error!(message = claim.message_id.0, error = %e, "delivery step failed; it will be tried again");
                self.defer(claim, &e.to_string()).await;
            }
        }))
        .await;
        Ok(claims.len())
    }

    async fn deliver(&self, claim: &DeliveryClaim) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let Some(last_error) = outbox::hold(&mut tx, claim).await? else {
            return Ok(()); // Taken over or settled since it was claimed.
        };
        let open = outbox::open_attempt(&mut tx, claim.message_id).await?;
        if claim.pass > self.settings.max_attempts {
            return self.give_up(tx, claim, open, last_error.as_deref()).await;
        }
        let mut message = messages::message(&mut tx, claim.message_id).await?;
        // A scheduled message's time has come: it is queued now, in this worker's hands.
        if message.status == Some(DeliveryStatus::Scheduled) && messages::release_scheduled(&mut tx, message.id).await?
        {
            message.status = Some(DeliveryStatus::Queued);
        }
        let to = match message.contact_id {
            Some(contact) => messages::destination(&mut tx, contact, message.transport).await?,
            None => None,
        };
        let wrote_on = messages::last_inbound_channel(&mut tx, message.chat_id, message.transport).await?;
        tx.commit().await?;
        if message.status != Some(DeliveryStatus::Queued) {
            // Ended since it was queued (an explicit retry queues it anew): nothing to send.
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            outbox::dequeue(&mut tx, claim.message_id).await?;
            tx.commit().await?;
            return Ok(());
        }

        // An unanswered call goes back to the channel it went through, to be asked about.
        let prefer = open.and_then(|a| a.channel).or(wrote_on);
        let found = self.providers.find(claim.tenant_id, message.transport, prefer).await?;
        let (channel, provider, to) = match (to, found) {
            (Some(to), Some((channel, provider))) => (channel, provider, to),
            (to, _) => {
                let (code, reason) = match to {
                    None => ("contact_removed", "The contact this message was for has been removed.".to_owned()),
                    Some(_) => ("no_channel", format!("No {} channel is set up.", message.transport.as_str())),
                };
                return match open {
                    Some(attempt) => self.end_unknown(claim, &attempt, &reason).await,
                    None => {
                        self.record(claim, None, None, Err(SendError::Rejected { code: code.into(), reason })).await
                    }
                };
            }
        };
        let outbound = self.outbound(claim, &message, to).await?;
        if let Some(attempt) = open {
            match self.reconcile(claim, &attempt, provider.as_ref(), &outbound).await? {
                Reconciled::Done => return Ok(()),
                Reconciled::SendAgain => {}
            }
        }

        // "Attempt started" is on record before the provider hears of it.
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        if outbox::hold(&mut tx, claim).await?.is_none() {
            return Ok(());
        }
        let attempt = outbox::start_attempt(&mut tx, claim.message_id, channel).await?;
        tx.commit().await?;
        let answer = self.heartbeat(claim, tokio::time::timeout(self.settings.timeout, provider.send(&outbound))).await;
        let outcome =
            answer.unwrap_or_else(|_| Err(SendError::Unknown { reason: "the provider did not answer in time".into() }));
        self.record(claim, Some(&attempt), channel, outcome).await
    }

    /// The message as the provider takes it: where it goes, its text and its files.
    async fn outbound(&self, claim: &DeliveryClaim, message: &Message, to: String) -> Result<Outbound, ServiceError> {
        let mut files = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            files.push(OutboundFile {
                name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                bytes: self.files.get(&a.storage_key).await?,
                url: self.links.link((claim.tenant_id, message.chat_id, a.id), chrono::Utc::now()),
            });
        }
        Ok(Outbound {
            tenant_id: claim.tenant_id,
            message_id: message.id,
            transport: message.transport,
            to,
            body: message.body.clone(),
            files,
        })
    }

    /// Finds out what became of a call whose answer was lost, before anything is sent again.
    async fn reconcile(
        &self,
        claim: &DeliveryClaim,
        attempt: &OpenAttempt,
        provider: &dyn Provider,
        outbound: &Outbound,
    ) -> Result<Reconciled, ServiceError> {
        let asked = self.heartbeat(
            claim,
            tokio::time::timeout(self.settings.timeout, provider.lookup(outbound, attempt.started_at)),
        );
        let sightings = match asked.await {
            Ok(Lookup::Found(sightings)) => sightings,
            Ok(Lookup::Unsupported) => {
                self.end_unknown(claim, attempt, UNKNOWN_REASON).await?;
                return Ok(Reconciled::Done);
            }
            Ok(Lookup::Failed(reason)) => {
                self.retry_lookup(claim, &reason).await?;
                return Ok(Reconciled::Done);
            }
            Err(_) => {
                self.retry_lookup(claim, "the provider did not answer in time").await?;
                return Ok(Reconciled::Done);
            }
        };
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let ids: Vec<String> = sightings.iter().map(|s| s.provider_id.clone()).collect();
        let known = outbox::known_provider_ids(&mut tx, &ids).await?;
        let ours = sightings.into_iter().filter(|s| !known.contains(&s.provider_id)).min_by_key(|s| s.created_at);
        let Some(sighting) = ours else {
            let age = chrono::Utc::now() - attempt.started_at;
            if age.to_std().unwrap_or_default() < self.settings.timeout {
                // The call may still be on its way (a node cut off from the database): ask
                // again once it cannot be.
                let wait = self.settings.timeout.saturating_sub(age.to_std().unwrap_or_default());
                let note = "The provider's answer was lost; asking it again before sending";
                outbox::release(&mut tx, claim, wait, Some((RetryCause::AnswerLost, note))).await?;
                tx.commit().await?;
                return Ok(Reconciled::Done);
            }
            if !outbox::end_attempt(&mut tx, attempt.id, Outcome::Absent, None, None).await? {
                return Ok(Reconciled::Done);
            }
            tx.commit().await?;
            tracing::info!(message = claim.message_id.0, "the provider has no such message: sending it again");
            return Ok(Reconciled::SendAgain);
        };
        if !outbox::end_attempt(&mut tx, attempt.id, Outcome::Adopted, Some(&sighting.provider_id), None).await? {
            return Ok(Reconciled::Done);
        }
        if let Some(channel) = attempt.channel {
            messages::set_channel(&mut tx, claim.message_id, channel).await?;
        }
        let mut changed =
            report_in(&mut tx, claim.message_id, DeliveryStatus::Sent, Some(&sighting.provider_id), None).await?;
        if sighting.status != DeliveryStatus::Sent {
            let error = sighting.error.as_ref().map(|(code, reason)| (code.as_str(), reason.as_str()));
            changed = report_in(&mut tx, claim.message_id, sighting.status, None, error).await?.or(changed);
        }
        outbox::dequeue(&mut tx, claim.message_id).await?;
        tx.commit().await?;
        tracing::info!(message = claim.message_id.0, sid = %sighting.provider_id, "found at the provider: not sent again");
        self.announce(claim, changed);
        Ok(Reconciled::Done)
    }

    /// Records a call's outcome (`attempt` `None`: the message could not be sent at all) and
    /// the channel it went through, in one transaction. The attempt's end decides: if another
    /// node settled it first, its word stands and nothing is written.
    async fn record(
        &self,
        claim: &DeliveryClaim,
        attempt: Option<&OpenAttempt>,
        channel: Option<ChannelId>,
        outcome: Result<String, SendError>,
    ) -> Result<(), ServiceError> {
        let id = claim.message_id;
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        if let Some(channel) = channel {
            note_health(&mut tx, channel, &outcome).await?;
        }
        let (ended, sid, error) = match &outcome {
            Ok(sid) => (Outcome::Sent, Some(sid.as_str()), None),
            Err(SendError::Retry { reason, .. } | SendError::Rejected { reason, .. }) => {
                (Outcome::Refused, None, Some(reason.as_str()))
            }
            Err(SendError::Unknown { reason }) => {
                // The call stays open: the next pass asks the provider before sending again.
                tracing::warn!(message = id.0, %reason, "no answer from the provider; it will be asked before any resend");
                let note = format!("No answer from the provider ({reason}); asking it before sending again");
                outbox::release(&mut tx, claim, self.settings.first_retry, Some((RetryCause::AnswerLost, &note)))
                    .await?;
                tx.commit().await?;
                return Ok(());
            }
        };
        if let Some(attempt) = attempt
            && !outbox::end_attempt(&mut tx, attempt.id, ended, sid, error).await?
        {
            return Ok(());
        }
        let changed = match outcome {
            Ok(provider_id) => {
                outbox::dequeue(&mut tx, id).await?;
                if let Some(channel) = channel {
                    messages::set_channel(&mut tx, id, channel).await?;
                }
                report_in(&mut tx, id, DeliveryStatus::Sent, Some(&provider_id), None).await?
            }
            Err(SendError::Retry { cause, reason, after }) if claim.pass < self.settings.max_attempts => {
                let delay = after.unwrap_or_else(|| backoff(self.settings.first_retry, claim.pass));
                tracing::info!(message = id.0, attempt = claim.pass, ?delay, %reason, "delivery will be retried");
                outbox::release(&mut tx, claim, delay, Some((cause, &reason))).await?;
                // Still queued, now retrying: pages show the attempt and its reason.
                Some((messages::message(&mut tx, id).await?.chat_id, DeliveryStatus::Queued))
            }
            Err(SendError::Retry { reason, .. }) => {
                outbox::dequeue(&mut tx, id).await?;
                let reason = format!("Gave up after {} attempts: {reason}", claim.pass);
                report_in(&mut tx, id, DeliveryStatus::Failed, None, Some(("retries_exhausted", &reason))).await?
            }
            Err(SendError::Rejected { code, reason }) => {
                outbox::dequeue(&mut tx, id).await?;
                report_in(&mut tx, id, DeliveryStatus::Failed, None, Some((&code, &reason))).await?
            }
            Err(SendError::Unknown { .. }) => unreachable!("handled above"),
        };
        tx.commit().await?;
        self.announce(claim, changed);
        Ok(())
    }

    /// Past the limit of passes: the message ends, `unknown` if a call of it may have gone out,
    /// else `failed` with the last reason it had.
    async fn give_up(
        &self,
        mut tx: TenantTx,
        claim: &DeliveryClaim,
        open: Option<OpenAttempt>,
        last_error: Option<&str>,
    ) -> Result<(), ServiceError> {
        let last = last_error.unwrap_or("no reason was recorded");
        let ended = match open {
            Some(attempt) => {
                outbox::end_attempt(&mut tx, attempt.id, Outcome::Unknown, None, Some(last)).await?;
                let reason = format!("{UNKNOWN_REASON} ({last})");
                messages::end_queued(&mut tx, claim.message_id, DeliveryStatus::Unknown, ("outcome_unknown", &reason))
                    .await?
                    .map(|chat| (chat, DeliveryStatus::Unknown))
            }
            None => {
                let reason = format!("Gave up after {} attempts: {last}", claim.pass - 1);
                messages::end_queued(&mut tx, claim.message_id, DeliveryStatus::Failed, ("retries_exhausted", &reason))
                    .await?
                    .map(|chat| (chat, DeliveryStatus::Failed))
            }
        };
        outbox::dequeue(&mut tx, claim.message_id).await?;
        tx.commit().await?;
        tracing::warn!(message = claim.message_id.0, passes = claim.pass - 1, last, "delivery given up");
        self.announce(claim, ended);
        Ok(())
    }

    /// The call's outcome cannot be known: the message ends `unknown`, for a person to retry.
    async fn end_unknown(
        &self,
        claim: &DeliveryClaim,
        attempt: &OpenAttempt,
        reason: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        if !outbox::end_attempt(&mut tx, attempt.id, Outcome::Unknown, None, Some(reason)).await? {
            return Ok(());
        }
        let ended =
            messages::end_queued(&mut tx, claim.message_id, DeliveryStatus::Unknown, ("outcome_unknown", reason))
                .await?;
        outbox::dequeue(&mut tx, claim.message_id).await?;
        tx.commit().await?;
        self.announce(claim, ended.map(|chat| (chat, DeliveryStatus::Unknown)));
        Ok(())
    }

    /// The provider could not be asked about a lost answer: ask again later (the limit of
    /// passes ends it `unknown`).
    async fn retry_lookup(&self, claim: &DeliveryClaim, reason: &str) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let note = format!("Could not ask the provider whether it was sent: {reason}");
        let delay = backoff(self.settings.first_retry, claim.pass);
        outbox::release(&mut tx, claim, delay, Some((RetryCause::AnswerLost, &note))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a failure of our own (the database, the file store): due again after a backoff,
    /// its reason kept for people and for the message's end if it never goes. Best effort: if
    /// even this fails, the lease runs out and another pass comes all the same.
    async fn defer(&self, claim: &DeliveryClaim, error: &str) {
        let delay = backoff(self.settings.first_retry, claim.pass);
        let released = async {
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            outbox::release(&mut tx, claim, delay, Some((RetryCause::Internal, error))).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        };
        if let Err(e) = released.await {
            tracing::warn!(message = claim.message_id.0, error = %e, "could not put the message back; its lease will");
        }
    }

    /// Runs `work` while renewing the claim's lease, so no other node takes the message over
    /// while this one is still at it.
    async fn heartbeat<F: Future>(&self, claim: &DeliveryClaim, work: F) -> F::Output {
        let beat = async {
            loop {
                tokio::time::sleep(self.settings.lease / 3).await;
                let renewed = async {
                    let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
                    let held = outbox::renew(&mut tx, claim, self.settings.lease).await?;
                    tx.commit().await?;
                    Ok::<_, ServiceError>(held)
                };
                match renewed.await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(message = claim.message_id.0, "lease lost while the provider was called")
                    }
                    Err(e) => tracing::warn!(message = claim.message_id.0, error = %e, "lease not renewed"),
                }
            }
        };
        tokio::select! {
            out = work => out,
            () = beat => unreachable!("the heartbeat never ends"),
        }
    }

    fn announce(&self, claim: &DeliveryClaim, changed: Option<(ChatId, DeliveryStatus)>) {
        if let Some((chat_id, status)) = changed {
            self.events.publish(DomainEvent::MessageStatusChanged {
                tenant_id: claim.tenant_id,
                chat_id,
                message_id: claim.message_id,
                status,
            });
        }
    }
}

/// What a delivery says of its channel's health: a success, or a failure that was the
/// channel's (no answer, busy, credentials refused). A refusal of one message (a bad number)
/// says nothing of the channel.
async fn note_health(
    tx: &mut TenantTx,
    channel: ChannelId,
    outcome: &Result<String, SendError>,
) -> Result<(), ServiceError> {
    let health = match outcome {
        Ok(_) => Ok(()),
        Err(SendError::Unknown { reason }) => Err(("no_answer", reason.as_str())),
        Err(SendError::Retry { reason, .. }) => Err(("delivery_retrying", reason.as_str())),
        Err(SendError::Rejected { code, reason }) if code == "20003" || code == "invalid_token" => {
            Err(("bad_credentials", reason.as_str()))
        }
        Err(SendError::Rejected { .. }) => return Ok(()),
    };
    crate::repos::channels::record_health(tx, channel, health).await?;
    Ok(())
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
