-- A team works the inbox: each chat has an assignee (or none) and a status. `snoozed` hides a
-- chat until `snoozed_until`, when wake_snoozed_chats() opens it again; a client's new message
-- reopens a resolved or snoozed chat at once.
ALTER TABLE chats
    ADD COLUMN assignee_user_id bigint,
    ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved', 'snoozed')),
    ADD COLUMN snoozed_until timestamptz,
    ADD CONSTRAINT chats_snooze_check CHECK ((status = 'snoozed') = (snoozed_until IS NOT NULL)),
    -- A user is deactivated, never deleted; should one go, their chats become unassigned.
    ADD CONSTRAINT chats_assignee_fkey FOREIGN KEY (tenant_id, assignee_user_id) REFERENCES users (tenant_id, id)
        ON DELETE SET NULL (assignee_user_id);

-- The views (mine, unassigned, by status) in inbox order.
CREATE INDEX chats_assignee_idx ON chats (tenant_id, assignee_user_id, last_message_at DESC NULLS LAST, id DESC);
CREATE INDEX chats_status_idx ON chats (tenant_id, status, last_message_at DESC NULLS LAST, id DESC);
-- The snoozes to end, soonest first.
CREATE INDEX chats_snoozed_idx ON chats (snoozed_until) WHERE snoozed_until IS NOT NULL;

-- Ends the snoozes that are due, in every tenant, each exactly once however many nodes ask:
-- the rows are locked as they are claimed and others skip them. Returns the chats woken.
CREATE FUNCTION wake_snoozed_chats(p_limit int)
    RETURNS TABLE (tenant_id uuid, chat_id bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE chats h SET status = 'open', snoozed_until = NULL
        FROM (SELECT q.tenant_id, q.id FROM chats q WHERE q.snoozed_until <= now()
              ORDER BY q.snoozed_until LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE h.tenant_id = due.tenant_id AND h.id = due.id
        RETURNING h.tenant_id, h.id
    $$;
REVOKE ALL ON FUNCTION wake_snoozed_chats(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wake_snoozed_chats(int) TO crm_app;

-- search_inbox (0007) with the views' filters: p_assignee_kind 'any', 'none' or 'user' (then
-- p_assignee), p_status NULL for any. The filters join the conditions every step shares. With
-- a filter, the sorted-lists step fetches its chats by id first (a materialised CTE) and
-- filters those: else the planner walks the view's index testing each chat against the list
-- (p99 200 ms for a name in Mine at 100k chats). Without one, 0007's plan is kept (faster there).
DROP FUNCTION search_inbox(text[], text, boolean, int, int, int);
CREATE FUNCTION search_inbox(p_patterns text[], p_words text, p_unread boolean, p_assignee_kind text,
                             p_assignee bigint, p_status text, p_limit int, p_offset int, p_cap int)
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        words tsquery := plainto_tsquery('simple', coalesce(p_words, ''));
        conds text := 'h.tenant_id = $1 AND m.archived_at IS NULL AND h.last_message_at IS NOT NULL'
            || CASE WHEN p_unread THEN ' AND h.unread_count > 0' ELSE '' END
            || CASE p_assignee_kind
                   WHEN 'none' THEN ' AND h.assignee_user_id IS NULL'
                   WHEN 'user' THEN format(' AND h.assignee_user_id = %s', p_assignee::bigint)
                   ELSE '' END
            || CASE WHEN p_status IS NULL THEN '' ELSE format(' AND h.status = %L', p_status) END;
        joined text := ' JOIN clients m ON m.tenant_id = h.tenant_id AND m.id = h.client_id WHERE ';
        chats text := 'FROM chats h' || joined || conds;
        sort text := ' ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC';
        by_client text := CASE WHEN coalesce(cardinality(p_patterns), 0) = 0 THEN 'false'
                               ELSE '(true' || client_search_filter(cardinality(p_patterns)) || ')' END;
        by_text text := CASE WHEN numnode(words) = 0 THEN 'false'
                             ELSE 'EXISTS (SELECT 1 FROM messages t WHERE t.tenant_id = h.tenant_id'
                                  || ' AND t.chat_id = h.id AND t.search @@ $3)' END;
        prefix_rows constant int := 200;
        scanned int;
        found bigint[];
        clients_found bigint[] := '{}';
        texts_found bigint[] := '{}';
    BEGIN
        IF tenant IS NULL OR (by_client = 'false' AND by_text = 'false')
           OR p_assignee_kind NOT IN ('any', 'none', 'user') OR (p_assignee_kind = 'user' AND p_assignee IS NULL) THEN
            RETURN '{}';
        END IF;
        EXECUTE 'SELECT coalesce(max(h.prefix), 0), coalesce(array_agg(h.id ORDER BY h.n), ''{}'') FROM (SELECT h.id, h.n, h.prefix'
            || ' FROM (SELECT h.*, row_number() OVER () AS n, count(*) OVER () AS prefix'
            || ' FROM (SELECT h.id, h.tenant_id, m.search AS client_search ' || chats || sort || ' LIMIT $4) h) h'
            || ' CROSS JOIN LATERAL (SELECT h.client_search AS search) m'
            || ' WHERE ' || by_client || ' OR ' || by_text || ' LIMIT $5) h'
            INTO scanned, found USING tenant, p_patterns, words, prefix_rows, p_offset + p_limit + 1;
        IF (scanned < prefix_rows AND cardinality(found) > 0) OR cardinality(found) > p_offset + p_limit THEN
            RETURN coalesce(found[p_offset + 1 : p_offset + p_limit], '{}');
        END IF;

        IF by_client <> 'false' THEN
            clients_found := client_matches_by_trigram(tenant, p_patterns, NULL, NULL, p_cap + 1);
        END IF;
        IF by_text <> 'false' THEN
            texts_found := chat_matches_by_text(tenant, words, p_cap + 1);
        END IF;
        IF cardinality(clients_found) <= p_cap AND cardinality(texts_found) <= p_cap THEN
            SELECT coalesce(array_agg(k.id), '{}') || texts_found INTO found
                FROM chats k WHERE k.tenant_id = tenant AND k.client_id = ANY(clients_found);
            IF p_assignee_kind = 'any' AND p_status IS NULL THEN
                EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id ' || chats || ' AND h.id = ANY($2)'
                    || sort || ' LIMIT $3 OFFSET $4) p'
                    INTO found USING tenant, found, p_limit, p_offset;
            ELSE
                EXECUTE 'WITH f AS MATERIALIZED (SELECT * FROM chats WHERE tenant_id = $1 AND id = ANY($2))'
                    || ' SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id FROM f h' || joined || conds || sort
                    || ' LIMIT $3 OFFSET $4) p'
                    INTO found USING tenant, found, p_limit, p_offset;
            END IF;
            RETURN found;
        END IF;
        IF cardinality(clients_found) <= p_cap THEN
            by_client := 'h.client_id = ANY($4)';
        END IF;
        IF cardinality(texts_found) <= p_cap THEN
            by_text := 'h.id = ANY($5)';
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id ' || chats || ' AND (' || by_client
            || ' OR ' || by_text || ')' || sort || ' LIMIT $6 OFFSET $7) p'
            INTO found USING tenant, p_patterns, words, clients_found, texts_found, p_limit, p_offset;
        RETURN found;
    END
    $$;
REVOKE ALL ON FUNCTION search_inbox(text[], text, boolean, text, bigint, text, int, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_inbox(text[], text, boolean, text, bigint, text, int, int, int) TO crm_app;
