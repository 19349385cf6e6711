/*  cli.h — what every `recon` subcommand gets from main.c.                */
#ifndef RECON_CLI_H
#define RECON_CLI_H

#include <signal.h>

#include "recon/config.h"
#include "recon/log.h"
#include "recon/pg.h"

/*  Exit codes: 0 success, 1 the run found open mismatches (recon run),
    2 usage or configuration error, 3 runtime failure (database down, …).  */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FLAGGED = 1, /* also: an import kept rejected rows for review */
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_FAILURE = 3,
};

typedef struct {
    recon_config_t *cfg;
    recon_log_t *log;
    const char *self;                   /* path of the running binary, for siblings */
    volatile sig_atomic_t *stop_signal; /* set by SIGINT/SIGTERM; 0 otherwise */
} cli_t;

typedef struct {
    const char *name;
    int (*run) (cli_t *cli, int argc, char **argv);
    const char *summary;
} cli_command_t;

int cli_db (cli_t *cli, int argc, char **argv);
int cli_import (cli_t *cli, int argc, char **argv);
int cli_run (cli_t *cli, int argc, char **argv);
int cli_sandbox (cli_t *cli, int argc, char **argv);
int cli_demo (cli_t *cli, int argc, char **argv);
int cli_config (cli_t *cli, int argc, char **argv);
int cli_states (cli_t *cli, int argc, char **argv);
int cli_queue (cli_t *cli, int argc, char **argv);
int cli_users (cli_t *cli, int argc, char **argv);

/*  Follows run RUN_ID to its end (progress bar on a terminal, lines
    otherwise), prints a summary line, and returns the exit code of
    `recon run --wait`: 0 nothing open, 1 mismatches open, 3 failed.        */
int cli_run_wait (cli_t *cli, recon_db_t *db, int64_t run_id);

/*  1 when ARG is -h or --help.                                             */
int cli_is_help (const char *arg);

/*  Runs ARGV as a child process (inheriting stdio and environment), waits,
    forwarding SIGINT/SIGTERM that reach us. Returns its exit code
    (128+signal when killed), or -1 when it could not be started.           */
int cli_run_child (cli_t *cli, char *const argv[]);

/*  Returns once SIGINT or SIGTERM has arrived (at once if one already has). */
void cli_wait_for_signal (cli_t *cli);

/*  Finds a sibling program NAME next to the running binary or in the build
    tree (../tests/gen/NAME), else NAME for a PATH search. Writes into BUF. */
const char *cli_find_program (const cli_t *cli, const char *name, char *buf, size_t size);

#endif
