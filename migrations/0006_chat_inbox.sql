-- The inbox on top of 0005: unread counts kept on the chat, files that travel with messages,
-- and the templates agents insert with a click.

-- The client's messages staff have not read yet, kept by the service in the transaction that
-- writes or reads them, so the inbox never counts a thread's messages to draw a badge.
ALTER TABLE chats ADD COLUMN unread_count int NOT NULL DEFAULT 0 CHECK (unread_count >= 0);
CREATE INDEX chats_unread_idx ON chats (tenant_id, last_message_at DESC NULLS LAST, id DESC) WHERE unread_count > 0;

-- A file sent or received with a message. The bytes live in the object store under
-- `storage_key`; the row says what they are.
CREATE TABLE message_attachments (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    message_id bigint NOT NULL,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    storage_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (storage_key),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX message_attachments_message_idx ON message_attachments (tenant_id, message_id);
GRANT SELECT, INSERT, DELETE ON message_attachments TO crm_app;
SELECT isolate_tenant_table('message_attachments');

CREATE TABLE message_templates (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    title text CHECK (length(title) BETWEEN 1 AND 200),
    -- Typed after a slash in the composer: lower-case letters, digits, '-' and '_'.
    shortcut text CHECK (length(shortcut) BETWEEN 1 AND 32 AND shortcut = lower(shortcut)),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4096),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT message_templates_shortcut_key UNIQUE (tenant_id, shortcut)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON message_templates TO crm_app;
SELECT isolate_tenant_table('message_templates');
