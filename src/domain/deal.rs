//! Deals: what a tenant hopes to sell, in a stage of one pipeline. A deal's status is its
//! stage's kind; its value is kept in the currency agreed and, frozen at the rate of its time,
//! in the tenant's base currency. Here: the types, the input as typed or sent, checked field
//! by field, and where a moved card goes between its neighbours.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::chat::ChatId;
use super::company::CompanyId;
use super::custom_field::CustomValues;
use super::money::Amount;
use super::pipeline::{PipelineId, StageId, StageKind};
use super::tag::{Tag, TagId};
use super::{ClientId, Currency, DomainError, UserId, parse_id as id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct DealId(pub i64);

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest lost reason, in characters.
pub const MAX_LOST_REASON: usize = 500;
/// Cards a board column shows at first, and each "more" adds.
pub const BOARD_PAGE: usize = 20;

pub use super::Named;

/// A deal as stored, with the names around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    pub id: DealId,
    pub title: String,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub stage_name: String,
    /// Its stage's kind.
    pub status: StageKind,
    /// The value agreed, in `currency`.
    pub value: Option<(Amount, Currency)>,
    /// The value in the tenant's base currency, at the rate of when the value was set.
    pub value_base: Option<Amount>,
    pub client: Option<Named<ClientId>>,
    pub company: Option<Named<CompanyId>>,
    /// The client's conversation, when there is one.
    pub chat_id: Option<ChatId>,
    pub owner: Option<Named<UserId>>,
    pub expected_close_on: Option<NaiveDate>,
    pub lost_reason: Option<String>,
    /// The board's order within the stage: smaller comes first.
    pub position: f64,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its tags, by name.
    pub tags: Vec<Tag>,
    /// Its live custom fields' values, by key.
    pub custom: CustomValues,
}

/// One move of a deal between stages (or its first stage, with no `from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealMove {
    pub from: Option<(Option<StageId>, String)>,
    /// The stage's id, unless it was deleted since; its name as it was.
    pub to: (Option<StageId>, String),
    pub by: Option<Named<UserId>>,
    pub moved_at: DateTime<Utc>,
    /// How long the deal had been in the stage it left.
    pub seconds_in_previous: Option<i64>,
}

/// A deal's fields as typed in a form or sent to the API, before they are checked. For an
/// edit, an absent field (`None`) keeps its value and an empty one clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealInput {
    pub title: Option<String>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
    pub client_id: Option<String>,
    pub company_id: Option<String>,
    pub owner_id: Option<String>,
    pub expected_close_on: Option<String>,
    pub lost_reason: Option<String>,
    /// The tags it is to carry, as ids (`None`: as they are).
    pub tag_ids: Option<Vec<String>>,
    /// Custom field values to set, by key (`None` leaves them).
    pub custom: Option<CustomValues>,
}

impl DealInput {
    pub const FIELDS: [&'static str; 10] = [
        "title",
        "pipeline_id",
        "stage_id",
        "value",
        "currency",
        "client_id",
        "company_id",
        "owner_id",
        "expected_close_on",
        "lost_reason",
    ];

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "title" => &mut self.title,
            "pipeline_id" => &mut self.pipeline_id,
            "stage_id" => &mut self.stage_id,
            "value" => &mut self.value,
            "currency" => &mut self.currency,
            "client_id" => &mut self.client_id,
            "company_id" => &mut self.company_id,
            "owner_id" => &mut self.owner_id,
            "expected_close_on" => &mut self.expected_close_on,
            "lost_reason" => &mut self.lost_reason,
            _ => return None,
        })
    }

    /// The fields of a deal as they are after this input: `current` for an edit, none for a
    /// new deal. Every field at fault is named at once. What needs the database (that the
    /// stage belongs to the pipeline, that there is a rate for the currency) is checked by
    /// the service.
    pub fn apply(&self, current: Option<&DealFields>) -> Result<DealFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut ok = |r: Result<(), DomainError>| {
            if let Err(e) = r {
                errors.push(e)
            }
        };
        let mut f = current.cloned().unwrap_or_default();
        if let Some(t) = &self.title {
            ok(text(t, "title", MAX_TITLE).map(|t| f.title = t.unwrap_or_default()));
        }
        if f.title.is_empty() {
            ok(Err(DomainError::new("title", "required")));
        }
        if let Some(raw) = &self.pipeline_id {
            match id("pipeline_id", raw) {
                Ok(Some(p)) => {
                    if Some(PipelineId(p)) != current.map(|c| c.pipeline_id) {
                        // Another pipeline: its first open stage, unless a stage is named.
                        f.stage_id = None;
                    }
                    f.pipeline_id = PipelineId(p)
                }
                Ok(None) => ok(Err(DomainError::new("pipeline_id", "required"))),
                Err(e) => ok(Err(e)),
            }
        } else if current.is_none() {
            ok(Err(DomainError::new("pipeline_id", "required")));
        }
        if let Some(raw) = &self.stage_id {
            match id("stage_id", raw) {
                Ok(s) => f.stage_id = s.map(StageId),
                Err(e) => ok(Err(e)),
            }
        }
        if let Some(raw) = &self.value {
            if raw.trim().is_empty() {
                f.value = None;
            } else {
                match Amount::parse("value", &serde_json::Value::String(raw.clone())) {
                    Ok(a) => f.value = Some(a),
                    Err(e) => ok(Err(e)),
                }
            }
        }
        if let Some(raw) = &self.currency {
            if raw.trim().is_empty() {
                f.currency = None;
            } else {
                match raw.parse::<Currency>() {
                    Ok(c) => f.currency = Some(c),
                    Err(e) => ok(Err(e)),
                }
            }
        }
        if let Some(raw) = &self.client_id {
            match id("client_id", raw) {
                Ok(c) => f.client_id = c.map(ClientId),
                Err(e) => ok(Err(e)),
            }
        }
        if let Some(raw) = &self.company_id {
            match id("company_id", raw) {
                Ok(c) => f.company_id = c.map(CompanyId),
                Err(e) => ok(Err(e)),
            }
        }
        if let Some(raw) = &self.owner_id {
            match id("owner_id", raw) {
                Ok(o) => f.owner_id = o.map(UserId),
                Err(e) => ok(Err(e)),
            }
        }
        if let Some(raw) = &self.expected_close_on {
            match super::parse_date("expected_close_on", raw) {
                Ok(d) => f.expected_close_on = d,
                Err(e) => ok(Err(e)),
            }
        }
        if let Some(raw) = &self.lost_reason {
            ok(text(raw, "lost_reason", MAX_LOST_REASON).map(|r| f.lost_reason = r));
        }
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }
}

/// A deal's own fields, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFields {
    pub title: String,
    pub pipeline_id: PipelineId,
    /// `None`: the pipeline's first open stage.
    pub stage_id: Option<StageId>,
    pub value: Option<Amount>,
    /// `None` with a value: the tenant's base currency.
    pub currency: Option<Currency>,
    pub client_id: Option<ClientId>,
    pub company_id: Option<CompanyId>,
    pub owner_id: Option<UserId>,
    pub expected_close_on: Option<NaiveDate>,
    pub lost_reason: Option<String>,
}

impl From<&Deal> for DealFields {
    fn from(d: &Deal) -> Self {
        Self {
            title: d.title.clone(),
            pipeline_id: d.pipeline_id,
            stage_id: Some(d.stage_id),
            value: d.value.map(|(a, _)| a),
            currency: d.value.map(|(_, c)| c),
            client_id: d.client.as_ref().map(|c| c.id),
            company_id: d.company.as_ref().map(|c| c.id),
            owner_id: d.owner.as_ref().map(|o| o.id),
            expected_close_on: d.expected_close_on,
            lost_reason: d.lost_reason.clone(),
        }
    }
}

/// Trimmed text of at most `max` characters; empty is none.
fn text(raw: &str, field: &'static str, max: usize) -> Result<Option<String>, DomainError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(DomainError::new(field, "too_long"));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Which deals a board or list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFilter {
    pub owner_id: Option<UserId>,
    /// Words of the title.
    pub q: Option<String>,
    pub stage_id: Option<StageId>,
    pub client_id: Option<ClientId>,
    pub company_id: Option<CompanyId>,
    pub status: Option<StageKind>,
    /// Deals that carry this tag.
    pub tag_id: Option<TagId>,
}

impl DealFilter {
    /// The filters of a query string (`owner_id`, `q`, `stage_id`, `client_id`, `company_id`,
    /// `status`, `tag_id`), each bad one named.
    pub fn parse(params: &HashMap<String, String>) -> Result<DealFilter, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut get_id = |name: &'static str| match params.get(name).map(|v| id(name, v)) {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let owner_id = get_id("owner_id").map(UserId);
        let stage_id = get_id("stage_id").map(StageId);
        let client_id = get_id("client_id").map(ClientId);
        let company_id = get_id("company_id").map(CompanyId);
        let tag_id = get_id("tag_id").map(TagId);
        let status = match params.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw @ ("open" | "won" | "lost")) => StageKind::parse(raw).ok(),
            Some(_) => {
                errors.push(DomainError::new("status", "invalid_choice"));
                None
            }
        };
        let q = params.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            errors.push(DomainError::new("q", "too_long"));
        }
        if errors.is_empty() {
            Ok(DealFilter { owner_id, q, stage_id, client_id, company_id, status, tag_id })
        } else {
            Err(errors)
        }
    }
}

/// How a list of deals is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DealSort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// Largest value (in the base currency) first.
    Value,
    /// Soonest expected close first.
    CloseOn,
    Title,
}

impl DealSort {
    pub const ALL: [DealSort; 4] = [DealSort::Updated, DealSort::Value, DealSort::CloseOn, DealSort::Title];

    pub fn as_str(self) -> &'static str {
        match self {
            DealSort::Updated => "updated",
            DealSort::Value => "value",
            DealSort::CloseOn => "close_on",
            DealSort::Title => "title",
        }
    }

    /// `updated`, `value`, `close_on` or `title`; empty is `updated`.
    pub fn parse(raw: Option<&str>) -> Result<DealSort, DomainError> {
        match raw.map(str::trim).unwrap_or("") {
            "" => Ok(DealSort::Updated),
            s => DealSort::ALL.into_iter().find(|d| d.as_str() == s).ok_or(DomainError::new("sort", "invalid_choice")),
        }
    }
}

/// Where a moved card goes: before `before`, or at the end of its new column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// The position of the card that will come just before it, if any.
    pub prev: Option<f64>,
    /// The position of the card it goes before, if any.
    pub next: Option<f64>,
}

/// Room between positions a card placed at an end leaves.
pub const POSITION_STEP: f64 = 1024.0;

impl Gap {
    /// A position strictly between the neighbours; `None` when they are too close for one
    /// (then the column is renumbered and asked again).
    pub fn position(self) -> Option<f64> {
        let p = match (self.prev, self.next) {
            (None, None) => 0.0,
            (Some(a), None) => a + POSITION_STEP,
            (None, Some(b)) => b - POSITION_STEP,
            (Some(a), Some(b)) => a + (b - a) / 2.0,
        };
        let above = self.prev.is_none_or(|a| p > a);
        let below = self.next.is_none_or(|b| p < b);
        (above && below && p.is_finite()).then_some(p)
    }
}

/// A column of the board: a stage with its count and total (of the deals the filter lets
/// through) and its first cards.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub stage_id: StageId,
    pub deal_count: i64,
    pub value_base_total: Amount,
    pub deals: Vec<Deal>,
    /// Where the next cards start, when there are more.
    pub next_cursor: Option<Cursor>,
}

/// Where a column's next page of cards starts: after this card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub position: f64,
    pub id: DealId,
}

impl Cursor {
    pub fn after(d: &Deal) -> Cursor {
        Cursor { position: d.position, id: d.id }
    }

    /// As a page carries it: "position:id".
    pub fn as_string(self) -> String {
        format!("{}:{}", self.position, self.id.0)
    }

    pub fn parse(raw: &str) -> Result<Cursor, DomainError> {
        let bad = || DomainError::new("cursor", "invalid_cursor");
        let (p, i) = raw.trim().rsplit_once(':').ok_or_else(bad)?;
        let position: f64 = p.parse().map_err(|_| bad())?;
        let id: i64 = i.parse().map_err(|_| bad())?;
        if !position.is_finite() {
            return Err(bad());
        }
        Ok(Cursor { position, id: DealId(id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> DealInput {
        let mut i = DealInput::default();
        for (k, v) in pairs {
            *i.field_mut(k).unwrap() = Some((*v).to_owned());
        }
        i
    }

    #[test]
    fn a_new_deal_needs_a_title_and_a_pipeline_and_names_every_bad_field() {
        let errors = input(&[
            ("title", " "),
            ("value", "1,005"),
            ("currency", "XYZ"),
            ("client_id", "x"),
            ("expected_close_on", "31.12.2026"),
        ])
        .apply(None)
        .unwrap_err();
        let named: Vec<(&str, &str)> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            named,
            [
                ("title", "required"),
                ("pipeline_id", "required"),
                ("value", "too_many_decimals"),
                ("currency", "unknown_currency"),
                ("client_id", "invalid_id"),
                ("expected_close_on", "invalid_date"),
            ]
        );
        let ok =
            input(&[("title", " Flat on Navoi "), ("pipeline_id", "3"), ("value", "12 500,50")]).apply(None).unwrap();
        assert_eq!(ok.title, "Flat on Navoi");
        assert_eq!(ok.stage_id, None, "the first open stage");
        assert_eq!(ok.value.unwrap().as_string(), "12500.50");
    }

    #[test]
    fn an_edit_keeps_what_it_does_not_name_clears_what_it_empties_and_a_new_pipeline_drops_the_stage() {
        let current = DealFields {
            title: "Flat".into(),
            pipeline_id: PipelineId(1),
            stage_id: Some(StageId(4)),
            value: Amount::new(rust_decimal::Decimal::from(100)),
            currency: Some("USD".parse().unwrap()),
            owner_id: Some(UserId(2)),
            ..DealFields::default()
        };
        let after = input(&[("value", ""), ("currency", "")]).apply(Some(&current)).unwrap();
        assert_eq!((after.value, after.currency, after.stage_id), (None, None, Some(StageId(4))));
        assert_eq!(after.owner_id, Some(UserId(2)));
        let moved = input(&[("pipeline_id", "2")]).apply(Some(&current)).unwrap();
        assert_eq!((moved.pipeline_id, moved.stage_id), (PipelineId(2), None));
        let emptied = input(&[("title", "")]).apply(Some(&current)).unwrap_err();
        assert_eq!(emptied[0].code, "required");
    }

    #[test]
    fn a_card_goes_between_its_neighbours_until_they_are_too_close() {
        assert_eq!(Gap { prev: None, next: None }.position(), Some(0.0));
        assert_eq!(Gap { prev: Some(10.0), next: None }.position(), Some(10.0 + POSITION_STEP));
        assert_eq!(Gap { prev: None, next: Some(10.0) }.position(), Some(10.0 - POSITION_STEP));
        assert_eq!(Gap { prev: Some(1.0), next: Some(2.0) }.position(), Some(1.5));
        // Halving the same gap again and again runs out after about fifty moves.
        let (a, mut b) = (1.0f64, 2.0f64);
        let mut moves = 0;
        while let Some(p) = (Gap { prev: Some(a), next: Some(b) }).position() {
            b = p;
            moves += 1;
        }
        assert!((40..60).contains(&moves), "{moves}");
        assert_eq!(Gap { prev: Some(a), next: Some(b) }.position(), None);
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let c = Cursor { position: -1536.25, id: DealId(42) };
        assert_eq!(Cursor::parse(&c.as_string()).unwrap(), c);
        for bad in ["", "1", "x:1", "1:x", "inf:1", "NaN:2"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
