/*  recon/utf8.h — the one UTF-8 check: CSV fields, COPY text, identifiers
    from files and recon-web's requests all go to PostgreSQL, which
    refuses invalid UTF-8, so each refuses it first, with the same rules
    (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).   */
#ifndef RECON_UTF8_H
#define RECON_UTF8_H

#include <stddef.h>

/*  Length (2..4) of the valid multi-byte sequence at P, whose first byte
    is 0x80 or above; 0 when LIM (one past the last readable byte) cuts it
    short before any invalid byte; -1 when it is invalid.                  */
int recon_utf8_seq (const unsigned char *p, const unsigned char *lim);

/*  1 when the N bytes at S are valid UTF-8 (NUL bytes are ASCII here:
    callers that refuse them check for them), else 0.                      */
int recon_utf8_valid (const char *s, size_t n);

#endif
