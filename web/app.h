/*  app.h — recon-web's HTTP application: sign-in, the queue, the detail
    page and the actions, on libmicrohttpd.                                 */
#ifndef RECON_WEB_APP_H
#define RECON_WEB_APP_H

#include <stdint.h>

#include "recon/log.h"

typedef struct web_app web_app_t;

typedef struct {
    const char *database_url;
    const char *listen;          /* IP:port; port 0 picks a free one */
    int64_t session_us;          /* sign-in lifetime */
    int secure_cookie;           /* add Secure to the session cookie */
    const char *trusted_header;  /* trusted-proxy user header; NULL or "" = off */
    recon_log_t *log;            /* not owned */
} web_options_t;

/*  Connects its database pool and starts serving. NULL with ERR on failure. */
web_app_t *web_app_new (const web_options_t *o, char *err, size_t size);

/*  The port it listens on (useful with port 0).                           */
int web_app_port (const web_app_t *app);

/*  Stops serving (waits for requests in flight) and frees. Accepts NULL.  */
void web_app_destroy (web_app_t **p);

#endif
