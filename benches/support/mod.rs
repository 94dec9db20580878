//! What the HTTP benchmarks share: a private PostgreSQL in target/tmp/bench-pg with a database
//! seeded once per size, the app serving it, and the timing of sequential requests.

#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use crm::app::{self, AppState};
use crm::config::Config;
use crm::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crm::db::{self, quote_ident};
use crm::domain::{Actor, TenantId};
use crm::events::EventBus;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgPool};

pub const WARM_UP: usize = 30;
pub const SAMPLES: usize = 300;

/// A scenario's request path for its i-th request.
pub type PathFor = Box<dyn Fn(usize) -> String>;

pub struct Bench {
    pub pg: EmbeddedPostgres,
    pub pool: PgPool,
    pub owner: PgConnectOptions,
}

/// Starts the benchmark cluster and opens database `name`, made (again) and filled by `seed`
/// unless it exists with current migrations and `seeded_sql` answers `expected`.
pub async fn database<F, Fut>(name: &str, seeded_sql: &str, expected: i64, seed: F) -> Bench
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-pg");
    let pg = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&dir, ClusterOptions { durable: false, long_lived: false }).expect("start PostgreSQL")
    })
    .await
    .unwrap();
    let owner = pg.connect_options(name);
    let mut admin = pg.connect_options("postgres").connect().await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let mut fresh = !exists;
    if exists {
        let mut conn = owner.connect().await.unwrap();
        let seeded: i64 = sqlx::query_scalar(seeded_sql).fetch_one(&mut conn).await.unwrap_or(0);
        // A database made by other migrations (edited during development) is made again.
        let current = db::MIGRATOR.run(&mut conn).await.is_ok();
        conn.close().await.unwrap();
        if seeded != expected || !current {
            admin.execute(format!("DROP DATABASE {} WITH (FORCE)", quote_ident(name)).as_str()).await.unwrap();
            fresh = true;
        }
    }
    if fresh {
        admin.execute(format!("CREATE DATABASE {}", quote_ident(name)).as_str()).await.unwrap();
    }
    admin.close().await.unwrap();
    let mut conn = owner.connect().await.unwrap();
    db::MIGRATOR.run(&mut conn).await.unwrap();
    let pool = db::app_pool(owner.clone(), 16).await.unwrap();
    if fresh {
        let started = Instant::now();
        seed(pool.clone()).await;
        println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    }
    conn.execute("VACUUM ANALYZE").await.unwrap();
    conn.close().await.unwrap();
    Bench { pg, pool, owner }
}

/// The database of `clients` seeded clients in one tenant (`crm seed`'s), made once.
pub async fn clients_database(clients: i64) -> Bench {
    database(&format!("crm_bench_{clients}"), "SELECT count(*) FROM clients", clients, |pool| async move {
        println!("seeding {clients} clients (once; later runs reuse them)…");
        crm::services::seed::SeedService::new(pool, EventBus::default())
            .run(1, clients, |done, total| {
                if done % 200_000 == 0 || done == total {
                    println!("  {done} / {total}");
                }
            })
            .await
            .unwrap();
    })
    .await
}

impl Bench {
    /// Serves the app over the database; returns its base URL and a token of a new `role` user
    /// of the seeded tenant.
    pub async fn serve(&self, role: &str) -> (String, String, TenantId) {
        let (base, token, tenant, _) = self.serve_as(role).await;
        (base, token, tenant)
    }

    /// As `serve`, with the app's state too (to start its background workers).
    pub async fn serve_as(&self, role: &str) -> (String, String, TenantId, AppState) {
        let (base, state) = self.serve_app().await;
        let tenant = state.tenants.list().await.unwrap().into_iter().find(|t| t.name.starts_with("Seed")).unwrap().id;
        let email = format!("bench-{}@bench.example", uuid::Uuid::new_v4().simple());
        let user = state.users.create_from_cli(tenant, &email, "Bench", "bench password 1", role).await.unwrap();
        let token = state.auth.create_api_token(tenant, user, "bench", &Actor::System).await.unwrap().token;
        (base, token, tenant, state)
    }

    /// Serves the app over the database; returns its base URL and its state.
    pub async fn serve_app(&self) -> (String, AppState) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config::from_lookup(|k| match k {
            "CRM_SECRET_KEY" => Some("bench-secret-key-bench-secret-key-bench".into()),
            "BIND_ADDR" => Some(addr.to_string()),
            "CRM_DATA_DIR" => Some(std::env::temp_dir().join("crm-bench-data").display().to_string()),
            _ => None,
        })
        .unwrap();
        let state = AppState::new(config, self.pool.clone(), EventBus::default()).unwrap();
        tokio::spawn(app::serve(listener, state.clone(), std::future::pending()));
        (format!("http://{addr}"), state)
    }

    pub async fn stop(self) {
        self.pool.close().await;
        tokio::task::spawn_blocking(move || self.pg.stop()).await.unwrap().unwrap();
    }
}

/// Runs each scenario: `WARM_UP` requests, then `SAMPLES` timed ones, one at a time; prints
/// the median, p90, p99 and max.
pub async fn measure(base: &str, token: &str, scenarios: &[(&str, PathFor)]) {
    let http = reqwest::Client::new();
    println!("{SAMPLES} sequential requests per scenario after {WARM_UP} to warm up");
    header("");
    for (label, path) in scenarios {
        let mut times = Vec::with_capacity(SAMPLES);
        for i in 0..WARM_UP + SAMPLES {
            let started = Instant::now();
            let res = http.get(format!("{base}{}", path(i))).bearer_auth(token).send().await.unwrap();
            let status = res.status();
            let _ = res.bytes().await.unwrap();
            assert!(status.is_success(), "{label}: {status} for {}", path(i));
            if i >= WARM_UP {
                times.push(started.elapsed());
            }
        }
        row(label, times, "");
    }
}

/// The heading of a table of `row`s; `extra` names a last column, if any.
pub fn header(extra: &str) {
    println!("{:<34} {:>9} {:>9} {:>9} {:>9} {:>10}", "scenario", "median", "p90", "p99", "max", extra);
}

/// One scenario's median, p90, p99 and max, and `extra` in the last column.
pub fn row(label: &str, mut times: Vec<Duration>, extra: &str) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>10}",
        label,
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99)),
        ms(times[times.len() - 1]),
        extra
    );
}
