/*  recon/reconciler.h — reconciles one shard of one run (a job).

    Streams the order ids of the shard that have any event in the run's
    window in any of the three sources (each sorted in byte order, merged),
    then in batches: reads every fact of those orders up to as_of, classifies
    each order, and writes the batch's mismatches, auto-resolutions,
    reopenings and the job's progress in one transaction that is fenced by
    the job's attempt. Redoing a batch changes nothing, so a job can resume
    from any checkpoint at or before the last committed batch.             */
#ifndef RECON_RECONCILER_H
#define RECON_RECONCILER_H

#include <stdint.h>

#include "recon/classify.h"
#include "recon/pg.h"

#define RECON_ORDER_ID_MAX 200

typedef struct {
    int64_t job_id, run_id, attempt;
    const char *range_lo;             /* range_lo <= order_id ("" = no bound) */
    const char *range_hi;             /* order_id < range_hi (NULL = no bound) */
    int64_t from, to;                 /* the window, µs */
    recon_classify_config_t classify; /* as_of, grace windows, tolerance */
    const char *ledger_relation;      /* e.g. "ledger.ledger_order_entries" */
    const char *fulfillment_relation;
    int batch_size;                   /* orders per transaction (default 2000) */
    const char *read_strategy;        /* "stream", "lookup" or "auto"/NULL (see
                                         recon_reconciler_run) */
} recon_job_spec_t;

typedef struct {
    int64_t orders_done;
    int64_t mismatches;               /* flagged (order, kind) pairs found */
    char last_order_id[RECON_ORDER_ID_MAX + 1]; /* "" before the first batch */
} recon_job_progress_t;

/*  Called after each committed batch. Return 0 to go on, non-zero to stop
    at this batch boundary (cancel, shutdown).                              */
typedef int (recon_batch_fn) (void *arg, const recon_job_progress_t *progress);

typedef enum {
    RECON_JOB_DONE = 0,     /* every order of the shard reconciled; job marked succeeded */
    RECON_JOB_STOPPED = 1,  /* stopped by the callback after a committed batch */
    RECON_JOB_EDB = -1,     /* a database failed (retry: resumes from the checkpoint) */
    RECON_JOB_FENCED = -2,  /* the job is no longer ours (another attempt, or cancelled) */
    RECON_JOB_EDATA = -3,   /* an order could not be classified (amounts overflow) */
} recon_job_result_t;

typedef struct recon_reconciler recon_reconciler_t;

/*  Creates a reconciler over the given connections (not owned): RECON_RW
    writes results; RECON_RO, LEDGER_RO and FULFILLMENT_RO are read in
    repeatable-read read-only transactions for the whole job. They must be
    four distinct connections. NULL on allocation failure.                  */
recon_reconciler_t *recon_reconciler_new (recon_db_t *recon_rw, recon_db_t *recon_ro,
                                          recon_db_t *ledger_ro, recon_db_t *fulfillment_ro);

void recon_reconciler_destroy (recon_reconciler_t **p);

/*  How a shard is read. "stream": each source's rows of the whole shard
    range, sorted by order id, merged, and the orders with an event in the
    window kept — one sequential pass, the cost of reading the data once,
    right when most of the shard's orders are in the window (a backfill, a
    first run, a benchmark). "lookup": the window's order ids first (from
    the time indexes), then each batch's facts by id — right for a nightly
    window over years of history. "auto" picks stream when the planner
    estimates that at least a quarter of recon.processor_events lies in the
    window. Both give identical results.

    Runs SPEC from PROGRESS (the checkpoint: orders after last_order_id;
    counters continue from it) to the end of the shard or until FN asks to
    stop. PROGRESS is updated after every committed batch. On RECON_JOB_DONE
    the job row is marked succeeded in the same transaction as the last
    batch. Returns a recon_job_result_t; errstr explains the negative ones. */
int recon_reconciler_run (recon_reconciler_t *r, const recon_job_spec_t *spec,
                          recon_job_progress_t *progress, recon_batch_fn *fn, void *arg);

const char *recon_reconciler_errstr (const recon_reconciler_t *r);

/*  1 when the last recon_reconciler_run read by streaming, 0 by lookup.   */
int recon_reconciler_stream (const recon_reconciler_t *r);

#endif
