-- A merge moves the merged client's deals to the survivor too; the ones it moved are kept, so
-- that undoing the merge gives exactly those back.
ALTER TABLE client_merges ADD COLUMN deal_ids bigint[] NOT NULL DEFAULT '{}';
