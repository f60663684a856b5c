/* fuzz_promstate.c: promstate_add_targets and promstate_add_rules, the
 * readers of what Prometheus (vmagent, vmalert) answers to the status
 * page and explain. Oracle: a refusal says why and adds nothing; what is
 * added is well-formed (every string there, the words from their lists)
 * and the lookups find every target by its file and every group by its
 * name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "promstate.h"

static int
word_of(const char *w, const char *const *list)
{
	for (; *list != NULL; list++)
		if (w == *list || strcmp(w, *list) == 0)
			return 1;
	return 0;
}

static void
check(struct promstate *ps)
{
	static const char *const healths[] = { "up", "down", "unknown", NULL };
	static const char *const states[] = { "firing", "pending", "inactive",
	    NULL };
	struct promstate_target *const *v;
	size_t i, k, n;

	for (i = 0; i < ps->ntargets; i++) {
		const struct promstate_target *t = &ps->targets[i];

		if (t->job == NULL || t->scrape_url == NULL ||
		    t->last_error == NULL || !word_of(t->health, healths) ||
		    strlen(t->last_error) > PROMSTATE_TEXT_MAX)
			fuzz_fail("promstate", "a target is not well-formed");
		if (t->file == NULL)
			continue;
		n = promstate_targets(ps, t->file, NULL, &v);
		for (k = 0; k < n && v[k] != t; k++)
			;
		if (k == n)
			fuzz_fail("promstate", "a target is not found by file");
	}
	for (i = 0; i < ps->ngroups; i++) {
		const struct promstate_group *g = &ps->groups[i];

		if (promstate_group(ps, g->name) == NULL || g->file == NULL)
			fuzz_fail("promstate", "a group is not found");
		for (k = 0; k < g->nrules; k++)
			if (g->rules[k].name == NULL ||
			    !word_of(g->rules[k].state, states))
				fuzz_fail("promstate", "a rule is not well-formed");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct promstate *ps;
	char err[ERR_MAX];
	int t, r;

	if (size > 256 * 1024 || (ps = promstate_new()) == NULL)
		return 0;
	err[0] = '\0';
	t = promstate_add_targets(ps, (const char *)data, size, err);
	if (t == -1 && (err[0] == '\0' || ps->ntargets != 0))
		fuzz_fail("promstate_add_targets", "bad failure");
	err[0] = '\0';
	r = promstate_add_rules(ps, (const char *)data, size, err);
	if (r == -1 && (err[0] == '\0' || ps->ngroups != 0))
		fuzz_fail("promstate_add_rules", "bad failure");
	promstate_finish(ps);
	check(ps);
	promstate_put(ps);
	return 0;
}
