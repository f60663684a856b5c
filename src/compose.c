/* compose.c: Compose and stack files into the services `flowmon plan`
 * announces, read as docker stack deploy reads them (see compose.h for
 * the rules). libyaml parses the document and resolves anchors and
 * aliases; merge keys, YAML 1.1 scalars, variables and the merging of
 * files are done here, bounded: merges may not nest deeper than
 * COMPOSE_DEPTH_MAX nor expand to more than COMPOSE_PAIRS_MAX keys, so an
 * alias bomb is refused, not expanded. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "compose.h"

#define COMPOSE_DEPTH_MAX	64		/* merges and nesting */
#define COMPOSE_PAIRS_MAX	1000000L	/* keys seen through merges */

/* One key of a mapping once its merges are applied, and its place. */
struct pair {
	const char	*key;
	yaml_node_t	*value;
	size_t		 seq;
};

struct pairs {
	struct pair	*v;
	size_t		 n;
	size_t		 cap;
};

/* One file being read. */
struct reader {
	yaml_document_t		 doc;
	size_t			 nnodes;
	char			**text;		/* per node: its interpolated
						   value, NULL: as written */
	unsigned char		*seen;		/* per node: interpolated */
	long			 budget;	/* keys merges may still add */
	compose_lookup_fn	 lookup;
	void			*ctx;
	char			*err;		/* ERR_MAX */
};

static int
fail(struct reader *r, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets r->err to "line N: " and the message; -1. */
static int
fail(struct reader *r, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (at != NULL)
		n = snprintf(r->err, ERR_MAX, "line %zu: ",
		    at->start_mark.line + 1);
	va_start(ap, fmt);
	vsnprintf(r->err + n, ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t
node_index(struct reader *r, const yaml_node_t *n)
{
	return (size_t)(n - r->doc.nodes.start);
}

static yaml_node_t *
node_at(struct reader *r, int id)
{
	return yaml_document_get_node(&r->doc, id);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int
is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/*
 * Scalars (YAML 1.1, as yaml.v2 resolves them).
 */

static int
in_list(const char *s, const char *const *l)
{
	for (; *l != NULL; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

/* Go's fmt.Sprint of a float64: the shortest digits that read back, in
 * %e form when the exponent is below -4 or at least 6. */
static void
go_float(double d, char buf[64])
{
	char tmp[64];
	int p, exp;

	if (isnan(d)) {
		snprintf(buf, 64, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, 64, "%sInf", d > 0 ? "+" : "-");
		return;
	}
	if (d == 0) {
		snprintf(buf, 64, "%s", signbit(d) ? "-0" : "0");
		return;
	}
	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
	exp = atoi(strchr(tmp, 'e') + 1);
	if (exp < -4 || exp >= 6)
		snprintf(buf, 64, "%s", tmp);
	else
		snprintf(buf, 64, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, d);
}

/* strconv.ParseInt(s, 0, 64), and ParseUint beyond it: a decimal into
 * buf, or -1 when s is no integer. */
static int
go_int(const char *s, char buf[64])
{
	const char *p = s, *digits;
	unsigned long long v = 0, lim;
	int neg = 0, base = 10, sign = 0;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		sign = 1;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && p[1] != '\0')
		base = 8, p += 1;
	digits = p;
	for (; *p != '\0'; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' :
		    *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
		    *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : 99;

		if (d >= base || v > (~0ULL - (unsigned)d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (p == digits)
		return -1;
	/* int64 with a sign; without one, up to uint64 (ParseUint). */
	lim = neg ? (1ULL << 63) : sign ? (1ULL << 63) - 1 : ~0ULL;
	if (v > lim)
		return -1;
	if (neg && v > 0)
		snprintf(buf, 64, "-%llu", v);
	else
		snprintf(buf, 64, "%llu", v);
	return 0;
}

/* yaml.v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
float_syntax(const char *s)
{
	size_t n = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n == 0)
			return 0;
	} else {
		for (; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n == 0)
			return 0;
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n == 0)
			return 0;
	}
	return *s == '\0';
}

const char *
compose_plain_text(const char *s, char buf[64], int *is_string)
{
	static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES",
	    "true", "True", "TRUE", "on", "On", "ON", NULL };
	static const char *const no[] = { "n", "N", "no", "No", "NO",
	    "false", "False", "FALSE", "off", "Off", "OFF", NULL };
	static const char *const null[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN", NULL };
	static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf",
	    "+.Inf", "+.INF", NULL };
	static const char *const ninf[] = { "-.inf", "-.Inf", "-.INF", NULL };
	char plain[64], *end;
	size_t i, n;
	double d;

	*is_string = 0;
	if (in_list(s, yes))
		return "true";
	if (in_list(s, no))
		return "false";
	if (in_list(s, null))
		return "";
	if (in_list(s, nan))
		return "NaN";
	if (in_list(s, inf))
		return "+Inf";
	if (in_list(s, ninf))
		return "-Inf";
	/* A number starts with a digit, a sign or a dot; '_' is ignored. */
	if (strchr("0123456789+-.", *s) == NULL || strlen(s) >= sizeof(plain))
		goto string;
	for (i = n = 0; s[i] != '\0'; i++)
		if (s[i] != '_')
			plain[n++] = s[i];
	plain[n] = '\0';
	if (go_int(plain, buf) == 0)
		return buf;
	if (float_syntax(plain)) {
		errno = 0;
		d = strtod(plain, &end);
		if (*end == '\0' && !(errno == ERANGE && isinf(d))) {
			go_float(d, buf);
			return buf;
		}
	}
string:
	*is_string = 1;
	return s;
}

/*
 * Variables (docker/cli's template package).
 */

/* The text of one substitution (what stood between the braces, or after
 * a bare '$'): NAME, NAME:-DEF, NAME-DEF, NAME:?MSG, NAME?MSG. Docker
 * tries the forms in this order, each by whether its separator occurs
 * anywhere, and splits at its first occurrence. */
static int
substitute(const char *sub, compose_lookup_fn lookup, void *ctx,
    const char **val, char err[ERR_MAX])
{
	static const char *const seps[] = { ":-", "-", ":?", "?" };
	const char *at = NULL, *v;
	char name[256];
	size_t i, n;

	for (i = 0; i < 4 && at == NULL; i++)
		at = strstr(sub, seps[i]);
	n = at != NULL ? (size_t)(at - sub) : strlen(sub);
	if (n >= sizeof(name)) {
		snprintf(err, ERR_MAX, "variable name too long: %.60s...", sub);
		return -1;
	}
	memcpy(name, sub, n);
	name[n] = '\0';
	v = lookup(ctx, name);
	if (at == NULL) {
		*val = v != NULL ? v : "";
		return 0;
	}
	i--;	/* the form found */
	if (i <= 1) {		/* :- and - */
		*val = v == NULL || (i == 0 && *v == '\0') ?
		    at + strlen(seps[i]) : v;
		return 0;
	}
	if (v == NULL || (i == 2 && *v == '\0')) {
		snprintf(err, ERR_MAX, "required variable %.100s is missing a "
		    "value: %.200s", name, at + strlen(seps[i]));
		return -1;
	}
	*val = v;
	return 0;
}

static int
name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* The substitution starting at s (just after '$' or "${"): a name, then
 * optionally ":-", "-", ":?" or "?" and everything up to the first '}'
 * (or the end). Its length, 0 when s starts no name. */
static size_t
subst_len(const char *s)
{
	size_t n = 0;

	if (!name_start(s[0]))
		return 0;
	while (name_char(s[n]))
		n++;
	if ((s[n] == ':' && (s[n + 1] == '-' || s[n + 1] == '?')) ||
	    s[n] == '-' || s[n] == '?')
		n += strcspn(s + n, "}");
	return n;
}

int
compose_interpolate(const char *s, compose_lookup_fn lookup, void *ctx,
    char **out, char err[ERR_MAX])
{
	struct buf b = BUF_INIT;
	const char *p = s, *val;
	char *sub;
	size_t n;

	*out = NULL;
	while (*p != '\0') {
		n = strcspn(p, "$");
		buf_add(&b, p, n);
		p += n;
		if (*p == '\0')
			break;
		if (p[1] == '$') {
			buf_adds(&b, "$");
			p += 2;
			continue;
		}
		if ((n = subst_len(p + 1)) > 0) {
			sub = strndup(p + 1, n);
			p += 1 + n;
		} else if (p[1] == '{' && (n = subst_len(p + 2)) > 0 &&
		    p[2 + n] == '}') {
			sub = strndup(p + 2, n);
			p += 3 + n;
		} else {
			snprintf(err, ERR_MAX, "invalid interpolation format "
			    "in \"%.200s\": you may need to escape any $ with "
			    "another $", s);
			goto fail;
		}
		if (sub == NULL)
			goto nomem;
		/* val may point into sub (a default). */
		if ((n = substitute(sub, lookup, ctx, &val, err) == -1) == 0)
			buf_adds(&b, val);
		free(sub);
		if (n)
			goto fail;
	}
	if ((*out = buf_detach(&b, NULL)) != NULL)
		return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	buf_release(&b);
	return -1;
}

/*
 * Walking the document.
 */

/* Interpolates every string value under node (keys excepted), each node
 * once however many aliases lead to it. path names node in errors. */
static int
interpolate_tree(struct reader *r, yaml_node_t *n, char *path, size_t plen,
    int depth)
{
	char why[ERR_MAX], buf[64];
	size_t i = node_index(r, n), at = strlen(path);
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	int is_string = 1, rc = 0;

	if (r->seen[i])
		return 0;
	r->seen[i] = 1;
	if (depth > COMPOSE_DEPTH_MAX)
		return fail(r, n, "%s: nested too deep", path);
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (is_plain(n))
			(void)compose_plain_text(scalar(n), buf, &is_string);
		if (!is_string || strchr(scalar(n), '$') == NULL)
			return 0;
		if (compose_interpolate(scalar(n), r->lookup, r->ctx,
		    &r->text[i], why) == -1)
			return fail(r, n, "%s: %s", path, why);
		return 0;
	case YAML_MAPPING_NODE:
		for (p = n->data.mapping.pairs.start;
		    rc == 0 && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node_at(r, p->key);

			snprintf(path + at, plen - at, "%s%s", at ? "." : "",
			    k != NULL && k->type == YAML_SCALAR_NODE ?
			    scalar(k) : "?");
			rc = interpolate_tree(r, node_at(r, p->value), path,
			    plen, depth + 1);
		}
		break;
	case YAML_SEQUENCE_NODE:
		for (it = n->data.sequence.items.start;
		    rc == 0 && it < n->data.sequence.items.top; it++) {
			snprintf(path + at, plen - at, "[%zu]",
			    (size_t)(it - n->data.sequence.items.start));
			rc = interpolate_tree(r, node_at(r, *it), path, plen,
			    depth + 1);
		}
		break;
	default:
		break;
	}
	path[at] = '\0';
	return rc;
}

static int
pairs_push(struct reader *r, struct pairs *pv, const char *key,
    yaml_node_t *value)
{
	if (--r->budget < 0)
		return fail(r, value, "merge keys expand to more than %ld keys "
		    "(aliases nested in aliases)", COMPOSE_PAIRS_MAX);
	if (BUF_ARRAY_GROW(pv->v, pv->n, pv->cap) == -1)
		return fail(r, NULL, "out of memory");
	pv->v[pv->n].key = key;
	pv->v[pv->n].value = value;
	pv->v[pv->n].seq = pv->n;
	pv->n++;
	return 0;
}

static int merge_into(struct reader *, yaml_node_t *, struct pairs *, int,
    const char *);

/* The keys of mapping m in the order yaml.v2 sets them: each explicit key
 * where it stands, a merge key's maps where it stands (a list's maps last
 * to first, so earlier ones win); the last setting of a key wins. */
static int
flatten(struct reader *r, yaml_node_t *m, struct pairs *pv, int depth,
    const char *what)
{
	yaml_node_pair_t *p;
	char buf[64];
	int is_string;

	if (depth > COMPOSE_DEPTH_MAX)
		return fail(r, m, "%s: merge keys nested too deep (or an "
		    "alias to itself)", what);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *k = node_at(r, p->key), *v = node_at(r, p->value);

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return fail(r, k, "%s: a key that is not a string",
			    what);
		if (is_plain(k) && strcmp(scalar(k), "<<") == 0) {
			if (merge_into(r, v, pv, depth, what) == -1)
				return -1;
			continue;
		}
		if (is_plain(k) && (compose_plain_text(scalar(k), buf,
		    &is_string), !is_string))
			return fail(r, k, "%s: non-string key %s", what,
			    scalar(k));
		if (pairs_push(r, pv, scalar(k), v) == -1)
			return -1;
	}
	return 0;
}

static int
merge_into(struct reader *r, yaml_node_t *v, struct pairs *pv, int depth,
    const char *what)
{
	yaml_node_item_t *it;

	if (v->type == YAML_MAPPING_NODE)
		return flatten(r, v, pv, depth + 1, what);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(r, v, "%s: a merge key (<<) needs a map or a list "
		    "of maps", what);
	for (it = v->data.sequence.items.top;
	    it > v->data.sequence.items.start; it--) {
		yaml_node_t *m = node_at(r, it[-1]);

		if (m == NULL || m->type != YAML_MAPPING_NODE)
			return fail(r, v, "%s: a merge key (<<) needs a map "
			    "or a list of maps", what);
		if (flatten(r, m, pv, depth + 1, what) == -1)
			return -1;
	}
	return 0;
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The effective keys of n (a map; null or absent gives none), sorted,
 * each once with its last value. what names n in errors. */
static int
map_pairs(struct reader *r, yaml_node_t *n, struct pairs *pv,
    const char *what)
{
	size_t i, o;

	char buf[64];
	int is_string;

	memset(pv, 0, sizeof(*pv));
	if (n == NULL || (is_plain(n) && r->text[node_index(r, n)] == NULL &&
	    *compose_plain_text(scalar(n), buf, &is_string) == '\0' &&
	    !is_string))
		return 0;	/* null: an empty map */
	if (n->type != YAML_MAPPING_NODE)
		return fail(r, n, "%s must be a map", what);
	if (flatten(r, n, pv, 0, what) == -1) {
		free(pv->v);
		memset(pv, 0, sizeof(*pv));
		return -1;
	}
	if (pv->n > 0)
		qsort(pv->v, pv->n, sizeof(*pv->v), pair_cmp);
	for (i = o = 0; i < pv->n; i++) {
		if (i + 1 < pv->n && strcmp(pv->v[i].key, pv->v[i + 1].key) ==
		    0)
			continue;
		pv->v[o++] = pv->v[i];
	}
	pv->n = o;
	return 0;
}

static yaml_node_t *
pairs_get(const struct pairs *pv, const char *key)
{
	size_t lo = 0, hi = pv->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, pv->v[mid].key);

		if (c == 0)
			return pv->v[mid].value;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The text of scalar n as a label value: its interpolated value, or as
 * compose_plain_text() reads a plain scalar. NULL when n is no scalar. */
static const char *
value_text(struct reader *r, yaml_node_t *n, char buf[64])
{
	int is_string;

	if (n->type != YAML_SCALAR_NODE)
		return NULL;
	if (r->text[node_index(r, n)] != NULL)
		return r->text[node_index(r, n)];
	if (is_plain(n))
		return compose_plain_text(scalar(n), buf, &is_string);
	return scalar(n);
}

/* labels or deploy.labels (n) into out: a map, or a list of key=value. */
static int
read_labels(struct reader *r, yaml_node_t *n, struct kvlist *out,
    const char *what)
{
	struct pairs pv;
	yaml_node_item_t *it;
	char buf[64];
	const char *v;
	size_t i;
	int rc = 0;

	if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			yaml_node_t *e = node_at(r, *it);
			char *k;
			int is_string = 1;

			if (e != NULL && is_plain(e))
				(void)compose_plain_text(scalar(e), buf,
				    &is_string);
			if (e == NULL || e->type != YAML_SCALAR_NODE ||
			    !is_string)
				return fail(r, e, "%s: every item of a list "
				    "must be a string key=value", what);
			v = value_text(r, e, buf);
			if ((k = strndup(v, strcspn(v, "="))) == NULL)
				return fail(r, NULL, "out of memory");
			rc = kvlist_set(out, k, v[strlen(k)] == '=' ?
			    v + strlen(k) + 1 : "");
			free(k);
			if (rc == -1)
				return fail(r, NULL, "out of memory");
		}
		return 0;
	}
	if (map_pairs(r, n, &pv, what) == -1)
		return -1;
	for (i = 0; rc == 0 && i < pv.n; i++) {
		if ((v = value_text(r, pv.v[i].value, buf)) == NULL)
			rc = fail(r, pv.v[i].value, "%s.%s must be a string, "
			    "a number or a boolean", what, pv.v[i].key);
		else if (kvlist_set(out, pv.v[i].key, v) == -1)
			rc = fail(r, NULL, "out of memory");
	}
	free(pv.v);
	return rc;
}

/* deploy: mode and replicas (labels are read by the caller). */
static int
read_deploy(struct reader *r, const struct pairs *dp,
    struct compose_service *s, const char *what)
{
	static const char *const modes[] = { "replicated", "global",
	    "replicated-job", "global-job" };
	yaml_node_t *n;
	const char *v;
	char buf[64], *end;
	size_t i;

	if ((n = pairs_get(dp, "mode")) != NULL) {
		if ((v = value_text(r, n, buf)) == NULL)
			return fail(r, n, "%s.mode must be a string", what);
		for (i = 0; i < 4 && strcmp(v, modes[i]) != 0; i++)
			;
		if (i == 4)
			return fail(r, n, "%s.mode \"%.100s\" must be "
			    "replicated, global, replicated-job or global-job",
			    what, v);
		s->mode = (enum compose_mode)(COMPOSE_REPLICATED + i);
	}
	if ((n = pairs_get(dp, "replicas")) != NULL) {
		int is_string = 1;

		/* A whole number, written so or from a variable (docker
		 * casts an interpolated value with strconv.Atoi). */
		if (n->type == YAML_SCALAR_NODE && is_plain(n))
			(void)compose_plain_text(scalar(n), buf, &is_string);
		v = value_text(r, n, buf);
		if (v == NULL || (is_string && r->text[node_index(r, n)] ==
		    NULL) || *v == '-' || *v == '\0')
			return fail(r, n, "%s.replicas must be a whole number",
			    what);
		errno = 0;
		s->replicas = strtoull(*v == '+' ? v + 1 : v, &end, 10);
		if (*end != '\0' || errno != 0 || !(v[0] == '+' ||
		    (v[0] >= '0' && v[0] <= '9')))
			return fail(r, n, "%s.replicas \"%.60s\" must be a "
			    "whole number", what, v);
		s->has_replicas = 1;
	}
	return 0;
}

/* One service (key name, value n) into s. */
static int
read_service(struct reader *r, const char *name, yaml_node_t *n,
    struct compose_service *s)
{
	struct pairs sp = { 0 }, dp = { 0 };
	yaml_node_t *deploy;
	char what[400];
	int rc = -1;

	snprintf(what, sizeof(what), "services.%.300s", name);
	if (n->type != YAML_MAPPING_NODE)
		return fail(r, n, "%s must be a map", what);
	if ((s->name = strdup(name)) == NULL)
		return fail(r, NULL, "out of memory");
	if (map_pairs(r, n, &sp, what) == -1)
		goto out;
	snprintf(what, sizeof(what), "services.%.300s.labels", name);
	if (read_labels(r, pairs_get(&sp, "labels"), &s->labels, what) == -1)
		goto out;
	snprintf(what, sizeof(what), "services.%.300s.deploy", name);
	deploy = pairs_get(&sp, "deploy");
	if (map_pairs(r, deploy, &dp, what) == -1 ||
	    read_deploy(r, &dp, s, what) == -1)
		goto out;
	snprintf(what, sizeof(what), "services.%.300s.deploy.labels", name);
	if (read_labels(r, pairs_get(&dp, "labels"), &s->deploy_labels,
	    what) == -1)
		goto out;
	rc = 0;
out:
	free(sp.v);
	free(dp.v);
	return rc;
}

static void
service_release_one(struct compose_service *s)
{
	free(s->name);
	kvlist_release(&s->deploy_labels);
	kvlist_release(&s->labels);
	memset(s, 0, sizeof(*s));
}

static int
service_cmp(const void *a, const void *b)
{
	return strcmp(((const struct compose_service *)a)->name,
	    ((const struct compose_service *)b)->name);
}

/* Merges s (taken over) into c: a new service, or an override of the
 * one of that name, key by key. */
static int
merge_service(struct compose *c, struct compose_service *s, size_t known)
{
	struct compose_service *old;
	size_t i;

	old = known > 0 ? bsearch(s, c->v, known, sizeof(*c->v),
	    service_cmp) : NULL;
	if (old == NULL) {
		if (BUF_ARRAY_GROW(c->v, c->n, c->cap) == -1)
			return -1;
		c->v[c->n++] = *s;
		memset(s, 0, sizeof(*s));
		return 0;
	}
	for (i = 0; i < s->labels.n; i++)
		if (kvlist_set(&old->labels, s->labels.v[i].key,
		    s->labels.v[i].value) == -1)
			return -1;
	for (i = 0; i < s->deploy_labels.n; i++)
		if (kvlist_set(&old->deploy_labels, s->deploy_labels.v[i].key,
		    s->deploy_labels.v[i].value) == -1)
			return -1;
	if (s->mode != COMPOSE_UNSET)
		old->mode = s->mode;
	if (s->has_replicas) {
		old->has_replicas = 1;
		old->replicas = s->replicas;
	}
	service_release_one(s);
	return 0;
}

/* The services of the file r holds, merged into c once all of them read
 * (a file refused leaves c as it was). */
static int
read_services(struct reader *r, struct compose *c)
{
	struct pairs top = { 0 }, sv = { 0 };
	struct compose file = { 0 };
	yaml_node_t *root = yaml_document_get_root_node(&r->doc);
	size_t i, known = c->n;
	int rc = -1;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return fail(r, root, "the top level must be a map (services:, "
		    "networks: ...)");
	if (map_pairs(r, root, &top, "the top level") == -1 ||
	    map_pairs(r, pairs_get(&top, "services"), &sv, "services") == -1)
		goto out;
	if (sv.n > 0 && (file.v = calloc(sv.n, sizeof(*file.v))) == NULL) {
		fail(r, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < sv.n; i++, file.n++)
		if (read_service(r, sv.v[i].key, sv.v[i].value,
		    &file.v[i]) == -1)
			goto out;
	for (i = 0; i < file.n; i++)
		if (merge_service(c, &file.v[i], known) == -1) {
			fail(r, NULL, "out of memory");
			goto out;
		}
	rc = 0;
out:
	if (c->n > 0)
		qsort(c->v, c->n, sizeof(*c->v), service_cmp);
	/* What merge_service() took over is zeroed. */
	for (i = 0; i < file.n + (rc == -1 && file.n < sv.n); i++)
		service_release_one(&file.v[i]);
	free(file.v);
	free(top.v);
	free(sv.v);
	return rc;
}

int
compose_read(struct compose *c, const char *buf, size_t len,
    compose_lookup_fn lookup, void *ctx, char err[ERR_MAX])
{
	struct reader r;
	yaml_parser_t parser;
	yaml_node_t *root;
	char path[1024] = "";
	size_t i;
	int rc = -1, loaded = 0;

	memset(&r, 0, sizeof(r));
	r.lookup = lookup;
	r.ctx = ctx;
	r.err = err;
	r.budget = COMPOSE_PAIRS_MAX;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &r.doc)) {
		snprintf(err, ERR_MAX, "line %zu: not YAML: %s%s%s",
		    parser.problem_mark.line + 1, parser.problem ?
		    parser.problem : "parse error", parser.context ? " " : "",
		    parser.context ? parser.context : "");
		goto out;
	}
	loaded = 1;
	r.nnodes = (size_t)(r.doc.nodes.top - r.doc.nodes.start);
	if ((r.text = calloc(r.nnodes + 1, sizeof(*r.text))) == NULL ||
	    (r.seen = calloc(r.nnodes + 1, 1)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto out;
	}
	if ((root = yaml_document_get_root_node(&r.doc)) == NULL) {
		snprintf(err, ERR_MAX, "the file is empty");
		goto out;
	}
	if (interpolate_tree(&r, root, path, sizeof(path), 0) == -1)
		goto out;
	rc = read_services(&r, c);
out:
	for (i = 0; r.text != NULL && i < r.nnodes; i++)
		free(r.text[i]);
	free(r.text);
	free(r.seen);
	if (loaded)
		yaml_document_delete(&r.doc);
	yaml_parser_delete(&parser);
	return rc;
}

void
compose_release(struct compose *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		service_release_one(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
