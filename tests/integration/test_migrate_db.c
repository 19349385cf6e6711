/*  test_migrate_db.c — migrations against a real PostgreSQL.             */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "recon/migrate.h"
#include "testdb.h"

static int
s_setup (void **state)
{
    *state = testdb_create ();
    return 0;
}

static int
s_teardown (void **state)
{
    char *url = *state;
    testdb_drop (&url);
    return 0;
}

static long
s_scalar (recon_db_t *db, const char *sql)
{
    PGresult *res = recon_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, recon_db_errstr (db));
    long v = atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}

static void
test_migrate_all_sets_idempotent (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db));
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++) {
        int applied = -1;
        assert_int_equal (recon_migrate_current (db, s), 0);
        assert_int_equal (recon_migrate_apply (db, s, NULL, &applied), 0);
        assert_int_equal (applied, recon_migration_set_latest (s));
        assert_int_equal (recon_migrate_current (db, s), recon_migration_set_latest (s));
        assert_int_equal (recon_migrate_apply (db, s, NULL, &applied), 0);
        assert_int_equal (applied, 0);
    }
    assert_int_equal (s_scalar (db, "SELECT count(*) FROM recon.schema_migrations"),
                      recon_migration_set_latest (recon_migration_set_find ("recon")));
    assert_int_equal (s_scalar (db, "SELECT count(*) FROM information_schema.tables "
                                    "WHERE table_schema = 'recon' AND table_name = "
                                    "'processor_events'"),
                      1);
    recon_db_destroy (&db);
    assert_null (db);
}

/*  ANALYZE samples 300 rows per unit of a table's largest statistics
    target: one queue column left at the default (100), say a column a later
    migration adds, brings back a 30,000-row sample of wide rows every time
    a run doubles the queue (schema 8, docs/BENCHMARKS.md).                */
static void
test_queue_statistics_sample_bounded (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_int_equal (recon_migrate_apply (db, recon_migration_set_find ("recon"), NULL, NULL), 0);
    assert_int_equal (s_scalar (db, "SELECT count(*) FROM pg_attribute "
                                    " WHERE attrelid IN ('recon.mismatches'::regclass, "
                                    "                    'recon.mismatch_history'::regclass) "
                                    "   AND attnum > 0 AND NOT attisdropped "
                                    "   AND NOT coalesce(attstattarget, -1) BETWEEN 0 AND 20"),
                      0);
    assert_int_equal (s_scalar (db, "SELECT count(*) FROM pg_attribute "
                                    " WHERE attrelid = 'recon.mismatches'::regclass "
                                    "   AND attname IN ('status', 'kind', 'severity', 'currency') "
                                    "   AND attstattarget = 20"),
                      4);
    recon_db_destroy (&db);
}

static void
test_edited_migration_refused (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    const recon_migration_set_t *set = recon_migration_set_find ("recon");
    assert_int_equal (recon_migrate_apply (db, set, NULL, NULL), 0);
    assert_int_equal (recon_db_exec (db, "UPDATE recon.schema_migrations SET checksum = 'x' "
                                         "WHERE version = 1"),
                      0);
    assert_int_equal (recon_migrate_apply (db, set, NULL, NULL), -1);
    assert_non_null (strstr (recon_db_errstr (db), "was changed after it was applied"));
    recon_db_destroy (&db);
}

static void
test_newer_database_refused (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    const recon_migration_set_t *set = recon_migration_set_find ("recon");
    assert_int_equal (recon_migrate_apply (db, set, NULL, NULL), 0);
    assert_int_equal (recon_db_exec (db, "INSERT INTO recon.schema_migrations (version, name, "
                                         "checksum) VALUES (999, 'future.sql', 'x')"),
                      0);
    assert_int_equal (recon_migrate_apply (db, set, NULL, NULL), -1);
    assert_non_null (strstr (recon_db_errstr (db), "newer than this recon"));
    recon_db_destroy (&db);
}

static void
test_failed_migration_rolls_back (void **state)
{
    static const recon_migration_t migrations[] = {
        {1, "0001_ok.sql", "CREATE TABLE mtest.a (x int);"},
        {2, "0002_bad.sql", "CREATE TABLE mtest.b (x int); SELECT no_such_function();"},
        {0, NULL, NULL},
    };
    const recon_migration_set_t set = {"mtest", "mtest", "test", migrations};
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_int_equal (recon_migrate_apply (db, &set, NULL, NULL), -1);
    assert_non_null (strstr (recon_db_errstr (db), "mtest/0002_bad.sql"));
    assert_non_null (strstr (recon_db_errstr (db), "no_such_function"));
    /*  Version 1 stays applied; all of version 2 was rolled back.          */
    assert_int_equal (recon_migrate_current (db, &set), 1);
    assert_int_equal (s_scalar (db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'mtest' "
                                    "AND tablename IN ('a', 'b')"),
                      1);
    recon_db_destroy (&db);
}

typedef struct {
    const char *url;
    int rc;
    int applied;
} s_racer_t;

static void *
s_race (void *arg)
{
    s_racer_t *r = arg;
    recon_db_t *db = recon_db_connect (r->url, "racer");
    r->rc = -1;
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++) {
        int n = 0;
        r->rc = recon_migrate_apply (db, s, NULL, &n);
        if (r->rc < 0)
            break;
        r->applied += n;
    }
    recon_db_destroy (&db);
    return NULL;
}

static void
test_concurrent_migrators (void **state)
{
    enum { N = 4 };
    pthread_t threads[N];
    s_racer_t racers[N];
    for (int i = 0; i < N; i++) {
        racers[i] = (s_racer_t) {*state, 0, 0};
        pthread_create (&threads[i], NULL, s_race, &racers[i]);
    }
    int total = 0, expected = 0;
    for (int i = 0; i < N; i++) {
        pthread_join (threads[i], NULL);
        assert_int_equal (racers[i].rc, 0);
        total += racers[i].applied;
    }
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++)
        expected += recon_migration_set_latest (s);
    /*  Every migration ran exactly once across all racers.                */
    assert_int_equal (total, expected);
}

static void
test_unreachable_database (void **state)
{
    (void) state;
    recon_db_t *db = recon_db_connect ("postgresql:///nope?host=/nonexistent-dir", "test");
    assert_non_null (db);
    assert_false (recon_db_ok (db));
    assert_non_null (strstr (recon_db_errstr (db), "cannot connect to PostgreSQL"));
    assert_int_equal (recon_migrate_apply (db, recon_migration_sets, NULL, NULL), -1);
    recon_db_destroy (&db);
}

/*  A database error reads as one line with its SQLSTATE at the end, not
    libpq's message, a newline, then the code.                              */
static void
test_error_text_one_line (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db));
    assert_null (recon_db_query (db, "SELECT 1 / 0", 0, NULL));
    assert_string_equal (recon_db_errstr (db), "ERROR:  division by zero SQLSTATE 22012");
    assert_int_equal (recon_db_exec (db, "SELECT 1 / 0"), -1);
    assert_string_equal (recon_db_errstr (db), "ERROR:  division by zero SQLSTATE 22012");
    recon_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_migrate_all_sets_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_queue_statistics_sample_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_edited_migration_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_newer_database_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_migration_rolls_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_concurrent_migrators, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_error_text_one_line, s_setup, s_teardown),
        cmocka_unit_test (test_unreachable_database),
    };
    return cmocka_run_group_tests_name ("migrate_db", tests, NULL, NULL);
}
