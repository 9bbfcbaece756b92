/*
 * env: what a result was measured on, stored with every result so a
 * comparison across machines, compilers or dirty trees is visible instead of
 * silently wrong.  Everything is read at run time except the compiler and
 * CFLAGS, which are those that built this very binary.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef O2P_BENCH_CFLAGS
#define O2P_BENCH_CFLAGS "(not recorded: build with make bench)"
#endif

void json_str(o2p_buf *b, const char *s)
{
    buf_push_byte(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf_push_byte(b, '\\');
            buf_push_byte(b, *p);
        } else if (*p < 0x20) {
            buf_printf(b, "\\u%04x", *p);
        } else {
            buf_push_byte(b, *p);
        }
    }
    buf_push_byte(b, '"');
}

void json_num(o2p_buf *b, double v)
{
    if (isnan(v) || isinf(v))
        buf_append_str(b, "null");
    else
        buf_printf(b, "%.17g", v);
}

/* First line of a command's output, trailing newline removed ("" on failure). */
static void command_line(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = popen(cmd, "r");
    if (f == NULL) return;
    if (fgets(out, (int)cap, f) == NULL) out[0] = '\0';
    pclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

static void file_field(const char *path, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0) continue;
        char *colon = strchr(line, ':');
        if (colon == NULL) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        snprintf(out, cap, "%s", colon);
        out[strcspn(out, "\r\n")] = '\0';
        break;
    }
    fclose(f);
}

static void first_line(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    if (fgets(out, (int)cap, f) == NULL) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

void bench_env_json(o2p_buf *b)
{
    char cpu[256], rev[128], dirty[256], governor[64], load[128], host[256];
    file_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    command_line("git rev-parse HEAD 2>/dev/null", rev, sizeof rev);
    /* Tracked files only: results of an edited tree must say so. */
    command_line("git status --porcelain --untracked-files=no 2>/dev/null | head -1", dirty,
                 sizeof dirty);
    first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", governor, sizeof governor);
    first_line("/proc/loadavg", load, sizeof load);
    if (gethostname(host, sizeof host) != 0) host[0] = '\0';
    host[sizeof host - 1] = '\0';
    struct utsname un;
    if (uname(&un) != 0) memset(&un, 0, sizeof un);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);

    buf_append_str(b, "{\"cpu_model\":");
    json_str(b, cpu[0] ? cpu : "unknown");
    buf_printf(b, ",\"cpus_online\":%ld", sysconf(_SC_NPROCESSORS_ONLN));
    buf_append_str(b, ",\"compiler\":");
#if defined(__clang__)
    json_str(b, "clang " __clang_version__);
#elif defined(__GNUC__)
    json_str(b, "gcc " __VERSION__);
#else
    json_str(b, "unknown");
#endif
    buf_append_str(b, ",\"cflags\":");
    json_str(b, O2P_BENCH_CFLAGS);
    buf_append_str(b, ",\"git_revision\":");
    json_str(b, rev[0] ? rev : "unknown");
    buf_printf(b, ",\"git_dirty\":%s", dirty[0] ? "true" : "false");
    buf_append_str(b, ",\"date\":");
    json_str(b, date);
    buf_append_str(b, ",\"kernel\":");
    json_str(b, un.release);
    buf_append_str(b, ",\"hostname\":");
    json_str(b, host);
    buf_append_str(b, ",\"cpu_governor\":");
    json_str(b, governor[0] ? governor : "unavailable");
    buf_append_str(b, ",\"loadavg_at_start\":");
    json_str(b, load);
    buf_append_str(b, "}");
}
