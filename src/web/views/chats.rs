//! The inbox: the chat list, a thread grouped by day with delivery ticks, and the composer
//! with its channel picker and templates. Fragments render alone for htmx and live updates.

use askama::Template;
use chrono::{DateTime, Utc};

use super::Shell;
use super::chat_work::{InboxView, ViewTab, WorkPanel, status_filter, status_label};
use crate::domain::chat::{Attachment, Message};
use crate::domain::chat::{ChatStatus, InboxRow};
use crate::domain::chat::{DeliveryStatus, Direction, Transport};
use crate::domain::tag::TagId;
use crate::i18n::Tr;
use crate::services::chats::Route;
use crate::services::message_templates::Filled;
use crate::web::error::urlencode;
use crate::web::views::clients::ContactRow;
use crate::web::views::tags::TagChip;

/// The inbox's filters, as they stand in the URL.
#[derive(Clone, Default, serde::Deserialize)]
pub struct InboxFilters {
    #[serde(default)]
    pub q: String,
    /// "1" (a checkbox): only chats with unread messages.
    #[serde(default)]
    pub unread: String,
    /// `mine`, `unassigned` or `all` (the default).
    #[serde(default)]
    pub view: String,
    /// A status, `any`, or empty for open chats.
    #[serde(default)]
    pub status: String,
    /// Only chats carrying this tag (its id).
    #[serde(default)]
    pub tag_id: String,
    pub page: Option<i64>,
}

impl InboxFilters {
    pub fn unread_only(&self) -> bool {
        !self.unread.is_empty() && self.unread != "0"
    }

    /// No search, no filter: every open chat. An empty list then means none at all.
    pub fn is_default(&self) -> bool {
        self.q.trim().is_empty()
            && !self.unread_only()
            && self.view() == InboxView::All
            && self.status.trim().is_empty()
            && self.tag_id().is_none()
    }

    /// The tag chosen; a malformed id is no filter.
    pub fn tag_id(&self) -> Option<TagId> {
        crate::domain::parse_id("tag_id", &self.tag_id).ok().flatten().map(TagId)
    }

    pub fn view(&self) -> InboxView {
        InboxView::from_slug(self.view.trim())
    }

    /// The status shown; `None` for any.
    pub fn status(&self) -> Option<ChatStatus> {
        status_filter(&self.status)
    }

    /// The same filters on another view.
    pub fn with_view(&self, view: InboxView) -> InboxFilters {
        InboxFilters { view: view.slug().to_owned(), page: None, ..self.clone() }
    }

    /// The status choices of the list's filter: (value, label key, selected).
    pub fn status_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let current = self.status();
        ChatStatus::ALL
            .into_iter()
            .map(|s| (s.as_str(), status_label(s), current == Some(s)))
            .chain(std::iter::once(("any", "chats.status.any", current.is_none())))
            .collect()
    }

    /// The query string of these filters (`?q=…&unread=1`), for links that keep them.
    pub fn query(&self, page: Option<i64>) -> String {
        let mut parts = Vec::new();
        if !self.q.trim().is_empty() {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if self.unread_only() {
            parts.push("unread=1".to_owned());
        }
        if self.view() != InboxView::All {
            parts.push(format!("view={}", self.view().slug()));
        }
        if !self.status.trim().is_empty() {
            parts.push(format!("status={}", urlencode(self.status.trim())));
        }
        if let Some(tag) = self.tag_id() {
            parts.push(format!("tag_id={}", tag.0));
        }
        if let Some(p) = page.filter(|p| *p > 1) {
            parts.push(format!("page={p}"));
        }
        if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
    }
}

/// One chat in the list.
pub struct ChatRow {
    pub id: i64,
    pub name: String,
    pub initials: String,
    pub preview: String,
    /// The preview is ours ("You: …") or a note.
    pub preview_prefix: &'static str,
    pub time: String,
    pub time_iso: String,
    pub unread: i32,
    /// How the newest message travelled.
    pub transport: Option<Transport>,
    pub active: bool,
    /// The last message carried files.
    pub files: bool,
    /// Who works the chat ("" when no one does).
    pub assignee: String,
    /// The status's label key when it is not open.
    pub status: Option<&'static str>,
    /// Found by a message's words: that message, and its text around them, marked.
    pub hit: Option<Hit>,
    pub tags: Vec<TagChip>,
}

/// A message that matched a search, as its row shows it.
pub struct Hit {
    pub message: i64,
    /// The text around the first match, in pieces; `true`: a word searched for.
    pub parts: Vec<(String, bool)>,
}

impl Hit {
    pub fn new(message: i64, body: &str, q: &str) -> Self {
        Self { message, parts: highlight(&one_line(body, 4096), q, 90) }
    }
}

/// `text` cut to about `width` characters around the first word of `q` it holds, in pieces
/// where the words of `q` (compared without case) are marked `true`.
pub fn highlight(text: &str, q: &str, width: usize) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let words: Vec<Vec<char>> = q
        .split_whitespace()
        .map(|w| w.chars().flat_map(char::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.len() >= 2)
        .collect();
    let found_at = |i: usize| words.iter().find(|w| lower[i..].starts_with(w)).map(Vec::len);
    let first = (0..chars.len()).find(|i| found_at(*i).is_some()).unwrap_or(0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut parts: Vec<(String, bool)> = Vec::new();
    if start > 0 {
        parts.push(("…".into(), false));
    }
    let mut i = start;
    while i < end {
        match found_at(i) {
            Some(n) => {
                let n = n.min(end - i);
                parts.push((chars[i..i + n].iter().collect(), true));
                i += n;
            }
            None => {
                match parts.last_mut() {
                    Some((s, false)) => s.push(chars[i]),
                    _ => parts.push((chars[i].to_string(), false)),
                }
                i += 1;
            }
        }
    }
    if end < chars.len() {
        match parts.last_mut() {
            Some((s, false)) => s.push('…'),
            _ => parts.push(("…".into(), false)),
        }
    }
    parts
}

impl ChatRow {
    pub fn transport_label(&self) -> &'static str {
        self.transport.map(transport_key).unwrap_or_default()
    }

    /// The row as the list shows it to a reader whose clock is `tr`'s, at `now`.
    pub fn new(tr: Tr, row: &InboxRow, active: Option<i64>, now: DateTime<Utc>) -> Self {
        let (preview, preview_prefix, time, time_iso, transport) = match &row.last {
            Some(last) => {
                let text = one_line(&last.body, 90);
                let prefix = match last.direction {
                    Direction::Outbound => "chats.you",
                    Direction::Note => "chats.note",
                    Direction::Inbound => "",
                };
                (text, prefix, short_time(tr, last.at, now), last.at.to_rfc3339(), Some(last.transport))
            }
            None => (String::new(), "", String::new(), String::new(), None),
        };
        Self {
            id: row.id.0,
            initials: super::initials(&row.client_name),
            name: row.client_name.clone(),
            preview,
            preview_prefix,
            time,
            time_iso,
            unread: row.unread,
            transport,
            active: active == Some(row.id.0),
            files: row.last.as_ref().is_some_and(|l| l.attachments > 0),
            assignee: row.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            status: (row.status != ChatStatus::Open).then(|| status_label(row.status)),
            hit: None,
            tags: TagChip::of(&row.tags),
        }
    }
}

/// The chat list (left pane), also rendered alone when searching, paging or told of news.
#[derive(Template)]
#[template(path = "chats/list.html")]
pub struct ChatList {
    pub tr: Tr,
    pub rows: Vec<ChatRow>,
    pub filters: InboxFilters,
    /// Mine, Unassigned and All, with their counts.
    pub tabs: Vec<ViewTab>,
    pub active: Option<i64>,
    /// The reader (whose chats "Mine" shows).
    pub me: i64,
    pub page: i64,
    pub has_next: bool,
    /// More conversations exist than the list may show: the user is told to search.
    pub capped: bool,
}

impl ChatList {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    /// The status the list shows, as its `data-status` tells a live update: a status, or `any`.
    pub fn status_shown(&self) -> &'static str {
        self.filters.status().map_or("any", |s| s.as_str())
    }

    /// Where a row leads: the chat, keeping the list's filters.
    pub fn href(&self, id: &i64) -> String {
        format!("/crm/chats/{id}{}", self.filters.query(None))
    }

    /// A chat found by a message: opened at that message (the page of messages ending there).
    pub fn hit_href(&self, id: &i64, message: &i64) -> String {
        let q = self.filters.query(None);
        let sep = if q.is_empty() { "?" } else { "&" };
        format!("/crm/chats/{id}{q}{sep}before={}#msg-{message}", message + 1)
    }

    /// The list's own URL (for live refreshes), on the chat shown.
    pub fn refresh_url(&self) -> String {
        let q = self.filters.query(None);
        let active = self.active.map(|a| format!("{}active={a}", if q.is_empty() { "?" } else { "&" }));
        format!("/crm/chats/list{q}{}", active.unwrap_or_default())
    }

    /// The inbox page showing this list (on the chat shown).
    pub fn page_url(&self) -> String {
        let base = self.active.map(|a| format!("/crm/chats/{a}")).unwrap_or_else(|| "/crm/chats".into());
        format!("{base}{}", self.filters.query(None))
    }

    pub fn next_url(&self) -> String {
        let base = self.active.map(|a| format!("/crm/chats/{a}")).unwrap_or_else(|| "/crm/chats".into());
        format!("{base}{}", self.filters.query(Some(self.page + 1)))
    }

    /// "Showing the newest N conversations…", under a list that may show no more.
    pub fn shown_limit(&self) -> String {
        self.tr.t1("chats.more_limit", "count", &self.rows.len())
    }
}

/// One message bubble.
#[derive(Clone)]
pub struct MessageView {
    pub id: i64,
    pub chat_id: i64,
    /// "in", "out" or "note": which side and colour.
    pub side: &'static str,
    pub sender: String,
    pub body: String,
    pub time: String,
    pub time_iso: String,
    pub day: String,
    pub transport: Transport,
    pub status: Option<DeliveryStatus>,
    /// What the provider (or we) said of a failed message, as said: the bubble's tooltip.
    pub error: String,
    /// Why it failed, in the reader's language ("" if it did not), and the provider's own
    /// words when the sentence is ours ("" when it quotes them).
    pub problem: String,
    pub problem_detail: String,
    pub attachments: Vec<AttachmentView>,
    pub can_retry: bool,
    /// A scheduled message's time to leave, as shown ("" otherwise), and whether it may be
    /// called off from here.
    pub send_at: String,
    pub send_at_iso: String,
    pub can_cancel: bool,
    /// A queued message whose last pass failed: the passes made and why, in the reader's
    /// language.
    pub retrying: Option<(i32, String)>,
    pub max_attempts: i32,
}

#[derive(Clone)]
pub struct AttachmentView {
    pub url: String,
    pub file_name: String,
    pub size: String,
    pub is_image: bool,
}

impl AttachmentView {
    fn new(chat_id: i64, a: &Attachment) -> Self {
        Self {
            url: format!("/crm/chats/{chat_id}/attachments/{}", a.id),
            file_name: a.file_name.clone(),
            size: file_size(a.size_bytes),
            is_image: a.is_image(),
        }
    }
}

impl MessageView {
    pub fn new(tr: Tr, m: &Message, can_retry: bool) -> Self {
        let side = match m.direction {
            Direction::Inbound => "in",
            Direction::Outbound => "out",
            Direction::Note => "note",
        };
        let error = match (&m.error_code, &m.error) {
            (Some(code), Some(reason)) if !reason.contains(code.as_str()) => format!("{reason} ({code})"),
            (_, Some(reason)) => reason.clone(),
            (Some(code), None) => code.clone(),
            (None, None) => String::new(),
        };
        let failed = m.status.is_some_and(DeliveryStatus::may_retry);
        let provider = m.transport.provider();
        // Our codes and the providers' common ones have a sentence; any other is the
        // provider's own words, introduced in the reader's language.
        let known = m.error_code.as_deref().map_or("", |code| tr.lookup(&format!("delivery.error.{code}"), ""));
        let (problem, problem_detail) = if !known.is_empty() {
            (known.replace("{provider}", provider), error.clone())
        } else if !error.is_empty() {
            (tr.t1("delivery.error.other", "provider", &provider).replace("{reason}", &error), String::new())
        } else {
            (String::new(), String::new())
        };
        let retrying = m.retrying.as_ref().map(|r| {
            let why = match r.cause {
                Some(cause) => tr.t1(&format!("delivery.retry.{}", cause.code()), "provider", &provider),
                None => r.reason.clone().unwrap_or_default(),
            };
            (r.attempts, why)
        });
        Self {
            id: m.id.0,
            chat_id: m.chat_id.0,
            side,
            sender: m.sender_name.clone(),
            body: m.body.clone(),
            time: tr.local(&m.created_at).format("%H:%M").to_string(),
            time_iso: m.created_at.to_rfc3339(),
            day: tr.local(&m.created_at).format("%Y-%m-%d").to_string(),
            transport: m.transport,
            status: m.status,
            error,
            problem,
            problem_detail,
            attachments: m.attachments.iter().map(|a| AttachmentView::new(m.chat_id.0, a)).collect(),
            can_retry: can_retry && (failed || m.retrying.is_some()),
            retrying,
            max_attempts: crate::domain::chat::MAX_DELIVERY_ATTEMPTS,
            send_at: m.send_at.map(|t| tr.datetime(&t)).unwrap_or_default(),
            send_at_iso: m.send_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            can_cancel: can_retry && m.status == Some(DeliveryStatus::Scheduled),
        }
    }
}

impl MessageView {
    pub fn transport_label(&self) -> &'static str {
        transport_key(self.transport)
    }

    pub fn status_label(&self) -> &'static str {
        match self.status {
            Some(DeliveryStatus::Scheduled) => "status.scheduled",
            Some(DeliveryStatus::Cancelled) => "status.cancelled",
            Some(DeliveryStatus::Queued) => "status.queued",
            Some(DeliveryStatus::Sent) => "status.sent",
            Some(DeliveryStatus::Delivered) => "status.delivered",
            Some(DeliveryStatus::Read) => "status.read",
            Some(DeliveryStatus::Failed) => "status.failed",
            Some(DeliveryStatus::Undelivered) => "status.undelivered",
            Some(DeliveryStatus::Unknown) => "status.unknown",
            None => "",
        }
    }

    /// How far delivery got, so the page keeps the newest state when the same message arrives
    /// twice (the sender's own answer and the live update).
    pub fn rank(&self) -> u8 {
        self.status.map(DeliveryStatus::rank).unwrap_or(0)
    }
}

/// A bubble alone: a status change replaces it in place, and the sender's answer.
#[derive(Template)]
#[template(path = "chats/message.html")]
pub struct MessageFragment {
    pub tr: Tr,
    pub csrf: String,
    pub m: MessageView,
    pub swap: Swap,
}

/// How a bubble rendered alone goes into a page.
#[derive(Clone, PartialEq, Eq)]
pub enum Swap {
    /// In place, as part of a page of messages.
    Inline,
    /// Out of band: replaces the bubble already shown (a status change); nothing if absent.
    Replace,
    /// Out of band: appended to its chat's thread when that thread is open, under a header
    /// of its day (the page keeps the first header of a day).
    Append,
}

impl MessageFragment {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn appends(&self) -> bool {
        self.swap == Swap::Append
    }

    pub fn replaces(&self) -> bool {
        self.swap == Swap::Replace
    }
}

/// A page of messages, oldest first, with day headers and the link to older ones.
#[derive(Template)]
#[template(path = "chats/messages.html")]
pub struct MessagesPage {
    pub tr: Tr,
    pub csrf: String,
    pub chat_id: i64,
    pub items: Vec<MessageView>,
    /// The oldest message shown, when older ones exist.
    pub older_than: Option<i64>,
    pub today: String,
    pub yesterday: String,
}

impl MessagesPage {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    /// The day header above a message: shown at each change of day.
    pub fn day_label(&self, day: &str) -> String {
        if day == self.today {
            self.tr.t("chats.today").to_owned()
        } else if day == self.yesterday {
            self.tr.t("chats.yesterday").to_owned()
        } else {
            day.to_owned()
        }
    }

    /// Whether message `i` starts a new day.
    pub fn starts_day(&self, i: &usize) -> bool {
        *i == 0 || self.items.get(*i - 1).map(|p| &p.day) != self.items.get(*i).map(|m| &m.day)
    }

    pub fn fragment(&self, m: &MessageView) -> MessageFragment {
        MessageFragment { tr: self.tr, csrf: self.csrf.clone(), m: m.clone(), swap: Swap::Inline }
    }
}

/// A template in the composer's picker, filled in for this client.
pub struct TemplateChoice {
    pub title: String,
    pub shortcut: String,
    pub text: String,
    pub unfilled: String,
}

impl From<&Filled> for TemplateChoice {
    fn from(f: &Filled) -> Self {
        Self {
            title: f.template.fields.title.clone().unwrap_or_else(|| one_line(f.template.fields.body.as_str(), 40)),
            shortcut: f.template.fields.shortcut.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            text: f.rendered.text.clone(),
            unfilled: f.rendered.unfilled.join(", "),
        }
    }
}

/// The composer: what was typed (kept after an error), where it goes, the templates.
#[derive(Template)]
#[template(path = "chats/composer.html")]
pub struct Composer {
    pub tr: Tr,
    pub csrf: String,
    pub chat_id: i64,
    /// (value, label, selected): `sms:12` or `sms:` (the client's phone).
    pub routes: Vec<(String, String, bool)>,
    pub body: String,
    pub note: bool,
    pub error: Option<&'static str>,
    pub templates: Vec<TemplateChoice>,
    pub can_send: bool,
    /// The bubble of the message just sent, appended to the thread out of band.
    pub sent: Option<MessageFragment>,
}

impl Composer {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    /// The limits the browser checks before a file is sent (the server checks them again).
    pub fn max_file_bytes(&self) -> usize {
        crate::domain::attachment::MAX_FILE_BYTES
    }

    pub fn max_files(&self) -> usize {
        crate::domain::attachment::MAX_FILES
    }

    /// The picker's choices; `preferred` (the transport the client last wrote on) first selected.
    pub fn route_options(
        tr: Tr,
        routes: &[Route],
        chosen: Option<&str>,
        preferred: Option<Transport>,
    ) -> Vec<(String, String, bool)> {
        let mut out: Vec<(String, String, bool)> = routes
            .iter()
            .map(|r| {
                let value =
                    format!("{}:{}", r.transport.as_str(), r.contact.map(|c| c.0.to_string()).unwrap_or_default());
                let shown = if r.transport == Transport::Telegram { r.value.clone() } else { super::phone(&r.value) };
                let label = format!("{} · {shown}", tr.t(transport_key(r.transport)));
                (value, label, false)
            })
            .collect();
        let pick = chosen
            .and_then(|c| out.iter().position(|(v, _, _)| v == c))
            .or_else(|| {
                preferred.and_then(|p| out.iter().position(|(v, _, _)| v.starts_with(&format!("{}:", p.as_str()))))
            })
            .or(if out.is_empty() { None } else { Some(0) });
        if let Some(i) = pick {
            out[i].2 = true;
        }
        out
    }
}

pub fn transport_key(t: Transport) -> &'static str {
    match t {
        Transport::Sms => "transport.sms",
        Transport::Whatsapp => "transport.whatsapp",
        Transport::Telegram => "transport.telegram",
        Transport::Note => "transport.note",
    }
}

/// The right pane: a chat's header, its messages and the composer.
#[derive(Template)]
#[template(path = "chats/thread.html")]
pub struct ThreadView {
    pub tr: Tr,
    pub csrf: String,
    pub chat_id: i64,
    pub client_id: i64,
    pub client_name: String,
    /// The client's phone and contacts, each a link (call, WhatsApp, Telegram, email).
    pub contacts: Vec<ContactRow>,
    pub initials: String,
    /// What the client last wrote on: a stranger's avatar.
    pub channel: Option<Transport>,
    pub unread: i32,
    /// Who works the chat and its status, with the controls that change them.
    pub work: WorkPanel,
    /// May give the client a name from here (ClientUpdate): a stranger is known by a number.
    pub can_rename: bool,
    /// Where the header's forms return to: this thread with the list's filters.
    pub here: String,
    pub messages: MessagesPage,
    pub composer: Composer,
    /// The newest message shown, to mark what the reader saw as read.
    pub newest: Option<i64>,
    pub can_mark_read: bool,
    pub back: String,
    /// The client's open deals, newest first.
    pub deals: Vec<ThreadDeal>,
    /// May start a deal for the client from here (DealWrite).
    pub can_add_deal: bool,
}

/// An open deal of the client, as the thread's header lists it.
pub struct ThreadDeal {
    pub id: i64,
    pub title: String,
    pub stage: String,
    pub value: Option<String>,
}

impl ThreadDeal {
    pub fn new(tr: Tr, d: &crate::domain::deal::Deal) -> Self {
        Self {
            id: d.id.0,
            title: d.title.clone(),
            stage: d.stage_name.clone(),
            value: d.value.map(|(a, c)| tr.money(a.value(), c.as_str())),
        }
    }
}

impl ThreadView {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }
}

#[derive(Template)]
#[template(path = "chats/inbox.html")]
pub struct InboxPage {
    pub shell: Shell,
    pub list: ChatList,
    pub thread: Option<ThreadView>,
    /// The tags to filter by.
    pub tags: Vec<TagChip>,
}

impl InboxPage {
    pub fn is_tag(&self, id: &i64) -> bool {
        self.list.filters.tag_id().is_some_and(|t| t.0 == *id)
    }
}

/// A client's Chat tab before their conversation has started.
#[derive(Template)]
#[template(path = "chats/no_chat.html")]
pub struct NoChatPage {
    pub shell: Shell,
    pub client_id: i64,
    pub name: String,
    /// "No conversation with {name} yet."
    pub note: String,
    /// May start it (ChatCreate); others are told it appears when the client writes.
    pub can_start: bool,
}

/// The navigation's unread badge.
#[derive(Template)]
#[template(
    source = "{% if total > 0 %}<span class=\"nav-badge\">{% if total > 99 %}99+{% else %}{{ total }}{% endif %}</span>{% endif %}",
    ext = "html"
)]
pub struct UnreadBadge {
    pub total: i64,
}

/// Text on one line, cut at `max` characters with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max { flat } else { format!("{}…", flat.chars().take(max - 1).collect::<String>()) }
}

/// "14:05" today, "2026-11-21" before, on the reader's clock.
fn short_time(tr: Tr, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (t, now) = (tr.local(&t), tr.local(&now));
    if t.date_naive() == now.date_naive() { t.format("%H:%M").to_string() } else { t.format("%Y-%m-%d").to_string() }
}

/// "1.2 MB", "340 KB", "12 B".
pub fn file_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_line_and_cut() {
        assert_eq!(one_line("a\n\n b  c", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 5), "abcd…");
    }

    #[test]
    fn search_words_are_marked_in_the_text_around_the_first() {
        let parts = highlight("Hello! Is my Passport ready? The passport office said so.", "passport READY", 200);
        let marked: Vec<_> = parts.iter().filter(|(_, m)| *m).map(|(t, _)| t.as_str()).collect();
        assert_eq!(marked, ["Passport", "ready", "passport"]);
        let text: String = parts.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(text, "Hello! Is my Passport ready? The passport office said so.");
        let long = format!("{} найти {}", "а".repeat(100), "б".repeat(100));
        let parts = highlight(&long, "найти", 40);
        assert!(parts[0].0.starts_with("…а"), "{parts:?}");
        assert!(parts.iter().any(|(t, m)| *m && t == "найти"));
        assert!(parts.last().unwrap().0.ends_with('…'));
        assert_eq!(highlight("no match here", "zzz", 5), [("no ma…".to_owned(), false)]);
    }

    #[test]
    fn file_sizes_read_like_a_file_manager() {
        assert_eq!(file_size(12), "12 B");
        assert_eq!(file_size(340 * 1024), "340 KB");
        assert_eq!(file_size(1_300_000), "1.2 MB");
    }

    #[test]
    fn filters_make_a_query_that_keeps_them() {
        let f = InboxFilters { q: "ali vali".into(), unread: "1".into(), ..Default::default() };
        assert_eq!(f.query(Some(2)), "?q=ali%20vali&unread=1&page=2");
        assert_eq!(InboxFilters::default().query(None), "");
        let mine = f.with_view(InboxView::Mine);
        let resolved = InboxFilters { status: "resolved".into(), ..mine };
        assert_eq!(resolved.query(None), "?q=ali%20vali&unread=1&view=mine&status=resolved");
        assert_eq!(resolved.with_view(InboxView::All).query(None), "?q=ali%20vali&unread=1&status=resolved");
    }
}
