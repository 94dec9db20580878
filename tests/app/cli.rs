//! The `crm` binary as an operator uses it: against DATABASE_URL, and with the embedded default.

use std::process::{Command, Output};

use crate::helpers::{Credentials, TestApp};

fn crm(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm"));
    cmd.args(args).env_remove("DATABASE_URL").env("CRM_SECRET_KEY", crate::helpers::SECRET_KEY).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run crm")
}

fn last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "crm failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").to_owned()
}

/// The test database as a URL for the binary.
fn database_url(app: &TestApp) -> String {
    let opts = &app.owner;
    let db = opts.get_database().unwrap();
    match opts.get_socket() {
        Some(socket) => {
            format!("postgres://{}@localhost:{}/{db}?host={}", opts.get_username(), opts.get_port(), socket.display())
        }
        None => {
            std::env::var("DATABASE_URL").unwrap().rsplit_once('/').map(|(base, _)| format!("{base}/{db}")).unwrap()
        }
    }
}

#[tokio::test]
async fn tenant_create_prints_an_id_whose_admin_signs_in_and_sees_nothing_else() {
    let app = TestApp::spawn().await;
    let url = database_url(&app);
    let out = crm(
        &[
            "tenant",
            "create",
            "--name",
            "Acme CLI",
            "--admin-email",
            "a@acme.test",
            "--admin-password",
            "acme admin password",
        ],
        &[("DATABASE_URL", &url)],
    );
    let id: uuid::Uuid = last_line(&out).parse().expect("a tenant id on the last line");
    assert_eq!(app.scalar_i64(&format!("SELECT count(*) FROM tenants WHERE id = '{id}'")).await, 1);

    let admin = app.client();
    admin.sign_in(&Credentials { email: "a@acme.test".into(), password: "acme admin password".into() }).await;
    let users = admin.get("/crm/settings/users").await;
    assert!(users.body.contains("a@acme.test"));
    assert!(!users.body.contains("Olivia Owner"), "nothing of the other tenant");
}

#[tokio::test]
async fn user_create_and_token_create_print_their_results_last() {
    let app = TestApp::spawn().await;
    let url = database_url(&app);
    let tenant = app.tenant.to_string();
    let out = crm(
        &[
            "user",
            "create",
            "--email",
            "cli@example.test",
            "--password",
            "cli user password",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
        ],
        &[("DATABASE_URL", &url)],
    );
    let user_id: i64 = last_line(&out).parse().expect("a user id");
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM users WHERE id = {user_id} AND role = 'viewer'")).await,
        1
    );

    let out = crm(&["token", "create", "--email", "cli@example.test", "--name", "ci"], &[("DATABASE_URL", &url)]);
    let token = last_line(&out);
    let me = app.client().api_get("/api/v1/me", &token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], "cli@example.test");
}

#[tokio::test]
async fn bad_input_to_the_cli_fails_with_a_message_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let url = database_url(&app);
    let before = app.scalar_i64("SELECT count(*) FROM users").await;
    let out = crm(
        &[
            "user",
            "create",
            "--email",
            "x@example.test",
            "--password",
            "long enough pass",
            "--role",
            "root",
            "--tenant",
            &app.tenant.to_string(),
        ],
        &[("DATABASE_URL", &url)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("role"), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, _) = app.create_tenant("Second").await;
    let out = crm(
        &["user", "create", "--email", "y@example.test", "--password", "long enough pass", "--role", "agent"],
        &[("DATABASE_URL", &url)],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --tenant"), "two tenants: the CLI asks which");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM users").await,
        before + 1,
        "only the second tenant's admin was added"
    );
}

#[test]
fn the_embedded_default_creates_keeps_and_stops_its_own_cluster() {
    let dir = tempdir("embedded");
    let data = dir.display().to_string();
    let env = [("CRM_DATA_DIR", data.as_str())];

    // First use creates the cluster; the tool stops it when done.
    let out = crm(
        &[
            "tenant",
            "create",
            "--name",
            "Kept",
            "--admin-email",
            "k@kept.test",
            "--admin-password",
            "kept admin password",
        ],
        &env,
    );
    let tenant = last_line(&out);
    assert!(dir.join("postgres/PG_VERSION").exists());
    assert!(!dir.join("postgres/postmaster.pid").exists(), "stopped after the command");

    // A second start reuses it: the tenant is still there (and is the only one).
    let out =
        crm(&["user", "create", "--email", "u@kept.test", "--password", "kept user password", "--role", "agent"], &env);
    last_line(&out);

    // A stale postmaster.pid from a crash, naming a process that is not postgres, is handled.
    std::fs::write(dir.join("postgres/postmaster.pid"), format!("{}\n", std::process::id())).unwrap();
    let out = crm(&["token", "create", "--email", "u@kept.test"], &env);
    assert!(last_line(&out).starts_with("crm_"));
    assert!(!dir.join("postgres/postmaster.pid").exists());
    assert!(!tenant.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn with_database_url_set_nothing_embedded_is_started() {
    let app = TestApp::spawn().await;
    let dir = tempdir("external");
    let out = crm(&["migrate"], &[("DATABASE_URL", &database_url(&app)), ("CRM_DATA_DIR", &dir.display().to_string())]);
    assert_eq!(last_line(&out), "migrations applied");
    assert!(!dir.join("postgres").exists(), "no embedded cluster");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_database_url_fails_with_one_clear_message() {
    let out = crm(&["migrate"], &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to the database"), "{err}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    // Under /tmp so that, run as root, the postgres user can reach it.
    let dir = std::env::temp_dir().join(format!("crm-cli-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn seed_fills_a_tenant_with_clients_and_chats_of_messages() {
    let app = TestApp::spawn().await;
    let url = database_url(&app);
    let out = crm(&["seed", "--clients", "30", "--messages", "500"], &[("DATABASE_URL", &url)]);
    let tenant = last_line(&out).split_whitespace().next().unwrap_or_default().to_owned();
    let in_tenant = |table: &str| format!("SELECT count(*) FROM {table} WHERE tenant_id = '{tenant}'");
    assert_eq!(app.scalar_i64(&in_tenant("clients")).await, 30);
    assert_eq!(app.scalar_i64(&in_tenant("chats")).await, 10, "chats of 50 messages");
    assert_eq!(app.scalar_i64(&in_tenant("messages")).await, 500);
    let unread = app
        .scalar_i64(&format!(
            "SELECT count(*) FROM chats h WHERE tenant_id = '{tenant}' AND unread_count <> (SELECT count(*) \
             FROM messages m WHERE m.chat_id = h.id AND m.direction = 'inbound' AND m.read_at IS NULL)"
        ))
        .await;
    assert_eq!(unread, 0, "each chat's unread count is its unread client messages");
    assert_eq!(app.scalar_i64(&format!("{} AND last_message_id IS NULL", in_tenant("chats"))).await, 0);
    // The planner knows what was written before the first request (not once autovacuum came).
    let unanalysed = app
        .scalar_i64(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('clients', 'chats', 'messages', \
             'client_contacts', 'client_search_words') AND last_analyze IS NULL",
        )
        .await;
    assert_eq!(unanalysed, 0, "ANALYZE ran on the seeded tables");
    let messages_estimate = app.scalar_i64("SELECT reltuples::bigint FROM pg_class WHERE relname = 'messages'").await;
    assert_eq!(messages_estimate, 500);
}
