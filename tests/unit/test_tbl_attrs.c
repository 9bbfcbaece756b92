/* Unit tests for tbl_attrs: copied and referenced items side by side —
 * duplicate keys (last wins, in both duplicate detectors), lookups, a
 * text buffer that grows after references were taken, and sticky
 * failures. */
#include <stdio.h>

#include "table/tbl_attrs.h"
#include "unit.h"

static void check_find(const tbl_attrs *a, const char *key, const char *want)
{
    const uint8_t *val;
    size_t len;
    CHECK_MSG(tbl_attrs_find(a, key, strlen(key), &val, &len) == 1, "no key %s", key);
    CHECK_MEM(val, len, want, strlen(want));
}

TEST(tbl_attrs_copied_and_referenced_items)
{
    tbl_attrs a;
    tbl_attrs_init(&a, 0);
    char key[] = "ref.key", val[] = "ref.val";
    tbl_attrs_add_ref(&a, key, 7, val, 7);
    tbl_attrs_add(&a, "copied", 6, "c", 1);
    tbl_attrs_key_ref(&a, "built", 5); /* a referenced key, its value stringified into the text */
    CHECK_OK(buf_append(&a.text, "42", 2));
    tbl_attrs_value_end(&a);
    /* enough copied text to move the buffer: references stay where they are */
    char big[4096];
    memset(big, 'x', sizeof big);
    tbl_attrs_add(&a, "big", 3, big, sizeof big);
    tbl_attrs_add_ref(&a, "copied", 6, "last", 4);   /* a duplicate of a copied key */
    tbl_attrs_add(&a, "ref.key", 7, "copy wins", 9); /* a duplicate of a referenced key */
    tbl_attrs_finish(&a);
    CHECK_INT(a.failed, 0);
    CHECK_UINT(a.count, 6);
    CHECK_UINT(a.live, 4);
    check_find(&a, "ref.key", "copy wins");
    check_find(&a, "copied", "last");
    check_find(&a, "built", "42");
    CHECK(a.items[0].dropped && a.items[1].dropped && !a.items[4].dropped);
    CHECK(a.items[0].key_ref == (const uint8_t *)key && a.items[0].val_ref == (const uint8_t *)val);
    /* reset forgets the references */
    tbl_attrs_reset(&a);
    tbl_attrs_add(&a, "k", 1, "v", 1);
    tbl_attrs_finish(&a);
    CHECK(a.items[0].key_ref == NULL && a.items[0].val_ref == NULL);
    check_find(&a, "k", "v");
    tbl_attrs_free(&a);
}

TEST(tbl_attrs_hashed_duplicates_across_kinds)
{
    /* more than 16 items take the hash table */
    tbl_attrs a;
    tbl_attrs_init(&a, 0);
    static char keys[20][8];
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        tbl_attrs_add_ref(&a, keys[i], strlen(keys[i]), "ref", 3);
    }
    for (int i = 0; i < 20; i += 2) tbl_attrs_add(&a, keys[i], strlen(keys[i]), "copy", 4);
    tbl_attrs_finish(&a);
    CHECK_UINT(a.live, 20);
    for (int i = 0; i < 20; i++) check_find(&a, keys[i], i % 2 ? "ref" : "copy");
    tbl_attrs_free(&a);
}

TEST(tbl_attrs_ref_after_failure_stays_failed)
{
    tbl_attrs a;
    tbl_attrs_init(&a, 4); /* text limited to 4 bytes */
    tbl_attrs_add(&a, "long", 4, "value", 5);
    CHECK_INT(a.failed, O2P_ELIMIT);
    tbl_attrs_add_ref(&a, "k", 1, "v", 1); /* the first failure is kept */
    tbl_attrs_key_ref(&a, "k", 1);
    CHECK_INT(a.failed, O2P_ELIMIT);
    tbl_attrs_free(&a);
    /* references do not count against the text limit */
    tbl_attrs_init(&a, 4);
    tbl_attrs_add_ref(&a, "a long key", 10, "a long value", 12);
    tbl_attrs_finish(&a);
    CHECK_INT(a.failed, 0);
    check_find(&a, "a long key", "a long value");
    tbl_attrs_free(&a);
}
