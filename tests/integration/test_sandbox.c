/*  test_sandbox.c — a nested sandbox really starts, serves, and stops
    every process it started, leaving no directory behind.                 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "recon/sandbox.h"

static void
s_assert_gone (int pid)
{
    assert_true (pid > 0);
    assert_int_equal (kill (pid, 0), -1);
    assert_int_equal (errno, ESRCH);
}

static void
s_assert_postgres_serves (const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb (url);
    assert_int_equal (PQstatus (conn), CONNECTION_OK);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    PQfinish (conn);
}

static void
test_start_serve_stop (void **state)
{
    (void) state;
    recon_sandbox_t *sb = recon_sandbox_new (NULL, NULL);
    assert_non_null (sb);
    if (recon_sandbox_start (sb) < 0)
        fail_msg ("%s", recon_sandbox_errstr (sb));
    int pg = recon_sandbox_postgres_pid (sb), redis = recon_sandbox_redis_pid (sb);
    assert_int_equal (kill (pg, 0), 0);
    assert_int_equal (kill (redis, 0), 0);
    char dir[512];
    strcpy (dir, recon_sandbox_dir (sb));

    s_assert_postgres_serves (recon_sandbox_database_url (sb), "CREATE TABLE t (x int)");
    const char *redis_url = recon_sandbox_redis_url (sb);
    assert_memory_equal (redis_url, "unix://", 7);
    redisContext *rc = redisConnectUnix (redis_url + 7);
    assert_int_equal (rc->err, 0);
    redisReply *reply = redisCommand (rc, "SET k v");
    assert_non_null (reply);
    assert_int_equal (reply->type, REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    redisFree (rc);

    /*  PostgreSQL restarts on the same data (the fault tests rely on it). */
    assert_int_equal (recon_sandbox_stop_postgres (sb), 0);
    s_assert_gone (pg);
    assert_int_equal (recon_sandbox_start_postgres (sb), 0);
    s_assert_postgres_serves (recon_sandbox_database_url (sb), "SELECT * FROM t");
    pg = recon_sandbox_postgres_pid (sb);

    recon_sandbox_destroy (&sb);
    assert_null (sb);
    s_assert_gone (pg);
    s_assert_gone (redis);
    struct stat st;
    assert_int_equal (stat (dir, &st), -1);
}

static void
test_two_sandboxes_side_by_side (void **state)
{
    (void) state;
    recon_sandbox_t *a = recon_sandbox_new (NULL, NULL), *b = recon_sandbox_new (NULL, NULL);
    assert_int_equal (recon_sandbox_start (a), 0);
    assert_int_equal (recon_sandbox_start (b), 0);
    assert_string_not_equal (recon_sandbox_database_url (a), recon_sandbox_database_url (b));
    s_assert_postgres_serves (recon_sandbox_database_url (a), "SELECT 1");
    s_assert_postgres_serves (recon_sandbox_database_url (b), "SELECT 1");
    recon_sandbox_destroy (&a);
    recon_sandbox_destroy (&b);
}

static void
test_missing_binaries_reported (void **state)
{
    (void) state;
    setenv ("RECON_PG_BINDIR", "/nonexistent/bin", 1);
    recon_sandbox_t *sb = recon_sandbox_new (NULL, NULL);
    unsetenv ("RECON_PG_BINDIR");
    assert_int_equal (recon_sandbox_start (sb), -1);
    assert_non_null (strstr (recon_sandbox_errstr (sb), "initdb failed"));
    assert_int_equal (recon_sandbox_postgres_pid (sb), 0);
    recon_sandbox_destroy (&sb);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_start_serve_stop),
        cmocka_unit_test (test_two_sandboxes_side_by_side),
        cmocka_unit_test (test_missing_binaries_reported),
    };
    return cmocka_run_group_tests_name ("sandbox", tests, NULL, NULL);
}
