/*  import_map.h — internal: the formats recon_import_file understands.

    Each format names the columns it reads (found by header name, in any
    order; extra columns ignored) and maps one CSV record to one line of
    its COPY staging table, or says why the row is skipped or rejected.   */
#ifndef RECON_IMPORT_MAP_H
#define RECON_IMPORT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "recon/copybuf.h"
#include "recon/csv.h"
#include "recon/import.h"

enum { IMPORT_ROW_OK, IMPORT_ROW_SKIP, IMPORT_ROW_REJECT };

#define IMPORT_MAX_COLUMNS 16

typedef struct {
    const recon_csv_t *csv;
    int cols[IMPORT_MAX_COLUMNS]; /* header index per format column, -1 if absent */
    char decimal_mark;
    const char *processor;
    char skip_category[40];       /* set on IMPORT_ROW_SKIP */
    const char *reject_field;     /* set on IMPORT_ROW_REJECT (a column name) */
    char reject_reason[300];
} import_row_t;

typedef struct {
    const char *name;
    int required;
} import_column_t;

typedef struct import_format import_format_t;

/*  A format's first load (common/import.c): into TABLE while it is empty,
    rows are COPYed by COPY_SQL — the staging line's columns, then the
    source line and the import id — and the table's keys built after.     */
typedef struct {
    const char *table;
    const char *copy_sql;
    /*  Removes the file's repeated keys from TABLE as finalize does from
        the staging table (rejects kept); returns the rows removed or -1. */
    int64_t (*dedupe) (recon_db_t *db, const char *import_id, const char *file,
                       recon_import_result_t *res);
} import_bulk_t;

struct import_format {
    recon_import_source_t source;
    const char *format;
    int case_insensitive_header;
    import_column_t columns[IMPORT_MAX_COLUMNS]; /* terminated by a NULL name */
    /*  Appends one staging line to OUT (without the source line, which the
        engine adds last) or returns SKIP/REJECT with ROW filled in.       */
    int (*map) (import_row_t *row, recon_copybuf_t *out);
    const char *staging_sql; /* creates temp table recon_import_staging */
    /*  Merges the staging table into the real tables; fills counts.       */
    int (*finalize) (recon_db_t *db, const char *import_id, const char *file,
                     recon_import_result_t *res);
    const import_bulk_t *bulk; /* NULL: every import merges through staging */
};

/*  The format for SOURCE and NAME, or NULL.                                */
const import_format_t *import_format_find (recon_import_source_t source, const char *name);

/*  Finds each of FMT's columns in CSV's header (already read), by name and
    as the format says (case-insensitively for Adyen and Shopify), writing
    the header index, or -1 when absent, to COLS[IMPORT_MAX_COLUMNS].
    Returns the name of the first missing required column, or NULL. Pure:
    the importer and the fuzz target (tests/fuzz/fuzz_import.c) share it.  */
const char *import_resolve_columns (const import_format_t *fmt, const recon_csv_t *csv,
                                    int cols[IMPORT_MAX_COLUMNS]);

/*  The number of tab-separated fields FMT's map appends to a staging line
    (the engine then adds the source line number and the line end).        */
int import_format_nfields (const import_format_t *fmt);

#endif
