/*  cmd_run.c — `recon run` and `recon runs list|show|cancel`.

    Design decision: `recon run` only writes the run and its jobs to
    PostgreSQL and prints the id; the broker notices and dispatches. So a
    scheduler needs nothing but the database to start a run, and --wait is
    a read-only observer of the same rows (it can be killed and restarted
    without affecting the run).                                             */
#include "cli.h"
#include "recon/run.h"
#include "recon/timestamp.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon run --from T --to T [--as-of T] [--shards N] [--wait]\n"
             "       recon runs list [--limit N]\n"
             "       recon runs show RUN_ID\n"
             "       recon runs cancel RUN_ID\n"
             "\n"
             "run     stores a run over the window [--from, --to) and its N jobs (shards)\n"
             "        in PostgreSQL and prints the run id; recon-broker hands the jobs to\n"
             "        workers. Every order with any event in the window in any source is\n"
             "        reconciled with all its facts up to --as-of (default: now).\n"
             "        Times are ISO 8601 (UTC without an offset).\n"
             "  --shards N  jobs to cut the run into (default 4, at most 1024)\n"
             "  --wait      follow the run: a progress bar on a terminal, plain lines\n"
             "              otherwise; then exit 0 when nothing is flagged, 1 when\n"
             "              mismatches are open, 3 when the run failed or was cancelled\n"
             "list    the latest runs; show: a run and its jobs; cancel: stop a run\n");
}

static int
s_time_arg (const char *name, const char *text, int64_t *out)
{
    if (recon_timestamp_parse (text, strlen (text), out) < 0) {
        fprintf (stderr, "recon run: %s '%s' is not an ISO 8601 time (e.g. 2026-11-01 or "
                         "2026-11-01T00:00:00Z)\n", name, text);
        return -1;
    }
    return 0;
}

static recon_db_t *
s_connect (cli_t *cli)
{
    recon_db_t *db = recon_db_connect (recon_config_get (cli->cfg, "database_url"), "recon");
    if (!recon_db_ok (db)) {
        recon_log_kv (cli->log, RECON_LOG_ERROR, "db.unavailable", "error", recon_db_errstr (db),
                      NULL);
        recon_db_destroy (&db);
    }
    return db;
}

/*  "1,234,567".                                                            */
static const char *
s_count (char *buf, size_t size, int64_t n)
{
    char plain[32];
    int len = snprintf (plain, sizeof plain, "%lld", (long long) (n < 0 ? -n : n));
    size_t o = 0;
    if (n < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < len && o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = plain[i];
    }
    buf[o] = '\0';
    return buf;
}

static void
s_progress_line (const recon_run_status_t *st, double rate, int tty)
{
    char done[32], total[32], found[32];
    int64_t est = st->orders_estimate > st->orders_done ? st->orders_estimate : st->orders_done;
    int pct = est ? (int) (st->orders_done * 100 / est) : 0;
    long eta = rate > 0 && est > st->orders_done ? (long) ((double) (est - st->orders_done) / rate) : 0;
    if (tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf (stderr, "\r[%s] %3d%% %s/~%s orders  %.0f/s  ETA %ld:%02ld  mismatches %s  "
                         "jobs %d/%d ",
                 bar, pct, s_count (done, sizeof done, st->orders_done),
                 s_count (total, sizeof total, est), rate, eta / 60, eta % 60,
                 s_count (found, sizeof found, st->mismatches_found),
                 st->jobs_succeeded + st->jobs_dead + st->jobs_cancelled, st->shards);
    } else {
        fprintf (stderr, "run %lld %s: %s of ~%s orders (%d%%), %.0f/s, ETA %lds, mismatches %s, "
                         "jobs %d/%d done\n",
                 (long long) st->run_id, st->state, s_count (done, sizeof done, st->orders_done),
                 s_count (total, sizeof total, est), pct, rate, eta,
                 s_count (found, sizeof found, st->mismatches_found),
                 st->jobs_succeeded + st->jobs_dead + st->jobs_cancelled, st->shards);
    }
    fflush (stderr);
}

static int
s_terminal (const char *state)
{
    return strcmp (state, "succeeded") == 0 || strcmp (state, "failed") == 0
           || strcmp (state, "cancelled") == 0;
}

static int
s_unreadable (recon_db_t *db, int64_t run_id)
{
    fprintf (stderr, "\nrecon run: cannot read run %lld: %s\n", (long long) run_id,
             recon_db_errstr (db));
    return CLI_EXIT_FAILURE;
}

int
cli_run_wait (cli_t *cli, recon_db_t *db, int64_t run_id)
{
    int tty = isatty (STDERR_FILENO);
    recon_run_status_t st;
    int64_t t0 = recon_now_us (), last_print = 0, first_done = -1;
    /*  The broker announces the settled run: the wait ends then, not at
        the next poll (half a second of every run's wall time). Without
        the announcement the poll still ends it.                          */
    int listening = recon_run_listen (db) == 0;
    for (;;) {
        if (*cli->stop_signal) {
            fprintf (stderr, "\nrecon run: stopped waiting; run %lld goes on (recon runs show "
                             "%lld)\n", (long long) run_id, (long long) run_id);
            return CLI_EXIT_FAILURE;
        }
        /*  The open-items count is read once, at the end (see below).    */
        if (recon_run_progress (db, run_id, &st) != 0)
            return s_unreadable (db, run_id);
        int64_t now = recon_now_us ();
        if (first_done < 0)
            first_done = st.orders_done;
        double secs = (double) (now - t0) / 1e6;
        double rate = secs > 0.5 ? (double) (st.orders_done - first_done) / secs : 0;
        if (tty || now - last_print >= 5 * RECON_USEC_PER_SEC || s_terminal (st.state)) {
            s_progress_line (&st, rate, tty);
            last_print = now;
        }
        if (s_terminal (st.state))
            break;
        int pause_ms = tty ? 200 : 500;
        if (!listening || recon_run_wait_settled (db, run_id, pause_ms) < 0)
            usleep ((useconds_t) pause_ms * 1000);
    }
    if (tty)
        fputc ('\n', stderr);
    if (recon_run_status (db, run_id, &st) != 0)
        return s_unreadable (db, run_id);
    char done[32], found[32], open[32];
    printf ("run %lld %s: %s orders reconciled, %s mismatches found, %s open\n",
            (long long) run_id, st.state, s_count (done, sizeof done, st.orders_done),
            s_count (found, sizeof found, st.mismatches_found),
            s_count (open, sizeof open, st.open_mismatches));
    if (strcmp (st.state, "succeeded") != 0) {
        if (*st.last_error)
            printf ("a job died: %s\n", st.last_error);
        return CLI_EXIT_FAILURE;
    }
    return st.open_mismatches > 0 ? CLI_EXIT_FLAGGED : CLI_EXIT_OK;
}

static int
s_run (cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"as-of", required_argument, NULL, 'a'}, {"shards", required_argument, NULL, 's'},
        {"wait", no_argument, NULL, 'w'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    recon_run_request_t req = {0};
    int have_from = 0, have_to = 0, have_as_of = 0, wait = 0, c;
    req.shards = 4;
    char *end;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': if (s_time_arg ("--from", optarg, &req.from)) return CLI_EXIT_USAGE; have_from = 1; break;
        case 't': if (s_time_arg ("--to", optarg, &req.to)) return CLI_EXIT_USAGE; have_to = 1; break;
        case 'a': if (s_time_arg ("--as-of", optarg, &req.as_of)) return CLI_EXIT_USAGE; have_as_of = 1; break;
        case 's':
            req.shards = (int) strtol (optarg, &end, 10);
            if (*end || req.shards < 1 || req.shards > 1024) {
                fprintf (stderr, "recon run: --shards must be 1..1024\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'w': wait = 1; break;
        case 'h': s_usage (stdout); return CLI_EXIT_OK;
        default: s_usage (stderr); return CLI_EXIT_USAGE;
        }
    }
    if (!have_from || !have_to || optind < argc) {
        fprintf (stderr, "recon run: --from and --to are required (see --help)\n");
        return CLI_EXIT_USAGE;
    }
    if (!have_as_of)
        req.as_of = recon_now_us ();
    if (req.from >= req.to || req.as_of < req.from) {
        fprintf (stderr, "recon run: need --from < --to and --as-of >= --from\n");
        return CLI_EXIT_USAGE;
    }
    req.grace = (recon_classify_config_t) {
        req.as_of, recon_config_get_duration_us (cli->cfg, "grace_fulfillment"),
        recon_config_get_duration_us (cli->cfg, "grace_ledger"),
        recon_config_get_duration_us (cli->cfg, "grace_processor"),
        recon_config_get_duration_us (cli->cfg, "grace_cancel"),
        recon_config_get_int (cli->cfg, "amount_tolerance")};
    req.max_attempts = (int) recon_config_get_int (cli->cfg, "max_attempts");
    req.ledger_relation = recon_config_get (cli->cfg, "ledger_relation");
    req.fulfillment_relation = recon_config_get (cli->cfg, "fulfillment_relation");
    const char *user = getenv ("USER");
    req.requested_by = user && *user ? user : "cli";
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    int64_t run_id = 0;
    int rc = CLI_EXIT_OK;
    if (recon_run_create (db, &req, &run_id) < 0) {
        recon_log_kv (cli->log, RECON_LOG_ERROR, "run.create_failed", "error",
                      recon_db_errstr (db), NULL);
        rc = CLI_EXIT_FAILURE;
    } else {
        printf ("%lld\n", (long long) run_id);
        fflush (stdout);
        if (wait)
            rc = cli_run_wait (cli, db, run_id);
    }
    recon_db_destroy (&db);
    return rc;
}

static void
s_print_rows (PGresult *res)
{
    int n = PQnfields (res);
    int width[16] = {0};
    for (int c = 0; c < n && c < 16; c++) {
        width[c] = (int) strlen (PQfname (res, c));
        for (int r = 0; r < PQntuples (res); r++) {
            int w = (int) strlen (PQgetvalue (res, r, c));
            if (w > width[c])
                width[c] = w > 60 ? 60 : w;
        }
    }
    for (int c = 0; c < n && c < 16; c++)
        printf ("%-*s%s", width[c], PQfname (res, c), c + 1 < n ? "  " : "\n");
    for (int r = 0; r < PQntuples (res); r++)
        for (int c = 0; c < n && c < 16; c++)
            printf ("%-*.60s%s", width[c], PQgetvalue (res, r, c), c + 1 < n ? "  " : "\n");
}

static int
s_query_print (cli_t *cli, const char *sql, int n, const char *const *params)
{
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    PGresult *res = recon_db_query (db, sql, n, params);
    int rc = CLI_EXIT_OK;
    if (!res) {
        fprintf (stderr, "recon runs: %s\n", recon_db_errstr (db));
        rc = CLI_EXIT_FAILURE;
    } else {
        s_print_rows (res);
        PQclear (res);
    }
    recon_db_destroy (&db);
    return rc;
}

static int
s_runs (cli_t *cli, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    if (cli_is_help (sub)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp (sub, "list") == 0) {
        const char *limit = argc > 3 && strcmp (argv[2], "--limit") == 0 ? argv[3] : "20";
        const char *p[] = {limit};
        return s_query_print (cli,
            "SELECT r.run_id AS run, r.state, to_char(r.window_from, 'YYYY-MM-DD HH24:MI') AS "
            "\"from\", to_char(r.window_to, 'YYYY-MM-DD HH24:MI') AS \"to\", r.shards, "
            "coalesce(sum(j.orders_done), 0) AS orders, coalesce(sum(j.mismatches), 0) AS "
            "mismatches, r.requested_by AS by, to_char(r.created_at, 'YYYY-MM-DD HH24:MI:SS') AS "
            "created FROM recon.runs r LEFT JOIN recon.jobs j USING (run_id) "
            "GROUP BY r.run_id ORDER BY r.run_id DESC LIMIT $1::int", 1, p);
    }
    if (argc < 3) {
        fprintf (stderr, "recon runs %s: RUN_ID required\n", sub);
        return CLI_EXIT_USAGE;
    }
    char *end;
    long long id = strtoll (argv[2], &end, 10);
    if (*end || id <= 0) {
        fprintf (stderr, "recon runs: '%s' is not a run id\n", argv[2]);
        return CLI_EXIT_USAGE;
    }
    if (strcmp (sub, "show") == 0) {
        recon_db_t *db = s_connect (cli);
        if (!db)
            return CLI_EXIT_FAILURE;
        recon_run_status_t st;
        int found = recon_run_status (db, id, &st);
        recon_db_destroy (&db);
        if (found != 0) {
            fprintf (stderr, "recon runs: no run %lld\n", id);
            return found < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
        }
        char from[RECON_TIMESTAMP_BUFSIZE], to[RECON_TIMESTAMP_BUFSIZE], as_of[RECON_TIMESTAMP_BUFSIZE];
        recon_timestamp_format (st.from, from);
        recon_timestamp_format (st.to, to);
        recon_timestamp_format (st.as_of, as_of);
        printf ("run %lld: %s\nwindow %s .. %s, as of %s\norders %lld (estimate %lld), "
                "mismatches found %lld, open now %lld\njobs: %d pending, %d running, %d "
                "succeeded, %d dead, %d cancelled\n\n",
                id, st.state, from, to, as_of, (long long) st.orders_done,
                (long long) st.orders_estimate, (long long) st.mismatches_found,
                (long long) st.open_mismatches, st.jobs_pending, st.jobs_running,
                st.jobs_succeeded, st.jobs_dead, st.jobs_cancelled);
        const char *p[] = {argv[2]};
        return s_query_print (cli,
            "SELECT shard, state, attempt, failures, orders_done AS orders, mismatches, "
            "coalesce(locked_by, '') AS worker, coalesce(left(last_error, 60), '') AS error "
            "FROM recon.jobs WHERE run_id = $1 ORDER BY shard", 1, p);
    }
    if (strcmp (sub, "cancel") == 0) {
        recon_db_t *db = s_connect (cli);
        if (!db)
            return CLI_EXIT_FAILURE;
        int rc = recon_run_cancel (db, id);
        recon_db_destroy (&db);
        if (rc < 0)
            return CLI_EXIT_FAILURE;
        printf (rc == 0 ? "run %lld cancelled\n" : "run %lld is unknown or already finished\n", id);
        return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FLAGGED;
    }
    fprintf (stderr, "recon runs: unknown subcommand '%s'\n", sub);
    return CLI_EXIT_USAGE;
}

int
cli_run (cli_t *cli, int argc, char **argv)
{
    if (strcmp (argv[0], "runs") == 0)
        return s_runs (cli, argc, argv);
    return s_run (cli, argc, argv);
}
