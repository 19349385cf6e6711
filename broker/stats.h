/*  stats.h — the broker's metrics that are read from PostgreSQL at scrape
    time (see stats.c for which and why).                                 */
#ifndef RECON_BROKER_STATS_H
#define RECON_BROKER_STATS_H

#include "recon/log.h"
#include "recon/metrics.h"

typedef struct broker_stats broker_stats_t;

/*  Registers the database-derived families in REG (not owned) and returns
    the collector, or NULL on OOM. DATABASE_URL is copied; the connection
    is opened on the first scrape. LOG (not owned, may be NULL) must be a
    logger no other thread uses.                                           */
broker_stats_t *broker_stats_new (recon_metrics_t *reg, const char *database_url,
                                  recon_log_t *log);
void broker_stats_destroy (broker_stats_t **p);

/*  The recon_ops collect hook: refreshes the families from the database
    unless the last refresh is younger than 5 s. Thread-safe (one refresh at
    a time; a scrape that waits uses the fresh values). On failure the last
    values stay and recon_metrics_db_up is 0.                              */
void broker_stats_collect (void *stats);

#endif
