//! In a real browser: headless Chromium, driven over the W3C WebDriver protocol by chromedriver.
//! Screenshots land in target/tmp/screenshots for people to look at.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser test at a time: several Chromiums at once on a small CI machine time out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Driver {
    process: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    profile: std::path::PathBuf,
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session, or says what to install.
    async fn start() -> Option<Driver> {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(chromedriver) = chromedriver else {
            if std::env::var("CRM_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
                eprintln!("browser tests skipped: CRM_SKIP_BROWSER_TESTS=1");
                return None;
            }
            panic!(
                "browser tests need Chromium and its driver: apt-get install chromium chromium-driver (or set CRM_SKIP_BROWSER_TESTS=1)"
            );
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Its own process group, so that dropping the driver ends Chromium too, even after a panic.
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("crm-chromium-{}", uuid::Uuid::new_v4().simple()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                         "--window-size=1280,800", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let res: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_owned();
        Some(Driver { process, http, base, session, profile })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = res["value"].get("error") {
            panic!("webdriver {path}: {err} {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn find(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    async fn clear(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/clear"), Some(json!({}))).await;
    }

    /// Drags `from` with the mouse and drops it on the middle of `to`, in small steps as a
    /// hand would (SortableJS follows mouse events).
    async fn drag(&self, from: &str, to: &str) {
        let (a, b) = (self.find(from).await, self.find(to).await);
        let at = |e: &str, x: i64, y: i64, ms: u64| json!({"type": "pointerMove", "origin": {ELEMENT: e}, "x": x, "y": y, "duration": ms});
        let steps = json!([
            at(&a, 0, 0, 0),
            {"type": "pointerDown", "button": 0},
            {"type": "pause", "duration": 250},
            at(&a, 6, 6, 100),
            at(&a, 20, 20, 100),
            at(&b, 0, -10, 400),
            at(&b, 0, 0, 200),
            {"type": "pause", "duration": 150},
            {"type": "pointerUp", "button": 0}
        ]);
        let actions = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": steps}]});
        self.call(reqwest::Method::POST, "/actions", Some(actions)).await;
    }

    async fn accept_alert(&self) {
        self.call(reqwest::Method::POST, "/alert/accept", Some(json!({}))).await;
    }

    /// Waits until `js` (an expression) is true in the page. A timeout says where the page
    /// was and whether its live stream was open, since that is what tells a slow machine from
    /// a lost change.
    async fn wait_until(&self, js: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.script(&format!("return !!({js})")).await != Value::Bool(true) {
            if Instant::now() >= deadline {
                let state = self
                    .script("return location.pathname + location.search + ' live=' + document.body.dataset.live")
                    .await;
                panic!("timed out waiting for {what} (page {state})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sign_in(&self, base: &str, creds: &crate::helpers::Credentials) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#email", &creds.email).await;
        self.type_into("#password", &creds.password).await;
        self.click("button[type=submit].btn-primary").await;
        self.wait_for_url("/crm").await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_owned()
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_owned()
    }

    async fn script(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": js, "args": []}))).await
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// Waits until the page at an address ending in `suffix` has loaded: the address changes
    /// when the navigation starts, before the new document is whole (reading it then, under
    /// load, read a half page).
    /// A browser signed in as a new admin of the app's tenant, at desk width; `None` without
    /// Chromium.
    async fn new_admin(app: &TestApp) -> Option<Driver> {
        let admin = app.create_user(app.tenant, Role::Admin).await;
        let d = Driver::start().await?;
        d.sign_in(&app.base_url, &admin).await;
        d.resize(1366, 900).await;
        Some(d)
    }

    /// How far the page is wider than the window (0: nothing overflows sideways).
    async fn overflow(&self) -> Option<i64> {
        self.script("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await.as_i64()
    }

    async fn wait_for_url(&self, suffix: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url().await;
            if url.ends_with(suffix) && self.script("return document.readyState").await == "complete" {
                return;
            }
            assert!(Instant::now() < deadline, "still at {url}, waiting for {suffix}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn quit(self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this driver created; no memory is involved.
        unsafe { libc::kill(-(self.process.id() as i32), libc::SIGKILL) };
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[tokio::test]
async fn an_admin_signs_in_through_the_browser_and_sees_the_shell() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Admin).await;
    let Some(browser) = Driver::start().await else { return };

    browser.goto(&format!("{}/crm/settings/users", app.base_url)).await;
    browser.wait_for_url("/login?next=/crm/settings/users").await;
    browser.screenshot("login").await;
    browser.type_into("#email", &creds.email).await;
    browser.type_into("#password", &creds.password).await;
    browser.click("button[type=submit].btn-primary").await;
    browser.wait_for_url("/crm/settings/users").await;

    let html = browser.source().await;
    assert!(html.contains("Olivia Owner"), "the users list");
    for nav in ["Home", "Clients", "Chats", "Message templates", "Settings"] {
        assert!(html.contains(&format!("</span>{nav}<")), "navigation shows {nav}");
    }
    assert_eq!(browser.script("return getComputedStyle(document.querySelector('.sidebar')).display").await, "block");
    browser.screenshot("shell-users").await;

    browser.goto(&format!("{}/crm", app.base_url)).await;
    browser.screenshot("shell-home").await;

    // A phone: nothing is wider than the screen.
    browser.resize(360, 740).await;
    assert_eq!(browser.overflow().await, Some(0), "horizontal overflow at 360 px");
    browser.goto(&format!("{}/crm/settings/users", app.base_url)).await;
    assert_eq!(browser.overflow().await, Some(0), "users table overflows at 360 px");
    browser.screenshot("shell-phone").await;

    // The language switch, as a person uses it: pick Русский, the page comes back translated.
    browser.resize(1280, 800).await;
    browser.click("#shell-locale option[value=ru]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.script("return document.documentElement.lang").await != "ru" {
        assert!(Instant::now() < deadline, "the page did not switch to Russian");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(browser.url().await.ends_with("/crm/settings/users"), "back on the same page");
    assert!(browser.source().await.contains("Пользователи"));

    // Sign out through the account menu.
    browser.click("details.user-menu summary").await;
    browser.click(".menu-button").await;
    browser.wait_for_url("/login").await;
    browser.quit().await;
}

#[tokio::test]
async fn a_client_is_created_found_by_phone_edited_in_place_given_a_contact_and_deleted() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Admin).await;
    let Some(browser) = Driver::start().await else { return };
    let base = &app.base_url;
    browser.sign_in(base, &creds).await;

    for (first, last, phone) in [("Other", "Person", "+7 912 345 67 89"), ("Zarina", "Aliyeva", "+998 93 555 12 34")] {
        browser.goto(&format!("{base}/crm/clients/new")).await;
        browser.type_into("#f-first_name", first).await;
        browser.type_into("#f-last_name", last).await;
        browser.type_into("#f-phone", phone).await;
        browser.click("form button[type=submit].btn-primary").await;
        browser.wait_until("/\\/crm\\/clients\\/\\d+$/.test(location.pathname)", "the new client's page").await;
    }

    // Find her by typing part of her phone number.
    browser.goto(&format!("{base}/crm/clients")).await;
    browser.type_into("#client-q", "555 12").await;
    browser
        .wait_until(
            "document.querySelector('#client-results').textContent.includes('Zarina') && !document.querySelector('#client-results').textContent.includes('Other')",
            "search results with only Zarina",
        )
        .await;
    assert!(browser.url().await.contains("q=555"), "the query is in the URL");
    browser.screenshot("clients-search").await;
    browser.click("#client-results a.row-link").await;
    browser
        .wait_until(
            "document.querySelector('h1') && document.querySelector('h1').textContent === 'Zarina Aliyeva'",
            "her page",
        )
        .await;
    let page_url = browser.url().await;

    // An opened form takes the focus, and Escape closes it.
    browser.click("#section-personal .panel-header a.btn").await;
    browser
        .wait_until("document.activeElement && document.activeElement.id === 'f-first_name'", "the focus in the form")
        .await;
    browser
        .script("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))")
        .await;
    browser.wait_until("!document.querySelector('#section-personal form')", "the form closed by Escape").await;

    // A failed save puts the focus on the wrong field.
    browser.click("#section-personal .panel-header a.btn").await;
    browser.wait_until("document.querySelector('#section-personal #f-email')", "the personal form").await;
    browser.clear("#section-personal #f-email").await;
    browser.type_into("#section-personal #f-email", "not an email").await;
    browser.click("#section-personal button[type=submit]").await;
    browser
        .wait_until("document.activeElement && document.activeElement.id === 'f-email'", "the focus on the wrong email")
        .await;

    // Her email put right, still in place.
    browser.clear("#section-personal #f-email").await;
    browser.type_into("#section-personal #f-email", "zarina@example.uz").await;
    browser.click("#section-personal button[type=submit]").await;
    browser.wait_until("document.querySelector('#show-email') && document.querySelector('#show-email').textContent === 'zarina@example.uz'", "the saved email").await;
    assert_eq!(browser.url().await, page_url, "edited in place, no navigation");

    // A new name: the page's heading and the tab's title follow it, and the phone is edited as
    // the profile shows it.
    browser.click("#section-personal .panel-header a.btn").await;
    browser.wait_until("document.querySelector('#section-personal #f-middle_name')", "the personal form").await;
    let phone = browser.script("return document.querySelector('#section-personal #f-phone').value").await;
    let shown = browser.script("return document.querySelector('#show-phone') ? '' : 'gone'").await;
    assert!(phone.as_str().unwrap().starts_with("+998 "), "the phone as the profile shows it: {phone} {shown}");
    browser.type_into("#section-personal #f-middle_name", "Bakhodirovna").await;
    browser.click("#section-personal button[type=submit]").await;
    browser
        .wait_until(
            "document.querySelector('#client-name').textContent.includes('Bakhodirovna')",
            "the heading renamed",
        )
        .await;
    browser
        .wait_until("document.title.startsWith(document.querySelector('#client-name').textContent)", "the title")
        .await;
    browser.screenshot("client-profile").await;

    // Add a Telegram contact.
    browser.click("nav.tabs a[href$='tab=contacts']").await;
    browser.wait_for_url("?tab=contacts").await;
    browser.click("#contact-type option[value=telegram]").await;
    browser.type_into("#contact-value", "@Zarina_A").await;
    browser.click("form[action$='/contacts'] button[type=submit]").await;
    browser.wait_until("document.querySelector('.contact-list') && document.querySelector('.contact-list').textContent.includes('zarina_a')", "the contact").await;
    browser.screenshot("client-contacts").await;

    // Her Chat tab: no conversation yet, and opening it made none; one click starts it.
    browser.click("nav.tabs a[href$='/chat']").await;
    browser.wait_until("document.querySelector('.no-chat')", "the tab before a conversation").await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM chats").await, 0);
    browser.screenshot("client-no-chat").await;
    browser.click(".no-chat button[type=submit]").await;
    browser.wait_until("/\\/crm\\/chats\\/\\d+$/.test(location.pathname)", "the started chat").await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM chats").await, 1);
    browser.goto(&page_url).await;

    // The merge picker finds her namesake written in Cyrillic as she types, never herself.
    let api = app.api(Role::Admin).await;
    let namesake = api.post("/api/v1/clients", json!({"first_name": "Зарина", "phone": "+998901239876"})).await;
    assert_eq!(namesake.status, 201, "{}", namesake.body);
    browser.click("nav.tabs a[href$='tab=actions']").await;
    browser.wait_for_url("?tab=actions").await;
    browser.type_into("#merge-q", "zarina").await;
    browser
        .wait_until(
            "document.querySelectorAll('#merge-candidates li').length === 1 && document.querySelector('#merge-candidates').textContent.includes('Зарина')",
            "the namesake found",
        )
        .await;
    browser.screenshot("client-merge-picker").await;
    browser.resize(390, 844).await;
    assert_eq!(browser.overflow().await, Some(0), "horizontal overflow at 390 px");
    browser.screenshot("client-merge-picker-phone").await;
    browser.resize(1366, 800).await;

    // Delete her, confirming the prompt.
    browser.click(".danger-zone button[type=submit]").await;
    browser.accept_alert().await;
    browser.wait_for_url("/crm/clients").await;
    let html = browser.source().await;
    assert!(html.contains("The client has been deleted."));
    assert!(!html.contains("Zarina"));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE archived_at IS NOT NULL").await, 1);
    browser.quit().await;
}

#[tokio::test]
async fn a_csv_is_uploaded_mapped_dry_run_and_imported_with_live_progress() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let Some(browser) = Driver::start().await else { return };
    let base = &app.base_url;
    browser.sign_in(base, &creds).await;

    let mut csv = String::from("Фамилия;Имя;Телефон;Telegram;Комментарий\n");
    for i in 0..1200 {
        let phone = if i == 3 { "not a phone".to_owned() } else { format!("+99890{i:07}") };
        csv.push_str(&format!("Surname {i};Name {i};{phone};@user_{i:05};note {i}\n"));
    }
    let path = std::env::temp_dir().join(format!("crm-import-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, csv).unwrap();

    browser.goto(&format!("{base}/crm/clients")).await;
    browser.click("a[href='/crm/clients/import']").await;
    browser.wait_for_url("/crm/clients/import").await;
    browser.type_into("#import-file", &path.display().to_string()).await;
    browser.click("form button[type=submit].btn-primary").await;
    browser.wait_until("/\\/crm\\/clients\\/imports\\/\\d+$/.test(location.pathname)", "the mapping step").await;
    assert_eq!(browser.script("return document.querySelector('#col-1').value").await, "first_name");
    browser.screenshot("import-mapping").await;

    // The dry run: the progress box polls, then the page shows the report by itself.
    browser.click("button[value=dry_run]").await;
    browser.wait_until("document.querySelector('#import-report')", "the dry run's report").await;
    let report = browser.script("return document.querySelector('#import-report').textContent").await;
    assert!(report.as_str().unwrap().contains("Enter a phone number"), "{report}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
    browser.screenshot("import-dry-run").await;

    browser.click("button[value=import]").await;
    browser
        .wait_until("document.querySelector('[data-count=created]') && document.querySelector('[data-count=created]').textContent === '1199' && !document.querySelector('button[value=import]')", "the import's figures")
        .await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 1199);
    browser.screenshot("import-done").await;
    let _ = std::fs::remove_file(&path);
    browser.quit().await;
}

#[tokio::test]
async fn two_agents_see_each_others_messages_live_and_another_tenant_sees_nothing() {
    let _serial = SERIAL.lock().await;
    use crate::chats::{Answer, FakeProvider, HttpProvider};
    use crm::domain::chat::Transport;
    use crm::services::Providers;
    use crm::services::inbound::Incoming;
    use std::sync::Arc;

    let (_sms, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM1"}"#, Duration::from_millis(300))]).await;
    let providers = Providers::default()
        .with(Transport::Sms, Arc::new(HttpProvider { url, http: reqwest::Client::new(), lookups: true }));
    let app = TestApp::spawn_with_providers(providers).await;
    let _background = app.start_background();
    let api = app.api(Role::Admin).await;
    let mut chat = 0;
    for (first, last, phone, text) in [
        ("Sardor", "Rakhimov", "+998911112233", "Thank you, received."),
        ("Olga", "Petrova", "+79123456789", "Когда будет готов заказ?"),
        ("Dilnoza", "Karimova", "+998901234567", "Hello! Is the apartment on Navoi street still available?"),
    ] {
        let client = api
            .post(
                "/api/v1/clients",
                json!({"first_name": first, "last_name": last, "phone": phone,
                                           "contacts": [{"type": "phone", "value": phone}]}),
            )
            .await
            .json();
        chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json()["id"]
            .as_i64()
            .unwrap();
        let incoming = Incoming {
            client: crm::domain::ClientId(client["id"].as_i64().unwrap()),
            contact: crm::domain::ContactId(client["contacts"][0]["id"].as_i64().unwrap()),
            transport: Transport::Sms,
            sender_name: first,
            body: text,
        };
        app.state.inbound.receive_from(app.tenant, incoming).await.unwrap();
    }
    api.post(
        "/api/v1/message-templates",
        json!({"title": "Viewing", "shortcut": "view",
        "template": "Hello {{client.first_name}}! Yes, it is. When would you like to see it?"}),
    )
    .await;
    api.post("/api/v1/message-templates", json!({"title": "Адрес офиса", "template": "Our office is at Navoi 1."}))
        .await;

    let ann = app.create_user(app.tenant, Role::Agent).await;
    let bob = app.create_user(app.tenant, Role::Agent).await;
    let (_, rival) = app.create_tenant("Rival").await;
    let Some(a) = Driver::start().await else { return };
    let Some(b) = Driver::start().await else { return };
    let Some(c) = Driver::start().await else { return };
    let base = &app.base_url;
    a.sign_in(base, &ann).await;
    b.sign_in(base, &bob).await;
    c.sign_in(base, &rival).await;

    // Bob keeps the inbox open; Ann opens Dilnoza's chat, which marks it read.
    b.goto(&format!("{base}/crm/chats/{chat}")).await;
    b.wait_until("document.querySelector('#nav-unread .nav-badge')", "Bob's unread badge").await;
    c.goto(&format!("{base}/crm/chats")).await;
    a.goto(&format!("{base}/crm/chats/{chat}")).await;
    a.wait_until("document.querySelector('[data-composer-body]')", "Ann's composer").await;

    // The "/" menu finds a template by a word of its title or text too, in any alphabet.
    let listed = |what: &str| {
        format!(
            "[...document.querySelectorAll('[data-shortcut-menu] li')].some(li => li.textContent.includes('{what}'))"
        )
    };
    a.type_into("[data-composer-body]", "/офис").await;
    a.wait_until(&listed("Адрес офиса"), "a template found by its title").await;
    a.clear("[data-composer-body]").await;
    a.type_into("[data-composer-body]", "/navoi").await;
    a.wait_until(&listed("Navoi 1"), "a template found by its text").await;
    a.clear("[data-composer-body]").await;

    // Ann answers with a template, typed by its shortcut, and Enter.
    a.type_into("[data-composer-body]", "/vi").await;
    a.wait_until("!document.querySelector('[data-shortcut-menu]').hidden", "the shortcut menu").await;
    a.type_into("[data-composer-body]", "\u{E007}").await; // Enter picks the template
    let text = a.script("return document.querySelector('[data-composer-body]').value").await;
    assert_eq!(text, "Hello Dilnoza! Yes, it is. When would you like to see it?");
    a.type_into("[data-composer-body]", "\u{E007}").await; // Enter sends
    a.wait_until("document.querySelectorAll('.msg-out').length === 1", "Ann's message in her thread").await;

    // Bob sees it arrive without reloading, then its tick move on as the provider takes it.
    b.wait_until(
        "[...document.querySelectorAll('.msg-out .msg-body')].some(e => e.textContent.startsWith('Hello Dilnoza!'))",
        "Ann's message in Bob's thread",
    )
    .await;
    b.wait_until("document.querySelector('.msg-out .tick-sent')", "the sent tick in Bob's thread").await;
    assert_eq!(b.script("return document.querySelectorAll('.msg-out').length").await, 1, "once");
    b.wait_until(
        "document.querySelector('#chat-list .chat-row.active .chat-preview').textContent.includes('Hello Dilnoza!')",
        "the list's preview",
    )
    .await;

    // Dilnoza writes again: both see it, and the chat rises to the top of the list.
    let client = api.get("/api/v1/clients?q=Dilnoza").await.json()["items"][0].clone();
    let incoming = Incoming {
        client: crm::domain::ClientId(client["id"].as_i64().unwrap()),
        contact: crm::domain::ContactId(client["contacts"][0]["id"].as_i64().unwrap()),
        transport: Transport::Sms,
        sender_name: "Dilnoza",
        body: "Tomorrow at 10 suits me",
    };
    app.state.inbound.receive_from(app.tenant, incoming).await.unwrap();
    for browser in [&a, &b] {
        browser
            .wait_until("[...document.querySelectorAll('.msg-in .msg-body')].some(e => e.textContent === 'Tomorrow at 10 suits me')", "the client's new message")
            .await;
    }
    b.wait_until(
        "document.querySelector('#chat-list .chat-row').dataset.chat == '{chat}'"
            .replace("{chat}", &chat.to_string())
            .as_str(),
        "the chat on top",
    )
    .await;
    a.screenshot("chats-inbox").await;

    // The other tenant's inbox heard nothing.
    let rival_page = c.source().await;
    assert!(!rival_page.contains("Dilnoza") && !rival_page.contains("Tomorrow at 10"), "nothing of another tenant");
    c.goto(&format!("{base}/crm/chats/{chat}")).await;
    assert!(c.source().await.contains("404"), "another tenant's chat is not found");

    // A phone: the thread alone, nothing wider than the screen.
    a.resize(390, 800).await;
    a.goto(&format!("{base}/crm/chats/{chat}")).await;
    assert_eq!(a.overflow().await, Some(0), "horizontal overflow at 390 px");
    a.screenshot("chats-phone").await;
    for d in [a, b, c] {
        d.quit().await;
    }
}

#[tokio::test]
async fn the_list_and_badge_follow_a_message_and_only_a_list_showing_the_chat_asks_for_itself() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (client, contact, chat) = app.client_who_wrote(&api, "Kamola", "+998901112201").await;
    let ann = app.create_user(app.tenant, Role::Agent).await;
    let base = &app.base_url;
    // Four pages of Ann's: Kamola's thread (which marks what arrives read: a second change, a
    // moment after the message), every open chat, her own chats (Kamola's is nobody's), and
    // the clients. The thread is opened first, and has read "Hello" before the others open.
    let mut pages = Vec::new();
    for path in
        [format!("/crm/chats/{}", chat.0), "/crm/chats".into(), "/crm/chats?view=mine".into(), "/crm/clients".into()]
    {
        let Some(d) = Driver::start().await else { return };
        d.sign_in(base, &ann).await;
        d.goto(&format!("{base}{path}")).await;
        d.wait_until("document.body.dataset.live === 'open'", "the live stream").await;
        pages.push(d);
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.scalar_i64("SELECT unread_count::bigint FROM chats").await != 0 {
            assert!(Instant::now() < deadline, "the open thread did not mark the message read");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let requests = |path: &str| {
        format!("return performance.getEntriesByType('resource').filter(e => e.name.includes('{path}')).length")
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    for d in &pages {
        // What the badge shows, as it changes.
        d.script(
            "performance.clearResourceTimings(); window.badges = []; const b = document.querySelector('#nav-unread');
             new MutationObserver(() => badges.push(b.textContent.trim())).observe(b, {childList: true, subtree: true});
             return 1",
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    app.writes(app.tenant, client, contact, "Is the order ready?").await;
    for d in &pages {
        // The badge came to 1 and went back to nothing once the open thread read the message.
        d.wait_until("badges.includes('1') && badges[badges.length - 1] === ''", "the badge").await;
    }
    let all = &pages[1];
    all.wait_until(
        "document.querySelector('#chat-list .chat-preview').textContent.includes('Is the order ready?')",
        "the list's new preview",
    )
    .await;
    // Time for any fetch a page would make.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let counts: Vec<(i64, i64)> = futures_util::future::join_all(pages.iter().map(|d| async {
        let list = d.script(&requests("/crm/chats/list")).await.as_i64().unwrap();
        let badge = d.script(&requests("/crm/chats/unread")).await.as_i64().unwrap();
        (list, badge)
    }))
    .await;
    // The message and its reading made one list fetch where the list shows the chat.
    assert_eq!(counts, vec![(1, 0), (1, 0), (0, 0), (0, 0)], "(list, badge) fetches: thread, All, Mine, clients");
    assert_eq!(pages[2].script("return document.querySelectorAll('#chat-list .chat-row').length").await, 0);

    // A thread that missed a message (as after a dropped connection) catches up when told to
    // re-sync: the message lands in its place, once.
    let thread = &pages[0];
    thread.script("document.querySelector('.thread-messages article.msg:last-of-type').remove(); return 1").await;
    assert_eq!(thread.script("return document.querySelectorAll('.thread-messages .msg-in').length").await, 1);
    thread
        .script(
            "document.getElementById('chat-sink').dispatchEvent(new CustomEvent('htmx:sseBeforeMessage',
               {bubbles: true, cancelable: true, detail: {type: 'resync', data: '1'}})); return 1",
        )
        .await;
    thread
        .wait_until(
            "[...document.querySelectorAll('.thread-messages .msg-in .msg-body')].map(e => e.textContent).join('|') === 'Hello|Is the order ready?'",
            "the missed message back in its place",
        )
        .await;
    for d in pages {
        d.quit().await;
    }
}

#[tokio::test]
async fn an_admin_adds_a_stage_orders_it_from_the_keyboard_and_deletes_one_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    d.goto(&format!("{base}/crm/settings/pipelines")).await;
    let stages = "return [...document.querySelectorAll('.stage input[name=name]')].map(i => i.value)";

    // A stage typed and sent with Enter lands last; its "earlier" button, pressed from the
    // keyboard, moves it up one place.
    d.type_into("[id^=stage-add-]:not([id^=stage-add-kind])", "Contract sent\u{E007}").await;
    d.wait_until("document.querySelectorAll('.stage').length === 7", "the new stage").await;
    assert_eq!(d.script(stages).await.as_array().unwrap().last().unwrap(), "Contract sent");
    d.script("document.querySelectorAll('.stage')[6].querySelector('[formaction$=\"/earlier\"]').focus(); return 1")
        .await;
    d.type_into(".stage:nth-child(7) [formaction$='/earlier']", "\u{E007}").await;
    d.wait_until(
        "[...document.querySelectorAll('.stage input[name=name]')].map(i => i.value).indexOf('Contract sent') === 5",
        "the stage one place earlier",
    )
    .await;
    d.screenshot("settings-pipelines").await;

    // Deleting asks first.
    d.click(".stage:nth-child(1) [formaction$='/delete']").await;
    d.accept_alert().await;
    d.wait_until("document.querySelectorAll('.stage').length === 6", "one stage fewer").await;
    assert_eq!(d.script(stages).await[0], "Qualified");

    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/settings/pipelines")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 390 px");
    d.script("document.querySelector('.stage-list').scrollIntoView(); return 1").await;
    d.screenshot("settings-pipelines-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn an_admin_types_exchange_rates_as_written_locally_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    d.goto(&format!("{base}/crm/settings/organisation")).await;
    d.type_into("[name=currency_0]", "uzs").await;
    d.type_into("[name=rate_0]", "0,0000791\u{E007}").await;
    d.wait_until(
        "document.querySelector('[name=rate_0]') && document.querySelector('[name=rate_0]').value === '0.0000791'",
        "the rate saved",
    )
    .await;
    assert_eq!(d.script("return document.querySelector('[name=currency_0]').value").await, "UZS");
    d.script("document.getElementById('rates').scrollIntoView(); return 1").await;
    d.screenshot("settings-rates").await;
    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/settings/organisation#rates")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 390 px");
    d.screenshot("settings-rates-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn a_twilio_channel_set_up_in_settings_brings_a_message_live_and_carries_the_reply() {
    let _serial = SERIAL.lock().await;
    use crate::channels::{CLIENT, OUR_NUMBER, post_twilio, sms};
    use crate::fakes::{ACCOUNT_SID, AUTH_TOKEN, FakeTwilio};

    let (twilio, twilio_url) = FakeTwilio::start().await;
    let app = TestApp::spawn_with(&[("TWILIO_API_BASE", twilio_url.as_str())]).await;
    let _background = app.start_background();
    let admin = app.create_user(app.tenant, Role::Admin).await;
    let Some(d) = Driver::start().await else { return };
    let base = &app.base_url;
    d.sign_in(base, &admin).await;

    // Settings → Channels → Add Twilio SMS: the form, then the list with the webhook URLs.
    d.goto(&format!("{base}/crm/settings/channels")).await;
    d.wait_until("document.querySelector('.empty')", "the empty channel list").await;
    d.click("a[href='/crm/settings/channels/new?kind=twilio_sms']").await;
    d.type_into("#ch-name", "Main line").await;
    d.type_into("#ch-account_sid", ACCOUNT_SID).await;
    d.type_into("#ch-auth_token", "not a token").await;
    d.type_into("#ch-from", "+998 71 200 00 00").await;
    d.click("form button[type=submit].btn-primary").await;
    d.wait_until("document.querySelector('#ch-auth_token-error')", "the auth token's error beside it").await;
    assert_eq!(d.script("return document.querySelector('#ch-name').value").await, "Main line", "input kept");
    d.screenshot("settings-channel-form-errors").await;
    d.type_into("#ch-auth_token", AUTH_TOKEN).await;
    d.click("form button[type=submit].btn-primary").await;
    d.wait_for_url("/crm/settings/channels").await;
    d.wait_until("document.querySelector('.table td.mono')", "the channel in the list").await;
    assert!(d.source().await.contains(&format!("{base}/crm/webhooks/twilio")), "the webhook URL to paste");
    d.click("form[action$='/test'] button").await;
    d.wait_until("document.querySelector('.panel-highlight') && document.querySelector('.panel-highlight').textContent.includes('Acme Twilio')", "Twilio's answer to the test").await;
    d.screenshot("settings-channels").await;
    d.resize(390, 800).await;
    d.screenshot("settings-channels-phone").await;
    d.resize(1280, 800).await;

    // A client texts the number: the chat appears in the open inbox without a reload.
    d.goto(&format!("{base}/crm/chats")).await;
    d.wait_until("document.querySelector('#chat-list')", "the inbox").await;
    let text = sms("SM00000000000000000000000000000100", "Hello, is the flat still free?");
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio", &text, Some(AUTH_TOKEN)).await, 200);
    d.wait_until(
        "[...document.querySelectorAll('#chat-list .chat-preview')].some(e => e.textContent.includes('is the flat still free'))",
        "the new chat in the list",
    )
    .await;
    // A stranger known by their number is drawn by the channel they wrote on, not by "+".
    assert!(d.source().await.contains(r#"class="avatar avatar-channel channel-sms""#), "the stranger's avatar");
    d.click("#chat-list .chat-row").await;
    d.wait_until("document.querySelector('[data-composer-body]')", "the composer").await;
    d.type_into("[data-composer-body]", "Yes, it is. When can you come?").await;
    d.type_into("[data-composer-body]", "\u{E007}").await; // Enter sends
    d.wait_until("document.querySelector('.msg-out .tick-sent')", "the sent tick").await;
    let sent = twilio.sent();
    assert_eq!((sent[0]["To"].as_str(), sent[0]["From"].as_str()), (CLIENT, OUR_NUMBER));

    // Twilio reports delivery: the tick moves on, live.
    let report = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("From", OUR_NUMBER),
        ("To", CLIENT),
        ("MessageStatus", "delivered"),
    ];
    assert_eq!(post_twilio(&app, "/crm/webhooks/twilio/status", &report, Some(AUTH_TOKEN)).await, 200);
    d.wait_until("document.querySelector('.msg-out .tick-delivered')", "the delivered tick").await;
    d.screenshot("chats-twilio-reply").await;

    // Reply and Note are two modes: a note hides the channel and says so on its button.
    let shown = |css: &str| format!("return getComputedStyle(document.querySelector('{css}')).display !== 'none'");
    assert_eq!(d.script(&shown(".composer-via")).await, true);
    assert_eq!(d.script("return document.querySelector('.composer-send').innerText").await, "Send");
    d.click(".composer-mode-note").await;
    assert_eq!(d.script(&shown(".composer-via")).await, false, "a note goes on no channel");
    assert_eq!(d.script("return document.querySelector('.composer-send').innerText").await, "Add note");
    d.type_into("[data-composer-body]", "She prefers mornings").await;
    d.click(".composer-send").await;
    d.wait_until(
        "[...document.querySelectorAll('.msg-note')].some(e => e.textContent.includes('prefers mornings'))",
        "the note",
    )
    .await;
    assert_eq!(twilio.sent().len(), 1, "the note went nowhere");
    assert_eq!(d.script(&shown(".composer-via")).await, false, "the next one is a note too, until switched back");

    // A file over the limit is refused in the browser, before anything is uploaded.
    let before = app.scalar_i64("SELECT count(*) FROM messages").await;
    d.script(
        "const input = document.querySelector('[data-attach]'); const dt = new DataTransfer(); \
         dt.items.add(new File([new Uint8Array(17 * 1024 * 1024)], 'scan.pdf', { type: 'application/pdf' })); \
         input.files = dt.files; input.dispatchEvent(new Event('change', { bubbles: true }));",
    )
    .await;
    let said = d.script("return document.querySelector('[data-composer-error]').textContent").await;
    assert_eq!(said.as_str(), Some("A file may be at most 16 MB."));
    assert_eq!(d.script("return document.querySelector('[data-attach]').files.length").await.as_i64(), Some(0));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM messages").await, before, "nothing was sent");

    // Send later: the reply waits as Scheduled, in the reader's clock, and is cancelled there.
    d.click(".composer-mode:not(.composer-mode-note)").await;
    d.click(".schedule-picker summary").await;
    d.script(
        "const at = new Date(Date.now() + 2 * 3600e3); at.setSeconds(0, 0); \
         const pad = n => String(n).padStart(2, '0'); \
         const input = document.querySelector('[data-send-at]'); \
         input.value = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`; \
         input.dispatchEvent(new Event('change', { bubbles: true })); \
         window.expectedAt = at.getTime();",
    )
    .await;
    d.type_into("[data-composer-body]", "Reminder: viewing tomorrow at ten").await;
    d.click(".composer-send").await;
    d.wait_until("document.querySelector('.msg-out .tick-scheduled')", "the scheduled bubble").await;
    let at = d.script("return new Date(document.querySelector('.tick-scheduled time').getAttribute('datetime')).getTime() === window.expectedAt").await;
    assert_eq!(at, true, "the moment meant in the browser's clock is the one stored");
    let shown = d.script("return document.querySelector('.tick-scheduled time').textContent").await;
    assert!(!shown.as_str().unwrap().starts_with("20"), "shown in the reader's clock, not as stored: {shown}");
    d.screenshot("chats-scheduled").await;
    d.click(".msg-out form[action$='/cancel'] button").await;
    d.wait_until("document.querySelector('.msg-out .tick-cancelled')", "the cancelled bubble").await;
    assert_eq!(twilio.sent().len(), 1, "the cancelled reply went nowhere");
    d.screenshot("chats-note-mode").await;
    d.quit().await;
}

#[tokio::test]
async fn a_message_whose_delivery_is_unknown_says_why_and_is_retried_with_one_click() {
    let _serial = SERIAL.lock().await;
    use crate::chats::{Answer, FakeProvider, HttpProvider};
    use crm::domain::chat::Transport;
    use crm::services::Providers;
    use std::sync::Arc;

    let (_sms, url) = FakeProvider::start(vec![Answer(200, r#"{"id":"SM2"}"#, Duration::ZERO)]).await;
    let providers = Providers::default()
        .with(Transport::Sms, Arc::new(HttpProvider { url, http: reqwest::Client::new(), lookups: false }));
    let app = TestApp::spawn_with_providers(providers).await;
    let api = app.api(Role::Admin).await;
    let client = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "Madina", "last_name": "Saidova", "phone": "+998935551234",
                   "contacts": [{"type": "whatsapp", "value": "+998935551234"}, {"type": "telegram", "value": "madina_saidova"},
                                {"type": "email", "value": "madina.saidova@example.uz"}]}),
        )
        .await
        .json();
    let chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json()["id"]
        .as_i64()
        .unwrap();
    let sent = api
        .post(
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"body": "Your documents are ready.", "transport": "sms"}),
        )
        .await
        .json();
    let id = sent["id"].as_i64().unwrap();
    // What the delivery worker leaves when a call's answer was lost and the provider cannot be asked.
    let owner = app.owner_pool().await;
    sqlx::query("DELETE FROM message_deliveries").execute(&owner).await.unwrap();
    sqlx::query("UPDATE messages SET status = 'unknown', error_code = 'outcome_unknown', error = 'lost' WHERE id = $1")
        .bind(id)
        .execute(&owner)
        .await
        .unwrap();
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let Some(d) = Driver::start().await else { return };
    d.resize(1366, 800).await;
    d.sign_in(&app.base_url, &creds).await;
    d.goto(&format!("{}/crm/chats/{chat}", app.base_url)).await;
    let bubble = format!("#msg-{id}");
    d.wait_until(&format!("document.querySelector('{bubble} .tick-unknown')"), "the unknown tick").await;
    let reason = d.script(&format!("return document.querySelector('{bubble} .msg-error').textContent")).await;
    assert!(reason.as_str().unwrap().contains("cannot say whether the message went out"), "{reason}");
    d.screenshot("chats-unknown").await;
    d.resize(390, 800).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 390 px");
    // Only the thread scrolls, never the page (the inbox was 7 px taller than the screen).
    let page_scroll =
        d.script("return document.documentElement.scrollHeight - document.documentElement.clientHeight").await;
    assert_eq!(page_scroll.as_i64(), Some(0), "the page scrolls at 390 px");
    d.screenshot("chats-unknown-phone").await;

    // One click: queued again, then sent, live.
    let _background = app.start_background();
    d.click(&format!("{bubble} form button")).await;
    d.wait_until(&format!("document.querySelector('{bubble} .tick-sent')"), "the retried message sent").await;
    assert!(d.script(&format!("return document.querySelector('{bubble} .msg-error')")).await.is_null());
    d.quit().await;
}

#[tokio::test]
async fn an_agent_takes_a_chat_resolves_it_and_finds_it_by_view_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    use crm::domain::chat::Transport;
    use crm::domain::{ClientId, ContactId};
    use crm::services::inbound::Incoming;

    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let client = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "Gulnora", "last_name": "Nazarova-Abdurakhmanova",
                   "contacts": [{"type": "phone", "value": "+998935550001"}]}),
        )
        .await
        .json();
    let incoming = Incoming {
        client: ClientId(client["id"].as_i64().unwrap()),
        contact: ContactId(client["contacts"][0]["id"].as_i64().unwrap()),
        transport: Transport::Sms,
        sender_name: "Gulnora",
        body: "Good afternoon, when can I pick up my documents? I would like to come tomorrow morning.",
    };
    app.state.inbound.receive_from(app.tenant, incoming).await.unwrap();
    let chat = app.scalar_i64("SELECT max(id) FROM chats").await;
    let other = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "Timur", "contacts": [{"type": "phone", "value": "+998935550002"}]}),
        )
        .await
        .json();
    let hello = Incoming {
        client: ClientId(other["id"].as_i64().unwrap()),
        contact: ContactId(other["contacts"][0]["id"].as_i64().unwrap()),
        transport: Transport::Sms,
        sender_name: "Timur",
        body: "Hello",
    };
    app.state.inbound.receive_from(app.tenant, hello).await.unwrap();
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let Some(d) = Driver::start().await else { return };
    d.resize(1366, 800).await;
    d.sign_in(&app.base_url, &creds).await;

    d.goto(&format!("{}/crm/chats?view=unassigned", app.base_url)).await;
    d.click(&format!("a[data-chat='{chat}']")).await;
    d.wait_until("document.querySelector('.thread-work')", "the thread's controls").await;
    d.click(".thread-work button[value=me]").await;
    d.wait_until(
        "document.querySelector('.thread-work select[name=assignee] option:checked').textContent.includes('Agent')",
        "the chat assigned to me",
    )
    .await;
    let mine =
        d.script("return document.querySelector('.inbox-views a[href*=\"view=mine\"] .count').textContent").await;
    assert_eq!(mine.as_str(), Some("1"), "the Mine tab counts it");
    d.screenshot("chats-assigned").await;

    for (width, name) in [(1366, "chats-work-desk"), (390, "chats-work-phone")] {
        d.resize(width, 800).await;
        assert_eq!(d.overflow().await, Some(0), "horizontal overflow at {width} px");
        let page_scroll =
            d.script("return document.documentElement.scrollHeight - document.documentElement.clientHeight").await;
        assert_eq!(page_scroll.as_i64(), Some(0), "the page scrolls at {width} px");
        d.screenshot(name).await;
    }

    d.resize(1366, 800).await;
    d.click(".thread-work button[value=resolved]").await;
    d.wait_until("document.querySelector('.thread-work button[value=open]')", "the Reopen button").await;
    assert!(d.source().await.contains("chat-status-resolved"));
    d.goto(&format!("{}/crm/chats", app.base_url)).await;
    assert!(d.script(&format!("return document.querySelector(\"a[data-chat='{chat}']\")")).await.is_null());
    d.click("#chat-status option[value=resolved]").await;
    d.wait_until(&format!("document.querySelector(\"a[data-chat='{chat}']\")"), "the resolved chat listed").await;
    assert!(d.url().await.ends_with("/crm/chats?status=resolved"), "the address keeps the filter: {}", d.url().await);
    d.screenshot("chats-resolved-list").await;

    // The list alone on a phone: a long name and preview are cut, never wider than the screen.
    d.resize(390, 844).await;
    d.goto(&format!("{}/crm/chats?view=mine&status=any", app.base_url)).await;
    d.wait_until(&format!("document.querySelector(\"a[data-chat='{chat}']\")"), "the chat in Mine").await;
    assert_eq!(d.overflow().await, Some(0), "the list overflows at 390 px");
    let list = d.script("return document.querySelector('.inbox-list').getBoundingClientRect().width").await;
    assert!(list.as_f64().unwrap() <= 390.0, "the list column fits the screen: {list}");
    d.screenshot("chats-list-phone").await;

    // A live message for a thread this page does not show is dropped quietly: the list moves,
    // htmx reports no swap without a target.
    d.script("window.oobErrors = 0; document.addEventListener('htmx:oobErrorNoTarget', () => window.oobErrors++)")
        .await;
    let again = Incoming {
        client: ClientId(client["id"].as_i64().unwrap()),
        contact: ContactId(client["contacts"][0]["id"].as_i64().unwrap()),
        transport: Transport::Sms,
        sender_name: "Gulnora",
        body: "Are you open on Saturday?",
    };
    app.state.inbound.receive_from(app.tenant, again).await.unwrap();
    d.wait_until(
        "[...document.querySelectorAll('.chat-preview')].some(e => e.textContent.includes('open on Saturday'))",
        "the list refreshed live",
    )
    .await;
    assert_eq!(d.script("return window.oobErrors").await.as_i64(), Some(0), "an out-of-band swap had no target");
    d.wait_until("/^\\(\\d+\\) /.test(document.title)", "the unread count in the tab's title").await;

    // Alt+↓ / Alt+↑ walk the list from the open conversation.
    d.resize(1366, 800).await;
    d.goto(&format!("{}/crm/chats/{chat}?status=any", app.base_url)).await;
    let rows = d.script("return [...document.querySelectorAll('#chat-list .chat-row')].map(r => r.dataset.chat)").await;
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    assert!(rows.len() >= 2, "two conversations listed: {rows:?}");
    let here = rows.iter().position(|r| *r == chat.to_string()).unwrap();
    let (key, expected) =
        if here + 1 < rows.len() { ("ArrowDown", &rows[here + 1]) } else { ("ArrowUp", &rows[here - 1]) };
    d.script(&format!(
        "document.dispatchEvent(new KeyboardEvent('keydown', {{key: '{key}', altKey: true, bubbles: true}}))"
    ))
    .await;
    d.wait_for_url(&format!("/crm/chats/{expected}?status=any")).await;
    d.quit().await;
}

/// A client made through the API with one phone contact: their id and the contact's.
async fn client_with_phone(
    api: &crate::helpers::Api,
    name: &str,
    phone: &str,
) -> (crm::domain::ClientId, crm::domain::ContactId) {
    let made = api
        .post("/api/v1/clients", json!({"first_name": name, "contacts": [{"type": "phone", "value": phone}]}))
        .await
        .json();
    (
        crm::domain::ClientId(made["id"].as_i64().unwrap()),
        crm::domain::ContactId(made["contacts"][0]["id"].as_i64().unwrap()),
    )
}

/// A GIF drawn 300×400 (its logical screen; one transparent pixel in it): an image that takes
/// room in the thread only once it has loaded.
const TALL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x2C, 0x01, 0x90, 0x01, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
    0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3B,
];

#[tokio::test]
async fn a_long_thread_with_an_image_scrolls_inside_itself_to_its_newest_message_never_the_page() {
    let _serial = SERIAL.lock().await;
    use crm::domain::chat::Transport;
    use crm::services::inbound::Incoming;

    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (client_id, contact) = client_with_phone(&api, "Lola", "+998935550003").await;
    for n in 0..30 {
        let body = format!("Question number {n}: is the order ready, and when may I come for it?");
        let incoming =
            Incoming { client: client_id, contact, transport: Transport::Sms, sender_name: "Lola", body: &body };
        app.state.inbound.receive_from(app.tenant, incoming).await.unwrap();
    }
    let chat = app.scalar_i64("SELECT max(id) FROM chats").await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let agent = app.client();
    agent.sign_in(&creds).await;
    for n in 0..10 {
        let sent = agent
            .upload_files(
                &format!("/crm/chats/{chat}/messages"),
                "files",
                &[],
                &[("body", &format!("Note {n}")), ("note", "1")],
            )
            .await;
        assert_eq!(sent.status, 303);
    }
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{chat}/messages"),
            "files",
            &[("tall.gif", TALL_GIF)],
            &[("body", "The receipt"), ("note", "1")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);

    let Some(d) = Driver::start().await else { return };
    d.sign_in(&app.base_url, &creds).await;
    for (width, height) in [(1366, 800), (390, 844)] {
        d.resize(width, height).await;
        d.goto(&format!("{}/crm/chats/{chat}", app.base_url)).await;
        d.wait_until(
            "[...document.querySelectorAll('.thread-scroll img')].every(i => i.complete && i.naturalHeight > 0)",
            "the image loaded",
        )
        .await;
        // The image took its room after the first scroll to the bottom: the thread follows it.
        d.wait_until(
            "(s => s.scrollHeight - s.scrollTop - s.clientHeight < 2)(document.querySelector('[data-thread-scroll]'))",
            &format!("the thread at its newest message at {width} px"),
        )
        .await;
        let covered = d
            .script(
                "const m = [...document.querySelectorAll('[data-message]')].pop().getBoundingClientRect();
                 const c = document.querySelector('.composer').getBoundingClientRect();
                 return m.bottom - c.top",
            )
            .await;
        assert!(covered.as_f64().unwrap() <= 0.5, "the newest message is behind the composer at {width} px: {covered}");
        let page = d.script("return document.documentElement.scrollHeight - window.innerHeight").await;
        assert!(page.as_f64().unwrap() <= 0.0, "the page is taller than the window at {width} px: {page}");
        // The wheel over the header (a script's scroll, as the wheel's) moves nothing.
        d.script("window.scrollBy(0, 3000); document.querySelector('.thread-head').scrollIntoView()").await;
        let scrolled = d.script("return window.scrollY + document.documentElement.scrollTop").await;
        assert_eq!(scrolled.as_f64(), Some(0.0), "the page scrolled at {width} px");
        assert_eq!(d.overflow().await, Some(0), "horizontal overflow at {width} px");
        d.screenshot(&format!("chats-long-thread-{width}")).await;
    }

    // Searching the inbox for words of an old message: the row shows them marked, and opens
    // the thread at that message.
    d.resize(1366, 800).await;
    d.goto(&format!("{}/crm/chats?q=number+3%3A", app.base_url)).await;
    d.wait_until("document.querySelector('.chat-hit mark')", "the words marked in the list").await;
    let marked = d.script("return [...document.querySelectorAll('.chat-hit mark')].map(m => m.textContent)").await;
    assert_eq!(marked, json!(["number", "3:"]), "{marked}");
    d.click(".chat-row").await;
    d.wait_until("document.querySelector('.msg-hit')", "the message found, marked").await;
    let seen = d
        .script(
            "const m = document.querySelector('.msg-hit').getBoundingClientRect();
             const s = document.querySelector('[data-thread-scroll]').getBoundingClientRect();
             return m.top >= s.top && m.bottom <= s.bottom",
        )
        .await;
    assert_eq!(seen, json!(true), "the message found is in view");
    assert!(d.source().await.contains("Question number 3:"));
    d.screenshot("chats-search-hit").await;
    d.quit().await;
}

#[tokio::test]
async fn an_admin_sets_the_country_types_a_local_number_merges_a_twin_and_a_snoozed_chat_reopens() {
    let _serial = SERIAL.lock().await;
    use crm::domain::chat::Transport;
    use crm::domain::{ClientId, ContactId};
    use crm::services::inbound::Incoming;

    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let creds = app.create_user(app.tenant, Role::Admin).await;
    let Some(d) = Driver::start().await else { return };
    d.resize(1366, 800).await;
    d.sign_in(&app.base_url, &creds).await;

    // The organisation's country: numbers typed without a code are read as Uzbek ones.
    d.goto(&format!("{}/crm/settings/organisation", app.base_url)).await;
    d.click("#org-country option[value=UZ]").await;
    d.click("form[action='/crm/settings/organisation'] button[type=submit]").await;
    d.wait_until("document.querySelector('.flash-success, [role=status]')", "the settings saved").await;
    d.screenshot("settings-organisation").await;
    d.goto(&format!("{}/crm/clients/new", app.base_url)).await;
    assert_eq!(d.script("return document.querySelector('#f-phone').placeholder").await, "90 123 45 67");
    d.type_into("#f-first_name", "Madina").await;
    d.type_into("#f-phone", "90 555 44 33").await;
    d.click("form button[type=submit].btn-primary").await;
    d.wait_until("/\\/crm\\/clients\\/\\d+$/.test(location.pathname)", "the new client's page").await;
    assert!(d.source().await.contains("+998 90 555 44 33"), "the number read as Uzbek");
    let madina = d.script("return location.pathname.split('/').pop()").await;
    let madina = ClientId(madina.as_str().unwrap().parse().unwrap());

    // Her other profile, with a message: the page offers it, and one click merges it.
    let (twin_id, twin_contact) = client_with_phone(&api, "M. Karimova", "+998905554433").await;
    let incoming =
        |client, contact, body| Incoming { client, contact, transport: Transport::Sms, sender_name: "M", body };
    app.state.inbound.receive_from(app.tenant, incoming(twin_id, twin_contact, "Is my card ready?")).await.unwrap();
    d.goto(&format!("{}/crm/clients/{}", app.base_url, madina.0)).await;
    assert!(d.source().await.contains("M. Karimova"), "the twin is offered");
    d.screenshot("client-twin-offered").await;
    d.click(".twins button[type=submit]").await;
    d.accept_alert().await;
    d.wait_until("!document.querySelector('.twins')", "the merge done").await;
    let merged_into = app.scalar_i64(&format!("SELECT merged_into FROM clients WHERE id = {}", twin_id.0)).await;
    assert_eq!(merged_into, madina.0);

    // Her conversation, snoozed; her next message brings it back to the open list, live.
    let chat = app.scalar_i64(&format!("SELECT id FROM chats WHERE client_id = {}", madina.0)).await;
    d.goto(&format!("{}/crm/chats/{chat}", app.base_url)).await;
    assert!(d.source().await.contains("Is my card ready?"), "the twin's message moved over");
    d.click(&format!("#snooze-{chat} option[value='1h']")).await;
    d.click(&format!("form:has(#snooze-{chat}) button[type=submit]")).await;
    d.wait_until("document.querySelector('.chat-status-snoozed')", "the chat snoozed").await;
    // A colleague takes it meanwhile: the open thread's header shows it without a reload.
    let colleague = app.create_user(app.tenant, Role::Agent).await;
    let colleague = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", colleague.email)).await;
    api.patch(&format!("/api/v1/chats/{chat}"), json!({"assignee_id": colleague})).await;
    d.wait_until(
        &format!("document.querySelector('#assignee-{chat} option:checked').value === '{colleague}'"),
        "the header following the assignment",
    )
    .await;
    assert!(d.script("return document.querySelector('.chat-status-snoozed') !== null").await.as_bool().unwrap());
    api.patch(&format!("/api/v1/chats/{chat}"), json!({"assignee_id": null})).await;
    d.wait_until(&format!("document.querySelector('#assignee-{chat} option:checked').value === 'none'"), "unassigned")
        .await;
    d.goto(&format!("{}/crm/chats", app.base_url)).await;
    assert!(d.script(&format!("return document.querySelector(\"a[data-chat='{chat}']\")")).await.is_null());
    // Desktop notifications, asked for on a click (the browser's Notification stands in).
    d.script(
        "window.shown = [];
         window.Notification = function (title, opts) { window.shown.push([title, opts.body]); };
         window.Notification.permission = 'default';
         window.Notification.requestPermission = function () {
           window.Notification.permission = 'granted'; return Promise.resolve('granted'); };",
    )
    .await;
    d.click("[data-notify-toggle]").await;
    d.wait_until("document.querySelector('[data-notify-toggle]').getAttribute('aria-pressed') === 'true'", "on").await;
    let contact = app.scalar_i64(&format!("SELECT min(id) FROM client_contacts WHERE client_id = {}", madina.0)).await;
    app.state.inbound.receive_from(app.tenant, incoming(madina, ContactId(contact), "Hello again")).await.unwrap();
    d.wait_until(&format!("document.querySelector(\"a[data-chat='{chat}']\")"), "the chat back in the open list").await;
    d.wait_until("window.shown.length === 1 && window.shown[0][1] === 'Hello again'", "a desktop notification").await;
    d.screenshot("chats-snooze-reopened").await;
    d.quit().await;
}

#[tokio::test]
async fn deals_are_made_dragged_moved_from_the_keyboard_lost_with_a_reason_and_seen_live() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;

    // A pipeline made in settings starts with New, Won and Lost.
    d.goto(&format!("{base}/crm/settings/pipelines")).await;
    d.type_into("#pipeline-new-name", "Rentals\u{E007}").await;
    d.wait_until(
        "[...document.querySelectorAll('.pipeline h2')].some(h => h.textContent === 'Rentals')",
        "the new pipeline",
    )
    .await;
    let api = app.api(Role::Admin).await;
    let rentals = api.get("/api/v1/pipelines").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Rentals")
        .cloned()
        .unwrap();
    let pipeline = rentals["id"].as_i64().unwrap();
    let stage = |n: usize| rentals["stages"][n]["id"].as_i64().unwrap();

    // Two deals through the form; a third through the API.
    for (title, value) in [("Flat on Navoi", "12500"), ("Office in Chilonzor", "4000.50")] {
        d.goto(&format!("{base}/crm/deals/new?pipeline={pipeline}")).await;
        d.type_into("#deal-title", title).await;
        d.type_into("#deal-value", value).await;
        d.click(".deal-form button[type=submit]").await;
        d.wait_until("document.querySelector('.deal-status')", "the deal's page").await;
    }
    let third = api
        .post("/api/v1/deals", json!({"title": "Shop on Amir Temur", "pipeline_id": pipeline, "value": "900"}))
        .await;
    assert_eq!(third.status, 201, "{}", third.body);
    let id_of = |title: &str| {
        let api = &api;
        let title = title.to_owned();
        async move {
            api.get(&format!("/api/v1/deals?q={}", title.replace(' ', "+"))).await.json()["items"][0]["id"]
                .as_i64()
                .unwrap()
        }
    };
    let (flat, office) = (id_of("Flat on Navoi").await, id_of("Office in Chilonzor").await);

    // A colleague keeps the same board open in another browser.
    let bob = app.create_user(app.tenant, Role::Agent).await;
    let Some(e) = Driver::start().await else { return };
    e.sign_in(base, &bob).await;
    e.resize(1366, 900).await;
    let board = format!("{base}/crm/deals?pipeline={pipeline}");
    e.goto(&board).await;
    e.wait_until("document.body.dataset.live === 'open'", "Bob's live stream").await;
    d.goto(&board).await;
    d.wait_until("document.body.dataset.live === 'open' && window.Sortable", "the board").await;
    let column = |n: usize| format!(".board-column[data-stage='{}']", stage(n));
    let count = |n: usize| format!("return document.querySelector(\"{} .column-count\").textContent.trim()", column(n));
    assert_eq!(d.script(&count(0)).await, "3");
    let total = format!("return document.querySelector(\"{} .column-total\").textContent", column(0));
    assert!(d.script(&total).await.as_str().unwrap().starts_with("17,400.50"), "{}", d.script(&total).await);

    // Dragged to Won: the counts and totals follow, here and in Bob's browser.
    d.drag(&format!("#deal-{flat} .deal-value"), &format!("{} .board-cards", column(1))).await;
    d.wait_until(
        &format!(
            "document.querySelector(\"{} #deal-{flat}\") && {}",
            column(1),
            count(1).replace("return ", "") + " === '1'"
        ),
        "the card in Won",
    )
    .await;
    assert!(d.script(&total).await.as_str().unwrap().starts_with("4,900.50"), "{}", d.script(&total).await);
    e.wait_until(&format!("document.querySelector(\"{} #deal-{flat}\")", column(1)), "the move in Bob's browser").await;
    let won = api.get(&format!("/api/v1/deals/{flat}")).await.json();
    assert_eq!((won["status"].as_str(), won["stage_id"].as_i64()), (Some("won"), Some(stage(1))));

    // From the keyboard: "Move to" on the office, Lost, a reason, Enter.
    d.script(&format!("document.querySelector('#deal-{office} summary').focus(); return 1")).await;
    d.type_into(&format!("#deal-{office} summary"), "\u{E007}").await;
    d.wait_until(&format!("document.querySelector('#deal-{office} details').open"), "the open menu").await;
    d.type_into(&format!("#move-{office}"), "Lost").await;
    d.wait_until(
        &format!("document.querySelector('#deal-{office} .move-reason').classList.contains('shown')"),
        "the reason field",
    )
    .await;
    d.type_into(&format!("#reason-{office}"), "Chose a bigger office\u{E007}").await;
    d.wait_until(&format!("document.querySelector(\"{} #deal-{office}\")", column(2)), "the card in Lost").await;
    let lost = api.get(&format!("/api/v1/deals/{office}")).await.json();
    assert_eq!((lost["status"].as_str(), lost["lost_reason"].as_str()), (Some("lost"), Some("Chose a bigger office")));
    e.wait_until(&format!("document.querySelector(\"{} #deal-{office}\")", column(2)), "the loss in Bob's browser")
        .await;

    // Dragged to Lost, a card asks why first.
    let shop = id_of("Shop on Amir Temur").await;
    d.drag(&format!("#deal-{shop} .deal-value"), &format!("{} .board-cards", column(2))).await;
    d.wait_until("document.getElementById('lost-dialog').open", "the lost dialog").await;
    d.type_into("#lost-dialog-reason", "No budget").await;
    d.click("#lost-dialog button[value=ok]").await;
    // (The card is in the column as soon as it is dropped; the count comes from the server.)
    d.wait_until(&(count(2).replace("return ", "") + " === '2'"), "the shop in Lost").await;
    let shop_now = api.get(&format!("/api/v1/deals/{shop}")).await.json();
    assert_eq!(shop_now["lost_reason"], "No budget");
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 1366 px");
    d.screenshot("deals-board").await;

    // The deal's page tells its history.
    d.goto(&format!("{base}/crm/deals/{office}")).await;
    let history = d.script("return document.querySelector('.deal-moves').textContent").await;
    assert!(history.as_str().unwrap().contains("New → Lost"), "{history}");
    d.screenshot("deals-deal").await;
    d.goto(&format!("{base}/crm/deals/list?pipeline={pipeline}&sort=value")).await;
    assert!(d.source().await.contains("Flat on Navoi"));
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list at 1366 px");
    d.screenshot("deals-list").await;

    // A phone: one column at a time, sideways inside the board; the page never overflows.
    d.resize(390, 800).await;
    d.goto(&board).await;
    d.wait_until("document.getElementById('board')", "the board").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 390 px");
    let fits = d.script("const c = document.querySelector('.board-column').getBoundingClientRect(); return c.width <= 390 && c.width > 300").await;
    assert_eq!(fits, true, "a column is about the phone's width");
    d.screenshot("deals-board-phone").await;
    for b in [d, e] {
        b.quit().await;
    }
}

#[tokio::test]
async fn a_company_is_made_picked_for_a_client_by_typing_and_lists_its_people_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;
    for n in 1..=60 {
        // More companies than the menu offers at once: the one wanted is found by typing.
        api.post("/api/v1/companies", json!({"name": format!("Aa Filler {n:02}")})).await;
    }

    // A refused form says why beside the field and keeps what was typed.
    d.goto(&format!("{base}/crm/companies/new")).await;
    d.type_into("#company-name", "Akme Savdo").await;
    d.type_into("#company-website", "ftp://akme").await;
    d.click(".company-form button[type=submit]").await;
    d.wait_until("document.getElementById('company-website-error')", "the website's error").await;
    d.clear("#company-website").await;
    d.type_into("#company-website", "akme.uz").await;
    d.type_into("#company-phone", "+998 71 200 00 00").await;
    d.type_into("#company-tax-id", "301234567").await;
    d.click(".company-form button[type=submit]").await;
    d.wait_until(
        "document.querySelector('h1') && document.querySelector('h1').textContent === 'Akme Savdo'",
        "its page",
    )
    .await;

    // A client's Work section: the company found by typing part of its name, a job title.
    let client = api.post("/api/v1/clients", json!({"first_name": "Dilnoza", "last_name": "Karimova"})).await.json();
    let id = client["id"].as_i64().unwrap();
    d.goto(&format!("{base}/crm/clients/{id}")).await;
    d.click("#section-work .panel-header a").await;
    d.wait_until("document.querySelector('#section-work .company-find')", "the Work form").await;
    assert_eq!(
        d.script(
            "return [...document.querySelectorAll('#f-company_id option')].some(o => o.textContent === 'Akme Savdo')"
        )
        .await,
        false,
        "the menu offers the first 50 by name"
    );
    d.type_into("#section-work .company-find", "akm").await;
    d.wait_until(
        "[...document.querySelectorAll('#f-company_id option')].some(o => o.textContent === 'Akme Savdo')",
        "Akme in the menu",
    )
    .await;
    d.type_into("#f-company_id", "Akme").await;
    d.type_into("#f-job_title", "Buyer").await;
    d.click("#section-work button[type=submit]").await;
    d.wait_until(
        "document.querySelector('#show-company_id a') && document.querySelector('#show-company_id a').textContent === 'Akme Savdo'",
        "the company on the profile",
    )
    .await;
    let saved = api.get(&format!("/api/v1/clients/{id}")).await.json();
    assert_eq!(saved["job_title"], "Buyer");

    // The company's page lists her; the list finds it by a word in the other alphabet.
    d.click("#show-company_id a").await;
    d.wait_until("document.querySelector('.people-list')", "the people").await;
    let people = d.script("return document.querySelector('.people-list').textContent").await;
    assert!(people.as_str().unwrap().contains("Dilnoza Karimova") && people.as_str().unwrap().contains("Buyer"));
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow at 1366 px");
    d.screenshot("companies-company").await;
    d.goto(&format!("{base}/crm/companies?q=%D0%B0%D0%BA%D0%BC%D0%B5")).await;
    let rows = d.script("return document.querySelectorAll('.company-table tbody tr').length").await;
    assert_eq!(rows, 1, "«акме» finds Akme");
    d.goto(&format!("{base}/crm/companies")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list at 1366 px");
    d.screenshot("companies-list").await;

    // A phone: nothing overflows sideways; the table scrolls inside itself.
    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/companies")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list at 390 px");
    d.screenshot("companies-list-phone").await;
    d.goto(&format!("{base}/crm/clients/{id}?edit=work#section-work")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the Work form at 390 px");
    d.screenshot("client-work-phone").await;
    d.goto(&format!("{base}/crm/companies/{}", saved["company_id"])).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the company at 390 px");
    d.screenshot("companies-company-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn a_custom_field_is_defined_filled_on_a_client_and_filters_the_list_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;
    for name in ["Dilnoza", "Sardor"] {
        api.post("/api/v1/clients", json!({"first_name": name, "last_name": "Karimova"})).await;
    }
    let dilnoza = api.get("/api/v1/clients?q=dilnoza").await.json()["items"][0]["id"].as_i64().unwrap();

    // Settings → Fields: a select with two options, typed in.
    d.goto(&format!("{base}/crm/settings/fields")).await;
    d.type_into("#field-new-label", "Tier").await;
    d.script("document.getElementById('field-new-type').value = 'select'").await;
    d.type_into("#field-new-options", "Gold\nSilver").await;
    d.click(".field-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.field-list > li').length === 1", "the field listed").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the fields page at 1366 px");
    d.screenshot("fields-settings").await;

    // The client's page: the values form, Gold picked.
    d.goto(&format!("{base}/crm/clients/{dilnoza}?edit=custom")).await;
    d.script("document.getElementById('custom-tier').value = 'Gold'").await;
    d.click(".custom-form button[type=submit]").await;
    d.wait_until(
        "document.body.innerText.includes('Gold') && !document.querySelector('.custom-form')",
        "the value shown",
    )
    .await;
    assert_eq!(api.get(&format!("/api/v1/clients/{dilnoza}")).await.json()["custom"]["tier"], "Gold");

    // The list, filtered from the field's menu.
    d.goto(&format!("{base}/crm/clients")).await;
    d.script(
        "const s = document.getElementById('client-custom-tier'); s.value = 'Gold'; s.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .await;
    d.wait_until("document.querySelectorAll('#client-results tbody tr').length === 1", "Dilnoza alone").await;
    assert!(d.script("return location.search").await.as_str().unwrap().contains("custom.tier=Gold"), "in the address");
    d.screenshot("fields-client-list").await;

    // The field as a column, chosen from the Columns menu: its value on each row.
    d.click(".columns-menu summary").await;
    d.click(".columns-menu input[value=tier]").await;
    d.wait_until(
        "[...document.querySelectorAll('#client-results th')].some(th => th.textContent === 'Tier')",
        "the Tier column",
    )
    .await;
    let cell = d.script("return document.querySelector('#client-results td[data-label=Tier]').textContent").await;
    assert_eq!(cell.as_str(), Some("Gold"));
    assert!(d.script("return location.search").await.as_str().unwrap().contains("cols=tier"), "in the address");
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list with a custom column at 1366 px");
    d.screenshot("fields-client-columns").await;

    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/clients/{dilnoza}?edit=custom")).await;
    d.script("document.getElementById('custom-values').scrollIntoView()").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the client at 390 px");
    d.screenshot("fields-client-phone").await;
    d.goto(&format!("{base}/crm/clients/new")).await;
    d.script("document.getElementById('custom-values').scrollIntoView()").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the new client's custom inputs at 390 px");
    d.screenshot("fields-new-client-phone").await;
    d.goto(&format!("{base}/crm/clients?cols=tier")).await;
    d.click(".columns-menu summary").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list's columns menu at 390 px");
    d.screenshot("fields-client-columns-phone").await;
    d.goto(&format!("{base}/crm/settings/fields")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the fields page at 390 px");
    d.screenshot("fields-settings-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn a_chats_tags_are_picked_in_its_header_and_filter_the_inbox_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;
    let mut ids = Vec::new();
    for (name, color) in [("Urgent", "#dc2626"), ("Wholesale", "#2563eb")] {
        ids.push(api.post("/api/v1/tags", json!({"name": name, "color": color})).await.json()["id"].clone());
    }
    let (_, _, aziz) = app.client_who_wrote(&api, "Aziz Karimov", "+998901110001").await;
    let (_, _, madina) = app.client_who_wrote(&api, "Madina Yusupova", "+998901110002").await;
    api.patch(&format!("/api/v1/chats/{}", madina.0), json!({"tag_ids": [ids[1]]})).await;

    // The thread's header: the picker puts both tags on.
    d.goto(&format!("{base}/crm/chats/{}", aziz.0)).await;
    d.click(".thread-work .tag-edit summary").await;
    d.click(".thread-work .tag-picker label:nth-of-type(1) input").await;
    d.click(".thread-work .tag-picker label:nth-of-type(2) input").await;
    d.click(".thread-work .tag-edit-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.thread-work ul.tags .tag').length === 2", "two chips on the chat").await;
    let chat = api.get(&format!("/api/v1/chats/{}", aziz.0)).await.json();
    assert_eq!(chat["tags"].as_array().unwrap().len(), 2);

    // The inbox, filtered from its Tag menu.
    d.script(&format!(
        "const s = document.getElementById('chat-tag'); s.value = '{}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));",
        ids[0]
    ))
    .await;
    d.wait_until("document.querySelectorAll('#chat-list .chat-row').length === 1", "the urgent chat alone").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the inbox at 1366 px");
    d.screenshot("chat-tags-inbox").await;

    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/chats?tag_id={}", ids[1])).await;
    assert_eq!(d.script("return document.querySelectorAll('#chat-list .chat-row').length").await, 2);
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the inbox at 390 px");
    d.screenshot("chat-tags-inbox-phone").await;
    d.goto(&format!("{base}/crm/chats/{}", aziz.0)).await;
    d.click(".thread-work .tag-edit summary").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the thread at 390 px");
    d.screenshot("chat-tags-thread-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn a_clients_tags_are_picked_on_its_page_and_filter_the_list_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;
    let mut ids = Vec::new();
    for name in ["Hot lead", "Wholesale partner"] {
        ids.push(api.post("/api/v1/tags", json!({"name": name, "color": "#0f766e"})).await.json()["id"].clone());
    }
    for (first, tag_ids) in [("Dilnoza", json!([ids[0]])), ("Sardor", json!([])), ("Umida", json!([ids[0], ids[1]]))] {
        api.post("/api/v1/clients", json!({"first_name": first, "last_name": "Karimova", "tag_ids": tag_ids})).await;
    }
    let sardor = api.get("/api/v1/clients?q=sardor").await.json()["items"][0]["id"].as_i64().unwrap();

    // The client's page: the picker puts both tags on.
    d.goto(&format!("{base}/crm/clients/{sardor}")).await;
    d.click("#client-tags summary").await;
    d.click("#client-tags .tag-picker label:nth-of-type(1) input").await;
    d.click("#client-tags .tag-picker label:nth-of-type(2) input").await;
    d.click("#client-tags .tag-edit-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('#client-tags ul.tags .tag').length === 2", "two chips on the client")
        .await;
    assert_eq!(api.get(&format!("/api/v1/clients/{sardor}")).await.json()["tags"].as_array().unwrap().len(), 2);

    // The list, filtered from its Tag menu, kept in the address.
    d.goto(&format!("{base}/crm/clients")).await;
    d.script(&format!(
        "const s = document.getElementById('client-tag'); s.value = '{}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));",
        ids[1]
    ))
    .await;
    d.wait_until("document.querySelectorAll('#client-results tbody tr').length === 2", "the partner's two clients")
        .await;
    assert!(
        d.script("return location.search").await.as_str().unwrap().contains("tag_id="),
        "the filter in the address"
    );
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the client list at 1366 px");
    d.screenshot("client-tags-list").await;

    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/clients?tag_id={}", ids[0])).await;
    assert_eq!(d.script("return document.querySelectorAll('#client-results tbody tr').length").await, 3);
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the client list at 390 px");
    d.screenshot("client-tags-list-phone").await;
    d.goto(&format!("{base}/crm/clients/{sardor}")).await;
    d.click("#client-tags summary").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the client at 390 px");
    d.screenshot("client-tags-client-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn tags_are_kept_put_on_a_deal_and_filter_the_board_at_desk_and_phone_width() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;

    // Settings → Tags: two made by typing, one of them locked.
    d.goto(&format!("{base}/crm/settings/tags")).await;
    d.type_into("#tag-new-name", "Hot lead").await;
    d.click(".tag-new button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.tag-list > li').length === 1", "the first tag").await;
    d.type_into("#tag-new-name", "VIP клиент").await;
    d.click(".tag-new input[name=locked]").await;
    d.click(".tag-new button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.tag-list > li').length === 2", "the second tag").await;
    let painted =
        d.script("return getComputedStyle(document.querySelector('.tag-list .tag')).getPropertyValue('--tag')").await;
    assert_eq!(painted.as_str().map(str::trim), Some("#64748b"), "a chip takes its colour from data-color");
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the tags page at 1366 px");
    d.screenshot("tags-settings").await;

    let tags = api.get("/api/v1/tags").await.json();
    let hot = tags["items"].as_array().unwrap().iter().find(|t| t["name"] == "Hot lead").unwrap()["id"].clone();
    let pipeline = api.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();
    for (title, tag_ids) in
        [("Flat on Navoi", json!([hot])), ("Office in Chilonzor", json!([])), ("Shop lease", json!([hot]))]
    {
        api.post(
            "/api/v1/deals",
            json!({"title": title, "pipeline_id": pipeline, "value": "1200", "tag_ids": tag_ids}),
        )
        .await;
    }
    let office = api.get("/api/v1/deals?q=office").await.json()["items"][0]["id"].as_i64().unwrap();

    // A deal's page: the picker puts both tags on.
    d.goto(&format!("{base}/crm/deals/{office}")).await;
    d.click("#deal-tags summary").await;
    d.click("#deal-tags .tag-picker label:nth-of-type(1) input").await;
    d.click("#deal-tags .tag-picker label:nth-of-type(2) input").await;
    d.click("#deal-tags .tag-edit-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('#deal-tags ul.tags .tag').length === 2", "two chips on the deal").await;
    let saved = api.get(&format!("/api/v1/deals/{office}")).await.json();
    assert_eq!(saved["tags"].as_array().unwrap().len(), 2);

    // The board, filtered by a tag from its menu.
    d.goto(&format!("{base}/crm/deals?pipeline={pipeline}")).await;
    assert_eq!(d.script("return document.querySelectorAll('.deal-card').length").await, 3);
    d.script(&format!(
        "const s = document.getElementById('deal-tag'); s.value = '{}'; s.dispatchEvent(new Event('change', {{bubbles: true}}));",
        saved["tags"][1]["id"]
    ))
    .await;
    d.wait_until("document.querySelectorAll('.deal-card').length === 1", "only the VIP deal").await;
    assert!(
        d.script("return location.search").await.as_str().unwrap().contains("tag_id="),
        "the filter in the address"
    );
    d.goto(&format!("{base}/crm/deals?pipeline={pipeline}&tag_id={hot}")).await;
    assert_eq!(d.script("return document.querySelectorAll('.deal-card').length").await, 3);
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the board at 1366 px");
    d.screenshot("tags-board").await;

    d.resize(390, 800).await;
    d.goto(&format!("{base}/crm/deals?pipeline={pipeline}&tag_id={hot}")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the board at 390 px");
    d.screenshot("tags-board-phone").await;
    d.goto(&format!("{base}/crm/deals/{office}")).await;
    d.click("#deal-tags summary").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the deal at 390 px");
    d.screenshot("tags-deal-phone").await;
    d.goto(&format!("{base}/crm/settings/tags")).await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the tags page at 390 px");
    d.script("document.getElementById('tags-all').scrollIntoView()").await;
    d.screenshot("tags-settings-phone").await;
    d.quit().await;
}

#[tokio::test]
async fn clients_are_tagged_in_bulk_a_note_mentions_a_colleague_and_a_reminder_rings_their_bell() {
    let _serial = SERIAL.lock().await;
    let app = TestApp::spawn().await;
    let _background = app.start_background();
    let Some(d) = Driver::new_admin(&app).await else { return };
    let base = &app.base_url;
    let api = app.api(Role::Admin).await;
    let vip = api.post("/api/v1/tags", json!({"name": "VIP"})).await.json();
    for name in ["Aziz", "Bobur", "Dilnoza", "Gulnora"] {
        api.post("/api/v1/clients", json!({"first_name": name, "last_name": "Karimov"})).await;
    }
    let colleague = app.create_user(app.tenant, Role::Agent).await;
    let colleague_api = app.api_of(&colleague).await;
    let me = colleague_api.get("/api/v1/me").await.json();
    let (colleague_id, colleague_name) = (me["id"].as_i64().unwrap(), me["name"].as_str().unwrap().to_owned());
    let Some(c) = Driver::start().await else { return };
    c.sign_in(base, &colleague).await;
    c.resize(1366, 900).await;

    // Bulk: the first row, then Shift and the third: three ticked; VIP put on them.
    d.goto(&format!("{base}/crm/clients?sort=name")).await;
    d.click("#client-results tbody tr:nth-child(1) [data-bulk-row]").await;
    d.script(
        "const box = document.querySelector('#client-results tbody tr:nth-child(3) [data-bulk-row]');
         box.dispatchEvent(new MouseEvent('click', {bubbles: true, shiftKey: true}));",
    )
    .await;
    d.wait_until("document.querySelectorAll('[data-bulk-row]:checked').length === 3", "three ticked").await;
    d.wait_until("!document.querySelector('[data-bulk-bar]').hidden", "the bulk bar").await;
    d.script(
        "const a = document.getElementById('bulk-action'); a.value = 'add_tags'; a.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .await;
    d.wait_until("!document.getElementById('bulk-tag').hidden", "the tag menu").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the list with the bulk bar at 1366 px");
    d.screenshot("bulk-bar").await;
    d.click(".bulk-bar button[type=submit]").await;
    d.wait_until("location.pathname.startsWith('/crm/jobs/')", "the job's page").await;
    d.wait_until(
        "document.querySelector('.job-progress') && document.querySelector('.job-progress').value === 100",
        "the job done",
    )
    .await;
    d.screenshot("bulk-job").await;
    let tagged = api.get(&format!("/api/v1/clients?tag_id={}&sort=name", vip["id"])).await.json();
    let names: Vec<_> = tagged["items"].as_array().unwrap().iter().map(|c| c["first_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Aziz", "Bobur", "Dilnoza"]);

    // The VIP list saved as a shared view, and opened again from the Views menu.
    d.goto(&format!("{base}/crm/clients?sort=name&tag_id={}", vip["id"])).await;
    d.click(".save-view summary").await;
    d.type_into("#view-name", "VIPs").await;
    d.click(".save-view input[name=shared]").await;
    d.click(".save-view button[type=submit]").await;
    d.wait_until("document.body.innerText.includes('View saved')", "the view saved").await;
    d.goto(&format!("{base}/crm/clients")).await;
    d.click(".views-menu summary").await;
    d.screenshot("saved-views").await;
    d.click(".views-list a").await;
    d.wait_until("document.querySelectorAll('#client-results tbody tr').length === 3", "the view's three").await;

    // A note on Aziz mentioning the colleague, and a comment under it.
    let aziz = tagged["items"][0]["id"].as_i64().unwrap();
    d.goto(&format!("{base}/crm/clients/{aziz}")).await;
    d.wait_until("document.getElementById('note-body')", "the work panel").await;
    d.type_into("#note-body", &format!("@{colleague_name} please call him back about the flat")).await;
    d.click(".note-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.note').length === 1", "the note").await;
    d.type_into(".comment-form input[name=body]", "He prefers mornings").await;
    d.click(".comment-form button[type=submit]").await;
    d.wait_until("document.querySelectorAll('.comment').length === 1", "the comment").await;
    d.wait_until("document.querySelectorAll('.timeline-item').length >= 4", "the timeline").await;
    d.script("document.getElementById('record-work').scrollIntoView()").await;
    d.screenshot("record-work").await;

    // The colleague's bell rings live; their centre says who and where.
    c.goto(&format!("{base}/crm")).await;
    c.wait_until(
        "document.querySelector('.bell-count') && document.querySelector('.bell-count').textContent === '1'",
        "one on the bell",
    )
    .await;

    // A task for the colleague with a reminder three seconds ahead: told at once, then reminded.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let task = api
        .post(
            "/api/v1/tasks",
            json!({"title": "Call Aziz back", "assignee_id": colleague_id, "remind_at": soon, "client_id": aziz}),
        )
        .await;
    assert_eq!(task.status, 201, "{}", task.body);
    c.wait_until(
        "document.querySelector('.bell-count') && document.querySelector('.bell-count').textContent === '3'",
        "the reminder rung",
    )
    .await;
    c.screenshot("bell").await;
    c.click("#bell").await;
    c.wait_until("document.querySelectorAll('.notification').length === 3", "three in the centre").await;
    let text = c.script("return document.querySelector('.notification-list').innerText").await;
    let text = text.as_str().unwrap();
    assert!(text.contains("Reminder: Call Aziz back") && text.contains("mentioned you on Aziz Karimov"), "{text}");
    c.screenshot("notifications").await;
    c.goto(&format!("{base}/crm/tasks?view=upcoming")).await;
    c.wait_until("document.body.innerText.includes('Call Aziz back')", "My tasks").await;
    c.screenshot("my-tasks").await;

    // The deal list has the same bar: a deal moved to Won from it.
    let pipeline = api.get("/api/v1/pipelines").await.json()["items"][0].clone();
    let won = pipeline["stages"].as_array().unwrap().iter().find(|s| s["kind"] == "won").unwrap()["id"].clone();
    let deal = api
        .post("/api/v1/deals", json!({"title": "Flat for Aziz", "pipeline_id": pipeline["id"], "client_id": aziz}))
        .await
        .json();
    api.post("/api/v1/companies", json!({"name": "Karimov Motors"})).await;
    d.goto(&format!("{base}/crm/deals/list")).await;
    d.click("tbody tr:nth-child(1) [data-bulk-row]").await;
    d.script(&format!(
        "const a = document.getElementById('bulk-action'); a.value = 'move_stage'; a.dispatchEvent(new Event('change', {{bubbles: true}}));
         document.getElementById('bulk-stage').value = '{won}';"
    ))
    .await;
    d.wait_until("!document.getElementById('bulk-stage').hidden", "the stage menu").await;
    assert_eq!(d.overflow().await, Some(0), "horizontal overflow of the deal list with the bulk bar at 1366 px");
    d.screenshot("bulk-deals").await;
    d.click(".bulk-bar button[type=submit]").await;
    d.wait_until(
        "document.querySelector('.job-progress') && document.querySelector('.job-progress').value === 100",
        "the deal moved",
    )
    .await;
    assert_eq!(api.get(&format!("/api/v1/deals/{}", deal["id"])).await.json()["stage_id"], won);

    // At phone width nothing overflows sideways.
    for (driver, page, name) in [
        (&d, format!("{base}/crm/deals/list"), "bulk-deals-phone"),
        (&d, format!("{base}/crm/companies"), "bulk-companies-phone"),
        (&d, format!("{base}/crm/clients/{aziz}"), "record-work-phone"),
        (&c, format!("{base}/crm/tasks?view=upcoming"), "my-tasks-phone"),
        (&c, format!("{base}/crm/notifications"), "notifications-phone"),
        (&d, format!("{base}/crm/clients?sort=name"), "bulk-list-phone"),
    ] {
        driver.resize(390, 800).await;
        driver.goto(&page).await;
        if name == "record-work-phone" {
            driver.wait_until("document.getElementById('note-body')", "the work panel").await;
            driver.script("document.getElementById('record-work').scrollIntoView()").await;
        }
        if name.starts_with("bulk-") {
            driver.click("tbody tr:nth-child(1) [data-bulk-row]").await;
        }
        assert_eq!(driver.overflow().await, Some(0), "horizontal overflow of {name} at 390 px");
        driver.screenshot(name).await;
    }
    c.quit().await;
    d.quit().await;
}
