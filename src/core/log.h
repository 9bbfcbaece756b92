/*
 * log: leveled, line-oriented logging for the server and the CLI.
 *
 * One record is one line, written with a single write() so lines from
 * concurrent threads never interleave.  Two formats:
 *   text  2026-11-27T10:00:00.123Z INFO message key=value
 *   json  {"ts":"2026-11-27T10:00:00.123Z","level":"info","msg":"message key=value"}
 * The LOG_* macros test the level before evaluating their arguments, so a
 * disabled LOG_DEBUG costs one relaxed atomic load.  Until log_init is called
 * the logger writes text at level info to stderr.
 * Callers must never pass secrets: nothing here redacts.
 */
#ifndef O2P_CORE_LOG_H
#define O2P_CORE_LOG_H

#include <stdatomic.h>
#include <stdio.h>

typedef enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
    LOG_LEVEL_TRACE = 4
} log_level;

typedef enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format;

/* Sets the threshold, the format and the destination (its file descriptor is
 * written directly; NULL means stderr).  The caller keeps `out` open for as
 * long as logging may happen.  Call once at start-up, before other threads
 * log; log_set_level may be called at any time. */
void log_init(log_level level, log_format format, FILE *out);
void log_set_level(log_level level);

/* "error", "warn", "info", "debug", "trace". */
const char *log_level_name(log_level level);
/* Accepts the names above (case-insensitive; "warning" too).  Returns O2P_OK
 * or O2P_EINVAL. */
int log_level_parse(const char *name, log_level *out);
/* Accepts "text" and "json" (case-insensitive). */
int log_format_parse(const char *name, log_format *out);

/* Formats and writes one record, whatever the threshold (the macros check
 * it).  Control characters in the message are escaped so a record stays one
 * line; over-long messages are truncated with "...". */
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern _Atomic int log_threshold_;

static inline int log_enabled(log_level level)
{
    return (int)level <= atomic_load_explicit(&log_threshold_, memory_order_relaxed);
}

#define LOG_AT_(lvl, ...)                                                                          \
    do {                                                                                           \
        if (log_enabled(lvl)) log_write((lvl), __VA_ARGS__);                                       \
    } while (0)

#define LOG_ERROR(...) LOG_AT_(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  LOG_AT_(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...)  LOG_AT_(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT_(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define LOG_TRACE(...) LOG_AT_(LOG_LEVEL_TRACE, __VA_ARGS__)

#endif
