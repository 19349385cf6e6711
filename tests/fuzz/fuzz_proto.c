/*  fuzz_proto.c — libFuzzer target for the RECON1 codec (recon_msg_decode).

    Input layout: the first byte gives the number of frames (1 + byte % 5);
    each frame but the last is a 2-byte big-endian length and that many
    bytes (cut short at the end of the input); the last frame is the rest.
    A body can thus be any size, and a valid message is easy to write by
    hand (tests/fuzz/corpus/proto).

    Whatever the input, decoding must not crash, must leave a printable
    one-line error or a message that satisfies the header's invariants
    (strings NUL-terminated within their limits, ids > 0, counts >= 0,
    flags 0/1). A decoded message must encode, the encoding must decode to
    the very same message, and encoding that again must give the same bytes
    (the encoder is canonical). Any violation aborts.                     */
#include "recon/proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int ok)
{
    if (!ok)
        abort ();
}

static void
s_check_string (const char *s, size_t size)
{
    s_check (memchr (s, '\0', size) != NULL);
    /* decoding zeroes the struct, so the tail after the NUL stays zero */
    size_t len = strlen (s);
    for (size_t i = len; i < size; i++)
        s_check (s[i] == '\0');
}

#define S_CHECK_STRING(m, f) s_check_string ((m)->f, sizeof (m)->f)

static void
s_check_invariants (const recon_msg_t *m)
{
    s_check (recon_cmd_name (m->cmd) != NULL);
    S_CHECK_STRING (m, worker_id);
    S_CHECK_STRING (m, version);
    S_CHECK_STRING (m, range_lo);
    S_CHECK_STRING (m, range_hi);
    S_CHECK_STRING (m, last_order_id);
    S_CHECK_STRING (m, error);
    S_CHECK_STRING (m, reason);
    s_check (m->job_id >= 0 && m->run_id >= 0 && m->attempt >= 0);
    s_check (m->shard >= 0 && m->shards >= 0 && m->tolerance >= 0);
    s_check (m->grace_fulfillment >= 0 && m->grace_ledger >= 0);
    s_check (m->grace_processor >= 0 && m->grace_cancel >= 0);
    s_check (m->orders_done >= 0 && m->mismatches >= 0);
    s_check ((m->has_holding | m->has_range_hi | m->retryable | m->has_job | m->handback) <= 1);
    switch (m->cmd) {
    case RECON_CMD_READY:
        s_check (m->worker_id[0] != '\0');
        s_check (!m->has_holding || (m->job_id > 0 && m->attempt > 0));
        break;
    case RECON_CMD_JOB:
        s_check (m->job_id > 0 && m->run_id > 0 && m->attempt > 0 && m->shards > 0);
        s_check (m->has_range_hi || m->range_hi[0] == '\0');
        break;
    case RECON_CMD_PROGRESS:
    case RECON_CMD_DONE:
    case RECON_CMD_FAILED:
    case RECON_CMD_CANCEL:
        s_check (m->job_id > 0 && m->attempt > 0);
        break;
    case RECON_CMD_DISCONNECT:
        s_check (!m->has_job || (m->job_id > 0 && m->attempt > 0));
        s_check (!m->has_job || m->reason[0] == '\0');
        break;
    default:
        break;
    }
}

static int
s_same (const recon_msg_t *a, const recon_msg_t *b)
{
    return a->cmd == b->cmd && strcmp (a->worker_id, b->worker_id) == 0
           && strcmp (a->version, b->version) == 0 && a->has_holding == b->has_holding
           && a->job_id == b->job_id && a->run_id == b->run_id && a->attempt == b->attempt
           && a->shard == b->shard && a->shards == b->shards
           && strcmp (a->range_lo, b->range_lo) == 0 && a->has_range_hi == b->has_range_hi
           && strcmp (a->range_hi, b->range_hi) == 0 && a->from == b->from && a->to == b->to
           && a->as_of == b->as_of && a->grace_fulfillment == b->grace_fulfillment
           && a->grace_ledger == b->grace_ledger && a->grace_processor == b->grace_processor
           && a->grace_cancel == b->grace_cancel && a->tolerance == b->tolerance
           && a->orders_done == b->orders_done && a->mismatches == b->mismatches
           && strcmp (a->last_order_id, b->last_order_id) == 0
           && strcmp (a->error, b->error) == 0 && a->retryable == b->retryable
           && a->has_job == b->has_job && a->handback == b->handback
           && strcmp (a->reason, b->reason) == 0;
}

/*  Encodes M, decodes the encoding and checks that M comes back; returns
    the body (caller frees) so the caller can check it is canonical.      */
static char *
s_reencode (const recon_msg_t *m, size_t *len)
{
    char *body = NULL;
    s_check (recon_msg_encode_body (m, &body, len) == 0);
    s_check ((body == NULL) == (*len == 0));
    s_check (*len <= RECON_PROTO_BODY_MAX);
    const char *name = recon_cmd_name (m->cmd);
    const void *frames[3] = {RECON_PROTO_HEADER, name, body};
    size_t sizes[3] = {strlen (RECON_PROTO_HEADER), strlen (name), *len};
    recon_msg_t back;
    char err[256];
    s_check (recon_msg_decode (frames, sizes, body ? 3 : 2, &back, err, sizeof err) == 0);
    s_check (s_same (m, &back));
    return body;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t nframes = 1 + data[0] % 5, pos = 1;
    const void *frames[5];
    size_t sizes[5];
    for (size_t i = 0; i < nframes; i++) {
        size_t n = size - pos;
        if (i + 1 < nframes) {
            size_t want = 0;
            if (size - pos >= 2) {
                want = (size_t) data[pos] << 8 | data[pos + 1];
                pos += 2;
            } else
                pos = size;
            n = want < size - pos ? want : size - pos;
        }
        frames[i] = data + pos;
        sizes[i] = n;
        pos += n;
    }

    recon_msg_t m;
    char err[256];
    memset (err, 'z', sizeof err);
    int rc = recon_msg_decode (frames, sizes, nframes, &m, err, sizeof err);
    if (rc < 0) {
        s_check (rc == RECON_PROTO_EMALFORMED || rc == RECON_PROTO_ENOMEM);
        s_check (memchr (err, '\0', sizeof err) != NULL && err[0] != '\0');
        for (const char *p = err; *p; p++)
            s_check (*p >= 0x20 && *p <= 0x7e);
        return 0;
    }
    s_check (rc == 0);
    s_check_invariants (&m);

    size_t len1, len2;
    char *body1 = s_reencode (&m, &len1);
    recon_msg_t again;
    const char *name = recon_cmd_name (m.cmd);
    const void *f2[3] = {RECON_PROTO_HEADER, name, body1};
    size_t s2[3] = {strlen (RECON_PROTO_HEADER), strlen (name), len1};
    s_check (recon_msg_decode (f2, s2, body1 ? 3 : 2, &again, err, sizeof err) == 0);
    char *body2 = s_reencode (&again, &len2);
    s_check (len1 == len2 && (len1 == 0 || memcmp (body1, body2, len1) == 0));
    free (body1);
    free (body2);
    return 0;
}
