//! Merging two records of one person: what moves, what the survivor takes, the walls around
//! it, undoing it by restoring the merged one, and a deleted client who writes again.

use crm::domain::chat::Transport;
use crm::domain::{ClientId, ContactId, Role};
use crm::services::inbound::Incoming;
use serde_json::{Value, json};

use crate::channels::{CLIENT, app_with_fakes, post_twilio, sms, twilio_channel};
use crate::fakes::AUTH_TOKEN;
use crate::helpers::{Api, TestApp};

async fn client(api: &Api, body: Value) -> (ClientId, Vec<ContactId>) {
    let made = api.post("/api/v1/clients", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    let contacts = made["contacts"].as_array().unwrap().iter().map(|c| ContactId(c["id"].as_i64().unwrap())).collect();
    (ClientId(made["id"].as_i64().unwrap()), contacts)
}

async fn writes(app: &TestApp, client: ClientId, contact: ContactId, body: &str) {
    let incoming = Incoming { client, contact, transport: Transport::Sms, sender_name: "Client", body };
    app.state.inbound.receive_from(app.tenant, incoming).await.unwrap();
}

/// The bodies of a client's conversation, oldest first.
async fn thread(api: &Api, client: ClientId) -> Vec<String> {
    let chat = api.get(&format!("/api/v1/clients/{}/chat", client.0)).await;
    if chat.status == 404 {
        return Vec::new();
    }
    let chat_id = chat.json()["id"].as_i64().unwrap();
    let page = api.get(&format!("/api/v1/chats/{chat_id}/messages?limit=50")).await.json();
    let mut bodies: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect();
    bodies.reverse();
    bodies
}

#[tokio::test]
async fn a_merge_moves_contacts_and_the_thread_fills_empty_fields_and_a_restore_undoes_it() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (aziz, aziz_contacts) = client(
        &admin,
        json!({"first_name": "Aziz", "phone": "+998901110001", "contacts": [{"type": "phone", "value": "+998901110001"}]}),
    )
    .await;
    let (twin, twin_contacts) = client(
        &admin,
        json!({"first_name": "Aziz K.", "email": "aziz@example.uz", "pin": "12345678901234",
               "contacts": [{"type": "whatsapp", "value": "+998935550001"}, {"type": "phone", "value": "+998901110001"}]}),
    )
    .await;
    writes(&app, aziz, aziz_contacts[0], "one").await;
    writes(&app, twin, twin_contacts[0], "two").await;
    writes(&app, aziz, aziz_contacts[0], "three").await;
    writes(&app, twin, twin_contacts[0], "four").await;
    // The twin has a deal; it follows the merge and comes back with the restore.
    let pipeline = admin.get("/api/v1/pipelines").await.json()["items"][0]["id"].clone();
    let twins_deal = admin
        .post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline, "client_id": twin.0}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let deal_client = |id: i64| {
        let admin = &admin;
        async move { admin.get(&format!("/api/v1/deals/{id}")).await.json()["client_id"].as_i64().unwrap() }
    };

    let merged = admin.post(&format!("/api/v1/clients/{}/merge", aziz.0), json!({"from_client_id": twin.0})).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let merged = merged.json();
    assert_eq!(merged["first_name"], "Aziz", "the survivor keeps its own values");
    assert_eq!(merged["email"], "aziz@example.uz", "and takes the other's where it had none");
    assert_eq!(merged["pin"], "12345678901234");
    let kinds: Vec<_> = merged["contacts"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 2, "the twin's duplicate phone stays behind: {kinds:?}");
    assert!(kinds.contains(&"+998935550001"));
    assert_eq!(thread(&admin, aziz).await, ["one", "two", "three", "four"], "one thread, in time order");
    assert_eq!(admin.get(&format!("/api/v1/clients/{}", twin.0)).await.status, 404, "the other is archived");
    let merged_into = app.scalar_i64(&format!("SELECT merged_into FROM clients WHERE id = {}", twin.0)).await;
    assert_eq!(merged_into, aziz.0);
    let unread = app.scalar_i64(&format!("SELECT unread_count::bigint FROM chats WHERE client_id = {}", aziz.0)).await;
    assert_eq!(unread, 4, "the counts follow the messages");
    let audited = app.scalar_i64("SELECT count(*) FROM audit_log WHERE action IN ('merged', 'merged_into')").await;
    assert_eq!(audited, 2);

    assert_eq!(deal_client(twins_deal).await, aziz.0, "the twin's deal is the survivor's");
    let later_deal = admin
        .post("/api/v1/deals", json!({"title": "Office", "pipeline_id": pipeline, "client_id": aziz.0}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();

    // A message to the twin's WhatsApp now reaches the survivor's thread.
    writes(&app, aziz, ContactId(twin_contacts[0].0), "five").await;

    // Restoring the twin undoes the merge: its contact, messages and values go back.
    let browser = app.sign_in_as(Role::Admin).await;
    let csrf = browser.get("/crm/clients/archived").await.csrf().unwrap();
    let restored = browser.post(&format!("/crm/clients/{}/restore", twin.0), &[("_csrf", &csrf)]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(thread(&admin, aziz).await, ["one", "three", "five"]);
    assert_eq!(thread(&admin, twin).await, ["two", "four"]);
    assert_eq!(
        (deal_client(twins_deal).await, deal_client(later_deal).await),
        (twin.0, aziz.0),
        "only what moved goes back"
    );
    let aziz_now = admin.get(&format!("/api/v1/clients/{}", aziz.0)).await.json();
    assert_eq!((&aziz_now["email"], &aziz_now["pin"]), (&Value::Null, &Value::Null), "{aziz_now}");
    assert_eq!(aziz_now["contacts"].as_array().unwrap().len(), 1);
    let twin_now = admin.get(&format!("/api/v1/clients/{}", twin.0)).await.json();
    assert_eq!(twin_now["pin"], "12345678901234", "the PIN went back: {twin_now}");
    assert_eq!(twin_now["contacts"].as_array().unwrap().len(), 2);
    let merged_into = app.scalar_i64("SELECT count(*) FROM clients WHERE merged_into IS NOT NULL").await;
    assert_eq!(merged_into, 0);
}

#[tokio::test]
async fn a_merge_is_refused_with_itself_twice_across_tenants_and_to_agents() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (a, _) = client(&admin, json!({"first_name": "A"})).await;
    let (b, _) = client(&admin, json!({"first_name": "B"})).await;
    let (c, _) = client(&admin, json!({"first_name": "C"})).await;
    let merge = |into: ClientId, from: Value| {
        let admin = &admin;
        async move { admin.post(&format!("/api/v1/clients/{}/merge", into.0), json!({"from_client_id": from})).await }
    };
    let itself = merge(a, json!(a.0)).await;
    assert_eq!(itself.status, 422, "{}", itself.body);
    assert!(itself.json()["error"]["fields"]["from_client_id"].is_array());
    assert_eq!(merge(a, json!("b")).await.status, 422);
    assert_eq!(merge(a, json!(999_999)).await.status, 422, "an unknown client in the body");
    let missing = admin.post("/api/v1/clients/999999/merge", json!({"from_client_id": a.0})).await;
    assert_eq!(missing.status, 404);
    let agent = app.api(Role::Agent).await;
    let by_agent = agent.post(&format!("/api/v1/clients/{}/merge", a.0), json!({"from_client_id": b.0})).await;
    assert_eq!(by_agent.status, 403, "archiving the other is the admins'");
    let (other_tenant, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(other_tenant, Role::Admin).await;
    let across = stranger.post(&format!("/api/v1/clients/{}/merge", a.0), json!({"from_client_id": b.0})).await;
    assert_eq!(across.status, 404);
    let (theirs, _) = client(&stranger, json!({"first_name": "Theirs"})).await;
    let taken = admin.post(&format!("/api/v1/clients/{}/merge", a.0), json!({"from_client_id": theirs.0})).await;
    assert_eq!(taken.status, 422, "another tenant's client is unknown here: {}", taken.body);

    assert_eq!(merge(a, json!(b.0)).await.status, 200);
    assert_eq!(merge(c, json!(b.0)).await.status, 409, "b was merged already");
    assert_eq!(merge(b, json!(c.0)).await.status, 409, "into a merged client");
}

/// Madina wrote "before", was deleted, and writes "after" from the same number through the
/// real Twilio webhook: the archived profile (`old`) and the new stranger.
async fn deleted_client_writes_again(app: &TestApp, admin: &Api) -> (ClientId, ClientId) {
    twilio_channel(admin, "twilio_sms").await;
    let (old, contacts) = client(
        admin,
        json!({"first_name": "Madina", "phone": CLIENT, "contacts": [{"type": "phone", "value": CLIENT}]}),
    )
    .await;
    writes(app, old, contacts[0], "before").await;
    assert_eq!(admin.delete(&format!("/api/v1/clients/{}", old.0)).await.status, 204);
    let fields = sms("SM00000000000000000000000000000901", "after");
    assert_eq!(post_twilio(app, "/crm/webhooks/twilio", &fields, Some(AUTH_TOKEN)).await, 200);
    let stranger = ClientId(app.scalar_i64("SELECT id FROM clients WHERE archived_at IS NULL").await);
    assert_ne!(stranger, old);
    (old, stranger)
}

#[tokio::test]
async fn a_deleted_client_who_writes_again_is_offered_for_merging_not_lost() {
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    // She writes again from the same number: a new stranger, whose page offers the old profile.
    let (old, stranger) = deleted_client_writes_again(&app, &admin).await;
    let browser = app.sign_in_as(Role::Admin).await;
    let page = browser.get(&format!("/crm/clients/{}", stranger.0)).await;
    assert!(page.body.contains("Madina"), "the archived twin is named: {}", page.body);
    assert!(page.body.contains(&format!(r#"name="from_client_id" value="{}""#, old.0)), "{}", page.body);

    let csrf = page.csrf().unwrap();
    let merged = browser
        .post(
            &format!("/crm/clients/{}/merge", stranger.0),
            &[("_csrf", &csrf), ("from_client_id", &old.0.to_string())],
        )
        .await;
    assert_eq!(merged.status, 303, "{}", merged.body);
    assert_eq!(thread(&admin, stranger).await, ["before", "after"]);
    let now = admin.get(&format!("/api/v1/clients/{}", stranger.0)).await.json();
    assert_eq!(now["phone"], CLIENT, "the number came with her: {now}");
    assert!(
        !browser.get(&format!("/crm/clients/{}", stranger.0)).await.body.contains("from_client_id"),
        "offered no more"
    );
}

#[tokio::test]
async fn restoring_a_client_whose_number_a_stranger_now_writes_from_offers_the_merge() {
    let (app, _twilio, _telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let (old, stranger) = deleted_client_writes_again(&app, &admin).await;

    // Restored from the archive, she lands on her page, which names the stranger writing
    // from her number and offers to take them in.
    let browser = app.sign_in_as(Role::Admin).await;
    let csrf = browser.get("/crm/clients/archived").await.csrf().unwrap();
    let restored = browser.post(&format!("/crm/clients/{}/restore", old.0), &[("_csrf", &csrf)]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    let page = browser.get(restored.location().unwrap()).await;
    assert!(page.body.contains("Maybe the same person"), "{}", page.body);
    assert!(page.body.contains(&format!(r#"name="from_client_id" value="{}""#, stranger.0)), "{}", page.body);
    let merged = browser
        .post(
            &format!("/crm/clients/{}/merge", old.0),
            &[("_csrf", &csrf), ("from_client_id", &stranger.0.to_string())],
        )
        .await;
    assert_eq!(merged.status, 303, "{}", merged.body);
    assert_eq!(thread(&admin, old).await, ["before", "after"]);
}

#[tokio::test]
async fn the_merge_picker_finds_the_other_client_by_name_in_either_alphabet() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (here, _) = client(&admin, json!({"first_name": "Мадина", "last_name": "Каримова"})).await;
    let (other, _) =
        client(&admin, json!({"first_name": "Madina", "last_name": "Karimova", "phone": "+998901112233"})).await;
    let browser = app.sign_in_as(Role::Admin).await;
    let page = browser.get(&format!("/crm/clients/{}?tab=actions&merge_q=madina%20karimova", here.0)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let found = page.body.split("id=\"merge-candidates\"").nth(1).unwrap().split("</div>").next().unwrap();
    // The other one, told apart by her number, with its merge button; never this one.
    assert!(found.contains(&format!(r#"name="from_client_id" value="{}""#, other.0)), "{found}");
    assert!(found.contains("+998 90 111 22 33"), "{found}");
    assert!(!found.contains(&format!(r#"value="{}""#, here.0)), "{found}");
    let nobody = browser.get(&format!("/crm/clients/{}?tab=actions&merge_q=zzz", here.0)).await;
    assert!(nobody.body.contains("No other client matches “zzz”."), "{}", nobody.body);
    // Agents do not merge: no picker, and no search run for them.
    let agent = app.sign_in_as(Role::Agent).await;
    let theirs = agent.get(&format!("/crm/clients/{}?tab=actions&merge_q=madina", here.0)).await;
    assert!(!theirs.body.contains("merge-candidates"), "{}", theirs.body);
}
