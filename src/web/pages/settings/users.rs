//! Users admin (UserManage): list, add, change role, deactivate and reactivate.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::{Role, UserId};
use crate::services::ServiceError;
use crate::services::users::NewUserInput;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{NewUserPage, SettingsTab, UserRow, UsersPage, tabs};
use crate::web::views::{Area, FormErrors};

pub async fn list(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    let users = state.users.list(&me.principal).await?;
    render(
        StatusCode::OK,
        &UsersPage {
            shell: me.shell(Area::Settings),
            tabs: tabs(SettingsTab::Users, &me.principal),
            users: users.iter().map(|u| UserRow::from_summary(me.tr, u, me.principal.user_id)).collect(),
            roles: Role::ALL,
        },
    )
}

fn new_page(me: &CurrentUser, email: String, name: String, role: String, errors: FormErrors) -> NewUserPage {
    NewUserPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Users, &me.principal),
        email,
        name,
        role,
        roles: Role::ALL,
        errors,
    }
}

pub async fn new(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.users.authorize_manage(&me.principal)?;
    render(
        StatusCode::OK,
        &new_page(&me, String::new(), String::new(), Role::Agent.as_str().into(), FormErrors::default()),
    )
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let input = NewUserInput { email: &form.email, name: &form.name, password: &form.password, role: &form.role };
    match state.users.add(&me.principal, input).await {
        Ok(_) => Ok(flash::redirect("/crm/settings/users", Flash::success("flash.user_added"))),
        Err(errors) => {
            let errors = form_errors(me.tr, errors)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &new_page(&me, form.email, form.name, form.role, errors))
        }
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let done = state.users.change_role(&me.principal, UserId(id), &form.role).await;
    back_to_list(done, "flash.role_changed")
}

/// Back to the list, saying what was done, or why it was refused (the last admin must stay):
/// a rule of the team is told where the change was asked for, not on an error page.
fn back_to_list<T>(done: Result<T, ServiceError>, success: &'static str) -> Result<Response, AppError> {
    match done {
        Ok(_) => Ok(flash::redirect("/crm/settings/users", Flash::success(success))),
        Err(ServiceError::Refused { code: "last_admin" }) => {
            Ok(flash::redirect("/crm/settings/users", Flash::error("error.last_admin")))
        }
        Err(ServiceError::Refused { code: "deactivate_self" }) => {
            Ok(flash::redirect("/crm/settings/users", Flash::error("error.deactivate_self")))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn deactivate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    back_to_list(state.users.set_active(&me.principal, UserId(id), false).await, "flash.user_deactivated")
}

pub async fn reactivate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state.users.set_active(&me.principal, UserId(id), true).await?;
    Ok(flash::redirect("/crm/settings/users", Flash::success("flash.user_reactivated")))
}
