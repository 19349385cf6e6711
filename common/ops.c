/*  ops.c — /metrics, /livez, /readyz on libmicrohttpd.

    Design decision: health is two atomics the daemon's loop writes (last
    beat, ready + reason) and the HTTP threads only read, so a probe never
    takes a lock the loop could hold, and a loop stuck in a database call
    shows up as a stale beat rather than a hung probe.                    */
#include "recon/ops.h"
#include "recon/timestamp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct recon_ops {
    struct MHD_Daemon *daemon;
    recon_metrics_t *metrics;
    void (*collect) (void *arg);
    void *collect_arg;
    int64_t stall_ms;
    int port;
    _Atomic int64_t beat_ms;
    atomic_int ready;
    _Atomic (const char *) why;
};

int
recon_ops_disabled (const char *listen)
{
    return !listen || !*listen || strcmp (listen, "off") == 0;
}

int
recon_ops_sockaddr (const char *listen, struct sockaddr_storage *ss, char *err, size_t size)
{
    memset (ss, 0, sizeof *ss);
    char host[64];
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr (listen, ']');
        if (!close || close[1] != ':' || (size_t) (close - listen - 1) >= sizeof host) {
            snprintf (err, size, "'%s': expected [IPv6]:port", listen);
            return -1;
        }
        memcpy (host, listen + 1, (size_t) (close - listen - 1));
        host[close - listen - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr (listen, ':');
        if (!colon || (size_t) (colon - listen) >= sizeof host) {
            snprintf (err, size, "'%s': expected IPv4:port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464)",
                      listen);
            return -1;
        }
        memcpy (host, listen, (size_t) (colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    errno = 0;
    long port = strtol (colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 0 || port > 65535) {
        snprintf (err, size, "'%s': port must be 0-65535", listen);
        return -1;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) ss;
    if (listen[0] != '[' && inet_pton (AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons ((uint16_t) port);
        return 0;
    }
    if (listen[0] == '[' && inet_pton (AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons ((uint16_t) port);
        return 0;
    }
    snprintf (err, size, "'%s': '%s' is not a numeric IP address", listen, host);
    return -1;
}

int
recon_ops_parse (const char *listen, char *err, size_t size)
{
    struct sockaddr_storage ss;
    return recon_ops_sockaddr (listen, &ss, err, size);
}

static enum MHD_Result
s_reply (struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
         int owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free (body);
        return MHD_NO;
    }
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response (c, status, r);
    MHD_destroy_response (r);
    return rc;
}

static enum MHD_Result
s_text (struct MHD_Connection *c, unsigned status, const char *text)
{
    return s_reply (c, status, "text/plain; charset=utf-8", (char *) text, strlen (text), 0);
}

static enum MHD_Result
s_metrics (recon_ops_t *ops, struct MHD_Connection *c)
{
    if (ops->collect)
        ops->collect (ops->collect_arg);
    size_t len = 0;
    char *body = ops->metrics ? recon_metrics_render (ops->metrics, &len) : strdup ("");
    if (!body)
        return s_text (c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return s_reply (c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, 1);
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **state)
{
    (void) version;
    (void) upload_data;
    recon_ops_t *ops = cls;
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0 && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0) {
        *upload_size = 0; /* a body is not read: the connection is closed after */
        *state = ops;
        return s_text (c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    if (strcmp (url, "/metrics") == 0)
        return s_metrics (ops, c);
    if (strcmp (url, "/livez") == 0 || strcmp (url, "/healthz") == 0) {
        int64_t age = recon_clock_ms () - atomic_load (&ops->beat_ms);
        return age <= ops->stall_ms ? s_text (c, MHD_HTTP_OK, "ok\n")
                                    : s_text (c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                              "main loop stalled\n");
    }
    if (strcmp (url, "/readyz") == 0) {
        if (atomic_load (&ops->ready))
            return s_text (c, MHD_HTTP_OK, "ready\n");
        char *body = NULL;
        int n = asprintf (&body, "not ready: %s\n", atomic_load (&ops->why));
        if (n < 0)
            return s_text (c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
        return s_reply (c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", body,
                        (size_t) n, 1);
    }
    return s_text (c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /livez, /healthz, /readyz\n");
}

recon_ops_t *
recon_ops_new (const recon_ops_options_t *o, char *err, size_t size)
{
    struct sockaddr_storage ss;
    if (recon_ops_sockaddr (o->listen, &ss, err, size) < 0)
        return NULL;
    recon_ops_t *ops = calloc (1, sizeof *ops);
    if (!ops) {
        snprintf (err, size, "out of memory");
        return NULL;
    }
    ops->metrics = o->metrics;
    ops->collect = o->collect;
    ops->collect_arg = o->collect_arg;
    ops->stall_ms = o->stall_ms > 0 ? o->stall_ms : 60000;
    atomic_store (&ops->beat_ms, recon_clock_ms ());
    atomic_store (&ops->why, "starting");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
                     | MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    ops->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_handle, ops,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned) 32,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                                    MHD_OPTION_END);
    if (!ops->daemon) {
        snprintf (err, size, "cannot listen on %s: %s", o->listen,
                  errno ? strerror (errno) : "libmicrohttpd refused to start");
        free (ops);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (ops->daemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    ops->port = info ? info->port : 0;
    return ops;
}

void
recon_ops_destroy (recon_ops_t **p)
{
    if (!p || !*p)
        return;
    MHD_stop_daemon ((*p)->daemon);
    free (*p);
    *p = NULL;
}

int
recon_ops_port (const recon_ops_t *ops)
{
    return ops ? ops->port : 0;
}

void
recon_ops_beat (recon_ops_t *ops)
{
    if (ops)
        atomic_store (&ops->beat_ms, recon_clock_ms ());
}

void
recon_ops_set_ready (recon_ops_t *ops, int ready, const char *why)
{
    if (!ops)
        return;
    if (!ready)
        atomic_store (&ops->why, why);
    atomic_store (&ops->ready, ready);
}
