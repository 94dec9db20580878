//! The inbox at scale, through HTTP: the chat list's first page (last message, unread counts),
//! its unread filter, the team's views (assignee, status) and search, and opening a thread.
//! Prints median, p90 and p99.
//!
//!     cargo bench --bench chats                  # 100,000 chats, 5,000,000 messages
//!     BENCH_CHATS=10000 cargo bench --bench chats
//!
//! Seeded once (50 messages per chat) into target/tmp/bench-pg and reused by later runs.

mod support;

use crm::services::seed::SeedService;
use support::PathFor;

const PER_CHAT: i32 = 50;

#[tokio::main]
async fn main() {
    let chats: i64 = std::env::var("BENCH_CHATS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let messages = chats * i64::from(PER_CHAT);
    let bench = support::database(
        &format!("crm_bench_chats_{chats}"),
        "SELECT count(*) FROM messages",
        messages,
        |pool| async move {
            println!("seeding {chats} clients, each with a chat of {PER_CHAT} messages (once; later runs reuse them)…");
            let seeder = SeedService::new(pool, crm::events::EventBus::default());
            let tenant = seeder.run(1, chats, |_, _| {}).await.unwrap()[0].id;
            seeder
                .chats(tenant, chats, PER_CHAT, |done, total| {
                    if done % 10_000 < 1_000 || done == total {
                        println!("  {done} / {total} chats");
                    }
                })
                .await
                .unwrap();
        },
    )
    .await;
    let (base, token, _) = bench.serve("agent").await;
    // A team at work: every fifth chat is this agent's, every third resolved (each run
    // hands the fifth to its own new agent).
    let mut owner = sqlx::ConnectOptions::connect(&bench.owner).await.unwrap();
    let agent: i64 = sqlx::query_scalar("SELECT max(id) FROM users").fetch_one(&mut owner).await.unwrap();
    sqlx::query("UPDATE chats SET assignee_user_id = $1 WHERE id % 5 = 0")
        .bind(agent)
        .execute(&mut owner)
        .await
        .unwrap();
    sqlx::query("UPDATE chats SET status = CASE WHEN id % 3 = 0 THEN 'resolved' ELSE 'open' END, snoozed_until = NULL")
        .execute(&mut owner)
        .await
        .unwrap();
    sqlx::query("VACUUM ANALYZE chats").execute(&mut owner).await.unwrap();

    // Common words (in one message of six: the first chats match), words in no message (the
    // index lists answer), and client names (one client in thirty: the lists are sorted).
    let words = ["order", "заказ", "delivery", "contract", "rahmat", "documents"];
    let rare = ["zanzibar", "kilimanjaro", "quokka"];
    let names = ["anna", "karimov", "sofia"];
    let scenarios: [(&str, PathFor); 11] = [
        ("chat list: first page", Box::new(|_| "/api/v1/chats".to_owned())),
        ("chat list: unread only", Box::new(|_| "/api/v1/chats?unread=true".to_owned())),
        ("view: mine, open", Box::new(|_| "/api/v1/chats?assignee=me&status=open".to_owned())),
        ("view: unassigned, open", Box::new(|_| "/api/v1/chats?assignee=none&status=open".to_owned())),
        ("view: all, resolved", Box::new(|_| "/api/v1/chats?status=resolved".to_owned())),
        (
            "view: mine, open + search",
            Box::new(move |i| format!("/api/v1/chats?assignee=me&status=open&q={}", names[i % names.len()])),
        ),
        (
            "open thread (50 messages)",
            Box::new(move |i| format!("/api/v1/chats/{}/messages", 1 + (i as i64 * 7919) % chats)),
        ),
        ("open chat with members", Box::new(move |i| format!("/api/v1/chats/{}", 1 + (i as i64 * 104_729) % chats))),
        ("search: common word", Box::new(move |i| format!("/api/v1/chats?q={}", words[i % words.len()]))),
        ("search: word in no message", Box::new(move |i| format!("/api/v1/chats?q={}", rare[i % rare.len()]))),
        ("search: client name", Box::new(move |i| format!("/api/v1/chats?q={}", names[i % names.len()]))),
    ];
    println!("\n{chats} chats and {messages} messages in one tenant");
    support::measure(&base, &token, &scenarios).await;
    bench.stop().await;
}
