//! ChannelService: a tenant's channels — saved with their secrets sealed, tested against the
//! provider, Telegram's webhook registered on save — and the provider each one makes.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::crypto::SecretKey;
use crate::db::TenantTx;
use crate::domain::channel::{Channel, ChannelId, ChannelInput, ChannelKind, Credentials, SavedSecrets, TwilioSender};
use crate::domain::chat::Transport;
use crate::domain::{DomainEvent, Permission, Principal, TenantId};
use crate::events::EventBus;
use crate::repos::audit;
use crate::repos::channels::{self as repo, ChannelRow};
use crate::transport::telegram::{TelegramClient, TelegramProvider};
use crate::transport::twilio::{TwilioClient, TwilioProvider};
use crate::transport::{Cause, Provider, Trouble};

use super::ServiceError;

/// What the sealed secrets are for: the key derived for them is used for nothing else.
const SEAL: &str = "channel-secrets";

/// Where the providers are, and where they reach us.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
    pub twilio_api_base: String,
    pub telegram_api_base: String,
}

impl Endpoints {
    pub fn twilio_inbound(&self) -> String {
        format!("{}/crm/webhooks/twilio", self.public_url)
    }

    pub fn twilio_status(&self) -> String {
        format!("{}/crm/webhooks/twilio/status", self.public_url)
    }

    pub fn telegram(&self) -> String {
        format!("{}/tg/webhook", self.public_url)
    }

    /// Why Twilio and Telegram could not deliver to `PUBLIC_URL`, if they cannot: an address
    /// only this network knows, or plain http (Telegram takes webhooks over https only).
    pub fn unreachable(&self) -> Option<Unreachable> {
        let url = reqwest::Url::parse(&self.public_url).ok()?;
        let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let private = match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                let shared = ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1]);
                ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || shared
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.is_unspecified() || ip.is_unique_local() || ip.is_unicast_link_local()
            }
            Err(_) => {
                host == "localhost"
                    || [".localhost", ".local", ".internal", ".lan", ".home.arpa"].iter().any(|s| host.ends_with(s))
                    || !host.contains('.')
            }
        };
        if private {
            Some(Unreachable::Private)
        } else if url.scheme() != "https" {
            Some(Unreachable::NotHttps)
        } else {
            None
        }
    }
}

/// Why providers cannot reach `PUBLIC_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Loopback, a private network, or a name only this network resolves.
    Private,
    /// Not https.
    NotHttps,
}

/// A channel saved, and (for Telegram) what the provider said when its webhook was registered.
#[derive(Debug)]
pub struct Saved {
    pub channel: Channel,
    pub webhook: Option<Result<String, Trouble>>,
}

#[derive(Clone)]
pub struct ChannelService {
    pool: PgPool,
    events: EventBus,
    key: SecretKey,
    http: reqwest::Client,
    endpoints: Arc<Endpoints>,
}

impl ChannelService {
    pub fn new(pool: PgPool, events: EventBus, key: SecretKey, endpoints: Endpoints) -> Self {
        // Provider calls never hold a request or a worker for long.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("crm/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with rustls and no custom roots always builds");
        Self { pool, events, key, http, endpoints: Arc::new(endpoints) }
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Whether `by` may manage the tenant's channels (a channel's form asks before it is shown).
    pub fn authorize_manage(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ChannelManage])
    }

    pub async fn list(&self, by: &Principal) -> Result<Vec<Channel>, ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let channels = repo::list(&mut tx).await?;
        tx.commit().await?;
        Ok(channels)
    }

    pub async fn get(&self, by: &Principal, id: ChannelId) -> Result<Channel, ServiceError> {
        self.authorize_manage(by)?;
        self.fetch(by.tenant_id, id).await
    }

    async fn fetch(&self, tenant: TenantId, id: ChannelId) -> Result<Channel, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let channel = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(channel)
    }

    pub async fn create(&self, by: &Principal, input: &ChannelInput) -> Result<Saved, ServiceError> {
        self.save(by, None, input).await
    }

    /// Replaces a channel's settings; secrets left empty stay as they were. The kind cannot
    /// change (the messages it carried are of its kind).
    pub async fn update(&self, by: &Principal, id: ChannelId, input: &ChannelInput) -> Result<Saved, ServiceError> {
        self.save(by, Some(id), input).await
    }

    async fn save(&self, by: &Principal, id: Option<ChannelId>, input: &ChannelInput) -> Result<Saved, ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let (saved, existing) = match id {
            Some(id) => {
                let existing = repo::get(&mut tx, id).await?;
                let sealed = repo::secrets(&mut tx, id).await?;
                (self.open(id, &sealed)?, Some(existing))
            }
            None => (SavedSecrets::default(), None),
        };
        let mut input = input.clone();
        if let Some(existing) = &existing {
            if !input.kind.trim().is_empty() && input.kind.trim() != existing.kind.as_str() {
                return Err(crate::domain::DomainError::new("kind", "kind_cannot_change").into());
            }
            input.kind = existing.kind.as_str().to_owned();
        }
        let fields = input.parse(&saved, crate::crypto::random_token)?;
        let sealed = self
            .key
            .seal(SEAL, &serde_json::to_vec(&SavedSecrets::from(&fields.credentials)).expect("strings serialise"));
        let (account_sid, sender, service, webhook_key) = match &fields.credentials {
            Credentials::Twilio { account_sid, sender, .. } => {
                let (from, service) = match sender {
                    TwilioSender::From(phone) => (Some(phone.as_str().to_owned()), None),
                    TwilioSender::Service(sid) => (None, Some(sid.clone())),
                };
                (Some(account_sid.clone()), from, service, None)
            }
            Credentials::Telegram { webhook_secret, .. } => {
                (None, None, None, Some(crate::crypto::token_hash(webhook_secret)))
            }
        };
        let hint = fields.credentials.hint();
        let row = ChannelRow {
            kind: fields.kind,
            name: &fields.name,
            account_sid: account_sid.as_deref(),
            sender: sender.as_deref(),
            messaging_service_sid: service.as_deref(),
            webhook_key: webhook_key.as_deref(),
            secrets: &sealed,
            secret_hint: &hint,
            notify_chat_id: fields.notify_chat_id.as_deref(),
            notify_locale: fields.notify_locale.as_str(),
        };
        let (written, action) = match id {
            None => (repo::insert(&mut tx, &row).await?, "channel_created"),
            Some(id) => (repo::update(&mut tx, id, &row).await?, "channel_updated"),
        };
        record(&mut tx, by, action, &written).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ChannelSaved { tenant_id: by.tenant_id, channel_id: written.id });
        let webhook = match &fields.credentials {
            Credentials::Telegram { bot_token, webhook_secret } => {
                Some(self.register_telegram(by.tenant_id, written.id, bot_token, webhook_secret).await)
            }
            Credentials::Twilio { .. } => None,
        };
        let channel = self.fetch(by.tenant_id, written.id).await?;
        Ok(Saved { channel, webhook })
    }

    /// Tells Telegram where to send the bot's updates (our URL, the channel's secret), and
    /// remembers the bot's username. Returns what Telegram said.
    async fn register_telegram(
        &self,
        tenant: TenantId,
        id: ChannelId,
        bot_token: &str,
        secret: &str,
    ) -> Result<String, Trouble> {
        let client = TelegramClient::new(self.http.clone(), &self.endpoints.telegram_api_base, bot_token)?;
        let username = client.me().await?;
        let ours = |e: sqlx::Error| Trouble::new(Cause::Setup, e.to_string());
        let mut tx = TenantTx::begin(&self.pool, tenant).await.map_err(ours)?;
        repo::set_bot_username(&mut tx, id, Some(&username))
            .await
            .map_err(|e| Trouble::new(Cause::Setup, e.to_string()))?;
        tx.commit().await.map_err(ours)?;
        client.set_webhook(&self.endpoints.telegram(), secret).await?;
        Ok(format!("@{username} → {}", self.endpoints.telegram()))
    }

    pub async fn set_enabled(&self, by: &Principal, id: ChannelId, enabled: bool) -> Result<Channel, ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let channel = repo::set_enabled(&mut tx, id, enabled).await?;
        record(&mut tx, by, if enabled { "channel_enabled" } else { "channel_disabled" }, &channel).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ChannelSaved { tenant_id: by.tenant_id, channel_id: id });
        Ok(channel)
    }

    /// Deletes a channel; its messages stay in their chats. A bot is told to stop sending
    /// us updates (best effort: its webhook secret no longer opens anything anyway).
    pub async fn delete(&self, by: &Principal, id: ChannelId) -> Result<(), ServiceError> {
        self.authorize_manage(by)?;
        let credentials = self.credentials(by.tenant_id, id).await.ok();
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let channel = repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "channel_deleted", &channel).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ChannelDeleted { tenant_id: by.tenant_id, channel_id: id });
        if let Some(Credentials::Telegram { bot_token, .. }) = credentials
            && let Ok(bot) = self.telegram(&bot_token)
            && let Err(e) = bot.delete_webhook().await
        {
            tracing::warn!(channel = id.0, error = %e, "Telegram did not remove the deleted bot's webhook");
        }
        Ok(())
    }

    /// Asks the provider who it thinks this channel is: `Ok` with its answer, `Err` with its
    /// refusal (both to show as they are).
    pub async fn test(&self, by: &Principal, id: ChannelId) -> Result<Result<String, Trouble>, ServiceError> {
        self.authorize_manage(by)?;
        let credentials = self.credentials(by.tenant_id, id).await?;
        let answer = match credentials {
            Credentials::Twilio { account_sid, auth_token, .. } => {
                TwilioClient::new(self.http.clone(), &self.endpoints.twilio_api_base, &account_sid, &auth_token)
                    .check()
                    .await
            }
            Credentials::Telegram { bot_token, .. } => {
                match TelegramClient::new(self.http.clone(), &self.endpoints.telegram_api_base, &bot_token) {
                    Ok(client) => client.me().await.map(|name| format!("@{name}")),
                    Err(e) => Err(e),
                }
            }
        };
        // The channel's badge shows what the test found.
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let health = answer.as_ref().map(|_| ()).map_err(|t| (t.cause.code(), t.detail.as_str()));
        repo::record_health(&mut tx, id, health).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// The Twilio channel a webhook is for: the one, among those of the request's account with
    /// its Messaging Service or number (of any tenant), whose own auth token made `signature`
    /// over `url` and `fields`. `ours` is our number as Twilio wrote it (`whatsapp:` for
    /// WhatsApp): To of an inbound message, From of a status report. `None` for anything that
    /// cannot be verified: a channel that claims another's account or number verifies nothing.
    pub async fn verify_twilio(
        &self,
        url: &str,
        fields: &[(String, String)],
        signature: &str,
        ours: &str,
    ) -> Result<Option<(TenantId, ChannelId, ChannelKind)>, ServiceError> {
        let field =
            |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        let Some(account) = field("AccountSid") else { return Ok(None) };
        let kind = if ours.starts_with("whatsapp:") { ChannelKind::TwilioWhatsapp } else { ChannelKind::TwilioSms };
        let number = ours.trim_start_matches("whatsapp:");
        let candidates =
            repo::twilio_candidates(&self.pool, account, kind, number, field("MessagingServiceSid")).await?;
        for (tenant, channel) in &candidates {
            // A channel whose secrets do not open verifies nothing; the others may.
            let Ok(Credentials::Twilio { auth_token, .. }) = self.credentials(*tenant, *channel).await else {
                continue;
            };
            if crate::transport::twilio::verify(&auth_token, url, fields, signature) {
                return Ok(Some((*tenant, *channel, kind)));
            }
        }
        if !candidates.is_empty() {
            tracing::warn!(candidates = candidates.len(), "Twilio webhook whose signature no channel makes refused");
        }
        Ok(None)
    }

    /// The Telegram channel whose webhook secret this is, if any. The look-up goes by the
    /// secret's hash; the secret itself is then compared in constant time.
    pub async fn verify_telegram(&self, secret: &str) -> Result<Option<(TenantId, ChannelId)>, ServiceError> {
        let Some((tenant, channel)) = repo::find_telegram(&self.pool, &crate::crypto::token_hash(secret)).await? else {
            return Ok(None);
        };
        Ok(match self.credentials(tenant, channel).await? {
            Credentials::Telegram { webhook_secret, .. }
                if crate::crypto::constant_time_eq(&webhook_secret, secret) =>
            {
                Some((tenant, channel))
            }
            _ => None,
        })
    }

    /// A channel's credentials, unsealed.
    pub async fn credentials(&self, tenant: TenantId, id: ChannelId) -> Result<Credentials, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let channel = repo::get(&mut tx, id).await?;
        let sealed = repo::secrets(&mut tx, id).await?;
        tx.commit().await?;
        let secrets = self.open(id, &sealed)?;
        let corrupt = || ServiceError::Repo(crate::repos::RepoError::Corrupt(format!("channel {id}: secrets")));
        Ok(match channel.kind {
            ChannelKind::Telegram => Credentials::Telegram {
                bot_token: secrets.bot_token.ok_or_else(corrupt)?,
                webhook_secret: secrets.webhook_secret.ok_or_else(corrupt)?,
            },
            _ => {
                let sender = match (channel.sender, channel.messaging_service_sid) {
                    (Some(from), _) => TwilioSender::From(crate::domain::Phone::parse(&from).map_err(|_| corrupt())?),
                    (None, Some(service)) => TwilioSender::Service(service),
                    (None, None) => return Err(corrupt()),
                };
                Credentials::Twilio {
                    account_sid: channel.account_sid.ok_or_else(corrupt)?,
                    auth_token: secrets.auth_token.ok_or_else(corrupt)?,
                    sender,
                }
            }
        })
    }

    fn open(&self, id: ChannelId, sealed: &[u8]) -> Result<SavedSecrets, ServiceError> {
        self.key
            .open(SEAL, sealed)
            .and_then(|opened| serde_json::from_slice(&opened.plain).ok())
            .ok_or_else(|| {
                // Sealed under another CRM_SECRET_KEY: the channel must be saved again.
                ServiceError::Refused { code: "channel_secrets_unreadable" }
            })
            .inspect_err(|_| tracing::error!(channel = id.0, "channel secrets do not open with CRM_SECRET_KEY"))
    }

    /// Seals again, under the key's current reading, every channel secret of every tenant that
    /// only its previous reading opens (see `crypto::SecretKey`); `crm serve` runs it at start.
    /// Returns how many channels it resealed.
    pub async fn reseal_stale(&self) -> Result<usize, ServiceError> {
        if !self.key.has_previous() {
            return Ok(0);
        }
        let mut resealed = 0;
        for tenant in crate::repos::auth::list_tenants(&self.pool).await? {
            let mut tx = TenantTx::begin(&self.pool, tenant.id).await?;
            for (id, sealed) in repo::all_secrets_for_update(&mut tx).await? {
                match self.key.open(SEAL, &sealed) {
                    Some(opened) if opened.stale => {
                        repo::set_secrets(&mut tx, id, &self.key.seal(SEAL, &opened.plain)).await?;
                        resealed += 1;
                    }
                    Some(_) => {}
                    None => tracing::error!(channel = id.0, "channel secrets do not open with CRM_SECRET_KEY"),
                }
            }
            tx.commit().await?;
        }
        if resealed > 0 {
            tracing::info!(resealed, "channel secrets sealed again under the key's current reading");
        }
        Ok(resealed)
    }

    /// A Twilio client for the account of a channel's credentials.
    pub fn twilio(&self, account_sid: &str, auth_token: &str) -> TwilioClient {
        TwilioClient::new(self.http.clone(), &self.endpoints.twilio_api_base, account_sid, auth_token)
    }

    /// A Telegram client for a bot token.
    pub fn telegram(&self, bot_token: &str) -> Result<TelegramClient, String> {
        TelegramClient::new(self.http.clone(), &self.endpoints.telegram_api_base, bot_token).map_err(|t| t.detail)
    }

    /// The provider of the tenant's enabled channel for `transport`, if it has one: `prefer`
    /// (the channel the client last wrote on) while it is enabled, else the oldest.
    pub async fn provider(
        &self,
        tenant: TenantId,
        transport: Transport,
        prefer: Option<ChannelId>,
    ) -> Result<Option<(ChannelId, Arc<dyn Provider>)>, ServiceError> {
        let Some(kind) = ChannelKind::ALL.into_iter().find(|k| k.transport() == transport) else { return Ok(None) };
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let id = repo::enabled(&mut tx, kind, prefer).await?;
        tx.commit().await?;
        let Some(id) = id else { return Ok(None) };
        let provider: Arc<dyn Provider> = match self.credentials(tenant, id).await? {
            Credentials::Twilio { account_sid, auth_token, sender } => Arc::new(TwilioProvider {
                client: self.twilio(&account_sid, &auth_token),
                sender,
                whatsapp: kind == ChannelKind::TwilioWhatsapp,
                status_callback: self.endpoints.twilio_status(),
            }),
            Credentials::Telegram { bot_token, .. } => Arc::new(TelegramProvider {
                client: self.telegram(&bot_token).map_err(|_| ServiceError::Refused { code: "telegram_api_base" })?,
            }),
        };
        Ok(Some((id, provider)))
    }

    /// Where the tenant's staff hear of inbound messages: each enabled Telegram channel with a
    /// notification chat, as its bot, that chat, and the language it speaks.
    pub async fn notification_targets(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(TelegramClient, String, crate::domain::Locale)>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let channels = repo::list(&mut tx).await?;
        tx.commit().await?;
        let mut targets = Vec::new();
        for c in channels.into_iter().filter(|c| c.enabled && c.kind == ChannelKind::Telegram) {
            let Some(chat) = c.notify_chat_id else { continue };
            if let Credentials::Telegram { bot_token, .. } = self.credentials(tenant, c.id).await?
                && let Ok(bot) = self.telegram(&bot_token)
            {
                targets.push((bot, chat, c.notify_locale));
            }
        }
        Ok(targets)
    }

    /// The bot of the tenant's Telegram channel `id`, while it is enabled; `None` when it is
    /// gone, off, or not a Telegram bot.
    pub async fn telegram_bot(&self, tenant: TenantId, id: ChannelId) -> Result<Option<TelegramClient>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let channel = repo::list(&mut tx).await?.into_iter().find(|c| c.id == id);
        tx.commit().await?;
        let Some(channel) = channel.filter(|c| c.enabled && c.kind == ChannelKind::Telegram) else { return Ok(None) };
        match self.credentials(tenant, channel.id).await? {
            Credentials::Telegram { bot_token, .. } => Ok(self.telegram(&bot_token).ok()),
            _ => Ok(None),
        }
    }

    /// The transports the tenant's enabled channels carry.
    pub async fn transports(&self, tenant: TenantId) -> Result<Vec<Transport>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let kinds = repo::enabled_kinds(&mut tx).await?;
        tx.commit().await?;
        Ok(kinds.into_iter().map(ChannelKind::transport).collect())
    }
}

async fn record(tx: &mut TenantTx, by: &Principal, action: &str, c: &Channel) -> Result<(), ServiceError> {
    let summary = format!("{} ({})", c.name, c.kind.as_str());
    let entry = audit::Entry { action, entity: "channel", entity_id: &c.id.to_string(), summary: &summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(())
}

#[cfg(test)]
mod public_url_tests {
    use super::{Endpoints, Unreachable};

    fn check(url: &str) -> Option<Unreachable> {
        Endpoints { public_url: url.into(), twilio_api_base: String::new(), telegram_api_base: String::new() }
            .unreachable()
    }

    #[test]
    fn only_a_public_https_address_reaches_us() {
        assert_eq!(check("https://crm.example.com"), None);
        assert_eq!(check("http://crm.example.com"), Some(Unreachable::NotHttps));
        for private in [
            "http://127.0.0.1:3000",
            "https://localhost",
            "https://10.0.0.5",
            "https://192.168.1.2:8443",
            "https://[::1]:3000",
            "https://crm.local",
            "https://intranet",
            "https://100.64.0.1",
        ] {
            assert_eq!(check(private), Some(Unreachable::Private), "{private}");
        }
    }
}
