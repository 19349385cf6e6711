/*  scenario.c — scenarios of recon-gen: one order from (settings, index).

    Design decision: every time is placed relative to as_of with the grace
    it is tested against (inside: as_of - grace <= t; over: t <= as_of -
    grace - 1s), and clamped to [from, min(as_of, to - 1s)]. The expected
    label is therefore a fact of construction, not a hope about random
    draws; gen_settings_check guarantees the window is long enough for the
    "over" cases, and s_at asserts every range it draws from is non-empty. */
#include "scenario.h"

#include "recon/money.h"
#include "recon/timestamp.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define S_SEC    RECON_USEC_PER_SEC
#define S_MINUTE (60 * S_SEC)
#define S_HOUR   RECON_USEC_PER_HOUR

/*  Streams of gen_rng_init: the order's data, and the scenario draw (kept
    apart so gen_order_make_scenario gives the same order for the same
    index whether the scenario was drawn or forced).                       */
enum { S_STREAM_ORDER = 0, S_STREAM_PICK = 1 };

/* ---- random numbers ------------------------------------------------------ */

/*  The splitmix64 finalizer: a bijection on 64 bits.                      */
static uint64_t
s_mix64 (uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void
gen_rng_init (gen_rng_t *rng, uint64_t seed, uint64_t index, unsigned stream)
{
    uint64_t s = s_mix64 (seed ^ UINT64_C (0x6a09e667f3bcc909));
    s = s_mix64 (s ^ index);
    rng->state = s_mix64 (s ^ ((uint64_t) stream << 40 | UINT64_C (0x5bd1e995)));
}

uint64_t
gen_rng_next (gen_rng_t *rng)
{
    rng->state += UINT64_C (0x9e3779b97f4a7c15);
    return s_mix64 (rng->state);
}

uint64_t
gen_rng_below (gen_rng_t *rng, uint64_t n)
{
    assert (n > 0);
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = gen_rng_next (rng);
        if (r >= threshold)
            return r % n;
    }
}

int64_t
gen_rng_range (gen_rng_t *rng, int64_t lo, int64_t hi)
{
    assert (lo <= hi);
    return lo + (int64_t) gen_rng_below (rng, (uint64_t) (hi - lo) + 1);
}

/* ---- identifiers --------------------------------------------------------- */

static const char s_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char s_base36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char s_base32[] = "0123456789abcdefghjkmnpqrstvwxyz";

uint64_t
gen_id_key (uint64_t seed, uint64_t index, gen_namespace_t ns, unsigned slot)
{
    assert (index < (UINT64_C (1) << 52) && slot <= GEN_ID_MAX_SLOT && (unsigned) ns < 128);
    uint64_t k = index << 12 | (uint64_t) ns << 5 | slot;
    /*  XOR with a seed-derived constant and the mix are both bijections. */
    return s_mix64 (k ^ s_mix64 (seed ^ UINT64_C (0x3c6ef372fe94f82b)));
}

int
gen_id_format (char *out, size_t size, const char *prefix, gen_alphabet_t alpha,
               size_t nchars, uint64_t key)
{
    const char *digits = alpha == GEN_ALPHA_BASE62 ? s_base62
                       : alpha == GEN_ALPHA_BASE36_UPPER ? s_base36 : s_base32;
    uint64_t base = alpha == GEN_ALPHA_BASE62 ? 62 : alpha == GEN_ALPHA_BASE36_UPPER ? 36 : 32;
    size_t full = alpha == GEN_ALPHA_BASE62 ? 11 : 13;
    size_t plen = strlen (prefix);
    if (nchars < full || plen + nchars + 1 > size)
        return -1;
    memcpy (out, prefix, plen);
    uint64_t v = key;
    for (size_t i = 0; i < full; i++, v /= base)
        out[plen + i] = digits[v % base];
    for (size_t i = full; i < nchars; i++)
        out[plen + i] = digits[s_mix64 (key + i * UINT64_C (0x9e3779b97f4a7c15)) % base];
    out[plen + nchars] = '\0';
    return (int) (plen + nchars);
}

/*  A bijection on 50 bits: ord_ ids are 10 base32 characters, unique for
    every index < 2^50 without any lookup.                                 */
static uint64_t
s_perm50 (uint64_t x, uint64_t seed)
{
    const uint64_t mask = (UINT64_C (1) << 50) - 1;
    x = (x ^ s_mix64 (seed ^ UINT64_C (0xa54ff53a5f1d36f1))) & mask;
    for (int round = 0; round < 2; round++) {
        x = (x * UINT64_C (0x2545f4914f6cdd1d)) & mask;
        x ^= x >> 23;
        x = (x * UINT64_C (0x1b873593a8e2c9b5)) & mask;
        x ^= x >> 27;
    }
    return x;
}

/* ---- currencies ---------------------------------------------------------- */

static const gen_currency_t s_currencies[] = {
    {"USD", 500, 500, 50000, 1000000},
    {"EUR", 200, 500, 45000, 1085000},
    {"GBP", 100, 400, 40000, 1270000},
    {"JPY", 80, 500, 50000, 6700},
    {"KWD", 40, 1000, 150000, 3250000},
    {"CLP", 30, 3000, 450000, 1064},
    {"SEK", 30, 5000, 500000, 95000},
    {"BHD", 20, 1000, 190000, 2652000},
};

size_t
gen_currency_count (void)
{
    return sizeof s_currencies / sizeof s_currencies[0];
}

const gen_currency_t *
gen_currency_get (size_t i)
{
    return i < gen_currency_count () ? &s_currencies[i] : NULL;
}

const gen_currency_t *
gen_currency_find (const char *code)
{
    for (size_t i = 0; i < gen_currency_count (); i++)
        if (strcmp (s_currencies[i].code, code) == 0)
            return &s_currencies[i];
    return NULL;
}

/*  The table entry of CODE, which must be in the table (the generator
    only ever uses its own codes); never NULL.                             */
static const gen_currency_t *
s_currency (const char *code)
{
    const gen_currency_t *cur = gen_currency_find (code);
    assert (cur);
    return cur ? cur : &s_currencies[0];
}

static int64_t
s_pow10 (int e)
{
    int64_t p = 1;
    while (e-- > 0)
        p *= 10;
    return p;
}

int64_t
gen_convert_minor (int64_t minor, const char *from, const char *to)
{
    const gen_currency_t *f = s_currency (from), *t = s_currency (to);
    /*  |minor| * rate * 10^3 must fit: amounts far beyond any order.     */
    assert (minor > -INT64_C (1000000000000) && minor < INT64_C (1000000000000));
    int64_t mag = minor < 0 ? -minor : minor;
    int64_t num = mag * f->usd_per_major_e6 * s_pow10 (recon_currency_exponent (to));
    int64_t den = s_pow10 (recon_currency_exponent (from)) * t->usd_per_major_e6;
    int64_t q = (num + den / 2) / den;
    return minor < 0 ? -q : q;
}

/* ---- settings ------------------------------------------------------------ */

void
gen_settings_defaults (gen_settings_t *s, uint64_t seed, int64_t from, int64_t to)
{
    memset (s, 0, sizeof *s);
    s->seed = seed;
    s->from = from;
    s->to = to;
    s->as_of = to;
    s->grace_fulfillment = 72 * S_HOUR;
    s->grace_ledger = 24 * S_HOUR;
    s->grace_processor = 48 * S_HOUR;
    s->grace_cancel = 48 * S_HOUR;
    s->amount_tolerance = 0;
}

static int64_t
s_max_grace (const gen_settings_t *s)
{
    int64_t g = s->grace_fulfillment;
    if (s->grace_ledger > g)
        g = s->grace_ledger;
    if (s->grace_processor > g)
        g = s->grace_processor;
    if (s->grace_cancel > g)
        g = s->grace_cancel;
    return g;
}

const char *
gen_settings_check (const gen_settings_t *s)
{
    if (s->from % S_SEC || s->to % S_SEC || s->as_of % S_SEC)
        return "from, to and as_of must be whole seconds";
    if (s->grace_fulfillment % S_SEC || s->grace_ledger % S_SEC
        || s->grace_processor % S_SEC || s->grace_cancel % S_SEC)
        return "grace settings must be whole seconds";
    if (s->grace_fulfillment <= 0 || s->grace_ledger <= 0 || s->grace_processor <= 0
        || s->grace_cancel <= 0)
        return "grace settings must be positive";
    if (s->amount_tolerance != 0)
        return "the scenarios assume an amount tolerance of 0";
    if (s->from >= s->to)
        return "the window is empty (from must be before to)";
    if (s->as_of > s->to)
        return "as_of must not be after the end of the window";
    if (s->as_of - s->from < s_max_grace (s) + 24 * S_HOUR)
        return "as_of must be at least the longest grace + 24h (96h) after from";
    return NULL;
}

/* ---- names --------------------------------------------------------------- */

const char *
gen_processor_name (gen_processor_t p)
{
    static const char *const names[] = {"stripe", "adyen", "other"};
    return names[p];
}

const char *
gen_event_kind_name (gen_event_kind_t k)
{
    static const char *const names[] = {"charge", "refund", "dispute", "dispute_reversal",
                                        "charge_failure"};
    return names[k];
}

const char *
gen_status_name (gen_status_t s)
{
    static const char *const names[] = {"succeeded", "pending", "failed"};
    return names[s];
}

const char *
gen_ledger_kind_name (gen_ledger_kind_t k)
{
    return k == GEN_LEDGER_CHARGE ? "charge" : "refund";
}

const char *
gen_fulfillment_status_name (gen_fulfillment_status_t s)
{
    static const char *const names[] = {"pending", "in_progress", "on_hold", "shipped",
                                        "delivered", "cancelled", "returned"};
    return names[s];
}

/* ---- building one order -------------------------------------------------- */

typedef struct {
    const gen_settings_t *set;
    gen_rng_t rng;
    gen_order_t *o;
    int64_t lo, hi;          /* every time lies in [lo, hi]               */
    int64_t last_ledger;     /* entries are booked in time order          */
} s_ctx_t;

/*  A whole second, uniform in [lo, hi] ∩ [c->lo, c->hi].                 */
static int64_t
s_at (s_ctx_t *c, int64_t lo, int64_t hi)
{
    if (lo < c->lo)
        lo = c->lo;
    if (hi > c->hi)
        hi = c->hi;
    assert (lo <= hi && lo % S_SEC == 0);
    return lo + gen_rng_range (&c->rng, 0, (hi - lo) / S_SEC) * S_SEC;
}

/*  Up to GAP after T (never past the window).                             */
static int64_t
s_soon (s_ctx_t *c, int64_t t, int64_t gap)
{
    return s_at (c, t, t + gap);
}

/*  The latest time whose elapsed time is over GRACE ("elapsed > grace"). */
static int64_t
s_over (const s_ctx_t *c, int64_t grace)
{
    return c->set->as_of - grace - S_SEC;
}

/*  The earliest time still inside GRACE ("elapsed <= grace").            */
static int64_t
s_inside (const s_ctx_t *c, int64_t grace)
{
    return c->set->as_of - grace;
}

static int64_t
s_max (int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static bool
s_chance (s_ctx_t *c, unsigned percent)
{
    return gen_rng_below (&c->rng, 100) < percent;
}

static void
s_event_ids (s_ctx_t *c, gen_event_t *e, unsigned slot, bool new_payment)
{
    const gen_order_t *o = c->o;
    uint64_t seed = c->set->seed;
    uint64_t txn = gen_id_key (seed, o->index, GEN_NS_TXN, slot);
    uint64_t ref = gen_id_key (seed, o->index, GEN_NS_PAYMENT_REF, slot);
    switch (o->processor) {
    case GEN_PROC_STRIPE:
        gen_id_format (e->txn_id, GEN_ID_SIZE, "txn_", GEN_ALPHA_BASE62, 24, txn);
        if (new_payment)
            gen_id_format (e->payment_ref, GEN_ID_SIZE, "ch_", GEN_ALPHA_BASE62, 24, ref);
        break;
    case GEN_PROC_ADYEN:
        gen_id_format (e->txn_id, GEN_ID_SIZE, "", GEN_ALPHA_BASE36_UPPER, 16, txn);
        if (new_payment)
            gen_id_format (e->payment_ref, GEN_ID_SIZE, "", GEN_ALPHA_BASE36_UPPER, 16, ref);
        break;
    case GEN_PROC_OTHER:
        gen_id_format (e->txn_id, GEN_ID_SIZE, "evt_", GEN_ALPHA_BASE32_LOWER, 16, txn);
        if (new_payment)
            gen_id_format (e->payment_ref, GEN_ID_SIZE, "pay_", GEN_ALPHA_BASE32_LOWER, 16, ref);
        break;
    }
}

/*  Appends an event at AT; events must be added in time order. PARENT < 0
    opens a new payment_ref (a new payment); otherwise the event reuses its
    parent charge's (a refund, dispute, … or a further partial capture).  */
static int
s_event (s_ctx_t *c, gen_event_kind_t kind, gen_status_t status, int parent,
         int64_t amount, int64_t at)
{
    gen_order_t *o = c->o;
    assert (o->n_events < GEN_MAX_EVENTS && amount > 0);
    assert (at >= c->lo && at <= c->hi);
    assert (o->n_events == 0 || at >= o->events[o->n_events - 1].occurred_at);
    int i = (int) o->n_events++;
    gen_event_t *e = &o->events[i];
    e->kind = kind;
    e->status = status;
    e->amount_minor = amount;
    memcpy (e->currency, o->currency, sizeof e->currency);
    e->occurred_at = at;
    e->parent = parent;
    s_event_ids (c, e, (unsigned) i, parent < 0);
    if (parent >= 0)
        memcpy (e->payment_ref, o->events[parent].payment_ref, GEN_ID_SIZE);
    return i;
}

static int
s_charge (s_ctx_t *c, int64_t amount, int64_t at)
{
    return s_event (c, GEN_EV_CHARGE, GEN_ST_SUCCEEDED, -1, amount, at);
}

static int
s_charge_status (s_ctx_t *c, gen_status_t status, int64_t amount, int64_t at)
{
    return s_event (c, GEN_EV_CHARGE, status, -1, amount, at);
}

static int
s_follow (s_ctx_t *c, gen_event_kind_t kind, int parent, int64_t amount, int64_t at)
{
    assert (parent >= 0);
    return s_event (c, kind, GEN_ST_SUCCEEDED, parent, amount, at);
}

/*  Books a ledger entry at exactly AT, in CURRENCY.                       */
static void
s_book_in (s_ctx_t *c, gen_ledger_kind_t kind, int64_t amount, const char *currency,
           int64_t at)
{
    gen_order_t *o = c->o;
    assert (o->n_ledger < GEN_MAX_LEDGER && amount > 0);
    assert (at >= c->lo && at <= c->hi && at >= c->last_ledger);
    gen_ledger_entry_t *l = &o->ledger[o->n_ledger];
    uint64_t key = gen_id_key (c->set->seed, o->index, GEN_NS_LEDGER_ENTRY,
                               (unsigned) o->n_ledger);
    gen_id_format (l->entry_id, GEN_ID_SIZE, "je_", GEN_ALPHA_BASE32_LOWER, 16, key);
    l->kind = kind;
    l->amount_minor = amount;
    snprintf (l->currency, sizeof l->currency, "%s", currency);
    l->recorded_at = at;
    o->n_ledger++;
    c->last_ledger = at;
}

static void
s_book_at (s_ctx_t *c, gen_ledger_kind_t kind, int64_t amount, int64_t at)
{
    s_book_in (c, kind, amount, c->o->currency, at);
}

/*  Books shortly after T (and after the previous entry); returns when.   */
static int64_t
s_book (s_ctx_t *c, gen_ledger_kind_t kind, int64_t amount, int64_t t)
{
    int64_t lag = kind == GEN_LEDGER_CHARGE ? 6 * S_HOUR : 24 * S_HOUR;
    int64_t at = s_soon (c, s_max (t, c->last_ledger), lag);
    s_book_at (c, kind, amount, at);
    return at;
}

static void
s_fulfil (s_ctx_t *c, gen_fulfillment_status_t status, int64_t updated, int64_t shipped)
{
    gen_fulfillment_t *f = &c->o->fulfillment;
    assert (updated >= c->lo && updated <= c->hi);
    assert (shipped == GEN_NO_TIME || (shipped >= c->lo && shipped <= updated));
    f->present = true;
    f->status = status;
    f->updated_at = updated;
    f->shipped_at = shipped;
}

/*  Shipped (or delivered) at T_SHIP, as the rules see it: either
    shipped_at = T_SHIP, or (5% of "shipped") no shipped_at and updated_at
    = T_SHIP, the fallback CLASSIFICATION.md gives t_ship.                 */
static void
s_ship_as (s_ctx_t *c, int64_t t_ship, gen_fulfillment_status_t status)
{
    if (status == GEN_FUL_SHIPPED && s_chance (c, 5))
        s_fulfil (c, status, t_ship, GEN_NO_TIME);
    else if (status == GEN_FUL_SHIPPED)
        s_fulfil (c, status, s_soon (c, t_ship, 2 * S_HOUR), t_ship);
    else
        s_fulfil (c, status, s_soon (c, t_ship, 96 * S_HOUR), t_ship);
}

static void
s_ship (s_ctx_t *c, int64_t t_ship)
{
    s_ship_as (c, t_ship, s_chance (c, 40) ? GEN_FUL_DELIVERED : GEN_FUL_SHIPPED);
}

/*  Not shipped, cancelled or returned: pending, in progress, on hold, or
    no row at all (which the rules treat like pending).                    */
static void
s_open (s_ctx_t *c, int64_t after)
{
    unsigned r = (unsigned) gen_rng_below (&c->rng, 10);
    if (r >= 7)
        return;
    gen_fulfillment_status_t st = r < 4 ? GEN_FUL_PENDING : r < 6 ? GEN_FUL_IN_PROGRESS
                                                                  : GEN_FUL_ON_HOLD;
    s_fulfil (c, st, s_soon (c, after, 48 * S_HOUR), GEN_NO_TIME);
}

static void
s_cancel (s_ctx_t *c, int64_t at)
{
    s_fulfil (c, GEN_FUL_CANCELLED, at, GEN_NO_TIME);
}

/*  A price-like amount in the order's currency: skewed towards small
    orders, mostly ending in .99/.00 (or round yen, pesos, fils).          */
static int64_t
s_amount (s_ctx_t *c)
{
    const gen_currency_t *cur = s_currency (c->o->currency);
    int64_t a = gen_rng_range (&c->rng, cur->min_minor, cur->max_minor);
    if (s_chance (c, 50)) {
        int64_t b = gen_rng_range (&c->rng, cur->min_minor, cur->max_minor);
        a = b < a ? b : a;
    }
    unsigned r = (unsigned) gen_rng_below (&c->rng, 10);
    switch (recon_currency_exponent (cur->code)) {
    case 0:
        if (r < 7)
            a -= a % (cur->min_minor >= 1000 ? 100 : 10);
        break;
    case 2:
        if (r < 4)
            a = a - a % 100 + 99;
        else if (r < 7)
            a -= a % 100;
        break;
    case 3:
        if (r < 6)
            a -= a % 50;
        break;
    }
    return a < cur->min_minor ? cur->min_minor : a;
}

/*  A partial amount: at least 1, at most half of A.                       */
static int64_t
s_part (s_ctx_t *c, int64_t a)
{
    int64_t lo = a / 10 > 0 ? a / 10 : 1;
    return gen_rng_range (&c->rng, lo, a / 2 > lo ? a / 2 : lo);
}

/*  K (2 or 3) pairwise distinct positive parts summing to A.             */
static void
s_split (s_ctx_t *c, int64_t a, int k, int64_t *parts)
{
    for (;;) {
        int64_t rest = a;
        for (int i = 0; i < k - 1; i++) {
            parts[i] = gen_rng_range (&c->rng, a / (2 * k), a / k);
            rest -= parts[i];
        }
        parts[k - 1] = rest;
        bool ok = true;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++)
                ok = ok && parts[i] != parts[j] && parts[i] > 0;
        if (ok && parts[k - 1] > 0)
            return;
    }
}

/* ---- the scenarios ------------------------------------------------------- */

/*  Shorthands for the builders below; G_* are the graces of this run.

    Rule for every builder: at most one random draw per full expression.
    C leaves the order of argument evaluation unspecified, so f (s_amount
    (c), s_at (…)) would give different data with different compilers.   */
#define G_FUL  (c->set->grace_fulfillment)
#define G_LED  (c->set->grace_ledger)
#define G_PRO  (c->set->grace_processor)
#define G_CAN  (c->set->grace_cancel)
#define ANY    s_at (c, c->lo, c->hi)

/*  Charged once, booked, shipped: the common case.                        */
static void
s_paid_and_shipped (s_ctx_t *c, gen_fulfillment_status_t status)
{
    int64_t a = s_amount (c), t = ANY;
    s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_ship_as (c, s_soon (c, t, 72 * S_HOUR), status);
}

static void
s_b_in_sync (s_ctx_t *c)
{
    s_paid_and_shipped (c, GEN_FUL_SHIPPED);
}

static void
s_b_in_sync_delivered (s_ctx_t *c)
{
    s_paid_and_shipped (c, GEN_FUL_DELIVERED);
}

static void
s_b_split_capture (s_ctx_t *c)
{
    int64_t a = s_amount (c), parts[3];
    int k = 2 + (int) gen_rng_below (&c->rng, 2);
    s_split (c, a, k, parts);
    int64_t t = ANY, first = t;
    /*  One payment captured in parts: later captures share its payment_ref,
        as multi-capture payments do at Stripe and Adyen.                   */
    int ch = s_charge (c, parts[0], t);
    for (int i = 1; i < k; i++) {
        t = s_soon (c, t, 24 * S_HOUR);
        s_event (c, GEN_EV_CHARGE, GEN_ST_SUCCEEDED, ch, parts[i], t);
    }
    s_book (c, GEN_LEDGER_CHARGE, a, first);
    s_ship (c, s_soon (c, first, 72 * S_HOUR));
}

static void
s_b_partial_refund (s_ctx_t *c)
{
    int64_t a = s_amount (c), r = s_part (c, a), t = ANY;
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    int64_t ship = s_soon (c, t, 48 * S_HOUR);
    s_ship (c, ship);
    int64_t t_r = s_soon (c, ship, 72 * S_HOUR);
    s_follow (c, GEN_EV_REFUND, ch, r, t_r);
    s_book (c, GEN_LEDGER_REFUND, r, t_r);
}

static void
s_b_failed_then_paid (s_ctx_t *c)
{
    int64_t a = s_amount (c), t0 = ANY, t1 = s_soon (c, t0, S_HOUR);
    s_charge_status (c, GEN_ST_FAILED, a, t0);
    s_charge (c, a, t1);
    s_book (c, GEN_LEDGER_CHARGE, a, t1);
    s_ship (c, s_soon (c, t1, 72 * S_HOUR));
}

static void
s_b_dispute_won (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY;
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_ship (c, s_soon (c, t, 48 * S_HOUR));
    int64_t t_d = s_soon (c, t, 96 * S_HOUR);
    s_follow (c, GEN_EV_DISPUTE, ch, a, t_d);
    s_follow (c, GEN_EV_DISPUTE_REVERSAL, ch, a, s_soon (c, t_d, 96 * S_HOUR));
}

static void
s_b_unpaid_abandoned (s_ctx_t *c)
{
    int64_t t = ANY;
    s_charge_status (c, GEN_ST_FAILED, s_amount (c), t);
    if (s_chance (c, 50))
        s_fulfil (c, GEN_FUL_PENDING, s_at (c, t - 2 * S_HOUR, t), GEN_NO_TIME);
}

/*  A bank debit captured, returned (charge_failure) and retried.          */
static void
s_b_debit_retried (s_ctx_t *c)
{
    int64_t a = s_amount (c), t1 = ANY;
    int ch = s_charge (c, a, t1);
    s_book (c, GEN_LEDGER_CHARGE, a, t1);
    s_ship (c, s_soon (c, t1, 72 * S_HOUR));
    int64_t t2 = s_soon (c, t1, 96 * S_HOUR);
    s_follow (c, GEN_EV_CHARGE_FAILURE, ch, a, t2);
    s_charge (c, a, s_soon (c, t2, 48 * S_HOUR));
}

/*  Charged and booked at T; refunded in full on both sides at T_R.       */
static void
s_paid_refunded (s_ctx_t *c, int64_t a, int64_t t, int64_t t_r)
{
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_follow (c, GEN_EV_REFUND, ch, a, t_r);
    s_book (c, GEN_LEDGER_REFUND, a, t_r);
}

static void
s_b_refunded_returned (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY, ship = s_soon (c, t, 48 * S_HOUR);
    int64_t t_r = s_soon (c, ship, 120 * S_HOUR);
    s_paid_refunded (c, a, t, t_r);
    s_fulfil (c, GEN_FUL_RETURNED, s_at (c, ship, t_r), ship);
}

static void
s_b_refunded_unshipped (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY;
    s_paid_refunded (c, a, t, s_soon (c, t, 72 * S_HOUR));
    s_open (c, t);
}

static void
s_b_cancelled_unpaid (s_ctx_t *c)
{
    int64_t t = ANY;
    if (s_chance (c, 50))
        s_charge_status (c, GEN_ST_FAILED, s_amount (c), t);
    s_cancel (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_cancelled_refunded (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY, t_u = s_soon (c, t, 48 * S_HOUR);
    s_paid_refunded (c, a, t, s_soon (c, t_u, 48 * S_HOUR));
    s_cancel (c, t_u);
}

/*  Charged and booked at T, not shipped (or no row).                      */
static void
s_paid_open (s_ctx_t *c, int64_t t)
{
    int64_t a = s_amount (c);
    s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_open (c, t);
}

static void
s_b_awaiting_fulfillment (s_ctx_t *c)
{
    s_paid_open (c, s_at (c, s_inside (c, G_FUL), c->hi));
}

static void
s_b_sla_inside (s_ctx_t *c)
{
    int64_t t = s_inside (c, G_FUL);
    s_paid_open (c, s_at (c, t, t));
}

static void
s_b_sla_over (s_ctx_t *c)
{
    int64_t t = s_over (c, G_FUL);
    s_paid_open (c, s_at (c, t, t));
}

static void
s_b_charged_not_delivered (s_ctx_t *c)
{
    s_paid_open (c, s_at (c, c->lo, s_over (c, G_FUL)));
}

/*  Charged at T, never booked; shipped or (half the time) still open.    */
static void
s_unbooked (s_ctx_t *c, int64_t t, bool may_be_open)
{
    s_charge (c, s_amount (c), t);
    if (may_be_open && s_chance (c, 50))
        s_open (c, t);
    else
        s_ship (c, s_soon (c, t, 12 * S_HOUR));
}

static void
s_b_awaiting_ledger (s_ctx_t *c)
{
    s_unbooked (c, s_at (c, s_inside (c, G_LED), c->hi), true);
}

static void
s_b_ledger_inside (s_ctx_t *c)
{
    int64_t t = s_inside (c, G_LED);
    s_unbooked (c, s_at (c, t, t), false);
}

static void
s_b_ledger_over (s_ctx_t *c)
{
    int64_t t = s_over (c, G_LED);
    s_unbooked (c, s_at (c, t, t), false);
}

static void
s_b_missing_in_ledger (s_ctx_t *c)
{
    s_unbooked (c, s_at (c, c->lo, s_over (c, G_LED)), false);
}

/*  Booked at T_L, nothing captured (perhaps a pending or failed attempt). */
static void
s_booked_uncaptured (s_ctx_t *c, int64_t t_l, gen_status_t attempt)
{
    int64_t a = s_amount (c);
    if (s_chance (c, 50))
        s_charge_status (c, attempt, a, s_at (c, t_l - S_HOUR, t_l));
    s_book_at (c, GEN_LEDGER_CHARGE, a, t_l);
}

static void
s_b_awaiting_processor (s_ctx_t *c)
{
    int64_t t_l = s_at (c, s_inside (c, G_PRO), c->hi);
    s_booked_uncaptured (c, t_l, GEN_ST_PENDING);
    s_open (c, t_l);
}

static void
s_b_processor_inside (s_ctx_t *c)
{
    int64_t t_l = s_inside (c, G_PRO);
    s_booked_uncaptured (c, s_at (c, t_l, t_l), GEN_ST_PENDING);
    s_open (c, t_l);
}

static void
s_b_processor_over (s_ctx_t *c)
{
    int64_t t_l = s_over (c, G_PRO);
    s_booked_uncaptured (c, s_at (c, t_l, t_l), GEN_ST_FAILED);
    s_open (c, t_l);
}

static void
s_b_missing_at_processor (s_ctx_t *c)
{
    int64_t t_l = s_at (c, c->lo, s_over (c, G_PRO));
    s_booked_uncaptured (c, t_l, GEN_ST_FAILED);
    s_open (c, t_l);
}

static void
s_b_map_dnc (s_ctx_t *c)
{
    int64_t last = s_over (c, G_PRO), t_l = s_at (c, c->lo, last);
    s_booked_uncaptured (c, t_l, GEN_ST_FAILED);
    s_ship (c, s_at (c, t_l, last));
}

/*  Cancelled at T_U and charged at some time <= T_U, never refunded.    */
static void
s_charged_cancelled (s_ctx_t *c, int64_t t_u)
{
    int64_t a = s_amount (c), t = s_at (c, c->lo, t_u);
    s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_cancel (c, t_u);
}

static void
s_b_charged_after_cancel (s_ctx_t *c)
{
    int64_t last = s_over (c, G_CAN);
    if (s_chance (c, 50)) {
        s_charged_cancelled (c, s_at (c, c->lo, last));
        return;
    }
    /*  The other half: cancelled first, captured afterwards.            */
    int64_t a = s_amount (c), t_u = s_at (c, c->lo, last), t = s_at (c, t_u, last);
    s_cancel (c, t_u);
    s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
}

static void
s_b_awaiting_cancel (s_ctx_t *c)
{
    s_charged_cancelled (c, s_at (c, s_inside (c, G_CAN), c->hi));
}

static void
s_b_cancel_inside (s_ctx_t *c)
{
    int64_t t_u = s_inside (c, G_CAN);
    s_charged_cancelled (c, s_at (c, t_u, t_u));
}

static void
s_b_cancel_over (s_ctx_t *c)
{
    int64_t t_u = s_over (c, G_CAN);
    s_charged_cancelled (c, s_at (c, t_u, t_u));
}

typedef enum { S_NO_REFUND, S_REFUND_FULL, S_REFUND_PART } s_refund_t;

/*  Two equal captures (a double submit) of one booked amount; the second
    may be refunded, in full or in part.                                   */
static void
s_twice (s_ctx_t *c, int64_t t1, s_refund_t refund)
{
    int64_t a = s_amount (c);
    s_charge (c, a, t1);
    int64_t t2 = s_soon (c, t1, 10 * S_MINUTE);
    int ch2 = s_charge (c, a, t2);
    s_book (c, GEN_LEDGER_CHARGE, a, t1);
    if (refund != S_NO_REFUND) {
        int64_t r = refund == S_REFUND_FULL ? a : s_part (c, a);
        s_follow (c, GEN_EV_REFUND, ch2, r, s_soon (c, t2, 72 * S_HOUR));
    }
}

static void
s_b_duplicate_refunded (s_ctx_t *c)
{
    int64_t t = ANY;
    s_twice (c, t, S_REFUND_FULL);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_duplicate_partly_refunded (s_ctx_t *c)
{
    int64_t t = ANY;
    s_twice (c, t, S_REFUND_PART);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_duplicate_charge (s_ctx_t *c)
{
    int64_t t = ANY;
    s_twice (c, t, S_NO_REFUND);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_dup_cnd (s_ctx_t *c)
{
    int64_t t = s_at (c, c->lo, s_over (c, G_FUL));
    s_twice (c, t, S_NO_REFUND);
    s_open (c, t);
}

/*  Captured CAPTURE at T, booked BOOKED, shipped.                         */
static void
s_mismatched (s_ctx_t *c, int64_t capture, int64_t booked, int64_t t)
{
    s_charge (c, capture, t);
    s_book (c, GEN_LEDGER_CHARGE, booked, t);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_overcharged (s_ctx_t *c)
{
    int64_t a = s_amount (c), extra = gen_rng_range (&c->rng, 2, a / 5);
    s_mismatched (c, a + extra, a, ANY);
}

static void
s_b_overcharged_one (s_ctx_t *c)
{
    int64_t a = s_amount (c);
    s_mismatched (c, a + 1, a, ANY);
}

static void
s_b_undercharged (s_ctx_t *c)
{
    int64_t a = s_amount (c), short_by = gen_rng_range (&c->rng, 1, a / 5);
    s_mismatched (c, a - short_by, a, s_at (c, c->lo, s_over (c, G_PRO)));
}

static void
s_b_awaiting_undercharge (s_ctx_t *c)
{
    int64_t a = s_amount (c), short_by = gen_rng_range (&c->rng, 1, a / 5);
    s_mismatched (c, a - short_by, a, s_at (c, s_inside (c, G_PRO), c->hi));
}

static void
s_b_dispute_open (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY;
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_ship (c, s_soon (c, t, 48 * S_HOUR));
    s_follow (c, GEN_EV_DISPUTE, ch, a, s_soon (c, t, 120 * S_HOUR));
}

static void
s_b_refund_then_dispute (s_ctx_t *c)
{
    int64_t a = s_amount (c), r = s_part (c, a), t = ANY;
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    int64_t ship = s_soon (c, t, 48 * S_HOUR);
    s_ship (c, ship);
    int64_t t_r = s_soon (c, ship, 72 * S_HOUR);
    s_follow (c, GEN_EV_REFUND, ch, r, t_r);
    s_book (c, GEN_LEDGER_REFUND, r, t_r);
    s_follow (c, GEN_EV_DISPUTE, ch, a - r, s_soon (c, t_r, 96 * S_HOUR));
}

/*  Shipped at T_SHIP and never captured (perhaps a failed attempt).      */
static void
s_shipped_unpaid (s_ctx_t *c, int64_t t_ship)
{
    if (s_chance (c, 50)) {
        int64_t a = s_amount (c);
        s_charge_status (c, GEN_ST_FAILED, a, s_at (c, t_ship - 24 * S_HOUR, t_ship));
    }
    s_ship (c, t_ship);
}

static void
s_b_delivered_not_charged (s_ctx_t *c)
{
    s_shipped_unpaid (c, s_at (c, c->lo, s_over (c, G_PRO)));
}

static void
s_b_awaiting_shipped_unpaid (s_ctx_t *c)
{
    s_shipped_unpaid (c, s_at (c, s_inside (c, G_PRO), c->hi));
}

/*  Charged, shipped, refunded in full on both sides at a time in
    [R_LO, R_HI]: refunded_but_shipped over or inside the SLA.            */
static void
s_refunded_shipped (s_ctx_t *c, int64_t r_lo, int64_t r_hi)
{
    int64_t a = s_amount (c), t = s_at (c, c->lo, r_hi);
    s_paid_refunded (c, a, t, s_at (c, s_max (t, r_lo), r_hi));
    s_ship (c, s_soon (c, t, 96 * S_HOUR));
}

static void
s_b_refunded_but_shipped (s_ctx_t *c)
{
    s_refunded_shipped (c, c->lo, s_over (c, G_FUL));
}

static void
s_b_awaiting_refunded_shipped (s_ctx_t *c)
{
    s_refunded_shipped (c, s_inside (c, G_FUL), c->hi);
}

/*  Charged and booked; refunded at the processor only, at a time in
    [R_LO, R_HI] (partial, so refunded_but_shipped cannot apply).          */
static void
s_refund_unbooked (s_ctx_t *c, int64_t r_lo, int64_t r_hi)
{
    int64_t a = s_amount (c), t = s_at (c, c->lo, r_hi);
    int ch = s_charge (c, a, t);
    s_book (c, GEN_LEDGER_CHARGE, a, t);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
    int64_t r = s_part (c, a);
    s_follow (c, GEN_EV_REFUND, ch, r, s_at (c, s_max (t, r_lo), r_hi));
}

static void
s_b_refund_not_in_ledger (s_ctx_t *c)
{
    s_refund_unbooked (c, c->lo, s_over (c, G_LED));
}

static void
s_b_awaiting_ledger_refund (s_ctx_t *c)
{
    s_refund_unbooked (c, s_inside (c, G_LED), c->hi);
}

/*  Charged and booked; refunded in the ledger only, at a time in
    [R_LO, R_HI]; 30% in full.                                             */
static void
s_refund_uncaptured (s_ctx_t *c, int64_t r_lo, int64_t r_hi)
{
    int64_t a = s_amount (c), t = s_at (c, c->lo, r_hi);
    int64_t r = s_chance (c, 30) ? a : s_part (c, a);
    s_charge (c, a, t);
    int64_t l = s_at (c, t, s_max (t, r_hi < t + 6 * S_HOUR ? r_hi : t + 6 * S_HOUR));
    s_book_at (c, GEN_LEDGER_CHARGE, a, l);
    s_book_at (c, GEN_LEDGER_REFUND, r, s_at (c, s_max (l, r_lo), r_hi));
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

static void
s_b_refund_not_at_processor (s_ctx_t *c)
{
    s_refund_uncaptured (c, c->lo, s_over (c, G_PRO));
}

static void
s_b_awaiting_processor_refund (s_ctx_t *c)
{
    s_refund_uncaptured (c, s_inside (c, G_PRO), c->hi);
}

static void
s_b_currency_mismatch (s_ctx_t *c)
{
    int64_t a = s_amount (c), t = ANY;
    s_charge (c, a, t);
    int64_t l = s_soon (c, t, 6 * S_HOUR);
    s_book_in (c, GEN_LEDGER_CHARGE, gen_convert_minor (a, c->o->currency, "USD"), "USD", l);
    s_ship (c, s_soon (c, t, 72 * S_HOUR));
}

#undef G_FUL
#undef G_LED
#undef G_PRO
#undef G_CAN
#undef ANY

/* ---- the table ----------------------------------------------------------- */

typedef struct {
    gen_scenario_t info;
    void (*build) (s_ctx_t *c);
    const char *currency;       /* forced currency, or NULL               */
} s_scenario_t;

#define NF false
#define FL true
static const s_scenario_t s_scenarios[] = {
    /* ---- not flagged ---- */
    {{"in_sync", 5560, "in_sync", NF, false,
      "charged once, booked, shipped"}, s_b_in_sync, NULL},
    {{"in_sync_split_capture", 250, "in_sync", NF, false,
      "2-3 captures of distinct amounts summing to the one booked charge"}, s_b_split_capture, NULL},
    {{"in_sync_partial_refund", 300, "in_sync", NF, false,
      "partial refund at the processor and in the ledger, shipped"}, s_b_partial_refund, NULL},
    {{"in_sync_failed_then_paid", 200, "in_sync", NF, false,
      "a failed charge, then a succeeded one"}, s_b_failed_then_paid, NULL},
    {{"in_sync_dispute_won", 40, "in_sync", NF, false,
      "dispute, then dispute_reversal"}, s_b_dispute_won, NULL},
    {{"in_sync_delivered", 300, "in_sync", NF, false,
      "charged once, booked, delivered"}, s_b_in_sync_delivered, NULL},
    {{"in_sync_unpaid_abandoned", 150, "in_sync", NF, false,
      "only a failed charge, no ledger, fulfillment pending or no row"}, s_b_unpaid_abandoned, NULL},
    {{"in_sync_debit_retried", 30, "in_sync", NF, true,
      "bank debit captured, returned (charge_failure), captured again; one booked charge"},
     s_b_debit_retried, NULL},
    {{"refunded_in_full_returned", 150, "refunded_in_full", NF, false,
      "refunded in full on both sides, fulfillment returned"}, s_b_refunded_returned, NULL},
    {{"refunded_in_full_unshipped", 60, "refunded_in_full", NF, false,
      "refunded in full on both sides, never shipped"}, s_b_refunded_unshipped, NULL},
    {{"cancelled_clean_unpaid", 100, "cancelled_clean", NF, false,
      "cancelled, nothing captured (maybe a failed charge)"}, s_b_cancelled_unpaid, NULL},
    {{"cancelled_clean_refunded", 100, "cancelled_clean", NF, false,
      "cancelled, captured and refunded in full on both sides"}, s_b_cancelled_refunded, NULL},
    {{"awaiting_fulfillment", 300, "awaiting_fulfillment", NF, false,
      "charged and booked within the SLA, not shipped"}, s_b_awaiting_fulfillment, NULL},
    {{"awaiting_ledger", 100, "awaiting_ledger", NF, false,
      "charged within the posting lag, not booked yet"}, s_b_awaiting_ledger, NULL},
    {{"awaiting_processor", 60, "awaiting_processor", NF, false,
      "booked within the settlement lag, not captured (maybe pending)"}, s_b_awaiting_processor, NULL},
    {{"boundary_sla_inside", 10, "awaiting_fulfillment", NF, false,
      "capture exactly SLA before as_of, not shipped"}, s_b_sla_inside, NULL},
    {{"duplicate_refunded", 20, "in_sync", NF, false,
      "two equal captures, the second refunded, one booked charge (offset rule)"},
     s_b_duplicate_refunded, NULL},
    {{"awaiting_ledger_refund", 20, "awaiting_ledger", NF, false,
      "partial refund at the processor within the posting lag, not booked"},
     s_b_awaiting_ledger_refund, NULL},
    {{"awaiting_processor_refund", 15, "awaiting_processor", NF, false,
      "refund booked within the settlement lag, not at the processor"},
     s_b_awaiting_processor_refund, NULL},
    {{"awaiting_processor_cancel", 15, "awaiting_processor", NF, false,
      "cancelled within the cancel grace, captured, not refunded yet"}, s_b_awaiting_cancel, NULL},
    {{"awaiting_processor_undercharge", 10, "awaiting_processor", NF, false,
      "captured less than booked, within the settlement lag"}, s_b_awaiting_undercharge, NULL},
    {{"awaiting_processor_shipped", 10, "awaiting_processor", NF, false,
      "shipped within the settlement lag, nothing captured or booked"},
     s_b_awaiting_shipped_unpaid, NULL},
    {{"awaiting_fulfillment_refunded_shipped", 10, "awaiting_fulfillment", NF, false,
      "refunded in full within the SLA, but shipped"}, s_b_awaiting_refunded_shipped, NULL},
    {{"boundary_ledger_inside", 5, "awaiting_ledger", NF, false,
      "capture exactly the posting lag before as_of, not booked"}, s_b_ledger_inside, NULL},
    {{"boundary_processor_inside", 5, "awaiting_processor", NF, false,
      "booked exactly the settlement lag before as_of, not captured"}, s_b_processor_inside, NULL},
    {{"boundary_cancel_inside", 5, "awaiting_processor", NF, false,
      "cancelled exactly the cancel grace before as_of, charged"}, s_b_cancel_inside, NULL},
    /* ---- flagged ---- */
    {{"duplicate_charge", 250, "duplicate_charge", FL, false,
      "two equal captures, one booked charge, shipped"}, s_b_duplicate_charge, NULL},
    {{"duplicate_partly_refunded", 30, "duplicate_charge", FL, false,
      "two equal captures, the second partly refunded, one booked charge"},
     s_b_duplicate_partly_refunded, NULL},
    {{"overcharged", 150, "overcharged", FL, false,
      "captured 2+ minor units more than booked"}, s_b_overcharged, NULL},
    {{"overcharged_one_unit", 60, "overcharged", FL, false,
      "captured exactly one minor unit more than booked"}, s_b_overcharged_one, NULL},
    {{"charged_after_cancel", 120, "charged_after_cancel", FL, false,
      "cancelled, charged, not refunded, cancel grace over"}, s_b_charged_after_cancel, NULL},
    {{"boundary_cancel_over", 5, "charged_after_cancel", FL, false,
      "cancelled cancel grace + 1s before as_of, charged"}, s_b_cancel_over, NULL},
    {{"charged_not_delivered", 300, "charged_not_delivered", FL, false,
      "charged and booked, not shipped, SLA over"}, s_b_charged_not_delivered, NULL},
    {{"boundary_sla_over", 10, "charged_not_delivered", FL, false,
      "capture SLA + 1s before as_of, not shipped"}, s_b_sla_over, NULL},
    {{"dispute_open", 120, "dispute_open", FL, false,
      "shipped, disputed, not reversed"}, s_b_dispute_open, NULL},
    {{"refund_then_dispute", 30, "dispute_open", FL, false,
      "partial refund on both sides, then a dispute of the rest"}, s_b_refund_then_dispute, NULL},
    {{"undercharged", 150, "undercharged", FL, false,
      "captured less than booked, settlement lag over"}, s_b_undercharged, NULL},
    {{"delivered_not_charged", 100, "delivered_not_charged", FL, false,
      "shipped, nothing captured or booked, settlement lag over"}, s_b_delivered_not_charged, NULL},
    {{"refunded_but_shipped", 80, "refunded_but_shipped", FL, false,
      "refunded in full on both sides, shipped, SLA over since the refund"},
     s_b_refunded_but_shipped, NULL},
    {{"missing_in_ledger", 250, "missing_in_ledger", FL, false,
      "captured, never booked, posting lag over"}, s_b_missing_in_ledger, NULL},
    {{"boundary_ledger_over", 5, "missing_in_ledger", FL, false,
      "capture posting lag + 1s before as_of, not booked"}, s_b_ledger_over, NULL},
    {{"missing_at_processor", 150, "missing_at_processor", FL, false,
      "booked, never captured (maybe failed), not shipped, settlement lag over"},
     s_b_missing_at_processor, NULL},
    {{"boundary_processor_over", 5, "missing_at_processor", FL, false,
      "booked settlement lag + 1s before as_of, not captured"}, s_b_processor_over, NULL},
    {{"refund_not_in_ledger", 120, "refund_not_in_ledger", FL, false,
      "partial refund at the processor only, posting lag over"}, s_b_refund_not_in_ledger, NULL},
    {{"refund_not_at_processor", 100, "refund_not_at_processor", FL, false,
      "refund in the ledger only (30% in full), settlement lag over"},
     s_b_refund_not_at_processor, NULL},
    {{"currency_mismatch", 60, "currency_mismatch", FL, false,
      "captured in EUR, booked in USD"}, s_b_currency_mismatch, "EUR"},
    {{"duplicate_charge_not_delivered", 40, "duplicate_charge|charged_not_delivered", FL, false,
      "two equal captures, one booked charge, not shipped, SLA over"}, s_b_dup_cnd, NULL},
    {{"missing_at_processor_delivered", 40, "missing_at_processor|delivered_not_charged", FL, false,
      "booked and shipped, never captured, settlement lag over"}, s_b_map_dnc, NULL},
};
#undef NF
#undef FL

#define S_N_SCENARIOS (sizeof s_scenarios / sizeof s_scenarios[0])

size_t
gen_scenario_count (void)
{
    return S_N_SCENARIOS;
}

const gen_scenario_t *
gen_scenario_get (size_t i)
{
    return i < S_N_SCENARIOS ? &s_scenarios[i].info : NULL;
}

/* ---- orders -------------------------------------------------------------- */

static size_t
s_pick_scenario (const gen_settings_t *s, uint64_t index)
{
    if (index < S_N_SCENARIOS)
        return (size_t) index;
    uint64_t total = 0;
    for (size_t i = 0; i < S_N_SCENARIOS; i++)
        total += s_scenarios[i].info.weight;
    gen_rng_t rng;
    gen_rng_init (&rng, s->seed, index, S_STREAM_PICK);
    uint64_t r = gen_rng_below (&rng, total);
    for (size_t i = 0; i < S_N_SCENARIOS; i++) {
        if (r < s_scenarios[i].info.weight)
            return i;
        r -= s_scenarios[i].info.weight;
    }
    return 0;
}

/*  Stripe 50%, Adyen 35%, other 15%; charge_failure never at Adyen, so
    those scenarios split 50:15 between Stripe and other.                  */
static gen_processor_t
s_pick_processor (s_ctx_t *c, bool no_adyen)
{
    if (no_adyen)
        return gen_rng_below (&c->rng, 65) < 50 ? GEN_PROC_STRIPE : GEN_PROC_OTHER;
    uint64_t r = gen_rng_below (&c->rng, 100);
    return r < 50 ? GEN_PROC_STRIPE : r < 85 ? GEN_PROC_ADYEN : GEN_PROC_OTHER;
}

static const char *
s_pick_currency (s_ctx_t *c, const s_scenario_t *sc)
{
    if (sc->currency)
        return sc->currency;
    /*  charge_failure comes from bank debits: ACH (USD) or SEPA (EUR).  */
    if (sc->info.no_adyen)
        return s_chance (c, 70) ? "USD" : "EUR";
    uint64_t r = gen_rng_below (&c->rng, 1000);
    for (size_t i = 0; i < gen_currency_count (); i++) {
        if (r < s_currencies[i].weight)
            return s_currencies[i].code;
        r -= s_currencies[i].weight;
    }
    return "USD";
}

/*  Mostly ord_ + 10 base32 characters; 2% legacy ids like "R-0012345",
    whose upper-case letters sort differently under COLLATE "C" than under
    a natural-language collation (some before "ord_", some after).       */
static void
s_order_id (s_ctx_t *c, char *out)
{
    uint64_t index = c->o->index;
    if (s_chance (c, 2)) {
        static const char letters[] = "AKRW";
        snprintf (out, GEN_ID_SIZE, "%c-%07llu", letters[gen_rng_below (&c->rng, 4)],
                  (unsigned long long) index);
        return;
    }
    uint64_t v = s_perm50 (index, c->set->seed);
    memcpy (out, "ord_", 4);
    for (int i = 0; i < 10; i++)
        out[4 + i] = s_base32[(v >> (45 - 5 * i)) & 31];
    out[14] = '\0';
}

void
gen_order_make_scenario (const gen_settings_t *s, uint64_t index, size_t scenario,
                         gen_order_t *out)
{
    assert (scenario < S_N_SCENARIOS && index < (UINT64_C (1) << 50));
    const s_scenario_t *sc = &s_scenarios[scenario];
    memset (out, 0, sizeof *out);
    out->index = index;
    out->scenario = scenario;
    out->expected = sc->info.expected;
    out->fulfillment.shipped_at = GEN_NO_TIME;

    s_ctx_t c = {.set = s, .o = out, .lo = s->from};
    c.hi = s->as_of < s->to - S_SEC ? s->as_of : s->to - S_SEC;
    c.last_ledger = c.lo;
    gen_rng_init (&c.rng, s->seed, index, S_STREAM_ORDER);

    out->processor = s_pick_processor (&c, sc->info.no_adyen);
    snprintf (out->currency, sizeof out->currency, "%s", s_pick_currency (&c, sc));
    s_order_id (&c, out->order_id);
    sc->build (&c);
}

void
gen_order_make (const gen_settings_t *s, uint64_t index, gen_order_t *out)
{
    gen_order_make_scenario (s, index, s_pick_scenario (s, index), out);
}
