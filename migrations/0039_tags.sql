-- Tags: a tenant's own labels, put on clients, companies, deals and chats. A tag's name is
-- unique in its tenant whatever its case: `name_key` is the name in small letters, folded by
-- the application (Unicode-aware, where lower() in the bundled server's C locale leaves
-- Cyrillic capitals as they are). A locked tag is put on and taken off by admins alone.
--
-- Each kind of record keeps its tags in its own table, with foreign keys both ways: deleting
-- a tag takes it off every record in the one DELETE (ON DELETE CASCADE), and deleting a
-- record takes its tags with it. Each table has its primary key for a record's tags and an
-- index by tag for lists filtered by one.

CREATE TABLE tags (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    name_key text NOT NULL CHECK (length(name_key) BETWEEN 1 AND 200),
    color text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    locked boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name_key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON tags TO crm_app;
SELECT isolate_tenant_table('tags');

CREATE TABLE client_tags (
    tenant_id uuid NOT NULL,
    client_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client_id, tag_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX client_tags_by_tag ON client_tags (tenant_id, tag_id, client_id);

CREATE TABLE company_tags (
    tenant_id uuid NOT NULL,
    company_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, company_id, tag_id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX company_tags_by_tag ON company_tags (tenant_id, tag_id, company_id);

CREATE TABLE deal_tags (
    tenant_id uuid NOT NULL,
    deal_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, deal_id, tag_id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_tags_by_tag ON deal_tags (tenant_id, tag_id, deal_id);

CREATE TABLE chat_tags (
    tenant_id uuid NOT NULL,
    chat_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, chat_id, tag_id),
    FOREIGN KEY (tenant_id, chat_id) REFERENCES chats (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX chat_tags_by_tag ON chat_tags (tenant_id, tag_id, chat_id);

GRANT SELECT, INSERT, DELETE ON client_tags, company_tags, deal_tags, chat_tags TO crm_app;
SELECT isolate_tenant_table('client_tags');
SELECT isolate_tenant_table('company_tags');
SELECT isolate_tenant_table('deal_tags');
SELECT isolate_tenant_table('chat_tags');

INSERT INTO permissions (name) VALUES ('TagManage');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'TagManage');

-- A seed puts deals and their tags in too: the planner is told of them at once as well.
CREATE OR REPLACE FUNCTION analyze_seeded_tables() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        ANALYZE tenants, users, clients, client_contacts, client_search_words, chats, chat_members, messages,
                deals, deal_moves, tags, deal_tags;
    END
    $$;
