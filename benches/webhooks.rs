//! Inbound webhooks under load, through HTTP: Twilio posting SMS to a tenant with 100,000
//! clients, half from numbers the CRM knows and half from strangers (who become clients).
//! Sent 16 at a time as fast as answered (the capacity), then at steady rates of 100 and
//! 200 per second. Prints the median, p90, p99 and max answer time and the rate achieved.
//!
//!     cargo bench --bench webhooks
//!
//! The target: every answer within 100 ms at p99. The database is made afresh each run (the
//! webhooks add clients), seeded with the clients once per run.

mod support;

use std::time::{Duration, Instant};

use crm::services::seed::SeedService;

const CLIENTS: i64 = 100_000;
const CONCURRENCY: usize = 16;
const PER_TASK: usize = 150;
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const OUR_NUMBER: &str = "+998712000000";

#[tokio::main]
async fn main() {
    // Never "seeded already" (-1 messages): made again each run, since the run adds clients.
    let bench = support::database("crm_bench_webhooks", "SELECT count(*) FROM messages", -1, |pool| async move {
        println!("seeding {CLIENTS} clients…");
        SeedService::new(pool, crm::events::EventBus::default()).run(1, CLIENTS, |_, _| {}).await.unwrap();
    })
    .await;
    let (base, token, _) = bench.serve("admin").await;
    let http = reqwest::Client::new();
    let channel = http
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"kind": "twilio_sms", "name": "Bench", "account_sid": ACCOUNT_SID,
                                  "auth_token": AUTH_TOKEN, "from": OUR_NUMBER}))
        .send()
        .await
        .unwrap();
    assert_eq!(channel.status(), 201);
    // As the owner: the app's role sees no tenant's rows outside a tenant's transaction.
    let owner = sqlx::PgPool::connect_with(bench.owner.clone()).await.unwrap();
    let known: Vec<String> =
        sqlx::query_scalar("SELECT phone FROM clients WHERE phone IS NOT NULL ORDER BY id LIMIT 5000")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert!(!known.is_empty());

    let url = format!("{base}/crm/webhooks/twilio");
    let post = Poster { http: http.clone(), url: url.clone(), known: std::sync::Arc::new(known) };
    println!("\n{CLIENTS} clients in the tenant; half the webhooks from known numbers, half from strangers");
    support::header("rate");

    // Closed loop: 16 senders, each sending its next as soon as the last is answered (capacity).
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let post = post.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(PER_TASK);
            for i in 0..PER_TASK {
                times.push(post.send(t * PER_TASK + i).await);
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    report(&format!("{CONCURRENCY} at a time (saturated)"), times, started.elapsed());

    // Open loop: a steady rate, each webhook sent on time whatever the others are doing.
    for rate in [100u64, 200] {
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        let mut tasks = Vec::new();
        for i in 0..(rate as usize * 10) {
            tick.tick().await;
            let post = post.clone();
            let n = 100_000 * rate as usize + i;
            tasks.push(tokio::spawn(async move { post.send(n).await }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        report(&format!("steady {rate}/s for 10 s"), times, started.elapsed());
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&owner).await.unwrap();
    println!("{stored} messages stored");
    owner.close().await;
    bench.stop().await;
}

/// Sends the n-th webhook (even: a known number; odd: a stranger), signed, and times it.
#[derive(Clone)]
struct Poster {
    http: reqwest::Client,
    url: String,
    known: std::sync::Arc<Vec<String>>,
}

impl Poster {
    async fn send(&self, n: usize) -> Duration {
        let from = if n.is_multiple_of(2) {
            self.known[n % self.known.len()].clone()
        } else {
            format!("+99833{:07}", n % 10_000_000)
        };
        let fields: Vec<(String, String)> = [
            ("AccountSid", ACCOUNT_SID.to_owned()),
            ("MessageSid", format!("SM{n:032x}")),
            ("From", from),
            ("To", OUR_NUMBER.to_owned()),
            ("Body", format!("Message number {n}: when will my order arrive?")),
            ("NumMedia", "0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let signature = crm::transport::twilio::signature(AUTH_TOKEN, &self.url, &fields);
        let sent = Instant::now();
        let res = self.http.post(&self.url).header("X-Twilio-Signature", signature).form(&fields).send().await.unwrap();
        let status = res.status();
        let _ = res.bytes().await.unwrap();
        let took = sent.elapsed();
        assert!(status.is_success(), "webhook answered {status}");
        took
    }
}

fn report(label: &str, times: Vec<Duration>, elapsed: Duration) {
    let rate = format!("{:.0}/s", times.len() as f64 / elapsed.as_secs_f64());
    support::row(label, times, &rate);
}
