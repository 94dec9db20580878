//! Exchange rates into the tenant's base currency: kept by admins through the API and the
//! organisation page, checked row by row, turned when the base currency changes.

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn rates(body: &Value) -> Vec<(String, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["currency"].as_str().unwrap().to_owned(), r["rate"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(c, r)| ((*c).to_owned(), (*r).to_owned())).collect()
}

#[tokio::test]
async fn an_admin_replaces_the_rates_everyone_reads_them_and_bad_rows_are_named() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let empty = admin.get("/api/v1/currency-rates").await.json();
    assert_eq!((empty["base_currency"].as_str(), rates(&empty).len()), (Some("USD"), 0));

    let set = admin
        .put("/api/v1/currency-rates", json!({"items": [{"currency": "uzs", "rate": "0.0000791"}, {"currency": "EUR", "rate": 1.08}, {"currency": "USD", "rate": "1"}]}))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(rates(&set.json()), pairs(&[("EUR", "1.08"), ("UZS", "0.0000791")]), "sorted; the base left out");
    let agent = app.api(Role::Agent).await;
    assert_eq!(rates(&agent.get("/api/v1/currency-rates").await.json()).len(), 2);
    assert_eq!(agent.put("/api/v1/currency-rates", json!({"items": []})).await.status, 403);

    let bad = admin
        .put(
            "/api/v1/currency-rates",
            json!({"items": [{"currency": "XXX", "rate": "0"}, {"currency": "EUR", "rate": "1.1"}, {"currency": "eur", "rate": "1.2"}, {"currency": "USD", "rate": "2"}]}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields = bad.json()["error"]["fields"].clone();
    for field in ["items[0].currency", "items[0].rate", "items[2].currency", "items[3].rate"] {
        assert!(fields.get(field).is_some(), "{field} in {fields}");
    }
    assert_eq!(rates(&admin.get("/api/v1/currency-rates").await.json()).len(), 2, "nothing half-written");

    let (rival, _) = app.create_tenant("Rival").await;
    let theirs = app.api_in(rival, Role::Admin).await;
    assert_eq!(rates(&theirs.get("/api/v1/currency-rates").await.json()).len(), 0, "another tenant's table");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM audit_log WHERE action = 'rates_changed'").await, 1);
}

#[tokio::test]
async fn a_new_base_currency_turns_the_rates_and_one_without_a_rate_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    admin
        .put(
            "/api/v1/currency-rates",
            json!({"items": [{"currency": "EUR", "rate": "1.096"}, {"currency": "UZS", "rate": "0.00008"}]}),
        )
        .await;
    let refused = admin.patch("/api/v1/settings", json!({"base_currency": "RUB"})).await;
    assert!(
        refused.status == 422 && refused.json()["error"]["fields"].get("base_currency").is_some(),
        "{}",
        refused.body
    );
    assert_eq!(admin.get("/api/v1/settings").await.json()["base_currency"], "USD", "unchanged");

    let moved = admin.patch("/api/v1/settings", json!({"base_currency": "UZS"})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let now = admin.get("/api/v1/currency-rates").await.json();
    assert_eq!(now["base_currency"], "UZS");
    assert_eq!(rates(&now), pairs(&[("EUR", "13700"), ("USD", "12500")]));
}

#[tokio::test]
async fn the_organisation_page_keeps_the_rates_and_says_beside_a_row_what_is_wrong() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let page = admin.get("/crm/settings/organisation").await;
    assert!(page.body.contains("Exchange rates") && page.body.contains("1 unit in USD"), "{}", page.body);
    let refused = admin
        .post(
            "/crm/settings/rates",
            &[
                ("currency_0", "UZS"),
                ("rate_0", "0,0000791"),
                ("currency_1", "EUR"),
                ("rate_1", "abc"),
                ("currency_2", ""),
                ("rate_2", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("Enter a number greater than zero.") && refused.body.contains("0,0000791"),
        "typed kept"
    );
    let saved = admin
        .post(
            "/crm/settings/rates",
            &[("currency_0", "UZS"), ("rate_0", "0,0000791"), ("currency_1", ""), ("rate_1", "")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(admin.get("/crm/settings/organisation").await.body.contains(r#"value="0.0000791""#));

    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm/settings/profile").await;
    assert_eq!(agent.post("/crm/settings/rates", &[("currency_0", "EUR"), ("rate_0", "2")]).await.status, 403);
}
