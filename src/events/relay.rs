//! Between app nodes: each node sends the events it publishes through PostgreSQL's
//! NOTIFY, and publishes the events other nodes send as its own subscribers' `subscribe()`
//! would have them — so a message received by one node shows live on pages served by another.
//! Work that must happen once (notifications) listens to this node's events only.

use sqlx::PgPool;
use tokio::sync::broadcast;

use crate::domain::DomainEvent;
use crate::repos::node_signals;

use super::EventBus;

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    /// Which node published it: a node skips its own.
    node: uuid::Uuid,
    event: DomainEvent,
}

/// Starts relaying; the two tasks end when the bus does.
pub fn spawn(bus: &EventBus, pool: PgPool) -> Vec<tokio::task::JoinHandle<()>> {
    let node = uuid::Uuid::new_v4();
    let mut outgoing = bus.subscribe_local();
    let send_pool = pool.clone();
    let send = tokio::spawn(async move {
        loop {
            match outgoing.recv().await {
                Ok(event) => {
                    let payload = serde_json::to_string(&Envelope { node, event }).expect("events serialise");
                    if let Err(e) = node_signals::notify(&send_pool, &payload).await {
                        tracing::warn!(error = %e, "event not relayed to other nodes");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(missed = n, "event relay lagged"),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let bus = bus.clone();
    let receive = tokio::spawn(async move {
        let mut listener = loop {
            match node_signals::listen(&pool).await {
                Ok(l) => break l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' events; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            }
        };
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<Envelope>(n.payload()) {
                    Ok(envelope) if envelope.node != node => bus.publish_from_elsewhere(envelope.event),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "an unreadable event from another node"),
                },
                // The listener reconnects on the next call; what was sent meanwhile is missed
                // (live pages catch up when they reconnect).
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other nodes' events");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
    vec![send, receive]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{ChatId, DeliveryStatus, MessageId};
    use crate::domain::{Role, TenantId, UserId};

    #[test]
    fn events_travel_between_nodes_unchanged() {
        let tenant_id = TenantId(uuid::Uuid::new_v4());
        for event in [
            DomainEvent::MessageStatusChanged {
                tenant_id,
                chat_id: ChatId(1),
                message_id: MessageId(2),
                status: DeliveryStatus::Delivered,
            },
            DomainEvent::UserRoleChanged { tenant_id, user_id: UserId(3), role: Role::Viewer },
            DomainEvent::TemplateDeleted { tenant_id, template_id: 4 },
        ] {
            let json = serde_json::to_string(&Envelope { node: uuid::Uuid::nil(), event: event.clone() }).unwrap();
            assert!(json.len() < 8000, "fits a NOTIFY payload");
            assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap().event, event);
        }
    }
}
