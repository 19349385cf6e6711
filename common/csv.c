/*  csv.c — streaming RFC 4180 reader with per-record error recovery.

    Design decision: a record is always parsed from a contiguous window of
    the input. When a record runs past the bytes read so far, the window is
    refilled (the partial record moved to its front, the window grown up to
    the maximum record size) and the record is parsed again from its start.
    The parser is therefore a plain forward scan with no resumable state,
    its result depends only on the input bytes (never on how reads were
    split), and a sentinel byte at the scan limit lets the inner loops test
    one table entry per byte and nothing else.                            */
#include "recon/csv.h"
#include "recon/utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  Byte classes. 0 must be plain data: the inner loops run while 0.      */
enum { C_DATA, C_DELIM, C_QUOTE, C_LF, C_CR, C_NUL, C_HIGH };

/*  s_parse outcomes besides negative fatal codes.                        */
enum { P_DONE, P_MORE, P_BROKEN };

struct recon_csv_t {
    int fd;                     /* -1 when reading from memory            */
    const unsigned char *src;   /* memory source                          */
    size_t src_len, src_pos;
    char *file_name;
    size_t buffer_size, max_record;

    unsigned char *win;         /* window, cap + 1 bytes (sentinel)       */
    size_t cap, len, pos;       /* capacity, bytes held, first unread     */
    uint64_t win_offset;        /* input offset of win[0]                 */
    long line;                  /* physical line at pos                   */
    int eof, started, bom_done, done, fatal;

    int skip_pending;           /* resume after a broken record:          */
    size_t skip_off;            /*   scan for a line break from here      */
    long skip_line;             /*   line number at skip_off              */

    size_t rec_off, raw_len;    /* current record: raw bytes in win       */
    long rec_line;
    uint64_t rec_offset;
    char *fbuf;                 /* unescaped fields, each NUL-terminated  */
    size_t fbuf_cap;
    uint32_t *off;              /* field i spans off[i] .. off[i+1] - 1   */
    size_t off_cap, nfields;
    char errbuf[160];

    int header_read;
    char *hbuf;
    uint32_t *hoff;
    size_t ncols;

    unsigned char cls_plain[256], cls_quoted[256];
};

/*  What s_parse found, in offsets from the record start.                 */
typedef struct {
    size_t end;                 /* P_DONE: raw length                     */
    size_t next;                /* P_DONE: where the next record starts   */
    long next_line;
    int err;                    /* first content error (ENUL, EUTF8)      */
    size_t err_field;           /* 1-based                                */
    int code;                   /* P_BROKEN: EQUOTE, ESYNTAX, ETOOLONG    */
    const char *what;           /* P_BROKEN: message format               */
    size_t x;                   /* P_BROKEN: where the quoting went wrong */
    long x_line;
    size_t field;               /* P_BROKEN: 1-based                      */
} s_result_t;

static recon_csv_t *
s_new (const char *file_name)
{
    recon_csv_t *csv = calloc (1, sizeof *csv);
    if (!csv)
        return NULL;
    csv->file_name = strdup (file_name ? file_name : "");
    if (!csv->file_name) {
        free (csv);
        return NULL;
    }
    csv->fd = -1;
    csv->buffer_size = RECON_CSV_BUFFER_SIZE_DEFAULT;
    csv->max_record = RECON_CSV_MAX_RECORD_DEFAULT;
    csv->line = 1;
    for (int c = 0x80; c < 0x100; c++)
        csv->cls_plain[c] = csv->cls_quoted[c] = C_HIGH;
    csv->cls_plain[','] = C_DELIM;
    csv->cls_plain['"'] = csv->cls_quoted['"'] = C_QUOTE;
    csv->cls_plain['\n'] = csv->cls_quoted['\n'] = C_LF;
    csv->cls_plain['\r'] = csv->cls_quoted['\r'] = C_CR;
    csv->cls_plain['\0'] = csv->cls_quoted['\0'] = C_NUL;
    return csv;
}

recon_csv_t *
recon_csv_new (int fd, const char *file_name)
{
    if (fd < 0)
        return NULL;
    recon_csv_t *csv = s_new (file_name);
    if (csv)
        csv->fd = fd;
    return csv;
}

recon_csv_t *
recon_csv_new_from_buffer (const char *data, size_t len, const char *file_name)
{
    if (!data && len)
        return NULL;
    recon_csv_t *csv = s_new (file_name);
    if (csv) {
        csv->src = (const unsigned char *) data;
        csv->src_len = len;
    }
    return csv;
}

void
recon_csv_destroy (recon_csv_t **p)
{
    if (!p || !*p)
        return;
    recon_csv_t *csv = *p;
    free (csv->file_name);
    free (csv->win);
    free (csv->fbuf);
    free (csv->off);
    free (csv->hbuf);
    free (csv->hoff);
    free (csv);
    *p = NULL;
}

int
recon_csv_set_buffer_size (recon_csv_t *csv, size_t size)
{
    if (csv->started || size < 1 || size > RECON_CSV_MAX_RECORD_LIMIT)
        return RECON_CSV_EINVAL;
    csv->buffer_size = size;
    return 0;
}

int
recon_csv_set_max_record (recon_csv_t *csv, size_t size)
{
    if (csv->started || size < 1 || size > RECON_CSV_MAX_RECORD_LIMIT)
        return RECON_CSV_EINVAL;
    csv->max_record = size;
    return 0;
}

static int
s_fatal (recon_csv_t *csv, int code, const char *what)
{
    csv->fatal = code;
    snprintf (csv->errbuf, sizeof csv->errbuf, "%s", what);
    return code;
}

/*  Makes at least one more byte available after csv->len unless the input
    is exhausted, keeping win[pos .. len) (moved to the front). Callers never
    need more than max_record + 2 bytes past pos, which bounds the window. */
static int
s_refill (recon_csv_t *csv)
{
    if (csv->eof)
        return 0;
    if (csv->pos > 0) {
        memmove (csv->win, csv->win + csv->pos, csv->len - csv->pos);
        csv->win_offset += csv->pos;
        csv->len -= csv->pos;
        csv->pos = 0;
    }
    if (csv->len == csv->cap) {
        size_t max = csv->max_record + 2;
        if (max < csv->buffer_size)
            max = csv->buffer_size;
        if (csv->cap >= max)
            return s_fatal (csv, RECON_CSV_ENOMEM, "internal error: read window full");
        size_t cap = csv->cap ? 2 * csv->cap : csv->buffer_size;
        if (cap > max)
            cap = max;
        unsigned char *win = realloc (csv->win, cap + 1);
        if (!win)
            return s_fatal (csv, RECON_CSV_ENOMEM, "out of memory");
        csv->win = win;
        csv->cap = cap;
    }
    /*  Fill the window completely: every refill costs a re-parse of the
        partial record, so fewer, fuller reads are cheaper.               */
    while (csv->len < csv->cap) {
        size_t room = csv->cap - csv->len;
        if (csv->fd < 0) {
            size_t n = csv->src_len - csv->src_pos;
            if (n > room)
                n = room;
            if (n)
                memcpy (csv->win + csv->len, csv->src + csv->src_pos, n);
            csv->src_pos += n;
            csv->len += n;
            if (csv->src_pos == csv->src_len)
                csv->eof = 1;
            if (csv->eof)
                break;
            continue;
        }
        ssize_t n = read (csv->fd, csv->win + csv->len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            s_fatal (csv, RECON_CSV_EIO, "");
            snprintf (csv->errbuf, sizeof csv->errbuf, "read failed: %s", strerror (err));
            return RECON_CSV_EIO;
        }
        if (n == 0) {
            csv->eof = 1;
            break;
        }
        csv->len += (size_t) n;
    }
    return 0;
}

static int
s_reserve (recon_csv_t *csv, size_t fbuf_need)
{
    if (csv->fbuf_cap < fbuf_need) {
        size_t cap = csv->fbuf_cap ? csv->fbuf_cap : 256;
        while (cap < fbuf_need)
            cap *= 2;
        char *fbuf = realloc (csv->fbuf, cap);
        if (!fbuf)
            return -1;
        csv->fbuf = fbuf;
        csv->fbuf_cap = cap;
    }
    return 0;
}

static int
s_grow_off (recon_csv_t *csv)
{
    size_t cap = csv->off_cap ? 2 * csv->off_cap : 64;
    uint32_t *off = realloc (csv->off, cap * sizeof *off);
    if (!off)
        return -1;
    csv->off = off;
    csv->off_cap = cap;
    return 0;
}

static void
s_content_error (s_result_t *r, int code, size_t field)
{
    if (!r->err) {
        r->err = code;
        r->err_field = field;
    }
}

static void
s_broken (s_result_t *r, int code, const char *what, size_t x, long x_line,
          size_t field)
{
    r->code = code;
    r->what = what;
    r->x = x;
    r->x_line = x_line;
    r->field = field;
}

/*  Reaching the scan limit: past the record cap the record is too long;
    before EOF the window needs more bytes; at EOF the caller goes on.    */
#define S_LIMIT(xp, xl, in_quotes)                                          \
    do {                                                                    \
        if (at_cap) {                                                       \
            s_broken (r, RECON_CSV_ETOOLONG, (in_quotes) ? "quoted" : "",   \
                      (size_t) ((xp) - start), (xl), nf);                   \
            rc = P_BROKEN;                                                  \
            goto done;                                                      \
        }                                                                   \
        if (!csv->eof) {                                                    \
            rc = P_MORE;                                                    \
            goto done;                                                      \
        }                                                                   \
    } while (0)

/*  Parses the record starting at win[pos]. Reads at most max_record + 2
    bytes past pos, so a record at the cap cannot make the window grow
    further, and stops with P_MORE when it needs bytes not read yet.      */
static int
s_parse (recon_csv_t *csv, s_result_t *r)
{
    unsigned char *base = csv->win;
    const unsigned char *start = base + csv->pos;
    size_t cap_off = csv->pos + csv->max_record + 2;
    int at_cap = csv->len >= cap_off;
    unsigned char *lim = base + (at_cap ? cap_off : csv->len);
    if (s_reserve (csv, (size_t) (lim - start) + 1) < 0)
        return RECON_CSV_ENOMEM;

    /*  The sentinel is NUL, a class that stops both inner loops; a real NUL
        is told apart from it by its address. The window has one spare byte
        so LIM may equal len.                                              */
    unsigned char saved = *lim;
    *lim = '\0';
    const unsigned char *ucls = csv->cls_plain, *qcls = csv->cls_quoted;
    const unsigned char *p = start;
    char *out = csv->fbuf;
    size_t nf = 0;
    long line = csv->line;
    int rc = P_DONE;
    memset (r, 0, sizeof *r);

    for (;;) {
        if (nf + 2 > csv->off_cap && s_grow_off (csv) < 0) {
            rc = RECON_CSV_ENOMEM;
            goto done;
        }
        csv->off[nf++] = (uint32_t) (out - csv->fbuf);
        if (*p != '"') {
            for (;;) {
                const unsigned char *s = p;
                while (!ucls[*p])
                    p++;
                memcpy (out, s, (size_t) (p - s));
                out += p - s;
                unsigned c = ucls[*p];
                if (c == C_DELIM || c == C_LF || c == C_CR || p == lim)
                    break;
                if (c == C_QUOTE) {
                    s_broken (r, RECON_CSV_ESYNTAX, "quote inside unquoted field",
                              (size_t) (p - start), line, nf);
                    rc = P_BROKEN;
                    goto done;
                }
                if (c == C_NUL) {
                    s_content_error (r, RECON_CSV_ENUL, nf);
                    *out++ = (char) *p++;
                    continue;
                }
                int n = recon_utf8_seq (p, lim);
                if (n > 0) {
                    memcpy (out, p, (size_t) n);
                    out += n;
                    p += n;
                    continue;
                }
                if (n == 0)
                    S_LIMIT (p, line, 0);
                s_content_error (r, RECON_CSV_EUTF8, nf);
                *out++ = (char) *p++;
            }
        } else {
            const unsigned char *open = p;
            long open_line = line;
            p++;
            for (;;) {
                const unsigned char *s = p;
                while (!qcls[*p])
                    p++;
                memcpy (out, s, (size_t) (p - s));
                out += p - s;
                unsigned c = qcls[*p];
                if (c == C_QUOTE) {
                    if (p + 1 == lim)
                        S_LIMIT (open, open_line, 1);
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (c == C_LF) {
                    *out++ = '\n';
                    p++;
                    line++;
                    continue;
                }
                if (c == C_CR) {
                    if (p + 1 == lim)
                        S_LIMIT (open, open_line, 1);
                    if (p[1] != '\n')
                        line++;
                    *out++ = '\r';
                    p++;
                    continue;
                }
                if (p == lim) {
                    S_LIMIT (open, open_line, 1);
                    s_broken (r, RECON_CSV_EQUOTE, "", (size_t) (open - start),
                              open_line, nf);
                    rc = P_BROKEN;
                    goto done;
                }
                if (c == C_NUL) {
                    s_content_error (r, RECON_CSV_ENUL, nf);
                    *out++ = (char) *p++;
                    continue;
                }
                int n = recon_utf8_seq (p, lim);
                if (n > 0) {
                    memcpy (out, p, (size_t) n);
                    out += n;
                    p += n;
                    continue;
                }
                if (n == 0)
                    S_LIMIT (open, open_line, 1);
                s_content_error (r, RECON_CSV_EUTF8, nf);
                *out++ = (char) *p++;
            }
        }

        /*  After the field: a separator, a line break, the limit, or (only
            after a closing quote) anything else, which is an error.       */
        *out++ = '\0';
        unsigned c = ucls[*p];
        if (c == C_DELIM) {
            p++;
            continue;
        }
        if (c == C_LF) {
            r->end = (size_t) (p - start);
            p++;
            line++;
            break;
        }
        if (c == C_CR) {
            if (p + 1 == lim)
                S_LIMIT (p, line, 0);
            r->end = (size_t) (p - start);
            p += p[1] == '\n' ? 2 : 1;
            line++;
            break;
        }
        if (p == lim) {
            S_LIMIT (p, line, 0);
            r->end = (size_t) (p - start);
            break;
        }
        s_broken (r, RECON_CSV_ESYNTAX, "text after closing quote in field",
                  (size_t) (p - start), line, nf);
        rc = P_BROKEN;
        goto done;
    }
    csv->off[nf] = (uint32_t) (out - csv->fbuf);
    csv->nfields = nf;
    r->next = (size_t) (p - start);
    r->next_line = line;

done:
    *lim = saved;
    return rc;
}

#undef S_LIMIT

static int
s_is_break (unsigned char c)
{
    return c == '\n' || c == '\r';
}

/*  A broken record ends at the first line break at or after the point
    where its quoting went wrong, looked for within max_record bytes of its
    start; the next call resumes after that break.                        */
static int
s_finish_broken (recon_csv_t *csv, const s_result_t *r)
{
    for (;;) {
        size_t bound = csv->pos + csv->max_record;
        size_t stop = csv->len < bound ? csv->len : bound;
        size_t i = csv->pos + r->x;
        for (; i < stop; i++)
            if (s_is_break (csv->win[i]))
                break;
        if (i < stop) {
            csv->raw_len = i - csv->pos;
            break;
        }
        if (csv->len >= bound || csv->eof) {
            csv->raw_len = stop - csv->pos;
            break;
        }
        int rc = s_refill (csv);
        if (rc < 0)
            return rc;
    }
    csv->skip_pending = 1;
    csv->skip_off = csv->pos + r->x;
    if (csv->skip_off < csv->pos + csv->raw_len)
        csv->skip_off = csv->pos + csv->raw_len;
    csv->skip_line = r->x_line;

    if (r->code == RECON_CSV_EQUOTE)
        snprintf (csv->errbuf, sizeof csv->errbuf,
                  "unterminated quoted field %zu (opened on line %ld)", r->field,
                  r->x_line);
    else if (r->code == RECON_CSV_ETOOLONG && r->what[0])
        snprintf (csv->errbuf, sizeof csv->errbuf,
                  "record longer than %zu bytes (quoted field %zu opened on line %ld "
                  "not closed)",
                  csv->max_record, r->field, r->x_line);
    else if (r->code == RECON_CSV_ETOOLONG)
        snprintf (csv->errbuf, sizeof csv->errbuf, "record longer than %zu bytes",
                  csv->max_record);
    else
        snprintf (csv->errbuf, sizeof csv->errbuf, "%s %zu", r->what, r->field);
    return r->code;
}

/*  Resumes after a broken record: drops everything up to and including the
    next line break (CRLF counts as one).                                  */
static int
s_skip_line (recon_csv_t *csv)
{
    csv->skip_pending = 0;
    csv->pos = csv->skip_off;
    for (;;) {
        size_t i = csv->pos;
        while (i < csv->len && !s_is_break (csv->win[i]))
            i++;
        if (i == csv->len) {
            csv->pos = i;
            if (csv->eof)
                return 0;
        } else if (csv->win[i] == '\n') {
            csv->pos = i + 1;
            break;
        } else if (i + 1 == csv->len && !csv->eof) {
            csv->pos = i;
        } else {
            csv->pos = i + 1 + (i + 1 < csv->len && csv->win[i + 1] == '\n');
            break;
        }
        int rc = s_refill (csv);
        if (rc < 0)
            return rc;
    }
    csv->line = csv->skip_line + 1;
    return 0;
}

/*  Skips empty lines. Returns 1 when a record starts at pos, 0 at EOF.   */
static int
s_skip_blank (recon_csv_t *csv)
{
    for (;;) {
        int rc;
        if (csv->pos == csv->len) {
            if (csv->eof)
                return 0;
            if ((rc = s_refill (csv)) < 0)
                return rc;
            continue;
        }
        unsigned char c = csv->win[csv->pos];
        if (c == '\n') {
            csv->pos++;
            csv->line++;
        } else if (c == '\r') {
            if (csv->pos + 1 == csv->len && !csv->eof) {
                if ((rc = s_refill (csv)) < 0)
                    return rc;
                continue;
            }
            csv->pos += 1 + (csv->pos + 1 < csv->len && csv->win[csv->pos + 1] == '\n');
            csv->line++;
        } else
            return 1;
    }
}

static int
s_skip_bom (recon_csv_t *csv)
{
    csv->bom_done = 1;
    while (csv->len - csv->pos < 3 && !csv->eof) {
        int rc = s_refill (csv);
        if (rc < 0)
            return rc;
    }
    if (csv->len - csv->pos >= 3 && memcmp (csv->win + csv->pos, "\xEF\xBB\xBF", 3) == 0)
        csv->pos += 3;
    return 0;
}

int
recon_csv_next (recon_csv_t *csv)
{
    csv->nfields = 0;
    csv->raw_len = 0;
    csv->rec_off = 0;
    if (csv->fatal)
        return csv->fatal;
    csv->errbuf[0] = '\0';
    if (csv->done)
        return 0;
    csv->started = 1;

    int rc = 0;
    if (csv->skip_pending)
        rc = s_skip_line (csv);
    if (rc == 0 && !csv->bom_done)
        rc = s_skip_bom (csv);
    if (rc == 0)
        rc = s_skip_blank (csv);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        csv->done = 1;
        return 0;
    }

    s_result_t r;
    while ((rc = s_parse (csv, &r)) == P_MORE)
        if ((rc = s_refill (csv)) < 0)
            return rc;
    if (rc < 0)
        return s_fatal (csv, rc, "out of memory");

    csv->rec_line = csv->line;
    if (rc == P_BROKEN) {
        csv->nfields = 0;
        rc = s_finish_broken (csv, &r);
        /*  s_finish_broken may refill, which moves the record.           */
        csv->rec_off = csv->pos;
        csv->rec_offset = csv->win_offset + csv->pos;
        return rc;
    }

    csv->rec_off = csv->pos;
    csv->rec_offset = csv->win_offset + csv->pos;
    csv->raw_len = r.end;
    csv->pos += r.next;
    csv->line = r.next_line;
    if (r.end > csv->max_record) {
        csv->raw_len = csv->max_record;
        snprintf (csv->errbuf, sizeof csv->errbuf, "record longer than %zu bytes",
                  csv->max_record);
        rc = RECON_CSV_ETOOLONG;
    } else if (r.err) {
        snprintf (csv->errbuf, sizeof csv->errbuf, "%s in field %zu",
                  r.err == RECON_CSV_ENUL ? "NUL byte" : "invalid UTF-8", r.err_field);
        rc = r.err;
    } else
        return 1;
    csv->nfields = 0;
    return rc;
}

int
recon_csv_is_fatal (int code)
{
    return code == RECON_CSV_EIO || code == RECON_CSV_ENOMEM;
}

size_t
recon_csv_nfields (const recon_csv_t *csv)
{
    return csv->nfields;
}

const char *
recon_csv_field (const recon_csv_t *csv, size_t i, size_t *len)
{
    if (i >= csv->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = csv->off[i + 1] - csv->off[i] - 1;
    return csv->fbuf + csv->off[i];
}

const char *
recon_csv_raw (const recon_csv_t *csv, size_t *len)
{
    if (len)
        *len = csv->raw_len;
    if (!csv->win)
        return "";
    return (const char *) csv->win + csv->rec_off;
}

long
recon_csv_line (const recon_csv_t *csv)
{
    return csv->rec_line;
}

uint64_t
recon_csv_offset (const recon_csv_t *csv)
{
    return csv->rec_offset;
}

const char *
recon_csv_errstr (const recon_csv_t *csv)
{
    return csv->errbuf;
}

const char *
recon_csv_file_name (const recon_csv_t *csv)
{
    return csv->file_name;
}

static int
s_is_blank (char c)
{
    return c == ' ' || c == '\t';
}

int
recon_csv_read_header (recon_csv_t *csv)
{
    if (csv->header_read || csv->started)
        return RECON_CSV_EINVAL;
    csv->header_read = 1;
    int rc = recon_csv_next (csv);
    if (rc == 0) {
        snprintf (csv->errbuf, sizeof csv->errbuf, "no header: the input is empty");
        return RECON_CSV_ENOHEADER;
    }
    if (rc < 0)
        return rc;

    size_t n = csv->nfields;
    csv->hbuf = malloc (csv->off[n] ? csv->off[n] : 1);
    csv->hoff = malloc ((n + 1) * sizeof *csv->hoff);
    if (!csv->hbuf || !csv->hoff) {
        free (csv->hbuf);
        free (csv->hoff);
        csv->hbuf = NULL;
        csv->hoff = NULL;
        return s_fatal (csv, RECON_CSV_ENOMEM, "out of memory");
    }
    uint32_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = recon_csv_field (csv, i, &len);
        while (len && s_is_blank (name[0])) {
            name++;
            len--;
        }
        while (len && s_is_blank (name[len - 1]))
            len--;
        csv->hoff[i] = at;
        memcpy (csv->hbuf + at, name, len);
        at += (uint32_t) len;
        csv->hbuf[at++] = '\0';
    }
    csv->ncols = n;
    return 0;
}

size_t
recon_csv_ncolumns (const recon_csv_t *csv)
{
    return csv->ncols;
}

const char *
recon_csv_column_name (const recon_csv_t *csv, size_t i)
{
    return i < csv->ncols ? csv->hbuf + csv->hoff[i] : NULL;
}

/*  ASCII only: strcasecmp would follow the locale.                       */
static int
s_equal_ci (const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char) (x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char) (y - 'A' + 'a');
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

static int
s_column (const recon_csv_t *csv, const char *name, int ci)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < csv->ncols && i < (size_t) INT32_MAX; i++) {
        const char *h = csv->hbuf + csv->hoff[i];
        if (ci ? s_equal_ci (h, name) : strcmp (h, name) == 0)
            return (int) i;
    }
    return -1;
}

int
recon_csv_column (const recon_csv_t *csv, const char *name)
{
    return s_column (csv, name, 0);
}

int
recon_csv_column_ci (const recon_csv_t *csv, const char *name)
{
    return s_column (csv, name, 1);
}
