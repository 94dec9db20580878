-- Channels: a tenant's Twilio numbers and Telegram bots, the messages that came or went
-- through each, and the inbound files still to fetch from the provider.

CREATE TABLE channels (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL CHECK (kind IN ('twilio_sms', 'twilio_whatsapp', 'telegram')),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    enabled boolean NOT NULL DEFAULT true,
    -- What routes a webhook to its tenant before anything is verified; none of it is secret.
    account_sid text CHECK (account_sid ~ '^AC[0-9a-fA-F]{32}$'),
    sender text CHECK (sender ~ '^\+[1-9][0-9]{6,14}$'),
    messaging_service_sid text CHECK (messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
    -- SHA-256 of the Telegram bot's webhook secret_token, which names the channel.
    webhook_key bytea UNIQUE,
    -- The auth token or bot token (and webhook secret), sealed with CRM_SECRET_KEY
    -- (crypto::SecretKey::seal); `secret_hint` is the last characters, all a page shows.
    secrets bytea NOT NULL,
    secret_hint text NOT NULL,
    bot_username text,
    -- Staff notifications (Telegram only): the chat that hears of each inbound message.
    notify_chat_id text,
    notify_locale text NOT NULL DEFAULT 'en' CHECK (notify_locale IN ('en', 'ru', 'uz')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'telegram') = (webhook_key IS NOT NULL)),
    CHECK ((kind = 'telegram') = (account_sid IS NULL)),
    CHECK (kind = 'telegram' OR ((sender IS NULL) <> (messaging_service_sid IS NULL))),
    CHECK (kind = 'telegram' OR notify_chat_id IS NULL)
);
-- A number or a Messaging Service belongs to one tenant: inbound messages must find it.
CREATE UNIQUE INDEX channels_twilio_sender_key ON channels (account_sid, kind, sender) WHERE sender IS NOT NULL;
CREATE UNIQUE INDEX channels_twilio_service_key ON channels (kind, messaging_service_sid)
    WHERE messaging_service_sid IS NOT NULL;
CREATE INDEX channels_account_idx ON channels (account_sid) WHERE account_sid IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON channels TO crm_app;
SELECT isolate_tenant_table('channels');

-- The channel a message came in or went out on; a provider's id is unique within it, which
-- drops a webhook delivered twice.
ALTER TABLE messages ADD COLUMN channel_id bigint;
ALTER TABLE messages ADD FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id)
    ON DELETE SET NULL (channel_id);
CREATE UNIQUE INDEX messages_provider_key ON messages (tenant_id, channel_id, provider_message_id)
    WHERE channel_id IS NOT NULL AND provider_message_id IS NOT NULL;
-- Status callbacks find their message by the provider's id.
CREATE INDEX messages_provider_idx ON messages (tenant_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
GRANT UPDATE (channel_id) ON messages TO crm_app;

-- A Telegram member is reached by its chat id, whatever its username becomes.
CREATE INDEX chat_members_telegram_idx ON chat_members (tenant_id, (transport_meta ->> 'chat_id'))
    WHERE transport = 'telegram';

-- Files of inbound messages, fetched from the provider after the webhook has answered.
CREATE TABLE media_downloads (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    message_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    -- Twilio: the MediaUrl; Telegram: the file_id.
    source text NOT NULL,
    file_name text,
    content_type text,
    attempts int NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX media_downloads_due_idx ON media_downloads (due_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON media_downloads TO crm_app;
SELECT isolate_tenant_table('media_downloads');

-- Pre-tenant look-ups for the webhooks (as in 0001): each returns the channel and its tenant.

-- Twilio: by the Messaging Service when the message names one, else by account and number.
CREATE FUNCTION twilio_channel(p_account_sid text, p_kind text, p_number text, p_service_sid text)
    RETURNS TABLE (tenant_id uuid, channel_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT c.tenant_id, c.id FROM channels c
        WHERE c.account_sid = p_account_sid AND c.kind = p_kind
          AND (c.messaging_service_sid = p_service_sid OR c.sender = p_number)
        ORDER BY (c.messaging_service_sid = p_service_sid) DESC NULLS LAST, c.id
        LIMIT 1
    $$;

-- Telegram: by the SHA-256 of the secret_token header.
CREATE FUNCTION telegram_channel(p_webhook_key bytea)
    RETURNS TABLE (tenant_id uuid, channel_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT c.tenant_id, c.id FROM channels c WHERE c.webhook_key = p_webhook_key
    $$;

-- The media worker takes due downloads of any tenant, each for `p_lease`.
CREATE FUNCTION claim_media_downloads(p_limit int, p_lease interval)
    RETURNS TABLE (tenant_id uuid, id bigint, attempts int)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE media_downloads d SET due_at = now() + p_lease, attempts = d.attempts + 1
        FROM (SELECT q.tenant_id, q.id FROM media_downloads q WHERE q.due_at <= now()
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.id = due.id
        RETURNING d.tenant_id, d.id, d.attempts
    $$;

REVOKE ALL ON FUNCTION twilio_channel(text, text, text, text), telegram_channel(bytea),
    claim_media_downloads(int, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION twilio_channel(text, text, text, text), telegram_channel(bytea),
    claim_media_downloads(int, interval) TO crm_app;
