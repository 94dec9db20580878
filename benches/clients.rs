//! Client search and open at scale, through HTTP: prints median, p90 and p99 per scenario.
//!
//!     cargo bench --bench clients              # 1,000,000 clients in one tenant
//!     BENCH_CLIENTS=100000 cargo bench --bench clients
//!
//! The database is seeded once into target/tmp/bench-pg and reused by later runs of the same
//! size. Requests are sequential (one client), so the figures are latencies, not throughput.

use std::time::{Duration, Instant};

use crm::app::{self, AppState};
use crm::config::Config;
use crm::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crm::db::{self, quote_ident};
use crm::domain::Actor;
use crm::events::EventBus;
use crm::services::seed::SeedService;
use sqlx::{ConnectOptions, Connection, Executor};

const WARM_UP: usize = 30;
/// A scenario's request path for its i-th request.
type PathFor = Box<dyn Fn(usize) -> String>;
const SAMPLES: usize = 300;

/// What a person types to find a seeded client by phone: the operator code and the first
/// digits of the number, as in "93 555 12" (the same formula as `repos::seed`).
fn typed_phone(i: usize, clients: i64) -> String {
    let n = 1 + (i as i64 * 104_729) % clients;
    let operator = ["0", "1", "3", "4", "5", "7", "9"][(n % 7) as usize];
    let digits = format!("{:07}", (n * 7919 + 1_234_567) % 10_000_000);
    format!("9{operator}%20{}%20{}", &digits[..3], &digits[3..5])
}

#[tokio::main]
async fn main() {
    let clients: i64 = std::env::var("BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-pg");
    let pg = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&dir, ClusterOptions { durable: false, long_lived: false }).expect("start PostgreSQL")
    })
    .await
    .unwrap();

    let name = format!("crm_bench_{clients}");
    let owner = pg.connect_options(&name);
    let mut admin = pg.connect_options("postgres").connect().await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let mut fresh = !exists;
    if exists {
        let mut conn = owner.connect().await.unwrap();
        let seeded: i64 = sqlx::query_scalar("SELECT count(*) FROM clients").fetch_one(&mut conn).await.unwrap_or(0);
        // A database made by other migrations (edited during development) is made again.
        let current = db::MIGRATOR.run(&mut conn).await.is_ok();
        conn.close().await.unwrap();
        if seeded != clients || !current {
            admin.execute(format!("DROP DATABASE {} WITH (FORCE)", quote_ident(&name)).as_str()).await.unwrap();
            fresh = true;
        }
    }
    if fresh {
        admin.execute(format!("CREATE DATABASE {}", quote_ident(&name)).as_str()).await.unwrap();
    }
    admin.close().await.unwrap();

    let mut conn = owner.connect().await.unwrap();
    db::MIGRATOR.run(&mut conn).await.unwrap();
    let pool = db::app_pool(owner.clone(), 16).await.unwrap();
    let events = EventBus::default();
    if fresh {
        println!("seeding {clients} clients (once; later runs reuse them)…");
        let started = Instant::now();
        SeedService::new(pool.clone(), events.clone())
            .run(1, clients, |done, total| {
                if done % 200_000 == 0 || done == total {
                    println!("  {done} / {total}");
                }
            })
            .await
            .unwrap();
        println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    }
    conn.execute("VACUUM ANALYZE clients").await.unwrap();
    conn.close().await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_lookup(|k| match k {
        "CRM_SECRET_KEY" => Some("bench-secret-key-bench-secret-key-bench".into()),
        "BIND_ADDR" => Some(addr.to_string()),
        "CRM_DATA_DIR" => Some(std::env::temp_dir().join("crm-bench-data").display().to_string()),
        _ => None,
    })
    .unwrap();
    let state = AppState::new(config, pool.clone(), events).unwrap();
    let tenant = state.tenants.list().await.unwrap().into_iter().find(|t| t.name.starts_with("Seed")).unwrap().id;
    let email = format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple());
    let user = state.users.create_from_cli(tenant, &email, "Bench", "bench password 1", "viewer").await.unwrap();
    let token = state.auth.create_api_token(tenant, user, "bench", &Actor::System).await.unwrap().token;
    tokio::spawn(app::serve(listener, state, std::future::pending()));

    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let full_names = [
        "dilnoza%20karimov",
        "sergey%20ivanov",
        "olivia%20smith",
        "timur%20aliyeva",
        "anna%20petrova",
        "zarina%20walker",
    ];
    let names = ["dilno", "karimov", "aliyeva", "sergey", "olivia", "petrova", "bekzod", "walker", "timur", "nazar"];
    let scenarios: [(&str, PathFor); 4] = [
        ("search: name fragment", Box::new(move |i| format!("/api/v1/clients?q={}", names[i % names.len()]))),
        (
            "search: name + surname",
            Box::new(move |i| format!("/api/v1/clients?q={}", full_names[i % full_names.len()])),
        ),
        ("search: phone digits", Box::new(move |i| format!("/api/v1/clients?q={}", typed_phone(i, clients)))),
        ("open client by id", Box::new(move |i| format!("/api/v1/clients/{}", 1 + (i * 104729) % clients as usize))),
    ];
    println!(
        "\n{clients} clients in one tenant; {SAMPLES} sequential requests per scenario after {WARM_UP} to warm up"
    );
    println!("{:<26} {:>9} {:>9} {:>9} {:>9}", "scenario", "median", "p90", "p99", "max");
    for (label, path) in &scenarios {
        let mut times = Vec::with_capacity(SAMPLES);
        for i in 0..WARM_UP + SAMPLES {
            let started = Instant::now();
            let res = http.get(format!("{base}{}", path(i))).bearer_auth(&token).send().await.unwrap();
            let status = res.status();
            let _ = res.bytes().await.unwrap();
            assert!(status.is_success(), "{label}: {status} for {}", path(i));
            if i >= WARM_UP {
                times.push(started.elapsed());
            }
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:<26} {:>9} {:>9} {:>9} {:>9}",
            label,
            ms(at(0.5)),
            ms(at(0.9)),
            ms(at(0.99)),
            ms(times[times.len() - 1])
        );
    }
    pool.close().await;
    tokio::task::spawn_blocking(move || pg.stop()).await.unwrap().unwrap();
}
