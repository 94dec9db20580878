//! The deals board at scale, through HTTP: a pipeline's board (every column's count, total and
//! first 20 cards) as JSON and as the page, with filters (owner, words, a tag); a column's next
//! cards; the deal list with filters and sorts; and moving a card (one row written, its history
//! recorded).
//! Prints median, p90 and p99.
//!
//!     cargo bench --bench deals                 # 100,000 deals in one pipeline, 1,000,000 clients
//!     BENCH_DEALS=10000 BENCH_DEAL_CLIENTS=100000 cargo bench --bench deals
//!
//! Seeded once into target/tmp/bench-pg and reused by later runs.

mod support;

use std::time::{Duration, Instant};

use crm::services::auth::ClientInfo;
use crm::services::seed::SeedService;
use serde_json::{Value, json};
use support::PathFor;

#[tokio::main]
async fn main() {
    let env = |name: &str, default: i64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (deals, clients) = (env("BENCH_DEALS", 100_000), env("BENCH_DEAL_CLIENTS", 1_000_000));
    let bench = support::database(
        &format!("crm_bench_deals_{deals}_{clients}"),
        "SELECT count(*) FROM deals",
        deals,
        |pool| async move {
            let pool_for_users = pool.clone();
            println!("seeding {clients} clients and {deals} deals (once; later runs reuse them)…");
            let seeder = SeedService::new(pool, crm::events::EventBus::default());
            let tenant = seeder
                .run(1, clients, |done, total| {
                    if done % 200_000 == 0 || done == total {
                        println!("  {done} / {total} clients");
                    }
                })
                .await
                .unwrap()[0]
                .id;
            // A team of ten: the deals' owners in turn.
            let users = crm::services::UserService::new(pool_for_users, crm::events::EventBus::default());
            for n in 1..10 {
                let email = format!("agent{n}@bench.example");
                users
                    .create_from_cli(tenant, &email, &format!("Agent {n}"), "bench password 1", "agent")
                    .await
                    .unwrap();
            }
            seeder.deals(tenant, deals, |done, total| println!("  {done} / {total} deals")).await.unwrap();
            seeder.analyze().await.unwrap();
        },
    )
    .await;
    let (base, state) = bench.serve_app().await;
    let tenant = state.tenants.list().await.unwrap().into_iter().find(|t| t.name.starts_with("Seed")).unwrap().id;
    // Tags came after some bench databases were seeded: put them on if they are missing.
    let seeder = SeedService::new(state.pool.clone(), crm::events::EventBus::default());
    if seeder.deal_tags(tenant).await.unwrap() > 0 {
        seeder.analyze().await.unwrap();
    }
    let email = format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple());
    let user = state.users.create_from_cli(tenant, &email, "Bench", "bench password 1", "agent").await.unwrap();
    let token = state.auth.create_api_token(tenant, user, "bench", &crm::domain::Actor::System).await.unwrap().token;
    let session = state
        .auth
        .sign_in(&email, "bench password 1", None, ClientInfo { ip: "127.0.0.1", user_agent: "bench" })
        .await
        .unwrap()
        .token;

    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, base, token) = (&http, &base, &token);
        async move {
            http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let pipeline = get("/api/v1/pipelines".into()).await["items"][0].clone();
    let p = pipeline["id"].as_i64().unwrap();
    let stages: Vec<i64> = pipeline["stages"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let board = get(format!("/api/v1/pipelines/{p}/board")).await;
    let owner = board["stages"][0]["deals"][0]["owner_id"].as_i64().unwrap();
    let cursors: Vec<String> = board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["next_cursor"].as_str().unwrap_or("").to_owned())
        .collect();
    let counts: Vec<i64> =
        board["stages"].as_array().unwrap().iter().map(|c| c["deal_count"].as_i64().unwrap()).collect();
    println!("\n{deals} deals in one pipeline of {} stages ({counts:?} a stage), {clients} clients", stages.len());

    let texts = ["warehouse", "flat", "contract 12", "квартира"];
    let tags: Vec<i64> = get("/api/v1/tags".into()).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let (s2, c2, t2) = (stages.clone(), cursors.clone(), tags.clone());
    let scenarios: [(&str, PathFor); 9] = [
        ("board JSON: all columns", Box::new(move |_| format!("/api/v1/pipelines/{p}/board"))),
        ("board JSON: one owner", Box::new(move |_| format!("/api/v1/pipelines/{p}/board?owner_id={owner}"))),
        (
            "board JSON: text filter",
            Box::new(move |i| format!("/api/v1/pipelines/{p}/board?q={}", texts[i % texts.len()])),
        ),
        (
            "column: next 20 cards",
            Box::new(move |i| {
                let n = i % s2.len();
                format!("/api/v1/pipelines/{p}/stages/{}/deals?cursor={}", s2[n], c2[n])
            }),
        ),
        ("list: open, by value", Box::new(move |_| format!("/api/v1/deals?pipeline_id={p}&status=open&sort=value"))),
        (
            "list: owner + stage, by close",
            Box::new({
                let s = stages.clone();
                move |i| format!("/api/v1/deals?owner_id={owner}&stage_id={}&sort=close_on", s[i % s.len()])
            }),
        ),
        ("list: text in title", Box::new(move |i| format!("/api/v1/deals?q={}", texts[i % texts.len()]))),
        // Tags on one deal in 5, 10 and 100.
        (
            "board JSON: tag filter",
            Box::new(move |i| format!("/api/v1/pipelines/{p}/board?tag_id={}", t2[i % t2.len()])),
        ),
        ("list: tag, by value", Box::new(move |i| format!("/api/v1/deals?tag_id={}&sort=value", tags[i % tags.len()]))),
    ];
    support::measure(&base, &token, &scenarios).await;

    // The board page as a browser gets it (signed in, every column rendered).
    let mut times = Vec::new();
    for i in 0..support::WARM_UP + support::SAMPLES {
        let started = Instant::now();
        let res = http
            .get(format!("{base}/crm/deals?pipeline={p}"))
            .header("cookie", format!("crm_session={session}"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "board page: {}", res.status());
        let body = res.text().await.unwrap();
        assert!(body.contains("board-column"));
        if i >= support::WARM_UP {
            times.push(started.elapsed());
        }
    }
    support::row("board page (HTML)", times, "");

    // Moves: a deal to another open stage, before that stage's first card or at its end.
    let open: Vec<usize> = (0..stages.len()).filter(|n| pipeline["stages"][*n]["kind"] == "open").collect();
    let firsts: Vec<i64> = open.iter().map(|n| board["stages"][*n]["deals"][0]["id"].as_i64().unwrap()).collect();
    // The seeded deals' ids run from the lowest on (earlier runs moved cards, not ids).
    let mut owner_conn = sqlx::ConnectOptions::connect(&bench.owner).await.unwrap();
    let lowest: i64 = sqlx::query_scalar("SELECT min(id) FROM deals").fetch_one(&mut owner_conn).await.unwrap();
    let mut times: Vec<Duration> = Vec::new();
    let mut i = 0usize;
    while times.len() < support::SAMPLES {
        let deal = lowest + (i as i64 * 7919) % deals;
        i += 1;
        if firsts.contains(&deal) {
            continue;
        }
        let to = i % open.len();
        let body = if i.is_multiple_of(2) {
            json!({"stage_id": stages[open[to]], "before_deal_id": firsts[to]})
        } else {
            json!({"stage_id": stages[open[to]]})
        };
        let started = Instant::now();
        let res =
            http.post(format!("{base}/api/v1/deals/{deal}/move")).bearer_auth(&token).json(&body).send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "move {deal}: {status} {text}");
        if i > support::WARM_UP {
            times.push(started.elapsed());
        }
    }
    support::row("move a card (POST)", times, "");
    bench.stop().await;
}
