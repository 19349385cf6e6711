/*  testdb.h — fresh, uniquely named databases for integration tests.

    Tests run under `recon sandbox -- meson test` (the README's test
    command), which points RECON_DATABASE_URL at a throw-away server. Each
    test creates its own database there, so tests never see each other's
    rows and can run in parallel.                                          */
#ifndef RECON_TESTDB_H
#define RECON_TESTDB_H

/*  Creates a database and returns a connection string for it (caller
    frees with testdb_drop). Fails the test when RECON_DATABASE_URL is
    unset or the server is unreachable.                                    */
char *testdb_create (void);

/*  Drops the database created by testdb_create, frees *URL, sets it NULL. */
void testdb_drop (char **url);

#endif
