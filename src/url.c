/* url.c: URLs parsed by libcurl's URL API and shown redacted from that
 * parse (url.h).
 *
 * Why redaction works from a parse. A password is base64 often enough to
 * hold '/', '?', '#' or '@', and a token may be the whole user name. Text
 * heuristics (the last '@' before the first '/') get those wrong; libcurl
 * is what flowmon hands the URL to, so its reading of the URL is the one
 * that says which bytes are the user name and password. A URL libcurl
 * reads with an '@' after the host is refused: it means a '/', '?' or '#'
 * in a password ended the authority early, and the rest of the password
 * would be taken for a path (and shown). A string that is no URL at all
 * cannot be parsed, so it is never shown as given when it holds an '@'. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "url.h"

const char *const URL_HTTP[] = { "http", "https", NULL };

#define URL_SCHEME_MAX	32

static int
url_scheme_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* The scheme of raw (before "://"), lower case, into scheme; its length,
 * or 0 when raw does not start with one. */
static size_t
url_scheme(const char *raw, char scheme[URL_SCHEME_MAX])
{
	size_t n;

	for (n = 0; url_scheme_char(raw[n]); n++)
		if (n + 1 >= URL_SCHEME_MAX)
			return 0;
	if (n == 0 || !isalpha((unsigned char)raw[0]) ||
	    strncmp(raw + n, "://", 3) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)tolower((unsigned char)raw[i]);
	scheme[n] = '\0';
	return n;
}

/* Why libcurl refused a URL, as a phrase after the URL. */
static const char *
url_curl_why(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_BAD_PORT_NUMBER:
		return "is not a URL: its port is not a number from 0 to "
		    "65535 (a '/', '?' or '#' in a password must be "
		    "percent-encoded: %2F, %3F, %23)";
	case CURLUE_BAD_HOSTNAME:
		return "is not a URL: its host name is not one (an '@' in a "
		    "user name or password must be percent-encoded: %40)";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "is not a URL: its user name or password is not one";
	case CURLUE_NO_HOST:
		return "has no host";
	default:
		return "is not a URL (scheme://host[:port][/path])";
	}
}

/* A part of h, malloc'd; NULL when absent (or on ENOMEM: then *oom). */
static char *
url_part(CURLU *h, CURLUPart what, int *oom)
{
	char *v = NULL, *copy;

	if (curl_url_get(h, what, &v, 0) != CURLUE_OK || v == NULL)
		return NULL;
	if ((copy = strdup(v)) == NULL)
		*oom = 1;
	curl_free(v);
	return copy;
}

/* u->shown: raw as typed, shown as url_redact() shows it. */
static int
url_show(struct url *u, const char *raw)
{
	struct buf b = BUF_INIT;

	url_redact_buf(&b, raw, strlen(raw));
	u->shown = buf_detach(&b, NULL);
	return u->shown != NULL ? 0 : -1;
}

/* unix:///path/to.sock: the path, read as libcurl reads a file URL. */
static int
url_parse_unix(struct url *u, const char *raw, const char **why)
{
	char *file = NULL;
	CURLU *h;
	CURLUcode rc;
	int oom = 0;

	*why = "is not unix:///path/to.sock";
	if (strncmp(raw + 7, "/", 1) != 0 || raw[8] == '\0' ||
	    strpbrk(raw, "?#@") != NULL)
		return -1;
	if (asprintf(&file, "file://%s", raw + 7) < 0 ||
	    (h = curl_url()) == NULL) {
		free(file);
		*why = "cannot be parsed: out of memory";
		return -1;
	}
	rc = curl_url_set(h, CURLUPART_URL, file, 0);
	free(file);
	if (rc != CURLUE_OK) {
		*why = url_curl_why(rc);
		curl_url_cleanup(h);
		return -1;
	}
	u->path = url_part(h, CURLUPART_PATH, &oom);
	curl_url_cleanup(h);
	if (u->path == NULL || oom || (u->scheme = strdup("unix")) == NULL ||
	    asprintf(&u->text, "unix://%s", u->path) < 0 ||
	    (u->shown = strdup(u->text)) == NULL) {
		*why = "cannot be parsed: out of memory";
		return -1;
	}
	return 0;
}

/* raw as a URL of any scheme into u (zeroed by the caller); -1 with why
 * (a phrase for a message: static, or libcurl's). */
static int
url_parse_any(struct url *u, const char *raw, const char **why)
{
	char scheme[URL_SCHEME_MAX];
	const char *p, *at;
	size_t n;
	CURLU *h;
	CURLUcode rc;
	int oom = 0;

	for (p = raw; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "holds a space or a control character";
			return -1;
		}
	}
	if ((n = url_scheme(raw, scheme)) == 0) {
		*why = "is not a URL (scheme://host[:port][/path])";
		return -1;
	}
	if (strcmp(scheme, "unix") == 0)
		return url_parse_unix(u, raw, why);
	/* libcurl takes http:///x for http://x/; a host is required. */
	p = raw + n + 3;
	at = p + strcspn(p, "/?#");
	if (p == at || at[-1] == '@') {
		*why = "has no host";
		return -1;
	}
	if ((h = curl_url()) == NULL) {
		*why = "cannot be parsed: out of memory";
		return -1;
	}
	if ((rc = curl_url_set(h, CURLUPART_URL, raw,
	    CURLU_NON_SUPPORT_SCHEME)) != CURLUE_OK) {
		*why = url_curl_why(rc);
		curl_url_cleanup(h);
		return -1;
	}
	u->scheme = url_part(h, CURLUPART_SCHEME, &oom);
	u->user = url_part(h, CURLUPART_USER, &oom);
	u->password = url_part(h, CURLUPART_PASSWORD, &oom);
	u->host = url_part(h, CURLUPART_HOST, &oom);
	u->port = url_part(h, CURLUPART_PORT, &oom);
	u->path = url_part(h, CURLUPART_PATH, &oom);
	u->query = url_part(h, CURLUPART_QUERY, &oom);
	u->fragment = url_part(h, CURLUPART_FRAGMENT, &oom);
	u->text = url_part(h, CURLUPART_URL, &oom);
	curl_url_cleanup(h);
	if (oom || u->scheme == NULL || u->text == NULL ||
	    url_show(u, raw) == -1) {
		*why = "cannot be parsed: out of memory";
		return -1;
	}
	if (u->host == NULL || u->host[0] == '\0') {
		*why = "has no host";
		return -1;
	}
	if ((u->path != NULL && strchr(u->path, '@') != NULL) ||
	    (u->query != NULL && strchr(u->query, '@') != NULL) ||
	    (u->fragment != NULL && strchr(u->fragment, '@') != NULL)) {
		*why = "has an '@' after its host: a user name or password "
		    "must percent-encode '/', '?', '#' and '@' (%2F, %3F, "
		    "%23, %40)";
		return -1;
	}
	return 0;
}

void
url_release(struct url *u)
{
	if (u == NULL)
		return;
	free(u->scheme);
	free(u->user);
	if (u->password != NULL)
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	free(u->host);
	free(u->port);
	free(u->path);
	free(u->query);
	free(u->fragment);
	if (u->text != NULL)
		memset(u->text, 0, strlen(u->text));
	free(u->text);
	free(u->shown);
	memset(u, 0, sizeof(*u));
}

int
url_parse(struct url *u, const char *raw, const char *const *schemes,
    const char *what, char err[ERR_MAX])
{
	char shown[ERR_MAX / 2], list[128];
	const char *why;
	size_t i;

	memset(u, 0, sizeof(*u));
	if (raw == NULL)
		raw = "";
	if (url_parse_any(u, raw, &why) == 0) {
		for (i = 0; schemes != NULL && schemes[i] != NULL; i++)
			if (strcmp(schemes[i], u->scheme) == 0)
				return 0;
		if (schemes == NULL)
			return 0;
		list[0] = '\0';
		for (i = 0; schemes[i] != NULL; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s%s://", i == 0 ? "" :
			    schemes[i + 1] == NULL ? " or " : ", ", schemes[i]);
		snprintf(err, ERR_MAX, "%s \"%s\" must start with %s", what,
		    u->shown, list);
		url_release(u);
		return -1;
	}
	/* Refused: what libcurl made of it may be wrong about where a
	 * password ends; the text's reading hides more rather than less. */
	url_redact(raw, shown, sizeof(shown));
	url_release(u);
	snprintf(err, ERR_MAX, "%s \"%s\" %s", what, shown, why);
	return -1;
}

void
url_list_free(struct url *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		url_release(&v[i]);
	free(v);
}

int
url_parse_list(const char *raw, const char *const *schemes, const char *what,
    struct url **vp, size_t *np, char err[ERR_MAX])
{
	char shown[ERR_MAX / 2], *item;
	const char *p, *end;
	struct url *v = NULL;
	size_t n = 0, cap = 1, len;

	*vp = NULL;
	*np = 0;
	for (p = raw; *p; p++)
		cap += *p == ',';
	if ((v = calloc(cap, sizeof(*v))) == NULL) {
		snprintf(err, ERR_MAX, "%s: out of memory", what);
		return -1;
	}
	for (p = raw; ; p = end + 1) {
		end = p + strcspn(p, ",");
		/* "a, b" is how people write lists in an environment file. */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(err, ERR_MAX, "%s \"%s\" has an empty entry",
			    what, url_redact_list(raw, shown, sizeof(shown)));
			goto fail;
		}
		if ((item = strndup(p, len)) == NULL) {
			snprintf(err, ERR_MAX, "%s: out of memory", what);
			goto fail;
		}
		if (url_parse(&v[n], item, schemes, what, err) == -1) {
			free(item);
			goto fail;
		}
		free(item);
		n++;
		if (*end == '\0')
			break;
	}
	*vp = v;
	*np = n;
	return 0;
fail:
	url_list_free(v, n);
	return -1;
}

/* Appends s (n bytes) to out (size) at *o, keeping room for the NUL. */
static void
url_put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	if (*o + 1 >= size)
		return;
	if (n > size - 1 - *o)
		n = size - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

char *
url_redact_list(const char *raw, char *out, size_t size)
{
	char one[ERR_MAX], *item;
	const char *p, *end;
	size_t o = 0;

	if (size == 0)
		return out;
	out[0] = '\0';
	for (p = raw; ; p = end + 1) {
		const char *q, *e;

		end = p + strcspn(p, ",");
		/* Blanks around an item stay as they were. */
		for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		for (e = end; e > q && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if ((item = strndup(q, (size_t)(e - q))) == NULL) {
			snprintf(out, size, "(a list of URLs)");
			return out;
		}
		url_redact(item, one, sizeof(one));
		free(item);
		url_put(out, size, &o, p, (size_t)(q - p));
		url_put(out, size, &o, one, strlen(one));
		url_put(out, size, &o, e, (size_t)(end - e));
		if (*end == '\0')
			break;
		url_put(out, size, &o, ",", 1);
	}
	return out;
}


/*
 * Redaction of free text. A text may hold any number of URLs, next to one
 * another ("a=http://u:p@h/x,b=https://TOKEN@h2/") or in words of prose.
 * Each URL runs from its scheme to the next URL's scheme or the end of
 * its word; only its user name and password are replaced, every other
 * byte is kept.
 *
 * Where the user name and password end. The authority (up to the first
 * '/', '?' or '#' after "://") holding an '@': they end at its last '@'.
 * Else an '@' later in the URL is read as part of its path, query or
 * fragment (https://medium.com/@team, https://wiki/x?owner=a@b) unless
 * the authority holds a ':': "http://admin:12/s3cr/t@prom/" is a password
 * with an unescaped '/' as often as a port and a path with an '@', and
 * nothing tells them apart, so everything up to the URL's last '@' is
 * hidden. The user name stays before a hidden password when the
 * authority has exactly one '@'; a user name alone (it may be a token),
 * and anything less clear, is hidden whole.
 */

/* 1 when c may end a word of free text that holds a URL. */
static int
url_word_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '"' || c == '\'' || c == '<' || c == '>';
}

/* The last c in [s, e), or NULL. */
static const char *
url_last(const char *s, const char *e, char c)
{
	while (e > s)
		if (*--e == c)
			return e;
	return NULL;
}

/* Where the URL starting at s (its scheme) begins, given the "://" at
 * sep: the first letter of the scheme characters before sep, or NULL when
 * there is none (then no URL starts there). */
static const char *
url_start(const char *word, const char *sep)
{
	const char *s = sep;

	while (s > word && url_scheme_char(s[-1]))
		s--;
	while (s < sep && !isalpha((unsigned char)*s))
		s++;
	return s < sep ? s : NULL;
}

/* Appends the URL [s, e) (its "://" at sep) to b, its userinfo hidden. */
static void
url_redact_one(struct buf *b, const char *s, const char *sep, const char *e)
{
	const char *auth = sep + 3, *aend = auth, *at, *colon;
	size_t ats = 0;

	while (aend < e && *aend != '/' && *aend != '?' && *aend != '#')
		ats += *aend++ == '@';
	if ((at = url_last(auth, aend, '@')) == NULL &&
	    memchr(auth, ':', (size_t)(aend - auth)) != NULL)
		at = url_last(aend, e, '@');
	if (at == NULL) {
		buf_add(b, s, (size_t)(e - s));
		return;
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (ats == 1 && colon != NULL && colon > auth)
		buf_add(b, s, (size_t)(colon - s));	/* the user name */
	else
		buf_add(b, s, (size_t)(auth - s));
	buf_adds(b, colon != NULL && ats == 1 && colon > auth ? ":***" : "***");
	buf_add(b, at, (size_t)(e - at));
}

/* Appends the word [w, e) (no separator in it) to b, redacted. */
static void
url_redact_word(struct buf *b, const char *w, const char *e)
{
	const char *s, *start = NULL, *sep = NULL, *next;

	for (s = w; s + 3 <= e; s++) {
		if (memcmp(s, "://", 3) != 0 || (next = url_start(w, s)) == NULL)
			continue;
		/* Up to here: before the first URL, or the URL before. */
		if (start == NULL)
			buf_add(b, w, (size_t)(next - w));
		else
			url_redact_one(b, start, sep, next);
		start = next;
		sep = s;
		s += 2;
	}
	if (start == NULL)
		buf_add(b, w, (size_t)(e - w));
	else
		url_redact_one(b, start, sep, e);
}

int
url_text_may_hide(const char *text, size_t n)
{
	return memmem(text, n, "://", 3) != NULL;
}

int
url_redact_buf(struct buf *b, const char *text, size_t n)
{
	const char *p = text, *end = text + n, *w;

	if (!url_text_may_hide(text, n))
		return buf_add(b, text, n);

	while (p < end) {
		for (w = p; w < end && url_word_end(*w); w++)
			;
		buf_add(b, p, (size_t)(w - p));		/* separators */
		for (p = w; p < end && !url_word_end(*p); p++)
			;
		if (!url_text_may_hide(w, (size_t)(p - w)))
			buf_add(b, w, (size_t)(p - w));
		else
			url_redact_word(b, w, p);
	}
	return buf_add(b, "", 0);
}

char *
url_redact_dup(const char *text)
{
	struct buf b = BUF_INIT;

	if (url_redact_buf(&b, text, strlen(text)) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

char *
url_redact_text(const char *text, char *out, size_t size)
{
	struct buf b = BUF_INIT;

	if (size == 0)
		return out;
	if (url_redact_buf(&b, text, strlen(text)) == -1)
		snprintf(out, size, "(text hidden: out of memory)");
	else
		snprintf(out, size, "%s", b.p);
	buf_release(&b);
	return out;
}

char *
url_redact(const char *raw, char *out, size_t size)
{
	struct buf b = BUF_INIT;
	const char *at;

	if (size == 0)
		return out;
	/* One URL, not text: a blank or a quote in it is no end of it (a
	 * password may hold one). Without its scheme (host:port,
	 * user:pw@host), whatever precedes an '@' goes. */
	if (!url_text_may_hide(raw, strlen(raw))) {
		if ((at = strrchr(raw, '@')) != NULL)
			snprintf(out, size, "***%s", at);
		else
			snprintf(out, size, "%s", raw);
		return out;
	}
	url_redact_word(&b, raw, raw + strlen(raw));
	if (buf_add(&b, "", 0) == -1)
		snprintf(out, size, "(a URL)");
	else
		snprintf(out, size, "%s", b.p);
	buf_release(&b);
	return out;
}

/*
 * Joining a base URL and a path.
 */

/* n bytes of s, less its trailing '/'s: the new length. */
static size_t
url_trim_slashes(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

char *
url_join(const char *base, const char *drop, const char *path,
    char err[ERR_MAX])
{
	const char *q = strchr(path, '?');
	char *bpath = NULL, *npath = NULL, *query = NULL, *full = NULL;
	char *out = NULL, shown[ERR_MAX / 2];
	size_t n, dn = drop != NULL ? strlen(drop) : 0;
	CURLU *u;

	if ((u = curl_url()) == NULL)
		goto nomem;
	if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK) {
		snprintf(err, ERR_MAX, "\"%s\" is not a URL", url_redact(base,
		    shown, sizeof(shown)));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &bpath, 0) != CURLUE_OK)
		goto nomem;
	n = url_trim_slashes(bpath, strlen(bpath));
	if (dn > 0 && n >= dn && memcmp(bpath + n - dn, drop, dn) == 0)
		n = url_trim_slashes(bpath, n - dn);
	if (asprintf(&npath, "%.*s%.*s", (int)n, bpath, (int)(q != NULL ?
	    (size_t)(q - path) : strlen(path)), path) < 0) {
		npath = NULL;
		goto nomem;
	}
	if (q != NULL && (query = strdup(q + 1)) == NULL)
		goto nomem;
	if (curl_url_set(u, CURLUPART_PATH, npath[0] != '\0' ? npath : "/",
	    0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, query, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
	    (out = strdup(full)) == NULL)
		goto nomem;
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
out:
	curl_free(bpath);
	if (full != NULL)
		explicit_bzero(full, strlen(full));
	curl_free(full);
	free(npath);
	free(query);
	curl_url_cleanup(u);
	return out;
}
