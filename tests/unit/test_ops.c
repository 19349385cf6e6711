/*  test_ops.c — the operations endpoint over real HTTP on 127.0.0.1:
    routes, status codes, readiness flips, a stalled loop, the collect
    hook, and address parsing.                                            */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "recon/metrics.h"
#include "recon/ops.h"

/*  Sends REQUEST to 127.0.0.1:PORT; returns the status, body in BODY.   */
static int
s_http (int port, const char *request, char *body, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal (connect (fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal (write (fd, request, strlen (request)), (ssize_t) strlen (request));
    char buf[16384];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t) n;
    buf[len] = '\0';
    close (fd);
    int status = 0;
    sscanf (buf, "HTTP/1.%*d %d", &status);
    const char *start = strstr (buf, "\r\n\r\n");
    snprintf (body, size, "%s", start ? start + 4 : "");
    return status;
}

static int
s_get (int port, const char *path, char *body, size_t size)
{
    char req[256];
    snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    return s_http (port, req, body, size);
}

static void
s_collect (void *arg)
{
    recon_metric_inc (arg, NULL, 1); /* counts scrapes */
}

static void
test_routes_and_readiness (void **state)
{
    (void) state;
    recon_metrics_t *reg = recon_metrics_new ();
    recon_metric_t *scrapes = recon_metrics_counter (reg, "recon_scrapes_total", "Scrapes.", NULL);
    char err[256], body[16384];
    recon_ops_options_t o = {.listen = "127.0.0.1:0", .metrics = reg, .collect = s_collect,
                             .collect_arg = scrapes, .stall_ms = 300};
    recon_ops_t *ops = recon_ops_new (&o, err, sizeof err);
    assert_non_null (ops);
    int port = recon_ops_port (ops);
    assert_true (port > 0);

    assert_int_equal (s_get (port, "/livez", body, sizeof body), 200);
    assert_int_equal (s_get (port, "/healthz", body, sizeof body), 200);
    /*  Not ready until the daemon says so.                                */
    assert_int_equal (s_get (port, "/readyz", body, sizeof body), 503);
    assert_string_equal (body, "not ready: starting\n");
    recon_ops_set_ready (ops, 1, NULL);
    assert_int_equal (s_get (port, "/readyz", body, sizeof body), 200);
    recon_ops_set_ready (ops, 0, "database unreachable");
    assert_int_equal (s_get (port, "/readyz", body, sizeof body), 503);
    assert_string_equal (body, "not ready: database unreachable\n");

    assert_int_equal (s_get (port, "/metrics", body, sizeof body), 200);
    assert_non_null (strstr (body, "# TYPE recon_scrapes_total counter\nrecon_scrapes_total 1\n"));
    assert_int_equal (s_get (port, "/metrics", body, sizeof body), 200);
    assert_non_null (strstr (body, "recon_scrapes_total 2\n"));

    assert_int_equal (s_get (port, "/nope", body, sizeof body), 404);
    assert_int_equal (s_get (port, "/metrics/../livez", body, sizeof body), 404);
    assert_int_equal (s_http (port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                    "Connection: close\r\n\r\nabc", body, sizeof body), 405);
    /*  Garbage is answered with an error, and the server goes on.        */
    s_http (port, "\x01\x02 not http\r\n\r\n", body, sizeof body);
    assert_int_equal (s_get (port, "/livez", body, sizeof body), 200);

    /*  A loop that stops beating is reported by /livez, and recovers.    */
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep (&ts, NULL);
    assert_int_equal (s_get (port, "/livez", body, sizeof body), 503);
    recon_ops_beat (ops);
    assert_int_equal (s_get (port, "/livez", body, sizeof body), 200);

    recon_ops_destroy (&ops);
    assert_null (ops);
    recon_ops_destroy (NULL);
    recon_ops_beat (NULL);
    recon_ops_set_ready (NULL, 1, NULL);
    recon_metrics_destroy (&reg);
}

static void
test_addresses (void **state)
{
    (void) state;
    char err[256];
    assert_true (recon_ops_disabled (""));
    assert_true (recon_ops_disabled ("off"));
    assert_false (recon_ops_disabled ("127.0.0.1:9464"));
    assert_int_equal (recon_ops_parse ("0.0.0.0:9464", err, sizeof err), 0);
    assert_int_equal (recon_ops_parse ("[::1]:9464", err, sizeof err), 0);
    assert_int_equal (recon_ops_parse ("[::]:0", err, sizeof err), 0);
    const char *bad[] = {"9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:65536",
                         "127.0.0.1:-1", "127.0.0.1:94x", "[::1]9464", "::1:9464", "[zz]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal (recon_ops_parse (bad[i], err, sizeof err), -1);
        assert_non_null (strstr (err, bad[i]));
    }
    /*  An address already in use is an error naming it.                 */
    recon_ops_options_t o = {.listen = "127.0.0.1:0"};
    recon_ops_t *a = recon_ops_new (&o, err, sizeof err);
    assert_non_null (a);
    char taken[64];
    snprintf (taken, sizeof taken, "127.0.0.1:%d", recon_ops_port (a));
    o.listen = taken;
    assert_null (recon_ops_new (&o, err, sizeof err));
    assert_non_null (strstr (err, taken));
    recon_ops_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_routes_and_readiness),
        cmocka_unit_test (test_addresses),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
