//! Notes on clients, companies and deals: threaded comments, @mentions that notify, who may
//! edit, and the records' timelines they and other changes write.

use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, refusal, said};
use crm::domain::Role;

async fn me(api: &Api) -> (i64, String) {
    let me = api.get("/api/v1/me").await.json();
    (me["id"].as_i64().unwrap(), me["name"].as_str().unwrap().to_owned())
}

fn kinds(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_note_with_a_thread_of_comments_notifies_whom_it_mentions_once() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.api(Role::Agent).await, app.api(Role::Agent).await);
    let (bob_id, bob_name) = me(&bob).await;
    let client = ann.post("/api/v1/clients", json!({"first_name": "Aziz", "last_name": "Karimov"})).await.json();
    let notes = format!("/api/v1/clients/{}/notes", client["id"]);

    let body = format!("Wants a van on Friday, @{bob_name} can you book it? cc @{}", "nobody");
    let made = ann.post(&notes, json!({"body": body})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let note = made.json();
    assert_eq!((note["entity"].as_str(), note["entity_id"].as_i64()), (Some("client"), client["id"].as_i64()));

    let told = bob.get("/api/v1/notifications?unread=true").await.json();
    assert_eq!(told["unread"], 1, "{told}");
    let n = &told["items"][0];
    assert_eq!(n["kind"], "mention");
    assert!(n["text"].as_str().unwrap().contains("Aziz Karimov"), "{n}");
    assert_eq!(n["url"], format!("/crm/clients/{}#notes", client["id"]));
    assert_eq!(ann.get("/api/v1/notifications").await.json()["unread"], 0, "the writer is not told of their own note");

    // A thread: a comment, and an answer to it; a second mention of Bob tells him again.
    let url = format!("/api/v1/notes/{}/comments", note["id"]);
    let first = bob.post(&url, json!({"body": "Booked."})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first_id = first.json()["comments"][0]["id"].as_i64().unwrap();
    let answer = ann.post(&url, json!({"body": format!("Thanks @{bob_name}!"), "parent_id": first_id})).await.json();
    let thread: Vec<_> = answer["comments"].as_array().unwrap().iter().map(|c| c["parent_id"].as_i64()).collect();
    assert_eq!(thread, [None, Some(first_id)]);
    assert_eq!(bob.get("/api/v1/notifications?unread=true").await.json()["unread"], 2);

    // An edit tells only who is newly named; Bob was named already.
    let edited =
        ann.patch(&format!("/api/v1/notes/{}", note["id"]), json!({"body": format!("{body} (updated)")})).await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert!(edited.json()["edited_at"].is_string());
    assert_eq!(bob.get("/api/v1/notifications?unread=true").await.json()["unread"], 2);

    // Bob reads one, then the rest.
    let ids: Vec<i64> = bob.get("/api/v1/notifications").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    let marked = bob.post("/api/v1/notifications/read", json!({"ids": [ids[0]]})).await.json();
    assert_eq!(marked["marked"], 1);
    assert_eq!(ann.post("/api/v1/notifications/read", json!({"ids": [ids[1]]})).await.json()["marked"], 0, "not Ann's");
    assert_eq!(bob.post("/api/v1/notifications/read", json!({})).await.json()["marked"], 1);
    assert_eq!(bob.get("/api/v1/notifications?unread=true").await.json()["items"], json!([]));
    let _ = bob_id;
}

#[tokio::test]
async fn bad_notes_and_comments_are_refused_by_field_and_only_the_author_or_an_admin_edits() {
    let app = TestApp::spawn().await;
    let (ann, bob, admin, viewer) = (
        app.api(Role::Agent).await,
        app.api(Role::Agent).await,
        app.api(Role::Admin).await,
        app.api(Role::Viewer).await,
    );
    let client = ann.post("/api/v1/clients", json!({"first_name": "Aziz"})).await.json();
    let notes = format!("/api/v1/clients/{}/notes", client["id"]);
    for (body, code) in [(json!({"body": "  "}), "required"), (json!({"body": "x".repeat(10_001)}), "too_long")] {
        let refused = ann.post(&notes, body).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(refusal(&refused, "body"), said(code));
    }
    assert_eq!(refusal(&ann.post(&notes, json!({"body": ["x"]})).await, "body"), said("invalid_value"));
    assert_eq!(viewer.post(&notes, json!({"body": "hi"})).await.status, 403);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notes").await, 0, "nothing half-written");

    let note = ann.post(&notes, json!({"body": "hi"})).await.json();
    let url = format!("/api/v1/notes/{}", note["id"]);
    assert_eq!(viewer.get(&url).await.status, 200, "a viewer reads");
    assert_eq!(bob.patch(&url, json!({"body": "mine now"})).await.status, 403);
    assert_eq!(bob.delete(&url).await.status, 403);
    assert_eq!(admin.patch(&url, json!({"body": "tidied"})).await.json()["body"], "tidied");

    // A parent of another note is no parent.
    let other = ann.post(&notes, json!({"body": "another"})).await.json();
    let c = ann.post(&format!("/api/v1/notes/{}/comments", other["id"]), json!({"body": "x"})).await.json();
    let parent = c["comments"][0]["id"].clone();
    let stray = ann.post(&format!("{url}/comments"), json!({"body": "y", "parent_id": parent})).await;
    assert_eq!(stray.status, 422, "{}", stray.body);
    assert_eq!(refusal(&stray, "parent_id"), said("unknown_comment"));

    // Another tenant sees none of it.
    let (tenant, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(tenant, Role::Admin).await;
    assert_eq!(stranger.get(&url).await.status, 404);
    assert_eq!(stranger.get(&notes).await.status, 404);
    assert_eq!(stranger.post(&format!("{url}/comments"), json!({"body": "x"})).await.status, 404);

    assert_eq!(ann.delete(&url).await.status, 204);
    assert_eq!(ann.get(&url).await.status, 404);
    let left: Vec<_> =
        ann.get(&notes).await.json()["items"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect();
    assert_eq!(left, [other["id"].clone()]);
}

#[tokio::test]
async fn a_timeline_tells_what_happened_newest_first_pages_and_filters_by_kind() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let pipeline = admin
        .post(
            "/api/v1/pipelines",
            json!({"name": "Flats", "stages": [{"name": "New"}, {"name": "Won", "kind": "won"}]}),
        )
        .await
        .json();
    let client = admin.post("/api/v1/clients", json!({"first_name": "Aziz"})).await.json();
    let deal = admin
        .post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline["id"], "client_id": client["id"]}))
        .await;
    assert_eq!(deal.status, 201, "{}", deal.body);
    let deal = deal.json();
    let deal_url = format!("/api/v1/deals/{}", deal["id"]);
    admin.post(&format!("{deal_url}/move"), json!({"stage_id": pipeline["stages"][1]["id"]})).await;
    let renamed = admin.patch(&deal_url, json!({"title": "Flat 12"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    admin.post(&format!("{deal_url}/notes"), json!({"body": "Signed"})).await;
    let task = admin.post("/api/v1/tasks", json!({"title": "Send the keys", "deal_id": deal["id"]})).await.json();
    admin.post(&format!("/api/v1/tasks/{}/complete", task["id"]), json!({"note": "Sent"})).await;

    let timeline = admin.get(&format!("{deal_url}/activity")).await;
    assert_eq!(timeline.status, 200, "{}", timeline.body);
    let page = timeline.json();
    assert_eq!(kinds(&page), ["task_done", "task_created", "note", "field_changed", "stage_moved", "created"]);
    assert_eq!(page["items"][4]["summary"], "New → Won");
    assert_eq!(page["items"][3]["summary"], "title: Flat → Flat 12", "old → new");
    assert_eq!(page["items"][3]["data"]["changes"][0], json!({"field": "title", "old": "Flat", "new": "Flat 12"}));
    assert_eq!(page["items"][0]["actor"]["type"], "user");
    assert_eq!(page["items"][0]["data"]["note"], "Sent");

    let first = admin.get(&format!("{deal_url}/activity?limit=2")).await.json();
    assert_eq!(kinds(&first), ["task_done", "task_created"]);
    let next = first["next_before"].as_i64().unwrap();
    let second = admin.get(&format!("{deal_url}/activity?limit=2&before={next}")).await.json();
    assert_eq!(kinds(&second), ["note", "field_changed"]);
    let moves = admin.get(&format!("{deal_url}/activity?kind=stage_moved")).await.json();
    assert_eq!(kinds(&moves), ["stage_moved"]);
    let bad = admin.get(&format!("{deal_url}/activity?kind=nope")).await;
    assert_eq!(refusal(&bad, "kind"), said("invalid_kind"));

    // The client's own: created, and a field changed.
    let client_url = format!("/api/v1/clients/{}", client["id"]);
    admin.patch(&client_url, json!({"last_name": "Karimov"})).await;
    let theirs = admin.get(&format!("{client_url}/activity")).await.json();
    assert_eq!(kinds(&theirs), ["field_changed", "created"]);
    assert_eq!(theirs["items"][0]["summary"], "last_name: — → Karimov");

    // A company's: its owner by name.
    let company = admin.post("/api/v1/companies", json!({"name": "Acme LLC", "website": "acme.uz"})).await.json();
    let company_url = format!("/api/v1/companies/{}", company["id"]);
    let moved = admin.patch(&company_url, json!({"website": "acme.com", "owner_id": null})).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let theirs = admin.get(&format!("{company_url}/activity")).await.json();
    let summary = theirs["items"][0]["summary"].as_str().unwrap();
    assert!(summary.starts_with("website: https://acme.uz/ → https://acme.com/, owner: Admin"), "{summary}");
    assert!(summary.ends_with(" → —"), "{summary}");
}

#[tokio::test]
async fn a_clients_messages_reach_their_timeline_and_a_merge_carries_notes_tasks_and_timeline_and_undoes() {
    let app = TestApp::spawn().await;
    let (admin, browser) = app.api_and_browser(Role::Admin).await;
    let (kept, _, _) = app.client_who_wrote(&admin, "Aziz", "+998901110001").await;
    let (twin, _, _) = app.client_who_wrote(&admin, "Aziz K", "+998901110002").await;
    let (kept, twin) = (kept.0, twin.0);
    let twin_timeline = admin.get(&format!("/api/v1/clients/{twin}/activity")).await.json();
    assert!(kinds(&twin_timeline).contains(&"message_in".to_owned()), "{twin_timeline}");
    let note = admin.post(&format!("/api/v1/clients/{twin}/notes"), json!({"body": "Twin's note"})).await.json();
    let task = admin.post("/api/v1/tasks", json!({"title": "Call the twin", "client_id": twin})).await.json();

    let merged = admin.post(&format!("/api/v1/clients/{kept}/merge"), json!({"from_client_id": twin})).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let notes = admin.get(&format!("/api/v1/clients/{kept}/notes")).await.json();
    assert_eq!(notes["items"][0]["id"], note["id"]);
    assert_eq!(admin.get(&format!("/api/v1/tasks/{}", task["id"])).await.json()["client_id"], kept);
    let timeline = kinds(&admin.get(&format!("/api/v1/clients/{kept}/activity")).await.json());
    assert_eq!(timeline[0], "merged");
    assert!(timeline.iter().filter(|k| *k == "message_in").count() >= 2, "{timeline:?}");

    // Restoring the merged client undoes the merge: what moved goes back.
    let csrf = browser.get("/crm/clients/archived").await.csrf().unwrap();
    let restored = browser.post(&format!("/crm/clients/{twin}/restore"), &[("_csrf", &csrf)]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(admin.get(&format!("/api/v1/clients/{twin}/notes")).await.json()["items"][0]["id"], note["id"]);
    assert_eq!(admin.get(&format!("/api/v1/tasks/{}", task["id"])).await.json()["client_id"], twin);
}

#[tokio::test]
async fn the_pages_show_a_records_work_my_tasks_and_the_bell_in_every_language() {
    let app = TestApp::spawn().await;
    let (admin, browser) = app.api_and_browser(Role::Admin).await;
    let bob = app.api(Role::Agent).await;
    let (_, bob_name) = me(&bob).await;
    let client = admin.post("/api/v1/clients", json!({"first_name": "Aziz"})).await.json();
    let base = format!("/crm/clients/{}", client["id"]);
    let csrf = browser.get(&base).await.csrf().unwrap();

    // A note through the panel's form, mentioning Bob; an empty one is refused beside the field.
    let empty = browser.post(&format!("{base}/notes"), &[("_csrf", &csrf), ("body", " ")]).await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains(&said("required")), "{}", empty.body);
    let body = format!("Call @{bob_name} about it");
    let made = browser.post(&format!("{base}/notes"), &[("_csrf", &csrf), ("body", &body)]).await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains(&body) && made.body.contains("added a note"), "{}", made.body);
    assert_eq!(bob.get("/api/v1/notifications").await.json()["unread"], 1);

    // A task through the panel, then completed from My tasks.
    let task = browser
        .post(
            &format!("{base}/tasks"),
            &[("_csrf", &csrf), ("title", "Send the contract"), ("due_at", "2020-01-01T09:00")],
        )
        .await;
    assert_eq!(task.status, 200, "{}", task.body);
    assert!(task.body.contains("Send the contract") && task.body.contains("task-overdue"), "{}", task.body);
    let mine = browser.get("/crm/tasks?view=today").await;
    assert!(mine.body.contains("Send the contract"), "{}", mine.body);
    let id = app.scalar_i64("SELECT id FROM tasks").await;
    // A note too long is refused as too long (not as a missing note), and the task stays open.
    let long = "x".repeat(5_001);
    let refused = browser
        .post(&format!("/crm/tasks/{id}/complete"), &[("_csrf", &csrf), ("note", &long), ("back", "/crm/tasks")])
        .await;
    assert_eq!(refused.location(), Some("/crm/tasks"));
    let said = browser.get("/crm/tasks").await.body;
    assert!(said.contains("The note is too long") && !said.contains("asks for a note"), "{said}");
    let done =
        browser.post(&format!("/crm/tasks/{id}/complete"), &[("_csrf", &csrf), ("back", "/crm/tasks?view=done")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(browser.get("/crm/tasks?view=done").await.body.contains("Send the contract"));

    // The bell and the centre, in each language.
    let bell = browser.get("/crm/notifications/bell").await;
    assert_eq!(bell.status, 200);
    for locale in ["en", "ru", "uz"] {
        browser.post("/crm/locale", &[("_csrf", &csrf), ("locale", locale), ("back", "/crm")]).await;
        for page in ["/crm/notifications", "/crm/tasks", &format!("{base}/work")] {
            let shown = browser.get(page).await;
            assert_eq!(shown.status, 200, "{locale} {page}: {}", shown.body);
            let untranslated = ["\"work.", ">work.", "\"tasks.", ">tasks.", ">activity.", ">notifications."];
            let found: Vec<_> = untranslated.iter().filter(|k| shown.body.contains(*k)).collect();
            assert!(found.is_empty(), "{locale} {page}: untranslated {found:?}");
        }
    }
}
