/*  sandbox.c — throw-away PostgreSQL + Redis for the demo and the tests.

    Design decision: we fork/exec the servers ourselves (postgres, not
    pg_ctl; redis-server without --daemonize) so we hold their PIDs, can
    stop exactly what we started, and can ask the kernel to signal them if
    we die (PR_SET_PDEATHSIG): a crashed test run leaves no server behind.  */
#include "recon/sandbox.h"
#include "recon/timestamp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_START_TIMEOUT_MS 60000
#define S_STOP_TIMEOUT_MS  30000

struct recon_sandbox {
    recon_log_t *log;
    int keep;
    int drop_privileges;
    uid_t pg_uid;
    gid_t pg_gid;
    pid_t pg_pid;
    pid_t redis_pid;
    char parent[200];
    char dir[PATH_MAX];
    char pg_dir[PATH_MAX + 8];
    char pg_data[PATH_MAX + 16];
    char redis_dir[PATH_MAX + 8];
    char redis_sock[PATH_MAX + 32];
    char bindir[PATH_MAX];
    char database_url[PATH_MAX + 64];
    char redis_url[PATH_MAX + 48];
    char errstr[2048];
};

static void
s_error (recon_sandbox_t *sb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_error (recon_sandbox_t *sb, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (sb->errstr, sizeof sb->errstr, fmt, ap);
    va_end (ap);
}

/*  Appends the last lines of a server's log to errstr: the reason a
    server did not start is almost always there.                           */
static void
s_append_log_tail (recon_sandbox_t *sb, const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    char tail[700] = "";
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, size > (long) sizeof tail - 1 ? size - (long) sizeof tail + 1 : 0, SEEK_SET);
    size_t n = fread (tail, 1, sizeof tail - 1, f);
    tail[n] = '\0';
    fclose (f);
    size_t len = strlen (sb->errstr);
    snprintf (sb->errstr + len, sizeof sb->errstr - len, "; last lines of %s:\n%s", path, tail);
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

/*  The newest /usr/lib/postgresql/N/bin holding initdb, unless
    RECON_PG_BINDIR says otherwise; "" means "search PATH".                */
static void
s_find_bindir (char *out, size_t size)
{
    const char *env = getenv ("RECON_PG_BINDIR");
    if (env && *env) {
        snprintf (out, size, "%s", env);
        return;
    }
    out[0] = '\0';
    DIR *d = opendir ("/usr/lib/postgresql");
    if (!d)
        return;
    long best = -1;
    struct dirent *e;
    while ((e = readdir (d))) {
        char *end;
        long v = strtol (e->d_name, &end, 10);
        char probe[PATH_MAX];
        snprintf (probe, sizeof probe, "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
        if (*end == '\0' && v > best && access (probe, X_OK) == 0) {
            best = v;
            snprintf (out, size, "/usr/lib/postgresql/%s/bin", e->d_name);
        }
    }
    closedir (d);
}

recon_sandbox_t *
recon_sandbox_new (const char *parent_dir, recon_log_t *log)
{
    recon_sandbox_t *sb = calloc (1, sizeof *sb);
    if (!sb)
        return NULL;
    sb->log = log;
    const char *keep = getenv ("RECON_SANDBOX_KEEP");
    sb->keep = keep && strcmp (keep, "1") == 0;
    if (!parent_dir)
        parent_dir = getenv ("TMPDIR");
    /*  Unix socket paths are limited to 107 bytes: a deep TMPDIR would
        make the servers fail obscurely, so fall back to /tmp.            */
    if (!parent_dir || !*parent_dir || strlen (parent_dir) > 60)
        parent_dir = "/tmp";
    snprintf (sb->parent, sizeof sb->parent, "%s", parent_dir);
    s_find_bindir (sb->bindir, sizeof sb->bindir);
    return sb;
}

/*  In the child after fork: detach from the terminal's signals, send
    output to LOG_PATH, drop to the postgres user if asked, die with us.   */
static void
s_child_setup (const recon_sandbox_t *sb, const char *log_path, int drop, int death_signal,
               pid_t parent)
{
    setpgid (0, 0);
    signal (SIGPIPE, SIG_DFL); /* the CLI ignores it; exec would keep that */
    int devnull = open ("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2 (devnull, STDIN_FILENO);
        close (devnull);
    }
    if (drop && (setgroups (0, NULL) < 0 || setgid (sb->pg_gid) < 0 || setuid (sb->pg_uid) < 0))
        _exit (126);
    int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd >= 0) {
        dup2 (fd, STDOUT_FILENO);
        dup2 (fd, STDERR_FILENO);
    }
    /*  Set after setuid: a credential change clears the death signal.    */
    prctl (PR_SET_PDEATHSIG, death_signal);
    if (getppid () != parent)
        _exit (125);
}

static pid_t
s_spawn (recon_sandbox_t *sb, char *const argv[], const char *log_path, int drop,
         int death_signal)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        s_error (sb, "fork: %s", strerror (errno));
        return -1;
    }
    if (pid == 0) {
        s_child_setup (sb, log_path, drop, death_signal, parent);
        execvp (argv[0], argv);
        fprintf (stderr, "cannot run %s: %s\n", argv[0], strerror (errno));
        _exit (127);
    }
    return pid;
}

/*  Waits for PID up to TIMEOUT_MS; returns its wait status, or -1 on timeout. */
static int
s_wait_timeout (pid_t pid, long timeout_ms)
{
    long deadline = recon_clock_ms () + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return 0; /* already reaped elsewhere: nothing left to wait for */
        if (recon_clock_ms () > deadline)
            return -1;
        s_sleep_ms (20);
    }
}

static const char *
s_program (const recon_sandbox_t *sb, const char *name, char *buf, size_t size)
{
    if (!*sb->bindir)
        return name;
    snprintf (buf, size, "%s/%s", sb->bindir, name);
    return buf;
}

static int
s_prepare_dirs (recon_sandbox_t *sb)
{
    snprintf (sb->dir, sizeof sb->dir, "%s/recon-sandbox-XXXXXX", sb->parent);
    if (!mkdtemp (sb->dir)) {
        s_error (sb, "cannot create a directory under %s: %s", sb->parent, strerror (errno));
        sb->dir[0] = '\0';
        return -1;
    }
    /*  The postgres user must be able to traverse to its own directory.  */
    chmod (sb->dir, 0755);
    snprintf (sb->pg_dir, sizeof sb->pg_dir, "%s/pg", sb->dir);
    snprintf (sb->pg_data, sizeof sb->pg_data, "%s/pg/data", sb->dir);
    snprintf (sb->redis_dir, sizeof sb->redis_dir, "%s/redis", sb->dir);
    snprintf (sb->redis_sock, sizeof sb->redis_sock, "%s/redis/redis.sock", sb->dir);
    if (mkdir (sb->pg_dir, 0750) < 0 || mkdir (sb->redis_dir, 0750) < 0) {
        s_error (sb, "cannot create %s: %s", sb->pg_dir, strerror (errno));
        return -1;
    }
    if (geteuid () == 0) {
        struct passwd *pw = getpwnam ("postgres");
        if (!pw) {
            s_error (sb, "running as root, PostgreSQL must run as the 'postgres' user, "
                         "which does not exist (apt-get install postgresql)");
            return -1;
        }
        sb->drop_privileges = 1;
        sb->pg_uid = pw->pw_uid;
        sb->pg_gid = pw->pw_gid;
        if (chown (sb->pg_dir, sb->pg_uid, sb->pg_gid) < 0) {
            s_error (sb, "chown %s: %s", sb->pg_dir, strerror (errno));
            return -1;
        }
    }
    return 0;
}

static int
s_initdb (recon_sandbox_t *sb)
{
    char prog[PATH_MAX + 16], log_path[PATH_MAX + 32];
    snprintf (log_path, sizeof log_path, "%s/initdb.log", sb->pg_dir);
    char *argv[] = {(char *) s_program (sb, "initdb", prog, sizeof prog),
                    "-D", sb->pg_data, "-U", "recon", "--auth=trust", "-E", "UTF8",
                    "--locale=C", "--no-sync", NULL};
    pid_t pid = s_spawn (sb, argv, log_path, sb->drop_privileges, SIGKILL);
    if (pid < 0)
        return -1;
    int status = s_wait_timeout (pid, S_START_TIMEOUT_MS);
    if (status == -1) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    if (status == -1 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        s_error (sb, "initdb failed (is the postgresql package installed? RECON_PG_BINDIR=%s)",
                 *sb->bindir ? sb->bindir : "(PATH)");
        s_append_log_tail (sb, log_path);
        return -1;
    }
    return 0;
}

static int
s_wait_postgres (recon_sandbox_t *sb, const char *log_path)
{
    char conninfo[PATH_MAX + 64];
    snprintf (conninfo, sizeof conninfo, "host=%s user=recon dbname=postgres", sb->pg_dir);
    long deadline = recon_clock_ms () + S_START_TIMEOUT_MS;
    while (PQping (conninfo) != PQPING_OK) {
        int status;
        if (waitpid (sb->pg_pid, &status, WNOHANG) == sb->pg_pid) {
            sb->pg_pid = 0;
            s_error (sb, "postgres exited during start-up");
            s_append_log_tail (sb, log_path);
            return -1;
        }
        if (recon_clock_ms () > deadline) {
            s_error (sb, "postgres did not accept connections within %d s",
                     S_START_TIMEOUT_MS / 1000);
            s_append_log_tail (sb, log_path);
            return -1;
        }
        s_sleep_ms (50);
    }
    return 0;
}

int
recon_sandbox_start_postgres (recon_sandbox_t *sb)
{
    if (sb->pg_pid)
        return 0;
    char prog[PATH_MAX + 16], log_path[PATH_MAX + 32];
    snprintf (log_path, sizeof log_path, "%s/postgres.log", sb->pg_dir);
    /*  Durability is pointless for a throw-away cluster; speed is not.   */
    char *argv[] = {(char *) s_program (sb, "postgres", prog, sizeof prog),
                    "-D", sb->pg_data, "-k", sb->pg_dir,
                    "-c", "listen_addresses=",
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    "-c", "max_connections=200",
                    "-c", "unix_socket_permissions=0777",
                    NULL};
    sb->pg_pid = s_spawn (sb, argv, log_path, sb->drop_privileges, SIGINT);
    if (sb->pg_pid < 0) {
        sb->pg_pid = 0;
        return -1;
    }
    if (s_wait_postgres (sb, log_path) < 0) {
        recon_sandbox_stop_postgres (sb);
        return -1;
    }
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int) sb->pg_pid);
    recon_log_kv (sb->log, RECON_LOG_INFO, "sandbox.postgres_started", "pid", pid, "socket_dir",
                  sb->pg_dir, NULL);
    return 0;
}

static int
s_create_database (recon_sandbox_t *sb)
{
    char conninfo[PATH_MAX + 64];
    snprintf (conninfo, sizeof conninfo, "host=%s user=recon dbname=postgres", sb->pg_dir);
    PGconn *conn = PQconnectdb (conninfo);
    PGresult *res = PQexec (conn, "CREATE DATABASE recon");
    int ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok)
        s_error (sb, "CREATE DATABASE recon: %s", PQerrorMessage (conn));
    PQclear (res);
    PQfinish (conn);
    return ok ? 0 : -1;
}

static int
s_redis_answers (const char *sock)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectUnixWithTimeout (sock, tv);
    int ok = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand (c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS && strcmp (r->str, "PONG") == 0;
        freeReplyObject (r);
    }
    redisFree (c);
    return ok;
}

int
recon_sandbox_start_redis (recon_sandbox_t *sb)
{
    if (sb->redis_pid)
        return 0;
    char log_path[PATH_MAX + 32];
    snprintf (log_path, sizeof log_path, "%s/redis.log", sb->redis_dir);
    const char *server = getenv ("RECON_SANDBOX_REDIS_SERVER");
    char *argv[] = {(char *) (server && *server ? server : "redis-server"),
                    "--port", "0",
                    "--unixsocket", sb->redis_sock,
                    "--unixsocketperm", "700",
                    "--dir", sb->redis_dir,
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                    NULL};
    sb->redis_pid = s_spawn (sb, argv, log_path, 0, SIGTERM);
    if (sb->redis_pid < 0) {
        sb->redis_pid = 0;
        return -1;
    }
    long deadline = recon_clock_ms () + S_START_TIMEOUT_MS;
    while (!s_redis_answers (sb->redis_sock)) {
        int status;
        if (waitpid (sb->redis_pid, &status, WNOHANG) == sb->redis_pid || recon_clock_ms () > deadline) {
            s_error (sb, "redis-server did not start (is the redis-server package installed?)");
            s_append_log_tail (sb, log_path);
            return -1;
        }
        s_sleep_ms (20);
    }
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int) sb->redis_pid);
    recon_log_kv (sb->log, RECON_LOG_INFO, "sandbox.redis_started", "pid", pid, "socket",
                  sb->redis_sock, NULL);
    return 0;
}

int
recon_sandbox_start (recon_sandbox_t *sb)
{
    sb->errstr[0] = '\0';
    if (s_prepare_dirs (sb) < 0 || s_initdb (sb) < 0 || recon_sandbox_start_postgres (sb) < 0
        || s_create_database (sb) < 0 || recon_sandbox_start_redis (sb) < 0) {
        char saved[sizeof sb->errstr];
        memcpy (saved, sb->errstr, sizeof saved);
        recon_sandbox_stop (sb);
        memcpy (sb->errstr, saved, sizeof saved);
        return -1;
    }
    snprintf (sb->database_url, sizeof sb->database_url, "postgresql://recon@/recon?host=%s",
              sb->pg_dir);
    snprintf (sb->redis_url, sizeof sb->redis_url, "unix://%s", sb->redis_sock);
    return 0;
}

/*  Sends SIG, waits, escalates to SIGKILL. Returns 0 if it exited on its
    own, -1 if it had to be killed.                                         */
static int
s_terminate (recon_sandbox_t *sb, pid_t *pid, int sig, const char *name)
{
    if (*pid <= 0)
        return 0;
    int rc = 0;
    kill (*pid, sig);
    if (s_wait_timeout (*pid, S_STOP_TIMEOUT_MS) == -1) {
        recon_log_kv (sb->log, RECON_LOG_WARN, "sandbox.kill", "server", name, NULL);
        kill (*pid, SIGKILL);
        waitpid (*pid, NULL, 0);
        rc = -1;
    }
    *pid = 0;
    return rc;
}

int
recon_sandbox_stop_redis (recon_sandbox_t *sb)
{
    return s_terminate (sb, &sb->redis_pid, SIGTERM, "redis");
}

int
recon_sandbox_stop_postgres (recon_sandbox_t *sb)
{
    return s_terminate (sb, &sb->pg_pid, SIGINT, "postgres");
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    remove (path);
    return 0;
}

int
recon_sandbox_stop (recon_sandbox_t *sb)
{
    int had_servers = sb->pg_pid || sb->redis_pid;
    int rc = recon_sandbox_stop_redis (sb);
    if (recon_sandbox_stop_postgres (sb) < 0)
        rc = -1;
    if (*sb->dir && !sb->keep) {
        nftw (sb->dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        sb->dir[0] = '\0';
    }
    if (had_servers)
        recon_log_kv (sb->log, RECON_LOG_INFO, "sandbox.stopped", NULL);
    return rc;
}

void
recon_sandbox_destroy (recon_sandbox_t **p)
{
    if (!p || !*p)
        return;
    recon_sandbox_stop (*p);
    free (*p);
    *p = NULL;
}

const char *
recon_sandbox_database_url (const recon_sandbox_t *sb)
{
    return sb->database_url;
}

const char *
recon_sandbox_redis_url (const recon_sandbox_t *sb)
{
    return sb->redis_url;
}

const char *
recon_sandbox_dir (const recon_sandbox_t *sb)
{
    return sb->dir;
}

int
recon_sandbox_postgres_pid (const recon_sandbox_t *sb)
{
    return (int) sb->pg_pid;
}

int
recon_sandbox_redis_pid (const recon_sandbox_t *sb)
{
    return (int) sb->redis_pid;
}

const char *
recon_sandbox_errstr (const recon_sandbox_t *sb)
{
    return sb->errstr;
}
