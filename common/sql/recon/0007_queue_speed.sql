-- recon's own schema, version 7: a cheaper write of the mismatch queue.
--
-- The run ids on a queue item (first_seen_run, last_seen_run) and on a
-- history row (run_id) named their run through foreign keys, which
-- PostgreSQL checks row by row: three lookups of a recon.runs row per new
-- item, and one per still-open item on every later run (last_seen_run
-- moves). In a 1M-order run that opened 226k items they cost 2.2 s of the
-- server's time, a fifth of the queue insert (tests/bench, EXPLAIN
-- ANALYZE). The ids are written by the worker itself, from the job it
-- holds, in the fenced transaction of the batch, and recon never deletes
-- a run, so the checks guard against nothing recon does. The history's
-- link to its item (mismatch_history.mismatch_id) stays checked: that is
-- the audit trail finance relies on.
ALTER TABLE recon.mismatches DROP CONSTRAINT IF EXISTS mismatches_first_seen_run_fkey;
ALTER TABLE recon.mismatches DROP CONSTRAINT IF EXISTS mismatches_last_seen_run_fkey;
ALTER TABLE recon.mismatch_history DROP CONSTRAINT IF EXISTS mismatch_history_run_id_fkey;

-- Workers ANALYZE the queue while a first run fills it (a planner without
-- statistics joined each batch to the whole queue). No query filters or
-- joins on these four wide columns by value, so their statistics only cost:
-- without them an ANALYZE of a 226k-item queue takes 0.48 s instead of
-- 0.86 s (the sample is read either way).
ALTER TABLE recon.mismatches
    ALTER COLUMN evidence SET STATISTICS 0,
    ALTER COLUMN summary SET STATISTICS 0,
    ALTER COLUMN next_step SET STATISTICS 0,
    ALTER COLUMN facts_hash SET STATISTICS 0;
