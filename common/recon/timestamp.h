/*  recon/timestamp.h — instants as int64 microseconds since the Unix epoch.

    Every time in recon is a UTC instant in microseconds. ISO 8601 text
    without an offset is UTC (DESIGN.md). Conversion is pure arithmetic
    (no TZ environment, no locale), so it is thread-safe and repeatable.   */
#ifndef RECON_TIMESTAMP_H
#define RECON_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define RECON_USEC_PER_SEC  INT64_C(1000000)
#define RECON_USEC_PER_HOUR (INT64_C(3600) * RECON_USEC_PER_SEC)
#define RECON_USEC_PER_DAY  (INT64_C(86400) * RECON_USEC_PER_SEC)

/*  Buffer size that fits any output of recon_timestamp_format.            */
#define RECON_TIMESTAMP_BUFSIZE 40

/*  The instants recon accepts: 0001-01-01T00:00:00Z (PostgreSQL has no
    year 0) up to, not including, 10000-01-01T00:00:00Z.                    */
#define RECON_TIMESTAMP_MIN (INT64_C (-719162) * RECON_USEC_PER_DAY)
#define RECON_TIMESTAMP_END (INT64_C (2932897) * RECON_USEC_PER_DAY)

/*  1 when T is in [RECON_TIMESTAMP_MIN, RECON_TIMESTAMP_END), else 0.     */
int recon_timestamp_in_range (int64_t t);

/*  Parses ISO 8601 text of LEN bytes: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]"
    (a space may replace the T), optionally followed by "Z" or an offset
    "+HH:MM", "+HHMM" or "+HH". Without an offset the time is UTC. Fractions
    beyond microseconds are rejected, not rounded. Returns 0 and sets *OUT,
    or -1 on any malformed or out-of-range field (month 13, Feb 30, hour 24, …)
    or when the instant is outside recon_timestamp_in_range (year 0000, or
    an offset that carries the time past either end).                      */
int recon_timestamp_parse (const char *text, size_t len, int64_t *out);

/*  Writes T as "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" before the Z when T
    has a sub-second part. BUF must hold RECON_TIMESTAMP_BUFSIZE bytes.
    Returns the length written.                                             */
int recon_timestamp_format (int64_t t, char *buf);

/*  The wall clock now, µs since the epoch.                                 */
int64_t recon_now_us (void);

/*  A monotonic clock in milliseconds, for timeouts and pacing (it does not
    jump when the wall clock is set).                                       */
int64_t recon_clock_ms (void);

/*  Days since 1970-01-01 for a proleptic Gregorian date, and back.        */
int64_t recon_days_from_civil (int64_t y, unsigned m, unsigned d);
void recon_civil_from_days (int64_t days, int64_t *y, unsigned *m, unsigned *d);

/*  Parses a duration such as "72h", "30m", "45s", "2d", "1500ms" or a bare
    number of seconds into microseconds. Returns 0, or -1 when malformed,
    negative or overflowing.                                                */
int recon_duration_parse (const char *text, int64_t *out);

#endif
