//! Chats and the outbox: writing in a client's chat, delivery through a provider that runs as a
//! local HTTP server (retries, refusals, a worker that dies mid-send), and delivery reports
//! that only move a message forward.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use crm::domain::chat::Message;
use crm::domain::chat::{ChatId, DeliveryStatus, RetryCause, Transport};
use crm::domain::{ClientId, Principal, Role};
use crm::services::Providers;
use crm::services::chats::Outgoing;
use crm::services::delivery::{DeliveryWorker, Settings};
use crm::transport::{Lookup, Outbound, Provider, SendError, Sighting};
use futures_util::future::BoxFuture;

use crate::helpers::TestApp;

/// One scripted answer: a status and a body, after a delay.
#[derive(Clone)]
pub(crate) struct Answer(pub u16, pub &'static str, pub Duration);

/// A provider's HTTP API, played back from a script; it records every request it gets, and
/// lists the messages it accepted (answered 2xx, or still answering) at `GET /messages`.
#[derive(Clone, Default)]
pub(crate) struct FakeProvider {
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    accepted: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl FakeProvider {
    pub(crate) async fn start(script: Vec<Answer>) -> (Self, String) {
        let fake = FakeProvider { script: Arc::new(Mutex::new(script.into())), ..Default::default() };
        async fn send(State(fake): State<FakeProvider>, body: String) -> (StatusCode, String) {
            let request: serde_json::Value = serde_json::from_str(&body).unwrap();
            fake.received.lock().unwrap().push(request.clone());
            let Answer(status, text, delay) =
                fake.script.lock().unwrap().pop_front().unwrap_or(Answer(200, r#"{"id":"late"}"#, Duration::ZERO));
            if (200..300).contains(&status) {
                let id = serde_json::from_str::<serde_json::Value>(text).unwrap()["id"].clone();
                let at = chrono::Utc::now().to_rfc3339();
                fake.accepted
                    .lock()
                    .unwrap()
                    .push(serde_json::json!({"id": id, "to": request["to"], "body": request["body"], "at": at}));
            }
            tokio::time::sleep(delay).await;
            (StatusCode::from_u16(status).unwrap(), text.to_owned())
        }
        async fn list(State(fake): State<FakeProvider>) -> axum::Json<serde_json::Value> {
            axum::Json(serde_json::Value::Array(fake.accepted.lock().unwrap().clone()))
        }
        let router = axum::Router::new().route("/messages", post(send).get(list)).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/messages", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (fake, url)
    }

    fn requests(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// Our side of that API: the way a real provider client maps answers onto `SendError`; with
/// `lookups`, it can be asked what became of a message (as Twilio can), else not (as Telegram).
pub(crate) struct HttpProvider {
    pub url: String,
    pub http: reqwest::Client,
    pub lookups: bool,
}

impl Provider for HttpProvider {
    fn send<'a>(&'a self, m: &'a Outbound) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let res =
                self.http.post(&self.url).json(&serde_json::json!({"to": m.to, "body": m.body})).send().await.map_err(
                    |e| SendError::Retry { cause: RetryCause::NoAnswer, reason: e.to_string(), after: None },
                )?;
            let status = res.status();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            match status.as_u16() {
                200..=299 => Ok(body["id"].as_str().unwrap_or_default().to_owned()),
                429 | 500..=599 => {
                    Err(SendError::Retry { cause: RetryCause::Busy, reason: format!("HTTP {status}"), after: None })
                }
                _ => Err(SendError::Rejected {
                    code: status.as_u16().to_string(),
                    reason: body["message"].as_str().unwrap_or("refused").to_owned(),
                }),
            }
        })
    }

    fn lookup<'a>(&'a self, m: &'a Outbound, since: chrono::DateTime<chrono::Utc>) -> BoxFuture<'a, Lookup> {
        Box::pin(async move {
            if !self.lookups {
                return Lookup::Unsupported;
            }
            let listed: Vec<serde_json::Value> = match self.http.get(&self.url).send().await {
                Ok(res) => res.json().await.unwrap_or_default(),
                Err(e) => return Lookup::Failed(e.to_string()),
            };
            let found = listed
                .into_iter()
                .filter(|l| l["to"] == m.to.as_str() && l["body"] == m.body.as_str())
                .map(|l| Sighting {
                    provider_id: l["id"].as_str().unwrap_or_default().to_owned(),
                    status: DeliveryStatus::Sent,
                    error: None,
                    created_at: l["at"].as_str().unwrap().parse().unwrap(),
                })
                .filter(|s| s.created_at >= since - chrono::TimeDelta::seconds(1))
                .collect();
            Lookup::Found(found)
        })
    }
}

fn quick() -> Settings {
    Settings {
        lease: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
        poll: Duration::from_millis(20),
        max_attempts: 5,
        first_retry: Duration::from_millis(50),
        concurrency: 4,
    }
}

fn worker(app: &TestApp, url: &str, settings: Settings) -> DeliveryWorker {
    worker_with(app, HttpProvider { url: url.to_owned(), http: reqwest::Client::new(), lookups: true }, settings)
}

fn worker_with(app: &TestApp, provider: HttpProvider, settings: Settings) -> DeliveryWorker {
    let providers = Providers::default().with(Transport::Sms, Arc::new(provider));
    let providers = providers.with_channels(app.state.channels.clone());
    let files = (app.state.files.clone(), app.state.media_links());
    DeliveryWorker::new(app.pool.clone(), app.state.events.clone(), providers, files, settings)
}

/// An app whose tenant may write SMS (a provider is set up: each test's worker brings the one
/// it delivers through).
async fn sms_app() -> TestApp {
    let set_up = HttpProvider { url: "http://127.0.0.1:9/unused".into(), http: reqwest::Client::new(), lookups: false };
    TestApp::spawn_with_providers(Providers::default().with(Transport::Sms, Arc::new(set_up))).await
}

/// An agent of the default tenant, a client with a phone, and the client's chat.
async fn chat_with_client(app: &TestApp) -> (Principal, ClientId, ChatId) {
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let (tenant, user) = app.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
    let token = app.state.auth.create_api_token(tenant, user, "t", &crm::domain::Actor::System).await.unwrap().token;
    let me = app.state.auth.api_principal(&token).await.unwrap().unwrap();
    let input = crm::domain::ClientInput {
        first_name: Some("Dilnoza".into()),
        phone: Some("+998901234567".into()),
        ..Default::default()
    };
    let client = app.state.clients.create(&me, &input, &[]).await.unwrap();
    let (chat, _) = app.state.chats.open_for_client(&me, client).await.unwrap();
    (me, client, chat.id)
}

async fn sms(app: &TestApp, me: &Principal, chat: ChatId, body: &str) -> Message {
    let out = Outgoing {
        body,
        transport: Some(Transport::Sms),
        contact: None,
        template: None,
        files: Vec::new(),
        send_at: None,
    };
    app.state.chats.send(me, chat, out).await.unwrap()
}

async fn wait_for_status(app: &TestApp, me: &Principal, m: &Message, status: DeliveryStatus) -> Message {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = app.state.chats.message(me.tenant_id, m.id).await.unwrap();
        if now.status == Some(status) {
            return now;
        }
        assert!(Instant::now() < deadline, "message still {:?}, waited for {status:?}", now.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outbox(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) FROM message_deliveries").await
}

#[tokio::test]
async fn a_provider_answering_500_twice_then_200_ends_with_the_message_sent_once() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) = FakeProvider::start(vec![
        Answer(500, "{}", Duration::ZERO),
        Answer(503, "{}", Duration::ZERO),
        Answer(200, r#"{"id":"SM123"}"#, Duration::ZERO),
    ])
    .await;
    let m = sms(&app, &me, chat, "Your order is ready").await;
    assert_eq!(m.status, Some(DeliveryStatus::Queued));
    assert_eq!(outbox(&app).await, 1, "queued with its outbox row, in one transaction");

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _worker = worker(&app, &url, quick()).spawn(stopped);
    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM123"));
    assert!(sent.sent_at.is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests(), 3, "two failures, one success, nothing after");
    assert_eq!(
        fake.received.lock().unwrap()[2],
        serde_json::json!({"to": "+998901234567", "body": "Your order is ready"})
    );
    assert_eq!(outbox(&app).await, 0);
}

#[tokio::test]
async fn a_provider_answering_400_ends_failed_with_its_reason() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) =
        FakeProvider::start(vec![Answer(400, r#"{"message":"The 'To' number is not valid"}"#, Duration::ZERO)]).await;
    let m = sms(&app, &me, chat, "Hello").await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _worker = worker(&app, &url, quick()).spawn(stopped);
    let failed = wait_for_status(&app, &me, &m, DeliveryStatus::Failed).await;
    assert_eq!(failed.error_code.as_deref(), Some("400"));
    assert_eq!(failed.error.as_deref(), Some("The 'To' number is not valid"));
    // The reason is shown on the message, with its tick.
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{chat}")).await;
    assert!(page.body.contains("tick-failed"), "a failed tick");
    assert!(
        page.body.contains("Twilio refused the message: The &#39;To&#39; number is not valid (400)"),
        "{}",
        page.body
    );
    // In Russian: a code we know is one sentence of ours, with the provider's words as the
    // tooltip; one we do not know is the provider's words, introduced in Russian.
    let csrf = page.csrf().unwrap();
    agent.post("/crm/locale", &[("_csrf", &csrf), ("locale", "ru"), ("back", "/crm")]).await;
    let page = agent.get(&format!("/crm/chats/{chat}")).await;
    assert!(
        page.body.contains("Twilio отклонил сообщение: The &#39;To&#39; number is not valid (400)"),
        "{}",
        page.body
    );
    let owner = app.owner_pool().await;
    sqlx::query("UPDATE messages SET error_code = '21211' WHERE id = $1").bind(m.id.0).execute(&owner).await.unwrap();
    let page = agent.get(&format!("/crm/chats/{chat}")).await;
    assert!(page.body.contains(">Это не действительный номер телефона.</p>"), "{}", page.body);
    assert!(page.body.contains("title=\"The &#39;To&#39; number is not valid (21211)\""), "{}", page.body);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.requests(), 1, "a refusal is not retried");
    assert_eq!(outbox(&app).await, 0);
}

#[tokio::test]
async fn retry_on_a_failed_message_really_resends_it() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) = FakeProvider::start(vec![
        Answer(400, r#"{"message":"Temporarily blocked"}"#, Duration::ZERO),
        Answer(200, r#"{"id":"SM7"}"#, Duration::ZERO),
    ])
    .await;
    let m = sms(&app, &me, chat, "Your order has shipped").await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _worker = worker(&app, &url, quick()).spawn(stopped);
    wait_for_status(&app, &me, &m, DeliveryStatus::Failed).await;
    let sent_twice = app.state.chats.retry(&me, chat, m.id).await;
    assert!(matches!(sent_twice, Ok(ref r) if r.status == Some(DeliveryStatus::Queued) && r.error.is_none()));

    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM7"));
    assert_eq!(fake.requests(), 2, "the retry went to the provider");
    let again = app.state.chats.retry(&me, chat, m.id).await;
    assert!(
        matches!(again, Err(crm::services::ServiceError::Refused { code: "retry_not_failed" })),
        "only failed ones"
    );
}

/// Starts a worker, waits until the provider has the message's request, and kills the worker
/// while the provider has not answered.
async fn kill_mid_send(app: &TestApp, fake: &FakeProvider, provider: HttpProvider) {
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let first = worker_with(app, provider, quick()).spawn(stopped);
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests() == 0 {
        assert!(Instant::now() < deadline, "the first worker never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.abort();
    let _ = first.await;
}

#[tokio::test]
async fn a_message_whose_worker_died_mid_send_is_found_at_the_provider_not_sent_again() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    // The provider takes the message, but its answer never reaches the worker, which dies.
    let (fake, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM1"}"#, Duration::from_secs(60))]).await;
    let m = sms(&app, &me, chat, "Are you there?").await;
    let provider = || HttpProvider { url: url.clone(), http: reqwest::Client::new(), lookups: true };
    kill_mid_send(&app, &fake, provider()).await;
    assert_eq!(app.state.chats.message(me.tenant_id, m.id).await.unwrap().status, Some(DeliveryStatus::Queued));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attempts WHERE ended_at IS NULL").await, 1, "on record");

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _second = worker_with(&app, provider(), quick()).spawn(stopped);
    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM1"), "the provider's id, adopted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests(), 1, "asked, not sent again");
    assert_eq!(outbox(&app).await, 0);
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM message_attempts").fetch_one(&app.owner_pool().await).await.unwrap();
    assert_eq!(outcome, "adopted");
}

#[tokio::test]
async fn a_message_whose_fate_the_provider_cannot_tell_ends_unknown_and_a_retry_sends_it() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) = FakeProvider::start(vec![
        Answer(200, r#"{"id":"lost"}"#, Duration::from_secs(60)),
        Answer(200, r#"{"id":"SM2"}"#, Duration::ZERO),
    ])
    .await;
    let m = sms(&app, &me, chat, "Your table is booked").await;
    let provider = || HttpProvider { url: url.clone(), http: reqwest::Client::new(), lookups: false };
    kill_mid_send(&app, &fake, provider()).await;

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _second = worker_with(&app, provider(), quick()).spawn(stopped);
    let unknown = wait_for_status(&app, &me, &m, DeliveryStatus::Unknown).await;
    assert_eq!(unknown.error_code.as_deref(), Some("outcome_unknown"));
    assert_eq!(fake.requests(), 1, "never sent again silently");
    assert_eq!(outbox(&app).await, 0);
    // The agent sees why, with a Retry button, in their language.
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{chat}")).await;
    assert!(page.body.contains("tick-unknown"), "{}", page.body);
    assert!(page.body.contains("cannot say whether the message went out"));
    assert!(page.body.contains(&format!("/crm/chats/{chat}/messages/{}/retry", m.id)));
    agent.get("/crm").await;
    let retried = agent.post(&format!("/crm/chats/{chat}/messages/{}/retry", m.id), &[]).await;
    assert!(retried.status < 400, "{}", retried.body);
    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM2"));
    assert_eq!(fake.requests(), 2, "sent again because a person said so");
}

#[tokio::test]
async fn a_late_sent_after_delivered_does_not_move_the_status_back() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (_fake, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM9"}"#, Duration::ZERO)]).await;
    let m = sms(&app, &me, chat, "Hi").await;
    assert_eq!(worker(&app, &url, quick()).run_once().await.unwrap(), 1);
    wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;

    let mut events = app.state.events.subscribe();
    let chats = &app.state.chats;
    assert!(chats.report(me.tenant_id, m.id, DeliveryStatus::Delivered, None, None).await.unwrap());
    assert!(!chats.report(me.tenant_id, m.id, DeliveryStatus::Sent, None, None).await.unwrap(), "late sent");
    assert!(!chats.report(me.tenant_id, m.id, DeliveryStatus::Delivered, None, None).await.unwrap(), "repeat");
    assert!(!chats.report(me.tenant_id, m.id, DeliveryStatus::Undelivered, None, None).await.unwrap(), "too late");
    assert_eq!(chats.message(me.tenant_id, m.id).await.unwrap().status, Some(DeliveryStatus::Delivered));
    // One change, one event.
    let event = events.recv().await.unwrap();
    assert!(matches!(event, crm::domain::DomainEvent::MessageStatusChanged { status: DeliveryStatus::Delivered, .. }));
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_note_is_stored_never_queued_and_another_tenants_chat_is_not_found() {
    let app = sms_app().await;
    let (me, client, chat) = chat_with_client(&app).await;
    let note = Outgoing {
        body: "Prefers calls after 6pm",
        transport: Some(Transport::Note),
        contact: None,
        template: None,
        files: Vec::new(),
        send_at: None,
    };
    let m = app.state.chats.send(&me, chat, note).await.unwrap();
    assert_eq!((m.status, m.contact_id), (None, None));
    assert_eq!(outbox(&app).await, 0);
    // The chat is the client's one chat, whoever asks.
    assert_eq!(app.state.chats.open_for_client(&me, client).await.unwrap().0.id, chat);

    let (other_tenant, _) = app.create_tenant("Other").await;
    let creds = app.create_user(other_tenant, Role::Admin).await;
    let (tenant, user) = app.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
    let token = app.state.auth.create_api_token(tenant, user, "t", &crm::domain::Actor::System).await.unwrap().token;
    let stranger = app.state.auth.api_principal(&token).await.unwrap().unwrap();
    let out = Outgoing {
        body: "hi",
        transport: Some(Transport::Sms),
        contact: None,
        template: None,
        files: Vec::new(),
        send_at: None,
    };
    let refused = app.state.chats.send(&stranger, chat, out).await;
    assert!(matches!(refused, Err(crm::services::ServiceError::NotFound)), "{refused:?}");
    assert!(matches!(
        app.state.chats.open_for_client(&stranger, client).await,
        Err(crm::services::ServiceError::NotFound)
    ));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM messages").await, 1);
}

#[tokio::test]
async fn a_message_cannot_be_rewritten_only_its_delivery_state_moves() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let m = sms(&app, &me, chat, "Original words").await;
    let mut tx = crm::db::TenantTx::begin(&app.pool, me.tenant_id).await.unwrap();
    let rewrite =
        sqlx::query("UPDATE messages SET body = 'Other words' WHERE id = $1").bind(m.id.0).execute(tx.conn()).await;
    assert!(rewrite.is_err(), "the application role may not change a message's text");
    drop(tx);
    let mut tx = crm::db::TenantTx::begin(&app.pool, me.tenant_id).await.unwrap();
    sqlx::query("UPDATE messages SET read_at = now() WHERE id = $1").bind(m.id.0).execute(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.state.chats.message(me.tenant_id, m.id).await.unwrap().body, "Original words");
}

async fn later(app: &TestApp, me: &Principal, chat: ChatId, body: &str, at: chrono::DateTime<chrono::Utc>) -> Message {
    let out = Outgoing {
        body,
        transport: Some(Transport::Sms),
        contact: None,
        template: None,
        files: Vec::new(),
        send_at: Some(at),
    };
    app.state.chats.send(me, chat, out).await.unwrap()
}

#[tokio::test]
async fn a_scheduled_reply_waits_for_its_time_then_leaves_once_with_two_workers() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM77"}"#, Duration::ZERO)]).await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let m = later(&app, &me, chat, "See you tomorrow at ten", at).await;
    assert_eq!(m.status, Some(DeliveryStatus::Scheduled));
    assert_eq!(m.send_at.map(|t| t.timestamp_micros()), Some(at.timestamp_micros()), "kept to the microsecond");

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _a = worker(&app, &url, quick()).spawn(stopped.clone());
    let _b = worker(&app, &url, quick()).spawn(stopped);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fake.requests(), 0, "nothing leaves before its time");
    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert!(sent.sent_at.unwrap() >= at, "sent at {:?}, due {at}", sent.sent_at);
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM77"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests(), 1, "sent once by two workers");
    assert_eq!(outbox(&app).await, 0);
}

#[tokio::test]
async fn a_scheduled_reply_is_cancelled_before_it_leaves_and_not_after() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM78"}"#, Duration::ZERO)]).await;
    let m = later(&app, &me, chat, "Reminder: your visit", chrono::Utc::now() + chrono::Duration::hours(1)).await;
    let cancelled = app.state.chats.cancel(&me, chat, m.id).await.unwrap();
    assert_eq!(cancelled.status, Some(DeliveryStatus::Cancelled));
    assert_eq!(outbox(&app).await, 0, "its outbox row went with it");
    let again = app.state.chats.cancel(&me, chat, m.id).await.unwrap_err();
    assert!(matches!(again, crm::services::ServiceError::Refused { code: "message_left" }), "{again:?}");
    assert!(app.state.chats.retry(&me, chat, m.id).await.is_err(), "a cancelled message is not sent again");

    // Once its time has come and a worker has it, it has left.
    let soon = later(&app, &me, chat, "Now", chrono::Utc::now() + chrono::Duration::milliseconds(200)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker(&app, &url, quick()).run_once().await.unwrap();
    wait_for_status(&app, &me, &soon, DeliveryStatus::Sent).await;
    let late = app.state.chats.cancel(&me, chat, soon.id).await.unwrap_err();
    assert!(matches!(late, crm::services::ServiceError::Refused { code: "message_left" }), "{late:?}");
    assert_eq!(fake.requests(), 1, "only the one not cancelled went out");

    // A note cannot wait, and a time must be to come.
    let note = Outgoing {
        body: "x",
        transport: Some(Transport::Note),
        contact: None,
        template: None,
        files: Vec::new(),
        send_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
    };
    assert!(app.state.chats.send(&me, chat, note).await.is_err());
}

#[tokio::test]
async fn a_failing_provider_shows_each_retry_with_its_reason_and_retry_now_sends_at_once() {
    let app = sms_app().await;
    let (me, _, chat) = chat_with_client(&app).await;
    let (fake, url) =
        FakeProvider::start(vec![Answer(503, "{}", Duration::ZERO), Answer(200, r#"{"id":"SM90"}"#, Duration::ZERO)])
            .await;
    let m = sms(&app, &me, chat, "Your documents are ready").await;
    // The next pass would be an hour away.
    let w = worker(&app, &url, Settings { first_retry: Duration::from_secs(3600), ..quick() });
    w.run_once().await.unwrap();
    let waiting = app.state.chats.message(me.tenant_id, m.id).await.unwrap();
    assert_eq!(waiting.status, Some(DeliveryStatus::Queued));
    let retrying = waiting.retrying.expect("a failed pass shows");
    assert_eq!(retrying.attempts, 1);
    assert_eq!(retrying.cause, Some(RetryCause::Busy));
    assert!(!retrying.reason.unwrap_or_default().is_empty(), "the provider's reason is kept");
    assert!(retrying.next_at > chrono::Utc::now() + chrono::Duration::minutes(30));

    // Why, in the reader's language: one sentence, the provider named.
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{}", chat.0)).await;
    assert!(page.body.contains("Retrying (1/6): Twilio is busy and asked us to wait"), "{}", page.body);
    assert!(page.body.contains("Retry now"));
    let csrf = page.csrf().unwrap();
    agent.post("/crm/locale", &[("_csrf", &csrf), ("locale", "ru"), ("back", "/crm")]).await;
    let page = agent.get(&format!("/crm/chats/{}", chat.0)).await;
    assert!(page.body.contains("Повторная отправка (1/6): Twilio занят и попросил подождать"), "{}", page.body);
    agent.post("/crm/locale", &[("_csrf", &csrf), ("locale", "en"), ("back", "/crm")]).await;

    // Retry now: due at once, and the next pass sends it.
    let again = agent.post(&format!("/crm/chats/{}/messages/{}/retry", chat.0, m.id.0), &[]).await;
    assert_eq!(again.status, 303, "{}", again.body);
    w.run_once().await.unwrap();
    let sent = wait_for_status(&app, &me, &m, DeliveryStatus::Sent).await;
    assert_eq!(sent.provider_message_id.as_deref(), Some("SM90"));
    assert_eq!(fake.requests(), 2);
    assert!(app.state.chats.message(me.tenant_id, m.id).await.unwrap().retrying.is_none());
}
