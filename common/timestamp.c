/*  timestamp.c — ISO 8601 <-> int64 microseconds, by arithmetic alone.

    Design decision: no timegm/strptime/TZ. Howard Hinnant's days-from-civil
    algorithm converts dates exactly for any year we accept (0001–9999, what
    PostgreSQL stores: it has no year 0), so parsing never depends on the
    process environment or locale.           */
#include "recon/timestamp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
recon_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

void
recon_civil_from_days (int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t) yoe + era * 400 + (*m <= 2);
}

static int
s_is_leap (int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
s_days_in_month (int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap (y) ? 29 : days[m - 1];
}

/*  Reads exactly N digits at *P (bounded by END); advances *P.           */
static int
s_digits (const char **p, const char *end, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        v = v * 10 + (unsigned) (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int
s_expect (const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return -1;
    (*p)++;
    return 0;
}

static int
s_parse_offset (const char **p, const char *end, int64_t *offset_us)
{
    *offset_us = 0;
    if (*p == end)
        return 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    unsigned hh, mm = 0;
    if (s_digits (p, end, 2, &hh) < 0)
        return -1;
    if (*p < end) {
        if (**p == ':')
            (*p)++;
        if (s_digits (p, end, 2, &mm) < 0)
            return -1;
    }
    if (hh > 23 || mm > 59)
        return -1;
    *offset_us = sign * ((int64_t) hh * 3600 + mm * 60) * RECON_USEC_PER_SEC;
    return 0;
}

int
recon_timestamp_parse (const char *text, size_t len, int64_t *out)
{
    const char *p = text, *end = text + len;
    unsigned year, mon, day, hh = 0, mi = 0, ss = 0, usec = 0;
    if (s_digits (&p, end, 4, &year) < 0 || s_expect (&p, end, '-') < 0
        || s_digits (&p, end, 2, &mon) < 0 || s_expect (&p, end, '-') < 0
        || s_digits (&p, end, 2, &day) < 0)
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > s_days_in_month (year, mon))
        return -1;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (s_digits (&p, end, 2, &hh) < 0 || s_expect (&p, end, ':') < 0
            || s_digits (&p, end, 2, &mi) < 0)
            return -1;
        if (p < end && *p == ':') {
            p++;
            if (s_digits (&p, end, 2, &ss) < 0)
                return -1;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int n = 0;
                while (p < end && *p >= '0' && *p <= '9') {
                    if (++n > 6)
                        return -1;
                    usec = usec * 10 + (unsigned) (*p++ - '0');
                }
                if (n == 0)
                    return -1;
                for (; n < 6; n++)
                    usec *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 59)
            return -1;
    }
    int64_t offset;
    if (s_parse_offset (&p, end, &offset) < 0 || p != end)
        return -1;
    int64_t days = recon_days_from_civil (year, mon, day);
    int64_t secs = days * 86400 + (int64_t) hh * 3600 + mi * 60 + ss;
    int64_t t = secs * RECON_USEC_PER_SEC + usec - offset;
    /*  An offset can carry 0001-01-01 into year 0 or 9999-12-31 into year
        10000; PostgreSQL refuses the first, so both are out of range.    */
    if (!recon_timestamp_in_range (t))
        return -1;
    *out = t;
    return 0;
}

int
recon_timestamp_in_range (int64_t t)
{
    return t >= RECON_TIMESTAMP_MIN && t < RECON_TIMESTAMP_END;
}

int
recon_timestamp_format (int64_t t, char *buf)
{
    int64_t secs = t / RECON_USEC_PER_SEC, usec = t % RECON_USEC_PER_SEC;
    if (usec < 0) {
        usec += RECON_USEC_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    recon_civil_from_days (days, &y, &m, &d);
    int n = snprintf (buf, RECON_TIMESTAMP_BUFSIZE, "%04lld-%02u-%02uT%02u:%02u:%02u",
                      (long long) y, m, d, (unsigned) (sod / 3600),
                      (unsigned) (sod / 60 % 60), (unsigned) (sod % 60));
    if (usec)
        n += snprintf (buf + n, (size_t) (RECON_TIMESTAMP_BUFSIZE - n), ".%06lld",
                       (long long) usec);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

int
recon_duration_parse (const char *text, int64_t *out)
{
    if (!text || !*text)
        return -1;
    const char *p = text;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p++ - '0');
    }
    if (p == text)
        return -1;
    int64_t unit;
    if (*p == '\0' || strcmp (p, "s") == 0)
        unit = RECON_USEC_PER_SEC;
    else if (strcmp (p, "ms") == 0)
        unit = 1000;
    else if (strcmp (p, "m") == 0)
        unit = 60 * RECON_USEC_PER_SEC;
    else if (strcmp (p, "h") == 0)
        unit = RECON_USEC_PER_HOUR;
    else if (strcmp (p, "d") == 0)
        unit = RECON_USEC_PER_DAY;
    else
        return -1;
    if (v > INT64_MAX / unit)
        return -1;
    *out = v * unit;
    return 0;
}

int64_t
recon_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * RECON_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
recon_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
