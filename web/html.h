/*  html.h — the pure pieces of recon-web: a growable text buffer, HTML
    escaping, and decoding of application/x-www-form-urlencoded bodies.
    No I/O; unit-tested and fuzzed.                                          */
#ifndef RECON_WEB_HTML_H
#define RECON_WEB_HTML_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed: the text is incomplete */
} web_buf_t;

/*  Appends printf-formatted text (not escaped: for markup we write).     */
void web_printf (web_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Appends LEN bytes of DATA as they are, NUL bytes included (a request
    body: the form decoder must see a NUL to refuse it).                  */
void web_append (web_buf_t *b, const void *data, size_t len);

/*  Appends TEXT with & < > " ' escaped: for anything that came from data
    or a request, in element content and in quoted attributes.             */
void web_esc (web_buf_t *b, const char *text);

/*  Appends TEXT percent-encoded for a URL query value.                    */
void web_url (web_buf_t *b, const char *text);

void web_buf_free (web_buf_t *b);

#define WEB_FORM_MAX 16

typedef struct {
    char *name[WEB_FORM_MAX];
    char *value[WEB_FORM_MAX];
    int n;
    char *mem; /* owns every string */
} web_form_t;

/*  Decodes an urlencoded BODY of LEN bytes ('+' is a space, %XX a byte)
    into FORM. Returns 0, or -1 when it is malformed (bad %-escape, a NUL
    byte, invalid UTF-8 in a name or value, more than WEB_FORM_MAX fields)
    or memory ran out.                                                     */
int web_form_parse (web_form_t *form, const char *body, size_t len);

/*  The value of NAME, or NULL.                                            */
const char *web_form_get (const web_form_t *form, const char *name);

void web_form_free (web_form_t *form);

#endif
