/* url.h: every URL flowmon is given (reload, swarm-listener, get-nodes,
 * Docker host, Prometheus's remote write and Alertmanager URLs...) is
 * parsed once, by libcurl's URL API (curl_url()), checked against the
 * schemes its place accepts, and shown redacted from that very parse:
 * whatever a user name or password holds, it never reaches a log line or
 * an answer. Pure: no IO. */
#ifndef FLOWMON_URL_H
#define FLOWMON_URL_H

#include <stddef.h>

#include "service.h"	/* ERR_MAX */

/* A parsed URL; every part malloc'd (url_release). Parts are as given
 * (%-encoding kept), the scheme in lower case. */
struct url {
	char	*scheme;
	char	*user;		/* NULL: none */
	char	*password;	/* NULL: none */
	char	*host;		/* NULL for unix: ([v6] in brackets) */
	char	*port;		/* NULL: none given */
	char	*path;		/* "/" at least; unix: the socket path */
	char	*query;		/* NULL: none */
	char	*fragment;	/* NULL: none */
	char	*text;		/* the URL as libcurl writes it: what to use */
	char	*shown;		/* text with the user and password hidden */
};

/* The schemes of a place, NULL-terminated. */
extern const char *const URL_HTTP[];		/* http, https */

/* Parses raw as one URL whose scheme is one of schemes ("unix" means
 * unix:///path/to.sock, the path being the socket). Refused, with -1 and
 * err "<what> \"<raw redacted>\" <why>" (what names the flag, variable or
 * place: "--reload-url", "REMOTE_WRITE_1__URL"): a blank or control
 * character, no "scheme://", another scheme, no host, anything libcurl
 * does not take as a URL (its reason is given), and an '@' after the
 * host, which means a user name or password holding an unescaped '/', '?'
 * or '#' (the message says to percent-encode them). u is zeroed first and
 * holds nothing on failure. */
int	 url_parse(struct url *u, const char *raw, const char *const *schemes,
	    const char *what, char err[ERR_MAX]);
void	 url_release(struct url *u);

/* A comma-separated list of URLs (blanks around items ignored), each as
 * url_parse; an empty item is refused. *v (url_list_free) holds *n >= 1
 * URLs. -1 with err. */
int	 url_parse_list(const char *raw, const char *const *schemes,
	    const char *what, struct url **v, size_t *n, char err[ERR_MAX]);
void	 url_list_free(struct url *v, size_t n);

/* Redaction: one reading for everything flowmon shows (log lines, the
 * explain API, /services, the status page, history, plan's output).
 *
 * url_redact_buf appends text's n bytes to b with the user name and
 * password of every URL in it hidden and every other byte kept: each URL
 * runs from its scheme ("name://") to the next URL's scheme or the end of
 * its word (a blank, a quote, '<' or '>'); its user name and password are
 * what precedes the last '@' of its authority (up to the first '/', '?'
 * or '#'), shown as user:*** (exactly one '@' there and a password) or
 * *** (a user name alone, which may be a token, or any odder shape).
 * An '@' after the authority belongs to the path or query
 * (https://wiki/@team), unless the authority holds a ':': then it may end
 * a password holding a '/', '?' or '#' ("http://u:12/pw@h/"), and
 * everything up to the URL's last '@' is hidden. 0, or -1 on ENOMEM (in
 * b->failed). */
struct buf;
int	 url_redact_buf(struct buf *b, const char *text, size_t n);
/* 0 when url_redact_buf() would give text's n bytes back unchanged (no
 * "://" in them: a user:pw@host without a scheme is no URL of free text),
 * 1 when it may hide something. Callers never test for "://" themselves:
 * this is the one test, in step with what is redacted; use it only to
 * skip a copy, the redacting functions make it anyway. */
int	 url_text_may_hide(const char *text, size_t n);
/* The same into a malloc'd string; NULL on ENOMEM. */
char	*url_redact_dup(const char *text);
/* The same into out (size bytes, always NUL-terminated when size > 0,
 * cut short when too small: the cut falls in the redacted text, so never
 * in a secret). Returns out. */
char	*url_redact_text(const char *text, char *out, size_t size);
/* One URL as it may be shown (url_parse()'s shown form): as
 * url_redact_text() reads one word, blanks and quotes included (a
 * password may hold them), and a string without "://" (host:port,
 * user:pw@host) shown from its last '@' on. Returns out. */
char	*url_redact(const char *raw, char *out, size_t size);
/* The same for a comma-separated list of URLs. */
char	*url_redact_list(const char *raw, char *out, size_t size);

/* base (a URL url_parse() took) with path added to its path: the base's
 * path less its trailing '/'s and, when it ends so, less drop (NULL:
 * nothing; "/-/reload" makes a reload URL an API base), then path, which
 * may carry a "?query". The base's query and fragment are dropped, its
 * user name and password kept (for libcurl: never show the result, show
 * url_redact() of it). Built by libcurl's URL API. malloc'd; NULL with
 * err when base is not a URL or on ENOMEM. */
char	*url_join(const char *base, const char *drop, const char *path,
	    char err[ERR_MAX]);

#endif
