-- Client search: a middle way between the prefix and the trigram probe of 0004. When the
-- first rows in the page's order hold some matches but not a page, the matches are dense
-- enough that reading on in order finds the page sooner than the probe counts them all.
-- At a million clients, a first name's search went from 37 ms (probe 21 ms + walk 7 ms)
-- to 12 ms (prefix 6 ms + walk 7 ms).

CREATE OR REPLACE FUNCTION search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit int,
                               p_offset int, p_cap int)
    RETURNS TABLE (ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        words int := coalesce(cardinality(p_patterns), 0);
        filter text := 'm.tenant_id = $1 AND m.archived_at IS NULL' || client_search_filter(words)
            || CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END;
        sort text := CASE WHEN p_by_name THEN ' ORDER BY lower(m.first_name), lower(coalesce(m.last_name, '''')), m.id'
                          ELSE ' ORDER BY m.updated_at DESC, m.id DESC' END;
        prefix_rows constant int := 2000;
        scanned int;
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words > 0 THEN
            EXECUTE 'SELECT count(*), coalesce(array_agg(m.id ORDER BY m.n) FILTER (WHERE true'
                || client_search_filter(words) || '), ''{}'') FROM (SELECT m.id, m.search, row_number() OVER () AS n'
                || ' FROM (SELECT m.id, m.search FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL'
                || CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
                || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END
                || sort || ' LIMIT $5) m) m'
                INTO scanned, found USING tenant, p_patterns, p_from, p_to, prefix_rows;
            n := cardinality(found);
            IF scanned < prefix_rows OR n > p_offset + p_limit THEN
                RETURN QUERY SELECT coalesce(found[p_offset + 1 : p_offset + p_limit], '{}'), n, scanned < prefix_rows;
                RETURN;
            END IF;
            -- Matches in the prefix, if not a page of them, tell how far a walk in order must
            -- read: (offset + limit + 1) / n prefixes. Within four, walking beats the trigram
            -- probe, which reads every match of a common word (33,000 for a first name at a
            -- million clients, 12-35 ms); the count is then what the walk saw.
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
            found := client_matches_by_trigram(tenant, p_patterns, p_from, p_to, p_cap + 1);
            n := cardinality(found);
            IF n <= p_cap THEN
                RETURN QUERY EXECUTE
                    'SELECT coalesce(array_agg(p.id), ''{}''), $3, true FROM (SELECT m.id FROM clients m'
                    || ' WHERE m.tenant_id = $1 AND m.id = ANY($2)' || sort || ' LIMIT $4 OFFSET $5) p'
                    USING tenant, found, n, p_limit, p_offset;
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
