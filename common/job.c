/*  job.c — job row transitions, each one fenced UPDATE.

    Design decision: the backoff is computed in SQL from the row's own
    failure count, so the broker keeps no retry state of its own and a
    restarted broker continues the same schedule.                          */
#include "recon/job.h"
#include "recon/copybuf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EPOCH(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static int64_t
s_i64 (const PGresult *r, int row, int col)
{
    return PQgetisnull (r, row, col) ? 0 : strtoll (PQgetvalue (r, row, col), NULL, 10);
}

int
recon_job_claim (recon_db_t *db, int64_t run_id, const char *worker, int64_t lease_us,
                 recon_job_lease_t *out)
{
    char run[24], lease[32];
    snprintf (run, sizeof run, "%lld", (long long) run_id);
    snprintf (lease, sizeof lease, "%lld microseconds", (long long) lease_us);
    const char *p[] = {run, worker, lease};
    PGresult *r = recon_db_query (db,
        "WITH next AS (SELECT j.job_id FROM recon.jobs j JOIN recon.runs r USING (run_id) "
        "               WHERE j.state = 'pending' AND (j.not_before IS NULL OR j.not_before <= now()) "
        "                 AND r.state IN ('pending', 'running') AND ($1::bigint = 0 OR j.run_id = $1) "
        "               ORDER BY j.run_id, j.shard FOR UPDATE OF j SKIP LOCKED LIMIT 1), "
        " claimed AS (UPDATE recon.jobs j SET state = 'running', attempt = attempt + 1, "
        "               locked_by = $2, lease_expires_at = now() + $3::interval, "
        "               started_at = coalesce(started_at, now()) "
        "             FROM next WHERE j.job_id = next.job_id RETURNING j.*), "
        " run AS (UPDATE recon.runs SET state = 'running', started_at = coalesce(started_at, now()) "
        "          WHERE run_id IN (SELECT run_id FROM claimed) AND state = 'pending') "
        "SELECT c.job_id, c.run_id, c.attempt, c.shard, r.shards, c.range_lo, c.range_hi, "
        S_EPOCH ("r.window_from") ", " S_EPOCH ("r.window_to") ", " S_EPOCH ("r.as_of") ", "
        "  r.settings FROM claimed c JOIN recon.runs r USING (run_id)", 3, p);
    if (!r)
        return -1;
    if (PQntuples (r) == 0) {
        PQclear (r);
        return 0;
    }
    memset (out, 0, sizeof *out);
    out->job_id = s_i64 (r, 0, 0);
    out->run_id = s_i64 (r, 0, 1);
    out->attempt = s_i64 (r, 0, 2);
    out->shard = (int) s_i64 (r, 0, 3);
    out->shards = (int) s_i64 (r, 0, 4);
    snprintf (out->range_lo, sizeof out->range_lo, "%s", PQgetvalue (r, 0, 5));
    out->has_range_hi = !PQgetisnull (r, 0, 6);
    snprintf (out->range_hi, sizeof out->range_hi, "%s", PQgetvalue (r, 0, 6));
    out->from = s_i64 (r, 0, 7);
    out->to = s_i64 (r, 0, 8);
    json_t *s = json_loads (PQgetvalue (r, 0, 10), 0, NULL);
    out->classify = (recon_classify_config_t) {
        s_i64 (r, 0, 9),
        json_integer_value (json_object_get (s, "grace_fulfillment")),
        json_integer_value (json_object_get (s, "grace_ledger")),
        json_integer_value (json_object_get (s, "grace_processor")),
        json_integer_value (json_object_get (s, "grace_cancel")),
        json_integer_value (json_object_get (s, "tolerance")),
    };
    json_decref (s);
    PQclear (r);
    return 1;
}

/*  "{1,2,3}" from N integers.                                              */
static char *
s_array (const int64_t *v, int n)
{
    recon_copybuf_t b = {0};
    recon_copybuf_cstr (&b, "{");
    for (int i = 0; i < n; i++) {
        if (i)
            recon_copybuf_cstr (&b, ",");
        recon_copybuf_int (&b, v[i]);
    }
    recon_copybuf_cstr (&b, "}");
    char *out = b.failed ? NULL : realloc (b.data, b.len + 1);
    if (!out) {
        free (b.data);
        return NULL;
    }
    out[b.len] = '\0';
    return out;
}

int
recon_job_renew (recon_db_t *db, const int64_t *job_ids, const int64_t *attempts, int n,
                 int64_t lease_us)
{
    if (n == 0)
        return 0;
    char lease[32];
    snprintf (lease, sizeof lease, "%lld microseconds", (long long) lease_us);
    char *ids = s_array (job_ids, n), *atts = s_array (attempts, n);
    int rc = -1;
    if (ids && atts) {
        const char *p[] = {ids, atts, lease};
        PGresult *r = recon_db_query (db,
            /*  SKIP LOCKED: a row is locked only while its worker commits
                a batch (or is paused right there); waiting for it would
                stall every other renewal. It is renewed next time.        */
            "UPDATE recon.jobs j SET lease_expires_at = now() + $3::interval "
            "  FROM (SELECT r.job_id FROM recon.jobs r "
            "          JOIN unnest($1::bigint[], $2::int[]) AS h(job_id, attempt) "
            "            ON r.job_id = h.job_id AND r.attempt = h.attempt "
            "         WHERE r.state = 'running' FOR UPDATE OF r SKIP LOCKED) k "
            " WHERE j.job_id = k.job_id",
            3, p);
        rc = r ? 0 : -1;
        PQclear (r);
    }
    free (ids);
    free (atts);
    return rc;
}

int
recon_job_handback (recon_db_t *db, int64_t job_id, int64_t attempt)
{
    char id[24], att[24];
    snprintf (id, sizeof id, "%lld", (long long) job_id);
    snprintf (att, sizeof att, "%lld", (long long) attempt);
    const char *p[] = {id, att};
    PGresult *r = recon_db_query (db,
        "UPDATE recon.jobs SET state = 'pending', locked_by = NULL, lease_expires_at = NULL, "
        "       not_before = NULL WHERE job_id = $1 AND attempt = $2 AND state = 'running'",
        2, p);
    if (!r)
        return -1;
    int n = atoi (PQcmdTuples (r));
    PQclear (r);
    return n;
}

int
recon_job_fail (recon_db_t *db, int64_t job_id, int64_t attempt, const char *reason,
                int retryable, const recon_job_retry_t *retry, int *dead)
{
    char id[24], att[24], base[24], cap[24];
    snprintf (id, sizeof id, "%lld", (long long) job_id);
    snprintf (att, sizeof att, "%lld", (long long) attempt);
    snprintf (base, sizeof base, "%lld", (long long) retry->base_us);
    snprintf (cap, sizeof cap, "%lld", (long long) retry->cap_us);
    const char *p[] = {id, att, retryable ? "t" : "f", base, cap, reason};
    PGresult *r = recon_db_query (db,
        "UPDATE recon.jobs SET failures = failures + 1, locked_by = NULL, "
        "  lease_expires_at = NULL, "
        "  state = CASE WHEN NOT $3::bool OR failures + 1 >= max_attempts THEN 'dead' "
        "               ELSE 'pending' END, "
        "  finished_at = CASE WHEN NOT $3::bool OR failures + 1 >= max_attempts THEN now() END, "
        "  not_before = now() + make_interval(secs => least($5::float8, $4::float8 "
        "               * power(failures + 1, 4)) / 1e6 * (0.9 + random() * 0.2)), "
        "  last_error = left($6, 1000) "
        "WHERE job_id = $1 AND attempt = $2 AND state = 'running' RETURNING state",
        6, p);
    if (!r)
        return -1;
    int n = PQntuples (r);
    if (dead)
        *dead = n && strcmp (PQgetvalue (r, 0, 0), "dead") == 0;
    PQclear (r);
    return n;
}

int
recon_job_expire_leases (recon_db_t *db, const recon_job_retry_t *retry, int *dead)
{
    if (dead)
        *dead = 0;
    PGresult *r = recon_db_query (db,
        "SELECT job_id, attempt, coalesce(locked_by, '?') FROM recon.jobs "
        "WHERE state = 'running' AND lease_expires_at < now()", 0, NULL);
    if (!r)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples (r); i++) {
        char reason[200];
        snprintf (reason, sizeof reason, "lease expired: %s stopped renewing it",
                  PQgetvalue (r, i, 2));
        int is_dead = 0;
        int rc = recon_job_fail (db, s_i64 (r, i, 0), s_i64 (r, i, 1), reason, 1, retry, &is_dead);
        if (rc < 0) {
            PQclear (r);
            return -1;
        }
        n += rc;
        if (dead && rc > 0)
            *dead += is_dead;
    }
    PQclear (r);
    return n;
}
