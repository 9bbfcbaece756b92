/*
 * store_fs: the local-directory backend.
 *
 * A put writes `.{name}.tmp-{uuid}` in the final directory, fsyncs it, renames
 * it over the final name and fsyncs the directory, so a reader sees either no
 * file or the whole file, and a crash after the return loses nothing.  Newly
 * created partition directories are fsync'd into their parents too.
 * Every failure is O2P_EIO (even EACCES/EROFS: a directory can become
 * writable again, and the flusher keeps the data meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "storage/store_impl.h"

typedef struct store_fs {
    store base;
    char *root;
} store_fs;

static int fs_errno(o2p_error *err, const char *what, const char *path, int saved_errno)
{
    return o2p_errorf(err, O2P_EIO, "%s %s: %s", what, path, strerror(saved_errno));
}

static int fs_fsync_dir(const char *dir, o2p_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fs_errno(err, "opening directory", dir, errno);
    int rc = O2P_OK;
    if (fsync(fd) < 0 && errno != EINVAL) rc = fs_errno(err, "syncing directory", dir, errno);
    close(fd);
    return rc;
}

/* mkdir -p of path (modified in place while walking, restored after).  A
 * directory created here is fsync'd into its parent so the new partition
 * survives a crash together with the file inside it. */
static int fs_mkdirs(char *path, o2p_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return O2P_OK;
        return o2p_errorf(err, O2P_EIO, "creating directory %s: a file is in the way", path);
    }
    size_t len = strlen(path);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) == 0) {
            char *slash = strrchr(path, '/');
            int rc = O2P_OK;
            if (slash != NULL && slash != path) {
                *slash = '\0';
                rc = fs_fsync_dir(path, err);
                *slash = '/';
            }
            if (rc < 0) {
                path[i] = saved;
                return rc;
            }
        } else if (errno != EEXIST) {
            int e = errno;
            int rc = fs_errno(err, "creating directory", path, e);
            path[i] = saved;
            return rc;
        }
        path[i] = saved;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return o2p_errorf(err, O2P_EIO, "creating directory %s: a file is in the way", path);
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

/* Writes data to tmp_path, then renames it to final_path. */
static int fs_write_and_rename(const char *tmp_path, const char *final_path, const uint8_t *data,
                               size_t len, o2p_error *err)
{
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fs_errno(err, "creating", tmp_path, errno);
    int rc = O2P_OK;
    if (fs_write_all(fd, data, len) < 0)
        rc = fs_errno(err, "writing", tmp_path, errno);
    else if (fsync(fd) < 0)
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
        rc = fs_mkdirs((char *)dir.data, err);
        if (rc == O2P_OK)
            rc =
                fs_write_and_rename((char *)tmp_path.data, (char *)final_path.data, data, len, err);
        if (rc == O2P_OK) rc = fs_fsync_dir((char *)dir.data, err);
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
        rc = fs_mkdirs((char *)root.data, err);
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
    fs->base.description = mem_strndup(root, len);
    fs->base.ops = &fs_ops;
    if (fs->root == NULL || fs->base.description == NULL) {
        mem_free(fs->root);
        mem_free(fs->base.description);
        mem_free(fs);
        return o2p_errorf(err, O2P_ENOMEM, "opening fs store: out of memory");
    }
    *out = &fs->base;
    return O2P_OK;
}
