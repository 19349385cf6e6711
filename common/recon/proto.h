/*  recon/proto.h — the broker ⇄ worker wire protocol RECON1 (docs/PROTOCOL.md).

    A message is [ "RECON1" ][ COMMAND ][ BODY? ] after the zmq envelope
    (the ROUTER side also sees the peer's identity and an empty delimiter
    frame). BODY is one JSON object of at most 64 KiB.

    The codec (recon_msg_decode, recon_msg_encode_body) is pure: no zmq, no
    I/O, so unit tests and the fuzzer exercise exactly the decoding the
    daemons run. Every byte from the network is untrusted: anything outside
    PROTOCOL.md is reported as malformed with a one-line reason, never a
    crash. The encoder applies the same rules, so a message that encodes
    always decodes to itself on the other side.

    Whether a well-formed command is expected in the receiver's state (JOB
    sent to the broker, DONE for a job the worker does not hold) is the
    daemons' business, not the codec's.                                    */
#ifndef RECON_PROTO_H
#define RECON_PROTO_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RECON_CMD_READY = 1,
    RECON_CMD_HEARTBEAT,
    RECON_CMD_JOB,
    RECON_CMD_PROGRESS,
    RECON_CMD_DONE,
    RECON_CMD_FAILED,
    RECON_CMD_CANCEL,
    RECON_CMD_DISCONNECT,
} recon_cmd_t;

#define RECON_PROTO_HEADER "RECON1"

/*  Largest body in bytes ("at most 64 KiB").                               */
#define RECON_PROTO_BODY_MAX ((size_t) 64 * 1024)

/*  Identity buffer size that fits any ROUTER identity (zmq: 1..255 bytes). */
#define RECON_PROTO_IDENTITY_MAX 256

/*  String limits in bytes of UTF-8, terminating NUL excluded. The arrays
    in recon_msg_t are one byte larger.                                    */
#define RECON_WORKER_ID_MAX 64
#define RECON_VERSION_MAX   32
#define RECON_ORDER_ID_MAX  200
#define RECON_ERROR_MAX     1000
#define RECON_REASON_MAX    256

/*  Negative results.                                                       */
enum {
    RECON_PROTO_EMALFORMED = -1, /* input breaks PROTOCOL.md; err says how   */
    RECON_PROTO_EINVAL = -2,     /* encode/send: the message breaks it (a bug
                                    of the sender, errno = EINVAL)           */
    RECON_PROTO_ENOMEM = -3,     /* out of memory (errno = ENOMEM)           */
    RECON_PROTO_EAGAIN = -4,     /* socket not ready now (errno from zmq)    */
    RECON_PROTO_ESOCKET = -5,    /* any other zmq failure (errno from zmq)   */
};

/*  One message. Only the fields of its command are meaningful; decoding
    sets every other field to zero. Strings are NUL-terminated UTF-8 without
    NUL bytes inside; times are µs since the Unix epoch (recon/timestamp.h).
    Encoding ignores the fields of other commands, so one struct may be
    reused for PROGRESS, DONE and FAILED of the same job.                   */
typedef struct {
    recon_cmd_t cmd;

    /* READY */
    char worker_id[RECON_WORKER_ID_MAX + 1];   /* 1..64 bytes               */
    char version[RECON_VERSION_MAX + 1];
    int has_holding;       /* 1: "holding" = {job_id, attempt} is present   */

    /* job identity: READY (holding), JOB, PROGRESS, DONE, FAILED, CANCEL,
       DISCONNECT (has_job); job_id and attempt are > 0 */
    int64_t job_id, run_id, attempt;

    /* JOB */
    int64_t shard, shards;                     /* shard ≥ 0, shards ≥ 1     */
    char range_lo[RECON_ORDER_ID_MAX + 1];
    int has_range_hi;                          /* 0: "range_hi": null       */
    char range_hi[RECON_ORDER_ID_MAX + 1];
    int64_t from, to, as_of;                   /* years 0001..9999          */
    int64_t grace_fulfillment, grace_ledger, grace_processor, grace_cancel;
    int64_t tolerance;                         /* all ≥ 0                   */

    /* PROGRESS, DONE */
    int64_t orders_done, mismatches;           /* ≥ 0                       */
    char last_order_id[RECON_ORDER_ID_MAX + 1];/* PROGRESS only             */

    /* FAILED */
    char error[RECON_ERROR_MAX + 1];
    int retryable;                             /* 0 or 1 when decoded       */

    /* DISCONNECT: from a worker with a body, has_job = 1 and job_id,
       attempt, handback are set; from the broker with a body, reason is.
       Encoding sends the worker form when has_job, else the broker form
       when reason is not empty, else no body. */
    int has_job;
    int handback;                              /* 0 or 1 when decoded       */
    char reason[RECON_REASON_MAX + 1];
} recon_msg_t;

/*  "READY", "HEARTBEAT", …: the command's word on the wire. NULL when CMD
    is not a recon_cmd_t value. Static storage.                             */
const char *recon_cmd_name (recon_cmd_t cmd);

/*  Decodes the NFRAMES frames FRAMES[i] of SIZES[i] bytes: the message
    parts AFTER the zmq envelope, [header][command][body?]. The bytes need
    not be NUL-terminated and are only read; nothing is kept. Checks, in
    this order: 2 or 3 frames, the exact header, a known command word, a
    body present iff the command carries one (never for HEARTBEAT, always
    for READY, JOB, PROGRESS, DONE, FAILED, CANCEL, optional for
    DISCONNECT), body ≤ RECON_PROTO_BODY_MAX bytes (checked before parsing),
    a JSON object in valid UTF-8 without duplicate keys (at any depth),
    and every field of the command present with its type and range:
    integers must be JSON integers within int64 (not reals, booleans or
    strings), strings within their byte limit and without NUL (\u0000),
    timestamps ISO 8601 as recon_timestamp_parse reads them, within years
    0001..9999 in UTC. Unknown fields are ignored. A DISCONNECT body with
    "job_id" is the worker form, otherwise it must have "reason".
    Fills *OUT (wholly overwritten; zeroed on error) and returns 0;
    RECON_PROTO_EMALFORMED, or RECON_PROTO_ENOMEM when the JSON parser ran
    out of memory. On error ERR (ERRLEN bytes, may be NULL/0) gets a one-line
    reason in printable ASCII (network bytes quoted with \xNN escapes), e.g.
    "JOB: field 'attempt' must be an integer > 0".                           */
int recon_msg_decode (const void *const *frames, const size_t *sizes, size_t nframes,
                      recon_msg_t *out, char *err, size_t errlen);

/*  Encodes the body of MSG as compact JSON into a malloc'd buffer (not
    NUL-terminated) that the caller frees, sets *LEN, and returns 0. For a
    message without a body (HEARTBEAT; DISCONNECT without has_job and with
    an empty reason) sets *BODY = NULL and *LEN = 0. The same rules as
    recon_msg_decode apply: a string over its limit or not NUL-terminated
    within its array, invalid UTF-8, an id ≤ 0, a count < 0 or a time
    outside years 0001..9999 gives RECON_PROTO_EINVAL. RECON_PROTO_ENOMEM
    when memory runs out. On error *BODY = NULL, *LEN = 0.                 */
int recon_msg_encode_body (const recon_msg_t *msg, char **body, size_t *len);

/*  Sends MSG on SOCKET as one multipart message: [identity] when IDENTITY
    is not NULL (ROUTER side; a DEALER passes NULL, 0), then "", header,
    command and body. Never blocks (ZMQ_DONTWAIT): zmq takes either the
    whole message or none of it. Returns 0; RECON_PROTO_EINVAL or
    RECON_PROTO_ENOMEM when the message cannot be encoded (nothing sent);
    RECON_PROTO_EAGAIN when the socket cannot take it now (a DEALER whose
    queue is full, a ROUTER_MANDATORY peer over its high-water mark);
    RECON_PROTO_ESOCKET on any other zmq error. errno says why in every
    case, so zmq_strerror (zmq_errno ()) is meaningful.                     */
int recon_proto_send (void *socket, const void *identity, size_t identity_len,
                      const recon_msg_t *msg);

/*  Receives one whole multipart message from SOCKET without blocking
    (ZMQ_DONTWAIT: call when zmq_poll says readable) and decodes it. Every
    part is always received, also when the message is malformed or has
    too many parts, so the next call starts at the next message. Parts are
    inspected in place, never copied, so an oversized body costs only the
    memory zmq already used (set ZMQ_MAXMSGSIZE to bound that).
    WITH_IDENTITY (ROUTER side): the first part is the peer's identity,
    copied to IDENTITY (may be NULL) when it fits in *IDENTITY_LEN bytes
    (capacity on input, RECON_PROTO_IDENTITY_MAX always fits; length on
    output, 0 when none). Without it IDENTITY and IDENTITY_LEN may be NULL.
    The empty delimiter frame must follow (DEALER side: must come first).
    Returns 0 with *MSG decoded; RECON_PROTO_EMALFORMED (message dropped,
    ERR filled as by recon_msg_decode, identity still set when the message
    had one, so the broker can log and answer who sent it);
    RECON_PROTO_ENOMEM (message dropped); RECON_PROTO_EAGAIN when no
    message is waiting (also after EINTR); RECON_PROTO_ESOCKET on any other
    zmq error (ERR gets zmq_strerror, errno stays set).                      */
int recon_proto_recv (void *socket, int with_identity, unsigned char *identity,
                      size_t *identity_len, recon_msg_t *msg, char *err, size_t errlen);

#endif
