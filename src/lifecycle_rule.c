/* lifecycle_rule.c: one service's rule file through its states (see
 * lifecycle.h; the design note, and why these transitions keep the rule
 * safety promises, is in lifecycle.c): each transition is a function named
 * after the event that causes it, and touches the service's three files,
 * rules/ (what Prometheus reads), accepted/ (what it loaded last) and
 * rejected/ (what it refused, with the reason). Below the registry: it
 * knows the store and nothing of the registry, which calls it under the
 * service's lock. A transition that changes rules/ is one store
 * transaction, as every change of the registry is ("all or nothing",
 * registry.c): it is staged on a copy of the service's rule_file and
 * booked (rule_commit()) only once the transaction stands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "hash.h"
#include "lifecycle.h"
#include "log.h"
#include "store.h"

/* The first line of a file in rejected/: the reason, so that it survives
 * a restart with the file (a YAML comment: the rest is the refused file,
 * byte for byte, and promtool still reads the whole). */
#define REJECTED_MARK	"# flowmon rejected this rule file: "

static const char *const rule_state_names[RULE_NSTATES] = {
	[RULE_NONE] = "none",
	[RULE_PENDING] = "pending",
	[RULE_LOADED] = "loaded",
	[RULE_REJECTED] = "rejected",
};

const char *
rule_state_name(enum rule_state s)
{
	return (unsigned)s < RULE_NSTATES ? rule_state_names[s] : "none";
}

/* The state rules/ and accepted/ say, for a file not rejected: one set
 * aside for a test is pending (the record's version is not loaded). */
static void
derive(struct rule_file *rf)
{
	if (rf->state == RULE_REJECTED)
		return;
	if (rf->aside)
		rf->state = RULE_PENDING;
	else if (!rf->has_file && !rf->has_accepted)
		rf->state = RULE_NONE;
	else if (rf->has_file && rf->has_accepted &&
	    rf->h_file == rf->h_accepted)
		rf->state = RULE_LOADED;
	else
		rf->state = RULE_PENDING;
}

/* store_probe() as has/hash; a file that cannot be read counts as there
 * with hash 0, which matches nothing, so it is replaced. */
static void
probe(struct store *st, enum store_kind kind, const char *name,
    const struct store_names *seen, int *has, uint64_t *h)
{
	*has = store_probe(st, kind, name, seen != NULL ? &seen[kind] : NULL,
	    h) != 0;
}

/* A rejected/ file: the reason line, then the refused file. Without the
 * line (a file from an older flowmon, or one put there by hand) the whole
 * is the file and the reason says only that it was refused. */
static char *
rejected_encode(const char *reason, const char *buf, size_t len,
    size_t *out_len)
{
	size_t mark = strlen(REJECTED_MARK), rlen = strlen(reason), i;
	char *out;

	if ((out = malloc(mark + rlen + 1 + len)) == NULL)
		return NULL;
	memcpy(out, REJECTED_MARK, mark);
	for (i = 0; i < rlen; i++)
		out[mark + i] = reason[i] == '\n' || reason[i] == '\r' ? ' ' :
		    reason[i];
	out[mark + rlen] = '\n';
	memcpy(out + mark + rlen + 1, buf, len);
	*out_len = mark + rlen + 1 + len;
	return out;
}

static char *
rejected_decode(const char *buf, size_t len, size_t *off)
{
	size_t mark = strlen(REJECTED_MARK);
	const char *nl;

	*off = 0;
	if (len <= mark || memcmp(buf, REJECTED_MARK, mark) != 0 ||
	    (nl = memchr(buf, '\n', len)) == NULL)
		return strdup("Prometheus refused this rule file (kept in "
		    "rejected/ before flowmon said why)");
	*off = (size_t)(nl - buf) + 1;
	return strndup(buf + mark, (size_t)(nl - buf) - mark);
}

void
rule_load(struct rule_file *rf, struct store *st, const char *name,
    const struct store_names *seen)
{
	char err[ERR_MAX], *buf = NULL;
	size_t len, off;

	rule_release(rf);
	memset(rf, 0, sizeof(*rf));
	probe(st, STORE_RULES, name, seen, &rf->has_file, &rf->h_file);
	probe(st, STORE_ACCEPTED, name, seen, &rf->has_accepted,
	    &rf->h_accepted);
	errno = ENOENT;
	if ((seen == NULL || store_names_may_have(&seen[STORE_REJECTED],
	    name)) && store_read(st, STORE_REJECTED, name, BOUND_FILE_MAX +
	    ERR_MAX, &buf, &len, err) == 0) {
		rf->reason = rejected_decode(buf, len, &off);
		rf->h_out = hash_content(buf + off, len - off);
		rf->state = RULE_REJECTED;
	} else if (errno != ENOENT) {
		log_warn("cannot read a rejected rule file: it is tried again",
		    "service", name, "error", err);
	}
	free(buf);
	derive(rf);
	/* Whether the last reload before the stop read a version newer than
	 * accepted/ is not on disk: see lifecycle.c. */
	rf->doubt = rf->state == RULE_PENDING;
}

void
rule_release(struct rule_file *rf)
{
	free(rf->reason);
	rf->reason = NULL;
}

int
rule_holds(const struct rule_file *rf)
{
	return rf->has_file || rf->has_accepted || rf->aside ||
	    rf->state == RULE_REJECTED;
}

/* While the record's version is kept out (aside, rejected), rules/ holds
 * what Prometheus runs, accepted/'s version, or nothing: puts it there if
 * it is not. 1 if rules/ changed, 0 if not, -1 with err. */
static int
keep_out(struct rule_file *rf, struct store_txn *t, const char *name,
    char err[ERR_MAX])
{
	int rc;

	if (rf->has_accepted ? rf->has_file && rf->h_file == rf->h_accepted :
	    !rf->has_file)
		return 0;
	if (rf->has_accepted)
		rc = store_txn_link(t, STORE_ACCEPTED, STORE_RULES, name, err);
	else
		rc = store_txn_remove(t, STORE_RULES, name, err);
	if (rc == -1)
		return -1;
	rf->has_file = rf->has_accepted;
	rf->h_file = rf->h_accepted;
	return 1;
}

void
rule_begin(const struct rule_file *rf, struct rule_file *next)
{
	*next = *rf;
}

void
rule_commit(struct rule_file *rf, struct rule_file *next, int wrote,
    uint64_t *clock, const char *name)
{
	if (rf->state == RULE_REJECTED && next->state != RULE_REJECTED)
		log_info("rule file readmitted: it leaves rejected/",
		    "service", name);
	if (rf->reason != next->reason)
		free(rf->reason);
	*rf = *next;
	/* After the rename: a reload whose mark is at or past this number
	 * surely read this version (lifecycle.c). */
	if (wrote)
		rf->seq = __atomic_add_fetch(clock, 1, __ATOMIC_SEQ_CST);
}

/* Ends a transition staged on next in its own transaction t (outside a
 * request's): committed and booked into rf, or every file put back and rf
 * left as it was. rc is the staging's: returned, -1 with err. */
static int
own_txn_end(struct rule_file *rf, struct rule_file *next,
    struct store_txn *t, int rc, uint64_t *clock, const char *name)
{
	char why[ERR_MAX];

	if (rc == -1) {
		if (store_txn_abort(t, why) == -1)
			rf->h_file = 0;	/* unknown now: rewritten next */
		return -1;
	}
	store_txn_commit(t);
	rule_commit(rf, next, rc == 1, clock, name);
	return rc;
}

int
rule_write(struct rule_file *rf, struct store_txn *t, const char *name,
    const char *buf, size_t len, char err[ERR_MAX])
{
	uint64_t h = buf != NULL ? hash_content(buf, len) : 0;
	int rc;

	/* The version kept out: it stays out while the record renders to
	 * it (a rejected one until the service's alerts change). */
	if ((rf->state == RULE_REJECTED || rf->aside) && buf != NULL &&
	    h == rf->h_out)
		return keep_out(rf, t, name, err);
	if (rule_readmit(rf, t, name, err) == -1)
		return -1;
	/* A new record takes precedence over a test's set-aside. */
	rf->aside = 0;
	if (buf == NULL ? !rf->has_file : rf->has_file && rf->h_file == h) {
		derive(rf);
		return 0;
	}
	if (buf == NULL)
		rc = store_txn_remove(t, STORE_RULES, name, err);
	else
		rc = store_txn_write(t, STORE_RULES, name, buf, len, err);
	if (rc == -1)
		return -1;
	rf->has_file = buf != NULL;
	rf->h_file = h;
	derive(rf);
	return 1;
}

void
rule_reload_succeeded(struct rule_file *rf, struct store *st,
    const char *name, uint64_t mark, int *linked)
{
	char err[ERR_MAX];
	int rc;

	if (rf->seq > mark) {
		rf->doubt = 1;	/* written while it ran, or since */
		return;
	}
	if (rf->has_file == rf->has_accepted && (!rf->has_file ||
	    rf->h_file == rf->h_accepted)) {
		rf->doubt = 0;
		derive(rf);
		return;
	}
	if (rf->has_file)
		rc = store_link(st, STORE_RULES, STORE_ACCEPTED, name, err);
	else
		rc = store_remove(st, STORE_ACCEPTED, name, err);
	if (rc == -1) {
		/* accepted/ is older than what Prometheus runs now: the
		 * diagnosis must not put it back. */
		log_warn("cannot keep the loaded rule file in accepted/",
		    "service", name, "error", err);
		rf->doubt = 1;
		return;
	}
	*linked |= rf->has_file;
	rf->has_accepted = rf->has_file;
	rf->h_accepted = rf->h_file;
	rf->doubt = 0;
	derive(rf);
	log_debug("rule file settled", "service", name, "state",
	    rule_state_name(rf->state));
}

int
rule_set_aside(struct rule_file *rf, struct store *st, const char *name,
    uint64_t *clock, char err[ERR_MAX])
{
	struct rule_file next;
	struct store_txn t;

	if (rf->state != RULE_PENDING || rf->aside || !rf->has_file)
		return 0;
	store_txn_begin(&t, st);
	rule_begin(rf, &next);
	next.h_out = next.h_file;
	next.aside = 1;
	if (own_txn_end(rf, &next, &t, keep_out(&next, &t, name, err), clock,
	    name) == -1)
		return -1;
	return 1;
}

int
rule_bring_back(struct rule_file *rf, struct store *st, const char *name,
    const char *buf, size_t len, uint64_t *clock, char err[ERR_MAX])
{
	struct rule_file next;
	struct store_txn t;
	int rc;

	if (!rf->aside)
		return 0;	/* a request took precedence */
	store_txn_begin(&t, st);
	rule_begin(rf, &next);
	next.aside = 0;
	rc = own_txn_end(rf, &next, &t, rule_write(&next, &t, name, buf, len,
	    err), clock, name);
	/* On failure rules/ keeps accepted/'s version: no longer aside, the
	 * next request, heal or start writes the record's. */
	rf->aside = 0;
	return rc;
}

int
rule_recheck_passed(struct rule_file *rf, struct store *st, const char *name,
    const char *buf, size_t len, uint64_t *clock, char err[ERR_MAX])
{
	struct rule_file next;
	struct store_txn t;
	int rc;

	if (rf->state != RULE_REJECTED)
		return 0;
	store_txn_begin(&t, st);
	rule_begin(rf, &next);
	if ((rc = rule_readmit(&next, &t, name, err)) != -1 &&
	    rule_write(&next, &t, name, buf, len, err) == -1)
		rc = -1;
	return own_txn_end(rf, &next, &t, rc, clock, name);
}

int
rule_culprit_found(struct rule_file *rf, struct store *st, const char *name,
    const char *buf, size_t len, const char *reason, char err[ERR_MAX])
{
	char *file;
	size_t flen;
	int rc;

	if (!rf->aside || hash_content(buf, len) != rf->h_out)
		return 0;	/* a request replaced it meanwhile */
	if ((file = rejected_encode(reason, buf, len, &flen)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	rc = store_write(st, STORE_REJECTED, name, file, flen, err);
	free(file);
	if (rc == -1)
		return -1;
	free(rf->reason);
	rf->reason = strdup(reason);	/* NULL: shown as "" */
	rf->aside = 0;
	rf->state = RULE_REJECTED;
	log_error("rule file rejected", "service", name, "state",
	    rule_state_name(rf->state), "reason", reason);
	return 0;
}

int
rule_readmit(struct rule_file *rf, struct store_txn *t, const char *name,
    char err[ERR_MAX])
{
	if (rf->state != RULE_REJECTED)
		return 0;
	if (store_txn_remove(t, STORE_REJECTED, name, err) == -1)
		return -1;
	/* The reason is rule_commit()'s to free: rf is a change's copy. */
	rf->reason = NULL;
	rf->h_out = 0;
	rf->state = RULE_NONE;
	derive(rf);
	return 1;
}
