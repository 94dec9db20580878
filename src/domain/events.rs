//! Domain events: what happened, published on the bus after the transaction that did it commits.

use super::bulk::JobId;
use super::channel::ChannelId;
use super::chat::{ChatId, DeliveryStatus, MessageId};
use super::company::CompanyId;
use super::custom_field::FieldId;
use super::deal::DealId;
use super::note::{CommentId, NoteId};
use super::pipeline::{PipelineId, StageId};
use super::record::RecordRef;
use super::tag::{TagId, Tagged};
use super::task::TaskId;
use super::{ClientId, Role, TenantId, UserId};

/// Serialised (tagged by `type`) only to travel between app nodes (`events::relay`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    TenantCreated {
        tenant_id: TenantId,
    },
    /// The tenant's settings changed.
    SettingsChanged {
        tenant_id: TenantId,
    },
    UserCreated {
        tenant_id: TenantId,
        user_id: UserId,
    },
    UserRoleChanged {
        tenant_id: TenantId,
        user_id: UserId,
        role: Role,
    },
    UserDeactivated {
        tenant_id: TenantId,
        user_id: UserId,
    },
    UserReactivated {
        tenant_id: TenantId,
        user_id: UserId,
    },
    ProfileUpdated {
        tenant_id: TenantId,
        user_id: UserId,
    },
    /// One or more of the user's sessions ended (signed out, or the password changed): pages
    /// open under them stop hearing anything.
    SessionsEnded {
        tenant_id: TenantId,
        user_id: UserId,
    },
    ClientCreated {
        tenant_id: TenantId,
        client_id: ClientId,
    },
    /// The client's fields or contacts changed.
    ClientUpdated {
        tenant_id: TenantId,
        client_id: ClientId,
    },
    /// Archived: gone from lists and search.
    ClientDeleted {
        tenant_id: TenantId,
        client_id: ClientId,
    },
    ChatCreated {
        tenant_id: TenantId,
        chat_id: ChatId,
        client_id: ClientId,
    },
    /// Staff wrote in a chat: an outbound message (queued) or a note.
    MessageSent {
        tenant_id: TenantId,
        chat_id: ChatId,
        message_id: MessageId,
    },
    MessageReceived {
        tenant_id: TenantId,
        chat_id: ChatId,
        message_id: MessageId,
        /// Whom the chat is assigned to with the message in (round robin included): live
        /// pages decide whom to notify from it instead of asking the database each.
        #[serde(default)]
        assignee: Option<UserId>,
    },
    MessageStatusChanged {
        tenant_id: TenantId,
        chat_id: ChatId,
        message_id: MessageId,
        status: DeliveryStatus,
    },
    /// Assigned, unassigned, or its status changed (a snooze ended, too).
    ChatUpdated {
        tenant_id: TenantId,
        chat_id: ChatId,
    },
    /// Staff read the client's messages up to some point: unread badges change.
    ChatRead {
        tenant_id: TenantId,
        chat_id: ChatId,
    },
    TemplateSaved {
        tenant_id: TenantId,
        template_id: i64,
    },
    TemplateDeleted {
        tenant_id: TenantId,
        template_id: i64,
    },
    /// Created, renamed, or its stages changed.
    PipelineSaved {
        tenant_id: TenantId,
        pipeline_id: PipelineId,
    },
    PipelineDeleted {
        tenant_id: TenantId,
        pipeline_id: PipelineId,
    },
    DealCreated {
        tenant_id: TenantId,
        deal_id: DealId,
        pipeline_id: PipelineId,
    },
    /// Its fields changed (a move between stages is `DealMoved`).
    DealUpdated {
        tenant_id: TenantId,
        deal_id: DealId,
        pipeline_id: PipelineId,
    },
    /// Moved on its pipeline's board: to another stage (`from` ≠ `to`), or within one.
    DealMoved {
        tenant_id: TenantId,
        deal_id: DealId,
        pipeline_id: PipelineId,
        from: StageId,
        to: StageId,
    },
    DealDeleted {
        tenant_id: TenantId,
        deal_id: DealId,
        pipeline_id: PipelineId,
    },
    CompanyCreated {
        tenant_id: TenantId,
        company_id: CompanyId,
    },
    CompanyUpdated {
        tenant_id: TenantId,
        company_id: CompanyId,
    },
    /// Deleted: its people and deals stay, unlinked.
    CompanyDeleted {
        tenant_id: TenantId,
        company_id: CompanyId,
    },
    TagCreated {
        tenant_id: TenantId,
        tag_id: TagId,
    },
    /// Renamed, recoloured, locked or unlocked.
    TagUpdated {
        tenant_id: TenantId,
        tag_id: TagId,
    },
    /// Deleted, and so taken off every record that carried it.
    TagDeleted {
        tenant_id: TenantId,
        tag_id: TagId,
    },
    /// Put on a record (`tag.added`).
    TagAdded {
        tenant_id: TenantId,
        tag_id: TagId,
        on: Tagged,
    },
    /// Taken off a record.
    TagRemoved {
        tenant_id: TenantId,
        tag_id: TagId,
        on: Tagged,
    },
    /// A custom field made, relabelled, changed, or brought back.
    FieldSaved {
        tenant_id: TenantId,
        field_id: FieldId,
    },
    /// A custom field removed (its values hidden, restorable for 30 days).
    FieldRemoved {
        tenant_id: TenantId,
        field_id: FieldId,
    },
    /// A note written on a record (or a comment on one: `comment` names it).
    NoteAdded {
        tenant_id: TenantId,
        note_id: NoteId,
        on: RecordRef,
        comment: Option<CommentId>,
    },
    TaskCreated {
        tenant_id: TenantId,
        task_id: TaskId,
    },
    /// Its fields changed, or it was reopened.
    TaskUpdated {
        tenant_id: TenantId,
        task_id: TaskId,
    },
    TaskCompleted {
        tenant_id: TenantId,
        task_id: TaskId,
    },
    TaskDeleted {
        tenant_id: TenantId,
        task_id: TaskId,
    },
    /// Its due time passed while it was open (`task.overdue`): announced once.
    TaskOverdue {
        tenant_id: TenantId,
        task_id: TaskId,
        assignee: Option<UserId>,
    },
    /// A bulk job moved on (a chunk done), or ended.
    JobProgressed {
        tenant_id: TenantId,
        job_id: JobId,
        finished: bool,
    },
    /// A user's notifications changed (one came, or some were read): their bell follows.
    NotificationsChanged {
        tenant_id: TenantId,
        user_id: UserId,
    },
    /// An inbound message's files were fetched from its provider and stored.
    AttachmentsArrived {
        tenant_id: TenantId,
        chat_id: ChatId,
        message_id: MessageId,
    },
    /// Created, edited, enabled or disabled.
    ChannelSaved {
        tenant_id: TenantId,
        channel_id: ChannelId,
    },
    ChannelDeleted {
        tenant_id: TenantId,
        channel_id: ChannelId,
    },
}

impl DomainEvent {
    /// The chat an event is about, if it is about one.
    pub fn chat_id(&self) -> Option<ChatId> {
        match self {
            DomainEvent::ChatCreated { chat_id, .. }
            | DomainEvent::MessageSent { chat_id, .. }
            | DomainEvent::MessageReceived { chat_id, .. }
            | DomainEvent::MessageStatusChanged { chat_id, .. }
            | DomainEvent::ChatRead { chat_id, .. }
            | DomainEvent::ChatUpdated { chat_id, .. }
            | DomainEvent::AttachmentsArrived { chat_id, .. } => Some(*chat_id),
            _ => None,
        }
    }

    /// Every event belongs to exactly one tenant; subscribers filter on it.
    pub fn tenant_id(&self) -> TenantId {
        match self {
            DomainEvent::TenantCreated { tenant_id }
            | DomainEvent::SettingsChanged { tenant_id }
            | DomainEvent::UserCreated { tenant_id, .. }
            | DomainEvent::UserRoleChanged { tenant_id, .. }
            | DomainEvent::UserDeactivated { tenant_id, .. }
            | DomainEvent::UserReactivated { tenant_id, .. }
            | DomainEvent::ProfileUpdated { tenant_id, .. }
            | DomainEvent::SessionsEnded { tenant_id, .. }
            | DomainEvent::ClientCreated { tenant_id, .. }
            | DomainEvent::ClientUpdated { tenant_id, .. }
            | DomainEvent::ClientDeleted { tenant_id, .. }
            | DomainEvent::ChatCreated { tenant_id, .. }
            | DomainEvent::MessageSent { tenant_id, .. }
            | DomainEvent::MessageReceived { tenant_id, .. }
            | DomainEvent::MessageStatusChanged { tenant_id, .. }
            | DomainEvent::ChatRead { tenant_id, .. }
            | DomainEvent::ChatUpdated { tenant_id, .. }
            | DomainEvent::TemplateSaved { tenant_id, .. }
            | DomainEvent::TemplateDeleted { tenant_id, .. }
            | DomainEvent::AttachmentsArrived { tenant_id, .. }
            | DomainEvent::PipelineSaved { tenant_id, .. }
            | DomainEvent::PipelineDeleted { tenant_id, .. }
            | DomainEvent::DealCreated { tenant_id, .. }
            | DomainEvent::DealUpdated { tenant_id, .. }
            | DomainEvent::DealMoved { tenant_id, .. }
            | DomainEvent::DealDeleted { tenant_id, .. }
            | DomainEvent::CompanyCreated { tenant_id, .. }
            | DomainEvent::CompanyUpdated { tenant_id, .. }
            | DomainEvent::CompanyDeleted { tenant_id, .. }
            | DomainEvent::TagCreated { tenant_id, .. }
            | DomainEvent::TagUpdated { tenant_id, .. }
            | DomainEvent::TagDeleted { tenant_id, .. }
            | DomainEvent::TagAdded { tenant_id, .. }
            | DomainEvent::TagRemoved { tenant_id, .. }
            | DomainEvent::FieldSaved { tenant_id, .. }
            | DomainEvent::FieldRemoved { tenant_id, .. }
            | DomainEvent::NoteAdded { tenant_id, .. }
            | DomainEvent::TaskCreated { tenant_id, .. }
            | DomainEvent::TaskUpdated { tenant_id, .. }
            | DomainEvent::TaskCompleted { tenant_id, .. }
            | DomainEvent::TaskDeleted { tenant_id, .. }
            | DomainEvent::TaskOverdue { tenant_id, .. }
            | DomainEvent::NotificationsChanged { tenant_id, .. }
            | DomainEvent::JobProgressed { tenant_id, .. }
            | DomainEvent::ChannelSaved { tenant_id, .. }
            | DomainEvent::ChannelDeleted { tenant_id, .. } => *tenant_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_received_from_a_node_that_did_not_say_the_assignee_reads_as_unassigned() {
        let tenant = uuid::Uuid::nil();
        let older = format!(r#"{{"type":"MessageReceived","tenant_id":"{tenant}","chat_id":7,"message_id":9}}"#);
        let event: DomainEvent = serde_json::from_str(&older).unwrap();
        assert!(matches!(event, DomainEvent::MessageReceived { assignee: None, .. }), "{event:?}");
        let now = DomainEvent::MessageReceived {
            tenant_id: TenantId(tenant),
            chat_id: ChatId(7),
            message_id: MessageId(9),
            assignee: Some(UserId(3)),
        };
        assert_eq!(serde_json::from_str::<DomainEvent>(&serde_json::to_string(&now).unwrap()).unwrap(), now);
    }
}
