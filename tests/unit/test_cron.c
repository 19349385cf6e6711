/*  test_cron.c — the broker's schedule expressions.                       */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recon/cron.h"
#include "recon/timestamp.h"

static int64_t
s_t (const char *text)
{
    int64_t t;
    assert_int_equal (recon_timestamp_parse (text, strlen (text), &t), 0);
    return t;
}

static int
s_match (const char *expr, const char *when)
{
    char err[128];
    recon_cron_t *c = recon_cron_new (expr, err, sizeof err);
    if (!c)
        fail_msg ("'%s': %s", expr, err);
    int m = recon_cron_matches (c, s_t (when));
    recon_cron_destroy (&c);
    assert_null (c);
    return m;
}

static void
test_matching (void **state)
{
    (void) state;
    assert_true (s_match ("0 2 * * *", "2026-11-25T02:00:00Z"));
    assert_true (s_match ("0 2 * * *", "2026-11-25T02:00:59Z"));
    assert_false (s_match ("0 2 * * *", "2026-11-25T02:01:00Z"));
    assert_false (s_match ("0 2 * * *", "2026-11-25T03:00:00Z"));
    assert_true (s_match ("*/15 * * * *", "2026-11-25T10:45:00Z"));
    assert_false (s_match ("*/15 * * * *", "2026-11-25T10:46:00Z"));
    assert_true (s_match ("5,35 8-18/2 * * *", "2026-11-25T12:35:00Z"));
    assert_false (s_match ("5,35 8-18/2 * * *", "2026-11-25T13:35:00Z"));
    /*  2026-11-25 is a Wednesday (3); Sunday is 0 or 7.                   */
    assert_true (s_match ("0 0 * * 3", "2026-11-25T00:00:00Z"));
    assert_true (s_match ("0 0 * * 0", "2026-11-29T00:00:00Z"));
    assert_true (s_match ("0 0 * * 7", "2026-11-29T00:00:00Z"));
    assert_false (s_match ("0 0 * * 1-5", "2026-11-29T00:00:00Z"));
    /*  Both day fields restricted: either matches (classic cron).         */
    assert_true (s_match ("0 0 1 * 3", "2026-11-25T00:00:00Z"));
    assert_true (s_match ("0 0 1 * 3", "2026-12-01T00:00:00Z"));
    assert_false (s_match ("0 0 1 * 3", "2026-12-03T00:00:00Z"));
    assert_true (s_match ("0 0 29 2 *", "2028-02-29T00:00:00Z"));
    assert_true (s_match ("59 23 31 12 *", "1999-12-31T23:59:00Z"));
}

static void
test_rejects (void **state)
{
    (void) state;
    const char *bad[] = {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
                         "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *",
                         "a * * * *", "1,,2 * * * *", "-1 * * * *"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        recon_cron_t *c = recon_cron_new (bad[i], err, sizeof err);
        if (c)
            fail_msg ("accepted '%s'", bad[i]);
        assert_true (strlen (err) > 0);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_matching),
        cmocka_unit_test (test_rejects),
    };
    return cmocka_run_group_tests_name ("cron", tests, NULL, NULL);
}
