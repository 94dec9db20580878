-- Foundation: tenants, users, roles and permissions, sessions, API tokens, audit log,
-- sign-in throttling; and the row-level security that keeps tenants apart.
--
-- Migrations run as the database owner. The application's queries run as `crm_app`
-- (every pooled connection does SET ROLE crm_app), which row-level security applies to.
-- The few look-ups that must happen before a tenant is known are SECURITY DEFINER
-- functions below, each narrow and named for what it does.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_app') THEN
        CREATE ROLE crm_app NOLOGIN;
    END IF;
END
$$;
GRANT crm_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO crm_app;

-- The tenant of the current transaction, NULL outside a TenantTx (so nothing matches).
CREATE FUNCTION app_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

-- Built-in roles and what they may do: global reference data, not tenant-owned.
CREATE TABLE permissions (
    name text PRIMARY KEY
);
CREATE TABLE roles (
    name text PRIMARY KEY
);
CREATE TABLE role_permissions (
    role text NOT NULL REFERENCES roles (name),
    permission text NOT NULL REFERENCES permissions (name),
    PRIMARY KEY (role, permission)
);
INSERT INTO permissions (name) VALUES
    ('ClientRead'), ('ClientCreate'), ('ClientUpdate'), ('ClientDelete'),
    ('ChatRead'), ('ChatCreate'), ('ChatUpdate'),
    ('TemplateRead'), ('TemplateManage'), ('ChannelManage'), ('UserManage');
INSERT INTO roles (name) VALUES ('admin'), ('agent'), ('viewer');
INSERT INTO role_permissions (role, permission)
    SELECT 'admin', name FROM permissions;
INSERT INTO role_permissions (role, permission) VALUES
    ('agent', 'ClientRead'), ('agent', 'ClientCreate'), ('agent', 'ClientUpdate'),
    ('agent', 'ChatRead'), ('agent', 'ChatCreate'), ('agent', 'ChatUpdate'),
    ('agent', 'TemplateRead'),
    ('viewer', 'ClientRead'), ('viewer', 'ChatRead'), ('viewer', 'TemplateRead');
GRANT SELECT ON permissions, roles, role_permissions TO crm_app;

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    -- Sign-in happens before the tenant is known, so an email is unique across tenants.
    email text NOT NULL UNIQUE CHECK (email = lower(email)),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    role text NOT NULL REFERENCES roles (name),
    -- NULL: follow the browser's Accept-Language.
    locale text CHECK (locale IN ('en', 'ru', 'uz')),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE sessions (
    tenant_id uuid NOT NULL,
    -- SHA-256 of the cookie's value: a leaked table does not leak live sessions.
    token_hash bytea PRIMARY KEY,
    user_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    user_agent text NOT NULL DEFAULT '',
    ip text NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);

CREATE TABLE api_tokens (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE,
    -- The first characters of the token, so a person can tell tokens apart in a list.
    prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_user_idx ON api_tokens (tenant_id, user_id);

-- Append-only: the application role may insert and read, never change or delete.
CREATE TABLE audit_log (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    -- NULL when the actor is the system or the command line.
    actor_user_id bigint,
    actor_name text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text NOT NULL,
    summary text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_entity_idx ON audit_log (tenant_id, entity, id DESC);

-- Failed sign-ins, for throttling per account and per client address. Not tenant-owned:
-- the email tried may belong to no tenant at all.
CREATE TABLE login_failures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    ip text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, failed_at);
GRANT SELECT, INSERT, DELETE ON login_failures TO crm_app;

-- The second wall: row-level security on every tenant-owned table.
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, sessions, api_tokens TO crm_app;
GRANT SELECT, INSERT ON audit_log TO crm_app;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO crm_app
    USING (id = app_tenant_id()) WITH CHECK (id = app_tenant_id());
CREATE POLICY owner_access ON tenants TO CURRENT_USER USING (true) WITH CHECK (true);

-- Every tenant-owned table gets the same treatment; later migrations call this for theirs:
--     SELECT isolate_tenant_table('clients');
-- (run by the migrating role, which becomes the one `owner_access` admits).
CREATE FUNCTION isolate_tenant_table(tbl regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format('CREATE POLICY tenant_isolation ON %s TO crm_app
                          USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id())', tbl);
        EXECUTE format('CREATE POLICY owner_access ON %s TO %I USING (true) WITH CHECK (true)', tbl, current_user);
    END
    $$;
REVOKE ALL ON FUNCTION isolate_tenant_table(regclass) FROM PUBLIC;

SELECT isolate_tenant_table('users');
SELECT isolate_tenant_table('sessions');
SELECT isolate_tenant_table('api_tokens');
SELECT isolate_tenant_table('audit_log');

-- Pre-tenant look-ups. Each runs as the owner (SECURITY DEFINER) and returns only what its
-- caller needs; search_path is pinned so a caller cannot shadow the tables.

-- Sign-in: the account behind an email, whatever its tenant.
CREATE FUNCTION auth_login_account(p_email text)
    RETURNS TABLE (tenant_id uuid, user_id bigint, password_hash text, active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT u.tenant_id, u.id, u.password_hash, u.active
        FROM users u WHERE u.email = lower(p_email)
    $$;

-- Who a live session belongs to. Touches last_seen_at at most once a minute.
CREATE FUNCTION auth_session_principal(p_token_hash bytea, p_idle interval)
    RETURNS TABLE (tenant_id uuid, tenant_name text, user_id bigint, email text, name text,
                   role text, locale text, permissions text[])
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        -- Only a live session is touched: touching an idle one would revive it.
        UPDATE sessions s SET last_seen_at = now()
        WHERE s.token_hash = p_token_hash AND s.last_seen_at < now() - interval '1 minute'
          AND s.last_seen_at > now() - p_idle AND s.expires_at > now();
        RETURN QUERY
            SELECT u.tenant_id, t.name, u.id, u.email, u.name, u.role, u.locale,
                   ARRAY(SELECT rp.permission FROM role_permissions rp WHERE rp.role = u.role)
            FROM sessions s
            JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
            JOIN tenants t ON t.id = u.tenant_id
            WHERE s.token_hash = p_token_hash
              AND s.expires_at > now()
              AND s.last_seen_at > now() - p_idle
              AND u.active;
    END
    $$;

-- Who an API token acts as. Records its last use.
CREATE FUNCTION auth_token_principal(p_token_hash bytea)
    RETURNS TABLE (tenant_id uuid, tenant_name text, user_id bigint, email text, name text,
                   role text, locale text, permissions text[])
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        UPDATE api_tokens a SET last_used_at = now()
        WHERE a.token_hash = p_token_hash AND a.revoked_at IS NULL
          AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute');
        RETURN QUERY
            SELECT u.tenant_id, t.name, u.id, u.email, u.name, u.role, u.locale,
                   ARRAY(SELECT rp.permission FROM role_permissions rp WHERE rp.role = u.role)
            FROM api_tokens a
            JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id
            JOIN tenants t ON t.id = u.tenant_id
            WHERE a.token_hash = p_token_hash AND a.revoked_at IS NULL AND u.active;
    END
    $$;

-- The command line and first-run set-up need to see which tenants exist.
CREATE FUNCTION list_tenants()
    RETURNS TABLE (id uuid, name text, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT t.id, t.name, t.created_at FROM tenants t ORDER BY t.created_at, t.id $$;

-- Housekeeping across tenants: sessions past their end, or unused for longer than p_idle.
CREATE FUNCTION purge_ended_sessions(p_idle interval) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM sessions s WHERE s.expires_at <= now() OR s.last_seen_at <= now() - p_idle RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

REVOKE ALL ON FUNCTION auth_login_account(text), auth_session_principal(bytea, interval),
    auth_token_principal(bytea), list_tenants(), purge_ended_sessions(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_login_account(text), auth_session_principal(bytea, interval),
    auth_token_principal(bytea), list_tenants(), purge_ended_sessions(interval), app_tenant_id() TO crm_app;
