-- recon's own schema, version 4: the mismatch queue as finance works it.
--
-- Worst first is severity, then money at stake, then age. Severity names
-- sort in rank order (critical < high < medium). Money at stake is compared
-- across currencies in major units (recon.minor_to_major: exact, by ISO 4217
-- exponent) WITHOUT exchange rates — JPY 10,000 ranks above USD 500 — which
-- is stated in the docs; a stored column makes it indexable.
ALTER TABLE recon.mismatches
    ADD COLUMN stake_major numeric
        GENERATED ALWAYS AS (recon.minor_to_major(amount_minor, currency)) STORED;

-- The queue's pages in display order. The filter columns are included so
-- that choosing a page's 25 ids is an index-only scan (the rows are wide:
-- sentences and evidence); only those 25 rows are then read.
CREATE INDEX mismatches_worst_idx
    ON recon.mismatches (severity, stake_major DESC, opened_at, mismatch_id)
    INCLUDE (status, currency, kind, order_id);
-- Snoozed items whose time has come are woken (recon.wake_snoozed).
CREATE INDEX mismatches_snoozed_idx
    ON recon.mismatches (snoozed_until) WHERE status = 'snoozed';
-- The old queue index ordered by amount without the currency's exponent.
DROP INDEX IF EXISTS recon.mismatches_queue_idx;
CREATE INDEX mismatches_status_idx ON recon.mismatches (status, severity);

-- A snooze ends by itself: every reader (CLI, web) calls this first, so
-- an item comes back when its time passes, with a history entry by recon.
CREATE FUNCTION recon.wake_snoozed() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    WITH woken AS (
        UPDATE recon.mismatches SET status = 'open', snoozed_until = NULL, updated_at = now()
         WHERE status = 'snoozed' AND snoozed_until <= now()
        RETURNING mismatch_id),
    hist AS (
        INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, to_status, note)
        SELECT mismatch_id, 'recon', 'snooze_ended', 'snoozed', 'open', 'The snooze ended.'
          FROM woken RETURNING 1)
    SELECT count(*) FROM hist
$$;

-- Counts and money at stake per (status, severity, currency, kind), kept by
-- statement-level triggers as append-only deltas: no row is ever updated,
-- so workers writing batches at once never wait on each other here, and
-- the summary and a page's total are a sum over a few rows instead of a
-- scan of the queue. recon.compact_queue_totals folds the deltas (at the
-- end of each run).
CREATE TABLE recon.queue_totals (
    status       text NOT NULL,
    severity     text NOT NULL,
    currency     text NOT NULL,
    kind         text NOT NULL,
    n            bigint NOT NULL,
    amount_minor numeric NOT NULL
);
CREATE INDEX queue_totals_idx ON recon.queue_totals (status, severity, currency, kind);
INSERT INTO recon.queue_totals
SELECT status, severity, currency, kind, count(*), sum(amount_minor)
  FROM recon.mismatches GROUP BY 1, 2, 3, 4;

CREATE FUNCTION recon.queue_totals_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO recon.queue_totals
        SELECT status, severity, currency, kind, count(*), sum(amount_minor) FROM new_rows GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO recon.queue_totals
        SELECT status, severity, currency, kind, -count(*), -sum(amount_minor) FROM old_rows GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO recon.queue_totals
        SELECT status, severity, currency, kind, sum(n), sum(a) FROM (
            SELECT status, severity, currency, kind, 1 AS n, amount_minor::numeric AS a FROM new_rows
            UNION ALL
            SELECT status, severity, currency, kind, -1, -amount_minor::numeric FROM old_rows) d
         GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(a) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mismatches_totals_ins AFTER INSERT ON recon.mismatches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon.queue_totals_delta();
CREATE TRIGGER mismatches_totals_upd AFTER UPDATE ON recon.mismatches
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION recon.queue_totals_delta();
CREATE TRIGGER mismatches_totals_del AFTER DELETE ON recon.mismatches
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recon.queue_totals_delta();

CREATE FUNCTION recon.queue_totals_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM recon.queue_totals;
    RETURN NULL;
END $$;
CREATE TRIGGER mismatches_totals_truncate AFTER TRUNCATE ON recon.mismatches
    FOR EACH STATEMENT EXECUTE FUNCTION recon.queue_totals_truncate();

-- Folds the deltas into one row per group. Safe with writers at work: it
-- deletes only the rows its snapshot sees and re-adds their sum.
CREATE FUNCTION recon.compact_queue_totals() RETURNS void
LANGUAGE sql AS $$
    WITH d AS (DELETE FROM recon.queue_totals RETURNING *)
    INSERT INTO recon.queue_totals
    SELECT status, severity, currency, kind, sum(n), sum(amount_minor) FROM d
     GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(amount_minor) <> 0
$$;
