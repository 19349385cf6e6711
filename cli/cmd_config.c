/*  cmd_config.c — `recon config`: the effective settings and their sources.

    Design decision: secrets in URLs are masked, so the output can be pasted
    into a ticket.                                                          */
#include "cli.h"

#include <stdio.h>

int
cli_config (cli_t *cli, int argc, char **argv)
{
    if (argc > 1 && cli_is_help (argv[1])) {
        printf ("usage: recon config\n\n"
                "Prints every setting as 'key = value  # source' (default, FILE:LINE,\n"
                "environment variable or flag), passwords masked.\n\n");
        recon_config_print_help (stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1) {
        fprintf (stderr, "recon config: unexpected argument '%s'\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    recon_config_dump (cli->cfg, stdout);
    return CLI_EXIT_OK;
}
