/* verdict.c: the one rule verdict: bounds, shape, then promtool's pool,
 * in that order (see verdict.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filecheck.h"
#include "log.h"
#include "promtool.h"
#include "quota.h"
#include "rulecheck.h"
#include "verdict.h"

/* Bounds and shape: 0, or -1 with v->reason. */
static int
own_checks(const struct quota *lim, struct verdict *v)
{
	char why[ERR_MAX];

	if (v->svc != NULL && lim != NULL && quota_check(v->svc, v->len, lim,
	    v->reason) == -1)
		return -1;
	if (v->buf == NULL || v->bounds_only)
		return 0;
	if (v->svc == NULL)
		return filecheck_rules(v->buf, v->len, v->reason);
	if (rulecheck_yaml(v->buf, v->len, v->svc, v->removed, why) == -1) {
		snprintf(v->reason, ERR_MAX, "alerts: the rule file does not "
		    "read back: %.400s", why);
		return -1;
	}
	return 0;
}

/* promtool's verdict on v, as v's reason: the alert it blames named by
 * its parameter when v has a record (promtool counts rules from 1, in
 * the order of the alerts). */
static void
promtool_reason(struct verdict *v, const struct promtool_file *f)
{
	const struct alert *a;
	char param[32] = "alertIf";

	if (v->svc == NULL) {
		snprintf(v->reason, ERR_MAX, "promtool check rules: %.480s",
		    f->reason);
		return;
	}
	if (f->rule < 1 || (size_t)f->rule > v->svc->nalerts) {
		snprintf(v->reason, ERR_MAX, "alertIf: promtool check rules: "
		    "%.400s", f->reason);
		return;
	}
	a = &v->svc->alerts[f->rule - 1];
	if (a->index > 0)
		snprintf(param, sizeof(param), "alertIf.%d", a->index);
	snprintf(v->reason, ERR_MAX, "%.31s (alert %.100s): promtool check "
	    "rules: %.340s", param, a->name, f->reason);
}

/* promtool's verdict on the k files of v[0..n) still standing, in one
 * batch. */
static void
by_promtool(struct promtool *pt, struct verdict *v, size_t n, size_t k)
{
	struct promtool_file *f = calloc(k, sizeof(*f));
	size_t *of = calloc(k, sizeof(*of)), i;

	for (i = k = 0; f != NULL && of != NULL && i < n; i++) {
		if (v[i].kind != FM_OK || v[i].buf == NULL || v[i].bounds_only)
			continue;
		f[k].buf = v[i].buf;
		f[k].len = v[i].len;
		f[k].shown = v[i].shown;
		of[k++] = i;
	}
	if (f == NULL || of == NULL) {
		/* Out of memory: as when promtool cannot run. */
		for (i = 0; i < n; i++)
			v[i].unchecked = v[i].kind == FM_OK && !v[i].bounds_only;
		log_warn("rule files not checked by promtool", "error",
		    "out of memory");
		goto out;
	}
	promtool_check(pt, f, k);
	for (i = 0; i < k; i++) {
		struct verdict *w = &v[of[i]];

		if (f[i].verdict == FM_REFUSED) {
			w->kind = FM_REFUSED;
			promtool_reason(w, &f[i]);
		} else if (f[i].verdict != FM_OK) {
			w->unchecked = 1;
			snprintf(w->reason, ERR_MAX, "%s", f[i].reason);
			log_warn("rule file not checked by promtool", "file",
			    w->shown, "error", f[i].reason);
		}
	}
out:
	free(f);
	free(of);
}

void
verdict_rules(struct promtool *pt, const struct quota *lim,
    struct verdict *v, size_t n)
{
	char why[ERR_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		v[i].unchecked = 0;
		v[i].reason[0] = '\0';
		v[i].kind = own_checks(lim, &v[i]) == 0 ? FM_OK : FM_REFUSED;
		if (v[i].kind == FM_OK && v[i].buf != NULL &&
		    !v[i].bounds_only)
			k++;
	}
	if (pt != NULL && k > 0)
		by_promtool(pt, v, n, k);
	/* Last, a file Prometheus reads against the record it came from. */
	for (i = 0; i < n; i++)
		if (v[i].kind == FM_OK && v[i].svc == NULL &&
		    v[i].record != NULL && v[i].buf != NULL &&
		    rulecheck_yaml(v[i].buf, v[i].len, v[i].record,
		    v[i].removed, why) == -1) {
			v[i].kind = FM_INVALID;
			snprintf(v[i].reason, ERR_MAX, "%s", why);
		}
}
