//! Operations: health, readiness, metrics, request ids, static files, error pages.

use crm::domain::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let client = app.client();
    assert_eq!(client.get("/healthz").await.status, 200);
    let ready = client.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/healthz").await;
    client.get("/healthz").await;
    client.get("/no/such/page").await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.post("/crm/settings/users/999999/role", &[("role", "agent")]).await;

    let text = client.get("/metrics").await.body;
    assert!(text.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"), "{text}");
    assert!(text.contains("route=\"unmatched\",status=\"404\""), "{text}");
    assert!(
        text.contains("route=\"/crm/settings/users/{id}/role\",status=\"404\""),
        "ids do not become labels: {text}"
    );
    assert!(text.contains(
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"+Inf\"} 2"
    ));
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/login").await;
    assert_eq!(page.header("x-request-id").map(str::len), Some(36));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page.header("content-security-policy").unwrap().contains("default-src 'self'"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn static_files_are_served_from_the_binary_with_cache_headers() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let login = client.get("/login").await;
    let at = login.body.find("/static/app.css?v=").unwrap();
    let url: String = login.body[at..].chars().take_while(|c| *c != '"').collect();
    let css = client.get(&url).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let htmx = client.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status, 200);
    assert!(htmx.body.contains("htmx"));
    assert_eq!(client.get("/static/../Cargo.toml").await.status, 404);
}

#[tokio::test]
async fn unknown_pages_get_a_404_page_in_the_apps_look_and_language() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Viewer).await;
    *client.accept_language.lock().unwrap() = Some("ru".into());
    let page = client.get("/crm/nowhere").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Страница не найдена"), "{}", page.body);
    assert!(page.body.contains("class=\"sidebar\""));

    let anonymous = app.client().get("/nowhere").await;
    assert_eq!(anonymous.status, 404);
    assert!(anonymous.body.contains("Page not found"));
}

#[tokio::test]
async fn a_server_error_shows_a_generic_page_and_a_generic_json_error() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    // Break the database under the running app: the home page reads the audit log.
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query("ALTER TABLE audit_log RENAME TO audit_log_gone").execute(&mut conn).await.unwrap();

    let page = admin.get("/crm").await;
    assert_eq!(page.status, 500);
    assert!(page.body.contains("Something went wrong"), "{}", page.body);
    assert!(!page.body.contains("audit_log"), "no internals leak into the page");
    assert!(page.body.contains("class=\"sidebar\""), "in the app's look");
}

#[tokio::test]
async fn a_malformed_form_gets_a_readable_400_not_a_bare_rejection() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    // A role form without its role field.
    let page = admin.post("/crm/settings/users/1/role", &[]).await;
    assert!(page.status == 422 || page.status == 400, "{}", page.status);
    assert!(page.body.contains("<html"), "a page, not axum's plain-text rejection: {}", page.body);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_unreachable_while_health_holds() {
    let app = TestApp::spawn().await;
    app.pool.close().await;
    let client = app.client();
    assert_eq!(client.get("/readyz").await.status, 503);
    assert_eq!(client.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn a_static_file_already_held_is_answered_304() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let first = http.get(format!("{}/static/app.css", app.base_url)).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again =
        http.get(format!("{}/static/app.css", app.base_url)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}
