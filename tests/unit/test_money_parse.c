/*  test_money_parse.c — decimal text to minor units, every accept/reject rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recon/money.h"

typedef struct {
    const char *text;
    int exp;
    char mark;
    int rc;
    int64_t want;
} s_case_t;

static void
s_check (const s_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t v = INT64_C(0x5a5a5a5a);
        int rc = recon_money_parse (cases[i].text, strlen (cases[i].text), cases[i].exp,
                                    cases[i].mark, &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].want) || (rc != 0 && v != INT64_C(0x5a5a5a5a)))
            fail_msg ("\"%s\" exp %d mark '%c': rc %d value %lld, want rc %d value %lld",
                      cases[i].text, cases[i].exp, cases[i].mark, rc, (long long) v,
                      cases[i].rc, (long long) cases[i].want);
    }
}

#define CHECK(cases) s_check (cases, sizeof cases / sizeof cases[0])

static void
test_accept_exponent_2 (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"42.00", 2, '.', 0, 4200},     {"42", 2, '.', 0, 4200},
        {"42.5", 2, '.', 0, 4250},      {"42.50", 2, '.', 0, 4250},
        {"-42.00", 2, '.', 0, -4200},   {"+42.00", 2, '.', 0, 4200},
        {"0.05", 2, '.', 0, 5},         {"-0.05", 2, '.', 0, -5},
        {"0", 2, '.', 0, 0},            {"-0.00", 2, '.', 0, 0},
        {"007.10", 2, '.', 0, 710},     {"  42.00  ", 2, '.', 0, 4200},
        {" -1.99", 2, '.', 0, -199},    {"42,00", 2, ',', 0, 4200},
        {"-0,01", 2, ',', 0, -1},       {"1234", 2, ',', 0, 123400},
    };
    CHECK (cases);
}

static void
test_accept_exponent_0_3_4 (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"4200", 0, '.', 0, 4200},   {"-4200", 0, '.', 0, -4200},
        {"4200", 0, ',', 0, 4200},   {"1.234", 3, '.', 0, 1234},
        {"1,234", 3, ',', 0, 1234},  {"1", 3, '.', 0, 1000},
        {"0.001", 3, '.', 0, 1},     {"-12.3", 3, '.', 0, -12300},
        {"1.2345", 4, '.', 0, 12345}, {"0.0001", 4, '.', 0, 1},
        {"0,0001", 4, ',', 0, 1},
    };
    CHECK (cases);
}

/*  Zeros past the exponent do not change the value, so they are accepted. */
static void
test_trailing_zeros_beyond_exponent (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"42.000", 2, '.', 0, 4200},   {"42.0000000000", 2, '.', 0, 4200},
        {"4200.00", 0, '.', 0, 4200},  {"4200.0", 0, '.', 0, 4200},
        {"1.2340", 3, '.', 0, 1234},   {"-0,50", 0, ',', RECON_MONEY_PRECISION, 0},
        {"42.001", 2, '.', RECON_MONEY_PRECISION, 0},
        {"42.0001", 2, '.', RECON_MONEY_PRECISION, 0},
        {"4200.5", 0, '.', RECON_MONEY_PRECISION, 0},
        {"1.2345", 3, '.', RECON_MONEY_PRECISION, 0},
        {"1.23451", 4, '.', RECON_MONEY_PRECISION, 0},
        {"0.000000000000000000001", 2, '.', RECON_MONEY_PRECISION, 0},
    };
    CHECK (cases);
}

static void
test_reject_empty (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"", 2, '.', RECON_MONEY_EMPTY, 0},
        {" ", 2, '.', RECON_MONEY_EMPTY, 0},
        {"     ", 0, ',', RECON_MONEY_EMPTY, 0},
    };
    CHECK (cases);
    int64_t v;
    assert_int_equal (recon_money_parse (NULL, 0, 2, '.', &v), RECON_MONEY_EMPTY);
}

static void
test_reject_syntax (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"-", 2, '.', RECON_MONEY_SYNTAX, 0},       {"+", 2, '.', RECON_MONEY_SYNTAX, 0},
        {".", 2, '.', RECON_MONEY_SYNTAX, 0},       {"-.", 2, '.', RECON_MONEY_SYNTAX, 0},
        {",", 2, ',', RECON_MONEY_SYNTAX, 0},       {"1.", 2, '.', RECON_MONEY_SYNTAX, 0},
        {".5", 2, '.', RECON_MONEY_SYNTAX, 0},      {"-.5", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"1,", 2, ',', RECON_MONEY_SYNTAX, 0},      {",5", 2, ',', RECON_MONEY_SYNTAX, 0},
        {"1,234.00", 2, '.', RECON_MONEY_SYNTAX, 0}, {"1.234,00", 2, ',', RECON_MONEY_SYNTAX, 0},
        {"1,00", 2, '.', RECON_MONEY_SYNTAX, 0},    {"1.00", 2, ',', RECON_MONEY_SYNTAX, 0},
        {"1 000.00", 2, '.', RECON_MONEY_SYNTAX, 0}, {"- 1", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"1. 5", 2, '.', RECON_MONEY_SYNTAX, 0},    {"--1", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"+-1", 2, '.', RECON_MONEY_SYNTAX, 0},     {"1-", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"1e3", 2, '.', RECON_MONEY_SYNTAX, 0},     {"1.5E2", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"0x10", 2, '.', RECON_MONEY_SYNTAX, 0},    {"NaN", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"nan", 2, '.', RECON_MONEY_SYNTAX, 0},     {"Inf", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"-Infinity", 2, '.', RECON_MONEY_SYNTAX, 0}, {"$42.00", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"42.00 USD", 2, '.', RECON_MONEY_SYNTAX, 0}, {"(42.00)", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"1.2.3", 2, '.', RECON_MONEY_SYNTAX, 0},   {"\t42", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"42\n", 2, '.', RECON_MONEY_SYNTAX, 0},    {"\xd9\xa4", 2, '.', RECON_MONEY_SYNTAX, 0},
        /*  Syntax wins over precision and overflow.                      */
        {"42.001x", 2, '.', RECON_MONEY_SYNTAX, 0},
        {"99999999999999999999x", 2, '.', RECON_MONEY_SYNTAX, 0},
    };
    CHECK (cases);
}

/*  LEN bounds the text: bytes past it, even digits, are not read.        */
static void
test_length_bounds_text (void **state)
{
    (void) state;
    int64_t v = 0;
    assert_int_equal (recon_money_parse ("42.00999", 5, 2, '.', &v), 0);
    assert_int_equal (v, 4200);
    assert_int_equal (recon_money_parse ("4x", 1, 0, '.', &v), 0);
    assert_int_equal (v, 4);
    const char embedded_nul[] = {'4', '\0', '2'};
    assert_int_equal (recon_money_parse (embedded_nul, 3, 0, '.', &v), RECON_MONEY_SYNTAX);
}

static void
test_int64_boundaries (void **state)
{
    (void) state;
    static const s_case_t cases[] = {
        {"92233720368547758.07", 2, '.', 0, INT64_MAX},
        {"+92233720368547758.07", 2, '.', 0, INT64_MAX},
        {"92233720368547758.08", 2, '.', RECON_MONEY_OVERFLOW, 0},
        {"-92233720368547758.08", 2, '.', 0, INT64_MIN},
        {"-92233720368547758.09", 2, '.', RECON_MONEY_OVERFLOW, 0},
        {"-92233720368547758,08", 2, ',', 0, INT64_MIN},
        {"9223372036854775807", 0, '.', 0, INT64_MAX},
        {"9223372036854775808", 0, '.', RECON_MONEY_OVERFLOW, 0},
        {"-9223372036854775808", 0, '.', 0, INT64_MIN},
        {"-9223372036854775809", 0, '.', RECON_MONEY_OVERFLOW, 0},
        {"9223372036854775.807", 3, '.', 0, INT64_MAX},
        {"9223372036854775.808", 3, '.', RECON_MONEY_OVERFLOW, 0},
        {"-9223372036854775.808", 3, '.', 0, INT64_MIN},
        {"-9223372036854775.809", 3, '.', RECON_MONEY_OVERFLOW, 0},
        {"922337203685477.5807", 4, '.', 0, INT64_MAX},
        {"-922337203685477.5808", 4, '.', 0, INT64_MIN},
        /*  Overflow found while padding the missing fraction digits.     */
        {"92233720368547758", 2, '.', 0, INT64_C(9223372036854775800)},
        {"92233720368547759", 2, '.', RECON_MONEY_OVERFLOW, 0},
        {"100000000000000000", 2, '.', RECON_MONEY_OVERFLOW, 0},
        {"99999999999999999999999999", 0, '.', RECON_MONEY_OVERFLOW, 0},
        {"000000000000000000000000000001", 0, '.', 0, 1},
        {"-00000000092233720368547758.0800", 2, '.', 0, INT64_MIN},
        /*  Precision wins over overflow.                                 */
        {"99999999999999999999.001", 2, '.', RECON_MONEY_PRECISION, 0},
    };
    CHECK (cases);
}

static void
test_bad_arguments (void **state)
{
    (void) state;
    int64_t v;
    assert_int_equal (recon_money_parse ("1", 1, -1, '.', &v), RECON_MONEY_ARGUMENT);
    assert_int_equal (recon_money_parse ("1", 1, 5, '.', &v), RECON_MONEY_ARGUMENT);
    assert_int_equal (recon_money_parse ("1", 1, 2, ';', &v), RECON_MONEY_ARGUMENT);
    assert_int_equal (recon_money_parse ("1", 1, 2, '.', NULL), RECON_MONEY_ARGUMENT);
    assert_int_equal (recon_money_parse (NULL, 1, 2, '.', &v), RECON_MONEY_ARGUMENT);
    /*  What an importer gets when the currency column is malformed.      */
    assert_int_equal (recon_money_parse ("1", 1, recon_currency_exponent ("U$"), '.', &v),
                      RECON_MONEY_ARGUMENT);
}

static void
test_round_trip_with_format (void **state)
{
    (void) state;
    static const int64_t values[] = {0, 1, -1, 99, -100, 4200, INT64_MAX, INT64_MIN,
                                     INT64_MAX - 1, INT64_MIN + 1, 123456789};
    char buf[32];
    for (int exp = 0; exp <= 4; exp++)
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
            for (int m = 0; m < 2; m++) {
                char mark = m ? ',' : '.';
                int n = recon_money_format (buf, sizeof buf, values[i], exp, mark);
                assert_true (n > 0);
                int64_t v = 0;
                assert_int_equal (recon_money_parse (buf, (size_t) n, exp, mark, &v), 0);
                assert_true (v == values[i]);
            }
}

static void
test_strerror (void **state)
{
    (void) state;
    assert_string_equal (recon_money_strerror (RECON_MONEY_PRECISION),
                         "more decimal places than the currency allows");
    const int codes[] = {0, RECON_MONEY_EMPTY, RECON_MONEY_SYNTAX, RECON_MONEY_PRECISION,
                         RECON_MONEY_OVERFLOW, RECON_MONEY_ARGUMENT, -99};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null (recon_money_strerror (codes[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal (recon_money_strerror (codes[i]),
                                     recon_money_strerror (codes[j]));
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_accept_exponent_2),
        cmocka_unit_test (test_accept_exponent_0_3_4),
        cmocka_unit_test (test_trailing_zeros_beyond_exponent),
        cmocka_unit_test (test_reject_empty),
        cmocka_unit_test (test_reject_syntax),
        cmocka_unit_test (test_length_bounds_text),
        cmocka_unit_test (test_int64_boundaries),
        cmocka_unit_test (test_bad_arguments),
        cmocka_unit_test (test_round_trip_with_format),
        cmocka_unit_test (test_strerror),
    };
    return cmocka_run_group_tests_name ("money_parse", tests, NULL, NULL);
}
