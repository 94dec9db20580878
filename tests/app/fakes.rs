//! Local servers that speak Twilio's REST API and Telegram's Bot API as the CRM uses them:
//! they check credentials, record what they were sent, and answer as the real ones do
//! (including their refusals), so the CRM's real clients run against them unchanged.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
/// Another token of the same bot (as @BotFather gives after a revoke).
pub const NEW_BOT_TOKEN: &str = "123456789:AAGnewTokenAfterRevokeXYZabcdefghij";
/// The bytes of a tiny PNG, served as the media of inbound messages.
pub const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A status, Twilio's error JSON, and how many times more to answer so (`None`: always).
type Refusal = (u16, Value, Option<usize>);

/// How the fake takes one request to create a message, as a slow or failing Twilio might.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Creates the message, then answers after this long (a slow Twilio, or one whose answer
    /// never reaches a caller that stopped waiting).
    Slow(std::time::Duration),
    /// Answers 503 at once, creating nothing.
    Busy,
}

/// For messages whose body contains the text: how the next requests for them are taken.
type Script = (String, VecDeque<Behaviour>);

/// A message as Twilio keeps it, for its Messages list.
#[derive(Debug, Clone)]
pub struct Created {
    pub sid: String,
    pub to: String,
    pub from: Option<String>,
    pub service: Option<String>,
    pub body: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Twilio: Messages (create, list), Accounts (fetch) and Media (fetch), behind basic auth.
#[derive(Clone, Default)]
pub struct FakeTwilio {
    /// The form of every request to create a message, in order (refused ones included).
    pub sent: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// The messages created, in order.
    pub created: Arc<Mutex<Vec<Created>>>,
    /// Answers for messages to a number (`To`): a status, Twilio's error JSON, and how many
    /// times more to give it (`None`: always).
    refusals: Arc<Mutex<HashMap<String, Refusal>>>,
    /// For messages whose body contains a text: how the next requests are taken, in turn.
    scripts: Arc<Mutex<Vec<Script>>>,
    /// How many list requests fail (500) before one is answered.
    failing_lists: Arc<Mutex<usize>>,
    /// List requests answered.
    pub lists: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeTwilio {
    pub async fn start() -> (Self, String) {
        let fake = FakeTwilio::default();
        let router = Router::new()
            .route("/2010-04-01/Accounts/{file}", get(twilio_account))
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio_create).get(twilio_list))
            .route("/2010-04-01/Accounts/{sid}/Messages/{mm}/Media/{me}", get(twilio_media))
            .with_state(fake.clone());
        (fake, serve(router).await)
    }

    /// Messages to `to` are refused as Twilio refuses them: `status` with `{code, message}`.
    pub fn refuse(&self, to: &str, status: u16, code: i64, message: &str) {
        self.refuse_times(to, None, status, code, message);
    }

    /// As `refuse`, `times` times (then messages to `to` go through again).
    pub fn refuse_times(&self, to: &str, times: Option<usize>, status: u16, code: i64, message: &str) {
        let body = json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status});
        self.refusals.lock().unwrap().insert(to.to_owned(), (status, body, times));
    }

    pub fn sent(&self) -> Vec<HashMap<String, String>> {
        self.sent.lock().unwrap().clone()
    }

    /// The next requests for messages whose body contains `text` are taken as `behaviours`
    /// say, one each, in turn (then normally again).
    pub fn script(&self, text: &str, behaviours: &[Behaviour]) {
        self.scripts.lock().unwrap().push((text.to_owned(), behaviours.iter().copied().collect()));
    }

    /// The next `n` requests for the Messages list fail with 500.
    pub fn fail_lists(&self, n: usize) {
        *self.failing_lists.lock().unwrap() = n;
    }

    pub fn created(&self) -> Vec<Created> {
        self.created.lock().unwrap().clone()
    }

    fn behaviour_for(&self, body: &str) -> Option<Behaviour> {
        let mut scripts = self.scripts.lock().unwrap();
        scripts.iter_mut().find(|(text, left)| body.contains(text.as_str()) && !left.is_empty())?.1.pop_front()
    }
}

fn twilio_authorised(headers: &HeaderMap) -> bool {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn twilio_unauthorised() -> Response {
    let body = json!({"code": 20003, "message": "Authenticate", "status": 401});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

async fn twilio_account(headers: HeaderMap, Path(file): Path<String>) -> Response {
    if !twilio_authorised(&headers) || file != format!("{ACCOUNT_SID}.json") {
        return twilio_unauthorised();
    }
    axum::Json(json!({"sid": ACCOUNT_SID, "friendly_name": "Acme Twilio", "status": "active"})).into_response()
}

async fn twilio_create(State(fake): State<FakeTwilio>, headers: HeaderMap, body: Bytes) -> Response {
    if !twilio_authorised(&headers) {
        return twilio_unauthorised();
    }
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(&body) {
        // Repeated fields (MediaUrl) are kept in order, joined by spaces.
        form.entry(k.into_owned()).and_modify(|e| e.push_str(&format!(" {v}"))).or_insert_with(|| v.into_owned());
    }
    let to = form.get("To").cloned().unwrap_or_default();
    let refusal = {
        let mut refusals = fake.refusals.lock().unwrap();
        let refusal = refusals.get(&to).map(|(status, body, _)| (*status, body.clone()));
        if let Some((_, _, Some(left))) = refusals.get_mut(&to) {
            *left -= 1;
            if *left == 0 {
                refusals.remove(&to);
            }
        }
        refusal
    };
    let body = form.get("Body").cloned().unwrap_or_default();
    let n = {
        let mut sent = fake.sent.lock().unwrap();
        sent.push(form.clone());
        sent.len()
    };
    if let Some((status, body)) = refusal {
        return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    }
    let behaviour = fake.behaviour_for(&body);
    if behaviour == Some(Behaviour::Busy) {
        let busy = json!({"code": 20503, "message": "Service unavailable", "status": 503});
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(busy)).into_response();
    }
    let sid = format!("SM{n:032x}");
    fake.created.lock().unwrap().push(Created {
        sid: sid.clone(),
        to: to.clone(),
        from: form.get("From").cloned(),
        service: form.get("MessagingServiceSid").cloned(),
        body,
        at: chrono::Utc::now(),
    });
    if let Some(Behaviour::Slow(delay)) = behaviour {
        tokio::time::sleep(delay).await;
    }
    (StatusCode::CREATED, axum::Json(json!({"sid": sid, "status": "queued", "to": to}))).into_response()
}

/// The Messages list, newest first, filtered by To, From and `DateSent>` (a date) as Twilio's is.
async fn twilio_list(
    State(fake): State<FakeTwilio>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if !twilio_authorised(&headers) {
        return twilio_unauthorised();
    }
    {
        let mut failing = fake.failing_lists.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            let err = json!({"code": 20500, "message": "Internal Server Error", "status": 500});
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(err)).into_response();
        }
    }
    fake.lists.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let params: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let since =
        param("DateSent>").map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").expect("DateSent> is a date"));
    let messages: Vec<Value> = fake
        .created()
        .iter()
        .rev()
        .filter(|m| param("To").is_none_or(|to| to == m.to))
        .filter(|m| param("From").is_none_or(|from| Some(from) == m.from))
        .filter(|m| since.is_none_or(|day| m.at.date_naive() >= day))
        .map(|m| {
            json!({"sid": m.sid, "to": m.to, "from": m.from, "messaging_service_sid": m.service, "body": m.body,
                   "status": "sent", "direction": "outbound-api", "date_created": m.at.to_rfc2822(),
                   "date_sent": m.at.to_rfc2822(), "error_code": null, "error_message": null})
        })
        .collect();
    axum::Json(json!({"messages": messages, "page": 0, "page_size": 50, "next_page_uri": null})).into_response()
}

async fn twilio_media(headers: HeaderMap) -> Response {
    if !twilio_authorised(&headers) {
        return twilio_unauthorised();
    }
    ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
}

/// One call to the Bot API: the method and its parameters (JSON, or multipart text fields
/// with each file field's name and size).
#[derive(Debug, Clone)]
pub struct BotCall {
    /// The token it came with.
    pub token: String,
    pub method: String,
    pub params: Value,
}

/// Telegram's Bot API at `/bot{token}/{method}` and its file downloads at `/file/bot{token}/…`.
#[derive(Clone, Default)]
pub struct FakeTelegram {
    pub calls: Arc<Mutex<Vec<BotCall>>>,
    /// Chats that have blocked the bot.
    blocked: Arc<Mutex<Vec<i64>>>,
    /// Chats whose messages are sent but answered only after this long.
    slow: Arc<Mutex<HashMap<i64, std::time::Duration>>>,
    /// Methods (lower case) refused with 400, as Telegram refuses a file it cannot take.
    refused: Arc<Mutex<Vec<String>>>,
}

impl FakeTelegram {
    pub async fn start() -> (Self, String) {
        let fake = FakeTelegram::default();
        let router = Router::new()
            .route("/{bot}/{method}", post(telegram_method))
            .route("/file/{bot}/{*path}", get(telegram_file))
            .with_state(fake.clone());
        (fake, serve(router).await)
    }

    pub fn block(&self, chat: i64) {
        self.blocked.lock().unwrap().push(chat);
    }

    /// Calls of `method` are refused with 400 (`Bad Request: wrong file`).
    pub fn refuse(&self, method: &str) {
        self.refused.lock().unwrap().push(method.to_ascii_lowercase());
    }

    /// Messages to `chat` are sent, and answered only after `delay` (or never, if the caller
    /// stops waiting first).
    pub fn answer_slowly(&self, chat: i64, delay: std::time::Duration) {
        self.slow.lock().unwrap().insert(chat, delay);
    }

    /// The tokens of the calls of `method`, in order.
    pub fn tokens(&self, method: &str) -> Vec<String> {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|c| c.method.eq_ignore_ascii_case(method)).map(|c| c.token.clone()).collect()
    }

    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .map(|c| c.params.clone())
            .collect()
    }
}

/// The token of a `bot<token>` path segment, if it is one of the bot's.
fn known_bot(segment: &str) -> Option<String> {
    segment.strip_prefix("bot").filter(|t| [BOT_TOKEN, NEW_BOT_TOKEN].contains(t)).map(str::to_owned)
}

fn bot_ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn sent_message(chat: i64, id: i64) -> Value {
    json!({"message_id": id, "date": 1_763_800_000, "chat": {"id": chat, "type": "private", "first_name": "Client"}, "text": "ok"})
}

async fn telegram_method(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = known_bot(&bot) else {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response();
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let params = if content_type.starts_with("multipart/form-data") {
        let request = axum::http::Request::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .unwrap();
        let mut multipart = <Multipart as axum::extract::FromRequest<()>>::from_request(request, &()).await.unwrap();
        let mut params = serde_json::Map::new();
        while let Some(field) = multipart.next_field().await.unwrap() {
            let name = field.name().unwrap_or("").to_owned();
            let file = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.unwrap();
            let value = match file {
                Some(file) => json!({"file_name": file, "size": bytes.len()}),
                None => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            };
            params.insert(name, value);
        }
        // A file may be sent under its own part and named as `attach://<part>` (as teloxide does).
        let attached: Vec<(String, String)> = params
            .iter()
            .filter_map(|(k, v)| v.as_str()?.strip_prefix("attach://").map(|part| (k.clone(), part.to_owned())))
            .collect();
        for (field, part) in attached {
            if let Some(file) = params.remove(&part) {
                params.insert(field, file);
            }
        }
        Value::Object(params)
    } else if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    let n = {
        let mut calls = fake.calls.lock().unwrap();
        calls.push(BotCall { token, method: method.clone(), params: params.clone() });
        calls.len() as i64
    };
    let chat = match &params["chat_id"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    };
    // Telegram's method names are case-insensitive (teloxide sends `GetMe`).
    match method.to_ascii_lowercase().as_str() {
        "getme" => bot_ok(json!({
            "id": 123456789, "is_bot": true, "first_name": "Acme", "username": "acme_crm_bot",
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false
        })),
        "setwebhook" | "deletewebhook" => bot_ok(json!(true)),
        m if fake.refused.lock().unwrap().iter().any(|r| r == m) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400, "description": "Bad Request: wrong file"})),
        )
            .into_response(),
        "sendmessage" | "sendphoto" | "senddocument" if fake.blocked.lock().unwrap().contains(&chat) => (
            StatusCode::FORBIDDEN,
            axum::Json(
                json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
            ),
        )
            .into_response(),
        "sendmessage" | "sendphoto" | "senddocument" => {
            let delay = fake.slow.lock().unwrap().get(&chat).copied();
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            bot_ok(sent_message(chat, 1000 + n))
        }
        "getfile" => bot_ok(json!({
            "file_id": params["file_id"], "file_unique_id": "AgADuniq", "file_size": PNG.len(),
            "file_path": "photos/file_1.png"
        })),
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"ok": false, "error_code": 404, "description": "Not Found"})))
            .into_response(),
    }
}

async fn telegram_file(Path((bot, path)): Path<(String, String)>) -> Response {
    if known_bot(&bot).is_none() || path != "photos/file_1.png" {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
}
