-- Clients and their contacts, searchable fast at a million clients per tenant.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE clients (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    first_name text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name text,
    middle_name text,
    -- E.164, normalised by the domain.
    phone text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    email text,
    address text,
    date_of_birth date,
    gender text CHECK (gender IN ('male', 'female', 'other')),
    pin text CHECK (pin ~ '^[0-9]{4,20}$'),
    passport_series text,
    passport_number text,
    comments text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Archived clients are hidden from lists and search; an admin may restore them.
    archived_at timestamptz,
    -- Everything a search box matches, lower-cased, for one trigram index.
    search text GENERATED ALWAYS AS (
        lower(first_name || ' ' || coalesce(middle_name, '') || ' ' || coalesce(last_name, '') || ' '
              || coalesce(phone, '') || ' ' || coalesce(email, '') || ' ' || coalesce(pin, ''))
    ) STORED,
    PRIMARY KEY (tenant_id, id)
);
-- A phone or a PIN belongs to one client of a tenant (archived ones included: they may return).
CREATE UNIQUE INDEX clients_phone_key ON clients (tenant_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX clients_pin_key ON clients (tenant_id, pin) WHERE pin IS NOT NULL;
CREATE INDEX clients_search_idx ON clients USING gin (tenant_id, search gin_trgm_ops);
CREATE INDEX clients_updated_idx ON clients (tenant_id, updated_at DESC, id DESC) WHERE archived_at IS NULL;
CREATE INDEX clients_name_idx ON clients (tenant_id, lower(first_name), lower(coalesce(last_name, '')), id)
    WHERE archived_at IS NULL;
CREATE INDEX clients_created_idx ON clients (tenant_id, created_at);

CREATE TABLE client_contacts (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id bigint NOT NULL,
    type text NOT NULL CHECK (type IN ('email', 'phone', 'telegram', 'whatsapp', 'other')),
    value text NOT NULL CHECK (length(value) BETWEEN 1 AND 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT client_contacts_value_key UNIQUE (tenant_id, client_id, type, value)
);
-- Inbound messages find their client by contact.
CREATE INDEX client_contacts_lookup_idx ON client_contacts (tenant_id, type, value);

GRANT SELECT, INSERT, UPDATE, DELETE ON clients, client_contacts TO crm_app;
SELECT isolate_tenant_table('clients');
SELECT isolate_tenant_table('client_contacts');

-- Search. Under row-level security PostgreSQL does not use an index for operators that are
-- not leakproof, LIKE among them, so a search through the policy scans the whole table. These
-- two functions run as the owner, where the trigram index serves; they admit only the tenant
-- of the calling transaction (app_tenant_id()), so the second wall stands. Statements are
-- planned per call (EXECUTE) so the planner sees the pattern.
--
-- p_matches is count_client_matches' answer for the same filter. Below its cap the matches are
-- few: collect them through the trigram index, then sort. At the cap they are many: walking
-- the sort order's index finds a page after a few rows. (Left to itself the planner misjudges
-- LIKE's selectivity and may walk the whole index for a pattern that matches nothing.)
CREATE FUNCTION search_client_ids(p_pattern text, p_from date, p_to date, p_by_name boolean, p_limit int, p_offset int,
                                  p_matches bigint, p_cap int)
    RETURNS TABLE (id bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        filter text := 'm.tenant_id = $1 AND m.archived_at IS NULL'
            || CASE WHEN p_pattern IS NULL THEN '' ELSE ' AND m.search LIKE $2' END
            || CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END;
        sort text := CASE WHEN p_by_name THEN ' ORDER BY lower(m.first_name), lower(coalesce(m.last_name, '''')), m.id'
                          ELSE ' ORDER BY m.updated_at DESC, m.id DESC' END;
    BEGIN
        IF app_tenant_id() IS NULL THEN
            RETURN;
        END IF;
        IF p_pattern IS NOT NULL AND p_matches < p_cap THEN
            RETURN QUERY EXECUTE
                'WITH found AS MATERIALIZED (SELECT m.id, m.first_name, m.last_name, m.updated_at FROM clients m WHERE '
                || filter || ') SELECT m.id FROM found m' || sort || ' LIMIT $5 OFFSET $6'
                USING app_tenant_id(), p_pattern, p_from, p_to, p_limit, p_offset;
        ELSE
            RETURN QUERY EXECUTE
                'SELECT m.id FROM clients m WHERE ' || filter || sort || ' LIMIT $5 OFFSET $6'
                USING app_tenant_id(), p_pattern, p_from, p_to, p_limit, p_offset;
        END IF;
    END
    $$;

-- How many clients match, counted up to p_cap (an exact count of a broad match at a million
-- rows costs more than the page itself).
CREATE FUNCTION count_client_matches(p_pattern text, p_from date, p_to date, p_cap int)
    RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        n bigint;
    BEGIN
        IF app_tenant_id() IS NULL THEN
            RETURN 0;
        END IF;
        EXECUTE
            'SELECT count(*) FROM (SELECT 1 FROM clients c WHERE c.tenant_id = $1 AND c.archived_at IS NULL'
            || CASE WHEN p_pattern IS NULL THEN '' ELSE ' AND c.search LIKE $2' END
            || CASE WHEN p_from IS NULL THEN '' ELSE ' AND c.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND c.created_at < $4 + 1' END
            || ' LIMIT $5) matches'
            INTO n
            USING app_tenant_id(), p_pattern, p_from, p_to, p_cap;
        RETURN n;
    END
    $$;

REVOKE ALL ON FUNCTION search_client_ids(text, date, date, boolean, int, int, bigint, int),
    count_client_matches(text, date, date, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_client_ids(text, date, date, boolean, int, int, bigint, int),
    count_client_matches(text, date, date, int) TO crm_app;
