//! `crm serve` as a new user runs it: the embedded database, demo credentials, a tool sharing
//! the running cluster, JSON logs, graceful shutdown on SIGTERM, and data kept across restarts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::channels::{CLIENT, OUR_NUMBER};
use crate::fakes::{ACCOUNT_SID, AUTH_TOKEN, FakeTwilio};
use crate::helpers::{Api, Client, Credentials};

struct Server {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    base_url: String,
}

fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn start(data_dir: &std::path::Path) -> Server {
    start_with(data_dir, &[])
}

/// `crm serve` on the data dir with the default configuration, but for `vars`.
fn start_with(data_dir: &std::path::Path, vars: &[(&str, &str)]) -> Server {
    let bind = match vars.iter().find(|(k, _)| *k == "BIND_ADDR") {
        Some((_, addr)) => (*addr).to_owned(),
        None => free_address(),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("serve")
        .envs(vars.iter().copied())
        .env_remove("DATABASE_URL")
        .env_remove("CRM_SECRET_KEY")
        .env("CRM_DATA_DIR", data_dir)
        .env("BIND_ADDR", &bind)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crm serve");
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Server { child, stdout, stderr, base_url: format!("http://{bind}") }
}

fn free_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("127.0.0.1:{port}")
}

impl Server {
    /// Stdout up to and including the "running at" line.
    fn wait_until_running(&self) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.stdout.recv_timeout(Duration::from_secs(60)).expect("crm serve did not start within 60 s");
            let done = line.starts_with("CRM is running at");
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        // SAFETY: sending SIGTERM to the child this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().expect("wait for crm serve");
        let logs = self.stderr.try_iter().collect();
        (status, logs)
    }
}

fn demo_credentials(stdout: &[String]) -> Credentials {
    let field = |name: &str| {
        stdout
            .iter()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {name} in {stdout:?}"))
    };
    Credentials { email: field("email:"), password: field("password:") }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_on_the_embedded_database_and_keeps_its_data_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("crm-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();

    // First run: a demo tenant and its credentials on the console.
    let server = start(&dir);
    let stdout = tokio::task::block_in_place(|| server.wait_until_running());
    let demo = demo_credentials(&stdout);
    let client = Client::new(&server.base_url);
    client.sign_in(&demo).await;
    assert!(client.get("/crm").await.body.contains("Demo"));

    // A tool beside the running server shares its cluster, and leaves it running.
    let out = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args([
            "user",
            "create",
            "--email",
            "second@demo.example",
            "--password",
            "second user password",
            "--role",
            "agent",
        ])
        .env_remove("DATABASE_URL")
        .env("CRM_DATA_DIR", &dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(client.get("/readyz").await.status, 200, "the server's database is still up");
    let users = client.get("/crm/settings/users").await;
    assert!(users.body.contains("second@demo.example"));

    // SIGTERM: a clean exit, and the embedded PostgreSQL is stopped.
    let (status, logs) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "exit status {status}");
    assert!(!dir.join("postgres/postmaster.pid").exists(), "PostgreSQL still running");
    let request_line = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "request" && v["route"] == "/crm/settings/users")
        .unwrap_or_else(|| panic!("no JSON request line in {logs:#?}"));
    assert_eq!(request_line["status"], 200);
    assert_eq!(request_line["span"]["request_id"].as_str().map(str::len), Some(36));

    // Second run: no new demo tenant, and the data is still there.
    let server = start(&dir);
    let stdout = tokio::task::block_in_place(|| server.wait_until_running());
    assert!(!stdout.iter().any(|l| l.contains("password:")), "no second demo tenant");
    let again = Client::new(&server.base_url);
    again.sign_in(&Credentials { email: "second@demo.example".into(), password: "second user password".into() }).await;
    let (status, _) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CLI's last line of stdout, run beside a server on the same data dir.
fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("CRM_SECRET_KEY")
        .env("CRM_DATA_DIR", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned()
}

/// The key `crm serve` generates on first run means the same after a restart: channel secrets
/// saved before it still verify Twilio's signatures and send replies, and a session's CSRF
/// token still works (it meant another key after the first restart once).
#[tokio::test(flavor = "multi_thread")]
async fn a_default_install_keeps_its_channel_secrets_and_csrf_tokens_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("crm-restart-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (twilio, twilio_url) = FakeTwilio::start().await;
    // The same address after the restart, as a real install keeps it (and PUBLIC_URL with it).
    let bind = free_address();
    let vars = [("TWILIO_API_BASE", twilio_url.as_str()), ("BIND_ADDR", bind.as_str())];
    let http = reqwest::Client::new();

    let server = start_with(&dir, &vars);
    let stdout = tokio::task::block_in_place(|| server.wait_until_running());
    let demo = demo_credentials(&stdout);
    let token = cli(&dir, &["token", "create", "--email", &demo.email]);
    let channel = Api::new(&server.base_url, &token)
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Main line", "account_sid": ACCOUNT_SID,
                   "auth_token": AUTH_TOKEN, "from": OUR_NUMBER}),
        )
        .await;
    assert_eq!(channel.status, 201, "{}", channel.body);
    let browser = Client::new(&server.base_url);
    browser.sign_in(&demo).await;
    let (status, _) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success());

    let server = start_with(&dir, &vars);
    tokio::task::block_in_place(|| server.wait_until_running());
    // Twilio's signature is checked with the auth token saved before the restart.
    let url = format!("{}/crm/webhooks/twilio", server.base_url);
    let fields: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("From", CLIENT),
        ("To", OUR_NUMBER),
        ("Body", "Are you open today?"),
        ("NumMedia", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let signature = crm::transport::twilio::signature(AUTH_TOKEN, &url, &fields);
    let inbound = http.post(&url).header("X-Twilio-Signature", signature).form(&fields).send().await.unwrap();
    assert_eq!(inbound.status(), 200, "{}", inbound.text().await.unwrap());

    // The reply goes out through Twilio with the saved credentials.
    let api = Api::new(&server.base_url, &token);
    let chat =
        api.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().expect("the inbound message made a chat");
    let reply = api
        .post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Yes, until 8 pm.", "transport": "sms"}))
        .await;
    assert_eq!(reply.status, 202);
    let reply = reply.json();
    let mut status = String::new();
    for _ in 0..100 {
        let messages = api.get(&format!("/api/v1/chats/{chat}/messages")).await.json();
        let mine = messages["items"].as_array().unwrap().iter().find(|m| m["id"] == reply["id"]).cloned().unwrap();
        status = mine["status"].as_str().unwrap_or_default().to_owned();
        if status != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if status != "sent" {
        let (_, logs) = tokio::task::block_in_place(|| server.terminate());
        panic!("the reply is {status}: {logs:#?}");
    }
    let sent = twilio.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["Body"], "Yes, until 8 pm.");
    assert_eq!(sent[0]["To"], CLIENT);

    // The session's CSRF token from before the restart is still accepted.
    let switched = browser.post("/crm/locale", &[("locale", "ru")]).await;
    assert_eq!(switched.status, 303, "{}", switched.body);

    let (status, _) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server's peak resident memory so far, in MB (`VmHWM`).
fn peak_mb(server: &Server) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// A message's file is checked as it streams in: one far past the 16 MB limit is refused without
/// the server ever holding it (it held the whole 70 MB, and more, before the size was checked).
#[tokio::test(flavor = "multi_thread")]
async fn a_file_far_too_large_is_refused_without_being_held_in_memory() {
    let dir = std::env::temp_dir().join(format!("crm-upload-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = start(&dir);
    let stdout = tokio::task::block_in_place(|| server.wait_until_running());
    let demo = demo_credentials(&stdout);
    let api = Api::new(&server.base_url, &cli(&dir, &["token", "create", "--email", &demo.email]));
    let client = api.post("/api/v1/clients", json!({"first_name": "Ann"})).await.json();
    let chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json();
    let browser = Client::new(&server.base_url);
    browser.sign_in(&demo).await;
    let thread = format!("/crm/chats/{}", chat["id"]);
    browser.get(&thread).await;
    let small = browser
        .upload_files(&format!("{thread}/messages"), "files", &[("small.txt", &[b'x'; 1000])], &[("note", "1")])
        .await;
    assert!(small.status < 400, "{}", small.body);
    let before = peak_mb(&server);

    let huge = vec![b'x'; 70 * 1024 * 1024];
    let refused = browser
        .upload_files(
            &format!("{thread}/messages"),
            "files",
            &[("huge.txt", &huge)],
            &[("body", "Huge"), ("note", "1")],
        )
        .await;
    let after = peak_mb(&server);
    println!("a 70 MB file: peak memory {before:.0} MB before, {after:.0} MB after");
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("at most 16 MB"));
    assert!(after - before < 30.0, "the server's peak grew from {before:.0} MB to {after:.0} MB");
    let (status, _) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `METRICS_ADDR` and `METRICS_TOKEN` as `crm serve` reads them: the metrics on their own
/// address behind the token, not on the public one, and one SIGTERM stops both.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_on_their_own_address_behind_a_token() {
    let dir = std::env::temp_dir().join(format!("crm-metrics-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let metrics = free_address();
    let vars = [("METRICS_ADDR", metrics.as_str()), ("METRICS_TOKEN", "scrape-token-0123456789")];
    let server = start_with(&dir, &vars);
    tokio::task::block_in_place(|| server.wait_until_running());
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/healthz", server.base_url)).send().await.unwrap().status(), 200);
    assert_eq!(http.get(format!("{}/metrics", server.base_url)).send().await.unwrap().status(), 404);
    let url = format!("http://{metrics}/metrics");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "the token is required");
    let text = http.get(&url).bearer_auth("scrape-token-0123456789").send().await.unwrap().text().await.unwrap();
    assert!(text.contains("route=\"/healthz\""), "{text}");
    let (status, _) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "exit status {status}");
    assert!(http.get(&url).send().await.is_err(), "the metrics address is closed too");
    let _ = std::fs::remove_dir_all(&dir);
}
