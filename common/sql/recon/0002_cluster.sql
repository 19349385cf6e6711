-- recon's own schema, version 2: runs and their jobs (the broker's durable
-- state), and the mismatch queue with its append-only history.

-- Arrival time is an event too: late data re-checks its order in the run
-- of the window it arrived in.
CREATE INDEX processor_events_imported_idx ON recon.processor_events (imported_at);

CREATE TABLE recon.runs (
    run_id       bigserial PRIMARY KEY,
    window_from  timestamptz NOT NULL,
    window_to    timestamptz NOT NULL,
    as_of        timestamptz NOT NULL,
    shards       integer NOT NULL CHECK (shards BETWEEN 1 AND 1024),
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    settings     jsonb NOT NULL,            -- grace windows and tolerance used
    requested_by text NOT NULL,             -- a user, or 'schedule:<cron>'
    schedule_key text UNIQUE,               -- one run per scheduled slot
    orders_estimate bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    CHECK (window_from < window_to)
);

CREATE TABLE recon.jobs (
    job_id       bigserial PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES recon.runs,
    shard        integer NOT NULL,
    range_lo     text NOT NULL,             -- range_lo <= order_id (byte order)
    range_hi     text,                      -- order_id < range_hi; NULL: no bound
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'running', 'succeeded', 'dead', 'cancelled')),
    attempt      integer NOT NULL DEFAULT 0,  -- fencing token: +1 on every lease
    failures     integer NOT NULL DEFAULT 0,  -- attempts spent; a handback spends none
    max_attempts integer NOT NULL DEFAULT 5,
    locked_by    text,
    lease_expires_at timestamptz,
    not_before   timestamptz,               -- retry backoff
    orders_estimate bigint NOT NULL DEFAULT 0,
    orders_done  bigint NOT NULL DEFAULT 0,
    mismatches   bigint NOT NULL DEFAULT 0,
    last_order_id text,                     -- durable checkpoint (Redis holds a mirror)
    token        uuid NOT NULL DEFAULT gen_random_uuid(), -- names the job in Redis
    last_error   text,
    started_at   timestamptz,
    finished_at  timestamptz,
    UNIQUE (run_id, shard)
);
CREATE INDEX jobs_pending_idx ON recon.jobs (run_id, shard) WHERE state = 'pending';
CREATE INDEX jobs_running_idx ON recon.jobs (lease_expires_at) WHERE state = 'running';

CREATE TABLE recon.mismatches (
    mismatch_id  bigserial PRIMARY KEY,
    order_id     text NOT NULL,
    kind         text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('critical', 'high', 'medium')),
    status       text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'in_review', 'resolved', 'snoozed')),
    resolution   text CHECK (resolution IN ('refunded', 'shipped', 'ledger_corrected',
                                            'written_off', 'false_positive', 'auto_resolved')),
    amount_minor bigint NOT NULL,
    currency     text NOT NULL,
    summary      text NOT NULL,
    next_step    text NOT NULL,
    evidence     jsonb NOT NULL,
    facts_hash   text NOT NULL,             -- what the facts were when last seen
    assignee     text,
    snoozed_until timestamptz,
    first_seen_run bigint REFERENCES recon.runs,
    last_seen_run  bigint REFERENCES recon.runs,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    CHECK ((status = 'resolved') = (resolution IS NOT NULL))
);
-- One row per (order, kind): reopened rather than duplicated.
CREATE UNIQUE INDEX mismatches_order_kind_idx ON recon.mismatches (order_id, kind);
CREATE INDEX mismatches_queue_idx ON recon.mismatches (status, severity, amount_minor DESC, opened_at);
CREATE INDEX mismatches_run_idx ON recon.mismatches (last_seen_run);

CREATE TABLE recon.mismatch_history (
    history_id   bigserial PRIMARY KEY,
    mismatch_id  bigint NOT NULL REFERENCES recon.mismatches,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,             -- a user, or 'recon'
    action       text NOT NULL,             -- opened, updated, auto_resolved, reopened, claimed, resolved, snoozed, note, …
    from_status  text,
    to_status    text,
    note         text,
    run_id       bigint REFERENCES recon.runs
);
CREATE INDEX mismatch_history_mismatch_idx ON recon.mismatch_history (mismatch_id, at);

-- The history is append-only.
CREATE FUNCTION recon.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER mismatch_history_append_only
    BEFORE UPDATE OR DELETE ON recon.mismatch_history
    FOR EACH ROW EXECUTE FUNCTION recon.refuse_change();

-- Minor units to major units (exact numeric) by ISO 4217 exponent, for
-- ordering the queue by money across currencies without exchange rates.
-- Mirrors common/money.c; an integration test keeps the two equal.
CREATE FUNCTION recon.currency_exponent(code text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN upper(code) IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
                             'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
        WHEN upper(code) IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
        WHEN upper(code) IN ('CLF', 'UYW') THEN 4
        ELSE 2 END
$$;
CREATE FUNCTION recon.minor_to_major(amount bigint, code text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(amount::numeric / (10::numeric ^ recon.currency_exponent(code)),
                 recon.currency_exponent(code))
$$;
