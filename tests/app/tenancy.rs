//! Tenant isolation: the second wall (row-level security) on its own, and both walls through
//! the application.

use crm::db::TenantTx;
use crm::domain::Role;
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::helpers::{Credentials, TestApp};

const TENANT_OWNED: [&str; 4] = ["users", "sessions", "api_tokens", "audit_log"];

#[tokio::test]
async fn inside_a_tenants_transaction_an_unfiltered_select_sees_no_other_tenants_rows() {
    let app = TestApp::spawn().await;
    let (a, a_admin) = app.create_tenant("Alpha").await;
    let (b, b_admin) = app.create_tenant("Bravo").await;
    // Give every tenant-owned table rows in both tenants.
    for creds in [&a_admin, &b_admin] {
        let c = app.client();
        c.sign_in(creds).await;
        c.post("/crm/settings/tokens", &[("name", "probe")]).await;
    }
    for table in TENANT_OWNED {
        let total = app.scalar_i64(&format!("SELECT count(*) FROM {table} WHERE tenant_id = '{}'", b.0)).await;
        assert!(total > 0, "tenant B has {table} rows to leak");

        let mut tx = TenantTx::begin(&app.pool, a).await.unwrap();
        let seen: Vec<Uuid> =
            sqlx::query_scalar(&format!("SELECT tenant_id FROM {table}")).fetch_all(tx.conn()).await.unwrap();
        assert!(!seen.is_empty(), "{table}: tenant A sees its own rows");
        assert!(seen.iter().all(|t| *t == a.0), "{table}: tenant A saw another tenant's rows");
    }
    let mut tx = TenantTx::begin(&app.pool, a).await.unwrap();
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants").fetch_all(tx.conn()).await.unwrap();
    assert_eq!(tenants, vec![a.0]);
}

#[tokio::test]
async fn outside_a_tenant_transaction_the_application_role_sees_nothing() {
    let app = TestApp::spawn().await;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0);
    assert!(app.scalar_i64("SELECT count(*) FROM users").await > 0, "while the owner sees them");
}

#[tokio::test]
async fn a_tenant_cannot_write_rows_into_another_tenant() {
    let app = TestApp::spawn().await;
    let (a, _) = app.create_tenant("Alpha").await;
    let (b, _) = app.create_tenant("Bravo").await;
    let mut tx = TenantTx::begin(&app.pool, a).await.unwrap();
    let err = sqlx::query("INSERT INTO audit_log (tenant_id, actor_name, action, entity, entity_id, summary) VALUES ($1, 'x', 'x', 'x', 'x', 'x')")
        .bind(b.0)
        .execute(tx.conn())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
}

#[tokio::test]
async fn the_application_role_is_neither_superuser_nor_exempt_from_row_security() {
    let app = TestApp::spawn().await;
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!superuser && !bypass);
    let mut conn = app.owner.connect().await.unwrap();
    let unforced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND NOT (c.relrowsecurity AND c.relforcerowsecurity)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(unforced, 0, "every table with tenant_id has forced row-level security");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_of_one_tenant_sees_nothing_of_another() {
    let app = TestApp::spawn().await;
    let (_, b_admin) = app.create_tenant("Bravo").await;
    let demo_user = app.create_user(app.tenant, Role::Agent).await;
    let demo_user_id = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", demo_user.email)).await;

    let bravo = app.client();
    bravo.sign_in(&b_admin).await;
    let users = bravo.get("/crm/settings/users").await;
    assert!(!users.body.contains(&demo_user.email));
    assert!(!users.body.contains("Olivia Owner"));
    let audit = bravo.get("/crm/settings/audit").await;
    assert!(!audit.body.contains(&demo_user.email));

    // Acting on another tenant's user by id: 404, and nothing changes.
    assert_eq!(
        bravo.post(&format!("/crm/settings/users/{demo_user_id}/role"), &[("role", "viewer")]).await.status,
        404
    );
    assert_eq!(bravo.post(&format!("/crm/settings/users/{demo_user_id}/deactivate"), &[]).await.status, 404);
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM users WHERE id = {demo_user_id} AND role = 'agent' AND active"))
            .await,
        1
    );
    app.client().sign_in(&Credentials { email: demo_user.email, password: demo_user.password }).await;
}

#[tokio::test]
async fn client_search_functions_admit_only_the_transactions_tenant() {
    let app = TestApp::spawn().await;
    let (other, _) = app.create_tenant("Other").await;
    for (tenant, name) in [(app.tenant, "Ours"), (other, "Theirs")] {
        let api = app.api_in(tenant, crm::domain::Role::Agent).await;
        let page = api.post("/api/v1/clients", serde_json::json!({"first_name": name})).await;
        assert_eq!(page.status, 201);
    }
    let search = "SELECT ids, total FROM search_clients(NULL, NULL, NULL, false, 100, 0, 1000)";
    let outside: Vec<(Vec<i64>, i64)> = sqlx::query_as(search).fetch_all(&app.pool).await.unwrap();
    assert!(outside.is_empty(), "no tenant, no rows");

    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    let (ids, count): (Vec<i64>, i64) = sqlx::query_as(search).fetch_one(tx.conn()).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT first_name FROM clients WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_all(tx.conn())
        .await
        .unwrap();
    assert_eq!((names, count), (vec!["Ours".to_owned()], 1));
    tx.commit().await.unwrap();

    // The helpers behind it, and the dictionary's lock, are the owner's alone.
    for call in [
        format!("SELECT client_dictionary_lock('{}', true)", other.0),
        format!("SELECT client_search_conditions('{}', ARRAY['%theirs%'])", other.0),
        format!("SELECT client_matches_by_trigram('{}', ARRAY['%theirs%'], NULL, NULL, 10)", other.0),
    ] {
        let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
        let denied = sqlx::query(&call).execute(tx.conn()).await.unwrap_err();
        assert!(denied.to_string().contains("permission denied"), "{call}: {denied}");
    }
}
