/*  import_map.c — Stripe, Adyen, canonical and Shopify rows to staging.

    Design decision: a row is judged in C, field by field, before it reaches
    PostgreSQL, so every reject names its line, its column and a reason a
    person understands; the database only ever sees rows that will load.
    What is not order money (fees, payouts, unknown report categories) is
    skipped by category, never rejected: processors add categories freely. */
#include "import_map.h"
#include "recon/classify.h"
#include "recon/money.h"
#include "recon/timestamp.h"
#include "recon/utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- reading fields ------------------------------------------------------ */

static int
s_reject (import_row_t *row, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_reject (import_row_t *row, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (row->reject_reason, sizeof row->reject_reason, fmt, ap);
    va_end (ap);
    row->reject_field = field;
    return IMPORT_ROW_REJECT;
}

static int
s_skip (import_row_t *row, const char *category, size_t len)
{
    if (len == 0) {
        category = "(empty)";
        len = 7;
    }
    /*  The category comes from the file and is shown in the summary: cut
        it on a UTF-8 boundary and make control characters '?'.          */
    if (len >= sizeof row->skip_category) {
        len = sizeof row->skip_category - 1;
        while (len > 0 && ((unsigned char) category[len] & 0xc0) == 0x80)
            len--;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) category[i];
        row->skip_category[i] = c < 0x20 || c == 0x7f ? '?' : (char) c;
    }
    row->skip_category[len] = '\0';
    return IMPORT_ROW_SKIP;
}

/*  The field of format column C, spaces trimmed; "" when the column is
    absent from the file or the record is short.                           */
static const char *
s_field (const import_row_t *row, int c, size_t *len)
{
    int i = row->cols[c];
    if (i < 0 || (size_t) i >= recon_csv_nfields (row->csv)) {
        *len = 0;
        return "";
    }
    size_t n;
    const char *p = recon_csv_field (row->csv, (size_t) i, &n);
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *len = n;
    return p;
}

/*  Returns 1 when the N bytes at S are valid UTF-8 without control
    characters (identifiers and statuses never carry them).                */
static int
s_clean_text (const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        int len = recon_utf8_seq (p, end);
        if (len <= 0)
            return 0;
        p += len;
    }
    return 1;
}

/*  A required identifier-like text column.                                 */
static int
s_text (import_row_t *row, int c, const char *name, const char **out, size_t *len)
{
    *out = s_field (row, c, len);
    if (*len == 0)
        return s_reject (row, name, "empty");
    if (!s_clean_text (*out, *len))
        return s_reject (row, name, "not valid UTF-8 text (or contains control characters)");
    if (*len > 200)
        return s_reject (row, name, "longer than 200 bytes");
    return IMPORT_ROW_OK;
}

/*  Quotes a field for a reject reason: at most 40 bytes, cut on a UTF-8
    character boundary, control characters (and DEL) shown as '?', so the
    reason stays one printable line of valid UTF-8 (fuzz_import checks).   */
static void
s_quote (char *buf, size_t size, const char *s, size_t n)
{
    if (n > 40) {
        size_t cut = 40;
        while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
            cut--;
        snprintf (buf, size, "'%.*s…'", (int) cut, s);
    } else
        snprintf (buf, size, "'%.*s'", (int) n, s);
    for (char *p = buf; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int
s_currency (import_row_t *row, int c, const char *name, char *out)
{
    size_t n;
    const char *p = s_field (row, c, &n);
    char code[8];
    if (n == 0)
        return s_reject (row, name, "empty");
    if (n != 3)
        goto bad;
    memcpy (code, p, 3);
    code[3] = '\0';
    if (recon_currency_normalize (code, out) == 0)
        return IMPORT_ROW_OK;
bad:;
    char q[64];
    s_quote (q, sizeof q, p, n);
    return s_reject (row, name, "%s is not an ISO 4217 currency code", q);
}

/*  Decimal major units ("42.00") to minor units of CURRENCY; the sign is
    dropped (the kind gives the direction).                                */
static int
s_amount_decimal (import_row_t *row, int c, const char *name, const char *currency,
                  int64_t *out)
{
    size_t n;
    const char *p = s_field (row, c, &n);
    int rc = recon_money_parse (p, n, recon_currency_exponent (currency), row->decimal_mark, out);
    if (rc < 0) {
        char q[64];
        s_quote (q, sizeof q, p, n);
        return s_reject (row, name, "%s: %s (%s, %d decimal places)", q, recon_money_strerror (rc),
                         currency, recon_currency_exponent (currency));
    }
    if (*out == INT64_MIN)
        return s_reject (row, name, "amount out of range");
    if (*out < 0)
        *out = -*out;
    return IMPORT_ROW_OK;
}

/*  Integer minor units, which canonical files carry; never negative.      */
static int
s_amount_minor (import_row_t *row, int c, const char *name, int64_t *out)
{
    size_t n;
    const char *p = s_field (row, c, &n);
    int rc = recon_money_parse (p, n, 0, '.', out);
    char q[64];
    s_quote (q, sizeof q, p, n);
    if (rc < 0)
        return s_reject (row, name, "%s: %s (an integer of minor units)", q,
                         recon_money_strerror (rc));
    if (*out < 0)
        return s_reject (row, name, "%s is negative: amounts are positive, the kind gives the "
                                    "direction", q);
    return IMPORT_ROW_OK;
}

static int
s_time (import_row_t *row, int c, const char *name, int64_t *out)
{
    size_t n;
    const char *p = s_field (row, c, &n);
    if (n == 0)
        return s_reject (row, name, "empty");
    /*  Shopify writes "2026-11-03 14:22:01 +0100": drop that one space.   */
    char buf[48];
    if (n < sizeof buf && n > 6 && p[n - 6] == ' ' && (p[n - 5] == '+' || p[n - 5] == '-')) {
        memcpy (buf, p, n - 6);
        memcpy (buf + n - 6, p + n - 5, 5);
        p = buf;
        n -= 1;
    }
    if (recon_timestamp_parse (p, n, out) < 0) {
        char q[64];
        s_quote (q, sizeof q, p, n);
        return s_reject (row, name, "%s is not an ISO 8601 date-time", q);
    }
    return IMPORT_ROW_OK;
}

#define TRY(expr)                                                                                 \
    do {                                                                                          \
        int rc_ = (expr);                                                                         \
        if (rc_ != IMPORT_ROW_OK)                                                                 \
            return rc_;                                                                           \
    } while (0)

/*  One staging line of a processor event.                                  */
static void
s_emit_event (import_row_t *row, recon_copybuf_t *out, const char *txn, size_t txn_len,
              const char *order, size_t order_len, const char *ref, size_t ref_len,
              const char *kind, const char *status, int64_t amount, const char *currency,
              int64_t at)
{
    recon_copybuf_cstr (out, row->processor);
    recon_copybuf_tab (out);
    recon_copybuf_text (out, txn, txn_len);
    recon_copybuf_tab (out);
    recon_copybuf_text (out, order, order_len);
    recon_copybuf_tab (out);
    if (ref_len)
        recon_copybuf_text (out, ref, ref_len);
    else
        recon_copybuf_null (out);
    recon_copybuf_tab (out);
    recon_copybuf_cstr (out, kind);
    recon_copybuf_tab (out);
    recon_copybuf_cstr (out, status);
    recon_copybuf_tab (out);
    recon_copybuf_int (out, amount);
    recon_copybuf_tab (out);
    recon_copybuf_cstr (out, currency);
    recon_copybuf_tab (out);
    recon_copybuf_time (out, at);
    recon_copybuf_tab (out);
}

/*  Looks a name of N bytes up in a NULL-terminated table of pairs.         */
static const char *
s_map_name (const char *const (*table)[2], const char *name, size_t n, int nocase)
{
    for (size_t i = 0; table[i][0]; i++)
        if (strlen (table[i][0]) == n
            && (nocase ? strncasecmp (table[i][0], name, n) : strncmp (table[i][0], name, n)) == 0)
            return table[i][1];
    return NULL;
}

/* ---- canonical processor ------------------------------------------------ */

enum { CP_TXN, CP_ORDER, CP_REF, CP_KIND, CP_STATUS, CP_AMOUNT, CP_CURRENCY, CP_AT };

static int
s_map_canonical_processor (import_row_t *row, recon_copybuf_t *out)
{
    const char *txn, *order, *kind, *status;
    size_t txn_len, order_len, kind_len, status_len, ref_len;
    char currency[4], name[40];
    int64_t amount, at;
    kind = s_field (row, CP_KIND, &kind_len);
    snprintf (name, sizeof name, "%.*s", (int) (kind_len < 39 ? kind_len : 39), kind);
    if (recon_event_kind_from_name (name) < 0) {
        char q[64];
        s_quote (q, sizeof q, kind, kind_len);
        return s_reject (row, "kind", "%s is not one of charge, refund, dispute, "
                         "dispute_reversal, charge_failure, refund_failure, "
                         "partial_capture_reversal", q);
    }
    status = s_field (row, CP_STATUS, &status_len);
    char st[16];
    snprintf (st, sizeof st, "%.*s", (int) (status_len < 15 ? status_len : 15), status);
    if (recon_event_status_from_name (st) < 0)
        return s_reject (row, "status", "must be succeeded, pending or failed");
    TRY (s_text (row, CP_TXN, "txn_id", &txn, &txn_len));
    TRY (s_text (row, CP_ORDER, "order_id", &order, &order_len));
    const char *ref = s_field (row, CP_REF, &ref_len);
    if (ref_len && !s_clean_text (ref, ref_len))
        return s_reject (row, "payment_ref", "not valid UTF-8 text");
    TRY (s_currency (row, CP_CURRENCY, "currency", currency));
    TRY (s_amount_minor (row, CP_AMOUNT, "amount_minor", &amount));
    TRY (s_time (row, CP_AT, "occurred_at", &at));
    s_emit_event (row, out, txn, txn_len, order, order_len, ref, ref_len, name, st, amount,
                  currency, at);
    return IMPORT_ROW_OK;
}

/* ---- Stripe ---------------------------------------------------------------- */

enum { ST_TXN, ST_CREATED, ST_CATEGORY, ST_CF_AMOUNT, ST_CF_CURRENCY, ST_GROSS, ST_CURRENCY,
       ST_CHARGE, ST_INTENT, ST_SOURCE, ST_ORDER };

static const char *const s_stripe_categories[][2] = {
    {"charge", "charge"},
    {"refund", "refund"},
    {"dispute", "dispute"},
    {"dispute_reversal", "dispute_reversal"},
    {"charge_failure", "charge_failure"},
    {"refund_failure", "refund_failure"},
    {"partial_capture_reversal", "partial_capture_reversal"},
    {NULL, NULL},
};

static int
s_map_stripe (import_row_t *row, recon_copybuf_t *out)
{
    size_t cat_len, txn_len, order_len, ref_len;
    const char *cat = s_field (row, ST_CATEGORY, &cat_len);
    const char *kind = s_map_name (s_stripe_categories, cat, cat_len, 0);
    if (!kind)
        return s_skip (row, cat, cat_len);
    const char *txn, *order;
    TRY (s_text (row, ST_TXN, "balance_transaction_id", &txn, &txn_len));
    order = s_field (row, ST_ORDER, &order_len);
    if (order_len == 0)
        return s_reject (row, "payment_metadata[order_id]",
                         "order money (%s) with no order id: add order_id to the payment's "
                         "metadata or the column to the report", kind);
    TRY (s_text (row, ST_ORDER, "payment_metadata[order_id]", &order, &order_len));
    /*  The presentment amount is what the customer was charged; gross is
        in the settlement currency and only a fallback.                   */
    char currency[4];
    int64_t amount, at;
    size_t cf_len;
    s_field (row, ST_CF_AMOUNT, &cf_len);
    if (cf_len) {
        TRY (s_currency (row, ST_CF_CURRENCY, "customer_facing_currency", currency));
        TRY (s_amount_decimal (row, ST_CF_AMOUNT, "customer_facing_amount", currency, &amount));
    } else {
        TRY (s_currency (row, ST_CURRENCY, "currency", currency));
        TRY (s_amount_decimal (row, ST_GROSS, "gross", currency, &amount));
    }
    TRY (s_time (row, ST_CREATED, "created_utc", &at));
    const char *ref = s_field (row, ST_CHARGE, &ref_len);
    if (!ref_len)
        ref = s_field (row, ST_INTENT, &ref_len);
    if (!ref_len)
        ref = s_field (row, ST_SOURCE, &ref_len);
    if (ref_len && !s_clean_text (ref, ref_len))
        ref_len = 0;
    s_emit_event (row, out, txn, txn_len, order, order_len, ref, ref_len, kind, "succeeded",
                  amount, currency, at);
    return IMPORT_ROW_OK;
}

/* ---- Adyen ----------------------------------------------------------------- */

enum { AD_ORDER, AD_PSP, AD_MOD, AD_TYPE, AD_CREATED, AD_TZ, AD_CURRENCY, AD_DEBIT, AD_CREDIT };

static const char *const s_adyen_types[][2] = {
    {"Settled", "charge"},
    {"SettledBulk", "charge"},
    {"SettledExternallyWithInfo", "charge"},
    {"Refunded", "refund"},
    {"RefundedBulk", "refund"},
    {"RefundedExternallyWithInfo", "refund"},
    {"Chargeback", "dispute"},
    {"SecondChargeback", "dispute"},
    {"ChargebackExternallyWithInfo", "dispute"},
    {"ChargebackReversed", "dispute_reversal"},
    {"ChargebackReversedExternallyWithInfo", "dispute_reversal"},
    {"RefundedReversed", "refund_failure"},
    {NULL, NULL},
};

/*  Offsets of the zone names Adyen accounts use. Ambiguous abbreviations
    (IST, CST in Asia) are absent on purpose: a wrong guess would move a
    payment by hours, so those rows are rejected for a person to look at.  */
static const struct {
    const char *name;
    int minutes;
} s_zones[] = {
    {"UTC", 0},    {"GMT", 0},     {"Z", 0},       {"WET", 0},     {"WEST", 60},
    {"BST", 60},   {"CET", 60},    {"CEST", 120},  {"MET", 60},    {"MEST", 120},
    {"EET", 120},  {"EEST", 180},  {"MSK", 180},   {"GST", 240},   {"SGT", 480},
    {"HKT", 480},  {"AWST", 480},  {"JST", 540},   {"KST", 540},   {"AEST", 600},
    {"AEDT", 660}, {"NZST", 720},  {"NZDT", 780},  {"EST", -300},  {"EDT", -240},
    {"CDT", -300}, {"MST", -420},  {"MDT", -360},  {"PST", -480},  {"PDT", -420},
    {"AKST", -540}, {"AKDT", -480}, {"HST", -600}, {"BRT", -180},  {"ART", -180},
};

static int
s_zone_offset (const char *p, size_t n, int64_t *offset_us)
{
    if (n == 0) {
        *offset_us = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof s_zones / sizeof s_zones[0]; i++)
        if (strlen (s_zones[i].name) == n && strncasecmp (s_zones[i].name, p, n) == 0) {
            *offset_us = (int64_t) s_zones[i].minutes * 60 * RECON_USEC_PER_SEC;
            return 0;
        }
    /*  Numeric forms: "+01:00", "UTC+1", "GMT-05:00".                     */
    if (n > 3 && (strncasecmp (p, "UTC", 3) == 0 || strncasecmp (p, "GMT", 3) == 0)) {
        p += 3;
        n -= 3;
    }
    if (n >= 2 && (p[0] == '+' || p[0] == '-')) {
        char buf[32] = "1970-01-01T00:00:00";
        size_t base = strlen (buf);
        if (n == 2 || n == 3) { /* "+1", "+01" */
            int h = atoi (p + 1);
            if (h > 23 || !isdigit ((unsigned char) p[1]) || (n == 3 && !isdigit ((unsigned char) p[2])))
                return -1;
            *offset_us = (p[0] == '-' ? -1 : 1) * (int64_t) h * RECON_USEC_PER_HOUR;
            return 0;
        }
        if (n < sizeof buf - base) {
            memcpy (buf + base, p, n);
            int64_t t;
            if (recon_timestamp_parse (buf, base + n, &t) == 0) {
                *offset_us = -t;
                return 0;
            }
        }
    }
    return -1;
}

static int
s_map_adyen (import_row_t *row, recon_copybuf_t *out)
{
    size_t type_len, order_len, psp_len, mod_len, tz_len, debit_len, credit_len;
    const char *type = s_field (row, AD_TYPE, &type_len);
    const char *kind = s_map_name (s_adyen_types, type, type_len, 1);
    if (!kind)
        return s_skip (row, type, type_len);
    const char *order, *psp;
    TRY (s_text (row, AD_ORDER, "Merchant Reference", &order, &order_len));
    TRY (s_text (row, AD_PSP, "Psp Reference", &psp, &psp_len));
    const char *mod = s_field (row, AD_MOD, &mod_len);
    if (mod_len && !s_clean_text (mod, mod_len))
        return s_reject (row, "Modification Reference", "not valid UTF-8 text");
    char currency[4];
    TRY (s_currency (row, AD_CURRENCY, "Gross Currency", currency));
    s_field (row, AD_DEBIT, &debit_len);
    s_field (row, AD_CREDIT, &credit_len);
    if ((debit_len > 0) == (credit_len > 0))
        return s_reject (row, debit_len ? "Gross Credit (GC)" : "Gross Debit (GC)",
                         debit_len ? "both Gross Debit and Gross Credit are filled in"
                                   : "neither Gross Debit nor Gross Credit is filled in");
    int64_t amount, at, offset;
    if (debit_len)
        TRY (s_amount_decimal (row, AD_DEBIT, "Gross Debit (GC)", currency, &amount));
    else
        TRY (s_amount_decimal (row, AD_CREDIT, "Gross Credit (GC)", currency, &amount));
    TRY (s_time (row, AD_CREATED, "Creation Date", &at));
    const char *tz = s_field (row, AD_TZ, &tz_len);
    if (s_zone_offset (tz, tz_len, &offset) < 0) {
        char q[64];
        s_quote (q, sizeof q, tz, tz_len);
        return s_reject (row, "TimeZone", "%s is not a time zone recon can place unambiguously "
                                          "(use an offset such as +01:00)", q);
    }
    /*  Creation Date is local time in TimeZone.                           */
    at -= offset;
    if (!recon_timestamp_in_range (at))
        return s_reject (row, "Creation Date", "out of range in time zone %.*s (years 0001 to "
                         "9999)", (int) (tz_len < 40 ? tz_len : 40), tz);
    /*  The modification reference names this movement; a report without
        it falls back to the payment reference plus the type.             */
    char txn[256];
    size_t txn_len;
    if (mod_len)
        txn_len = (size_t) snprintf (txn, sizeof txn, "%.*s", (int) mod_len, mod);
    else
        txn_len = (size_t) snprintf (txn, sizeof txn, "%.*s:%.*s", (int) psp_len, psp,
                                     (int) type_len, type);
    if (txn_len >= sizeof txn)
        return s_reject (row, "Modification Reference", "longer than 200 bytes");
    s_emit_event (row, out, txn, txn_len, order, order_len, psp, psp_len, kind, "succeeded",
                  amount, currency, at);
    return IMPORT_ROW_OK;
}

/* ---- ledger ------------------------------------------------------------------ */

enum { LG_ENTRY, LG_ORDER, LG_KIND, LG_AMOUNT, LG_CURRENCY, LG_AT };

static int
s_map_canonical_ledger (import_row_t *row, recon_copybuf_t *out)
{
    const char *entry, *order;
    size_t entry_len, order_len, kind_len;
    char currency[4];
    int64_t amount, at;
    TRY (s_text (row, LG_ENTRY, "entry_id", &entry, &entry_len));
    TRY (s_text (row, LG_ORDER, "order_id", &order, &order_len));
    const char *kind = s_field (row, LG_KIND, &kind_len);
    if (!(kind_len == 6 && (memcmp (kind, "charge", 6) == 0 || memcmp (kind, "refund", 6) == 0)))
        return s_reject (row, "kind", "must be charge or refund");
    TRY (s_currency (row, LG_CURRENCY, "currency", currency));
    TRY (s_amount_minor (row, LG_AMOUNT, "amount_minor", &amount));
    if (amount == 0)
        return s_reject (row, "amount_minor", "zero: a journal entry moves money");
    TRY (s_time (row, LG_AT, "recorded_at", &at));
    recon_copybuf_text (out, entry, entry_len);
    recon_copybuf_tab (out);
    recon_copybuf_text (out, order, order_len);
    recon_copybuf_tab (out);
    recon_copybuf_text (out, kind, kind_len);
    recon_copybuf_tab (out);
    recon_copybuf_int (out, amount);
    recon_copybuf_tab (out);
    recon_copybuf_cstr (out, currency);
    recon_copybuf_tab (out);
    recon_copybuf_time (out, at);
    recon_copybuf_tab (out);
    return IMPORT_ROW_OK;
}

/* ---- fulfillment ------------------------------------------------------------- */

static void
s_emit_fulfillment (recon_copybuf_t *out, const char *order, size_t order_len, const char *status,
                    int64_t updated, int has_shipped, int64_t shipped)
{
    recon_copybuf_text (out, order, order_len);
    recon_copybuf_tab (out);
    recon_copybuf_cstr (out, status);
    recon_copybuf_tab (out);
    recon_copybuf_time (out, updated);
    recon_copybuf_tab (out);
    if (has_shipped)
        recon_copybuf_time (out, shipped);
    else
        recon_copybuf_null (out);
    recon_copybuf_tab (out);
}

enum { FC_ORDER, FC_STATUS, FC_UPDATED, FC_SHIPPED };

static int
s_map_canonical_fulfillment (import_row_t *row, recon_copybuf_t *out)
{
    const char *order;
    size_t order_len, status_len, shipped_len;
    TRY (s_text (row, FC_ORDER, "order_id", &order, &order_len));
    const char *status = s_field (row, FC_STATUS, &status_len);
    char st[16];
    snprintf (st, sizeof st, "%.*s", (int) (status_len < 15 ? status_len : 15), status);
    if (recon_fulfillment_status_from_name (st) < 0)
        return s_reject (row, "status", "must be pending, in_progress, on_hold, shipped, "
                                        "delivered, cancelled or returned");
    int64_t updated, shipped = 0;
    TRY (s_time (row, FC_UPDATED, "updated_at", &updated));
    s_field (row, FC_SHIPPED, &shipped_len);
    if (shipped_len)
        TRY (s_time (row, FC_SHIPPED, "shipped_at", &shipped));
    s_emit_fulfillment (out, order, order_len, st, updated, shipped_len > 0, shipped);
    return IMPORT_ROW_OK;
}

enum { SH_NAME, SH_STATUS, SH_CREATED, SH_FULFILLED, SH_CANCELLED };

static const char *const s_shopify_statuses[][2] = {
    {"fulfilled", "shipped"},   {"shipped", "shipped"},      {"partial", "in_progress"},
    {"unfulfilled", "pending"}, {"unshipped", "pending"},    {"pending", "pending"},
    {"restocked", "returned"},  {"scheduled", "on_hold"},    {"on_hold", "on_hold"},
    {NULL, NULL},
};

static int
s_map_shopify (import_row_t *row, recon_copybuf_t *out)
{
    size_t created_len, status_len, fulfilled_len, cancelled_len, order_len;
    /*  The export repeats Name on each line item of an order but fills the
        order's own columns only on its first row.                        */
    s_field (row, SH_CREATED, &created_len);
    if (created_len == 0)
        return s_skip (row, "line_item", 9);
    const char *order;
    TRY (s_text (row, SH_NAME, "Name", &order, &order_len));
    int64_t created, fulfilled = 0, cancelled = 0;
    TRY (s_time (row, SH_CREATED, "Created at", &created));
    s_field (row, SH_FULFILLED, &fulfilled_len);
    if (fulfilled_len)
        TRY (s_time (row, SH_FULFILLED, "Fulfilled at", &fulfilled));
    s_field (row, SH_CANCELLED, &cancelled_len);
    if (cancelled_len)
        TRY (s_time (row, SH_CANCELLED, "Cancelled at", &cancelled));
    const char *raw = s_field (row, SH_STATUS, &status_len);
    const char *status = status_len ? s_map_name (s_shopify_statuses, raw, status_len, 1)
                                    : "pending";
    if (!status) {
        char q[64];
        s_quote (q, sizeof q, raw, status_len);
        return s_reject (row, "Fulfillment Status", "%s is not a Shopify fulfillment status", q);
    }
    int64_t updated = created;
    if (fulfilled_len && fulfilled > updated)
        updated = fulfilled;
    if (cancelled_len) {
        status = "cancelled";
        if (cancelled > updated)
            updated = cancelled;
    }
    s_emit_fulfillment (out, order, order_len, status, updated, fulfilled_len > 0, fulfilled);
    return IMPORT_ROW_OK;
}

/* ---- merging the staging table --------------------------------------------- */

static int64_t
s_count (PGresult *res)
{
    const char *n = PQcmdTuples (res);
    return n && *n ? atoll (n) : 0;
}

/*  Runs SQL with $1 = import id and $2 = file; returns affected rows or -1. */
static int64_t
s_run (recon_db_t *db, const char *sql, const char *import_id, const char *file,
       const char *context)
{
    const char *params[] = {import_id, file};
    PGresult *res = PQexecParams (recon_db_conn (db), sql, 2, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (res);
    int64_t n = -1;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        n = s_count (res);
    else
        recon_db_fail (db, res, context);
    PQclear (res);
    return n;
}

/*  Later lines of the file repeating a key: identical ones are duplicates,
    different ones are rejected. Either way only the first line remains.   */
static int64_t
s_dedupe_in (recon_db_t *db, const char *table, const char *id, const char *file,
             const char *key, const char *values, const char *what, recon_import_result_t *res)
{
    char sql[2048];
    snprintf (sql, sizeof sql,
              "WITH first AS (SELECT %s AS k, min(source_line) AS line FROM %s "
              "               GROUP BY 1 HAVING count(*) > 1),"
              " later AS (SELECT s.source_line, s.%s AS key, ROW(%s) IS DISTINCT FROM "
              "             (SELECT ROW(%s) FROM %s f "
              "               WHERE f.source_line = first.line) "
              "             AS differs, concat_ws(',', s.%s, %s) AS raw "
              "             FROM %s s JOIN first ON s.%s = first.k "
              "            WHERE s.source_line > first.line),"
              /*  The reject keeps the line's facts as read, for review.  */
              " rej AS (INSERT INTO recon.import_rejects (import_id, file_name, line, field, "
              "         reason, raw) SELECT $1::bigint, $2, source_line, '%s', "
              "         format('%s %%s appears earlier in this file with different values', "
              "                key), raw "
              "         FROM later WHERE differs RETURNING 1),"
              " del AS (DELETE FROM %s s USING later "
              "         WHERE s.source_line = later.source_line RETURNING later.differs)"
              " SELECT (SELECT count(*) FROM rej), (SELECT count(*) FROM del WHERE NOT differs)",
              key, table, key, values, values, table, key, values, table, key, key, what,
              table);
    const char *params[] = {id, file};
    PGresult *r = PQexecParams (recon_db_conn (db), sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        recon_db_fail (db, r, "removing repeated lines");
        PQclear (r);
        return -1;
    }
    /*  Identical repeats count as duplicates: the engine derives those
        from what is left over.                                            */
    int64_t rejected = atoll (PQgetvalue (r, 0, 0)), identical = atoll (PQgetvalue (r, 0, 1));
    res->rejected += rejected;
    PQclear (r);
    return rejected + identical;
}

/*  Later lines of the file repeating a key, in the staging table.         */
static int
s_dedupe_file (recon_db_t *db, const char *id, const char *file, const char *key,
               const char *values, const char *what, recon_import_result_t *res)
{
    return s_dedupe_in (db, "recon_import_staging", id, file, key, values, what, res) < 0 ? -1 : 0;
}

/*  What makes two lines of one processor file the same transaction.      */
#define S_PROCESSOR_FACTS "order_id, kind, status, amount_minor, currency, occurred_at"

static int
s_finalize_processor (recon_db_t *db, const char *id, const char *file,
                      recon_import_result_t *res)
{
    if (s_dedupe_file (db, id, file, "txn_id", S_PROCESSOR_FACTS, "transaction", res) < 0)
        return -1;
    /*  Another import of the same processor waits here (see below).     */
    if (recon_db_exec (db, "LOCK TABLE recon.processor_events IN SHARE ROW EXCLUSIVE MODE") < 0)
        return -1;
    /*  A pending event that has since settled or failed moves on.         */
    int64_t updated = s_run (db,
        "UPDATE recon.processor_events p SET status = s.status, occurred_at = s.occurred_at, "
        "       import_id = $1::bigint, source_line = s.source_line "
        "  FROM recon_import_staging s "
        " WHERE p.processor = s.processor AND p.txn_id = s.txn_id AND p.status = 'pending' "
        "   AND s.status <> 'pending' AND p.order_id = s.order_id AND p.kind = s.kind "
        "   AND p.amount_minor = s.amount_minor AND p.currency = s.currency "
        "   AND $2::text IS NOT NULL", id, file, "updating pending events");
    /*  Every transaction already stored leaves the staging table: with
        other facts it is a reject (a person must look), otherwise a
        duplicate, or the pending event just moved on above. What stays
        is new, so it is stored by a plain INSERT: ON CONFLICT DO NOTHING
        cost twice as much per row (a speculative insertion each). The
        lock keeps that exact: another import waits for this one to
        commit, readers (the workers) do not.                             */
    int64_t conflicts = s_run (db,
        "WITH known AS (DELETE FROM recon_import_staging s USING recon.processor_events p "
        "                WHERE p.processor = s.processor AND p.txn_id = s.txn_id "
        "                  AND $2::text IS NOT NULL "
        "            RETURNING s.*, p.import_id AS p_import, p.source_line AS p_line, "
        "                      p.kind AS p_kind, p.status AS p_status, "
        "                      p.amount_minor AS p_amount, p.currency AS p_currency, "
        "                      p.order_id AS p_order, "
        "                      (p.order_id, p.kind, p.amount_minor, p.currency, p.status, "
        "                       p.occurred_at) IS DISTINCT FROM (s.order_id, s.kind, "
        "                       s.amount_minor, s.currency, s.status, s.occurred_at) "
        "                      AND p.import_id IS DISTINCT FROM $1::bigint AS differs) "
        "INSERT INTO recon.import_rejects (import_id, file_name, line, field, reason, raw) "
        "SELECT $1::bigint, $2, source_line, 'txn_id', "
        "       format('transaction %s was already imported (import %s, line %s) as %s %s %s %s "
        "               for order %s', txn_id, p_import, p_line, p_kind, p_status, "
        "               p_amount, p_currency, p_order), "
        "       format('%s,%s,%s,%s,%s,%s,%s,%s', txn_id, order_id, payment_ref, kind, "
        "              status, amount_minor, currency, occurred_at) "
        "  FROM known WHERE differs",
        id, file, "checking conflicts");
    int64_t imported = conflicts < 0 ? -1 : s_run (db,
        "INSERT INTO recon.processor_events (processor, txn_id, order_id, payment_ref, kind, "
        "       status, amount_minor, currency, occurred_at, import_id, source_line) "
        "SELECT processor, txn_id, order_id, payment_ref, kind, status, amount_minor, currency, "
        "       occurred_at, $1::bigint, source_line FROM recon_import_staging "
        "    WHERE $2::text IS NOT NULL "
        /*  In time order, whatever order the file had: the table's pages
            then follow occurred_at, which is what its BRIN index needs to
            find a night's events without reading the rest.               */
        "    ORDER BY occurred_at", id, file, "storing events");
    if (updated < 0 || conflicts < 0 || imported < 0)
        return -1;
    res->updated += updated;
    res->rejected += conflicts;
    res->imported += imported;
    return 0;
}

/*  A first load's repeated lines, removed from the table itself: it held
    nothing before this import (common/import.c, first load).           */
static int64_t
s_bulk_dedupe_processor (recon_db_t *db, const char *id, const char *file,
                         recon_import_result_t *res)
{
    return s_dedupe_in (db, "recon.processor_events", id, file, "txn_id", S_PROCESSOR_FACTS,
                        "transaction", res);
}

static const import_bulk_t s_processor_bulk = {
    "recon.processor_events",
    "COPY recon.processor_events (processor, txn_id, order_id, payment_ref, kind, status, "
    "amount_minor, currency, occurred_at, source_line, import_id) FROM STDIN",
    s_bulk_dedupe_processor};

static int
s_finalize_ledger (recon_db_t *db, const char *id, const char *file, recon_import_result_t *res)
{
    if (s_dedupe_file (db, id, file, "entry_id",
                       "order_id, kind, amount_minor, currency, recorded_at", "entry", res) < 0)
        return -1;
    int64_t conflicts = s_run (db,
        "INSERT INTO recon.import_rejects (import_id, file_name, line, field, reason, raw) "
        "SELECT $1::bigint, $2, s.source_line, 'entry_id', "
        "       format('entry %s is already booked as %s %s %s for order %s', s.entry_id, "
        "              e.kind, e.amount_minor, e.currency, e.order_id), "
        "       format('%s,%s,%s,%s,%s,%s', s.entry_id, s.order_id, s.kind, s.amount_minor, "
        "              s.currency, s.recorded_at) "
        "  FROM recon_import_staging s JOIN ledger.journal_entries j USING (entry_id) "
        " CROSS JOIN LATERAL (SELECT j.order_id, j.kind, sum(p.debit_minor) AS amount_minor, "
        "                            j.currency, j.recorded_at FROM ledger.postings p "
        "                      WHERE p.entry_id = j.entry_id) e "
        " WHERE (e.order_id, e.kind, e.amount_minor, e.currency, e.recorded_at) IS DISTINCT FROM "
        "       (s.order_id, s.kind, s.amount_minor, s.currency, s.recorded_at)",
        id, file, "checking conflicts");
    /*  Both postings of every new entry in one statement: the balance
        check runs per statement.                                         */
    int64_t imported = s_run (db,
        "WITH new AS (INSERT INTO ledger.journal_entries (entry_id, order_id, kind, currency, "
        "                    recorded_at, memo) "
        "             SELECT entry_id, order_id, kind, currency, recorded_at, "
        "                    'recon import ' || $1 || ' ' || $2 FROM recon_import_staging "
        "             ON CONFLICT (entry_id) DO NOTHING RETURNING entry_id, kind) "
        "INSERT INTO ledger.postings (entry_id, account_code, debit_minor, credit_minor) "
        "SELECT n.entry_id, a.account, CASE WHEN a.debit THEN s.amount_minor ELSE 0 END, "
        "       CASE WHEN a.debit THEN 0 ELSE s.amount_minor END "
        "  FROM new n JOIN recon_import_staging s USING (entry_id) "
        " CROSS JOIN LATERAL (VALUES "
        "   (CASE n.kind WHEN 'charge' THEN '1100' ELSE '4900' END, true), "
        "   (CASE n.kind WHEN 'charge' THEN '4000' ELSE '1100' END, false)) a(account, debit)",
        id, file, "booking entries");
    if (conflicts < 0 || imported < 0)
        return -1;
    res->rejected += conflicts;
    res->imported += imported / 2; /* two postings per entry */
    return 0;
}

static int
s_finalize_fulfillment (recon_db_t *db, const char *id, const char *file,
                        recon_import_result_t *res)
{
    /*  Several rows for one order are its history: the newest wins, here
        and against what is stored.                                       */
    const char *params[] = {id, file};
    PGresult *r = PQexecParams (recon_db_conn (db),
        "WITH latest AS (SELECT DISTINCT ON (order_id) order_id, status, updated_at, shipped_at "
        "                  FROM recon_import_staging WHERE $1::text IS NOT NULL "
        "                   AND $2::text IS NOT NULL "
        "                 ORDER BY order_id, updated_at DESC, source_line DESC), "
        " up AS (INSERT INTO fulfillment.orders AS o (order_id, status, updated_at, shipped_at) "
        "        SELECT * FROM latest "
        "        ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, "
        "           updated_at = EXCLUDED.updated_at, shipped_at = EXCLUDED.shipped_at "
        "         WHERE EXCLUDED.updated_at > o.updated_at "
        "        RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        recon_db_fail (db, r, "storing fulfillment");
        PQclear (r);
        return -1;
    }
    res->imported += atoll (PQgetvalue (r, 0, 0));
    res->updated += atoll (PQgetvalue (r, 0, 1));
    PQclear (r);
    return 0;
}

/* ---- the table of formats ----------------------------------------------------- */

#define PROCESSOR_STAGING                                                                         \
    "CREATE TEMP TABLE recon_import_staging (processor text, txn_id text, order_id text, "        \
    "payment_ref text, kind text, status text, amount_minor bigint, currency text, "              \
    "occurred_at timestamptz, source_line bigint) ON COMMIT DROP"

#define FULFILLMENT_STAGING                                                                       \
    "CREATE TEMP TABLE recon_import_staging (order_id text, status text, "                        \
    "updated_at timestamptz, shipped_at timestamptz, source_line bigint) ON COMMIT DROP"

static const import_format_t s_formats[] = {
    {RECON_IMPORT_PROCESSOR, "canonical", 0,
     {{"txn_id", 1}, {"order_id", 1}, {"payment_ref", 0}, {"kind", 1}, {"status", 1},
      {"amount_minor", 1}, {"currency", 1}, {"occurred_at", 1}, {NULL, 0}},
     s_map_canonical_processor, PROCESSOR_STAGING, s_finalize_processor, &s_processor_bulk},
    {RECON_IMPORT_PROCESSOR, "stripe", 0,
     {{"balance_transaction_id", 1}, {"created_utc", 1}, {"reporting_category", 1},
      {"customer_facing_amount", 0}, {"customer_facing_currency", 0}, {"gross", 1},
      {"currency", 1}, {"charge_id", 0}, {"payment_intent_id", 0}, {"source_id", 0},
      {"payment_metadata[order_id]", 0}, {NULL, 0}},
     s_map_stripe, PROCESSOR_STAGING, s_finalize_processor, &s_processor_bulk},
    {RECON_IMPORT_PROCESSOR, "adyen", 1,
     {{"Merchant Reference", 1}, {"Psp Reference", 1}, {"Modification Reference", 0},
      {"Type", 1}, {"Creation Date", 1}, {"TimeZone", 0}, {"Gross Currency", 1},
      {"Gross Debit (GC)", 1}, {"Gross Credit (GC)", 1}, {NULL, 0}},
     s_map_adyen, PROCESSOR_STAGING, s_finalize_processor, &s_processor_bulk},
    {RECON_IMPORT_LEDGER, "canonical", 0,
     {{"entry_id", 1}, {"order_id", 1}, {"kind", 1}, {"amount_minor", 1}, {"currency", 1},
      {"recorded_at", 1}, {NULL, 0}},
     s_map_canonical_ledger,
     "CREATE TEMP TABLE recon_import_staging (entry_id text, order_id text, kind text, "
     "amount_minor bigint, currency text, recorded_at timestamptz, source_line bigint) "
     "ON COMMIT DROP",
     s_finalize_ledger, NULL},
    {RECON_IMPORT_FULFILLMENT, "canonical", 0,
     {{"order_id", 1}, {"status", 1}, {"updated_at", 1}, {"shipped_at", 0}, {NULL, 0}},
     s_map_canonical_fulfillment, FULFILLMENT_STAGING, s_finalize_fulfillment, NULL},
    {RECON_IMPORT_FULFILLMENT, "shopify", 1,
     {{"Name", 1}, {"Fulfillment Status", 1}, {"Created at", 1}, {"Fulfilled at", 0},
      {"Cancelled at", 0}, {NULL, 0}},
     s_map_shopify, FULFILLMENT_STAGING, s_finalize_fulfillment, NULL},
};

const import_format_t *
import_format_find (recon_import_source_t source, const char *name)
{
    for (size_t i = 0; i < sizeof s_formats / sizeof s_formats[0]; i++)
        if (s_formats[i].source == source && name && strcmp (s_formats[i].format, name) == 0)
            return &s_formats[i];
    return NULL;
}

const char *
import_resolve_columns (const import_format_t *fmt, const recon_csv_t *csv,
                        int cols[IMPORT_MAX_COLUMNS])
{
    const char *missing = NULL;
    for (int c = 0; c < IMPORT_MAX_COLUMNS; c++) {
        const char *name = fmt->columns[c].name;
        if (!name) {
            for (; c < IMPORT_MAX_COLUMNS; c++)
                cols[c] = -1;
            break;
        }
        cols[c] = fmt->case_insensitive_header ? recon_csv_column_ci (csv, name)
                                               : recon_csv_column (csv, name);
        if (cols[c] < 0 && fmt->columns[c].required && !missing)
            missing = name;
    }
    return missing;
}

int
import_format_nfields (const import_format_t *fmt)
{
    return fmt->source == RECON_IMPORT_PROCESSOR ? 9 : fmt->source == RECON_IMPORT_LEDGER ? 6 : 4;
}
