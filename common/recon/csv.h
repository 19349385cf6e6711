/*  recon/csv.h — streaming RFC 4180 reader for processor reports.

    The reader walks a CSV file one record at a time in bounded memory: a
    read window plus per-record buffers, all capped by the maximum record
    size (default 1 MiB), whatever the size of the file. A bad record is an
    error for that record only; the caller keeps it (raw bytes, line, reason)
    and calls recon_csv_next again to go on with the following one.

    Dialect: ',' separates fields; records end with LF, CRLF or a lone CR
    (the last record may lack one). A field that starts with '"' is quoted:
    it may hold ',', CR, LF and '""' (one quote) and must be followed by ','
    or the end of the record. Input must be UTF-8 (what PostgreSQL will
    store); a UTF-8 byte order mark at the very start of the input is
    skipped. Empty lines are skipped (an empty line is not an empty record).
    Fields are not trimmed. Records may have any number of fields: checking
    the count against the header is the importer's job.

    Line numbers count line breaks as a text editor does: LF, CRLF and a
    lone CR each end one physical line, including those inside quoted
    fields, so a record's line is where an editor shows its first byte.   */
#ifndef RECON_CSV_H
#define RECON_CSV_H

#include <stddef.h>
#include <stdint.h>

typedef struct recon_csv_t recon_csv_t;

#define RECON_CSV_MAX_RECORD_DEFAULT ((size_t) 1 << 20)
#define RECON_CSV_BUFFER_SIZE_DEFAULT ((size_t) 1 << 16)
/*  Largest accepted maximum record size (field offsets are 32-bit).       */
#define RECON_CSV_MAX_RECORD_LIMIT ((size_t) 1 << 30)

/*  Negative results. Those marked "record" concern the current record
    only: recon_csv_raw and recon_csv_line describe it and recon_csv_next
    continues with the next record. Those marked "fatal" are sticky: every
    later call returns the same code (see recon_csv_is_fatal).             */
enum {
    RECON_CSV_EIO = -1,      /* fatal: read(2) failed                       */
    RECON_CSV_ENOMEM = -2,   /* fatal: out of memory                        */
    RECON_CSV_EINVAL = -3,   /* misuse: setter after the first read, bad
                                size, header read twice or too late        */
    RECON_CSV_ENOHEADER = -4, /* recon_csv_read_header: input has no record */
    RECON_CSV_EQUOTE = -5,   /* record: quoted field not closed before EOF  */
    RECON_CSV_ESYNTAX = -6,  /* record: text after a closing quote, or a
                                quote inside an unquoted field             */
    RECON_CSV_ETOOLONG = -7, /* record: longer than the maximum record size */
    RECON_CSV_ENUL = -8,     /* record: NUL byte in a field                 */
    RECON_CSV_EUTF8 = -9,    /* record: invalid UTF-8 in a field            */
};

/*  Creates a reader of the open file descriptor FD. FILE_NAME (may be
    NULL) is copied and only reported back by recon_csv_file_name. The
    reader never closes FD. Returns NULL when FD < 0 or memory runs out.   */
recon_csv_t *recon_csv_new (int fd, const char *file_name);

/*  Creates a reader of the LEN bytes at DATA, which must stay valid and
    unchanged until the reader is destroyed (they are read in window-sized
    chunks exactly like a file, so tests and fuzzers exercise the same
    code). Returns NULL when DATA is NULL with LEN > 0 or memory runs out. */
recon_csv_t *recon_csv_new_from_buffer (const char *data, size_t len,
                                        const char *file_name);

/*  Frees the reader and sets *P to NULL. Accepts NULL and *P == NULL.
    Does not close the file descriptor.                                    */
void recon_csv_destroy (recon_csv_t **p);

/*  Sets the size of the read window (default 64 KiB; 1 ..
    RECON_CSV_MAX_RECORD_LIMIT). Only before the first read; returns 0 or
    RECON_CSV_EINVAL. Results never depend on it: it exists so tests can
    make records straddle reads.                                           */
int recon_csv_set_buffer_size (recon_csv_t *csv, size_t size);

/*  Sets the maximum raw size of a record, line break excluded (default
    1 MiB, 1 .. RECON_CSV_MAX_RECORD_LIMIT). Only before the first read;
    returns 0 or RECON_CSV_EINVAL. Memory use is a small multiple of
    max(max record size, buffer size).                                      */
int recon_csv_set_max_record (recon_csv_t *csv, size_t size);

/*  Reads the next record. Returns 1 when a record is available, 0 at the
    end of the input (and on every later call), or a negative RECON_CSV_E*
    code. After a record error, recon_csv_nfields is 0, recon_csv_raw and
    recon_csv_line describe the rejected bytes, recon_csv_errstr says why,
    and the next call resumes after them:
    - ENUL, EUTF8, and ETOOLONG for a record whose end was found: the
      record's quoting was sound, so reading resumes right after it;
    - EQUOTE, ESYNTAX, and ETOOLONG when the end was not found within the
      maximum record size: the quoting went wrong, most likely a stray '"',
      so the record is taken to end at the first line break after the
      point where it went wrong (the opening quote of the unclosed field,
      the stray text, or the size limit) and reading resumes on the next
      line. A stray quote thus costs the lines it spans, never the rest of
      the file; raw bytes are then cut at the maximum record size.
    Fields, raw bytes and the error string stay valid until the next call
    to recon_csv_next or recon_csv_destroy.                                 */
int recon_csv_next (recon_csv_t *csv);

/*  1 for the codes after which reading cannot go on (EIO, ENOMEM: every
    later recon_csv_next returns them again, so a loop must stop), 0 for
    per-record errors and non-negative results.                            */
int recon_csv_is_fatal (int code);

/*  Number of fields of the current record (0 after an error or at EOF). */
size_t recon_csv_nfields (const recon_csv_t *csv);

/*  Field I of the current record, unquoted and unescaped, NUL-terminated
    (valid UTF-8 without NUL bytes, so LEN == strlen). Sets *LEN when LEN
    is not NULL. Returns NULL (and *LEN = 0) when I >= nfields. The memory
    belongs to the reader.                                                 */
const char *recon_csv_field (const recon_csv_t *csv, size_t i, size_t *len);

/*  The raw bytes of the current (or rejected) record exactly as in the
    input, without its line break and without a leading byte order mark;
    not NUL-terminated. Sets *LEN when LEN is not NULL. Never NULL (empty
    before the first record). Owned by the reader.                         */
const char *recon_csv_raw (const recon_csv_t *csv, size_t *len);

/*  1-based physical line where the current (or rejected) record starts;
    0 before the first record.                                             */
long recon_csv_line (const recon_csv_t *csv);

/*  Byte offset in the input of the first raw byte of the current record.  */
uint64_t recon_csv_offset (const recon_csv_t *csv);

/*  Why the last call failed, e.g. "invalid UTF-8 in field 3"; "" when it
    did not. Static or owned by the reader; never NULL.                    */
const char *recon_csv_errstr (const recon_csv_t *csv);

/*  The FILE_NAME given at creation, or "" when none was.                 */
const char *recon_csv_file_name (const recon_csv_t *csv);

/*  Reads the first record as the header: must be called before any
    recon_csv_next. Column names are kept with surrounding ASCII spaces and
    tabs removed. Returns 0; RECON_CSV_ENOHEADER when the input holds no
    record; RECON_CSV_EINVAL when records were already read or the header
    was already read; or the error of the header record (the reader then
    has no header; an import should stop).                                 */
int recon_csv_read_header (recon_csv_t *csv);

/*  Number of header columns (0 without a header), and the name of column
    I (NULL when out of range), owned by the reader.                       */
size_t recon_csv_ncolumns (const recon_csv_t *csv);
const char *recon_csv_column_name (const recon_csv_t *csv, size_t i);

/*  Index of the header column named NAME, or -1 when there is none (or no
    header). recon_csv_column compares exactly; recon_csv_column_ci ignores
    ASCII case, because processors change the case of their headers between
    report versions. When a name occurs twice the first column wins.       */
int recon_csv_column (const recon_csv_t *csv, const char *name);
int recon_csv_column_ci (const recon_csv_t *csv, const char *name);

#endif
