/*  test_runs.c — creating and settling runs against a real PostgreSQL:
    the shard plan (exact for a small window, sampled for a large one),
    the announcement of new jobs (for recon-broker) and of a settled run
    (for `recon run --wait`).                                              */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "recon/migrate.h"
#include "recon/run.h"
#include "recon/timestamp.h"
#include "testdb.h"

static int
s_setup (void **state)
{
    char *url = testdb_create ();
    recon_db_t *db = recon_db_connect (url, "test");
    assert_true (recon_db_ok (db));
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++)
        assert_int_equal (recon_migrate_apply (db, s, NULL, NULL), 0);
    recon_db_destroy (&db);
    *state = url;
    return 0;
}

static int
s_teardown (void **state)
{
    char *url = *state;
    testdb_drop (&url);
    return 0;
}

static long long
s_scalar (recon_db_t *db, const char *sql)
{
    PGresult *res = recon_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, recon_db_errstr (db));
    long long v = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}

static void
s_exec (recon_db_t *db, const char *sql)
{
    if (recon_db_exec (db, sql) < 0)
        fail_msg ("%s: %s", sql, recon_db_errstr (db));
}

static int64_t
s_time (const char *text)
{
    int64_t t = 0;
    assert_int_equal (recon_timestamp_parse (text, strlen (text), &t), 0);
    return t;
}

static int64_t
s_create (recon_db_t *db, const char *from, const char *to, int shards)
{
    recon_run_request_t req = {.from = s_time (from), .to = s_time (to),
                               .as_of = s_time ("2026-12-31T00:00:00Z"), .shards = shards,
                               .ledger_relation = "ledger.ledger_order_entries",
                               .fulfillment_relation = "fulfillment.fulfillment_orders",
                               .requested_by = "test"};
    int64_t id = 0;
    if (recon_run_create (db, &req, &id) != 0)
        fail_msg ("recon_run_create: %s", recon_db_errstr (db));
    assert_true (id > 0);
    return id;
}

/*  N events, two per order, with order ids in no particular byte order,
    one a minute from START (ids unique per PREFIX).                      */
static void
s_events (recon_db_t *db, const char *prefix, long n, const char *start)
{
    char sql[1024];
    snprintf (sql, sizeof sql,
              "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, status, "
              "       amount_minor, currency, occurred_at) "
              "SELECT 'stripe', '%s' || g, 'ord_' || md5('%s' || (g / 2)), 'charge', "
              "       'succeeded', 100, 'USD', '%s'::timestamptz + (g %% 1000) * interval '1 minute' "
              "  FROM generate_series(0, %ld) g", prefix, prefix, start, n - 1);
    s_exec (db, sql);
    s_exec (db, "ANALYZE recon.processor_events");
}

/*  Every event of the window falls in exactly one shard, the ranges tile
    the key space, and no shard is more than TOLERANCE_PCT off an equal
    share of the window's EVENTS.                                          */
static void
s_check_shards (recon_db_t *db, int64_t run, int shards, long events, int tolerance_pct)
{
    char sql[1024];
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM recon.jobs WHERE run_id = %lld", (long long) run);
    assert_int_equal (s_scalar (db, sql), shards);
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM recon.jobs a JOIN recon.jobs b ON b.run_id = a.run_id "
              "   AND b.shard = a.shard + 1 WHERE a.run_id = %lld AND a.range_hi = b.range_lo",
              (long long) run);
    assert_int_equal (s_scalar (db, sql), shards - 1);
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM recon.jobs WHERE run_id = %lld AND "
              "((shard = 0 AND range_lo = '') OR (shard = %d AND range_hi IS NULL))",
              (long long) run, shards - 1);
    assert_int_equal (s_scalar (db, sql), shards > 1 ? 2 : 1);
    snprintf (sql, sizeof sql,
              "WITH per AS (SELECT j.shard, count(e.*) AS n FROM recon.jobs j "
              "  JOIN recon.processor_events e ON e.order_id COLLATE \"C\" >= j.range_lo "
              "   AND (j.range_hi IS NULL OR e.order_id COLLATE \"C\" < j.range_hi) "
              " WHERE j.run_id = %lld AND e.occurred_at >= '2026-11-01' "
              "   AND e.occurred_at < '2026-11-02' GROUP BY 1) "
              "SELECT sum(n) * 1000000 + max(abs(n * %d - %ld) * 100 / %ld) FROM per",
              (long long) run, shards, events, events);
    long long v = s_scalar (db, sql);
    assert_int_equal (v / 1000000, events);
    if (v % 1000000 > tolerance_pct)
        fail_msg ("a shard is %lld%% off an equal share", v % 1000000);
}

/*  A small window: exact boundaries and the exact number of orders.     */
static void
test_small_window_exact (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db));
    s_events (db, "s", 20000, "2026-11-01");
    int64_t run = s_create (db, "2026-11-01", "2026-11-02", 4);
    s_check_shards (db, run, 4, 20000, 1);
    char sql[128];
    snprintf (sql, sizeof sql, "SELECT orders_estimate FROM recon.runs WHERE run_id = %lld",
              (long long) run);
    assert_int_equal (s_scalar (db, sql), 10000);
    recon_db_destroy (&db);
}

/*  Past 200,000 events: boundaries and the order estimate from a sample
    of whole orders, still balanced, close, and the same every time.      */
static void
test_large_window_sampled (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db));
    s_events (db, "l", 300000, "2026-11-01");
    s_events (db, "x", 1000, "2026-12-01"); /* outside the window */
    int64_t run = s_create (db, "2026-11-01", "2026-11-02", 4);
    s_check_shards (db, run, 4, 300000, 5);
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT orders_estimate FROM recon.runs WHERE run_id = %lld",
              (long long) run);
    long long estimate = s_scalar (db, sql);
    if (estimate < 150000 * 95 / 100 || estimate > 150000 * 105 / 100)
        fail_msg ("orders estimate %lld for 150000 orders", estimate);
    int64_t again = s_create (db, "2026-11-01", "2026-11-02", 4);
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM recon.jobs a JOIN recon.jobs b USING (shard, range_lo) "
              " WHERE a.run_id = %lld AND b.run_id = %lld "
              "   AND a.range_hi IS NOT DISTINCT FROM b.range_hi",
              (long long) run, (long long) again);
    assert_int_equal (s_scalar (db, sql), 4);
    recon_db_destroy (&db);
}

/*  A waiter hears of its run when it settles, not of another's, and
    hears nothing while the run goes on.                                   */
static void
test_settle_is_announced (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    recon_db_t *waiter = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db) && recon_db_ok (waiter));
    s_events (db, "a", 100, "2026-11-01");
    int64_t mine = s_create (db, "2026-11-01", "2026-11-02", 2);
    int64_t other = s_create (db, "2026-11-01", "2026-11-02", 1);
    assert_int_equal (recon_run_listen (waiter), 0);
    assert_int_equal (recon_run_wait_settled (waiter, mine, 50), 0);
    char sql[256], state_out[16];
    snprintf (sql, sizeof sql, "UPDATE recon.jobs SET state = 'succeeded', finished_at = now() "
                               "WHERE run_id = %lld", (long long) other);
    s_exec (db, sql);
    assert_int_equal (recon_run_settle (db, other, state_out), 0);
    assert_string_equal (state_out, "succeeded");
    assert_int_equal (recon_run_wait_settled (waiter, mine, 200), 0);
    /*  Not settled while a job is open.                                  */
    snprintf (sql, sizeof sql, "UPDATE recon.jobs SET state = 'succeeded', finished_at = now() "
                               "WHERE run_id = %lld AND shard = 0", (long long) mine);
    s_exec (db, sql);
    assert_int_equal (recon_run_settle (db, mine, state_out), 0);
    assert_string_equal (state_out, "");
    assert_int_equal (recon_run_wait_settled (waiter, mine, 200), 0);
    snprintf (sql, sizeof sql, "UPDATE recon.jobs SET state = 'dead', finished_at = now() "
                               "WHERE run_id = %lld AND shard = 1", (long long) mine);
    s_exec (db, sql);
    assert_int_equal (recon_run_settle (db, mine, state_out), 0);
    assert_string_equal (state_out, "failed");
    assert_int_equal (recon_run_wait_settled (waiter, mine, 10000), 1);
    recon_db_destroy (&waiter);
    recon_db_destroy (&db);
}

/*  recon-broker listens for new jobs: creating a run says so at commit. */
static void
test_create_is_announced (void **state)
{
    recon_db_t *db = recon_db_connect (*state, "test");
    recon_db_t *broker = recon_db_connect (*state, "test");
    assert_true (recon_db_ok (db) && recon_db_ok (broker));
    s_exec (broker, "LISTEN " RECON_RUN_JOBS_CHANNEL);
    s_create (db, "2026-11-01", "2026-11-02", 2);
    PGconn *conn = recon_db_conn (broker);
    int heard = 0;
    for (int i = 0; i < 100 && !heard; i++) {
        struct pollfd pfd = {.fd = PQsocket (conn), .events = POLLIN};
        poll (&pfd, 1, 100);
        assert_int_equal (PQconsumeInput (conn), 1);
        PGnotify *n;
        while ((n = PQnotifies (conn))) {
            heard |= strcmp (n->relname, RECON_RUN_JOBS_CHANNEL) == 0;
            PQfreemem (n);
        }
    }
    assert_true (heard);
    recon_db_destroy (&broker);
    recon_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_small_window_exact, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_large_window_sampled, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_settle_is_announced, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_create_is_announced, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
