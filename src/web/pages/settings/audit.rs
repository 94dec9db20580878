//! The audit log (UserManage): newest first, filterable by entity.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::pages::render;
use crate::web::views::Area;
use crate::web::views::settings::{AuditPage, AuditRow, SettingsTab, tabs};

const PER_PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    entity: String,
    page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let page = q.page.unwrap_or(1).max(1);
    let entity = Some(q.entity.as_str()).filter(|e| !e.is_empty());
    let result = state.audit.list(&me.principal, entity, page, PER_PAGE).await?;
    render(
        StatusCode::OK,
        &AuditPage {
            shell: me.shell(Area::Settings),
            tabs: tabs(SettingsTab::Audit, &me.principal),
            rows: result.items.iter().map(|e| AuditRow::new(me.tr, e)).collect(),
            entities: result.entities,
            entity: q.entity,
            page,
            pages: ((result.total + PER_PAGE - 1) / PER_PAGE).max(1),
            total: result.total,
        },
    )
}
