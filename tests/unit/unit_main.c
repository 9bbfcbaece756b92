/*
 * unit_main: runner for the unit tests registered with TEST().
 * Forks one child per test (isolation + timeout), prints one line per
 * failure and the summary line "N passed, N failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#define UNIT_MAX          4096
#define UNIT_TIMEOUT_SECS 120

typedef struct {
    const char *name;
    const char *file;
    unit_fn fn;
} unit_case;

static unit_case unit_cases[UNIT_MAX];
static int unit_count;
static char unit_tmp[256];

void unit_register(const char *name, const char *file, unit_fn fn)
{
    if (unit_count < UNIT_MAX) unit_cases[unit_count++] = (unit_case){name, file, fn};
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    _exit(1);
}

static void unit_hex(const char *label, const void *p, size_t n)
{
    const unsigned char *b = p;
    fprintf(stderr, "    %s (%zu bytes):", label, n);
    for (size_t i = 0; i < n && i < 96; i++) fprintf(stderr, " %02x", b[i]);
    if (n > 96) fprintf(stderr, " ...");
    fputc('\n', stderr);
}

void unit_fail_mem(const char *file, int line, const char *what, const void *got, size_t got_len,
                   const void *want, size_t want_len)
{
    fprintf(stderr, "  %s:%d: bytes of %s differ\n", file, line, what);
    unit_hex("got ", got, got_len);
    unit_hex("want", want, want_len);
    fflush(stderr);
    _exit(1);
}

const char *unit_tmpdir(void)
{
    if (unit_tmp[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(unit_tmp, sizeof unit_tmp, "%s/o2p-unit-XXXXXX", base ? base : "/tmp");
        if (mkdtemp(unit_tmp) == NULL) unit_fail(__FILE__, __LINE__, "mkdtemp failed");
    }
    return unit_tmp;
}

static int unit_run_one(const unit_case *c)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        alarm(UNIT_TIMEOUT_SECS);
        c->fn();
        if (unit_tmp[0]) {
            char cmd[300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", unit_tmp);
            if (system(cmd) != 0) { /* best effort */
            }
        }
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    int verbose = getenv("UNIT_VERBOSE") != NULL;
    for (int i = 0; i < unit_count; i++) {
        const unit_case *c = &unit_cases[i];
        if (filter && strstr(c->name, filter) == NULL && strstr(c->file, filter) == NULL) continue;
        if (unit_run_one(c)) {
            passed++;
            if (verbose) printf("ok   %s\n", c->name);
        } else {
            failed++;
            printf("FAIL %s (%s)\n", c->name, c->file);
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
