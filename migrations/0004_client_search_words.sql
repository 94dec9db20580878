-- Search matches every word typed, anywhere in the searchable text and in any order: "ivanov
-- sergey" and "sergey ivanov" both find Sergey Ivanov (one pattern for the whole query found
-- nobody without a middle name, whose search text has two spaces between the names).
-- Same two-step plan as before (see 0002), with one LIKE per word.

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
    RETURNS TABLE (ids bigint[], total bigint)
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
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words > 0 THEN
            found := client_matches_by_trigram(tenant, p_patterns, p_from, p_to, p_cap + 1);
            n := cardinality(found);
            IF n <= p_cap THEN
                RETURN QUERY EXECUTE
                    'SELECT coalesce(array_agg(p.id), ''{}''), $3 FROM (SELECT m.id FROM clients m WHERE m.tenant_id = $1'
                    || ' AND m.id = ANY($2)' || sort || ' LIMIT $4 OFFSET $5) p'
                    USING tenant, found, n, p_limit, p_offset;
                RETURN;
            END IF;
        ELSE
            EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM clients m WHERE ' || filter || ' LIMIT $5) x'
                INTO n USING tenant, p_patterns, p_from, p_to, p_cap + 1;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT coalesce(array_agg(p.id), ''{}''), $7 FROM (SELECT m.id FROM clients m WHERE ' || filter || sort
            || ' LIMIT $5 OFFSET $6) p'
            USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, n;
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
