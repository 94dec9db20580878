//! Custom fields through the API: admins define typed fields per kind of record (keys fixed,
//! labels free), records take values checked against them (never as sent), a removed field
//! hides its values and brings them back within 30 days, housekeeping purges it after; the
//! client list filters by a value (search_custom_clients, migration 0043) finding what a plain
//! query finds by every path.

use crm::db::TenantTx;
use crm::domain::Role;
use crm::repos::seed;
use serde_json::{Value, json};

use crate::helpers::{Api, Page, TestApp};

fn faults(page: &Page) -> Vec<(String, String)> {
    assert_eq!(page.status, 422, "{}", page.body);
    let fields = page.json()["error"]["fields"].clone();
    let mut named: Vec<(String, String)> =
        fields.as_object().unwrap().iter().map(|(f, m)| (f.clone(), m[0].as_str().unwrap().to_owned())).collect();
    named.sort();
    named
}

async fn field(api: &Api, body: Value) -> Value {
    let made = api.post("/api/v1/custom-fields", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.json()
}

fn names(list: &Value) -> Vec<&str> {
    list["items"].as_array().unwrap().iter().map(|c| c["first_name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn admins_define_fields_and_records_take_only_values_that_fit_them() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let agent = app.api(Role::Agent).await;
    let viewer = app.api(Role::Viewer).await;

    let tier =
        field(&admin, json!({"entity": "client", "label": "Tier", "type": "select", "options": ["Gold", "Silver"]}))
            .await;
    assert_eq!((tier["key"].as_str(), tier["position"].as_i64()), (Some("tier"), Some(1)));
    let size = field(&admin, json!({"entity": "client", "label": "Contract size (m²)", "type": "number"})).await;
    assert_eq!(size["key"], "contract_size_m", "a key made from the label");
    field(&admin, json!({"entity": "client", "label": "Since", "type": "date"})).await;
    field(
        &admin,
        json!({"entity": "client", "label": "Colours", "type": "multiselect", "options": ["Red", "Blue", "Green"]}),
    )
    .await;
    field(&admin, json!({"entity": "client", "label": "Site", "type": "url"})).await;
    let again = field(&admin, json!({"entity": "client", "label": "Tier", "type": "text"})).await;
    assert_eq!(again["key"], "tier_2", "a second field labelled alike");
    let taken = admin
        .post("/api/v1/custom-fields", json!({"entity": "client", "key": "tier", "label": "X", "type": "text"}))
        .await;
    assert_eq!((taken.status, taken.json()["error"]["fields"]["key"].is_array()), (409, true), "{}", taken.body);
    let bad = admin
        .post("/api/v1/custom-fields", json!({"entity": "ticket", "label": "", "type": "select", "options": "a"}))
        .await;
    assert_eq!(faults(&bad).iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), ["options"], "types first");
    let bad = admin.post("/api/v1/custom-fields", json!({"entity": "ticket", "label": "", "type": "colour"})).await;
    assert_eq!(faults(&bad).iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), ["entity", "label", "type"]);
    let tier_id = tier["id"].as_i64().unwrap();
    let fixed = admin.patch(&format!("/api/v1/custom-fields/{tier_id}"), json!({"type": "text"})).await;
    assert_eq!(faults(&fixed), [("type".to_owned(), "This cannot be changed once the field is made.".to_owned())]);
    // Everyone who reads clients reads the fields; only admins define them.
    assert_eq!(viewer.get("/api/v1/custom-fields?entity=client").await.json()["items"].as_array().unwrap().len(), 6);
    assert_eq!(
        agent.post("/api/v1/custom-fields", json!({"entity": "client", "label": "Mine", "type": "text"})).await.status,
        403
    );
    assert_eq!(agent.delete(&format!("/api/v1/custom-fields/{tier_id}")).await.status, 403);
    let (other, _) = app.create_tenant("Other").await;
    assert_eq!(app.api_in(other, Role::Admin).await.get(&format!("/api/v1/custom-fields/{tier_id}")).await.status, 404);

    // Values are made canonical; wrong ones are named and nothing is written.
    let body = json!({"first_name": "Aziz", "custom": {"tier": "gold", "contract_size_m": "12 500,5", "since": "2026-02-01",
                      "colours": ["green", "Red"], "site": "acme.uz"}});
    let made = agent.post("/api/v1/clients", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let aziz = made.json()["id"].as_i64().unwrap();
    assert_eq!(
        made.json()["custom"],
        json!({"tier": "Gold", "contract_size_m": 12500.5, "since": "2026-02-01", "colours": ["Red", "Green"], "site": "https://acme.uz/"})
    );
    let path = format!("/api/v1/clients/{aziz}");
    let refused = agent
        .patch(
            &path,
            json!({"last_name": "Karimov", "custom": {"tier": "Bronze", "contract_size_m": "big", "nope": 1}}),
        )
        .await;
    assert_eq!(
        faults(&refused),
        [
            ("custom.contract_size_m".to_owned(), "Enter a number.".to_owned()),
            ("custom.nope".to_owned(), "There is no such field.".to_owned()),
            ("custom.tier".to_owned(), "Pick one of the options.".to_owned()),
        ]
    );
    assert_eq!(faults(&agent.patch(&path, json!({"custom": [1]})).await)[0].0, "custom");
    let kept = agent.get(&path).await.json();
    assert_eq!(
        (kept["last_name"].as_str(), kept["custom"]["tier"].as_str()),
        (None, Some("Gold")),
        "nothing half-written"
    );
    let changed = agent.patch(&path, json!({"custom": {"tier": "Silver", "site": null}})).await.json();
    assert_eq!((changed["custom"]["tier"].as_str(), changed["custom"].get("site")), (Some("Silver"), None));
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM audit_log WHERE entity = 'client' AND entity_id = $1::text ORDER BY id DESC LIMIT 1",
    )
    .bind(aziz)
    .fetch_one(&app.owner_pool().await)
    .await
    .unwrap();
    assert_eq!(summary, "custom site, tier");

    // A required field: asked for on a new record, and cannot be cleared; old records stand.
    let region = field(&admin, json!({"entity": "client", "label": "Region", "type": "text", "required": true})).await;
    let missing = agent.post("/api/v1/clients", json!({"first_name": "Bek"})).await;
    assert_eq!(faults(&missing), [("custom.region".to_owned(), "This field is required.".to_owned())]);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Bek'").await, 0);
    assert_eq!(agent.patch(&path, json!({"last_name": "Karimov"})).await.status, 200, "an old record is not refused");
    assert_eq!(faults(&agent.patch(&path, json!({"custom": {"region": ""}})).await)[0].1, "This field is required.");
    admin.delete(&format!("/api/v1/custom-fields/{}", region["id"])).await;

    // A new label keeps the values; a removed field hides them, a restored one shows them.
    admin.patch(&format!("/api/v1/custom-fields/{tier_id}"), json!({"label": "Level"})).await;
    assert_eq!(agent.get(&path).await.json()["custom"]["tier"], "Silver", "kept by key");
    assert_eq!(admin.delete(&format!("/api/v1/custom-fields/{tier_id}")).await.status, 204);
    assert_eq!(agent.get(&path).await.json()["custom"].get("tier"), None, "hidden");
    assert_eq!(agent.get("/api/v1/clients?custom.tier=Silver").await.status, 422, "no filter by a removed field");
    assert_eq!(faults(&agent.patch(&path, json!({"custom": {"tier": "Gold"}})).await)[0].0, "custom.tier");
    agent.patch(&path, json!({"custom": {"contract_size_m": 7}})).await;
    let removed = admin.get("/api/v1/custom-fields?entity=client&removed=true").await.json();
    assert!(removed["items"].as_array().unwrap().iter().any(|f| f["key"] == "tier" && f["removed_at"].is_string()));
    assert_eq!(agent.get("/api/v1/custom-fields?removed=true").await.status, 403);
    let back = admin.post(&format!("/api/v1/custom-fields/{tier_id}/restore"), json!({})).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(agent.get(&path).await.json()["custom"]["tier"], "Silver", "back, though the record was edited since");

    // After 30 days removed, housekeeping deletes the field and its values.
    admin.delete(&format!("/api/v1/custom-fields/{tier_id}")).await;
    let owner = app.owner_pool().await;
    sqlx::query("UPDATE custom_fields SET removed_at = now() - interval '31 days' WHERE id = $1")
        .bind(tier_id)
        .execute(&owner)
        .await
        .unwrap();
    assert_eq!(
        admin.post(&format!("/api/v1/custom-fields/{tier_id}/restore"), json!({})).await.status,
        404,
        "too late"
    );
    assert_eq!(app.state.custom_fields.purge_removed().await.unwrap(), 1, "tier (region was removed today)");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE custom ? 'tier'").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM custom_fields").await, 6);
}

#[tokio::test]
async fn lists_filter_by_a_value_exports_carry_it_and_companies_and_deals_hold_values_too() {
    let app = TestApp::spawn().await;
    let (admin, browser) = app.api_and_browser(Role::Admin).await;
    field(&admin, json!({"entity": "client", "label": "Tier", "type": "select", "options": ["Gold", "Silver"]})).await;
    field(&admin, json!({"entity": "client", "label": "Colours", "type": "multiselect", "options": ["Red", "Blue"]}))
        .await;
    field(&admin, json!({"entity": "client", "label": "Active", "type": "boolean"})).await;
    for (name, tier, colours, active) in [
        ("Aziz", "Gold", json!(["Red"]), true),
        ("Bek", "Silver", json!(["Red", "Blue"]), false),
        ("Cyrus", "Gold", json!([]), false),
    ] {
        let body = json!({"first_name": name, "custom": {"tier": tier, "colours": colours, "active": active}});
        assert_eq!(admin.post("/api/v1/clients", body).await.status, 201);
    }
    assert_eq!(names(&admin.get("/api/v1/clients?custom.tier=gold&sort=name").await.json()), ["Aziz", "Cyrus"]);
    assert_eq!(names(&admin.get("/api/v1/clients?custom.colours=blue").await.json()), ["Bek"]);
    assert_eq!(names(&admin.get("/api/v1/clients?custom.active=yes").await.json()), ["Aziz"]);
    assert_eq!(names(&admin.get("/api/v1/clients?custom.tier=Gold&q=cyr").await.json()), ["Cyrus"]);
    let counted = admin.get("/api/v1/clients?custom.tier=Gold").await.json();
    assert_eq!((counted["total"].as_i64(), counted["total_exact"].as_bool()), (Some(2), Some(true)));
    assert_eq!(faults(&admin.get("/api/v1/clients?custom.tier=Bronze").await)[0].0, "custom.tier");
    assert_eq!(faults(&admin.get("/api/v1/clients?custom.nope=1").await)[0].0, "custom.nope");

    let csv = browser.get("/crm/clients/export.csv?sort=name").await.body;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].contains(",tags,custom.tier,custom.colours,custom.active,created_at"), "{}", lines[0]);
    assert!(lines[2].contains(",Silver,Red; Blue,false,"), "{}", lines[2]);
    let gold = browser.get("/crm/clients/export.csv?sort=name&custom.tier=Gold").await.body;
    assert_eq!(gold.lines().count(), 3, "the export keeps the value filter: {gold}");

    // With a tag as well (search_custom_clients takes it), and under `own` (a reader's book).
    let vip = admin.post("/api/v1/tags", json!({"name": "VIP"})).await.json()["id"].as_i64().unwrap();
    let cyrus = admin.get("/api/v1/clients?q=cyrus").await.json()["items"][0]["id"].as_i64().unwrap();
    admin.patch(&format!("/api/v1/clients/{cyrus}"), json!({"tag_ids": [vip]})).await;
    let both = admin.get(&format!("/api/v1/clients?custom.tier=Gold&tag_id={vip}")).await.json();
    assert_eq!(names(&both), ["Cyrus"]);
    let agent = app.api(Role::Agent).await;
    agent.post("/api/v1/clients", json!({"first_name": "Dana", "custom": {"tier": "Gold"}})).await;
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    assert_eq!(names(&agent.get("/api/v1/clients?custom.tier=Gold").await.json()), ["Dana"], "their own book");
    assert!(names(&agent.get("/api/v1/clients?custom.tier=Silver").await.json()).is_empty());
    admin.patch("/api/v1/settings", json!({"record_visibility": "all"})).await;

    // Companies and deals hold their own fields' values.
    field(&admin, json!({"entity": "company", "label": "Employees", "type": "number", "required": true})).await;
    field(&admin, json!({"entity": "deal", "label": "Source", "type": "select", "options": ["Web", "Referral"]})).await;
    let missing = admin.post("/api/v1/companies", json!({"name": "Akme"})).await;
    assert_eq!(faults(&missing)[0].0, "custom.employees");
    let akme = admin.post("/api/v1/companies", json!({"name": "Akme", "custom": {"employees": "40"}})).await;
    assert_eq!(akme.json()["custom"], json!({"employees": 40}), "{}", akme.body);
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();
    let deal = admin
        .post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline, "custom": {"source": "web"}}))
        .await;
    assert_eq!(deal.json()["custom"], json!({"source": "Web"}), "{}", deal.body);
    let id = deal.json()["id"].as_i64().unwrap();
    let board = admin.get(&format!("/api/v1/pipelines/{pipeline}/board")).await.json();
    assert_eq!(board["stages"][0]["deals"][0]["custom"]["source"], "Web", "cards carry values too");
    assert_eq!(
        faults(&admin.patch(&format!("/api/v1/deals/{id}"), json!({"custom": {"tier": "Gold"}})).await)[0].0,
        "custom.tier"
    );
}

const REFERENCE: &str = "
    SELECT coalesce(array_agg(p.id), '{}'), (SELECT count(*) FROM clients c WHERE c.tenant_id = $1
        AND c.archived_at IS NULL AND c.custom @> $6
        AND coalesce((SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w), true))
    FROM (SELECT c.id FROM clients c WHERE c.tenant_id = $1 AND c.archived_at IS NULL AND c.custom @> $6
            AND coalesce((SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w), true)
          ORDER BY CASE WHEN $3 THEN lower(c.first_name) END, CASE WHEN $3 THEN lower(coalesce(c.last_name, '')) END,
                   CASE WHEN $3 THEN c.id END, c.updated_at DESC, c.id DESC
          LIMIT $4 OFFSET $5) p";

/// Values on most clients (the first 500 in order hold a page), on one in forty (a walk),
/// and on a handful (gathered through the index), with and without words, both orders,
/// pages past the end.
#[tokio::test]
async fn every_path_of_the_custom_value_search_finds_what_a_plain_query_finds() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 2600).await.unwrap();
    tx.commit().await.unwrap();
    let owner = app.owner_pool().await;
    sqlx::query(
        "UPDATE clients SET custom = jsonb_build_object('tier', CASE WHEN id % 40 = 0 THEN 'Gold'
                                                                    WHEN id % 97 = 0 THEN 'Rare' ELSE 'Silver' END)",
    )
    .execute(&owner)
    .await
    .unwrap();
    let mut checked = 0;
    for value in ["Silver", "Gold", "Rare", "None"] {
        let filter = json!({"tier": value});
        for q in ["", "karimov", "anna", "+9989"] {
            let patterns = crm::repos::clients::search_patterns(q);
            for by_name in [false, true] {
                for (limit, offset) in [(25, 0), (25, 100), (10, 400), (25, 1000)] {
                    let (expected, matching): (Vec<i64>, i64) = sqlx::query_as(REFERENCE)
                        .bind(app.tenant.0)
                        .bind(&patterns)
                        .bind(by_name)
                        .bind(limit)
                        .bind(offset)
                        .bind(&filter)
                        .fetch_one(&owner)
                        .await
                        .unwrap();
                    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
                    let (ids, total, exact): (Vec<i64>, i64, bool) = sqlx::query_as(
                        "SELECT ids, total, exact FROM search_custom_clients($1, NULL, $2, NULL, NULL, $3, $4, $5, 500)",
                    )
                    .bind(&filter)
                    .bind(&patterns)
                    .bind(by_name)
                    .bind(limit)
                    .bind(offset)
                    .fetch_one(tx.conn())
                    .await
                    .unwrap();
                    let case = format!("{value} q={q:?} by_name={by_name} limit={limit} offset={offset}");
                    assert_eq!(ids, expected, "{case}");
                    if exact {
                        assert_eq!(total, matching, "{case}");
                    } else {
                        assert!(total <= matching && total >= ids.len() as i64, "{case}: {total} of {matching}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * 4 * 2 * 4);
}

#[tokio::test]
async fn admins_keep_fields_on_their_page_and_record_pages_edit_values_with_reasons_beside_them() {
    let app = TestApp::spawn().await;
    let (admin_api, admin) = app.api_and_browser(Role::Admin).await;
    let (_, agent) = app.api_and_browser(Role::Agent).await;

    // Settings → Fields: a refused form keeps what was typed; a select takes its options a line each.
    let refused = admin.post("/crm/settings/fields", &[("entity", "client"), ("label", ""), ("type", "select")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("This field is required."), "{}", refused.body);
    let made = admin
        .post(
            "/crm/settings/fields",
            &[
                ("entity", "client"),
                ("label", "Tier"),
                ("type", "select"),
                ("options", "Gold\r\nSilver\r\n"),
                ("required", "1"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    admin.post("/crm/settings/fields", &[("entity", "client"), ("label", "Size"), ("type", "number")]).await;
    admin.post("/crm/settings/fields", &[("entity", "deal"), ("label", "Source"), ("type", "text")]).await;
    let page = admin.get("/crm/settings/fields?entity=client").await;
    assert!(page.body.contains("<code>tier</code>") && page.body.contains("Gold\nSilver"), "{}", page.body);
    assert!(!page.body.contains("<code>source</code>"), "each kind of record on its own page");
    assert_eq!(agent.get("/crm/settings/fields").await.status, 403);

    // A client's page shows the values; its form refuses a bad one beside the field.
    let aziz = admin_api.post("/api/v1/clients", json!({"first_name": "Aziz", "custom": {"tier": "Gold"}})).await;
    let id = aziz.json()["id"].as_i64().unwrap();
    let shown = agent.get(&format!("/crm/clients/{id}")).await;
    assert!(shown.body.contains("<dt>Tier</dt><dd>Gold</dd>"), "{}", shown.body);
    let bad =
        agent.post(&format!("/crm/clients/{id}/custom"), &[("custom.tier", "Gold"), ("custom.size", "lots")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Enter a number.") && bad.body.contains("value=\"lots\""), "{}", bad.body);
    let saved =
        agent.post(&format!("/crm/clients/{id}/custom"), &[("custom.tier", "Silver"), ("custom.size", "12,5")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = admin_api.get(&format!("/api/v1/clients/{id}")).await.json();
    assert_eq!(stored["custom"], json!({"tier": "Silver", "size": 12.5}));
    let cleared = agent.post(&format!("/crm/clients/{id}/custom"), &[("custom.tier", "")]).await;
    assert!(cleared.body.contains("This field is required."), "a required value stays");

    // The list's menu filters by a select; the filter stays in the pages' links.
    admin_api.post("/api/v1/clients", json!({"first_name": "Bek", "custom": {"tier": "Gold"}})).await;
    let list = agent.get("/crm/clients?custom.tier=Silver").await;
    assert!(list.body.contains("Aziz") && !list.body.contains("Bek"), "{}", list.body);
    assert!(list.body.contains("<option value=\"Silver\" selected>Silver</option>"), "{}", list.body);
    let wrong = agent.get("/crm/clients?custom.tier=Bronze").await;
    assert!(wrong.body.contains("Pick one of the options."), "{}", wrong.body);

    // Companies and deals have the panel too.
    let pipeline = admin_api.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();
    let deal = admin_api.post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline})).await.json();
    let deal_id = deal["id"].as_i64().unwrap();
    let saved = agent.post(&format!("/crm/deals/{deal_id}/custom"), &[("custom.source", "Instagram")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(agent.get(&format!("/crm/deals/{deal_id}")).await.body.contains("<dt>Source</dt><dd>Instagram</dd>"));
    let company = admin_api.post("/api/v1/companies", json!({"name": "Akme"})).await.json();
    let form = agent.get(&format!("/crm/companies/{}?edit=custom", company["id"])).await;
    assert!(form.body.contains("No fields are defined for these records."), "{}", form.body);
}

#[tokio::test]
async fn a_merge_fills_the_survivors_missing_values_and_its_undo_takes_back_those_unchanged() {
    let app = TestApp::spawn().await;
    let (admin, browser) = app.api_and_browser(Role::Admin).await;
    field(&admin, json!({"entity": "client", "label": "Tier", "type": "select", "options": ["Gold", "Silver"]})).await;
    field(&admin, json!({"entity": "client", "label": "Size", "type": "number"})).await;
    field(&admin, json!({"entity": "client", "label": "Region", "type": "text"})).await;
    let aziz = admin.post("/api/v1/clients", json!({"first_name": "Aziz", "custom": {"tier": "Gold"}})).await.json();
    let twin = admin
        .post(
            "/api/v1/clients",
            json!({"first_name": "Aziz K", "custom": {"tier": "Silver", "size": 5, "region": "Tashkent"}}),
        )
        .await
        .json();
    let (id, twin_id) = (aziz["id"].as_i64().unwrap(), twin["id"].as_i64().unwrap());
    let merged = admin.post(&format!("/api/v1/clients/{id}/merge"), json!({"from_client_id": twin_id})).await;
    assert_eq!(merged.json()["custom"], json!({"tier": "Gold", "size": 5, "region": "Tashkent"}), "{}", merged.body);
    // Changed since: stays with the survivor when the merge is undone.
    admin.patch(&format!("/api/v1/clients/{id}"), json!({"custom": {"region": "Samarkand"}})).await;
    let restored = browser.post(&format!("/crm/clients/{twin_id}/restore"), &[]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(
        admin.get(&format!("/api/v1/clients/{id}")).await.json()["custom"],
        json!({"tier": "Gold", "region": "Samarkand"})
    );
    assert_eq!(
        admin.get(&format!("/api/v1/clients/{twin_id}")).await.json()["custom"]["size"],
        5,
        "the other keeps its own"
    );
}

#[tokio::test]
async fn the_company_list_filters_by_a_value_too() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    field(
        &admin,
        json!({"entity": "company", "label": "Segment", "type": "select", "options": ["Retail", "Wholesale"]}),
    )
    .await;
    for (name, segment) in [("Akme", "Retail"), ("Beta", "Wholesale"), ("Gamma", "Retail")] {
        admin.post("/api/v1/companies", json!({"name": name, "custom": {"segment": segment}})).await;
    }
    let listed = admin.get("/api/v1/companies?custom.segment=retail").await.json();
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!((names, listed["total"].as_i64()), (vec!["Akme", "Gamma"], Some(2)));
    assert_eq!(faults(&admin.get("/api/v1/companies?custom.tier=Gold").await)[0].0, "custom.tier");
}

#[tokio::test]
async fn the_seed_tags_clients_and_gives_them_tiers_once_however_often_it_runs() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 3000).await.unwrap();
    tx.commit().await.unwrap();
    let seeder = crm::services::seed::SeedService::new(app.pool.clone(), crm::events::EventBus::default());
    let tagged = seeder.client_tags(app.tenant).await.unwrap();
    assert!((500..=800).contains(&tagged), "about one in five, one in 100 and one in 1,000: {tagged}");
    assert_eq!(seeder.client_tiers(app.tenant).await.unwrap(), 3000, "every client a tier");
    assert_eq!(seeder.client_tags(app.tenant).await.unwrap(), 0, "a second run adds nothing");
    assert_eq!(seeder.client_tiers(app.tenant).await.unwrap(), 0);
    let platinum = app.scalar_i64("SELECT count(*) FROM clients WHERE custom @> '{\"tier\": \"Platinum\"}'").await;
    assert!((5..=70).contains(&platinum), "about one in a hundred: {platinum}");
    let fields = app.api(Role::Admin).await.get("/api/v1/custom-fields?entity=client").await.json();
    assert_eq!(fields["items"][0]["options"], json!(["Platinum", "Gold", "Silver", "Bronze"]));
}

#[tokio::test]
async fn the_client_list_shows_chosen_fields_as_columns_and_a_saved_view_keeps_them() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    field(&api, json!({"entity": "client", "key": "tier", "label": "Loyalty tier", "type": "select", "options": ["Gold", "Silver"]})).await;
    field(&api, json!({"entity": "client", "key": "vip", "label": "VIP", "type": "boolean"})).await;
    field(&api, json!({"entity": "client", "key": "langs", "label": "Languages", "type": "multiselect", "options": ["en", "ru"]})).await;
    api.post(
        "/api/v1/clients",
        json!({"first_name": "Ann", "custom": {"tier": "Gold", "vip": true, "langs": ["ru", "en"]}}),
    )
    .await;
    api.post("/api/v1/clients", json!({"first_name": "Bob"})).await;
    let browser = app.sign_in_as(Role::Agent).await;

    let plain = browser.get("/crm/clients?sort=name").await.body;
    assert!(!plain.contains("<th scope=\"col\">Loyalty tier</th>"), "no custom column unless chosen");
    assert!(plain.contains(r#"name="cols" value="tier" class="filter-change">"#), "offered in the Columns menu");

    // Chosen columns show in the fields' order whatever the address's, values as pages show them.
    let page = browser.get("/crm/clients?sort=name&cols=langs&cols=vip&cols=tier&cols=nope").await.body;
    let heads: Vec<&str> = ["Loyalty tier", "VIP", "Languages"]
        .into_iter()
        .filter(|h| page.contains(&format!("<th scope=\"col\">{h}</th>")))
        .collect();
    assert_eq!(heads, ["Loyalty tier", "VIP", "Languages"], "{page}");
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} missing: {page}"));
    assert!(at("<th scope=\"col\">Loyalty tier</th>") < at("<th scope=\"col\">VIP</th>"));
    for cell in [
        r#"<td data-label="Loyalty tier">Gold</td>"#,
        r#"<td data-label="VIP">Yes</td>"#,
        r#"<td data-label="Languages">en, ru</td>"#,
        r#"<td data-label="Loyalty tier"></td>"#,
    ] {
        assert!(page.contains(cell), "{cell} missing: {page}");
    }
    assert!(page.contains(r#"name="cols" value="tier" checked class="filter-change">"#));

    // A saved view keeps the columns with the filters.
    let csrf = browser.get("/crm/clients").await.csrf().unwrap();
    let saved = browser
        .post(
            "/crm/views",
            &[("_csrf", &csrf), ("entity", "clients"), ("name", "Tiers"), ("query", "sort=name&cols=tier")],
        )
        .await;
    assert_eq!(saved.location(), Some("/crm/clients?sort=name&cols=tier"));
    let opened = browser.get(saved.location().unwrap()).await.body;
    assert!(opened.contains(r#"<td data-label="Loyalty tier">Gold</td>"#), "{opened}");
}

#[tokio::test]
async fn a_new_record_asks_for_its_required_fields_on_its_page_and_through_the_api() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let select = json!({"entity": "client", "key": "tier", "label": "Tier", "type": "select", "options": ["Gold", "Silver"], "required": true});
    field(&admin, select).await;
    field(&admin, json!({"entity": "company", "key": "size", "label": "Staff", "type": "number", "required": true}))
        .await;
    field(&admin, json!({"entity": "deal", "key": "source", "label": "Source", "type": "text", "required": true}))
        .await;

    // Through the API, a company or deal sent without its required value is refused by name.
    let refused = admin.post("/api/v1/companies", json!({"name": "Acme"})).await;
    assert_eq!(faults(&refused), [("custom.size".to_owned(), "This field is required.".to_owned())]);
    assert_eq!(admin.post("/api/v1/companies", json!({"name": "Acme", "custom": {"size": 40}})).await.status, 201);
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0]["id"].clone();
    let deal = admin.post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline})).await;
    assert_eq!(faults(&deal), [("custom.source".to_owned(), "This field is required.".to_owned())]);

    // The new-client page asks for them too, keeps what was typed, and says why beside it.
    let browser = app.sign_in_as(Role::Agent).await;
    let form = browser.get("/crm/clients/new").await.body;
    assert!(form.contains(r#"name="custom.tier""#), "{form}");
    let missing = browser.post("/crm/clients", &[("first_name", "Ann")]).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing.body.contains(r#"value="Ann""#) && missing.body.contains("This field is required."),
        "{}",
        missing.body
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0, "nothing half-written");
    let made = browser.post("/crm/clients", &[("first_name", "Ann"), ("custom.tier", "Gold")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let custom: serde_json::Value =
        sqlx::query_scalar("SELECT custom FROM clients").fetch_one(&app.owner_pool().await).await.unwrap();
    assert_eq!(custom, json!({"tier": "Gold"}));

    // So do the new company and deal pages.
    browser.get("/crm/companies/new").await;
    let wrong = browser.post("/crm/companies", &[("name", "Globex"), ("custom.size", "many")]).await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("Enter a number.") && wrong.body.contains(r#"value="many""#), "{}", wrong.body);
    let ok = browser.post("/crm/companies", &[("name", "Globex"), ("custom.size", "12")]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let deal_form = browser.get("/crm/deals/new").await.body;
    assert!(deal_form.contains(r#"name="custom.source""#), "{deal_form}");
    let pipeline = pipeline.to_string();
    let made = browser
        .post("/crm/deals", &[("title", "Flat"), ("pipeline_id", &pipeline), ("custom.source", "Website")])
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
}

#[tokio::test]
async fn the_company_and_deal_lists_show_chosen_fields_as_columns_too() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    field(&api, json!({"entity": "company", "key": "staff", "label": "Staff", "type": "number"})).await;
    field(&api, json!({"entity": "deal", "key": "hot", "label": "Hot lead", "type": "boolean"})).await;
    api.post("/api/v1/companies", json!({"name": "Acme", "custom": {"staff": 40}})).await;
    let pipeline = api.get("/api/v1/pipelines").await.json()["items"][0]["id"].clone();
    api.post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline, "custom": {"hot": true}})).await;
    let browser = app.sign_in_as(Role::Agent).await;

    let plain = browser.get("/crm/companies").await.body;
    assert!(plain.contains(r#"name="cols" value="staff" data-autosubmit>"#), "{plain}");
    assert!(!plain.contains("<th scope=\"col\">Staff</th>"));
    let companies = browser.get("/crm/companies?cols=staff").await.body;
    assert!(
        companies.contains("<th scope=\"col\">Staff</th>") && companies.contains(r#"<td data-label="Staff">40</td>"#),
        "{companies}"
    );
    assert!(companies.contains(r#"name="cols" value="staff" checked data-autosubmit>"#));

    let deals = browser.get("/crm/deals/list?cols=hot&sort=title").await.body;
    assert!(
        deals.contains("<th scope=\"col\">Hot lead</th>") && deals.contains(r#"<td data-label="Hot lead">Yes</td>"#),
        "{deals}"
    );
    // The columns stay in the export link, the pages and what a saved view would keep.
    assert!(deals.contains("cols=hot"), "{deals}");
}
