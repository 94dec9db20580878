//! "My tasks" (`/crm/tasks`): the reader's tasks due today, overdue, upcoming or done; a form
//! for a new one; completing and reopening from any list (and from a record's panel).

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Duration, Utc};

use crate::domain::task::{TaskFilter, TaskId, TaskStatus};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::record_work::task_input;
use crate::web::pages::{form_errors, render};
use crate::web::views::record_work::{TaskChoices, TaskRow, TasksPage};
use crate::web::views::{Area, FormErrors};

type Fields = HashMap<String, String>;

/// How many tasks a view lists.
const SHOWN: i64 = 100;

/// The view a page asks for, and the filter it means for `me`: today (due by the end of the
/// reader's day, overdue included), overdue, upcoming (open, all), done.
fn view_of(raw: Option<&String>, me: &CurrentUser) -> (&'static str, TaskFilter) {
    let mine = TaskFilter { assignee_id: Some(me.principal.user_id), ..TaskFilter::default() };
    match raw.map(String::as_str) {
        Some("overdue") => ("overdue", TaskFilter { status: TaskStatus::Overdue, ..mine }),
        Some("upcoming") => ("upcoming", mine),
        Some("done") => ("done", TaskFilter { status: TaskStatus::Done, ..mine }),
        _ => {
            let zone = me.principal.time_zone;
            let tomorrow = zone.today() + Duration::days(1);
            let end = zone
                .parse_moment("due_before", &format!("{}T00:00", tomorrow.format("%Y-%m-%d")))
                .ok()
                .flatten()
                .unwrap_or_else(|| Utc::now() + Duration::days(1));
            ("today", TaskFilter { due_before: Some(end), ..mine })
        }
    }
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    q: &Fields,
    (errors, typed): (FormErrors, Fields),
) -> Result<TasksPage, AppError> {
    let (view, filter) = view_of(q.get("view"), me);
    let by = &me.principal;
    let found = state.tasks.list(by, &filter, SHOWN, 0).await?;
    let mut rows: Vec<TaskRow> = found.tasks.iter().map(|t| TaskRow::new(&me.tr, t)).collect();
    // A link to one task (a reminder's) shows it first, whichever view it is in.
    let focus = q.get("task").and_then(|t| t.parse::<i64>().ok());
    if let Some(id) = focus {
        rows.retain(|r| r.id != id);
        if let Ok(task) = state.tasks.get(by, TaskId(id)).await {
            rows.insert(0, TaskRow::new(&me.tr, &task));
        }
    }
    let can_task = state.tasks.may_write(by);
    let choices = if can_task {
        TaskChoices::new(state.tasks.assignees(by).await?, &state.tasks.categories(by).await?, by.user_id.0)
    } else {
        TaskChoices::new(Vec::new(), &[], by.user_id.0)
    };
    Ok(TasksPage {
        shell: me.shell(Area::Tasks),
        view,
        rows,
        total: found.total,
        can_task,
        choices,
        errors,
        typed,
        focus,
    })
}

/// GET /crm/tasks?view=&task=
async fn list(State(state): State<AppState>, me: CurrentUser, Query(q): Query<Fields>) -> Result<Response, AppError> {
    render(StatusCode::OK, &page(&state, &me, &q, Default::default()).await?)
}

/// POST /crm/tasks: a new task (about no record).
async fn create(State(state): State<AppState>, me: CurrentUser, Form(f): Form<Fields>) -> Result<Response, AppError> {
    match state.tasks.create(&me.principal, &task_input(&f, None)?).await {
        Ok(_) => Ok(flash::redirect("/crm/tasks?view=upcoming", Flash::success("flash.task_saved"))),
        Err(e @ ServiceError::Invalid(_)) => {
            let errors = form_errors(me.tr, e)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &me, &Fields::new(), (errors, f)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a form sent from a list goes back to: one of our pages, else My tasks.
fn back(f: &Fields) -> String {
    f.get("back").filter(|b| b.starts_with("/crm/") && !b.starts_with("//")).cloned().unwrap_or("/crm/tasks".into())
}

/// POST /crm/tasks/{id}/complete `note`: a category that asks for a note is refused without
/// one, and a note too long is refused as such; each said so.
async fn complete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let note = f.get("note").cloned().unwrap_or_default();
    crate::web::input::check_text("note", &note)?;
    match state.tasks.complete(&me.principal, TaskId(id), &note).await {
        Ok(_) => Ok(flash::redirect(&back(&f), Flash::success("flash.task_done"))),
        Err(ServiceError::Invalid(errors)) => {
            let said = match errors.first().map(|e| e.code) {
                Some("too_long") => "flash.task_note_too_long",
                _ => "flash.task_needs_note",
            };
            Ok(flash::redirect(&back(&f), Flash::error(said)))
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/tasks/{id}/reopen
async fn reopen(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    state.tasks.reopen(&me.principal, TaskId(id)).await?;
    Ok(flash::redirect(&back(&f), Flash::success("flash.task_reopened")))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/tasks", get(list).post(create))
        .route("/crm/tasks/{id}/complete", post(complete))
        .route("/crm/tasks/{id}/reopen", post(reopen))
}
