/*  money.c — ISO 4217 exponents, minor-unit formatting and parsing.

    Design decision: the table lists only the currencies whose exponent is
    not 2; ISO 4217 (amendment 179) names each of them, so "not listed"
    means 2. Codes are checked for shape, not against the full list, so a
    new currency still imports (with exponent 2) instead of being lost.   */
#include "recon/money.h"

#include <string.h>

typedef struct {
    char code[4];
    int exponent;
} s_exponent_t;

static const s_exponent_t s_exponents[] = {
    {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0},
    {"GNF", 0}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0},
    {"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3},
    {"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0}, {"UYI", 0},
    {"UYW", 4}, {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0},
    {"XPF", 0},
};

int
recon_currency_normalize (const char *code, char *out)
{
    out[0] = '\0';
    if (!code)
        return -1;
    for (int i = 0; i < RECON_CURRENCY_LEN; i++) {
        char c = code[i];
        if (c >= 'a' && c <= 'z')
            c = (char) (c - 'a' + 'A');
        if (c < 'A' || c > 'Z') {
            out[0] = '\0';
            return -1;
        }
        out[i] = c;
    }
    if (code[RECON_CURRENCY_LEN] != '\0') {
        out[0] = '\0';
        return -1;
    }
    out[RECON_CURRENCY_LEN] = '\0';
    return 0;
}

int
recon_currency_exponent (const char *code)
{
    char up[RECON_CURRENCY_LEN + 1];
    if (recon_currency_normalize (code, up) < 0)
        return -1;
    size_t lo = 0, hi = sizeof s_exponents / sizeof s_exponents[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp (up, s_exponents[mid].code);
        if (cmp == 0)
            return s_exponents[mid].exponent;
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 2;
}

int
recon_money_format (char *buf, size_t size, int64_t minor, int exponent,
                    char decimal_mark)
{
    /*  Work on the magnitude as unsigned so INT64_MIN has no overflow.   */
    uint64_t mag = minor < 0 ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor;
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char) ('0' + mag % 10);
        mag /= 10;
    } while (mag);
    while (nd <= exponent)
        digits[nd++] = '0';

    size_t need = (size_t) nd + (minor < 0) + (exponent > 0) + 1;
    if (need > size)
        return -1;
    size_t pos = 0;
    if (minor < 0)
        buf[pos++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        buf[pos++] = digits[i];
        if (i == exponent && exponent > 0)
            buf[pos++] = decimal_mark;
    }
    buf[pos] = '\0';
    return (int) pos;
}

/*  Parsing validates the whole shape first and only then accumulates the
    value, so the error reported does not depend on where overflow happens
    to strike: a malformed amount is SYNTAX even when it is also huge.    */
static int
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

/*  Appends digit D to *V unless that would pass LIMIT.                    */
static int
s_push_digit (uint64_t *v, unsigned d, uint64_t limit)
{
    if (*v > (limit - d) / 10)
        return -1;
    *v = *v * 10 + d;
    return 0;
}

int
recon_money_parse (const char *text, size_t len, int exponent,
                   char decimal_mark, int64_t *out)
{
    if ((!text && len) || !out || exponent < 0 || exponent > 4
        || (decimal_mark != '.' && decimal_mark != ','))
        return RECON_MONEY_ARGUMENT;
    if (len == 0)
        return RECON_MONEY_EMPTY;

    const char *p = text, *end = text + len;
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    if (p == end)
        return RECON_MONEY_EMPTY;

    int negative = 0;
    if (*p == '+' || *p == '-') {
        negative = *p == '-';
        p++;
    }
    const char *int_start = p;
    while (p < end && s_is_digit (*p))
        p++;
    const char *int_end = p;
    const char *frac_start = p, *frac_end = p;
    if (p < end && *p == decimal_mark) {
        frac_start = ++p;
        while (p < end && s_is_digit (*p))
            p++;
        frac_end = p;
        if (frac_end == frac_start)
            return RECON_MONEY_SYNTAX;
    }
    if (p != end || int_end == int_start)
        return RECON_MONEY_SYNTAX;

    size_t nfrac = (size_t) (frac_end - frac_start);
    for (size_t i = (size_t) exponent; i < nfrac; i++)
        if (frac_start[i] != '0')
            return RECON_MONEY_PRECISION;

    /*  The magnitude is built as unsigned so INT64_MIN, whose magnitude is
        INT64_MAX + 1, is reachable without signed overflow.               */
    uint64_t limit = (uint64_t) INT64_MAX + (negative ? 1u : 0u);
    uint64_t v = 0;
    for (const char *q = int_start; q < int_end; q++)
        if (s_push_digit (&v, (unsigned) (*q - '0'), limit) < 0)
            return RECON_MONEY_OVERFLOW;
    for (size_t i = 0; i < (size_t) exponent; i++) {
        unsigned d = i < nfrac ? (unsigned) (frac_start[i] - '0') : 0;
        if (s_push_digit (&v, d, limit) < 0)
            return RECON_MONEY_OVERFLOW;
    }
    if (!negative)
        *out = (int64_t) v;
    else if (v == (uint64_t) INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t) v;
    return 0;
}

const char *
recon_money_strerror (int code)
{
    switch (code) {
    case 0:
        return "valid amount";
    case RECON_MONEY_EMPTY:
        return "empty amount";
    case RECON_MONEY_SYNTAX:
        return "not a decimal amount";
    case RECON_MONEY_PRECISION:
        return "more decimal places than the currency allows";
    case RECON_MONEY_OVERFLOW:
        return "amount out of range";
    case RECON_MONEY_ARGUMENT:
        return "invalid currency exponent or decimal mark";
    default:
        return "invalid amount";
    }
}
