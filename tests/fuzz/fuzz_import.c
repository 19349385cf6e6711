/*  fuzz_import.c — libFuzzer target for every importer's row path: the
    header resolution and the per-row map of the Stripe, Adyen and
    canonical processor formats, the canonical ledger and the canonical
    and Shopify fulfillment formats (common/import_map.c), exactly as
    recon_import_file drives them, without a database.

    Input: the first byte picks the format (byte % 6) and the decimal mark
    (bit 7: ',' instead of '.'); the rest is the CSV file, header first.

    What must hold for any input: nothing crashes or reads out of bounds;
    the header either resolves or names a required column of the format;
    each row is OK, SKIP or REJECT, and the map is a pure function (a second
    call gives the same verdict and bytes). An OK row appends exactly the
    staging table's fields, each ending in a tab, as valid UTF-8 with no raw
    line break (PostgreSQL would abort the whole COPY otherwise), with
    amounts as non-negative integers, currencies as three capital letters
    and times that PostgreSQL accepts (years 0001–9999) and that parse back
    to the same instant. A REJECT names a column of the format (or none) and
    a printable, valid UTF-8 reason; a SKIP names its category, printable
    too. Any
    violation aborts.                                                     */
#include "fuzz_oracle.h"
#include "import_map.h"
#include "recon/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check_at (int ok, int line)
{
    if (!ok) {
        fprintf (stderr, "fuzz_import.c:%d: invariant violated\n", line);
        abort ();
    }
}
#define s_check(ok) s_check_at ((ok), __LINE__)

static const struct {
    recon_import_source_t source;
    const char *name;
} s_formats[] = {
    {RECON_IMPORT_PROCESSOR, "stripe"},    {RECON_IMPORT_PROCESSOR, "adyen"},
    {RECON_IMPORT_PROCESSOR, "canonical"}, {RECON_IMPORT_LEDGER, "canonical"},
    {RECON_IMPORT_FULFILLMENT, "canonical"}, {RECON_IMPORT_FULFILLMENT, "shopify"},
};

static int
s_is (const char *f, size_t n, const char *word)
{
    return strlen (word) == n && memcmp (f, word, n) == 0;
}

static int
s_one_of (const char *f, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (s_is (f, n, words[i]))
            return 1;
    return 0;
}

static void
s_check_amount (const char *f, size_t n)
{
    s_check (n >= 1 && n <= 19);
    for (size_t i = 0; i < n; i++)
        s_check (f[i] >= '0' && f[i] <= '9');
}

static void
s_check_currency (const char *f, size_t n)
{
    s_check (n == 3);
    for (size_t i = 0; i < 3; i++)
        s_check (f[i] >= 'A' && f[i] <= 'Z');
}

static void
s_check_time (const char *f, size_t n, int nullable)
{
    if (nullable && s_is (f, n, "\\N"))
        return;
    int64_t t;
    s_check (recon_timestamp_parse (f, n, &t) == 0);
    char buf[RECON_TIMESTAMP_BUFSIZE];
    int len = recon_timestamp_format (t, buf);
    s_check ((size_t) len == n && memcmp (buf, f, n) == 0);
    /*  PostgreSQL has no year 0: 0001-01-01 .. 9999-12-31.                */
    s_check (t >= recon_days_from_civil (1, 1, 1) * RECON_USEC_PER_DAY);
    s_check (t < recon_days_from_civil (10000, 1, 1) * RECON_USEC_PER_DAY);
}

static void
s_check_text (const char *f, size_t n, int nullable)
{
    if (nullable && s_is (f, n, "\\N"))
        return;
    s_check (n >= 1);
    s_check (!s_is (f, n, "\\N"));
}

static const char *const s_kinds[] = {"charge", "refund", "dispute", "dispute_reversal",
                                      "charge_failure", "refund_failure",
                                      "partial_capture_reversal", NULL};
static const char *const s_statuses[] = {"succeeded", "pending", "failed", NULL};
static const char *const s_fstatuses[] = {"pending", "in_progress", "on_hold", "shipped",
                                          "delivered", "cancelled", "returned", NULL};

/*  Checks one staging line fragment (the bytes an OK map appended).       */
static void
s_check_line (const import_format_t *fmt, const char *line, size_t len)
{
    s_check (len > 0 && line[len - 1] == '\t');
    s_check (memchr (line, '\n', len) == NULL && memchr (line, '\r', len) == NULL);
    s_check (fuzz_utf8_valid ((const unsigned char *) line, len, 0));
    const char *f[16];
    size_t fl[16];
    int nf = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\t') {
            s_check (nf < 16);
            f[nf] = line + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    s_check (nf == import_format_nfields (fmt));
    switch (fmt->source) {
    case RECON_IMPORT_PROCESSOR:
        /*  processor, txn_id, order_id, payment_ref, kind, status, amount,
            currency, occurred_at                                          */
        s_check_text (f[0], fl[0], 0);
        s_check_text (f[1], fl[1], 0);
        s_check_text (f[2], fl[2], 0);
        s_check_text (f[3], fl[3], 1);
        s_check (s_one_of (f[4], fl[4], s_kinds));
        s_check (s_one_of (f[5], fl[5], s_statuses));
        s_check_amount (f[6], fl[6]);
        s_check_currency (f[7], fl[7]);
        s_check_time (f[8], fl[8], 0);
        break;
    case RECON_IMPORT_LEDGER:
        /*  entry_id, order_id, kind, amount, currency, recorded_at        */
        s_check_text (f[0], fl[0], 0);
        s_check_text (f[1], fl[1], 0);
        s_check (s_is (f[2], fl[2], "charge") || s_is (f[2], fl[2], "refund"));
        s_check_amount (f[3], fl[3]);
        s_check (!s_is (f[3], fl[3], "0"));
        s_check_currency (f[4], fl[4]);
        s_check_time (f[5], fl[5], 0);
        break;
    case RECON_IMPORT_FULFILLMENT:
        /*  order_id, status, updated_at, shipped_at                       */
        s_check_text (f[0], fl[0], 0);
        s_check (s_one_of (f[1], fl[1], s_fstatuses));
        s_check_time (f[2], fl[2], 0);
        s_check_time (f[3], fl[3], 1);
        break;
    }
}

/*  One non-empty line of valid UTF-8 without control characters.         */
static void
s_check_printable (const char *text)
{
    size_t n = strlen (text);
    s_check (n > 0);
    s_check (fuzz_utf8_valid ((const unsigned char *) text, n, 0));
    for (size_t i = 0; i < n; i++)
        s_check ((unsigned char) text[i] >= 0x20 && text[i] != 0x7f);
}

static void
s_check_reject (const import_format_t *fmt, const import_row_t *row)
{
    if (row->reject_field) {
        int known = 0;
        for (int c = 0; c < IMPORT_MAX_COLUMNS && fmt->columns[c].name; c++)
            known |= strcmp (fmt->columns[c].name, row->reject_field) == 0;
        s_check (known);
    }
    if (getenv ("FUZZ_IMPORT_SHOW"))
        fprintf (stderr, "reject %s: %s\n", row->reject_field ? row->reject_field : "-",
                 row->reject_reason);
    s_check (strlen (row->reject_reason) < sizeof row->reject_reason - 1);
    s_check_printable (row->reject_reason);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const import_format_t *fmt = import_format_find (
        s_formats[data[0] % 6].source, s_formats[data[0] % 6].name);
    s_check (fmt != NULL);
    recon_csv_t *csv = recon_csv_new_from_buffer ((const char *) data + 1, size - 1, "fuzz.csv");
    s_check (csv != NULL);
    import_row_t row;
    memset (&row, 0, sizeof row);
    if (recon_csv_read_header (csv) < 0) {
        recon_csv_destroy (&csv);
        return 0;
    }
    const char *missing = import_resolve_columns (fmt, csv, row.cols);
    for (int c = 0; c < IMPORT_MAX_COLUMNS; c++) {
        s_check (row.cols[c] >= -1 && row.cols[c] < (int) recon_csv_ncolumns (csv));
        if (!fmt->columns[c].name)
            s_check (row.cols[c] == -1);
    }
    if (missing) {
        int known = 0;
        for (int c = 0; c < IMPORT_MAX_COLUMNS && fmt->columns[c].name; c++)
            known |= fmt->columns[c].required && strcmp (fmt->columns[c].name, missing) == 0
                     && row.cols[c] < 0;
        s_check (known);
        recon_csv_destroy (&csv);
        return 0;
    }
    row.csv = csv;
    row.decimal_mark = data[0] & 0x80 ? ',' : '.';
    row.processor = fmt->format;
    recon_copybuf_t out = {0}, again = {0};
    int rc;
    while ((rc = recon_csv_next (csv)) != 0) {
        if (rc < 0)
            continue; /* the CSV reader's own rejects: fuzz_csv's business */
        size_t mark = out.len;
        int verdict = fmt->map (&row, &out);
        char reason[sizeof row.reject_reason];
        memcpy (reason, row.reject_reason, sizeof reason);
        const char *field = row.reject_field;
        again.len = 0;
        s_check (fmt->map (&row, &again) == verdict);
        s_check (!out.failed && !again.failed);
        switch (verdict) {
        case IMPORT_ROW_OK:
            s_check (again.len == out.len - mark
                     && memcmp (again.data, out.data + mark, again.len) == 0);
            s_check_line (fmt, out.data + mark, out.len - mark);
            recon_copybuf_int (&out, recon_csv_line (csv));
            recon_copybuf_end (&out);
            break;
        case IMPORT_ROW_SKIP:
            s_check (out.len == mark && again.len == 0);
            s_check (row.skip_category[0] != '\0');
            s_check_printable (row.skip_category);
            break;
        case IMPORT_ROW_REJECT:
            out.len = mark;
            s_check (field == row.reject_field && strcmp (reason, row.reject_reason) == 0);
            s_check_reject (fmt, &row);
            break;
        default:
            abort ();
        }
        /*  Keep memory bounded on long inputs.                            */
        if (out.len > 65536)
            out.len = 0;
    }
    free (out.data);
    free (again.data);
    recon_csv_destroy (&csv);
    return 0;
}
