/* rulecheck.c: validation of a rendered rule file before it may enter
 * rules/: a libyaml round trip against the record it came from (promtool
 * is promtool.c's). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "request.h"
#include "rulecheck.h"

/* The scalar's text, or NULL when node is not a scalar. */
static const char *
scalar(yaml_node_t *node, size_t *len)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	*len = node->data.scalar.length;
	return (const char *)node->data.scalar.value;
}

static int
scalar_is(yaml_node_t *node, const char *s)
{
	const char *v;
	size_t len;

	return (v = scalar(node, &len)) != NULL && len == strlen(s) &&
	    memcmp(v, s, len) == 0;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++)
		if (scalar_is(yaml_document_get_node(d, p->key), key))
			return yaml_document_get_node(d, p->value);
	return NULL;
}

/* Checks a labels or annotations mapping (NULL: absent) and, when want is
 * given, that it holds exactly want's pairs in order. */
static int
check_map(yaml_document_t *d, yaml_node_t *m, const struct kvlist *want,
    const char *what, const char *alert, char err[ERR_MAX])
{
	yaml_node_pair_t *p, *q;
	const char *k, *v;
	size_t klen = 0, vlen = 0, i = 0;

	if (m == NULL) {
		if (want != NULL && want->n > 0)
			goto differs;
		return 0;
	}
	if (m->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "rule %.100s: %s is not a map", alert,
		    what);
		return -1;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++, i++) {
		k = scalar(yaml_document_get_node(d, p->key), &klen);
		v = scalar(yaml_document_get_node(d, p->value), &vlen);
		if (k == NULL || v == NULL || strlen(k) != klen ||
		    !request_label_name_valid(k)) {
			snprintf(err, ERR_MAX, "rule %.100s: %s has an invalid "
			    "name or a value that is not a string", alert,
			    what);
			return -1;
		}
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			if (scalar_is(yaml_document_get_node(d, q->key), k)) {
				snprintf(err, ERR_MAX, "rule %.100s: %s has "
				    "%.100s twice", alert, what, k);
				return -1;
			}
		}
		if (want != NULL && (i >= want->n ||
		    strcmp(want->v[i].key, k) != 0 ||
		    strlen(want->v[i].value) != vlen ||
		    memcmp(want->v[i].value, v, vlen) != 0))
			goto differs;
	}
	if (want != NULL && i != want->n)
		goto differs;
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

/* 1 when every key of mapping m is one of keys (NULL-terminated) and none
 * is there twice. Prometheus decodes rule files strictly: an unknown or
 * repeated key anywhere fails the file, and with it the whole reload. */
static int
keys_only(yaml_document_t *d, yaml_node_t *m, const char *const *keys)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *k;
	size_t i;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		for (i = 0; keys[i] != NULL && !scalar_is(k, keys[i]); i++)
			;
		if (keys[i] == NULL)
			return 0;
		for (q = m->data.mapping.pairs.start; q < p; q++)
			if (scalar_is(yaml_document_get_node(d, q->key),
			    keys[i]))
				return 0;
	}
	return 1;
}

static int
check_rule(yaml_document_t *d, yaml_node_t *rule, const struct alert *want,
    char err[ERR_MAX])
{
	static const char *const rule_keys[] = { "alert", "expr", "for",
	    "labels", "annotations", NULL };
	yaml_node_t *n;
	const char *name, *expr, *f = NULL;
	size_t nlen = 0, elen = 0, flen = 0;

	if (rule == NULL || rule->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "a rule is not a map");
		return -1;
	}
	if (!keys_only(d, rule, rule_keys)) {
		snprintf(err, ERR_MAX, "a rule has an unknown key or a key "
		    "twice");
		return -1;
	}
	name = scalar(map_get(d, rule, "alert"), &nlen);
	if (name == NULL || strlen(name) != nlen || !alert_name_valid(name)) {
		snprintf(err, ERR_MAX, "a rule has no valid alert name");
		return -1;
	}
	if ((expr = scalar(map_get(d, rule, "expr"), &elen)) == NULL ||
	    elen == 0 || strlen(expr) != elen) {
		snprintf(err, ERR_MAX, "rule %.100s has no expression", name);
		return -1;
	}
	n = map_get(d, rule, "for");
	if (n != NULL && ((f = scalar(n, &flen)) == NULL ||
	    !request_duration_valid(f))) {
		snprintf(err, ERR_MAX, "rule %.100s: for is not a duration",
		    name);
		return -1;
	}
	if (want != NULL && (strcmp(want->name, name) != 0 ||
	    strlen(want->expr) != elen || memcmp(want->expr, expr, elen) != 0 ||
	    (want->for_ == NULL) != (n == NULL) ||
	    (n != NULL && strcmp(want->for_, f) != 0))) {
		snprintf(err, ERR_MAX, "rule %.100s does not read back as "
		    "written", name);
		return -1;
	}
	if (check_map(d, map_get(d, rule, "labels"),
	    want != NULL ? &want->labels : NULL, "labels", name, err) == -1 ||
	    check_map(d, map_get(d, rule, "annotations"),
	    want != NULL ? &want->annotations : NULL, "annotations", name,
	    err) == -1)
		return -1;
	return 0;
}

int
rulecheck_load(yaml_parser_t *parser, yaml_document_t *doc, const char *buf,
    size_t len, char err[ERR_MAX])
{
	if (!yaml_parser_initialize(parser)) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(parser, doc)) {
		snprintf(err, ERR_MAX, "rule file is not YAML: %.200s at line "
		    "%zu", parser->problem ? parser->problem : "parse error",
		    parser->problem_mark.line + 1);
		yaml_parser_delete(parser);
		return -1;
	}
	return 0;
}

int
rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	static const char *const root_keys[] = { "groups", NULL };
	static const char *const group_keys[] = { "name", "rules", NULL };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *groups, *group, *rules;
	yaml_node_item_t *it;
	const char *gname;
	size_t i = 0, glen = 0;
	int rc = -1;

	if (rulecheck_load(&parser, &doc, buf, len, err) == -1)
		return -1;
	root = yaml_document_get_root_node(&doc);
	groups = map_get(&doc, root, "groups");
	if (groups == NULL || groups->type != YAML_SEQUENCE_NODE ||
	    groups->data.sequence.items.top -
	    groups->data.sequence.items.start != 1) {
		snprintf(err, ERR_MAX, "rule file must hold one group");
		goto out;
	}
	group = yaml_document_get_node(&doc, *groups->data.sequence.items.start);
	/* flowmon writes groups: [{name, rules}] and nothing else. */
	if (!keys_only(&doc, root, root_keys) || group == NULL ||
	    group->type != YAML_MAPPING_NODE ||
	    !keys_only(&doc, group, group_keys)) {
		snprintf(err, ERR_MAX, "the rule file has a key other than "
		    "groups, name and rules, or one twice");
		goto out;
	}
	gname = scalar(map_get(&doc, group, "name"), &glen);
	if (gname == NULL || glen == 0 || strlen(gname) != glen ||
	    (svc != NULL && strcmp(gname, svc->name) != 0)) {
		snprintf(err, ERR_MAX, "the group is not named after the "
		    "service");
		goto out;
	}
	rules = map_get(&doc, group, "rules");
	if (rules == NULL || rules->type != YAML_SEQUENCE_NODE) {
		snprintf(err, ERR_MAX, "the group has no rules list");
		goto out;
	}
	for (it = rules->data.sequence.items.start;
	    it < rules->data.sequence.items.top; it++) {
		const struct alert *want = NULL;

		if (svc != NULL) {
			while (i < svc->nalerts && persistent_only &&
			    !svc->alerts[i].persistent)
				i++;
			if (i == svc->nalerts) {
				snprintf(err, ERR_MAX, "more rules than "
				    "alerts");
				goto out;
			}
			want = &svc->alerts[i++];
		}
		if (check_rule(&doc, yaml_document_get_node(&doc, *it), want,
		    err) == -1)
			goto out;
	}
	while (svc != NULL && i < svc->nalerts && persistent_only &&
	    !svc->alerts[i].persistent)
		i++;
	if (svc != NULL && i != svc->nalerts) {
		snprintf(err, ERR_MAX, "fewer rules than alerts");
		goto out;
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
