/*  recon/migrate.h — versioned SQL migrations, applied idempotently.

    A migration set (recon's own schema, the reference ledger, the
    reference fulfillment store) is an ordered list of SQL files embedded in
    the binary at build time. Each migration runs in one transaction under
    an advisory lock and is recorded in <schema>.schema_migrations with a
    checksum, so concurrent migrators are safe, a re-run changes nothing
    and an edited, already-applied migration is refused.                   */
#ifndef RECON_MIGRATE_H
#define RECON_MIGRATE_H

#include "recon/log.h"
#include "recon/pg.h"

typedef struct {
    int version;        /* from the file name, e.g. 1 for 0001_init.sql */
    const char *name;   /* the file name */
    const char *sql;
} recon_migration_t;

typedef struct {
    const char *name;   /* "recon", "ledger", "fulfillment" */
    const char *schema; /* the PostgreSQL schema it owns */
    const char *help;
    const recon_migration_t *migrations; /* terminated by version 0 */
} recon_migration_set_t;

/*  The known sets, terminated by a NULL name.                              */
extern const recon_migration_set_t recon_migration_sets[];

/*  The set called NAME, or NULL.                                            */
const recon_migration_set_t *recon_migration_set_find (const char *name);

/*  The highest version in SET.                                              */
int recon_migration_set_latest (const recon_migration_set_t *set);

/*  Applies every migration of SET not yet recorded in DB, oldest first,
    each in its own transaction. *APPLIED (may be NULL) receives how many
    ran. Returns 0; or -1 with recon_db_errstr (DB) saying which migration
    failed and why, when the database is newer than this binary, or when an
    applied migration's checksum differs from the embedded SQL.            */
int recon_migrate_apply (recon_db_t *db, const recon_migration_set_t *set,
                         recon_log_t *log, int *applied);

/*  The version DB is at for SET (0 when never migrated), or -1 on error.  */
int recon_migrate_current (recon_db_t *db, const recon_migration_set_t *set);

#endif
