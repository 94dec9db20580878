//! Bulk actions from a list: the bar's choices, `POST /crm/bulk` (the rows ticked, or every
//! match of the list's filter), and a job's page with its progress and file.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use crate::domain::DomainError;
use crate::domain::bulk::{BulkAction, BulkEntity, JobId};
use crate::services::ServiceError;
use crate::services::bulk::Targets;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::render;
use crate::web::views::Area;
use crate::web::views::bulk::{BulkChoices, JobPage, list_path};

/// The bulk bar of a list of `entity` whose filter is `filter` (its query string), when `me`
/// may run bulk actions: each action offered only to whoever may do it.
pub async fn choices(
    state: &AppState,
    me: &CurrentUser,
    entity: BulkEntity,
    filter: String,
) -> Result<Option<BulkChoices>, AppError> {
    let by = &me.principal;
    if !state.bulk.may_run(by) {
        return Ok(None);
    }
    let may = |action: BulkAction| state.bulk.may(by, entity, &action);
    let can_update = may(BulkAction::SetOwner { owner_id: None });
    let tags = if can_update {
        let may_locked = crate::services::tags::may_touch_locked(by);
        state.tags.list(by).await?.into_iter().filter(|t| may_locked || !t.locked).map(|t| (t.id.0, t.name)).collect()
    } else {
        Vec::new()
    };
    let owners = if can_update {
        state.companies.owners(by).await?.into_iter().map(|(id, name)| (id.0, name)).collect()
    } else {
        Vec::new()
    };
    let stages = if entity == BulkEntity::Deals && can_update {
        let pipelines = state.pipelines.list(by).await?;
        let many = pipelines.len() > 1;
        pipelines
            .iter()
            .flat_map(|p| {
                p.stages
                    .iter()
                    .map(move |s| (s.id.0, if many { format!("{} · {}", p.name, s.name) } else { s.name.clone() }))
            })
            .collect()
    } else {
        Vec::new()
    };
    let send = BulkAction::SendTemplate { template_id: 0, transport: None };
    let (templates, transports) = if entity != BulkEntity::Companies && may(send) {
        let templates = state.message_templates.list(by, None).await?;
        let transports = state.chats.transports(by.tenant_id).await?;
        (
            templates
                .iter()
                .map(|t| {
                    (
                        t.id,
                        t.label()
                            .map_or_else(|| crate::domain::activity::excerpt(t.fields.body.as_str()), str::to_owned),
                    )
                })
                .collect(),
            transports
                .into_iter()
                .filter(|t| t.reaches().is_some())
                .map(|t| (t.as_str(), crate::web::views::chats::transport_key(t)))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Some(BulkChoices {
        tags,
        owners,
        templates,
        transports,
        stages,
        can_delete: may(BulkAction::Delete),
        can_export: entity == BulkEntity::Clients && may(BulkAction::Export),
        filter,
        csrf: me.csrf.clone(),
    }))
}

/// Where a list of `entity` filtered by `filter` is.
fn list_url(entity: BulkEntity, filter: &str) -> String {
    let base = list_path(entity);
    if filter.is_empty() { base.to_owned() } else { format!("{base}?{filter}") }
}

/// The flash that says why a bulk action was refused.
fn refusal(error: &ServiceError) -> &'static str {
    let code = match error {
        ServiceError::Invalid(errors) => errors.first().map_or("", |e| e.code),
        _ => "",
    };
    match code {
        "no_targets" => "flash.bulk_none_chosen",
        "too_many_targets" => "flash.bulk_too_many",
        "locked_tag" => "flash.bulk_locked_tag",
        _ => "flash.bulk_refused",
    }
}

/// POST /crm/bulk: `entity`, `action`, `tag_id` / `owner_id`, the `ids` ticked or `all` with
/// the list's `filter`.
async fn start(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let one = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let entity = BulkEntity::parse(&one("entity"))?;
    let filter = one("filter");
    let back = list_url(entity, &filter);
    let params = json!({
        "tag_ids": [one("tag_id")],
        "owner_id": Some(one("owner_id")).filter(|o| !o.is_empty()),
        "stage_id": one("stage_id"),
        "template_id": one("template_id"),
        "transport": one("transport"),
    });
    let action = match BulkAction::parse(entity, &one("action"), &params) {
        Ok(a) => a,
        Err(_) => return Ok(flash::redirect(&back, Flash::error("flash.bulk_choose_action"))),
    };
    let targets = if one("all") == "1" {
        // The list pages' addresses name the client dates `from` and `to` and the deal
        // pipeline `pipeline`; the API's filters, `created_*` and `pipeline_id`.
        let params: HashMap<String, String> = form_urlencoded::parse(filter.as_bytes())
            .map(|(k, v)| {
                let k = match k.as_ref() {
                    "from" => "created_from".to_owned(),
                    "to" => "created_to".to_owned(),
                    "pipeline" => "pipeline_id".to_owned(),
                    other => other.to_owned(),
                };
                (k, v.into_owned())
            })
            .collect();
        crate::web::list_query::matching(&state, &me.principal, entity, &params).await?
    } else {
        let ids = f
            .iter()
            .filter(|(k, _)| k == "ids")
            .map(|(_, v)| v.parse::<i64>().map_err(|_| DomainError::new("ids", "invalid_id")))
            .collect::<Result<Vec<_>, _>>()?;
        Targets::Ids(ids)
    };
    match state.bulk.start(&me.principal, entity, targets, action).await {
        Ok(job) => Ok(flash::redirect(
            &format!("/crm/jobs/{}?back={}", job.id.0, crate::web::error::urlencode(&back)),
            Flash::success("flash.bulk_started"),
        )),
        Err(e @ ServiceError::Invalid(_)) => Ok(flash::redirect(&back, Flash::error(refusal(&e)))),
        Err(e) => Err(e.into()),
    }
}

/// GET /crm/jobs/{id}: progress (the panel fetches itself each second until the job ends).
async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let job = state.bulk.get(&me.principal, JobId(id)).await?;
    let back = q.get("back").filter(|b| b.starts_with("/crm/") && !b.starts_with("//")).cloned();
    let back = back.unwrap_or_else(|| list_path(job.entity).to_owned());
    render(StatusCode::OK, &JobPage { shell: me.shell(Area::Clients), job, back })
}

/// GET /crm/jobs/{id}/result: an export's CSV.
async fn result(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (name, bytes) = state.bulk.result(&me.principal, JobId(id)).await?;
    Ok(crate::web::download::csv(&name, bytes))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/bulk", post(start))
        .route("/crm/jobs/{id}", get(show))
        .route("/crm/jobs/{id}/result", get(result))
}
