//! The event bus: services publish `DomainEvent`s after commit; subscribers (the log, live
//! pages, `services::staff_notifier`) receive them without ever blocking the publisher. With the
//! relay running, events published on other app nodes arrive here too. The bus knows no
//! service: subscribers that do work live with the services.
//!
//! Live pages listen to one tenant (`subscribe_tenant`): each tenant with listeners has its own
//! channel, so a page is never woken for another tenant's events, however many tenants write.

pub mod relay;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use crate::domain::{DomainEvent, TenantId};

#[derive(Clone)]
pub struct EventBus {
    /// What this node did.
    local: broadcast::Sender<DomainEvent>,
    /// What this node did, and what other nodes did.
    all: broadcast::Sender<DomainEvent>,
    /// The same as `all`, by tenant: a channel for each tenant someone listens to.
    tenants: Arc<Mutex<HashMap<TenantId, broadcast::Sender<DomainEvent>>>>,
    capacity: usize,
}

impl EventBus {
    /// `capacity` events are kept for slow subscribers; one that falls further behind skips
    /// ahead (and is told how many it missed) instead of slowing everyone down.
    pub fn new(capacity: usize) -> Self {
        Self {
            local: broadcast::channel(capacity).0,
            all: broadcast::channel(capacity).0,
            tenants: Arc::default(),
            capacity,
        }
    }

    /// Publishes to every current subscriber. Call only after the change has committed.
    pub fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: nobody needs to hear about this one.
        let _ = self.local.send(event.clone());
        self.publish_from_elsewhere(event);
    }

    /// An event another node published (from the relay), or this node's own: to the
    /// subscribers of every event and to its tenant's. A tenant's channel nobody listens to
    /// any more is dropped here.
    fn publish_from_elsewhere(&self, event: DomainEvent) {
        let tenant = event.tenant_id();
        {
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(channel) = tenants.get(&tenant)
                && channel.send(event.clone()).is_err()
            {
                tenants.remove(&tenant);
            }
        }
        let _ = self.all.send(event);
    }

    /// Every event, wherever it happened: for work that watches all tenants.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.all.subscribe()
    }

    /// One tenant's events, wherever they happened: for what a tenant's pages show.
    pub fn subscribe_tenant(&self, tenant: TenantId) -> broadcast::Receiver<DomainEvent> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        tenants.entry(tenant).or_insert_with(|| broadcast::channel(self.capacity).0).subscribe()
    }

    /// How many tenants have a channel (listeners, or not yet dropped).
    pub fn tenant_channels(&self) -> usize {
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner).len()
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

    #[tokio::test]
    async fn a_tenants_listener_hears_its_tenants_events_and_is_never_woken_for_anothers() {
        let bus = EventBus::new(8);
        let (a, b) = (TenantId(uuid::Uuid::new_v4()), TenantId(uuid::Uuid::new_v4()));
        let mut of_b = bus.subscribe_tenant(b);
        for _ in 0..100 {
            bus.publish(DomainEvent::TenantCreated { tenant_id: a });
            bus.publish_from_elsewhere(DomainEvent::TenantCreated { tenant_id: a });
        }
        // Nothing queued: the receiver was never handed one of A's events (and so never woken).
        assert_eq!(of_b.len(), 0);
        assert!(matches!(of_b.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
        let mine = DomainEvent::TenantCreated { tenant_id: b };
        bus.publish_from_elsewhere(mine.clone());
        assert_eq!(of_b.recv().await.unwrap(), mine);
        // A tenant nobody listens to any more loses its channel at its next event.
        drop(of_b);
        assert_eq!(bus.tenant_channels(), 1);
        bus.publish(mine);
        assert_eq!(bus.tenant_channels(), 0);
    }

    #[test]
    fn publishing_with_no_subscriber_is_fine() {
        EventBus::new(1).publish(DomainEvent::TenantCreated { tenant_id: TenantId(uuid::Uuid::nil()) });
    }
}
