//! Merging two records of one person, and undoing it by restoring the merged one.

use serde_json::{Map, Value};

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, NewActivity};
use crate::domain::custom_field::FieldEntity;
use crate::domain::record::RecordRef;
use crate::domain::{
    Actor, Client, ClientId, ClientInput, ClientQuery, DomainError, DomainEvent, Permission, Principal,
};
use crate::repos::clients::{self, merge};
use crate::repos::records::{self, Carried};
use crate::repos::{self, RepoError, audit, chats, custom_fields, deals};
use crate::services::ServiceError;

use super::{ClientService, UpdateError, update_client};

/// What merging takes: one client is changed and another archived.
const MERGE: &[Permission] = &[Permission::ClientUpdate, Permission::ClientDelete];

/// What a merge changed, for the events after the commit.
struct Merged {
    survivor: Client,
    chat: Option<crate::domain::chat::ChatId>,
}

impl ClientService {
    /// Merges `from` into `into`: `from`'s contacts and conversation move over (messages keep
    /// their times, so the one thread reads in order), `into`'s empty fields take `from`'s
    /// values, and `from` is archived with `merged_into`. Restoring `from` within 30 days undoes
    /// it. `from` may be archived already (a deleted client who wrote again).
    pub async fn merge(&self, by: &Principal, into: ClientId, from: ClientId) -> Result<Client, ServiceError> {
        super::super::require(by, MERGE)?;
        if into == from {
            return Err(DomainError::new("from_client_id", "merge_with_itself").into());
        }
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        match merge::lock_pair(&mut tx, into, from).await? {
            (None, _) => return Err(ServiceError::NotFound),
            (_, None) => return Err(DomainError::new("from_client_id", "unknown_client").into()),
            (Some(true), _) | (_, Some(true)) => return Err(ServiceError::Refused { code: "already_merged" }),
            _ => {}
        }
        let merged = match merge_in(&mut tx, &by.actor(), into, from).await {
            Ok(m) => m,
            Err(UpdateError::Invalid(errors)) => return Err(errors.into()),
            Err(UpdateError::Taken { field, value }) => return Err(self.duplicate(by, field, &value).await),
            Err(UpdateError::Repo(e)) => return Err(e.into()),
        };
        tx.commit().await?;
        let tenant_id = by.tenant_id;
        self.events.publish(DomainEvent::ClientUpdated { tenant_id, client_id: into });
        self.events.publish(DomainEvent::ClientDeleted { tenant_id, client_id: from });
        if let Some(chat_id) = merged.chat {
            self.events.publish(DomainEvent::ChatUpdated { tenant_id, chat_id });
        }
        Ok(merged.survivor)
    }

    /// Whether `by` may merge clients (what pages offer).
    pub fn may_merge(&self, by: &Principal) -> bool {
        super::super::require(by, MERGE).is_ok()
    }

    /// Up to 8 live clients other than `into` matching `q` as the client list finds them
    /// (names in either alphabet, phone, email, PIN): whom the merge picker offers.
    pub async fn merge_candidates(&self, by: &Principal, into: ClientId, q: &str) -> Result<Vec<Client>, ServiceError> {
        super::super::require(by, MERGE)?;
        let query = ClientQuery { q: Some(q.to_owned()), limit: 9, ..ClientQuery::default() };
        let found = self.list(by, &query).await?;
        Ok(found.items.into_iter().map(|(c, _)| c).filter(|c| c.id != into).take(8).collect())
    }

    /// Clients of the tenant who share a number or contact with `client` and could be the same
    /// person (archived ones included, merged ones not): what the client's page offers to merge.
    pub async fn twins(&self, by: &Principal, client: ClientId) -> Result<Vec<(ClientId, String, bool)>, ServiceError> {
        super::super::require(by, &[Permission::ClientRead])?;
        let (mut tx, scope) = self.begin(by).await?;
        let mut twins = merge::twins(&mut tx, client).await?;
        if let Some(reader) = scope {
            let mut seen = Vec::new();
            for twin in twins {
                if clients::visible_to(&mut tx, twin.0, reader).await? {
                    seen.push(twin);
                }
            }
            twins = seen;
        }
        tx.commit().await?;
        Ok(twins)
    }
}

/// The writes of a merge, both clients locked.
async fn merge_in(tx: &mut TenantTx, actor: &Actor, into: ClientId, from: ClientId) -> Result<Merged, UpdateError> {
    let repo = UpdateError::Repo;
    let survivor = clients::get_for_update(tx, into).await.map_err(repo)?;
    let other = clients::get_any(tx, from).await.map_err(repo)?;

    // The survivor's empty fields take the other's values; a passport only as a whole.
    let (mut after, theirs) = (survivor.input(), other.input());
    let mut filled = Map::new();
    let passport_free = after.passport_number.is_none() && after.passport_series.is_none();
    for field in ClientInput::FIELDS {
        let passport = field.starts_with("passport_");
        if after.get(field).is_none()
            && (!passport || passport_free)
            && let Some(value) = theirs.get(field)
        {
            *after.field_mut(field).expect("a field") = Some(value.to_owned());
            filled.insert(field.to_owned(), Value::String(value.to_owned()));
        }
    }
    // A phone or PIN is one client's: it leaves the other first.
    merge::release_unique(tx, from, filled.contains_key("phone"), filled.contains_key("pin")).await.map_err(repo)?;
    update_client(tx, actor, &survivor, &after, None, None).await?;

    let contacts = merge::move_contacts(tx, from, into).await.map_err(repo)?;
    let (chat, messages, members) = match merge::chat_of(tx, from).await.map_err(repo)? {
        Some(their_chat) => {
            let (ours, _) = chats::for_client(tx, into).await.map_err(repo)?;
            let (messages, members) = merge::move_conversation(tx, their_chat, ours.id, None).await.map_err(repo)?;
            (Some(ours.id), messages, members)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    let deals = deals::reassign_client(tx, from, into, None).await.map_err(repo)?;
    let tags = merge::copy_tags(tx, from, into).await.map_err(repo)?;
    // Custom values the survivor lacks are taken too, as its empty fields are.
    let mut ours = custom_fields::stored_values(tx, FieldEntity::Client, into.0).await.map_err(repo)?;
    let theirs = custom_fields::stored_values(tx, FieldEntity::Client, from.0).await.map_err(repo)?;
    let mut took = false;
    for (key, value) in theirs {
        if !ours.contains_key(&key) {
            filled.insert(format!("custom.{key}"), value.clone());
            ours.insert(key, value);
            took = true;
        }
    }
    if took {
        custom_fields::set_values(tx, FieldEntity::Client, into.0, &ours).await.map_err(repo)?;
    }
    merge::archive_into(tx, from, into).await.map_err(repo)?;
    let notes = records::move_client(tx, Carried::Notes, from, into).await.map_err(repo)?;
    let tasks = records::move_client(tx, Carried::Tasks, from, into).await.map_err(repo)?;
    let activities = records::move_client(tx, Carried::Activities, from, into).await.map_err(repo)?;
    let record = merge::NewMerge {
        survivor: into,
        merged: from,
        contacts: &contacts,
        messages: &messages,
        members: &members,
        deals: &deals,
        tags: &tags,
        notes: &notes,
        tasks: &tasks,
        activities: &activities,
        filled: Value::Object(filled),
    };
    merge::record(tx, record).await.map_err(repo)?;

    let (into_text, from_text) = (into.to_string(), from.to_string());
    let summary = format!("#{from} {} ({} messages, {} contacts)", other.full_name(), messages.len(), contacts.len());
    let entry = audit::Entry { action: "merged", entity: "client", entity_id: &into_text, summary: &summary };
    audit::record(tx, actor, entry).await.map_err(repo)?;
    let summary = format!("#{into} {}", survivor.full_name());
    let entry = audit::Entry { action: "merged_into", entity: "client", entity_id: &from_text, summary: &summary };
    audit::record(tx, actor, entry).await.map_err(repo)?;
    let summary = format!("#{from} {}", other.full_name());
    let entry = NewActivity::new(RecordRef::Client(into), ActivityKind::Merged, actor, summary)
        .with(serde_json::json!({"client_id": from.0}));
    repos::activities::record(tx, &entry).await.map_err(repo)?;
    let survivor = clients::get(tx, into).await.map_err(repo)?;
    Ok(Merged { survivor, chat })
}

/// Undoes the merge that archived `merged` (just restored, locked in `tx`), if there is one:
/// what moved goes back, and the survivor gives back the values it took, unless they were
/// changed since. Returns the survivor.
pub(super) async fn undo_merge(
    tx: &mut TenantTx,
    actor: &Actor,
    merged: ClientId,
) -> Result<Option<ClientId>, RepoError> {
    let Some(record) = merge::open_merge(tx, merged).await? else {
        return Ok(None);
    };
    let survivor = clients::get_any(tx, record.survivor).await?;
    let now = survivor.input();
    // Values the survivor still holds as the merge gave them go back.
    let kept = |field: &str| record.filled.get(field).and_then(Value::as_str).filter(|v| now.get(field) == Some(*v));
    let (phone, pin) = (kept("phone").map(str::to_owned), kept("pin").map(str::to_owned));
    let mut cleared = ClientInput::default();
    for field in ClientInput::FIELDS {
        if kept(field).is_some() && field != "first_name" {
            *cleared.field_mut(field).expect("a field") = Some(String::new());
        }
    }
    let after = now.overlaid(&cleared);
    // Only optional values are cleared (never the first name), and clearing frees phone and
    // PIN rather than taking them: neither a rule nor a uniqueness can refuse it.
    match update_client(tx, actor, &survivor, &after, None, None).await {
        Ok(_) => {}
        Err(UpdateError::Repo(e)) => return Err(e),
        Err(UpdateError::Invalid(_) | UpdateError::Taken { .. }) => {
            return Err(RepoError::Corrupt(format!("client {}: the merge's values could not be cleared", survivor.id)));
        }
    }
    // Custom values the merge gave the survivor go back, unless they were changed since.
    let mut values = custom_fields::stored_values(tx, FieldEntity::Client, record.survivor.0).await?;
    let given: Vec<String> = record
        .filled
        .iter()
        .filter_map(|(field, v)| field.strip_prefix("custom.").filter(|k| values.get(*k) == Some(v)).map(str::to_owned))
        .collect();
    if !given.is_empty() {
        for key in &given {
            values.remove(key);
        }
        custom_fields::set_values(tx, FieldEntity::Client, record.survivor.0, &values).await?;
    }
    merge::take_back_unique(tx, merged, phone.as_deref(), pin.as_deref()).await?;
    merge::return_contacts(tx, &record.contacts, record.survivor, merged).await?;
    deals::reassign_client(tx, record.survivor, merged, Some(&record.deals)).await?;
    merge::remove_tags(tx, record.survivor, &record.tags).await?;
    records::move_back(tx, Carried::Notes, &record.notes, merged).await?;
    records::move_back(tx, Carried::Tasks, &record.tasks, merged).await?;
    records::move_back(tx, Carried::Activities, &record.activities, merged).await?;
    if let (Some(from), Some(to)) = (merge::chat_of(tx, record.survivor).await?, merge::chat_of(tx, merged).await?) {
        merge::move_conversation(tx, from, to, Some((&record.messages, &record.members))).await?;
    }
    merge::mark_undone(tx, record.id, merged).await?;
    let summary = format!("#{merged} ({} messages back)", record.messages.len());
    let entry = audit::Entry {
        action: "unmerged",
        entity: "client",
        entity_id: &record.survivor.to_string(),
        summary: &summary,
    };
    audit::record(tx, actor, entry).await?;
    Ok(Some(record.survivor))
}
