/*  test_csv.c — the streaming CSV reader: dialect, line numbers, raw bytes,
    error recovery, size cap, header lookup, reading from a descriptor.

    Most cases go through s_dump, which renders everything the reader says
    about an input as text, and s_expect, which checks that text for a range
    of read-window sizes (1 byte up to the default): the reader promises
    results that do not depend on how the input was split into reads.     */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "recon/csv.h"

typedef struct {
    char *data;
    size_t len, cap;
} s_str_t;

static void
s_put (s_str_t *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->data = realloc (s->data, s->cap);
        assert_non_null (s->data);
    }
    memcpy (s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
}

static void s_putf (s_str_t *s, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_putf (s_str_t *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    assert_true (n >= 0 && (size_t) n < sizeof buf);
    s_put (s, buf, (size_t) n);
}

/*  Shows control bytes so expectations stay readable.                    */
static void
s_put_visible (s_str_t *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            s_put (s, "\\n", 2);
        else if (p[i] == '\r')
            s_put (s, "\\r", 2);
        else if (p[i] == '\0')
            s_put (s, "\\0", 2);
        else
            s_put (s, p + i, 1);
    }
}

/*  One line per recon_csv_next result:
      "L<line>@<offset> [f1|f2|...] raw=<raw>"        for a record
      "L<line>@<offset> E<code> <errstr> raw=<raw>"   for a record error  */
static char *
s_dump_reader (recon_csv_t *csv, const char *input, size_t input_len)
{
    s_str_t s = {0};
    s_put (&s, "", 0);
    int rc, guard = 0;
    while ((rc = recon_csv_next (csv)) != 0) {
        assert_true (++guard < 100000);
        size_t raw_len;
        const char *raw = recon_csv_raw (csv, &raw_len);
        uint64_t off = recon_csv_offset (csv);
        if (input) {
            assert_true (off + raw_len <= input_len);
            assert_memory_equal (input + off, raw, raw_len);
        }
        s_putf (&s, "L%ld@%llu ", recon_csv_line (csv), (unsigned long long) off);
        if (rc < 0) {
            assert_false (recon_csv_is_fatal (rc));
            assert_int_equal (recon_csv_nfields (csv), 0);
            s_putf (&s, "E%d %s", rc, recon_csv_errstr (csv));
        } else {
            assert_int_equal (rc, 1);
            assert_string_equal (recon_csv_errstr (csv), "");
            s_put (&s, "[", 1);
            for (size_t i = 0; i < recon_csv_nfields (csv); i++) {
                size_t len;
                const char *f = recon_csv_field (csv, i, &len);
                assert_int_equal (strlen (f), len);
                if (i)
                    s_put (&s, "|", 1);
                s_put_visible (&s, f, len);
            }
            s_put (&s, "]", 1);
        }
        s_put (&s, " raw=", 5);
        s_put_visible (&s, raw, raw_len);
        s_put (&s, "\n", 1);
    }
    assert_int_equal (recon_csv_next (csv), 0);
    return s.data;
}

static char *
s_dump (const char *input, size_t len, size_t buffer_size, size_t max_record)
{
    recon_csv_t *csv = recon_csv_new_from_buffer (input, len, "test.csv");
    assert_non_null (csv);
    if (buffer_size)
        assert_int_equal (recon_csv_set_buffer_size (csv, buffer_size), 0);
    if (max_record)
        assert_int_equal (recon_csv_set_max_record (csv, max_record), 0);
    char *out = s_dump_reader (csv, input, len);
    recon_csv_destroy (&csv);
    assert_null (csv);
    return out;
}

static void
s_expect_n (const char *input, size_t len, size_t max_record, const char *want)
{
    static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 13, 64, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *got = s_dump (input, len, sizes[i], max_record);
        int differs = strcmp (got, want) != 0;
        if (differs)
            print_error ("buffer size %zu\n--- got:\n%s--- want:\n%s", sizes[i], got, want);
        free (got);
        if (differs)
            fail ();
    }
}

#define EXPECT(input, want) s_expect_n (input, sizeof input - 1, 0, want)
#define EXPECT_MAX(input, max, want) s_expect_n (input, sizeof input - 1, max, want)

static void
test_simple_records (void **state)
{
    (void) state;
    EXPECT ("a,b,c\n1,2,3\n", "L1@0 [a|b|c] raw=a,b,c\n"
                              "L2@6 [1|2|3] raw=1,2,3\n");
    EXPECT ("", "");
    EXPECT ("x", "L1@0 [x] raw=x\n");
    /*  Spaces belong to the field; the importer trims what it needs to.  */
    EXPECT (" a , b \n", "L1@0 [ a | b ] raw= a , b \n");
}

static void
test_line_endings (void **state)
{
    (void) state;
    EXPECT ("a,b\r\n1,2\r\n", "L1@0 [a|b] raw=a,b\n"
                              "L2@5 [1|2] raw=1,2\n");
    EXPECT ("a,b\n1,2", "L1@0 [a|b] raw=a,b\n"
                        "L2@4 [1|2] raw=1,2\n");
    EXPECT ("a,b\r", "L1@0 [a|b] raw=a,b\n");
    EXPECT ("a,b\r\n1,2\r", "L1@0 [a|b] raw=a,b\n"
                            "L2@5 [1|2] raw=1,2\n");
    /*  Old Mac files: a lone CR ends a record and a line.                */
    EXPECT ("a\rb\rc", "L1@0 [a] raw=a\n"
                       "L2@2 [b] raw=b\n"
                       "L3@4 [c] raw=c\n");
    EXPECT ("a\n\rb\r\n\nc\r\r\n", "L1@0 [a] raw=a\n"
                                   "L3@3 [b] raw=b\n"
                                   "L5@7 [c] raw=c\n");
}

static void
test_empty_fields (void **state)
{
    (void) state;
    EXPECT (",,\n", "L1@0 [||] raw=,,\n");
    EXPECT ("a,b,\n", "L1@0 [a|b|] raw=a,b,\n");
    EXPECT ("a,b,", "L1@0 [a|b|] raw=a,b,\n");
    EXPECT ("a,b,\r\n", "L1@0 [a|b|] raw=a,b,\n");
    EXPECT (",a", "L1@0 [|a] raw=,a\n");
    /*  A quoted empty field is a record, an empty line is not.           */
    EXPECT ("\"\"\n\n", "L1@0 [] raw=\"\"\n");
    EXPECT ("\"\",\"\"", "L1@0 [|] raw=\"\",\"\"\n");
}

static void
test_blank_lines_skipped (void **state)
{
    (void) state;
    EXPECT ("a\n\n\r\n\nb\n\n", "L1@0 [a] raw=a\n"
                                "L5@6 [b] raw=b\n");
    EXPECT ("\n\n\n", "");
    EXPECT ("\r\n\r\nx\r\n", "L3@4 [x] raw=x\n");
}

static void
test_quoted_fields (void **state)
{
    (void) state;
    EXPECT ("x,\"a,b\",\"he said \"\"hi\"\"\"\n",
            "L1@0 [x|a,b|he said \"hi\"] raw=x,\"a,b\",\"he said \"\"hi\"\"\"\n");
    EXPECT ("\"\"\"\"", "L1@0 [\"] raw=\"\"\"\"\n");
    EXPECT ("\"a\"\r\n\"b\"", "L1@0 [a] raw=\"a\"\n"
                              "L2@5 [b] raw=\"b\"\n");
    EXPECT ("\"a\",", "L1@0 [a|] raw=\"a\",\n");
}

static void
test_embedded_newlines_and_line_numbers (void **state)
{
    (void) state;
    EXPECT ("h\n\"a\nb\",c\nd\n", "L1@0 [h] raw=h\n"
                                  "L2@2 [a\\nb|c] raw=\"a\\nb\",c\n"
                                  "L4@10 [d] raw=d\n");
    /*  CRLF inside quotes is data and preserved, and counts as one line. */
    EXPECT ("\"a\r\nb\"\r\nc\r\n", "L1@0 [a\\r\\nb] raw=\"a\\r\\nb\"\n"
                                   "L3@8 [c] raw=c\n");
    /*  A lone CR inside quotes is a line break too.                       */
    EXPECT ("\"a\rb\rc\",x\ny\n", "L1@0 [a\\rb\\rc|x] raw=\"a\\rb\\rc\",x\n"
                                  "L4@10 [y] raw=y\n");
    EXPECT ("\"\n\n\n\"\nz", "L1@0 [\\n\\n\\n] raw=\"\\n\\n\\n\"\n"
                             "L5@6 [z] raw=z\n");
}

static void
test_bom (void **state)
{
    (void) state;
    EXPECT ("\xEF\xBB\xBF" "id,amount\n1,2\n", "L1@3 [id|amount] raw=id,amount\n"
                                               "L2@13 [1|2] raw=1,2\n");
    EXPECT ("\xEF\xBB\xBF", "");
    EXPECT ("\xEF\xBB\xBF\n\nx", "L3@5 [x] raw=x\n");
    /*  Only at the very start: elsewhere it is an ordinary character.    */
    EXPECT ("a\n\xEF\xBB\xBF" "b\n", "L1@0 [a] raw=a\n"
                                     "L2@2 [\xEF\xBB\xBF" "b] raw=\xEF\xBB\xBF" "b\n");
    EXPECT ("\n\xEF\xBB\xBF" "b", "L2@1 [\xEF\xBB\xBF" "b] raw=\xEF\xBB\xBF" "b\n");
    /*  A truncated BOM is invalid UTF-8.                                 */
    EXPECT ("\xEF\xBB", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xEF\xBB\n");
}

static void
test_utf8 (void **state)
{
    (void) state;
    EXPECT ("caf\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80,\"\xC3\xA9\"\n",
            "L1@0 [caf\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|\xC3\xA9] "
            "raw=caf\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80,\"\xC3\xA9\"\n");
    /*  Latin-1, overlong, surrogate, beyond U+10FFFF, stray continuation,
        truncated at a separator and at end of input.                     */
    EXPECT ("caf\xE9\nok\n", "L1@0 E-9 invalid UTF-8 in field 1 raw=caf\xE9\n"
                             "L2@5 [ok] raw=ok\n");
    EXPECT ("a,\xC0\x80\n", "L1@0 E-9 invalid UTF-8 in field 2 raw=a,\xC0\x80\n");
    EXPECT ("a,b,\"\xED\xA0\x80\"\n", "L1@0 E-9 invalid UTF-8 in field 3 raw=a,b,\"\xED\xA0\x80\"\n");
    EXPECT ("\xF4\x90\x80\x80", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xF4\x90\x80\x80\n");
    EXPECT ("\xE0\x9F\xBF", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xE0\x9F\xBF\n");
    EXPECT ("\xF0\x8F\xBF\xBF", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xF0\x8F\xBF\xBF\n");
    /*  The smallest valid 3- and 4-byte forms and the largest code point. */
    EXPECT ("\xE0\xA0\x80,\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF",
            "L1@0 [\xE0\xA0\x80|\xF0\x90\x80\x80|\xF4\x8F\xBF\xBF] "
            "raw=\xE0\xA0\x80,\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF\n");
    EXPECT ("\x80", "L1@0 E-9 invalid UTF-8 in field 1 raw=\x80\n");
    EXPECT ("\xE2\x82,x\n", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xE2\x82,x\n");
    EXPECT ("x,\xF0\x9F\x98", "L1@0 E-9 invalid UTF-8 in field 2 raw=x,\xF0\x9F\x98\n");
    /*  The first problem of a record is the one reported.                */
    EXPECT ("\xFF,\x00\n", "L1@0 E-9 invalid UTF-8 in field 1 raw=\xFF,\\0\n");
}

static void
test_nul_rejected (void **state)
{
    (void) state;
    EXPECT ("a,b\0c,d\nx\n", "L1@0 E-8 NUL byte in field 2 raw=a,b\\0c,d\n"
                             "L2@8 [x] raw=x\n");
    EXPECT ("\"\0\"\n\"\n\0\"\nz", "L1@0 E-8 NUL byte in field 1 raw=\"\\0\"\n"
                                   "L2@4 E-8 NUL byte in field 1 raw=\"\\n\\0\"\n"
                                   "L4@9 [z] raw=z\n");
    EXPECT ("\0", "L1@0 E-8 NUL byte in field 1 raw=\\0\n");
}

/*  A broken quote costs the line it is on, not the rest of the file.     */
static void
test_unterminated_quote_then_continue (void **state)
{
    (void) state;
    EXPECT ("a,\"b\nc,d\ne,f", "L1@0 E-5 unterminated quoted field 2 (opened on line 1) raw=a,\"b\n"
                               "L2@5 [c|d] raw=c,d\n"
                               "L3@9 [e|f] raw=e,f\n");
    /*  The unclosed quote opens on the second line of a sound record.    */
    EXPECT ("\"x\ny\",\"z\r\nnext\r\n",
            "L1@0 E-5 unterminated quoted field 2 (opened on line 2) raw=\"x\\ny\",\"z\n"
            "L3@10 [next] raw=next\n");
    EXPECT ("\"", "L1@0 E-5 unterminated quoted field 1 (opened on line 1) raw=\"\n");
}

static void
test_syntax_errors_then_continue (void **state)
{
    (void) state;
    EXPECT ("\"a\"b,c\nd\n", "L1@0 E-6 text after closing quote in field 1 raw=\"a\"b,c\n"
                             "L2@7 [d] raw=d\n");
    EXPECT ("x,\"a\" ,c\r\nd", "L1@0 E-6 text after closing quote in field 2 raw=x,\"a\" ,c\n"
                               "L2@10 [d] raw=d\n");
    EXPECT ("ab\"c,d\ne\n", "L1@0 E-6 quote inside unquoted field 1 raw=ab\"c,d\n"
                            "L2@7 [e] raw=e\n");
    EXPECT ("1, \"q\"\n2\n", "L1@0 E-6 quote inside unquoted field 2 raw=1, \"q\"\n"
                             "L2@7 [2] raw=2\n");
    /*  The error follows a multi-line field: resume after the bad line.  */
    EXPECT ("\"a\nb\"x\nc\n", "L1@0 E-6 text after closing quote in field 1 raw=\"a\\nb\"x\n"
                              "L3@7 [c] raw=c\n");
    /*  Several errors in a row, each reported once.                      */
    EXPECT ("\"a\"b\n\"c\"d\r\n\"e\"f", "L1@0 E-6 text after closing quote in field 1 raw=\"a\"b\n"
                                        "L2@5 E-6 text after closing quote in field 1 raw=\"c\"d\n"
                                        "L3@11 E-6 text after closing quote in field 1 raw=\"e\"f\n");
}

static void
test_record_size_cap (void **state)
{
    (void) state;
    /*  Exactly the cap is fine, one more byte is not.                    */
    EXPECT_MAX ("0123456789\n", 10, "L1@0 [0123456789] raw=0123456789\n");
    EXPECT_MAX ("0123456789\r\n", 10, "L1@0 [0123456789] raw=0123456789\n");
    EXPECT_MAX ("0123456789", 10, "L1@0 [0123456789] raw=0123456789\n");
    EXPECT_MAX ("0123456789A\nok\n", 10, "L1@0 E-7 record longer than 10 bytes raw=0123456789\n"
                                         "L2@12 [ok] raw=ok\n");
    EXPECT_MAX ("short\n0123456789ABCDEF,x\nok\n", 10,
                "L1@0 [short] raw=short\n"
                "L2@6 E-7 record longer than 10 bytes raw=0123456789\n"
                "L3@25 [ok] raw=ok\n");
    EXPECT_MAX ("0123456789ABCDEF\r\nok", 10,
                "L1@0 E-7 record longer than 10 bytes raw=0123456789\n"
                "L2@18 [ok] raw=ok\n");
    EXPECT_MAX ("0123456789ABCDEF", 10, "L1@0 E-7 record longer than 10 bytes raw=0123456789\n");
    /*  A long quoted field: resume on the line after its opening quote.  */
    EXPECT_MAX ("\"aaaa\nbbbbbbb\"\nok\n", 10,
                "L1@0 E-7 record longer than 10 bytes (quoted field 1 opened on line 1 not closed) "
                "raw=\"aaaa\n"
                "L2@6 E-6 quote inside unquoted field 1 raw=bbbbbbb\"\n"
                "L3@15 [ok] raw=ok\n");
    /*  A stray quote with no line break within the cap.                  */
    EXPECT_MAX ("x,\"yyyyyyyyyyyyyyyyyyyyyy\nok", 10,
                "L1@0 E-7 record longer than 10 bytes (quoted field 2 opened on line 1 not closed) "
                "raw=x,\"yyyyyyy\n"
                "L2@26 [ok] raw=ok\n");
}

/*  The default cap with a record far larger than the read window.        */
static void
test_large_record_straddles_window (void **state)
{
    (void) state;
    size_t big = 300000;
    size_t len = big + 64;
    char *input = malloc (len);
    assert_non_null (input);
    size_t n = (size_t) sprintf (input, "a,\"");
    for (size_t i = 0; i < big; i++)
        input[n++] = i % 1000 == 999 ? '\n' : (char) ('a' + i % 26);
    n += (size_t) sprintf (input + n, "\",z\r\nlast\n");
    for (size_t bs = 1; bs <= 65536; bs *= 16) {
        recon_csv_t *csv = recon_csv_new_from_buffer (input, n, NULL);
        assert_non_null (csv);
        assert_int_equal (recon_csv_set_buffer_size (csv, bs), 0);
        assert_int_equal (recon_csv_next (csv), 1);
        assert_int_equal (recon_csv_nfields (csv), 3);
        size_t flen;
        const char *f = recon_csv_field (csv, 1, &flen);
        assert_int_equal (flen, big);
        assert_memory_equal (f, input + 3, big);
        size_t raw_len;
        assert_memory_equal (recon_csv_raw (csv, &raw_len), input, n - 7);
        assert_int_equal (raw_len, n - 7);
        assert_int_equal (recon_csv_next (csv), 1);
        assert_int_equal (recon_csv_line (csv), 1 + 1 + big / 1000);
        assert_string_equal (recon_csv_field (csv, 0, NULL), "last");
        assert_int_equal (recon_csv_next (csv), 0);
        recon_csv_destroy (&csv);
    }
    free (input);
}

/*  Builds a varied input of about LEN bytes.                             */
static char *
s_make_input (size_t rows, size_t *len)
{
    s_str_t s = {0};
    s_put (&s, "\xEF\xBB\xBF" "id,amount,currency,note\r\n", 29);
    for (size_t i = 0; i < rows; i++) {
        switch (i % 5) {
        case 0:
            s_putf (&s, "ch_%zu,%zu.%02zu,usd,plain\r\n", i, i * 7, i % 100);
            break;
        case 1:
            s_putf (&s, "ch_%zu,-%zu,jpy,\"multi\nline \"\"note\"\"\"\r\n", i, i);
            break;
        case 2:
            s_putf (&s, "ch_%zu,,eur,caf\xC3\xA9\n\n", i);
            break;
        case 3:
            s_putf (&s, "\"ch_%zu\",1,gbp,\"bad\"x\r\n", i);
            break;
        default:
            s_putf (&s, "ch_%zu,2,usd,\"%.*s\"\n", i, (int) (i % 200),
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            break;
        }
    }
    *len = s.len;
    return s.data;
}

static void
test_read_from_file (void **state)
{
    (void) state;
    size_t len;
    char *input = s_make_input (5000, &len);
    char path[] = "/tmp/test_csv_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    unlink (path);
    assert_int_equal (write (fd, input, len), (ssize_t) len);
    char *want = s_dump (input, len, 0, 0);
    static const size_t sizes[] = {1, 5, 4096, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
        recon_csv_t *csv = recon_csv_new (fd, path);
        assert_non_null (csv);
        assert_string_equal (recon_csv_file_name (csv), path);
        if (sizes[i])
            assert_int_equal (recon_csv_set_buffer_size (csv, sizes[i]), 0);
        char *got = s_dump_reader (csv, input, len);
        assert_string_equal (got, want);
        free (got);
        recon_csv_destroy (&csv);
    }
    /*  destroy does not close the descriptor.                            */
    assert_int_equal (close (fd), 0);
    free (want);
    free (input);
}

/*  A pipe delivers short reads at arbitrary points of the records.       */
static void
test_read_from_pipe (void **state)
{
    (void) state;
    size_t len;
    char *input = s_make_input (20000, &len);
    char *want = s_dump (input, len, 0, 0);
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds[0]);
        for (size_t at = 0; at < len;) {
            size_t n = 1 + (at * 7919) % 3001;
            if (n > len - at)
                n = len - at;
            ssize_t w = write (fds[1], input + at, n);
            if (w <= 0)
                _exit (1);
            at += (size_t) w;
        }
        /*  Free what the child inherited so leak checkers stay quiet.    */
        close (fds[1]);
        free (want);
        free (input);
        _exit (0);
    }
    close (fds[1]);
    recon_csv_t *csv = recon_csv_new (fds[0], "pipe");
    assert_non_null (csv);
    assert_int_equal (recon_csv_set_buffer_size (csv, 1000), 0);
    char *got = s_dump_reader (csv, input, len);
    assert_string_equal (got, want);
    recon_csv_destroy (&csv);
    close (fds[0]);
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    free (got);
    free (want);
    free (input);
}

static void
test_read_error_is_fatal (void **state)
{
    (void) state;
    int fd = open ("/", O_RDONLY | O_DIRECTORY);
    assert_true (fd >= 0);
    recon_csv_t *csv = recon_csv_new (fd, "/");
    assert_non_null (csv);
    int rc = recon_csv_next (csv);
    assert_int_equal (rc, RECON_CSV_EIO);
    assert_true (recon_csv_is_fatal (rc));
    assert_non_null (strstr (recon_csv_errstr (csv), "read failed"));
    assert_int_equal (recon_csv_next (csv), RECON_CSV_EIO);
    recon_csv_destroy (&csv);
    close (fd);
    assert_false (recon_csv_is_fatal (RECON_CSV_EUTF8));
    assert_false (recon_csv_is_fatal (1));
    assert_false (recon_csv_is_fatal (0));
}

static void
test_header_lookup (void **state)
{
    (void) state;
    static const char input[] = "\xEF\xBB\xBF" " Psp Reference ,Merchant Reference,\tType\t,"
                                "\"Gross Debit (GC)\",type,\n"
                                "8815,order-1,Settled,,x,\n";
    recon_csv_t *csv = recon_csv_new_from_buffer (input, sizeof input - 1, "adyen.csv");
    assert_non_null (csv);
    assert_int_equal (recon_csv_ncolumns (csv), 0);
    assert_int_equal (recon_csv_column (csv, "Type"), -1);
    assert_int_equal (recon_csv_read_header (csv), 0);
    assert_int_equal (recon_csv_line (csv), 1);
    assert_int_equal (recon_csv_ncolumns (csv), 6);
    assert_string_equal (recon_csv_column_name (csv, 0), "Psp Reference");
    assert_string_equal (recon_csv_column_name (csv, 2), "Type");
    assert_string_equal (recon_csv_column_name (csv, 5), "");
    assert_null (recon_csv_column_name (csv, 6));
    assert_int_equal (recon_csv_column (csv, "Psp Reference"), 0);
    assert_int_equal (recon_csv_column (csv, "Merchant Reference"), 1);
    assert_int_equal (recon_csv_column (csv, "Gross Debit (GC)"), 3);
    assert_int_equal (recon_csv_column (csv, "Type"), 2);
    assert_int_equal (recon_csv_column (csv, "type"), 4);
    assert_int_equal (recon_csv_column (csv, "psp reference"), -1);
    assert_int_equal (recon_csv_column (csv, "Psp"), -1);
    assert_int_equal (recon_csv_column (csv, NULL), -1);
    /*  Case-insensitive: the first of "Type" and "type" wins.            */
    assert_int_equal (recon_csv_column_ci (csv, "TYPE"), 2);
    assert_int_equal (recon_csv_column_ci (csv, "psp reference"), 0);
    assert_int_equal (recon_csv_column_ci (csv, "gross debit (gc)"), 3);
    assert_int_equal (recon_csv_column_ci (csv, "Gross Credit (GC)"), -1);
    assert_int_equal (recon_csv_read_header (csv), RECON_CSV_EINVAL);

    assert_int_equal (recon_csv_next (csv), 1);
    assert_int_equal (recon_csv_line (csv), 2);
    assert_int_equal (recon_csv_nfields (csv), 6);
    assert_string_equal (recon_csv_field (csv, (size_t) recon_csv_column (csv, "Type"), NULL),
                         "Settled");
    /*  Header names stay valid after the records move on.                */
    assert_int_equal (recon_csv_next (csv), 0);
    assert_string_equal (recon_csv_column_name (csv, 1), "Merchant Reference");
    recon_csv_destroy (&csv);
}

static void
test_header_errors (void **state)
{
    (void) state;
    recon_csv_t *csv = recon_csv_new_from_buffer ("\n\r\n", 3, NULL);
    assert_int_equal (recon_csv_read_header (csv), RECON_CSV_ENOHEADER);
    assert_string_not_equal (recon_csv_errstr (csv), "");
    recon_csv_destroy (&csv);

    csv = recon_csv_new_from_buffer ("a,b\n1,2\n", 8, NULL);
    assert_int_equal (recon_csv_next (csv), 1);
    assert_int_equal (recon_csv_read_header (csv), RECON_CSV_EINVAL);
    recon_csv_destroy (&csv);

    csv = recon_csv_new_from_buffer ("a,\xFF\n1,2\n", 8, NULL);
    assert_int_equal (recon_csv_read_header (csv), RECON_CSV_EUTF8);
    assert_int_equal (recon_csv_ncolumns (csv), 0);
    assert_int_equal (recon_csv_column (csv, "a"), -1);
    recon_csv_destroy (&csv);

    /*  Blank lines before the header are skipped; lines still count.     */
    csv = recon_csv_new_from_buffer ("\n\nid\n7\n", 8, NULL);
    assert_int_equal (recon_csv_read_header (csv), 0);
    assert_int_equal (recon_csv_line (csv), 3);
    assert_int_equal (recon_csv_column (csv, "id"), 0);
    assert_int_equal (recon_csv_next (csv), 1);
    assert_int_equal (recon_csv_line (csv), 4);
    recon_csv_destroy (&csv);
}

/*  Processor headers as they appear in real reports.                     */
static void
test_processor_headers (void **state)
{
    (void) state;
    static const char stripe[] =
        "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,"
        "reporting_category,source_id,description,customer_facing_amount,"
        "customer_facing_currency,automatic_payout_id,payment_metadata[order_id]\n"
        "txn_1Nd,2024-03-01 10:15:02,2024-03-03 00:00:00,usd,42.00,-1.52,40.48,charge,"
        "ch_3Nd,\"Order #1001, 2 items\",42.00,usd,po_1,1001\n";
    recon_csv_t *csv = recon_csv_new_from_buffer (stripe, sizeof stripe - 1, "stripe.csv");
    assert_int_equal (recon_csv_read_header (csv), 0);
    assert_int_equal (recon_csv_column (csv, "payment_metadata[order_id]"), 13);
    assert_int_equal (recon_csv_next (csv), 1);
    assert_int_equal (recon_csv_nfields (csv), recon_csv_ncolumns (csv));
    assert_string_equal (recon_csv_field (csv, 9, NULL), "Order #1001, 2 items");
    recon_csv_destroy (&csv);
}

static void
test_api_edges (void **state)
{
    (void) state;
    assert_null (recon_csv_new (-1, "x"));
    assert_null (recon_csv_new_from_buffer (NULL, 1, "x"));
    recon_csv_destroy (NULL);
    recon_csv_t *csv = NULL;
    recon_csv_destroy (&csv);

    csv = recon_csv_new_from_buffer (NULL, 0, NULL);
    assert_non_null (csv);
    assert_string_equal (recon_csv_file_name (csv), "");
    size_t len = 99;
    assert_non_null (recon_csv_raw (csv, &len));
    assert_int_equal (len, 0);
    assert_int_equal (recon_csv_line (csv), 0);
    assert_int_equal (recon_csv_set_buffer_size (csv, 0), RECON_CSV_EINVAL);
    assert_int_equal (recon_csv_set_max_record (csv, 0), RECON_CSV_EINVAL);
    assert_int_equal (recon_csv_set_max_record (csv, RECON_CSV_MAX_RECORD_LIMIT + 1),
                      RECON_CSV_EINVAL);
    assert_int_equal (recon_csv_next (csv), 0);
    assert_int_equal (recon_csv_next (csv), 0);
    assert_int_equal (recon_csv_set_buffer_size (csv, 10), RECON_CSV_EINVAL);
    assert_int_equal (recon_csv_set_max_record (csv, 10), RECON_CSV_EINVAL);
    recon_csv_destroy (&csv);

    csv = recon_csv_new_from_buffer ("a,b", 3, NULL);
    assert_int_equal (recon_csv_next (csv), 1);
    len = 99;
    assert_null (recon_csv_field (csv, 2, &len));
    assert_int_equal (len, 0);
    assert_int_equal (recon_csv_next (csv), 0);
    assert_int_equal (recon_csv_nfields (csv), 0);
    assert_null (recon_csv_field (csv, 0, NULL));
    recon_csv_destroy (&csv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_simple_records),
        cmocka_unit_test (test_line_endings),
        cmocka_unit_test (test_empty_fields),
        cmocka_unit_test (test_blank_lines_skipped),
        cmocka_unit_test (test_quoted_fields),
        cmocka_unit_test (test_embedded_newlines_and_line_numbers),
        cmocka_unit_test (test_bom),
        cmocka_unit_test (test_utf8),
        cmocka_unit_test (test_nul_rejected),
        cmocka_unit_test (test_unterminated_quote_then_continue),
        cmocka_unit_test (test_syntax_errors_then_continue),
        cmocka_unit_test (test_record_size_cap),
        cmocka_unit_test (test_large_record_straddles_window),
        cmocka_unit_test (test_read_from_file),
        cmocka_unit_test (test_read_from_pipe),
        cmocka_unit_test (test_read_error_is_fatal),
        cmocka_unit_test (test_header_lookup),
        cmocka_unit_test (test_header_errors),
        cmocka_unit_test (test_processor_headers),
        cmocka_unit_test (test_api_edges),
    };
    return cmocka_run_group_tests_name ("csv", tests, NULL, NULL);
}
