/*
 * layout: object keys of the output tree (spec §4).
 *
 *   {dataset}/{service}/year=YYYY/month=MM/day=DD/hour=HH/{min_ts_us}-{uuid}.parquet
 *
 * where dataset is "logs", "traces" or "metrics/{gauge|sum|histogram|
 * exponential_histogram|summary}".  Keys are relative: each store adds its own
 * root (the fs directory, or the S3 prefix).  The dataset is taken as a string
 * so storage does not depend on the table module.
 *
 * The service name comes from telemetry and is untrusted: it is sanitized so
 * that no key can leave the root or hide itself (see layout_sanitize_service).
 */
#ifndef O2P_STORAGE_LAYOUT_H
#define O2P_STORAGE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define LAYOUT_SERVICE_MAX 128

/*
 * Writes the directory-safe form of a service name into out and returns its
 * length (1..LAYOUT_SERVICE_MAX; out is NUL-terminated):
 *   - `/ \ : * ? " < > |`, space, C0 controls and DEL become '_';
 *   - a leading '.' becomes '_' (so no ".", ".." or hidden directories);
 *   - bytes that are not part of well-formed UTF-8 become '_' (decoders
 *     validate, but a key must be valid UTF-8 for S3 whatever happens);
 *   - the result is cut to at most 128 bytes on a character boundary;
 *   - an empty name becomes "unknown".
 */
size_t layout_sanitize_service(const uint8_t *name, size_t name_len,
                               char out[LAYOUT_SERVICE_MAX + 1]);

/*
 * Appends the key of a new object to out (out is not reset; a NUL follows the
 * key but is not counted in out->len).
 *   dataset     "logs", "traces", "metrics/gauge", ... (anything else: O2P_EINVAL)
 *   service     raw ServiceName bytes (sanitized here)
 *   hour        hours since the Unix epoch, UTC (the rows' own hour)
 *   min_ts_us   smallest row timestamp in the file, microseconds
 *   uuid_hex    32 lowercase hex digits, or NULL for a fresh random v4 UUID
 * Returns 0, O2P_EINVAL (unknown dataset, bad uuid), O2P_ENOMEM/O2P_ELIMIT
 * from the buffer, or O2P_EIO when no randomness is available.
 */
int layout_object_key(o2p_buf *out, const char *dataset, const uint8_t *service, size_t service_len,
                      int64_t hour, int64_t min_ts_us, const char *uuid_hex, o2p_error *err);

#endif
