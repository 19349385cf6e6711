/*  queue.h — the mismatch queue finance works: read it worst first in pages
    with totals, and act on an item (claim, resolve, snooze, note, reopen),
    every change recorded in the item's append-only history.

    Rows come back as libpq results (text columns in the documented order;
    the caller PQclears them) so the CLI and the web page format them as
    they need. Every function first wakes snoozed items whose time passed.  */
#ifndef RECON_QUEUE_H
#define RECON_QUEUE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recon/pg.h"

enum {
    RECON_QUEUE_EDB = -1,       /* the database failed: recon_db_errstr */
    RECON_QUEUE_ENOTFOUND = -2, /* no such mismatch */
    RECON_QUEUE_ECONFLICT = -3, /* its status does not allow the action (someone else acted) */
    RECON_QUEUE_EINVAL = -4,    /* a bad argument (resolution, time, empty note) */
};

#define RECON_QUEUE_PAGE_SIZE_MAX 500

/*  Which items: every field optional (NULL / 0 = any).                     */
typedef struct {
    const char *status;    /* open|in_review|snoozed|resolved|all, comma-separated;
                              NULL: open,in_review (the work to do) */
    const char *kind;      /* a mismatch kind */
    const char *severity;  /* critical|high|medium */
    const char *currency;  /* ISO 4217 code */
    int64_t older_than_us; /* opened at least this long ago */
    const char *search;    /* text the order id contains */
    int64_t page;          /* 1-based; 0 = 1 */
    int64_t page_size;     /* 1..RECON_QUEUE_PAGE_SIZE_MAX; 0 = 20 */
} recon_queue_filter_t;

/*  Checks F's values; 0, or RECON_QUEUE_EINVAL with a message in ERR.      */
int recon_queue_filter_check (const recon_queue_filter_t *f, char *err, size_t size);

/*  Snoozed items whose time has passed become open again (history entry
    'snooze_ended' by recon). Returns how many, or RECON_QUEUE_EDB.         */
int64_t recon_queue_wake (recon_db_t *db);

/*  One page of F, worst first (severity, money at stake in major units
    without exchange rates, age). Columns: mismatch_id, order_id, kind,
    severity, status, amount_minor, currency, opened_at, age (e.g. "3 days"),
    assignee, summary, snoozed_until, resolution. Sets *TOTAL to the number
    of items matching F (all pages). NULL on failure (recon_db_errstr).     */
PGresult *recon_queue_list (recon_db_t *db, const recon_queue_filter_t *f, int64_t *total);

/*  Open count and money at stake of the items F matches (paging ignored),
    by severity and currency, worst first. Columns: severity, currency,
    count, amount_minor (sum). NULL on failure.                             */
PGresult *recon_queue_totals (recon_db_t *db, const recon_queue_filter_t *f);

/*  One item. Columns: mismatch_id, order_id, kind, severity, status,
    resolution, amount_minor, currency, summary, next_step, evidence (JSON:
    {"processor": [...], "ledger": [...], "fulfillment": {...}|null}),
    assignee, snoozed_until, opened_at, updated_at, resolved_at,
    first_seen_run, last_seen_run. No rows when ID is unknown; NULL on
    failure.                                                                 */
PGresult *recon_queue_get (recon_db_t *db, int64_t id);

/*  ID's history, oldest first. Columns: at, actor, action, from_status,
    to_status, note, run_id. NULL on failure.                               */
PGresult *recon_queue_history (recon_db_t *db, int64_t id);

typedef enum {
    RECON_QUEUE_CLAIM,  /* open|snoozed -> in_review, assignee = actor */
    RECON_QUEUE_RESOLVE,/* open|in_review|snoozed -> resolved (resolution) */
    RECON_QUEUE_SNOOZE, /* open|in_review -> snoozed until a future time */
    RECON_QUEUE_NOTE,   /* any status: a history entry only */
    RECON_QUEUE_REOPEN, /* resolved|snoozed -> open */
} recon_queue_verb_t;

typedef struct {
    recon_queue_verb_t verb;
    int64_t id;
    const char *actor;      /* who: a user name; never NULL or empty */
    const char *resolution; /* RESOLVE: refunded|shipped|ledger_corrected|written_off|false_positive */
    int64_t until_us;       /* SNOOZE: microseconds since the epoch, in the future */
    const char *note;       /* optional; NOTE: required */
    const char *expect_status; /* optional: act only if the item is still in this status */
} recon_queue_action_t;

/*  Applies A in one transaction: the item's row and its history entry
    change together or not at all; two people acting at once are
    serialised by the row lock, and the later one finds the status changed.
    Returns 0; RECON_QUEUE_ENOTFOUND; RECON_QUEUE_ECONFLICT with MSG saying
    the item's status and who changed it last and when ("is resolved
    (written_off) by alice at 2026-12-05 10:02:11+00"); RECON_QUEUE_EINVAL
    with MSG; RECON_QUEUE_EDB.                                               */
int recon_queue_act (recon_db_t *db, const recon_queue_action_t *a, char *msg, size_t size);

/*  The name of VERB: "claim", "resolve", "snooze", "note", "reopen".      */
const char *recon_queue_verb_name (recon_queue_verb_t verb);

/*  The verb named NAME into *VERB: 0, or -1 when NAME is none of them.    */
int recon_queue_verb_parse (const char *name, recon_queue_verb_t *verb);

/*  1 when NAME is a resolution a person may choose (not auto_resolved).    */
int recon_queue_resolution_ok (const char *name);

/*  Writes every item F matches (paging ignored), worst first, as CSV with a
    header to OUT, streaming (constant memory). Columns: mismatch_id,
    order_id, kind, severity, status, resolution, amount_minor, currency,
    amount (decimal, the currency's exponent), opened_at, assignee,
    summary, next_step. Returns the number of rows or RECON_QUEUE_EDB.      */
int64_t recon_queue_export_csv (recon_db_t *db, const recon_queue_filter_t *f, FILE *out);

/*  Writes FIELD as one RFC 4180 CSV field (quoted when it needs to be).
    A field starting with = + - @ is prefixed with ' so that a spreadsheet
    opening the export does not run it as a formula (order ids are data
    from outside).                                                         */
void recon_queue_csv_field (FILE *out, const char *field);

#endif
