//! Client pages: the searchable list, the create form, and a client's tabs. Profile sections
//! edit in place with htmx, and the same URLs work as plain forms without JavaScript.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::domain::bulk::BulkEntity;
use crate::domain::custom_field::{CustomField, FieldEntity, FieldKind};
use crate::domain::tag::TagId;
use crate::domain::{
    ClientId, ClientInput, ClientQuery, ContactId, ContactType, DomainError, HomeCountry, Permission, parse_date,
    parse_id,
};
use crate::services::ServiceError;
use crate::services::tags::may_touch_locked;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::clients::{
    ArchivedPage, ArchivedRow, ClientPage, ClientResults, ClientRow, ClientTab, ClientsPage, ContactRow, CustomFilter,
    Duplicate, Field, InputKind, ListFilters, MergeCandidate, NewClientPage, Section, SectionView, Twin, contact_label,
};
use crate::web::views::custom_fields::ListColumns;
use crate::web::views::tags::{self, TagChip};
use crate::web::views::{Area, FormErrors};

use super::{custom_values, is_htmx, render, ticked_tags};

const PER_PAGE: i64 = 25;

/// The search a list URL asks for. A malformed date, or a value its custom field refuses, is
/// reported and left out of the filter.
async fn list_query(
    state: &AppState,
    me: &CurrentUser,
    filters: &ListFilters,
    (limit, offset): (i64, i64),
) -> Result<(ClientQuery, Vec<DomainError>), AppError> {
    let mut errors = Vec::new();
    let custom = match state.custom_fields.filter(&me.principal, FieldEntity::Client, &filters.custom).await {
        Ok(custom) => custom,
        Err(ServiceError::Invalid(refused)) => {
            errors.extend(refused);
            Default::default()
        }
        Err(e) => return Err(e.into()),
    };
    let mut date = |field, raw: &str| parse_date(field, raw).map_err(|e| errors.push(e)).ok().flatten();
    let query = ClientQuery {
        q: Some(filters.q.clone()).filter(|q| !q.trim().is_empty()),
        created_from: date("created_from", &filters.from),
        created_to: date("created_to", &filters.to),
        tag_id: parse_id("tag_id", &filters.tag_id).map_err(|e| errors.push(e)).ok().flatten().map(TagId),
        custom,
        sort: filters.sort.parse().unwrap_or_default(),
        limit,
        offset,
    };
    Ok((query, errors))
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(mut filters): Query<ListFilters>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    filters.take_custom(pairs);
    let page = filters.page.unwrap_or(1).max(1);
    let (query, date_errors) = list_query(&state, &me, &filters, (PER_PAGE, (page - 1) * PER_PAGE)).await?;
    let mut errors = FormErrors::default();
    for e in date_errors {
        errors.add(e.field, me.tr.error(e.code));
    }
    let result = state.clients.list(&me.principal, &query).await?;
    let fields = state.custom_fields.list(&me.principal, FieldEntity::Client).await?;
    let columns = ListColumns::new(fields.clone(), &filters.cols);
    let bulk = crate::web::pages::bulk::choices(&state, &me, BulkEntity::Clients, filters.query_string()).await?;
    let views = crate::web::pages::saved_views::bar(&state, &me, BulkEntity::Clients, filters.query_string()).await?;
    let results = ClientResults {
        tr: me.tr,
        has_next: result.total.has_next(page, PER_PAGE, result.items.len()),
        rows: result.items.iter().map(|(c, k)| ClientRow::new(me.tr, c, k, &columns)).collect(),
        columns,
        total: result.total.count(),
        total_exact: result.total.is_exact(),
        page,
        filters,
        errors,
        bulk,
        views,
    };
    // Typing in the search box replaces the results only.
    if headers.get("hx-target").is_some_and(|t| t == "client-results") {
        return render(StatusCode::OK, &results);
    }
    let page = ClientsPage {
        shell: me.shell(Area::Clients),
        results,
        can_create: me.principal.can(Permission::ClientCreate),
        can_see_archived: me.principal.can(Permission::ClientDelete),
        can_export: me.principal.can(Permission::ClientExport),
        tags: TagChip::of(&state.tags.list(&me.principal).await?),
        custom_filters: custom_filters(&me, fields),
    };
    render(StatusCode::OK, &page)
}

/// The client fields a list is filtered by from a menu: selects, multi-selects and yes/no.
fn custom_filters(me: &CurrentUser, fields: Vec<CustomField>) -> Vec<CustomFilter> {
    fields
        .into_iter()
        .filter_map(|f| {
            let choices = match f.kind {
                FieldKind::Select | FieldKind::MultiSelect => {
                    f.options.iter().map(|o| (o.clone(), o.clone())).collect()
                }
                FieldKind::Boolean => vec![
                    ("true".to_owned(), me.tr.t("common.yes").to_owned()),
                    ("false".to_owned(), me.tr.t("common.no").to_owned()),
                ],
                _ => return None,
            };
            Some(CustomFilter { key: f.key, label: f.label, choices })
        })
        .collect()
}

async fn new_page(
    state: &AppState,
    me: &CurrentUser,
    input: &ClientInput,
    errors: &FormErrors,
    duplicate: Option<Duplicate>,
    custom: Option<custom_values::Refused>,
) -> Result<NewClientPage, AppError> {
    let home = state.settings.get(&me.principal).await?.default_country;
    let mut sections = Vec::new();
    for s in Section::ALL {
        sections.push((s, with_choices(state, me, s.fields(input, errors, home), true).await?));
    }
    let custom = custom_values::new_inputs(state, me, FieldEntity::Client, custom).await?;
    Ok(NewClientPage { shell: me.shell(Area::Clients), sections, duplicate, custom })
}

pub async fn new(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.clients.authorize_create(&me.principal)?;
    // A new client is its maker's unless they choose another owner (or none).
    let input = ClientInput { owner_id: Some(me.principal.user_id.0.to_string()), ..ClientInput::default() };
    render(StatusCode::OK, &new_page(&state, &me, &input, &FormErrors::default(), None, None).await?)
}

/// POST /crm/clients: the new client's fields and custom values (`custom.KEY`), each refusal
/// shown beside its input.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut input = ClientInput::default();
    for (name, value) in &f {
        if let Some(slot) = input.field_mut(name) {
            *slot = Some(value.clone());
        }
    }
    let (values, typed) = custom_values::sent(&state, &me, FieldEntity::Client, &f).await?;
    input.custom = Some(values);
    match state.clients.create(&me.principal, &input, &[]).await {
        Ok(id) => Ok(flash::redirect(&format!("/crm/clients/{id}"), Flash::success("flash.client_created"))),
        Err(error) => {
            let refused = custom_values::refused(&me, typed, &error);
            let (errors, duplicate) = client_errors(&me, error)?;
            let page = new_page(&state, &me, &input, &errors, duplicate, Some(refused)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// Field errors beside their fields (`form_errors`); a duplicate phone or PIN also names its
/// holder, for a link.
fn client_errors(me: &CurrentUser, error: ServiceError) -> Result<(FormErrors, Option<Duplicate>), AppError> {
    let duplicate = match &error {
        ServiceError::Duplicate { field, existing, existing_name } => {
            Some(Duplicate { field, client_id: existing.0, client_name: existing_name.clone() })
        }
        _ => None,
    };
    Ok((super::form_errors(me.tr, error)?, duplicate))
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    tab: String,
    /// A section to show as a form (the no-JavaScript path to editing in place).
    #[serde(default)]
    edit: String,
    /// What the merge picker looks for (Actions tab).
    #[serde(default)]
    merge_q: String,
}

/// What a client page shows besides the client: an open section form, the add-contact form.
#[derive(Default)]
struct PageState {
    /// A section open as a form: with what was typed (`None`: the stored values), its errors
    /// and a duplicate to link.
    editing: Option<(Section, Option<ClientInput>, FormErrors, Option<Duplicate>)>,
    contact: Option<(String, String, FormErrors)>,
    /// A search for the client to merge into this one.
    merge_q: String,
    /// Why the tags just ticked were refused.
    tag_error: Option<&'static str>,
    /// The custom values open as a form; what was sent and why it was refused.
    custom: (bool, Option<custom_values::Refused>),
}

async fn client_page(
    state: &AppState,
    me: &CurrentUser,
    id: ClientId,
    tab: ClientTab,
    page: PageState,
) -> Result<ClientPage, AppError> {
    let (client, contacts) = state.clients.get(&me.principal, id).await?;
    let can_edit = me.principal.can(Permission::ClientUpdate);
    let stored = client.input();
    let (open, open_input, open_errors, mut open_duplicate) = match page.editing {
        Some((section, input, errors, duplicate)) if can_edit => (Some(section), input, errors, duplicate),
        _ => (None, None, FormErrors::default(), None),
    };
    let open_input = open_input.unwrap_or_else(|| stored.clone());
    let no_errors = FormErrors::default();
    let home = match open {
        Some(_) => state.settings.get(&me.principal).await?.default_country,
        None => None,
    };
    let mut sections = Vec::new();
    for s in Section::ALL {
        sections.push(if open == Some(s) {
            section_view(state, me, client.id, s, (&open_input, home), true, &open_errors, open_duplicate.take())
                .await?
        } else {
            section_view(state, me, client.id, s, (&stored, None), false, &no_errors, None).await?
        });
    }
    let can_merge = state.clients.may_merge(&me.principal);
    let twins = match can_merge {
        true => state.clients.twins(&me.principal, id).await?,
        false => Vec::new(),
    };
    let merge_q = page.merge_q.trim().chars().take(100).collect::<String>();
    let merge_candidates = match can_merge && tab == ClientTab::Actions && !merge_q.is_empty() {
        true => Some(
            state
                .clients
                .merge_candidates(&me.principal, id, &merge_q)
                .await?
                .iter()
                .map(MergeCandidate::from)
                .collect(),
        ),
        false => None,
    };
    let (new_contact_type, new_contact_value, contact_errors) =
        page.contact.unwrap_or_else(|| ("phone".into(), String::new(), FormErrors::default()));
    let all_tags = state.tags.list(&me.principal).await?;
    let action = format!("/crm/clients/{id}/custom");
    let custom =
        custom_values::panel(state, me, (FieldEntity::Client, action), &client.custom, can_edit, page.custom).await?;
    Ok(ClientPage {
        custom,
        tags: TagChip::of(&client.tags),
        tag_choices: tags::choices(&all_tags, &client.tags, may_touch_locked(&me.principal)),
        tag_error: page.tag_error,
        shell: me.shell(Area::Clients),
        id: client.id,
        name: client.full_name(),
        tab,
        sections,
        contacts: contacts.iter().map(ContactRow::from).collect(),
        contact_types: ContactType::ALL.iter().map(|t| (t.as_str(), contact_label(t.as_str()))).collect(),
        new_contact_type,
        new_contact_value,
        contact_errors,
        can_edit,
        can_delete: me.principal.can(Permission::ClientDelete),
        can_chat: me.principal.can(Permission::ChatRead),
        can_merge,
        twins: twins.into_iter().map(|(id, name, archived)| Twin { id, name, archived }).collect(),
        merge_q,
        merge_candidates,
        created: me.tr.datetime(&client.created_at),
        updated: me.tr.datetime(&client.updated_at),
    })
}

/// Loads the choices of `fields` that offer some: a company field's (those offered when
/// `editing`, else the chosen company's name alone) and the owner's (the colleagues who may
/// own records).
async fn with_choices(
    state: &AppState,
    me: &CurrentUser,
    mut fields: Vec<Field>,
    editing: bool,
) -> Result<Vec<Field>, AppError> {
    for f in fields.iter_mut() {
        match f.kind {
            InputKind::Company => {
                f.picker = Some(super::companies::picker(state, me, ("", editing), &f.value, f.error).await?);
            }
            InputKind::Choice => {
                let owners = state.companies.owners(&me.principal).await?;
                f.choices = owners.into_iter().map(|(id, name)| (id.0.to_string(), name)).collect();
            }
            _ => {}
        }
    }
    Ok(fields)
}

/// One profile section: shown, or as a form with `errors` and a `duplicate` to link.
#[allow(clippy::too_many_arguments)]
async fn section_view(
    state: &AppState,
    me: &CurrentUser,
    client_id: ClientId,
    section: Section,
    (input, home): (&ClientInput, Option<HomeCountry>),
    editing: bool,
    errors: &FormErrors,
    duplicate: Option<Duplicate>,
) -> Result<SectionView, AppError> {
    Ok(SectionView {
        tr: me.tr,
        csrf: me.csrf.clone(),
        client_id,
        section,
        fields: with_choices(state, me, section.fields(input, errors, home), editing).await?,
        editing,
        can_edit: me.principal.can(Permission::ClientUpdate),
        duplicate,
        saved: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let tab = match q.tab.as_str() {
        "contacts" => ClientTab::Contacts,
        "actions" if me.principal.can(Permission::ClientDelete) => ClientTab::Actions,
        _ => ClientTab::Profile,
    };
    let page = PageState {
        editing: Section::from_slug(&q.edit).map(|s| (s, None, FormErrors::default(), None)),
        contact: None,
        merge_q: q.merge_q,
        tag_error: None,
        custom: (q.edit == "custom", None),
    };
    render(StatusCode::OK, &client_page(&state, &me, id, tab, page).await?)
}

fn section_of(slug: &str) -> Result<Section, AppError> {
    Section::from_slug(slug).ok_or(AppError::NotFound)
}

/// One section as shown (htmx: after "Cancel").
pub async fn section(
    state: State<AppState>,
    me: CurrentUser,
    path: Path<(ClientId, String)>,
) -> Result<Response, AppError> {
    section_fragment(state, me, path, false).await
}

/// One section as a form (htmx: after "Edit").
pub async fn edit_section(
    state: State<AppState>,
    me: CurrentUser,
    path: Path<(ClientId, String)>,
) -> Result<Response, AppError> {
    section_fragment(state, me, path, true).await
}

async fn section_fragment(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, slug)): Path<(ClientId, String)>,
    editing: bool,
) -> Result<Response, AppError> {
    let section = section_of(&slug)?;
    let client = match editing {
        true => state.clients.get_for_edit(&me.principal, id).await?,
        false => state.clients.get(&me.principal, id).await?.0,
    };
    let home = if editing { state.settings.get(&me.principal).await?.default_country } else { None };
    let view =
        section_view(&state, &me, client.id, section, (&client.input(), home), editing, &FormErrors::default(), None)
            .await?;
    render(StatusCode::OK, &view)
}

/// Saves one section: its fields only; the others stay as they are.
pub async fn save_section(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path((id, slug)): Path<(ClientId, String)>,
    Form(patch): Form<ClientInput>,
) -> Result<Response, AppError> {
    let section = section_of(&slug)?;
    match state.clients.update(&me.principal, id, &patch).await {
        Ok(client) if is_htmx(&headers) => {
            let mut view = section_view(
                &state,
                &me,
                client.id,
                section,
                (&client.input(), None),
                false,
                &FormErrors::default(),
                None,
            )
            .await?;
            view.saved = Some((client.full_name(), me.tr.datetime(&client.updated_at)));
            render(StatusCode::OK, &view)
        }
        Ok(_) => {
            Ok(flash::redirect(&format!("/crm/clients/{id}#section-{slug}"), Flash::success("flash.client_saved")))
        }
        Err(errors) => {
            let (errors, duplicate) = client_errors(&me, errors)?;
            if is_htmx(&headers) {
                let home = state.settings.get(&me.principal).await?.default_country;
                let view = section_view(&state, &me, id, section, (&patch, home), true, &errors, duplicate).await?;
                return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
            }
            let page = PageState { editing: Some((section, Some(patch), errors, duplicate)), ..PageState::default() };
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &me, id, ClientTab::Profile, page).await?)
        }
    }
}

/// POST /crm/clients/{id}/tags: the tags the client carries, as ticked; refused, the page
/// again with the reason beside the tags.
pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = ClientInput { tag_ids: Some(ticked_tags(&f)), ..ClientInput::default() };
    match state.clients.update(&me.principal, id, &input).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/clients/{id}#client-tags"), Flash::success("flash.tags_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let errors = super::form_errors(me.tr, ServiceError::Invalid(errors))?;
            let page = PageState { tag_error: errors.get("tag_ids"), ..PageState::default() };
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &me, id, ClientTab::Profile, page).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/clients/{id}/custom: the client's custom values, as the panel's form sent them;
/// refused, the page again with each reason beside its field.
pub async fn set_custom(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (values, typed) = custom_values::sent(&state, &me, FieldEntity::Client, &f).await?;
    let input = ClientInput { custom: Some(values), ..ClientInput::default() };
    match state.clients.update(&me.principal, id, &input).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/clients/{id}#custom-values"), Flash::success("flash.values_saved"))),
        Err(ServiceError::Invalid(errors)) => {
            let refused = (typed, custom_values::reasons(&me, &errors));
            let page = PageState { custom: (true, Some(refused)), ..PageState::default() };
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &me, id, ClientTab::Profile, page).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    value: String,
}

pub async fn add_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    match state.clients.add_contact(&me.principal, id, &form.kind, &form.value).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/clients/{id}?tab=contacts"), Flash::success("flash.contact_added"))),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let errors = super::form_errors(me.tr, e)?;
            let page = PageState { contact: Some((form.kind, form.value, errors)), ..PageState::default() };
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &me, id, ClientTab::Contacts, page).await?)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn remove_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, contact)): Path<(ClientId, ContactId)>,
) -> Result<Response, AppError> {
    state.clients.remove_contact(&me.principal, id, contact).await?;
    Ok(flash::redirect(&format!("/crm/clients/{id}?tab=contacts"), Flash::success("flash.contact_removed")))
}

pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
) -> Result<Response, AppError> {
    state.clients.archive(&me.principal, id).await?;
    Ok(flash::redirect("/crm/clients", Flash::success("flash.client_deleted")).into_response())
}

/// Archived clients, for an admin to restore (30 days) or erase.
pub async fn archived(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let clients = state.clients.archived(&me.principal).await?;
    let now = chrono::Utc::now();
    let rows = clients
        .iter()
        .map(|c| {
            let archived_at = c.archived_at.unwrap_or(now);
            let left = crate::services::clients::RESTORABLE_FOR.as_secs() as i64 - (now - archived_at).num_seconds();
            ArchivedRow {
                id: c.id.0,
                name: c.full_name(),
                archived: me.tr.datetime(&archived_at),
                days_left: (left.max(0) + 86_399) / 86_400,
            }
        })
        .collect();
    render(StatusCode::OK, &ArchivedPage { shell: me.shell(Area::Clients), rows })
}

pub async fn restore(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
) -> Result<Response, AppError> {
    state.clients.restore(&me.principal, id).await?;
    Ok(flash::redirect(&format!("/crm/clients/{id}"), Flash::success("flash.client_restored")))
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    from_client_id: String,
}

/// Merges another client (its number as in its address) into this one.
pub async fn merge(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
    Form(form): Form<MergeForm>,
) -> Result<Response, AppError> {
    let back = format!("/crm/clients/{id}");
    let Some(from) = form.from_client_id.trim().trim_start_matches('#').parse::<i64>().ok().filter(|n| *n > 0) else {
        return Ok(flash::redirect(&format!("{back}?tab=actions"), Flash::error("clients.merge_which")));
    };
    let failed = |key| Ok(flash::redirect(&format!("{back}?tab=actions"), Flash::error(key)));
    match state.clients.merge(&me.principal, id, ClientId(from)).await {
        Ok(_) => Ok(flash::redirect(&back, Flash::success("flash.clients_merged"))),
        Err(ServiceError::NotFound) => failed("clients.merge_not_found"),
        Err(ServiceError::Refused { .. }) => failed("clients.merge_already"),
        Err(ServiceError::Invalid(e)) if e.iter().any(|e| e.code == "unknown_client") => {
            failed("clients.merge_not_found")
        }
        Err(ServiceError::Invalid(_)) => failed("clients.merge_itself"),
        Err(ServiceError::Duplicate { .. } | ServiceError::Conflict { .. }) => failed("clients.merge_conflict"),
        Err(e) => Err(e.into()),
    }
}

pub async fn erase(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
) -> Result<Response, AppError> {
    state.clients.erase(&me.principal, id).await?;
    Ok(flash::redirect("/crm/clients", Flash::success("flash.client_erased")))
}

/// Everything held about the client as one JSON download (the right of access).
pub async fn export(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<ClientId>,
) -> Result<Response, AppError> {
    let export = state.clients.export(&me.principal, id).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(AppError::internal)?;
    let disposition = format!("attachment; filename=\"client-{id}.json\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The current filtered list as CSV (every match, not one page), streamed as it is read.
pub async fn export_csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(mut filters): Query<ListFilters>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    filters.take_custom(pairs);
    let (query, errors) = list_query(&state, &me, &filters, (0, 0)).await?;
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let rx = state.clients.export_csv(&me.principal, query)?;
    // A byte-order mark first: without it Excel reads UTF-8 (Cyrillic names) as the local code page.
    let bom = futures_util::stream::once(async { Ok::<_, std::io::Error>(String::from("\u{feff}")) });
    let rows = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk.map_err(std::io::Error::other), rx))
    });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(bom, rows));
    let filename = format!("clients-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(crate::web::download::csv(&filename, body))
}

/// The clients' pages (their chat tab lives with the chats).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/clients", get(list).post(create))
        .route("/crm/clients/new", get(new))
        .route("/crm/clients/archived", get(archived))
        .route("/crm/clients/export.csv", get(export_csv))
        .route("/crm/clients/{id}/restore", post(restore))
        .route("/crm/clients/{id}/merge", post(merge))
        .route("/crm/clients/{id}/erase", post(erase))
        .route("/crm/clients/{id}/export.json", get(export))
        .route("/crm/clients/{id}", get(show))
        .route("/crm/clients/{id}/sections/{section}", get(section).post(save_section))
        .route("/crm/clients/{id}/sections/{section}/edit", get(edit_section))
        .route("/crm/clients/{id}/contacts", post(add_contact))
        .route("/crm/clients/{id}/tags", post(set_tags))
        .route("/crm/clients/{id}/custom", post(set_custom))
        .route("/crm/clients/{id}/contacts/{contact}/delete", post(remove_contact))
        .route("/crm/clients/{id}/delete", post(delete))
}
