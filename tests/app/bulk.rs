//! Bulk actions: chosen records or every match of a filter, run in the background a chunk at
//! a time; exactly once with two nodes, resumed after a dead node's last chunk, refused by
//! field and permission, and reported by id where a record was gone.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, refusal, said};
use crm::domain::Role;
use crm::events::EventBus;
use crm::services::BulkService;

/// Runs queued jobs on this node until none is left.
async fn drain(service: &BulkService) {
    let (_, stop) = tokio::sync::watch::channel(false);
    while service.step(&stop).await.unwrap() {}
}

async fn job(api: &Api, id: &Value) -> Value {
    api.get(&format!("/api/v1/jobs/{id}")).await.json()
}

#[tokio::test]
async fn clients_are_tagged_by_id_and_by_filter_and_what_was_gone_is_named() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let vip = admin.post("/api/v1/tags", json!({"name": "VIP"})).await.json();
    let lead = admin.post("/api/v1/tags", json!({"name": "Lead"})).await.json();
    let mut ids = Vec::new();
    for i in 0..7 {
        let c = admin.post("/api/v1/clients", json!({"first_name": format!("Bulk {i}"), "tag_ids": if i < 4 { vec![lead["id"].clone()] } else { vec![] }})).await.json();
        ids.push(c["id"].as_i64().unwrap());
    }
    let started = admin
        .post("/api/v1/bulk", json!({"entity": "clients", "ids": [ids[0], ids[1], 999_999], "action": "add_tags", "params": {"tag_ids": [vip["id"]]}}))
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    let started = started.json();
    assert_eq!((started["status"].as_str(), started["total"].as_i64()), (Some("queued"), Some(3)));
    drain(&app.state.bulk).await;
    let done = job(&admin, &started["job_id"]).await;
    assert_eq!(
        (done["status"].as_str(), done["done"].as_i64(), done["failed"].as_i64()),
        (Some("done"), Some(2), Some(1)),
        "{done}"
    );
    assert_eq!(done["failures"], json!([{"id": 999_999, "code": "not_found"}]));
    let tagged = admin.get(&format!("/api/v1/clients?tag_id={}", vip["id"])).await.json();
    assert_eq!(tagged["total"], 2);
    let timeline = admin.get(&format!("/api/v1/clients/{}/activity", ids[0])).await.json();
    assert_eq!(timeline["items"][0]["kind"], "tagged");
    assert_eq!(timeline["items"][0]["summary"], "tags +VIP");

    // Every client with Lead: four.
    let by_filter = admin
        .post("/api/v1/bulk", json!({"entity": "clients", "filter": {"tag_id": lead["id"]}, "action": "add_tags", "params": {"tag_ids": [vip["id"]]}}))
        .await
        .json();
    assert_eq!(by_filter["total"], 4);
    drain(&app.state.bulk).await;
    // The two tagged first carry Lead too: four in all.
    assert_eq!(admin.get(&format!("/api/v1/clients?tag_id={}", vip["id"])).await.json()["total"], 4);

    // Then off again, and an export of the chosen.
    let off = admin
        .post(
            "/api/v1/bulk",
            json!({"entity": "clients", "ids": ids, "action": "remove_tags", "params": {"tag_ids": [vip["id"]]}}),
        )
        .await
        .json();
    let export = admin
        .post("/api/v1/bulk", json!({"entity": "clients", "ids": [ids[5], ids[6]], "action": "export"}))
        .await
        .json();
    drain(&app.state.bulk).await;
    assert_eq!(job(&admin, &off["job_id"]).await["done"], 7);
    assert_eq!(admin.get(&format!("/api/v1/clients?tag_id={}", vip["id"])).await.json()["total"], 0);
    let exported = job(&admin, &export["job_id"]).await;
    let url = exported["result_url"].as_str().expect("a file").to_owned();
    let csv = admin.get(&url).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("Bulk 5") && csv.body.contains("Bulk 6") && !csv.body.contains("Bulk 4"), "{}", csv.body);
}

#[tokio::test]
async fn a_bulk_action_is_refused_by_field_and_permission_and_another_tenant_sees_no_job() {
    let app = TestApp::spawn().await;
    let (admin, agent, viewer) = (app.api(Role::Admin).await, app.api(Role::Agent).await, app.api(Role::Viewer).await);
    let locked = admin.post("/api/v1/tags", json!({"name": "Key", "locked": true})).await.json();
    let client = agent.post("/api/v1/clients", json!({"first_name": "Aziz"})).await.json();
    let ids = json!([client["id"]]);
    for (body, field, code) in [
        (json!({"entity": "people", "ids": ids, "action": "delete"}), "entity", "invalid_entity"),
        (json!({"entity": "clients", "ids": ids, "action": "fly"}), "action", "unsupported_action"),
        (json!({"entity": "clients", "ids": ids, "action": "add_tags", "params": {}}), "tag_ids", "required"),
        (
            json!({"entity": "clients", "ids": ids, "action": "add_tags", "params": {"tag_ids": [locked["id"]]}}),
            "tag_ids",
            "locked_tag",
        ),
        (
            json!({"entity": "clients", "ids": ids, "action": "set_owner", "params": {"owner_id": 999_999}}),
            "owner_id",
            "unknown_user",
        ),
        (json!({"entity": "clients", "ids": [], "action": "export"}), "ids", "no_targets"),
        (json!({"entity": "clients", "action": "export"}), "ids", "required"),
    ] {
        let refused = agent.post("/api/v1/bulk", body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert_eq!(refusal(&refused, field), said(code), "{body}");
    }
    assert_eq!(
        agent.post("/api/v1/bulk", json!({"entity": "clients", "ids": ids, "action": "delete"})).await.status,
        403,
        "agents may not delete clients"
    );
    assert_eq!(
        viewer.post("/api/v1/bulk", json!({"entity": "clients", "ids": ids, "action": "export"})).await.status,
        403
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM jobs").await, 0, "nothing queued");

    // Under own visibility, an agent's chosen ids they do not reach are refused by id, untouched.
    let plain = admin.post("/api/v1/tags", json!({"name": "Plain"})).await.json();
    let admins = admin.post("/api/v1/clients", json!({"first_name": "Not yours"})).await.json();
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    let reach = agent
        .post("/api/v1/bulk", json!({"entity": "clients", "ids": [client["id"], admins["id"]], "action": "add_tags", "params": {"tag_ids": [plain["id"]]}}))
        .await
        .json();
    assert_eq!((reach["total"].as_i64(), reach["failed"].as_i64()), (Some(2), Some(1)), "{reach}");
    assert_eq!(reach["failures"], json!([{"id": admins["id"], "code": "not_found"}]));
    drain(&app.state.bulk).await;
    let after = job(&agent, &reach["job_id"]).await;
    assert_eq!(
        (after["status"].as_str(), after["done"].as_i64(), after["failed"].as_i64()),
        (Some("done"), Some(1), Some(1))
    );
    let tagged = app.scalar_i64(&format!("SELECT count(*) FROM client_tags WHERE tag_id = {}", plain["id"])).await;
    assert_eq!(tagged, 1, "only the agent's own client");
    admin.patch("/api/v1/settings", json!({"record_visibility": "all"})).await;

    let mine = agent.post("/api/v1/bulk", json!({"entity": "clients", "ids": ids, "action": "export"})).await.json();
    let (tenant, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(tenant, Role::Admin).await;
    assert_eq!(stranger.get(&format!("/api/v1/jobs/{}", mine["job_id"])).await.status, 404);
    let colleague = app.api(Role::Agent).await;
    assert_eq!(colleague.get(&format!("/api/v1/jobs/{}", mine["job_id"])).await.status, 404, "another agent's job");
    assert_eq!(admin.get(&format!("/api/v1/jobs/{}", mine["job_id"])).await.status, 200, "an admin sees it");
}

#[tokio::test]
async fn two_nodes_run_a_job_once_and_a_dead_nodes_job_resumes_after_its_last_chunk() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let tag = admin.post("/api/v1/tags", json!({"name": "Spring"})).await.json();
    let owner = app.owner_pool().await;
    let tenant = app.tenant.0;
    sqlx::query(
        "INSERT INTO clients (tenant_id, first_name) SELECT $1, 'Seeded ' || g FROM generate_series(1, 1600) g",
    )
    .bind(tenant)
    .execute(&owner)
    .await
    .unwrap();
    let node = |bus: EventBus| {
        let (app, bus) = (&app, bus);
        async move {
            let pool = crm::db::app_pool(app.owner.clone(), 5).await.unwrap();
            BulkService::new(pool, bus, app.state.files.clone())
        }
    };
    let (a, b) = (node(EventBus::default()).await, node(EventBus::default()).await);

    // Two jobs, two nodes stepping at once: each job runs once, wholly.
    let first = admin.post("/api/v1/bulk", json!({"entity": "clients", "filter": {"q": "Seeded"}, "action": "add_tags", "params": {"tag_ids": [tag["id"]]}})).await.json();
    let second = admin
        .post(
            "/api/v1/bulk",
            json!({"entity": "clients", "filter": {}, "action": "set_owner", "params": {"owner_id": null}}),
        )
        .await
        .json();
    assert_eq!(first["total"], 1600);
    let (_, stop) = tokio::sync::watch::channel(false);
    let (x, y) = tokio::join!(a.step(&stop), b.step(&stop));
    assert!(x.unwrap() && y.unwrap(), "each node took a job");
    let (one, two) = (job(&admin, &first["job_id"]).await, job(&admin, &second["job_id"]).await);
    assert_eq!((one["status"].as_str(), one["done"].as_i64()), (Some("done"), Some(1600)), "{one}");
    assert_eq!(two["status"], "done", "{two}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_tags").await, 1600, "each once");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM activities WHERE kind = 'tagged'").await, 1600);

    // A node that died after its first chunk: the job is running under its token, quiet.
    let third = admin.post("/api/v1/bulk", json!({"entity": "clients", "filter": {"q": "Seeded"}, "action": "remove_tags", "params": {"tag_ids": [tag["id"]]}})).await.json();
    let cursor: i64 =
        sqlx::query_scalar("SELECT item_id FROM job_items WHERE job_id = $1 ORDER BY item_id OFFSET 499 LIMIT 1")
            .bind(third["job_id"].as_i64().unwrap())
            .fetch_one(&owner)
            .await
            .unwrap();
    sqlx::query(
        "UPDATE jobs SET status = 'running', run_token = gen_random_uuid(), heartbeat_at = now() - interval '1 minute',
                started_at = now(), cursor = $2, done = 500 WHERE id = $1",
    )
    .bind(third["job_id"].as_i64().unwrap())
    .bind(cursor)
    .execute(&owner)
    .await
    .unwrap();
    let _background = app.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let now = job(&admin, &third["job_id"]).await;
        if now["status"] == "done" {
            assert_eq!(now["done"], 1600, "{now}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never resumed: {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The dead node's 500 were not done again: their tags are still on.
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_tags").await, 500);
}
