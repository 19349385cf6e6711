/*  cmd_states.c — `recon states`: every order state and mismatch kind,
    with its severity, its meaning, an example sentence and the next step.

    Design decision: nothing here is written twice. Names, severities,
    meanings and next steps come from the classifier's own tables, and each
    example sentence is what the real classifier says about a small example
    order built below — so docs/STATES.md (this command's --markdown output,
    compared in CI) cannot drift from what recon tells finance.            */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "recon/classify.h"
#include "recon/timestamp.h"

/*  Examples are classified as of 2026-11-08T00:00:00Z; times are hours
    before it, so the dates in the sentences never change.                 */
#define AS_OF (INT64_C (1794096000) * RECON_USEC_PER_SEC)
#define H(x)  (AS_OF - (int64_t) (x) * RECON_USEC_PER_HOUR)

typedef struct {
    recon_processor_event_t ev[4];
    size_t nev;
    recon_ledger_entry_t le[4];
    size_t nle;
    recon_fulfillment_t ff;
} s_example_t;

static void
s_event (s_example_t *x, recon_event_kind_t kind, int64_t amount, const char *currency,
         int64_t at)
{
    static const char *ids[] = {"txn_1", "txn_2", "txn_3", "txn_4"};
    recon_processor_event_t *e = &x->ev[x->nev];
    e->txn_id = ids[x->nev++];
    e->payment_ref = "ch_3NxAbCdEfGhIjK";
    e->kind = kind;
    e->status = RECON_EVENT_SUCCEEDED;
    e->amount_minor = amount;
    snprintf (e->currency, sizeof e->currency, "%s", currency);
    e->occurred_at = at;
}

static void
s_entry (s_example_t *x, recon_ledger_kind_t kind, int64_t amount, const char *currency,
         int64_t at)
{
    static const char *ids[] = {"je_1", "je_2", "je_3", "je_4"};
    recon_ledger_entry_t *e = &x->le[x->nle];
    e->entry_id = ids[x->nle++];
    e->kind = kind;
    e->amount_minor = amount;
    snprintf (e->currency, sizeof e->currency, "%s", currency);
    e->recorded_at = at;
}

static void
s_ship (s_example_t *x, recon_fulfillment_status_t status, int64_t at)
{
    x->ff.status = status;
    x->ff.updated_at = at;
    if (status == RECON_FULFILLMENT_SHIPPED || status == RECON_FULFILLMENT_DELIVERED
        || status == RECON_FULFILLMENT_RETURNED) {
        x->ff.shipped_at = at;
        x->ff.has_shipped_at = 1;
    }
}

/*  A $42.00 order charged 100 h ago, booked 99 h ago, shipped 90 h ago;
    each example changes one thing about it.                               */
static void
s_normal (s_example_t *x)
{
    memset (x, 0, sizeof *x);
    s_event (x, RECON_EVENT_CHARGE, 4200, "USD", H (100));
    s_entry (x, RECON_LEDGER_CHARGE, 4200, "USD", H (99));
    s_ship (x, RECON_FULFILLMENT_SHIPPED, H (90));
}

/*  Builds the example for state S (when KIND < 0) or for KIND.            */
static void
s_build (s_example_t *x, int state, int kind)
{
    s_normal (x);
    if (kind < 0) {
        switch ((recon_state_t) state) {
        case RECON_STATE_REFUNDED_IN_FULL:
            s_event (x, RECON_EVENT_REFUND, 4200, "USD", H (50));
            s_entry (x, RECON_LEDGER_REFUND, 4200, "USD", H (49));
            s_ship (x, RECON_FULFILLMENT_RETURNED, H (48));
            break;
        case RECON_STATE_CANCELLED_CLEAN:
            s_event (x, RECON_EVENT_REFUND, 4200, "USD", H (80));
            s_entry (x, RECON_LEDGER_REFUND, 4200, "USD", H (79));
            s_ship (x, RECON_FULFILLMENT_CANCELLED, H (81));
            break;
        case RECON_STATE_AWAITING_FULFILLMENT:
            x->ev[0].occurred_at = H (10);
            x->le[0].recorded_at = H (9);
            s_ship (x, RECON_FULFILLMENT_PENDING, H (9));
            break;
        case RECON_STATE_AWAITING_LEDGER:
            x->nle = 0;
            x->ev[0].occurred_at = H (10);
            s_ship (x, RECON_FULFILLMENT_SHIPPED, H (5));
            break;
        case RECON_STATE_AWAITING_PROCESSOR:
            x->nev = 0;
            x->le[0].recorded_at = H (10);
            s_ship (x, RECON_FULFILLMENT_PENDING, H (10));
            break;
        default:
            break;
        }
        return;
    }
    switch ((recon_kind_t) kind) {
    case RECON_KIND_CURRENCY_MISMATCH:
        snprintf (x->le[0].currency, sizeof x->le[0].currency, "EUR");
        break;
    case RECON_KIND_DUPLICATE_CHARGE:
        s_event (x, RECON_EVENT_CHARGE, 4200, "USD", H (98));
        break;
    case RECON_KIND_OVERCHARGED:
        x->ev[0].amount_minor = 4500;
        break;
    case RECON_KIND_UNDERCHARGED:
        x->ev[0].amount_minor = 4000;
        break;
    case RECON_KIND_MISSING_IN_LEDGER:
        x->nle = 0;
        x->ev[0].occurred_at = H (30);
        s_ship (x, RECON_FULFILLMENT_SHIPPED, H (20));
        break;
    case RECON_KIND_MISSING_AT_PROCESSOR:
        x->nev = 0;
        x->le[0].recorded_at = H (50);
        s_ship (x, RECON_FULFILLMENT_PENDING, H (50));
        break;
    case RECON_KIND_REFUND_NOT_IN_LEDGER:
        s_event (x, RECON_EVENT_REFUND, 1000, "USD", H (30));
        break;
    case RECON_KIND_REFUND_NOT_AT_PROCESSOR:
        s_entry (x, RECON_LEDGER_REFUND, 1000, "USD", H (50));
        break;
    case RECON_KIND_DISPUTE_OPEN:
        s_event (x, RECON_EVENT_DISPUTE, 4200, "USD", H (10));
        break;
    case RECON_KIND_CHARGED_NOT_DELIVERED:
        s_ship (x, RECON_FULFILLMENT_ON_HOLD, H (50));
        break;
    case RECON_KIND_CHARGED_AFTER_CANCEL:
        s_ship (x, RECON_FULFILLMENT_CANCELLED, H (60));
        break;
    case RECON_KIND_DELIVERED_NOT_CHARGED:
        x->nev = 0;
        x->nle = 0;
        s_ship (x, RECON_FULFILLMENT_DELIVERED, H (60));
        break;
    case RECON_KIND_REFUNDED_BUT_SHIPPED:
        s_event (x, RECON_EVENT_REFUND, 4200, "USD", H (80));
        s_entry (x, RECON_LEDGER_REFUND, 4200, "USD", H (79));
        break;
    default:
        break;
    }
}

/*  Classifies the example; returns 0 when it came out as expected.       */
static int
s_classify (int state, int kind, recon_classification_t *out)
{
    s_example_t x;
    s_build (&x, state, kind);
    recon_order_facts_t facts = {"ord_1042", x.ev, x.nev, x.le, x.nle, x.ff};
    recon_classify_config_t cfg = recon_classify_config_default (AS_OF);
    if (recon_classify (&facts, &cfg, out) != 0)
        return -1;
    if (kind < 0)
        return (int) out->state == state ? 0 : -1;
    return out->nmismatches == 1 && (int) out->mismatches[0].kind == kind ? 0 : -1;
}

static int
s_hours (int64_t us)
{
    return (int) (us / RECON_USEC_PER_HOUR);
}

/*  Grace window that decides each waiting state (hours, defaults).        */
static int
s_state_window (recon_state_t s, const recon_classify_config_t *d)
{
    switch (s) {
    case RECON_STATE_AWAITING_FULFILLMENT: return s_hours (d->grace_fulfillment);
    case RECON_STATE_AWAITING_LEDGER: return s_hours (d->grace_ledger);
    case RECON_STATE_AWAITING_PROCESSOR: return s_hours (d->grace_processor);
    default: return 0;
    }
}

static int
s_markdown (FILE *out)
{
    recon_classify_config_t d = recon_classify_config_default (AS_OF);
    recon_classification_t c;
    fprintf (out,
             "# Order states and mismatch kinds\n\n"
             "<!-- Generated by `recon states --markdown` from the classifier's own tables\n"
             "     (common/classify.c); CI fails when this file differs. Do not edit. -->\n\n"
             "Every order ends a run in one state. The not-flagged states are counted and\n"
             "shown but need nobody; a flagged order has one or more mismatches, each an\n"
             "item in the queue with a severity, the money at stake, the evidence, a\n"
             "sentence and a next step. The example sentences below are what recon says\n"
             "about a small example order (a $42.00 order, `ord_1042`, classified as of\n"
             "8 Nov 2026) — the same code writes the queue's sentences.\n\n"
             "Defaults (configurable, see `recon config`): fulfillment SLA %d h, ledger\n"
             "posting lag %d h, processor settlement lag %d h, cancellation grace %d h,\n"
             "amount tolerance %lld minor units.\n\n",
             s_hours (d.grace_fulfillment), s_hours (d.grace_ledger),
             s_hours (d.grace_processor), s_hours (d.grace_cancel), (long long) d.tolerance);

    fprintf (out, "## Not flagged\n\n| state | meaning | example |\n|---|---|---|\n");
    for (int s = 0; s < RECON_STATE_FLAGGED; s++) {
        if (s_classify (s, -1, &c) != 0)
            return -1;
        int window = s_state_window ((recon_state_t) s, &d);
        fprintf (out, "| `%s` | %s%s", recon_state_name ((recon_state_t) s),
                 recon_state_meaning ((recon_state_t) s), window ? " (" : "");
        if (window)
            fprintf (out, "%d h by default)", window);
        fprintf (out, " | %s |\n", c.summary);
    }

    fprintf (out, "\n## Flagged: the mismatch kinds, worst first\n\n"
                  "Severity follows harm to the customer: critical (an incorrect charge) >\n"
                  "high (paid but not delivered) > medium (the books are wrong).\n\n");
    for (int sev = RECON_SEVERITY_CRITICAL; sev <= RECON_SEVERITY_MEDIUM; sev++) {
        for (int k = 0; k < RECON_KIND_COUNT; k++) {
            if ((int) recon_kind_severity ((recon_kind_t) k) != sev)
                continue;
            if (s_classify (-1, k, &c) != 0)
                return -1;
            const recon_mismatch_t *m = &c.mismatches[0];
            fprintf (out,
                     "### `%s` — %s\n\n"
                     "%s%s.\n\n"
                     "- **Example:** %s\n"
                     "- **Next step:** %s\n"
                     "- **In general:** %s\n\n",
                     recon_kind_name ((recon_kind_t) k), recon_severity_name ((recon_severity_t) sev),
                     "Means: ", recon_kind_meaning ((recon_kind_t) k), m->summary, m->next_step,
                     recon_kind_next_step ((recon_kind_t) k));
        }
    }
    fprintf (out,
             "## In the queue\n\n"
             "An item is `open` → `in_review` (claimed) → `resolved` with a resolution\n"
             "(refunded, shipped, ledger_corrected, written_off, false_positive, or\n"
             "auto_resolved when later data made the order consistent), or `snoozed`\n"
             "until a time, when it comes back by itself. A resolved item that is\n"
             "flagged again is reopened. Every change is in the item's history.\n");
    return 0;
}

static int
s_table (FILE *out)
{
    recon_classification_t c;
    fprintf (out, "Not flagged:\n");
    for (int s = 0; s < RECON_STATE_FLAGGED; s++)
        fprintf (out, "  %-22s %s\n", recon_state_name ((recon_state_t) s),
                 recon_state_meaning ((recon_state_t) s));
    fprintf (out, "\nFlagged (worst first):\n");
    for (int sev = RECON_SEVERITY_CRITICAL; sev <= RECON_SEVERITY_MEDIUM; sev++)
        for (int k = 0; k < RECON_KIND_COUNT; k++) {
            if ((int) recon_kind_severity ((recon_kind_t) k) != sev)
                continue;
            if (s_classify (-1, k, &c) != 0)
                return -1;
            fprintf (out, "  %-24s %-8s %s\n  %24s e.g. %s\n", recon_kind_name ((recon_kind_t) k),
                     recon_severity_name ((recon_severity_t) sev),
                     recon_kind_meaning ((recon_kind_t) k), "", c.mismatches[0].summary);
        }
    return 0;
}

int
cli_states (cli_t *cli, int argc, char **argv)
{
    (void) cli;
    int markdown = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help (argv[i])) {
            printf ("usage: recon states [--markdown]\n\n"
                    "Lists every order state and mismatch kind: severity, meaning and an\n"
                    "example of the sentence recon writes. --markdown prints docs/STATES.md.\n");
            return CLI_EXIT_OK;
        }
        if (strcmp (argv[i], "--markdown") == 0)
            markdown = 1;
        else {
            fprintf (stderr, "recon states: unknown argument '%s' (try --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if ((markdown ? s_markdown (stdout) : s_table (stdout)) != 0) {
        fprintf (stderr, "recon states: an example did not classify as documented "
                         "(the classifier and this command disagree)\n");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
