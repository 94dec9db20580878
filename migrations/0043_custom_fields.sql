-- Custom fields: typed fields a tenant's admins add to clients, companies or deals. A field
-- is known by its `key` (fixed once made: the API and CSV columns use it), shown by its
-- `label` (renamed freely: values stay, as they are kept by key). Values live with the record,
-- in its `custom` object ({"key": value}), checked by the application against the field's
-- kind and options before they are written.
--
-- Removing a field sets `removed_at`: its values stay in the records, hidden, and the field
-- may be brought back for 30 days; then housekeeping deletes it and takes its key out of
-- every record (purge_removed_custom_fields below).

CREATE TABLE custom_fields (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    entity text NOT NULL CHECK (entity IN ('client', 'company', 'deal')),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('text', 'number', 'date', 'boolean', 'select', 'multiselect', 'url',
                                       'email', 'phone')),
    options jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(options) = 'array'),
    required boolean NOT NULL DEFAULT false,
    position int NOT NULL DEFAULT 0,
    removed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, entity, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON custom_fields TO crm_app;
SELECT isolate_tenant_table('custom_fields');

ALTER TABLE clients ADD COLUMN custom jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom) = 'object');
ALTER TABLE companies ADD COLUMN custom jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom) = 'object');
ALTER TABLE deals ADD COLUMN custom jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom) = 'object');
-- A client list filtered by a field's value (`custom @> '{"tier": "gold"}'`) finds rare
-- values here; common ones are met walking the list in order (search_custom_clients).
CREATE INDEX clients_custom ON clients USING gin (custom jsonb_path_ops);

INSERT INTO permissions (name) VALUES ('FieldManage');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'FieldManage');

-- Fields removed longer than p_after ago, in every tenant: their keys out of every record,
-- then the fields themselves. Returns how many fields went.
CREATE FUNCTION purge_removed_custom_fields(p_after interval) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        f record;
        n bigint := 0;
    BEGIN
        FOR f IN SELECT tenant_id, id, entity, key FROM custom_fields
                 WHERE removed_at < now() - p_after ORDER BY tenant_id, id LOOP
            EXECUTE format('UPDATE %I SET custom = custom - $2 WHERE tenant_id = $1 AND custom ? $2',
                           CASE f.entity WHEN 'client' THEN 'clients' WHEN 'company' THEN 'companies'
                                         ELSE 'deals' END)
                USING f.tenant_id, f.key;
            DELETE FROM custom_fields WHERE tenant_id = f.tenant_id AND id = f.id;
            n := n + 1;
        END LOOP;
        RETURN n;
    END
    $$;
REVOKE ALL ON FUNCTION purge_removed_custom_fields(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_removed_custom_fields(interval) TO crm_app;

-- A page of live clients whose custom values contain p_custom (and, when given, carrying tag
-- p_tag and matching the words p_patterns), in the list's order, and how many:
--   * the first 500 clients in order, checked: a page among them is the answer ("at least");
--   * else, when they show the filter common enough that a walk reads at most 4,000 clients,
--     the list walked in order, each checked;
--   * else the clients matching it all, found through the indexes (clients_custom, and the
--     trigrams of the words: the planner ANDs their bitmaps; "Platinum" and "dilno" at a
--     million clients are 280 of 10,000 and 28,572): up to 5,000 are sorted and counted
--     exactly; more, the walk.
CREATE FUNCTION search_custom_clients(p_custom jsonb, p_tag bigint, p_patterns text[], p_from date, p_to date,
                                      p_by_name boolean, p_limit int, p_offset int, p_cap int)
    RETURNS TABLE (ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    SET max_parallel_workers_per_gather = 0
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        checks text := ' AND m.custom @> $8' || client_search_filter(coalesce(cardinality(p_patterns), 0))
            || CASE WHEN p_tag IS NULL THEN ''
                    ELSE ' AND EXISTS (SELECT 1 FROM client_tags g WHERE g.tenant_id = m.tenant_id'
                         || ' AND g.client_id = m.id AND g.tag_id = $9)' END
            || client_search_dates(p_from, p_to);
        live text := ' FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL';
        sort text := client_search_order(p_by_name);
        prefix_rows constant int := 500;
        walk_max constant int := 4000;
        gather_max constant int := 5000;
        scanned int;
        found bigint[];
        candidates bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        EXECUTE 'SELECT count(*), coalesce(array_agg(m.id ORDER BY m.n) FILTER (WHERE true' || checks
            || '), ''{}'') FROM (SELECT m.*, row_number() OVER () AS n FROM (SELECT m.*' || live || sort
            || ' LIMIT $5) m) m'
            INTO scanned, found USING tenant, p_patterns, p_from, p_to, prefix_rows, p_offset, p_cap, p_custom, p_tag;
        n := cardinality(found);
        IF scanned < prefix_rows OR n > p_offset + p_limit THEN
            RETURN QUERY SELECT coalesce(found[p_offset + 1 : p_offset + p_limit], '{}'), least(n, p_cap),
                                scanned < prefix_rows AND n <= p_cap;
            RETURN;
        END IF;
        IF n = 0 OR (p_offset + p_limit + 1)::bigint * prefix_rows / n > walk_max THEN
            EXECUTE 'SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id' || live || checks || ' LIMIT $5) m'
                INTO candidates USING tenant, p_patterns, p_from, p_to, gather_max + 1, p_offset, p_cap, p_custom, p_tag;
        END IF;
        IF candidates IS NOT NULL AND cardinality(candidates) <= gather_max THEN
            RETURN QUERY EXECUTE
                'WITH hits AS MATERIALIZED (SELECT m.id, m.first_name, m.last_name, m.updated_at' || live
                || ' AND m.id = ANY($10)' || checks || ')'
                || ' SELECT (SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM hits m' || sort
                || ' LIMIT $5 OFFSET $6) m), (SELECT count(*) FROM hits), true'
                USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_custom, p_tag, candidates;
            RETURN;
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT m.id' || live || checks || sort
            || ' LIMIT $5 OFFSET $6) p'
            INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_custom, p_tag;
        RETURN QUERY SELECT found,
            CASE WHEN cardinality(found) = 0 AND p_offset > 0 THEN n ELSE p_offset + cardinality(found) END,
            cardinality(found) < p_limit AND (cardinality(found) > 0 OR p_offset = 0);
    END
    $$;
REVOKE ALL ON FUNCTION search_custom_clients(jsonb, bigint, text[], date, date, boolean, int, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_custom_clients(jsonb, bigint, text[], date, date, boolean, int, int, int)
    TO crm_app;
