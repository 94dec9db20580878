//! Companies: the list (search, owner, order in the address), a company's page with its
//! people and deals, the new-company and edit forms, and the options a company picker asks
//! for as one types. What a reader may see and change is the service's say.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::Permission;
use crate::domain::bulk::BulkEntity;
use crate::domain::company::{Company, CompanyFilter, CompanyId, CompanyInput};
use crate::domain::custom_field::FieldEntity;
use crate::services::ServiceError;
use crate::services::tags::may_touch_locked;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::custom_values::{self, Reopened};
use crate::web::pages::{form_errors, render, ticked_tags};
use crate::web::views::companies::{
    CompanyForm, CompanyListPage, CompanyOptions, CompanyPage, CompanyPicker, CompanyRow, CompanyView, NewCompanyPage,
    PersonRow,
};
use crate::web::views::custom_fields::ListColumns;
use crate::web::views::deals::ListRow;
use crate::web::views::tags::{self, TagChip};
use crate::web::views::{Area, FormErrors};

type Fields = HashMap<String, String>;

/// Companies a list page shows.
const PAGE: i64 = 50;

/// Who companies may belong to, as menus offer them.
async fn owners(state: &AppState, me: &CurrentUser) -> Result<Vec<(i64, String)>, AppError> {
    Ok(state.companies.owners(&me.principal).await?.into_iter().map(|(id, name)| (id.0, name)).collect())
}

/// GET /crm/companies: the list, searched and filtered by its address.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let filter = CompanyFilter::parse(&q).map_err(AppError::Invalid)?;
    let page = q.get("page").and_then(|p| p.parse::<i64>().ok()).filter(|p| (1..=200).contains(p)).unwrap_or(1);
    let found = state.companies.list(&me.principal, &filter, PAGE, (page - 1) * PAGE).await?;
    let fields = state.custom_fields.list(&me.principal, FieldEntity::Company).await?;
    let columns = ListColumns::new(fields, &ListColumns::asked(&pairs));
    let row = |c: &Company| CompanyRow { custom: columns.values(me.tr, &c.custom), ..CompanyRow::from(c) };
    let mut list = CompanyListPage {
        shell: me.shell(Area::Companies),
        rows: found.companies.iter().map(row).collect(),
        q: filter.q.clone().unwrap_or_default(),
        owner_id: filter.owner_id.map(|o| o.0),
        owners: owners(&state, &me).await?,
        tags: TagChip::of(&state.tags.list(&me.principal).await?),
        tag_id: filter.tag_id.map(|t| t.0),
        sort: if filter.recent { "updated".into() } else { String::new() },
        total: found.total,
        exact: found.exact,
        page,
        pages: ((found.total + PAGE - 1) / PAGE).clamp(1, 200),
        can_create: state.companies.may_create(&me.principal).is_ok(),
        bulk: None,
        views: Default::default(),
        columns,
    };
    list.bulk = crate::web::pages::bulk::choices(&state, &me, BulkEntity::Companies, list.query()).await?;
    list.views = crate::web::pages::saved_views::bar(&state, &me, BulkEntity::Companies, list.query()).await?;
    render(StatusCode::OK, &list)
}

fn input_of(f: &Fields) -> CompanyInput {
    let mut input = CompanyInput::default();
    for field in CompanyInput::FIELDS {
        if let Some(v) = f.get(field) {
            *input.field_mut(field).expect("a field of CompanyInput") = Some(v.clone());
        }
    }
    input
}

async fn form(state: &AppState, me: &CurrentUser, values: Fields, errors: FormErrors) -> Result<CompanyForm, AppError> {
    Ok(CompanyForm { values, errors, owners: owners(state, me).await? })
}

/// GET /crm/companies/new: the form, owned by its maker.
pub async fn new(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.companies.may_create(&me.principal)?;
    let values = Fields::from([("owner_id".to_owned(), me.principal.user_id.0.to_string())]);
    let form = form(&state, &me, values, FormErrors::default()).await?;
    let custom = custom_values::new_inputs(&state, &me, FieldEntity::Company, None).await?;
    render(StatusCode::OK, &NewCompanyPage { shell: me.shell(Area::Companies), form, custom })
}

/// POST /crm/companies: a new company, then its page; refused, the form again as typed.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(sent): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (f, values, typed) = custom_values::new_record(&state, &me, FieldEntity::Company, &sent).await?;
    let input = CompanyInput { custom: Some(values), ..input_of(&f) };
    match state.companies.create(&me.principal, &input).await {
        Ok(c) => Ok(flash::redirect(&format!("/crm/companies/{}", c.id.0), Flash::success("flash.company_created"))),
        Err(e) => {
            let refused = custom_values::refused(&me, typed, &e);
            let errors = form_errors(me.tr, e)?;
            let form = form(&state, &me, f, errors).await?;
            let custom = custom_values::new_inputs(&state, &me, FieldEntity::Company, Some(refused)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &NewCompanyPage { shell: me.shell(Area::Companies), form, custom })
        }
    }
}

async fn company_page(
    state: &AppState,
    me: &CurrentUser,
    id: CompanyId,
    mut open: Reopened,
) -> Result<CompanyPage, AppError> {
    let view = state.companies.view(&me.principal, id).await?;
    let all_tags = state.tags.list(&me.principal).await?;
    let can = |p| me.principal.can(p);
    let action = (FieldEntity::Company, format!("/crm/companies/{id}/custom"));
    let custom =
        custom_values::panel(state, me, action, &view.company.custom, can(Permission::ClientUpdate), open.custom())
            .await?;
    let (values, errors, tag_error) = match open {
        Reopened::Form(values, errors) => (values, errors, None),
        Reopened::Tags(e) => (CompanyForm::of(&view.company), FormErrors::default(), Some(e)),
        _ => (CompanyForm::of(&view.company), FormErrors::default(), None),
    };
    Ok(CompanyPage {
        custom,
        shell: me.shell(Area::Companies),
        company: CompanyView::new(me.tr, &view.company),
        people: view.people.iter().map(PersonRow::from).collect(),
        deals: view.deals.iter().map(|d| ListRow::new(me.tr, d)).collect(),
        can_read_deals: can(Permission::DealRead),
        can_edit: can(Permission::ClientUpdate),
        can_delete: can(Permission::ClientDelete),
        can_add_deal: can(Permission::DealWrite),
        form: form(state, me, values, errors).await?,
        tag_choices: tags::choices(&all_tags, &view.company.tags, may_touch_locked(&me.principal)),
        tag_error,
    })
}

/// GET /crm/companies/{id} (`?edit=custom` opens the values form).
pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    render(StatusCode::OK, &company_page(&state, &me, CompanyId(id), Reopened::asked(q.get("edit"))).await?)
}

/// POST /crm/companies/{id}/custom: the company's custom values, as the panel's form sent
/// them; refused, the page again with each reason beside its field.
pub async fn set_custom(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (values, typed) = custom_values::sent(&state, &me, FieldEntity::Company, &f).await?;
    let input = CompanyInput { custom: Some(values), ..CompanyInput::default() };
    match state.companies.update(&me.principal, CompanyId(id), &input).await {
        Ok(_) => {
            Ok(flash::redirect(&format!("/crm/companies/{id}#custom-values"), Flash::success("flash.values_saved")))
        }
        Err(ServiceError::Invalid(errors)) => {
            let open = Reopened::Custom(Some((typed, custom_values::reasons(&me, &errors))));
            render(StatusCode::UNPROCESSABLE_ENTITY, &company_page(&state, &me, CompanyId(id), open).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/companies/{id}: the edit form.
pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    match state.companies.update(&me.principal, CompanyId(id), &input_of(&f)).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/companies/{id}"), Flash::success("flash.company_saved"))),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let errors = form_errors(me.tr, e)?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &company_page(&state, &me, CompanyId(id), Reopened::Form(f, errors)).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/companies/{id}/tags: the tags the company carries, as ticked; refused, the page
/// again with the reason beside the tags.
pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = CompanyInput { tag_ids: Some(ticked_tags(&f)), ..CompanyInput::default() };
    match state.companies.update(&me.principal, CompanyId(id), &input).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/companies/{id}#company-tags"), Flash::success("flash.tags_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let errors = form_errors(me.tr, ServiceError::Invalid(errors))?;
            let reason = errors.get("tag_ids").unwrap_or_else(|| me.tr.error("invalid_value"));
            let page = company_page(&state, &me, CompanyId(id), Reopened::Tags(reason)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/companies/{id}/delete.
pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.companies.delete(&me.principal, CompanyId(id)).await?;
    Ok(flash::redirect("/crm/companies", Flash::success("flash.company_deleted")))
}

/// Companies a picker offers at a time (typing finds others).
const OFFERED: i64 = 50;

/// A company picker for a form: the companies offered (none but the chosen one unless
/// `editing`), with `chosen` (an id as text) kept.
pub async fn picker(
    state: &AppState,
    me: &CurrentUser,
    (q, editing): (&str, bool),
    chosen: &str,
    error: Option<&'static str>,
) -> Result<CompanyPicker, AppError> {
    let id = chosen.trim().parse::<i64>().ok().map(CompanyId);
    let options = state.companies.options(&me.principal, q, id, if editing { OFFERED } else { 0 }).await?;
    Ok(CompanyPicker::new(chosen, options, error))
}

/// GET /crm/companies/options?company_q=&company_id=: a picker's options for what was typed.
pub async fn options(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    let typed: String = q.get("company_q").map_or("", String::as_str).chars().take(100).collect();
    let chosen = q.get("company_id").map_or("", String::as_str);
    let picker = picker(&state, &me, (&typed, true), chosen, None).await?;
    render(StatusCode::OK, &CompanyOptions { tr: me.tr, picker })
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/crm/companies", get(list).post(create))
        .route("/crm/companies/new", get(new))
        .route("/crm/companies/options", get(options))
        .route("/crm/companies/{id}", get(show).post(update))
        .route("/crm/companies/{id}/tags", post(set_tags))
        .route("/crm/companies/{id}/custom", post(set_custom))
        .route("/crm/companies/{id}/delete", post(delete))
}
