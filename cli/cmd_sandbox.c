/*  cmd_sandbox.c — `recon sandbox [-- CMD ...]`.

    Design decision: the test command runs every suite under this one
    command, so the start/stop logic used by CI, the demo and developers is
    the same C code (common/sandbox.c), and the servers are stopped by PID
    whether the suites pass, fail or are interrupted.                      */
#include "cli.h"
#include "recon/sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon sandbox [-- COMMAND [ARGS...]]\n"
             "\n"
             "Starts a throw-away PostgreSQL and Redis on unix sockets under a new\n"
             "directory in $TMPDIR (PostgreSQL as the 'postgres' user when run as root).\n"
             "With a COMMAND, runs it with RECON_DATABASE_URL, RECON_REDIS_URL and\n"
             "RECON_SANDBOX_DIR set, then stops both servers and removes the directory;\n"
             "the exit code is the command's. Without one, prints the settings and\n"
             "waits for Ctrl-C. RECON_SANDBOX_KEEP=1 keeps the directory (logs) after.\n");
}

static int
s_export (recon_sandbox_t *sb)
{
    if (setenv ("RECON_DATABASE_URL", recon_sandbox_database_url (sb), 1) < 0
        || setenv ("RECON_REDIS_URL", recon_sandbox_redis_url (sb), 1) < 0
        || setenv ("RECON_SANDBOX_DIR", recon_sandbox_dir (sb), 1) < 0)
        return -1;
    /*  The ledger and fulfillment default to database_url; an outer value
        would point the command at some other database.                   */
    unsetenv ("RECON_LEDGER_DATABASE_URL");
    unsetenv ("RECON_FULFILLMENT_DATABASE_URL");
    return 0;
}

int
cli_sandbox (cli_t *cli, int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && cli_is_help (argv[1])) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1 && strcmp (argv[1], "--") == 0)
        first = 2;
    else if (argc > 1) {
        fprintf (stderr, "recon sandbox: put the command after '--'\n");
        return CLI_EXIT_USAGE;
    }
    recon_sandbox_t *sb = recon_sandbox_new (NULL, cli->log);
    if (!sb)
        return CLI_EXIT_FAILURE;
    int rc = CLI_EXIT_FAILURE;
    if (recon_sandbox_start (sb) < 0) {
        recon_log_kv (cli->log, RECON_LOG_ERROR, "sandbox.failed", "error",
                      recon_sandbox_errstr (sb), NULL);
        goto done;
    }
    if (s_export (sb) < 0)
        goto done;
    if (first < argc) {
        rc = cli_run_child (cli, argv + first);
        if (rc < 0) {
            fprintf (stderr, "recon sandbox: cannot run %s: %s\n", argv[first], strerror (errno));
            rc = CLI_EXIT_FAILURE;
        }
        goto done;
    }
    printf ("export RECON_DATABASE_URL='%s'\nexport RECON_REDIS_URL='%s'\n"
            "# sandbox in %s; Ctrl-C stops it\n",
            recon_sandbox_database_url (sb), recon_sandbox_redis_url (sb), recon_sandbox_dir (sb));
    fflush (stdout);
    cli_wait_for_signal (cli);
    rc = CLI_EXIT_OK;
done:
    recon_sandbox_destroy (&sb);
    return rc;
}
