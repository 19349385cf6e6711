/*  test_money.c — currency exponents and minor-unit formatting.          */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recon/money.h"

static void
test_exponents (void **state)
{
    (void) state;
    assert_int_equal (recon_currency_exponent ("USD"), 2);
    assert_int_equal (recon_currency_exponent ("usd"), 2);
    assert_int_equal (recon_currency_exponent ("EUR"), 2);
    const char *zero[] = {"JPY", "KRW", "CLP", "VND", "ISK", "jpy", "XOF", "UGX"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        assert_int_equal (recon_currency_exponent (zero[i]), 0);
    const char *three[] = {"BHD", "JOD", "KWD", "OMR", "TND", "IQD", "LYD", "kwd"};
    for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
        assert_int_equal (recon_currency_exponent (three[i]), 3);
    assert_int_equal (recon_currency_exponent ("CLF"), 4);
}

static void
test_exponent_rejects_malformed (void **state)
{
    (void) state;
    const char *bad[] = {"", "US", "USDX", "U1D", "US ", " US", "€UR"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (recon_currency_exponent (bad[i]), -1);
    assert_int_equal (recon_currency_exponent (NULL), -1);
}

static void
test_normalize (void **state)
{
    (void) state;
    char out[4];
    assert_int_equal (recon_currency_normalize ("eUr", out), 0);
    assert_string_equal (out, "EUR");
    assert_int_equal (recon_currency_normalize ("eu", out), -1);
    assert_string_equal (out, "");
}

static void
test_format (void **state)
{
    (void) state;
    char buf[32];
    struct {
        int64_t minor;
        int exp;
        char mark;
        const char *want;
    } cases[] = {
        {4200, 2, '.', "42.00"},   {-4200, 2, '.', "-42.00"}, {5, 2, '.', "0.05"},
        {-5, 2, ',', "-0,05"},     {0, 2, '.', "0.00"},       {4200, 0, '.', "4200"},
        {1, 3, '.', "0.001"},      {123456, 3, ',', "123,456"}, {0, 0, '.', "0"},
        {INT64_MAX, 2, '.', "92233720368547758.07"},
        {INT64_MIN, 2, '.', "-92233720368547758.08"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = recon_money_format (buf, sizeof buf, cases[i].minor, cases[i].exp, cases[i].mark);
        assert_string_equal (buf, cases[i].want);
        assert_int_equal (n, (int) strlen (cases[i].want));
    }
}

static void
test_format_small_buffer (void **state)
{
    (void) state;
    char buf[5];
    assert_int_equal (recon_money_format (buf, sizeof buf, 4200, 2, '.'), -1);
    assert_int_equal (recon_money_format (buf, sizeof buf, 420, 2, '.'), 4);
    assert_string_equal (buf, "4.20");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_exponents),
        cmocka_unit_test (test_exponent_rejects_malformed),
        cmocka_unit_test (test_normalize),
        cmocka_unit_test (test_format),
        cmocka_unit_test (test_format_small_buffer),
    };
    return cmocka_run_group_tests_name ("money", tests, NULL, NULL);
}
