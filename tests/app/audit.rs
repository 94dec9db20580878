//! The audit log: written with each change, read by admins, filtered by entity.

use crm::domain::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn changes_are_audited_with_their_actor_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let creds = app.create_user(app.tenant, Role::Viewer).await;
    let id = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", creds.email)).await;
    admin.get("/crm/settings/users").await;
    admin.post(&format!("/crm/settings/users/{id}/role"), &[("role", "agent")]).await;
    admin.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await;

    let page = admin.get("/crm/settings/audit").await;
    assert_eq!(page.status, 200);
    let deactivated = page.body.find("deactivated").expect("deactivation logged");
    let role_changed = page.body.find("changed a role").expect("role change logged");
    assert!(deactivated < role_changed, "newest first");
    assert!(page.body.contains(&format!("{}: viewer → agent", creds.email)));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) FROM audit_log WHERE entity = 'user' AND entity_id = '{id}' AND actor_user_id IS NOT NULL"
        ))
        .await,
        2
    );
}

#[tokio::test]
async fn the_log_filters_by_entity() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/settings/tokens").await;
    admin.post("/crm/settings/tokens", &[("name", "Filter probe")]).await;

    let tokens_only = admin.get("/crm/settings/audit?entity=api_token").await;
    assert!(tokens_only.body.contains("Filter probe"));
    assert!(!tokens_only.body.contains("(admin)"), "user entries are filtered out");
    let users_only = admin.get("/crm/settings/audit?entity=user").await;
    assert!(!users_only.body.contains("Filter probe"));
}

#[tokio::test]
async fn the_application_role_cannot_rewrite_history() {
    let app = TestApp::spawn().await;
    let mut tx = crm::db::TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    let err = sqlx::query("DELETE FROM audit_log").execute(tx.conn()).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

#[tokio::test]
async fn every_entry_reads_as_a_sentence_in_each_language_and_home_leaves_out_each_message_sent() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let client = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "Aziz", "contacts": [{"type": "phone", "value": "+998901230001"}]}),
        )
        .await
        .json();
    let id = client["id"].as_i64().unwrap();
    api.patch(&format!("/api/v1/clients/{id}"), json!({"last_name": "Karimov"})).await;
    api.post(&format!("/api/v1/clients/{id}/contacts"), json!({"type": "email", "value": "a@k.uz"})).await;
    let chat = api.post(&format!("/api/v1/clients/{id}/chat"), json!({})).await.json()["id"].as_i64().unwrap();
    for n in 0..10 {
        api.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": format!("note {n}"), "transport": "note"}))
            .await;
    }
    api.patch(&format!("/api/v1/chats/{chat}"), json!({"status": "resolved"})).await;
    api.patch("/api/v1/settings", json!({"default_country": "UZ"})).await;
    let twin = api.post("/api/v1/clients", json!({"first_name": "Twin"})).await.json()["id"].as_i64().unwrap();
    api.post(&format!("/api/v1/clients/{id}/merge"), json!({"from_client_id": twin})).await;
    api.delete(&format!("/api/v1/clients/{id}")).await;

    let pairs: Vec<(String, String)> = sqlx::query_as("SELECT DISTINCT entity, action FROM audit_log")
        .fetch_all(&app.owner_pool().await)
        .await
        .unwrap();
    assert!(pairs.len() >= 10, "{pairs:?}");
    for locale in ["en", "ru", "uz"] {
        let catalog: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("locales/{locale}.json")).unwrap()).unwrap();
        for (entity, action) in &pairs {
            let key = format!("audit.say.{entity}.{action}");
            assert!(catalog[&key].is_string(), "{locale} has no sentence {key}");
        }
    }

    let admin = app.sign_in_as(Role::Admin).await;
    let csrf = admin.get("/crm").await.csrf().unwrap();
    admin.post("/crm/locale", &[("_csrf", &csrf), ("locale", "ru"), ("back", "/crm")]).await;
    let log = admin.get("/crm/settings/audit").await.body;
    assert!(log.contains("добавил(а) клиента Aziz"), "{log}");
    assert!(log.contains("перевёл(а) разговор") && log.contains("«решён»"), "the status in words: {log}");
    for code in ["client_created", "message_sent", "status_changed", "settings_changed", "contact_added"] {
        assert!(!log.contains(code), "an internal name shows: {code}");
    }
    let home = admin.get("/crm").await.body;
    assert!(home.contains("объединил(а)"), "the merge is on Home: {home}");
    assert!(!home.contains("написал(а) в разговоре"), "each message sent is left out of Home: {home}");
}
