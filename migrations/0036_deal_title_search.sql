-- A deal's title is searched as a client's name is: folded by search_fold (0022), so that
-- "квартира" finds "Квартира на Чиланзаре" and "kvartira" finds it too. Before this, titles
-- were matched with lower(), which in the C locale the bundled server runs in leaves Cyrillic
-- capitals as they are: a title starting with one was not found by its first word.
ALTER TABLE deals ADD COLUMN search text GENERATED ALWAYS AS (search_fold(title)) STORED;
DROP INDEX deals_title_trgm;
CREATE INDEX deals_search_idx ON deals USING gin (search gin_trgm_ops);

-- The rewrite left the new column without statistics: gather them, so a search is planned
-- for how common its words are.
ANALYZE deals;
