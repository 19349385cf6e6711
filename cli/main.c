/*  main.c — `recon`, the command line: global options, config, dispatch.

    Design decision: settings are loaded once here (defaults < file < env <
    flags) and handed to subcommands with the logger; the only global state
    in the program is the signal flag below, which a handler must reach.  */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t s_stop_signal;

static void
s_on_signal (int sig)
{
    s_stop_signal = sig;
}

static const cli_command_t s_commands[] = {
    {"db", cli_db, "create or upgrade the database schemas (recon db migrate)"},
    {"import", cli_import, "import processor reports, ledger and fulfillment files"},
    {"run", cli_run, "start a reconciliation run (--wait to follow it)"},
    {"runs", cli_run, "list, show or cancel runs"},
    {"queue", cli_queue, "the mismatch queue: list, show, claim, resolve, snooze, note, reopen, export"},
    {"users", cli_users, "users of recon-web: add, passwd, disable, list"},
    {"demo", cli_demo, "the whole loop on embedded defaults, in a throw-away sandbox"},
    {"sandbox", cli_sandbox, "run a throw-away PostgreSQL + Redis (and a command inside it)"},
    {"states", cli_states, "every order state and mismatch kind, with example sentences"},
    {"config", cli_config, "show the effective settings and where each came from"},
    {NULL, NULL, NULL},
};

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon [--config FILE] [--log-format text|json] [--log-level L] COMMAND [ARGS]\n"
             "\n"
             "recon reconciles payment processor, ledger and fulfillment records and\n"
             "keeps a queue of every disagreement for finance to work.\n"
             "\n"
             "Commands:\n");
    for (const cli_command_t *c = s_commands; c->name; c++)
        fprintf (out, "  %-10s %s\n", c->name, c->summary);
    fprintf (out,
             "\n"
             "Options:\n"
             "  --config FILE        read settings from FILE (also: RECON_CONFIG)\n"
             "  --log-format FORMAT  text (default) or json, one line per event on stderr\n"
             "  --log-level LEVEL    debug, info (default), warn or error\n"
             "  -h, --help           this help; 'recon COMMAND --help' for a command\n"
             "  --version            print the version\n"
             "\n"
             "Exit codes: 0 success, 1 mismatches open (recon run) or rows rejected\n"
             "(recon import), 2 usage or configuration error, 3 runtime failure.\n"
             "\n");
    recon_config_print_help (out);
}

int
cli_is_help (const char *arg)
{
    return strcmp (arg, "-h") == 0 || strcmp (arg, "--help") == 0;
}

int
cli_run_child (cli_t *cli, char *const argv[])
{
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal (SIGPIPE, SIG_DFL); /* ignored dispositions survive exec */
        execvp (argv[0], argv);
        fprintf (stderr, "recon: cannot run %s: %s\n", argv[0], strerror (errno));
        _exit (127);
    }
    int forwarded = 0, status = 0;
    while (waitpid (pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
        if (*cli->stop_signal && !forwarded) {
            kill (pid, (int) *cli->stop_signal);
            forwarded = 1;
        }
    }
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return WEXITSTATUS (status);
}

void
cli_wait_for_signal (cli_t *cli)
{
    /*  Block the signals while testing the flag so one cannot slip in
        between the test and the wait.                                    */
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    sigprocmask (SIG_BLOCK, &block, &old);
    while (!*cli->stop_signal)
        sigsuspend (&old);
    sigprocmask (SIG_SETMASK, &old, NULL);
}

const char *
cli_find_program (const cli_t *cli, const char *name, char *buf, size_t size)
{
    char self[4096];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (slash) {
            *slash = '\0';
            /*  Installed side by side, or the build tree's layout.   */
            const char *subdirs[] = {"", "/../tests/gen", "/../broker", "/../worker",
                                     "/../web", "/../libexec/recon"};
            for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
                snprintf (buf, size, "%s%s/%s", self, subdirs[i], name);
                if (access (buf, X_OK) == 0)
                    return buf;
            }
        }
    }
    (void) cli;
    snprintf (buf, size, "%s", name);
    return buf;
}

/*  Loads file, env and flags into CFG. Returns the index of the command
    in argv, or -1 after printing an error, or 0 when help/version was
    handled (*RC set).                                                      */
static int
s_parse_global (int argc, char **argv, recon_config_t *cfg, int *rc)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-format", required_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_file = getenv ("RECON_CONFIG");
    const char *log_format = NULL, *log_level = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_file = optarg; break;
        case 'f': log_format = optarg; break;
        case 'l': log_level = optarg; break;
        case 'h': s_usage (stdout); *rc = CLI_EXIT_OK; return 0;
        case 'V': printf ("recon %s\n", RECON_VERSION); *rc = CLI_EXIT_OK; return 0;
        default: *rc = CLI_EXIT_USAGE; return -1;
        }
    }
    const char *flags[] = {"log_format", log_format, "log_level", log_level, NULL};
    if (recon_config_load (cfg, config_file, environ, flags) < 0) {
        fprintf (stderr, "recon: %s\n", recon_config_errstr (cfg));
        *rc = CLI_EXIT_USAGE;
        return -1;
    }
    if (optind >= argc) {
        s_usage (stderr);
        *rc = CLI_EXIT_USAGE;
        return -1;
    }
    return optind;
}

static void
s_install_signals (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    /*  No SA_RESTART: blocking waits must return EINTR so we can react.  */
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    /*  A closed pipe (recon … | head) must not kill us before we stop the
        servers we started; writes fail with EPIPE instead.              */
    signal (SIGPIPE, SIG_IGN);
}

int
main (int argc, char **argv)
{
    int rc = CLI_EXIT_FAILURE;
    recon_config_t *cfg = recon_config_new ();
    recon_log_t *log = recon_log_new ("recon", stderr);
    if (!cfg || !log) {
        fprintf (stderr, "recon: out of memory\n");
        goto done;
    }
    int cmd = s_parse_global (argc, argv, cfg, &rc);
    if (cmd <= 0)
        goto done;
    recon_config_apply_log (cfg, log);
    s_install_signals ();

    cli_t cli = {cfg, log, argv[0], &s_stop_signal};
    for (const cli_command_t *c = s_commands; c->name; c++)
        if (strcmp (c->name, argv[cmd]) == 0) {
            optind = 1;
            rc = c->run (&cli, argc - cmd, argv + cmd);
            goto done;
        }
    fprintf (stderr, "recon: unknown command '%s' (see recon --help)\n", argv[cmd]);
    rc = CLI_EXIT_USAGE;
done:
    recon_log_destroy (&log);
    recon_config_destroy (&cfg);
    return rc;
}
