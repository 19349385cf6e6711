/*  cmd_demo.c — `recon demo`: the whole loop on embedded defaults.

    Design decision: the demo never touches a configured database; it
    builds its own sandbox, so running it twice, or on a machine that also
    runs a real recon, is always safe. Every step is the code a deployment
    runs — migrations, the real importers on Stripe and Adyen files, the
    real broker and workers over ZeroMQ — the demo only wires them up and
    stops every process it started, on success, failure or Ctrl-C.        */
#include "cli.h"
#include "recon/users.h"
#include "recon/classify.h"
#include "recon/import.h"
#include "recon/migrate.h"
#include "recon/run.h"
#include "recon/sandbox.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_WORKERS 2

typedef struct {
    long orders;
    long seed;
    int keep;
    int serve;   /* leave recon-web serving until Ctrl-C (default) */
} s_options_t;

typedef struct {
    cli_t *cli;
    recon_sandbox_t *sb;
    char data[4200];
    pid_t broker, workers[S_WORKERS], web;
    int64_t night_end;            /* end of night 1's window, µs */
} s_demo_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon demo [--orders N] [--seed S] [--keep] [--no-serve]\n"
             "\n"
             "The whole loop on embedded defaults, touching no configured database:\n"
             "  1. starts a throw-away PostgreSQL and Redis under a temporary directory\n"
             "  2. creates recon's schema and the reference ledger and fulfillment schemas\n"
             "  3. generates N orders (default 100000) in several currencies with every\n"
             "     order state and mismatch kind, as Stripe and Adyen reports, a canonical\n"
             "     processor file, a ledger and a fulfillment file\n"
             "  4. imports them through the real importers\n"
             "  5. starts recon-broker and two recon-workers, runs a reconciliation with\n"
             "     a live progress bar\n"
             "  6. prints the mismatch queue: open items and money at stake by severity,\n"
             "     and the five worst with their plain-language sentences\n"
             "  7. the next night: late ledger postings and shipments arrive for some\n"
             "     items, and a new order is charged twice; imports them and runs the\n"
             "     next day's window, showing the items that resolved themselves and\n"
             "     the new one, from their history\n"
             "  8. prints the queue again\n"
             "  9. starts recon-web and prints its address and the demo user's name and\n"
             "     password: the queue, worst first, in a browser; serves until Ctrl-C\n"
             "Everything it started stops at the end, on success, failure or Ctrl-C.\n"
             "  --keep      also print the settings to explore the sandbox with recon / psql\n"
             "  --no-serve  stop after step 8 (scripts, CI)\n");
}

static int
s_parse (int argc, char **argv, s_options_t *o)
{
    static const struct option opts[] = {
        {"orders", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},
        {"no-serve", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->orders = 100000;
    o->seed = 42;
    o->keep = 0;
    o->serve = 1;
    int c;
    char *end;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o->orders = strtol (optarg, &end, 10);
            if (*end || o->orders < 100 || o->orders > 10000000) {
                fprintf (stderr, "recon demo: --orders must be 100..10000000\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 's':
            o->seed = strtol (optarg, &end, 10);
            if (*end || o->seed < 0) {
                fprintf (stderr, "recon demo: --seed must be a non-negative integer\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'k': o->keep = 1; break;
        case 'S': o->serve = 0; break;
        case 'h': s_usage (stdout); return -1;
        default: s_usage (stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "recon demo: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int
s_migrate_all (cli_t *cli, const char *url)
{
    recon_db_t *db = recon_db_connect (url, "recon demo");
    int rc = recon_db_ok (db) ? 0 : -1;
    for (const recon_migration_set_t *s = recon_migration_sets; rc == 0 && s->name; s++)
        rc = recon_migrate_apply (db, s, cli->log, NULL);
    if (rc < 0)
        fprintf (stderr, "recon demo: migration failed: %s\n", recon_db_errstr (db));
    recon_db_destroy (&db);
    return rc;
}

static int
s_generate (s_demo_t *d, const s_options_t *o)
{
    char prog[4096], orders[32], seed[32];
    snprintf (orders, sizeof orders, "%ld", o->orders);
    snprintf (seed, sizeof seed, "%ld", o->seed);
    char *argv[] = {(char *) cli_find_program (d->cli, "recon-gen", prog, sizeof prog),
                    "--orders", orders, "--seed", seed, "--out", d->data, NULL};
    int rc = cli_run_child (d->cli, argv);
    if (rc != 0)
        fprintf (stderr, "recon demo: the data generator failed (exit %d)\n", rc);
    return rc == 0 ? 0 : -1;
}

static int
s_import (s_demo_t *d, recon_db_t *db)
{
    static const struct {
        recon_import_source_t source;
        const char *format, *processor, *file;
    } files[] = {
        {RECON_IMPORT_PROCESSOR, "stripe", NULL, "stripe.csv"},
        {RECON_IMPORT_PROCESSOR, "adyen", NULL, "adyen.csv"},
        {RECON_IMPORT_PROCESSOR, "canonical", "other", "processor_other.csv"},
        {RECON_IMPORT_LEDGER, "canonical", NULL, "ledger.csv"},
        {RECON_IMPORT_FULFILLMENT, "canonical", NULL, "fulfillment.csv"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4400];
        snprintf (path, sizeof path, "%s/%s", d->data, files[i].file);
        recon_import_options_t opt = {files[i].source, files[i].format, files[i].processor, '.',
                                      NULL, NULL};
        recon_import_result_t r;
        if (recon_import_file (db, &opt, path, &r) < 0) {
            fprintf (stderr, "recon demo: importing %s failed: %s\n", files[i].file, r.errstr);
            return -1;
        }
        printf ("      %-22s %8lld rows: %8lld imported, %6lld skipped (fees, payouts), "
                "%lld rejected\n",
                files[i].file, (long long) r.rows, (long long) r.imported, (long long) r.skipped,
                (long long) r.rejected);
    }
    return 0;
}

/*  Starts NAME [FLAG VALUE] with its output in LOG under the sandbox.    */
static pid_t
s_spawn (s_demo_t *d, const char *name, const char *flag, const char *value, const char *log)
{
    char prog[4096], path[4300];
    cli_find_program (d->cli, name, prog, sizeof prog);
    snprintf (path, sizeof path, "%s/%s", recon_sandbox_dir (d->sb), log);
    pid_t pid = fork ();
    if (pid == 0) {
        signal (SIGPIPE, SIG_DFL);
        /*  Ctrl-C is ours to handle: we stop the cluster in order.        */
        setpgid (0, 0);
        int fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
        }
        if (flag)
            execl (prog, prog, flag, value, (char *) NULL);
        else
            execl (prog, prog, (char *) NULL);
        fprintf (stderr, "cannot run %s: %s\n", prog, strerror (errno));
        _exit (127);
    }
    return pid;
}

static int
s_start_cluster (s_demo_t *d)
{
    char endpoint[4300];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/broker.sock", recon_sandbox_dir (d->sb));
    if (setenv ("RECON_BROKER_ENDPOINT", endpoint, 1) < 0)
        return -1;
    /*  The demo must not fail because something holds the default port:
        unless the user chose one, the kernel picks (see broker.log).     */
    if (setenv ("RECON_BROKER_HTTP", "127.0.0.1:0", 0) < 0)
        return -1;
    d->broker = s_spawn (d, "recon-broker", NULL, NULL, "broker.log");
    for (int i = 0; i < S_WORKERS; i++) {
        char id[16];
        snprintf (id, sizeof id, "demo-w%d", i + 1);
        d->workers[i] = s_spawn (d, "recon-worker", "--id", id, "workers.log");
    }
    return d->broker > 0 && d->workers[0] > 0 && d->workers[1] > 0 ? 0 : -1;
}

/*  SIGTERM, then wait (workers finish their batch; the broker exits).     */
static void
s_stop_cluster (s_demo_t *d)
{
    pid_t all[] = {d->web, d->workers[0], d->workers[1], d->broker};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] > 0)
            kill (all[i], SIGTERM);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] > 0)
            while (waitpid (all[i], NULL, 0) < 0 && errno == EINTR)
                ;
    d->broker = d->workers[0] = d->workers[1] = d->web = 0;
}

/*  Creates a run over [FROM, TO) as of AS_OF and follows it to its end.   */
static int
s_run_window (s_demo_t *d, recon_db_t *db, int64_t from, int64_t to, int64_t as_of,
              int64_t *run_id)
{
    recon_run_request_t req = {.from = from, .to = to, .as_of = as_of, .shards = 4,
                               .requested_by = "demo",
                               .ledger_relation = "ledger.ledger_order_entries",
                               .fulfillment_relation = "fulfillment.fulfillment_orders"};
    req.grace = recon_classify_config_default (as_of);
    if (recon_run_create (db, &req, run_id) < 0) {
        fprintf (stderr, "recon demo: %s\n", recon_db_errstr (db));
        return -1;
    }
    int rc = cli_run_wait (d->cli, db, *run_id);
    return rc == CLI_EXIT_OK || rc == CLI_EXIT_FLAGGED ? 0 : -1;
}

/*  Night 1: the generated window, as of the generator's as_of.           */
static int
s_run (s_demo_t *d, recon_db_t *db)
{
    json_error_t err;
    char meta_path[4300];
    snprintf (meta_path, sizeof meta_path, "%s/meta.json", d->data);
    json_t *meta = json_load_file (meta_path, 0, &err);
    const char *from = json_string_value (json_object_get (meta, "from"));
    const char *to = json_string_value (json_object_get (meta, "to"));
    const char *as_of = json_string_value (json_object_get (meta, "as_of"));
    int64_t t_from, t_as_of;
    int ok = from && to && as_of && recon_timestamp_parse (from, strlen (from), &t_from) == 0
             && recon_timestamp_parse (to, strlen (to), &d->night_end) == 0
             && recon_timestamp_parse (as_of, strlen (as_of), &t_as_of) == 0;
    json_decref (meta);
    if (!ok) {
        fprintf (stderr, "recon demo: cannot read %s\n", meta_path);
        return -1;
    }
    int64_t run_id;
    return s_run_window (d, db, t_from, d->night_end, t_as_of, &run_id);
}

static void
s_money (char *buf, size_t size, const char *minor, const char *currency)
{
    if (recon_money_format_human (buf, size, strtoll (minor, NULL, 10), currency) < 0)
        snprintf (buf, size, "%s %s", minor, currency);
}

static int
s_summary (recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "SELECT severity, currency, count(*), sum(amount_minor) FROM recon.mismatches "
        "WHERE status = 'open' GROUP BY 1, 2 ORDER BY array_position(ARRAY['critical', 'high', "
        "'medium'], severity), recon.minor_to_major(sum(amount_minor)::bigint, currency) DESC",
        0, NULL);
    if (!r)
        return -1;
    long total = 0;
    for (int i = 0; i < PQntuples (r); i++)
        total += atol (PQgetvalue (r, i, 2));
    printf ("\nThe mismatch queue: %ld open, worst first\n\n  %-9s %-8s %7s %22s\n", total,
            "severity", "currency", "open", "money at stake");
    for (int i = 0; i < PQntuples (r); i++) {
        char money[64];
        s_money (money, sizeof money, PQgetvalue (r, i, 3), PQgetvalue (r, i, 1));
        printf ("  %-9s %-8s %7s %22s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                PQgetvalue (r, i, 2), money);
    }
    PQclear (r);
    r = recon_db_query (db,
        "SELECT severity, kind, order_id, summary, next_step FROM recon.mismatches "
        "WHERE status = 'open' ORDER BY array_position(ARRAY['critical', 'high', 'medium'], "
        "severity), recon.minor_to_major(amount_minor, currency) DESC, opened_at LIMIT 5",
        0, NULL);
    if (!r)
        return -1;
    printf ("\nThe five worst:\n");
    for (int i = 0; i < PQntuples (r); i++)
        printf ("\n  %d. [%s] %s — order %s\n     %s\n     Next: %s\n", i + 1,
                PQgetvalue (r, i, 0), PQgetvalue (r, i, 1), PQgetvalue (r, i, 2),
                PQgetvalue (r, i, 3), PQgetvalue (r, i, 4));
    PQclear (r);
    return 0;
}


/* ---- the next night --------------------------------------------------- */

/*  Open items of KIND whose order has no other open item, oldest first.  */
static PGresult *
s_pick (recon_db_t *db, const char *kind, int limit)
{
    char n[16];
    snprintf (n, sizeof n, "%d", limit);
    const char *params[] = {kind, n};
    return recon_db_query (db,
        "SELECT m.order_id, m.amount_minor, m.currency FROM recon.mismatches m "
        " WHERE m.status = 'open' AND m.kind = $1 AND NOT EXISTS (SELECT 1 FROM "
        "       recon.mismatches o WHERE o.order_id = m.order_id AND o.kind <> m.kind "
        "       AND o.status <> 'resolved') ORDER BY m.mismatch_id LIMIT $2::int",
        2, params);
}

static FILE *
s_open_csv (const char *dir, const char *name, const char *header, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    if (f)
        fprintf (f, "%s\n", header);
    else
        fprintf (stderr, "recon demo: cannot write %s: %s\n", path, strerror (errno));
    return f;
}

/*  The late data of the next night, as files the real importers read:
    the ledger posts three charges it had missed, the warehouse ships
    three orders that were paid but stuck, and a new order is charged
    twice. Times lie in the night after the first window.                  */
static int
s_write_late_data (s_demo_t *d, recon_db_t *db, const char *dir, char paths[3][4400])
{
    char t1[40], t2[40], t3[40], t4[40];
    recon_timestamp_format (d->night_end + 1 * RECON_USEC_PER_HOUR, t1);
    recon_timestamp_format (d->night_end + 1 * RECON_USEC_PER_HOUR + 5 * 60 * RECON_USEC_PER_SEC,
                            t2);
    recon_timestamp_format (d->night_end + 2 * RECON_USEC_PER_HOUR, t3);
    recon_timestamp_format (d->night_end + 3 * RECON_USEC_PER_HOUR, t4);
    FILE *led = s_open_csv (dir, "ledger.csv", "entry_id,order_id,kind,amount_minor,currency,"
                            "recorded_at", paths[0], sizeof paths[0]);
    FILE *ful = s_open_csv (dir, "fulfillment.csv", "order_id,status,updated_at,shipped_at",
                            paths[1], sizeof paths[1]);
    FILE *pro = s_open_csv (dir, "processor.csv", "txn_id,order_id,payment_ref,kind,status,"
                            "amount_minor,currency,occurred_at", paths[2], sizeof paths[2]);
    PGresult *late = s_pick (db, "missing_in_ledger", 3);
    PGresult *stuck = s_pick (db, "charged_not_delivered", 3);
    int rc = led && ful && pro && late && stuck ? 0 : -1;
    for (int i = 0; rc == 0 && i < PQntuples (late); i++)
        fprintf (led, "je_late_%d,%s,charge,%s,%s,%s\n", i + 1, PQgetvalue (late, i, 0),
                 PQgetvalue (late, i, 1), PQgetvalue (late, i, 2), t4);
    for (int i = 0; rc == 0 && i < PQntuples (stuck); i++)
        fprintf (ful, "%s,shipped,%s,%s\n", PQgetvalue (stuck, i, 0), t3, t3);
    if (rc == 0) {
        /*  A new order, charged twice a few minutes apart.               */
        fprintf (pro, "txn_n2_1,ord_night2_0001,pi_night2_0001,charge,succeeded,12900,EUR,%s\n"
                      "txn_n2_2,ord_night2_0001,pi_night2_0001,charge,succeeded,12900,EUR,%s\n",
                 t1, t2);
        fprintf (led, "je_n2_1,ord_night2_0001,charge,12900,EUR,%s\n", t2);
        fprintf (ful, "ord_night2_0001,shipped,%s,%s\n", t3, t3);
    }
    PQclear (late);
    PQclear (stuck);
    /*  Close all three whatever happens; any failed close is a failure.  */
    FILE *files[] = { led, ful, pro };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i] && fclose (files[i]) != 0)
            rc = -1;
    return rc;
}

static int
s_import_late (recon_db_t *db, char paths[3][4400])
{
    static const struct {
        recon_import_source_t source;
        const char *processor;
    } kinds[3] = {{RECON_IMPORT_LEDGER, NULL}, {RECON_IMPORT_FULFILLMENT, NULL},
                  {RECON_IMPORT_PROCESSOR, "other"}};
    for (int i = 0; i < 3; i++) {
        recon_import_options_t opt = {kinds[i].source, "canonical", kinds[i].processor, '.',
                                      NULL, NULL};
        recon_import_result_t r;
        if (recon_import_file (db, &opt, paths[i], &r) < 0 || r.rejected > 0) {
            fprintf (stderr, "recon demo: importing %s failed: %s\n", paths[i], r.errstr);
            return -1;
        }
        printf ("      %-40s %3lld rows imported\n", strrchr (paths[i], '/') + 1,
                (long long) (r.imported + r.updated));
    }
    return 0;
}

/*  What the night's run changed, from the items' history.                 */
static int
s_night_changes (recon_db_t *db, int64_t run_id)
{
    char run[24];
    snprintf (run, sizeof run, "%lld", (long long) run_id);
    const char *params[] = {run};
    PGresult *r = recon_db_query (db,
        "SELECT h.action, m.kind, m.order_id, h.note FROM recon.mismatch_history h "
        "  JOIN recon.mismatches m USING (mismatch_id) "
        " WHERE h.run_id = $1 AND h.action IN ('opened', 'auto_resolved', 'reopened') "
        " ORDER BY h.action = 'opened', h.history_id", 1, params);
    if (!r)
        return -1;
    int resolved = 0, opened = 0;
    for (int i = 0; i < PQntuples (r); i++)
        strcmp (PQgetvalue (r, i, 0), "opened") == 0 ? opened++ : resolved++;
    printf ("\nThe next night: %d item%s resolved or reopened by late data, %d new\n", resolved,
            resolved == 1 ? "" : "s", opened);
    for (int i = 0; i < PQntuples (r); i++)
        printf ("  %-13s %-22s order %s\n                %s\n", PQgetvalue (r, i, 0),
                PQgetvalue (r, i, 1), PQgetvalue (r, i, 2), PQgetvalue (r, i, 3));
    PQclear (r);
    return 0;
}

/*  Night 2: late data arrives, and the run of the next day's window
    re-checks exactly the orders it touched.                               */
static int
s_next_night (s_demo_t *d, recon_db_t *db)
{
    char dir[4300], paths[3][4400];
    snprintf (dir, sizeof dir, "%s/night2", d->data);
    if (mkdir (dir, 0755) < 0 && errno != EEXIST) {
        fprintf (stderr, "recon demo: cannot create %s: %s\n", dir, strerror (errno));
        return -1;
    }
    if (s_write_late_data (d, db, dir, paths) < 0 || s_import_late (db, paths) < 0)
        return -1;
    int64_t run_id, from = d->night_end, to = d->night_end + RECON_USEC_PER_DAY;
    if (s_run_window (d, db, from, to, to, &run_id) < 0)
        return -1;
    return s_night_changes (db, run_id);
}

static int
s_loop (s_demo_t *d, const s_options_t *o)
{
    recon_sandbox_t *sb = d->sb;
    printf ("[1/8] starting a throw-away PostgreSQL and Redis\n");
    if (recon_sandbox_start (sb) < 0) {
        fprintf (stderr, "recon demo: %s\n", recon_sandbox_errstr (sb));
        return -1;
    }
    if (setenv ("RECON_DATABASE_URL", recon_sandbox_database_url (sb), 1) < 0
        || setenv ("RECON_REDIS_URL", recon_sandbox_redis_url (sb), 1) < 0)
        return -1;
    unsetenv ("RECON_LEDGER_DATABASE_URL");
    unsetenv ("RECON_FULFILLMENT_DATABASE_URL");
    printf ("[2/8] creating recon's schema and the reference ledger and fulfillment\n");
    if (s_migrate_all (d->cli, recon_sandbox_database_url (sb)) < 0)
        return -1;
    snprintf (d->data, sizeof d->data, "%s/data", recon_sandbox_dir (sb));
    printf ("[3/8] generating %ld orders into %s\n", o->orders, d->data);
    if (s_generate (d, o) < 0 || *d->cli->stop_signal)
        return -1;
    recon_db_t *db = recon_db_connect (recon_sandbox_database_url (sb), "recon demo");
    int rc = -1;
    printf ("[4/8] importing through the real importers\n");
    if (!recon_db_ok (db) || s_import (d, db) < 0 || *d->cli->stop_signal)
        goto done;
    printf ("[5/8] starting recon-broker and %d recon-workers; reconciling\n", S_WORKERS);
    if (s_start_cluster (d) < 0 || s_run (d, db) < 0)
        goto done;
    printf ("[6/8] the queue\n");
    if (s_summary (db) < 0 || *d->cli->stop_signal)
        goto done;
    printf ("\n[7/8] the next night: late ledger postings and shipments arrive, and a new\n"
            "      order is charged twice; importing them\n");
    if (s_next_night (d, db) < 0)
        goto done;
    printf ("\n[8/8] the queue after the next night\n");
    rc = s_summary (db);
done:
    recon_db_destroy (&db);
    return rc;
}

/*  A free loopback port: 8080 when it is free, else any.                 */
static int
s_free_port (void)
{
    int ports[] = {8080, 0};
    for (size_t i = 0; i < 2; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) ports[i]),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        if (fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0
            && getsockname (fd, (struct sockaddr *) &a, &len) == 0) {
            close (fd);
            return ntohs (a.sin_port);
        }
        if (fd >= 0)
            close (fd);
    }
    return -1;
}

/*  Waits up to 10 s for something to accept on PORT. 0 or -1.             */
static int
s_wait_port (int port)
{
    for (int i = 0; i < 100; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        int ok = fd >= 0 && connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
        if (fd >= 0)
            close (fd);
        if (ok)
            return 0;
        usleep (100000);
    }
    return -1;
}

/*  Step 9: a reviewer named demo with a fresh random password, and
    recon-web on a free loopback port.                                      */
static int
s_serve_web (s_demo_t *d)
{
    printf ("\n[9/9] the finance web page\n");
    recon_db_t *db = recon_db_connect (recon_sandbox_database_url (d->sb), "recon demo");
    char password[32], err[256] = "";
    unsigned char raw[9];
    if (recon_users_init () < 0 || !recon_db_ok (db)) {
        recon_db_destroy (&db);
        return -1;
    }
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (password, sizeof password, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    int rc = recon_users_add (db, "demo", "reviewer", password, err, sizeof err);
    recon_db_destroy (&db);
    if (rc < 0) {
        fprintf (stderr, "recon demo: adding the demo user: %s\n", err);
        return -1;
    }
    int port = s_free_port ();
    char listen[32];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", port);
    d->web = port > 0 ? s_spawn (d, "recon-web", "--listen", listen, "web.log") : -1;
    if (d->web <= 0 || s_wait_port (port) < 0) {
        fprintf (stderr, "recon demo: recon-web did not start (see %s/web.log)\n",
                 recon_sandbox_dir (d->sb));
        return -1;
    }
    printf ("      open  http://%s/\n      user  demo\n      password  %s\n"
            "      (a reviewer: claim, resolve, snooze and note items; `recon queue` sees\n"
            "      the same queue and history)\n", listen, password);
    return 0;
}

int
cli_demo (cli_t *cli, int argc, char **argv)
{
    s_options_t o;
    int prc = s_parse (argc, argv, &o);
    if (prc != CLI_EXIT_OK)
        return prc < 0 ? CLI_EXIT_OK : prc;
    s_demo_t d = {.cli = cli};
    d.sb = recon_sandbox_new (NULL, cli->log);
    if (!d.sb)
        return CLI_EXIT_FAILURE;
    int rc = s_loop (&d, &o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && o.serve && !*cli->stop_signal && s_serve_web (&d) < 0)
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && (o.keep || o.serve) && !*cli->stop_signal) {
        if (o.keep)
            printf ("\nStill running (logs in %s):\n  export RECON_DATABASE_URL='%s'\n"
                    "  export RECON_REDIS_URL='%s'\n  export RECON_BROKER_ENDPOINT='%s'\n"
                    "Try: recon runs list; recon queue list; psql \"$RECON_DATABASE_URL\".\n",
                    recon_sandbox_dir (d.sb), recon_sandbox_database_url (d.sb),
                    recon_sandbox_redis_url (d.sb), getenv ("RECON_BROKER_ENDPOINT"));
        printf ("\nCtrl-C stops everything.\n");
        fflush (stdout);
        cli_wait_for_signal (cli);
    }
    s_stop_cluster (&d);
    recon_sandbox_destroy (&d.sb);
    printf (rc == CLI_EXIT_OK ? "\nDemo finished; everything it started has stopped.\n"
                              : "\nDemo failed; everything it started has stopped.\n");
    return rc;
}
