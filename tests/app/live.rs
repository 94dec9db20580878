//! Live pages at scale: what a stream hears of a change (ready to show, with no page asked to
//! fetch anything it does not show), one feed per tenant on a node that ends with its last
//! page, and a page that falls behind told to re-sync instead of queueing.

use std::time::{Duration, Instant};

use crm::domain::{DomainEvent, Principal, Role};
use crm::events::{EventBus, relay};
use crm::services::chats::Live;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::helpers::{Client, TestApp};

async fn principal(app: &TestApp, browser: &Client) -> Principal {
    let session = browser.cookie("crm_session").unwrap();
    app.state.auth.session_principal(&session).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_clients_message_arrives_ready_to_show_and_another_tenants_page_hears_nothing() {
    let app = TestApp::spawn().await;
    let (client, contact, chat) = app.client_who_wrote(&app.api(Role::Admin).await, "Madina", "+998901230001").await;
    let agent = app.sign_in_as(Role::Agent).await;
    let (_, rival_admin) = app.create_tenant("Rival").await;
    let rival = app.client();
    rival.sign_in(&rival_admin).await;

    let write = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.writes(app.tenant, client, contact, "Is it ready?").await;
    };
    let (mine, theirs) = tokio::join!(
        app.heard(&agent, Duration::from_secs(2), write),
        app.heard(&rival, Duration::from_secs(2), async {})
    );
    // The bubble, ready for the thread, carries no page's CSRF token (htmx sends it).
    assert!(mine.contains("event: message") && mine.contains("Is it ready?"), "{mine}");
    assert!(!mine.contains("_csrf"), "{mine}");
    // The chat's facts, for the list to decide by: not "fetch your list".
    let facts = format!(r#"data: {{"assignee":null,"counts":false,"id":{},"status":"open","unread":2}}"#, chat.0);
    assert!(mine.contains("event: chat") && mine.contains(&facts), "{mine}");
    assert!(!mine.contains("event: inbox"), "{mine}");
    // The badge, ready to show.
    assert!(mine.contains("event: unread\ndata: <span class=\"nav-badge\">2</span>"), "{mine}");
    assert_eq!(theirs, "", "another tenant's page hears nothing of it");
}

#[tokio::test]
async fn reading_a_chat_sends_the_badge_down_to_nothing_and_assigning_tells_lists_their_counts_changed() {
    let app = TestApp::spawn().await;
    let (_, _, chat) = app.client_who_wrote(&app.api(Role::Admin).await, "Aziz", "+998901230002").await;
    let admin = app.sign_in_as(Role::Admin).await;
    let api = app.api(Role::Admin).await;
    let read = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        api.post(&format!("/api/v1/chats/{}/read", chat.0), json!({})).await;
    };
    let heard = app.heard(&admin, Duration::from_secs(2), read).await;
    assert!(heard.contains(r#""unread":0"#) && heard.contains("event: unread\ndata: <span hidden></span>"), "{heard}");

    let me = app.scalar_i64("SELECT user_id FROM api_tokens ORDER BY id DESC LIMIT 1").await;
    let assign = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        api.patch(&format!("/api/v1/chats/{}", chat.0), json!({"assignee_id": me})).await;
    };
    let heard = app.heard(&admin, Duration::from_secs(2), assign).await;
    assert!(heard.contains(&format!(r#""assignee":{me},"counts":true"#)), "{heard}");
    assert!(heard.contains(&format!("event: chat-{}", chat.0)), "an open thread's header refreshes: {heard}");
}

#[tokio::test]
async fn a_node_runs_one_feed_per_tenant_with_pages_and_ends_it_with_the_last_page() {
    let app = TestApp::spawn().await;
    let (_, _, chat) = app.client_who_wrote(&app.api(Role::Admin).await, "Olga", "+998901230003").await;
    let (_, other_admin) = app.create_tenant("Other").await;
    let (one, two) = (app.sign_in_as(Role::Agent).await, app.sign_in_as(Role::Viewer).await);
    let elsewhere = app.client();
    elsewhere.sign_in(&other_admin).await;
    let streams = vec![app.live_stream(&one).await, app.live_stream(&one).await, app.live_stream(&two).await];
    let _other_stream = app.live_stream(&elsewhere).await;
    assert_eq!(app.state.chats.live_feeds(), 2, "one feed per tenant, not per page");

    // The pages go: at the tenant's next events the feed finds nobody left and ends, and the
    // other tenant's goes on.
    drop(streams);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.chats.live_feeds() > 1 {
        assert!(Instant::now() < deadline, "the feed outlived its pages");
        app.state.events.publish(DomainEvent::ChatUpdated { tenant_id: app.tenant, chat_id: chat });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state.chats.live_feeds(), 1);
}

#[tokio::test]
async fn a_page_that_falls_behind_is_told_to_resync_instead_of_queueing() {
    let app = TestApp::spawn().await;
    let (_, _, chat) = app.client_who_wrote(&app.api(Role::Admin).await, "Sardor", "+998901230004").await;
    let agent = app.sign_in_as(Role::Agent).await;
    let mut slow = app.state.chats.live(&principal(&app, &agent).await).unwrap();
    let mut keeping_up = app.state.chats.live(&principal(&app, &agent).await).unwrap();
    let mut heard = 0;
    for _ in 0..600 {
        app.state.events.publish(DomainEvent::ChatRead { tenant_id: app.tenant, chat_id: chat });
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(5), keeping_up.recv()).await {
            heard += 1;
        }
    }
    assert_eq!(heard, 600, "a page that keeps up hears every change");
    // The one that did not read is past what the feed keeps: it hears that it missed some,
    // then only what came after (what it holds stays bounded).
    match slow.recv().await {
        Err(RecvError::Lagged(missed)) => assert!(missed >= 300, "{missed}"),
        other => panic!("expected to be told it fell behind, got {:?}", other.map(|_| ())),
    }
    assert!(slow.len() <= 256, "{}", slow.len());
    assert!(matches!(slow.recv().await, Ok(Live::Change(_))));
}

#[tokio::test]
async fn a_deleted_clients_chat_leaves_every_list_and_the_badge_drops() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (client, _, _) = app.client_who_wrote(&api, "Nodira", "+998901230005").await;
    let admin = app.sign_in_as(Role::Admin).await;
    let delete = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(api.delete(&format!("/api/v1/clients/{}", client.0)).await.status, 204);
    };
    let heard = app.heard(&admin, Duration::from_secs(2), delete).await;
    assert!(heard.contains("event: chat\ndata: {\"counts\":true,\"id\":null}"), "every list is stale: {heard}");
    assert!(heard.contains("event: unread\ndata: <span hidden></span>"), "the badge drops: {heard}");
}

#[tokio::test]
async fn a_message_received_on_one_node_reaches_the_pages_of_another_loaded_there() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (client, contact, chat) = app.client_who_wrote(&api, "Bekzod", "+998901230006").await;
    let there_bus = EventBus::default();
    let there = crm::web::AppState::new((*app.state.config).clone(), app.pool.clone(), there_bus.clone()).unwrap();
    let _relays = [relay::spawn(&app.state.events, app.pool.clone()), relay::spawn(&there_bus, app.pool.clone())];
    let agent = app.sign_in_as(Role::Agent).await;
    let mut page = there.chats.live(&principal(&app, &agent).await).unwrap();
    // The listeners connect in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;

    app.writes(app.tenant, client, contact, "From the other node").await;
    let change = loop {
        match tokio::time::timeout(Duration::from_secs(5), page.recv()).await.expect("relayed in time").unwrap() {
            Live::Change(c) if c.message.is_some() => break c,
            _ => continue,
        }
    };
    assert_eq!(change.message.as_ref().unwrap().body, "From the other node", "loaded on the node that shows it");
    assert_eq!(change.unread_total, Some(2));
    assert!(
        matches!(&change.lists, Some(crm::services::chats::ListChange::Chat(c)) if c.id == chat && c.unread == 2),
        "the chat's facts"
    );
}
