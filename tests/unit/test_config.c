/*  test_config.c — settings: defaults, file, environment, validation.    */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "recon/config.h"
#include "recon/timestamp.h"

static char *
s_write_file (const char *text)
{
    char *path = strdup ("/tmp/recon-test-config-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    return path;
}

static void
test_defaults (void **state)
{
    (void) state;
    recon_config_t *cfg = recon_config_new ();
    assert_non_null (cfg);
    assert_string_equal (recon_config_get (cfg, "log_format"), "text");
    assert_true (recon_config_get_duration_us (cfg, "grace_fulfillment") == 72 * RECON_USEC_PER_HOUR);
    assert_true (recon_config_get_int (cfg, "amount_tolerance") == 0);
    assert_string_equal (recon_config_source (cfg, "database_url"), "default");
    /*  Ledger and fulfillment fall back to recon's own database.          */
    assert_string_equal (recon_config_get_url (cfg, "ledger_database_url"),
                         recon_config_get (cfg, "database_url"));
    recon_config_destroy (&cfg);
    assert_null (cfg);
    recon_config_destroy (&cfg);
    recon_config_destroy (NULL);
}

static void
test_file (void **state)
{
    (void) state;
    char *path = s_write_file ("# comment\n\n  database_url = \"postgresql://u:secret@db/recon\"\n"
                               "RECON_GRACE_LEDGER=12h\nlog_format=json   \n");
    recon_config_t *cfg = recon_config_new ();
    assert_int_equal (recon_config_load_file (cfg, path), 0);
    assert_string_equal (recon_config_get (cfg, "database_url"), "postgresql://u:secret@db/recon");
    assert_true (recon_config_get_duration_us (cfg, "grace_ledger") == 12 * RECON_USEC_PER_HOUR);
    assert_string_equal (recon_config_get (cfg, "log_format"), "json");
    char where[300];
    snprintf (where, sizeof where, "%s:3", path);
    assert_string_equal (recon_config_source (cfg, "database_url"), where);

    char *dump = NULL;
    size_t len = 0;
    FILE *mem = open_memstream (&dump, &len);
    recon_config_dump (cfg, mem);
    fclose (mem);
    assert_null (strstr (dump, "secret"));
    assert_non_null (strstr (dump, "postgresql://u:***@db/recon"));
    free (dump);
    recon_config_destroy (&cfg);
    unlink (path);
    free (path);
}

static void
test_listen_settings (void **state)
{
    (void) state;
    recon_config_t *cfg = recon_config_new ();
    assert_string_equal (recon_config_get (cfg, "broker_http"), "127.0.0.1:9464");
    assert_string_equal (recon_config_get (cfg, "worker_http"), "off");
    const char *good[] = {"0.0.0.0:9464", "[::]:9465", "127.0.0.1:0", "off", ""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal (recon_config_set (cfg, "worker_http", good[i], "test"), 0);
    const char *bad[] = {"localhost:9464", "9464", "0.0.0.0:99999", "on"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal (recon_config_set (cfg, "broker_http", bad[i], "RECON_BROKER_HTTP"), -1);
        assert_non_null (strstr (recon_config_errstr (cfg), "RECON_BROKER_HTTP"));
        assert_non_null (strstr (recon_config_errstr (cfg), "IPv4:port"));
    }
    recon_config_destroy (&cfg);
}

static void
test_file_errors_name_line (void **state)
{
    (void) state;
    struct {
        const char *text;
        const char *expect;
    } cases[] = {
        {"log_format = text\ndatabse_url = x\n", ":2: unknown setting 'databse_url'"},
        {"grace_ledger = soon\n", ":1: invalid value 'soon' for grace_ledger"},
        {"amount_tolerance = -1\n", ":1: invalid value '-1' for amount_tolerance"},
        {"\n\njust words\n", ":3: expected 'key = value'"},
        {"log_level = loud\n", "expected debug, info, warn or error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = s_write_file (cases[i].text);
        recon_config_t *cfg = recon_config_new ();
        assert_int_equal (recon_config_load_file (cfg, path), -1);
        if (!strstr (recon_config_errstr (cfg), cases[i].expect))
            fail_msg ("error '%s' lacks '%s'", recon_config_errstr (cfg), cases[i].expect);
        assert_non_null (strstr (recon_config_errstr (cfg), path));
        recon_config_destroy (&cfg);
        unlink (path);
        free (path);
    }
    recon_config_t *cfg = recon_config_new ();
    assert_int_equal (recon_config_load_file (cfg, "/nonexistent/recon.conf"), -1);
    assert_non_null (strstr (recon_config_errstr (cfg), "/nonexistent/recon.conf"));
    recon_config_destroy (&cfg);
}

/*  Control bytes of a bad value went to the terminal as they were (found
    by fuzz_config); a NUL byte cut the value short without a word (found
    while writing that target).                                           */
static void
test_stream_nul_and_control_bytes (void **state)
{
    (void) state;
    static const char nul[] = "log_format = text\ndatabase_url = postgresql:///a\0b\n";
    FILE *f = fmemopen ((void *) nul, sizeof nul - 1, "r");
    recon_config_t *cfg = recon_config_new ();
    assert_int_equal (recon_config_load_stream (cfg, f, "x.conf"), -1);
    assert_string_equal (recon_config_errstr (cfg),
                         "x.conf:2: contains a NUL byte (is this a text file?)");
    fclose (f);
    recon_config_destroy (&cfg);

    static const char ctl[] = "log_level = \033[2Jloud\r\n";
    f = fmemopen ((void *) ctl, sizeof ctl - 1, "r");
    cfg = recon_config_new ();
    assert_int_equal (recon_config_load_stream (cfg, f, "y.conf"), -1);
    assert_string_equal (recon_config_errstr (cfg),
                         "y.conf:1: invalid value '?[2Jloud' for log_level: expected debug, "
                         "info, warn or error");
    fclose (f);
    recon_config_destroy (&cfg);
}

static void
test_env (void **state)
{
    (void) state;
    char *path = s_write_file ("grace_ledger = 12h\nlog_level = warn\n");
    recon_config_t *cfg = recon_config_new ();
    assert_int_equal (recon_config_load_file (cfg, path), 0);
    char *envp[] = {"PATH=/bin", "RECON_GRACE_LEDGER=6h", "RECON_CONFIG=/x",
                    "RECON_TEST_ANYTHING=1", "RECON_SANDBOX_DIR=/tmp/x", "NOT_RECON_X=1",
                    "RECON_ENTRYPOINT_WAIT=5", NULL};
    assert_int_equal (recon_config_load_env (cfg, envp), 0);
    /*  The environment overrides the file; the file still beats defaults. */
    assert_true (recon_config_get_duration_us (cfg, "grace_ledger") == 6 * RECON_USEC_PER_HOUR);
    assert_string_equal (recon_config_source (cfg, "grace_ledger"), "RECON_GRACE_LEDGER");
    assert_string_equal (recon_config_get (cfg, "log_level"), "warn");
    assert_int_equal (recon_config_set (cfg, "log_level", "debug", "--log-level"), 0);
    assert_string_equal (recon_config_source (cfg, "log_level"), "--log-level");
    recon_config_destroy (&cfg);
    unlink (path);
    free (path);
}

static void
test_env_errors (void **state)
{
    (void) state;
    recon_config_t *cfg = recon_config_new ();
    char *typo[] = {"RECON_DATABSE_URL=x", NULL};
    assert_int_equal (recon_config_load_env (cfg, typo), -1);
    assert_non_null (strstr (recon_config_errstr (cfg), "RECON_DATABSE_URL"));
    char *bad[] = {"RECON_GRACE_CANCEL=1.5h", NULL};
    assert_int_equal (recon_config_load_env (cfg, bad), -1);
    assert_non_null (strstr (recon_config_errstr (cfg), "RECON_GRACE_CANCEL: invalid value"));
    /*  A failed set leaves the previous value in place.                    */
    assert_string_equal (recon_config_get (cfg, "grace_cancel"), "48h");
    recon_config_destroy (&cfg);
}

static void
test_help_lists_every_setting (void **state)
{
    (void) state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream (&text, &len);
    recon_config_print_help (mem);
    fclose (mem);
    const char *names[] = {"RECON_DATABASE_URL", "RECON_LEDGER_DATABASE_URL",
                           "RECON_FULFILLMENT_DATABASE_URL", "RECON_REDIS_URL",
                           "RECON_BROKER_ENDPOINT", "RECON_LOG_FORMAT", "RECON_GRACE_FULFILLMENT",
                           "RECON_AMOUNT_TOLERANCE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null (strstr (text, names[i]));
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_file),
        cmocka_unit_test (test_file_errors_name_line),
        cmocka_unit_test (test_stream_nul_and_control_bytes),
        cmocka_unit_test (test_env),
        cmocka_unit_test (test_listen_settings),
        cmocka_unit_test (test_env_errors),
        cmocka_unit_test (test_help_lists_every_setting),
    };
    return cmocka_run_group_tests_name ("config", tests, NULL, NULL);
}
