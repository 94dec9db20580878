-- The app role may no longer take a tenant's dictionary lock itself (0011 let it call
-- client_dictionary_lock with any tenant's id, and so hold up another tenant's client writes).
-- The lock is taken only by the triggers, which run as the owner; a trigger's function is not
-- checked for EXECUTE when it fires, so the app role needs only client_words, which its
-- inserts and updates evaluate for the generated column.
ALTER FUNCTION client_words_before_delete() SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION client_dictionary_lock(uuid, boolean), client_words_before_delete(), client_words_added(),
    client_words_removed() FROM crm_app;
