//! /crm/clients pages: list and search, create form, editing in place, contacts, deletion.

use crm::domain::Role;

use crate::helpers::{Client, TestApp};

async fn create_client(client: &Client, fields: &[(&str, &str)]) -> i64 {
    client.get("/crm/clients/new").await;
    let page = client.post("/crm/clients", fields).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location().unwrap().trim_start_matches("/crm/clients/").parse().unwrap()
}

/// A GET as htmx makes it, with the target it swaps.
async fn htmx_get(app: &TestApp, client: &Client, path: &str, target: &str) -> (u16, String) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", app.base_url))
        .header("cookie", format!("crm_session={}", client.cookie("crm_session").unwrap()))
        .header("hx-request", "true")
        .header("hx-target", target)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn htmx_post(app: &TestApp, client: &Client, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base_url))
        .header("cookie", format!("crm_session={}", client.cookie("crm_session").unwrap()))
        .header("hx-request", "true")
        .header("x-csrf-token", client.csrf_token().unwrap())
        .form(fields)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_client_is_created_from_the_form_and_opened() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id =
        create_client(&agent, &[("first_name", "Dilnoza"), ("last_name", "Karimova"), ("phone", "+998 90 111 22 33")])
            .await;
    let page = agent.get(&format!("/crm/clients/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<h1 id="client-name">Dilnoza Karimova</h1>"#));
    assert!(page.body.contains("+998 90 111 22 33"), "the phone, grouped for reading");
    assert!(page.body.contains("The client has been created."));
}

#[tokio::test]
async fn the_create_form_keeps_input_and_shows_each_error_beside_its_field() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    agent.get("/crm/clients/new").await;
    let page = agent
        .post(
            "/crm/clients",
            &[
                ("first_name", ""),
                ("last_name", "Kept"),
                ("phone", "90 123"),
                ("email", "bad"),
                ("date_of_birth", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("value=\"Kept\""));
    assert!(page.body.contains("value=\"90 123\""));
    assert!(page.body.contains("id=\"f-first_name-error\">This field is required."), "{}", page.body);
    assert!(page.body.contains("id=\"f-phone-error\">Include the country code"));
    assert!(page.body.contains("id=\"f-email-error\">"));
    assert!(page.body.contains("id=\"f-date_of_birth-error\">This date cannot be in the future."));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
}

#[tokio::test]
async fn a_duplicate_phone_or_pin_names_and_links_the_client_who_has_it() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let first = create_client(
        &agent,
        &[("first_name", "Ann"), ("last_name", "Lee"), ("phone", "+998901234567"), ("pin", "30101900123456")],
    )
    .await;
    agent.get("/crm/clients/new").await;
    let page = agent.post("/crm/clients", &[("first_name", "Bob"), ("phone", "998 90 123 45 67")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"f-phone-error\">Another client already has this phone number."));
    assert!(page.body.contains(&format!("<a href=\"/crm/clients/{first}\">Ann Lee</a>")), "{}", page.body);

    let page = agent.post("/crm/clients", &[("first_name", "Bob"), ("pin", "3010 1900 1234 56")]).await;
    assert!(page.body.contains("id=\"f-pin-error\">Another client already has this PIN."));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 1);
}

#[tokio::test]
async fn search_as_you_type_returns_just_the_results_and_the_page_keeps_filters_in_the_url() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    for i in 0..30 {
        create_client(&agent, &[("first_name", &format!("Karim {i:02}")), ("phone", &format!("+9989011100{i:02}"))])
            .await;
    }
    create_client(&agent, &[("first_name", "Other"), ("phone", "+79123456789")]).await;

    let (status, body) = htmx_get(&app, &agent, "/crm/clients?q=90+111+00+07", "client-results").await;
    assert_eq!(status, 200);
    assert!(!body.contains("<html"), "a fragment");
    assert!(body.contains("Karim 07"));
    assert!(!body.contains("Karim 08"));

    let page = agent.get("/crm/clients?q=karim&sort=name").await;
    assert!(page.body.contains("Karim 00") && !page.body.contains("Karim 29") && !page.body.contains("Other"));
    assert!(page.body.contains("30 in total"));
    assert!(page.body.contains("href=\"/crm/clients?q=karim&#38;sort=name&#38;page=2\""), "{}", page.body);
    let second = agent.get("/crm/clients?q=karim&sort=name&page=2").await;
    assert!(second.body.contains("Karim 29"));
    assert!(second.body.contains("value=\"karim\""), "the search box keeps the query");
}

#[tokio::test]
async fn a_section_is_edited_in_place_with_htmx_and_errors_stay_in_the_form() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id =
        create_client(&agent, &[("first_name", "Ann"), ("email", "ann@x.io"), ("comments", "Likes mornings")]).await;
    agent.get(&format!("/crm/clients/{id}")).await;

    let (status, form) =
        htmx_get(&app, &agent, &format!("/crm/clients/{id}/sections/personal/edit"), "section-personal").await;
    assert_eq!(status, 200);
    assert!(form.contains("<form") && form.contains("value=\"ann@x.io\""));

    let (status, bad) = htmx_post(
        &app,
        &agent,
        &format!("/crm/clients/{id}/sections/personal"),
        &[("first_name", "Ann"), ("email", "broken")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(bad.contains("<form") && bad.contains("id=\"f-email-error\""));

    let (status, shown) = htmx_post(
        &app,
        &agent,
        &format!("/crm/clients/{id}/sections/personal"),
        &[("first_name", "Ann"), ("email", "ann@y.io")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(!shown.contains("<form"), "back to showing");
    assert!(shown.contains("<dd id=\"show-email\">ann@y.io</dd>"), "{shown}");
    let page = agent.get(&format!("/crm/clients/{id}")).await;
    assert!(page.body.contains("Likes mornings"), "other sections untouched");
}

#[tokio::test]
async fn without_javascript_a_section_is_edited_through_plain_forms() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id = create_client(&agent, &[("first_name", "Ann")]).await;
    let page = agent.get(&format!("/crm/clients/{id}?edit=passport")).await;
    assert!(page.body.contains("name=\"passport_number\""));
    let bad = agent
        .post(&format!("/crm/clients/{id}/sections/passport"), &[("passport_series", "AA"), ("passport_number", "")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"f-passport_number-error\""));
    let ok = agent
        .post(
            &format!("/crm/clients/{id}/sections/passport"),
            &[("passport_series", "aa"), ("passport_number", "1234567")],
        )
        .await;
    assert_eq!(ok.status, 303);
    let page = agent.get(&format!("/crm/clients/{id}")).await;
    assert!(page.body.contains("<dd id=\"show-passport_series\">AA</dd>"));
}

#[tokio::test]
async fn contacts_are_added_and_removed_from_the_contacts_tab() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id = create_client(&agent, &[("first_name", "Ann")]).await;
    agent.get(&format!("/crm/clients/{id}?tab=contacts")).await;
    let bad = agent.post(&format!("/crm/clients/{id}/contacts"), &[("type", "telegram"), ("value", "@ab")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"contact-value-error\">Enter a Telegram username"));
    assert!(bad.body.contains("value=\"@ab\""));
    let ok = agent.post(&format!("/crm/clients/{id}/contacts"), &[("type", "telegram"), ("value", "@Ann_Lee")]).await;
    assert_eq!(ok.status, 303);
    let tab = agent.get(&format!("/crm/clients/{id}?tab=contacts")).await;
    assert!(tab.body.contains("ann_lee"));
    let contact = app.scalar_i64("SELECT id FROM client_contacts").await;
    assert_eq!(agent.post(&format!("/crm/clients/{id}/contacts/{contact}/delete"), &[]).await.status, 303);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 0);
}

#[tokio::test]
async fn an_admin_deletes_a_client_who_then_leaves_the_list() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = create_client(&admin, &[("first_name", "Leaving")]).await;
    assert!(admin.get(&format!("/crm/clients/{id}?tab=actions")).await.body.contains("Delete client"));
    let page = admin.post(&format!("/crm/clients/{id}/delete"), &[]).await;
    assert_eq!(page.location(), Some("/crm/clients"));
    assert_eq!(admin.get(&format!("/crm/clients/{id}")).await.status, 404);
    assert!(!admin.get("/crm/clients").await.body.contains("Leaving"));
}

#[tokio::test]
async fn each_page_action_refuses_a_user_without_its_permission_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id = create_client(&agent, &[("first_name", "Ann")]).await;
    agent.post(&format!("/crm/clients/{id}/contacts"), &[("type", "phone"), ("value", "+998901234567")]).await;
    let contact = app.scalar_i64("SELECT id FROM client_contacts").await;

    let viewer = app.sign_in_as(Role::Viewer).await;
    assert_eq!(viewer.get(&format!("/crm/clients/{id}")).await.status, 200);
    let page = viewer.get(&format!("/crm/clients/{id}")).await;
    assert!(!page.body.contains("sections/personal/edit"), "no edit buttons for a viewer");
    assert_eq!(viewer.get("/crm/clients/new").await.status, 403);
    assert_eq!(viewer.post("/crm/clients", &[("first_name", "X")]).await.status, 403);
    assert_eq!(viewer.get(&format!("/crm/clients/{id}/sections/personal/edit")).await.status, 403);
    assert_eq!(viewer.post(&format!("/crm/clients/{id}/sections/personal"), &[("first_name", "X")]).await.status, 403);
    assert_eq!(
        viewer
            .post(&format!("/crm/clients/{id}/contacts"), &[("type", "phone"), ("value", "+998901234568")])
            .await
            .status,
        403
    );
    assert_eq!(viewer.post(&format!("/crm/clients/{id}/contacts/{contact}/delete"), &[]).await.status, 403);
    assert_eq!(viewer.post(&format!("/crm/clients/{id}/delete"), &[]).await.status, 403);
    assert_eq!(agent.post(&format!("/crm/clients/{id}/delete"), &[]).await.status, 403, "agents lack ClientDelete");

    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Ann' AND archived_at IS NULL").await,
        1
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 1);
}

#[tokio::test]
async fn another_tenants_client_is_404_on_every_page_and_unchanged() {
    let app = TestApp::spawn().await;
    let (other, other_admin) = app.create_tenant("Other").await;
    let theirs = app.client();
    theirs.sign_in(&other_admin).await;
    let id = create_client(&theirs, &[("first_name", "Theirs")]).await;
    theirs.post(&format!("/crm/clients/{id}/contacts"), &[("type", "phone"), ("value", "+998901234567")]).await;
    let contact = app.scalar_i64("SELECT id FROM client_contacts").await;
    let _ = other;

    let ours = app.sign_in_as(Role::Admin).await;
    assert_eq!(ours.get(&format!("/crm/clients/{id}")).await.status, 404);
    assert_eq!(ours.get(&format!("/crm/clients/{id}/sections/personal")).await.status, 404);
    assert_eq!(ours.get(&format!("/crm/clients/{id}/sections/personal/edit")).await.status, 404);
    assert_eq!(ours.post(&format!("/crm/clients/{id}/sections/personal"), &[("first_name", "Mine")]).await.status, 404);
    assert_eq!(
        ours.post(&format!("/crm/clients/{id}/contacts"), &[("type", "phone"), ("value", "+998901234568")])
            .await
            .status,
        404
    );
    assert_eq!(ours.post(&format!("/crm/clients/{id}/contacts/{contact}/delete"), &[]).await.status, 404);
    assert_eq!(ours.post(&format!("/crm/clients/{id}/delete"), &[]).await.status, 404);
    assert!(!ours.get("/crm/clients").await.body.contains("Theirs"));
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Theirs' AND archived_at IS NULL").await,
        1
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 1);
}

#[tokio::test]
async fn an_admin_restores_a_deleted_client_within_30_days() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = create_client(&admin, &[("first_name", "Returning")]).await;
    admin.post(&format!("/crm/clients/{id}/delete"), &[]).await;
    let archived = admin.get("/crm/clients/archived").await;
    assert!(archived.body.contains("Returning"));
    assert_eq!(admin.post(&format!("/crm/clients/{id}/restore"), &[]).await.status, 303);
    assert_eq!(admin.get(&format!("/crm/clients/{id}")).await.status, 200);
    assert!(admin.get("/crm/clients").await.body.contains("Returning"));

    // Past 30 days there is nothing to restore; the purge takes it.
    admin.post(&format!("/crm/clients/{id}/delete"), &[]).await;
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query("UPDATE clients SET archived_at = now() - interval '31 days'").execute(&mut conn).await.unwrap();
    assert_eq!(admin.post(&format!("/crm/clients/{id}/restore"), &[]).await.status, 404);
    assert_eq!(app.state.clients.purge_archived().await.unwrap(), 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_search_words").await, 0, "nor a word of theirs");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'client' AND summary LIKE '%Returning%'").await,
        0,
        "the purge leaves no name behind"
    );
}

#[tokio::test]
async fn the_purge_keeps_clients_archived_less_than_30_days_ago() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = create_client(&admin, &[("first_name", "Recent")]).await;
    admin.post(&format!("/crm/clients/{id}/delete"), &[]).await;
    let mut conn = sqlx::ConnectOptions::connect(&app.owner).await.unwrap();
    sqlx::query("UPDATE clients SET archived_at = now() - interval '29 days'").execute(&mut conn).await.unwrap();
    assert_eq!(app.state.clients.purge_archived().await.unwrap(), 0);
    assert_eq!(admin.post(&format!("/crm/clients/{id}/restore"), &[]).await.status, 303);
}

#[tokio::test]
async fn erasing_removes_the_client_their_contacts_and_their_name_from_the_audit_log() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = create_client(&admin, &[("first_name", "Forgotten"), ("last_name", "Person")]).await;
    admin.post(&format!("/crm/clients/{id}/contacts"), &[("type", "email"), ("value", "forgotten@x.io")]).await;
    let page = admin.post(&format!("/crm/clients/{id}/erase"), &[]).await;
    assert_eq!(page.location(), Some("/crm/clients"));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_search_words").await, 0, "no word of theirs is kept");
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) FROM audit_log WHERE summary LIKE '%Forgotten%' OR summary LIKE '%forgotten@%'"
        )
        .await,
        0
    );
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) FROM audit_log WHERE action = 'erased' AND entity_id = '{id}'")).await,
        1
    );
    assert_eq!(admin.get(&format!("/crm/clients/{id}")).await.status, 404);
}

#[tokio::test]
async fn an_admin_downloads_everything_held_about_a_client_as_json() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let id = create_client(&admin, &[("first_name", "Curious"), ("pin", "123456789")]).await;
    admin.post(&format!("/crm/clients/{id}/contacts"), &[("type", "telegram"), ("value", "@curious_one")]).await;
    let page = admin.get(&format!("/crm/clients/{id}/export.json")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-disposition"), Some(format!("attachment; filename=\"client-{id}.json\"").as_str()));
    let json = page.json();
    assert_eq!(json["client"]["first_name"], "Curious");
    assert_eq!(json["client"]["pin"], "123456789");
    assert_eq!(json["contacts"][0]["value"], "curious_one");
    assert!(json["history"].as_array().unwrap().len() >= 2, "created and contact_added");
    assert_eq!(json["messages"], serde_json::json!([]), "no conversation yet");

    // The conversation is held about them too: every message, oldest first.
    let chat = admin.post(&format!("/crm/clients/{id}/chat"), &[]).await;
    let chat = chat.location().unwrap().rsplit('/').next().unwrap().to_owned();
    for text in ["First note", "Second note"] {
        let sent = admin
            .upload_files(&format!("/crm/chats/{chat}/messages"), "files", &[], &[("body", text), ("note", "1")])
            .await;
        assert_eq!(sent.status, 303);
    }
    let json = admin.get(&format!("/crm/clients/{id}/export.json")).await.json();
    let bodies: Vec<&str> = json["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["First note", "Second note"]);
    assert_eq!(json["messages"][0]["direction"], "note");
}

#[tokio::test]
async fn only_admins_restore_erase_export_or_see_the_archive_and_never_another_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id = create_client(&admin, &[("first_name", "Guarded")]).await;
    assert_eq!(agent.get("/crm/clients/archived").await.status, 403);
    assert_eq!(agent.get(&format!("/crm/clients/{id}/export.json")).await.status, 403);
    assert_eq!(agent.post(&format!("/crm/clients/{id}/erase"), &[]).await.status, 403);
    assert_eq!(agent.post(&format!("/crm/clients/{id}/restore"), &[]).await.status, 403);

    let (_, other_admin) = app.create_tenant("Other").await;
    let other = app.client();
    other.sign_in(&other_admin).await;
    assert_eq!(other.get(&format!("/crm/clients/{id}/export.json")).await.status, 404);
    assert_eq!(other.post(&format!("/crm/clients/{id}/erase"), &[]).await.status, 404);
    admin.post(&format!("/crm/clients/{id}/delete"), &[]).await;
    assert_eq!(other.post(&format!("/crm/clients/{id}/restore"), &[]).await.status, 404);
    assert!(!other.get("/crm/clients/archived").await.body.contains("Guarded"));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE archived_at IS NOT NULL").await, 1);
}

#[tokio::test]
async fn the_filtered_list_exports_as_csv_with_every_match_and_nothing_else() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    for i in 0..30 {
        create_client(&agent, &[("first_name", &format!("Karim {i:02}")), ("phone", &format!("+9989011100{i:02}"))])
            .await;
    }
    let id = create_client(&agent, &[("first_name", "Шерзод"), ("comments", "=HYPERLINK(\"http://evil\")")]).await;
    agent.post(&format!("/crm/clients/{id}/contacts"), &[("type", "telegram"), ("value", "@sherzod_x")]).await;
    let (_, other_admin) = app.create_tenant("Other").await;
    let other = app.client();
    other.sign_in(&other_admin).await;
    create_client(&other, &[("first_name", "Karim Foreign")]).await;

    // Every client's PIN in one file is its own permission: a viewer reads, but may not export.
    let viewer = app.sign_in_as(Role::Viewer).await;
    assert_eq!(viewer.get("/crm/clients/export.csv").await.status, 403);
    assert!(!viewer.get("/crm/clients").await.body.contains("export.csv"), "no Export button for a viewer");
    assert!(agent.get("/crm/clients").await.body.contains("export.csv"));
    let exported = app.scalar_i64("SELECT count(*) FROM audit_log WHERE action = 'exported'").await;
    assert_eq!(exported, 0, "a refused export is not an export");

    let page = agent.get("/crm/clients/export.csv?q=karim&sort=name").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(page.header("content-disposition").unwrap().starts_with("attachment; filename=\"clients-"));
    let lines: Vec<&str> = page.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(page.body.starts_with('\u{feff}'), "a byte-order mark for Excel");
    assert!(lines[0].starts_with("id,first_name,last_name"));
    assert_eq!(lines.len(), 31, "the header and all 30 matches, not one page");
    assert!(lines[1].contains(",Karim 00,"));
    assert!(!page.body.contains("Foreign"), "another tenant's client");

    let all = agent.get("/crm/clients/export.csv").await;
    let row = all.body.lines().find(|l| l.contains("Шерзод")).unwrap();
    assert!(row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "formulas neutralised: {row}");
    assert!(row.contains("telegram:sherzod_x"));
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM audit_log WHERE action = 'exported' AND summary = '30 · “karim”'").await,
        1
    );
}

#[tokio::test]
async fn a_missing_client_is_a_404_in_the_clients_area_not_home() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let page = agent.get("/crm/clients/987654321").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains(r#"href="/crm/clients" aria-current="page""#), "Clients is the current area");
    assert!(!page.body.contains(r#"href="/crm" aria-current="page""#), "not Home");
}
