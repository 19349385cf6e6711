/*  fuzz_money.c — libFuzzer target for recon_money_parse.

    Every input is parsed with each exponent (0..4) and both decimal marks
    and checked against an independent oracle written from the header's
    rules: the expected result code is derived from the text's shape, and
    an accepted value must format (recon_money_format) to the canonical
    form of the text and parse back to itself. Any difference aborts.    */
#include "recon/money.h"

#include <stdlib.h>
#include <string.h>

static void
s_check (int ok)
{
    if (!ok)
        abort ();
}

/*  The spec, restated: returns the expected code and, when 0, writes the
    canonical text ("-" unless zero, integer digits without leading zeros,
    mark and exactly EXP fraction digits) into CANON.                     */
static int
s_oracle (const char *t, size_t n, int exp, char mark, char *canon, size_t size)
{
    size_t a = 0, b = n;
    while (a < b && t[a] == ' ')
        a++;
    while (b > a && t[b - 1] == ' ')
        b--;
    if (a == b)
        return RECON_MONEY_EMPTY;
    int neg = 0;
    if (t[a] == '+' || t[a] == '-')
        neg = t[a++] == '-';
    size_t i0 = a;
    while (a < b && t[a] >= '0' && t[a] <= '9')
        a++;
    size_t i1 = a, f0 = a, f1 = a;
    if (a < b && t[a] == mark) {
        f0 = ++a;
        while (a < b && t[a] >= '0' && t[a] <= '9')
            a++;
        f1 = a;
        if (f1 == f0)
            return RECON_MONEY_SYNTAX;
    }
    if (a != b || i1 == i0)
        return RECON_MONEY_SYNTAX;
    size_t nfrac = f1 - f0;
    while (nfrac > (size_t) exp && t[f0 + nfrac - 1] == '0')
        nfrac--;
    if (nfrac > (size_t) exp)
        return RECON_MONEY_PRECISION;

    /*  Magnitude digits: integer part without leading zeros, then exactly
        EXP fraction digits; compared with 2^63 - 1 (or 2^63) as text.     */
    char mag[64];
    size_t m = 0;
    while (i0 < i1 - 1 && t[i0] == '0')
        i0++;
    if (i1 - i0 > 40)
        return RECON_MONEY_OVERFLOW;
    memcpy (mag, t + i0, i1 - i0);
    m = i1 - i0;
    for (size_t k = 0; k < (size_t) exp; k++)
        mag[m++] = k < nfrac ? t[f0 + k] : '0';
    size_t z = 0;
    while (z < m - 1 && mag[z] == '0')
        z++;
    const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
    size_t digits = m - z;
    if (digits > 19 || (digits == 19 && memcmp (mag + z, limit, 19) > 0))
        return RECON_MONEY_OVERFLOW;
    int zero = digits == 1 && mag[z] == '0';

    size_t c = 0;
    if (neg && !zero)
        canon[c++] = '-';
    size_t int_digits = i1 - i0;
    memcpy (canon + c, mag, int_digits);
    c += int_digits;
    if (exp > 0) {
        canon[c++] = mark;
        memcpy (canon + c, mag + int_digits, (size_t) exp);
        c += (size_t) exp;
    }
    s_check (c < size);
    canon[c] = '\0';
    return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    for (int exp = 0; exp <= 4; exp++) {
        for (int m = 0; m < 2; m++) {
            char mark = m ? ',' : '.';
            char canon[96], buf[48];
            int64_t v = 12345;
            int rc = recon_money_parse (text, size, exp, mark, &v);
            int want = s_oracle (text, size, exp, mark, canon, sizeof canon);
            s_check (rc == want);
            s_check (recon_money_strerror (rc) != NULL);
            if (rc != 0) {
                s_check (v == 12345);
                continue;
            }
            int n = recon_money_format (buf, sizeof buf, v, exp, mark);
            s_check (n > 0);
            s_check (strcmp (buf, canon) == 0);
            int64_t back = 0;
            s_check (recon_money_parse (buf, (size_t) n, exp, mark, &back) == 0);
            s_check (back == v);
        }
    }
    return 0;
}
