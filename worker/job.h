/*  job.h — running one job to an end, with retries, for recon-worker.     */
#ifndef RECON_WORKER_JOB_H
#define RECON_WORKER_JOB_H

#include <stdatomic.h>

#include "recon/config.h"
#include "recon/job.h"
#include "recon/log.h"
#include "recon/metrics.h"
#include "recon/reconciler.h"

/*  The families a job updates (owned by the worker's registry); a NULL
    pointer to this struct means no metrics (--run).                        */
typedef struct {
    recon_metric_t *orders, *batches, *batch_seconds, *checkpoint_writes, *redis_errors,
        *db_errors, *current_orders;
} worker_metrics_t;

typedef enum {
    WORKER_EV_PROGRESS, /* a batch committed */
    WORKER_EV_DONE,     /* the job succeeded */
    WORKER_EV_STOPPED,  /* stopped at a batch boundary as asked (handback) */
    WORKER_EV_FENCED,   /* the job is no longer ours: drop it */
    WORKER_EV_FAILED,   /* gave up: report FAILED */
} worker_event_type_t;

typedef struct {
    worker_event_type_t type;
    int64_t job_id, attempt;
    recon_job_progress_t progress;
    int retryable;
    char error[512];
} worker_event_t;

/*  Called after each committed batch with a PROGRESS event.               */
typedef void (worker_report_fn) (void *arg, const worker_event_t *event);

/*  Runs SPEC until done, stopped (STOP set: ends at the next batch
    boundary, or at once while waiting to reconnect), fenced or failed.
    Lost connections are retried with backoff for as long as it takes (the
    broker's lease decides when the job is someone else's); SQL errors are
    retried 3 times, then the job FAILED (retryable). Fills FINAL.          */
void worker_run_job (const recon_config_t *cfg, recon_log_t *log, const recon_job_lease_t *spec,
                     atomic_int *stop, worker_report_fn *report, void *arg,
                     const worker_metrics_t *metrics, worker_event_t *final);

#endif
