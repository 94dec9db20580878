//! `record_visibility: own`, tried as agents on every list and search there is: an agent
//! reaches the clients they own and those whose chat is assigned to them, those clients'
//! chats, and the companies and deals they own; anything else is not found, in the API, the
//! pages, the CSV export, the inbox, its badge and search, and the live stream. Admins reach
//! all. (Deals and companies have tests of their own: tests/app/deals.rs, companies.rs.)

use std::time::Duration;

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp};

fn ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

fn chat_ids(list: &Value) -> Vec<i64> {
    ids(list)
}

async fn me(api: &Api) -> i64 {
    api.get("/api/v1/me").await.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn under_own_visibility_every_list_and_search_shows_an_agent_only_their_clients_and_chats() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (ann, ann_page) = app.api_and_browser(Role::Agent).await;
    let (bob, bob_page) = app.api_and_browser(Role::Agent).await;
    let ann_id = me(&ann).await;

    // Each made their own client (who wrote in); Bob's second client's chat is Ann's to answer;
    // the admin's client is nobody's but the admin's.
    let (anns, _, anns_chat) = app.client_who_wrote(&ann, "Shared Anna", "+998901110001").await;
    let (bobs, bobs_contact, bobs_chat) = app.client_who_wrote(&bob, "Shared Boris", "+998901110002").await;
    let (handed, _, handed_chat) = app.client_who_wrote(&bob, "Shared Bella", "+998901110003").await;
    let (admins, _, _) = app.client_who_wrote(&admin, "Shared Adam", "+998901110004").await;
    let bruno = bob.post("/api/v1/clients", json!({"first_name": "Shared Bruno", "phone": "+998901119999"})).await;
    let bruno = bruno.json()["id"].as_i64().unwrap();
    let assigned = admin.patch(&format!("/api/v1/chats/{}", handed_chat.0), json!({"assignee_id": ann_id})).await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(ids(&ann.get("/api/v1/clients").await.json()).len(), 5, "all while visibility is all");

    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    let anns_reach = {
        let mut v = vec![anns.0, handed.0];
        v.sort();
        v
    };
    let mut anns_chats = vec![anns_chat.0, handed_chat.0];
    anns_chats.sort();

    // Lists and searches of clients, in the API and the pages, and the CSV export.
    assert_eq!(ids(&ann.get("/api/v1/clients").await.json()), anns_reach);
    assert_eq!(ids(&ann.get("/api/v1/clients?q=shared").await.json()), anns_reach);
    assert_eq!(ids(&ann.get("/api/v1/clients?q=boris").await.json()), Vec::<i64>::new());
    assert_eq!(ids(&ann.get("/api/v1/clients?q=998901110002").await.json()), Vec::<i64>::new(), "by phone");
    assert_eq!(ann.get("/api/v1/clients?sort=name").await.json()["total"], 2);
    let listed = ann_page.get("/crm/clients?q=shared").await;
    assert!(listed.body.contains("Shared Anna") && listed.body.contains("Shared Bella"), "{}", listed.body);
    assert!(!listed.body.contains("Shared Boris") && !listed.body.contains("Shared Adam"));
    let csv = ann_page.get("/crm/clients/export.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("Shared Anna") && csv.body.contains("Shared Bella"), "{}", csv.body);
    assert!(!csv.body.contains("Shared Boris") && !csv.body.contains("Shared Adam"), "{}", csv.body);

    // One client, its contacts and chat: another's is not found, to read or to change.
    for path in [
        format!("/api/v1/clients/{}", bobs.0),
        format!("/api/v1/clients/{}/contacts", bobs.0),
        format!("/api/v1/clients/{}/chat", bobs.0),
        format!("/api/v1/chats/{}", bobs_chat.0),
        format!("/api/v1/chats/{}/messages", bobs_chat.0),
    ] {
        assert_eq!(ann.get(&path).await.status, 404, "{path}");
    }
    assert_eq!(ann.patch(&format!("/api/v1/clients/{}", bobs.0), json!({"first_name": "Mine"})).await.status, 404);
    let contact = json!({"type": "email", "value": "x@example.test"});
    assert_eq!(ann.post(&format!("/api/v1/clients/{}/contacts", bobs.0), contact).await.status, 404);
    let note = json!({"body": "peek", "transport": "note"});
    assert_eq!(ann.post(&format!("/api/v1/chats/{}/messages", bobs_chat.0), note).await.status, 404);
    assert_eq!(ann.patch(&format!("/api/v1/chats/{}", bobs_chat.0), json!({"status": "resolved"})).await.status, 404);
    assert_eq!(ann.post(&format!("/api/v1/chats/{}/read", bobs_chat.0), json!({})).await.status, 404);
    for page in [format!("/crm/clients/{}", bobs.0), format!("/crm/chats/{}", bobs_chat.0)] {
        assert_eq!(ann_page.get(&page).await.status, 404, "{page}");
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Mine'").await, 0);
    // What she reaches she reads, the assigned client's profile too.
    assert_eq!(ann.get(&format!("/api/v1/clients/{}", handed.0)).await.status, 200);
    assert_eq!(ann_page.get(&format!("/crm/chats/{}", handed_chat.0)).await.status, 200);

    // A deal cannot name a client she does not reach; a duplicate phone does not name its holder.
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();
    let deal = ann.post("/api/v1/deals", json!({"title": "x", "pipeline_id": pipeline, "client_id": bobs.0})).await;
    assert_eq!(deal.status, 422, "{}", deal.body);
    ann_page.get("/crm/clients/new").await;
    let twin = ann_page.post("/crm/clients", &[("first_name", "Twin"), ("phone", "+998901119999")]).await;
    assert_eq!(twin.status, 422, "{}", twin.body);
    assert!(!twin.body.contains("Bruno") && !twin.body.contains(&format!("/crm/clients/{bruno}")), "{}", twin.body);
    bob_page.get("/crm/clients/new").await;
    let bobs_twin = bob_page.post("/crm/clients", &[("first_name", "Twin"), ("phone", "+998901119999")]).await;
    assert!(bobs_twin.body.contains("Shared Bruno"), "its owner is told who has it: {}", bobs_twin.body);

    // The inbox: its views, counts, search and badge.
    assert_eq!(chat_ids(&ann.get("/api/v1/chats").await.json()), anns_chats);
    assert_eq!(chat_ids(&ann.get("/api/v1/chats?q=shared").await.json()), anns_chats, "by name");
    assert_eq!(chat_ids(&ann.get("/api/v1/chats?q=hello").await.json()), anns_chats, "by text");
    assert_eq!(chat_ids(&ann.get("/api/v1/chats?assignee=none").await.json()), vec![anns_chat.0]);
    assert_eq!(chat_ids(&ann.get("/api/v1/chats?unread=true").await.json()), anns_chats);
    let inbox = ann_page.get("/crm/chats/list").await;
    assert!(inbox.body.contains("Shared Anna") && !inbox.body.contains("Shared Boris"), "{}", inbox.body);
    let searched = ann_page.get("/crm/chats/list?q=hello").await;
    assert!(!searched.body.contains("Shared Boris") && !searched.body.contains("Shared Adam"), "{}", searched.body);
    let badge = ann_page.get("/crm/chats/unread").await;
    assert!(badge.body.contains(">2<"), "two unread of hers, not four: {}", badge.body);

    // Bob still reaches the client whose chat Ann answers: he owns it.
    assert_eq!(ids(&bob.get("/api/v1/clients").await.json()), {
        let mut v = vec![bobs.0, handed.0, bruno];
        v.sort();
        v
    });
    // Admins reach all.
    assert_eq!(ids(&admin.get("/api/v1/clients").await.json()).len(), 5);
    assert_eq!(chat_ids(&admin.get("/api/v1/chats").await.json()).len(), 4);
    assert_eq!(admin.get(&format!("/api/v1/clients/{}", admins.0)).await.status, 200);

    // The live stream: a message in a chat she does not reach tells her page nothing; one in
    // hers arrives, with a badge to count again.
    let wait = Duration::from_millis(1500);
    let theirs = app.heard(&ann_page, wait, async {
        app.writes(app.tenant, bobs, bobs_contact, "secret text").await;
    });
    let (heard_by_ann, heard_by_bob) = tokio::join!(theirs, app.heard(&bob_page, wait, async {}));
    assert!(!heard_by_ann.contains("secret text") && !heard_by_ann.contains("event: unread"), "{heard_by_ann}");
    let _ = heard_by_bob;
    let mine = app
        .heard(&ann_page, wait, async {
            let note = json!({"body": "my own note", "transport": "note"});
            assert_eq!(ann.post(&format!("/api/v1/chats/{}/messages", anns_chat.0), note).await.status, 202);
        })
        .await;
    assert!(mine.contains("my own note"), "{mine}");
}
