//! Sales pipelines and their stages: the one every tenant starts with, what admins change
//! through the API and the settings page, what they may not, and the tenant walls.

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn names(pipeline: &Value) -> Vec<&str> {
    pipeline["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect()
}

fn stage_ids(pipeline: &Value) -> Vec<i64> {
    pipeline["stages"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_tenant_starts_with_sales_and_an_admin_shapes_pipelines_and_stages() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let list = api.get("/api/v1/pipelines").await.json();
    assert_eq!(list["total"], 1);
    let sales = &list["items"][0];
    assert_eq!(sales["name"], "Sales");
    assert_eq!(names(sales), ["New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]);
    let kinds: Vec<&str> = sales["stages"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["open", "open", "open", "open", "won", "lost"]);
    assert_eq!(sales["stages"][4]["probability"], 100);

    // A new pipeline with its stages; then a stage added, changed, moved and deleted.
    let made = api
        .post(
            "/api/v1/pipelines",
            json!({"name": "Rentals", "stages": [{"name": "Viewing"}, {"name": "Signed", "kind": "won"}, {"name": "Gone", "kind": "lost", "color": "#AA0000"}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let rentals = made.json();
    let id = rentals["id"].as_i64().unwrap();
    assert_eq!(rentals["stages"][2]["color"], "#aa0000");
    let added = api.post(&format!("/api/v1/pipelines/{id}/stages"), json!({"name": "Offer", "probability": 60})).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let offer = added.json()["id"].as_i64().unwrap();
    let changed = api
        .patch(&format!("/api/v1/pipelines/{id}/stages/{offer}"), json!({"name": "Offer made", "kind": "open"}))
        .await;
    assert_eq!((changed.status, changed.json()["probability"].clone()), (200, json!(60)), "{}", changed.body);
    let ids = stage_ids(&api.get(&format!("/api/v1/pipelines/{id}")).await.json());
    let order = [ids[0], ids[3], ids[1], ids[2]];
    let ordered = api.put(&format!("/api/v1/pipelines/{id}/stage-order"), json!({"stage_ids": order})).await;
    assert_eq!(names(&ordered.json()), ["Viewing", "Offer made", "Signed", "Gone"]);
    assert_eq!(api.delete(&format!("/api/v1/pipelines/{id}/stages/{}", ids[0])).await.status, 204);
    let renamed = api.patch(&format!("/api/v1/pipelines/{id}"), json!({"name": "Lettings"})).await.json();
    assert_eq!((renamed["name"].as_str(), names(&renamed)), (Some("Lettings"), vec!["Offer made", "Signed", "Gone"]));
    assert_eq!(api.delete(&format!("/api/v1/pipelines/{id}")).await.status, 204);
    assert_eq!(api.get(&format!("/api/v1/pipelines/{id}")).await.status, 404);

    let audited = app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'pipeline'").await;
    assert_eq!(audited, 7, "created, stage added, changed, reordered, deleted, renamed, deleted");
}

#[tokio::test]
async fn bad_pipelines_and_stages_are_refused_naming_what_is_wrong() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let sales = api.get("/api/v1/pipelines").await.json()["items"][0].clone();
    let id = sales["id"].as_i64().unwrap();
    let ids = stage_ids(&sales);

    let bad = api
        .post(
            "/api/v1/pipelines",
            json!({"name": "", "stages": [{"name": "A"}, {"name": "", "kind": "maybe", "probability": 120}]}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields = bad.json()["error"]["fields"].clone();
    for field in ["name", "stages[1].name", "stages[1].kind", "stages[1].probability"] {
        assert!(fields.get(field).is_some(), "{field} in {fields}");
    }
    let closed =
        api.post("/api/v1/pipelines", json!({"name": "Closed", "stages": [{"name": "Won", "kind": "won"}]})).await;
    assert!(closed.status == 422 && closed.body.contains("open stage"), "{}", closed.body);
    let twin = api.post("/api/v1/pipelines", json!({"name": "sales", "stages": [{"name": "New"}]})).await;
    assert_eq!(twin.status, 409, "{}", twin.body);
    let same = api.post(&format!("/api/v1/pipelines/{id}/stages"), json!({"name": "qualified"})).await;
    assert!(same.status == 422 && same.json()["error"]["fields"].get("name").is_some(), "{}", same.body);
    let colour = api.patch(&format!("/api/v1/pipelines/{id}/stages/{}", ids[0]), json!({"color": "blue"})).await;
    assert!(colour.status == 422 && colour.json()["error"]["fields"].get("color").is_some(), "{}", colour.body);
    let order = api.put(&format!("/api/v1/pipelines/{id}/stage-order"), json!({"stage_ids": &ids[1..]})).await;
    assert!(order.status == 422 && order.json()["error"]["fields"].get("stage_ids").is_some(), "{}", order.body);
    let to_itself = api.delete(&format!("/api/v1/pipelines/{id}/stages/{}?move_to={}", ids[0], ids[0])).await;
    assert_eq!(to_itself.status, 422, "{}", to_itself.body);

    // The open stages go one by one; the last one stays.
    for stage in &ids[..3] {
        assert_eq!(api.delete(&format!("/api/v1/pipelines/{id}/stages/{stage}")).await.status, 204);
    }
    let last = api.delete(&format!("/api/v1/pipelines/{id}/stages/{}", ids[3])).await;
    assert!(last.status == 422 && last.body.contains("open stage"), "{}", last.body);
    let to_won = api.patch(&format!("/api/v1/pipelines/{id}/stages/{}", ids[3]), json!({"kind": "won"})).await;
    assert_eq!(to_won.status, 422, "{}", to_won.body);
    let only = api.delete(&format!("/api/v1/pipelines/{id}")).await;
    assert!(only.status == 422 && only.body.contains("last pipeline"), "{}", only.body);
    assert_eq!(names(&api.get(&format!("/api/v1/pipelines/{id}")).await.json()), ["Negotiation", "Won", "Lost"]);
}

#[tokio::test]
async fn agents_and_viewers_read_pipelines_only_admins_change_them_and_other_tenants_see_none() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let sales = admin.get("/api/v1/pipelines").await.json()["items"][0].clone();
    let (id, stage) = (sales["id"].as_i64().unwrap(), sales["stages"][0]["id"].as_i64().unwrap());
    for role in [Role::Agent, Role::Viewer] {
        let api = app.api(role).await;
        assert_eq!(api.get(&format!("/api/v1/pipelines/{id}")).await.status, 200, "{role} reads");
        assert_eq!(api.post("/api/v1/pipelines", json!({"name": "Mine", "stages": [{"name": "A"}]})).await.status, 403);
        assert_eq!(
            api.patch(&format!("/api/v1/pipelines/{id}/stages/{stage}"), json!({"name": "X"})).await.status,
            403
        );
        assert_eq!(api.delete(&format!("/api/v1/pipelines/{id}/stages/{stage}")).await.status, 403);
    }

    let (rival, _) = app.create_tenant("Rival").await;
    let theirs = app.api_in(rival, Role::Admin).await;
    let list = theirs.get("/api/v1/pipelines").await.json();
    assert_eq!(list["total"], 1, "their own Sales only");
    assert_ne!(list["items"][0]["id"], id);
    assert_eq!(theirs.get(&format!("/api/v1/pipelines/{id}")).await.status, 404);
    assert_eq!(theirs.patch(&format!("/api/v1/pipelines/{id}"), json!({"name": "Mine"})).await.status, 404);
    assert_eq!(theirs.post(&format!("/api/v1/pipelines/{id}/stages"), json!({"name": "Mine"})).await.status, 404);
    assert_eq!(theirs.patch(&format!("/api/v1/pipelines/{id}/stages/{stage}"), json!({"name": "X"})).await.status, 404);
    assert_eq!(theirs.delete(&format!("/api/v1/pipelines/{id}/stages/{stage}")).await.status, 404);
    assert_eq!(theirs.delete(&format!("/api/v1/pipelines/{id}")).await.status, 404);
    assert_eq!(names(&admin.get(&format!("/api/v1/pipelines/{id}")).await.json())[0], "New", "nothing changed");
}

#[tokio::test]
async fn the_default_pipeline_is_named_in_the_tenants_language() {
    let app = TestApp::spawn().await;
    let owner = app.owner_pool().await;
    let tenant = app.tenant.0;
    for (locale, first) in [("ru", "Продажи"), ("uz", "Savdo")] {
        let _: i64 = sqlx::query_scalar("SELECT create_default_pipeline($1, $2)")
            .bind(tenant)
            .bind(locale)
            .fetch_one(&owner)
            .await
            .unwrap();
        let name: String = sqlx::query_scalar("SELECT name FROM pipelines WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(first)
            .fetch_one(&owner)
            .await
            .unwrap();
        assert_eq!(name, first);
    }
    let won: String = sqlx::query_scalar(
        "SELECT s.name FROM pipeline_stages s JOIN pipelines p ON p.tenant_id = s.tenant_id AND p.id = s.pipeline_id
         WHERE p.name = 'Продажи' AND s.kind = 'won'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(won, "Выиграна");
}

#[tokio::test]
async fn an_admin_keeps_stages_on_the_settings_page_and_a_refused_one_says_why_beside_it() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let page = admin.get("/crm/settings/pipelines").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Negotiation") && page.body.contains("Add stage"), "{}", page.body);
    let api = app.api(Role::Admin).await;
    let sales = api.get("/api/v1/pipelines").await.json()["items"][0].clone();
    let (id, ids) = (sales["id"].as_i64().unwrap(), stage_ids(&sales));

    let refused = admin.post(&format!("/crm/settings/pipelines/{id}/stages"), &[("name", ""), ("kind", "open")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("This field is required."), "the reason beside the field");
    let added = admin
        .post(&format!("/crm/settings/pipelines/{id}/stages"), &[("name", "Contract sent"), ("kind", "open")])
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let moved = admin.post(&format!("/crm/settings/pipelines/{id}/stages/{}/later", ids[0]), &[]).await;
    assert_eq!(moved.status, 303);
    let edited = admin
        .post(
            &format!("/crm/settings/pipelines/{id}/stages/{}", ids[1]),
            &[("name", "Qualified lead"), ("kind", "open"), ("probability", "abc"), ("color", "#0ea5e9")],
        )
        .await;
    assert_eq!(edited.status, 422);
    assert!(
        edited.body.contains("Enter a whole number from 0 to 100.") && edited.body.contains("Qualified lead"),
        "typed kept"
    );
    let now = api.get(&format!("/api/v1/pipelines/{id}")).await.json();
    assert_eq!(names(&now), ["Qualified", "New", "Proposal", "Negotiation", "Won", "Lost", "Contract sent"]);

    let made = admin.post("/crm/settings/pipelines", &[("name", "Rentals")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let rentals = api.get("/api/v1/pipelines").await.json()["items"][1].clone();
    assert_eq!(names(&rentals), ["New", "Won", "Lost"]);

    let agent = app.sign_in_as(Role::Agent).await;
    assert_eq!(agent.get("/crm/settings/pipelines").await.status, 403);
}
