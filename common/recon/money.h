/*  recon/money.h — currencies and money in minor units.

    Money is always an int64 count of minor units plus an ISO 4217 code;
    there is no float anywhere in recon. The exponent of a currency (the
    number of decimal digits of its minor unit) comes from ISO 4217.       */
#ifndef RECON_MONEY_H
#define RECON_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define RECON_CURRENCY_LEN 3

/*  Returns the ISO 4217 exponent of CODE (0, 2 or 3; 4 for CLF/UYW), or -1
    when CODE is not three ASCII letters. CODE is compared case-insensitively;
    a well-formed code that is not in our table gets the common exponent 2,
    because ISO 4217 lists every other exponent explicitly and we carry them
    all.                                                                     */
int recon_currency_exponent (const char *code);

/*  Writes the upper-case form of CODE (three ASCII letters) into OUT, which
    must hold RECON_CURRENCY_LEN + 1 bytes. Returns 0, or -1 when CODE is not
    three ASCII letters (OUT is then the empty string).                     */
int recon_currency_normalize (const char *code, char *out);

/*  Formats MINOR as a decimal with EXPONENT fraction digits and DECIMAL_MARK
    ('.' or ','), e.g. (-4200, 2, '.') -> "-42.00", (4200, 0, '.') -> "4200".
    No grouping separators. Returns the length written (excluding the NUL),
    or -1 when BUF (of SIZE bytes) is too small. INT64_MIN is handled.      */
int recon_money_format (char *buf, size_t size, int64_t minor, int exponent,
                        char decimal_mark);

/*  Result codes of recon_money_parse (0 is success).                       */
enum {
    RECON_MONEY_EMPTY = -1,     /* nothing but spaces                      */
    RECON_MONEY_SYNTAX = -2,    /* not [+-]digits[MARK digits]             */
    RECON_MONEY_PRECISION = -3, /* a non-zero digit beyond the exponent    */
    RECON_MONEY_OVERFLOW = -4,  /* magnitude does not fit int64 minor units */
    RECON_MONEY_ARGUMENT = -5,  /* exponent not 0..4 or mark not '.'/','   */
};

/*  Parses the LEN bytes at TEXT (no NUL needed; TEXT may be NULL when LEN
    is 0) as a decimal amount straight into minor units of a currency with
    EXPONENT (0..4) fraction digits: with exponent 2, "42.00", "42" and
    "42.0" give 4200 and "-0.05" gives -5; with exponent 0, "4200" gives 4200.

    Accepted: optional surrounding ASCII spaces, one optional leading '+' or
    '-', at least one integer digit, then optionally DECIMAL_MARK ('.' or
    ',') followed by at least one digit. Leading zeros are accepted. Fraction
    digits beyond EXPONENT are accepted only when they are all '0' ("42.000"
    with exponent 2), because they do not change the value; any other extra
    digit is RECON_MONEY_PRECISION — amounts are never rounded.

    Rejected (RECON_MONEY_SYNTAX): ".5" and "1." (no report writes them, and
    accepting them would hide a truncated field), a bare sign or mark, two
    signs, inner spaces, grouping separators (the mark that is not
    DECIMAL_MARK is never accepted, so "1,234.00" fails), exponents ("1e3"),
    hex, "NaN", "Inf" and any other byte. Only spaces: RECON_MONEY_EMPTY.
    The full int64 range is accepted, INT64_MIN included
    ("-92233720368547758.08" with exponent 2); beyond it, RECON_MONEY_OVERFLOW.
    When several problems exist, SYNTAX wins over PRECISION over OVERFLOW.

    Returns 0 and sets *OUT, or one of the negative codes above; *OUT is
    left untouched on failure.                                              */
int recon_money_parse (const char *text, size_t len, int exponent,
                       char decimal_mark, int64_t *out);

/*  Short English reason for a recon_money_parse result, for reject
    messages ("more decimal places than the currency allows"). Never NULL;
    the string is static.                                                   */
const char *recon_money_strerror (int code);

#endif
