/*  recon/metrics.h — counters, gauges and histograms, rendered in the
    Prometheus text exposition format (version 0.0.4).

    A registry holds metric families; a family has a fixed list of label
    names and one series per combination of label values, created on first
    use. Every update and the rendering take the registry's mutex, so a
    daemon's loop, its job threads and the HTTP server's threads may share
    one registry. Label values come from small fixed vocabularies (states,
    kinds, severities): a family refuses a new series past 256, so a bug
    can never turn a label into an unbounded one. Names are checked against
    Prometheus' rules when registered (a bad name is a programming error). */
#ifndef RECON_METRICS_H
#define RECON_METRICS_H

#include <stddef.h>

typedef struct recon_metrics recon_metrics_t;
typedef struct recon_metric recon_metric_t;

#define RECON_METRICS_MAX_SERIES 256
#define RECON_METRICS_MAX_LABELS 4
#define RECON_METRICS_MAX_BUCKETS 32

/*  A new, empty registry. NULL on allocation failure.                     */
recon_metrics_t *recon_metrics_new (void);

/*  Frees the registry and its families; accepts NULL and sets *P NULL.    */
void recon_metrics_destroy (recon_metrics_t **p);

/*  Register a family and return it (owned by REG, valid until REG is
    destroyed), or NULL when memory runs out. NAME follows Prometheus'
    [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in _total; HELP is one line;
    LABELS is NULL or comma-separated label names ("kind,severity", at most
    RECON_METRICS_MAX_LABELS). A histogram's BOUNDS are its buckets' upper
    bounds, strictly ascending and finite (+Inf is added); at most
    RECON_METRICS_MAX_BUCKETS.                                              */
recon_metric_t *recon_metrics_counter (recon_metrics_t *reg, const char *name,
                                       const char *help, const char *labels);
recon_metric_t *recon_metrics_gauge (recon_metrics_t *reg, const char *name, const char *help,
                                     const char *labels);
recon_metric_t *recon_metrics_histogram (recon_metrics_t *reg, const char *name,
                                         const char *help, const char *labels,
                                         const double *bounds, int nbounds);

/*  Updates. VALUES holds one value per label name, in order (NULL for a
    family without labels); they are copied. Each returns 0, or -1 when the
    series does not exist yet and cannot be created (RECON_METRICS_MAX_SERIES
    reached, or out of memory); the update is then dropped.
    inc adds DELTA (>= 0 for counters) to a counter or gauge; set replaces
    the value of a counter (mirroring a count kept elsewhere, e.g. in the
    database) or a gauge; observe adds one sample to a histogram.          */
int recon_metric_inc (recon_metric_t *m, const char *const *values, double delta);
int recon_metric_set (recon_metric_t *m, const char *const *values, double value);
int recon_metric_observe (recon_metric_t *m, const char *const *values, double sample);

/*  The value of a counter or gauge series, or a histogram series' sample
    count; 0 when the series does not exist.                               */
double recon_metric_get (recon_metric_t *m, const char *const *values);

/*  Removes every series of the family (a gauge whose label sets come and
    go is cleared and set again as a whole).                               */
void recon_metric_clear (recon_metric_t *m);

/*  The whole registry as exposition text: per family "# HELP" and "# TYPE"
    lines, then its series in creation order; a family without labels and
    without samples is shown as 0. Help text escapes \ and newline, label
    values \ " and newline; values are integers when integral, else the shortest text that reads back exactly,
    and +Inf, -Inf, NaN. Returns a NUL-terminated malloc'd string (caller
    frees) and its length in *LEN (may be NULL), or NULL when memory runs
    out.                                                                    */
char *recon_metrics_render (recon_metrics_t *reg, size_t *len);

#endif
