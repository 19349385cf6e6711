/*  csv_bench.c — throughput of the CSV reader on a Stripe-like report.

    Usage: csv_bench [FILE [ROWS]]. When FILE does not exist it is first
    written with ROWS (default 1,000,000) rows shaped like a Stripe
    itemized balance report. The file is then read three times through
    recon_csv (from the descriptor, touching every field) and the best
    MB/s is printed, so a warm page cache is measured, not the disk.
    Compare with `\copy t FROM FILE CSV HEADER` in psql on the same file. */
#include "recon/csv.h"
#include "recon/money.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
s_generate (const char *path, long rows)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fputs ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,"
           "reporting_category,source_id,description,customer_facing_amount,"
           "customer_facing_currency,automatic_payout_id,payment_metadata[order_id]\n", f);
    uint64_t x = 88172645463325252u;
    for (long i = 0; i < rows; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long cents = (long) (x % 500000) + 100, fee = cents * 29 / 1000 + 30;
        const char *cat = i % 20 == 0 ? "refund" : "charge";
        fprintf (f,
                 "txn_%016llx,2024-03-%02ld %02ld:%02ld:%02ld,2024-03-%02ld 00:00:00,usd,"
                 "%ld.%02ld,-%ld.%02ld,%ld.%02ld,%s,ch_%016llx,",
                 (unsigned long long) x, 1 + i % 28, i % 24, i % 60, (i / 60) % 60,
                 3 + i % 26, cents / 100, cents % 100, fee / 100, fee % 100,
                 (cents - fee) / 100, (cents - fee) % 100, cat,
                 (unsigned long long) (x * 31));
        if (i % 4 == 0)
            fprintf (f, "\"Order #%ld, \"\"gift\"\" wrap\",", 100000 + i);
        else
            fprintf (f, "Order #%ld,", 100000 + i);
        fprintf (f, "%ld.%02ld,usd,po_%08ld,%ld\n", cents / 100, cents % 100, i / 5000,
                 100000 + i);
    }
    return fclose (f);
}

/*  Integer nanoseconds: recon keeps floating point out of the code base. */
static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
main (int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/recon_csv_bench.csv";
    long rows = argc > 2 ? atol (argv[2]) : 1000000;
    if (access (path, R_OK) != 0 && s_generate (path, rows) != 0) {
        perror (path);
        return 1;
    }
    int64_t best = 0;
    for (int round = 0; round < 3; round++) {
        int fd = open (path, O_RDONLY);
        if (fd < 0) {
            perror (path);
            return 1;
        }
        recon_csv_t *csv = recon_csv_new (fd, path);
        int64_t t0 = s_now_ns ();
        long records = 0, errors = 0, amounts = 0;
        size_t bytes = 0, touched = 0;
        int rc;
        if (recon_csv_read_header (csv) != 0)
            return 1;
        int gross = recon_csv_column (csv, "gross");
        while ((rc = recon_csv_next (csv)) != 0) {
            if (rc < 0) {
                if (recon_csv_is_fatal (rc))
                    return 1;
                errors++;
                continue;
            }
            records++;
            size_t raw_len, len;
            recon_csv_raw (csv, &raw_len);
            bytes += raw_len + 1;
            for (size_t i = 0; i < recon_csv_nfields (csv); i++) {
                const char *f = recon_csv_field (csv, i, &len);
                touched += len + (unsigned char) f[0];
            }
            int64_t v;
            const char *g = recon_csv_field (csv, (size_t) gross, &len);
            amounts += recon_money_parse (g, len, 2, '.', &v) == 0;
        }
        int64_t ns = s_now_ns () - t0;
        if (ns < 1)
            ns = 1;
        int64_t mbs = (int64_t) bytes * 1000 / ns;
        if (mbs > best)
            best = mbs;
        printf ("round %d: %ld records, %ld errors, %ld amounts, %zu MB in %lld ms = %lld MB/s, "
                "%lld k rows/s (checksum %zu)\n",
                round, records, errors, amounts, bytes / 1000000, (long long) (ns / 1000000),
                (long long) mbs, (long long) (records * INT64_C(1000000) / ns), touched);
        recon_csv_destroy (&csv);
        close (fd);
    }
    printf ("best: %lld MB/s\n", (long long) best);
    return 0;
}
