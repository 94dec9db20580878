//! The notification centre (`/crm/notifications`) and the bell in every page's top bar: the
//! reader's own notifications; opening one marks it read and goes where it points.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::domain::notification::NotificationId;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::render;
use crate::web::views::Area;
use crate::web::views::notifications::NotificationRow;
use crate::web::views::record_work::{Bell, NotificationsPage};

/// How many notifications a page lists.
const PAGE: i64 = 50;

async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let before = crate::domain::parse_id("before", q.get("before").map_or("", String::as_str))?.map(NotificationId);
    let found = state.notifications.list(&me.principal, false, before, PAGE).await?;
    let older = (found.len() as i64 == PAGE).then(|| found.last().map(|n| n.id.0)).flatten();
    render(
        StatusCode::OK,
        &NotificationsPage {
            shell: me.shell(Area::Home),
            rows: found.iter().map(|n| NotificationRow::new(&me.tr, n)).collect(),
            unread: state.notifications.unread(&me.principal).await?,
            older,
        },
    )
}

/// GET /crm/notifications/bell: the bell, as the top bar shows it.
async fn bell(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    render(StatusCode::OK, &Bell { tr: me.tr, unread: state.notifications.unread(&me.principal).await? })
}

/// POST /crm/notifications/read: all read.
async fn read_all(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.notifications.mark_read(&me.principal, None).await?;
    Ok(flash::redirect("/crm/notifications", Flash::success("flash.notifications_read")))
}

/// POST /crm/notifications/{id}/open: marks it read and goes where it points.
async fn open(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let id = NotificationId(id);
    let found = state.notifications.get(&me.principal, id).await?;
    state.notifications.mark_read(&me.principal, Some(&[id])).await?;
    // Only our own pages: a notification's address is written by us, but never trusted blindly.
    let to = if found.url.starts_with("/crm/") && !found.url.starts_with("//") { found.url } else { "/crm".into() };
    Ok(axum::response::IntoResponse::into_response(axum::response::Redirect::to(&to)))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/notifications", get(list))
        .route("/crm/notifications/bell", get(bell))
        .route("/crm/notifications/read", post(read_all))
        .route("/crm/notifications/{id}/open", post(open))
}
