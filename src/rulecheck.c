/* rulecheck.c: validation of a rendered rule file before it may enter
 * rules/: filecheck's shape check, then a comparison of what it parsed
 * with the record the file came from (a libyaml round trip). promtool is
 * promtool.c's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filecheck.h"
#include "rulecheck.h"
#include "values.h"

/* Checks a labels or annotations mapping (absent or null: none) holds
 * exactly want's pairs, in order. The shape is filecheck's already. */
static int
compare_map(yaml_document_t *d, yaml_node_t *m, const struct kvlist *want,
    const char *what, const char *alert, char err[ERR_MAX])
{
	yaml_node_pair_t *p;
	const char *k, *v;
	size_t i = 0;

	if (!filecheck_null(m)) {
		for (p = m->data.mapping.pairs.start;
		    p < m->data.mapping.pairs.top; p++, i++) {
			k = filecheck_text(yaml_document_get_node(d, p->key));
			v = filecheck_text(yaml_document_get_node(d,
			    p->value));
			if (i >= want->n || k == NULL || v == NULL ||
			    strcmp(want->v[i].key, k) != 0 ||
			    strcmp(want->v[i].value, v) != 0)
				goto differs;
		}
	}
	if (i == want->n)
		return 0;
differs:
	snprintf(err, ERR_MAX, "rule %.100s: %s do not read back as written",
	    alert, what);
	return -1;
}

/* 1 when s is an alert name flowmon writes: DFM's serviceName + "_" +
 * alertName with every '-' removed, so [A-Za-z0-9_.:]+ (a service name may
 * start with a digit and hold '.', an alertName '.' and ':'). Prometheus
 * takes any alert name; a '-' left in means the name was not DFM's. */
static int
alert_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' ||
		    *s == ':'))
			return 0;
	return 1;
}

/* One rule against the alert it was rendered from. */
static int
compare_rule(yaml_document_t *d, yaml_node_t *rule, const struct alert *want,
    char err[ERR_MAX])
{
	static const char *const rule_keys[] = { "alert", "expr", "for",
	    "labels", "annotations", NULL };
	yaml_node_t *f;
	const char *name, *k;

	/* flowmon writes these keys and no other, once each (the repeat is
	 * filecheck's refusal already). */
	if ((k = filecheck_other_key(d, rule, rule_keys)) != NULL) {
		snprintf(err, ERR_MAX, "a rule has an unknown key \"%.100s\" "
		    "(flowmon writes alert, expr, for, labels, annotations)",
		    k);
		return -1;
	}
	name = filecheck_text(filecheck_get(d, rule, "alert"));
	if (name == NULL || !alert_name_valid(name)) {
		snprintf(err, ERR_MAX, "a rule has no valid alert name");
		return -1;
	}
	f = filecheck_get(d, rule, "for");
	if (strcmp(want->name, name) != 0 || strcmp(want->expr,
	    filecheck_text(filecheck_get(d, rule, "expr"))) != 0 ||
	    (want->for_ == NULL) != (f == NULL) || (f != NULL &&
	    (filecheck_text(f) == NULL ||
	    strcmp(want->for_, filecheck_text(f)) != 0))) {
		snprintf(err, ERR_MAX, "rule %.100s does not read back as "
		    "written", name);
		return -1;
	}
	if (compare_map(d, filecheck_get(d, rule, "labels"), &want->labels,
	    "labels", name, err) == -1 ||
	    compare_map(d, filecheck_get(d, rule, "annotations"),
	    &want->annotations, "annotations", name, err) == -1)
		return -1;
	return 0;
}

/* The rule file is exactly what flowmon renders for svc: one group named
 * after it, holding its alerts (only the persistent ones if
 * persistent_only) in order, and nothing else. */
static int
compare_file(yaml_document_t *d, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	static const char *const group_keys[] = { "name", "rules", NULL };
	yaml_node_t *groups, *group, *rules;
	yaml_node_item_t *it;
	const char *gname;
	size_t i = 0;

	groups = filecheck_get(d, yaml_document_get_root_node(d), "groups");
	if (groups == NULL || groups->type != YAML_SEQUENCE_NODE ||
	    groups->data.sequence.items.top -
	    groups->data.sequence.items.start != 1) {
		snprintf(err, ERR_MAX, "rule file must hold one group");
		return -1;
	}
	group = yaml_document_get_node(d, *groups->data.sequence.items.start);
	if (filecheck_other_key(d, group, group_keys) != NULL) {
		snprintf(err, ERR_MAX, "the rule file has a key other than "
		    "groups, name and rules");
		return -1;
	}
	gname = filecheck_text(filecheck_get(d, group, "name"));
	if (gname == NULL || strcmp(gname, svc->name) != 0) {
		snprintf(err, ERR_MAX, "the group is not named after the "
		    "service");
		return -1;
	}
	rules = filecheck_get(d, group, "rules");
	if (rules == NULL || rules->type != YAML_SEQUENCE_NODE) {
		snprintf(err, ERR_MAX, "the group has no rules list");
		return -1;
	}
	for (it = rules->data.sequence.items.start;
	    it < rules->data.sequence.items.top; it++) {
		while (i < svc->nalerts && persistent_only &&
		    !svc->alerts[i].persistent)
			i++;
		if (i == svc->nalerts) {
			snprintf(err, ERR_MAX, "more rules than alerts");
			return -1;
		}
		if (compare_rule(d, yaml_document_get_node(d, *it),
		    &svc->alerts[i++], err) == -1)
			return -1;
	}
	while (i < svc->nalerts && persistent_only &&
	    !svc->alerts[i].persistent)
		i++;
	if (i != svc->nalerts) {
		snprintf(err, ERR_MAX, "fewer rules than alerts");
		return -1;
	}
	return 0;
}

int
rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	struct filecheck_doc fd;
	int rc = 0;

	/* The one shape check of rule files, then the comparison on the
	 * document it parsed. */
	if (filecheck_rules_doc(buf, len, &fd, err) == -1)
		return -1;
	if (svc != NULL)
		rc = compare_file(&fd.doc, svc, persistent_only, err);
	filecheck_doc_release(&fd);
	return rc;
}
