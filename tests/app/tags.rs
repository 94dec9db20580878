//! Tags through the API: the tenant's taxonomy (unique names in any case and alphabet,
//! colours, locks, who manages it), tags put on deals (checked, audited, announced), the
//! board and list filtered by one, and a delete that takes a tag off everything at once.

use crm::domain::tag::{TagId, Tagged};
use crm::domain::{DomainEvent, Role};
use serde_json::{Value, json};

use crate::helpers::{Api, Page, TestApp};

const WRONG_TYPE: &str = "This value has the wrong type.";
const UNKNOWN: &str = "There is no such tag.";
const BAD_ID: &str = "This is not a valid id.";
const LOCKED: &str = "Only an admin can add or remove a locked tag.";

/// The fields a 422 names, each with its first message.
fn faults(page: &Page) -> Vec<(String, String)> {
    assert_eq!(page.status, 422, "{}", page.body);
    let fields = page.json()["error"]["fields"].clone();
    fields.as_object().unwrap().iter().map(|(f, m)| (f.clone(), m[0].as_str().unwrap().to_owned())).collect()
}

async fn tag(api: &Api, body: Value) -> i64 {
    let made = api.post("/api/v1/tags", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.json()["id"].as_i64().unwrap()
}

/// The default pipeline's id and its stage ids.
async fn sales(api: &Api) -> (i64, Vec<i64>) {
    let p = api.get("/api/v1/pipelines").await.json()["items"][0].clone();
    (p["id"].as_i64().unwrap(), p["stages"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect())
}

fn tag_names(record: &Value) -> Vec<&str> {
    record["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn admins_keep_the_tenants_tags_unique_in_any_case_and_everyone_reads_them() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let agent = app.api(Role::Agent).await;
    let viewer = app.api(Role::Viewer).await;

    let vip = tag(&admin, json!({"name": "  ВИП  клиент ", "color": "#DC2626", "locked": true})).await;
    let shown = admin.get(&format!("/api/v1/tags/{vip}")).await.json();
    assert_eq!(shown, json!({"id": vip, "name": "ВИП клиент", "color": "#dc2626", "locked": true}));
    let again = admin.post("/api/v1/tags", json!({"name": "вип КЛИЕНТ"})).await;
    assert_eq!(
        (again.status, again.json()["error"]["fields"]["name"].is_array()),
        (409, true),
        "one name in any case: {}",
        again.body
    );
    let cold = tag(&admin, json!({"name": "Cold"})).await;
    assert_eq!(admin.get(&format!("/api/v1/tags/{cold}")).await.json()["color"], "#64748b", "the default colour");

    let bad = admin.post("/api/v1/tags", json!({"name": "", "color": "red", "locked": "yes"})).await;
    assert_eq!(faults(&bad), [("locked".to_owned(), WRONG_TYPE.to_owned())], "the body's types first");
    let bad = admin.post("/api/v1/tags", json!({"name": "x".repeat(51), "color": "red"})).await;
    let named: Vec<String> = faults(&bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(named, ["color", "name"]);

    // Everyone who reads clients reads the tags, by name; only admins manage them.
    for api in [&agent, &viewer] {
        let names: Vec<String> = api.get("/api/v1/tags").await.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Cold", "ВИП клиент"]);
        assert_eq!(api.post("/api/v1/tags", json!({"name": "Mine"})).await.status, 403);
        assert_eq!(api.patch(&format!("/api/v1/tags/{cold}"), json!({"name": "Hot"})).await.status, 403);
        assert_eq!(api.delete(&format!("/api/v1/tags/{cold}")).await.status, 403);
    }

    let renamed = admin.patch(&format!("/api/v1/tags/{cold}"), json!({"name": "Warm", "locked": true})).await;
    assert_eq!((renamed.status, renamed.json()["name"].as_str()), (200, Some("Warm")), "{}", renamed.body);
    let taken = admin.patch(&format!("/api/v1/tags/{cold}"), json!({"name": "ВИП КЛИЕНТ"})).await;
    assert_eq!(taken.status, 409);

    // Another tenant's tags are not found.
    let (other, _) = app.create_tenant("Other").await;
    let stranger = app.api_in(other, Role::Admin).await;
    assert_eq!(stranger.get(&format!("/api/v1/tags/{vip}")).await.status, 404);
    assert_eq!(stranger.delete(&format!("/api/v1/tags/{vip}")).await.status, 404);
    assert_eq!(stranger.get("/api/v1/tags").await.json()["items"], json!([]));
    tag(&stranger, json!({"name": "ВИП клиент"})).await;

    let audited = app
        .scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'tag' AND action IN ('created', 'updated')")
        .await;
    assert_eq!(audited, 4, "three created (one in the other tenant), one updated");
}

#[tokio::test]
async fn deals_carry_tags_checked_audited_announced_and_locked_ones_are_admins_alone() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let agent = app.api(Role::Agent).await;
    let (pipeline, _) = sales(&admin).await;
    let hot = tag(&admin, json!({"name": "Hot"})).await;
    let vip = tag(&admin, json!({"name": "VIP", "locked": true})).await;
    let mut events = app.state.events.subscribe();

    let made = agent.post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline, "tag_ids": [hot]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made = made.json();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(tag_names(&made), ["Hot"]);
    let mut added = None;
    while let Ok(event) = events.try_recv() {
        if let DomainEvent::TagAdded { tag_id, on, .. } = event {
            added = Some((tag_id, on));
        }
    }
    assert_eq!(added, Some((TagId(hot), Tagged::Deal(crm::domain::deal::DealId(id)))));

    // Unknown, foreign, malformed and locked tags are refused, and nothing is written.
    let (other, _) = app.create_tenant("Other").await;
    let foreign = tag(&app.api_in(other, Role::Admin).await, json!({"name": "Theirs"})).await;
    let path = format!("/api/v1/deals/{id}");
    for (body, code) in [
        (json!({"tag_ids": [hot, 999_999]}), UNKNOWN),
        (json!({"tag_ids": [foreign]}), UNKNOWN),
        (json!({"tag_ids": ["x"]}), BAD_ID),
        (json!({"tag_ids": "hot"}), WRONG_TYPE),
        (json!({"title": "Renamed", "tag_ids": [hot, vip]}), LOCKED),
    ] {
        assert_eq!(
            faults(&agent.patch(&path, body.clone()).await),
            [("tag_ids".to_owned(), code.to_owned())],
            "{body}"
        );
    }
    let kept = agent.get(&path).await.json();
    assert_eq!((kept["title"].as_str(), tag_names(&kept)), (Some("Flat"), vec!["Hot"]), "nothing half-written");

    // An admin puts the locked tag on; an agent may then neither take it off nor keep editing
    // the others by dropping it, but may change the unlocked ones around it.
    let both = admin.patch(&path, json!({"tag_ids": [vip, hot]})).await;
    assert_eq!(tag_names(&both.json()), ["Hot", "VIP"], "by name");
    assert_eq!(faults(&agent.patch(&path, json!({"tag_ids": [hot]})).await)[0].1, LOCKED);
    let unlocked_off = agent.patch(&path, json!({"tag_ids": [vip]})).await;
    assert_eq!(tag_names(&unlocked_off.json()), ["VIP"]);
    let untouched = agent.patch(&path, json!({"title": "Flat 2"})).await.json();
    assert_eq!(tag_names(&untouched), ["VIP"], "no tag_ids: as they were");

    let summaries: Vec<String> =
        sqlx::query_scalar("SELECT summary FROM audit_log WHERE entity = 'deal' AND entity_id = $1::text ORDER BY id")
            .bind(id)
            .fetch_all(&app.owner_pool().await)
            .await
            .unwrap();
    assert_eq!(summaries, ["Flat: tags +Hot", "Flat: tags +VIP", "Flat: tags −Hot", "Flat 2: title"]);

    // Deleting a tag takes it off every deal in the one statement, audited.
    assert_eq!(admin.delete(&format!("/api/v1/tags/{vip}")).await.status, 204);
    assert_eq!(tag_names(&agent.get(&path).await.json()), Vec::<&str>::new());
    assert_eq!(app.scalar_i64("SELECT count(*) FROM deal_tags").await, 0);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'tag' AND action = 'deleted'").await, 1);
}

#[tokio::test]
async fn the_board_the_columns_and_the_list_show_the_deals_of_a_tag_with_or_without_words() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (pipeline, stages) = sales(&api).await;
    let hot = tag(&api, json!({"name": "Hot"})).await;
    let cold = tag(&api, json!({"name": "Cold"})).await;
    // 25 hot flats and 5 cold offices in the first stage, one hot flat won.
    for n in 1..=30 {
        let (title, tags) =
            if n <= 25 { (format!("Flat {n}"), json!([hot])) } else { (format!("Office {n}"), json!([cold])) };
        let made = api
            .post("/api/v1/deals", json!({"title": title, "pipeline_id": pipeline, "value": "10", "tag_ids": tags}))
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
    }
    api.post(
        "/api/v1/deals",
        json!({"title": "Flat won", "pipeline_id": pipeline, "stage_id": stages[4], "value": "7", "tag_ids": [hot, cold]}),
    )
    .await;

    let board = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}")).await.json();
    let first = &board["stages"][0];
    assert_eq!((first["deal_count"].as_i64(), first["value_base_total"].as_str()), (Some(25), Some("250.00")));
    assert_eq!(first["deals"].as_array().unwrap().len(), 20);
    assert_eq!(
        (board["stages"][4]["deal_count"].as_i64(), board["stages"][1]["deal_count"].as_i64()),
        (Some(1), Some(0))
    );
    // The column's next cards keep the tag, to the end.
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/api/v1/pipelines/{pipeline}/stages/{}/deals?tag_id={hot}&cursor={cursor}", stages[0]))
        .await
        .json();
    assert_eq!((rest["items"].as_array().unwrap().len(), rest["next_cursor"].is_null()), (5, true));
    assert!(rest["items"].as_array().unwrap().iter().all(|d| tag_names(d).contains(&"Hot")));

    // Words and a tag together.
    let both = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={cold}&q=flat")).await.json();
    assert_eq!(
        (both["stages"][0]["deal_count"].as_i64(), both["stages"][4]["deal_count"].as_i64()),
        (Some(0), Some(1))
    );
    let offices = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={cold}&q=office")).await.json();
    assert_eq!(offices["stages"][0]["deal_count"].as_i64(), Some(5));

    // The list, alone and with the other filters.
    let list = api.get(&format!("/api/v1/deals?tag_id={cold}")).await.json();
    assert_eq!((list["total"].as_i64(), list["total_exact"].as_bool()), (Some(6), Some(true)));
    let won = api.get(&format!("/api/v1/deals?tag_id={hot}&status=won")).await.json();
    assert_eq!(won["items"][0]["title"], "Flat won");
    assert_eq!(won["total"], 1);
    let bad = api.get("/api/v1/deals?tag_id=x").await;
    assert_eq!(faults(&bad), [("tag_id".to_owned(), BAD_ID.to_owned())]);
    // A tag of no deals (or of no one) shows an empty board, never an error.
    let (other, _) = app.create_tenant("Other").await;
    let foreign = tag(&app.api_in(other, Role::Admin).await, json!({"name": "Theirs"})).await;
    let empty = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={foreign}")).await.json();
    assert!(empty["stages"].as_array().unwrap().iter().all(|s| s["deal_count"] == 0));
}

#[tokio::test]
async fn admins_keep_tags_on_their_page_and_a_deals_page_puts_them_on_with_locks_kept() {
    let app = TestApp::spawn().await;
    let (admin_api, admin) = app.api_and_browser(Role::Admin).await;
    let (agent_api, agent) = app.api_and_browser(Role::Agent).await;
    assert_eq!(agent.get("/crm/settings/tags").await.status, 403, "agents keep no tags");

    let empty = admin.get("/crm/settings/tags").await;
    assert!(empty.body.contains("No tags yet."), "{}", empty.body);
    let made = admin.post("/crm/settings/tags", &[("name", "Hot lead"), ("color", "#ea580c")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let made = admin.post("/crm/settings/tags", &[("name", "VIP"), ("color", "#dc2626"), ("locked", "1")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let again = admin.post("/crm/settings/tags", &[("name", "hot LEAD"), ("color", "#000000")]).await;
    assert_eq!(again.status, 422);
    assert!(
        again.body.contains("This name is already in use.") && again.body.contains("value=\"hot LEAD\""),
        "the reason beside the name, what was typed kept: {}",
        again.body
    );
    let tags = admin_api.get("/api/v1/tags").await.json();
    let id_of = |name: &str| {
        tags["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].as_i64().unwrap()
    };
    let (hot, vip) = (id_of("Hot lead"), id_of("VIP"));
    let renamed = admin.post(&format!("/crm/settings/tags/{hot}"), &[("name", "Hot"), ("color", "#ea580c")]).await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let bad = admin.post(&format!("/crm/settings/tags/{hot}"), &[("name", " "), ("color", "orange")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Enter a colour as #rrggbb.") && bad.body.contains("value=\" \""), "{}", bad.body);

    // An agent tags a deal on its page; the locked tag is shown but not theirs to change.
    let pipeline = agent_api.get("/api/v1/pipelines").await.json()["items"][0]["id"].as_i64().unwrap();
    let deal = agent_api.post("/api/v1/deals", json!({"title": "Flat", "pipeline_id": pipeline})).await.json();
    let id = deal["id"].as_i64().unwrap();
    admin_api.patch(&format!("/api/v1/deals/{id}"), json!({"tag_ids": [vip]})).await;
    let page = agent.get(&format!("/crm/deals/{id}")).await;
    assert!(page.body.contains(&format!("name=\"tag_id\" value=\"{vip}\" checked disabled")), "{}", page.body);
    assert!(page.body.contains(&format!("<input type=\"hidden\" name=\"tag_id\" value=\"{vip}\">")));
    let saved = agent
        .post(&format!("/crm/deals/{id}/tags"), &[("tag_id", &hot.to_string()), ("tag_id", &vip.to_string())])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(tag_names(&agent_api.get(&format!("/api/v1/deals/{id}")).await.json()), ["Hot", "VIP"]);
    // A forged form that drops the locked tag is refused beside the tags, nothing changed.
    let forged = agent.post(&format!("/crm/deals/{id}/tags"), &[("tag_id", &hot.to_string())]).await;
    assert_eq!(forged.status, 422);
    assert!(forged.body.contains(LOCKED), "{}", forged.body);
    assert_eq!(tag_names(&agent_api.get(&format!("/api/v1/deals/{id}")).await.json()), ["Hot", "VIP"]);

    // The board and the list filter by a tag, and show the chips.
    agent_api.post("/api/v1/deals", json!({"title": "Untagged office", "pipeline_id": pipeline})).await;
    let board = agent.get(&format!("/crm/deals?pipeline={pipeline}&tag_id={hot}")).await;
    assert!(board.body.contains("Flat") && !board.body.contains("Untagged office"), "{}", board.body);
    assert!(board.body.contains(&format!("<option value=\"{hot}\" selected>Hot</option>")));
    assert!(board.body.contains("data-color=\"#ea580c\">Hot</li>"), "a chip on the card");
    let list = agent.get(&format!("/crm/deals/list?tag_id={vip}")).await;
    assert!(list.body.contains("Flat") && !list.body.contains("Untagged office"), "{}", list.body);
    let csv = agent.get(&format!("/crm/deals/export.csv?tag_id={hot}")).await;
    assert!(csv.body.lines().nth(1).unwrap().contains("Hot; VIP"), "{}", csv.body);

    // Deleting a tag from its page takes it off the deal.
    let gone = admin.post(&format!("/crm/settings/tags/{hot}/delete"), &[]).await;
    assert_eq!(gone.status, 303);
    assert_eq!(tag_names(&agent_api.get(&format!("/api/v1/deals/{id}")).await.json()), ["VIP"]);
    let listed = admin.get("/crm/settings/tags").await;
    assert!(listed.body.contains("1 deal") && !listed.body.contains(">Hot<"), "{}", listed.body);
}

/// The kept per-tag stage counts and sums, and the same counted afresh from the deals.
async fn kept_and_counted(app: &TestApp) -> (Vec<(i64, i64, i64, i64, String)>, Vec<(i64, i64, i64, i64, String)>) {
    let pool = app.owner_pool().await;
    let kept = sqlx::query_as(
        "SELECT tag_id, stage_id, owner_id, deal_count, value_base_total::text FROM deal_tag_stage_totals
         WHERE deal_count <> 0 OR value_base_total <> 0 ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let counted = sqlx::query_as(
        "SELECT x.tag_id, d.stage_id, coalesce(d.owner_id, 0), count(*), coalesce(sum(d.value_base), 0)::numeric(24, 2)::text
         FROM deal_tags x JOIN deals d ON d.tenant_id = x.tenant_id AND d.id = x.deal_id
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    (kept, counted)
}

#[tokio::test]
async fn a_tags_stage_counts_follow_every_change_and_a_board_of_many_walks_in_order() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let other = app.api(Role::Agent).await;
    let other_id = other.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    let (pipeline, stages) = sales(&api).await;
    let hot = tag(&api, json!({"name": "Hot"})).await;
    let vip = tag(&api, json!({"name": "VIP"})).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let d = api
            .post(
                "/api/v1/deals",
                json!({"title": format!("D{n}"), "pipeline_id": pipeline, "value": "100", "tag_ids": [hot]}),
            )
            .await
            .json();
        ids.push(d["id"].as_i64().unwrap());
    }
    // Every kind of change: tags on and off, moves, values, owners, deletes of deals and tags.
    api.patch(&format!("/api/v1/deals/{}", ids[0]), json!({"tag_ids": [hot, vip]})).await;
    api.post(&format!("/api/v1/deals/{}/move", ids[0]), json!({"stage_id": stages[2]})).await;
    api.patch(&format!("/api/v1/deals/{}", ids[1]), json!({"value": "250.50"})).await;
    api.patch(&format!("/api/v1/deals/{}", ids[2]), json!({"owner_id": other_id})).await;
    api.patch(&format!("/api/v1/deals/{}", ids[3]), json!({"tag_ids": []})).await;
    api.delete(&format!("/api/v1/deals/{}", ids[4])).await;
    api.patch(&format!("/api/v1/deals/{}", ids[5]), json!({"tag_ids": [vip], "stage_id": stages[1], "value": "7"}))
        .await;
    let (kept, counted) = kept_and_counted(&app).await;
    assert_eq!(kept, counted);
    assert_eq!(counted.iter().map(|r| r.3).sum::<i64>(), 5, "Hot on 0, 1 and 2; VIP on 0 and 5");
    let board = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}")).await.json();
    assert_eq!(
        (board["stages"][0]["deal_count"].as_i64(), board["stages"][0]["value_base_total"].as_str()),
        (Some(2), Some("350.50"))
    );
    let mine = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}&owner_id={other_id}")).await.json();
    assert_eq!(mine["stages"][0]["deal_count"].as_i64(), Some(1));
    assert_eq!(api.delete(&format!("/api/v1/tags/{vip}")).await.status, 204);
    let (kept, counted) = kept_and_counted(&app).await;
    assert_eq!(kept, counted, "a deleted tag's counts go with it");

    // More tagged deals than are read at once: each column is walked in board order.
    sqlx::query(
        "WITH made AS (
             INSERT INTO deals (tenant_id, title, pipeline_id, stage_id, position, value, currency, value_base)
             SELECT $1, 'Bulk ' || n, $2, $3, n, 1, 'USD', 1 FROM generate_series(1, 4200) n RETURNING id, position)
         INSERT INTO deal_tags (tenant_id, deal_id, tag_id) SELECT $1, id, $4 FROM made WHERE position::int % 2 = 0",
    )
    .bind(app.tenant.0)
    .bind(pipeline)
    .bind(stages[3])
    .bind(hot)
    .execute(&app.owner_pool().await)
    .await
    .unwrap();
    let (kept, counted) = kept_and_counted(&app).await;
    assert_eq!(kept, counted);
    let board = api.get(&format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}")).await.json();
    let column = &board["stages"][3];
    assert_eq!(column["deal_count"].as_i64(), Some(2100));
    let titles: Vec<&str> = column["deals"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap()).collect();
    assert_eq!(titles, (1..=20).map(|n| format!("Bulk {}", n * 2)).collect::<Vec<_>>());
    let cursor = column["next_cursor"].as_str().unwrap();
    let next = api
        .get(&format!("/api/v1/pipelines/{pipeline}/stages/{}/deals?tag_id={hot}&cursor={cursor}", stages[3]))
        .await
        .json();
    assert_eq!(next["items"][0]["title"], "Bulk 42");
    // The list of a tag is counted exactly from the kept counts, with the filters they know.
    let listed = api.get(&format!("/api/v1/deals?tag_id={hot}&per_page=5&sort=title")).await.json();
    assert_eq!((listed["total"].as_i64(), listed["total_exact"].as_bool()), (Some(2103), Some(true)));
    let theirs =
        api.get(&format!("/api/v1/deals?tag_id={hot}&owner_id={other_id}&pipeline_id={pipeline}")).await.json();
    assert_eq!((theirs["total"].as_i64(), theirs["items"][0]["title"].as_str()), (Some(1), Some("D2")));
    let later = api.get(&format!("/api/v1/deals?tag_id={hot}&stage_id={}", stages[2])).await.json();
    assert_eq!((later["total"].as_i64(), later["items"][0]["title"].as_str()), (Some(1), Some("D0")));
    let won = api.get(&format!("/api/v1/deals?tag_id={hot}&status=won")).await.json();
    assert_eq!(won["total"], 0);
}

#[tokio::test]
async fn companies_carry_tags_in_the_api_their_list_and_their_page() {
    let app = TestApp::spawn().await;
    let (admin_api, _) = app.api_and_browser(Role::Admin).await;
    let (agent_api, agent) = app.api_and_browser(Role::Agent).await;
    let key = tag(&admin_api, json!({"name": "Key account", "color": "#1d4ed8"})).await;
    let partner = tag(&admin_api, json!({"name": "Partner", "locked": true})).await;

    let made = agent_api.post("/api/v1/companies", json!({"name": "Akme", "tag_ids": [key]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let akme = made.json();
    assert_eq!(tag_names(&akme), ["Key account"]);
    let id = akme["id"].as_i64().unwrap();
    agent_api.post("/api/v1/companies", json!({"name": "Beta"})).await;
    let refused = agent_api.patch(&format!("/api/v1/companies/{id}"), json!({"tag_ids": [key, partner]})).await;
    assert_eq!(faults(&refused), [("tag_ids".to_owned(), LOCKED.to_owned())]);
    let both = admin_api.patch(&format!("/api/v1/companies/{id}"), json!({"tag_ids": [key, partner]})).await.json();
    assert_eq!(tag_names(&both), ["Key account", "Partner"]);

    let listed = agent_api.get(&format!("/api/v1/companies?tag_id={partner}")).await.json();
    assert_eq!((listed["total"].as_i64(), listed["items"][0]["name"].as_str()), (Some(1), Some("Akme")));
    assert_eq!(agent_api.get("/api/v1/companies?tag_id=zz").await.status, 422);

    // The list page filters and shows chips; the company's page puts tags on and off.
    let page = agent.get(&format!("/crm/companies?tag_id={key}")).await;
    assert!(page.body.contains("Akme") && !page.body.contains("Beta"), "{}", page.body);
    assert!(page.body.contains("data-color=\"#1d4ed8\">Key account</li>"));
    let shown = agent.get(&format!("/crm/companies/{id}")).await;
    assert!(shown.body.contains(&format!("name=\"tag_id\" value=\"{partner}\" checked disabled")), "{}", shown.body);
    let saved = agent.post(&format!("/crm/companies/{id}/tags"), &[("tag_id", &partner.to_string())]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(tag_names(&agent_api.get(&format!("/api/v1/companies/{id}")).await.json()), ["Partner"]);
    let audited = app
        .scalar_i64("SELECT count(*) FROM audit_log WHERE entity = 'company' AND summary LIKE '%tags −Key account%'")
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn under_own_visibility_a_tags_board_and_list_count_only_the_readers_deals() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let ann = app.api(Role::Agent).await;
    let bob = app.api(Role::Agent).await;
    let (pipeline, _) = sales(&admin).await;
    let hot = tag(&admin, json!({"name": "Hot"})).await;
    for (api, n) in [(&ann, 2), (&bob, 3)] {
        for i in 0..n {
            let body = json!({"title": format!("Deal {i}"), "pipeline_id": pipeline, "value": "10", "tag_ids": [hot]});
            assert_eq!(api.post("/api/v1/deals", body).await.status, 201);
        }
    }
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    let bob_id = bob.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}"),
        format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}&owner_id={bob_id}"),
        format!("/api/v1/pipelines/{pipeline}/board?tag_id={hot}&q=deal"),
    ] {
        let board = ann.get(&path).await.json();
        assert_eq!(board["stages"][0]["deal_count"].as_i64(), Some(2), "{path}");
        assert_eq!(board["stages"][0]["deals"].as_array().unwrap().len(), 2, "{path}");
    }
    let list = ann.get(&format!("/api/v1/deals?tag_id={hot}")).await.json();
    assert_eq!((list["total"].as_i64(), list["items"].as_array().unwrap().len()), (Some(2), 2));
    let all = admin.get(&format!("/api/v1/deals?tag_id={hot}")).await.json();
    assert_eq!(all["total"].as_i64(), Some(5), "admins see all");
}

#[tokio::test]
async fn the_seed_tags_a_share_of_the_deals_once_however_often_it_runs() {
    let app = TestApp::spawn().await;
    let api = app.api(Role::Admin).await;
    let (pipeline, _) = sales(&api).await;
    for n in 0..20 {
        api.post("/api/v1/deals", json!({"title": format!("D{n}"), "pipeline_id": pipeline})).await;
    }
    let seeder = crm::services::seed::SeedService::new(app.pool.clone(), crm::events::EventBus::default());
    let first = seeder.deal_tags(app.tenant).await.unwrap();
    let want = app.scalar_i64("SELECT count(*) FILTER (WHERE id % 5 = 0) + count(*) FILTER (WHERE id % 10 = 0) + count(*) FILTER (WHERE id % 100 = 0) FROM deals").await;
    assert_eq!(first as i64, want);
    assert_eq!(seeder.deal_tags(app.tenant).await.unwrap(), 0, "a second run adds nothing");
    let names: Vec<String> = api.get("/api/v1/tags").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Hot", "Referral", "VIP"]);
    let (kept, counted) = kept_and_counted(&app).await;
    assert_eq!(kept, counted, "the kept counts follow a seed's tags too");
}
