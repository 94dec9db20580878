//! API tokens: created on the settings page (shown once), used as Bearer, revocable.

use crm::domain::Role;

use crate::helpers::TestApp;

fn token_in(body: &str) -> String {
    let at = body.find("id=\"new-token\" class=\"mono\" value=\"").expect("token shown")
        + "id=\"new-token\" class=\"mono\" value=\"".len();
    body[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_acts_as_its_user() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm/settings/tokens").await;
    let page = agent.post("/crm/settings/tokens", &[("name", "Zapier")]).await;
    assert_eq!(page.status, 201);
    let token = token_in(&page.body);
    assert!(token.starts_with("crm_"));

    assert!(!agent.get("/crm/settings/tokens").await.body.contains(&token), "never shown again");
    let stored =
        app.scalar_i64(&format!("SELECT count(*) FROM api_tokens WHERE token_hash = sha256('{token}'::bytea)")).await;
    assert_eq!(stored, 1, "kept as its SHA-256");

    let me = app.client().api_get("/api/v1/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let json = me.json();
    assert_eq!(json["role"], "agent");
    assert_eq!(json["tenant"]["name"], "Acme");
    assert!(json["permissions"].as_array().unwrap().iter().any(|p| p == "ChatCreate"));
    assert!(!json["permissions"].as_array().unwrap().iter().any(|p| p == "UserManage"));
}

#[tokio::test]
async fn a_revoked_token_is_refused_with_401_json() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/settings/tokens").await;
    let token = token_in(&admin.post("/crm/settings/tokens", &[("name", "Script")]).await.body);
    let id = app.scalar_i64("SELECT max(id) FROM api_tokens").await;
    assert_eq!(admin.post(&format!("/crm/settings/tokens/{id}/revoke"), &[]).await.status, 303);

    let page = app.client().api_get("/api/v1/me", &token).await;
    assert_eq!(page.status, 401);
    assert_eq!(page.json()["error"]["code"], "unauthenticated");
    assert_eq!(page.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn one_user_cannot_revoke_anothers_token() {
    let app = TestApp::spawn().await;
    let owner = app.sign_in_as(Role::Agent).await;
    owner.get("/crm/settings/tokens").await;
    let token = token_in(&owner.post("/crm/settings/tokens", &[("name", "Mine")]).await.body);
    let id = app.scalar_i64("SELECT max(id) FROM api_tokens").await;

    let other = app.sign_in_as(Role::Admin).await;
    assert_eq!(other.post(&format!("/crm/settings/tokens/{id}/revoke"), &[]).await.status, 404);
    assert_eq!(app.client().api_get("/api/v1/me", &token).await.status, 200);
}

#[tokio::test]
async fn a_deactivated_users_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let user = app.client();
    user.sign_in(&creds).await;
    let token = token_in(&user.post("/crm/settings/tokens", &[("name", "Job")]).await.body);
    let id = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", creds.email)).await;

    let admin = app.sign_in_as(Role::Admin).await;
    admin.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await;
    assert_eq!(app.client().api_get("/api/v1/me", &token).await.status, 401);
}

#[tokio::test]
async fn the_api_answers_json_errors_without_a_token_or_on_an_unknown_path() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let page = client.get("/api/v1/me").await;
    assert_eq!(page.status, 401);
    assert_eq!(page.json()["error"]["code"], "unauthenticated");
    let missing = client.api_get("/api/v1/nothing-here", "crm_whatever").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_token_needs_a_name() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm/settings/tokens").await;
    let page = agent.post("/crm/settings/tokens", &[("name", "  ")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"token-name-error\">This field is required."));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM api_tokens").await, 0);
}
