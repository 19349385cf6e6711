/*  recon/job.h — the life of a job row: lease, renew, fail, hand back.

    Every transition is a single UPDATE guarded by (job_id, attempt,
    state = 'running'): the attempt is the fencing token, so a late message
    from a worker that lost its lease changes nothing. A failure spends an
    attempt and backs off base × failures⁴ (±10% jitter, capped) before the
    job is offered again; after max_attempts it is dead. A handback (a
    worker shutting down cleanly) spends nothing.                          */
#ifndef RECON_JOB_H
#define RECON_JOB_H

#include <stdint.h>

#include "recon/classify.h"
#include "recon/pg.h"
#include "recon/reconciler.h"

typedef struct {
    int64_t job_id, run_id, attempt;
    int shard, shards;
    char range_lo[RECON_ORDER_ID_MAX + 1];
    char range_hi[RECON_ORDER_ID_MAX + 1];
    int has_range_hi;
    int64_t from, to;
    recon_classify_config_t classify; /* from the run's settings; as_of included */
} recon_job_lease_t;

/*  Leases the next pending job (of RUN_ID, or of any live run when 0) to
    WORKER for LEASE_US, bumping its attempt. Returns 1 with OUT filled, 0
    when none is due, -1 with recon_db_errstr on error.                    */
int recon_job_claim (recon_db_t *db, int64_t run_id, const char *worker, int64_t lease_us,
                     recon_job_lease_t *out);

/*  Extends the leases of the N (job_id, attempt) pairs still running.
    Returns 0 or -1.                                                         */
int recon_job_renew (recon_db_t *db, const int64_t *job_ids, const int64_t *attempts, int n,
                     int64_t lease_us);

/*  Back to pending without spending an attempt. 1 done, 0 fenced, -1 error. */
int recon_job_handback (recon_db_t *db, int64_t job_id, int64_t attempt);

typedef struct {
    int64_t base_us, cap_us; /* backoff */
} recon_job_retry_t;

/*  Records a failed attempt: pending again after the backoff, or dead when
    the attempts are spent or RETRYABLE is 0. REASON is kept in last_error.
    Sets *DEAD (may be NULL). 1 done, 0 fenced, -1 error.                   */
int recon_job_fail (recon_db_t *db, int64_t job_id, int64_t attempt, const char *reason,
                    int retryable, const recon_job_retry_t *retry, int *dead);

/*  Fails every running job whose lease has expired (its worker vanished
    while we were not watching, e.g. across a broker restart). Returns how
    many, or -1; *DEAD (may be NULL) gets how many of them are now dead.    */
int recon_job_expire_leases (recon_db_t *db, const recon_job_retry_t *retry, int *dead);

#endif
