/* digest.h - SHA-256 (OpenSSL's libcrypto), incremental, as lowercase hex */
#ifndef PGPART_STORAGE_DIGEST_H
#define PGPART_STORAGE_DIGEST_H

#include <stddef.h>

typedef struct Sha256 Sha256;

Sha256 *sha256_new(void);
void sha256_update(Sha256 *h, const void *data, size_t n);
/* writes 64 hex digits and a NUL into hex, frees h */
void sha256_finish(Sha256 *h, char hex[65]);
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
