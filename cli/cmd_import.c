/*  cmd_import.c — `recon import processor|ledger|fulfillment --format F FILE…`.

    Design decision: each file is its own transaction and its own line of
    counts, and every rejected row is printed as FILE:LINE: FIELD: REASON
    (the first 20 per file; all are kept in recon.import_rejects), so a
    scheduled import's log says exactly what to fix.                       */
#include "cli.h"
#include "recon/import.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define S_SHOW_REJECTS 20

typedef struct {
    long shown;
} s_reject_printer_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: recon import processor --format stripe|adyen|canonical [--processor NAME]\n"
             "                              [--decimal-mark .|,] FILE...\n"
             "       recon import ledger --format canonical FILE...\n"
             "       recon import fulfillment --format canonical|shopify FILE...\n"
             "\n"
             "Imports report files into PostgreSQL (RECON_DATABASE_URL; the reference ledger\n"
             "and fulfillment schemas in RECON_LEDGER_DATABASE_URL and\n"
             "RECON_FULFILLMENT_DATABASE_URL). Columns are found by header name in any\n"
             "order; extra columns are ignored. Each file is one transaction. Importing\n"
             "the same file again changes nothing (idempotent on processor + transaction\n"
             "id, on ledger entry id, and on the newest fulfillment status per order).\n"
             "\n"
             "Rows that are not order money (fees, payouts, unknown report categories)\n"
             "are skipped and counted by category. A row that cannot be read is kept in\n"
             "recon.import_rejects with file, line, field and reason, and printed.\n"
             "\n"
             "Into an empty table of processor events the rows are loaded first and\n"
             "the table's keys built after (printed as \"first load\"; same result,\n"
             "several times faster); readers wait for it. If the table is in use, the\n"
             "import merges as every later import does.\n"
             "\n"
             "  --format F         the file layout (see above)\n"
             "  --processor NAME   processor name stored with canonical events\n"
             "                     (default: canonical; stripe/adyen use their own)\n"
             "  --decimal-mark C   decimal mark of amounts in the report: . (default) or ,\n"
             "\n"
             "Exit codes: 0 every row accounted for, 1 some rows rejected (kept for\n"
             "review), 2 usage error, 3 a file could not be imported (nothing from it\n"
             "was committed).\n");
}

static void
s_print_reject (void *arg, const char *file, long line, const char *field, const char *reason)
{
    s_reject_printer_t *p = arg;
    if (p->shown++ < S_SHOW_REJECTS)
        fprintf (stderr, "%s:%ld: %s%s%s\n", file, line, field ? field : "", field ? ": " : "",
                 reason);
}

static void
s_print_result (const char *file, const recon_import_result_t *r)
{
    printf ("%s: %lld rows: %lld imported, %lld updated, %lld duplicate, %lld skipped", file,
            (long long) r->rows, (long long) r->imported, (long long) r->updated,
            (long long) r->duplicate, (long long) r->skipped);
    for (int i = 0; i < r->ncategories; i++)
        printf ("%s%s %lld", i ? ", " : " (", r->categories[i].name,
                (long long) r->categories[i].count);
    printf ("%s, %lld rejected (import %lld%s)\n", r->ncategories ? ")" : "",
            (long long) r->rejected, (long long) r->import_id,
            r->first_load ? ", first load" : "");
}

static int
s_parse_source (const char *name, recon_import_source_t *out)
{
    if (strcmp (name, "processor") == 0)
        *out = RECON_IMPORT_PROCESSOR;
    else if (strcmp (name, "ledger") == 0)
        *out = RECON_IMPORT_LEDGER;
    else if (strcmp (name, "fulfillment") == 0)
        *out = RECON_IMPORT_FULFILLMENT;
    else
        return -1;
    return 0;
}

static const char *
s_url_for (cli_t *cli, recon_import_source_t source)
{
    if (source == RECON_IMPORT_LEDGER)
        return recon_config_get_url (cli->cfg, "ledger_database_url");
    if (source == RECON_IMPORT_FULFILLMENT)
        return recon_config_get_url (cli->cfg, "fulfillment_database_url");
    return recon_config_get (cli->cfg, "database_url");
}

/*  Parses the options after the source; returns the first FILE's index,
    or -1 after printing a usage error, or 0 when --help was shown.        */
static int
s_parse_options (int argc, char **argv, recon_import_options_t *opt)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"processor", required_argument, NULL, 'p'},
        {"decimal-mark", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': opt->format = optarg; break;
        case 'p': opt->processor = optarg; break;
        case 'd':
            if (strcmp (optarg, ".") != 0 && strcmp (optarg, ",") != 0) {
                fprintf (stderr, "recon import: --decimal-mark must be . or ,\n");
                return -1;
            }
            opt->decimal_mark = optarg[0];
            break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return -1;
        }
    }
    if (!opt->format || !recon_import_format_known (opt->source, opt->format)) {
        fprintf (stderr, "recon import: %s --format %s is not supported (see --help)\n",
                 opt->source == RECON_IMPORT_PROCESSOR ? "processor"
                 : opt->source == RECON_IMPORT_LEDGER  ? "ledger"
                                                       : "fulfillment",
                 opt->format ? opt->format : "(missing)");
        return -1;
    }
    if (opt->processor && opt->source != RECON_IMPORT_PROCESSOR) {
        fprintf (stderr, "recon import: --processor applies to processor files only\n");
        return -1;
    }
    if (optind >= argc) {
        fprintf (stderr, "recon import: no FILE given\n");
        return -1;
    }
    return optind;
}

int
cli_import (cli_t *cli, int argc, char **argv)
{
    if (argc < 2 || cli_is_help (argv[1])) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    recon_import_options_t opt = {0};
    if (s_parse_source (argv[1], &opt.source) < 0) {
        fprintf (stderr, "recon import: unknown source '%s' (processor, ledger, fulfillment)\n",
                 argv[1]);
        return CLI_EXIT_USAGE;
    }
    int first = s_parse_options (argc - 1, argv + 1, &opt);
    if (first <= 0)
        return first == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    first += 1;

    recon_db_t *db = recon_db_connect (s_url_for (cli, opt.source), "recon import");
    if (!recon_db_ok (db)) {
        recon_log_kv (cli->log, RECON_LOG_ERROR, "import.failed", "error", recon_db_errstr (db),
                      NULL);
        recon_db_destroy (&db);
        return CLI_EXIT_FAILURE;
    }
    int rc = CLI_EXIT_OK;
    for (int i = first; i < argc && !*cli->stop_signal; i++) {
        s_reject_printer_t printer = {0};
        opt.on_reject = s_print_reject;
        opt.on_reject_arg = &printer;
        recon_import_result_t res;
        if (recon_import_file (db, &opt, argv[i], &res) < 0) {
            recon_log_kv (cli->log, RECON_LOG_ERROR, "import.failed", "file", argv[i], "error",
                          res.errstr, NULL);
            rc = CLI_EXIT_FAILURE;
            continue;
        }
        if (printer.shown > S_SHOW_REJECTS)
            fprintf (stderr, "%s: … and %ld more rejected rows (all in recon.import_rejects, "
                             "import_id %lld)\n",
                     argv[i], printer.shown - S_SHOW_REJECTS, (long long) res.import_id);
        s_print_result (argv[i], &res);
        if (res.rejected && rc == CLI_EXIT_OK)
            rc = CLI_EXIT_FLAGGED;
    }
    recon_db_destroy (&db);
    return rc;
}
