//! The user's own profile: name, language, availability, Telegram, password.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::{DomainError, Locale, Permission};
use crate::services::ServiceError;
use crate::services::users::TelegramLink;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{ProfilePage, SettingsTab, tabs};
use crate::web::views::{Area, FormErrors};

fn page(
    me: &CurrentUser,
    (away, telegram): (Option<bool>, TelegramLink),
    name: String,
    locale: String,
    profile_errors: FormErrors,
    password_errors: FormErrors,
) -> ProfilePage {
    ProfilePage {
        away,
        telegram,
        telegram_code: None,
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Profile, &me.principal),
        name,
        email: me.principal.email.clone(),
        locale,
        profile_errors,
        password_errors,
    }
}

/// Whether the user is away (`None` for those never given chats), and where they stand with
/// Telegram.
async fn standing(state: &AppState, me: &CurrentUser) -> Result<(Option<bool>, TelegramLink), AppError> {
    let away = match me.principal.can(Permission::ChatCreate) {
        true => Some(state.users.away(&me.principal).await?),
        false => None,
    };
    Ok((away, state.users.telegram(&me.principal).await?))
}

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let locale = me.principal.locale.map(|l| l.as_str().to_owned()).unwrap_or_default();
    let standing = standing(&state, &me).await?;
    let page = page(&me, standing, me.principal.name.clone(), locale, FormErrors::default(), FormErrors::default());
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
            let standing = standing(&state, &me).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(&me, standing, form.name, form.locale, errors, FormErrors::default()),
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
            let standing = standing(&state, &me).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(&me, standing, me.principal.name.clone(), locale, FormErrors::default(), errors),
            )
        }
    }
}

/// POST /crm/settings/telegram: a one-time code to link the user's Telegram, shown with the
/// link that sends it to the tenant's bot.
pub async fn telegram_code(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let (code, bot) = match state.users.telegram_code(&me.principal).await {
        Ok(found) => found,
        Err(ServiceError::Refused { .. }) => {
            return Ok(flash::redirect("/crm/settings/profile", Flash::error("flash.telegram_no_bot")));
        }
        Err(e) => return Err(e.into()),
    };
    let locale = me.principal.locale.map(|l| l.as_str().to_owned()).unwrap_or_default();
    let standing = standing(&state, &me).await?;
    let mut page = page(&me, standing, me.principal.name.clone(), locale, FormErrors::default(), FormErrors::default());
    page.telegram_code = Some((code, bot));
    render(StatusCode::OK, &page)
}

/// POST /crm/settings/telegram/unlink
pub async fn telegram_unlink(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.users.unlink_telegram(&me.principal).await?;
    Ok(flash::redirect("/crm/settings/profile", Flash::success("flash.telegram_unlinked")))
}
