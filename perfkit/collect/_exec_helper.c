/* perfkit's exec helper: start one command from a small process and report its counters.
 *
 * Why: at exec the kernel folds the *old* address space's high-water RSS into the process's
 * maxrss. A command exec'd from (a vfork or fork of) the Python spawner therefore starts at the
 * spawner's ~11 MiB. This helper is tiny; it starts the command with posix_spawn (glibc: a
 * CLONE_VM|CLONE_VFORK child, a new process whose maxrss starts at zero and takes at exec only
 * this small address space's high-water mark). A vfork-style start, as hyperfine -N's, rather than
 * fork: no page tables copied and no copy-on-write faults inside the measured interval, and an
 * exec failure comes back as posix_spawn's error number. The helper itself is tainted by
 * the spawner's footprint, so it reads the child's counters and reports them on REPORT_FD rather
 * than letting the spawner read its own: the helper stays invisible in every number.
 *
 * Usage: perfkit-exec --wait REQUEST_FD REPORT_FD CGROUP_PROCS|-
 *        perfkit-exec --floor        (prints the peak RSS, KiB, a command starts from)
 *
 * Started ahead of its run (the spawner keeps one ready while perfkit records the last run), the
 * helper joins the run's memory cgroup (CGROUP_PROCS; "-": none), then blocks on REQUEST_FD until
 * the spawner writes the run and closes the pipe: "CWD\0PATH\0ARGV0\0ARGS...\0" (CWD empty: stay).
 * End of file before any byte: not needed after all, exit 0. So neither the helper's own exec and
 * start-up (about 1 ms, much of it glibc probing the CPU) nor its move into the cgroup (a v1 move
 * sleeps for an RCU grace period, milliseconds) sits in the gap just before the run: a run that
 * follows the last one closely, as in hyperfine's loop, finds the machine as warm.
 *
 * Report (one line): "ok WALL_NS UTIME_US STIME_US MAXRSS MINFLT MAJFLT INBLOCK OUBLOCK NVCSW
 * NIVCSW IO_OK RCHAR WCHAR SYSCR SYSCW READ_BYTES WRITE_BYTES CANCELLED", "exec ERRNO" or
 * "chdir ERRNO".
 * The helper exits as the command did (same status, or the same signal).
 * Written for perfkit; compiled with the machine's cc at first use (perfkit.collect.process).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;

static long long vm_hwm_kib(void) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strstr(buf, "VmHWM:");
    return p ? atoll(p + 6) : -1;
}

static int read_io(pid_t pid, long long out[7]) {
    static const char *keys[7] = {"rchar:", "wchar:", "syscr:", "syscw:", "read_bytes:",
                                  "write_bytes:", "cancelled_write_bytes:"};
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    for (int i = 0; i < 7; i++) {
        char *p = buf;
        out[i] = 0;
        while ((p = strstr(p, keys[i])) != NULL) {
            if (p == buf || p[-1] == '\n') { out[i] = atoll(p + strlen(keys[i])); break; }
            p++;
        }
    }
    return 1;
}

static long long us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

/* The run's request from the spawner (--wait): NUL-separated fields, until end of file. */
static char *read_request(int fd, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) return NULL;
        if (n == cap) { char *bigger = realloc(buf, cap * 2); if (bigger == NULL) { free(buf); return NULL; } buf = bigger; cap *= 2; }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { free(buf); return NULL; }
        if (got == 0) break;
        n += (size_t)got;
    }
    *len = n;
    return buf;
}

static int run(int report, const char *cwd, const char *path, char **args);

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--floor") == 0) {
        pid_t pid = fork();
        if (pid == 0) {  /* as a run's helper is when it starts the command: its request read */
            size_t len = 0;
            int none[2];
            if (pipe(none) == 0) { close(none[1]); free(read_request(none[0], &len)); }
            printf("%lld\n", vm_hwm_kib());
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "--wait") == 0) {
        int request = atoi(argv[2]), report = atoi(argv[3]);
        fcntl(request, F_SETFD, FD_CLOEXEC);
        fcntl(report, F_SETFD, FD_CLOEXEC);
        if (strcmp(argv[4], "-") != 0) {  /* join the run's memory cgroup before the command starts */
            int fd = open(argv[4], O_WRONLY | O_CLOEXEC);
            if (fd >= 0) { char s[32]; int len = snprintf(s, sizeof s, "%d\n", (int)getpid()); if (write(fd, s, len) < 0) {} close(fd); }
        }
        size_t len = 0;
        char *buf = read_request(request, &len);
        close(request);
        if (buf != NULL && len == 0) return 0;  /* not needed: the spawner closed the pipe */
        size_t fields = 0;
        for (size_t i = 0; buf != NULL && i < len; i++) fields += buf[i] == 0;
        if (buf == NULL || buf[len - 1] != 0 || fields < 3) {
            fprintf(stderr, "perfkit-exec: a malformed request\n");
            return 125;
        }
        char **fieldv = malloc((fields + 1) * sizeof *fieldv);
        if (fieldv == NULL) return 125;
        size_t k = 0;
        for (char *p = buf; p < buf + len; p += strlen(p) + 1) fieldv[k++] = p;
        fieldv[k] = NULL;
        return run(report, fieldv[0], fieldv[1], fieldv + 2);
    }
    fprintf(stderr, "usage: perfkit-exec --wait REQUEST_FD REPORT_FD CGROUP_PROCS|- | --floor\n");
    return 125;
}

static int run(int report, const char *cwd, const char *path, char **args) {
    if (cwd[0] != 0 && chdir(cwd) != 0) { dprintf(report, "chdir %d\n", errno); return 127; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid;
    int err = posix_spawn(&pid, path, NULL, NULL, args, environ);
    if (err != 0) { dprintf(report, "exec %d\n", err); return 127; }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long io[7] = {0};
    int io_ok = read_io(pid, io);  /* the zombie's counters include everything it reaped */
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
    long long wall = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    dprintf(report, "ok %lld %lld %lld %ld %ld %ld %ld %ld %ld %ld %d %lld %lld %lld %lld %lld %lld %lld\n",
            wall, us(ru.ru_utime), us(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt,
            ru.ru_inblock, ru.ru_oublock, ru.ru_nvcsw, ru.ru_nivcsw, io_ok,
            io[0], io[1], io[2], io[3], io[4], io[5], io[6]);
    if (WIFSIGNALED(st)) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        signal(WTERMSIG(st), SIG_DFL);
        raise(WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    return WEXITSTATUS(st);
}
