//! `AppState`: what every handler can reach — the configuration, the services, the event bus
//! and the metrics — made once at start-up.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::events::EventBus;
use crate::services::{
    AuditService, AuthService, BulkService, ChannelService, ChatService, ClientImportService, ClientService,
    CompanyService, CustomFieldService, DealService, FileStore, MessageTemplateService, NoteService,
    NotificationService, PipelineService, Providers, SavedViewService, SettingsService, TagService, TaskService,
    TenantService, TimelineService, UserService,
};
use crate::web::ops::Metrics;

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub events: EventBus,
    pub metrics: Arc<Metrics>,
    pub auth: AuthService,
    pub users: UserService,
    pub tenants: TenantService,
    pub settings: SettingsService,
    pub audit: AuditService,
    pub clients: ClientService,
    pub imports: ClientImportService,
    pub chats: ChatService,
    pub message_templates: MessageTemplateService,
    pub pipelines: PipelineService,
    pub companies: CompanyService,
    pub deals: DealService,
    pub tags: TagService,
    pub custom_fields: CustomFieldService,
    pub notes: NoteService,
    pub tasks: TaskService,
    pub notifications: NotificationService,
    pub timeline: TimelineService,
    pub bulk: BulkService,
    pub views: SavedViewService,
    /// Attachment bytes.
    pub files: FileStore,
    pub channels: ChannelService,
    /// Messages the webhooks bring in.
    pub inbound: crate::services::inbound::InboundService,
    /// Finds the provider a tenant's message goes out through.
    pub providers: Providers,
}

impl AppState {
    /// The state of a running app; fails only if the file store's directory cannot be made.
    pub fn new(config: Config, pool: PgPool, events: EventBus) -> std::io::Result<Self> {
        let files = FileStore::local(&config.data_dir.join("files"))?;
        let endpoints = crate::services::channels::Endpoints {
            public_url: config.public_url.clone(),
            twilio_api_base: config.twilio_api_base.clone(),
            telegram_api_base: config.telegram_api_base.clone(),
        };
        let channels = ChannelService::new(pool.clone(), events.clone(), config.secret_key.clone(), endpoints);
        let providers = Providers::default().with_channels(channels.clone());
        let message_templates = MessageTemplateService::new(pool.clone(), events.clone());
        let chats =
            ChatService::new(pool.clone(), events.clone(), files.clone(), providers.clone(), message_templates.clone());
        let bulk = BulkService::new(pool.clone(), events.clone(), files.clone(), chats.clone());
        Ok(Self {
            auth: AuthService::new(pool.clone(), events.clone()),
            users: UserService::new(pool.clone(), events.clone()),
            tenants: TenantService::new(pool.clone(), events.clone()),
            settings: SettingsService::new(pool.clone(), events.clone()),
            pipelines: PipelineService::new(pool.clone(), events.clone()),
            companies: CompanyService::new(pool.clone(), events.clone()),
            deals: DealService::new(pool.clone(), events.clone()),
            tags: TagService::new(pool.clone(), events.clone()),
            custom_fields: CustomFieldService::new(pool.clone(), events.clone()),
            notes: NoteService::new(pool.clone(), events.clone()),
            tasks: TaskService::new(pool.clone(), events.clone()),
            notifications: NotificationService::new(pool.clone(), events.clone()),
            timeline: TimelineService::new(pool.clone()),
            views: SavedViewService::new(pool.clone()),
            audit: AuditService::new(pool.clone()),
            clients: ClientService::new(pool.clone(), events.clone(), files.clone()),
            imports: ClientImportService::new(pool.clone(), events.clone()),
            chats,
            message_templates,
            files,
            bulk,
            providers,
            inbound: crate::services::inbound::InboundService::new(pool.clone(), events.clone()),
            channels,
            config: Arc::new(config),
            pool,
            events,
            metrics: Arc::new(Metrics::default()),
        })
    }
}

impl AppState {
    /// The same state sending through `providers` (local fakes in tests and demos) besides the
    /// tenants' channels.
    pub fn with_providers(mut self, providers: Providers) -> Self {
        let providers = providers.with_channels(self.channels.clone());
        self.chats = self.chats.with_providers(providers.clone());
        self.bulk = self.bulk.with_chats(self.chats.clone());
        self.providers = providers;
        self
    }

    /// Expiring links to attachments, for providers that fetch files (Twilio's MediaUrl).
    pub fn media_links(&self) -> crate::services::files::MediaLinks {
        crate::services::files::MediaLinks::new(self.config.secret_key.clone(), &self.config.public_url)
    }
}
