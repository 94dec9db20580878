-- The clock a tenant's people read times in: an IANA time zone name (Asia/Tashkent), checked
-- by the domain (`TimeZone`). Pages show every time in it; the API keeps UTC. The principal
-- functions of 0001 return it with the user.
ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- Tenants that chose Uzbekistan already read Tashkent time.
UPDATE tenants SET time_zone = 'Asia/Tashkent' WHERE default_country = 'UZ';

DROP FUNCTION auth_session_principal(bytea, interval);
DROP FUNCTION auth_token_principal(bytea);

-- Who a live session belongs to. Touches last_seen_at at most once a minute.
CREATE FUNCTION auth_session_principal(p_token_hash bytea, p_idle interval)
    RETURNS TABLE (tenant_id uuid, tenant_name text, user_id bigint, email text, name text,
                   role text, locale text, permissions text[], time_zone text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        -- Only a live session is touched: touching an idle one would revive it.
        UPDATE sessions s SET last_seen_at = now()
        WHERE s.token_hash = p_token_hash AND s.last_seen_at < now() - interval '1 minute'
          AND s.last_seen_at > now() - p_idle AND s.expires_at > now();
        RETURN QUERY
            SELECT u.tenant_id, t.name, u.id, u.email, u.name, u.role, u.locale,
                   ARRAY(SELECT rp.permission FROM role_permissions rp WHERE rp.role = u.role), t.time_zone
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
                   role text, locale text, permissions text[], time_zone text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        UPDATE api_tokens a SET last_used_at = now()
        WHERE a.token_hash = p_token_hash AND a.revoked_at IS NULL
          AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute');
        RETURN QUERY
            SELECT u.tenant_id, t.name, u.id, u.email, u.name, u.role, u.locale,
                   ARRAY(SELECT rp.permission FROM role_permissions rp WHERE rp.role = u.role), t.time_zone
            FROM api_tokens a
            JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id
            JOIN tenants t ON t.id = u.tenant_id
            WHERE a.token_hash = p_token_hash AND a.revoked_at IS NULL AND u.active;
    END
    $$;

REVOKE ALL ON FUNCTION auth_session_principal(bytea, interval), auth_token_principal(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_principal(bytea, interval), auth_token_principal(bytea) TO crm_app;
