-- recon's own schema, version 8: a smaller statistics sample of the queue.
--
-- Workers ANALYZE the queue each time a first run doubles it, and
-- autovacuum analyzes the queue and its history as they grow. ANALYZE
-- reads 300 rows per unit of the largest statistics target of the table's
-- columns: 30,000 wide rows (sentences and evidence) at the default 100,
-- which took 0.47-0.65 s of the server's time for a 226k-item queue, 5% of
-- a 1M-order run's CPU. The plans that read these statistics are finance's
-- page (a filter on status, kind, severity, currency, a handful of values
-- each) and the size of the queue; they come out the same with a target of
-- 20 (6,000 rows, 0.12 s): tests/bench, docs/BENCHMARKS.md.
-- The wide columns stay at 0 (version 7); the history's note joins them.
ALTER TABLE recon.mismatches
    ALTER COLUMN mismatch_id SET STATISTICS 20,
    ALTER COLUMN order_id SET STATISTICS 20,
    ALTER COLUMN kind SET STATISTICS 20,
    ALTER COLUMN severity SET STATISTICS 20,
    ALTER COLUMN status SET STATISTICS 20,
    ALTER COLUMN resolution SET STATISTICS 20,
    ALTER COLUMN amount_minor SET STATISTICS 20,
    ALTER COLUMN currency SET STATISTICS 20,
    ALTER COLUMN assignee SET STATISTICS 20,
    ALTER COLUMN snoozed_until SET STATISTICS 20,
    ALTER COLUMN first_seen_run SET STATISTICS 20,
    ALTER COLUMN last_seen_run SET STATISTICS 20,
    ALTER COLUMN opened_at SET STATISTICS 20,
    ALTER COLUMN updated_at SET STATISTICS 20,
    ALTER COLUMN resolved_at SET STATISTICS 20,
    ALTER COLUMN stake_major SET STATISTICS 20;
ALTER TABLE recon.mismatch_history
    ALTER COLUMN history_id SET STATISTICS 20,
    ALTER COLUMN mismatch_id SET STATISTICS 20,
    ALTER COLUMN at SET STATISTICS 20,
    ALTER COLUMN actor SET STATISTICS 20,
    ALTER COLUMN action SET STATISTICS 20,
    ALTER COLUMN from_status SET STATISTICS 20,
    ALTER COLUMN to_status SET STATISTICS 20,
    ALTER COLUMN run_id SET STATISTICS 20,
    ALTER COLUMN note SET STATISTICS 0;
