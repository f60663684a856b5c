/* auth.c: credential files, Authorization header checks and secret file
 * reading. Secrets are compared in constant time, wiped when freed and
 * never copied into an error message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "bounds.h"
#include "store_io.h"

#define AUTH_TOKEN_MAX		4096
#define AUTH_HEADER_MAX		8192	/* longest Authorization value */

struct cred {
	char	*user;
	size_t	 ulen;
	char	*pass;
	size_t	 plen;
};

struct token {
	char	*s;
	size_t	 len;
};

struct auth {
	struct cred	*basic;
	size_t		 nbasic;
	struct token	*tokens;
	size_t		 ntokens;
};

struct auth *
auth_new(void)
{
	return calloc(1, sizeof(struct auth));
}

static void
wipe_free(char *s, size_t len)
{
	if (s == NULL)
		return;
	explicit_bzero(s, len);
	free(s);
}

void
auth_free(struct auth *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nbasic; i++) {
		wipe_free(a->basic[i].user, a->basic[i].ulen);
		wipe_free(a->basic[i].pass, a->basic[i].plen);
	}
	free(a->basic);
	for (i = 0; i < a->ntokens; i++)
		wipe_free(a->tokens[i].s, a->tokens[i].len);
	free(a->tokens);
	free(a);
}

int
auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *pa = a, *pb = b;
	size_t i, n = alen > blen ? alen : blen;
	unsigned int d = alen != blen;

	for (i = 0; i < n; i++)
		d |= (unsigned int)((i < alen ? pa[i] : 0) ^
		    (i < blen ? pb[i] : 0));
	return d == 0;
}

static char *
memdup0(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Calls fn on each meaningful line of buf: CR dropped, blank and '#'
 * lines skipped. Stops at the first -1. */
typedef int (*line_fn)(struct auth *a, const char *line, size_t len,
    const char *src, size_t lineno, char err[ERR_MAX]);

static int
each_line(struct auth *a, const char *buf, size_t len, const char *src,
    line_fn fn, char err[ERR_MAX])
{
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n',
		    len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos, k;

		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (k = 0; k < n && (line[k] == ' ' || line[k] == '\t'); k++)
			;
		if (k == n || line[k] == '#')
			continue;
		if (fn(a, line, n, src, lineno, err) == -1)
			return -1;
	}
	return 0;
}

static int
add_basic_line(struct auth *a, const char *line, size_t len, const char *src,
    size_t lineno, char err[ERR_MAX])
{
	const char *colon = memchr(line, ':', len);
	struct cred *c;
	size_t ulen, i;

	if (colon == NULL || colon == line || colon + 1 == line + len) {
		snprintf(err, ERR_MAX, "%s line %zu: not user:password (both "
		    "non-empty)", src, lineno);
		return -1;
	}
	ulen = (size_t)(colon - line);
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			snprintf(err, ERR_MAX, "%s line %zu: control character "
			    "in %s", src, lineno, line + i < colon ? "user" :
			    "password");
			return -1;
		}
	}
	for (i = 0; i < a->nbasic; i++) {
		if (a->basic[i].ulen == ulen &&
		    memcmp(a->basic[i].user, line, ulen) == 0) {
			snprintf(err, ERR_MAX, "%s line %zu: user %.*s given "
			    "twice", src, lineno, (int)(ulen > 100 ? 100 : ulen),
			    line);
			return -1;
		}
	}
	if ((c = realloc(a->basic, (a->nbasic + 1) * sizeof(*c))) == NULL)
		goto oom;
	a->basic = c;
	c = &a->basic[a->nbasic];
	c->ulen = ulen;
	c->plen = len - ulen - 1;
	if ((c->user = memdup0(line, ulen)) == NULL)
		goto oom;
	if ((c->pass = memdup0(colon + 1, c->plen)) == NULL) {
		free(c->user);
		goto oom;
	}
	a->nbasic++;
	return 0;
oom:
	snprintf(err, ERR_MAX, "out of memory");
	return -1;
}

static int
add_token_line(struct auth *a, const char *line, size_t len, const char *src,
    size_t lineno, char err[ERR_MAX])
{
	struct token *t;
	size_t i;

	while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len > AUTH_TOKEN_MAX) {
		snprintf(err, ERR_MAX, "%s line %zu: token longer than %d "
		    "characters", src, lineno, AUTH_TOKEN_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] <= 0x20 ||
		    (unsigned char)line[i] >= 0x7f) {
			snprintf(err, ERR_MAX, "%s line %zu: a token is visible "
			    "ASCII without spaces", src, lineno);
			return -1;
		}
	}
	if ((t = realloc(a->tokens, (a->ntokens + 1) * sizeof(*t))) == NULL)
		goto oom;
	a->tokens = t;
	if ((t[a->ntokens].s = memdup0(line, len)) == NULL)
		goto oom;
	t[a->ntokens].len = len;
	a->ntokens++;
	return 0;
oom:
	snprintf(err, ERR_MAX, "out of memory");
	return -1;
}

int
auth_add_basic(struct auth *a, const char *buf, size_t len, const char *src,
    char err[ERR_MAX])
{
	return each_line(a, buf, len, src, add_basic_line, err);
}

int
auth_add_tokens(struct auth *a, const char *buf, size_t len,
    const char *src, char err[ERR_MAX])
{
	return each_line(a, buf, len, src, add_token_line, err);
}

int
auth_read_file(const char *path, const char *what, size_t max, char **buf,
    size_t *len, char err[ERR_MAX])
{
	char why[ERR_MAX];
	int saved;

	if (store_read_file(path, max, buf, len, why) == -1) {
		saved = errno;
		/* The flag first, then the path, as every start-up error. */
		if (saved == EISDIR || saved == EINVAL)
			snprintf(err, ERR_MAX, "%s %.300s: not a regular file",
			    what, path);
		else if (saved == EFBIG)
			snprintf(err, ERR_MAX, "%s %.300s: larger than %zu "
			    "bytes", what, path, max);
		else
			snprintf(err, ERR_MAX, "%s %.300s: %s", what, path,
			    strerror(saved));
		errno = saved;
		return -1;
	}
	if (*len == 0) {
		snprintf(err, ERR_MAX, "%s %.300s: file is empty", what, path);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

int
auth_client_read(const char *file, const char *what, char **userpwd,
    char **bearer, char err[ERR_MAX])
{
	char *buf = NULL, *line;
	size_t len, n;

	*userpwd = *bearer = NULL;
	if (auth_read_file(file, what, 64 * 1024, &buf, &len, err) == -1)
		return -1;
	/* The first line: user:password, or else a bearer token. */
	line = buf + strspn(buf, " \t\r\n");
	n = strcspn(line, "\r\n");
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, ERR_MAX, "%s %.300s: no user:password or token "
		    "in it", what, file);
		goto fail;
	}
	if (strchr(line, ':') != NULL) {
		if (line[0] == ':' || line[n - 1] == ':') {
			snprintf(err, ERR_MAX, "%s %.300s: empty user or "
			    "password in user:password", what, file);
			goto fail;
		}
		*userpwd = strdup(line);
	} else {
		*bearer = strdup(line);
	}
	if (*userpwd == NULL && *bearer == NULL) {
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

int
auth_load(struct auth **out, const char *basic_file, const char *bearer_file,
    char err[ERR_MAX])
{
	struct auth *a;
	char *buf = NULL, src[400];
	size_t len;
	int rc;

	*out = NULL;
	if (basic_file == NULL && bearer_file == NULL)
		return 0;
	if ((a = auth_new()) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	if (basic_file != NULL) {
		if (auth_read_file(basic_file, "--basic-auth-file",
		    BOUND_SECRET_MAX, &buf, &len, err) == -1)
			goto fail;
		snprintf(src, sizeof(src), "--basic-auth-file %.300s",
		    basic_file);
		rc = auth_add_basic(a, buf, len, src, err);
		wipe_free(buf, len);
		if (rc == -1)
			goto fail;
		if (a->nbasic == 0) {
			snprintf(err, ERR_MAX, "%s: no user:password line", src);
			goto fail;
		}
	}
	if (bearer_file != NULL) {
		if (auth_read_file(bearer_file, "--bearer-token-file",
		    BOUND_SECRET_MAX, &buf, &len, err) == -1)
			goto fail;
		snprintf(src, sizeof(src), "--bearer-token-file %.300s",
		    bearer_file);
		rc = auth_add_tokens(a, buf, len, src, err);
		wipe_free(buf, len);
		if (rc == -1)
			goto fail;
		if (a->ntokens == 0) {
			snprintf(err, ERR_MAX, "%s: no token", src);
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	auth_free(a);
	return -1;
}

long
auth_base64_decode(const char *s, size_t inlen, unsigned char *out)
{
	unsigned int acc = 0;
	size_t i, pad = 0;
	long n = 0;
	int bits = 0;

	while (inlen > 0 && s[inlen - 1] == '=' && pad < 2) {
		inlen--;
		pad++;
	}
	if (pad > 0 && (inlen + pad) % 4 != 0)
		return -1;
	if (inlen % 4 == 1)
		return -1;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned int v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	return n;
}

static enum auth_result
check_basic(const struct auth *a, const char *v, size_t vlen)
{
	unsigned char *dec;
	const unsigned char *colon;
	size_t ulen, plen, i;
	unsigned int match = 0;
	long n;

	if (a->nbasic == 0)
		return AUTH_WRONG;
	if ((dec = malloc(3 * vlen / 4 + 3)) == NULL)
		return AUTH_WRONG;	/* deny when in doubt */
	if ((n = auth_base64_decode(v, vlen, dec)) < 0 ||
	    (colon = memchr(dec, ':', (size_t)n)) == NULL) {
		wipe_free((char *)dec, 3 * vlen / 4 + 3);
		return AUTH_MALFORMED;
	}
	ulen = (size_t)(colon - dec);
	plen = (size_t)n - ulen - 1;
	/* No early exit: every entry is compared. */
	for (i = 0; i < a->nbasic; i++)
		match |= (unsigned int)(auth_equal(dec, ulen, a->basic[i].user,
		    a->basic[i].ulen) & auth_equal(colon + 1, plen,
		    a->basic[i].pass, a->basic[i].plen));
	wipe_free((char *)dec, 3 * vlen / 4 + 3);
	return match ? AUTH_OK : AUTH_WRONG;
}

static enum auth_result
check_bearer(const struct auth *a, const char *v, size_t vlen)
{
	unsigned int match = 0;
	size_t i;

	if (a->ntokens == 0)
		return AUTH_WRONG;
	for (i = 0; i < a->ntokens; i++)
		match |= (unsigned int)auth_equal(v, vlen, a->tokens[i].s,
		    a->tokens[i].len);
	return match ? AUTH_OK : AUTH_WRONG;
}

enum auth_result
auth_check(const struct auth *a, const char *h)
{
	const char *sp, *v;
	size_t slen, vlen;

	if (h == NULL)
		return AUTH_MISSING;
	while (*h == ' ' || *h == '\t')
		h++;
	if (*h == '\0')
		return AUTH_MISSING;
	for (sp = h; *sp && *sp != ' ' && *sp != '\t'; sp++)
		;
	slen = (size_t)(sp - h);
	for (v = sp; *v == ' ' || *v == '\t'; v++)
		;
	vlen = strlen(v);
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (vlen == 0 || vlen > AUTH_HEADER_MAX)
		return AUTH_MALFORMED;
	if (slen == 5 && strncasecmp(h, "Basic", 5) == 0)
		return check_basic(a, v, vlen);
	if (slen == 6 && strncasecmp(h, "Bearer", 6) == 0)
		return check_bearer(a, v, vlen);
	return AUTH_MALFORMED;
}

int
auth_has_basic(const struct auth *a)
{
	return a != NULL && a->nbasic > 0;
}

int
auth_has_bearer(const struct auth *a)
{
	return a != NULL && a->ntokens > 0;
}
