-- Merging two records of one person: the survivor takes the other's contacts, conversation
-- and (where it has none) field values; the other is archived with `merged_into`. What moved
-- is remembered, so restoring the archived one within the 30 days undoes the merge.
ALTER TABLE clients
    ADD COLUMN merged_into bigint,
    ADD CONSTRAINT clients_merged_into_fkey FOREIGN KEY (tenant_id, merged_into) REFERENCES clients (tenant_id, id)
        ON DELETE SET NULL (merged_into),
    ADD CONSTRAINT clients_merged_archived_check CHECK (merged_into IS NULL OR archived_at IS NOT NULL);

CREATE TABLE client_merges (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    survivor_id bigint NOT NULL,
    merged_id bigint NOT NULL,
    merged_at timestamptz NOT NULL DEFAULT now(),
    -- What moved from the merged client to the survivor, to move back on undo.
    contact_ids bigint[] NOT NULL,
    message_ids bigint[] NOT NULL,
    member_ids bigint[] NOT NULL,
    -- The survivor's fields filled from the merged one: {"field": "value"}; phone and pin
    -- among them left the merged client (they are unique) and go back to it.
    filled jsonb NOT NULL,
    undone_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK (survivor_id <> merged_id),
    FOREIGN KEY (tenant_id, survivor_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, merged_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE
);
-- The merge a restore undoes: the latest of the merged client's not undone.
CREATE INDEX client_merges_merged_idx ON client_merges (tenant_id, merged_id) WHERE undone_at IS NULL;
CREATE INDEX client_merges_survivor_idx ON client_merges (tenant_id, survivor_id);

GRANT SELECT, INSERT, UPDATE ON client_merges TO crm_app;
SELECT isolate_tenant_table('client_merges');
-- A merge moves messages between conversations (their text stays as written).
GRANT UPDATE (chat_id) ON messages TO crm_app;
