/*  test_gen.h — reading what recon-gen wrote about its data (meta.json:
    the window and as-of time a run over it needs). Header-only.           */
#ifndef RECON_TEST_GEN_H
#define RECON_TEST_GEN_H

#include <stdio.h>
#include <string.h>

/*  The string value of KEY in DIR/meta.json into OUT (SIZE bytes): 0, or
    -1 with OUT empty when the file or the key is missing.                 */
static inline int
test_gen_meta (const char *dir, const char *key, char *out, size_t size)
{
    char path[1024], text[4096], pat[64];
    snprintf (path, sizeof path, "%s/meta.json", dir);
    FILE *f = fopen (path, "r");
    size_t n = f ? fread (text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose (f);
    text[n] = '\0';
    snprintf (pat, sizeof pat, "\"%s\":", key);
    char *p = strstr (text, pat);
    p = p ? strchr (p + strlen (pat), '"') : NULL;
    char *e = p ? strchr (p + 1, '"') : NULL;
    snprintf (out, size, "%.*s", e ? (int) (e - p - 1) : 0, e ? p + 1 : "");
    return e ? 0 : -1;
}

#endif
