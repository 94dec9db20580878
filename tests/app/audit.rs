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
    let role_changed = page.body.find("changed the role of").expect("role change logged");
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
