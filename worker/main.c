/*  main.c — recon-worker: takes jobs from recon-broker, one at a time.

    Design decision: the main thread owns the DEALER socket and does
    nothing but talk to the broker (READY, heartbeats, relaying progress),
    while the job runs in its own thread and reports over an inproc PAIR.
    A slow batch or a database outage therefore never silences the
    heartbeat, and SIGTERM is answered at the next batch boundary: finish
    the batch, checkpoint, hand the job back, exit 0. Metrics live in a
    registry the job thread, this thread and the HTTP threads share.      */
#include "job.h"
#include "recon/config.h"
#include "recon/job.h"
#include "recon/log.h"
#include "recon/metrics.h"
#include "recon/ops.h"
#include "recon/proto.h"
#include "recon/run.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

extern char **environ;

static volatile sig_atomic_t s_signal;
/*  --run has no main loop to relay the signal: the job watches this.      */
static atomic_int s_run_stop;

static void
s_on_signal (int sig)
{
    s_signal = sig;
    atomic_store (&s_run_stop, 1); /* lock-free: async-signal-safe */
}

typedef struct {
    recon_config_t *cfg;
    recon_log_t *log;
    void *zctx;
    void *dealer;
    void *pair;            /* main side of the job thread's channel */
    void *job_pair;        /* the job side: used by one job thread at a time */
    char worker_id[65];
    int64_t heartbeat_ms, liveness;
    int64_t next_heartbeat, broker_expiry, reconnect_ms;
    unsigned seed;
    /* the job, while one runs */
    int busy;
    pthread_t thread;
    recon_job_lease_t spec;
    atomic_int stop;
    int stopping;          /* SIGTERM: hand back and exit */
    int broker_heard;      /* a message since the last (re)connect */
    /* metrics and health */
    recon_metrics_t *registry;
    worker_metrics_t jm;   /* updated by the job thread */
    recon_metric_t *jobs, *busy_gauge, *connected, *build_info;
    recon_ops_t *ops;
} s_worker_t;

typedef struct {
    s_worker_t *w;
    recon_log_t *log;      /* the thread's own: loggers carry mutable context */
} s_thread_arg_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon-worker [--config FILE] [--log-format text|json] [--id NAME]\n"
             "       recon-worker --run RUN_ID       (no broker: reconcile a run's jobs here)\n"
             "\n"
             "Connects to recon-broker (RECON_BROKER_ENDPOINT), takes one job (a shard\n"
             "of a run) at a time, streams the three sources for it, classifies every\n"
             "order and writes mismatches to RECON_DATABASE_URL; checkpoints go to\n"
             "RECON_REDIS_URL. SIGTERM or SIGINT: finish the current batch, checkpoint,\n"
             "hand the job back to the broker and exit 0.\n"
             "\n"
             "HTTP on RECON_WORKER_HTTP (default off; e.g. 0.0.0.0:9465 in a container,\n"
             "127.0.0.1:0 for any free port, logged as http.listening): GET /metrics,\n"
             "/livez (alias /healthz: 503 when the main loop stalled for 30 s), /readyz\n"
             "(200 while connected to a broker that answers, 503 otherwise and while\n"
             "stopping). Not served with --run.\n"
             "\n"
             "  --run RUN_ID   process the pending jobs of RUN_ID in this process, one\n"
             "                 after another, without a broker (operations, tests);\n"
             "                 SIGTERM hands the current job back at a batch boundary\n"
             "                 (exit 0), another --run resumes it\n"
             "  --id NAME      worker name in logs and leases (RECON_WORKER_ID)\n"
             "\n");
    recon_config_print_help (out);
}

/*  A logger like the main one (format, level, worker id).                 */
static recon_log_t *
s_new_log (const s_worker_t *w)
{
    recon_log_t *log = recon_log_new ("recon-worker", stderr);
    if (!log)
        return NULL;
    recon_config_apply_log (w->cfg, log);
    recon_log_set_context (log, "worker_id", w->worker_id);
    return log;
}

/* ---- the job thread ------------------------------------------------------ */

static void
s_report (void *arg, const worker_event_t *ev)
{
    zmq_send (arg, ev, sizeof *ev, 0);
}

static void *
s_job_thread (void *arg)
{
    s_thread_arg_t *t = arg;
    worker_event_t final;
    /*  The job end of the channel outlives the thread: one socket passed
        from thread to thread (create/join are the full barriers zmq asks
        for), because a fresh PAIR reconnecting to the same endpoint can
        race the old pipe's teardown and block forever.                    */
    worker_run_job (t->w->cfg, t->log, &t->w->spec, &t->w->stop, s_report, t->w->job_pair,
                    &t->w->jm, &final);
    zmq_send (t->w->job_pair, &final, sizeof final, 0);
    recon_log_destroy (&t->log);
    free (t);
    return NULL;
}

static void
s_spec_from (const recon_msg_t *m, recon_job_lease_t *s)
{
    memset (s, 0, sizeof *s);
    s->job_id = m->job_id;
    s->run_id = m->run_id;
    s->attempt = m->attempt;
    s->shard = (int) m->shard;
    s->shards = (int) m->shards;
    snprintf (s->range_lo, sizeof s->range_lo, "%s", m->range_lo);
    s->has_range_hi = m->has_range_hi;
    snprintf (s->range_hi, sizeof s->range_hi, "%s", m->range_hi);
    s->from = m->from;
    s->to = m->to;
    s->classify = (recon_classify_config_t) {m->as_of, m->grace_fulfillment, m->grace_ledger,
                                             m->grace_processor, m->grace_cancel, m->tolerance};
}

static int
s_start_job (s_worker_t *w, const recon_msg_t *m)
{
    s_spec_from (m, &w->spec);
    atomic_store (&w->stop, 0);
    s_thread_arg_t *t = calloc (1, sizeof *t);
    if (!t)
        return -1;
    t->w = w;
    char job[24], attempt[24], run[24];
    snprintf (job, sizeof job, "%lld", (long long) m->job_id);
    snprintf (attempt, sizeof attempt, "%lld", (long long) m->attempt);
    snprintf (run, sizeof run, "%lld", (long long) m->run_id);
    t->log = s_new_log (w);
    if (t->log) {
        recon_log_set_context (t->log, "run_id", run);
        recon_log_set_context (t->log, "job_id", job);
        recon_log_set_context (t->log, "attempt", attempt);
    }
    if (!t->log || pthread_create (&w->thread, NULL, s_job_thread, t) != 0) {
        recon_log_destroy (&t->log);
        free (t);
        return -1;
    }
    w->busy = 1;
    recon_metric_set (w->busy_gauge, NULL, 1);
    recon_log_set_context (w->log, "run_id", run);
    recon_log_set_context (w->log, "job_id", job);
    recon_log_kv (w->log, RECON_LOG_INFO, "job.started", "attempt", attempt, "range_lo",
                  m->range_lo, "range_hi", m->has_range_hi ? m->range_hi : NULL, NULL);
    return 0;
}

/* ---- talking to the broker -------------------------------------------- */

static void
s_send (s_worker_t *w, recon_msg_t *m)
{
    if (w->dealer && recon_proto_send (w->dealer, NULL, 0, m) < 0)
        recon_log_kv (w->log, RECON_LOG_WARN, "broker.send_failed", "command",
                      recon_cmd_name (m->cmd), "error", zmq_strerror (zmq_errno ()), NULL);
}

static void
s_send_ready (s_worker_t *w)
{
    recon_msg_t m = {.cmd = RECON_CMD_READY};
    snprintf (m.worker_id, sizeof m.worker_id, "%s", w->worker_id);
    snprintf (m.version, sizeof m.version, "%s", RECON_VERSION);
    if (w->busy) {
        m.has_holding = 1;
        m.job_id = w->spec.job_id;
        m.attempt = w->spec.attempt;
    }
    s_send (w, &m);
}

static int
s_connect (s_worker_t *w)
{
    if (w->dealer)
        zmq_close (w->dealer);
    w->dealer = zmq_socket (w->zctx, ZMQ_DEALER);
    int linger = 0;
    int64_t max_msg = 2 * (int64_t) RECON_PROTO_BODY_MAX; /* the broker is a peer too */
    zmq_setsockopt (w->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (w->dealer, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    const char *endpoint = recon_config_get (w->cfg, "broker_endpoint");
    if (zmq_connect (w->dealer, endpoint) < 0) {
        recon_log_kv (w->log, RECON_LOG_ERROR, "broker.bad_endpoint", "endpoint", endpoint,
                      "error", zmq_strerror (zmq_errno ()), NULL);
        return -1;
    }
    s_send_ready (w);
    w->broker_expiry = recon_clock_ms () + w->heartbeat_ms * w->liveness;
    w->next_heartbeat = recon_clock_ms () + w->heartbeat_ms;
    w->broker_heard = 0;
    recon_log_kv (w->log, RECON_LOG_INFO, "broker.connecting", "endpoint", endpoint, NULL);
    return 0;
}

static void
s_send_job_msg (s_worker_t *w, recon_cmd_t cmd, const worker_event_t *ev)
{
    recon_msg_t m = {.cmd = cmd, .job_id = ev->job_id, .attempt = ev->attempt,
                     .orders_done = ev->progress.orders_done,
                     .mismatches = ev->progress.mismatches, .retryable = ev->retryable};
    snprintf (m.last_order_id, sizeof m.last_order_id, "%s", ev->progress.last_order_id);
    snprintf (m.error, sizeof m.error, "%s", ev->error);
    s_send (w, &m);
}

/*  A final event from the job thread: the job is over for this worker.   */
static void
s_job_ended (s_worker_t *w, const worker_event_t *ev)
{
    pthread_join (w->thread, NULL);
    w->busy = 0;
    char done[24];
    snprintf (done, sizeof done, "%lld", (long long) ev->progress.orders_done);
    static const char *names[] = {"progress", "done", "stopped", "fenced", "failed"};
    recon_log_kv (w->log, ev->type == WORKER_EV_DONE ? RECON_LOG_INFO : RECON_LOG_WARN,
                  "job.ended", "outcome", names[ev->type], "orders_done", done, "error",
                  *ev->error ? ev->error : NULL, NULL);
    recon_log_set_context (w->log, "run_id", NULL);
    recon_log_set_context (w->log, "job_id", NULL);
    recon_metric_inc (w->jobs, (const char *[]) {names[ev->type]}, 1);
    recon_metric_set (w->busy_gauge, NULL, 0);
    recon_metric_set (w->jm.current_orders, NULL, 0);
    if (ev->type == WORKER_EV_DONE)
        s_send_job_msg (w, RECON_CMD_DONE, ev);
    else if (ev->type == WORKER_EV_FAILED)
        s_send_job_msg (w, RECON_CMD_FAILED, ev);
    else if (ev->type == WORKER_EV_STOPPED && w->stopping) {
        recon_msg_t m = {.cmd = RECON_CMD_DISCONNECT, .has_job = 1, .job_id = ev->job_id,
                         .attempt = ev->attempt, .handback = 1};
        s_send (w, &m);
        return;
    }
    if (!w->stopping)
        s_send_ready (w); /* the broker hands the next job only after READY */
}

static void
s_on_broker_message (s_worker_t *w)
{
    recon_msg_t m;
    char err[256];
    int rc = recon_proto_recv (w->dealer, 0, NULL, NULL, &m, err, sizeof err);
    if (rc == RECON_PROTO_EAGAIN)
        return;
    if (rc < 0) {
        recon_log_kv (w->log, RECON_LOG_WARN, "broker.malformed", "error", err, NULL);
        return;
    }
    w->broker_expiry = recon_clock_ms () + w->heartbeat_ms * w->liveness;
    w->reconnect_ms = 1000;
    w->broker_heard = 1;
    switch (m.cmd) {
    case RECON_CMD_HEARTBEAT:
        break;
    case RECON_CMD_JOB:
        if (w->busy || w->stopping) {
            recon_log_kv (w->log, RECON_LOG_WARN, "broker.unexpected_job", NULL);
            break;
        }
        if (s_start_job (w, &m) < 0) {
            /*  Say so at once: the broker renews the lease of a job it
                thinks we hold, so silence would park the job forever.    */
            recon_log_kv (w->log, RECON_LOG_ERROR, "job.thread_failed", NULL);
            worker_event_t ev = {.type = WORKER_EV_FAILED, .job_id = m.job_id,
                                 .attempt = m.attempt, .retryable = 1};
            snprintf (ev.error, sizeof ev.error, "worker could not start the job (out of memory "
                      "or threads)");
            s_send_job_msg (w, RECON_CMD_FAILED, &ev);
            s_send_ready (w);
        }
        break;
    case RECON_CMD_CANCEL:
        if (w->busy && m.job_id == w->spec.job_id && m.attempt == w->spec.attempt) {
            recon_log_kv (w->log, RECON_LOG_INFO, "job.cancel_requested", NULL);
            atomic_store (&w->stop, 1);
        }
        break;
    case RECON_CMD_DISCONNECT:
        /*  The broker does not know us (it restarted): say READY again.   */
        recon_log_kv (w->log, RECON_LOG_INFO, "broker.disconnect", "reason", m.reason, NULL);
        s_connect (w);
        break;
    default:
        recon_log_kv (w->log, RECON_LOG_WARN, "broker.unexpected", "command",
                      recon_cmd_name (m.cmd), NULL);
    }
}

static void
s_on_job_event (s_worker_t *w)
{
    worker_event_t ev;
    if (zmq_recv (w->pair, &ev, sizeof ev, ZMQ_DONTWAIT) != (int) sizeof ev)
        return;
    if (ev.type == WORKER_EV_PROGRESS)
        s_send_job_msg (w, RECON_CMD_PROGRESS, &ev);
    else
        s_job_ended (w, &ev);
}

/*  Broker silent past liveness: reconnect after a growing, jittered pause. */
static void
s_check_broker (s_worker_t *w)
{
    int64_t now = recon_clock_ms ();
    if (now >= w->next_heartbeat) {
        recon_msg_t hb = {.cmd = RECON_CMD_HEARTBEAT};
        s_send (w, &hb);
        w->next_heartbeat = now + w->heartbeat_ms;
    }
    if (now < w->broker_expiry)
        return;
    int64_t pause = w->reconnect_ms * (80 + rand_r (&w->seed) % 41) / 100;
    char ms[24];
    snprintf (ms, sizeof ms, "%lld", (long long) pause);
    recon_log_kv (w->log, RECON_LOG_WARN, "broker.silent", "reconnect_in_ms", ms, NULL);
    w->broker_expiry = now + pause;           /* try again after the pause */
    w->reconnect_ms = w->reconnect_ms * 2 > 32000 ? 32000 : w->reconnect_ms * 2;
    zmq_close (w->dealer);
    w->dealer = NULL;
    w->broker_heard = 0;
}

/*  Ready while a broker answers and we are not stopping.                 */
static void
s_health (s_worker_t *w)
{
    int connected = w->dealer && w->broker_heard;
    recon_metric_set (w->connected, NULL, connected);
    recon_ops_beat (w->ops);
    if (w->stopping)
        recon_ops_set_ready (w->ops, 0, "shutting down");
    else
        recon_ops_set_ready (w->ops, connected, "no broker answers");
}

static int
s_serve (s_worker_t *w)
{
    if (s_connect (w) < 0)
        return 3;
    for (;;) {
        if (s_signal && !w->stopping) {
            w->stopping = 1;
            s_health (w);
            recon_log_kv (w->log, RECON_LOG_INFO, "worker.stopping", "signal",
                          s_signal == SIGTERM ? "SIGTERM" : "SIGINT", "holding_job",
                          w->busy ? "yes" : "no", NULL);
            if (!w->busy)
                break;
            atomic_store (&w->stop, 1);
        }
        if (w->stopping && !w->busy)
            break;
        if (!w->dealer && recon_clock_ms () >= w->broker_expiry && s_connect (w) < 0)
            return 3;
        zmq_pollitem_t items[] = {{w->dealer, 0, ZMQ_POLLIN, 0}, {w->pair, 0, ZMQ_POLLIN, 0}};
        int n = w->dealer ? 2 : 1;
        zmq_pollitem_t *poll = w->dealer ? items : items + 1;
        if (zmq_poll (poll, n, 200) < 0 && zmq_errno () != EINTR)
            return 3;
        if (w->dealer && (items[0].revents & ZMQ_POLLIN))
            s_on_broker_message (w);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_job_event (w);
        if (w->dealer)
            s_check_broker (w);
        s_health (w);
    }
    if (w->dealer && !w->busy) {
        recon_msg_t m = {.cmd = RECON_CMD_DISCONNECT};
        s_send (w, &m);
    }
    recon_log_kv (w->log, RECON_LOG_INFO, "worker.stopped", NULL);
    return 0;
}

/* ---- --run: no broker -------------------------------------------------- */

static int
s_run_direct (s_worker_t *w, const char *run_id)
{
    recon_db_t *db = recon_db_connect (recon_config_get (w->cfg, "database_url"), "recon-worker");
    if (!recon_db_ok (db)) {
        recon_log_kv (w->log, RECON_LOG_ERROR, "db.unavailable", "error", recon_db_errstr (db),
                      NULL);
        recon_db_destroy (&db);
        return 3;
    }
    int rc = 0, claimed;
    /*  A day's lease: no broker renews it, and nobody else should take it. */
    while (!s_signal
           && (claimed = recon_job_claim (db, atoll (run_id), w->worker_id,
                                          24 * RECON_USEC_PER_HOUR, &w->spec)) == 1) {
        worker_event_t final;
        char job[24], done[24];
        snprintf (job, sizeof job, "%lld", (long long) w->spec.job_id);
        recon_log_set_context (w->log, "run_id", run_id);
        recon_log_set_context (w->log, "job_id", job);
        worker_run_job (w->cfg, w->log, &w->spec, &s_run_stop, NULL, NULL, NULL, &final);
        snprintf (done, sizeof done, "%lld", (long long) final.progress.orders_done);
        recon_log_kv (w->log, final.type == WORKER_EV_DONE ? RECON_LOG_INFO : RECON_LOG_ERROR,
                      "job.ended", "orders_done", done, "error",
                      *final.error ? final.error : NULL, NULL);
        recon_log_set_context (w->log, "job_id", NULL);
        if (final.type != WORKER_EV_DONE) {
            /*  Leave the row as the broker would: failed or handed back.  */
            recon_job_retry_t retry = {recon_config_get_duration_us (w->cfg, "retry_base"),
                                       recon_config_get_duration_us (w->cfg, "retry_cap")};
            rc = 3;
            if (final.type == WORKER_EV_STOPPED) {
                /*  SIGTERM at a batch boundary: a clean stop (exit 0).    */
                recon_job_handback (db, final.job_id, final.attempt);
                rc = s_signal ? 0 : 3;
            } else if (final.type == WORKER_EV_FAILED)
                recon_job_fail (db, final.job_id, final.attempt, final.error, final.retryable,
                                &retry, NULL);
            break;
        }
    }
    if (claimed < 0) {
        recon_log_kv (w->log, RECON_LOG_ERROR, "db.failed", "error", recon_db_errstr (db), NULL);
        rc = 3;
    }
    char state[16] = "";
    recon_run_settle (db, atoll (run_id), state);
    if (*state)
        recon_log_kv (w->log, RECON_LOG_INFO, "run.settled", "run_id", run_id, "state", state,
                      NULL);
    recon_db_destroy (&db);
    return rc;
}

/* ---- metrics and health ---------------------------------------------------- */

static const double s_batch_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

static int
s_metrics_new (s_worker_t *w)
{
    recon_metrics_t *r = w->registry = recon_metrics_new ();
    if (!r)
        return -1;
    worker_metrics_t *m = &w->jm;
    w->build_info = recon_metrics_gauge (r, "recon_build_info",
        "Always 1; the version of the running recon-worker.", "version");
    w->connected = recon_metrics_gauge (r, "recon_worker_broker_connected",
        "1 while a broker answers this worker (what /readyz reports).", NULL);
    w->busy_gauge = recon_metrics_gauge (r, "recon_worker_busy",
        "1 while this worker holds a job.", NULL);
    m->current_orders = recon_metrics_gauge (r, "recon_worker_job_orders_done",
        "Orders done so far in the job this worker holds (0 when idle).", NULL);
    w->jobs = recon_metrics_counter (r, "recon_worker_jobs_total",
        "Jobs this worker ended, by outcome: done, stopped (handed back or cancelled), "
        "fenced (no longer ours), failed.", "outcome");
    m->orders = recon_metrics_counter (r, "recon_worker_orders_processed_total",
        "Orders this worker reconciled and committed.", NULL);
    m->batches = recon_metrics_counter (r, "recon_worker_batches_total",
        "Batches this worker committed.", NULL);
    m->batch_seconds = recon_metrics_histogram (r, "recon_worker_batch_duration_seconds",
        "Time to read, classify and commit one batch.", NULL, s_batch_bounds,
        (int) (sizeof s_batch_bounds / sizeof *s_batch_bounds));
    m->checkpoint_writes = recon_metrics_counter (r, "recon_worker_checkpoint_writes_total",
        "Progress checkpoints mirrored to Redis.", NULL);
    m->redis_errors = recon_metrics_counter (r, "recon_worker_redis_errors_total",
        "Failed Redis connections or commands (checkpoints are hints: work goes on).", NULL);
    m->db_errors = recon_metrics_counter (r, "recon_worker_db_errors_total",
        "Lost PostgreSQL connections or failed batches, each retried.", NULL);
    if (!w->build_info || !w->connected || !w->busy_gauge || !m->current_orders || !w->jobs
        || !m->orders || !m->batches || !m->batch_seconds || !m->checkpoint_writes
        || !m->redis_errors || !m->db_errors)
        return -1;
    recon_metric_set (w->build_info, (const char *[]) {RECON_VERSION}, 1);
    static const char *outcomes[] = {"done", "stopped", "fenced", "failed"};
    for (int i = 0; i < 4; i++)
        recon_metric_inc (w->jobs, (const char *[]) {outcomes[i]}, 0);
    return 0;
}

/*  Starts the HTTP endpoint unless it is off. 0, or -1 (logged).          */
static int
s_ops_start (s_worker_t *w)
{
    const char *listen = recon_config_get (w->cfg, "worker_http");
    if (recon_ops_disabled (listen))
        return 0;
    char err[300], port[16];
    recon_ops_options_t o = {.listen = listen, .metrics = w->registry, .stall_ms = 30000};
    w->ops = recon_ops_new (&o, err, sizeof err);
    if (!w->ops) {
        recon_log_kv (w->log, RECON_LOG_ERROR, "http.failed", "listen", listen, "error", err,
                      NULL);
        return -1;
    }
    snprintf (port, sizeof port, "%d", recon_ops_port (w->ops));
    recon_log_kv (w->log, RECON_LOG_INFO, "http.listening", "listen", listen, "port", port,
                  NULL);
    return 0;
}

/* ---- start-up ------------------------------------------------------------ */

static int
s_setup (int argc, char **argv, s_worker_t *w, const char **run_id)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"log-format", required_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'l'}, {"id", required_argument, NULL, 'i'},
        {"run", required_argument, NULL, 'r'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = getenv ("RECON_CONFIG"), *format = NULL, *level = NULL, *id = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 'f': format = optarg; break;
        case 'l': level = optarg; break;
        case 'i': id = optarg; break;
        case 'r': *run_id = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "recon-worker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    const char *flags[] = {"log_format", format, "log_level", level, "worker_id", id, NULL};
    if (recon_config_load (w->cfg, file, environ, flags) < 0) {
        fprintf (stderr, "recon-worker: %s\n", recon_config_errstr (w->cfg));
        return 2;
    }
    recon_config_apply_log (w->cfg, w->log);
    const char *configured = recon_config_get (w->cfg, "worker_id");
    char host[64] = "host";
    gethostname (host, sizeof host - 1);
    if (*configured)
        snprintf (w->worker_id, sizeof w->worker_id, "%.64s", configured);
    else
        snprintf (w->worker_id, sizeof w->worker_id, "%.40s-%d", host, (int) getpid ());
    recon_log_set_context (w->log, "worker_id", w->worker_id);
    w->heartbeat_ms = recon_config_get_duration_us (w->cfg, "heartbeat") / 1000;
    w->liveness = recon_config_get_int (w->cfg, "liveness");
    if (w->heartbeat_ms < 10 || w->liveness < 1) {
        fprintf (stderr, "recon-worker: heartbeat must be >= 10ms and liveness >= 1\n");
        return 2;
    }
    w->reconnect_ms = 1000;
    w->seed = (unsigned) getpid () ^ (unsigned) time (NULL);
    return -1;
}

int
main (int argc, char **argv)
{
    s_worker_t w = {0};
    int rc = 3;
    const char *run_id = NULL;
    w.cfg = recon_config_new ();
    w.log = recon_log_new ("recon-worker", stderr);
    if (!w.cfg || !w.log)
        goto done;
    rc = s_setup (argc, argv, &w, &run_id);
    if (rc >= 0)
        goto done;
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    if (run_id) {
        rc = s_run_direct (&w, run_id);
        goto done;
    }
    w.zctx = zmq_ctx_new ();
    w.pair = zmq_socket (w.zctx, ZMQ_PAIR);
    w.job_pair = zmq_socket (w.zctx, ZMQ_PAIR);
    if (!w.pair || !w.job_pair || zmq_bind (w.pair, "inproc://recon-worker-job") < 0
        || zmq_connect (w.job_pair, "inproc://recon-worker-job") < 0)
        goto done;
    if (s_metrics_new (&w) < 0 || s_ops_start (&w) < 0) {
        rc = 3;
        goto done;
    }
    recon_log_kv (w.log, RECON_LOG_INFO, "worker.started", "version", RECON_VERSION, NULL);
    rc = s_serve (&w);
done:
    recon_ops_destroy (&w.ops);
    if (w.dealer)
        zmq_close (w.dealer);
    if (w.pair)
        zmq_close (w.pair);
    if (w.job_pair)
        zmq_close (w.job_pair);
    if (w.zctx)
        zmq_ctx_term (w.zctx);
    recon_metrics_destroy (&w.registry);
    recon_log_destroy (&w.log);
    recon_config_destroy (&w.cfg);
    return rc;
}
