/*  main.c — recon-broker: hands jobs to workers, keeps them honest.

    Design decision: PostgreSQL holds the truth (job states, attempts,
    leases); the broker's memory holds only who is connected and what each
    worker holds. So a restarted broker resumes from the rows: leases that
    ran out are failed and retried, workers that are still busy say so in
    READY and are adopted, and nothing a worker did is lost or done twice.
    Metrics of what the broker itself does (dispatches, retries, expired
    heartbeats, job durations) are counted in memory; what must outlive it
    is read from PostgreSQL at scrape time (stats.c).                      */
#include "stats.h"
#include "recon/config.h"
#include "recon/cron.h"
#include "recon/job.h"
#include "recon/log.h"
#include "recon/metrics.h"
#include "recon/ops.h"
#include "recon/pg.h"
#include "recon/proto.h"
#include "recon/run.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

extern char **environ;

static volatile sig_atomic_t s_signal;

static void
s_on_signal (int sig)
{
    s_signal = sig;
}

#define S_MAX_PEERS 4096
#define S_ID_MAX 256

typedef struct {
    unsigned char identity[S_ID_MAX];
    size_t identity_len;
    char worker_id[65];
    int64_t expiry_ms;   /* dead when silent past this */
    int64_t job_id, attempt; /* 0: holds no job */
    int64_t run_id;          /* of the job held */
    int ready;               /* said READY holding nothing, not handed a job since */
    int64_t orders_done;
} s_peer_t;

/*  The broker's own counters (see the top comment).                       */
typedef struct {
    recon_metric_t *workers, *heartbeats_expired, *dispatched, *retried, *rescued, *dead,
        *handed_back, *succeeded, *duration, *malformed, *db_up, *build_info;
} s_metrics_t;

typedef struct {
    recon_config_t *cfg;
    recon_log_t *log;
    void *zctx, *router;
    recon_db_t *db;
    s_peer_t *peers;
    int npeers;
    int64_t heartbeat_ms, liveness, lease_us;
    recon_job_retry_t retry;
    int64_t next_heartbeat, next_sweep, next_db_try, db_pause_ms;
    int dispatch_due;        /* a worker became idle: hand it a job now */
    int64_t next_dispatch;   /* not before (a storm of READYs is no storm of claims) */
    recon_cron_t *schedule;
    int64_t schedule_minute; /* last minute checked */
    recon_metrics_t *registry;
    s_metrics_t m;
    broker_stats_t *stats;
    recon_log_t *http_log;   /* the HTTP threads' own logger */
    recon_ops_t *ops;
} s_broker_t;

static const char *
s_i64 (char *buf, int64_t v)
{
    snprintf (buf, 24, "%lld", (long long) v);
    return buf;
}

/*  A job-related line: run_id, job_id and worker_id as context fields
    (so JSON logs carry them as fields), then the event's own pairs.      */
static void
s_log_job (s_broker_t *b, recon_log_level_t level, const char *event, int64_t run_id,
           int64_t job_id, const char *worker_id, ...)
{
    char run[24], job[24];
    recon_log_set_context (b->log, "run_id", run_id ? s_i64 (run, run_id) : NULL);
    recon_log_set_context (b->log, "job_id", s_i64 (job, job_id));
    recon_log_set_context (b->log, "worker_id", worker_id);
    va_list ap;
    va_start (ap, worker_id);
    recon_log_vkv (b->log, level, event, ap);
    va_end (ap);
    recon_log_set_context (b->log, "run_id", NULL);
    recon_log_set_context (b->log, "job_id", NULL);
    recon_log_set_context (b->log, "worker_id", NULL);
}

/* ---- the database ------------------------------------------------------- */

/*  Whether the connection is up. Not recon_db_ok: that also says no
    after any failed statement (a lock timeout, say), and the broker keeps
    a connection whose statement failed.                                   */
static int
s_db_up (const s_broker_t *b)
{
    return b->db && PQstatus (recon_db_conn (b->db)) == CONNECTION_OK;
}

/*  The database connection, reconnecting with backoff when it is down.
    NULL while unavailable: the broker keeps heartbeating meanwhile.        */
static recon_db_t *
s_db (s_broker_t *b)
{
    if (s_db_up (b))
        return b->db;
    int64_t now = recon_clock_ms ();
    if (now < b->next_db_try)
        return NULL;
    recon_db_destroy (&b->db);
    b->db = recon_db_connect (recon_config_get (b->cfg, "database_url"), "recon-broker");
    /*  The broker must never wait on a worker: a worker paused inside a
        batch holds row locks, and a broker blocked behind them would stop
        noticing that very worker's silence. A statement that would wait
        fails instead and is retried on the next sweep.                    */
    /*  LISTEN: `recon run` announces new jobs (see s_on_db_notice).    */
    if (recon_db_ok (b->db)
        && recon_db_exec (b->db, "SET lock_timeout = '500ms'; SET statement_timeout = '30s'; "
                                 "LISTEN " RECON_RUN_JOBS_CHANNEL) < 0)
        recon_log_kv (b->log, RECON_LOG_WARN, "db.session_settings", "error",
                      recon_db_errstr (b->db), NULL);
    if (recon_db_ok (b->db)) {
        recon_log_kv (b->log, RECON_LOG_INFO, "db.connected", NULL);
        b->db_pause_ms = 500;
        return b->db;
    }
    recon_log_kv (b->log, RECON_LOG_WARN, "db.unavailable", "error", recon_db_errstr (b->db), NULL);
    recon_db_destroy (&b->db);
    b->next_db_try = now + b->db_pause_ms;
    b->db_pause_ms = b->db_pause_ms * 2 > 30000 ? 30000 : b->db_pause_ms * 2;
    return NULL;
}

/*  After a failed statement: note it; the next s_db call reconnects.      */
static void
s_db_failed (s_broker_t *b, const char *what)
{
    recon_log_kv (b->log, RECON_LOG_WARN, "db.failed", "during", what, "error",
                  b->db ? recon_db_errstr (b->db) : "no connection", NULL);
}

/* ---- peers ---------------------------------------------------------------- */

static s_peer_t *
s_peer_find (s_broker_t *b, const unsigned char *id, size_t len)
{
    for (int i = 0; i < b->npeers; i++)
        if (b->peers[i].identity_len == len && memcmp (b->peers[i].identity, id, len) == 0)
            return &b->peers[i];
    return NULL;
}

static void
s_peer_remove (s_broker_t *b, s_peer_t *p)
{
    *p = b->peers[--b->npeers];
}

static void
s_send (s_broker_t *b, const unsigned char *id, size_t len, recon_msg_t *m)
{
    if (recon_proto_send (b->router, id, len, m) < 0 && zmq_errno () != EHOSTUNREACH)
        recon_log_kv (b->log, RECON_LOG_WARN, "send.failed", "command", recon_cmd_name (m->cmd),
                      "error", zmq_strerror (zmq_errno ()), NULL);
}

static void
s_disconnect (s_broker_t *b, const unsigned char *id, size_t len, const char *reason)
{
    recon_msg_t m = {.cmd = RECON_CMD_DISCONNECT};
    snprintf (m.reason, sizeof m.reason, "%s", reason);
    s_send (b, id, len, &m);
}

static void
s_settle (s_broker_t *b, int64_t run_id)
{
    recon_db_t *db = s_db (b);
    char state[16] = "", id[24];
    if (db && recon_run_settle (db, run_id, state) == 0 && *state)
        recon_log_kv (b->log, RECON_LOG_INFO, "run.finished", "run_id", s_i64 (id, run_id),
                      "state", state, NULL);
}

/*  The worker P held a job and failed it, or is gone (RESCUED: the job is
    taken back from a worker that vanished): spend an attempt.             */
static void
s_fail_job (s_broker_t *b, s_peer_t *p, const char *reason, int retryable, int rescued)
{
    recon_db_t *db = s_db (b);
    char att[24];
    int dead = 0, rc = db ? recon_job_fail (db, p->job_id, p->attempt, reason, retryable,
                                            &b->retry, &dead) : -1;
    if (rc < 0)
        s_db_failed (b, "failing a job"); /* the lease expiry sweep catches it later */
    if (rc > 0) {
        recon_metric_inc (dead ? b->m.dead : b->m.retried, NULL, 1);
        if (rescued)
            recon_metric_inc (b->m.rescued, NULL, 1);
    }
    s_log_job (b, dead ? RECON_LOG_ERROR : RECON_LOG_WARN, dead ? "job.dead" : "job.retry",
               p->run_id, p->job_id, p->worker_id, "attempt", s_i64 (att, p->attempt),
               "reason", reason, NULL);
    int64_t run_id = p->run_id;
    p->job_id = p->attempt = p->run_id = 0;
    if (dead && run_id)
        s_settle (b, run_id);
}

/* ---- messages ------------------------------------------------------------- */

static void
s_on_ready (s_broker_t *b, const unsigned char *id, size_t len, const recon_msg_t *m)
{
    s_peer_t *p = s_peer_find (b, id, len);
    if (p && p->job_id && !(m->has_holding && m->job_id == p->job_id))
        s_fail_job (b, p, "worker restarted its job loop", 1, 1);
    if (!p) {
        if (b->npeers == S_MAX_PEERS) {
            s_disconnect (b, id, len, "too many workers");
            return;
        }
        p = &b->peers[b->npeers++];
        memset (p, 0, sizeof *p);
        memcpy (p->identity, id, len);
        p->identity_len = len;
    }
    snprintf (p->worker_id, sizeof p->worker_id, "%s", m->worker_id);
    p->expiry_ms = recon_clock_ms () + b->heartbeat_ms * b->liveness;
    if (m->has_holding && !p->job_id) {
        /*  A worker still busy from before our restart: adopt the job if
            its lease is still its own, else tell it to drop the job.     */
        recon_db_t *db = s_db (b);
        int64_t ids[] = {m->job_id}, atts[] = {m->attempt};
        int ok = db && recon_job_renew (db, ids, atts, 1, b->lease_us) == 0;
        char job[24], att[24];
        int64_t run_id = 0;
        PGresult *r = NULL;
        if (ok) {
            const char *q[] = {s_i64 (job, m->job_id), s_i64 (att, m->attempt)};
            r = recon_db_query (db, "SELECT run_id FROM recon.jobs WHERE job_id = $1 AND "
                                    "attempt = $2 AND state = 'running'", 2, q);
            ok = r && PQntuples (r) == 1;
            run_id = ok ? strtoll (PQgetvalue (r, 0, 0), NULL, 10) : 0;
            PQclear (r);
        }
        if (ok) {
            p->job_id = m->job_id;
            p->attempt = m->attempt;
            p->run_id = run_id;
            s_log_job (b, RECON_LOG_INFO, "job.adopted", run_id, m->job_id, p->worker_id, NULL);
        } else {
            recon_msg_t c = {.cmd = RECON_CMD_CANCEL, .job_id = m->job_id, .attempt = m->attempt};
            s_send (b, id, len, &c);
        }
    }
    /*  Only READY makes a worker dispatchable. A worker that ends a job
        says DONE or FAILED and then READY; were DONE enough, a sweep
        between the two would hand it a job that the READY (holding
        nothing) then fails as "restarted its job loop" — an attempt spent
        and a retry pause on the run's critical path (seen in a bench run:
        17 s). The same holds for a cancelled job: the worker is busy until
        it stops and says READY.                                         */
    p->ready = !m->has_holding && !p->job_id;
    if (p->ready)
        b->dispatch_due = 1;
    recon_log_kv (b->log, RECON_LOG_INFO, "worker.ready", "worker_id", p->worker_id, NULL);
}

/*  DONE, FAILED, PROGRESS must name the job the worker holds.              */
static int
s_holds (const s_peer_t *p, const recon_msg_t *m)
{
    return p->job_id && p->job_id == m->job_id && p->attempt == m->attempt;
}

/*  A succeeded job's time from its first lease to its last batch, in
    seconds, from the row (so retries and adopted jobs count right); -1
    when it cannot be read.                                                */
static double
s_job_seconds (s_broker_t *b, int64_t job_id)
{
    recon_db_t *db = s_db (b);
    char id[24];
    const char *q[] = {s_i64 (id, job_id)};
    PGresult *r = db ? recon_db_query (db,
        "SELECT extract(epoch FROM finished_at - started_at) FROM recon.jobs "
        " WHERE job_id = $1 AND state = 'succeeded'", 1, q) : NULL;
    double seconds = r && PQntuples (r) && !PQgetisnull (r, 0, 0)
                         ? strtod (PQgetvalue (r, 0, 0), NULL) : -1;
    PQclear (r);
    return seconds;
}

static void
s_on_job_message (s_broker_t *b, s_peer_t *p, const recon_msg_t *m)
{
    char n[24];
    if (m->cmd == RECON_CMD_PROGRESS) {
        p->orders_done = m->orders_done;
        return;
    }
    if (m->cmd == RECON_CMD_DONE) {
        /*  The worker marked the job succeeded in its last fenced batch. */
        double seconds = s_job_seconds (b, m->job_id);
        recon_metric_inc (b->m.succeeded, NULL, 1);
        if (seconds >= 0)
            recon_metric_observe (b->m.duration, NULL, seconds);
        s_log_job (b, RECON_LOG_INFO, "job.done", p->run_id, m->job_id, p->worker_id, "orders",
                   s_i64 (n, m->orders_done), NULL);
        int64_t run = p->run_id;
        p->job_id = p->attempt = p->run_id = 0;
        if (run)
            s_settle (b, run);
        return;
    }
    s_fail_job (b, p, m->error, m->retryable, 0);
}

static void
s_on_disconnect (s_broker_t *b, s_peer_t *p, const recon_msg_t *m)
{
    if (p->job_id && m->has_job && m->handback && s_holds (p, m)) {
        recon_db_t *db = s_db (b);
        if (!db || recon_job_handback (db, p->job_id, p->attempt) < 0)
            s_db_failed (b, "handing a job back"); /* its lease will expire instead */
        else
            recon_metric_inc (b->m.handed_back, NULL, 1);
        s_log_job (b, RECON_LOG_INFO, "job.handed_back", p->run_id, p->job_id, p->worker_id,
                   NULL);
    } else if (p->job_id) {
        s_fail_job (b, p, "worker disconnected", 1, 1);
    }
    recon_log_kv (b->log, RECON_LOG_INFO, "worker.gone", "worker_id", p->worker_id, NULL);
    s_peer_remove (b, p);
}

static void
s_on_message (s_broker_t *b)
{
    unsigned char id[S_ID_MAX];
    size_t len = sizeof id;
    recon_msg_t m;
    char err[256];
    int rc = recon_proto_recv (b->router, 1, id, &len, &m, err, sizeof err);
    if (rc == RECON_PROTO_EAGAIN || rc == RECON_PROTO_ESOCKET)
        return;
    if (rc < 0) {
        /*  Untrusted input: log and drop, never more.                     */
        char who[2 * 16 + 1] = "";
        for (size_t i = 0; i < len && i < 16; i++)
            snprintf (who + 2 * i, 3, "%02x", id[i]);
        recon_log_kv (b->log, RECON_LOG_WARN, "message.malformed", "peer", who, "error", err, NULL);
        recon_metric_inc (b->m.malformed, NULL, 1);
        return;
    }
    s_peer_t *p = s_peer_find (b, id, len);
    if (m.cmd == RECON_CMD_READY) {
        s_on_ready (b, id, len, &m);
        return;
    }
    if (!p) {
        s_disconnect (b, id, len, "unknown worker: send READY");
        return;
    }
    p->expiry_ms = recon_clock_ms () + b->heartbeat_ms * b->liveness;
    switch (m.cmd) {
    case RECON_CMD_HEARTBEAT:
        return;
    case RECON_CMD_PROGRESS:
    case RECON_CMD_DONE:
    case RECON_CMD_FAILED:
        if (s_holds (p, &m)) {
            s_on_job_message (b, p, &m);
            return;
        }
        break;
    case RECON_CMD_DISCONNECT:
        s_on_disconnect (b, p, &m);
        return;
    default:
        break;
    }
    recon_log_kv (b->log, RECON_LOG_WARN, "message.unexpected", "command",
                  recon_cmd_name (m.cmd), "worker_id", p->worker_id, NULL);
    s_disconnect (b, id, len, "unexpected command");
    if (p->job_id)
        s_fail_job (b, p, "protocol error", 1, 1);
    s_peer_remove (b, p);
}

/* ---- periodic work ---------------------------------------------------------- */

static void
s_heartbeat (s_broker_t *b, int64_t now)
{
    int busy = 0;
    if (now >= b->next_heartbeat) {
        for (int i = 0; i < b->npeers; i++) {
            recon_msg_t hb = {.cmd = RECON_CMD_HEARTBEAT};
            s_send (b, b->peers[i].identity, b->peers[i].identity_len, &hb);
        }
        b->next_heartbeat = now + b->heartbeat_ms;
    }
    for (int i = 0; i < b->npeers; i++) {
        s_peer_t *p = &b->peers[i];
        if (now <= p->expiry_ms) {
            busy += p->job_id != 0;
            continue;
        }
        recon_log_kv (b->log, RECON_LOG_WARN, "worker.silent", "worker_id", p->worker_id, NULL);
        recon_metric_inc (b->m.heartbeats_expired, NULL, 1);
        if (p->job_id)
            s_fail_job (b, p, "worker stopped answering heartbeats", 1, 1);
        s_peer_remove (b, p);
        i--;
    }
    recon_metric_set (b->m.workers, (const char *[]) {"busy"}, busy);
    recon_metric_set (b->m.workers, (const char *[]) {"idle"}, b->npeers - busy);
}

static void
s_dispatch (s_broker_t *b, recon_db_t *db)
{
    for (int i = 0; i < b->npeers; i++) {
        s_peer_t *p = &b->peers[i];
        if (p->job_id || !p->ready)
            continue;
        recon_job_lease_t l;
        int rc = recon_job_claim (db, 0, p->worker_id, b->lease_us, &l);
        if (rc < 0) {
            s_db_failed (b, "claiming a job");
            return;
        }
        if (rc == 0)
            return; /* nothing due */
        recon_msg_t m = {.cmd = RECON_CMD_JOB, .job_id = l.job_id, .run_id = l.run_id,
                         .attempt = l.attempt, .shard = l.shard, .shards = l.shards,
                         .has_range_hi = l.has_range_hi, .from = l.from, .to = l.to,
                         .as_of = l.classify.as_of,
                         .grace_fulfillment = l.classify.grace_fulfillment,
                         .grace_ledger = l.classify.grace_ledger,
                         .grace_processor = l.classify.grace_processor,
                         .grace_cancel = l.classify.grace_cancel,
                         .tolerance = l.classify.tolerance};
        snprintf (m.range_lo, sizeof m.range_lo, "%s", l.range_lo);
        snprintf (m.range_hi, sizeof m.range_hi, "%s", l.range_hi);
        p->job_id = l.job_id;
        p->attempt = l.attempt;
        p->run_id = l.run_id;
        p->orders_done = 0;
        p->ready = 0;
        s_send (b, p->identity, p->identity_len, &m);
        recon_metric_inc (b->m.dispatched, NULL, 1);
        char att[24];
        s_log_job (b, RECON_LOG_INFO, "job.dispatched", l.run_id, l.job_id, p->worker_id,
                   "attempt", s_i64 (att, l.attempt), NULL);
    }
}

/*  Jobs of cancelled runs: fence them (state cancelled) and tell holders. */
static void
s_cancellations (s_broker_t *b, recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "UPDATE recon.jobs j SET state = 'cancelled', finished_at = now(), locked_by = NULL, "
        "       lease_expires_at = NULL FROM recon.runs r "
        " WHERE r.run_id = j.run_id AND r.state = 'cancelled' AND j.state = 'running' "
        "RETURNING j.job_id, j.attempt, j.run_id, "
        "          (SELECT locked_by FROM recon.jobs o WHERE o.job_id = j.job_id)", 0, NULL);
    if (!r) {
        s_db_failed (b, "cancelling jobs");
        return;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        int64_t job = strtoll (PQgetvalue (r, i, 0), NULL, 10);
        int64_t att = strtoll (PQgetvalue (r, i, 1), NULL, 10);
        for (int k = 0; k < b->npeers; k++)
            if (b->peers[k].job_id == job && b->peers[k].attempt == att) {
                recon_msg_t m = {.cmd = RECON_CMD_CANCEL, .job_id = job, .attempt = att};
                s_send (b, b->peers[k].identity, b->peers[k].identity_len, &m);
                b->peers[k].job_id = b->peers[k].attempt = b->peers[k].run_id = 0;
            }
        s_log_job (b, RECON_LOG_INFO, "job.cancelled", strtoll (PQgetvalue (r, i, 2), NULL, 10),
                   job, PQgetisnull (r, i, 3) ? NULL : PQgetvalue (r, i, 3), NULL);
    }
    PQclear (r);
}

static void
s_renew_leases (s_broker_t *b, recon_db_t *db)
{
    int64_t ids[S_MAX_PEERS], atts[S_MAX_PEERS];
    int n = 0;
    for (int i = 0; i < b->npeers; i++)
        if (b->peers[i].job_id) {
            ids[n] = b->peers[i].job_id;
            atts[n++] = b->peers[i].attempt;
        }
    if (recon_job_renew (db, ids, atts, n, b->lease_us) < 0)
        s_db_failed (b, "renewing leases");
}

/*  Runs whose jobs are all over but that are not settled yet (a settle
    lost to a crash, or runs with no job left to report).                  */
static void
s_settle_all (s_broker_t *b, recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "SELECT run_id FROM recon.runs r WHERE state IN ('pending', 'running') AND NOT EXISTS "
        "(SELECT 1 FROM recon.jobs j WHERE j.run_id = r.run_id AND j.state IN ('pending', "
        "'running'))", 0, NULL);
    for (int i = 0; r && i < PQntuples (r); i++)
        s_settle (b, strtoll (PQgetvalue (r, i, 0), NULL, 10));
    PQclear (r);
}

/*  The broker's own schedule: one run per matching minute, made unique by
    its schedule key, so two brokers or a restart never double a run.      */
static void
s_schedule (s_broker_t *b, recon_db_t *db)
{
    if (!b->schedule)
        return;
    int64_t now = recon_now_us ();
    int64_t minute = now / (60 * RECON_USEC_PER_SEC) * (60 * RECON_USEC_PER_SEC);
    if (minute == b->schedule_minute)
        return;
    b->schedule_minute = minute;
    if (!recon_cron_matches (b->schedule, minute))
        return;
    char key[RECON_TIMESTAMP_BUFSIZE + 16];
    char at[RECON_TIMESTAMP_BUFSIZE];
    recon_timestamp_format (minute, at);
    snprintf (key, sizeof key, "schedule@%s", at);
    int64_t window = recon_config_get_duration_us (b->cfg, "schedule_window");
    recon_run_request_t req = {
        .from = minute - window, .to = minute, .as_of = now,
        .shards = (int) recon_config_get_int (b->cfg, "schedule_shards"),
        .max_attempts = (int) recon_config_get_int (b->cfg, "max_attempts"),
        .grace = {now, recon_config_get_duration_us (b->cfg, "grace_fulfillment"),
                  recon_config_get_duration_us (b->cfg, "grace_ledger"),
                  recon_config_get_duration_us (b->cfg, "grace_processor"),
                  recon_config_get_duration_us (b->cfg, "grace_cancel"),
                  recon_config_get_int (b->cfg, "amount_tolerance")},
        .ledger_relation = recon_config_get (b->cfg, "ledger_relation"),
        .fulfillment_relation = recon_config_get (b->cfg, "fulfillment_relation"),
        .requested_by = "schedule", .schedule_key = key};
    int64_t run_id = 0;
    int rc = recon_run_create (db, &req, &run_id);
    char id[24];
    if (rc < 0)
        s_db_failed (b, "creating a scheduled run");
    else if (rc == 0)
        recon_log_kv (b->log, RECON_LOG_INFO, "run.scheduled", "run_id", s_i64 (id, run_id),
                      "key", key, NULL);
}

static void
s_sweep (s_broker_t *b, int64_t now)
{
    if (now < b->next_sweep)
        return;
    b->next_sweep = now + 250;
    recon_db_t *db = s_db (b);
    if (!db)
        return;
    int dead = 0, expired = recon_job_expire_leases (db, &b->retry, &dead);
    if (expired < 0)
        s_db_failed (b, "expiring leases");
    if (expired > 0) {
        /*  Jobs of workers that vanished while nobody watched them.        */
        recon_metric_inc (b->m.rescued, NULL, expired);
        recon_metric_inc (b->m.retried, NULL, expired - dead);
        recon_metric_inc (b->m.dead, NULL, dead);
    }
    s_renew_leases (b, db);
    s_cancellations (b, db);
    s_settle_all (b, db);
    s_schedule (b, db);
    b->dispatch_due = 0; /* this dispatch serves it */
    s_dispatch (b, db);
}

/*  A `recon run` that just stored jobs says so (NOTIFY), and idle workers
    get them now, not at the next sweep. READABLE: bytes are waiting on the
    connection; a notice that arrived during one of our own statements is
    already read and only needs collecting. A broken connection is left
    to s_db to replace.                                                    */
static void
s_on_db_notice (s_broker_t *b, int readable)
{
    PGconn *conn = recon_db_conn (b->db);
    if (readable && !PQconsumeInput (conn))
        return;
    PGnotify *n;
    while ((n = PQnotifies (conn))) {
        b->dispatch_due = 1;
        PQfreemem (n);
    }
}

/*  A worker that finished a job says READY at once; waiting for the next
    sweep left it idle for up to 250 ms per job (tests/bench: two such
    gaps on a 2-worker run's critical path). At most every 10 ms, so a
    flood of READYs costs at most 100 claims a second.                    */
static void
s_dispatch_due (s_broker_t *b, int64_t now)
{
    if (!b->dispatch_due || now < b->next_dispatch)
        return;
    b->dispatch_due = 0;
    b->next_dispatch = now + 10;
    recon_db_t *db = s_db (b);
    if (db)
        s_dispatch (b, db);
}

/* ---- metrics and health ----------------------------------------------------- */

static const double s_duration_bounds[] = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600,
                                           7200, 14400};

static int
s_metrics_new (s_broker_t *b)
{
    recon_metrics_t *r = b->registry = recon_metrics_new ();
    if (!r)
        return -1;
    s_metrics_t *m = &b->m;
    m->build_info = recon_metrics_gauge (r, "recon_build_info",
        "Always 1; the version of the running recon-broker.", "version");
    m->workers = recon_metrics_gauge (r, "recon_workers",
        "Workers connected to this broker, by state (idle, busy).", "state");
    m->db_up = recon_metrics_gauge (r, "recon_broker_db_up",
        "1 while the broker's own PostgreSQL connection works (what /readyz reports).", NULL);
    m->heartbeats_expired = recon_metrics_counter (r, "recon_heartbeats_expired_total",
        "Workers dropped because their heartbeats stopped for RECON_LIVENESS beats.", NULL);
    m->dispatched = recon_metrics_counter (r, "recon_jobs_dispatched_total",
        "Jobs leased to a worker (each attempt once).", NULL);
    m->succeeded = recon_metrics_counter (r, "recon_jobs_succeeded_total",
        "Jobs a worker reported done.", NULL);
    m->retried = recon_metrics_counter (r, "recon_jobs_retried_total",
        "Failed attempts scheduled again after a backoff.", NULL);
    m->rescued = recon_metrics_counter (r, "recon_jobs_rescued_total",
        "Jobs taken back from a worker that vanished (silent, disconnected, lease expired).",
        NULL);
    m->dead = recon_metrics_counter (r, "recon_jobs_dead_total",
        "Jobs that spent their last attempt (state dead).", NULL);
    m->handed_back = recon_metrics_counter (r, "recon_jobs_handed_back_total",
        "Jobs handed back by workers shutting down cleanly (no attempt spent).", NULL);
    m->malformed = recon_metrics_counter (r, "recon_broker_messages_malformed_total",
        "Frames from peers that failed validation and were dropped.", NULL);
    m->duration = recon_metrics_histogram (r, "recon_job_duration_seconds",
        "Time from a job's first lease to its success, observed when its worker reports done.",
        NULL, s_duration_bounds, (int) (sizeof s_duration_bounds / sizeof *s_duration_bounds));
    if (!m->build_info || !m->workers || !m->db_up || !m->heartbeats_expired || !m->dispatched
        || !m->succeeded || !m->retried || !m->rescued || !m->dead || !m->handed_back
        || !m->malformed || !m->duration)
        return -1;
    recon_metric_set (m->build_info, (const char *[]) {RECON_VERSION}, 1);
    recon_metric_set (m->workers, (const char *[]) {"idle"}, 0);
    recon_metric_set (m->workers, (const char *[]) {"busy"}, 0);
    return 0;
}

/*  Starts the HTTP endpoint unless it is off. 0, or -1 (logged).          */
static int
s_ops_start (s_broker_t *b)
{
    const char *listen = recon_config_get (b->cfg, "broker_http");
    if (recon_ops_disabled (listen))
        return 0;
    b->http_log = recon_log_new ("recon-broker", stderr);
    if (!b->http_log)
        return -1;
    recon_config_apply_log (b->cfg, b->http_log);
    b->stats = broker_stats_new (b->registry, recon_config_get (b->cfg, "database_url"),
                                 b->http_log);
    if (!b->stats)
        return -1;
    char err[300], port[16];
    recon_ops_options_t o = {.listen = listen, .metrics = b->registry,
                             .collect = broker_stats_collect, .collect_arg = b->stats,
                             .stall_ms = 60000};
    b->ops = recon_ops_new (&o, err, sizeof err);
    if (!b->ops) {
        recon_log_kv (b->log, RECON_LOG_ERROR, "http.failed", "listen", listen, "error", err,
                      NULL);
        return -1;
    }
    snprintf (port, sizeof port, "%d", recon_ops_port (b->ops));
    recon_log_kv (b->log, RECON_LOG_INFO, "http.listening", "listen", listen, "port", port,
                  NULL);
    return 0;
}

/*  Ready while the broker's own connection works and it is not stopping. */
static void
s_health (s_broker_t *b)
{
    int db_ok = s_db_up (b);
    recon_metric_set (b->m.db_up, NULL, db_ok);
    recon_ops_beat (b->ops);
    if (s_signal)
        recon_ops_set_ready (b->ops, 0, "shutting down");
    else
        recon_ops_set_ready (b->ops, db_ok, "PostgreSQL unreachable");
}

/* ---- start-up ----------------------------------------------------------------- */

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon-broker [--config FILE] [--log-format text|json] [--log-level L]\n"
             "\n"
             "Binds a ZeroMQ ROUTER socket on RECON_BROKER_ENDPOINT and hands the jobs of\n"
             "runs stored in RECON_DATABASE_URL (recon run) to connected recon-workers,\n"
             "one job per worker: leases renewed by heartbeats, a silent worker's job\n"
             "retried elsewhere with backoff, dead after RECON_MAX_ATTEMPTS. With\n"
             "RECON_SCHEDULE set (cron: minute hour day month weekday, UTC) it also starts\n"
             "runs itself. SIGTERM or SIGINT: stop dispatching and exit 0 (all state is\n"
             "in PostgreSQL; workers keep their jobs and are adopted by the next broker).\n"
             "\n"
             "HTTP on RECON_BROKER_HTTP (default 127.0.0.1:9464; 0.0.0.0:9464 in a\n"
             "container; off to disable): GET /metrics (Prometheus), /livez (alias\n"
             "/healthz: 503 when the main loop has stalled for 60 s), /readyz (503 while\n"
             "PostgreSQL is unreachable or the broker is shutting down). A port that\n"
             "cannot be bound is a start-up error (exit 3).\n\n");
    recon_config_print_help (out);
}

static int
s_setup (int argc, char **argv, s_broker_t *b)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"log-format", required_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = getenv ("RECON_CONFIG"), *format = NULL, *level = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 'f': format = optarg; break;
        case 'l': level = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "recon-broker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    const char *flags[] = {"log_format", format, "log_level", level, NULL};
    if (recon_config_load (b->cfg, file, environ, flags) < 0) {
        fprintf (stderr, "recon-broker: %s\n", recon_config_errstr (b->cfg));
        return 2;
    }
    recon_config_apply_log (b->cfg, b->log);
    b->heartbeat_ms = recon_config_get_duration_us (b->cfg, "heartbeat") / 1000;
    b->liveness = recon_config_get_int (b->cfg, "liveness");
    b->lease_us = recon_config_get_duration_us (b->cfg, "job_lease");
    b->retry.base_us = recon_config_get_duration_us (b->cfg, "retry_base");
    b->retry.cap_us = recon_config_get_duration_us (b->cfg, "retry_cap");
    b->db_pause_ms = 500;
    const char *cron = recon_config_get (b->cfg, "schedule");
    if (*cron) {
        char err[200];
        b->schedule = recon_cron_new (cron, err, sizeof err);
        if (!b->schedule) {
            fprintf (stderr, "recon-broker: RECON_SCHEDULE '%s': %s\n", cron, err);
            return 2;
        }
    }
    if (b->heartbeat_ms < 10 || b->liveness < 1) {
        fprintf (stderr, "recon-broker: heartbeat must be >= 10ms and liveness >= 1\n");
        return 2;
    }
    return -1;
}

int
main (int argc, char **argv)
{
    s_broker_t b = {0};
    int rc = 3;
    b.cfg = recon_config_new ();
    b.log = recon_log_new ("recon-broker", stderr);
    b.peers = calloc (S_MAX_PEERS, sizeof *b.peers);
    if (!b.cfg || !b.log || !b.peers)
        goto done;
    rc = s_setup (argc, argv, &b);
    if (rc >= 0)
        goto done;
    rc = 3;
    if (s_metrics_new (&b) < 0 || s_ops_start (&b) < 0)
        goto done;
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    b.zctx = zmq_ctx_new ();
    b.router = zmq_socket (b.zctx, ZMQ_ROUTER);
    int linger = 0, mandatory = 1;
    /*  Peers are untrusted: refuse oversized frames before buffering them
        (a message carries at most a 64 KiB body).                         */
    int64_t max_msg = 2 * (int64_t) RECON_PROTO_BODY_MAX;
    zmq_setsockopt (b.router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (b.router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    zmq_setsockopt (b.router, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    const char *endpoint = recon_config_get (b.cfg, "broker_endpoint");
    if (zmq_bind (b.router, endpoint) < 0) {
        recon_log_kv (b.log, RECON_LOG_ERROR, "broker.bind_failed", "endpoint", endpoint, "error",
                      zmq_strerror (zmq_errno ()), NULL);
        goto done;
    }
    recon_log_kv (b.log, RECON_LOG_INFO, "broker.started", "endpoint", endpoint, "version",
                  RECON_VERSION, NULL);
    while (!s_signal) {
        zmq_pollitem_t items[] = {{b.router, 0, ZMQ_POLLIN, 0}, {NULL, -1, ZMQ_POLLIN, 0}};
        int nitems = 1;
        if (s_db_up (&b)) {
            items[1].fd = PQsocket (recon_db_conn (b.db));
            nitems = items[1].fd >= 0 ? 2 : 1;
        }
        if (zmq_poll (items, nitems, 100) < 0 && zmq_errno () != EINTR)
            break;
        if (nitems == 2)
            s_on_db_notice (&b, items[1].revents & ZMQ_POLLIN);
        /*  Drain what arrived, but bounded: periodic work must not starve. */
        for (int i = 0; i < 1000 && (items[0].revents & ZMQ_POLLIN); i++) {
            s_on_message (&b);
            int more;
            size_t size = sizeof more;
            zmq_getsockopt (b.router, ZMQ_EVENTS, &more, &size);
            if (!(more & ZMQ_POLLIN))
                break;
        }
        int64_t now = recon_clock_ms ();
        s_heartbeat (&b, now);
        s_sweep (&b, now);
        s_dispatch_due (&b, now);
        s_health (&b);
    }
    s_health (&b); /* not ready: shutting down */
    recon_log_kv (b.log, RECON_LOG_INFO, "broker.stopping", "signal",
                  s_signal == SIGTERM ? "SIGTERM" : s_signal == SIGINT ? "SIGINT" : NULL, NULL);
    recon_log_kv (b.log, RECON_LOG_INFO, "broker.stopped", NULL);
    rc = 0;
done:
    recon_ops_destroy (&b.ops); /* first: its threads read the registry and stats */
    broker_stats_destroy (&b.stats);
    recon_metrics_destroy (&b.registry);
    recon_log_destroy (&b.http_log);
    if (b.router)
        zmq_close (b.router);
    if (b.zctx)
        zmq_ctx_term (b.zctx);
    recon_cron_destroy (&b.schedule);
    recon_db_destroy (&b.db);
    free (b.peers);
    recon_log_destroy (&b.log);
    recon_config_destroy (&b.cfg);
    return rc;
}
