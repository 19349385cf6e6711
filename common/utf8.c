/*  utf8.c — UTF-8 validation for everything recon hands to PostgreSQL.

    Design decision: the second byte's allowed range depends on the first
    (RFC 3629's table), which rules out overlongs, surrogates and code
    points past U+10FFFF without decoding the code point.                 */
#include "recon/utf8.h"

int
recon_utf8_seq (const unsigned char *p, const unsigned char *lim)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return -1;
    for (int i = 1; i < n; i++) {
        if (p + i >= lim)
            return 0;
        if (p[i] < lo || p[i] > hi)
            return -1;
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

int
recon_utf8_valid (const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
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
