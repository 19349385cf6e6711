/*  test_evidence.c — the evidence JSON, byte for byte against jansson.

    Queue items store a facts hash taken of this text; the worker used to
    build it with jansson (JSON_COMPACT | JSON_SORT_KEYS). The reference
    below is that code, kept as the oracle: if the two ever differ, every
    open item would show "new facts" on the next run after an upgrade.   */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "recon/evidence.h"
#include "recon/timestamp.h"

static json_t *
s_time_json (int64_t t)
{
    char buf[RECON_TIMESTAMP_BUFSIZE];
    recon_timestamp_format (t, buf);
    return json_string (buf);
}

/*  The worker's code before recon/evidence.h.                            */
static char *
s_reference (const recon_order_facts_t *f, const recon_figures_t *g)
{
    json_t *ev = json_array (), *le = json_array ();
    for (size_t i = 0; i < f->nevents; i++) {
        const recon_processor_event_t *e = &f->events[i];
        json_array_append_new (ev, json_pack ("{s:s, s:s?, s:s, s:s, s:I, s:s, s:o}",
            "txn_id", e->txn_id, "payment_ref", e->payment_ref,
            "kind", recon_event_kind_name (e->kind),
            "status", e->status == RECON_EVENT_SUCCEEDED ? "succeeded"
                      : e->status == RECON_EVENT_PENDING ? "pending" : "failed",
            "amount_minor", (json_int_t) e->amount_minor, "currency", e->currency,
            "occurred_at", s_time_json (e->occurred_at)));
    }
    for (size_t i = 0; i < f->nentries; i++) {
        const recon_ledger_entry_t *e = &f->entries[i];
        json_array_append_new (le, json_pack ("{s:s, s:s, s:I, s:s, s:o}",
            "entry_id", e->entry_id, "kind", e->kind == RECON_LEDGER_REFUND ? "refund" : "charge",
            "amount_minor", (json_int_t) e->amount_minor, "currency", e->currency,
            "recorded_at", s_time_json (e->recorded_at)));
    }
    json_t *ff = json_null ();
    if (f->fulfillment.status != RECON_FULFILLMENT_NONE)
        ff = json_pack ("{s:s, s:o, s:o}", "status",
                        recon_fulfillment_status_name (f->fulfillment.status), "updated_at",
                        s_time_json (f->fulfillment.updated_at), "shipped_at",
                        f->fulfillment.has_shipped_at ? s_time_json (f->fulfillment.shipped_at)
                                                      : json_null ());
    json_t *o = json_pack ("{s:o, s:o, s:o}", "processor", ev, "ledger", le, "fulfillment", ff);
    if (g)
        json_object_set_new (o, "figures", json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "captured", (json_int_t) g->captured, "captures", (json_int_t) g->captures,
            "refunded_processor", (json_int_t) g->refunded_processor,
            "ledger_charged", (json_int_t) g->ledger_charged,
            "ledger_refunded", (json_int_t) g->ledger_refunded,
            "disputed_open", (json_int_t) g->disputed_open,
            "open_disputes", (json_int_t) g->open_disputes));
    char *text = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (o);
    return text;
}

/*  What the worker stores: the facts JSON, or with G the figures' start
    followed by the facts JSON past its '{'.                              */
static char *
s_ours (const recon_order_facts_t *f, const recon_figures_t *g)
{
    recon_copybuf_t facts = {0}, out = {0};
    recon_evidence_json (&facts, f);
    recon_copybuf_bytes (&facts, "", 1);
    assert_false (facts.failed);
    if (!g)
        return facts.data;
    char figures[RECON_EVIDENCE_FIGURES_SIZE];
    int n = recon_evidence_figures (g, figures);
    assert_int_equal ((size_t) n, strlen (figures));
    recon_copybuf_bytes (&out, figures, (size_t) n);
    recon_copybuf_bytes (&out, facts.data + 1, strlen (facts.data + 1) + 1);
    assert_false (out.failed);
    free (facts.data);
    return out.data;
}

static uint64_t
s_next (uint64_t *s)
{
    uint64_t z = (*s += UINT64_C (0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/*  Random valid UTF-8 with every kind of byte JSON must escape.          */
static void
s_text (uint64_t *seed, char *out, size_t size)
{
    static const char *pieces[] = {"a", "Z", "0", "_", "-", " ", "\"", "\\", "/", "\b", "\f",
                                   "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9",
                                   "\xe2\x80\xa8", "\xf0\x9f\x92\xb6", "\xef\xbf\xbd", "{}", "[",
                                   ":", ","};
    size_t n = 0, want = s_next (seed) % 12;
    out[0] = '\0';
    for (size_t i = 0; i < want; i++) {
        const char *p = pieces[s_next (seed) % (sizeof pieces / sizeof *pieces)];
        if (n + strlen (p) + 1 > size)
            break;
        memcpy (out + n, p, strlen (p) + 1);
        n += strlen (p);
    }
}

static int64_t
s_amount (uint64_t *seed)
{
    switch (s_next (seed) % 5) {
    case 0: return 0;
    case 1: return INT64_MAX;
    case 2: return -(int64_t) (s_next (seed) % 100000);
    default: return (int64_t) (s_next (seed) % 100000000);
    }
}

static int64_t
s_when (uint64_t *seed)
{
    int64_t t = INT64_C (1700000000000000) + (int64_t) (s_next (seed) % INT64_C (100000000000000));
    return s_next (seed) % 2 ? t - t % RECON_USEC_PER_SEC : t; /* with or without a fraction */
}

static void
test_matches_jansson (void **state)
{
    (void) state;
    uint64_t seed = 42;
    char txt[8][64], refs[8][64], ids[8][64], cur[16][4];
    recon_processor_event_t ev[8];
    recon_ledger_entry_t le[8];
    for (int round = 0; round < 20000; round++) {
        recon_order_facts_t f = {.order_id = "ord_1", .events = ev, .entries = le};
        f.nevents = s_next (&seed) % 5;
        f.nentries = s_next (&seed) % 4;
        for (size_t i = 0; i < f.nevents; i++) {
            s_text (&seed, txt[i], sizeof txt[i]);
            s_text (&seed, refs[i], sizeof refs[i]);
            s_text (&seed, cur[i], sizeof cur[i]);
            ev[i] = (recon_processor_event_t) {
                .txn_id = txt[i], .payment_ref = s_next (&seed) % 3 ? refs[i] : NULL,
                .kind = (recon_event_kind_t) (s_next (&seed) % RECON_EVENT_KIND_COUNT),
                .status = (recon_event_status_t) (s_next (&seed) % 3),
                .amount_minor = s_amount (&seed), .occurred_at = s_when (&seed)};
            memcpy (ev[i].currency, cur[i], 4);
        }
        for (size_t i = 0; i < f.nentries; i++) {
            s_text (&seed, ids[i], sizeof ids[i]);
            s_text (&seed, cur[8 + i], sizeof cur[8 + i]);
            le[i] = (recon_ledger_entry_t) {
                .entry_id = ids[i],
                .kind = s_next (&seed) % 2 ? RECON_LEDGER_REFUND : RECON_LEDGER_CHARGE,
                .amount_minor = s_amount (&seed), .recorded_at = s_when (&seed)};
            memcpy (le[i].currency, cur[8 + i], 4);
        }
        f.fulfillment = (recon_fulfillment_t) {
            .status = (recon_fulfillment_status_t) (s_next (&seed) % 8),
            .updated_at = s_when (&seed), .shipped_at = s_when (&seed),
            .has_shipped_at = (int) (s_next (&seed) % 2)};
        recon_figures_t g = {.captured = s_amount (&seed), .captures = s_amount (&seed),
                             .refunded_processor = s_amount (&seed),
                             .disputed_open = s_amount (&seed), .open_disputes = s_amount (&seed),
                             .ledger_charged = s_amount (&seed),
                             .ledger_refunded = s_amount (&seed)};
        for (int with = 0; with < 2; with++) {
            char *want = s_reference (&f, with ? &g : NULL);
            char *got = s_ours (&f, with ? &g : NULL);
            assert_non_null (want);
            if (strcmp (want, got) != 0)
                fail_msg ("round %d:\n jansson %s\n ours    %s", round, want, got);
            free (want);
            free (got);
        }
    }
}

/*  jansson refused invalid UTF-8 (and silently dropped the event); the
    writer puts U+FFFD in its place and the result is still valid JSON.  */
static void
test_invalid_utf8_replaced (void **state)
{
    (void) state;
    recon_ledger_entry_t le = {.entry_id = "e\xff" "1\xc3", .kind = RECON_LEDGER_CHARGE,
                               .amount_minor = 5, .currency = "\xe2\x82" "X",
                               .recorded_at = 0};
    recon_order_facts_t f = {.order_id = "o", .entries = &le, .nentries = 1};
    char *got = s_ours (&f, NULL);
    assert_string_equal (got, "{\"fulfillment\":null,\"ledger\":[{\"amount_minor\":5,"
                              "\"currency\":\"\xef\xbf\xbd\xef\xbf\xbdX\",\"entry_id\":"
                              "\"e\xef\xbf\xbd" "1\xef\xbf\xbd\",\"kind\":\"charge\","
                              "\"recorded_at\":\"1970-01-01T00:00:00Z\"}],\"processor\":[]}");
    json_error_t err;
    json_t *parsed = json_loads (got, 0, &err);
    assert_non_null (parsed);
    json_decref (parsed);
    free (got);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_matches_jansson),
        cmocka_unit_test (test_invalid_utf8_replaced),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
