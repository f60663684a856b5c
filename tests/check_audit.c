/* check_audit.c: `flowmon check` (audit.c): a whole data dir audited
 * before and after damage, and one with a service name the store has to
 * shorten. (The file checks are filecheck's, in check_filecheck.c; the
 * temp-name rule is the store's, in check_store.c.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "audit.h"
#include "record.h"
#include "render.h"
#include "request.h"
#include "store.h"
#include "testutil.h"

/* A data dir as flowmon leaves it: one service with a target and an
 * alert, its record, target file and rule file. */
static char *
good_dir(void)
{
	struct request_ctx ctx = { 0 };
	struct kvlist p = { 0 };
	struct service svc;
	char *dir = tu_tmpdir(), *path, *buf, err[ERR_MAX];
	size_t len;
	static const char *const sub[] = { "targets", "rules", "state",
		"nodes", "rejected" };
	size_t i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_ge(asprintf(&path, "%s/%s", dir, sub[i]), 0);
		ck_assert_int_eq(mkdir(path, 0755), 0);
		free(path);
	}
	memset(&svc, 0, sizeof(svc));
	ck_assert_int_eq(kvlist_set(&p, "serviceName", "web"), 0);
	ck_assert_int_eq(kvlist_set(&p, "targets", "127.0.0.1:9100"), 0);
	ck_assert_int_eq(kvlist_set(&p, "alertName", "down"), 0);
	ck_assert_int_eq(kvlist_set(&p, "alertIf", "up == 0"), 0);
	ck_assert_msg(request_parse(&p, &ctx, &svc, err) == 0, "%s", err);
	kvlist_release(&p);

	ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
	ck_assert_int_ge(asprintf(&path, "%s/state/web.json", dir), 0);
	tu_spit(path, buf);
	free(path);
	free(buf);
	ck_assert_int_eq(render_targets(&svc, NULL, 0, NULL, NULL, &buf, &len,
	    err), 0);
	ck_assert_int_ge(asprintf(&path, "%s/targets/web.json", dir), 0);
	tu_spit(path, buf);
	free(path);
	free(buf);
	ck_assert_int_eq(render_rules(&svc, 0, &buf, &len, err), 0);
	ck_assert_int_ge(asprintf(&path, "%s/rules/web.yml", dir), 0);
	tu_spit(path, buf);
	free(path);
	free(buf);
	service_release(&svc);
	return dir;
}

/* Audits dir; returns the problem count and the report (malloc'd). */
static long
audit(const char *dir, char **report)
{
	struct request_ctx ctx = { 0 };
	struct audit_opts o;
	char err[ERR_MAX] = "";
	size_t size;
	FILE *out = open_memstream(report, &size);
	long n;

	ck_assert_ptr_nonnull(out);
	o.rctx = &ctx;
	o.promtool = NULL;
	o.out = out;
	o.notes = NULL;
	n = audit_dir(dir, &o, err);
	fclose(out);
	ck_assert_msg(n >= 0, "audit_dir: %s", err);
	return n;
}

static void
spit_in(const char *dir, const char *rel, const char *s)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, rel), 0);
	tu_spit(path, s);
	free(path);
}

START_TEST(dir_good_then_damaged)
{
	char *dir = good_dir(), *report, *path;
	struct timeval old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	ck_assert_msg(audit(dir, &report) == 0, "good dir: %s", report);
	ck_assert_str_eq(report, "");
	free(report);

	/* A torn target file: one problem naming the file. */
	spit_in(dir, "targets/web.json", "[{\"targets\": [\"127.0.0.1:91");
	ck_assert_int_eq(audit(dir, &report), 1);
	ck_assert_msg(strstr(report, "/targets/web.json: invalid file_sd "
	    "file: not JSON") != NULL, "%s", report);
	free(report);

	/* A stray temp file from a crashed writer (dead pid, old). */
	ck_assert_int_ge(asprintf(&path, "%s/rules/.web.yml.tmp.999999999.3",
	    dir), 0);
	tu_spit(path, "groups: [");
	ck_assert_int_eq(utimes(path, old), 0);
	ck_assert_int_eq(audit(dir, &report), 2);
	ck_assert_msg(strstr(report, "/rules/.web.yml.tmp.999999999.3: stray "
	    "temp file") != NULL, "%s", report);
	free(report);
	free(path);

	/* A hidden file the *.json glob reads. */
	spit_in(dir, "targets/.hidden.json", "[]");
	ck_assert_int_eq(audit(dir, &report), 3);
	ck_assert_msg(strstr(report, "/targets/.hidden.json: hidden file") !=
	    NULL, "%s", report);
	free(report);

	/* A rule file edited by hand: valid, but not what the record says. */
	spit_in(dir, "rules/web.yml", "groups:\n- name: web\n  rules:\n"
	    "  - alert: web_down\n    expr: up == 1\n");
	ck_assert_int_eq(audit(dir, &report), 4);
	ck_assert_msg(strstr(report, "/rules/web.yml: does not match "
	    "state/web.json") != NULL, "%s", report);
	free(report);

	/* A record that does not parse, and one naming another service. */
	spit_in(dir, "state/web.json", "{\"service\": \"web\"");
	spit_in(dir, "state/api.json", "{\"service\": \"api\", \"removed\": "
	    "false, \"params\": {\"serviceName\": \"web\"}}\n");
	/* (the hand-edited rule file has no record to differ from now) */
	ck_assert_int_eq(audit(dir, &report), 5);
	ck_assert_msg(strstr(report, "/state/web.json: record does not load")
	    != NULL, "%s", report);
	ck_assert_msg(strstr(report, "/state/api.json: record does not load: "
	    "the record names service web") != NULL, "%s", report);
	free(report);

	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Issue 11: a service name over 213 bytes is stored under a shortened
 * base name (store_base); `flowmon check` must find its record the way
 * the daemon does, not call the file "not a valid service name". */
START_TEST(dir_long_service_name)
{
	struct request_ctx ctx = { 0 };
	struct kvlist p = { 0 };
	struct service svc;
	struct store st;
	char name[241], *dir = tu_tmpdir(), *buf, *report, err[ERR_MAX];
	size_t len;

	memset(name, 'a', 240);
	name[240] = '\0';
	name[0] = 'l';
	memset(&svc, 0, sizeof(svc));
	ck_assert_int_eq(kvlist_set(&p, "serviceName", name), 0);
	ck_assert_int_eq(kvlist_set(&p, "targets", "127.0.0.1:9100"), 0);
	ck_assert_int_eq(kvlist_set(&p, "alertName", "down"), 0);
	ck_assert_int_eq(kvlist_set(&p, "alertIf", "up == 0"), 0);
	ck_assert_msg(request_parse(&p, &ctx, &svc, err) == 0, "%s", err);
	kvlist_release(&p);
	/* Written as the registry writes them: through the store. */
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
	ck_assert_msg(store_write(&st, STORE_STATE, name, buf, len, err) == 0,
	    "%s", err);
	free(buf);
	ck_assert_int_eq(render_targets(&svc, NULL, 0, NULL, NULL, &buf, &len,
	    err), 0);
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, name, buf, len, err),
	    0);
	free(buf);
	ck_assert_int_eq(render_rules(&svc, 0, &buf, &len, err), 0);
	ck_assert_int_eq(store_write(&st, STORE_RULES, name, buf, len, err),
	    0);
	free(buf);
	store_release(&st);

	ck_assert_msg(audit(dir, &report) == 0, "long name: %s", report);
	ck_assert_str_eq(report, "");
	free(report);

	/* And the record is still compared with its rule file. */
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	ck_assert_int_eq(store_write(&st, STORE_RULES, name, "groups: []\n",
	    11, err), 0);
	store_release(&st);
	ck_assert_int_eq(audit(dir, &report), 1);
	ck_assert_msg(strstr(report, "does not match state/") != NULL, "%s",
	    report);
	free(report);

	/* A shortened base whose record names another service. */
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	name[100] = 'b';
	ck_assert_ptr_nonnull(buf = record_encode(&svc, 0, &len));
	ck_assert_int_eq(store_write(&st, STORE_STATE, name, buf, len, err),
	    0);
	free(buf);
	store_release(&st);
	ck_assert_int_eq(audit(dir, &report), 2);
	ck_assert_msg(strstr(report, "the record names service l") != NULL,
	    "%s", report);
	free(report);

	service_release(&svc);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(dir_missing)
{
	struct audit_opts o = { NULL, NULL, stdout, NULL };
	char err[ERR_MAX];

	ck_assert_int_eq(audit_dir("/nonexistent/flowmon", &o, err), -1);
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

START_TEST(dir_without_subdirs)
{
	char *dir = tu_tmpdir(), *report;

	/* targets/, rules/ and state/ are required; nodes/ and rejected/
	 * appear on first use. */
	ck_assert_int_eq(audit(dir, &report), 3);
	ck_assert_msg(strstr(report, "/targets: cannot open") != NULL, "%s",
	    report);
	free(report);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc;

	tc = tcase_create("dir");
	tcase_add_test(tc, dir_good_then_damaged);
	tcase_add_test(tc, dir_long_service_name);
	tcase_add_test(tc, dir_missing);
	tcase_add_test(tc, dir_without_subdirs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(audit_suite());
}
