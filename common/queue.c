/*  queue.c — the mismatch queue: pages worst first with totals, one item
    with its history, and the actions finance takes on it.

    The one decision to know: each action is ONE statement that locks the
    item's row (SELECT … FOR UPDATE, re-checked after the lock), updates
    it and appends its history entry. Two reviewers acting at once are
    serialised by that lock; the later one finds the status no longer
    allows its action and gets a conflict naming who acted — nothing is
    half-applied and the history never disagrees with the row.             */
#include "recon/queue.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "recon/money.h"
#include "recon/timestamp.h"

static const char *const s_statuses[] = {"open", "in_review", "snoozed", "resolved", NULL};
static const char *const s_severities[] = {"critical", "high", "medium", NULL};
static const char *const s_resolutions[] = {"refunded", "shipped", "ledger_corrected",
                                            "written_off", "false_positive", NULL};

static int
s_in (const char *const *list, const char *name, size_t len)
{
    for (int i = 0; list[i]; i++)
        if (strlen (list[i]) == len && strncmp (list[i], name, len) == 0)
            return 1;
    return 0;
}

int
recon_queue_resolution_ok (const char *name)
{
    return name && s_in (s_resolutions, name, strlen (name));
}

const char *
recon_queue_verb_name (recon_queue_verb_t verb)
{
    switch (verb) {
    case RECON_QUEUE_CLAIM: return "claim";
    case RECON_QUEUE_RESOLVE: return "resolve";
    case RECON_QUEUE_SNOOZE: return "snooze";
    case RECON_QUEUE_NOTE: return "note";
    case RECON_QUEUE_REOPEN: return "reopen";
    }
    return "?";
}

int
recon_queue_verb_parse (const char *name, recon_queue_verb_t *verb)
{
    for (int v = RECON_QUEUE_CLAIM; v <= RECON_QUEUE_REOPEN; v++)
        if (name && strcmp (name, recon_queue_verb_name ((recon_queue_verb_t) v)) == 0) {
            *verb = (recon_queue_verb_t) v;
            return 0;
        }
    return -1;
}

/*  "open,in_review" -> "{open,in_review}" (names checked); "all" -> every
    status. 0, or -1 when a name is unknown.                                */
static int
s_status_array (const char *spec, char *out, size_t size)
{
    if (!spec)
        spec = "open,in_review";
    if (strcmp (spec, "all") == 0)
        spec = "open,in_review,snoozed,resolved";
    size_t n = 0;
    out[n++] = '{';
    const char *p = spec;
    while (*p) {
        size_t len = strcspn (p, ",");
        if (!s_in (s_statuses, p, len) || n + len + 2 >= size)
            return -1;
        if (n > 1)
            out[n++] = ',';
        memcpy (out + n, p, len);
        n += len;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 1)
        return -1;
    out[n++] = '}';
    out[n] = '\0';
    return 0;
}

int
recon_queue_filter_check (const recon_queue_filter_t *f, char *err, size_t size)
{
    char arr[128];
    if (s_status_array (f->status, arr, sizeof arr) < 0) {
        snprintf (err, size, "status '%s': expected open, in_review, snoozed, resolved or all "
                  "(comma-separated)", f->status);
        return RECON_QUEUE_EINVAL;
    }
    if (f->severity && !s_in (s_severities, f->severity, strlen (f->severity))) {
        snprintf (err, size, "severity '%s': expected critical, high or medium", f->severity);
        return RECON_QUEUE_EINVAL;
    }
    char cur[8];
    if (f->currency && recon_currency_normalize (f->currency, cur) < 0) {
        snprintf (err, size, "currency '%s': expected an ISO 4217 code such as EUR", f->currency);
        return RECON_QUEUE_EINVAL;
    }
    if (f->page < 0 || f->page_size < 0 || f->page_size > RECON_QUEUE_PAGE_SIZE_MAX
        || f->older_than_us < 0) {
        snprintf (err, size, "page must be >= 1 and page size 1..%d", RECON_QUEUE_PAGE_SIZE_MAX);
        return RECON_QUEUE_EINVAL;
    }
    return 0;
}

/*  The filter as the six parameters of S_WHERE.                            */
typedef struct {
    char status[128], currency[8], older[24];
    const char *v[6];
} s_params_t;

static const char *s_where =
    " WHERE status = ANY ($1::text[]) AND ($2::text IS NULL OR kind = $2)"
    "   AND ($3::text IS NULL OR severity = $3) AND ($4::text IS NULL OR currency = $4)"
    "   AND ($5::bigint IS NULL OR opened_at <= now() - $5::bigint * interval '1 microsecond')"
    "   AND ($6::text IS NULL OR strpos(order_id, $6) > 0)";

static const char *s_order = " ORDER BY severity, stake_major DESC, opened_at, mismatch_id";

/*  Filters on status, severity, currency and kind are answered from the
    trigger-kept recon.queue_totals instead of counting the queue.         */
#define S_TOTALS_WHERE                                                               \
    " WHERE status = ANY ($1::text[]) AND ($2::text IS NULL OR severity = $2)"       \
    "   AND ($3::text IS NULL OR currency = $3) AND ($4::text IS NULL OR kind = $4)"

static int
s_simple (const recon_queue_filter_t *f)
{
    return f->older_than_us <= 0 && !(f->search && *f->search);
}

static int
s_params (const recon_queue_filter_t *f, s_params_t *p)
{
    memset (p, 0, sizeof *p);
    if (s_status_array (f->status, p->status, sizeof p->status) < 0)
        return -1;
    p->v[0] = p->status;
    p->v[1] = f->kind && *f->kind ? f->kind : NULL;
    p->v[2] = f->severity && *f->severity ? f->severity : NULL;
    if (f->currency && *f->currency) {
        if (recon_currency_normalize (f->currency, p->currency) < 0)
            return -1;
        p->v[3] = p->currency;
    }
    if (f->older_than_us > 0) {
        snprintf (p->older, sizeof p->older, "%" PRId64, f->older_than_us);
        p->v[4] = p->older;
    }
    p->v[5] = f->search && *f->search ? f->search : NULL;
    return 0;
}

int64_t
recon_queue_wake (recon_db_t *db)
{
    PGresult *r = recon_db_query (db, "SELECT recon.wake_snoozed()", 0, NULL);
    if (!r)
        return RECON_QUEUE_EDB;
    int64_t n = strtoll (PQgetvalue (r, 0, 0), NULL, 10);
    PQclear (r);
    return n;
}

PGresult *
recon_queue_list (recon_db_t *db, const recon_queue_filter_t *f, int64_t *total)
{
    s_params_t p;
    if (s_params (f, &p) < 0 || recon_queue_wake (db) < 0)
        return NULL;
    char sql[2400];
    PGresult *r;
    if (s_simple (f)) {
        const char *v4[] = {p.v[0], p.v[2], p.v[3], p.v[1]};
        r = recon_db_query (db, "SELECT coalesce(sum(n), 0) FROM recon.queue_totals" S_TOTALS_WHERE,
                            4, v4);
    } else {
        snprintf (sql, sizeof sql, "SELECT count(*) FROM recon.mismatches%s", s_where);
        r = recon_db_query (db, sql, 6, p.v);
    }
    if (!r)
        return NULL;
    *total = strtoll (PQgetvalue (r, 0, 0), NULL, 10);
    PQclear (r);
    int64_t size = f->page_size > 0 ? f->page_size : 20;
    int64_t page = f->page > 0 ? f->page : 1;
    char limit[24], offset[24];
    snprintf (limit, sizeof limit, "%" PRId64, size);
    snprintf (offset, sizeof offset, "%" PRId64, (page - 1) * size);
    const char *v[8] = {p.v[0], p.v[1], p.v[2], p.v[3], p.v[4], p.v[5], limit, offset};
    snprintf (sql, sizeof sql,
        "SELECT mismatch_id, order_id, kind, severity, status, amount_minor, currency, "
        "       to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS opened_at, "
        "       CASE WHEN now() - opened_at >= interval '1 day' "
        "            THEN floor(extract(epoch FROM now() - opened_at) / 86400)::int || 'd' "
        "            WHEN now() - opened_at >= interval '1 hour' "
        "            THEN floor(extract(epoch FROM now() - opened_at) / 3600)::int || 'h' "
        "            ELSE greatest(0, floor(extract(epoch FROM now() - opened_at) / 60))::int || 'm' "
        "       END AS age, coalesce(assignee, '') AS assignee, summary, "
        "       coalesce(to_char(snoozed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '') AS snoozed_until, "
        "       coalesce(resolution, '') AS resolution "
        /*  The page's ids from the covering index alone, then 25 rows.    */
        "  FROM (SELECT mismatch_id FROM recon.mismatches%s%s LIMIT $7::bigint OFFSET $8::bigint) ids "
        "  JOIN recon.mismatches USING (mismatch_id)%s",
        s_where, s_order, s_order);
    return recon_db_query (db, sql, 8, v);
}

PGresult *
recon_queue_totals (recon_db_t *db, const recon_queue_filter_t *f)
{
    s_params_t p;
    if (s_params (f, &p) < 0)
        return NULL;
    if (s_simple (f)) {
        const char *v4[] = {p.v[0], p.v[2], p.v[3], p.v[1]};
        return recon_db_query (db,
            "SELECT severity, currency, sum(n)::bigint, sum(amount_minor)::bigint "
            "  FROM recon.queue_totals" S_TOTALS_WHERE " GROUP BY 1, 2 HAVING sum(n) > 0 "
            " ORDER BY 1, recon.minor_to_major(sum(amount_minor)::bigint, currency) DESC, 2",
            4, v4);
    }
    char sql[1600];
    snprintf (sql, sizeof sql,
        "SELECT severity, currency, count(*), sum(amount_minor) FROM recon.mismatches%s "
        " GROUP BY 1, 2 ORDER BY 1, recon.minor_to_major(sum(amount_minor)::bigint, currency) DESC, 2",
        s_where);
    return recon_db_query (db, sql, 6, p.v);
}

PGresult *
recon_queue_get (recon_db_t *db, int64_t id)
{
    if (recon_queue_wake (db) < 0)
        return NULL;
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    const char *v[] = {ids};
    return recon_db_query (db,
        "SELECT mismatch_id, order_id, kind, severity, status, coalesce(resolution, ''), "
        "       amount_minor, currency, summary, next_step, evidence::text, "
        "       coalesce(assignee, ''), coalesce(snoozed_until::text, ''), opened_at::text, "
        "       updated_at::text, coalesce(resolved_at::text, ''), "
        "       coalesce(first_seen_run::text, ''), coalesce(last_seen_run::text, '') "
        "  FROM recon.mismatches WHERE mismatch_id = $1::bigint",
        1, v);
}

PGresult *
recon_queue_history (recon_db_t *db, int64_t id)
{
    char ids[24];
    snprintf (ids, sizeof ids, "%" PRId64, id);
    const char *v[] = {ids};
    return recon_db_query (db,
        "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), actor, action, "
        "       coalesce(from_status, ''), coalesce(to_status, ''), coalesce(note, ''), "
        "       coalesce(run_id::text, '') "
        "  FROM recon.mismatch_history WHERE mismatch_id = $1::bigint ORDER BY at, history_id",
        1, v);
}

/*  Each verb: which statuses allow it, what it sets, its history entry.
    $1 id, $2 actor, $3 note, $4 expected status, $5 resolution / until
    (RESOLVE and SNOOZE only: libpq needs every parameter it is given used).    */
typedef struct {
    const char *allowed;  /* text[] literal */
    const char *set;      /* UPDATE … SET (NULL: history only) */
    const char *action;   /* history action */
    const char *to;       /* to_status expression */
    const char *note;     /* history note expression */
} s_verb_t;

static const s_verb_t s_verbs[] = {
    [RECON_QUEUE_CLAIM] = {"{open,snoozed}",
        "status = 'in_review', assignee = $2, snoozed_until = NULL, updated_at = now()",
        "claimed", "'in_review'", "$3"},
    [RECON_QUEUE_RESOLVE] = {"{open,in_review,snoozed}",
        "status = 'resolved', resolution = $5, resolved_at = now(), snoozed_until = NULL, "
        "updated_at = now()",
        "resolved", "'resolved'", "$5 || coalesce(': ' || $3, '')"},
    [RECON_QUEUE_SNOOZE] = {"{open,in_review}",
        "status = 'snoozed', snoozed_until = $5::timestamptz, updated_at = now()",
        "snoozed", "'snoozed'",
        "'until ' || to_char($5::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
        "|| ' UTC' || coalesce(': ' || $3, '')"},
    [RECON_QUEUE_NOTE] = {"{open,in_review,snoozed,resolved}", NULL, "note", "cur.status",
        "$3"},
    [RECON_QUEUE_REOPEN] = {"{resolved,snoozed}",
        "status = 'open', resolution = NULL, resolved_at = NULL, snoozed_until = NULL, "
        "assignee = NULL, updated_at = now()",
        "reopened", "'open'",
        "coalesce($3, '')"},
};

/*  Says why nothing changed: the item's status and who changed it last.  */
static int
s_conflict (recon_db_t *db, const char *ids, const recon_queue_action_t *a, char *msg,
            size_t size)
{
    const char *v[] = {ids};
    PGresult *r = recon_db_query (db,
        "SELECT m.status, coalesce(m.resolution, ''), coalesce(m.assignee, ''), "
        "       coalesce(h.actor, ''), coalesce(to_char(h.at AT TIME ZONE 'UTC', "
        "       'YYYY-MM-DD HH24:MI:SS'), '') "
        "  FROM recon.mismatches m LEFT JOIN LATERAL (SELECT actor, at FROM "
        "       recon.mismatch_history WHERE mismatch_id = m.mismatch_id "
        "       ORDER BY at DESC, history_id DESC LIMIT 1) h ON true "
        " WHERE m.mismatch_id = $1::bigint", 1, v);
    if (!r)
        return RECON_QUEUE_EDB;
    if (PQntuples (r) == 0) {
        PQclear (r);
        snprintf (msg, size, "no mismatch %s", ids);
        return RECON_QUEUE_ENOTFOUND;
    }
    const char *status = PQgetvalue (r, 0, 0), *resolution = PQgetvalue (r, 0, 1);
    const char *assignee = PQgetvalue (r, 0, 2);
    char what[160];
    if (*resolution)
        snprintf (what, sizeof what, "%s (%s)", status, resolution);
    else if (*assignee && strcmp (status, "in_review") == 0)
        snprintf (what, sizeof what, "in review by %s", assignee);
    else
        snprintf (what, sizeof what, "%s", status);
    snprintf (msg, size, "cannot %s mismatch %s: it is %s%s%s%s%s UTC; nothing changed",
              recon_queue_verb_name (a->verb), ids, what,
              *PQgetvalue (r, 0, 3) ? ", last changed by " : "", PQgetvalue (r, 0, 3),
              *PQgetvalue (r, 0, 3) ? " at " : "", PQgetvalue (r, 0, 4));
    PQclear (r);
    return RECON_QUEUE_ECONFLICT;
}

static int
s_check_action (const recon_queue_action_t *a, char *msg, size_t size)
{
    if ((unsigned) a->verb > RECON_QUEUE_REOPEN) {
        snprintf (msg, size, "unknown action");
        return RECON_QUEUE_EINVAL;
    }
    if (!a->actor || !*a->actor) {
        snprintf (msg, size, "an actor (who acts) is required");
        return RECON_QUEUE_EINVAL;
    }
    if (a->verb == RECON_QUEUE_RESOLVE && !recon_queue_resolution_ok (a->resolution)) {
        snprintf (msg, size, "resolution '%s': expected refunded, shipped, ledger_corrected, "
                  "written_off or false_positive", a->resolution ? a->resolution : "");
        return RECON_QUEUE_EINVAL;
    }
    if (a->verb == RECON_QUEUE_SNOOZE && a->until_us <= recon_now_us ()) {
        snprintf (msg, size, "snooze until: the time must be in the future");
        return RECON_QUEUE_EINVAL;
    }
    if (a->verb == RECON_QUEUE_NOTE && (!a->note || !*a->note)) {
        snprintf (msg, size, "a note needs text");
        return RECON_QUEUE_EINVAL;
    }
    if (a->expect_status && !s_in (s_statuses, a->expect_status, strlen (a->expect_status))) {
        snprintf (msg, size, "expected status '%s' is not a status", a->expect_status);
        return RECON_QUEUE_EINVAL;
    }
    return 0;
}

int
recon_queue_act (recon_db_t *db, const recon_queue_action_t *a, char *msg, size_t size)
{
    msg[0] = '\0';
    int rc = s_check_action (a, msg, size);
    if (rc < 0)
        return rc;
    if (recon_queue_wake (db) < 0)
        return RECON_QUEUE_EDB;
    const s_verb_t *v = &s_verbs[a->verb];
    char ids[24], until[RECON_TIMESTAMP_BUFSIZE];
    snprintf (ids, sizeof ids, "%" PRId64, a->id);
    const char *fifth = NULL;
    if (a->verb == RECON_QUEUE_RESOLVE)
        fifth = a->resolution;
    else if (a->verb == RECON_QUEUE_SNOOZE) {
        recon_timestamp_format (a->until_us, until);
        fifth = until;
    }
    const char *params[] = {ids, a->actor, a->note && *a->note ? a->note : NULL,
                            a->expect_status, fifth};
    char sql[2400];
    if (v->set)
        snprintf (sql, sizeof sql,
            "WITH cur AS (SELECT mismatch_id, status FROM recon.mismatches "
            "              WHERE mismatch_id = $1::bigint AND status = ANY ('%s'::text[]) "
            "                AND ($4::text IS NULL OR status = $4) FOR UPDATE), "
            " upd AS (UPDATE recon.mismatches m SET %s FROM cur "
            "          WHERE m.mismatch_id = cur.mismatch_id RETURNING m.mismatch_id) "
            "INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, "
            "                                    to_status, note) "
            "SELECT upd.mismatch_id, $2, '%s', cur.status, %s, %s FROM upd JOIN cur USING (mismatch_id) "
            "RETURNING mismatch_id",
            v->allowed, v->set, v->action, v->to, v->note);
    else
        snprintf (sql, sizeof sql,
            "WITH cur AS (SELECT mismatch_id, status FROM recon.mismatches "
            "              WHERE mismatch_id = $1::bigint AND ($4::text IS NULL OR status = $4) "
            "                FOR UPDATE) "
            "INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, "
            "                                    to_status, note) "
            "SELECT mismatch_id, $2, '%s', cur.status, %s, %s FROM cur RETURNING mismatch_id",
            v->action, v->to, v->note);
    PGresult *r = recon_db_query (db, sql, fifth ? 5 : 4, params);
    if (!r)
        return RECON_QUEUE_EDB;
    int n = PQntuples (r);
    PQclear (r);
    if (n == 1)
        return 0;
    return s_conflict (db, ids, a, msg, size);
}

void
recon_queue_csv_field (FILE *out, const char *field)
{
    if (strpbrk (field, ",\"\r\n") == NULL) {
        fputs (field, out);
        return;
    }
    fputc ('"', out);
    for (const char *c = field; *c; c++) {
        if (*c == '"')
            fputc ('"', out);
        fputc (*c, out);
    }
    fputc ('"', out);
}

/*  Text from outside (order ids, notes) must not become a spreadsheet
    formula when finance opens the export.                                 */
static void
s_csv_text (FILE *out, const char *field)
{
    if (strchr ("=+-@\t\r", field[0]) && field[0]) {
        size_t n = strlen (field) + 2;
        char *safe = malloc (n);
        if (safe) {
            snprintf (safe, n, "'%s", field);
            recon_queue_csv_field (out, safe);
            free (safe);
            return;
        }
    }
    recon_queue_csv_field (out, field);
}

int64_t
recon_queue_export_csv (recon_db_t *db, const recon_queue_filter_t *f, FILE *out)
{
    s_params_t p;
    if (s_params (f, &p) < 0 || recon_queue_wake (db) < 0)
        return RECON_QUEUE_EDB;
    char sql[1600];
    snprintf (sql, sizeof sql,
        "SELECT mismatch_id, order_id, kind, severity, status, coalesce(resolution, ''), "
        "       amount_minor, currency, opened_at::text, coalesce(assignee, ''), summary, "
        "       next_step FROM recon.mismatches%s%s", s_where, s_order);
    PGconn *conn = recon_db_conn (db);
    if (!PQsendQueryParams (conn, sql, 6, NULL, p.v, NULL, NULL, 0) || !PQsetSingleRowMode (conn)) {
        recon_db_fail (db, NULL, "export");
        return RECON_QUEUE_EDB;
    }
    fputs ("mismatch_id,order_id,kind,severity,status,resolution,amount_minor,currency,amount,"
           "opened_at,assignee,summary,next_step\n", out);
    int64_t rows = 0;
    int failed = 0;
    PGresult *r;
    while ((r = PQgetResult (conn))) {
        ExecStatusType st = PQresultStatus (r);
        if (st == PGRES_SINGLE_TUPLE) {
            char amount[48];
            int exp = recon_currency_exponent (PQgetvalue (r, 0, 7));
            if (recon_money_format (amount, sizeof amount, strtoll (PQgetvalue (r, 0, 6), NULL, 10),
                                    exp < 0 ? 2 : exp, '.') < 0)
                amount[0] = '\0';
            for (int c = 0; c < 12; c++) {
                if (c)
                    fputc (',', out);
                if (c == 8) {
                    fputs (amount, out);
                    fputc (',', out);
                }
                if (c == 1 || c == 9 || c == 10 || c == 11)
                    s_csv_text (out, PQgetvalue (r, 0, c));
                else
                    recon_queue_csv_field (out, PQgetvalue (r, 0, c));
            }
            fputc ('\n', out);
            rows++;
        } else if (st != PGRES_TUPLES_OK && !failed) {
            recon_db_fail (db, r, "export");
            failed = 1;
        }
        PQclear (r);
    }
    return failed ? RECON_QUEUE_EDB : rows;
}
