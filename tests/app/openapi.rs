//! /api/v1/openapi.json matches what the API does: every documented operation, called with the
//! document's own examples, answers with its documented success status and required fields,
//! and refuses a missing token with a documented 401.

use crm::domain::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

/// Checks that `value` has every property `schema` requires, following arrays and references.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(items) = schema.get("items") {
        for (i, item) in value.as_array().unwrap_or_else(|| panic!("{at}: not an array: {value}")).iter().enumerate() {
            conforms(doc, items, item, &format!("{at}[{i}]"));
        }
        return;
    }
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap();
        assert!(value.get(field).is_some(), "{at}: missing required `{field}` in {value}");
    }
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(v) = value.get(name).filter(|v| !v.is_null()) {
            conforms(doc, prop, v, &format!("{at}.{name}"));
        }
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let http = reqwest::Client::new();
    let doc: Value =
        http.get(format!("{}/api/v1/openapi.json", app.base_url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["servers"][0]["url"], format!("{}/api/v1", app.base_url));

    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "put", "delete"] {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            // A fresh client with a contact for each operation, so deletes affect no other.
            let client = api.post("/api/v1/clients", json!({"first_name": "Fixture"})).await.json();
            let id = client["id"].as_i64().unwrap();
            let contact = api
                .post(&format!("/api/v1/clients/{id}/contacts"), json!({"type": "email", "value": "f@x.io"}))
                .await
                .json();
            let chat = api.post(&format!("/api/v1/clients/{id}/chat"), serde_json::json!({})).await.json();
            let chat_id = chat["id"].as_i64().unwrap();
            let message = api
                .post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"body": "fixture", "transport": "note"}))
                .await
                .json();
            let template = api.post("/api/v1/message-templates", json!({"template": "Fixture"})).await.json();
            let pipeline = api
                .post(
                    "/api/v1/pipelines",
                    json!({"name": format!("Fixture {operations}"),
                           "stages": [{"name": "A"}, {"name": "B"}, {"name": "Won", "kind": "won"}]}),
                )
                .await
                .json();
            let stages: Vec<Value> = pipeline["stages"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
            // A deal in the fixture pipeline, except where it would hold a delete back.
            let deal = if ["deletePipeline", "deleteStage"].contains(&op["operationId"].as_str().unwrap()) {
                json!({"id": 0})
            } else {
                api.post("/api/v1/deals", json!({"title": "Fixture", "pipeline_id": pipeline["id"]})).await.json()
            };
            let company = api.post("/api/v1/companies", json!({"name": format!("Fixture {operations}")})).await.json();
            let tag = api.post("/api/v1/tags", json!({"name": format!("Fixture {operations}")})).await.json();
            let field = api
                .post(
                    "/api/v1/custom-fields",
                    json!({"entity": "client", "label": format!("Fixture {operations}"), "type": "text"}),
                )
                .await
                .json();
            let category =
                api.post("/api/v1/task-categories", json!({"name": format!("Fixture {operations}")})).await.json();
            let task = api.post("/api/v1/tasks", json!({"title": "Fixture", "client_id": id})).await.json();
            let note = api.post(&format!("/api/v1/clients/{id}/notes"), json!({"body": "Fixture"})).await.json();
            // An export job, run to its end, for its result.
            let job =
                api.post("/api/v1/bulk", json!({"entity": "clients", "ids": [id], "action": "export"})).await.json();
            if op["operationId"] == "getJobResult" {
                let (_, stop) = tokio::sync::watch::channel(false);
                while app.state.bulk.step(&stop).await.unwrap() {}
            }
            if op["operationId"] == "restoreCustomField" {
                api.delete(&format!("/api/v1/custom-fields/{}", field["id"])).await;
            }
            let channel = api
                .post(
                    "/api/v1/channels",
                    json!({"kind": "twilio_sms", "name": "Fixture", "account_sid": "AC0123456789abcdef0123456789abcdef",
                           "auth_token": "0123456789abcdef0123456789abcdef", "from": format!("+99871{:07}", operations)}),
                )
                .await
                .json();
            // What a cancel calls off: a reply scheduled (on the channel just made) to a phone.
            let message = if op["operationId"] == "cancelMessage" {
                let phone = format!("+99890{:07}", operations);
                api.post(&format!("/api/v1/clients/{id}/contacts"), json!({"type": "phone", "value": phone})).await;
                let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
                let scheduled = api
                    .post(
                        &format!("/api/v1/chats/{chat_id}/messages"),
                        json!({"body": "fixture", "transport": "sms", "send_at": at}),
                    )
                    .await;
                assert_eq!(scheduled.status, 202, "a scheduled fixture: {}", scheduled.body);
                scheduled.json()
            } else {
                message
            };
            let url = format!(
                "{}/api/v1{}",
                app.base_url,
                path.replace("{id}", &id.to_string())
                    .replace("{contact_id}", &contact["id"].to_string())
                    .replace("{chat_id}", &chat_id.to_string())
                    .replace("{message_id}", &message["id"].to_string())
                    .replace("{template_id}", &template["id"].to_string())
                    .replace("{channel_id}", &channel["id"].to_string())
                    .replace("{pipeline_id}", &pipeline["id"].to_string())
                    .replace("{stage_id}", &stages[0].to_string())
                    .replace("{deal_id}", &deal["id"].to_string())
                    .replace("{company_id}", &company["id"].to_string())
                    .replace("{tag_id}", &tag["id"].to_string())
                    .replace("{field_id}", &field["id"].to_string())
                    .replace("{category_id}", &category["id"].to_string())
                    .replace("{task_id}", &task["id"].to_string())
                    .replace("{note_id}", &note["id"].to_string())
                    .replace("{job_id}", &job["job_id"].to_string())
            );
            let example = if op["operationId"] == "mergeClients" {
                let other = api.post("/api/v1/clients", json!({"first_name": "Twin"})).await.json();
                json!({"from_client_id": other["id"]})
            } else if op["operationId"] == "orderStages" {
                json!({"stage_ids": stages.iter().rev().collect::<Vec<_>>()})
            } else if op["operationId"] == "createDeal" {
                json!({"title": "Flat", "pipeline_id": pipeline["id"], "value": "1250.00", "expected_close_on": "2026-12-31"})
            } else if op["operationId"] == "moveDeal" {
                json!({"stage_id": stages[1]})
            } else {
                op["requestBody"]["content"]["application/json"]["example"].clone()
            };
            let request = |token: Option<&str>| {
                let mut req = http.request(method.to_uppercase().parse().unwrap(), &url);
                if !example.is_null() {
                    req = req.json(&example);
                }
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                req
            };

            let anonymous = request(None).send().await.unwrap();
            assert_eq!(anonymous.status(), 401, "{method} {path} without a token");
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");

            let res = request(Some(&api.token)).send().await.unwrap();
            let status = res.status().as_u16().to_string();
            let documented = op["responses"].as_object().unwrap();
            let success = documented.keys().find(|k| k.starts_with('2')).unwrap();
            let text = res.text().await.unwrap();
            assert_eq!(&status, success, "{method} {path}: {text}");
            if let Some(schema) = documented[success].pointer("/content/application~1json/schema") {
                let value: Value = serde_json::from_str(&text).unwrap();
                conforms(&doc, schema, &value, &format!("{method} {path}"));
            }
        }
    }
    assert_eq!(
        operations, 97,
        "me, clients (list, create), client (get, patch, delete), contacts (list, add), contact (delete), client merge, \
         client chat (get, start), chats, chat (get, patch), message cancel, messages (list, send), message read, chat read, templates \
         (list, create), template (get, put, delete), channels (list, create), channel (get, patch, delete), settings (get, patch), \
         currency rates (get, put), pipelines (list, create), pipeline (get, patch, delete), stages (add), stage (patch, delete), stage order, \
         board, stage deals, companies (list, create), company (get, patch, delete), deals (list, create), deal (get, patch, delete), deal move, deal history, \
         tags (list, create), tag (get, patch, delete), custom fields (list, create), custom field (get, patch, delete, restore), notes and activity of clients, companies \
         and deals (list, add; list), note (get, patch, delete), note comments, tasks (list, create), task (get, patch, delete), \
         task complete, task reopen, task categories (list, create), task category (patch, delete), notifications (list, read), bulk, job, job result"
    );
}

#[tokio::test]
async fn documented_error_shapes_are_what_the_api_answers() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Agent).await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base_url)).await.unwrap().json().await.unwrap();
    let error = api.post("/api/v1/clients", json!({"first_name": ""})).await.json();
    conforms(&doc, &json!({"$ref": "#/components/schemas/Error"}), &error, "422");
    assert!(error["error"]["fields"]["first_name"].is_array());
}
