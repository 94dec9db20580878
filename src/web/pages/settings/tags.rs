//! Settings → Tags (admins): make, rename, recolour, lock and delete the tenant's tags, each
//! with what carries it. Each form posts and comes back to the page; a refused one shows what
//! was typed, with the reason beside its field.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::tag::{TagId, TagInput};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::Area;
use crate::web::views::settings::{SettingsTab, tabs};
use crate::web::views::tags::{Failed, TagsPage};

const HERE: &str = "/crm/settings/tags";

type Fields = HashMap<String, String>;

async fn page(state: &AppState, me: &CurrentUser, failed: Option<Failed>) -> Result<TagsPage, AppError> {
    let usage = state.tags.usage(&me.principal).await?;
    Ok(TagsPage::new(me.shell(Area::Settings), tabs(SettingsTab::Tags, &me.principal), usage, failed))
}

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    render(StatusCode::OK, &page(&state, &me, None).await?)
}

/// A tag's form as sent: an unticked "locked" box is not sent at all, and means unlocked.
fn input(f: &Fields) -> TagInput {
    TagInput { name: f.get("name").cloned(), color: f.get("color").cloned(), locked: Some(f.contains_key("locked")) }
}

/// Back to the page with `flash` after a change, or the page again with form `form` as typed
/// and each refused field's reason.
async fn done<T>(
    state: &AppState,
    me: &CurrentUser,
    result: Result<T, ServiceError>,
    form: String,
    typed: Fields,
    flash: &'static str,
) -> Result<Response, AppError> {
    let errors = match result {
        Ok(_) => return Ok(flash::redirect(HERE, Flash::success(flash))),
        Err(e) => form_errors(me.tr, e)?,
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page(state, me, Some(Failed { form, typed, errors })).await?)
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let result = state.tags.create(&me.principal, &input(&f)).await;
    done(&state, &me, result, "new".into(), f, "flash.tag_created").await
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let result = state.tags.update(&me.principal, TagId(id), &input(&f)).await;
    done(&state, &me, result, format!("tag-{id}"), f, "flash.tag_saved").await
}

pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.tags.delete(&me.principal, TagId(id)).await?;
    Ok(flash::redirect(HERE, Flash::success("flash.tag_deleted")))
}
