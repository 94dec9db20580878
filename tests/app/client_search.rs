//! search_clients (migrations 0004, 0009) finds the same page by every path it may take — the
//! prefix, a walk in order, the trigram probe — as a plain query over all clients does, and
//! its count is exact when it says so and never more than the truth.

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
    let owner = app.owner_pool().await;
    let mut checked = 0;
    for q in ["karimov", "anna", "dilnoza karimov", "+9989", "ivanovna", "no-such-client"] {
        let patterns = crm::repos::clients::search_patterns(q);
        for by_name in [false, true] {
            for (limit, offset) in [(25, 0), (25, 100), (10, 400)] {
                let (expected, matching): (Vec<i64>, i64) = sqlx::query_as(REFERENCE)
                    .bind(app.tenant.0)
                    .bind(&patterns)
                    .bind(by_name)
                    .bind(limit)
                    .bind(offset)
                    .fetch_one(&owner)
                    .await
                    .unwrap();
                for cap in [0, 5, 1000] {
                    let mut tx = TenantTx::begin(&app.pool, app.tenant).await.unwrap();
                    let (ids, total, exact): (Vec<i64>, i64, bool) =
                        sqlx::query_as("SELECT ids, total, exact FROM search_clients($1, NULL, NULL, $2, $3, $4, $5)")
                            .bind(&patterns)
                            .bind(by_name)
                            .bind(limit)
                            .bind(offset)
                            .bind(cap)
                            .fetch_one(tx.conn())
                            .await
                            .unwrap();
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
    }
    assert_eq!(checked, 6 * 2 * 3 * 3);
}
