//! Channels: a tenant's Twilio numbers and Telegram bots — what each kind needs, checked.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::chat::Transport;
use super::{DomainError, Locale, Phone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub i64);

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    TwilioSms,
    TwilioWhatsapp,
    Telegram,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::TwilioSms, ChannelKind::TwilioWhatsapp, ChannelKind::Telegram];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::TwilioSms => "twilio_sms",
            ChannelKind::TwilioWhatsapp => "twilio_whatsapp",
            ChannelKind::Telegram => "telegram",
        }
    }

    /// The transport of the messages this channel carries.
    pub fn transport(self) -> Transport {
        match self {
            ChannelKind::TwilioSms => Transport::Sms,
            ChannelKind::TwilioWhatsapp => Transport::Whatsapp,
            ChannelKind::Telegram => Transport::Telegram,
        }
    }

    pub fn is_twilio(self) -> bool {
        self != ChannelKind::Telegram
    }
}

impl FromStr for ChannelKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(DomainError::new("kind", "invalid_channel_kind"))
    }
}

/// Where Twilio sends from: a number of the account, or a Messaging Service that picks one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    From(Phone),
    Service(String),
}

/// What a channel needs to talk to its provider.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Twilio {
        account_sid: String,
        auth_token: String,
        sender: TwilioSender,
    },
    /// `webhook_secret` is the `secret_token` Telegram sends back with every update.
    Telegram {
        bot_token: String,
        webhook_secret: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Twilio { account_sid, sender, .. } => f
                .debug_struct("Twilio")
                .field("account_sid", account_sid)
                .field("auth_token", &"…")
                .field("sender", sender)
                .finish(),
            Credentials::Telegram { .. } => f.write_str("Telegram { … }"),
        }
    }
}

impl Credentials {
    /// The secret's last four characters, which is all a page ever shows of it.
    pub fn hint(&self) -> String {
        let secret = match self {
            Credentials::Twilio { auth_token, .. } => auth_token,
            Credentials::Telegram { bot_token, .. } => bot_token,
        };
        let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    }
}

/// A channel as typed in a form or sent to the API. On an edit, an empty secret keeps the
/// one saved; everything else is replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ChannelInput {
    pub kind: String,
    pub name: String,
    pub account_sid: String,
    pub auth_token: String,
    pub from: String,
    pub messaging_service_sid: String,
    pub bot_token: String,
    /// A Telegram chat (a number, or `@channel`) that gets a line for every inbound message.
    pub notify_chat_id: String,
    /// The language of those lines (`en`, `ru`, `uz`); empty: English.
    pub notify_locale: String,
}

/// A channel's secrets, as sealed at rest; on an edit, the ones it may leave out.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SavedSecrets {
    pub auth_token: Option<String>,
    pub bot_token: Option<String>,
    pub webhook_secret: Option<String>,
}

impl fmt::Debug for SavedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SavedSecrets(…)")
    }
}

impl From<&Credentials> for SavedSecrets {
    fn from(c: &Credentials) -> Self {
        match c {
            Credentials::Twilio { auth_token, .. } => {
                SavedSecrets { auth_token: Some(auth_token.clone()), ..Default::default() }
            }
            Credentials::Telegram { bot_token, webhook_secret } => SavedSecrets {
                bot_token: Some(bot_token.clone()),
                webhook_secret: Some(webhook_secret.clone()),
                ..Default::default()
            },
        }
    }
}

/// A channel fit to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFields {
    pub kind: ChannelKind,
    pub name: String,
    pub credentials: Credentials,
    pub notify_chat_id: Option<String>,
    pub notify_locale: Locale,
}

impl ChannelInput {
    pub const MAX_NAME_CHARS: usize = 100;

    /// Every field checked; all errors at once, each naming its field. `saved` supplies the
    /// secrets an edit did not retype; `new_secret` makes a webhook secret for a new bot.
    pub fn parse(
        &self,
        saved: &SavedSecrets,
        new_secret: impl FnOnce() -> String,
    ) -> Result<ChannelFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let kind = self.kind.trim().parse::<ChannelKind>().map_err(|e| errors.push(e)).ok();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(DomainError::new("name", "required"));
        } else if name.chars().count() > Self::MAX_NAME_CHARS {
            errors.push(DomainError::new("name", "too_long"));
        }
        let credentials = match kind {
            None => None,
            Some(ChannelKind::Telegram) => {
                let typed = self.bot_token.trim();
                let bot_token = match (typed.is_empty(), &saved.bot_token) {
                    (true, Some(kept)) => Some(kept.clone()),
                    (true, None) => {
                        errors.push(DomainError::new("bot_token", "required"));
                        None
                    }
                    (false, _) if is_bot_token(typed) => Some(typed.to_owned()),
                    (false, _) => {
                        errors.push(DomainError::new("bot_token", "invalid_bot_token"));
                        None
                    }
                };
                bot_token.map(|bot_token| Credentials::Telegram {
                    bot_token,
                    webhook_secret: saved.webhook_secret.clone().unwrap_or_else(new_secret),
                })
            }
            Some(_) => self.twilio(saved, &mut errors),
        };
        let notify_chat_id = self.notify_chat_id.trim();
        let notify_chat_id = match kind {
            _ if notify_chat_id.is_empty() => None,
            Some(ChannelKind::Telegram) if is_telegram_chat(notify_chat_id) => Some(notify_chat_id.to_owned()),
            Some(ChannelKind::Telegram) => {
                errors.push(DomainError::new("notify_chat_id", "invalid_telegram_chat"));
                None
            }
            _ => {
                errors.push(DomainError::new("notify_chat_id", "telegram_only"));
                None
            }
        };
        let notify_locale = match self.notify_locale.trim() {
            "" => Locale::En,
            raw => raw
                .parse()
                .map_err(|_| errors.push(DomainError::new("notify_locale", "invalid_locale")))
                .unwrap_or_default(),
        };
        match (kind, credentials) {
            (Some(kind), Some(credentials)) if errors.is_empty() => {
                Ok(ChannelFields { kind, name: name.to_owned(), credentials, notify_chat_id, notify_locale })
            }
            _ => Err(errors),
        }
    }

    fn twilio(&self, saved: &SavedSecrets, errors: &mut Vec<DomainError>) -> Option<Credentials> {
        let account_sid = self.account_sid.trim();
        let account_sid = if account_sid.is_empty() {
            errors.push(DomainError::new("account_sid", "required"));
            None
        } else if is_sid("AC", account_sid) {
            Some(account_sid.to_owned())
        } else {
            errors.push(DomainError::new("account_sid", "invalid_account_sid"));
            None
        };
        let typed = self.auth_token.trim();
        let auth_token = match (typed.is_empty(), &saved.auth_token) {
            (true, Some(kept)) => Some(kept.clone()),
            (true, None) => {
                errors.push(DomainError::new("auth_token", "required"));
                None
            }
            (false, _) if typed.len() == 32 && typed.bytes().all(|b| b.is_ascii_hexdigit()) => Some(typed.to_owned()),
            (false, _) => {
                errors.push(DomainError::new("auth_token", "invalid_auth_token"));
                None
            }
        };
        let (from, service) = (self.from.trim(), self.messaging_service_sid.trim());
        let sender = match (from.is_empty(), service.is_empty()) {
            (true, true) => {
                errors.push(DomainError::new("from", "sender_required"));
                None
            }
            (false, false) => {
                errors.push(DomainError::new("messaging_service_sid", "one_sender_only"));
                None
            }
            (false, true) => {
                // Twilio's own prefix is welcome; the number is what is stored.
                let number = from.strip_prefix("whatsapp:").unwrap_or(from);
                Phone::parse(number)
                    .map(TwilioSender::From)
                    .map_err(|_| errors.push(DomainError::new("from", "invalid_phone")))
                    .ok()
            }
            (true, false) if is_sid("MG", service) => Some(TwilioSender::Service(service.to_owned())),
            (true, false) => {
                errors.push(DomainError::new("messaging_service_sid", "invalid_messaging_service_sid"));
                None
            }
        };
        Some(Credentials::Twilio { account_sid: account_sid?, auth_token: auth_token?, sender: sender? })
    }
}

/// A Twilio SID: its two-letter prefix and 32 hex digits.
fn is_sid(prefix: &str, s: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `123456789:AA…`: the bot's numeric id, a colon, and at least 30 URL-safe characters.
fn is_bot_token(s: &str) -> bool {
    match s.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.len() <= 20
                && id.bytes().all(|b| b.is_ascii_digit())
                && (30..=64).contains(&secret.len())
                && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// A chat id (`-100123…` for groups) or a public `@channelname`.
fn is_telegram_chat(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let numeric = !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit());
    let handle = s
        .strip_prefix('@')
        .is_some_and(|h| (5..=32).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    numeric || handle
}

/// A channel as pages and the API show it: everything but its secrets.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub name: String,
    pub enabled: bool,
    pub account_sid: Option<String>,
    pub sender: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub secret_hint: String,
    pub bot_username: Option<String>,
    pub notify_chat_id: Option<String>,
    pub notify_locale: Locale,
    pub health: Health,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a channel is doing, as its last test or delivery found it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Health {
    pub ok_at: Option<DateTime<Utc>>,
    /// The last failure that was the channel's: its cause code (`no_answer`, `bad_credentials`…),
    /// what the provider said, and when.
    pub error: Option<(String, String, DateTime<Utc>)>,
}

impl Health {
    /// A failure newer than the last success: the channel is failing now.
    pub fn failing(&self) -> Option<&(String, String, DateTime<Utc>)> {
        self.error.as_ref().filter(|(.., at)| self.ok_at.is_none_or(|ok| *at > ok))
    }
}

/// Why a call to a provider failed, in one of a few causes people are told in their language,
/// with what the provider or the network said kept as the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trouble {
    pub cause: Cause,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// No answer: the network, a time-out, the provider down.
    NoAnswer,
    /// An answer we could not read.
    Unreadable,
    /// The provider does not accept the channel's credentials.
    BadCredentials,
    /// The provider answered and refused the request.
    Refused,
    /// This server's settings for the provider (its address, `PUBLIC_URL`) are wrong.
    Setup,
}

impl Cause {
    pub fn code(self) -> &'static str {
        match self {
            Cause::NoAnswer => "no_answer",
            Cause::Unreadable => "unreadable",
            Cause::BadCredentials => "bad_credentials",
            Cause::Refused => "refused",
            Cause::Setup => "setup",
        }
    }
}

impl Trouble {
    pub fn new(cause: Cause, detail: impl Into<String>) -> Self {
        Self { cause, detail: detail.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const BOT: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn fixed() -> String {
        "fresh-secret".into()
    }

    #[test]
    fn a_twilio_channel_needs_an_account_a_token_and_exactly_one_sender() {
        let input = ChannelInput {
            kind: "twilio_whatsapp".into(),
            name: " Support line ".into(),
            account_sid: SID.into(),
            auth_token: TOKEN.into(),
            from: "whatsapp:+998 90 123 45 67".into(),
            ..Default::default()
        };
        let ok = input.parse(&SavedSecrets::default(), fixed).unwrap();
        assert_eq!(ok.kind, ChannelKind::TwilioWhatsapp);
        assert_eq!(ok.name, "Support line");
        let Credentials::Twilio { sender: TwilioSender::From(phone), .. } = &ok.credentials else { panic!() };
        assert_eq!(phone.as_str(), "+998901234567");
        assert_eq!(ok.credentials.hint(), "…cdef");

        let bad = ChannelInput {
            kind: "twilio_sms".into(),
            account_sid: "AC123".into(),
            auth_token: "short".into(),
            from: "+998901234567".into(),
            messaging_service_sid: "MG0123456789abcdef0123456789abcdef".into(),
            notify_chat_id: "123".into(),
            ..Default::default()
        };
        let codes: Vec<_> =
            bad.parse(&SavedSecrets::default(), fixed).unwrap_err().into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            codes,
            [
                ("name", "required"),
                ("account_sid", "invalid_account_sid"),
                ("auth_token", "invalid_auth_token"),
                ("messaging_service_sid", "one_sender_only"),
                ("notify_chat_id", "telegram_only"),
            ]
        );
        let none = ChannelInput { kind: "fax".into(), name: "x".into(), ..Default::default() };
        assert_eq!(none.parse(&SavedSecrets::default(), fixed).unwrap_err()[0].field, "kind");
    }

    #[test]
    fn an_edit_keeps_the_saved_secrets_it_does_not_retype() {
        let saved =
            SavedSecrets { auth_token: None, bot_token: Some(BOT.into()), webhook_secret: Some("kept-secret".into()) };
        let edit = ChannelInput {
            kind: "telegram".into(),
            name: "Bot".into(),
            notify_chat_id: "-1001234567890".into(),
            ..Default::default()
        };
        let ok = edit.parse(&saved, fixed).unwrap();
        assert_eq!(
            ok.credentials,
            Credentials::Telegram { bot_token: BOT.into(), webhook_secret: "kept-secret".into() }
        );
        assert_eq!(ok.notify_chat_id.as_deref(), Some("-1001234567890"));
        // A new bot without a token is refused; a new one gets a fresh webhook secret.
        assert_eq!(edit.parse(&SavedSecrets::default(), fixed).unwrap_err()[0].code, "required");
        let new = ChannelInput { bot_token: BOT.into(), ..edit };
        let Credentials::Telegram { webhook_secret, .. } =
            new.parse(&SavedSecrets::default(), fixed).unwrap().credentials
        else {
            panic!()
        };
        assert_eq!(webhook_secret, "fresh-secret");
        assert!(!is_bot_token("123:short") && !is_bot_token("abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"));
        assert!(is_telegram_chat("@crm_staff") && !is_telegram_chat("@ab") && !is_telegram_chat("chat"));
    }
}
