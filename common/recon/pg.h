/*  recon/pg.h — a PostgreSQL connection with an error string (hiredis style).

    recon_db_connect always returns an object (NULL only when memory runs
    out); check recon_db_ok and read recon_db_errstr, so callers can log the
    reason a connection failed without juggling libpq's own error buffers.
    Every session is set to UTC and UTF-8 so timestamps and text round-trip
    identically whatever the server's defaults.                            */
#ifndef RECON_PG_H
#define RECON_PG_H

#include <libpq-fe.h>

typedef struct recon_db recon_db_t;

/*  Connects to URL (libpq URL or key=value string), naming the session
    APPLICATION_NAME in pg_stat_activity. Returns NULL only on OOM.        */
recon_db_t *recon_db_connect (const char *url, const char *application_name);

/*  Closes the connection; accepts NULL and sets *P to NULL.               */
void recon_db_destroy (recon_db_t **p);

/*  1 while connected and no error has been recorded, else 0.              */
int recon_db_ok (const recon_db_t *db);

/*  The last error ("" when none). Owned by DB.                            */
const char *recon_db_errstr (const recon_db_t *db);

/*  The libpq connection, owned by DB (NULL if connecting failed).         */
PGconn *recon_db_conn (recon_db_t *db);

/*  Runs SQL (may hold several statements) expecting no rows.
    Returns 0, or -1 with errstr set (the server's message and, where the
    server says, the SQLSTATE).                                             */
int recon_db_exec (recon_db_t *db, const char *sql);

/*  Runs a parameterised statement (text parameters, text results).
    Returns the result (caller PQclears it) or NULL with errstr set when the
    statement failed.                                                       */
PGresult *recon_db_query (recon_db_t *db, const char *sql, int nparams,
                          const char *const *params);

/*  Records a libpq result's error as errstr and returns -1 (for callers
    that run statements themselves).                                         */
int recon_db_fail (recon_db_t *db, const PGresult *res, const char *context);

#endif
