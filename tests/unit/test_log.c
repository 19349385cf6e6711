/*  test_log.c — one line per event, text quoting and JSON structure.     */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "recon/log.h"

typedef struct {
    char *buf;
    size_t len;
    FILE *mem;
    recon_log_t *log;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    f->mem = open_memstream (&f->buf, &f->len);
    f->log = recon_log_new ("tester", f->mem);
    *state = f;
    return f->log ? 0 : -1;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    recon_log_destroy (&f->log);
    assert_null (f->log);
    fclose (f->mem);
    free (f->buf);
    free (f);
    return 0;
}

static const char *
s_output (s_fixture_t *f)
{
    fflush (f->mem);
    return f->buf;
}

static void
test_text_line (void **state)
{
    s_fixture_t *f = *state;
    recon_log_kv (f->log, RECON_LOG_INFO, "job.done", "job_id", "7", "note", "two words",
                  "quote", "say \"hi\"", "missing", NULL, NULL);
    const char *out = s_output (f);
    assert_non_null (strstr (out, " info  tester job.done job_id=7 note=\"two words\" "
                                  "quote=\"say \\\"hi\\\"\" missing=-\n"));
    assert_int_equal (strchr (out, '\n') - out + 1, (long) strlen (out));
}

static void
test_newline_in_value_stays_one_line (void **state)
{
    s_fixture_t *f = *state;
    recon_log_kv (f->log, RECON_LOG_WARN, "x", "msg", "line1\nline2", NULL);
    const char *out = s_output (f);
    assert_non_null (strstr (out, "msg=\"line1\\nline2\""));
    assert_ptr_equal (strchr (out, '\n'), out + strlen (out) - 1);
}

static void
test_level_filter (void **state)
{
    s_fixture_t *f = *state;
    recon_log_kv (f->log, RECON_LOG_DEBUG, "hidden", NULL);
    recon_log_set_level (f->log, RECON_LOG_DEBUG);
    recon_log_kv (f->log, RECON_LOG_DEBUG, "shown", NULL);
    const char *out = s_output (f);
    assert_null (strstr (out, "hidden"));
    assert_non_null (strstr (out, "shown"));
}

static void
test_json_line (void **state)
{
    s_fixture_t *f = *state;
    recon_log_set_format (f->log, RECON_LOG_JSON);
    assert_int_equal (recon_log_set_context (f->log, "worker_id", "w-1"), 0);
    assert_int_equal (recon_log_set_context (f->log, "run_id", "r-9"), 0);
    assert_int_equal (recon_log_set_context (f->log, "run_id", NULL), 0);
    recon_log_msg (f->log, RECON_LOG_ERROR, "db.down", "retry in %d s", 4);
    recon_log_kv (f->log, RECON_LOG_INFO, "bytes", "raw", "\xff\xfe", NULL);
    const char *out = s_output (f);
    json_error_t err;
    const char *second = strchr (out, '\n') + 1;
    json_t *line = json_loadb (out, (size_t) (second - out), 0, &err);
    assert_non_null (line);
    assert_string_equal (json_string_value (json_object_get (line, "level")), "error");
    assert_string_equal (json_string_value (json_object_get (line, "component")), "tester");
    assert_string_equal (json_string_value (json_object_get (line, "event")), "db.down");
    assert_string_equal (json_string_value (json_object_get (line, "worker_id")), "w-1");
    assert_null (json_object_get (line, "run_id"));
    assert_string_equal (json_string_value (json_object_get (line, "msg")), "retry in 4 s");
    assert_non_null (json_object_get (line, "ts"));
    json_decref (line);
    /*  Invalid UTF-8 from outside must not drop the event.                */
    line = json_loads (second, 0, &err);
    assert_non_null (line);
    assert_string_equal (json_string_value (json_object_get (line, "event")), "bytes");
    json_decref (line);
}

static void
test_parsers (void **state)
{
    (void) state;
    recon_log_format_t fmt;
    recon_log_level_t lvl;
    assert_int_equal (recon_log_format_parse ("json", &fmt), 0);
    assert_int_equal (fmt, RECON_LOG_JSON);
    assert_int_equal (recon_log_format_parse ("xml", &fmt), -1);
    assert_int_equal (recon_log_level_parse ("warn", &lvl), 0);
    assert_int_equal (lvl, RECON_LOG_WARN);
    assert_int_equal (recon_log_level_parse ("WARN", &lvl), -1);
    assert_int_equal (recon_log_level_parse (NULL, &lvl), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_text_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_newline_in_value_stays_one_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_level_filter, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_json_line, s_setup, s_teardown),
        cmocka_unit_test (test_parsers),
    };
    return cmocka_run_group_tests_name ("log", tests, NULL, NULL);
}
