/* s3_curl: libcurl loaded on first use (see s3_curl.h). */
#include "storage/s3_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

s3_curl_api s3_curl;

static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;
static char s3_curl_failure[256];

/* Looks up one symbol; records the first failure. */
static void *s3_curl_sym(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (p == NULL && s3_curl_failure[0] == '\0')
        snprintf(s3_curl_failure, sizeof s3_curl_failure, "libcurl has no symbol %s", name);
    return p;
}

static void s3_curl_open(void)
{
    /* the runtime name of the Debian package libcurl4 (the .so without a
     * version exists only with the -dev package) */
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(s3_curl_failure, sizeof s3_curl_failure,
                 "S3 storage needs libcurl (Debian package libcurl4): %s", dlerror());
        return;
    }
    s3_curl_api api;
    /* dlsym returns object pointers; POSIX guarantees they convert to
     * function pointers, which memcpy expresses without a cast warning. */
#define S3_CURL_BIND(field, name)                                                                  \
    do {                                                                                           \
        void *sym_ = s3_curl_sym(lib, name);                                                       \
        memcpy(&api.field, &sym_, sizeof sym_);                                                    \
    } while (0)
    S3_CURL_BIND(global_init, "curl_global_init");
    S3_CURL_BIND(easy_init, "curl_easy_init");
    S3_CURL_BIND(easy_cleanup, "curl_easy_cleanup");
    S3_CURL_BIND(easy_reset, "curl_easy_reset");
    S3_CURL_BIND(easy_setopt, "curl_easy_setopt");
    S3_CURL_BIND(easy_perform, "curl_easy_perform");
    S3_CURL_BIND(easy_getinfo, "curl_easy_getinfo");
    S3_CURL_BIND(easy_strerror, "curl_easy_strerror");
    S3_CURL_BIND(slist_append, "curl_slist_append");
    S3_CURL_BIND(slist_free_all, "curl_slist_free_all");
#undef S3_CURL_BIND
    if (s3_curl_failure[0] != '\0') return;
    CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(s3_curl_failure, sizeof s3_curl_failure, "libcurl initialisation failed: %s",
                 api.easy_strerror(rc));
        return;
    }
    s3_curl = api;
}

int s3_curl_load(o2p_error *err)
{
    pthread_once(&s3_curl_once, s3_curl_open);
    if (s3_curl_failure[0] != '\0') return o2p_errorf(err, O2P_EUNSUPPORTED, "%s", s3_curl_failure);
    return O2P_OK;
}
