/* filecheck.c: shape checks of target and rule files written by hand, as
 * Prometheus 2.42 applies them when it reads the file (file discovery
 * decodes JSON with unknown fields disallowed; the rule loader decodes
 * YAML strictly and then validates names and durations). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <yaml.h>

#include "filecheck.h"
#include "rulecheck.h"
#include "values.h"

static int
json_string_ok(const cJSON *v)
{
	const char *s = cJSON_GetStringValue(v);

	return s != NULL && values_utf8_valid(s);
}

int
filecheck_targets(const char *buf, size_t len, char err[ERR_MAX])
{
	const char *end = NULL;
	cJSON *root, *g, *k, *v;
	int i = 0, rc = -1;

	if (strlen(buf) != len) {
		snprintf(err, ERR_MAX, "target file holds a NUL byte");
		return -1;
	}
	if ((root = cJSON_ParseWithLengthOpts(buf, len, &end, 0)) == NULL) {
		snprintf(err, ERR_MAX, "target file is not JSON (near byte "
		    "%zu)", (size_t)(cJSON_GetErrorPtr() != NULL &&
		    cJSON_GetErrorPtr() >= buf ? cJSON_GetErrorPtr() - buf :
		    0));
		return -1;
	}
	if (end != NULL && end[strspn(end, " \t\r\n")] != '\0') {
		snprintf(err, ERR_MAX, "target file has data after the JSON "
		    "array (byte %zu)", (size_t)(end - buf));
		goto out;
	}
	if (!cJSON_IsArray(root)) {
		snprintf(err, ERR_MAX, "target file is not a JSON array of "
		    "target groups");
		goto out;
	}
	cJSON_ArrayForEach(g, root) {
		i++;
		if (!cJSON_IsObject(g)) {
			snprintf(err, ERR_MAX, "group %d is not an object", i);
			goto out;
		}
		cJSON_ArrayForEach(k, g) {
			if (strcmp(k->string, "targets") != 0 &&
			    strcmp(k->string, "labels") != 0) {
				snprintf(err, ERR_MAX, "group %d: unknown key "
				    "\"%.100s\" (only targets and labels)", i,
				    k->string);
				goto out;
			}
		}
		k = cJSON_GetObjectItemCaseSensitive(g, "targets");
		if (k != NULL && !cJSON_IsNull(k)) {
			if (!cJSON_IsArray(k)) {
				snprintf(err, ERR_MAX, "group %d: targets is "
				    "not an array", i);
				goto out;
			}
			cJSON_ArrayForEach(v, k) {
				if (!json_string_ok(v)) {
					snprintf(err, ERR_MAX, "group %d: a "
					    "target is not a string", i);
					goto out;
				}
			}
		}
		k = cJSON_GetObjectItemCaseSensitive(g, "labels");
		if (k != NULL && !cJSON_IsNull(k)) {
			if (!cJSON_IsObject(k)) {
				snprintf(err, ERR_MAX, "group %d: labels is "
				    "not an object", i);
				goto out;
			}
			cJSON_ArrayForEach(v, k) {
				if (!values_label_name_valid(v->string)) {
					snprintf(err, ERR_MAX, "group %d: label "
					    "name \"%.100s\" is not valid "
					    "([a-zA-Z_][a-zA-Z0-9_]*)", i,
					    v->string);
					goto out;
				}
				if (!json_string_ok(v)) {
					snprintf(err, ERR_MAX, "group %d: label "
					    "%.100s is not a UTF-8 string", i,
					    v->string);
					goto out;
				}
			}
		}
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* Rule files. */

struct fc {
	yaml_document_t	*d;
	char		*err;
};

static const char *
fc_scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* A scalar whose text has no NUL byte (libyaml keeps the length apart). */
static const char *
fc_text(yaml_node_t *n)
{
	const char *s = fc_scalar(n);

	if (s == NULL || strlen(s) != n->data.scalar.length)
		return NULL;
	return s;
}

/* Every key of mapping m must be one of keys (NULL-terminated). */
static int
fc_keys(struct fc *c, yaml_node_t *m, const char *const *keys,
    const char *where)
{
	yaml_node_pair_t *p;
	const char *k;
	size_t i;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = fc_text(yaml_document_get_node(c->d, p->key));
		for (i = 0; k != NULL && keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (k == NULL || keys[i] == NULL) {
			snprintf(c->err, ERR_MAX, "%s: unknown field \"%.100s\"",
			    where, k != NULL ? k : "(not a string)");
			return -1;
		}
	}
	return 0;
}

static yaml_node_t *
fc_get(struct fc *c, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = fc_text(yaml_document_get_node(c->d, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(c->d, p->value);
	}
	return NULL;
}

/* A YAML null: an empty plain scalar, "~" or "null". */
static int
fc_null(yaml_node_t *n)
{
	const char *s = fc_scalar(n);

	return n == NULL || (s != NULL && n->data.scalar.style ==
	    YAML_PLAIN_SCALAR_STYLE && (strcmp(s, "") == 0 ||
	    strcmp(s, "~") == 0 || strcmp(s, "null") == 0));
}

static int
fc_duration(struct fc *c, yaml_node_t *n, const char *what,
    const char *where)
{
	const char *s;

	if (fc_null(n))
		return 0;
	if ((s = fc_text(n)) == NULL || !values_duration_valid(s)) {
		snprintf(c->err, ERR_MAX, "%s: %s is not a duration (like 30s, "
		    "5m, 1h30m)", where, what);
		return -1;
	}
	return 0;
}

/* labels or annotations: a map of valid names to strings. */
static int
fc_labels(struct fc *c, yaml_node_t *m, const char *what, const char *where)
{
	yaml_node_pair_t *p;
	yaml_node_t *v;
	const char *k, *s;

	if (fc_null(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "%s: %s is not a map", where, what);
		return -1;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = fc_text(yaml_document_get_node(c->d, p->key));
		v = yaml_document_get_node(c->d, p->value);
		if (k == NULL || !values_label_name_valid(k)) {
			snprintf(c->err, ERR_MAX, "%s: %s name \"%.100s\" is not "
			    "valid ([a-zA-Z_][a-zA-Z0-9_]*)", where, what,
			    k != NULL ? k : "");
			return -1;
		}
		if ((s = fc_text(v)) == NULL) {
			snprintf(c->err, ERR_MAX, "%s: %s %.100s is not a "
			    "string", where, what, k);
			return -1;
		}
	}
	return 0;
}

/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int
fc_metric_name(const char *s)
{
	const char *p;

	if (*s == '\0')
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_' || *p == ':' || (p > s && *p >= '0' &&
		    *p <= '9')))
			return 0;
	return 1;
}

static int
fc_rule(struct fc *c, yaml_node_t *r, const char *group, int i)
{
	static const char *const keys[] = { "record", "alert", "expr", "for",
		"keep_firing_for", "labels", "annotations", NULL };
	char where[256];
	yaml_node_t *alert, *record;
	const char *name, *expr;

	snprintf(where, sizeof(where), "group %.100s, rule %d", group, i);
	if (r == NULL || r->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "%s is not a map", where);
		return -1;
	}
	if (fc_keys(c, r, keys, where) == -1)
		return -1;
	alert = fc_get(c, r, "alert");
	record = fc_get(c, r, "record");
	if ((alert != NULL) == (record != NULL)) {
		snprintf(c->err, ERR_MAX, "%s: needs exactly one of alert and "
		    "record", where);
		return -1;
	}
	if (record != NULL) {
		if ((name = fc_text(record)) == NULL ||
		    !fc_metric_name(name)) {
			snprintf(c->err, ERR_MAX, "%s: record is not a valid "
			    "metric name", where);
			return -1;
		}
		if (fc_get(c, r, "for") != NULL ||
		    fc_get(c, r, "keep_firing_for") != NULL ||
		    fc_get(c, r, "annotations") != NULL) {
			snprintf(c->err, ERR_MAX, "%s: recording rule %.100s "
			    "may not have for, keep_firing_for or annotations",
			    where, name);
			return -1;
		}
	} else if ((name = fc_text(alert)) == NULL || *name == '\0' ||
	    !values_utf8_valid(name)) {
		snprintf(c->err, ERR_MAX, "%s: alert has no valid name", where);
		return -1;
	}
	snprintf(where, sizeof(where), "group %.100s, rule %.100s", group,
	    name);
	if ((expr = fc_text(fc_get(c, r, "expr"))) == NULL || *expr == '\0') {
		snprintf(c->err, ERR_MAX, "%s: no expr", where);
		return -1;
	}
	if (fc_duration(c, fc_get(c, r, "for"), "for", where) == -1 ||
	    fc_duration(c, fc_get(c, r, "keep_firing_for"), "keep_firing_for",
	    where) == -1 ||
	    fc_labels(c, fc_get(c, r, "labels"), "label", where) == -1 ||
	    fc_labels(c, fc_get(c, r, "annotations"), "annotation",
	    where) == -1)
		return -1;
	return 0;
}

static int
fc_group(struct fc *c, yaml_node_t *g, int gi, yaml_node_t *groups)
{
	static const char *const keys[] = { "name", "interval", "limit",
		"rules", NULL };
	char where[160];
	yaml_node_item_t *it;
	yaml_node_t *rules, *other;
	const char *name, *limit;
	int i = 0;

	snprintf(where, sizeof(where), "group %d", gi);
	if (g == NULL || g->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "%s is not a map", where);
		return -1;
	}
	if (fc_keys(c, g, keys, where) == -1)
		return -1;
	if ((name = fc_text(fc_get(c, g, "name"))) == NULL || *name == '\0') {
		snprintf(c->err, ERR_MAX, "%s has no name", where);
		return -1;
	}
	/* Prometheus: "groupname: X is repeated in the same file". */
	for (it = groups->data.sequence.items.start;
	    it < groups->data.sequence.items.top; it++) {
		other = yaml_document_get_node(c->d, *it);
		if (other == g)
			break;
		if (other != NULL && other->type == YAML_MAPPING_NODE &&
		    fc_text(fc_get(c, other, "name")) != NULL &&
		    strcmp(fc_text(fc_get(c, other, "name")), name) == 0) {
			snprintf(c->err, ERR_MAX, "group name %.100s is "
			    "repeated in the same file", name);
			return -1;
		}
	}
	snprintf(where, sizeof(where), "group %.100s", name);
	if (fc_duration(c, fc_get(c, g, "interval"), "interval",
	    where) == -1)
		return -1;
	if (!fc_null(fc_get(c, g, "limit")) &&
	    ((limit = fc_text(fc_get(c, g, "limit"))) == NULL ||
	    limit[strspn(limit, "0123456789")] != '\0' || *limit == '\0')) {
		snprintf(c->err, ERR_MAX, "%s: limit is not a number", where);
		return -1;
	}
	rules = fc_get(c, g, "rules");
	if (fc_null(rules))
		return 0;
	if (rules->type != YAML_SEQUENCE_NODE) {
		snprintf(c->err, ERR_MAX, "%s: rules is not a list", where);
		return -1;
	}
	for (it = rules->data.sequence.items.start;
	    it < rules->data.sequence.items.top; it++)
		if (fc_rule(c, yaml_document_get_node(c->d, *it), name,
		    ++i) == -1)
			return -1;
	return 0;
}

int
filecheck_rules(const char *buf, size_t len, char err[ERR_MAX])
{
	static const char *const keys[] = { "groups", NULL };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *groups;
	yaml_node_item_t *it;
	struct fc c = { &doc, err };
	int rc = -1, gi = 0;

	if (strlen(buf) != len) {
		snprintf(err, ERR_MAX, "rule file holds a NUL byte");
		return -1;
	}
	if (rulecheck_load(&parser, &doc, buf, len, err) == -1)
		return -1;
	/* An empty file (or a bare null) is a valid file without groups. */
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || fc_null(root)) {
		rc = 0;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "rule file is not a map with groups");
		goto out;
	}
	if (fc_keys(&c, root, keys, "rule file") == -1)
		goto out;
	groups = fc_get(&c, root, "groups");
	if (fc_null(groups)) {
		rc = 0;
		goto out;
	}
	if (groups->type != YAML_SEQUENCE_NODE) {
		snprintf(err, ERR_MAX, "groups is not a list");
		goto out;
	}
	for (it = groups->data.sequence.items.start;
	    it < groups->data.sequence.items.top; it++)
		if (fc_group(&c, yaml_document_get_node(&doc, *it), ++gi,
		    groups) == -1)
			goto out;
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
