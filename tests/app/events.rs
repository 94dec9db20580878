//! Events between app nodes: what one node publishes reaches the live pages of another (over
//! PostgreSQL's LISTEN/NOTIFY) exactly once, and is never that node's to act on again.

use std::time::Duration;

use crm::domain::DomainEvent;
use crm::domain::chat::ChatId;
use crm::events::{EventBus, relay};
use tokio::sync::broadcast::error::TryRecvError;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_event_published_on_one_node_reaches_the_subscribers_of_another_once() {
    let app = TestApp::spawn().await;
    let here_bus = app.state.events.clone();
    let there_bus = EventBus::default();
    let _relays = [relay::spawn(&here_bus, app.pool.clone()), relay::spawn(&there_bus, app.pool.clone())];
    let mut here = here_bus.subscribe();
    let mut there = there_bus.subscribe();
    let mut there_own = there_bus.subscribe_local();
    // Live pages on the other node: one of this tenant, one of another.
    let mut there_tenant = there_bus.subscribe_tenant(app.tenant);
    let mut there_other = there_bus.subscribe_tenant(crm::domain::TenantId(uuid::Uuid::new_v4()));
    // The listeners connect in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let event = DomainEvent::ChatRead { tenant_id: app.tenant, chat_id: ChatId(7) };
    here_bus.publish(event.clone());
    let arrived = tokio::time::timeout(Duration::from_secs(5), there.recv()).await.expect("relayed in time").unwrap();
    assert_eq!(arrived, event);
    assert_eq!(here.recv().await.unwrap(), event);
    assert_eq!(there_tenant.recv().await.unwrap(), event, "the tenant's pages on the other node");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(here.try_recv(), Err(TryRecvError::Empty)), "a node does not hear its own event back");
    assert!(matches!(there.try_recv(), Err(TryRecvError::Empty)), "once");
    assert!(matches!(there_own.try_recv(), Err(TryRecvError::Empty)), "not the other node's own to act on");
    assert!(matches!(there_tenant.try_recv(), Err(TryRecvError::Empty)), "once to the tenant's pages");
    assert!(matches!(there_other.try_recv(), Err(TryRecvError::Empty)), "never to another tenant's");
}
