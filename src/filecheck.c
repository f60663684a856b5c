/* filecheck.c: the shape checks of target and rule files, as Prometheus
 * 2.42 applies them when it reads the file (file discovery decodes JSON
 * with unknown fields disallowed and drops a target without a usable
 * address; the rule loader decodes YAML strictly and then validates names
 * and durations). Pure: buffers in, a verdict out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <yaml.h>

#include "filecheck.h"
#include "values.h"

/*
 * Target files.
 */

/* A target Prometheus scrapes rather than drops: host or host:port (an
 * IPv6 host in brackets), with no space, control character or '/'
 * ("is not a valid hostname"), and a port 1..65535 when one is given. */
static int
filecheck_target(const char *t, char why[ERR_MAX])
{
	const char *colon, *p;

	if (*t == '\0') {
		snprintf(why, ERR_MAX, "an empty target");
		return -1;
	}
	if (!values_utf8_valid(t)) {
		snprintf(why, ERR_MAX, "a target is not valid UTF-8");
		return -1;
	}
	for (p = t; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f) {
			snprintf(why, ERR_MAX, "target \"%.200s\" is not "
			    "host:port", t);
			return -1;
		}
	}
	if (*t == '[') {
		if ((p = strchr(t, ']')) == NULL || (p[1] != '\0' &&
		    p[1] != ':')) {
			snprintf(why, ERR_MAX, "target \"%.200s\" is not "
			    "host:port", t);
			return -1;
		}
		colon = p[1] == ':' ? p + 1 : NULL;
	} else
		colon = strrchr(t, ':');
	if (colon == NULL || colon == t)
		return 0;	/* host only: Prometheus adds the port */
	if (values_port(colon + 1, strlen(colon + 1)) == 0) {
		snprintf(why, ERR_MAX, "target \"%.200s\": port is not "
		    "1..65535", t);
		return -1;
	}
	return 0;
}

static int
filecheck_group(const cJSON *g, int i, char err[ERR_MAX])
{
	const cJSON *k, *v;
	const char *s;
	char why[ERR_MAX];

	if (!cJSON_IsObject(g)) {
		snprintf(err, ERR_MAX, "group %d is not an object", i);
		return -1;
	}
	cJSON_ArrayForEach(k, g) {
		if (strcmp(k->string, "targets") != 0 &&
		    strcmp(k->string, "labels") != 0) {
			snprintf(err, ERR_MAX, "group %d: unknown key "
			    "\"%.100s\" (only targets and labels)", i,
			    k->string);
			return -1;
		}
	}
	k = cJSON_GetObjectItemCaseSensitive(g, "targets");
	if (k != NULL && !cJSON_IsNull(k)) {
		if (!cJSON_IsArray(k)) {
			snprintf(err, ERR_MAX, "group %d: targets is not an "
			    "array", i);
			return -1;
		}
		cJSON_ArrayForEach(v, k) {
			if ((s = cJSON_GetStringValue(v)) == NULL) {
				snprintf(err, ERR_MAX, "group %d: a target is "
				    "not a string", i);
				return -1;
			}
			if (filecheck_target(s, why) == -1) {
				snprintf(err, ERR_MAX, "group %d: %.400s", i,
				    why);
				return -1;
			}
		}
	}
	k = cJSON_GetObjectItemCaseSensitive(g, "labels");
	if (k != NULL && !cJSON_IsNull(k)) {
		if (!cJSON_IsObject(k)) {
			snprintf(err, ERR_MAX, "group %d: labels is not an "
			    "object", i);
			return -1;
		}
		cJSON_ArrayForEach(v, k) {
			if (!values_label_name_valid(v->string)) {
				snprintf(err, ERR_MAX, "group %d: label name "
				    "\"%.100s\" is not a valid label name "
				    "([a-zA-Z_][a-zA-Z0-9_]*)", i, v->string);
				return -1;
			}
			if ((s = cJSON_GetStringValue(v)) == NULL) {
				snprintf(err, ERR_MAX, "group %d: label %.100s "
				    "is not a string", i, v->string);
				return -1;
			}
			if (!values_utf8_valid(s)) {
				snprintf(err, ERR_MAX, "group %d: label %.100s "
				    "is not valid UTF-8", i, v->string);
				return -1;
			}
		}
	}
	return 0;
}

int
filecheck_targets(const char *buf, size_t len, char err[ERR_MAX])
{
	const char *end = NULL, *at;
	const cJSON *g;
	cJSON *root;
	int i = 0, rc = -1;

	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, ERR_MAX, "target file holds a NUL byte");
		return -1;
	}
	if ((root = cJSON_ParseWithLengthOpts(buf, len, &end, 0)) == NULL) {
		at = cJSON_GetErrorPtr();
		snprintf(err, ERR_MAX, "not JSON (near byte %zu: torn or "
		    "hand-edited?)", (size_t)(at != NULL && at >= buf &&
		    at <= buf + len ? at - buf : 0));
		return -1;
	}
	for (at = end; at != NULL && at < buf + len && (*at == ' ' ||
	    *at == '\t' || *at == '\r' || *at == '\n'); at++)
		;
	if (at != NULL && at < buf + len) {
		snprintf(err, ERR_MAX, "data after the JSON array (byte %zu)",
		    (size_t)(end - buf));
		goto out;
	}
	if (!cJSON_IsArray(root)) {
		snprintf(err, ERR_MAX, "not a JSON array of target groups");
		goto out;
	}
	cJSON_ArrayForEach(g, root)
		if (filecheck_group(g, ++i, err) == -1)
			goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/*
 * libyaml helpers.
 */

const char *
filecheck_text(yaml_node_t *n)
{
	const char *s;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	return strlen(s) == n->data.scalar.length ? s : NULL;
}

yaml_node_t *
filecheck_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = filecheck_text(yaml_document_get_node(d, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

int
filecheck_null(yaml_node_t *n)
{
	const char *s;

	if (n == NULL)
		return 1;
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)n->data.scalar.value;
	return strcmp(s, "") == 0 || strcmp(s, "~") == 0 ||
	    strcmp(s, "null") == 0;
}

const char *
filecheck_other_key(yaml_document_t *d, yaml_node_t *m,
    const char *const *keys)
{
	yaml_node_pair_t *p;
	const char *k;
	size_t i;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		if ((k = filecheck_text(yaml_document_get_node(d,
		    p->key))) == NULL)
			return "";
		for (i = 0; keys[i] != NULL && strcmp(k, keys[i]) != 0; i++)
			;
		if (keys[i] == NULL)
			return k;
	}
	return NULL;
}

/*
 * Rule files.
 */

struct fc {
	yaml_document_t	*d;
	char		*err;
};

/* A key of mapping m that is there twice, or NULL. */
static const char *
fc_repeated(struct fc *c, yaml_node_t *m)
{
	yaml_node_pair_t *p, *q;
	const char *k, *l;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		if ((k = filecheck_text(yaml_document_get_node(c->d,
		    p->key))) == NULL)
			continue;
		for (q = m->data.mapping.pairs.start; q < p; q++)
			if ((l = filecheck_text(yaml_document_get_node(c->d,
			    q->key))) != NULL && strcmp(k, l) == 0)
				return k;
	}
	return NULL;
}

/* Every key of mapping m is one of keys (NULL-terminated), once. */
static int
fc_keys(struct fc *c, yaml_node_t *m, const char *const *keys,
    const char *where)
{
	char known[200];
	const char *k;
	size_t i, used = 0;

	if ((k = filecheck_other_key(c->d, m, keys)) != NULL) {
		known[0] = '\0';
		for (i = 0; keys[i] != NULL && used < sizeof(known); i++)
			used += (size_t)snprintf(known + used,
			    sizeof(known) - used, "%s%s", i ? ", " : "",
			    keys[i]);
		snprintf(c->err, ERR_MAX, "%s: unknown field \"%.100s\" (a key "
		    "other than %s)", where, *k ? k : "(not a string)", known);
		return -1;
	}
	if ((k = fc_repeated(c, m)) != NULL) {
		snprintf(c->err, ERR_MAX, "%s: key \"%.100s\" given twice",
		    where, k);
		return -1;
	}
	return 0;
}

static int
fc_duration(struct fc *c, yaml_node_t *n, const char *what,
    const char *where)
{
	const char *s;

	if (filecheck_null(n))
		return 0;
	if ((s = filecheck_text(n)) == NULL || !values_duration_valid(s)) {
		snprintf(c->err, ERR_MAX, "%s: %s is not a duration (like 30s, "
		    "5m, 1h30m)", where, what);
		return -1;
	}
	return 0;
}

/* labels or annotations: a map of valid names to strings, each once. */
static int
fc_labels(struct fc *c, yaml_node_t *m, const char *what, const char *one,
    const char *where)
{
	yaml_node_pair_t *p;
	const char *k;

	if (filecheck_null(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "%s: %s is not a map", where, what);
		return -1;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = filecheck_text(yaml_document_get_node(c->d, p->key));
		if (k == NULL || !values_label_name_valid(k)) {
			snprintf(c->err, ERR_MAX, "%s: %s: %s name \"%.100s\" "
			    "is not valid ([a-zA-Z_][a-zA-Z0-9_]*)", where,
			    what, one, k != NULL ? k : "");
			return -1;
		}
		if (filecheck_text(yaml_document_get_node(c->d,
		    p->value)) == NULL) {
			snprintf(c->err, ERR_MAX, "%s: %s: %s %.100s is not a "
			    "string", where, what, one, k);
			return -1;
		}
	}
	if ((k = fc_repeated(c, m)) != NULL) {
		snprintf(c->err, ERR_MAX, "%s: %s: %s %.100s given twice",
		    where, what, one, k);
		return -1;
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
	alert = filecheck_get(c->d, r, "alert");
	record = filecheck_get(c->d, r, "record");
	if ((alert != NULL) == (record != NULL)) {
		snprintf(c->err, ERR_MAX, "%s: needs exactly one of alert and "
		    "record", where);
		return -1;
	}
	if (record != NULL) {
		if ((name = filecheck_text(record)) == NULL ||
		    !fc_metric_name(name)) {
			snprintf(c->err, ERR_MAX, "%s: record is not a valid "
			    "metric name", where);
			return -1;
		}
		if (filecheck_get(c->d, r, "for") != NULL ||
		    filecheck_get(c->d, r, "keep_firing_for") != NULL ||
		    filecheck_get(c->d, r, "annotations") != NULL) {
			snprintf(c->err, ERR_MAX, "%s: recording rule %.100s "
			    "may not have for, keep_firing_for or annotations",
			    where, name);
			return -1;
		}
	} else if ((name = filecheck_text(alert)) == NULL || *name == '\0' ||
	    !values_utf8_valid(name)) {
		snprintf(c->err, ERR_MAX, "%s: alert has no valid name", where);
		return -1;
	}
	snprintf(where, sizeof(where), "group %.100s, rule %.100s", group,
	    name);
	if ((expr = filecheck_text(filecheck_get(c->d, r, "expr"))) == NULL ||
	    *expr == '\0') {
		snprintf(c->err, ERR_MAX, "%s: no expr (the expression to "
		    "evaluate)", where);
		return -1;
	}
	if (fc_duration(c, filecheck_get(c->d, r, "for"), "for", where) == -1 ||
	    fc_duration(c, filecheck_get(c->d, r, "keep_firing_for"),
	    "keep_firing_for", where) == -1 ||
	    fc_labels(c, filecheck_get(c->d, r, "labels"), "labels", "label",
	    where) == -1 ||
	    fc_labels(c, filecheck_get(c->d, r, "annotations"), "annotations",
	    "annotation", where) == -1)
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
	const char *name, *limit, *oname;
	int i = 0;

	snprintf(where, sizeof(where), "group %d", gi);
	if (g == NULL || g->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "%s is not a map", where);
		return -1;
	}
	if (fc_keys(c, g, keys, where) == -1)
		return -1;
	if ((name = filecheck_text(filecheck_get(c->d, g, "name"))) == NULL ||
	    *name == '\0') {
		snprintf(c->err, ERR_MAX, "%s has no name", where);
		return -1;
	}
	/* Prometheus: "groupname: X is repeated in the same file". */
	for (it = groups->data.sequence.items.start;
	    it < groups->data.sequence.items.top; it++) {
		other = yaml_document_get_node(c->d, *it);
		if (other == g)
			break;
		if ((oname = filecheck_text(filecheck_get(c->d, other,
		    "name"))) != NULL && strcmp(oname, name) == 0) {
			snprintf(c->err, ERR_MAX, "group name %.100s is "
			    "repeated in the same file", name);
			return -1;
		}
	}
	snprintf(where, sizeof(where), "group %.100s", name);
	if (fc_duration(c, filecheck_get(c->d, g, "interval"), "interval",
	    where) == -1)
		return -1;
	if (!filecheck_null(filecheck_get(c->d, g, "limit")) &&
	    ((limit = filecheck_text(filecheck_get(c->d, g, "limit"))) ==
	    NULL || limit[strspn(limit, "0123456789")] != '\0' ||
	    *limit == '\0')) {
		snprintf(c->err, ERR_MAX, "%s: limit is not a number", where);
		return -1;
	}
	rules = filecheck_get(c->d, g, "rules");
	if (filecheck_null(rules))
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

/* The shape of the whole document. */
static int
fc_file(struct fc *c)
{
	static const char *const keys[] = { "groups", NULL };
	yaml_node_t *root, *groups;
	yaml_node_item_t *it;
	int gi = 0;

	/* An empty file (or a bare null) is a valid file without groups. */
	root = yaml_document_get_root_node(c->d);
	if (filecheck_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(c->err, ERR_MAX, "rule file is not a map with groups");
		return -1;
	}
	if (fc_keys(c, root, keys, "rule file") == -1)
		return -1;
	groups = filecheck_get(c->d, root, "groups");
	if (filecheck_null(groups))
		return 0;
	if (groups->type != YAML_SEQUENCE_NODE) {
		snprintf(c->err, ERR_MAX, "groups is not a list");
		return -1;
	}
	for (it = groups->data.sequence.items.start;
	    it < groups->data.sequence.items.top; it++)
		if (fc_group(c, yaml_document_get_node(c->d, *it), ++gi,
		    groups) == -1)
			return -1;
	return 0;
}

int
filecheck_rules_doc(const char *buf, size_t len, struct filecheck_doc *fd,
    char err[ERR_MAX])
{
	struct fc c = { &fd->doc, err };

	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, ERR_MAX, "rule file holds a NUL byte");
		return -1;
	}
	if (!yaml_parser_initialize(&fd->parser)) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&fd->parser, (const unsigned char *)buf,
	    len);
	if (!yaml_parser_load(&fd->parser, &fd->doc)) {
		snprintf(err, ERR_MAX, "rule file is not YAML: %.200s at line "
		    "%zu", fd->parser.problem ? fd->parser.problem :
		    "parse error", fd->parser.problem_mark.line + 1);
		yaml_parser_delete(&fd->parser);
		return -1;
	}
	if (fc_file(&c) == -1) {
		filecheck_doc_release(fd);
		return -1;
	}
	return 0;
}

void
filecheck_doc_release(struct filecheck_doc *fd)
{
	yaml_document_delete(&fd->doc);
	yaml_parser_delete(&fd->parser);
}

int
filecheck_rules(const char *buf, size_t len, char err[ERR_MAX])
{
	struct filecheck_doc fd;

	if (filecheck_rules_doc(buf, len, &fd, err) == -1)
		return -1;
	filecheck_doc_release(&fd);
	return 0;
}
