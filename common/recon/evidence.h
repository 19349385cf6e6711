/*  recon/evidence.h — an order's facts as the JSON finance sees on a queue
    item, and the text its facts hash is taken of.                         */
#ifndef RECON_EVIDENCE_H
#define RECON_EVIDENCE_H

#include "recon/classify.h"
#include "recon/copybuf.h"

/*  Appends the facts F as one line of compact JSON to B (not
    NUL-terminated, no COPY escaping):
      {"fulfillment":...,"ledger":[...],"processor":[...]}
    keys in byte order at every level, no spaces — byte for byte what
    jansson's json_dumps (JSON_COMPACT | JSON_SORT_KEYS) gives for the same
    object, which is what earlier versions stored (facts hashes stay
    equal across the upgrade). This text is what the facts hash is taken
    of. Invalid UTF-8 in a text (a company's ledger may hold anything) is
    written as U+FFFD, so the result is always valid JSON. Allocation
    failure sets b->failed.                                                */
void recon_evidence_json (recon_copybuf_t *b, const recon_order_facts_t *f);

/*  Room for recon_evidence_figures' output and its NUL.                  */
#define RECON_EVIDENCE_FIGURES_SIZE 320

/*  Writes the start of the evidence a queue item stores,
      {"figures":{...},
    into OUT (RECON_EVIDENCE_FIGURES_SIZE bytes, NUL-terminated) and
    returns its length. The evidence is that, then the facts JSON of
    recon_evidence_json without its opening '{' ("figures" sorts first,
    so the whole is again what jansson's sorted dump gives).              */
int recon_evidence_figures (const recon_figures_t *g, char *out);

#endif
