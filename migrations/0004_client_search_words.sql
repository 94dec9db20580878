-- Search matches every word typed, anywhere in the searchable text and in any order: "ivanov
-- sergey" and "sergey ivanov" both find Sergey Ivanov (one pattern for the whole query found
-- nobody without a middle name, whose search text has two spaces between the names).
--
-- And a first step before the probe of 0002: the first rows of the tenant in the page's sort
-- order are read (at most 2,000) and matched. If that was the whole tenant, the count is exact
-- and no index is needed; if they fill the page, the search is dense: the page comes from them
-- and the count is "at least" what they hold. Only otherwise does the trigram probe run, whose
-- cost grows with how common the typed trigrams are (17-25 ms at a million clients for a
-- common surname, against 1-2 ms here).

DROP FUNCTION search_clients(text, date, date, boolean, int, int, int);
DROP FUNCTION client_matches_by_trigram(uuid, text, date, date, int);

-- ' AND m.search LIKE $2[1] AND m.search LIKE $2[2] …': separate conditions, which the
-- trigram index combines (it cannot serve LIKE ALL).
CREATE FUNCTION client_search_filter(p_words int) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT coalesce(string_agg(format(' AND m.search LIKE ($2)[%s]', i), ''), '') FROM generate_series(1, p_words) i
    $$;

CREATE FUNCTION search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit int,
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

CREATE FUNCTION client_matches_by_trigram(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_limit int)
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE SET search_path = public, pg_temp SET enable_seqscan = off SET enable_indexscan = off
    AS $$
    DECLARE
        found bigint[];
    BEGIN
        EXECUTE 'SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM clients m'
            || ' WHERE m.tenant_id = $1 AND m.archived_at IS NULL' || client_search_filter(cardinality(p_patterns))
            || CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END
            || ' LIMIT $5) m'
            INTO found USING p_tenant, p_patterns, p_from, p_to, p_limit;
        RETURN found;
    END
    $$;

REVOKE ALL ON FUNCTION search_clients(text[], date, date, boolean, int, int, int),
    client_matches_by_trigram(uuid, text[], date, date, int), client_search_filter(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_clients(text[], date, date, boolean, int, int, int) TO crm_app;
