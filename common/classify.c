/*  classify.c — the reconciliation rules, docs/CLASSIFICATION.md in code.

    Design decision: two passes. First every fact is reduced to a handful
    of integer figures (C, n, Rp, L, Rl, D and the times that matter), with
    overflow checked; then each rule is a few comparisons on those figures.
    The rules never look at the raw facts again except to name evidence
    (which capture, which entry) in the sentence, so the arithmetic that
    decides is small enough to check against the doc line by line.        */
#include "recon/classify.h"
#include "recon/money.h"
#include "recon/timestamp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the tables ------------------------------------------------------ */

typedef struct {
    const char *name;
    recon_severity_t severity;
    const char *meaning;
    const char *next_step;
} s_kind_info_t;

static const s_kind_info_t s_kinds[RECON_KIND_COUNT] = {
    [RECON_KIND_CURRENCY_MISMATCH] = {"currency_mismatch", RECON_SEVERITY_MEDIUM,
        "sources disagree on the currency of the order",
        "Find which system recorded the wrong currency and correct it; amounts cannot be compared until then."},
    [RECON_KIND_DUPLICATE_CHARGE] = {"duplicate_charge", RECON_SEVERITY_CRITICAL,
        "more than one successful capture for one order",
        "Refund the duplicate capture to the customer at the processor."},
    [RECON_KIND_OVERCHARGED] = {"overcharged", RECON_SEVERITY_CRITICAL,
        "captured more than the ledger's order amount",
        "Refund the difference to the customer, or correct the ledger if the order amount changed."},
    [RECON_KIND_UNDERCHARGED] = {"undercharged", RECON_SEVERITY_MEDIUM,
        "captured less than the ledger's order amount",
        "Capture the remainder, or correct the ledger's order amount."},
    [RECON_KIND_MISSING_IN_LEDGER] = {"missing_in_ledger", RECON_SEVERITY_MEDIUM,
        "processor money with no ledger entry after the posting lag",
        "Post the charge to the ledger."},
    [RECON_KIND_MISSING_AT_PROCESSOR] = {"missing_at_processor", RECON_SEVERITY_MEDIUM,
        "the ledger says paid, the processor has no capture",
        "Check the payment at the processor; reverse the ledger entry if it never settled."},
    [RECON_KIND_REFUND_NOT_IN_LEDGER] = {"refund_not_in_ledger", RECON_SEVERITY_MEDIUM,
        "the processor refunded money the ledger has not recorded",
        "Post the refund to the ledger."},
    [RECON_KIND_REFUND_NOT_AT_PROCESSOR] = {"refund_not_at_processor", RECON_SEVERITY_MEDIUM,
        "the ledger recorded a refund the processor has not made",
        "Issue the refund at the processor, or reverse the ledger entry."},
    [RECON_KIND_DISPUTE_OPEN] = {"dispute_open", RECON_SEVERITY_HIGH,
        "a chargeback is open",
        "Submit evidence to the processor before the dispute deadline, or accept it."},
    [RECON_KIND_CHARGED_NOT_DELIVERED] = {"charged_not_delivered", RECON_SEVERITY_HIGH,
        "captured, not shipped after the fulfillment SLA",
        "Ship the order or refund the customer."},
    [RECON_KIND_CHARGED_AFTER_CANCEL] = {"charged_after_cancel", RECON_SEVERITY_CRITICAL,
        "order cancelled, money still captured after the grace period",
        "Refund the customer."},
    [RECON_KIND_DELIVERED_NOT_CHARGED] = {"delivered_not_charged", RECON_SEVERITY_MEDIUM,
        "shipped or delivered, nothing captured",
        "Capture the payment, or write it off."},
    [RECON_KIND_REFUNDED_BUT_SHIPPED] = {"refunded_but_shipped", RECON_SEVERITY_MEDIUM,
        "refunded in full, shipped and not returned",
        "Recover the goods or the money, or record the return."},
};

static const struct {
    const char *name;
    const char *meaning;
} s_states[RECON_STATE_COUNT] = {
    [RECON_STATE_IN_SYNC] = {"in_sync", "processor, ledger and fulfillment agree"},
    [RECON_STATE_REFUNDED_IN_FULL] = {"refunded_in_full",
                                      "charged and refunded in full, and both sides agree"},
    [RECON_STATE_CANCELLED_CLEAN] = {"cancelled_clean", "cancelled with nothing left captured"},
    [RECON_STATE_AWAITING_FULFILLMENT] = {"awaiting_fulfillment",
                                          "charged; shipment still inside the fulfillment SLA"},
    [RECON_STATE_AWAITING_LEDGER] = {"awaiting_ledger",
                                     "the ledger may still post inside its posting lag"},
    [RECON_STATE_AWAITING_PROCESSOR] = {"awaiting_processor",
                                        "the processor may still settle inside its settlement lag"},
    [RECON_STATE_FLAGGED] = {"flagged", "one or more mismatches are open"},
};

static const char *s_severity_names[] = {"critical", "high", "medium"};

static const char *s_event_kinds[] = {"charge",         "refund",         "dispute",
                                      "dispute_reversal", "charge_failure", "refund_failure",
                                      "partial_capture_reversal"};
static const char *s_event_statuses[] = {"succeeded", "pending", "failed"};
static const char *s_ledger_kinds[] = {"charge", "refund"};
static const char *s_fulfillment_statuses[] = {"none", "pending", "in_progress", "on_hold",
                                               "shipped", "delivered", "cancelled", "returned"};

static int
s_lookup (const char *const *names, int n, const char *name, int first)
{
    for (int i = first; name && i < n; i++)
        if (strcmp (names[i], name) == 0)
            return i;
    return -1;
}

const char *recon_kind_name (recon_kind_t k) { return s_kinds[k].name; }
const char *recon_kind_meaning (recon_kind_t k) { return s_kinds[k].meaning; }
const char *recon_kind_next_step (recon_kind_t k) { return s_kinds[k].next_step; }
recon_severity_t recon_kind_severity (recon_kind_t k) { return s_kinds[k].severity; }
const char *recon_severity_name (recon_severity_t s) { return s_severity_names[s]; }
const char *recon_state_name (recon_state_t s) { return s_states[s].name; }
const char *recon_state_meaning (recon_state_t s) { return s_states[s].meaning; }
const char *recon_event_kind_name (recon_event_kind_t k) { return s_event_kinds[k]; }
const char *recon_fulfillment_status_name (recon_fulfillment_status_t s)
{
    return s_fulfillment_statuses[s];
}

int
recon_kind_from_name (const char *name)
{
    for (int i = 0; name && i < RECON_KIND_COUNT; i++)
        if (strcmp (s_kinds[i].name, name) == 0)
            return i;
    return -1;
}

int
recon_state_from_name (const char *name)
{
    for (int i = 0; name && i < RECON_STATE_COUNT; i++)
        if (strcmp (s_states[i].name, name) == 0)
            return i;
    return -1;
}

int recon_event_kind_from_name (const char *n)
{
    return s_lookup (s_event_kinds, RECON_EVENT_KIND_COUNT, n, 0);
}
int recon_event_status_from_name (const char *n) { return s_lookup (s_event_statuses, 3, n, 0); }
int recon_ledger_kind_from_name (const char *n) { return s_lookup (s_ledger_kinds, 2, n, 0); }
int recon_fulfillment_status_from_name (const char *n)
{
    /*  "none" is our marker for a missing row, not a status a source sends. */
    return s_lookup (s_fulfillment_statuses, 8, n, 1);
}

recon_classify_config_t
recon_classify_config_default (int64_t as_of)
{
    recon_classify_config_t cfg = {
        .as_of = as_of,
        .grace_fulfillment = 72 * RECON_USEC_PER_HOUR,
        .grace_ledger = 24 * RECON_USEC_PER_HOUR,
        .grace_processor = 48 * RECON_USEC_PER_HOUR,
        .grace_cancel = 48 * RECON_USEC_PER_HOUR,
        .tolerance = 0,
    };
    return cfg;
}

/* ---- money and time for people --------------------------------------- */

static const struct {
    const char *code;
    const char *symbol;
} s_symbols[] = {
    {"USD", "$"}, {"EUR", "\xe2\x82\xac"}, {"GBP", "\xc2\xa3"}, {"JPY", "\xc2\xa5"},
    {"INR", "\xe2\x82\xb9"}, {"KRW", "\xe2\x82\xa9"},
};

int
recon_money_format_human (char *buf, size_t size, int64_t minor, const char *currency)
{
    /*  ISO 4217 "XXX": no currency is involved (nothing was ever paid).  */
    if (currency && strcmp (currency, "XXX") == 0) {
        int n = snprintf (buf, size, "no money");
        return n < 0 || (size_t) n >= size ? -1 : n;
    }
    int exponent = recon_currency_exponent (currency);
    if (exponent < 0)
        exponent = 2;
    char plain[32];
    int n = recon_money_format (plain, sizeof plain, minor, exponent, '.');
    if (n < 0)
        return -1;
    const char *digits = plain + (minor < 0);
    const char *dot = strchr (digits, '.');
    size_t int_len = dot ? (size_t) (dot - digits) : strlen (digits);
    /*  Group the integer part in thousands: people misread 1234567.      */
    char grouped[48];
    size_t g = 0;
    for (size_t i = 0; i < int_len; i++) {
        if (i && (int_len - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    const char *symbol = NULL;
    for (size_t i = 0; i < sizeof s_symbols / sizeof s_symbols[0]; i++)
        if (currency && strcmp (currency, s_symbols[i].code) == 0)
            symbol = s_symbols[i].symbol;
    int len = symbol ? snprintf (buf, size, "%s%s%s%s", minor < 0 ? "-" : "", symbol, grouped,
                                 dot ? dot : "")
                     : snprintf (buf, size, "%s%s %s%s", minor < 0 ? "-" : "",
                                 currency && *currency ? currency : "XXX", grouped, dot ? dot : "");
    return len < 0 || (size_t) len >= size ? -1 : len;
}

/*  "3 Nov" (with the year when it is not as_of's year).                   */
static void
s_format_date (char *buf, size_t size, int64_t t, int64_t as_of)
{
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t y, ay;
    unsigned m, d, am, ad;
    int64_t day = t / RECON_USEC_PER_DAY - (t % RECON_USEC_PER_DAY < 0);
    int64_t aday = as_of / RECON_USEC_PER_DAY - (as_of % RECON_USEC_PER_DAY < 0);
    recon_civil_from_days (day, &y, &m, &d);
    recon_civil_from_days (aday, &ay, &am, &ad);
    if (y == ay)
        snprintf (buf, size, "%u %s", d, months[m - 1]);
    else
        snprintf (buf, size, "%u %s %lld", d, months[m - 1], (long long) y);
}

/*  "4 days", "1 day", "7 hours", "less than an hour".                      */
static void
s_format_elapsed (char *buf, size_t size, int64_t us)
{
    int64_t days = us / RECON_USEC_PER_DAY, hours = us / RECON_USEC_PER_HOUR;
    if (days >= 1)
        snprintf (buf, size, "%lld day%s", (long long) days, days == 1 ? "" : "s");
    else if (hours >= 1)
        snprintf (buf, size, "%lld hour%s", (long long) hours, hours == 1 ? "" : "s");
    else
        snprintf (buf, size, "less than an hour");
}

/*  Copies an outside identifier for a sentence: at most 12 bytes, cut on a
    UTF-8 boundary with "…", so a stored sentence stays valid UTF-8.       */
static void
s_format_ref (char *buf, size_t size, const char *ref)
{
    if (!ref || !*ref) {
        snprintf (buf, size, "no reference");
        return;
    }
    size_t len = strlen (ref);
    if (len <= 14) {
        snprintf (buf, size, "%s", ref);
        return;
    }
    size_t cut = 12;
    while (cut > 0 && ((unsigned char) ref[cut] & 0xC0) == 0x80)
        cut--;
    snprintf (buf, size, "%.*s\xe2\x80\xa6", (int) cut, ref);
}

/*  Names a processor event the way finance searches for it: the payment
    (ch_…, PSP reference) when known, else the transaction.                */
static const char *
s_event_ref (const recon_processor_event_t *e)
{
    return e->payment_ref && *e->payment_ref ? e->payment_ref : e->txn_id;
}

/* ---- pass 1: facts to figures ---------------------------------------- */

typedef struct {
    recon_figures_t f;
    const recon_processor_event_t *first_capture, *last_capture, *last_refund, *last_dispute;
    const recon_ledger_entry_t *first_charge_entry, *last_refund_entry;
    int64_t dispute_total, reversal_total;
    int equal_captures;
    int largest_set;
    int64_t largest;
    char currencies[4][4]; /* the first few distinct codes seen */
} s_scan_t;

static int
s_add (int64_t *acc, int64_t v)
{
    return __builtin_add_overflow (*acc, v, acc) ? -1 : 0;
}

static void
s_note_currency (s_scan_t *s, const char *code, int64_t amount)
{
    if (!s->largest_set || amount > s->largest) {
        s->largest = amount;
        s->largest_set = 1;
    }
    for (int i = 0; i < s->f.currencies && i < 4; i++)
        if (strcmp (s->currencies[i], code) == 0)
            return;
    if (s->f.currencies < 4)
        memcpy (s->currencies[s->f.currencies], code, 4);
    s->f.currencies++;
}

static int
s_scan_events (const recon_order_facts_t *facts, int64_t as_of, s_scan_t *s)
{
    for (size_t i = 0; i < facts->nevents; i++) {
        const recon_processor_event_t *e = &facts->events[i];
        if (e->status != RECON_EVENT_SUCCEEDED || e->occurred_at > as_of)
            continue;
        s_note_currency (s, e->currency, e->amount_minor);
        int rc = 0;
        switch (e->kind) {
        case RECON_EVENT_CHARGE:
            rc = s_add (&s->f.captured, e->amount_minor);
            s->f.captures++;
            if (!s->first_capture || e->occurred_at < s->first_capture->occurred_at)
                s->first_capture = e;
            if (!s->last_capture || e->occurred_at > s->last_capture->occurred_at)
                s->last_capture = e;
            break;
        case RECON_EVENT_CHARGE_FAILURE:
            rc = s_add (&s->f.captured, -e->amount_minor);
            s->f.captures--;
            break;
        case RECON_EVENT_PARTIAL_CAPTURE_REVERSAL:
            rc = s_add (&s->f.captured, -e->amount_minor);
            break;
        case RECON_EVENT_REFUND_FAILURE:
            rc = s_add (&s->f.refunded_processor, -e->amount_minor);
            break;
        case RECON_EVENT_KIND_COUNT:
            break;
        case RECON_EVENT_REFUND:
            rc = s_add (&s->f.refunded_processor, e->amount_minor);
            if (!s->last_refund || e->occurred_at > s->last_refund->occurred_at)
                s->last_refund = e;
            break;
        case RECON_EVENT_DISPUTE:
            rc = s_add (&s->dispute_total, e->amount_minor);
            s->f.open_disputes++;
            if (!s->last_dispute || e->occurred_at > s->last_dispute->occurred_at)
                s->last_dispute = e;
            break;
        case RECON_EVENT_DISPUTE_REVERSAL:
            rc = s_add (&s->reversal_total, e->amount_minor);
            s->f.open_disputes--;
            break;
        }
        if (rc < 0 || e->amount_minor < 0)
            return -1;
    }
    return 0;
}

static int
s_scan_entries (const recon_order_facts_t *facts, int64_t as_of, s_scan_t *s)
{
    for (size_t i = 0; i < facts->nentries; i++) {
        const recon_ledger_entry_t *e = &facts->entries[i];
        if (e->recorded_at > as_of)
            continue;
        if (e->amount_minor < 0)
            return -1;
        s_note_currency (s, e->currency, e->amount_minor);
        if (e->kind == RECON_LEDGER_CHARGE) {
            if (s_add (&s->f.ledger_charged, e->amount_minor) < 0)
                return -1;
            if (!s->first_charge_entry || e->recorded_at < s->first_charge_entry->recorded_at)
                s->first_charge_entry = e;
        } else {
            if (s_add (&s->f.ledger_refunded, e->amount_minor) < 0)
                return -1;
            if (!s->last_refund_entry || e->recorded_at > s->last_refund_entry->recorded_at)
                s->last_refund_entry = e;
        }
    }
    return 0;
}

/*  Two successful captures of the same amount: the signature of a double
    submit. Quadratic, but orders have a handful of captures.              */
static int
s_has_equal_captures (const recon_order_facts_t *facts, int64_t as_of)
{
    for (size_t i = 0; i < facts->nevents; i++) {
        const recon_processor_event_t *a = &facts->events[i];
        if (a->kind != RECON_EVENT_CHARGE || a->status != RECON_EVENT_SUCCEEDED
            || a->occurred_at > as_of)
            continue;
        for (size_t j = i + 1; j < facts->nevents; j++) {
            const recon_processor_event_t *b = &facts->events[j];
            if (b->kind == RECON_EVENT_CHARGE && b->status == RECON_EVENT_SUCCEEDED
                && b->occurred_at <= as_of && b->amount_minor == a->amount_minor
                && strcmp (b->currency, a->currency) == 0)
                return 1;
        }
    }
    return 0;
}

/*  E and X with the offset of docs/CLASSIFICATION.md.                      */
static int
s_offsets (recon_figures_t *f)
{
    int64_t e, x;
    if (__builtin_sub_overflow (f->captured, f->ledger_charged, &e)
        || __builtin_sub_overflow (f->refunded_processor, f->ledger_refunded, &x))
        return -1;
    if ((e > 0 && x > 0) || (e < 0 && x < 0)) {
        /*  Same sign: |m| fits because both magnitudes fit.               */
        int64_t m = e > 0 ? (e < x ? e : x) : (e > x ? e : x);
        e -= m;
        x -= m;
    }
    f->charge_excess = e;
    f->refund_excess = x;
    return 0;
}

static int
s_scan (const recon_order_facts_t *facts, int64_t as_of, s_scan_t *s)
{
    memset (s, 0, sizeof *s);
    if (s_scan_events (facts, as_of, s) < 0 || s_scan_entries (facts, as_of, s) < 0)
        return -1;
    if (__builtin_sub_overflow (s->dispute_total, s->reversal_total, &s->f.disputed_open))
        return -1;
    if (s->f.currencies > 0)
        memcpy (s->f.currency, s->currencies[0], 4);
    s->equal_captures = s_has_equal_captures (facts, as_of);
    return s_offsets (&s->f);
}

/* ---- pass 2: the rules ------------------------------------------------ */

typedef struct {
    const recon_order_facts_t *facts;
    const recon_classify_config_t *cfg;
    const s_scan_t *s;
    recon_classification_t *out;
    int awaiting_ledger, awaiting_processor, awaiting_fulfillment;
} s_ctx_t;

static recon_mismatch_t *
s_flag (s_ctx_t *c, recon_kind_t kind, int64_t at_stake)
{
    recon_mismatch_t *m = &c->out->mismatches[c->out->nmismatches++];
    m->kind = kind;
    m->severity = s_kinds[kind].severity;
    m->amount_minor = at_stake;
    memcpy (m->currency, c->s->f.currency, 4);
    snprintf (m->next_step, sizeof m->next_step, "%s", s_kinds[kind].next_step);
    return m;
}

static void
s_say (char *buf, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_say (char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, RECON_SUMMARY_MAX, fmt, ap);
    va_end (ap);
}

/*  Buffers for the pieces of a sentence.                                   */
typedef struct {
    char a[48], b[48], c[48];
    char date[32], date2[32];
    char ref[32];
    char elapsed[32];
} s_words_t;

static void
s_money (const s_ctx_t *c, char *buf, int64_t minor)
{
    if (recon_money_format_human (buf, 48, minor, c->s->f.currency) < 0)
        snprintf (buf, 48, "?");
}

static int64_t
s_elapsed (const s_ctx_t *c, int64_t since)
{
    return c->cfg->as_of - since;
}

/*  1 when the grace window that started at T is over; otherwise marks the
    wait state AWAITING and returns 0. Sets *SINCE to the time elapsed.    */
static int
s_over (const s_ctx_t *c, int64_t t, int64_t grace, int *awaiting, int64_t *since)
{
    *since = s_elapsed (c, t);
    if (*since <= grace) {
        *awaiting = 1;
        return 0;
    }
    return 1;
}

/*  The usual words of a sentence: an amount, a date, a reference and how
    long ago; REF may be NULL when the sentence names none.                */
static void
s_words (const s_ctx_t *c, s_words_t *w, int64_t amount, int64_t t, const char *ref,
         int64_t since)
{
    s_money (c, w->a, amount);
    s_format_date (w->date, sizeof w->date, t, c->cfg->as_of);
    s_format_ref (w->ref, sizeof w->ref, ref);
    s_format_elapsed (w->elapsed, sizeof w->elapsed, since);
}

static void
s_rule_currency (s_ctx_t *c)
{
    const s_scan_t *s = c->s;
    recon_mismatch_t *m = s_flag (c, RECON_KIND_CURRENCY_MISMATCH, s->largest);
    s_say (m->summary, "The sources disagree on the currency of this order: %s and %s%s.",
           s->currencies[0], s->currencies[1], s->f.currencies > 2 ? " (and more)" : "");
}

static void
s_rule_charges (s_ctx_t *c)
{
    const recon_figures_t *f = &c->s->f;
    const s_scan_t *s = c->s;
    int64_t tol = c->cfg->tolerance;
    s_words_t w;
    if (f->ledger_charged > 0 && f->charge_excess > tol) {
        int dup = f->captures >= 2 && s->equal_captures;
        recon_mismatch_t *m = s_flag (c, dup ? RECON_KIND_DUPLICATE_CHARGE
                                             : RECON_KIND_OVERCHARGED, f->charge_excess);
        s_money (c, w.a, f->captured);
        s_money (c, w.b, f->ledger_charged);
        s_money (c, w.c, f->charge_excess);
        s_format_date (w.date, sizeof w.date, s->last_capture->occurred_at, c->cfg->as_of);
        s_format_ref (w.ref, sizeof w.ref, s_event_ref (s->last_capture));
        if (dup)
            s_say (m->summary, "Charged %lld times, %s in all (last on %s, %s); the ledger "
                   "expects %s, so %s was taken twice.", (long long) f->captures, w.a, w.date,
                   w.ref, w.b, w.c);
        else
            s_say (m->summary, "Captured %s (last on %s, %s) but the ledger's order amount is "
                   "%s: %s too much.", w.a, w.date, w.ref, w.b, w.c);
        s_say (m->next_step, dup ? "Refund the duplicate %s to the customer at the processor."
                                 : "Refund %s to the customer, or correct the ledger if the "
                                   "order amount changed.", w.c);
    }
    if (f->captured > 0 && f->ledger_charged > 0 && f->charge_excess < -tol) {
        if (s_elapsed (c, s->first_capture->occurred_at) <= c->cfg->grace_processor) {
            c->awaiting_processor = 1;
            return;
        }
        recon_mismatch_t *m = s_flag (c, RECON_KIND_UNDERCHARGED, -f->charge_excess);
        s_money (c, w.a, f->captured);
        s_money (c, w.b, f->ledger_charged);
        s_money (c, w.c, -f->charge_excess);
        s_format_date (w.date, sizeof w.date, s->first_capture->occurred_at, c->cfg->as_of);
        s_format_ref (w.ref, sizeof w.ref, s_event_ref (s->first_capture));
        s_say (m->summary, "Captured %s since %s (%s) but the ledger's order amount is %s: "
               "%s short.", w.a, w.date, w.ref, w.b, w.c);
        s_say (m->next_step, "Capture the remaining %s, or correct the ledger's order amount.",
               w.c);
    }
}

static void
s_rule_refunds (s_ctx_t *c)
{
    const recon_figures_t *f = &c->s->f;
    const s_scan_t *s = c->s;
    int64_t tol = c->cfg->tolerance;
    s_words_t w;
    int64_t since;
    if (f->refund_excess > tol
        && s_over (c, s->last_refund->occurred_at, c->cfg->grace_ledger, &c->awaiting_ledger,
                   &since)) {
        recon_mismatch_t *m = s_flag (c, RECON_KIND_REFUND_NOT_IN_LEDGER, f->refund_excess);
        s_words (c, &w, f->refund_excess, s->last_refund->occurred_at,
                 s_event_ref (s->last_refund), since);
        s_say (m->summary, "Refunded %s at the processor (last on %s, %s); the ledger has "
               "not recorded it after %s.", w.a, w.date, w.ref, w.elapsed);
        s_say (m->next_step, "Post the refund of %s to the ledger.", w.a);
    }
    if (f->refund_excess < -tol
        && s_over (c, s->last_refund_entry->recorded_at, c->cfg->grace_processor,
                   &c->awaiting_processor, &since)) {
        recon_mismatch_t *m = s_flag (c, RECON_KIND_REFUND_NOT_AT_PROCESSOR, -f->refund_excess);
        s_words (c, &w, -f->refund_excess, s->last_refund_entry->recorded_at,
                 s->last_refund_entry->entry_id, since);
        s_say (m->summary, "The ledger booked a refund of %s on %s (%s); the processor has not "
               "refunded it after %s.", w.a, w.date, w.ref, w.elapsed);
        s_say (m->next_step, "Refund %s at the processor, or reverse the ledger entry.", w.a);
    }
}

static void
s_rule_missing (s_ctx_t *c)
{
    const recon_figures_t *f = &c->s->f;
    const s_scan_t *s = c->s;
    s_words_t w;
    int64_t since;
    if (f->captured > 0 && f->ledger_charged == 0
        && s_over (c, s->first_capture->occurred_at, c->cfg->grace_ledger, &c->awaiting_ledger,
                   &since)) {
        recon_mismatch_t *m = s_flag (c, RECON_KIND_MISSING_IN_LEDGER, f->captured);
        s_words (c, &w, f->captured, s->first_capture->occurred_at,
                 s_event_ref (s->first_capture), since);
        s_say (m->summary, "Charged %s on %s (%s); the ledger has no entry for this order "
               "after %s.", w.a, w.date, w.ref, w.elapsed);
        s_say (m->next_step, "Post the charge of %s to the ledger.", w.a);
    }
    if (f->ledger_charged > 0 && f->captured == 0
        && s_over (c, s->first_charge_entry->recorded_at, c->cfg->grace_processor,
                   &c->awaiting_processor, &since)) {
        recon_mismatch_t *m = s_flag (c, RECON_KIND_MISSING_AT_PROCESSOR, f->ledger_charged);
        s_words (c, &w, f->ledger_charged, s->first_charge_entry->recorded_at,
                 s->first_charge_entry->entry_id, since);
        s_say (m->summary, "The ledger booked a charge of %s on %s (%s); the processor has no "
               "capture after %s.", w.a, w.date, w.ref, w.elapsed);
    }
}

static void
s_rule_dispute (s_ctx_t *c)
{
    const s_scan_t *s = c->s;
    if (s->f.open_disputes <= 0)
        return;
    s_words_t w;
    recon_mismatch_t *m = s_flag (c, RECON_KIND_DISPUTE_OPEN, s->f.disputed_open);
    s_money (c, w.a, s->f.disputed_open);
    s_format_date (w.date, sizeof w.date, s->last_dispute->occurred_at, c->cfg->as_of);
    s_format_ref (w.ref, sizeof w.ref, s_event_ref (s->last_dispute));
    s_say (m->summary, "A chargeback of %s was opened on %s (%s) and has not been reversed.",
           w.a, w.date, w.ref);
}

static int
s_shipped (const recon_fulfillment_t *ff)
{
    return ff->status == RECON_FULFILLMENT_SHIPPED || ff->status == RECON_FULFILLMENT_DELIVERED;
}

static void
s_rule_not_delivered (s_ctx_t *c, int64_t net)
{
    const recon_fulfillment_t *ff = &c->facts->fulfillment;
    const s_scan_t *s = c->s;
    if (net <= c->cfg->tolerance || s_shipped (ff) || ff->status == RECON_FULFILLMENT_CANCELLED
        || ff->status == RECON_FULFILLMENT_RETURNED)
        return;
    int64_t since = s_elapsed (c, s->first_capture->occurred_at);
    if (since <= c->cfg->grace_fulfillment) {
        c->awaiting_fulfillment = 1;
        return;
    }
    s_words_t w;
    recon_mismatch_t *m = s_flag (c, RECON_KIND_CHARGED_NOT_DELIVERED, net);
    s_money (c, w.a, net);
    s_format_date (w.date, sizeof w.date, s->first_capture->occurred_at, c->cfg->as_of);
    s_format_ref (w.ref, sizeof w.ref, s_event_ref (s->first_capture));
    s_format_elapsed (w.elapsed, sizeof w.elapsed, since);
    s_say (m->summary, "Charged %s on %s (%s); the order has not shipped after %s%s.", w.a,
           w.date, w.ref, w.elapsed,
           ff->status == RECON_FULFILLMENT_NONE ? " and fulfillment has no record of it" : "");
}

static void
s_rule_after_cancel (s_ctx_t *c, int64_t net)
{
    const recon_fulfillment_t *ff = &c->facts->fulfillment;
    const s_scan_t *s = c->s;
    if (ff->status != RECON_FULFILLMENT_CANCELLED || net <= c->cfg->tolerance)
        return;
    int64_t from = ff->updated_at > s->last_capture->occurred_at ? ff->updated_at
                                                                 : s->last_capture->occurred_at;
    int64_t since = s_elapsed (c, from);
    if (since <= c->cfg->grace_cancel) {
        c->awaiting_processor = 1;
        return;
    }
    s_words_t w;
    recon_mismatch_t *m = s_flag (c, RECON_KIND_CHARGED_AFTER_CANCEL, net);
    s_money (c, w.a, net);
    s_format_date (w.date, sizeof w.date, ff->updated_at, c->cfg->as_of);
    s_format_elapsed (w.elapsed, sizeof w.elapsed, since);
    s_say (m->summary, "The order was cancelled on %s but %s is still captured after %s.",
           w.date, w.a, w.elapsed);
    s_say (m->next_step, "Refund %s to the customer.", w.a);
}

static void
s_rule_shipped (s_ctx_t *c)
{
    const recon_fulfillment_t *ff = &c->facts->fulfillment;
    const recon_figures_t *f = &c->s->f;
    const s_scan_t *s = c->s;
    if (!s_shipped (ff))
        return;
    int64_t t_ship = ff->has_shipped_at ? ff->shipped_at : ff->updated_at;
    s_words_t w;
    s_format_date (w.date2, sizeof w.date2, t_ship, c->cfg->as_of);
    if (f->captured <= 0) {
        int64_t since = s_elapsed (c, t_ship);
        if (since <= c->cfg->grace_processor) {
            c->awaiting_processor = 1;
        } else {
            recon_mismatch_t *m = s_flag (c, RECON_KIND_DELIVERED_NOT_CHARGED,
                                          f->ledger_charged > 0 ? f->ledger_charged : 0);
            s_format_elapsed (w.elapsed, sizeof w.elapsed, since);
            s_say (m->summary, "The order %s on %s but nothing was captured after %s.",
                   ff->status == RECON_FULFILLMENT_DELIVERED ? "was delivered" : "shipped",
                   w.date2, w.elapsed);
        }
    }
    if (f->captured > 0 && f->refunded_processor >= f->captured) {
        if (s_elapsed (c, s->last_refund->occurred_at) <= c->cfg->grace_fulfillment) {
            c->awaiting_fulfillment = 1;
            return;
        }
        recon_mismatch_t *m = s_flag (c, RECON_KIND_REFUNDED_BUT_SHIPPED, f->refunded_processor);
        s_money (c, w.a, f->refunded_processor);
        s_format_date (w.date, sizeof w.date, s->last_refund->occurred_at, c->cfg->as_of);
        s_format_ref (w.ref, sizeof w.ref, s_event_ref (s->last_refund));
        s_say (m->summary, "Refunded in full (%s, last on %s, %s) but the order shipped on %s "
               "and was not returned.", w.a, w.date, w.ref, w.date2);
    }
}

static void
s_state_summary (s_ctx_t *c)
{
    recon_classification_t *out = c->out;
    const recon_figures_t *f = &c->s->f;
    s_words_t w;
    s_money (c, w.a, f->captured - f->refunded_processor);
    switch (out->state) {
    case RECON_STATE_AWAITING_LEDGER:
        s_say (out->summary, "Waiting for the ledger to post (inside its posting lag).");
        break;
    case RECON_STATE_AWAITING_PROCESSOR:
        s_say (out->summary, "Waiting for the processor to settle (inside its settlement lag).");
        break;
    case RECON_STATE_AWAITING_FULFILLMENT:
        s_say (out->summary, "Charged %s; waiting for shipment inside the fulfillment SLA.", w.a);
        break;
    case RECON_STATE_CANCELLED_CLEAN:
        s_say (out->summary, "Cancelled, with nothing left captured.");
        break;
    case RECON_STATE_REFUNDED_IN_FULL:
        s_money (c, w.b, f->refunded_processor);
        s_say (out->summary, "Charged and refunded in full (%s); the ledger agrees.", w.b);
        break;
    default:
        s_say (out->summary, "Processor, ledger and fulfillment agree.");
        break;
    }
}

static void
s_decide_state (s_ctx_t *c, int64_t net)
{
    recon_classification_t *out = c->out;
    const recon_figures_t *f = &c->s->f;
    if (out->nmismatches > 0)
        out->state = RECON_STATE_FLAGGED;
    else if (c->awaiting_ledger)
        out->state = RECON_STATE_AWAITING_LEDGER;
    else if (c->awaiting_processor)
        out->state = RECON_STATE_AWAITING_PROCESSOR;
    else if (c->awaiting_fulfillment)
        out->state = RECON_STATE_AWAITING_FULFILLMENT;
    else if (c->facts->fulfillment.status == RECON_FULFILLMENT_CANCELLED
             && net <= c->cfg->tolerance)
        out->state = RECON_STATE_CANCELLED_CLEAN;
    else if (f->captured > 0 && f->refunded_processor >= f->captured)
        out->state = RECON_STATE_REFUNDED_IN_FULL;
    else
        out->state = RECON_STATE_IN_SYNC;
    if (out->state != RECON_STATE_FLAGGED)
        s_state_summary (c);
}

int
recon_classify (const recon_order_facts_t *facts, const recon_classify_config_t *cfg,
                recon_classification_t *out)
{
    memset (out, 0, sizeof *out);
    s_scan_t scan;
    if (s_scan (facts, cfg->as_of, &scan) < 0)
        return RECON_CLASSIFY_EOVERFLOW;
    out->figures = scan.f;
    int64_t net;
    if (__builtin_sub_overflow (scan.f.captured, scan.f.refunded_processor, &net))
        return RECON_CLASSIFY_EOVERFLOW;

    /*  A fulfillment status written after as_of was not known yet.        */
    recon_order_facts_t known = *facts;
    if (known.fulfillment.updated_at > cfg->as_of)
        known.fulfillment.status = RECON_FULFILLMENT_NONE;
    s_ctx_t c = {&known, cfg, &scan, out, 0, 0, 0};
    /*  Table order = report order (docs/CLASSIFICATION.md).               */
    if (scan.f.currencies > 1)
        s_rule_currency (&c);
    else
        s_rule_charges (&c);
    s_rule_missing (&c);
    if (scan.f.currencies <= 1)
        s_rule_refunds (&c);
    s_rule_dispute (&c);
    s_rule_not_delivered (&c, net);
    s_rule_after_cancel (&c, net);
    s_rule_shipped (&c);
    s_decide_state (&c, net);
    return 0;
}

int
recon_classification_label (const recon_classification_t *c, char *buf, size_t size)
{
    if (c->state != RECON_STATE_FLAGGED) {
        int n = snprintf (buf, size, "%s", s_states[c->state].name);
        return n < 0 || (size_t) n >= size ? -1 : n;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->nmismatches; i++) {
        int n = snprintf (buf + len, size - len, "%s%s", i ? "|" : "",
                          s_kinds[c->mismatches[i].kind].name);
        if (n < 0 || (size_t) n >= size - len)
            return -1;
        len += (size_t) n;
    }
    return (int) len;
}
