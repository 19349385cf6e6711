/*  test_db.h — one value from the database while faults are injected:
    a test polls through PostgreSQL restarts, so "not now" is an answer,
    not a failure. Header-only, like the other test helpers.               */
#ifndef RECON_TEST_DB_H
#define RECON_TEST_DB_H

#include <libpq-fe.h>
#include <stdlib.h>

/*  The first column of the first row of SQL on URL; -1 while the database
    does not answer, the statement fails, or the value is NULL.            */
static inline long
test_try_scalar (const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb (url);
    long v = -1;
    if (PQstatus (conn) == CONNECTION_OK) {
        PGresult *r = PQexec (conn, sql);
        if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r) && !PQgetisnull (r, 0, 0))
            v = atol (PQgetvalue (r, 0, 0));
        PQclear (r);
    }
    PQfinish (conn);
    return v;
}

#endif
