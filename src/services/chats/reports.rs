//! Delivery reports: a provider's callback or the delivery worker saying where a message
//! stands, applied only when it moves the message forward.

use crate::db::TenantTx;
use crate::domain::chat::{ChatId, DeliveryStatus, MessageId};
use crate::domain::{DomainEvent, TenantId};
use crate::repos::messages::{self};
use crate::services::ServiceError;
use crate::transport::twilio;

use super::ChatService;

/// A Twilio status callback, as its fields say it: the message's sid, Twilio's status word, and
/// its error code with Twilio's message, if any.
pub struct TwilioReport<'a> {
    pub sid: &'a str,
    pub status: &'a str,
    pub error: Option<(&'a str, Option<&'a str>)>,
}

impl ChatService {
    /// Applies a delivery report (from a provider's callback or the delivery worker). A report
    /// that would move the message back, or repeats its state, changes nothing: `false`.
    pub async fn report(
        &self,
        tenant: TenantId,
        message: MessageId,
        reported: DeliveryStatus,
        provider_message_id: Option<&str>,
        error: Option<(&str, &str)>,
    ) -> Result<bool, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let changed = report_in(&mut tx, message, reported, provider_message_id, error).await?;
        tx.commit().await?;
        if let Some((chat_id, status)) = changed {
            self.events.publish(DomainEvent::MessageStatusChanged {
                tenant_id: tenant,
                chat_id,
                message_id: message,
                status,
            });
        }
        Ok(changed.is_some())
    }

    /// Applies Twilio's status callback: `false` when it changes nothing (a state before
    /// sending, a sid that names no message of ours — or an earlier attempt of one since sent
    /// again — or a report behind the message).
    pub async fn report_from_twilio(&self, tenant: TenantId, report: TwilioReport<'_>) -> Result<bool, ServiceError> {
        // queued, accepted, scheduled, sending: nothing a message here does not show already.
        let Some(reported) = twilio::delivery_status(report.status) else { return Ok(false) };
        let Some(message) = self.by_provider_id(tenant, report.sid).await? else { return Ok(false) };
        let error = report.error.map(|(code, message)| {
            let reason = twilio::reason(code).map(str::to_owned).unwrap_or_else(|| match message {
                Some(m) => format!("Twilio error {code}: {m}"),
                None => format!("Twilio error {code}"),
            });
            (code, reason)
        });
        let error = error.as_ref().map(|(code, reason)| (*code, reason.as_str()));
        self.report(tenant, message, reported, None, error).await
    }

    /// The outbound message a provider's id names, if it is one of ours.
    pub async fn by_provider_id(&self, tenant: TenantId, provider_id: &str) -> Result<Option<MessageId>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let id = messages::by_provider_id(&mut tx, provider_id).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// The report applied inside `tx`: the chat and new status when the message moved.
pub(crate) async fn report_in(
    tx: &mut TenantTx,
    id: MessageId,
    reported: DeliveryStatus,
    provider_message_id: Option<&str>,
    error: Option<(&str, &str)>,
) -> Result<Option<(ChatId, DeliveryStatus)>, ServiceError> {
    let message = messages::message_for_update(tx, id).await?;
    let Some(now) = message.status.and_then(|s| s.after(reported)) else {
        return Ok(None);
    };
    messages::set_status(tx, id, now, provider_message_id, error).await?;
    Ok(Some((message.chat_id, now)))
}
