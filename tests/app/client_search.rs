//! search_clients (migrations 0004, 0009, 0011) finds the same page by every path it may take —
//! the first rows in order, a walk in order, the probe through the word dictionary or the
//! trigrams, the walk after a probe that found too many — as a plain query over all clients
//! does, and its count is exact when it says so and never more than the truth. The dictionary
//! follows every insert, edit and deletion.

use crm::db::TenantTx;
use crm::repos::seed;

use crate::helpers::TestApp;

const REFERENCE: &str = "
    SELECT coalesce(array_agg(p.id), '{}'), (SELECT count(*) FROM clients c WHERE c.tenant_id = $1
        AND c.archived_at IS NULL AND (SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w))
    FROM (SELECT c.id FROM clients c WHERE c.tenant_id = $1 AND c.archived_at IS NULL
            AND (SELECT bool_and(c.search LIKE w) FROM unnest($2::text[]) w)
          ORDER BY CASE WHEN $3 THEN lower(c.first_name) END, CASE WHEN $3 THEN lower(coalesce(c.last_name, '')) END,
                   CASE WHEN $3 THEN c.id END, c.updated_at DESC, c.id DESC
          LIMIT $4 OFFSET $5) p";

#[tokio::test]
async fn every_path_of_the_client_search_finds_what_a_plain_query_finds() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 2600).await.unwrap();
    tx.commit().await.unwrap();
    // 1,100 distinct words holding "wxq": more than the probe looks up, so it takes trigrams.
    let owner = app.owner_pool().await;
    sqlx::query(
        "INSERT INTO clients (tenant_id, first_name, last_name, updated_at)
         SELECT $1, 'Walter', 'Wxq' || i, now() - interval '2 years' FROM generate_series(1, 1100) i",
    )
    .bind(app.tenant.0)
    .execute(&owner)
    .await
    .unwrap();
    // Cyrillic names, found by either alphabet.
    sqlx::query(
        "INSERT INTO clients (tenant_id, first_name, last_name, updated_at)
         SELECT $1, (ARRAY['Мадина', 'Шахзод', 'Ўктам'])[1 + i % 3], 'Каримова', now() - i * interval '1 hour'
         FROM generate_series(1, 60) i",
    )
    .bind(app.tenant.0)
    .execute(&owner)
    .await
    .unwrap();
    let queries = [
        "мадина",           // Cyrillic typed: Madina and Мадина
        "shahzod karimova", // Latin typed: Шахзод Каримова
        "oʻktam",           // Uzbek Latin with its apostrophe: Ўктам
        "karimov",          // a surname: a walk in order, or the dictionary
        "anna",             // a first name, dense
        "dilnoza karimov",  // two words, both in the dictionary
        "imov",             // inside words: karimov, rakhimov
        "ova",              // in many words
        "+9989",            // digits: trigrams
        "anna 12",          // a dictionary word and digits
        "ivanovna",         // a patronymic
        "no-such-client",   // punctuated: trigrams, nothing found
        "zzqx",             // in no client's dictionary: nothing, at once
        "wxq",              // in too many words: trigrams
    ];
    let mut checked = 0;
    for q in queries {
        checked += compare(&app, &owner, q).await;
    }
    assert_eq!(checked, queries.len() * 2 * 3 * 3);
}

/// Checks search_clients against the plain query for `q`, both orders, three pages and three
/// count caps (0, 5 and 1,000: the probe sorts up to twenty times the cap); returns the cases.
async fn compare(app: &TestApp, owner: &sqlx::PgPool, q: &str) -> usize {
    let patterns = crm::repos::clients::search_patterns(q);
    let mut checked = 0;
    for by_name in [false, true] {
        for (limit, offset) in [(25, 0), (25, 100), (10, 400)] {
            let (expected, matching): (Vec<i64>, i64) = sqlx::query_as(REFERENCE)
                .bind(app.tenant.0)
                .bind(&patterns)
                .bind(by_name)
                .bind(limit)
                .bind(offset)
                .fetch_one(owner)
                .await
                .unwrap();
            for cap in [0, 5, 1000] {
                let (ids, total, exact) = search(app, &patterns, by_name, limit, offset, cap).await;
                let case = format!("q={q:?} by_name={by_name} limit={limit} offset={offset} cap={cap}");
                assert_eq!(ids, expected, "{case}");
                if exact {
                    assert_eq!(total, matching, "{case}");
                } else {
                    assert!(total <= matching, "{case}: at least {total} of {matching}");
                }
                checked += 1;
            }
        }
    }
    checked
}

async fn search(
    app: &TestApp,
    patterns: &[String],
    by_name: bool,
    limit: i32,
    offset: i32,
    cap: i32,
) -> (Vec<i64>, i64, bool) {
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    sqlx::query_as("SELECT ids, total, exact FROM search_clients($1, NULL, NULL, $2, $3, $4, $5)")
        .bind(patterns)
        .bind(by_name)
        .bind(limit)
        .bind(offset)
        .bind(cap)
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

/// The words a search may look up follow the clients: a new name is found at once (through
/// the dictionary: thousands of clients come before it in either order), a changed one under
/// its new words, and a deleted client's words go unless another client has them too.
/// Every letter `search_fold` maps, in capitals and small letters, folds alike in SQL (the
/// stored side, migration 0022) and in Rust (the typed side): a difference would hide clients.
#[tokio::test]
async fn the_stored_and_the_typed_text_fold_alike() {
    let app = TestApp::spawn().await;
    let owner = app.owner_pool().await;
    let letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяўқғҳ abcdefghijklmnopqrstuvwxyz \
                   àáâãäåçèéêëìíîïñòóôõöøùúûüýşğ ʻʼ'‘’` 0123456789 +@._-";
    for text in [letters.to_owned(), letters.to_uppercase(), "Мадина Oʻktam XOLIQOV Şahin".to_owned()] {
        let stored: String = sqlx::query_scalar("SELECT search_fold($1)").bind(&text).fetch_one(&owner).await.unwrap();
        assert_eq!(stored, crm::repos::clients::search_fold(&text.to_lowercase()), "{text}");
    }
}

#[tokio::test]
async fn the_word_dictionary_follows_new_changed_and_deleted_clients() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 2600).await.unwrap();
    tx.commit().await.unwrap();
    let owner = app.owner_pool().await;
    let api = app.api(crm::domain::Role::Admin).await;
    let found = |q: &'static str| {
        let app = &app;
        async move {
            let patterns = crm::repos::clients::search_patterns(q);
            let by_updated = search(app, &patterns, false, 25, 0, 500).await;
            let by_name = search(app, &patterns, true, 25, 0, 500).await;
            assert_eq!(by_updated, by_name, "q={q:?}: one client, in either order");
            by_name.0
        }
    };
    let words = |sql: &'static str| {
        let owner = owner.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&owner).await.unwrap() }
    };

    let created =
        api.post("/api/v1/clients", serde_json::json!({"first_name": "Zebulon", "last_name": "Quillfeather"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(found("quillfeath").await, [id]);
    assert_eq!(found("zebulon quill").await, [id]);

    let twin = api.post("/api/v1/clients", serde_json::json!({"first_name": "Zebulon", "last_name": "Other"})).await;
    let twin = twin.json()["id"].as_i64().unwrap();
    let patched = api.patch(&format!("/api/v1/clients/{id}"), serde_json::json!({"last_name": "Marigoldsworth"})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(found("goldswo").await, [id]);
    assert!(found("quillfeath").await.is_empty(), "the old surname finds nobody");

    assert_eq!(api.delete(&format!("/api/v1/clients/{id}")).await.status, 204);
    assert!(found("goldswo").await.is_empty(), "an archived client is not found");
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    crm::repos::clients::erase(&mut tx, crm::domain::ClientId(id)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(words("SELECT count(*) FROM client_search_words WHERE word = 'marigoldsworth'").await, 0);
    assert_eq!(words("SELECT count(*) FROM client_search_words WHERE word = 'zebulon'").await, 1, "the twin has it");
    assert_eq!(found("zebulon").await, [twin]);
}

/// A deletion that would remove a word waits for a writer still adding a client with it, then
/// sees that client and keeps the word (without the tenant's dictionary lock it removed it, and
/// the new client could not be found through the dictionary).
#[tokio::test]
async fn erasing_the_last_holder_of_a_word_keeps_it_for_a_client_being_written() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 600).await.unwrap();
    tx.commit().await.unwrap();
    let insert =
        "INSERT INTO clients (tenant_id, first_name, last_name) VALUES ($1, 'Zeno', 'Zanzibarov') RETURNING id";
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    let leaving: i64 = sqlx::query_scalar(insert).bind(app.tenant.0).fetch_one(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();

    let mut writer = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    let staying: i64 = sqlx::query_scalar(insert).bind(app.tenant.0).fetch_one(writer.conn()).await.unwrap();
    let eraser = {
        let pool = app.pool.clone();
        let tenant = app.tenant;
        tokio::spawn(async move {
            let mut tx = TenantTx::begin(&pool, tenant).await.unwrap();
            crm::repos::clients::erase(&mut tx, crm::domain::ClientId(leaving)).await.unwrap();
            tx.commit().await.unwrap();
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!eraser.is_finished(), "the erasure waits for the writer");
    writer.commit().await.unwrap();
    eraser.await.unwrap();

    let kept = app.scalar_i64("SELECT count(*) FROM client_search_words WHERE word = 'zanzibarov'").await;
    assert_eq!(kept, 1);
    let (ids, total, _) = search(&app, &crm::repos::clients::search_patterns("zanzibar"), true, 25, 0, 500).await;
    assert_eq!((ids, total), (vec![staying], 1));
}
