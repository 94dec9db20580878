//! The event bus: services publish `DomainEvent`s after commit; subscribers (the log, live
//! pages, `services::staff_notifier`) receive them without ever blocking the publisher. With the
//! relay running, events published on other app nodes arrive here too. The bus knows no
//! service: subscribers that do work live with the services.

pub mod relay;

use tokio::sync::broadcast;

use crate::domain::DomainEvent;

#[derive(Clone)]
pub struct EventBus {
    /// What this node did.
    local: broadcast::Sender<DomainEvent>,
    /// What this node did, and what other nodes did.
    all: broadcast::Sender<DomainEvent>,
}

impl EventBus {
    /// `capacity` events are kept for slow subscribers; one that falls further behind skips
    /// ahead (and is told how many it missed) instead of slowing everyone down.
    pub fn new(capacity: usize) -> Self {
        Self { local: broadcast::channel(capacity).0, all: broadcast::channel(capacity).0 }
    }

    /// Publishes to every current subscriber. Call only after the change has committed.
    pub fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: nobody needs to hear about this one.
        let _ = self.local.send(event.clone());
        let _ = self.all.send(event);
    }

    /// An event another node published (from the relay).
    fn publish_from_elsewhere(&self, event: DomainEvent) {
        let _ = self.all.send(event);
    }

    /// Every event, wherever it happened: for what every node shows (live pages).
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.all.subscribe()
    }

    /// What this node did: for work that must happen once (notifications, the relay itself).
    pub fn subscribe_local(&self) -> broadcast::Receiver<DomainEvent> {
        self.local.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

/// Logs every event at debug level: the first subscriber, and a trace of what happened.
pub fn spawn_log_subscriber(bus: &EventBus) -> tokio::task::JoinHandle<()> {
    let mut rx = bus.subscribe_local();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => tracing::debug!(tenant_id = %event.tenant_id(), ?event, "domain event"),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "event log subscriber lagged")
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;

    #[tokio::test]
    async fn every_subscriber_receives_what_is_published_after_it_subscribed() {
        let bus = EventBus::new(8);
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        let event = DomainEvent::TenantCreated { tenant_id: TenantId(uuid::Uuid::new_v4()) };
        bus.publish(event.clone());
        assert_eq!(a.recv().await.unwrap(), event);
        assert_eq!(b.recv().await.unwrap(), event);
    }

    #[test]
    fn publishing_with_no_subscriber_is_fine() {
        EventBus::new(1).publish(DomainEvent::TenantCreated { tenant_id: TenantId(uuid::Uuid::nil()) });
    }
}
