//! Channels end to end against local servers that speak Twilio's and Telegram's protocols:
//! settings with sealed secrets, verified webhooks, inbound messages from strangers, replies
//! on the same channel with their delivery reports, files, refusals, staff notifications.

use std::time::Duration;

use crm::domain::Role;
use serde_json::{Value, json};

use crate::fakes::{ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, FakeTelegram, FakeTwilio, NEW_BOT_TOKEN, PNG};
use crate::helpers::{Api, TestApp};

pub(crate) const OUR_NUMBER: &str = "+998712000000";
pub(crate) const CLIENT: &str = "+998901112233";

pub(crate) async fn app_with_fakes() -> (TestApp, FakeTwilio, FakeTelegram) {
    let (twilio, twilio_url) = FakeTwilio::start().await;
    let (telegram, telegram_url) = FakeTelegram::start().await;
    let app =
        TestApp::spawn_with(&[("TWILIO_API_BASE", twilio_url.as_str()), ("TELEGRAM_API_BASE", telegram_url.as_str())])
            .await;
    (app, twilio, telegram)
}

pub(crate) async fn twilio_channel(api: &Api, kind: &str) -> Value {
    let page = api
        .post(
            "/api/v1/channels",
            json!({"kind": kind, "name": "Main line", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": OUR_NUMBER}),
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.body);
    page.json()
}

/// Posts a form to a Twilio webhook of the app, signed as Twilio signs (`token` `None`: unsigned).
pub(crate) async fn post_twilio(app: &TestApp, path: &str, fields: &[(&str, &str)], token: Option<&str>) -> u16 {
    let owned: Vec<(String, String)> = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let url = format!("{}{path}", app.base_url);
    let mut req = reqwest::Client::new().post(&url).form(&owned);
    if let Some(token) = token {
        req = req.header("X-Twilio-Signature", crm::transport::twilio::signature(token, &url, &owned));
    }
    req.send().await.unwrap().status().as_u16()
}

pub(crate) fn sms<'a>(sid: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", sid),
        ("From", CLIENT),
        ("To", OUR_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
    ]
}

pub(crate) async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn channels_are_managed_by_admins_with_secrets_sealed_and_never_shown() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let created = twilio_channel(&admin, "twilio_sms").await;
    assert_eq!(created["from"], OUR_NUMBER);
    assert_eq!(created["secret_hint"], "…cdef");
    assert!(created.get("auth_token").is_none(), "the token is write-only: {created}");
    // Sealed at rest: the token's bytes are nowhere in the row.
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT secrets FROM channels").fetch_one(&app.owner_pool().await).await.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(AUTH_TOKEN));

    // Field errors are named; a number already connected is a conflict on `from`.
    let bad = admin.post("/api/v1/channels", json!({"kind": "twilio_sms", "name": "", "account_sid": "AC1"})).await;
    assert_eq!(bad.status, 422);
    let fields = &bad.json()["error"]["fields"];
    assert!(fields["name"].is_array() && fields["account_sid"].is_array() && fields["auth_token"].is_array());
    let twice = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Again", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": OUR_NUMBER}),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert!(twice.json()["error"]["fields"]["from"].is_array());

    // A patch keeps the secret it does not retype; the kind cannot change.
    let id = created["id"].as_i64().unwrap();
    let renamed = admin.patch(&format!("/api/v1/channels/{id}"), json!({"name": "Sales", "enabled": false})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!((renamed.json()["name"].clone(), renamed.json()["enabled"].clone()), (json!("Sales"), json!(false)));
    let creds = app.state.channels.credentials(app.tenant, crm::domain::channel::ChannelId(id)).await.unwrap();
    assert!(matches!(creds, crm::domain::channel::Credentials::Twilio { auth_token, .. } if auth_token == AUTH_TOKEN));
    assert_eq!(admin.patch(&format!("/api/v1/channels/{id}"), json!({"kind": "telegram"})).await.status, 422);

    // A Telegram bot registers its webhook: our URL and a secret that names the channel.
    let bot = admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    assert_eq!(bot.json()["webhook"]["ok"], true, "{}", bot.body);
    assert_eq!(bot.json()["bot_username"], "acme_crm_bot");
    let set = telegram.calls("setWebhook");
    assert_eq!(set[0]["url"], format!("{}/tg/webhook", app.base_url));
    assert!(set[0]["secret_token"].as_str().unwrap().len() >= 32);

    // Agents may not see or change channels; another tenant's channel is not found.
    let agent = app.api(Role::Agent).await;
    assert_eq!(agent.get("/api/v1/channels").await.status, 403);
    assert_eq!(agent.delete(&format!("/api/v1/channels/{id}")).await.status, 403);
    let (other, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(other, Role::Admin).await;
    assert_eq!(stranger.get(&format!("/api/v1/channels/{id}")).await.status, 404);
    assert_eq!(stranger.delete(&format!("/api/v1/channels/{id}")).await.status, 404);
    let listed = admin.get("/api/v1/channels").await.json();
    assert_eq!((listed["items"].as_array().unwrap().len(), listed["total"].clone()), (2, json!(2)));

    // The form says an empty secret keeps the saved one only when one is saved.
    let page = app.sign_in_as(Role::Admin).await;
    let keep = "Leave empty to keep the saved one.";
    assert!(!page.get("/crm/settings/channels/new?kind=twilio_sms").await.body.contains(keep), "nothing saved yet");
    assert!(page.get(&format!("/crm/settings/channels/{id}/edit")).await.body.contains(keep));

    // Deleting the bot tells Telegram to stop sending its updates.
    assert_eq!(admin.delete(&format!("/api/v1/channels/{}", bot.json()["id"])).await.status, 204);
    assert_eq!(telegram.calls("deleteWebhook").len(), 1);
}

/// Tenant B saving tenant A's Twilio account with A's Messaging Service and number neither
/// blocks A's inbound messages (they were checked with B's token and refused) nor learns that
/// A has them (a 409 "already taken" told it).
#[tokio::test]
async fn another_tenant_claiming_our_twilio_account_neither_blocks_our_messages_nor_learns_of_them() {
    const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let ours = app.api(Role::Admin).await;
    twilio_channel(&ours, "twilio_sms").await;
    let (other, _) = app.create_tenant("Rival").await;
    let rival = app.api_in(other, Role::Admin).await;
    let claim = |sender: Value| {
        let mut body = json!({"kind": "twilio_sms", "name": "Not theirs", "account_sid": ACCOUNT_SID,
                              "auth_token": "fedcba9876543210fedcba9876543210"});
        body.as_object_mut().unwrap().extend(sender.as_object().unwrap().clone());
        body
    };
    let by_service = rival.post("/api/v1/channels", claim(json!({"messaging_service_sid": SERVICE}))).await;
    assert_eq!(by_service.status, 201, "{}", by_service.body);
    let by_number = rival.post("/api/v1/channels", claim(json!({"from": OUR_NUMBER}))).await;
    assert_eq!(by_number.status, 201, "nothing tells B that A has this number: {}", by_number.body);

    // Twilio's message to our number, in our Messaging Service, signed with our token: ours.
    let mut fields = sms("SM00000000000000000000000000000101", "Is my order ready?");
    fields.push(("MessagingServiceSid", SERVICE));
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await, 200);
    assert_eq!(ours.get("/api/v1/chats").await.json()["total"], 1);
    assert_eq!(rival.get("/api/v1/chats").await.json()["total"], 0);
    // And a status report on our reply.
    let report = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM00000000000000000000000000000102"),
        ("From", OUR_NUMBER),
        ("To", CLIENT),
        ("MessagingServiceSid", SERVICE),
        ("MessageStatus", "delivered"),
    ];
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &report, Some(AUTH_TOKEN)).await, 200);
    // Signed with anything else, it verifies with no channel.
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some("0000000000000000ffffffffffffffff")).await, 403);

    // Within one tenant a number is still connected once.
    let twice = ours
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Again", "account_sid": ACCOUNT_SID,
                                          "auth_token": AUTH_TOKEN, "messaging_service_sid": SERVICE}),
        )
        .await;
    assert_eq!(twice.status, 201, "our own service, once: {}", twice.body);
    let again = ours
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Thrice", "account_sid": ACCOUNT_SID,
                                          "auth_token": AUTH_TOKEN, "messaging_service_sid": SERVICE}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.json()["error"]["fields"]["messaging_service_sid"].is_array());
}

/// A key file as every first run wrote it until December 2026 (the base64url of 32 random
/// bytes) held two keys: its bytes on the first run, its text on every later one. Secrets saved
/// under either open, and those of the first run are sealed again under the text.
#[tokio::test]
async fn secrets_saved_under_either_reading_of_a_generated_key_file_keep_working() {
    use base64::Engine;
    use crm::crypto::SecretKey;
    let dir = std::env::temp_dir().join(format!("crm-keyfile-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = crm::crypto::random_bytes(32);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    std::fs::write(dir.join("secret.key"), &text).unwrap();
    let (twilio, twilio_url) = FakeTwilio::start().await;
    let data_dir = dir.display().to_string();
    let app = TestApp::spawn_with(&[
        ("CRM_SECRET_KEY", ""),
        ("CRM_DATA_DIR", data_dir.as_str()),
        ("TWILIO_API_BASE", twilio_url.as_str()),
    ])
    .await;
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;

    // Make the row what the first run saved: sealed under the file's bytes.
    let owner = app.owner_pool().await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secrets FROM channels").fetch_one(&owner).await.unwrap();
    let plain = SecretKey::from_config(&text).unwrap().open("channel-secrets", &sealed).unwrap().plain;
    let first_run = SecretKey::from_bytes(bytes).seal("channel-secrets", &plain);
    sqlx::query("UPDATE channels SET secrets = $1").bind(&first_run).execute(&owner).await.unwrap();

    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &sms("SM1", "Hello?"), Some(AUTH_TOKEN)).await, 200);
    assert_eq!(app.state.channels.reseal_stale().await.unwrap(), 1);
    assert_eq!(app.state.channels.reseal_stale().await.unwrap(), 0, "once is enough");
    let resealed: Vec<u8> = sqlx::query_scalar("SELECT secrets FROM channels").fetch_one(&owner).await.unwrap();
    let opened = SecretKey::from_config(&text).unwrap().open("channel-secrets", &resealed).unwrap();
    assert_eq!(opened.plain, plain, "sealed under the text alone now");

    // And the channel still carries a reply.
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    let sent = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Hi!", "transport": "sms"})).await;
    assert_eq!(sent.status, 202);
    let _background = app.start_background();
    wait_for("the reply", async || !twilio.sent().is_empty()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_sms_from_a_stranger_becomes_a_client_once_and_forgeries_store_nothing() {
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let count = |sql: &'static str| {
        let owner = app.owner.clone();
        async move {
            let mut conn = sqlx::ConnectOptions::connect(&owner).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
            n
        }
    };

    // Unsigned, wrongly signed, or signed for another URL: 403 and nothing stored.
    let fields = sms("SM00000000000000000000000000000001", "Salom! Narxi qancha?");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, None).await, 403);
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some("ffffffffffffffffffffffffffffffff")).await, 403);
    let mut forged = fields.clone();
    forged[4].1 = "Changed on the way";
    let url = format!("{}/crm/webhooks/twilio", app.base_url);
    let owned: Vec<(String, String)> = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let signature = crm::transport::twilio::signature(AUTH_TOKEN, &url, &owned);
    let res =
        reqwest::Client::new().post(&url).header("X-Twilio-Signature", signature).form(&forged).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // A number no channel has: nothing can verify it.
    let mut elsewhere = fields.clone();
    elsewhere[3].1 = "+998712999999";
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &elsewhere, Some(AUTH_TOKEN)).await, 403);
    assert_eq!(count("SELECT count(*) FROM messages").await, 0);
    assert_eq!(count("SELECT count(*) FROM clients").await, 0);

    // Signed: a client, a chat and a message; the answer is empty TwiML.
    let res = reqwest::Client::new()
        .post(&url)
        .header("X-Twilio-Signature", crm::transport::twilio::signature(AUTH_TOKEN, &url, &owned))
        .form(&owned)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    assert!(res.text().await.unwrap().contains("<Response></Response>"));
    // Twilio retries: the same MessageSid again stores nothing more.
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await, 200);
    assert_eq!(count("SELECT count(*) FROM messages").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM clients WHERE phone = '+998901112233' AND first_name = '+998901112233'").await,
        1
    );
    assert_eq!(count("SELECT count(*) FROM client_contacts WHERE type = 'phone' AND value = '+998901112233'").await, 1);
    let chats = admin.get("/api/v1/chats").await.json();
    assert_eq!(chats["items"][0]["unread_count"], 1);
    assert_eq!(chats["items"][0]["last_message"]["body"], "Salom! Narxi qancha?");

    // The next message from the same number joins the same client and chat.
    let second = sms("SM00000000000000000000000000000002", "Javob kutaman");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &second, Some(AUTH_TOKEN)).await, 200);
    assert_eq!(count("SELECT count(*) FROM clients").await, 1);
    assert_eq!(count("SELECT count(*) FROM chats").await, 1);
    assert_eq!(count("SELECT count(*) FROM messages").await, 2);

    // A malformed request is 400, still storing nothing.
    let missing: Vec<(&str, &str)> = fields.iter().copied().filter(|(k, _)| *k != "MessageSid").collect();
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &missing, Some(AUTH_TOKEN)).await, 400);
    let mut not_a_number = sms("SM00000000000000000000000000000003", "x");
    not_a_number[2].1 = "hello";
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &not_a_number, Some(AUTH_TOKEN)).await, 400);
    assert_eq!(count("SELECT count(*) FROM messages").await, 2);
}

#[tokio::test]
async fn a_reply_goes_out_through_twilio_and_its_delivery_report_shows() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let mut with_photo = sms("SM00000000000000000000000000000010", "Here is the photo");
    let media_url = format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1", twilio_base(&app));
    with_photo.retain(|(k, _)| *k != "NumMedia");
    with_photo.extend([("NumMedia", "1"), ("MediaUrl0", media_url.as_str()), ("MediaContentType0", "image/png")]);
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &with_photo, Some(AUTH_TOKEN)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();

    // The photo is fetched afterwards with the account's credentials, and stored.
    wait_for("the inbound photo", async || {
        let messages = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json();
        messages["items"][0]["attachments"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    let messages = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json();
    assert_eq!(messages["items"][0]["attachments"][0]["content_type"], "image/png");

    // The reply goes on the client's number, from ours, with our status callback.
    let sent =
        admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Thank you, we will call you"})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.json()["transport"], "sms");
    let message = sent.json()["id"].as_i64().unwrap();
    wait_for("Twilio to be called", async || !twilio.sent().is_empty()).await;
    let form = &twilio.sent()[0];
    assert_eq!(form["To"], CLIENT);
    assert_eq!(form["From"], OUR_NUMBER);
    assert_eq!(form["Body"], "Thank you, we will call you");
    assert_eq!(form["StatusCallback"], format!("{}/crm/webhooks/twilio/status", app.base_url));
    let status_of = async |admin: &Api| {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().find(|m| m["id"] == message).unwrap().clone()
    };
    wait_for("the message to be sent", async || status_of(&admin).await["status"] == "sent").await;

    // Twilio reports delivery (late, and twice); a `sent` after it does not move it back.
    let sid = "SM00000000000000000000000000000001";
    let report = |status: &'static str| {
        vec![
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", sid),
            ("From", OUR_NUMBER),
            ("To", CLIENT),
            ("MessageStatus", status),
        ]
    };
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &report("delivered"), Some(AUTH_TOKEN)).await, 200);
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &report("sent"), Some(AUTH_TOKEN)).await, 200);
    assert_eq!(status_of(&admin).await["status"], "delivered");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &report("delivered"), None).await, 403);
    // A report for a message we never sent is acknowledged and ignored.
    let mut unknown = report("delivered");
    unknown[1].1 = "SMffffffffffffffffffffffffffffffff";
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &unknown, Some(AUTH_TOKEN)).await, 200);

    // An undelivered report keeps Twilio's code, as a sentence.
    let mut failed = report("undelivered");
    failed.push(("ErrorCode", "30006"));
    let second = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Second"})).await.json();
    wait_for("the second message to be sent", async || twilio.sent().len() == 2).await;
    failed[1].1 = "SM00000000000000000000000000000002";
    wait_for("the second message's sid", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().any(|m| m["id"] == second["id"] && m["status"] == "sent")
    })
    .await;
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &failed, Some(AUTH_TOKEN)).await, 200);
    let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
    let second = items.as_array().unwrap().iter().find(|m| m["id"] == second["id"]).unwrap();
    assert_eq!(second["status"], "undelivered");
    assert_eq!(second["error"], "A landline or an unreachable carrier.");
}

fn twilio_base(app: &TestApp) -> String {
    app.state.channels.endpoints().twilio_api_base.clone()
}

#[tokio::test]
async fn a_whatsapp_reply_outside_the_24_hour_window_fails_with_a_readable_reason() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_whatsapp").await;
    let fields = vec![
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM00000000000000000000000000000020"),
        ("From", "whatsapp:+998901112233"),
        ("To", "whatsapp:+998712000000"),
        ("Body", "Assalomu alaykum"),
        ("ProfileName", "Dilnoza"),
    ];
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0].clone();
    assert_eq!(chat["client"]["name"], "Dilnoza", "named after WhatsApp's ProfileName");
    twilio.refuse(
        "whatsapp:+998901112233",
        400,
        63016,
        "Failed to send freeform message because you are outside the allowed window.",
    );
    let sent = admin.post(&format!("/api/v1/chats/{}/messages", chat["id"]), json!({"body": "Hello again"})).await;
    assert_eq!(sent.json()["transport"], "whatsapp");
    let id = sent.json()["id"].clone();
    wait_for("the message to fail", async || {
        let items = admin.get(&format!("/api/v1/chats/{}/messages", chat["id"])).await.json()["items"].clone();
        items.as_array().unwrap().iter().any(|m| m["id"] == id && m["status"] == "failed")
    })
    .await;
    assert_eq!(twilio.sent().len(), 1, "a 4xx is not retried");
    assert_eq!(twilio.sent()[0]["From"], "whatsapp:+998712000000");
    let items = admin.get(&format!("/api/v1/chats/{}/messages", chat["id"])).await.json()["items"].clone();
    let failed = items.as_array().unwrap().iter().find(|m| m["id"] == id).unwrap().clone();
    assert!(failed["error"].as_str().unwrap().contains("24-hour"), "{failed}");
}

pub(crate) fn telegram_update(update_id: i64, message: Value) -> Value {
    json!({"update_id": update_id, "message": message})
}

pub(crate) fn from_client(extra: Value) -> Value {
    let mut m = json!({
        "message_id": 5, "date": 1_763_800_000,
        "from": {"id": 777000111, "is_bot": false, "first_name": "Olga", "last_name": "Petrova", "username": "olga_p"},
        "chat": {"id": 777000111, "type": "private", "first_name": "Olga", "last_name": "Petrova", "username": "olga_p"}
    });
    m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    m
}

pub(crate) async fn post_telegram(app: &TestApp, secret: Option<&str>, body: &Value) -> u16 {
    let mut req = reqwest::Client::new().post(format!("{}/tg/webhook", app.base_url)).json(body);
    if let Some(secret) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn telegram_messages_arrive_with_their_photos_and_replies_reach_the_bot_api() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    let bot = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN, "notify_chat_id": "-1001234567890", "notify_locale": "ru"}),
        )
        .await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();

    // No secret, or a wrong one: 403. Not an update: 400.
    let start = telegram_update(1, from_client(json!({"text": "/start"})));
    assert_eq!(post_telegram(&app, None, &start).await, 403);
    assert_eq!(post_telegram(&app, Some("not-the-secret"), &start).await, 403);
    assert_eq!(post_telegram(&app, Some(&secret), &json!({"hello": "world"})).await, 400);
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&app.owner_pool().await).await.unwrap();
    assert_eq!(stored, 0);

    // /start makes the client and the chat; the same update twice is stored once.
    assert_eq!(post_telegram(&app, Some(&secret), &start).await, 200);
    assert_eq!(post_telegram(&app, Some(&secret), &start).await, 200);
    let photo = telegram_update(
        2,
        from_client(json!({"caption": "My passport scan", "photo": [
            {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 100},
            {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800, "file_size": 16}
        ]})),
    );
    assert_eq!(post_telegram(&app, Some(&secret), &photo).await, 200);
    let chats = admin.get("/api/v1/chats").await.json();
    assert_eq!(chats["items"].as_array().unwrap().len(), 1);
    assert_eq!(chats["items"][0]["client"]["name"], "Olga Petrova");
    let chat = chats["items"][0]["id"].as_i64().unwrap();
    let client = chats["items"][0]["client"]["id"].as_i64().unwrap();
    let contacts = admin.get(&format!("/api/v1/clients/{client}/contacts")).await.json();
    assert_eq!(contacts[0]["type"], "telegram", "{contacts} {chats}");
    assert_eq!(contacts[0]["value"], "olga_p");

    // The largest photo size is fetched through getFile and stored as an image.
    wait_for("the photo", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items[0]["attachments"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(telegram.calls("getFile")[0]["file_id"], "large");
    let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
    assert_eq!(items[0]["body"], "My passport scan");
    assert_eq!(items[0]["attachments"][0]["content_type"], "image/png");
    assert_eq!(items.as_array().unwrap().len(), 2);

    // Staff hear of each inbound message, in the channel's language, with a link.
    wait_for("staff notifications", async || telegram.calls("sendMessage").len() >= 2).await;
    let note = telegram.calls("sendMessage")[1].clone();
    assert_eq!(note["chat_id"], json!(-1001234567890i64));
    let text = note["text"].as_str().unwrap();
    assert!(text.starts_with("Новое сообщение от Olga Petrova: My passport scan"), "{text}");
    assert!(text.ends_with(&format!("/crm/chats/{chat}")), "{text}");

    // A reply goes to the client's Telegram chat id, through sendMessage.
    let before = telegram.calls("sendMessage").len();
    let sent = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Received, thank you"})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.json()["transport"], "telegram");
    wait_for("the reply", async || telegram.calls("sendMessage").len() > before).await;
    let reply = telegram.calls("sendMessage").last().unwrap().clone();
    assert_eq!((reply["chat_id"].clone(), reply["text"].clone()), (json!(777000111), json!("Received, thank you")));
    let id = sent.json()["id"].clone();
    wait_for("the reply to be sent", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().any(|m| m["id"] == id && m["status"] == "sent")
    })
    .await;

    // A client who blocked the bot: the next reply fails for good, saying why.
    telegram.block(777000111);
    let blocked = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Are you there?"})).await.json();
    wait_for("the blocked reply to fail", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().any(|m| m["id"] == blocked["id"] && m["status"] == "failed")
    })
    .await;
    let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
    let failed = items.as_array().unwrap().iter().find(|m| m["id"] == blocked["id"]).unwrap().clone();
    assert_eq!(failed["error"], "The client has blocked the bot.");
}

#[tokio::test]
async fn files_go_out_as_expiring_links_to_twilio_and_as_uploads_to_telegram() {
    let (app, twilio, telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let bot = admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    assert_eq!(bot.status, 201);
    let agent = app.sign_in_as(Role::Agent).await;

    // To Twilio: a link under PUBLIC_URL that works without a session, and only as signed.
    assert_eq!(
        post_twilio(
            &app,
            "/crm/webhooks/twilio",
            &sms("SM00000000000000000000000000000030", "Send me the plan"),
            Some(AUTH_TOKEN)
        )
        .await,
        200
    );
    let sms_chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{sms_chat}/messages"),
            "files",
            &[("plan.png", PNG)],
            &[("body", "Here it is"), ("via", "sms:")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    wait_for("Twilio to be called", async || !twilio.sent().is_empty()).await;
    let link = twilio.sent()[0]["MediaUrl"].clone();
    assert!(link.starts_with(&format!("{}/media/", app.base_url)), "{link}");
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
    let forged = link.replace("sig=", "sig=x");
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 403);

    // To Telegram: the file itself, with the text as its caption, to the client's chat.
    let start = telegram_update(40, from_client(json!({"text": "/start"})));
    assert_eq!(post_telegram(&app, Some(&secret), &start).await, 200);
    let tg_chat = admin.get("/api/v1/chats").await.json()["items"][0].clone();
    let contacts = admin.get(&format!("/api/v1/clients/{}/contacts", tg_chat["client"]["id"])).await.json();
    let via = format!("telegram:{}", contacts[0]["id"]);
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{}/messages", tg_chat["id"]),
            "files",
            &[("plan.png", PNG)],
            &[("body", "Here it is"), ("via", via.as_str())],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    wait_for("sendPhoto", async || !telegram.calls("sendPhoto").is_empty()).await;
    let photo = telegram.calls("sendPhoto")[0].clone();
    assert_eq!(photo["chat_id"], "777000111");
    assert_eq!(photo["caption"], "Here it is");
    assert_eq!(photo["photo"]["file_name"], "plan.png", "{photo}");
    assert_eq!(photo["photo"]["size"], PNG.len());
}

#[tokio::test]
async fn a_stranger_writing_several_times_at_once_becomes_one_client_and_loses_nothing() {
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let sids: Vec<String> = (0..6).map(|i| format!("SM{:032x}", 0x500 + i)).collect();
    let sent = futures_util::future::join_all(sids.iter().map(|sid| {
        let fields = sms(sid, "Are you open today?");
        let app = &app;
        async move { post_twilio(app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await }
    }))
    .await;
    assert!(sent.iter().all(|s| *s == 200), "{sent:?}");
    let owner = app.owner_pool().await;
    let clients: i64 = sqlx::query_scalar("SELECT count(*) FROM clients").fetch_one(&owner).await.unwrap();
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&owner).await.unwrap();
    assert_eq!((clients, messages), (1, 6));
}

#[tokio::test]
async fn a_reply_leaves_by_the_number_the_client_wrote_to() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let second = "+998712000001";
    let created = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Second line", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": second}),
        )
        .await;
    assert_eq!(created.status, 201);
    let mut fields = sms("SM00000000000000000000000000000060", "Hello, second line");
    fields[3].1 = second;
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Hello from the second line"})).await;
    wait_for("Twilio to be called", async || !twilio.sent().is_empty()).await;
    assert_eq!(twilio.sent()[0]["From"], second);
}

#[tokio::test]
async fn twilio_busy_or_rate_limiting_is_retried_and_the_message_is_sent_once() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    assert_eq!(
        post_twilio(&app, "/crm/webhooks/twilio", &sms("SM00000000000000000000000000000070", "Hi"), Some(AUTH_TOKEN))
            .await,
        200
    );
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    twilio.refuse_times(CLIENT, Some(1), 503, 20500, "Service unavailable");
    let sent = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Still there?"})).await.json();
    // A worker with a short first retry, so the test need not wait the default 5 s.
    let settings = crm::services::delivery::Settings {
        first_retry: Duration::from_millis(50),
        poll: Duration::from_millis(20),
        ..Default::default()
    };
    let worker = crm::services::delivery::DeliveryWorker::new(
        app.pool.clone(),
        app.state.events.clone(),
        app.state.providers.clone(),
        (app.state.files.clone(), app.state.media_links()),
        settings,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = worker.spawn(stopped);
    wait_for("the retried message to be sent", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().any(|m| m["id"] == sent["id"] && m["status"] == "sent")
    })
    .await;
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(twilio.sent().len(), 2, "refused once with 503, then sent");
    let attempts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM message_deliveries").fetch_one(&app.owner_pool().await).await.unwrap();
    assert_eq!(attempts, 0, "the outbox is empty");
    // The channel's health saw both: the busy answer, then the success after it.
    let (code, failed_before_ok): (Option<String>, bool) =
        sqlx::query_as("SELECT health_error_code, health_error_at < health_ok_at FROM channels")
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!((code.as_deref(), failed_before_ok), (Some("delivery_retrying"), true));
}

#[tokio::test]
async fn a_busy_twilio_is_said_to_be_busy_while_the_message_waits() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    twilio_channel(&admin, "twilio_sms").await;
    let sms_in = sms("SM00000000000000000000000000000071", "Hi");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &sms_in, Some(AUTH_TOKEN)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    twilio.refuse_times(CLIENT, Some(1), 429, 20429, "Too Many Requests");
    admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Still there?"})).await;
    // One pass; the next would be an hour away.
    let settings = crm::services::delivery::Settings { first_retry: Duration::from_secs(3600), ..Default::default() };
    let worker = crm::services::delivery::DeliveryWorker::new(
        app.pool.clone(),
        app.state.events.clone(),
        app.state.providers.clone(),
        (app.state.files.clone(), app.state.media_links()),
        settings,
    );
    worker.run_once().await.unwrap();
    let (code, said): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT last_error_code, last_error FROM message_deliveries")
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!(code.as_deref(), Some("busy"));
    assert!(said.is_some_and(|s| s.contains("Too Many Requests")), "the provider's words are kept");
    let page = app.sign_in_as(Role::Agent).await.get(&format!("/crm/chats/{chat}")).await;
    assert!(page.body.contains("Retrying (1/6): Twilio is busy and asked us to wait"), "{}", page.body);
}

#[tokio::test]
async fn a_disabled_channel_sends_nothing_but_still_takes_in_what_clients_write() {
    let (app, twilio, _telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    let channel = twilio_channel(&admin, "twilio_sms").await;
    let first = sms("SM00000000000000000000000000000080", "Hi");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &first, Some(AUTH_TOKEN)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    let off = admin.patch(&format!("/api/v1/channels/{}", channel["id"]), json!({"enabled": false})).await;
    assert_eq!(off.json()["enabled"], false);

    let refused =
        admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Hello", "transport": "sms"})).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.json()["error"]["fields"]["transport"].is_array());
    // Nothing is lost: the client's next message is still stored.
    let second = sms("SM00000000000000000000000000000081", "Hello?");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &second, Some(AUTH_TOKEN)).await, 200);
    let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert!(twilio.sent().is_empty());
}

#[tokio::test]
async fn replacing_a_bot_token_keeps_the_chats_and_the_next_reply_uses_the_new_one() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    let bot =
        admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await.json();
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let hello = telegram_update(90, from_client(json!({"text": "Hello"})));
    assert_eq!(post_telegram(&app, Some(&secret), &hello).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();

    let replaced = admin.patch(&format!("/api/v1/channels/{}", bot["id"]), json!({"bot_token": NEW_BOT_TOKEN})).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.json()["webhook"]["ok"], true);
    assert_eq!(telegram.tokens("setWebhook"), [BOT_TOKEN, NEW_BOT_TOKEN]);
    assert_eq!(telegram.calls("setWebhook")[1]["secret_token"], secret.as_str(), "the webhook secret stays");

    // The same chat and client; updates still come in; replies go with the new token.
    let again = telegram_update(91, from_client(json!({"text": "Still me"})));
    assert_eq!(post_telegram(&app, Some(&secret), &again).await, 200);
    let chats = admin.get("/api/v1/chats").await.json()["items"].clone();
    assert_eq!((chats.as_array().unwrap().len(), chats[0]["id"].as_i64().unwrap()), (1, chat));
    admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"body": "Yes, we are here"})).await;
    wait_for("the reply", async || telegram.tokens("sendMessage").contains(&NEW_BOT_TOKEN.to_owned())).await;
}

#[tokio::test]
async fn telegram_documents_and_voice_notes_arrive_as_files() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let _background = app.start_background();
    let admin = app.api(Role::Admin).await;
    admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let document = from_client(json!({"document": {"file_id": "doc1", "file_unique_id": "d",
        "file_name": "contract.pdf", "mime_type": "application/pdf", "file_size": 16}}));
    let voice = from_client(json!({"voice": {"file_id": "voice1", "file_unique_id": "v", "duration": 3,
        "mime_type": "audio/ogg", "file_size": 16}}));
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(100, document)).await, 200);
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(101, voice)).await, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    wait_for("both files", async || {
        let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
        items.as_array().unwrap().iter().all(|m| m["attachments"].as_array().is_some_and(|a| a.len() == 1))
    })
    .await;
    let mut fetched: Vec<Value> = telegram.calls("getFile").iter().map(|c| c["file_id"].clone()).collect();
    fetched.sort_by_key(|v| v.to_string());
    assert_eq!(fetched, [json!("doc1"), json!("voice1")]);
    let items = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json()["items"].clone();
    let names: Vec<&str> =
        items.as_array().unwrap().iter().map(|m| m["attachments"][0]["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["voice.ogg", "contract.pdf"], "newest first, named as sent");
}

/// A browser of an admin of the app's tenant, speaking Russian.
async fn russian_admin(app: &TestApp) -> crate::helpers::Client {
    let admin = app.sign_in_as(Role::Admin).await;
    let csrf = admin.get("/crm").await.csrf().unwrap();
    admin.post("/crm/locale", &[("_csrf", &csrf), ("locale", "ru"), ("back", "/crm")]).await;
    admin
}

#[tokio::test]
async fn a_failed_test_says_why_in_the_readers_language_and_the_channel_shows_it_failing() {
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let api = app.api(Role::Admin).await;
    let wrong = api
        .post(
            "/api/v1/channels",
            json!({"kind": "twilio_sms", "name": "Wrong token", "account_sid": ACCOUNT_SID,
                   "auth_token": "ffffffffffffffffffffffffffffffff", "from": "+998712000009"}),
        )
        .await
        .json();
    let right = twilio_channel(&api, "twilio_sms").await;
    let admin = russian_admin(&app).await;
    let list = admin.get("/crm/settings/channels").await;
    assert!(list.body.contains("Ещё не проверен"), "untested channels say so, not a green Enabled");
    let csrf = list.csrf().unwrap();

    let failed = admin.post(&format!("/crm/settings/channels/{}/test", wrong["id"]), &[("_csrf", &csrf)]).await;
    assert!(failed.body.contains("Twilio не принимает эти учётные данные"), "{}", failed.body);
    assert!(!failed.body.contains("Провайдер ответил отказом"), "no contradicting English inside Russian");
    assert!(failed.body.contains("Технические подробности"), "what Twilio said, tucked away");
    assert!(failed.body.contains("Сбой") && failed.body.contains("Провайдер не принимает учётные данные."));

    let passed = admin.post(&format!("/crm/settings/channels/{}/test", right["id"]), &[("_csrf", &csrf)]).await;
    assert!(passed.body.contains("Acme Twilio"), "{}", passed.body);
    assert!(passed.body.contains("Работает"));
}

#[tokio::test]
async fn a_telegram_that_does_not_answer_is_named_as_such_and_the_public_url_is_warned_about() {
    let app = TestApp::spawn_with(&[("TELEGRAM_API_BASE", "http://127.0.0.1:9")]).await;
    let api = app.api(Role::Admin).await;
    let bot = api.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    assert_eq!(bot.json()["webhook"]["ok"], false);
    assert_eq!(bot.json()["webhook"]["cause"], "no_answer");
    let admin = russian_admin(&app).await;
    let list = admin.get("/crm/settings/channels").await;
    // The app listens on 127.0.0.1 over http: nobody outside can deliver to it.
    assert!(list.body.contains("Провайдеры не могут достучаться до этого сервера"), "{}", list.body);
    let csrf = list.csrf().unwrap();
    let failed = admin.post(&format!("/crm/settings/channels/{}/test", bot.json()["id"]), &[("_csrf", &csrf)]).await;
    assert!(failed.body.contains("Telegram не ответил."), "{}", failed.body);

    let public = TestApp::spawn_with(&[("PUBLIC_URL", "https://crm.example.com")]).await;
    let page = public.sign_in_as(Role::Admin).await.get("/crm/settings/channels").await;
    assert!(!page.body.contains("panel-warning"), "a public https address is fine");
}
