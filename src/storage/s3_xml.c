/* s3_xml: first-element text extraction and escaping (see s3_xml.h). */
#include "storage/s3_xml.h"

#include <stdlib.h>
#include <string.h>

/* Finds needle in [hay, hay + len). */
static const char *xml_find(const char *hay, size_t len, const char *needle, size_t needle_len)
{
    if (needle_len == 0 || len < needle_len) return NULL;
    return memmem(hay, len, needle, needle_len);
}

/* Decodes the entity at s (just after '&'); returns the character and sets
 * *used to the bytes consumed after '&', or returns -1. */
static int xml_entity(const char *s, size_t avail, size_t *used)
{
    static const struct {
        const char *name;
        char value;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (avail >= n && memcmp(s, named[i].name, n) == 0) {
            *used = n;
            return (unsigned char)named[i].value;
        }
    }
    if (avail >= 3 && s[0] == '#') {
        const char *semi = memchr(s, ';', avail < 10 ? avail : 10);
        if (semi == NULL) return -1;
        char digits[10] = {0};
        memcpy(digits, s + 1, (size_t)(semi - s - 1));
        char *end;
        long v = digits[0] == 'x' ? strtol(digits + 1, &end, 16) : strtol(digits, &end, 10);
        if (*end != '\0' || v <= 0 || v >= 128) return -1;
        *used = (size_t)(semi - s) + 1;
        return (int)v;
    }
    return -1;
}

int s3_xml_value(const char *xml, size_t len, const char *tag, char *out, size_t cap)
{
    char open_tag[64], close_tag[64];
    out[0] = '\0';
    size_t tag_len = strlen(tag);
    if (tag_len + 3 > sizeof open_tag) return 0;
    memcpy(open_tag, "<", 1);
    memcpy(open_tag + 1, tag, tag_len);
    memcpy(open_tag + 1 + tag_len, ">", 2);
    memcpy(close_tag, "</", 2);
    memcpy(close_tag + 2, tag, tag_len);
    memcpy(close_tag + 2 + tag_len, ">", 2);
    const char *start = xml_find(xml, len, open_tag, tag_len + 2);
    if (start == NULL) return 0;
    start += tag_len + 2;
    size_t rest = len - (size_t)(start - xml);
    const char *stop = xml_find(start, rest, close_tag, tag_len + 3);
    if (stop == NULL) return 0;
    size_t o = 0;
    for (const char *p = start; p < stop && o + 1 < cap;) {
        size_t used = 0;
        int c = *p == '&' ? xml_entity(p + 1, (size_t)(stop - p - 1), &used) : -1;
        if (c >= 0) {
            out[o++] = (char)c;
            p += 1 + used;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 1;
}

int s3_xml_append_escaped(o2p_buf *b, const char *text)
{
    for (; *text; text++) {
        int rc;
        switch (*text) {
        case '&':
            rc = buf_append_str(b, "&amp;");
            break;
        case '<':
            rc = buf_append_str(b, "&lt;");
            break;
        case '>':
            rc = buf_append_str(b, "&gt;");
            break;
        default:
            rc = buf_push_byte(b, (uint8_t)*text);
            break;
        }
        if (rc < 0) return rc;
    }
    return 0;
}
