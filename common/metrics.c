/*  metrics.c — a small Prometheus registry (counters, gauges, histograms).

    Design decision: one mutex per registry guards every family and series.
    Updates are a few per batch or message and a scrape renders a few
    hundred lines, so contention is negligible, and a single lock makes a
    scrape a consistent snapshot (a histogram's buckets, sum and count are
    never seen half-updated), which per-value atomics would not.          */
#include "recon/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;

typedef struct s_series {
    struct s_series *next;
    char *values[RECON_METRICS_MAX_LABELS];
    double value;                                 /* counter, gauge */
    double sum;                                   /* histogram */
    unsigned long long count;
    unsigned long long buckets[RECON_METRICS_MAX_BUCKETS]; /* not cumulative */
} s_series_t;

struct recon_metric {
    recon_metrics_t *reg;
    struct recon_metric *next;
    s_type_t type;
    char *name, *help;
    int nlabels;
    char *labels[RECON_METRICS_MAX_LABELS];
    int nbounds;
    double bounds[RECON_METRICS_MAX_BUCKETS];
    s_series_t *series, *last;
    int nseries;
};

struct recon_metrics {
    pthread_mutex_t lock;
    recon_metric_t *families, *last;
};

recon_metrics_t *
recon_metrics_new (void)
{
    recon_metrics_t *reg = calloc (1, sizeof *reg);
    if (reg && pthread_mutex_init (&reg->lock, NULL) != 0) {
        free (reg);
        return NULL;
    }
    return reg;
}

static void
s_series_free (s_series_t *s, int nlabels)
{
    for (int i = 0; i < nlabels; i++)
        free (s->values[i]);
    free (s);
}

static void
s_family_clear (recon_metric_t *m)
{
    while (m->series) {
        s_series_t *next = m->series->next;
        s_series_free (m->series, m->nlabels);
        m->series = next;
    }
    m->last = NULL;
    m->nseries = 0;
}

static void
s_family_free (recon_metric_t *m)
{
    s_family_clear (m);
    for (int i = 0; i < m->nlabels; i++)
        free (m->labels[i]);
    free (m->name);
    free (m->help);
    free (m);
}

void
recon_metrics_destroy (recon_metrics_t **p)
{
    if (!p || !*p)
        return;
    recon_metrics_t *reg = *p;
    while (reg->families) {
        recon_metric_t *next = reg->families->next;
        s_family_free (reg->families);
        reg->families = next;
    }
    pthread_mutex_destroy (&reg->lock);
    free (reg);
    *p = NULL;
}

/*  Only asserts call it: names are compile-time constants (programmer
    errors), so release builds (NDEBUG) do not check them.                */
#ifndef NDEBUG
static int
s_valid_name (const char *name, int colon_ok)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '_' || (colon_ok && *c == ':')))
            return 0;
    return 1;
}
#endif

/*  Splits "a,b" into M's label names. 0, or -1 on OOM.                    */
static int
s_set_labels (recon_metric_t *m, const char *labels)
{
    if (!labels || !*labels)
        return 0;
    const char *p = labels;
    while (*p) {
        size_t n = strcspn (p, ",");
        assert (m->nlabels < RECON_METRICS_MAX_LABELS && "too many labels");
        char *name = strndup (p, n);
        if (!name)
            return -1;
        assert (s_valid_name (name, 0) && strncmp (name, "__", 2) != 0 && strcmp (name, "le")
                && "invalid label name");
        m->labels[m->nlabels++] = name;
        p += n + (p[n] == ',');
    }
    return 0;
}

static recon_metric_t *
s_register (recon_metrics_t *reg, s_type_t type, const char *name, const char *help,
            const char *labels, const double *bounds, int nbounds)
{
    assert (reg && s_valid_name (name, 1) && "invalid metric name");
    assert ((type != S_COUNTER || (strlen (name) > 6
                                   && strcmp (name + strlen (name) - 6, "_total") == 0))
            && "counters end in _total");
    assert (nbounds >= 0 && nbounds <= RECON_METRICS_MAX_BUCKETS);
    for (int i = 0; i < nbounds; i++)
        assert (isfinite (bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1])
                && "histogram bounds must be finite and ascending");
    recon_metric_t *m = calloc (1, sizeof *m);
    if (!m)
        return NULL;
    m->reg = reg;
    m->type = type;
    m->name = strdup (name);
    m->help = strdup (help ? help : "");
    if (!m->name || !m->help || s_set_labels (m, labels) < 0) {
        s_family_free (m);
        return NULL;
    }
    m->nbounds = nbounds;
    if (nbounds)
        memcpy (m->bounds, bounds, (size_t) nbounds * sizeof *bounds);
    pthread_mutex_lock (&reg->lock);
    if (reg->last)
        reg->last->next = m;
    else
        reg->families = m;
    reg->last = m;
    pthread_mutex_unlock (&reg->lock);
    return m;
}

recon_metric_t *
recon_metrics_counter (recon_metrics_t *reg, const char *name, const char *help,
                       const char *labels)
{
    return s_register (reg, S_COUNTER, name, help, labels, NULL, 0);
}

recon_metric_t *
recon_metrics_gauge (recon_metrics_t *reg, const char *name, const char *help,
                     const char *labels)
{
    return s_register (reg, S_GAUGE, name, help, labels, NULL, 0);
}

recon_metric_t *
recon_metrics_histogram (recon_metrics_t *reg, const char *name, const char *help,
                         const char *labels, const double *bounds, int nbounds)
{
    return s_register (reg, S_HISTOGRAM, name, help, labels, bounds, nbounds);
}

/*  The series for VALUES, created when CREATE; caller holds the lock.     */
static s_series_t *
s_series (recon_metric_t *m, const char *const *values, int create)
{
    for (s_series_t *s = m->series; s; s = s->next) {
        int same = 1;
        for (int i = 0; i < m->nlabels && same; i++)
            same = strcmp (s->values[i], values[i] ? values[i] : "") == 0;
        if (same)
            return s;
    }
    if (!create || m->nseries >= RECON_METRICS_MAX_SERIES)
        return NULL;
    s_series_t *s = calloc (1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < m->nlabels; i++) {
        s->values[i] = strdup (values[i] ? values[i] : "");
        if (!s->values[i]) {
            s_series_free (s, i);
            return NULL;
        }
    }
    if (m->last)
        m->last->next = s;
    else
        m->series = s;
    m->last = s;
    m->nseries++;
    return s;
}

/*  Runs one update under the lock. OP: 0 inc, 1 set, 2 observe.          */
static int
s_update (recon_metric_t *m, const char *const *values, double v, int op)
{
    assert (m && (m->nlabels == 0 || values));
    pthread_mutex_lock (&m->reg->lock);
    s_series_t *s = s_series (m, values, 1);
    if (s) {
        if (op == 0)
            s->value += v;
        else if (op == 1)
            s->value = v;
        else {
            int b = 0;
            while (b < m->nbounds && v > m->bounds[b])
                b++;
            if (b < m->nbounds)
                s->buckets[b]++;
            s->count++;
            s->sum += v;
        }
    }
    pthread_mutex_unlock (&m->reg->lock);
    return s ? 0 : -1;
}

int
recon_metric_inc (recon_metric_t *m, const char *const *values, double delta)
{
    assert (m->type != S_HISTOGRAM && (m->type != S_COUNTER || delta >= 0));
    return s_update (m, values, delta, 0);
}

int
recon_metric_set (recon_metric_t *m, const char *const *values, double value)
{
    assert (m->type != S_HISTOGRAM);
    return s_update (m, values, value, 1);
}

int
recon_metric_observe (recon_metric_t *m, const char *const *values, double sample)
{
    assert (m->type == S_HISTOGRAM);
    return s_update (m, values, sample, 2);
}

double
recon_metric_get (recon_metric_t *m, const char *const *values)
{
    pthread_mutex_lock (&m->reg->lock);
    s_series_t *s = s_series (m, values, 0);
    double v = !s ? 0 : m->type == S_HISTOGRAM ? (double) s->count : s->value;
    pthread_mutex_unlock (&m->reg->lock);
    return v;
}

void
recon_metric_clear (recon_metric_t *m)
{
    pthread_mutex_lock (&m->reg->lock);
    s_family_clear (m);
    pthread_mutex_unlock (&m->reg->lock);
}

/* ---- rendering ------------------------------------------------------------ */

/*  The shortest text that reads back as V (0.1, not 0.10000000000000001). */
static void
s_double (char *buf, size_t size, double v)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf (buf, size, "%.*g", digits, v);
        if (strtod (buf, NULL) == v)
            return;
    }
}

static void
s_value (FILE *out, double v)
{
    char buf[40];
    if (isnan (v))
        fputs ("NaN", out);
    else if (isinf (v))
        fputs (v > 0 ? "+Inf" : "-Inf", out);
    else if (v == floor (v) && fabs (v) < 9007199254740992.0) /* 2^53: exact */
        fprintf (out, "%lld", (long long) v);
    else {
        s_double (buf, sizeof buf, v);
        fputs (buf, out);
    }
}

/*  Writes TEXT escaping backslash and newline, and " when QUOTES.        */
static void
s_escaped (FILE *out, const char *text, int quotes)
{
    for (const char *c = text; *c; c++) {
        if (*c == '\\')
            fputs ("\\\\", out);
        else if (*c == '\n')
            fputs ("\\n", out);
        else if (*c == '"' && quotes)
            fputs ("\\\"", out);
        else
            fputc (*c, out);
    }
}

/*  name{l1="v1",l2="v2"[,le="B"]} — LE may be NULL.                      */
static void
s_series_name (FILE *out, const recon_metric_t *m, const char *suffix, const s_series_t *s,
               const char *le)
{
    fprintf (out, "%s%s", m->name, suffix);
    if (m->nlabels == 0 && !le)
        return;
    fputc ('{', out);
    for (int i = 0; i < m->nlabels; i++) {
        fprintf (out, "%s%s=\"", i ? "," : "", m->labels[i]);
        s_escaped (out, s ? s->values[i] : "", 1);
        fputc ('"', out);
    }
    if (le)
        fprintf (out, "%sle=\"%s\"", m->nlabels ? "," : "", le);
    fputc ('}', out);
}

static void
s_render_histogram (FILE *out, const recon_metric_t *m, const s_series_t *s)
{
    static const s_series_t zero;
    if (!s)
        s = &zero;
    unsigned long long cumulative = 0;
    for (int b = 0; b < m->nbounds; b++) {
        char le[40];
        s_double (le, sizeof le, m->bounds[b]);
        cumulative += s->buckets[b];
        s_series_name (out, m, "_bucket", s, le);
        fprintf (out, " %llu\n", cumulative);
    }
    s_series_name (out, m, "_bucket", s, "+Inf");
    fprintf (out, " %llu\n", s->count);
    s_series_name (out, m, "_sum", s, NULL);
    fputc (' ', out);
    s_value (out, s->sum);
    fputc ('\n', out);
    s_series_name (out, m, "_count", s, NULL);
    fprintf (out, " %llu\n", s->count);
}

static void
s_render_family (FILE *out, const recon_metric_t *m)
{
    static const char *types[] = {"counter", "gauge", "histogram"};
    fprintf (out, "# HELP %s ", m->name);
    s_escaped (out, m->help, 0);
    fprintf (out, "\n# TYPE %s %s\n", m->name, types[m->type]);
    if (!m->series && m->nlabels == 0) {
        /*  An unlabelled family always has its one series: 0 until used. */
        if (m->type == S_HISTOGRAM)
            s_render_histogram (out, m, NULL);
        else
            fprintf (out, "%s 0\n", m->name);
        return;
    }
    for (const s_series_t *s = m->series; s; s = s->next) {
        if (m->type == S_HISTOGRAM) {
            s_render_histogram (out, m, s);
            continue;
        }
        s_series_name (out, m, "", s, NULL);
        fputc (' ', out);
        s_value (out, s->value);
        fputc ('\n', out);
    }
}

char *
recon_metrics_render (recon_metrics_t *reg, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    if (!out)
        return NULL;
    pthread_mutex_lock (&reg->lock);
    for (const recon_metric_t *m = reg->families; m; m = m->next)
        s_render_family (out, m);
    pthread_mutex_unlock (&reg->lock);
    if (fclose (out) != 0) {
        free (buf);
        return NULL;
    }
    if (len)
        *len = size;
    return buf;
}
