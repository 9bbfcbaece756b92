/*
 * s3_curl: libcurl, loaded when the first S3 store is opened.
 *
 * Only the S3 backend needs libcurl, and libcurl brings some twenty shared
 * libraries (TLS, Kerberos, LDAP, SSH, HTTP/2, ...) whose loading and
 * constructors cost more than the rest of start-up together.  Loading it
 * with dlopen when S3 is configured keeps `serve` with local storage, and
 * `convert`, quick to start.  The functions are called through s3_curl.
 */
#ifndef O2P_STORAGE_S3_CURL_H
#define O2P_STORAGE_S3_CURL_H

#include <curl/curl.h>

#include "core/error.h"

typedef struct s3_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *curl);
    void (*easy_reset)(CURL *curl);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
} s3_curl_api;

/* Valid after a successful s3_curl_load. */
extern s3_curl_api s3_curl;

/* Loads libcurl and runs its global initialisation, once per process
 * (thread-safe).  Returns 0, or O2P_EUNSUPPORTED naming what is missing. */
int s3_curl_load(o2p_error *err);

#endif
