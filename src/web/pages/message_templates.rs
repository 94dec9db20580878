//! Message templates at /crm/instant-messages (the seed's route): everyone who may use them
//! sees the list; admins (TemplateManage) create, edit and delete.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::Permission;
use crate::domain::message_template::TemplateInput;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::message_templates::{TemplateFormPage, TemplateRow, TemplatesPage};
use crate::web::views::{Area, FormErrors};

use super::{form_errors, render};

#[derive(Deserialize, Default)]
pub struct TemplateListQuery {
    #[serde(default)]
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<TemplateListQuery>,
) -> Result<Response, AppError> {
    let rows = state.message_templates.list(&me.principal, Some(&q.q)).await?;
    let page = TemplatesPage {
        shell: me.shell(Area::Templates),
        q: q.q,
        rows: rows.iter().map(|t| TemplateRow::new(me.tr, t)).collect(),
        can_manage: me.principal.can(Permission::TemplateManage),
    };
    render(StatusCode::OK, &page)
}

fn form_page(me: &CurrentUser, id: Option<i64>, input: TemplateInput, errors: FormErrors) -> TemplateFormPage {
    TemplateFormPage { shell: me.shell(Area::Templates), id, input, errors }
}

pub async fn new(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.message_templates.authorize_manage(&me.principal)?;
    render(StatusCode::OK, &form_page(&me, None, TemplateInput::default(), FormErrors::default()))
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(input): Form<TemplateInput>,
) -> Result<Response, AppError> {
    match state.message_templates.create(&me.principal, &input).await {
        Ok(_) => Ok(flash::redirect("/crm/instant-messages", Flash::success("flash.template_created"))),
        Err(errors) => {
            let errors = form_errors(me.tr, errors)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&me, None, input, errors))
        }
    }
}

pub async fn edit(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.message_templates.authorize_manage(&me.principal)?;
    let t = state.message_templates.get(&me.principal, id).await?;
    let input = TemplateInput::from(&t.fields);
    render(StatusCode::OK, &form_page(&me, Some(id), input, FormErrors::default()))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<TemplateInput>,
) -> Result<Response, AppError> {
    match state.message_templates.update(&me.principal, id, &input).await {
        Ok(_) => Ok(flash::redirect("/crm/instant-messages", Flash::success("flash.template_saved"))),
        Err(errors) => {
            let errors = form_errors(me.tr, errors)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&me, Some(id), input, errors))
        }
    }
}

pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.message_templates.delete(&me.principal, id).await?;
    Ok(flash::redirect("/crm/instant-messages", Flash::success("flash.template_deleted")))
}

/// The message templates' pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/instant-messages", get(list).post(create))
        .route("/crm/instant-messages/new", get(new))
        .route("/crm/instant-messages/{id}", post(update))
        .route("/crm/instant-messages/{id}/edit", get(edit))
        .route("/crm/instant-messages/{id}/delete", post(delete))
}
