/*  recon/sandbox.h — a throw-away PostgreSQL and Redis under a temp dir.

    Used by `recon demo`, `recon sandbox -- CMD` (which the test command runs
    the suites under) and integration tests. PostgreSQL listens only on a
    unix socket inside the directory and runs as the `postgres` user when we
    are root (initdb refuses root); Redis listens on a unix socket too, so
    nothing ever binds a TCP port and two sandboxes never collide. Both are
    our direct children: stopped by PID, and told to exit if we die.       */
#ifndef RECON_SANDBOX_H
#define RECON_SANDBOX_H

#include "recon/log.h"

typedef struct recon_sandbox recon_sandbox_t;

/*  Creates (does not start) a sandbox under PARENT_DIR (NULL: $TMPDIR or
    /tmp). LOG (not owned, may be NULL) receives start/stop events. NULL on
    allocation failure.                                                     */
recon_sandbox_t *recon_sandbox_new (const char *parent_dir, recon_log_t *log);

/*  Stops what is still running, removes the directory (unless
    RECON_SANDBOX_KEEP=1 was set at creation), frees. Accepts NULL and sets
    *P to NULL.                                                             */
void recon_sandbox_destroy (recon_sandbox_t **p);

/*  Creates the directory, initialises and starts PostgreSQL (database
    "recon", superuser "recon", trust auth on the socket) and Redis, and
    waits until both answer. Returns 0, or -1 with errstr (including the
    tail of the failing server's log); on failure nothing is left running. */
int recon_sandbox_start (recon_sandbox_t *sb);

/*  Stops Redis (SIGTERM) and PostgreSQL (fast shutdown, SIGINT), escalating
    to SIGKILL after a timeout, and reaps them. Idempotent. Returns 0, or -1
    when a server had to be killed.                                         */
int recon_sandbox_stop (recon_sandbox_t *sb);

/*  Stops / starts only PostgreSQL, keeping its data (fault tests).        */
int recon_sandbox_stop_postgres (recon_sandbox_t *sb);
int recon_sandbox_start_postgres (recon_sandbox_t *sb);

/*  Stops / starts only Redis; it keeps nothing, so a restart is a flush.  */
int recon_sandbox_stop_redis (recon_sandbox_t *sb);
int recon_sandbox_start_redis (recon_sandbox_t *sb);

/*  URLs for RECON_DATABASE_URL and RECON_REDIS_URL, and the directory.
    Owned by SB; valid after a successful start.                             */
const char *recon_sandbox_database_url (const recon_sandbox_t *sb);
const char *recon_sandbox_redis_url (const recon_sandbox_t *sb);
const char *recon_sandbox_dir (const recon_sandbox_t *sb);

/*  PIDs of the servers (0 when not running).                               */
int recon_sandbox_postgres_pid (const recon_sandbox_t *sb);
int recon_sandbox_redis_pid (const recon_sandbox_t *sb);

/*  The last error, "" when none. Owned by SB.                              */
const char *recon_sandbox_errstr (const recon_sandbox_t *sb);

#endif
