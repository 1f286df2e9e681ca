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
 * Usage: perfkit-exec REPORT_FD CGROUP_PROCS|- PATH ARGV0 [ARGS...]
 *        perfkit-exec --floor        (prints the peak RSS, KiB, a command starts from)
 *
 * Report (one line): "ok WALL_NS UTIME_US STIME_US MAXRSS MINFLT MAJFLT INBLOCK OUBLOCK NVCSW
 * NIVCSW IO_OK RCHAR WCHAR SYSCR SYSCW READ_BYTES WRITE_BYTES CANCELLED" or "exec ERRNO".
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

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--floor") == 0) {
        pid_t pid = fork();
        if (pid == 0) { printf("%lld\n", vm_hwm_kib()); fflush(stdout); _exit(0); }
        int st;
        waitpid(pid, &st, 0);
        return 0;
    }
    if (argc < 5) { fprintf(stderr, "usage: perfkit-exec REPORT_FD CGROUP|- PATH ARGV...\n"); return 125; }
    int report = atoi(argv[1]);
    fcntl(report, F_SETFD, FD_CLOEXEC);
    if (strcmp(argv[2], "-") != 0) {  /* join the run's memory cgroup before the command starts */
        int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) { char s[32]; int len = snprintf(s, sizeof s, "%d\n", (int)getpid()); if (write(fd, s, len) < 0) {} close(fd); }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid;
    int err = posix_spawn(&pid, argv[3], NULL, NULL, argv + 4, environ);
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
