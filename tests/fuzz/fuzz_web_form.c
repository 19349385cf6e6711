/*  fuzz_web_form.c — libFuzzer target for recon-web's form decoder and
    escaper: any bytes either decode (then every name and value is a
    NUL-free string inside the decoded buffer, and escaping it leaves no
    raw < > " ' &) or are refused; never a crash or a leak.               */
#include "html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    web_form_t f;
    if (web_form_parse (&f, (const char *) data, size) < 0)
        return 0;
    for (int i = 0; i < f.n; i++) {
        if (f.name[i] < f.mem || f.name[i] > f.mem + size || f.value[i] < f.mem
            || f.value[i] > f.mem + size)
            abort ();
        web_buf_t b = {0};
        web_esc (&b, f.value[i]);
        if (b.data && strpbrk (b.data, "<>\"'"))
            abort ();
        if (web_form_get (&f, f.name[i]) == NULL)
            abort ();
        web_buf_free (&b);
    }
    web_form_free (&f);
    return 0;
}
