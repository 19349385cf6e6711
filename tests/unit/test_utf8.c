/*  test_utf8.c — the one UTF-8 check (common/utf8.c): RFC 3629's table at
    its edges, and a sequence cut short by the end of the buffer.          */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "recon/utf8.h"

static int
s_seq (const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;
    return recon_utf8_seq (p, p + n);
}

static void
test_sequences (void **state)
{
    (void) state;
    assert_int_equal (s_seq ("\xc2\x80", 2), 2);          /* first 2-byte */
    assert_int_equal (s_seq ("\xdf\xbf", 2), 2);
    assert_int_equal (s_seq ("\xe0\xa0\x80", 3), 3);      /* first 3-byte */
    assert_int_equal (s_seq ("\xed\x9f\xbf", 3), 3);      /* below surrogates */
    assert_int_equal (s_seq ("\xee\x80\x80", 3), 3);      /* past them */
    assert_int_equal (s_seq ("\xf0\x90\x80\x80", 4), 4);  /* first 4-byte */
    assert_int_equal (s_seq ("\xf4\x8f\xbf\xbf", 4), 4);  /* U+10FFFF */
    assert_int_equal (s_seq ("\xc1\xbf", 2), -1);         /* overlong */
    assert_int_equal (s_seq ("\xe0\x9f\xbf", 3), -1);     /* overlong */
    assert_int_equal (s_seq ("\xed\xa0\x80", 3), -1);     /* surrogate */
    assert_int_equal (s_seq ("\xf0\x8f\xbf\xbf", 4), -1); /* overlong */
    assert_int_equal (s_seq ("\xf4\x90\x80\x80", 4), -1); /* past U+10FFFF */
    assert_int_equal (s_seq ("\xf5\x80\x80\x80", 4), -1); /* never a lead byte */
    assert_int_equal (s_seq ("\x80", 1), -1);             /* a lone continuation */
    assert_int_equal (s_seq ("\xe2\x28\xa1", 3), -1);     /* bad second byte */
    assert_int_equal (s_seq ("\xe2\x82\x28", 3), -1);     /* bad third byte */
}

static void
test_cut_short (void **state)
{
    (void) state;
    /*  0: more bytes may follow (the CSV reader refills and looks again).  */
    assert_int_equal (s_seq ("\xe2\x82", 2), 0);
    assert_int_equal (s_seq ("\xf0\x9f\x92", 3), 0);
    /*  Invalid before the cut stays invalid.                               */
    assert_int_equal (s_seq ("\xe2\x28", 2), -1);
    assert_int_equal (recon_utf8_valid ("a\xe2\x82", 3), 0);
}

static void
test_valid (void **state)
{
    (void) state;
    assert_int_equal (recon_utf8_valid ("", 0), 1);
    assert_int_equal (recon_utf8_valid ("caf\xc3\xa9 \xe2\x82\xac", 9), 1);
    assert_int_equal (recon_utf8_valid ("a\0b", 3), 1); /* NUL is the caller's call */
    assert_int_equal (recon_utf8_valid ("\xc3\xa9\xff", 3), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sequences),
        cmocka_unit_test (test_cut_short),
        cmocka_unit_test (test_valid),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
