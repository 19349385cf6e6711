/*  chaos_proxy.c — a byte proxy between a worker and the broker that the
    chaos test can make slow, silent or broken on command.

    It listens on a TCP address (inside the worker's network namespace,
    127.0.0.1 only) and forwards every connection to the broker's ipc://
    unix socket, which a filesystem path reaches from any namespace. ZMTP
    is the same byte stream over TCP and ipc, so the bytes pass unchanged.

    Design decision: the faults are what a network does to TCP as the
    application sees it — late bytes, no bytes, a reset — not packet
    surgery (that is tc netem's job, which the chaos test uses instead
    when the kernel has it). Control is by signal, so the test needs no
    protocol of its own:
      SIGUSR1  cut: close every connection now (peers see a reset and
               reconnect)
      SIGUSR2  partition on/off: stop moving bytes in both directions;
               they pile up in the kernel as behind a dead link, and flow
               again, late, when it heals
      SIGHUP   delay on/off: hold every chunk DELAY ms (±50%, order kept)
      SIGTERM  exit 0

    usage: chaos_proxy LISTEN_PORT UNIX_PATH [DELAY_MS]
    Binds 127.0.0.1:LISTEN_PORT; prints "listening" on stdout when ready. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "recon/timestamp.h"

#define S_MAX_PAIRS 32
#define S_CHUNK 16384

typedef struct s_chunk {
    struct s_chunk *next;
    int64_t due_ms;
    size_t len, off;
    char data[];
} s_chunk_t;

/*  One direction of one connection: bytes read from FROM wait in a queue
    until due, then go to TO.                                              */
typedef struct {
    int from, to;
    s_chunk_t *head, *tail;
} s_dir_t;

typedef struct {
    int used;
    s_dir_t d[2];   /* [0] client → broker, [1] broker → client */
} s_pair_t;

static volatile sig_atomic_t s_cut, s_partition_flip, s_delay_flip, s_stop;

static void
s_on_signal (int sig)
{
    if (sig == SIGUSR1)
        s_cut = 1;
    else if (sig == SIGUSR2)
        s_partition_flip = 1;
    else if (sig == SIGHUP)
        s_delay_flip = 1;
    else
        s_stop = 1;
}

static void
s_pair_close (s_pair_t *p)
{
    close (p->d[0].from);
    close (p->d[0].to);
    for (int i = 0; i < 2; i++)
        while (p->d[i].head) {
            s_chunk_t *c = p->d[i].head;
            p->d[i].head = c->next;
            free (c);
        }
    memset (p, 0, sizeof *p);
}

static int
s_connect_unix (const char *path)
{
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf (sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

/*  Reads what FROM has into a new chunk due after DELAY. -1 on EOF/error. */
static int
s_read (s_dir_t *d, int64_t delay_ms, uint64_t *rng)
{
    s_chunk_t *c = malloc (sizeof *c + S_CHUNK);
    if (!c)
        return -1;
    ssize_t n = read (d->from, c->data, S_CHUNK);
    if (n <= 0) {
        free (c);
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    int64_t jitter = delay_ms ? (int64_t) ((*rng >> 33) % (uint64_t) delay_ms) - delay_ms / 2 : 0;
    c->due_ms = recon_clock_ms () + delay_ms + jitter;
    if (d->tail && c->due_ms < d->tail->due_ms)
        c->due_ms = d->tail->due_ms;    /* TCP keeps order */
    c->len = (size_t) n;
    c->off = 0;
    c->next = NULL;
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    return 0;
}

/*  Writes what is due. -1 when the peer is gone.                          */
static int
s_write (s_dir_t *d, int64_t now)
{
    while (d->head && d->head->due_ms <= now) {
        s_chunk_t *c = d->head;
        ssize_t n = write (d->to, c->data + c->off, c->len - c->off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->off += (size_t) n;
        if (c->off < c->len)
            return 0;
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free (c);
    }
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: chaos_proxy LISTEN_PORT UNIX_PATH [DELAY_MS]\n");
        return 2;
    }
    int port = atoi (argv[1]);
    const char *target = argv[2];
    int64_t delay_ms = argc > 3 ? atoi (argv[3]) : 200;
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction (SIGUSR1, &sa, NULL);
    sigaction (SIGUSR2, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);

    int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    in.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (bind (lfd, (struct sockaddr *) &in, sizeof in) < 0 || listen (lfd, 16) < 0) {
        fprintf (stderr, "chaos_proxy: 127.0.0.1:%d: %s\n", port, strerror (errno));
        return 2;
    }
    printf ("listening\n");
    fflush (stdout);

    static s_pair_t pairs[S_MAX_PAIRS];
    int partitioned = 0, delaying = 0;
    uint64_t rng = (uint64_t) port;
    while (!s_stop) {
        if (s_cut) {
            s_cut = 0;
            for (int i = 0; i < S_MAX_PAIRS; i++)
                if (pairs[i].used)
                    s_pair_close (&pairs[i]);
        }
        if (s_partition_flip) {
            s_partition_flip = 0;
            partitioned = !partitioned;
        }
        if (s_delay_flip) {
            s_delay_flip = 0;
            delaying = !delaying;
        }
        struct pollfd fds[1 + S_MAX_PAIRS * 4];
        int idx[1 + S_MAX_PAIRS * 4];
        int n = 0;
        fds[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        idx[n++] = -1;
        int64_t now = recon_clock_ms (), wake = now + 100;
        for (int i = 0; i < S_MAX_PAIRS; i++) {
            if (!pairs[i].used)
                continue;
            for (int k = 0; k < 2; k++) {
                s_dir_t *d = &pairs[i].d[k];
                if (partitioned)
                    continue;   /* nothing moves: no reads, no writes */
                fds[n] = (struct pollfd){.fd = d->from, .events = POLLIN};
                idx[n++] = i * 4 + k * 2;
                if (d->head) {
                    if (d->head->due_ms <= now) {
                        fds[n] = (struct pollfd){.fd = d->to, .events = POLLOUT};
                        idx[n++] = i * 4 + k * 2 + 1;
                    } else if (d->head->due_ms < wake)
                        wake = d->head->due_ms;
                }
            }
        }
        if (poll (fds, (nfds_t) n, (int) (wake - now)) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            int cfd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            int slot = -1;
            for (int i = 0; i < S_MAX_PAIRS && slot < 0; i++)
                if (!pairs[i].used)
                    slot = i;
            int bfd = cfd >= 0 && slot >= 0 ? s_connect_unix (target) : -1;
            if (bfd < 0) {
                if (cfd >= 0)
                    close (cfd);    /* broker down: the client retries */
            } else {
                pairs[slot].used = 1;
                pairs[slot].d[0] = (s_dir_t){.from = cfd, .to = bfd};
                pairs[slot].d[1] = (s_dir_t){.from = bfd, .to = cfd};
            }
        }
        now = recon_clock_ms ();
        for (int j = 1; j < n; j++) {
            s_pair_t *p = &pairs[idx[j] / 4];
            if (!p->used || !fds[j].revents)
                continue;
            s_dir_t *d = &p->d[(idx[j] / 2) % 2];
            int rc = idx[j] % 2 == 0 ? s_read (d, delaying ? delay_ms : 0, &rng) : s_write (d, now);
            if (rc < 0)
                s_pair_close (p);
        }
        /*  Chunks that came due with no delay go out at once.             */
        for (int i = 0; i < S_MAX_PAIRS; i++)
            for (int k = 0; k < 2 && pairs[i].used && !partitioned; k++)
                if (s_write (&pairs[i].d[k], now) < 0)
                    s_pair_close (&pairs[i]);
    }
    for (int i = 0; i < S_MAX_PAIRS; i++)
        if (pairs[i].used)
            s_pair_close (&pairs[i]);
    close (lfd);
    return 0;
}
