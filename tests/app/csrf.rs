//! CSRF protection: a state-changing browser request without its token changes nothing.

use crm::domain::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let before = app.scalar_i64("SELECT count(*) FROM users").await;

    let page = admin
        .post_raw(
            "/crm/settings/users",
            &[("email", "new@example.test"), ("name", "New"), ("password", "long enough pass"), ("role", "agent")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("This form has expired"), "{}", page.body);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM users").await, before);
}

#[tokio::test]
async fn a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let before = app.scalar_i64("SELECT count(*) FROM users").await;
    let page = admin
        .post_raw(
            "/crm/settings/users",
            &[
                ("_csrf", "forged"),
                ("email", "new@example.test"),
                ("name", "New"),
                ("password", "long enough pass"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM users").await, before);
}

#[tokio::test]
async fn another_sessions_token_does_not_work() {
    let app = TestApp::spawn().await;
    let mallory = app.sign_in_as(Role::Admin).await;
    let victim = app.sign_in_as(Role::Admin).await;
    let foreign = mallory.csrf_token().unwrap();
    assert_ne!(Some(foreign.clone()), victim.csrf_token());
    let page = victim.post_raw("/logout", &[("_csrf", &foreign)]).await;
    assert_eq!(page.status, 403);
    assert_eq!(victim.get("/crm").await.status, 200, "still signed in");
}

#[tokio::test]
async fn the_htmx_header_carries_the_token_too() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Viewer).await;
    let token = client.csrf_token().unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http
        .post(format!("{}/logout", app.base_url))
        .header("cookie", format!("crm_session={}", client.cookie("crm_session").unwrap()))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_login_form_is_protected_before_any_session_exists() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    client.get("/login").await;
    let page = client.post_raw("/login", &[("email", &creds.email), ("password", &creds.password)]).await;
    assert_eq!(page.status, 403);
    assert!(client.cookie("crm_session").is_none());
}
