-- Chats: one conversation per client, who takes part, the messages, and the outbox that
-- delivers outbound messages through the providers.

CREATE TABLE chats (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The newest message, for the inbox's order and preview.
    last_message_id bigint,
    last_message_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT chats_client_key UNIQUE (tenant_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX chats_activity_idx ON chats (tenant_id, last_message_at DESC NULLS LAST, id DESC);

-- A member is a user, or the client through one of its contacts on one transport.
CREATE TABLE chat_members (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    chat_id bigint NOT NULL,
    user_id bigint,
    contact_id bigint,
    transport text CHECK (transport IN ('sms', 'whatsapp', 'telegram')),
    -- What the transport needs to reach the member (a Telegram chat id, a WhatsApp profile…).
    transport_meta jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((user_id IS NULL) <> (contact_id IS NULL)),
    CHECK ((contact_id IS NULL) = (transport IS NULL)),
    FOREIGN KEY (tenant_id, chat_id) REFERENCES chats (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES client_contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chat_members_user_key ON chat_members (tenant_id, chat_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX chat_members_contact_key ON chat_members (tenant_id, chat_id, contact_id, transport)
    WHERE contact_id IS NOT NULL;

CREATE TABLE messages (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    chat_id bigint NOT NULL,
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),
    -- The sender (domain::chat::Sender): a user, the client through a contact, or neither
    -- (the system). The name is kept as it was when the message was written.
    sender_user_id bigint,
    sender_contact_id bigint,
    sender_name text NOT NULL,
    body text NOT NULL CHECK (length(body) <= 4096),
    transport text NOT NULL CHECK (transport IN ('sms', 'whatsapp', 'telegram', 'note')),
    -- Outbound: the contact it goes to; inbound: the one it came from.
    contact_id bigint,
    -- Delivery, for outbound messages only (domain::chat::DeliveryStatus).
    status text CHECK (status IN ('queued', 'sent', 'delivered', 'read', 'failed', 'undelivered')),
    provider_message_id text,
    error_code text,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    read_at timestamptz,
    -- Message text search in the inbox.
    search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    PRIMARY KEY (tenant_id, id),
    CHECK (sender_user_id IS NULL OR sender_contact_id IS NULL),
    CHECK ((transport = 'note') = (direction = 'note')),
    CHECK ((direction = 'outbound') = (status IS NOT NULL)),
    FOREIGN KEY (tenant_id, chat_id) REFERENCES chats (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, sender_user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, sender_contact_id) REFERENCES client_contacts (tenant_id, id)
        ON DELETE SET NULL (sender_contact_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES client_contacts (tenant_id, id) ON DELETE SET NULL (contact_id)
);
CREATE INDEX messages_thread_idx ON messages (tenant_id, chat_id, id DESC);
CREATE INDEX messages_unread_idx ON messages (tenant_id, chat_id) WHERE direction = 'inbound' AND read_at IS NULL;
CREATE INDEX messages_search_idx ON messages USING gin (search);
ALTER TABLE chats ADD FOREIGN KEY (tenant_id, last_message_id) REFERENCES messages (tenant_id, id)
    ON DELETE SET NULL (last_message_id);

-- The outbox: one row per outbound message still to hand to its provider. A worker claims due
-- rows for a lease; if it dies, the lease runs out and another worker sends.
CREATE TABLE message_deliveries (
    tenant_id uuid NOT NULL,
    message_id bigint NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    PRIMARY KEY (tenant_id, message_id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX message_deliveries_due_idx ON message_deliveries (due_at);

-- Messages are immutable once written, but for their delivery and read state.
GRANT SELECT, INSERT, DELETE ON messages TO crm_app;
GRANT UPDATE (status, provider_message_id, error_code, error, sent_at, read_at) ON messages TO crm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON chats, chat_members, message_deliveries TO crm_app;
SELECT isolate_tenant_table('chats');
SELECT isolate_tenant_table('chat_members');
SELECT isolate_tenant_table('messages');
SELECT isolate_tenant_table('message_deliveries');

-- The delivery worker takes due outbox rows of any tenant, each for `p_lease`.
CREATE FUNCTION claim_message_deliveries(p_limit int, p_lease interval)
    RETURNS TABLE (tenant_id uuid, message_id bigint, attempts int)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE message_deliveries d SET due_at = now() + p_lease, attempts = d.attempts + 1
        FROM (SELECT q.tenant_id, q.message_id FROM message_deliveries q WHERE q.due_at <= now()
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.message_id = due.message_id
        RETURNING d.tenant_id, d.message_id, d.attempts
    $$;
REVOKE ALL ON FUNCTION claim_message_deliveries(int, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_message_deliveries(int, interval) TO crm_app;
