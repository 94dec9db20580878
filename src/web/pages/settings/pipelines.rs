//! Settings → Pipelines (admins): make, rename and delete pipelines; add, edit, order and
//! delete their stages. Each form posts and comes back to the page; a refused one shows what
//! was typed, with the reason beside its field.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::pipeline::{PipelineId, PipelineInput, StageId, StageInput};
use crate::services::ServiceError;
use crate::services::pipelines::Shift;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::Area;
use crate::web::views::pipelines::{Failed, PipelineView, PipelinesPage};
use crate::web::views::settings::{SettingsTab, tabs};

const HERE: &str = "/crm/settings/pipelines";

type Fields = HashMap<String, String>;

async fn page(state: &AppState, me: &CurrentUser, failed: Option<Failed>) -> Result<PipelinesPage, AppError> {
    let pipelines = state.pipelines.to_manage(&me.principal).await?;
    Ok(PipelinesPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Pipelines, &me.principal),
        pipelines: PipelineView::of(pipelines),
        failed,
    })
}

pub async fn show(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    render(StatusCode::OK, &page(&state, &me, None).await?)
}

/// Back to the page with `flash` after a change (at the pipeline changed), or the page again
/// with form `form`'s fields as typed and each refused one's reason.
async fn done<T>(
    state: &AppState,
    me: &CurrentUser,
    result: Result<T, ServiceError>,
    form: String,
    typed: Fields,
    flash: &'static str,
    anchor: Option<i64>,
) -> Result<Response, AppError> {
    let errors = match result {
        Ok(_) => {
            let to = anchor.map_or(HERE.to_owned(), |id| format!("{HERE}#pipeline-{id}"));
            return Ok(flash::redirect(&to, Flash::success(flash)));
        }
        Err(e) => form_errors(me.tr, e)?,
    };
    let failed = Failed { form, typed, errors };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page(state, me, Some(failed)).await?)
}

fn stage_input(f: &Fields) -> StageInput {
    let get = |k: &str| f.get(k).cloned();
    StageInput {
        name: get("name"),
        kind: get("kind"),
        probability: get("probability").map(serde_json::Value::String),
        color: get("color"),
    }
}

/// A new pipeline with the stages most sales start with, named in the admin's language.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let stage = |key: &'static str, kind: &str| StageInput {
        name: Some(me.tr.t(key).to_owned()),
        kind: Some(kind.to_owned()),
        ..Default::default()
    };
    let input = PipelineInput {
        name: f.get("name").cloned(),
        stages: Some(vec![
            stage("pipelines.first_stage", "open"),
            stage("pipelines.kind.won", "won"),
            stage("pipelines.kind.lost", "lost"),
        ]),
    };
    let result = state.pipelines.create(&me.principal, &input).await;
    let anchor = result.as_ref().ok().map(|p| p.id.0);
    done(&state, &me, result, "new".into(), f, "flash.pipeline_created", anchor).await
}

pub async fn rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let input = PipelineInput { name: Some(f.get("name").cloned().unwrap_or_default()), stages: None };
    let result = state.pipelines.rename(&me.principal, PipelineId(id), &input).await;
    done(&state, &me, result, format!("pipeline-{id}"), f, "flash.pipeline_saved", Some(id)).await
}

pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let result = state.pipelines.delete(&me.principal, PipelineId(id)).await;
    done(&state, &me, result, format!("pipeline-{id}"), Fields::new(), "flash.pipeline_deleted", None).await
}

pub async fn add_stage(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let result = state.pipelines.add_stage(&me.principal, PipelineId(id), &stage_input(&f)).await;
    done(&state, &me, result, format!("add-{id}"), f, "flash.stage_added", Some(id)).await
}

pub async fn update_stage(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, stage)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let result = state.pipelines.update_stage(&me.principal, PipelineId(id), StageId(stage), &stage_input(&f)).await;
    done(&state, &me, result, format!("stage-{stage}"), f, "flash.stage_saved", Some(id)).await
}

pub async fn delete_stage(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, stage)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let result = state.pipelines.delete_stage(&me.principal, PipelineId(id), StageId(stage), None).await;
    // A refusal here is about the pipeline as a whole (its last open stage).
    done(&state, &me, result, format!("pipeline-{id}"), Fields::new(), "flash.stage_deleted", Some(id)).await
}

async fn shift(state: AppState, me: CurrentUser, id: i64, stage: i64, to: Shift) -> Result<Response, AppError> {
    let result = state.pipelines.shift_stage(&me.principal, PipelineId(id), StageId(stage), to).await;
    done(&state, &me, result, format!("pipeline-{id}"), Fields::new(), "flash.stages_ordered", Some(id)).await
}

pub async fn earlier(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, stage)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    shift(state, me, id, stage, Shift::Earlier).await
}

pub async fn later(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, stage)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    shift(state, me, id, stage, Shift::Later).await
}
