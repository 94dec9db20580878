//! The home page, and the language switch in the navigation.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::{Locale, Permission};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::views::Area;
use crate::web::views::home::HomePage;
use crate::web::views::settings::AuditRow;

use super::{render, safe_return_path};

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let activity = if me.principal.can(Permission::UserManage) {
        let recent = state.audit.recent(&me.principal, 8).await?;
        Some(recent.iter().map(|e| AuditRow::new(me.tr, e)).collect())
    } else {
        None
    };
    let greeting = me.tr.t1("home.greeting", "name", &me.principal.name);
    render(StatusCode::OK, &HomePage { shell: me.shell(Area::Home), greeting, activity })
}

#[derive(Deserialize)]
pub struct LocaleForm {
    locale: String,
    #[serde(default)]
    back: String,
}

/// Saves the language picked in the navigation and returns to the page it was picked on.
pub async fn switch_locale(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<LocaleForm>,
) -> Result<Response, AppError> {
    let locale = form.locale.parse::<Locale>().map_err(|e| AppError::Invalid(vec![e]))?;
    state.users.set_locale(&me.principal, Some(locale)).await?;
    let back = safe_return_path(&form.back).unwrap_or("/crm");
    Ok(Redirect::to(back).into_response())
}

/// The home page and the language switch.
pub fn routes() -> Router<AppState> {
    Router::new().route("/crm", get(show)).route("/crm/locale", post(switch_locale))
}
