/*  test_migrate.c — the embedded migration sets are well formed.         */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recon/migrate.h"

static void
test_sets_are_ordered_and_named (void **state)
{
    (void) state;
    int nsets = 0;
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++, nsets++) {
        int prev = 0;
        for (const recon_migration_t *m = s->migrations; m->version; m++) {
            /*  Versions strictly increase from 1 without gaps.             */
            assert_int_equal (m->version, prev + 1);
            prev = m->version;
            assert_true (strlen (m->sql) > 0);
            assert_non_null (strstr (m->sql, s->schema));
            /*  Each runs inside our transaction: no transaction control.   */
            assert_null (strstr (m->sql, "COMMIT"));
            assert_null (strstr (m->sql, "BEGIN;"));
        }
        assert_int_equal (recon_migration_set_latest (s), prev);
        assert_true (prev >= 1);
        assert_ptr_equal (recon_migration_set_find (s->name), s);
    }
    assert_int_equal (nsets, 3);
    assert_null (recon_migration_set_find ("nope"));
}

static void
test_reference_views_are_the_contract (void **state)
{
    (void) state;
    const recon_migration_set_t *ledger = recon_migration_set_find ("ledger");
    const recon_migration_set_t *fulfillment = recon_migration_set_find ("fulfillment");
    assert_non_null (strstr (ledger->migrations[0].sql, "CREATE VIEW ledger.ledger_order_entries"));
    assert_non_null (
        strstr (fulfillment->migrations[0].sql, "CREATE VIEW fulfillment.fulfillment_orders"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sets_are_ordered_and_named),
        cmocka_unit_test (test_reference_views_are_the_contract),
    };
    return cmocka_run_group_tests_name ("migrate", tests, NULL, NULL);
}
