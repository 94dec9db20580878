//! The HTTP face of the CRM: pages (HTML + htmx), the JSON API, webhooks later; and the
//! middleware they share. Nothing below this module knows axum.

pub mod api;
pub mod auth;
pub mod cookies;
pub mod download;
pub mod error;
pub mod flash;
pub mod input;
pub mod list_query;
pub mod live;
pub mod media;
pub mod ops;
pub mod pages;
pub mod state;
pub mod static_files;
pub mod views;
pub mod webhooks;

use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;

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

/// Every route of the application, without the middleware stack (see `app::build`): each
/// area's own routes, merged; the general body limit on all but the uploads.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/crm") }))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{*path}", get(static_files::serve))
        .route("/media/{tenant}/{chat}/{attachment}", get(media::serve))
        .merge(webhooks::routes())
        .merge(pages::routes())
        .merge(api::router())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(pages::large_bodies())
        .fallback(|| async { error::AppError::NotFound })
}
