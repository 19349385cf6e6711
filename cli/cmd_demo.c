/*  cmd_demo.c — `recon demo`: the whole loop on embedded defaults.

    Design decision: the demo never touches a configured database; it
    builds its own sandbox, so running it twice, or on a machine that also
    runs a real recon, is always safe. Each step is the same code a real
    deployment runs (migrations, generator, later the importers, broker and
    workers); the demo only wires them together.                           */
#include "cli.h"
#include "recon/migrate.h"
#include "recon/sandbox.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long orders;
    long seed;
    int keep;
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon demo [--orders N] [--seed S] [--keep]\n"
             "\n"
             "Starts a throw-away PostgreSQL and Redis, creates recon's schema and the\n"
             "reference ledger and fulfillment schemas, generates N orders (default\n"
             "100000) across several currencies with every order state and mismatch\n"
             "kind injected, and reports what was generated. Everything it started is\n"
             "stopped at the end, on success, failure or Ctrl-C.\n"
             "  --keep   keep the sandbox running until Ctrl-C and print its settings\n"
             "\n"
             "Status: importing, reconciling and the mismatch queue join the demo as\n"
             "they are built (see README, 'What works today').\n");
}

static int
s_parse (int argc, char **argv, s_options_t *o)
{
    static const struct option opts[] = {
        {"orders", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->orders = 100000;
    o->seed = 42;
    o->keep = 0;
    int c;
    char *end;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o->orders = strtol (optarg, &end, 10);
            if (*end || o->orders < 1 || o->orders > 100000000) {
                fprintf (stderr, "recon demo: --orders must be 1..100000000\n");
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
s_generate (cli_t *cli, const s_options_t *o, const char *dir)
{
    char prog[4096], orders[32], seed[32];
    snprintf (orders, sizeof orders, "%ld", o->orders);
    snprintf (seed, sizeof seed, "%ld", o->seed);
    char *argv[] = {(char *) cli_find_program (cli, "recon-gen", prog, sizeof prog),
                    "--orders", orders, "--seed", seed, "--out", (char *) dir, NULL};
    int rc = cli_run_child (cli, argv);
    if (rc != 0)
        fprintf (stderr, "recon demo: the data generator failed (exit %d)\n", rc);
    return rc == 0 ? 0 : -1;
}

/*  Prints the generator's counts per expected label, worst kinds first as
    they will appear in the queue.                                          */
static int
s_report (const char *dir)
{
    char path[4300];
    snprintf (path, sizeof path, "%s/meta.json", dir);
    json_error_t err;
    json_t *meta = json_load_file (path, 0, &err);
    if (!meta) {
        fprintf (stderr, "recon demo: %s:%d: %s\n", path, err.line, err.text);
        return -1;
    }
    json_t *labels = json_object_get (meta, "labels");
    printf ("\nGenerated %lld orders (seed %lld, window %s .. %s, as of %s):\n",
            (long long) json_integer_value (json_object_get (meta, "orders")),
            (long long) json_integer_value (json_object_get (meta, "seed")),
            json_string_value (json_object_get (meta, "from")),
            json_string_value (json_object_get (meta, "to")),
            json_string_value (json_object_get (meta, "as_of")));
    const char *label;
    json_t *count;
    json_object_foreach (labels, label, count)
        printf ("  %-48s %8lld\n", label, (long long) json_integer_value (count));
    json_decref (meta);
    return 0;
}

int
cli_demo (cli_t *cli, int argc, char **argv)
{
    s_options_t o;
    int prc = s_parse (argc, argv, &o);
    if (prc != CLI_EXIT_OK)
        return prc < 0 ? CLI_EXIT_OK : prc;

    int rc = CLI_EXIT_FAILURE;
    recon_sandbox_t *sb = recon_sandbox_new (NULL, cli->log);
    if (!sb)
        return CLI_EXIT_FAILURE;
    printf ("[1/3] starting a throw-away PostgreSQL and Redis\n");
    if (recon_sandbox_start (sb) < 0) {
        fprintf (stderr, "recon demo: %s\n", recon_sandbox_errstr (sb));
        goto done;
    }
    printf ("[2/3] creating recon's schema and the reference ledger/fulfillment schemas\n");
    if (s_migrate_all (cli, recon_sandbox_database_url (sb)) < 0)
        goto done;
    char data_dir[4200];
    snprintf (data_dir, sizeof data_dir, "%s/data", recon_sandbox_dir (sb));
    printf ("[3/3] generating %ld orders into %s\n", o.orders, data_dir);
    if (s_generate (cli, &o, data_dir) < 0 || s_report (data_dir) < 0)
        goto done;
    printf ("\nNot in the demo yet: importing these files, the reconciliation run and\n"
            "the mismatch queue (they are being built; see the README).\n");
    if (o.keep) {
        printf ("\nexport RECON_DATABASE_URL='%s'\nexport RECON_REDIS_URL='%s'\n"
                "Sandbox running; Ctrl-C stops it.\n",
                recon_sandbox_database_url (sb), recon_sandbox_redis_url (sb));
        fflush (stdout);
        cli_wait_for_signal (cli);
    }
    rc = CLI_EXIT_OK;
done:
    recon_sandbox_destroy (&sb);
    if (rc == CLI_EXIT_OK)
        printf ("Demo finished; everything it started has stopped.\n");
    return rc;
}
