/*  recon/log.h — one line per event on a stream (stderr), text or JSON.

    A logger is an object passed to whoever logs; there is no global logger.
    Each line carries a timestamp, level, component, event name, the
    logger's context fields (run_id, job_id, worker_id, …) and the event's
    own key/value fields.                                                   */
#ifndef RECON_LOG_H
#define RECON_LOG_H

#include <stdarg.h>
#include <stdio.h>

typedef struct recon_log recon_log_t;

typedef enum {
    RECON_LOG_DEBUG,
    RECON_LOG_INFO,
    RECON_LOG_WARN,
    RECON_LOG_ERROR,
} recon_log_level_t;

typedef enum {
    RECON_LOG_TEXT,
    RECON_LOG_JSON,
} recon_log_format_t;

/*  Creates a logger writing to STREAM (not owned; NULL means stderr) as
    COMPONENT (copied). Text format, level info. NULL on allocation failure. */
recon_log_t *recon_log_new (const char *component, FILE *stream);

/*  Frees the logger; accepts NULL and sets *P to NULL.                     */
void recon_log_destroy (recon_log_t **p);

void recon_log_set_format (recon_log_t *log, recon_log_format_t format);
void recon_log_set_level (recon_log_t *log, recon_log_level_t level);

/*  Parse "text"/"json" and "debug"/"info"/"warn"/"error". 0 or -1.        */
int recon_log_format_parse (const char *text, recon_log_format_t *out);
int recon_log_level_parse (const char *text, recon_log_level_t *out);

/*  Sets (or, with VALUE NULL, removes) a context field added to every line,
    e.g. "worker_id". KEY and VALUE are copied. Returns 0, or -1 when the
    context is full (16 fields) or memory runs out.                         */
int recon_log_set_context (recon_log_t *log, const char *key, const char *value);

/*  Logs EVENT with key/value string pairs terminated by NULL:
        recon_log_kv (log, RECON_LOG_INFO, "migrate.applied",
                      "set", "recon", "version", "1", NULL);
    A NULL value is written as JSON null / "-". The line is written with a
    single write so concurrent processes do not interleave.                 */
void recon_log_kv (recon_log_t *log, recon_log_level_t level, const char *event, ...);
void recon_log_vkv (recon_log_t *log, recon_log_level_t level, const char *event,
                    va_list ap);

/*  Logs EVENT with a printf-formatted "msg" field.                         */
void recon_log_msg (recon_log_t *log, recon_log_level_t level, const char *event,
                    const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

#endif
