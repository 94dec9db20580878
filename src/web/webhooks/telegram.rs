//! `POST /tg/webhook`: a Telegram bot's updates. The `X-Telegram-Bot-Api-Secret-Token` header
//! names the channel (the secret we gave Telegram on save) and so proves the request.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use teloxide_core::types::{Message, Update, UpdateKind};

use crate::domain::chat::Transport;
use crate::i18n::Tr;
use crate::services::inbound::{Arrived, Media, Origin, Received};
use crate::web::AppState;
use crate::web::error::AppError;

pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .ok_or(AppError::Forbidden)?;
    let (tenant, channel) = state.channels.verify_telegram(secret).await?.ok_or(AppError::Forbidden)?;
    let update: Update =
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(format!("not a Telegram update: {e}")))?;
    let UpdateKind::Message(message) = &update.kind else {
        // Edits, reactions, group events: nothing for a conversation with a client.
        return Ok(StatusCode::OK.into_response());
    };
    // A colleague linking their own Telegram (`/start CODE` from their profile page) is not a
    // client writing in.
    if let Some(text) = message.text().filter(|_| message.chat.is_private())
        && let Some(locale) = state.users.link_telegram(tenant, channel, text, message.chat.id.0).await?
    {
        let (channels, chat) = (state.channels.clone(), message.chat.id.0.to_string());
        tokio::spawn(async move {
            if let Ok(Some(bot)) = channels.telegram_bot(tenant, channel).await
                && let Err(e) = bot.notify(&chat, Tr::new(locale).t("notify.telegram_linked")).await
            {
                tracing::warn!(tenant = %tenant.0, error = %e, "Telegram link not confirmed");
            }
        });
        return Ok(StatusCode::OK.into_response());
    }
    let Some(arrived) = arrived(channel, update.id.0, message) else {
        return Ok(StatusCode::OK.into_response());
    };
    match state.inbound.receive(tenant, arrived).await? {
        Received::Stored(message) => {
            tracing::info!(tenant = %tenant.0, message = message.0, "Telegram message received")
        }
        Received::Duplicate => {
            tracing::info!(tenant = %tenant.0, update = update.id.0, "Telegram update delivered twice")
        }
    }
    Ok(StatusCode::OK.into_response())
}

/// What a private message to the bot carries: its text or caption, and its photo (the largest
/// size), document or voice note. `None` for chats with groups and for what carries neither
/// (stickers, locations…). `/start`, a client's first touch of the bot, is kept as it is.
fn arrived(channel: crate::domain::channel::ChannelId, update_id: u32, m: &Message) -> Option<Arrived> {
    if !m.chat.is_private() {
        return None;
    }
    let user = m.from.as_ref()?;
    let mut media = Vec::new();
    if let Some(photo) = m.photo().and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height)) {
        media.push(Media { source: photo.file.id.0.clone(), file_name: None, content_type: Some("image/jpeg".into()) });
    }
    if let Some(d) = m.document() {
        media.push(Media {
            source: d.file.id.0.clone(),
            file_name: d.file_name.clone(),
            content_type: d.mime_type.as_ref().map(|t| t.to_string()),
        });
    }
    if let Some(v) = m.voice() {
        media.push(Media {
            source: v.file.id.0.clone(),
            file_name: Some("voice.ogg".into()),
            content_type: Some(v.mime_type.as_ref().map_or("audio/ogg".into(), |t| t.to_string())),
        });
    }
    let body = m.text().or(m.caption()).unwrap_or("").to_owned();
    if body.trim().is_empty() && media.is_empty() {
        return None;
    }
    Some(Arrived {
        channel,
        transport: Transport::Telegram,
        provider_id: format!("update:{update_id}"),
        from: Origin::Telegram {
            chat_id: m.chat.id.0,
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
        },
        body,
        media,
    })
}
