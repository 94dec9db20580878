//! The work panel of a client's, company's or deal's page (notes and their threads, tasks,
//! timeline) at `/crm/{clients|companies|deals}/{id}/work`, and its forms, which answer with
//! the panel again: as 422, with the refusal beside its field, when the service refuses.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::domain::ClientId;
use crate::domain::activity::{ActivityId, ActivityKind};
use crate::domain::company::CompanyId;
use crate::domain::deal::DealId;
use crate::domain::note::{CommentId, NoteId};
use crate::domain::record::RecordRef;
use crate::domain::task::{TaskFilter, TaskInput, TaskStatus};
use crate::services::{ServiceError, notes, timeline};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::pages::{form_errors, render};
use crate::web::views::FormErrors;
use crate::web::views::record_work::{ActivityRow, NoteRow, RecordWorkPanel, TaskChoices, TaskRow};

type Fields = HashMap<String, String>;

/// How many of a record's tasks its panel lists (open first).
const TASKS_SHOWN: i64 = 50;

/// The panel of `on` for the reader: `kind` filters its timeline, `before` pages it.
pub async fn panel(
    state: &AppState,
    me: &CurrentUser,
    on: RecordRef,
    (kind, before): (Option<ActivityKind>, Option<ActivityId>),
    (errors, typed): (FormErrors, String),
) -> Result<RecordWorkPanel, AppError> {
    let by = &me.principal;
    let notes = state.notes.list(by, on, None, notes::PAGE).await?;
    let filter = TaskFilter { status: TaskStatus::All, record: Some(on), ..TaskFilter::default() };
    let tasks = state.tasks.list(by, &filter, TASKS_SHOWN, 0).await?;
    let entries = state.timeline.page(by, on, kind, before, timeline::PAGE).await?;
    let older = (entries.len() as i64 == timeline::PAGE).then(|| entries.last().map(|a| a.id.0)).flatten();
    let can_task = state.tasks.may_write(by);
    let choices = if can_task {
        TaskChoices::new(state.tasks.assignees(by).await?, &state.tasks.categories(by).await?, by.user_id.0)
    } else {
        TaskChoices::new(Vec::new(), &[], by.user_id.0)
    };
    let can_note = state.notes.may_write(by, on);
    let mentionable = if can_note { state.notes.colleagues(by).await? } else { Vec::new() };
    Ok(RecordWorkPanel {
        tr: me.tr,
        base: on.url(),
        notes: notes.iter().map(|n| NoteRow::new(&me.tr, n)).collect(),
        tasks: tasks.tasks.iter().map(|t| TaskRow::new(&me.tr, t)).collect(),
        timeline: entries.iter().map(|a| ActivityRow::new(&me.tr, a)).collect(),
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        older,
        kinds: RecordWorkPanel::every_kind(),
        can_note,
        can_task,
        choices,
        errors,
        typed,
        mentionable,
        values: Default::default(),
        csrf: me.csrf.clone(),
        back: format!("{}#tasks", on.url()),
    })
}

/// GET …/work?kind=&before=
async fn show(state: AppState, me: CurrentUser, on: RecordRef, q: Fields) -> Result<Response, AppError> {
    let kind = match q.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        Some(k) => Some(ActivityKind::parse(k)?),
        None => None,
    };
    let before = crate::domain::parse_id("before", q.get("before").map_or("", String::as_str))?.map(ActivityId);
    render(StatusCode::OK, &panel(&state, &me, on, (kind, before), Default::default()).await?)
}

/// What a refused form's panel shows: the reasons beside their fields (any other failure is
/// an error page).
async fn refused(
    state: &AppState,
    me: &CurrentUser,
    on: RecordRef,
    error: ServiceError,
    typed: String,
) -> Result<Response, AppError> {
    let errors = form_errors(me.tr, error)?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &panel(state, me, on, (None, None), (errors, typed)).await?)
}

/// POST …/notes `body`.
async fn add_note(state: AppState, me: CurrentUser, on: RecordRef, f: Fields) -> Result<Response, AppError> {
    let body = f.get("body").cloned().unwrap_or_default();
    crate::web::input::check_text("body", &body)?;
    match state.notes.add(&me.principal, on, &body).await {
        Ok(_) => render(StatusCode::OK, &panel(&state, &me, on, (None, None), Default::default()).await?),
        Err(e @ ServiceError::Invalid(_)) => refused(&state, &me, on, e, body).await,
        Err(e) => Err(e.into()),
    }
}

/// POST …/notes/{note}/comments `body`, `parent_id`.
async fn comment(state: AppState, me: CurrentUser, on: RecordRef, note: i64, f: Fields) -> Result<Response, AppError> {
    let body = f.get("body").cloned().unwrap_or_default();
    crate::web::input::check_text("body", &body)?;
    let parent = crate::domain::parse_id("parent_id", f.get("parent_id").map_or("", String::as_str))?.map(CommentId);
    // The note must be this record's: else a page could comment elsewhere through it.
    if state.notes.get(&me.principal, NoteId(note)).await?.on != on {
        return Err(AppError::NotFound);
    }
    match state.notes.comment(&me.principal, NoteId(note), parent, &body).await {
        Ok(_) => render(StatusCode::OK, &panel(&state, &me, on, (None, None), Default::default()).await?),
        Err(e @ ServiceError::Invalid(_)) => refused(&state, &me, on, e, String::new()).await,
        Err(e) => Err(e.into()),
    }
}

/// The task a form describes (times typed on the reader's clock); about `on` when given.
pub fn task_input(f: &Fields, on: Option<RecordRef>) -> Result<TaskInput, AppError> {
    let mut input = TaskInput::default();
    for field in TaskInput::FIELDS {
        if let Some(v) = f.get(field) {
            crate::web::input::check_text(field, v)?;
            *input.field_mut(field).expect("a field of TaskInput") = Some(v.clone());
        }
    }
    if let Some(on) = on {
        let (field, id) = (format!("{}_id", on.entity()), on.id().to_string());
        *input.field_mut(&field).expect("a record field") = Some(id);
    }
    Ok(input)
}

/// POST …/tasks: a task about this record.
async fn add_task(state: AppState, me: CurrentUser, on: RecordRef, f: Fields) -> Result<Response, AppError> {
    match state.tasks.create(&me.principal, &task_input(&f, Some(on))?).await {
        Ok(_) => render(StatusCode::OK, &panel(&state, &me, on, (None, None), Default::default()).await?),
        Err(e @ ServiceError::Invalid(_)) => refused(&state, &me, on, e, String::new()).await,
        Err(e) => Err(e.into()),
    }
}

/// The panel's routes under one kind of record.
macro_rules! record_routes {
    ($router:expr, $plural:literal, $make:expr) => {
        $router
            .route(
                concat!("/crm/", $plural, "/{id}/work"),
                get(|State(s): State<AppState>, me: CurrentUser, Path(id): Path<i64>, Query(q): Query<Fields>| {
                    show(s, me, $make(id), q)
                }),
            )
            .route(
                concat!("/crm/", $plural, "/{id}/notes"),
                post(|State(s): State<AppState>, me: CurrentUser, Path(id): Path<i64>, Form(f): Form<Fields>| {
                    add_note(s, me, $make(id), f)
                }),
            )
            .route(
                concat!("/crm/", $plural, "/{id}/notes/{note}/comments"),
                post(
                    |State(s): State<AppState>,
                     me: CurrentUser,
                     Path((id, note)): Path<(i64, i64)>,
                     Form(f): Form<Fields>| { comment(s, me, $make(id), note, f) },
                ),
            )
            .route(
                concat!("/crm/", $plural, "/{id}/tasks"),
                post(|State(s): State<AppState>, me: CurrentUser, Path(id): Path<i64>, Form(f): Form<Fields>| {
                    add_task(s, me, $make(id), f)
                }),
            )
    };
}

pub fn routes() -> Router<AppState> {
    let router = Router::new();
    let router = record_routes!(router, "clients", |id| RecordRef::Client(ClientId(id)));
    let router = record_routes!(router, "companies", |id| RecordRef::Company(CompanyId(id)));
    record_routes!(router, "deals", |id| RecordRef::Deal(DealId(id)))
}
