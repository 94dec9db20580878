//! Deals: the board of a pipeline (filters in the address), a column's next cards, moves
//! (dragged, or chosen from a card's "Move to" menu, which works without JavaScript too),
//! the deal form and a deal's page. What a reader may see and change is the service's say.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::bulk::BulkEntity;
use crate::domain::custom_field::FieldEntity;
use crate::domain::deal::{Cursor, DealFilter, DealId, DealInput, DealSort};
use crate::domain::pipeline::{Pipeline, PipelineId, StageId};
use crate::domain::{ClientId, Permission};
use crate::services::ServiceError;
use crate::services::deals::MoveTo;
use crate::services::tags::may_touch_locked;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::custom_values::{self, Reopened};
use crate::web::pages::{form_errors, is_htmx, render, ticked_tags};
use crate::web::views::Area;
use crate::web::views::custom_fields::ListColumns;
use crate::web::views::deals::{
    BoardPage, BoardPart, BoardView, CardView, CardsPart, DealForm, DealListPage, DealPage, DealView, ListFilters,
    ListRow, MoveView, NewDealPage, PipelineChoice, stage_options,
};
use crate::web::views::tags::{self, TagChip};

type Fields = HashMap<String, String>;

/// The pipeline an address names, or the tenant's first.
async fn pipeline_of(
    state: &AppState,
    me: &CurrentUser,
    raw: Option<&String>,
) -> Result<(Pipeline, Vec<Pipeline>), AppError> {
    let all = state.pipelines.list(&me.principal).await?;
    let wanted = raw.and_then(|r| r.trim().parse::<i64>().ok()).map(PipelineId);
    let chosen = match wanted {
        Some(id) => all.iter().find(|p| p.id == id).cloned().ok_or(AppError::NotFound)?,
        None => all.first().cloned().ok_or(AppError::NotFound)?,
    };
    Ok((chosen, all))
}

fn choices(all: &[Pipeline], chosen: PipelineId) -> Vec<PipelineChoice> {
    all.iter().map(|p| PipelineChoice { id: p.id.0, name: p.name.clone(), selected: p.id == chosen }).collect()
}

/// Who deals may belong to, as menus offer them.
async fn owners(state: &AppState, me: &CurrentUser) -> Result<Vec<(i64, String)>, AppError> {
    Ok(state.deals.owners(&me.principal).await?.into_iter().map(|(id, name)| (id.0, name)).collect())
}

/// The filters of an address, or every bad one named.
fn filter_of(q: &Fields) -> Result<DealFilter, AppError> {
    DealFilter::parse(q).map_err(AppError::Invalid)
}

async fn board_view(
    state: &AppState,
    me: &CurrentUser,
    pipeline: PipelineId,
    filter: &DealFilter,
) -> Result<BoardView, AppError> {
    let board = state.deals.board(&me.principal, pipeline, filter).await?;
    let base = state.settings.get(&me.principal).await?.base_currency;
    Ok(BoardView::new(
        me.tr,
        &board.pipeline,
        board.columns,
        filter,
        base.as_str(),
        me.principal.can(Permission::DealWrite),
    ))
}

/// GET /crm/deals: the board.
pub async fn board(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let (pipeline, all) = pipeline_of(&state, &me, q.get("pipeline")).await?;
    let filter = filter_of(&q)?;
    let board = board_view(&state, &me, pipeline.id, &filter).await?;
    let owners = owners(&state, &me).await?;
    let tags = TagChip::of(&state.tags.list(&me.principal).await?);
    render(
        StatusCode::OK,
        &BoardPage {
            shell: me.shell(Area::Deals),
            pipelines: choices(&all, pipeline.id),
            board,
            owners,
            tags,
            owner: filter.owner_id.map(|o| o.0),
            q: filter.q.clone().unwrap_or_default(),
        },
    )
}

/// GET /crm/deals/board: the board alone, for a live change to fetch.
pub async fn board_part(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let (pipeline, _) = pipeline_of(&state, &me, q.get("pipeline")).await?;
    let filter = filter_of(&q)?;
    part(&state, &me, pipeline.id, &filter).await
}

async fn part(
    state: &AppState,
    me: &CurrentUser,
    pipeline: PipelineId,
    filter: &DealFilter,
) -> Result<Response, AppError> {
    let board = board_view(state, me, pipeline, filter).await?;
    render(StatusCode::OK, &BoardPart { tr: me.tr, csrf: me.csrf.clone(), board })
}

/// GET /crm/deals/columns/{stage}: a column's next cards after `cursor`.
pub async fn more(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(stage): Path<i64>,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let (pipeline, _) = pipeline_of(&state, &me, q.get("pipeline")).await?;
    let filter = filter_of(&q)?;
    let cursor = Cursor::parse(q.get("cursor").map_or("", String::as_str)).map_err(|e| AppError::Invalid(vec![e]))?;
    let (deals, next) = state.deals.column(&me.principal, pipeline.id, StageId(stage), cursor, &filter).await?;
    let board = BoardView::new(me.tr, &pipeline, Vec::new(), &filter, "", me.principal.can(Permission::DealWrite));
    let more = next.map(|c| crate::web::views::deals::more_url(pipeline.id.0, stage, &c.as_string(), &board.filters));
    let cards = deals.iter().map(|d| CardView::new(me.tr, d)).collect();
    render(StatusCode::OK, &CardsPart { tr: me.tr, csrf: me.csrf.clone(), cards, more, board })
}

/// POST /crm/deals/{id}/move: from a drag (htmx; answers the board) or a "Move to" form
/// (answers with the page it came from).
pub async fn move_deal(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let stage = f.get("stage_id").and_then(|s| s.trim().parse::<i64>().ok());
    let before = f.get("before_deal_id").and_then(|s| s.trim().parse::<i64>().ok());
    let Some(stage) = stage else {
        return Err(AppError::Invalid(vec![crate::domain::DomainError::new("stage_id", "required")]));
    };
    let to = MoveTo {
        stage_id: StageId(stage),
        before: before.map(DealId),
        lost_reason: f.get("lost_reason").cloned().filter(|r| !r.trim().is_empty()),
    };
    // The filters of the board it was moved on, sent along with the move.
    let filter = DealFilter::parse(&f).unwrap_or_default();
    let moved = state.deals.move_to(&me.principal, DealId(id), &to).await;
    if is_htmx(&headers) {
        // Refused or not, the board comes back as it now is: a refused card goes back.
        let pipeline = match &moved {
            Ok(deal) => deal.pipeline_id,
            Err(_) => pipeline_of(&state, &me, f.get("pipeline")).await?.0.id,
        };
        if let Err(e) = &moved {
            tracing::info!(deal = id, error = %e, "a move from the board was refused");
        }
        return part(&state, &me, pipeline, &filter).await;
    }
    let deal = moved?;
    let back = match f.get("back").map(String::as_str) {
        Some("deal") => format!("/crm/deals/{id}"),
        _ => {
            let q = crate::web::views::deals::filter_query(&filter);
            format!("/crm/deals?pipeline={}{}{q}#deal-{id}", deal.pipeline_id.0, if q.is_empty() { "" } else { "&" })
        }
    };
    Ok(Redirect::to(&back).into_response())
}

/// Rows a page of the deal list shows.
const LIST_PAGE: i64 = 50;

/// The list's pipeline (none: every pipeline), or every bad filter named.
fn list_pipeline(q: &Fields) -> Result<Option<PipelineId>, AppError> {
    match q.get("pipeline").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(|p| Some(PipelineId(p)))
            .map_err(|_| AppError::Invalid(vec![crate::domain::DomainError::new("pipeline", "invalid_id")])),
    }
}

/// GET /crm/deals/list: deals in a table, filtered, sorted and paged; the same filters export.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let pipeline = list_pipeline(&q)?;
    let filter = filter_of(&q)?;
    let sort = DealSort::parse(q.get("sort").map(String::as_str)).map_err(|e| AppError::Invalid(vec![e]))?;
    let page = q.get("page").and_then(|p| p.parse::<i64>().ok()).filter(|p| (1..=200).contains(p)).unwrap_or(1);
    let found = state.deals.list(&me.principal, pipeline, &filter, sort, LIST_PAGE, (page - 1) * LIST_PAGE).await?;
    let all = state.pipelines.list(&me.principal).await?;
    let owners = owners(&state, &me).await?;
    let filters = ListFilters {
        pipeline: pipeline.map(|p| p.0),
        q: filter.q.clone().unwrap_or_default(),
        owner_id: filter.owner_id.map(|o| o.0),
        tag_id: filter.tag_id.map(|t| t.0),
        status: filter.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        sort: q.get("sort").cloned().unwrap_or_default(),
        cols: ListColumns::asked(&pairs),
    };
    let fields = state.custom_fields.list(&me.principal, FieldEntity::Deal).await?;
    let columns = ListColumns::new(fields, &filters.cols);
    let bulk = crate::web::pages::bulk::choices(&state, &me, BulkEntity::Deals, filters.query()).await?;
    let views = crate::web::pages::saved_views::bar(&state, &me, BulkEntity::Deals, filters.query()).await?;
    render(
        StatusCode::OK,
        &DealListPage {
            shell: me.shell(Area::Deals),
            pipelines: all
                .iter()
                .map(|p| PipelineChoice { id: p.id.0, name: p.name.clone(), selected: Some(p.id) == pipeline })
                .collect(),
            owners,
            tags: TagChip::of(&state.tags.list(&me.principal).await?),
            rows: found
                .deals
                .iter()
                .map(|d| ListRow { custom: columns.values(me.tr, &d.custom), ..ListRow::new(me.tr, d) })
                .collect(),
            columns,
            total: found.total,
            exact: found.exact,
            page,
            pages: ((found.total + LIST_PAGE - 1) / LIST_PAGE).clamp(1, 200),
            filters,
            bulk,
            views,
        },
    )
}

/// GET /crm/deals/export.csv: every deal the list's filters let through.
pub async fn export_csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let pipeline = list_pipeline(&q)?;
    let filter = filter_of(&q)?;
    let csv = state.deals.export_csv(&me.principal, pipeline, &filter).await?;
    let filename = format!("deals-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    // A byte-order mark first, so that Excel reads UTF-8 (Cyrillic titles) as UTF-8.
    Ok(crate::web::download::csv(&filename, format!("\u{feff}{csv}")))
}

fn input_of(f: &Fields) -> DealInput {
    let mut input = DealInput::default();
    for field in DealInput::FIELDS {
        if let Some(v) = f.get(field) {
            *input.field_mut(field).expect("a field of DealInput") = Some(v.clone());
        }
    }
    input
}

/// The deal form's choices, with `values` in it and `errors` beside its fields.
async fn form(
    state: &AppState,
    me: &CurrentUser,
    values: Fields,
    errors: crate::web::views::FormErrors,
) -> Result<DealForm, AppError> {
    let (pipeline, all) = pipeline_of(state, me, values.get("pipeline_id")).await?;
    let (base, rates) = state.settings.rates(&me.principal).await?;
    let mut currencies = vec![base.as_str().to_owned()];
    currencies.extend(rates.iter().map(|(c, _)| c.as_str().to_owned()));
    let client_name = match values.get("client_id").and_then(|c| c.trim().parse::<i64>().ok()) {
        Some(c) => state.clients.get(&me.principal, ClientId(c)).await.ok().map(|(c, _)| c.full_name()),
        None => None,
    };
    let company_id = values.get("company_id").map_or("", String::as_str);
    let company = super::companies::picker(state, me, ("", true), company_id, errors.get("company_id")).await?;
    Ok(DealForm {
        values,
        errors,
        client_name,
        company,
        currencies,
        owners: owners(state, me).await?,
        stages: stage_options(&pipeline),
        pipelines: choices(&all, pipeline.id),
    })
}

/// GET /crm/deals/new?pipeline=&client=&company=: the form, owned by its maker, in the
/// pipeline's first open stage, for the client or company it was started from.
pub async fn new(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    state.deals.may_write(&me.principal)?;
    let (pipeline, _) = pipeline_of(&state, &me, q.get("pipeline")).await?;
    let mut values = Fields::new();
    values.insert("pipeline_id".into(), pipeline.id.0.to_string());
    if let Some(s) = pipeline.first_open_stage() {
        values.insert("stage_id".into(), s.id.0.to_string());
    }
    values.insert("owner_id".into(), me.principal.user_id.0.to_string());
    if let Some(c) = q.get("client") {
        values.insert("client_id".into(), c.clone());
    }
    if let Some(c) = q.get("company") {
        values.insert("company_id".into(), c.clone());
    }
    let form = form(&state, &me, values, Default::default()).await?;
    let custom = custom_values::new_inputs(&state, &me, FieldEntity::Deal, None).await?;
    render(StatusCode::OK, &NewDealPage { shell: me.shell(Area::Deals), form, custom })
}

/// POST /crm/deals: a new deal, then its page; refused, the form again with what was typed.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(sent): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (f, values, typed) = custom_values::new_record(&state, &me, FieldEntity::Deal, &sent).await?;
    let input = DealInput { custom: Some(values), ..input_of(&f) };
    match state.deals.create(&me.principal, &input).await {
        Ok(d) => Ok(flash::redirect(&format!("/crm/deals/{}", d.id.0), Flash::success("flash.deal_created"))),
        Err(e) => {
            let refused = custom_values::refused(&me, typed, &e);
            let errors = form_errors(me.tr, e)?;
            let form = form(&state, &me, f, errors).await?;
            let custom = custom_values::new_inputs(&state, &me, FieldEntity::Deal, Some(refused)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &NewDealPage { shell: me.shell(Area::Deals), form, custom })
        }
    }
}

async fn deal_page(state: &AppState, me: &CurrentUser, id: DealId, mut open: Reopened) -> Result<DealPage, AppError> {
    let deal = state.deals.get(&me.principal, id).await?;
    let history = state.deals.history(&me.principal, id).await?;
    let base = state.settings.get(&me.principal).await?.base_currency;
    let all_tags = state.tags.list(&me.principal).await?;
    let can_write = me.principal.can(Permission::DealWrite);
    let action = (FieldEntity::Deal, format!("/crm/deals/{}/custom", id.0));
    let custom = custom_values::panel(state, me, action, &deal.custom, can_write, open.custom()).await?;
    let (values, errors, tag_error) = match open {
        Reopened::Form(values, errors) => (values, errors, None),
        Reopened::Tags(e) => (DealForm::of(&deal), Default::default(), Some(e)),
        _ => (DealForm::of(&deal), Default::default(), None),
    };
    Ok(DealPage {
        custom,
        shell: me.shell(Area::Deals),
        tag_choices: tags::choices(&all_tags, &deal.tags, may_touch_locked(&me.principal)),
        tag_error,
        deal: DealView::new(me.tr, &deal, base.as_str()),
        history: history.iter().map(|m| MoveView::new(me.tr, m)).collect(),
        form: form(state, me, values, errors).await?,
        can_write,
    })
}

/// GET /crm/deals/{id} (`?edit=custom` opens the values form).
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    render(StatusCode::OK, &deal_page(&state, &me, DealId(id), Reopened::asked(q.get("edit"))).await?)
}

/// POST /crm/deals/{id}/custom: the deal's custom values, as the panel's form sent them;
/// refused, the page again with each reason beside its field.
pub async fn set_custom(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (values, typed) = custom_values::sent(&state, &me, FieldEntity::Deal, &f).await?;
    let input = DealInput { custom: Some(values), ..DealInput::default() };
    match state.deals.update(&me.principal, DealId(id), &input).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/deals/{id}#custom-values"), Flash::success("flash.values_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let open = Reopened::Custom(Some((typed, custom_values::reasons(&me, &errors))));
            render(StatusCode::UNPROCESSABLE_ENTITY, &deal_page(&state, &me, DealId(id), open).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/deals/{id}: the edit form.
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    match state.deals.update(&me.principal, DealId(id), &input_of(&f)).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/deals/{id}"), Flash::success("flash.deal_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let errors = form_errors(me.tr, ServiceError::Invalid(errors))?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &deal_page(&state, &me, DealId(id), Reopened::Form(f, errors)).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/deals/{id}/tags: the tags the deal carries, as ticked (`tag_id`, once each);
/// refused, the page again with the reason beside the tags.
pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = DealInput { tag_ids: Some(ticked_tags(&f)), ..DealInput::default() };
    match state.deals.update(&me.principal, DealId(id), &input).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/deals/{id}#deal-tags"), Flash::success("flash.tags_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let errors = form_errors(me.tr, ServiceError::Invalid(errors))?;
            let reason = errors.get("tag_ids").unwrap_or_else(|| me.tr.error("invalid_value"));
            let page = deal_page(&state, &me, DealId(id), Reopened::Tags(reason)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/deals/{id}/delete.
pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let deal = state.deals.get(&me.principal, DealId(id)).await?;
    state.deals.delete(&me.principal, DealId(id)).await?;
    Ok(flash::redirect(&format!("/crm/deals?pipeline={}", deal.pipeline_id.0), Flash::success("flash.deal_deleted")))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/crm/deals", get(board).post(create))
        .route("/crm/deals/board", get(board_part))
        .route("/crm/deals/new", get(new))
        .route("/crm/deals/list", get(list))
        .route("/crm/deals/export.csv", get(export_csv))
        .route("/crm/deals/columns/{stage}", get(more))
        .route("/crm/deals/{id}", get(show).post(update))
        .route("/crm/deals/{id}/move", post(move_deal))
        .route("/crm/deals/{id}/tags", post(set_tags))
        .route("/crm/deals/{id}/custom", post(set_custom))
        .route("/crm/deals/{id}/delete", post(delete))
}
