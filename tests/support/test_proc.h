/*  test_proc.h — starting and waiting for the real processes the tests
    drive (recon, the broker, workers, recon-gen), shared by the fault
    tests and the chaos soak. Header-only: each test is one executable.

    Design decision: a child's output is appended to a log file, never to
    the test's own output, so a failing test can print the log it needs
    and a passing one stays quiet.                                          */
#ifndef RECON_TEST_PROC_H
#define RECON_TEST_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*  Starts ARGV (searched in PATH when ARGV[0] has no '/') with ENV
    additions ("K=V", NULL-terminated, may be NULL), stdout and stderr
    appended to LOG. The pid, or -1 when fork failed.                      */
static inline pid_t
test_spawn (char *const argv[], const char *const *env, const char *log)
{
    pid_t pid = fork ();
    if (pid == 0) {
        for (int i = 0; env && env[i]; i++)
            putenv ((char *) env[i]);
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
        }
        /*  A test may ignore SIGPIPE for itself; the daemons it starts
            must see the default, as they would in production.           */
        signal (SIGPIPE, SIG_DFL);
        execvp (argv[0], argv);
        _exit (127);
    }
    return pid;
}

/*  Waits for PID: its exit status, 128 + the signal that ended it, or -1
    when it cannot be waited for.                                          */
static inline int
test_wait_exit (pid_t pid)
{
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/*  Sleeps MS milliseconds, the whole time even when a signal arrives.     */
static inline void
test_sleep_ms (long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
}

#endif
