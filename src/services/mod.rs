//! Use cases. Services own transactions, audit entries and event publishing; they take and
//! return domain values, never HTTP types.

pub mod audit;
pub mod auth;
pub mod bulk;
pub mod channels;
pub mod chats;
pub mod client_imports;
pub mod clients;
pub mod companies;
pub mod custom_fields;
pub mod deals;
pub mod delivery;
pub mod files;
pub mod housekeeping;
pub mod inbound;
pub mod media;
pub mod message_templates;
pub mod notes;
pub mod notifications;
pub mod pipelines;
pub mod polling;
pub mod providers;
pub mod records;
pub mod saved_views;
pub mod seed;
pub mod settings;
pub mod staff_notifier;
pub mod tags;
pub mod tasks;
pub mod tenants;
pub mod timeline;
pub mod users;

use crate::domain::DomainError;
use crate::repos::RepoError;

pub use audit::AuditService;
pub use auth::AuthService;
pub use bulk::BulkService;
pub use channels::ChannelService;
pub use chats::ChatService;
pub use client_imports::ClientImportService;
pub use clients::ClientService;
pub use companies::CompanyService;
pub use custom_fields::CustomFieldService;
pub use deals::DealService;
pub use files::FileStore;
pub use message_templates::MessageTemplateService;
pub use notes::NoteService;
pub use notifications::NotificationService;
pub use pipelines::PipelineService;
pub use providers::Providers;
pub use saved_views::SavedViewService;
pub use settings::SettingsService;
pub use tags::TagService;
pub use tasks::TaskService;
pub use tenants::TenantService;
pub use timeline::TimelineService;
pub use users::UserService;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that breaks rules of the domain: every field at fault, each named, at once.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<DomainError>),
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// A unique value (`phone`, `pin`) that another client of the tenant already has.
    #[error("{field} already belongs to client {existing}")]
    Duplicate { field: &'static str, existing: crate::domain::ClientId, existing_name: String },
    #[error("not found")]
    NotFound,
    /// The principal lacks a permission the use case needs.
    #[error("forbidden")]
    Forbidden,
    /// A business rule forbids the change (e.g. removing the last admin); `code` says which.
    #[error("not allowed: {code}")]
    Refused { code: &'static str },
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Repo(RepoError),
    /// The object store holding attachments failed.
    #[error("file store: {0}")]
    Files(#[from] object_store::Error),
}

/// Refuses (`Forbidden`) unless `by` holds every one of `permissions`: the one check a use case
/// makes, whichever page or API call asks for it.
pub fn require(by: &crate::domain::Principal, permissions: &[crate::domain::Permission]) -> Result<(), ServiceError> {
    if permissions.iter().all(|p| by.can(*p)) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

/// Whose records alone `by` reaches in this tenant: under `record_visibility: own`, everyone
/// but admins reaches only their own (`Some(them)`); otherwise all (`None`). Each service of
/// owned records (deals, companies) decides it here, once per transaction.
pub(crate) async fn owner_scope(
    tx: &mut crate::db::TenantTx,
    by: &crate::domain::Principal,
) -> Result<Option<crate::domain::UserId>, ServiceError> {
    use crate::domain::settings::RecordVisibility;
    let own = crate::repos::tenants::settings(tx).await?.record_visibility == RecordVisibility::Own;
    Ok((own && by.role != crate::domain::Role::Admin).then_some(by.user_id))
}

/// A transaction for `by`, who must hold `need`, and whose records alone they reach
/// (`owner_scope`): how every service of owned records (clients, chats, companies, deals)
/// starts a use case.
pub(crate) async fn scoped(
    pool: &sqlx::PgPool,
    by: &crate::domain::Principal,
    need: &[crate::domain::Permission],
) -> Result<(crate::db::TenantTx, Option<crate::domain::UserId>), ServiceError> {
    require(by, need)?;
    let mut tx = crate::db::TenantTx::begin(pool, by.tenant_id).await?;
    let scope = owner_scope(&mut tx, by).await?;
    Ok((tx, scope))
}

/// Refuses (422 `owner_id`) an owner who is not an active user of the tenant able to own
/// records (one who may write deals).
pub(crate) async fn check_record_owner(
    tx: &mut crate::db::TenantTx,
    owner: Option<crate::domain::UserId>,
) -> Result<(), ServiceError> {
    match owner {
        Some(o) if crate::repos::users::record_owners(tx, Some(o)).await?.is_empty() => {
            Err(DomainError::new("owner_id", "unknown_user").into())
        }
        _ => Ok(()),
    }
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        ServiceError::Invalid(vec![e])
    }
}

impl From<Vec<DomainError>> for ServiceError {
    fn from(errors: Vec<DomainError>) -> Self {
        ServiceError::Invalid(errors)
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => ServiceError::NotFound,
            RepoError::Conflict { field } => ServiceError::Conflict { field },
            other => ServiceError::Repo(other),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Repo(RepoError::Db(e))
    }
}
