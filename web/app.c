/*  app.c — recon-web: the mismatch queue for finance, server-rendered.

    The one decision to know: pages are plain HTML forms with no script at
    all (readable and usable with JavaScript off, and a Content-Security-
    Policy that allows none), every POST carries the session's CSRF token,
    and every action goes through common/queue.c — the same statements,
    and the same history, as `recon queue`.                                 */
#include "app.h"

#include "html.h"
#include "recon/classify.h"
#include "recon/ops.h"
#include "recon/pg.h"
#include "recon/queue.h"
#include "recon/timestamp.h"
#include "recon/users.h"
#include "recon/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_POOL 4
#define S_BODY_MAX 65536
#define S_COOKIE "recon_session"

struct web_app {
    web_options_t o;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    recon_db_t *pool[S_POOL];
    int busy[S_POOL];
    unsigned char csrf_key[crypto_auth_KEYBYTES]; /* trusted-proxy mode's CSRF, from recon.web_secrets */
};

typedef struct {
    web_buf_t body;
    int too_big;
} s_request_t;

/*  What one request sees.                                                  */
typedef struct {
    web_app_t *app;
    struct MHD_Connection *c;
    recon_db_t *db;
    recon_user_t user;
    int signed_in;
    const char *token; /* the session cookie, if any */
} s_ctx_t;

/* ---- database pool ------------------------------------------------------ */

static recon_db_t *
s_db_take (web_app_t *app, int *slot)
{
    pthread_mutex_lock (&app->lock);
    for (;;) {
        for (int i = 0; i < S_POOL; i++)
            if (!app->busy[i]) {
                app->busy[i] = 1;
                *slot = i;
                pthread_mutex_unlock (&app->lock);
                if (!recon_db_ok (app->pool[i])) {
                    recon_db_destroy (&app->pool[i]);
                    app->pool[i] = recon_db_connect (app->o.database_url, "recon-web");
                }
                return app->pool[i];
            }
        pthread_cond_wait (&app->freed, &app->lock);
    }
}

static void
s_db_give (web_app_t *app, int slot)
{
    pthread_mutex_lock (&app->lock);
    app->busy[slot] = 0;
    pthread_cond_signal (&app->freed);
    pthread_mutex_unlock (&app->lock);
}

/* ---- responses ------------------------------------------------------------ */

static enum MHD_Result
s_send (struct MHD_Connection *c, unsigned status, const char *type, web_buf_t *b,
        const char *location, const char *cookie)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (b->len, b->data ? b->data : (char *) "",
                                                              MHD_RESPMEM_MUST_COPY);
    web_buf_free (b);
    if (!r)
        return MHD_NO;
    MHD_add_response_header (r, "Content-Type", type);
    MHD_add_response_header (r, "Content-Security-Policy",
                             "default-src 'none'; style-src 'self'; img-src 'self'; "
                             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header (r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (r, "Referrer-Policy", "same-origin");
    MHD_add_response_header (r, "Cache-Control", "no-store");
    if (location)
        MHD_add_response_header (r, "Location", location);
    if (cookie)
        MHD_add_response_header (r, "Set-Cookie", cookie);
    enum MHD_Result ret = MHD_queue_response (c, status, r);
    MHD_destroy_response (r);
    return ret;
}

static enum MHD_Result
s_redirect (struct MHD_Connection *c, const char *location, const char *cookie)
{
    web_buf_t b = {0};
    return s_send (c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", &b, location, cookie);
}

static void
s_head (web_buf_t *b, const char *title, const s_ctx_t *x)
{
    web_printf (b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>");
    web_esc (b, title);
    web_printf (b, " — recon</title><link rel=\"stylesheet\" href=\"/app.css\"></head><body>\n"
                   "<header><a class=\"brand\" href=\"/\">recon</a> <span>mismatch queue</span>");
    if (x && x->signed_in) {
        web_printf (b, "<form class=\"who\" method=\"post\" action=\"/logout\"><span>");
        web_esc (b, x->user.name);
        web_printf (b, " (%s)</span> <input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                       "<button type=\"submit\">Sign out</button></form>",
                    x->user.role, x->user.csrf);
    }
    web_printf (b, "</header>\n<main>\n");
}

static void
s_foot (web_buf_t *b)
{
    web_printf (b, "</main></body></html>\n");
}

static enum MHD_Result
s_message (s_ctx_t *x, unsigned status, const char *title, const char *text, const char *back)
{
    web_buf_t b = {0};
    s_head (&b, title, x);
    web_printf (&b, "<h1>");
    web_esc (&b, title);
    web_printf (&b, "</h1><p role=\"alert\" class=\"msg\">");
    web_esc (&b, text);
    web_printf (&b, "</p>");
    if (back) {
        web_printf (&b, "<p><a href=\"");
        web_esc (&b, back);
        web_printf (&b, "\">Back</a></p>");
    }
    s_foot (&b);
    return s_send (x->c, status, "text/html; charset=utf-8", &b, NULL, NULL);
}

static void
s_money (char *buf, size_t size, const char *minor, const char *currency)
{
    if (recon_money_format_human (buf, size, strtoll (minor, NULL, 10), currency) < 0)
        snprintf (buf, size, "%s %s", minor, currency);
}

/* ---- sign-in ---------------------------------------------------------------- */

static void
s_trusted_csrf (web_app_t *app, recon_user_t *u)
{
    unsigned char mac[crypto_auth_BYTES];
    crypto_auth (mac, (const unsigned char *) u->name, strlen (u->name), app->csrf_key);
    sodium_bin2hex (u->csrf, sizeof u->csrf, mac, 32);
}

/*  Who is asking: the trusted proxy's header, or the session cookie.      */
static int
s_identify (s_ctx_t *x)
{
    const char *hdr = x->app->o.trusted_header;
    if (hdr && *hdr) {
        const char *name = MHD_lookup_connection_value (x->c, MHD_HEADER_KIND, hdr);
        if (name && recon_users_get (x->db, name, &x->user) == 0) {
            s_trusted_csrf (x->app, &x->user);
            x->signed_in = 1;
        }
        return 0;
    }
    x->token = MHD_lookup_connection_value (x->c, MHD_COOKIE_KIND, S_COOKIE);
    if (x->token) {
        int rc = recon_session_find (x->db, x->token, &x->user);
        if (rc == RECON_USERS_EDB)
            return -1;
        x->signed_in = rc == 0;
    }
    return 0;
}

#define S_LOGIN_COOKIE "recon_login"

/*  The sign-in form's token (login CSRF: a forged sign-in would put the
    victim in the attacker's account). Double submit: a random value in a
    SameSite=Strict cookie scoped to /login and in the form; the browser's
    existing one is kept so a second tab or a stray request does not
    invalidate the form on screen. TOKEN: RECON_TOKEN_HEX bytes.          */
static void
s_login_token (s_ctx_t *x, char *token)
{
    const char *have = MHD_lookup_connection_value (x->c, MHD_COOKIE_KIND, S_LOGIN_COOKIE);
    if (have && strlen (have) == RECON_TOKEN_HEX - 1
        && strspn (have, "0123456789abcdef") == RECON_TOKEN_HEX - 1) {
        memcpy (token, have, RECON_TOKEN_HEX);
        return;
    }
    unsigned char raw[(RECON_TOKEN_HEX - 1) / 2];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (token, RECON_TOKEN_HEX, raw, sizeof raw);
}

static enum MHD_Result
s_login_page (s_ctx_t *x, unsigned status, const char *error)
{
    char token[RECON_TOKEN_HEX], cookie[200];
    s_login_token (x, token);
    snprintf (cookie, sizeof cookie, S_LOGIN_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict; "
              "Max-Age=3600%s", token, x->app->o.secure_cookie ? "; Secure" : "");
    web_buf_t b = {0};
    s_head (&b, "Sign in", NULL);
    web_printf (&b, "<h1>Sign in</h1>");
    if (error) {
        web_printf (&b, "<p role=\"alert\" class=\"msg\">");
        web_esc (&b, error);
        web_printf (&b, "</p>");
    }
    web_printf (&b, "<form class=\"card login\" method=\"post\" action=\"/login\">"
                    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                    "<label for=\"user\">User name</label>"
                    "<input id=\"user\" name=\"user\" autocomplete=\"username\" required autofocus>"
                    "<label for=\"password\">Password</label>"
                    "<input id=\"password\" name=\"password\" type=\"password\" "
                    "autocomplete=\"current-password\" required>"
                    "<button type=\"submit\">Sign in</button></form>", token);
    s_foot (&b);
    return s_send (x->c, status, "text/html; charset=utf-8", &b, NULL, cookie);
}

static enum MHD_Result
s_login (s_ctx_t *x, const web_form_t *f)
{
    const char *name = web_form_get (f, "user"), *password = web_form_get (f, "password");
    const char *expected = MHD_lookup_connection_value (x->c, MHD_COOKIE_KIND, S_LOGIN_COOKIE);
    if (!recon_token_equal (web_form_get (f, "csrf"), expected)) {
        recon_log_kv (x->app->o.log, RECON_LOG_WARN, "web.csrf_refused", "user",
                      name ? name : "", "path", "/login", NULL);
        return s_login_page (x, MHD_HTTP_FORBIDDEN,
                             "The sign-in form had expired or did not come from this site. "
                             "Please sign in again.");
    }
    recon_user_t u;
    int rc = recon_users_verify (x->db, name, password, &u);
    if (rc == RECON_USERS_EDB)
        return s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                          "The database cannot be reached; try again in a moment.", "/login");
    if (rc < 0) {
        recon_log_kv (x->app->o.log, RECON_LOG_WARN, "web.signin_failed", "user",
                      name ? name : "", NULL);
        return s_login_page (x, MHD_HTTP_UNAUTHORIZED, "Wrong user name or password.");
    }
    char token[RECON_TOKEN_HEX], cookie[256];
    if (recon_session_start (x->db, &u, x->app->o.session_us, token) < 0)
        return s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                          "The database cannot be reached; try again in a moment.", "/login");
    snprintf (cookie, sizeof cookie, S_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
              token, (long long) (x->app->o.session_us / 1000000),
              x->app->o.secure_cookie ? "; Secure" : "");
    recon_log_kv (x->app->o.log, RECON_LOG_INFO, "web.signin", "user", u.name, "role", u.role, NULL);
    return s_redirect (x->c, "/", cookie);
}

/* ---- the queue page --------------------------------------------------------- */

static const char *
s_arg (s_ctx_t *x, const char *name)
{
    const char *v = MHD_lookup_connection_value (x->c, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

static void
s_select (web_buf_t *b, const char *id, const char *label, const char *const *opts,
          const char *current)
{
    web_printf (b, "<div><label for=\"%s\">%s</label><select id=\"%s\" name=\"%s\">"
                   "<option value=\"\">any</option>", id, label, id, id);
    for (int i = 0; opts[i]; i++) {
        web_printf (b, "<option%s>", current && strcmp (current, opts[i]) == 0 ? " selected" : "");
        web_esc (b, opts[i]);
        web_printf (b, "</option>");
    }
    web_printf (b, "</select></div>");
}

static void
s_input (web_buf_t *b, const char *id, const char *label, const char *value, const char *hint)
{
    web_printf (b, "<div><label for=\"%s\">%s</label><input id=\"%s\" name=\"%s\" value=\"",
                id, label, id, id);
    web_esc (b, value ? value : "");
    web_printf (b, "\" placeholder=\"%s\"></div>", hint);
}

/*  The chart: open items after each of the last runs, as SVG bars with
    the money at stake per currency in each bar's title.                    */
static void
s_chart (web_buf_t *b, recon_db_t *db)
{
    PGresult *r = recon_db_query (db,
        "WITH last AS (SELECT run_id, finished_at FROM recon.runs WHERE finished_at IS NOT NULL "
        "              ORDER BY run_id DESC LIMIT 12) "
        "SELECT l.run_id, to_char(l.finished_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), "
        "       coalesce(sum(s.open_count), 0), "
        "       coalesce(string_agg(s.currency || ' ' || s.amount_minor, ',' ORDER BY s.currency), '') "
        "  FROM last l LEFT JOIN (SELECT run_id, currency, sum(open_count) AS open_count, "
        "                                sum(amount_minor) AS amount_minor "
        "                           FROM recon.run_queue_snapshots GROUP BY 1, 2) s USING (run_id) "
        " GROUP BY 1, 2 ORDER BY 1", 0, NULL);
    if (!r || PQntuples (r) == 0) {
        PQclear (r);
        return;
    }
    int n = PQntuples (r);
    long long max = 1;
    for (int i = 0; i < n; i++)
        if (atoll (PQgetvalue (r, i, 2)) > max)
            max = atoll (PQgetvalue (r, i, 2));
    web_printf (b, "<section class=\"card\"><h2>Open after each run</h2>"
                   "<svg class=\"chart\" viewBox=\"0 0 %d 130\" role=\"img\" "
                   "aria-labelledby=\"chart-desc\"><desc id=\"chart-desc\">Open mismatches after "
                   "each of the last %d runs</desc>", n * 60, n);
    for (int i = 0; i < n; i++) {
        long long v = atoll (PQgetvalue (r, i, 2));
        int h = (int) (v * 90 / max);
        web_printf (b, "<g><title>run %s: %lld open; at stake: ", PQgetvalue (r, i, 0), v);
        /*  "EUR 12900,USD 500" -> formatted amounts.                       */
        char *list = strdup (PQgetvalue (r, i, 3)), *save = NULL;
        for (char *it = list ? strtok_r (list, ",", &save) : NULL; it; it = strtok_r (NULL, ",", &save)) {
            char cur[8] = "", money[64];
            long long minor = 0;
            if (sscanf (it, "%7s %lld", cur, &minor) == 2) {
                char m[32];
                snprintf (m, sizeof m, "%lld", minor);
                s_money (money, sizeof money, m, cur);
                web_esc (b, money);
                web_printf (b, "; ");
            }
        }
        free (list);
        web_printf (b, "</title><rect x=\"%d\" y=\"%d\" width=\"40\" height=\"%d\"></rect>"
                       "<text x=\"%d\" y=\"%d\" class=\"v\">%lld</text>"
                       "<text x=\"%d\" y=\"126\" class=\"l\">#%s</text></g>",
                    i * 60 + 10, 105 - h, h, i * 60 + 30, 100 - h, v, i * 60 + 30,
                    PQgetvalue (r, i, 0));
    }
    web_printf (b, "</svg></section>");
    PQclear (r);
}

/*  Open count and money at stake by severity: one row per severity, the
    amounts per currency side by side (no exchange rates, so no total).   */
static void
s_summary (web_buf_t *b, recon_db_t *db)
{
    recon_queue_filter_t all = {0};
    PGresult *t = recon_queue_totals (db, &all);
    if (!t)
        return;
    long long total = 0;
    for (int i = 0; i < PQntuples (t); i++)
        total += atoll (PQgetvalue (t, i, 2));
    web_printf (b, "<section class=\"card summary\" aria-label=\"Summary\"><h2>%lld open</h2>"
                   "<table><thead><tr><th scope=\"col\">Severity</th>"
                   "<th scope=\"col\" class=\"n\">Open</th><th scope=\"col\">At stake</th>"
                   "</tr></thead><tbody>", total);
    for (int i = 0; i < PQntuples (t);) {
        const char *sev = PQgetvalue (t, i, 0);
        long long n = 0;
        int j;
        for (j = i; j < PQntuples (t) && strcmp (PQgetvalue (t, j, 0), sev) == 0; j++)
            n += atoll (PQgetvalue (t, j, 2));
        web_printf (b, "<tr><td><span class=\"sev %s\">%s</span></td><td class=\"n\">%lld</td>"
                       "<td class=\"amounts\">", sev, sev, n);
        for (int k = i; k < j; k++) {
            char money[64];
            s_money (money, sizeof money, PQgetvalue (t, k, 3), PQgetvalue (t, k, 1));
            web_printf (b, "<span>");
            web_esc (b, money);
            web_printf (b, "</span> ");
        }
        web_printf (b, "</td></tr>");
        i = j;
    }
    web_printf (b, "</tbody></table></section>");
    PQclear (t);
}

/*  The current filters as a query string (for the pager's links).        */
static void
s_filter_query (web_buf_t *b, s_ctx_t *x)
{
    static const char *const keys[] = {"status", "kind", "severity", "currency", "age", "q", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *v = s_arg (x, keys[i]);
        if (v) {
            web_printf (b, "&amp;%s=", keys[i]);
            web_url (b, v);
        }
    }
}

static enum MHD_Result
s_queue_page (s_ctx_t *x)
{
    recon_queue_filter_t f = {0};
    f.status = s_arg (x, "status");
    f.kind = s_arg (x, "kind");
    f.severity = s_arg (x, "severity");
    f.currency = s_arg (x, "currency");
    f.search = s_arg (x, "q");
    const char *age = s_arg (x, "age"), *page = s_arg (x, "page");
    char err[256] = "";
    if (age && recon_duration_parse (age, &f.older_than_us) < 0)
        snprintf (err, sizeof err, "age '%s': use a duration such as 3d or 12h", age);
    if (page) {
        char *end;
        long long p = strtoll (page, &end, 10);
        if (*end || p < 1)
            snprintf (err, sizeof err, "page '%s' is not a page number", page);
        else
            f.page = p;
    }
    f.page_size = 25;
    if (!*err)
        recon_queue_filter_check (&f, err, sizeof err);
    web_buf_t b = {0};
    s_head (&b, "Mismatch queue", x);
    web_printf (&b, "<div class=\"top\">");
    s_summary (&b, x->db);
    s_chart (&b, x->db);
    web_printf (&b, "</div><h1>Mismatch queue</h1>"
                    "<form class=\"filters card\" method=\"get\" action=\"/\" role=\"search\">");
    static const char *const statuses[] = {"open", "in_review", "snoozed", "resolved", "all", NULL};
    static const char *const sevs[] = {"critical", "high", "medium", NULL};
    const char *kinds[RECON_KIND_COUNT + 1];
    for (int k = 0; k < RECON_KIND_COUNT; k++)
        kinds[k] = recon_kind_name ((recon_kind_t) k);
    kinds[RECON_KIND_COUNT] = NULL;
    s_select (&b, "status", "Status", statuses, f.status);
    s_select (&b, "kind", "Kind", kinds, f.kind);
    s_select (&b, "severity", "Severity", sevs, f.severity);
    s_input (&b, "currency", "Currency", f.currency, "EUR");
    s_input (&b, "age", "Older than", age, "3d");
    s_input (&b, "q", "Order id contains", f.search, "ord_");
    web_printf (&b, "<div><button type=\"submit\">Filter</button> <a href=\"/\">Clear</a></div></form>");
    if (*err) {
        web_printf (&b, "<p role=\"alert\" class=\"msg\">");
        web_esc (&b, err);
        web_printf (&b, "</p>");
        s_foot (&b);
        return s_send (x->c, MHD_HTTP_BAD_REQUEST, "text/html; charset=utf-8", &b, NULL, NULL);
    }
    int64_t total = 0;
    PGresult *rows = recon_queue_list (x->db, &f, &total);
    if (!rows) {
        web_buf_free (&b);
        return s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                          recon_db_errstr (x->db), "/");
    }
    int64_t pg = f.page ? f.page : 1, pages = total ? (total + 24) / 25 : 1;
    web_printf (&b, "<p class=\"pager-status\" aria-live=\"polite\">Page %" PRId64 " of %" PRId64
                    ", %" PRId64 " item%s</p>", pg, pages, total, total == 1 ? "" : "s");
    web_printf (&b, "<table class=\"queue\"><caption class=\"sr\">Mismatches, worst first</caption>"
                    "<thead><tr><th scope=\"col\">ID</th><th scope=\"col\">Severity</th>"
                    "<th scope=\"col\">Kind</th><th scope=\"col\">Order</th>"
                    "<th scope=\"col\" class=\"n\">At stake</th><th scope=\"col\">Age</th>"
                    "<th scope=\"col\">Status</th><th scope=\"col\" class=\"wide\">What happened</th>"
                    "</tr></thead><tbody>");
    for (int i = 0; i < PQntuples (rows); i++) {
        char money[64];
        s_money (money, sizeof money, PQgetvalue (rows, i, 5), PQgetvalue (rows, i, 6));
        web_printf (&b, "<tr><td><a href=\"/m/%s\">%s</a></td><td><span class=\"sev %s\">%s</span>"
                        "</td><td>%s</td><td class=\"order\">", PQgetvalue (rows, i, 0),
                    PQgetvalue (rows, i, 0), PQgetvalue (rows, i, 3), PQgetvalue (rows, i, 3),
                    PQgetvalue (rows, i, 2));
        web_esc (&b, PQgetvalue (rows, i, 1));
        web_printf (&b, "</td><td class=\"n\">");
        web_esc (&b, money);
        web_printf (&b, "</td><td>%s</td><td>%s", PQgetvalue (rows, i, 8), PQgetvalue (rows, i, 4));
        if (*PQgetvalue (rows, i, 9)) {
            web_printf (&b, " (");
            web_esc (&b, PQgetvalue (rows, i, 9));
            web_printf (&b, ")");
        }
        web_printf (&b, "</td><td class=\"wide\">");
        web_esc (&b, PQgetvalue (rows, i, 10));
        web_printf (&b, "</td></tr>");
    }
    web_printf (&b, "</tbody></table><nav class=\"pager\" aria-label=\"Pages\">");
    if (pg > 1) {
        web_printf (&b, "<a rel=\"prev\" href=\"/?page=%" PRId64, pg - 1);
        s_filter_query (&b, x);
        web_printf (&b, "\">Previous page</a> ");
    }
    if (pg < pages) {
        web_printf (&b, "<a rel=\"next\" href=\"/?page=%" PRId64, pg + 1);
        s_filter_query (&b, x);
        web_printf (&b, "\">Next page</a>");
    }
    web_printf (&b, "</nav>");
    PQclear (rows);
    s_foot (&b);
    return s_send (x->c, MHD_HTTP_OK, "text/html; charset=utf-8", &b, NULL, NULL);
}

/* ---- the detail page ------------------------------------------------------------ */

static void
s_source_table (web_buf_t *b, json_t *ev, const char *source, const char *title)
{
    web_printf (b, "<section class=\"card src\"><h3>%s</h3>", title);
    json_t *src = json_object_get (ev, source);
    if (strcmp (source, "fulfillment") == 0) {
        if (!json_is_object (src)) {
            web_printf (b, "<p>No fulfillment record.</p></section>");
            return;
        }
        web_printf (b, "<dl><dt>Status</dt><dd>");
        web_esc (b, json_string_value (json_object_get (src, "status")));
        web_printf (b, "</dd><dt>Updated</dt><dd>");
        web_esc (b, json_string_value (json_object_get (src, "updated_at")));
        web_printf (b, "</dd><dt>Shipped</dt><dd>");
        const char *shipped = json_string_value (json_object_get (src, "shipped_at"));
        web_esc (b, shipped ? shipped : "not shipped");
        web_printf (b, "</dd></dl></section>");
        return;
    }
    int ledger = strcmp (source, "ledger") == 0;
    if (json_array_size (src) == 0) {
        web_printf (b, "<p>Nothing recorded.</p></section>");
        return;
    }
    web_printf (b, "<table><thead><tr><th scope=\"col\">What</th><th scope=\"col\" class=\"n\">"
                   "Amount</th><th scope=\"col\">When</th><th scope=\"col\">Id</th></tr></thead><tbody>");
    size_t i;
    json_t *e;
    json_array_foreach (src, i, e) {
        char minor[32], money[64];
        snprintf (minor, sizeof minor, "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (e, "amount_minor")));
        const char *cur = json_string_value (json_object_get (e, "currency"));
        s_money (money, sizeof money, minor, cur ? cur : "");
        web_printf (b, "<tr><td>");
        web_esc (b, json_string_value (json_object_get (e, "kind")));
        if (!ledger) {
            web_printf (b, " ");
            web_esc (b, json_string_value (json_object_get (e, "status")));
        }
        web_printf (b, "</td><td class=\"n\">");
        web_esc (b, money);
        web_printf (b, "</td><td>");
        web_esc (b, json_string_value (json_object_get (e, ledger ? "recorded_at" : "occurred_at")));
        web_printf (b, "</td><td class=\"id\">");
        web_esc (b, json_string_value (json_object_get (e, ledger ? "entry_id" : "txn_id")));
        web_printf (b, "</td></tr>");
    }
    web_printf (b, "</tbody></table></section>");
}

static void
s_action_forms (web_buf_t *b, const s_ctx_t *x, const char *id, const char *status)
{
    if (strcmp (x->user.role, "reviewer") != 0) {
        web_printf (b, "<p class=\"muted\">You can read the queue; a reviewer acts on it.</p>");
        return;
    }
    /*  expect: the status this page showed; if someone changed it since,
        the action is refused and says who.                                 */
#define S_FORM(action) \
    web_printf (b, "<form class=\"card act\" method=\"post\" action=\"/m/%s/%s\">" \
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">" \
                   "<input type=\"hidden\" name=\"expect\" value=\"%s\">", id, action, \
                x->user.csrf, status)
    int open = strcmp (status, "open") == 0, review = strcmp (status, "in_review") == 0;
    int snoozed = strcmp (status, "snoozed") == 0, resolved = strcmp (status, "resolved") == 0;
    web_printf (b, "<h2>Act</h2><div class=\"acts\">");
    if (open || snoozed) {
        S_FORM ("claim");
        web_printf (b, "<button type=\"submit\">Claim (in review, yours)</button></form>");
    }
    if (!resolved) {
        S_FORM ("resolve");
        web_printf (b, "<label for=\"resolution\">Resolution</label><select id=\"resolution\" "
                       "name=\"resolution\" required><option value=\"\">choose…</option>"
                       "<option>refunded</option><option>shipped</option>"
                       "<option>ledger_corrected</option><option>written_off</option>"
                       "<option>false_positive</option></select>"
                       "<label for=\"resolve-note\">Note</label>"
                       "<input id=\"resolve-note\" name=\"note\">"
                       "<button type=\"submit\">Resolve</button></form>");
    }
    if (open || review) {
        S_FORM ("snooze");
        web_printf (b, "<label for=\"until\">Snooze until (UTC, or a duration like 2d)</label>"
                       "<input id=\"until\" name=\"until\" required placeholder=\"2d\">"
                       "<label for=\"snooze-note\">Note</label><input id=\"snooze-note\" name=\"note\">"
                       "<button type=\"submit\">Snooze</button></form>");
    }
    if (resolved || snoozed) {
        S_FORM ("reopen");
        web_printf (b, "<label for=\"reopen-note\">Note</label><input id=\"reopen-note\" name=\"note\">"
                       "<button type=\"submit\">Reopen</button></form>");
    }
    web_printf (b, "<form class=\"card act\" method=\"post\" action=\"/m/%s/note\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<label for=\"note\">Add a note</label><textarea id=\"note\" name=\"note\" "
                   "required rows=\"2\"></textarea><button type=\"submit\">Add note</button></form>",
                id, x->user.csrf);
    web_printf (b, "</div>");
#undef S_FORM
}

static enum MHD_Result
s_detail_page (s_ctx_t *x, int64_t id)
{
    PGresult *m = recon_queue_get (x->db, id), *h = m ? recon_queue_history (x->db, id) : NULL;
    if (!m || !h) {
        PQclear (m);
        return s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                          recon_db_errstr (x->db), "/");
    }
    if (PQntuples (m) == 0) {
        PQclear (m);
        PQclear (h);
        return s_message (x, MHD_HTTP_NOT_FOUND, "Not found", "There is no such mismatch.", "/");
    }
    const char *ids = PQgetvalue (m, 0, 0), *status = PQgetvalue (m, 0, 4);
    char money[64], title[96];
    s_money (money, sizeof money, PQgetvalue (m, 0, 6), PQgetvalue (m, 0, 7));
    snprintf (title, sizeof title, "Mismatch %s", ids);
    web_buf_t b = {0};
    s_head (&b, title, x);
    const char *done = s_arg (x, "done");
    if (done && strspn (done, "abcdefghijklmnopqrstuvwxyz") == strlen (done))
        web_printf (&b, "<p role=\"status\" class=\"msg ok\">Done: %s.</p>", done);
    web_printf (&b, "<p><a href=\"/\">← Queue</a></p><h1>Mismatch %s: %s</h1>"
                    "<p class=\"facts\"><span class=\"sev %s\">%s</span> <strong>",
                ids, PQgetvalue (m, 0, 2), PQgetvalue (m, 0, 3), PQgetvalue (m, 0, 3));
    web_esc (&b, money);
    web_printf (&b, "</strong> at stake · order <span class=\"order\">");
    web_esc (&b, PQgetvalue (m, 0, 1));
    web_printf (&b, "</span> · status <strong id=\"status\">%s", status);
    if (*PQgetvalue (m, 0, 5))
        web_printf (&b, " (%s)", PQgetvalue (m, 0, 5));
    web_printf (&b, "</strong>");
    if (*PQgetvalue (m, 0, 11)) {
        web_printf (&b, " · assigned to ");
        web_esc (&b, PQgetvalue (m, 0, 11));
    }
    if (*PQgetvalue (m, 0, 12)) {
        web_printf (&b, " · snoozed until ");
        web_esc (&b, PQgetvalue (m, 0, 12));
    }
    web_printf (&b, "</p><p class=\"sentence\">");
    web_esc (&b, PQgetvalue (m, 0, 8));
    web_printf (&b, "</p><p class=\"next\"><strong>Next step:</strong> ");
    web_esc (&b, PQgetvalue (m, 0, 9));
    web_printf (&b, "</p><h2>The three sources</h2><div class=\"sources\">");
    json_t *ev = json_loads (PQgetvalue (m, 0, 10), 0, NULL);
    if (!ev)
        ev = json_object ();
    s_source_table (&b, ev, "processor", "Payment processor");
    s_source_table (&b, ev, "ledger", "Ledger");
    s_source_table (&b, ev, "fulfillment", "Fulfillment");
    json_decref (ev);
    web_printf (&b, "</div>");
    s_action_forms (&b, x, ids, status);
    web_printf (&b, "<h2>History</h2><table class=\"history\"><thead><tr><th scope=\"col\">When "
                    "(UTC)</th><th scope=\"col\">Who</th><th scope=\"col\">What</th>"
                    "<th scope=\"col\">Status</th><th scope=\"col\" class=\"wide\">Note</th></tr>"
                    "</thead><tbody>");
    for (int i = 0; i < PQntuples (h); i++) {
        web_printf (&b, "<tr><td>%s</td><td>", PQgetvalue (h, i, 0));
        web_esc (&b, PQgetvalue (h, i, 1));
        web_printf (&b, "</td><td>%s</td><td>%s%s%s</td><td class=\"wide\">", PQgetvalue (h, i, 2),
                    PQgetvalue (h, i, 3), *PQgetvalue (h, i, 3) ? " → " : "", PQgetvalue (h, i, 4));
        web_esc (&b, PQgetvalue (h, i, 5));
        web_printf (&b, "</td></tr>");
    }
    web_printf (&b, "</tbody></table>");
    PQclear (m);
    PQclear (h);
    s_foot (&b);
    return s_send (x->c, MHD_HTTP_OK, "text/html; charset=utf-8", &b, NULL, NULL);
}

static enum MHD_Result
s_act (s_ctx_t *x, int64_t id, const char *verb, const web_form_t *f)
{
    char back[64];
    snprintf (back, sizeof back, "/m/%" PRId64, id);
    recon_queue_verb_t v;
    if (recon_queue_verb_parse (verb, &v) < 0)
        return s_message (x, MHD_HTTP_NOT_FOUND, "Not found", "No such action.", back);
    if (strcmp (x->user.role, "reviewer") != 0)
        return s_message (x, MHD_HTTP_FORBIDDEN, "Not allowed",
                          "Your role is viewer: you can read the queue but not act on it.", back);
    recon_queue_action_t a = {.verb = v, .id = id, .actor = x->user.name,
                              .note = web_form_get (f, "note"),
                              .resolution = web_form_get (f, "resolution"),
                              .expect_status = web_form_get (f, "expect")};
    if (a.expect_status && !*a.expect_status)
        a.expect_status = NULL;
    if (a.verb == RECON_QUEUE_SNOOZE) {
        const char *until = web_form_get (f, "until");
        int64_t d;
        if (until && recon_duration_parse (until, &d) == 0)
            a.until_us = recon_now_us () + d;
        else if (!until || recon_timestamp_parse (until, strlen (until), &a.until_us) < 0)
            return s_message (x, MHD_HTTP_BAD_REQUEST, "Cannot snooze",
                              "Snooze until: give a time (2026-12-24 09:00) or a duration (2d).", back);
    }
    char msg[512];
    int rc = recon_queue_act (x->db, &a, msg, sizeof msg);
    if (rc == 0) {
        recon_log_kv (x->app->o.log, RECON_LOG_INFO, "web.action", "user", x->user.name, "action",
                      verb, "mismatch_id", back + 3, NULL);
        char loc[96];
        snprintf (loc, sizeof loc, "%s?done=%s", back, verb);
        return s_redirect (x->c, loc, NULL);
    }
    if (rc == RECON_QUEUE_EDB)
        return s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                          recon_db_errstr (x->db), back);
    if (rc == RECON_QUEUE_ECONFLICT)
        return s_message (x, MHD_HTTP_CONFLICT, "Someone else changed it first", msg, back);
    return s_message (x, rc == RECON_QUEUE_ENOTFOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST,
                      "Cannot do that", msg, back);
}

/* ---- routing ------------------------------------------------------------------------ */

extern const char web_css[];

/*  Counts query arguments that are not valid UTF-8 into *CLS: they would
    reach PostgreSQL as filters and fail there as a database error.       */
static enum MHD_Result
s_check_arg (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    if (!recon_utf8_valid (key, strlen (key))
        || (value && !recon_utf8_valid (value, strlen (value))))
        (*(int *) cls)++;
    return MHD_YES;
}

static enum MHD_Result
s_route (s_ctx_t *x, const char *method, const char *url, s_request_t *req)
{
    int get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    int post = strcmp (method, "POST") == 0;
    if (get && strcmp (url, "/livez") == 0) {
        web_buf_t b = {0};
        web_printf (&b, "ok\n");
        return s_send (x->c, MHD_HTTP_OK, "text/plain; charset=utf-8", &b, NULL, NULL);
    }
    if (get && strcmp (url, "/app.css") == 0) {
        web_buf_t b = {0};
        web_printf (&b, "%s", web_css);
        return s_send (x->c, MHD_HTTP_OK, "text/css; charset=utf-8", &b, NULL, NULL);
    }
    if (!get && !post) {
        web_buf_t b = {0};
        web_printf (&b, "only GET and POST\n");
        return s_send (x->c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", &b, NULL, NULL);
    }
    if (req->too_big)
        return s_message (x, 413, "Too large", "The form was too large.", "/");
    int bad_args = 0;
    MHD_get_connection_values (x->c, MHD_GET_ARGUMENT_KIND, s_check_arg, &bad_args);
    if (bad_args || !recon_utf8_valid (url, strlen (url)))
        return s_message (x, MHD_HTTP_BAD_REQUEST, "Bad request",
                          "The address could not be read (it is not valid UTF-8 text).", "/");
    web_form_t f = {0};
    if (post && web_form_parse (&f, req->body.data ? req->body.data : "", req->body.len) < 0)
        return s_message (x, MHD_HTTP_BAD_REQUEST, "Bad request", "The form could not be read.", "/");
    enum MHD_Result ret;
    if (s_identify (x) < 0) {
        ret = s_message (x, MHD_HTTP_SERVICE_UNAVAILABLE, "Database unavailable",
                         "The database cannot be reached; try again in a moment.", NULL);
        goto done;
    }
    if (strcmp (url, "/login") == 0) {
        ret = post ? s_login (x, &f) : x->signed_in ? s_redirect (x->c, "/", NULL)
                                                    : s_login_page (x, MHD_HTTP_OK, NULL);
        goto done;
    }
    if (!x->signed_in) {
        ret = get ? s_redirect (x->c, "/login", NULL)
                  : s_message (x, MHD_HTTP_FORBIDDEN, "Signed out", "Sign in first.", "/login");
        goto done;
    }
    /*  Every state-changing request carries the session's CSRF token.     */
    if (post && !recon_token_equal (web_form_get (&f, "csrf"), x->user.csrf)) {
        recon_log_kv (x->app->o.log, RECON_LOG_WARN, "web.csrf_refused", "user", x->user.name,
                      "url", url, NULL);
        ret = s_message (x, MHD_HTTP_FORBIDDEN, "Refused",
                         "This form is stale or did not come from this site (CSRF check). "
                         "Reload the page and try again.", "/");
        goto done;
    }
    int64_t id = 0;
    char verb[16] = "";
    int consumed = 0;
    if (post && strcmp (url, "/logout") == 0) {
        if (x->token)
            recon_session_end (x->db, x->token);
        ret = s_redirect (x->c, "/login", S_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    } else if (get && strcmp (url, "/") == 0)
        ret = s_queue_page (x);
    else if (sscanf (url, "/m/%" SCNd64 "%n", &id, &consumed) == 1 && id > 0
             && url[consumed] == '\0' && get)
        ret = s_detail_page (x, id);
    else if (post && sscanf (url, "/m/%" SCNd64 "/%15[a-z]%n", &id, verb, &consumed) == 2 && id > 0
             && url[consumed] == '\0')
        ret = s_act (x, id, verb, &f);
    else
        ret = s_message (x, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.", "/");
done:
    web_form_free (&f);
    return ret;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void) version;
    web_app_t *app = cls;
    s_request_t *req = *con_cls;
    if (!req) {
        req = calloc (1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size) {
        if (req->body.len + *upload_size > S_BODY_MAX)
            req->too_big = 1;
        else
            web_append (&req->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    int slot;
    s_ctx_t x = {.app = app, .c = c};
    x.db = s_db_take (app, &slot);
    enum MHD_Result ret = s_route (&x, method, url, req);
    s_db_give (app, slot);
    return ret;
}

static void
s_done (void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void) cls;
    (void) c;
    (void) t;
    s_request_t *req = *con_cls;
    if (req) {
        web_buf_free (&req->body);
        free (req);
        *con_cls = NULL;
    }
}

web_app_t *
web_app_new (const web_options_t *o, char *err, size_t size)
{
    struct sockaddr_storage ss;
    if (recon_ops_sockaddr (o->listen, &ss, err, size) < 0)
        return NULL;
    if (recon_users_init () < 0) {
        snprintf (err, size, "libsodium cannot be initialised");
        return NULL;
    }
    web_app_t *app = calloc (1, sizeof *app);
    if (!app) {
        snprintf (err, size, "out of memory");
        return NULL;
    }
    app->o = *o;
    pthread_mutex_init (&app->lock, NULL);
    pthread_cond_init (&app->freed, NULL);
    for (int i = 0; i < S_POOL; i++)
        app->pool[i] = recon_db_connect (o->database_url, "recon-web");
    if (!recon_db_ok (app->pool[0])) {
        snprintf (err, size, "database: %s", recon_db_errstr (app->pool[0]));
        web_app_destroy (&app);
        return NULL;
    }
    /*  Trusted-proxy mode's CSRF key, the same on every replica (a form one
        replica rendered is posted to another behind the load balancer).  */
    PGresult *r = recon_db_query (app->pool[0],
        "SELECT secret FROM recon.web_secrets WHERE name = 'csrf'", 0, NULL);
    if (!r || PQntuples (r) != 1) {
        snprintf (err, size, "database: no CSRF secret (run recon db migrate): %s",
                  r ? "recon.web_secrets is empty" : recon_db_errstr (app->pool[0]));
        PQclear (r);
        web_app_destroy (&app);
        return NULL;
    }
    crypto_generichash (app->csrf_key, sizeof app->csrf_key, (const unsigned char *) PQgetvalue (r, 0, 0),
                        (size_t) PQgetlength (r, 0, 0), NULL, 0);
    PQclear (r);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    app->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_handle, app,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
                                    MHD_OPTION_NOTIFY_COMPLETED, s_done, app,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                                    MHD_OPTION_END);
    if (!app->daemon) {
        snprintf (err, size, "cannot listen on %s: %s", o->listen,
                  errno ? strerror (errno) : "libmicrohttpd refused to start");
        web_app_destroy (&app);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (app->daemon, MHD_DAEMON_INFO_BIND_PORT);
    app->port = info ? info->port : 0;
    return app;
}

int
web_app_port (const web_app_t *app)
{
    return app->port;
}

void
web_app_destroy (web_app_t **p)
{
    if (!p || !*p)
        return;
    web_app_t *app = *p;
    if (app->daemon)
        MHD_stop_daemon (app->daemon);
    for (int i = 0; i < S_POOL; i++)
        recon_db_destroy (&app->pool[i]);
    pthread_mutex_destroy (&app->lock);
    pthread_cond_destroy (&app->freed);
    sodium_memzero (app->csrf_key, sizeof app->csrf_key);
    free (app);
    *p = NULL;
}
