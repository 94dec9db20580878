-- A client list filtered by a tag, read in order from the tag's own rows. Walking the whole
-- list in order and asking each client for the tag costs a probe a client: 2,287 probes
-- (21 ms) for a page of a tag on one client in a hundred at a million clients, 52,911 (210 ms)
-- for one on one in a thousand. So each client_tags row carries its client's sort keys (when
-- it last changed, its names as the list sorts them) and whether it is archived, and two
-- indexes give a tag's live clients in either order of the list: a page reads its 25 rows.
--
-- Kept by triggers: a row put in copies its client's keys; a client that changes (edited,
-- archived, restored, merged) copies them to its rows.

ALTER TABLE client_tags
    ADD COLUMN client_updated_at timestamptz,
    ADD COLUMN first_key text,
    ADD COLUMN last_key text,
    ADD COLUMN archived boolean NOT NULL DEFAULT false;
UPDATE client_tags g
    SET client_updated_at = c.updated_at, first_key = lower(c.first_name), last_key = lower(coalesce(c.last_name, '')),
        archived = c.archived_at IS NOT NULL
    FROM clients c WHERE c.tenant_id = g.tenant_id AND c.id = g.client_id;
ALTER TABLE client_tags
    ALTER COLUMN client_updated_at SET NOT NULL,
    ALTER COLUMN first_key SET NOT NULL,
    ALTER COLUMN last_key SET NOT NULL;
GRANT UPDATE ON client_tags TO crm_app;

CREATE INDEX client_tags_updated ON client_tags (tenant_id, tag_id, client_updated_at DESC, client_id DESC)
    WHERE NOT archived;
CREATE INDEX client_tags_name ON client_tags (tenant_id, tag_id, first_key, last_key, client_id) WHERE NOT archived;

-- A tag put on a client: the client's keys, whoever inserts the row.
CREATE FUNCTION client_tags_keys() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        SELECT c.updated_at, lower(c.first_name), lower(coalesce(c.last_name, '')), c.archived_at IS NOT NULL
            INTO NEW.client_updated_at, NEW.first_key, NEW.last_key, NEW.archived
            FROM clients c WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.client_id;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER client_tags_keys BEFORE INSERT ON client_tags FOR EACH ROW EXECUTE FUNCTION client_tags_keys();

-- Clients changed: their tags' rows follow (only those whose keys moved are written).
CREATE FUNCTION client_tags_follow() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        UPDATE client_tags g
            SET client_updated_at = c.updated_at, first_key = lower(c.first_name),
                last_key = lower(coalesce(c.last_name, '')), archived = c.archived_at IS NOT NULL
            FROM changed c
            WHERE g.tenant_id = c.tenant_id AND g.client_id = c.id
              AND (g.client_updated_at, g.first_key, g.last_key, g.archived)
                  IS DISTINCT FROM (c.updated_at, lower(c.first_name), lower(coalesce(c.last_name, '')),
                                    c.archived_at IS NOT NULL);
        RETURN NULL;
    END
    $$;
CREATE TRIGGER client_tags_follow AFTER UPDATE ON clients
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION client_tags_follow();

-- A page of the live clients carrying tag p_tag (the other arguments as search_clients'), and
-- how many (counted up to p_cap without words, exactly or "at least" with them, as below).
--   * No words: the tag's rows in the list's order, through client_tags_updated or _name.
--   * With words, a tag on up to 2,000 live clients: all of them, their text checked, sorted;
--     the count is exact.
--   * A commoner tag: its first 500 rows in order, checked. Common words fill the page from
--     them ("sergey": 28 of 500; the count says "at least").
--   * Words found among them often enough that a walk reads at most 4,000 rows: the tag's
--     rows in order, checked until a page is full; the count is what was seen (a page
--     past the end: what the first 500 rows held).
--   * Else the words' matches through their indexes, as the search finds them: up to 2,000,
--     those carrying the tag are sorted and counted exactly; more, the walk above.
CREATE FUNCTION search_tagged_clients(p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean,
                                      p_limit int, p_offset int, p_cap int)
    RETURNS TABLE (ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    SET max_parallel_workers_per_gather = 0
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        words int := coalesce(cardinality(p_patterns), 0);
        dates text := client_search_dates(p_from, p_to);
        sort text := CASE WHEN p_by_name THEN ' ORDER BY g.first_key, g.last_key, g.client_id'
                          ELSE ' ORDER BY g.client_updated_at DESC, g.client_id DESC' END;
        live text := ' FROM client_tags g WHERE g.tenant_id = $1 AND g.tag_id = $8 AND NOT g.archived';
        tagged text := ' FROM client_tags g'
            || CASE WHEN words > 0 OR dates <> '' THEN ' JOIN clients m ON m.tenant_id = g.tenant_id AND m.id = g.client_id'
                    ELSE '' END
            || ' WHERE g.tenant_id = $1 AND g.tag_id = $8 AND NOT g.archived' || dates;
        gather_max constant int := 2000;
        prefix_rows constant int := 500;
        -- A walk reads a tag's row and its client's in about 6 µs: 4,000 of them cost about
        -- what gathering the words' matches does (21 ms for "dilno", 28,572 clients).
        walk_max constant int := 4000;
        candidates bigint[];
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words = 0 THEN
            EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT g.client_id AS id' || tagged || sort
                || ' LIMIT $5 OFFSET $6) p'
                INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
            EXECUTE 'SELECT count(*) FROM (SELECT 1' || tagged || ' LIMIT $7 + 1) x'
                INTO n USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
            RETURN QUERY SELECT found, least(n, p_cap), n <= p_cap;
            RETURN;
        END IF;
        EXECUTE 'SELECT count(*) FROM (SELECT 1' || live || ' LIMIT $5) x'
            INTO n USING tenant, p_patterns, p_from, p_to, gather_max + 1, p_offset, p_cap, p_tag;
        IF n > gather_max THEN
            EXECUTE 'SELECT coalesce(array_agg(p.id ORDER BY p.n) FILTER (WHERE p.hit), ''{}'') FROM'
                || ' (SELECT m.client_id AS id, row_number() OVER () AS n, (true' || client_search_filter(words)
                || ') AS hit FROM (SELECT g.client_id, m.search' || tagged || sort || ' LIMIT $5) m) p'
                INTO found USING tenant, p_patterns, p_from, p_to, prefix_rows, p_offset, p_cap, p_tag;
            n := cardinality(found);
            IF n > p_offset + p_limit THEN
                RETURN QUERY SELECT found[p_offset + 1 : p_offset + p_limit], least(n, p_cap), false;
                RETURN;
            END IF;
            -- Matches in the prefix tell how far a walk must read: within walk_max rows, walk.
            IF n = 0 OR (p_offset + p_limit + 1)::bigint * prefix_rows / n > walk_max THEN
                candidates := client_matches_by_trigram(tenant, p_patterns, p_from, p_to, gather_max + 1);
            END IF;
            IF candidates IS NULL OR cardinality(candidates) > gather_max THEN
                EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT g.client_id AS id' || tagged
                    || client_search_filter(words) || sort || ' LIMIT $5 OFFSET $6) p'
                    INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
                -- A page read (not full: to the end) counts all before it; an empty one past
                -- the end only knows what the prefix saw (n).
                RETURN QUERY SELECT found,
                    CASE WHEN cardinality(found) = 0 AND p_offset > 0 THEN n ELSE p_offset + cardinality(found) END,
                    cardinality(found) < p_limit AND (cardinality(found) > 0 OR p_offset = 0);
                RETURN;
            END IF;
            tagged := tagged || ' AND g.client_id = ANY($9)';
        END IF;
        RETURN QUERY EXECUTE
            'WITH hits AS MATERIALIZED (SELECT g.client_id, g.client_updated_at, g.first_key, g.last_key'
            || tagged || client_search_filter(words) || ')'
            || ' SELECT (SELECT coalesce(array_agg(p.client_id), ''{}'') FROM (SELECT g.client_id FROM hits g'
            || sort || ' LIMIT $5 OFFSET $6) p), (SELECT count(*) FROM hits), true'
            USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag, candidates;
    END
    $$;
REVOKE ALL ON FUNCTION search_tagged_clients(bigint, text[], date, date, boolean, int, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_tagged_clients(bigint, text[], date, date, boolean, int, int, int) TO crm_app;

-- A merge gives the survivor the merged client's tags; undoing it takes back those it added.
ALTER TABLE client_merges ADD COLUMN tag_ids bigint[] NOT NULL DEFAULT '{}';

-- A seed tags clients too.
CREATE OR REPLACE FUNCTION analyze_seeded_tables() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        ANALYZE tenants, users, clients, client_contacts, client_search_words, chats, chat_members, messages,
                deals, deal_moves, tags, deal_tags, client_tags;
    END
    $$;
