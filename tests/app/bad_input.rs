//! Input an attacker or a broken script sends: NUL characters in any text, ids beyond 64 bits,
//! pages beyond any end, missing or unreadable bodies. Each gets a documented 4xx in the usual
//! error shape — never a 500 — and nothing is written.

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Every string of `value` with a NUL character put in it.
fn with_nul(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(format!("{s}\u{0}")),
        Value::Array(items) => Value::Array(items.iter().map(with_nul).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), with_nul(v))).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn malformed_requests_to_every_operation_get_a_documented_error_never_a_500() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let http = reqwest::Client::new();
    let doc: Value = api.get("/api/v1/openapi.json").await.json();
    let client = api.post("/api/v1/clients", json!({"first_name": "Fixture", "phone": "+998901234567"})).await.json();
    let id = client["id"].as_i64().unwrap();
    let chat =
        api.post(&format!("/api/v1/clients/{id}/chat"), serde_json::json!({})).await.json()["id"].as_i64().unwrap();
    let rows_before = app.scalar_i64("SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM messages)").await;

    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "put", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let documented = |status: u16| op["responses"].get(status.to_string()).is_some();
            // The fixture's ids, or every id beyond 64 bits.
            let url = |huge: bool| {
                let real = [("{id}", id), ("{chat_id}", chat), ("{contact_id}", 1), ("{message_id}", 1)];
                let mut path = path.clone();
                for (name, value) in real.iter().chain(&[("{template_id}", 1), ("{channel_id}", 1)]) {
                    path =
                        path.replace(name, &if huge { "99999999999999999999".to_owned() } else { value.to_string() });
                }
                format!("{}/api/v1{path}", app.base_url)
            };
            let example = op["requestBody"]["content"]["application/json"]["example"].clone();
            let request =
                |url: String| http.request(method.to_uppercase().parse().unwrap(), url).bearer_auth(&api.token);
            let mut cases: Vec<(&str, reqwest::RequestBuilder)> = Vec::new();
            if path.contains('}') {
                let mut req = request(url(true));
                if !example.is_null() {
                    req = req.json(&example);
                }
                cases.push(("an id beyond 64 bits", req));
            }
            let query: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            for name in &query {
                cases.push(("a NUL in a query parameter", request(format!("{}?{name}=a%00b", url(false)))));
            }
            if query.iter().any(|q| q == "page") {
                cases.push(("the last page of i64", request(format!("{}?page=9223372036854775807", url(false)))));
                cases.push(("a page past 10,000 rows", request(format!("{}?page=401&per_page=25", url(false)))));
            }
            if !example.is_null() {
                cases.push(("NULs in every text of the body", request(url(false)).json(&with_nul(&example))));
                cases.push(("no body", request(url(false))));
                cases.push((
                    "a body that is not JSON",
                    request(url(false)).header("content-type", "application/json").body("{\"first_name\": "),
                ));
            }
            for (what, req) in cases {
                tried += 1;
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert!((400..500).contains(&status), "{method} {path} with {what}: {status} {body}");
                assert!(status != 404 || what == "an id beyond 64 bits", "{method} {path} with {what}: 404");
                assert!(documented(status), "{method} {path} with {what}: {status} is not in the document");
                assert!(body["error"]["code"].is_string(), "{method} {path} with {what}: {body}");
                if what.contains("NUL") && status == 422 {
                    assert!(body["error"]["fields"].as_object().is_some_and(|f| !f.is_empty()), "{body}");
                }
            }
        }
    }
    assert!(tried > 60, "{tried} malformed requests");
    let rows_after = app.scalar_i64("SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM messages)").await;
    assert_eq!(rows_after, rows_before, "nothing was written");
}

#[tokio::test]
async fn a_nul_is_named_in_the_field_it_came_in() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let page = api
        .post("/api/v1/clients", json!({"first_name": "Ann", "contacts": [{"type": "email", "value": "a\u{0}@b.io"}]}))
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.json()["error"]["fields"]["contacts[0].value"].is_array(), "{}", page.body);
    let search = api.get("/api/v1/clients?q=an%00n").await;
    assert_eq!(search.status, 422);
    assert!(search.json()["error"]["fields"]["q"].is_array());
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);

    // Pages too: the form and the search answer 422, in the user's language.
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm/clients/new").await;
    let form = agent.post("/crm/clients", &[("first_name", "Ann\0"), ("last_name", "Lee")]).await;
    assert_eq!(form.status, 422, "{}", form.body);
    assert_eq!(agent.get("/crm/clients?q=a%00").await.status, 422);
    assert_eq!(agent.get("/crm/chats?q=a%00").await.status, 422);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
}

#[tokio::test]
async fn what_a_client_writes_with_a_nul_arrives_without_it() {
    let (app, _twilio, _telegram) = crate::channels::app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    crate::channels::twilio_channel(&admin, "twilio_sms").await;
    let fields = crate::channels::sms("SM00000000000000000000000000000201", "Hello\0 there");
    let status =
        crate::channels::post_twilio(&app, "/crm/webhooks/twilio", &fields, Some(crate::fakes::AUTH_TOKEN)).await;
    assert_eq!(status, 200);
    let chat = admin.get("/api/v1/chats").await.json()["items"][0]["id"].as_i64().unwrap();
    let messages = admin.get(&format!("/api/v1/chats/{chat}/messages")).await.json();
    assert_eq!(messages["items"][0]["body"], "Hello there");
}

#[tokio::test]
async fn a_csv_with_nul_bytes_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    admin.get("/crm/clients/import").await;
    // What Excel's "Unicode text" saves: UTF-16, a NUL after every ASCII letter.
    let utf16: Vec<u8> = "name,phone\nAnn,+998901234567\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let page = admin.upload("/crm/clients/imports", "clients.csv", &utf16, &[("encoding", "utf-8")]).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("not a plain-text CSV"), "{}", page.body);
}

#[tokio::test]
async fn lists_stop_ten_thousand_rows_deep_and_say_so() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    assert_eq!(api.get("/api/v1/chats?page=400&per_page=25").await.status, 200);
    let deep = api.get("/api/v1/chats?page=101&per_page=100").await;
    assert_eq!(deep.status, 422);
    assert!(deep.json()["error"]["fields"]["page"][0].as_str().unwrap().contains("10,000"), "{}", deep.body);
    // A page past the end claims no total it cannot know.
    let empty = api.get("/api/v1/chats?page=7").await.json();
    assert_eq!((empty["total"].clone(), empty["items"].as_array().unwrap().len()), (json!(0), 0));
    // Templates and channels are lists like any other.
    let templates = api.get("/api/v1/message-templates?per_page=5").await.json();
    assert_eq!((templates["page"].clone(), templates["per_page"].clone()), (json!(1), json!(5)));

    // The inbox page shows at most 600 conversations and says how to find the rest.
    let mut tx = crm::db::TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    crm::repos::seed::clients(&mut tx, 1, 620).await.unwrap();
    crm::repos::seed::chats(&mut tx, 0, 620, 1).await.unwrap();
    tx.commit().await.unwrap();
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get("/crm/chats?page=1000000").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches(" data-chat=").count(), 600);
    assert!(page.body.contains("Showing the newest 600 conversations"), "the limit is explained");
    assert!(!page.body.contains("page=21"), "no link past the limit");
}
