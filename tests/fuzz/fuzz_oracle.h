/*  fuzz_oracle.h — checks the fuzz targets share, written apart from the
    code under test on purpose: an oracle that called recon's own UTF-8
    check would agree with it, bugs and all.                               */
#ifndef RECON_FUZZ_ORACLE_H
#define RECON_FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/*  1 when the N bytes at S are valid UTF-8 (no overlong forms, no
    surrogates, nothing past U+10FFFF); with NUL_OK 0 a NUL byte makes it
    invalid too (PostgreSQL text cannot hold one).                         */
static inline int
fuzz_utf8_valid (const unsigned char *s, size_t n, int nul_ok)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            if (c == 0 && !nul_ok)
                return 0;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else
            return 0;
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

#endif
