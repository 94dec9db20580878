-- Sales pipelines and their stages. A tenant has one or more pipelines, each an ordered list of
-- stages; a stage's kind (open, won, lost) is what a deal in it counts as. Things refer to a
-- stage by id, so renaming one breaks nothing. Every tenant starts with "Sales" in its
-- language: New, Qualified, Proposal, Negotiation, Won, Lost.

CREATE TABLE pipelines (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX pipelines_name_key ON pipelines (tenant_id, lower(name));
GRANT SELECT, INSERT, UPDATE, DELETE ON pipelines TO crm_app;
SELECT isolate_tenant_table('pipelines');

CREATE TABLE pipeline_stages (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    pipeline_id bigint NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    -- The chance, in percent, that a deal in this stage is won.
    probability smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    color text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    position integer NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX pipeline_stages_order ON pipeline_stages (tenant_id, pipeline_id, position);
CREATE UNIQUE INDEX pipeline_stages_name_key ON pipeline_stages (tenant_id, pipeline_id, lower(name));
GRANT SELECT, INSERT, UPDATE, DELETE ON pipeline_stages TO crm_app;
SELECT isolate_tenant_table('pipeline_stages');

-- The pipeline every tenant starts with, named in `p_locale` (en, ru or uz); its id.
CREATE FUNCTION create_default_pipeline(p_tenant uuid, p_locale text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
    DECLARE
        pipeline bigint;
        names text[] := CASE p_locale
            WHEN 'ru' THEN ARRAY['Продажи', 'Новая', 'Квалифицирована', 'Предложение', 'Переговоры', 'Выиграна', 'Проиграна']
            WHEN 'uz' THEN ARRAY['Savdo', 'Yangi', 'Saralangan', 'Taklif', 'Muzokara', 'Yutilgan', 'Boy berilgan']
            ELSE ARRAY['Sales', 'New', 'Qualified', 'Proposal', 'Negotiation', 'Won', 'Lost']
        END;
    BEGIN
        INSERT INTO pipelines (tenant_id, name, position) VALUES (p_tenant, names[1], 0) RETURNING id INTO pipeline;
        INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, kind, probability, color, position)
        SELECT p_tenant, pipeline, names[s.n + 1], s.kind, s.probability, s.color, s.n - 1
        FROM (VALUES (1, 'open', 10, '#64748b'), (2, 'open', 25, '#0ea5e9'), (3, 'open', 50, '#6366f1'),
                     (4, 'open', 75, '#f59e0b'), (5, 'won', 100, '#16a34a'), (6, 'lost', 0, '#dc2626'))
             AS s (n, kind, probability, color);
        RETURN pipeline;
    END
    $$;
GRANT EXECUTE ON FUNCTION create_default_pipeline(uuid, text) TO crm_app;

SELECT create_default_pipeline(id, locale) FROM tenants;

INSERT INTO permissions (name) VALUES ('DealRead'), ('DealWrite');
INSERT INTO role_permissions (role, permission)
VALUES ('admin', 'DealRead'), ('admin', 'DealWrite'), ('agent', 'DealRead'), ('agent', 'DealWrite'), ('viewer', 'DealRead');
