/* Unit tests for src/core/log: formats, escaping, levels, concurrency. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "unit.h"

static char log_path[512];
static FILE *log_file;

static void open_log(log_level level, log_format format)
{
    snprintf(log_path, sizeof log_path, "%s/log.txt", unit_tmpdir());
    log_file = fopen(log_path, "w");
    CHECK(log_file != NULL);
    log_init(level, format, log_file);
}

/* Everything logged so far (static storage, NUL-terminated). */
static const char *read_log(void)
{
    static char text[1 << 20];
    FILE *f = fopen(log_path, "rb");
    CHECK(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

/* "2026-11-27T10:00:00.123Z" */
static void check_timestamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd')
            CHECK_MSG(s[i] >= '0' && s[i] <= '9', "timestamp %.24s", s);
        else
            CHECK_MSG(s[i] == shape[i], "timestamp %.24s", s);
    }
}

TEST(log_text_format)
{
    open_log(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
    LOG_INFO("started port=%d", 4318);
    LOG_WARN("two\nlines");
    LOG_ERROR("tab\there \x01");
    const char *text = read_log();
    check_timestamp(text);
    CHECK(strncmp(text + 24, " INFO started port=4318\n", 24) == 0);
    const char *second = strchr(text, '\n') + 1;
    check_timestamp(second);
    CHECK(strncmp(second + 24, " WARN two\\nlines\n", 17) == 0);
    const char *third = strchr(second, '\n') + 1;
    CHECK(strncmp(third + 24, " ERROR tab\there \\x01\n", 21) == 0);
}

TEST(log_json_format_escapes)
{
    open_log(LOG_LEVEL_TRACE, LOG_FORMAT_JSON);
    LOG_TRACE("q\" b\\ n\n t\t c\x01 bad\xff ok\xc3\xa9");
    const char *text = read_log();
    CHECK(strncmp(text, "{\"ts\":\"", 7) == 0);
    check_timestamp(text + 7);
    const char *rest = text + 7 + 24;
    CHECK_STR(rest, "\",\"level\":\"trace\",\"msg\":\"q\\\" b\\\\ n\\n t\\t c\\u0001 bad\\ufffd "
                    "ok\xc3\xa9\"}\n");
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

TEST(log_disabled_levels_cost_nothing)
{
    open_log(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
    LOG_INFO("not shown %d", side_effect());
    LOG_DEBUG("not shown %d", side_effect());
    CHECK_INT(evaluated, 0);
    CHECK(!log_enabled(LOG_LEVEL_INFO));
    CHECK(log_enabled(LOG_LEVEL_ERROR));
    CHECK_STR(read_log(), "");
    log_set_level(LOG_LEVEL_DEBUG);
    LOG_DEBUG("shown %d", side_effect());
    CHECK_INT(evaluated, 1);
    CHECK(strstr(read_log(), " DEBUG shown 1\n") != NULL);
}

TEST(log_long_message_is_truncated_to_one_line)
{
    open_log(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    static char big[20000];
    memset(big, '"', sizeof big - 1); /* each becomes a 2-byte escape */
    LOG_INFO("%s", big);
    const char *text = read_log();
    size_t len = strlen(text);
    CHECK(len < 16384 + 1);
    CHECK_STR(text + len - 6, "...\"}\n");
    CHECK(strchr(text, '\n') == text + len - 1);
    CHECK(strstr(text, "\\\"\\\"...") != NULL); /* never cut inside an escape */
}

TEST(log_level_names_parse)
{
    log_level l;
    log_format f;
    CHECK_OK(log_level_parse("DEBUG", &l));
    CHECK_INT(l, LOG_LEVEL_DEBUG);
    CHECK_OK(log_level_parse("warning", &l));
    CHECK_INT(l, LOG_LEVEL_WARN);
    CHECK(log_level_parse("verbose", &l) < 0);
    CHECK_STR(log_level_name(LOG_LEVEL_TRACE), "trace");
    CHECK_OK(log_format_parse("json", &f));
    CHECK_INT(f, LOG_FORMAT_JSON);
    CHECK(log_format_parse("xml", &f) < 0);
}

static void *log_thread(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 300; i++)
        LOG_INFO("thread=%ld i=%d payload=%s", id, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

TEST(log_lines_do_not_interleave_across_threads)
{
    snprintf(log_path, sizeof log_path, "%s/log.txt", unit_tmpdir());
    log_file = fopen(log_path, "a");
    CHECK(log_file != NULL);
    log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, log_file);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) CHECK_OK(pthread_create(&t[i], NULL, log_thread, (void *)i));
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    const char *text = read_log();
    int lines = 0;
    for (const char *p = text; *p; lines++) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        check_timestamp(p);
        CHECK(strncmp(p + 24, " INFO thread=", 13) == 0);
        CHECK(strncmp(nl - 8, "xxxxxxxx", 8) == 0);
        p = nl + 1;
    }
    CHECK_INT(lines, 1200);
}
