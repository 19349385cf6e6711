/*  checkpoint.c — progress hints in Redis (hiredis), failures swallowed.

    Design decision: after a failure the connection is dropped and not
    retried for a growing pause (0.5 s doubling to 30 s), so a dead Redis
    costs each batch nothing but a clock check, not a connect timeout.    */
#include "recon/checkpoint.h"
#include "recon/timestamp.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct recon_checkpoint {
    recon_log_t *log;
    redisContext *redis;
    char host[256];
    int port;
    char path[256]; /* unix socket, when set */
    int db;
    int64_t retry_at_ms, pause_ms;
    int64_t failures;
};

static int
s_parse_url (recon_checkpoint_t *cp, const char *url)
{
    cp->port = 6379;
    if (strncmp (url, "unix://", 7) == 0) {
        snprintf (cp->path, sizeof cp->path, "%s", url + 7);
        char *q = strchr (cp->path, '?');
        if (q) {
            *q = '\0';
            if (strncmp (q + 1, "db=", 3) == 0)
                cp->db = atoi (q + 4);
        }
        return cp->path[0] == '/' ? 0 : -1;
    }
    if (strncmp (url, "redis://", 8) != 0)
        return -1;
    const char *h = url + 8;
    const char *at = strchr (h, '@'); /* credentials are not supported: say so */
    if (at)
        return -1;
    size_t n = strcspn (h, ":/");
    if (n == 0 || n >= sizeof cp->host)
        return -1;
    memcpy (cp->host, h, n);
    cp->host[n] = '\0';
    h += n;
    if (*h == ':') {
        cp->port = atoi (h + 1);
        h += 1 + strspn (h + 1, "0123456789");
    }
    if (*h == '/')
        cp->db = atoi (h + 1);
    return cp->port > 0 && cp->port < 65536 ? 0 : -1;
}

recon_checkpoint_t *
recon_checkpoint_new (const char *redis_url, recon_log_t *log)
{
    recon_checkpoint_t *cp = calloc (1, sizeof *cp);
    if (!cp)
        return NULL;
    cp->log = log;
    cp->pause_ms = 500;
    if (s_parse_url (cp, redis_url) < 0) {
        recon_log_kv (log, RECON_LOG_ERROR, "redis.bad_url", "url", redis_url, NULL);
        free (cp);
        return NULL;
    }
    return cp;
}

void
recon_checkpoint_destroy (recon_checkpoint_t **p)
{
    if (!p || !*p)
        return;
    if ((*p)->redis)
        redisFree ((*p)->redis);
    free (*p);
    *p = NULL;
}

static void
s_drop (recon_checkpoint_t *cp, const char *why)
{
    recon_log_kv (cp->log, RECON_LOG_WARN, "redis.unavailable", "error", why, NULL);
    cp->failures++;
    if (cp->redis)
        redisFree (cp->redis);
    cp->redis = NULL;
    cp->retry_at_ms = recon_clock_ms () + cp->pause_ms;
    cp->pause_ms = cp->pause_ms * 2 > 30000 ? 30000 : cp->pause_ms * 2;
}

static redisContext *
s_connect (recon_checkpoint_t *cp)
{
    if (cp->redis)
        return cp->redis;
    if (recon_clock_ms () < cp->retry_at_ms)
        return NULL;
    struct timeval tv = {0, 500000};
    cp->redis = cp->path[0] ? redisConnectUnixWithTimeout (cp->path, tv)
                            : redisConnectWithTimeout (cp->host, cp->port, tv);
    if (!cp->redis || cp->redis->err) {
        s_drop (cp, cp->redis ? cp->redis->errstr : "out of memory");
        return NULL;
    }
    redisSetTimeout (cp->redis, tv);
    if (cp->db) {
        redisReply *r = redisCommand (cp->redis, "SELECT %d", cp->db);
        int ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject (r);
        if (!ok) {
            s_drop (cp, "SELECT failed");
            return NULL;
        }
    }
    cp->pause_ms = 500;
    return cp->redis;
}

/*  Runs a command; NULL (and the connection dropped) on failure.          */
static redisReply *
s_command (recon_checkpoint_t *cp, const char *fmt, ...)
{
    redisContext *c = s_connect (cp);
    if (!c)
        return NULL;
    va_list ap;
    va_start (ap, fmt);
    redisReply *r = redisvCommand (c, fmt, ap);
    va_end (ap);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        s_drop (cp, r ? r->str : c->errstr);
        freeReplyObject (r);
        return NULL;
    }
    return r;
}

int
recon_checkpoint_load (recon_checkpoint_t *cp, const char *token, recon_job_progress_t *out)
{
    redisReply *r = s_command (cp, "GET recon:job:%s:checkpoint", token);
    if (!r)
        return -1;
    int found = 0;
    if (r->type == REDIS_REPLY_STRING) {
        /*  Redis is a cache we do not control: parse defensively.         */
        json_error_t err;
        json_t *o = json_loadb (r->str, r->len, 0, &err);
        json_t *done = json_object_get (o, "orders_done"), *m = json_object_get (o, "mismatches");
        json_t *last = json_object_get (o, "last_order_id");
        if (json_is_integer (done) && json_is_integer (m) && json_is_string (last)
            && json_integer_value (done) >= 0 && json_integer_value (m) >= 0
            && json_string_length (last) <= RECON_ORDER_ID_MAX) {
            out->orders_done = json_integer_value (done);
            out->mismatches = json_integer_value (m);
            snprintf (out->last_order_id, sizeof out->last_order_id, "%s", json_string_value (last));
            found = 1;
        } else {
            recon_log_kv (cp->log, RECON_LOG_WARN, "redis.bad_checkpoint", NULL);
        }
        json_decref (o);
    }
    freeReplyObject (r);
    return found;
}

int
recon_checkpoint_save (recon_checkpoint_t *cp, const char *token,
                       const recon_job_progress_t *progress)
{
    json_t *o = json_pack ("{s:I, s:I, s:s}", "orders_done", (json_int_t) progress->orders_done,
                           "mismatches", (json_int_t) progress->mismatches, "last_order_id",
                           progress->last_order_id);
    char *text = o ? json_dumps (o, JSON_COMPACT) : NULL;
    json_decref (o);
    if (!text)
        return -1;
    redisReply *r = s_command (cp, "SET recon:job:%s:checkpoint %s EX 604800", token, text);
    free (text);
    int rc = r ? 0 : -1;
    freeReplyObject (r);
    return rc;
}

int
recon_checkpoint_clear (recon_checkpoint_t *cp, const char *token)
{
    redisReply *r = s_command (cp, "DEL recon:job:%s:checkpoint", token);
    int rc = r ? 0 : -1;
    freeReplyObject (r);
    return rc;
}

int64_t
recon_checkpoint_failures (const recon_checkpoint_t *cp)
{
    return cp ? cp->failures : 0;
}
