/*  test_truth.c — the classifier against the generator's ground truth.

    Every order the generator can make (the default mix over many indexes,
    and every scenario forced over many more) is classified by the real
    classifier and compared with the label the generator wrote from
    docs/CLASSIFICATION.md. Precision and recall per label are printed and
    must both be exactly 1.0: a single disagreement fails the test and is
    shown with its facts.                                                   */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "recon/classify.h"
#include "recon/timestamp.h"
#include "scenario.h"

#define S_DEFAULT_ORDERS 1000000
#define S_PER_SCENARIO 2000
#define S_NLABELS (RECON_KIND_COUNT + RECON_STATE_COUNT)

typedef struct {
    uint64_t tp[S_NLABELS], fp[S_NLABELS], fn[S_NLABELS];
    uint64_t orders, disagreements;
} s_tally_t;

/*  Labels are numbered kinds first, then states.                           */
static const char *
s_label_name (int i)
{
    return i < RECON_KIND_COUNT ? recon_kind_name ((recon_kind_t) i)
                                : recon_state_name ((recon_state_t) (i - RECON_KIND_COUNT));
}

static int
s_label_index (const char *name)
{
    int k = recon_kind_from_name (name);
    if (k >= 0)
        return k;
    int s = recon_state_from_name (name);
    return s >= 0 ? RECON_KIND_COUNT + s : -1;
}

/*  Splits "a|b" into a membership set over label indexes.                 */
static void
s_label_set (const char *label, int *set)
{
    memset (set, 0, sizeof (int) * S_NLABELS);
    char buf[256];
    snprintf (buf, sizeof buf, "%s", label);
    for (char *save = NULL, *tok = strtok_r (buf, "|", &save); tok;
         tok = strtok_r (NULL, "|", &save)) {
        int i = s_label_index (tok);
        if (i < 0)
            fail_msg ("unknown label '%s'", tok);
        set[i] = 1;
    }
}

static void
s_facts_from (const gen_order_t *g, recon_processor_event_t *ev, recon_ledger_entry_t *le,
              recon_order_facts_t *facts)
{
    for (size_t i = 0; i < g->n_events; i++) {
        const gen_event_t *e = &g->events[i];
        ev[i] = (recon_processor_event_t) {
            .txn_id = e->txn_id, .payment_ref = e->payment_ref,
            .kind = (recon_event_kind_t) e->kind, .status = (recon_event_status_t) e->status,
            .amount_minor = e->amount_minor, .occurred_at = e->occurred_at};
        memcpy (ev[i].currency, e->currency, 4);
    }
    for (size_t i = 0; i < g->n_ledger; i++) {
        const gen_ledger_entry_t *e = &g->ledger[i];
        le[i] = (recon_ledger_entry_t) {.entry_id = e->entry_id,
                                        .kind = (recon_ledger_kind_t) e->kind,
                                        .amount_minor = e->amount_minor,
                                        .recorded_at = e->recorded_at};
        memcpy (le[i].currency, e->currency, 4);
    }
    recon_fulfillment_t ff = {RECON_FULFILLMENT_NONE, 0, 0, 0};
    if (g->fulfillment.present) {
        /*  Same order of statuses; ours starts with NONE.                  */
        ff.status = (recon_fulfillment_status_t) (g->fulfillment.status + 1);
        ff.updated_at = g->fulfillment.updated_at;
        ff.has_shipped_at = g->fulfillment.shipped_at != GEN_NO_TIME;
        ff.shipped_at = ff.has_shipped_at ? g->fulfillment.shipped_at : 0;
    }
    *facts = (recon_order_facts_t) {g->order_id, ev, g->n_events, le, g->n_ledger, ff};
}

static void
s_report_disagreement (const gen_order_t *g, const char *got)
{
    char t[RECON_TIMESTAMP_BUFSIZE];
    fprintf (stderr, "DISAGREE %s scenario=%s expected=%s got=%s\n", g->order_id,
             gen_scenario_get (g->scenario)->name, g->expected, got);
    for (size_t i = 0; i < g->n_events; i++) {
        recon_timestamp_format (g->events[i].occurred_at, t);
        fprintf (stderr, "  processor %s %s %lld %s %s\n", gen_event_kind_name (g->events[i].kind),
                 gen_status_name (g->events[i].status), (long long) g->events[i].amount_minor,
                 g->events[i].currency, t);
    }
    for (size_t i = 0; i < g->n_ledger; i++) {
        recon_timestamp_format (g->ledger[i].recorded_at, t);
        fprintf (stderr, "  ledger %s %lld %s %s\n", gen_ledger_kind_name (g->ledger[i].kind),
                 (long long) g->ledger[i].amount_minor, g->ledger[i].currency, t);
    }
    if (g->fulfillment.present) {
        recon_timestamp_format (g->fulfillment.updated_at, t);
        fprintf (stderr, "  fulfillment %s updated %s\n",
                 gen_fulfillment_status_name (g->fulfillment.status), t);
    }
}

static void
s_check (const gen_settings_t *s, const gen_order_t *g, s_tally_t *tally)
{
    recon_processor_event_t ev[GEN_MAX_EVENTS];
    recon_ledger_entry_t le[GEN_MAX_LEDGER];
    recon_order_facts_t facts;
    s_facts_from (g, ev, le, &facts);
    recon_classify_config_t cfg = {s->as_of, s->grace_fulfillment, s->grace_ledger,
                                   s->grace_processor, s->grace_cancel, s->amount_tolerance};
    recon_classification_t out;
    assert_int_equal (recon_classify (&facts, &cfg, &out), 0);
    char got[256];
    assert_true (recon_classification_label (&out, got, sizeof got) > 0);
    int want_set[S_NLABELS], got_set[S_NLABELS];
    s_label_set (g->expected, want_set);
    s_label_set (got, got_set);
    for (int i = 0; i < S_NLABELS; i++) {
        tally->tp[i] += want_set[i] && got_set[i];
        tally->fp[i] += !want_set[i] && got_set[i];
        tally->fn[i] += want_set[i] && !got_set[i];
    }
    tally->orders++;
    /*  Exact string equality also checks the order kinds are listed in.   */
    if (strcmp (got, g->expected) != 0 && tally->disagreements++ < 10)
        s_report_disagreement (g, got);
}

static void
s_print (const s_tally_t *t)
{
    printf ("%-26s %9s %9s %9s %10s %8s\n", "label", "expected", "found", "correct",
            "precision", "recall");
    for (int i = 0; i < S_NLABELS; i++) {
        uint64_t expected = t->tp[i] + t->fn[i], found = t->tp[i] + t->fp[i];
        if (!expected && !found)
            continue;
        printf ("%-26s %9llu %9llu %9llu %10.6f %8.6f\n", s_label_name (i),
                (unsigned long long) expected, (unsigned long long) found,
                (unsigned long long) t->tp[i], found ? (double) t->tp[i] / (double) found : 1.0,
                expected ? (double) t->tp[i] / (double) expected : 1.0);
    }
    printf ("orders %llu, disagreements %llu\n", (unsigned long long) t->orders,
            (unsigned long long) t->disagreements);
}

static void
test_truth_agreement (void **state)
{
    (void) state;
    gen_settings_t s;
    int64_t from = INT64_C (1793491200) * RECON_USEC_PER_SEC; /* 2026-11-01 */
    gen_settings_defaults (&s, 42, from, from + 7 * RECON_USEC_PER_DAY);
    assert_null (gen_settings_check (&s));
    const char *env = getenv ("RECON_TRUTH_ORDERS");
    uint64_t n = env ? strtoull (env, NULL, 10) : S_DEFAULT_ORDERS;

    s_tally_t *tally = calloc (1, sizeof *tally);
    gen_order_t g;
    for (uint64_t i = 0; i < n; i++) {
        gen_order_make (&s, i, &g);
        s_check (&s, &g, tally);
    }
    /*  Every scenario many times, on indexes the mix above did not use.    */
    for (size_t sc = 0; sc < gen_scenario_count (); sc++)
        for (uint64_t i = 0; i < S_PER_SCENARIO; i++) {
            gen_order_make_scenario (&s, n + sc * S_PER_SCENARIO + i, sc, &g);
            s_check (&s, &g, tally);
        }
    s_print (tally);
    for (int i = 0; i < S_NLABELS; i++) {
        if (i == RECON_KIND_COUNT + RECON_STATE_FLAGGED)
            continue;
        /*  Every state and kind must actually have been exercised.         */
        if (tally->tp[i] == 0)
            fail_msg ("label %s never occurred", s_label_name (i));
        assert_int_equal (tally->fp[i], 0);
        assert_int_equal (tally->fn[i], 0);
    }
    assert_int_equal (tally->disagreements, 0);
    free (tally);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_truth_agreement),
    };
    return cmocka_run_group_tests_name ("truth", tests, NULL, NULL);
}
