/* s3_creds: credential resolution and the shared-credentials INI reader. */
#include "storage/s3_creds.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

/* The shared file is small; anything bigger is not a credentials file. */
#define S3_CREDS_FILE_MAX ((size_t)1 << 20)

static void creds_wipe_free(char **field)
{
    if (*field != NULL) {
        OPENSSL_cleanse(*field, strlen(*field));
        mem_free(*field);
        *field = NULL;
    }
}

void s3_credentials_free(s3_credentials *creds)
{
    creds_wipe_free(&creds->access_key_id);
    creds_wipe_free(&creds->secret_access_key);
    creds_wipe_free(&creds->session_token);
    mem_free(creds->source);
    creds->source = NULL;
}

static int creds_set(char **field, const char *value, size_t len)
{
    char *copy = mem_strndup(value, len);
    if (copy == NULL) return O2P_ENOMEM;
    creds_wipe_free(field);
    *field = copy;
    return O2P_OK;
}

static int creds_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Trims spaces and tabs on both sides of [*start, *start + *len). */
static void creds_trim(const char **start, size_t *len)
{
    while (*len > 0 && (**start == ' ' || **start == '\t')) {
        (*start)++;
        (*len)--;
    }
    while (*len > 0 &&
           ((*start)[*len - 1] == ' ' || (*start)[*len - 1] == '\t' || (*start)[*len - 1] == '\r'))
        (*len)--;
}

int s3_credentials_parse_ini(const char *text, size_t len, const char *profile, s3_credentials *out)
{
    int found = 0, in_section = 0;
    size_t profile_len = strlen(profile);
    const char *end = text + len;
    for (const char *line = text; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t line_len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        const char *next = nl ? nl + 1 : end;
        creds_trim(&line, &line_len);
        if (line_len == 0 || line[0] == '#' || line[0] == ';') {
            line = next;
            continue;
        }
        if (line[0] == '[') {
            const char *name = line + 1;
            size_t name_len = line_len >= 2 && line[line_len - 1] == ']' ? line_len - 2 : 0;
            creds_trim(&name, &name_len);
            in_section = name_len == profile_len && memcmp(name, profile, name_len) == 0;
            if (in_section) found = 1;
            line = next;
            continue;
        }
        const char *eq = memchr(line, '=', line_len);
        if (in_section && eq != NULL) {
            const char *key = line;
            size_t key_len = (size_t)(eq - line);
            const char *value = eq + 1;
            size_t value_len = line_len - key_len - 1;
            creds_trim(&key, &key_len);
            creds_trim(&value, &value_len);
            char **field = NULL;
            if (key_len == 17 && strncasecmp(key, "aws_access_key_id", 17) == 0)
                field = &out->access_key_id;
            else if (key_len == 21 && strncasecmp(key, "aws_secret_access_key", 21) == 0)
                field = &out->secret_access_key;
            else if (key_len == 17 && strncasecmp(key, "aws_session_token", 17) == 0)
                field = &out->session_token;
            if (field != NULL && creds_set(field, value, value_len) < 0) return O2P_ENOMEM;
        }
        line = next;
    }
    return found;
}

/* Reads the whole file into b.  A missing file is not an error here: it sets
 * *absent so the caller can say which source to configure. */
static int creds_read_file(const char *path, o2p_buf *b, int *absent, o2p_error *err)
{
    *absent = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT) {
            *absent = 1;
            return O2P_OK;
        }
        return o2p_errorf(err, O2P_EAUTH, "cannot read S3 credentials file %s: %s", path,
                          strerror(errno));
    }
    int rc = O2P_OK;
    char chunk[4096];
    size_t n;
    while (rc == O2P_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = buf_append(b, chunk, n);
        OPENSSL_cleanse(chunk, sizeof chunk);
    }
    if (rc == O2P_OK && ferror(f))
        rc = o2p_errorf(err, O2P_EAUTH, "cannot read S3 credentials file %s", path);
    else if (rc == O2P_ELIMIT)
        rc = o2p_errorf(err, O2P_EAUTH, "S3 credentials file %s is larger than 1 MiB", path);
    else if (rc < 0)
        rc = o2p_errorf(err, rc, "reading S3 credentials file %s: out of memory", path);
    fclose(f);
    return rc;
}

static int creds_from_file(const store_s3_config *cfg, s3_credentials *out, o2p_error *err)
{
    const char *profile = cfg->profile;
    int profile_explicit = 1;
    if (!creds_nonempty(profile)) profile = getenv("AWS_PROFILE");
    if (!creds_nonempty(profile)) {
        profile = "default";
        profile_explicit = 0;
    }
    o2p_buf path;
    buf_init(&path, 0);
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    int rc;
    if (creds_nonempty(file)) {
        rc = buf_append_str(&path, file);
    } else {
        const char *home = getenv("HOME");
        rc = buf_printf(&path, "%s/.aws/credentials", creds_nonempty(home) ? home : ".");
    }
    if (rc == O2P_OK) rc = buf_push_byte(&path, 0);
    if (rc < 0) {
        buf_free(&path);
        return o2p_errorf(err, O2P_ENOMEM, "resolving S3 credentials: out of memory");
    }
    const char *path_str = (const char *)path.data;

    o2p_buf text;
    buf_init(&text, S3_CREDS_FILE_MAX);
    int absent = 0;
    rc = creds_read_file(path_str, &text, &absent, err);
    if (rc == O2P_OK && absent) {
        rc = o2p_errorf(err, O2P_EAUTH,
                        profile_explicit
                            ? "S3 credentials: profile '%s' requested but %s does not exist"
                            : "no S3 credentials: set storage.s3.access_key_id and "
                              "secret_access_key, or AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY, or profile '%s' in %s",
                        profile, path_str);
    } else if (rc == O2P_OK) {
        int found = s3_credentials_parse_ini((const char *)text.data, text.len, profile, out);
        if (found < 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "reading %s: out of memory", path_str);
        } else if (!found) {
            rc = o2p_errorf(err, O2P_EAUTH, "S3 credentials: no profile [%s] in %s", profile,
                            path_str);
        } else if (!creds_nonempty(out->access_key_id) || !creds_nonempty(out->secret_access_key)) {
            rc = o2p_errorf(err, O2P_EAUTH,
                            "S3 credentials: profile [%s] in %s lacks aws_access_key_id or "
                            "aws_secret_access_key",
                            profile, path_str);
        } else {
            o2p_buf source;
            buf_init(&source, 0);
            if (buf_printf(&source, "profile '%s' in %s", profile, path_str) < 0) {
                rc = o2p_errorf(err, O2P_ENOMEM, "resolving S3 credentials: out of memory");
            } else {
                out->source = (char *)buf_detach(&source, NULL);
            }
            buf_free(&source);
        }
    }
    if (text.data) OPENSSL_cleanse(text.data, text.len);
    buf_free(&text);
    buf_free(&path);
    return rc;
}

static int creds_take(s3_credentials *out, const char *akid, const char *secret, const char *token,
                      const char *source)
{
    if (creds_set(&out->access_key_id, akid, strlen(akid)) < 0 ||
        creds_set(&out->secret_access_key, secret, strlen(secret)) < 0 ||
        (creds_nonempty(token) && creds_set(&out->session_token, token, strlen(token)) < 0) ||
        (out->source = mem_strdup(source)) == NULL)
        return O2P_ENOMEM;
    return O2P_OK;
}

int s3_credentials_resolve(const store_s3_config *cfg, s3_credentials *out, o2p_error *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (creds_nonempty(cfg->access_key_id) || creds_nonempty(cfg->secret_access_key)) {
        if (!creds_nonempty(cfg->access_key_id) || !creds_nonempty(cfg->secret_access_key))
            return o2p_errorf(err, O2P_EAUTH,
                              "storage.s3: access_key_id and secret_access_key must be set "
                              "together");
        rc = creds_take(out, cfg->access_key_id, cfg->secret_access_key, cfg->session_token,
                        cfg->credentials_source ? cfg->credentials_source
                                                : "the storage.s3 configuration");
    } else {
        const char *akid = getenv("AWS_ACCESS_KEY_ID");
        const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
        if (creds_nonempty(akid) || creds_nonempty(secret)) {
            if (!creds_nonempty(akid) || !creds_nonempty(secret))
                return o2p_errorf(err, O2P_EAUTH,
                                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set "
                                  "together");
            rc = creds_take(out, akid, secret, getenv("AWS_SESSION_TOKEN"),
                            "the environment (AWS_ACCESS_KEY_ID)");
        } else {
            rc = creds_from_file(cfg, out, err);
            if (rc < 0) {
                s3_credentials_free(out);
                return rc;
            }
        }
    }
    if (rc < 0) {
        s3_credentials_free(out);
        return o2p_errorf(err, O2P_ENOMEM, "resolving S3 credentials: out of memory");
    }
    return O2P_OK;
}
