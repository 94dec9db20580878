//! The inbox as staff and integrators use it: permissions, tenancy on every route, unread
//! counts, files, and message templates filled in for the client.

use crm::domain::chat::{ChatId, Transport};
use crm::domain::{ClientId, ContactId, Role, TenantId};
use crm::services::inbound::Incoming;
use serde_json::json;

use crate::helpers::{Api, TestApp};

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

/// A client of the tenant with a phone contact, through the API, and its chat.
async fn client_with_chat(api: &Api) -> (ClientId, ContactId, ChatId) {
    let client = api
        .post(
            "/api/v1/clients",
            json!({"first_name": "Dilnoza", "last_name": "Karimova", "phone": "+998901234567",
                   "contacts": [{"type": "phone", "value": "+998901234567"}]}),
        )
        .await
        .json();
    let chat = api.post(&format!("/api/v1/clients/{}/chat", client["id"]), serde_json::json!({})).await.json();
    (
        ClientId(client["id"].as_i64().unwrap()),
        ContactId(client["contacts"][0]["id"].as_i64().unwrap()),
        ChatId(chat["id"].as_i64().unwrap()),
    )
}

/// What the client writes, as a channel hands it over.
async fn client_writes(app: &TestApp, tenant: TenantId, client: ClientId, contact: ContactId, body: &str) -> i64 {
    let incoming = Incoming { client, contact, transport: Transport::Sms, sender_name: "Dilnoza", body };
    app.state.inbound.receive_from(tenant, incoming).await.unwrap().0
}

async fn messages(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) FROM messages").await
}

#[tokio::test]
async fn an_agent_writes_a_note_and_a_viewer_reads_but_cannot_send() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (client, _, chat) = client_with_chat(&admin).await;
    let agent = app.sign_in_as(Role::Agent).await;

    let opened = agent.get(&format!("/crm/clients/{}/chat", client.0)).await;
    assert_eq!(opened.location(), Some(format!("/crm/chats/{}", chat.0).as_str()), "the Chat tab opens the chat");
    let sent = agent
        .upload_files(
            &format!("/crm/chats/{}/messages", chat.0),
            "files",
            &[],
            &[("body", "Called her: she comes on Monday"), ("note", "1")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = agent.get(&format!("/crm/chats/{}", chat.0)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Called her: she comes on Monday"));
    assert!(page.body.contains("msg-note"), "shown as a note");
    assert!(page.body.contains("Dilnoza Karimova"), "the list and the header name the client");

    let viewer = app.sign_in_as(Role::Viewer).await;
    assert_eq!(viewer.get(&format!("/crm/chats/{}", chat.0)).await.status, 200, "a viewer may read");
    let before = messages(&app).await;
    let refused = viewer
        .upload_files(&format!("/crm/chats/{}/messages", chat.0), "files", &[], &[("body", "hi"), ("note", "1")])
        .await;
    assert_eq!(refused.status, 403);
    let api_viewer = app.api(Role::Viewer).await;
    let refused = api_viewer
        .post(&format!("/api/v1/chats/{}/messages", chat.0), json!({"body": "hi", "transport": "note"}))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(messages(&app).await, before, "nothing written");
    assert_eq!(api_viewer.post(&format!("/api/v1/chats/{}/read", chat.0), json!({})).await.status, 403);
}

/// Reading finds: a GET of a client's chat, by anyone, makes no chat and no audit entry; only a
/// POST by someone who may write in chats starts one.
#[tokio::test]
async fn the_thread_header_links_every_way_of_reaching_the_client() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let (client, _, chat) = client_with_chat(&api).await;
    for (kind, value) in [
        ("whatsapp", "+998931112233"),
        ("telegram", "@Dilnoza_K"),
        ("telegram", "123456789"),
        ("email", "dk@mail.uz"),
        ("other", "https://instagram.com/dilnoza"),
    ] {
        let added =
            api.post(&format!("/api/v1/clients/{client}/contacts"), json!({"type": kind, "value": value})).await;
        assert_eq!(added.status, 201, "{}", added.body);
    }
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{chat}")).await;
    let header = page.body.split("thread-contacts").nth(1).expect("the contacts line").split("</p>").next().unwrap();
    // The phone once (the client's phone and its phone contact are one number).
    assert_eq!(header.matches("href=\"tel:+998901234567\"").count(), 1, "{header}");
    for link in
        ["https://wa.me/998931112233", "https://t.me/dilnoza_k", "mailto:dk@mail.uz", "https://instagram.com/dilnoza"]
    {
        assert!(header.contains(&format!("href=\"{link}\"")), "{link} in {header}");
    }
    // A Telegram user known only by number has no public link: shown, not linked.
    assert!(header.contains("123456789</span>") && !header.contains("t.me/123456789"), "{header}");
}

#[tokio::test]
async fn reading_a_clients_chat_creates_nothing_and_starting_it_is_a_post() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let client = admin.post("/api/v1/clients", json!({"first_name": "Nodira"})).await.json()["id"].as_i64().unwrap();
    let audit = || app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'chat'");
    let chats = || app.scalar_i64("SELECT count(*) FROM chats");

    let viewer = app.api(Role::Viewer).await;
    assert_eq!(viewer.get(&format!("/api/v1/clients/{client}/chat")).await.status, 404, "no conversation yet");
    let viewer_page = app.sign_in_as(Role::Viewer).await;
    let tab = viewer_page.get(&format!("/crm/clients/{client}/chat")).await;
    assert_eq!(tab.status, 200);
    assert!(tab.body.contains("No conversation with Nodira yet."), "{}", tab.body);
    assert!(!tab.body.contains("Start the conversation"), "a viewer may not start one");
    assert_eq!(viewer.post(&format!("/api/v1/clients/{client}/chat"), json!({})).await.status, 403);
    assert_eq!((chats().await, audit().await), (0, 0), "reading made nothing");

    // An agent starts it from the tab; the API answers the same chat afterwards.
    let agent = app.sign_in_as(Role::Agent).await;
    let tab = agent.get(&format!("/crm/clients/{client}/chat")).await;
    assert!(tab.body.contains("Start the conversation"));
    let started = agent.post(&format!("/crm/clients/{client}/chat"), &[]).await;
    assert_eq!(started.status, 303);
    let chat = started.location().unwrap().rsplit('/').next().unwrap().to_owned();
    assert_eq!((chats().await, audit().await), (1, 1));
    let found = viewer.get(&format!("/api/v1/clients/{client}/chat")).await.json();
    assert_eq!(found["id"].to_string(), chat);
    let again = admin.post(&format!("/api/v1/clients/{client}/chat"), json!({})).await;
    assert_eq!((again.status, again.json()["id"].to_string()), (200, chat.clone()), "the one there is");
    assert_eq!(
        viewer_page.get(&format!("/crm/clients/{client}/chat")).await.location(),
        Some(format!("/crm/chats/{chat}").as_str())
    );
    assert_eq!(chats().await, 1);
}

#[tokio::test]
async fn another_tenants_chat_is_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (client, contact, chat) = client_with_chat(&admin).await;
    let inbound = client_writes(&app, app.tenant, client, contact, "Is my order ready?").await;
    let note = admin
        .post(&format!("/api/v1/chats/{}/messages", chat.0), json!({"body": "Checking", "transport": "note"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();

    let (other, creds) = app.create_tenant("Rival").await;
    let stranger = app.client();
    stranger.sign_in(&creds).await;
    let c = chat.0;
    for path in [
        format!("/crm/chats/{c}"),
        format!("/crm/chats/{c}/messages"),
        format!("/crm/chats/{c}/attachments/1"),
        format!("/crm/clients/{}/chat", client.0),
    ] {
        assert_eq!(stranger.get(&path).await.status, 404, "GET {path}");
    }
    for path in [format!("/crm/chats/{c}/read"), format!("/crm/chats/{c}/messages/{note}/retry")] {
        assert_eq!(stranger.post(&path, &[]).await.status, 404, "POST {path}");
    }
    let sent =
        stranger.upload_files(&format!("/crm/chats/{c}/messages"), "files", &[], &[("body", "x"), ("note", "1")]).await;
    assert_eq!(sent.status, 404, "send");
    let list = stranger.get("/crm/chats").await;
    assert!(!list.body.contains("Dilnoza"), "not in the other tenant's inbox");

    let api = app.api_in(other, Role::Admin).await;
    for path in [format!("/api/v1/chats/{c}"), format!("/api/v1/chats/{c}/messages")] {
        assert_eq!(api.get(&path).await.status, 404, "GET {path}");
    }
    assert_eq!(api.get(&format!("/api/v1/clients/{}/chat", client.0)).await.status, 404);
    assert_eq!(api.post(&format!("/api/v1/clients/{}/chat", client.0), json!({})).await.status, 404);
    assert_eq!(
        api.post(&format!("/api/v1/chats/{c}/messages"), json!({"body": "x", "transport": "note"})).await.status,
        404
    );
    assert_eq!(api.put(&format!("/api/v1/chats/{c}/messages/{inbound}/read"), json!({})).await.status, 404);
    assert_eq!(api.post(&format!("/api/v1/chats/{c}/read"), json!({})).await.status, 404);
    assert_eq!(api.get("/api/v1/chats").await.json()["items"], json!([]));

    assert_eq!(messages(&app).await, 2, "nothing written");
    let unread = admin.get(&format!("/api/v1/chats/{c}")).await.json()["unread_count"].clone();
    assert_eq!(unread, 1, "nothing read");
}

#[tokio::test]
async fn unread_counts_only_the_clients_messages_and_reading_clears_them() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (client, contact, chat) = client_with_chat(&admin).await;
    let first = client_writes(&app, app.tenant, client, contact, "Hello").await;
    admin.post(&format!("/api/v1/chats/{}/messages", chat.0), json!({"body": "Hi!", "transport": "note"})).await;
    let second = client_writes(&app, app.tenant, client, contact, "Are you there?").await;

    let listed = admin.get("/api/v1/chats?unread=true").await.json();
    assert_eq!(listed["items"][0]["unread_count"], 2, "two from the client; the note does not count");
    assert_eq!(listed["items"][0]["last_message"]["body"], "Are you there?");
    let agent = app.sign_in_as(Role::Agent).await;
    assert!(agent.get("/crm/chats/unread").await.body.contains(">2<"), "the navigation's badge");

    // The page shows the thread, then says what the reader saw.
    let read = agent.post(&format!("/crm/chats/{}/read", chat.0), &[("up_to", &first.to_string())]).await;
    assert_eq!(read.status, 303);
    assert_eq!(admin.get(&format!("/api/v1/chats/{}", chat.0)).await.json()["unread_count"], 1);
    let one = admin.put(&format!("/api/v1/chats/{}/messages/{second}/read", chat.0), json!({})).await;
    assert_eq!(one.status, 204);
    assert_eq!(admin.get("/api/v1/chats?unread=true").await.json()["items"], json!([]));
    assert!(!agent.get("/crm/chats/unread").await.body.contains("nav-badge"), "no badge at zero");
    let page = admin.get(&format!("/api/v1/chats/{}/messages", chat.0)).await.json();
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "inbound")
            .all(|m| m["read_at"].is_string())
    );

    // Search by message text and by the client's phone.
    assert_eq!(admin.get("/api/v1/chats?q=there").await.json()["items"][0]["id"], chat.0);
    assert_eq!(admin.get("/api/v1/chats?q=90%20123").await.json()["items"][0]["id"], chat.0);
    assert_eq!(admin.get("/api/v1/chats?q=nobody").await.json()["items"], json!([]));
}

#[tokio::test]
async fn files_are_checked_stored_served_to_the_tenant_only_and_erased_with_the_client() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (client, _, chat) = client_with_chat(&admin).await;
    let agent = app.sign_in_as(Role::Agent).await;
    let path = format!("/crm/chats/{}/messages", chat.0);

    let sent = agent
        .upload_files(&path, "files", &[("scan.png", PNG), ("contract.pdf", b"%PDF-1.7 test")], &[("note", "1")])
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let m = &admin.get(&format!("/api/v1/chats/{}/messages", chat.0)).await.json()["items"][0];
    assert_eq!(m["attachments"].as_array().unwrap().len(), 2);
    let image = agent.get(m["attachments"][0]["url"].as_str().unwrap()).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert!(image.header("content-disposition").unwrap().starts_with("inline"));
    let pdf = agent.get(m["attachments"][1]["url"].as_str().unwrap()).await;
    assert!(pdf.header("content-disposition").unwrap().starts_with("attachment"), "documents download");
    assert_eq!(pdf.body, "%PDF-1.7 test");
    let thread = agent.get(&format!("/crm/chats/{}", chat.0)).await.body;
    let image_url = m["attachments"][0]["url"].as_str().unwrap();
    assert!(thread.contains(&format!("<img src=\"{image_url}\"")), "the image inline");
    assert!(thread.contains("download=\"contract.pdf\""), "the document as a download link");

    let (_, creds) = app.create_tenant("Rival").await;
    let stranger = app.client();
    stranger.sign_in(&creds).await;
    assert_eq!(stranger.get(m["attachments"][0]["url"].as_str().unwrap()).await.status, 404);
    assert_eq!(
        app.client().get(m["attachments"][0]["url"].as_str().unwrap()).await.status,
        303,
        "signed-out: to sign-in"
    );

    let before = messages(&app).await;
    for (name, bytes, why) in [
        ("page.html", b"<script>".as_slice(), "cannot be sent"),
        ("photo.jpg", b"not a jpeg".as_slice(), "not the image"),
    ] {
        let refused =
            agent.upload_files(&path, "files", &[(name, bytes)], &[("body", "see file"), ("note", "1")]).await;
        assert_eq!(refused.status, 422, "{name}");
        assert!(refused.body.contains(why), "{name}: the reason is shown");
        assert!(refused.body.contains("see file"), "{name}: the text typed is kept");
    }
    assert_eq!(messages(&app).await, before, "nothing half-written");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attachments").await, 2);
    let files = app.state.config.data_dir.join("files");
    assert_eq!(files_under(&files), 2, "only the accepted files are stored");

    // Erasing the client (the right to erasure) takes its files too.
    let admin_page = app.sign_in_as(Role::Admin).await;
    assert_eq!(admin_page.post(&format!("/crm/clients/{}/erase", client.0), &[]).await.status, 303);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attachments").await, 0);
    assert_eq!(files_under(&files), 0, "no file of the erased client is left");
}

#[tokio::test]
async fn the_purge_of_long_archived_clients_takes_their_files_and_keeps_the_others() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let agent = app.sign_in_as(Role::Agent).await;
    let (gone, _, gone_chat) = client_with_chat(&admin).await;
    let kept = admin.post("/api/v1/clients", json!({"first_name": "Kept"})).await.json();
    let kept_chat =
        admin.post(&format!("/api/v1/clients/{}/chat", kept["id"]), serde_json::json!({})).await.json()["id"].clone();
    for chat in [gone_chat.0.to_string(), kept_chat.to_string()] {
        let path = format!("/crm/chats/{chat}/messages");
        let sent = agent.upload_files(&path, "files", &[("scan.png", PNG)], &[("note", "1")]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
    }
    let files = app.state.config.data_dir.join("files");
    assert_eq!(files_under(&files), 2);
    assert_eq!(admin.delete(&format!("/api/v1/clients/{}", gone.0)).await.status, 204);
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query("UPDATE clients SET archived_at = now() - interval '31 days' WHERE archived_at IS NOT NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(app.state.clients.purge_archived().await.unwrap(), 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM message_attachments").await, 1);
    assert_eq!(files_under(&files), 1, "the purged client's file is gone, the other client's kept");
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

#[tokio::test]
async fn templates_are_kept_by_admins_and_filled_in_for_the_client() {
    let app = TestApp::spawn().await;
    let admin_api = app.api(Role::Admin).await;
    let (_, _, chat) = client_with_chat(&admin_api).await;
    let admin = app.sign_in_as(Role::Admin).await;

    let bad = admin
        .post("/crm/instant-messages", &[("title", "Hi"), ("shortcut", "two words"), ("body", "Hi {{client.nick}}")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("A shortcut is one word"), "beside the shortcut");
    assert!(
        bad.body.contains(
            "{{client.nick}}: no client or agent has this to fill in. Use one of the variables listed above."
        ),
        "beside the text, naming the variable and pointing to the list (above it): {}",
        bad.body
    );
    assert!(bad.body.contains("Hi {{client.nick}}"), "input kept");
    let made = admin
        .post(
            "/crm/instant-messages",
            &[
                ("title", "Greeting"),
                ("shortcut", "/Hi"),
                ("body", "Hello {{client.first_name}}, {{agent.first_name}} here."),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    let taken = admin_api.post("/api/v1/message-templates", json!({"shortcut": "hi", "template": "x"})).await;
    assert_eq!(taken.status, 409);
    // The same words for the same conflict, in the API as beside the page's field.
    let said = "Another template already has this shortcut.";
    assert_eq!(taken.json()["error"]["fields"]["shortcut"][0], said, "{}", taken.body);
    admin.get("/crm/instant-messages/new").await;
    let again = admin.post("/crm/instant-messages", &[("shortcut", "hi"), ("body", "x")]).await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains(said));

    let agent = app.sign_in_as(Role::Agent).await;
    let list = agent.get("/crm/instant-messages?q=greet").await;
    assert!(list.body.contains("Greeting") && list.body.contains("/hi"));
    assert!(!list.body.contains("/crm/instant-messages/new"), "agents use templates but do not manage them");
    assert_eq!(agent.post("/crm/instant-messages", &[("body", "x")]).await.status, 403);

    let thread = agent.get(&format!("/crm/chats/{}", chat.0)).await;
    assert!(thread.body.contains("data-template-text=\"Hello Dilnoza, "), "filled in for the client");
    assert!(thread.body.contains("data-template-shortcut=\"hi\""));

    // A variable left unfilled is refused, not sent as typed.
    let before = messages(&app).await;
    let refused = admin_api
        .post(
            &format!("/api/v1/chats/{}/messages", chat.0),
            json!({"body": "Dear {{client.last_name}}", "transport": "note"}),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("\"body\""), "names the field: {}", refused.body);
    let by_template = admin_api.get("/api/v1/message-templates").await.json()["items"][0]["id"].clone();
    let sent = admin_api
        .post(&format!("/api/v1/chats/{}/messages", chat.0), json!({"template_id": by_template, "transport": "note"}))
        .await;
    assert_eq!(sent.status, 202);
    assert!(sent.json()["body"].as_str().unwrap().starts_with("Hello Dilnoza, "));
    assert_eq!(messages(&app).await, before + 1);

    let id = by_template.as_i64().unwrap();
    let edited = admin_api.put(&format!("/api/v1/message-templates/{id}"), json!({"template": "Bye"})).await;
    assert_eq!(edited.json()["shortcut"], serde_json::Value::Null, "a PUT replaces the whole template");
    assert_eq!(admin_api.delete(&format!("/api/v1/message-templates/{id}")).await.status, 204);
    assert_eq!(admin_api.get(&format!("/api/v1/message-templates/{id}")).await.status, 404);
}

#[tokio::test]
async fn a_long_thread_opens_on_its_latest_page_and_loads_older_ones_and_reading_takes_a_post() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let (client, contact, chat) = client_with_chat(&admin).await;
    for i in 1..=60 {
        client_writes(&app, app.tenant, client, contact, &format!("message number {i:02}")).await;
    }
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get(&format!("/crm/chats/{}", chat.0)).await.body;
    assert!(page.contains("message number 60") && page.contains("message number 11"), "the latest 50");
    assert!(!page.contains("message number 10"), "not the older ones");
    let older_link = page
        .split("class=\"older\" hx-get=\"")
        .nth(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .expect("a link to older messages");
    let older = agent.get(&older_link.replace("&amp;", "&")).await;
    assert_eq!(older.status, 200);
    assert!(older.body.contains("message number 01") && older.body.contains("message number 10"));
    assert!(!older.body.contains("message number 11"), "no overlap");
    assert!(!older.body.contains("before="), "nothing older left");

    // Showing is not reading: only the page's POST marks what was shown.
    assert_eq!(admin.get(&format!("/api/v1/chats/{}", chat.0)).await.json()["unread_count"], 60);
    assert!(page.contains(&format!("hx-post=\"/crm/chats/{}/read\"", chat.0)), "the page says what it showed");
}
