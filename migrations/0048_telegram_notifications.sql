-- A user's own Telegram chat with one of the tenant's bots, linked by sending the bot
-- `/start CODE` (a one-time code the profile page gives, good for 15 minutes): the user's
-- notifications then also go there. Only that bot may write to them: when its channel is
-- deleted the link is dead (the channel id is cleared, and the user links again).
ALTER TABLE users
    ADD COLUMN telegram_chat_id bigint,
    ADD COLUMN telegram_channel_id bigint,
    ADD COLUMN telegram_link_code text CHECK (length(telegram_link_code) BETWEEN 8 AND 64),
    ADD COLUMN telegram_link_expires_at timestamptz,
    ADD CONSTRAINT users_telegram_channel FOREIGN KEY (tenant_id, telegram_channel_id)
        REFERENCES channels (tenant_id, id) ON DELETE SET NULL (telegram_channel_id);
CREATE UNIQUE INDEX users_telegram_link_code ON users (tenant_id, telegram_link_code)
    WHERE telegram_link_code IS NOT NULL;

-- A notification of a linked user is also sent on Telegram: `telegram_state` is pending until
-- it is sent, or failed after its last try; a worker may take it once `telegram_due_at` has
-- come, and holding it pushes that moment on (a lease: a node that dies mid-send leaves it to
-- be taken again).
ALTER TABLE notifications
    ADD COLUMN telegram_state text CHECK (telegram_state IN ('pending', 'sent', 'failed')),
    ADD COLUMN telegram_due_at timestamptz,
    ADD COLUMN telegram_attempts int NOT NULL DEFAULT 0,
    ADD COLUMN telegram_error text,
    ADD CONSTRAINT notifications_telegram_due CHECK (telegram_state IS DISTINCT FROM 'pending' OR telegram_due_at IS NOT NULL);
CREATE INDEX notifications_telegram_pending ON notifications (telegram_due_at) WHERE telegram_state = 'pending';

-- Every way a notification is written (a mention, an assignment, fire_due_reminders) queues
-- it for Telegram when its user is linked.
CREATE FUNCTION queue_telegram_notification() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM users u
                   WHERE u.tenant_id = NEW.tenant_id AND u.id = NEW.user_id
                     AND u.telegram_chat_id IS NOT NULL AND u.telegram_channel_id IS NOT NULL) THEN
            NEW.telegram_state := 'pending';
            NEW.telegram_due_at := now();
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER notifications_queue_telegram BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION queue_telegram_notification();

-- Takes up to p_limit notifications due on Telegram, in any tenant, for p_lease: each is
-- held by one node at a time, however many ask.
CREATE FUNCTION claim_telegram_notifications(p_limit int, p_lease interval)
    RETURNS TABLE (tenant_id uuid, id bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE notifications n
        SET telegram_due_at = now() + p_lease, telegram_attempts = n.telegram_attempts + 1
        FROM (SELECT q.tenant_id, q.id FROM notifications q
              WHERE q.telegram_state = 'pending' AND q.telegram_due_at <= now()
              ORDER BY q.telegram_due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE n.tenant_id = due.tenant_id AND n.id = due.id
        RETURNING n.tenant_id, n.id
    $$;
REVOKE ALL ON FUNCTION claim_telegram_notifications(int, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_telegram_notifications(int, interval) TO crm_app;
