//! Staff notifications: each inbound message becomes "New message from {client}: {preview}"
//! with a link, in the Telegram chat a tenant's bot channel names, in that channel's language.
//! Best effort, after commit, never in the way of the webhook that brought the message.

use tokio::sync::broadcast;

use crate::domain::chat::Direction;
use crate::domain::{DomainEvent, Locale, TenantId};
use crate::events::EventBus;
use crate::i18n::Tr;

use super::{ChannelService, ChatService};

/// How much of a message a notification shows.
const PREVIEW_CHARS: usize = 120;

pub fn spawn_staff_notifier(
    bus: &EventBus,
    chats: ChatService,
    channels: ChannelService,
) -> tokio::task::JoinHandle<()> {
    // This node's events only: another node notifies of its own.
    let mut rx = bus.subscribe_local();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(DomainEvent::MessageReceived { tenant_id, chat_id, message_id, .. }) => {
                    // Each in its own task: a slow Telegram never holds up the next message.
                    let (chats, channels) = (chats.clone(), channels.clone());
                    tokio::spawn(async move {
                        if let Err(e) = notify(&chats, &channels, tenant_id, chat_id, message_id).await {
                            tracing::warn!(tenant = %tenant_id.0, error = %e, "staff notification not sent");
                        }
                    });
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(missed = n, "staff notifier lagged"),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}

async fn notify(
    chats: &ChatService,
    channels: &ChannelService,
    tenant: TenantId,
    chat: crate::domain::chat::ChatId,
    message: crate::domain::chat::MessageId,
) -> Result<(), String> {
    let targets = channels.notification_targets(tenant).await.map_err(|e| e.to_string())?;
    if targets.is_empty() {
        return Ok(());
    }
    let message = chats.message(tenant, message).await.map_err(|e| e.to_string())?;
    if message.direction != Direction::Inbound {
        return Ok(());
    }
    let link = format!("{}/crm/chats/{}", channels.endpoints().public_url, chat.0);
    for (bot, chat_id, locale) in targets {
        let text = line(locale, &message.sender_name, &message.body, message.attachments.len(), &link);
        bot.notify(&chat_id, &text).await?;
    }
    Ok(())
}

/// The notification's text in `locale`.
fn line(locale: Locale, client: &str, body: &str, files: usize, link: &str) -> String {
    let tr = Tr::new(locale);
    let mut preview: String = body.trim().chars().take(PREVIEW_CHARS).collect();
    if body.trim().chars().count() > PREVIEW_CHARS {
        preview.push('…');
    }
    if preview.is_empty() {
        preview = tr.t("notify.file_only").to_owned();
    } else if files > 0 {
        preview = format!("📎 {preview}");
    }
    tr.t("notify.new_message").replace("{client}", client).replace("{preview}", &preview) + "\n" + link
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_the_client_previews_the_text_and_links_the_chat() {
        let en = line(Locale::En, "Dilnoza", "Hello there", 0, "https://crm.example/crm/chats/3");
        assert_eq!(en, "New message from Dilnoza: Hello there\nhttps://crm.example/crm/chats/3");
        let ru = line(Locale::Ru, "Dilnoza", &"a".repeat(130), 0, "L");
        assert!(ru.starts_with("Новое сообщение от Dilnoza: ") && ru.contains("a…"));
        assert!(line(Locale::Uz, "Aziz", "", 1, "L").contains(Tr::new(Locale::Uz).t("notify.file_only")));
    }
}
