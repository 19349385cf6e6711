/*  cron.c — parse once into bit sets, then matching is five bit tests.

    Design decision: UTC only. A schedule that follows a local clock moves
    by an hour twice a year and runs a window twice or never; finance runs
    want windows that tile time exactly.                                   */
#include "recon/cron.h"
#include "recon/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recon_cron {
    uint64_t minute, hour, dom, month, dow;
    int dom_star, dow_star;
};

static const struct {
    const char *name;
    int lo, hi;
} s_fields[] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12},
    {"day of week", 0, 7},
};

static int
s_number (const char **p, int *out)
{
    if (**p < '0' || **p > '9')
        return -1;
    int v = 0;
    while (**p >= '0' && **p <= '9' && v < 1000)
        v = v * 10 + (*(*p)++ - '0');
    *out = v;
    return 0;
}

/*  One comma-separated item: *, n, a-b, with an optional /step.           */
static int
s_item (const char **p, int lo, int hi, uint64_t *bits, int *star)
{
    int a = lo, b = hi, step = 1;
    if (**p == '*') {
        (*p)++;
        *star = 1;
    } else {
        if (s_number (p, &a) < 0)
            return -1;
        b = a;
        if (**p == '-') {
            (*p)++;
            if (s_number (p, &b) < 0)
                return -1;
        }
    }
    if (**p == '/') {
        (*p)++;
        if (s_number (p, &step) < 0 || step < 1)
            return -1;
        if (a == b && !*star)
            b = hi;
        *star = 0;
    }
    if (a < lo || b > hi || a > b)
        return -1;
    for (int v = a; v <= b; v += step)
        *bits |= UINT64_C (1) << v;
    return 0;
}

static int
s_field (const char *text, int lo, int hi, uint64_t *bits, int *star)
{
    const char *p = text;
    *bits = 0;
    *star = 0;
    for (;;) {
        int item_star = 0;
        if (s_item (&p, lo, hi, bits, &item_star) < 0)
            return -1;
        *star |= item_star;
        if (*p != ',')
            break;
        p++;
    }
    return *p == '\0' ? 0 : -1;
}

recon_cron_t *
recon_cron_new (const char *expr, char *err, size_t errlen)
{
    char copy[256], *save = NULL;
    snprintf (copy, sizeof copy, "%s", expr ? expr : "");
    recon_cron_t *c = calloc (1, sizeof *c);
    if (!c) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    uint64_t *bits[] = {&c->minute, &c->hour, &c->dom, &c->month, &c->dow};
    int stars[5];
    int n = 0;
    for (char *tok = strtok_r (copy, " \t", &save); tok; tok = strtok_r (NULL, " \t", &save)) {
        if (n == 5 || s_field (tok, s_fields[n].lo, s_fields[n].hi, bits[n], &stars[n]) < 0) {
            snprintf (err, errlen, n == 5 ? "more than five fields" : "bad %s field '%s'",
                      s_fields[n < 5 ? n : 4].name, tok);
            free (c);
            return NULL;
        }
        n++;
    }
    if (n != 5) {
        snprintf (err, errlen, "expected five fields (minute hour day month weekday), got %d", n);
        free (c);
        return NULL;
    }
    if (c->dow & (UINT64_C (1) << 7))
        c->dow |= 1; /* 7 is Sunday too */
    c->dom_star = stars[2];
    c->dow_star = stars[4];
    return c;
}

void
recon_cron_destroy (recon_cron_t **p)
{
    if (!p || !*p)
        return;
    free (*p);
    *p = NULL;
}

int
recon_cron_matches (const recon_cron_t *c, int64_t t)
{
    int64_t secs = t / RECON_USEC_PER_SEC - (t % RECON_USEC_PER_SEC < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    recon_civil_from_days (days, &y, &m, &d);
    int dow = (int) ((days % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    if (!(c->minute >> (sod / 60 % 60) & 1) || !(c->hour >> (sod / 3600) & 1)
        || !(c->month >> m & 1))
        return 0;
    int dom_ok = (int) (c->dom >> d & 1), dow_ok = (int) (c->dow >> dow & 1);
    if (c->dom_star || c->dow_star)
        return dom_ok && dow_ok;
    return dom_ok || dow_ok;
}
