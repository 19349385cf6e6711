/*  chaos.c — a seeded chaos soak of the whole cluster (tests/chaos).

    One throw-away sandbox (PostgreSQL + Redis, this program's own, so it
    can restart them), ≥ 200k generated orders imported once, a clean run
    for reference, then runs back to back over the same data for the soak
    time while a scheduler injects faults: kill -9 and restart of workers
    and of the broker, SIGSTOP of a worker past its lease, Redis restarted
    keeping its data and restarted empty, PostgreSQL restarted, and
    traffic faults between one worker and the broker. That worker lives in
    its own network namespace (ip netns, loopback only) and reaches the
    broker through tests/chaos/chaos_proxy.c, which can delay, stall
    (partition) or cut the stream; tc netem in the namespace adds delay
    and loss when the kernel has it, else tc tbf (a real kernel queue that
    delays and tail-drops). Where a capability is missing the report says
    what was used instead.

    The checker, once the faults stop and the last run ends: every job of
    every run terminal and succeeded, attempts within max, every order
    counted once per run, the queue identical to the clean run's (every
    column a reviewer sees) and to the generator's ground truth, no
    (order, kind) twice, history consistent (one 'opened' per item and
    nothing else: the data never changed, so any other entry is a fault
    leaking into results), every item seen by the last run.

    Design decision: the seed fixes the data and the whole schedule — the
    sequence of faults, whom they hit, pauses and durations — so a failing
    soak is replayed with --seed. Where in a batch a fault lands still
    depends on the machine's speed; the report prints both.

    usage: chaos RECON BROKER WORKER GEN PROXY [--seed S] [--seconds N]
                 [--orders N] [--shards N]        (`./dev chaos` runs it)
    RECON_TEST_SEED and RECON_TEST_CHAOS_{SECONDS,ORDERS,SHARDS} stand in
    for the flags. RECON_TEST_KEEP=1 keeps the logs. Exit 0 when every
    check passed, 1 when one failed, 2 when the set-up failed.           */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "recon/sandbox.h"
#include "recon/timestamp.h"
#include "../support/test_db.h"
#include "../support/test_gen.h"
#include "../support/test_proc.h"
#include "../support/test_rng.h"

#define S_WORKERS 3     /* w0, w1 on ipc://; w2 behind the proxy */
#define S_NET_WORKER 2
#define S_PROXY_PORT 47101
#define S_MAX_RUNS 256
#define S_LEASE_MS 2000
#define S_MAX_ATTEMPTS "10"

typedef enum {
    F_KILL_WORKER,
    F_KILL_BROKER,
    F_STOP_WORKER,
    F_REDIS_RESTART_KEEP,
    F_REDIS_RESTART_FLUSH,
    F_PG_RESTART,
    F_NET_DELAY,
    F_NET_PARTITION,
    F_NET_CUT,
    F_NET_KERNEL,
    F_COUNT
} s_fault_t;

static const char *const s_fault_names[F_COUNT] = {
    "kill -9 worker + restart",
    "kill -9 broker + restart",
    "SIGSTOP worker past its lease",
    "Redis restart keeping data",
    "Redis restart empty (FLUSHALL)",
    "PostgreSQL restart",
    "traffic delayed (proxy)",
    "traffic stalled: partition (proxy)",
    "connection cut (proxy)",
    "kernel delay/loss (tc)",
};

typedef struct {
    const char *recon, *broker, *worker, *gen, *proxy;
    uint64_t seed;
    test_rng_t rng;
    int seconds, orders, shards;
    recon_sandbox_t *sb;
    char dir[256];
    char url[700], clean_url[700];
    char endpoint[400], sock[300];
    char from[40], to[40], as_of[40];
    char netns[64];     /* "" when no namespace could be made */
    char net_note[300]; /* what carries the traffic faults */
    const char *tc;     /* "netem", "tbf" or NULL */
    pid_t broker_pid, worker_pid[S_WORKERS], proxy_pid;
    long runs[S_MAX_RUNS];
    int nruns;
    long faults[F_COUNT];
    int64_t t0;
    int failed;
} s_chaos_t;

/* ---- small utilities ------------------------------------------------------ */

static long
s_between (s_chaos_t *c, long lo, long hi)
{
    return lo + (long) (test_rng_next (&c->rng) % (uint64_t) (hi - lo + 1));
}

static void
s_say (s_chaos_t *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_say (s_chaos_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("chaos: [%6.1fs] ", (double) (recon_clock_ms () - c->t0) / 1000.0);
    vprintf (fmt, ap);
    printf ("\n");
    fflush (stdout);
    va_end (ap);
}

static void
s_check (s_chaos_t *c, int ok, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
s_check (s_chaos_t *c, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("%s ", ok ? "ok  " : "FAIL");
    vprintf (fmt, ap);
    printf ("\n");
    fflush (stdout);
    va_end (ap);
    if (!ok)
        c->failed = 1;
}

/*  Runs a shell command quietly; its exit status.                         */
static int
s_sh (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_sh (const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (cmd, sizeof cmd, fmt, ap);
    va_end (ap);
    int rc = system (cmd);
    return rc == -1 ? -1 : WIFEXITED (rc) ? WEXITSTATUS (rc) : 128;
}

static int
s_exec (const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb (url);
    int ok = 0;
    if (PQstatus (conn) == CONNECTION_OK) {
        PGresult *r = PQexec (conn, sql);
        ok = PQresultStatus (r) == PGRES_COMMAND_OK || PQresultStatus (r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf (stderr, "chaos: %s: %s", sql, PQerrorMessage (conn));
        PQclear (r);
    }
    PQfinish (conn);
    return ok ? 0 : -1;
}

/* ---- the cluster ------------------------------------------------------------ */

/*  The environment every recon process of the soak gets. URL is the
    database, ENDPOINT the broker as this process sees it.                 */
static void
s_env (s_chaos_t *c, const char *url, const char *endpoint, char vars[][800],
       const char **list)
{
    int n = 0;
    snprintf (vars[n++], 800, "RECON_DATABASE_URL=%s", url);
    snprintf (vars[n++], 800, "RECON_REDIS_URL=%s", recon_sandbox_redis_url (c->sb));
    snprintf (vars[n++], 800, "RECON_BROKER_ENDPOINT=%s", endpoint);
    snprintf (vars[n++], 800, "RECON_HEARTBEAT=100ms");
    snprintf (vars[n++], 800, "RECON_LIVENESS=5");
    snprintf (vars[n++], 800, "RECON_JOB_LEASE=%dms", S_LEASE_MS);
    snprintf (vars[n++], 800, "RECON_RETRY_BASE=50ms");
    const char *batch = getenv ("RECON_TEST_CHAOS_BATCH");
    snprintf (vars[n++], 800, "RECON_BATCH_SIZE=%s", batch && *batch ? batch : "250");
    snprintf (vars[n++], 800, "RECON_MAX_ATTEMPTS=%s", S_MAX_ATTEMPTS);
    snprintf (vars[n++], 800, "RECON_BROKER_HTTP=off");
    snprintf (vars[n++], 800, "RECON_WORKER_HTTP=off");
    snprintf (vars[n++], 800, "RECON_LOG_FORMAT=json");
    for (int i = 0; i < n; i++)
        list[i] = vars[i];
    list[n] = NULL;
}

static pid_t
s_start_broker (s_chaos_t *c, const char *url, const char *endpoint, const char *name)
{
    char vars[16][800], log[400];
    const char *list[17];
    s_env (c, url, endpoint, vars, list);
    snprintf (log, sizeof log, "%s/%s.log", c->dir, name);
    char *argv[] = {(char *) c->broker, NULL};
    return test_spawn (argv, list, log);
}

/*  Worker I of the soak; the net worker goes through the proxy, inside
    the namespace when there is one.                                       */
static pid_t
s_start_worker (s_chaos_t *c, const char *url, const char *endpoint, int i, const char *prefix)
{
    char vars[16][800], log[400], id[32], ep[64];
    const char *list[17];
    int net = prefix[0] == 'w' && i == S_NET_WORKER;
    if (net)
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", S_PROXY_PORT);
    s_env (c, url, net ? ep : endpoint, vars, list);
    snprintf (id, sizeof id, "%s%d", prefix, i);
    snprintf (log, sizeof log, "%s/%s.log", c->dir, id);
    if (net && c->netns[0]) {
        char *argv[] = {"ip", "netns", "exec", c->netns, (char *) c->worker, "--id", id, NULL};
        return test_spawn (argv, list, log);
    }
    char *argv[] = {(char *) c->worker, "--id", id, NULL};
    return test_spawn (argv, list, log);
}

static pid_t
s_start_proxy (s_chaos_t *c)
{
    char port[16], log[400];
    snprintf (port, sizeof port, "%d", S_PROXY_PORT);
    snprintf (log, sizeof log, "%s/proxy.log", c->dir);
    if (c->netns[0]) {
        char *argv[] = {"ip", "netns", "exec", c->netns, (char *) c->proxy, port, c->sock, "300",
                        NULL};
        return test_spawn (argv, NULL, log);
    }
    char *argv[] = {(char *) c->proxy, port, c->sock, "300", NULL};
    return test_spawn (argv, NULL, log);
}

/*  SIGTERM; the exit status (0 expected of every recon daemon).           */
static int
s_terminate (pid_t *pid)
{
    if (*pid <= 0)
        return 0;
    kill (*pid, SIGCONT);
    kill (*pid, SIGTERM);
    int rc = test_wait_exit (*pid);
    *pid = 0;
    return rc;
}

static void
s_kill (pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill (*pid, SIGKILL);
    test_wait_exit (*pid);
    *pid = 0;
}

/*  Starts a run over the generated window on URL; its id, or -1 (the
    database may be down mid-fault: the caller tries again).             */
static long
s_start_run (s_chaos_t *c, const char *url, const char *name)
{
    char vars[16][800], out[400], shards[16];
    const char *list[17];
    s_env (c, url, c->endpoint, vars, list);
    snprintf (out, sizeof out, "%s/%s.run.out", c->dir, name);
    unlink (out);
    snprintf (shards, sizeof shards, "%d", c->shards);
    char *argv[] = {(char *) c->recon, "run", "--from", c->from, "--to", c->to,
                    "--as-of", c->as_of, "--shards", shards, NULL};
    if (test_wait_exit (test_spawn (argv, list, out)) != 0)
        return -1;
    FILE *f = fopen (out, "r");
    long id = -1;
    if (!f || fscanf (f, "%ld", &id) != 1)
        id = -1;
    if (f)
        fclose (f);
    return id;
}

/*  The run's state: 1 ended, 0 still going, -1 database unreachable.     */
static int
s_run_ended (const char *url, long run_id)
{
    char sql[160];
    snprintf (sql, sizeof sql, "SELECT (state IN ('succeeded','failed','cancelled'))::int "
                               "FROM recon.runs WHERE run_id = %ld", run_id);
    long v = test_try_scalar (url, sql);
    return v < 0 ? -1 : (int) v;
}

/* ---- set-up ------------------------------------------------------------------ */

/*  Makes the namespace and finds out what tc can do in it.               */
static void
s_setup_netns (s_chaos_t *c)
{
    snprintf (c->netns, sizeof c->netns, "recon-chaos-%d", (int) getpid ());
    if (s_sh ("ip netns add %s >/dev/null 2>&1 && ip netns exec %s ip link set lo up >/dev/null 2>&1",
              c->netns, c->netns) != 0) {
        s_sh ("ip netns del %s >/dev/null 2>&1", c->netns);
        c->netns[0] = '\0';
        snprintf (c->net_note, sizeof c->net_note,
                  "no network namespace (ip netns add refused: needs root / CAP_SYS_ADMIN); the "
                  "proxy and the net worker run in this namespace on 127.0.0.1, no tc faults");
        return;
    }
    if (s_sh ("ip netns exec %s tc qdisc add dev lo root netem delay 1ms >/dev/null 2>&1",
              c->netns) == 0)
        c->tc = "netem";
    else if (s_sh ("ip netns exec %s tc qdisc add dev lo root tbf rate 1mbit burst 32kbit "
                   "latency 50ms >/dev/null 2>&1", c->netns) == 0)
        c->tc = "tbf";
    s_sh ("ip netns exec %s tc qdisc del dev lo root >/dev/null 2>&1", c->netns);
    snprintf (c->net_note, sizeof c->net_note,
              "net worker in namespace %s (loopback only) through the proxy; kernel faults by tc "
              "%s%s", c->netns, c->tc ? c->tc : "(none: no netem or tbf qdisc in this kernel)",
              c->tc && strcmp (c->tc, "tbf") == 0
                  ? " (this kernel has no netem: tbf's queue delays and tail-drops packets instead)"
                  : "");
}

/*  Generates the data, imports it into database "tpl", and writes the
    expected (order, kind) pairs from the ground truth. 0 or -1.          */
static int
s_setup_data (s_chaos_t *c)
{
    const char *root = recon_sandbox_database_url (c->sb);
    char log[400], out[400], seed[32], orders[32];
    snprintf (log, sizeof log, "%s/setup.log", c->dir);
    snprintf (out, sizeof out, "%s/g", c->dir);
    snprintf (seed, sizeof seed, "%" PRIu64, c->seed % 1000000007u);
    snprintf (orders, sizeof orders, "%d", c->orders);
    char *gen[] = {(char *) c->gen, "--orders", orders, "--seed", seed, "--out", out, NULL};
    if (test_wait_exit (test_spawn (gen, NULL, log)) != 0)
        return -1;
    /*  A missing value shows as the clean run failing.                   */
    test_gen_meta (out, "from", c->from, sizeof c->from);
    test_gen_meta (out, "to", c->to, sizeof c->to);
    test_gen_meta (out, "as_of", c->as_of, sizeof c->as_of);
    if (s_exec (root, "CREATE DATABASE tpl") < 0)
        return -1;
    char tpl[700], envdb[760];
    snprintf (tpl, sizeof tpl, "postgresql://recon@/tpl?host=%s/pg", recon_sandbox_dir (c->sb));
    snprintf (envdb, sizeof envdb, "RECON_DATABASE_URL=%s", tpl);
    const char *env[] = {envdb, NULL};
    char *migrate[] = {(char *) c->recon, "db", "migrate", "--reference", NULL};
    if (test_wait_exit (test_spawn (migrate, env, log)) != 0)
        return -1;
    const char *src[] = {"processor", "ledger", "fulfillment"};
    for (int i = 0; i < 3; i++) {
        char file[500];
        snprintf (file, sizeof file, "%s/%s.csv", out, src[i]);
        char *imp[] = {(char *) c->recon, "import", (char *) src[i], "--format", "canonical",
                       file, NULL};
        if (test_wait_exit (test_spawn (imp, env, log)) != 0)
            return -1;
    }
    if (s_exec (root, "CREATE DATABASE clean TEMPLATE tpl") < 0
        || s_exec (root, "CREATE DATABASE soak TEMPLATE tpl") < 0)
        return -1;
    snprintf (c->clean_url, sizeof c->clean_url, "postgresql://recon@/clean?host=%s/pg",
              recon_sandbox_dir (c->sb));
    snprintf (c->url, sizeof c->url, "postgresql://recon@/soak?host=%s/pg",
              recon_sandbox_dir (c->sb));
    return s_sh ("tail -n +2 %s/truth.csv | awk -F, '{ n = split($2, k, \"|\"); for (i = 1; "
                 "i <= n; i++) print $1 \",\" k[i] }' | grep -vE ',(in_sync|refunded_in_full|"
                 "cancelled_clean|awaiting_fulfillment|awaiting_ledger|awaiting_processor)$' | "
                 "LC_ALL=C sort > %s/expected", out, c->dir) == 0 ? 0 : -1;
}

/*  The reference: the same data, a broker and two workers, no faults.    */
static int
s_clean_run (s_chaos_t *c)
{
    char endpoint[400];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/clean.sock", c->dir);
    pid_t broker = s_start_broker (c, c->clean_url, endpoint, "clean-broker");
    pid_t w[2] = {s_start_worker (c, c->clean_url, endpoint, 0, "clean-w"),
                  s_start_worker (c, c->clean_url, endpoint, 1, "clean-w")};
    char saved[400];
    snprintf (saved, sizeof saved, "%s", c->endpoint);
    snprintf (c->endpoint, sizeof c->endpoint, "%s", endpoint);
    long run = s_start_run (c, c->clean_url, "clean");
    snprintf (c->endpoint, sizeof c->endpoint, "%s", saved);
    int64_t t = recon_clock_ms (), deadline = t + 600000;
    while (run > 0 && s_run_ended (c->clean_url, run) != 1 && recon_clock_ms () < deadline)
        test_sleep_ms (100);
    int64_t took = recon_clock_ms () - t;
    int rc = s_terminate (&w[0]) | s_terminate (&w[1]) | s_terminate (&broker);
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT (state = 'succeeded')::int FROM recon.runs WHERE run_id = %ld",
              run);
    int ok = run > 0 && rc == 0 && test_try_scalar (c->clean_url, sql) == 1;
    s_say (c, "clean run %ld over %d orders: %s in %.1f s", run, c->orders,
           ok ? "succeeded" : "FAILED", (double) took / 1000.0);
    return ok ? 0 : -1;
}

/* ---- the faults ----------------------------------------------------------------- */

typedef struct {
    s_chaos_t *c;
    long run;       /* the run in progress, or -1 */
    int64_t end;    /* when the soak stops injecting */
} s_soak_t;

/*  Sleeps MS while keeping runs going back to back until the soak ends.   */
static void
s_tend (s_soak_t *s, long ms)
{
    int64_t until = recon_clock_ms () + ms;
    do {
        if (s->run > 0 && s_run_ended (s->c->url, s->run) == 1) {
            s_say (s->c, "run %ld ended", s->run);
            s->run = -1;
        }
        if (s->run < 0 && recon_clock_ms () < s->end && s->c->nruns < S_MAX_RUNS) {
            s->run = s_start_run (s->c, s->c->url, "soak");
            if (s->run > 0) {
                s->c->runs[s->c->nruns++] = s->run;
                s_say (s->c, "run %ld started (%d shards)", s->run, s->c->shards);
            }
        }
        long left = (long) (until - recon_clock_ms ());
        test_sleep_ms (left < 100 ? (left > 0 ? left : 0) : 100);
    } while (recon_clock_ms () < until);
}

static void
s_redis_cmd (s_chaos_t *c, const char *cmd)
{
    redisContext *r = redisConnectUnix (recon_sandbox_redis_url (c->sb) + strlen ("unix://"));
    if (r && !r->err)
        freeReplyObject (redisCommand (r, cmd));
    redisFree (r);
}

static void
s_inject (s_soak_t *s, s_fault_t f)
{
    s_chaos_t *c = s->c;
    switch (f) {
    case F_KILL_WORKER: {
        int i = (int) s_between (c, 0, S_WORKERS - 1);
        long gap = s_between (c, 0, 1500);
        s_say (c, "fault: kill -9 worker w%d (pid %d), restart after %ld ms", i,
               (int) c->worker_pid[i], gap);
        s_kill (&c->worker_pid[i]);
        s_tend (s, gap);
        c->worker_pid[i] = s_start_worker (c, c->url, c->endpoint, i, "w");
        break;
    }
    case F_KILL_BROKER: {
        long gap = s_between (c, 0, 2000);
        s_say (c, "fault: kill -9 broker (pid %d), restart after %ld ms", (int) c->broker_pid, gap);
        s_kill (&c->broker_pid);
        s_tend (s, gap);
        c->broker_pid = s_start_broker (c, c->url, c->endpoint, "broker");
        break;
    }
    case F_STOP_WORKER: {
        int i = (int) s_between (c, 0, S_WORKERS - 1);
        long pause = S_LEASE_MS + s_between (c, 300, 2500);
        s_say (c, "fault: SIGSTOP worker w%d for %ld ms (lease %d ms), then SIGCONT", i, pause,
               S_LEASE_MS);
        kill (c->worker_pid[i], SIGSTOP);
        s_tend (s, pause);
        kill (c->worker_pid[i], SIGCONT);
        break;
    }
    case F_REDIS_RESTART_KEEP:
    case F_REDIS_RESTART_FLUSH: {
        int keep = f == F_REDIS_RESTART_KEEP;
        long gap = s_between (c, 0, 1000);
        s_say (c, "fault: Redis restart %s, down %ld ms",
               keep ? "keeping its data (SAVE, restart, load)" : "empty (FLUSHALL)", gap);
        char dump[400];
        snprintf (dump, sizeof dump, "%s/redis/dump.rdb", recon_sandbox_dir (c->sb));
        if (keep)
            s_redis_cmd (c, "SAVE");
        else
            s_redis_cmd (c, "FLUSHALL");
        recon_sandbox_stop_redis (c->sb);
        if (!keep)
            unlink (dump);
        s_tend (s, gap);
        if (recon_sandbox_start_redis (c->sb) < 0)
            s_check (c, 0, "Redis restarts: %s", recon_sandbox_errstr (c->sb));
        unlink (dump);
        break;
    }
    case F_PG_RESTART: {
        long gap = s_between (c, 0, 1500);
        s_say (c, "fault: PostgreSQL restart (fast shutdown), down %ld ms", gap);
        recon_sandbox_stop_postgres (c->sb);
        s_tend (s, gap);
        if (recon_sandbox_start_postgres (c->sb) < 0)
            s_check (c, 0, "PostgreSQL restarts: %s", recon_sandbox_errstr (c->sb));
        break;
    }
    case F_NET_DELAY: {
        long len = s_between (c, 1000, 4000);
        s_say (c, "fault: traffic w%d <-> broker delayed 300 ms ±50%% for %ld ms", S_NET_WORKER,
               len);
        kill (c->proxy_pid, SIGHUP);
        s_tend (s, len);
        kill (c->proxy_pid, SIGHUP);
        break;
    }
    case F_NET_PARTITION: {
        long len = s_between (c, 200, 3000);
        s_say (c, "fault: partition w%d <-> broker for %ld ms (liveness 500 ms)", S_NET_WORKER,
               len);
        kill (c->proxy_pid, SIGUSR2);
        s_tend (s, len);
        kill (c->proxy_pid, SIGUSR2);
        break;
    }
    case F_NET_CUT:
        s_say (c, "fault: connection w%d <-> broker cut", S_NET_WORKER);
        kill (c->proxy_pid, SIGUSR1);
        s_tend (s, 100);
        break;
    case F_NET_KERNEL: {
        long len = s_between (c, 1000, 4000);
        if (!c->tc) {
            s_say (c, "fault: (no tc in this kernel) connection cut instead");
            kill (c->proxy_pid, SIGUSR1);
            break;
        }
        int netem = strcmp (c->tc, "netem") == 0;
        long loss = s_between (c, 5, 30);
        s_say (c, "fault: tc %s on the namespace's loopback for %ld ms: %s", c->tc, len,
               netem ? "delay 100ms ±50ms, loss" : "rate 64kbit, 2 KB queue (queueing delay, tail drop)");
        if (netem)
            s_sh ("ip netns exec %s tc qdisc replace dev lo root netem delay 100ms 50ms loss %ld%%",
                  c->netns, loss);
        else
            s_sh ("ip netns exec %s tc qdisc replace dev lo root tbf rate 64kbit burst 4kb "
                  "limit 2kb", c->netns);
        s_tend (s, len);
        s_sh ("ip netns exec %s tc qdisc del dev lo root >/dev/null 2>&1", c->netns);
        break;
    }
    case F_COUNT:
        break;
    }
    c->faults[f]++;
}

/*  The soak: every kind of fault once, in a seeded order, then seeded
    random ones, until the time is up.                                    */
static void
s_soak (s_chaos_t *c)
{
    s_soak_t s = {.c = c, .run = -1, .end = recon_clock_ms () + (int64_t) c->seconds * 1000};
    s_fault_t order[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        order[i] = (s_fault_t) i;
    for (int i = F_COUNT - 1; i > 0; i--) {
        int j = (int) s_between (c, 0, i);
        s_fault_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    s_tend (&s, 1500);
    for (int n = 0; recon_clock_ms () < s.end; n++) {
        s_fault_t f = n < F_COUNT ? order[n] : (s_fault_t) s_between (c, 0, F_COUNT - 1);
        s_inject (&s, f);
        s_tend (&s, s_between (c, 300, 2500));
    }
    s_say (c, "faults stop; waiting for run %ld to end", s.run);
    int64_t deadline = recon_clock_ms () + 600000;
    while (s.run > 0 && s_run_ended (c->url, s.run) != 1 && recon_clock_ms () < deadline)
        test_sleep_ms (200);
    s_check (c, s.run < 0 || s_run_ended (c->url, s.run) == 1, "the last run ended after the faults");
}

/* ---- the checker ---------------------------------------------------------------- */

static long
s_count (s_chaos_t *c, const char *url, const char *sql)
{
    long v = test_try_scalar (url, sql);
    if (v < 0)
        c->failed = 1;
    return v;
}

static void
s_check_runs (s_chaos_t *c)
{
    for (int i = 0; i < c->nruns; i++) {
        char sql[400];
        long r = c->runs[i];
        snprintf (sql, sizeof sql, "SELECT (state = 'succeeded')::int FROM recon.runs WHERE run_id = %ld", r);
        long ok = s_count (c, c->url, sql);
        snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.jobs WHERE run_id = %ld AND state <> 'succeeded'", r);
        long bad = s_count (c, c->url, sql);
        snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.jobs WHERE run_id = %ld AND (failures > max_attempts OR attempt < 1)", r);
        long over = s_count (c, c->url, sql);
        snprintf (sql, sizeof sql, "SELECT sum(orders_done) FROM recon.jobs WHERE run_id = %ld", r);
        long done = s_count (c, c->url, sql);
        snprintf (sql, sizeof sql, "SELECT max(attempt) FROM recon.jobs WHERE run_id = %ld", r);
        long att = s_count (c, c->url, sql);
        snprintf (sql, sizeof sql, "SELECT coalesce(sum(failures), 0) FROM recon.jobs WHERE run_id = %ld", r);
        long fails = s_count (c, c->url, sql);
        s_check (c, ok == 1 && bad == 0 && over == 0 && done == c->orders,
                 "run %ld: %s, jobs not succeeded %ld, attempts within max (%s) %s, orders %ld of "
                 "%d, max attempt %ld, attempts spent %ld",
                 r, ok == 1 ? "succeeded" : "NOT succeeded", bad, S_MAX_ATTEMPTS,
                 over == 0 ? "yes" : "NO", done, c->orders, att, fails);
    }
}

/*  Writes URL's queue, every column a reviewer sees, to DIR/NAME.         */
static int
s_dump_queue (s_chaos_t *c, const char *url, const char *name)
{
    return s_sh ("psql -At '%s' -c \"SELECT order_id, kind, severity, status, amount_minor, "
                 "currency, summary, next_step, evidence::text, facts_hash FROM recon.mismatches "
                 "ORDER BY order_id COLLATE \\\"C\\\", kind\" > %s/%s",
                 url, c->dir, name);
}

static void
s_check_queue (s_chaos_t *c)
{
    int dumped = s_dump_queue (c, c->clean_url, "clean.queue") == 0
                 && s_dump_queue (c, c->url, "soak.queue") == 0;
    long items = s_count (c, c->url, "SELECT count(*) FROM recon.mismatches");
    s_check (c, dumped && s_sh ("cmp -s %s/clean.queue %s/soak.queue", c->dir, c->dir) == 0,
             "queue identical to the clean run's, every column (%ld items)", items);
    s_sh ("psql -At '%s' -c \"SELECT order_id || ',' || kind FROM recon.mismatches WHERE status = "
          "'open'\" | LC_ALL=C sort > %s/soak.pairs", c->url, c->dir);
    s_check (c, s_sh ("cmp -s %s/expected %s/soak.pairs", c->dir, c->dir) == 0,
             "open queue equals the generator's ground truth");
    s_check (c, s_count (c, c->url, "SELECT count(*) - count(DISTINCT (order_id, kind)) FROM "
                                    "recon.mismatches") == 0,
             "no (order, kind) twice");
    s_check (c, s_count (c, c->url, "SELECT count(*) FROM recon.mismatches m WHERE (SELECT "
                                    "count(*) FILTER (WHERE action = 'opened') || '/' || count(*) "
                                    "FROM recon.mismatch_history h WHERE h.mismatch_id = "
                                    "m.mismatch_id) <> '1/1'") == 0,
             "history consistent: one 'opened' per item and nothing else (the data never changed)");
    char sql[300];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.mismatches WHERE last_seen_run <> %ld "
                               "OR first_seen_run <> %ld", c->nruns ? c->runs[c->nruns - 1] : 0,
              c->nruns ? c->runs[0] : 0);
    s_check (c, c->nruns > 0 && s_count (c, c->url, sql) == 0,
             "every item first seen by the first run and seen again by the last");
}

/*  What each soak worker's log says its jobs ended as; the net worker
    must have finished some, or its traffic faults proved nothing.        */
static void
s_worker_stats (s_chaos_t *c)
{
    static const char *outcomes[] = {"done", "fenced", "failed", "stopped"};
    for (int i = 0; i < S_WORKERS; i++) {
        long n[4];
        for (int k = 0; k < 4; k++) {
            char cmd[700];
            snprintf (cmd, sizeof cmd, "grep '\"job.ended\"' %s/w%d.log | grep -c "
                      "'\"outcome\": *\"%s\"'", c->dir, i, outcomes[k]);
            FILE *p = popen (cmd, "r");
            n[k] = 0;
            if (p) {
                if (fscanf (p, "%ld", &n[k]) != 1)
                    n[k] = 0;
                pclose (p);
            }
        }
        printf ("chaos: worker w%d%s: jobs done %ld, fenced %ld (a zombie's write refused), "
                "failed %ld, handed back %ld\n", i, i == S_NET_WORKER ? " (through the proxy)" : "",
                n[0], n[1], n[2], n[3]);
        if (i == S_NET_WORKER)
            s_check (c, n[0] > 0, "the worker behind the traffic faults finished jobs (%ld)", n[0]);
    }
}

/*  The checker must be able to fail: one amount off by one minor unit in
    the soak's queue has to show as a difference, and undoing it must
    make the queues equal again.                                          */
static void
s_self_test (s_chaos_t *c)
{
    const char *bump = "UPDATE recon.mismatches SET amount_minor = amount_minor + 1 WHERE "
                       "mismatch_id = (SELECT min(mismatch_id) FROM recon.mismatches)";
    const char *undo = "UPDATE recon.mismatches SET amount_minor = amount_minor - 1 WHERE "
                       "mismatch_id = (SELECT min(mismatch_id) FROM recon.mismatches)";
    int caught = s_exec (c->url, bump) == 0 && s_dump_queue (c, c->url, "soak.queue") == 0
                 && s_sh ("cmp -s %s/clean.queue %s/soak.queue", c->dir, c->dir) != 0;
    int restored = s_exec (c->url, undo) == 0 && s_dump_queue (c, c->url, "soak.queue") == 0
                   && s_sh ("cmp -s %s/clean.queue %s/soak.queue", c->dir, c->dir) == 0;
    s_check (c, caught && restored, "checker self-test: one amount off by 1 minor unit is caught");
}

/* ---- main -------------------------------------------------------------------- */

static long
s_opt (int argc, char **argv, const char *flag, const char *env, long def)
{
    /*  The last one wins, so `./dev chaos --seconds 1800 "$@"` can be
        overridden from its command line.                                 */
    for (int i = argc - 2; i >= 6; i--)
        if (strcmp (argv[i], flag) == 0)
            return strtol (argv[i + 1], NULL, 10);
    const char *e = getenv (env);
    return e && *e ? strtol (e, NULL, 10) : def;
}

static void
s_teardown (s_chaos_t *c)
{
    s_kill (&c->proxy_pid);
    for (int i = 0; i < S_WORKERS; i++)
        s_kill (&c->worker_pid[i]);
    s_kill (&c->broker_pid);
    if (c->netns[0])
        s_sh ("ip netns del %s >/dev/null 2>&1", c->netns);
    recon_sandbox_destroy (&c->sb);
    const char *keep = getenv ("RECON_TEST_KEEP");
    if ((keep && strcmp (keep, "1") == 0) || c->failed)
        printf ("chaos: logs kept in %s\n", c->dir);
    else
        s_sh ("rm -rf %s", c->dir);
}

int
main (int argc, char **argv)
{
    if (argc < 6) {
        fprintf (stderr, "usage: chaos RECON BROKER WORKER GEN PROXY [--seed S] [--seconds N] "
                         "[--orders N] [--shards N]\n");
        return 2;
    }
    static s_chaos_t chaos;
    s_chaos_t *c = &chaos;
    c->recon = argv[1];
    c->broker = argv[2];
    c->worker = argv[3];
    c->gen = argv[4];
    c->proxy = argv[5];
    c->seed = (uint64_t) s_opt (argc, argv, "--seed", "RECON_TEST_SEED",
                                (long) ((uint64_t) time (NULL) * 2654435761u % 1000000007u));
    c->seconds = (int) s_opt (argc, argv, "--seconds", "RECON_TEST_CHAOS_SECONDS", 90);
    c->orders = (int) s_opt (argc, argv, "--orders", "RECON_TEST_CHAOS_ORDERS", 200000);
    c->shards = (int) s_opt (argc, argv, "--shards", "RECON_TEST_CHAOS_SHARDS", 16);
    c->rng.state = c->seed;
    c->t0 = recon_clock_ms ();
    signal (SIGPIPE, SIG_IGN);
    printf ("chaos: seed %" PRIu64 " (replay: ./dev chaos --seed %" PRIu64 " --seconds %d "
            "--orders %d --shards %d)\n", c->seed, c->seed, c->seconds, c->orders, c->shards);
    snprintf (c->dir, sizeof c->dir, "/tmp/recon-chaos.%d", (int) getpid ());
    mkdir (c->dir, 0755);
    snprintf (c->sock, sizeof c->sock, "/tmp/recon-chaos.%d/broker.sock", (int) getpid ());
    snprintf (c->endpoint, sizeof c->endpoint, "ipc:///tmp/recon-chaos.%d/broker.sock",
              (int) getpid ());

    int rc = 2;
    c->sb = recon_sandbox_new (NULL, NULL);
    if (!c->sb || recon_sandbox_start (c->sb) < 0) {
        fprintf (stderr, "chaos: sandbox: %s\n", c->sb ? recon_sandbox_errstr (c->sb) : "no memory");
        goto done;
    }
    s_say (c, "generating and importing %d orders", c->orders);
    if (s_setup_data (c) < 0) {
        fprintf (stderr, "chaos: set-up failed, see %s/setup.log\n", c->dir);
        c->failed = 1;
        goto done;
    }
    if (s_clean_run (c) < 0) {
        c->failed = 1;
        goto done;
    }
    s_setup_netns (c);
    s_say (c, "traffic faults: %s", c->net_note);
    c->broker_pid = s_start_broker (c, c->url, c->endpoint, "broker");
    c->proxy_pid = s_start_proxy (c);
    for (int i = 0; i < S_WORKERS; i++)
        c->worker_pid[i] = s_start_worker (c, c->url, c->endpoint, i, "w");
    s_say (c, "soak: %d s of faults, %d workers (w%d through the proxy), runs back to back",
           c->seconds, S_WORKERS, S_NET_WORKER);
    s_soak (c);

    rc = 1;
    s_check_runs (c);
    s_check_queue (c);
    s_self_test (c);
    int brc = s_terminate (&c->broker_pid), wrc[S_WORKERS];
    for (int i = 0; i < S_WORKERS; i++)
        wrc[i] = s_terminate (&c->worker_pid[i]);
    s_check (c, brc == 0 && wrc[0] == 0 && wrc[1] == 0 && wrc[2] == 0,
             "broker and workers exit 0 on SIGTERM after the soak (%d, %d %d %d)", brc, wrc[0],
             wrc[1], wrc[2]);
    s_worker_stats (c);
    long total = 0;
    printf ("chaos: faults survived, seed %" PRIu64 ", %d runs of %d orders:\n", c->seed, c->nruns,
            c->orders);
    for (int i = 0; i < F_COUNT; i++) {
        printf ("chaos:   %4ld  %s\n", c->faults[i], s_fault_names[i]);
        total += c->faults[i];
    }
    printf ("chaos:   %4ld  in all; traffic faults: %s\n", total, c->net_note);
    /*  Every kind comes first in the schedule; a minute always fits them. */
    int kinds = 0;
    for (int i = 0; i < F_COUNT; i++)
        kinds += c->faults[i] > 0;
    s_check (c, c->nruns >= 1 && total >= 1 && (c->seconds < 60 || kinds == F_COUNT),
             "%d runs under %ld faults of %d kinds (of %d)", c->nruns, total, kinds, F_COUNT);
    if (!c->failed)
        rc = 0;
done:
    s_teardown (c);
    printf ("chaos: %s (seed %" PRIu64 ")\n", rc == 0 ? "PASS" : "FAIL", c->seed);
    return rc;
}
