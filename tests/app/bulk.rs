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
            BulkService::new(pool, bus, app.state.files.clone(), app.state.chats.clone())
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

#[tokio::test]
async fn a_stopping_node_hands_its_job_back_after_its_chunk_and_another_finishes_it() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let tag = admin.post("/api/v1/tags", json!({"name": "Autumn"})).await.json();
    sqlx::query(
        "INSERT INTO clients (tenant_id, first_name) SELECT $1, 'Seeded ' || g FROM generate_series(1, 1200) g",
    )
    .bind(app.tenant.0)
    .execute(&app.owner_pool().await)
    .await
    .unwrap();
    let started = admin.post("/api/v1/bulk", json!({"entity": "clients", "filter": {"q": "Seeded"}, "action": "add_tags", "params": {"tag_ids": [tag["id"]]}})).await.json();

    // A node told to stop finishes the chunk in hand, then gives the job back to the queue.
    let stopping = BulkService::new(
        crm::db::app_pool(app.owner.clone(), 5).await.unwrap(),
        EventBus::default(),
        app.state.files.clone(),
        app.state.chats.clone(),
    );
    let (_, stop) = tokio::sync::watch::channel(true);
    assert!(stopping.step(&stop).await.unwrap(), "it took the job");
    let handed = job(&admin, &started["job_id"]).await;
    assert_eq!((handed["status"].as_str(), handed["done"].as_i64()), (Some("queued"), Some(500)), "{handed}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM jobs WHERE run_token IS NOT NULL").await, 0, "no token held");

    // Another node takes it at once (no waiting for a stale heartbeat) and does the rest once.
    drain(&app.state.bulk).await;
    let done = job(&admin, &started["job_id"]).await;
    assert_eq!((done["status"].as_str(), done["done"].as_i64()), (Some("done"), Some(1200)), "{done}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_tags").await, 1200);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM activities WHERE kind = 'tagged'").await, 1200, "each once");
}

#[tokio::test]
async fn a_template_goes_to_each_client_paced_per_transport_and_who_it_cannot_reach_is_named() {
    let unused = || {
        std::sync::Arc::new(crate::chats::HttpProvider {
            url: "http://127.0.0.1:9/unused".into(),
            http: reqwest::Client::new(),
            lookups: false,
        })
    };
    let providers = crm::services::Providers::default()
        .with(crm::domain::chat::Transport::Sms, unused())
        .with(crm::domain::chat::Transport::Telegram, unused());
    let app = TestApp::spawn_with_providers(providers).await;
    let admin = app.api(Role::Admin).await;
    let hello = admin
        .post("/api/v1/message-templates", json!({"template": "Hello {{client.first_name}}, your car is ready"}))
        .await
        .json();
    let dear = admin.post("/api/v1/message-templates", json!({"template": "Dear {{client.last_name}}"})).await.json();
    let mut phones = Vec::new();
    for i in 0..4 {
        let c = admin
            .post("/api/v1/clients", json!({"first_name": format!("Paced {i}"), "phone": format!("+99890111000{i}")}))
            .await;
        assert_eq!(c.status, 201, "{}", c.body);
        phones.push(c.json()["id"].as_i64().unwrap());
    }
    let silent = admin.post("/api/v1/clients", json!({"first_name": "No phone"})).await.json()["id"].as_i64().unwrap();

    // Refused before anything is queued, each by its field.
    let start = |body: Value| {
        let admin = &admin;
        async move { admin.post("/api/v1/bulk", body).await }
    };
    let mut body =
        json!({"entity": "clients", "ids": phones, "action": "send_template", "params": {"template_id": 999_999}});
    assert_eq!(refusal(&start(body.clone()).await, "template_id"), said("not_found"));
    body["params"] = json!({"template_id": hello["id"], "transport": "whatsapp"});
    assert_eq!(refusal(&start(body.clone()).await, "transport"), said("channel_not_configured"));
    body["entity"] = json!("companies");
    assert_eq!(refusal(&start(body.clone()).await, "action"), said("unsupported_action"));
    let viewer = app.api(Role::Viewer).await;
    let refused = viewer.post("/api/v1/bulk", json!({"entity": "clients", "ids": phones, "action": "send_template", "params": {"template_id": hello["id"]}})).await;
    assert_eq!(refused.status, 403);

    // Four clients by SMS (the first transport that reaches them), one without any contact.
    let mut ids = phones.clone();
    ids.push(silent);
    let first = start(
        json!({"entity": "clients", "ids": ids, "action": "send_template", "params": {"template_id": hello["id"]}}),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.body);
    drain(&app.state.bulk).await;
    let done = job(&admin, &first.json()["job_id"]).await;
    assert_eq!(
        (done["status"].as_str(), done["done"].as_i64(), done["failed"].as_i64()),
        (Some("done"), Some(4), Some(1)),
        "{done}"
    );
    assert_eq!(done["failures"], json!([{"id": silent, "code": "no_contact"}]));
    let texts: Vec<String> = sqlx::query_scalar("SELECT body FROM messages WHERE transport = 'sms' ORDER BY id")
        .fetch_all(&app.owner_pool().await)
        .await
        .unwrap();
    assert_eq!(texts, (0..4).map(|i| format!("Hello Paced {i}, your car is ready")).collect::<Vec<_>>());
    // One a second on SMS: the first goes now, the rest wait their turn as scheduled, and
    // each is due in the outbox at its time.
    let paced = "SELECT m.status, coalesce(extract(epoch FROM m.send_at - min(d.due_at) OVER ()), 0)::float8,
                        (d.due_at = coalesce(m.send_at, d.due_at))
                 FROM messages m JOIN message_deliveries d ON d.message_id = m.id ORDER BY m.id";
    let rows: Vec<(String, f64, bool)> = sqlx::query_as(paced).fetch_all(&app.owner_pool().await).await.unwrap();
    assert_eq!(rows[0].0, "queued", "{rows:?}");
    for (k, (status, after, due_then)) in rows.iter().enumerate().skip(1) {
        assert_eq!(status, "scheduled", "{rows:?}");
        assert!((*after - k as f64).abs() < 0.25, "message {k} {after} s after the first: {rows:?}");
        assert!(due_then, "{rows:?}");
    }
    let out = app.scalar_i64("SELECT count(*) FROM activities WHERE kind = 'message_out'").await;
    assert_eq!(out, 4, "each on its client's timeline");

    // A second job shares the tenant's SMS pace: its message waits behind the first job's.
    let again = start(json!({"entity": "clients", "ids": [phones[0]], "action": "send_template", "params": {"template_id": hello["id"], "transport": "sms"}})).await;
    assert_eq!(again.status, 202, "{}", again.body);
    drain(&app.state.bulk).await;
    let gap = app
        .scalar_i64(
            "SELECT (extract(epoch FROM max(send_at) - (SELECT max(send_at) FROM messages WHERE id < (SELECT max(id) FROM messages))) * 1000)::bigint FROM messages",
        )
        .await;
    assert!((900..1300).contains(&gap), "the next slot, {gap} ms after the first job's last");

    // Telegram: nobody has it. A variable a client has no value for. Deals: their client.
    let tg = start(json!({"entity": "clients", "ids": [phones[1]], "action": "send_template", "params": {"template_id": hello["id"], "transport": "telegram"}})).await.json();
    let unfilled = start(json!({"entity": "clients", "ids": [phones[2]], "action": "send_template", "params": {"template_id": dear["id"]}})).await.json();
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0]["id"].clone();
    let deal = |client: Option<i64>| {
        let (admin, pipeline) = (&admin, pipeline.clone());
        async move {
            admin
                .post("/api/v1/deals", json!({"title": "Car", "pipeline_id": pipeline, "client_id": client}))
                .await
                .json()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let (with, twice, without) = (deal(Some(phones[3])).await, deal(Some(phones[3])).await, deal(None).await);
    let deals = start(json!({"entity": "deals", "ids": [with, twice, without], "action": "send_template", "params": {"template_id": hello["id"]}})).await;
    assert_eq!(deals.status, 202, "{}", deals.body);
    drain(&app.state.bulk).await;
    assert_eq!(job(&admin, &tg["job_id"]).await["failures"], json!([{"id": phones[1], "code": "no_contact"}]));
    assert_eq!(
        job(&admin, &unfilled["job_id"]).await["failures"],
        json!([{"id": phones[2], "code": "unfilled_variables"}])
    );
    let deals = job(&admin, &deals.json()["job_id"]).await;
    assert_eq!(deals["done"], 1, "{deals}");
    assert_eq!(
        deals["failures"],
        json!([{"id": twice, "code": "client_already_sent"}, {"id": without, "code": "no_client"}])
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM messages").await, 6, "4 + 1 + the deal's client");

    // Under `own`, an agent's deal whose client is not theirs sends that client nothing.
    let agent = app.api(Role::Agent).await;
    let agent_id = agent.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    assert_eq!(admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await.status, 200);
    let theirs = admin
        .post(
            "/api/v1/deals",
            json!({"title": "Car", "pipeline_id": pipeline, "client_id": phones[0], "owner_id": agent_id}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let refused = agent.post("/api/v1/bulk", json!({"entity": "deals", "ids": [theirs], "action": "send_template", "params": {"template_id": hello["id"]}})).await;
    assert_eq!(refused.status, 202, "{}", refused.body);
    drain(&app.state.bulk).await;
    let refused = job(&admin, &refused.json()["job_id"]).await;
    assert_eq!(refused["failures"], json!([{"id": theirs, "code": "not_found"}]), "{refused}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM messages").await, 6, "no message to a client out of reach");
    assert_eq!(admin.patch("/api/v1/settings", json!({"record_visibility": "all"})).await.status, 200);

    // The list's bar offers it with the templates and transports; the job page names it.
    let browser = app.sign_in_as(Role::Admin).await;
    let list = browser.get("/crm/clients").await;
    assert!(list.body.contains(r#"<option value="send_template">Send a template</option>"#), "{}", list.body);
    assert!(list.body.contains(r#"<option value="telegram">"#) && !list.body.contains(r#"<option value="whatsapp">"#));
    let template = hello["id"].to_string();
    let fields = [
        ("entity", "clients"),
        ("action", "send_template"),
        ("template_id", template.as_str()),
        ("transport", "telegram"),
        ("ids", &phones[0].to_string()),
    ];
    let started = browser.post("/crm/bulk", &fields).await;
    let at = started.location().unwrap_or_default().to_owned();
    assert!(at.starts_with("/crm/jobs/"), "{} {}", started.status, started.body);
    drain(&app.state.bulk).await;
    let page = browser.get(&at).await;
    assert!(page.body.contains("Send a template"), "{}", page.body);
    assert!(page.body.contains(&format!("#{}: no contact this message can go to", phones[0])), "{}", page.body);
}

#[tokio::test]
async fn the_company_and_deal_lists_run_bulk_actions_and_keep_saved_views() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let browser = app.sign_in_as(Role::Admin).await;
    let vip = admin.post("/api/v1/tags", json!({"name": "VIP"})).await.json();
    for name in ["Acme Motors", "Acme Foods", "Globex"] {
        assert_eq!(admin.post("/api/v1/companies", json!({"name": name})).await.status, 201);
    }
    // Companies: the list has the bar and the views; "all matching" a search tags just those.
    let list = browser.get("/crm/companies?q=acme").await;
    assert!(
        list.body.contains("data-bulk-row") && list.body.contains(r#"name="entity" value="companies""#),
        "{}",
        list.body
    );
    assert!(
        !list.body.contains(r#"value="export""#) && !list.body.contains(r#"value="send_template""#),
        "not offered for companies"
    );
    let vip_id = vip["id"].to_string();
    let fields = [
        ("entity", "companies"),
        ("action", "add_tags"),
        ("tag_id", vip_id.as_str()),
        ("all", "1"),
        ("filter", "q=acme"),
    ];
    let started = browser.post("/crm/bulk", &fields).await;
    assert!(started.location().unwrap_or_default().starts_with("/crm/jobs/"), "{} {}", started.status, started.body);
    drain(&app.state.bulk).await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM company_tags").await, 2, "the two Acmes");
    let back = browser.get(started.location().unwrap()).await.body;
    assert!(back.contains(r#"href="/crm/companies?q=acme""#), "the job page leads back to the list: {back}");

    // Deals: moved to a stage by ids (with history and timeline), given an owner by filter.
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0].clone();
    let (pid, stages) = (pipeline["id"].as_i64().unwrap(), pipeline["stages"].as_array().unwrap().clone());
    let won = stages.iter().find(|s| s["kind"] == "won").unwrap()["id"].as_i64().unwrap();
    let mut deals = Vec::new();
    for title in ["Car A", "Car B", "Flat"] {
        let d = admin.post("/api/v1/deals", json!({"title": title, "pipeline_id": pid})).await.json();
        deals.push(d["id"].as_i64().unwrap());
    }
    let list = browser.get(&format!("/crm/deals/list?pipeline={pid}")).await;
    assert!(
        list.body.contains(r#"<option value="move_stage">"#) && !list.body.contains(r#"value="send_template""#),
        "no template yet: {}",
        list.body
    );
    let (won_s, a, b) = (won.to_string(), deals[0].to_string(), deals[1].to_string());
    let moved = browser
        .post(
            "/crm/bulk",
            &[("entity", "deals"), ("action", "move_stage"), ("stage_id", &won_s), ("ids", &a), ("ids", &b)],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    drain(&app.state.bulk).await;
    for (i, id) in deals.iter().enumerate() {
        let d = admin.get(&format!("/api/v1/deals/{id}")).await.json();
        assert_eq!(d["stage_id"] == won, i < 2, "{d}");
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM deal_moves WHERE from_stage_id IS NOT NULL").await, 2);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM activities WHERE kind = 'stage_moved'").await, 2);
    // Deals are their maker's: "no owner" for the cars shows which ones it reached.
    let filter = format!("pipeline={pid}&q=car");
    let owned = browser
        .post(
            "/crm/bulk",
            &[("entity", "deals"), ("action", "set_owner"), ("owner_id", ""), ("all", "1"), ("filter", &filter)],
        )
        .await;
    assert_eq!(owned.status, 303, "{}", owned.body);
    drain(&app.state.bulk).await;
    let ownerless = app.scalar_i64("SELECT count(*) FROM deals WHERE owner_id IS NULL").await;
    assert_eq!(ownerless, 2, "the two cars, not the flat");

    // A saved view of the deal list opens the deal list, and deleting it goes back there.
    let csrf = browser.get("/crm/deals/list").await.csrf().unwrap();
    let saved = browser
        .post("/crm/views", &[("_csrf", &csrf), ("entity", "deals"), ("name", "Cars"), ("query", &filter)])
        .await;
    assert_eq!(saved.location(), Some(format!("/crm/deals/list?{filter}").as_str()));
    let list = browser.get("/crm/deals/list").await.body;
    assert!(list.contains(&format!("/crm/deals/list?pipeline={pid}&#38;q=car")), "{list}");
    let id = app.scalar_i64("SELECT id FROM saved_views").await;
    let gone = browser.post(&format!("/crm/views/{id}/delete"), &[("_csrf", &csrf), ("entity", "deals")]).await;
    assert_eq!(gone.location(), Some("/crm/deals/list"));

    // A job runs as its author may act when it runs: one whose author has left stops, untouched.
    let agent = app.api(Role::Agent).await;
    let left = agent
        .post(
            "/api/v1/bulk",
            json!({"entity": "deals", "ids": [deals[2]], "action": "move_stage", "params": {"stage_id": won}}),
        )
        .await;
    assert_eq!(left.status, 202, "{}", left.body);
    let author = agent.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(author)
        .execute(&app.owner_pool().await)
        .await
        .unwrap();
    drain(&app.state.bulk).await;
    let stopped = job(&admin, &left.json()["job_id"]).await;
    assert_eq!((stopped["status"].as_str(), stopped["done"].as_i64()), (Some("failed"), Some(0)), "{stopped}");
    assert_ne!(admin.get(&format!("/api/v1/deals/{}", deals[2])).await.json()["stage_id"], won);
}
