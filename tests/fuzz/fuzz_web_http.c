/*  fuzz_web_http.c — libFuzzer target for recon-web's HTTP request
    handlers: the real application (web/app.c on libmicrohttpd) serving a
    real PostgreSQL database, fed raw HTTP requests over loopback.

    Design decision: the handlers are fuzzed whole, through the socket, not
    function by function: routing, the session cookie, the CSRF check, the
    form decoder, the filters that become SQL parameters, the detail page
    and the actions are what a hostile client reaches, so that is what the
    input drives. A reviewer's session and its CSRF token are at hand (the
    input decides whether to send them), so the fuzzer gets past sign-in.

    Input: byte 0 picks the method (GET, POST, HEAD, or another verb),
    byte 1 is flags (1: the session cookie, 2: the CSRF token appended to
    the body, 4: a garbage cookie, 8: an extra header from the input); the
    rest is the request target, then after the first newline the body.

    What must hold for any input: a well-formed HTTP/1.1 response with a
    status below 500 (the database is up, so a 5xx is a handler bug), no
    <script in any page (everything from the request is escaped), and no
    crash, leak or undefined behaviour in the handlers (ASan + UBSan).

    Needs RECON_DATABASE_URL (./dev test runs the fuzz suite under recon
    sandbox); it makes and migrates its own database, fuzz_web.          */
#include "app.h"
#include "recon/migrate.h"
#include "recon/pg.h"
#include "recon/users.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static web_app_t *s_app;
static recon_db_t *s_db;
static recon_log_t *s_log;
static recon_user_t s_user;
static char s_token[RECON_TOKEN_HEX];
static int s_port;

static void
s_die (const char *what, const char *why)
{
    fprintf (stderr, "fuzz_web_http: %s: %s\n", what, why);
    exit (1);
}

static void
s_check_at (int ok, int line, const char *resp)
{
    if (!ok) {
        fprintf (stderr, "fuzz_web_http.c:%d: invariant violated; response:\n%.600s\n", line,
                 resp && *resp ? resp : "(none: the connection closed without one)");
        abort ();
    }
}
#define s_check(ok, resp) s_check_at ((ok), __LINE__, (resp))

static void
s_sql (recon_db_t *db, const char *sql)
{
    if (recon_db_exec (db, sql) < 0)
        s_die (sql, recon_db_errstr (db));
}

static void
s_teardown (void)
{
    web_app_destroy (&s_app);
    recon_db_destroy (&s_db);
    recon_log_destroy (&s_log);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    const char *root = getenv ("RECON_DATABASE_URL");
    if (!root || !strstr (root, "/recon?"))
        s_die ("RECON_DATABASE_URL", "not set; run under `recon sandbox --`");
    recon_db_t *admin = recon_db_connect (root, "fuzz_web_http");
    if (!recon_db_ok (admin))
        s_die ("connect", recon_db_errstr (admin));
    s_sql (admin, "DROP DATABASE IF EXISTS fuzz_web WITH (FORCE)");
    s_sql (admin, "CREATE DATABASE fuzz_web");
    recon_db_destroy (&admin);

    /*  The sandbox's URL names database "recon": the same with fuzz_web.  */
    static char url[1024];
    const char *at = strstr (root, "/recon?");
    snprintf (url, sizeof url, "%.*s/fuzz_web?%s", (int) (at - root), root, at + 7);
    s_db = recon_db_connect (url, "fuzz_web_http");
    if (!recon_db_ok (s_db))
        s_die ("connect", recon_db_errstr (s_db));
    s_log = recon_log_new ("fuzz_web_http", fopen ("/dev/null", "w"));
    if (recon_migrate_apply (s_db, recon_migration_set_find ("recon"), s_log, NULL) < 0)
        s_die ("migrate", recon_db_errstr (s_db));
    s_sql (s_db,
           "INSERT INTO recon.mismatches (order_id, kind, severity, status, amount_minor, "
           "currency, summary, next_step, evidence, facts_hash) "
           "SELECT 'ord_' || g, (ARRAY['duplicate_charge','overcharged','missing_in_ledger'])[1 + g % 3], "
           "(ARRAY['critical','high','medium'])[1 + g % 3], 'open', g * 1001, "
           "(ARRAY['USD','JPY','KWD'])[1 + g % 3], 'Charged twice for ord_' || g || '.', "
           "'Refund the duplicate.', '{\"processor\":[{\"txn_id\":\"t<b>\",\"amount_minor\":1}],"
           "\"ledger\":[],\"fulfillment\":null}', 'h' FROM generate_series(1, 5) g");
    char err[200];
    if (recon_users_init () < 0
        || recon_users_add (s_db, "fuzz", "reviewer", "a fuzzing password", err, sizeof err) < 0)
        s_die ("users", err);
    web_options_t o = {.database_url = url, .listen = "127.0.0.1:0",
                       .session_us = INT64_C (3600000000), .log = s_log};
    s_app = web_app_new (&o, err, sizeof err);
    if (!s_app)
        s_die ("web_app_new", err);
    s_port = web_app_port (s_app);
    atexit (s_teardown);
    return 0;
}

/*  A reviewer's session that is still valid (an input may have signed
    it out with POST /logout).                                            */
static void
s_session (void)
{
    recon_user_t u;
    if (s_token[0] && recon_session_find (s_db, s_token, &u) == 0)
        return;
    if (recon_users_get (s_db, "fuzz", &s_user) != 0
        || recon_session_start (s_db, &s_user, INT64_C (3600000000), s_token) < 0)
        s_die ("session", recon_db_errstr (s_db));
}

/*  Sends REQ (LEN bytes) and reads the whole response into a new string. */
static char *
s_exchange (const char *req, size_t len)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port)};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int tries = 0;
    while (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        if (++tries == 100)
            s_die ("connect to recon-web", strerror (errno));
        close (fd);
        usleep (10000);
        fd = socket (AF_INET, SOCK_STREAM, 0);
        setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (tries)
        fprintf (stderr, "fuzz_web_http: connect needed %d tries (%s)\n", tries + 1, strerror (errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = write (fd, req + off, len - off);
        if (n <= 0)
            break;  /* the server may answer and close before reading all */
        off += (size_t) n;
    }
    /*  No shutdown(SHUT_WR): libmicrohttpd reads a half-close as the
        client going away and may drop the request unanswered.           */
    size_t cap = 65536, got = 0;
    char *resp = malloc (cap + 1);
    for (;;) {
        if (got == cap)
            resp = realloc (resp, (cap *= 2) + 1);
        ssize_t n = read (fd, resp + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    resp[got] = '\0';
    /*  Close with a reset: thousands of inputs must not pile up TIME_WAIT. */
    struct linger l = {1, 0};
    setsockopt (fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close (fd);
    return resp;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const methods[] = {"GET", "POST", "HEAD", "DELETE"};
    const char *method = methods[data[0] % 4];
    int flags = data[1];
    const char *rest = (const char *) data + 2;
    size_t n = size - 2;
    const char *nl = memchr (rest, '\n', n);
    size_t tlen = nl ? (size_t) (nl - rest) : n;
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? n - tlen - 1 : 0;

    /*  The target goes on the request line as a browser would send it:
        bytes that would end the line become '_', bytes past ASCII are
        percent-encoded (libmicrohttpd drops raw ones before any handler
        runs; encoded, they reach ours).                                  */
    char target[3 * 1024 + 2];
    size_t t = 0;
    target[t++] = '/';
    for (size_t i = 0; i < tlen && t < sizeof target - 4; i++) {
        unsigned char ch = (unsigned char) rest[i];
        if (ch >= 0x80)
            t += (size_t) snprintf (target + t, 4, "%%%02X", ch);
        else
            target[t++] = ch <= ' ' || ch == 0x7f ? '_' : (char) ch;
    }
    target[t] = '\0';
    const char *path = target[1] == '/' ? target + 1 : target;

    if (flags & 1)
        s_session ();
    size_t cap = 4096 + 2 * blen + 4 * tlen;
    char *req = malloc (cap);
    int h = snprintf (req, cap, "%s %s HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n", method, path);
    if (flags & 1)
        h += snprintf (req + h, cap - (size_t) h, "Cookie: recon_session=%s%s\r\n", s_token,
                       flags & 4 ? "; recon_session=x%00y" : "");
    else if (flags & 4)
        h += snprintf (req + h, cap - (size_t) h, "Cookie: recon_session=%.*s\r\n",
                       (int) (tlen < 80 ? tlen : 80), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    if (flags & 8)
        h += snprintf (req + h, cap - (size_t) h, "X-Forwarded-User: %.*s\r\n",
                       (int) (tlen < 40 ? tlen : 40), target + 1);
    char csrf[RECON_TOKEN_HEX + 8] = "";
    if (flags & 2)
        snprintf (csrf, sizeof csrf, "%scsrf=%s", blen ? "&" : "", s_user.csrf);
    h += snprintf (req + h, cap - (size_t) h, "Content-Length: %zu\r\n\r\n", blen + strlen (csrf));
    memcpy (req + h, body, blen);
    memcpy (req + h + blen, csrf, strlen (csrf));
    /*  The server sheds connections past its limit of 64 (a thread each)
        by closing them unanswered; at hundreds of requests a second the
        threads of answered ones may not have ended yet. So an empty answer
        is tried again after a pause: a handler that never answers fails
        every time.                                                        */
    char *resp = NULL;
    for (int attempt = 0; attempt < 4; attempt++) {
        free (resp);
        resp = s_exchange (req, (size_t) h + blen + strlen (csrf));
        if (*resp)
            break;
        usleep (50000 << attempt);
    }
    free (req);

    int status = 0;
    s_check (sscanf (resp, "HTTP/1.1 %d ", &status) == 1 || sscanf (resp, "HTTP/1.0 %d ", &status) == 1,
             resp);
    s_check (status >= 200 && status < 500, resp);
    s_check (!strstr (resp, "<script") && !strstr (resp, "<b>"), resp);
    free (resp);
    return 0;
}
