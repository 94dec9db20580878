//! The organisation's settings (admins): name, country, currency, language, assignment and
//! visibility.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::settings::{SettingsInput, TenantSettings};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{OrganisationPage, SettingsTab, tabs};
use crate::web::views::{Area, FormErrors};

fn page(me: &CurrentUser, form: SettingsInput, errors: FormErrors) -> OrganisationPage {
    OrganisationPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Organisation, &me.principal),
        form,
        errors,
    }
}

/// The settings as the form's text.
fn as_input(s: &TenantSettings) -> SettingsInput {
    SettingsInput {
        name: Some(s.name.as_str().to_owned()),
        default_country: Some(s.default_country.map_or("", |c| c.code()).to_owned()),
        base_currency: Some(s.base_currency.to_string()),
        locale: Some(s.locale.as_str().to_owned()),
        time_zone: Some(s.time_zone.as_str().to_owned()),
        auto_assign: Some(s.auto_assign.as_str().to_owned()),
        record_visibility: Some(s.record_visibility.as_str().to_owned()),
        malformed: Vec::new(),
    }
}

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.settings.authorize_manage(&me.principal)?;
    let settings = state.settings.get(&me.principal).await?;
    render(StatusCode::OK, &page(&me, as_input(&settings), FormErrors::default()))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<SettingsInput>,
) -> Result<Response, AppError> {
    match state.settings.update(&me.principal, &form).await {
        Ok(_) => Ok(flash::redirect("/crm/settings/organisation", Flash::success("flash.settings_saved"))),
        Err(e) => {
            let errors = form_errors(me.tr, e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&me, form, errors))
        }
    }
}
