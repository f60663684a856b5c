/* auth.h: who may call the API: HTTP basic credentials and bearer tokens
 * read from files, checked in constant time against an Authorization header,
 * and the reading of TLS material. Parsing and checking are pure. */
#ifndef FLOWMON_AUTH_H
#define FLOWMON_AUTH_H

#include <stddef.h>

#include "service.h"

struct auth;

enum auth_result {
	AUTH_OK,		/* credentials match an entry */
	AUTH_MISSING,		/* no Authorization header */
	AUTH_WRONG,		/* a known scheme, but no entry matches */
	AUTH_MALFORMED		/* unknown scheme or undecodable value */
};

/* An empty credential set (allows nothing until something is added).
 * NULL on allocation failure. */
struct auth *auth_new(void);
/* Frees a set, wiping every secret it held. Accepts NULL. */
void	 auth_free(struct auth *a);

/* Adds `user:password` lines (split at the first ':'; the password may hold
 * more). Blank lines and lines starting with '#' are skipped; a trailing
 * CR is dropped. src names the origin in err: "FILE line N: ...". An empty
 * user or password, or a user given twice, is an error. The error never
 * quotes a password. 0, or -1 with err. */
int	 auth_add_basic(struct auth *a, const char *buf, size_t len,
	    const char *src, char err[ERR_MAX]);
/* Adds bearer tokens, one a line (several allow rotation), same comment
 * rules. A token must be 1..4096 visible ASCII characters. */
int	 auth_add_tokens(struct auth *a, const char *buf, size_t len,
	    const char *src, char err[ERR_MAX]);

/* Builds the credential set from the files given (either may be NULL).
 * *out is NULL when both are NULL: authentication is off. 0, or -1 with
 * err when a file cannot be read or holds no usable entry. */
int	 auth_load(struct auth **out, const char *basic_file,
	    const char *bearer_file, char err[ERR_MAX]);

/* Checks the value of an Authorization header (NULL: absent). Every entry
 * is compared, in time that does not depend on where a guess first
 * differs from a secret. */
enum auth_result auth_check(const struct auth *a, const char *authorization);

/* Which challenges a 401 must carry. */
int	 auth_has_basic(const struct auth *a);
int	 auth_has_bearer(const struct auth *a);

/* Standard base64 (RFC 4648 alphabet, '=' padding optional) of inlen
 * bytes into out, which must hold 3 * inlen / 4 + 3 bytes. Returns the
 * decoded length, or -1 when s is not base64. */
long	 auth_base64_decode(const char *s, size_t inlen, unsigned char *out);

/* 1 when a and b hold the same bytes; the time taken depends on the
 * lengths only. */
int	 auth_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Reads a whole secret or certificate file into a malloc'd NUL-terminated
 * buffer (caller frees, wiping it if secret) with the store's bounded
 * reader (store_read_file), and refuses an empty one. what names the flag
 * for err. 0, or -1 with err (missing, unreadable, empty, larger than
 * max). */
int	 auth_read_file(const char *path, const char *what, size_t max,
	    char **buf, size_t *len, char err[ERR_MAX]);

/* The credentials flowmon presents as a client (--reload-auth-file for
 * the reload URLs, and `flowmon plan --against`): the first line of file,
 * user:password for basic auth, else a bearer token. Exactly one of
 * *userpwd and *bearer is set, malloc'd (wipe and free it). what names the
 * flag in err. 0, or -1 with err (never quoting the secret). */
int	 auth_client_read(const char *file, const char *what, char **userpwd,
	    char **bearer, char err[ERR_MAX]);

#endif
