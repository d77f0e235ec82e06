/*
 * digest.c - SHA-256 through libcrypto's EVP interface, fed chunk by chunk, so
 * an archive is hashed in the same pass that writes it.
 */
#include "storage/digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct Sha256
{
	EVP_MD_CTX *ctx;
};

Sha256 *
sha256_new(void)
{
	Sha256 *h = malloc(sizeof(*h));

	if (h == NULL || (h->ctx = EVP_MD_CTX_new()) == NULL ||
		EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
	{
		fprintf(stderr, "pgpart: error: could not initialise SHA-256\n");
		exit(1);
	}
	return h;
}

void
sha256_update(Sha256 *h, const void *data, size_t n)
{
	if (n > 0)
		EVP_DigestUpdate(h->ctx, data, n);
}

void
sha256_finish(Sha256 *h, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	for (i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
sha256_hex(const void *data, size_t n, char hex[65])
{
	Sha256 *h = sha256_new();

	sha256_update(h, data, n);
	sha256_finish(h, hex);
}
