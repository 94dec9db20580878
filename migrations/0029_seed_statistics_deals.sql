-- `crm seed --deals` fills deals and deal_moves too: their statistics are gathered with the rest.
CREATE OR REPLACE FUNCTION analyze_seeded_tables() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        ANALYZE tenants, users, clients, client_contacts, client_search_words, chats, chat_members, messages,
                deals, deal_moves;
    END
    $$;
