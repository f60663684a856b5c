/* check_record.c: the records under state/ and nodes/: what is encoded
 * decodes to the same parameters, and anything else is refused cleanly. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "record.h"
#include "request.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct request_ctx no_ctx = { 0 };

/* A service parsed from a form body. */
static void
service_from(const char *body, struct service *svc)
{
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "";

	ck_assert_msg(request_decode_form(body, strlen(body), &params, err) ==
	    0, "%s: %s", body, err);
	ck_assert_msg(request_parse(&params, &no_ctx, svc, err) == 0, "%s: %s",
	    body, err);
	kvlist_release(&params);
}

/* A heap copy of len bytes with no NUL after them, so that reading past
 * len is caught by the sanitizer. */
static char *
exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	return p;
}

/* Decodes len bytes of s, which must be refused, leaving params empty. */
static void
assert_refused(const char *s, size_t len)
{
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "", *p = exact_copy(s, len);
	int removed = 7;

	ck_assert_msg(record_decode(p, len, &params, &removed, NULL, err) == -1,
	    "accepted %.*s", (int)len, s);
	ck_assert_msg(err[0] != '\0', "no message for %.*s", (int)len, s);
	ck_assert_uint_eq(params.n, 0);
	ck_assert_ptr_null(params.v);
	free(p);
}

static const char *const bodies[] = {
	"serviceName=a",
	"serviceName=go-demo_main&scrapePort=8080&scrapeInterval=15s"
	"&scrapeTimeout=10s&metricsPath=%2Fm&scheme=https&distribute=true"
	"&replicas=3&env=prod&com.df.x=y",
	"serviceName=s&alertName=mem-limit&alertIf=a+%3E+1&alertFor=5m"
	"&alertLabels=severity=high,x=a=b&alertAnnotations=summary=s+t"
	"&alertPersistent=true&alertName.3=three&alertIf.3=up%0A%23x"
	"&alertName.100=c&alertIf.100=up+%3D%3D+%22%3A+x%22",
	/* JSON-hostile bytes: quotes, backslashes, control characters,
	 * non-ASCII, a slash after '<' */
	"serviceName=s&alertName=q&alertIf=a%7Bb%3D%22%5C%22%7D+%3E+1%09%0D"
	"&alertAnnotations=summary=%E2%82%AC+%F0%9F%94%A5+%3C%2Fscript%3E"
	"&x=%01%1F%7F",
	"serviceName=s&scrapePort=80&targets=b:2,a:1&nodeInfo="
	"[[%22n2%22,%2210.0.0.2%22,%22b%22],[%22n1%22,%2210.0.0.1%22]]",
};

START_TEST(test_roundtrip)
{
	struct service svc, again;
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "", *buf, *buf2, *copy;
	size_t len, len2;
	int removed, r;

	service_from(bodies[_i], &svc);
	for (r = 0; r <= 1; r++) {
		ck_assert_ptr_nonnull(buf = record_encode(&svc, r, &len));
		ck_assert_uint_eq(len, strlen(buf));
		ck_assert_uint_gt(len, 2);
		ck_assert_int_eq(buf[len - 1], '\n');
		copy = exact_copy(buf, len);
		removed = -1;
		ck_assert_msg(record_decode(copy, len, &params, &removed, NULL,
		    err) == 0, "%s", err);
		free(copy);
		ck_assert_int_eq(removed, r);
		ck_assert(kvlist_equal(&params, &svc.params));

		/* The decoded params are the same service, encoded to the
		 * same bytes: a record is a fixed point. */
		ck_assert_msg(request_parse(&params, &no_ctx, &again, err) == 0,
		    "%s", err);
		ck_assert_ptr_nonnull(buf2 = record_encode(&again, r, &len2));
		ck_assert_uint_eq(len2, len);
		ck_assert_str_eq(buf2, buf);
		service_release(&again);
		kvlist_release(&params);
		free(buf2);
		free(buf);
	}
	service_release(&svc);
}
END_TEST

START_TEST(test_shape)
{
	struct service svc;
	cJSON *root, *p;
	char *buf;
	size_t len, i;

	service_from(bodies[1], &svc);
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 1, &len));
	ck_assert_ptr_nonnull(root = cJSON_Parse(buf));
	ck_assert_str_eq(cJSON_GetObjectItem(root, "service")->valuestring,
	    "go-demo_main");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "removed")));
	p = cJSON_GetObjectItem(root, "params");
	ck_assert(cJSON_IsObject(p));
	ck_assert_int_eq(cJSON_GetArraySize(p), (int)svc.params.n);
	/* In the canonical (sorted) order, every value a string. */
	for (i = 0; i < svc.params.n; i++) {
		cJSON *it = cJSON_GetArrayItem(p, (int)i);

		ck_assert_str_eq(it->string, svc.params.v[i].key);
		ck_assert_str_eq(it->valuestring, svc.params.v[i].value);
	}
	cJSON_Delete(root);
	free(buf);
	service_release(&svc);
}
END_TEST

START_TEST(test_removed_absent)
{
	static const char rec[] = "{\"params\": {\"serviceName\": \"x\"}}";
	struct kvlist params = { 0 };
	char err[ERR_MAX];
	int removed = 7;

	/* "removed" is optional and defaults to false; "service" is only
	 * informative. */
	ck_assert_int_eq(record_decode(rec, strlen(rec), &params, &removed,
	    NULL, err), 0);
	ck_assert_int_eq(removed, 0);
	ck_assert_uint_eq(params.n, 1);
	ck_assert_str_eq(kvlist_get(&params, "serviceName"), "x");
	kvlist_release(&params);
}
END_TEST

/* Where the service came from is kept; an older record names none, and
 * a word flowmon does not know counts as none. */
START_TEST(test_source)
{
	static const char *const words[] = { "webhook", "listener", "docker" };
	struct service svc;
	struct kvlist params = { 0 };
	enum service_source src;
	char err[ERR_MAX], *buf;
	size_t len, i;
	int removed;

	service_from(bodies[0], &svc);
	for (i = 0; i < nitems(words); i++) {
		svc.source = service_source_parse(words[i]);
		ck_assert_int_ne(svc.source, SERVICE_SOURCE_UNKNOWN);
		ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
		ck_assert_int_eq(record_decode(buf, len, &params, &removed,
		    &src, err), 0);
		ck_assert_int_eq(src, svc.source);
		ck_assert_str_eq(service_source_name(src), words[i]);
		kvlist_release(&params);
		free(buf);
	}
	svc.source = SERVICE_SOURCE_UNKNOWN;
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
	ck_assert_ptr_null(strstr(buf, "source"));
	ck_assert_int_eq(record_decode(buf, len, &params, &removed, &src,
	    err), 0);
	ck_assert_int_eq(src, SERVICE_SOURCE_UNKNOWN);
	kvlist_release(&params);
	free(buf);
	buf = strdup("{\"source\": \"carrier pigeon\", \"params\": {}}");
	ck_assert_int_eq(record_decode(buf, strlen(buf), &params, &removed,
	    &src, err), 0);
	ck_assert_int_eq(src, SERVICE_SOURCE_UNKNOWN);
	ck_assert_ptr_null(service_source_name(src));
	free(buf);
	service_release(&svc);
}
END_TEST

static const char *const malformed[] = {
	"",
	" ",
	"\n",
	"null",
	"true",
	"1",
	"\"x\"",
	"[]",
	"{",
	"}",
	"{}",
	"{\"service\": \"x\", \"removed\": false}",
	"{\"params\": []}",
	"{\"params\": null}",
	"{\"params\": \"a=b\"}",
	"{\"params\": {\"a\": 1}}",
	"{\"params\": {\"a\": null}}",
	"{\"params\": {\"a\": true}}",
	"{\"params\": {\"a\": [\"b\"]}}",
	"{\"params\": {\"a\": {\"b\": \"c\"}}}",
	"{\"params\": {\"a\": \"b\", \"c\": 2}}",
	"{\"removed\": \"yes\", \"params\": {}}",
	"{\"removed\": 1, \"params\": {}}",
	"{\"removed\": null, \"params\": {}}",
	"{\"params\": {\"a\": \"b\"}",
	"{\"params\": {\"a\": \"b}}",
	"{\"params\": {\"a\": \"b\\x\"}}",
	"{params: {}}",
	"{'params': {}}",
	"{\"params\": {}}}",
	"{\"params\": {}} {\"params\": {}}",
	"{\"params\": {}}\nx",
	"\xff\xfe{",
};

START_TEST(test_malformed)
{
	assert_refused(malformed[_i], strlen(malformed[_i]));
}
END_TEST

START_TEST(test_truncated)
{
	struct service svc;
	char *buf;
	size_t len, n;

	/* A record cut anywhere before its closing brace is refused. */
	service_from(bodies[2], &svc);
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
	for (n = 0; n + 2 < len; n++)
		assert_refused(buf, n);
	free(buf);
	service_release(&svc);
}
END_TEST

START_TEST(test_corrupted_no_crash)
{
	struct service svc;
	struct kvlist params = { 0 };
	char err[ERR_MAX], *buf, *copy, *key;
	size_t len, i, key_at;
	uint32_t x = 2463534242u;	/* xorshift: the same bytes every run */
	int removed, k, ok = 0, bad = 0, renamed_ok = 0;

	/* Every byte of a record replaced by noise, a few times over: each
	 * either decodes to a list of string pairs or is refused with an
	 * empty list; the sanitizer build checks no byte past len is read. */
	service_from(bodies[3], &svc);
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 1, &len));
	/* Where the letters of the "removed" key are: a record that still
	 * decodes says removed, unless noise renamed that key (then it is
	 * absent, which means not removed). */
	ck_assert_ptr_nonnull(key = memmem(buf, len, "\"removed\"", 9));
	key_at = (size_t)(key - buf) + 1;
	for (i = 0; i < len; i++) {
		for (k = 0; k < 4; k++) {
			copy = exact_copy(buf, len);
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			copy[i] = (char)(k == 0 ? 0 : (x & 0xff));
			if (record_decode(copy, len, &params, &removed, NULL,
			    err) == 0) {
				int renamed = i >= key_at && i < key_at + 7 &&
				    copy[i] != buf[i];

				ck_assert_msg(removed == !renamed, "byte %zu "
				    "0x%02x: removed %d", i,
				    (unsigned char)copy[i], removed);
				renamed_ok += renamed;
				ok++;
			} else {
				ck_assert_uint_eq(params.n, 0);
				bad++;
			}
			kvlist_release(&params);
			free(copy);
		}
	}
	/* Both outcomes happened, and a renamed key too: the test saw what
	 * it means to see. */
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(bad, 0);
	ck_assert_int_gt(renamed_ok, 0);
	free(buf);
	service_release(&svc);
}
END_TEST

START_TEST(test_deep_nesting)
{
	size_t n = 100000, i;
	char *s = malloc(2 * n + 16);

	/* cJSON bounds its recursion: deep nesting is refused, no crash. */
	ck_assert_ptr_nonnull(s);
	memcpy(s, "{\"params\":", 10);
	for (i = 0; i < n; i++) {
		s[10 + i] = '[';
		s[10 + n + i] = ']';
	}
	s[10 + 2 * n] = '}';
	s[10 + 2 * n + 1] = '\0';
	assert_refused(s, strlen(s));
	free(s);
}
END_TEST

/*
 * Node records.
 */

START_TEST(test_node_roundtrip)
{
	struct kvlist labels = { 0 }, back = { 0 };
	char err[ERR_MAX], *buf, *id, *copy;
	size_t len;

	ck_assert_int_eq(kvlist_set(&labels, "aws_region", "eu \"west\""), 0);
	ck_assert_int_eq(kvlist_set(&labels, "role", "worker\n"), 0);
	ck_assert_ptr_nonnull(buf = record_node_encode("abc123", &labels,
	    &len));
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(buf[len - 1], '\n');
	copy = exact_copy(buf, len);
	ck_assert_msg(record_node_decode(copy, len, &id, &back, err) == 0, "%s",
	    err);
	ck_assert_str_eq(id, "abc123");
	ck_assert(kvlist_equal(&labels, &back));
	free(id);
	free(copy);
	free(buf);
	kvlist_release(&back);

	/* No labels is a record too. */
	kvlist_release(&labels);
	ck_assert_ptr_nonnull(buf = record_node_encode("n1", &labels, &len));
	ck_assert_int_eq(record_node_decode(buf, len, &id, &back, err), 0);
	ck_assert_str_eq(id, "n1");
	ck_assert_uint_eq(back.n, 0);
	free(id);
	free(buf);
}
END_TEST

START_TEST(test_node_malformed)
{
	static const char *const bad[] = {
		"", "null", "[]", "{}",
		"{\"labels\": {}}",
		"{\"id\": 1, \"labels\": {}}",
		"{\"id\": \"\", \"labels\": {}}",
		"{\"id\": \"../x\", \"labels\": {}}",
		"{\"id\": \"a/b\", \"labels\": {}}",
		"{\"id\": \".x\", \"labels\": {}}",
		"{\"id\": \"n1\"}",
		"{\"id\": \"n1\", \"labels\": []}",
		"{\"id\": \"n1\", \"labels\": {\"a\": 1}}",
		"{\"id\": \"n1\", \"labels\": {\"a\": \"b\", \"c\": null}}",
		"{\"id\": \"n1\", \"labels\": {}",
		"{\"id\": \"n1\", \"labels\": {}} x",
	};
	struct kvlist labels = { 0 };
	char err[ERR_MAX], *id, *copy;
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		copy = exact_copy(bad[i], strlen(bad[i]));
		id = (char *)1;
		err[0] = '\0';
		ck_assert_msg(record_node_decode(copy, strlen(bad[i]), &id,
		    &labels, err) == -1, "accepted %s", bad[i]);
		ck_assert_ptr_null(id);
		ck_assert_uint_eq(labels.n, 0);
		ck_assert(err[0] != '\0');
		free(copy);
	}
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc;

	tc = tcase_create("service");
	tcase_add_loop_test(tc, test_roundtrip, 0, nitems(bodies));
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_removed_absent);
	tcase_add_test(tc, test_source);
	tcase_add_loop_test(tc, test_malformed, 0, nitems(malformed));
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_corrupted_no_crash);
	tcase_add_test(tc, test_deep_nesting);
	suite_add_tcase(s, tc);

	tc = tcase_create("node");
	tcase_add_test(tc, test_node_roundtrip);
	tcase_add_test(tc, test_node_malformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(record_suite());
}
