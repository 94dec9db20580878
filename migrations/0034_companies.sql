-- Companies: the businesses a tenant deals with. A client may work at one (with a job title)
-- and a deal may be with one. Erasing or deleting a company unlinks its people and deals;
-- it never takes them with it.
--
-- A company is found like a client: its name, email, phone, website and tax id are folded by
-- search_fold (so "ташкент" finds "Tashkent") into `search`, matched with trigrams.

CREATE TABLE companies (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    website text CHECK (length(website) BETWEEN 1 AND 300),
    phone text CHECK (length(phone) BETWEEN 1 AND 20),
    email text CHECK (length(email) BETWEEN 1 AND 254),
    address text CHECK (length(address) BETWEEN 1 AND 500),
    tax_id text CHECK (length(tax_id) BETWEEN 1 AND 50),
    comments text CHECK (length(comments) BETWEEN 1 AND 5000),
    owner_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search text GENERATED ALWAYS AS (search_fold(
        name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(website, '') || ' '
        || coalesce(tax_id, ''))) STORED,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
-- A tax id names one business: two companies with the same one are one company twice.
CREATE UNIQUE INDEX companies_tax_id_key ON companies (tenant_id, tax_id) WHERE tax_id IS NOT NULL;
CREATE INDEX companies_by_name ON companies (tenant_id, lower(name), id);
CREATE INDEX companies_owner ON companies (tenant_id, owner_id, lower(name), id);
CREATE INDEX companies_search_idx ON companies USING gin (search gin_trgm_ops);
GRANT SELECT, INSERT, UPDATE, DELETE ON companies TO crm_app;
SELECT isolate_tenant_table('companies');

-- People at a company, and what they do there. Adding nullable columns rewrites nothing.
ALTER TABLE clients
    ADD COLUMN company_id bigint,
    ADD COLUMN job_title text CHECK (length(job_title) BETWEEN 1 AND 200),
    ADD FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE SET NULL (company_id);
CREATE INDEX clients_company ON clients (tenant_id, company_id) WHERE company_id IS NOT NULL;

ALTER TABLE deals
    ADD COLUMN company_id bigint,
    ADD FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE SET NULL (company_id);
CREATE INDEX deals_company ON deals (tenant_id, company_id) WHERE company_id IS NOT NULL;
