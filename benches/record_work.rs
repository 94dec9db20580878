//! Work on records at scale, on the clients bench's database (1,000,000 clients):
//!
//!     cargo bench --bench record_work
//!
//! - a client's timeline of 10,000 entries: its first page, a kind, a page deep in it, over
//!   HTTP (median, p90, p99);
//! - 10,000 reminders coming due within the same minute, fired by two task clocks (two nodes'
//!   worth, each with its own pool): how long after the last came due all had fired, and that
//!   each fired once;
//! - a bulk tag of 100,000 clients through `POST /api/v1/bulk`: how long it took, and the
//!   client list's latency meanwhile.

mod support;

use std::time::{Duration, Instant};

use crm::events::EventBus;
use crm::services::TaskService;
use serde_json::json;
use sqlx::Executor;

#[tokio::main]
async fn main() {
    let clients: i64 = std::env::var("BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let bench = support::clients_database(clients).await;
    let (base, token, tenant, state) = bench.serve_as("admin").await;
    let owner = sqlx::PgPool::connect_with(bench.owner.clone()).await.unwrap();
    let http = reqwest::Client::new();

    // 1. A timeline of 10,000 entries (written once; later runs reuse them).
    let client: i64 = sqlx::query_scalar("SELECT min(id) FROM clients WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_one(&owner)
        .await
        .unwrap();
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM activities WHERE tenant_id = $1 AND client_id = $2")
        .bind(tenant.0)
        .bind(client)
        .fetch_one(&owner)
        .await
        .unwrap();
    if entries < 10_000 {
        sqlx::query(
            "INSERT INTO activities (tenant_id, client_id, kind, actor_type, actor_name, summary, happened_at)
             SELECT $1, $2, (ARRAY['note','message_in','message_out','field_changed','task_created'])[1 + g % 5],
                    'user', 'Bench', 'Entry ' || g, now() - (10000 - g) * interval '1 minute'
             FROM generate_series(1, 10000 - $3) g",
        )
        .bind(tenant.0)
        .bind(client)
        .bind(entries)
        .execute(&owner)
        .await
        .unwrap();
        owner.execute("ANALYZE activities").await.unwrap();
    }
    let deep: i64 = sqlx::query_scalar(
        "SELECT id FROM activities WHERE tenant_id = $1 AND client_id = $2 ORDER BY id DESC OFFSET 5000 LIMIT 1",
    )
    .bind(tenant.0)
    .bind(client)
    .fetch_one(&owner)
    .await
    .unwrap();
    let kinds = ["note", "message_in", "field_changed"];
    let scenarios: [(&str, support::PathFor); 3] = [
        ("timeline: first page", Box::new(move |_| format!("/api/v1/clients/{client}/activity"))),
        ("timeline: one kind", Box::new(move |i| format!("/api/v1/clients/{client}/activity?kind={}", kinds[i % 3]))),
        ("timeline: 5,000 entries in", Box::new(move |_| format!("/api/v1/clients/{client}/activity?before={deep}"))),
    ];
    println!("\na client's timeline of 10,000 entries");
    support::measure(&base, &token, &scenarios).await;

    // 2. 10,000 reminders due within one minute (the last 20 s from now), two clocks firing them.
    owner.execute("DELETE FROM tasks WHERE title LIKE 'Bench reminder %'").await.unwrap();
    owner
        .execute("DELETE FROM notifications WHERE kind = 'reminder' AND data->>'title' LIKE 'Bench reminder %'")
        .await
        .unwrap();
    let users: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND active ORDER BY id LIMIT 20")
            .bind(tenant.0)
            .fetch_all(&owner)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO tasks (tenant_id, title, remind_at, assignee_user_id, created_by)
         SELECT $1, 'Bench reminder ' || g, now() + interval '20 seconds' - (g % 60) * interval '1 second',
                ($2::bigint[])[1 + g % cardinality($2::bigint[])], ($2::bigint[])[1]
         FROM generate_series(1, 10000) g",
    )
    .bind(tenant.0)
    .bind(&users)
    .execute(&owner)
    .await
    .unwrap();
    let last_due = Instant::now() + Duration::from_secs(20);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut clocks = Vec::new();
    for _ in 0..2 {
        let pool = crm::db::app_pool(bench.owner.clone(), 4).await.unwrap();
        clocks.push(TaskService::new(pool, EventBus::default()).spawn_task_clock(Duration::from_secs(1), stop.clone()));
    }
    let fired = loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notifications WHERE kind = 'reminder' AND data->>'title' LIKE 'Bench reminder %'",
        )
        .fetch_one(&owner)
        .await
        .unwrap();
        if n >= 10_000 || Instant::now() > last_due + Duration::from_secs(120) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let after = Instant::now().saturating_duration_since(last_due);
    let distinct: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT data->>'task_id') FROM notifications WHERE kind = 'reminder' AND data->>'title' LIKE 'Bench reminder %'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    for c in clocks {
        c.abort();
    }
    println!("\n10,000 reminders due within one minute, two task clocks");
    println!(
        "  fired {fired} ({distinct} distinct tasks); all done {:.1} s after the last came due",
        after.as_secs_f64()
    );

    // 3. A bulk tag of 100,000 clients, the client list measured meanwhile.
    let _background = crm::app::Background::start(&state);
    let tag: serde_json::Value = http
        .post(format!("{base}/api/v1/tags"))
        .bearer_auth(&token)
        .json(&json!({"name": format!("Bench bulk {}", uuid::Uuid::new_v4().simple())}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM clients WHERE tenant_id = $1 ORDER BY id LIMIT 100000")
        .bind(tenant.0)
        .fetch_all(&owner)
        .await
        .unwrap();
    let started = Instant::now();
    let job: serde_json::Value = http
        .post(format!("{base}/api/v1/bulk"))
        .bearer_auth(&token)
        .json(&json!({"entity": "clients", "ids": ids, "action": "add_tags", "params": {"tag_ids": [tag["id"]]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let queued = started.elapsed();
    let names = ["dilno", "karimov", "aliyeva", "sergey", "olivia"];
    let mut times = Vec::new();
    let mut i = 0;
    let finished = loop {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/api/v1/clients?q={}", names[i % names.len()]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let _ = res.bytes().await.unwrap();
        times.push(t.elapsed());
        i += 1;
        if i % 10 == 0 {
            let now: serde_json::Value = http
                .get(format!("{base}/api/v1/jobs/{}", job["job_id"]))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if now["status"] == "done" || now["status"] == "failed" {
                break now;
            }
        }
    };
    let took = started.elapsed();
    println!("\na bulk tag of {} clients", ids.len());
    println!(
        "  queued in {:.2} s (the request); {} in {:.1} s ({} done, {} failed)",
        queued.as_secs_f64(),
        finished["status"],
        took.as_secs_f64(),
        finished["done"],
        finished["failed"]
    );
    support::header("");
    support::row(&format!("client search during the job ({})", times.len()), times, "");
    http.delete(format!("{base}/api/v1/tags/{}", tag["id"])).bearer_auth(&token).send().await.unwrap();
    owner.close().await;
    bench.stop().await;
}
