/*  fuzz_cron.c — libFuzzer target for the cron parser (RECON_SCHEDULE,
    read from configuration). Any text either parses or is refused with a
    message; a parsed schedule is evaluated over a day of minutes, which
    must not crash or loop.                                                 */
#include "recon/cron.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = '\0';
    char err[256] = "";
    recon_cron_t *c = recon_cron_new (text, err, sizeof err);
    if (c) {
        for (int64_t m = 0; m < 24 * 60; m += 7)
            (void) recon_cron_matches (c, INT64_C (1795000000000000) + m * 60000000);
        recon_cron_destroy (&c);
    } else if (!err[0]) {
        abort (); /* a refusal always says why */
    }
    free (text);
    return 0;
}
