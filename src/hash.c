/* hash.c: FNV-1a (see hash.h). */
#include "hash.h"

uint64_t
hash_bytes(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
hash_content(const void *buf, size_t len)
{
	return hash_bytes(HASH_INIT, buf, len) ^
	    ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
}
