/*  evidence.c — an order's facts as JSON, written straight into a buffer.

    Design decision: no JSON library here. The worker writes this for
    every flagged order (226k times in a 1M-order run), and building a
    jansson tree to dump it — an allocation per value, a sort of every
    object's keys — was a third of the worker's CPU. The shape is fixed,
    so the keys are simply written in sorted order; the unit test holds
    the output byte-identical to jansson's dump of the same object.      */
#include "recon/evidence.h"
#include "recon/timestamp.h"
#include "recon/utf8.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static void
s_lit (recon_copybuf_t *b, const char *s)
{
    recon_copybuf_bytes (b, s, strlen (s));
}

/*  A JSON string, escaped as jansson does: \" \\ \b \f \n \r \t, other
    control bytes as \u00XX (upper-case hex), everything else as is.      */
static void
s_str (recon_copybuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *) s, *lim = p + strlen (s), *run = p;
    recon_copybuf_bytes (b, "\"", 1);
    while (p < lim) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80) {
            int n = recon_utf8_seq (p, lim);
            if (n > 0) {
                p += n;
                continue;
            }
        }
        recon_copybuf_bytes (b, (const char *) run, (size_t) (p - run));
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x80) {
                memcpy (esc, "\xEF\xBF\xBD", 4); /* U+FFFD for an invalid byte */
                break;
            }
            memcpy (esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        s_lit (b, esc);
        run = ++p;
    }
    recon_copybuf_bytes (b, (const char *) run, (size_t) (p - run));
    recon_copybuf_bytes (b, "\"", 1);
}

static void
s_int (recon_copybuf_t *b, int64_t v)
{
    char buf[24];
    int n = snprintf (buf, sizeof buf, "%lld", (long long) v);
    recon_copybuf_bytes (b, buf, (size_t) n);
}

static void
s_time (recon_copybuf_t *b, int64_t t)
{
    char buf[RECON_TIMESTAMP_BUFSIZE + 2];
    buf[0] = '"';
    int n = recon_timestamp_format (t, buf + 1);
    buf[n + 1] = '"';
    recon_copybuf_bytes (b, buf, (size_t) n + 2);
}

int
recon_evidence_figures (const recon_figures_t *g, char *out)
{
    int n = snprintf (out, RECON_EVIDENCE_FIGURES_SIZE,
                      "{\"figures\":{\"captured\":%lld,\"captures\":%lld,\"disputed_open\":%lld,"
                      "\"ledger_charged\":%lld,\"ledger_refunded\":%lld,\"open_disputes\":%lld,"
                      "\"refunded_processor\":%lld},",
                      (long long) g->captured, (long long) g->captures,
                      (long long) g->disputed_open, (long long) g->ledger_charged,
                      (long long) g->ledger_refunded, (long long) g->open_disputes,
                      (long long) g->refunded_processor);
    assert (n > 0 && n < RECON_EVIDENCE_FIGURES_SIZE);
    return n;
}

static void
s_fulfillment (recon_copybuf_t *b, const recon_fulfillment_t *f)
{
    if (f->status == RECON_FULFILLMENT_NONE) {
        s_lit (b, "null");
        return;
    }
    s_lit (b, "{\"shipped_at\":");
    if (f->has_shipped_at)
        s_time (b, f->shipped_at);
    else
        s_lit (b, "null");
    s_lit (b, ",\"status\":");
    s_str (b, recon_fulfillment_status_name (f->status));
    s_lit (b, ",\"updated_at\":");
    s_time (b, f->updated_at);
    s_lit (b, "}");
}

static void
s_entry (recon_copybuf_t *b, const recon_ledger_entry_t *e)
{
    s_lit (b, "{\"amount_minor\":");
    s_int (b, e->amount_minor);
    s_lit (b, ",\"currency\":");
    s_str (b, e->currency);
    s_lit (b, ",\"entry_id\":");
    s_str (b, e->entry_id);
    s_lit (b, e->kind == RECON_LEDGER_REFUND ? ",\"kind\":\"refund\"" : ",\"kind\":\"charge\"");
    s_lit (b, ",\"recorded_at\":");
    s_time (b, e->recorded_at);
    s_lit (b, "}");
}

static void
s_event (recon_copybuf_t *b, const recon_processor_event_t *e)
{
    s_lit (b, "{\"amount_minor\":");
    s_int (b, e->amount_minor);
    s_lit (b, ",\"currency\":");
    s_str (b, e->currency);
    s_lit (b, ",\"kind\":");
    s_str (b, recon_event_kind_name (e->kind));
    s_lit (b, ",\"occurred_at\":");
    s_time (b, e->occurred_at);
    s_lit (b, ",\"payment_ref\":");
    if (e->payment_ref)
        s_str (b, e->payment_ref);
    else
        s_lit (b, "null");
    s_lit (b, e->status == RECON_EVENT_SUCCEEDED ? ",\"status\":\"succeeded\""
              : e->status == RECON_EVENT_PENDING ? ",\"status\":\"pending\""
                                                 : ",\"status\":\"failed\"");
    s_lit (b, ",\"txn_id\":");
    s_str (b, e->txn_id);
    s_lit (b, "}");
}

void
recon_evidence_json (recon_copybuf_t *b, const recon_order_facts_t *f)
{
    s_lit (b, "{\"fulfillment\":");
    s_fulfillment (b, &f->fulfillment);
    s_lit (b, ",\"ledger\":[");
    for (size_t i = 0; i < f->nentries; i++) {
        if (i)
            s_lit (b, ",");
        s_entry (b, &f->entries[i]);
    }
    s_lit (b, "],\"processor\":[");
    for (size_t i = 0; i < f->nevents; i++) {
        if (i)
            s_lit (b, ",");
        s_event (b, &f->events[i]);
    }
    s_lit (b, "]}");
}
