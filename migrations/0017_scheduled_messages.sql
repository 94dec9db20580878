-- A reply can wait for its time: `scheduled` until `send_at`, its outbox row due then; the
-- delivery worker queues and sends it like any other when it comes due. Cancelled before it
-- leaves, it stays in the thread as `cancelled` and is never sent.
ALTER TABLE messages ADD COLUMN send_at timestamptz;
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('scheduled', 'queued', 'sent', 'delivered', 'read', 'failed', 'undelivered', 'unknown',
                      'cancelled'));
ALTER TABLE messages ADD CONSTRAINT messages_scheduled_check CHECK (status <> 'scheduled' OR send_at IS NOT NULL);
