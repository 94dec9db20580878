//! A 100,000-row client CSV through the import service: reading the upload, the dry run and
//! the import, each timed, with rows per second.
//!
//!     cargo bench --bench client_import               # 100,000 rows
//!     BENCH_IMPORT_ROWS=20000 cargo bench --bench client_import
//!
//! The file has what real ones have: Russian headers, a semicolon delimiter, dates as
//! DD.MM.YYYY, a Telegram column, 1% rows with a bad phone and 1% repeating an earlier phone.
//! A fresh database each run (in target/tmp/bench-pg), so every row is a new client.

use std::time::Instant;

use crm::app::AppState;
use crm::config::Config;
use crm::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crm::db::{self, quote_ident};
use crm::domain::Actor;
use crm::domain::client::import::{Duplicates, Mapping, Sheet, Status};
use crm::events::EventBus;
use crm::services::tenants::NewTenant;
use sqlx::{ConnectOptions, Connection, Executor};

fn file(rows: usize) -> String {
    let mut csv = String::from("Имя;Фамилия;Телефон;E-mail;Telegram;Дата рождения\n");
    for i in 0..rows {
        let phone = match i % 100 {
            7 => "12345".to_owned(),             // invalid
            13 => format!("+99890{:07}", i - 1), // repeats the row before
            _ => format!("+998 90 {:03} {:02} {:02}", i / 10_000, (i / 100) % 100, i % 100),
        };
        let day = 1 + i % 28;
        csv.push_str(&format!(
            "Client{i};Surname{};{phone};client{i}@example.com;@client_{i:06};{day:02}.0{}.19{}\n",
            i % 977,
            1 + i % 9,
            50 + i % 50
        ));
    }
    csv
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("BENCH_IMPORT_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-pg");
    let pg = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&dir, ClusterOptions { durable: false, long_lived: false }).expect("start PostgreSQL")
    })
    .await
    .unwrap();
    let name = "crm_bench_import";
    let mut admin = pg.connect_options("postgres").connect().await.unwrap();
    admin.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)).as_str()).await.unwrap();
    admin.execute(format!("CREATE DATABASE {}", quote_ident(name)).as_str()).await.unwrap();
    admin.close().await.unwrap();
    let owner = pg.connect_options(name);
    let mut conn = owner.connect().await.unwrap();
    db::MIGRATOR.run(&mut conn).await.unwrap();
    let pool = db::app_pool(owner.clone(), 8).await.unwrap();
    let config = Config::from_lookup(|k| match k {
        "CRM_SECRET_KEY" => Some("bench-secret-key-bench-secret-key-bench".into()),
        "CRM_DATA_DIR" => Some(std::env::temp_dir().join("crm-bench-data").display().to_string()),
        _ => None,
    })
    .unwrap();
    let state = AppState::new(config, pool.clone(), EventBus::default()).unwrap();
    let (tenant, _) = state
        .tenants
        .create(NewTenant {
            name: "Import bench",
            admin_email: "admin@import-bench.example",
            admin_name: "Bench Admin",
            admin_password: "bench password 1",
        })
        .await
        .unwrap();
    let user = state.users.create_from_cli(tenant, "agent@import-bench.example", "Agent", "bench password 1", "agent");
    let user = user.await.unwrap();
    let token = state.auth.create_api_token(tenant, user, "bench", &Actor::System).await.unwrap().token;
    let me = state.auth.api_principal(&token).await.unwrap().unwrap();

    let csv = file(rows);
    println!("{rows} rows, {:.1} MB", csv.len() as f64 / 1e6);
    let started = Instant::now();
    let id = state.imports.upload(&me, "bench.csv", csv.as_bytes(), "utf-8".parse().unwrap()).await.unwrap();
    let upload = started.elapsed();
    let header = Sheet::parse(&csv).unwrap().header;
    let mapping = Mapping::new(Mapping::guess(&header, &[])).unwrap();
    let (_stop, stop) = tokio::sync::watch::channel(false);

    let mut timings = Vec::new();
    for dry_run in [true, false] {
        state.imports.start(&me, id, &mapping, Duplicates::Skip, dry_run).await.unwrap();
        let started = Instant::now();
        assert!(state.imports.run_next(&stop).await.unwrap());
        let took = started.elapsed();
        let import = state.imports.get(&me, id).await.unwrap();
        assert_eq!(import.status, if dry_run { Status::Checked } else { Status::Done }, "{:?}", import.error);
        let c = import.counts;
        println!(
            "{:<8} created {}, skipped {}, failed {} of {}",
            if dry_run { "dry run" } else { "import" },
            c.created,
            c.skipped,
            c.failed,
            c.rows_done
        );
        timings.push((if dry_run { "dry run" } else { "import" }, took));
    }
    conn.close().await.unwrap();

    println!("\n{:<24} {:>10} {:>12}", "step", "time", "rows/s");
    println!("{:<24} {:>8.0}ms {:>12}", "upload (read + store)", upload.as_secs_f64() * 1e3, "");
    for (label, took) in timings {
        println!("{:<24} {:>9.1}s {:>12.0}", label, took.as_secs_f64(), rows as f64 / took.as_secs_f64());
    }
    let _ = pg.stop();
}
