/* Unit tests for the fs store (src/storage/store_fs.c) and the shared key
 * check: atomic writes, nested partitions, no temp files left, and
 * unwritable targets reported as retryable O2P_EIO. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "storage/store.h"
#include "unit.h"

static void read_all(const char *path, o2p_buf *out)
{
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) CHECK_OK(buf_append(out, chunk, n));
    fclose(f);
}

/* Counts the entries of dir whose name starts with '.' (temp files), other
 * than "." and "..". */
static int hidden_entries(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            count++;
    closedir(d);
    return count;
}

TEST(store_fs_put_nested_and_atomic)
{
    char root[512], with_slash[520];
    snprintf(root, sizeof root, "%s/data", unit_tmpdir());
    snprintf(with_slash, sizeof with_slash, "%s/", root);
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, with_slash, &err));
    CHECK_STR(store_describe(s), root);
    CHECK_OK(store_check(s, &err));

    const char *key = "logs/svc/year=2026/month=01/day=02/hour=03/1-"
                      "0123456789abcdef0123456789abcdef.parquet";
    uint8_t data[10000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    CHECK_OK(store_put(s, key, data, sizeof data, &err));

    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, key);
    snprintf(dir, sizeof dir, "%s/logs/svc/year=2026/month=01/day=02/hour=03", root);
    o2p_buf got;
    buf_init(&got, 0);
    read_all(path, &got);
    CHECK_MEM(got.data, got.len, data, sizeof data);
    CHECK_INT(hidden_entries(dir), 0);
    CHECK_INT(hidden_entries(root), 0); /* the check's probe is gone too */

    /* Same key again replaces the content whole; an empty object is fine. */
    CHECK_OK(store_put(s, key, (const uint8_t *)"", 0, &err));
    buf_reset(&got);
    read_all(path, &got);
    CHECK_INT(got.len, 0);
    CHECK_INT(hidden_entries(dir), 0);
    buf_free(&got);
    store_destroy(s);
}

TEST(store_fs_rejects_keys_leaving_the_root)
{
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, unit_tmpdir(), &err));
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/", "a/b\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(store_put(s, bad[i], (const uint8_t *)"x", 1, &err), O2P_EINVAL);
    }
    CHECK(strstr(err.msg, "control") != NULL);
    CHECK_OK(store_put(s, ".._not_dotdot/x..y", (const uint8_t *)"x", 1, &err));
    store_destroy(s);
}

TEST(store_fs_blocked_directory_is_eio)
{
    /* A regular file where a partition directory should be: fails for every
     * user, root included. */
    char root[512], blocker[600];
    snprintf(root, sizeof root, "%s/data", unit_tmpdir());
    snprintf(blocker, sizeof blocker, "%s/logs", root);
    CHECK_OK(mkdir(root, 0755));
    int fd = open(blocker, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    CHECK_INT(store_put(s, "logs/svc/f.parquet", (const uint8_t *)"x", 1, &err), O2P_EIO);
    CHECK(strstr(err.msg, blocker) != NULL);
    store_destroy(s);

    /* A root that is a file fails the start-up check. */
    CHECK_OK(store_open_fs(&s, blocker, &err));
    CHECK_INT(store_check(s, &err), O2P_EIO);
    CHECK(strstr(err.msg, blocker) != NULL);
    store_destroy(s);
}

TEST(store_fs_read_only_directory_is_eio)
{
    char root[512];
    snprintf(root, sizeof root, "%s/ro", unit_tmpdir());
    CHECK_OK(mkdir(root, 0555));
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    if (geteuid() == 0) {
        /* root ignores permission bits; the blocked-directory test covers
         * the error path instead. */
        store_destroy(s);
        return;
    }
    CHECK_INT(store_check(s, &err), O2P_EIO);
    CHECK(strstr(err.msg, "not writable") != NULL);
    CHECK_INT(store_put(s, "logs/a.parquet", (const uint8_t *)"x", 1, &err), O2P_EIO);
    CHECK(strstr(err.msg, "Permission denied") != NULL);
    /* Writable again: the same put succeeds (the error was retryable). */
    CHECK_OK(chmod(root, 0755));
    CHECK_OK(store_put(s, "logs/a.parquet", (const uint8_t *)"x", 1, &err));
    store_destroy(s);
}

TEST(store_fs_open_rejects_empty_path)
{
    store *s;
    o2p_error err;
    CHECK_INT(store_open_fs(&s, "", &err), O2P_EINVAL);
    CHECK(s == NULL);
}

TEST(store_fs_exists)
{
    char root[512];
    snprintf(root, sizeof root, "%s/data", unit_tmpdir());
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    const char *key = "logs/svc/hour=03/a.parquet";
    CHECK_INT(store_exists(s, key, &err), 0); /* not even the directories exist */
    CHECK_OK(store_put(s, key, (const uint8_t *)"x", 1, &err));
    CHECK_INT(store_exists(s, key, &err), 1);
    CHECK_INT(store_exists(s, "logs/svc/hour=03/b.parquet", &err), 0);
    CHECK_INT(store_exists(s, "logs/svc/hour=03/a.parquet/below", &err), 0);
    CHECK_INT(store_exists(s, "../escape", &err), O2P_EINVAL);
    store_destroy(s);
}

/* Records every fsync of a store (the path relative to base, "" for base
 * itself) and fails the ones of fail_path. */
typedef struct sync_log {
    const char *base;
    const char *fail_path; /* relative; NULL: none fails */
    int count;
    char paths[16][256];
} sync_log;

static int sync_log_hook(void *ctx, const char *path)
{
    sync_log *log = ctx;
    size_t base_len = strlen(log->base);
    CHECK(strncmp(path, log->base, base_len) == 0);
    const char *rel = path + base_len;
    if (*rel == '/') rel++;
    if (log->count < 16) snprintf(log->paths[log->count], sizeof log->paths[0], "%s", rel);
    log->count++;
    return log->fail_path != NULL && strcmp(rel, log->fail_path) == 0 ? EIO : 0;
}

static void sync_log_reset(sync_log *log)
{
    log->count = 0;
    log->fail_path = NULL;
}

/* The syncs of one put into an existing, known directory: the temp file and
 * the directory. */
static void check_steady_put(store *s, sync_log *log, const char *key)
{
    o2p_error err;
    sync_log_reset(log);
    CHECK_OK(store_put(s, key, (const uint8_t *)"x", 1, &err));
    CHECK_INT(log->count, 2);
    CHECK(strstr(log->paths[0], ".tmp-") != NULL);
    CHECK_STR(log->paths[1], "data/logs/svc/hour=03");
}

TEST(store_fs_syncs_each_directory_into_its_parent_once)
{
    char base[512], root[600];
    snprintf(base, sizeof base, "%s", unit_tmpdir());
    snprintf(root, sizeof root, "%s/data", base);
    sync_log log = {.base = base};
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    store_fs_set_sync_hook(s, sync_log_hook, &log);

    /* The check creates the root: synced into its parent. */
    CHECK_OK(store_check(s, &err));
    CHECK_INT(log.count, 1);
    CHECK_STR(log.paths[0], "");

    /* The first put creates three directories, each synced into its parent,
     * then syncs the file and its directory. */
    sync_log_reset(&log);
    CHECK_OK(store_put(s, "logs/svc/hour=03/a.parquet", (const uint8_t *)"x", 1, &err));
    CHECK_INT(log.count, 5);
    CHECK_STR(log.paths[0], "data");
    CHECK_STR(log.paths[1], "data/logs");
    CHECK_STR(log.paths[2], "data/logs/svc");
    CHECK(strstr(log.paths[3], "data/logs/svc/hour=03/.a.parquet.tmp-") == log.paths[3]);
    CHECK_STR(log.paths[4], "data/logs/svc/hour=03");
    check_steady_put(s, &log, "logs/svc/hour=03/b.parquet");
    store_destroy(s);

    /* A new store (a restart) does not know the directories: each one below
     * the root is synced into its parent once more, the root's parent is not
     * (it did not create the root). */
    CHECK_OK(store_open_fs(&s, root, &err));
    store_fs_set_sync_hook(s, sync_log_hook, &log);
    sync_log_reset(&log);
    CHECK_OK(store_put(s, "logs/svc/hour=03/c.parquet", (const uint8_t *)"x", 1, &err));
    CHECK_INT(log.count, 5);
    CHECK_STR(log.paths[0], "data");
    CHECK_STR(log.paths[1], "data/logs");
    CHECK_STR(log.paths[2], "data/logs/svc");
    check_steady_put(s, &log, "logs/svc/hour=03/d.parquet");

    /* A new sibling costs one parent sync (its parent is known). */
    sync_log_reset(&log);
    CHECK_OK(store_put(s, "logs/svc/hour=04/a.parquet", (const uint8_t *)"x", 1, &err));
    CHECK_INT(log.count, 3);
    CHECK_STR(log.paths[0], "data/logs/svc");
    CHECK_STR(log.paths[2], "data/logs/svc/hour=04");
    store_destroy(s);
}

TEST(store_fs_failed_directory_sync_is_retried)
{
    char base[512], root[600], path[700];
    snprintf(base, sizeof base, "%s", unit_tmpdir());
    snprintf(root, sizeof root, "%s/data", base);
    sync_log log = {.base = base};
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    store_fs_set_sync_hook(s, sync_log_hook, &log);
    CHECK_OK(store_check(s, &err));

    /* The sync making hour=03 durable fails: the put fails before writing. */
    sync_log_reset(&log);
    log.fail_path = "data/logs/svc";
    CHECK_INT(store_put(s, "logs/svc/hour=03/a.parquet", (const uint8_t *)"x", 1, &err), O2P_EIO);
    CHECK(strstr(err.msg, "syncing directory") != NULL);
    CHECK_INT(log.count, 3);
    snprintf(path, sizeof path, "%s/logs/svc/hour=03/a.parquet", root);
    CHECK(access(path, F_OK) != 0);

    /* The retry syncs hour=03 into svc again (logs and svc were made durable
     * and are not synced again). */
    sync_log_reset(&log);
    CHECK_OK(store_put(s, "logs/svc/hour=03/a.parquet", (const uint8_t *)"x", 1, &err));
    CHECK_INT(log.count, 3);
    CHECK_STR(log.paths[0], "data/logs/svc");
    CHECK(access(path, F_OK) == 0);
    store_destroy(s);
}

TEST(store_fs_remade_directory_after_removal)
{
    char base[512], root[600], path[700];
    snprintf(base, sizeof base, "%s", unit_tmpdir());
    snprintf(root, sizeof root, "%s/data", base);
    sync_log log = {.base = base};
    store *s;
    o2p_error err;
    CHECK_OK(store_open_fs(&s, root, &err));
    store_fs_set_sync_hook(s, sync_log_hook, &log);
    CHECK_OK(store_put(s, "logs/svc/hour=03/a.parquet", (const uint8_t *)"x", 1, &err));

    /* A retention job removes the hour (the store still remembers it). */
    snprintf(path, sizeof path, "%s/logs/svc/hour=03/a.parquet", root);
    CHECK_OK(unlink(path));
    snprintf(path, sizeof path, "%s/logs/svc/hour=03", root);
    CHECK_OK(rmdir(path));

    /* The put notices, makes the directory again and syncs it into svc. */
    sync_log_reset(&log);
    CHECK_OK(store_put(s, "logs/svc/hour=03/b.parquet", (const uint8_t *)"x", 1, &err));
    CHECK_STR(log.paths[0], "data");
    CHECK_STR(log.paths[1], "data/logs");
    CHECK_STR(log.paths[2], "data/logs/svc");
    CHECK_INT(log.count, 5);
    snprintf(path, sizeof path, "%s/logs/svc/hour=03/b.parquet", root);
    CHECK(access(path, F_OK) == 0);
    check_steady_put(s, &log, "logs/svc/hour=03/c.parquet");
    store_destroy(s);
}
