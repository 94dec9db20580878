//! Companies through the API and the pages: fields checked and normalised, search across
//! alphabets, people and deals linked (and unlinked when a company goes), owners under
//! `record_visibility: own`, permissions and tenant walls.

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Api, Page, TestApp};

fn named(page: &Page) -> Vec<String> {
    assert_eq!(page.status, 422, "{}", page.body);
    page.json()["error"]["fields"].as_object().unwrap().keys().cloned().collect()
}

async fn company(api: &Api, body: Value) -> Value {
    let made = api.post("/api/v1/companies", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.json()
}

fn names(list: &Value) -> Vec<&str> {
    list["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_company_is_checked_normalised_found_in_either_alphabet_and_audited() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let me = api.get("/api/v1/me").await.json()["id"].as_i64().unwrap();

    let refused = api
        .post(
            "/api/v1/companies",
            json!({"name": " ", "website": "not a site", "phone": "12", "email": "nope", "owner_id": 999999}),
        )
        .await;
    assert_eq!(named(&refused), ["email", "name", "phone", "website"]);
    let wrong_owner = api.post("/api/v1/companies", json!({"name": "Acme", "owner_id": 999999})).await;
    assert_eq!(named(&wrong_owner), ["owner_id"]);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM companies").await, 0, "nothing half-written");

    let acme = company(
        &api,
        json!({"name": " Akme Savdo ", "website": "akme.uz", "phone": "+998 71 200 00 00",
               "email": "Info@Akme.uz", "tax_id": "301234567", "comments": "Pays on the 5th"}),
    )
    .await;
    assert_eq!(acme["name"], "Akme Savdo");
    assert_eq!(acme["website"], "https://akme.uz/");
    assert_eq!(acme["phone"], "+998712000000");
    assert_eq!(acme["owner_id"].as_i64(), Some(me), "its creator owns it");
    assert_eq!(acme["people_count"], 0);
    let id = acme["id"].as_i64().unwrap();
    company(&api, json!({"name": "Ташкент Текстиль"})).await;

    // The same tax id is one business twice.
    let twin = api.post("/api/v1/companies", json!({"name": "Acme again", "tax_id": "301234567"})).await;
    assert_eq!(twin.status, 409, "{}", twin.body);
    assert_eq!(twin.json()["error"]["fields"].as_object().unwrap().keys().collect::<Vec<_>>(), ["tax_id"]);

    // Found by name in the other alphabet, by phone digits, by tax id.
    for (q, want) in [
        ("акме", "Akme Savdo"),
        ("tashkent", "Ташкент Текстиль"),
        ("200 00 00", "Akme Savdo"),
        ("3012345", "Akme Savdo"),
    ] {
        let found = api
            .get(&format!("/api/v1/companies?q={}", form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()))
            .await
            .json();
        assert_eq!(names(&found), [want], "{q}");
    }
    let all = api.get("/api/v1/companies").await.json();
    assert_eq!((all["total"].as_i64(), all["total_exact"].as_bool()), (Some(2), Some(true)));
    assert_eq!(names(&all), ["Akme Savdo", "Ташкент Текстиль"], "by name");
    assert_eq!(api.get("/api/v1/companies?sort=size").await.status, 422);

    // A patch changes what it names; null clears.
    let patched = api.patch(&format!("/api/v1/companies/{id}"), json!({"website": null, "address": "Navoi 1"})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let p = patched.json();
    assert_eq!(
        (p["website"].is_null(), p["address"].as_str(), p["tax_id"].as_str()),
        (true, Some("Navoi 1"), Some("301234567"))
    );
    let said: Vec<String> =
        sqlx::query_scalar("SELECT action || ': ' || summary FROM audit_log WHERE entity = 'company' ORDER BY id")
            .fetch_all(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!(said, ["created: Akme Savdo", "created: Ташкент Текстиль", "updated: Akme Savdo: website, address"]);
}

#[tokio::test]
async fn people_and_deals_link_to_a_company_and_stay_when_it_goes() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let acme = company(&api, json!({"name": "Acme"})).await["id"].as_i64().unwrap();
    let pipeline = api.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();

    let ann = api.post("/api/v1/clients", json!({"first_name": "Ann", "company_id": acme, "job_title": "Buyer"})).await;
    assert_eq!(ann.status, 201, "{}", ann.body);
    let ann = ann.json();
    assert_eq!((ann["company_id"].as_i64(), ann["job_title"].as_str()), (Some(acme), Some("Buyer")));
    let ann_id = ann["id"].as_i64().unwrap();
    let nobody = api.post("/api/v1/clients", json!({"first_name": "Bob", "company_id": 999999})).await;
    assert_eq!(named(&nobody), ["company_id"]);
    let moved = api.patch(&format!("/api/v1/clients/{ann_id}"), json!({"company_id": "x"})).await;
    assert_eq!(named(&moved), ["company_id"]);

    let deal =
        api.post("/api/v1/deals", json!({"title": "Acme fit-out", "pipeline_id": pipeline, "company_id": acme})).await;
    assert_eq!(deal.status, 201, "{}", deal.body);
    let deal = deal.json();
    assert_eq!((deal["company_id"].as_i64(), deal["company_name"].as_str()), (Some(acme), Some("Acme")));
    let bad = api.post("/api/v1/deals", json!({"title": "x", "pipeline_id": pipeline, "company_id": 999999})).await;
    assert_eq!(named(&bad), ["company_id"]);
    api.post("/api/v1/deals", json!({"title": "Other", "pipeline_id": pipeline})).await;
    let of_acme = api.get(&format!("/api/v1/deals?company_id={acme}")).await.json();
    assert_eq!(of_acme["total"], 1);
    assert_eq!(api.get(&format!("/api/v1/companies/{acme}")).await.json()["people_count"], 1);

    // The company's page lists its people and deals.
    let browser = app.sign_in_as(Role::Admin).await;
    let page = browser.get(&format!("/crm/companies/{acme}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Ann") && page.body.contains("Buyer") && page.body.contains("Acme fit-out"),
        "{}",
        page.body
    );
    let client_page = browser.get(&format!("/crm/clients/{ann_id}")).await;
    assert!(client_page.body.contains(&format!("href=\"/crm/companies/{acme}\"")), "the client links its company");

    // Gone: its people and deals stay, unlinked.
    assert_eq!(api.delete(&format!("/api/v1/companies/{acme}")).await.status, 204);
    assert_eq!(api.get(&format!("/api/v1/companies/{acme}")).await.status, 404);
    let ann = api.get(&format!("/api/v1/clients/{ann_id}")).await.json();
    assert_eq!((ann["company_id"].is_null(), ann["job_title"].as_str()), (true, Some("Buyer")));
    let deal = api.get(&format!("/api/v1/deals/{}", deal["id"])).await.json();
    assert!(deal["company_id"].is_null(), "{deal}");
}

#[tokio::test]
async fn under_own_visibility_an_agent_reaches_only_their_companies() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (ann, anns_browser) = app.api_and_browser(Role::Agent).await;
    let bob = app.api(Role::Agent).await;
    let anns = company(&ann, json!({"name": "Ann Trading"})).await["id"].as_i64().unwrap();
    let bobs = company(&bob, json!({"name": "Bob Logistics"})).await["id"].as_i64().unwrap();
    assert_eq!(ann.get("/api/v1/companies").await.json()["total"], 2, "all while visibility is all");
    // Ann's company employs a client of hers and one of Bob's.
    for (api, name) in [(&ann, "Alisher Annsclient"), (&bob, "Botir Bobsclient")] {
        let made = api.post("/api/v1/clients", json!({"first_name": name, "company_id": anns})).await;
        assert_eq!(made.status, 201, "{}", made.body);
    }
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    let page = anns_browser.get(&format!("/crm/companies/{anns}")).await;
    assert!(page.body.contains("Alisher Annsclient"), "{}", page.body);
    assert!(!page.body.contains("Botir"), "a colleague's client is not named on her company's page");

    for (who, api, mine, theirs) in [("ann", &ann, anns, bobs), ("bob", &bob, bobs, anns)] {
        let list = api.get("/api/v1/companies").await.json();
        assert_eq!((list["total"].as_i64(), list["items"][0]["id"].as_i64()), (Some(1), Some(mine)), "{who}");
        let searched = api.get("/api/v1/companies?q=o").await.json();
        assert!(searched["items"].as_array().unwrap().iter().all(|c| c["id"].as_i64() == Some(mine)), "{who}");
        assert_eq!(api.get(&format!("/api/v1/companies/{theirs}")).await.status, 404, "{who}");
        assert_eq!(api.patch(&format!("/api/v1/companies/{theirs}"), json!({"name": "Mine now"})).await.status, 404);
        // Agents delete no companies at all (ClientDelete is an admin's).
        assert_eq!(api.delete(&format!("/api/v1/companies/{theirs}")).await.status, 403);
    }
    assert_eq!(admin.get("/api/v1/companies").await.json()["total"], 2, "admins see all");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM companies WHERE name = 'Mine now'").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM companies").await, 2);

    // The pages and the picker keep the same rule.
    let browser = app.sign_in_as(Role::Agent).await;
    let mine = company(&admin, json!({"name": "Zeta Browser Co"})).await["id"].as_i64().unwrap();
    let listed = browser.get("/crm/companies").await;
    assert!(!listed.body.contains("Zeta") && !listed.body.contains("Ann Trading"), "{}", listed.body);
    assert_eq!(browser.get(&format!("/crm/companies/{mine}")).await.status, 404);
    let offered = browser.get("/crm/companies/options?company_q=zeta").await;
    assert!(!offered.body.contains("Zeta"), "{}", offered.body);
}

#[tokio::test]
async fn company_pages_make_edit_and_delete_with_errors_beside_fields_and_walls() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let list = agent.get("/crm/companies").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("No companies yet"), "{}", list.body);

    agent.get("/crm/companies/new").await;
    let refused = agent.post("/crm/companies", &[("name", "Acme"), ("website", "ftp://acme")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("Enter a web address such as example.com.") && refused.body.contains("value=\"Acme\"")
    );
    let made = agent.post("/crm/companies", &[("name", "Acme"), ("website", "acme.uz"), ("phone", "")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let at = made.headers["location"].to_str().unwrap().to_owned();
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let page = agent.get(&at).await;
    assert!(page.body.contains("https://acme.uz/") && page.body.contains("The company is created."), "{}", page.body);

    let saved = agent.post(&at, &[("name", "Acme Group"), ("tax_id", "123")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let listed = agent.get("/crm/companies?q=group").await;
    assert!(listed.body.contains("Acme Group") && listed.body.contains("1 company"), "{}", listed.body);

    // A client's Work section picks the company; the picker finds it by what is typed.
    let api = app.api(Role::Admin).await;
    let client = api.post("/api/v1/clients", json!({"first_name": "Ann"})).await.json()["id"].as_i64().unwrap();
    let options = agent.get("/crm/companies/options?company_q=grou").await;
    assert!(options.body.contains(&format!("<option value=\"{id}\">Acme Group</option>")), "{}", options.body);
    let edit = agent.get(&format!("/crm/clients/{client}?edit=work")).await;
    assert!(edit.body.contains("name=\"company_id\"") && edit.body.contains("name=\"job_title\""));
    let linked = agent
        .post(&format!("/crm/clients/{client}/sections/work"), &[("company_id", &id.to_string()), ("job_title", "CFO")])
        .await;
    assert_eq!(linked.status, 303, "{}", linked.body);
    let c = api.get(&format!("/api/v1/clients/{client}")).await.json();
    assert_eq!((c["company_id"].as_i64(), c["job_title"].as_str()), (Some(id), Some("CFO")));

    // A deal started from the company's page is with it.
    let new_deal = agent.get(&format!("/crm/deals/new?company={id}")).await;
    assert!(
        new_deal.body.contains(&format!("<option value=\"{id}\" selected>Acme Group</option>")),
        "{}",
        new_deal.body
    );

    // Viewers read; another tenant finds nothing.
    let viewer = app.sign_in_as(Role::Viewer).await;
    assert_eq!(viewer.get(&format!("/crm/companies/{id}")).await.status, 200);
    assert_eq!(viewer.get("/crm/companies/new").await.status, 403);
    let (rival, _) = app.create_tenant("Rival").await;
    let stranger = app.api_in(rival, Role::Admin).await;
    assert_eq!(stranger.get(&format!("/api/v1/companies/{id}")).await.status, 404);
    assert_eq!(stranger.patch(&format!("/api/v1/companies/{id}"), json!({"name": "x"})).await.status, 404);
    let foreign = stranger.post("/api/v1/clients", json!({"first_name": "Eve", "company_id": id})).await;
    assert_eq!(named(&foreign), ["company_id"]);

    assert_eq!(agent.post(&format!("/crm/companies/{id}/delete"), &[]).await.status, 403, "agents delete none");
    let admin = app.sign_in_as(Role::Admin).await;
    let page = admin.get(&format!("/crm/companies/{id}")).await;
    assert!(page.body.contains(&format!("/crm/companies/{id}/delete")));
    let deleted = admin.post(&format!("/crm/companies/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM companies").await, 0);
}
