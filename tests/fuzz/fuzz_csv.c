/*  fuzz_csv.c — libFuzzer target for the streaming CSV reader.

    The first two input bytes choose the maximum record size and a small
    read-window size; the rest is the CSV. The input is read twice in
    lockstep, with the small window and with the default one, and every
    result must be identical: the reader promises that reads may split the
    input anywhere. Each record is also checked against invariants that
    hold for any input (raw bytes are the input at the reported offset,
    records do not overlap, the line number is exactly 1 + the line breaks
    before the record, fields are NUL-free UTF-8, an unquoted record is its
    fields joined by commas, fields re-quoted parse back to themselves),
    and the header API is exercised. Any violation aborts.               */
#include "recon/csv.h"
#include "fuzz_oracle.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int ok)
{
    if (!ok)
        abort ();
}

static recon_csv_t *
s_open (const char *in, size_t n, size_t buffer_size, size_t max_record)
{
    recon_csv_t *csv = recon_csv_new_from_buffer (in, n, "fuzz");
    s_check (csv != NULL);
    if (buffer_size)
        s_check (recon_csv_set_buffer_size (csv, buffer_size) == 0);
    s_check (recon_csv_set_max_record (csv, max_record) == 0);
    return csv;
}

/*  Writes the current record's fields fully quoted and checks that they
    read back as one identical record.                                   */
static void
s_requote (const recon_csv_t *csv)
{
    size_t total = 1;
    for (size_t i = 0; i < recon_csv_nfields (csv); i++) {
        size_t len;
        recon_csv_field (csv, i, &len);
        total += 2 * len + 3;
    }
    char *buf = malloc (total);
    s_check (buf != NULL);
    size_t at = 0;
    for (size_t i = 0; i < recon_csv_nfields (csv); i++) {
        size_t len;
        const char *f = recon_csv_field (csv, i, &len);
        if (i)
            buf[at++] = ',';
        buf[at++] = '"';
        for (size_t k = 0; k < len; k++) {
            if (f[k] == '"')
                buf[at++] = '"';
            buf[at++] = f[k];
        }
        buf[at++] = '"';
    }
    recon_csv_t *again = s_open (buf, at, 0, RECON_CSV_MAX_RECORD_LIMIT);
    s_check (recon_csv_next (again) == 1);
    s_check (recon_csv_nfields (again) == recon_csv_nfields (csv));
    for (size_t i = 0; i < recon_csv_nfields (csv); i++) {
        size_t l1, l2;
        const char *f1 = recon_csv_field (csv, i, &l1);
        const char *f2 = recon_csv_field (again, i, &l2);
        s_check (l1 == l2 && memcmp (f1, f2, l1) == 0);
    }
    s_check (recon_csv_next (again) == 0);
    recon_csv_destroy (&again);
    free (buf);
}

static void
s_check_record (const recon_csv_t *csv, int rc, const char *in, size_t n,
                size_t max_record)
{
    size_t raw_len;
    const char *raw = recon_csv_raw (csv, &raw_len);
    uint64_t off = recon_csv_offset (csv);
    s_check (raw != NULL && raw_len <= max_record);
    s_check (off <= n && raw_len <= n - off);
    s_check (memcmp (in + off, raw, raw_len) == 0);
    s_check (!recon_csv_is_fatal (rc));
    if (rc < 0) {
        s_check (rc >= RECON_CSV_EUTF8 && rc <= RECON_CSV_EQUOTE);
        s_check (recon_csv_nfields (csv) == 0);
        s_check (recon_csv_errstr (csv)[0] != '\0');
        return;
    }
    s_check (rc == 1);
    s_check (recon_csv_errstr (csv)[0] == '\0');
    s_check (raw_len > 0 && raw[0] != '\n' && raw[0] != '\r');
    size_t nf = recon_csv_nfields (csv);
    s_check (nf >= 1 && nf <= raw_len + 1);
    size_t joined = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t len;
        const char *f = recon_csv_field (csv, i, &len);
        s_check (f != NULL && f[len] == '\0' && strlen (f) == len);
        s_check (fuzz_utf8_valid ((const unsigned char *) f, len, 1));
        joined += len + (i > 0);
    }
    s_check (recon_csv_field (csv, nf, NULL) == NULL);
    if (!memchr (raw, '"', raw_len)) {
        s_check (joined == raw_len);
        size_t at = 0;
        for (size_t i = 0; i < nf; i++) {
            size_t len;
            const char *f = recon_csv_field (csv, i, &len);
            s_check (memcmp (raw + at, f, len) == 0);
            at += len;
            if (i + 1 < nf)
                s_check (raw[at++] == ',');
        }
    }
    s_requote (csv);
}

static void
s_same (const recon_csv_t *a, const recon_csv_t *b)
{
    s_check (recon_csv_line (a) == recon_csv_line (b));
    s_check (recon_csv_offset (a) == recon_csv_offset (b));
    s_check (strcmp (recon_csv_errstr (a), recon_csv_errstr (b)) == 0);
    size_t la, lb;
    const char *ra = recon_csv_raw (a, &la), *rb = recon_csv_raw (b, &lb);
    s_check (la == lb && memcmp (ra, rb, la) == 0);
    s_check (recon_csv_nfields (a) == recon_csv_nfields (b));
    for (size_t i = 0; i < recon_csv_nfields (a); i++) {
        const char *fa = recon_csv_field (a, i, &la), *fb = recon_csv_field (b, i, &lb);
        s_check (la == lb && memcmp (fa, fb, la) == 0);
    }
}

static void
s_check_header (const char *in, size_t n, size_t max_record)
{
    recon_csv_t *csv = s_open (in, n, 3, max_record);
    int rc = recon_csv_read_header (csv);
    if (rc == 0) {
        s_check (recon_csv_ncolumns (csv) >= 1);
        for (size_t i = 0; i < recon_csv_ncolumns (csv); i++) {
            const char *name = recon_csv_column_name (csv, i);
            s_check (name != NULL);
            size_t len = strlen (name);
            s_check (len == 0 || (name[0] != ' ' && name[len - 1] != ' '));
            int at = recon_csv_column (csv, name);
            s_check (at >= 0 && (size_t) at <= i);
            s_check (strcmp (recon_csv_column_name (csv, (size_t) at), name) == 0);
            int ci = recon_csv_column_ci (csv, name);
            s_check (ci >= 0 && ci <= at);
        }
        s_check (recon_csv_column_name (csv, recon_csv_ncolumns (csv)) == NULL);
        s_check (recon_csv_read_header (csv) == RECON_CSV_EINVAL);
    } else {
        s_check (rc == RECON_CSV_ENOHEADER || (rc >= RECON_CSV_EUTF8 && rc <= RECON_CSV_EQUOTE));
        s_check (recon_csv_ncolumns (csv) == 0);
    }
    while ((rc = recon_csv_next (csv)) != 0)
        s_check (!recon_csv_is_fatal (rc));
    recon_csv_destroy (&csv);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_record = data[0] & 0x80 ? RECON_CSV_MAX_RECORD_DEFAULT : 1u + (data[0] & 0x7F);
    size_t small = 1u + data[1] % 16;
    const char *in = (const char *) data + 2;
    size_t n = size - 2;

    /*  Line breaks before each offset, as the reader should count them.  */
    size_t *breaks = malloc ((n + 1) * sizeof *breaks);
    s_check (breaks != NULL);
    breaks[0] = 0;
    for (size_t i = 0; i < n; i++)
        breaks[i + 1] = breaks[i] + (in[i] == '\n' || (in[i] == '\r' && (i + 1 == n || in[i + 1] != '\n')));

    recon_csv_t *a = s_open (in, n, small, max_record);
    recon_csv_t *b = s_open (in, n, 0, max_record);
    uint64_t next_free = 0;
    long last_line = 0;
    for (size_t calls = 0;; calls++) {
        s_check (calls <= n + 1);
        int rc = recon_csv_next (a);
        s_check (recon_csv_next (b) == rc);
        if (rc == 0)
            break;
        s_same (a, b);
        s_check_record (a, rc, in, n, max_record);
        size_t raw_len;
        recon_csv_raw (a, &raw_len);
        uint64_t off = recon_csv_offset (a);
        long line = recon_csv_line (a);
        s_check (off >= next_free);
        s_check (line > last_line);
        s_check ((size_t) line == 1 + breaks[off]);
        next_free = off + raw_len;
        last_line = line;
    }
    s_check (recon_csv_next (a) == 0 && recon_csv_nfields (a) == 0);
    recon_csv_destroy (&a);
    recon_csv_destroy (&b);
    free (breaks);

    s_check_header (in, n, max_record);
    return 0;
}
