-- Each stage's deal count and total in the base currency, per owner (0: nobody's), kept as
-- deals come, move, change value or owner and go, so a board's headers are read, not summed
-- over every deal of the pipeline (80 ms at 100,000 deals): a stage's sum over its owners'
-- rows, or one owner's row for a board of one owner (and for an agent under `own`). Kept by statement triggers over the rows a statement changed, in
-- one upsert ordered by stage, so two moves in opposite directions lock the stages' rows in
-- the same order and cannot deadlock.

CREATE TABLE deal_stage_totals (
    tenant_id uuid NOT NULL,
    stage_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    deal_count bigint NOT NULL DEFAULT 0,
    value_base_total numeric(24, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, stage_id, owner_id),
    FOREIGN KEY (tenant_id, stage_id) REFERENCES pipeline_stages (tenant_id, id) ON DELETE CASCADE
);
GRANT SELECT, INSERT, UPDATE ON deal_stage_totals TO crm_app;
SELECT isolate_tenant_table('deal_stage_totals');

-- Adds what the changed rows (new ones counted up, old ones down) do to their stages.
CREATE FUNCTION deal_stage_totals_follow() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO deal_stage_totals AS t (tenant_id, stage_id, owner_id, deal_count, value_base_total)
            SELECT tenant_id, stage_id, coalesce(owner_id, 0), count(*), coalesce(sum(value_base), 0)
            FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (tenant_id, stage_id, owner_id) DO UPDATE
                SET deal_count = t.deal_count + EXCLUDED.deal_count,
                    value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO deal_stage_totals AS t (tenant_id, stage_id, owner_id, deal_count, value_base_total)
            SELECT tenant_id, stage_id, coalesce(owner_id, 0), -count(*), -coalesce(sum(value_base), 0)
            FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (tenant_id, stage_id, owner_id) DO UPDATE
                SET deal_count = t.deal_count + EXCLUDED.deal_count,
                    value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        ELSE
            INSERT INTO deal_stage_totals AS t (tenant_id, stage_id, owner_id, deal_count, value_base_total)
            SELECT tenant_id, stage_id, owner_id, sum(n), sum(v)
            FROM (SELECT tenant_id, stage_id, coalesce(owner_id, 0) AS owner_id, 1 AS n, coalesce(value_base, 0) AS v
                  FROM new_rows
                  UNION ALL
                  SELECT tenant_id, stage_id, coalesce(owner_id, 0), -1, -coalesce(value_base, 0) FROM old_rows) d
            GROUP BY 1, 2, 3
            HAVING sum(n) <> 0 OR sum(v) <> 0
            ORDER BY 1, 2, 3
            ON CONFLICT (tenant_id, stage_id, owner_id) DO UPDATE
                SET deal_count = t.deal_count + EXCLUDED.deal_count,
                    value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        END IF;
        RETURN NULL;
    END
    $$;

CREATE TRIGGER deal_stage_totals_insert AFTER INSERT ON deals
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_totals_follow();
CREATE TRIGGER deal_stage_totals_update AFTER UPDATE ON deals
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_totals_follow();
CREATE TRIGGER deal_stage_totals_delete AFTER DELETE ON deals
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deal_stage_totals_follow();

INSERT INTO deal_stage_totals (tenant_id, stage_id, owner_id, deal_count, value_base_total)
SELECT tenant_id, stage_id, coalesce(owner_id, 0), count(*), coalesce(sum(value_base), 0) FROM deals GROUP BY 1, 2, 3;

-- A board of one owner and a text filter (summed over the deals it lets through) reads the
-- values from the index.
DROP INDEX deals_owner;
CREATE INDEX deals_owner ON deals (tenant_id, owner_id, stage_id, position) INCLUDE (value_base);
