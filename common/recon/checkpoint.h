/*  recon/checkpoint.h — a job's progress mirrored in Redis.

    The durable checkpoint is the job row in PostgreSQL, written in the same
    transaction as each batch; Redis gets a copy after each commit, keyed by
    the job's random token (job ids repeat across databases that may share
    one Redis). A resume starts from the job row; a Redis copy is only
    compared with it, so correctness never depends on Redis, and every
    Redis failure here is logged and swallowed.                            */
#ifndef RECON_CHECKPOINT_H
#define RECON_CHECKPOINT_H

#include <stdint.h>

#include "recon/log.h"
#include "recon/reconciler.h"

typedef struct recon_checkpoint recon_checkpoint_t;

/*  REDIS_URL: "redis://host[:port][/db]" or "unix:///path/to.sock[?db=N]".
    LOG is not owned (may be NULL). Connects lazily. NULL on OOM or when the
    URL cannot be parsed (the reason is logged).                            */
recon_checkpoint_t *recon_checkpoint_new (const char *redis_url, recon_log_t *log);
void recon_checkpoint_destroy (recon_checkpoint_t **p);

/*  Loads the checkpoint of the job with TOKEN (its uuid) into OUT. 1 found, 0 none, -1 Redis failed
    (OUT unchanged in both latter cases).                                   */
int recon_checkpoint_load (recon_checkpoint_t *cp, const char *token, recon_job_progress_t *out);

/*  Saves it (expires after 7 days). 0, or -1 when Redis failed.            */
int recon_checkpoint_save (recon_checkpoint_t *cp, const char *token,
                           const recon_job_progress_t *progress);

/*  Forgets it (the job is finished). 0 or -1.                              */
int recon_checkpoint_clear (recon_checkpoint_t *cp, const char *token);

/*  How many Redis operations or connection attempts failed since CP was
    created (those skipped while backing off after a failure not counted).
    0 for NULL.                                                              */
int64_t recon_checkpoint_failures (const recon_checkpoint_t *cp);

#endif
