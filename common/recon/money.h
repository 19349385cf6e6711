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

#endif
