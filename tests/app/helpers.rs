//! `TestApp`: the real application on a free port, over a fresh database of its own, with a
//! cookie-keeping client and shortcuts to create tenants and sign in as a role.
//!
//! The databases live in one private PostgreSQL cluster per test run (under the target
//! directory), started on first use and stopped when the test binary exits; each test's database
//! is a copy of a template migrated once. With `DATABASE_URL` set, that server is used instead.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crm::app::{self, AppState};
use crm::config::Config;
use crm::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crm::db::{self, quote_ident};
use crm::domain::{Role, TenantId};
use crm::events::EventBus;
use crm::services::tenants::NewTenant;
use reqwest::header::{HeaderMap, SET_COOKIE};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgPool};

const TEMPLATE: &str = "crm_test_template";
pub const SECRET_KEY: &str = "test-secret-key-test-secret-key-test-secret-key";

/// Where test databases are created.
struct Server {
    base: PgConnectOptions,
}

impl Server {
    fn database(&self, name: &str) -> PgConnectOptions {
        self.base.clone().database(name)
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();

extern "C" fn stop_cluster_at_exit() {
    if let Some(pg) = CLUSTER.get() {
        let _ = pg.stop();
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let base = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => url.parse::<PgConnectOptions>().expect("DATABASE_URL is not a PostgreSQL URL"),
            None => {
                let pg =
                    EmbeddedPostgres::start(&test_cluster_dir(), ClusterOptions { durable: false, long_lived: false })
                        .unwrap_or_else(|e| panic!("cannot start the test PostgreSQL: {e}"));
                let opts = pg.connect_options("postgres");
                let _ = CLUSTER.set(pg);
                // SAFETY: registering a plain extern "C" function with no captured state.
                unsafe { libc::atexit(stop_cluster_at_exit) };
                opts
            }
        };
        let server = Server { base };
        // Tests run on many runtimes; this one-off set-up gets a thread and runtime of its own.
        let maintenance = server.database("postgres");
        let template = server.database(TEMPLATE);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(prepare_template(maintenance, template));
        })
        .join()
        .expect("preparing the template database failed");
        server
    })
}

/// The run's cluster lives in the target directory (embedded.rs finds the `postgres` user a
/// reachable place for it if need be).
fn test_cluster_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-pg")
}

async fn prepare_template(maintenance: PgConnectOptions, template: PgConnectOptions) {
    let mut conn = maintenance.connect().await.expect("connect to the test server");
    // Databases of earlier runs.
    let stale: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'crm\\_test\\_%'")
        .fetch_all(&mut conn)
        .await
        .expect("list databases");
    for name in stale {
        let _ = conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name)).as_str()).await;
    }
    conn.execute(format!("CREATE DATABASE {}", quote_ident(TEMPLATE)).as_str()).await.expect("create template");
    let mut tconn = template.connect().await.expect("connect to template");
    db::MIGRATOR.run(&mut tconn).await.expect("migrate template");
    tconn.close().await.expect("close template");
    conn.close().await.expect("close");
}

pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    pub pool: PgPool,
    /// Connects as the database owner (migrations' role), for tests that look under the hood.
    pub owner: PgConnectOptions,
    /// The tenant every `sign_in_as` user belongs to.
    pub tenant: TenantId,
    counter: std::sync::atomic::AtomicUsize,
    owner_pool: tokio::sync::OnceCell<PgPool>,
}

pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra configuration variables (e.g. `PUBLIC_URL`).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        Self::spawn_full(vars, crm::services::Providers::default()).await
    }

    /// Spawns with the providers messages go out through (local fakes of real services).
    pub async fn spawn_with_providers(providers: crm::services::Providers) -> TestApp {
        Self::spawn_full(&[], providers).await
    }

    async fn spawn_full(vars: &[(&str, &str)], providers: crm::services::Providers) -> TestApp {
        let server = server();
        let name = format!("crm_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = server.database("postgres").connect().await.expect("connect");
        conn.execute(format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(TEMPLATE)).as_str())
            .await
            .expect("create test database");
        conn.close().await.expect("close");
        let owner = server.database(&name);
        let pool = db::app_pool(owner.clone(), 5).await.expect("app pool");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base_url = format!("http://{addr}");
        let data_dir = std::env::temp_dir().join(format!("crm-test-data-{name}"));
        let mut map: HashMap<String, String> = [
            ("CRM_SECRET_KEY", SECRET_KEY.to_owned()),
            ("BIND_ADDR", addr.to_string()),
            ("CRM_DATA_DIR", data_dir.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // An empty value leaves the variable unset (`CRM_SECRET_KEY`: the key file instead).
        for (k, v) in vars {
            if v.is_empty() {
                map.remove(*k);
            } else {
                map.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        let config = Config::from_lookup(|k| map.get(k).cloned()).expect("config");
        let state =
            AppState::new(config, pool.clone(), EventBus::default()).expect("app state").with_providers(providers);
        tokio::spawn(app::serve(listener, state.clone(), std::future::pending()));

        let (tenant, _) = state
            .tenants
            .create(NewTenant {
                name: "Acme",
                admin_email: &format!("owner@{}.test", &name[10..22]),
                admin_name: "Olivia Owner",
                admin_password: "owner password 1",
            })
            .await
            .expect("default tenant");
        TestApp { base_url, state, pool, owner, tenant, counter: Default::default(), owner_pool: Default::default() }
    }

    /// Starts what `crm serve` runs besides requests (the import worker, clean-up).
    pub fn start_background(&self) -> app::Background {
        app::Background::start(&self.state)
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base_url)
    }

    /// Creates another tenant with an admin, returning the tenant and the admin's credentials.
    pub async fn create_tenant(&self, name: &str) -> (TenantId, Credentials) {
        let n = self.next();
        let creds = Credentials {
            email: format!("admin{n}@{}.test", name.to_lowercase()),
            password: format!("tenant pass {n}!"),
        };
        let (id, _) = self
            .state
            .tenants
            .create(NewTenant {
                name,
                admin_email: &creds.email,
                admin_name: &format!("{name} Admin"),
                admin_password: &creds.password,
            })
            .await
            .expect("create tenant");
        (id, creds)
    }

    /// Adds a user with `role` to `tenant`.
    pub async fn create_user(&self, tenant: TenantId, role: Role) -> Credentials {
        let n = self.next();
        let creds =
            Credentials { email: format!("{role}{n}@example.test"), password: format!("password for {role} {n}") };
        self.state
            .users
            .create_from_cli(
                tenant,
                &creds.email,
                &format!("{} {n}", capitalise(role.as_str())),
                &creds.password,
                role.as_str(),
            )
            .await
            .expect("create user");
        creds
    }

    /// A client signed in as a new user of the default tenant with `role`.
    pub async fn sign_in_as(&self, role: Role) -> Client {
        let creds = self.create_user(self.tenant, role).await;
        let client = self.client();
        client.sign_in(&creds).await;
        client
    }

    /// A client with a phone contact, made through `api`, who has written "Hello"; their chat.
    pub async fn client_who_wrote(
        &self,
        api: &Api,
        name: &str,
        phone: &str,
    ) -> (crm::domain::ClientId, crm::domain::ContactId, crm::domain::chat::ChatId) {
        let client = api
            .post(
                "/api/v1/clients",
                serde_json::json!({"first_name": name, "contacts": [{"type": "phone", "value": phone}]}),
            )
            .await
            .json();
        let client_id = crm::domain::ClientId(client["id"].as_i64().unwrap());
        let contact = crm::domain::ContactId(client["contacts"][0]["id"].as_i64().unwrap());
        let chat = self.writes(self.tenant, client_id, contact, "Hello").await;
        (client_id, contact, chat)
    }

    /// The client of `tenant` writes `body` by SMS through `contact`; their chat.
    pub async fn writes(
        &self,
        tenant: TenantId,
        client: crm::domain::ClientId,
        contact: crm::domain::ContactId,
        body: &str,
    ) -> crm::domain::chat::ChatId {
        let incoming = crm::services::inbound::Incoming {
            client,
            contact,
            transport: crm::domain::chat::Transport::Sms,
            sender_name: "Client",
            body,
        };
        self.state.inbound.receive_from(tenant, incoming).await.unwrap();
        crm::domain::chat::ChatId(
            self.scalar_i64(&format!("SELECT id FROM chats WHERE client_id = {}", client.0)).await,
        )
    }

    /// The inbox's live stream (Server-Sent Events) as `browser`'s page opens it, its first
    /// words (the retry hint) already read.
    pub async fn live_stream(&self, browser: &Client) -> reqwest::Response {
        let session = browser.cookie("crm_session").expect("signed in");
        let mut stream = reqwest::Client::new()
            .get(format!("{}/crm/chats/events", self.base_url))
            .header("cookie", format!("crm_session={session}"))
            .send()
            .await
            .expect("live stream");
        assert_eq!(stream.status(), 200);
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk()).await;
        assert!(matches!(first, Ok(Ok(Some(_)))), "the stream's first words");
        stream
    }

    /// What `browser`'s live stream hears while `act` runs and for `wait` after it, as text.
    pub async fn heard(
        &self,
        browser: &Client,
        wait: std::time::Duration,
        act: impl std::future::Future<Output = ()>,
    ) -> String {
        let mut stream = self.live_stream(browser).await;
        act.await;
        let mut text = String::new();
        let _ = tokio::time::timeout(wait, async {
            while let Ok(Some(chunk)) = stream.chunk().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await;
        text
    }

    /// Runs `sql` as the database owner and returns the first column of the first row.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let mut conn = self.owner.connect().await.expect("owner connection");
        let v: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
        v
    }

    /// A pool connected as the database owner (no row-level security), for looking under the hood.
    pub async fn owner_pool(&self) -> PgPool {
        let pool = self.owner_pool.get_or_init(|| async {
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_with(self.owner.clone())
                .await
                .expect("owner pool")
        });
        pool.await.clone()
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// An answer, read whole.
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of the first `_csrf` hidden field.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
        Some(self.body[at..].split('"').next()?.to_owned())
    }
}

/// A browser-like client: keeps cookies, does not follow redirects, remembers the CSRF token of
/// the last page that had one and sends it with `post`.
pub struct Client {
    http: reqwest::Client,
    base: String,
    cookies: Mutex<Vec<(String, String)>>,
    csrf: Mutex<Option<String>>,
    pub accept_language: Mutex<Option<String>>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            base: base.to_owned(),
            cookies: Mutex::new(Vec::new()),
            csrf: Mutex::new(None),
            accept_language: Mutex::new(None),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.cookies.lock().unwrap();
        jar.retain(|(k, _)| k != name);
        jar.push((name.to_owned(), value.to_owned()));
    }

    pub fn csrf_token(&self) -> Option<String> {
        self.csrf.lock().unwrap().clone()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req;
        let jar = self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        if !jar.is_empty() {
            req = req.header("cookie", jar);
        }
        if let Some(lang) = self.accept_language.lock().unwrap().clone() {
            req = req.header("accept-language", lang);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or("");
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                let mut jar = self.cookies.lock().unwrap();
                jar.retain(|(name, _)| name != k);
                if !val.is_empty() && !v.contains("Max-Age=0") {
                    jar.push((k.to_owned(), val.to_owned()));
                }
            }
        }
        let body = res.text().await.unwrap_or_default();
        let page = Page { status, headers, body };
        if let Some(token) = page.csrf() {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    /// Posts a form with the remembered CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts a form exactly as given: no CSRF token is added.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).form(fields)).await
    }

    /// Posts a multipart form as a browser without JavaScript does: the file, other fields, and
    /// the remembered CSRF token in the action's query.
    pub async fn upload(&self, path: &str, file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> Page {
        self.upload_files(path, "file", &[(file_name, bytes)], fields).await
    }

    /// A multipart form with any number of files under `field`.
    pub async fn upload_files(
        &self,
        path: &str,
        field: &str,
        files: &[(&str, &[u8])],
        fields: &[(&str, &str)],
    ) -> Page {
        let boundary = "----crm-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (file_name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\ncontent-disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
                     content-type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let token = self.csrf_token().unwrap_or_default();
        let sep = if path.contains('?') { '&' } else { '?' };
        let req = self
            .http
            .post(format!("{}{path}{sep}_csrf={token}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        self.send(req).await
    }

    pub async fn api_get(&self, path: &str, token: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    /// Signs in through the login form; panics unless it succeeds. Leaves the CSRF token of the
    /// signed-in session remembered.
    pub async fn sign_in(&self, creds: &Credentials) {
        let page = self.try_sign_in(&creds.email, &creds.password).await;
        assert_eq!(page.status, 303, "sign-in failed: {}", page.body);
        let home = self.get("/crm").await;
        assert_eq!(home.status, 200, "home after sign-in: {}", home.body);
    }

    pub async fn try_sign_in(&self, email: &str, password: &str) -> Page {
        self.get("/login").await;
        self.post("/login", &[("email", email), ("password", password)]).await
    }
}

impl TestApp {
    /// A JSON API client with a token of a new user of the default tenant with `role`.
    pub async fn api(&self, role: Role) -> Api {
        self.api_in(self.tenant, role).await
    }

    /// One new user of the default tenant with `role`, both through the API and signed in.
    pub async fn api_and_browser(&self, role: Role) -> (Api, Client) {
        let creds = self.create_user(self.tenant, role).await;
        let browser = self.client();
        browser.sign_in(&creds).await;
        (self.api_of(&creds).await, browser)
    }

    /// A JSON API client acting as a new user of `tenant` with `role`.
    pub async fn api_in(&self, tenant: TenantId, role: Role) -> Api {
        let creds = self.create_user(tenant, role).await;
        self.api_of(&creds).await
    }

    /// A JSON API client acting as the user of `creds`.
    pub async fn api_of(&self, creds: &Credentials) -> Api {
        let (tenant_id, user) = self.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
        let token = self
            .state
            .auth
            .create_api_token(tenant_id, user, "tests", &crm::domain::Actor::System)
            .await
            .unwrap()
            .token;
        Api { http: reqwest::Client::new(), base: self.base_url.clone(), token }
    }
}

/// Calls /api/v1 with a Bearer token.
pub struct Api {
    http: reqwest::Client,
    base: String,
    pub token: String,
}

impl Api {
    /// A client of the API at `base` with `token` (a server the test started itself).
    pub fn new(base: &str, token: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.to_owned(), token: token.to_owned() }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let res = req.bearer_auth(&self.token).send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Page {
        self.send(self.http.put(format!("{}{path}", self.base)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Page {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Page {
        self.send(self.http.delete(format!("{}{path}", self.base))).await
    }
}

/// What the API says (in English) of an input refused with `code`: the words of `error.CODE`.
pub fn said(code: &str) -> String {
    static EN: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let en = EN.get_or_init(|| serde_json::from_str(include_str!("../../locales/en.json")).expect("locales/en.json"));
    en[format!("error.{code}")].as_str().unwrap_or_else(|| panic!("no message for {code}")).to_owned()
}

/// The first thing a refused API answer says of `field`, or "" when it names no such field.
pub fn refusal(page: &Page, field: &str) -> String {
    page.json()["error"]["fields"][field][0].as_str().unwrap_or_default().to_owned()
}
