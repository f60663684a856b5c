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

/* raw as it may be shown: its parse's shown form (user:***@, or ***@ for
 * a user name alone, which may be a token). A string that is no URL is
 * shown as it is when it holds no '@'; else everything between its scheme
 * and its last '@' is hidden. out is always NUL-terminated, cut short when
 * size is too small but never in the middle of a secret. Returns out. */
char	*url_redact(const char *raw, char *out, size_t size);
/* The same for a comma-separated list of URLs. */
char	*url_redact_list(const char *raw, char *out, size_t size);
/* Every word of text (up to a blank, a quote, '<' or '>') that holds
 * "://" redacted as url_redact does; the rest copied. For messages that
 * may quote a URL (curl's, a config error). Returns out. */
char	*url_redact_text(const char *text, char *out, size_t size);

#endif
