/* fuzz_form.c: request_decode_form, the decoder of query strings and
 * application/x-www-form-urlencoded bodies. Oracle: what it accepts holds
 * no NUL and re-encodes to a body that decodes to the same parameters. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Percent-encodes every byte but [A-Za-z0-9._~-] into b (large enough). */
static size_t
encode(char *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-') {
			b[n++] = (char)c;
		} else {
			b[n++] = '%';
			b[n++] = hex[c >> 4];
			b[n++] = hex[c & 15];
		}
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvlist kv = { 0 }, again = { 0 };
	char err[ERR_MAX], *body;
	size_t i, n = 0;

	if (request_decode_form((const char *)data, size, &kv, err) == -1) {
		if (err[0] == '\0')
			fuzz_fail("request_decode_form", "-1 without a message");
		kvlist_release(&kv);
		return 0;
	}
	/* Each decoded byte takes at most 3, plus '=' and '&'. */
	if ((body = malloc(3 * size + 2 * kv.n + 1)) == NULL)
		fuzz_fail("malloc", "out of memory");
	for (i = 0; i < kv.n; i++) {
		if (kv.v[i].key == NULL || kv.v[i].value == NULL)
			fuzz_fail("request_decode_form", "NULL key or value");
		if (i > 0)
			body[n++] = '&';
		n += encode(body + n, kv.v[i].key);
		body[n++] = '=';
		n += encode(body + n, kv.v[i].value);
	}
	if (request_decode_form(body, n, &again, err) == -1)
		fuzz_fail("decoding a re-encoded body", err);
	/* An empty key with an empty value re-encodes as "=", which decodes
	 * to the same pair: the lists must match exactly. */
	if (!kvlist_equal(&kv, &again))
		fuzz_fail("re-encoded body decodes differently", body);
	free(body);
	kvlist_release(&again);
	kvlist_release(&kv);
	return 0;
}
