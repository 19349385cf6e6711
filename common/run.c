/*  run.c — creating, reading, cancelling and settling runs.

    Design decision: shard boundaries are percentiles, in byte order, of
    the order ids of the window's processor events (of a sample of whole
    orders when the window is large). Ranges
    (not hashes) let every source — including a company's own ledger
    database — select a shard with an index range scan that is already in
    the order the merge needs; orders that exist only in the ledger or in
    fulfillment still fall into exactly one range.                         */
#include "recon/run.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Windows of up to this many events get exact shard boundaries; larger
    ones a sample of about S_SAMPLE_EVENTS (see recon_run_create).         */
#define S_EXACT_EVENTS 200000
#define S_SAMPLE_EVENTS 100000

/*  How many of 1024 order-id hash slices to sample: all (exact) for a
    small window, else enough for about S_SAMPLE_EVENTS events.            */
static int
s_sample_slices (int64_t events)
{
    if (events <= S_EXACT_EVENTS)
        return 1024;
    int64_t k = 1024 * S_SAMPLE_EVENTS / events;
    return k < 1 ? 1 : (int) k;
}

static int
s_fail (recon_db_t *db, PGresult *res, const char *what)
{
    recon_db_fail (db, res, what);
    PQclear (res);
    PQclear (PQexec (recon_db_conn (db), "ROLLBACK"));
    return -1;
}

static int64_t
s_us (const PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? 0 : strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static char *
s_settings_json (const recon_run_request_t *req)
{
    json_t *o = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
        "grace_fulfillment", (json_int_t) req->grace.grace_fulfillment,
        "grace_ledger", (json_int_t) req->grace.grace_ledger,
        "grace_processor", (json_int_t) req->grace.grace_processor,
        "grace_cancel", (json_int_t) req->grace.grace_cancel,
        "tolerance", (json_int_t) req->grace.tolerance,
        "ledger_relation", req->ledger_relation,
        "fulfillment_relation", req->fulfillment_relation);
    char *text = o ? json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref (o);
    return text;
}

int
recon_run_create (recon_db_t *db, const recon_run_request_t *req, int64_t *run_id)
{
    PGconn *conn = recon_db_conn (db);
    char from[RECON_TIMESTAMP_BUFSIZE], to[RECON_TIMESTAMP_BUFSIZE], as_of[RECON_TIMESTAMP_BUFSIZE];
    char shards[16], attempts[16];
    recon_timestamp_format (req->from, from);
    recon_timestamp_format (req->to, to);
    recon_timestamp_format (req->as_of, as_of);
    snprintf (shards, sizeof shards, "%d", req->shards);
    snprintf (attempts, sizeof attempts, "%d", req->max_attempts > 0 ? req->max_attempts : 5);
    char *settings = s_settings_json (req);
    if (!settings)
        return recon_db_fail (db, NULL, "out of memory");
    PGresult *res = PQexec (conn, "BEGIN");
    PQclear (res);
    const char *p[] = {from, to, as_of, shards, settings, req->requested_by, req->schedule_key};
    res = PQexecParams (conn,
        "INSERT INTO recon.runs (window_from, window_to, as_of, shards, settings, requested_by, "
        "                        schedule_key) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) "
        "ON CONFLICT (schedule_key) DO NOTHING RETURNING run_id",
        7, NULL, p, NULL, NULL, 0);
    free (settings);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        return s_fail (db, res, "creating the run");
    if (PQntuples (res) == 0) {
        PQclear (res);
        PQclear (PQexec (conn, "ROLLBACK"));
        const char *k[] = {req->schedule_key};
        res = PQexecParams (conn, "SELECT run_id FROM recon.runs WHERE schedule_key = $1", 1,
                            NULL, k, NULL, NULL, 0);
        *run_id = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) ? s_us (res, 0, 0) : 0;
        PQclear (res);
        return 1;
    }
    *run_id = s_us (res, 0, 0);
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) *run_id);
    PQclear (res);
    /*  Boundaries: N-quantiles of the order ids of the window's events,
        so each shard gets about as many events (and an order's events
        stay in one shard). Past S_EXACT_EVENTS events they are taken
        from a sample of whole orders (a fixed 1/1024 slice of the order
        id hash per unit of $6), so an order's events are in or out
        together and the distinct count scales up without bias: at 1M
        orders the exact quantiles took 1.6 s before any worker could
        start, the sample 0.3 s, and the shards still differ by ~1%.      */
    char sample[24];
    const char *cq[] = {from, to};
    res = PQexecParams (conn,
        "SELECT count(*) FROM recon.processor_events "
        " WHERE (occurred_at >= $1 AND occurred_at < $2) "
        "    OR (imported_at >= $1 AND imported_at < $2)", 2, NULL, cq, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        return s_fail (db, res, "counting the window's events");
    snprintf (sample, sizeof sample, "%d", s_sample_slices (s_us (res, 0, 0)));
    PQclear (res);
    const char *q[] = {id, from, to, shards, attempts, sample};
    res = PQexecParams (conn,
        "WITH w AS (SELECT count(DISTINCT order_id COLLATE \"C\") * 1024 / $6::int AS n, "
        "                  percentile_disc((SELECT array_agg(k::float8 / $4::int) "
        "                                     FROM generate_series(1, $4::int - 1) k)) "
        "                  WITHIN GROUP (ORDER BY order_id COLLATE \"C\") AS cuts "
        "             FROM recon.processor_events "
        "            WHERE ((occurred_at >= $2 AND occurred_at < $3) "
        "               OR (imported_at >= $2 AND imported_at < $3)) "
        "              AND ($6::int >= 1024 OR (hashtext(order_id) & 1023) < $6::int)), "
        " cuts AS (SELECT DISTINCT unnest(coalesce(cuts, '{}'::text[])) AS cut FROM w), "
        " bounds AS (SELECT cut, row_number() OVER (ORDER BY cut COLLATE \"C\") AS k FROM cuts "
        "             WHERE cut IS NOT NULL AND cut <> ''), "
        " shards AS (SELECT 0 AS shard, '' AS lo, (SELECT cut FROM bounds WHERE k = 1) AS hi "
        "            UNION ALL SELECT k::int, cut, lead(cut) OVER (ORDER BY k) FROM bounds) "
        "INSERT INTO recon.jobs (run_id, shard, range_lo, range_hi, max_attempts, orders_estimate) "
        "SELECT $1, shard, lo, hi, $5, (SELECT n FROM w) / (SELECT count(*) FROM shards) "
        "  FROM shards",
        6, NULL, q, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        return s_fail (db, res, "planning the shards");
    PQclear (res);
    res = PQexecParams (conn,
        "UPDATE recon.runs SET shards = (SELECT count(*) FROM recon.jobs WHERE run_id = $1), "
        "  orders_estimate = (SELECT sum(orders_estimate) FROM recon.jobs WHERE run_id = $1) "
        "WHERE run_id = $1", 1, NULL, q, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        return s_fail (db, res, "counting the shards");
    PQclear (res);
    res = PQexec (conn, "NOTIFY " RECON_RUN_JOBS_CHANNEL); /* delivered at COMMIT */
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        return s_fail (db, res, "announcing the jobs");
    PQclear (res);
    res = PQexec (conn, "COMMIT");
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        return s_fail (db, res, "COMMIT");
    PQclear (res);
    return 0;
}

#define S_EPOCH(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static int
s_status (recon_db_t *db, int64_t run_id, int count_open, recon_run_status_t *out)
{
    memset (out, 0, sizeof *out);
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) run_id);
    const char *p[] = {id, count_open ? "t" : "f"};
    PGresult *res = recon_db_query (db,
        "SELECT r.run_id, r.state, " S_EPOCH ("r.window_from") ", " S_EPOCH ("r.window_to") ", "
        S_EPOCH ("r.as_of") ", " S_EPOCH ("r.created_at") ", " S_EPOCH ("r.finished_at") ", "
        "  r.shards, r.orders_estimate, "
        "  coalesce(sum(j.orders_done), 0), coalesce(sum(j.mismatches), 0), "
        "  count(*) FILTER (WHERE j.state = 'pending'), count(*) FILTER (WHERE j.state = 'running'), "
        "  count(*) FILTER (WHERE j.state = 'succeeded'), count(*) FILTER (WHERE j.state = 'dead'), "
        "  count(*) FILTER (WHERE j.state = 'cancelled'), "
        "  CASE WHEN $2::bool THEN (SELECT count(*) FROM recon.mismatches m "
        "        WHERE m.last_seen_run = r.run_id AND m.status IN ('open', 'in_review')) "
        "       ELSE -1 END, "
        S_EPOCH ("min(j.started_at)") ", "
        "  (SELECT left(last_error, 250) FROM recon.jobs d WHERE d.run_id = r.run_id "
        "     AND d.state = 'dead' LIMIT 1) "
        "FROM recon.runs r LEFT JOIN recon.jobs j USING (run_id) WHERE r.run_id = $1 "
        "GROUP BY r.run_id", 2, p);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 1;
    }
    out->run_id = s_us (res, 0, 0);
    snprintf (out->state, sizeof out->state, "%s", PQgetvalue (res, 0, 1));
    out->from = s_us (res, 0, 2);
    out->to = s_us (res, 0, 3);
    out->as_of = s_us (res, 0, 4);
    out->created_at = s_us (res, 0, 5);
    out->finished_at = s_us (res, 0, 6);
    out->shards = (int) s_us (res, 0, 7);
    out->orders_estimate = s_us (res, 0, 8);
    out->orders_done = s_us (res, 0, 9);
    out->mismatches_found = s_us (res, 0, 10);
    out->jobs_pending = (int) s_us (res, 0, 11);
    out->jobs_running = (int) s_us (res, 0, 12);
    out->jobs_succeeded = (int) s_us (res, 0, 13);
    out->jobs_dead = (int) s_us (res, 0, 14);
    out->jobs_cancelled = (int) s_us (res, 0, 15);
    out->open_mismatches = s_us (res, 0, 16);
    out->started_at = s_us (res, 0, 17);
    snprintf (out->last_error, sizeof out->last_error, "%s", PQgetvalue (res, 0, 18));
    PQclear (res);
    return 0;
}

int
recon_run_status (recon_db_t *db, int64_t run_id, recon_run_status_t *out)
{
    return s_status (db, run_id, 1, out);
}

int
recon_run_progress (recon_db_t *db, int64_t run_id, recon_run_status_t *out)
{
    return s_status (db, run_id, 0, out);
}

int
recon_run_cancel (recon_db_t *db, int64_t run_id)
{
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) run_id);
    const char *p[] = {id};
    PGresult *res = recon_db_query (db,
        "WITH r AS (UPDATE recon.runs SET state = 'cancelled', finished_at = now() "
        "            WHERE run_id = $1 AND state IN ('pending', 'running') RETURNING run_id), "
        " j AS (UPDATE recon.jobs SET state = 'cancelled', finished_at = now() "
        "        WHERE run_id IN (SELECT run_id FROM r) AND state = 'pending' RETURNING 1) "
        "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM j)", 1, p);
    if (!res)
        return -1;
    int found = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return found ? 0 : 1;
}

int
recon_run_settle (recon_db_t *db, int64_t run_id, char *state_out)
{
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) run_id);
    const char *p[] = {id};
    PGresult *res = recon_db_query (db,
        "WITH c AS (SELECT count(*) FILTER (WHERE state IN ('pending', 'running')) AS open, "
        "                  count(*) FILTER (WHERE state = 'dead') AS dead, "
        "                  count(*) FILTER (WHERE state = 'cancelled') AS cancelled "
        "             FROM recon.jobs WHERE run_id = $1) "
        "UPDATE recon.runs r SET finished_at = now(), "
        "       state = CASE WHEN r.state = 'cancelled' OR c.cancelled > 0 THEN 'cancelled' "
        "                    WHEN c.dead > 0 THEN 'failed' ELSE 'succeeded' END "
        "  FROM c WHERE r.run_id = $1 AND c.open = 0 AND r.finished_at IS NULL "
        /*  Delivered at commit to whoever waits (recon run --wait).      */
        "RETURNING r.state, pg_notify('" RECON_RUN_SETTLED_CHANNEL "', r.run_id::text)", 1, p);
    if (!res)
        return -1;
    if (state_out) {
        state_out[0] = '\0';
        if (PQntuples (res))
            snprintf (state_out, 16, "%s", PQgetvalue (res, 0, 0));
    }
    PQclear (res);
    return 0;
}

int
recon_run_listen (recon_db_t *db)
{
    return recon_db_exec (db, "LISTEN " RECON_RUN_SETTLED_CHANNEL) < 0 ? -1 : 0;
}

int
recon_run_wait_settled (recon_db_t *db, int64_t run_id, int timeout_ms)
{
    PGconn *conn = recon_db_conn (db);
    int found = 0;
    for (int waited = 0;; waited = 1) {
        if (!PQconsumeInput (conn))
            return recon_db_fail (db, NULL, "waiting for the run");
        PGnotify *n;
        while ((n = PQnotifies (conn))) {
            found |= strtoll (n->extra, NULL, 10) == run_id;
            PQfreemem (n);
        }
        if (found || waited)
            return found;
        struct pollfd pfd = {.fd = PQsocket (conn), .events = POLLIN};
        if (pfd.fd < 0)
            return recon_db_fail (db, NULL, "waiting for the run");
        if (poll (&pfd, 1, timeout_ms) < 0 && errno != EINTR)
            return recon_db_fail (db, NULL, "waiting for the run");
    }
}
