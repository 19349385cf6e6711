/*  config.c — the settings table and its three sources.

    Design decision: one static table describes every setting (key, type,
    default, help). Loading, validation, --help and `recon config` all walk
    it, so a new setting is one line here and cannot be half-documented.  */
#include "recon/config.h"
#include "recon/log.h"
#include "recon/ops.h"
#include "recon/timestamp.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_STR, S_INT, S_DURATION, S_LOG_FORMAT, S_LOG_LEVEL, S_READ, S_LISTEN } s_type_t;

typedef struct {
    const char *key;
    s_type_t type;
    const char *fallback;
    const char *help;
} s_setting_t;

static const s_setting_t s_settings[] = {
    {"database_url", S_STR, "postgresql:///recon",
     "recon's own PostgreSQL (libpq URL or key=value string)"},
    {"ledger_database_url", S_STR, "",
     "the ledger's PostgreSQL, read-only (default: database_url)"},
    {"fulfillment_database_url", S_STR, "",
     "the fulfillment PostgreSQL, read-only (default: database_url)"},
    {"ledger_relation", S_STR, "ledger.ledger_order_entries",
     "relation recon reads ledger entries from"},
    {"fulfillment_relation", S_STR, "fulfillment.fulfillment_orders",
     "relation recon reads fulfillment status from"},
    {"redis_url", S_STR, "redis://127.0.0.1:6379/0",
     "Redis for progress checkpoints (redis://host:port/db or unix:///path)"},
    {"broker_endpoint", S_STR, "tcp://127.0.0.1:5555",
     "ZeroMQ endpoint of recon-broker"},
    {"log_format", S_LOG_FORMAT, "text", "log line format: text or json"},
    {"log_level", S_LOG_LEVEL, "info", "lowest level logged: debug, info, warn, error"},
    {"grace_fulfillment", S_DURATION, "72h",
     "fulfillment SLA: time from capture to shipment before flagging"},
    {"grace_ledger", S_DURATION, "24h", "ledger posting lag before flagging"},
    {"grace_processor", S_DURATION, "48h", "processor settlement lag before flagging"},
    {"grace_cancel", S_DURATION, "48h",
     "time for a refund to follow a cancellation before flagging"},
    {"amount_tolerance", S_INT, "0",
     "amount differences up to this many minor units are not flagged"},
    {"worker_id", S_STR, "", "name of this worker in logs and leases (default: host-pid)"},
    {"heartbeat", S_DURATION, "1s", "heartbeat interval between broker and workers"},
    {"liveness", S_INT, "4", "missed heartbeats before a peer counts as dead (3-5)"},
    {"job_lease", S_DURATION, "30s", "how long a job stays leased without heartbeats"},
    {"max_attempts", S_INT, "5", "attempts of a job before it is dead"},
    {"retry_base", S_DURATION, "1s", "retry backoff: base x failures^4, +-10% jitter"},
    {"retry_cap", S_DURATION, "300s", "longest retry backoff"},
    {"batch_size", S_INT, "2000", "orders per worker transaction"},
    {"read_strategy", S_READ, "auto",
     "how workers read a shard: stream (all of it, sorted), lookup (window's orders by id) or auto"},
    {"schedule", S_STR, "",
     "cron expression (min hour dom mon dow, UTC) for runs the broker starts itself"},
    {"schedule_window", S_DURATION, "24h", "window of a scheduled run, ending at its start"},
    {"schedule_shards", S_INT, "8", "shards of a scheduled run"},
    {"broker_http", S_LISTEN, "127.0.0.1:9464",
     "recon-broker's /metrics /livez /readyz (IP:port, [IPv6]:port; off)"},
    {"worker_http", S_LISTEN, "off",
     "recon-worker's /metrics /livez /readyz (IP:port; port 0 picks one; off)"},
    {"web_listen", S_LISTEN, "127.0.0.1:8080",
     "recon-web's address (IP:port, [IPv6]:port; port 0 picks one)"},
    {"web_session", S_DURATION, "12h", "how long a recon-web sign-in lasts"},
    {"web_secure_cookie", S_INT, "0",
     "1: session cookies only over HTTPS (set it behind a TLS proxy)"},
    {"web_trusted_header", S_STR, "",
     "trusted-proxy mode: the request header naming the signed-in user (off when empty)"},
};

#define S_NSETTINGS (sizeof s_settings / sizeof s_settings[0])

struct recon_config {
    char *values[S_NSETTINGS];
    char *sources[S_NSETTINGS];
    char errstr[512];
};

static int
s_index (const char *key)
{
    for (size_t i = 0; i < S_NSETTINGS; i++)
        if (strcmp (s_settings[i].key, key) == 0)
            return (int) i;
    return -1;
}

/*  Maps "RECON_DATABASE_URL" or "database_url" to an index.               */
static int
s_index_any (const char *name)
{
    char key[64];
    if (strncmp (name, "RECON_", 6) == 0)
        name += 6;
    size_t len = strlen (name);
    if (len >= sizeof key)
        return -1;
    for (size_t i = 0; i <= len; i++)
        key[i] = (char) tolower ((unsigned char) name[i]);
    return s_index (key);
}

static void
s_error (recon_config_t *cfg, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Messages quote values from files and the environment: control bytes
    become '?', so an error is always one printable line on a terminal.   */
static void
s_error (recon_config_t *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (cfg->errstr, sizeof cfg->errstr, fmt, ap);
    va_end (ap);
    for (char *p = cfg->errstr; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int
s_parse_int (const char *text, int64_t *out)
{
    if (!*text)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int
s_validate (const s_setting_t *s, const char *value)
{
    int64_t n;
    recon_log_format_t f;
    recon_log_level_t l;
    switch (s->type) {
    case S_STR:
        return 0;
    case S_INT:
        return s_parse_int (value, &n);
    case S_DURATION:
        return recon_duration_parse (value, &n);
    case S_LOG_FORMAT:
        return recon_log_format_parse (value, &f);
    case S_LOG_LEVEL:
        return recon_log_level_parse (value, &l);
    case S_READ:
        return strcmp (value, "auto") == 0 || strcmp (value, "stream") == 0
                       || strcmp (value, "lookup") == 0 ? 0 : -1;
    case S_LISTEN: {
        char err[160];
        return recon_ops_disabled (value) ? 0 : recon_ops_parse (value, err, sizeof err);
    }
    }
    return -1;
}

static const char *
s_type_hint (s_type_t type)
{
    switch (type) {
    case S_INT:
        return "a non-negative integer";
    case S_DURATION:
        return "a duration such as 72h, 30m, 45s, 2d or 1500ms";
    case S_LOG_FORMAT:
        return "text or json";
    case S_LOG_LEVEL:
        return "debug, info, warn or error";
    case S_READ:
        return "auto, stream or lookup";
    case S_LISTEN:
        return "IPv4:port, [IPv6]:port (numeric; port 0 picks a free one) or off";
    default:
        return "text";
    }
}

static int
s_set_index (recon_config_t *cfg, int i, const char *value, const char *source)
{
    if (s_validate (&s_settings[i], value) < 0) {
        s_error (cfg, "%s: invalid value '%s' for %s: expected %s", source, value,
                 s_settings[i].key, s_type_hint (s_settings[i].type));
        return -1;
    }
    char *v = strdup (value), *src = strdup (source);
    if (!v || !src) {
        free (v);
        free (src);
        s_error (cfg, "out of memory");
        return -1;
    }
    free (cfg->values[i]);
    free (cfg->sources[i]);
    cfg->values[i] = v;
    cfg->sources[i] = src;
    return 0;
}

recon_config_t *
recon_config_new (void)
{
    recon_config_t *cfg = calloc (1, sizeof *cfg);
    if (!cfg)
        return NULL;
    for (size_t i = 0; i < S_NSETTINGS; i++)
        if (s_set_index (cfg, (int) i, s_settings[i].fallback, "default") < 0) {
            recon_config_destroy (&cfg);
            return NULL;
        }
    return cfg;
}

void
recon_config_destroy (recon_config_t **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        free ((*p)->values[i]);
        free ((*p)->sources[i]);
    }
    free (*p);
    *p = NULL;
}

int
recon_config_set (recon_config_t *cfg, const char *key, const char *value,
                  const char *source)
{
    int i = s_index_any (key);
    if (i < 0) {
        s_error (cfg, "%s: unknown setting '%s' (see recon config --help)", source, key);
        return -1;
    }
    return s_set_index (cfg, i, value, source);
}

static char *
s_trim (char *s)
{
    while (isspace ((unsigned char) *s))
        s++;
    char *end = s + strlen (s);
    while (end > s && isspace ((unsigned char) end[-1]))
        *--end = '\0';
    return s;
}

/*  Parses one non-comment line "key = value" of the file.                 */
static int
s_load_line (recon_config_t *cfg, char *line, const char *where)
{
    char *eq = strchr (line, '=');
    if (!eq) {
        s_error (cfg, "%s: expected 'key = value'", where);
        return -1;
    }
    *eq = '\0';
    char *key = s_trim (line), *value = s_trim (eq + 1);
    size_t vlen = strlen (value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    return recon_config_set (cfg, key, value, where);
}

int
recon_config_load_file (recon_config_t *cfg, const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        s_error (cfg, "%s: cannot read config file: %s", path, strerror (errno));
        return -1;
    }
    int rc = recon_config_load_stream (cfg, f, path);
    fclose (f);
    return rc;
}

int
recon_config_load_stream (recon_config_t *cfg, FILE *f, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    ssize_t len;
    while ((len = getline (&line, &cap, f)) >= 0) {
        lineno++;
        char where[300];
        snprintf (where, sizeof where, "%s:%ld", name, lineno);
        /*  A NUL would silently cut the value short (fuzz_config).       */
        if (memchr (line, '\0', (size_t) len)) {
            s_error (cfg, "%s: contains a NUL byte (is this a text file?)", where);
            rc = -1;
            break;
        }
        char *s = s_trim (line);
        if (*s == '\0' || *s == '#')
            continue;
        if (s_load_line (cfg, s, where) < 0) {
            rc = -1;
            break;
        }
    }
    free (line);
    return rc;
}

static int
s_env_reserved (const char *name, size_t len)
{
    static const char *prefixes[] = {"RECON_CONFIG=", "RECON_TEST_", "RECON_SANDBOX_",
                                     "RECON_PG_BINDIR=", "RECON_ENTRYPOINT_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp (name, prefixes[i], strlen (prefixes[i])) == 0)
            return 1;
    (void) len;
    return 0;
}

int
recon_config_load_env (recon_config_t *cfg, char *const *envp)
{
    for (; envp && *envp; envp++) {
        const char *entry = *envp;
        if (strncmp (entry, "RECON_", 6) != 0 || s_env_reserved (entry, strlen (entry)))
            continue;
        const char *eq = strchr (entry, '=');
        if (!eq)
            continue;
        char name[128];
        size_t len = (size_t) (eq - entry);
        if (len >= sizeof name) {
            s_error (cfg, "environment: variable name too long");
            return -1;
        }
        memcpy (name, entry, len);
        name[len] = '\0';
        if (recon_config_set (cfg, name, eq + 1, name) < 0)
            return -1;
    }
    return 0;
}

const char *
recon_config_get (const recon_config_t *cfg, const char *key)
{
    int i = s_index (key);
    assert (i >= 0 && "unknown config key");
    return cfg->values[i];
}

int64_t
recon_config_get_int (const recon_config_t *cfg, const char *key)
{
    int64_t v = 0;
    int rc = s_parse_int (recon_config_get (cfg, key), &v);
    assert (rc == 0);
    (void) rc;
    return v;
}

int64_t
recon_config_get_duration_us (const recon_config_t *cfg, const char *key)
{
    int64_t v = 0;
    int rc = recon_duration_parse (recon_config_get (cfg, key), &v);
    assert (rc == 0);
    (void) rc;
    return v;
}

const char *
recon_config_get_url (const recon_config_t *cfg, const char *key)
{
    const char *v = recon_config_get (cfg, key);
    return *v ? v : recon_config_get (cfg, "database_url");
}

const char *
recon_config_source (const recon_config_t *cfg, const char *key)
{
    int i = s_index (key);
    assert (i >= 0 && "unknown config key");
    return cfg->sources[i];
}

const char *
recon_config_errstr (const recon_config_t *cfg)
{
    return cfg->errstr;
}

void
recon_config_print_help (FILE *out)
{
    fprintf (out, "Settings (environment variable, default: description). A file named by\n"
                  "RECON_CONFIG or --config may set them as 'key = value' lines;\n"
                  "the environment overrides the file, flags override both.\n\n");
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        char env[80] = "RECON_";
        for (size_t j = 0; s_settings[i].key[j] && j < 70; j++)
            env[6 + j] = (char) toupper ((unsigned char) s_settings[i].key[j]);
        env[6 + strlen (s_settings[i].key)] = '\0';
        fprintf (out, "  %-32s %s\n  %-32s %s\n", env,
                 *s_settings[i].fallback ? s_settings[i].fallback : "(empty)", "",
                 s_settings[i].help);
    }
}

/*  Copies VALUE masking the password of a URL user:password@host.        */
static void
s_mask_secret (const char *value, char *out, size_t size)
{
    snprintf (out, size, "%s", value);
    char *scheme = strstr (out, "://");
    if (!scheme)
        return;
    char *at = strchr (scheme + 3, '@');
    char *colon = strchr (scheme + 3, ':');
    if (!at || !colon || colon > at)
        return;
    memmove (colon + 4, at, strlen (at) + 1);
    memcpy (colon + 1, "***", 3);
}

void
recon_config_dump (const recon_config_t *cfg, FILE *out)
{
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        char masked[1024];
        s_mask_secret (cfg->values[i], masked, sizeof masked - 8);
        fprintf (out, "%s = %s  # %s\n", s_settings[i].key, masked, cfg->sources[i]);
    }
}

int
recon_config_load (recon_config_t *cfg, const char *file, char *const *envp,
                   const char *const *flags)
{
    if (file && *file && recon_config_load_file (cfg, file) < 0)
        return -1;
    if (recon_config_load_env (cfg, envp) < 0)
        return -1;
    for (size_t i = 0; flags && flags[i]; i += 2) {
        if (!flags[i + 1])
            continue;
        char source[80] = "--";
        for (size_t j = 0; flags[i][j] && j < 70; j++)
            source[2 + j] = flags[i][j] == '_' ? '-' : flags[i][j];
        if (recon_config_set (cfg, flags[i], flags[i + 1], source) < 0)
            return -1;
    }
    return 0;
}

void
recon_config_apply_log (const recon_config_t *cfg, recon_log_t *log)
{
    recon_log_format_t format;
    recon_log_level_t level;
    /*  Validated when set: these cannot fail.                             */
    recon_log_format_parse (recon_config_get (cfg, "log_format"), &format);
    recon_log_level_parse (recon_config_get (cfg, "log_level"), &level);
    recon_log_set_format (log, format);
    recon_log_set_level (log, level);
}
