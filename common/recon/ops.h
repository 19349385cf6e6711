/*  recon/ops.h — the daemons' operations endpoint over HTTP:
    GET /metrics (Prometheus text), /livez (alias /healthz), /readyz.

    libmicrohttpd serves it from its own threads (one per connection, so a
    slow /metrics never delays a probe). The daemon's loop only touches
    atomics here: recon_ops_beat on every turn (/livez answers 503 once the
    loop has not turned for STALL_MS) and recon_ops_set_ready when what it
    depends on comes or goes (/readyz answers 503 with the reason). The
    metrics registry is thread-safe on its own; an optional COLLECT hook
    runs in the HTTP thread just before /metrics renders, for values read
    at scrape time (it must be thread-safe). Only GET and HEAD; every other
    method is 405, every other path 404. Nothing is logged per request.  */
#ifndef RECON_OPS_H
#define RECON_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "recon/metrics.h"

typedef struct recon_ops recon_ops_t;

typedef struct {
    const char *listen;            /* "IPv4:port" or "[IPv6]:port"; port 0: any free one */
    recon_metrics_t *metrics;      /* not owned; NULL: /metrics is empty */
    void (*collect) (void *arg);   /* may be NULL */
    void *collect_arg;
    int64_t stall_ms;              /* /livez fails after this long without a beat */
} recon_ops_options_t;

/*  1 when LISTEN turns the endpoint off ("" or "off"), else 0.            */
int recon_ops_disabled (const char *listen);

/*  LISTEN ("IPv4:port", "[IPv6]:port") into SS, for any HTTP server of
    ours (recon-web uses it too). 0, or -1 with the reason in ERR.          */
struct sockaddr_storage;
int recon_ops_sockaddr (const char *listen, struct sockaddr_storage *ss, char *err, size_t size);

/*  Checks LISTEN's form without binding. 0, or -1 with the reason in ERR. */
int recon_ops_parse (const char *listen, char *err, size_t size);

/*  Binds and starts serving. Not ready until recon_ops_set_ready. Returns
    the endpoint, or NULL with the reason in ERR (bad address, address in
    use, out of memory).                                                   */
recon_ops_t *recon_ops_new (const recon_ops_options_t *options, char *err, size_t size);

/*  Stops serving (waits for requests in flight) and frees; accepts NULL
    and sets *P to NULL.                                                    */
void recon_ops_destroy (recon_ops_t **p);

/*  The TCP port actually bound (useful with port 0).                      */
int recon_ops_port (const recon_ops_t *ops);

/*  The loop is alive. Accepts NULL (endpoint off).                        */
void recon_ops_beat (recon_ops_t *ops);

/*  Ready or not; WHY (a string literal, not copied) is /readyz's body when
    not ready. Accepts NULL.                                                */
void recon_ops_set_ready (recon_ops_t *ops, int ready, const char *why);

#endif
