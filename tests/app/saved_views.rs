//! Saved views: a list's filters kept under a name, private or shared with the team.

use crate::helpers::TestApp;
use crm::domain::Role;

#[tokio::test]
async fn a_view_is_saved_with_the_lists_filters_shared_or_not_and_deleted_by_its_owner() {
    let app = TestApp::spawn().await;
    let ann = app.sign_in_as(Role::Agent).await;
    let bob = app.sign_in_as(Role::Agent).await;
    let csrf = ann.get("/crm/clients").await.csrf().unwrap();
    let saved = ann
        .post(
            "/crm/views",
            &[
                ("_csrf", &csrf),
                ("entity", "clients"),
                ("name", "Tashkent gold"),
                ("query", "q=tash&page=4&sort=name"),
                ("shared", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), Some("/crm/clients?q=tash&sort=name"), "the page is not kept");
    ann.post("/crm/views", &[("_csrf", &csrf), ("entity", "clients"), ("name", "Mine only"), ("query", "sort=name")])
        .await;
    let twice = ann
        .post("/crm/views", &[("_csrf", &csrf), ("entity", "clients"), ("name", "tashkent GOLD"), ("query", "")])
        .await;
    assert_eq!(twice.status, 303);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM saved_views").await, 2, "a name is one whatever its case");
    let bad = ann.post("/crm/views", &[("_csrf", &csrf), ("entity", "people"), ("name", ""), ("query", "")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);

    let list = ann.get("/crm/clients").await.body;
    assert!(
        list.contains("Tashkent gold")
            && list.contains("Mine only")
            && list.contains("/crm/clients?q=tash&#38;sort=name"),
        "{list}"
    );
    let theirs = bob.get("/crm/clients").await.body;
    assert!(
        theirs.contains("Tashkent gold") && !theirs.contains("Mine only"),
        "a shared view is the team's, a private one is not"
    );

    let id = app.scalar_i64("SELECT id FROM saved_views WHERE name = 'Tashkent gold'").await;
    let bob_csrf = bob.get("/crm/clients").await.csrf().unwrap();
    assert_eq!(bob.post(&format!("/crm/views/{id}/delete"), &[("_csrf", &bob_csrf)]).await.status, 403);
    assert_eq!(ann.post(&format!("/crm/views/{id}/delete"), &[("_csrf", &csrf)]).await.status, 303);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM saved_views").await, 1);
}
