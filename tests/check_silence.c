/* check_silence.c: the pure parts of the deploy silences (silence.c): the
 * matcher that selects exactly a service's alerts, the comment, the body
 * of a POST, which silences of a GET are flowmon's, the time format, and
 * the --alertmanager-url checks. Against a real Alertmanager:
 * tests/it_silence.sh. */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "silence.h"
#include "swarmstate.h"
#include "testutil.h"

/* 1 when re (RE2 syntax; what is used here is POSIX ERE too) matches s. */
static int
matches(const char *re, const char *s)
{
	regex_t rx;
	char *posix = strdup(re), *p;
	int rc;

	/* (?: is RE2's non-capturing group: a plain group in ERE. */
	ck_assert_ptr_nonnull(posix);
	while ((p = strstr(posix, "(?:")) != NULL)
		memmove(p + 1, p + 3, strlen(p + 3) + 1);
	ck_assert_int_eq(regcomp(&rx, posix, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	free(posix);
	return rc;
}

START_TEST(test_regex)
{
	const char *one[] = { "godemo_main_down" };
	const char *two[] = { "web_down", "web_mem.limit" };
	const char *odd[] = { "a+b", "c|d", "(x)", "[y]", "^z$", "q?", "w*", "{n}",
	    "back\\slash" };
	char *re;
	size_t i;

	re = silence_regex(one, 1);
	ck_assert_str_eq(re, "^(?:godemo_main_down)$");
	ck_assert(matches(re, "godemo_main_down"));
	/* Nothing longer, shorter or around it. */
	ck_assert(!matches(re, "godemo_main_down2"));
	ck_assert(!matches(re, "godemo_main_dow"));
	ck_assert(!matches(re, "xgodemo_main_down"));
	free(re);
	re = silence_regex(two, 2);
	ck_assert_str_eq(re, "^(?:web_down|web_mem\\.limit)$");
	ck_assert(matches(re, "web_down"));
	ck_assert(matches(re, "web_mem.limit"));
	ck_assert(!matches(re, "web_memXlimit"));
	ck_assert(!matches(re, "web_down|web_mem.limit"));
	/* Another service whose name starts the same. */
	ck_assert(!matches(re, "web2_down"));
	free(re);
	/* Every metacharacter stands for itself. */
	re = silence_regex(odd, sizeof(odd) / sizeof(*odd));
	for (i = 0; i < sizeof(odd) / sizeof(*odd); i++)
		ck_assert_msg(matches(re, odd[i]), "%s does not match %s", re,
		    odd[i]);
	ck_assert(!matches(re, "aab"));
	ck_assert(!matches(re, "c"));
	ck_assert(!matches(re, "x"));
	ck_assert(!matches(re, "z"));
	free(re);
	ck_assert_ptr_null(silence_regex(one, 0));
}
END_TEST

START_TEST(test_comment_and_owner)
{
	struct swarm_status st;
	char c[1024], name[256];
	cJSON *sil;

	memset(&st, 0, sizeof(st));
	snprintf(st.update, sizeof(st.update), "updating");
	snprintf(st.message, sizeof(st.message), "update in progress");
	snprintf(st.image, sizeof(st.image), "acme/web:2.1");
	silence_comment("go-demo_main", &st, c, sizeof(c));
	ck_assert_str_eq(c, SILENCE_COMMENT_PREFIX "go-demo_main is being "
	    "deployed (Docker: updating, update in progress, image "
	    "acme/web:2.1); its alerts are held until the update ends");
	/* The body of a POST: one regex matcher, flowmon as creator. */
	sil = silence_body(NULL, "^(?:a)$", "2024-05-01T12:00:01.000Z",
	    "2024-05-01T12:03:00.000Z", c);
	ck_assert_ptr_nonnull(sil);
	{
		char *j = cJSON_PrintUnformatted(sil);

		ck_assert_str_eq(j, "{\"matchers\":[{\"name\":\"alertname\","
		    "\"value\":\"^(?:a)$\",\"isRegex\":true,\"isEqual\":true}],"
		    "\"startsAt\":\"2024-05-01T12:00:01.000Z\",\"endsAt\":"
		    "\"2024-05-01T12:03:00.000Z\",\"createdBy\":\"flowmon\","
		    "\"comment\":\"flowmon deploy silence: service go-demo_main "
		    "is being deployed (Docker: updating, update in progress, "
		    "image acme/web:2.1); its alerts are held until the update "
		    "ends\"}");
		free(j);
	}
	/* As Alertmanager gives it back: flowmon's, for go-demo_main. */
	cJSON_AddStringToObject(sil, "id", "0b7e");
	cJSON_AddItemToObject(sil, "status", cJSON_Parse(
	    "{\"state\": \"active\"}"));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 1);
	ck_assert_str_eq(name, "go-demo_main");
	/* Too small a buffer: not taken. */
	ck_assert_int_eq(silence_owned(sil, name, 5), 0);
	/* pending counts; expired does not. */
	cJSON_ReplaceItemInObject(sil, "status", cJSON_Parse(
	    "{\"state\": \"pending\"}"));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 1);
	cJSON_ReplaceItemInObject(sil, "status", cJSON_Parse(
	    "{\"state\": \"expired\"}"));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 0);
	cJSON_ReplaceItemInObject(sil, "status", cJSON_Parse(
	    "{\"state\": \"active\"}"));
	/* Someone else's, or flowmon's without the prefix: not ours. */
	cJSON_ReplaceItemInObject(sil, "createdBy", cJSON_CreateString("ops"));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 0);
	cJSON_ReplaceItemInObject(sil, "createdBy",
	    cJSON_CreateString("flowmon"));
	cJSON_ReplaceItemInObject(sil, "comment",
	    cJSON_CreateString("maintenance of go-demo_main"));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 0);
	cJSON_ReplaceItemInObject(sil, "comment",
	    cJSON_CreateString(SILENCE_COMMENT_PREFIX));
	ck_assert_int_eq(silence_owned(sil, name, sizeof(name)), 0);
	cJSON_Delete(sil);
	/* No update word, no message, no image. */
	memset(&st, 0, sizeof(st));
	silence_comment("x", &st, c, sizeof(c));
	ck_assert_str_eq(c, SILENCE_COMMENT_PREFIX "x is being deployed "
	    "(Docker: unknown); its alerts are held until the update ends");
	/* Cut to fit, terminated. */
	silence_comment("x", &st, c, 10);
	ck_assert_str_eq(c, "flowmon d");
}
END_TEST

START_TEST(test_urls)
{
	static const char *const bad[] = { "", " , ", "alertmanager:9093",
	    "ftp://am:21", "http://", "http://am:9093/?x=1",
	    "unix:///run/am.sock" };
	struct swarmstate *ss = swarmstate_new();
	struct silence_options o;
	struct silencer *s;
	char err[ERR_MAX];
	size_t i;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		o.urls = bad[i];
		err[0] = '\0';
		s = silence_start(&o, ss, NULL, err);
		ck_assert_msg(s == NULL, "%s accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "--alertmanager-url"));
	}
	/* A password is never quoted. */
	o.urls = "http://am:9093,ftp://u:secret@am2:21";
	ck_assert_ptr_null(silence_start(&o, ss, NULL, err));
	ck_assert_ptr_null(strstr(err, "secret"));
	/* Good ones, spaces and a trailing '/' allowed. Until the Docker
	 * source has listed everything once, nothing is asked. */
	o.urls = "http://127.0.0.1:1/, https://u:p@am.example:9093/am/";
	s = silence_start(&o, ss, NULL, err);
	ck_assert_msg(s != NULL, "%s", err);
	{
		struct buf b = BUF_INIT;

		silence_metrics(s, &b);
		ck_assert_int_eq(b.failed, 0);
		ck_assert_ptr_nonnull(strstr(b.p, "flowmon_deploy_silences{"
		    "alertmanager=\"http://127.0.0.1:1\"} 0\n"
		    "flowmon_deploy_silences{alertmanager=\"https://u:***@"
		    "am.example:9093/am\"} 0\n"));
		ck_assert_ptr_nonnull(strstr(b.p,
		    "flowmon_deploy_silence_errors_total{alertmanager="
		    "\"http://127.0.0.1:1\"} 0\n"));
		buf_release(&b);
	}
	silence_stop(s);
	silence_stop(NULL);
	swarmstate_free(ss);
}
END_TEST

static Suite *
silence_suite(void)
{
	Suite *s = suite_create("silence");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_comment_and_owner);
	tcase_add_test(tc, test_urls);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(silence_suite());
}
