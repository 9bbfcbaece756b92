/*
 * uuid: random version-4 UUIDs, spelled as 32 lowercase hex digits without
 * dashes (the form used in object names, spec §4).  The randomness comes from
 * the kernel (getrandom), so names never collide across processes or restarts.
 */
#ifndef O2P_CORE_UUID_H
#define O2P_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_HEX_LEN 32

/* Fills out[16] with kernel randomness.  Returns 0, or O2P_EIO when the
 * kernel refuses (no entropy source at all). */
int uuid_random_bytes(uint8_t *out, size_t len);

/* Writes a random v4 UUID as 32 lowercase hex digits plus a NUL into out.
 * Returns 0 or O2P_EIO (see uuid_random_bytes). */
int uuid_v4_hex(char out[UUID_HEX_LEN + 1]);

#endif
