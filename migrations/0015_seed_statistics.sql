-- After `crm seed` writes its millions of rows, the planner must not guess until autovacuum
-- comes round (a chat list took 450 ms a request for minutes after a seed). The app role may
-- not ANALYZE tables it does not own: this runs it as the owner, on the tables a seed fills.
CREATE FUNCTION analyze_seeded_tables() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        ANALYZE tenants, users, clients, client_contacts, client_search_words, chats, chat_members, messages;
    END
    $$;
REVOKE ALL ON FUNCTION analyze_seeded_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analyze_seeded_tables() TO crm_app;
