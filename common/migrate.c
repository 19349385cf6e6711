/*  migrate.c — applies embedded SQL migrations, one transaction each.

    Design decision: the version table lives in the schema the set owns
    (recon.schema_migrations, ledger.schema_migrations, …) so the ledger and
    fulfillment reference schemas can sit in other databases than recon's
    own, each recording its own history. A transaction-scoped advisory lock
    serialises concurrent `recon db migrate` runs (several pods starting).  */
#include "recon/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const recon_migration_t recon_sql_recon[];
extern const recon_migration_t recon_sql_ledger[];
extern const recon_migration_t recon_sql_fulfillment[];

const recon_migration_set_t recon_migration_sets[] = {
    {"recon", "recon", "recon's own tables (imports, runs, jobs, mismatch queue)", recon_sql_recon},
    {"ledger", "ledger", "reference double-entry ledger (demo and tests)", recon_sql_ledger},
    {"fulfillment", "fulfillment", "reference fulfillment store (demo and tests)",
     recon_sql_fulfillment},
    {NULL, NULL, NULL, NULL},
};

/*  Advisory lock key: "reco" plus the set's position, stable across builds. */
#define S_LOCK_CLASS 0x7265636f

const recon_migration_set_t *
recon_migration_set_find (const char *name)
{
    for (const recon_migration_set_t *s = recon_migration_sets; s->name; s++)
        if (strcmp (s->name, name) == 0)
            return s;
    return NULL;
}

int
recon_migration_set_latest (const recon_migration_set_t *set)
{
    int latest = 0;
    for (const recon_migration_t *m = set->migrations; m->version; m++)
        if (m->version > latest)
            latest = m->version;
    return latest;
}

static int
s_exec (recon_db_t *db, const char *context, const char *sql)
{
    PGresult *res = PQexec (recon_db_conn (db), sql);
    int ok = PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK;
    int rc = ok ? 0 : recon_db_fail (db, res, context);
    PQclear (res);
    return rc;
}

/*  Inside a transaction: take the lock, make sure the version table exists. */
static int
s_prepare (recon_db_t *db, const recon_migration_set_t *set)
{
    char lock[128];
    snprintf (lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, %d)", S_LOCK_CLASS,
              (int) (set - recon_migration_sets));
    if (s_exec (db, "taking the migration lock", lock) < 0)
        return -1;
    char sql[512];
    snprintf (sql, sizeof sql,
              "CREATE SCHEMA IF NOT EXISTS %s;"
              "CREATE TABLE IF NOT EXISTS %s.schema_migrations ("
              " version integer PRIMARY KEY,"
              " name text NOT NULL,"
              " checksum text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now())",
              set->schema, set->schema);
    return s_exec (db, "creating the version table", sql);
}

/*  Returns 1 when M is already applied (checksum verified), 0 when not,
    -1 on error or checksum mismatch.                                       */
static int
s_applied (recon_db_t *db, const recon_migration_set_t *set, const recon_migration_t *m)
{
    char sql[256], version[16];
    snprintf (sql, sizeof sql,
              "SELECT checksum = md5($2), name FROM %s.schema_migrations WHERE version = $1",
              set->schema);
    snprintf (version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->sql};
    PGresult *res = recon_db_query (db, sql, 2, params);
    if (!res)
        return -1;
    int rc = PQntuples (res) > 0;
    if (rc && strcmp (PQgetvalue (res, 0, 0), "t") != 0) {
        char msg[512];
        snprintf (msg, sizeof msg,
                  "migration %s/%s was changed after it was applied as %s: add a new "
                  "migration instead of editing an applied one",
                  set->name, m->name, PQgetvalue (res, 0, 1));
        recon_db_fail (db, NULL, msg);
        rc = -1;
    }
    PQclear (res);
    return rc;
}

static int
s_record (recon_db_t *db, const recon_migration_set_t *set, const recon_migration_t *m)
{
    char sql[256], version[16];
    snprintf (sql, sizeof sql,
              "INSERT INTO %s.schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
              set->schema);
    snprintf (version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name, m->sql};
    PGresult *res = recon_db_query (db, sql, 3, params);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

static int
s_check_not_newer (recon_db_t *db, const recon_migration_set_t *set)
{
    int current = recon_migrate_current (db, set);
    if (current < 0)
        return -1;
    int latest = recon_migration_set_latest (set);
    if (current > latest) {
        char msg[256];
        snprintf (msg, sizeof msg,
                  "schema %s is at version %d, newer than this recon knows (%d): "
                  "upgrade recon before migrating",
                  set->schema, current, latest);
        return recon_db_fail (db, NULL, msg);
    }
    return 0;
}

/*  Applies M unless already there; one transaction. 1 applied, 0 skipped, -1 error. */
static int
s_apply_one (recon_db_t *db, const recon_migration_set_t *set, const recon_migration_t *m)
{
    int rc = -1;
    if (recon_db_exec (db, "BEGIN") < 0)
        return -1;
    if (s_prepare (db, set) < 0 || s_check_not_newer (db, set) < 0)
        goto done;
    int applied = s_applied (db, set, m);
    if (applied < 0)
        goto done;
    if (applied == 0) {
        char context[300];
        snprintf (context, sizeof context, "migration %s/%s failed", set->name, m->name);
        PGresult *res = PQexec (recon_db_conn (db), m->sql);
        int ok = PQresultStatus (res) == PGRES_COMMAND_OK
                 || PQresultStatus (res) == PGRES_TUPLES_OK;
        if (!ok)
            recon_db_fail (db, res, context);
        PQclear (res);
        if (!ok || s_record (db, set, m) < 0)
            goto done;
    }
    if (recon_db_exec (db, "COMMIT") < 0)
        return -1;
    return applied == 0;
done:
    PQclear (PQexec (recon_db_conn (db), "ROLLBACK"));
    return rc;
}

int
recon_migrate_apply (recon_db_t *db, const recon_migration_set_t *set, recon_log_t *log,
                     int *applied)
{
    int count = 0;
    if (applied)
        *applied = 0;
    if (!recon_db_ok (db))
        return -1;
    for (const recon_migration_t *m = set->migrations; m->version; m++) {
        int rc = s_apply_one (db, set, m);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            char version[16];
            snprintf (version, sizeof version, "%d", m->version);
            recon_log_kv (log, RECON_LOG_INFO, "migrate.applied", "set", set->name,
                          "version", version, "name", m->name, NULL);
            count++;
        }
    }
    if (applied)
        *applied = count;
    return 0;
}

int
recon_migrate_current (recon_db_t *db, const recon_migration_set_t *set)
{
    /*  to_regclass first: selecting from a missing table would abort an
        enclosing transaction.                                             */
    char sql[256];
    char probe[160];
    snprintf (probe, sizeof probe, "SELECT to_regclass('%s.schema_migrations') IS NOT NULL",
              set->schema);
    PGresult *res = recon_db_query (db, probe, 0, NULL);
    if (!res)
        return -1;
    int exists = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    if (!exists)
        return 0;
    snprintf (sql, sizeof sql, "SELECT coalesce(max(version), 0) FROM %s.schema_migrations",
              set->schema);
    res = recon_db_query (db, sql, 0, NULL);
    if (!res)
        return -1;
    int v = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}
