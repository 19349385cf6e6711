-- recon's own schema, version 5: faster imports.
--
-- processor_events.import_id named its import through a foreign key, which
-- PostgreSQL checks row by row (a lock on the one parent row per inserted
-- event): 60% of a million-row Stripe import. The id is written by recon
-- itself, in the transaction that creates the import row, so the check
-- guards against nothing; the column stays, and recon.imports keeps every
-- import's record.
ALTER TABLE recon.processor_events DROP CONSTRAINT IF EXISTS processor_events_import_id_fkey;
