/*  reconciler.c — one job: merge three sorted sources, classify, write.

    Design decision: the job never holds more than one batch, and reads
    each source as a server-side cursor in byte order, merged like a k-way
    merge sort. Two ways to read (recon/reconciler.h): "stream" cursors
    carry every fact of the shard with a flag saying whether the row is in
    the window, so one sequential pass per source is all the reading;
    "lookup" cursors carry only the window's order ids and each batch's
    facts are then fetched by id. Each batch is written back in one
    transaction whose last statement before COMMIT is the fence on
    (job_id, attempt, running): a batch is kept only if the job is still
    ours. The write is set-based SQL over temporary tables filled by COPY,
    so redoing a batch reaches the same rows and changes nothing.          */
#include "recon/reconciler.h"
#include "recon/copybuf.h"
#include "recon/evidence.h"
#include "recon/timestamp.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FETCH 5000
#define S_STREAM_FETCH 20000
#define S_DEFAULT_BATCH 2000

typedef struct {
    recon_db_t *db;
    PGresult *rows;  /* the current FETCH */
    int next;        /* next row to hand out */
    int done;        /* cursor exhausted */
    PGresult **held; /* earlier FETCHes the current order still points into */
    int nheld, capheld;
} s_cursor_t;

struct recon_reconciler {
    recon_db_t *rw;
    s_cursor_t src[3]; /* processor, ledger, fulfillment */
    char errstr[1024];
    char **batch;      /* ids of the current batch (owned strings) */
    int nbatch, cap;
    char last[RECON_ORDER_ID_MAX + 1]; /* last id emitted by the merge */
    int have_last;
    int temp_ready;    /* temp tables exist on rw's session */
    int stream;        /* this job reads by streaming (else by lookup) */
    /*  The queue's size and changes since its last ANALYZE, as this job
        knows them: read once per job, then counted from its own writes.  */
    int queue_known;
    int64_t queue_rows, queue_mods;
    recon_copybuf_t evidence; /* one order's evidence JSON, reused */
};

static int
s_error (recon_reconciler_t *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_error (recon_reconciler_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (r->errstr, sizeof r->errstr, fmt, ap);
    va_end (ap);
    return RECON_JOB_EDB;
}

recon_reconciler_t *
recon_reconciler_new (recon_db_t *recon_rw, recon_db_t *recon_ro, recon_db_t *ledger_ro,
                      recon_db_t *fulfillment_ro)
{
    recon_reconciler_t *r = calloc (1, sizeof *r);
    if (!r)
        return NULL;
    r->rw = recon_rw;
    r->src[0].db = recon_ro;
    r->src[1].db = ledger_ro;
    r->src[2].db = fulfillment_ro;
    return r;
}

static void
s_clear_batch (recon_reconciler_t *r)
{
    for (int i = 0; i < r->nbatch; i++)
        free (r->batch[i]);
    r->nbatch = 0;
}

void
recon_reconciler_destroy (recon_reconciler_t **p)
{
    if (!p || !*p)
        return;
    recon_reconciler_t *r = *p;
    s_clear_batch (r);
    free (r->batch);
    free (r->evidence.data);
    for (int i = 0; i < 3; i++) {
        PQclear (r->src[i].rows);
        for (int k = 0; k < r->src[i].nheld; k++)
            PQclear (r->src[i].held[k]);
        free (r->src[i].held);
    }
    free (r);
    *p = NULL;
}

const char *
recon_reconciler_errstr (const recon_reconciler_t *r)
{
    return r->errstr;
}

/* ---- helpers --------------------------------------------------------------- */

static void
s_ts (char *buf, int64_t t)
{
    recon_timestamp_format (t, buf);
}

static int64_t
s_int (const PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? 0 : strtoll (PQgetvalue (res, row, col), NULL, 10);
}

/*  Quotes a "schema.name" relation from configuration as identifiers.     */
static int
s_relation (recon_reconciler_t *r, PGconn *conn, const char *relation, char *out, size_t size)
{
    const char *dot = strchr (relation, '.');
    char *a = NULL, *b = NULL;
    if (dot) {
        a = PQescapeIdentifier (conn, relation, (size_t) (dot - relation));
        b = PQescapeIdentifier (conn, dot + 1, strlen (dot + 1));
    } else {
        b = PQescapeIdentifier (conn, relation, strlen (relation));
    }
    int ok = b && (!dot || a);
    if (ok)
        snprintf (out, size, "%s%s%s", a ? a : "", a ? "." : "", b);
    PQfreemem (a);
    PQfreemem (b);
    return ok ? 0 : s_error (r, "bad relation name '%s'", relation);
}

static int
s_exec (recon_reconciler_t *r, recon_db_t *db, const char *sql, int n, const char *const *params,
        PGresult **out, const char *what)
{
    PGresult *res = PQexecParams (recon_db_conn (db), sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        recon_db_fail (db, res, what);
        PQclear (res);
        return s_error (r, "%s", recon_db_errstr (db));
    }
    if (out)
        *out = res;
    else
        PQclear (res);
    return 0;
}

/* ---- candidates: three cursors merged ------------------------------------ */

#define S_EPOCH(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/*  The planner settings of the read transactions (why: s_declare).       */
#define S_PLAN                                                                 \
    "SELECT set_config('cursor_tuple_fraction', '1', true), set_config('jit', 'off', true)"
static const char s_plan_lookup[] = S_PLAN;
static const char s_plan_stream[] = S_PLAN ", set_config('enable_indexscan', 'off', true), "
                                    "set_config('enable_bitmapscan', 'off', true), "
                                    "set_config('enable_mergejoin', 'off', true)";

/*  Opens a read-only snapshot on each source and declares its cursor.
    The snapshot holds for the whole job: the three sources are each read
    at one instant, whatever imports run meanwhile.                        */
static int
s_declare (recon_reconciler_t *r, char sql[3][1400], int n, const char *const *params)
{
    for (int i = 0; i < 3; i++) {
        s_cursor_t *c = &r->src[i];
        PQclear (c->rows);
        c->rows = NULL;
        c->next = 0;
        c->done = 0;
        /*  A cursor is planned for its first rows by default; a job reads
            all of them, so plan for the whole result. No JIT: compiling
            the ledger view's cursor took 0.1 s of each job's 1.8 s there
            and saved less than it cost (EXPLAIN ANALYZE, 1M orders).
            A stream reads a whole shard, a large share of each source:
            read the heap in its own order and sort, never through an index
            or a merge join in key order. Events are stored in time order,
            so the order-id index visits the heap at random, and PostgreSQL
            prices that too low when the table is not in shared buffers:
            1M orders, EXPLAIN ANALYZE, a sixty-fourth to all of the
            events 0.54-4.5 s by index, 0.33-2.5 s by scan and sort; the
            reference ledger view over all entries 11.6 s by merge join,
            4.7 s by hash join (docs/BENCHMARKS.md). Lookups keep their
            indexes.                                                       */
        if (s_exec (r, c->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL,
                    "starting a snapshot")
            || s_exec (r, c->db, r->stream ? s_plan_stream : s_plan_lookup, 0, NULL, NULL,
                       "planning the cursor")
            || s_exec (r, c->db, sql[i], n, params, NULL, "declaring the cursor"))
            return RECON_JOB_EDB;
    }
    return 0;
}

/*  The stream cursors: the facts of the shard up to as_of, and the rows
    that put an order in the window, each with two flags — in the window
    ($1..$2), and a fact as of $6. Columns match the lookup queries'.     */
static void
s_stream_sql (char sql[3][1400], const char *range, const char *ledger, const char *fulfillment)
{
    const char *pw = "((occurred_at >= $1 AND occurred_at < $2) "
                     "OR (imported_at >= $1 AND imported_at < $2))";
    snprintf (sql[0], 1400,
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT order_id, txn_id, payment_ref, kind, status, amount_minor, currency, "
              S_EPOCH ("occurred_at") ", %s, occurred_at <= $6 FROM recon.processor_events "
              "WHERE %s AND (occurred_at <= $6 OR %s) "
              "ORDER BY order_id COLLATE \"C\", occurred_at, txn_id", pw, range, pw);
    snprintf (sql[1], 1400,
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT order_id, entry_id, kind, amount_minor, currency, " S_EPOCH ("recorded_at")
              ", recorded_at >= $1 AND recorded_at < $2, recorded_at <= $6 FROM %s "
              "WHERE %s AND (recorded_at <= $6 OR (recorded_at >= $1 AND recorded_at < $2)) "
              "ORDER BY order_id COLLATE \"C\", recorded_at, entry_id", ledger, range);
    snprintf (sql[2], 1400,
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT order_id, status, " S_EPOCH ("updated_at") ", " S_EPOCH ("shipped_at")
              ", updated_at >= $1 AND updated_at < $2, updated_at <= $6 FROM %s "
              "WHERE %s AND (updated_at <= $6 OR (updated_at >= $1 AND updated_at < $2)) "
              "ORDER BY order_id COLLATE \"C\"", fulfillment, range);
}

/*  Opens a read-only snapshot on each source and declares its cursor of
    distinct order ids with an event in the window, in byte order.         */
static int
s_open_cursors (recon_reconciler_t *r, const recon_job_spec_t *spec, const char *after)
{
    char from[RECON_TIMESTAMP_BUFSIZE], to[RECON_TIMESTAMP_BUFSIZE];
    s_ts (from, spec->from);
    s_ts (to, spec->to);
    char ledger[300], fulfillment[300];
    if (s_relation (r, recon_db_conn (r->src[1].db), spec->ledger_relation, ledger, sizeof ledger)
        || s_relation (r, recon_db_conn (r->src[2].db), spec->fulfillment_relation, fulfillment,
                       sizeof fulfillment))
        return RECON_JOB_EDB;
    const char *range = "order_id COLLATE \"C\" >= $3 AND ($4::text IS NULL OR "
                        "order_id COLLATE \"C\" < $4) AND order_id COLLATE \"C\" > $5";
    char sql[3][1400];
    char as_of[RECON_TIMESTAMP_BUFSIZE];
    s_ts (as_of, spec->classify.as_of);
    if (r->stream) {
        s_stream_sql (sql, range, ledger, fulfillment);
        const char *params[] = {from, to, spec->range_lo ? spec->range_lo : "", spec->range_hi,
                                after, as_of};
        return s_declare (r, sql, 6, params);
    }
    snprintf (sql[0], sizeof sql[0],
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT DISTINCT order_id COLLATE \"C\" FROM recon.processor_events "
              "WHERE ((occurred_at >= $1 AND occurred_at < $2) "
              "    OR (imported_at >= $1 AND imported_at < $2)) AND %s ORDER BY 1", range);
    snprintf (sql[1], sizeof sql[1],
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT DISTINCT order_id COLLATE \"C\" FROM %s "
              "WHERE recorded_at >= $1 AND recorded_at < $2 AND %s ORDER BY 1", ledger, range);
    snprintf (sql[2], sizeof sql[2],
              "DECLARE recon_candidates NO SCROLL CURSOR FOR "
              "SELECT DISTINCT order_id COLLATE \"C\" FROM %s "
              "WHERE updated_at >= $1 AND updated_at < $2 AND %s ORDER BY 1", fulfillment, range);
    const char *params[] = {from, to, spec->range_lo ? spec->range_lo : "", spec->range_hi, after};
    return s_declare (r, sql, 5, params);
}

static void
s_close_cursors (recon_reconciler_t *r)
{
    for (int i = 0; i < 3; i++) {
        if (recon_db_conn (r->src[i].db))
            PQclear (PQexec (recon_db_conn (r->src[i].db), "ROLLBACK"));
        PQclear (r->src[i].rows);
        r->src[i].rows = NULL;
    }
}

/*  The head id of cursor C, fetching more when needed; NULL at its end.   */
static int
s_head (recon_reconciler_t *r, s_cursor_t *c, const char **id)
{
    *id = NULL;
    if (c->done)
        return 0;
    if (!c->rows || c->next >= PQntuples (c->rows)) {
        /*  Facts gathered for the current order may still point into this
            result: keep it until the order is written (stream mode).      */
        if (r->stream && c->rows) {
            if (c->nheld == c->capheld) {
                int cap = c->capheld ? c->capheld * 2 : 4;
                PGresult **h = realloc (c->held, sizeof *h * (size_t) cap);
                if (!h)
                    return s_error (r, "out of memory");
                c->held = h;
                c->capheld = cap;
            }
            c->held[c->nheld++] = c->rows;
        } else {
            PQclear (c->rows);
        }
        c->rows = NULL;
        char sql[64];
        snprintf (sql, sizeof sql, "FETCH FORWARD %d FROM recon_candidates",
                  r->stream ? S_STREAM_FETCH : S_FETCH);
        if (s_exec (r, c->db, sql, 0, NULL, &c->rows, "fetching candidates"))
            return RECON_JOB_EDB;
        c->next = 0;
        if (PQntuples (c->rows) == 0) {
            c->done = 1;
            return 0;
        }
    }
    *id = PQgetvalue (c->rows, c->next, 0);
    return 0;
}

/*  Fills the batch with up to N distinct ids in byte order.               */
static int
s_next_batch (recon_reconciler_t *r, int n)
{
    s_clear_batch (r);
    if (r->cap < n) {
        char **b = realloc (r->batch, sizeof *b * (size_t) n);
        if (!b)
            return s_error (r, "out of memory");
        r->batch = b;
        r->cap = n;
    }
    while (r->nbatch < n) {
        const char *heads[3];
        int best = -1;
        for (int i = 0; i < 3; i++) {
            if (s_head (r, &r->src[i], &heads[i]))
                return RECON_JOB_EDB;
            if (heads[i] && (best < 0 || strcmp (heads[i], heads[best]) < 0))
                best = i;
        }
        if (best < 0)
            break;
        const char *id = heads[best];
        /*  Consume the id from every source that has it at its head.      */
        for (int i = 0; i < 3; i++)
            if (heads[i] && strcmp (heads[i], id) == 0 && i != best)
                r->src[i].next++;
        if (strlen (id) > RECON_ORDER_ID_MAX)
            return s_error (r, "order id longer than %d bytes", RECON_ORDER_ID_MAX);
        if (!r->have_last || strcmp (id, r->last) != 0) {
            r->batch[r->nbatch] = strdup (id);
            if (!r->batch[r->nbatch])
                return s_error (r, "out of memory");
            r->nbatch++;
            snprintf (r->last, sizeof r->last, "%s", id);
            r->have_last = 1;
        }
        r->src[best].next++;
    }
    return 0;
}

/* ---- facts of a batch ---------------------------------------------------- */

/*  The batch as a PostgreSQL text[] literal.                              */
static char *
s_array_literal (const recon_reconciler_t *r)
{
    recon_copybuf_t b = {0};
    recon_copybuf_cstr (&b, "{");
    for (int i = 0; i < r->nbatch; i++) {
        recon_copybuf_cstr (&b, i ? ",\"" : "\"");
        /*  Array quoting: backslash-escape " and \ (not COPY escaping).   */
        for (const char *c = r->batch[i]; *c; c++) {
            char esc[3] = {'\\', *c, '\0'};
            if (*c == '"' || *c == '\\')
                recon_copybuf_cstr (&b, esc);
            else
                recon_copybuf_text (&b, c, 1);
        }
        recon_copybuf_cstr (&b, "\"");
    }
    recon_copybuf_cstr (&b, "}");
    if (b.failed) {
        free (b.data);
        return NULL;
    }
    char *out = realloc (b.data, b.len + 1);
    if (!out) {
        free (b.data);
        return NULL;
    }
    out[b.len] = '\0';
    return out;
}

typedef struct {
    PGresult *events, *entries, *fulfillment;
    int ie, il, ifu; /* cursors into the three results */
} s_facts_t;

static int
s_fetch_facts (recon_reconciler_t *r, const recon_job_spec_t *spec, s_facts_t *f)
{
    char *ids = s_array_literal (r);
    if (!ids)
        return s_error (r, "out of memory");
    char as_of[RECON_TIMESTAMP_BUFSIZE], ledger[300], fulfillment[300];
    s_ts (as_of, spec->classify.as_of);
    const char *params[] = {ids, as_of};
    char sql[1024];
    int rc = s_relation (r, recon_db_conn (r->src[1].db), spec->ledger_relation, ledger,
                         sizeof ledger)
             || s_relation (r, recon_db_conn (r->src[2].db), spec->fulfillment_relation,
                            fulfillment, sizeof fulfillment);
    if (!rc)
        rc = s_exec (r, r->src[0].db,
                     "SELECT order_id, txn_id, payment_ref, kind, status, amount_minor, currency, "
                     S_EPOCH ("occurred_at") " FROM recon.processor_events "
                     "WHERE order_id COLLATE \"C\" = ANY($1::text[]) AND occurred_at <= $2 "
                     "ORDER BY order_id COLLATE \"C\", occurred_at, txn_id",
                     2, params, &f->events, "reading processor events");
    if (!rc) {
        snprintf (sql, sizeof sql,
                  "SELECT order_id, entry_id, kind, amount_minor, currency, "
                  S_EPOCH ("recorded_at") " FROM %s WHERE order_id COLLATE \"C\" = ANY($1::text[]) "
                  "AND recorded_at <= $2 ORDER BY order_id COLLATE \"C\", recorded_at, entry_id",
                  ledger);
        rc = s_exec (r, r->src[1].db, sql, 2, params, &f->entries, "reading ledger entries");
    }
    if (!rc) {
        snprintf (sql, sizeof sql,
                  "SELECT order_id, status, " S_EPOCH ("updated_at") ", " S_EPOCH ("shipped_at")
                  " FROM %s WHERE order_id COLLATE \"C\" = ANY($1::text[]) AND updated_at <= $2 "
                  "ORDER BY order_id COLLATE \"C\"", fulfillment);
        rc = s_exec (r, r->src[2].db, sql, 2, params, &f->fulfillment, "reading fulfillment");
    }
    free (ids);
    return rc;
}

static void
s_free_facts (s_facts_t *f)
{
    PQclear (f->events);
    PQclear (f->entries);
    PQclear (f->fulfillment);
    memset (f, 0, sizeof *f);
}

/*  One order's facts, pointing into the results (valid until freed).     */
typedef struct {
    recon_processor_event_t *ev;
    size_t nev, cap_ev;
    recon_ledger_entry_t *le;
    size_t nle, cap_le;
    recon_order_facts_t facts;
} s_order_t;

static int
s_grow (void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc (*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static void
s_currency (char *out, const char *in)
{
    snprintf (out, 4, "%s", in);
}

/*  Row parsers, shared by both ways of reading (same columns).           */
static int
s_add_event (s_order_t *o, const PGresult *res, int row)
{
    if (s_grow ((void **) &o->ev, &o->cap_ev, o->nev + 1, sizeof *o->ev))
        return -1;
    recon_processor_event_t *e = &o->ev[o->nev++];
    int kind = recon_event_kind_from_name (PQgetvalue (res, row, 3));
    int status = recon_event_status_from_name (PQgetvalue (res, row, 4));
    e->txn_id = PQgetvalue (res, row, 1);
    e->payment_ref = PQgetisnull (res, row, 2) ? NULL : PQgetvalue (res, row, 2);
    /*  The schema's CHECK constraints make unknown values impossible;
        count one anyway as a failed event rather than trusting it.        */
    e->kind = kind < 0 ? RECON_EVENT_CHARGE : (recon_event_kind_t) kind;
    e->status = status < 0 || kind < 0 ? RECON_EVENT_FAILED : (recon_event_status_t) status;
    e->amount_minor = s_int (res, row, 5);
    s_currency (e->currency, PQgetvalue (res, row, 6));
    e->occurred_at = s_int (res, row, 7);
    return 0;
}

static int
s_add_entry (s_order_t *o, const PGresult *res, int row)
{
    if (s_grow ((void **) &o->le, &o->cap_le, o->nle + 1, sizeof *o->le))
        return -1;
    recon_ledger_entry_t *e = &o->le[o->nle++];
    e->entry_id = PQgetvalue (res, row, 1);
    e->kind = strcmp (PQgetvalue (res, row, 2), "refund") == 0 ? RECON_LEDGER_REFUND
                                                              : RECON_LEDGER_CHARGE;
    e->amount_minor = s_int (res, row, 3);
    s_currency (e->currency, PQgetvalue (res, row, 4));
    e->recorded_at = s_int (res, row, 5);
    return 0;
}

static recon_fulfillment_t
s_fulfillment_row (const PGresult *res, int row)
{
    recon_fulfillment_t ff = {RECON_FULFILLMENT_NONE, 0, 0, 0};
    int st = recon_fulfillment_status_from_name (PQgetvalue (res, row, 1));
    ff.status = st < 0 ? RECON_FULFILLMENT_NONE : (recon_fulfillment_status_t) st;
    ff.updated_at = s_int (res, row, 2);
    ff.has_shipped_at = !PQgetisnull (res, row, 3);
    ff.shipped_at = s_int (res, row, 3);
    return ff;
}

/*  Collects the facts of order ID from the three sorted results.          */
static int
s_gather (s_facts_t *f, const char *id, s_order_t *o)
{
    o->nev = o->nle = 0;
    for (; f->ie < PQntuples (f->events) && strcmp (PQgetvalue (f->events, f->ie, 0), id) == 0;
         f->ie++)
        if (s_add_event (o, f->events, f->ie) < 0)
            return -1;
    for (; f->il < PQntuples (f->entries) && strcmp (PQgetvalue (f->entries, f->il, 0), id) == 0;
         f->il++)
        if (s_add_entry (o, f->entries, f->il) < 0)
            return -1;
    recon_fulfillment_t ff = {RECON_FULFILLMENT_NONE, 0, 0, 0};
    /*  One status per order; a relation that returns several is read as
        its newest, and none of its rows may shift the next order's.      */
    for (; f->ifu < PQntuples (f->fulfillment)
           && strcmp (PQgetvalue (f->fulfillment, f->ifu, 0), id) == 0;
         f->ifu++) {
        recon_fulfillment_t row = s_fulfillment_row (f->fulfillment, f->ifu);
        if (ff.status == RECON_FULFILLMENT_NONE || row.updated_at >= ff.updated_at)
            ff = row;
    }
    o->facts = (recon_order_facts_t) {id, o->ev, o->nev, o->le, o->nle, ff};
    return 0;
}

/*  FNV-1a 64: a stable fingerprint of the facts, not a security hash.    */
static void
s_hash (const char *text, char out[17])
{
    uint64_t h = UINT64_C (14695981039346656037);
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        h ^= *p;
        h *= UINT64_C (1099511628211);
    }
    snprintf (out, 17, "%016llx", (unsigned long long) h);
}

/*  Appends the order to the batch's COPY buffers.                         */
static int
s_emit_order (recon_reconciler_t *r, const recon_order_facts_t *facts,
              const recon_classification_t *c, recon_copybuf_t *orders, recon_copybuf_t *flags)
{
    recon_copybuf_t *text = &r->evidence;
    recon_copybuf_cstr (orders, facts->order_id);
    recon_copybuf_tab (orders);
    recon_copybuf_cstr (orders, recon_state_name (c->state));
    recon_copybuf_tab (orders);
    recon_copybuf_cstr (orders, c->state == RECON_STATE_FLAGGED ? "" : c->summary);
    recon_copybuf_end (orders);
    if (c->nmismatches == 0)
        return 0;
    /*  The facts hash is taken of the facts alone; the evidence is the
        same text with the figures the classification drew from them put
        first (built once, not twice).                                    */
    text->len = 0;
    text->failed = 0;
    recon_evidence_json (text, facts);
    recon_copybuf_bytes (text, "", 1);
    if (text->failed)
        return -1;
    char hash[17], figures[RECON_EVIDENCE_FIGURES_SIZE];
    s_hash (text->data, hash);
    recon_evidence_figures (&c->figures, figures);
    for (size_t i = 0; i < c->nmismatches; i++) {
        const recon_mismatch_t *m = &c->mismatches[i];
        recon_copybuf_cstr (flags, facts->order_id);
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, recon_kind_name (m->kind));
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, recon_severity_name (m->severity));
        recon_copybuf_tab (flags);
        recon_copybuf_int (flags, m->amount_minor);
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, *m->currency ? m->currency : "XXX");
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, m->summary);
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, m->next_step);
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, figures);
        recon_copybuf_cstr (flags, text->data + 1); /* past the facts' own '{' */
        recon_copybuf_tab (flags);
        recon_copybuf_cstr (flags, hash);
        recon_copybuf_end (flags);
    }
    return 0;
}

/* ---- writing a batch -------------------------------------------------------- */

static int
s_copy (recon_reconciler_t *r, const char *sql, const recon_copybuf_t *b)
{
    PGconn *conn = recon_db_conn (r->rw);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        recon_db_fail (r->rw, res, "COPY");
        PQclear (res);
        return s_error (r, "%s", recon_db_errstr (r->rw));
    }
    PQclear (res);
    if ((b->len && PQputCopyData (conn, b->data, (int) b->len) != 1)
        || PQputCopyEnd (conn, NULL) != 1)
        return s_error (r, "COPY: %s", PQerrorMessage (conn));
    int rc = 0;
    while ((res = PQgetResult (conn))) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0) {
            recon_db_fail (r->rw, res, "COPY");
            rc = s_error (r, "%s", recon_db_errstr (r->rw));
        }
        PQclear (res);
    }
    return rc;
}

static const char *s_temp_sql =
    "CREATE TEMP TABLE IF NOT EXISTS recon_batch_flags (order_id text, kind text, "
    "severity text, amount_minor bigint, currency text, summary text, next_step text, "
    "evidence jsonb, facts_hash text) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS recon_batch_orders (order_id text, state text, "
    "summary text) ON COMMIT DELETE ROWS";

/*  Every flagged (order, kind) of the batch in one statement, each looked
    up in the queue once (it was three statements, one per case):
    - still open (or claimed, snoozed): refresh the facts; say so in the
      history when they changed;
    - resolved: reopen when recon resolved it, or when the facts changed
      since a person did; otherwise a person's resolution stands;
    - not in the queue: open it.
    Each case is decided from the statement's snapshot of the item, as the
    three statements did. Yields the number of items opened.
    The LATERAL ... LIMIT 1 (and OFFSET 0 in s_resolve_sql) keeps the
    lookups one index probe per row of the batch. As a plain join the
    planner, which has no statistics for the batch tables and guesses
    their size, chose a hash join over a sequential scan of the whole
    queue for every batch until the queue was large: a batch's cost grew
    with the queue (in a 1M-order run 3-5 s of server time went there).  */
static const char *s_flags_sql =
    "WITH cur AS (SELECT f.*, m.mismatch_id, m.status, m.resolution, m.changed, "
    "                    CASE WHEN m.mismatch_id IS NULL THEN 'open' "
    "                         WHEN m.status = 'resolved' THEN "
    "                              CASE WHEN m.resolution = 'auto_resolved' OR m.changed "
    "                                   THEN 'reopen' END "
    "                         WHEN m.changed OR m.last_seen_run IS DISTINCT FROM $1 "
    "                           OR m.summary <> f.summary THEN 'update' END AS act "
    "               FROM recon_batch_flags f "
    "               LEFT JOIN LATERAL (SELECT mismatch_id, status, resolution, last_seen_run, "
    "                                         summary, facts_hash <> f.facts_hash AS changed "
    "                                    FROM recon.mismatches m "
    "                                   WHERE m.order_id = f.order_id AND m.kind = f.kind "
    "                                   LIMIT 1) m ON true), "
    " upd AS (UPDATE recon.mismatches m "
    "            SET status = CASE WHEN cur.act = 'reopen' THEN 'open' ELSE m.status END, "
    "                resolution = CASE WHEN cur.act = 'reopen' THEN NULL ELSE m.resolution END, "
    "                resolved_at = CASE WHEN cur.act = 'reopen' THEN NULL ELSE m.resolved_at END, "
    "                assignee = CASE WHEN cur.act = 'reopen' THEN NULL ELSE m.assignee END, "
    "                severity = cur.severity, amount_minor = cur.amount_minor, "
    "                currency = cur.currency, summary = cur.summary, next_step = cur.next_step, "
    "                evidence = cur.evidence, facts_hash = cur.facts_hash, last_seen_run = $1, "
    "                updated_at = now() "
    "           FROM cur "
    "          WHERE m.mismatch_id = cur.mismatch_id AND cur.act IN ('update', 'reopen') "
    "      RETURNING m.mismatch_id, cur.act, cur.changed, cur.status, cur.resolution, "
    "                cur.summary), "
    " ins AS (INSERT INTO recon.mismatches (order_id, kind, severity, amount_minor, currency, "
    "                    summary, next_step, evidence, facts_hash, first_seen_run, "
    "                    last_seen_run) "
    "             SELECT order_id, kind, severity, amount_minor, currency, summary, next_step, "
    "                    evidence, facts_hash, $1, $1 FROM cur WHERE act = 'open' "
    "             ON CONFLICT (order_id, kind) DO NOTHING RETURNING mismatch_id, summary), "
    " hist AS (INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, "
    "                                              to_status, note, run_id) "
    "          SELECT mismatch_id, 'recon', 'updated', status, status, "
    "                 'New facts: ' || summary, $1 FROM upd WHERE act = 'update' AND changed "
    "          UNION ALL "
    "          SELECT mismatch_id, 'recon', 'reopened', 'resolved', 'open', "
    "                 format('Flagged again (was resolved as %s): %s', resolution, summary), $1 "
    "            FROM upd WHERE act = 'reopen' "
    "          UNION ALL "
    "          SELECT mismatch_id, 'recon', 'opened', NULL, 'open', summary, $1 FROM ins) "
    "SELECT count(*) FROM ins";

/*  Open items of orders in this batch that are no longer flagged (one
    index probe per order of the batch: see s_flags_sql).                 */
static const char *s_resolve_sql =
    "WITH cur AS (SELECT m.mismatch_id, m.status, o.state, o.summary "
    "               FROM recon_batch_orders o "
    "               CROSS JOIN LATERAL (SELECT mismatch_id, status, kind FROM recon.mismatches m "
    "                                    WHERE m.order_id = o.order_id AND m.status <> 'resolved' "
    "                                   OFFSET 0) m "
    "              WHERE NOT EXISTS (SELECT 1 FROM recon_batch_flags f "
    "                    WHERE f.order_id = o.order_id AND f.kind = m.kind)), "
    " upd AS (UPDATE recon.mismatches m SET status = 'resolved', resolution = 'auto_resolved', "
    "                resolved_at = now(), snoozed_until = NULL, updated_at = now() "
    "           FROM cur WHERE m.mismatch_id = cur.mismatch_id RETURNING m.mismatch_id) "
    "INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, to_status, "
    "                                    note, run_id) "
    "SELECT mismatch_id, 'recon', 'auto_resolved', status, 'resolved', "
    "       CASE WHEN state = 'flagged' THEN 'No longer this kind of mismatch.' "
    "            ELSE format('Consistent now (%s): %s', state, summary) END, $1 FROM cur";

/*  The queue's size and its rows changed since the last ANALYZE, from
    the statistics (flushed about once a second, so they lag a little).  */
static int
s_read_queue_stats (recon_reconciler_t *r)
{
    PGresult *res = PQexec (recon_db_conn (r->rw),
        "SELECT greatest(c.reltuples, 0)::bigint, s.n_mod_since_analyze "
        "  FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
        " WHERE c.oid = 'recon.mismatches'::regclass");
    int ok = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1;
    if (ok) {
        r->queue_rows = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        r->queue_mods = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    }
    PQclear (res);
    return ok ? 0 : -1;
}

static int
s_queue_stale (const recon_reconciler_t *r)
{
    return r->queue_mods >= 1000 && r->queue_mods >= r->queue_rows / 2;
}

/*  A young queue has no statistics until autovacuum analyzes it (a
    minute or more), and without them the planner joined each batch to the
    whole queue by hash: the first run on a fresh database took 2.5x as
    long as the next (tests/bench). The batch lookups are index probes by
    construction now (s_flags_sql) and a run without this ANALYZE measured
    the same; it stays so that finance's page and the statements' other
    joins plan with the queue's real size while it grows.
    After a batch, when the rows changed since the last ANALYZE reach half
    the table (it has doubled; at least 1000 rows), analyze it now: a
    bounded sample, a handful of times over a run's growth, and never
    waiting for another worker doing the same. Between checks of the
    statistics the job counts its own inserts: read after every batch, the
    lagging statistics had two workers analyze 36 times in a 1M-order run
    (2-3 s of the server's time); when its own count says "doubled", the
    statistics are read again, so another worker's ANALYZE meanwhile
    counts. Best effort: a failure here changes no result.                 */
static void
s_refresh_queue_stats (recon_reconciler_t *r, int64_t inserted)
{
    r->queue_rows += inserted;
    r->queue_mods += inserted;
    if (r->queue_known && !s_queue_stale (r))
        return;
    r->queue_known = s_read_queue_stats (r) == 0;
    if (!r->queue_known || !s_queue_stale (r))
        return;
    PQclear (PQexec (recon_db_conn (r->rw), "ANALYZE (SKIP_LOCKED) recon.mismatches"));
    r->queue_mods = 0;
}

static int
s_write_batch (recon_reconciler_t *r, const recon_job_spec_t *spec,
               const recon_job_progress_t *p, const recon_copybuf_t *orders,
               const recon_copybuf_t *flags, int final)
{
    char job[24], attempt[24], done[24], found[24], run[24];
    snprintf (job, sizeof job, "%lld", (long long) spec->job_id);
    snprintf (attempt, sizeof attempt, "%lld", (long long) spec->attempt);
    snprintf (done, sizeof done, "%lld", (long long) p->orders_done);
    snprintf (found, sizeof found, "%lld", (long long) p->mismatches);
    snprintf (run, sizeof run, "%lld", (long long) spec->run_id);
    if (!r->temp_ready) {
        /*  Two statements: the simple query protocol, not PQexecParams.   */
        if (recon_db_exec (r->rw, s_temp_sql) < 0)
            return s_error (r, "creating batch tables: %s", recon_db_errstr (r->rw));
        r->temp_ready = 1;
    }
    if (s_exec (r, r->rw, "BEGIN", 0, NULL, NULL, "BEGIN"))
        return RECON_JOB_EDB;
    const char *params[] = {run};
    PGresult *opened = NULL;
    if (s_copy (r, "COPY recon_batch_flags FROM STDIN", flags)
        || s_copy (r, "COPY recon_batch_orders FROM STDIN", orders)
        || s_exec (r, r->rw, s_flags_sql, 1, params, &opened, "writing mismatches")
        || s_exec (r, r->rw, s_resolve_sql, 1, params, NULL, "auto-resolving mismatches"))
        goto fail;
    /*  The fence last, just before COMMIT: nothing above is kept unless the
        job is still ours, and its row is locked only for an instant (a
        worker paused mid-batch must not hold what the broker updates).   */
    const char *fence[] = {job, attempt, done, found, p->last_order_id, final ? "t" : "f"};
    PGresult *res = NULL;
    if (s_exec (r, r->rw,
        "UPDATE recon.jobs SET orders_done = $3, mismatches = $4, last_order_id = $5, "
        "  state = CASE WHEN $6::bool THEN 'succeeded' ELSE state END, "
        "  finished_at = CASE WHEN $6::bool THEN now() ELSE finished_at END, "
        "  locked_by = CASE WHEN $6::bool THEN NULL ELSE locked_by END, "
        "  lease_expires_at = CASE WHEN $6::bool THEN NULL ELSE lease_expires_at END "
        "WHERE job_id = $1 AND attempt = $2 AND state = 'running'",
        6, fence, &res, "fencing the batch"))
        goto fail;
    int ours = atoi (PQcmdTuples (res)) == 1;
    PQclear (res);
    if (!ours) {
        PQclear (opened);
        PQclear (PQexec (recon_db_conn (r->rw), "ROLLBACK"));
        snprintf (r->errstr, sizeof r->errstr,
                  "job %s attempt %s is no longer running here (fenced)", job, attempt);
        return RECON_JOB_FENCED;
    }
    if (s_exec (r, r->rw, "COMMIT", 0, NULL, NULL, "COMMIT"))
        goto fail;
    s_refresh_queue_stats (r, strtoll (PQgetvalue (opened, 0, 0), NULL, 10));
    PQclear (opened);
    return 0;
fail:
    PQclear (opened);
    if (recon_db_conn (r->rw))
        PQclear (PQexec (recon_db_conn (r->rw), "ROLLBACK"));
    return RECON_JOB_EDB;
}


/* ---- stream mode ------------------------------------------------------------ */

static int
s_flag_col (const PGresult *res, int row, int col)
{
    return PQgetvalue (res, row, col)[0] == 't';
}

/*  Frees the FETCH results that only the order just written pointed into. */
static void
s_release_held (recon_reconciler_t *r)
{
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < r->src[i].nheld; k++)
            PQclear (r->src[i].held[k]);
        r->src[i].nheld = 0;
    }
}

/*  Reads every row of source I for order ID into O; sets *IN_WINDOW when a
    row lies in the window. W and F are the columns of the two flags.     */
static int
s_stream_rows (recon_reconciler_t *r, int i, const char *id, s_order_t *o, int *in_window)
{
    static const int w_col[3] = {8, 6, 4};
    s_cursor_t *c = &r->src[i];
    for (;;) {
        const char *head;
        if (s_head (r, c, &head))
            return RECON_JOB_EDB;
        if (!head || strcmp (head, id) != 0)
            return 0;
        const PGresult *res = c->rows;
        int row = c->next++;
        *in_window |= s_flag_col (res, row, w_col[i]);
        if (!s_flag_col (res, row, w_col[i] + 1))
            continue; /* after as_of: it only says the order is in the window */
        if (i == 0 && s_add_event (o, res, row) < 0)
            return s_error (r, "out of memory");
        if (i == 1 && s_add_entry (o, res, row) < 0)
            return s_error (r, "out of memory");
        if (i == 2) {
            recon_fulfillment_t ff = s_fulfillment_row (res, row);
            if (o->facts.fulfillment.status == RECON_FULFILLMENT_NONE
                || ff.updated_at >= o->facts.fulfillment.updated_at)
                o->facts.fulfillment = ff;
        }
    }
}

/*  Reads orders off the three streams until N orders of the window are
    classified into the COPY buffers, or the shard ends; orders with no row
    in the window are read past. *COUNT: orders classified; r->last: the
    last of them.                                                           */
static int
s_stream_batch (recon_reconciler_t *r, const recon_job_spec_t *spec, int n, s_order_t *o,
                recon_copybuf_t *orders, recon_copybuf_t *flags, int64_t *found, int *count)
{
    char id[RECON_ORDER_ID_MAX + 1];
    recon_classification_t c;
    *count = 0;
    while (*count < n) {
        const char *heads[3];
        int best = -1;
        for (int i = 0; i < 3; i++) {
            if (s_head (r, &r->src[i], &heads[i]))
                return RECON_JOB_EDB;
            if (heads[i] && (best < 0 || strcmp (heads[i], heads[best]) < 0))
                best = i;
        }
        if (best < 0)
            break;
        if (strlen (heads[best]) > RECON_ORDER_ID_MAX)
            return s_error (r, "order id longer than %d bytes", RECON_ORDER_ID_MAX);
        snprintf (id, sizeof id, "%s", heads[best]);
        int in_window = 0;
        o->nev = o->nle = 0;
        o->facts.fulfillment = (recon_fulfillment_t) {RECON_FULFILLMENT_NONE, 0, 0, 0};
        for (int i = 0; i < 3; i++) {
            int rc = s_stream_rows (r, i, id, o, &in_window);
            if (rc)
                return rc;
        }
        if (in_window) {
            o->facts = (recon_order_facts_t) {id, o->ev, o->nev, o->le, o->nle,
                                              o->facts.fulfillment};
            if (recon_classify (&o->facts, &spec->classify, &c) < 0) {
                snprintf (r->errstr, sizeof r->errstr,
                          "order %s: amounts overflow 64-bit minor units", id);
                return RECON_JOB_EDATA;
            }
            if (s_emit_order (r, &o->facts, &c, orders, flags) < 0)
                return s_error (r, "out of memory");
            *found += (int64_t) c.nmismatches;
            snprintf (r->last, sizeof r->last, "%s", id);
            (*count)++;
        }
        s_release_held (r);
    }
    if (orders->failed || flags->failed)
        return s_error (r, "out of memory");
    return 0;
}

/*  "auto": stream when the planner puts at least a quarter of the
    processor events in the window (recon's own table, so its statistics
    are at hand); lookup otherwise, and when nothing is known yet.        */
static int
s_choose_stream (recon_reconciler_t *r, const recon_job_spec_t *spec)
{
    const char *want = spec->read_strategy;
    if (want && strcmp (want, "stream") == 0)
        return 1;
    if (want && strcmp (want, "lookup") == 0)
        return 0;
    char from[RECON_TIMESTAMP_BUFSIZE], to[RECON_TIMESTAMP_BUFSIZE], sql[512];
    s_ts (from, spec->from);
    s_ts (to, spec->to);
    snprintf (sql, sizeof sql,
              "EXPLAIN (FORMAT JSON) SELECT 1 FROM recon.processor_events "
              "WHERE (occurred_at >= '%s' AND occurred_at < '%s') "
              "   OR (imported_at >= '%s' AND imported_at < '%s')", from, to, from, to);
    PGresult *plan = NULL, *size = NULL;
    int stream = 0;
    if (s_exec (r, r->src[0].db, sql, 0, NULL, &plan, "estimating the window") == 0
        && s_exec (r, r->src[0].db, "SELECT reltuples FROM pg_class "
                   "WHERE oid = 'recon.processor_events'::regclass", 0, NULL, &size,
                   "estimating the table") == 0
        && PQntuples (plan) == 1 && PQntuples (size) == 1) {
        json_t *j = json_loads (PQgetvalue (plan, 0, 0), 0, NULL);
        double rows = json_number_value (json_object_get (
            json_object_get (json_array_get (j, 0), "Plan"), "Plan Rows"));
        double total = strtod (PQgetvalue (size, 0, 0), NULL);
        stream = total > 0 && rows >= total / 4;
        json_decref (j);
    }
    PQclear (plan);
    PQclear (size);
    r->errstr[0] = '\0'; /* an estimate that failed just means lookup */
    return stream;
}

int
recon_reconciler_stream (const recon_reconciler_t *r)
{
    return r->stream;
}

/* ---- the job ---------------------------------------------------------------- */

/*  Classifies the batch into the COPY buffers; counts flagged pairs.     */
static int
s_classify_batch (recon_reconciler_t *r, const recon_job_spec_t *spec, s_facts_t *f,
                  s_order_t *o, recon_copybuf_t *orders, recon_copybuf_t *flags, int64_t *found)
{
    recon_classification_t c;
    for (int i = 0; i < r->nbatch; i++) {
        if (s_gather (f, r->batch[i], o) < 0)
            return s_error (r, "out of memory");
        if (recon_classify (&o->facts, &spec->classify, &c) < 0) {
            snprintf (r->errstr, sizeof r->errstr,
                      "order %s: amounts overflow 64-bit minor units", r->batch[i]);
            return RECON_JOB_EDATA;
        }
        if (s_emit_order (r, &o->facts, &c, orders, flags) < 0)
            return s_error (r, "out of memory");
        *found += (int64_t) c.nmismatches;
    }
    if (orders->failed || flags->failed)
        return s_error (r, "out of memory");
    return 0;
}

int
recon_reconciler_run (recon_reconciler_t *r, const recon_job_spec_t *spec,
                      recon_job_progress_t *progress, recon_batch_fn *fn, void *arg)
{
    int batch = spec->batch_size > 0 ? spec->batch_size : S_DEFAULT_BATCH;
    r->errstr[0] = '\0';
    r->have_last = 0;
    r->stream = s_choose_stream (r, spec);
    r->queue_known = 0; /* other workers wrote meanwhile */
    int rc = s_open_cursors (r, spec, progress->last_order_id);
    s_facts_t facts = {0};
    s_order_t order = {0};
    recon_copybuf_t orders = {0}, flags = {0};
    while (rc == 0) {
        int64_t found = 0;
        int count = 0;
        orders.len = flags.len = 0;
        if (r->stream) {
            if ((rc = s_stream_batch (r, spec, batch, &order, &orders, &flags, &found, &count)))
                break;
        } else {
            if ((rc = s_next_batch (r, batch)))
                break;
            count = r->nbatch;
            if (count > 0
                && ((rc = s_fetch_facts (r, spec, &facts))
                    || (rc = s_classify_batch (r, spec, &facts, &order, &orders, &flags, &found))))
                break;
            s_free_facts (&facts);
        }
        int final = count < batch;
        if (count > 0) {
            recon_job_progress_t next = *progress;
            next.orders_done += count;
            next.mismatches += found;
            snprintf (next.last_order_id, sizeof next.last_order_id, "%s",
                      r->stream ? r->last : r->batch[count - 1]);
            if ((rc = s_write_batch (r, spec, &next, &orders, &flags, final)))
                break;
            *progress = next;
        } else if ((rc = s_write_batch (r, spec, progress, &orders, &flags, 1))) {
            break;
        }
        if (final) {
            rc = RECON_JOB_DONE;
            break;
        }
        if (fn && fn (arg, progress)) {
            rc = RECON_JOB_STOPPED;
            break;
        }
    }
    s_free_facts (&facts);
    free (order.ev);
    free (order.le);
    free (orders.data);
    free (flags.data);
    s_close_cursors (r);
    s_release_held (r);
    s_clear_batch (r);
    return rc;
}
