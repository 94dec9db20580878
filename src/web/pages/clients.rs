//! Client pages: the searchable list, the create form, and a client's tabs. Profile sections
//! edit in place with htmx, and the same URLs work as plain forms without JavaScript.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{ClientId, ClientInput, ContactId, ContactType, DomainError, Permission};
use crate::repos::clients::{COUNT_CAP, ListQuery, Sort};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::clients::{
    ArchivedPage, ArchivedRow, ClientPage, ClientResults, ClientRow, ClientsPage, ContactRow, Duplicate, ListFilters,
    NewClientPage, Section, SectionView, Tab, contact_label,
};
use crate::web::views::{FormErrors, Section as Nav};

use super::render;

const PER_PAGE: i64 = 25;

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(filters): Query<ListFilters>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    me.require(Permission::ClientRead)?;
    let mut errors = FormErrors::default();
    let mut date = |field: &'static str, raw: &str| -> Option<NaiveDate> {
        if raw.is_empty() {
            return None;
        }
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| errors.add(field, me.tr.error("invalid_date"))).ok()
    };
    let created_from = date("created_from", &filters.from);
    let created_to = date("created_to", &filters.to);
    let page = filters.page.unwrap_or(1).max(1);
    let query = ListQuery {
        q: Some(filters.q.clone()).filter(|q| !q.trim().is_empty()),
        created_from,
        created_to,
        sort: if filters.sort == "name" { Sort::Name } else { Sort::Updated },
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let result = state.clients.list(me.principal.tenant_id, &query).await?;
    let total_exact = result.total <= COUNT_CAP;
    let results = ClientResults {
        tr: me.tr,
        has_next: if total_exact { page * PER_PAGE < result.total } else { result.items.len() as i64 == PER_PAGE },
        rows: result.items.iter().map(|(c, k)| ClientRow::new(c, k)).collect(),
        total: result.total.min(COUNT_CAP),
        total_exact,
        page,
        filters,
        errors,
    };
    // Typing in the search box replaces the results only.
    if headers.get("hx-target").is_some_and(|t| t == "client-results") {
        return render(StatusCode::OK, &results);
    }
    let page = ClientsPage {
        shell: me.shell(Nav::Clients),
        results,
        can_create: me.principal.can(Permission::ClientCreate),
        can_see_archived: me.principal.can(Permission::ClientDelete),
    };
    render(StatusCode::OK, &page)
}

fn new_page(me: &CurrentUser, input: &ClientInput, errors: &FormErrors, duplicate: Option<Duplicate>) -> NewClientPage {
    NewClientPage {
        shell: me.shell(Nav::Clients),
        sections: Section::ALL.into_iter().map(|s| (s, s.fields(input, errors))).collect(),
        duplicate,
    }
}

pub async fn new(me: CurrentUser) -> Result<Response, AppError> {
    me.require(Permission::ClientCreate)?;
    render(StatusCode::OK, &new_page(&me, &ClientInput::default(), &FormErrors::default(), None))
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(input): Form<ClientInput>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientCreate)?;
    match state.clients.create(&me.principal, &input, &[]).await {
        Ok(id) => Ok(flash::redirect(&format!("/crm/clients/{id}"), Flash::success("flash.client_created"))),
        Err(errors) => {
            let (errors, duplicate) = client_errors(&me, errors)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &new_page(&me, &input, &errors, duplicate))
        }
    }
}

/// Field errors beside their fields; a duplicate phone or PIN also names its holder.
fn client_errors(me: &CurrentUser, errors: Vec<ServiceError>) -> Result<(FormErrors, Option<Duplicate>), AppError> {
    let mut form = FormErrors::default();
    let mut duplicate = None;
    for e in errors {
        match e {
            ServiceError::Invalid(DomainError { field, code }) => form.add(field, me.tr.error(code)),
            ServiceError::Duplicate { field, existing, existing_name } => {
                form.add(field, me.tr.error(&format!("{field}_taken")));
                duplicate = Some(Duplicate { field, client_id: existing.0, client_name: existing_name });
            }
            ServiceError::Conflict { field } => form.add(field, me.tr.error(&format!("{field}_taken"))),
            other => return Err(other.into()),
        }
    }
    Ok((form, duplicate))
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    tab: String,
    /// A section to show as a form (the no-JavaScript path to editing in place).
    #[serde(default)]
    edit: String,
}

/// What a client page shows besides the client: an open section form, the add-contact form.
#[derive(Default)]
struct PageState {
    editing: Option<(Section, ClientInput, FormErrors, Option<Duplicate>)>,
    contact: Option<(String, String, FormErrors)>,
}

async fn client_page(
    state: &AppState,
    me: &CurrentUser,
    id: ClientId,
    tab: Tab,
    page: PageState,
) -> Result<ClientPage, AppError> {
    let (client, contacts) = state.clients.get(me.principal.tenant_id, id).await?;
    let can_edit = me.principal.can(Permission::ClientUpdate);
    let stored = ClientInput::from(&client);
    let (open, open_input, open_errors, mut open_duplicate) = match page.editing {
        Some((section, input, errors, duplicate)) if can_edit => (Some(section), input, errors, duplicate),
        _ => (None, ClientInput::default(), FormErrors::default(), None),
    };
    let sections = Section::ALL
        .into_iter()
        .map(|s| {
            if open == Some(s) {
                let mut view = section_view(me, client.id, s, &open_input, true);
                view.fields = s.fields(&open_input, &open_errors);
                view.duplicate = open_duplicate.take();
                view
            } else {
                section_view(me, client.id, s, &stored, false)
            }
        })
        .collect();
    let (new_contact_type, new_contact_value, contact_errors) =
        page.contact.unwrap_or_else(|| ("phone".into(), String::new(), FormErrors::default()));
    Ok(ClientPage {
        shell: me.shell(Nav::Clients),
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
        created: crate::web::views::datetime(&client.created_at),
        updated: crate::web::views::datetime(&client.updated_at),
    })
}

fn section_view(me: &CurrentUser, client_id: i64, section: Section, input: &ClientInput, editing: bool) -> SectionView {
    SectionView {
        tr: me.tr,
        csrf: me.csrf.clone(),
        client_id,
        section,
        fields: section.fields(input, &FormErrors::default()),
        editing,
        can_edit: me.principal.can(Permission::ClientUpdate),
        duplicate: None,
    }
}

pub async fn show(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientRead)?;
    let tab = match q.tab.as_str() {
        "contacts" => Tab::Contacts,
        "actions" if me.principal.can(Permission::ClientDelete) => Tab::Actions,
        _ => Tab::Profile,
    };
    let mut page = PageState::default();
    if let Some(section) = Section::from_slug(&q.edit) {
        let (client, _) = state.clients.get(me.principal.tenant_id, ClientId(id)).await?;
        page.editing = Some((section, ClientInput::from(&client), FormErrors::default(), None));
    }
    render(StatusCode::OK, &client_page(&state, &me, ClientId(id), tab, page).await?)
}

fn section_of(slug: &str) -> Result<Section, AppError> {
    Section::from_slug(slug).ok_or(AppError::NotFound)
}

/// One section as shown (htmx: after "Cancel").
pub async fn section(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, slug)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientRead)?;
    let section = section_of(&slug)?;
    let (client, _) = state.clients.get(me.principal.tenant_id, ClientId(id)).await?;
    render(StatusCode::OK, &section_view(&me, client.id, section, &ClientInput::from(&client), false))
}

/// One section as a form (htmx: after "Edit").
pub async fn edit_section(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, slug)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientUpdate)?;
    let section = section_of(&slug)?;
    let (client, _) = state.clients.get(me.principal.tenant_id, ClientId(id)).await?;
    render(StatusCode::OK, &section_view(&me, client.id, section, &ClientInput::from(&client), true))
}

/// Saves one section: its fields only; the others stay as they are.
pub async fn save_section(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    Path((id, slug)): Path<(i64, String)>,
    Form(patch): Form<ClientInput>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientUpdate)?;
    let section = section_of(&slug)?;
    match state.clients.update(&me.principal, ClientId(id), &patch).await {
        Ok(client) if is_htmx(&headers) => {
            render(StatusCode::OK, &section_view(&me, client.id, section, &ClientInput::from(&client), false))
        }
        Ok(_) => {
            Ok(flash::redirect(&format!("/crm/clients/{id}#section-{slug}"), Flash::success("flash.client_saved")))
        }
        Err(errors) => {
            let (errors, duplicate) = client_errors(&me, errors)?;
            if is_htmx(&headers) {
                let mut view = section_view(&me, id, section, &patch, true);
                view.fields = section.fields(&patch, &errors);
                view.duplicate = duplicate;
                return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
            }
            let page = PageState { editing: Some((section, patch, errors, duplicate)), contact: None };
            render(StatusCode::UNPROCESSABLE_ENTITY, &client_page(&state, &me, ClientId(id), Tab::Profile, page).await?)
        }
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
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientUpdate)?;
    match state.clients.add_contact(&me.principal, ClientId(id), &form.kind, &form.value).await {
        Ok(_) => Ok(flash::redirect(&format!("/crm/clients/{id}?tab=contacts"), Flash::success("flash.contact_added"))),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let errors = super::form_errors(me.tr, vec![e])?;
            let page = PageState { editing: None, contact: Some((form.kind, form.value, errors)) };
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &client_page(&state, &me, ClientId(id), Tab::Contacts, page).await?,
            )
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn remove_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientUpdate)?;
    state.clients.remove_contact(&me.principal, ClientId(id), ContactId(contact)).await?;
    Ok(flash::redirect(&format!("/crm/clients/{id}?tab=contacts"), Flash::success("flash.contact_removed")))
}

pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.require(Permission::ClientDelete)?;
    state.clients.archive(&me.principal, ClientId(id)).await?;
    Ok(flash::redirect("/crm/clients", Flash::success("flash.client_deleted")).into_response())
}

/// Archived clients, for an admin to restore (30 days) or erase.
pub async fn archived(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    me.require(Permission::ClientDelete)?;
    let clients = state.clients.archived(me.principal.tenant_id).await?;
    let now = chrono::Utc::now();
    let rows = clients
        .iter()
        .map(|c| {
            let archived_at = c.archived_at.unwrap_or(now);
            let left = crate::services::clients::RESTORABLE_FOR.as_secs() as i64 - (now - archived_at).num_seconds();
            ArchivedRow {
                id: c.id,
                name: c.full_name(),
                archived: crate::web::views::datetime(&archived_at),
                days_left: (left.max(0) + 86_399) / 86_400,
            }
        })
        .collect();
    render(StatusCode::OK, &ArchivedPage { shell: me.shell(Nav::Clients), rows })
}

pub async fn restore(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientDelete)?;
    state.clients.restore(&me.principal, ClientId(id)).await?;
    Ok(flash::redirect(&format!("/crm/clients/{id}"), Flash::success("flash.client_restored")))
}

pub async fn erase(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.require(Permission::ClientDelete)?;
    state.clients.erase(&me.principal, ClientId(id)).await?;
    Ok(flash::redirect("/crm/clients", Flash::success("flash.client_erased")))
}

/// Everything held about the client as one JSON download (the right of access).
pub async fn export(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.require(Permission::ClientDelete)?;
    let export = state.clients.export(me.principal.tenant_id, ClientId(id)).await?;
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
    Query(filters): Query<ListFilters>,
) -> Result<Response, AppError> {
    me.require(Permission::ClientRead)?;
    let date = |field: &'static str, raw: &str| {
        (!raw.is_empty())
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| DomainError::new(field, "invalid_date")))
            .transpose()
    };
    let (created_from, created_to) = match (date("created_from", &filters.from), date("created_to", &filters.to)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => return Err(AppError::Invalid([a.err(), b.err()].into_iter().flatten().collect())),
    };
    let query = ListQuery {
        q: Some(filters.q.clone()).filter(|q| !q.trim().is_empty()),
        created_from,
        created_to,
        sort: if filters.sort == "name" { Sort::Name } else { Sort::Updated },
        limit: 0,
        offset: 0,
    };
    let rx = state.clients.export_csv(&me.principal, query);
    // A byte-order mark first: without it Excel reads UTF-8 (Cyrillic names) as the local code page.
    let bom = futures_util::stream::once(async { Ok::<_, std::io::Error>(String::from("\u{feff}")) });
    let rows = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk.map_err(std::io::Error::other), rx))
    });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(bom, rows));
    let filename = format!("clients-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response())
}
