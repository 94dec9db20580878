-- The one definition of which clients a colleague reaches under the tenant's
-- `record_visibility: own`: those they own and those whose chat is assigned to them. Every
-- scoped read of clients (the list, one client, the export, a company's people) asks this
-- function, so the rule is written once. A plain SQL function: the planner inlines it into
-- the query that calls it, under that query's row-level security.
CREATE FUNCTION clients_reached_by(p_tenant uuid, p_reader bigint) RETURNS SETOF bigint
    LANGUAGE sql STABLE
    AS $$
        SELECT c.id FROM clients c WHERE c.tenant_id = p_tenant AND c.owner_id = p_reader
        UNION ALL
        SELECT h.client_id FROM chats h WHERE h.tenant_id = p_tenant AND h.assignee_user_id = p_reader
    $$;
