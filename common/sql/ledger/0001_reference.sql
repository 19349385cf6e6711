-- Reference double-entry ledger, version 1. recon only ever reads a
-- ledger through the view ledger.ledger_order_entries; this schema stands
-- in for a company's own books in the demo and the tests.

CREATE TABLE ledger.accounts (
    account_code text PRIMARY KEY,
    name         text NOT NULL,
    type         text NOT NULL CHECK (type IN ('asset', 'liability', 'equity',
                                               'revenue', 'expense'))
);
INSERT INTO ledger.accounts (account_code, name, type) VALUES
    ('1100', 'Processor clearing',   'asset'),
    ('2100', 'Customer deposits',    'liability'),
    ('4000', 'Sales revenue',        'revenue'),
    ('4900', 'Refunds and returns',  'revenue');

CREATE TABLE ledger.journal_entries (
    entry_id    text PRIMARY KEY,
    order_id    text,
    kind        text NOT NULL CHECK (kind IN ('charge', 'refund', 'adjustment')),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    recorded_at timestamptz NOT NULL,
    memo        text
);
CREATE INDEX journal_entries_order_idx
    ON ledger.journal_entries (order_id COLLATE "C");
CREATE INDEX journal_entries_recorded_idx
    ON ledger.journal_entries (recorded_at);

-- Each posting is a debit or a credit, never both, never negative.
CREATE TABLE ledger.postings (
    posting_id   bigserial PRIMARY KEY,
    entry_id     text NOT NULL REFERENCES ledger.journal_entries,
    account_code text NOT NULL REFERENCES ledger.accounts,
    debit_minor  bigint NOT NULL DEFAULT 0 CHECK (debit_minor >= 0),
    credit_minor bigint NOT NULL DEFAULT 0 CHECK (credit_minor >= 0),
    CHECK ((debit_minor = 0) <> (credit_minor = 0))
);
CREATE INDEX postings_entry_idx ON ledger.postings (entry_id);

-- Books are append-only: a correction is a new entry, never an edit.
CREATE FUNCTION ledger.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger.postings is append-only: post a correcting entry instead';
END $$;
CREATE TRIGGER postings_append_only
    BEFORE UPDATE OR DELETE ON ledger.postings
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();

-- Every entry touched by an INSERT statement must balance when it ends,
-- checked set-based so a bulk load of a million entries stays fast.
CREATE FUNCTION ledger.check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT p.entry_id INTO bad
      FROM ledger.postings p
     WHERE p.entry_id IN (SELECT DISTINCT entry_id FROM new_postings)
     GROUP BY p.entry_id
    HAVING sum(p.debit_minor) <> sum(p.credit_minor)
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance', bad;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_balanced
    AFTER INSERT ON ledger.postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.check_balanced();

-- Books one order's charge (debit clearing, credit revenue) or refund
-- (debit refunds, credit clearing) as a balanced entry.
CREATE FUNCTION ledger.post_order_entry(p_entry_id text, p_order_id text,
                                        p_kind text, p_amount_minor bigint,
                                        p_currency text, p_recorded_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_kind NOT IN ('charge', 'refund') THEN
        RAISE EXCEPTION 'kind must be charge or refund, not %', p_kind;
    END IF;
    IF p_amount_minor <= 0 THEN
        RAISE EXCEPTION 'amount must be positive minor units, not %', p_amount_minor;
    END IF;
    INSERT INTO ledger.journal_entries (entry_id, order_id, kind, currency, recorded_at)
    VALUES (p_entry_id, p_order_id, p_kind, upper(p_currency), p_recorded_at);
    INSERT INTO ledger.postings (entry_id, account_code, debit_minor, credit_minor)
    VALUES (p_entry_id, CASE p_kind WHEN 'charge' THEN '1100' ELSE '4900' END, p_amount_minor, 0),
           (p_entry_id, CASE p_kind WHEN 'charge' THEN '4000' ELSE '1100' END, 0, p_amount_minor);
END $$;

-- The contract recon reads (DESIGN.md): one row per order-related entry,
-- amount = the entry's total debits (positive), the kind gives direction.
CREATE VIEW ledger.ledger_order_entries AS
SELECT e.entry_id,
       e.order_id,
       e.kind,
       sum(p.debit_minor)::bigint AS amount_minor,
       e.currency,
       e.recorded_at
  FROM ledger.journal_entries e
  JOIN ledger.postings p ON p.entry_id = e.entry_id
 WHERE e.order_id IS NOT NULL
   AND e.kind IN ('charge', 'refund')
 GROUP BY e.entry_id, e.order_id, e.kind, e.currency, e.recorded_at;
