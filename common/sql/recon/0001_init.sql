-- recon's own schema, version 1: imported processor events and the
-- bookkeeping of every import (counts and rejected rows kept for review).
-- Later versions add runs, jobs and the mismatch queue.

CREATE TABLE recon.imports (
    import_id       bigserial PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('processor', 'ledger', 'fulfillment')),
    format          text NOT NULL,
    file_name       text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    rows_imported   bigint NOT NULL DEFAULT 0,
    rows_updated    bigint NOT NULL DEFAULT 0,
    rows_duplicate  bigint NOT NULL DEFAULT 0,
    rows_skipped    bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    skipped_by_category jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- One row per money movement a processor reported. Amounts are positive
-- minor units; the kind gives the direction. (processor, txn_id) makes
-- every import idempotent.
CREATE TABLE recon.processor_events (
    processor    text NOT NULL,
    txn_id       text NOT NULL,
    order_id     text NOT NULL,
    payment_ref  text,
    kind         text NOT NULL CHECK (kind IN ('charge', 'refund', 'dispute',
                                               'dispute_reversal', 'charge_failure',
                                               'refund_failure', 'partial_capture_reversal')),
    status       text NOT NULL CHECK (status IN ('succeeded', 'pending', 'failed')),
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    occurred_at  timestamptz NOT NULL,
    import_id    bigint REFERENCES recon.imports,
    source_line  bigint,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (processor, txn_id)
);
-- Workers stream a shard sorted by order_id in byte order.
CREATE INDEX processor_events_order_idx
    ON recon.processor_events (order_id COLLATE "C");
CREATE INDEX processor_events_occurred_idx
    ON recon.processor_events (occurred_at);

-- A row that could not be read: kept whole, with where and why.
CREATE TABLE recon.import_rejects (
    reject_id   bigserial PRIMARY KEY,
    import_id   bigint REFERENCES recon.imports,
    file_name   text NOT NULL,
    line        bigint NOT NULL,
    field       text,
    reason      text NOT NULL,
    raw         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_rejects_import_idx ON recon.import_rejects (import_id);
