/*  main.c — recon-web: the finance web page for the mismatch queue.

    Design decision: the daemon holds no state of its own beyond a small
    database pool — users, sessions, the queue and its history are all in
    PostgreSQL — so it can be restarted or run as several replicas freely.
    The only global is the signal flag.                                     */
#include "app.h"
#include "recon/config.h"
#include "recon/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t s_signal;

static void
s_on_signal (int sig)
{
    s_signal = sig;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: recon-web [--config FILE] [--log-format text|json] [--log-level L] [--listen ADDR]\n"
        "\n"
        "Serves the mismatch queue to finance on RECON_WEB_LISTEN (default 127.0.0.1:8080):\n"
        "sign in (users from `recon users add`), the queue worst first with filters and\n"
        "totals, each item's evidence and history, and the actions (reviewers). Settings:\n"
        "RECON_DATABASE_URL, RECON_WEB_LISTEN, RECON_WEB_SESSION (sign-in lifetime, 12h),\n"
        "RECON_WEB_SECURE_COOKIE (1 behind HTTPS), RECON_WEB_TRUSTED_HEADER (a reverse\n"
        "proxy's user header; off unless set). /livez answers ok. SIGTERM/SIGINT stop it.\n");
}

int
main (int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"log-format", required_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 'l'}, {"listen", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *file = getenv ("RECON_CONFIG"), *format = NULL, *level = NULL, *listen = NULL;
    int c, rc = 3;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 'f': format = optarg; break;
        case 'l': level = optarg; break;
        case 'L': listen = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "recon-web: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    recon_config_t *cfg = recon_config_new ();
    recon_log_t *log = recon_log_new ("recon-web", stderr);
    web_app_t *app = NULL;
    if (!cfg || !log)
        goto done;
    const char *flags[] = {"log_format", format, "log_level", level, "web_listen", listen, NULL};
    if (recon_config_load (cfg, file, environ, flags) < 0) {
        fprintf (stderr, "recon-web: %s\n", recon_config_errstr (cfg));
        rc = 2;
        goto done;
    }
    recon_config_apply_log (cfg, log);
    web_options_t o = {
        .database_url = recon_config_get (cfg, "database_url"),
        .listen = recon_config_get (cfg, "web_listen"),
        .session_us = recon_config_get_duration_us (cfg, "web_session"),
        .secure_cookie = recon_config_get_int (cfg, "web_secure_cookie") != 0,
        .trusted_header = recon_config_get (cfg, "web_trusted_header"),
        .log = log,
    };
    char err[512];
    app = web_app_new (&o, err, sizeof err);
    if (!app) {
        recon_log_kv (log, RECON_LOG_ERROR, "web.failed", "error", err, NULL);
        goto done;
    }
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    char port[16];
    snprintf (port, sizeof port, "%d", web_app_port (app));
    recon_log_kv (log, RECON_LOG_INFO, "web.listening", "listen", o.listen, "port", port,
                  "trusted_header", *o.trusted_header ? o.trusted_header : "off", NULL);
    while (!s_signal)
        pause ();
    recon_log_kv (log, RECON_LOG_INFO, "web.stopping", NULL);
    rc = 0;
done:
    web_app_destroy (&app);
    recon_log_destroy (&log);
    recon_config_destroy (&cfg);
    return rc;
}
