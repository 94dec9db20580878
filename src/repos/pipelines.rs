//! The pipelines and pipeline_stages tables: a tenant's sales pipelines and their ordered stages.

use crate::db::TenantTx;
use crate::domain::pipeline::{Color, NewPipeline, Pipeline, PipelineId, Stage, StageFields, StageId, StageKind};

use super::{RepoError, conflict_on};

const CONFLICTS: &[(&str, &str)] = &[("pipelines_name_key", "name"), ("pipeline_stages_name_key", "name")];

struct StageRecord {
    id: i64,
    pipeline_id: i64,
    name: String,
    kind: String,
    probability: i16,
    color: String,
}

impl StageRecord {
    fn into_stage(self) -> Result<Stage, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("stage {}: stored {what} refused", self.id));
        Ok(Stage {
            id: StageId(self.id),
            pipeline_id: PipelineId(self.pipeline_id),
            kind: StageKind::parse(&self.kind).map_err(|_| corrupt("kind"))?,
            probability: u8::try_from(self.probability).map_err(|_| corrupt("probability"))?,
            color: Color::parse(&self.color).map_err(|_| corrupt("color"))?,
            name: self.name,
        })
    }
}

/// The tenant's pipelines in order, each with its stages in order.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Pipeline>, RepoError> {
    let tenant = tx.tenant_id().0;
    let pipelines =
        sqlx::query!("SELECT id, name FROM pipelines WHERE tenant_id = $1 ORDER BY position, id LIMIT 200", tenant)
            .fetch_all(tx.conn())
            .await?;
    let stages = sqlx::query_as!(
        StageRecord,
        "SELECT id, pipeline_id, name, kind, probability, color FROM pipeline_stages
         WHERE tenant_id = $1 ORDER BY pipeline_id, position, id",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    let mut out: Vec<Pipeline> =
        pipelines.into_iter().map(|p| Pipeline { id: PipelineId(p.id), name: p.name, stages: Vec::new() }).collect();
    for stage in stages {
        let stage = stage.into_stage()?;
        if let Some(p) = out.iter_mut().find(|p| p.id == stage.pipeline_id) {
            p.stages.push(stage);
        }
    }
    Ok(out)
}

/// One pipeline with its stages; `NotFound` if the tenant has no such pipeline.
pub async fn get(tx: &mut TenantTx, id: PipelineId) -> Result<Pipeline, RepoError> {
    let tenant = tx.tenant_id().0;
    let p = sqlx::query!("SELECT id, name FROM pipelines WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    let stages = sqlx::query_as!(
        StageRecord,
        "SELECT id, pipeline_id, name, kind, probability, color FROM pipeline_stages
         WHERE tenant_id = $1 AND pipeline_id = $2 ORDER BY position, id",
        tenant,
        id.0
    )
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .map(StageRecord::into_stage)
    .collect::<Result<_, _>>()?;
    Ok(Pipeline { id: PipelineId(p.id), name: p.name, stages })
}

/// Locks the pipeline's row until the transaction ends: changes to its stages take turns.
pub async fn lock(tx: &mut TenantTx, id: PipelineId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT id FROM pipelines WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(())
}

/// The pipeline every tenant starts with, named in `locale`.
pub async fn insert_default(tx: &mut TenantTx, locale: &str) -> Result<PipelineId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(r#"SELECT create_default_pipeline($1, $2) AS "id!""#, tenant, locale)
        .fetch_one(tx.conn())
        .await?;
    Ok(PipelineId(id))
}

/// A new pipeline, last in order, with its stages.
pub async fn insert(tx: &mut TenantTx, new: &NewPipeline) -> Result<PipelineId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO pipelines (tenant_id, name, position)
         SELECT $1, $2, coalesce(max(position) + 1, 0) FROM pipelines WHERE tenant_id = $1
         RETURNING id",
        tenant,
        new.name
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?;
    for stage in &new.stages {
        insert_stage(tx, PipelineId(id), stage).await?;
    }
    Ok(PipelineId(id))
}

pub async fn rename(tx: &mut TenantTx, id: PipelineId, name: &str) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!("UPDATE pipelines SET name = $3 WHERE tenant_id = $1 AND id = $2", tenant, id.0, name)
        .execute(tx.conn())
        .await
        .map_err(conflict_on(CONFLICTS))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

pub async fn delete(tx: &mut TenantTx, id: PipelineId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("DELETE FROM pipelines WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A stage at the end of its pipeline.
pub async fn insert_stage(tx: &mut TenantTx, pipeline: PipelineId, s: &StageFields) -> Result<StageId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, kind, probability, color, position)
         SELECT $1, $2, $3, $4, $5, $6, coalesce(max(position) + 1, 0)
         FROM pipeline_stages WHERE tenant_id = $1 AND pipeline_id = $2
         RETURNING id",
        tenant,
        pipeline.0,
        s.name,
        s.kind.as_str(),
        i16::from(s.probability),
        s.color.as_str()
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?;
    Ok(StageId(id))
}

pub async fn update_stage(tx: &mut TenantTx, id: StageId, s: &StageFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE pipeline_stages SET name = $3, kind = $4, probability = $5, color = $6
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        s.name,
        s.kind.as_str(),
        i16::from(s.probability),
        s.color.as_str()
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CONFLICTS))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

pub async fn delete_stage(tx: &mut TenantTx, id: StageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!("DELETE FROM pipeline_stages WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Puts the pipeline's stages in the order of `ids` (all of them, each once: the caller checks).
pub async fn order_stages(tx: &mut TenantTx, pipeline: PipelineId, ids: &[StageId]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let ids: Vec<i64> = ids.iter().map(|s| s.0).collect();
    sqlx::query!(
        "UPDATE pipeline_stages s SET position = o.n - 1
         FROM unnest($3::bigint[]) WITH ORDINALITY AS o (id, n)
         WHERE s.tenant_id = $1 AND s.pipeline_id = $2 AND s.id = o.id",
        tenant,
        pipeline.0,
        &ids
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
