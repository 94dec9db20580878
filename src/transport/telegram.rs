//! Telegram: a bot's way out (sendMessage, sendPhoto, sendDocument) through teloxide's Bot
//! client, registering our webhook, fetching inbound files, and staff notifications.

use std::time::Duration;

use futures_util::future::BoxFuture;
use teloxide_core::Bot;
use teloxide_core::errors::{ApiError, RequestError};
use teloxide_core::net::Download;
use teloxide_core::payloads::{SendDocumentSetters, SendPhotoSetters, SetWebhookSetters};
use teloxide_core::requests::Requester;
use teloxide_core::types::{AllowedUpdate, ChatId, FileId, InputFile, Recipient};

use super::{Cause, Outbound, OutboundFile, Provider, RetryCause, SendError, Trouble};

/// Telegram's limit on a caption; a longer text goes as its own message.
const MAX_CAPTION_CHARS: usize = 1024;

/// One bot, as a channel configures it.
#[derive(Clone)]
pub struct TelegramClient {
    bot: Bot,
}

impl TelegramClient {
    /// `base` is `TELEGRAM_API_BASE`; a bad one is a configuration error.
    pub fn new(http: reqwest::Client, base: &str, token: &str) -> Result<Self, Trouble> {
        let url = reqwest::Url::parse(base)
            .map_err(|e| Trouble::new(Cause::Setup, format!("TELEGRAM_API_BASE is not a URL: {e}")))?;
        Ok(Self { bot: Bot::with_client(token, http).set_api_url(url) })
    }

    /// The bot's @username: the channel page's "Test connection".
    pub async fn me(&self) -> Result<String, Trouble> {
        let me = self.bot.get_me().await.map_err(|e| trouble(&e))?;
        Ok(me.user.username.clone().unwrap_or_else(|| me.user.first_name.clone()))
    }

    /// Points the bot's updates at `url`, each carrying `secret` in its header.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), Trouble> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| Trouble::new(Cause::Setup, format!("PUBLIC_URL does not make a URL: {e}")))?;
        self.bot
            .set_webhook(url)
            .secret_token(secret)
            .allowed_updates([AllowedUpdate::Message])
            .await
            .map(|_| ())
            .map_err(|e| trouble(&e))
    }

    /// Stops the bot's updates coming to us (its channel was deleted).
    pub async fn delete_webhook(&self) -> Result<(), String> {
        self.bot.delete_webhook().await.map(|_| ()).map_err(|e| describe(&e))
    }

    /// A line for staff: to a chat id, or a public `@channel`.
    pub async fn notify(&self, chat: &str, text: &str) -> Result<(), String> {
        let to = match chat.parse::<i64>() {
            Ok(id) => Recipient::Id(ChatId(id)),
            Err(_) => Recipient::ChannelUsername(chat.to_owned()),
        };
        self.bot.send_message(to, text).await.map(|_| ()).map_err(|e| describe(&e))
    }

    /// Downloads an inbound file (getFile, then the file itself), at most `limit` bytes.
    pub async fn fetch(&self, file_id: &str, limit: usize) -> Result<(bytes::Bytes, String), String> {
        let file = self.bot.get_file(FileId(file_id.to_owned())).await.map_err(|e| describe(&e))?;
        if file.meta.size as usize > limit {
            return Err(format!("the file is larger than {} MB", limit / 1_000_000));
        }
        let mut bytes = Vec::with_capacity(file.meta.size as usize);
        self.bot.download_file(&file.path, &mut bytes).await.map_err(|e| format!("the download failed: {e}"))?;
        if bytes.len() > limit {
            return Err(format!("the file is larger than {} MB", limit / 1_000_000));
        }
        Ok((bytes.into(), file.path))
    }

    async fn send_file(&self, chat: ChatId, file: &OutboundFile, caption: Option<&str>) -> Result<i32, RequestError> {
        let input = InputFile::memory(file.bytes.clone()).file_name(file.name.clone());
        let sent = if crate::domain::attachment::shows_inline(&file.content_type) {
            let request = self.bot.send_photo(chat, input);
            match caption {
                Some(c) => request.caption(c).await?,
                None => request.await?,
            }
        } else {
            let request = self.bot.send_document(chat, input);
            match caption {
                Some(c) => request.caption(c).await?,
                None => request.await?,
            }
        };
        Ok(sent.id.0)
    }
}

/// A failed call's cause, with the bot's error (without its token) as the detail.
fn trouble(e: &RequestError) -> Trouble {
    let cause = match e {
        RequestError::Api(ApiError::InvalidToken) => Cause::BadCredentials,
        RequestError::Network(_) | RequestError::Io(_) => Cause::NoAnswer,
        RequestError::InvalidJson { .. } => Cause::Unreadable,
        _ => Cause::Refused,
    };
    Trouble::new(cause, describe(e))
}

/// A bot's error as a sentence without its token (teloxide's messages may hold the URL).
fn describe(e: &RequestError) -> String {
    match e {
        RequestError::Api(ApiError::InvalidToken) => "Telegram does not know this bot token.".into(),
        RequestError::Api(api) => format!("Telegram: {api}"),
        RequestError::RetryAfter(after) => format!("Telegram asks to wait {} s", after.seconds()),
        RequestError::Network(e) => format!("Telegram did not answer: {}", super::twilio::without_url(e)),
        RequestError::MigrateToChatId(_) => "The group has become a supergroup: use its new chat id.".into(),
        RequestError::InvalidJson { .. } => "Telegram's answer was unreadable.".into(),
        RequestError::Io(_) => "A file could not be read.".into(),
    }
}

/// How a failed send ends: blocked or unknown chats fail for good, flood control waits the
/// time Telegram gives, no connection is retried; a request that may have reached Telegram
/// without its answer reaching us (a time-out, an unreadable answer) has an unknown outcome.
fn send_error(e: RequestError) -> SendError {
    match e {
        RequestError::RetryAfter(after) => SendError::Retry {
            cause: RetryCause::Busy,
            reason: format!("Telegram asks to wait {} s", after.seconds()),
            after: Some(Duration::from_secs(after.seconds().into())),
        },
        RequestError::Network(ref net) if net.is_connect() => {
            SendError::Retry { cause: RetryCause::NoAnswer, reason: describe(&e), after: None }
        }
        RequestError::Network(_) | RequestError::InvalidJson { .. } => SendError::Unknown { reason: describe(&e) },
        RequestError::Api(ApiError::BotBlocked) => {
            SendError::Rejected { code: "bot_blocked".into(), reason: "The client has blocked the bot.".into() }
        }
        RequestError::Api(ApiError::ChatNotFound | ApiError::UserDeactivated) => SendError::Rejected {
            code: "chat_not_found".into(),
            reason: "Telegram cannot reach this chat: the client has not written to the bot or left Telegram.".into(),
        },
        RequestError::Api(ApiError::InvalidToken) => {
            SendError::Rejected { code: "invalid_token".into(), reason: describe(&e) }
        }
        other => SendError::Rejected { code: "telegram_error".into(), reason: describe(&other) },
    }
}

/// A Telegram channel's way out.
pub struct TelegramProvider {
    pub client: TelegramClient,
}

impl Provider for TelegramProvider {
    fn send<'a>(&'a self, message: &'a Outbound) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let chat = message.to.parse::<i64>().map(ChatId).map_err(|_| SendError::Rejected {
                code: "chat_not_found".into(),
                reason: "Telegram bots can only answer a client who has written to the bot first.".into(),
            })?;
            let body = message.body.trim();
            let caption_fits = body.chars().count() <= MAX_CAPTION_CHARS;
            let mut last = None;
            // Once a part has gone, sending the message again would repeat it.
            let failed = |e: RequestError, sent: Option<i32>| match (send_error(e), sent) {
                (SendError::Retry { reason, .. } | SendError::Rejected { reason, .. }, Some(_)) => {
                    SendError::Unknown { reason: format!("Only part of the message reached Telegram: {reason}") }
                }
                (e, _) => e,
            };
            if message.files.is_empty() || !caption_fits {
                let sent = self.client.bot.send_message(chat, body).await.map_err(|e| failed(e, last))?;
                last = Some(sent.id.0);
            }
            for (i, file) in message.files.iter().enumerate() {
                let caption = (i == 0 && caption_fits && !body.is_empty()).then_some(body);
                last = Some(self.client.send_file(chat, file, caption).await.map_err(|e| failed(e, last))?);
            }
            let id = last.expect("a message has a text or a file");
            Ok(format!("{}:{id}", chat.0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_bots_fail_for_good_and_flood_control_waits_as_told() {
        assert_eq!(
            send_error(RequestError::Api(ApiError::BotBlocked)),
            SendError::Rejected { code: "bot_blocked".into(), reason: "The client has blocked the bot.".into() }
        );
        let wait = send_error(RequestError::RetryAfter(teloxide_core::types::Seconds::from_seconds(7)));
        assert!(
            matches!(wait, SendError::Retry { cause: RetryCause::Busy, after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(matches!(send_error(RequestError::Api(ApiError::ChatNotFound)), SendError::Rejected { .. }));
    }
}
