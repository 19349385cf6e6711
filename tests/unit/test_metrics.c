/*  test_metrics.c — the registry's exposition text: HELP/TYPE lines,
    escaping, value formatting, histogram buckets, the series cap, and
    exact totals under concurrent updates.                                */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "recon/metrics.h"

static char *
s_render (recon_metrics_t *reg)
{
    size_t len = 0;
    char *text = recon_metrics_render (reg, &len);
    assert_non_null (text);
    assert_int_equal (len, strlen (text));
    return text;
}

static void
test_unlabelled_families_render_zero (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metrics_counter (reg, "recon_things_total", "Things seen.", NULL);
    recon_metrics_gauge (reg, "recon_busy", "1 while busy.", NULL);
    char *text = s_render (reg);
    assert_string_equal (text, "# HELP recon_things_total Things seen.\n"
                               "# TYPE recon_things_total counter\n"
                               "recon_things_total 0\n"
                               "# HELP recon_busy 1 while busy.\n"
                               "# TYPE recon_busy gauge\n"
                               "recon_busy 0\n");
    free (text);
    recon_metrics_destroy (&reg);
    assert_null (reg);
    recon_metrics_destroy (NULL);
}

static void
test_labels_and_values (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metric_t *c = recon_metrics_counter (reg, "recon_mismatches_opened_total",
                                               "Mismatches opened.", "kind,severity");
    recon_metric_t *g = recon_metrics_gauge (reg, "recon_lag_seconds", "Lag.", NULL);
    assert_int_equal (recon_metric_inc (c, (const char *[]) {"overcharged", "critical"}, 2), 0);
    assert_int_equal (recon_metric_inc (c, (const char *[]) {"undercharged", "medium"}, 1), 0);
    assert_int_equal (recon_metric_inc (c, (const char *[]) {"overcharged", "critical"}, 3), 0);
    recon_metric_set (g, NULL, 0.25);
    assert_true (recon_metric_get (c, (const char *[]) {"overcharged", "critical"}) == 5);
    assert_true (recon_metric_get (c, (const char *[]) {"nope", "x"}) == 0);
    char *text = s_render (reg);
    assert_string_equal (text,
        "# HELP recon_mismatches_opened_total Mismatches opened.\n"
        "# TYPE recon_mismatches_opened_total counter\n"
        "recon_mismatches_opened_total{kind=\"overcharged\",severity=\"critical\"} 5\n"
        "recon_mismatches_opened_total{kind=\"undercharged\",severity=\"medium\"} 1\n"
        "# HELP recon_lag_seconds Lag.\n"
        "# TYPE recon_lag_seconds gauge\n"
        "recon_lag_seconds 0.25\n");
    free (text);
    recon_metrics_destroy (&reg);
}

static void
test_escaping (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metric_t *g = recon_metrics_gauge (reg, "recon_x", "Back\\slash \"quoted\"\nnext",
                                             "v");
    recon_metric_set (g, (const char *[]) {"a\"b\\c\nd"}, 1);
    char *text = s_render (reg);
    /*  HELP escapes \ and newline but not "; label values escape all three. */
    assert_string_equal (text, "# HELP recon_x Back\\\\slash \"quoted\"\\nnext\n"
                               "# TYPE recon_x gauge\n"
                               "recon_x{v=\"a\\\"b\\\\c\\nd\"} 1\n");
    free (text);
    recon_metrics_destroy (&reg);
}

static void
test_special_values (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metric_t *g = recon_metrics_gauge (reg, "recon_v", "V.", "k");
    recon_metric_set (g, (const char *[]) {"nan"}, NAN);
    recon_metric_set (g, (const char *[]) {"inf"}, INFINITY);
    recon_metric_set (g, (const char *[]) {"ninf"}, -INFINITY);
    recon_metric_set (g, (const char *[]) {"big"}, 9007199254740992.0 * 4);
    recon_metric_set (g, (const char *[]) {"neg"}, -3);
    recon_metric_set (g, (const char *[]) {"tenth"}, 0.1);
    char *text = s_render (reg);
    assert_non_null (strstr (text, "recon_v{k=\"nan\"} NaN\n"));
    assert_non_null (strstr (text, "recon_v{k=\"inf\"} +Inf\n"));
    assert_non_null (strstr (text, "recon_v{k=\"ninf\"} -Inf\n"));
    assert_non_null (strstr (text, "recon_v{k=\"big\"} 3.602879701896397e+16\n"));
    assert_non_null (strstr (text, "recon_v{k=\"neg\"} -3\n"));
    assert_non_null (strstr (text, "recon_v{k=\"tenth\"} 0.1\n"));
    free (text);
    recon_metrics_destroy (&reg);
}

static void
test_histogram_buckets (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    static const double bounds[] = {0.1, 1, 10};
    recon_metric_t *h = recon_metrics_histogram (reg, "recon_job_duration_seconds",
                                                 "Job duration.", NULL, bounds, 3);
    char *empty = s_render (reg);
    assert_string_equal (empty, "# HELP recon_job_duration_seconds Job duration.\n"
                                "# TYPE recon_job_duration_seconds histogram\n"
                                "recon_job_duration_seconds_bucket{le=\"0.1\"} 0\n"
                                "recon_job_duration_seconds_bucket{le=\"1\"} 0\n"
                                "recon_job_duration_seconds_bucket{le=\"10\"} 0\n"
                                "recon_job_duration_seconds_bucket{le=\"+Inf\"} 0\n"
                                "recon_job_duration_seconds_sum 0\n"
                                "recon_job_duration_seconds_count 0\n");
    free (empty);
    /*  A sample equal to a bound falls in that bucket (le = "less or equal"). */
    double samples[] = {0.05, 0.1, 0.5, 1, 2, 10, 50};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
        assert_int_equal (recon_metric_observe (h, NULL, samples[i]), 0);
    assert_true (recon_metric_get (h, NULL) == 7);
    char *text = s_render (reg);
    assert_string_equal (text, "# HELP recon_job_duration_seconds Job duration.\n"
                               "# TYPE recon_job_duration_seconds histogram\n"
                               "recon_job_duration_seconds_bucket{le=\"0.1\"} 2\n"
                               "recon_job_duration_seconds_bucket{le=\"1\"} 4\n"
                               "recon_job_duration_seconds_bucket{le=\"10\"} 6\n"
                               "recon_job_duration_seconds_bucket{le=\"+Inf\"} 7\n"
                               "recon_job_duration_seconds_sum 63.65\n"
                               "recon_job_duration_seconds_count 7\n");
    free (text);
    recon_metrics_destroy (&reg);
}

static void
test_labelled_histogram (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    static const double bounds[] = {1};
    recon_metric_t *h = recon_metrics_histogram (reg, "recon_h_seconds", "H.", "outcome",
                                                 bounds, 1);
    recon_metric_observe (h, (const char *[]) {"done"}, 0.5);
    recon_metric_observe (h, (const char *[]) {"failed"}, 3);
    char *text = s_render (reg);
    assert_non_null (strstr (text, "recon_h_seconds_bucket{outcome=\"done\",le=\"1\"} 1\n"
                                   "recon_h_seconds_bucket{outcome=\"done\",le=\"+Inf\"} 1\n"
                                   "recon_h_seconds_sum{outcome=\"done\"} 0.5\n"
                                   "recon_h_seconds_count{outcome=\"done\"} 1\n"));
    assert_non_null (strstr (text, "recon_h_seconds_bucket{outcome=\"failed\",le=\"1\"} 0\n"
                                   "recon_h_seconds_bucket{outcome=\"failed\",le=\"+Inf\"} 1\n"));
    free (text);
    recon_metrics_destroy (&reg);
}

static void
test_series_cap_and_clear (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metric_t *g = recon_metrics_gauge (reg, "recon_g", "G.", "id");
    char id[32];
    for (int i = 0; i < RECON_METRICS_MAX_SERIES; i++) {
        snprintf (id, sizeof id, "%d", i);
        assert_int_equal (recon_metric_set (g, (const char *[]) {id}, i), 0);
    }
    /*  Past the cap a new series is refused; existing ones still update. */
    assert_int_equal (recon_metric_set (g, (const char *[]) {"one-too-many"}, 1), -1);
    assert_int_equal (recon_metric_set (g, (const char *[]) {"7"}, 70), 0);
    assert_true (recon_metric_get (g, (const char *[]) {"7"}) == 70);
    recon_metric_clear (g);
    char *text = s_render (reg);
    assert_string_equal (text, "# HELP recon_g G.\n# TYPE recon_g gauge\n");
    free (text);
    assert_int_equal (recon_metric_set (g, (const char *[]) {"again"}, 1), 0);
    recon_metrics_destroy (&reg);
}

typedef struct {
    recon_metric_t *c, *h;
} s_workers_t;

static void *
s_hammer (void *arg)
{
    s_workers_t *w = arg;
    for (int i = 0; i < 20000; i++) {
        recon_metric_inc (w->c, (const char *[]) {i % 2 ? "odd" : "even"}, 1);
        recon_metric_observe (w->h, NULL, 1);
    }
    return NULL;
}

static void
test_concurrent_updates_are_exact (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    static const double bounds[] = {0.5, 2};
    s_workers_t w = {recon_metrics_counter (reg, "recon_n_total", "N.", "parity"),
                     recon_metrics_histogram (reg, "recon_d_seconds", "D.", NULL, bounds, 2)};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&t[i], NULL, s_hammer, &w), 0);
    for (int i = 0; i < 4; i++) {
        char *text = s_render (reg); /* rendering while others write */
        free (text);
    }
    for (int i = 0; i < 4; i++)
        pthread_join (t[i], NULL);
    assert_true (recon_metric_get (w.c, (const char *[]) {"odd"}) == 40000);
    assert_true (recon_metric_get (w.c, (const char *[]) {"even"}) == 40000);
    assert_true (recon_metric_get (w.h, NULL) == 80000);
    char *text = s_render (reg);
    assert_non_null (strstr (text, "recon_d_seconds_bucket{le=\"0.5\"} 0\n"
                                   "recon_d_seconds_bucket{le=\"2\"} 80000\n"
                                   "recon_d_seconds_bucket{le=\"+Inf\"} 80000\n"
                                   "recon_d_seconds_sum 80000\n"));
    free (text);
    recon_metrics_destroy (&reg);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unlabelled_families_render_zero),
        cmocka_unit_test (test_labels_and_values),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_special_values),
        cmocka_unit_test (test_histogram_buckets),
        cmocka_unit_test (test_labelled_histogram),
        cmocka_unit_test (test_series_cap_and_clear),
        cmocka_unit_test (test_concurrent_updates_are_exact),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
