/*  test_proto.c — the RECON1 codec and its zmq helpers (docs/PROTOCOL.md).

    Round trips encode every command with edge values and decode the result
    back to an identical struct; a table of malformed inputs pins the reason
    each is rejected with; the zmq tests run a real ROUTER and DEALER over
    inproc:// and prove that a malformed multipart message is drained whole,
    so the message after it arrives intact.                               */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "recon/proto.h"
#include "recon/timestamp.h"

/*  Fills DST with copies of PIECE up to exactly N bytes (PIECE's length
    must divide N) and a NUL.                                             */
static void
s_fill (char *dst, const char *piece, size_t n)
{
    size_t k = strlen (piece);
    assert_int_equal (n % k, 0);
    for (size_t i = 0; i < n; i += k)
        memcpy (dst + i, piece, k);
    dst[n] = '\0';
}

static int64_t
s_ts (const char *text)
{
    int64_t t;
    assert_int_equal (recon_timestamp_parse (text, strlen (text), &t), 0);
    return t;
}

/*  Decodes [header][WORD][BODY] (no body frame when BODY is NULL).       */
static int
s_decode (const char *word, const char *body, size_t body_len, recon_msg_t *out, char *err,
          size_t errlen)
{
    const void *frames[3] = {RECON_PROTO_HEADER, word, body};
    size_t sizes[3] = {strlen (RECON_PROTO_HEADER), strlen (word), body_len};
    return recon_msg_decode (frames, sizes, body ? 3 : 2, out, err, errlen);
}

static void
s_assert_equal (const recon_msg_t *a, const recon_msg_t *b)
{
    assert_int_equal (a->cmd, b->cmd);
    assert_string_equal (a->worker_id, b->worker_id);
    assert_string_equal (a->version, b->version);
    assert_int_equal (a->has_holding, b->has_holding);
    assert_int_equal (a->job_id, b->job_id);
    assert_int_equal (a->run_id, b->run_id);
    assert_int_equal (a->attempt, b->attempt);
    assert_int_equal (a->shard, b->shard);
    assert_int_equal (a->shards, b->shards);
    assert_string_equal (a->range_lo, b->range_lo);
    assert_int_equal (a->has_range_hi, b->has_range_hi);
    assert_string_equal (a->range_hi, b->range_hi);
    assert_int_equal (a->from, b->from);
    assert_int_equal (a->to, b->to);
    assert_int_equal (a->as_of, b->as_of);
    assert_int_equal (a->grace_fulfillment, b->grace_fulfillment);
    assert_int_equal (a->grace_ledger, b->grace_ledger);
    assert_int_equal (a->grace_processor, b->grace_processor);
    assert_int_equal (a->grace_cancel, b->grace_cancel);
    assert_int_equal (a->tolerance, b->tolerance);
    assert_int_equal (a->orders_done, b->orders_done);
    assert_int_equal (a->mismatches, b->mismatches);
    assert_string_equal (a->last_order_id, b->last_order_id);
    assert_string_equal (a->error, b->error);
    assert_int_equal (a->retryable, b->retryable);
    assert_int_equal (a->has_job, b->has_job);
    assert_int_equal (a->handback, b->handback);
    assert_string_equal (a->reason, b->reason);
}

/*  Encodes M, decodes it back and checks that nothing changed. M must have
    only its command's fields set, as a decoder leaves it.                 */
static void
s_roundtrip (const recon_msg_t *m)
{
    char *body = NULL, err[256] = "";
    size_t len = 99;
    assert_int_equal (recon_msg_encode_body (m, &body, &len), 0);
    assert_int_equal (body == NULL, len == 0);
    assert_true (len <= RECON_PROTO_BODY_MAX);
    recon_msg_t back;
    int rc = s_decode (recon_cmd_name (m->cmd), body, len, &back, err, sizeof err);
    if (rc != 0)
        fail_msg ("%s: %s in %.*s", recon_cmd_name (m->cmd), err, (int) len, body ? body : "");
    s_assert_equal (m, &back);
    free (body);
}

static void
test_cmd_name (void **state)
{
    (void) state;
    static const char *names[] = {NULL,   "READY",  "HEARTBEAT", "JOB",       "PROGRESS",
                                  "DONE", "FAILED", "CANCEL",    "DISCONNECT"};
    for (int i = 1; i <= RECON_CMD_DISCONNECT; i++)
        assert_string_equal (recon_cmd_name ((recon_cmd_t) i), names[i]);
    assert_null (recon_cmd_name ((recon_cmd_t) 0));
    assert_null (recon_cmd_name ((recon_cmd_t) (RECON_CMD_DISCONNECT + 1)));
    assert_null (recon_cmd_name ((recon_cmd_t) -1));
}

static void
test_roundtrip_ready (void **state)
{
    (void) state;
    recon_msg_t m = {.cmd = RECON_CMD_READY};
    s_fill (m.worker_id, "w\xc3\xb6", RECON_WORKER_ID_MAX - 1); /* "wö": 3 bytes */
    s_roundtrip (&m);                                            /* empty version */

    s_fill (m.worker_id, "x", RECON_WORKER_ID_MAX);
    s_fill (m.version, "1.", RECON_VERSION_MAX);
    m.has_holding = 1;
    m.job_id = INT64_MAX;
    m.attempt = 1;
    s_roundtrip (&m);

    recon_msg_t one = {.cmd = RECON_CMD_READY, .worker_id = "a", .version = "0.1.0"};
    s_roundtrip (&one);
}

static void
test_roundtrip_heartbeat (void **state)
{
    (void) state;
    recon_msg_t m = {.cmd = RECON_CMD_HEARTBEAT};
    char *body = (char *) 1;
    size_t len = 1;
    assert_int_equal (recon_msg_encode_body (&m, &body, &len), 0);
    assert_null (body);
    assert_int_equal (len, 0);
    s_roundtrip (&m);
}

static void
test_roundtrip_job (void **state)
{
    (void) state;
    recon_msg_t m = {.cmd = RECON_CMD_JOB, .job_id = 1, .run_id = 1, .attempt = 1,
                     .shard = 0, .shards = 1, .from = 0, .to = 1, .as_of = -1};
    s_roundtrip (&m); /* empty range_lo, range_hi null, zero graces */

    m.job_id = m.run_id = m.attempt = m.shard = m.shards = INT64_MAX;
    s_fill (m.range_lo, "\xc3\xa9", RECON_ORDER_ID_MAX); /* "é" x 100 = 200 bytes */
    m.has_range_hi = 1;
    s_fill (m.range_hi, "\xf0\x9f\x92\xb6", RECON_ORDER_ID_MAX); /* 4-byte UTF-8 */
    m.from = s_ts ("0001-01-01T00:00:00Z");
    m.to = s_ts ("9999-12-31T23:59:59.999999Z");
    m.as_of = s_ts ("2024-02-29T12:34:56.000001Z");
    m.grace_fulfillment = m.grace_ledger = m.grace_processor = m.grace_cancel = INT64_MAX;
    m.tolerance = INT64_MAX;
    s_roundtrip (&m);

    m.has_range_hi = 1; /* an empty upper bound is not the same as none */
    m.range_hi[0] = '\0';
    s_roundtrip (&m);
}

/*  The exact bytes on the wire, so the other side's expectations are plain. */
static void
test_job_wire_format (void **state)
{
    (void) state;
    recon_msg_t m = {.cmd = RECON_CMD_JOB, .job_id = 42, .run_id = 7, .attempt = 2,
                     .shard = 3, .shards = 8, .range_lo = "A", .has_range_hi = 0,
                     .grace_fulfillment = 1, .grace_ledger = 2, .grace_processor = 3,
                     .grace_cancel = 4, .tolerance = 5};
    m.from = s_ts ("2024-01-01");
    m.to = s_ts ("2024-02-01T01:00:00+01:00");
    m.as_of = s_ts ("2024-02-03T04:05:06.000007");
    char *body;
    size_t len;
    assert_int_equal (recon_msg_encode_body (&m, &body, &len), 0);
    const char *want = "{\"job_id\":42,\"run_id\":7,\"attempt\":2,\"shard\":3,\"shards\":8,"
                       "\"range_lo\":\"A\",\"range_hi\":null,\"from\":\"2024-01-01T00:00:00Z\","
                       "\"to\":\"2024-02-01T00:00:00Z\",\"as_of\":\"2024-02-03T04:05:06.000007Z\","
                       "\"grace\":{\"fulfillment\":1,\"ledger\":2,\"processor\":3,\"cancel\":4},"
                       "\"tolerance\":5}";
    assert_int_equal (len, strlen (want));
    assert_memory_equal (body, want, len);
    free (body);

    recon_msg_t r = {.cmd = RECON_CMD_READY, .worker_id = "w1", .version = "0.1.0",
                     .has_holding = 1, .job_id = 9, .attempt = 3};
    assert_int_equal (recon_msg_encode_body (&r, &body, &len), 0);
    want = "{\"worker_id\":\"w1\",\"version\":\"0.1.0\",\"holding\":{\"job_id\":9,\"attempt\":3}}";
    assert_int_equal (len, strlen (want));
    assert_memory_equal (body, want, len);
    free (body);
}

static void
test_roundtrip_job_messages (void **state)
{
    (void) state;
    recon_msg_t p = {.cmd = RECON_CMD_PROGRESS, .job_id = 5, .attempt = INT64_MAX,
                     .orders_done = INT64_MAX, .mismatches = INT64_MAX};
    s_roundtrip (&p); /* empty last_order_id */
    s_fill (p.last_order_id, "\xe2\x82\xac\xe2\x82\xac", 198); /* "€" x 66 */
    strcat (p.last_order_id, "\"\\");                          /* 200 bytes, escaped */
    s_roundtrip (&p);
    p.orders_done = p.mismatches = 0;
    s_roundtrip (&p);

    recon_msg_t d = {.cmd = RECON_CMD_DONE, .job_id = 1, .attempt = 1, .orders_done = 0,
                     .mismatches = INT64_MAX};
    s_roundtrip (&d);

    recon_msg_t f = {.cmd = RECON_CMD_FAILED, .job_id = 1, .attempt = 2, .retryable = 1};
    s_roundtrip (&f);
    s_fill (f.error, "\n\t\x01\"\\/", 996); /* control bytes escape to 6 bytes */
    strcat (f.error, "\xc3\xa9\xc3\xa9");
    f.retryable = 0;
    s_roundtrip (&f);

    recon_msg_t c = {.cmd = RECON_CMD_CANCEL, .job_id = INT64_MAX, .attempt = 1};
    s_roundtrip (&c);
}

static void
test_roundtrip_disconnect (void **state)
{
    (void) state;
    recon_msg_t none = {.cmd = RECON_CMD_DISCONNECT};
    char *body = (char *) 1;
    size_t len = 1;
    assert_int_equal (recon_msg_encode_body (&none, &body, &len), 0);
    assert_null (body);
    s_roundtrip (&none);

    recon_msg_t w = {.cmd = RECON_CMD_DISCONNECT, .has_job = 1, .job_id = 3, .attempt = 4,
                     .handback = 1};
    s_roundtrip (&w);
    w.handback = 0;
    s_roundtrip (&w);

    recon_msg_t b = {.cmd = RECON_CMD_DISCONNECT};
    s_fill (b.reason, "r\xc3\xa9", RECON_REASON_MAX - 1);
    strcat (b.reason, "!");
    s_roundtrip (&b);
}

/*  Fields of other commands are not sent: one struct serves PROGRESS,
    DONE and FAILED of a job, as the worker uses it.                      */
static void
test_encode_ignores_other_fields (void **state)
{
    (void) state;
    recon_msg_t m = {.cmd = RECON_CMD_DONE, .job_id = 1, .attempt = 1, .orders_done = 3,
                     .retryable = 1, .shards = -5};
    memset (m.error, 'x', sizeof m.error); /* not even NUL-terminated */
    char *body;
    size_t len;
    assert_int_equal (recon_msg_encode_body (&m, &body, &len), 0);
    const char *want = "{\"job_id\":1,\"attempt\":1,\"orders_done\":3,\"mismatches\":0}";
    assert_int_equal (len, strlen (want));
    assert_memory_equal (body, want, len);
    free (body);
}

static void
test_encode_rejects (void **state)
{
    (void) state;
    recon_msg_t bad[16];
    size_t n = 0;
    bad[n++] = (recon_msg_t) {.cmd = 0};
    bad[n++] = (recon_msg_t) {.cmd = (recon_cmd_t) 99};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_READY}; /* empty worker_id */
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_READY, .worker_id = "w", .has_holding = 1,
                              .job_id = 1, .attempt = 0};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_CANCEL, .job_id = 0, .attempt = 1};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_CANCEL, .job_id = -1, .attempt = 1};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_DONE, .job_id = 1, .attempt = 1,
                              .orders_done = -1};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_JOB, .job_id = 1, .run_id = 1, .attempt = 1,
                              .shards = 0};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_JOB, .job_id = 1, .run_id = 1, .attempt = 1,
                              .shards = 1, .from = INT64_MAX};
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_JOB, .job_id = 1, .run_id = 1, .attempt = 1,
                              .shards = 1, .grace_ledger = -1};
    bad[n] = (recon_msg_t) {.cmd = RECON_CMD_FAILED, .job_id = 1, .attempt = 1};
    memset (bad[n++].error, 'e', sizeof bad[0].error); /* no NUL within the array */
    bad[n] = (recon_msg_t) {.cmd = RECON_CMD_FAILED, .job_id = 1, .attempt = 1};
    strcpy (bad[n++].error, "bad \xff byte");
    bad[n] = (recon_msg_t) {.cmd = RECON_CMD_PROGRESS, .job_id = 1, .attempt = 1};
    strcpy (bad[n++].last_order_id, "\xed\xa0\x80"); /* UTF-8 encoded surrogate */
    bad[n++] = (recon_msg_t) {.cmd = RECON_CMD_DISCONNECT, .has_job = 1, .job_id = 1};
    for (size_t i = 0; i < n; i++) {
        char *body = (char *) 1;
        size_t len = 1;
        errno = 0;
        int rc = recon_msg_encode_body (&bad[i], &body, &len);
        if (rc != RECON_PROTO_EINVAL)
            fail_msg ("case %zu: rc %d", i, rc);
        assert_int_equal (errno, EINVAL);
        assert_null (body);
        assert_int_equal (len, 0);
    }
}

typedef struct {
    size_t nframes;
    const char *frames[6];
    const char *expect; /* fragment of the error text */
} s_bad_t;

#define S_BODY(cmd, json) 3, {RECON_PROTO_HEADER, cmd, json}

/*  JOB bodies with one field replaced: the rest must be valid.            */
#define S_JOB_HEAD "{\"job_id\":1,\"run_id\":2,\"attempt\":1,\"shard\":0,\"shards\":1,"
#define S_JOB_GRACE "\"grace\":{\"fulfillment\":0,\"ledger\":0,\"processor\":0,\"cancel\":0}"
#define S_JOB(range, times, grace) \
    S_JOB_HEAD range "," times "," grace ",\"tolerance\":0}"
#define S_RANGE "\"range_lo\":\"\",\"range_hi\":null"
#define S_TIMES "\"from\":\"2024-01-01\",\"to\":\"2024-01-02\",\"as_of\":\"2024-01-03\""
#define S_X10 "xxxxxxxxxx"
#define S_X50 S_X10 S_X10 S_X10 S_X10 S_X10
#define S_X200 S_X50 S_X50 S_X50 S_X50

static const s_bad_t s_bad[] = {
    {0, {NULL}, "too few frames (0)"},
    {1, {RECON_PROTO_HEADER}, "too few frames (1)"},
    {2, {"RECON2", "HEARTBEAT"}, "bad header 'RECON2', expected 'RECON1'"},
    {2, {"recon1", "HEARTBEAT"}, "bad header 'recon1'"},
    {2, {"", "HEARTBEAT"}, "bad header ''"},
    {2, {"RECON1 ", "HEARTBEAT"}, "bad header 'RECON1 '"},
    {2, {"RE\x01\xff'\n", "HEARTBEAT"}, "bad header 'RE\\x01\\xff\\x27\\x0a'"},
    {2, {S_X50, "HEARTBEAT"}, "bad header '" S_X10 S_X10 S_X10 "xx...'"},
    {2, {RECON_PROTO_HEADER, "FOO"}, "unknown command 'FOO'"},
    {2, {RECON_PROTO_HEADER, "ready"}, "unknown command 'ready'"},
    {2, {RECON_PROTO_HEADER, ""}, "unknown command ''"},
    {2, {RECON_PROTO_HEADER, "HEARTBEAT2"}, "unknown command 'HEARTBEAT2'"},
    {2, {RECON_PROTO_HEADER, "JOB"}, "JOB: missing body frame"},
    {2, {RECON_PROTO_HEADER, "READY"}, "READY: missing body frame"},
    {2, {RECON_PROTO_HEADER, "CANCEL"}, "CANCEL: missing body frame"},
    {4, {RECON_PROTO_HEADER, "CANCEL", "{\"job_id\":1,\"attempt\":1}", ""}, "too many frames (4)"},
    {6, {RECON_PROTO_HEADER, "HEARTBEAT", "", "", "", ""}, "too many frames (6)"},
    {S_BODY ("HEARTBEAT", "{}"), "HEARTBEAT: unexpected body frame"},
    {S_BODY ("HEARTBEAT", ""), "HEARTBEAT: unexpected body frame"},
    /* not an object */
    {S_BODY ("CANCEL", "[1,2]"), "CANCEL: body is not a JSON object but an array"},
    {S_BODY ("CANCEL", "\"job\""), "not a JSON object but a string"},
    {S_BODY ("CANCEL", "42"), "not a JSON object but a number"},
    {S_BODY ("CANCEL", "true"), "not a JSON object but a boolean"},
    {S_BODY ("CANCEL", "null"), "not a JSON object but null"},
    {S_BODY ("DISCONNECT", ""), "DISCONNECT: body is not valid JSON"},
    /* not JSON */
    {S_BODY ("CANCEL", "{\"job_id\":1,"), "CANCEL: body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1} x"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1}{}"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{'job_id':1}"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,}"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":01,\"attempt\":1}"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":NaN,\"attempt\":1}"), "body is not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":9223372036854775808,\"attempt\":1}"), "too big integer"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,\"x\":\"\xff\"}"), "not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,\"x\":\"\xc0\xaf\"}"), "not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,\"x\":\"\\ud800\"}"), "not valid JSON"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,\"a\\u0000\":1}"), "not valid JSON"},
    /* duplicate keys, at any depth */
    {S_BODY ("CANCEL", "{\"job_id\":1,\"job_id\":1,\"attempt\":1}"), "duplicate object key"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":1,\"x\":{\"a\":1,\"a\":2}}"),
     "duplicate object key"},
    {S_BODY ("JOB", S_JOB (S_RANGE, S_TIMES, "\"grace\":{\"ledger\":0,\"ledger\":0}")),
     "JOB: body is not valid JSON: duplicate object key"},
    /* integers */
    {S_BODY ("CANCEL", "{\"job_id\":0,\"attempt\":1}"),
     "CANCEL: field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":-1,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":-9223372036854775808,\"attempt\":1}"),
     "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":1.5,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":1.0,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":1e2,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":\"7\",\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":true,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":null,\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":[1],\"attempt\":1}"), "field 'job_id' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":1,\"attempt\":0}"), "CANCEL: field 'attempt' must be an integer > 0"},
    {S_BODY ("CANCEL", "{\"job_id\":1}"), "CANCEL: missing field 'attempt'"},
    {S_BODY ("CANCEL", "{\"Job_id\":1,\"attempt\":1}"), "CANCEL: missing field 'job_id'"},
    {S_BODY ("CANCEL", "{}"), "CANCEL: missing field 'job_id'"},
    {S_BODY ("DONE", "{\"job_id\":1,\"attempt\":1,\"orders_done\":-1,\"mismatches\":0}"),
     "DONE: field 'orders_done' must be an integer >= 0"},
    {S_BODY ("DONE", "{\"job_id\":1,\"attempt\":1,\"orders_done\":0}"),
     "DONE: missing field 'mismatches'"},
    {S_BODY ("PROGRESS", "{\"job_id\":1,\"attempt\":1,\"orders_done\":0,\"mismatches\":0.5,"
                         "\"last_order_id\":\"\"}"),
     "PROGRESS: field 'mismatches' must be an integer >= 0"},
    {S_BODY ("PROGRESS", "{\"job_id\":1,\"attempt\":1,\"orders_done\":0,\"mismatches\":0}"),
     "PROGRESS: missing field 'last_order_id'"},
    {S_BODY ("JOB", "{\"job_id\":1,\"run_id\":0}"), "JOB: field 'run_id' must be an integer > 0"},
    {S_BODY ("JOB", "{\"job_id\":1,\"run_id\":1,\"attempt\":1,\"shard\":-1}"),
     "JOB: field 'shard' must be an integer >= 0"},
    {S_BODY ("JOB", "{\"job_id\":1,\"run_id\":1,\"attempt\":1,\"shard\":0,\"shards\":0}"),
     "JOB: field 'shards' must be an integer > 0"},
    {S_BODY ("JOB", S_JOB_HEAD S_RANGE "," S_TIMES ",\"tolerance\":0}"),
     "JOB: missing field 'grace'"},
    {S_BODY ("JOB", S_JOB (S_RANGE, S_TIMES, "\"grace\":[]")),
     "JOB: field 'grace' must be an object"},
    {S_BODY ("JOB", S_JOB (S_RANGE, S_TIMES, "\"grace\":{\"fulfillment\":0,\"ledger\":0,"
                                             "\"processor\":0}")),
     "JOB: missing field 'grace.cancel'"},
    {S_BODY ("JOB", S_JOB (S_RANGE, S_TIMES, "\"grace\":{\"fulfillment\":0,\"ledger\":-1,"
                                             "\"processor\":0,\"cancel\":0}")),
     "JOB: field 'grace.ledger' must be an integer >= 0"},
    {S_BODY ("JOB", S_JOB_HEAD S_RANGE "," S_TIMES "," S_JOB_GRACE ",\"tolerance\":-1}"),
     "JOB: field 'tolerance' must be an integer >= 0"},
    /* strings */
    {S_BODY ("READY", "{\"worker_id\":\"\",\"version\":\"\"}"),
     "READY: field 'worker_id' must not be empty"},
    {S_BODY ("READY", "{\"worker_id\":\"" S_X50 S_X10 "xxxxx\",\"version\":\"\"}"),
     "READY: field 'worker_id' is longer than 64 bytes"},
    {S_BODY ("READY", "{\"worker_id\":\"" S_X50 S_X10 "xxx\xc3\xa9\",\"version\":\"\"}"),
     "READY: field 'worker_id' is longer than 64 bytes"},
    {S_BODY ("READY", "{\"worker_id\":\"w\",\"version\":\"" S_X10 S_X10 S_X10 "xxx\"}"),
     "READY: field 'version' is longer than 32 bytes"},
    {S_BODY ("READY", "{\"worker_id\":\"w\\u0000x\",\"version\":\"\"}"),
     "READY: field 'worker_id' contains a NUL character"},
    {S_BODY ("READY", "{\"worker_id\":\"w\",\"version\":\"\\u0000\"}"),
     "READY: field 'version' contains a NUL character"},
    {S_BODY ("READY", "{\"worker_id\":7,\"version\":\"\"}"), "READY: field 'worker_id' must be a string"},
    {S_BODY ("READY", "{\"worker_id\":\"w\"}"), "READY: missing field 'version'"},
    {S_BODY ("READY", "{\"worker_id\":\"w\",\"version\":\"\",\"holding\":null}"),
     "READY: field 'holding' must be an object"},
    {S_BODY ("READY", "{\"worker_id\":\"w\",\"version\":\"\",\"holding\":{\"job_id\":1}}"),
     "READY: missing field 'holding.attempt'"},
    {S_BODY ("READY", "{\"worker_id\":\"w\",\"version\":\"\",\"holding\":{\"job_id\":0,"
                      "\"attempt\":1}}"),
     "READY: field 'holding.job_id' must be an integer > 0"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":\"" S_X200 "x\",\"range_hi\":null", S_TIMES, S_JOB_GRACE)),
     "JOB: field 'range_lo' is longer than 200 bytes"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":null,\"range_hi\":null", S_TIMES, S_JOB_GRACE)),
     "JOB: field 'range_lo' must be a string"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":\"\",\"range_hi\":\"" S_X200 "x\"", S_TIMES, S_JOB_GRACE)),
     "JOB: field 'range_hi' is longer than 200 bytes"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":\"\",\"range_hi\":5", S_TIMES, S_JOB_GRACE)),
     "JOB: field 'range_hi' must be a string or null"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":\"\",\"range_hi\":\"a\\u0000\"", S_TIMES, S_JOB_GRACE)),
     "JOB: field 'range_hi' contains a NUL character"},
    {S_BODY ("JOB", S_JOB ("\"range_lo\":\"\"", S_TIMES, S_JOB_GRACE)),
     "JOB: missing field 'range_hi'"},
    {S_BODY ("PROGRESS", "{\"job_id\":1,\"attempt\":1,\"orders_done\":0,\"mismatches\":0,"
                         "\"last_order_id\":\"" S_X200 "x\"}"),
     "PROGRESS: field 'last_order_id' is longer than 200 bytes"},
    {S_BODY ("DISCONNECT", "{\"reason\":\"" S_X200 S_X50 "xxxxxxx\"}"),
     "DISCONNECT: field 'reason' is longer than 256 bytes"},
    /* timestamps */
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-02-30\",\"to\":\"2024-03-01\","
                                    "\"as_of\":\"2024-03-01\"", S_JOB_GRACE)),
     "JOB: field 'from' is not a valid ISO 8601 timestamp in years 0001..9999 UTC"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-01-01\",\"to\":\"yesterday\","
                                    "\"as_of\":\"2024-03-01\"", S_JOB_GRACE)),
     "JOB: field 'to' is not a valid ISO 8601 timestamp"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-01-01\",\"to\":\"2024-01-01\","
                                    "\"as_of\":\"2024-01-01T00:00:00.1234567Z\"", S_JOB_GRACE)),
     "JOB: field 'as_of' is not a valid ISO 8601 timestamp"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-01-01\\u0000\",\"to\":\"2024-01-01\","
                                    "\"as_of\":\"2024-01-01\"", S_JOB_GRACE)),
     "JOB: field 'from' is not a valid ISO 8601 timestamp in years 0001..9999 UTC"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":1704067200,\"to\":\"2024-01-01\","
                                    "\"as_of\":\"2024-01-01\"", S_JOB_GRACE)),
     "JOB: field 'from' must be an ISO 8601 timestamp string"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"0000-01-01T00:00+01:00\",\"to\":\"2024-01-01\","
                                    "\"as_of\":\"2024-01-01\"", S_JOB_GRACE)),
     "JOB: field 'from' is not a valid ISO 8601 timestamp in years 0001..9999 UTC"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-01-01\",\"to\":\"9999-12-31T23:30-01:00\","
                                    "\"as_of\":\"2024-01-01\"", S_JOB_GRACE)),
     "JOB: field 'to' is not a valid ISO 8601 timestamp in years 0001..9999 UTC"},
    {S_BODY ("JOB", S_JOB (S_RANGE, "\"from\":\"2024-01-01\",\"to\":\"2024-01-01\"", S_JOB_GRACE)),
     "JOB: missing field 'as_of'"},
    /* booleans */
    {S_BODY ("FAILED", "{\"job_id\":1,\"attempt\":1,\"error\":\"\",\"retryable\":1}"),
     "FAILED: field 'retryable' must be true or false"},
    {S_BODY ("FAILED", "{\"job_id\":1,\"attempt\":1,\"error\":\"\",\"retryable\":\"true\"}"),
     "FAILED: field 'retryable' must be true or false"},
    {S_BODY ("FAILED", "{\"job_id\":1,\"attempt\":1,\"retryable\":true}"),
     "FAILED: missing field 'error'"},
    /* DISCONNECT's two shapes */
    {S_BODY ("DISCONNECT", "{}"), "DISCONNECT: body needs 'job_id' (worker) or 'reason' (broker)"},
    {S_BODY ("DISCONNECT", "{\"attempt\":1,\"handback\":true}"), "body needs 'job_id'"},
    {S_BODY ("DISCONNECT", "{\"job_id\":1,\"attempt\":1}"), "DISCONNECT: missing field 'handback'"},
    {S_BODY ("DISCONNECT", "{\"job_id\":1,\"attempt\":1,\"handback\":null}"),
     "DISCONNECT: field 'handback' must be true or false"},
    {S_BODY ("DISCONNECT", "{\"job_id\":\"1\",\"reason\":\"bye\"}"),
     "DISCONNECT: field 'job_id' must be an integer > 0"},
    {S_BODY ("DISCONNECT", "{\"reason\":7}"), "DISCONNECT: field 'reason' must be a string"},
};

static void
s_check_bad (size_t nframes, const void *const *frames, const size_t *sizes,
             const char *expect, const char *what)
{
    char err[256] = "unset";
    recon_msg_t m;
    memset (&m, 0x5a, sizeof m);
    int rc = recon_msg_decode (frames, sizes, nframes, &m, err, sizeof err);
    if (rc != RECON_PROTO_EMALFORMED)
        fail_msg ("%s: rc %d, want EMALFORMED", what, rc);
    if (!strstr (err, expect))
        fail_msg ("%s: error \"%s\" lacks \"%s\"", what, err, expect);
    for (const char *p = err; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            fail_msg ("%s: unprintable byte in \"%s\"", what, err);
    static const recon_msg_t zero;
    assert_memory_equal (&m, &zero, sizeof m); /* zeroed on error */
}

static void
test_malformed_table (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        const void *frames[6];
        size_t sizes[6];
        for (size_t k = 0; k < s_bad[i].nframes; k++) {
            frames[k] = s_bad[i].frames[k];
            sizes[k] = strlen (s_bad[i].frames[k]);
        }
        char what[32];
        snprintf (what, sizeof what, "case %zu", i);
        s_check_bad (s_bad[i].nframes, frames, sizes, s_bad[i].expect, what);
    }
}

/*  Each good body accepted, including unknown fields at any level.       */
static void
test_accepts_unknown_fields (void **state)
{
    (void) state;
    static const struct {
        const char *cmd, *body;
    } good[] = {
        {"CANCEL", "{\"job_id\":1,\"attempt\":1,\"x\":{\"y\":[1,2.5,null,\"\\u0000\"]}}"},
        {"CANCEL", " \t\r\n{ \"attempt\" : 1 , \"job_id\" : 9223372036854775807 } \n"},
        {"READY", "{\"worker_id\":\"w\",\"version\":\"\",\"future\":true}"},
        {"READY", "{\"holding\":{\"attempt\":2,\"job_id\":1,\"x\":0},\"worker_id\":\"w\","
                  "\"version\":\"\"}"},
        {"JOB", S_JOB (S_RANGE, S_TIMES, "\"grace\":{\"fulfillment\":0,\"ledger\":0,"
                                         "\"processor\":0,\"cancel\":0,\"new\":-1}")},
        {"DISCONNECT", "{\"job_id\":1,\"attempt\":1,\"handback\":false,\"reason\":5}"},
        {"DISCONNECT", "{\"reason\":\"\",\"handback\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        recon_msg_t m;
        char err[256] = "";
        int rc = s_decode (good[i].cmd, good[i].body, strlen (good[i].body), &m, err, sizeof err);
        if (rc != 0)
            fail_msg ("good %zu: %s", i, err);
    }
    recon_msg_t m;
    const char *body = "{\"holding\":{\"attempt\":2,\"job_id\":1},\"worker_id\":\"w\",\"version\":\"v\"}";
    assert_int_equal (s_decode ("READY", body, strlen (body), &m, NULL, 0), 0);
    assert_int_equal (m.has_holding, 1);
    assert_int_equal (m.job_id, 1);
    assert_int_equal (m.attempt, 2);
    body = "{\"job_id\":1,\"attempt\":1,\"handback\":true,\"reason\":\"x\"}";
    assert_int_equal (s_decode ("DISCONNECT", body, strlen (body), &m, NULL, 0), 0);
    assert_int_equal (m.has_job, 1);
    assert_int_equal (m.handback, 1);
    assert_string_equal (m.reason, ""); /* the worker shape has no reason */
}

/*  The size limit is checked before parsing; exactly 64 KiB is allowed.   */
static void
test_body_size_limit (void **state)
{
    (void) state;
    size_t n = RECON_PROTO_BODY_MAX + 1;
    char *body = malloc (n + 1);
    assert_non_null (body);
    const char *head = "{\"job_id\":1,\"attempt\":1,\"pad\":\"";
    memset (body, 'p', n);
    memcpy (body, head, strlen (head));
    memcpy (body + n - 2, "\"}", 2);
    recon_msg_t m;
    char err[256];
    int rc = s_decode ("CANCEL", body, n, &m, err, sizeof err);
    assert_int_equal (rc, RECON_PROTO_EMALFORMED);
    assert_non_null (strstr (err, "CANCEL: body of 65537 bytes exceeds 65536 bytes"));

    memcpy (body + n - 3, "\"}", 2); /* one byte shorter: at the limit */
    assert_int_equal (s_decode ("CANCEL", body, n - 1, &m, err, sizeof err), 0);
    assert_int_equal (m.job_id, 1);

    /*  Deep nesting within the limit is refused by the parser, no crash. */
    memset (body, '[', RECON_PROTO_BODY_MAX);
    rc = s_decode ("CANCEL", body, RECON_PROTO_BODY_MAX, &m, err, sizeof err);
    assert_int_equal (rc, RECON_PROTO_EMALFORMED);
    assert_non_null (strstr (err, "not valid JSON"));
    free (body);
}

/*  ERR may be NULL or tiny; the text is cut, never overflowed.           */
static void
test_error_buffer (void **state)
{
    (void) state;
    recon_msg_t m;
    assert_int_equal (s_decode ("NOPE", NULL, 0, &m, NULL, 0), RECON_PROTO_EMALFORMED);
    char err[8];
    memset (err, 'z', sizeof err);
    assert_int_equal (s_decode ("NOPE", NULL, 0, &m, err, sizeof err), RECON_PROTO_EMALFORMED);
    assert_string_equal (err, "unknown");
    assert_int_equal (s_decode ("HEARTBEAT", NULL, 0, &m, err, sizeof err), 0);
    assert_string_equal (err, "");
    assert_int_equal (m.cmd, RECON_CMD_HEARTBEAT);
}

/* ---- zmq --------------------------------------------------------------- */

typedef struct {
    void *ctx, *router, *dealer;
} s_zmq_t;

static int
s_zmq_setup (void **state)
{
    s_zmq_t *z = calloc (1, sizeof *z);
    assert_non_null (z);
    z->ctx = zmq_ctx_new ();
    z->router = zmq_socket (z->ctx, ZMQ_ROUTER);
    z->dealer = zmq_socket (z->ctx, ZMQ_DEALER);
    assert_non_null (z->router);
    assert_non_null (z->dealer);
    int one = 1, zero = 0;
    assert_int_equal (zmq_setsockopt (z->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one), 0);
    assert_int_equal (zmq_setsockopt (z->router, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal (zmq_setsockopt (z->dealer, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal (zmq_setsockopt (z->dealer, ZMQ_ROUTING_ID, "worker-1", 8), 0);
    assert_int_equal (zmq_bind (z->router, "inproc://test-proto"), 0);
    assert_int_equal (zmq_connect (z->dealer, "inproc://test-proto"), 0);
    *state = z;
    return 0;
}

static int
s_zmq_teardown (void **state)
{
    s_zmq_t *z = *state;
    zmq_close (z->dealer);
    zmq_close (z->router);
    zmq_ctx_term (z->ctx);
    free (z);
    return 0;
}

static void
s_wait_readable (void *socket)
{
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    assert_int_equal (zmq_poll (&item, 1, 5000), 1);
}

/*  Sends PARTS raw (one zmq message, bypassing the codec).                */
static void
s_send_raw (void *socket, size_t n, const void *const *parts, const size_t *sizes)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal (zmq_send (socket, parts[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0),
                          (int) sizes[i]);
}

static void
s_router_expect (s_zmq_t *z, const recon_msg_t *want)
{
    unsigned char id[RECON_PROTO_IDENTITY_MAX];
    size_t id_len = sizeof id;
    recon_msg_t got;
    char err[256] = "";
    s_wait_readable (z->router);
    int rc = recon_proto_recv (z->router, 1, id, &id_len, &got, err, sizeof err);
    if (rc != 0)
        fail_msg ("router recv: %d %s", rc, err);
    assert_int_equal (id_len, 8);
    assert_memory_equal (id, "worker-1", 8);
    s_assert_equal (want, &got);
}

static void
s_router_expect_malformed (s_zmq_t *z, const char *expect)
{
    unsigned char id[RECON_PROTO_IDENTITY_MAX];
    size_t id_len = sizeof id;
    recon_msg_t got;
    char err[256] = "";
    s_wait_readable (z->router);
    int rc = recon_proto_recv (z->router, 1, id, &id_len, &got, err, sizeof err);
    assert_int_equal (rc, RECON_PROTO_EMALFORMED);
    if (!strstr (err, expect))
        fail_msg ("error \"%s\" lacks \"%s\"", err, expect);
    assert_int_equal (id_len, 8); /* the broker can still tell who it was */
    assert_memory_equal (id, "worker-1", 8);
}

static void
test_zmq_roundtrip (void **state)
{
    s_zmq_t *z = *state;
    unsigned char id[RECON_PROTO_IDENTITY_MAX];
    size_t id_len = sizeof id;
    recon_msg_t got;
    char err[256] = "";

    /* nothing waiting */
    assert_int_equal (recon_proto_recv (z->router, 1, id, &id_len, &got, err, sizeof err),
                      RECON_PROTO_EAGAIN);
    assert_int_equal (recon_proto_recv (z->dealer, 0, NULL, NULL, &got, err, sizeof err),
                      RECON_PROTO_EAGAIN);

    /* worker → broker */
    recon_msg_t ready = {.cmd = RECON_CMD_READY, .worker_id = "worker-1", .version = "0.1.0",
                         .has_holding = 1, .job_id = 12, .attempt = 3};
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &ready), 0);
    s_router_expect (z, &ready);
    recon_msg_t hb = {.cmd = RECON_CMD_HEARTBEAT};
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &hb), 0);
    s_router_expect (z, &hb);

    /* broker → worker, addressed by identity */
    recon_msg_t job = {.cmd = RECON_CMD_JOB, .job_id = 12, .run_id = 4, .attempt = 3,
                       .shard = 1, .shards = 4, .range_lo = "ORD-1", .has_range_hi = 1,
                       .range_hi = "ORD-5", .from = 1, .to = 2, .as_of = 3,
                       .grace_ledger = RECON_USEC_PER_HOUR, .tolerance = 1};
    assert_int_equal (recon_proto_send (z->router, "worker-1", 8, &job), 0);
    assert_int_equal (recon_proto_send (z->router, "worker-1", 8, &hb), 0);
    recon_msg_t bye = {.cmd = RECON_CMD_DISCONNECT, .reason = "unknown worker"};
    assert_int_equal (recon_proto_send (z->router, "worker-1", 8, &bye), 0);
    const recon_msg_t *want[] = {&job, &hb, &bye};
    for (size_t i = 0; i < 3; i++) {
        s_wait_readable (z->dealer);
        int rc = recon_proto_recv (z->dealer, 0, NULL, NULL, &got, err, sizeof err);
        if (rc != 0)
            fail_msg ("dealer recv %zu: %d %s", i, rc, err);
        s_assert_equal (want[i], &got);
    }
    /* the identity buffer is optional on the ROUTER side too */
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &hb), 0);
    s_wait_readable (z->router);
    assert_int_equal (recon_proto_recv (z->router, 1, NULL, NULL, &got, err, sizeof err), 0);
    assert_int_equal (got.cmd, RECON_CMD_HEARTBEAT);
}

/*  Malformed messages are drained whole: the next message arrives intact. */
static void
test_zmq_malformed_drained (void **state)
{
    s_zmq_t *z = *state;
    recon_msg_t done = {.cmd = RECON_CMD_DONE, .job_id = 8, .attempt = 1, .orders_done = 10,
                        .mismatches = 2};

    /* too many parts: more than the receiver keeps */
    const void *many[] = {"", RECON_PROTO_HEADER, "JOB", "{bad", "extra", "extra2"};
    size_t many_sizes[] = {0, 6, 3, 4, 5, 6};
    s_send_raw (z->dealer, 6, many, many_sizes);
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &done), 0);
    s_router_expect_malformed (z, "too many frames (5)");
    s_router_expect (z, &done);

    /* a hundred parts */
    const void *hundred[100];
    size_t hundred_sizes[100];
    for (size_t i = 0; i < 100; i++) {
        hundred[i] = i ? "x" : "";
        hundred_sizes[i] = i ? 1 : 0;
    }
    s_send_raw (z->dealer, 100, hundred, hundred_sizes);
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &done), 0);
    s_router_expect_malformed (z, "too many frames (99)");
    s_router_expect (z, &done);

    /* no empty delimiter */
    const void *nodelim[] = {RECON_PROTO_HEADER, "HEARTBEAT"};
    size_t nodelim_sizes[] = {6, 9};
    s_send_raw (z->dealer, 2, nodelim, nodelim_sizes);
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &done), 0);
    s_router_expect_malformed (z, "missing the empty delimiter frame");
    s_router_expect (z, &done);

    /* a body over the limit, in the middle of the message */
    size_t big = RECON_PROTO_BODY_MAX + 100;
    char *body = malloc (big);
    assert_non_null (body);
    memset (body, ' ', big);
    const void *oversized[] = {"", RECON_PROTO_HEADER, "PROGRESS", body};
    size_t oversized_sizes[] = {0, 6, 8, big};
    s_send_raw (z->dealer, 4, oversized, oversized_sizes);
    free (body);
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &done), 0);
    s_router_expect_malformed (z, "PROGRESS: body of 65636 bytes exceeds 65536 bytes");
    s_router_expect (z, &done);

    /* a bad field */
    const char *json = "{\"job_id\":7,\"attempt\":true}";
    const void *badfield[] = {"", RECON_PROTO_HEADER, "CANCEL", json};
    size_t badfield_sizes[] = {0, 6, 6, strlen (json)};
    s_send_raw (z->dealer, 4, badfield, badfield_sizes);
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &done), 0);
    s_router_expect_malformed (z, "CANCEL: field 'attempt' must be an integer > 0");
    s_router_expect (z, &done);

    /* broker → worker: the DEALER side drains too */
    const void *bogus[] = {"worker-1", "", RECON_PROTO_HEADER, "BOGUS", "{}", "more"};
    size_t bogus_sizes[] = {8, 0, 6, 5, 2, 4};
    s_send_raw (z->router, 6, bogus, bogus_sizes);
    const void *unknown[] = {"worker-1", "", RECON_PROTO_HEADER, "BOGUS"};
    s_send_raw (z->router, 4, unknown, bogus_sizes);
    recon_msg_t cancel = {.cmd = RECON_CMD_CANCEL, .job_id = 8, .attempt = 1};
    assert_int_equal (recon_proto_send (z->router, "worker-1", 8, &cancel), 0);
    recon_msg_t got;
    char err[256];
    s_wait_readable (z->dealer);
    assert_int_equal (recon_proto_recv (z->dealer, 0, NULL, NULL, &got, err, sizeof err),
                      RECON_PROTO_EMALFORMED);
    assert_non_null (strstr (err, "too many frames (4)"));
    s_wait_readable (z->dealer);
    assert_int_equal (recon_proto_recv (z->dealer, 0, NULL, NULL, &got, err, sizeof err),
                      RECON_PROTO_EMALFORMED);
    assert_non_null (strstr (err, "unknown command 'BOGUS'"));
    s_wait_readable (z->dealer);
    assert_int_equal (recon_proto_recv (z->dealer, 0, NULL, NULL, &got, err, sizeof err), 0);
    s_assert_equal (&cancel, &got);
}

static void
test_zmq_send_errors (void **state)
{
    s_zmq_t *z = *state;
    recon_msg_t bad = {.cmd = RECON_CMD_CANCEL, .job_id = 0, .attempt = 1};
    errno = 0;
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &bad), RECON_PROTO_EINVAL);
    assert_int_equal (errno, EINVAL);

    /* ROUTER_MANDATORY: an unknown identity is an error, not a silent drop */
    recon_msg_t hb = {.cmd = RECON_CMD_HEARTBEAT};
    errno = 0;
    assert_int_equal (recon_proto_send (z->router, "nobody", 6, &hb), RECON_PROTO_ESOCKET);
    assert_int_equal (errno, EHOSTUNREACH);

    /* a DEALER with no peer cannot take a message: never blocks */
    void *lonely = zmq_socket (z->ctx, ZMQ_DEALER);
    assert_non_null (lonely);
    assert_int_equal (recon_proto_send (lonely, NULL, 0, &hb), RECON_PROTO_EAGAIN);
    assert_int_equal (errno, EAGAIN);
    zmq_close (lonely);

    /* nothing of the invalid message went out */
    recon_msg_t got;
    char err[256];
    unsigned char id[RECON_PROTO_IDENTITY_MAX];
    size_t id_len = sizeof id;
    zmq_pollitem_t item = {z->router, 0, ZMQ_POLLIN, 0};
    assert_int_equal (zmq_poll (&item, 1, 50), 0);
    assert_int_equal (recon_proto_recv (z->router, 1, id, &id_len, &got, err, sizeof err),
                      RECON_PROTO_EAGAIN);
    assert_int_equal (id_len, 0);

    /* an identity that does not fit the buffer */
    assert_int_equal (recon_proto_send (z->dealer, NULL, 0, &hb), 0);
    s_wait_readable (z->router);
    id_len = 4;
    assert_int_equal (recon_proto_recv (z->router, 1, id, &id_len, &got, err, sizeof err),
                      RECON_PROTO_EMALFORMED);
    assert_non_null (strstr (err, "identity of 8 bytes exceeds the 4-byte buffer"));
    assert_int_equal (id_len, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cmd_name),
        cmocka_unit_test (test_roundtrip_ready),
        cmocka_unit_test (test_roundtrip_heartbeat),
        cmocka_unit_test (test_roundtrip_job),
        cmocka_unit_test (test_job_wire_format),
        cmocka_unit_test (test_roundtrip_job_messages),
        cmocka_unit_test (test_roundtrip_disconnect),
        cmocka_unit_test (test_encode_ignores_other_fields),
        cmocka_unit_test (test_encode_rejects),
        cmocka_unit_test (test_malformed_table),
        cmocka_unit_test (test_accepts_unknown_fields),
        cmocka_unit_test (test_body_size_limit),
        cmocka_unit_test (test_error_buffer),
        cmocka_unit_test_setup_teardown (test_zmq_roundtrip, s_zmq_setup, s_zmq_teardown),
        cmocka_unit_test_setup_teardown (test_zmq_malformed_drained, s_zmq_setup,
                                         s_zmq_teardown),
        cmocka_unit_test_setup_teardown (test_zmq_send_errors, s_zmq_setup, s_zmq_teardown),
    };
    return cmocka_run_group_tests_name ("proto", tests, NULL, NULL);
}
