//! Tasks: their fields and refusals, categories that ask for a completion note, "mine" and
//! overdue lists, and reminders that fire exactly once with two nodes on one database, and
//! at the first pass after a start when they came due while no node ran.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, refusal, said};
use crm::domain::{DomainEvent, Role};
use crm::events::EventBus;
use crm::services::TaskService;

async fn me(api: &Api) -> i64 {
    api.get("/api/v1/me").await.json()["id"].as_i64().unwrap()
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_task_is_made_listed_completed_with_its_categorys_note_and_reopened() {
    let app = TestApp::spawn().await;
    let (admin, ann, bob) = (app.api(Role::Admin).await, app.api(Role::Agent).await, app.api(Role::Agent).await);
    let bob_id = me(&bob).await;
    let call = admin.post("/api/v1/task-categories", json!({"name": "Call", "note_required": true})).await;
    assert_eq!(call.status, 201, "{}", call.body);
    let call = call.json();
    assert_eq!(admin.post("/api/v1/task-categories", json!({"name": "call"})).await.status, 409);
    assert_eq!(ann.post("/api/v1/task-categories", json!({"name": "Visit"})).await.status, 403, "admins keep them");

    let client = ann.post("/api/v1/clients", json!({"first_name": "Aziz"})).await.json();
    let soon = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let made = ann
        .post(
            "/api/v1/tasks",
            json!({"title": " Call Aziz ", "due_at": soon, "assignee_id": bob_id, "category_id": call["id"],
                   "priority": "high", "client_id": client["id"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let task = made.json();
    assert_eq!(
        (task["title"].as_str(), task["priority"].as_str(), task["status"].as_str(), task["record_name"].as_str()),
        (Some("Call Aziz"), Some("high"), Some("open"), Some("Aziz"))
    );
    assert_eq!(task["assignee_id"], bob_id);
    let own = ann.post("/api/v1/tasks", json!({"title": "Mine"})).await.json();
    assert_eq!(own["assignee_id"], me(&ann).await, "given to its author by default");

    // Bob was told; his list has it.
    let told = bob.get("/api/v1/notifications").await.json();
    assert_eq!(told["items"][0]["kind"], "task_assigned", "{told}");
    assert_eq!(titles(&bob.get("/api/v1/tasks?assignee_id=me").await.json()), ["Call Aziz"]);
    assert_eq!(titles(&ann.get(&format!("/api/v1/tasks?client_id={}", client["id"])).await.json()), ["Call Aziz"]);

    // The category asks for a note.
    let url = format!("/api/v1/tasks/{}", task["id"]);
    let refused = bob.post(&format!("{url}/complete"), json!({})).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refusal(&refused, "note"), said("note_required"));
    let done = bob.post(&format!("{url}/complete"), json!({"note": "Agreed on Friday"})).await.json();
    assert_eq!((done["status"].as_str(), done["done_note"].as_str()), (Some("done"), Some("Agreed on Friday")));
    assert_eq!(titles(&bob.get("/api/v1/tasks?assignee_id=me&status=done").await.json()), ["Call Aziz"]);
    assert!(titles(&bob.get("/api/v1/tasks?assignee_id=me").await.json()).is_empty());
    let reopened = bob.post(&format!("{url}/reopen"), json!({})).await.json();
    assert_eq!((reopened["status"].as_str(), reopened["done_at"].as_null()), (Some("open"), Some(())));

    // A viewer reads but does not write; another tenant sees nothing.
    let viewer = app.api(Role::Viewer).await;
    assert_eq!(viewer.get(&url).await.status, 200);
    assert_eq!(viewer.patch(&url, json!({"title": "x"})).await.status, 403);
    let (tenant, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(tenant, Role::Admin).await;
    assert_eq!(stranger.get(&url).await.status, 404);
    assert_eq!(stranger.get("/api/v1/tasks?status=all").await.json()["total"], 0);
    assert_eq!(stranger.post("/api/v1/tasks", json!({"title": "x", "client_id": client["id"]})).await.status, 422);

    assert_eq!(ann.delete(&url).await.status, 204);
    assert_eq!(ann.get(&url).await.status, 404);
}

#[tokio::test]
async fn bad_task_fields_are_each_named_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let ann = app.api(Role::Agent).await;
    let refused = ann
        .post(
            "/api/v1/tasks",
            json!({"due_at": "tomorrow", "priority": "urgent", "assignee_id": 999999, "category_id": "x",
                   "client_id": 1, "deal_id": 2}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for (field, code) in [
        ("title", "required"),
        ("due_at", "invalid_datetime"),
        ("priority", "invalid_priority"),
        ("category_id", "invalid_id"),
        ("deal_id", "one_record_only"),
    ] {
        assert_eq!(refusal(&refused, field), said(code), "{field}: {}", refused.body);
    }
    let unknown = ann.post("/api/v1/tasks", json!({"title": "x", "assignee_id": 999999, "client_id": 999999})).await;
    assert_eq!(refusal(&unknown, "assignee_id"), said("unknown_user"));
    assert_eq!(refusal(&unknown, "client_id"), said("unknown_client"));
    assert_eq!(refusal(&ann.post("/api/v1/tasks", json!({"title": ["x"]})).await, "title"), said("invalid_value"));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM tasks").await, 0);
    assert_eq!(refusal(&ann.get("/api/v1/tasks?status=later").await, "status"), said("invalid_status"));
}

#[tokio::test]
async fn under_own_visibility_an_agent_reaches_only_tasks_given_to_them_or_made_by_them() {
    let app = TestApp::spawn().await;
    let (admin, ann, bob) = (app.api(Role::Admin).await, app.api(Role::Agent).await, app.api(Role::Agent).await);
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    let ann_id = me(&ann).await;
    admin.post("/api/v1/tasks", json!({"title": "For Ann", "assignee_id": ann_id})).await;
    admin.post("/api/v1/tasks", json!({"title": "Admin's own"})).await;
    let bobs = bob.post("/api/v1/tasks", json!({"title": "Bob's"})).await.json();
    assert_eq!(titles(&ann.get("/api/v1/tasks").await.json()), ["For Ann"]);
    assert_eq!(ann.get(&format!("/api/v1/tasks/{}", bobs["id"])).await.status, 404);
    assert_eq!(admin.get("/api/v1/tasks").await.json()["total"], 3);
}

/// A second app node on the same database: its own pool and its own event bus.
async fn node(app: &TestApp) -> (TaskService, EventBus) {
    let pool = crm::db::app_pool(app.owner.clone(), 5).await.unwrap();
    let bus = EventBus::default();
    (TaskService::new(pool, bus.clone()), bus)
}

#[tokio::test]
async fn due_reminders_fire_exactly_once_with_two_nodes_and_overdue_is_announced_once() {
    let app = TestApp::spawn().await;
    let ann = app.api(Role::Agent).await;
    let ann_id = me(&ann).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    for i in 0..300 {
        let made =
            ann.post("/api/v1/tasks", json!({"title": format!("Task {i}"), "remind_at": at, "due_at": at})).await;
        assert_eq!(made.status, 201, "{}", made.body);
    }
    // All of them due in a second, whatever the 300 requests took.
    let owner = app.owner_pool().await;
    sqlx::query("UPDATE tasks SET remind_at = now() + interval '1 second', due_at = now() + interval '1 second'")
        .execute(&owner)
        .await
        .unwrap();
    let ((a, bus_a), (b, bus_b)) = (node(&app).await, node(&app).await);
    let (mut heard_a, mut heard_b) = (bus_a.subscribe(), bus_b.subscribe());
    let early = tokio::join!(a.tick(), b.tick());
    early.0.unwrap();
    early.1.unwrap();
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications").await, 0, "not before their time");

    tokio::time::sleep(Duration::from_millis(1300)).await;
    for _ in 0..5 {
        let (x, y) = tokio::join!(a.tick(), b.tick());
        x.unwrap();
        y.unwrap();
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE kind = 'reminder'").await, 300);
    assert_eq!(
        app.scalar_i64("SELECT count(DISTINCT data->>'task_id') FROM notifications WHERE kind = 'reminder'").await,
        300,
        "one each"
    );
    let told = ann.get("/api/v1/notifications?limit=1").await.json();
    assert_eq!((told["unread"].as_i64(), told["items"][0]["kind"].as_str()), (Some(100), Some("reminder")), "{told}");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM tasks WHERE overdue_at IS NOT NULL").await, 300);
    let overdue = ann.get("/api/v1/tasks?status=overdue&per_page=1").await.json();
    assert_eq!((overdue["total"].as_i64(), overdue["items"][0]["overdue"].as_bool()), (Some(300), Some(true)));

    let mut announced = 0;
    for heard in [&mut heard_a, &mut heard_b] {
        while let Ok(event) = heard.try_recv() {
            announced +=
                usize::from(matches!(event, DomainEvent::TaskOverdue { assignee: Some(u), .. } if u.0 == ann_id));
        }
    }
    assert_eq!(announced, 300, "task.overdue once per task, across both nodes");

    // A reminder moved later fires again then; a done task's never fires.
    let task = ann.get("/api/v1/tasks?per_page=1").await.json()["items"][0].clone();
    let later = (chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339();
    let moved = ann.patch(&format!("/api/v1/tasks/{}", task["id"]), json!({"remind_at": later})).await.json();
    assert_eq!(moved["reminded_at"], Value::Null);
    let done = ann.post("/api/v1/tasks", json!({"title": "Done early", "remind_at": later})).await.json();
    ann.post(&format!("/api/v1/tasks/{}/complete", done["id"]), json!({})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.tick().await.unwrap();
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE kind = 'reminder'").await, 301);
}

#[tokio::test]
async fn a_reminder_due_while_no_node_ran_fires_at_the_first_pass_after_a_start() {
    let app = TestApp::spawn().await;
    let ann = app.api(Role::Agent).await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    ann.post("/api/v1/tasks", json!({"title": "Missed while down", "remind_at": past, "due_at": past})).await;
    assert_eq!(ann.get("/api/v1/notifications").await.json()["unread"], 0);
    let _background = app.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let told = ann.get("/api/v1/notifications").await.json();
        if told["unread"] == 1 && told["items"][0].is_object() {
            assert!(told["items"][0]["text"].as_str().unwrap().contains("Missed while down"), "{told}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the reminder never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Its due time passed while down too: it is marked overdue at the same first pass.
    while app.scalar_i64("SELECT count(*) FROM tasks WHERE overdue_at IS NOT NULL").await == 0 {
        assert!(std::time::Instant::now() < deadline, "never marked overdue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
