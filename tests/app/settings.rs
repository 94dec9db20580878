//! The tenant's settings: read and changed through the API and the organisation page; the
//! country reads local phone numbers; round robin hands new chats to available agents in turn,
//! fairly with two nodes on one database.

use std::collections::HashMap;

use crm::domain::chat::Transport;
use crm::domain::{ClientId, ContactId, Role};
use crm::events::EventBus;
use crm::services::inbound::{InboundService, Incoming};
use serde_json::json;

use crate::helpers::{Api, TestApp};

async fn text(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql).fetch_one(&app.owner_pool().await).await.expect(sql)
}

#[tokio::test]
async fn everyone_reads_the_settings_and_only_admins_change_them_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let (admin, agent) = (app.api(Role::Admin).await, app.api(Role::Agent).await);

    let read = agent.get("/api/v1/settings").await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.json(),
        json!({"name": "Acme", "default_country": null, "base_currency": "USD", "locale": "en",
               "time_zone": "UTC", "auto_assign": "off", "record_visibility": "all"})
    );
    assert_eq!(agent.patch("/api/v1/settings", json!({"default_country": "UZ"})).await.status, 403);

    let bad = admin
        .patch(
            "/api/v1/settings",
            json!({"name": "Acme Ltd", "default_country": "XX", "base_currency": "dollars", "auto_assign": 1,
                   "time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields = &bad.json()["error"]["fields"];
    for field in ["default_country", "base_currency", "auto_assign", "time_zone"] {
        assert!(fields.get(field).is_some(), "{field} named: {}", bad.body);
    }
    assert_eq!(admin.get("/api/v1/settings").await.json()["name"], "Acme", "nothing half-written");

    let changed = admin
        .patch(
            "/api/v1/settings",
            json!({"default_country": "uz", "base_currency": "UZS", "locale": "ru", "auto_assign": "round_robin"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let after = admin.get("/api/v1/settings").await.json();
    assert_eq!(
        (&after["default_country"], &after["base_currency"], &after["locale"], &after["auto_assign"]),
        (&json!("UZ"), &json!("UZS"), &json!("ru"), &json!("round_robin"))
    );
    let summary = text(&app, "SELECT summary FROM audit_log WHERE action = 'settings_changed'").await;
    assert_eq!(
        summary,
        "default_country: — → UZ; base_currency: USD → UZS; locale: en → ru; auto_assign: off → round_robin"
    );
    // Staff notifications of a new channel speak the organisation's language.
    let page = app.sign_in_as(Role::Admin).await.get("/crm/settings/channels/new?kind=telegram").await.body;
    let select = &page[page.find(r#"id="ch-notify_locale""#).expect("the language of notifications")..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.contains(r#"<option value="ru" selected>"#), "{select}");
    let cleared = admin.patch("/api/v1/settings", json!({"default_country": null})).await;
    assert_eq!(cleared.json()["default_country"], json!(null));
}

#[tokio::test]
async fn with_a_country_set_local_numbers_are_read_in_forms_contacts_and_the_api() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let local = admin.post("/api/v1/clients", json!({"first_name": "Aziz", "phone": "90 123 45 67"})).await;
    assert_eq!(local.status, 422, "no country yet: {}", local.body);
    let why = local.json()["error"]["fields"]["phone"][0].as_str().unwrap().to_owned();
    assert!(why.contains("country code"), "{why}");

    admin.patch("/api/v1/settings", json!({"default_country": "UZ"})).await;
    let made = admin
        .post(
            "/api/v1/clients",
            json!({"first_name": "Aziz", "phone": "90 123 45 67",
                   "contacts": [{"type": "whatsapp", "value": "8 93 765 43 21"}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    assert_eq!(made["phone"], "+998901234567");
    assert_eq!(made["contacts"][0]["value"], "+998937654321");

    // The page's form: the placeholder is written as at home, and the number is read so.
    let browser = app.sign_in_as(Role::Admin).await;
    let form = browser.get("/crm/clients/new").await;
    assert!(form.body.contains(r#"placeholder="90 123 45 67""#), "{}", form.body);
    let csrf = form.csrf().unwrap();
    let saved =
        browser.post("/crm/clients", &[("_csrf", &csrf), ("first_name", "Madina"), ("phone", "(91) 555-44-33")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = text(&app, "SELECT phone FROM clients WHERE first_name = 'Madina'").await;
    assert_eq!(stored, "+998915554433");
}

#[tokio::test]
async fn the_organisation_page_is_the_admins_and_names_a_bad_field_beside_it() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    assert_eq!(agent.get("/crm/settings/organisation").await.status, 403);
    let admin = app.sign_in_as(Role::Admin).await;
    let page = admin.get("/crm/settings/organisation").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<option value="UZ">Uzbekistan</option>"#), "{}", page.body);
    let csrf = page.csrf().unwrap();
    let bad =
        admin.post("/crm/settings/organisation", &[("_csrf", &csrf), ("name", " "), ("default_country", "UZ")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="org-name-error""#), "{}", bad.body);
    let good = admin
        .post(
            "/crm/settings/organisation",
            &[("_csrf", &csrf), ("name", "Acme Tashkent"), ("default_country", "UZ"), ("auto_assign", "round_robin")],
        )
        .await;
    assert_eq!(good.status, 303);
    let shown = admin.get("/crm/settings/organisation").await.body;
    assert!(shown.contains(r#"<option value="UZ" selected>"#), "{shown}");
    assert!(shown.contains(r#"value="round_robin" checked"#), "{shown}");
    assert!(shown.contains(r#"value="Acme Tashkent""#), "{shown}");
}

/// A new client with a phone contact, through the API.
async fn new_client(api: &Api, n: usize) -> (ClientId, ContactId) {
    let made =
        api.post("/api/v1/clients", json!({"first_name": format!("Client {n}"), "contacts": [{"type": "phone", "value": format!("+99890{n:07}")}]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    (ClientId(made["id"].as_i64().unwrap()), ContactId(made["contacts"][0]["id"].as_i64().unwrap()))
}

/// Who each of the tenant's chats is assigned to, by user email, counted.
async fn assignees(app: &TestApp) -> HashMap<String, i64> {
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT u.email, count(*) FROM chats h LEFT JOIN users u ON u.tenant_id = h.tenant_id AND u.id = h.assignee_user_id
         GROUP BY u.email",
    )
    .fetch_all(&app.owner_pool().await)
    .await
    .unwrap();
    rows.into_iter().map(|(name, n)| (name.unwrap_or_else(|| "(nobody)".into()), n)).collect()
}

#[tokio::test]
async fn round_robin_gives_new_chats_in_turn_to_signed_in_agents_who_are_not_away() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    // Two agents signed in; a third agent with no session and a viewer are not available.
    let (one_creds, two_creds) =
        (app.create_user(app.tenant, Role::Agent).await, app.create_user(app.tenant, Role::Agent).await);
    let (one, two) = (app.client(), app.client());
    one.sign_in(&one_creds).await;
    two.sign_in(&two_creds).await;
    app.create_user(app.tenant, Role::Agent).await;
    app.sign_in_as(Role::Viewer).await;
    let names = [one_creds.email.clone(), two_creds.email.clone()];
    let name = |i: usize| names[i].clone();

    // Off: new chats wait unassigned.
    let (client, contact) = new_client(&admin, 0).await;
    let incoming =
        |client, contact| Incoming { client, contact, transport: Transport::Sms, sender_name: "C", body: "Hi" };
    app.state.inbound.receive_from(app.tenant, incoming(client, contact)).await.unwrap();
    assert_eq!(assignees(&app).await, HashMap::from([("(nobody)".to_owned(), 1)]));

    admin.patch("/api/v1/settings", json!({"auto_assign": "round_robin"})).await;
    for n in 1..=4 {
        let (client, contact) = new_client(&admin, n).await;
        app.state.inbound.receive_from(app.tenant, incoming(client, contact)).await.unwrap();
    }
    // The waiting chat is given out when its client writes again.
    app.state.inbound.receive_from(app.tenant, incoming(client, contact)).await.unwrap();
    let counts = assignees(&app).await;
    assert_eq!(counts.values().sum::<i64>(), 5);
    let (a, b) = (counts.get(&name(0)).copied(), counts.get(&name(1)).copied());
    assert!(matches!((a, b), (Some(3), Some(2)) | (Some(2), Some(3))), "in turn: {counts:?}");
    let audited =
        app.scalar_i64("SELECT count(*) FROM audit_log WHERE action = 'assigned' AND actor_user_id IS NULL").await;
    assert_eq!(audited, 5);

    // The second agent steps away: the next chats all go to the first.
    let page = two.get("/crm/settings/profile").await;
    let csrf = page.csrf().unwrap();
    assert!(page.body.contains(r#"name="away" value="false" checked"#), "{}", page.body);
    assert_eq!(two.post("/crm/settings/availability", &[("_csrf", &csrf), ("away", "true")]).await.status, 303);
    for n in 5..=7 {
        let (client, contact) = new_client(&admin, n).await;
        app.state.inbound.receive_from(app.tenant, incoming(client, contact)).await.unwrap();
    }
    let after = assignees(&app).await;
    assert_eq!(after[&name(0)] + after[&name(1)], 8);
    assert_eq!(after[&name(1)], counts[&name(1)], "away gets nothing: {after:?}");

    // Signed out too: nobody is available and chats wait.
    let csrf = one.get("/crm/settings/profile").await.csrf().unwrap();
    one.post("/logout", &[("_csrf", &csrf)]).await;
    let (client, contact) = new_client(&admin, 8).await;
    app.state.inbound.receive_from(app.tenant, incoming(client, contact)).await.unwrap();
    assert_eq!(assignees(&app).await["(nobody)"], 1);
}

#[tokio::test]
async fn two_nodes_handing_out_chats_at_once_take_turns_fairly() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    for _ in 0..2 {
        let agent = app.create_user(app.tenant, Role::Agent).await;
        app.client().sign_in(&agent).await;
    }
    admin.patch("/api/v1/settings", json!({"auto_assign": "round_robin"})).await;
    let mut clients = Vec::new();
    for n in 0..20 {
        clients.push(new_client(&admin, n).await);
    }
    let other_pool = crm::db::app_pool(app.owner.clone(), 5).await.unwrap();
    let nodes = [app.state.inbound.clone(), InboundService::new(other_pool, EventBus::default())];
    let tenant = app.tenant;
    let writes = clients.into_iter().enumerate().map(|(i, (client, contact))| {
        let node = nodes[i % 2].clone();
        tokio::spawn(async move {
            let incoming = Incoming { client, contact, transport: Transport::Sms, sender_name: "C", body: "Hi" };
            node.receive_from(tenant, incoming).await.unwrap();
        })
    });
    for w in futures_util::future::join_all(writes).await {
        w.unwrap();
    }
    let counts = assignees(&app).await;
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [10, 10], "{counts:?}");
}

#[tokio::test]
async fn pages_show_times_on_the_tenants_clock_and_the_api_keeps_utc() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let client = admin.post("/api/v1/clients", json!({"first_name": "Lola", "phone": "+998901112200"})).await.json();
    let chat = admin.post(&format!("/api/v1/clients/{}/chat", client["id"]), json!({})).await.json()["id"].clone();
    let note =
        admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Late call", "transport": "note"})).await;
    assert_eq!(note.status, 202, "{}", note.body);
    // Written at 21:30 UTC: 02:30 the next day in Tashkent.
    let owner = app.owner_pool().await;
    sqlx::query("UPDATE messages SET created_at = '2026-11-30T21:30:00Z'").execute(&owner).await.unwrap();
    sqlx::query("UPDATE chats SET last_message_at = '2026-11-30T21:30:00Z'").execute(&owner).await.unwrap();

    let browser = app.sign_in_as(Role::Agent).await;
    let utc = browser.get(&format!("/crm/chats/{chat}")).await.body;
    assert!(utc.contains(r#"data-day="2026-11-30""#) && utc.contains(">21:30</time>"), "{utc}");

    let changed = admin.patch("/api/v1/settings", json!({"time_zone": "Asia/Tashkent"})).await;
    assert_eq!(changed.json()["time_zone"], "Asia/Tashkent");
    let local = browser.get(&format!("/crm/chats/{chat}")).await.body;
    assert!(local.contains(r#"data-day="2026-12-01""#) && local.contains(">02:30</time>"), "{local}");
    assert!(local.contains("2026-12-01</span>") || local.contains(">2026-12-01<"), "the list's date: {local}");
    let api = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json();
    assert_eq!(api["items"][0]["created_at"], "2026-11-30T21:30:00Z", "{api}");
    let audit = text(&app, "SELECT summary FROM audit_log WHERE action = 'settings_changed'").await;
    assert_eq!(audit, "time_zone: UTC → Asia/Tashkent");
}
