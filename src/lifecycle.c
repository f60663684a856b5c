/* lifecycle.c: the rule lifecycle across services: the reloader's hook
 * (settle what a reload that succeeded loaded, diagnose one Prometheus
 * refused) and the recheck of rejected/ at start. One service's states and
 * files are lifecycle_rule.c's; this file reaches them through the
 * registry (registry_rules_each(), registry_rules_one()).
 *
 * Files. Per service, one name in three directories of the data dir:
 *   rules/<name>.yml     what Prometheus reads at its next reload: the
 *                        record's version, or, while that one is kept out
 *                        (set aside for a test reload, or rejected), the
 *                        version in accepted/ (or no file)
 *   accepted/<name>.yml  what the last reload that succeeded loaded: a
 *                        hard link of the rules/ file it read
 *   rejected/<name>.yml  the record's version Prometheus refused, after a
 *                        line giving the reason
 * and the state is a function of them: rejected when rejected/ holds the
 * version the record renders to; else none when neither rules/ nor
 * accepted/ has a file, loaded when both hold the same content, pending
 * otherwise. Nothing else is needed: no extended attribute, only hard
 * links and atomic renames, which every POSIX file system has, NFS
 * included (where a link cannot be made the store copies, atomically too).
 *
 * Settling. Just before each attempt the reloader's before-hook takes the
 * mark: the registry's rule-file change counter, which rule_commit()
 * bumps once a change that renamed a file into rules/ stands. When the
 * attempt succeeds, a file last written at or before the mark was in
 * rules/ before the reload was sent, and nothing replaced it since (its
 * number would be past the mark): it is exactly what Prometheus read. accepted/ is brought up to it (a link to a
 * temp name, renamed; or accepted/ loses its file when rules/ has none,
 * which also sweeps the file of a removed service), and accepted/ is
 * fsync'd once, before anything relies on it.
 *
 * The race: a file written after the mark, while the reload was in
 * flight. Prometheus read either the version the mark saw or a newer one;
 * the read happens inside Prometheus and flowmon cannot tell which, so it
 * claims neither. accepted/ stays where it was and the file is "in doubt":
 * Prometheus runs accepted/'s version or a newer one flowmon wrote, and a
 * reload that succeeded proves every version it read good. The reload owed
 * for the write (the reloader sees a trigger during an attempt) settles it
 * soon after. Until then the one thing that must not happen to it is what
 * the diagnosis does to a suspect it sets aside: put accepted/'s version
 * back, or remove the file when there is none. For a healthy service that
 * is an older expression, or a group that leaves Prometheus (and its
 * alerts' activeAt with it). So a file in doubt is set aside only to test
 * whether it is itself the culprit (below). The doubt lives in memory:
 * after a restart flowmon cannot know whether the last reload before the
 * stop raced a write, nor whether a crash lost accepted/'s last links
 * (before their fsync), so every pending file starts in doubt, and the
 * first reload that succeeds settles them.
 *
 * The diagnosis. Prometheus refuses a whole reload for one rule file it
 * cannot load. The suspects are the pending files. promtool, when there
 * is one, judges them first, all in one batch and without a reload. Then
 * test reloads: one that fails changes nothing in Prometheus, so only a
 * test that succeeds can do harm, by loading a set-aside version over a
 * newer good one. The suspects not in doubt are set aside: rules/ gets
 * back exactly what Prometheus runs, so no test can move them. With them
 * out and those in doubt in, one reload: if it succeeds the fault is among
 * the certain ones, and those in doubt are loaded now. Else those in doubt
 * are tried one at a time: each test leaves out just one, so it succeeds
 * only when that one is the (single) culprit, and then the others go
 * forward, none back. Should no single one be it (two culprits at once
 * among files written while one reload ran, or more than
 * LIFECYCLE_DOUBT_MAX in doubt) they are set aside with the others: the
 * one case where a healthy file in doubt may run accepted/'s version
 * again for a test (its group and its alerts' state stay). Among the
 * suspects set aside, the search is by halves: all out, and Prometheus
 * must reload (else the fault is not in flowmon's files: everything goes
 * back), then halves brought back in turn, each reload telling whether a
 * half is clean, down to single files. A file found alone is the culprit:
 * rejected with the reason (rule_culprit_found()), rules/ keeping what
 * Prometheus runs. Every test reload that succeeds settles what it read,
 * as any reload does, and runs on the reloader's thread, so none overlap.
 *
 * The Prometheus child (--run-prometheus, supervisor.h). A child that
 * starts reads every file in rules/ once its first load runs, which is
 * after its spawn: a file last written at or before the mark taken just
 * before the spawn is what it read, so once it is ready that mark is
 * settled as a reload's would be, and a file written since stays in
 * doubt. A child that exits at start read some file it refuses (or
 * cannot listen: then nothing here helps, and nothing is lost): promtool
 * judges the pending files, and when it finds nothing every pending file
 * is set aside, so rules/ holds what the last load that succeeded read
 * and the next start loads. Prometheus runs nothing meanwhile, so a
 * healthy file set aside costs no alert that is not lost already; once a
 * reload succeeds they are brought back by halves (bisect() below), and
 * the culprit, found alone, rejected. What the supervisor says arrives on
 * its thread and is only noted there; the work is done on the reloader's
 * thread, before its next attempt (which the news asks for) and after it,
 * so it never overlaps a diagnosis. Marks are settled in order, each at
 * most once.
 *
 * Crash safety. The version under test lives only in the record (state/
 * is the truth, registry.c): should flowmon stop in the middle, the next
 * start writes rules/ from the records again, every pending file starts in
 * doubt, the start-up reload is refused the same way and the search starts
 * over. accepted/ only ever moves forward to what a reload that succeeded
 * read, so it never claims more than Prometheus runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lifecycle.h"
#include "log.h"
#include "registry.h"
#include "reloader.h"
#include "render.h"
#include "store.h"
#include "strv.h"
#include "verdict.h"

/* Files in doubt tried one at a time by the diagnosis, at most. */
#define LIFECYCLE_DOUBT_MAX	8

#define REASON_RELOAD	"Prometheus refused the rule file on reload (the " \
			"reload succeeds without it)"

struct lifecycle {
	struct registry	*r;
	struct reloader	*rl;
	struct promtool	*pt;
	uint64_t	 mark;		/* taken before the attempt under way */
	uint64_t	 settled;	/* the newest mark settled */
	size_t		 rejected;	/* by the diagnosis under way */
	/* The Prometheus child (lifecycle_child_event()), atomic: set on
	 * the supervisor's thread, taken on the reloader's. */
	uint64_t	 spawn_mark;	/* when the last child started */
	uint64_t	 start_mark;	/* ...the child that became ready */
	int		 start_ready;	/* start_mark waits to be settled */
	int		 start_failed;	/* a child exited at start */
	/* On the reloader's thread: files set aside at a start failure wait
	 * for a reload that succeeds, to be brought back by halves. */
	int		 start_aside;
};

/* One file a diagnosis or a recheck judges: the record's version. */
struct judged {
	char	*name;
	char	*buf;
	size_t	 len;
	int	 doubt;
};

struct judged_list {
	struct judged	*v;
	size_t		 n;
	size_t		 cap;
	int		(*pick)(const struct rule_file *rf);
};

static void
judged_free(struct judged_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].buf);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Settling.
 */

struct settle {
	uint64_t	 mark;
	int		 linked;
};

static int
settle_one(void *ctx, const struct registry_rule *x)
{
	struct settle *s = ctx;

	rule_reload_succeeded(x->rf, x->st, x->name, s->mark, &s->linked);
	return 0;
}

/* A reload whose attempt began at mark succeeded (or a child that started
 * at mark is ready). Marks are settled in order: an older one (a start
 * whose news came after a reload that began later) says nothing the newer
 * did not, and would only put loaded files in doubt. */
static void
settle(struct lifecycle *lc, uint64_t mark)
{
	struct settle s = { mark, 0 };
	char err[ERR_MAX];

	if (mark < lc->settled)
		return;
	lc->settled = mark;
	if (registry_rules_each(lc->r, 0, settle_one, &s) == -1)
		log_error("cannot settle the loaded rule files: they stay "
		    "pending", "error", "out of memory");
	if (s.linked && store_sync(registry_store(lc->r), STORE_ACCEPTED,
	    err) == -1)
		log_warn("cannot make accepted/ durable", "error", err);
}

static void start_failed(struct lifecycle *lc);
static void bring_back_aside(struct lifecycle *lc);

/* On the reloader's thread before each of its own attempts: what the
 * supervisor said meanwhile, then the mark. */
static void
before_reload(void *ctx)
{
	struct lifecycle *lc = ctx;
	uint64_t start;

	if (__atomic_exchange_n(&lc->start_failed, 0, __ATOMIC_ACQ_REL))
		start_failed(lc);
	if (__atomic_exchange_n(&lc->start_ready, 0, __ATOMIC_ACQ_REL)) {
		start = __atomic_load_n(&lc->start_mark, __ATOMIC_ACQUIRE);
		settle(lc, start);
	}
	lc->mark = registry_rules_mark(lc->r);
}

/* On the reloader's thread after each of its own attempts. Transport
 * errors are left to its retries. */
static void
after_reload(void *ctx, enum fm_err kind, const char *error)
{
	struct lifecycle *lc = ctx;

	(void)error;
	if (kind == FM_OK) {
		settle(lc, lc->mark);
		if (lc->start_aside) {
			lc->start_aside = 0;
			bring_back_aside(lc);
		}
	} else if (kind == FM_REFUSED)
		(void)lifecycle_diagnose(lc);
}

void
lifecycle_child_event(void *ctx, enum supervisor_event ev, const char *detail)
{
	struct lifecycle *lc = ctx;
	uint64_t m;

	(void)detail;
	switch (ev) {
	case SUPERVISOR_SPAWNING:
		__atomic_store_n(&lc->spawn_mark, registry_rules_mark(lc->r),
		    __ATOMIC_RELEASE);
		return;
	case SUPERVISOR_READY:
		m = __atomic_load_n(&lc->spawn_mark, __ATOMIC_ACQUIRE);
		__atomic_store_n(&lc->start_mark, m, __ATOMIC_RELEASE);
		__atomic_store_n(&lc->start_ready, 1, __ATOMIC_RELEASE);
		break;
	case SUPERVISOR_START_FAILED:
		__atomic_store_n(&lc->start_failed, 1, __ATOMIC_RELEASE);
		break;
	}
	if (lc->rl != NULL)
		reloader_trigger(lc->rl);
}

struct lifecycle *
lifecycle_new(struct registry *r, struct reloader *rl, struct promtool *pt)
{
	struct reloader_hooks hooks = { before_reload, after_reload, NULL };
	struct lifecycle *lc;

	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return NULL;
	lc->r = r;
	lc->rl = rl;
	lc->pt = pt;
	hooks.ctx = lc;
	if (rl != NULL)
		reloader_set_hooks(rl, &hooks);
	return lc;
}

void
lifecycle_free(struct lifecycle *lc)
{
	free(lc);
}

enum fm_err
lifecycle_reload(struct lifecycle *lc, char err[ERR_MAX])
{
	uint64_t mark = registry_rules_mark(lc->r);
	enum fm_err kind;

	if (lc->rl == NULL) {
		snprintf(err, ERR_MAX, "no reload back end");
		return FM_FATAL;
	}
	if ((kind = reloader_try(lc->rl, err)) == FM_OK)
		settle(lc, mark);
	return kind;
}

/*
 * One service's transitions, by name, under its lock.
 */

/* The version x's record renders to (NULL: none). 0, or -1 with err. */
static int
render_record(const struct registry_rule *x, char **buf, size_t *len,
    char err[ERR_MAX])
{
	*buf = NULL;
	*len = 0;
	if (x->svc == NULL)
		return 0;
	return render_rules(x->svc, x->removed, buf, len, err);
}

static int
set_aside_one(void *ctx, const struct registry_rule *x)
{
	char err[ERR_MAX];

	(void)ctx;
	if (x->svc != NULL && rule_set_aside(x->rf, x->st, x->name, x->clock,
	    err) == -1)
		log_error("cannot set a rule file aside", "service", x->name,
		    "error", err);
	return 0;
}

static int
bring_back_one(void *ctx, const struct registry_rule *x)
{
	char err[ERR_MAX], *buf;
	size_t len;

	(void)ctx;
	if (!x->rf->aside)
		return 0;
	if (render_record(x, &buf, &len, err) == -1 ||
	    rule_bring_back(x->rf, x->st, x->name, buf, len, x->clock,
	    err) == -1)
		log_error("cannot bring a rule file back", "service", x->name,
		    "error", err);
	free(buf);
	return 0;
}

struct culprit {
	struct lifecycle	*lc;
	const char		*reason;
};

static int
culprit_one(void *ctx, const struct registry_rule *x)
{
	struct culprit *c = ctx;
	char err[ERR_MAX], *buf;
	size_t len;

	/* Only a file set aside has a version to reject: a request may have
	 * replaced it meanwhile. */
	if (!x->rf->aside || x->svc == NULL)
		return 0;
	if (render_record(x, &buf, &len, err) == -1 ||
	    rule_culprit_found(x->rf, x->st, x->name, buf, len, c->reason,
	    err) == -1)
		log_error("cannot reject a rule file", "service", x->name,
		    "error", err);
	else if (x->rf->state == RULE_REJECTED)
		c->lc->rejected++;
	free(buf);
	return 0;
}

static int
readmit_one(void *ctx, const struct registry_rule *x)
{
	size_t *readmitted = ctx;
	char err[ERR_MAX], *buf = NULL;
	size_t len;
	int rc = -1;

	/* The record renders to what waits in rejected/ (else the rejection
	 * would be gone): rules/ gets it. */
	if (render_record(x, &buf, &len, err) == -1 ||
	    (rc = rule_recheck_passed(x->rf, x->st, x->name, buf, len,
	    x->clock, err)) == -1)
		log_error("cannot readmit a rule file", "service", x->name,
		    "error", err);
	else
		*readmitted += (size_t)rc;
	free(buf);
	return 0;
}

static void
set_aside(struct lifecycle *lc, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)registry_rules_one(lc->r, v[i], set_aside_one, NULL);
}

static void
bring_back(struct lifecycle *lc, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)registry_rules_one(lc->r, v[i], bring_back_one, NULL);
}

static void
culprit_found(struct lifecycle *lc, const char *name, const char *reason)
{
	struct culprit c = { lc, reason };

	(void)registry_rules_one(lc->r, name, culprit_one, &c);
}

/*
 * What is judged: the record's version of each file in a state.
 */

static int
add_judged(void *ctx, const struct registry_rule *x)
{
	struct judged_list *l = ctx;
	struct judged *j;
	char err[ERR_MAX];

	if (x->svc == NULL || !l->pick(x->rf))
		return 0;
	if (BUF_ARRAY_GROW(l->v, l->n, l->cap) == -1)
		return -1;
	j = &l->v[l->n];
	memset(j, 0, sizeof(*j));
	if ((j->name = strdup(x->name)) == NULL)
		return -1;
	l->n++;
	if (render_record(x, &j->buf, &j->len, err) == -1)
		return -1;
	j->doubt = x->rf->doubt;
	return 0;
}

/* A file in rules/ that no reload that succeeded loaded. */
static int
is_suspect(const struct rule_file *rf)
{
	return rf->state == RULE_PENDING && rf->has_file && !rf->aside;
}

static int
is_rejected(const struct rule_file *rf)
{
	return rf->state == RULE_REJECTED;
}

static int
is_aside(const struct rule_file *rf)
{
	return rf->aside;
}

/* The files pick() holds for, sorted by name. 0, or -1 on ENOMEM. */
static int
collect(struct lifecycle *lc, int (*pick)(const struct rule_file *rf),
    struct judged_list *l)
{
	memset(l, 0, sizeof(*l));
	l->pick = pick;
	if (registry_rules_each(lc->r, 1, add_judged, l) == 0)
		return 0;
	judged_free(l);
	return -1;
}

/* The verdicts of promtool (and the shape check) on l's files, each
 * shown as <dir>/<name>.yml; v[i] answers l->v[i]. NULL on ENOMEM. */
static struct verdict *
judge(struct lifecycle *lc, struct judged_list *l, const char *dir)
{
	struct verdict *v;
	size_t i;

	if ((v = calloc(l->n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		snprintf(v[i].shown, sizeof(v[i].shown), "%s/%s.yml", dir,
		    l->v[i].name);
		v[i].buf = l->v[i].buf;
		v[i].len = l->v[i].len;
	}
	verdict_rules(lc->pt, NULL, v, l->n);
	return v;
}

/*
 * The diagnosis.
 */

/* promtool's verdict on every suspect, in one run: those it refuses are
 * rejected with its reason and leave l. Returns how many. */
static size_t
promtool_first(struct lifecycle *lc, struct judged_list *l)
{
	struct verdict *v;
	char reason[ERR_MAX];
	size_t i, j, found = 0;

	if (lc->pt == NULL || l->n == 0 || (v = judge(lc, l, "rules")) == NULL)
		return 0;
	for (i = j = 0; i < l->n; i++) {
		if (v[i].kind != FM_REFUSED) {
			l->v[j++] = l->v[i];
			continue;
		}
		snprintf(reason, sizeof(reason), "Prometheus refused the rule "
		    "file on reload: %.400s", v[i].reason);
		set_aside(lc, &l->v[i].name, 1);
		culprit_found(lc, l->v[i].name, reason);
		free(l->v[i].name);
		free(l->v[i].buf);
		found++;
	}
	l->n = j;
	free(v);
	return found;
}

/* v[0..n) are set aside and Prometheus runs without them: brings back
 * every one it also accepts, and rejects those it refuses alone. *ok
 * tells whether the last reload succeeded. */
static void
bisect(struct lifecycle *lc, char **v, size_t n, int *ok)
{
	char err[ERR_MAX];

	bring_back(lc, v, n);
	if ((*ok = lifecycle_reload(lc, err) == FM_OK))
		return;
	set_aside(lc, v, n);
	if (n == 1) {
		culprit_found(lc, v[0], REASON_RELOAD);
		return;
	}
	bisect(lc, v, n / 2, ok);
	bisect(lc, v + n / 2, n - n / 2, ok);
}

/* Those in doubt d[0..n) are in, the rest out, and Prometheus refuses:
 * leaves out one at a time, so a test that succeeds never runs an older
 * version of a healthy one. 1 when one of them alone was the culprit. */
static int
one_at_a_time(struct lifecycle *lc, char **d, size_t n)
{
	char err[ERR_MAX];
	size_t i;

	if (n > LIFECYCLE_DOUBT_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		set_aside(lc, &d[i], 1);
		if (lifecycle_reload(lc, err) == FM_OK) {
			culprit_found(lc, d[i], REASON_RELOAD);
			return 1;
		}
		bring_back(lc, &d[i], 1);
	}
	return 0;
}

/* v[0..n) are set aside and Prometheus runs without them: each comes
 * back, or is rejected, and Prometheus runs the result. */
static void
bring_back_by_halves(struct lifecycle *lc, char **v, size_t n)
{
	char err[ERR_MAX];
	int ok = 1;

	if (n > 0)
		bisect(lc, v, n, &ok);
	if (!ok)
		(void)lifecycle_reload(lc, err);
}

/* l's names, borrowed, in a vector; NULL on ENOMEM. */
static char **
names_of(const struct judged_list *l)
{
	char **v;
	size_t i;

	if ((v = calloc(l->n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		v[i] = l->v[i].name;
	return v;
}

/* The Prometheus child exited at start (see lifecycle.h): promtool first;
 * when it finds nothing, every pending file out until it runs again. */
static void
start_failed(struct lifecycle *lc)
{
	struct judged_list l;
	char num[32];
	size_t i;

	if (collect(lc, is_suspect, &l) == -1) {
		log_error("cannot look for the rule file at fault", "error",
		    "out of memory");
		return;
	}
	snprintf(num, sizeof(num), "%zu", l.n);
	if (l.n > 0)
		log_warn("prometheus exited at start: the rule files it has "
		    "not loaded yet are suspects", "suspects", num,
		    "promtool", lc->pt != NULL ? "yes" : "no");
	if (l.n > 0 && promtool_first(lc, &l) == 0) {
		for (i = 0; i < l.n; i++)
			set_aside(lc, &l.v[i].name, 1);
		lc->start_aside = 1;
		log_warn("pending rule files set aside until prometheus runs "
		    "again (rules/ holds what it ran last): then they come "
		    "back by halves, and the one it refuses is rejected",
		    "files", num);
	}
	judged_free(&l);
}

/* After a start failure, Prometheus runs again: the files set aside come
 * back, by halves. */
static void
bring_back_aside(struct lifecycle *lc)
{
	struct judged_list l;
	char **v = NULL, num[32];

	if (collect(lc, is_aside, &l) == -1 || (v = names_of(&l)) == NULL) {
		log_error("cannot bring back the rule files set aside", "error",
		    "out of memory");
		judged_free(&l);
		return;
	}
	snprintf(num, sizeof(num), "%zu", l.n);
	if (l.n > 0)
		log_info("prometheus runs again: bringing back the rule files "
		    "set aside when it could not start", "files", num);
	bring_back_by_halves(lc, v, l.n);
	free(v);
	judged_free(&l);
}

/* The search by reloads among l's files (see the note at the top): 1 when
 * the culprits were found and Prometheus runs everything else, 0 when l
 * is not why it refuses. */
static int
search(struct lifecycle *lc, const struct judged_list *l)
{
	char **v, err[ERR_MAX];
	size_t i, nc = 0, nd = 0;
	int found = 1;

	/* The certain ones first, those in doubt after them. */
	if ((v = calloc(l->n + 1, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < l->n; i++)
		if (!l->v[i].doubt)
			v[nc++] = l->v[i].name;
	for (i = 0; i < l->n; i++)
		if (l->v[i].doubt)
			v[nc + nd++] = l->v[i].name;
	set_aside(lc, v, nc);
	/* Without certain ones, the refused reload was this very test. */
	if (nd > 0 && (nc == 0 || lifecycle_reload(lc, err) != FM_OK) &&
	    !one_at_a_time(lc, v + nc, nd)) {
		log_warn("no single rule file in doubt is at fault: setting "
		    "them aside with the others", "in_doubt", nd > 1 ? "many" :
		    "one");
		set_aside(lc, v + nc, nd);
		nc += nd;
		if (lifecycle_reload(lc, err) != FM_OK) {
			bring_back(lc, v, nc);
			found = 0;
			goto out;
		}
	} else if (nd == 0 && lifecycle_reload(lc, err) != FM_OK) {
		/* Not them: Prometheus fails for another reason. */
		bring_back(lc, v, nc);
		found = 0;
		goto out;
	}
	bring_back_by_halves(lc, v, nc);
out:
	free(v);
	return found;
}

size_t
lifecycle_diagnose(struct lifecycle *lc)
{
	struct judged_list l;
	char num[32], doubt[32], err[ERR_MAX];
	size_t i, nd = 0;
	int found = 0;

	lc->rejected = 0;
	if (collect(lc, is_suspect, &l) == -1) {
		log_error("cannot look for the rule file at fault", "error",
		    "out of memory");
		return 0;
	}
	for (i = 0; i < l.n; i++)
		nd += l.v[i].doubt != 0;
	if (l.n > 0) {
		snprintf(num, sizeof(num), "%zu", l.n);
		snprintf(doubt, sizeof(doubt), "%zu", nd);
		log_warn("reload refused: looking for the rule file at fault",
		    "suspects", num, "in_doubt", doubt, "promtool",
		    lc->pt != NULL ? "yes" : "no");
		if (promtool_first(lc, &l) > 0 && lifecycle_reload(lc,
		    err) == FM_OK)
			found = 1;
		else if (l.n > 0)
			found = search(lc, &l);
	}
	judged_free(&l);
	if (!found)
		log_error("reload refused, and not because of a rule file "
		    "flowmon changed: see Prometheus's log, and GET "
		    "/v1/docker-flow-monitor/files for rule files written by "
		    "hand");
	return lc->rejected;
}

size_t
lifecycle_recheck(struct lifecycle *lc)
{
	struct judged_list l;
	struct verdict *v = NULL;
	char num[32];
	size_t i, readmitted = 0;

	if (lc->pt == NULL || collect(lc, is_rejected, &l) == -1)
		return 0;
	if (l.n > 0 && (v = judge(lc, &l, "rejected")) != NULL)
		for (i = 0; i < l.n; i++)
			if (v[i].kind == FM_OK && !v[i].unchecked)
				(void)registry_rules_one(lc->r, l.v[i].name,
				    readmit_one, &readmitted);
	free(v);
	judged_free(&l);
	if (readmitted > 0) {
		snprintf(num, sizeof(num), "%zu", readmitted);
		log_info("rejected rule files pass promtool now: readmitted",
		    "files", num);
		if (lc->rl != NULL)
			reloader_trigger(lc->rl);
	}
	return readmitted;
}
