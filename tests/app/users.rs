//! Users admin and the user's own profile.

use crm::domain::Role;

use crate::helpers::{Credentials, TestApp};

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{email}'")).await
}

#[tokio::test]
async fn a_viewer_or_agent_opening_users_admin_gets_403() {
    let app = TestApp::spawn().await;
    for role in [Role::Viewer, Role::Agent] {
        let client = app.sign_in_as(role).await;
        let page = client.get("/crm/settings/users").await;
        assert_eq!(page.status, 403, "{role}");
        assert!(page.body.contains("Access denied"), "a page in the app's look");
        assert!(page.body.contains("class=\"sidebar\""), "with the navigation");
        assert_eq!(client.get("/crm/settings/users/new").await.status, 403);
        assert_eq!(client.get("/crm/settings/audit").await.status, 403);
    }
}

#[tokio::test]
async fn an_agent_cannot_add_users_or_change_roles_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let victim = app.create_user(app.tenant, Role::Viewer).await;
    let id = user_id(&app, &victim.email).await;
    let before = app.scalar_i64("SELECT count(*) FROM users").await;
    let page = agent
        .post(
            "/crm/settings/users",
            &[("email", "x@example.test"), ("name", "X"), ("password", "long enough pass"), ("role", "admin")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(agent.post(&format!("/crm/settings/users/{id}/role"), &[("role", "admin")]).await.status, 403);
    assert_eq!(agent.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await.status, 403);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM users").await, before);
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM users WHERE id = {id} AND role = 'viewer' AND active")).await,
        1
    );
}

#[tokio::test]
async fn an_admin_adds_a_user_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/settings/users/new").await;
    let page = admin
        .post(
            "/crm/settings/users",
            &[
                ("email", " Nina@Example.TEST "),
                ("name", "Nina Agent"),
                ("password", "nina's long password"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let list = admin.get("/crm/settings/users").await;
    assert!(list.body.contains("The user has been added."));
    assert!(list.body.contains("nina@example.test"), "email normalised");

    let nina = app.client();
    nina.sign_in(&Credentials { email: "nina@example.test".into(), password: "nina's long password".into() }).await;
    assert_eq!(nina.get("/crm/settings/users").await.status, 403, "an agent");
}

#[tokio::test]
async fn the_add_form_keeps_input_and_shows_each_error_beside_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/settings/users/new").await;
    let page = admin
        .post(
            "/crm/settings/users",
            &[("email", "not-an-email"), ("name", "Kept Name"), ("password", "short"), ("role", "agent")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("value=\"Kept Name\""));
    assert!(page.body.contains("value=\"not-an-email\""));
    assert!(page.body.contains("id=\"new-email-error\">Enter a valid email address"), "{}", page.body);
    assert!(page.body.contains("id=\"new-password-error\">Use at least 10 characters."));
}

#[tokio::test]
async fn a_taken_email_is_named_beside_the_email_field() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let existing = app.create_user(app.tenant, Role::Viewer).await;
    admin.get("/crm/settings/users/new").await;
    let page = admin
        .post(
            "/crm/settings/users",
            &[("email", &existing.email), ("name", "Dup"), ("password", "long enough pass"), ("role", "agent")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"new-email-error\">A user with this email already exists."));
}

#[tokio::test]
async fn an_admin_changes_a_role_and_the_permissions_follow_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let creds = app.create_user(app.tenant, Role::Viewer).await;
    let viewer = app.client();
    viewer.sign_in(&creds).await;
    assert_eq!(viewer.get("/crm/settings/users").await.status, 403);

    let id = user_id(&app, &creds.email).await;
    admin.get("/crm/settings/users").await;
    assert_eq!(admin.post(&format!("/crm/settings/users/{id}/role"), &[("role", "admin")]).await.status, 303);
    assert_eq!(viewer.get("/crm/settings/users").await.status, 200, "same session, new permissions");
}

#[tokio::test]
async fn deactivating_a_user_ends_all_their_sessions_and_reactivating_lets_them_back() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let laptop = app.client();
    let phone = app.client();
    let id = user_id(&app, &creds.email).await;
    let row = |page: &str| page.split(&creds.email).nth(1).unwrap().split("</tr>").next().unwrap().to_owned();
    assert!(row(&admin.get("/crm/settings/users").await.body).contains("Not signed in"));
    laptop.sign_in(&creds).await;
    assert!(row(&admin.get("/crm/settings/users").await.body).contains("Signed in on 1 device<"));
    phone.sign_in(&creds).await;

    assert!(row(&admin.get("/crm/settings/users").await.body).contains("Signed in on 2 devices"));
    assert_eq!(admin.post(&format!("/crm/settings/users/{id}/deactivate"), &[]).await.status, 303);
    assert_eq!(laptop.get("/crm").await.status, 303);
    assert_eq!(phone.get("/crm").await.status, 303);
    assert_eq!(app.scalar_i64(&format!("SELECT count(*) FROM sessions WHERE user_id = {id}")).await, 0);

    assert_eq!(admin.post(&format!("/crm/settings/users/{id}/reactivate"), &[]).await.status, 303);
    laptop.sign_in(&creds).await;
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    // The default tenant's owner is an admin; demote them so only ours remains.
    let admin_creds = app.create_user(app.tenant, Role::Admin).await;
    let admin = app.client();
    admin.sign_in(&admin_creds).await;
    let owner_id = app.scalar_i64("SELECT id FROM users WHERE name = 'Olivia Owner'").await;
    assert_eq!(admin.post(&format!("/crm/settings/users/{owner_id}/role"), &[("role", "agent")]).await.status, 303);

    let me = user_id(&app, &admin_creds.email).await;
    // Said on the users list, where it was asked, not on an error page.
    let page = admin.post(&format!("/crm/settings/users/{me}/role"), &[("role", "viewer")]).await;
    assert_eq!((page.status, page.location()), (303, Some("/crm/settings/users")));
    let list = admin.get("/crm/settings/users").await;
    assert!(list.body.contains("flash-error") && list.body.contains("at least one active admin"), "{}", list.body);
    let page = admin.post(&format!("/crm/settings/users/{me}/deactivate"), &[]).await;
    assert_eq!((page.status, page.location()), (303, Some("/crm/settings/users")));
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM users WHERE id = {me} AND role = 'admin' AND active")).await,
        1
    );
}

#[tokio::test]
async fn a_user_edits_their_own_name_and_language() {
    let app = TestApp::spawn().await;
    let me = app.sign_in_as(Role::Viewer).await;
    me.get("/crm/settings/profile").await;
    let page = me.post("/crm/settings/profile", &[("name", "Vera Viewer"), ("locale", "ru")]).await;
    assert_eq!(page.status, 303);
    let profile = me.get("/crm/settings/profile").await;
    assert!(profile.body.contains("Профиль сохранён."), "the flash in the new language");
    assert!(profile.body.contains("value=\"Vera Viewer\""));
    assert!(profile.body.contains("<html lang=\"ru\">"));

    let bad = me.post("/crm/settings/profile", &[("name", "   "), ("locale", "")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"profile-name-error\""));
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let here = app.client();
    let elsewhere = app.client();
    here.sign_in(&creds).await;
    elsewhere.sign_in(&creds).await;
    here.get("/crm/settings/profile").await;

    let wrong = here
        .post(
            "/crm/settings/password",
            &[
                ("current_password", "nope"),
                ("new_password", "a brand new password"),
                ("confirm_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("The current password is incorrect."));

    let mismatch = here
        .post(
            "/crm/settings/password",
            &[
                ("current_password", &creds.password),
                ("new_password", "a brand new password"),
                ("confirm_password", "something else"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.body.contains("The two passwords do not match."));

    let ok = here
        .post(
            "/crm/settings/password",
            &[
                ("current_password", &creds.password),
                ("new_password", "a brand new password"),
                ("confirm_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(here.get("/crm").await.status, 200, "this session stays");
    assert_eq!(elsewhere.get("/crm").await.status, 303, "the others end");
    assert_eq!(app.client().try_sign_in(&creds.email, &creds.password).await.status, 401);
    app.client().sign_in(&Credentials { email: creds.email.clone(), password: "a brand new password".into() }).await;
}

#[tokio::test]
async fn navigation_shows_only_what_the_role_may_open() {
    let app = TestApp::spawn().await;
    let viewer = app.sign_in_as(Role::Viewer).await;
    let home = viewer.get("/crm").await;
    for item in
        ["href=\"/crm/clients\"", "href=\"/crm/chats\"", "href=\"/crm/instant-messages\"", "href=\"/crm/settings\""]
    {
        assert!(home.body.contains(item), "viewer sees {item}");
    }
    let settings = viewer.get("/crm/settings/profile").await;
    assert!(!settings.body.contains("href=\"/crm/settings/users\""), "no users tab for a viewer");
    let admin = app.sign_in_as(Role::Admin).await;
    assert!(admin.get("/crm/settings/profile").await.body.contains("href=\"/crm/settings/users\""));
}

#[tokio::test]
async fn adding_a_user_publishes_user_created_after_commit_and_a_refused_one_publishes_nothing() {
    use crm::domain::DomainEvent;
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let mut events = app.state.events.subscribe();

    admin.get("/crm/settings/users/new").await;
    admin
        .post(
            "/crm/settings/users",
            &[("email", "evt@example.test"), ("name", "Evt"), ("password", "long enough pass"), ("role", "agent")],
        )
        .await;
    let id = user_id(&app, "evt@example.test").await;
    match events.try_recv() {
        Ok(DomainEvent::UserCreated { tenant_id, user_id }) => {
            assert_eq!((tenant_id, user_id.0), (app.tenant, id));
        }
        other => panic!("expected UserCreated, got {other:?}"),
    }

    admin
        .post(
            "/crm/settings/users",
            &[("email", "evt@example.test"), ("name", "Dup"), ("password", "long enough pass"), ("role", "agent")],
        )
        .await;
    assert!(events.try_recv().is_err(), "a refused change publishes nothing");
}
