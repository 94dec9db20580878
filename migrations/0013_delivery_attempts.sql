-- Sending a message exactly once: short per-message leases that a working node renews, and a
-- record of every call to a provider, written before the call. A message whose last call has
-- no known outcome (the node died, the provider did not answer) is looked up at the provider
-- before it is ever sent again; where the provider cannot be asked, it ends `unknown` for a
-- person to retry.

-- Whoever holds a row's lease: a fresh token per claim, so a node that lost its lease (and
-- the node that took it over) can tell their writes apart. `due_at` is the lease's end while
-- the token is set. `attempts` counts claims: every pass, whatever it did, counts towards the
-- limit, so a message that cannot even be prepared ends failed instead of queued forever.
ALTER TABLE message_deliveries ADD COLUMN claim uuid;

-- A message the provider may or may not have sent: no one could find out.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('queued', 'sent', 'delivered', 'read', 'failed', 'undelivered', 'unknown'));

-- One row per call to a provider (or per look-up of one whose answer was lost).
CREATE TABLE message_attempts (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    message_id bigint NOT NULL,
    -- The channel it went through; NULL for a fixed provider (tests, demos) or one deleted since.
    channel_id bigint,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    -- sent: the provider answered with its id; refused: it said no (retried or failed);
    -- adopted: its answer was lost, and the message was found at the provider;
    -- absent: its answer was lost, and the provider has no such message (sent again);
    -- unknown: its answer was lost, and the provider cannot be asked (left to a person).
    outcome text CHECK (outcome IN ('sent', 'refused', 'adopted', 'absent', 'unknown')),
    provider_message_id text,
    error text,
    PRIMARY KEY (tenant_id, id),
    CHECK ((ended_at IS NULL) = (outcome IS NULL)),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE SET NULL (channel_id)
);
-- A message has at most one call whose outcome is not known.
CREATE UNIQUE INDEX message_attempts_open_key ON message_attempts (tenant_id, message_id) WHERE ended_at IS NULL;
CREATE INDEX message_attempts_message_idx ON message_attempts (tenant_id, message_id, id);
-- A provider id we know (of any attempt) is never adopted for another message.
CREATE INDEX message_attempts_provider_idx ON message_attempts (tenant_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON message_attempts TO crm_app;
SELECT isolate_tenant_table('message_attempts');

-- The delivery worker takes due outbox rows of any tenant, each for `p_lease`, under a token
-- of its own.
DROP FUNCTION claim_message_deliveries(int, interval);
CREATE FUNCTION claim_message_deliveries(p_limit int, p_lease interval)
    RETURNS TABLE (tenant_id uuid, message_id bigint, attempts int, claim uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE message_deliveries d
        SET due_at = now() + p_lease, attempts = d.attempts + 1, claim = gen_random_uuid()
        FROM (SELECT q.tenant_id, q.message_id FROM message_deliveries q WHERE q.due_at <= now()
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.message_id = due.message_id
        RETURNING d.tenant_id, d.message_id, d.attempts, d.claim
    $$;
REVOKE ALL ON FUNCTION claim_message_deliveries(int, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_message_deliveries(int, interval) TO crm_app;
