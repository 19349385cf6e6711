-- recon's own schema, version 5: who may read and work the queue.
--
-- Passwords are stored only as libsodium crypto_pwhash_str strings
-- (Argon2id, memory-hard, salted, parameters inside the string). Sessions
-- are stored by the SHA-256 of their token, so a copy of this table does
-- not let anyone sign in; each carries its own CSRF token.
CREATE TABLE recon.users (
    user_name     text PRIMARY KEY CHECK (user_name ~ '^[A-Za-z0-9._@-]{1,64}$' AND user_name <> 'recon'),
    role          text NOT NULL CHECK (role IN ('viewer', 'reviewer')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recon.sessions (
    token_sha256  text PRIMARY KEY,
    user_name     text NOT NULL REFERENCES recon.users ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON recon.sessions (expires_at);

-- The queue as each run left it, for the web page's chart ("open
-- mismatches and money at stake over the last runs"): written once when a
-- run ends, so drawing the chart never scans the queue.
CREATE TABLE recon.run_queue_snapshots (
    run_id      bigint NOT NULL REFERENCES recon.runs ON DELETE CASCADE,
    severity    text NOT NULL,
    currency    text NOT NULL,
    open_count  bigint NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (run_id, severity, currency)
);

CREATE FUNCTION recon.snapshot_queue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recon.compact_queue_totals();
    INSERT INTO recon.run_queue_snapshots (run_id, severity, currency, open_count, amount_minor)
    SELECT NEW.run_id, severity, currency, sum(n), sum(amount_minor)
      FROM recon.queue_totals WHERE status <> 'resolved'
     GROUP BY severity, currency HAVING sum(n) > 0
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER runs_snapshot_queue
    AFTER UPDATE OF state ON recon.runs FOR EACH ROW
    WHEN (NEW.state IN ('succeeded', 'failed', 'cancelled') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION recon.snapshot_queue();
