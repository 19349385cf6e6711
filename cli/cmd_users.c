/*  cmd_users.c — `recon users add|passwd|disable|list`: who may sign in to
    recon-web.

    Design decision: a password is never an argument (it would sit in the
    shell history and in `ps`): it is read from standard input, one line,
    or from --password-file.                                                */
#include "cli.h"
#include "recon/users.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: recon users add NAME --role viewer|reviewer [--password-file F]\n"
        "       recon users passwd NAME [--password-file F]\n"
        "       recon users disable NAME\n"
        "       recon users list\n"
        "\n"
        "Users of recon-web: viewers read the queue, reviewers also act on it.\n"
        "The password (at least %d characters) is read from --password-file or\n"
        "standard input (one line; prompted for on a terminal), never from the\n"
        "command line. passwd and disable end the user's open sessions.\n",
        RECON_USERS_PASSWORD_MIN);
}

/*  One line from F (or stdin) without its newline; 0 or -1.               */
static int
s_read_password (const char *file, char *buf, size_t size)
{
    FILE *f = file ? fopen (file, "r") : stdin;
    if (!f) {
        fprintf (stderr, "recon users: cannot read %s\n", file);
        return -1;
    }
    /*  At a terminal the password is typed without echo (it must not sit
        on the screen or in a terminal recording).                        */
    struct termios old, quiet;
    int hidden = !file && isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &old) == 0;
    if (hidden) {
        fprintf (stderr, "password (not shown): ");
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int ok = fgets (buf, (int) size, f) != NULL;
    if (hidden) {
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
        fputc ('\n', stderr);
    }
    if (file)
        fclose (f);
    if (!ok) {
        fprintf (stderr, "recon users: no password given (standard input was empty)\n");
        return -1;
    }
    buf[strcspn (buf, "\r\n")] = '\0';
    return 0;
}

int
cli_users (cli_t *cli, int argc, char **argv)
{
    if (argc < 2 || cli_is_help (argv[1])) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1], *role = NULL, *file = NULL;
    static const struct option longs[] = {
        {"role", required_argument, NULL, 'r'}, {"password-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long (argc - 1, argv + 1, "h", longs, NULL)) != -1) {
        if (c == 'r')
            role = optarg;
        else if (c == 'p')
            file = optarg;
        else if (c == 'h') {
            s_usage (stdout);
            return CLI_EXIT_OK;
        } else {
            s_usage (stderr);
            return CLI_EXIT_USAGE;
        }
    }
    const char *name = optind < argc - 1 ? argv[1 + optind] : NULL;
    int is_list = strcmp (sub, "list") == 0;
    if (!is_list && strcmp (sub, "add") && strcmp (sub, "passwd") && strcmp (sub, "disable")) {
        fprintf (stderr, "recon users: unknown subcommand '%s'\n", sub);
        return CLI_EXIT_USAGE;
    }
    if (!is_list && !name) {
        fprintf (stderr, "recon users %s: NAME required\n", sub);
        return CLI_EXIT_USAGE;
    }
    if (strcmp (sub, "add") == 0 && !role) {
        fprintf (stderr, "recon users add: --role viewer|reviewer required\n");
        return CLI_EXIT_USAGE;
    }
    if (recon_users_init () < 0) {
        fprintf (stderr, "recon users: libsodium cannot be initialised\n");
        return CLI_EXIT_FAILURE;
    }
    char password[1024] = "";
    if ((strcmp (sub, "add") == 0 || strcmp (sub, "passwd") == 0)
        && s_read_password (file, password, sizeof password) < 0)
        return CLI_EXIT_USAGE;
    recon_db_t *db = recon_db_connect (recon_config_get (cli->cfg, "database_url"), "recon users");
    if (!recon_db_ok (db)) {
        fprintf (stderr, "recon users: %s\n", recon_db_errstr (db));
        recon_db_destroy (&db);
        return CLI_EXIT_FAILURE;
    }
    char err[256] = "";
    int rc;
    if (is_list) {
        PGresult *r = recon_db_query (db,
            "SELECT user_name, role, CASE WHEN disabled THEN 'disabled' ELSE 'enabled' END, "
            "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM recon.users ORDER BY 1",
            0, NULL);
        rc = r ? 0 : RECON_USERS_EDB;
        for (int i = 0; r && i < PQntuples (r); i++)
            printf ("%-24s %-9s %-9s since %s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                    PQgetvalue (r, i, 2), PQgetvalue (r, i, 3));
        PQclear (r);
    } else if (strcmp (sub, "add") == 0)
        rc = recon_users_add (db, name, role, password, err, sizeof err);
    else if (strcmp (sub, "passwd") == 0)
        rc = recon_users_passwd (db, name, password, err, sizeof err);
    else
        rc = recon_users_disable (db, name);
    memset (password, 0, sizeof password);
    int exit = CLI_EXIT_OK;
    if (rc == RECON_USERS_EDB) {
        fprintf (stderr, "recon users: %s\n", recon_db_errstr (db));
        exit = CLI_EXIT_FAILURE;
    } else if (rc == RECON_USERS_ENOTFOUND) {
        fprintf (stderr, "recon users %s: no user '%s'\n", sub, name);
        exit = CLI_EXIT_FLAGGED;
    } else if (rc < 0) {
        fprintf (stderr, "recon users %s: %s\n", sub, err);
        exit = rc == RECON_USERS_EEXIST ? CLI_EXIT_FLAGGED : CLI_EXIT_USAGE;
    } else if (!is_list)
        printf ("user %s: %s\n", name, strcmp (sub, "add") == 0 ? "added"
                                       : strcmp (sub, "passwd") == 0 ? "password set"
                                                                     : "disabled");
    recon_db_destroy (&db);
    return exit;
}
