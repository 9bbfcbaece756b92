/* uuid: random v4 UUIDs from getrandom (see uuid.h). */
#include "core/uuid.h"

#include <errno.h>
#include <sys/random.h>

#include "core/error.h"

int uuid_random_bytes(uint8_t *out, size_t len)
{
    size_t filled = 0;
    while (filled < len) {
        ssize_t got = getrandom(out + filled, len - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return O2P_EIO;
        }
        filled += (size_t)got;
    }
    return O2P_OK;
}

int uuid_v4_hex(char out[UUID_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t bytes[16];
    int rc = uuid_random_bytes(bytes, sizeof bytes);
    if (rc < 0) return rc;
    /* RFC 4122 §4.4: version 4 in the high nibble of byte 6, variant 10xx in
     * byte 8; the rest stays random. */
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[UUID_HEX_LEN] = '\0';
    return O2P_OK;
}
