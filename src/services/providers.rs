//! `Providers`: which provider a tenant's message on a transport goes out through — the
//! tenant's enabled channel for it, or a fixed provider given at start-up (local fakes in tests
//! and demos).

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::channel::ChannelId;
use crate::domain::chat::Transport;
use crate::domain::{DomainError, TenantId};
use crate::transport::Provider;

use super::{ChannelService, ServiceError};

/// Finds the provider of a tenant's transport: the tenant's enabled channel for it first, else
/// a fixed provider given at start-up (local fakes in tests and demos).
#[derive(Clone, Default)]
pub struct Providers {
    fixed: HashMap<Transport, Arc<dyn Provider>>,
    channels: Option<ChannelService>,
}

/// A provider, and the channel it belongs to (none for a fixed one).
pub type Found = (Option<ChannelId>, Arc<dyn Provider>);

impl Providers {
    /// Tenants' channels, looked up when a message goes out.
    pub fn with_channels(mut self, channels: ChannelService) -> Self {
        self.channels = Some(channels);
        self
    }

    /// A provider for `transport` in every tenant that has no channel of its own for it.
    pub fn with(mut self, transport: Transport, provider: Arc<dyn Provider>) -> Self {
        self.fixed.insert(transport, provider);
        self
    }

    /// The provider that sends `transport`'s messages for `tenant`, if any; through the channel
    /// `prefer` when it can (so a reply leaves by the number the client wrote to).
    pub async fn find(
        &self,
        tenant: TenantId,
        transport: Transport,
        prefer: Option<ChannelId>,
    ) -> Result<Option<Found>, ServiceError> {
        if let Some(channels) = &self.channels
            && let Some((id, provider)) = channels.provider(tenant, transport, prefer).await?
        {
            return Ok(Some((Some(id), provider)));
        }
        Ok(self.fixed.get(&transport).map(|p| (None, p.clone())))
    }

    /// Whether a message may be written on `transport`: a note always, anything else only
    /// through a provider (`field` names the input that chose it).
    pub async fn require(
        &self,
        tenant: TenantId,
        transport: Transport,
        field: &'static str,
    ) -> Result<(), ServiceError> {
        if transport == Transport::Note || self.transports(tenant).await?.contains(&transport) {
            Ok(())
        } else {
            Err(DomainError::new(field, "channel_not_configured").into())
        }
    }

    /// The transports a message can go out on for `tenant`, in a stable order.
    pub async fn transports(&self, tenant: TenantId) -> Result<Vec<Transport>, ServiceError> {
        let from_channels = match &self.channels {
            Some(channels) => channels.transports(tenant).await?,
            None => Vec::new(),
        };
        Ok(Transport::ALL.into_iter().filter(|t| self.fixed.contains_key(t) || from_channels.contains(t)).collect())
    }
}
