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

-- The queue's pages: unresolved items in display order.
CREATE INDEX mismatches_worst_idx
    ON recon.mismatches (severity, stake_major DESC, opened_at, mismatch_id)
    WHERE status <> 'resolved';
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
