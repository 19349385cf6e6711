/*  test_queue.c — the queue's pure parts: filter checks (every bad value
    named), verb names and parsing, which resolutions a person may choose,
    and CSV fields as RFC 4180 wants them.                                */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recon/queue.h"

static void
test_filter_check (void **state)
{
    (void) state;
    char err[256];
    recon_queue_filter_t ok = {.status = "open,in_review,snoozed", .severity = "critical",
                               .currency = "eur", .page = 3, .page_size = 500};
    assert_int_equal (recon_queue_filter_check (&ok, err, sizeof err), 0);
    recon_queue_filter_t all = {.status = "all"};
    assert_int_equal (recon_queue_filter_check (&all, err, sizeof err), 0);
    recon_queue_filter_t none = {0};
    assert_int_equal (recon_queue_filter_check (&none, err, sizeof err), 0);
    static const recon_queue_filter_t bad[] = {
        {.status = "nope"}, {.status = ""}, {.status = "open,,resolved"},
        {.severity = "urgent"}, {.currency = "EURO"}, {.currency = "E1"},
        {.page_size = 501}, {.page = -1}, {.older_than_us = -5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal (recon_queue_filter_check (&bad[i], err, sizeof err), RECON_QUEUE_EINVAL);
        assert_true (strlen (err) > 10);
    }
    recon_queue_filter_t st = {.status = "nope"};
    recon_queue_filter_check (&st, err, sizeof err);
    assert_non_null (strstr (err, "status 'nope'"));
}

static void
test_verbs (void **state)
{
    (void) state;
    static const char *const names[] = {"claim", "resolve", "snooze", "note", "reopen"};
    for (int v = RECON_QUEUE_CLAIM; v <= RECON_QUEUE_REOPEN; v++) {
        recon_queue_verb_t got;
        assert_string_equal (recon_queue_verb_name ((recon_queue_verb_t) v), names[v]);
        assert_int_equal (recon_queue_verb_parse (names[v], &got), 0);
        assert_int_equal (got, v);
    }
    recon_queue_verb_t x;
    assert_int_equal (recon_queue_verb_parse ("delete", &x), -1);
    assert_int_equal (recon_queue_verb_parse ("", &x), -1);
    assert_int_equal (recon_queue_verb_parse (NULL, &x), -1);
}

static void
test_resolutions (void **state)
{
    (void) state;
    assert_true (recon_queue_resolution_ok ("refunded"));
    assert_true (recon_queue_resolution_ok ("shipped"));
    assert_true (recon_queue_resolution_ok ("ledger_corrected"));
    assert_true (recon_queue_resolution_ok ("written_off"));
    assert_true (recon_queue_resolution_ok ("false_positive"));
    assert_false (recon_queue_resolution_ok ("auto_resolved")); /* recon's own */
    assert_false (recon_queue_resolution_ok ("Refunded"));
    assert_false (recon_queue_resolution_ok (""));
    assert_false (recon_queue_resolution_ok (NULL));
}

static void
test_csv_field (void **state)
{
    (void) state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    recon_queue_csv_field (f, "plain");
    fputc ('|', f);
    recon_queue_csv_field (f, "a,b");
    fputc ('|', f);
    recon_queue_csv_field (f, "say \"hi\"");
    fputc ('|', f);
    recon_queue_csv_field (f, "two\nlines");
    fputc ('|', f);
    recon_queue_csv_field (f, "");
    fclose (f);
    assert_string_equal (buf, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|");
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_filter_check), cmocka_unit_test (test_verbs),
        cmocka_unit_test (test_resolutions),  cmocka_unit_test (test_csv_field),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
