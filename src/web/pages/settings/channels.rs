//! Channels (ChannelManage): the tenant's Twilio numbers and Telegram bots — add, edit,
//! enable or disable, delete, test against the provider — and the webhook URLs to give Twilio.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::Locale;
use crate::domain::channel::{ChannelId, ChannelInput, ChannelKind};
use crate::services::channels::Saved;
use crate::services::channels::Unreachable;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::pages::{form_errors, render};
use crate::web::views::settings::{ChannelFormPage, ChannelRow, ChannelsPage, Notice, SettingsTab, tabs};
use crate::web::views::{Area, FormErrors};

async fn list_page(state: &AppState, me: &CurrentUser, notice: Option<Notice>) -> Result<ChannelsPage, AppError> {
    let channels = state.channels.list(&me.principal).await?;
    let endpoints = state.channels.endpoints();
    Ok(ChannelsPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Channels, &me.principal),
        channels: channels.iter().map(|c| ChannelRow::new(me.tr, c)).collect(),
        notice,
        unreachable: endpoints.unreachable().map(|u| match u {
            Unreachable::Private => "channels.public_url_private",
            Unreachable::NotHttps => "channels.public_url_not_https",
        }),
        public_url: endpoints.public_url.clone(),
        twilio_inbound: endpoints.twilio_inbound(),
        twilio_status: endpoints.twilio_status(),
        telegram: endpoints.telegram(),
    })
}

pub async fn list(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    render(StatusCode::OK, &list_page(&state, &me, None).await?)
}

fn form_page(
    me: &CurrentUser,
    id: Option<i64>,
    kind: ChannelKind,
    input: ChannelInput,
    secret_hint: Option<String>,
    errors: FormErrors,
) -> ChannelFormPage {
    ChannelFormPage {
        shell: me.shell(Area::Settings),
        tabs: tabs(SettingsTab::Channels, &me.principal),
        id,
        kind: kind.as_str(),
        input,
        secret_hint,
        errors,
        locales: Locale::ALL.into_iter().map(|l| (l.as_str(), l.native_name())).collect(),
    }
}

#[derive(Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    kind: String,
}

pub async fn new(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<KindQuery>,
) -> Result<Response, AppError> {
    state.channels.authorize_manage(&me.principal)?;
    let kind: ChannelKind = q.kind.parse().unwrap_or(ChannelKind::TwilioSms);
    // Staff notifications speak the organisation's language unless the admin picks another.
    let locale = state.settings.get(&me.principal).await?.locale;
    let input = ChannelInput { notify_locale: locale.as_str().to_owned(), ..ChannelInput::default() };
    render(StatusCode::OK, &form_page(&me, None, kind, input, None, FormErrors::default()))
}

/// After a save: the list, with what Telegram said to the webhook when it was one.
async fn saved(state: &AppState, me: &CurrentUser, saved: Saved, status: StatusCode) -> Result<Response, AppError> {
    match saved.webhook {
        None => Ok(flash::redirect("/crm/settings/channels", Flash::success("flash.channel_saved"))),
        Some(answer) => {
            let notice = match answer {
                Ok(said) => {
                    Notice::ok(saved.channel.name.clone(), format!("{} {said}", me.tr.t("channels.webhook_registered")))
                }
                Err(trouble) => Notice::trouble(me.tr, saved.channel.name.clone(), saved.channel.kind, &trouble),
            };
            render(status, &list_page(state, me, Some(notice)).await?)
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(input): Form<ChannelInput>,
) -> Result<Response, AppError> {
    match state.channels.create(&me.principal, &input).await {
        Ok(done) => saved(&state, &me, done, StatusCode::CREATED).await,
        Err(errors) => {
            let kind = input.kind.parse().unwrap_or(ChannelKind::TwilioSms);
            let errors = form_errors(me.tr, errors)?;
            let input = ChannelInput { auth_token: String::new(), bot_token: String::new(), ..input };
            render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&me, None, kind, input, None, errors))
        }
    }
}

pub async fn edit(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let c = state.channels.get(&me.principal, ChannelId(id)).await?;
    let input = ChannelInput {
        kind: c.kind.as_str().to_owned(),
        name: c.name,
        account_sid: c.account_sid.unwrap_or_default(),
        from: c.sender.unwrap_or_default(),
        messaging_service_sid: c.messaging_service_sid.unwrap_or_default(),
        notify_chat_id: c.notify_chat_id.unwrap_or_default(),
        notify_locale: c.notify_locale.as_str().to_owned(),
        ..ChannelInput::default()
    };
    render(StatusCode::OK, &form_page(&me, Some(id), c.kind, input, Some(c.secret_hint), FormErrors::default()))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<ChannelInput>,
) -> Result<Response, AppError> {
    let current = state.channels.get(&me.principal, ChannelId(id)).await?;
    match state.channels.update(&me.principal, ChannelId(id), &input).await {
        Ok(done) => saved(&state, &me, done, StatusCode::OK).await,
        Err(errors) => {
            let errors = form_errors(me.tr, errors)?;
            let input = ChannelInput { auth_token: String::new(), bot_token: String::new(), ..input };
            let page = form_page(&me, Some(id), current.kind, input, Some(current.secret_hint), errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// Calls the provider with the channel's credentials and shows its answer on the list.
pub async fn test(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let channel = state.channels.get(&me.principal, ChannelId(id)).await?;
    let notice = match state.channels.test(&me.principal, ChannelId(id)).await? {
        Ok(said) => Notice::ok(channel.name, format!("{} {said}", me.tr.t("channels.test_ok"))),
        Err(trouble) => Notice::trouble(me.tr, channel.name, channel.kind, &trouble),
    };
    render(StatusCode::OK, &list_page(&state, &me, Some(notice)).await?)
}

#[derive(Deserialize)]
pub struct EnableForm {
    enabled: bool,
}

pub async fn set_enabled(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<EnableForm>,
) -> Result<Response, AppError> {
    state.channels.set_enabled(&me.principal, ChannelId(id), form.enabled).await?;
    let key = if form.enabled { "flash.channel_enabled" } else { "flash.channel_disabled" };
    Ok(flash::redirect("/crm/settings/channels", Flash::success(key)))
}

pub async fn delete(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.channels.delete(&me.principal, ChannelId(id)).await?;
    Ok(flash::redirect("/crm/settings/channels", Flash::success("flash.channel_deleted")))
}
