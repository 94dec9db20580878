//! Exactly once, across nodes: two delivery workers on one database against a Twilio that is
//! slow, does not answer in time and loses a node mid-call; a node that dies; a Telegram call
//! whose answer is lost; late reports of an earlier attempt; the limit of attempts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crm::domain::Role;
use crm::services::delivery::{DeliveryWorker, Settings};
use serde_json::json;

use crate::channels::{
    OUR_NUMBER, app_with_fakes, from_client, post_telegram, post_twilio, telegram_update, twilio_channel, wait_for,
};
use crate::fakes::{AUTH_TOKEN, BOT_TOKEN, Behaviour, FakeTwilio, PNG};
use crate::helpers::{Api, TestApp};

/// A node's delivery worker: its own pool, as another process would have.
async fn node(app: &TestApp, settings: Settings) -> DeliveryWorker {
    let pool = crm::db::app_pool(app.owner.clone(), 5).await.expect("pool");
    DeliveryWorker::new(
        pool,
        app.state.events.clone(),
        app.state.providers.clone(),
        (app.state.files.clone(), app.state.media_links()),
        settings,
    )
}

fn start(worker: DeliveryWorker) -> tokio::task::JoinHandle<()> {
    // Never told to stop: the test ends it, or kills it.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    std::mem::forget(stop);
    worker.spawn(stopped)
}

/// Clients with phones `+99890000NNNN` and their chats; returns the chats' ids.
async fn chats(api: &Api, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let client = api
            .post("/api/v1/clients", json!({"first_name": format!("Client {i}"), "phone": format!("+99890000{i:04}")}))
            .await
            .json();
        let chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json();
        ids.push(chat["id"].as_i64().unwrap());
    }
    ids
}

async fn send(api: &Api, chat: i64, body: &str) -> i64 {
    let sent = api.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": body, "transport": "sms"})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    sent.json()["id"].as_i64().unwrap()
}

/// Every message's status and provider id, by message id.
async fn outcomes(app: &TestApp) -> HashMap<i64, (String, Option<String>)> {
    let rows: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, provider_message_id FROM messages WHERE direction = 'outbound'")
            .fetch_all(&app.owner_pool().await)
            .await
            .unwrap();
    rows.into_iter().map(|(id, status, sid)| (id, (status, sid))).collect()
}

async fn settled(app: &TestApp) -> bool {
    app.scalar_i64("SELECT count(*) FROM message_deliveries").await == 0
}

async fn wait_until_settled(app: &TestApp, within: Duration) -> Duration {
    let started = Instant::now();
    while !settled(app).await {
        assert!(started.elapsed() < within, "messages still in the outbox after {within:?}: {:?}", outcomes(app).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// How many times Twilio made each body into a message.
fn copies(twilio: &FakeTwilio) -> HashMap<String, usize> {
    let mut copies = HashMap::new();
    for m in twilio.created() {
        *copies.entry(m.body).or_insert(0) += 1;
    }
    copies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_send_every_message_once_through_a_slow_unanswering_twilio_and_a_node_dying_mid_call() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let api = app.api(Role::Admin).await;
    twilio_channel(&api, "twilio_sms").await;
    let chats = chats(&api, 6).await;
    let body = |i: usize| format!("Order #{i:02} is ready");
    let slow = Behaviour::Slow(Duration::from_millis(1500));
    let unanswered = Behaviour::Slow(Duration::from_secs(4));
    let hanging = Behaviour::Slow(Duration::from_secs(60));
    for i in 1..=4 {
        // Longer than a lease: the worker's heartbeat must keep the message its own.
        twilio.script(&format!("#{i:02} "), &[slow]);
    }
    for i in 5..=8 {
        // Longer than the worker waits: made at Twilio, answer lost.
        twilio.script(&format!("#{i:02} "), &[unanswered]);
    }
    for i in 9..=10 {
        twilio.script(&format!("#{i:02} "), &[Behaviour::Busy]);
    }
    for i in 11..=16 {
        // Made at Twilio and never answered: whoever sends these waits until a node dies.
        twilio.script(&format!("#{i:02} "), &[hanging]);
    }
    // The first look-ups fail: asking Twilio is retried too.
    twilio.fail_lists(2);

    let mut ids = Vec::new();
    for i in 1..=24 {
        ids.push(send(&api, chats[i % chats.len()], &body(i)).await);
    }
    let settings = Settings {
        lease: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(50),
        max_attempts: 10,
        first_retry: Duration::from_millis(100),
        concurrency: 4,
    };
    let a = start(node(&app, settings).await);
    let b = start(node(&app, settings).await);
    // Node A dies while calls are under way.
    wait_for("Twilio to take six messages", async || twilio.created().len() >= 6).await;
    a.abort();
    let died = Instant::now();
    let _ = a.await;

    wait_until_settled(&app, Duration::from_secs(90)).await;
    let took = died.elapsed();
    b.abort();

    let copies = copies(&twilio);
    let duplicates: usize = copies.values().map(|n| n.saturating_sub(1)).sum();
    let outcomes = outcomes(&app).await;
    let lost: Vec<&i64> = ids.iter().filter(|id| outcomes[id].0 != "sent").collect();
    let adopted = app.scalar_i64("SELECT count(*) FROM message_attempts WHERE outcome = 'adopted'").await;
    let posts = twilio.sent().len();
    println!(
        "two workers: {} bodies sent, duplicates {duplicates}, lost {}, {posts} POSTs (2 refused busy), \
         {adopted} adopted after a lost answer, all settled {:.1} s after node A died",
        copies.len(),
        lost.len(),
        took.as_secs_f64()
    );
    assert_eq!(duplicates, 0, "{copies:?}");
    assert!(lost.is_empty(), "{outcomes:?}");
    assert_eq!(copies.len(), 24);
    for i in 1..=24 {
        assert_eq!(copies.get(&body(i)), Some(&1), "{}", body(i));
    }
    // Each message carries the id of the one message Twilio made of it.
    let sids: std::collections::HashSet<String> = twilio.created().into_iter().map(|m| m.sid).collect();
    assert!(outcomes.values().all(|(_, sid)| sid.as_ref().is_some_and(|s| sids.contains(s))), "{outcomes:?}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attempts WHERE ended_at IS NULL").await, 0);
    assert!(adopted >= 4, "the unanswered ones were found, not sent again ({adopted})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_messages_go_out_within_seconds_with_the_default_settings() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let api = app.api(Role::Admin).await;
    twilio_channel(&api, "twilio_sms").await;
    let chats = chats(&api, 4).await;
    twilio.script("mid-call", &[Behaviour::Slow(Duration::from_secs(120))]);
    twilio.script("mid-call", &[Behaviour::Slow(Duration::from_secs(120))]);
    twilio.script("mid-call", &[Behaviour::Slow(Duration::from_secs(120))]);
    for (i, chat) in chats.iter().take(3).enumerate() {
        send(&api, *chat, &format!("Sent mid-call {i}")).await;
    }
    let defaults = Settings::default();
    let a = start(node(&app, defaults).await);
    let b = start(node(&app, defaults).await);
    wait_for("node A's three calls", async || twilio.created().len() == 3).await;
    // And one message a node claimed and died holding, before calling anyone.
    let claimed_only = send(&api, chats[3], "Claimed, never called").await;
    let claimed = crm::repos::outbox::claim_deliveries(&app.pool, 1, defaults.lease).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.message_id.0).collect::<Vec<_>>(), vec![claimed_only]);
    a.abort();
    let died = Instant::now();
    let _ = a.await;

    let took = wait_until_settled(&app, Duration::from_secs(60)).await;
    b.abort();
    let copies = copies(&twilio);
    println!(
        "dead node: its 4 messages (3 mid-call, 1 claimed) went out {:.1} s after it died (lease {} s); \
         {} bodies at Twilio, {} duplicates",
        died.elapsed().as_secs_f64().max(took.as_secs_f64()),
        defaults.lease.as_secs(),
        copies.len(),
        copies.values().map(|n| n - 1).sum::<usize>()
    );
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
    assert_eq!(copies.len(), 4);
    assert!(outcomes(&app).await.values().all(|(status, _)| status == "sent"));
    assert!(died.elapsed() < Duration::from_secs(16), "took {:?}", died.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_message_whose_node_died_mid_call_ends_unknown_and_is_never_resent_silently() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let bot = admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let hello = telegram_update(1, from_client(json!({"text": "Hello"})));
    assert_eq!(post_telegram(&app, Some(&secret), &hello).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    telegram.answer_slowly(777000111, Duration::from_secs(120));
    let sent = admin
        .post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Your visa is ready", "transport": "telegram"}))
        .await
        .json();
    let settings = Settings { lease: Duration::from_secs(1), poll: Duration::from_millis(50), ..Settings::default() };
    let a = start(node(&app, settings).await);
    wait_for("the call to Telegram", async || !telegram.calls("sendMessage").is_empty()).await;
    a.abort();
    let _ = a.await;
    let b = start(node(&app, settings).await);
    wait_until_settled(&app, Duration::from_secs(20)).await;
    b.abort();

    let message = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"][0].clone();
    assert_eq!(message["id"], sent["id"]);
    assert_eq!(message["status"], "unknown", "{message}");
    assert_eq!(message["error_code"], "outcome_unknown");
    assert_eq!(telegram.calls("sendMessage").len(), 1, "not sent again without a person saying so");
}

/// A long text and a photo go to Telegram as two calls; when the text went and the photo was
/// refused, sending it all again would repeat the text: it ends unknown instead.
#[tokio::test]
async fn a_message_that_only_partly_reached_telegram_is_not_sent_again() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let bot = admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let hello = telegram_update(1, from_client(json!({"text": "Hello"})));
    assert_eq!(post_telegram(&app, Some(&secret), &hello).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0].clone();
    let contacts = admin.get(&format!("/api/v1/clients/{}/contacts", chat["client"]["id"])).await.json();
    telegram.refuse("sendPhoto");
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get(&format!("/crm/chats/{}", chat["id"])).await;
    let long = "The plan, in detail. ".repeat(60);
    let via = format!("telegram:{}", contacts[0]["id"]);
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{}/messages", chat["id"]),
            "files",
            &[("plan.png", PNG)],
            &[("body", long.as_str()), ("via", via.as_str())],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let settings =
        Settings { poll: Duration::from_millis(20), first_retry: Duration::from_millis(50), ..Settings::default() };
    let worker = start(node(&app, settings).await);
    wait_until_settled(&app, Duration::from_secs(20)).await;
    worker.abort();
    let (status, code): (String, String) =
        sqlx::query_as("SELECT status, error_code FROM messages WHERE direction = 'outbound'")
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!((status.as_str(), code.as_str()), ("unknown", "outcome_unknown"));
    assert_eq!(telegram.calls("sendMessage").len(), 1, "the text went once");
    assert_eq!(telegram.calls("sendPhoto").len(), 1, "the photo was not tried again on its own either");
}

#[tokio::test]
async fn a_late_report_for_an_earlier_attempt_does_not_undo_a_retry() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let api = app.api(Role::Admin).await;
    twilio_channel(&api, "twilio_sms").await;
    let chat = chats(&api, 1).await[0];
    let id = send(&api, chat, "See you at 5").await;
    let worker = node(&app, Settings::default()).await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let first = twilio.created()[0].sid.clone();
    let message = |status: &'static str, sid: &str| {
        vec![
            ("AccountSid".to_owned(), crate::fakes::ACCOUNT_SID.to_owned()),
            ("MessageSid".to_owned(), sid.to_owned()),
            ("From".to_owned(), OUR_NUMBER.to_owned()),
            ("To".to_owned(), "+998900000000".to_owned()),
            ("MessageStatus".to_owned(), status.to_owned()),
        ]
    };
    let report = async |fields: Vec<(String, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        post_twilio(&app, "/crm/webhooks/twilio/status", &borrowed, Some(AUTH_TOKEN)).await
    };
    assert_eq!(report(message("undelivered", &first)).await, 200);
    let status = async || outcomes(&app).await[&id].0.clone();
    assert_eq!(status().await, "undelivered");

    // The agent retries; before it goes out, Twilio's late word on the first attempt arrives.
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm").await;
    let retried = agent.post(&format!("/crm/chats/{chat}/messages/{id}/retry"), &[]).await;
    assert!(retried.status < 400, "{}", retried.body);
    assert_eq!(report(message("delivered", &first)).await, 200);
    assert_eq!(status().await, "queued", "a report on the first attempt is not about the retry");
    assert_eq!(worker.run_once().await.unwrap(), 1, "the retry is still in the outbox");
    let second = twilio.created()[1].sid.clone();
    assert_ne!(first, second);
    assert_eq!(report(message("failed", &first)).await, 200);
    assert_eq!(outcomes(&app).await[&id], ("sent".to_owned(), Some(second.clone())));
    assert_eq!(report(message("delivered", &second)).await, 200);
    assert_eq!(status().await, "delivered");
    let attempts: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT outcome, provider_message_id FROM message_attempts ORDER BY id")
            .fetch_all(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!(attempts, vec![("sent".to_owned(), Some(first)), ("sent".to_owned(), Some(second))]);
}

#[tokio::test]
async fn a_message_that_cannot_even_be_prepared_fails_after_the_limit_of_attempts() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let api = app.api(Role::Admin).await;
    twilio_channel(&api, "twilio_sms").await;
    let chat = chats(&api, 1).await[0];
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get(&format!("/crm/chats/{chat}")).await;
    let page = agent
        .upload_files(
            &format!("/crm/chats/{chat}/messages"),
            "files",
            &[("plan.png", PNG)],
            &[("body", "The plan"), ("via", "sms:")],
        )
        .await;
    assert!(page.status < 400, "{}", page.body);
    // Its file is gone from the store: every pass fails before Twilio is called.
    let key: String = sqlx::query_scalar("SELECT storage_key FROM message_attachments")
        .fetch_one(&app.owner_pool().await)
        .await
        .unwrap();
    app.state.files.delete_all(&[key]).await;
    let settings = Settings {
        poll: Duration::from_millis(20),
        first_retry: Duration::from_millis(20),
        max_attempts: 3,
        ..Settings::default()
    };
    let worker = start(node(&app, settings).await);
    wait_until_settled(&app, Duration::from_secs(20)).await;
    worker.abort();
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, error FROM messages WHERE direction = 'outbound'")
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!(status, "failed", "not queued forever");
    assert!(error.as_deref().is_some_and(|e| e.starts_with("Gave up after 3 attempts")), "{error:?}");
    assert!(twilio.sent().is_empty());
}
