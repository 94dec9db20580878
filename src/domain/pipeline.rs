//! Sales pipelines and their stages: the types, and what an admin may save, checked field by
//! field. A stage's kind says what a deal in it counts as (open, won or lost); a pipeline has at
//! least one open stage, where new deals start.

use std::collections::HashSet;

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PipelineId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StageId(pub i64);

/// What a deal in a stage counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StageKind {
    #[default]
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub const ALL: [StageKind; 3] = [StageKind::Open, StageKind::Won, StageKind::Lost];

    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    /// `open`, `won` or `lost`; empty is open.
    pub fn parse(raw: &str) -> Result<StageKind, DomainError> {
        match raw.trim() {
            "" | "open" => Ok(StageKind::Open),
            "won" => Ok(StageKind::Won),
            "lost" => Ok(StageKind::Lost),
            _ => Err(DomainError::new("kind", "invalid_stage_kind")),
        }
    }

    /// The probability a stage of this kind gets when none is given.
    fn default_probability(self) -> u8 {
        match self {
            StageKind::Open => 50,
            StageKind::Won => 100,
            StageKind::Lost => 0,
        }
    }

    /// The colour a stage of this kind gets when none is given.
    fn default_color(self) -> &'static str {
        match self {
            StageKind::Open => "#64748b",
            StageKind::Won => "#16a34a",
            StageKind::Lost => "#dc2626",
        }
    }
}

/// A colour as `#rrggbb`, in small letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    pub fn parse(raw: &str) -> Result<Color, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        let hex = s.strip_prefix('#').unwrap_or(&s);
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Color(format!("#{hex}")))
        } else {
            Err(DomainError::new("color", "invalid_color"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stage as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub id: StageId,
    pub pipeline_id: PipelineId,
    pub name: String,
    pub kind: StageKind,
    /// Percent, 0–100.
    pub probability: u8,
    pub color: Color,
}

/// A pipeline with its stages in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// Where a new deal starts: the first open stage.
    pub fn first_open_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|s| s.kind == StageKind::Open)
    }
}

/// A stage as typed in a form or sent to the API. Absent fields of an edit keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct StageInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    /// A number, or its text from a form.
    pub probability: Option<serde_json::Value>,
    pub color: Option<String>,
}

/// A stage fit to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFields {
    pub name: String,
    pub kind: StageKind,
    pub probability: u8,
    pub color: Color,
}

pub const MAX_NAME_CHARS: usize = 100;
/// Stages one pipeline may have.
pub const MAX_STAGES: usize = 30;

fn parse_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        Err(DomainError::new("name", "required"))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(DomainError::new("name", "too_long"))
    } else {
        Ok(name)
    }
}

fn parse_probability(raw: &serde_json::Value) -> Result<Option<u8>, DomainError> {
    let bad = || DomainError::new("probability", "invalid_probability");
    let n = match raw {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) if s.trim().is_empty() => return Ok(None),
        serde_json::Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<i64>().map_err(|_| bad())?,
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    u8::try_from(n).ok().filter(|p| *p <= 100).map(Some).ok_or_else(bad)
}

impl StageInput {
    /// Every field checked, over `current` (an edit) or the kind's defaults (a new stage); all
    /// errors at once, each naming its field.
    pub fn parse(&self, current: Option<&StageFields>) -> Result<StageFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let name = match (&self.name, current) {
            (None, Some(c)) => Some(c.name.clone()),
            (raw, _) => parse_name(raw.as_deref().unwrap_or_default()).map_err(|e| errors.push(e)).ok(),
        };
        let kind = match (&self.kind, current) {
            (None, Some(c)) => Some(c.kind),
            (raw, _) => StageKind::parse(raw.as_deref().unwrap_or_default()).map_err(|e| errors.push(e)).ok(),
        };
        let kind_changed = current.zip(kind).is_some_and(|(c, k)| c.kind != k);
        let probability = parse_probability(self.probability.as_ref().unwrap_or(&serde_json::Value::Null))
            .map_err(|e| errors.push(e))
            .ok()
            .map(|p| match (p, current) {
                (Some(p), _) => p,
                // A stage that becomes won or lost takes that kind's chance, unless one is given.
                (None, Some(c)) if !kind_changed => c.probability,
                (None, _) => kind.unwrap_or_default().default_probability(),
            });
        let color = match (self.color.as_deref().map(str::trim).filter(|c| !c.is_empty()), current) {
            (Some(raw), _) => Color::parse(raw).map_err(|e| errors.push(e)).ok(),
            (None, Some(c)) => Some(c.color.clone()),
            (None, None) => Color::parse(kind.unwrap_or_default().default_color()).ok(),
        };
        match (name, kind, probability, color) {
            (Some(name), Some(kind), Some(probability), Some(color)) if errors.is_empty() => {
                Ok(StageFields { name, kind, probability, color })
            }
            _ => Err(errors),
        }
    }
}

impl From<&Stage> for StageFields {
    fn from(s: &Stage) -> Self {
        StageFields { name: s.name.clone(), kind: s.kind, probability: s.probability, color: s.color.clone() }
    }
}

/// A pipeline as sent to the API: its name, and its stages when it is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PipelineInput {
    pub name: Option<String>,
    pub stages: Option<Vec<StageInput>>,
}

/// A new pipeline fit to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipeline {
    pub name: String,
    pub stages: Vec<StageFields>,
}

impl PipelineInput {
    /// A new pipeline: a name, and stages (`stages[i].name` and the like name a bad one).
    pub fn parse_new(&self) -> Result<NewPipeline, Vec<DomainError>> {
        let mut errors = Vec::new();
        let name = parse_name(self.name.as_deref().unwrap_or_default()).map_err(|e| errors.push(e)).ok();
        let mut stages = Vec::new();
        for (i, stage) in self.stages.as_deref().unwrap_or_default().iter().enumerate() {
            match stage.parse(None) {
                Ok(s) => stages.push(s),
                Err(e) => errors.extend(e.into_iter().map(|e| e.of_item("stages", i))),
            }
        }
        if errors.is_empty()
            && let Err(e) = check_stages(&stages)
        {
            errors.push(e);
        }
        match name {
            Some(name) if errors.is_empty() => Ok(NewPipeline { name, stages }),
            _ => Err(errors),
        }
    }

    /// A new name for a pipeline.
    pub fn parse_name(&self) -> Result<Option<String>, DomainError> {
        self.name.as_deref().map(parse_name).transpose()
    }
}

/// What a pipeline's stages must be together: at least one open stage (where deals start), at
/// most `MAX_STAGES`, no two with one name.
pub fn check_stages(stages: &[StageFields]) -> Result<(), DomainError> {
    if !stages.iter().any(|s| s.kind == StageKind::Open) {
        return Err(DomainError::new("stages", "no_open_stage"));
    }
    if stages.len() > MAX_STAGES {
        return Err(DomainError::new("stages", "too_many_stages"));
    }
    let mut seen = HashSet::new();
    for (i, s) in stages.iter().enumerate() {
        if !seen.insert(s.name.to_lowercase()) {
            return Err(DomainError::new("name", "stage_name_taken").of_item("stages", i));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, kind: &str) -> StageInput {
        StageInput { name: Some(name.into()), kind: Some(kind.into()), ..Default::default() }
    }

    #[test]
    fn a_new_pipeline_needs_a_name_and_an_open_stage_and_names_each_bad_stage() {
        let input = PipelineInput {
            name: Some("  Rentals  ".into()),
            stages: Some(vec![stage("Viewing", "open"), stage("Signed", "won"), stage("Gone", "lost")]),
        };
        let p = input.parse_new().unwrap();
        assert_eq!(p.name, "Rentals");
        assert_eq!(p.stages.iter().map(|s| s.probability).collect::<Vec<_>>(), [50, 100, 0]);
        assert_eq!(p.stages[1].color.as_str(), "#16a34a");

        let bad = PipelineInput {
            name: Some("".into()),
            stages: Some(vec![
                stage("Viewing", "open"),
                StageInput { probability: Some(serde_json::json!(120)), ..stage("", "maybe") },
            ]),
        };
        let paths: Vec<String> = bad.parse_new().unwrap_err().iter().map(|e| e.path()).collect();
        assert_eq!(paths, ["name", "stages[1].name", "stages[1].kind", "stages[1].probability"]);

        let closed = PipelineInput { name: Some("X".into()), stages: Some(vec![stage("Won", "won")]) };
        assert_eq!(closed.parse_new().unwrap_err()[0].code, "no_open_stage");
        let twins = PipelineInput { name: Some("X".into()), stages: Some(vec![stage("New", ""), stage("new", "")]) };
        assert_eq!(twins.parse_new().unwrap_err()[0].path(), "stages[1].name");
    }

    #[test]
    fn an_edit_keeps_what_it_does_not_name_and_a_kind_change_brings_its_chance() {
        let current = stage("Proposal", "open").parse(None).unwrap();
        let renamed = StageInput { name: Some("Offer".into()), ..Default::default() }.parse(Some(&current)).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.kind, renamed.probability), ("Offer", StageKind::Open, 50));
        let won = StageInput { kind: Some("won".into()), ..Default::default() }.parse(Some(&current)).unwrap();
        assert_eq!((won.kind, won.probability), (StageKind::Won, 100));
        let typed = StageInput {
            probability: Some(serde_json::json!("35 %")),
            color: Some("#ABCDEF".into()),
            ..Default::default()
        };
        let typed = typed.parse(Some(&current)).unwrap();
        assert_eq!((typed.probability, typed.color.as_str()), (35, "#abcdef"));
        let bad = StageInput { color: Some("blue".into()), ..Default::default() }.parse(Some(&current));
        assert_eq!(bad.unwrap_err()[0].code, "invalid_color");
    }
}
