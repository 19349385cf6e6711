/*  pg.c — libpq connection wrapper carrying an error string.

    Design decision: the wrapper adds only what every caller needs (UTC
    session, application name, errors as strings with SQLSTATE); queries
    still go through libpq directly so COPY and pipelining stay available. */
#include "recon/pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recon_db {
    PGconn *conn;
    int failed;
    char errstr[1024];
};

/*  The length of S without the newline (and spaces) libpq messages end
    in: log lines must not end in one, and a SQLSTATE goes on its line.   */
static size_t
s_unterminated_len (const char *s)
{
    size_t len = strlen (s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
        len--;
    return len;
}

static void
s_set_error (recon_db_t *db, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_set_error (recon_db_t *db, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (db->errstr, sizeof db->errstr, fmt, ap);
    va_end (ap);
    db->errstr[s_unterminated_len (db->errstr)] = '\0';
    db->failed = 1;
}

recon_db_t *
recon_db_connect (const char *url, const char *application_name)
{
    recon_db_t *db = calloc (1, sizeof *db);
    if (!db)
        return NULL;
    /*  connect_timeout comes first so URL can override it: without one a
        host that drops packets stalls a daemon's loop for minutes.       */
    const char *keys[] = {"connect_timeout", "dbname", "application_name", "client_encoding",
                          "options", NULL};
    const char *values[] = {"10", url, application_name ? application_name : "recon", "UTF8",
                            "-c TimeZone=UTC -c client_min_messages=warning", NULL};
    /*  expand_dbname=1 lets URL be a full connection string or URL.      */
    db->conn = PQconnectdbParams (keys, values, 1);
    if (!db->conn)
        s_set_error (db, "out of memory connecting to PostgreSQL");
    else if (PQstatus (db->conn) != CONNECTION_OK)
        s_set_error (db, "cannot connect to PostgreSQL: %s", PQerrorMessage (db->conn));
    return db;
}

void
recon_db_destroy (recon_db_t **p)
{
    if (!p || !*p)
        return;
    if ((*p)->conn)
        PQfinish ((*p)->conn);
    free (*p);
    *p = NULL;
}

int
recon_db_ok (const recon_db_t *db)
{
    return db && !db->failed && db->conn && PQstatus (db->conn) == CONNECTION_OK;
}

const char *
recon_db_errstr (const recon_db_t *db)
{
    return db ? db->errstr : "no connection";
}

PGconn *
recon_db_conn (recon_db_t *db)
{
    return db->conn;
}

int
recon_db_fail (recon_db_t *db, const PGresult *res, const char *context)
{
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage (res) : "";
    if (!msg || !*msg)
        msg = PQerrorMessage (db->conn);
    s_set_error (db, "%s%s%.*s%s%s", context ? context : "", context ? ": " : "",
                 (int) s_unterminated_len (msg), msg,
                 state ? " SQLSTATE " : "", state ? state : "");
    return -1;
}

int
recon_db_exec (recon_db_t *db, const char *sql)
{
    if (!db->conn)
        return -1;
    PGresult *res = PQexec (db->conn, sql);
    ExecStatusType st = PQresultStatus (res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = recon_db_fail (db, res, NULL);
    PQclear (res);
    return rc;
}

PGresult *
recon_db_query (recon_db_t *db, const char *sql, int nparams, const char *const *params)
{
    if (!db->conn)
        return NULL;
    PGresult *res = PQexecParams (db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        recon_db_fail (db, res, NULL);
        PQclear (res);
        return NULL;
    }
    return res;
}
