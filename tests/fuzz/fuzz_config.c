/*  fuzz_config.c — libFuzzer target for the config file parser
    (recon_config_load_stream, what recon_config_load_file reads with).

    The input is the file. Whatever it holds, loading must not crash and
    must either succeed or fail with one printable line that starts with
    the file's name and the line number. After a success every setting
    must read back through its typed reader (the values were validated
    when set), the dump must not crash, and loading the same text into a
    fresh configuration must give the same values (the parser has no
    hidden state). Any violation aborts.                                  */
#include "recon/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check_at (int ok, int line)
{
    if (!ok) {
        fprintf (stderr, "fuzz_config.c:%d: invariant violated\n", line);
        abort ();
    }
}
#define s_check(ok) s_check_at ((ok), __LINE__)

static const char *const s_ints[] = {"amount_tolerance", "liveness", "max_attempts",
                                     "batch_size", "schedule_shards", "web_secure_cookie",
                                     NULL};
static const char *const s_durations[] = {"grace_fulfillment", "grace_ledger", "grace_processor",
                                          "grace_cancel", "heartbeat", "job_lease", "retry_base",
                                          "retry_cap", "schedule_window", "web_session", NULL};
static const char *const s_strings[] = {"database_url", "ledger_database_url",
                                        "fulfillment_database_url", "redis_url",
                                        "broker_endpoint", "log_format", "log_level",
                                        "read_strategy", "schedule", "broker_http",
                                        "worker_http", "web_listen", "web_trusted_header",
                                        "worker_id", "ledger_relation", "fulfillment_relation", NULL};

static int
s_load (recon_config_t *cfg, const uint8_t *data, size_t size)
{
    /*  fmemopen of zero bytes is refused by older C libraries.            */
    static const char empty[1];
    FILE *f = fmemopen (size ? (void *) data : (void *) empty, size ? size : 1, "r");
    s_check (f != NULL);
    if (!size)
        fgetc (f);
    int rc = recon_config_load_stream (cfg, f, "fuzz.conf");
    fclose (f);
    return rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    recon_config_t *cfg = recon_config_new ();
    s_check (cfg != NULL);
    int rc = s_load (cfg, data, size);
    s_check (rc == 0 || rc == -1);
    const char *err = recon_config_errstr (cfg);
    if (rc < 0) {
        s_check (strncmp (err, "fuzz.conf:", 10) == 0);
        const char *p = err + 10;
        s_check (*p >= '1' && *p <= '9');
        while (*p >= '0' && *p <= '9')
            p++;
        s_check (*p == ':');
        for (p = err; *p; p++)
            s_check ((unsigned char) *p >= 0x20 && *p != 0x7f);
        recon_config_destroy (&cfg);
        return 0;
    }
    for (size_t i = 0; s_ints[i]; i++)
        s_check (recon_config_get_int (cfg, s_ints[i]) >= 0);
    for (size_t i = 0; s_durations[i]; i++)
        s_check (recon_config_get_duration_us (cfg, s_durations[i]) >= 0);
    for (size_t i = 0; s_strings[i]; i++)
        s_check (recon_config_get (cfg, s_strings[i]) != NULL);
    s_check (recon_config_get_url (cfg, "ledger_database_url")[0] != '\0'
             || recon_config_get (cfg, "database_url")[0] == '\0');
    char *dump = NULL;
    size_t dump_len = 0;
    FILE *mem = open_memstream (&dump, &dump_len);
    s_check (mem != NULL);
    recon_config_dump (cfg, mem);
    fclose (mem);
    free (dump);

    recon_config_t *again = recon_config_new ();
    s_check (s_load (again, data, size) == 0);
    for (size_t i = 0; s_strings[i]; i++)
        s_check (strcmp (recon_config_get (cfg, s_strings[i]),
                         recon_config_get (again, s_strings[i])) == 0);
    for (size_t i = 0; s_durations[i]; i++)
        s_check (recon_config_get_duration_us (cfg, s_durations[i])
                 == recon_config_get_duration_us (again, s_durations[i]));
    recon_config_destroy (&again);
    recon_config_destroy (&cfg);
    return 0;
}
