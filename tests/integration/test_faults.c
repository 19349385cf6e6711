/*  test_faults.c — the cluster under faults, with real processes.

    Each test gets a fresh copy of one imported data set (CREATE DATABASE …
    TEMPLATE), starts the real recon-broker and two recon-workers over ipc://
    with fast timings, starts a run, injects one fault mid-run, and then
    requires what a clean run gives: the run succeeded, the open queue is
    exactly the generator's flagged set, no (order, kind) twice, one
    'opened' history entry per item, attempts within bounds. The sandbox is
    this test's own, so PostgreSQL and Redis can be stopped and restarted.

    argv: recon recon-broker recon-worker recon-gen                       */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "recon/proto.h"
#include "recon/sandbox.h"
#include "../support/test_db.h"
#include "../support/test_gen.h"
#include "../support/test_proc.h"

#define S_ORDERS "24000"
#define S_MAX_PROCS 8

typedef struct {
    const char *recon, *broker, *worker, *gen;
    recon_sandbox_t *sb;
    char dir[512];      /* this process's work dir */
    char expected[600]; /* path of the sorted expected pairs */
    char from[40], to[40], as_of[40];
} s_env_t;

typedef struct {
    s_env_t *env;
    char db[64];
    char url[700];
    char endpoint[600];
    pid_t broker;
    pid_t workers[S_MAX_PROCS];
    int nworkers;
    long run_id;
    const char *extra_env; /* "NAME=VALUE" for the workers, or NULL */
} s_case_t;

/* ---- small utilities ------------------------------------------------------- */

/*  test_spawn, and a fork that failed fails the test.                    */
static pid_t
s_spawn (char *const argv[], const char *const *env, const char *log)
{
    pid_t pid = test_spawn (argv, env, log);
    assert_true (pid > 0);
    return pid;
}

static int
s_run_cmd (char *const argv[], const char *const *env, const char *log)
{
    return test_wait_exit (s_spawn (argv, env, log));
}

static PGresult *
s_query (const char *url, const char *sql)
{
    PGconn *c = PQconnectdb (url);
    if (PQstatus (c) != CONNECTION_OK)
        fail_msg ("connect: %s", PQerrorMessage (c));
    PGresult *r = PQexec (c, sql);
    if (PQresultStatus (r) != PGRES_TUPLES_OK && PQresultStatus (r) != PGRES_COMMAND_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (c));
    PQfinish (c);
    return r;
}

static long
s_scalar (const char *url, const char *sql)
{
    PGresult *r = s_query (url, sql);
    long v = PQntuples (r) ? atol (PQgetvalue (r, 0, 0)) : 0;
    PQclear (r);
    return v;
}

/*  GET PATH from 127.0.0.1:PORT; the status (0 when nothing answers) and
    the body in BODY.                                                      */
static int
s_http_get (int port, const char *path, char *body, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    body[0] = '\0';
    if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) < 0) {
        if (fd >= 0)
            close (fd);
        return 0;
    }
    char req[300], buf[65536];
    snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (write (fd, req, strlen (req)) != (ssize_t) strlen (req)) {
        close (fd);
        return 0;
    }
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t) n;
    buf[len] = '\0';
    close (fd);
    int status = 0;
    sscanf (buf, "HTTP/1.%*d %d", &status);
    const char *start = strstr (buf, "\r\n\r\n");
    snprintf (body, size, "%s", start ? start + 4 : "");
    return status;
}

/*  Polls PATH until it answers STATUS; fails after TIMEOUT_MS.           */
static void
s_wait_status (int port, const char *path, int status, long timeout_ms, char *body, size_t size)
{
    int got = 0;
    for (long t = 0; t < timeout_ms; t += 100) {
        if ((got = s_http_get (port, path, body, size)) == status)
            return;
        test_sleep_ms (100);
    }
    fail_msg ("%s on port %d answered %d, not %d, for %ld ms", path, port, got, status,
              timeout_ms);
}

/*  The port of the Nth (0-based) "http.listening" line in LOG, waiting
    for it up to 10 s.                                                     */
static int
s_http_port (const char *log, int nth)
{
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen (log, "r");
        char line[2048];
        int seen = 0, port = 0;
        while (f && fgets (line, sizeof line, f)) {
            const char *p = strstr (line, "http.listening");
            if (p && (p = strstr (p, " port=")) && seen++ == nth)
                port = atoi (p + 6);
        }
        if (f)
            fclose (f);
        if (port > 0)
            return port;
        test_sleep_ms (100);
    }
    fail_msg ("no http.listening line %d in %s", nth, log);
    return 0;
}

/*  The value of the series NAME (exact, with its labels) in metrics TEXT. */
static double
s_metric (const char *text, const char *name)
{
    size_t n = strlen (name);
    for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
        if (strncmp (p, name, n) == 0 && p[n] == ' ')
            return strtod (p + n + 1, NULL);
    fail_msg ("no series %s in the metrics", name);
    return 0;
}

/* ---- one data set, imported once into a template database --------------- */

/*  The binaries under test, from the command line (set once in main).   */
static char **s_argv;

static int
s_group_setup (void **state)
{
    s_env_t *env = calloc (1, sizeof *env);
    assert_non_null (env);
    *state = env; /* the teardown cleans up after a setup that failed half way */
    char **argv = s_argv;
    env->recon = argv[1];
    env->broker = argv[2];
    env->worker = argv[3];
    env->gen = argv[4];
    snprintf (env->dir, sizeof env->dir, "/tmp/recon-faults.%d", (int) getpid ());
    mkdir (env->dir, 0755);
    env->sb = recon_sandbox_new (NULL, NULL);
    if (recon_sandbox_start (env->sb) < 0)
        fail_msg ("sandbox: %s", recon_sandbox_errstr (env->sb));
    const char *url = recon_sandbox_database_url (env->sb);
    char cmd[4096], out[700], log[700];
    snprintf (out, sizeof out, "%s/g", env->dir);
    snprintf (log, sizeof log, "%s/setup.log", env->dir);
    char *gen[] = {(char *) env->gen, "--orders", S_ORDERS, "--seed", "77", "--out", out, NULL};
    assert_int_equal (s_run_cmd (gen, NULL, log), 0);
    assert_int_equal (test_gen_meta (out, "from", env->from, sizeof env->from), 0);
    assert_int_equal (test_gen_meta (out, "to", env->to, sizeof env->to), 0);
    assert_int_equal (test_gen_meta (out, "as_of", env->as_of, sizeof env->as_of), 0);
    char dburl[700], envdb[760];
    snprintf (dburl, sizeof dburl, "postgresql://recon@/tpl?host=%s/pg", recon_sandbox_dir (env->sb));
    snprintf (envdb, sizeof envdb, "RECON_DATABASE_URL=%s", dburl);
    PQclear (s_query (url, "CREATE DATABASE tpl"));
    const char *e[] = {envdb, NULL};
    char *migrate[] = {(char *) env->recon, "db", "migrate", "--reference", NULL};
    assert_int_equal (s_run_cmd (migrate, e, log), 0);
    const char *src[][3] = {{"processor", "processor.csv"}, {"ledger", "ledger.csv"},
                            {"fulfillment", "fulfillment.csv"}};
    for (int i = 0; i < 3; i++) {
        char file[800];
        snprintf (file, sizeof file, "%s/%s", out, src[i][1]);
        char *imp[] = {(char *) env->recon, "import", (char *) src[i][0], "--format", "canonical",
                       file, NULL};
        assert_int_equal (s_run_cmd (imp, e, log), 0);
    }
    snprintf (env->expected, sizeof env->expected, "%s/expected", env->dir);
    snprintf (cmd, sizeof cmd,
              "tail -n +2 %s/truth.csv | awk -F, '{ n = split($2, k, \"|\"); for (i = 1; i <= n; "
              "i++) print $1 \",\" k[i] }' | grep -vE ',(in_sync|refunded_in_full|cancelled_clean|"
              "awaiting_fulfillment|awaiting_ledger|awaiting_processor)$' | LC_ALL=C sort > %s",
              out, env->expected);
    assert_int_equal (system (cmd), 0);
    return 0;
}

static int
s_group_teardown (void **state)
{
    s_env_t *env = *state;
    if (!env)
        return 0;
    recon_sandbox_destroy (&env->sb);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf %s", env->dir);
    /*  RECON_TEST_KEEP=1 keeps the logs of every process for a post-mortem. */
    const char *keep = getenv ("RECON_TEST_KEEP");
    if (keep && strcmp (keep, "1") == 0)
        fprintf (stderr, "logs kept in %s\n", env->dir);
    else if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", env->dir);
    free (env);
    return 0;
}

/* ---- one case: a copy of the data, a broker, workers ----------------------- */

static void
s_env_vars (s_case_t *c, char vars[][800], const char **list)
{
    int n = 0;
    snprintf (vars[n++], 800, "RECON_DATABASE_URL=%s", c->url);
    snprintf (vars[n++], 800, "RECON_REDIS_URL=%s", recon_sandbox_redis_url (c->env->sb));
    snprintf (vars[n++], 800, "RECON_BROKER_ENDPOINT=%s", c->endpoint);
    snprintf (vars[n++], 800, "RECON_HEARTBEAT=100ms");
    snprintf (vars[n++], 800, "RECON_LIVENESS=4");
    snprintf (vars[n++], 800, "RECON_JOB_LEASE=2s");
    snprintf (vars[n++], 800, "RECON_RETRY_BASE=50ms");
    snprintf (vars[n++], 800, "RECON_BATCH_SIZE=40");
    snprintf (vars[n++], 800, "RECON_MAX_ATTEMPTS=3");
    /*  Endpoints on, on ports the kernel picks: they must survive faults. */
    snprintf (vars[n++], 800, "RECON_BROKER_HTTP=127.0.0.1:0");
    snprintf (vars[n++], 800, "RECON_WORKER_HTTP=127.0.0.1:0");
    for (int i = 0; i < n; i++)
        list[i] = vars[i];
    list[n] = c->extra_env;
    list[n + 1] = NULL;
}

static void
s_start_broker (s_case_t *c)
{
    char vars[12][800], log[700];
    const char *list[14];
    s_env_vars (c, vars, list);
    snprintf (log, sizeof log, "%s/%s.broker.log", c->env->dir, c->db);
    char *argv[] = {(char *) c->env->broker, NULL};
    c->broker = s_spawn (argv, list, log);
}

static pid_t
s_start_worker (s_case_t *c)
{
    char vars[12][800], log[700], id[32];
    const char *list[14];
    s_env_vars (c, vars, list);
    snprintf (id, sizeof id, "w%d", c->nworkers);
    snprintf (log, sizeof log, "%s/%s.worker.log", c->env->dir, c->db);
    char *argv[] = {(char *) c->env->worker, "--id", id, NULL};
    pid_t pid = s_spawn (argv, list, log);
    c->workers[c->nworkers++] = pid;
    return pid;
}

static void s_case_begin (s_env_t *env, s_case_t *c, const char *name, const char *extra_env);
static void s_start_run (s_case_t *c);

static void
s_case_start (s_env_t *env, s_case_t *c, const char *name, const char *extra_env)
{
    s_case_begin (env, c, name, extra_env);
    s_start_run (c);
}

/*  A copy of the data and a broker; no worker, no run yet.               */
static void
s_case_setup (s_env_t *env, s_case_t *c, const char *name, const char *extra_env)
{
    memset (c, 0, sizeof *c);
    c->env = env;
    c->extra_env = extra_env;
    snprintf (c->db, sizeof c->db, "%s", name);
    char sql[200];
    snprintf (sql, sizeof sql, "CREATE DATABASE %s TEMPLATE tpl", name);
    PQclear (s_query (recon_sandbox_database_url (env->sb), sql));
    snprintf (c->url, sizeof c->url, "postgresql://recon@/%s?host=%s/pg", name,
              recon_sandbox_dir (env->sb));
    snprintf (c->endpoint, sizeof c->endpoint, "ipc://%s/%s.sock", env->dir, name);
    s_start_broker (c);
}

/*  A copy of the data, a broker and two workers; no run yet.             */
static void
s_case_begin (s_env_t *env, s_case_t *c, const char *name, const char *extra_env)
{
    s_case_setup (env, c, name, extra_env);
    s_start_worker (c);
    s_start_worker (c);
}

static void
s_start_run (s_case_t *c)
{
    s_env_t *env = c->env;
    char vars[12][800], out[700];
    const char *list[14];
    s_env_vars (c, vars, list);
    snprintf (out, sizeof out, "%s/%s.run.id", env->dir, c->db);
    unlink (out); /* s_spawn appends */
    char *argv[] = {(char *) env->recon, "run", "--from", env->from, "--to", env->to,
                    "--as-of", env->as_of, "--shards", "6", NULL};
    pid_t pid = s_spawn (argv, list, out);
    assert_int_equal (test_wait_exit (pid), 0);
    FILE *f = fopen (out, "r");
    assert_non_null (f);
    assert_int_equal (fscanf (f, "%ld", &c->run_id), 1);
    fclose (f);
}

/*  Waits until the run has done at least MIN orders (fault goes mid-run). */
static void
s_wait_progress (s_case_t *c, long min)
{
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT coalesce(sum(orders_done), 0) FROM recon.jobs WHERE run_id = %ld",
              c->run_id);
    for (int i = 0; i < 600; i++) {
        if (test_try_scalar (c->url, sql) >= min)
            return;
        test_sleep_ms (20);
    }
    fail_msg ("no progress to %ld orders", min);
}

/*  Waits for the run to end; returns its state in STATE (16 bytes).       */
static void
s_wait_end (s_case_t *c, char *state)
{
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT state FROM recon.runs WHERE run_id = %ld", c->run_id);
    for (int i = 0; i < 1800; i++) { /* 180 s */
        PGconn *conn = PQconnectdb (c->url);
        if (PQstatus (conn) == CONNECTION_OK) {
            PGresult *r = PQexec (conn, sql);
            if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r)) {
                snprintf (state, 16, "%s", PQgetvalue (r, 0, 0));
                if (strcmp (state, "succeeded") == 0 || strcmp (state, "failed") == 0
                    || strcmp (state, "cancelled") == 0) {
                    PQclear (r);
                    PQfinish (conn);
                    return;
                }
            }
            PQclear (r);
        }
        PQfinish (conn);
        test_sleep_ms (100);
    }
    fail_msg ("run %ld did not end", c->run_id);
}

/*  SIGTERM to every process still running; each must exit 0.              */
static void
s_case_stop (s_case_t *c)
{
    int worker_rc[S_MAX_PROCS] = {0}, broker_rc = 0;
    for (int i = 0; i < c->nworkers; i++)
        if (c->workers[i] > 0) {
            kill (c->workers[i], SIGTERM);
            worker_rc[i] = test_wait_exit (c->workers[i]);
            c->workers[i] = -1;
        }
    if (c->broker > 0) {
        kill (c->broker, SIGTERM);
        broker_rc = test_wait_exit (c->broker);
        c->broker = -1;
    }
    for (int i = 0; i < c->nworkers; i++)
        if (worker_rc[i] != 0)
            fail_msg ("%s: worker %d exited %d on SIGTERM", c->db, i, worker_rc[i]);
    if (broker_rc != 0)
        fail_msg ("%s: broker exited %d on SIGTERM", c->db, broker_rc);
}

/*  What a clean run gives, exactly.                                        */
static void
s_assert_clean_result (s_case_t *c)
{
    char state[16];
    s_wait_end (c, state);
    s_case_stop (c);
    assert_string_equal (state, "succeeded");
    char path[700], cmd[4000];
    snprintf (path, sizeof path, "%s/%s.got", c->env->dir, c->db);
    snprintf (cmd, sizeof cmd,
              "psql -At '%s' -c \"SELECT order_id || ',' || kind FROM recon.mismatches WHERE "
              "status = 'open'\" | LC_ALL=C sort > %s && cmp -s %s %s",
              c->url, path, path, c->env->expected);
    if (system (cmd) != 0)
        fail_msg ("queue of %s differs from ground truth (%s vs %s)", c->db, path,
                  c->env->expected);
    assert_int_equal (s_scalar (c->url, "SELECT count(*) - count(DISTINCT (order_id, kind)) "
                                        "FROM recon.mismatches"), 0);
    /*  History consistent: exactly one 'opened' per item, nothing orphaned. */
    assert_int_equal (s_scalar (c->url, "SELECT count(*) FROM recon.mismatches m WHERE "
                                        "(SELECT count(*) FROM recon.mismatch_history h WHERE "
                                        "h.mismatch_id = m.mismatch_id AND action = 'opened') <> 1"),
                      0);
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.jobs WHERE run_id = %ld AND "
              "(failures > max_attempts OR state <> 'succeeded')", c->run_id);
    assert_int_equal (s_scalar (c->url, sql), 0);
    snprintf (sql, sizeof sql, "SELECT sum(orders_done) FROM recon.jobs WHERE run_id = %ld",
              c->run_id);
    assert_int_equal (s_scalar (c->url, sql), atol (S_ORDERS));
}

/* ---- the faults ----------------------------------------------------------------- */

/*  In the sanitizer build the chaos soak (tests/chaos) injects these five
    faults many times over into ASan+UBSan daemons; the suite runs them
    once each here in the normal build, and skips them there for time
    (meson sets RECON_TEST_CHAOS_COVERS_FAULTS=1 in that build).          */
static void
s_skip_if_chaos_covers (void)
{
    const char *e = getenv ("RECON_TEST_CHAOS_COVERS_FAULTS");
    if (e && strcmp (e, "1") == 0)
        skip ();
}

static void
test_clean_run (void **state)
{
    s_case_t c;
    s_case_start (*state, &c, "f_clean", NULL);
    s_assert_clean_result (&c);
    assert_int_equal (s_scalar (c.url, "SELECT max(attempt) FROM recon.jobs"), 1);
}

static void
test_kill9_worker_mid_batch (void **state)
{
    s_skip_if_chaos_covers ();
    s_case_t c;
    s_case_start (*state, &c, "f_kill_worker", NULL);
    s_wait_progress (&c, 3000);
    kill (c.workers[0], SIGKILL);
    test_wait_exit (c.workers[0]);
    c.workers[0] = -1;
    s_start_worker (&c);
    s_assert_clean_result (&c);
    /*  The killed worker's job was retried: an attempt spent, no more.     */
    assert_true (s_scalar (c.url, "SELECT count(*) FROM recon.jobs WHERE attempt > 1") >= 1);
}

static void
test_kill9_broker_and_restart (void **state)
{
    s_skip_if_chaos_covers ();
    s_case_t c;
    s_case_start (*state, &c, "f_kill_broker", NULL);
    s_wait_progress (&c, 3000);
    kill (c.broker, SIGKILL);
    test_wait_exit (c.broker);
    test_sleep_ms (500);
    s_start_broker (&c);
    s_assert_clean_result (&c);
}

static void
test_sigstop_worker_past_lease (void **state)
{
    s_skip_if_chaos_covers ();
    s_case_t c;
    s_case_start (*state, &c, "f_zombie", NULL);
    s_wait_progress (&c, 3000);
    /*  Worst case for the broker: the paused worker froze mid-commit and
        holds its job row. A connection holding every job row stands in
        for that; the broker must notice the silence all the same.        */
    PGconn *locker = PQconnectdb (c.url);
    PGresult *r = PQexec (locker, "BEGIN; SELECT 1 FROM recon.jobs FOR UPDATE");
    assert_int_equal (PQresultStatus (r), PGRES_TUPLES_OK);
    PQclear (r);
    kill (c.workers[0], SIGSTOP);
    test_sleep_ms (3500); /* heartbeats missed and the 2 s lease gone */
    char log[700], cmd[800];
    snprintf (log, sizeof log, "%s/%s.broker.log", c.env->dir, c.db);
    snprintf (cmd, sizeof cmd, "grep -q 'worker.silent.*worker_id=w0' %s", log);
    int noticed = system (cmd);
    PQclear (PQexec (locker, "COMMIT"));
    PQfinish (locker);
    kill (c.workers[0], SIGCONT);
    assert_int_equal (noticed, 0);
    s_assert_clean_result (&c);
}

static void
test_redis_killed_then_flushed (void **state)
{
    s_skip_if_chaos_covers ();
    s_env_t *env = *state;
    s_case_t c;
    s_case_start (env, &c, "f_redis", NULL);
    s_wait_progress (&c, 3000);
    assert_int_equal (recon_sandbox_stop_redis (env->sb), 0);
    s_wait_progress (&c, 9000); /* work goes on without checkpoints */
    assert_int_equal (recon_sandbox_start_redis (env->sb), 0);
    redisContext *r = redisConnectUnix (recon_sandbox_redis_url (env->sb) + 7);
    freeReplyObject (redisCommand (r, "FLUSHALL"));
    redisFree (r);
    kill (c.workers[0], SIGKILL); /* a resume without any Redis checkpoint */
    test_wait_exit (c.workers[0]);
    c.workers[0] = -1;
    s_start_worker (&c);
    s_assert_clean_result (&c);
}

static void
test_postgres_restarted_mid_run (void **state)
{
    s_skip_if_chaos_covers ();
    s_env_t *env = *state;
    s_case_t c;
    s_case_start (env, &c, "f_pg", NULL);
    s_wait_progress (&c, 3000);
    assert_int_equal (recon_sandbox_stop_postgres (env->sb), 0);
    test_sleep_ms (1500);
    assert_int_equal (recon_sandbox_start_postgres (env->sb), 0);
    s_assert_clean_result (&c);
}

static void
test_sigterm_hands_back_without_spending (void **state)
{
    s_case_t c;
    s_case_start (*state, &c, "f_sigterm", NULL);
    s_wait_progress (&c, 3000);
    char log[700], cmd[800], body[65536];
    snprintf (log, sizeof log, "%s/%s.broker.log", c.env->dir, c.db);
    int port = s_http_port (log, 0);
    kill (c.workers[0], SIGTERM);
    assert_int_equal (test_wait_exit (c.workers[0]), 0);
    c.workers[0] = -1;
    /*  The broker counted the handback (its own counter, no database).    */
    assert_int_equal (s_http_get (port, "/metrics", body, sizeof body), 200);
    assert_true (s_metric (body, "recon_jobs_handed_back_total") == 1);
    assert_true (s_metric (body, "recon_jobs_retried_total") == 0);
    s_assert_clean_result (&c);
    snprintf (cmd, sizeof cmd, "grep -q 'job.handed_back.*worker_id=w0' %s", log);
    assert_int_equal (system (cmd), 0);
    /*  A handback spends no attempt.                                       */
    assert_int_equal (s_scalar (c.url, "SELECT sum(failures) FROM recon.jobs"), 0);
}

/*  /readyz follows the broker's own PostgreSQL connection; /livez and
    /metrics keep answering; workers stay ready (they need the broker). */
static void
test_readyz_follows_postgres (void **state)
{
    s_env_t *env = *state;
    s_case_t c;
    s_case_begin (env, &c, "f_ready", NULL);
    char blog[700], wlog[700], body[65536];
    snprintf (blog, sizeof blog, "%s/%s.broker.log", env->dir, c.db);
    snprintf (wlog, sizeof wlog, "%s/%s.worker.log", env->dir, c.db);
    int bport = s_http_port (blog, 0);
    int wports[2] = {s_http_port (wlog, 0), s_http_port (wlog, 1)};
    s_wait_status (bport, "/readyz", 200, 5000, body, sizeof body);
    for (int i = 0; i < 2; i++) {
        s_wait_status (wports[i], "/readyz", 200, 5000, body, sizeof body);
        assert_int_equal (s_http_get (wports[i], "/livez", body, sizeof body), 200);
        assert_int_equal (s_http_get (wports[i], "/metrics", body, sizeof body), 200);
        assert_true (s_metric (body, "recon_worker_busy") == 0);
        assert_true (s_metric (body, "recon_worker_broker_connected") == 1);
    }
    assert_int_equal (s_http_get (bport, "/metrics", body, sizeof body), 200);
    assert_true (s_metric (body, "recon_workers{state=\"idle\"}") == 2);
    assert_true (s_metric (body, "recon_metrics_db_up") == 1);

    assert_int_equal (recon_sandbox_stop_postgres (env->sb), 0);
    s_wait_status (bport, "/readyz", 503, 10000, body, sizeof body);
    assert_non_null (strstr (body, "PostgreSQL unreachable"));
    assert_int_equal (s_http_get (bport, "/livez", body, sizeof body), 200);
    assert_int_equal (s_http_get (bport, "/healthz", body, sizeof body), 200);
    test_sleep_ms (5200); /* past the metrics cache: the scrape tries the database */
    assert_int_equal (s_http_get (bport, "/metrics", body, sizeof body), 200);
    assert_true (s_metric (body, "recon_broker_db_up") == 0);
    assert_true (s_metric (body, "recon_metrics_db_up") == 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal (s_http_get (wports[i], "/readyz", body, sizeof body), 200);

    assert_int_equal (recon_sandbox_start_postgres (env->sb), 0);
    /*  The broker reconnects with backoff (at most ~2x the outage here). */
    s_wait_status (bport, "/readyz", 200, 30000, body, sizeof body);
    test_sleep_ms (5200);
    assert_int_equal (s_http_get (bport, "/metrics", body, sizeof body), 200);
    assert_true (s_metric (body, "recon_broker_db_up") == 1);
    assert_true (s_metric (body, "recon_metrics_db_up") == 1);
    /*  And it still works: a run goes through.                           */
    s_start_run (&c);
    s_assert_clean_result (&c);
}

static void
test_poison_job_ends_dead (void **state)
{
    s_case_t c;
    /*  Workers that cannot read the ledger fail every attempt.            */
    s_case_start (*state, &c, "f_poison", "RECON_LEDGER_RELATION=ledger.no_such_view");
    /*  (the run was created with RECON_MAX_ATTEMPTS=4 from s_env_vars)     */
    char st[16];
    s_wait_end (&c, st);
    s_case_stop (&c);
    assert_string_equal (st, "failed");
    assert_int_equal (s_scalar (c.url, "SELECT count(*) FROM recon.jobs WHERE state = 'dead' "
                                       "AND failures = max_attempts AND last_error LIKE "
                                       "'%no_such_view%'"),
                      6);
}

static void
test_cancel_running_run (void **state)
{
    s_case_t c;
    s_case_start (*state, &c, "f_cancel", NULL);
    s_wait_progress (&c, 3000);
    char vars[12][800], log[700], id[24];
    const char *list[14];
    s_env_vars (&c, vars, list);
    snprintf (log, sizeof log, "%s/f_cancel.cancel.log", c.env->dir);
    snprintf (id, sizeof id, "%ld", c.run_id);
    char *argv[] = {(char *) c.env->recon, "runs", "cancel", id, NULL};
    assert_int_equal (s_run_cmd (argv, list, log), 0);
    char st[16];
    s_wait_end (&c, st);
    assert_string_equal (st, "cancelled");
    /*  Running jobs were told and stopped; nothing is left running.       */
    for (int i = 0; i < 50 && s_scalar (c.url, "SELECT count(*) FROM recon.jobs WHERE state = "
                                              "'running'") > 0; i++)
        test_sleep_ms (100);
    assert_int_equal (s_scalar (c.url, "SELECT count(*) FROM recon.jobs WHERE state NOT IN "
                                       "('succeeded', 'cancelled')"), 0);
    assert_true (s_scalar (c.url, "SELECT count(*) FROM recon.jobs WHERE state = 'cancelled'") > 0);
    /*  The workers survive a cancel and take the next run.                */
    s_start_run (&c);
    s_assert_clean_result (&c);
}

static void
test_broker_schedule_is_unique (void **state)
{
    s_case_t c;
    s_case_begin (*state, &c, "f_schedule", "RECON_SCHEDULE=* * * * *");
    long n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        test_sleep_ms (100);
        n = s_scalar (c.url, "SELECT count(*) FROM recon.runs WHERE requested_by = 'schedule'");
    }
    assert_true (n >= 1);
    /*  A restarted broker does not start the same slot again.            */
    kill (c.broker, SIGTERM);
    assert_int_equal (test_wait_exit (c.broker), 0);
    s_start_broker (&c);
    test_sleep_ms (1500);
    assert_int_equal (s_scalar (c.url, "SELECT count(*) - count(DISTINCT schedule_key) FROM "
                                       "recon.runs"), 0);
    assert_true (s_scalar (c.url, "SELECT count(*) FROM recon.runs") <= 2);
    s_case_stop (&c);
}

/*  Sends FRAMES (NULL-terminated, "" allowed) as one multipart message.   */
static void
s_send_frames (void *sock, const char *const *frames)
{
    for (int i = 0; frames[i]; i++)
        zmq_send (sock, frames[i], strlen (frames[i]), frames[i + 1] ? ZMQ_SNDMORE : 0);
}

/*  The broker's answer: 1 when it was DISCONNECT, 0 when nothing came.    */
static int
s_got_disconnect (void *sock)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    int got = 0;
    while (zmq_poll (&item, 1, 1500) > 0) {
        char buf[256];
        int more = 1, part = 0;
        while (more) {
            int n = zmq_recv (sock, buf, sizeof buf - 1, 0);
            if (n >= 0 && part == 2)
                got |= n == 10 && memcmp (buf, "DISCONNECT", 10) == 0;
            size_t size = sizeof more;
            zmq_getsockopt (sock, ZMQ_RCVMORE, &more, &size);
            part++;
        }
        if (got)
            return 1;
    }
    return 0;
}

static void
test_untrusted_frames (void **state)
{
    s_case_t c;
    s_case_start (*state, &c, "f_frames", NULL);
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal (zmq_connect (sock, c.endpoint), 0);
    const char *bad[][6] = {
        {"garbage", NULL},
        {"", "RECON1", "NOPE", NULL},
        {"", "RECON9", "READY", "{\"worker_id\":\"x\",\"version\":\"1\"}", NULL},
        {"", "RECON1", "READY", "{bad json", NULL},
        {"", "RECON1", "READY", "[]", NULL},
        {"", "RECON1", "JOB", "{\"job_id\": \"7\"}", NULL},
        {"", "RECON1", "HEARTBEAT", "unexpected body", NULL},
        {"", "RECON1", "READY", "{\"worker_id\":\"x\",\"version\":\"1\"}", "extra", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_send_frames (sock, bad[i]);
    /*  Random bytes in random shapes.                                     */
    unsigned seed = 42;
    for (int i = 0; i < 300; i++) {
        int parts = 1 + rand_r (&seed) % 5;
        for (int p = 0; p < parts; p++) {
            char buf[64];
            int n = rand_r (&seed) % (int) sizeof buf;
            for (int k = 0; k < n; k++)
                buf[k] = (char) rand_r (&seed);
            zmq_send (sock, buf, (size_t) n, p + 1 < parts ? ZMQ_SNDMORE : 0);
        }
    }
    /*  Valid but unexpected: DONE from a stranger, then JOB from a worker. */
    const char *done[] = {"", "RECON1", "DONE",
                          "{\"job_id\":1,\"attempt\":1,\"orders_done\":0,\"mismatches\":0}", NULL};
    s_send_frames (sock, done);
    assert_true (s_got_disconnect (sock));
    const char *ready[] = {"", "RECON1", "READY", "{\"worker_id\":\"prober\",\"version\":\"t\"}",
                           NULL};
    s_send_frames (sock, ready);
    const char *job[] = {"", "RECON1", "CANCEL", "{\"job_id\":1,\"attempt\":1}", NULL};
    s_send_frames (sock, job);
    assert_true (s_got_disconnect (sock));
    zmq_close (sock);
    zmq_ctx_term (ctx);
    /*  The broker is still up and the run finishes as if nothing happened. */
    assert_int_equal (kill (c.broker, 0), 0);
    s_assert_clean_result (&c);
    char log[700], cmd[1600];
    snprintf (log, sizeof log, "%s/%s.broker.log", c.env->dir, c.db);
    snprintf (cmd, sizeof cmd, "grep -q 'message.malformed' %s && grep -q 'message.unexpected' %s",
              log, log);
    assert_int_equal (system (cmd), 0);
}

/*  The next message from the broker within MS milliseconds: 1 and *M
    filled, or 0 when none came (heartbeats skipped).                      */
static int
s_next_from_broker (void *sock, int ms, recon_msg_t *m)
{
    for (int waited = 0; waited < ms; waited += 20) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 20) <= 0)
            continue;
        char err[256];
        int rc = recon_proto_recv (sock, 0, NULL, NULL, m, err, sizeof err);
        assert_int_equal (rc, 0);
        if (m->cmd != RECON_CMD_HEARTBEAT)
            return 1;
    }
    return 0;
}

static void
s_say (void *sock, recon_msg_t *m)
{
    assert_int_equal (recon_proto_send (sock, NULL, 0, m), 0);
}

/*  A worker is handed a job only after it says READY. A worker that ends
    a job sends DONE, then READY; a broker sweep between the two used to
    hand it the next job, which the READY (holding nothing) then failed as
    "worker restarted its job loop": an attempt spent and a retry pause
    on the run's critical path. Here the READY comes 1 s after the DONE,
    four sweeps later.                                                    */
static void
test_job_only_after_ready (void **state)
{
    s_case_t c;
    s_case_setup (*state, &c, "f_ready_gate", NULL);
    s_start_run (&c);
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal (zmq_connect (sock, c.endpoint), 0);
    recon_msg_t ready = {.cmd = RECON_CMD_READY};
    snprintf (ready.worker_id, sizeof ready.worker_id, "by-hand");
    snprintf (ready.version, sizeof ready.version, "test");
    s_say (sock, &ready);
    recon_msg_t job;
    assert_true (s_next_from_broker (sock, 5000, &job));
    assert_int_equal (job.cmd, RECON_CMD_JOB);
    recon_msg_t done = {.cmd = RECON_CMD_DONE, .job_id = job.job_id, .attempt = job.attempt};
    s_say (sock, &done);
    recon_msg_t early;
    int got = s_next_from_broker (sock, 1000, &early);
    if (got)
        fail_msg ("broker sent %s before READY", recon_cmd_name (early.cmd));
    s_say (sock, &ready);
    recon_msg_t next;
    assert_true (s_next_from_broker (sock, 5000, &next));
    assert_int_equal (next.cmd, RECON_CMD_JOB);
    assert_true (next.job_id != job.job_id);
    assert_int_equal (next.attempt, 1);
    zmq_close (sock);
    zmq_ctx_term (ctx);
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.jobs WHERE job_id = %lld AND "
              "state = 'running' AND attempt = 1", (long long) next.job_id);
    assert_int_equal (s_scalar (c.url, sql), 1);
    s_case_stop (&c);
    char log[700], cmd[1600];
    snprintf (log, sizeof log, "%s/%s.broker.log", c.env->dir, c.db);
    snprintf (cmd, sizeof cmd, "grep -q 'restarted its job loop' %s", log);
    assert_int_not_equal (system (cmd), 0);
}

int
main (int argc, char **argv)
{
    if (argc != 5) {
        fprintf (stderr, "usage: %s recon recon-broker recon-worker recon-gen\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_clean_run),
        cmocka_unit_test (test_kill9_worker_mid_batch),
        cmocka_unit_test (test_kill9_broker_and_restart),
        cmocka_unit_test (test_sigstop_worker_past_lease),
        cmocka_unit_test (test_redis_killed_then_flushed),
        cmocka_unit_test (test_postgres_restarted_mid_run),
        cmocka_unit_test (test_sigterm_hands_back_without_spending),
        cmocka_unit_test (test_readyz_follows_postgres),
        cmocka_unit_test (test_poison_job_ends_dead),
        cmocka_unit_test (test_cancel_running_run),
        cmocka_unit_test (test_broker_schedule_is_unique),
        cmocka_unit_test (test_untrusted_frames),
        cmocka_unit_test (test_job_only_after_ready),
    };
    s_argv = argv;
    /*  RECON_TEST_FILTER=test_cancel* runs just those (by hand, not CI).  */
    if (getenv ("RECON_TEST_FILTER"))
        cmocka_set_test_filter (getenv ("RECON_TEST_FILTER"));
    return cmocka_run_group_tests_name ("faults", tests, s_group_setup, s_group_teardown);
}
