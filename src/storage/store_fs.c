/*
 * store_fs: the local-directory backend.
 *
 * A put writes `.{name}.tmp-{uuid}` in the final directory, fsyncs it, renames
 * it over the final name and fsyncs the directory, so a reader sees either no
 * file or the whole file, and a crash after the return loses nothing.
 *
 * Directories: a partition directory is durable once its entry in its parent
 * is synced.  The store syncs a directory's parent once — when it creates the
 * directory, or when it first meets one below the root that it does not know
 * to be durable (made by an earlier run, or by a flusher in parallel whose
 * sync may still be running) — and then remembers the path in a small
 * bounded cache shared by the flushers, so steady-state puts sync only the
 * file and its directory.  Above the root only directories it creates are
 * synced into their parents.  A cached directory that vanished (removed by
 * hand or by a retention job) is noticed when the temp file cannot be
 * created: the cache is emptied and the put makes the directories again.
 * Every failure is O2P_EIO (even EACCES/EROFS: a directory can become
 * writable again, and the flusher keeps the data meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "storage/store_impl.h"

/* Durable directories remembered (a few datasets x services x the current
 * and the previous hour); an evicted one costs one parent sync again. */
#define FS_DIR_CACHE 128

typedef struct fs_dir_entry {
    char *path; /* NULL: free */
    uint64_t hash;
} fs_dir_entry;

typedef struct store_fs {
    store base;
    char *root;
    size_t root_len;
    pthread_mutex_t lock; /* guards dirs and next_dir */
    fs_dir_entry dirs[FS_DIR_CACHE];
    size_t next_dir; /* slot the next new entry replaces (oldest first) */
    store_fs_sync_hook sync_hook;
    void *sync_hook_ctx;
} store_fs;

static int fs_errno(o2p_error *err, const char *what, const char *path, int saved_errno)
{
    return o2p_errorf(err, O2P_EIO, "%s %s: %s", what, path, strerror(saved_errno));
}

static uint64_t fs_hash(const char *path)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3u;
    return h;
}

/* Index of path in the cache or -1; the lock is held. */
static int fs_dir_find(const store_fs *fs, const char *path, uint64_t hash)
{
    for (int i = 0; i < FS_DIR_CACHE; i++) {
        const fs_dir_entry *e = &fs->dirs[i];
        if (e->path != NULL && e->hash == hash && strcmp(e->path, path) == 0) return i;
    }
    return -1;
}

static bool fs_dir_known(store_fs *fs, const char *path)
{
    uint64_t hash = fs_hash(path);
    pthread_mutex_lock(&fs->lock);
    bool known = fs_dir_find(fs, path, hash) >= 0;
    pthread_mutex_unlock(&fs->lock);
    return known;
}

/* Remembers path as durable.  Out of memory only means a sync again later. */
static void fs_dir_remember(store_fs *fs, const char *path)
{
    uint64_t hash = fs_hash(path);
    char *copy = mem_strdup(path);
    if (copy == NULL) return;
    pthread_mutex_lock(&fs->lock);
    if (fs_dir_find(fs, path, hash) >= 0) {
        pthread_mutex_unlock(&fs->lock);
        mem_free(copy);
        return;
    }
    fs_dir_entry *e = &fs->dirs[fs->next_dir];
    fs->next_dir = (fs->next_dir + 1) % FS_DIR_CACHE;
    char *old = e->path;
    e->path = copy;
    e->hash = hash;
    pthread_mutex_unlock(&fs->lock);
    mem_free(old);
}

static void fs_dir_forget_all(store_fs *fs)
{
    pthread_mutex_lock(&fs->lock);
    for (int i = 0; i < FS_DIR_CACHE; i++) {
        mem_free(fs->dirs[i].path);
        fs->dirs[i].path = NULL;
    }
    pthread_mutex_unlock(&fs->lock);
}

static int fs_sync_fd(store_fs *fs, int fd, const char *path)
{
    int e = fs->sync_hook ? fs->sync_hook(fs->sync_hook_ctx, path) : 0;
    if (e != 0) {
        errno = e;
        return -1;
    }
    return fsync(fd);
}

static int fs_fsync_dir(store_fs *fs, const char *dir, o2p_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fs_errno(err, "opening directory", dir, errno);
    int rc = O2P_OK;
    if (fs_sync_fd(fs, fd, dir) < 0 && errno != EINVAL)
        rc = fs_errno(err, "syncing directory", dir, errno);
    close(fd);
    return rc;
}

/* Syncs the entry of path (a directory, not "/") into its parent. */
static int fs_sync_parent(store_fs *fs, char *path, o2p_error *err)
{
    char *slash = strrchr(path, '/');
    if (slash == NULL) return fs_fsync_dir(fs, ".", err);
    if (slash == path) return fs_fsync_dir(fs, "/", err);
    *slash = '\0';
    int rc = fs_fsync_dir(fs, path, err);
    *slash = '/';
    return rc;
}

/* One step of fs_mkdirs: path (a prefix of len bytes) exists as a directory
 * and, at or below the root, is durable and remembered. */
static int fs_mkdir_durable(store_fs *fs, char *path, size_t len, o2p_error *err)
{
    bool tracked = len >= fs->root_len; /* the root or below it */
    if (tracked && fs_dir_known(fs, path)) return O2P_OK;
    bool created = mkdir(path, 0755) == 0;
    if (!created) {
        if (errno != EEXIST) return fs_errno(err, "creating directory", path, errno);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return o2p_errorf(err, O2P_EIO, "creating directory %s: a file is in the way", path);
    }
    /* The root's existing parent may not even be readable: only what we
     * create there is ours to sync. */
    if (created || len > fs->root_len) O2P_TRY(fs_sync_parent(fs, path, err));
    if (tracked) fs_dir_remember(fs, path);
    return O2P_OK;
}

/* mkdir -p of path (the root or a directory below it; modified in place while
 * walking, restored after), every directory durable in its parent. */
static int fs_mkdirs(store_fs *fs, char *path, o2p_error *err)
{
    if (fs_dir_known(fs, path)) return O2P_OK;
    size_t len = strlen(path);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        int rc = fs_mkdir_durable(fs, path, i, err);
        path[i] = saved;
        if (rc < 0) return rc;
    }
    return O2P_OK;
}

static int fs_write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes data to tmp_path, then renames it to final_path.  Returns 1
 * (nothing written) when the directory is gone. */
static int fs_write_and_rename(store_fs *fs, const char *tmp_path, const char *final_path,
                               const uint8_t *data, size_t len, o2p_error *err)
{
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) return 1;
    if (fd < 0) return fs_errno(err, "creating", tmp_path, errno);
    int rc = O2P_OK;
    if (fs_write_all(fd, data, len) < 0)
        rc = fs_errno(err, "writing", tmp_path, errno);
    else if (fs_sync_fd(fs, fd, tmp_path) < 0)
        rc = fs_errno(err, "syncing", tmp_path, errno);
    if (close(fd) < 0 && rc == O2P_OK) rc = fs_errno(err, "closing", tmp_path, errno);
    if (rc == O2P_OK && rename(tmp_path, final_path) < 0)
        rc = fs_errno(err, "renaming into", final_path, errno);
    if (rc < 0) unlink(tmp_path);
    return rc;
}

static int fs_put(store *s, const char *key, const uint8_t *data, size_t len, o2p_error *err)
{
    store_fs *fs = (store_fs *)s;
    char uuid[UUID_HEX_LEN + 1];
    if (uuid_v4_hex(uuid) < 0) return o2p_errorf(err, O2P_EIO, "no randomness for a temp name");

    const char *slash = strrchr(key, '/');
    size_t dir_len = slash ? (size_t)(slash - key) : 0;
    const char *name = slash ? slash + 1 : key;
    o2p_buf dir, final_path, tmp_path;
    buf_init(&dir, 0);
    buf_init(&final_path, 0);
    buf_init(&tmp_path, 0);
    int rc = buf_printf(&dir, "%s%s%.*s", fs->root, dir_len ? "/" : "", (int)dir_len, key);
    if (rc == O2P_OK) rc = buf_printf(&final_path, "%s/%s", (char *)dir.data, name);
    if (rc == O2P_OK) rc = buf_printf(&tmp_path, "%s/.%s.tmp-%s", (char *)dir.data, name, uuid);
    if (rc < 0) {
        rc = o2p_errorf(err, rc, "storing %s: out of memory", key);
    } else {
        /* A second pass only when a remembered directory was removed. */
        for (int pass = 0; pass < 2; pass++) {
            rc = fs_mkdirs(fs, (char *)dir.data, err);
            if (rc == O2P_OK)
                rc = fs_write_and_rename(fs, (char *)tmp_path.data, (char *)final_path.data, data,
                                         len, err);
            if (rc != 1) break;
            fs_dir_forget_all(fs);
            rc = fs_errno(err, "creating", (char *)tmp_path.data, ENOENT);
        }
        if (rc == O2P_OK) rc = fs_fsync_dir(fs, (char *)dir.data, err);
    }
    buf_free(&dir);
    buf_free(&final_path);
    buf_free(&tmp_path);
    return rc;
}

static int fs_check(store *s, o2p_error *err)
{
    store_fs *fs = (store_fs *)s;
    char uuid[UUID_HEX_LEN + 1];
    if (uuid_v4_hex(uuid) < 0) return o2p_errorf(err, O2P_EIO, "no randomness for a probe name");
    o2p_buf root, probe;
    buf_init(&root, 0);
    buf_init(&probe, 0);
    int rc = buf_append_str(&root, fs->root);
    if (rc == O2P_OK) rc = buf_push_byte(&root, 0);
    if (rc == O2P_OK) rc = buf_printf(&probe, "%s/.o2p-probe-%s", fs->root, uuid);
    if (rc < 0) {
        rc = o2p_errorf(err, rc, "checking %s: out of memory", fs->root);
    } else {
        rc = fs_mkdirs(fs, (char *)root.data, err);
        if (rc == O2P_OK) {
            /* Creating a file is the only honest writability test (access()
             * ignores read-only mounts for root, ACLs and quotas). */
            int fd = open((char *)probe.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0) {
                rc = o2p_errorf(err, O2P_EIO, "storage directory %s is not writable: %s", fs->root,
                                strerror(errno));
            } else {
                close(fd);
                unlink((char *)probe.data);
            }
        }
    }
    buf_free(&root);
    buf_free(&probe);
    return rc;
}

static void fs_destroy(store *s)
{
    store_fs *fs = (store_fs *)s;
    fs_dir_forget_all(fs);
    pthread_mutex_destroy(&fs->lock);
    mem_free(fs->root);
    mem_free(fs);
}

static int fs_exists(store *s, const char *key, o2p_error *err)
{
    store_fs *fs = (store_fs *)s;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", fs->root, key) >= (int)sizeof path)
        return o2p_errorf(err, O2P_EINVAL, "store: path %s/%s is too long", fs->root, key);
    struct stat st;
    if (stat(path, &st) == 0) return 1;
    if (errno == ENOENT || errno == ENOTDIR) return 0;
    return fs_errno(err, "cannot stat", path, errno);
}

static const store_ops fs_ops = {fs_put, fs_check, fs_destroy, fs_exists};

int store_open_fs(store **out, const char *root, o2p_error *err)
{
    *out = NULL;
    if (root == NULL || root[0] == '\0')
        return o2p_errorf(err, O2P_EINVAL, "storage.fs.path is empty");
    store_fs *fs = mem_calloc(1, sizeof *fs);
    if (fs == NULL) return o2p_errorf(err, O2P_ENOMEM, "opening fs store: out of memory");
    /* Trailing slashes would give "root//logs"; "/" itself stays "/". */
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/') len--;
    fs->root = mem_strndup(root, len);
    fs->root_len = len;
    fs->base.description = mem_strndup(root, len);
    fs->base.ops = &fs_ops;
    if (fs->root == NULL || fs->base.description == NULL) {
        mem_free(fs->root);
        mem_free(fs->base.description);
        mem_free(fs);
        return o2p_errorf(err, O2P_ENOMEM, "opening fs store: out of memory");
    }
    pthread_mutex_init(&fs->lock, NULL);
    *out = &fs->base;
    return O2P_OK;
}

void store_fs_set_sync_hook(store *s, store_fs_sync_hook hook, void *ctx)
{
    store_fs *fs = (store_fs *)s;
    fs->sync_hook = hook;
    fs->sync_hook_ctx = ctx;
}
