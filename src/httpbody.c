/* httpbody.c: a libcurl answer collected in memory up to a bound (see
 * httpbody.h), the transfer abort on a stop flag, and the bounded GET the
 * swarm-listener reconcile and the Prometheus API client share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpbody.h"
#include "log.h"

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

int
httpbody_get(const char *url, size_t max, long connect_ms, long total_ms,
    int *stop, struct httpbody *b, long *status, char err[ERR_MAX])
{
	static int never;
	char shown[ERR_MAX / 2], why[128];
	CURLcode cc;
	CURL *c;

	log_redact(url, shown, sizeof(shown));
	memset(b, 0, sizeof(*b));
	b->max = max;
	*status = 0;
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, ERR_MAX, "GET %s: cannot create a curl handle",
		    shown);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "flowmon/" FLOWMON_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, httpbody_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, httpbody_abort);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop != NULL ? stop :
	    &never);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		if (b->too_big)
			snprintf(err, ERR_MAX, "GET %s: answer larger than %zu "
			    "MiB", shown, max >> 20);
		else {
			/* curl's reason, lower case like flowmon's own. */
			snprintf(why, sizeof(why), "%s",
			    curl_easy_strerror(cc));
			if (why[0] >= 'A' && why[0] <= 'Z')
				why[0] = (char)(why[0] - 'A' + 'a');
			snprintf(err, ERR_MAX, "GET %s: %s", shown, why);
		}
		goto fail;
	}
	if (b->p == NULL && (b->p = strdup("")) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	return 0;
fail:
	free(b->p);
	b->p = NULL;
	b->len = 0;
	return -1;
}
