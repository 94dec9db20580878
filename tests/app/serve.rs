//! `crm serve` as a new user runs it: the embedded database, demo credentials, a tool sharing
//! the running cluster, JSON logs, graceful shutdown on SIGTERM, and data kept across restarts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::{Client, Credentials};

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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("CRM_DATA_DIR", data_dir)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crm serve");
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Server { child, stdout, stderr, base_url: format!("http://127.0.0.1:{port}") }
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
