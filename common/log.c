/*  log.c — structured event logging, one line per event.

    Design decision: every line is assembled in memory and written with one
    fwrite + fflush, so lines from several processes sharing a stderr (the
    demo, CI) never interleave mid-line. JSON is produced by jansson, which
    owns escaping; the text format quotes any value with spaces or quotes. */
#include "recon/log.h"
#include "recon/timestamp.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_CONTEXT 16

struct recon_log {
    char *component;
    FILE *stream;
    recon_log_format_t format;
    recon_log_level_t level;
    size_t ncontext;
    char *ctx_keys[S_MAX_CONTEXT];
    char *ctx_values[S_MAX_CONTEXT];
};

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

recon_log_t *
recon_log_new (const char *component, FILE *stream)
{
    recon_log_t *log = calloc (1, sizeof *log);
    if (!log)
        return NULL;
    log->component = strdup (component ? component : "recon");
    if (!log->component) {
        free (log);
        return NULL;
    }
    log->stream = stream ? stream : stderr;
    log->format = RECON_LOG_TEXT;
    log->level = RECON_LOG_INFO;
    return log;
}

void
recon_log_destroy (recon_log_t **p)
{
    if (!p || !*p)
        return;
    recon_log_t *log = *p;
    for (size_t i = 0; i < log->ncontext; i++) {
        free (log->ctx_keys[i]);
        free (log->ctx_values[i]);
    }
    free (log->component);
    free (log);
    *p = NULL;
}

void
recon_log_set_format (recon_log_t *log, recon_log_format_t format)
{
    log->format = format;
}

void
recon_log_set_level (recon_log_t *log, recon_log_level_t level)
{
    log->level = level;
}

int
recon_log_format_parse (const char *text, recon_log_format_t *out)
{
    if (text && strcmp (text, "text") == 0)
        *out = RECON_LOG_TEXT;
    else if (text && strcmp (text, "json") == 0)
        *out = RECON_LOG_JSON;
    else
        return -1;
    return 0;
}

int
recon_log_level_parse (const char *text, recon_log_level_t *out)
{
    for (int i = 0; text && i < 4; i++)
        if (strcmp (text, s_level_names[i]) == 0) {
            *out = (recon_log_level_t) i;
            return 0;
        }
    return -1;
}

int
recon_log_set_context (recon_log_t *log, const char *key, const char *value)
{
    for (size_t i = 0; i < log->ncontext; i++) {
        if (strcmp (log->ctx_keys[i], key) != 0)
            continue;
        free (log->ctx_values[i]);
        if (value) {
            log->ctx_values[i] = strdup (value);
            return log->ctx_values[i] ? 0 : -1;
        }
        free (log->ctx_keys[i]);
        log->ncontext--;
        log->ctx_keys[i] = log->ctx_keys[log->ncontext];
        log->ctx_values[i] = log->ctx_values[log->ncontext];
        return 0;
    }
    if (!value)
        return 0;
    if (log->ncontext == S_MAX_CONTEXT)
        return -1;
    char *k = strdup (key), *v = strdup (value);
    if (!k || !v) {
        free (k);
        free (v);
        return -1;
    }
    log->ctx_keys[log->ncontext] = k;
    log->ctx_values[log->ncontext] = v;
    log->ncontext++;
    return 0;
}

/*  Appends VALUE to the text line, quoted when a reader could misparse it. */
static void
s_text_value (FILE *mem, const char *value)
{
    if (!value) {
        fputc ('-', mem);
        return;
    }
    if (*value && !strpbrk (value, " \t\"=\n\r\\")) {
        fputs (value, mem);
        return;
    }
    fputc ('"', mem);
    for (const char *c = value; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf (mem, "\\%c", *c);
        else if (*c == '\n')
            fputs ("\\n", mem);
        else if (*c == '\r')
            fputs ("\\r", mem);
        else
            fputc (*c, mem);
    }
    fputc ('"', mem);
}

static void
s_now (char *buf)
{
    /*  Milliseconds are enough for logs and keep lines short.            */
    int64_t t = recon_now_us () / 1000 * 1000 + 1;
    /*  +1 µs forces the fraction to print; cut it to ".mmmZ".            */
    int n = recon_timestamp_format (t, buf);
    if (n > 5)
        memcpy (buf + n - 4, "Z", 2);
}

static void
s_emit (recon_log_t *log, const char *line, size_t len)
{
    fwrite (line, 1, len, log->stream);
    fflush (log->stream);
}

static void
s_write_json (recon_log_t *log, recon_log_level_t level, const char *event, va_list ap)
{
    char ts[RECON_TIMESTAMP_BUFSIZE];
    s_now (ts);
    json_t *obj = json_object ();
    if (!obj)
        return;
    json_object_set_new (obj, "ts", json_string (ts));
    json_object_set_new (obj, "level", json_string (s_level_names[level]));
    json_object_set_new (obj, "component", json_string (log->component));
    json_object_set_new (obj, "event", json_string (event));
    for (size_t i = 0; i < log->ncontext; i++)
        json_object_set_new (obj, log->ctx_keys[i], json_string (log->ctx_values[i]));
    const char *key;
    while ((key = va_arg (ap, const char *))) {
        const char *value = va_arg (ap, const char *);
        /*  json_string refuses invalid UTF-8; keep the event, mark the value. */
        json_t *v = value ? json_string (value) : json_null ();
        json_object_set_new (obj, key, v ? v : json_string ("<invalid utf-8>"));
    }
    char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (obj);
    if (!text)
        return;
    size_t len = strlen (text);
    char *line = realloc (text, len + 2);
    if (!line) {
        free (text);
        return;
    }
    line[len] = '\n';
    s_emit (log, line, len + 1);
    free (line);
}

static void
s_write_text (recon_log_t *log, recon_log_level_t level, const char *event, va_list ap)
{
    char ts[RECON_TIMESTAMP_BUFSIZE];
    s_now (ts);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream (&buf, &len);
    if (!mem)
        return;
    fprintf (mem, "%s %-5s %s %s", ts, s_level_names[level], log->component, event);
    for (size_t i = 0; i < log->ncontext; i++) {
        fprintf (mem, " %s=", log->ctx_keys[i]);
        s_text_value (mem, log->ctx_values[i]);
    }
    const char *key;
    while ((key = va_arg (ap, const char *))) {
        fprintf (mem, " %s=", key);
        s_text_value (mem, va_arg (ap, const char *));
    }
    fputc ('\n', mem);
    if (fclose (mem) == 0)
        s_emit (log, buf, len);
    free (buf);
}

void
recon_log_vkv (recon_log_t *log, recon_log_level_t level, const char *event, va_list ap)
{
    if (!log || level < log->level)
        return;
    if (log->format == RECON_LOG_JSON)
        s_write_json (log, level, event, ap);
    else
        s_write_text (log, level, event, ap);
}

void
recon_log_kv (recon_log_t *log, recon_log_level_t level, const char *event, ...)
{
    va_list ap;
    va_start (ap, event);
    recon_log_vkv (log, level, event, ap);
    va_end (ap);
}

/*  Forwards to recon_log_kv with a single "msg" pair.                     */
static void
s_kv_msg (recon_log_t *log, recon_log_level_t level, const char *event, const char *msg)
{
    recon_log_kv (log, level, event, "msg", msg, NULL);
}

void
recon_log_msg (recon_log_t *log, recon_log_level_t level, const char *event,
               const char *fmt, ...)
{
    if (!log || level < log->level)
        return;
    char *msg = NULL;
    va_list ap;
    va_start (ap, fmt);
    int n = vasprintf (&msg, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    s_kv_msg (log, level, event, msg);
    free (msg);
}
