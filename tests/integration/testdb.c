/*  testdb.c — per-test databases on the sandbox server.

    Design decision: derive the new connection string from the base one
    with PQconninfoParse (not string surgery), so any URL or key=value form
    the harness uses keeps working.                                        */
#include "testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>

static const char *
s_base (void)
{
    const char *base = getenv ("RECON_DATABASE_URL");
    if (!base || !*base)
        fail_msg ("RECON_DATABASE_URL is not set: run the suites with the README's test "
                  "command (./dev test), which starts a sandbox");
    return base;
}

/*  Appends key='value' with libpq quoting rules.                          */
static void
s_append (char *out, size_t size, const char *key, const char *value)
{
    size_t len = strlen (out);
    len += (size_t) snprintf (out + len, size - len, "%s%s='", len ? " " : "", key);
    for (const char *c = value; *c && len + 3 < size; c++) {
        if (*c == '\'' || *c == '\\')
            out[len++] = '\\';
        out[len++] = *c;
    }
    snprintf (out + len, size - len, "'");
}

static char *
s_with_dbname (const char *base, const char *dbname)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse (base, &err);
    if (!opts)
        fail_msg ("cannot parse RECON_DATABASE_URL: %s", err ? err : "?");
    char *out = calloc (1, 4096);
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val && strcmp (o->keyword, "dbname") != 0)
            s_append (out, 4096, o->keyword, o->val);
    s_append (out, 4096, "dbname", dbname);
    PQconninfoFree (opts);
    return out;
}

static void
s_admin (const char *sql)
{
    PGconn *conn = PQconnectdb (s_base ());
    if (PQstatus (conn) != CONNECTION_OK)
        fail_msg ("cannot connect to RECON_DATABASE_URL: %s", PQerrorMessage (conn));
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    PQfinish (conn);
}

char *
testdb_create (void)
{
    /*  pid + nanoseconds: unique without a counter (no global state); two
        creations are milliseconds apart at least.                        */
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    char name[64], sql[128];
    snprintf (name, sizeof name, "t_%d_%lld_%ld", (int) getpid (), (long long) ts.tv_sec,
              ts.tv_nsec);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", name);
    s_admin (sql);
    return s_with_dbname (s_base (), name);
}

void
testdb_drop (char **url)
{
    if (!url || !*url)
        return;
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse (*url, &err);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp (o->keyword, "dbname") == 0 && o->val) {
            char sql[128];
            snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", o->val);
            s_admin (sql);
        }
    PQconninfoFree (opts);
    free (*url);
    *url = NULL;
}
