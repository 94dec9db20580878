-- The deal list walks an index in the order it shows, whatever the filters: the latest
-- changed, the largest value, the soonest close, or by title.
DROP INDEX deals_recent;
CREATE INDEX deals_recent ON deals (tenant_id, updated_at DESC, id DESC);
CREATE INDEX deals_by_value ON deals (tenant_id, value_base DESC NULLS LAST, id DESC);
CREATE INDEX deals_by_close ON deals (tenant_id, expected_close_on ASC NULLS LAST, id DESC);
CREATE INDEX deals_by_title ON deals (tenant_id, lower(title), id DESC);
