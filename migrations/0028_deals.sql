-- Deals: what a tenant hopes to sell, moving through the stages of one pipeline. A deal's
-- status is its stage's kind (read through the stage, never stored twice). Its value is kept
-- in the currency it was agreed in and, frozen with the rate of its time, in the tenant's
-- base currency (`value_base`), which is what totals add up.
--
-- On the board a stage's deals are in `position` order: a move writes one row, the moved
-- deal's, with a position between its new neighbours'.

-- A stage names its pipeline, so a deal's (pipeline, stage) pair can be checked by a key.
ALTER TABLE pipeline_stages ADD CONSTRAINT pipeline_stages_pipeline_key UNIQUE (tenant_id, pipeline_id, id);

CREATE TABLE deals (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    pipeline_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    position double precision NOT NULL,
    value numeric(18, 2) CHECK (value >= 0),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    value_base numeric(18, 2) CHECK (value_base >= 0),
    client_id bigint,
    owner_id bigint,
    expected_close_on date,
    lost_reason text CHECK (length(lost_reason) BETWEEN 1 AND 500),
    stage_entered_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    -- A value comes with its currency and its worth in the base currency, or none of them.
    CHECK ((value IS NULL) = (currency IS NULL) AND (value IS NULL) = (value_base IS NULL)),
    FOREIGN KEY (tenant_id, pipeline_id, stage_id) REFERENCES pipeline_stages (tenant_id, pipeline_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE SET NULL (client_id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
-- The board: a stage's deals in order, and its count and total without visiting the table.
CREATE INDEX deals_board ON deals (tenant_id, stage_id, position) INCLUDE (value_base, owner_id);
CREATE INDEX deals_owner ON deals (tenant_id, owner_id, stage_id, position);
CREATE INDEX deals_client ON deals (tenant_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX deals_recent ON deals (tenant_id, pipeline_id, updated_at DESC, id DESC);
CREATE INDEX deals_title_trgm ON deals USING gin (lower(title) gin_trgm_ops);
GRANT SELECT, INSERT, UPDATE, DELETE ON deals TO crm_app;
SELECT isolate_tenant_table('deals');

-- Every move of a deal between stages (and its first stage, with no `from`): who, when, and
-- how long it had been in the stage it left. Stage names are kept as they were, so the
-- history still reads after a stage is deleted.
CREATE TABLE deal_moves (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    deal_id bigint NOT NULL,
    from_stage_id bigint,
    from_stage_name text,
    to_stage_id bigint,
    to_stage_name text NOT NULL,
    user_id bigint,
    moved_at timestamptz NOT NULL DEFAULT now(),
    seconds_in_previous bigint CHECK (seconds_in_previous >= 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, from_stage_id) REFERENCES pipeline_stages (tenant_id, id) ON DELETE SET NULL (from_stage_id),
    FOREIGN KEY (tenant_id, to_stage_id) REFERENCES pipeline_stages (tenant_id, id) ON DELETE SET NULL (to_stage_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX deal_moves_deal ON deal_moves (tenant_id, deal_id, moved_at, id);
GRANT SELECT, INSERT ON deal_moves TO crm_app;
SELECT isolate_tenant_table('deal_moves');
