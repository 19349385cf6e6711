/*  users.c — users, password checks and sessions for recon-web.

    The one decision to know: the database never holds a secret that would
    let someone sign in — passwords as Argon2id strings (crypto_pwhash_str,
    interactive limits), session tokens as their SHA-256 — and a failed
    sign-in says the same thing whatever the reason, after the same work.  */
#include "recon/users.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
recon_users_init (void)
{
    return sodium_init () < 0 ? -1 : 0;
}

static int
s_name_ok (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n > 64 || strcmp (name, "recon") == 0)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '.' || *c == '_' || *c == '@' || *c == '-'))
            return 0;
    return 1;
}

static int
s_hash (const char *password, char out[crypto_pwhash_STRBYTES], char *err, size_t size)
{
    if (!password || strlen (password) < RECON_USERS_PASSWORD_MIN) {
        snprintf (err, size, "a password needs at least %d characters", RECON_USERS_PASSWORD_MIN);
        return RECON_USERS_EINVAL;
    }
    if (crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf (err, size, "out of memory hashing the password");
        return RECON_USERS_ENOMEM;
    }
    return 0;
}

static int
s_sqlstate (recon_db_t *db, const char *state)
{
    return strstr (recon_db_errstr (db), state) != NULL;
}

int
recon_users_add (recon_db_t *db, const char *name, const char *role, const char *password,
                 char *err, size_t size)
{
    if (!s_name_ok (name)) {
        snprintf (err, size, "user name '%s': 1-64 of A-Z a-z 0-9 . _ @ -, and not 'recon'",
                  name ? name : "");
        return RECON_USERS_EINVAL;
    }
    if (!role || (strcmp (role, "viewer") && strcmp (role, "reviewer"))) {
        snprintf (err, size, "role '%s': expected viewer or reviewer", role ? role : "");
        return RECON_USERS_EINVAL;
    }
    char hash[crypto_pwhash_STRBYTES];
    int rc = s_hash (password, hash, err, size);
    if (rc < 0)
        return rc;
    const char *v[] = {name, role, hash};
    PGresult *r = recon_db_query (db,
        "INSERT INTO recon.users (user_name, role, password_hash) VALUES ($1, $2, $3)", 3, v);
    sodium_memzero (hash, sizeof hash);
    if (!r) {
        if (s_sqlstate (db, "23505")) {
            snprintf (err, size, "user '%s' exists already", name);
            return RECON_USERS_EEXIST;
        }
        return RECON_USERS_EDB;
    }
    PQclear (r);
    return 0;
}

static int
s_update_user (recon_db_t *db, const char *sql, int n, const char *const *v)
{
    PGresult *r = recon_db_query (db, sql, n, v);
    if (!r)
        return RECON_USERS_EDB;
    int found = atoi (PQcmdTuples (r)) > 0;
    PQclear (r);
    if (!found)
        return RECON_USERS_ENOTFOUND;
    /*  Whoever had the old password or is now disabled is signed out.     */
    PQclear (recon_db_query (db, "DELETE FROM recon.sessions WHERE user_name = $1", 1, v));
    return 0;
}

int
recon_users_passwd (recon_db_t *db, const char *name, const char *password, char *err,
                    size_t size)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = s_hash (password, hash, err, size);
    if (rc < 0)
        return rc;
    const char *v[] = {name, hash};
    rc = s_update_user (db, "UPDATE recon.users SET password_hash = $2, updated_at = now() "
                            "WHERE user_name = $1", 2, v);
    sodium_memzero (hash, sizeof hash);
    return rc;
}

int
recon_users_disable (recon_db_t *db, const char *name)
{
    const char *v[] = {name};
    return s_update_user (db, "UPDATE recon.users SET disabled = true, updated_at = now() "
                              "WHERE user_name = $1", 1, v);
}

static void
s_fill (recon_user_t *u, PGresult *r)
{
    memset (u, 0, sizeof *u);
    snprintf (u->name, sizeof u->name, "%s", PQgetvalue (r, 0, 0));
    snprintf (u->role, sizeof u->role, "%s", PQgetvalue (r, 0, 1));
}

int
recon_users_verify (recon_db_t *db, const char *name, const char *password, recon_user_t *user)
{
    /*  A hash to check against when the user does not exist, so a wrong
        name costs the same time as a wrong password.                     */
    static const char decoy[crypto_pwhash_STRBYTES] =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *v[] = {name ? name : ""};
    PGresult *r = recon_db_query (db,
        "SELECT user_name, role, password_hash FROM recon.users "
        "WHERE user_name = $1 AND NOT disabled", 1, v);
    if (!r)
        return RECON_USERS_EDB;
    int found = PQntuples (r) == 1;
    char hash[crypto_pwhash_STRBYTES];
    snprintf (hash, sizeof hash, "%s", found ? PQgetvalue (r, 0, 2) : decoy);
    int ok = password && crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
    if (found && ok)
        s_fill (user, r);
    PQclear (r);
    return found && ok ? 0 : RECON_USERS_EDENIED;
}

int
recon_users_get (recon_db_t *db, const char *name, recon_user_t *user)
{
    const char *v[] = {name};
    PGresult *r = recon_db_query (db,
        "SELECT user_name, role FROM recon.users WHERE user_name = $1 AND NOT disabled", 1, v);
    if (!r)
        return RECON_USERS_EDB;
    int found = PQntuples (r) == 1;
    if (found)
        s_fill (user, r);
    PQclear (r);
    return found ? 0 : RECON_USERS_ENOTFOUND;
}

static void
s_random_hex (char out[RECON_TOKEN_HEX])
{
    unsigned char raw[32];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (out, RECON_TOKEN_HEX, raw, sizeof raw);
}

static void
s_sha256_hex (const char *token, char out[RECON_TOKEN_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (h, (const unsigned char *) token, strlen (token));
    sodium_bin2hex (out, RECON_TOKEN_HEX, h, sizeof h);
}

int
recon_session_start (recon_db_t *db, recon_user_t *user, int64_t lifetime_us,
                     char token[RECON_TOKEN_HEX])
{
    char hashed[RECON_TOKEN_HEX], life[32];
    s_random_hex (token);
    s_random_hex (user->csrf);
    s_sha256_hex (token, hashed);
    snprintf (life, sizeof life, "%lld", (long long) lifetime_us);
    const char *v[] = {hashed, user->name, user->csrf, life};
    PGresult *r = recon_db_query (db,
        "INSERT INTO recon.sessions (token_sha256, user_name, csrf_token, expires_at) "
        "VALUES ($1, $2, $3, now() + $4::bigint * interval '1 microsecond')", 4, v);
    if (!r)
        return RECON_USERS_EDB;
    PQclear (r);
    return 0;
}

static int
s_token_ok (const char *token)
{
    if (!token || strlen (token) != RECON_TOKEN_HEX - 1)
        return 0;
    for (const char *c = token; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

int
recon_session_find (recon_db_t *db, const char *token, recon_user_t *user)
{
    if (!s_token_ok (token))
        return RECON_USERS_ENOTFOUND;
    char hashed[RECON_TOKEN_HEX];
    s_sha256_hex (token, hashed);
    const char *v[] = {hashed};
    PGresult *r = recon_db_query (db,
        "SELECT u.user_name, u.role, s.csrf_token FROM recon.sessions s "
        "  JOIN recon.users u USING (user_name) "
        " WHERE s.token_sha256 = $1 AND s.expires_at > now() AND NOT u.disabled", 1, v);
    if (!r)
        return RECON_USERS_EDB;
    int found = PQntuples (r) == 1;
    if (found) {
        s_fill (user, r);
        snprintf (user->csrf, sizeof user->csrf, "%s", PQgetvalue (r, 0, 2));
    }
    PQclear (r);
    return found ? 0 : RECON_USERS_ENOTFOUND;
}

int
recon_session_end (recon_db_t *db, const char *token)
{
    char hashed[RECON_TOKEN_HEX] = "";
    if (s_token_ok (token))
        s_sha256_hex (token, hashed);
    const char *v[] = {hashed};
    PGresult *r = recon_db_query (db,
        "DELETE FROM recon.sessions WHERE token_sha256 = $1 OR expires_at <= now()", 1, v);
    if (!r)
        return RECON_USERS_EDB;
    PQclear (r);
    return 0;
}

int
recon_token_equal (const char *a, const char *b)
{
    if (!a || !b || strlen (a) != RECON_TOKEN_HEX - 1 || strlen (b) != RECON_TOKEN_HEX - 1)
        return 0;
    return sodium_memcmp (a, b, RECON_TOKEN_HEX - 1) == 0;
}
