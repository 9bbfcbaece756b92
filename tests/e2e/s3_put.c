/*
 * s3_put: end-to-end driver for the S3 store (used by s3.test.mjs).
 *
 *   s3_put check                       store_check, print the description
 *   s3_put put FILE KEY [FILE KEY]...  upload each file under KEY
 *   s3_put exists KEY...               store_exists: print "yes KEY" or "no KEY"
 *   s3_put layout FILE DATASET SERVICE HOUR MIN_TS_US
 *                                      upload FILE under a layout key, print the key
 *
 * Configuration from the environment: O2P_S3_BUCKET, O2P_S3_ENDPOINT,
 * O2P_S3_REGION, O2P_S3_PREFIX, O2P_S3_PATH_STYLE (0/1), O2P_S3_ACCESS_KEY_ID,
 * O2P_S3_SECRET_ACCESS_KEY, O2P_S3_PROFILE, O2P_S3_MULTIPART_THRESHOLD,
 * O2P_S3_PART_SIZE, O2P_S3_MAX_ATTEMPTS, O2P_S3_RETRY_BASE_MS (credentials
 * otherwise from AWS_* and the shared file, like the server).
 * Exit status: 0 ok, 2 O2P_EAUTH, 3 O2P_EIO, 1 anything else; the error
 * message goes to stderr as "error: <code>: <message>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/mem.h"
#include "storage/layout.h"
#include "storage/store.h"

static const char *env_str(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

static unsigned long long env_num(const char *name, unsigned long long fallback)
{
    const char *v = env_str(name);
    return v ? strtoull(v, NULL, 10) : fallback;
}

static int fail(const o2p_error *err)
{
    fprintf(stderr, "error: %s: %s\n", o2p_strerror(err->code), err->msg);
    if (err->code == O2P_EAUTH) return 2;
    if (err->code == O2P_EIO) return 3;
    return 1;
}

static int read_file(const char *path, o2p_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(out, chunk, n) < 0) rc = -1;
    if (ferror(f)) rc = -1;
    fclose(f);
    return rc;
}

static int put_file(store *s, const char *path, const char *key, o2p_error *err)
{
    o2p_buf data;
    buf_init(&data, 0);
    if (read_file(path, &data) < 0) {
        buf_free(&data);
        return o2p_errorf(err, O2P_EINVAL, "cannot read %s", path);
    }
    int rc = store_put(s, key, data.data, data.len, err);
    buf_free(&data);
    if (rc == O2P_OK) printf("ok %s\n", key);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: s3_put check | put FILE KEY... | layout FILE DATASET SERVICE "
                        "HOUR MIN_TS_US\n");
        return 1;
    }
    store_s3_config cfg;
    store_s3_config_init(&cfg);
    cfg.bucket = env_str("O2P_S3_BUCKET");
    cfg.endpoint = env_str("O2P_S3_ENDPOINT");
    cfg.region = env_str("O2P_S3_REGION");
    cfg.prefix = env_str("O2P_S3_PREFIX");
    cfg.access_key_id = env_str("O2P_S3_ACCESS_KEY_ID");
    cfg.secret_access_key = env_str("O2P_S3_SECRET_ACCESS_KEY");
    cfg.profile = env_str("O2P_S3_PROFILE");
    if (env_str("O2P_S3_PATH_STYLE")) cfg.path_style = (int)env_num("O2P_S3_PATH_STYLE", 1);
    cfg.multipart_threshold =
        (size_t)env_num("O2P_S3_MULTIPART_THRESHOLD", cfg.multipart_threshold);
    cfg.part_size = (size_t)env_num("O2P_S3_PART_SIZE", cfg.part_size);
    cfg.retry.max_attempts = (uint32_t)env_num("O2P_S3_MAX_ATTEMPTS", cfg.retry.max_attempts);
    cfg.retry.base_ms = (uint32_t)env_num("O2P_S3_RETRY_BASE_MS", cfg.retry.base_ms);

    o2p_error err;
    o2p_error_clear(&err);
    store *s = NULL;
    if (store_open_s3(&s, &cfg, &err) < 0) return fail(&err);
    int rc = O2P_OK;
    if (strcmp(argv[1], "check") == 0) {
        rc = store_check(s, &err);
        if (rc == O2P_OK) printf("ok %s\n", store_describe(s));
    } else if (strcmp(argv[1], "put") == 0 && argc >= 4 && argc % 2 == 0) {
        for (int i = 2; i + 1 < argc && rc == O2P_OK; i += 2)
            rc = put_file(s, argv[i], argv[i + 1], &err);
    } else if (strcmp(argv[1], "exists") == 0 && argc >= 3) {
        for (int i = 2; i < argc && rc == O2P_OK; i++) {
            int e = store_exists(s, argv[i], &err);
            if (e < 0)
                rc = e;
            else
                printf("%s %s\n", e ? "yes" : "no", argv[i]);
        }
    } else if (strcmp(argv[1], "layout") == 0 && argc == 7) {
        o2p_buf key;
        buf_init(&key, 0);
        rc = layout_object_key(&key, argv[3], (const uint8_t *)argv[4], strlen(argv[4]),
                               strtoll(argv[5], NULL, 10), strtoll(argv[6], NULL, 10), NULL, &err);
        if (rc == O2P_OK) rc = put_file(s, argv[2], (const char *)key.data, &err);
        buf_free(&key);
    } else {
        o2p_errorf(&err, O2P_EINVAL, "bad arguments");
        rc = O2P_EINVAL;
    }
    store_destroy(s);
    return rc == O2P_OK ? 0 : fail(&err);
}
