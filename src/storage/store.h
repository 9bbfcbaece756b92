/*
 * store: where finished Parquet files go — a local directory or an S3 bucket.
 *
 * The batch flusher and `convert` hand over whole objects: store_put(key,
 * bytes) returns 0 only once the object is durable (fs: fsync'd and renamed
 * into place; S3: the PUT or CompleteMultipartUpload succeeded).  Keys come
 * from layout_object_key and are relative; each store adds its root (the fs
 * directory, or the S3 prefix).
 *
 * Failures: O2P_EIO is retryable (disk full, read-only directory, network,
 * S3 5xx after the in-call retries) — keep the data and try later.
 * O2P_EAUTH means credentials or the bucket are wrong (403, NoSuchBucket,
 * wrong region) and retrying will not help until the configuration changes.
 * O2P_EINVAL: a key that is not a clean relative path.  Messages name the
 * path or the s3:// URL and never contain secrets.
 *
 * Threads: one handle may be used by several threads at once.  fs puts run
 * in parallel; S3 puts take a connection from the handle's small pool
 * (libcurl easy handles are never shared by two threads), so concurrent
 * uploads proceed in parallel and reuse keep-alive connections.
 * store_destroy must not race with other calls.
 */
#ifndef O2P_STORAGE_STORE_H
#define O2P_STORAGE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "storage/retry.h"

typedef struct store store;

typedef struct store_s3_config {
    const char *bucket;   /* required */
    const char *region;   /* NULL: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
    const char *endpoint; /* http(s)://host[:port]; NULL: https://s3.{region}.amazonaws.com */
    const char *prefix;   /* key prefix; a missing trailing '/' is added */
    int path_style;       /* 1 path-style, 0 virtual-hosted, -1 auto (path-style iff endpoint) */
    const char *access_key_id; /* explicit credentials; NULL: environment, then shared file */
    const char *secret_access_key;
    const char *session_token;
    const char *credentials_source; /* where the explicit keys came from, for messages;
                                       NULL: "the storage.s3 configuration" */
    const char *profile;            /* shared-file profile; NULL: AWS_PROFILE, else "default" */
    size_t multipart_threshold;     /* objects at least this big go multipart (default 16 MiB) */
    size_t part_size;               /* >= 5 MiB (default 8 MiB) */
    uint32_t connect_timeout_ms;    /* default 10 s */
    uint32_t stall_timeout_ms;      /* abort a request that moves no byte for this long (30 s) */
    store_retry_policy retry; /* in-call retries of transient failures (4 tries, 200 ms .. 5 s) */
} store_s3_config;

#define STORE_S3_MIN_PART_SIZE ((size_t)5 << 20)

/* Fills the defaults above (all strings NULL, path_style -1). */
void store_s3_config_init(store_s3_config *cfg);

/* A store writing under directory `root` (created on first use or by
 * store_check).  *out owns a copy of root.  Returns 0 or O2P_ENOMEM. */
int store_open_fs(store **out, const char *root, o2p_error *err);

/* Test hook of an fs store (s must be one): called before every fsync with
 * the path synced (a temp file or a directory); return an errno to make that
 * sync fail, 0 to go on.  Set before the store is shared. */
typedef int (*store_fs_sync_hook)(void *ctx, const char *path);
void store_fs_set_sync_hook(store *s, store_fs_sync_hook hook, void *ctx);

/* An S3 store.  Resolves credentials (config, then AWS_ACCESS_KEY_ID/
 * AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then the shared credentials file
 * at AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) and validates the
 * configuration; makes no request (see store_check).  *out owns copies of all
 * strings.  Returns 0, O2P_EINVAL (bad endpoint, part size, bucket), O2P_EAUTH
 * (no credentials found) or O2P_ENOMEM. */
int store_open_s3(store **out, const store_s3_config *cfg, o2p_error *err);

/* Writes the whole object at key.  Durable when it returns 0. */
int store_put(store *s, const char *key, const uint8_t *data, size_t len, o2p_error *err);

/* Whether an object exists at key: 1 yes, 0 no, < 0 when storage cannot
 * tell (O2P_EIO: retry later; O2P_EAUTH).  fs: stat; S3: HEAD.  Replay of
 * the write-ahead log asks it whether an upload it logged had finished. */
int store_exists(store *s, const char *key, o2p_error *err);

/* Start-up check that the target is usable: fs — the directory exists (or is
 * created) and a file can be created in it; S3 — the bucket answers a listing
 * with these credentials.  Errors say what to fix. */
int store_check(store *s, o2p_error *err);

/* "./data" or "s3://bucket/prefix/ (endpoint URL, path-style)"; owned by s. */
const char *store_describe(const store *s);

/* Frees the handle (NULL is fine). */
void store_destroy(store *s);

#endif
