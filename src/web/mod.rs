//! The HTTP face of the CRM: pages (HTML + htmx), the JSON API, webhooks later; and the
//! middleware they share. Nothing below this module knows axum.

pub mod api;
pub mod auth;
pub mod cookies;
pub mod error;
pub mod flash;
pub mod input;
pub mod live;
pub mod media;
pub mod ops;
pub mod pages;
pub mod state;
pub mod static_files;
pub mod views;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;

use pages::settings;
pub use state::AppState;

/// The largest urlencoded form accepted.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;
/// The largest request body, uploads aside.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The largest upload: a client CSV, with room for the multipart framing.
pub const MAX_UPLOAD_BYTES: usize = crate::domain::client::import::MAX_FILE_BYTES + 64 * 1024;
/// The largest message: its files at their limit, the text and the multipart framing.
pub const MAX_MESSAGE_BYTES: usize =
    crate::domain::attachment::MAX_FILES * crate::domain::attachment::MAX_FILE_BYTES + 128 * 1024;

/// Responses that stream for minutes, kept out of the request time-out (see `app::build`).
pub fn streams() -> Router<AppState> {
    Router::new().route("/crm/chats/events", get(live::events))
}

/// Every route of the application, without the middleware stack (see `app::build`).
pub fn router() -> Router<AppState> {
    let crm = Router::new()
        .route("/crm", get(pages::home::show))
        .route("/crm/locale", post(pages::home::switch_locale))
        .route("/crm/clients", get(pages::clients::list).post(pages::clients::create))
        .route("/crm/clients/new", get(pages::clients::new))
        .route("/crm/clients/archived", get(pages::clients::archived))
        .route("/crm/clients/export.csv", get(pages::clients::export_csv))
        .route("/crm/clients/import", get(pages::client_imports::new))
        .route("/crm/clients/import/sample.csv", get(pages::client_imports::sample_csv))
        .route("/crm/clients/imports/{id}", get(pages::client_imports::show))
        .route("/crm/clients/imports/{id}/progress", get(pages::client_imports::progress))
        .route("/crm/clients/imports/{id}/start", post(pages::client_imports::start))
        .route("/crm/clients/imports/{id}/cancel", post(pages::client_imports::cancel))
        .route("/crm/clients/imports/{id}/report.csv", get(pages::client_imports::report_csv))
        .route("/crm/clients/{id}/restore", post(pages::clients::restore))
        .route("/crm/clients/{id}/erase", post(pages::clients::erase))
        .route("/crm/clients/{id}/export.json", get(pages::clients::export))
        .route("/crm/clients/{id}", get(pages::clients::show))
        .route("/crm/clients/{id}/sections/{section}", get(pages::clients::section).post(pages::clients::save_section))
        .route("/crm/clients/{id}/sections/{section}/edit", get(pages::clients::edit_section))
        .route("/crm/clients/{id}/contacts", post(pages::clients::add_contact))
        .route("/crm/clients/{id}/contacts/{contact}/delete", post(pages::clients::remove_contact))
        .route("/crm/clients/{id}/delete", post(pages::clients::delete))
        .route("/crm/clients/{id}/chat", get(pages::chats::for_client).post(pages::chats::open_for_client))
        .route("/crm/chats", get(pages::chats::inbox))
        .route("/crm/chats/list", get(pages::chats::list))
        .route("/crm/chats/unread", get(pages::chats::unread))
        .route("/crm/chats/{id}", get(pages::chats::show))
        .route("/crm/chats/{id}/messages", get(pages::chats::older))
        .route("/crm/chats/{id}/read", post(pages::chats::mark_read))
        .route("/crm/chats/{id}/messages/{message}/retry", post(pages::chats::retry))
        .route("/crm/chats/{id}/attachments/{attachment}", get(pages::chats::attachment))
        .route("/crm/instant-messages", get(pages::message_templates::list).post(pages::message_templates::create))
        .route("/crm/instant-messages/new", get(pages::message_templates::new))
        .route("/crm/instant-messages/{id}", post(pages::message_templates::update))
        .route("/crm/instant-messages/{id}/edit", get(pages::message_templates::edit))
        .route("/crm/instant-messages/{id}/delete", post(pages::message_templates::delete))
        .route("/crm/settings", get(settings::index))
        .route("/crm/settings/profile", get(settings::profile::show).post(settings::profile::update))
        .route("/crm/settings/password", post(settings::profile::change_password))
        .route("/crm/settings/users", get(settings::users::list).post(settings::users::create))
        .route("/crm/settings/users/new", get(settings::users::new))
        .route("/crm/settings/users/{id}/role", post(settings::users::change_role))
        .route("/crm/settings/users/{id}/deactivate", post(settings::users::deactivate))
        .route("/crm/settings/users/{id}/reactivate", post(settings::users::reactivate))
        .route("/crm/settings/tokens", get(settings::tokens::list).post(settings::tokens::create))
        .route("/crm/settings/tokens/{id}/revoke", post(settings::tokens::revoke))
        .route("/crm/settings/channels", get(settings::channels::list).post(settings::channels::create))
        .route("/crm/settings/channels/new", get(settings::channels::new))
        .route("/crm/settings/channels/{id}", post(settings::channels::update))
        .route("/crm/settings/channels/{id}/edit", get(settings::channels::edit))
        .route("/crm/settings/channels/{id}/test", post(settings::channels::test))
        .route("/crm/settings/channels/{id}/enabled", post(settings::channels::set_enabled))
        .route("/crm/settings/channels/{id}/delete", post(settings::channels::delete))
        .route("/crm/settings/audit", get(settings::audit::list));

    // Uploads are the only bodies above the general limit.
    let uploads = Router::new()
        .route("/crm/clients/imports", post(pages::client_imports::upload))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES));
    let messages = Router::new()
        .route("/crm/chats/{id}/messages", post(pages::chats::send))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_MESSAGE_BYTES));

    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/crm") }))
        .route("/login", get(pages::auth::show).post(pages::auth::submit))
        .route("/logout", post(pages::auth::sign_out))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{*path}", get(static_files::serve))
        .route("/media/{tenant}/{chat}/{attachment}", get(media::serve))
        .route("/crm/webhooks/twilio", post(webhooks::twilio::inbound))
        .route("/crm/webhooks/twilio/status", post(webhooks::twilio::status))
        .route("/tg/webhook", post(webhooks::telegram::webhook))
        .merge(crm)
        .merge(api::router())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(uploads)
        .merge(messages)
        .fallback(|| async { error::AppError::NotFound })
}
