/*
 * s3_xml: the little XML reading the S3 backend needs — the text of the
 * first <Tag>...</Tag> in a response (UploadId, Code, Message).  S3 replies
 * are flat and machine-written; a full parser would buy nothing here.
 */
#ifndef O2P_STORAGE_S3_XML_H
#define O2P_STORAGE_S3_XML_H

#include <stddef.h>

#include "core/buf.h"

/* Copies the text of the first <tag> element into out (cap bytes including
 * the NUL), decoding the five predefined entities and numeric references
 * below 128; longer text is cut.  Returns 1 when found, 0 when not (out is
 * then ""). */
int s3_xml_value(const char *xml, size_t len, const char *tag, char *out, size_t cap);

/* Appends text with & < > escaped (for ETags in CompleteMultipartUpload). */
int s3_xml_append_escaped(o2p_buf *b, const char *text);

#endif
