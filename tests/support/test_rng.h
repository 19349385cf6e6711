/*  test_rng.h — the seeded generator of the frame storm and the chaos
    soak: splitmix64, so a seed replays the same sequence on every machine
    (libc's rand() differs between platforms and versions).               */
#ifndef RECON_TEST_RNG_H
#define RECON_TEST_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
} test_rng_t;

static inline uint64_t
test_rng_next (test_rng_t *r)
{
    uint64_t z = (r->state += UINT64_C (0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#endif
