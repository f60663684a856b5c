/* testutil.h: small helpers shared by the Check suites (temp dirs, files). */
#ifndef FLOWMON_TESTUTIL_H
#define FLOWMON_TESTUTIL_H

#include <check.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "request.h"

/* A fresh directory under $TMPDIR; the caller frees the path and may
 * remove it with tu_rmrf(). */
static inline char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL)
		base = "/tmp";
	if (asprintf(&p, "%s/flowmon-check.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

static inline void
tu_rmrf(const char *path)
{
	char *cmd;

	if (asprintf(&cmd, "rm -rf '%s'", path) < 0)
		abort();
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
	free(cmd);
}

/* Whole file as a malloc'd string, or NULL if it cannot be read. */
static inline char *
tu_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static inline void
tu_spit(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(s, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static inline int
tu_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* tu_skip(test, why): the running test cannot check what it is for here,
 * for a reason no package mends (running as root, say): says so on stderr
 * and in $TEST_SKIP_LOG, which tests/run-checks.sh lists in its summary.
 * The caller then returns. A skip is never silent; a missing program goes
 * through tu_require(). */
static inline void
tu_skip(const char *test, const char *why)
{
	const char *log = getenv("TEST_SKIP_LOG");
	FILE *f;

	fprintf(stderr, "SKIP: %s: %s\n", test, why);
	if (log != NULL && *log != '\0' && (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s: %s\n", test, why);
		fclose(f);
	}
}

/* tu_require(test, prog, package): the path of PROG on PATH (malloc'd),
 * or NULL when it is missing: then, with CI set (env CI non-empty), the
 * test fails (CI installs PACKAGE through .ci/deps.sh); without, it is a
 * skip (tu_skip) and the caller returns. */
static inline char *
tu_require(const char *test, const char *prog, const char *package)
{
	const char *path = getenv("PATH"), *ci = getenv("CI");
	char *copy, *dir, *save = NULL, *found = NULL, *why;

	if (path != NULL && (copy = strdup(path)) != NULL) {
		for (dir = strtok_r(copy, ":", &save);
		    dir != NULL && found == NULL;
		    dir = strtok_r(NULL, ":", &save)) {
			if (asprintf(&found, "%s/%s", dir, prog) < 0)
				abort();
			if (access(found, X_OK) != 0) {
				free(found);
				found = NULL;
			}
		}
		free(copy);
	}
	if (found != NULL)
		return found;
	if (ci != NULL && *ci != '\0')
		ck_abort_msg("%s: %s is missing: CI must have Debian's %s "
		    "(.ci/deps.sh)", test, prog, package);
	if (asprintf(&why, "%s is missing (Debian's %s)", prog, package) < 0)
		abort();
	tu_skip(test, why);
	free(why);
	return NULL;
}

/* Runs a suite; returns the process exit status. */
static inline int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* nodeInfo with n distinct tasks, URL-encoded, as a form value;
 * malloc'd. */
static inline char *
tu_node_info_form(size_t n)
{
	size_t cap = 64 + n * 96, off = 0, i;
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	off += (size_t)snprintf(b + off, cap - off, "%%5B");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(b + off, cap - off, "%s%%5B%%22h%zu%%22"
		    "%%2C%%2210.%zu.%zu.%zu%%22%%5D", i ? "%2C" : "", i,
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(b + off, cap - off, "%%5D");
	return b;
}

/* tu_run() with libcurl set up as main does it, once, before any thread:
 * for the suites of the HTTP clients. */
static inline int
tu_run_curl(Suite *s)
{
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	rc = tu_run(s);
	curl_global_cleanup();
	return rc;
}

/* A service from name=value pairs (NULL-terminated), through the real
 * request parser; the caller frees it with service_free(). */
static inline struct service *
tu_service(const char *first, ...)
{
	struct kvlist params = { 0 };
	struct request_ctx ctx = { 0 };
	struct service *svc = calloc(1, sizeof(*svc));
	const char *k, *v;
	char err[ERR_MAX];
	va_list ap;

	ck_assert_ptr_nonnull(svc);
	va_start(ap, first);
	for (k = first; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		ck_assert_int_eq(kvlist_set(&params, k, v), 0);
	}
	va_end(ap);
	if (request_parse(&params, &ctx, svc, err) == -1)
		ck_abort_msg("request_parse: %s", err);
	kvlist_release(&params);
	return svc;
}

#endif
