/* check_log.c: the redaction of secrets in URLs (log_redact), the one
 * function every URL goes through before it is logged or returned. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	const char	*want;
} redactions[] = {
	{ "http://u:p@h/x", "http://u:***@h/x" },
	{ "https://prom:s3cr3t@prometheus:9090/-/reload",
	  "https://prom:***@prometheus:9090/-/reload" },
	/* A list, as --reload-url takes it. */
	{ "http://a:1@h1/-/reload,http://h2/-/reload,http://b:2@h3",
	  "http://a:***@h1/-/reload,http://h2/-/reload,http://b:***@h3" },
	/* Quoted in a message. */
	{ "POST http://swarm:pa%40ss@127.0.0.1:9090/-/reload: connection "
	  "refused", "POST http://swarm:***@127.0.0.1:9090/-/reload: "
	  "connection refused" },
	{ "reload URL \"ftp://u:p@h\" does not start with http://",
	  "reload URL \"ftp://u:***@h\" does not start with http://" },
	/* A raw '@' in the password: the last '@' of the authority ends
	 * the userinfo. */
	{ "http://u:p@ss@h:1/x", "http://u:***@h:1/x" },
	/* A ':' in the password: the first ':' ends the user. */
	{ "http://u:a:b@h", "http://u:***@h" },
	/* No password: nothing to hide. */
	{ "http://u@h/x", "http://u@h/x" },
	{ "http://h:9090/x@y", "http://h:9090/x@y" },
	{ "http://h/?q=a:b@c", "http://h/?q=a:b@c" },
	{ "unix:///var/run/docker.sock", "unix:///var/run/docker.sock" },
	{ "tcp://docker:pw@10.0.0.1:2376", "tcp://docker:***@10.0.0.1:2376" },
	{ "no URL here: a:b@c", "no URL here: a:b@c" },
	{ "", "" },
	{ "://", "://" },
	{ "http://", "http://" },
	{ "http://:@", "http://:***@" },
};

START_TEST(test_redact)
{
	char out[256];

	ck_assert_str_eq(log_redact(redactions[_i].in, out, sizeof(out)),
	    redactions[_i].want);
}
END_TEST

START_TEST(test_redact_truncated)
{
	const char *in = "http://user:secretpassword@host/x";
	char out[64];
	size_t n;

	/* Cut at every length: never a byte of the password. */
	for (n = 1; n <= sizeof(out); n++) {
		memset(out, 'Z', sizeof(out));
		log_redact(in, out, n);
		ck_assert_msg(strlen(out) < n, "size %zu: not terminated", n);
		ck_assert_msg(strstr(out, "sec") == NULL, "size %zu: %s", n,
		    out);
		ck_assert_msg(n == sizeof(out) || out[n] == 'Z',
		    "size %zu: wrote past the end", n);
	}
	ck_assert_str_eq(log_redact(in, out, sizeof(out)),
	    "http://user:***@host/x");
	/* outsz 0 writes nothing. */
	out[0] = 'Z';
	log_redact(in, out, 0);
	ck_assert_int_eq(out[0], 'Z');
}
END_TEST

/* Random texts around a known password: it never comes out. */
START_TEST(test_redact_never_leaks)
{
	static const char *const parts[] = {
		"http://", "https://", "u", ":", "@", "/", "h", " ", ",", "?",
		"x", "://", "tcp://",
	};
	char in[256], out[512];
	unsigned seed = 13;
	int round, k;

	for (round = 0; round < 20000; round++) {
		size_t off = 0;
		int n = 1 + (int)(rand_r(&seed) % 12);

		for (k = 0; k < n; k++)
			off += (size_t)snprintf(in + off, sizeof(in) - off,
			    "%s", parts[rand_r(&seed) % nitems(parts)]);
		/* A URL with a password, somewhere in the noise. */
		off += (size_t)snprintf(in + off, sizeof(in) - off,
		    "http://user:Pw0rd@host/");
		for (k = 0; k < n; k++)
			off += (size_t)snprintf(in + off, sizeof(in) - off,
			    "%s", parts[rand_r(&seed) % nitems(parts)]);
		log_redact(in, out, sizeof(out));
		ck_assert_msg(strstr(out, "Pw0rd") == NULL, "%s -> %s", in,
		    out);
	}
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("redact");

	tcase_add_loop_test(tc, test_redact, 0, nitems(redactions));
	tcase_add_test(tc, test_redact_truncated);
	tcase_add_test(tc, test_redact_never_leaks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(log_suite());
}
