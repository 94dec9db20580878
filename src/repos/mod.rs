//! All SQL lives here, one file per aggregate. Every method that touches tenant data takes the
//! `TenantTx` it runs in; the few pre-tenant look-ups (`auth`) call named database functions.

pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod client_imports;
pub mod clients;
pub mod login_failures;
pub mod seed;
pub mod sessions;
pub mod tenants;
pub mod users;

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
