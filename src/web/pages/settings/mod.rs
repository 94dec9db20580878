//! Settings: the user's own profile and API tokens; for admins, users and the audit log.

pub mod audit;
pub mod channels;
pub mod profile;
pub mod tokens;
pub mod users;

use axum::response::Redirect;

pub async fn index() -> Redirect {
    Redirect::to("/crm/settings/profile")
}
