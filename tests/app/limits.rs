//! Limits that keep one client from holding the server: slow request heads, metrics labels and
//! who may read them, files checked as they stream in, file responses that stay sandboxed, and
//! live streams that end when their session, role or account does.

use std::time::{Duration, Instant};

use crm::domain::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Client, TestApp};

/// How long the server keeps a connection that sends its request head this way.
async fn held_for(app: &TestApp, dribble: Option<&'static [u8]>) -> Duration {
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let (mut read, mut write) = conn.split();
    let writing = async {
        if let Some(bytes) = dribble {
            for byte in bytes.iter().cycle() {
                if write.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        std::future::pending::<()>().await;
    };
    let mut buf = [0u8; 1024];
    let closed = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let bounded = tokio::time::timeout(Duration::from_secs(40), async {
        tokio::select! {
            () = closed => {},
            () = writing => {},
        }
    });
    assert!(bounded.await.is_ok(), "the connection was still open after 40 s");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_its_request_head_slowly_or_not_at_all_is_closed_within_seconds() {
    let app = TestApp::spawn().await;
    let (silent, dribbling) = tokio::join!(
        held_for(&app, None),
        held_for(&app, Some(b"GET /crm HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
    );
    println!("slow-loris: a silent connection closed after {silent:?}, a dribbling one after {dribbling:?}");
    assert!(silent < Duration::from_secs(12), "{silent:?}");
    assert!(dribbling < Duration::from_secs(12), "{dribbling:?}");
    // And the server still answers.
    assert_eq!(app.client().get("/healthz").await.status, 200);
}

#[tokio::test]
async fn metrics_label_only_known_methods_and_routes_and_can_require_a_token() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", "scrape-token-0123456789")]).await;
    let http = reqwest::Client::new();
    for method in ["FOO", "BAR", "PROPFIND"] {
        let res =
            http.request(method.parse().unwrap(), format!("{}/crm/x{method}", app.base_url)).send().await.unwrap();
        assert!(res.status().is_client_error());
    }
    let url = format!("{}/metrics", app.base_url);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "no token");
    assert_eq!(http.get(&url).bearer_auth("wrong-token-0123456789").send().await.unwrap().status(), 401);
    let text = http.get(&url).bearer_auth("scrape-token-0123456789").send().await.unwrap().text().await.unwrap();
    assert!(text.contains("method=\"other\",route=\"unmatched\""), "{text}");
    for method in ["FOO", "BAR", "PROPFIND"] {
        assert!(!text.contains(method), "{method} made a series of its own");
    }
    assert!(!text.contains("/crm/x"), "paths are never labels");
}

#[tokio::test]
async fn metrics_move_to_their_own_address_when_one_is_set() {
    let app = TestApp::spawn_with(&[("METRICS_ADDR", "127.0.0.1:9")]).await;
    assert_eq!(app.client().get("/metrics").await.status, 404, "not on the public address");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = crm::web::ops::metrics_router(app.state.clone());
    tokio::spawn(crm::app::serve_router(listener, router, std::future::pending()));
    app.client().get("/healthz").await;
    let text = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert_eq!(reqwest::get(format!("http://{addr}/crm")).await.unwrap().status(), 404, "metrics only");
}

#[tokio::test]
async fn files_keep_their_sandbox_and_a_file_too_large_is_refused_as_it_streams() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let client = api.post("/api/v1/clients", serde_json::json!({"first_name": "Ann"})).await.json();
    let chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json()["id"]
        .as_i64()
        .unwrap();
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get(&format!("/crm/chats/{chat}")).await;
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{chat}/messages"),
            "files",
            &[("plan.png", crate::fakes::PNG)],
            &[("body", "See this"), ("via", "note"), ("note", "1")],
        )
        .await;
    assert!(sent.status < 400, "{}", sent.body);
    let attachment: i64 =
        sqlx::query_scalar("SELECT id FROM message_attachments").fetch_one(&app.owner_pool().await).await.unwrap();
    let file = agent.get(&format!("/crm/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-security-policy"), Some("default-src 'none'; sandbox"));

    // A file past the limit: refused with the reason, the text kept, nothing stored.
    let big = vec![b'x'; crm::domain::attachment::MAX_FILE_BYTES + 1];
    let refused = agent
        .upload_files(
            &format!("/crm/chats/{chat}/messages"),
            "files",
            &[("big.txt", &big)],
            &[("body", "Too big"), ("via", "note"), ("note", "1")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", &refused.body[..refused.body.len().min(300)]);
    assert!(refused.body.contains("at most 16 MB"));
    assert!(refused.body.contains("Too big"), "what was typed is kept");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attachments").await, 1);
}

/// How long the browser's live stream stays open once `action` is done.
async fn stream_ends_within(
    app: &TestApp,
    browser: &Client,
    action: impl std::future::Future<Output = ()>,
) -> Duration {
    // The stream's first words arrive before anything is done.
    let mut stream = app.live_stream(browser).await;
    action.await;
    let started = Instant::now();
    let ended =
        tokio::time::timeout(Duration::from_secs(20), async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(ended.is_ok(), "the stream was still open 20 s later");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_end_within_seconds_of_sign_out_a_role_change_or_deactivation() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/settings/users").await;

    let leaving = app.sign_in_as(Role::Agent).await;
    let sign_out = async {
        leaving.get("/crm").await;
        assert_eq!(leaving.post("/logout", &[]).await.status, 303);
    };
    let after_sign_out = stream_ends_within(&app, &leaving, sign_out).await;

    let creds = app.create_user(app.tenant, Role::Agent).await;
    let demoted = app.client();
    demoted.sign_in(&creds).await;
    let (_, id) = app.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
    let demote = async {
        let page = admin.post(&format!("/crm/settings/users/{id}/role"), &[("role", "viewer")]).await;
        assert_eq!(page.status, 303, "{}", page.body);
    };
    let after_role_change = stream_ends_within(&app, &demoted, demote).await;

    let creds = app.create_user(app.tenant, Role::Agent).await;
    let gone = app.client();
    gone.sign_in(&creds).await;
    let (_, id) = app.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
    let deactivate = async {
        assert_eq!(admin.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await.status, 303);
    };
    let after_deactivation = stream_ends_within(&app, &gone, deactivate).await;
    println!(
        "live streams ended {after_sign_out:?} after sign-out, {after_role_change:?} after a role change, \
         {after_deactivation:?} after deactivation"
    );
    for took in [after_sign_out, after_role_change, after_deactivation] {
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
    // A stream of another session of the same user goes on after one signs out.
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let (one, two) = (app.client(), app.client());
    one.sign_in(&creds).await;
    two.sign_in(&creds).await;
    let mut stream = app.live_stream(&two).await;
    one.get("/crm").await;
    one.post("/logout", &[]).await;
    let still = tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await;
    assert!(still.is_err(), "the other session's stream is still open: {still:?}");

    // A password change ends the user's other sessions, and so their streams.
    let elsewhere = app.client();
    elsewhere.sign_in(&creds).await;
    let change = async {
        elsewhere.get("/crm/settings/profile").await;
        let fields = [
            ("current_password", creds.password.as_str()),
            ("new_password", "a brand new password 7"),
            ("confirm_password", "a brand new password 7"),
        ];
        assert!(elsewhere.post("/crm/settings/password", &fields).await.status < 400);
    };
    let after_password_change = stream_ends_within(&app, &two, change).await;
    assert!(after_password_change < Duration::from_secs(3), "{after_password_change:?}");
}
