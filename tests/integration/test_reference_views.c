/*  test_reference_views.c — the reference ledger and fulfillment schemas
    round-trip through the views recon reads (DESIGN.md contracts), and the
    constraints that keep bad rows out hold.                               */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "recon/migrate.h"
#include "recon/money.h"
#include "testdb.h"

typedef struct {
    char *url;
    recon_db_t *db;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    f->url = testdb_create ();
    f->db = recon_db_connect (f->url, "test");
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++)
        if (recon_migrate_apply (f->db, s, NULL, NULL) < 0)
            fail_msg ("migrate %s: %s", s->name, recon_db_errstr (f->db));
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    recon_db_destroy (&f->db);
    testdb_drop (&f->url);
    free (f);
    return 0;
}

static void
s_exec_ok (recon_db_t *db, const char *sql)
{
    if (recon_db_exec (db, sql) < 0)
        fail_msg ("%s: %s", sql, recon_db_errstr (db));
}

/*  Runs SQL expecting failure with a message containing WANT.             */
static void
s_exec_fails (recon_db_t *db, const char *sql, const char *want)
{
    if (recon_db_exec (db, sql) == 0)
        fail_msg ("accepted: %s", sql);
    if (!strstr (recon_db_errstr (db), want))
        fail_msg ("error '%s' lacks '%s'", recon_db_errstr (db), want);
}

/*  Returns all rows of SQL as "a|b|c\n" lines.                             */
static char *
s_rows (recon_db_t *db, const char *sql)
{
    PGresult *res = recon_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, recon_db_errstr (db));
    char *out = calloc (1, 65536);
    size_t len = 0;
    for (int r = 0; r < PQntuples (res); r++)
        for (int c = 0; c < PQnfields (res); c++)
            len += (size_t) snprintf (out + len, 65536 - len, "%s%s",
                                      PQgetisnull (res, r, c) ? "NULL" : PQgetvalue (res, r, c),
                                      c + 1 < PQnfields (res) ? "|" : "\n");
    PQclear (res);
    return out;
}

static void
test_ledger_round_trip (void **state)
{
    s_fixture_t *f = *state;
    s_exec_ok (f->db,
               "SELECT ledger.post_order_entry('je_1', 'ord_1', 'charge', 4200, 'usd', "
               "'2026-11-03T14:22:01Z');"
               "SELECT ledger.post_order_entry('je_2', 'ord_1', 'refund', 1200, 'USD', "
               "'2026-11-04T09:00:00+01:00');"
               "SELECT ledger.post_order_entry('je_3', 'ord_2', 'charge', 5000, 'JPY', "
               "'2026-11-05 00:00:00');"
               "SELECT ledger.post_order_entry('je_4', 'ord_3', 'charge', 9223372036854775807, "
               "'KWD', '2026-11-05T23:59:59.123456Z');");
    /*  An adjustment without an order is books, not order money.           */
    s_exec_ok (f->db, "INSERT INTO ledger.journal_entries (entry_id, order_id, kind, currency, "
                      "recorded_at) VALUES ('je_adj', NULL, 'adjustment', 'USD', now());"
                      "INSERT INTO ledger.postings (entry_id, account_code, debit_minor, "
                      "credit_minor) VALUES ('je_adj', '1100', 10, 0), ('je_adj', '4000', 0, 10);");
    char *rows = s_rows (f->db, "SELECT entry_id, order_id, kind, amount_minor, currency, "
                                "recorded_at FROM ledger.ledger_order_entries "
                                "ORDER BY order_id COLLATE \"C\", entry_id");
    assert_string_equal (rows, "je_1|ord_1|charge|4200|USD|2026-11-03 14:22:01+00\n"
                               "je_2|ord_1|refund|1200|USD|2026-11-04 08:00:00+00\n"
                               "je_3|ord_2|charge|5000|JPY|2026-11-05 00:00:00+00\n"
                               "je_4|ord_3|charge|9223372036854775807|KWD|"
                               "2026-11-05 23:59:59.123456+00\n");
    free (rows);
    /*  The view's column types are the contract's types.                  */
    rows = s_rows (f->db, "SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_schema = 'ledger' AND table_name = "
                          "'ledger_order_entries' ORDER BY ordinal_position");
    assert_string_equal (rows, "entry_id|text\norder_id|text\nkind|text\namount_minor|bigint\n"
                               "currency|text\nrecorded_at|timestamp with time zone\n");
    free (rows);
}

static void
test_ledger_keeps_books_balanced (void **state)
{
    s_fixture_t *f = *state;
    s_exec_fails (f->db,
                  "BEGIN; INSERT INTO ledger.journal_entries (entry_id, order_id, kind, currency, "
                  "recorded_at) VALUES ('je_x', 'ord_x', 'charge', 'USD', now());"
                  "INSERT INTO ledger.postings (entry_id, account_code, debit_minor, credit_minor) "
                  "VALUES ('je_x', '1100', 100, 0), ('je_x', '4000', 0, 99); COMMIT;",
                  "does not balance");
    recon_db_exec (f->db, "ROLLBACK");
    s_exec_fails (f->db, "SELECT ledger.post_order_entry('je_y', 'o', 'charge', -5, 'USD', now())",
                  "must be positive");
    s_exec_fails (f->db, "SELECT ledger.post_order_entry('je_y', 'o', 'payout', 5, 'USD', now())",
                  "kind must be charge or refund");
    s_exec_fails (f->db,
                  "SELECT ledger.post_order_entry('je_y', 'o', 'charge', 5, 'US$', now())",
                  "journal_entries_currency_check");
    s_exec_ok (f->db, "SELECT ledger.post_order_entry('je_z', 'o', 'charge', 5, 'USD', now())");
    s_exec_fails (f->db, "UPDATE ledger.postings SET debit_minor = 6 WHERE entry_id = 'je_z'",
                  "append-only");
    s_exec_fails (f->db, "DELETE FROM ledger.postings", "append-only");
    /*  A bulk load of balanced entries in one statement passes the check. */
    s_exec_ok (f->db, "INSERT INTO ledger.journal_entries (entry_id, order_id, kind, currency, "
                      "recorded_at) SELECT 'bulk_' || g, 'ord_' || g, 'charge', 'EUR', now() "
                      "FROM generate_series(1, 20000) g;"
                      "INSERT INTO ledger.postings (entry_id, account_code, debit_minor, "
                      "credit_minor) SELECT 'bulk_' || g, a, CASE a WHEN '1100' THEN g ELSE 0 END, "
                      "CASE a WHEN '4000' THEN g ELSE 0 END FROM generate_series(1, 20000) g, "
                      "(VALUES ('1100'), ('4000')) v(a);");
    char *rows = s_rows (f->db, "SELECT count(*), sum(amount_minor) FROM "
                                "ledger.ledger_order_entries WHERE entry_id LIKE 'bulk\\_%'");
    assert_string_equal (rows, "20000|200010000\n");
    free (rows);
}

static void
test_fulfillment_round_trip (void **state)
{
    s_fixture_t *f = *state;
    s_exec_ok (f->db, "INSERT INTO fulfillment.orders VALUES "
                      "('ord_b', 'shipped', '2026-11-04T10:00:00Z', '2026-11-04T09:30:00Z'),"
                      "('A-1', 'pending', '2026-11-03T10:00:00Z', NULL),"
                      "('ord_a', 'cancelled', '2026-11-05T10:00:00Z', NULL),"
                      "('Z-9', 'delivered', '2026-11-06T10:00:00Z', '2026-11-05T10:00:00Z')");
    /*  Byte order: upper case sorts before lower case, whatever the locale. */
    char *rows = s_rows (f->db, "SELECT order_id, status, updated_at, shipped_at FROM "
                                "fulfillment.fulfillment_orders ORDER BY order_id COLLATE \"C\"");
    assert_string_equal (rows, "A-1|pending|2026-11-03 10:00:00+00|NULL\n"
                               "Z-9|delivered|2026-11-06 10:00:00+00|2026-11-05 10:00:00+00\n"
                               "ord_a|cancelled|2026-11-05 10:00:00+00|NULL\n"
                               "ord_b|shipped|2026-11-04 10:00:00+00|2026-11-04 09:30:00+00\n");
    free (rows);
    s_exec_fails (f->db, "INSERT INTO fulfillment.orders VALUES ('x', 'lost', now(), NULL)",
                  "orders_status_check");
}

static void
test_processor_events_constraints (void **state)
{
    s_fixture_t *f = *state;
    s_exec_ok (f->db, "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, "
                      "status, amount_minor, currency, occurred_at) VALUES "
                      "('stripe', 'txn_1', 'ord_1', 'charge', 'succeeded', 4200, 'USD', now())");
    s_exec_fails (f->db, "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, "
                         "status, amount_minor, currency, occurred_at) VALUES "
                         "('stripe', 'txn_1', 'ord_1', 'charge', 'succeeded', 4200, 'USD', now())",
                  "processor_events_pkey");
    s_exec_fails (f->db, "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, "
                         "status, amount_minor, currency, occurred_at) VALUES "
                         "('stripe', 'txn_2', 'ord_1', 'charge', 'succeeded', -1, 'USD', now())",
                  "amount_minor_check");
    s_exec_fails (f->db, "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, "
                         "status, amount_minor, currency, occurred_at) VALUES "
                         "('stripe', 'txn_3', 'ord_1', 'payout', 'succeeded', 1, 'USD', now())",
                  "kind_check");
    s_exec_fails (f->db, "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, "
                         "status, amount_minor, currency, occurred_at) VALUES "
                         "('stripe', 'txn_4', 'ord_1', 'charge', 'succeeded', 1, 'usd', now())",
                  "currency_check");
}

static void
test_sql_exponents_match_c (void **state)
{
    s_fixture_t *f = *state;
    /*  Every code of the C table, plus common ones with exponent 2.       */
    const char *codes[] = {"BHD", "BIF", "CLF", "CLP", "DJF", "GNF", "IQD", "ISK", "JOD", "JPY",
                           "KMF", "KRW", "KWD", "LYD", "OMR", "PYG", "RWF", "TND", "UGX", "UYI",
                           "UYW", "VND", "VUV", "XAF", "XOF", "XPF", "USD", "EUR", "GBP", "SEK",
                           "CHF", "INR", "jpy", "kwd"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char sql[128];
        snprintf (sql, sizeof sql, "SELECT recon.currency_exponent('%s')", codes[i]);
        char *rows = s_rows (f->db, sql);
        char want[8];
        snprintf (want, sizeof want, "%d\n", recon_currency_exponent (codes[i]));
        if (strcmp (rows, want) != 0)
            fail_msg ("%s: SQL says %s, C says %s", codes[i], rows, want);
        free (rows);
    }
    char *rows = s_rows (f->db, "SELECT recon.minor_to_major(444400, 'CLP'), "
                                "recon.minor_to_major(4200, 'USD'), "
                                "recon.minor_to_major(-1234, 'KWD')");
    assert_string_equal (rows, "444400|42.00|-1.234\n");
    free (rows);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_ledger_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_keeps_books_balanced, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fulfillment_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_processor_events_constraints, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sql_exponents_match_c, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("reference_views", tests, NULL, NULL);
}
