//! The user's own profile: name, language, password.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::{DomainError, Locale, Permission};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{ProfilePage, SettingsTab, tabs};
use crate::web::views::{Area, FormErrors};

fn page(
    me: &CurrentUser,
    away: Option<bool>,
    name: String,
    locale: String,
    profile_errors: FormErrors,
    password_errors: FormErrors,
) -> ProfilePage {
    ProfilePage {
        away,
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Profile, &me.principal),
        name,
        email: me.principal.email.clone(),
        locale,
        profile_errors,
        password_errors,
    }
}

/// Whether the user is away, for those who may be given chats; `None` for the others.
async fn availability(state: &AppState, me: &CurrentUser) -> Result<Option<bool>, AppError> {
    if !me.principal.can(Permission::ChatCreate) {
        return Ok(None);
    }
    Ok(Some(state.users.away(&me.principal).await?))
}

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let locale = me.principal.locale.map(|l| l.as_str().to_owned()).unwrap_or_default();
    let away = availability(&state, &me).await?;
    let page = page(&me, away, me.principal.name.clone(), locale, FormErrors::default(), FormErrors::default());
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct AvailabilityForm {
    #[serde(default)]
    away: String,
}

pub async fn set_availability(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<AvailabilityForm>,
) -> Result<Response, AppError> {
    let away = match form.away.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::Invalid(vec![DomainError::new("away", "invalid_choice")])),
    };
    state.users.set_away(&me.principal, away).await?;
    Ok(flash::redirect("/crm/settings/profile", Flash::success("flash.availability_saved")))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let locale = match form.locale.as_str() {
        "" => None,
        code => Some(code.parse::<Locale>().map_err(|e| AppError::Invalid(vec![e]))?),
    };
    match state.users.update_profile(&me.principal, &form.name, locale).await {
        Ok(()) => Ok(flash::redirect("/crm/settings/profile", Flash::success("flash.profile_saved"))),
        Err(e) => {
            let errors = form_errors(me.tr, e)?;
            let away = availability(&state, &me).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(&me, away, form.name, form.locale, errors, FormErrors::default()),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let result = if form.new_password != form.confirm_password {
        Err(DomainError::new("confirm_password", "password_mismatch").into())
    } else {
        let keep = me.session_hash();
        state.users.change_password(&me.principal, &form.current_password, &form.new_password, Some(&keep)).await
    };
    match result {
        Ok(()) => Ok(flash::redirect("/crm/settings/profile", Flash::success("flash.password_changed"))),
        Err(e) => {
            let errors = form_errors(me.tr, e)?;
            let locale = me.principal.locale.map(|l| l.as_str().to_owned()).unwrap_or_default();
            let away = availability(&state, &me).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(&me, away, me.principal.name.clone(), locale, FormErrors::default(), errors),
            )
        }
    }
}
