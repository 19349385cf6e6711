/*  stats.c — metrics the broker reads from PostgreSQL when scraped.

    Design decision: what must survive a broker restart, or happens outside
    the broker (workers write mismatches, the CLI imports files), is read
    from the database, not counted in memory: jobs by state, queue latency
    and backlog, orders reconciled (sum of the jobs' durable checkpoints),
    mismatch transitions, the unresolved queue, import rows, runs. Each query is
    bounded: runs, jobs and imports are small tables (a row per window, per
    shard of a run, per file); the unresolved queue is read through its index; and the
    append-only recon.mismatch_history is counted incrementally by
    history_id — rows older than S_FREEZE are folded once into totals kept
    here, so a scrape reads only the last S_FREEZE of history (the whole
    table once, on the broker's first scrape). The one inexactness, stated
    in docs/OPERATIONS.md: a transaction that keeps history rows uncommitted
    for longer than S_FREEZE is counted only after the next broker restart.
    The refresh runs in the HTTP thread on its own connection, so a slow
    query never stalls the broker's loop.                                  */
#include "stats.h"
#include "recon/pg.h"
#include "recon/timestamp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MIN_INTERVAL_MS 5000
#define S_FREEZE "15 minutes"
#define S_MAX_KEYS 256

static const char *s_job_states[] = {"pending", "running", "succeeded", "dead", "cancelled"};
static const char *s_run_states[] = {"pending", "running", "succeeded", "failed", "cancelled"};
static const char *s_queue_statuses[] = {"open", "in_review", "snoozed"};
static const char *s_severities[] = {"critical", "high", "medium"};
static const char *s_sources[] = {"processor", "ledger", "fulfillment"};
static const char *s_outcomes[] = {"imported", "updated", "duplicate", "skipped", "rejected"};
static const char *s_actions[] = {"opened", "auto_resolved", "reopened"};
#define S_N(a) ((int) (sizeof (a) / sizeof (a)[0]))

typedef struct {
    int action;
    char kind[64], severity[16];
    double frozen;  /* rows at or below the watermark */
    double live;    /* rows above it, recounted each refresh */
} s_key_t;

struct broker_stats {
    pthread_mutex_t lock;
    char *url;
    recon_log_t *log;
    recon_db_t *db;
    int64_t last_ms;
    int64_t watermark; /* history_id: rows up to here are in s_key_t.frozen */
    s_key_t keys[S_MAX_KEYS];
    int nkeys;
    recon_metric_t *jobs, *latency, *waiting, *runs, *last_success, *orders, *transitions[3],
        *unresolved, *import_rows, *import_files, *db_up, *collect_seconds;
};

broker_stats_t *
broker_stats_new (recon_metrics_t *reg, const char *database_url, recon_log_t *log)
{
    broker_stats_t *s = calloc (1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init (&s->lock, NULL);
    s->log = log;
    s->url = strdup (database_url);
    s->jobs = recon_metrics_gauge (reg, "recon_jobs",
        "Jobs (shards of runs) by state, from recon.jobs.", "state");
    s->latency = recon_metrics_gauge (reg, "recon_queue_latency_seconds",
        "How long the oldest job that could run now has been waiting (0: none waits).", NULL);
    s->waiting = recon_metrics_gauge (reg, "recon_queue_waiting_jobs",
        "Jobs that could run now but no worker has taken (the backlog).", NULL);
    s->runs = recon_metrics_gauge (reg, "recon_runs", "Runs by state, from recon.runs.", "state");
    s->last_success = recon_metrics_gauge (reg, "recon_run_last_success_timestamp_seconds",
        "When the last run that succeeded finished (Unix time; 0: never).", NULL);
    s->orders = recon_metrics_counter (reg, "recon_orders_reconciled_total",
        "Orders reconciled, summed over every job's durable checkpoint.", NULL);
    s->transitions[0] = recon_metrics_counter (reg, "recon_mismatches_opened_total",
        "Mismatches recon opened, by kind and severity.", "kind,severity");
    s->transitions[1] = recon_metrics_counter (reg, "recon_mismatches_auto_resolved_total",
        "Mismatches recon resolved itself because later facts agree, by kind and severity.",
        "kind,severity");
    s->transitions[2] = recon_metrics_counter (reg, "recon_mismatches_reopened_total",
        "Resolved mismatches recon reopened on new facts, by kind and severity.",
        "kind,severity");
    s->unresolved = recon_metrics_gauge (reg, "recon_mismatches_unresolved",
        "Mismatch queue items not resolved, by status and severity.", "status,severity");
    s->import_rows = recon_metrics_counter (reg, "recon_import_rows_total",
        "Rows of imported files by source and outcome (recon import).", "source,outcome");
    s->import_files = recon_metrics_counter (reg, "recon_import_files_total",
        "Files imported by source.", "source");
    s->db_up = recon_metrics_gauge (reg, "recon_metrics_db_up",
        "1 when the last read of database-derived metrics succeeded.", NULL);
    s->collect_seconds = recon_metrics_gauge (reg, "recon_metrics_db_collect_seconds",
        "Time the last read of database-derived metrics took.", NULL);
    if (!s->url || !s->jobs || !s->latency || !s->waiting || !s->runs || !s->last_success
        || !s->orders
        || !s->transitions[0] || !s->transitions[1] || !s->transitions[2] || !s->unresolved
        || !s->import_rows || !s->import_files || !s->db_up || !s->collect_seconds)
        broker_stats_destroy (&s);
    return s;
}

void
broker_stats_destroy (broker_stats_t **p)
{
    if (!p || !*p)
        return;
    recon_db_destroy (&(*p)->db);
    pthread_mutex_destroy (&(*p)->lock);
    free ((*p)->url);
    free (*p);
    *p = NULL;
}

static double
s_num (const PGresult *r, int row, int col)
{
    return PQgetisnull (r, row, col) ? 0 : strtod (PQgetvalue (r, row, col), NULL);
}

static recon_db_t *
s_connect (broker_stats_t *s)
{
    if (s->db && PQstatus (recon_db_conn (s->db)) == CONNECTION_OK)
        return s->db;
    recon_db_destroy (&s->db);
    s->db = recon_db_connect (s->url, "recon-broker metrics");
    if (recon_db_ok (s->db)
        && recon_db_exec (s->db, "SET statement_timeout = '5s'; SET lock_timeout = '1s'") == 0)
        return s->db;
    recon_log_kv (s->log, RECON_LOG_WARN, "metrics.db_unavailable", "error",
                  s->db ? recon_db_errstr (s->db) : "out of memory", NULL);
    recon_db_destroy (&s->db);
    return NULL;
}

static int
s_jobs (broker_stats_t *s, recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "SELECT state, count(*), coalesce(sum(orders_done), 0) FROM recon.jobs GROUP BY state",
        0, NULL);
    if (!r)
        return -1;
    double orders = 0;
    for (int i = 0; i < S_N (s_job_states); i++) {
        double n = 0;
        for (int row = 0; row < PQntuples (r); row++)
            if (strcmp (PQgetvalue (r, row, 0), s_job_states[i]) == 0)
                n = s_num (r, row, 1);
        recon_metric_set (s->jobs, (const char *[]) {s_job_states[i]}, n);
    }
    for (int row = 0; row < PQntuples (r); row++)
        orders += s_num (r, row, 2);
    recon_metric_set (s->orders, NULL, orders);
    PQclear (r);
    /*  Waiting since its run was created or its backoff ended, whichever
        is later; only jobs of live runs that a worker could take now.     */
    r = recon_db_query (db,
        "SELECT count(*), coalesce(extract(epoch FROM now() - "
        "       min(greatest(r.created_at, j.not_before))), 0), "
        "       (SELECT coalesce(extract(epoch FROM max(finished_at)), 0) FROM recon.runs "
        "         WHERE state = 'succeeded') "
        "  FROM recon.jobs j JOIN recon.runs r USING (run_id) "
        " WHERE j.state = 'pending' AND (j.not_before IS NULL OR j.not_before <= now()) "
        "   AND r.state IN ('pending', 'running')", 0, NULL);
    if (!r)
        return -1;
    recon_metric_set (s->waiting, NULL, s_num (r, 0, 0));
    double age = s_num (r, 0, 1);
    recon_metric_set (s->latency, NULL, age > 0 ? age : 0);
    recon_metric_set (s->last_success, NULL, s_num (r, 0, 2));
    PQclear (r);
    /*  Runs: one row per window (a few a day), counted whole.             */
    r = recon_db_query (db, "SELECT state, count(*) FROM recon.runs GROUP BY state", 0, NULL);
    if (!r)
        return -1;
    for (int i = 0; i < S_N (s_run_states); i++) {
        double n = 0;
        for (int row = 0; row < PQntuples (r); row++)
            if (strcmp (PQgetvalue (r, row, 0), s_run_states[i]) == 0)
                n = s_num (r, row, 1);
        recon_metric_set (s->runs, (const char *[]) {s_run_states[i]}, n);
    }
    PQclear (r);
    return 0;
}

static s_key_t *
s_key (broker_stats_t *s, int action, const char *kind, const char *severity)
{
    for (int i = 0; i < s->nkeys; i++)
        if (s->keys[i].action == action && strcmp (s->keys[i].kind, kind) == 0
            && strcmp (s->keys[i].severity, severity) == 0)
            return &s->keys[i];
    if (s->nkeys == S_MAX_KEYS)
        return NULL;
    s_key_t *k = &s->keys[s->nkeys++];
    memset (k, 0, sizeof *k);
    k->action = action;
    snprintf (k->kind, sizeof k->kind, "%s", kind);
    snprintf (k->severity, sizeof k->severity, "%s", severity);
    return k;
}

static int
s_action (const char *name)
{
    for (int i = 0; i < S_N (s_actions); i++)
        if (strcmp (name, s_actions[i]) == 0)
            return i;
    return -1;
}

/*  The incremental count of recon.mismatch_history (see the top comment). */
static int
s_history (broker_stats_t *s, recon_db_t *db)
{
    char from[24];
    snprintf (from, sizeof from, "%lld", (long long) s->watermark);
    const char *p1[] = {from};
    PGresult *r = recon_db_query (db,
        "SELECT coalesce(max(history_id), $1::bigint) FROM recon.mismatch_history "
        " WHERE history_id > $1::bigint AND at < now() - interval '" S_FREEZE "'", 1, p1);
    if (!r)
        return -1;
    char upto[24];
    snprintf (upto, sizeof upto, "%s", PQgetvalue (r, 0, 0));
    PQclear (r);
    const char *p2[] = {from, upto};
    r = recon_db_query (db,
        "SELECT h.action, m.kind, m.severity, h.history_id <= $2::bigint, count(*) "
        "  FROM recon.mismatch_history h JOIN recon.mismatches m USING (mismatch_id) "
        " WHERE h.history_id > $1::bigint AND h.actor = 'recon' "
        "   AND h.action IN ('opened', 'auto_resolved', 'reopened') "
        " GROUP BY 1, 2, 3, 4", 2, p2);
    if (!r)
        return -1;
    for (int i = 0; i < s->nkeys; i++)
        s->keys[i].live = 0;
    for (int row = 0; row < PQntuples (r); row++) {
        s_key_t *k = s_key (s, s_action (PQgetvalue (r, row, 0)), PQgetvalue (r, row, 1),
                            PQgetvalue (r, row, 2));
        if (!k)
            continue; /* more than S_MAX_KEYS kinds × severities: a bug elsewhere */
        if (strcmp (PQgetvalue (r, row, 3), "t") == 0)
            k->frozen += s_num (r, row, 4);
        else
            k->live += s_num (r, row, 4);
    }
    PQclear (r);
    s->watermark = strtoll (upto, NULL, 10);
    for (int i = 0; i < s->nkeys; i++) {
        const s_key_t *k = &s->keys[i];
        if (k->action >= 0)
            recon_metric_set (s->transitions[k->action],
                              (const char *[]) {k->kind, k->severity}, k->frozen + k->live);
    }
    return 0;
}

static int
s_queue_and_imports (broker_stats_t *s, recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "SELECT status, severity, count(*) FROM recon.mismatches "
        " WHERE status IN ('open', 'in_review', 'snoozed') GROUP BY 1, 2", 0, NULL);
    if (!r)
        return -1;
    for (int i = 0; i < S_N (s_queue_statuses); i++)
        for (int j = 0; j < S_N (s_severities); j++) {
            double n = 0;
            for (int row = 0; row < PQntuples (r); row++)
                if (strcmp (PQgetvalue (r, row, 0), s_queue_statuses[i]) == 0
                    && strcmp (PQgetvalue (r, row, 1), s_severities[j]) == 0)
                    n = s_num (r, row, 2);
            recon_metric_set (s->unresolved,
                              (const char *[]) {s_queue_statuses[i], s_severities[j]}, n);
        }
    PQclear (r);
    r = recon_db_query (db,
        "SELECT source, count(*), sum(rows_imported), sum(rows_updated), sum(rows_duplicate), "
        "       sum(rows_skipped), sum(rows_rejected) FROM recon.imports "
        " WHERE finished_at IS NOT NULL GROUP BY source", 0, NULL);
    if (!r)
        return -1;
    for (int i = 0; i < S_N (s_sources); i++) {
        int row = -1;
        for (int k = 0; k < PQntuples (r); k++)
            if (strcmp (PQgetvalue (r, k, 0), s_sources[i]) == 0)
                row = k;
        recon_metric_set (s->import_files, (const char *[]) {s_sources[i]},
                          row < 0 ? 0 : s_num (r, row, 1));
        for (int o = 0; o < S_N (s_outcomes); o++)
            recon_metric_set (s->import_rows, (const char *[]) {s_sources[i], s_outcomes[o]},
                              row < 0 ? 0 : s_num (r, row, 2 + o));
    }
    PQclear (r);
    return 0;
}

void
broker_stats_collect (void *arg)
{
    broker_stats_t *s = arg;
    pthread_mutex_lock (&s->lock);
    int64_t start = recon_clock_ms ();
    if (s->last_ms && start - s->last_ms < S_MIN_INTERVAL_MS) {
        pthread_mutex_unlock (&s->lock);
        return;
    }
    recon_db_t *db = s_connect (s);
    /*  One snapshot for every number of a scrape.                         */
    int ok = db && recon_db_exec (db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == 0;
    ok = ok && s_jobs (s, db) == 0 && s_history (s, db) == 0
         && s_queue_and_imports (s, db) == 0;
    if (db)
        recon_db_exec (db, ok ? "COMMIT" : "ROLLBACK");
    if (!ok && db) {
        recon_log_kv (s->log, RECON_LOG_WARN, "metrics.db_failed", "error",
                      recon_db_errstr (db), NULL);
        recon_db_destroy (&s->db); /* start clean next time */
    }
    recon_metric_set (s->db_up, NULL, ok);
    recon_metric_set (s->collect_seconds, NULL, (double) (recon_clock_ms () - start) / 1000.0);
    s->last_ms = start; /* after a failure too: a down database is not hammered */
    pthread_mutex_unlock (&s->lock);
}
