/* quarantine.c: the diagnosis of a refused reload.
 *
 * Suspects are the rule files changed since the last good reload (those
 * that differ from what Prometheus last loaded, see registry_rules.c).
 * promtool, when there is one, judges every suspect in one batch and
 * without any reload: what it refuses is set aside at once, and one reload
 * tells whether that was all. What promtool accepts (or everything, with
 * no promtool) and Prometheus still refuses is found by elimination: every
 * suspect is set aside, which puts back the version Prometheus runs, so
 * Prometheus must then reload (else the fault is not in flowmon's files
 * and everything goes back); then halves are brought back in turn, each
 * reload telling whether a half is clean, down to single files. A group
 * Prometheus runs never leaves it on the way: setting aside never removes
 * a file Prometheus loaded. Every successful test reload is booked with the
 * registry, since Prometheus then runs what rules/ holds.
 *
 * At start, what was set aside in rejected/ is judged again by promtool
 * in one batch and let back in when it passes (quarantine_recheck()). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "promtool.h"
#include "quarantine.h"
#include "registry.h"

struct quarantine {
	struct registry		*r;
	struct promtool		*pt;
	struct quarantine_ops	 ops;
};

struct quarantine *
quarantine_new(struct registry *r, struct promtool *pt,
    const struct quarantine_ops *ops)
{
	struct quarantine *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->r = r;
	q->pt = pt;
	q->ops = *ops;
	return q;
}

void
quarantine_free(struct quarantine *q)
{
	free(q);
}

/* One test reload, booked with the registry when it succeeds. */
static int
try_reload(struct quarantine *q)
{
	char err[ERR_MAX];
	uint64_t mark = registry_rules_mark(q->r);

	if (q->ops.reload(q->ops.ctx, err) != FM_OK)
		return -1;
	registry_reload_ok(q->r, mark);
	return 0;
}

static void
park_all(struct quarantine *q, char **v, size_t n, int out)
{
	size_t i;

	for (i = 0; i < n; i++)
		registry_rules_park(q->r, v[i], out);
}

/* promtool's verdict on every suspect, in one run: those it refuses are
 * set aside with its reason and dropped from v. Returns how many. */
static size_t
promtool_first(struct quarantine *q, char **v, size_t *n)
{
	struct promtool_file *f;
	char **bufs, (*shown)[SERVICE_NAME_MAX + 16], err[ERR_MAX];
	char reason[ERR_MAX];
	size_t i, j, found = 0;

	if (q->pt == NULL || *n == 0)
		return 0;
	f = calloc(*n, sizeof(*f));
	bufs = calloc(*n, sizeof(*bufs));
	shown = calloc(*n, sizeof(*shown));
	if (f == NULL || bufs == NULL || shown == NULL)
		goto out;
	for (i = 0; i < *n; i++) {
		snprintf(shown[i], sizeof(shown[i]), "rules/%s.yml", v[i]);
		f[i].shown = shown[i];
		if (registry_rules_read(q->r, v[i], 0, &bufs[i], &f[i].len,
		    err) == -1) {
			f[i].buf = "";	/* gone meanwhile: a request won */
			f[i].len = 0;
		} else
			f[i].buf = bufs[i];
	}
	promtool_check(q->pt, f, *n);
	for (i = j = 0; i < *n; i++) {
		if (f[i].verdict != FM_REFUSED || bufs[i] == NULL) {
			v[j++] = v[i];
			continue;
		}
		snprintf(reason, sizeof(reason), "Prometheus refused the rule "
		    "file on reload: %.400s", f[i].reason);
		registry_rules_park(q->r, v[i], 1);
		registry_rules_reject(q->r, v[i], reason);
		free(v[i]);
		found++;
	}
	*n = j;
out:
	for (i = 0; bufs != NULL && i < *n + found; i++)
		free(bufs[i]);
	free(bufs);
	free(shown);
	free(f);
	return found;
}

/* v[0..n) are set aside and Prometheus reloads without them: brings back
 * every one that it also accepts. *ok tells whether Prometheus's last
 * reload succeeded. */
static void
bisect(struct quarantine *q, char **v, size_t n, int *ok)
{
	park_all(q, v, n, 0);
	if ((*ok = try_reload(q) == 0))
		return;
	park_all(q, v, n, 1);
	if (n == 1) {
		registry_rules_reject(q->r, v[0], "Prometheus refused the "
		    "rule file on reload (the reload succeeds without it)");
		return;
	}
	bisect(q, v, n / 2, ok);
	bisect(q, v + n / 2, n - n / 2, ok);
}

/* The search by reloads among v: 1 when the culprits were found (and
 * Prometheus runs everything else), 0 when v is not why it refuses. */
static int
search(struct quarantine *q, char **v, size_t n)
{
	int ok;

	park_all(q, v, n, 1);
	if (try_reload(q) != 0) {
		/* Not them: Prometheus fails for another reason. */
		park_all(q, v, n, 0);
		return 0;
	}
	bisect(q, v, n, &ok);
	if (!ok)
		(void)try_reload(q);
	return 1;
}

size_t
quarantine_reload_failed(struct quarantine *q)
{
	char num[32], **v = NULL;
	size_t n = 0, before = registry_rejected(q->r);
	int found = 0;

	if (registry_rules_suspects(q->r, &v, &n) == -1)
		return 0;
	if (n > 0) {
		snprintf(num, sizeof(num), "%zu", n);
		log_warn("reload refused: looking for the rule file at fault",
		    "suspects", num, "promtool", q->pt != NULL ? "yes" : "no");
		if (promtool_first(q, v, &n) > 0 && try_reload(q) == 0)
			found = 1;
		else if (n > 0 && search(q, v, n))
			found = 1;
	}
	strv_free(v, n);
	if (!found)
		log_error("reload refused, and not because of a rule file "
		    "flowmon changed: see Prometheus's log, and GET "
		    "/v1/docker-flow-monitor/files for rule files written by "
		    "hand");
	return registry_rejected(q->r) - before;
}

size_t
quarantine_recheck(struct quarantine *q)
{
	struct promtool_file *f = NULL;
	char **v = NULL, **bufs = NULL, (*shown)[SERVICE_NAME_MAX + 16] = NULL;
	char err[ERR_MAX];
	size_t n = 0, i, back = 0;

	if (q->pt == NULL || registry_rules_set_aside(q->r, &v, &n) == -1 ||
	    n == 0)
		goto out;
	f = calloc(n, sizeof(*f));
	bufs = calloc(n, sizeof(*bufs));
	shown = calloc(n, sizeof(*shown));
	if (f == NULL || bufs == NULL || shown == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(shown[i], sizeof(shown[i]), "rejected/%s.yml", v[i]);
		f[i].shown = shown[i];
		if (registry_rules_read(q->r, v[i], 1, &bufs[i], &f[i].len,
		    err) == -1)
			f[i].len = 0;
		f[i].buf = bufs[i] != NULL ? bufs[i] : "";
	}
	promtool_check(q->pt, f, n);
	for (i = 0; i < n; i++) {
		if (bufs[i] == NULL || f[i].verdict != FM_OK)
			continue;
		registry_rules_readmit(q->r, v[i]);
		back++;
	}
out:
	for (i = 0; bufs != NULL && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(shown);
	free(f);
	strv_free(v, n);
	return back;
}
