/*  html.c — text buffer, escaping and form decoding for recon-web.

    The one decision to know: pages are built by appending to one buffer,
    and every value that did not come from our own source code goes
    through web_esc — there is no other way to put data into a page.      */
#include "html.h"
#include "recon/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_reserve (web_buf_t *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc (b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static void
s_append (web_buf_t *b, const char *s, size_t n)
{
    if (s_reserve (b, n) < 0)
        return;
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
web_printf (web_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    va_list ap2;
    va_copy (ap2, ap);
    int n = vsnprintf (NULL, 0, fmt, ap);
    va_end (ap);
    if (n >= 0 && s_reserve (b, (size_t) n) == 0) {
        vsnprintf (b->data + b->len, (size_t) n + 1, fmt, ap2);
        b->len += (size_t) n;
    }
    va_end (ap2);
}

void
web_append (web_buf_t *b, const void *data, size_t len)
{
    if (s_reserve (b, len) == 0) {
        memcpy (b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
    }
}

void
web_esc (web_buf_t *b, const char *text)
{
    if (!text)
        return;
    const char *run = text;
    for (const char *c = text; *c; c++) {
        const char *rep = NULL;
        switch (*c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        s_append (b, run, (size_t) (c - run));
        s_append (b, rep, strlen (rep));
        run = c + 1;
    }
    s_append (b, run, strlen (run));
}

void
web_url (web_buf_t *b, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *) (text ? text : ""); *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || *c == '-' || *c == '_' || *c == '.' || *c == '~') {
            s_append (b, (const char *) c, 1);
        } else {
            char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            s_append (b, e, 3);
        }
    }
}

void
web_buf_free (web_buf_t *b)
{
    free (b->data);
    memset (b, 0, sizeof *b);
}

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
web_form_parse (web_form_t *form, const char *body, size_t len)
{
    memset (form, 0, sizeof *form);
    form->mem = malloc (len + 1);
    if (!form->mem)
        return -1;
    /*  Decode in place into mem: '&' ends a field, the first '=' its name. */
    char *out = form->mem, *field = out, *eq = NULL;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || body[i] == '&') {
            *out++ = '\0';
            if (*field || eq) {
                if (form->n == WEB_FORM_MAX)
                    return web_form_free (form), -1;
                form->name[form->n] = field;
                form->value[form->n] = eq ? eq : out - 1; /* "" when no '=' */
                form->n++;
            }
            field = out;
            eq = NULL;
            continue;
        }
        char c = body[i];
        if (c == '\0')
            return web_form_free (form), -1;
        if (c == '=' && !eq) {
            *out++ = '\0';
            eq = out;
            continue;
        }
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (len - i < 3)
                return web_form_free (form), -1;
            int h = s_hex (body[i + 1]), l = s_hex (body[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return web_form_free (form), -1;
            c = (char) (h * 16 + l);
            i += 2;
        }
        *out++ = c;
    }
    /*  Text goes to PostgreSQL, which refuses invalid UTF-8: refuse it here,
        as a bad form, not later as a database error (fuzz_web_http).     */
    for (int k = 0; k < form->n; k++)
        if (!recon_utf8_valid (form->name[k], strlen (form->name[k]))
            || !recon_utf8_valid (form->value[k], strlen (form->value[k])))
            return web_form_free (form), -1;
    return 0;
}

const char *
web_form_get (const web_form_t *form, const char *name)
{
    for (int i = 0; i < form->n; i++)
        if (strcmp (form->name[i], name) == 0)
            return form->value[i];
    return NULL;
}

void
web_form_free (web_form_t *form)
{
    free (form->mem);
    memset (form, 0, sizeof *form);
}
