//! A team working the inbox: assigning chats, their status and snoozes, and the views over
//! the list, through the API and the pages alike.

use std::time::Duration;

use crm::domain::chat::Transport;
use crm::domain::{ClientId, ContactId, DomainEvent, Role};
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp};

/// An API client and the id of the user behind it.
async fn api_user(app: &TestApp, role: Role) -> (Api, i64) {
    let api = app.api(role).await;
    let id = app.scalar_i64("SELECT user_id FROM api_tokens ORDER BY id DESC LIMIT 1").await;
    (api, id)
}

async fn ids(api: &Api, query: &str) -> Vec<i64> {
    let page = api.get(&format!("/api/v1/chats{query}")).await;
    assert_eq!(page.status, 200, "{query}: {}", page.body);
    page.json()["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn assigning_and_resolving_move_chats_between_the_views_and_a_new_message_reopens() {
    let app = TestApp::spawn().await;
    let (agent, agent_id) = api_user(&app, Role::Agent).await;
    let (_, contact1, one) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let (_, _, two) = app.client_who_wrote(&agent, "Madina", "+998901110002").await;

    let assigned = agent.patch(&format!("/api/v1/chats/{}", one.0), json!({"assignee_id": agent_id})).await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(assigned.json()["assignee"]["id"], agent_id);
    assert_eq!(assigned.json()["status"], "open");
    assert_eq!(ids(&agent, "?assignee=me").await, [one.0]);
    assert_eq!(ids(&agent, "?assignee=none").await, [two.0]);
    assert_eq!(ids(&agent, &format!("?assignee={agent_id}")).await, [one.0]);
    assert_eq!(ids(&agent, "").await.len(), 2);

    let resolved = agent.patch(&format!("/api/v1/chats/{}", one.0), json!({"status": "resolved"})).await;
    assert_eq!(resolved.json()["status"], "resolved");
    assert_eq!(resolved.json()["assignee"]["id"], agent_id, "an absent key changes nothing");
    assert_eq!(ids(&agent, "?status=open").await, [two.0]);
    assert_eq!(ids(&agent, "?status=resolved").await, [one.0]);
    assert_eq!(ids(&agent, "?status=resolved&q=Aziz").await, [one.0], "search keeps the view's filters");
    assert!(ids(&agent, "?status=open&q=Aziz").await.is_empty());

    let client1 = ClientId(app.scalar_i64(&format!("SELECT client_id FROM chats WHERE id = {}", one.0)).await);
    app.writes(app.tenant, client1, contact1, "One more question").await;
    let chat = agent.get(&format!("/api/v1/chats/{}", one.0)).await.json();
    assert_eq!(chat["status"], "open", "the client's message reopens a resolved chat");

    let unassigned = agent.patch(&format!("/api/v1/chats/{}", one.0), json!({"assignee_id": null})).await;
    assert_eq!(unassigned.json()["assignee"], Value::Null);
    let audit = app
        .scalar_i64(&format!("SELECT count(*) FROM audit_log WHERE entity = 'chat' AND entity_id = '{}'", one.0))
        .await;
    assert_eq!(audit, 3, "assigned, resolved, unassigned: each audited");
}

#[tokio::test]
async fn bad_changes_name_their_field_and_a_viewer_or_another_tenant_changes_nothing() {
    let app = TestApp::spawn().await;
    let (agent, _) = api_user(&app, Role::Agent).await;
    let (_, viewer_id) = api_user(&app, Role::Viewer).await;
    let (_, _, chat) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let url = format!("/api/v1/chats/{}", chat.0);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let english = crm::i18n::Tr::new(crm::domain::Locale::En);

    for (body, field, code) in [
        (json!({"assignee_id": viewer_id}), "assignee_id", "not_assignable"),
        (json!({"assignee_id": "x"}), "assignee_id", "invalid_assignee"),
        (json!({"status": "closed"}), "status", "invalid_choice"),
        (json!({"status": "snoozed"}), "snoozed_until", "required"),
        (json!({"snoozed_until": "tomorrow"}), "snoozed_until", "invalid_datetime"),
        (json!({"snoozed_until": past}), "snoozed_until", "snooze_in_past"),
        (json!({"status": "open", "snoozed_until": future}), "snoozed_until", "snooze_with_status"),
    ] {
        let answer = agent.patch(&url, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        let said = &answer.json()["error"]["fields"][field][0];
        assert_eq!(said.as_str(), Some(english.error(code)), "{body} names {field}");
    }
    let filters = agent.get("/api/v1/chats?assignee=someone&status=closed").await;
    assert_eq!(filters.status, 422, "{}", filters.body);

    let (other_tenant, _) = app.create_tenant("Other").await;
    let outsider = app.api_in(other_tenant, Role::Admin).await;
    assert_eq!(outsider.patch(&url, json!({"status": "resolved"})).await.status, 404);
    let (other_agent, other_id) = api_user(&app, Role::Agent).await;
    let stranger_id = app.scalar_i64("SELECT id FROM users WHERE role = 'admin' ORDER BY id DESC LIMIT 1").await;
    assert_eq!(other_agent.patch(&url, json!({"assignee_id": other_id})).await.status, 200);
    let foreign = agent.patch(&url, json!({"assignee_id": stranger_id})).await;
    assert_eq!(foreign.status, 422, "a user of another tenant cannot be assigned: {}", foreign.body);

    let viewer = app.api(Role::Viewer).await;
    assert_eq!(viewer.patch(&url, json!({"status": "resolved"})).await.status, 403);
    let chat = agent.get(&url).await.json();
    assert_eq!((chat["status"].as_str(), chat["assignee"]["id"].as_i64()), (Some("open"), Some(other_id)));
}

#[tokio::test]
async fn a_snooze_ends_on_its_own_once_with_two_nodes_asking() {
    let app = TestApp::spawn().await;
    let (agent, _) = api_user(&app, Role::Agent).await;
    let (_, _, chat) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let snoozed = agent.patch(&format!("/api/v1/chats/{}", chat.0), json!({"snoozed_until": until.to_rfc3339()})).await;
    assert_eq!(snoozed.json()["status"], "snoozed", "{}", snoozed.body);
    assert_eq!(ids(&agent, "?status=snoozed").await, [chat.0]);
    assert!(ids(&agent, "?status=open").await.is_empty());

    // Two nodes' wakers, on one database, asking as often as they can.
    let mut events = app.state.events.subscribe();
    let (a, b) = (app.state.chats.clone(), app.state.chats.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ids(&agent, "?status=open").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the snooze never ended");
        let (x, y) = tokio::join!(a.wake_snoozed(), b.wake_snoozed());
        x.unwrap();
        y.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(chrono::Utc::now() >= until, "not before its time");
    let chat_json = agent.get(&format!("/api/v1/chats/{}", chat.0)).await.json();
    assert_eq!((chat_json["status"].as_str(), &chat_json["snoozed_until"]), (Some("open"), &Value::Null));
    let mut woken = 0;
    while let Ok(event) = events.try_recv() {
        woken += usize::from(matches!(event, DomainEvent::ChatUpdated { chat_id, .. } if chat_id == chat));
    }
    assert_eq!(woken, 1, "announced once");
}

#[tokio::test]
async fn the_background_wakes_a_snoozed_chat_and_a_client_message_ends_a_snooze_early() {
    let app = TestApp::spawn().await;
    let _background = app.start_background();
    let (agent, _) = api_user(&app, Role::Agent).await;
    let (client, contact, chat) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let url = format!("/api/v1/chats/{}", chat.0);

    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(500)).to_rfc3339();
    agent.patch(&url, json!({"snoozed_until": soon})).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(agent.get(&url).await.json()["status"], "open", "the running app's waker ended it");

    let later = (chrono::Utc::now() + chrono::Duration::hours(4)).to_rfc3339();
    agent.patch(&url, json!({"snoozed_until": later})).await;
    app.writes(app.tenant, client, contact, "Are you there?").await;
    assert_eq!(agent.get(&url).await.json()["status"], "open");
}

#[tokio::test]
async fn an_agent_takes_a_chat_from_the_unassigned_view_resolves_it_and_a_viewer_cannot() {
    let app = TestApp::spawn().await;
    let (api, _) = api_user(&app, Role::Admin).await;
    let (_, _, chat) = app.client_who_wrote(&api, "Aziz", "+998901110001").await;
    let agent = app.sign_in_as(Role::Agent).await;
    let row = format!("data-chat=\"{}\"", chat.0);

    let unassigned = agent.get("/crm/chats?view=unassigned").await;
    assert!(unassigned.body.contains(&row));
    assert!(unassigned.body.contains("Unassigned <span class=\"count\">1</span>"), "the tab counts it");
    assert!(!agent.get("/crm/chats?view=mine").await.body.contains(&row));

    let back = format!("/crm/chats/{}?view=unassigned", chat.0);
    let taken = agent.post(&format!("/crm/chats/{}/work", chat.0), &[("assignee", "me"), ("back", &back)]).await;
    assert_eq!((taken.status, taken.location()), (303, Some(back.as_str())), "{}", taken.body);
    let mine = agent.get("/crm/chats?view=mine").await;
    assert!(mine.body.contains(&row));
    assert!(mine.body.contains("Mine <span class=\"count\">1</span>"));
    let thread = agent.get(&format!("/crm/chats/{}", chat.0)).await;
    assert!(thread.body.contains("Resolve"), "the header offers to resolve");
    assert!(!thread.body.contains("Assign to me"), "it is mine already");

    agent.post(&format!("/crm/chats/{}/work", chat.0), &[("status", "resolved")]).await;
    assert!(!agent.get("/crm/chats").await.body.contains(&row), "the list shows open chats");
    assert!(agent.get("/crm/chats?status=resolved").await.body.contains(&row));
    agent.post(&format!("/crm/chats/{}/work", chat.0), &[("snooze", "1h")]).await;
    let snoozed = agent.get("/crm/chats?status=snoozed").await;
    assert!(snoozed.body.contains(&row));
    let bad = agent.post(&format!("/crm/chats/{}/work", chat.0), &[("snooze", "forever")]).await;
    assert_eq!(bad.status, 422);

    let viewer = app.sign_in_as(Role::Viewer).await;
    let page = viewer.get(&format!("/crm/chats/{}", chat.0)).await;
    assert!(!page.body.contains("Assign to me"), "a viewer sees no controls");
    assert_eq!(viewer.post(&format!("/crm/chats/{}/work", chat.0), &[("status", "open")]).await.status, 403);
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM chats WHERE id = {} AND status = 'snoozed'", chat.0)).await,
        1
    );
}

#[tokio::test]
async fn the_api_schedules_a_reply_shows_it_scheduled_and_cancels_it() {
    let app = TestApp::spawn_with_providers(crm::services::Providers::default().with(
        Transport::Sms,
        std::sync::Arc::new(crate::chats::HttpProvider {
            url: "http://127.0.0.1:9/unused".into(),
            http: reqwest::Client::new(),
            lookups: false,
        }),
    ))
    .await;
    let (agent, _) = api_user(&app, Role::Agent).await;
    let (_, _, chat) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let url = format!("/api/v1/chats/{}/messages", chat.0);
    let sent = agent.post(&url, json!({"body": "Your car is ready", "transport": "sms", "send_at": at})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let message = sent.json();
    assert_eq!(message["status"], "scheduled");
    assert!(message["send_at"].is_string());

    for (body, field) in [
        (json!({"body": "x", "transport": "sms", "send_at": "soon"}), "send_at"),
        (json!({"body": "x", "transport": "sms", "send_at": "2020-01-01T00:00:00Z"}), "send_at"),
        (json!({"body": "x", "transport": "note", "send_at": at}), "send_at"),
    ] {
        let refused = agent.post(&url, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert!(refused.json()["error"]["fields"][field].is_array(), "{body}: {}", refused.body);
    }

    let one = format!("{url}/{}", message["id"]);
    let viewer = app.api(Role::Viewer).await;
    assert_eq!(viewer.delete(&one).await.status, 403);
    assert_eq!(agent.delete(&one).await.status, 204);
    assert_eq!(agent.delete(&one).await.status, 409, "it is no longer scheduled");
    let items = agent.get(&url).await.json();
    assert_eq!(items["items"][0]["status"], "cancelled");
}

#[tokio::test]
async fn a_stranger_is_given_a_name_from_the_thread_and_a_viewer_cannot() {
    let app = TestApp::spawn().await;
    let (api, _) = api_user(&app, Role::Admin).await;
    let (client, _, chat) = app.client_who_wrote(&api, "+998901110009", "+998901110009").await;
    let agent = app.sign_in_as(Role::Agent).await;
    let url = format!("/crm/chats/{}/client-name", chat.0);
    let thread = format!("/crm/chats/{}", chat.0);
    assert!(agent.get(&thread).await.body.contains("Name this client"));

    let named = agent.post(&url, &[("first_name", "Aziza"), ("last_name", "Karimova"), ("back", &thread)]).await;
    assert_eq!((named.status, named.location()), (303, Some(thread.as_str())), "{}", named.body);
    let page = agent.get(&thread).await;
    assert!(page.body.contains("Aziza Karimova"), "the thread shows the new name");
    assert!(page.body.contains("Change name"), "a named client's name is changed, not given");
    let stored = api.get(&format!("/api/v1/clients/{}", client.0)).await.json();
    assert_eq!((stored["first_name"].as_str(), stored["last_name"].as_str()), (Some("Aziza"), Some("Karimova")));

    let empty = agent.post(&url, &[("first_name", " "), ("last_name", ""), ("back", "https://evil.example")]).await;
    assert_eq!((empty.status, empty.location()), (303, Some(thread.as_str())), "back to the thread, never off site");
    assert!(agent.get(&thread).await.body.contains("A first name is needed"), "the reason, as a notice");
    let stored = api.get(&format!("/api/v1/clients/{}", client.0)).await.json();
    assert_eq!(stored["first_name"], "Aziza", "nothing half-written");

    let viewer = app.sign_in_as(Role::Viewer).await;
    assert!(!viewer.get(&thread).await.body.contains("Name this client"));
    assert_eq!(viewer.post(&url, &[("first_name", "X")]).await.status, 403);
    let (other, _) = app.create_tenant("Other").await;
    let outsider = app.client();
    let creds = app.create_user(other, Role::Admin).await;
    outsider.sign_in(&creds).await;
    assert_eq!(outsider.post(&url, &[("first_name", "X")]).await.status, 404);
}

/// A snooze that came due while no node ran (stopped, or restarting) ends at the first pass of
/// the next start: the time is in the row, not in a node's memory.
#[tokio::test]
async fn a_snooze_that_came_due_while_no_node_ran_ends_when_one_starts() {
    let app = TestApp::spawn().await;
    let (agent, _) = api_user(&app, Role::Agent).await;
    let (_, _, chat) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let owner = app.owner_pool().await;
    sqlx::query("UPDATE chats SET status = 'snoozed', snoozed_until = now() - interval '1 hour' WHERE id = $1")
        .bind(chat.0)
        .execute(&owner)
        .await
        .unwrap();
    let url = format!("/api/v1/chats/{}", chat.0);
    assert_eq!(agent.get(&url).await.json()["status"], "snoozed", "nothing ends it while no node runs");

    let _background = app.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while agent.get(&url).await.json()["status"] != "open" {
        assert!(std::time::Instant::now() < deadline, "the snooze did not end after the start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_clients_message_notifies_the_assignee_or_everyone_when_unassigned_but_nobody_else() {
    let app = TestApp::spawn().await;
    let (admin, _) = api_user(&app, Role::Admin).await;
    let (one_creds, two_creds) =
        (app.create_user(app.tenant, Role::Agent).await, app.create_user(app.tenant, Role::Agent).await);
    let (one, two) = (app.client(), app.client());
    one.sign_in(&one_creds).await;
    two.sign_in(&two_creds).await;
    let (client, contact, chat) = app.client_who_wrote(&admin, "Aziz", "+998901110009").await;
    let one_id = app.scalar_i64(&format!("SELECT id FROM users WHERE email = '{}'", one_creds.email)).await;

    // Unassigned: both hear of it, with the client's name and words.
    let write = || app.writes(app.tenant, client, contact, "Is it ready?");
    let (a, b) = tokio::join!(
        app.heard(&one, Duration::from_secs(2), async {}),
        app.heard(&two, Duration::from_secs(2), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            write().await;
        })
    );
    for text in [&a, &b] {
        assert!(text.contains("event: notify"), "{text}");
        assert!(text.contains(r#""body":"Is it ready?""#) && text.contains(&format!(r#""chat":{}"#, chat.0)), "{text}");
    }

    // Assigned to the first: only the first hears.
    admin.patch(&format!("/api/v1/chats/{}", chat.0), json!({"assignee_id": one_id})).await;
    let (a, b) = tokio::join!(
        app.heard(&one, Duration::from_secs(2), async {}),
        app.heard(&two, Duration::from_secs(2), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            write().await;
        })
    );
    assert!(a.contains("event: notify"), "the assignee: {a}");
    assert!(!b.contains("event: notify"), "someone else's chat: {b}");
    assert!(b.contains("event: message"), "the message itself still arrives: {b}");
}

#[tokio::test]
async fn the_threads_header_calls_the_client_with_one_click() {
    let app = TestApp::spawn().await;
    let (admin, _) = api_user(&app, Role::Admin).await;
    let client = admin.post("/api/v1/clients", json!({"first_name": "Aziz", "phone": "+998901110010"})).await.json();
    let contact = admin
        .post(&format!("/api/v1/clients/{}/contacts", client["id"]), json!({"type": "phone", "value": "+998901110010"}))
        .await
        .json();
    let chat = app
        .writes(app.tenant, ClientId(client["id"].as_i64().unwrap()), ContactId(contact["id"].as_i64().unwrap()), "Hi")
        .await;
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{}", chat.0)).await.body;
    assert!(page.contains(r#"href="tel:+998901110010""#) && page.contains("+998 90 111 00 10"), "{page}");
}

#[tokio::test]
async fn chats_carry_tags_through_the_api_and_the_thread_and_the_inbox_filters_by_one() {
    let app = TestApp::spawn().await;
    let (admin, _) = api_user(&app, Role::Admin).await;
    let (agent, _) = api_user(&app, Role::Agent).await;
    let tag = |name: &'static str, locked: bool| {
        let admin = &admin;
        async move {
            let made = admin.post("/api/v1/tags", json!({"name": name, "locked": locked})).await;
            made.json()["id"].as_i64().unwrap()
        }
    };
    let (urgent, vip) = (tag("Urgent", false).await, tag("VIP", true).await);
    let (_, _, one) = app.client_who_wrote(&agent, "Aziz", "+998901110001").await;
    let (_, _, two) = app.client_who_wrote(&agent, "Madina", "+998901110002").await;
    let mut events = app.state.events.subscribe();

    let path = format!("/api/v1/chats/{}", one.0);
    let tagged = agent.patch(&path, json!({"tag_ids": [urgent], "status": "pending"})).await;
    assert_eq!(tagged.status, 200, "{}", tagged.body);
    let names = |chat: &Value| -> Vec<String> {
        chat["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!((names(&tagged.json()), tagged.json()["status"].as_str()), (vec!["Urgent".to_owned()], Some("pending")));
    let mut heard = (false, false);
    while let Ok(event) = events.try_recv() {
        match event {
            DomainEvent::TagAdded { .. } => heard.0 = true,
            DomainEvent::ChatUpdated { chat_id, .. } => heard.1 |= chat_id == one,
            _ => {}
        }
    }
    assert_eq!(heard, (true, true), "the tag and the chat announced");
    let refused = agent.patch(&path, json!({"tag_ids": [urgent, vip], "status": "resolved"})).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.json()["error"]["fields"]["tag_ids"].is_array());
    let kept = agent.get(&path).await.json();
    assert_eq!(
        (names(&kept), kept["status"].as_str()),
        (vec!["Urgent".to_owned()], Some("pending")),
        "nothing half-written"
    );
    assert_eq!(agent.patch(&path, json!({"tag_ids": "x"})).await.status, 422);

    // The list by tag, with and without words; a bad id is named.
    assert_eq!(ids(&agent, &format!("?tag_id={urgent}")).await, [one.0]);
    assert_eq!(ids(&agent, &format!("?tag_id={urgent}&q=aziz")).await, [one.0]);
    assert!(ids(&agent, &format!("?tag_id={urgent}&q=madina")).await.is_empty());
    assert!(ids(&agent, &format!("?tag_id={vip}")).await.is_empty());
    assert_eq!(agent.get("/api/v1/chats?tag_id=-3").await.status, 422);
    let audited = app
        .scalar_i64(&format!(
            "SELECT count(*) FROM audit_log WHERE entity = 'chat' AND entity_id = '{}' AND action = 'tagged' AND summary = 'tags +Urgent'",
            one.0
        ))
        .await;
    assert_eq!(audited, 1);

    // The thread's header: chips and the picker, the locked tag fixed for an agent; the inbox
    // filters by its Tag menu and shows chips on rows.
    let browser = app.sign_in_as(Role::Agent).await;
    let thread = browser.get(&format!("/crm/chats/{}", one.0)).await;
    assert!(thread.body.contains("data-color=\"#64748b\">Urgent</li>"), "{}", thread.body);
    assert!(thread.body.contains(&format!("name=\"tag_id\" value=\"{vip}\" disabled")), "{}", thread.body);
    let back = format!("/crm/chats/{}?status=any", two.0);
    let put =
        browser.post(&format!("/crm/chats/{}/tags", two.0), &[("tag_id", &urgent.to_string()), ("back", &back)]).await;
    assert_eq!((put.status, put.location()), (303, Some(back.as_str())), "{}", put.body);
    let forged = browser.post(&format!("/crm/chats/{}/tags", two.0), &[("tag_id", &vip.to_string())]).await;
    assert_eq!(forged.status, 303, "refused, and told so on the thread");
    let told = browser.get(forged.location().unwrap()).await;
    assert!(told.body.contains("Only an admin can add or remove a locked tag."), "{}", told.body);
    assert_eq!(names(&agent.get(&format!("/api/v1/chats/{}", two.0)).await.json()), ["Urgent"]);
    let inbox = browser.get(&format!("/crm/chats?status=any&tag_id={urgent}")).await;
    assert!(inbox.body.contains(&format!("<option value=\"{urgent}\" selected>Urgent</option>")), "{}", inbox.body);
    assert!(
        inbox.body.contains(&format!("data-chat=\"{}\"", one.0))
            && inbox.body.contains(&format!("data-chat=\"{}\"", two.0))
    );
    assert!(inbox.body.contains("tag tag-mini"), "chips on the rows");
    let list = browser.get(&format!("/crm/chats/list?status=any&tag_id={vip}")).await;
    assert!(!list.body.contains("data-chat="), "{}", list.body);
}
