//! /api/v1/clients: validation, duplicates, permissions and tenant isolation.

use crm::domain::Role;
use serde_json::json;

use crate::helpers::TestApp;

async fn create(api: &crate::helpers::Api, body: serde_json::Value) -> i64 {
    let page = api.post("/api/v1/clients", body).await;
    assert_eq!(page.status, 201, "{}", page.body);
    page.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_client_is_created_with_normalised_values_and_its_contacts() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let page = api
        .post(
            "/api/v1/clients",
            json!({"first_name": " Ann ", "last_name": "Lee", "phone": "+998 (90) 123-45-67", "email": "Ann@Example.COM",
                   "date_of_birth": "1990-05-01", "gender": "female", "pin": "30101900123456",
                   "contacts": [{"type": "telegram", "value": "@Ann_Lee"}, {"type": "telegram", "value": "ann_lee"}]}),
        )
        .await;
    // The same contact twice (once normalised) is kept once.
    assert_eq!(page.status, 201, "{}", page.body);
    let c = page.json();
    assert_eq!(c["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(c["first_name"], "Ann");
    assert_eq!(c["phone"], "+998901234567");
    assert_eq!(c["email"], "Ann@example.com");
    assert_eq!(c["contacts"][0]["type"], "telegram");
    assert_eq!(c["contacts"][0]["value"], "ann_lee");

    let id = c["id"].as_i64().unwrap();
    let fetched = api.get(&format!("/api/v1/clients/{id}")).await.json();
    assert_eq!(fetched["date_of_birth"], "1990-05-01");
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM audit_log WHERE entity = 'client' AND entity_id = '{id}'")).await,
        1
    );
}

#[tokio::test]
async fn invalid_fields_come_back_named_with_422_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let page = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "", "phone": "12", "email": "nope", "date_of_birth": "2999-01-01", "last_name": 5}),
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    let fields = &page.json()["error"]["fields"];
    assert!(fields["last_name"].is_array(), "wrong JSON type named: {fields}");
    let page = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "", "phone": "12", "email": "nope", "date_of_birth": "2999-01-01"}),
        )
        .await;
    let json = page.json();
    assert_eq!(json["error"]["code"], "invalid");
    for field in ["first_name", "phone", "email", "date_of_birth"] {
        assert!(json["error"]["fields"][field].is_array(), "{field} not named: {json}");
    }
    assert_eq!(json["error"]["fields"]["first_name"][0], "This field is required.");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
}

#[tokio::test]
async fn a_duplicate_phone_answers_409_naming_phone() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    create(&api, json!({"first_name": "Ann", "phone": "+998901234567"})).await;
    let page = api.post("/api/v1/clients", json!({"first_name": "Bob", "phone": "998 90 123 45 67"})).await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert_eq!(page.json()["error"]["fields"]["phone"][0], "Another client already has this phone number.");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 1);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/clients", app.base_url))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn search_matches_every_word_in_any_part_of_names_phone_email_and_pin() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    create(
        &api,
        json!({"first_name": "Dilnoza", "last_name": "Karimova", "phone": "+998901112233", "email": "dk@mail.uz"}),
    )
    .await;
    create(
        &api,
        json!({"first_name": "Sergey", "last_name": "Ivanov", "phone": "+79123456789", "pin": "123456789012"}),
    )
    .await;
    let names = |q: &str| {
        let api = &api;
        let q = q.to_owned();
        async move {
            let page = api.get(&format!("/api/v1/clients?q={}", crm::web::error::urlencode(&q))).await;
            assert_eq!(page.status, 200, "{}", page.body);
            page.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["first_name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("arimo").await, ["Dilnoza"]);
    assert_eq!(names("90 111 22").await, ["Dilnoza"]);
    assert_eq!(names("MAIL.UZ").await, ["Dilnoza"]);
    assert_eq!(names("56789012").await, ["Sergey"]);
    assert_eq!(names("nobody").await, Vec::<String>::new());
    // Every word must match, in any order (neither has a middle name).
    assert_eq!(names("sergey ivanov").await, ["Sergey"]);
    assert_eq!(names("Ivanov  Sergey").await, ["Sergey"]);
    assert_eq!(names("karim dil").await, ["Dilnoza"]);
    assert_eq!(names("sergey karimova").await, Vec::<String>::new());
    let all = api.get("/api/v1/clients?sort=name&per_page=1&page=2").await.json();
    assert_eq!((all["total"].as_i64(), all["page"].as_i64(), all["per_page"].as_i64()), (Some(2), Some(2), Some(1)));
    assert_eq!(all["items"][0]["first_name"], "Sergey");
}

#[tokio::test]
async fn search_crosses_alphabets_and_cases() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    create(&api, json!({"first_name": "Мадина", "last_name": "КАРИМОВА"})).await;
    create(&api, json!({"first_name": "Madina", "last_name": "Yusupova"})).await;
    create(&api, json!({"first_name": "Oʻktam", "last_name": "Xoliqov"})).await;
    create(&api, json!({"first_name": "Шахзод", "last_name": "Ҳасанов"})).await;
    let names = |q: &str| {
        let api = &api;
        let q = q.to_owned();
        async move {
            let page = api.get(&format!("/api/v1/clients?q={}&sort=name", crm::web::error::urlencode(&q))).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let mut names: Vec<String> = page.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| format!("{} {}", c["first_name"].as_str().unwrap(), c["last_name"].as_str().unwrap()))
                .collect();
            names.sort();
            names
        }
    };
    // Cyrillic finds Latin and Latin Cyrillic, in any case (the bundled server's C locale
    // lower-cased ASCII only: "мадина" missed "Мадина").
    assert_eq!(names("мадина").await, ["Madina Yusupova", "Мадина КАРИМОВА"]);
    assert_eq!(names("MADINA").await, ["Madina Yusupova", "Мадина КАРИМОВА"]);
    assert_eq!(names("karimova").await, ["Мадина КАРИМОВА"]);
    assert_eq!(names("Мадина Юсупова").await, ["Madina Yusupova"]);
    // Uzbek Latin and Cyrillic spellings, with or without the apostrophe.
    assert_eq!(names("ўктам").await, ["Oʻktam Xoliqov"]);
    assert_eq!(names("o'ktam").await, ["Oʻktam Xoliqov"]);
    assert_eq!(names("холиқов").await, ["Oʻktam Xoliqov"]);
    assert_eq!(names("shahzod hasanov").await, ["Шахзод Ҳасанов"]);
    assert_eq!(names("ШАХ").await, ["Шахзод Ҳасанов"]);
    assert_eq!(names("мадина хасанов").await, Vec::<String>::new());
}

#[tokio::test]
async fn the_list_filters_by_creation_date_and_names_bad_parameters() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Viewer).await;
    let agent = app.api(Role::Agent).await;
    create(&agent, json!({"first_name": "Old"})).await;
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query("UPDATE clients SET created_at = '2020-01-15T10:00:00Z'").execute(&mut conn).await.unwrap();
    create(&agent, json!({"first_name": "New"})).await;

    let page = api.get("/api/v1/clients?created_from=2020-01-01&created_to=2020-01-15").await.json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["first_name"], "Old");
    let bad = api.get("/api/v1/clients?created_from=yesterday&per_page=500").await;
    assert_eq!(bad.status, 422);
    assert!(bad.json()["error"]["fields"]["created_from"].is_array());
    assert!(bad.json()["error"]["fields"]["per_page"].is_array());
}

#[tokio::test]
async fn a_patch_changes_what_it_names_clears_nulls_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let id =
        create(&api, json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@x.io", "comments": "VIP"})).await;
    let page = api.patch(&format!("/api/v1/clients/{id}"), json!({"email": "ann@y.io", "comments": null})).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let c = page.json();
    assert_eq!(
        (c["email"].as_str(), c["last_name"].as_str(), c["comments"].as_str()),
        (Some("ann@y.io"), Some("Lee"), None)
    );

    let bad = api.patch(&format!("/api/v1/clients/{id}"), json!({"first_name": null})).await;
    assert_eq!(bad.status, 422);
    assert!(bad.json()["error"]["fields"]["first_name"].is_array());
    assert_eq!(api.get(&format!("/api/v1/clients/{id}")).await.json()["first_name"], "Ann");
}

#[tokio::test]
async fn deleting_archives_the_client_out_of_reads_and_lists() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let id = create(&admin, json!({"first_name": "Gone"})).await;
    assert_eq!(admin.delete(&format!("/api/v1/clients/{id}")).await.status, 204);
    assert_eq!(admin.get(&format!("/api/v1/clients/{id}")).await.status, 404);
    assert_eq!(admin.get("/api/v1/clients?q=gone").await.json()["total"], 0);
    assert_eq!(admin.delete(&format!("/api/v1/clients/{id}")).await.status, 404);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE archived_at IS NOT NULL").await, 1, "kept, archived");
}

#[tokio::test]
async fn contacts_are_added_normalised_refused_when_repeated_and_removed() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let id = create(&api, json!({"first_name": "Ann"})).await;
    let path = format!("/api/v1/clients/{id}/contacts");
    let added = api.post(&path, json!({"type": "whatsapp", "value": "998 90 123 45 67"})).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.json()["value"], "+998901234567");
    let again = api.post(&path, json!({"type": "whatsapp", "value": "+998901234567"})).await;
    assert_eq!(again.status, 409);
    assert!(again.json()["error"]["fields"]["value"].is_array());
    let bad = api.post(&path, json!({"type": "fax", "value": "1"})).await;
    assert_eq!(bad.status, 422);
    assert!(bad.json()["error"]["fields"]["type"].is_array());

    let list = api.get(&path).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let contact = list[0]["id"].as_i64().unwrap();
    assert_eq!(api.delete(&format!("{path}/{contact}")).await.status, 204);
    assert_eq!(api.delete(&format!("{path}/{contact}")).await.status, 404);
}

#[tokio::test]
async fn each_route_refuses_a_user_without_its_permission_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let agent = app.api(Role::Agent).await;
    let viewer = app.api(Role::Viewer).await;
    let id = create(&agent, json!({"first_name": "Ann"})).await;
    let contacts = format!("/api/v1/clients/{id}/contacts");
    agent.post(&contacts, json!({"type": "phone", "value": "+998901234567"})).await;
    let contact = agent.get(&contacts).await.json()[0]["id"].as_i64().unwrap();

    assert_eq!(viewer.get(&format!("/api/v1/clients/{id}")).await.status, 200, "viewers read");
    assert_eq!(viewer.post("/api/v1/clients", json!({"first_name": "X"})).await.status, 403);
    assert_eq!(viewer.patch(&format!("/api/v1/clients/{id}"), json!({"first_name": "X"})).await.status, 403);
    assert_eq!(viewer.post(&contacts, json!({"type": "phone", "value": "+998901234568"})).await.status, 403);
    assert_eq!(viewer.delete(&format!("{contacts}/{contact}")).await.status, 403);
    assert_eq!(viewer.delete(&format!("/api/v1/clients/{id}")).await.status, 403);
    assert_eq!(agent.delete(&format!("/api/v1/clients/{id}")).await.status, 403, "agents lack ClientDelete");
    let forbidden = viewer.post("/api/v1/clients", json!({"first_name": "X"})).await;
    assert_eq!(forbidden.json()["error"]["code"], "forbidden");

    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Ann' AND archived_at IS NULL").await,
        1
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 1);
}

#[tokio::test]
async fn another_tenants_client_or_contact_is_404_on_every_route_and_unchanged() {
    let app = TestApp::spawn().await;
    let (other, _) = app.create_tenant("Other").await;
    let theirs = app.api_in(other, Role::Admin).await;
    let ours = app.api(Role::Admin).await;
    let id = create(&theirs, json!({"first_name": "Theirs", "phone": "+998901234567"})).await;
    let contacts = format!("/api/v1/clients/{id}/contacts");
    theirs.post(&contacts, json!({"type": "email", "value": "t@x.io"})).await;
    let contact = theirs.get(&contacts).await.json()[0]["id"].as_i64().unwrap();

    for page in [
        ours.get(&format!("/api/v1/clients/{id}")).await,
        ours.patch(&format!("/api/v1/clients/{id}"), json!({"first_name": "Mine"})).await,
        ours.delete(&format!("/api/v1/clients/{id}")).await,
        ours.get(&contacts).await,
        ours.post(&contacts, json!({"type": "email", "value": "m@x.io"})).await,
        ours.delete(&format!("{contacts}/{contact}")).await,
    ] {
        assert_eq!(page.status, 404, "{}", page.body);
        assert_eq!(page.json()["error"]["code"], "not_found");
    }
    assert_eq!(ours.get("/api/v1/clients").await.json()["total"], 0);
    // The same phone is free in our tenant: uniqueness is per tenant.
    create(&ours, json!({"first_name": "Ours", "phone": "+998901234567"})).await;
    let theirs_now = theirs.get(&format!("/api/v1/clients/{id}")).await.json();
    assert_eq!(theirs_now["first_name"], "Theirs");
    assert_eq!(theirs.get(&contacts).await.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_broad_search_counts_a_lower_bound_and_a_narrow_one_counts_exactly() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    sqlx::query(
        "INSERT INTO clients (tenant_id, first_name, last_name)
         SELECT $1, 'Ann', 'Lee' || g FROM generate_series(1, 2100) g",
    )
    .bind(app.tenant.0)
    .execute(&app.owner_pool().await)
    .await
    .unwrap();
    let page = |q: &'static str| {
        let api = &api;
        async move {
            let p = api.get(&format!("/api/v1/clients?q={q}&per_page=25")).await;
            assert_eq!(p.status, 200, "{}", p.body);
            let j = p.json();
            (j["items"].as_array().unwrap().len(), j["total"].as_i64().unwrap(), j["total_exact"].as_bool().unwrap())
        }
    };
    // Every one of the first rows in order matches: the page is full, the count a lower bound.
    let (items, total, exact) = page("ann").await;
    assert_eq!((items, exact), (25, false));
    assert!(total >= 26, "{total}");
    // A narrow search is counted exactly.
    assert_eq!(page("lee2099").await, (1, 1, true));
    assert_eq!(page("lee209").await, (11, 11, true)); // lee209 and lee2090…lee2099
    assert_eq!(page("nobody").await, (0, 0, true));
    // No search: counting stops at the cap.
    assert_eq!(page("").await, (25, 500, false));
}
