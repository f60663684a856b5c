/* reload_http.c: the HTTP reload back end: an empty POST to every configured
 * URL (Prometheus's /-/reload), with each answer sorted into a kind for the
 * reloader: loaded, refused (Prometheus cannot load the rules), retry or
 * give up. The status codes of Prometheus's answers stay in this file. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "log.h"
#include "reloader.h"

#define RELOAD_HTTP_CONNECT_MS	2000
/* Prometheus answers /-/reload only once the new rules are loaded, which
 * takes seconds on a large rule set. */
#define RELOAD_HTTP_TOTAL_MS	30000
#define RELOAD_HTTP_BODY_MAX	200

struct reload_http {
	char	**urls;
	size_t	  n;
	/* --reload-auth-file: one of them, wiped when freed. */
	char	 *userpwd;	/* user:password for basic auth */
	char	 *bearer;	/* a bearer token */
};

/* The head of an answer's body, enough to say why a reload was refused. */
struct reload_http_body {
	char	 buf[RELOAD_HTTP_BODY_MAX + 1];
	size_t	 len;
	int	 truncated;
};

static void
reload_http_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
reload_http_free(void *arg)
{
	struct reload_http *h = arg;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		free(h->urls[i]);
	free(h->urls);
	reload_http_wipe(h->userpwd);
	reload_http_wipe(h->bearer);
	free(h);
}

/* 0 if url (len bytes, not terminated) is an http(s) URL with a host. The
 * messages show it redacted (log_redact). */
static int
reload_http_check(const char *raw, size_t len, char err[ERR_MAX])
{
	char given[ERR_MAX / 2], url[ERR_MAX / 2];
	const char *why = NULL;
	size_t skip = 0, i;

	if (len >= 7 && strncasecmp(raw, "http://", 7) == 0)
		skip = 7;
	else if (len >= 8 && strncasecmp(raw, "https://", 8) == 0)
		skip = 8;
	else
		why = "does not start with http:// or https://";
	if (why == NULL && (skip == len || raw[skip] == '/'))
		why = "has no host";
	for (i = 0; why == NULL && i < len; i++)
		if ((unsigned char)raw[i] <= ' ' || raw[i] == 0x7f)
			why = "contains a space or control character";
	if (why == NULL)
		return 0;
	/* The message shows the URL as logs do: no password. */
	snprintf(given, sizeof(given), "%.*s", (int)len, raw);
	snprintf(err, ERR_MAX, "reload URL \"%s\" %s", log_redact(given, url,
	    sizeof(url)), why);
	return -1;
}

void *
reload_http_new(const char *urls, char err[ERR_MAX])
{
	struct reload_http *h = NULL;
	const char *p, *end, *comma;
	size_t cap, len;

	if (urls == NULL || urls[strspn(urls, " \t")] == '\0') {
		snprintf(err, ERR_MAX, "reload URL list is empty");
		goto fail;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, ERR_MAX, "cannot allocate the reload URL list");
		goto fail;
	}
	for (cap = 1, p = urls; *p; p++)
		cap += *p == ',';
	if ((h->urls = calloc(cap, sizeof(*h->urls))) == NULL) {
		snprintf(err, ERR_MAX, "cannot allocate the reload URL list");
		goto fail;
	}

	for (p = urls; ; p = comma + 1) {
		comma = strchr(p, ',');
		end = comma != NULL ? comma : p + strlen(p);
		/* "a, b" is how people write lists in an environment file. */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		len = (size_t)(end - p);
		if (len == 0) {
			char shown[ERR_MAX - 64];

			snprintf(err, ERR_MAX,
			    "reload URL list \"%s\" has an empty entry",
			    log_redact(urls, shown, sizeof(shown)));
			goto fail;
		}
		if (reload_http_check(p, len, err) == -1)
			goto fail;
		if ((h->urls[h->n] = strndup(p, len)) == NULL) {
			snprintf(err, ERR_MAX,
			    "cannot allocate the reload URL list");
			goto fail;
		}
		h->n++;
		if (comma == NULL)
			break;
	}
	return h;

fail:
	reload_http_free(h);
	return NULL;
}

static size_t
reload_http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reload_http_body *b = arg;
	size_t n = size * nmemb, room = RELOAD_HTTP_BODY_MAX - b->len;

	if (n > room) {
		b->truncated = 1;
		n = room;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	/* Swallow the rest: a short count would make curl fail the transfer
	 * and hide the status. */
	return size * nmemb;
}

/* The body as one trimmed line, cut at a UTF-8 character boundary so the
 * message can go into JSON as is. */
static const char *
reload_http_body_text(struct reload_http_body *b)
{
	size_t i, len = b->len, lead, need;
	char *s = b->buf;

	if (b->truncated && len > 0) {
		for (lead = len; lead > 0 &&
		    ((unsigned char)s[lead - 1] & 0xc0) == 0x80; lead--)
			;
		if (lead > 0 && (unsigned char)s[lead - 1] >= 0xc0) {
			need = (unsigned char)s[lead - 1] >= 0xf0 ? 4 :
			    (unsigned char)s[lead - 1] >= 0xe0 ? 3 : 2;
			if (len - (lead - 1) < need)
				len = lead - 1;
		}
	}
	s[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			s[i] = ' ';
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	while (*s == ' ')
		s++;
	return s;
}

/* curl's reason, lower case like every other flowmon message. */
static void
reload_http_reason(CURL *c, CURLcode cc, const char *cerr, char *out,
    size_t size)
{
	long oserr = 0;
	char buf[256];

	if (cc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK &&
	    oserr != 0)
		snprintf(out, size, "%s",
		    strerror_r((int)oserr, buf, sizeof(buf)));
	else if (cerr[0] != '\0')
		snprintf(out, size, "%s", cerr);
	else
		snprintf(out, size, "%s", curl_easy_strerror(cc));
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

/* One POST to raw: FM_OK on 2xx, FM_REFUSED on 500 (Prometheus failed to
 * load the configuration), FM_RETRY when retrying may help, FM_FATAL when
 * not. err shows the URL redacted: it becomes reload.lastError in the
 * API. */
static enum fm_err
reload_http_post(const struct reload_http *h, const char *raw,
    char err[ERR_MAX])
{
	struct reload_http_body body;
	char cerr[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 64];
	char url[ERR_MAX / 2];
	const char *text;
	CURLcode cc;
	CURL *c;
	long status = 0;

	log_redact(raw, url, sizeof(url));
	memset(&body, 0, sizeof(body));
	cerr[0] = '\0';
	/* A fresh handle per attempt: no connection kept to a Prometheus that
	 * may have restarted since, and no state shared between threads. */
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, ERR_MAX, "POST %s: cannot create a curl handle",
		    url);
		return FM_RETRY;
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)RELOAD_HTTP_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)RELOAD_HTTP_TOTAL_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reload_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
#ifdef FLOWMON_VERSION
	curl_easy_setopt(c, CURLOPT_USERAGENT, "flowmon/" FLOWMON_VERSION);
#endif
	if (h->userpwd != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, h->userpwd);
	} else if (h->bearer != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, h->bearer);
	}
	if ((cc = curl_easy_setopt(c, CURLOPT_URL, raw)) == CURLE_OK)
		cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		reload_http_reason(c, cc, cerr, why, sizeof(why));
	curl_easy_cleanup(c);

	if (cc != CURLE_OK) {
		snprintf(err, ERR_MAX, "POST %.200s: %.300s", url, why);
		/* Refused, reset, timed out, unresolved: Prometheus may be
		 * starting or moving; only a URL curl cannot use is final. */
		return cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL ? FM_FATAL : FM_RETRY;
	}
	if (status >= 200 && status <= 299)
		return FM_OK;
	text = reload_http_body_text(&body);
	snprintf(err, ERR_MAX, "POST %s answered %ld%s%s", url, status,
	    *text ? ": " : "", text);
	/* 500 is Prometheus's answer to a configuration it cannot load (a
	 * rule file it refuses): retried, and worth a diagnosis. Other 5xx
	 * (busy, a proxy in between) may pass. 4xx (403 without
	 * --web.enable-lifecycle, 404 for a wrong path) stays until someone
	 * changes the setup. */
	if (status == 500)
		return FM_REFUSED;
	if (status > 500 || status == 408 || status == 429)
		return FM_RETRY;
	return FM_FATAL;
}

/* Of two outcomes, the one most worth acting on: a refusal (a diagnosis
 * may fix it), then a retry, then a final failure. */
static enum fm_err
reload_http_worst(enum fm_err a, enum fm_err b)
{
	static const enum fm_err order[] = { FM_REFUSED, FM_RETRY, FM_FATAL };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return FM_OK;
}

/* Posts to every URL even after a failure, so the healthy replicas get
 * their reload; the result is the one most worth acting on. */
static enum fm_err
reload_http_reload(void *arg, char err[ERR_MAX])
{
	struct reload_http *h = arg;
	char one[ERR_MAX];
	size_t i, off = 0;
	enum fm_err rc = FM_OK, r;

	err[0] = '\0';
	for (i = 0; i < h->n; i++) {
		if ((r = reload_http_post(h, h->urls[i], one)) == FM_OK)
			continue;
		/* A retry heals the replica that failed for a reason that
		 * passes; the others are posted again, harmlessly. */
		rc = reload_http_worst(rc, r);
		if (off < ERR_MAX - 1)
			off += (size_t)snprintf(err + off, ERR_MAX - off,
			    "%s%s", off ? "; " : "", one);
	}
	return rc;
}

const struct reload_backend reload_http_backend = {
	.name = "http",
	.reload = reload_http_reload,
	.free = reload_http_free,
};

int
reload_http_set_auth(void *arg, const char *file, char err[ERR_MAX])
{
	struct reload_http *h = arg;
	char *buf = NULL, *line;
	size_t len, n;

	if (auth_read_file(file, "--reload-auth-file", 64 * 1024, &buf, &len,
	    err) == -1)
		return -1;
	/* The first line: user:password, or else a bearer token. */
	line = buf + strspn(buf, " \t\r\n");
	n = strcspn(line, "\r\n");
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, ERR_MAX, "--reload-auth-file %.300s: no "
		    "user:password or token in it", file);
		goto fail;
	}
	reload_http_wipe(h->userpwd);
	reload_http_wipe(h->bearer);
	h->userpwd = h->bearer = NULL;
	if (strchr(line, ':') != NULL) {
		if (line[0] == ':' || line[n - 1] == ':') {
			snprintf(err, ERR_MAX, "--reload-auth-file %.300s: "
			    "empty user or password in user:password", file);
			goto fail;
		}
		h->userpwd = strdup(line);
	} else {
		h->bearer = strdup(line);
	}
	if (h->userpwd == NULL && h->bearer == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	explicit_bzero(buf, len);
	free(buf);
	return 0;
fail:
	explicit_bzero(buf, len);
	free(buf);
	return -1;
}
