-- Client CSV imports: the uploaded file, how its columns map, progress, and every row that
-- failed or was skipped. A background worker runs them in batches, one transaction each.

CREATE TABLE client_imports (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_by bigint NOT NULL,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    -- The decoded file; kept with the import so a report can show the rows that failed.
    content text NOT NULL,
    header text[] NOT NULL,
    -- The first rows, for the mapping form.
    sample jsonb NOT NULL,
    rows_total int NOT NULL CHECK (rows_total > 0),
    -- One target per column (see domain::client::import::Mapping), set when a run starts.
    mapping text,
    duplicates text NOT NULL DEFAULT 'skip' CHECK (duplicates IN ('skip', 'merge')),
    -- A dry run checks every row and writes nothing but its report.
    dry_run boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'uploaded'
        CHECK (status IN ('uploaded', 'queued', 'running', 'checked', 'done', 'failed', 'cancelled')),
    error text,
    -- The worker holding a running import; a batch commits only while it still holds it.
    run_token uuid,
    heartbeat_at timestamptz,
    rows_done int NOT NULL DEFAULT 0,
    created int NOT NULL DEFAULT 0,
    merged int NOT NULL DEFAULT 0,
    skipped int NOT NULL DEFAULT 0,
    failed int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX client_imports_recent_idx ON client_imports (tenant_id, id DESC);
-- The worker's queue, across tenants.
CREATE INDEX client_imports_queue_idx ON client_imports (created_at) WHERE status IN ('queued', 'running');

-- What happened to a row that did not simply become a new client: each invalid field
-- (`field`, `code`), or a duplicate (`code` = 'duplicate', the client it matched or the
-- earlier row of the same file in a dry run).
CREATE TABLE client_import_issues (
    tenant_id uuid NOT NULL,
    import_id bigint NOT NULL,
    row_no int NOT NULL,
    seq smallint NOT NULL,
    field text,
    code text NOT NULL,
    client_id bigint,
    same_as_row int,
    PRIMARY KEY (tenant_id, import_id, row_no, seq),
    FOREIGN KEY (tenant_id, import_id) REFERENCES client_imports (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON client_imports, client_import_issues TO crm_app;
SELECT isolate_tenant_table('client_imports');
SELECT isolate_tenant_table('client_import_issues');

-- Duplicates by email, for imports (phones have their unique index). A stored column, not an
-- index on lower(email): under row-level security only leakproof operators reach an index,
-- and lower() is not one.
ALTER TABLE clients ADD COLUMN email_folded text GENERATED ALWAYS AS (lower(email)) STORED;
CREATE INDEX clients_email_idx ON clients (tenant_id, email_folded) WHERE email_folded IS NOT NULL;

-- The worker takes the oldest queued import of any tenant, or one whose worker stopped
-- beating, and holds it with a fresh token.
CREATE FUNCTION claim_client_import(p_stale interval)
    RETURNS TABLE (tenant_id uuid, id bigint, run_token uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE client_imports i
        SET status = 'running', run_token = gen_random_uuid(), heartbeat_at = now(),
            started_at = coalesce(i.started_at, now())
        FROM (SELECT q.tenant_id, q.id FROM client_imports q
              WHERE q.status = 'queued' OR (q.status = 'running' AND q.heartbeat_at < now() - p_stale)
              ORDER BY q.created_at LIMIT 1 FOR UPDATE SKIP LOCKED) next
        WHERE i.tenant_id = next.tenant_id AND i.id = next.id
        RETURNING i.tenant_id, i.id, i.run_token
    $$;

-- Finished imports (and uploads never started) go after a week, file and report with them.
CREATE FUNCTION purge_client_imports(p_after interval) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM client_imports i
            WHERE coalesce(i.finished_at, i.created_at) <= now() - p_after AND i.status NOT IN ('queued', 'running')
            RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

-- An import writes faster than autovacuum analyses: a table that grew by more than half
-- since its last analysis is analysed now, so the planner never takes a large table for an
-- empty one (a duplicate look-up planned for an empty table scans all of it for every key).
CREATE FUNCTION refresh_client_statistics() RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        t text;
        refreshed boolean := false;
    BEGIN
        FOREACH t IN ARRAY ARRAY['clients', 'client_contacts'] LOOP
            IF EXISTS (SELECT 1 FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                       WHERE s.schemaname = 'public' AND s.relname = t
                         AND s.n_mod_since_analyze > 500 + 0.5 * greatest(c.reltuples, 0)) THEN
                EXECUTE format('ANALYZE %I', t);
                refreshed := true;
            END IF;
        END LOOP;
        RETURN refreshed;
    END
    $$;

REVOKE ALL ON FUNCTION claim_client_import(interval), purge_client_imports(interval), refresh_client_statistics()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_client_import(interval), purge_client_imports(interval), refresh_client_statistics()
    TO crm_app;
