//! All SQL lives here, one file per aggregate. Every method that touches tenant data takes the
//! `TenantTx` it runs in; the few pre-tenant look-ups (`auth`) call named database functions.

pub mod activities;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod chats;
pub mod client_imports;
pub mod clients;
pub mod companies;
pub mod currency_rates;
pub mod custom_fields;
pub mod deals;
pub mod jobs;
pub mod login_failures;
pub mod media_downloads;
pub mod message_templates;
pub mod messages;
pub mod node_signals;
pub mod notes;
pub mod notifications;
pub mod outbox;
pub mod pipelines;
pub mod records;
pub mod saved_views;
pub mod seed;
pub mod sessions;
pub mod tags;
pub mod tasks;
pub mod tenants;
pub mod users;

/// A span of time as PostgreSQL takes it (`interval`): the one conversion every repo uses.
pub fn interval(d: std::time::Duration) -> Result<sqlx::postgres::types::PgInterval, RepoError> {
    sqlx::postgres::types::PgInterval::try_from(d).map_err(|e| RepoError::Corrupt(format!("interval: {e}")))
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the row; `field` names the input that clashed.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl RepoError {
    /// Whether the database refused text it cannot hold (a NUL character, or bytes its
    /// encoding has no place for): bad input that got this far, not a fault of ours.
    pub fn is_unstorable_text(&self) -> bool {
        let RepoError::Db(e) = self else { return false };
        // character_not_in_repertoire, untranslatable_character
        e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "22021" || c == "22P05")
    }
}

/// Turns a unique violation of one of `constraints` (name → field) into a typed conflict.
pub(crate) fn conflict_on(constraints: &'static [(&'static str, &'static str)]) -> impl Fn(sqlx::Error) -> RepoError {
    move |err| {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
            && let Some((_, field)) = constraints.iter().find(|(name, _)| db.constraint() == Some(*name))
        {
            return RepoError::Conflict { field };
        }
        RepoError::Db(err)
    }
}
