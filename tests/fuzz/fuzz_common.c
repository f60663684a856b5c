/* fuzz_common.c: see fuzz.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "audit.h"
#include "filecheck.h"
#include "fuzz.h"
#include "record.h"
#include "render.h"
#include "rulecheck.h"
#include "shortcuts.h"

_Noreturn void
fuzz_fail(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz oracle failed: %s: %s\n", what, msg ? msg : "");
	abort();
}

const struct shortcuts *
fuzz_shortcuts(void)
{
	static struct shortcuts *t;
	char err[ERR_MAX];

	if (t != NULL)
		return t;
	if ((t = shortcuts_new()) == NULL)
		fuzz_fail("shortcuts_new", "out of memory");
	if (shortcuts_merge_yaml(t, shortcuts_builtin, shortcuts_builtin_len,
	    "builtin", NULL, NULL, err) <= 0)
		fuzz_fail("built-in shortcut table", err);
	return t;
}

const struct request_ctx *
fuzz_ctx(void)
{
	static const char *const labels[] = { "env", "aws-region" };
	static struct request_ctx ctx;

	ctx.shortcuts = fuzz_shortcuts();
	ctx.target_labels = labels;
	ctx.ntarget_labels = 2;
	return &ctx;
}

int
fuzz_params(const uint8_t *data, size_t size, struct kvlist *out)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq;
		char *key, *value;
		int rc;

		eq = memchr(p, '=', (size_t)(le - p));
		key = strndup(p, (size_t)((eq ? eq : le) - p));
		value = eq ? strndup(eq + 1, (size_t)(le - eq - 1)) :
		    strdup("");
		rc = key && value ? kvlist_set_ci(out, key, value) : -1;
		free(key);
		free(value);
		if (rc == -1)
			return -1;
		p = le + 1;
	}
	return 0;
}

/* Both rule files of svc (all alerts, persistent only) must read back. */
static void
check_rules(const struct service *svc, int persistent_only, char **out,
    size_t *len)
{
	char err[ERR_MAX], msg[2 * ERR_MAX];

	if (render_rules(svc, persistent_only, out, len, err) == -1)
		fuzz_fail("render_rules of an accepted request", err);
	if (*out == NULL)
		return;
	if (rulecheck_yaml(*out, *len, svc, persistent_only, err) == -1) {
		snprintf(msg, sizeof(msg), "%s\n--- rendered:\n%s", err, *out);
		fuzz_fail("rulecheck_yaml of a rendered rule file", msg);
	}
	/* The shape check alone must agree, and so must the check of
	 * hand-written files (Prometheus's strict decoding). */
	if (rulecheck_yaml(*out, *len, NULL, 0, err) == -1)
		fuzz_fail("rulecheck_yaml (shape only)", err);
	if (filecheck_rules(*out, *len, err) == -1) {
		snprintf(msg, sizeof(msg), "%s\n--- rendered:\n%s", err, *out);
		fuzz_fail("filecheck_rules of a rendered rule file", msg);
	}
}

/* A rendered target file must pass every reader of target files. */
static void
check_targets_file(const char *buf, size_t len)
{
	char err[ERR_MAX];
	cJSON *j;

	if ((j = cJSON_ParseWithLength(buf, len)) == NULL || !cJSON_IsArray(j))
		fuzz_fail("rendered targets are not a JSON array", buf);
	cJSON_Delete(j);
	if (filecheck_targets(buf, len, err) == -1)
		fuzz_fail("filecheck_targets of a rendered target file", err);
}

/* Node labels as /node/reconfigure stores them, for any node id. */
static const struct kvlist *
node_labels(void *ctx, const char *node_id)
{
	static struct kv v[] = { { (char *)"aws_region", (char *)"eu-west-1" },
	    { (char *)"role", (char *)"worker" } };
	static const struct kvlist l = { v, 2, 2 };

	(void)ctx;
	return node_id[0] != '\0' ? &l : NULL;
}

static void
check_targets(const struct service *svc, char **out, size_t *len)
{
	static const char *const addrs[] = { "10.0.0.2", "10.0.0.1",
	    "10.0.0.2", "fd00::1" };
	char err[ERR_MAX], *o2;
	size_t l2;

	if (render_targets(svc, NULL, 0, node_labels, NULL, out, len,
	    err) == -1)
		fuzz_fail("render_targets", err);
	if (*out != NULL)
		check_targets_file(*out, *len);
	/* With resolved task addresses (the DNS path). */
	if (render_targets(svc, addrs, 4, NULL, NULL, &o2, &l2, err) == -1)
		fuzz_fail("render_targets with addresses", err);
	if (o2 != NULL)
		check_targets_file(o2, l2);
	free(o2);
}

static int
same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b;
	return alen == blen && memcmp(a, b, alen) == 0;
}

void
fuzz_check_service(const struct service *svc, const struct request_ctx *ctx)
{
	struct kvlist params = { 0 };
	struct service again;
	char err[ERR_MAX], *rec, *rules, *prules, *targets, *r2, *t2, *p2;
	size_t reclen, rlen, plen, tlen, r2len, t2len, p2len;
	int removed = -1;

	check_rules(svc, 0, &rules, &rlen);
	check_rules(svc, 1, &prules, &plen);
	check_targets(svc, &targets, &tlen);

	/* A restart: the state record, read back and parsed again. */
	if ((rec = record_encode(svc, 0, &reclen)) == NULL)
		fuzz_fail("record_encode", "out of memory");
	if (record_decode(rec, reclen, &params, &removed, NULL, err) == -1)
		fuzz_fail("record_decode of record_encode", err);
	if (removed != 0 || !kvlist_equal(&params, &svc->params))
		fuzz_fail("record round trip changed the params", rec);
	if (request_parse(&params, ctx, &again, err) == -1)
		fuzz_fail("the canonical params of an accepted request are "
		    "refused", err);
	if (!kvlist_equal(&again.params, &svc->params))
		fuzz_fail("canonical params are not a fixed point", rec);
	if (strcmp(again.name, svc->name) != 0 ||
	    again.nalerts != svc->nalerts)
		fuzz_fail("the record parses to another service", rec);
	check_rules(&again, 0, &r2, &r2len);
	check_rules(&again, 1, &p2, &p2len);
	check_targets(&again, &t2, &t2len);
	if (!same_bytes(rules, rlen, r2, r2len) ||
	    !same_bytes(prules, plen, p2, p2len) ||
	    !same_bytes(targets, tlen, t2, t2len))
		fuzz_fail("files rendered after a restart differ", rec);
	free(r2);
	free(p2);
	free(t2);
	service_release(&again);
	kvlist_release(&params);
	free(rec);
	free(rules);
	free(prules);
	free(targets);
}
