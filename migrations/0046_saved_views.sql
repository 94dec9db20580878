-- Saved views: a list's filters and order under a name, the user's own or shared with the
-- tenant. `query` is the list's query string as its address carries it (no page).
CREATE TABLE saved_views (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    entity text NOT NULL CHECK (entity IN ('clients', 'companies', 'deals')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    name_key text NOT NULL CHECK (length(name_key) BETWEEN 1 AND 200),
    query text NOT NULL CHECK (length(query) <= 2000),
    shared boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id, entity, name_key),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saved_views_of ON saved_views (tenant_id, entity, user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON saved_views TO crm_app;
SELECT isolate_tenant_table('saved_views');
