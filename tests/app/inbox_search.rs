//! search_inbox (migrations 0007, 0016) finds the same page by every path it may take — the
//! prefix walk, the sorted index lists, the full walk — as a plain query over all chats does,
//! in every view (assignee and status).

use crm::db::TenantTx;
use crm::repos::seed;

use crate::helpers::TestApp;

/// What the inbox search means, said plainly (as the owner, without row-level security).
const REFERENCE: &str = "
    SELECT coalesce(array_agg(p.id), '{}') FROM (
        SELECT h.id FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
        WHERE h.tenant_id = $1 AND c.archived_at IS NULL AND h.last_message_at IS NOT NULL
          AND (NOT $3 OR h.unread_count > 0)
          AND ($7 = 'any' OR ($7 = 'none' AND h.assignee_user_id IS NULL) OR ($7 = 'user' AND h.assignee_user_id = $8))
          AND ($9::text IS NULL OR h.status = $9)
          AND ((SELECT bool_and(c.search LIKE p) FROM unnest($2::text[]) p)
               OR EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = h.tenant_id AND m.chat_id = h.id
                          AND m.search @@ plainto_tsquery('simple', $4)))
        ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC LIMIT $5 OFFSET $6) p";

#[tokio::test]
async fn every_path_of_the_inbox_search_finds_what_a_plain_query_finds() {
    let app = TestApp::spawn().await;
    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
    seed::clients(&mut tx, 1, 320).await.unwrap();
    seed::chats(&mut tx, 0, 300, 4).await.unwrap();
    tx.commit().await.unwrap();
    let owner = app.owner_pool().await;
    // A rare word in one old chat, and an archived client whose chat must never show.
    sqlx::query(
        "UPDATE messages SET body = 'the parcel went to Zanzibar' WHERE id = (
             SELECT m.id FROM messages m JOIN chats h ON h.id = m.chat_id ORDER BY h.last_message_at LIMIT 1)",
    )
    .execute(&owner)
    .await
    .unwrap();
    sqlx::query("UPDATE clients SET archived_at = now() WHERE id = (SELECT client_id FROM chats ORDER BY id LIMIT 1)")
        .execute(&owner)
        .await
        .unwrap();
    // A team at work: every third chat is the agent's, every fourth resolved.
    app.create_user(app.tenant, crm::domain::Role::Agent).await;
    let agent = app.scalar_i64("SELECT max(id) FROM users").await;
    sqlx::query("UPDATE chats SET assignee_user_id = $1 WHERE id % 3 = 0").bind(agent).execute(&owner).await.unwrap();
    sqlx::query("UPDATE chats SET status = 'resolved' WHERE id % 4 = 0").execute(&owner).await.unwrap();
    let views: [(&str, Option<i64>, Option<&str>); 4] = [
        ("any", None, None),
        ("none", None, Some("open")),
        ("user", Some(agent), None),
        ("user", Some(agent), Some("resolved")),
    ];

    let searches = ["order", "zanzibar", "emma", "ivanov order", "+9989", "nothing-like-this", "спасибо"];
    let mut checked = 0;
    for q in searches {
        let patterns = crm::repos::clients::search_patterns(q);
        for (unread, (kind, assignee, status)) in [false, true].into_iter().flat_map(|u| views.map(|v| (u, v))) {
            for (limit, offset) in [(50, 0), (20, 20), (7, 250)] {
                let expected: Vec<i64> = sqlx::query_scalar(REFERENCE)
                    .bind(app.tenant.0)
                    .bind(&patterns)
                    .bind(unread)
                    .bind(q)
                    .bind(limit)
                    .bind(offset)
                    .bind(kind)
                    .bind(assignee)
                    .bind(status)
                    .fetch_one(&owner)
                    .await
                    .unwrap();
                // Caps that send the function down each of its paths.
                for cap in [0, 3, 5000] {
                    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
                    let found: Vec<i64> = sqlx::query_scalar("SELECT search_inbox($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(&patterns)
                        .bind(q)
                        .bind(unread)
                        .bind(kind)
                        .bind(assignee)
                        .bind(status)
                        .bind(limit)
                        .bind(offset)
                        .bind(cap)
                        .fetch_one(tx.conn())
                        .await
                        .unwrap();
                    assert_eq!(
                        found, expected,
                        "q={q:?} unread={unread} view={kind}/{status:?} limit={limit} offset={offset} cap={cap}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, searches.len() * 2 * views.len() * 3 * 3);
    let zanzibar: Vec<i64> = sqlx::query_scalar(REFERENCE)
        .bind(app.tenant.0)
        .bind(crm::repos::clients::search_patterns("zanzibar"))
        .bind(false)
        .bind("zanzibar")
        .bind(50)
        .bind(0)
        .bind("any")
        .bind(None::<i64>)
        .bind(None::<&str>)
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(zanzibar.len(), 1, "the rare word is in one chat, past the first 200");

    // Outside a tenant's transaction the function finds nothing.
    let outside: Vec<i64> =
        sqlx::query_scalar("SELECT search_inbox('{%order%}', 'order', false, 'any', NULL, NULL, 50, 0, 10)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(outside.is_empty());
}
