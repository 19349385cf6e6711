/*  job.c — one job from start to an end, surviving database restarts.

    Design decision: the job owns its four connections and its Redis hint
    and rebuilds them from nothing after any failure, resuming from the
    latest checkpoint. Because every batch is fenced and idempotent, "start
    again from the checkpoint" is always a correct recovery, so there is
    exactly one recovery path to test.                                     */
#include "job.h"
#include "recon/checkpoint.h"
#include "recon/pg.h"
#include "recon/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_SQL_RETRIES 3

typedef struct {
    recon_db_t *rw, *ro, *ledger, *fulfillment;
} s_dbs_t;

typedef struct {
    const recon_job_lease_t *spec;
    atomic_int *stop;
    worker_report_fn *report;
    void *arg;
    recon_checkpoint_t *cp;
    char token[40]; /* the job's uuid: its name in Redis */
    const worker_metrics_t *m;
    int64_t orders_seen;  /* orders_done at the last batch (or the resume point) */
    int64_t redis_failures_seen;
    int64_t batch_start_ms;
} s_batch_ctx_t;

/*  Adds Redis failures since the last call to the metric.                 */
static void
s_count_redis (s_batch_ctx_t *ctx)
{
    int64_t now = recon_checkpoint_failures (ctx->cp);
    if (ctx->m && now > ctx->redis_failures_seen)
        recon_metric_inc (ctx->m->redis_errors, NULL, (double) (now - ctx->redis_failures_seen));
    ctx->redis_failures_seen = now;
}

static void
s_close (s_dbs_t *d)
{
    recon_db_destroy (&d->rw);
    recon_db_destroy (&d->ro);
    recon_db_destroy (&d->ledger);
    recon_db_destroy (&d->fulfillment);
}

/*  0 when all four are up; else the first error in ERR.                   */
static int
s_open (const recon_config_t *cfg, s_dbs_t *d, char *err, size_t size)
{
    s_close (d);
    const char *own = recon_config_get (cfg, "database_url");
    d->rw = recon_db_connect (own, "recon-worker");
    d->ro = recon_db_connect (own, "recon-worker read");
    d->ledger = recon_db_connect (recon_config_get_url (cfg, "ledger_database_url"),
                                  "recon-worker ledger");
    d->fulfillment = recon_db_connect (recon_config_get_url (cfg, "fulfillment_database_url"),
                                       "recon-worker fulfillment");
    recon_db_t *all[] = {d->rw, d->ro, d->ledger, d->fulfillment};
    for (int i = 0; i < 4; i++)
        if (!recon_db_ok (all[i])) {
            snprintf (err, size, "%s", recon_db_errstr (all[i]));
            return -1;
        }
    return 0;
}

static int
s_connected (const s_dbs_t *d)
{
    const recon_db_t *all[] = {d->rw, d->ro, d->ledger, d->fulfillment};
    for (int i = 0; i < 4; i++)
        if (!all[i] || PQstatus (recon_db_conn ((recon_db_t *) all[i])) != CONNECTION_OK)
            return 0;
    return 1;
}

/*  Sleeps MS in small steps; returns 1 early when STOP is set.            */
static int
s_pause (atomic_int *stop, int64_t ms)
{
    for (int64_t t = 0; t < ms; t += 100) {
        if (atomic_load (stop))
            return 1;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep (&ts, NULL);
    }
    return atomic_load (stop);
}

/*  1 s, 2 s, … 30 s, ±20% jitter: many workers must not reconnect in step. */
static int64_t
s_backoff_ms (int failures, unsigned *seed)
{
    int64_t ms = 1000;
    for (int i = 1; i < failures && ms < 30000; i++)
        ms *= 2;
    if (ms > 30000)
        ms = 30000;
    return ms * (80 + rand_r (seed) % 41) / 100;
}

/*  Where to resume: the job row, committed with every batch. The Redis
    mirror can only lag it; a copy ahead of it would mean a bug or a foreign
    key, so it is reported and ignored. Returns 0, or -1 (DB error).       */
static int
s_resume_point (recon_checkpoint_t *cp, recon_db_t *db, const recon_job_lease_t *spec,
                recon_job_progress_t *p, char *token, recon_log_t *log)
{
    memset (p, 0, sizeof *p);
    char id[24];
    snprintf (id, sizeof id, "%lld", (long long) spec->job_id);
    const char *params[] = {id};
    PGresult *r = recon_db_query (db,
        "SELECT orders_done, mismatches, coalesce(last_order_id, ''), token FROM recon.jobs "
        "WHERE job_id = $1", 1, params);
    if (!r || PQntuples (r) != 1) {
        PQclear (r);
        return -1;
    }
    p->orders_done = atoll (PQgetvalue (r, 0, 0));
    p->mismatches = atoll (PQgetvalue (r, 0, 1));
    snprintf (p->last_order_id, sizeof p->last_order_id, "%s", PQgetvalue (r, 0, 2));
    snprintf (token, 40, "%s", PQgetvalue (r, 0, 3));
    PQclear (r);
    recon_job_progress_t mirror;
    if (cp && recon_checkpoint_load (cp, token, &mirror) == 1
        && mirror.orders_done > p->orders_done)
        recon_log_kv (log, RECON_LOG_WARN, "redis.checkpoint_ahead", NULL);
    return 0;
}

/*  A batch committed (the reconciler reports every one but the last,
    which ends the job, through s_on_batch; the last is counted on DONE).  */
static void
s_count_batch (s_batch_ctx_t *ctx, const recon_job_progress_t *progress)
{
    if (ctx->m) {
        int64_t now = recon_clock_ms ();
        recon_metric_inc (ctx->m->batches, NULL, 1);
        recon_metric_observe (ctx->m->batch_seconds, NULL,
                              (double) (now - ctx->batch_start_ms) / 1000.0);
        ctx->batch_start_ms = now;
        if (progress->orders_done > ctx->orders_seen)
            recon_metric_inc (ctx->m->orders, NULL,
                              (double) (progress->orders_done - ctx->orders_seen));
        recon_metric_set (ctx->m->current_orders, NULL, (double) progress->orders_done);
    }
    ctx->orders_seen = progress->orders_done;
    s_count_redis (ctx);
}

static int
s_on_batch (void *arg, const recon_job_progress_t *progress)
{
    s_batch_ctx_t *ctx = arg;
    int saved = ctx->cp ? recon_checkpoint_save (ctx->cp, ctx->token, progress) : -1;
    if (ctx->m && saved == 0)
        recon_metric_inc (ctx->m->checkpoint_writes, NULL, 1);
    s_count_batch (ctx, progress);
    worker_event_t ev = {WORKER_EV_PROGRESS, ctx->spec->job_id, ctx->spec->attempt, *progress, 0,
                         ""};
    if (ctx->report)
        ctx->report (ctx->arg, &ev);
    return atomic_load (ctx->stop);
}

static void
s_fill_spec (const recon_config_t *cfg, const recon_job_lease_t *w, recon_job_spec_t *spec)
{
    *spec = (recon_job_spec_t) {
        .job_id = w->job_id, .run_id = w->run_id, .attempt = w->attempt,
        .range_lo = w->range_lo, .range_hi = w->has_range_hi ? w->range_hi : NULL,
        .from = w->from, .to = w->to, .classify = w->classify,
        .ledger_relation = recon_config_get (cfg, "ledger_relation"),
        .fulfillment_relation = recon_config_get (cfg, "fulfillment_relation"),
        .batch_size = (int) recon_config_get_int (cfg, "batch_size"),
        .read_strategy = recon_config_get (cfg, "read_strategy"),
    };
}

void
worker_run_job (const recon_config_t *cfg, recon_log_t *log, const recon_job_lease_t *spec,
                atomic_int *stop, worker_report_fn *report, void *arg,
                const worker_metrics_t *metrics, worker_event_t *final)
{
    memset (final, 0, sizeof *final);
    final->job_id = spec->job_id;
    final->attempt = spec->attempt;
    unsigned seed = (unsigned) (spec->job_id * 7919 + spec->attempt + (int64_t) time (NULL));
    char err[512] = "";
    s_dbs_t dbs = {0};
    recon_checkpoint_t *cp = recon_checkpoint_new (recon_config_get (cfg, "redis_url"), log);
    recon_job_spec_t rspec;
    s_fill_spec (cfg, spec, &rspec);
    s_batch_ctx_t ctx = {spec, stop, report, arg, cp, "", metrics, 0, 0, 0};
    int lost = 0, sql_failures = 0;
    for (;;) {
        if (atomic_load (stop)) {
            final->type = WORKER_EV_STOPPED;
            break;
        }
        if (s_open (cfg, &dbs, err, sizeof err) < 0) {
            recon_log_kv (log, RECON_LOG_WARN, "job.db_unavailable", "error", err, NULL);
            if (metrics)
                recon_metric_inc (metrics->db_errors, NULL, 1);
            s_pause (stop, s_backoff_ms (++lost, &seed));
            continue;
        }
        lost = 0;
        recon_reconciler_t *r = recon_reconciler_new (dbs.rw, dbs.ro, dbs.ledger, dbs.fulfillment);
        if (!r) {
            final->type = WORKER_EV_FAILED;
            final->retryable = 1;
            snprintf (final->error, sizeof final->error, "out of memory");
            break;
        }
        if (s_resume_point (cp, dbs.ro, spec, &final->progress, ctx.token, log) < 0) {
            recon_reconciler_destroy (&r);
            s_pause (stop, s_backoff_ms (++lost, &seed));
            continue;
        }
        ctx.orders_seen = final->progress.orders_done;
        ctx.batch_start_ms = recon_clock_ms ();
        if (metrics)
            recon_metric_set (metrics->current_orders, NULL, (double) ctx.orders_seen);
        int rc = recon_reconciler_run (r, &rspec, &final->progress, s_on_batch, &ctx);
        snprintf (err, sizeof err, "%s", recon_reconciler_errstr (r));
        char job_id[24];
        snprintf (job_id, sizeof job_id, "%lld", (long long) spec->job_id);
        recon_log_kv (log, RECON_LOG_DEBUG, "job.read", "job_id", job_id, "strategy",
                      recon_reconciler_stream (r) ? "stream" : "lookup", NULL);
        recon_reconciler_destroy (&r);
        if (rc == RECON_JOB_DONE) {
            s_count_batch (&ctx, &final->progress);
            final->type = WORKER_EV_DONE;
            if (cp)
                recon_checkpoint_clear (cp, ctx.token);
            break;
        }
        if (rc == RECON_JOB_STOPPED) {
            final->type = WORKER_EV_STOPPED;
            break;
        }
        if (rc == RECON_JOB_FENCED) {
            final->type = WORKER_EV_FENCED;
            snprintf (final->error, sizeof final->error, "%s", err);
            break;
        }
        if (rc == RECON_JOB_EDATA || (s_connected (&dbs) && ++sql_failures >= S_SQL_RETRIES)) {
            final->type = WORKER_EV_FAILED;
            final->retryable = rc != RECON_JOB_EDATA;
            snprintf (final->error, sizeof final->error, "%s", err);
            break;
        }
        /*  A lost connection (or a first SQL error): back off, rebuild,
            resume from the checkpoint. An SQL error is likely to repeat:
            retry it soon and give up soon, so the broker can move on.     */
        recon_log_kv (log, RECON_LOG_WARN, "job.retry", "error", err, NULL);
        if (metrics)
            recon_metric_inc (metrics->db_errors, NULL, 1);
        s_pause (stop, s_connected (&dbs) ? 200 * sql_failures : s_backoff_ms (++lost, &seed));
    }
    s_close (&dbs);
    s_count_redis (&ctx);
    recon_checkpoint_destroy (&cp);
}
