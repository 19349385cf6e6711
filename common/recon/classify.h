/*  recon/classify.h — one order's facts in, its state or mismatches out.

    A pure function: no I/O, no clock, no allocation. The rules are
    docs/CLASSIFICATION.md, exactly; the tables of states and kinds here
    (names, severities, meanings, next steps) are the single source that
    the docs (docs/STATES.md) and the queue are generated from.            */
#ifndef RECON_CLASSIFY_H
#define RECON_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RECON_EVENT_CHARGE,
    RECON_EVENT_REFUND,
    RECON_EVENT_DISPUTE,
    RECON_EVENT_DISPUTE_REVERSAL,
    RECON_EVENT_CHARGE_FAILURE,       /* a capture that later failed: undoes it */
    RECON_EVENT_REFUND_FAILURE,       /* a refund that failed: money came back */
    RECON_EVENT_PARTIAL_CAPTURE_REVERSAL, /* the uncaptured rest of a capture released */
    RECON_EVENT_KIND_COUNT,
} recon_event_kind_t;

typedef enum {
    RECON_EVENT_SUCCEEDED,
    RECON_EVENT_PENDING,
    RECON_EVENT_FAILED,
} recon_event_status_t;

typedef struct {
    const char *txn_id;       /* not owned */
    const char *payment_ref;  /* not owned, may be NULL */
    recon_event_kind_t kind;
    recon_event_status_t status;
    int64_t amount_minor;     /* positive; the kind gives the direction */
    char currency[4];         /* upper-case ISO 4217 */
    int64_t occurred_at;      /* µs since the epoch */
} recon_processor_event_t;

typedef enum {
    RECON_LEDGER_CHARGE,
    RECON_LEDGER_REFUND,
} recon_ledger_kind_t;

typedef struct {
    const char *entry_id;     /* not owned */
    recon_ledger_kind_t kind;
    int64_t amount_minor;     /* positive */
    char currency[4];
    int64_t recorded_at;
} recon_ledger_entry_t;

typedef enum {
    RECON_FULFILLMENT_NONE, /* no row: nothing known, treated like pending */
    RECON_FULFILLMENT_PENDING,
    RECON_FULFILLMENT_IN_PROGRESS,
    RECON_FULFILLMENT_ON_HOLD,
    RECON_FULFILLMENT_SHIPPED,
    RECON_FULFILLMENT_DELIVERED,
    RECON_FULFILLMENT_CANCELLED,
    RECON_FULFILLMENT_RETURNED,
} recon_fulfillment_status_t;

typedef struct {
    recon_fulfillment_status_t status;
    int64_t updated_at;
    int64_t shipped_at;       /* valid when has_shipped_at */
    int has_shipped_at;
} recon_fulfillment_t;

typedef struct {
    const char *order_id;
    const recon_processor_event_t *events;
    size_t nevents;
    const recon_ledger_entry_t *entries;
    size_t nentries;
    recon_fulfillment_t fulfillment;
} recon_order_facts_t;

typedef struct {
    int64_t as_of;             /* facts after this instant are ignored */
    int64_t grace_fulfillment; /* µs */
    int64_t grace_ledger;
    int64_t grace_processor;
    int64_t grace_cancel;
    int64_t tolerance;         /* minor units */
} recon_classify_config_t;

/*  Not-flagged states, then RECON_STATE_FLAGGED.                           */
typedef enum {
    RECON_STATE_IN_SYNC,
    RECON_STATE_REFUNDED_IN_FULL,
    RECON_STATE_CANCELLED_CLEAN,
    RECON_STATE_AWAITING_FULFILLMENT,
    RECON_STATE_AWAITING_LEDGER,
    RECON_STATE_AWAITING_PROCESSOR,
    RECON_STATE_FLAGGED,
    RECON_STATE_COUNT,
} recon_state_t;

/*  In the order of docs/CLASSIFICATION.md (the order kinds are reported). */
typedef enum {
    RECON_KIND_CURRENCY_MISMATCH,
    RECON_KIND_DUPLICATE_CHARGE,
    RECON_KIND_OVERCHARGED,
    RECON_KIND_UNDERCHARGED,
    RECON_KIND_MISSING_IN_LEDGER,
    RECON_KIND_MISSING_AT_PROCESSOR,
    RECON_KIND_REFUND_NOT_IN_LEDGER,
    RECON_KIND_REFUND_NOT_AT_PROCESSOR,
    RECON_KIND_DISPUTE_OPEN,
    RECON_KIND_CHARGED_NOT_DELIVERED,
    RECON_KIND_CHARGED_AFTER_CANCEL,
    RECON_KIND_DELIVERED_NOT_CHARGED,
    RECON_KIND_REFUNDED_BUT_SHIPPED,
    RECON_KIND_COUNT,
} recon_kind_t;

typedef enum {
    RECON_SEVERITY_CRITICAL,
    RECON_SEVERITY_HIGH,
    RECON_SEVERITY_MEDIUM,
} recon_severity_t;

/*  The figures the rules are computed from, kept as evidence.             */
typedef struct {
    int64_t captured;        /* C: charges − charge failures − partial capture reversals */
    int64_t captures;        /* n */
    int64_t refunded_processor; /* Rp: refunds − refund failures */
    int64_t disputed_open;   /* D */
    int64_t open_disputes;
    int64_t ledger_charged;  /* L */
    int64_t ledger_refunded; /* Rl */
    int64_t charge_excess;   /* E' */
    int64_t refund_excess;   /* X' */
    char currency[4];        /* the order's currency ("" if no money at all) */
    int currencies;          /* how many distinct currencies appear */
} recon_figures_t;

#define RECON_SUMMARY_MAX 400

typedef struct {
    recon_kind_t kind;
    recon_severity_t severity;
    int64_t amount_minor;    /* at stake, in currency */
    char currency[4];
    char summary[RECON_SUMMARY_MAX]; /* plain-language sentence, UTF-8 */
    char next_step[RECON_SUMMARY_MAX];
} recon_mismatch_t;

typedef struct {
    recon_state_t state;     /* RECON_STATE_FLAGGED iff nmismatches > 0 */
    size_t nmismatches;
    recon_mismatch_t mismatches[RECON_KIND_COUNT];
    recon_figures_t figures;
    char summary[RECON_SUMMARY_MAX]; /* sentence for a not-flagged state */
} recon_classification_t;

#define RECON_CLASSIFY_EOVERFLOW (-1)

/*  Classifies one order. FACTS' arrays may be in any order. Writes OUT in
    full. Returns 0, or RECON_CLASSIFY_EOVERFLOW when the order's amounts
    overflow int64 or an amount is negative (out then holds nothing useful;
    the caller reports the
    order as unreadable rather than guessing).                             */
int recon_classify (const recon_order_facts_t *facts, const recon_classify_config_t *cfg,
                    recon_classification_t *out);

/*  Default grace windows and tolerance (docs/CLASSIFICATION.md).           */
recon_classify_config_t recon_classify_config_default (int64_t as_of);

/*  Writes "STATE" or "kind|kind|…" (table order) into BUF, as in the
    generator's truth file. Returns the length, or -1 if BUF is too small. */
int recon_classification_label (const recon_classification_t *c, char *buf, size_t size);

/*  Names and descriptions (static strings).                                */
const char *recon_state_name (recon_state_t state);
const char *recon_state_meaning (recon_state_t state);
const char *recon_kind_name (recon_kind_t kind);
const char *recon_kind_meaning (recon_kind_t kind);
const char *recon_kind_next_step (recon_kind_t kind); /* generic form */
recon_severity_t recon_kind_severity (recon_kind_t kind);
const char *recon_severity_name (recon_severity_t severity);

/*  Parse names back; -1 when unknown.                                      */
int recon_kind_from_name (const char *name);
int recon_state_from_name (const char *name);

/*  Parse the lower-case names used in every source ("charge", "succeeded",
    "shipped", …). Return the enum value or -1.                            */
int recon_event_kind_from_name (const char *name);
int recon_event_status_from_name (const char *name);
int recon_ledger_kind_from_name (const char *name);
int recon_fulfillment_status_from_name (const char *name);
const char *recon_event_kind_name (recon_event_kind_t kind);
const char *recon_fulfillment_status_name (recon_fulfillment_status_t status);

/*  Formats money for people: "$1,234.56", "€42.00", "¥4,200", "KWD 4.200",
    "-$5.00". Returns the length or -1 if BUF is too small.                 */
int recon_money_format_human (char *buf, size_t size, int64_t minor, const char *currency);

#endif
