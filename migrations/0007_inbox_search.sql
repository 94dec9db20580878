-- Inbox search through the indexes: the client's fields (trigram) or the words of a message (GIN).
--
-- Under row-level security PostgreSQL uses no index for an operator that is not leakproof, and
-- neither LIKE nor @@ is, so a search through the policy read every message of the tenant
-- (4 s at 5M messages). As search_clients (0002, 0004) does, this function runs as the owner,
-- admits only the tenant of the calling transaction (app_tenant_id()), and returns one page of
-- chat ids in inbox order (newest activity first).
--
-- The planner misjudges both operators, so the way the page is found is chosen by measuring:
-- 1. The first prefix_rows chats in inbox order are tested one by one until the page is full.
--    If it fills, or there are no more chats, that is the answer (common words end here).
-- 2. Else the matches are rare among recent chats: each index alone collects up to p_cap + 1
--    matches. If neither has more than p_cap, the page is sorted from them.
-- 3. Else (matches rare lately yet many in all) the chats are walked in order, testing each;
--    a side that was found complete in step 2 is tested by its list.
-- Every step reads through an index; the planner would rather scan all chats for a list of a
-- few thousand ids (28 ms at 100k chats) than look them up (3 ms), hence enable_seqscan = off.
CREATE FUNCTION search_inbox(p_patterns text[], p_words text, p_unread boolean, p_limit int, p_offset int,
                             p_cap int)
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        words tsquery := plainto_tsquery('simple', coalesce(p_words, ''));
        chats text := 'FROM chats h JOIN clients m ON m.tenant_id = h.tenant_id AND m.id = h.client_id'
            || ' WHERE h.tenant_id = $1 AND m.archived_at IS NULL AND h.last_message_at IS NOT NULL'
            || CASE WHEN p_unread THEN ' AND h.unread_count > 0' ELSE '' END;
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
        IF tenant IS NULL OR (by_client = 'false' AND by_text = 'false') THEN
            RETURN '{}';
        END IF;
        -- The prefix is numbered and counted first; the tests then run in its order and stop
        -- when the page is full (a nested loop keeps the order of its outer side).
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
            -- Both lists are complete: the page is sorted from their chats.
            SELECT coalesce(array_agg(k.id), '{}') || texts_found INTO found
                FROM chats k WHERE k.tenant_id = tenant AND k.client_id = ANY(clients_found);
            EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id ' || chats || ' AND h.id = ANY($2)' || sort
                || ' LIMIT $3 OFFSET $4) p'
                INTO found USING tenant, found, p_limit, p_offset;
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

-- The chat ids of up to p_limit messages matching `p_words`, found through the GIN index only
-- (the planner may otherwise scan in order, which for a rare word reads every message). A chat
-- appears once per matching message. Called by search_inbox only.
CREATE FUNCTION chat_matches_by_text(p_tenant uuid, p_words tsquery, p_limit int)
    RETURNS bigint[]
    LANGUAGE sql STABLE SET search_path = public, pg_temp SET enable_seqscan = off SET enable_indexscan = off
    AS $$
        SELECT coalesce(array_agg(t.chat_id), '{}') FROM (
            SELECT t.chat_id FROM messages t WHERE t.tenant_id = p_tenant AND t.search @@ p_words LIMIT p_limit
        ) t
    $$;

REVOKE ALL ON FUNCTION search_inbox(text[], text, boolean, int, int, int), chat_matches_by_text(uuid, tsquery, int)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_inbox(text[], text, boolean, int, int, int) TO crm_app;
