/* quarantine.c: the diagnosis of a refused reload.
 *
 * Suspects are the rule files changed since the last good reload (all of
 * flowmon's if none of those explains the refusal). promtool, when there
 * is one, judges every suspect in one run: what it refuses is set aside at
 * once, and a reload tells whether that was all. What promtool accepts and
 * Prometheus still refuses is found by elimination: every suspect is set
 * aside and Prometheus must then reload (else the fault is not in
 * flowmon's files and everything goes back); then halves are brought back
 * in turn, each reload telling whether a half is clean, down to single
 * files. Every successful test reload is booked with the registry
 * (registry_reload_ok()), since Prometheus then runs what rules/ holds. */
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
		if (registry_rules_read(q->r, v[i], &bufs[i], &f[i].len,
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
	size_t n = 0, before = registry_rejected(q->r), found = 0;
	int all;

	for (all = 0; all < 2; all++) {
		strv_free(v, n);
		v = NULL;
		n = 0;
		if (registry_rules_suspects(q->r, all, &v, &n) == -1)
			break;
		if (n == 0)
			continue;
		snprintf(num, sizeof(num), "%zu", n);
		log_warn("reload failed: looking for the rule file at fault",
		    "suspects", num, "scope", all ? "all" : "changed");
		if (promtool_first(q, v, &n) > 0 && try_reload(q) == 0) {
			found = 1;
			break;
		}
		if (n > 0 && search(q, v, n)) {
			found = 1;
			break;
		}
	}
	strv_free(v, n);
	if (!found) {
		/* Everything back as it was: one more reload so Prometheus's
		 * own state matches rules/ again, whatever the outcome. */
		(void)try_reload(q);
		log_error("reload fails, and not because of a rule file "
		    "flowmon wrote: see Prometheus's log, and GET "
		    "/v1/docker-flow-monitor/files for rule files written by "
		    "hand");
	}
	return registry_rejected(q->r) - before;
}
