/* log: leveled one-line records in text or JSON (see log.h). */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

#define LOG_MSG_MAX 4096
/* Worst case a message byte becomes a 6-byte JSON escape; beyond that the
 * escaper truncates, so this only bounds the stack frame. */
#define LOG_LINE_MAX 16384

_Atomic int log_threshold_ = LOG_LEVEL_INFO;
static _Atomic int log_format_ = LOG_FORMAT_TEXT;
static _Atomic int log_fd_ = STDERR_FILENO;

static const char *const level_lower[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_upper[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void log_init(log_level level, log_format format, FILE *out)
{
    int fd = out ? fileno(out) : STDERR_FILENO;
    if (out) fflush(out); /* anything already buffered in `out` goes first */
    atomic_store(&log_fd_, fd < 0 ? STDERR_FILENO : fd);
    atomic_store(&log_format_, (int)format);
    atomic_store(&log_threshold_, (int)level);
}

void log_set_level(log_level level)
{
    atomic_store(&log_threshold_, (int)level);
}

const char *log_level_name(log_level level)
{
    if ((int)level < 0 || (int)level > LOG_LEVEL_TRACE) return "info";
    return level_lower[level];
}

int log_level_parse(const char *name, log_level *out)
{
    if (name == NULL) return O2P_EINVAL;
    for (int i = 0; i <= LOG_LEVEL_TRACE; i++) {
        if (strcasecmp(name, level_lower[i]) == 0) {
            *out = (log_level)i;
            return O2P_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return O2P_OK;
    }
    return O2P_EINVAL;
}

int log_format_parse(const char *name, log_format *out)
{
    if (name == NULL) return O2P_EINVAL;
    if (strcasecmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcasecmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return O2P_EINVAL;
    return O2P_OK;
}

/* A bounded line under construction; appends past the end are dropped and
 * remembered so the caller can mark the record as truncated. */
typedef struct line_buf {
    char data[LOG_LINE_MAX];
    size_t len;
    size_t cap; /* writable bytes; lowered while the message body is copied */
    int overflow;
} line_buf;

static void put(line_buf *lb, const char *s, size_t n)
{
    if (lb->overflow || n > lb->cap - lb->len) {
        lb->overflow = 1;
        return;
    }
    memcpy(lb->data + lb->len, s, n);
    lb->len += n;
}

static void put_str(line_buf *lb, const char *s)
{
    put(lb, s, strlen(s));
}

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0
 * when it is invalid (overlong forms and surrogates included). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Copies the message, escaping what would break the line (text) or the JSON
 * string (json).  Invalid UTF-8 becomes U+FFFD in JSON so every line parses. */
static void put_escaped(line_buf *lb, const char *msg, int json)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t n = strlen(msg);
    char esc[8];
    for (size_t i = 0; i < n && !lb->overflow;) {
        unsigned c = s[i];
        if (c == '\n')
            put_str(lb, "\\n"), i++;
        else if (c == '\r')
            put_str(lb, "\\r"), i++;
        else if (c == '\t')
            put_str(lb, json ? "\\t" : "\t"), i++;
        else if (json && (c == '"' || c == '\\')) {
            esc[0] = '\\', esc[1] = (char)c;
            put(lb, esc, 2), i++;
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, json ? "\\u%04x" : "\\x%02x", c);
            put_str(lb, esc), i++;
        } else if (c < 0x80 || !json) {
            put(lb, (const char *)s + i, 1), i++;
        } else {
            size_t len = utf8_seq_len(s + i, n - i);
            if (len == 0)
                put_str(lb, "\\ufffd"), i++;
            else
                put(lb, (const char *)s + i, len), i += len;
        }
    }
}

static void put_timestamp(line_buf *lb)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[40];
    int n = snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(ts.tv_nsec / 1000000));
    if (n > 0) put(lb, stamp, (size_t)n);
}

void log_write(log_level level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    int truncated = (size_t)n >= sizeof msg;
    if ((int)level < 0 || (int)level > LOG_LEVEL_TRACE) level = LOG_LEVEL_INFO;
    int json = atomic_load(&log_format_) == LOG_FORMAT_JSON;

    line_buf lb;
    lb.len = 0;
    lb.overflow = 0;
    lb.cap = sizeof lb.data;
    if (json) {
        put_str(&lb, "{\"ts\":\"");
        put_timestamp(&lb);
        put_str(&lb, "\",\"level\":\"");
        put_str(&lb, level_lower[level]);
        put_str(&lb, "\",\"msg\":\"");
    } else {
        put_timestamp(&lb);
        put_str(&lb, " ");
        put_str(&lb, level_upper[level]);
        put_str(&lb, " ");
    }
    /* The body may not use the last bytes: the suffix must always fit so a
     * truncated record is still one well-formed line. */
    lb.cap = sizeof lb.data - 16;
    put_escaped(&lb, msg, json);
    if (lb.overflow) truncated = 1;
    lb.overflow = 0;
    lb.cap = sizeof lb.data;
    if (truncated) put_str(&lb, "...");
    put_str(&lb, json ? "\"}\n" : "\n");

    int fd = atomic_load(&log_fd_);
    const char *p = lb.data;
    size_t left = lb.len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere left to report a failing log destination */
        }
        p += w;
        left -= (size_t)w;
    }
}
