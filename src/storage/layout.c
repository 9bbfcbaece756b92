/* layout: object keys and service-name sanitizing (see layout.h). */
#include "storage/layout.h"

#include <string.h>
#include <time.h>

#include "core/uuid.h"

static const char *const layout_datasets[] = {
    "logs",
    "traces",
    "metrics/gauge",
    "metrics/sum",
    "metrics/histogram",
    "metrics/exponential_histogram",
    "metrics/summary",
};

static int layout_is_reserved_byte(uint8_t c)
{
    if (c < 0x20 || c == 0x7f || c == ' ') return 1;
    return strchr("/\\:*?\"<>|", c) != NULL;
}

/* Length of the well-formed UTF-8 sequence starting at s (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0 when the bytes
 * there are not one. */
static size_t layout_utf8_seq_len(const uint8_t *s, size_t avail)
{
    uint8_t b0 = s[0];
    if (b0 < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 3;
        if (b0 == 0xe0) lo = 0xa0;
        if (b0 == 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 4;
        if (b0 == 0xf0) lo = 0x90;
        if (b0 == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < need) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return need;
}

size_t layout_sanitize_service(const uint8_t *name, size_t name_len,
                               char out[LAYOUT_SERVICE_MAX + 1])
{
    size_t out_len = 0, pos = 0;
    while (pos < name_len) {
        size_t seq = layout_utf8_seq_len(name + pos, name_len - pos);
        if (seq <= 1) {
            /* One byte in, one byte out: ASCII kept or replaced, a stray
             * byte of broken UTF-8 replaced. */
            if (out_len + 1 > LAYOUT_SERVICE_MAX) break;
            uint8_t c = name[pos];
            out[out_len++] = (seq == 0 || layout_is_reserved_byte(c)) ? '_' : (char)c;
            pos++;
            continue;
        }
        /* Whole characters only, so the cut lands on a boundary. */
        if (out_len + seq > LAYOUT_SERVICE_MAX) break;
        memcpy(out + out_len, name + pos, seq);
        out_len += seq;
        pos += seq;
    }
    if (out_len == 0) {
        memcpy(out, "unknown", 8);
        return 7;
    }
    if (out[0] == '.') out[0] = '_';
    out[out_len] = '\0';
    return out_len;
}

static int layout_known_dataset(const char *dataset)
{
    for (size_t i = 0; i < sizeof layout_datasets / sizeof layout_datasets[0]; i++)
        if (strcmp(dataset, layout_datasets[i]) == 0) return 1;
    return 0;
}

static int layout_valid_uuid(const char *hex)
{
    size_t i = 0;
    for (; hex[i] != '\0'; i++) {
        char c = hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return i == UUID_HEX_LEN;
}

int layout_object_key(o2p_buf *out, const char *dataset, const uint8_t *service, size_t service_len,
                      int64_t hour, int64_t min_ts_us, const char *uuid_hex, o2p_error *err)
{
    if (dataset == NULL || !layout_known_dataset(dataset))
        return o2p_errorf(err, O2P_EINVAL, "layout: unknown dataset '%s'",
                          dataset ? dataset : "(null)");
    char fresh[UUID_HEX_LEN + 1];
    if (uuid_hex == NULL) {
        if (uuid_v4_hex(fresh) < 0)
            return o2p_errorf(err, O2P_EIO, "layout: no randomness for the file name");
        uuid_hex = fresh;
    } else if (!layout_valid_uuid(uuid_hex)) {
        return o2p_errorf(err, O2P_EINVAL, "layout: uuid must be 32 lowercase hex digits");
    }
    char svc[LAYOUT_SERVICE_MAX + 1];
    layout_sanitize_service(service, service_len, svc);

    struct tm when;
    time_t start = (time_t)(hour * 3600);
    if (gmtime_r(&start, &when) == NULL)
        return o2p_errorf(err, O2P_EINVAL, "layout: hour %lld out of range", (long long)hour);
    int rc = buf_printf(out, "%s/%s/year=%04d/month=%02d/day=%02d/hour=%02d/%lld-%s.parquet",
                        dataset, svc, when.tm_year + 1900, when.tm_mon + 1, when.tm_mday,
                        when.tm_hour, (long long)min_ts_us, uuid_hex);
    if (rc < 0) return o2p_errorf(err, rc, "layout: key does not fit (%s)", o2p_strerror(rc));
    return O2P_OK;
}
