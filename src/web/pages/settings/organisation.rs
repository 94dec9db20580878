//! The organisation's settings (admins): name, country, currency, language, assignment and
//! visibility; and the exchange rates into its base currency.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::money::{RateInput, RatesInput};
use crate::domain::settings::{SettingsInput, TenantSettings};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{OrganisationPage, RateRow, RatesForm, SettingsTab, tabs};
use crate::web::views::{Area, FormErrors};

fn page(me: &CurrentUser, form: SettingsInput, errors: FormErrors, rates: RatesForm) -> OrganisationPage {
    OrganisationPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Organisation, &me.principal),
        form,
        errors,
        rates,
    }
}

/// The rates as stored, for their form.
async fn stored_rates(state: &AppState, me: &CurrentUser) -> Result<RatesForm, AppError> {
    let (base, rates) = state.settings.rates(&me.principal).await?;
    let rows = rates
        .into_iter()
        .map(|(c, r)| RateRow { currency: c.to_string(), rate: r.as_string(), ..Default::default() })
        .collect();
    Ok(RatesForm::new(base.to_string(), rows))
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
    let rates = stored_rates(&state, &me).await?;
    render(StatusCode::OK, &page(&me, as_input(&settings), FormErrors::default(), rates))
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
            let rates = stored_rates(&state, &me).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&me, form, errors, rates))
        }
    }
}

/// Replaces the rates with the form's rows (`currency_N`, `rate_N`); a row left empty is no
/// rate. A refused row comes back as typed, with its reasons beside it.
pub async fn set_rates(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let field = |name: String| f.get(&name).map(|v| v.trim().to_owned()).unwrap_or_default();
    let mut rows: Vec<RateRow> = (0..500)
        .map_while(|i| {
            f.contains_key(&format!("currency_{i}")).then(|| RateRow {
                currency: field(format!("currency_{i}")),
                rate: field(format!("rate_{i}")),
                ..Default::default()
            })
        })
        .collect();
    rows.retain(|r| !r.currency.is_empty() || !r.rate.is_empty());
    let input = RatesInput {
        items: rows
            .iter()
            .map(|r| RateInput { currency: r.currency.clone(), rate: serde_json::Value::String(r.rate.clone()) })
            .collect(),
    };
    match state.settings.set_rates(&me.principal, &input).await {
        Ok(_) => Ok(flash::redirect("/crm/settings/organisation#rates", Flash::success("flash.rates_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            for e in errors {
                let Some(("items", i)) = e.item else { continue };
                let message = me.tr.error(e.code);
                match e.field {
                    "currency" => rows[i].currency_error = Some(message),
                    _ => rows[i].rate_error = Some(message),
                }
            }
            let settings = state.settings.get(&me.principal).await?;
            let (base, _) = state.settings.rates(&me.principal).await?;
            let rates = RatesForm::new(base.to_string(), rows);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&me, as_input(&settings), FormErrors::default(), rates))
        }
        Err(e) => Err(e.into()),
    }
}
