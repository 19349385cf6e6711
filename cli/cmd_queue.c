/*  cmd_queue.c — `recon queue list|show|claim|resolve|snooze|note|reopen|
    export`: the mismatch queue from a terminal, tables for people and
    JSON / CSV for machines.

    Design decision: the CLI is a thin shell over common/queue.c, the same
    calls the web page makes, so both write the same history; the actor is
    --actor or the OS user, and never `recon` (that name is the system's).  */
#include "cli.h"
#include "recon/classify.h"
#include "recon/queue.h"
#include "recon/timestamp.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: recon queue list [FILTERS] [--page N] [--page-size N] [--format table|json|csv]\n"
        "       recon queue show ID [--format table|json]\n"
        "       recon queue claim ID [--note TEXT]\n"
        "       recon queue resolve ID --resolution R [--note TEXT]\n"
        "       recon queue snooze ID --until TIME [--note TEXT]\n"
        "       recon queue note ID TEXT\n"
        "       recon queue reopen ID [--note TEXT]\n"
        "       recon queue export [FILTERS] [--format csv]\n"
        "\n"
        "The mismatch queue, worst first: severity, then money at stake (major units,\n"
        "no exchange rates), then age. Snoozed items come back when their time passes.\n"
        "\n"
        "FILTERS\n"
        "  --status S       open, in_review, snoozed, resolved or all; comma-separated\n"
        "                   (default: open,in_review — the work to do)\n"
        "  --kind K         a mismatch kind (recon states lists them)\n"
        "  --severity S     critical, high or medium\n"
        "  --currency C     an ISO 4217 code\n"
        "  --older-than D   opened at least D ago (e.g. 3d, 12h)\n"
        "  --search TEXT    order ids containing TEXT\n"
        "ACTIONS (each writes the item's history, by --actor NAME, default the OS user)\n"
        "  claim            open or snoozed -> in_review, assigned to you\n"
        "  resolve          -> resolved; R: refunded, shipped, ledger_corrected,\n"
        "                   written_off, false_positive\n"
        "  snooze           open or in_review -> snoozed until TIME (ISO 8601, UTC\n"
        "                   without an offset) or a duration from now (e.g. 2d)\n"
        "  note             add a note, any status\n"
        "  reopen           resolved or snoozed -> open\n"
        "  --expect STATUS  act only if the item is still STATUS\n"
        "\n"
        "Exit codes: 0 done, 1 not found or someone else changed the item first\n"
        "(nothing changed; the message says who), 2 usage, 3 database failure.\n");
}

typedef struct {
    recon_queue_filter_t f;
    const char *format, *actor, *note, *resolution, *until, *expect;
    char actor_buf[128];
} s_opts_t;

static int
s_parse (cli_t *cli, int argc, char **argv, s_opts_t *o)
{
    (void) cli;
    static const struct option longs[] = {
        {"status", required_argument, NULL, 's'},   {"kind", required_argument, NULL, 'k'},
        {"severity", required_argument, NULL, 'v'}, {"currency", required_argument, NULL, 'c'},
        {"older-than", required_argument, NULL, 'o'}, {"search", required_argument, NULL, 'q'},
        {"page", required_argument, NULL, 'p'},     {"page-size", required_argument, NULL, 'z'},
        {"format", required_argument, NULL, 'f'},   {"actor", required_argument, NULL, 'a'},
        {"note", required_argument, NULL, 'n'},     {"resolution", required_argument, NULL, 'r'},
        {"until", required_argument, NULL, 'u'},    {"expect", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0; /* 0: glibc re-initialises fully (main parsed with "+") */
    while ((c = getopt_long (argc, argv, "h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': o->f.status = optarg; break;
        case 'k': o->f.kind = optarg; break;
        case 'v': o->f.severity = optarg; break;
        case 'c': o->f.currency = optarg; break;
        case 'q': o->f.search = optarg; break;
        case 'f': o->format = optarg; break;
        case 'a': o->actor = optarg; break;
        case 'n': o->note = optarg; break;
        case 'r': o->resolution = optarg; break;
        case 'u': o->until = optarg; break;
        case 'e': o->expect = optarg; break;
        case 'o':
            if (recon_duration_parse (optarg, &o->f.older_than_us) < 0) {
                fprintf (stderr, "recon queue: --older-than '%s' is not a duration (e.g. 3d, 12h)\n",
                         optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'p':
        case 'z': {
            long long v = strtoll (optarg, &end, 10);
            if (*end || v < 1 || (c == 'z' && v > RECON_QUEUE_PAGE_SIZE_MAX)) {
                fprintf (stderr, "recon queue: --%s '%s' must be %s\n",
                         c == 'p' ? "page" : "page-size", optarg,
                         c == 'p' ? "a number from 1" : "a number from 1 to 500");
                return CLI_EXIT_USAGE;
            }
            if (c == 'p')
                o->f.page = v;
            else
                o->f.page_size = v;
            break;
        }
        case 'h': s_usage (stdout); return -1;
        default: s_usage (stderr); return CLI_EXIT_USAGE;
        }
    }
    char err[256];
    if (recon_queue_filter_check (&o->f, err, sizeof err) < 0) {
        fprintf (stderr, "recon queue: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (!o->actor) {
        struct passwd *pw = getpwuid (getuid ());
        snprintf (o->actor_buf, sizeof o->actor_buf, "%s", pw ? pw->pw_name : "");
        o->actor = o->actor_buf;
    }
    return CLI_EXIT_OK;
}

static void
s_money (char *buf, size_t size, const char *minor, const char *currency)
{
    if (recon_money_format_human (buf, size, strtoll (minor, NULL, 10), currency) < 0)
        snprintf (buf, size, "%s %s", minor, currency);
}

static recon_db_t *
s_connect (cli_t *cli)
{
    recon_db_t *db = recon_db_connect (recon_config_get (cli->cfg, "database_url"), "recon queue");
    if (!recon_db_ok (db)) {
        fprintf (stderr, "recon queue: %s\n", recon_db_errstr (db));
        recon_db_destroy (&db);
    }
    return db;
}

static int
s_db_error (recon_db_t *db)
{
    fprintf (stderr, "recon queue: %s\n", recon_db_errstr (db));
    return CLI_EXIT_FAILURE;
}

/* ---- list ------------------------------------------------------------------- */

static const char *const s_list_cols[] = {"mismatch_id", "order_id", "kind", "severity",
                                          "status", "amount_minor", "currency", "opened_at",
                                          "age", "assignee", "summary", "snoozed_until",
                                          "resolution"};

static void
s_list_table (PGresult *rows, PGresult *totals, const s_opts_t *o, int64_t total, int64_t page,
              int64_t pages)
{
    printf ("Mismatch queue (%s): page %" PRId64 " of %" PRId64 ", %" PRId64 " item%s\n",
            o->f.status ? o->f.status : "open,in_review", page, pages, total,
            total == 1 ? "" : "s");
    if (PQntuples (rows) > 0)
        printf ("\n%8s  %-8s  %-24s %-18s %18s %5s  %s\n", "ID", "SEVERITY", "KIND", "ORDER",
                "AT STAKE", "AGE", "STATUS");
    for (int i = 0; i < PQntuples (rows); i++) {
        char money[64], status[160];
        s_money (money, sizeof money, PQgetvalue (rows, i, 5), PQgetvalue (rows, i, 6));
        const char *st = PQgetvalue (rows, i, 4);
        if (*PQgetvalue (rows, i, 9) && strcmp (st, "in_review") == 0)
            snprintf (status, sizeof status, "in_review (%s)", PQgetvalue (rows, i, 9));
        else if (strcmp (st, "snoozed") == 0)
            snprintf (status, sizeof status, "snoozed until %s", PQgetvalue (rows, i, 11));
        else if (*PQgetvalue (rows, i, 12))
            snprintf (status, sizeof status, "%s (%s)", st, PQgetvalue (rows, i, 12));
        else
            snprintf (status, sizeof status, "%s", st);
        printf ("%8s  %-8s  %-24s %-18s %18s %5s  %s\n          %s\n", PQgetvalue (rows, i, 0),
                PQgetvalue (rows, i, 3), PQgetvalue (rows, i, 2), PQgetvalue (rows, i, 1), money,
                PQgetvalue (rows, i, 8), status, PQgetvalue (rows, i, 10));
    }
    if (PQntuples (totals) > 0) {
        printf ("\nAll %" PRId64 " by severity and currency:\n", total);
        for (int i = 0; i < PQntuples (totals); i++) {
            char money[64];
            s_money (money, sizeof money, PQgetvalue (totals, i, 3), PQgetvalue (totals, i, 1));
            printf ("  %-8s  %-3s  %7s  %22s\n", PQgetvalue (totals, i, 0),
                    PQgetvalue (totals, i, 1), PQgetvalue (totals, i, 2), money);
        }
    }
    if (page < pages)
        printf ("\nNext: --page %" PRId64 " (%" PRId64 " more page%s)\n", page + 1, pages - page,
                pages - page == 1 ? "" : "s");
}

static json_t *
s_rows_json (PGresult *rows, const char *const *cols, int ncols)
{
    json_t *arr = json_array ();
    for (int i = 0; i < PQntuples (rows); i++) {
        json_t *o = json_object ();
        for (int c = 0; c < ncols; c++) {
            const char *v = PQgetvalue (rows, i, c);
            if (strcmp (cols[c], "mismatch_id") == 0 || strcmp (cols[c], "amount_minor") == 0
                || strcmp (cols[c], "count") == 0)
                json_object_set_new (o, cols[c], json_integer (strtoll (v, NULL, 10)));
            else
                json_object_set_new (o, cols[c], *v ? json_string (v) : json_null ());
        }
        json_array_append_new (arr, o);
    }
    return arr;
}

static int
s_print_json (json_t *j)
{
    char *text = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    json_decref (j);
    if (!text)
        return CLI_EXIT_FAILURE;
    puts (text);
    free (text);
    return CLI_EXIT_OK;
}

static int
s_list (cli_t *cli, s_opts_t *o)
{
    const char *fmt = o->format ? o->format : "table";
    if (strcmp (fmt, "table") && strcmp (fmt, "json") && strcmp (fmt, "csv")) {
        fprintf (stderr, "recon queue list: --format '%s': expected table, json or csv\n", fmt);
        return CLI_EXIT_USAGE;
    }
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    int rc = CLI_EXIT_OK;
    int64_t total = 0;
    PGresult *rows = recon_queue_list (db, &o->f, &total);
    PGresult *totals = rows ? recon_queue_totals (db, &o->f) : NULL;
    if (!rows || !totals) {
        rc = s_db_error (db);
        goto done;
    }
    int64_t size = o->f.page_size ? o->f.page_size : 20, page = o->f.page ? o->f.page : 1;
    int64_t pages = total ? (total + size - 1) / size : 1;
    if (strcmp (fmt, "table") == 0)
        s_list_table (rows, totals, o, total, page, pages);
    else if (strcmp (fmt, "json") == 0) {
        static const char *const tcols[] = {"severity", "currency", "count", "amount_minor"};
        rc = s_print_json (json_pack ("{s:I, s:I, s:I, s:I, s:o, s:o}", "page", (json_int_t) page,
            "pages", (json_int_t) pages, "page_size", (json_int_t) size, "total",
            (json_int_t) total, "items", s_rows_json (rows, s_list_cols, 13), "totals",
            s_rows_json (totals, tcols, 4)));
    } else {
        for (int c = 0; c < 13; c++)
            printf ("%s%s", c ? "," : "", s_list_cols[c]);
        putchar ('\n');
        for (int i = 0; i < PQntuples (rows); i++) {
            for (int c = 0; c < 13; c++) {
                if (c)
                    putchar (',');
                recon_queue_csv_field (stdout, PQgetvalue (rows, i, c));
            }
            putchar ('\n');
        }
    }
done:
    PQclear (rows);
    PQclear (totals);
    recon_db_destroy (&db);
    return rc;
}

/* ---- show ------------------------------------------------------------------- */

/*  One line per fact of each source, for the side-by-side columns.        */
static int
s_fact_lines (json_t *ev, const char *source, char lines[][80], int max)
{
    json_t *src = json_object_get (ev, source);
    int n = 0;
    if (strcmp (source, "fulfillment") == 0) {
        if (!json_is_object (src))
            return snprintf (lines[0], 80, "(no fulfillment record)"), 1;
        const char *shipped = json_string_value (json_object_get (src, "shipped_at"));
        snprintf (lines[n++], 80, "%s", json_string_value (json_object_get (src, "status")));
        snprintf (lines[n++], 80, "updated %.16s", json_string_value (json_object_get (src, "updated_at")));
        if (shipped)
            snprintf (lines[n++], 80, "shipped %.16s", shipped);
        return n;
    }
    size_t i;
    json_t *e;
    json_array_foreach (src, i, e) {
        if (n + 2 > max)
            break;
        char money[64];
        char minor[32];
        snprintf (minor, sizeof minor, "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (e, "amount_minor")));
        s_money (money, sizeof money, minor, json_string_value (json_object_get (e, "currency")));
        const char *st = json_string_value (json_object_get (e, "status"));
        const char *when = json_string_value (json_object_get (e, strcmp (source, "ledger") == 0
                                                                     ? "recorded_at" : "occurred_at"));
        snprintf (lines[n++], 80, "%s%s%s %s", json_string_value (json_object_get (e, "kind")),
                  st ? " " : "", st ? st : "", money);
        snprintf (lines[n++], 80, "  %.16s %.20s", when ? when : "",
                  json_string_value (json_object_get (e, strcmp (source, "ledger") == 0
                                                             ? "entry_id" : "txn_id")));
    }
    if (n == 0)
        snprintf (lines[n++], 80, "(nothing)");
    return n;
}

static void
s_show_table (PGresult *m, PGresult *h, json_t *ev)
{
    char money[64];
    s_money (money, sizeof money, PQgetvalue (m, 0, 6), PQgetvalue (m, 0, 7));
    printf ("Mismatch %s: %s (%s), %s%s%s%s\n", PQgetvalue (m, 0, 0), PQgetvalue (m, 0, 2),
            PQgetvalue (m, 0, 3), PQgetvalue (m, 0, 4), *PQgetvalue (m, 0, 5) ? " as " : "",
            PQgetvalue (m, 0, 5), *PQgetvalue (m, 0, 11) ? "" : "");
    printf ("Order %s, %s at stake, opened %.16s", PQgetvalue (m, 0, 1), money,
            PQgetvalue (m, 0, 13));
    if (*PQgetvalue (m, 0, 11))
        printf (", assigned to %s", PQgetvalue (m, 0, 11));
    if (*PQgetvalue (m, 0, 12))
        printf (", snoozed until %.16s", PQgetvalue (m, 0, 12));
    printf ("\n\n  %s\n  Next: %s\n\n", PQgetvalue (m, 0, 8), PQgetvalue (m, 0, 9));
    enum { MAXL = 40 };
    char lines[3][MAXL][80];
    int n[3] = {0, 0, 0}, rows = 0;
    static const char *const src[] = {"processor", "ledger", "fulfillment"};
    for (int s = 0; s < 3; s++) {
        n[s] = s_fact_lines (ev, src[s], lines[s], MAXL);
        if (n[s] > rows)
            rows = n[s];
    }
    printf ("  %-34s | %-34s | %s\n", "PROCESSOR", "LEDGER", "FULFILLMENT");
    printf ("  %-34s-+-%-34s-+-%s\n", "----------------------------------",
            "----------------------------------", "--------------------");
    for (int r = 0; r < rows; r++)
        printf ("  %-34.34s | %-34.34s | %s\n", r < n[0] ? lines[0][r] : "",
                r < n[1] ? lines[1][r] : "", r < n[2] ? lines[2][r] : "");
    printf ("\nHistory\n");
    for (int i = 0; i < PQntuples (h); i++) {
        const char *from = PQgetvalue (h, i, 3), *to = PQgetvalue (h, i, 4);
        char change[64] = "";
        if (*to && strcmp (from, to) != 0)
            snprintf (change, sizeof change, "%s%s%s", from, *from ? " -> " : "-> ", to);
        printf ("  %s UTC  %-12s %-13s %-22s %s%s%s\n", PQgetvalue (h, i, 0), PQgetvalue (h, i, 1),
                PQgetvalue (h, i, 2), change, PQgetvalue (h, i, 5),
                *PQgetvalue (h, i, 6) ? "  (run " : "", *PQgetvalue (h, i, 6) ? PQgetvalue (h, i, 6) : "");
        if (*PQgetvalue (h, i, 6))
            putchar (')');
        putchar ('\n');
    }
}

static int
s_id_arg (const char *sub, const char *text, int64_t *id)
{
    char *end;
    long long v = text ? strtoll (text, &end, 10) : 0;
    if (!text || *end || v < 1) {
        fprintf (stderr, "recon queue %s: %s%s%s\n", sub, text ? "'" : "", text ? text : "ID required",
                 text ? "' is not a mismatch id" : "");
        return -1;
    }
    *id = v;
    return 0;
}

static int
s_show (cli_t *cli, s_opts_t *o, const char *idtext)
{
    int64_t id;
    const char *fmt = o->format ? o->format : "table";
    if (s_id_arg ("show", idtext, &id) < 0)
        return CLI_EXIT_USAGE;
    if (strcmp (fmt, "table") && strcmp (fmt, "json")) {
        fprintf (stderr, "recon queue show: --format '%s': expected table or json\n", fmt);
        return CLI_EXIT_USAGE;
    }
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    int rc = CLI_EXIT_OK;
    json_t *ev = NULL;
    PGresult *m = recon_queue_get (db, id), *h = m ? recon_queue_history (db, id) : NULL;
    if (!m || !h) {
        rc = s_db_error (db);
        goto done;
    }
    if (PQntuples (m) == 0) {
        fprintf (stderr, "recon queue show: no mismatch %s\n", idtext);
        rc = CLI_EXIT_FLAGGED;
        goto done;
    }
    ev = json_loads (PQgetvalue (m, 0, 10), 0, NULL);
    if (!ev)
        ev = json_object ();
    if (strcmp (fmt, "table") == 0)
        s_show_table (m, h, ev);
    else {
        static const char *const mcols[] = {"mismatch_id", "order_id", "kind", "severity",
            "status", "resolution", "amount_minor", "currency", "summary", "next_step",
            "evidence", "assignee", "snoozed_until", "opened_at", "updated_at", "resolved_at",
            "first_seen_run", "last_seen_run"};
        static const char *const hcols[] = {"at", "actor", "action", "from_status", "to_status",
                                            "note", "run_id"};
        json_t *rows = s_rows_json (m, mcols, 18);
        json_t *item = json_incref (json_array_get (rows, 0));
        json_decref (rows);
        json_object_set (item, "evidence", ev);
        json_object_set_new (item, "history", s_rows_json (h, hcols, 7));
        rc = s_print_json (item);
    }
done:
    json_decref (ev);
    PQclear (m);
    PQclear (h);
    recon_db_destroy (&db);
    return rc;
}

/* ---- actions ---------------------------------------------------------------- */

static int
s_act (cli_t *cli, s_opts_t *o, recon_queue_verb_t verb, int argc, char **argv)
{
    const char *sub = recon_queue_verb_name (verb);
    int64_t id;
    if (s_id_arg (sub, optind < argc ? argv[optind] : NULL, &id) < 0)
        return CLI_EXIT_USAGE;
    recon_queue_action_t a = {.verb = verb, .id = id, .actor = o->actor, .note = o->note,
                              .resolution = o->resolution, .expect_status = o->expect};
    if (verb == RECON_QUEUE_NOTE) {
        if (optind + 1 >= argc) {
            fprintf (stderr, "recon queue note: TEXT required\n");
            return CLI_EXIT_USAGE;
        }
        a.note = argv[optind + 1];
    } else if (optind + 1 < argc) {
        fprintf (stderr, "recon queue %s: unexpected argument '%s'\n", sub, argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    if (!*o->actor || strcmp (o->actor, "recon") == 0) {
        fprintf (stderr, "recon queue %s: --actor NAME required ('%s' %s)\n", sub, o->actor,
                 *o->actor ? "is the system's own name" : "is empty");
        return CLI_EXIT_USAGE;
    }
    if (verb == RECON_QUEUE_RESOLVE && !o->resolution) {
        fprintf (stderr, "recon queue resolve: --resolution R required (refunded, shipped, "
                         "ledger_corrected, written_off, false_positive)\n");
        return CLI_EXIT_USAGE;
    }
    if (verb == RECON_QUEUE_SNOOZE) {
        int64_t d;
        if (!o->until) {
            fprintf (stderr, "recon queue snooze: --until TIME required\n");
            return CLI_EXIT_USAGE;
        }
        if (recon_duration_parse (o->until, &d) == 0)
            a.until_us = recon_now_us () + d;
        else if (recon_timestamp_parse (o->until, strlen (o->until), &a.until_us) < 0) {
            fprintf (stderr, "recon queue snooze: --until '%s' is neither an ISO 8601 time nor "
                             "a duration (e.g. 2026-12-24, 2d)\n", o->until);
            return CLI_EXIT_USAGE;
        }
    }
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    char msg[512];
    int rc = recon_queue_act (db, &a, msg, sizeof msg);
    int exit;
    if (rc == 0) {
        printf ("mismatch %" PRId64 ": %s by %s\n", id,
                verb == RECON_QUEUE_NOTE ? "note added" : sub, o->actor);
        exit = CLI_EXIT_OK;
    } else if (rc == RECON_QUEUE_EDB) {
        exit = s_db_error (db);
    } else {
        fprintf (stderr, "recon queue %s: %s\n", sub, msg);
        exit = rc == RECON_QUEUE_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FLAGGED;
    }
    recon_db_destroy (&db);
    return exit;
}

static int
s_export (cli_t *cli, s_opts_t *o)
{
    if (o->format && strcmp (o->format, "csv") != 0) {
        fprintf (stderr, "recon queue export: --format '%s': only csv\n", o->format);
        return CLI_EXIT_USAGE;
    }
    recon_db_t *db = s_connect (cli);
    if (!db)
        return CLI_EXIT_FAILURE;
    int64_t n = recon_queue_export_csv (db, &o->f, stdout);
    int rc = n < 0 ? s_db_error (db) : CLI_EXIT_OK;
    if (n >= 0 && fflush (stdout) != 0) {
        fprintf (stderr, "recon queue export: writing the output failed\n");
        rc = CLI_EXIT_FAILURE;
    }
    recon_db_destroy (&db);
    return rc;
}

int
cli_queue (cli_t *cli, int argc, char **argv)
{
    if (argc < 2 || cli_is_help (argv[1])) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    s_opts_t o;
    memset (&o, 0, sizeof o);
    int prc = s_parse (cli, argc - 1, argv + 1, &o);
    if (prc != CLI_EXIT_OK)
        return prc < 0 ? CLI_EXIT_OK : prc;
    /*  getopt permuted argv + 1: operands now start at optind.            */
    int nargs = argc - 1;
    char **args = argv + 1;
    if (strcmp (sub, "list") == 0 || strcmp (sub, "export") == 0) {
        if (optind < nargs) {
            fprintf (stderr, "recon queue %s: unexpected argument '%s'\n", sub, args[optind]);
            return CLI_EXIT_USAGE;
        }
        return sub[0] == 'l' ? s_list (cli, &o) : s_export (cli, &o);
    }
    if (strcmp (sub, "show") == 0)
        return s_show (cli, &o, optind < nargs ? args[optind] : NULL);
    recon_queue_verb_t verb;
    if (recon_queue_verb_parse (sub, &verb) == 0)
        return s_act (cli, &o, verb, nargs, args);
    fprintf (stderr, "recon queue: unknown subcommand '%s'\n", sub);
    s_usage (stderr);
    return CLI_EXIT_USAGE;
}
