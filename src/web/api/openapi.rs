//! The OpenAPI 3.0 document of /api/v1, served at /api/v1/openapi.json. A test walks every
//! operation in it against the running application, with the examples given here, so the
//! document and the code cannot drift apart unnoticed.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::domain::client::COUNT_CAP;
use crate::web::AppState;
use crate::web::api::MAX_DEPTH;

pub async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(build(&state.config.public_url))
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn body(schema: &str, example: Value) -> Value {
    json!({"required": true, "content": {"application/json": {
        "schema": {"$ref": format!("#/components/schemas/{schema}")}, "example": example}}})
}

/// `page` and `per_page`, as `api::paging` reads them.
fn paging_params() -> [Value; 2] {
    [
        json!({"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1},
               "description": format!("from 1; a page ends within the first {MAX_DEPTH} rows (page × per_page ≤ {MAX_DEPTH}), past which the answer is 422: narrow the query instead")}),
        json!({"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}}),
    ]
}

/// What every operation may answer besides its own outcomes: 400 for a request that cannot be
/// read (an id that is no 64-bit integer, a parameter of the wrong type, unreadable JSON),
/// 415 for a body that is not JSON, 422 for a value refused (text holding a NUL character
/// among them).
fn document_malformed(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut() {
        let path_params = item.get("parameters").is_some();
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if method == "parameters" {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            let has_query = op.get("parameters").is_some();
            let Some(responses) = op["responses"].as_object_mut() else { continue };
            if path_params || has_query || has_body {
                responses.entry("400").or_insert_with(|| {
                    error_response("The request cannot be read: an id that is not a 64-bit integer, a parameter of the wrong type, or a body that is not JSON")
                });
            }
            if has_body {
                responses
                    .insert("415".into(), error_response("The body was not sent as `Content-Type: application/json`"));
            }
            if has_query || has_body {
                responses.entry("422").or_insert_with(|| {
                    error_response("A value is refused (text with a NUL character among them); `fields` names it")
                });
            }
        }
    }
}

/// The filters a board and a deal list share.
fn deal_filter_params() -> [Value; 3] {
    [
        json!({"name": "owner_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "deals of this owner"}),
        json!({"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}, "description": "text in the title"}),
        json!({"name": "tag_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "deals that carry this tag"}),
    ]
}

/// A record's `tag_ids` in its create and update bodies.
fn tag_ids_schema() -> Value {
    json!({"type": "array", "items": {"type": "integer"}, "maxItems": 30, "nullable": true,
           "description": "the tags it is to carry (absent: as they are; `null` or `[]`: none). 422 `tag_ids`: `unknown_tag`, or `locked_tag` when anyone but an admin puts on or takes off a locked tag"})
}

/// A record's custom values: by field key, each checked against its field's kind.
fn custom_schema(input: bool) -> Value {
    let what = match input {
        true => {
            "custom field values by key (`GET /custom-fields` lists the fields); a key present changes its value, `null` or \"\" clears it; 422 `custom.KEY` for a value that does not fit its field or a key no field has; a new record needs every required field"
        }
        false => {
            "the live custom fields' values, by key: text, a number, `YYYY-MM-DD`, true/false, an option, or a list of options"
        }
    };
    json!({"type": "object", "additionalProperties": true, "description": what})
}

/// 401 and 403, which every operation may answer, and `extra`.
fn common_errors(extra: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    let mut responses = serde_json::Map::new();
    responses.insert("401".into(), error_response("No token, or a revoked one"));
    responses.insert("403".into(), error_response("The token's user lacks the permission"));
    for (code, what) in extra {
        responses.insert((*code).into(), error_response(what));
    }
    responses
}

/// `base` responses with `code` answering `response`, to add more to.
fn with_map(mut base: serde_json::Map<String, Value>, code: &str, response: Value) -> serde_json::Map<String, Value> {
    base.insert(code.into(), response);
    base
}

/// `base` responses with `code` answering `response`.
fn with(mut base: serde_json::Map<String, Value>, code: &str, response: Value) -> Value {
    base.insert(code.into(), response);
    Value::Object(base)
}

fn id_param(name: &str, what: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": what, "schema": {"type": "integer", "format": "int64"}})
}

pub fn build(public_url: &str) -> Value {
    let mut doc = operations(public_url);
    add_record_work(&mut doc);
    document_malformed(&mut doc);
    doc
}

/// The document as written out, operation by operation.
fn operations(public_url: &str) -> Value {
    let nullable = |t: &str| json!({"type": t, "nullable": true});
    let client_fields = json!({
        "first_name": {"type": "string", "maxLength": 100},
        "last_name": nullable("string"),
        "middle_name": nullable("string"),
        "phone": {"type": "string", "nullable": true, "description": "E.164; spaces, dashes, brackets and a leading 00 are accepted"},
        "email": nullable("string"),
        "address": nullable("string"),
        "date_of_birth": {"type": "string", "format": "date", "nullable": true},
        "gender": {"type": "string", "enum": ["male", "female", "other"], "nullable": true},
        "pin": {"type": "string", "nullable": true, "description": "digits; 14 for Uzbekistan (+998), 12 for Kazakhstan and Russia (+7)"},
        "passport_series": nullable("string"),
        "passport_number": nullable("string"),
        "comments": nullable("string"),
        "company_id": {"type": "integer", "nullable": true, "description": "the company the client works at"},
        "job_title": {"type": "string", "maxLength": 200, "nullable": true},
        "tag_ids": tag_ids_schema(),
        "custom": custom_schema(true),
    });
    let mut client_props = client_fields.clone();
    if let Some(props) = client_props.as_object_mut() {
        props.remove("tag_ids");
        props.insert("custom".into(), custom_schema(false));
        props.insert("tags".into(), json!({"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}));
        props.insert("id".into(), json!({"type": "integer", "format": "int64"}));
        props.insert("created_at".into(), json!({"type": "string", "format": "date-time"}));
        props.insert("updated_at".into(), json!({"type": "string", "format": "date-time"}));
        props.insert("contacts".into(), json!({"type": "array", "items": {"$ref": "#/components/schemas/Contact"}}));
    }
    let mut new_client_props = client_fields.clone();
    if let Some(props) = new_client_props.as_object_mut() {
        props.insert("contacts".into(), json!({"type": "array", "items": {"$ref": "#/components/schemas/NewContact"}}));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "CRM API",
            "version": "1",
            "description": "Clients, their contacts, their conversations and message templates. Authenticate with `Authorization: Bearer <token>` (Settings → API tokens, or `crm token create`). A token acts as its user, with that user's permissions and tenant; another tenant's ids answer 404."
        },
        "servers": [{"url": format!("{public_url}/api/v1")}],
        "security": [{"bearer": []}],
        "paths": {
            "/me": {"get": {
                "summary": "Who the token acts as",
                "operationId": "me",
                "responses": with(common_errors(&[]), "200", json_response("The user, tenant and permissions", "Me")),
            }},
            "/clients": {
                "get": {
                    "summary": "List and search clients",
                    "operationId": "listClients",
                    "description": format!("Live (not deleted) clients, most recently updated first unless sort=name. `total` is exact up to {COUNT_CAP} matches; a broad search stops counting earlier, and then `total_exact` is false and `total` is a lower bound."),
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "any part of the names, phone, email or PIN"},
                        {"name": "created_from", "in": "query", "schema": {"type": "string", "format": "date"}},
                        {"name": "created_to", "in": "query", "schema": {"type": "string", "format": "date"}},
                        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["updated", "name"]}},
                        {"name": "tag_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "clients that carry this tag"},
                        {"name": "custom.KEY", "in": "query", "schema": {"type": "string"}, "description": "clients whose custom field KEY holds this value (read as the field reads it: an option in any case, yes/no, a number); a multi-select holds it among its options; 422 `custom.KEY` for a field the clients have not"},
                        paging_params()[0], paging_params()[1]
                    ],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of clients", "ClientPage")),
                },
                "post": {
                    "summary": "Create a client",
                    "operationId": "createClient",
                    "requestBody": body("NewClient", json!({"first_name": "Dilnoza", "last_name": "Karimova", "phone": "+998 90 123 45 67",
                        "contacts": [{"type": "telegram", "value": "@dilnoza_k"}]})),
                    "responses": with(common_errors(&[
                                                ("409", "Another client has this phone or PIN; `fields` names it"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "201", json_response("The client as stored", "Client")),
                }
            },
            "/clients/{id}": {
                "parameters": [id_param("id", "the client")],
                "get": {
                    "summary": "A client with their contacts",
                    "operationId": "getClient",
                    "responses": with(common_errors(&[("404", "No such live client in this tenant")]), "200", json_response("The client", "Client")),
                },
                "patch": {
                    "summary": "Change some fields",
                    "operationId": "updateClient",
                    "description": "Fields present are changed (`null` clears one); absent fields stay.",
                    "requestBody": body("ClientPatch", json!({"email": "dilnoza@example.uz", "comments": null})),
                    "responses": with(common_errors(&[
                        ("404", "No such live client in this tenant"),
                        ("409", "Another client has this phone or PIN"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "200", json_response("The client as stored", "Client")),
                },
                "delete": {
                    "summary": "Delete (archive) a client",
                    "operationId": "deleteClient",
                    "description": "Hidden at once; an admin may restore the client for 30 days, then it is purged.",
                    "responses": with(common_errors(&[("404", "No such live client in this tenant")]), "204", json!({"description": "Deleted"})),
                }
            },
            "/clients/{id}/contacts": {
                "parameters": [id_param("id", "the client")],
                "get": {
                    "summary": "A client's contacts",
                    "operationId": "listContacts",
                    "responses": with(common_errors(&[("404", "No such live client in this tenant")]), "200",
                        json!({"description": "The contacts", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"}}}}})),
                },
                "post": {
                    "summary": "Add a contact",
                    "operationId": "addContact",
                    "requestBody": body("NewContact", json!({"type": "whatsapp", "value": "+998 90 765 43 21"})),
                    "responses": with(common_errors(&[
                        ("404", "No such live client in this tenant"),
                        ("409", "The client already has this contact"),
                        ("422", "Invalid type or value"),
                    ]), "201", json_response("The contact as stored", "Contact")),
                }
            },
            "/clients/{id}/contacts/{contact_id}": {
                "parameters": [id_param("id", "the client"), id_param("contact_id", "the contact")],
                "delete": {
                    "summary": "Remove a contact",
                    "operationId": "removeContact",
                    "responses": with(common_errors(&[("404", "No such contact of this client")]), "204", json!({"description": "Removed"})),
                }
            },
            "/clients/{id}/merge": {
                "parameters": [id_param("id", "the client that stays")],
                "post": {
                    "summary": "Merge another client into this one (ClientUpdate and ClientDelete)",
                    "description": "The other's contacts and conversation move over (one thread, in time order); this client's empty fields take the other's values; the other is archived with merged_into. Restoring the other within 30 days undoes the merge.",
                    "operationId": "mergeClients",
                    "requestBody": body("Merge", json!({"from_client_id": 2})),
                    "responses": with(common_errors(&[
                        ("404", "No such client in this tenant"),
                        ("409", "One of them was merged already, or a value cannot move"),
                        ("422", "from_client_id is missing, unknown, or this client"),
                    ]), "200", json_response("The client that stays, as merged", "Client")),
                }
            },
            "/clients/{id}/chat": {
                "parameters": [id_param("id", "the client")],
                "get": {
                    "summary": "The client's conversation",
                    "operationId": "getClientChat",
                    "description": "Every client has one chat, whatever channel they write on. Reading makes nothing: until the chat is started (POST here, or the client writes in) this is 404.",
                    "responses": with(common_errors(&[("404", "No such live client in this tenant, or no conversation with them yet")]), "200", json_response("The chat with its members", "Chat")),
                },
                "post": {
                    "summary": "Start the client's conversation",
                    "operationId": "openClientChat",
                    "description": "Makes the client's chat if there is none (201), or answers the one there is (200). Needs ChatCreate.",
                    "responses": with(with_map(common_errors(&[("404", "No such live client in this tenant")]), "200", json_response("The chat there was", "Chat")), "201", json_response("The chat, started", "Chat")),
                }
            },
            "/chats": {"get": {
                "summary": "The inbox",
                "operationId": "listChats",
                "description": "Chats with at least one message, newest activity first. `total_exact` is false when another page exists; `total` then counts one past this page (and is 0 for a page past the end).",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "the client's name, phone, email or PIN (every word), or words of any message"},
                    {"name": "unread", "in": "query", "schema": {"type": "boolean"}, "description": "only chats with unread client messages"},
                    {"name": "assignee", "in": "query", "schema": {"type": "string"}, "description": "`me`, `none` (unassigned) or a user's id; any when absent"},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "pending", "resolved", "snoozed"]}, "description": "any status when absent"},
                    {"name": "tag_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "chats that carry this tag"},
                    paging_params()[0], paging_params()[1]
                ],
                "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of chats", "ChatPage")),
            }},
            "/chats/{chat_id}": {
                "parameters": [id_param("chat_id", "the chat")],
                "get": {
                    "summary": "A chat with its members",
                    "operationId": "getChat",
                    "responses": with(common_errors(&[("404", "No such chat in this tenant")]), "200", json_response("The chat", "Chat")),
                },
                "patch": {
                    "summary": "Assign a chat, change its status or snooze it",
                    "operationId": "updateChat",
                    "description": "Each key present is a change: `assignee_id` (a user who may write in chats, or null to unassign), `status` (open, pending, resolved), `snoozed_until` (a time to come: the chat is `snoozed` until then, or until the client writes). Each change is audited. Needs ChatUpdate.",
                    "requestBody": body("ChatChange", json!({"status": "resolved"})),
                    "responses": with(common_errors(&[
                        ("404", "No such chat in this tenant"),
                        ("422", "An unknown status, a snooze time that has passed, an assignee who cannot take chats; `fields` names each"),
                    ]), "200", json_response("The chat as changed", "Chat")),
                }
            },
            "/chats/{chat_id}/messages": {
                "parameters": [id_param("chat_id", "the chat")],
                "get": {
                    "summary": "A chat's messages, newest first",
                    "operationId": "listMessages",
                    "parameters": [
                        {"name": "before", "in": "query", "schema": {"type": "integer"}, "description": "only messages older than this one (the next page)"},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}}
                    ],
                    "responses": with(common_errors(&[("404", "No such chat in this tenant"), ("422", "A parameter is invalid")]), "200", json_response("Messages", "MessageList")),
                },
                "post": {
                    "summary": "Write in a chat",
                    "operationId": "sendMessage",
                    "description": "A message for a channel is stored as `queued` and delivered after the answer (its `status` follows: sent, delivered, read, or failed with `error`). `transport: note` writes an internal note, never sent. Without `transport`, the first channel that reaches the client (or the given contact) is used. With `template_id` and no `body`, the template is filled in for the client; a `{{variable}}` left unfilled is refused.",
                    "requestBody": body("NewMessage", json!({"body": "Called her: she will come on Monday.", "transport": "note"})),
                    "responses": with(common_errors(&[
                                                ("404", "No such chat in this tenant"),
                        ("422", "Invalid values (empty body, unknown transport, no channel set up for it, no contact it reaches); `fields` names each"),
                    ]), "202", json_response("The message as stored", "Message")),
                }
            },
            "/chats/{chat_id}/messages/{message_id}": {
                "parameters": [id_param("chat_id", "the chat"), id_param("message_id", "the message")],
                "delete": {
                    "summary": "Cancel a scheduled message",
                    "operationId": "cancelMessage",
                    "description": "A message sent with `send_at` can be called off until it leaves; it stays in the chat as `cancelled`. Needs ChatUpdate.",
                    "responses": with(common_errors(&[("404", "No such message in this chat"), ("409", "The message is not scheduled (it has left, or is leaving)")]), "204", json!({"description": "Cancelled"})),
                }
            },
            "/chats/{chat_id}/messages/{message_id}/read": {
                "parameters": [id_param("chat_id", "the chat"), id_param("message_id", "the message")],
                "put": {
                    "summary": "Mark one client message read",
                    "operationId": "markMessageRead",
                    "responses": with(common_errors(&[("404", "No such message in this chat")]), "204", json!({"description": "Read"})),
                }
            },
            "/chats/{chat_id}/read": {
                "parameters": [id_param("chat_id", "the chat")],
                "post": {
                    "summary": "Mark every client message of the chat read",
                    "operationId": "markChatRead",
                    "responses": with(common_errors(&[("404", "No such chat in this tenant")]), "204", json!({"description": "Read"})),
                }
            },
            "/settings": {
                "get": {
                    "summary": "The tenant's settings",
                    "operationId": "getSettings",
                    "responses": with(common_errors(&[]), "200", json_response("The settings", "Settings")),
                },
                "patch": {
                    "summary": "Change the tenant's settings (SettingsManage: admins)",
                    "operationId": "updateSettings",
                    "requestBody": body("SettingsPatch", json!({"default_country": "UZ", "auto_assign": "round_robin"})),
                    "responses": with(common_errors(&[("422", "Invalid values; `fields` names each")]), "200", json_response("The settings as stored", "Settings")),
                }
            },
            "/currency-rates": {
                "get": {
                    "summary": "The exchange rates: what one unit of each currency is worth in the base currency",
                    "operationId": "getCurrencyRates",
                    "responses": with(common_errors(&[]), "200", json_response("The base currency and the rates, by currency", "Rates")),
                },
                "put": {
                    "summary": "Replace the exchange rates (SettingsManage: admins); a currency left out has no rate any more",
                    "operationId": "setCurrencyRates",
                    "requestBody": body("RatesInput", json!({"items": [{"currency": "UZS", "rate": "0.0000791"}, {"currency": "EUR", "rate": "1.08"}]})),
                    "responses": with(common_errors(&[
                        ("422", "A bad row (an unknown currency, a rate not above zero, a currency twice, the base currency not at 1); `fields` names it as `items[i].currency` or `items[i].rate`"),
                    ]), "200", json_response("The rates as stored", "Rates")),
                }
            },
            "/pipelines": {
                "get": {
                    "summary": "Sales pipelines, in order, each with its stages in order (DealRead)",
                    "operationId": "listPipelines",
                    "parameters": [paging_params()[0], paging_params()[1]],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of pipelines", "PipelinePage")),
                },
                "post": {
                    "summary": "Create a pipeline with its stages (SettingsManage: admins)",
                    "operationId": "createPipeline",
                    "requestBody": body("NewPipeline", json!({"name": "Rentals", "stages": [{"name": "Viewing", "probability": 30}, {"name": "Signed", "kind": "won"}, {"name": "Gone", "kind": "lost"}]})),
                    "responses": with(common_errors(&[
                        ("409", "Another pipeline has this name"),
                        ("422", "Invalid values (no open stage, a stage's bad name or kind); `fields` names each, a stage's as `stages[i].name`"),
                    ]), "201", json_response("The pipeline as stored", "Pipeline")),
                }
            },
            "/pipelines/{pipeline_id}": {
                "parameters": [id_param("pipeline_id", "the pipeline")],
                "get": {
                    "summary": "A pipeline",
                    "operationId": "getPipeline",
                    "responses": with(common_errors(&[("404", "No such pipeline in this tenant")]), "200", json_response("The pipeline", "Pipeline")),
                },
                "patch": {
                    "summary": "Rename a pipeline (its stages change through their own operations)",
                    "operationId": "updatePipeline",
                    "requestBody": body("PipelinePatch", json!({"name": "Lettings"})),
                    "responses": with(common_errors(&[
                        ("404", "No such pipeline in this tenant"),
                        ("409", "Another pipeline has this name"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "200", json_response("The pipeline as stored", "Pipeline")),
                },
                "delete": {
                    "summary": "Delete a pipeline and its stages",
                    "operationId": "deletePipeline",
                    "responses": with(common_errors(&[
                        ("404", "No such pipeline in this tenant"),
                        ("409", "The pipeline still holds deals (`pipeline_has_deals`)"),
                        ("422", "The tenant's last pipeline stays (`fields.pipeline`)"),
                    ]), "204", json!({"description": "Deleted"})),
                }
            },
            "/pipelines/{pipeline_id}/stages": {
                "parameters": [id_param("pipeline_id", "the pipeline")],
                "post": {
                    "summary": "Add a stage at the end of a pipeline",
                    "operationId": "addStage",
                    "requestBody": body("StageInput", json!({"name": "Contract sent", "kind": "open", "probability": 80, "color": "#0ea5e9"})),
                    "responses": with(common_errors(&[
                        ("404", "No such pipeline in this tenant"),
                        ("422", "Invalid values (a name the pipeline has, more than 30 stages); `fields` names each"),
                    ]), "201", json_response("The stage as stored", "Stage")),
                }
            },
            "/pipelines/{pipeline_id}/stages/{stage_id}": {
                "parameters": [id_param("pipeline_id", "the pipeline"), id_param("stage_id", "the stage")],
                "patch": {
                    "summary": "Change a stage: what is given changes, the rest stays (a stage made won or lost takes 100 or 0 % unless a probability is given)",
                    "operationId": "updateStage",
                    "requestBody": body("StageInput", json!({"name": "Qualified lead", "probability": 30})),
                    "responses": with(common_errors(&[
                        ("404", "No such stage in this pipeline of this tenant"),
                        ("422", "Invalid values, or no open stage would be left; `fields` names each"),
                    ]), "200", json_response("The stage as stored", "Stage")),
                },
                "delete": {
                    "summary": "Delete a stage",
                    "operationId": "deleteStage",
                    "parameters": [{"name": "move_to", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "another stage of the pipeline, for the deals of this one"}],
                    "responses": with(common_errors(&[
                        ("404", "No such stage in this pipeline of this tenant"),
                        ("409", "The stage holds deals and no `move_to` says where they go (`stage_has_deals`)"),
                        ("422", "No open stage would be left (`fields.stages`), or `move_to` is not another stage of the pipeline"),
                    ]), "204", json!({"description": "Deleted"})),
                }
            },
            "/pipelines/{pipeline_id}/stage-order": {
                "parameters": [id_param("pipeline_id", "the pipeline")],
                "put": {
                    "summary": "Put a pipeline's stages in order",
                    "operationId": "orderStages",
                    "requestBody": body("StageOrder", json!({"stage_ids": [3, 1, 2]})),
                    "responses": with(common_errors(&[
                        ("404", "No such pipeline in this tenant"),
                        ("422", "`stage_ids` does not list each of the pipeline's stages once"),
                    ]), "200", json_response("The pipeline in its new order", "Pipeline")),
                }
            },
            "/pipelines/{pipeline_id}/board": {
                "parameters": [id_param("pipeline_id", "the pipeline")],
                "get": {
                    "summary": "A pipeline's board: each stage in order with its deal count, its total in the base currency and its first 20 deals in board order (DealRead; under `record_visibility: own`, non-admins count and see only their deals)",
                    "operationId": "getBoard",
                    "parameters": deal_filter_params(),
                    "responses": with(common_errors(&[("404", "No such pipeline in this tenant"), ("422", "A filter is invalid; `fields` names it")]), "200", json_response("The board", "Board")),
                }
            },
            "/pipelines/{pipeline_id}/stages/{stage_id}/deals": {
                "parameters": [id_param("pipeline_id", "the pipeline"), id_param("stage_id", "the stage")],
                "get": {
                    "summary": "A stage's next 20 deals in board order, after `cursor` (a column's `next_cursor`)",
                    "operationId": "listStageDeals",
                    "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "where the page starts; none: the top"}, deal_filter_params()[0].clone(), deal_filter_params()[1].clone(), deal_filter_params()[2].clone()],
                    "responses": with(common_errors(&[("404", "No such stage in this pipeline of this tenant"), ("422", "A bad cursor or filter; `fields` names it")]), "200", json_response("A page of the column", "StageDeals")),
                }
            },
            "/companies": {
                "get": {
                    "summary": "Companies, by name or latest changed first (ClientRead; under `record_visibility: own`, non-admins see only their companies)",
                    "operationId": "listCompanies",
                    "parameters": [
                        paging_params()[0], paging_params()[1],
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}, "description": "words of the name, email, phone, website or tax id, in Latin or Cyrillic"},
                        {"name": "owner_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "companies of this owner"},
                        {"name": "tag_id", "in": "query", "schema": {"type": "integer", "format": "int64"}, "description": "companies that carry this tag"},
                        {"name": "custom.KEY", "in": "query", "schema": {"type": "string"}, "description": "companies whose custom field KEY holds this value, read as the field reads it; 422 `custom.KEY` for a field companies have not"},
                        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["name", "updated"], "default": "name"}}
                    ],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of companies", "CompanyPage")),
                },
                "post": {
                    "summary": "Create a company, owned by its creator unless `owner_id` says otherwise (ClientCreate)",
                    "operationId": "createCompany",
                    "requestBody": body("CompanyInput", json!({"name": "Acme LLC", "website": "acme.uz", "phone": "+998 71 200 00 00", "tax_id": "301234567"})),
                    "responses": with(common_errors(&[
                        ("409", "Another company of the tenant has this `tax_id`"),
                        ("422", "A field is refused; `fields` names each"),
                    ]), "201", json_response("The company as stored", "Company")),
                },
            },
            "/companies/{company_id}": {
                "parameters": [id_param("company_id", "the company")],
                "get": {
                    "summary": "A company",
                    "operationId": "getCompany",
                    "responses": with(common_errors(&[("404", "No such company in this tenant (or not yours, under `own` visibility)")]), "200", json_response("The company", "Company")),
                },
                "patch": {
                    "summary": "Change a company: what is given changes, `null` clears, the rest stays (ClientUpdate)",
                    "operationId": "updateCompany",
                    "requestBody": body("CompanyInput", json!({"comments": "Pays on the 5th", "website": null})),
                    "responses": with(common_errors(&[
                        ("404", "No such company in this tenant"),
                        ("409", "Another company of the tenant has this `tax_id`"),
                        ("422", "A field is refused; `fields` names each"),
                    ]), "200", json_response("The company as stored", "Company")),
                },
                "delete": {
                    "summary": "Delete a company; its people and deals stay, no longer linked to it (ClientDelete)",
                    "operationId": "deleteCompany",
                    "responses": with(common_errors(&[("404", "No such company in this tenant")]), "204", json!({"description": "Deleted"})),
                },
            },
            "/tags": {
                "get": {
                    "summary": "The tenant's tags, by name (ClientRead)",
                    "operationId": "listTags",
                    "responses": with(common_errors(&[]), "200", json_response("Every tag", "TagList")),
                },
                "post": {
                    "summary": "Create a tag (TagManage)",
                    "operationId": "createTag",
                    "requestBody": body("TagInput", json!({"name": "VIP", "color": "#dc2626", "locked": true})),
                    "responses": with(common_errors(&[
                        ("409", "The tenant has a tag of this `name`, in any case"),
                        ("422", "A field is refused; `fields` names each"),
                    ]), "201", json_response("The tag as stored", "Tag")),
                },
            },
            "/tags/{tag_id}": {
                "parameters": [id_param("tag_id", "the tag")],
                "get": {
                    "summary": "A tag",
                    "operationId": "getTag",
                    "responses": with(common_errors(&[("404", "No such tag in this tenant")]), "200", json_response("The tag", "Tag")),
                },
                "patch": {
                    "summary": "Rename, recolour, lock or unlock a tag; records keep it (TagManage)",
                    "operationId": "updateTag",
                    "requestBody": body("TagInput", json!({"name": "Key account"})),
                    "responses": with(common_errors(&[
                        ("404", "No such tag in this tenant"),
                        ("409", "The tenant has a tag of this `name`, in any case"),
                        ("422", "A field is refused; `fields` names each"),
                    ]), "200", json_response("The tag as stored", "Tag")),
                },
                "delete": {
                    "summary": "Delete a tag, which takes it off every record (TagManage)",
                    "operationId": "deleteTag",
                    "responses": with(common_errors(&[("404", "No such tag in this tenant")]), "204", json!({"description": "Deleted"})),
                },
            },
            "/custom-fields": {
                "get": {
                    "summary": "The tenant's custom fields, in order (ClientRead)",
                    "operationId": "listCustomFields",
                    "parameters": [
                        {"name": "entity", "in": "query", "schema": {"type": "string", "enum": ["client", "company", "deal"]}, "description": "all three when absent"},
                        {"name": "removed", "in": "query", "schema": {"type": "boolean"}, "description": "with the removed fields (FieldManage)"}
                    ],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("The fields", "CustomFieldList")),
                },
                "post": {
                    "summary": "Add a custom field (FieldManage)",
                    "operationId": "createCustomField",
                    "requestBody": body("CustomFieldInput", json!({"entity": "client", "label": "Tier", "type": "select", "options": ["Gold", "Silver"]})),
                    "responses": with(common_errors(&[
                        ("409", "The tenant has a field of this `key` for the entity"),
                        ("422", "A field is refused; `fields` names each"),
                    ]), "201", json_response("The field as stored", "CustomField")),
                },
            },
            "/custom-fields/{field_id}": {
                "parameters": [id_param("field_id", "the field")],
                "get": {
                    "summary": "A custom field",
                    "operationId": "getCustomField",
                    "responses": with(common_errors(&[("404", "No such field in this tenant")]), "200", json_response("The field", "CustomField")),
                },
                "patch": {
                    "summary": "Relabel a field, change its options or whether it is required; values stay (FieldManage)",
                    "operationId": "updateCustomField",
                    "requestBody": body("CustomFieldInput", json!({"label": "Level"})),
                    "responses": with(common_errors(&[
                        ("404", "No such field in this tenant"),
                        ("422", "A field is refused (`entity`, `type` and `key` are fixed); `fields` names each"),
                    ]), "200", json_response("The field as stored", "CustomField")),
                },
                "delete": {
                    "summary": "Remove a field: its values are hidden and kept for 30 days (FieldManage)",
                    "operationId": "removeCustomField",
                    "responses": with(common_errors(&[("404", "No such live field in this tenant")]), "204", json!({"description": "Removed"})),
                },
            },
            "/custom-fields/{field_id}/restore": {
                "parameters": [id_param("field_id", "the field")],
                "post": {
                    "summary": "Bring back a field removed less than 30 days ago, with its values (FieldManage)",
                    "operationId": "restoreCustomField",
                    "responses": with(common_errors(&[("404", "No such field removed in the last 30 days")]), "200", json_response("The field", "CustomField")),
                },
            },
            "/deals": {
                "get": {
                    "summary": "Deals, filtered and sorted (DealRead; under `record_visibility: own`, non-admins see only their deals)",
                    "operationId": "listDeals",
                    "parameters": [
                        paging_params()[0], paging_params()[1],
                        {"name": "pipeline_id", "in": "query", "schema": {"type": "integer", "format": "int64"}},
                        {"name": "stage_id", "in": "query", "schema": {"type": "integer", "format": "int64"}},
                        {"name": "client_id", "in": "query", "schema": {"type": "integer", "format": "int64"}},
                        {"name": "company_id", "in": "query", "schema": {"type": "integer", "format": "int64"}},
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "won", "lost"]}},
                        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["updated", "value", "close_on", "title"], "default": "updated"}, "description": "updated: latest change first; value: largest in the base currency first; close_on: soonest first"},
                        deal_filter_params()[0].clone(), deal_filter_params()[1].clone(), deal_filter_params()[2].clone()
                    ],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of deals", "DealPage")),
                },
                "post": {
                    "summary": "Create a deal, on top of its stage (by default the pipeline's first open stage), owned by its creator unless `owner_id` says otherwise (DealWrite)",
                    "operationId": "createDeal",
                    "requestBody": body("DealInput", json!({"title": "Flat on Navoi 12", "pipeline_id": 1, "value": "1250.00", "currency": "USD", "expected_close_on": "2026-12-31"})),
                    "responses": with(common_errors(&[
                        ("422", "Invalid values (no title, an unknown pipeline, a stage of another pipeline, an unknown client or owner, no rate for the currency); `fields` names each"),
                    ]), "201", json_response("The deal as stored", "Deal")),
                }
            },
            "/deals/{deal_id}": {
                "parameters": [id_param("deal_id", "the deal")],
                "get": {
                    "summary": "A deal",
                    "operationId": "getDeal",
                    "responses": with(common_errors(&[("404", "No such deal in this tenant (or not yours, under `own` visibility)")]), "200", json_response("The deal", "Deal")),
                },
                "patch": {
                    "summary": "Change a deal: what is given changes, `null` clears, the rest stays. A new value or currency is frozen again at today's rate; a new stage or pipeline is a move, recorded in its history",
                    "operationId": "updateDeal",
                    "requestBody": body("DealInput", json!({"title": "Flat on Navoi 12, 3rd floor", "expected_close_on": null})),
                    "responses": with(common_errors(&[
                        ("404", "No such deal in this tenant"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "200", json_response("The deal as stored", "Deal")),
                },
                "delete": {
                    "summary": "Delete a deal and its history",
                    "operationId": "deleteDeal",
                    "responses": with(common_errors(&[("404", "No such deal in this tenant")]), "204", json!({"description": "Deleted"})),
                }
            },
            "/deals/{deal_id}/move": {
                "parameters": [id_param("deal_id", "the deal")],
                "post": {
                    "summary": "Move a deal on its board: to a stage of its pipeline, before another deal of that stage or at its end. A new stage is recorded in the history; a lost stage keeps `lost_reason`",
                    "operationId": "moveDeal",
                    "requestBody": body("DealMove", json!({"stage_id": 2, "before_deal_id": null})),
                    "responses": with(common_errors(&[
                        ("404", "No such deal in this tenant"),
                        ("422", "`stage_id` is missing or of another pipeline, or `before_deal_id` is not in that stage"),
                    ]), "200", json_response("The deal where it now is", "Deal")),
                }
            },
            "/deals/{deal_id}/history": {
                "parameters": [id_param("deal_id", "the deal")],
                "get": {
                    "summary": "A deal's moves between stages, oldest first (the first has no `from`)",
                    "operationId": "getDealHistory",
                    "responses": with(common_errors(&[("404", "No such deal in this tenant")]), "200", json_response("The moves", "DealHistory")),
                }
            },
            "/message-templates": {
                "get": {
                    "summary": "Message templates",
                    "operationId": "listTemplates",
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}, "description": "words of the title, shortcut or text"},
                                   paging_params()[0], paging_params()[1]],
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of templates, by title", "TemplatePage")),
                },
                "post": {
                    "summary": "Create a template",
                    "operationId": "createTemplate",
                    "requestBody": body("NewTemplate", json!({"title": "Greeting", "shortcut": "hi", "template": "Hello {{client.first_name}}, this is {{agent.first_name}} from {{company.name}}."})),
                    "responses": with(common_errors(&[
                                                ("409", "Another template has this shortcut"),
                        ("422", "Invalid values (an empty text, an unknown variable); `fields` names each"),
                    ]), "201", json_response("The template as stored", "Template")),
                }
            },
            "/message-templates/{template_id}": {
                "parameters": [id_param("template_id", "the template")],
                "get": {
                    "summary": "A template",
                    "operationId": "getTemplate",
                    "responses": with(common_errors(&[("404", "No such template in this tenant")]), "200", json_response("The template", "Template")),
                },
                "put": {
                    "summary": "Replace a template",
                    "operationId": "updateTemplate",
                    "requestBody": body("NewTemplate", json!({"title": "Greeting", "shortcut": "hello", "template": "Good day, {{client.first_name}}!"})),
                    "responses": with(common_errors(&[
                        ("404", "No such template in this tenant"),
                        ("409", "Another template has this shortcut"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "200", json_response("The template as stored", "Template")),
                },
                "delete": {
                    "summary": "Delete a template",
                    "operationId": "deleteTemplate",
                    "responses": with(common_errors(&[("404", "No such template in this tenant")]), "204", json!({"description": "Deleted"})),
                }
            },
            "/channels": {
                "get": {
                    "summary": "The tenant's channels (ChannelManage)",
                    "operationId": "listChannels",
                    "parameters": paging_params(),
                    "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of Twilio numbers and Telegram bots, secrets left out", "ChannelPage")),
                },
                "post": {
                    "summary": "Add a channel; a Telegram bot's webhook is registered at once",
                    "operationId": "createChannel",
                    "requestBody": body("NewChannel", json!({"kind": "twilio_sms", "name": "Main number", "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "0123456789abcdef0123456789abcdef", "from": "+998901234567"})),
                    "responses": with(common_errors(&[
                                                ("409", "Another channel already has this number or Messaging Service"),
                        ("422", "Invalid values; `fields` names each"),
                    ]), "201", json_response("The channel as stored (and `webhook`: what Telegram said)", "Channel")),
                }
            },
            "/channels/{channel_id}": {
                "parameters": [id_param("channel_id", "the channel")],
                "get": {
                    "summary": "A channel",
                    "operationId": "getChannel",
                    "responses": with(common_errors(&[("404", "No such channel in this tenant")]), "200", json_response("The channel", "Channel")),
                },
                "patch": {
                    "summary": "Change a channel: only the fields sent change; secrets left out are kept",
                    "operationId": "updateChannel",
                    "requestBody": body("ChannelPatch", json!({"name": "Support line", "enabled": false})),
                    "responses": with(common_errors(&[
                        ("404", "No such channel in this tenant"),
                        ("409", "Another channel already has this number or Messaging Service"),
                        ("422", "Invalid values (a kind cannot change); `fields` names each"),
                    ]), "200", json_response("The channel as stored", "Channel")),
                },
                "delete": {
                    "summary": "Delete a channel (its messages stay)",
                    "operationId": "deleteChannel",
                    "responses": with(common_errors(&[("404", "No such channel in this tenant")]), "204", json!({"description": "Deleted"})),
                }
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
                    }}}},
                "Me": {"type": "object", "required": ["id", "email", "name", "role", "permissions", "tenant"], "properties": {
                    "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
                    "role": {"type": "string", "enum": ["admin", "agent", "viewer"]},
                    "locale": {"type": "string", "nullable": true},
                    "permissions": {"type": "array", "items": {"type": "string"}},
                    "tenant": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}}
                }},
                "Client": {"type": "object", "required": ["id", "first_name", "created_at", "updated_at", "contacts", "tags", "custom"], "properties": client_props},
                "NewClient": {"type": "object", "required": ["first_name"], "properties": new_client_props},
                "ClientPatch": {"type": "object", "properties": client_fields},
                "ClientPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Client"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "Contact": {"type": "object", "required": ["id", "type", "value"], "properties": {
                    "id": {"type": "integer"},
                    "type": {"type": "string", "enum": ["email", "phone", "telegram", "whatsapp", "other"]},
                    "value": {"type": "string", "description": "normalised: phones in E.164, Telegram usernames without @"}
                }},
                "NewContact": {"type": "object", "required": ["type", "value"], "properties": {
                    "type": {"type": "string", "enum": ["email", "phone", "telegram", "whatsapp", "other"]},
                    "value": {"type": "string"}
                }},
                "ChatChange": {"type": "object", "properties": {
                    "assignee_id": {"type": "integer", "nullable": true},
                    "status": {"type": "string", "enum": ["open", "pending", "resolved"]},
                    "snoozed_until": {"type": "string", "format": "date-time"},
                    "tag_ids": tag_ids_schema()
                }},
                "Chat": {"type": "object", "required": ["id", "client", "unread_count", "status", "tags"], "properties": {
                    "id": {"type": "integer"},
                    "client": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                    "last_message": {"type": "object", "nullable": true, "properties": {
                        "id": {"type": "integer"}, "body": {"type": "string"},
                        "direction": {"type": "string", "enum": ["inbound", "outbound", "note"]},
                        "transport": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}
                    }},
                    "last_message_at": {"type": "string", "format": "date-time", "nullable": true},
                    "unread_count": {"type": "integer", "description": "client messages no one on the staff has read"},
                    "assignee": {"type": "object", "nullable": true, "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                    "status": {"type": "string", "enum": ["open", "pending", "resolved", "snoozed"]},
                    "snoozed_until": {"type": "string", "format": "date-time", "nullable": true, "description": "when a snoozed chat opens again"},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                    "members": {"type": "array", "items": {"type": "object", "required": ["id", "type", "name"], "properties": {
                        "id": {"type": "integer"}, "type": {"type": "string", "enum": ["user", "client"]},
                        "user_id": {"type": "integer", "nullable": true}, "contact_id": {"type": "integer", "nullable": true},
                        "transport": {"type": "string", "nullable": true}, "name": {"type": "string"}
                    }}}
                }},
                "ChatPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Chat"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "Message": {"type": "object", "required": ["id", "chat_id", "body", "direction", "sender", "transport", "attachments", "created_at"], "properties": {
                    "id": {"type": "integer"}, "chat_id": {"type": "integer"}, "body": {"type": "string"},
                    "direction": {"type": "string", "enum": ["inbound", "outbound", "note"]},
                    "sender": {"type": "object", "required": ["type", "name"], "properties": {
                        "type": {"type": "string", "enum": ["user", "client", "system"]},
                        "id": {"type": "integer", "description": "the user, or the client's contact"},
                        "name": {"type": "string"}
                    }},
                    "transport": {"type": "string", "enum": ["sms", "whatsapp", "telegram", "note"]},
                    "status": {"type": "string", "enum": ["scheduled", "queued", "sent", "delivered", "read", "failed", "undelivered", "unknown", "cancelled", "note"]},
                    "error": {"type": "string", "description": "why delivery failed, in the provider's words"},
                    "error_code": {"type": "string"},
                    "contact_id": {"type": "integer", "nullable": true},
                    "attachments": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "file_name": {"type": "string"}, "content_type": {"type": "string"},
                        "size_bytes": {"type": "integer"}, "url": {"type": "string"}
                    }}},
                    "created_at": {"type": "string", "format": "date-time"},
                    "sent_at": {"type": "string", "format": "date-time", "nullable": true},
                    "read_at": {"type": "string", "format": "date-time", "nullable": true},
                    "send_at": {"type": "string", "format": "date-time", "description": "a scheduled message's time to leave"}
                }},
                "MessageList": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
                }},
                "NewMessage": {"type": "object", "properties": {
                    "body": {"type": "string", "maxLength": 4096},
                    "transport": {"type": "string", "enum": ["sms", "whatsapp", "telegram", "note"]},
                    "contact_id": {"type": "integer", "description": "which of the client's contacts to send to"},
                    "template_id": {"type": "integer", "description": "send this template, filled in for the client"},
                    "send_at": {"type": "string", "format": "date-time", "description": "send later: the message waits as `scheduled` until then (at most a year; not for a note)"}
                }},
                "Merge": {"type": "object", "required": ["from_client_id"], "properties": {
                    "from_client_id": {"type": "integer", "description": "the client to merge in and archive"}
                }},
                "Settings": {"type": "object", "required": ["name", "default_country", "base_currency", "locale", "time_zone", "auto_assign", "record_visibility"], "properties": {
                    "name": {"type": "string"},
                    "default_country": {"type": "string", "nullable": true, "description": "ISO 3166-1 alpha-2: phone numbers typed without a country code are read as this country's (forms, imports)"},
                    "base_currency": {"type": "string", "description": "ISO 4217"},
                    "locale": {"type": "string", "enum": ["en", "ru", "uz"], "description": "for what reaches people who chose no language"},
                    "time_zone": {"type": "string", "description": "IANA name (Asia/Tashkent): the clock pages show times on; the API keeps UTC"},
                    "auto_assign": {"type": "string", "enum": ["off", "round_robin"], "description": "round_robin: a new conversation goes to the available agent (signed in, not away) assigned longest ago"},
                    "record_visibility": {"type": "string", "enum": ["all", "own"]}
                }},
                "SettingsPatch": {"type": "object", "description": "keys absent are kept; default_country null clears it", "properties": {
                    "name": {"type": "string"},
                    "default_country": {"type": "string", "nullable": true},
                    "base_currency": {"type": "string"},
                    "locale": {"type": "string", "enum": ["en", "ru", "uz"]},
                    "time_zone": {"type": "string"},
                    "auto_assign": {"type": "string", "enum": ["off", "round_robin"]},
                    "record_visibility": {"type": "string", "enum": ["all", "own"]}
                }},
                "Template": {"type": "object", "required": ["id", "template", "created_at", "updated_at"], "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string", "nullable": true},
                    "shortcut": {"type": "string", "nullable": true, "description": "typed after / in the composer"},
                    "template": {"type": "string", "description": "the text; {{client.first_name}}, {{client.last_name}}, {{client.full_name}}, {{agent.first_name}}, {{agent.name}} and {{company.name}} are filled in"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"}
                }},
                "Rates": {"type": "object", "required": ["base_currency", "items"], "properties": {
                    "base_currency": {"type": "string", "description": "ISO 4217; always worth 1, never listed"},
                    "items": {"type": "array", "items": {"type": "object", "required": ["currency", "rate"], "properties": {
                        "currency": {"type": "string", "description": "ISO 4217"},
                        "rate": {"type": "string", "description": "a decimal: one unit of `currency` in the base currency (10 places at most)"}
                    }}}
                }},
                "RatesInput": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"type": "object", "required": ["currency", "rate"], "properties": {
                        "currency": {"type": "string"},
                        "rate": {"description": "a decimal string (`12650.5`, `12 650,5`) or a number; more than zero"}
                    }}}
                }},
                "Stage": {"type": "object", "required": ["id", "name", "kind", "probability", "color"], "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["open", "won", "lost"], "description": "what a deal in this stage counts as"},
                    "probability": {"type": "integer", "minimum": 0, "maximum": 100, "description": "percent"},
                    "color": {"type": "string", "description": "#rrggbb"}
                }},
                "Pipeline": {"type": "object", "required": ["id", "name", "stages"], "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "stages": {"type": "array", "items": {"$ref": "#/components/schemas/Stage"}, "description": "in order; new deals start in the first open one"}
                }},
                "PipelinePage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Pipeline"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "StageInput": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 100, "description": "unique in its pipeline, whatever the case"},
                    "kind": {"type": "string", "enum": ["open", "won", "lost"], "default": "open"},
                    "probability": {"type": "integer", "minimum": 0, "maximum": 100, "description": "percent; by default 50 open, 100 won, 0 lost"},
                    "color": {"type": "string", "description": "#rrggbb; by default grey open, green won, red lost"}
                }},
                "NewPipeline": {"type": "object", "required": ["name", "stages"], "properties": {
                    "name": {"type": "string", "maxLength": 100, "description": "unique in the tenant, whatever the case"},
                    "stages": {"type": "array", "items": {"$ref": "#/components/schemas/StageInput"}, "description": "in order; one open at least, 30 at most, each name once"}
                }},
                "PipelinePatch": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 100}}},
                "StageOrder": {"type": "object", "required": ["stage_ids"], "properties": {
                    "stage_ids": {"type": "array", "items": {"type": "integer"}, "description": "each of the pipeline's stages once, in the new order"}
                }},
                "Deal": {"type": "object", "required": ["id", "title", "pipeline_id", "stage_id", "status", "value", "currency", "value_base", "client_id", "owner_id", "expected_close_on", "lost_reason", "stage_entered_at", "created_at", "updated_at", "tags", "custom"], "properties": {
                    "custom": custom_schema(false),
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "pipeline_id": {"type": "integer"}, "stage_id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["open", "won", "lost"], "description": "its stage's kind"},
                    "value": {"type": "string", "nullable": true, "description": "a decimal with two places, in `currency`"},
                    "currency": {"type": "string", "nullable": true, "description": "ISO 4217"},
                    "value_base": {"type": "string", "nullable": true, "description": "the value in the tenant's base currency at the rate of when it was set"},
                    "client_id": {"type": "integer", "nullable": true}, "client_name": {"type": "string", "nullable": true},
                    "company_id": {"type": "integer", "nullable": true}, "company_name": {"type": "string", "nullable": true},
                    "owner_id": {"type": "integer", "nullable": true}, "owner_name": {"type": "string", "nullable": true},
                    "expected_close_on": {"type": "string", "format": "date", "nullable": true},
                    "lost_reason": {"type": "string", "nullable": true},
                    "stage_entered_at": {"type": "string", "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}, "description": "by name"}
                }},
                "Tag": {"type": "object", "required": ["id", "name", "color", "locked"], "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "description": "unique in the tenant whatever its case"},
                    "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
                    "locked": {"type": "boolean", "description": "put on and taken off records by admins alone"}
                }},
                "CustomField": {"type": "object", "required": ["id", "entity", "key", "label", "type", "options", "required", "position"], "properties": {
                    "id": {"type": "integer"},
                    "entity": {"type": "string", "enum": ["client", "company", "deal"]},
                    "key": {"type": "string", "description": "fixed once made; records hold values by it"},
                    "label": {"type": "string"},
                    "type": {"type": "string", "enum": ["text", "number", "date", "boolean", "select", "multiselect", "url", "email", "phone"]},
                    "options": {"type": "array", "items": {"type": "string"}, "description": "what a select offers"},
                    "required": {"type": "boolean"},
                    "position": {"type": "integer"},
                    "removed_at": {"type": "string", "format": "date-time", "description": "present on a removed field (listed with removed=true), which may be restored for 30 days"}
                }},
                "CustomFieldList": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/CustomField"}}
                }},
                "CustomFieldInput": {"type": "object", "properties": {
                    "entity": {"type": "string", "enum": ["client", "company", "deal"], "description": "required for a new field; fixed after"},
                    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$", "description": "by default made from the label; fixed after"},
                    "label": {"type": "string", "maxLength": 100, "description": "required for a new field"},
                    "type": {"type": "string", "enum": ["text", "number", "date", "boolean", "select", "multiselect", "url", "email", "phone"], "description": "required for a new field; fixed after"},
                    "options": {"type": "array", "items": {"type": "string"}, "description": "a select's choices (1 to 100), none for other kinds"},
                    "required": {"type": "boolean", "description": "a new record must have a value, and an edit cannot clear it"}
                }},
                "TagList": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}
                }},
                "TagInput": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 50, "description": "required for a new tag"},
                    "color": {"type": "string", "description": "#rrggbb; by default a slate grey"},
                    "locked": {"type": "boolean", "description": "by default false"}
                }},
                "Company": {"type": "object", "required": ["id", "name", "website", "phone", "email", "address", "tax_id", "comments", "owner_id", "people_count", "created_at", "updated_at", "tags", "custom"], "properties": {
                    "custom": custom_schema(false),
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "website": {"type": "string", "nullable": true, "description": "http or https, normalised (`acme.uz` → `https://acme.uz/`)"},
                    "phone": {"type": "string", "nullable": true, "description": "E.164"},
                    "email": {"type": "string", "nullable": true},
                    "address": {"type": "string", "nullable": true},
                    "tax_id": {"type": "string", "nullable": true, "description": "unique in the tenant"},
                    "comments": {"type": "string", "nullable": true},
                    "owner_id": {"type": "integer", "nullable": true}, "owner_name": {"type": "string", "nullable": true},
                    "people_count": {"type": "integer", "description": "live clients who work there"},
                    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}, "description": "by name"}
                }},
                "CompanyPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Company"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean", "description": "false: there are more than `total` (counted up to 1,000)"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "CompanyInput": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 200, "description": "required for a new company"},
                    "website": {"type": "string", "maxLength": 300, "nullable": true},
                    "phone": {"type": "string", "nullable": true, "description": "E.164; spaces, dashes and brackets are accepted"},
                    "email": {"type": "string", "nullable": true},
                    "address": {"type": "string", "maxLength": 500, "nullable": true},
                    "tax_id": {"type": "string", "maxLength": 50, "nullable": true},
                    "comments": {"type": "string", "maxLength": 5000, "nullable": true},
                    "owner_id": {"type": "integer", "nullable": true, "description": "an active user who may own records; by default the creator"},
                    "tag_ids": tag_ids_schema(),
                    "custom": custom_schema(true)
                }},
                "DealPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Deal"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "DealInput": {"type": "object", "properties": {
                    "title": {"type": "string", "maxLength": 200, "description": "required for a new deal"},
                    "pipeline_id": {"type": "integer", "description": "required for a new deal"},
                    "stage_id": {"type": "integer", "description": "a stage of the pipeline; by default its first open stage"},
                    "value": {"type": "string", "nullable": true, "description": "a decimal, at most two places (a JSON number is read as written)"},
                    "currency": {"type": "string", "nullable": true, "description": "ISO 4217; by default the base currency; others need a rate"},
                    "client_id": {"type": "integer", "nullable": true},
                    "company_id": {"type": "integer", "nullable": true},
                    "owner_id": {"type": "integer", "nullable": true, "description": "an active user who may write deals; by default the creator"},
                    "expected_close_on": {"type": "string", "format": "date", "nullable": true},
                    "lost_reason": {"type": "string", "maxLength": 500, "nullable": true, "description": "kept while the deal is in a lost stage"},
                    "tag_ids": tag_ids_schema(),
                    "custom": custom_schema(true)
                }},
                "DealMove": {"type": "object", "required": ["stage_id"], "properties": {
                    "stage_id": {"type": "integer"},
                    "before_deal_id": {"type": "integer", "nullable": true, "description": "the deal it goes before; none: the stage's end"},
                    "lost_reason": {"type": "string", "nullable": true}
                }},
                "DealHistory": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"type": "object", "required": ["from_stage_id", "from_stage_name", "to_stage_id", "to_stage_name", "user_id", "moved_at", "seconds_in_previous"], "properties": {
                        "from_stage_id": {"type": "integer", "nullable": true, "description": "null for the first stage, or a stage deleted since"},
                        "from_stage_name": {"type": "string", "nullable": true},
                        "to_stage_id": {"type": "integer", "nullable": true},
                        "to_stage_name": {"type": "string", "description": "as it is called now, or was when deleted"},
                        "user_id": {"type": "integer", "nullable": true},
                        "moved_at": {"type": "string", "format": "date-time"},
                        "seconds_in_previous": {"type": "integer", "nullable": true}
                    }}}
                }},
                "Board": {"type": "object", "required": ["pipeline_id", "stages"], "properties": {
                    "pipeline_id": {"type": "integer"},
                    "stages": {"type": "array", "items": {"type": "object", "required": ["id", "name", "kind", "deal_count", "value_base_total", "deals", "next_cursor"], "properties": {
                        "id": {"type": "integer"}, "name": {"type": "string"},
                        "kind": {"type": "string", "enum": ["open", "won", "lost"]},
                        "deal_count": {"type": "integer"},
                        "value_base_total": {"type": "string", "description": "the sum of the deals' `value_base`"},
                        "deals": {"type": "array", "items": {"$ref": "#/components/schemas/Deal"}},
                        "next_cursor": {"type": "string", "nullable": true, "description": "for listStageDeals; null when there are no more"}
                    }}}
                }},
                "StageDeals": {"type": "object", "required": ["items", "next_cursor"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Deal"}},
                    "next_cursor": {"type": "string", "nullable": true}
                }},
                "TemplatePage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Template"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "ChannelPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Channel"}},
                    "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"}
                }},
                "NewTemplate": {"type": "object", "required": ["template"], "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "shortcut": {"type": "string", "maxLength": 32},
                    "template": {"type": "string", "maxLength": 4096}
                }},
                "Channel": {"type": "object", "required": ["id", "kind", "name", "enabled", "secret_hint", "notify_locale", "created_at", "updated_at"], "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string", "enum": ["twilio_sms", "twilio_whatsapp", "telegram"]},
                    "name": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "account_sid": {"type": "string", "nullable": true},
                    "from": {"type": "string", "nullable": true, "description": "the sender number (E.164)"},
                    "messaging_service_sid": {"type": "string", "nullable": true},
                    "bot_username": {"type": "string", "nullable": true},
                    "notify_chat_id": {"type": "string", "nullable": true, "description": "a Telegram chat told of every inbound message"},
                    "notify_locale": {"type": "string", "enum": ["en", "ru", "uz"]},
                    "secret_hint": {"type": "string", "description": "the auth or bot token's last characters; the secret itself is never returned"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "webhook": {"type": "object", "description": "on saving a Telegram channel: what Telegram said to setWebhook", "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}}}
                }},
                "NewChannel": {"type": "object", "required": ["kind", "name"], "properties": {
                    "kind": {"type": "string", "enum": ["twilio_sms", "twilio_whatsapp", "telegram"]},
                    "name": {"type": "string", "maxLength": 100},
                    "account_sid": {"type": "string", "description": "Twilio: AC followed by 32 hex digits"},
                    "auth_token": {"type": "string", "writeOnly": true, "description": "Twilio: 32 hex digits"},
                    "from": {"type": "string", "description": "Twilio: the sender number; or give messaging_service_sid"},
                    "messaging_service_sid": {"type": "string", "description": "Twilio: MG followed by 32 hex digits"},
                    "bot_token": {"type": "string", "writeOnly": true, "description": "Telegram: the token from @BotFather"},
                    "notify_chat_id": {"type": "string", "description": "Telegram: a chat id or @channel for staff notifications"},
                    "notify_locale": {"type": "string", "enum": ["en", "ru", "uz"]},
                    "enabled": {"type": "boolean", "default": true}
                }},
                "ChannelPatch": {"type": "object", "description": "any fields of NewChannel; secrets left out are kept; kind cannot change", "properties": {
                    "name": {"type": "string", "maxLength": 100},
                    "account_sid": {"type": "string"},
                    "auth_token": {"type": "string", "writeOnly": true},
                    "from": {"type": "string"},
                    "messaging_service_sid": {"type": "string"},
                    "bot_token": {"type": "string", "writeOnly": true},
                    "notify_chat_id": {"type": "string"},
                    "notify_locale": {"type": "string", "enum": ["en", "ru", "uz"]},
                    "enabled": {"type": "boolean"}
                }}
            }
        }
    })
}

/// Tasks and their categories, notes and comments, timelines and notifications: their paths
/// and schemas, added to the document.
fn add_record_work(doc: &mut Value) {
    let nullable = |t: &str| json!({"type": t, "nullable": true});
    let cursor = || {
        json!([
            {"name": "before", "in": "query", "schema": {"type": "integer"}, "description": "the page after this id (`next_before` of the page before)"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
        ])
    };
    let bad_param = || {
        common_errors(&[
            ("404", "No such record, or not one the caller reaches"),
            ("422", "A parameter is invalid; `fields` names it"),
        ])
    };
    let mut paths = serde_json::Map::new();
    for (plural, param, what) in
        [("clients", "id", "the client"), ("companies", "company_id", "the company"), ("deals", "deal_id", "the deal")]
    {
        let op = |verb: &str| {
            format!(
                "{verb}{}",
                match plural {
                    "clients" => "Client",
                    "companies" => "Company",
                    _ => "Deal",
                }
            )
        };
        paths.insert(format!("/{plural}/{{{param}}}/notes"), json!({
            "parameters": [id_param(param, what)],
            "get": {
                "summary": format!("The notes on {what}, newest first, each with its comments (read permission of the record)"),
                "operationId": format!("{}Notes", op("list")),
                "parameters": cursor(),
                "responses": with(bad_param(), "200", json_response("A page of notes", "NoteList")),
            },
            "post": {
                "summary": format!("Write a note on {what}; colleagues named with @ are notified (write permission of the record)"),
                "operationId": format!("{}Note", op("add")),
                "requestBody": body("NoteInput", json!({"body": "Wants delivery on Friday"})),
                "responses": with(common_errors(&[("404", "No such record"), ("422", "`body` is empty or too long")]), "201", json_response("The note", "Note")),
            },
        }));
        paths.insert(format!("/{plural}/{{{param}}}/activity"), json!({
            "parameters": [id_param(param, what)],
            "get": {
                "summary": format!("The timeline of {what}, newest first"),
                "operationId": format!("{}Activity", op("list")),
                "parameters": cursor().as_array().unwrap().iter().cloned().chain([json!({"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/ActivityKind"}})]).collect::<Vec<_>>(),
                "responses": with(bad_param(), "200", json_response("A page of the timeline", "ActivityList")),
            },
        }));
    }
    paths.insert("/notes/{note_id}".into(), json!({
        "parameters": [id_param("note_id", "the note")],
        "get": {"summary": "A note with its comments", "operationId": "getNote",
                "responses": with(common_errors(&[("404", "No such note")]), "200", json_response("The note", "Note"))},
        "patch": {"summary": "Rewrite a note (its author, or an admin); colleagues newly named are notified", "operationId": "updateNote",
                  "requestBody": body("NoteInput", json!({"body": "Wants delivery on Saturday"})),
                  "responses": with(common_errors(&[("404", "No such note"), ("422", "`body` is empty or too long")]), "200", json_response("The note", "Note"))},
        "delete": {"summary": "Delete a note and its comments (its author, or an admin)", "operationId": "deleteNote",
                   "responses": with(common_errors(&[("404", "No such note")]), "204", json!({"description": "Deleted"}))},
    }));
    paths.insert("/notes/{note_id}/comments".into(), json!({
        "parameters": [id_param("note_id", "the note")],
        "post": {"summary": "Comment on a note, or answer a comment of it (`parent_id`)", "operationId": "commentNote",
                 "requestBody": body("CommentInput", json!({"body": "Done, booked the van"})),
                 "responses": with(common_errors(&[("404", "No such note"), ("422", "`body` is empty, or `parent_id` is no comment of this note")]), "201", json_response("The note with its whole thread", "Note"))},
    }));
    paths.insert("/tasks".into(), json!({
        "get": {
            "summary": "Tasks (ClientRead; under `record_visibility: own`, agents see those given to them or made by them): open ones soonest due first",
            "operationId": "listTasks",
            "parameters": paging_params().into_iter().chain([
                json!({"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "done", "overdue", "all"], "default": "open"}}),
                json!({"name": "assignee_id", "in": "query", "schema": {"type": "string"}, "description": "a user's id, or `me`"}),
                json!({"name": "due_before", "in": "query", "schema": {"type": "string", "format": "date-time"}}),
                json!({"name": "client_id", "in": "query", "schema": {"type": "integer"}}),
                json!({"name": "company_id", "in": "query", "schema": {"type": "integer"}}),
                json!({"name": "deal_id", "in": "query", "schema": {"type": "integer"}}),
            ]).collect::<Vec<_>>(),
            "responses": with(common_errors(&[("422", "A parameter is invalid; `fields` names it")]), "200", json_response("A page of tasks", "TaskPage")),
        },
        "post": {
            "summary": "Create a task, given to its author unless `assignee_id` says otherwise (TaskWrite); the assignee is notified",
            "operationId": "createTask",
            "requestBody": body("TaskInput", json!({"title": "Call back about the flat", "due_at": "2030-01-15T10:00:00Z", "remind_at": "2030-01-15T09:45:00Z", "priority": "high"})),
            "responses": with(common_errors(&[("422", "A field is refused; `fields` names each")]), "201", json_response("The task", "Task")),
        },
    }));
    paths.insert("/tasks/{task_id}".into(), json!({
        "parameters": [id_param("task_id", "the task")],
        "get": {"summary": "A task", "operationId": "getTask",
                "responses": with(common_errors(&[("404", "No such task, or not one the caller reaches")]), "200", json_response("The task", "Task"))},
        "patch": {"summary": "Change a task (TaskWrite); a moved due or reminder time fires again", "operationId": "updateTask",
                  "requestBody": body("TaskInput", json!({"priority": "low"})),
                  "responses": with(common_errors(&[("404", "No such task"), ("422", "A field is refused; `fields` names each")]), "200", json_response("The task", "Task"))},
        "delete": {"summary": "Delete a task (TaskWrite)", "operationId": "deleteTask",
                   "responses": with(common_errors(&[("404", "No such task")]), "204", json!({"description": "Deleted"}))},
    }));
    paths.insert("/tasks/{task_id}/complete".into(), json!({
        "parameters": [id_param("task_id", "the task")],
        "post": {"summary": "Complete a task, with a note on how it went (TaskWrite)", "operationId": "completeTask",
                 "requestBody": body("TaskCompletion", json!({"note": "Agreed on Friday"})),
                 "responses": with(common_errors(&[("404", "No such task"), ("422", "`note`: its category asks for one (`note_required`)")]), "200", json_response("The task", "Task"))},
    }));
    paths.insert("/tasks/{task_id}/reopen".into(), json!({
        "parameters": [id_param("task_id", "the task")],
        "post": {"summary": "Open a done task again (TaskWrite)", "operationId": "reopenTask",
                 "responses": with(common_errors(&[("404", "No such task")]), "200", json_response("The task", "Task"))},
    }));
    paths.insert("/task-categories".into(), json!({
        "get": {"summary": "The tenant's task categories, by name", "operationId": "listTaskCategories", "parameters": paging_params(),
                "responses": with(common_errors(&[]), "200", json_response("The categories", "TaskCategoryPage"))},
        "post": {"summary": "Create a task category (SettingsManage)", "operationId": "createTaskCategory",
                 "requestBody": body("TaskCategoryInput", json!({"name": "Call", "color": "#2563eb", "note_required": true})),
                 "responses": with(common_errors(&[("409", "The tenant has a category of this `name`"), ("422", "A field is refused")]), "201", json_response("The category", "TaskCategory"))},
    }));
    paths.insert("/task-categories/{category_id}".into(), json!({
        "parameters": [id_param("category_id", "the category")],
        "patch": {"summary": "Rename, recolour a category, or say whether completing asks for a note (SettingsManage)", "operationId": "updateTaskCategory",
                  "requestBody": body("TaskCategoryInput", json!({"note_required": false})),
                  "responses": with(common_errors(&[("404", "No such category"), ("409", "Another category has this `name`"), ("422", "A field is refused")]), "200", json_response("The category", "TaskCategory"))},
        "delete": {"summary": "Delete a category; its tasks stay, without one (SettingsManage)", "operationId": "deleteTaskCategory",
                   "responses": with(common_errors(&[("404", "No such category")]), "204", json!({"description": "Deleted"}))},
    }));
    paths.insert("/notifications".into(), json!({
        "get": {"summary": "The caller's notifications, newest first", "operationId": "listNotifications",
                "parameters": cursor().as_array().unwrap().iter().cloned().chain([json!({"name": "unread", "in": "query", "schema": {"type": "boolean"}})]).collect::<Vec<_>>(),
                "responses": with(common_errors(&[("422", "A parameter is invalid")]), "200", json_response("A page of notifications", "NotificationList"))},
    }));
    paths.insert("/notifications/read".into(), json!({
        "post": {"summary": "Mark the caller's notifications read: those of `ids`, or all", "operationId": "readNotifications",
                 "requestBody": body("NotificationsRead", json!({"ids": ["1"]})),
                 "responses": with(common_errors(&[("422", "`ids` is not a list of ids")]), "200", json_response("How many were unread", "NotificationsMarked"))},
    }));
    paths.insert("/bulk".into(), json!({
        "post": {"summary": "Start a bulk action on chosen records (`ids`) or on every match of a list's filter (`filter`, the list's query parameters): BulkRun and the permission of what it does; runs in the background", "operationId": "startBulk",
                 "requestBody": body("BulkInput", json!({"entity": "clients", "ids": [1], "action": "add_tags", "params": {"tag_ids": [1]}})),
                 "responses": with(common_errors(&[("422", "`entity`, `action`, `params.*`, `ids` or `filter` refused; `fields` names it")]), "202", json_response("The job, queued", "Job"))},
    }));
    paths.insert("/jobs/{job_id}".into(), json!({
        "parameters": [id_param("job_id", "the job")],
        "get": {"summary": "A bulk job's progress (its author, or an admin)", "operationId": "getJob",
                "responses": with(common_errors(&[("404", "No such job of the caller's")]), "200", json_response("The job", "Job"))},
    }));
    paths.insert("/jobs/{job_id}/result".into(), json!({
        "parameters": [id_param("job_id", "the job")],
        "get": {"summary": "An export job's CSV", "operationId": "getJobResult",
                "responses": with(common_errors(&[("404", "No such job, or it wrote no file (yet)")]), "200", json!({"description": "The CSV", "content": {"text/csv": {}}}))},
    }));
    let person = json!({"type": "object", "nullable": true, "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}});
    let schemas = json!({
        "NoteInput": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 10000, "description": "@Name or @handle mentions a colleague"}}},
        "CommentInput": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "maxLength": 5000}, "parent_id": nullable("integer")}},
        "Comment": {"type": "object", "required": ["id", "body", "created_at"], "properties": {
            "id": {"type": "integer"}, "parent_id": nullable("integer"), "author": person, "body": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}}},
        "Note": {"type": "object", "required": ["id", "entity", "entity_id", "body", "created_at", "comments"], "properties": {
            "id": {"type": "integer"}, "entity": {"type": "string", "enum": ["client", "company", "deal"]}, "entity_id": {"type": "integer"},
            "author": person, "body": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
            "edited_at": {"type": "string", "format": "date-time", "nullable": true},
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}}}},
        "NoteList": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}}, "next_before": nullable("integer")}},
        "ActivityKind": {"type": "string", "enum": ["created", "message_in", "message_out", "note", "comment", "stage_moved", "field_changed", "tagged", "task_created", "task_done", "task_reopened", "merged", "automation"]},
        "Activity": {"type": "object", "required": ["id", "kind", "actor", "summary", "data", "happened_at"], "properties": {
            "id": {"type": "integer"}, "kind": {"$ref": "#/components/schemas/ActivityKind"},
            "actor": {"type": "object", "required": ["type", "name"], "properties": {
                "type": {"type": "string", "enum": ["user", "client", "system", "automation"]}, "id": nullable("integer"), "name": {"type": "string"}}},
            "summary": {"type": "string", "description": "a note's start, `Proposal → Won`, the fields changed"},
            "data": {"type": "object", "description": "ids it links to (`note_id`, `task_id`, `chat_id`, `message_id`)"},
            "happened_at": {"type": "string", "format": "date-time"}}},
        "ActivityList": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Activity"}}, "next_before": nullable("integer")}},
        "TaskInput": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 200, "description": "required for a new task"},
            "description": {"type": "string", "maxLength": 5000},
            "due_at": {"type": "string", "format": "date-time", "nullable": true, "description": "RFC 3339; without an offset, on the tenant's clock"},
            "remind_at": {"type": "string", "format": "date-time", "nullable": true, "description": "the assignee (or the author) is notified then, once"},
            "assignee_id": nullable("integer"), "category_id": nullable("integer"),
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "client_id": nullable("integer"), "company_id": nullable("integer"), "deal_id": nullable("integer")}},
        "TaskCompletion": {"type": "object", "properties": {"note": {"type": "string", "maxLength": 5000}}},
        "TaskCategory": {"type": "object", "required": ["id", "name", "color", "note_required"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
            "note_required": {"type": "boolean", "description": "completing a task of it asks for a note"}}},
        "TaskCategoryInput": {"type": "object", "properties": {
            "name": {"type": "string", "maxLength": 50}, "color": {"type": "string"}, "note_required": {"type": "boolean"}}},
        "TaskCategoryPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/TaskCategory"}},
            "total": {"type": "integer"}, "total_exact": {"type": "boolean"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
        "Task": {"type": "object", "required": ["id", "title", "description", "priority", "status", "overdue", "done_note", "created_at", "updated_at"], "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "status": {"type": "string", "enum": ["open", "done"]},
            "overdue": {"type": "boolean", "description": "open, and its due time has passed"},
            "due_at": {"type": "string", "format": "date-time", "nullable": true},
            "remind_at": {"type": "string", "format": "date-time", "nullable": true},
            "reminded_at": {"type": "string", "format": "date-time", "nullable": true},
            "category_id": nullable("integer"),
            "category": {"allOf": [{"$ref": "#/components/schemas/TaskCategory"}], "nullable": true},
            "assignee_id": nullable("integer"), "assignee_name": nullable("string"), "created_by": nullable("integer"),
            "client_id": nullable("integer"), "company_id": nullable("integer"), "deal_id": nullable("integer"),
            "record_name": nullable("string"),
            "done_at": {"type": "string", "format": "date-time", "nullable": true}, "done_by": nullable("integer"),
            "done_note": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
        "TaskPage": {"type": "object", "required": ["items", "total", "total_exact", "page", "per_page"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
            "total": {"type": "integer"}, "total_exact": {"type": "boolean"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
        "Notification": {"type": "object", "required": ["id", "kind", "text", "url", "data", "read", "created_at"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["mention", "reminder", "task_assigned"]},
            "text": {"type": "string", "description": "the sentence, in the caller's language"},
            "url": {"type": "string", "description": "the page it leads to, from the site's root"},
            "data": {"type": "object"}, "read": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}},
        "NotificationList": {"type": "object", "required": ["items", "unread"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
            "unread": {"type": "integer", "description": "how many are unread, counted up to 100"}, "next_before": nullable("integer")}},
        "NotificationsRead": {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "string"}, "description": "ids, as numbers or text; absent: all"}}},
        "NotificationsMarked": {"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer"}}},
        "BulkInput": {"type": "object", "required": ["entity", "action"], "properties": {
            "entity": {"type": "string", "enum": ["clients", "companies", "deals"]},
            "ids": {"type": "array", "items": {"type": "integer"}, "description": "the records; or `filter`"},
            "filter": {"type": "object", "description": "the list's query parameters (`q`, `tag_id`, `custom.KEY`…): every record matching it, at most 200,000"},
            "action": {"type": "string", "enum": ["add_tags", "remove_tags", "set_owner", "move_stage", "delete", "export", "send_template"], "description": "move_stage for deals, export for clients, send_template for clients and deals (each deal's client)"},
            "params": {"type": "object", "description": "`tag_ids` (add_tags, remove_tags), `owner_id` (set_owner; null for none), `stage_id` (move_stage), `template_id` and an optional `transport` (send_template: sms, whatsapp or telegram; absent, the first way that reaches each client)"}}},
        "Job": {"type": "object", "required": ["job_id", "entity", "action", "status", "total", "done", "failed", "failures", "created_at"], "properties": {
            "job_id": {"type": "integer"}, "entity": {"type": "string"}, "action": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "total": {"type": "integer"}, "done": {"type": "integer"}, "failed": {"type": "integer"},
            "failures": {"type": "array", "items": {"type": "object", "required": ["id", "code"], "properties": {"id": {"type": "integer"}, "code": {"type": "string", "description": "`not_found`: gone, or out of the author's reach"}}}},
            "result_url": nullable("string"), "error": nullable("string"),
            "created_at": {"type": "string", "format": "date-time"}, "finished_at": {"type": "string", "format": "date-time", "nullable": true}}},
    });
    if let Some(all) = doc["paths"].as_object_mut() {
        all.extend(paths);
    }
    if let (Some(all), Value::Object(more)) = (doc["components"]["schemas"].as_object_mut(), schemas) {
        all.extend(more);
    }
}
