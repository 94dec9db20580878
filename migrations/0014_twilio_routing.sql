-- A Twilio number or Messaging Service is unique within a tenant, no longer across tenants:
-- tenant B saving tenant A's account with A's Messaging Service SID took it (inbound messages
-- to A were then checked with B's token and refused), and the "already taken" answer told B
-- that A had it. A webhook now finds every channel of its account with its service or number,
-- and the one whose auth token verifies the signature takes it.
DROP INDEX channels_twilio_sender_key;
DROP INDEX channels_twilio_service_key;
CREATE UNIQUE INDEX channels_twilio_sender_key ON channels (tenant_id, account_sid, kind, sender)
    WHERE sender IS NOT NULL;
CREATE UNIQUE INDEX channels_twilio_service_key ON channels (tenant_id, account_sid, kind, messaging_service_sid)
    WHERE messaging_service_sid IS NOT NULL;
CREATE INDEX channels_twilio_service_idx ON channels (account_sid, kind, messaging_service_sid)
    WHERE messaging_service_sid IS NOT NULL;
CREATE INDEX channels_twilio_sender_idx ON channels (account_sid, kind, sender) WHERE sender IS NOT NULL;

-- Pre-tenant: the channels a Twilio webhook may be for, best first (its Messaging Service,
-- then its number, oldest first). The caller verifies the signature with each in turn.
DROP FUNCTION twilio_channel(text, text, text, text);
CREATE FUNCTION twilio_channels(p_account_sid text, p_kind text, p_number text, p_service_sid text)
    RETURNS TABLE (tenant_id uuid, channel_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT c.tenant_id, c.id FROM channels c
        WHERE c.account_sid = p_account_sid AND c.kind = p_kind
          AND (c.messaging_service_sid = p_service_sid OR c.sender = p_number)
        ORDER BY (c.messaging_service_sid = p_service_sid) DESC NULLS LAST, c.id
        LIMIT 20
    $$;
REVOKE ALL ON FUNCTION twilio_channels(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION twilio_channels(text, text, text, text) TO crm_app;
