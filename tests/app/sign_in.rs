//! Signing in and out, sessions, throttling.

use crm::domain::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_login_and_back_to_the_page_asked_for() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let creds = app.create_user(app.tenant, Role::Admin).await;

    let page = client.get("/crm/settings/users?x=1").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/login?next=/crm/settings/users%3Fx%3D1"));

    client.get("/login?next=/crm/settings/users%3Fx%3D1").await;
    let signed_in = client
        .post("/login", &[("email", &creds.email), ("password", &creds.password), ("next", "/crm/settings/users?x=1")])
        .await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location(), Some("/crm/settings/users?x=1"));
}

#[tokio::test]
async fn sign_in_never_redirects_to_another_site() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    client.get("/login").await;
    let page = client
        .post("/login", &[("email", &creds.email), ("password", &creds.password), ("next", "//evil.example/crm")])
        .await;
    assert_eq!(page.location(), Some("/crm"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_message_and_no_session() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    let page = client.try_sign_in(&creds.email, "not the password").await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("The email or password is incorrect."));
    assert!(page.body.contains(&format!("value=\"{}\"", creds.email)), "the email is kept in the form");
    assert!(client.cookie("crm_session").is_none());
    assert_eq!(client.get("/crm").await.status, 303);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    let page = app.client().try_sign_in("nobody@example.test", "whatever password").await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("The email or password is incorrect."));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_only_on_https() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    let page = client.try_sign_in(&creds.email, &creds.password).await;
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("crm_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    let https = TestApp::spawn_with(&[("PUBLIC_URL", "https://crm.example.com")]).await;
    let creds = https.create_user(https.tenant, Role::Agent).await;
    let page = https.client().try_sign_in(&creds.email, &creds.password).await;
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("crm_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn signing_in_again_issues_a_new_session_id_and_ends_the_old_one() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    client.sign_in(&creds).await;
    let first = client.cookie("crm_session").unwrap();

    client.try_sign_in(&creds.email, &creds.password).await;
    let second = client.cookie("crm_session").unwrap();
    assert_ne!(first, second);

    let stale = app.client();
    stale.set_cookie("crm_session", &first);
    assert_eq!(stale.get("/crm").await.status, 303, "the old session id no longer works");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Viewer).await;
    let token = client.cookie("crm_session").unwrap();
    let page = client.post("/logout", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/login"));
    assert!(client.cookie("crm_session").is_none());

    let replay = app.client();
    replay.set_cookie("crm_session", &token);
    assert_eq!(replay.get("/crm").await.status, 303);
    let login = client.get("/login").await;
    assert!(login.body.contains("You have signed out."), "the flash is shown once");
    assert!(!client.get("/login").await.body.contains("You have signed out."));
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_with_a_readable_429() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    for _ in 0..5 {
        assert_eq!(client.try_sign_in(&creds.email, "wrong password!").await.status, 401);
    }
    // Even the right password waits now.
    let page = client.try_sign_in(&creds.email, &creds.password).await;
    assert_eq!(page.status, 429);
    assert!(page.header("retry-after").is_some());
    assert!(page.body.contains("Too many failed attempts"), "{}", page.body);
    assert!(client.cookie("crm_session").is_none());

    // Another account from the same address is not locked by these five.
    let other = app.create_user(app.tenant, Role::Agent).await;
    assert_eq!(app.client().try_sign_in(&other.email, &other.password).await.status, 303);
}

/// Attempts that arrive together are counted one by one: 25 at once get five 401s, then 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_are_throttled_as_if_they_came_one_by_one() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let clients: Vec<_> = (0..25).map(|_| app.client()).collect();
    for c in &clients {
        c.get("/login").await;
    }
    let wrong = [("email", creds.email.as_str()), ("password", "wrong password!")];
    let answers = futures_util::future::join_all(clients.iter().map(|c| c.post("/login", &wrong))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|p| p.status).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20, "{statuses:?}");
    assert_eq!(app.client().try_sign_in(&creds.email, &creds.password).await.status, 429);

    // Across accounts, from one address: thirty, then no more.
    let guesses =
        futures_util::future::join_all(
            (0..40).map(|i| {
                let client = &clients[i % clients.len()];
                async move {
                    client.post("/login", &[("email", &format!("guess{i}@example.test")), ("password", "x")]).await
                }
            }),
        )
        .await;
    // 5 of the address's 30 went to the account above.
    assert_eq!(guesses.iter().filter(|p| p.status == 401).count(), 25);
}

#[tokio::test]
async fn a_right_password_is_not_counted_as_a_failure() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    for _ in 0..40 {
        assert_eq!(app.client().try_sign_in(&creds.email, &creds.password).await.status, 303);
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM login_failures").await, 0);
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_it_across_accounts() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for i in 0..30 {
        client.try_sign_in(&format!("guess{i}@example.test"), "wrong password").await;
    }
    let creds = app.create_user(app.tenant, Role::Agent).await;
    assert_eq!(client.try_sign_in(&creds.email, &creds.password).await.status, 429);
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let id = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", creds.email)).await;
    admin.get("/crm/settings/users").await;
    assert_eq!(admin.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await.status, 303);
    assert_eq!(app.client().try_sign_in(&creds.email, &creds.password).await.status, 401);
}

#[tokio::test]
async fn ended_sessions_are_purged_and_live_ones_kept() {
    let app = TestApp::spawn().await;
    let live = app.sign_in_as(Role::Agent).await;
    let _expired = app.sign_in_as(Role::Agent).await;
    let _idle = app.sign_in_as(Role::Viewer).await;
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT max(id) - 1 FROM users)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE sessions SET last_seen_at = now() - interval '8 days' WHERE user_id = (SELECT max(id) FROM users)",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    assert_eq!(app.state.auth.purge_ended_sessions().await.unwrap(), 2);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM sessions").await, 1);
    assert_eq!(live.get("/crm").await.status, 200);
}

#[tokio::test]
async fn a_session_idle_for_seven_days_or_past_its_thirty_day_life_is_refused() {
    let app = TestApp::spawn().await;
    let idle = app.sign_in_as(Role::Agent).await;
    let old = app.sign_in_as(Role::Agent).await;
    let fresh = app.sign_in_as(Role::Agent).await;
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    let hash = |c: &crate::helpers::Client| crm::crypto::token_hash(&c.cookie("crm_session").unwrap());
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '7 days 1 minute' WHERE token_hash = $1")
        .bind(hash(&idle))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1")
        .bind(hash(&old))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(idle.get("/crm").await.status, 303, "idle too long");
    assert_eq!(old.get("/crm").await.status, 303, "past its life");
    assert_eq!(fresh.get("/crm").await.status, 200);
}

#[tokio::test]
async fn sign_in_ignores_the_case_of_the_email() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let shouted = creds.email.to_uppercase();
    assert_eq!(app.client().try_sign_in(&format!("  {shouted} "), &creds.password).await.status, 303);
}
