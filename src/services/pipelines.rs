//! Sales pipelines and their stages: whoever may see deals (DealRead) reads them, admins
//! (SettingsManage) keep them. A pipeline always keeps an open stage (where deals start), and a
//! tenant always keeps a pipeline. Every change is audited in its transaction and announced.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::pipeline::{
    Pipeline, PipelineId, PipelineInput, Stage, StageFields, StageId, StageInput, check_stages,
};
use crate::domain::{DomainError, DomainEvent, Permission, Principal};
use crate::events::EventBus;
use crate::repos::{audit, deals, pipelines as repo};

use super::ServiceError;

#[derive(Clone)]
pub struct PipelineService {
    pool: PgPool,
    events: EventBus,
}

/// Where a stage goes in its pipeline's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    Earlier,
    Later,
}

impl PipelineService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    pub async fn list(&self, by: &Principal) -> Result<Vec<Pipeline>, ServiceError> {
        super::require(by, &[Permission::DealRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let list = repo::list(&mut tx).await?;
        tx.commit().await?;
        Ok(list)
    }

    /// The pipelines as the settings page keeps them: for admins (SettingsManage) only.
    pub async fn to_manage(&self, by: &Principal) -> Result<Vec<Pipeline>, ServiceError> {
        super::require(by, &[Permission::SettingsManage])?;
        self.list(by).await
    }

    pub async fn get(&self, by: &Principal, id: PipelineId) -> Result<Pipeline, ServiceError> {
        super::require(by, &[Permission::DealRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let p = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// A new pipeline with its stages (at least one open).
    pub async fn create(&self, by: &Principal, input: &PipelineInput) -> Result<Pipeline, ServiceError> {
        super::require(by, &[Permission::SettingsManage])?;
        let new = input.parse_new()?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let id = repo::insert(&mut tx, &new).await?;
        let saved = repo::get(&mut tx, id).await?;
        record(&mut tx, by, "created", &saved, &saved.name).await?;
        tx.commit().await?;
        self.saved(by, id);
        Ok(saved)
    }

    /// A new name (the stages change through their own calls).
    pub async fn rename(
        &self,
        by: &Principal,
        id: PipelineId,
        input: &PipelineInput,
    ) -> Result<Pipeline, ServiceError> {
        super::require(by, &[Permission::SettingsManage])?;
        let name = input.parse_name()?;
        if input.stages.is_some() {
            return Err(DomainError::new("stages", "stages_apart").into());
        }
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let before = repo::get(&mut tx, id).await?;
        if let Some(name) = name.filter(|n| *n != before.name) {
            repo::rename(&mut tx, id, &name).await?;
            record(&mut tx, by, "updated", &before, &format!("{} → {name}", before.name)).await?;
        }
        let saved = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.saved(by, id);
        Ok(saved)
    }

    /// Deletes a pipeline and its stages; never the tenant's last one.
    pub async fn delete(&self, by: &Principal, id: PipelineId) -> Result<(), ServiceError> {
        super::require(by, &[Permission::SettingsManage])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let gone = repo::get(&mut tx, id).await?;
        if repo::list(&mut tx).await?.len() <= 1 {
            return Err(DomainError::new("pipeline", "last_pipeline").into());
        }
        if deals::count_in_pipeline(&mut tx, id).await? > 0 {
            return Err(ServiceError::Refused { code: "pipeline_has_deals" });
        }
        repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "deleted", &gone, &gone.name).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::PipelineDeleted { tenant_id: by.tenant_id, pipeline_id: id });
        Ok(())
    }

    /// A stage at the end of the pipeline.
    pub async fn add_stage(&self, by: &Principal, id: PipelineId, input: &StageInput) -> Result<Stage, ServiceError> {
        let (after, added) = self
            .change_stages(by, id, "stage_added", None, |stages| {
                let new = input.parse(None)?;
                let summary = new.name.clone();
                stages.push((None, new));
                Ok(summary)
            })
            .await?;
        stage_of(after, added)
    }

    /// Changes what `input` names of a stage; the rest stays.
    pub async fn update_stage(
        &self,
        by: &Principal,
        id: PipelineId,
        stage: StageId,
        input: &StageInput,
    ) -> Result<Stage, ServiceError> {
        let (after, _) = self
            .change_stages(by, id, "stage_updated", None, |stages| {
                let (_, fields) = stages.iter_mut().find(|(s, _)| *s == Some(stage)).ok_or(ServiceError::NotFound)?;
                let after = input.parse(Some(fields))?;
                let summary = if after.name == fields.name {
                    after.name.clone()
                } else {
                    format!("{} → {}", fields.name, after.name)
                };
                *fields = after;
                Ok(summary)
            })
            .await?;
        stage_of(after, Some(stage))
    }

    /// Deletes a stage. A stage holding deals is refused (`stage_has_deals`) unless `move_to`
    /// names where they go (another stage of the same pipeline; each move is recorded); a
    /// stage whose going would leave no open stage stays.
    pub async fn delete_stage(
        &self,
        by: &Principal,
        id: PipelineId,
        stage: StageId,
        move_to: Option<StageId>,
    ) -> Result<(), ServiceError> {
        self.change_stages(by, id, "stage_deleted", move_to, |stages| {
            let at = stages.iter().position(|(s, _)| *s == Some(stage)).ok_or(ServiceError::NotFound)?;
            if let Some(to) = move_to
                && (to == stage || !stages.iter().any(|(s, _)| *s == Some(to)))
            {
                return Err(DomainError::new("move_to", "invalid_stage").into());
            }
            let (_, gone) = stages.remove(at);
            Ok(gone.name)
        })
        .await?;
        Ok(())
    }

    /// Puts the stages in the order of `ids`: each of the pipeline's stages once.
    pub async fn order_stages(
        &self,
        by: &Principal,
        id: PipelineId,
        ids: &[StageId],
    ) -> Result<Pipeline, ServiceError> {
        let (after, _) = self
            .change_stages(by, id, "stages_reordered", None, |stages| {
                let mut sorted: Vec<StageId> = ids.to_vec();
                sorted.sort();
                let mut have: Vec<StageId> = stages.iter().filter_map(|(s, _)| *s).collect();
                have.sort();
                if sorted != have {
                    return Err(DomainError::new("stage_ids", "stage_ids_mismatch").into());
                }
                stages.sort_by_key(|(s, _)| ids.iter().position(|i| Some(*i) == *s));
                Ok(stages.iter().map(|(_, f)| f.name.as_str()).collect::<Vec<_>>().join(" → "))
            })
            .await?;
        Ok(after)
    }

    /// Moves a stage one place earlier or later (the keyboard's and the page's way to order).
    pub async fn shift_stage(
        &self,
        by: &Principal,
        id: PipelineId,
        stage: StageId,
        to: Shift,
    ) -> Result<Pipeline, ServiceError> {
        let p = self.get(by, id).await?;
        let mut ids: Vec<StageId> = p.stages.iter().map(|s| s.id).collect();
        let at = ids.iter().position(|s| *s == stage).ok_or(ServiceError::NotFound)?;
        let other = match to {
            Shift::Earlier => at.checked_sub(1),
            Shift::Later => Some(at + 1).filter(|o| *o < ids.len()),
        };
        match other {
            Some(other) => {
                ids.swap(at, other);
                self.order_stages(by, id, &ids).await
            }
            None => Ok(p),
        }
    }

    /// Applies `change` to the pipeline's stages (id, fields) under its lock, checks what
    /// results as a whole, writes the difference, audits it as `action` with the summary
    /// `change` returns, and announces it. The deals of a stage that goes move to `move_to`
    /// (without one, a stage holding deals stays). The pipeline as it is now, and the new
    /// stage's id when one was added.
    async fn change_stages(
        &self,
        by: &Principal,
        id: PipelineId,
        action: &str,
        move_to: Option<StageId>,
        change: impl FnOnce(&mut Vec<(Option<StageId>, StageFields)>) -> Result<String, ServiceError>,
    ) -> Result<(Pipeline, Option<StageId>), ServiceError> {
        super::require(by, &[Permission::SettingsManage])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        repo::lock(&mut tx, id).await?;
        let before = repo::get(&mut tx, id).await?;
        let mut stages: Vec<(Option<StageId>, StageFields)> =
            before.stages.iter().map(|s| (Some(s.id), StageFields::from(s))).collect();
        let summary = change(&mut stages)?;
        let fields: Vec<StageFields> = stages.iter().map(|(_, f)| f.clone()).collect();
        // About one stage, an error names its field alone.
        check_stages(&fields).map_err(|e| DomainError { item: None, ..e })?;
        for old in &before.stages {
            if !stages.iter().any(|(s, _)| *s == Some(old.id)) {
                if deals::count_in_stage(&mut tx, old.id).await? > 0 {
                    let to = move_to
                        .and_then(|to| before.stages.iter().find(|s| s.id == to))
                        .ok_or(ServiceError::Refused { code: "stage_has_deals" })?;
                    deals::move_all(&mut tx, (old.id, &old.name), (to.id, &to.name), Some(by.user_id)).await?;
                }
                repo::delete_stage(&mut tx, old.id).await?;
            }
        }
        let mut added = None;
        for (stage, fields) in &stages {
            match stage {
                Some(s) => {
                    if before.stages.iter().any(|b| b.id == *s && StageFields::from(b) != *fields) {
                        repo::update_stage(&mut tx, *s, fields).await?;
                    }
                }
                None => added = Some(repo::insert_stage(&mut tx, id, fields).await?),
            }
        }
        let order: Vec<StageId> = stages.iter().filter_map(|(s, _)| s.or(added)).collect();
        repo::order_stages(&mut tx, id, &order).await?;
        let after = repo::get(&mut tx, id).await?;
        record(&mut tx, by, action, &after, &summary).await?;
        tx.commit().await?;
        self.saved(by, id);
        Ok((after, added))
    }

    fn saved(&self, by: &Principal, id: PipelineId) {
        self.events.publish(DomainEvent::PipelineSaved { tenant_id: by.tenant_id, pipeline_id: id });
    }
}

/// Stage `id` of `pipeline`.
fn stage_of(pipeline: Pipeline, id: Option<StageId>) -> Result<Stage, ServiceError> {
    pipeline.stages.into_iter().find(|s| Some(s.id) == id).ok_or(ServiceError::NotFound)
}

async fn record(
    tx: &mut TenantTx,
    by: &Principal,
    action: &str,
    p: &Pipeline,
    summary: &str,
) -> Result<(), ServiceError> {
    let entry = audit::Entry { action, entity: "pipeline", entity_id: &p.id.0.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(())
}
