/*  test_classify.c — every state, every kind, every boundary of
    docs/CLASSIFICATION.md, built by hand (the generator's truth is checked
    separately in test_truth.c).                                           */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "recon/classify.h"
#include "recon/timestamp.h"

/*  as_of = 2026-11-08T00:00:00Z; times are given in hours before it.      */
#define AS_OF (INT64_C (1794096000) * RECON_USEC_PER_SEC)
#define H(x)  (AS_OF - (int64_t) (x) * RECON_USEC_PER_HOUR)

typedef struct {
    recon_processor_event_t ev[16];
    size_t nev;
    recon_ledger_entry_t le[16];
    size_t nle;
    recon_fulfillment_t ff;
    recon_classify_config_t cfg;
    recon_classification_t out;
    char label[256];
} s_order_t;

static void
s_init (s_order_t *o)
{
    memset (o, 0, sizeof *o);
    o->cfg = recon_classify_config_default (AS_OF);
    o->ff.status = RECON_FULFILLMENT_NONE;
}

static void
s_event (s_order_t *o, recon_event_kind_t kind, recon_event_status_t st, int64_t amount,
         const char *cur, int64_t t)
{
    static const char *ids[] = {"txn_a", "txn_b", "txn_c", "txn_d", "txn_e", "txn_f",
                                "txn_g", "txn_h", "txn_i", "txn_j", "txn_k", "txn_l"};
    recon_processor_event_t *e = &o->ev[o->nev];
    e->txn_id = ids[o->nev++];
    e->payment_ref = "ch_3NxAbCdEfGhIjK";
    e->kind = kind;
    e->status = st;
    e->amount_minor = amount;
    snprintf (e->currency, sizeof e->currency, "%s", cur);
    e->occurred_at = t;
}

#define CHARGE(o, a, t)  s_event (o, RECON_EVENT_CHARGE, RECON_EVENT_SUCCEEDED, a, "USD", t)
#define REFUND(o, a, t)  s_event (o, RECON_EVENT_REFUND, RECON_EVENT_SUCCEEDED, a, "USD", t)
#define DISPUTE(o, a, t) s_event (o, RECON_EVENT_DISPUTE, RECON_EVENT_SUCCEEDED, a, "USD", t)

static void
s_entry (s_order_t *o, recon_ledger_kind_t kind, int64_t amount, const char *cur, int64_t t)
{
    static const char *ids[] = {"je_1", "je_2", "je_3", "je_4", "je_5", "je_6"};
    recon_ledger_entry_t *e = &o->le[o->nle];
    e->entry_id = ids[o->nle++];
    e->kind = kind;
    e->amount_minor = amount;
    snprintf (e->currency, sizeof e->currency, "%s", cur);
    e->recorded_at = t;
}

#define LCHARGE(o, a, t) s_entry (o, RECON_LEDGER_CHARGE, a, "USD", t)
#define LREFUND(o, a, t) s_entry (o, RECON_LEDGER_REFUND, a, "USD", t)

static void
s_ship (s_order_t *o, recon_fulfillment_status_t st, int64_t t)
{
    o->ff.status = st;
    o->ff.updated_at = t;
    if (st == RECON_FULFILLMENT_SHIPPED || st == RECON_FULFILLMENT_DELIVERED
        || st == RECON_FULFILLMENT_RETURNED) {
        o->ff.shipped_at = t;
        o->ff.has_shipped_at = 1;
    }
}

static const char *
s_classify (s_order_t *o)
{
    recon_order_facts_t facts = {"ord_1", o->ev, o->nev, o->le, o->nle, o->ff};
    assert_int_equal (recon_classify (&facts, &o->cfg, &o->out), 0);
    assert_true (recon_classification_label (&o->out, o->label, sizeof o->label) > 0);
    return o->label;
}

/*  A normal paid, booked and shipped order of $42.00.                     */
static void
s_normal (s_order_t *o)
{
    s_init (o);
    CHARGE (o, 4200, H (100));
    LCHARGE (o, 4200, H (99));
    s_ship (o, RECON_FULFILLMENT_SHIPPED, H (90));
}

static const recon_mismatch_t *
s_only (s_order_t *o, recon_kind_t kind)
{
    assert_int_equal (o->out.state, RECON_STATE_FLAGGED);
    assert_int_equal (o->out.nmismatches, 1);
    assert_int_equal (o->out.mismatches[0].kind, kind);
    return &o->out.mismatches[0];
}

static void
test_not_flagged_states (void **state)
{
    (void) state;
    s_order_t o;
    s_normal (&o);
    assert_string_equal (s_classify (&o), "in_sync");
    assert_string_equal (o.out.summary, "Processor, ledger and fulfillment agree.");

    s_normal (&o); /* refunded in full and returned */
    REFUND (&o, 4200, H (50));
    LREFUND (&o, 4200, H (49));
    s_ship (&o, RECON_FULFILLMENT_RETURNED, H (48));
    assert_string_equal (s_classify (&o), "refunded_in_full");

    s_init (&o); /* cancelled, never paid */
    s_event (&o, RECON_EVENT_CHARGE, RECON_EVENT_FAILED, 4200, "USD", H (100));
    s_ship (&o, RECON_FULFILLMENT_CANCELLED, H (99));
    assert_string_equal (s_classify (&o), "cancelled_clean");

    s_normal (&o); /* cancelled after capture, refunded on both sides */
    REFUND (&o, 4200, H (80));
    LREFUND (&o, 4200, H (79));
    s_ship (&o, RECON_FULFILLMENT_CANCELLED, H (81));
    assert_string_equal (s_classify (&o), "cancelled_clean");

    s_init (&o);
    CHARGE (&o, 4200, H (10));
    LCHARGE (&o, 4200, H (9));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (9));
    assert_string_equal (s_classify (&o), "awaiting_fulfillment");

    s_init (&o);
    CHARGE (&o, 4200, H (10));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (5));
    assert_string_equal (s_classify (&o), "awaiting_ledger");

    s_init (&o);
    LCHARGE (&o, 4200, H (10));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (10));
    assert_string_equal (s_classify (&o), "awaiting_processor");

    s_init (&o); /* an abandoned checkout: nothing to reconcile */
    s_event (&o, RECON_EVENT_CHARGE, RECON_EVENT_FAILED, 4200, "USD", H (100));
    assert_string_equal (s_classify (&o), "in_sync");
}

static void
test_every_kind (void **state)
{
    (void) state;
    s_order_t o;
    const recon_mismatch_t *m;

    s_normal (&o);
    CHARGE (&o, 4200, H (100));
    assert_string_equal (s_classify (&o), "duplicate_charge");
    m = s_only (&o, RECON_KIND_DUPLICATE_CHARGE);
    assert_int_equal (m->severity, RECON_SEVERITY_CRITICAL);
    assert_int_equal (m->amount_minor, 4200);
    assert_string_equal (m->currency, "USD");

    s_normal (&o);
    o.ev[0].amount_minor = 4500;
    assert_string_equal (s_classify (&o), "overcharged");
    assert_int_equal (s_only (&o, RECON_KIND_OVERCHARGED)->amount_minor, 300);

    s_normal (&o);
    o.ev[0].amount_minor = 4000;
    assert_string_equal (s_classify (&o), "undercharged");
    assert_int_equal (s_only (&o, RECON_KIND_UNDERCHARGED)->amount_minor, 200);

    s_init (&o);
    CHARGE (&o, 4200, H (30));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (20));
    assert_string_equal (s_classify (&o), "missing_in_ledger");
    assert_int_equal (s_only (&o, RECON_KIND_MISSING_IN_LEDGER)->amount_minor, 4200);

    s_init (&o);
    LCHARGE (&o, 4200, H (50));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (50));
    assert_string_equal (s_classify (&o), "missing_at_processor");

    s_normal (&o);
    REFUND (&o, 1000, H (30));
    assert_string_equal (s_classify (&o), "refund_not_in_ledger");
    assert_int_equal (s_only (&o, RECON_KIND_REFUND_NOT_IN_LEDGER)->amount_minor, 1000);

    s_normal (&o);
    LREFUND (&o, 1000, H (50));
    assert_string_equal (s_classify (&o), "refund_not_at_processor");

    s_normal (&o);
    DISPUTE (&o, 4200, H (10));
    assert_string_equal (s_classify (&o), "dispute_open");
    assert_int_equal (s_only (&o, RECON_KIND_DISPUTE_OPEN)->severity, RECON_SEVERITY_HIGH);

    s_normal (&o);
    s_ship (&o, RECON_FULFILLMENT_ON_HOLD, H (50));
    assert_string_equal (s_classify (&o), "charged_not_delivered");

    s_normal (&o);
    s_ship (&o, RECON_FULFILLMENT_CANCELLED, H (60));
    assert_string_equal (s_classify (&o), "charged_after_cancel");
    assert_int_equal (s_only (&o, RECON_KIND_CHARGED_AFTER_CANCEL)->amount_minor, 4200);

    s_init (&o);
    s_ship (&o, RECON_FULFILLMENT_DELIVERED, H (60));
    assert_string_equal (s_classify (&o), "delivered_not_charged");

    s_normal (&o);
    REFUND (&o, 4200, H (80));
    LREFUND (&o, 4200, H (79));
    assert_string_equal (s_classify (&o), "refunded_but_shipped");

    s_normal (&o);
    o.le[0].currency[0] = 'E', o.le[0].currency[1] = 'U', o.le[0].currency[2] = 'R';
    assert_string_equal (s_classify (&o), "currency_mismatch");
}

static void
test_grace_boundaries (void **state)
{
    (void) state;
    s_order_t o;
    /*  Exactly at the fulfillment SLA is still inside; one µs more is over. */
    s_init (&o);
    CHARGE (&o, 4200, H (72));
    LCHARGE (&o, 4200, H (72));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (72));
    assert_string_equal (s_classify (&o), "awaiting_fulfillment");
    o.ev[0].occurred_at -= 1;
    assert_string_equal (s_classify (&o), "charged_not_delivered");

    s_init (&o);
    CHARGE (&o, 4200, H (24));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (20));
    assert_string_equal (s_classify (&o), "awaiting_ledger");
    o.ev[0].occurred_at -= 1;
    assert_string_equal (s_classify (&o), "missing_in_ledger");

    s_init (&o);
    LCHARGE (&o, 4200, H (48));
    assert_string_equal (s_classify (&o), "awaiting_processor");
    o.le[0].recorded_at -= 1;
    assert_string_equal (s_classify (&o), "missing_at_processor");

    /*  Cancel grace runs from the later of the cancel and the capture.    */
    s_init (&o);
    CHARGE (&o, 4200, H (90));
    LCHARGE (&o, 4200, H (90));
    s_ship (&o, RECON_FULFILLMENT_CANCELLED, H (48));
    assert_string_equal (s_classify (&o), "awaiting_processor");
    o.ff.updated_at -= 1;
    assert_string_equal (s_classify (&o), "charged_after_cancel");

    /*  Grace windows are configuration.                                   */
    s_init (&o);
    CHARGE (&o, 4200, H (30));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (20));
    o.cfg.grace_ledger = 36 * RECON_USEC_PER_HOUR;
    assert_string_equal (s_classify (&o), "awaiting_ledger");
}

static void
test_tolerance (void **state)
{
    (void) state;
    s_order_t o;
    s_normal (&o);
    o.ev[0].amount_minor = 4201; /* one minor unit over */
    assert_string_equal (s_classify (&o), "overcharged");
    assert_int_equal (o.out.mismatches[0].amount_minor, 1);
    o.cfg.tolerance = 1;
    assert_string_equal (s_classify (&o), "in_sync");
    o.ev[0].amount_minor = 4202;
    assert_string_equal (s_classify (&o), "overcharged");
    o.ev[0].amount_minor = 4199;
    assert_string_equal (s_classify (&o), "in_sync");
}

static void
test_money_shapes (void **state)
{
    (void) state;
    s_order_t o;
    /*  Partial refunds on both sides stay in sync.                        */
    s_normal (&o);
    REFUND (&o, 1000, H (50));
    LREFUND (&o, 1000, H (49));
    REFUND (&o, 500, H (40));
    LREFUND (&o, 500, H (39));
    assert_string_equal (s_classify (&o), "in_sync");

    /*  A refund then a dispute of the rest: the dispute is what is open.  */
    DISPUTE (&o, 2700, H (20));
    assert_string_equal (s_classify (&o), "dispute_open");
    assert_int_equal (o.out.mismatches[0].amount_minor, 2700);
    /*  … until the processor reverses it.                                 */
    s_event (&o, RECON_EVENT_DISPUTE_REVERSAL, RECON_EVENT_SUCCEEDED, 2700, "USD", H (5));
    assert_string_equal (s_classify (&o), "in_sync");

    /*  Split captures of distinct amounts summing to the order: in sync.  */
    s_init (&o);
    CHARGE (&o, 3000, H (100));
    CHARGE (&o, 1200, H (95));
    LCHARGE (&o, 4200, H (99));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (90));
    assert_string_equal (s_classify (&o), "in_sync");
    /*  Equal halves are not a duplicate when they sum to the order.       */
    o.ev[0].amount_minor = 2100;
    o.ev[1].amount_minor = 2100;
    assert_string_equal (s_classify (&o), "in_sync");

    /*  A duplicate the processor refunded and the ledger never booked.    */
    s_normal (&o);
    CHARGE (&o, 4200, H (99));
    REFUND (&o, 4200, H (98));
    assert_string_equal (s_classify (&o), "in_sync");

    /*  A bank debit that failed after capturing, then a retry.            */
    s_normal (&o);
    s_event (&o, RECON_EVENT_CHARGE_FAILURE, RECON_EVENT_SUCCEEDED, 4200, "USD", H (97));
    CHARGE (&o, 4200, H (96));
    assert_string_equal (s_classify (&o), "in_sync");
    assert_int_equal (o.out.figures.captures, 1);

    /*  A refund that failed gave the money back: nothing to book.          */
    s_normal (&o);
    REFUND (&o, 4200, H (60));
    s_event (&o, RECON_EVENT_REFUND_FAILURE, RECON_EVENT_SUCCEEDED, 4200, "USD", H (59));
    assert_string_equal (s_classify (&o), "in_sync");
    assert_int_equal (o.out.figures.refunded_processor, 0);

    /*  Authorised 50.00, captured 42.00: the released rest is not money.   */
    s_normal (&o);
    o.ev[0].amount_minor = 5000;
    s_event (&o, RECON_EVENT_PARTIAL_CAPTURE_REVERSAL, RECON_EVENT_SUCCEEDED, 800, "USD", H (99));
    assert_string_equal (s_classify (&o), "in_sync");
    assert_int_equal (o.out.figures.captured, 4200);
    assert_int_equal (o.out.figures.captures, 1);

    /*  Pending and failed events are not money.                           */
    s_normal (&o);
    s_event (&o, RECON_EVENT_CHARGE, RECON_EVENT_PENDING, 4200, "USD", H (90));
    s_event (&o, RECON_EVENT_REFUND, RECON_EVENT_FAILED, 4200, "USD", H (90));
    assert_string_equal (s_classify (&o), "in_sync");

    /*  Facts after as_of were not known yet.                              */
    s_normal (&o);
    CHARGE (&o, 4200, AS_OF + 1);
    assert_string_equal (s_classify (&o), "in_sync");
}

static void
test_several_kinds_in_table_order (void **state)
{
    (void) state;
    s_order_t o;
    s_init (&o);
    CHARGE (&o, 4200, H (100));
    CHARGE (&o, 4200, H (100));
    LCHARGE (&o, 4200, H (99));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (99));
    DISPUTE (&o, 4200, H (10));
    assert_string_equal (s_classify (&o), "duplicate_charge|dispute_open|charged_not_delivered");
    assert_int_equal (o.out.mismatches[2].amount_minor, 8400);

    s_init (&o);
    LCHARGE (&o, 4200, H (90));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (80));
    assert_string_equal (s_classify (&o), "missing_at_processor|delivered_not_charged");
    assert_int_equal (o.out.mismatches[1].amount_minor, 4200);
}

static void
test_sentences (void **state)
{
    (void) state;
    s_order_t o;
    /*  2026-11-04T00:00Z: charged 4 days before as_of, never shipped.    */
    s_init (&o);
    CHARGE (&o, 4200, H (96));
    LCHARGE (&o, 4200, H (96));
    s_ship (&o, RECON_FULFILLMENT_PENDING, H (96));
    assert_string_equal (s_classify (&o), "charged_not_delivered");
    assert_string_equal (o.out.mismatches[0].summary,
                         "Charged $42.00 on 4 Nov (ch_3NxAbCdEf\xe2\x80\xa6); the order has not "
                         "shipped after 4 days.");
    assert_string_equal (o.out.mismatches[0].next_step, "Ship the order or refund the customer.");

    /*  Zero- and three-decimal currencies print with their own exponent.  */
    s_init (&o);
    s_event (&o, RECON_EVENT_CHARGE, RECON_EVENT_SUCCEEDED, 420000, "JPY", H (96));
    s_entry (&o, RECON_LEDGER_CHARGE, 400000, "JPY", H (96));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (90));
    assert_string_equal (s_classify (&o), "overcharged");
    assert_non_null (strstr (o.out.mismatches[0].summary, "Captured \xc2\xa5" "420,000"));
    assert_non_null (strstr (o.out.mismatches[0].summary, "\xc2\xa5" "20,000 too much"));
    assert_int_equal (o.out.mismatches[0].amount_minor, 20000);

    s_init (&o);
    s_event (&o, RECON_EVENT_CHARGE, RECON_EVENT_SUCCEEDED, 4200, "KWD", H (30));
    s_ship (&o, RECON_FULFILLMENT_SHIPPED, H (20));
    assert_string_equal (s_classify (&o), "missing_in_ledger");
    assert_non_null (strstr (o.out.mismatches[0].summary, "Charged KWD 4.200 on 6 Nov"));
    assert_non_null (strstr (o.out.mismatches[0].summary, "after 1 day."));
}

static void
test_human_money (void **state)
{
    (void) state;
    char buf[64];
    recon_money_format_human (buf, sizeof buf, 123456789, "USD");
    assert_string_equal (buf, "$1,234,567.89");
    recon_money_format_human (buf, sizeof buf, -500, "EUR");
    assert_string_equal (buf, "-\xe2\x82\xac" "5.00");
    recon_money_format_human (buf, sizeof buf, 999, "BHD");
    assert_string_equal (buf, "BHD 0.999");
    recon_money_format_human (buf, sizeof buf, 1000, "CLP");
    assert_string_equal (buf, "CLP 1,000");
    assert_int_equal (recon_money_format_human (buf, 4, 123456789, "USD"), -1);
}

static void
test_overflow_refused (void **state)
{
    (void) state;
    s_order_t o;
    s_normal (&o);
    CHARGE (&o, INT64_MAX, H (10));
    recon_order_facts_t facts = {"ord_1", o.ev, o.nev, o.le, o.nle, o.ff};
    assert_int_equal (recon_classify (&facts, &o.cfg, &o.out), RECON_CLASSIFY_EOVERFLOW);
}

static void
test_names_round_trip (void **state)
{
    (void) state;
    for (int k = 0; k < RECON_KIND_COUNT; k++) {
        assert_int_equal (recon_kind_from_name (recon_kind_name ((recon_kind_t) k)), k);
        assert_true (strlen (recon_kind_meaning ((recon_kind_t) k)) > 10);
        assert_true (strlen (recon_kind_next_step ((recon_kind_t) k)) > 10);
    }
    for (int s = 0; s < RECON_STATE_COUNT; s++)
        assert_int_equal (recon_state_from_name (recon_state_name ((recon_state_t) s)), s);
    assert_int_equal (recon_kind_from_name ("nope"), -1);
    assert_int_equal (recon_fulfillment_status_from_name ("none"), -1);
    assert_int_equal (recon_fulfillment_status_from_name ("on_hold"), RECON_FULFILLMENT_ON_HOLD);
    assert_int_equal (recon_event_kind_from_name ("charge_failure"), RECON_EVENT_CHARGE_FAILURE);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_not_flagged_states),
        cmocka_unit_test (test_every_kind),
        cmocka_unit_test (test_grace_boundaries),
        cmocka_unit_test (test_tolerance),
        cmocka_unit_test (test_money_shapes),
        cmocka_unit_test (test_several_kinds_in_table_order),
        cmocka_unit_test (test_sentences),
        cmocka_unit_test (test_human_money),
        cmocka_unit_test (test_overflow_refused),
        cmocka_unit_test (test_names_round_trip),
    };
    return cmocka_run_group_tests_name ("classify", tests, NULL, NULL);
}
