//! Live updates at scale: N inbox streams open over real HTTP (Server-Sent Events), and in each
//! round a note sent through the API and then a client's message received: how long until each
//! stream of the tenant has each (send → received, p50/p99/max); how many HTTP requests the
//! pages make for them; and how many events reached the streams of the other tenants (none
//! should).
//!
//! Each stream stands for a page, as a browser-like client that follows the page's rules (the
//! htmx triggers and static/app.js): of every 10 pages, 4 show the inbox's "All" view (which
//! shows the chat written in), 3 its "Mine" view (the chat is nobody's, so it is not shown)
//! and 3 another area (no list). A page's requests: 1 for `chat` when its list shows the chat
//! or would now, 2 for `resync` (list and badge; 1 without a list), 1 for `chat-N` when that
//! thread is open (none is here), and 2 for the older `inbox` event (list and badge), so the
//! bench also measures the code before this protocol.
//!
//! `cargo bench --bench live`: 1,000 streams of one tenant (10 users' sessions), then 2,000
//! across 20 tenants (100 each). `BENCH_LIVE_TENANTS` and `BENCH_LIVE_STREAMS` (per tenant in
//! the second) change that: 100 and 100 make the 10,000-stream figure. The streams are opened
//! by child processes of this one (at most 4,000 each: `BENCH_LIVE_CHILD` tells a child what it
//! is), so that neither side runs out of open files; each process raises its limit to the hard
//! limit. They report what they hear on their standard output, one line per event.

mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crm::domain::chat::Transport;
use crm::domain::{Actor, ClientId, ContactId};
use crm::services::auth::ClientInfo;
use crm::services::inbound::Incoming;
use crm::services::tenants::NewTenant;
use crm::web::AppState;
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

const PASSWORD: &str = "bench password 1";
const ROUNDS: usize = 5;
/// Streams one child process opens at most.
const PER_CHILD: usize = 4000;

/// A tenant the bench writes in: an API token, the client who writes and their chat (where
/// notes go too), and signed-in sessions of its users (session, user id).
struct Tenant {
    id: crm::domain::TenantId,
    token: String,
    client: (ClientId, ContactId),
    chat: i64,
    sessions: Vec<(String, i64)>,
}

/// What a stream's page shows.
#[derive(Clone, Copy, PartialEq)]
enum Page {
    /// The inbox's "All" view: the chat written in is on it.
    InboxAll,
    /// The inbox's "Mine" view of this user.
    InboxMine(i64),
    /// Another area: no list, only the badge.
    Elsewhere,
}

impl Page {
    /// The tenth page of every ten, by its place.
    fn nth(i: usize, user: i64) -> Page {
        match i % 10 {
            0..=3 => Page::InboxAll,
            4..=6 => Page::InboxMine(user),
            _ => Page::Elsewhere,
        }
    }

    /// As a child is told it: `all`, `mine:ID` or `elsewhere`.
    fn to_arg(self) -> String {
        match self {
            Page::InboxAll => "all".into(),
            Page::InboxMine(me) => format!("mine:{me}"),
            Page::Elsewhere => "elsewhere".into(),
        }
    }

    fn from_arg(s: &str) -> Page {
        match s.split_once(':') {
            Some(("mine", me)) => Page::InboxMine(me.parse().unwrap()),
            _ if s == "all" => Page::InboxAll,
            _ => Page::Elsewhere,
        }
    }

    /// The HTTP requests this page makes for an event, as its htmx triggers and app.js do.
    fn requests(self, name: &str, data: &str) -> u64 {
        let list = self != Page::Elsewhere;
        match name {
            "inbox" => 2,
            "resync" => 1 + list as u64,
            "chat" if list => {
                let facts: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                let shows = match self {
                    // Every chat of the tenant is open here, and the bench's is on the list.
                    Page::InboxAll => facts["status"] == "open",
                    Page::InboxMine(me) => facts["assignee"].as_i64() == Some(me),
                    Page::Elsewhere => false,
                };
                (shows || facts["counts"] == true) as u64
            }
            _ => 0,
        }
    }
}

/// What the streams saw: for each (tenant index, round, what) the arrivals, and per tenant the
/// events of any kind and the requests they made, split by whether the page shows the chat.
struct Seen {
    arrivals: mpsc::UnboundedSender<(usize, usize, u128)>,
    events: Vec<AtomicU64>,
    requests_showing: Vec<AtomicU64>,
    requests_other: Vec<AtomicU64>,
}

#[tokio::main]
async fn main() {
    let files = raise_open_files();
    if std::env::var_os("BENCH_LIVE_CHILD").is_some() {
        return child().await;
    }
    let tenants: usize = std::env::var("BENCH_LIVE_TENANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let per_tenant: usize = std::env::var("BENCH_LIVE_STREAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    println!("open files allowed: {files} per process");
    // A fresh database each run ("SELECT -1::bigint" never answers 0): the tenants are made below.
    let bench = support::database("crm_bench_live", "SELECT -1::bigint", 0, |_| async {}).await;
    let (base, state) = bench.serve_app().await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();

    println!("making {tenants} tenants…");
    let mut all = Vec::with_capacity(tenants);
    for i in 0..tenants {
        all.push(tenant(&state, &http, &base, i, if i == 0 { 10 } else { 1 }).await);
    }

    println!("\n1,000 streams of one tenant (10 users' sessions)");
    let one = &all[..1];
    run(&state, &http, &base, one, 1000, 1).await;

    println!(
        "\n{} streams across {tenants} tenants ({per_tenant} each); each round writes in one tenant",
        tenants * per_tenant
    );
    run(&state, &http, &base, &all, per_tenant, 4).await;
    bench.stop().await;
}

/// The time as the children report it (one clock for every process of the machine).
fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// Opens `per_tenant` streams for each of `tenants` (spread over its sessions) in child
/// processes, writes `ROUNDS` notes and client messages in `writers` tenants in turn, and
/// prints what the streams saw.
async fn run(
    state: &AppState,
    http: &reqwest::Client,
    base: &str,
    tenants: &[Tenant],
    per_tenant: usize,
    writers: usize,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let counters = || tenants.iter().map(|_| AtomicU64::new(0)).collect();
    let seen =
        Arc::new(Seen { arrivals: tx, events: counters(), requests_showing: counters(), requests_other: counters() });
    let mut streams = Vec::new();
    for (t, tenant) in tenants.iter().enumerate() {
        for s in 0..per_tenant {
            let (session, user) = &tenant.sessions[s % tenant.sessions.len()];
            streams.push(format!("{t} {session} {}", Page::nth(s, *user).to_arg()));
        }
    }
    let started = std::time::Instant::now();
    let (opened, failed, ready) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut children = Vec::new();
    for share in streams.chunks(PER_CHILD) {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .env("BENCH_LIVE_CHILD", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start a child");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{base}\n{}\n", share.join("\n")).as_bytes()).await.unwrap();
        drop(stdin);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (seen, opened, failed, ready) = (seen.clone(), opened.clone(), failed.clone(), ready.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let words: Vec<&str> = line.split(' ').collect();
                match words[..] {
                    ["opened", n, m] => {
                        opened.fetch_add(n.parse().unwrap(), Ordering::Relaxed);
                        failed.fetch_add(m.parse().unwrap(), Ordering::Relaxed);
                        ready.fetch_add(1, Ordering::Relaxed);
                    }
                    ["event", t, seq, requests, showing, at] => {
                        let t: usize = t.parse().unwrap();
                        seen.events[t].fetch_add(1, Ordering::Relaxed);
                        let counter = if showing == "1" { &seen.requests_showing } else { &seen.requests_other };
                        counter[t].fetch_add(requests.parse().unwrap(), Ordering::Relaxed);
                        if let Ok(seq) = seq.parse() {
                            let _ = seen.arrivals.send((t, seq, at.parse().unwrap()));
                        }
                    }
                    _ => eprintln!("  child: {line}"),
                }
            }
        });
        children.push(child);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while ready.load(Ordering::Relaxed) < children.len() as u64 {
        assert!(std::time::Instant::now() < deadline, "the streams did not open within 5 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "  {} streams open in {:.1} s by {} child processes ({failed} failed to open)",
        opened.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        children.len()
    );
    assert_eq!(failed, 0, "every stream must open");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let load = |c: &Vec<AtomicU64>| c.iter().map(|e| e.load(Ordering::Relaxed)).collect::<Vec<u64>>();
    let (base_events, base_showing, base_other) =
        (load(&seen.events), load(&seen.requests_showing), load(&seen.requests_other));

    let (mut notes, mut received) = (Vec::new(), Vec::new());
    let mut missing = 0;
    let writers = writers.min(tenants.len());
    for round in 0..ROUNDS {
        let t = round % writers;
        let tenant = &tenants[t];
        for what in 0..2 {
            let seq = round * 2 + what;
            let body = format!("bench-{seq}-{}", if what == 0 { "note" } else { "in" });
            let sent = now_nanos();
            if what == 0 {
                let res = http
                    .post(format!("{base}/api/v1/chats/{}/messages", tenant.chat))
                    .bearer_auth(&tenant.token)
                    .json(&serde_json::json!({"body": body, "transport": "note"}))
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success(), "send: {}", res.status());
            } else {
                let (client, contact) = tenant.client;
                let incoming =
                    Incoming { client, contact, transport: Transport::Sms, sender_name: "Live", body: &body };
                state.inbound.receive_from(tenant.id, incoming).await.unwrap();
            }
            let latencies = if what == 0 { &mut notes } else { &mut received };
            let mut got = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while got < per_tenant {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some((tt, r, at))) if tt == t && r == seq => {
                        latencies.push(Duration::from_nanos(at.saturating_sub(sent) as u64));
                        got += 1;
                    }
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            missing += per_tenant - got;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    for (what, latencies) in
        [("a note sent through the API", &mut notes), ("a client's message received", &mut received)]
    {
        assert!(!latencies.is_empty(), "no stream heard {what}");
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "  {what}: send → received over {} deliveries: p50 {}  p99 {}  max {}",
            latencies.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(latencies[latencies.len() - 1])
        );
    }
    println!("  deliveries missing: {missing}");
    let messages = (ROUNDS * 2) as f64;
    let sum = |c: &Vec<AtomicU64>, base: &[u64]| -> u64 {
        (0..writers).map(|t| c[t].load(Ordering::Relaxed) - base[t]).sum()
    };
    let (showing, other) = (sum(&seen.requests_showing, &base_showing), sum(&seen.requests_other, &base_other));
    // Each message is written in one tenant, where these pages show its chat.
    let pages_showing = (0..per_tenant).filter(|s| Page::nth(*s, 0) == Page::InboxAll).count() as f64;
    println!(
        "  page requests per message: {:.0} ({:.2} per page showing the chat, {:.0} from the {} pages that do not)",
        (showing + other) as f64 / messages,
        showing as f64 / messages / pages_showing,
        other as f64 / messages,
        per_tenant - pages_showing as usize
    );
    let elsewhere: u64 =
        (writers..tenants.len()).map(|t| seen.events[t].load(Ordering::Relaxed) - base_events[t]).sum();
    println!("  events that reached the {} other tenants' streams: {elsewhere}", tenants.len() - writers);
    drop(children);
}

/// A child process: opens the streams its standard input lists (after the base URL, one per
/// line: tenant index, session, page) 200 at a time, says `opened N FAILED`, then writes a
/// line for every event a stream hears until it is stopped.
async fn child() {
    let input = std::io::read_to_string(std::io::stdin()).unwrap();
    let mut lines = input.lines();
    let base = lines.next().unwrap().to_owned();
    let streams: Vec<(usize, String, Page)> = lines
        .map(|l| {
            let mut w = l.split(' ');
            (w.next().unwrap().parse().unwrap(), w.next().unwrap().to_owned(), Page::from_arg(w.next().unwrap()))
        })
        .collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let (out, mut lines_out) = mpsc::unbounded_channel::<String>();
    // One thread writes the lines, so that a line is never cut by another.
    std::thread::spawn(move || {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        while let Some(line) = lines_out.blocking_recv() {
            let mut batch = line;
            while let Ok(more) = lines_out.try_recv() {
                batch.push_str(&more);
            }
            if stdout.write_all(batch.as_bytes()).and_then(|_| stdout.flush()).is_err() {
                return;
            }
        }
    });
    let (opened, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for chunk in streams.chunks(200) {
        // Counted before the batch starts: its first streams may open before the loop below
        // looks (counting after spawning made the bench wait for ever at 5,000 streams).
        let target = opened.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) + chunk.len() as u64;
        for (t, session, page) in chunk.iter().cloned() {
            let (http, base, out, opened, failed) =
                (http.clone(), base.clone(), out.clone(), opened.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = listen(http, base, t, session, page, out, opened).await
                    && failed.fetch_add(1, Ordering::Relaxed) == 0
                {
                    eprintln!("  a stream failed: {e}");
                }
            }));
        }
        // Wait for this batch to be connected (or to fail) before opening the next.
        while opened.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < target {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let _ = out.send(format!("opened {} {}\n", opened.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)));
    futures_util::future::join_all(tasks).await;
}

/// One page's stream: a line for each event it hears, with the requests the page would make
/// for it and, for a bench message, its number and when it arrived.
async fn listen(
    http: reqwest::Client,
    base: String,
    tenant: usize,
    session: String,
    page: Page,
    out: mpsc::UnboundedSender<String>,
    opened: Arc<AtomicU64>,
) -> Result<(), String> {
    let res = http
        .get(format!("{base}/crm/chats/events"))
        .header("cookie", format!("crm_session={session}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("stream: {}", res.status()));
    }
    opened.fetch_add(1, Ordering::Relaxed);
    let mut body = res.bytes_stream();
    let mut pending = String::new();
    while let Some(Ok(chunk)) = body.next().await {
        pending.push_str(&String::from_utf8_lossy(&chunk));
        // Whole events end with a blank line.
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let Some(name) = event.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim) else { continue };
            let data: String = event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            let seq = match name {
                "message" => event.split("bench-").nth(1).and_then(|r| r.split('-').next()).unwrap_or("-"),
                _ => "-",
            };
            let showing = (page == Page::InboxAll) as u8;
            let line = format!("event {tenant} {seq} {} {showing} {}\n", page.requests(name, &data), now_nanos());
            let _ = out.send(line);
        }
    }
    Ok(())
}

/// Tenant `i` with `users` signed-in users (its admin first), a client and its chat.
async fn tenant(state: &AppState, http: &reqwest::Client, base: &str, i: usize, users: usize) -> Tenant {
    let admin_email = format!("admin-{i}@live.bench");
    let (id, admin) = state
        .tenants
        .create(NewTenant {
            name: &format!("Live {i:03}"),
            admin_email: &admin_email,
            admin_name: "Admin",
            admin_password: PASSWORD,
        })
        .await
        .unwrap();
    let token = state.auth.create_api_token(id, admin, "bench", &Actor::System).await.unwrap().token;
    let mut emails = vec![admin_email];
    for u in 1..users {
        let email = format!("agent-{i}-{u}@live.bench");
        state.users.create_from_cli(id, &email, "Agent", PASSWORD, "agent").await.unwrap();
        emails.push(email);
    }
    let mut sessions = Vec::new();
    for email in &emails {
        let who = ClientInfo { ip: "127.0.0.1", user_agent: "bench" };
        let session = state.auth.sign_in(email, PASSWORD, None, who).await.unwrap().token;
        let (_, user) = state.auth.account_by_email(email).await.unwrap().unwrap();
        sessions.push((session, user.0));
    }
    let post = |path: String, body: serde_json::Value| {
        let request = http.post(format!("{base}{path}")).bearer_auth(&token).json(&body);
        async move { request.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let phone = format!("+99890{i:07}");
    let client = post(
        "/api/v1/clients".into(),
        serde_json::json!({"first_name": "Live", "contacts": [{"type": "phone", "value": phone}]}),
    )
    .await;
    let chat = post(format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await;
    let client = (ClientId(client["id"].as_i64().unwrap()), ContactId(client["contacts"][0]["id"].as_i64().unwrap()));
    Tenant { id, token, client, chat: chat["id"].as_i64().unwrap(), sessions }
}

/// Raises this process's limit of open files to the hard limit; returns it.
fn raise_open_files() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}
