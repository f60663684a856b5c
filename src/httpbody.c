/* httpbody.c: a libcurl answer collected in memory up to a bound (see
 * httpbody.h), and the transfer abort on a stop flag. */
#include <stdlib.h>
#include <string.h>

#include "httpbody.h"

size_t
httpbody_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct httpbody *b = arg;
	size_t n = size * nmemb;
	char *np;

	if (n > b->max - b->len) {
		b->too_big = 1;
		return 0;
	}
	if ((np = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	memcpy(np + b->len, data, n);
	b->len += n;
	np[b->len] = '\0';
	b->p = np;
	return n;
}

int
httpbody_abort(void *flag, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return __atomic_load_n((int *)flag, __ATOMIC_RELAXED);
}
