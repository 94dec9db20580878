//! Client CSV import: upload, mapping, dry run, import in the background, duplicates skipped
//! or merged, the report, permissions, tenancy, and a run resumed after its worker died.

use std::time::{Duration, Instant};

use crm::domain::Role;

use crate::helpers::{Client, TestApp};

/// Uploads `csv` and returns the import's id.
async fn upload(client: &Client, csv: &str) -> i64 {
    client.get("/crm/clients/import").await;
    let page = client.upload("/crm/clients/imports", "clients.csv", csv.as_bytes(), &[("encoding", "utf-8")]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location().unwrap().trim_start_matches("/crm/clients/imports/").parse().unwrap()
}

async fn start(client: &Client, id: i64, columns: &[&str], duplicates: &str, action: &str) -> u16 {
    client.get(&format!("/crm/clients/imports/{id}")).await;
    let names: Vec<String> = (0..columns.len()).map(|i| format!("col_{i}")).collect();
    let mut fields: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(columns.iter().copied()).collect();
    fields.push(("duplicates", duplicates));
    fields.push(("action", action));
    client.post(&format!("/crm/clients/imports/{id}/start"), &fields).await.status
}

/// Waits until the import leaves the queue, and returns its status.
async fn finish(app: &TestApp, id: i64) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM client_imports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
        if status != "queued" && status != "running" {
            return status;
        }
        assert!(Instant::now() < deadline, "import {id} still {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn counts(app: &TestApp, id: i64) -> (i64, i64, i64, i64) {
    let row: (i32, i32, i32, i32) =
        sqlx::query_as("SELECT created, merged, skipped, failed FROM client_imports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
    (row.0 as i64, row.1 as i64, row.2 as i64, row.3 as i64)
}

const FILE: &str = "Имя;Фамилия;Телефон;E-mail;Telegram;Дата рождения\n\
Anna;Lee;+998 90 123 45 67;anna@example.com;@anna_lee;05.03.1990\n\
;NoFirstName;+998 90 000 00 01;;;\n\
Bob;Stone;not a phone;bob@example;;\n\
Cara;Moss;+998 90 123 45 67;;;\n\
\n\
Dan;Reed;;dan@example.com;;31.12.2999\n";

#[tokio::test]
async fn a_dry_run_lists_failing_rows_and_why_and_writes_nothing_then_the_import_does() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let client = app.sign_in_as(Role::Agent).await;
    let id = upload(&client, FILE).await;

    // The mapping step guesses the columns from Russian headers and shows sample values.
    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<option value="first_name" selected>"#), "{}", page.body);
    assert!(page.body.contains(r#"<option value="contact:telegram" selected>"#));
    assert!(page.body.contains("anna@example.com"));

    let columns = ["first_name", "last_name", "phone", "email", "contact:telegram", "date_of_birth"];
    assert_eq!(start(&client, id, &columns, "skip", "dry_run").await, 303);
    assert_eq!(finish(&app, id).await, "checked");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0, "a dry run writes no client");
    // Anna would be created; the nameless row, Bob and Dan fail; Cara repeats Anna's phone.
    assert_eq!(counts(&app, id).await, (1, 0, 1, 3));

    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    let report = &page.body[page.body.find("id=\"import-report\"").expect("a report")..];
    for expected in [
        "This field is required.",
        "Enter a phone number with its country code",
        "Enter a valid email address",
        "This date cannot be in the future.",
        "Same phone or email as line 2.",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in {report}");
    }
    // Lines are the file's own: the blank line counts.
    assert!(report.contains(r#"<td data-label="Line" class="nowrap">7</td>"#), "{report}");

    // The report downloads with each row's own cells.
    let csv = client.get(&format!("/crm/clients/imports/{id}/report.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("not a phone"), "{}", csv.body);

    // Then the import itself, with the same mapping.
    assert_eq!(start(&client, id, &columns, "skip", "import").await, 303);
    assert_eq!(finish(&app, id).await, "done");
    assert_eq!(counts(&app, id).await, (1, 0, 1, 3));
    let anna: (String, String, String) = sqlx::query_as(
        "SELECT c.phone, c.date_of_birth::text, k.value FROM clients c
         JOIN client_contacts k ON k.client_id = c.id AND k.type = 'telegram' WHERE c.first_name = 'Anna'",
    )
    .fetch_one(&app.owner_pool().await)
    .await
    .unwrap();
    assert_eq!(anna, ("+998901234567".into(), "1990-03-05".into(), "anna_lee".into()));
    // Every created client has its audit entry, and the run one more.
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'client' AND action = 'created'").await,
        1
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'client_import'").await, 1);

    // A finished import cannot run again.
    assert_eq!(start(&client, id, &columns, "skip", "import").await, 409);
}

#[tokio::test]
async fn duplicates_are_skipped_or_merged_as_chosen() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let client = app.sign_in_as(Role::Agent).await;
    client.get("/crm/clients/new").await;
    let page = client
        .post("/crm/clients", &[("first_name", "Anna"), ("phone", "+998901234567"), ("email", "Old@Example.com")])
        .await;
    let existing = page.location().unwrap().rsplit('/').next().unwrap().to_owned();
    let file = "first_name,phone,email,address,whatsapp\n\
                Anna B,,old@example.com,Tashkent,+998 90 765 43 21\n\
                Eve,+998901234567,,,\n";
    let columns = ["first_name", "phone", "email", "address", "contact:whatsapp"];

    let skip = upload(&client, file).await;
    assert_eq!(start(&client, skip, &columns, "skip", "import").await, 303);
    assert_eq!(finish(&app, skip).await, "done");
    assert_eq!(counts(&app, skip).await, (0, 0, 2, 0));
    let page = client.get(&format!("/crm/clients/imports/{skip}")).await;
    assert!(page.body.contains(&format!("href=\"/crm/clients/{existing}\"")), "the report links the existing client");

    let merge = upload(&client, file).await;
    assert_eq!(start(&client, merge, &columns, "merge", "import").await, 303);
    assert_eq!(finish(&app, merge).await, "done");
    assert_eq!(counts(&app, merge).await, (0, 2, 0, 0));
    let merged: (String, Option<String>, i64) = sqlx::query_as(
        "SELECT first_name, address, (SELECT count(*) FROM client_contacts k WHERE k.client_id = c.id) FROM clients c",
    )
    .fetch_one(&app.owner_pool().await)
    .await
    .unwrap();
    // Both rows landed on the one client: non-empty cells overwrite, contacts are added.
    assert_eq!(merged, ("Eve".into(), Some("Tashkent".into()), 1));
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 1);
}

#[tokio::test]
async fn rows_repeating_each_other_in_one_file_are_skipped_or_merged_and_a_repeated_pin_fails() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let client = app.sign_in_as(Role::Agent).await;
    let file = "first_name,phone,pin\n\
                A,+998901111111,\n\
                B,+998901111111,\n\
                C,+998902222222,30101900123456\n\
                D,+998903333333,30101900123456\n";
    let columns = ["first_name", "phone", "pin"];
    for (mode, expected, name) in [("skip", (2, 0, 1, 1), "A"), ("merge", (2, 1, 0, 1), "B")] {
        sqlx::query("DELETE FROM clients").execute(&app.owner_pool().await).await.unwrap();
        let id = upload(&client, file).await;
        assert_eq!(start(&client, id, &columns, mode, "dry_run").await, 303);
        assert_eq!(finish(&app, id).await, "checked");
        assert_eq!(counts(&app, id).await, expected, "{mode} dry run");
        assert_eq!(start(&client, id, &columns, mode, "import").await, 303);
        assert_eq!(finish(&app, id).await, "done");
        assert_eq!(counts(&app, id).await, expected, "{mode} import");
        let first: String = sqlx::query_scalar("SELECT first_name FROM clients WHERE phone = '+998901111111'")
            .fetch_one(&app.owner_pool().await)
            .await
            .unwrap();
        assert_eq!(first, name, "{mode}");
        let page = client.get(&format!("/crm/clients/imports/{id}")).await;
        assert!(page.body.contains("Same PIN as line 4."), "{}", page.body);
    }
}

#[tokio::test]
async fn bad_files_and_mappings_are_reported_beside_their_fields() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    client.get("/crm/clients/import").await;

    let cp1251 = b"\xc8\xec\xff;\xd2\xe5\xeb\xe5\xf4\xee\xed\n\xc0\xed\xed\xe0;+998901234567\n";
    let page = client.upload("/crm/clients/imports", "excel.csv", cp1251, &[("encoding", "utf-8")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("This file is not UTF-8"), "{}", page.body);
    // The same file with its encoding named reads, Cyrillic headers and all.
    let page = client.upload("/crm/clients/imports", "excel.csv", cp1251, &[("encoding", "windows-1251")]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let id: i64 = page.location().unwrap().rsplit('/').next().unwrap().parse().unwrap();
    assert!(client.get(&format!("/crm/clients/imports/{id}")).await.body.contains("Телефон"));

    let page = client.upload("/crm/clients/imports", "empty.csv", b"name,phone\n", &[]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("The file has a header but no rows."));

    // A mapping without the first name, or with a field twice, says so.
    client.get(&format!("/crm/clients/imports/{id}")).await;
    let page = client
        .post(&format!("/crm/clients/imports/{id}/start"), &[("col_0", ""), ("col_1", "phone"), ("action", "dry_run")])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Choose the column that holds the first name."));
    let page = client
        .post(
            &format!("/crm/clients/imports/{id}/start"),
            &[("col_0", "phone"), ("col_1", "phone"), ("action", "dry_run")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains(r#"id="col-1-error""#), "{}", page.body);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_imports WHERE status <> 'uploaded'").await, 0);

    // An upload without the CSRF token is refused and stores nothing.
    let before = app.scalar_i64("SELECT count(*) FROM client_imports").await;
    let res = reqwest::Client::new()
        .post(format!("{}/crm/clients/imports", app.base_url))
        .header("cookie", format!("crm_session={}", client.cookie("crm_session").unwrap()))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nname\nA\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_imports").await, before);
}

#[tokio::test]
async fn viewers_cannot_import_and_other_tenants_imports_are_not_found() {
    let app = TestApp::spawn().await;
    let agent = app.sign_in_as(Role::Agent).await;
    let id = upload(&agent, "first_name\nAnna\n").await;

    let viewer = app.sign_in_as(Role::Viewer).await;
    viewer.get("/crm/clients").await;
    assert_eq!(viewer.get("/crm/clients/import").await.status, 403);
    assert_eq!(viewer.get(&format!("/crm/clients/imports/{id}")).await.status, 403);
    assert_eq!(viewer.upload("/crm/clients/imports", "a.csv", b"first_name\nA\n", &[]).await.status, 403);
    let page = viewer
        .post(&format!("/crm/clients/imports/{id}/start"), &[("col_0", "first_name"), ("action", "import")])
        .await;
    assert_eq!(page.status, 403);

    let (_, creds) = app.create_tenant("Other").await;
    let other = app.client();
    other.sign_in(&creds).await;
    other.get("/crm/clients").await;
    for path in ["", "/progress", "/report.csv"] {
        assert_eq!(other.get(&format!("/crm/clients/imports/{id}{path}")).await.status, 404, "{path}");
    }
    for (path, fields) in [("/start", vec![("col_0", "first_name"), ("action", "import")]), ("/cancel", vec![])] {
        assert_eq!(other.post(&format!("/crm/clients/imports/{id}{path}"), &fields).await.status, 404, "{path}");
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_imports WHERE status = 'uploaded'").await, 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0);
}

#[tokio::test]
async fn a_run_whose_worker_died_resumes_without_importing_a_row_twice() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    let rows = 20_000;
    let mut file = String::from("first_name,phone\n");
    for i in 0..rows {
        file.push_str(&format!("Client {i},+99890{i:07}\n"));
    }
    let id = upload(&client, &file).await;
    assert_eq!(start(&client, id, &["first_name", "phone"], "skip", "import").await, 303);

    // A worker dies (its task is dropped mid-batch) once it has committed something.
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app.state.imports.spawn_worker(stopped);
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.scalar_i64(&format!("SELECT rows_done::bigint FROM client_imports WHERE id = {id}")).await == 0 {
        assert!(Instant::now() < deadline, "the worker never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.abort();
    let _ = worker.await;
    let done_before = app.scalar_i64(&format!("SELECT rows_done::bigint FROM client_imports WHERE id = {id}")).await;
    assert!(done_before < rows, "the worker was stopped mid-run");

    // Its heartbeat goes stale; another worker takes the run over where it stopped.
    sqlx::query("UPDATE client_imports SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1")
        .bind(id)
        .execute(&app.owner_pool().await)
        .await
        .unwrap();
    let _bg = app.start_background();
    assert_eq!(finish(&app, id).await, "done");
    assert_eq!(counts(&app, id).await, (rows, 0, 0, 0), "resumed after {done_before} rows");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, rows);
    assert_eq!(app.scalar_i64("SELECT count(DISTINCT phone) FROM clients").await, rows);
}

#[tokio::test]
async fn the_progress_box_polls_while_running_and_reloads_the_page_when_done() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    let id = upload(&client, "first_name\nAnna\nBob\n").await;
    assert_eq!(start(&client, id, &["first_name"], "skip", "import").await, 303);
    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    assert!(page.body.contains(r#"hx-trigger="every 1s""#), "a queued import polls");
    assert!(page.body.contains("Cancel import"));

    let _bg = app.start_background();
    assert_eq!(finish(&app, id).await, "done");
    let res = reqwest::Client::new()
        .get(format!("{}/crm/clients/imports/{id}/progress", app.base_url))
        .header("cookie", format!("crm_session={}", client.cookie("crm_session").unwrap()))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("hx-refresh").map(|v| v.to_str().unwrap()), Some("true"));
    let body = res.text().await.unwrap();
    assert!(!body.contains("hx-trigger"), "a finished import stops polling");
    assert!(body.contains(r#"data-count="created">2<"#), "{body}");
}

#[tokio::test]
async fn a_cancelled_import_stops_and_keeps_what_it_wrote() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    let id = upload(&client, "first_name\nAnna\n").await;
    assert_eq!(start(&client, id, &["first_name"], "skip", "import").await, 303);
    client.get(&format!("/crm/clients/imports/{id}")).await;
    let page = client.post(&format!("/crm/clients/imports/{id}/cancel"), &[]).await;
    assert_eq!(page.status, 303);
    let _bg = app.start_background();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(finish(&app, id).await, "cancelled");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0, "a cancelled queued import never runs");
    assert_eq!(client.post(&format!("/crm/clients/imports/{id}/cancel"), &[]).await.status, 409);
}

#[tokio::test]
async fn the_sample_file_imports_as_it_is() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let client = app.sign_in_as(Role::Agent).await;
    let sample = client.get("/crm/clients/import/sample.csv").await;
    assert_eq!(sample.status, 200);
    let id = upload(&client, &sample.body).await;
    // Every column is recognised without touching the mapping.
    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    assert!(!page.body.contains(r#"<option value="" selected>"#), "an unmapped column in {}", page.body);
    let contacts = ["contact:telegram", "contact:whatsapp"];
    let columns: Vec<&str> = crm::domain::ClientInput::importable().chain(contacts).collect();
    assert_eq!(start(&client, id, &columns, "skip", "import").await, 303);
    assert_eq!(finish(&app, id).await, "done");
    let report = client.get(&format!("/crm/clients/imports/{id}")).await.body;
    assert_eq!(counts(&app, id).await, (1, 0, 0, 0), "{}", &report[report.find("<main").unwrap_or(0)..]);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM client_contacts").await, 2);
    let viewer = app.sign_in_as(Role::Viewer).await;
    assert_eq!(viewer.get("/crm/clients/import/sample.csv").await.status, 403);
}

#[tokio::test]
async fn with_a_country_set_an_import_reads_local_numbers_as_that_countrys() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    app.api(Role::Admin).await.patch("/api/v1/settings", serde_json::json!({"default_country": "UZ"})).await;
    let client = app.sign_in_as(Role::Agent).await;
    let id = upload(&client, "Name;Phone;WhatsApp\nAziz;90 123 45 67;8 93 765 43 21\n").await;
    assert_eq!(start(&client, id, &["first_name", "phone", "contact:whatsapp"], "skip", "import").await, 303);
    assert_eq!(finish(&app, id).await, "done");
    let (phone, whatsapp): (String, String) = sqlx::query_as(
        "SELECT c.phone, k.value FROM clients c JOIN client_contacts k ON k.client_id = c.id WHERE k.type = 'whatsapp'",
    )
    .fetch_one(&app.owner_pool().await)
    .await
    .unwrap();
    assert_eq!((phone.as_str(), whatsapp.as_str()), ("+998901234567", "+998937654321"));
}

#[tokio::test]
async fn custom_field_columns_are_guessed_checked_and_imported_or_merged() {
    let app = TestApp::spawn().await;
    let _bg = app.start_background();
    let admin = app.api(Role::Admin).await;
    for body in [
        serde_json::json!({"entity": "client", "key": "tier", "label": "Loyalty tier", "type": "select", "options": ["Gold", "Silver"], "required": true}),
        serde_json::json!({"entity": "client", "key": "since", "label": "Client since", "type": "date"}),
        serde_json::json!({"entity": "client", "key": "vip", "label": "VIP", "type": "boolean"}),
        serde_json::json!({"entity": "client", "key": "langs", "label": "Languages", "type": "multiselect", "options": ["en", "ru", "uz"]}),
        serde_json::json!({"entity": "client", "key": "size", "label": "Size", "type": "number"}),
    ] {
        let made = admin.post("/api/v1/custom-fields", body).await;
        assert_eq!(made.status, 201, "{}", made.body);
    }
    let client = app.sign_in_as(Role::Agent).await;
    let file = "Имя,Loyalty tier,custom.since,vip,custom.langs,Size\n\
                Anna,gold,05.03.2024,да,ru; en,12 500\n\
                Bob,Platinum,,,,\n\
                Cara,,,,,\n\
                Dan,Silver,2024-13-01,,,\n";
    let id = upload(&client, file).await;

    // Columns are guessed by a field's label, its key, or our export's `custom.KEY`.
    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    for guessed in ["custom.tier", "custom.since", "custom.vip", "custom.langs", "custom.size"] {
        assert!(page.body.contains(&format!(r#"<option value="{guessed}" selected>"#)), "{guessed}: {}", page.body);
    }
    assert!(page.body.contains("Custom fields") && page.body.contains(">Loyalty tier</option>"));

    let columns = ["first_name", "custom.tier", "custom.since", "custom.vip", "custom.langs", "custom.size"];
    assert_eq!(start(&client, id, &columns, "skip", "import").await, 303);
    assert_eq!(finish(&app, id).await, "done");
    assert_eq!(counts(&app, id).await, (1, 0, 0, 3));
    let anna: serde_json::Value = sqlx::query_scalar("SELECT custom FROM clients WHERE first_name = 'Anna'")
        .fetch_one(&app.owner_pool().await)
        .await
        .unwrap();
    assert_eq!(
        anna,
        serde_json::json!({"tier": "Gold", "since": "2024-03-05", "vip": true, "langs": ["en", "ru"], "size": 12500})
    );
    // Each failure names the field by its label.
    let page = client.get(&format!("/crm/clients/imports/{id}")).await;
    let report = &page.body[page.body.find("id=\"import-report\"").expect("a report")..];
    for expected in ["Loyalty tier</td>", "Client since</td>", "This field is required."] {
        assert!(report.contains(expected), "missing {expected:?} in {report}");
    }

    // A merge lays the row's custom values over the client's, with an audit entry saying so.
    let merge = upload(&client, "first_name,Loyalty tier,VIP\nAnna,Silver,no\n").await;
    let page = client.get(&format!("/crm/clients/imports/{merge}")).await;
    assert!(page.body.contains(r#"<option value="custom.vip" selected>"#));
    sqlx::query("UPDATE clients SET phone = '+998901234567' WHERE first_name = 'Anna'")
        .execute(&app.owner_pool().await)
        .await
        .unwrap();
    let merge = upload(&client, "first_name,phone,Loyalty tier,VIP\nAnna,+998901234567,Silver,no\n").await;
    let columns = ["first_name", "phone", "custom.tier", "custom.vip"];
    assert_eq!(start(&client, merge, &columns, "merge", "import").await, 303);
    assert_eq!(finish(&app, merge).await, "done");
    assert_eq!(counts(&app, merge).await, (0, 1, 0, 0));
    let tier: serde_json::Value = sqlx::query_scalar("SELECT custom FROM clients WHERE first_name = 'Anna'")
        .fetch_one(&app.owner_pool().await)
        .await
        .unwrap();
    assert_eq!(
        (&tier["tier"], &tier["vip"], &tier["size"]),
        (&serde_json::json!("Silver"), &serde_json::json!(false), &serde_json::json!(12500))
    );
    let audit = app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'client' AND action = 'updated' AND summary LIKE '%custom tier, vip%'").await;
    assert_eq!(audit, 1);

    // A column mapped to a field the tenant does not have is refused.
    let stale = upload(&client, "first_name,x\nZed,1\n").await;
    assert_eq!(start(&client, stale, &["first_name", "custom.nope"], "skip", "import").await, 422);
}
