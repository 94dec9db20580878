-- The schema the migrations add up to (pg_dump --schema-only), written by .ci/sqlx-prepare.
-- Read it to see a table; change the schema with a new migration, never here.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE FUNCTION public.analyze_seeded_tables() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    BEGIN
        ANALYZE tenants, users, clients, client_contacts, client_search_words, chats, chat_members, messages,
                deals, deal_moves, tags, deal_tags, client_tags;
    END
    $$;

CREATE FUNCTION public.app_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION public.auth_login_account(p_email text) RETURNS TABLE(tenant_id uuid, user_id bigint, password_hash text, active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        SELECT u.tenant_id, u.id, u.password_hash, u.active
        FROM users u WHERE u.email = lower(p_email)
    $$;

CREATE FUNCTION public.auth_session_principal(p_token_hash bytea, p_idle interval) RETURNS TABLE(tenant_id uuid, tenant_name text, user_id bigint, email text, name text, role text, locale text, permissions text[], time_zone text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
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

CREATE FUNCTION public.auth_token_principal(p_token_hash bytea) RETURNS TABLE(tenant_id uuid, tenant_name text, user_id bigint, email text, name text, role text, locale text, permissions text[], time_zone text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
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

CREATE FUNCTION public.chat_matches_by_text(p_tenant uuid, p_words tsquery, p_limit integer) RETURNS bigint[]
    LANGUAGE sql STABLE
    SET search_path TO 'public', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_indexscan TO 'off'
    AS $$
        SELECT coalesce(array_agg(t.chat_id), '{}') FROM (
            SELECT t.chat_id FROM messages t WHERE t.tenant_id = p_tenant AND t.search @@ p_words LIMIT p_limit
        ) t
    $$;

CREATE FUNCTION public.claim_client_import(p_stale interval) RETURNS TABLE(tenant_id uuid, id bigint, run_token uuid)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
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

CREATE FUNCTION public.claim_job(p_stale interval) RETURNS TABLE(tenant_id uuid, id bigint, run_token uuid)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
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

CREATE FUNCTION public.claim_media_downloads(p_limit integer, p_lease interval) RETURNS TABLE(tenant_id uuid, id bigint, attempts integer)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        UPDATE media_downloads d SET due_at = now() + p_lease, attempts = d.attempts + 1
        FROM (SELECT q.tenant_id, q.id FROM media_downloads q WHERE q.due_at <= now()
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.id = due.id
        RETURNING d.tenant_id, d.id, d.attempts
    $$;

CREATE FUNCTION public.claim_message_deliveries(p_limit integer, p_lease interval) RETURNS TABLE(tenant_id uuid, message_id bigint, attempts integer, claim uuid)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        UPDATE message_deliveries d
        SET due_at = now() + p_lease, attempts = d.attempts + 1, claim = gen_random_uuid()
        FROM (SELECT q.tenant_id, q.message_id FROM message_deliveries q WHERE q.due_at <= now()
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE d.tenant_id = due.tenant_id AND d.message_id = due.message_id
        RETURNING d.tenant_id, d.message_id, d.attempts, d.claim
    $$;

CREATE FUNCTION public.claim_telegram_notifications(p_limit integer, p_lease interval) RETURNS TABLE(tenant_id uuid, id bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        UPDATE notifications n
        SET telegram_due_at = now() + p_lease, telegram_attempts = n.telegram_attempts + 1
        FROM (SELECT q.tenant_id, q.id FROM notifications q
              WHERE q.telegram_state = 'pending' AND q.telegram_due_at <= now()
              ORDER BY q.telegram_due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE n.tenant_id = due.tenant_id AND n.id = due.id
        RETURNING n.tenant_id, n.id
    $$;

CREATE FUNCTION public.client_dictionary_lock(p_tenant uuid, p_exclusive boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF p_exclusive THEN
            PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant::text || ':client_search_words', 0));
        ELSE
            PERFORM pg_advisory_xact_lock_shared(hashtextextended(p_tenant::text || ':client_search_words', 0));
        END IF;
    END
    $$;

CREATE FUNCTION public.client_matches_by_trigram(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_limit integer) RETURNS bigint[]
    LANGUAGE plpgsql STABLE
    SET search_path TO 'public', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_indexscan TO 'off'
    SET enable_bitmapscan TO 'on'
    AS $_$
    DECLARE
        conditions text := client_search_conditions(p_tenant, p_patterns);
        found bigint[];
    BEGIN
        IF conditions IS NULL THEN
            RETURN '{}';
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM clients m'
            || ' WHERE m.tenant_id = $1 AND m.archived_at IS NULL' || conditions || client_search_dates(p_from, p_to)
            || ' LIMIT $5) m'
            INTO found USING p_tenant, p_patterns, p_from, p_to, p_limit;
        RETURN found;
    END
    $_$;

CREATE FUNCTION public.client_search_conditions(p_tenant uuid, p_patterns text[]) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'public', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_indexscan TO 'off'
    SET enable_bitmapscan TO 'on'
    AS $_$
    DECLARE
        conditions text := '';
        pattern text;
        known text[];
    BEGIN
        FOREACH pattern IN ARRAY p_patterns LOOP
            IF client_word_pattern(pattern) THEN
                EXECUTE 'SELECT array_agg(d.word) FROM (SELECT d.word FROM client_search_words d'
                    || ' WHERE d.tenant_id = $1 AND d.word LIKE $2 LIMIT 1001) d'
                    INTO known USING p_tenant, pattern;
                IF known IS NULL THEN
                    RETURN NULL;
                END IF;
                -- A fragment of over a thousand words ("ova") is cheaper as trigrams.
                IF cardinality(known) <= 1000 THEN
                    conditions := conditions || format(' AND m.search_words && %L::text[]', known);
                    CONTINUE;
                END IF;
            END IF;
            conditions := conditions || format(' AND m.search LIKE %L', pattern);
        END LOOP;
        RETURN conditions;
    END
    $_$;

CREATE FUNCTION public.client_search_dates(p_from date, p_to date) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
        SELECT CASE WHEN p_from IS NULL THEN '' ELSE ' AND m.created_at >= $3' END
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND m.created_at < $4 + 1' END
    $_$;

CREATE FUNCTION public.client_search_filter(p_words integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
        SELECT coalesce(string_agg(format(' AND m.search LIKE ($2)[%s]', i), ''), '') FROM generate_series(1, p_words) i
    $_$;

CREATE FUNCTION public.client_search_order(p_by_name boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN p_by_name THEN ' ORDER BY lower(m.first_name), lower(coalesce(m.last_name, '''')), m.id'
                    ELSE ' ORDER BY m.updated_at DESC, m.id DESC' END
    $$;

CREATE FUNCTION public.client_search_probe(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_max integer) RETURNS TABLE(ids bigint[], total bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'public', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_indexscan TO 'off'
    SET enable_bitmapscan TO 'on'
    AS $_$
    DECLARE
        conditions text := client_search_conditions(p_tenant, p_patterns);
    BEGIN
        IF conditions IS NULL THEN
            RETURN QUERY SELECT '{}'::bigint[], 0::bigint;
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'WITH hits AS MATERIALIZED (SELECT m.id, m.first_name, m.last_name, m.updated_at FROM clients m'
            || ' WHERE m.tenant_id = $1 AND m.archived_at IS NULL' || conditions || client_search_dates(p_from, p_to)
            || ' LIMIT $5)'
            || ' SELECT (SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM hits m'
            || client_search_order(p_by_name) || ' LIMIT $6 OFFSET $7) m), (SELECT count(*) FROM hits)'
            USING p_tenant, p_patterns, p_from, p_to, p_max + 1, p_limit, p_offset;
    END
    $_$;

CREATE FUNCTION public.client_tags_follow() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        UPDATE client_tags g
            SET client_updated_at = c.updated_at, first_key = lower(c.first_name),
                last_key = lower(coalesce(c.last_name, '')), archived = c.archived_at IS NOT NULL
            FROM changed c
            WHERE g.tenant_id = c.tenant_id AND g.client_id = c.id
              AND (g.client_updated_at, g.first_key, g.last_key, g.archived)
                  IS DISTINCT FROM (c.updated_at, lower(c.first_name), lower(coalesce(c.last_name, '')),
                                    c.archived_at IS NOT NULL);
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.client_tags_keys() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        SELECT c.updated_at, lower(c.first_name), lower(coalesce(c.last_name, '')), c.archived_at IS NOT NULL
            INTO NEW.client_updated_at, NEW.first_key, NEW.last_key, NEW.archived
            FROM clients c WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.client_id;
        RETURN NEW;
    END
    $$;

CREATE FUNCTION public.client_word_pattern(p_pattern text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$ SELECT p_pattern ~ '^%[^\s!-/:-@\[-`{-~]{3,}%$' AND p_pattern !~ '^%[0-9]+%$' $_$;

CREATE FUNCTION public.client_words(p_search text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
        SELECT array_remove(regexp_split_to_array(
            regexp_replace(p_search, '(^|[\s!-/:-@\[-`{-~])[0-9]+(?=[\s!-/:-@\[-`{-~]|$)', '\1', 'g'),
            '[\s!-/:-@\[-`{-~]+'), '')
    $_$;

CREATE FUNCTION public.client_words_added() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    BEGIN
        PERFORM client_dictionary_lock(t.tenant_id, false) FROM (SELECT DISTINCT tenant_id FROM changed) t
            ORDER BY t.tenant_id;
        -- In order, so that two writers adding the same new words never wait on each other.
        INSERT INTO client_search_words (tenant_id, word)
            SELECT DISTINCT c.tenant_id, w FROM changed c, unnest(c.search_words) w ORDER BY 1, 2
            ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.client_words_before_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    BEGIN
        IF app_tenant_id() IS NOT NULL THEN
            PERFORM client_dictionary_lock(app_tenant_id(), true);
        END IF;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.client_words_removed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    BEGIN
        PERFORM client_dictionary_lock(t.tenant_id, true) FROM (SELECT DISTINCT tenant_id FROM removed) t
            ORDER BY t.tenant_id;
        DELETE FROM client_search_words d
            USING (SELECT DISTINCT r.tenant_id, w FROM removed r, unnest(r.search_words) w) gone
            WHERE d.tenant_id = gone.tenant_id AND d.word = gone.w
              AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.tenant_id = d.tenant_id
                                                       AND c.search_words @> ARRAY[d.word]);
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.clients_reached_by(p_tenant uuid, p_reader bigint) RETURNS SETOF bigint
    LANGUAGE sql STABLE
    AS $$
        SELECT c.id FROM clients c WHERE c.tenant_id = p_tenant AND c.owner_id = p_reader
        UNION ALL
        SELECT h.client_id FROM chats h WHERE h.tenant_id = p_tenant AND h.assignee_user_id = p_reader
    $$;

CREATE FUNCTION public.create_default_pipeline(p_tenant uuid, p_locale text) RETURNS bigint
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

CREATE FUNCTION public.deal_stage_totals_follow() RETURNS trigger
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

CREATE FUNCTION public.deal_tag_stage_totals_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO deal_tag_stage_totals AS t (tenant_id, tag_id, stage_id, owner_id, deal_count, value_base_total)
        SELECT tenant_id, tag_id, stage_id, owner_id, sum(n), sum(v)
        FROM (SELECT n.tenant_id, x.tag_id, n.stage_id, coalesce(n.owner_id, 0) AS owner_id, 1 AS n,
                     coalesce(n.value_base, 0) AS v
              FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
              JOIN deal_tags x ON x.tenant_id = n.tenant_id AND x.deal_id = n.id
              WHERE (n.stage_id, n.owner_id, n.value_base) IS DISTINCT FROM (o.stage_id, o.owner_id, o.value_base)
              UNION ALL
              SELECT o.tenant_id, x.tag_id, o.stage_id, coalesce(o.owner_id, 0), -1, -coalesce(o.value_base, 0)
              FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
              JOIN deal_tags x ON x.tenant_id = o.tenant_id AND x.deal_id = o.id
              WHERE (n.stage_id, n.owner_id, n.value_base) IS DISTINCT FROM (o.stage_id, o.owner_id, o.value_base)) c
        GROUP BY 1, 2, 3, 4
        HAVING sum(n) <> 0 OR sum(v) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, tag_id, stage_id, owner_id) DO UPDATE
            SET deal_count = t.deal_count + EXCLUDED.deal_count,
                value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.deal_tag_stage_totals_deleting() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO deal_tag_stage_totals AS t (tenant_id, tag_id, stage_id, owner_id, deal_count, value_base_total)
        SELECT x.tenant_id, x.tag_id, OLD.stage_id, coalesce(OLD.owner_id, 0), -1, -coalesce(OLD.value_base, 0)
        FROM deal_tags x WHERE x.tenant_id = OLD.tenant_id AND x.deal_id = OLD.id
        ORDER BY x.tag_id
        ON CONFLICT (tenant_id, tag_id, stage_id, owner_id) DO UPDATE
            SET deal_count = t.deal_count + EXCLUDED.deal_count,
                value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        RETURN OLD;
    END
    $$;

CREATE FUNCTION public.deal_tag_stage_totals_tagged() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO deal_tag_stage_totals AS t (tenant_id, tag_id, stage_id, owner_id, deal_count, value_base_total)
            SELECT x.tenant_id, x.tag_id, d.stage_id, coalesce(d.owner_id, 0), count(*), coalesce(sum(d.value_base), 0)
            FROM new_rows x JOIN deals d ON d.tenant_id = x.tenant_id AND d.id = x.deal_id
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (tenant_id, tag_id, stage_id, owner_id) DO UPDATE
                SET deal_count = t.deal_count + EXCLUDED.deal_count,
                    value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        ELSE
            INSERT INTO deal_tag_stage_totals AS t (tenant_id, tag_id, stage_id, owner_id, deal_count, value_base_total)
            SELECT x.tenant_id, x.tag_id, d.stage_id, coalesce(d.owner_id, 0), -count(*), -coalesce(sum(d.value_base), 0)
            FROM old_rows x JOIN deals d ON d.tenant_id = x.tenant_id AND d.id = x.deal_id
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (tenant_id, tag_id, stage_id, owner_id) DO UPDATE
                SET deal_count = t.deal_count + EXCLUDED.deal_count,
                    value_base_total = t.value_base_total + EXCLUDED.value_base_total;
        END IF;
        RETURN NULL;
    END
    $$;

CREATE FUNCTION public.deal_title_board(p_patterns text[], p_tag bigint, p_stages bigint[], p_owner bigint, p_after_position double precision, p_after_id bigint, p_per integer) RETURNS TABLE(stage_id bigint, deal_count bigint, value_base_total numeric, first_ids bigint[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        longest text;
    BEGIN
        IF tenant IS NULL OR coalesce(cardinality(p_patterns), 0) = 0 THEN
            RETURN;
        END IF;
        SELECT p INTO longest FROM unnest(p_patterns) p ORDER BY length(p) DESC LIMIT 1;
        RETURN QUERY
            SELECT d.stage_id, count(*), coalesce(sum(d.value_base), 0),
                   (array_agg(d.id ORDER BY d.position, d.id))[1:p_per]
            FROM deals d
            WHERE d.tenant_id = tenant AND d.stage_id = ANY(p_stages)
              AND d.search LIKE longest AND d.search LIKE ALL(p_patterns)
              AND (p_owner IS NULL OR d.owner_id = p_owner)
              AND (p_tag IS NULL OR EXISTS (SELECT 1 FROM deal_tags x
                                           WHERE x.tenant_id = tenant AND x.deal_id = d.id AND x.tag_id = p_tag))
              AND (p_after_id IS NULL OR (d.position, d.id) > (p_after_position, p_after_id))
            GROUP BY d.stage_id;
    END
    $$;

CREATE FUNCTION public.deal_title_matches(p_patterns text[], p_cap integer) RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
        longest text;
        found bigint[];
    BEGIN
        IF tenant IS NULL OR coalesce(cardinality(p_patterns), 0) = 0 THEN
            RETURN '{}';
        END IF;
        SELECT p INTO longest FROM unnest(p_patterns) p ORDER BY length(p) DESC LIMIT 1;
        SELECT coalesce(array_agg(m.id), '{}') INTO found
            FROM (SELECT d.id FROM deals d
                  WHERE d.tenant_id = tenant AND d.search LIKE longest AND d.search LIKE ALL(p_patterns)
                  LIMIT p_cap) m;
        RETURN found;
    END
    $$;

CREATE FUNCTION public.erase_client(p_id bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
    DECLARE
        tenant uuid := app_tenant_id();
    BEGIN
        IF tenant IS NULL THEN
            RETURN false;
        END IF;
        DELETE FROM clients c WHERE c.tenant_id = tenant AND c.id = p_id;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        UPDATE audit_log a SET summary = '[erased]'
        WHERE a.tenant_id = tenant AND a.entity = 'client' AND a.entity_id = p_id::text;
        RETURN true;
    END
    $$;

CREATE FUNCTION public.fire_due_reminders(p_limit integer) RETURNS TABLE(tenant_id uuid, user_id bigint, notification_id bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        WITH due AS (
            SELECT q.tenant_id, q.id FROM tasks q
            WHERE q.remind_at <= now() AND q.reminded_at IS NULL AND q.done_at IS NULL
            ORDER BY q.remind_at LIMIT p_limit FOR UPDATE SKIP LOCKED
        ), fired AS (
            UPDATE tasks t SET reminded_at = now()
            FROM due WHERE t.tenant_id = due.tenant_id AND t.id = due.id
            RETURNING t.tenant_id, t.id, t.title, t.due_at, coalesce(t.assignee_user_id, t.created_by) AS user_id
        )
        INSERT INTO notifications (tenant_id, user_id, kind, data, url)
        SELECT f.tenant_id, f.user_id, 'reminder',
               jsonb_build_object('task_id', f.id, 'title', f.title, 'due_at', f.due_at),
               '/crm/tasks?task=' || f.id
        FROM fired f WHERE f.user_id IS NOT NULL
        RETURNING notifications.tenant_id, notifications.user_id, notifications.id
    $$;

CREATE FUNCTION public.isolate_tenant_table(tbl regclass) RETURNS void
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

CREATE FUNCTION public.list_tenants() RETURNS TABLE(id uuid, name text, created_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$ SELECT t.id, t.name, t.created_at FROM tenants t ORDER BY t.created_at, t.id $$;

CREATE FUNCTION public.mark_overdue_tasks(p_limit integer) RETURNS TABLE(tenant_id uuid, task_id bigint, assignee_user_id bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        UPDATE tasks t SET overdue_at = now()
        FROM (SELECT q.tenant_id, q.id FROM tasks q
              WHERE q.due_at <= now() AND q.overdue_at IS NULL AND q.done_at IS NULL
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE t.tenant_id = due.tenant_id AND t.id = due.id
        RETURNING t.tenant_id, t.id, t.assignee_user_id
    $$;

CREATE FUNCTION public.purge_archived_clients(p_after interval) RETURNS TABLE(purged bigint, storage_keys text[])
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        WITH files AS (
            SELECT a.storage_key FROM clients c
            JOIN chats h ON h.tenant_id = c.tenant_id AND h.client_id = c.id
            JOIN messages m ON m.tenant_id = h.tenant_id AND m.chat_id = h.id
            JOIN message_attachments a ON a.tenant_id = m.tenant_id AND a.message_id = m.id
            WHERE c.archived_at <= now() - p_after
        ), gone AS (
            DELETE FROM clients c WHERE c.archived_at <= now() - p_after RETURNING c.tenant_id, c.id
        ), redacted AS (
            UPDATE audit_log a SET summary = '[erased]'
            FROM gone WHERE a.tenant_id = gone.tenant_id AND a.entity = 'client' AND a.entity_id = gone.id::text
        ), logged AS (
            INSERT INTO audit_log (tenant_id, actor_name, action, entity, entity_id, summary)
            SELECT gone.tenant_id, 'system', 'purged', 'client', gone.id::text, '[erased]' FROM gone
        )
        SELECT (SELECT count(*) FROM gone), (SELECT coalesce(array_agg(storage_key), '{}') FROM files)
    $$;

CREATE FUNCTION public.purge_client_imports(p_after interval) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        WITH gone AS (
            DELETE FROM client_imports i
            WHERE coalesce(i.finished_at, i.created_at) <= now() - p_after AND i.status NOT IN ('queued', 'running')
            RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

CREATE FUNCTION public.purge_ended_sessions(p_idle interval) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        WITH gone AS (
            DELETE FROM sessions s WHERE s.expires_at <= now() OR s.last_seen_at <= now() - p_idle RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

CREATE FUNCTION public.purge_removed_custom_fields(p_after interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $_$
    DECLARE
        f record;
        n bigint := 0;
    BEGIN
        FOR f IN SELECT tenant_id, id, entity, key FROM custom_fields
                 WHERE removed_at < now() - p_after ORDER BY tenant_id, id LOOP
            EXECUTE format('UPDATE %I SET custom = custom - $2 WHERE tenant_id = $1 AND custom ? $2',
                           CASE f.entity WHEN 'client' THEN 'clients' WHEN 'company' THEN 'companies'
                                         ELSE 'deals' END)
                USING f.tenant_id, f.key;
            DELETE FROM custom_fields WHERE tenant_id = f.tenant_id AND id = f.id;
            n := n + 1;
        END LOOP;
        RETURN n;
    END
    $_$;

CREATE FUNCTION public.queue_telegram_notification() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM users u
                   WHERE u.tenant_id = NEW.tenant_id AND u.id = NEW.user_id
                     AND u.telegram_chat_id IS NOT NULL AND u.telegram_channel_id IS NOT NULL) THEN
            NEW.telegram_state := 'pending';
            NEW.telegram_due_at := now();
        END IF;
        RETURN NEW;
    END
    $$;

CREATE FUNCTION public.refresh_client_statistics() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
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

CREATE FUNCTION public.search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) RETURNS TABLE(ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    SET enable_bitmapscan TO 'off'
    SET max_parallel_workers_per_gather TO '0'
    AS $_$
    DECLARE
        tenant uuid := app_tenant_id();
        words int := coalesce(cardinality(p_patterns), 0);
        filter text := 'm.tenant_id = $1 AND m.archived_at IS NULL' || client_search_filter(words)
            || client_search_dates(p_from, p_to);
        sort text := client_search_order(p_by_name);
        prefix_rows constant int := 500;
        -- The probe sorts what it finds up to this many; past it, walking the order is cheaper.
        -- Twenty times the cap: 6,800 "sergey ivanov" at a million clients are sorted in
        -- 15 ms, where a probe stopping at 5,000 (12 ms) and the walk after it took 18.
        probe_max int := 20 * p_cap;
        scanned int;
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words > 0 THEN
            -- The first rows in order: the whole tenant (an exact count), or a page of them.
            EXECUTE 'SELECT count(*), coalesce(array_agg(m.id ORDER BY m.n) FILTER (WHERE true'
                || client_search_filter(words) || '), ''{}'') FROM (SELECT m.id, m.search, row_number() OVER () AS n'
                || ' FROM (SELECT m.id, m.search FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL'
                || client_search_dates(p_from, p_to) || sort || ' LIMIT $5) m) m'
                INTO scanned, found USING tenant, p_patterns, p_from, p_to, prefix_rows;
            n := cardinality(found);
            IF scanned < prefix_rows OR n > p_offset + p_limit THEN
                RETURN QUERY SELECT coalesce(found[p_offset + 1 : p_offset + p_limit], '{}'), n, scanned < prefix_rows;
                RETURN;
            END IF;
            -- Matches in them, if not a page, tell how far a walk in order must read:
            -- (offset + limit + 1) / n times as far. Within four, walking beats the probe.
            IF n > 0 AND (p_offset + p_limit + 1) <= 4 * n THEN
                RETURN QUERY EXECUTE
                    -- A page not full was read to the end: its count is exact. A full one says
                    -- "at least" up to it; an empty one (past the end) only what the prefix saw.
                    'SELECT coalesce(array_agg(p.id), ''{}''),'
                    || ' CASE WHEN count(*) = 0 THEN $7 ELSE greatest($7, $5 + count(*)) END,'
                    || ' count(*) > 0 AND count(*) < $6 FROM (SELECT m.id FROM clients m WHERE '
                    || filter || sort || ' LIMIT $6 OFFSET $5) p'
                    USING tenant, p_patterns, p_from, p_to, p_offset, p_limit, n;
                RETURN;
            END IF;
            SELECT p.ids, p.total INTO found, n
                FROM client_search_probe(tenant, p_patterns, p_from, p_to, p_by_name, p_limit, p_offset, probe_max) p;
            IF n <= probe_max THEN
                RETURN QUERY SELECT found, n, true;
                RETURN;
            END IF;
        ELSE
            EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM clients m WHERE ' || filter || ' LIMIT $5) x'
                INTO n USING tenant, p_patterns, p_from, p_to, p_cap + 1;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT coalesce(array_agg(p.id), ''{}''), least($7, $8), $7 <= $8 FROM (SELECT m.id FROM clients m WHERE '
            || filter || sort || ' LIMIT $5 OFFSET $6) p'
            USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, n, p_cap;
    END
    $_$;

CREATE FUNCTION public.search_custom_clients(p_custom jsonb, p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) RETURNS TABLE(ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    SET max_parallel_workers_per_gather TO '0'
    AS $_$
    DECLARE
        tenant uuid := app_tenant_id();
        checks text := ' AND m.custom @> $8' || client_search_filter(coalesce(cardinality(p_patterns), 0))
            || CASE WHEN p_tag IS NULL THEN ''
                    ELSE ' AND EXISTS (SELECT 1 FROM client_tags g WHERE g.tenant_id = m.tenant_id'
                         || ' AND g.client_id = m.id AND g.tag_id = $9)' END
            || client_search_dates(p_from, p_to);
        live text := ' FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL';
        sort text := client_search_order(p_by_name);
        prefix_rows constant int := 500;
        walk_max constant int := 4000;
        gather_max constant int := 5000;
        scanned int;
        found bigint[];
        candidates bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        EXECUTE 'SELECT count(*), coalesce(array_agg(m.id ORDER BY m.n) FILTER (WHERE true' || checks
            || '), ''{}'') FROM (SELECT m.*, row_number() OVER () AS n FROM (SELECT m.*' || live || sort
            || ' LIMIT $5) m) m'
            INTO scanned, found USING tenant, p_patterns, p_from, p_to, prefix_rows, p_offset, p_cap, p_custom, p_tag;
        n := cardinality(found);
        IF scanned < prefix_rows OR n > p_offset + p_limit THEN
            RETURN QUERY SELECT coalesce(found[p_offset + 1 : p_offset + p_limit], '{}'), least(n, p_cap),
                                scanned < prefix_rows AND n <= p_cap;
            RETURN;
        END IF;
        IF n = 0 OR (p_offset + p_limit + 1)::bigint * prefix_rows / n > walk_max THEN
            EXECUTE 'SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id' || live || checks || ' LIMIT $5) m'
                INTO candidates USING tenant, p_patterns, p_from, p_to, gather_max + 1, p_offset, p_cap, p_custom, p_tag;
        END IF;
        IF candidates IS NOT NULL AND cardinality(candidates) <= gather_max THEN
            RETURN QUERY EXECUTE
                'WITH hits AS MATERIALIZED (SELECT m.id, m.first_name, m.last_name, m.updated_at' || live
                || ' AND m.id = ANY($10)' || checks || ')'
                || ' SELECT (SELECT coalesce(array_agg(m.id), ''{}'') FROM (SELECT m.id FROM hits m' || sort
                || ' LIMIT $5 OFFSET $6) m), (SELECT count(*) FROM hits), true'
                USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_custom, p_tag, candidates;
            RETURN;
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT m.id' || live || checks || sort
            || ' LIMIT $5 OFFSET $6) p'
            INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_custom, p_tag;
        RETURN QUERY SELECT found,
            CASE WHEN cardinality(found) = 0 AND p_offset > 0 THEN n ELSE p_offset + cardinality(found) END,
            cardinality(found) < p_limit AND (cardinality(found) > 0 OR p_offset = 0);
    END
    $_$;

CREATE FUNCTION public.search_fold(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT translate(
            replace(replace(replace(replace(replace(replace(replace(replace(
                translate(lower(p_text),
                          'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯЎҚҒҲÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŞĞ',
                          'абвгдеёжзийклмнопрстуфхцчшщъыьэюяўқғҳàáâãäåçèéêëìíîïñòóôõöøùúûüýşğ'),
                'ё', 'yo'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'щ', 'sh'), 'ю', 'yu'), 'я', 'ya'), 'ş', 'sh'),
            'абвгдежзийклмнопрстуфхыэўқғҳxqàáâãäåçèéêëìíîïñòóôõöøùúûüýğʻʼ''‘’`ъь',
            'abvgdejziyklmnoprstufhyeokghhkaaaaaaceeeeiiiinoooooouuuuyg')
    $$;

CREATE FUNCTION public.search_inbox(p_patterns text[], p_words text, p_unread boolean, p_assignee_kind text, p_assignee bigint, p_status text, p_limit integer, p_offset integer, p_cap integer) RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $_$
    DECLARE
        tenant uuid := app_tenant_id();
        words tsquery := plainto_tsquery('simple', coalesce(p_words, ''));
        conds text := 'h.tenant_id = $1 AND m.archived_at IS NULL AND h.last_message_at IS NOT NULL'
            || CASE WHEN p_unread THEN ' AND h.unread_count > 0' ELSE '' END
            || CASE p_assignee_kind
                   WHEN 'none' THEN ' AND h.assignee_user_id IS NULL'
                   WHEN 'user' THEN format(' AND h.assignee_user_id = %s', p_assignee::bigint)
                   ELSE '' END
            || CASE WHEN p_status IS NULL THEN '' ELSE format(' AND h.status = %L', p_status) END;
        joined text := ' JOIN clients m ON m.tenant_id = h.tenant_id AND m.id = h.client_id WHERE ';
        chats text := 'FROM chats h' || joined || conds;
        sort text := ' ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC';
        by_client text := CASE WHEN coalesce(cardinality(p_patterns), 0) = 0 THEN 'false'
                               ELSE '(true' || client_search_filter(cardinality(p_patterns)) || ')' END;
        by_text text := CASE WHEN numnode(words) = 0 THEN 'false'
                             ELSE 'EXISTS (SELECT 1 FROM messages t WHERE t.tenant_id = h.tenant_id'
                                  || ' AND t.chat_id = h.id AND t.search @@ $3)' END;
        prefix_rows constant int := 200;
        scanned int;
        found bigint[];
        clients_found bigint[] := '{}';
        texts_found bigint[] := '{}';
    BEGIN
        IF tenant IS NULL OR (by_client = 'false' AND by_text = 'false')
           OR p_assignee_kind NOT IN ('any', 'none', 'user') OR (p_assignee_kind = 'user' AND p_assignee IS NULL) THEN
            RETURN '{}';
        END IF;
        EXECUTE 'SELECT coalesce(max(h.prefix), 0), coalesce(array_agg(h.id ORDER BY h.n), ''{}'') FROM (SELECT h.id, h.n, h.prefix'
            || ' FROM (SELECT h.*, row_number() OVER () AS n, count(*) OVER () AS prefix'
            || ' FROM (SELECT h.id, h.tenant_id, m.search AS client_search ' || chats || sort || ' LIMIT $4) h) h'
            || ' CROSS JOIN LATERAL (SELECT h.client_search AS search) m'
            || ' WHERE ' || by_client || ' OR ' || by_text || ' LIMIT $5) h'
            INTO scanned, found USING tenant, p_patterns, words, prefix_rows, p_offset + p_limit + 1;
        IF (scanned < prefix_rows AND cardinality(found) > 0) OR cardinality(found) > p_offset + p_limit THEN
            RETURN coalesce(found[p_offset + 1 : p_offset + p_limit], '{}');
        END IF;

        IF by_client <> 'false' THEN
            clients_found := client_matches_by_trigram(tenant, p_patterns, NULL, NULL, p_cap + 1);
        END IF;
        IF by_text <> 'false' THEN
            texts_found := chat_matches_by_text(tenant, words, p_cap + 1);
        END IF;
        -- Both found in full: one pass over the chats of the clients and the chats of the
        -- messages found, in the view and in order.
        IF cardinality(clients_found) <= p_cap AND cardinality(texts_found) <= p_cap THEN
            EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id ' || chats
                || ' AND (h.client_id = ANY($2) OR h.id = ANY($3))' || sort || ' LIMIT $4 OFFSET $5) p'
                INTO found USING tenant, clients_found, texts_found, p_limit, p_offset;
            RETURN found;
        END IF;
        IF cardinality(clients_found) <= p_cap THEN
            by_client := 'h.client_id = ANY($4)';
        END IF;
        IF cardinality(texts_found) <= p_cap THEN
            by_text := 'h.id = ANY($5)';
        END IF;
        EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT h.id ' || chats || ' AND (' || by_client
            || ' OR ' || by_text || ')' || sort || ' LIMIT $6 OFFSET $7) p'
            INTO found USING tenant, p_patterns, words, clients_found, texts_found, p_limit, p_offset;
        RETURN found;
    END
    $_$;

CREATE FUNCTION public.search_tagged_clients(p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) RETURNS TABLE(ids bigint[], total bigint, exact boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    SET max_parallel_workers_per_gather TO '0'
    AS $_$
    DECLARE
        tenant uuid := app_tenant_id();
        words int := coalesce(cardinality(p_patterns), 0);
        dates text := client_search_dates(p_from, p_to);
        sort text := CASE WHEN p_by_name THEN ' ORDER BY g.first_key, g.last_key, g.client_id'
                          ELSE ' ORDER BY g.client_updated_at DESC, g.client_id DESC' END;
        live text := ' FROM client_tags g WHERE g.tenant_id = $1 AND g.tag_id = $8 AND NOT g.archived';
        tagged text := ' FROM client_tags g'
            || CASE WHEN words > 0 OR dates <> '' THEN ' JOIN clients m ON m.tenant_id = g.tenant_id AND m.id = g.client_id'
                    ELSE '' END
            || ' WHERE g.tenant_id = $1 AND g.tag_id = $8 AND NOT g.archived' || dates;
        gather_max constant int := 2000;
        prefix_rows constant int := 500;
        -- A walk reads a tag's row and its client's in about 6 µs: 4,000 of them cost about
        -- what gathering the words' matches does (21 ms for "dilno", 28,572 clients).
        walk_max constant int := 4000;
        candidates bigint[];
        found bigint[];
        n bigint;
    BEGIN
        IF tenant IS NULL THEN
            RETURN;
        END IF;
        IF words = 0 THEN
            EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT g.client_id AS id' || tagged || sort
                || ' LIMIT $5 OFFSET $6) p'
                INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
            EXECUTE 'SELECT count(*) FROM (SELECT 1' || tagged || ' LIMIT $7 + 1) x'
                INTO n USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
            RETURN QUERY SELECT found, least(n, p_cap), n <= p_cap;
            RETURN;
        END IF;
        EXECUTE 'SELECT count(*) FROM (SELECT 1' || live || ' LIMIT $5) x'
            INTO n USING tenant, p_patterns, p_from, p_to, gather_max + 1, p_offset, p_cap, p_tag;
        IF n > gather_max THEN
            EXECUTE 'SELECT coalesce(array_agg(p.id ORDER BY p.n) FILTER (WHERE p.hit), ''{}'') FROM'
                || ' (SELECT m.client_id AS id, row_number() OVER () AS n, (true' || client_search_filter(words)
                || ') AS hit FROM (SELECT g.client_id, m.search' || tagged || sort || ' LIMIT $5) m) p'
                INTO found USING tenant, p_patterns, p_from, p_to, prefix_rows, p_offset, p_cap, p_tag;
            n := cardinality(found);
            IF n > p_offset + p_limit THEN
                RETURN QUERY SELECT found[p_offset + 1 : p_offset + p_limit], least(n, p_cap), false;
                RETURN;
            END IF;
            -- Matches in the prefix tell how far a walk must read: within walk_max rows, walk.
            IF n = 0 OR (p_offset + p_limit + 1)::bigint * prefix_rows / n > walk_max THEN
                candidates := client_matches_by_trigram(tenant, p_patterns, p_from, p_to, gather_max + 1);
            END IF;
            IF candidates IS NULL OR cardinality(candidates) > gather_max THEN
                EXECUTE 'SELECT coalesce(array_agg(p.id), ''{}'') FROM (SELECT g.client_id AS id' || tagged
                    || client_search_filter(words) || sort || ' LIMIT $5 OFFSET $6) p'
                    INTO found USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag;
                -- A page read (not full: to the end) counts all before it; an empty one past
                -- the end only knows what the prefix saw (n).
                RETURN QUERY SELECT found,
                    CASE WHEN cardinality(found) = 0 AND p_offset > 0 THEN n ELSE p_offset + cardinality(found) END,
                    cardinality(found) < p_limit AND (cardinality(found) > 0 OR p_offset = 0);
                RETURN;
            END IF;
            tagged := tagged || ' AND g.client_id = ANY($9)';
        END IF;
        RETURN QUERY EXECUTE
            'WITH hits AS MATERIALIZED (SELECT g.client_id, g.client_updated_at, g.first_key, g.last_key'
            || tagged || client_search_filter(words) || ')'
            || ' SELECT (SELECT coalesce(array_agg(p.client_id), ''{}'') FROM (SELECT g.client_id FROM hits g'
            || sort || ' LIMIT $5 OFFSET $6) p), (SELECT count(*) FROM hits), true'
            USING tenant, p_patterns, p_from, p_to, p_limit, p_offset, p_cap, p_tag, candidates;
    END
    $_$;

CREATE FUNCTION public.telegram_channel(p_webhook_key bytea) RETURNS TABLE(tenant_id uuid, channel_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        SELECT c.tenant_id, c.id FROM channels c WHERE c.webhook_key = p_webhook_key
    $$;

CREATE FUNCTION public.twilio_channels(p_account_sid text, p_kind text, p_number text, p_service_sid text) RETURNS TABLE(tenant_id uuid, channel_id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        SELECT c.tenant_id, c.id FROM channels c
        WHERE c.account_sid = p_account_sid AND c.kind = p_kind
          AND (c.messaging_service_sid = p_service_sid OR c.sender = p_number)
        ORDER BY (c.messaging_service_sid = p_service_sid) DESC NULLS LAST, c.id
        LIMIT 20
    $$;

CREATE FUNCTION public.wake_snoozed_chats(p_limit integer) RETURNS TABLE(tenant_id uuid, chat_id bigint)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
        UPDATE chats h SET status = 'open', snoozed_until = NULL
        FROM (SELECT q.tenant_id, q.id FROM chats q WHERE q.snoozed_until <= now()
              ORDER BY q.snoozed_until LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE h.tenant_id = due.tenant_id AND h.id = due.id
        RETURNING h.tenant_id, h.id
    $$;

CREATE TABLE public.activities (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    kind text NOT NULL,
    actor_type text NOT NULL,
    actor_user_id bigint,
    actor_name text NOT NULL,
    summary text DEFAULT ''::text NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    happened_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT activities_actor_type_check CHECK ((actor_type = ANY (ARRAY['user'::text, 'client'::text, 'system'::text, 'automation'::text]))),
    CONSTRAINT activities_check CHECK ((num_nonnulls(client_id, company_id, deal_id) = 1)),
    CONSTRAINT activities_data_check CHECK ((jsonb_typeof(data) = 'object'::text)),
    CONSTRAINT activities_kind_check CHECK ((kind = ANY (ARRAY['created'::text, 'message_in'::text, 'message_out'::text, 'note'::text, 'comment'::text, 'stage_moved'::text, 'field_changed'::text, 'tagged'::text, 'task_created'::text, 'task_done'::text, 'task_reopened'::text, 'merged'::text, 'automation'::text])))
);

ALTER TABLE ONLY public.activities FORCE ROW LEVEL SECURITY;

ALTER TABLE public.activities ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.activities_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.api_tokens (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    name text NOT NULL,
    token_hash bytea NOT NULL,
    prefix text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_tokens_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 100)))
);

ALTER TABLE ONLY public.api_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE public.api_tokens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.api_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.audit_log (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    actor_user_id bigint,
    actor_name text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text NOT NULL,
    summary text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.audit_log FORCE ROW LEVEL SECURITY;

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.channels (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    account_sid text,
    sender text,
    messaging_service_sid text,
    webhook_key bytea,
    secrets bytea NOT NULL,
    secret_hint text NOT NULL,
    bot_username text,
    notify_chat_id text,
    notify_locale text DEFAULT 'en'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    health_ok_at timestamp with time zone,
    health_error_code text,
    health_error text,
    health_error_at timestamp with time zone,
    CONSTRAINT channels_account_sid_check CHECK ((account_sid ~ '^AC[0-9a-fA-F]{32}$'::text)),
    CONSTRAINT channels_check CHECK (((kind = 'telegram'::text) = (webhook_key IS NOT NULL))),
    CONSTRAINT channels_check1 CHECK (((kind = 'telegram'::text) = (account_sid IS NULL))),
    CONSTRAINT channels_check2 CHECK (((kind = 'telegram'::text) OR ((sender IS NULL) <> (messaging_service_sid IS NULL)))),
    CONSTRAINT channels_check3 CHECK (((kind = 'telegram'::text) OR (notify_chat_id IS NULL))),
    CONSTRAINT channels_health_error_check CHECK (((health_error_code IS NULL) = (health_error_at IS NULL))),
    CONSTRAINT channels_kind_check CHECK ((kind = ANY (ARRAY['twilio_sms'::text, 'twilio_whatsapp'::text, 'telegram'::text]))),
    CONSTRAINT channels_messaging_service_sid_check CHECK ((messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'::text)),
    CONSTRAINT channels_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 100))),
    CONSTRAINT channels_notify_locale_check CHECK ((notify_locale = ANY (ARRAY['en'::text, 'ru'::text, 'uz'::text]))),
    CONSTRAINT channels_sender_check CHECK ((sender ~ '^\+[1-9][0-9]{6,14}$'::text))
);

ALTER TABLE ONLY public.channels FORCE ROW LEVEL SECURITY;

ALTER TABLE public.channels ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.channels_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.chat_members (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    chat_id bigint NOT NULL,
    user_id bigint,
    contact_id bigint,
    transport text,
    transport_meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT chat_members_check CHECK (((user_id IS NULL) <> (contact_id IS NULL))),
    CONSTRAINT chat_members_check1 CHECK (((contact_id IS NULL) = (transport IS NULL))),
    CONSTRAINT chat_members_transport_check CHECK ((transport = ANY (ARRAY['sms'::text, 'whatsapp'::text, 'telegram'::text])))
);

ALTER TABLE ONLY public.chat_members FORCE ROW LEVEL SECURITY;

ALTER TABLE public.chat_members ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.chat_members_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.chat_tags (
    tenant_id uuid NOT NULL,
    chat_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.chat_tags FORCE ROW LEVEL SECURITY;

CREATE TABLE public.chats (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    client_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_message_id bigint,
    last_message_at timestamp with time zone,
    unread_count integer DEFAULT 0 NOT NULL,
    assignee_user_id bigint,
    status text DEFAULT 'open'::text NOT NULL,
    snoozed_until timestamp with time zone,
    CONSTRAINT chats_snooze_check CHECK (((status = 'snoozed'::text) = (snoozed_until IS NOT NULL))),
    CONSTRAINT chats_status_check CHECK ((status = ANY (ARRAY['open'::text, 'pending'::text, 'resolved'::text, 'snoozed'::text]))),
    CONSTRAINT chats_unread_count_check CHECK ((unread_count >= 0))
);

ALTER TABLE ONLY public.chats FORCE ROW LEVEL SECURITY;

ALTER TABLE public.chats ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.chats_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.client_contacts (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    client_id bigint NOT NULL,
    type text NOT NULL,
    value text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT client_contacts_type_check CHECK ((type = ANY (ARRAY['email'::text, 'phone'::text, 'telegram'::text, 'whatsapp'::text, 'other'::text]))),
    CONSTRAINT client_contacts_value_check CHECK (((length(value) >= 1) AND (length(value) <= 254)))
);

ALTER TABLE ONLY public.client_contacts FORCE ROW LEVEL SECURITY;

ALTER TABLE public.client_contacts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.client_contacts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.client_import_issues (
    tenant_id uuid NOT NULL,
    import_id bigint NOT NULL,
    row_no integer NOT NULL,
    seq smallint NOT NULL,
    field text,
    code text NOT NULL,
    client_id bigint,
    same_as_row integer
);

ALTER TABLE ONLY public.client_import_issues FORCE ROW LEVEL SECURITY;

CREATE TABLE public.client_imports (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    created_by bigint NOT NULL,
    file_name text NOT NULL,
    content text NOT NULL,
    header text[] NOT NULL,
    sample jsonb NOT NULL,
    rows_total integer NOT NULL,
    mapping text,
    duplicates text DEFAULT 'skip'::text NOT NULL,
    dry_run boolean DEFAULT false NOT NULL,
    status text DEFAULT 'uploaded'::text NOT NULL,
    error text,
    run_token uuid,
    heartbeat_at timestamp with time zone,
    rows_done integer DEFAULT 0 NOT NULL,
    created integer DEFAULT 0 NOT NULL,
    merged integer DEFAULT 0 NOT NULL,
    skipped integer DEFAULT 0 NOT NULL,
    failed integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT client_imports_duplicates_check CHECK ((duplicates = ANY (ARRAY['skip'::text, 'merge'::text]))),
    CONSTRAINT client_imports_file_name_check CHECK (((length(file_name) >= 1) AND (length(file_name) <= 255))),
    CONSTRAINT client_imports_rows_total_check CHECK ((rows_total > 0)),
    CONSTRAINT client_imports_status_check CHECK ((status = ANY (ARRAY['uploaded'::text, 'queued'::text, 'running'::text, 'checked'::text, 'done'::text, 'failed'::text, 'cancelled'::text])))
);

ALTER TABLE ONLY public.client_imports FORCE ROW LEVEL SECURITY;

ALTER TABLE public.client_imports ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.client_imports_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.client_merges (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    survivor_id bigint NOT NULL,
    merged_id bigint NOT NULL,
    merged_at timestamp with time zone DEFAULT now() NOT NULL,
    contact_ids bigint[] NOT NULL,
    message_ids bigint[] NOT NULL,
    member_ids bigint[] NOT NULL,
    filled jsonb NOT NULL,
    undone_at timestamp with time zone,
    deal_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    tag_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    note_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    task_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    activity_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    CONSTRAINT client_merges_check CHECK ((survivor_id <> merged_id))
);

ALTER TABLE ONLY public.client_merges FORCE ROW LEVEL SECURITY;

ALTER TABLE public.client_merges ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.client_merges_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.client_search_words (
    tenant_id uuid NOT NULL,
    word text NOT NULL
);

ALTER TABLE ONLY public.client_search_words FORCE ROW LEVEL SECURITY;

CREATE TABLE public.client_tags (
    tenant_id uuid NOT NULL,
    client_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL,
    client_updated_at timestamp with time zone NOT NULL,
    first_key text NOT NULL,
    last_key text NOT NULL,
    archived boolean DEFAULT false NOT NULL
);

ALTER TABLE ONLY public.client_tags FORCE ROW LEVEL SECURITY;

CREATE TABLE public.clients (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text,
    middle_name text,
    phone text,
    email text,
    address text,
    date_of_birth date,
    gender text,
    pin text,
    passport_series text,
    passport_number text,
    comments text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    archived_at timestamp with time zone,
    email_folded text GENERATED ALWAYS AS (lower(email)) STORED,
    merged_into bigint,
    search text GENERATED ALWAYS AS (public.search_fold(((((((((((first_name || ' '::text) || COALESCE(middle_name, ''::text)) || ' '::text) || COALESCE(last_name, ''::text)) || ' '::text) || COALESCE(phone, ''::text)) || ' '::text) || COALESCE(email, ''::text)) || ' '::text) || COALESCE(pin, ''::text)))) STORED,
    search_words text[] GENERATED ALWAYS AS (public.client_words(public.search_fold(((((((((((first_name || ' '::text) || COALESCE(middle_name, ''::text)) || ' '::text) || COALESCE(last_name, ''::text)) || ' '::text) || COALESCE(phone, ''::text)) || ' '::text) || COALESCE(email, ''::text)) || ' '::text) || COALESCE(pin, ''::text))))) STORED,
    company_id bigint,
    job_title text,
    owner_id bigint,
    custom jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT clients_custom_check CHECK ((jsonb_typeof(custom) = 'object'::text)),
    CONSTRAINT clients_first_name_check CHECK (((length(btrim(first_name)) >= 1) AND (length(btrim(first_name)) <= 100))),
    CONSTRAINT clients_gender_check CHECK ((gender = ANY (ARRAY['male'::text, 'female'::text, 'other'::text]))),
    CONSTRAINT clients_job_title_check CHECK (((length(job_title) >= 1) AND (length(job_title) <= 200))),
    CONSTRAINT clients_merged_archived_check CHECK (((merged_into IS NULL) OR (archived_at IS NOT NULL))),
    CONSTRAINT clients_phone_check CHECK ((phone ~ '^\+[1-9][0-9]{7,14}$'::text)),
    CONSTRAINT clients_pin_check CHECK ((pin ~ '^[0-9]{4,20}$'::text))
);

ALTER TABLE ONLY public.clients FORCE ROW LEVEL SECURITY;

ALTER TABLE public.clients ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.clients_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.companies (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    website text,
    phone text,
    email text,
    address text,
    tax_id text,
    comments text,
    owner_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    search text GENERATED ALWAYS AS (public.search_fold(((((((((name || ' '::text) || COALESCE(email, ''::text)) || ' '::text) || COALESCE(phone, ''::text)) || ' '::text) || COALESCE(website, ''::text)) || ' '::text) || COALESCE(tax_id, ''::text)))) STORED,
    custom jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT companies_address_check CHECK (((length(address) >= 1) AND (length(address) <= 500))),
    CONSTRAINT companies_comments_check CHECK (((length(comments) >= 1) AND (length(comments) <= 5000))),
    CONSTRAINT companies_custom_check CHECK ((jsonb_typeof(custom) = 'object'::text)),
    CONSTRAINT companies_email_check CHECK (((length(email) >= 1) AND (length(email) <= 254))),
    CONSTRAINT companies_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT companies_phone_check CHECK (((length(phone) >= 1) AND (length(phone) <= 20))),
    CONSTRAINT companies_tax_id_check CHECK (((length(tax_id) >= 1) AND (length(tax_id) <= 50))),
    CONSTRAINT companies_website_check CHECK (((length(website) >= 1) AND (length(website) <= 300)))
);

ALTER TABLE ONLY public.companies FORCE ROW LEVEL SECURITY;

ALTER TABLE public.companies ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.companies_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.company_tags (
    tenant_id uuid NOT NULL,
    company_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.company_tags FORCE ROW LEVEL SECURITY;

CREATE TABLE public.currency_rates (
    tenant_id uuid NOT NULL,
    currency text NOT NULL,
    rate numeric(22,10) NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT currency_rates_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT currency_rates_rate_check CHECK ((rate > (0)::numeric))
);

ALTER TABLE ONLY public.currency_rates FORCE ROW LEVEL SECURITY;

CREATE TABLE public.custom_fields (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    entity text NOT NULL,
    key text NOT NULL,
    label text NOT NULL,
    kind text NOT NULL,
    options jsonb DEFAULT '[]'::jsonb NOT NULL,
    required boolean DEFAULT false NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    removed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT custom_fields_entity_check CHECK ((entity = ANY (ARRAY['client'::text, 'company'::text, 'deal'::text]))),
    CONSTRAINT custom_fields_key_check CHECK ((key ~ '^[a-z][a-z0-9_]{0,39}$'::text)),
    CONSTRAINT custom_fields_kind_check CHECK ((kind = ANY (ARRAY['text'::text, 'number'::text, 'date'::text, 'boolean'::text, 'select'::text, 'multiselect'::text, 'url'::text, 'email'::text, 'phone'::text]))),
    CONSTRAINT custom_fields_label_check CHECK (((length(label) >= 1) AND (length(label) <= 100))),
    CONSTRAINT custom_fields_options_check CHECK ((jsonb_typeof(options) = 'array'::text))
);

ALTER TABLE ONLY public.custom_fields FORCE ROW LEVEL SECURITY;

ALTER TABLE public.custom_fields ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.custom_fields_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.deal_moves (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    deal_id bigint NOT NULL,
    from_stage_id bigint,
    from_stage_name text,
    to_stage_id bigint,
    to_stage_name text NOT NULL,
    user_id bigint,
    moved_at timestamp with time zone DEFAULT now() NOT NULL,
    seconds_in_previous bigint,
    CONSTRAINT deal_moves_seconds_in_previous_check CHECK ((seconds_in_previous >= 0))
);

ALTER TABLE ONLY public.deal_moves FORCE ROW LEVEL SECURITY;

ALTER TABLE public.deal_moves ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.deal_moves_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.deal_stage_totals (
    tenant_id uuid NOT NULL,
    stage_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    deal_count bigint DEFAULT 0 NOT NULL,
    value_base_total numeric(24,2) DEFAULT 0 NOT NULL
);

ALTER TABLE ONLY public.deal_stage_totals FORCE ROW LEVEL SECURITY;

CREATE TABLE public.deal_tag_stage_totals (
    tenant_id uuid NOT NULL,
    tag_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    deal_count bigint DEFAULT 0 NOT NULL,
    value_base_total numeric(24,2) DEFAULT 0 NOT NULL
);

ALTER TABLE ONLY public.deal_tag_stage_totals FORCE ROW LEVEL SECURITY;

CREATE TABLE public.deal_tags (
    tenant_id uuid NOT NULL,
    deal_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.deal_tags FORCE ROW LEVEL SECURITY;

CREATE TABLE public.deals (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    title text NOT NULL,
    pipeline_id bigint NOT NULL,
    stage_id bigint NOT NULL,
    "position" double precision NOT NULL,
    value numeric(18,2),
    currency text,
    value_base numeric(18,2),
    client_id bigint,
    owner_id bigint,
    expected_close_on date,
    lost_reason text,
    stage_entered_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    company_id bigint,
    search text GENERATED ALWAYS AS (public.search_fold(title)) STORED,
    custom jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT deals_check CHECK ((((value IS NULL) = (currency IS NULL)) AND ((value IS NULL) = (value_base IS NULL)))),
    CONSTRAINT deals_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT deals_custom_check CHECK ((jsonb_typeof(custom) = 'object'::text)),
    CONSTRAINT deals_lost_reason_check CHECK (((length(lost_reason) >= 1) AND (length(lost_reason) <= 500))),
    CONSTRAINT deals_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200))),
    CONSTRAINT deals_value_base_check CHECK ((value_base >= (0)::numeric)),
    CONSTRAINT deals_value_check CHECK ((value >= (0)::numeric))
);

ALTER TABLE ONLY public.deals FORCE ROW LEVEL SECURITY;

ALTER TABLE public.deals ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.deals_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.job_items (
    tenant_id uuid NOT NULL,
    job_id bigint NOT NULL,
    item_id bigint NOT NULL
);

ALTER TABLE ONLY public.job_items FORCE ROW LEVEL SECURITY;

CREATE TABLE public.jobs (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    entity text NOT NULL,
    action text NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_by bigint NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    done integer DEFAULT 0 NOT NULL,
    failed integer DEFAULT 0 NOT NULL,
    failures jsonb DEFAULT '[]'::jsonb NOT NULL,
    cursor bigint DEFAULT 0 NOT NULL,
    run_token uuid,
    heartbeat_at timestamp with time zone,
    result_key text,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT jobs_action_check CHECK ((action = ANY (ARRAY['add_tags'::text, 'remove_tags'::text, 'set_owner'::text, 'move_stage'::text, 'delete'::text, 'export'::text, 'send_template'::text]))),
    CONSTRAINT jobs_entity_check CHECK ((entity = ANY (ARRAY['clients'::text, 'companies'::text, 'deals'::text]))),
    CONSTRAINT jobs_failures_check CHECK ((jsonb_typeof(failures) = 'array'::text)),
    CONSTRAINT jobs_params_check CHECK ((jsonb_typeof(params) = 'object'::text)),
    CONSTRAINT jobs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'done'::text, 'failed'::text])))
);

ALTER TABLE ONLY public.jobs FORCE ROW LEVEL SECURITY;

ALTER TABLE public.jobs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.login_failures (
    id bigint NOT NULL,
    email text NOT NULL,
    ip text NOT NULL,
    failed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.login_failures ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.login_failures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.media_downloads (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    message_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    source text NOT NULL,
    file_name text,
    content_type text,
    attempts integer DEFAULT 0 NOT NULL,
    due_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text
);

ALTER TABLE ONLY public.media_downloads FORCE ROW LEVEL SECURITY;

ALTER TABLE public.media_downloads ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.media_downloads_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.message_attachments (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    message_id bigint NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    storage_key text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT message_attachments_file_name_check CHECK (((length(file_name) >= 1) AND (length(file_name) <= 255))),
    CONSTRAINT message_attachments_size_bytes_check CHECK ((size_bytes >= 0))
);

ALTER TABLE ONLY public.message_attachments FORCE ROW LEVEL SECURITY;

ALTER TABLE public.message_attachments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.message_attachments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.message_attempts (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    message_id bigint NOT NULL,
    channel_id bigint,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    ended_at timestamp with time zone,
    outcome text,
    provider_message_id text,
    error text,
    CONSTRAINT message_attempts_check CHECK (((ended_at IS NULL) = (outcome IS NULL))),
    CONSTRAINT message_attempts_outcome_check CHECK ((outcome = ANY (ARRAY['sent'::text, 'refused'::text, 'adopted'::text, 'absent'::text, 'unknown'::text])))
);

ALTER TABLE ONLY public.message_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE public.message_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.message_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.message_deliveries (
    tenant_id uuid NOT NULL,
    message_id bigint NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    due_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text,
    claim uuid,
    last_error_code text
);

ALTER TABLE ONLY public.message_deliveries FORCE ROW LEVEL SECURITY;

CREATE TABLE public.message_templates (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    title text,
    shortcut text,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT message_templates_body_check CHECK (((length(body) >= 1) AND (length(body) <= 4096))),
    CONSTRAINT message_templates_shortcut_check CHECK ((((length(shortcut) >= 1) AND (length(shortcut) <= 32)) AND (shortcut = lower(shortcut)))),
    CONSTRAINT message_templates_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200)))
);

ALTER TABLE ONLY public.message_templates FORCE ROW LEVEL SECURITY;

ALTER TABLE public.message_templates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.message_templates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.messages (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    chat_id bigint NOT NULL,
    direction text NOT NULL,
    sender_user_id bigint,
    sender_contact_id bigint,
    sender_name text NOT NULL,
    body text NOT NULL,
    transport text NOT NULL,
    contact_id bigint,
    status text,
    provider_message_id text,
    error_code text,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    read_at timestamp with time zone,
    search tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED,
    channel_id bigint,
    send_at timestamp with time zone,
    CONSTRAINT messages_body_check CHECK ((length(body) <= 4096)),
    CONSTRAINT messages_check CHECK (((sender_user_id IS NULL) OR (sender_contact_id IS NULL))),
    CONSTRAINT messages_check1 CHECK (((transport = 'note'::text) = (direction = 'note'::text))),
    CONSTRAINT messages_check2 CHECK (((direction = 'outbound'::text) = (status IS NOT NULL))),
    CONSTRAINT messages_direction_check CHECK ((direction = ANY (ARRAY['inbound'::text, 'outbound'::text, 'note'::text]))),
    CONSTRAINT messages_scheduled_check CHECK (((status <> 'scheduled'::text) OR (send_at IS NOT NULL))),
    CONSTRAINT messages_status_check CHECK ((status = ANY (ARRAY['scheduled'::text, 'queued'::text, 'sent'::text, 'delivered'::text, 'read'::text, 'failed'::text, 'undelivered'::text, 'unknown'::text, 'cancelled'::text]))),
    CONSTRAINT messages_transport_check CHECK ((transport = ANY (ARRAY['sms'::text, 'whatsapp'::text, 'telegram'::text, 'note'::text])))
);

ALTER TABLE ONLY public.messages FORCE ROW LEVEL SECURITY;

ALTER TABLE public.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.note_comments (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    note_id bigint NOT NULL,
    parent_id bigint,
    author_user_id bigint,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT note_comments_body_check CHECK (((length(btrim(body)) >= 1) AND (length(btrim(body)) <= 5000)))
);

ALTER TABLE ONLY public.note_comments FORCE ROW LEVEL SECURITY;

ALTER TABLE public.note_comments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.note_comments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.notes (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    author_user_id bigint,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    edited_at timestamp with time zone,
    CONSTRAINT notes_body_check CHECK (((length(btrim(body)) >= 1) AND (length(btrim(body)) <= 10000))),
    CONSTRAINT notes_check CHECK ((num_nonnulls(client_id, company_id, deal_id) = 1))
);

ALTER TABLE ONLY public.notes FORCE ROW LEVEL SECURITY;

ALTER TABLE public.notes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.notifications (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    kind text NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    url text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    read_at timestamp with time zone,
    telegram_state text,
    telegram_due_at timestamp with time zone,
    telegram_attempts integer DEFAULT 0 NOT NULL,
    telegram_error text,
    CONSTRAINT notifications_data_check CHECK ((jsonb_typeof(data) = 'object'::text)),
    CONSTRAINT notifications_kind_check CHECK ((kind = ANY (ARRAY['mention'::text, 'reminder'::text, 'task_assigned'::text]))),
    CONSTRAINT notifications_telegram_due CHECK (((telegram_state IS DISTINCT FROM 'pending'::text) OR (telegram_due_at IS NOT NULL))),
    CONSTRAINT notifications_telegram_state_check CHECK ((telegram_state = ANY (ARRAY['pending'::text, 'sent'::text, 'failed'::text])))
);

ALTER TABLE ONLY public.notifications FORCE ROW LEVEL SECURITY;

ALTER TABLE public.notifications ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.permissions (
    name text NOT NULL
);

CREATE TABLE public.pipeline_stages (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    pipeline_id bigint NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    probability smallint NOT NULL,
    color text NOT NULL,
    "position" integer NOT NULL,
    CONSTRAINT pipeline_stages_color_check CHECK ((color ~ '^#[0-9a-f]{6}$'::text)),
    CONSTRAINT pipeline_stages_kind_check CHECK ((kind = ANY (ARRAY['open'::text, 'won'::text, 'lost'::text]))),
    CONSTRAINT pipeline_stages_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT pipeline_stages_probability_check CHECK (((probability >= 0) AND (probability <= 100)))
);

ALTER TABLE ONLY public.pipeline_stages FORCE ROW LEVEL SECURITY;

ALTER TABLE public.pipeline_stages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.pipeline_stages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.pipelines (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pipelines_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)))
);

ALTER TABLE ONLY public.pipelines FORCE ROW LEVEL SECURITY;

ALTER TABLE public.pipelines ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.pipelines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.role_permissions (
    role text NOT NULL,
    permission text NOT NULL
);

CREATE TABLE public.roles (
    name text NOT NULL
);

CREATE TABLE public.saved_views (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    entity text NOT NULL,
    name text NOT NULL,
    name_key text NOT NULL,
    query text NOT NULL,
    shared boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT saved_views_entity_check CHECK ((entity = ANY (ARRAY['clients'::text, 'companies'::text, 'deals'::text]))),
    CONSTRAINT saved_views_name_check CHECK (((length(name) >= 1) AND (length(name) <= 50))),
    CONSTRAINT saved_views_name_key_check CHECK (((length(name_key) >= 1) AND (length(name_key) <= 200))),
    CONSTRAINT saved_views_query_check CHECK ((length(query) <= 2000))
);

ALTER TABLE ONLY public.saved_views FORCE ROW LEVEL SECURITY;

ALTER TABLE public.saved_views ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.saved_views_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.send_pace (
    tenant_id uuid NOT NULL,
    transport text NOT NULL,
    next_at timestamp with time zone NOT NULL,
    CONSTRAINT send_pace_transport_check CHECK ((transport = ANY (ARRAY['sms'::text, 'whatsapp'::text, 'telegram'::text])))
);

ALTER TABLE ONLY public.send_pace FORCE ROW LEVEL SECURITY;

CREATE TABLE public.sessions (
    tenant_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    user_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    user_agent text DEFAULT ''::text NOT NULL,
    ip text DEFAULT ''::text NOT NULL
);

ALTER TABLE ONLY public.sessions FORCE ROW LEVEL SECURITY;

CREATE TABLE public.tags (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    name_key text NOT NULL,
    color text NOT NULL,
    locked boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tags_color_check CHECK ((color ~ '^#[0-9a-f]{6}$'::text)),
    CONSTRAINT tags_name_check CHECK (((length(name) >= 1) AND (length(name) <= 50))),
    CONSTRAINT tags_name_key_check CHECK (((length(name_key) >= 1) AND (length(name_key) <= 200)))
);

ALTER TABLE ONLY public.tags FORCE ROW LEVEL SECURITY;

ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.task_categories (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    name_key text NOT NULL,
    color text NOT NULL,
    note_required boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT task_categories_color_check CHECK ((color ~ '^#[0-9a-f]{6}$'::text)),
    CONSTRAINT task_categories_name_check CHECK (((length(name) >= 1) AND (length(name) <= 50))),
    CONSTRAINT task_categories_name_key_check CHECK (((length(name_key) >= 1) AND (length(name_key) <= 200)))
);

ALTER TABLE ONLY public.task_categories FORCE ROW LEVEL SECURITY;

ALTER TABLE public.task_categories ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.task_categories_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.tasks (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    title text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    priority text DEFAULT 'normal'::text NOT NULL,
    category_id bigint,
    due_at timestamp with time zone,
    remind_at timestamp with time zone,
    reminded_at timestamp with time zone,
    overdue_at timestamp with time zone,
    assignee_user_id bigint,
    created_by bigint,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    done_at timestamp with time zone,
    done_by bigint,
    done_note text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tasks_description_check CHECK ((length(description) <= 5000)),
    CONSTRAINT tasks_done_note_check CHECK ((length(done_note) <= 5000)),
    CONSTRAINT tasks_priority_check CHECK ((priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text]))),
    CONSTRAINT tasks_title_check CHECK (((length(btrim(title)) >= 1) AND (length(btrim(title)) <= 200)))
);

ALTER TABLE ONLY public.tasks FORCE ROW LEVEL SECURITY;

ALTER TABLE public.tasks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tasks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.tenants (
    id uuid NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    default_country text,
    base_currency text DEFAULT 'USD'::text NOT NULL,
    locale text DEFAULT 'en'::text NOT NULL,
    auto_assign text DEFAULT 'off'::text NOT NULL,
    record_visibility text DEFAULT 'all'::text NOT NULL,
    time_zone text DEFAULT 'UTC'::text NOT NULL,
    CONSTRAINT tenants_auto_assign_check CHECK ((auto_assign = ANY (ARRAY['off'::text, 'round_robin'::text]))),
    CONSTRAINT tenants_base_currency_check CHECK ((base_currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT tenants_default_country_check CHECK ((default_country ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT tenants_locale_check CHECK ((locale = ANY (ARRAY['en'::text, 'ru'::text, 'uz'::text]))),
    CONSTRAINT tenants_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 200))),
    CONSTRAINT tenants_record_visibility_check CHECK ((record_visibility = ANY (ARRAY['all'::text, 'own'::text])))
);

ALTER TABLE ONLY public.tenants FORCE ROW LEVEL SECURITY;

CREATE TABLE public.users (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    locale text,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    away boolean DEFAULT false NOT NULL,
    last_assigned_at timestamp with time zone,
    telegram_chat_id bigint,
    telegram_channel_id bigint,
    telegram_link_code text,
    telegram_link_expires_at timestamp with time zone,
    CONSTRAINT users_email_check CHECK ((email = lower(email))),
    CONSTRAINT users_locale_check CHECK ((locale = ANY (ARRAY['en'::text, 'ru'::text, 'uz'::text]))),
    CONSTRAINT users_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 100))),
    CONSTRAINT users_telegram_link_code_check CHECK (((length(telegram_link_code) >= 8) AND (length(telegram_link_code) <= 64)))
);

ALTER TABLE ONLY public.users FORCE ROW LEVEL SECURITY;

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_webhook_key_key UNIQUE (webhook_key);

ALTER TABLE ONLY public.chat_members
    ADD CONSTRAINT chat_members_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.chat_tags
    ADD CONSTRAINT chat_tags_pkey PRIMARY KEY (tenant_id, chat_id, tag_id);

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_client_key UNIQUE (tenant_id, client_id);

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.client_contacts
    ADD CONSTRAINT client_contacts_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.client_contacts
    ADD CONSTRAINT client_contacts_value_key UNIQUE (tenant_id, client_id, type, value);

ALTER TABLE ONLY public.client_import_issues
    ADD CONSTRAINT client_import_issues_pkey PRIMARY KEY (tenant_id, import_id, row_no, seq);

ALTER TABLE ONLY public.client_imports
    ADD CONSTRAINT client_imports_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.client_merges
    ADD CONSTRAINT client_merges_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.client_search_words
    ADD CONSTRAINT client_search_words_pkey PRIMARY KEY (tenant_id, word);

ALTER TABLE ONLY public.client_tags
    ADD CONSTRAINT client_tags_pkey PRIMARY KEY (tenant_id, client_id, tag_id);

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.companies
    ADD CONSTRAINT companies_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.company_tags
    ADD CONSTRAINT company_tags_pkey PRIMARY KEY (tenant_id, company_id, tag_id);

ALTER TABLE ONLY public.currency_rates
    ADD CONSTRAINT currency_rates_pkey PRIMARY KEY (tenant_id, currency);

ALTER TABLE ONLY public.custom_fields
    ADD CONSTRAINT custom_fields_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.custom_fields
    ADD CONSTRAINT custom_fields_tenant_id_entity_key_key UNIQUE (tenant_id, entity, key);

ALTER TABLE ONLY public.deal_moves
    ADD CONSTRAINT deal_moves_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.deal_stage_totals
    ADD CONSTRAINT deal_stage_totals_pkey PRIMARY KEY (tenant_id, stage_id, owner_id);

ALTER TABLE ONLY public.deal_tag_stage_totals
    ADD CONSTRAINT deal_tag_stage_totals_pkey PRIMARY KEY (tenant_id, tag_id, stage_id, owner_id);

ALTER TABLE ONLY public.deal_tags
    ADD CONSTRAINT deal_tags_pkey PRIMARY KEY (tenant_id, deal_id, tag_id);

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.job_items
    ADD CONSTRAINT job_items_pkey PRIMARY KEY (tenant_id, job_id, item_id);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.media_downloads
    ADD CONSTRAINT media_downloads_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.message_attachments
    ADD CONSTRAINT message_attachments_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.message_attachments
    ADD CONSTRAINT message_attachments_storage_key_key UNIQUE (storage_key);

ALTER TABLE ONLY public.message_attempts
    ADD CONSTRAINT message_attempts_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.message_deliveries
    ADD CONSTRAINT message_deliveries_pkey PRIMARY KEY (tenant_id, message_id);

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT message_templates_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT message_templates_shortcut_key UNIQUE (tenant_id, shortcut);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.note_comments
    ADD CONSTRAINT note_comments_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.permissions
    ADD CONSTRAINT permissions_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.pipeline_stages
    ADD CONSTRAINT pipeline_stages_pipeline_key UNIQUE (tenant_id, pipeline_id, id);

ALTER TABLE ONLY public.pipeline_stages
    ADD CONSTRAINT pipeline_stages_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.pipelines
    ADD CONSTRAINT pipelines_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.role_permissions
    ADD CONSTRAINT role_permissions_pkey PRIMARY KEY (role, permission);

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.saved_views
    ADD CONSTRAINT saved_views_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.saved_views
    ADD CONSTRAINT saved_views_tenant_id_user_id_entity_name_key_key UNIQUE (tenant_id, user_id, entity, name_key);

ALTER TABLE ONLY public.send_pace
    ADD CONSTRAINT send_pace_pkey PRIMARY KEY (tenant_id, transport);

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token_hash);

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_tenant_id_name_key_key UNIQUE (tenant_id, name_key);

ALTER TABLE ONLY public.task_categories
    ADD CONSTRAINT task_categories_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.task_categories
    ADD CONSTRAINT task_categories_tenant_id_name_key_key UNIQUE (tenant_id, name_key);

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id);

CREATE INDEX activities_client ON public.activities USING btree (tenant_id, client_id, id DESC) WHERE (client_id IS NOT NULL);

CREATE INDEX activities_client_kind ON public.activities USING btree (tenant_id, client_id, kind, id DESC) WHERE (client_id IS NOT NULL);

CREATE INDEX activities_company ON public.activities USING btree (tenant_id, company_id, id DESC) WHERE (company_id IS NOT NULL);

CREATE INDEX activities_company_kind ON public.activities USING btree (tenant_id, company_id, kind, id DESC) WHERE (company_id IS NOT NULL);

CREATE INDEX activities_deal ON public.activities USING btree (tenant_id, deal_id, id DESC) WHERE (deal_id IS NOT NULL);

CREATE INDEX activities_deal_kind ON public.activities USING btree (tenant_id, deal_id, kind, id DESC) WHERE (deal_id IS NOT NULL);

CREATE INDEX api_tokens_user_idx ON public.api_tokens USING btree (tenant_id, user_id);

CREATE INDEX audit_log_entity_idx ON public.audit_log USING btree (tenant_id, entity, id DESC);

CREATE INDEX channels_account_idx ON public.channels USING btree (account_sid) WHERE (account_sid IS NOT NULL);

CREATE INDEX channels_twilio_sender_idx ON public.channels USING btree (account_sid, kind, sender) WHERE (sender IS NOT NULL);

CREATE UNIQUE INDEX channels_twilio_sender_key ON public.channels USING btree (tenant_id, account_sid, kind, sender) WHERE (sender IS NOT NULL);

CREATE INDEX channels_twilio_service_idx ON public.channels USING btree (account_sid, kind, messaging_service_sid) WHERE (messaging_service_sid IS NOT NULL);

CREATE UNIQUE INDEX channels_twilio_service_key ON public.channels USING btree (tenant_id, account_sid, kind, messaging_service_sid) WHERE (messaging_service_sid IS NOT NULL);

CREATE UNIQUE INDEX chat_members_contact_key ON public.chat_members USING btree (tenant_id, chat_id, contact_id, transport) WHERE (contact_id IS NOT NULL);

CREATE INDEX chat_members_telegram_idx ON public.chat_members USING btree (tenant_id, ((transport_meta ->> 'chat_id'::text))) WHERE (transport = 'telegram'::text);

CREATE UNIQUE INDEX chat_members_user_key ON public.chat_members USING btree (tenant_id, chat_id, user_id) WHERE (user_id IS NOT NULL);

CREATE INDEX chat_tags_by_tag ON public.chat_tags USING btree (tenant_id, tag_id, chat_id);

CREATE INDEX chats_activity_idx ON public.chats USING btree (tenant_id, last_message_at DESC NULLS LAST, id DESC);

CREATE INDEX chats_assignee_idx ON public.chats USING btree (tenant_id, assignee_user_id, last_message_at DESC NULLS LAST, id DESC);

CREATE INDEX chats_snoozed_idx ON public.chats USING btree (snoozed_until) WHERE (snoozed_until IS NOT NULL);

CREATE INDEX chats_status_idx ON public.chats USING btree (tenant_id, status, last_message_at DESC NULLS LAST, id DESC);

CREATE INDEX chats_unread_idx ON public.chats USING btree (tenant_id, last_message_at DESC NULLS LAST, id DESC) WHERE (unread_count > 0);

CREATE INDEX client_contacts_lookup_idx ON public.client_contacts USING btree (tenant_id, type, value);

CREATE INDEX client_imports_queue_idx ON public.client_imports USING btree (created_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));

CREATE INDEX client_imports_recent_idx ON public.client_imports USING btree (tenant_id, id DESC);

CREATE INDEX client_merges_merged_idx ON public.client_merges USING btree (tenant_id, merged_id) WHERE (undone_at IS NULL);

CREATE INDEX client_merges_survivor_idx ON public.client_merges USING btree (tenant_id, survivor_id);

CREATE INDEX client_search_words_trgm_idx ON public.client_search_words USING gin (word public.gin_trgm_ops);

CREATE INDEX client_tags_by_tag ON public.client_tags USING btree (tenant_id, tag_id, client_id);

CREATE INDEX client_tags_name ON public.client_tags USING btree (tenant_id, tag_id, first_key, last_key, client_id) WHERE (NOT archived);

CREATE INDEX client_tags_updated ON public.client_tags USING btree (tenant_id, tag_id, client_updated_at DESC, client_id DESC) WHERE (NOT archived);

CREATE INDEX clients_company ON public.clients USING btree (tenant_id, company_id) WHERE (company_id IS NOT NULL);

CREATE INDEX clients_created_idx ON public.clients USING btree (tenant_id, created_at);

CREATE INDEX clients_custom ON public.clients USING gin (custom jsonb_path_ops);

CREATE INDEX clients_email_idx ON public.clients USING btree (tenant_id, email_folded) WHERE (email_folded IS NOT NULL);

CREATE INDEX clients_name_idx ON public.clients USING btree (tenant_id, lower(first_name), lower(COALESCE(last_name, ''::text)), id) WHERE (archived_at IS NULL);

CREATE INDEX clients_owner ON public.clients USING btree (tenant_id, owner_id, updated_at DESC, id) WHERE (owner_id IS NOT NULL);

CREATE UNIQUE INDEX clients_phone_key ON public.clients USING btree (tenant_id, phone) WHERE (phone IS NOT NULL);

CREATE UNIQUE INDEX clients_pin_key ON public.clients USING btree (tenant_id, pin) WHERE (pin IS NOT NULL);

CREATE INDEX clients_search_idx ON public.clients USING gin (search public.gin_trgm_ops);

CREATE INDEX clients_search_words_idx ON public.clients USING gin (search_words);

CREATE INDEX clients_updated_idx ON public.clients USING btree (tenant_id, updated_at DESC, id DESC) WHERE (archived_at IS NULL);

CREATE INDEX companies_by_name ON public.companies USING btree (tenant_id, lower(name), id);

CREATE INDEX companies_owner ON public.companies USING btree (tenant_id, owner_id, lower(name), id);

CREATE INDEX companies_search_idx ON public.companies USING gin (search public.gin_trgm_ops);

CREATE UNIQUE INDEX companies_tax_id_key ON public.companies USING btree (tenant_id, tax_id) WHERE (tax_id IS NOT NULL);

CREATE INDEX company_tags_by_tag ON public.company_tags USING btree (tenant_id, tag_id, company_id);

CREATE INDEX deal_moves_deal ON public.deal_moves USING btree (tenant_id, deal_id, moved_at, id);

CREATE INDEX deal_tags_by_tag ON public.deal_tags USING btree (tenant_id, tag_id, deal_id);

CREATE INDEX deals_board ON public.deals USING btree (tenant_id, stage_id, "position") INCLUDE (value_base, owner_id);

CREATE INDEX deals_by_close ON public.deals USING btree (tenant_id, expected_close_on, id DESC);

CREATE INDEX deals_by_title ON public.deals USING btree (tenant_id, lower(title), id DESC);

CREATE INDEX deals_by_value ON public.deals USING btree (tenant_id, value_base DESC NULLS LAST, id DESC);

CREATE INDEX deals_client ON public.deals USING btree (tenant_id, client_id) WHERE (client_id IS NOT NULL);

CREATE INDEX deals_company ON public.deals USING btree (tenant_id, company_id) WHERE (company_id IS NOT NULL);

CREATE INDEX deals_owner ON public.deals USING btree (tenant_id, owner_id, stage_id, "position") INCLUDE (value_base);

CREATE INDEX deals_owner_by_close ON public.deals USING btree (tenant_id, owner_id, expected_close_on, id DESC);

CREATE INDEX deals_owner_by_title ON public.deals USING btree (tenant_id, owner_id, lower(title), id DESC);

CREATE INDEX deals_owner_by_value ON public.deals USING btree (tenant_id, owner_id, value_base DESC NULLS LAST, id DESC);

CREATE INDEX deals_owner_recent ON public.deals USING btree (tenant_id, owner_id, updated_at DESC, id DESC);

CREATE INDEX deals_recent ON public.deals USING btree (tenant_id, updated_at DESC, id DESC);

CREATE INDEX deals_search_idx ON public.deals USING gin (search public.gin_trgm_ops);

CREATE INDEX jobs_of_tenant ON public.jobs USING btree (tenant_id, id DESC);

CREATE INDEX jobs_waiting ON public.jobs USING btree (created_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));

CREATE INDEX login_failures_email_idx ON public.login_failures USING btree (email, failed_at);

CREATE INDEX login_failures_ip_idx ON public.login_failures USING btree (ip, failed_at);

CREATE INDEX media_downloads_due_idx ON public.media_downloads USING btree (due_at);

CREATE INDEX message_attachments_message_idx ON public.message_attachments USING btree (tenant_id, message_id);

CREATE INDEX message_attempts_message_idx ON public.message_attempts USING btree (tenant_id, message_id, id);

CREATE UNIQUE INDEX message_attempts_open_key ON public.message_attempts USING btree (tenant_id, message_id) WHERE (ended_at IS NULL);

CREATE INDEX message_attempts_provider_idx ON public.message_attempts USING btree (tenant_id, provider_message_id) WHERE (provider_message_id IS NOT NULL);

CREATE INDEX message_deliveries_due_idx ON public.message_deliveries USING btree (due_at);

CREATE INDEX messages_provider_idx ON public.messages USING btree (tenant_id, provider_message_id) WHERE (provider_message_id IS NOT NULL);

CREATE UNIQUE INDEX messages_provider_key ON public.messages USING btree (tenant_id, channel_id, provider_message_id) WHERE ((channel_id IS NOT NULL) AND (provider_message_id IS NOT NULL));

CREATE INDEX messages_search_idx ON public.messages USING gin (search);

CREATE INDEX messages_thread_idx ON public.messages USING btree (tenant_id, chat_id, id DESC);

CREATE INDEX messages_unread_idx ON public.messages USING btree (tenant_id, chat_id) WHERE ((direction = 'inbound'::text) AND (read_at IS NULL));

CREATE INDEX note_comments_note ON public.note_comments USING btree (tenant_id, note_id, id);

CREATE INDEX notes_client ON public.notes USING btree (tenant_id, client_id, id DESC) WHERE (client_id IS NOT NULL);

CREATE INDEX notes_company ON public.notes USING btree (tenant_id, company_id, id DESC) WHERE (company_id IS NOT NULL);

CREATE INDEX notes_deal ON public.notes USING btree (tenant_id, deal_id, id DESC) WHERE (deal_id IS NOT NULL);

CREATE INDEX notifications_of ON public.notifications USING btree (tenant_id, user_id, id DESC);

CREATE INDEX notifications_telegram_pending ON public.notifications USING btree (telegram_due_at) WHERE (telegram_state = 'pending'::text);

CREATE INDEX notifications_unread ON public.notifications USING btree (tenant_id, user_id, id DESC) WHERE (read_at IS NULL);

CREATE UNIQUE INDEX pipeline_stages_name_key ON public.pipeline_stages USING btree (tenant_id, pipeline_id, lower(name));

CREATE INDEX pipeline_stages_order ON public.pipeline_stages USING btree (tenant_id, pipeline_id, "position");

CREATE UNIQUE INDEX pipelines_name_key ON public.pipelines USING btree (tenant_id, lower(name));

CREATE INDEX saved_views_of ON public.saved_views USING btree (tenant_id, entity, user_id);

CREATE INDEX sessions_user_idx ON public.sessions USING btree (tenant_id, user_id);

CREATE INDEX tasks_by_due ON public.tasks USING btree (tenant_id, due_at, id);

CREATE INDEX tasks_client ON public.tasks USING btree (tenant_id, client_id) WHERE (client_id IS NOT NULL);

CREATE INDEX tasks_company ON public.tasks USING btree (tenant_id, company_id) WHERE (company_id IS NOT NULL);

CREATE INDEX tasks_deal ON public.tasks USING btree (tenant_id, deal_id) WHERE (deal_id IS NOT NULL);

CREATE INDEX tasks_open_of ON public.tasks USING btree (tenant_id, assignee_user_id, due_at, id) WHERE (done_at IS NULL);

CREATE INDEX tasks_overdue_due ON public.tasks USING btree (due_at) WHERE ((overdue_at IS NULL) AND (done_at IS NULL) AND (due_at IS NOT NULL));

CREATE INDEX tasks_reminders_due ON public.tasks USING btree (remind_at) WHERE ((reminded_at IS NULL) AND (done_at IS NULL) AND (remind_at IS NOT NULL));

CREATE UNIQUE INDEX users_telegram_link_code ON public.users USING btree (tenant_id, telegram_link_code) WHERE (telegram_link_code IS NOT NULL);

CREATE TRIGGER client_tags_follow AFTER UPDATE ON public.clients REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.client_tags_follow();

CREATE TRIGGER client_tags_keys BEFORE INSERT ON public.client_tags FOR EACH ROW EXECUTE FUNCTION public.client_tags_keys();

CREATE TRIGGER clients_words_deleted AFTER DELETE ON public.clients REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION public.client_words_removed();

CREATE TRIGGER clients_words_inserted AFTER INSERT ON public.clients REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.client_words_added();

CREATE TRIGGER clients_words_lock BEFORE DELETE ON public.clients FOR EACH STATEMENT EXECUTE FUNCTION public.client_words_before_delete();

CREATE TRIGGER clients_words_updated AFTER UPDATE ON public.clients REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.client_words_added();

CREATE TRIGGER deal_stage_totals_delete AFTER DELETE ON public.deals REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_stage_totals_follow();

CREATE TRIGGER deal_stage_totals_insert AFTER INSERT ON public.deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_stage_totals_follow();

CREATE TRIGGER deal_stage_totals_update AFTER UPDATE ON public.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_stage_totals_follow();

CREATE TRIGGER deal_tag_stage_totals_delete AFTER DELETE ON public.deal_tags REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_tag_stage_totals_tagged();

CREATE TRIGGER deal_tag_stage_totals_deleting BEFORE DELETE ON public.deals FOR EACH ROW EXECUTE FUNCTION public.deal_tag_stage_totals_deleting();

CREATE TRIGGER deal_tag_stage_totals_insert AFTER INSERT ON public.deal_tags REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_tag_stage_totals_tagged();

CREATE TRIGGER deal_tag_stage_totals_update AFTER UPDATE ON public.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.deal_tag_stage_totals_changed();

CREATE TRIGGER notifications_queue_telegram BEFORE INSERT ON public.notifications FOR EACH ROW EXECUTE FUNCTION public.queue_telegram_notification();

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_tenant_id_actor_user_id_fkey FOREIGN KEY (tenant_id, actor_user_id) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (actor_user_id);

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_tenant_id_deal_id_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES public.deals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.activities
    ADD CONSTRAINT activities_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chat_members
    ADD CONSTRAINT chat_members_tenant_id_chat_id_fkey FOREIGN KEY (tenant_id, chat_id) REFERENCES public.chats(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chat_members
    ADD CONSTRAINT chat_members_tenant_id_contact_id_fkey FOREIGN KEY (tenant_id, contact_id) REFERENCES public.client_contacts(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chat_members
    ADD CONSTRAINT chat_members_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chat_tags
    ADD CONSTRAINT chat_tags_tenant_id_chat_id_fkey FOREIGN KEY (tenant_id, chat_id) REFERENCES public.chats(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chat_tags
    ADD CONSTRAINT chat_tags_tenant_id_tag_id_fkey FOREIGN KEY (tenant_id, tag_id) REFERENCES public.tags(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_assignee_fkey FOREIGN KEY (tenant_id, assignee_user_id) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (assignee_user_id);

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chats
    ADD CONSTRAINT chats_tenant_id_last_message_id_fkey FOREIGN KEY (tenant_id, last_message_id) REFERENCES public.messages(tenant_id, id) ON DELETE SET NULL (last_message_id);

ALTER TABLE ONLY public.client_contacts
    ADD CONSTRAINT client_contacts_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_import_issues
    ADD CONSTRAINT client_import_issues_tenant_id_import_id_fkey FOREIGN KEY (tenant_id, import_id) REFERENCES public.client_imports(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_imports
    ADD CONSTRAINT client_imports_tenant_id_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_imports
    ADD CONSTRAINT client_imports_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_merges
    ADD CONSTRAINT client_merges_tenant_id_merged_id_fkey FOREIGN KEY (tenant_id, merged_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_merges
    ADD CONSTRAINT client_merges_tenant_id_survivor_id_fkey FOREIGN KEY (tenant_id, survivor_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_search_words
    ADD CONSTRAINT client_search_words_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_tags
    ADD CONSTRAINT client_tags_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.client_tags
    ADD CONSTRAINT client_tags_tenant_id_tag_id_fkey FOREIGN KEY (tenant_id, tag_id) REFERENCES public.tags(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_merged_into_fkey FOREIGN KEY (tenant_id, merged_into) REFERENCES public.clients(tenant_id, id) ON DELETE SET NULL (merged_into);

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE SET NULL (company_id);

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_tenant_id_owner_id_fkey FOREIGN KEY (tenant_id, owner_id) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.companies
    ADD CONSTRAINT companies_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.companies
    ADD CONSTRAINT companies_tenant_id_owner_id_fkey FOREIGN KEY (tenant_id, owner_id) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.company_tags
    ADD CONSTRAINT company_tags_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.company_tags
    ADD CONSTRAINT company_tags_tenant_id_tag_id_fkey FOREIGN KEY (tenant_id, tag_id) REFERENCES public.tags(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.currency_rates
    ADD CONSTRAINT currency_rates_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.custom_fields
    ADD CONSTRAINT custom_fields_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deal_moves
    ADD CONSTRAINT deal_moves_tenant_id_deal_id_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES public.deals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deal_moves
    ADD CONSTRAINT deal_moves_tenant_id_from_stage_id_fkey FOREIGN KEY (tenant_id, from_stage_id) REFERENCES public.pipeline_stages(tenant_id, id) ON DELETE SET NULL (from_stage_id);

ALTER TABLE ONLY public.deal_moves
    ADD CONSTRAINT deal_moves_tenant_id_to_stage_id_fkey FOREIGN KEY (tenant_id, to_stage_id) REFERENCES public.pipeline_stages(tenant_id, id) ON DELETE SET NULL (to_stage_id);

ALTER TABLE ONLY public.deal_moves
    ADD CONSTRAINT deal_moves_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.deal_stage_totals
    ADD CONSTRAINT deal_stage_totals_tenant_id_stage_id_fkey FOREIGN KEY (tenant_id, stage_id) REFERENCES public.pipeline_stages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deal_tag_stage_totals
    ADD CONSTRAINT deal_tag_stage_totals_tenant_id_stage_id_fkey FOREIGN KEY (tenant_id, stage_id) REFERENCES public.pipeline_stages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deal_tags
    ADD CONSTRAINT deal_tags_tenant_id_deal_id_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES public.deals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deal_tags
    ADD CONSTRAINT deal_tags_tenant_id_tag_id_fkey FOREIGN KEY (tenant_id, tag_id) REFERENCES public.tags(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE SET NULL (client_id);

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE SET NULL (company_id);

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_tenant_id_owner_id_fkey FOREIGN KEY (tenant_id, owner_id) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.deals
    ADD CONSTRAINT deals_tenant_id_pipeline_id_stage_id_fkey FOREIGN KEY (tenant_id, pipeline_id, stage_id) REFERENCES public.pipeline_stages(tenant_id, pipeline_id, id);

ALTER TABLE ONLY public.job_items
    ADD CONSTRAINT job_items_tenant_id_job_id_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES public.jobs(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_tenant_id_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.media_downloads
    ADD CONSTRAINT media_downloads_tenant_id_channel_id_fkey FOREIGN KEY (tenant_id, channel_id) REFERENCES public.channels(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.media_downloads
    ADD CONSTRAINT media_downloads_tenant_id_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES public.messages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.message_attachments
    ADD CONSTRAINT message_attachments_tenant_id_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES public.messages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.message_attempts
    ADD CONSTRAINT message_attempts_tenant_id_channel_id_fkey FOREIGN KEY (tenant_id, channel_id) REFERENCES public.channels(tenant_id, id) ON DELETE SET NULL (channel_id);

ALTER TABLE ONLY public.message_attempts
    ADD CONSTRAINT message_attempts_tenant_id_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES public.messages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.message_deliveries
    ADD CONSTRAINT message_deliveries_tenant_id_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES public.messages(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT message_templates_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_tenant_id_channel_id_fkey FOREIGN KEY (tenant_id, channel_id) REFERENCES public.channels(tenant_id, id) ON DELETE SET NULL (channel_id);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_tenant_id_chat_id_fkey FOREIGN KEY (tenant_id, chat_id) REFERENCES public.chats(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_tenant_id_contact_id_fkey FOREIGN KEY (tenant_id, contact_id) REFERENCES public.client_contacts(tenant_id, id) ON DELETE SET NULL (contact_id);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_tenant_id_sender_contact_id_fkey FOREIGN KEY (tenant_id, sender_contact_id) REFERENCES public.client_contacts(tenant_id, id) ON DELETE SET NULL (sender_contact_id);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_tenant_id_sender_user_id_fkey FOREIGN KEY (tenant_id, sender_user_id) REFERENCES public.users(tenant_id, id);

ALTER TABLE ONLY public.note_comments
    ADD CONSTRAINT note_comments_tenant_id_author_user_id_fkey FOREIGN KEY (tenant_id, author_user_id) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (author_user_id);

ALTER TABLE ONLY public.note_comments
    ADD CONSTRAINT note_comments_tenant_id_note_id_fkey FOREIGN KEY (tenant_id, note_id) REFERENCES public.notes(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.note_comments
    ADD CONSTRAINT note_comments_tenant_id_parent_id_fkey FOREIGN KEY (tenant_id, parent_id) REFERENCES public.note_comments(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_tenant_id_author_user_id_fkey FOREIGN KEY (tenant_id, author_user_id) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (author_user_id);

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_tenant_id_deal_id_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES public.deals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.pipeline_stages
    ADD CONSTRAINT pipeline_stages_tenant_id_pipeline_id_fkey FOREIGN KEY (tenant_id, pipeline_id) REFERENCES public.pipelines(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.pipelines
    ADD CONSTRAINT pipelines_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.role_permissions
    ADD CONSTRAINT role_permissions_permission_fkey FOREIGN KEY (permission) REFERENCES public.permissions(name);

ALTER TABLE ONLY public.role_permissions
    ADD CONSTRAINT role_permissions_role_fkey FOREIGN KEY (role) REFERENCES public.roles(name);

ALTER TABLE ONLY public.saved_views
    ADD CONSTRAINT saved_views_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.saved_views
    ADD CONSTRAINT saved_views_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.send_pace
    ADD CONSTRAINT send_pace_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES public.users(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.task_categories
    ADD CONSTRAINT task_categories_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_assignee_user_id_fkey FOREIGN KEY (tenant_id, assignee_user_id) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (assignee_user_id);

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_category_id_fkey FOREIGN KEY (tenant_id, category_id) REFERENCES public.task_categories(tenant_id, id) ON DELETE SET NULL (category_id);

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_client_id_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES public.clients(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_company_id_fkey FOREIGN KEY (tenant_id, company_id) REFERENCES public.companies(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (created_by);

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_deal_id_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES public.deals(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_done_by_fkey FOREIGN KEY (tenant_id, done_by) REFERENCES public.users(tenant_id, id) ON DELETE SET NULL (done_by);

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_role_fkey FOREIGN KEY (role) REFERENCES public.roles(name);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_telegram_channel FOREIGN KEY (tenant_id, telegram_channel_id) REFERENCES public.channels(tenant_id, id) ON DELETE SET NULL (telegram_channel_id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

ALTER TABLE public.activities ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.api_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.channels ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.chat_members ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.chat_tags ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.chats ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_contacts ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_import_issues ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_imports ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_merges ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_search_words ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.client_tags ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.clients ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.companies ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.company_tags ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.currency_rates ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.custom_fields ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.deal_moves ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.deal_stage_totals ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.deal_tag_stage_totals ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.deal_tags ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.deals ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.job_items ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.media_downloads ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.message_attachments ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.message_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.message_deliveries ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.message_templates ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.messages ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.note_comments ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.notifications ENABLE ROW LEVEL SECURITY;

CREATE POLICY owner_access ON public.activities TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.api_tokens TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.audit_log TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.channels TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.chat_members TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.chat_tags TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.chats TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_contacts TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_import_issues TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_imports TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_merges TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_search_words TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.client_tags TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.clients TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.companies TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.company_tags TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.currency_rates TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.custom_fields TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.deal_moves TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.deal_stage_totals TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.deal_tag_stage_totals TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.deal_tags TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.deals TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.job_items TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.jobs TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.media_downloads TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.message_attachments TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.message_attempts TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.message_deliveries TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.message_templates TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.messages TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.note_comments TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.notes TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.notifications TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.pipeline_stages TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.pipelines TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.saved_views TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.send_pace TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.sessions TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.tags TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.task_categories TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.tasks TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.tenants TO crm USING (true) WITH CHECK (true);

CREATE POLICY owner_access ON public.users TO crm USING (true) WITH CHECK (true);

ALTER TABLE public.pipeline_stages ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.pipelines ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.saved_views ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.send_pace ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.sessions ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.tags ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.task_categories ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.tasks ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON public.activities TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.api_tokens TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.audit_log TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.channels TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.chat_members TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.chat_tags TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.chats TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_contacts TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_import_issues TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_imports TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_merges TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_search_words TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.client_tags TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.clients TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.companies TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.company_tags TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.currency_rates TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.custom_fields TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.deal_moves TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.deal_stage_totals TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.deal_tag_stage_totals TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.deal_tags TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.deals TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.job_items TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.jobs TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.media_downloads TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.message_attachments TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.message_attempts TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.message_deliveries TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.message_templates TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.messages TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.note_comments TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.notes TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.notifications TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.pipeline_stages TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.pipelines TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.saved_views TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.send_pace TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.sessions TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.tags TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.task_categories TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.tasks TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.tenants TO crm_app USING ((id = public.app_tenant_id())) WITH CHECK ((id = public.app_tenant_id()));

CREATE POLICY tenant_isolation ON public.users TO crm_app USING ((tenant_id = public.app_tenant_id())) WITH CHECK ((tenant_id = public.app_tenant_id()));

ALTER TABLE public.tenants ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;

GRANT USAGE ON SCHEMA public TO crm_app;

REVOKE ALL ON FUNCTION public.analyze_seeded_tables() FROM PUBLIC;
GRANT ALL ON FUNCTION public.analyze_seeded_tables() TO crm_app;

GRANT ALL ON FUNCTION public.app_tenant_id() TO crm_app;

REVOKE ALL ON FUNCTION public.auth_login_account(p_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.auth_login_account(p_email text) TO crm_app;

REVOKE ALL ON FUNCTION public.auth_session_principal(p_token_hash bytea, p_idle interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.auth_session_principal(p_token_hash bytea, p_idle interval) TO crm_app;

REVOKE ALL ON FUNCTION public.auth_token_principal(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION public.auth_token_principal(p_token_hash bytea) TO crm_app;

REVOKE ALL ON FUNCTION public.chat_matches_by_text(p_tenant uuid, p_words tsquery, p_limit integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.claim_client_import(p_stale interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_client_import(p_stale interval) TO crm_app;

REVOKE ALL ON FUNCTION public.claim_job(p_stale interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_job(p_stale interval) TO crm_app;

REVOKE ALL ON FUNCTION public.claim_media_downloads(p_limit integer, p_lease interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_media_downloads(p_limit integer, p_lease interval) TO crm_app;

REVOKE ALL ON FUNCTION public.claim_message_deliveries(p_limit integer, p_lease interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_message_deliveries(p_limit integer, p_lease interval) TO crm_app;

REVOKE ALL ON FUNCTION public.claim_telegram_notifications(p_limit integer, p_lease interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_telegram_notifications(p_limit integer, p_lease interval) TO crm_app;

REVOKE ALL ON FUNCTION public.client_dictionary_lock(p_tenant uuid, p_exclusive boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_matches_by_trigram(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_limit integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_search_conditions(p_tenant uuid, p_patterns text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_search_dates(p_from date, p_to date) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_search_filter(p_words integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_search_order(p_by_name boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_search_probe(p_tenant uuid, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_max integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_word_pattern(p_pattern text) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_words(p_search text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.client_words(p_search text) TO crm_app;

REVOKE ALL ON FUNCTION public.client_words_added() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_words_before_delete() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.client_words_removed() FROM PUBLIC;

GRANT ALL ON FUNCTION public.create_default_pipeline(p_tenant uuid, p_locale text) TO crm_app;

REVOKE ALL ON FUNCTION public.deal_title_board(p_patterns text[], p_tag bigint, p_stages bigint[], p_owner bigint, p_after_position double precision, p_after_id bigint, p_per integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.deal_title_board(p_patterns text[], p_tag bigint, p_stages bigint[], p_owner bigint, p_after_position double precision, p_after_id bigint, p_per integer) TO crm_app;

REVOKE ALL ON FUNCTION public.deal_title_matches(p_patterns text[], p_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.deal_title_matches(p_patterns text[], p_cap integer) TO crm_app;

REVOKE ALL ON FUNCTION public.erase_client(p_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION public.erase_client(p_id bigint) TO crm_app;

REVOKE ALL ON FUNCTION public.fire_due_reminders(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.fire_due_reminders(p_limit integer) TO crm_app;

REVOKE ALL ON FUNCTION public.isolate_tenant_table(tbl regclass) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.list_tenants() FROM PUBLIC;
GRANT ALL ON FUNCTION public.list_tenants() TO crm_app;

REVOKE ALL ON FUNCTION public.mark_overdue_tasks(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.mark_overdue_tasks(p_limit integer) TO crm_app;

REVOKE ALL ON FUNCTION public.purge_archived_clients(p_after interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_archived_clients(p_after interval) TO crm_app;

REVOKE ALL ON FUNCTION public.purge_client_imports(p_after interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_client_imports(p_after interval) TO crm_app;

REVOKE ALL ON FUNCTION public.purge_ended_sessions(p_idle interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_ended_sessions(p_idle interval) TO crm_app;

REVOKE ALL ON FUNCTION public.purge_removed_custom_fields(p_after interval) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_removed_custom_fields(p_after interval) TO crm_app;

REVOKE ALL ON FUNCTION public.refresh_client_statistics() FROM PUBLIC;
GRANT ALL ON FUNCTION public.refresh_client_statistics() TO crm_app;

REVOKE ALL ON FUNCTION public.search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.search_clients(p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) TO crm_app;

REVOKE ALL ON FUNCTION public.search_custom_clients(p_custom jsonb, p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.search_custom_clients(p_custom jsonb, p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) TO crm_app;

REVOKE ALL ON FUNCTION public.search_inbox(p_patterns text[], p_words text, p_unread boolean, p_assignee_kind text, p_assignee bigint, p_status text, p_limit integer, p_offset integer, p_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.search_inbox(p_patterns text[], p_words text, p_unread boolean, p_assignee_kind text, p_assignee bigint, p_status text, p_limit integer, p_offset integer, p_cap integer) TO crm_app;

REVOKE ALL ON FUNCTION public.search_tagged_clients(p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.search_tagged_clients(p_tag bigint, p_patterns text[], p_from date, p_to date, p_by_name boolean, p_limit integer, p_offset integer, p_cap integer) TO crm_app;

REVOKE ALL ON FUNCTION public.telegram_channel(p_webhook_key bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION public.telegram_channel(p_webhook_key bytea) TO crm_app;

REVOKE ALL ON FUNCTION public.twilio_channels(p_account_sid text, p_kind text, p_number text, p_service_sid text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.twilio_channels(p_account_sid text, p_kind text, p_number text, p_service_sid text) TO crm_app;

REVOKE ALL ON FUNCTION public.wake_snoozed_chats(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wake_snoozed_chats(p_limit integer) TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.activities TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.api_tokens TO crm_app;

GRANT SELECT,INSERT ON TABLE public.audit_log TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.channels TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.chat_members TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.chat_tags TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.chats TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.client_contacts TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.client_import_issues TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.client_imports TO crm_app;

GRANT SELECT,INSERT,UPDATE ON TABLE public.client_merges TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.client_tags TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.clients TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.companies TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.company_tags TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.currency_rates TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.custom_fields TO crm_app;

GRANT SELECT,INSERT ON TABLE public.deal_moves TO crm_app;

GRANT SELECT,INSERT,UPDATE ON TABLE public.deal_stage_totals TO crm_app;

GRANT SELECT,INSERT,UPDATE ON TABLE public.deal_tag_stage_totals TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.deal_tags TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deals TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.job_items TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.jobs TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.login_failures TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.media_downloads TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.message_attachments TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.message_attempts TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.message_deliveries TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.message_templates TO crm_app;

GRANT SELECT,INSERT,DELETE ON TABLE public.messages TO crm_app;

GRANT UPDATE(chat_id) ON TABLE public.messages TO crm_app;

GRANT UPDATE(status) ON TABLE public.messages TO crm_app;

GRANT UPDATE(provider_message_id) ON TABLE public.messages TO crm_app;

GRANT UPDATE(error_code) ON TABLE public.messages TO crm_app;

GRANT UPDATE(error) ON TABLE public.messages TO crm_app;

GRANT UPDATE(sent_at) ON TABLE public.messages TO crm_app;

GRANT UPDATE(read_at) ON TABLE public.messages TO crm_app;

GRANT UPDATE(channel_id) ON TABLE public.messages TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.note_comments TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.notes TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.notifications TO crm_app;

GRANT SELECT ON TABLE public.permissions TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.pipeline_stages TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.pipelines TO crm_app;

GRANT SELECT ON TABLE public.role_permissions TO crm_app;

GRANT SELECT ON TABLE public.roles TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.saved_views TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.send_pace TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.sessions TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.tags TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.task_categories TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.tasks TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.tenants TO crm_app;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.users TO crm_app;

