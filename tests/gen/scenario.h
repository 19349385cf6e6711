/*  tests/gen/scenario.h — the pure core of recon-gen: one order at a time.

    Given the generator settings and an order index, gen_order_make fills a
    gen_order_t with everything the three sources know about that order
    (processor events, ledger entries, the fulfillment row) and the label
    docs/CLASSIFICATION.md says a classifier must give it. Nothing here does
    I/O or allocates: an order depends only on (settings, index), so the
    same call always yields the same bytes, orders can be made in any order
    or in parallel, and a unit test can feed every scenario to the real
    classifier (gen_order_make_scenario) without writing files.

    All money is int64 minor units, all times int64 microseconds since the
    Unix epoch (whole seconds), as in recon/money.h and recon/timestamp.h. */
#ifndef RECON_GEN_SCENARIO_H
#define RECON_GEN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- deterministic random numbers --------------------------------------- */

/*  splitmix64. A stream is fully determined by (seed, index, stream), so
    the data of one order never depends on how many numbers another order
    drew. Streams 0 and 1 belong to scenario.c (the order, the scenario
    draw); writers use 2 and up for cosmetic detail (customer names, fees,
    report rows that are no order's) without disturbing the data.         */
typedef struct {
    uint64_t state;
} gen_rng_t;

void gen_rng_init (gen_rng_t *rng, uint64_t seed, uint64_t index, unsigned stream);
uint64_t gen_rng_next (gen_rng_t *rng);
/*  Uniform in [0, n); n must be > 0. Unbiased (rejection sampling).      */
uint64_t gen_rng_below (gen_rng_t *rng, uint64_t n);
/*  Uniform in [lo, hi]; lo <= hi.                                         */
int64_t gen_rng_range (gen_rng_t *rng, int64_t lo, int64_t hi);

/* ---- identifiers --------------------------------------------------------- */

/*  Namespaces of generated identifiers. gen_id_key maps distinct
    (index, namespace, slot) triples to distinct values, so identifiers are
    unique by construction, never by luck.                                  */
typedef enum {
    GEN_NS_TXN = 1,        /* a processor event's txn_id                    */
    GEN_NS_PAYMENT_REF,    /* a charge's payment_ref (ch_…, PSP reference) */
    GEN_NS_LEDGER_ENTRY,   /* je_…                                          */
    GEN_NS_CUSTOMER,       /* cus_… (writers)                               */
    GEN_NS_INTENT,         /* pi_… (writers)                                */
    GEN_NS_SOURCE,         /* re_…, du_… of refunds and disputes (writers)  */
    GEN_NS_EXTRA_TXN,      /* txn_id of a report row that is not an order's */
    GEN_NS_EXTRA_SOURCE,   /* its source id                                 */
    GEN_NS_PAYOUT,         /* po_… keyed by the payout day                  */
} gen_namespace_t;

/*  Largest slot gen_id_key accepts (slots are per index and namespace).  */
#define GEN_ID_MAX_SLOT 31u

typedef enum {
    GEN_ALPHA_BASE62,      /* 0-9A-Za-z, Stripe-like                        */
    GEN_ALPHA_BASE36_UPPER,/* 0-9A-Z, Adyen-like                            */
    GEN_ALPHA_BASE32_LOWER,/* Crockford, lower case                         */
} gen_alphabet_t;

/*  A bijective 64-bit mix of (index, ns, slot), keyed by SEED. INDEX must
    be < 2^52 and SLOT <= GEN_ID_MAX_SLOT.                                  */
uint64_t gen_id_key (uint64_t seed, uint64_t index, gen_namespace_t ns, unsigned slot);

/*  Writes PREFIX followed by NCHARS characters of ALPHA into OUT (SIZE
    bytes). The first characters encode KEY completely (11, 13 or 13 of
    them for the three alphabets), so distinct keys give distinct ids;
    the rest is padding derived from KEY. Returns the length, or -1 when
    NCHARS is too short to carry KEY or OUT too small.                      */
int gen_id_format (char *out, size_t size, const char *prefix, gen_alphabet_t alpha,
                   size_t nchars, uint64_t key);

/* ---- currencies ---------------------------------------------------------- */

typedef struct {
    const char *code;          /* ISO 4217, upper case                      */
    unsigned weight;           /* share of orders, per mille                */
    int64_t min_minor;         /* typical order amounts, minor units        */
    int64_t max_minor;
    int64_t usd_per_major_e6;  /* fixed rate: USD per 1 major unit × 10^6   */
} gen_currency_t;

size_t gen_currency_count (void);
const gen_currency_t *gen_currency_get (size_t i);
/*  NULL when CODE is not in the table.                                    */
const gen_currency_t *gen_currency_find (const char *code);

/*  Converts MINOR units of FROM into minor units of TO with the fixed
    rates, rounding half away from zero, in integer arithmetic. Both codes
    must be in the table.                                                   */
int64_t gen_convert_minor (int64_t minor, const char *from, const char *to);

/* ---- settings ------------------------------------------------------------ */

typedef struct {
    uint64_t seed;
    int64_t from;                  /* window start (inclusive), µs          */
    int64_t to;                    /* window end (exclusive), µs            */
    int64_t as_of;                 /* the classifier's "now", µs            */
    int64_t grace_fulfillment;     /* µs; CLASSIFICATION.md defaults        */
    int64_t grace_ledger;
    int64_t grace_processor;
    int64_t grace_cancel;
    int64_t amount_tolerance;      /* minor units; must be 0                */
} gen_settings_t;

/*  Fills S with SEED, the window [FROM, TO), as_of = TO and the default
    grace settings of docs/CLASSIFICATION.md (72h, 24h, 48h, 48h, 0).      */
void gen_settings_defaults (gen_settings_t *s, uint64_t seed, int64_t from, int64_t to);

/*  NULL when S can be generated from, else a static message saying why:
    times must be whole seconds, from < to, as_of <= to, and as_of - from
    must leave room for the longest grace plus 24h (96h by default), so
    every "over the grace" case still fits inside the window.               */
const char *gen_settings_check (const gen_settings_t *s);

/* ---- orders -------------------------------------------------------------- */

typedef enum { GEN_PROC_STRIPE, GEN_PROC_ADYEN, GEN_PROC_OTHER } gen_processor_t;

typedef enum {
    GEN_EV_CHARGE,
    GEN_EV_REFUND,
    GEN_EV_DISPUTE,
    GEN_EV_DISPUTE_REVERSAL,
    GEN_EV_CHARGE_FAILURE,     /* a capture that later failed: cancels one */
} gen_event_kind_t;

typedef enum { GEN_ST_SUCCEEDED, GEN_ST_PENDING, GEN_ST_FAILED } gen_status_t;

typedef enum { GEN_LEDGER_CHARGE, GEN_LEDGER_REFUND } gen_ledger_kind_t;

typedef enum {
    GEN_FUL_PENDING,
    GEN_FUL_IN_PROGRESS,
    GEN_FUL_ON_HOLD,
    GEN_FUL_SHIPPED,
    GEN_FUL_DELIVERED,
    GEN_FUL_CANCELLED,
    GEN_FUL_RETURNED,
} gen_fulfillment_status_t;

const char *gen_processor_name (gen_processor_t p);
const char *gen_event_kind_name (gen_event_kind_t k);
const char *gen_status_name (gen_status_t s);
const char *gen_ledger_kind_name (gen_ledger_kind_t k);
const char *gen_fulfillment_status_name (gen_fulfillment_status_t s);

#define GEN_ID_SIZE      40
#define GEN_MAX_EVENTS   8
#define GEN_MAX_LEDGER   4
/*  shipped_at of a fulfillment row that has none.                         */
#define GEN_NO_TIME      INT64_MIN

typedef struct {
    char txn_id[GEN_ID_SIZE];      /* unique over all orders and processors */
    char payment_ref[GEN_ID_SIZE]; /* the charge this event belongs to      */
    gen_event_kind_t kind;
    gen_status_t status;
    int64_t amount_minor;          /* > 0; the kind gives the direction     */
    char currency[4];
    int64_t occurred_at;
    int parent;                    /* index in events[] of the charge a
                                      refund/dispute/… (or a further partial
                                      capture) belongs to; -1 for the first
                                      charge of a payment                   */
} gen_event_t;

typedef struct {
    char entry_id[GEN_ID_SIZE];
    gen_ledger_kind_t kind;
    int64_t amount_minor;          /* > 0                                   */
    char currency[4];
    int64_t recorded_at;
} gen_ledger_entry_t;

typedef struct {
    bool present;                  /* false: the order has no row at all    */
    gen_fulfillment_status_t status;
    int64_t updated_at;
    int64_t shipped_at;            /* GEN_NO_TIME when empty                */
} gen_fulfillment_t;

typedef struct {
    uint64_t index;
    size_t scenario;               /* index into the scenario table         */
    char order_id[GEN_ID_SIZE];
    gen_processor_t processor;
    char currency[4];              /* the presentment currency              */
    size_t n_events;               /* events in time order                  */
    gen_event_t events[GEN_MAX_EVENTS];
    size_t n_ledger;               /* entries in time order                 */
    gen_ledger_entry_t ledger[GEN_MAX_LEDGER];
    gen_fulfillment_t fulfillment;
    const char *expected;          /* static: the truth.csv label           */
} gen_order_t;

/* ---- scenarios ----------------------------------------------------------- */

typedef struct {
    const char *name;              /* unique, snake_case                    */
    unsigned weight;               /* share of orders, per 10 000           */
    const char *expected;          /* label, as truth.csv writes it         */
    bool flagged;                  /* expected is a list of flagged kinds   */
    bool no_adyen;                 /* uses charge_failure: stripe/other only */
    const char *summary;           /* one line for --list-scenarios         */
} gen_scenario_t;

/*  The table, in a fixed order. Order index i < gen_scenario_count() is
    always scenario i (so every scenario appears once the run has that many
    orders); later indexes draw a scenario by weight.                       */
size_t gen_scenario_count (void);
const gen_scenario_t *gen_scenario_get (size_t i);

/*  Fills OUT with order INDEX of the run S (which gen_settings_check must
    accept). OUT is entirely overwritten; it owns nothing.                  */
void gen_order_make (const gen_settings_t *s, uint64_t index, gen_order_t *out);

/*  Same, but with the scenario forced to SCENARIO (< gen_scenario_count());
    the index still drives ids, amounts and times. For tests that want many
    instances of one case.                                                  */
void gen_order_make_scenario (const gen_settings_t *s, uint64_t index, size_t scenario,
                              gen_order_t *out);

#endif
