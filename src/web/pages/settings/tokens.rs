//! The user's own API tokens: create (shown once), list, revoke.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{SettingsTab, TokenRow, TokensPage, tabs};
use crate::web::views::{Area, FormErrors};

async fn page(
    state: &AppState,
    me: &CurrentUser,
    created: Option<String>,
    name: String,
    errors: FormErrors,
) -> Result<TokensPage, AppError> {
    let tokens = state.auth.list_api_tokens(&me.principal).await?;
    Ok(TokensPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Tokens, &me.principal),
        tokens: tokens.iter().map(|t| TokenRow::new(me.tr, t)).collect(),
        created,
        name,
        errors,
    })
}

pub async fn list(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    render(StatusCode::OK, &page(&state, &me, None, String::new(), FormErrors::default()).await?)
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
}

/// Answers with the page itself (not a redirect): the token is shown this once and never again.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, AppError> {
    let p = &me.principal;
    match state.auth.create_api_token(p.tenant_id, p.user_id, &form.name, &p.actor()).await {
        Ok(token) => render(
            StatusCode::CREATED,
            &page(&state, &me, Some(token.token), String::new(), FormErrors::default()).await?,
        ),
        Err(e) => {
            let errors = form_errors(me.tr, e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &me, None, form.name, errors).await?)
        }
    }
}

pub async fn revoke(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.auth.revoke_api_token(&me.principal, id).await?;
    Ok(flash::redirect("/crm/settings/tokens", Flash::success("flash.token_revoked")))
}
