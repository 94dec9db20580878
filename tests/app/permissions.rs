//! Permissions are the services' to check: a principal without one is refused by the service
//! itself, whichever page or API call (or future caller) reaches it.

use crm::domain::chat::{ChatId, Transport};
use crm::domain::{ClientId, ClientInput, Principal, Role};
use crm::services::ServiceError;
use crm::services::chats::Outgoing;

use crate::helpers::TestApp;

async fn principal(app: &TestApp, role: Role) -> Principal {
    let creds = app.create_user(app.tenant, role).await;
    let (tenant, user) = app.state.auth.account_by_email(&creds.email).await.unwrap().unwrap();
    let token = app.state.auth.create_api_token(tenant, user, "t", &crm::domain::Actor::System).await.unwrap().token;
    app.state.auth.api_principal(&token).await.unwrap().unwrap()
}

fn forbidden<T>(what: &str, result: Result<T, ServiceError>) {
    let said = result.as_ref().err().map(ToString::to_string);
    assert!(matches!(result, Err(ServiceError::Forbidden)), "{what}: {said:?}");
}

#[tokio::test]
async fn services_refuse_a_principal_without_the_permission_their_use_case_needs() {
    let app = TestApp::spawn().await;
    let viewer = principal(&app, Role::Viewer).await;
    let agent = principal(&app, Role::Agent).await;
    let s = &app.state;
    let input = ClientInput { first_name: Some("Ann".into()), ..Default::default() };

    forbidden("a viewer creates a client", s.clients.create(&viewer, &input, &[]).await);
    forbidden("a viewer edits a client", s.clients.update(&viewer, ClientId(1), &input).await);
    forbidden("an agent archives a client", s.clients.archive(&agent, ClientId(1)).await);
    forbidden("an agent lists archived clients", s.clients.archived(&agent).await);
    forbidden("an agent merges clients", s.clients.merge(&agent, ClientId(1), ClientId(2)).await);
    forbidden("an agent searches whom to merge", s.clients.merge_candidates(&agent, ClientId(1), "ann").await);
    assert!(!s.clients.may_merge(&agent), "pages offer agents no merge");
    forbidden("a viewer starts a chat", s.chats.open_for_client(&viewer, ClientId(1)).await);
    let note = Outgoing {
        body: "x",
        transport: Some(Transport::Note),
        contact: None,
        template: None,
        files: vec![],
        send_at: None,
    };
    forbidden("a viewer writes in a chat", s.chats.send(&viewer, ChatId(1), note).await);
    forbidden("a viewer marks a chat read", s.chats.mark_read(&viewer, ChatId(1), None).await);
    forbidden("an agent manages templates", s.message_templates.authorize_manage(&agent));
    forbidden("an agent lists channels", s.channels.list(&agent).await);
    forbidden("an agent lists users", s.users.list(&agent).await);
    forbidden("an agent reads the audit log", s.audit.list(&agent, None, 1, 10).await);
    forbidden("a viewer imports clients", s.imports.recent(&viewer).await);
    // And what they may do goes through.
    assert!(s.clients.list(&viewer, &Default::default()).await.is_ok());
    assert!(s.chats.inbox(&viewer, &Default::default()).await.is_ok());
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0, "nothing was written");
}

/// The roles the database grants (migrations) and the ones the code knows agree, permission
/// for permission: a permission added in one place only is caught here.
#[tokio::test]
async fn each_roles_permissions_in_the_database_are_the_ones_the_code_knows() {
    let app = TestApp::spawn().await;
    for role in Role::ALL {
        let granted: Vec<String> =
            sqlx::query_scalar("SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission")
                .bind(role.as_str())
                .fetch_all(&app.pool)
                .await
                .unwrap();
        let mut known: Vec<String> = role.default_permissions().iter().map(|p| p.as_str().to_owned()).collect();
        known.sort();
        assert_eq!(granted, known, "{role}");
    }
}
