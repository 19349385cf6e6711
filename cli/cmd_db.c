/*  cmd_db.c — `recon db migrate` and `recon db status`.

    Design decision: each migration set goes to the database its data lives
    in: recon's schema to database_url, the reference ledger to
    ledger_database_url, the reference fulfillment store to
    fulfillment_database_url (both default to database_url).               */
#include "cli.h"
#include "recon/migrate.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon db migrate [--reference] [--only SET]\n"
             "       recon db status\n"
             "\n"
             "migrate  creates or upgrades recon's own schema in RECON_DATABASE_URL,\n"
             "         applying each pending versioned migration in one transaction.\n"
             "         Idempotent: a second run changes nothing.\n"
             "  --reference  also the reference ledger (RECON_LEDGER_DATABASE_URL) and\n"
             "               fulfillment (RECON_FULFILLMENT_DATABASE_URL) schemas that\n"
             "               the demo and the tests use in place of a company's own.\n"
             "  --only SET   just one set:");
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++)
        fprintf (out, " %s", s->name);
    fprintf (out, "\nstatus   prints each set's applied and latest version; exits 1 when\n"
                  "         a set is behind.\n");
}

static const char *
s_url_for (cli_t *cli, const recon_migration_set_t *set)
{
    if (strcmp (set->name, "ledger") == 0)
        return recon_config_get_url (cli->cfg, "ledger_database_url");
    if (strcmp (set->name, "fulfillment") == 0)
        return recon_config_get_url (cli->cfg, "fulfillment_database_url");
    return recon_config_get (cli->cfg, "database_url");
}

static int
s_migrate_set (cli_t *cli, const recon_migration_set_t *set)
{
    recon_db_t *db = recon_db_connect (s_url_for (cli, set), "recon db migrate");
    int applied = 0, rc = CLI_EXIT_OK;
    if (!recon_db_ok (db) || recon_migrate_apply (db, set, cli->log, &applied) < 0) {
        recon_log_kv (cli->log, RECON_LOG_ERROR, "migrate.failed", "set", set->name, "error",
                      recon_db_errstr (db), NULL);
        rc = CLI_EXIT_FAILURE;
    } else {
        int current = recon_migrate_current (db, set);
        printf ("%-12s version %d (%d applied now)\n", set->name, current, applied);
    }
    recon_db_destroy (&db);
    return rc;
}

static int
s_status (cli_t *cli)
{
    int rc = CLI_EXIT_OK;
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++) {
        recon_db_t *db = recon_db_connect (s_url_for (cli, s), "recon db status");
        int current = recon_db_ok (db) ? recon_migrate_current (db, s) : -1;
        int latest = recon_migration_set_latest (s);
        if (current < 0) {
            printf ("%-12s unreachable: %s\n", s->name, recon_db_errstr (db));
            rc = CLI_EXIT_FAILURE;
        } else {
            printf ("%-12s version %d of %d%s\n", s->name, current, latest,
                    current < latest ? "  (behind: run recon db migrate)" : "");
            if (current < latest && rc == CLI_EXIT_OK)
                rc = 1;
        }
        recon_db_destroy (&db);
    }
    return rc;
}

static int
s_migrate (cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"reference", no_argument, NULL, 'r'},
        {"only", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int reference = 0, c;
    const char *only = NULL;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reference = 1; break;
        case 'o': only = optarg; break;
        case 'h': s_usage (stdout); return CLI_EXIT_OK;
        default: s_usage (stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "recon db migrate: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (only && !recon_migration_set_find (only)) {
        fprintf (stderr, "recon db migrate: unknown set '%s'\n", only);
        return CLI_EXIT_USAGE;
    }
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++) {
        int wanted = only ? strcmp (only, s->name) == 0
                          : (strcmp (s->name, "recon") == 0 || reference);
        if (wanted && s_migrate_set (cli, s) != CLI_EXIT_OK)
            return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int
cli_db (cli_t *cli, int argc, char **argv)
{
    if (argc < 2 || cli_is_help (argv[1])) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp (argv[1], "migrate") == 0)
        return s_migrate (cli, argc - 1, argv + 1);
    if (strcmp (argv[1], "status") == 0) {
        if (argc > 2 && cli_is_help (argv[2])) {
            s_usage (stdout);
            return CLI_EXIT_OK;
        }
        return s_status (cli);
    }
    fprintf (stderr, "recon db: unknown subcommand '%s'\n", argv[1]);
    s_usage (stderr);
    return CLI_EXIT_USAGE;
}
