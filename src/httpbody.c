/* httpbody.c: libcurl handles, answers collected up to a bound, and the
 * transfer abort on a stop flag (see httpbody.h). */
#include <stdlib.h>
#include <string.h>

#include "httpbody.h"

/* CURLOPT_XFERINFOFUNCTION with CURLOPT_XFERINFODATA the stop flag: a
 * non-zero flag aborts the transfer. */
static int
httpbody_abort(void *flag, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return __atomic_load_n((const int *)flag, __ATOMIC_RELAXED);
}

CURL *
httpbody_easy(const char *protocols, long connect_ms, long total_ms,
    const int *stop, char *errbuf)
{
	CURL *c;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if ((c = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "flowmon/" FLOWMON_VERSION);
	if (protocols != NULL)
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	if (connect_ms > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	if (errbuf != NULL)
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (stop != NULL) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, httpbody_abort);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop);
	}
	return c;
}

void
httpbody_credentials(CURL *c, const char *userpwd, const char *bearer)
{
	if (userpwd != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	} else if (bearer != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, bearer);
	}
}

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a struct httpbody: appends
 * the data, or cuts the transfer (returns 0) past b->max or on ENOMEM. */
static size_t
httpbody_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct httpbody *b = arg;
	size_t n = size * nmemb;

	if (n > b->max - b->body.len) {
		b->too_big = 1;
		return 0;
	}
	return buf_add(&b->body, data, n) == 0 ? n : 0;
}

void
httpbody_collect(CURL *c, struct httpbody *b)
{
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, httpbody_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
}

CURLcode
httpbody_perform(CURL *c, struct httpbody *b, long *status)
{
	CURLcode cc;

	*status = 0;
	httpbody_collect(c, b);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	return cc;
}
