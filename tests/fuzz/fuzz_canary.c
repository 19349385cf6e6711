/*  fuzz_canary.c — a target that fails on purpose: it aborts on any input
    starting with "boom" (its only seed), the way every real target reports
    a broken invariant. tests/fuzz/check_fails.sh runs it with the same
    options as the real targets and passes only if the run fails with an
    ordinary non-zero status — so a finding can never pass as a skip.    */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp (data, "boom", 4) == 0)
        abort ();
    return 0;
}
