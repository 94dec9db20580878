//! Settings: the user's own profile and API tokens; for admins, the organisation, pipelines,
//! tags, users, channels and the audit log.

pub mod audit;
pub mod channels;
pub mod fields;
pub mod organisation;
pub mod pipelines;
pub mod profile;
pub mod tags;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::web::AppState;

/// The settings pages, each area's.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/settings", get(index))
        .route("/crm/settings/profile", get(profile::show).post(profile::update))
        .route("/crm/settings/password", post(profile::change_password))
        .route("/crm/settings/availability", post(profile::set_availability))
        .route("/crm/settings/telegram", post(profile::telegram_code))
        .route("/crm/settings/telegram/unlink", post(profile::telegram_unlink))
        .route("/crm/settings/organisation", get(organisation::show).post(organisation::update))
        .route("/crm/settings/rates", post(organisation::set_rates))
        .route("/crm/settings/pipelines", get(pipelines::show).post(pipelines::create))
        .route("/crm/settings/pipelines/{id}", post(pipelines::rename))
        .route("/crm/settings/pipelines/{id}/delete", post(pipelines::delete))
        .route("/crm/settings/pipelines/{id}/stages", post(pipelines::add_stage))
        .route("/crm/settings/pipelines/{id}/stages/{stage}", post(pipelines::update_stage))
        .route("/crm/settings/pipelines/{id}/stages/{stage}/earlier", post(pipelines::earlier))
        .route("/crm/settings/pipelines/{id}/stages/{stage}/later", post(pipelines::later))
        .route("/crm/settings/pipelines/{id}/stages/{stage}/delete", post(pipelines::delete_stage))
        .route("/crm/settings/tags", get(tags::show).post(tags::create))
        .route("/crm/settings/tags/{id}", post(tags::update))
        .route("/crm/settings/tags/{id}/delete", post(tags::delete))
        .route("/crm/settings/fields", get(fields::show).post(fields::create))
        .route("/crm/settings/fields/{id}", post(fields::update))
        .route("/crm/settings/fields/{id}/remove", post(fields::remove))
        .route("/crm/settings/fields/{id}/restore", post(fields::restore))
        .route("/crm/settings/users", get(users::list).post(users::create))
        .route("/crm/settings/users/new", get(users::new))
        .route("/crm/settings/users/{id}/role", post(users::change_role))
        .route("/crm/settings/users/{id}/deactivate", post(users::deactivate))
        .route("/crm/settings/users/{id}/reactivate", post(users::reactivate))
        .route("/crm/settings/tokens", get(tokens::list).post(tokens::create))
        .route("/crm/settings/tokens/{id}/revoke", post(tokens::revoke))
        .route("/crm/settings/channels", get(channels::list).post(channels::create))
        .route("/crm/settings/channels/new", get(channels::new))
        .route("/crm/settings/channels/{id}", post(channels::update))
        .route("/crm/settings/channels/{id}/edit", get(channels::edit))
        .route("/crm/settings/channels/{id}/test", post(channels::test))
        .route("/crm/settings/channels/{id}/enabled", post(channels::set_enabled))
        .route("/crm/settings/channels/{id}/delete", post(channels::delete))
        .route("/crm/settings/audit", get(audit::list))
}

pub async fn index() -> Redirect {
    Redirect::to("/crm/settings/profile")
}
