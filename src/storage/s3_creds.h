/*
 * s3_creds: where S3 credentials come from, in the order the AWS tools use:
 * explicit configuration, then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
 * else ~/.aws/credentials) under the profile from the configuration,
 * AWS_PROFILE, else "default".  The INI file is parsed here (no dependency).
 *
 * Secrets stay in memory owned by s3_credentials and are wiped on free; the
 * `source` string says where they came from without revealing them, so error
 * messages can point at the right place to fix.
 */
#ifndef O2P_STORAGE_S3_CREDS_H
#define O2P_STORAGE_S3_CREDS_H

#include <stddef.h>

#include "core/error.h"
#include "storage/store.h"

typedef struct s3_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    char *source;        /* "storage.s3 configuration", "environment", "profile 'x' in FILE" */
} s3_credentials;

/* Fills out (zeroed first) per the order above.  Returns 0, O2P_EAUTH when
 * nothing usable is found or a source is half-filled, or O2P_ENOMEM. */
int s3_credentials_resolve(const store_s3_config *cfg, s3_credentials *out, o2p_error *err);

/* Reads aws_access_key_id, aws_secret_access_key and aws_session_token of
 * section [profile] from INI text into out (fields already set are replaced).
 * Returns 1 when the section exists, 0 when it does not, O2P_ENOMEM. */
int s3_credentials_parse_ini(const char *text, size_t len, const char *profile,
                             s3_credentials *out);

/* Wipes and frees the strings; out is zeroed. */
void s3_credentials_free(s3_credentials *creds);

#endif
