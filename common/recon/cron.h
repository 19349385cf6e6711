/*  recon/cron.h — five-field cron expressions, evaluated in UTC.

    "minute hour day-of-month month day-of-week", each field a star, a
    number, a range a-b, either of those followed by a step "/n", or a
    comma list of those.
    As in classic cron, when both day fields are restricted a day matches
    if either does. Day of week 0 and 7 are Sunday.                        */
#ifndef RECON_CRON_H
#define RECON_CRON_H

#include <stddef.h>
#include <stdint.h>

typedef struct recon_cron recon_cron_t;

/*  Parses EXPR. NULL with ERR (of ERRLEN bytes) saying which field is bad. */
recon_cron_t *recon_cron_new (const char *expr, char *err, size_t errlen);
void recon_cron_destroy (recon_cron_t **p);

/*  1 when the minute containing T (µs since the epoch, UTC) matches.      */
int recon_cron_matches (const recon_cron_t *cron, int64_t t);

#endif
