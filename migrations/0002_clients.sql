-- Clients and their contacts, searchable fast at a million clients per tenant.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE clients (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    first_name text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name text,
    middle_name text,
    -- E.164, normalised by the domain.
    phone text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    email text,
    address text,
    date_of_birth date,
    gender text CHECK (gender IN ('male', 'female', 'other')),
    pin text CHECK (pin ~ '^[0-9]{4,20}$'),
    passport_series text,
    passport_number text,
    comments text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Archived clients are hidden from lists and search; an admin may restore them.
    archived_at timestamptz,
    -- Everything a search box matches, lower-cased, for one trigram index.
    search text GENERATED ALWAYS AS (
        lower(first_name || ' ' || coalesce(middle_name, '') || ' ' || coalesce(last_name, '') || ' '
              || coalesce(phone, '') || ' ' || coalesce(email, '') || ' ' || coalesce(pin, ''))
    ) STORED,
    PRIMARY KEY (tenant_id, id)
);
-- A phone or a PIN belongs to one client of a tenant (archived ones included: they may return).
CREATE UNIQUE INDEX clients_phone_key ON clients (tenant_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX clients_pin_key ON clients (tenant_id, pin) WHERE pin IS NOT NULL;
CREATE INDEX clients_search_idx ON clients USING gin (tenant_id, search gin_trgm_ops);
CREATE INDEX clients_updated_idx ON clients (tenant_id, updated_at DESC, id DESC) WHERE archived_at IS NULL;
CREATE INDEX clients_name_idx ON clients (tenant_id, lower(first_name), lower(coalesce(last_name, '')), id)
    WHERE archived_at IS NULL;
CREATE INDEX clients_created_idx ON clients (tenant_id, created_at);

CREATE TABLE client_contacts (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id bigint NOT NULL,
    type text NOT NULL CHECK (type IN ('email', 'phone', 'telegram', 'whatsapp', 'other')),
    value text NOT NULL CHECK (length(value) BETWEEN 1 AND 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT client_contacts_value_key UNIQUE (tenant_id, client_id, type, value)
);
-- Inbound messages find their client by contact.
CREATE INDEX client_contacts_lookup_idx ON client_contacts (tenant_id, type, value);

GRANT SELECT, INSERT, UPDATE, DELETE ON clients, client_contacts TO crm_app;
SELECT isolate_tenant_table('clients');
SELECT isolate_tenant_table('client_contacts');
