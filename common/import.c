/*  import.c — one file, one transaction: CSV → checks → COPY → merge.

    Design decision: rows are checked in C while streaming (constant
    memory), good rows go straight into a COPY to a temporary table, and
    rejected rows are spooled to an unlinked temporary file and COPYed into
    recon.import_rejects after — one connection, one transaction, so a
    crash half-way leaves nothing behind and a re-run starts clean.

    A first load (processor events into an empty table) skips the staging
    table: its keys are dropped, the rows COPYed straight in and the keys
    built after, by sort — the way pg_restore loads — which is several
    times cheaper than upkeeping two B-trees row by row. It needs the
    table's ACCESS EXCLUSIVE lock, taken only if free at once (NOWAIT);
    otherwise, or if the table holds a row, the import merges as always. */
#include "recon/import.h"
#include "import_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_FLUSH_AT (256 * 1024)
#define S_MAX_KEYS 16

typedef struct {
    recon_db_t *db;
    const recon_import_options_t *opt;
    const import_format_t *fmt;
    const char *path;
    recon_import_result_t *res;
    recon_csv_t *csv;
    import_row_t row;
    recon_copybuf_t copy;    /* staging lines waiting to be sent */
    recon_copybuf_t rejects; /* reject lines waiting to be spooled */
    FILE *spool;
    char import_id[24];
    int first_load;            /* rows go straight into fmt->bulk->table */
    int64_t copied;            /* lines sent to the COPY */
    char *keys[S_MAX_KEYS];    /* first load: each key's DDL, rebuilt at the end */
    int nkeys;
} s_job_t;

static void
s_fail (s_job_t *job, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_fail (s_job_t *job, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (job->res->errstr, sizeof job->res->errstr, fmt, ap);
    va_end (ap);
}

int
recon_import_format_known (recon_import_source_t source, const char *format)
{
    return import_format_find (source, format) != NULL;
}

static const char *
s_source_name (recon_import_source_t source)
{
    return source == RECON_IMPORT_PROCESSOR ? "processor"
           : source == RECON_IMPORT_LEDGER  ? "ledger"
                                            : "fulfillment";
}

static int
s_spool_flush (s_job_t *job)
{
    if (job->rejects.len && fwrite (job->rejects.data, 1, job->rejects.len, job->spool)
                                != job->rejects.len) {
        s_fail (job, "cannot write the rejects spool: %s", strerror (errno));
        return -1;
    }
    job->rejects.len = 0;
    return 0;
}

static int
s_reject (s_job_t *job, long line, const char *field, const char *reason)
{
    recon_copybuf_t *b = &job->rejects;
    recon_copybuf_cstr (b, job->import_id);
    recon_copybuf_tab (b);
    recon_copybuf_raw (b, job->path, strlen (job->path));
    recon_copybuf_tab (b);
    recon_copybuf_int (b, line);
    recon_copybuf_tab (b);
    if (field)
        recon_copybuf_raw (b, field, strlen (field));
    else
        recon_copybuf_null (b);
    recon_copybuf_tab (b);
    recon_copybuf_raw (b, reason, strlen (reason));
    recon_copybuf_tab (b);
    size_t raw_len = 0;
    const char *raw = job->csv ? recon_csv_raw (job->csv, &raw_len) : "";
    recon_copybuf_raw (b, raw ? raw : "", raw ? raw_len : 0);
    recon_copybuf_end (b);
    job->res->rejected++;
    if (job->opt->on_reject)
        job->opt->on_reject (job->opt->on_reject_arg, job->path, line, field, reason);
    if (b->failed) {
        s_fail (job, "out of memory");
        return -1;
    }
    return b->len > S_FLUSH_AT ? s_spool_flush (job) : 0;
}

static void
s_count_skip (recon_import_result_t *res, const char *category)
{
    res->skipped++;
    int i;
    for (i = 0; i < res->ncategories; i++)
        if (strcmp (res->categories[i].name, category) == 0)
            break;
    if (i == res->ncategories) {
        if (res->ncategories == RECON_IMPORT_MAX_CATEGORIES) {
            /*  The last slot collects every further category.             */
            i = RECON_IMPORT_MAX_CATEGORIES - 1;
            snprintf (res->categories[i].name, sizeof res->categories[i].name, "(other)");
        } else {
            res->ncategories++;
            snprintf (res->categories[i].name, sizeof res->categories[i].name, "%s", category);
        }
    }
    res->categories[i].count++;
}

static int
s_exec (s_job_t *job, const char *sql)
{
    if (recon_db_exec (job->db, sql) < 0) {
        s_fail (job, "%s", recon_db_errstr (job->db));
        return -1;
    }
    return 0;
}

static int
s_begin (s_job_t *job)
{
    if (s_exec (job, "BEGIN") < 0)
        return -1;
    const char *params[] = {s_source_name (job->fmt->source), job->fmt->format, job->path};
    PGresult *r = recon_db_query (job->db,
        "INSERT INTO recon.imports (source, format, file_name) VALUES ($1, $2, $3) "
        "RETURNING import_id", 3, params);
    if (!r) {
        s_fail (job, "%s", recon_db_errstr (job->db));
        return -1;
    }
    snprintf (job->import_id, sizeof job->import_id, "%s", PQgetvalue (r, 0, 0));
    job->res->import_id = atoll (job->import_id);
    PQclear (r);
    return 0;
}

static int
s_send_copy (s_job_t *job)
{
    if (job->copy.failed) {
        s_fail (job, "out of memory");
        return -1;
    }
    if (job->copy.len
        && PQputCopyData (recon_db_conn (job->db), job->copy.data, (int) job->copy.len) != 1) {
        s_fail (job, "COPY failed: %s", PQerrorMessage (recon_db_conn (job->db)));
        return -1;
    }
    job->copy.len = 0;
    return 0;
}

static int
s_end_copy (s_job_t *job, const char *error)
{
    PGconn *conn = recon_db_conn (job->db);
    if (PQputCopyEnd (conn, error) != 1) {
        s_fail (job, "COPY failed: %s", PQerrorMessage (conn));
        return -1;
    }
    PGresult *r = PQgetResult (conn);
    int ok = PQresultStatus (r) == PGRES_COMMAND_OK;
    if (!ok && !error) {
        recon_db_fail (job->db, r, "COPY");
        s_fail (job, "%s", recon_db_errstr (job->db));
    }
    PQclear (r);
    while ((r = PQgetResult (conn)))
        PQclear (r);
    return ok ? 0 : -1;
}

static int
s_start_copy (s_job_t *job, const char *sql)
{
    PGresult *r = PQexec (recon_db_conn (job->db), sql);
    int ok = PQresultStatus (r) == PGRES_COPY_IN;
    if (!ok) {
        recon_db_fail (job->db, r, "COPY");
        s_fail (job, "%s", recon_db_errstr (job->db));
    }
    PQclear (r);
    return ok ? 0 : -1;
}

/* ---- first load ------------------------------------------------------------ */

/*  Runs SQL that may fail without failing the import (the caller rolls
    back to a savepoint), so no error is recorded on the connection: the
    next file of the same `recon import` uses it. Returns 0 or -1.        */
static int
s_try (s_job_t *job, const char *sql)
{
    PGresult *r = PQexec (recon_db_conn (job->db), sql);
    ExecStatusType st = PQresultStatus (r);
    PQclear (r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

static void
s_forget_keys (s_job_t *job)
{
    for (int i = 0; i < job->nkeys; i++)
        free (job->keys[i]);
    job->nkeys = 0;
}

/*  Each index of TABLE (constraint or not) as a statement dropping it and
    one building it again, from the catalog — so the keys a later schema
    version adds are rebuilt too. Returns the result or NULL.             */
static PGresult *
s_key_ddl (s_job_t *job)
{
    const char *params[] = {job->fmt->bulk->table};
    return PQexecParams (recon_db_conn (job->db),
        "SELECT CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass) "
        "            ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, "
        "                        c.conname) END, "
        "       CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid) "
        "            ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, "
        "                        c.conname, pg_get_constraintdef(c.oid)) END "
        "  FROM pg_index i LEFT JOIN pg_constraint c "
        "    ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "   AND c.contype IN ('p', 'u', 'x') "
        " WHERE i.indrelid = $1::regclass "
        /*  Unique keys first: a repeated key then shows before the time
            is spent on the others.                                       */
        " ORDER BY i.indisunique DESC, i.indexrelid",
        1, NULL, params, NULL, NULL, 0);
}

/*  Drops the keys, keeping their DDL. Returns 0, or -1 when one cannot be
    dropped (not the owner; another table's foreign key needs it).        */
static int
s_drop_keys (s_job_t *job)
{
    PGresult *r = s_key_ddl (job);
    int n = PQresultStatus (r) == PGRES_TUPLES_OK ? PQntuples (r) : -1;
    if (n < 0 || n > S_MAX_KEYS) {
        PQclear (r);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (s_try (job, PQgetvalue (r, i, 0)) < 0
            || !(job->keys[job->nkeys++] = strdup (PQgetvalue (r, i, 1)))) {
            PQclear (r);
            return -1;
        }
    }
    PQclear (r);
    return 0;
}

/*  Decides, before any row is sent, whether this import is a first load:
    the format has one, the table's ACCESS EXCLUSIVE lock is free at once
    and the table holds no row. Then drops its keys. Whatever fails here
    is undone to the savepoint and the import merges as always.           */
static void
s_first_load_begin (s_job_t *job)
{
    const import_bulk_t *bulk = job->fmt->bulk;
    if (!bulk || s_try (job, "SAVEPOINT recon_first_load") < 0)
        return;
    char sql[256];
    snprintf (sql, sizeof sql, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT", bulk->table);
    int empty = 0;
    if (s_try (job, sql) == 0) {
        snprintf (sql, sizeof sql, "SELECT NOT EXISTS (SELECT FROM %s)", bulk->table);
        PGresult *r = PQexec (recon_db_conn (job->db), sql);
        empty = PQresultStatus (r) == PGRES_TUPLES_OK && strcmp (PQgetvalue (r, 0, 0), "t") == 0;
        PQclear (r);
    }
    if (empty && s_drop_keys (job) == 0
        && s_try (job, "RELEASE SAVEPOINT recon_first_load") == 0) {
        job->first_load = 1;
        return;
    }
    s_forget_keys (job);
    s_try (job, "ROLLBACK TO SAVEPOINT recon_first_load");
    s_try (job, "RELEASE SAVEPOINT recon_first_load");
}

/*  Builds the dropped keys. Returns 0; 1 when REPEATS_EXPECTED and a
    unique key met a repeated value (nothing recorded: the caller removes
    the repeats); -1 with recon_db_errstr set on any other failure.       */
static int
s_build_keys (s_job_t *job, int repeats_expected)
{
    for (int i = 0; i < job->nkeys; i++) {
        PGresult *r = PQexec (recon_db_conn (job->db), job->keys[i]);
        int rc = 0;
        if (PQresultStatus (r) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
            rc = repeats_expected && state && strcmp (state, "23505") == 0
                     ? 1 : recon_db_fail (job->db, r, "building the table's keys");
        }
        PQclear (r);
        if (rc)
            return rc;
    }
    return 0;
}

/*  Builds the keys again. A file repeating a key fails its unique build:
    then, and only then, the repeats are removed as a merge would (later
    lines rejected or counted duplicate) and the keys built once more.   */
static int
s_first_load_finish (s_job_t *job)
{
    int64_t removed = 0;
    if (s_exec (job, "SAVEPOINT recon_keys") < 0)
        return -1;
    int rc = s_build_keys (job, 1);
    if (rc == 1) {
        if (s_exec (job, "ROLLBACK TO SAVEPOINT recon_keys") < 0)
            return -1;
        removed = job->fmt->bulk->dedupe (job->db, job->import_id, job->path, job->res);
        rc = removed < 0 ? -1 : s_build_keys (job, 0);
    }
    if (rc < 0) {
        s_fail (job, "%s", recon_db_errstr (job->db));
        return -1;
    }
    job->res->imported += job->copied - removed;
    job->res->first_load = 1;
    return s_exec (job, "RELEASE SAVEPOINT recon_keys");
}

/*  Streams every record: good ones into the COPY, the rest counted.       */
static int
s_stream_rows (s_job_t *job)
{
    if (s_start_copy (job, job->first_load ? job->fmt->bulk->copy_sql
                                           : "COPY recon_import_staging FROM STDIN") < 0)
        return -1;
    int rc;
    while ((rc = recon_csv_next (job->csv)) != 0) {
        long line = recon_csv_line (job->csv);
        if (recon_csv_is_fatal (rc)) {
            s_fail (job, "%s: %s", job->path, recon_csv_errstr (job->csv));
            goto fail;
        }
        job->res->rows++;
        if (rc < 0) {
            if (s_reject (job, line, NULL, recon_csv_errstr (job->csv)) < 0)
                goto fail;
            continue;
        }
        size_t mark = job->copy.len;
        int verdict = job->fmt->map (&job->row, &job->copy);
        if (verdict == IMPORT_ROW_OK) {
            recon_copybuf_int (&job->copy, line);
            if (job->first_load) {
                recon_copybuf_tab (&job->copy);
                recon_copybuf_cstr (&job->copy, job->import_id);
            }
            recon_copybuf_end (&job->copy);
            job->copied++;
        } else {
            job->copy.len = mark;
            if (verdict == IMPORT_ROW_SKIP)
                s_count_skip (job->res, job->row.skip_category);
            else if (s_reject (job, line, job->row.reject_field, job->row.reject_reason) < 0)
                goto fail;
        }
        if (job->copy.len > S_FLUSH_AT && s_send_copy (job) < 0)
            goto fail;
    }
    if (s_send_copy (job) < 0)
        goto fail;
    return s_end_copy (job, NULL);
fail:
    s_end_copy (job, "import aborted");
    return -1;
}

/*  COPYs the spooled rejects into recon.import_rejects.                    */
static int
s_store_rejects (s_job_t *job)
{
    if (s_spool_flush (job) < 0)
        return -1;
    if (job->res->rejected == 0)
        return 0;
    if (s_start_copy (job, "COPY recon.import_rejects (import_id, file_name, line, field, reason, "
                           "raw) FROM STDIN") < 0)
        return -1;
    rewind (job->spool);
    char chunk[65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, job->spool)) > 0)
        if (PQputCopyData (recon_db_conn (job->db), chunk, (int) n) != 1) {
            s_end_copy (job, "spool read failed");
            return -1;
        }
    return s_end_copy (job, NULL);
}

static int
s_finish (s_job_t *job)
{
    recon_import_result_t *res = job->res;
    /*  In-file rejects found by SQL are added by finalize; what remains is
        rows that were already there.                                      */
    res->duplicate = res->rows - res->imported - res->updated - res->skipped - res->rejected;
    char counts[6][24], *cats = NULL;
    size_t cats_len = 0;
    FILE *mem = open_memstream (&cats, &cats_len);
    if (!mem) {
        s_fail (job, "out of memory");
        return -1;
    }
    fputc ('{', mem);
    for (int i = 0; i < res->ncategories; i++) {
        /*  Category names come from the file: keep only safe characters. */
        fprintf (mem, "%s\"", i ? "," : "");
        for (const char *c = res->categories[i].name; *c; c++)
            if ((unsigned char) *c >= 0x20 && *c != '"' && *c != '\\' && (unsigned char) *c < 0x80)
                fputc (*c, mem);
        fprintf (mem, "\":%lld", (long long) res->categories[i].count);
    }
    fputc ('}', mem);
    fclose (mem);
    snprintf (counts[0], 24, "%lld", (long long) res->imported);
    snprintf (counts[1], 24, "%lld", (long long) res->duplicate);
    snprintf (counts[2], 24, "%lld", (long long) res->skipped);
    snprintf (counts[3], 24, "%lld", (long long) res->rejected);
    snprintf (counts[4], 24, "%lld", (long long) res->updated);
    const char *params[] = {job->import_id, counts[0], counts[1], counts[2], counts[3], cats,
                            counts[4]};
    PGresult *r = recon_db_query (job->db,
        "UPDATE recon.imports SET finished_at = clock_timestamp(), rows_imported = $2, "
        "rows_duplicate = $3, rows_skipped = $4, rows_rejected = $5, "
        "skipped_by_category = $6::jsonb, rows_updated = $7 WHERE import_id = $1",
        7, params);
    free (cats);
    if (!r) {
        s_fail (job, "%s", recon_db_errstr (job->db));
        return -1;
    }
    PQclear (r);
    return s_exec (job, "COMMIT");
}

/*  Rejects the merge found (conflicts with stored rows, repeated keys in
    the file) are already in the table; tell the caller about them too.
    Row-level rejects are still in the spool at this point.              */
static int
s_report_sql_rejects (s_job_t *job)
{
    if (!job->opt->on_reject)
        return 0;
    const char *params[] = {job->import_id};
    PGresult *r = recon_db_query (job->db,
        "SELECT line, field, reason FROM recon.import_rejects WHERE import_id = $1 "
        "ORDER BY line LIMIT 100", 1, params);
    if (!r) {
        s_fail (job, "%s", recon_db_errstr (job->db));
        return -1;
    }
    for (int i = 0; i < PQntuples (r); i++)
        job->opt->on_reject (job->opt->on_reject_arg, job->path, atol (PQgetvalue (r, i, 0)),
                             PQgetisnull (r, i, 1) ? NULL : PQgetvalue (r, i, 1),
                             PQgetvalue (r, i, 2));
    PQclear (r);
    return 0;
}

static int
s_run (s_job_t *job)
{
    if (s_begin (job) < 0)
        return -1;
    int hrc = recon_csv_read_header (job->csv);
    const char *missing = hrc < 0 ? NULL
                                   : import_resolve_columns (job->fmt, job->csv, job->row.cols);
    if (hrc < 0 || missing) {
        char reason[300];
        if (hrc < 0)
            snprintf (reason, sizeof reason, "cannot read the header: %s",
                      recon_csv_errstr (job->csv));
        else
            snprintf (reason, sizeof reason, "the header has no column '%s' (is --format %s "
                      "right for this file?)", missing, job->fmt->format);
        if (s_reject (job, 1, missing, reason) < 0)
            return -1;
        job->res->rows = 1; /* the header line itself is what was kept */
    } else {
        job->row.csv = job->csv;
        job->row.decimal_mark = job->opt->decimal_mark ? job->opt->decimal_mark : '.';
        job->row.processor = job->opt->processor ? job->opt->processor : job->fmt->format;
        s_first_load_begin (job);
        /*  A first load COPYs into the table itself: no staging.           */
        if (!job->first_load && s_exec (job, job->fmt->staging_sql) < 0)
            return -1;
        if (s_stream_rows (job) < 0)
            return -1;
        if (job->first_load) {
            if (s_first_load_finish (job) < 0)
                return -1;
        } else {
            /*  A temporary table has no statistics until asked: without
                them the set-based checks below are planned for an empty
                table.                                                     */
            if (recon_db_exec (job->db, "ANALYZE recon_import_staging") < 0) {
                s_fail (job, "%s", recon_db_errstr (job->db));
                return -1;
            }
            if (job->fmt->finalize (job->db, job->import_id, job->path, job->res) < 0) {
                s_fail (job, "%s", recon_db_errstr (job->db));
                return -1;
            }
        }
        if (s_report_sql_rejects (job) < 0)
            return -1;
    }
    if (s_store_rejects (job) < 0)
        return -1;
    return s_finish (job);
}

/*  New events sit in BRIN ranges that are not summarised yet, and an
    unsummarised range matches every window: summarise them now, so the
    next run's window lookup skips what it should. Best effort, after the
    import committed: without the right (owner) it is autovacuum's job
    (autosummarize), and the import is not the worse for it.              */
static void
s_summarize_brin (recon_db_t *db)
{
    PGresult *r = PQexec (recon_db_conn (db),
        "SELECT brin_summarize_new_values('recon.processor_events_occurred_brin'::regclass), "
        "       brin_summarize_new_values('recon.processor_events_imported_brin'::regclass)");
    PQclear (r);
}

/*  A table filled from empty has no statistics until autovacuum gets to
    it (a minute or more), and until then the planner guesses: a run right
    after a first import read each batch by sequential scan (0.7 s a batch
    at 200k orders, a run 15x slower). ANALYZE samples a bounded number of
    rows, so after any sizeable import it is cheap; best effort, like the
    BRIN summary (a read-only role may not be the owner).                 */
static void
s_analyze_targets (recon_db_t *db, recon_import_source_t source, const recon_import_result_t *res)
{
    if (res->imported + res->updated < 1000)
        return;
    const char *sql = source == RECON_IMPORT_PROCESSOR ? "ANALYZE recon.processor_events"
                      : source == RECON_IMPORT_LEDGER  ? "ANALYZE ledger.journal_entries, ledger.postings"
                                                       : "ANALYZE fulfillment.orders";
    PQclear (PQexec (recon_db_conn (db), sql));
}

int
recon_import_file (recon_db_t *db, const recon_import_options_t *opt, const char *path,
                   recon_import_result_t *result)
{
    memset (result, 0, sizeof *result);
    s_job_t job = {.db = db, .opt = opt, .path = path, .res = result};
    for (int c = 0; c < IMPORT_MAX_COLUMNS; c++)
        job.row.cols[c] = -1;
    int rc = -1, fd = -1;
    job.fmt = import_format_find (opt->source, opt->format);
    if (!job.fmt) {
        s_fail (&job, "unknown %s format '%s'", s_source_name (opt->source),
                opt->format ? opt->format : "");
        return -1;
    }
    if (!recon_db_ok (db)) {
        s_fail (&job, "%s", recon_db_errstr (db));
        return -1;
    }
    fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s_fail (&job, "%s: %s", path, strerror (errno));
        return -1;
    }
    job.csv = recon_csv_new (fd, path);
    job.spool = tmpfile ();
    if (!job.csv || !job.spool) {
        s_fail (&job, "out of memory or no temporary file");
        goto done;
    }
    rc = s_run (&job);
    if (rc == 0 && opt->source == RECON_IMPORT_PROCESSOR)
        s_summarize_brin (db);
    if (rc == 0)
        s_analyze_targets (db, opt->source, result);
    if (rc < 0) {
        /*  Keep the first error: the rollback must not overwrite it.      */
        PQclear (PQexec (recon_db_conn (db), "ROLLBACK"));
        result->rows = result->imported = result->updated = result->duplicate = 0;
        result->skipped = result->rejected = 0;
        result->first_load = 0;
    }
done:
    recon_csv_destroy (&job.csv);
    if (job.spool)
        fclose (job.spool);
    free (job.copy.data);
    free (job.rejects.data);
    s_forget_keys (&job);
    close (fd);
    return rc;
}
