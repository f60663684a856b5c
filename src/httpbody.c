/* httpbody.c: a libcurl answer collected in memory up to a bound (see
 * httpbody.h). */
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
