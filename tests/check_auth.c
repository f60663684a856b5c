/* check_auth.c: credential files, Authorization header checks, base64 and
 * constant-time comparison (auth.c), and the per-service quota (quota.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "quota.h"
#include "render.h"
#include "request.h"
#include "testutil.h"

/* "Basic " + base64(s). */
static char *
basic_header(const char *s)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i, o = 6;
	char *h = malloc(6 + (n + 2) / 3 * 4 + 1);

	ck_assert_ptr_nonnull(h);
	memcpy(h, "Basic ", 6);
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		h[o++] = tbl[(v >> 18) & 63];
		h[o++] = tbl[(v >> 12) & 63];
		h[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		h[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	h[o] = '\0';
	return h;
}

static enum auth_result
try_basic(const struct auth *a, const char *userpass)
{
	char *h = basic_header(userpass);
	enum auth_result r = auth_check(a, h);

	free(h);
	return r;
}

static struct auth *
make(const char *basic, const char *tokens)
{
	char err[ERR_MAX] = "";
	struct auth *a = auth_new();

	ck_assert_ptr_nonnull(a);
	if (basic)
		ck_assert_msg(auth_add_basic(a, basic, strlen(basic), "users",
		    err) == 0, "auth_add_basic: %s", err);
	if (tokens)
		ck_assert_msg(auth_add_tokens(a, tokens, strlen(tokens),
		    "tokens", err) == 0, "auth_add_tokens: %s", err);
	return a;
}

START_TEST(base64_vectors)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" },
		{ "Zm9vYmFy", "foobar" }, { "Zm9vYg", "foob" },
		{ "YWxpY2U6czNjcjp4", "alice:s3cr:x" },
	};
	unsigned char out[64];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(*v); i++) {
		long n = auth_base64_decode(v[i].in, strlen(v[i].in), out);

		ck_assert_int_eq(n, (long)strlen(v[i].out));
		ck_assert(memcmp(out, v[i].out, (size_t)n) == 0);
	}
	ck_assert_int_eq(auth_base64_decode("Zm9v!", 5, out), -1);
	ck_assert_int_eq(auth_base64_decode("Z", 1, out), -1);
	ck_assert_int_eq(auth_base64_decode("Zg=", 3, out), -1);
	ck_assert_int_eq(auth_base64_decode("Zm 9", 4, out), -1);
}
END_TEST

START_TEST(equal_compares_bytes_and_lengths)
{
	ck_assert_int_eq(auth_equal("abc", 3, "abc", 3), 1);
	ck_assert_int_eq(auth_equal("abc", 3, "abd", 3), 0);
	ck_assert_int_eq(auth_equal("abc", 3, "abcd", 4), 0);
	ck_assert_int_eq(auth_equal("abcd", 4, "abc", 3), 0);
	ck_assert_int_eq(auth_equal("", 0, "", 0), 1);
	ck_assert_int_eq(auth_equal("a\0b", 3, "a\0c", 3), 0);
	ck_assert_int_eq(auth_equal("", 0, "x", 1), 0);
}
END_TEST

START_TEST(basic_lines_and_checks)
{
	struct auth *a = make("# operators\n\nalice:s3cret:with:colons\r\n"
	    "  \nbob:pw\n", NULL);

	ck_assert(auth_has_basic(a));
	ck_assert(!auth_has_bearer(a));
	ck_assert_int_eq(try_basic(a, "alice:s3cret:with:colons"), AUTH_OK);
	ck_assert_int_eq(try_basic(a, "bob:pw"), AUTH_OK);
	ck_assert_int_eq(try_basic(a, "bob:pw "), AUTH_WRONG);
	ck_assert_int_eq(try_basic(a, "bob:p"), AUTH_WRONG);
	ck_assert_int_eq(try_basic(a, "alice:pw"), AUTH_WRONG);
	ck_assert_int_eq(try_basic(a, "carol:pw"), AUTH_WRONG);
	ck_assert_int_eq(try_basic(a, ":"), AUTH_WRONG);
	ck_assert_int_eq(try_basic(a, "nocolon"), AUTH_MALFORMED);
	/* Scheme names are case-insensitive, spaces around are fine. */
	ck_assert_int_eq(auth_check(a, "  basic   Ym9iOnB3  "), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "BASIC Ym9iOnB3"), AUTH_OK);
	ck_assert_int_eq(auth_check(a, NULL), AUTH_MISSING);
	ck_assert_int_eq(auth_check(a, ""), AUTH_MISSING);
	ck_assert_int_eq(auth_check(a, "Basic"), AUTH_MALFORMED);
	ck_assert_int_eq(auth_check(a, "Basic !!!!"), AUTH_MALFORMED);
	ck_assert_int_eq(auth_check(a, "Digest x=y"), AUTH_MALFORMED);
	/* No token configured: a bearer is simply wrong. */
	ck_assert_int_eq(auth_check(a, "Bearer Ym9iOnB3"), AUTH_WRONG);
	auth_free(a);
}
END_TEST

START_TEST(tokens_and_checks)
{
	struct auth *a = make(NULL, "# current and next\n  tok-1234567890 \n"
	    "tok-next\r\n");

	ck_assert(!auth_has_basic(a));
	ck_assert(auth_has_bearer(a));
	ck_assert_int_eq(auth_check(a, "Bearer tok-1234567890"), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "bearer tok-next"), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "Bearer tok-123456789"), AUTH_WRONG);
	ck_assert_int_eq(auth_check(a, "Bearer tok-12345678901"), AUTH_WRONG);
	ck_assert_int_eq(auth_check(a, "Bearer "), AUTH_MALFORMED);
	ck_assert_int_eq(try_basic(a, "x:tok-next"), AUTH_WRONG);
	auth_free(a);
}
END_TEST

START_TEST(bad_lines_refused_without_secrets)
{
	static const char *const bad_basic[] = {
		"alice\n", ":pw\n", "alice:\n", "alice:pw\nalice:other\n",
		"al\x01ice:pw\n", "alice:p\tw\n",
	};
	static const char *const bad_tokens[] = { "two words\n", "t\x7fok\n",
		"t\xc3\xa9\n" };
	char err[ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(bad_basic) / sizeof(*bad_basic); i++) {
		struct auth *a = auth_new();

		err[0] = '\0';
		ck_assert_int_eq(auth_add_basic(a, bad_basic[i],
		    strlen(bad_basic[i]), "users", err), -1);
		ck_assert_msg(strstr(err, "users line ") == err, "%s", err);
		ck_assert_msg(strstr(err, "pw") == NULL &&
		    strstr(err, "other") == NULL, "secret in: %s", err);
		auth_free(a);
	}
	for (i = 0; i < sizeof(bad_tokens) / sizeof(*bad_tokens); i++) {
		struct auth *a = auth_new();

		ck_assert_int_eq(auth_add_tokens(a, bad_tokens[i],
		    strlen(bad_tokens[i]), "tokens", err), -1);
		ck_assert_msg(strstr(err, "words") == NULL, "%s", err);
		auth_free(a);
	}
}
END_TEST

START_TEST(load_from_files)
{
	char *dir = tu_tmpdir(), *users, *tokens, *empty, *comments;
	char err[ERR_MAX];
	struct auth *a = NULL;

	ck_assert_int_ge(asprintf(&users, "%s/users", dir), 0);
	ck_assert_int_ge(asprintf(&tokens, "%s/tokens", dir), 0);
	ck_assert_int_ge(asprintf(&empty, "%s/empty", dir), 0);
	ck_assert_int_ge(asprintf(&comments, "%s/comments", dir), 0);
	tu_spit(users, "swarm:listener-pw\n");
	tu_spit(tokens, "t0ken\n");
	tu_spit(empty, "");
	tu_spit(comments, "# nothing\n\n");

	ck_assert_int_eq(auth_load(&a, NULL, NULL, err), 0);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(auth_load(&a, users, tokens, err), 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(try_basic(a, "swarm:listener-pw"), AUTH_OK);
	ck_assert_int_eq(auth_check(a, "Bearer t0ken"), AUTH_OK);
	auth_free(a);

	ck_assert_int_eq(auth_load(&a, dir, NULL, err), -1);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
	ck_assert_int_eq(auth_load(&a, empty, NULL, err), -1);
	ck_assert_msg(strstr(err, "empty"), "%s", err);
	ck_assert_int_eq(auth_load(&a, comments, NULL, err), -1);
	ck_assert_msg(strstr(err, "no user:password"), "%s", err);
	ck_assert_int_eq(auth_load(&a, NULL, comments, err), -1);
	ck_assert_msg(strstr(err, "no token"), "%s", err);
	ck_assert_int_eq(auth_load(&a, users, "/nonexistent/x", err), -1);
	ck_assert_msg(strstr(err, "--bearer-token-file /nonexistent/x") &&
	    strstr(err, "No such file"), "%s", err);
	ck_assert_ptr_null(a);

	tu_rmrf(dir);
	free(users);
	free(tokens);
	free(empty);
	free(comments);
	free(dir);
}
END_TEST

/* A service with n alerts, each expression padded to pad bytes. */
static struct service *
service_with_alerts(int n, size_t pad)
{
	struct kvlist p = { 0 };
	struct request_ctx ctx = { 0 };
	struct service *svc = calloc(1, sizeof(*svc));
	char err[ERR_MAX], key[64], *expr;
	int i;

	ck_assert_ptr_nonnull(svc);
	ck_assert_ptr_nonnull(expr = malloc(pad + 32));
	snprintf(expr, pad + 32, "up{job=\"%0*d\"} == 0", (int)pad, 7);
	ck_assert_int_eq(kvlist_set(&p, "serviceName", "web"), 0);
	for (i = 1; i <= n; i++) {
		char name[32];

		snprintf(key, sizeof(key), "alertName.%d", i);
		snprintf(name, sizeof(name), "a%d", i);
		ck_assert_int_eq(kvlist_set(&p, key, name), 0);
		snprintf(key, sizeof(key), "alertIf.%d", i);
		ck_assert_int_eq(kvlist_set(&p, key, expr), 0);
	}
	ck_assert_msg(request_parse(&p, &ctx, svc, err) == 0, "%s", err);
	kvlist_release(&p);
	free(expr);
	return svc;
}

/* quota_check() on svc's rule file as the registry renders it. */
static int
quota_of(const struct service *svc, const struct quota *q, char err[ERR_MAX])
{
	char *rules = NULL;
	size_t len = 0;
	int rc;

	ck_assert_int_eq(render_rules(svc, 0, &rules, &len, err), 0);
	rc = quota_check(svc, len, q, err);
	free(rules);
	return rc;
}

START_TEST(quota_alerts_and_rule_bytes)
{
	struct quota q = { 3, 1048576, 0 };
	struct service *svc;
	char err[ERR_MAX];

	svc = service_with_alerts(3, 1);
	ck_assert_int_eq(quota_of(svc, &q, err), 0);
	service_free(svc);

	svc = service_with_alerts(4, 1);
	ck_assert_int_eq(quota_of(svc, &q, err), -1);
	ck_assert_msg(strstr(err, "4 alerts") && strstr(err, "--max-alerts "
	    "(3)"), "%s", err);
	service_free(svc);

	q.max_alerts = 100;
	q.max_rule_bytes = 2048;
	svc = service_with_alerts(2, 100);
	ck_assert_msg(quota_of(svc, &q, err) == 0, "%s", err);
	service_free(svc);
	svc = service_with_alerts(2, 2000);
	ck_assert_int_eq(quota_of(svc, &q, err), -1);
	ck_assert_msg(strstr(err, "--max-rule-bytes (2048)"), "%s", err);
	service_free(svc);

	/* 100 alerts (the default bound) fit the default quota. */
	q.max_rule_bytes = 1048576;
	svc = service_with_alerts(100, 10);
	ck_assert_msg(quota_of(svc, &q, err) == 0, "%s", err);
	service_free(svc);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, base64_vectors);
	tcase_add_test(tc, equal_compares_bytes_and_lengths);
	tcase_add_test(tc, basic_lines_and_checks);
	tcase_add_test(tc, tokens_and_checks);
	tcase_add_test(tc, bad_lines_refused_without_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, load_from_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("quota");
	tcase_add_test(tc, quota_alerts_and_rule_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(auth_suite());
}
