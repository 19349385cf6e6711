/*  recon/import.h — processor reports, ledger and fulfillment files into
    PostgreSQL, row by row checked, nothing lost.

    One file is one transaction: every row is either stored, recognised as
    already there, skipped as not order money (counted by category), or
    kept in recon.import_rejects with file, line, field and reason. The
    file streams through COPY into a temporary table, so memory stays
    constant whatever its size; set-based SQL then merges it, which makes
    importing the same file twice change nothing.                          */
#ifndef RECON_IMPORT_H
#define RECON_IMPORT_H

#include <stdint.h>

#include "recon/pg.h"

typedef enum {
    RECON_IMPORT_PROCESSOR,
    RECON_IMPORT_LEDGER,
    RECON_IMPORT_FULFILLMENT,
} recon_import_source_t;

/*  Called for each rejected row as it is found (FIELD may be NULL when the
    record itself could not be read).                                       */
typedef void (recon_import_reject_fn) (void *arg, const char *file, long line,
                                       const char *field, const char *reason);

typedef struct {
    recon_import_source_t source;
    const char *format;     /* stripe|adyen|canonical, canonical, canonical|shopify */
    const char *processor;  /* name stored with processor events; NULL: the format */
    char decimal_mark;      /* '.' (default when 0) or ',' for decimal amounts */
    recon_import_reject_fn *on_reject;
    void *on_reject_arg;
} recon_import_options_t;

#define RECON_IMPORT_MAX_CATEGORIES 16

typedef struct {
    int64_t import_id;
    int64_t rows;       /* data records read (header excluded) */
    int64_t imported;   /* new rows stored */
    int64_t updated;    /* existing rows that moved on (pending → final, newer status) */
    int64_t duplicate;  /* already there, identical (or not newer) */
    int64_t skipped;    /* not order money: fees, payouts, unknown categories */
    int64_t rejected;   /* kept in recon.import_rejects */
    int ncategories;
    struct {
        char name[40];
        int64_t count;
    } categories[RECON_IMPORT_MAX_CATEGORIES]; /* skipped rows by category */
    int first_load;     /* 1: the table was empty; rows loaded, then its keys built */
    char errstr[512];
} recon_import_result_t;

/*  1 when FORMAT is known for SOURCE, else 0.                              */
int recon_import_format_known (recon_import_source_t source, const char *format);

/*  Imports PATH through DB. Returns 0 when the file was processed and
    committed (check result->rejected: rows may have been kept for review;
    a header lacking a required column is one reject at line 1 and no rows
    read), or -1 when nothing was committed — the file could not be opened
    or the database failed — with result->errstr saying which.             */
int recon_import_file (recon_db_t *db, const recon_import_options_t *opt, const char *path,
                       recon_import_result_t *result);

#endif
