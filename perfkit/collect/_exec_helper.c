/* perfkit's exec helper: start commands from a small process and report their counters.
 *
 * Why: at exec the kernel folds the *old* address space's high-water RSS into the process's
 * maxrss. A command exec'd from (a vfork or fork of) the Python spawner therefore starts at the
 * spawner's ~11 MiB. This helper is tiny; it starts each command with posix_spawn (glibc: a
 * CLONE_VM|CLONE_VFORK child, a new process whose maxrss starts at zero and takes at exec only
 * this small address space's high-water mark). A vfork-style start, as hyperfine -N's, rather than
 * fork: no page tables copied and no copy-on-write faults inside the measured interval, and an
 * exec failure comes back as posix_spawn's error number. The helper itself is tainted by
 * the spawner's footprint, so it reads the child's counters and reports them on REPORT_FD rather
 * than letting the spawner read its own: the helper stays invisible in every number.
 *
 * Usage: perfkit-exec --serve REQUEST_FD REPORT_FD CGROUP_PROCS|-
 *        perfkit-exec --floor        (prints the peak RSS, KiB, a command starts from)
 *
 * The spawner starts a helper ahead of its runs; it joins the runs' memory cgroup (CGROUP_PROCS;
 * "-": none) and then serves one request after another from REQUEST_FD until end of file:
 * "N\0CWD\0PATH\0ARGV0\0ARGS...\0", N the count of the fields after it (CWD empty: the helper's
 * own start directory). Each command starts in its own process group, so that a timeout kills its
 * tree and not the helper. So neither a helper's exec and start-up (about 1 ms, much of it glibc
 * probing the CPU) nor its move into the cgroup (a v1 move sleeps for an RCU grace period) sits
 * in the gap just before a run, and runs can follow each other as closely as in hyperfine's loop.
 *
 * Report (one line per request): "ok PID WAIT_STATUS WALL_NS UTIME_US STIME_US MAXRSS MINFLT MAJFLT
 * INBLOCK OUBLOCK NVCSW NIVCSW IO_OK RCHAR WCHAR SYSCR SYSCW READ_BYTES WRITE_BYTES CANCELLED",
 * "exec ERRNO" or "chdir ERRNO". A malformed request ends the helper (exit 125).
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

/* The request pipe, read in blocks. */
struct reader { int fd; char *buf; size_t cap, start, end; };

/* Have at least n unread bytes in the buffer: 1; end of file before any: 0; else -1. */
static int need(struct reader *r, size_t n) {
    while (r->end - r->start < n) {
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (n > r->cap) {
            char *bigger = realloc(r->buf, n);
            if (bigger == NULL) return -1;
            r->buf = bigger;
            r->cap = n;
        }
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return r->end == r->start ? 0 : -1;
        r->end += (size_t)got;
    }
    return 1;
}

static void run(int report, int home, char **fields);

/* Serve requests until end of file: an 8-hex-digit length, then that many bytes of NUL-terminated
 * fields (cwd, path, argv...). */
static int serve(int request, int report) {
    struct reader r = {request, malloc(4096), 4096, 0, 0};
    size_t cap = 16;
    char **fields = malloc(cap * sizeof *fields);
    int home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.buf == NULL || fields == NULL) return 125;
    for (;;) {
        int got = need(&r, 8);
        if (got == 0) return 0;  /* end of file between requests: done */
        char head[9], *stop;
        if (got > 0) { memcpy(head, r.buf + r.start, 8); head[8] = 0; }
        size_t len = got > 0 ? (size_t)strtoul(head, &stop, 16) : 0;
        if (got < 0 || *stop != 0 || len == 0 || need(&r, 8 + len) != 1) {
            fprintf(stderr, "perfkit-exec: a malformed request\n");
            return 125;
        }
        char *payload = r.buf + r.start + 8;
        size_t count = 0;
        for (size_t i = 0; i < len; i++) count += payload[i] == 0;
        if (payload[len - 1] != 0 || count < 3) {
            fprintf(stderr, "perfkit-exec: a malformed request\n");
            return 125;
        }
        if (count + 1 > cap) {
            char **bigger = realloc(fields, (count + 1) * sizeof *fields);
            if (bigger == NULL) return 125;
            fields = bigger;
            cap = count + 1;
        }
        size_t k = 0;
        for (char *p = payload; p < payload + len; p += strlen(p) + 1) fields[k++] = p;
        fields[k] = NULL;
        run(report, home, fields);
        r.start += 8 + len;
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--floor") == 0) {
        pid_t pid = fork();
        if (pid == 0) {  /* as a helper is when it starts a command: its buffers allocated */
            int none[2];
            if (pipe(none) == 0) { close(none[1]); serve(none[0], -1); }
            printf("%lld\n", vm_hwm_kib());
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "--serve") == 0) {
        int request = atoi(argv[2]), report = atoi(argv[3]);
        fcntl(request, F_SETFD, FD_CLOEXEC);
        fcntl(report, F_SETFD, FD_CLOEXEC);
        if (strcmp(argv[4], "-") != 0) {  /* join the runs' memory cgroup before any command */
            int fd = open(argv[4], O_WRONLY | O_CLOEXEC);
            if (fd >= 0) { char s[32]; int len = snprintf(s, sizeof s, "%d\n", (int)getpid()); if (write(fd, s, len) < 0) {} close(fd); }
        }
        return serve(request, report);
    }
    fprintf(stderr, "usage: perfkit-exec --serve REQUEST_FD REPORT_FD CGROUP_PROCS|- | --floor\n");
    return 125;
}

static void run(int report, int home, char **fields) {
    const char *cwd = fields[0], *path = fields[1];
    char **args = fields + 2;
    if (cwd[0] != 0 ? chdir(cwd) != 0 : (home >= 0 && fchdir(home) != 0)) {
        dprintf(report, "chdir %d\n", errno);
        return;
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  /* its own group: a timeout kills
                                                               the command's tree, not the helper */
    posix_spawnattr_setpgroup(&attr, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid;
    int err = posix_spawn(&pid, path, NULL, &attr, args, environ);
    posix_spawnattr_destroy(&attr);
    if (err != 0) { dprintf(report, "exec %d\n", err); return; }
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
    dprintf(report, "ok %d %d %lld %lld %lld %ld %ld %ld %ld %ld %ld %ld %d %lld %lld %lld %lld %lld %lld %lld\n",
            (int)pid, st, wall, us(ru.ru_utime), us(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt,
            ru.ru_majflt, ru.ru_inblock, ru.ru_oublock, ru.ru_nvcsw, ru.ru_nivcsw, io_ok,
            io[0], io[1], io[2], io[3], io[4], io[5], io[6]);
}
