//! HTML handlers, one module per area, each with its `routes()`. Each handler is thin:
//! extract → service (which checks permissions) → view.

pub mod auth;
pub mod bulk;
pub mod chat_work;
pub mod chats;
pub mod client_imports;
pub mod clients;
pub mod companies;
pub mod custom_values;
pub mod deals;
pub mod home;
pub mod message_templates;
pub mod notifications;
pub mod record_work;
pub mod saved_views;
pub mod settings;
pub mod tasks;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::domain::DomainError;
use crate::i18n::Tr;
use crate::services::ServiceError;
use crate::web::error::AppError;
use crate::web::views::FormErrors;

/// Every page's route, but those with large bodies.
pub fn routes() -> Router<crate::web::AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(home::routes())
        .merge(clients::routes())
        .merge(client_imports::routes())
        .merge(chats::routes())
        .merge(chat_work::routes())
        .merge(companies::routes())
        .merge(deals::routes())
        .merge(message_templates::routes())
        .merge(record_work::routes())
        .merge(bulk::routes())
        .merge(saved_views::routes())
        .merge(tasks::routes())
        .merge(notifications::routes())
        .merge(settings::routes())
}

/// The routes whose bodies may be larger than the general limit (uploads), each with its own.
pub fn large_bodies() -> Router<crate::web::AppState> {
    Router::new().merge(client_imports::upload_routes()).merge(chats::send_routes())
}

/// Whether htmx sent the request (it wants a fragment, not a page or a redirect).
pub fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Renders a template as a page with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// What a form shows beside its fields for a service's refusal: each invalid field's message,
/// or the field a conflict names (`email` is taken). Any other error becomes an error page.
pub fn form_errors(tr: Tr, error: ServiceError) -> Result<FormErrors, AppError> {
    let mut out = FormErrors::default();
    match error {
        ServiceError::Invalid(errors) => {
            for DomainError { field, code, .. } in errors {
                out.add(field, tr.error(code));
            }
        }
        ServiceError::Conflict { field } | ServiceError::Duplicate { field, .. } => {
            out.add(field, tr.error(crate::web::error::taken_code(field)))
        }
        other => return Err(other.into()),
    }
    Ok(out)
}

/// A local path to return to after a form, never another site (`//evil.example`, `/\evil`).
pub fn safe_return_path(raw: &str) -> Option<&str> {
    let ok =
        raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') && !raw.chars().any(char::is_control);
    ok.then_some(raw)
}

/// The tag ids a record's tag picker sent (`tag_id`, once for each ticked).
pub fn ticked_tags(f: &[(String, String)]) -> Vec<String> {
    f.iter().filter(|(k, _)| k == "tag_id").map(|(_, v)| v.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_local_paths_are_followed_after_a_form() {
        assert_eq!(safe_return_path("/crm/settings?tab=1"), Some("/crm/settings?tab=1"));
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "crm", "", "/a\nb"] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}
