-- Client search through a dictionary of the words clients have. The trigram probe of 0004
-- reads every row of every trigram typed: "sergey ivanov" decodes about a million index
-- entries at a million clients (24 ms), although a few dozen distinct words contain either
-- word. Now a typed word of three or more characters, without punctuation and not all digits,
-- is looked up in the tenant's dictionary first (a trigram index over distinct words, tiny
-- beside the clients), and the clients having one of the words found come from a GIN index
-- over each client's words: one posting list a word instead of one a trigram. Digits (phones,
-- PINs) and punctuated words ("ivan.petrov@") keep the trigram probe. The inbox search's
-- look for clients (client_matches_by_trigram, 0007) goes the same way.
--
-- This finds exactly what LIKE finds: a word typed without separators lies within one run of
-- non-separator characters of the search text, and those runs, less the all-digit ones, are
-- the words kept (the same separators on both sides, `client_words`).
--
-- And the probe now returns the page sorted with an exact count when it finds up to ten times
-- the count cap (a name and surname shared by 1,300 clients no longer falls to a walk of
-- 20,000 rows), and the first look in sort order reads 500 rows instead of 2,000.

-- The words of a search text: its runs between whitespace and ASCII punctuation, less those
-- made of digits only.
CREATE FUNCTION client_words(p_search text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT array_remove(regexp_split_to_array(
            regexp_replace(p_search, '(^|[\s!-/:-@\[-`{-~])[0-9]+(?=[\s!-/:-@\[-`{-~]|$)', '\1', 'g'),
            '[\s!-/:-@\[-`{-~]+'), '')
    $$;

-- Whether a LIKE pattern of search_patterns() ('%word%') can be looked up in the dictionary.
CREATE FUNCTION client_word_pattern(p_pattern text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT p_pattern ~ '^%[^\s!-/:-@\[-`{-~]{3,}%$' AND p_pattern !~ '^%[0-9]+%$' $$;

-- `search` of 0002, in words (a generated column may not read another one).
ALTER TABLE clients ADD COLUMN search_words text[] GENERATED ALWAYS AS (client_words(
    lower(first_name || ' ' || coalesce(middle_name, '') || ' ' || coalesce(last_name, '') || ' '
          || coalesce(phone, '') || ' ' || coalesce(email, '') || ' ' || coalesce(pin, '')))) STORED;
CREATE INDEX clients_search_words_idx ON clients USING gin (search_words);

-- Every word some client of the tenant has (and some that none has any more: a changed name
-- leaves its old words, which find nobody; erasure and the purge remove a deleted client's).
CREATE TABLE client_search_words (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    word text NOT NULL,
    PRIMARY KEY (tenant_id, word)
);
CREATE INDEX client_search_words_trgm_idx ON client_search_words USING gin (word gin_trgm_ops);
SELECT isolate_tenant_table('client_search_words');
INSERT INTO client_search_words (tenant_id, word)
    SELECT DISTINCT c.tenant_id, w FROM clients c, unnest(c.search_words) w;

-- A word must never be missing while a client has it. Writers add their words holding the
-- tenant's dictionary lock shared; a delete removes unused words holding it exclusively, and
-- only then looks (with a fresh snapshot) for clients still having them. So a delete waits for
-- writers that may rely on a word it would remove, and a writer that comes after adds the word
-- again. Erasure takes the lock before it deletes, so no writer waits on its rows meanwhile.
CREATE FUNCTION client_dictionary_lock(p_tenant uuid, p_exclusive boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
    BEGIN
        IF p_exclusive THEN
            PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant::text || ':client_search_words', 0));
        ELSE
            PERFORM pg_advisory_xact_lock_shared(hashtextextended(p_tenant::text || ':client_search_words', 0));
        END IF;
    END
    $$;

CREATE FUNCTION client_words_before_delete() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF app_tenant_id() IS NOT NULL THEN
            PERFORM client_dictionary_lock(app_tenant_id(), true);
        END IF;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION client_words_added() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM client_dictionary_lock(t.tenant_id, false) FROM (SELECT DISTINCT tenant_id FROM changed) t
            ORDER BY t.tenant_id;
        -- In order, so that two writers adding the same new words never wait on each other.
        INSERT INTO client_search_words (tenant_id, word)
            SELECT DISTINCT c.tenant_id, w FROM changed c, unnest(c.search_words) w ORDER BY 1, 2
            ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION client_words_removed() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM client_dictionary_lock(t.tenant_id, true) FROM (SELECT DISTINCT tenant_id FROM removed) t
            ORDER BY t.tenant_id;
        DELETE FROM client_search_words d
            USING (SELECT DISTINCT r.tenant_id, w FROM removed r, unnest(r.search_words) w) gone
            WHERE d.tenant_id = gone.tenant_id AND d.word = gone.w
              AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.tenant_id = d.tenant_id
                                                       AND c.search_words @> ARRAY[d.word]);
        RETURN NULL;
    END
    $$;

CREATE TRIGGER clients_words_lock BEFORE DELETE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION client_words_before_delete();
CREATE TRIGGER clients_words_inserted AFTER INSERT ON clients REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION client_words_added();
CREATE TRIGGER clients_words_updated AFTER UPDATE ON clients REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION client_words_added();
CREATE TRIGGER clients_words_deleted AFTER DELETE ON clients REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION client_words_removed();

-- The conditions every path of a search shares, and its order.
CREATE FUNCTION client_search_dates(p_from date, p_to date) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END
    $$;

CREATE FUNCTION client_search_order(p_by_name boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN p_by_name THEN ' ORDER BY lower(m.first_name), lower(coalesce(m.last_name, '''')), m.id'
                    ELSE ' ORDER BY m.updated_at DESC, m.id DESC' END
    $$;

-- The index conditions for the words of a search (' AND m.search_words && … AND m.search
-- LIKE …'): a word's dictionary words if it can be looked up, else its trigrams. NULL if a word
-- is in no client's dictionary: then nothing matches.
CREATE FUNCTION client_search_conditions(p_tenant uuid, p_patterns text[]) RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
    SET enable_seqscan = off SET enable_indexscan = off SET enable_bitmapscan = on
    AS $$
    DECLARE
        conditions text := '';
        pattern text;
        known text[];
    BEGIN
        FOREACH pattern IN ARRAY p_patterns LOOP
            IF client_word_pattern(pattern) THEN
                EXECUTE 'SELECT array_agg(d.word) FROM (SELECT d.word FROM client_search_words d'
                    || ' WHERE d.tenant_id = $1 AND d.word LIKE $2 LIMIT 1001) d'
                    INTO known USING p_tenant, pattern;
                IF known IS NULL THEN
                    RETURN NULL;
                END IF;
                -- A fragment of over a thousand words ("ova") is cheaper as trigrams.
                IF cardinality(known) <= 1000 THEN
                    conditions := conditions || format(' AND m.search_words && %L::text[]', known);
                    CONTINUE;
                END IF;
            END IF;
            conditions := conditions || format(' AND m.search LIKE %L', pattern);
        END LOOP;
        RETURN conditions;
    END
    $$;

-- Up to p_max + 1 matches, through the indexes only; the page of them in order, and how many
-- were found.
CREATE FUNCTION client_search_probe(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_by_name boolean,
                                    p_limit int, p_offset int, p_max int)
    RETURNS TABLE (ids bigint[], total bigint)
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
    -- Bitmaps only (search_clients, its caller, turns them off for itself).
    SET enable_seqscan = off SET enable_indexscan = off SET enable_bitmapscan = on
    AS $$
    DECLARE
        conditions text := client_search_conditions(p_tenant, p_patterns);
    BEGIN
        IF conditions IS NULL THEN
            RETURN QUERY SELECT '{}'::bigint[], 0::bigint;
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'WITH hits AS MATERIALIZED (SELECT m.id, m.first_name, m.last_name, m.updated_at FROM clients m'
            || ' WHERE m.tenant_id = $1 AND m.archived_at IS NULL' || conditions || client_search_dates(p_from, p_to)
            || ' LIMIT $5)'
            || ' SELECT (SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM hits m'
            || client_search_order(p_by_name) || ' LIMIT $6 OFFSET $7) m), (SELECT count(*) FROM hits)'
            USING p_tenant, p_patterns, p_from, p_to, p_max + 1, p_limit, p_offset;
    END
    $$;

-- The ids of up to p_limit matching clients, unsorted: 0004's function, now on the conditions
-- above (its name stays: search_inbox of 0007 calls it by it).
CREATE OR REPLACE FUNCTION client_matches_by_trigram(p_tenant uuid, p_patterns text[], p_from date, p_to date,
                                                     p_limit int)
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp
    SET enable_seqscan = off SET enable_indexscan = off SET enable_bitmapscan = on
    AS $$
    DECLARE
        conditions text := client_search_conditions(p_tenant, p_patterns);
        found bigint[];
    BEGIN
        IF conditions IS NULL THEN
            RETURN '{}';
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM clients m'
            || ' WHERE m.tenant_id = $1 AND m.archived_at IS NULL' || conditions || client_search_dates(p_from, p_to)
            || ' LIMIT $5) m'
            INTO found USING p_tenant, p_patterns, p_from, p_to, p_limit;
        RETURN found;
    END
    $$;

CREATE OR REPLACE FUNCTION search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit int,
                               p_offset int, p_cap int)
    RETURNS TABLE (ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    -- Walks go down the order's index. Left free, the planner took a word's trigrams for rare
    -- and sorted all 38,000 "aliyeva" (42 ms instead of 1.6), or started parallel workers (20 ms).
    SET enable_bitmapscan = off SET max_parallel_workers_per_gather = 0
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        words int := coalesce(cardinality(p_patterns), 0);
        filter text := 'm.tenant_id = $1 AND m.archived_at IS NULL' || client_search_filter(words)
            || client_search_dates(p_from, p_to);
        sort text := client_search_order(p_by_name);
        prefix_rows constant int := 500;
        -- The probe sorts what it finds up to this many; past it, walking the order is cheaper.
        probe_max int := 10 * p_cap;
        scanned int;
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words > 0 THEN
            -- The first rows in order: the whole tenant (an exact count), or a page of them.
            EXECUTE 'SELECT count(*), coalesce(array_agg(m.id ORDER BY m.n) FILTER (WHERE true'
                || client_search_filter(words) || '), ''{}'') FROM (SELECT m.id, m.search, row_number() OVER () AS n'
                || ' FROM (SELECT m.id, m.search FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL'
                || client_search_dates(p_from, p_to) || sort || ' LIMIT $5) m) m'
                INTO scanned, found USING tenant, p_patterns, p_from, p_to, prefix_rows;
            n := cardinality(found);
            IF scanned < prefix_rows OR n > p_offset + p_limit THEN
                RETURN QUERY SELECT coalesce(found[p_offset + 1 : p_offset + p_limit], '{}'), n, scanned < prefix_rows;
                RETURN;
            END IF;
            -- Matches in them, if not a page, tell how far a walk in order must read:
            -- (offset + limit + 1) / n times as far. Within four, walking beats the probe.
            IF n > 0 AND (p_offset + p_limit + 1) <= 4 * n THEN
                RETURN QUERY EXECUTE
                    -- A page not full was read to the end: its count is exact. A full one says
                    -- "at least" up to it; an empty one (past the end) only what the prefix saw.
                    'SELECT coalesce(array_agg(p.id), ''{}''),'
                    || ' CASE WHEN count(*) = 0 THEN $7 ELSE greatest($7, $5 + count(*)) END,'
                    || ' count(*) > 0 AND count(*) < $6 FROM (SELECT m.id FROM clients m WHERE '
                    || filter || sort || ' LIMIT $6 OFFSET $5) p'
                    USING tenant, p_patterns, p_from, p_to, p_offset, p_limit, n;
                RETURN;
            END IF;
            SELECT p.ids, p.total INTO found, n
                FROM client_search_probe(tenant, p_patterns, p_from, p_to, p_by_name, p_limit, p_offset, probe_max) p;
            IF n <= probe_max THEN
                RETURN QUERY SELECT found, n, true;
                RETURN;
            END IF;
        ELSE
            EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM clients m WHERE ' || filter || ' LIMIT $5) x'
                INTO n USING tenant, p_patterns, p_from, p_to, p_cap + 1;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT coalesce(array_agg(p.id), ''{}''), least($7, $8), $7 <= $8 FROM (SELECT m.id FROM clients m WHERE '
            || filter || sort || ' LIMIT $5 OFFSET $6) p'
            USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, n, p_cap;
    END
    $$;

REVOKE ALL ON FUNCTION client_words(text), client_word_pattern(text), client_dictionary_lock(uuid, boolean),
    client_words_before_delete(), client_words_added(), client_words_removed(), client_search_dates(date, date),
    client_search_order(boolean), client_search_conditions(uuid, text[]),
    client_search_probe(uuid, text[], date, date, boolean, int, int, int) FROM PUBLIC;
-- The app role writes clients, so its statements run the generated column and the triggers.
GRANT EXECUTE ON FUNCTION client_words(text), client_dictionary_lock(uuid, boolean), client_words_before_delete(),
    client_words_added(), client_words_removed() TO crm_app;
