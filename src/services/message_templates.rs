//! Message templates: the tenant's reusable texts, kept by admins (TemplateManage) and filled
//! in for a client when an agent inserts one.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::chat::{Rendered, render_template};
use crate::domain::template::{TemplateFields, TemplateInput};
use crate::domain::{DomainEvent, Principal, TenantId};
use crate::events::EventBus;
use crate::repos::message_templates::{self as repo, Template};
use crate::repos::{audit, clients};

use super::ServiceError;

#[derive(Clone)]
pub struct MessageTemplateService {
    pool: PgPool,
    events: EventBus,
}

/// A template filled in for one client by one agent.
pub struct Filled {
    pub template: Template,
    pub rendered: Rendered,
}

impl MessageTemplateService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    pub async fn list(&self, tenant: TenantId, q: Option<&str>) -> Result<Vec<Template>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let list = repo::list(&mut tx, q).await?;
        tx.commit().await?;
        Ok(list)
    }

    pub async fn get(&self, tenant: TenantId, id: i64) -> Result<Template, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
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
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let client = clients::get(&mut tx, client).await?;
        let list = repo::list(&mut tx, None).await?;
        tx.commit().await?;
        let value = |name: &str| -> Option<String> {
            match name {
                "client.first_name" => Some(client.first_name.clone()),
                "client.last_name" => client.last_name.clone(),
                "client.full_name" => Some(client.full_name()),
                "agent.first_name" => by.name.split_whitespace().next().map(str::to_owned),
                "agent.name" => Some(by.name.clone()),
                "company.name" => Some(by.tenant_name.clone()),
                _ => None,
            }
        };
        Ok(list
            .into_iter()
            .map(|template| {
                let rendered = render_template(&template.body, value);
                Filled { template, rendered }
            })
            .collect())
    }

    pub async fn create(&self, by: &Principal, input: &TemplateInput) -> Result<Template, Vec<ServiceError>> {
        let fields = parse(input)?;
        let saved = async {
            let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
            let t = repo::insert(&mut tx, &as_repo(&fields)).await?;
            record(&mut tx, by, "template_created", &t).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(t)
        }
        .await
        .map_err(|e| vec![e])?;
        self.events.publish(DomainEvent::TemplateSaved { tenant_id: by.tenant_id, template_id: saved.id });
        Ok(saved)
    }

    pub async fn update(&self, by: &Principal, id: i64, input: &TemplateInput) -> Result<Template, Vec<ServiceError>> {
        let fields = parse(input)?;
        let saved = async {
            let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
            let t = repo::update(&mut tx, id, &as_repo(&fields)).await?;
            record(&mut tx, by, "template_updated", &t).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(t)
        }
        .await
        .map_err(|e| vec![e])?;
        self.events.publish(DomainEvent::TemplateSaved { tenant_id: by.tenant_id, template_id: saved.id });
        Ok(saved)
    }

    pub async fn delete(&self, by: &Principal, id: i64) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let t = repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "template_deleted", &t).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TemplateDeleted { tenant_id: by.tenant_id, template_id: id });
        Ok(())
    }
}

fn parse(input: &TemplateInput) -> Result<TemplateFields, Vec<ServiceError>> {
    input.parse().map_err(|errors| errors.into_iter().map(ServiceError::from).collect())
}

fn as_repo(f: &TemplateFields) -> repo::TemplateFields<'_> {
    repo::TemplateFields {
        title: f.title.as_deref(),
        shortcut: f.shortcut.as_ref().map(|s| s.as_str()),
        body: f.body.as_str(),
    }
}

async fn record(tx: &mut TenantTx, by: &Principal, action: &str, t: &Template) -> Result<(), ServiceError> {
    let summary = t.title.clone().or_else(|| t.shortcut.clone()).unwrap_or_default();
    let entry = audit::Entry { action, entity: "template", entity_id: &t.id.to_string(), summary: &summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(())
}
