/*  recon/copybuf.h — lines of PostgreSQL COPY text format, built in memory.

    Used to stream rows into COPY … FROM STDIN: the importer's staging
    tables and the worker's batch results. Appends never fail visibly:
    an allocation failure sets `failed`, which the caller checks once
    before sending, keeping the row-building code free of error paths.    */
#ifndef RECON_COPYBUF_H
#define RECON_COPYBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;  /* owned; free() it when done */
    size_t len, cap;
    int failed;  /* an allocation failed: the content is incomplete */
} recon_copybuf_t;

/*  Appends N bytes of text, escaping backslash, tab, newline and CR.      */
void recon_copybuf_text (recon_copybuf_t *b, const char *s, size_t n);
void recon_copybuf_cstr (recon_copybuf_t *b, const char *s);
/*  Appends N bytes as they are (for building other text in the buffer).  */
void recon_copybuf_bytes (recon_copybuf_t *b, const void *data, size_t n);
void recon_copybuf_int (recon_copybuf_t *b, int64_t v);
/*  An instant (µs since the epoch) as ISO 8601 UTC.                       */
void recon_copybuf_time (recon_copybuf_t *b, int64_t t);
void recon_copybuf_null (recon_copybuf_t *b);
void recon_copybuf_tab (recon_copybuf_t *b);
void recon_copybuf_end (recon_copybuf_t *b);

/*  Appends TEXT with every byte that is not valid UTF-8, or is NUL, shown
    as \xNN — for storing bytes from outside (rejected rows) as text.      */
void recon_copybuf_raw (recon_copybuf_t *b, const char *text, size_t n);

#endif
