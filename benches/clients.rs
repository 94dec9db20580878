//! Client search and open at scale, through HTTP: prints median, p90 and p99 per scenario.
//!
//!     cargo bench --bench clients              # 1,000,000 clients in one tenant
//!     BENCH_CLIENTS=100000 cargo bench --bench clients
//!
//! The database is seeded once into target/tmp/bench-pg and reused by later runs of the same
//! size. Requests are sequential (one client), so the figures are latencies, not throughput.

mod support;

use crm::services::seed::SeedService;
use support::PathFor;

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
    let bench = support::clients_database(clients).await;
    let (base, token, tenant) = bench.serve("viewer").await;
    let seeder = SeedService::new(bench.pool.clone(), crm::events::EventBus::default());
    // Tags and tiers came after some bench databases were seeded: put them on if missing.
    let tagged = seeder.client_tags(tenant).await.unwrap();
    if tagged + seeder.client_tiers(tenant).await.unwrap() > 0 {
        seeder.analyze().await.unwrap();
    }
    let tags: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/tags"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // One in 5, one in 100 and one in 1,000 clients carry them.
    let tag_ids: Vec<i64> = ["Referral", "VIP", "Partner"]
        .iter()
        .map(|name| {
            let items = tags["items"].as_array().unwrap();
            items.iter().find(|t| t["name"] == *name).unwrap()["id"].as_i64().unwrap()
        })
        .collect();
    let tagged = tag_ids.clone();
    let tagged_by_name = tag_ids.clone();

    let full_names = [
        "dilnoza%20karimov",
        "sergey%20ivanov",
        "olivia%20smith",
        "timur%20aliyeva",
        "anna%20petrova",
        "zarina%20walker",
    ];
    // Each client has one first name: two of them together match nobody, the costliest search
    // (nothing to stop early at, two common words to intersect).
    let no_one = ["olga%20sergey", "anna%20aziz", "liam%20emma", "madina%20pavel"];
    let names = ["dilno", "karimov", "aliyeva", "sergey", "olivia", "petrova", "bekzod", "walker", "timur", "nazar"];
    // Typed in the other alphabet than some of the names it finds (Мадина and Madina).
    let other_alphabet = ["мадина", "каримова", "shahzod", "ўктам юсупов", "сергей", "hasanova"];
    let tiers = ["Platinum", "Gold", "Silver", "Bronze"];
    let scenarios: [(&str, PathFor); 11] = [
        ("search: name fragment", Box::new(move |i| format!("/api/v1/clients?q={}", names[i % names.len()]))),
        (
            "search: name + surname",
            Box::new(move |i| format!("/api/v1/clients?q={}", full_names[i % full_names.len()])),
        ),
        (
            "search: two first names, no match",
            Box::new(move |i| format!("/api/v1/clients?q={}", no_one[i % no_one.len()])),
        ),
        (
            "search: other alphabet",
            Box::new(move |i| {
                format!("/api/v1/clients?q={}", crm::web::error::urlencode(other_alphabet[i % other_alphabet.len()]))
            }),
        ),
        ("search: phone digits", Box::new(move |i| format!("/api/v1/clients?q={}", typed_phone(i, clients)))),
        ("open client by id", Box::new(move |i| format!("/api/v1/clients/{}", 1 + (i * 104729) % clients as usize))),
        ("list: tag", Box::new(move |i| format!("/api/v1/clients?tag_id={}", tagged[i % tagged.len()]))),
        (
            "list: tag, by name, page 3",
            Box::new(move |i| format!("/api/v1/clients?tag_id={}&sort=name&page=3", tagged_by_name[i % 3])),
        ),
        ("list: custom field value", Box::new(move |i| format!("/api/v1/clients?custom.tier={}", tiers[i % 4]))),
        (
            "list: custom value + name fragment",
            Box::new(move |i| {
                format!("/api/v1/clients?custom.tier={}&q={}", tiers[i % 4], names[(i / 4) % names.len()])
            }),
        ),
        (
            "list: tag + name fragment",
            Box::new(move |i| format!("/api/v1/clients?tag_id={}&q={}", tag_ids[i % 3], names[(i / 3) % names.len()])),
        ),
    ];
    println!("\n{clients} clients in one tenant");
    support::measure(&base, &token, &scenarios).await;
    bench.stop().await;
}
