/* check_http_guard.c: the HTTP front's guard (http_guard.c) on plain
 * values: who may call which endpoint with basic and bearer credentials
 * and --open-reads, the standby answer, the connection cap with ping
 * always served, the MHD limit with its reserve, the headers a refusal
 * carries, and the set-up from credential and TLS files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "config.h"
#include "http_guard.h"
#include "metrics.h"
#include "store.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* base64 of admin:s3cret, admin:wrong and ops:pa:ss. */
#define GOOD_BASIC	"Basic YWRtaW46czNjcmV0"
#define WRONG_BASIC	"Basic YWRtaW46d3Jvbmc="
#define OPS_BASIC	"Basic b3BzOnBhOnNz"
#define TOKEN		"tok-0123456789abcdef"

static const enum metrics_endpoint mutating[] = {
	M_EP_RECONFIGURE, M_EP_REMOVE, M_EP_NODE_RECONFIGURE, M_EP_NODE_REMOVE,
};
static const enum metrics_endpoint reads[] = {
	M_EP_SERVICES, M_EP_FILES, M_EP_SD, M_EP_METRICS, M_EP_OTHER,
};

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

/* dir/name holding text; malloc'd path. */
static char *
file(const char *name, const char *text)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	tu_spit(p, text);
	return p;
}

/* A guard over cfg, which must be accepted. */
static void
guard(struct http_guard *g, const struct config *cfg)
{
	char err[ERR_MAX] = "";

	ck_assert_msg(http_guard_init(g, cfg, err) == 0, "init: %s", err);
}

/* The guard's answer, checking that msg and reason come with a refusal. */
static int
decide(const struct http_guard *g, enum metrics_endpoint ep,
    const char *authorization, unsigned int nconns, char msg[ERR_MAX],
    const char **reason)
{
	int code;

	msg[0] = '\0';
	*reason = NULL;
	code = http_guard_decide(g, ep, authorization, nconns, msg, reason);
	if (code != 0)
		ck_assert_msg(msg[0] != '\0', "%s: %d without a message",
		    metrics_endpoint_name(ep), code);
	if (code == 401)
		ck_assert_ptr_nonnull(*reason);
	else
		ck_assert_ptr_null(*reason);
	return code;
}

START_TEST(no_auth_serves_everything)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];
	int ep;

	guard(&g, &cfg);
	for (ep = 0; ep < M_EP_COUNT; ep++) {
		ck_assert_int_eq(decide(&g, ep, NULL, 1, msg, &reason), 0);
		/* A header is not even looked at. */
		ck_assert_int_eq(decide(&g, ep, "Bogus x", 1, msg, &reason),
		    0);
	}
	ck_assert_int_eq(http_guard_flags(&g), 0);
	http_guard_release(&g);
}
END_TEST

START_TEST(basic_auth_on_every_endpoint_but_ping)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];
	int ep;

	cfg.basic_auth_file = file("users", "# operators\nadmin:s3cret\n"
	    "ops:pa:ss\n");
	guard(&g, &cfg);
	for (ep = 0; ep < M_EP_COUNT; ep++) {
		if (ep == M_EP_PING) {
			ck_assert_int_eq(decide(&g, ep, NULL, 1, msg, &reason),
			    0);
			ck_assert_int_eq(decide(&g, ep, WRONG_BASIC, 1, msg,
			    &reason), 0);
			continue;
		}
		ck_assert_int_eq(decide(&g, ep, NULL, 1, msg, &reason), 401);
		ck_assert_str_eq(msg, "authentication required: no "
		    "credentials");
		ck_assert_str_eq(reason, "no credentials");
		ck_assert_int_eq(decide(&g, ep, WRONG_BASIC, 1, msg, &reason),
		    401);
		ck_assert_str_eq(msg, "authentication required: wrong "
		    "credentials");
		ck_assert_str_eq(reason, "wrong credentials");
		/* Nothing of what was sent is echoed. */
		ck_assert_ptr_null(strstr(msg, "YWRt"));
		ck_assert_int_eq(decide(&g, ep, "Digest abc", 1, msg,
		    &reason), 401);
		ck_assert_str_eq(reason, "malformed Authorization header");
		ck_assert_int_eq(decide(&g, ep, "Basic", 1, msg, &reason),
		    401);
		ck_assert_str_eq(reason, "malformed Authorization header");
		/* A token where only users are known is no credential. */
		ck_assert_int_eq(decide(&g, ep, "Bearer " TOKEN, 1, msg,
		    &reason), 401);
		ck_assert_int_eq(decide(&g, ep, GOOD_BASIC, 1, msg, &reason),
		    0);
		/* The password may hold ':'; the scheme is case-blind. */
		ck_assert_int_eq(decide(&g, ep, OPS_BASIC, 1, msg, &reason),
		    0);
		ck_assert_int_eq(decide(&g, ep, "basic YWRtaW46czNjcmV0", 1,
		    msg, &reason), 0);
	}
	http_guard_release(&g);
	free(cfg.basic_auth_file);
}
END_TEST

START_TEST(bearer_tokens)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];

	/* Two tokens: rotation. */
	cfg.bearer_token_file = file("tokens", "old-token-1\n" TOKEN "\n");
	guard(&g, &cfg);
	ck_assert_int_eq(decide(&g, M_EP_RECONFIGURE, "Bearer " TOKEN, 1, msg,
	    &reason), 0);
	ck_assert_int_eq(decide(&g, M_EP_SERVICES, "Bearer old-token-1", 1,
	    msg, &reason), 0);
	ck_assert_int_eq(decide(&g, M_EP_REMOVE, "Bearer " TOKEN "x", 1, msg,
	    &reason), 401);
	ck_assert_str_eq(reason, "wrong credentials");
	ck_assert_int_eq(decide(&g, M_EP_METRICS, GOOD_BASIC, 1, msg,
	    &reason), 401);
	ck_assert_int_eq(decide(&g, M_EP_SD, NULL, 1, msg, &reason), 401);
	ck_assert_str_eq(reason, "no credentials");
	ck_assert_int_eq(decide(&g, M_EP_PING, NULL, 1, msg, &reason), 0);
	http_guard_release(&g);
	free(cfg.bearer_token_file);
}
END_TEST

START_TEST(both_files_either_credential)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];

	cfg.basic_auth_file = file("users", "admin:s3cret\n");
	cfg.bearer_token_file = file("tokens", TOKEN "\n");
	guard(&g, &cfg);
	ck_assert_int_eq(decide(&g, M_EP_NODE_REMOVE, GOOD_BASIC, 1, msg,
	    &reason), 0);
	ck_assert_int_eq(decide(&g, M_EP_NODE_REMOVE, "Bearer " TOKEN, 1, msg,
	    &reason), 0);
	ck_assert_int_eq(decide(&g, M_EP_NODE_REMOVE, WRONG_BASIC, 1, msg,
	    &reason), 401);
	http_guard_release(&g);
	free(cfg.basic_auth_file);
	free(cfg.bearer_token_file);
}
END_TEST

START_TEST(open_reads_leaves_writes_guarded)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];
	size_t i;

	cfg.basic_auth_file = file("users", "admin:s3cret\n");
	cfg.open_reads = 1;
	guard(&g, &cfg);
	for (i = 0; i < nitems(reads); i++) {
		ck_assert_int_eq(decide(&g, reads[i], NULL, 1, msg, &reason),
		    0);
		/* Open means open: wrong credentials are not looked at. */
		ck_assert_int_eq(decide(&g, reads[i], WRONG_BASIC, 1, msg,
		    &reason), 0);
	}
	for (i = 0; i < nitems(mutating); i++) {
		ck_assert_int_eq(decide(&g, mutating[i], NULL, 1, msg,
		    &reason), 401);
		ck_assert_int_eq(decide(&g, mutating[i], WRONG_BASIC, 1, msg,
		    &reason), 401);
		ck_assert_int_eq(decide(&g, mutating[i], GOOD_BASIC, 1, msg,
		    &reason), 0);
	}
	http_guard_release(&g);

	/* --open-reads without an auth file changes nothing. */
	free(cfg.basic_auth_file);
	cfg.basic_auth_file = NULL;
	guard(&g, &cfg);
	for (i = 0; i < nitems(mutating); i++)
		ck_assert_int_eq(decide(&g, mutating[i], NULL, 1, msg,
		    &reason), 0);
	http_guard_release(&g);
}
END_TEST

START_TEST(standby_answers_503_but_ping)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX], *lock;
	int ep;

	cfg.data_dir = dir;
	cfg.basic_auth_file = file("users", "admin:s3cret\n");
	cfg.max_connections = 2;
	ck_assert_int_ge(asprintf(&lock, "%s/%s", dir, STORE_LOCK_FILE), 0);
	guard(&g, &cfg);
	ck_assert_int_eq(http_guard_standby(&g), 0);
	http_guard_set_standby(&g, 1);
	ck_assert_int_eq(http_guard_standby(&g), 1);
	for (ep = 0; ep < M_EP_COUNT; ep++) {
		if (ep == M_EP_PING) {
			ck_assert_int_eq(decide(&g, ep, NULL, 99, msg,
			    &reason), 0);
			continue;
		}
		/* Before credentials and the connection count: a standby
		 * serves nobody, and says which lock it waits for. */
		ck_assert_int_eq(decide(&g, ep, GOOD_BASIC, 1, msg, &reason),
		    503);
		ck_assert_ptr_nonnull(strstr(msg, "standby"));
		ck_assert_ptr_nonnull(strstr(msg, lock));
		ck_assert_int_eq(decide(&g, ep, NULL, 99, msg, &reason), 503);
	}
	http_guard_set_standby(&g, 0);
	ck_assert_int_eq(decide(&g, M_EP_SERVICES, GOOD_BASIC, 1, msg,
	    &reason), 0);
	ck_assert_int_eq(decide(&g, M_EP_SERVICES, NULL, 1, msg, &reason),
	    401);
	http_guard_release(&g);
	free(lock);
	free(cfg.basic_auth_file);
}
END_TEST

START_TEST(connection_cap_spares_ping)
{
	struct config cfg = { 0 };
	struct http_guard g;
	const char *reason;
	char msg[ERR_MAX];
	int ep;

	cfg.max_connections = 4;
	cfg.basic_auth_file = file("users", "admin:s3cret\n");
	guard(&g, &cfg);
	for (ep = 0; ep < M_EP_COUNT; ep++) {
		if (ep == M_EP_PING) {
			ck_assert_int_eq(decide(&g, ep, NULL, 1000, msg,
			    &reason), 0);
			continue;
		}
		ck_assert_int_eq(decide(&g, ep, GOOD_BASIC, 4, msg, &reason),
		    0);
		ck_assert_int_eq(decide(&g, ep, GOOD_BASIC, 5, msg, &reason),
		    429);
		ck_assert_str_eq(msg, "too many connections (5 open, "
		    "--max-connections 4): retry later");
		/* Over the cap, credentials are not even asked for. */
		ck_assert_int_eq(decide(&g, ep, NULL, 5, msg, &reason), 429);
		ck_assert_int_eq(decide(&g, ep, NULL, 4, msg, &reason), 401);
	}
	http_guard_release(&g);
	free(cfg.basic_auth_file);

	/* 0: no cap. */
	memset(&cfg, 0, sizeof(cfg));
	guard(&g, &cfg);
	ck_assert_int_eq(decide(&g, M_EP_RECONFIGURE, NULL, 100000, msg,
	    &reason), 0);
	http_guard_release(&g);
}
END_TEST

START_TEST(mhd_limit_has_a_reserve)
{
	static const struct { long max; unsigned int limit; } cases[] = {
		{ 1, 9 }, { 8, 16 }, { 64, 72 }, { 100, 112 }, { 1000, 1125 },
	};
	struct config cfg = { 0 };
	struct http_guard g;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		cfg.max_connections = cases[i].max;
		guard(&g, &cfg);
		ck_assert_uint_eq(http_guard_mhd_limit(&g), cases[i].limit);
		http_guard_release(&g);
	}
}
END_TEST

START_TEST(notify_counts_connections)
{
	struct config cfg = { 0 };
	struct http_guard g;
	void *sc = NULL;

	guard(&g, &cfg);
	/* Without a cap the connection itself is not touched. */
	http_guard_notify(&g, NULL, &sc, MHD_CONNECTION_NOTIFY_STARTED);
	http_guard_notify(&g, NULL, &sc, MHD_CONNECTION_NOTIFY_STARTED);
	ck_assert_uint_eq(g.nconns, 2);
	http_guard_notify(&g, NULL, &sc, MHD_CONNECTION_NOTIFY_CLOSED);
	ck_assert_uint_eq(g.nconns, 1);
	http_guard_notify(&g, NULL, &sc, MHD_CONNECTION_NOTIFY_CLOSED);
	ck_assert_uint_eq(g.nconns, 0);
	http_guard_release(&g);
}
END_TEST

/* Collects the values of one header of a response. */
struct hdrs {
	const char	*name;
	char		 values[4][128];
	int		 n;
};

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdrs *h = cls;

	(void)kind;
	if (strcasecmp(key, h->name) == 0 && h->n < 4)
		snprintf(h->values[h->n++], sizeof(h->values[0]), "%s", value);
	return MHD_YES;
}

/* The values header name has on a response to code. */
static void
headers_of(const struct http_guard *g, int code, const char *name,
    struct hdrs *h)
{
	struct MHD_Response *resp;

	memset(h, 0, sizeof(*h));
	h->name = name;
	resp = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	ck_assert_ptr_nonnull(resp);
	http_guard_headers(g, resp, code);
	MHD_get_response_headers(resp, collect_header, h);
	MHD_destroy_response(resp);
}

START_TEST(refusals_carry_their_headers)
{
	struct config cfg = { 0 };
	struct http_guard g;
	struct hdrs h;

	cfg.basic_auth_file = file("users", "admin:s3cret\n");
	cfg.bearer_token_file = file("tokens", TOKEN "\n");
	guard(&g, &cfg);
	headers_of(&g, 401, MHD_HTTP_HEADER_WWW_AUTHENTICATE, &h);
	ck_assert_int_eq(h.n, 2);
	ck_assert_str_eq(h.values[0],
	    "Basic realm=\"flowmon\", charset=\"UTF-8\"");
	ck_assert_str_eq(h.values[1], "Bearer realm=\"flowmon\"");
	headers_of(&g, 401, MHD_HTTP_HEADER_RETRY_AFTER, &h);
	ck_assert_int_eq(h.n, 0);
	headers_of(&g, 429, MHD_HTTP_HEADER_RETRY_AFTER, &h);
	ck_assert_int_eq(h.n, 1);
	ck_assert_str_eq(h.values[0], "1");
	headers_of(&g, 429, MHD_HTTP_HEADER_CONNECTION, &h);
	ck_assert_int_eq(h.n, 1);
	ck_assert_str_eq(h.values[0], "close");
	headers_of(&g, 503, MHD_HTTP_HEADER_RETRY_AFTER, &h);
	ck_assert_int_eq(h.n, 1);
	headers_of(&g, 200, MHD_HTTP_HEADER_RETRY_AFTER, &h);
	ck_assert_int_eq(h.n, 0);
	headers_of(&g, 200, MHD_HTTP_HEADER_WWW_AUTHENTICATE, &h);
	ck_assert_int_eq(h.n, 0);
	http_guard_release(&g);
	free(cfg.basic_auth_file);
	free(cfg.bearer_token_file);

	/* Only the challenge of the scheme that is configured. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.bearer_token_file = file("tokens", TOKEN "\n");
	guard(&g, &cfg);
	headers_of(&g, 401, MHD_HTTP_HEADER_WWW_AUTHENTICATE, &h);
	ck_assert_int_eq(h.n, 1);
	ck_assert_str_eq(h.values[0], "Bearer realm=\"flowmon\"");
	http_guard_release(&g);
	free(cfg.bearer_token_file);
}
END_TEST

START_TEST(init_refuses_bad_files_without_secrets)
{
	struct config cfg = { 0 };
	struct http_guard g;
	char err[ERR_MAX], *missing;

	ck_assert_int_ge(asprintf(&missing, "%s/no-such-file", dir), 0);
	cfg.basic_auth_file = missing;
	err[0] = '\0';
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, missing));

	/* A user without a password: refused, the line's secret unsaid. */
	cfg.basic_auth_file = file("users", "admin:s3cret\nnopass\n");
	err[0] = '\0';
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	ck_assert_str_ne(err, "");
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(cfg.basic_auth_file);
	cfg.basic_auth_file = NULL;

	cfg.bearer_token_file = file("tokens", "# only a comment\n");
	err[0] = '\0';
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	ck_assert_str_ne(err, "");
	free(cfg.bearer_token_file);
	free(missing);
}
END_TEST

START_TEST(init_checks_tls_material)
{
	struct config cfg = { 0 };
	struct http_guard g;
	char err[ERR_MAX];

	cfg.tls_cert = file("cert.pem", "not a certificate\n");
	cfg.tls_key = file("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	err[0] = '\0';
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		ck_assert_ptr_nonnull(strstr(err, "without TLS support"));
		goto out;
	}
	ck_assert_msg(strstr(err, "--tls-cert") != NULL &&
	    strstr(err, "is not PEM") != NULL, "%s", err);
	free(cfg.tls_cert);
	cfg.tls_cert = file("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");

	free(cfg.tls_key);
	cfg.tls_key = file("key.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	ck_assert_msg(strstr(err, "is not a PEM private key") != NULL, "%s",
	    err);

	free(cfg.tls_key);
	cfg.tls_key = file("key.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	    "AAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
	ck_assert_int_eq(http_guard_init(&g, &cfg, err), -1);
	ck_assert_msg(strstr(err, "is encrypted") != NULL, "%s", err);

	/* Read and handed to MHD as they are (MHD parses them). */
	free(cfg.tls_key);
	cfg.tls_key = file("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	guard(&g, &cfg);
	ck_assert_uint_eq(http_guard_flags(&g), MHD_USE_TLS);
	ck_assert_int_eq(http_guard_options(&g)[0].option,
	    MHD_OPTION_HTTPS_MEM_CERT);
	ck_assert_int_eq(http_guard_options(&g)[1].option,
	    MHD_OPTION_HTTPS_MEM_KEY);
	ck_assert_int_eq(http_guard_options(&g)[2].option, MHD_OPTION_END);
	http_guard_release(&g);
out:
	free(cfg.tls_cert);
	free(cfg.tls_key);
}
END_TEST

START_TEST(per_client_cap_is_an_mhd_option)
{
	struct config cfg = { 0 };
	struct http_guard g;

	guard(&g, &cfg);
	ck_assert_int_eq(http_guard_options(&g)[0].option, MHD_OPTION_END);
	http_guard_release(&g);
	cfg.max_conns_per_client = 3;
	guard(&g, &cfg);
	ck_assert_int_eq(http_guard_options(&g)[0].option,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT);
	ck_assert_int_eq(http_guard_options(&g)[0].value, 3);
	ck_assert_int_eq(http_guard_options(&g)[1].option, MHD_OPTION_END);
	http_guard_release(&g);
}
END_TEST

static Suite *
http_guard_suite(void)
{
	Suite *s = suite_create("http_guard");
	TCase *tc;

	tc = tcase_create("decide");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_auth_serves_everything);
	tcase_add_test(tc, basic_auth_on_every_endpoint_but_ping);
	tcase_add_test(tc, bearer_tokens);
	tcase_add_test(tc, both_files_either_credential);
	tcase_add_test(tc, open_reads_leaves_writes_guarded);
	tcase_add_test(tc, standby_answers_503_but_ping);
	tcase_add_test(tc, connection_cap_spares_ping);
	suite_add_tcase(s, tc);

	tc = tcase_create("mhd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mhd_limit_has_a_reserve);
	tcase_add_test(tc, notify_counts_connections);
	tcase_add_test(tc, refusals_carry_their_headers);
	tcase_add_test(tc, per_client_cap_is_an_mhd_option);
	suite_add_tcase(s, tc);

	tc = tcase_create("init");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_refuses_bad_files_without_secrets);
	tcase_add_test(tc, init_checks_tls_material);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(http_guard_suite());
}
