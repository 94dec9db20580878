//! /api/v1/settings: the tenant's settings, read by anyone signed in to it, changed by admins.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::domain::currency::Currency;
use crate::domain::money::{Rate, RatesInput};
use crate::domain::settings::{SettingsInput, TenantSettings};
use crate::web::AppState;
use crate::web::error::AppError;

use super::ApiUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings", get(show).patch(update))
        .route("/api/v1/currency-rates", get(rates).put(set_rates))
}

#[derive(Serialize)]
pub struct SettingsJson {
    name: String,
    default_country: Option<&'static str>,
    base_currency: String,
    locale: &'static str,
    time_zone: &'static str,
    auto_assign: &'static str,
    record_visibility: &'static str,
}

impl From<TenantSettings> for SettingsJson {
    fn from(s: TenantSettings) -> Self {
        Self {
            name: s.name.as_str().to_owned(),
            default_country: s.default_country.map(|c| c.code()),
            base_currency: s.base_currency.to_string(),
            locale: s.locale.as_str(),
            time_zone: s.time_zone.as_str(),
            auto_assign: s.auto_assign.as_str(),
            record_visibility: s.record_visibility.as_str(),
        }
    }
}

pub async fn show(State(state): State<AppState>, user: ApiUser) -> Result<Json<SettingsJson>, AppError> {
    Ok(Json(state.settings.get(&user.0).await?.into()))
}

/// Changes the keys present; `default_country: null` (or "") clears the country. Every other
/// value is a string.
pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<Value>,
) -> Result<Json<SettingsJson>, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::BadRequest("the body must be a JSON object".into()));
    };
    let mut malformed = Vec::new();
    let mut text = |field: &'static str| match map.get(field) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) if field == "default_country" => Some(String::new()),
        Some(_) => {
            malformed.push(field);
            None
        }
    };
    let mut input = SettingsInput {
        name: text("name"),
        default_country: text("default_country"),
        base_currency: text("base_currency"),
        locale: text("locale"),
        time_zone: text("time_zone"),
        auto_assign: text("auto_assign"),
        record_visibility: text("record_visibility"),
        malformed: Vec::new(),
    };
    input.malformed = malformed;
    Ok(Json(state.settings.update(&user.0, &input).await?.into()))
}

/// The rates as the API shows them: the base currency, and each other currency's worth in it
/// as a decimal string.
#[derive(Serialize)]
pub struct RatesJson {
    base_currency: String,
    items: Vec<RateJson>,
}

#[derive(Serialize)]
pub struct RateJson {
    currency: String,
    rate: String,
}

impl RatesJson {
    fn of((base, rates): (Currency, Vec<(Currency, Rate)>)) -> Self {
        RatesJson {
            base_currency: base.to_string(),
            items: rates.into_iter().map(|(c, r)| RateJson { currency: c.to_string(), rate: r.as_string() }).collect(),
        }
    }
}

pub async fn rates(State(state): State<AppState>, user: ApiUser) -> Result<Json<RatesJson>, AppError> {
    Ok(Json(RatesJson::of(state.settings.rates(&user.0).await?)))
}

/// Replaces the whole table: a currency left out has no rate any more.
pub async fn set_rates(
    State(state): State<AppState>,
    user: ApiUser,
    Json(input): Json<RatesInput>,
) -> Result<Json<RatesJson>, AppError> {
    Ok(Json(RatesJson::of(state.settings.set_rates(&user.0, &input).await?)))
}
