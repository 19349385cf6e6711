-- recon's own schema, version 3: faster imports.
--
-- processor_events.import_id named its import through a foreign key, which
-- PostgreSQL checks row by row (a lock on the one parent row per inserted
-- event): 60% of a million-row Stripe import. The id is written by recon
-- itself, in the transaction that creates the import row, so the check
-- guards against nothing; the column stays, and recon.imports keeps every
-- import's record.
ALTER TABLE recon.processor_events DROP CONSTRAINT IF EXISTS processor_events_import_id_fkey;

-- The window's time columns get BRIN indexes instead of B-trees. Events
-- are appended, one import at a time, each import's rows inserted in
-- occurred_at order (common/import_map.c), so imported_at (the import's
-- transaction time) follows the table's physical order exactly and
-- occurred_at nearly: a BRIN range summary finds a night's rows as well as
-- a B-tree does, and costs almost nothing to maintain, where the two
-- B-trees were a third of an import's INSERT.
DROP INDEX IF EXISTS recon.processor_events_occurred_idx;
DROP INDEX IF EXISTS recon.processor_events_imported_idx;
CREATE INDEX processor_events_occurred_brin
    ON recon.processor_events USING brin (occurred_at) WITH (pages_per_range = 16, autosummarize = on);
CREATE INDEX processor_events_imported_brin
    ON recon.processor_events USING brin (imported_at) WITH (pages_per_range = 16, autosummarize = on);
