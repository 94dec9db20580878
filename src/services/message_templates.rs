//! Message templates: the tenant's reusable texts, kept by admins (TemplateManage) and filled
//! in for a client when an agent inserts one.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::chat::{Rendered, render_template};
use crate::domain::message_template::MessageTemplate;
use crate::domain::message_template::TemplateInput;
use crate::domain::{Client, DomainEvent, Permission, Principal};
use crate::events::EventBus;
use crate::repos::message_templates as repo;
use crate::repos::{audit, clients};

use super::ServiceError;

#[derive(Clone)]
pub struct MessageTemplateService {
    pool: PgPool,
    events: EventBus,
}

/// A template filled in for one client by one agent.
pub struct Filled {
    pub template: MessageTemplate,
    pub rendered: Rendered,
}

impl MessageTemplateService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Whether `by` may keep the tenant's templates (a template's form asks before it is shown).
    pub fn authorize_manage(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::TemplateManage])
    }

    pub async fn list(&self, by: &Principal, q: Option<&str>) -> Result<Vec<MessageTemplate>, ServiceError> {
        super::require(by, &[Permission::TemplateRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let list = repo::list(&mut tx, q).await?;
        tx.commit().await?;
        Ok(list)
    }

    pub async fn get(&self, by: &Principal, id: i64) -> Result<MessageTemplate, ServiceError> {
        super::require(by, &[Permission::TemplateRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let t = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Every template filled in for `client` as written by `by`: what the composer inserts.
    pub async fn filled_for(
        &self,
        by: &Principal,
        client: crate::domain::ClientId,
    ) -> Result<Vec<Filled>, ServiceError> {
        super::require(by, &[Permission::TemplateRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let client = clients::get(&mut tx, client).await?;
        let list = repo::list(&mut tx, None).await?;
        tx.commit().await?;
        Ok(list.into_iter().map(|t| fill_in(t, by, &client)).collect())
    }

    /// One template filled in for `client` as written by `by`.
    pub async fn fill(&self, by: &Principal, client: crate::domain::ClientId, id: i64) -> Result<Filled, ServiceError> {
        super::require(by, &[Permission::TemplateRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let client = clients::get(&mut tx, client).await?;
        let template = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(fill_in(template, by, &client))
    }

    pub async fn create(&self, by: &Principal, input: &TemplateInput) -> Result<MessageTemplate, ServiceError> {
        self.save(by, None, input).await
    }

    pub async fn update(
        &self,
        by: &Principal,
        id: i64,
        input: &TemplateInput,
    ) -> Result<MessageTemplate, ServiceError> {
        self.save(by, Some(id), input).await
    }

    /// Checks every field, then inserts (`id` absent) or replaces the template, with its audit
    /// entry, and announces it.
    async fn save(
        &self,
        by: &Principal,
        id: Option<i64>,
        input: &TemplateInput,
    ) -> Result<MessageTemplate, ServiceError> {
        self.authorize_manage(by)?;
        let fields = input.parse()?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let (saved, action) = match id {
            None => (repo::insert(&mut tx, &fields).await?, "template_created"),
            Some(id) => (repo::update(&mut tx, id, &fields).await?, "template_updated"),
        };
        record(&mut tx, by, action, &saved).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TemplateSaved { tenant_id: by.tenant_id, template_id: saved.id });
        Ok(saved)
    }

    pub async fn delete(&self, by: &Principal, id: i64) -> Result<(), ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let t = repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "template_deleted", &t).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TemplateDeleted { tenant_id: by.tenant_id, template_id: id });
        Ok(())
    }
}

/// The variables of a template, from the client and the agent who writes.
/// `template` filled in for `client` as written by `by`.
pub(crate) fn fill_in(template: MessageTemplate, by: &Principal, client: &Client) -> Filled {
    let value = |name: &str| -> Option<String> {
        match name {
            "client.first_name" => Some(client.fields.first_name.clone()),
            "client.last_name" => client.fields.last_name.clone(),
            "client.full_name" => Some(client.full_name()),
            "agent.first_name" => by.name.split_whitespace().next().map(str::to_owned),
            "agent.name" => Some(by.name.clone()),
            "company.name" => Some(by.tenant_name.clone()),
            _ => None,
        }
    };
    let rendered = render_template(template.fields.body.as_str(), value);
    Filled { template, rendered }
}

async fn record(tx: &mut TenantTx, by: &Principal, action: &str, t: &MessageTemplate) -> Result<(), ServiceError> {
    let summary = t.label().unwrap_or_default();
    let entry = audit::Entry { action, entity: "template", entity_id: &t.id.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(())
}
