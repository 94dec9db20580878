-- The purge of clients archived more than 30 days ago (0002) now also names the stored files
-- that were theirs (attachments of their chat), for the application to delete from the object
-- store: rows and bytes go together, as erasure already does. The keys are read from the
-- snapshot the delete starts from, so none is missed.

DROP FUNCTION purge_archived_clients(interval);

CREATE FUNCTION purge_archived_clients(p_after interval) RETURNS TABLE (purged bigint, storage_keys text[])
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH files AS (
            SELECT a.storage_key FROM clients c
            JOIN chats h ON h.tenant_id = c.tenant_id AND h.client_id = c.id
            JOIN messages m ON m.tenant_id = h.tenant_id AND m.chat_id = h.id
            JOIN message_attachments a ON a.tenant_id = m.tenant_id AND a.message_id = m.id
            WHERE c.archived_at <= now() - p_after
        ), gone AS (
            DELETE FROM clients c WHERE c.archived_at <= now() - p_after RETURNING c.tenant_id, c.id
        ), redacted AS (
            UPDATE audit_log a SET summary = '[erased]'
            FROM gone WHERE a.tenant_id = gone.tenant_id AND a.entity = 'client' AND a.entity_id = gone.id::text
        ), logged AS (
            INSERT INTO audit_log (tenant_id, actor_name, action, entity, entity_id, summary)
            SELECT gone.tenant_id, 'system', 'purged', 'client', gone.id::text, '[erased]' FROM gone
        )
        SELECT (SELECT count(*) FROM gone), (SELECT coalesce(array_agg(storage_key), '{}') FROM files)
    $$;

REVOKE ALL ON FUNCTION purge_archived_clients(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_archived_clients(interval) TO crm_app;
