/*  recon/run.h — runs and their jobs, durable in PostgreSQL.

    A run reconciles every order with an event in [from, to) as of as_of.
    It is cut into N jobs by order id ranges in byte order, chosen so the
    shards hold about as many processor events each (from a sample of
    whole orders when the window holds over 200,000 events); the settings (grace windows,
    tolerance, relations) are copied into the run so every worker of the
    run classifies alike, whatever its own configuration.                  */
#ifndef RECON_RUN_H
#define RECON_RUN_H

#include <stdint.h>

#include "recon/classify.h"
#include "recon/pg.h"

typedef struct {
    int64_t from, to, as_of;          /* µs */
    int shards;                       /* 1..1024 */
    int max_attempts;                 /* per job, 1..100 (0: 5) */
    recon_classify_config_t grace;    /* as_of ignored: the field above counts */
    const char *ledger_relation;
    const char *fulfillment_relation;
    const char *requested_by;         /* a user name, or "schedule" */
    const char *schedule_key;         /* NULL, or a unique key of a scheduled slot */
} recon_run_request_t;

/*  The channels of two announcements: recon_run_create's, when it has
    stored new jobs (recon-broker listens, to dispatch them at once), and
    recon_run_settle's, payload the run id (recon_run_wait_settled).      */
#define RECON_RUN_JOBS_CHANNEL "recon_jobs"
#define RECON_RUN_SETTLED_CHANNEL "recon_runs"

/*  Creates the run and its jobs in one transaction and sets *RUN_ID. The
    run's orders_estimate is exact for a small window, estimated from the
    sample for a large one.
    Returns 0; 1 when SCHEDULE_KEY already has a run (*RUN_ID is that run,
    nothing created); -1 with recon_db_errstr (DB).                        */
int recon_run_create (recon_db_t *db, const recon_run_request_t *req, int64_t *run_id);

typedef struct {
    int64_t run_id;
    char state[16];
    int64_t from, to, as_of, created_at, finished_at; /* µs; finished 0 if not */
    int shards;
    int64_t orders_estimate, orders_done, mismatches_found;
    int jobs_pending, jobs_running, jobs_succeeded, jobs_dead, jobs_cancelled;
    int64_t open_mismatches;          /* open/in_review items this run saw */
    int64_t started_at;               /* µs; 0 until a job started */
    char last_error[256];             /* of a dead job, if any */
} recon_run_status_t;

/*  Reads the run's state and progress. 0, 1 when there is no such run,
    -1 on database error.                                                   */
int recon_run_status (recon_db_t *db, int64_t run_id, recon_run_status_t *out);

/*  Like recon_run_status, without counting the run's open items
    (open_mismatches is -1): for polling while a run goes on, where that
    count grows with the queue (70 ms a poll at 1M orders).                */
int recon_run_progress (recon_db_t *db, int64_t run_id, recon_run_status_t *out);

/*  Cancels a run: pending jobs become cancelled at once; running ones are
    told by the broker and end at their next batch. 0, 1 when the run is
    unknown or already finished, -1 on error.                              */
int recon_run_cancel (recon_db_t *db, int64_t run_id);

/*  Moves the run to its terminal state when all its jobs are terminal:
    succeeded (all succeeded), failed (any dead) or cancelled. Sets
    *STATE_OUT (16 bytes) when not NULL. 0, -1 on error.                   */
int recon_run_settle (recon_db_t *db, int64_t run_id, char *state_out);

/*  Subscribes DB's session to settled runs (recon_run_settle announces
    each one at commit), so a waiter learns at once instead of at its next
    poll. 0, -1 on error.                                                   */
int recon_run_listen (recon_db_t *db);

/*  After recon_run_listen: waits up to TIMEOUT_MS for the announcement
    that RUN_ID settled (others are consumed and ignored); returns early on
    a signal. 1 when it came, 0 when not (yet), -1 when the connection
    failed. A poll of the run's state is still the answer: a run settled
    before the LISTEN, or by a broker of an older version, is never
    announced.                                                              */
int recon_run_wait_settled (recon_db_t *db, int64_t run_id, int timeout_ms);

#endif
