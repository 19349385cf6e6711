/*  frame_storm.c — fires random and malformed multipart messages at a
    running recon-broker's ROUTER socket from several DEALER sockets.

    Design decision: every message comes from one seeded generator (the
    seed is printed), so a storm that hurts the broker can be replayed
    exactly with --seed. The kinds cover what PROTOCOL.md says a peer must
    survive: random frames, wrong frame counts, missing delimiters, wrong
    headers, unknown commands, invalid and hostile JSON bodies (wrong
    types, out-of-range numbers, bad UTF-8, NULs, deep nesting, duplicate
    keys), bodies just over and far over the size limits, byte-flipped
    valid messages, and valid commands the broker does not expect (JOB and
    CANCEL sent to it, DONE/FAILED/PROGRESS for jobs nobody holds, READY
    with a job it never leased). Sockets are now and then closed and made
    anew, so the broker sees many peers come and go.

    usage: frame_storm ENDPOINT [--seed S] [--messages N] [--sockets K]
                                [--no-ready]
    --no-ready leaves out READY, so no fake worker takes a real job (for a
    storm during a run). Prints the seed and a count per kind; exits 0
    when the messages were handed to zmq (the broker's health is checked
    by the caller), 2 on bad arguments or a socket that cannot connect. */
#include "recon/proto.h"
#include "../support/test_rng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_MAX_SOCKETS 16
#define S_BODY_MAX (300 * 1024)

typedef enum {
    K_RANDOM_FRAMES,
    K_NO_DELIMITER,
    K_BAD_HEADER,
    K_UNKNOWN_COMMAND,
    K_FRAME_COUNT,
    K_BAD_JSON,
    K_HOSTILE_FIELDS,
    K_HUGE,
    K_FLIPPED,
    K_UNEXPECTED,
    K_COUNT
} s_kind_t;

static const char *const s_kind_names[K_COUNT] = {
    "random frames",        "no delimiter",      "wrong header",
    "unknown command",      "wrong frame count", "invalid JSON body",
    "hostile field values", "huge frames",       "byte-flipped valid message",
    "valid but unexpected command",
};

typedef test_rng_t s_rng_t;

static uint64_t
s_below (s_rng_t *r, uint64_t n)
{
    return n ? test_rng_next (r) % n : 0;
}

typedef struct {
    const void *data[40];
    size_t size[40];
    size_t n;
} s_frames_t;

static void
s_push (s_frames_t *f, const void *data, size_t size)
{
    if (f->n < 40) {
        f->data[f->n] = data;
        f->size[f->n++] = size;
    }
}

static void
s_push_str (s_frames_t *f, const char *s)
{
    s_push (f, s, strlen (s));
}

static const char *const s_cmds[] = {"READY", "HEARTBEAT", "JOB", "PROGRESS", "DONE",
                                     "FAILED", "CANCEL", "DISCONNECT"};

/*  Hostile values for any field.                                          */
static const char *const s_values[] = {
    "0", "-1", "1.5", "1e400", "9223372036854775808", "-9223372036854775809", "true", "null",
    "\"1\"", "[]", "{}", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"0000-01-01T00:00Z\"",
    "\"9999-12-31T23:59:59-01:00\"", "\"2024-02-30\"", "\"2024-01-01T00:00:00.1234567Z\"",
    "9223372036854775807", "\"x\"", "1",
};

static const char *const s_fields[] = {
    "worker_id", "version", "holding", "job_id", "run_id", "attempt", "shard", "shards",
    "range_lo", "range_hi", "from", "to", "as_of", "grace_fulfillment", "grace_ledger",
    "grace_processor", "grace_cancel", "tolerance", "orders_done", "mismatches",
    "last_order_id", "error", "retryable", "handback", "reason",
};

/*  A JSON object of random hostile fields into BUF; returns its length.   */
static size_t
s_hostile_object (s_rng_t *r, char *buf, size_t cap)
{
    size_t n = (size_t) snprintf (buf, cap, "{");
    size_t fields = 1 + s_below (r, 8);
    for (size_t i = 0; i < fields && n + 200 < cap; i++) {
        const char *field = s_fields[s_below (r, sizeof s_fields / sizeof s_fields[0])];
        const char *value = s_values[s_below (r, sizeof s_values / sizeof s_values[0])];
        n += (size_t) snprintf (buf + n, cap - n, "%s\"%s\":%s", i ? "," : "", field, value);
        if (s_below (r, 10) == 0) /* a duplicate key */
            n += (size_t) snprintf (buf + n, cap - n, ",\"%s\":%s", field, value);
    }
    n += (size_t) snprintf (buf + n, cap - n, "}");
    return n;
}

/*  A valid message of a random command, encoded; *CMD gets its word.      */
static char *
s_valid (s_rng_t *r, int allow_ready, const char **cmd, size_t *len)
{
    recon_msg_t m;
    memset (&m, 0, sizeof m);
    do
        m.cmd = (recon_cmd_t) (1 + s_below (r, 8));
    while (m.cmd == RECON_CMD_READY && !allow_ready);
    snprintf (m.worker_id, sizeof m.worker_id, "storm-%" PRIu64, s_below (r, 1000));
    snprintf (m.version, sizeof m.version, "0.0.%" PRIu64, s_below (r, 10));
    m.has_holding = m.cmd == RECON_CMD_READY && s_below (r, 3) == 0;
    m.job_id = 1 + (int64_t) s_below (r, s_below (r, 2) ? 50 : INT64_MAX);
    m.run_id = 1 + (int64_t) s_below (r, 50);
    m.attempt = 1 + (int64_t) s_below (r, 6);
    m.shards = 1 + (int64_t) s_below (r, 16);
    m.shard = (int64_t) s_below (r, (uint64_t) m.shards);
    snprintf (m.range_lo, sizeof m.range_lo, "ord_%" PRIu64, s_below (r, 1000));
    m.has_range_hi = (int) s_below (r, 2);
    m.from = INT64_C (1762000000000000);
    m.to = m.from + INT64_C (86400000000);
    m.as_of = m.to;
    m.orders_done = (int64_t) s_below (r, 100000);
    m.mismatches = (int64_t) s_below (r, 1000);
    snprintf (m.error, sizeof m.error, "storm error %" PRIu64, s_below (r, 100));
    m.retryable = (int) s_below (r, 2);
    m.has_job = m.cmd == RECON_CMD_DISCONNECT && s_below (r, 2);
    m.handback = (int) s_below (r, 2);
    if (m.cmd == RECON_CMD_DISCONNECT && !m.has_job && s_below (r, 2))
        snprintf (m.reason, sizeof m.reason, "storm");
    char *body = NULL;
    *len = 0;
    if (recon_msg_encode_body (&m, &body, len) != 0)
        return NULL;
    *cmd = recon_cmd_name (m.cmd);
    return body;
}

static void *
s_socket (void *ctx, const char *endpoint)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    /*  Linger so that closing a socket (a peer going away) still delivers
        what it queued: the broker must see every message, not our drops. */
    int linger = 3000, hwm = 100000;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect (s, endpoint) != 0) {
        fprintf (stderr, "frame_storm: cannot connect to %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        zmq_close (s);
        return NULL;
    }
    return s;
}

/*  Reads whatever the broker answered (DISCONNECTs), so its sends to us
    never back up; returns the number of messages read.                   */
static long
s_drain (void *s)
{
    long n = 0;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, s, ZMQ_DONTWAIT) >= 0)
        n += !zmq_msg_more (&msg);
    zmq_msg_close (&msg);
    return n;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf (stderr, "usage: frame_storm ENDPOINT [--seed S] [--messages N] [--sockets K] "
                         "[--no-ready]\n");
        return 2;
    }
    const char *endpoint = argv[1];
    uint64_t seed = (uint64_t) time (NULL) ^ (uint64_t) clock ();
    long messages = 5000;
    int nsockets = 4, allow_ready = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--messages") == 0 && i + 1 < argc)
            messages = atol (argv[++i]);
        else if (strcmp (argv[i], "--sockets") == 0 && i + 1 < argc)
            nsockets = atoi (argv[++i]);
        else if (strcmp (argv[i], "--no-ready") == 0)
            allow_ready = 0;
        else {
            fprintf (stderr, "frame_storm: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (nsockets < 1 || nsockets > S_MAX_SOCKETS || messages < 0) {
        fprintf (stderr, "frame_storm: --sockets 1..%d, --messages >= 0\n", S_MAX_SOCKETS);
        return 2;
    }
    printf ("frame_storm: seed %" PRIu64 " (replay: frame_storm %s --seed %" PRIu64
            " --messages %ld --sockets %d%s)\n",
            seed, endpoint, seed, messages, nsockets, allow_ready ? "" : " --no-ready");
    fflush (stdout);
    s_rng_t rng = {seed};
    void *ctx = zmq_ctx_new ();
    void *socks[S_MAX_SOCKETS];
    for (int i = 0; i < nsockets; i++)
        if (!(socks[i] = s_socket (ctx, endpoint)))
            return 2;
    char *big = malloc (S_BODY_MAX), *buf = malloc (S_BODY_MAX);
    if (!big || !buf)
        return 2;
    long sent[K_COUNT] = {0}, dropped = 0, answers = 0, renewed = 0;

    for (long i = 0; i < messages; i++) {
        s_frames_t f = {.n = 0};
        s_rng_t *r = &rng;
        s_kind_t kind = (s_kind_t) s_below (r, K_COUNT);
        if (kind == K_HUGE && s_below (r, 4)) /* keep the big ones rare */
            kind = K_BAD_JSON;
        char *owned = NULL;
        const char *cmd;
        size_t len;
        switch (kind) {
        case K_RANDOM_FRAMES: {
            size_t nf = s_below (r, 8), at = 0;
            for (size_t k = 0; k < nf; k++) {
                size_t n = s_below (r, 4) ? s_below (r, 48) : 0;
                for (size_t b = 0; b < n; b++)
                    buf[at + b] = (char) s_below (r, 256);
                s_push (&f, buf + at, n);
                at += n;
            }
            break;
        }
        case K_NO_DELIMITER:
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, "HEARTBEAT");
            break;
        case K_BAD_HEADER: {
            static const char *const h[] = {"RECON2", "recon1", "", "RECON1 ", "MDPW01",
                                             "RECON1\n"};
            s_push (&f, "", 0);
            s_push_str (&f, h[s_below (r, 6)]);
            s_push_str (&f, s_cmds[s_below (r, 8)]);
            s_push_str (&f, "{}");
            break;
        }
        case K_UNKNOWN_COMMAND: {
            static const char *const c[] = {"ready", "READY ", "PING", "", "JOBS", "DONE\n",
                                            "HEARTBEAT\xff"};
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            if (s_below (r, 4) == 0) {
                size_t n = 1 + s_below (r, 300);
                memset (buf, 'A', n);
                s_push (&f, buf, n);
            } else
                s_push_str (&f, c[s_below (r, 7)]);
            s_push_str (&f, "{\"job_id\":1,\"attempt\":1}");
            break;
        }
        case K_FRAME_COUNT: {
            s_push (&f, "", 0);
            uint64_t shape = s_below (r, 5);
            if (shape == 0)
                break; /* the delimiter alone */
            s_push_str (&f, RECON_PROTO_HEADER);
            if (shape == 1)
                break; /* header, no command */
            if (shape == 2) { /* HEARTBEAT with a body, READY without */
                if (s_below (r, 2)) {
                    s_push_str (&f, "HEARTBEAT");
                    s_push_str (&f, "{}");
                } else
                    s_push_str (&f, "READY");
                break;
            }
            s_push_str (&f, "CANCEL");
            s_push_str (&f, "{\"job_id\":1,\"attempt\":1}");
            size_t extra = 1 + s_below (r, shape == 3 ? 3 : 34);
            for (size_t k = 0; k < extra; k++)
                s_push_str (&f, "extra");
            break;
        }
        case K_BAD_JSON: {
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, s_cmds[s_below (r, 8)]);
            uint64_t shape = s_below (r, 7);
            size_t n = 0;
            if (shape == 0) { /* random bytes */
                n = s_below (r, 200);
                for (size_t b = 0; b < n; b++)
                    buf[b] = (char) s_below (r, 256);
            } else if (shape == 1) { /* not an object */
                static const char *const v[] = {"[]", "\"x\"", "1", "null", "", " ", "{",
                                                "{\"job_id\":1,", "{}}", "\xef\xbb\xbf{}"};
                n = (size_t) snprintf (buf, S_BODY_MAX, "%s", v[s_below (r, 10)]);
            } else if (shape == 2) { /* deep nesting */
                size_t depth = 100 + s_below (r, 20000);
                n = (size_t) snprintf (buf, S_BODY_MAX, "{\"job_id\":");
                for (size_t d = 0; d < depth; d++)
                    buf[n++] = '[';
                for (size_t d = 0; d < depth; d++)
                    buf[n++] = ']';
                buf[n++] = '}';
            } else if (shape == 3) { /* invalid UTF-8 in a string */
                n = (size_t) snprintf (buf, S_BODY_MAX,
                                       "{\"worker_id\":\"w\xc3\x28\",\"version\":\"\xff\"}");
            } else { /* a valid body cut short */
                char *body = s_valid (r, 1, &cmd, &len);
                n = body && len ? s_below (r, len) : 0;
                if (n)
                    memcpy (buf, body, n);
                free (body);
            }
            s_push (&f, buf, n);
            break;
        }
        case K_HOSTILE_FIELDS:
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, s_cmds[s_below (r, 8)]);
            s_push (&f, buf, s_hostile_object (r, buf, S_BODY_MAX));
            break;
        case K_HUGE: {
            /*  Just over the body limit, well over it, and past the
                socket's ZMQ_MAXMSGSIZE (zmq then drops the connection). */
            static const size_t sizes[] = {RECON_PROTO_BODY_MAX + 1, 100 * 1024, 260 * 1024};
            size_t n = sizes[s_below (r, 3)];
            size_t at = (size_t) snprintf (big, S_BODY_MAX, "{\"error\":\"");
            memset (big + at, 'x', n - at - 2);
            memcpy (big + n - 2, "\"}", 2);
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, "FAILED");
            s_push (&f, big, n);
            break;
        }
        case K_FLIPPED: {
            owned = s_valid (r, 1, &cmd, &len);
            if (owned && len) {
                size_t flips = 1 + s_below (r, 4);
                for (size_t k = 0; k < flips; k++)
                    owned[s_below (r, len)] ^= (char) (1u << s_below (r, 8));
            }
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, owned ? cmd : "HEARTBEAT");
            if (owned && len)
                s_push (&f, owned, len);
            break;
        }
        case K_UNEXPECTED:
        case K_COUNT:
            owned = s_valid (r, allow_ready, &cmd, &len);
            s_push (&f, "", 0);
            s_push_str (&f, RECON_PROTO_HEADER);
            s_push_str (&f, owned ? cmd : "HEARTBEAT");
            if (owned && len)
                s_push (&f, owned, len);
            break;
        }
        if (!allow_ready && f.n >= 3 && f.size[2] == 5 && memcmp (f.data[2], "READY", 5) == 0)
            f.data[2] = "HEARTBEAT", f.size[2] = 9;

        int which = (int) s_below (r, (uint64_t) nsockets);
        void *s = socks[which];
        int ok = 1;
        if (f.n == 0) /* zmq cannot send a message of no parts: one empty frame */
            s_push (&f, "", 0);
        for (size_t k = 0; k < f.n && ok; k++)
            ok = zmq_send (s, f.data[k], f.size[k],
                           ZMQ_DONTWAIT | (k + 1 < f.n ? ZMQ_SNDMORE : 0)) >= 0;
        if (ok)
            sent[kind]++;
        else
            dropped++;
        free (owned);
        answers += s_drain (s);
        /*  Now and then a peer goes away and a new one comes.             */
        if (s_below (r, 200) == 0) {
            zmq_close (s);
            socks[which] = s_socket (ctx, endpoint);
            if (!socks[which])
                return 2;
            renewed++;
        }
        /*  Pace: a burst, then a breath, so the storm also spans time.    */
        if (i % 500 == 499) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep (&ts, NULL);
        }
    }
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep (&ts, NULL);
    for (int i = 0; i < nsockets; i++) {
        answers += s_drain (socks[i]);
        zmq_close (socks[i]);
    }
    zmq_ctx_term (ctx);
    long total = 0;
    for (int k = 0; k < K_COUNT; k++) {
        printf ("frame_storm: %6ld %s\n", sent[k], s_kind_names[k]);
        total += sent[k];
    }
    long bad = total - sent[K_FLIPPED] - sent[K_UNEXPECTED];
    printf ("frame_storm: %ld malformed by construction (kinds above the last two)\n", bad);
    printf ("frame_storm: %ld sent over %d sockets (%ld sockets renewed), %ld not taken by zmq, "
            "%ld answers read\n", total, nsockets, renewed, dropped, answers);
    free (big);
    free (buf);
    return 0;
}
