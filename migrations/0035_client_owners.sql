-- A client's owner: the colleague whose client this is. Under the tenant's
-- `record_visibility: own`, an agent reaches the clients they own and those whose chat is
-- assigned to them, and those clients' chats; admins reach all. Clients made before this
-- have no owner (admins give them one); a client made by a colleague is theirs, a stranger
-- who writes in is nobody's until someone takes them.
ALTER TABLE clients
    ADD COLUMN owner_id bigint,
    ADD FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id);
CREATE INDEX clients_owner ON clients (tenant_id, owner_id, updated_at DESC, id) WHERE owner_id IS NOT NULL;
