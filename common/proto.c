/*  proto.c — RECON1 codec (docs/PROTOCOL.md) and its zmq send/receive.

    Design decision: each command's body is described once, as a table of
    fields (key, enclosing object, type, limits, place in recon_msg_t), and
    both the decoder and the encoder walk that table. What we send is thus
    checked by exactly the rules the peer receives by, and an encoded message
    always decodes back to itself (the fuzzer checks this). Only DISCONNECT,
    whose body takes one of two shapes or none, chooses its table in code.  */
#include "recon/proto.h"
#include "recon/timestamp.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

_Static_assert (sizeof (json_int_t) == sizeof (int64_t), "json_int_t must be 64-bit");

typedef enum { S_INT, S_STR, S_STR_OR_NULL, S_TS, S_BOOL } s_kind_t;

typedef struct {
    const char *group;  /* enclosing object's key, NULL for the body itself */
    const char *key;
    s_kind_t kind;
    size_t offset;      /* of the value in recon_msg_t                       */
    int64_t min;        /* S_INT: smallest value (0 or 1); S_STR: length     */
    size_t size;        /* S_STR, S_STR_OR_NULL: size of the char array      */
    size_t flag;        /* S_STR_OR_NULL: offset of the int "has" flag       */
} s_field_t;

#define S_OFF(f)  offsetof (recon_msg_t, f)
#define S_SIZE(f) sizeof (((recon_msg_t *) 0)->f)
#define S_ID(group, key, f)    {group, key, S_INT, S_OFF (f), 1, 0, 0}
#define S_COUNT(group, key, f) {group, key, S_INT, S_OFF (f), 0, 0, 0}
#define S_STRING(key, f, min)  {NULL, key, S_STR, S_OFF (f), min, S_SIZE (f), 0}
#define S_TIME(key, f)         {NULL, key, S_TS, S_OFF (f), 0, 0, 0}
#define S_FLAG(key, f)         {NULL, key, S_BOOL, S_OFF (f), 0, 0, 0}

/*  A body shape. At most one enclosing object may be absent ("holding"):
    its presence is the int at OPTIONAL_FLAG.                             */
typedef struct {
    const s_field_t *fields;
    size_t nfields;
    const char *optional_group;
    size_t optional_flag;
} s_form_t;

static const s_field_t s_ready[] = {
    S_STRING ("worker_id", worker_id, 1),
    S_STRING ("version", version, 0),
    S_ID ("holding", "job_id", job_id),
    S_ID ("holding", "attempt", attempt),
};

static const s_field_t s_job[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "run_id", run_id),
    S_ID (NULL, "attempt", attempt),
    S_COUNT (NULL, "shard", shard),
    S_ID (NULL, "shards", shards),
    S_STRING ("range_lo", range_lo, 0),
    {NULL, "range_hi", S_STR_OR_NULL, S_OFF (range_hi), 0, S_SIZE (range_hi),
     S_OFF (has_range_hi)},
    S_TIME ("from", from),
    S_TIME ("to", to),
    S_TIME ("as_of", as_of),
    S_COUNT ("grace", "fulfillment", grace_fulfillment),
    S_COUNT ("grace", "ledger", grace_ledger),
    S_COUNT ("grace", "processor", grace_processor),
    S_COUNT ("grace", "cancel", grace_cancel),
    S_COUNT (NULL, "tolerance", tolerance),
};

static const s_field_t s_progress[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "attempt", attempt),
    S_COUNT (NULL, "orders_done", orders_done),
    S_COUNT (NULL, "mismatches", mismatches),
    S_STRING ("last_order_id", last_order_id, 0),
};

static const s_field_t s_done[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "attempt", attempt),
    S_COUNT (NULL, "orders_done", orders_done),
    S_COUNT (NULL, "mismatches", mismatches),
};

static const s_field_t s_failed[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "attempt", attempt),
    S_STRING ("error", error, 0),
    S_FLAG ("retryable", retryable),
};

static const s_field_t s_cancel[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "attempt", attempt),
};

static const s_field_t s_disconnect_worker[] = {
    S_ID (NULL, "job_id", job_id),
    S_ID (NULL, "attempt", attempt),
    S_FLAG ("handback", handback),
};

static const s_field_t s_disconnect_broker[] = {
    S_STRING ("reason", reason, 0),
};

#define S_FORM(table) {table, sizeof table / sizeof table[0], NULL, 0}

static const s_form_t s_form_ready = {s_ready, sizeof s_ready / sizeof s_ready[0],
                                      "holding", S_OFF (has_holding)};
static const s_form_t s_form_job = S_FORM (s_job);
static const s_form_t s_form_progress = S_FORM (s_progress);
static const s_form_t s_form_done = S_FORM (s_done);
static const s_form_t s_form_failed = S_FORM (s_failed);
static const s_form_t s_form_cancel = S_FORM (s_cancel);
static const s_form_t s_form_disconnect_worker = S_FORM (s_disconnect_worker);
static const s_form_t s_form_disconnect_broker = S_FORM (s_disconnect_broker);

enum { S_BODY_NONE, S_BODY_REQUIRED, S_BODY_OPTIONAL };

static const struct {
    const char *name;
    int body;
    const s_form_t *form;   /* NULL: chosen per message (DISCONNECT)       */
} s_commands[] = {
    [RECON_CMD_READY] = {"READY", S_BODY_REQUIRED, &s_form_ready},
    [RECON_CMD_HEARTBEAT] = {"HEARTBEAT", S_BODY_NONE, NULL},
    [RECON_CMD_JOB] = {"JOB", S_BODY_REQUIRED, &s_form_job},
    [RECON_CMD_PROGRESS] = {"PROGRESS", S_BODY_REQUIRED, &s_form_progress},
    [RECON_CMD_DONE] = {"DONE", S_BODY_REQUIRED, &s_form_done},
    [RECON_CMD_FAILED] = {"FAILED", S_BODY_REQUIRED, &s_form_failed},
    [RECON_CMD_CANCEL] = {"CANCEL", S_BODY_REQUIRED, &s_form_cancel},
    [RECON_CMD_DISCONNECT] = {"DISCONNECT", S_BODY_OPTIONAL, NULL},
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

const char *
recon_cmd_name (recon_cmd_t cmd)
{
    if ((unsigned) cmd >= S_NCOMMANDS)
        return NULL;
    return s_commands[cmd].name;
}

/* ---- errors ------------------------------------------------------------ */

static int s_fail (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Fills ERR and returns RECON_PROTO_EMALFORMED. The text ends up in logs,
    and jansson's messages may quote input bytes: anything but printable
    ASCII becomes '?', so a hostile peer cannot forge log lines.          */
static int
s_fail (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return RECON_PROTO_EMALFORMED;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
    for (char *p = err; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
    return RECON_PROTO_EMALFORMED;
}

/*  Network bytes for an error message: at most 32, non-printable ones as
    \xNN, "..." when cut. OUT must hold 32 * 4 + 4 bytes.                  */
#define S_QUOTE_SIZE (32 * 4 + 4)
static const char *
s_quote (const void *data, size_t len, char *out)
{
    const unsigned char *p = data;
    size_t n = 0;
    for (size_t i = 0; i < len && i < 32; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'')
            out[n++] = (char) p[i];
        else
            n += (size_t) snprintf (out + n, 5, "\\x%02x", p[i]);
    }
    out[n] = '\0';
    if (len > 32)
        strcat (out, "...");
    return out;
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct {
    const char *cmd;    /* prefixes every message                          */
    char *err;
    size_t errlen;
} s_ctx_t;

static int
s_field_fail (const s_ctx_t *ctx, const s_field_t *f, const char *what)
{
    return s_fail (ctx->err, ctx->errlen, "%s: field '%s%s%s' %s", ctx->cmd,
                   f->group ? f->group : "", f->group ? "." : "", f->key, what);
}

/*  The string value V of field F into DST (SIZE bytes), within limits.   */
static int
s_decode_string (const s_ctx_t *ctx, const s_field_t *f, const json_t *v, char *dst,
                 size_t size)
{
    const char *s = json_string_value (v);
    size_t len = json_string_length (v);
    char what[64];
    if (memchr (s, '\0', len))
        return s_field_fail (ctx, f, "contains a NUL character");
    if (len > size - 1) {
        snprintf (what, sizeof what, "is longer than %zu bytes", size - 1);
        return s_field_fail (ctx, f, what);
    }
    if (len < (size_t) f->min)
        return s_field_fail (ctx, f, "must not be empty");
    memcpy (dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int
s_decode_field (const s_ctx_t *ctx, const s_field_t *f, const json_t *v, recon_msg_t *out)
{
    char *base = (char *) out;
    switch (f->kind) {
    case S_INT:
        if (!json_is_integer (v) || json_integer_value (v) < f->min)
            return s_field_fail (ctx, f, f->min > 0 ? "must be an integer > 0"
                                                    : "must be an integer >= 0");
        *(int64_t *) (base + f->offset) = json_integer_value (v);
        return 0;
    case S_STR_OR_NULL:
        if (json_is_null (v))
            return 0; /* flag and string stay zero */
        if (!json_is_string (v))
            return s_field_fail (ctx, f, "must be a string or null");
        *(int *) (base + f->flag) = 1;
        return s_decode_string (ctx, f, v, base + f->offset, f->size);
    case S_STR:
        if (!json_is_string (v))
            return s_field_fail (ctx, f, "must be a string");
        return s_decode_string (ctx, f, v, base + f->offset, f->size);
    case S_TS: {
        int64_t t;
        if (!json_is_string (v))
            return s_field_fail (ctx, f, "must be an ISO 8601 timestamp string");
        /*  The parser also refuses times outside years 0001..9999 UTC
            (an offset can carry a date across either end).               */
        if (recon_timestamp_parse (json_string_value (v), json_string_length (v), &t) < 0)
            return s_field_fail (ctx, f, "is not a valid ISO 8601 timestamp in years 0001..9999 UTC");
        *(int64_t *) (base + f->offset) = t;
        return 0;
    }
    case S_BOOL:
        if (!json_is_boolean (v))
            return s_field_fail (ctx, f, "must be true or false");
        *(int *) (base + f->offset) = json_is_true (v);
        return 0;
    }
    return s_field_fail (ctx, f, "has an unknown kind"); /* not reached */
}

static int
s_decode_form (const s_ctx_t *ctx, const s_form_t *form, const json_t *root, recon_msg_t *out)
{
    for (size_t i = 0; i < form->nfields; i++) {
        const s_field_t *f = &form->fields[i];
        const json_t *obj = root;
        if (f->group) {
            obj = json_object_get (root, f->group);
            int optional = form->optional_group && strcmp (f->group, form->optional_group) == 0;
            if (!obj && optional)
                continue;
            if (!obj)
                return s_fail (ctx->err, ctx->errlen, "%s: missing field '%s'", ctx->cmd,
                               f->group);
            if (!json_is_object (obj))
                return s_fail (ctx->err, ctx->errlen, "%s: field '%s' must be an object",
                               ctx->cmd, f->group);
            if (optional)
                *(int *) ((char *) out + form->optional_flag) = 1;
        }
        const json_t *v = json_object_get (obj, f->key);
        if (!v)
            return s_fail (ctx->err, ctx->errlen, "%s: missing field '%s%s%s'", ctx->cmd,
                           f->group ? f->group : "", f->group ? "." : "", f->key);
        int rc = s_decode_field (ctx, f, v, out);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const char *
s_json_type (const json_t *v)
{
    switch (json_typeof (v)) {
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "not an object";
    }
}

static int
s_decode_body (const s_ctx_t *ctx, recon_cmd_t cmd, const void *data, size_t size,
               recon_msg_t *out)
{
    json_error_t jerr;
    int rc = 0;
    if (size > RECON_PROTO_BODY_MAX)
        return s_fail (ctx->err, ctx->errlen, "%s: body of %zu bytes exceeds %zu bytes",
                       ctx->cmd, size, RECON_PROTO_BODY_MAX);
    /*  JSON_ALLOW_NUL so that "\u0000" reaches our own check and its
        message names the field; JSON_DECODE_ANY so that a scalar body gets
        the same "not an object" message as an array.                      */
    json_t *root = json_loadb (size ? data : "", size,
                               JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (json_error_code (&jerr) == json_error_out_of_memory) {
            s_fail (ctx->err, ctx->errlen, "%s: out of memory parsing the body", ctx->cmd);
            return RECON_PROTO_ENOMEM;
        }
        return s_fail (ctx->err, ctx->errlen, "%s: body is not valid JSON: %s (byte %d)",
                       ctx->cmd, jerr.text, jerr.position);
    }
    if (!json_is_object (root)) {
        rc = s_fail (ctx->err, ctx->errlen, "%s: body is not a JSON object but %s", ctx->cmd,
                     s_json_type (root));
        goto cleanup;
    }
    const s_form_t *form = s_commands[cmd].form;
    if (cmd == RECON_CMD_DISCONNECT) {
        if (json_object_get (root, "job_id")) {
            form = &s_form_disconnect_worker;
            out->has_job = 1;
        } else if (json_object_get (root, "reason"))
            form = &s_form_disconnect_broker;
        else {
            rc = s_fail (ctx->err, ctx->errlen,
                         "%s: body needs 'job_id' (worker) or 'reason' (broker)", ctx->cmd);
            goto cleanup;
        }
    }
    rc = s_decode_form (ctx, form, root, out);
cleanup:
    json_decref (root);
    return rc;
}

int
recon_msg_decode (const void *const *frames, const size_t *sizes, size_t nframes,
                  recon_msg_t *out, char *err, size_t errlen)
{
    char quoted[S_QUOTE_SIZE];
    int rc = 0;
    memset (out, 0, sizeof *out);
    if (err && errlen)
        *err = '\0';
    if (nframes < 2) {
        rc = s_fail (err, errlen, "too few frames (%zu): need header and command", nframes);
        goto cleanup;
    }
    if (nframes > 3) {
        rc = s_fail (err, errlen, "too many frames (%zu): at most header, command, body",
                     nframes);
        goto cleanup;
    }
    size_t hlen = strlen (RECON_PROTO_HEADER);
    if (sizes[0] != hlen || memcmp (frames[0], RECON_PROTO_HEADER, hlen) != 0) {
        rc = s_fail (err, errlen, "bad header '%s', expected '" RECON_PROTO_HEADER "'",
                     s_quote (frames[0], sizes[0], quoted));
        goto cleanup;
    }
    recon_cmd_t cmd = 0;
    for (size_t i = 1; i < S_NCOMMANDS; i++)
        if (sizes[1] == strlen (s_commands[i].name)
            && memcmp (frames[1], s_commands[i].name, sizes[1]) == 0)
            cmd = (recon_cmd_t) i;
    if (!cmd) {
        rc = s_fail (err, errlen, "unknown command '%s'", s_quote (frames[1], sizes[1], quoted));
        goto cleanup;
    }
    s_ctx_t ctx = {s_commands[cmd].name, err, errlen};
    out->cmd = cmd;
    if (nframes == 3 && s_commands[cmd].body == S_BODY_NONE)
        rc = s_fail (err, errlen, "%s: unexpected body frame", ctx.cmd);
    else if (nframes == 2 && s_commands[cmd].body == S_BODY_REQUIRED)
        rc = s_fail (err, errlen, "%s: missing body frame", ctx.cmd);
    else if (nframes == 3)
        rc = s_decode_body (&ctx, cmd, frames[2], sizes[2], out);
cleanup:
    if (rc < 0)
        memset (out, 0, sizeof *out);
    return rc;
}

/* ---- encoding ---------------------------------------------------------- */

static json_t *
s_encode_string (const char *s, size_t size, size_t min)
{
    size_t len = strnlen (s, size);
    if (len == size || len < min)
        return NULL;
    return json_stringn (s, len); /* NULL for invalid UTF-8 too */
}

/*  The JSON value of field F of MSG, or NULL when it breaks the rules.   */
static json_t *
s_encode_field (const s_field_t *f, const recon_msg_t *msg)
{
    const char *base = (const char *) msg;
    switch (f->kind) {
    case S_INT: {
        int64_t i = *(const int64_t *) (base + f->offset);
        return i < f->min ? NULL : json_integer (i);
    }
    case S_STR_OR_NULL:
        if (!*(const int *) (base + f->flag))
            return json_null ();
        return s_encode_string (base + f->offset, f->size, 0);
    case S_STR:
        return s_encode_string (base + f->offset, f->size, (size_t) f->min);
    case S_TS: {
        int64_t t = *(const int64_t *) (base + f->offset);
        char buf[RECON_TIMESTAMP_BUFSIZE];
        if (!recon_timestamp_in_range (t))
            return NULL;
        recon_timestamp_format (t, buf);
        return json_string (buf);
    }
    case S_BOOL:
        return json_boolean (*(const int *) (base + f->offset));
    }
    return NULL;
}

static const s_form_t *
s_encode_form_of (const recon_msg_t *msg)
{
    if (msg->cmd != RECON_CMD_DISCONNECT)
        return s_commands[msg->cmd].form;
    if (msg->has_job)
        return &s_form_disconnect_worker;
    return msg->reason[0] ? &s_form_disconnect_broker : NULL;
}

int
recon_msg_encode_body (const recon_msg_t *msg, char **body, size_t *len)
{
    json_t *root = NULL;
    int rc = RECON_PROTO_EINVAL;
    *body = NULL;
    *len = 0;
    if (!recon_cmd_name (msg->cmd))
        goto cleanup;
    const s_form_t *form = s_encode_form_of (msg);
    if (!form) {
        rc = 0;
        goto cleanup;
    }
    root = json_object ();
    if (!root) {
        rc = RECON_PROTO_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < form->nfields; i++) {
        const s_field_t *f = &form->fields[i];
        json_t *obj = root;
        if (f->group) {
            if (form->optional_group && strcmp (f->group, form->optional_group) == 0
                && !*(const int *) ((const char *) msg + form->optional_flag))
                continue;
            obj = json_object_get (root, f->group);
            if (!obj) {
                obj = json_object ();
                if (json_object_set_new (root, f->group, obj) < 0) {
                    rc = RECON_PROTO_ENOMEM;
                    goto cleanup;
                }
            }
        }
        /*  An allocation failure inside jansson is also NULL here; at these
            sizes it is not worth telling apart from a bad value.          */
        json_t *v = s_encode_field (f, msg);
        if (!v)
            goto cleanup;
        if (json_object_set_new (obj, f->key, v) < 0) {
            rc = RECON_PROTO_ENOMEM;
            goto cleanup;
        }
    }
    size_t n = json_dumpb (root, NULL, 0, JSON_COMPACT);
    if (n == 0 || n > RECON_PROTO_BODY_MAX)
        goto cleanup; /* cannot happen with the limits above */
    *body = malloc (n);
    if (!*body) {
        rc = RECON_PROTO_ENOMEM;
        goto cleanup;
    }
    *len = json_dumpb (root, *body, n, JSON_COMPACT);
    rc = 0;
cleanup:
    json_decref (root);
    if (rc < 0) {
        free (*body);
        *body = NULL;
        *len = 0;
        errno = rc == RECON_PROTO_ENOMEM ? ENOMEM : EINVAL;
    }
    return rc;
}

/* ---- zmq --------------------------------------------------------------- */

int
recon_proto_send (void *socket, const void *identity, size_t identity_len,
                  const recon_msg_t *msg)
{
    char *body = NULL;
    size_t body_len = 0;
    int rc = recon_msg_encode_body (msg, &body, &body_len);
    if (rc < 0)
        goto cleanup;
    const char *name = recon_cmd_name (msg->cmd);
    const void *data[5];
    size_t size[5], n = 0;
    if (identity) {
        data[n] = identity;
        size[n++] = identity_len;
    }
    data[n] = "";
    size[n++] = 0;
    data[n] = RECON_PROTO_HEADER;
    size[n++] = strlen (RECON_PROTO_HEADER);
    data[n] = name;
    size[n++] = strlen (name);
    if (body) {
        data[n] = body;
        size[n++] = body_len;
    }
    /*  zmq queues a multipart message atomically: if the first part is
        taken, so are the others, so a DONTWAIT failure never leaves half a
        message behind.                                                    */
    for (size_t i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send (socket, data[i], size[i], flags) < 0) {
            rc = errno == EAGAIN ? RECON_PROTO_EAGAIN : RECON_PROTO_ESOCKET;
            goto cleanup;
        }
    }
cleanup:;
    int saved = errno;
    free (body);
    errno = saved;
    return rc;
}

/*  Receives the next part of a message whose first part has arrived; the
    rest is already queued, so only a signal can interrupt it.             */
static int
s_recv_more (zmq_msg_t *part, void *socket)
{
    for (;;) {
        if (zmq_msg_recv (part, socket, 0) >= 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int
recon_proto_recv (void *socket, int with_identity, unsigned char *identity,
                  size_t *identity_len, recon_msg_t *msg, char *err, size_t errlen)
{
    /*  identity, delimiter, header, command, body: anything past these is
        counted and dropped, never stored.                                 */
    enum { S_KEEP_MAX = 5 };
    zmq_msg_t parts[S_KEEP_MAX], extra;
    size_t keep = with_identity ? S_KEEP_MAX : S_KEEP_MAX - 1;
    size_t capacity = identity_len ? *identity_len : 0;
    size_t nparts = 0, total = 0;
    int rc = 0, more = 1;

    memset (msg, 0, sizeof *msg);
    if (identity_len)
        *identity_len = 0;
    if (err && errlen)
        *err = '\0';
    while (more) {
        zmq_msg_t *part = nparts < keep ? &parts[nparts] : &extra;
        zmq_msg_init (part);
        int got = total == 0 ? zmq_msg_recv (part, socket, ZMQ_DONTWAIT) : s_recv_more (part, socket);
        if (got < 0) {
            int saved = errno;
            zmq_msg_close (part);
            errno = saved;
            if (total == 0 && (saved == EAGAIN || saved == EINTR))
                rc = RECON_PROTO_EAGAIN;
            else {
                rc = RECON_PROTO_ESOCKET;
                if (err && errlen)
                    snprintf (err, errlen, "receive failed: %s", zmq_strerror (saved));
            }
            goto cleanup;
        }
        total++;
        more = zmq_msg_more (part);
        if (part == &extra)
            zmq_msg_close (&extra);
        else
            nparts++;
    }

    size_t first = 0;
    if (with_identity) {
        size_t size = zmq_msg_size (&parts[0]);
        if (identity && identity_len) {
            if (size > capacity) {
                rc = s_fail (err, errlen, "identity of %zu bytes exceeds the %zu-byte buffer",
                             size, capacity);
                goto cleanup;
            }
            memcpy (identity, zmq_msg_data (&parts[0]), size);
            *identity_len = size;
        }
        first = 1;
    }
    if (nparts <= first || zmq_msg_size (&parts[first]) != 0) {
        rc = s_fail (err, errlen, "missing the empty delimiter frame");
        goto cleanup;
    }
    first++;
    if (total > keep) {
        rc = s_fail (err, errlen, "too many frames (%zu): at most header, command, body",
                     total - first);
        goto cleanup;
    }
    const void *frames[S_KEEP_MAX];
    size_t sizes[S_KEEP_MAX];
    for (size_t i = first; i < nparts; i++) {
        frames[i - first] = zmq_msg_data (&parts[i]);
        sizes[i - first] = zmq_msg_size (&parts[i]);
    }
    rc = recon_msg_decode (frames, sizes, nparts - first, msg, err, errlen);
cleanup:;
    int saved = errno;
    for (size_t i = 0; i < nparts; i++)
        zmq_msg_close (&parts[i]);
    errno = saved;
    return rc;
}
