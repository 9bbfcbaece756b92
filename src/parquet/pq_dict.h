/*
 * pq_dict: the dictionary of one column chunk — an open-addressing hash
 * table from value bytes to entry numbers, with the entries kept in insertion
 * order in their PLAIN form so the dictionary page body is `values` as is.
 * (The writer never dictionary-encodes BOOLEAN, whose PLAIN form packs bits.)
 *
 * Values compare as bytes: floats with different bit patterns (-0.0 and 0.0,
 * NaN payloads) are different entries, which keeps the round trip exact.
 * The table is reset, not freed, between chunks so a writer allocates only
 * while its largest dictionary grows.
 */
#ifndef O2P_PARQUET_DICT_H
#define O2P_PARQUET_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct pq_dict_slot {
    uint32_t hash;
    uint32_t entry; /* entry number + 1; 0 = empty slot */
} pq_dict_slot;

typedef struct pq_dict {
    size_t width;    /* value bytes of fixed-width types; 0 = BYTE_ARRAY */
    o2p_buf values;  /* entries in PLAIN form (BYTE_ARRAY: u32 length + bytes) */
    size_t *offsets; /* BYTE_ARRAY: where each entry starts in values */
    size_t offsets_cap;
    uint32_t *succ; /* BYTE_ARRAY: per entry, the entry that followed it last
                       (UINT32_MAX: none yet); a predicted hit needs no hash */
    size_t count;   /* entries */
    pq_dict_slot *slots;
    size_t slot_mask;  /* number of slots - 1 (a power of two minus one) */
    uint32_t *slot_of; /* per entry, its slot: a reset after a small chunk
                          clears those slots instead of the whole table,
                          which the largest chunk so far has sized */
    size_t slot_of_cap;
} pq_dict;

/* width: 0 for BYTE_ARRAY, else the byte size of one value. */
void pq_dict_init(pq_dict *d, size_t width);
/* Empties the dictionary and sets a new value width; keeps the memory. */
void pq_dict_reset(pq_dict *d, size_t width);
void pq_dict_free(pq_dict *d);

/* Finds value (len bytes; len must equal width for fixed-width types),
 * adding it when new; stores its entry number in *entry.  O2P_OK or O2P_ENOMEM. */
int pq_dict_insert(pq_dict *d, const void *value, size_t len, uint32_t *entry);

/*
 * Dictionary-encodes count PLAIN values (as stored in a pq_column) from
 * plain, writing one entry number per value to entries.  Stops with
 * O2P_ELIMIT as soon as the dictionary's PLAIN size (values.len) exceeds
 * byte_limit; the dictionary is then incomplete and only fit for reset.
 */
int pq_dict_encode(pq_dict *d, const uint8_t *plain, size_t count, uint32_t *entries,
                   size_t byte_limit);

/* The PLAIN bytes of entry i (BYTE_ARRAY: without the length prefix). */
const uint8_t *pq_dict_entry(const pq_dict *d, uint32_t i, size_t *len);

#endif
