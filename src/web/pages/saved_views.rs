//! Saved views of the lists: the bar above a list's rows, saving the one on screen, deleting one.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use crate::domain::Role;
use crate::domain::bulk::BulkEntity;
use crate::domain::saved_view::{ViewFields, ViewId};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::bulk::{ViewRow, ViewsBar, list_path};

/// The views bar of list `entity`, whose query string is now `query`.
pub async fn bar(state: &AppState, me: &CurrentUser, entity: BulkEntity, query: String) -> Result<ViewsBar, AppError> {
    let by = &me.principal;
    let rows = state
        .views
        .list(by, entity)
        .await?
        .into_iter()
        .map(|v| ViewRow {
            id: v.id.0,
            url: if v.query.is_empty() {
                list_path(entity).to_owned()
            } else {
                format!("{}?{}", list_path(entity), v.query)
            },
            deletable: v.user_id == by.user_id || by.role == Role::Admin,
            name: v.name,
            shared: v.shared,
        })
        .collect();
    Ok(ViewsBar { rows, entity: entity.as_str(), query, csrf: me.csrf.clone() })
}

/// POST /crm/views `entity`, `name`, `query`, `shared`: back to the list, showing the view.
async fn save(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let text = |k: &str| f.get(k).map_or("", String::as_str);
    for k in ["entity", "name", "query"] {
        crate::web::input::check_text(k, text(k))?;
    }
    let fields = ViewFields::parse(text("entity"), text("name"), text("query"), text("shared") == "1")
        .map_err(AppError::Invalid)?;
    let list = list_path(fields.entity);
    let back = if fields.query.is_empty() { list.to_owned() } else { format!("{list}?{}", fields.query) };
    match state.views.save(&me.principal, &fields).await {
        Ok(_) => Ok(flash::redirect(&back, Flash::success("flash.view_saved"))),
        Err(ServiceError::Conflict { .. }) => Ok(flash::redirect(&back, Flash::error("flash.view_name_taken"))),
        Err(e) => Err(e.into()),
    }
}

/// POST /crm/views/{id}/delete
async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let entity = BulkEntity::parse(f.get("entity").map_or("clients", String::as_str))?;
    state.views.delete(&me.principal, ViewId(id)).await?;
    Ok(flash::redirect(list_path(entity), Flash::success("flash.view_deleted")))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/crm/views", post(save)).route("/crm/views/{id}/delete", post(delete))
}
