-- The tenant's exchange rates: what one unit of a currency is worth in the tenant's base
-- currency (which is never listed: it is always 1). Kept by admins; a deal's value in the base
-- currency is frozen with the rate of its time.

CREATE TABLE currency_rates (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rate numeric(22, 10) NOT NULL CHECK (rate > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, currency)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON currency_rates TO crm_app;
SELECT isolate_tenant_table('currency_rates');
