//! Webhooks: providers calling in. No session and no CSRF token — each request proves itself
//! (Twilio's signature, Telegram's secret token) before anything is read into the CRM, and
//! answers at once; slow work (fetching files, notifying staff) happens afterwards.

pub mod telegram;
pub mod twilio;

use axum::Router;
use axum::routing::post;

use crate::web::AppState;

/// Where the providers call in.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/webhooks/twilio", post(twilio::inbound))
        .route("/crm/webhooks/twilio/status", post(twilio::status))
        .route("/tg/webhook", post(telegram::webhook))
}
