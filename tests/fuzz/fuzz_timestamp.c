/*  fuzz_timestamp.c — libFuzzer target for the timestamp and duration
    parsers (report dates, --from/--to, --until, settings). An accepted
    timestamp must be in the range PostgreSQL stores and format and parse
    back to itself (round trip); nothing
    may crash, overflow or read past the input (ASan+UBSan).              */
#include "recon/timestamp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int64_t t;
    if (recon_timestamp_parse ((const char *) data, size, &t) == 0) {
        char buf[RECON_TIMESTAMP_BUFSIZE];
        int n = recon_timestamp_format (t, buf);
        int64_t back;
        if (!recon_timestamp_in_range (t) || n <= 0 || n >= RECON_TIMESTAMP_BUFSIZE
            || recon_timestamp_parse (buf, (size_t) n, &back) != 0 || back != t)
            abort ();
    }
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = '\0';
    int64_t d;
    if (recon_duration_parse (text, &d) == 0 && d < 0)
        abort (); /* durations are never negative */
    free (text);
    return 0;
}
