//! Deals: the board (a column per stage, cards in board order, "more" on scroll), the board
//! alone for live refreshes and moves, a column's next cards, a deal's page with its history,
//! and the deal form. Amounts are shown as the reader's language writes them.

use std::collections::HashMap;

use askama::Template;
use chrono::Utc;

use crate::domain::deal::{Column, Deal, DealFilter, DealMove};
use crate::domain::pipeline::{Pipeline, StageKind};
use crate::i18n::Tr;
use crate::web::error::urlencode;
use crate::web::views::tags::{TagChip, TagChoice};
use crate::web::views::{FormErrors, Shell, initials};

/// A stage as a "Move to" menu and a column header show it.
pub struct StageOption {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub color: String,
}

/// A card on the board.
pub struct CardView {
    pub id: i64,
    pub title: String,
    pub stage_id: i64,
    pub value: Option<String>,
    pub client: Option<String>,
    pub owner: Option<(String, String)>,
    pub close_on: Option<String>,
    /// Open, and its expected close is past.
    pub late: bool,
    pub tags: Vec<TagChip>,
}

impl CardView {
    pub fn new(tr: Tr, d: &Deal) -> Self {
        let today = tr.local(&Utc::now()).date_naive();
        Self {
            id: d.id.0,
            title: d.title.clone(),
            stage_id: d.stage_id.0,
            value: d.value.map(|(a, c)| tr.money(a.value(), c.as_str())),
            client: d.client.as_ref().map(|c| c.name.clone()),
            owner: d.owner.as_ref().map(|o| (initials(&o.name), o.name.clone())),
            close_on: d.expected_close_on.map(|c| tr.date(&c)),
            late: d.status == StageKind::Open && d.expected_close_on.is_some_and(|c| c < today),
            tags: TagChip::of(&d.tags),
        }
    }
}

pub struct ColumnView {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub color: String,
    pub count: i64,
    pub total: String,
    pub cards: Vec<CardView>,
    /// Where the next cards come from, when there are more.
    pub more: Option<String>,
}

/// The board as drawn: its columns, the stages its menus offer, and the filters it keeps in
/// every address it makes.
pub struct BoardView {
    pub pipeline_id: i64,
    pub columns: Vec<ColumnView>,
    pub stages: Vec<StageOption>,
    /// `owner_id=…&q=…` as the page's address has them.
    pub filters: String,
    /// The same filters, for the hidden fields of a move's form.
    pub owner_id: Option<i64>,
    pub q: String,
    pub tag_id: Option<i64>,
    pub can_write: bool,
}

impl BoardView {
    pub fn new(
        tr: Tr,
        pipeline: &Pipeline,
        columns: Vec<Column>,
        filter: &DealFilter,
        base: &str,
        can_write: bool,
    ) -> Self {
        let filters = filter_query(filter);
        let columns = pipeline
            .stages
            .iter()
            .zip(columns)
            .map(|(s, c)| ColumnView {
                id: s.id.0,
                name: s.name.clone(),
                kind: s.kind.as_str(),
                color: s.color.as_str().to_owned(),
                count: c.deal_count,
                total: tr.money(c.value_base_total.value(), base),
                cards: c.deals.iter().map(|d| CardView::new(tr, d)).collect(),
                more: c.next_cursor.map(|cur| more_url(pipeline.id.0, s.id.0, &cur.as_string(), &filters)),
            })
            .collect();
        Self {
            pipeline_id: pipeline.id.0,
            columns,
            stages: stage_options(pipeline),
            filters,
            owner_id: filter.owner_id.map(|o| o.0),
            q: filter.q.clone().unwrap_or_default(),
            tag_id: filter.tag_id.map(|t| t.0),
            can_write,
        }
    }
}

pub fn stage_options(p: &Pipeline) -> Vec<StageOption> {
    p.stages
        .iter()
        .map(|s| StageOption {
            id: s.id.0,
            name: s.name.clone(),
            kind: s.kind.as_str(),
            color: s.color.as_str().to_owned(),
        })
        .collect()
}

/// `owner_id=…&tag_id=…&q=…`, the filters an address keeps (empty ones left out).
pub fn filter_query(f: &DealFilter) -> String {
    let mut parts = Vec::new();
    if let Some(o) = f.owner_id {
        parts.push(format!("owner_id={}", o.0));
    }
    if let Some(t) = f.tag_id {
        parts.push(format!("tag_id={}", t.0));
    }
    if let Some(q) = &f.q {
        parts.push(format!("q={}", urlencode(q)));
    }
    parts.join("&")
}

pub fn more_url(pipeline: i64, stage: i64, cursor: &str, filters: &str) -> String {
    let mut url = format!("/crm/deals/columns/{stage}?pipeline={pipeline}&cursor={}", urlencode(cursor));
    if !filters.is_empty() {
        url.push('&');
        url.push_str(filters);
    }
    url
}

pub struct PipelineChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "deals/board.html")]
pub struct BoardPage {
    pub shell: Shell,
    pub pipelines: Vec<PipelineChoice>,
    pub board: BoardView,
    pub owners: Vec<(i64, String)>,
    pub owner: Option<i64>,
    pub q: String,
    /// The tags to filter by.
    pub tags: Vec<TagChip>,
}

impl BoardPage {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.shell.t(key)
    }

    pub fn is_owner(&self, id: &i64) -> bool {
        self.owner == Some(*id)
    }

    pub fn is_tag(&self, id: &i64) -> bool {
        self.board.tag_id == Some(*id)
    }

    pub fn csrf(&self) -> &str {
        &self.shell.csrf
    }
}

/// The board alone: what a move answers and a live change fetches.
#[derive(Template)]
#[template(path = "deals/board_part.html")]
pub struct BoardPart {
    pub tr: Tr,
    pub csrf: String,
    pub board: BoardView,
}

impl BoardPart {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A column's next cards, and the way to the ones after.
#[derive(Template)]
#[template(path = "deals/cards.html")]
pub struct CardsPart {
    pub tr: Tr,
    pub csrf: String,
    pub cards: Vec<CardView>,
    pub more: Option<String>,
    pub board: BoardView,
}

impl CardsPart {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// One move in a deal's history, as its page lists it.
pub struct MoveView {
    pub from: Option<String>,
    pub to: String,
    pub by: Option<String>,
    pub at: String,
    /// How long it spent in the stage it left, in words.
    pub stayed: Option<String>,
}

impl MoveView {
    pub fn new(tr: Tr, m: &DealMove) -> Self {
        Self {
            from: m.from.as_ref().map(|f| f.1.clone()),
            to: m.to.1.clone(),
            by: m.by.as_ref().map(|b| b.name.clone()),
            at: tr.datetime(&m.moved_at),
            stayed: m
                .seconds_in_previous
                .filter(|_| m.from.is_some())
                .map(|s| tr.t1("deals.stayed", "time", &duration(tr, s))),
        }
    }
}

/// Seconds as a person says them: "3 d 4 h", "2 h 5 min", "40 min", "under a minute".
pub fn duration(tr: Tr, seconds: i64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60);
    let unit = |key: &'static str, n: i64| tr.t1(key, "n", &n);
    match (d, h, m) {
        (0, 0, 0) => tr.t("deals.under_a_minute").to_owned(),
        (0, 0, m) => unit("deals.minutes", m),
        (0, h, m) => format!("{} {}", unit("deals.hours", h), unit("deals.minutes", m)),
        (d, h, _) => format!("{} {}", unit("deals.days", d), unit("deals.hours", h)),
    }
}

/// A deal's fields in its form: as stored, or as typed when refused.
#[derive(Default)]
pub struct DealForm {
    pub values: HashMap<String, String>,
    pub errors: FormErrors,
    pub client_name: Option<String>,
    pub company: super::companies::CompanyPicker,
    pub currencies: Vec<String>,
    pub owners: Vec<(i64, String)>,
    pub stages: Vec<StageOption>,
    pub pipelines: Vec<PipelineChoice>,
}

impl DealForm {
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.get(field)
    }

    pub fn company_picker(&self) -> &super::companies::CompanyPicker {
        &self.company
    }

    /// Whether the chosen stage is a lost one (the form then asks why).
    pub fn lost_stage(&self) -> bool {
        let chosen = self.value("stage_id");
        self.stages.iter().any(|s| s.kind == "lost" && s.id.to_string() == chosen)
    }

    /// A deal's stored fields as the form shows them.
    pub fn of(d: &Deal) -> HashMap<String, String> {
        let mut v = HashMap::new();
        v.insert("title".into(), d.title.clone());
        v.insert("pipeline_id".into(), d.pipeline_id.0.to_string());
        v.insert("stage_id".into(), d.stage_id.0.to_string());
        if let Some((a, c)) = d.value {
            v.insert("value".into(), a.as_string());
            v.insert("currency".into(), c.as_str().to_owned());
        }
        if let Some(c) = &d.client {
            v.insert("client_id".into(), c.id.0.to_string());
        }
        if let Some(c) = &d.company {
            v.insert("company_id".into(), c.id.0.to_string());
        }
        v.insert("owner_id".into(), d.owner.as_ref().map(|o| o.id.0.to_string()).unwrap_or_default());
        if let Some(c) = d.expected_close_on {
            v.insert("expected_close_on".into(), c.to_string());
        }
        if let Some(r) = &d.lost_reason {
            v.insert("lost_reason".into(), r.clone());
        }
        v
    }
}

/// A row of the deal list.
pub struct ListRow {
    pub card: CardView,
    pub stage: String,
    pub status: &'static str,
    pub owner: Option<String>,
    pub updated: String,
    /// The values of the list's custom columns: (label, value).
    pub custom: Vec<(String, String)>,
}

impl ListRow {
    pub fn new(tr: Tr, d: &Deal) -> Self {
        Self {
            card: CardView::new(tr, d),
            stage: d.stage_name.clone(),
            status: d.status.as_str(),
            owner: d.owner.as_ref().map(|o| o.name.clone()),
            updated: tr.datetime(&d.updated_at),
            custom: Vec::new(),
        }
    }
}

/// The deal list's filters as its address has them.
#[derive(Default)]
pub struct ListFilters {
    pub pipeline: Option<i64>,
    pub q: String,
    pub owner_id: Option<i64>,
    pub tag_id: Option<i64>,
    pub status: String,
    pub sort: String,
    /// The custom fields shown as columns, by key.
    pub cols: Vec<String>,
}

impl ListFilters {
    /// These filters as a query string (empty ones left out), without the page.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.pipeline {
            parts.push(format!("pipeline={p}"));
        }
        if !self.q.is_empty() {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if let Some(o) = self.owner_id {
            parts.push(format!("owner_id={o}"));
        }
        if let Some(t) = self.tag_id {
            parts.push(format!("tag_id={t}"));
        }
        for (k, v) in [("status", &self.status), ("sort", &self.sort)] {
            if !v.is_empty() {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.extend(self.cols.iter().map(|c| format!("cols={}", urlencode(c))));
        parts.join("&")
    }
}

#[derive(Template)]
#[template(path = "deals/list.html")]
pub struct DealListPage {
    pub shell: Shell,
    pub pipelines: Vec<PipelineChoice>,
    pub owners: Vec<(i64, String)>,
    /// The tags to filter by.
    pub tags: Vec<TagChip>,
    pub filters: ListFilters,
    pub columns: super::custom_fields::ListColumns,
    pub rows: Vec<ListRow>,
    pub total: i64,
    /// Whether `total` is exact (or a lower bound: a broad filter).
    pub exact: bool,
    pub page: i64,
    pub pages: i64,
    /// The bulk bar, for a reader who may run bulk actions.
    pub bulk: Option<super::bulk::BulkChoices>,
    pub views: super::bulk::ViewsBar,
}

impl DealListPage {
    /// "12 deals", in the reader's language.
    pub fn found(&self) -> String {
        if self.exact {
            self.shell.tr.count("deals.found", self.total)
        } else {
            self.shell.tr.t1("deals.found_more", "count", &self.shell.tr.amount(self.total.into()))
        }
    }

    pub fn is_owner(&self, id: &i64) -> bool {
        self.filters.owner_id == Some(*id)
    }

    pub fn is_tag(&self, id: &i64) -> bool {
        self.filters.tag_id == Some(*id)
    }

    /// The address of page `n` of this list.
    pub fn page_url(&self, n: &i64) -> String {
        let q = self.filters.query();
        if q.is_empty() { format!("/crm/deals/list?page={n}") } else { format!("/crm/deals/list?{q}&page={n}") }
    }

    pub fn export_url(&self) -> String {
        format!("/crm/deals/export.csv?{}", self.filters.query())
    }

    pub fn board_url(&self) -> String {
        self.filters.pipeline.map_or("/crm/deals".to_owned(), |p| format!("/crm/deals?pipeline={p}"))
    }
}

#[derive(Template)]
#[template(path = "deals/new.html")]
pub struct NewDealPage {
    pub shell: Shell,
    pub form: DealForm,
    /// The tenant's custom deal fields, as inputs (none when it has none).
    pub custom: Option<super::custom_fields::CustomInputs>,
}

pub struct DealView {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub stage_name: String,
    pub stage_id: i64,
    pub pipeline_id: i64,
    pub value: Option<String>,
    pub value_base: Option<String>,
    pub client: Option<(i64, String)>,
    pub company: Option<(i64, String)>,
    pub chat_id: Option<i64>,
    pub owner: Option<String>,
    pub close_on: Option<String>,
    pub lost_reason: Option<String>,
    pub in_stage_since: String,
    pub created_at: String,
    pub tags: Vec<TagChip>,
}

impl DealView {
    pub fn new(tr: Tr, d: &Deal, base: &str) -> Self {
        Self {
            id: d.id.0,
            title: d.title.clone(),
            status: d.status.as_str(),
            stage_name: d.stage_name.clone(),
            stage_id: d.stage_id.0,
            pipeline_id: d.pipeline_id.0,
            value: d.value.map(|(a, c)| tr.money(a.value(), c.as_str())),
            // Shown beside the value when it was agreed in another currency.
            value_base: d
                .value
                .filter(|(_, c)| c.as_str() != base)
                .and(d.value_base)
                .map(|b| tr.money(b.value(), base)),
            client: d.client.as_ref().map(|c| (c.id.0, c.name.clone())),
            company: d.company.as_ref().map(|c| (c.id.0, c.name.clone())),
            chat_id: d.chat_id.map(|c| c.0),
            owner: d.owner.as_ref().map(|o| o.name.clone()),
            close_on: d.expected_close_on.map(|c| tr.date(&c)),
            lost_reason: d.lost_reason.clone(),
            in_stage_since: tr.datetime(&d.stage_entered_at),
            created_at: tr.datetime(&d.created_at),
            tags: TagChip::of(&d.tags),
        }
    }
}

#[derive(Template)]
#[template(path = "deals/deal.html")]
pub struct DealPage {
    pub shell: Shell,
    pub deal: DealView,
    pub history: Vec<MoveView>,
    pub form: DealForm,
    pub can_write: bool,
    /// Its custom values, shown or as a form.
    pub custom: super::custom_fields::ValuesPanel,
    /// Every tag of the tenant, those the deal carries ticked.
    pub tag_choices: Vec<TagChoice>,
    /// Why the tags sent were refused.
    pub tag_error: Option<&'static str>,
}

impl DealPage {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.shell.t(key)
    }

    pub fn csrf(&self) -> &str {
        &self.shell.csrf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    #[test]
    fn time_in_a_stage_reads_in_the_largest_units_that_matter() {
        let tr = Tr::new(Locale::En);
        assert_eq!(duration(tr, 20), "under a minute");
        assert_eq!(duration(tr, 40 * 60), "40 min");
        assert_eq!(duration(tr, 2 * 3600 + 5 * 60), "2 h 5 min");
        assert_eq!(duration(tr, 3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
    }
}
