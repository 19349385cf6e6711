/*  test_timestamp.c — ISO 8601 parsing/formatting and durations.         */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recon/timestamp.h"

static int64_t
s_parse (const char *text)
{
    int64_t t = 0;
    assert_int_equal (recon_timestamp_parse (text, strlen (text), &t), 0);
    return t;
}

static void
test_parse_forms (void **state)
{
    (void) state;
    const int64_t want = INT64_C (1762179721) * RECON_USEC_PER_SEC; /* 2025-11-03T14:22:01Z */
    assert_true (s_parse ("2025-11-03T14:22:01Z") == want);
    assert_true (s_parse ("2025-11-03T14:22:01") == want);
    assert_true (s_parse ("2025-11-03 14:22:01") == want);
    assert_true (s_parse ("2025-11-03t14:22:01z") == want);
    assert_true (s_parse ("2025-11-03T15:22:01+01:00") == want);
    assert_true (s_parse ("2025-11-03T15:22:01+0100") == want);
    assert_true (s_parse ("2025-11-03T15:22:01+01") == want);
    assert_true (s_parse ("2025-11-03T09:22:01-05:00") == want);
    assert_true (s_parse ("2025-11-03T14:22:01.5Z") == want + 500000);
    assert_true (s_parse ("2025-11-03T14:22:01.000001Z") == want + 1);
    assert_true (s_parse ("2025-11-03T14:22Z") == want - RECON_USEC_PER_SEC);
    assert_true (s_parse ("1970-01-01") == 0);
    assert_true (s_parse ("1969-12-31T23:59:59Z") == -RECON_USEC_PER_SEC);
    assert_true (s_parse ("2024-02-29") == INT64_C (1709164800) * RECON_USEC_PER_SEC);
    /*  The two ends of the range PostgreSQL and recon share.              */
    assert_true (s_parse ("0001-01-01") == RECON_TIMESTAMP_MIN);
    assert_true (s_parse ("0001-01-01") == recon_days_from_civil (1, 1, 1) * RECON_USEC_PER_DAY);
    assert_true (s_parse ("9999-12-31T23:59:59.999999Z") == RECON_TIMESTAMP_END - 1);
    assert_true (RECON_TIMESTAMP_END == recon_days_from_civil (10000, 1, 1) * RECON_USEC_PER_DAY);
}

static void
test_parse_rejects (void **state)
{
    (void) state;
    const char *bad[] = {
        "", "2025", "2025-11", "2025-13-01", "2025-00-10", "2025-02-29", "2023-02-29T00:00:00Z",
        "2025-11-31", "2025-11-03T24:00:00Z", "2025-11-03T14:60:00Z", "2025-11-03T14:22:61Z",
        "2025-11-03T14:22:01.1234567Z", "2025-11-03T14:22:01.Z", "2025-11-03T14:22:01+25:00",
        "2025-11-03T14:22:01 UTC", "2025-11-03T14", "25-11-03", "2025/11/03", "2025-11-03X",
        "2025-11-03T14:22:01Zjunk", "２０２５-11-03",
        /*  PostgreSQL has no year 0; an offset must not cross either end
            (found by fuzz_import: one such row aborted a whole import).   */
        "0000-06-01", "0000-12-31T23:59:59Z", "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:00:00-05:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        if (recon_timestamp_parse (bad[i], strlen (bad[i]), &t) == 0)
            fail_msg ("accepted '%s'", bad[i]);
    }
}

static void
test_parse_respects_length (void **state)
{
    (void) state;
    /*  Fields come from CSV buffers that are not NUL-terminated.          */
    const char *buf = "2025-11-03T14:22:01Z,next";
    int64_t t;
    assert_int_equal (recon_timestamp_parse (buf, 20, &t), 0);
    assert_int_equal (recon_timestamp_parse (buf, 21, &t), -1);
}

static void
test_format_round_trip (void **state)
{
    (void) state;
    char buf[RECON_TIMESTAMP_BUFSIZE];
    recon_timestamp_format (s_parse ("2025-11-03T14:22:01Z"), buf);
    assert_string_equal (buf, "2025-11-03T14:22:01Z");
    recon_timestamp_format (s_parse ("2025-11-03T14:22:01.25Z"), buf);
    assert_string_equal (buf, "2025-11-03T14:22:01.250000Z");
    recon_timestamp_format (-1, buf);
    assert_string_equal (buf, "1969-12-31T23:59:59.999999Z");
    /*  Every day across leap years and century boundaries round-trips.   */
    for (int64_t day = -800000; day < 800000; day += 7) {
        int64_t y;
        unsigned m, d;
        recon_civil_from_days (day, &y, &m, &d);
        assert_true (recon_days_from_civil (y, m, d) == day);
    }
}

static void
test_duration (void **state)
{
    (void) state;
    int64_t v;
    assert_int_equal (recon_duration_parse ("72h", &v), 0);
    assert_true (v == 72 * RECON_USEC_PER_HOUR);
    assert_int_equal (recon_duration_parse ("2d", &v), 0);
    assert_true (v == 2 * RECON_USEC_PER_DAY);
    assert_int_equal (recon_duration_parse ("30m", &v), 0);
    assert_true (v == 1800 * RECON_USEC_PER_SEC);
    assert_int_equal (recon_duration_parse ("45", &v), 0);
    assert_true (v == 45 * RECON_USEC_PER_SEC);
    assert_int_equal (recon_duration_parse ("1500ms", &v), 0);
    assert_true (v == 1500000);
    const char *bad[] = {"", "h", "-5s", "5x", "5 h", "1.5h", "99999999999999999999s",
                         "9999999999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (recon_duration_parse (bad[i], &v) == 0)
            fail_msg ("accepted '%s'", bad[i]);
    assert_int_equal (recon_duration_parse (NULL, &v), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_forms),
        cmocka_unit_test (test_parse_rejects),
        cmocka_unit_test (test_parse_respects_length),
        cmocka_unit_test (test_format_round_trip),
        cmocka_unit_test (test_duration),
    };
    return cmocka_run_group_tests_name ("timestamp", tests, NULL, NULL);
}
