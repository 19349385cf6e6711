/*  recon/config.h — settings from defaults, an optional file, RECON_* env.

    Every setting has a key (e.g. "database_url"), an environment variable
    (RECON_DATABASE_URL), a default and a one-line description; the table in
    config.c is the single source of truth, also used for --help output.
    Precedence, lowest first: default < file < environment < command line.
    Values are validated when set, so a bad value fails at start-up with the
    place it came from (FILE:LINE or the variable name).                   */
#ifndef RECON_CONFIG_H
#define RECON_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "recon/log.h"

typedef struct recon_config recon_config_t;

/*  Creates a configuration holding the defaults. NULL on allocation failure. */
recon_config_t *recon_config_new (void);

/*  Frees it; accepts NULL and sets *P to NULL.                            */
void recon_config_destroy (recon_config_t **p);

/*  Reads "key = value" lines from PATH ('#' comments, blank lines, values
    optionally in double quotes; keys as in the table, or their RECON_ names).
    Returns 0, or -1 with recon_config_errstr naming PATH:LINE and the
    problem (unknown key, bad value, unreadable file).                      */
int recon_config_load_file (recon_config_t *cfg, const char *path);

/*  The same from an open stream F (not closed), NAME standing for the file
    in messages. A line with a NUL byte is an error, not a shorter value.  */
int recon_config_load_stream (recon_config_t *cfg, FILE *f, const char *name);

/*  Applies every RECON_* variable of ENVP (NULL-terminated, like environ).
    RECON_CONFIG (the file path) and variables reserved for the tooling
    (RECON_TEST_*, RECON_SANDBOX_*, RECON_PG_BINDIR, and RECON_ENTRYPOINT_*
    for the container entry point) are not settings and
    are skipped; any other unknown RECON_ name is an error, so a typo is not
    silently ignored. Returns 0 or -1 with errstr.                          */
int recon_config_load_env (recon_config_t *cfg, char *const *envp);

/*  Start-up in one call: loads FILE (when not NULL or empty), then ENVP,
    then FLAGS — pairs "key", value, …, terminated by a NULL key; a NULL
    value is skipped, and each is reported as coming from "--key". Returns
    0 or -1 with errstr (naming FILE:LINE, the variable or the flag).      */
int recon_config_load (recon_config_t *cfg, const char *file, char *const *envp,
                       const char *const *flags);

/*  Sets LOG's format and level from the log_format and log_level settings. */
void recon_config_apply_log (const recon_config_t *cfg, recon_log_t *log);

/*  Sets KEY to VALUE after validation; SOURCE names where it came from for
    error messages (e.g. "--log-format"). Returns 0 or -1 with errstr.     */
int recon_config_set (recon_config_t *cfg, const char *key, const char *value,
                      const char *source);

/*  The current value of KEY (never NULL for a known key; "" when unset).
    Asserts KEY is known: asking for a setting that does not exist is a
    programming error. The string is owned by CFG.                          */
const char *recon_config_get (const recon_config_t *cfg, const char *key);

/*  Typed readers of validated settings (they cannot fail for known keys
    of the right type).                                                     */
int64_t recon_config_get_int (const recon_config_t *cfg, const char *key);
int64_t recon_config_get_duration_us (const recon_config_t *cfg, const char *key);

/*  The database URL for KEY ("ledger_database_url" or
    "fulfillment_database_url"), falling back to database_url when empty.  */
const char *recon_config_get_url (const recon_config_t *cfg, const char *key);

/*  Where KEY's value came from: "default", "FILE:LINE", the env var, …    */
const char *recon_config_source (const recon_config_t *cfg, const char *key);

/*  The last error, or "" when none.                                        */
const char *recon_config_errstr (const recon_config_t *cfg);

/*  Writes the table of settings (env name, default, description).         */
void recon_config_print_help (FILE *out);

/*  Writes every setting as "key = value  # source", secrets (passwords in
    URLs) masked.                                                           */
void recon_config_dump (const recon_config_t *cfg, FILE *out);

#endif
