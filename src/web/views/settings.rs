//! Settings pages: the user's profile, API tokens, and (for admins) users, channels and the audit log.

use askama::Template;

use crate::domain::channel::{ChannelKind, Trouble};
use crate::i18n::Tr;

use super::{FormErrors, Shell};
use crate::domain::audit::AuditEntry;
use crate::domain::settings::SettingsInput;
use crate::domain::user::ApiToken;
use crate::domain::{Currency, HomeCountry, Permission, Principal, Role, TimeZone, UserId};
use crate::services::users::UserSummary;

/// Which settings tab is open; tabs the user may not open are not shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SettingsTab {
    Profile,
    Organisation,
    Pipelines,
    Tags,
    Fields,
    Tokens,
    Users,
    Channels,
    Audit,
}

pub struct TabLink {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub fn tabs(active: SettingsTab, who: &Principal) -> Vec<TabLink> {
    let mut all = vec![
        (SettingsTab::Profile, "/crm/settings/profile", "settings.tab.profile"),
        (SettingsTab::Tokens, "/crm/settings/tokens", "settings.tab.tokens"),
    ];
    if who.can(Permission::SettingsManage) {
        all.push((SettingsTab::Organisation, "/crm/settings/organisation", "settings.tab.organisation"));
        all.push((SettingsTab::Pipelines, "/crm/settings/pipelines", "settings.tab.pipelines"));
    }
    if who.can(Permission::TagManage) {
        all.push((SettingsTab::Tags, "/crm/settings/tags", "settings.tab.tags"));
    }
    if who.can(Permission::FieldManage) {
        all.push((SettingsTab::Fields, "/crm/settings/fields", "settings.tab.fields"));
    }
    if who.can(Permission::UserManage) {
        all.push((SettingsTab::Users, "/crm/settings/users", "settings.tab.users"));
    }
    if who.can(Permission::ChannelManage) {
        all.push((SettingsTab::Channels, "/crm/settings/channels", "settings.tab.channels"));
    }
    if who.can(Permission::UserManage) {
        all.push((SettingsTab::Audit, "/crm/settings/audit", "settings.tab.audit"));
    }
    all.into_iter().map(|(t, href, label)| TabLink { href, label, active: t == active }).collect()
}

#[derive(Template)]
#[template(path = "settings/profile.html")]
pub struct ProfilePage {
    pub shell: Shell,
    /// Whether the user is away; `None` for those never given chats.
    pub away: Option<bool>,
    pub telegram: crate::services::users::TelegramLink,
    /// A code just made to link Telegram with, and the bot to send it to: (code, bot).
    pub telegram_code: Option<(String, String)>,
    pub tabs: Vec<TabLink>,
    pub name: String,
    pub email: String,
    /// "" follows the browser.
    pub locale: String,
    pub profile_errors: FormErrors,
    pub password_errors: FormErrors,
}

impl ProfilePage {
    pub fn telegram_linked(&self) -> bool {
        self.telegram == crate::services::users::TelegramLink::Linked
    }

    /// The tenant's bot the user may link to, when not linked yet.
    pub fn telegram_bot(&self) -> Option<&str> {
        match &self.telegram {
            crate::services::users::TelegramLink::Available { bot } => Some(bot),
            _ => None,
        }
    }

    /// The link that opens the bot with the code just made: Telegram sends `/start CODE`.
    pub fn telegram_link(&self) -> Option<String> {
        self.telegram_code.as_ref().map(|(code, bot)| format!("https://t.me/{bot}?start={code}"))
    }
}

/// The tenant's settings as the form shows them: each value as text.
#[derive(Template)]
#[template(path = "settings/organisation.html")]
pub struct OrganisationPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub form: SettingsInput,
    pub errors: FormErrors,
    pub rates: RatesForm,
}

/// The exchange rates as their form shows them: a row for each rate, and empty rows to add
/// more; each row's text as typed, and its reasons when refused.
pub struct RatesForm {
    pub base: String,
    pub rows: Vec<RateRow>,
}

#[derive(Default)]
pub struct RateRow {
    pub currency: String,
    pub rate: String,
    pub currency_error: Option<&'static str>,
    pub rate_error: Option<&'static str>,
}

impl RatesForm {
    /// Empty rows the form offers below the rates.
    pub const SPARE_ROWS: usize = 3;

    pub fn new(base: String, mut rows: Vec<RateRow>) -> Self {
        rows.extend((0..Self::SPARE_ROWS).map(|_| RateRow::default()));
        RatesForm { base, rows }
    }

    /// Every currency code, for the field's suggestions.
    pub fn codes(&self) -> Vec<Currency> {
        Currency::all().collect()
    }
}

impl OrganisationPage {
    /// The countries to choose from: code and translated name, by name.
    pub fn countries(&self) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = HomeCountry::all()
            .map(|c| (c.code(), self.shell.tr.lookup(&format!("country.{}", c.code()), c.code())))
            .collect();
        all.sort_by(|a, b| a.1.cmp(b.1));
        all
    }

    pub fn currencies(&self) -> Vec<Currency> {
        Currency::all().collect()
    }

    /// The clocks to choose from, by IANA name.
    pub fn time_zones(&self) -> impl Iterator<Item = &'static str> {
        TimeZone::choices().map(TimeZone::as_str)
    }

    pub fn value<'a>(&'a self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// Whether the form's value is `option` (to mark it selected).
    pub fn is(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref().unwrap_or("") == option
    }
}

pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub is_me: bool,
    pub sessions: i64,
    pub created: String,
}

impl UserRow {
    pub fn from_summary(tr: Tr, s: &UserSummary, me: UserId) -> Self {
        Self {
            id: s.user.id,
            name: s.user.name.clone(),
            email: s.user.email.clone(),
            role: s.user.role,
            active: s.user.active,
            is_me: s.user.id == me,
            sessions: s.live_sessions,
            created: tr.datetime(&s.user.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/users.html")]
pub struct UsersPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub users: Vec<UserRow>,
    pub roles: [Role; 3],
}

#[derive(Template)]
#[template(path = "settings/user_new.html")]
pub struct NewUserPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub roles: [Role; 3],
    pub errors: FormErrors,
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

impl TokenRow {
    pub fn new(tr: Tr, t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created: tr.datetime(&t.created_at),
            last_used: t.last_used_at.as_ref().map(|at| tr.datetime(at)),
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/tokens.html")]
pub struct TokensPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub tokens: Vec<TokenRow>,
    /// The token just created: shown this once.
    pub created: Option<String>,
    pub name: String,
    pub errors: FormErrors,
}

pub struct AuditRow {
    pub when: String,
    /// `None`: the system or the command line.
    pub actor: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub summary: String,
}

impl AuditRow {
    /// What happened, as a sentence in the reader's language ("Olivia added the client Aziz");
    /// an entry no sentence is written for yet shows its parts.
    pub fn sentence(&self, tr: &Tr) -> String {
        let actor = self.actor.as_deref().unwrap_or_else(|| tr.t("audit.system"));
        let subject = match (self.entity.as_str(), self.action.as_str()) {
            // "snoozed 2026-12-02T10:00:00Z": the status in words, the time as it is.
            ("chat", "status_changed") => {
                let (status, rest) = self.summary.split_once(' ').unwrap_or((&self.summary, ""));
                let status = tr.lookup(&format!("audit.status.{status}"), "");
                let status = if status.is_empty() { self.summary.split(' ').next().unwrap_or("") } else { status };
                [status, rest].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
            }
            _ => self.summary.clone(),
        };
        let key = format!("audit.say.{}.{}", self.entity, self.action);
        match tr.lookup(&key, "") {
            "" => {
                let action = tr.lookup(&format!("audit.action.{}", self.action), "");
                let entity = tr.lookup(&format!("audit.entity.{}", self.entity), "");
                let action = if action.is_empty() { self.action.as_str() } else { action };
                let entity = if entity.is_empty() { self.entity.as_str() } else { entity };
                format!("{actor} {action} · {entity} #{}: {subject}", self.entity_id)
            }
            text => text.replace("{actor}", actor).replace("{subject}", &subject).replace("{id}", &self.entity_id),
        }
    }
}

impl AuditRow {
    pub fn new(tr: Tr, e: &AuditEntry) -> Self {
        Self {
            when: tr.datetime(&e.created_at),
            actor: e.actor_user_id.map(|_| e.actor_name.clone()),
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            summary: e.summary.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
pub struct AuditPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub rows: Vec<AuditRow>,
    pub entities: Vec<String>,
    pub entity: String,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

impl AuditPage {
    /// The URL of another page of the same filtered list.
    pub fn page_url(&self, page: i64) -> String {
        let mut url = format!("/crm/settings/audit?page={page}");
        if !self.entity.is_empty() {
            url.push_str(&format!("&entity={}", crate::web::error::urlencode(&self.entity)));
        }
        url
    }
}

/// One channel in the settings list.
pub struct ChannelRow {
    pub id: i64,
    pub kind: &'static str,
    pub name: String,
    pub enabled: bool,
    /// The number, Messaging Service or @bot it sends as.
    pub sends_as: String,
    pub secret_hint: String,
    pub notify_chat_id: Option<String>,
    pub updated: String,
    /// Failing now: the cause's message key, what the provider said, and since when.
    pub failing: Option<(String, String, String)>,
    /// The last success (a test or a delivery), if any.
    pub last_ok: Option<String>,
}

impl ChannelRow {
    pub fn new(tr: Tr, c: &crate::domain::channel::Channel) -> Self {
        let sends_as = match (&c.sender, &c.messaging_service_sid, &c.bot_username) {
            (Some(from), _, _) => super::phone(from),
            (None, Some(service), _) => service.clone(),
            (None, None, Some(bot)) => format!("@{bot}"),
            _ => String::new(),
        };
        Self {
            id: c.id.0,
            kind: c.kind.as_str(),
            name: c.name.clone(),
            enabled: c.enabled,
            sends_as,
            secret_hint: c.secret_hint.clone(),
            notify_chat_id: c.notify_chat_id.clone(),
            updated: tr.datetime(&c.updated_at),
            failing: c
                .health
                .failing()
                .map(|(code, said, at)| (format!("channels.health.{code}"), said.clone(), tr.datetime(at))),
            last_ok: c.health.ok_at.as_ref().map(|at| tr.datetime(at)),
        }
    }
}

/// What a provider said to the last action on this page (a test, a webhook registration).
pub struct Notice {
    pub ok: bool,
    pub channel: String,
    pub text: String,
    /// What the provider or the network said, for whoever digs deeper ("" if nothing).
    pub detail: String,
}

impl Notice {
    pub fn ok(channel: String, text: String) -> Self {
        Self { ok: true, channel, text, detail: String::new() }
    }

    /// A failed call to the channel's provider: one translated sentence for its cause.
    pub fn trouble(tr: Tr, channel: String, kind: ChannelKind, trouble: &Trouble) -> Self {
        let provider = match kind {
            ChannelKind::Telegram => "Telegram",
            _ => "Twilio",
        };
        let text = tr.lookup(&format!("channels.trouble.{}", trouble.cause.code()), "").replace("{provider}", provider);
        Self { ok: false, channel, text, detail: trouble.detail.clone() }
    }
}

#[derive(Template)]
#[template(path = "settings/channels.html")]
pub struct ChannelsPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub channels: Vec<ChannelRow>,
    pub notice: Option<Notice>,
    /// Why providers cannot reach `PUBLIC_URL` (a message key), if they cannot.
    pub unreachable: Option<&'static str>,
    pub public_url: String,
    pub twilio_inbound: String,
    pub twilio_status: String,
    pub telegram: String,
}

#[derive(Template)]
#[template(path = "settings/channel_form.html")]
pub struct ChannelFormPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    /// `None`: a new channel.
    pub id: Option<i64>,
    pub kind: &'static str,
    pub input: crate::domain::channel::ChannelInput,
    /// The saved secret's last characters, on an edit.
    pub secret_hint: Option<String>,
    pub errors: FormErrors,
    pub locales: Vec<(&'static str, &'static str)>,
}

impl ChannelFormPage {
    pub fn is_twilio(&self) -> bool {
        self.kind != "telegram"
    }

    pub fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/settings/channels/{id}"),
            None => "/crm/settings/channels".to_owned(),
        }
    }
}
