/*  gen.c — recon-gen: writes a deterministic reconciliation test data set.

    Options, the CSV writers (canonical, Stripe, Adyen, ledger, fulfillment,
    truth) and meta.json. The orders themselves come from scenario.c.

    Design decision: every file is streamed in order-index order through
    its own large buffer, and every row is derived from (settings, index)
    alone, so a run needs constant memory, a million orders take seconds,
    and the same arguments always give byte-identical files. Cosmetic
    detail of the processor reports (customers, fees, rows that are not an
    order's) draws from its own random stream and cannot change the data. */
#include "scenario.h"

#include "recon/money.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define S_SEC  RECON_USEC_PER_SEC
#define S_HOUR RECON_USEC_PER_HOUR
#define S_DAY  RECON_USEC_PER_DAY

/*  gen_rng_init stream for cosmetic detail (0 and 1 are scenario.c's).   */
#define S_STREAM_COSMETIC 2

#define S_MAX_ORDERS     UINT64_C (1000000000)
#define S_BUF_SIZE       ((size_t) 1 << 20)
/*  About one report row in 40 is not an order's: after each order row,
    one more with probability 1/39.                                         */
#define S_EXTRA_ONE_IN   39

/* ---- options ------------------------------------------------------------- */

typedef struct {
    uint64_t orders;
    uint64_t seed;
    const char *out;
    int64_t from;
    int64_t days;
    int64_t as_of;
    bool have_orders, have_seed, have_as_of;
} s_options_t;

static void
s_usage (FILE *fp)
{
    fputs ("usage: recon-gen --orders N --seed S --out DIR [--from DATE] [--days D]\n"
           "                 [--as-of TIME] [--list-scenarios] [--help]\n"
           "\n"
           "Writes a deterministic reconciliation test data set into DIR (created if\n"
           "missing): processor.csv, stripe.csv, adyen.csv, processor_other.csv,\n"
           "ledger.csv, fulfillment.csv, truth.csv and meta.json. The same arguments\n"
           "always give byte-identical files.\n"
           "\n"
           "  --orders N        number of orders (0 .. 1000000000)\n"
           "  --seed S          random seed (0 .. 9223372036854775807)\n"
           "  --out DIR         output directory\n"
           "  --from DATE       window start, ISO 8601 UTC (default 2026-11-01)\n"
           "  --days D          window length in days (default 7)\n"
           "  --as-of TIME      the classifier's \"now\" (default: end of the window);\n"
           "                    at most the window end, at least 96h after --from\n"
           "  --list-scenarios  print the scenario table and exit\n"
           "  --help            print this help and exit\n"
           "\n"
           "See docs/GENERATOR.md for the formats and the scenario table.\n", fp);
}

/*  Strict unsigned decimal: digits only, no sign, no overflow, <= MAX.    */
static int
s_parse_u64 (const char *text, uint64_t max, uint64_t *out)
{
    if (!text || !*text)
        return -1;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        uint64_t d = (uint64_t) (*p - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int
s_bad (const char *what, const char *value)
{
    fprintf (stderr, "recon-gen: %s: '%s'\nTry 'recon-gen --help'.\n", what, value);
    return 2;
}

static void
s_list_scenarios (void)
{
    unsigned total = 0;
    for (size_t i = 0; i < gen_scenario_count (); i++)
        total += gen_scenario_get (i)->weight;
    printf ("| # | scenario | weight | expected | what |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < gen_scenario_count (); i++) {
        const gen_scenario_t *sc = gen_scenario_get (i);
        printf ("| %zu | `%s` | %u.%02u%% | `%s` | %s%s |\n", i, sc->name, sc->weight / 100,
                sc->weight % 100, sc->expected, sc->summary,
                sc->no_adyen ? " (stripe/other only)" : "");
    }
    printf ("\nweights are per 10000 (total %u); order index i < %zu is always scenario i.\n",
            total, gen_scenario_count ());
}

/*  0: run; 1: done (help or list printed); 2: bad arguments.             */
static int
s_parse_args (int argc, char **argv, s_options_t *o)
{
    enum { O_ORDERS = 256, O_SEED, O_OUT, O_FROM, O_DAYS, O_AS_OF, O_LIST, O_HELP };
    static const struct option longopts[] = {
        {"orders", required_argument, NULL, O_ORDERS},
        {"seed", required_argument, NULL, O_SEED},
        {"out", required_argument, NULL, O_OUT},
        {"from", required_argument, NULL, O_FROM},
        {"days", required_argument, NULL, O_DAYS},
        {"as-of", required_argument, NULL, O_AS_OF},
        {"list-scenarios", no_argument, NULL, O_LIST},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset (o, 0, sizeof *o);
    o->from = recon_days_from_civil (2026, 11, 1) * S_DAY;
    o->days = 7;
    opterr = 0;
    int opt;
    uint64_t u;
    while ((opt = getopt_long (argc, argv, ":", longopts, NULL)) != -1) {
        const char *arg = optarg;
        switch (opt) {
        case O_ORDERS:
            if (s_parse_u64 (arg, S_MAX_ORDERS, &o->orders) < 0)
                return s_bad ("--orders must be a whole number from 0 to 1000000000", arg);
            o->have_orders = true;
            break;
        case O_SEED:
            if (s_parse_u64 (arg, (uint64_t) INT64_MAX, &o->seed) < 0)
                return s_bad ("--seed must be a whole number from 0 to 2^63-1", arg);
            o->have_seed = true;
            break;
        case O_OUT:
            if (!*arg)
                return s_bad ("--out must name a directory", arg);
            o->out = arg;
            break;
        case O_FROM:
            if (recon_timestamp_parse (arg, strlen (arg), &o->from) < 0)
                return s_bad ("--from must be an ISO 8601 date or time", arg);
            break;
        case O_DAYS:
            if (s_parse_u64 (arg, 36600, &u) < 0 || u == 0)
                return s_bad ("--days must be a whole number from 1 to 36600", arg);
            o->days = (int64_t) u;
            break;
        case O_AS_OF:
            if (recon_timestamp_parse (arg, strlen (arg), &o->as_of) < 0)
                return s_bad ("--as-of must be an ISO 8601 time", arg);
            o->have_as_of = true;
            break;
        case O_LIST:
            s_list_scenarios ();
            return 1;
        case O_HELP:
            s_usage (stdout);
            return 1;
        case ':':
            return s_bad ("option needs a value", argv[optind - 1]);
        default:
            return s_bad ("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_bad ("unexpected argument", argv[optind]);
    if (!o->have_orders || !o->have_seed || !o->out) {
        fprintf (stderr, "recon-gen: --orders, --seed and --out are required\n"
                         "Try 'recon-gen --help'.\n");
        return 2;
    }
    return 0;
}

/* ---- buffered output ----------------------------------------------------- */

typedef struct {
    FILE *fp;
    char path[4096];
    char *buf;
    size_t len;
    uint64_t rows;           /* data rows, header excluded               */
    int err;                 /* first errno, 0 when fine                  */
} s_out_t;

static void
s_flush (s_out_t *o)
{
    if (o->len && !o->err && fwrite (o->buf, 1, o->len, o->fp) != o->len)
        o->err = errno ? errno : EIO;
    o->len = 0;
}

static void
s_put (s_out_t *o, const char *s, size_t n)
{
    if (o->len + n > S_BUF_SIZE)
        s_flush (o);
    memcpy (o->buf + o->len, s, n);
    o->len += n;
}

static void
s_puts (s_out_t *o, const char *s)
{
    s_put (o, s, strlen (s));
}

static void
s_putc (s_out_t *o, char ch)
{
    if (o->len + 1 > S_BUF_SIZE)
        s_flush (o);
    o->buf[o->len++] = ch;
}

static void
s_comma (s_out_t *o)
{
    s_putc (o, ',');
}

static void
s_end_row (s_out_t *o)
{
    s_putc (o, '\n');
    o->rows++;
}

static void
s_put_i64 (s_out_t *o, int64_t v)
{
    char buf[24];
    int n = recon_money_format (buf, sizeof buf, v, 0, '.');
    s_put (o, buf, (size_t) n);
}

/*  MINOR as major units with EXPONENT decimals, '.' as decimal mark.     */
static void
s_put_money (s_out_t *o, int64_t minor, int exponent)
{
    char buf[32];
    int n = recon_money_format (buf, sizeof buf, minor, exponent, '.');
    s_put (o, buf, (size_t) n);
}

static void
s_put_iso (s_out_t *o, int64_t t)
{
    char buf[RECON_TIMESTAMP_BUFSIZE];
    int n = recon_timestamp_format (t, buf);
    s_put (o, buf, (size_t) n);
}

/*  "YYYY-MM-DD HH:MM:SS", the form both processor reports use. T is a
    whole second, so the ISO form is exactly that with 'T' and 'Z'.       */
static void
s_put_plain_time (s_out_t *o, int64_t t)
{
    char buf[RECON_TIMESTAMP_BUFSIZE];
    int n = recon_timestamp_format (t, buf);
    buf[10] = ' ';
    s_put (o, buf, (size_t) n - 1);
}

/*  One RFC 4180 field: quoted only when it holds a comma, quote or
    line break, with inner quotes doubled.                                  */
static void
s_put_field (s_out_t *o, const char *s)
{
    if (!strpbrk (s, ",\"\r\n")) {
        s_puts (o, s);
        return;
    }
    s_putc (o, '"');
    for (; *s; s++) {
        if (*s == '"')
            s_putc (o, '"');
        s_putc (o, *s);
    }
    s_putc (o, '"');
}

static int
s_open (s_out_t *o, const char *dir, const char *name, const char *header)
{
    memset (o, 0, sizeof *o);
    snprintf (o->path, sizeof o->path, "%s/%s", dir, name);
    o->buf = malloc (S_BUF_SIZE);
    o->fp = o->buf ? fopen (o->path, "wb") : NULL;
    if (!o->fp) {
        fprintf (stderr, "recon-gen: cannot create %s: %s\n", o->path, strerror (errno));
        return -1;
    }
    s_puts (o, header);
    s_putc (o, '\n');
    return 0;
}

static int
s_close (s_out_t *o)
{
    int rc = 0;
    if (o->fp) {
        s_flush (o);
        if (fclose (o->fp) != 0 && !o->err)
            o->err = errno ? errno : EIO;
        if (o->err) {
            fprintf (stderr, "recon-gen: writing %s: %s\n", o->path, strerror (o->err));
            rc = -1;
        }
    }
    free (o->buf);
    o->fp = NULL;
    o->buf = NULL;
    return rc;
}

/* ---- the files ----------------------------------------------------------- */

enum {
    F_PROCESSOR, F_STRIPE, F_ADYEN, F_OTHER, F_LEDGER, F_FULFILLMENT, F_TRUTH, F_COUNT
};

#define S_CANONICAL_HEADER "txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at"

static const struct {
    const char *name;
    const char *header;
} s_files[F_COUNT] = {
    {"processor.csv", S_CANONICAL_HEADER},
    {"stripe.csv",
     "balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,"
     "gross,fee,net,reporting_category,source_id,description,customer_facing_amount,"
     "customer_facing_currency,automatic_payout_id,customer_id,customer_email,customer_name,"
     "charge_id,payment_intent_id,charge_created_utc,payment_method_type,card_brand,"
     "card_funding,card_country,statement_descriptor,dispute_reason,payment_metadata[order_id]"},
    {"adyen.csv",
     "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,"
     "Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),"
     "Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),"
     "Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,"
     "Modification Merchant Reference,Batch Number"},
    {"processor_other.csv", S_CANONICAL_HEADER},
    {"ledger.csv", "entry_id,order_id,kind,amount_minor,currency,recorded_at"},
    {"fulfillment.csv", "order_id,status,updated_at,shipped_at"},
    {"truth.csv", "order_id,expected"},
};

typedef struct {
    const gen_settings_t *set;
    int64_t hi;                  /* latest time any row may carry         */
    s_out_t out[F_COUNT];
} s_writer_t;

/*  Per-order detail the reports show but the rules never read.           */
typedef struct {
    gen_rng_t rng;
    const gen_order_t *o;
    unsigned customer;           /* index into s_names                    */
    unsigned card;               /* index into s_cards                    */
    const char *country;
    bool bank_debit;             /* paid by ACH / SEPA debit              */
    unsigned extra_slot;         /* next slot for a non-order row id      */
} s_cosmetic_t;

static const char *const s_names[] = {
    "John Smith", "Anna Müller", "Seán O'Brien", "Zoé Dupont", "José García",
    "Yuki Tanaka", "Li Wei", "Ana \"Annie\" Silva", "Smith, Jr., Robert", "Björk Guðmundsdóttir",
    "Fatima Al-Sabah", "Lars Nyström", "Priya Patel", "Jürgen Weiß", "Mary-Kate O'Neil",
};

static const struct {
    const char *stripe_brand, *funding, *adyen_method, *adyen_variant;
} s_cards[] = {
    {"visa", "credit", "visa", "visacredit"},
    {"visa", "debit", "visa", "visadebit"},
    {"mastercard", "credit", "mc", "mccredit"},
    {"mastercard", "debit", "mc", "mcdebit"},
    {"amex", "credit", "amex", "amex"},
};

static const char *const s_countries[] = {"US", "US", "GB", "DE", "FR", "JP", "KW", "CL",
                                          "SE", "BH", "NL", "IE"};

#define S_COUNT(a) (sizeof (a) / sizeof (a)[0])

static void
s_cosmetic_init (s_cosmetic_t *cz, const gen_settings_t *set, const gen_order_t *o)
{
    gen_rng_init (&cz->rng, set->seed, o->index, S_STREAM_COSMETIC);
    cz->o = o;
    cz->customer = (unsigned) gen_rng_below (&cz->rng, S_COUNT (s_names));
    cz->card = (unsigned) gen_rng_below (&cz->rng, S_COUNT (s_cards));
    cz->country = s_countries[gen_rng_below (&cz->rng, S_COUNT (s_countries))];
    cz->bank_debit = gen_scenario_get (o->scenario)->no_adyen;
    cz->extra_slot = 0;
}

static bool
s_cosmetic_chance (s_cosmetic_t *cz, unsigned one_in)
{
    return gen_rng_below (&cz->rng, one_in) == 0;
}

static void
s_id (char *out, const gen_settings_t *set, const char *prefix, gen_alphabet_t alpha,
      size_t nchars, uint64_t index, gen_namespace_t ns, unsigned slot)
{
    gen_id_format (out, GEN_ID_SIZE, prefix, alpha, nchars,
                   gen_id_key (set->seed, index, ns, slot));
}

/*  Money moving to the merchant: charges and won disputes.               */
static bool
s_is_credit (gen_event_kind_t k)
{
    return k == GEN_EV_CHARGE || k == GEN_EV_DISPUTE_REVERSAL;
}

static int64_t
s_clamp_time (const s_writer_t *w, int64_t t)
{
    return t > w->hi ? w->hi : t < w->set->from ? w->set->from : t;
}

/* ---- canonical ----------------------------------------------------------- */

static void
s_write_canonical (s_out_t *out, const gen_order_t *o, const gen_event_t *e)
{
    s_puts (out, e->txn_id);
    s_comma (out);
    s_puts (out, o->order_id);
    s_comma (out);
    s_puts (out, e->payment_ref);
    s_comma (out);
    s_puts (out, gen_event_kind_name (e->kind));
    s_comma (out);
    s_puts (out, gen_status_name (e->status));
    s_comma (out);
    s_put_i64 (out, e->amount_minor);
    s_comma (out);
    s_puts (out, e->currency);
    s_comma (out);
    s_put_iso (out, e->occurred_at);
    s_end_row (out);
}

/* ---- Stripe -------------------------------------------------------------- */

/*  Stripe's processing fee in USD cents for a settled GROSS (cents).     */
static int64_t
s_stripe_fee (gen_event_kind_t kind, int64_t gross, bool bank_debit)
{
    int64_t mag = gross < 0 ? -gross : gross;
    switch (kind) {
    case GEN_EV_CHARGE:
        if (bank_debit)
            return mag * 8 / 1000 < 500 ? mag * 8 / 1000 : 500;
        return (mag * 29 + 500) / 1000 + 30;
    case GEN_EV_DISPUTE:
        return 1500;
    case GEN_EV_DISPUTE_REVERSAL:
        return -1500;
    case GEN_EV_CHARGE_FAILURE:
        return 400;
    case GEN_EV_REFUND:
        break;
    }
    return 0;
}

static const char *
s_stripe_category (gen_event_kind_t k)
{
    /*  Stripe's reporting_category names are the canonical kind names.  */
    return gen_event_kind_name (k);
}

static void
s_stripe_description (s_cosmetic_t *cz, const gen_event_t *e, char *buf, size_t size)
{
    const char *id = cz->o->order_id;
    switch (e->kind) {
    case GEN_EV_CHARGE: {
        unsigned r = (unsigned) gen_rng_below (&cz->rng, 20);
        if (r < 8)
            snprintf (buf, size, "Order %s", id);
        else if (r < 12)
            snprintf (buf, size, "Order %s, %u items", id, 2 + r % 3);
        else if (r < 14)
            snprintf (buf, size, "Order %s – \"Café crème\" beans, 1 kg", id);
        else if (r < 17)
            snprintf (buf, size, "Payment for order %s", id);
        else
            buf[0] = '\0';
        break;
    }
    case GEN_EV_REFUND:
        snprintf (buf, size, "REFUND FOR CHARGE (Order %s)", id);
        break;
    case GEN_EV_DISPUTE:
        snprintf (buf, size, "Chargeback withdrawal for %s", e->payment_ref);
        break;
    case GEN_EV_DISPUTE_REVERSAL:
        snprintf (buf, size, "Chargeback reversal for %s", e->payment_ref);
        break;
    case GEN_EV_CHARGE_FAILURE:
        snprintf (buf, size, "Payment failure: R01 insufficient funds (%s)", e->payment_ref);
        break;
    }
}

static void
s_put_lower (s_out_t *out, const char *code)
{
    for (; *code; code++)
        s_putc (out, (char) (*code >= 'A' && *code <= 'Z' ? *code - 'A' + 'a' : *code));
}

/*  created_utc, created (the report runs in UTC, so the same),
    available_on_utc and available_on (two days later, at midnight).      */
static void
s_stripe_times (s_out_t *out, const gen_settings_t *set, int64_t t, char *payout_id)
{
    int64_t day = t / S_DAY + 2;
    s_put_plain_time (out, t);
    s_comma (out);
    s_put_plain_time (out, t);
    s_comma (out);
    s_put_plain_time (out, day * S_DAY);
    s_comma (out);
    s_put_plain_time (out, day * S_DAY);
    s_comma (out);
    s_id (payout_id, set, "po_", GEN_ALPHA_BASE62, 24, (uint64_t) day, GEN_NS_PAYOUT, 0);
}

static void
s_write_stripe_event (s_writer_t *w, s_cosmetic_t *cz, const gen_event_t *e)
{
    const gen_order_t *o = cz->o;
    s_out_t *out = &w->out[F_STRIPE];
    int exp = recon_currency_exponent (o->currency);
    int64_t facing = s_is_credit (e->kind) ? e->amount_minor : -e->amount_minor;
    int64_t gross = gen_convert_minor (facing, o->currency, "USD");
    int64_t fee = s_stripe_fee (e->kind, gross, cz->bank_debit);
    int parent = e->parent < 0 ? (int) (e - o->events) : e->parent;
    char payout[GEN_ID_SIZE], source[GEN_ID_SIZE], intent[GEN_ID_SIZE], customer[GEN_ID_SIZE];
    char text[160];

    s_puts (out, e->txn_id);
    s_comma (out);
    s_stripe_times (out, w->set, e->occurred_at, payout);
    s_puts (out, "usd,");
    s_put_money (out, gross, 2);
    s_comma (out);
    s_put_money (out, fee, 2);
    s_comma (out);
    s_put_money (out, gross - fee, 2);
    s_comma (out);
    s_puts (out, s_stripe_category (e->kind));
    s_comma (out);
    if (e->kind == GEN_EV_REFUND)
        s_id (source, w->set, "re_", GEN_ALPHA_BASE62, 24, o->index, GEN_NS_SOURCE,
              (unsigned) (e - o->events));
    else if (e->kind == GEN_EV_DISPUTE || e->kind == GEN_EV_DISPUTE_REVERSAL)
        s_id (source, w->set, "du_", GEN_ALPHA_BASE62, 24, o->index, GEN_NS_SOURCE,
              16 + (unsigned) parent);
    else
        snprintf (source, sizeof source, "%s", e->payment_ref);
    s_puts (out, source);
    s_comma (out);
    s_stripe_description (cz, e, text, sizeof text);
    s_put_field (out, text);
    s_comma (out);
    s_put_money (out, facing, exp);
    s_comma (out);
    s_put_lower (out, o->currency);
    s_comma (out);
    s_puts (out, payout);
    s_comma (out);
    s_id (customer, w->set, "cus_", GEN_ALPHA_BASE62, 14, o->index, GEN_NS_CUSTOMER, 0);
    s_puts (out, customer);
    s_comma (out);
    snprintf (text, sizeof text, "customer%llu@example.com", (unsigned long long) o->index);
    s_puts (out, text);
    s_comma (out);
    s_put_field (out, s_names[cz->customer]);
    s_comma (out);
    s_puts (out, e->payment_ref);
    s_comma (out);
    s_id (intent, w->set, "pi_", GEN_ALPHA_BASE62, 24, o->index, GEN_NS_INTENT, (unsigned) parent);
    s_puts (out, intent);
    s_comma (out);
    s_put_plain_time (out, o->events[parent].occurred_at);
    s_comma (out);
    if (cz->bank_debit) {
        s_puts (out, strcmp (o->currency, "EUR") == 0 ? "sepa_debit,,," : "us_bank_account,,,");
    } else {
        s_puts (out, "card,");
        s_puts (out, s_cards[cz->card].stripe_brand);
        s_comma (out);
        s_puts (out, s_cards[cz->card].funding);
        s_comma (out);
        s_puts (out, cz->country);
    }
    s_puts (out, ",ACME SHOP,");
    if (e->kind == GEN_EV_DISPUTE || e->kind == GEN_EV_DISPUTE_REVERSAL)
        s_puts (out, cz->customer % 2 ? "product_not_received" : "fraudulent");
    s_comma (out);
    s_puts (out, o->order_id);
    s_end_row (out);
}

/*  A balance change that is no order's: fee, payout, transfer or an
    adjustment of a category recon does not know.                          */
static void
s_write_stripe_extra (s_writer_t *w, s_cosmetic_t *cz, int64_t near)
{
    static const struct {
        const char *category, *source_prefix, *description;
        int64_t lo, hi;          /* gross in USD cents                    */
    } kinds[] = {
        {"fee", "", "Radar for Fraud Teams, per-transaction fee", -5000, -100},
        {"payout", "po_", "STRIPE PAYOUT", -5000000, -100000},
        {"transfer", "tr_", "Transfer to \"Acme Logistics GmbH\"", -200000, -1000},
        {"other_adjustment", "adj_", "Adjustment for Müller & Söhne, ref 7781", -20000, 20000},
    };
    s_out_t *out = &w->out[F_STRIPE];
    unsigned r = (unsigned) gen_rng_below (&cz->rng, 20);
    size_t k = r < 7 ? 0 : r < 13 ? 1 : r < 17 ? 2 : 3;
    int64_t gross = gen_rng_range (&cz->rng, kinds[k].lo, kinds[k].hi);
    gross = gross == 0 ? -1 : gross;
    int64_t t = s_clamp_time (w, near + gen_rng_range (&cz->rng, 0, 3600) * S_SEC);
    unsigned slot = cz->extra_slot++;
    char id[GEN_ID_SIZE], payout[GEN_ID_SIZE];

    s_id (id, w->set, "txn_", GEN_ALPHA_BASE62, 24, cz->o->index, GEN_NS_EXTRA_TXN, slot);
    s_puts (out, id);
    s_comma (out);
    s_stripe_times (out, w->set, t, payout);
    s_puts (out, "usd,");
    s_put_money (out, gross, 2);
    s_puts (out, ",0.00,");
    s_put_money (out, gross, 2);
    s_comma (out);
    s_puts (out, kinds[k].category);
    s_comma (out);
    if (*kinds[k].source_prefix) {
        s_id (id, w->set, kinds[k].source_prefix, GEN_ALPHA_BASE62, 24, cz->o->index,
              GEN_NS_EXTRA_SOURCE, slot);
        s_puts (out, id);
    }
    s_comma (out);
    s_put_field (out, kinds[k].description);
    s_puts (out, ",,,");
    if (k != 1)
        s_puts (out, payout);
    s_puts (out, ",,,,,,,,,,,,,");
    s_end_row (out);
}

/* ---- Adyen --------------------------------------------------------------- */

/*  Adyen's Creation Date is local: CET, UTC+1 all year round (the zone
    is named in the TimeZone column, so a reader never has to guess DST). */
static void
s_put_cet (s_out_t *out, int64_t t)
{
    s_put_plain_time (out, t + S_HOUR);
    s_puts (out, ",CET,");
}

static int64_t
s_batch_number (int64_t t)
{
    return (t + S_HOUR) / S_DAY - 19000;
}

/*  Gross currency -> EUR rate × 10^6, as Adyen prints it.               */
static int64_t
s_eur_rate_e6 (const char *code)
{
    const gen_currency_t *c = gen_currency_find (code), *eur = gen_currency_find ("EUR");
    if (!c || !eur)
        return 1000000;
    return (c->usd_per_major_e6 * 1000000 + eur->usd_per_major_e6 / 2) / eur->usd_per_major_e6;
}

/*  AMOUNT (> 0, minor units of CODE) in euro cents at RATE_E6.          */
static int64_t
s_to_eur_cents (int64_t amount, const char *code, int64_t rate_e6)
{
    int64_t den = 1000000;
    for (int e = recon_currency_exponent (code); e > 0; e--)
        den *= 10;
    return (amount * rate_e6 * 100 + den / 2) / den;
}

static void
s_put_opt_money (s_out_t *out, int64_t minor)
{
    if (minor)
        s_put_money (out, minor, 2);
}

static void
s_write_adyen_event (s_writer_t *w, s_cosmetic_t *cz, const gen_event_t *e)
{
    static const char *const types[] = {"Settled", "Refunded", "Chargeback", "ChargebackReversed",
                                        NULL};
    const gen_order_t *o = cz->o;
    s_out_t *out = &w->out[F_ADYEN];
    bool credit = s_is_credit (e->kind);
    int64_t rate = s_eur_rate_e6 (o->currency);
    int64_t net = s_to_eur_cents (e->amount_minor, o->currency, rate);
    int64_t commission = 0, markup = 0, scheme = 0, interchange = 0;
    if (e->kind == GEN_EV_CHARGE) {
        markup = net * 6 / 1000;
        scheme = net * 2 / 1000;
        interchange = net * 12 / 1000;
        net -= markup + scheme + interchange;
    } else if (e->kind == GEN_EV_DISPUTE) {
        commission = 1500;
        net += commission;
    }

    s_puts (out, "AcmeShopGroup,AcmeShopECOM,");
    s_puts (out, e->payment_ref);
    s_comma (out);
    s_puts (out, o->order_id);
    s_comma (out);
    s_puts (out, s_cards[cz->card].adyen_method);
    s_comma (out);
    s_put_cet (out, e->occurred_at);
    s_puts (out, types[e->kind]);
    s_comma (out);
    s_puts (out, e->txn_id);
    s_comma (out);
    s_puts (out, o->currency);
    s_comma (out);
    if (!credit)
        s_put_money (out, e->amount_minor, recon_currency_exponent (o->currency));
    s_comma (out);
    if (credit)
        s_put_money (out, e->amount_minor, recon_currency_exponent (o->currency));
    s_comma (out);
    if (rate == 1000000)
        s_putc (out, '1');
    else
        s_put_money (out, rate, 6);
    s_puts (out, ",EUR,");
    if (!credit)
        s_put_money (out, net, 2);
    s_comma (out);
    if (credit)
        s_put_money (out, net, 2);
    s_comma (out);
    s_put_opt_money (out, commission);
    s_comma (out);
    s_put_opt_money (out, markup);
    s_comma (out);
    s_put_opt_money (out, scheme);
    s_comma (out);
    s_put_opt_money (out, interchange);
    s_comma (out);
    s_puts (out, s_cards[cz->card].adyen_variant);
    s_comma (out);
    if (e->kind == GEN_EV_REFUND) {
        s_puts (out, "RF-");
        s_puts (out, o->order_id);
    }
    s_comma (out);
    s_put_i64 (out, s_batch_number (e->occurred_at));
    s_end_row (out);
}

/*  An account-level row: fee, payout or deposit correction, in EUR.      */
static void
s_write_adyen_extra (s_writer_t *w, s_cosmetic_t *cz, int64_t near)
{
    static const struct {
        const char *type, *prefix, *reference;
        int64_t lo, hi;          /* net in euro cents; < 0 is a debit     */
    } kinds[] = {
        {"Fee", "FEE", "Monthly fee, account management", -5000, -500},
        {"MerchantPayout", "TX", "Payout, \"AcmeShopECOM\" to NL91ABNA0417164300", -5000000, -100000},
        {"DepositCorrection", "DC", "Deposit correction (rolling reserve)", -20000, 20000},
    };
    s_out_t *out = &w->out[F_ADYEN];
    unsigned r = (unsigned) gen_rng_below (&cz->rng, 10);
    size_t k = r < 4 ? 0 : r < 8 ? 1 : 2;
    int64_t net = gen_rng_range (&cz->rng, kinds[k].lo, kinds[k].hi);
    net = net == 0 ? -1 : net;
    int64_t t = s_clamp_time (w, near + gen_rng_range (&cz->rng, 0, 3600) * S_SEC);
    char id[GEN_ID_SIZE];
    s_id (id, w->set, kinds[k].prefix, GEN_ALPHA_BASE36_UPPER, 13, cz->o->index,
          GEN_NS_EXTRA_TXN, cz->extra_slot++);

    s_puts (out, "AcmeShopGroup,AcmeShopECOM,,,,");
    s_put_cet (out, t);
    s_puts (out, kinds[k].type);
    s_comma (out);
    s_puts (out, id);
    s_puts (out, ",,,,,EUR,");
    if (net < 0)
        s_put_money (out, -net, 2);
    s_comma (out);
    if (net > 0)
        s_put_money (out, net, 2);
    s_puts (out, ",,,,,,");
    s_put_field (out, kinds[k].reference);
    s_comma (out);
    s_put_i64 (out, s_batch_number (t));
    s_end_row (out);
}

/* ---- ledger, fulfillment, truth ----------------------------------------- */

static void
s_write_ledger (s_out_t *out, const gen_order_t *o)
{
    for (size_t i = 0; i < o->n_ledger; i++) {
        const gen_ledger_entry_t *l = &o->ledger[i];
        s_puts (out, l->entry_id);
        s_comma (out);
        s_puts (out, o->order_id);
        s_comma (out);
        s_puts (out, gen_ledger_kind_name (l->kind));
        s_comma (out);
        s_put_i64 (out, l->amount_minor);
        s_comma (out);
        s_puts (out, l->currency);
        s_comma (out);
        s_put_iso (out, l->recorded_at);
        s_end_row (out);
    }
}

static void
s_write_fulfillment (s_out_t *out, const gen_order_t *o)
{
    const gen_fulfillment_t *f = &o->fulfillment;
    if (!f->present)
        return;
    s_puts (out, o->order_id);
    s_comma (out);
    s_puts (out, gen_fulfillment_status_name (f->status));
    s_comma (out);
    s_put_iso (out, f->updated_at);
    s_comma (out);
    if (f->shipped_at != GEN_NO_TIME)
        s_put_iso (out, f->shipped_at);
    s_end_row (out);
}

static void
s_write_truth (s_out_t *out, const gen_order_t *o)
{
    s_puts (out, o->order_id);
    s_comma (out);
    s_puts (out, o->expected);
    s_end_row (out);
}

static void
s_write_order (s_writer_t *w, const gen_order_t *o)
{
    s_cosmetic_t cz;
    s_cosmetic_init (&cz, w->set, o);
    for (size_t i = 0; i < o->n_events; i++) {
        const gen_event_t *e = &o->events[i];
        s_write_canonical (&w->out[F_PROCESSOR], o, e);
        if (o->processor == GEN_PROC_OTHER) {
            s_write_canonical (&w->out[F_OTHER], o, e);
            continue;
        }
        /*  Processor reports list money that moved, nothing else.       */
        if (e->status != GEN_ST_SUCCEEDED)
            continue;
        if (o->processor == GEN_PROC_STRIPE)
            s_write_stripe_event (w, &cz, e);
        else
            s_write_adyen_event (w, &cz, e);
        if (s_cosmetic_chance (&cz, S_EXTRA_ONE_IN)) {
            if (o->processor == GEN_PROC_STRIPE)
                s_write_stripe_extra (w, &cz, e->occurred_at);
            else
                s_write_adyen_extra (w, &cz, e->occurred_at);
        }
    }
    s_write_ledger (&w->out[F_LEDGER], o);
    s_write_fulfillment (&w->out[F_FULFILLMENT], o);
    s_write_truth (&w->out[F_TRUTH], o);
}

/* ---- meta.json ----------------------------------------------------------- */

typedef struct {
    uint64_t *per_scenario;          /* gen_scenario_count() entries       */
    uint64_t per_processor[3];
    uint64_t *per_currency;          /* gen_currency_count() entries       */
} s_counts_t;

static json_t *
s_json_time (int64_t t)
{
    char buf[RECON_TIMESTAMP_BUFSIZE];
    recon_timestamp_format (t, buf);
    return json_string (buf);
}

/*  A duration as RECON_GRACE_* takes it: "72h", or seconds.              */
static json_t *
s_json_duration (int64_t us)
{
    char buf[32];
    int64_t s = us / S_SEC;
    if (s % 3600 == 0)
        snprintf (buf, sizeof buf, "%lldh", (long long) (s / 3600));
    else
        snprintf (buf, sizeof buf, "%llds", (long long) s);
    return json_string (buf);
}

static json_t *
s_json_scenarios (const s_counts_t *n)
{
    json_t *obj = json_object ();
    for (size_t i = 0; i < gen_scenario_count (); i++) {
        const gen_scenario_t *sc = gen_scenario_get (i);
        json_object_set_new (obj, sc->name,
                             json_pack ("{s:I, s:s, s:I}", "weight", (json_int_t) sc->weight,
                                        "expected", sc->expected,
                                        "count", (json_int_t) n->per_scenario[i]));
    }
    return obj;
}

/*  Counts per expected label, labels in the order the table first uses them. */
static json_t *
s_json_labels (const s_counts_t *n)
{
    json_t *obj = json_object ();
    for (size_t i = 0; i < gen_scenario_count (); i++) {
        const char *label = gen_scenario_get (i)->expected;
        json_t *cur = json_object_get (obj, label);
        json_int_t v = (cur ? json_integer_value (cur) : 0) + (json_int_t) n->per_scenario[i];
        json_object_set_new (obj, label, json_integer (v));
    }
    return obj;
}

static int
s_write_meta (const char *dir, const gen_settings_t *set, uint64_t orders, const s_counts_t *n,
              const s_writer_t *w)
{
    json_t *files = json_object (), *procs = json_object (), *curs = json_object ();
    for (int f = 0; f < F_COUNT; f++)
        json_object_set_new (files, s_files[f].name, json_integer ((json_int_t) w->out[f].rows));
    for (int p = 0; p < 3; p++)
        json_object_set_new (procs, gen_processor_name ((gen_processor_t) p),
                             json_integer ((json_int_t) n->per_processor[p]));
    for (size_t i = 0; i < gen_currency_count (); i++)
        json_object_set_new (curs, gen_currency_get (i)->code,
                             json_integer ((json_int_t) n->per_currency[i]));

    json_t *settings = json_pack (
        "{s:o, s:o, s:o, s:o, s:s}",
        "RECON_GRACE_FULFILLMENT", s_json_duration (set->grace_fulfillment),
        "RECON_GRACE_LEDGER", s_json_duration (set->grace_ledger),
        "RECON_GRACE_PROCESSOR", s_json_duration (set->grace_processor),
        "RECON_GRACE_CANCEL", s_json_duration (set->grace_cancel),
        "RECON_AMOUNT_TOLERANCE", "0");
    json_t *grace = json_pack (
        "{s:I, s:I, s:I, s:I}",
        "fulfillment", (json_int_t) (set->grace_fulfillment / S_SEC),
        "ledger", (json_int_t) (set->grace_ledger / S_SEC),
        "processor", (json_int_t) (set->grace_processor / S_SEC),
        "cancel", (json_int_t) (set->grace_cancel / S_SEC));
    json_t *meta = json_pack (
        "{s:s, s:i, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
        "generator", "recon-gen", "format_version", 1,
        "seed", (json_int_t) set->seed, "orders", (json_int_t) orders,
        "from", s_json_time (set->from), "to", s_json_time (set->to),
        "as_of", s_json_time (set->as_of),
        "settings", settings, "grace_seconds", grace,
        "amount_tolerance_minor", (json_int_t) set->amount_tolerance,
        "guaranteed_scenario_slots", (json_int_t) gen_scenario_count (),
        "scenarios", s_json_scenarios (n), "labels", s_json_labels (n),
        "processors", procs, "currencies", curs, "files", files);

    char path[4096];
    snprintf (path, sizeof path, "%s/meta.json", dir);
    int rc = meta ? json_dump_file (meta, path, JSON_INDENT (2) | JSON_PRESERVE_ORDER) : -1;
    if (rc != 0)
        fprintf (stderr, "recon-gen: cannot write %s\n", path);
    json_decref (meta);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

/*  mkdir -p: creates DIR and any missing parents.                         */
static int
s_mkdir_p (const char *dir)
{
    char path[4096];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path) {
        fprintf (stderr, "recon-gen: --out path too long\n");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir (path, 0777) != 0 && errno != EEXIST) {
            fprintf (stderr, "recon-gen: cannot create %s: %s\n", path, strerror (errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        fprintf (stderr, "recon-gen: %s is not a directory\n", dir);
        return -1;
    }
    return 0;
}

static size_t
s_currency_index (const char *code)
{
    for (size_t i = 0; i < gen_currency_count (); i++)
        if (strcmp (gen_currency_get (i)->code, code) == 0)
            return i;
    return 0;
}

static int
s_generate (const s_options_t *opt, const gen_settings_t *set)
{
    s_writer_t w = {.set = set};
    w.hi = set->as_of < set->to - S_SEC ? set->as_of : set->to - S_SEC;
    s_counts_t n = {
        .per_scenario = calloc (gen_scenario_count (), sizeof (uint64_t)),
        .per_currency = calloc (gen_currency_count (), sizeof (uint64_t)),
    };
    int rc = n.per_scenario && n.per_currency ? 0 : -1;
    for (int f = 0; f < F_COUNT && rc == 0; f++)
        rc = s_open (&w.out[f], opt->out, s_files[f].name, s_files[f].header);

    gen_order_t order;
    for (uint64_t i = 0; i < opt->orders && rc == 0; i++) {
        gen_order_make (set, i, &order);
        s_write_order (&w, &order);
        n.per_scenario[order.scenario]++;
        n.per_processor[order.processor]++;
        n.per_currency[s_currency_index (order.currency)]++;
    }
    for (int f = 0; f < F_COUNT; f++)
        if (s_close (&w.out[f]) != 0)
            rc = -1;
    if (rc == 0)
        rc = s_write_meta (opt->out, set, opt->orders, &n, &w);
    free (n.per_scenario);
    free (n.per_currency);
    return rc;
}

int
main (int argc, char **argv)
{
    s_options_t opt;
    int rc = s_parse_args (argc, argv, &opt);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    gen_settings_t set;
    gen_settings_defaults (&set, opt.seed, opt.from, opt.from + opt.days * S_DAY);
    if (opt.have_as_of)
        set.as_of = opt.as_of;
    const char *why = gen_settings_check (&set);
    if (why) {
        fprintf (stderr, "recon-gen: %s\nTry 'recon-gen --help'.\n", why);
        return 2;
    }
    if (s_mkdir_p (opt.out) != 0)
        return 1;
    return s_generate (&opt, &set) == 0 ? 0 : 1;
}
