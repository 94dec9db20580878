//! Settings → Fields (admins): add, relabel, change, remove and bring back the custom fields
//! of clients, companies and deals. Each form posts and comes back to the page of its kind of
//! record; a refused one shows what was typed, with the reason beside its field.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::custom_field::{FieldEntity, FieldId, FieldInput};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::Area;
use crate::web::views::custom_fields::{FailedField, FieldsPage};
use crate::web::views::settings::{SettingsTab, tabs};

type Fields = HashMap<String, String>;

fn here(entity: FieldEntity) -> String {
    format!("/crm/settings/fields?entity={}", entity.as_str())
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    entity: FieldEntity,
    failed: Option<FailedField>,
) -> Result<FieldsPage, AppError> {
    let all = state.custom_fields.manage(&me.principal, entity).await?;
    Ok(FieldsPage::new(me.shell(Area::Settings), tabs(SettingsTab::Fields, &me.principal), entity, all, failed))
}

/// GET ?entity=client|company|deal (clients when absent or unknown).
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let entity = q.get("entity").and_then(|e| e.parse().ok()).unwrap_or(FieldEntity::Client);
    render(StatusCode::OK, &page(&state, &me, entity, None).await?)
}

/// A field's form as sent: options one per line; an unticked box is not sent, and means no.
fn input(f: &Fields) -> FieldInput {
    FieldInput {
        entity: f.get("entity").cloned(),
        key: f.get("key").cloned(),
        label: f.get("label").cloned(),
        kind: f.get("type").cloned(),
        options: f.get("options").map(|o| o.lines().map(str::to_owned).collect()),
        required: Some(f.contains_key("required")),
    }
}

/// Back to the page with `flash` after a change, or the page again with form `form` as typed.
async fn done<T>(
    state: &AppState,
    me: &CurrentUser,
    entity: FieldEntity,
    result: Result<T, ServiceError>,
    (form, typed): (String, Fields),
    flash: &'static str,
) -> Result<Response, AppError> {
    let errors = match result {
        Ok(_) => return Ok(flash::redirect(&here(entity), Flash::success(flash))),
        Err(e) => form_errors(me.tr, e)?,
    };
    let failed = FailedField { form, typed, errors };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page(state, me, entity, Some(failed)).await?)
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let entity = f.get("entity").and_then(|e| e.parse().ok()).unwrap_or(FieldEntity::Client);
    let result = state.custom_fields.create(&me.principal, &input(&f)).await;
    done(&state, &me, entity, result, ("new".into(), f), "flash.field_created").await
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let entity = state.custom_fields.get(&me.principal, FieldId(id)).await?.entity;
    let input = FieldInput { entity: None, key: None, kind: None, ..input(&f) };
    let result = state.custom_fields.update(&me.principal, FieldId(id), &input).await;
    done(&state, &me, entity, result, (format!("field-{id}"), f), "flash.field_saved").await
}

pub async fn remove(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let entity = state.custom_fields.get(&me.principal, FieldId(id)).await?.entity;
    state.custom_fields.remove(&me.principal, FieldId(id)).await?;
    Ok(flash::redirect(&here(entity), Flash::success("flash.field_removed")))
}

pub async fn restore(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let field = state.custom_fields.restore(&me.principal, FieldId(id)).await?;
    Ok(flash::redirect(&here(field.entity), Flash::success("flash.field_restored")))
}
