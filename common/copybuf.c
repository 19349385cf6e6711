/*  copybuf.c — COPY text-format lines in a growable buffer.

    Design decision: escaping is done in one pass into pre-reserved space
    (twice the input, the worst case), so the hot path of an import is a
    tight loop with no per-byte function calls or bounds checks.          */
#include "recon/copybuf.h"
#include "recon/timestamp.h"
#include "recon/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_reserve (recon_copybuf_t *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more)
        cap *= 2;
    char *data = realloc (b->data, cap);
    if (!data) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void
recon_copybuf_text (recon_copybuf_t *b, const char *s, size_t n)
{
    /*  Worst case every byte needs a backslash.                           */
    if (s_reserve (b, 2 * n) < 0)
        return;
    char *out = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        default: *out++ = c;
        }
    }
    b->len = (size_t) (out - b->data);
}

void
recon_copybuf_bytes (recon_copybuf_t *b, const void *data, size_t n)
{
    if (s_reserve (b, n) < 0)
        return;
    memcpy (b->data + b->len, data, n);
    b->len += n;
}

void
recon_copybuf_cstr (recon_copybuf_t *b, const char *s)
{
    recon_copybuf_text (b, s, strlen (s));
}

void
recon_copybuf_int (recon_copybuf_t *b, int64_t v)
{
    if (s_reserve (b, 24) < 0)
        return;
    b->len += (size_t) snprintf (b->data + b->len, 24, "%lld", (long long) v);
}

void
recon_copybuf_time (recon_copybuf_t *b, int64_t t)
{
    if (s_reserve (b, RECON_TIMESTAMP_BUFSIZE) < 0)
        return;
    b->len += (size_t) recon_timestamp_format (t, b->data + b->len);
}

void
recon_copybuf_null (recon_copybuf_t *b)
{
    if (s_reserve (b, 2) == 0) {
        b->data[b->len++] = '\\';
        b->data[b->len++] = 'N';
    }
}

void
recon_copybuf_tab (recon_copybuf_t *b)
{
    if (s_reserve (b, 1) == 0)
        b->data[b->len++] = '\t';
}

void
recon_copybuf_end (recon_copybuf_t *b)
{
    if (s_reserve (b, 1) == 0)
        b->data[b->len++] = '\n';
}

void
recon_copybuf_raw (recon_copybuf_t *b, const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *) text, *end = p + n;
    while (p < end) {
        const unsigned char *start = p;
        while (p < end && *p && *p < 0x80)
            p++;
        if (p > start)
            recon_copybuf_text (b, (const char *) start, (size_t) (p - start));
        if (p == end)
            break;
        int len = recon_utf8_seq (p, end); /* -1 for a NUL too */
        if (len > 0) {
            recon_copybuf_text (b, (const char *) p, (size_t) len);
            p += len;
        } else {
            char esc[8];
            snprintf (esc, sizeof esc, "\\x%02X", *p++);
            recon_copybuf_cstr (b, esc);
        }
    }
}
