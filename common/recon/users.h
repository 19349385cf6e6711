/*  users.h — who may read (viewer) and work (reviewer) the mismatch queue,
    and their signed-in sessions.

    Passwords are hashed with libsodium's crypto_pwhash_str (Argon2id);
    session tokens are 256 random bits, stored only as their SHA-256; each
    session has its own CSRF token.                                         */
#ifndef RECON_USERS_H
#define RECON_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "recon/pg.h"

enum {
    RECON_USERS_EDB = -1,      /* the database failed: recon_db_errstr */
    RECON_USERS_EINVAL = -2,   /* bad name, role or password (message in ERR) */
    RECON_USERS_EEXIST = -3,   /* the user exists already */
    RECON_USERS_ENOTFOUND = -4,/* no such user */
    RECON_USERS_EDENIED = -5,  /* wrong password, disabled, or no such user */
    RECON_USERS_ENOMEM = -6,   /* libsodium could not hash (memory) */
};

#define RECON_USERS_PASSWORD_MIN 10
#define RECON_TOKEN_HEX 65 /* 64 hex digits + NUL */

typedef struct {
    char name[72];
    char role[16];      /* viewer | reviewer */
    char csrf[RECON_TOKEN_HEX];
} recon_user_t;

/*  Initialises libsodium; 0, or -1 if it cannot be used. Call once.        */
int recon_users_init (void);

/*  Adds NAME with ROLE and PASSWORD (at least RECON_USERS_PASSWORD_MIN
    bytes). 0 or a negative code; ERR says why for EINVAL.                  */
int recon_users_add (recon_db_t *db, const char *name, const char *role, const char *password,
                     char *err, size_t size);

/*  Sets NAME's password (and ends their sessions). 0 or a negative code.  */
int recon_users_passwd (recon_db_t *db, const char *name, const char *password, char *err,
                        size_t size);

/*  Disables NAME and ends their sessions. 0 or a negative code.           */
int recon_users_disable (recon_db_t *db, const char *name);

/*  Checks NAME's PASSWORD; on success fills USER (no csrf) and returns 0,
    else RECON_USERS_EDENIED (the same for every reason) or EDB.           */
int recon_users_verify (recon_db_t *db, const char *name, const char *password,
                        recon_user_t *user);

/*  Looks up an enabled user by name (trusted-proxy mode). 0, ENOTFOUND, EDB. */
int recon_users_get (recon_db_t *db, const char *name, recon_user_t *user);

/*  Starts a session for USER lasting LIFETIME_US: writes the cookie token
    into TOKEN and sets USER->csrf. 0 or EDB.                               */
int recon_session_start (recon_db_t *db, recon_user_t *user, int64_t lifetime_us,
                         char token[RECON_TOKEN_HEX]);

/*  The live session of TOKEN (enabled user, not expired) into USER.
    0, ENOTFOUND, or EDB.                                                   */
int recon_session_find (recon_db_t *db, const char *token, recon_user_t *user);

/*  Ends the session of TOKEN (and any expired ones). 0 or EDB.             */
int recon_session_end (recon_db_t *db, const char *token);

/*  1 when A and B are equal hex tokens, compared in constant time.        */
int recon_token_equal (const char *a, const char *b);

#endif
