/*  test_web_html.c — recon-web's pure pieces: escaping (every character
    that matters in HTML content and quoted attributes), URL encoding, and
    form decoding including every malformed case.                         */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "recon/utf8.h"

static void
test_escape (void **state)
{
    (void) state;
    web_buf_t b = {0};
    web_esc (&b, "<script>alert('x')</script> & \"q\"");
    assert_string_equal (b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    web_buf_free (&b);
    web_esc (&b, "plain ümlaut");
    assert_string_equal (b.data, "plain ümlaut");
    web_esc (&b, NULL);
    assert_string_equal (b.data, "plain ümlaut");
    web_buf_free (&b);
}

static void
test_printf_grows (void **state)
{
    (void) state;
    web_buf_t b = {0};
    for (int i = 0; i < 10000; i++)
        web_printf (&b, "%d,", i);
    assert_false (b.failed);
    assert_int_equal (strlen (b.data), b.len);
    assert_memory_equal (b.data + b.len - 5, "9999,", 5);
    web_buf_free (&b);
}

static void
test_url (void **state)
{
    (void) state;
    web_buf_t b = {0};
    web_url (&b, "a b&c=d/é~");
    assert_string_equal (b.data, "a%20b%26c%3Dd%2F%C3%A9~");
    web_buf_free (&b);
}

static void
test_form (void **state)
{
    (void) state;
    web_form_t f;
    const char *body = "user=alice&password=a+b%26c%3D&empty=&flag&note=%3Cb%3E";
    assert_int_equal (web_form_parse (&f, body, strlen (body)), 0);
    assert_int_equal (f.n, 5);
    assert_string_equal (web_form_get (&f, "user"), "alice");
    assert_string_equal (web_form_get (&f, "password"), "a b&c=");
    assert_string_equal (web_form_get (&f, "empty"), "");
    assert_string_equal (web_form_get (&f, "flag"), "");
    assert_string_equal (web_form_get (&f, "note"), "<b>");
    assert_null (web_form_get (&f, "missing"));
    web_form_free (&f);
    assert_int_equal (web_form_parse (&f, "", 0), 0);
    assert_int_equal (f.n, 0);
    web_form_free (&f);
    assert_int_equal (web_form_parse (&f, "a=1&&b=2&", 9), 0);
    assert_int_equal (f.n, 2);
    assert_string_equal (web_form_get (&f, "b"), "2");
    web_form_free (&f);
    /*  The first '=' splits: the rest is the value.                       */
    assert_int_equal (web_form_parse (&f, "k=a=b", 5), 0);
    assert_string_equal (web_form_get (&f, "k"), "a=b");
    web_form_free (&f);
}

static void
test_form_malformed (void **state)
{
    (void) state;
    web_form_t f;
    static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "a=%00", "a=%4g"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (web_form_parse (&f, bad[i], strlen (bad[i])), -1);
        assert_null (f.mem);
    }
    assert_int_equal (web_form_parse (&f, "a=1\0b", 5), -1);
    char many[256] = "";
    for (int i = 0; i <= WEB_FORM_MAX; i++)
        strcat (many, "x=1&");
    assert_int_equal (web_form_parse (&f, many, strlen (many)), -1);
}

static void
test_utf8 (void **state)
{
    (void) state;
    static const char *const good[] = {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac 12",
                                       "\xf0\x9f\x92\xb6", "\xef\xbf\xbd"};
    static const char *const bad[] = {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80", "\xc3", "a\xe2\x82", "\x80"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal (recon_utf8_valid (good[i], strlen (good[i])), 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (recon_utf8_valid (bad[i], strlen (bad[i])), 0);
    web_form_t f;
    assert_int_equal (web_form_parse (&f, "note=%FF", 8), -1);
    assert_int_equal (web_form_parse (&f, "%C3%A9=1", 8), 0);
    web_form_free (&f);
    web_buf_t b = {0};
    web_append (&b, "a\0b", 3);
    assert_int_equal (b.len, 3);
    assert_int_equal (b.data[1], '\0');
    web_buf_free (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_escape),  cmocka_unit_test (test_printf_grows),
        cmocka_unit_test (test_url),     cmocka_unit_test (test_form),
        cmocka_unit_test (test_form_malformed), cmocka_unit_test (test_utf8),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
