-- Bulk sends pace each tenant's messages per transport: the next moment a message of a bulk
-- send may leave on it. Each message a bulk job writes takes the next slot, in the job's chunk
-- transaction, so two jobs of a tenant (on any nodes) share one pace.
CREATE TABLE send_pace (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    transport text NOT NULL CHECK (transport IN ('sms', 'whatsapp', 'telegram')),
    next_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, transport)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON send_pace TO crm_app;
SELECT isolate_tenant_table('send_pace');

-- A bulk job may send a message template to each client.
ALTER TABLE jobs DROP CONSTRAINT jobs_action_check,
    ADD CONSTRAINT jobs_action_check
        CHECK (action IN ('add_tags', 'remove_tags', 'set_owner', 'move_stage', 'delete', 'export', 'send_template'));
