//! Tags on clients: put on through the API and the client's page (checked, audited,
//! announced, locked ones an admin's), the list and its export filtered by one, a merge that
//! carries them and an undo that takes them back; and search_tagged_clients (migration 0042)
//! finding, by every path it may take, what a plain query over all clients finds, its kept
//! sort keys following every edit, archive and restore.

use crm::db::TenantTx;
use crm::domain::tag::{TagId, Tagged};
use crm::domain::{ClientId, DomainEvent, Role};
use crm::repos::seed;
use serde_json::{Value, json};

use crate::helpers::{Api, Page, TestApp};

const UNKNOWN: &str = "There is no such tag.";
const LOCKED: &str = "Only an admin can add or remove a locked tag.";

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

fn tag_names(record: &Value) -> Vec<&str> {
    record["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect()
}

fn names(list: &Value) -> Vec<&str> {
    list["items"].as_array().unwrap().iter().map(|c| c["first_name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn clients_carry_tags_checked_audited_announced_listed_exported_and_merged() {
    let app = TestApp::spawn().await;
    let (admin, admin_browser) = app.api_and_browser(Role::Admin).await;
    let (agent, agent_browser) = app.api_and_browser(Role::Agent).await;
    let hot = tag(&admin, json!({"name": "Hot", "color": "#ea580c"})).await;
    let vip = tag(&admin, json!({"name": "VIP", "locked": true})).await;
    let cold = tag(&admin, json!({"name": "Cold"})).await;
    let mut events = app.state.events.subscribe();

    let made =
        agent.post("/api/v1/clients", json!({"first_name": "Aziz", "last_name": "Karimov", "tag_ids": [hot]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let aziz = made.json()["id"].as_i64().unwrap();
    assert_eq!(tag_names(&made.json()), ["Hot"]);
    let mut added = None;
    while let Ok(event) = events.try_recv() {
        if let DomainEvent::TagAdded { tag_id, on, .. } = event {
            added = Some((tag_id, on));
        }
    }
    assert_eq!(added, Some((TagId(hot), Tagged::Client(ClientId(aziz)))));
    let locked_new = agent.post("/api/v1/clients", json!({"first_name": "Nodir", "tag_ids": [vip]})).await;
    assert_eq!(faults(&locked_new), [("tag_ids".to_owned(), LOCKED.to_owned())]);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients WHERE first_name = 'Nodir'").await, 0, "nothing written");

    // Refused tags leave the client as it was, fields included.
    let path = format!("/api/v1/clients/{aziz}");
    for (body, message) in [
        (json!({"last_name": "Changed", "tag_ids": [hot, 999_999]}), UNKNOWN),
        (json!({"last_name": "Changed", "tag_ids": [hot, vip]}), LOCKED),
    ] {
        assert_eq!(faults(&agent.patch(&path, body.clone()).await), [("tag_ids".to_owned(), message.to_owned())]);
    }
    let kept = agent.get(&path).await.json();
    assert_eq!((kept["last_name"].as_str(), tag_names(&kept)), (Some("Karimov"), vec!["Hot"]));
    assert_eq!(tag_names(&admin.patch(&path, json!({"tag_ids": [vip, hot]})).await.json()), ["Hot", "VIP"]);
    assert_eq!(faults(&agent.patch(&path, json!({"tag_ids": [hot]})).await)[0].1, LOCKED);
    let edited = agent.patch(&path, json!({"middle_name": "Olimovich"})).await.json();
    assert_eq!(tag_names(&edited), ["Hot", "VIP"], "no tag_ids: as they were");
    let summaries: Vec<String> = sqlx::query_scalar(
        "SELECT summary FROM audit_log WHERE entity = 'client' AND entity_id = $1::text ORDER BY id",
    )
    .bind(aziz)
    .fetch_all(&app.owner_pool().await)
    .await
    .unwrap();
    assert_eq!(summaries, ["Aziz Karimov: tags +Hot", "tags +VIP", "middle_name"]);

    // The list by tag, with words, in either order; a bad id is named.
    let bek = agent.post("/api/v1/clients", json!({"first_name": "Bek", "tag_ids": [hot]})).await.json();
    agent.post("/api/v1/clients", json!({"first_name": "Cyrus"})).await;
    let listed = agent.get(&format!("/api/v1/clients?tag_id={hot}")).await.json();
    assert_eq!((names(&listed), listed["total"].as_i64()), (vec!["Bek", "Aziz"], Some(2)));
    assert_eq!(names(&agent.get(&format!("/api/v1/clients?tag_id={hot}&sort=name")).await.json()), ["Aziz", "Bek"]);
    assert_eq!(names(&agent.get(&format!("/api/v1/clients?tag_id={vip}&q=karim")).await.json()), ["Aziz"]);
    assert_eq!(agent.get(&format!("/api/v1/clients?tag_id={cold}")).await.json()["total"], 0);
    assert_eq!(faults(&agent.get("/api/v1/clients?tag_id=zz").await)[0].0, "tag_id");

    // The list page filters and shows chips; the export keeps the filter and names the tags.
    let page = agent_browser.get(&format!("/crm/clients?tag_id={vip}")).await;
    assert!(page.body.contains("Aziz") && !page.body.contains("Bek"), "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{vip}\" selected>VIP</option>")), "{}", page.body);
    assert!(page.body.contains("data-color=\"#ea580c\">Hot</li>"));
    let csv = admin_browser.get(&format!("/crm/clients/export.csv?tag_id={hot}")).await.body;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].contains(",contacts,tags,created_at,"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "a header and the tag's two clients: {csv}");
    assert!(lines.iter().any(|l| l.contains("Aziz") && l.contains(",Hot; VIP,")), "{csv}");

    // The client's page: chips, and a picker where the agent's locked tag is fixed; a forged
    // form dropping it is refused beside the tags.
    let shown = agent_browser.get(&format!("/crm/clients/{aziz}")).await;
    assert!(shown.body.contains(&format!("name=\"tag_id\" value=\"{vip}\" checked disabled")), "{}", shown.body);
    let forged = agent_browser.post(&format!("/crm/clients/{aziz}/tags"), &[("tag_id", &hot.to_string())]).await;
    assert_eq!(forged.status, 422);
    assert!(forged.body.contains(LOCKED), "{}", forged.body);
    let saved = agent_browser
        .post(&format!("/crm/clients/{aziz}/tags"), &[("tag_id", &vip.to_string()), ("tag_id", &cold.to_string())])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(tag_names(&agent.get(&path).await.json()), ["Cold", "VIP"]);

    // A merge gives the survivor the other's tags; undoing it takes back those it added.
    let bek_id = bek["id"].as_i64().unwrap();
    let merged = admin.post(&format!("/api/v1/clients/{aziz}/merge"), json!({"from_client_id": bek_id})).await;
    assert_eq!(tag_names(&merged.json()), ["Cold", "Hot", "VIP"], "{}", merged.body);
    assert_eq!(names(&agent.get(&format!("/api/v1/clients?tag_id={hot}")).await.json()), ["Aziz"], "Bek archived");
    let restored = admin_browser.post(&format!("/crm/clients/{bek_id}/restore"), &[]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(tag_names(&agent.get(&path).await.json()), ["Cold", "VIP"]);
    assert_eq!(tag_names(&agent.get(&format!("/api/v1/clients/{bek_id}")).await.json()), ["Hot"]);
    assert_eq!(names(&agent.get(&format!("/api/v1/clients?tag_id={hot}")).await.json()), ["Bek"], "Bek back");

    // Deleting a tag takes it off every client.
    assert_eq!(admin.delete(&format!("/api/v1/tags/{cold}")).await.status, 204);
    assert_eq!(tag_names(&agent.get(&path).await.json()), ["VIP"]);
}

#[tokio::test]
async fn under_own_visibility_a_tags_client_list_holds_only_the_readers_clients() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let ann = app.api(Role::Agent).await;
    let bob = app.api(Role::Agent).await;
    let hot = tag(&admin, json!({"name": "Hot"})).await;
    for (api, who) in [(&ann, "Ann's"), (&bob, "Bob's")] {
        for i in 0..2 {
            let body = json!({"first_name": format!("{who} {i}"), "tag_ids": [hot]});
            assert_eq!(api.post("/api/v1/clients", body).await.status, 201);
        }
    }
    admin.patch("/api/v1/settings", json!({"record_visibility": "own"})).await;
    for path in [format!("/api/v1/clients?tag_id={hot}"), format!("/api/v1/clients?tag_id={hot}&q=0&sort=name")] {
        let listed = ann.get(&path).await.json();
        assert!(names(&listed).iter().all(|n| n.starts_with("Ann's")), "{path}: {listed}");
    }
    assert_eq!(ann.get(&format!("/api/v1/clients?tag_id={hot}")).await.json()["total"], 2);
    assert_eq!(admin.get(&format!("/api/v1/clients?tag_id={hot}")).await.json()["total"], 4, "admins see all");
}

const REFERENCE: &str = "
    SELECT coalesce(array_agg(p.id), '{}'), (SELECT count(*) FROM clients c WHERE c.tenant_id = $1
        AND c.archived_at IS NULL AND coalesce((SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w), true)
        AND EXISTS (SELECT 1 FROM client_tags g WHERE g.tenant_id = $1 AND g.client_id = c.id AND g.tag_id = $6))
    FROM (SELECT c.id FROM clients c WHERE c.tenant_id = $1 AND c.archived_at IS NULL
            AND coalesce((SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w), true)
            AND EXISTS (SELECT 1 FROM client_tags g WHERE g.tenant_id = $1 AND g.client_id = c.id AND g.tag_id = $6)
          ORDER BY CASE WHEN $3 THEN lower(c.first_name) END, CASE WHEN $3 THEN lower(coalesce(c.last_name, '')) END,
                   CASE WHEN $3 THEN c.id END, c.updated_at DESC, c.id DESC
          LIMIT $4 OFFSET $5) p";

/// Three tags: on every client (over 2,000: with words, the first 500 rows are checked, then
/// the words' matches gathered if few, else the tag's rows walked: page 1,000 of "+9989"), on
/// one in three (under 2,000: gathered) and on a handful; then clients renamed, archived and
/// restored after they were tagged, whose kept sort keys must follow.
#[tokio::test]
async fn every_path_of_the_tagged_client_search_finds_what_a_plain_query_finds() {
    let app = TestApp::spawn().await;
    let admin = app.api(Role::Admin).await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 2600).await.unwrap();
    tx.commit().await.unwrap();
    let tags = [
        tag(&admin, json!({"name": "All"})).await,
        tag(&admin, json!({"name": "Third"})).await,
        tag(&admin, json!({"name": "Few"})).await,
    ];
    let owner = app.owner_pool().await;
    for (tag, every) in tags.iter().zip([1, 3, 97]) {
        sqlx::query(
            "INSERT INTO client_tags (tenant_id, client_id, tag_id)
             SELECT tenant_id, id, $2 FROM clients WHERE tenant_id = $1 AND id % $3 = 0",
        )
        .bind(app.tenant.0)
        .bind(tag)
        .bind(every)
        .execute(&owner)
        .await
        .unwrap();
    }
    for sql in [
        "UPDATE clients SET first_name = 'Aaron', updated_at = now() + interval '1 day' WHERE id % 7 = 0",
        "UPDATE clients SET last_name = 'Zuhra' WHERE id % 5 = 0",
        "UPDATE clients SET archived_at = now() WHERE id % 11 = 0",
        "UPDATE clients SET archived_at = NULL WHERE id % 22 = 0",
    ] {
        sqlx::query(sql).execute(&owner).await.unwrap();
    }
    let queries = ["", "karimov", "dilnoza karimov", "anna", "aaron", "+9989", "ova", "zzqx"];
    let mut checked = 0;
    for q in queries {
        let patterns = crm::repos::clients::search_patterns(q);
        for tag in tags {
            for by_name in [false, true] {
                for (limit, offset) in [(25, 0), (25, 100), (10, 400), (25, 1000)] {
                    let (expected, matching): (Vec<i64>, i64) = sqlx::query_as(REFERENCE)
                        .bind(app.tenant.0)
                        .bind(&patterns)
                        .bind(by_name)
                        .bind(limit)
                        .bind(offset)
                        .bind(tag)
                        .fetch_one(&owner)
                        .await
                        .unwrap();
                    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
                    let (ids, total, exact): (Vec<i64>, i64, bool) = sqlx::query_as(
                        "SELECT ids, total, exact FROM search_tagged_clients($1, $2, NULL, NULL, $3, $4, $5, 500)",
                    )
                    .bind(tag)
                    .bind(&patterns)
                    .bind(by_name)
                    .bind(limit)
                    .bind(offset)
                    .fetch_one(tx.conn())
                    .await
                    .unwrap();
                    let case = format!("q={q:?} tag={tag} by_name={by_name} limit={limit} offset={offset}");
                    assert_eq!(ids, expected, "{case}");
                    if exact {
                        assert_eq!(total, matching, "{case}");
                    } else {
                        assert!(total <= matching && total >= ids.len() as i64, "{case}: {total} of {matching}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, queries.len() * 3 * 2 * 4);
}
