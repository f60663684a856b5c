/* check_url.c: URLs parsed by libcurl's URL API and shown redacted: any
 * character in a user name or password (/ # ? @ % and more) never shows,
 * a token given as the user name neither, refused URLs are never quoted
 * whole, and free text with URLs in it is redacted word by word. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Secrets that must never show, whatever shows them. */
static const char *const secrets[] = {
	"s3cr/t", "s3cr#t", "s3cr?t", "s3cr@t", "s3cr%t", "TOKEN123",
	"pa%2Fss", "s3cr3t",
};

static void
assert_hidden(const char *shown)
{
	size_t i;

	for (i = 0; i < nitems(secrets); i++)
		ck_assert_msg(strstr(shown, secrets[i]) == NULL, "\"%s\" shows "
		    "the secret %s", shown, secrets[i]);
}

START_TEST(parse_parts)
{
	struct url u;
	char err[ERR_MAX];

	ck_assert_msg(url_parse(&u, "HTTP://admin:s3cr3t@prom:9090/-/reload?a=1",
	    URL_HTTP, "--reload-url", err) == 0, "%s", err);
	ck_assert_str_eq(u.scheme, "http");
	ck_assert_str_eq(u.user, "admin");
	ck_assert_str_eq(u.password, "s3cr3t");
	ck_assert_str_eq(u.host, "prom");
	ck_assert_str_eq(u.port, "9090");
	ck_assert_str_eq(u.path, "/-/reload");
	ck_assert_str_eq(u.query, "a=1");
	ck_assert_str_eq(u.shown, "HTTP://admin:***@prom:9090/-/reload?a=1");
	ck_assert_ptr_nonnull(strstr(u.text, "s3cr3t"));	/* for curl */
	url_release(&u);

	ck_assert_int_eq(url_parse(&u, "http://[::1]:9090", URL_HTTP, "x",
	    err), 0);
	ck_assert_str_eq(u.host, "[::1]");
	ck_assert_str_eq(u.path, "/");
	ck_assert_str_eq(u.shown, "http://[::1]:9090");
	url_release(&u);

	/* Percent-encoded user names and passwords are what the README
	 * asks for: taken, and hidden. */
	ck_assert_int_eq(url_parse(&u, "https://u:pa%2Fss%40%23@h/x",
	    URL_HTTP, "x", err), 0);
	ck_assert_str_eq(u.shown, "https://u:***@h/x");
	url_release(&u);

	/* A token as the user name: hidden whole. */
	ck_assert_int_eq(url_parse(&u, "http://TOKEN123@h:1/", URL_HTTP, "x",
	    err), 0);
	ck_assert_str_eq(u.shown, "http://***@h:1/");
	url_release(&u);

	/* unix:///path: the socket path. */
	ck_assert_msg(url_parse(&u, "unix:///var/run/docker.sock",
	    (const char *const[]){ "unix", "tcp", NULL }, "--docker-host",
	    err) == 0, "%s", err);
	ck_assert_str_eq(u.path, "/var/run/docker.sock");
	ck_assert_ptr_null(u.host);
	ck_assert_str_eq(u.shown, "unix:///var/run/docker.sock");
	url_release(&u);
}
END_TEST

START_TEST(refused_never_shows_secrets)
{
	static const char *const bad[] = {
		/* An unescaped '/', '#', '?' or '@' in the password. */
		"http://admin:s3cr/t@prom:9090/-/reload",
		"http://admin:s3cr#t@prom:9090/-/reload",
		"http://admin:s3cr?t@prom:9090/-/reload",
		"http://admin:s3cr@t@prom:9090/-/reload",
		/* libcurl would read 12/s3cr/t@... as a path on host admin. */
		"http://admin:12/s3cr/t@prom/-/reload",
		"http://TOKEN123:1/s3cr/t@prom/",
		"ftp://admin:s3cr3t@prom/",
		"http://admin:s3cr3t@/x",
		"http:///x",
		"prom:9090",
		"http://admin:s3cr3t@pr om/",
		"",
	};
	struct url u;
	char err[ERR_MAX], shown[ERR_MAX];
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		ck_assert_msg(url_parse(&u, bad[i], URL_HTTP, "--reload-url",
		    err) == -1, "%s was taken", bad[i]);
		ck_assert_ptr_null(u.text);
		assert_hidden(err);
		ck_assert_msg(strncmp(err, "--reload-url \"", 14) == 0,
		    "err: %s", err);
		url_redact(bad[i], shown, sizeof(shown));
		assert_hidden(shown);
	}
	url_parse(&u, "http://admin:s3cr/t@prom:9090/-/reload", URL_HTTP,
	    "--reload-url", err);
	ck_assert_msg(strstr(err, "\"http://***@prom:9090/-/reload\"") != NULL,
	    "err: %s", err);
	url_parse(&u, "http://admin:12/s3cr/t@prom/-/reload", URL_HTTP, "x",
	    err);
	ck_assert_msg(strstr(err, "percent-encode") != NULL, "err: %s", err);
	url_parse(&u, "ftp://admin:s3cr3t@prom/", URL_HTTP, "x", err);
	ck_assert_str_eq(err, "x \"ftp://admin:***@prom/\" must start with "
	    "http:// or https://");
}
END_TEST

START_TEST(lists_and_text)
{
	struct url *v;
	size_t n;
	char err[ERR_MAX], out[ERR_MAX];

	ck_assert_msg(url_parse_list(" http://a:s3cr3t@h1/-/reload , "
	    "https://TOKEN123@h2/-/reload", URL_HTTP, "--reload-url", &v, &n,
	    err) == 0, "%s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].shown, "http://a:***@h1/-/reload");
	ck_assert_str_eq(v[1].shown, "https://***@h2/-/reload");
	url_list_free(v, n);
	ck_assert_int_eq(url_parse_list("http://a:s3cr3t@h1/,,http://h2/",
	    URL_HTTP, "--reload-url", &v, &n, err), -1);
	assert_hidden(err);
	ck_assert_ptr_nonnull(strstr(err, "empty entry"));

	url_redact_list("http://a:s3cr/t@h1/-/reload,http://b:s3cr3t@h2/x",
	    out, sizeof(out));
	ck_assert_str_eq(out, "http://***@h1/-/reload,http://b:***@h2/x");
	url_redact_text("POST \"http://a:s3cr#t@h1/-/reload\": refused; "
	    "url=https://TOKEN123@h2/ and (ftp://u:s3cr%t@h3/x)", out,
	    sizeof(out));
	ck_assert_str_eq(out, "POST \"http://***@h1/-/reload\": refused; "
	    "url=https://***@h2/ and (ftp://u:***@h3/x)");
	url_redact_text("no URL here: a@b, c://", out, sizeof(out));
	ck_assert_str_eq(out, "no URL here: a@b, c://");
	/* One URL is one word, blanks and quotes in a password too. */
	url_redact("tcp://admin:s3 cr\"t@127.0.0.1:2375", out, sizeof(out));
	ck_assert_str_eq(out, "tcp://admin:***@127.0.0.1:2375");
	url_redact("u:s3cr3t@h:1", out, sizeof(out));
	ck_assert_str_eq(out, "***@h:1");
	/* Cut short, never in the middle of a secret. */
	url_redact("http://admin:s3cr3t@prom:9090/-/reload", out, 12);
	ck_assert_str_eq(out, "http://admi");
	url_redact("http://admin:s3cr3t@prom:9090/-/reload", out, 18);
	ck_assert_str_eq(out, "http://admin:***@");
}
END_TEST


/* Free text (log lines, messages) redacted word by word. */
static const struct {
	const char	*in;
	const char	*want;
} texts[] = {
	{ "http://u:p@h/x", "http://u:***@h/x" },
	{ "https://prom:s3cr3t@prometheus:9090/-/reload",
	  "https://prom:***@prometheus:9090/-/reload" },
	{ "POST http://swarm:pa%40ss@127.0.0.1:9090/-/reload: connection "
	  "refused", "POST http://swarm:***@127.0.0.1:9090/-/reload: "
	  "connection refused" },
	{ "reload URL \"ftp://u:p@h\" does not start with http://",
	  "reload URL \"ftp://u:***@h\" does not start with http://" },
	/* A raw '@' in the password: no URL to libcurl, so everything up to
	 * the last '@' goes. */
	{ "http://u:p@ss@h:1/x", "http://***@h:1/x" },
	{ "http://u:a:b@h", "http://u:***@h" },
	/* A user name alone may be a token. */
	{ "http://u@h/x", "http://***@h/x" },
	/* An '@' after the host: maybe a password cut by its '/'. */
	{ "http://h:9090/x@y", "http://***@y" },
	{ "unix:///var/run/docker.sock", "unix:///var/run/docker.sock" },
	{ "tcp://docker:pw@10.0.0.1:2376", "tcp://docker:***@10.0.0.1:2376" },
	{ "no URL here: a:b@c", "no URL here: a:b@c" },
	{ "", "" },
	{ "://", "://" },
	{ "http://", "http://" },
	{ "http://:@", "http://***@" },
	/* Several URLs in one word: each its own, the rest byte for byte. */
	{ "runbook=http://bob:x@wiki/x,other=https://TOKENABC@h/p",
	  "runbook=http://bob:***@wiki/x,other=https://***@h/p" },
	{ "a=http://u:p@h1/,b=http://h2/@x,c=ftp://v:q@h3,d=http://h4",
	  "a=http://u:***@h1/,b=http://h2/@x,c=ftp://v:***@h3,d=http://h4" },
	{ "http://a:b@h1/x http://c:d@h2/y\thttp://e@h3",
	  "http://a:***@h1/x http://c:***@h2/y\thttp://***@h3" },
	{ "(http://u:p@h/x).", "(http://u:***@h/x)." },
	{ "http://h/login?next=http://u:p@x/y",
	  "http://h/login?next=http://u:***@x/y" },
	/* Percent-encoded secrets. */
	{ "runbook: http://bob:hunter%2F2SEKRIT@wiki/x",
	  "runbook: http://bob:***@wiki/x" },
	{ "http://u%40x:p%3A%2F%23%3F@h", "http://u%40x:***@h" },
	/* '@' in paths, queries and fragments: kept. */
	{ "see https://medium.com/@team/post and https://wiki/x?owner=a@b#c@d",
	  "see https://medium.com/@team/post and https://wiki/x?owner=a@b#c@d" },
	{ "https://u:p@wiki/@team?owner=a@b", "https://u:***@wiki/@team?owner=a@b" },
	/* ...unless the authority holds a ':' (a password with a raw '/'
	 * reads the same as a port and a path): hidden to the last '@'. */
	{ "http://prom:9090/graph?owner=a@b", "http://***@b" },
	/* No userinfo: as it is. */
	{ "http://h/x https://h:9090/y?q=1#f ftp://h/",
	  "http://h/x https://h:9090/y?q=1#f ftp://h/" },
	/* Raw '/', '#', '?', '@' and '%' in a password. */
	{ "x=http://u:a/b@h/x,", "x=http://***@h/x," },
	{ "x=http://u:a#b@h/x,", "x=http://***@h/x," },
	{ "x=http://u:a?b@h/x,", "x=http://***@h/x," },
	{ "x=http://u:a@b@h/x,", "x=http://***@h/x," },
	{ "x=http://u:a%b@h/x,", "x=http://u:***@h/x," },
	/* Tokens as the user name. */
	{ "https://ghp_TOKEN123@github.com/o/r.git",
	  "https://***@github.com/o/r.git" },
	{ "https://TOKEN123:x-oauth-basic@h/", "https://TOKEN123:***@h/" },
	/* Other schemes. */
	{ "postgres://app:pw@db:5432/x?sslmode=require redis://:pw@cache:6379 "
	  "amqp://u:p@mq/vhost git+ssh://git:pw@h/r mongodb+srv://u:p@c/d",
	  "postgres://app:***@db:5432/x?sslmode=require redis://***@cache:6379 "
	  "amqp://u:***@mq/vhost git+ssh://git:***@h/r mongodb+srv://u:***@c/d" },
	/* Not URLs. */
	{ "a@b:c, 1://x@y, -://u:p@h", "a@b:c, 1://x@y, -://u:p@h" },
};

START_TEST(text_redacted)
{
	char out[256];

	ck_assert_str_eq(url_redact_text(texts[_i].in, out, sizeof(out)),
	    texts[_i].want);
}
END_TEST

START_TEST(text_truncated)
{
	const char *in = "http://user:secretpassword@host/x";
	char out[64];
	size_t n;

	/* Cut at every length: never a byte of the password. */
	for (n = 1; n <= sizeof(out); n++) {
		memset(out, 'Z', sizeof(out));
		url_redact_text(in, out, n);
		ck_assert_msg(strlen(out) < n, "size %zu: not terminated", n);
		ck_assert_msg(strstr(out, "sec") == NULL, "size %zu: %s", n,
		    out);
		ck_assert_msg(n == sizeof(out) || out[n] == 'Z',
		    "size %zu: wrote past the end", n);
	}
	out[0] = 'Z';
	url_redact_text(in, out, 0);
	ck_assert_int_eq(out[0], 'Z');
}
END_TEST

/* n random parts, joined into in (size bytes); its length. */
static size_t
random_text(char *in, size_t size, const char *const *parts, size_t nparts,
    int n, unsigned *seed)
{
	size_t off = 0;
	int k;

	for (k = 0; k < n; k++)
		off += (size_t)snprintf(in + off, size - off, "%s",
		    parts[rand_r(seed) % nparts]);
	return off;
}

/* Texts whose URLs have no user name or password come out as they
 * went in, byte for byte, whatever else they hold. */
START_TEST(text_kept)
{
	static const char *const parts[] = {
		"http://h", "https://h:1/", "/", "@", "?", "#", "x", " ", ",",
		"=", "%", "\"", "<", "(", ".", "ftp://h/a",
	};
	char in[256], out[512];
	unsigned seed = 7;
	int round;

	for (round = 0; round < 20000; round++) {
		random_text(in, sizeof(in), parts, nitems(parts),
		    1 + (int)(rand_r(&seed) % 16), &seed);
		/* An authority with an '@' or a ':' before one: not this. */
		if (strstr(in, "://") != NULL && strchr(in, '@') != NULL)
			continue;
		url_redact_text(in, out, sizeof(out));
		ck_assert_str_eq(out, in);
	}
}
END_TEST

/* One way to put a base URL and a path together. */
START_TEST(join)
{
	static const struct {
		const char *base, *drop, *path, *want;
	} v[] = {
		{ "http://prom:9090", NULL, "/api/v1/targets?state=active",
		  "http://prom:9090/api/v1/targets?state=active" },
		{ "http://u:p%2Fw@prom:9090/pre/", NULL, "/api/v1/rules",
		  "http://u:p%2Fw@prom:9090/pre/api/v1/rules" },
		{ "http://prom:9090/-/reload?x=1#f", "/-/reload", "",
		  "http://prom:9090/" },
		{ "http://prom:9090/pre/-/reload/", "/-/reload", "",
		  "http://prom:9090/pre" },
		{ "http://fm:8080/v1/docker-flow-monitor/",
		  "/v1/docker-flow-monitor",
		  "/v1/docker-flow-monitor/services",
		  "http://fm:8080/v1/docker-flow-monitor/services" },
		{ "http://fm:8080/xv1/docker-flow-monitor",
		  "/v1/docker-flow-monitor", "/v1/docker-flow-monitor/services",
		  "http://fm:8080/xv1/docker-flow-monitor/v1/docker-flow-monitor/"
		  "services" },
		{ "https://[::1]:9093", NULL, "/api/v2/silence/abc",
		  "https://[::1]:9093/api/v2/silence/abc" },
	};
	char err[ERR_MAX], *s;
	size_t i;

	for (i = 0; i < nitems(v); i++) {
		s = url_join(v[i].base, v[i].drop, v[i].path, err);
		ck_assert_msg(s != NULL, "%s: %s", v[i].base, err);
		ck_assert_str_eq(s, v[i].want);
		free(s);
	}
	ck_assert_ptr_null(url_join("no url", NULL, "/x", err));
	ck_assert_ptr_nonnull(strstr(err, "is not a URL"));
}
END_TEST

/* Random texts around a known password: it never comes out. */
START_TEST(text_never_leaks)
{
	static const char *const parts[] = {
		"http://", "https://", "u", ":", "@", "/", "h", " ", ",", "?",
		"x", "://", "tcp://", "#", "%",
	};
	char in[256], out[512];
	unsigned seed = 13;
	int round;

	for (round = 0; round < 20000; round++) {
		int n = 1 + (int)(rand_r(&seed) % 12);
		size_t off = random_text(in, sizeof(in), parts, nitems(parts),
		    n, &seed);

		/* A URL with a password, somewhere in the noise. */
		off += (size_t)snprintf(in + off, sizeof(in) - off,
		    "http://user:Pw0rd@host/");
		random_text(in + off, sizeof(in) - off, parts, nitems(parts), n,
		    &seed);
		url_redact_text(in, out, sizeof(out));
		ck_assert_msg(strstr(out, "Pw0rd") == NULL, "%s -> %s", in,
		    out);
	}
}
END_TEST

static Suite *
url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url");

	tcase_add_test(tc, parse_parts);
	tcase_add_test(tc, refused_never_shows_secrets);
	tcase_add_test(tc, lists_and_text);
	tcase_add_loop_test(tc, text_redacted, 0, nitems(texts));
	tcase_add_test(tc, text_truncated);
	tcase_add_test(tc, text_never_leaks);
	tcase_add_test(tc, text_kept);
	tcase_add_test(tc, join);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(url_suite());
}
