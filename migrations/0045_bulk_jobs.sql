-- Bulk actions on records, run in the background: a job names what to do (`action`, with its
-- `params`) to which records (`job_items`, the targets frozen when the job was made: the ids
-- sent, or every match of a list's filter then). Any node claims a queued job, or one whose
-- node stopped beating (`heartbeat_at` older than the stale limit), with SKIP LOCKED under a
-- fresh `run_token`; it works through the items in id order, a chunk per transaction, each
-- chunk's changes and the job's progress (`cursor`, `done`, `failed`) committed together, and
-- only while it still holds the token. A node that dies leaves the job where its last chunk
-- committed; the next claim resumes after `cursor`. Nothing is done twice or skipped.

CREATE TABLE jobs (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    entity text NOT NULL CHECK (entity IN ('clients', 'companies', 'deals')),
    action text NOT NULL CHECK (action IN ('add_tags', 'remove_tags', 'set_owner', 'move_stage', 'delete', 'export')),
    params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    created_by bigint NOT NULL,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total int NOT NULL DEFAULT 0,
    done int NOT NULL DEFAULT 0,
    failed int NOT NULL DEFAULT 0,
    -- The items that failed, with why: [{"id": 7, "code": "not_found"}], at most 1,000 kept.
    failures jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(failures) = 'array'),
    -- The last item handled: the next chunk starts after it.
    cursor bigint NOT NULL DEFAULT 0,
    run_token uuid,
    heartbeat_at timestamptz,
    -- Where an export's file is kept.
    result_key text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX jobs_waiting ON jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_of_tenant ON jobs (tenant_id, id DESC);

CREATE TABLE job_items (
    tenant_id uuid NOT NULL,
    job_id bigint NOT NULL,
    item_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, job_id, item_id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, job_items TO crm_app;
SELECT isolate_tenant_table('jobs');
SELECT isolate_tenant_table('job_items');

INSERT INTO permissions (name) VALUES ('BulkRun');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'BulkRun'), ('agent', 'BulkRun');

-- Takes the oldest job waiting, or one whose node went quiet for p_stale, in any tenant, under
-- a new run token: one node at a time, however many ask.
CREATE FUNCTION claim_job(p_stale interval)
    RETURNS TABLE (tenant_id uuid, id bigint, run_token uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE jobs j
        SET status = 'running', run_token = gen_random_uuid(), heartbeat_at = now(),
            started_at = coalesce(j.started_at, now())
        FROM (SELECT q.tenant_id, q.id FROM jobs q
              WHERE q.status = 'queued' OR (q.status = 'running' AND q.heartbeat_at < now() - p_stale)
              ORDER BY q.created_at LIMIT 1 FOR UPDATE SKIP LOCKED) next
        WHERE j.tenant_id = next.tenant_id AND j.id = next.id
        RETURNING j.tenant_id, j.id, j.run_token
    $$;
REVOKE ALL ON FUNCTION claim_job(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_job(interval) TO crm_app;
