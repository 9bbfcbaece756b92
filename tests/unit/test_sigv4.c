/*
 * Unit tests for src/storage/sigv4 against the examples AWS publishes:
 * the four S3 examples of "Signature Calculations for the Authorization
 * Header: Transferring Payload in a Single Chunk" (AmazonS3/latest/API/
 * sig-v4-header-based-auth), the signing-key derivation of the general SigV4
 * documentation, and the get-vanilla-query-order-key-case case of the SigV4
 * test suite.  Plus S3 path encoding of the keys our layout produces.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "storage/sigv4.h"
#include "unit.h"

#define S3_DOC_AKID   "AKIAIOSFODNN7EXAMPLE"
#define S3_DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const sigv4_signer s3_doc_signer = {S3_DOC_AKID, S3_DOC_SECRET, "us-east-1", "s3",
                                           "20130524T000000Z"};

static void hex_of(const uint8_t *bytes, size_t len, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = d[bytes[i] >> 4];
        out[2 * i + 1] = d[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static const char *buf_cstr(o2p_buf *b)
{
    CHECK_OK(buf_push_byte(b, 0));
    b->len--;
    return (const char *)b->data;
}

TEST(sigv4_sha256_of_empty_and_text)
{
    char hex[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex("", 0, hex);
    CHECK_STR(hex, EMPTY_SHA256);
    /* The payload hash of the S3 PUT example ("Welcome to Amazon S3."). */
    sigv4_sha256_hex("Welcome to Amazon S3.", 21, hex);
    CHECK_STR(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(sigv4_s3_get_object_example)
{
    const sigv4_header headers[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
    };
    sigv4_request req = {"GET", "/test.txt", "", headers, 4, EMPTY_SHA256};
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(sigv4_canonical_request(&b, &req));
    CHECK_STR(buf_cstr(&b), "GET\n/test.txt\n\n"
                            "host:examplebucket.s3.amazonaws.com\n"
                            "range:bytes=0-9\n"
                            "x-amz-content-sha256:" EMPTY_SHA256 "\n"
                            "x-amz-date:20130524T000000Z\n\n"
                            "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256);
    o2p_buf sts;
    buf_init(&sts, 0);
    CHECK_OK(sigv4_string_to_sign(&sts, &s3_doc_signer, (const char *)b.data, b.len));
    CHECK_STR(buf_cstr(&sts), "AWS4-HMAC-SHA256\n20130524T000000Z\n"
                              "20130524/us-east-1/s3/aws4_request\n"
                              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    buf_reset(&b);
    char sig[SIGV4_HEX_LEN + 1];
    CHECK_OK(sigv4_authorization(&b, &req, &s3_doc_signer, sig));
    CHECK_STR(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK_STR(buf_cstr(&b),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    buf_free(&b);
    buf_free(&sts);
}

TEST(sigv4_s3_put_object_example)
{
    /* PUT /test$file.text: the '$' must be encoded in the canonical URI. */
    o2p_buf uri;
    buf_init(&uri, 0);
    CHECK_OK(sigv4_encode_path(&uri, "test$file.text"));
    CHECK_STR(buf_cstr(&uri), "/test%24file.text");
    char payload[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex("Welcome to Amazon S3.", 21, payload);
    /* Headers deliberately out of order: signing sorts them. */
    const sigv4_header headers[] = {
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-content-sha256", payload},
    };
    sigv4_request req = {"PUT", (const char *)uri.data, "", headers, 5, payload};
    o2p_buf b;
    buf_init(&b, 0);
    char sig[SIGV4_HEX_LEN + 1];
    CHECK_OK(sigv4_authorization(&b, &req, &s3_doc_signer, sig));
    CHECK_STR(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    CHECK(strstr(buf_cstr(&b),
                 "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,") !=
          NULL);
    buf_free(&b);
    buf_free(&uri);
}

TEST(sigv4_s3_get_lifecycle_example)
{
    const sigv4_param params[] = {{"lifecycle", ""}};
    o2p_buf q;
    buf_init(&q, 0);
    CHECK_OK(sigv4_canonical_query(&q, params, 1));
    CHECK_STR(buf_cstr(&q), "lifecycle=");
    const sigv4_header headers[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
    };
    sigv4_request req = {"GET", "/", (const char *)q.data, headers, 3, EMPTY_SHA256};
    o2p_buf b;
    buf_init(&b, 0);
    char sig[SIGV4_HEX_LEN + 1];
    CHECK_OK(sigv4_authorization(&b, &req, &s3_doc_signer, sig));
    CHECK_STR(sig, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    buf_free(&b);
    buf_free(&q);
}

TEST(sigv4_s3_list_objects_example)
{
    /* Given out of order: the canonical query sorts by name. */
    const sigv4_param params[] = {{"prefix", "J"}, {"max-keys", "2"}};
    o2p_buf q;
    buf_init(&q, 0);
    CHECK_OK(sigv4_canonical_query(&q, params, 2));
    CHECK_STR(buf_cstr(&q), "max-keys=2&prefix=J");
    const sigv4_header headers[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
    };
    sigv4_request req = {"GET", "/", (const char *)q.data, headers, 3, EMPTY_SHA256};
    o2p_buf b;
    buf_init(&b, 0);
    char sig[SIGV4_HEX_LEN + 1];
    CHECK_OK(sigv4_authorization(&b, &req, &s3_doc_signer, sig));
    CHECK_STR(sig, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    buf_free(&b);
    buf_free(&q);
}

TEST(sigv4_signing_key_derivation_example)
{
    /* The general SigV4 documentation's example (IAM, 2015-08-30). */
    uint8_t key[32];
    char hex[65];
    CHECK_OK(sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                               "iam", key));
    hex_of(key, 32, hex);
    CHECK_STR(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    /* The same example's string to sign, signed with that key, gives the
     * published signature. */
    const char *sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
    uint8_t mac[32];
    unsigned int mac_len = 32;
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)sts, strlen(sts), mac, &mac_len);
    hex_of(mac, 32, hex);
    CHECK_STR(hex, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    char big[SIGV4_SECRET_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(sigv4_signing_key(big, "20150830", "us-east-1", "iam", key), O2P_EINVAL);
}

TEST(sigv4_test_suite_get_vanilla_query_order_key_case)
{
    /* aws-sig-v4-test-suite: GET /?Param2=value2&Param1=value1, service
     * "service", only host and x-amz-date signed. */
    const sigv4_param params[] = {{"Param2", "value2"}, {"Param1", "value1"}};
    o2p_buf q;
    buf_init(&q, 0);
    CHECK_OK(sigv4_canonical_query(&q, params, 2));
    CHECK_STR(buf_cstr(&q), "Param1=value1&Param2=value2");
    const sigv4_header headers[] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Date", "20150830T123600Z"},
    };
    sigv4_request req = {"GET", "/", (const char *)q.data, headers, 2, EMPTY_SHA256};
    sigv4_signer signer = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
                           "service", "20150830T123600Z"};
    o2p_buf b;
    buf_init(&b, 0);
    char sig[SIGV4_HEX_LEN + 1];
    CHECK_OK(sigv4_authorization(&b, &req, &signer, sig));
    CHECK_STR(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    buf_free(&b);
    buf_free(&q);
}
