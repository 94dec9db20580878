//! A list's filters read from its query parameters: what the API's lists, the list pages and a
//! bulk action on "all that match" share, so that the three read a filter the same way.

use std::collections::HashMap;

use crate::domain::bulk::BulkEntity;
use crate::domain::company::CompanyFilter;
use crate::domain::custom_field::FieldEntity;
use crate::domain::deal::DealFilter;
use crate::domain::pipeline::PipelineId;
use crate::domain::tag::TagId;
use crate::domain::{ClientQuery, ClientSort, Principal, parse_date, parse_id};
use crate::services::bulk::Targets;
use crate::web::AppState;
use crate::web::error::AppError;

type Params = HashMap<String, String>;

fn text<'a>(params: &'a Params, name: &str) -> &'a str {
    params.get(name).map_or("", String::as_str)
}

/// The `custom.KEY=value` pairs of a list's query parameters, as `CustomFieldService::filter` takes them.
pub fn custom_pairs(params: &Params) -> Vec<(String, String)> {
    params.iter().filter_map(|(k, v)| k.strip_prefix("custom.").map(|key| (key.to_owned(), v.clone()))).collect()
}

/// A client list's filters and order (`q`, `created_from`, `created_to`, `tag_id`, `sort`,
/// `custom.KEY`), the paging aside; every parameter at fault is named at once.
pub async fn client_query(state: &AppState, by: &Principal, params: &Params) -> Result<ClientQuery, AppError> {
    let created_from = parse_date("created_from", text(params, "created_from"));
    let created_to = parse_date("created_to", text(params, "created_to"));
    let sort = text(params, "sort").parse::<ClientSort>();
    let tag_id = parse_id("tag_id", text(params, "tag_id"));
    let (created_from, created_to, sort, tag_id) = match (created_from, created_to, sort, tag_id) {
        (Ok(a), Ok(b), Ok(c), Ok(t)) => (a, b, c, t),
        (a, b, c, t) => {
            return Err(AppError::Invalid([a.err(), b.err(), c.err(), t.err()].into_iter().flatten().collect()));
        }
    };
    let custom = state.custom_fields.filter(by, FieldEntity::Client, &custom_pairs(params)).await?;
    Ok(ClientQuery {
        q: params.get("q").cloned(),
        created_from,
        created_to,
        tag_id: tag_id.map(TagId),
        custom,
        sort,
        ..ClientQuery::default()
    })
}

/// A company list's filters (`q`, `owner_id`, `tag_id`, `sort`, `custom.KEY`).
pub async fn company_filter(state: &AppState, by: &Principal, params: &Params) -> Result<CompanyFilter, AppError> {
    let mut filter = CompanyFilter::parse(params).map_err(AppError::Invalid)?;
    filter.custom = state.custom_fields.filter(by, FieldEntity::Company, &custom_pairs(params)).await?;
    Ok(filter)
}

/// A deal list's pipeline (`pipeline_id`) and filters.
pub fn deal_filter(params: &Params) -> Result<(Option<PipelineId>, DealFilter), AppError> {
    let pipeline = parse_id("pipeline_id", text(params, "pipeline_id"));
    let filter = DealFilter::parse(params);
    match (pipeline, filter) {
        (Ok(p), Ok(f)) => Ok((p.map(PipelineId), f)),
        (p, f) => Err(AppError::Invalid(p.err().into_iter().chain(f.err().unwrap_or_default()).collect())),
    }
}

/// Every record of `entity` a list filtered by `params` shows: a bulk action's targets.
pub async fn matching(
    state: &AppState,
    by: &Principal,
    entity: BulkEntity,
    params: &Params,
) -> Result<Targets, AppError> {
    Ok(match entity {
        BulkEntity::Clients => Targets::Clients(client_query(state, by, params).await?),
        BulkEntity::Companies => Targets::Companies(company_filter(state, by, params).await?),
        BulkEntity::Deals => {
            let (pipeline, filter) = deal_filter(params)?;
            Targets::Deals(pipeline, filter)
        }
    })
}
