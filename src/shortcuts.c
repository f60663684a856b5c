/* shortcuts.c: the @shortcut table, read from DFM-syntax YAML with the
 * template words compiled once at load, and the expansion of alertIf. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "shortcuts.h"
#include "values.h"

#define SC_VALUES_MAX	100	/* {{ index .Values 99 }} at most */
#define SC_WHY_MAX	256

/*
 * A template is compiled into pieces so that a word flowmon cannot render
 * is refused when the file is loaded, not when a service first uses it.
 */
enum sc_word {
	SC_TEXT,
	SC_SERVICE,		/* {{ .Alert.ServiceName }} */
	SC_REPLICAS,		/* {{ .Alert.Replicas }} */
	SC_VALUE		/* {{ index .Values N }} */
};

struct sc_piece {
	enum sc_word	 word;
	char		*text;		/* SC_TEXT */
	int		 index;		/* SC_VALUE */
};

struct sc_template {
	struct sc_piece	*p;
	size_t		 n;
};

/* One annotation or label of a shortcut. */
struct sc_field {
	char			*key;
	struct sc_template	 t;
};

struct sc_fields {
	struct sc_field	*v;
	size_t		 n;
};

struct shortcut {
	char			*name;		/* without the '@' */
	struct sc_template	 expr;
	struct sc_fields	 annotations;
	struct sc_fields	 labels;
	int			 nvalues;	/* arguments the templates use */
	int			 replicas;	/* uses .Alert.Replicas */
};

/* Sorted by name: lookups are a binary search. */
struct shortcuts {
	struct shortcut	**v;
	size_t		  n;
	size_t		  cap;
};

/* What one expansion renders with. */
struct sc_env {
	const char	*service;
	const char	*replicas;
	char		**args;
	size_t		  nargs;
};

static const char *const sc_ops[] = { "and", "or", "unless" };
#define SC_NOPS	(sizeof(sc_ops) / sizeof(sc_ops[0]))

static void
sc_template_release(struct sc_template *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->p[i].text);
	free(t->p);
	t->p = NULL;
	t->n = 0;
}

static void
sc_fields_release(struct sc_fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		sc_template_release(&f->v[i].t);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static void
shortcut_free(struct shortcut *sc)
{
	if (sc == NULL)
		return;
	free(sc->name);
	sc_template_release(&sc->expr);
	sc_fields_release(&sc->annotations);
	sc_fields_release(&sc->labels);
	free(sc);
}

static int
sc_piece_add(struct sc_template *t, enum sc_word word, const char *text,
    size_t len, int index)
{
	struct sc_piece *np;
	char *s = NULL;

	if (word == SC_TEXT && (s = strndup(text, len)) == NULL)
		return -1;
	if ((np = realloc(t->p, (t->n + 1) * sizeof(*np))) == NULL) {
		free(s);
		return -1;
	}
	t->p = np;
	t->p[t->n].word = word;
	t->p[t->n].text = s;
	t->p[t->n].index = index;
	t->n++;
	return 0;
}

/* Splits s (len bytes) into at most max whitespace-separated words. Returns
 * the number of words, or max + 1 when there are more. */
static size_t
sc_words(const char *s, size_t len, const char **w, size_t *wlen, size_t max)
{
	size_t i = 0, n = 0;

	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len)
			return n;
		if (n == max)
			return max + 1;
		w[n] = s + i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		wlen[n] = (size_t)(s + i - w[n]);
		n++;
	}
}

static int
sc_word_is(const char *w, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(w, lit, len) == 0;
}

/* Compiles src, the template of field (named in why). Returns 0; -1 with
 * why when src uses a word flowmon does not render; -2 on allocation
 * failure. */
static int
sc_compile(const char *src, struct sc_template *t, struct shortcut *sc,
    const char *field, char *why, size_t whysize)
{
	const char *p = src, *open, *close, *w[4];
	size_t wlen[4], nw;

	while ((open = strstr(p, "{{")) != NULL) {
		if (open > p && sc_piece_add(t, SC_TEXT, p,
		    (size_t)(open - p), 0) == -1)
			return -2;
		if ((close = strstr(open + 2, "}}")) == NULL) {
			snprintf(why, whysize, "%s: \"{{\" without \"}}\" "
			    "in \"%.60s\"", field, open);
			return -1;
		}
		nw = sc_words(open + 2, (size_t)(close - open - 2), w, wlen, 3);
		if (nw == 1 && sc_word_is(w[0], wlen[0], ".Alert.ServiceName")) {
			if (sc_piece_add(t, SC_SERVICE, NULL, 0, 0) == -1)
				return -2;
		} else if (nw == 1 &&
		    sc_word_is(w[0], wlen[0], ".Alert.Replicas")) {
			if (sc_piece_add(t, SC_REPLICAS, NULL, 0, 0) == -1)
				return -2;
			sc->replicas = 1;
		} else if (nw == 3 && sc_word_is(w[0], wlen[0], "index") &&
		    sc_word_is(w[1], wlen[1], ".Values") && wlen[2] <= 2 &&
		    isdigit((unsigned char)w[2][0]) &&
		    (wlen[2] == 1 || isdigit((unsigned char)w[2][1]))) {
			int n = atoi(w[2]);

			if (sc_piece_add(t, SC_VALUE, NULL, 0, n) == -1)
				return -2;
			if (n + 1 > sc->nvalues)
				sc->nvalues = n + 1;
		} else {
			snprintf(why, whysize, "%s: unsupported template "
			    "word \"%.*s\" (flowmon knows {{ .Alert.ServiceName "
			    "}}, {{ .Alert.Replicas }} and {{ index .Values N "
			    "}})", field,
			    (int)(close + 2 - open > 80 ? 80 : close + 2 - open),
			    open);
			return -1;
		}
		p = close + 2;
	}
	if (*p != '\0' && sc_piece_add(t, SC_TEXT, p, strlen(p), 0) == -1)
		return -2;
	return 0;
}

static int
sc_render(const struct sc_template *t, const struct sc_env *env,
    struct buf *b)
{
	const char *s;
	size_t i;

	for (i = 0; i < t->n; i++) {
		switch (t->p[i].word) {
		case SC_TEXT:
			s = t->p[i].text;
			break;
		case SC_SERVICE:
			s = env->service;
			break;
		case SC_REPLICAS:
			s = env->replicas;
			break;
		case SC_VALUE:
		default:
			/* The caller checked the count: this is a backstop. */
			if ((size_t)t->p[i].index >= env->nargs)
				return -1;
			s = env->args[t->p[i].index];
			break;
		}
		if (buf_adds(b, s) == -1)
			return -1;
	}
	return 0;
}

/* Renders t into a new string, or NULL. */
static char *
sc_render_str(const struct sc_template *t, const struct sc_env *env)
{
	struct buf b = BUF_INIT;

	if (sc_render(t, env, &b) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Table */

/* Index of name in t, or -(insertion point) - 1. */
static long
shortcuts_find(const struct shortcuts *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(t->v[mid]->name, name, len);
		if (c == 0 && t->v[mid]->name[len] != '\0')
			c = 1;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* Puts sc into t, replacing an entry of the same name. t owns sc after a
 * success; -1 on allocation failure (the caller still owns sc). */
static int
shortcuts_put(struct shortcuts *t, struct shortcut *sc)
{
	long i = shortcuts_find(t, sc->name, strlen(sc->name));
	size_t at;

	if (i >= 0) {
		shortcut_free(t->v[i]);
		t->v[i] = sc;
		return 0;
	}
	if (BUF_ARRAY_GROW(t->v, t->n, t->cap) == -1)
		return -1;
	at = (size_t)(-i - 1);
	memmove(t->v + at + 1, t->v + at, (t->n - at) * sizeof(*t->v));
	t->v[at] = sc;
	t->n++;
	return 0;
}

struct shortcuts *
shortcuts_new(void)
{
	return calloc(1, sizeof(struct shortcuts));
}

void
shortcuts_free(struct shortcuts *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		shortcut_free(t->v[i]);
	free(t->v);
	free(t);
}

size_t
shortcuts_count(const struct shortcuts *t)
{
	return t->n;
}

/* Loading */

/* The scalar's text, or NULL when node is not a scalar or holds a NUL
 * (which would silently cut the string short). */
static const char *
sc_scalar(const yaml_node_t *node)
{
	const char *s;

	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)node->data.scalar.value;
	if (strlen(s) != node->data.scalar.length)
		return NULL;
	return s;
}

/* A plain empty, "~" or "null" scalar: YAML's way of writing nothing. */
static int
sc_is_null(const yaml_node_t *node)
{
	const char *s = sc_scalar(node);

	return s != NULL && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

/* Reads the map node (annotations or labels) into f. 0, -1 refused (why),
 * -2 out of memory. */
static int
sc_load_fields(yaml_document_t *doc, yaml_node_t *node, const char *what,
    struct shortcut *sc, struct sc_fields *f, char *why, size_t whysize)
{
	yaml_node_pair_t *pair;
	const char *k, *v;
	struct sc_field *nv;
	char field[96];
	size_t i;
	int r;

	if (sc_is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE) {
		snprintf(why, whysize, "%s is not a map", what);
		return -1;
	}
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		k = sc_scalar(yaml_document_get_node(doc, pair->key));
		v = sc_scalar(yaml_document_get_node(doc, pair->value));
		if (k == NULL || v == NULL) {
			snprintf(why, whysize, "%s must map names to strings",
			    what);
			return -1;
		}
		/* Prometheus refuses a rule whose label or annotation name
		 * is not one. */
		if (!values_label_name_valid(k) || (strcmp(what,
		    "label") == 0 && strcmp(k, "__name__") == 0)) {
			snprintf(why, whysize, "%s name \"%.60s\" is not a "
			    "valid Prometheus label name%s", what, k,
			    strcmp(k, "__name__") == 0 ? " for a rule" : "");
			return -1;
		}
		/* A repeated name: the later one wins, as in DFM's maps. */
		for (i = 0; i < f->n; i++)
			if (strcmp(f->v[i].key, k) == 0)
				break;
		if (i == f->n) {
			if ((nv = realloc(f->v, (f->n + 1) * sizeof(*nv))) ==
			    NULL)
				return -2;
			f->v = nv;
			memset(&f->v[i], 0, sizeof(f->v[i]));
			if ((f->v[i].key = strdup(k)) == NULL)
				return -2;
			f->n++;
		}
		sc_template_release(&f->v[i].t);
		snprintf(field, sizeof(field), "%s %s", what, k);
		if ((r = sc_compile(v, &f->v[i].t, sc, field, why,
		    whysize)) != 0)
			return r;
	}
	return 0;
}

/* One entry of the top-level map. 0 with *out, -1 refused (why), -2 out of
 * memory. */
static int
sc_load_entry(yaml_document_t *doc, const char *name, yaml_node_t *node,
    struct shortcut **out, char *why, size_t whysize)
{
	struct shortcut *sc = NULL;
	yaml_node_pair_t *pair;
	yaml_node_t *val;
	const char *k, *v, *p;
	int have_expr = 0, r = -1;

	*out = NULL;
	if (*name == '@')
		name++;
	if (*name == '\0') {
		snprintf(why, whysize, "the name is empty");
		goto fail;
	}
	for (p = name; *p; p++) {
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
		    *p == '.')) {
			snprintf(why, whysize, "the name may only hold letters, "
			    "digits, '_', '-' and '.'");
			goto fail;
		}
	}
	if (node->type != YAML_MAPPING_NODE) {
		snprintf(why, whysize, "not a map of expanded, annotations "
		    "and labels");
		goto fail;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->name = strdup(name)) == NULL) {
		r = -2;
		goto fail;
	}
	for (pair = node->data.mapping.pairs.start;
	    pair < node->data.mapping.pairs.top; pair++) {
		k = sc_scalar(yaml_document_get_node(doc, pair->key));
		val = yaml_document_get_node(doc, pair->value);
		if (k != NULL && strcmp(k, "expanded") == 0) {
			if ((v = sc_scalar(val)) == NULL || sc_is_null(val) ||
			    *v == '\0') {
				snprintf(why, whysize, "expanded is not a "
				    "non-empty string");
				goto fail;
			}
			sc_template_release(&sc->expr);
			if ((r = sc_compile(v, &sc->expr, sc, "expanded",
			    why, whysize)) != 0)
				goto fail;
			r = -1;
			have_expr = 1;
		} else if (k != NULL && strcmp(k, "annotations") == 0) {
			if ((r = sc_load_fields(doc, val, "annotation", sc,
			    &sc->annotations, why, whysize)) != 0)
				goto fail;
			r = -1;
		} else if (k != NULL && strcmp(k, "labels") == 0) {
			if ((r = sc_load_fields(doc, val, "label", sc,
			    &sc->labels, why, whysize)) != 0)
				goto fail;
			r = -1;
		} else {
			snprintf(why, whysize, "unknown key \"%.60s\" (an entry "
			    "has expanded, annotations and labels)",
			    k ? k : "?");
			goto fail;
		}
	}
	if (!have_expr) {
		snprintf(why, whysize, "expanded is missing");
		goto fail;
	}
	*out = sc;
	return 0;
fail:
	shortcut_free(sc);
	return r;
}

int
shortcuts_merge_yaml(struct shortcuts *t, const char *buf, size_t len,
    const char *origin, shortcuts_warn_fn warn, void *ctx, char err[ERR_MAX])
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *key;
	yaml_node_pair_t *pair;
	struct shortcut *sc;
	char why[SC_WHY_MAX];
	const char *name;
	int loaded = 0, have_doc = 0, r;

	if (origin == NULL)
		origin = "shortcuts";
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, ERR_MAX, "%s: out of memory", origin);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* Only the first document counts, as with DFM's YAML decoder. */
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, ERR_MAX, "%s: not YAML: %s at line %lu, "
		    "column %lu", origin,
		    parser.problem ? parser.problem : "parse error",
		    (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1);
		goto fail;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) == NULL ||
	    sc_is_null(root))
		goto done;
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "%s: the top level is not a map of "
		    "shortcut names to entries", origin);
		goto fail;
	}
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		key = yaml_document_get_node(&doc, pair->key);
		if ((name = sc_scalar(key)) == NULL) {
			if (warn)
				warn(ctx, origin, "?", "the name is not a string");
			continue;
		}
		r = sc_load_entry(&doc, name,
		    yaml_document_get_node(&doc, pair->value), &sc, why,
		    sizeof(why));
		if (r == -2)
			goto nomem;
		if (r == -1) {
			if (warn)
				warn(ctx, origin, name, why);
			continue;
		}
		if (shortcuts_put(t, sc) == -1) {
			shortcut_free(sc);
			goto nomem;
		}
		loaded++;
	}
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return loaded;
nomem:
	snprintf(err, ERR_MAX, "%s: out of memory", origin);
fail:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return -1;
}

/* Expansion */

struct sc_part {
	char			*name;	/* after the '@', NUL-terminated */
	const char		*op;	/* operator before this part, or NULL */
	char			**args;
	size_t			 nargs;
	const struct shortcut	*sc;
};

static void
sc_parts_free(struct sc_part *parts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(parts[i].args);
	free(parts);
}

/* Where the next compound operator starts in s, with its index in sc_ops;
 * NULL when there is none. An operator counts only when an '@' follows, so
 * a name or argument that merely contains "_and_" stays whole. */
static char *
sc_next_op(char *s, size_t *which)
{
	char *p;
	size_t i, n;

	for (p = strchr(s, '_'); p != NULL; p = strchr(p + 1, '_')) {
		for (i = 0; i < SC_NOPS; i++) {
			n = strlen(sc_ops[i]);
			if (strncmp(p + 1, sc_ops[i], n) == 0 &&
			    p[n + 1] == '_' && p[n + 2] == '@') {
				*which = i;
				return p;
			}
		}
	}
	return NULL;
}

/* What is wrong with c in an argument, or NULL if nothing. These would
 * let an argument end the label-value string or the template it lands in. */
static const char *
sc_bad_char(unsigned char c)
{
	if (c == '"')
		return "a double quote";
	if (c == '\\')
		return "a backslash";
	if (c == '{' || c == '}')
		return "a brace";
	if (c == '`')
		return "a backtick";
	if (c == '\n' || c == '\r')
		return "a newline";
	if (c < 0x20 || c == 0x7f)
		return "a control character";
	return NULL;
}

static const char *
sc_bad_string(const char *s)
{
	const char *bad;

	for (; *s; s++)
		if ((bad = sc_bad_char((unsigned char)*s)) != NULL)
			return bad;
	return NULL;
}

/* Splits one part ("name:a,b,c", the '@' already skipped) in place and
 * checks it against the table. */
static int
sc_part_parse(const struct shortcuts *t, struct sc_part *part,
    const struct sc_env *env, char err[ERR_MAX])
{
	char *colon, *p;
	const char *bad;
	size_t i, n;
	long at;

	if ((colon = strchr(part->name, ':')) != NULL) {
		*colon = '\0';
		if (colon[1] != '\0') {
			for (n = 1, p = colon + 1; *p; p++)
				if (*p == ',')
					n++;
			if ((part->args = calloc(n, sizeof(char *))) == NULL)
				goto nomem;
			for (p = colon + 1, i = 0; i < n; i++) {
				part->args[i] = p;
				if ((p = strchr(p, ',')) != NULL)
					*p++ = '\0';
			}
			part->nargs = n;
		}
	}
	if (part->name[0] == '\0') {
		if (part->op)
			snprintf(err, ERR_MAX, "no shortcut name after _%s_@",
			    part->op);
		else
			snprintf(err, ERR_MAX, "no shortcut name after @");
		return -1;
	}
	if ((at = shortcuts_find(t, part->name, strlen(part->name))) < 0) {
		snprintf(err, ERR_MAX, "unknown shortcut @%.100s", part->name);
		return -1;
	}
	part->sc = t->v[at];
	for (i = 0; i < part->nargs; i++) {
		if ((bad = sc_bad_string(part->args[i])) != NULL) {
			snprintf(err, ERR_MAX, "@%s: argument %zu holds %s, "
			    "which an argument may not hold (no quotes, "
			    "backslashes, braces, backticks or control "
			    "characters)", part->name, i + 1, bad);
			return -1;
		}
	}
	if (part->nargs < (size_t)part->sc->nvalues) {
		snprintf(err, ERR_MAX, "@%s needs %d argument%s, got %zu",
		    part->name, part->sc->nvalues,
		    part->sc->nvalues == 1 ? "" : "s", part->nargs);
		return -1;
	}
	for (i = 0; i < (size_t)part->sc->nvalues; i++) {
		if (part->args[i][0] == '\0') {
			snprintf(err, ERR_MAX, "@%s: argument %zu is empty",
			    part->name, i + 1);
			return -1;
		}
	}
	if (part->sc->replicas &&
	    (env->replicas == NULL || env->replicas[0] == '\0')) {
		snprintf(err, ERR_MAX, "@%s needs the replicas parameter",
		    part->name);
		return -1;
	}
	return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
	return -1;
}

/* Single: the shortcut's own annotations and labels, rendered. */
static int
sc_expand_single(const struct sc_part *part, struct sc_env *env,
    struct shortcut_expansion *out)
{
	const struct sc_fields *f[2];
	struct kvlist *l[2];
	char *v;
	size_t i, k;

	env->args = part->args;
	env->nargs = part->nargs;
	if ((out->expr = sc_render_str(&part->sc->expr, env)) == NULL)
		return -1;
	f[0] = &part->sc->annotations;
	f[1] = &part->sc->labels;
	l[0] = &out->annotations;
	l[1] = &out->labels;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < f[k]->n; i++) {
			if ((v = sc_render_str(&f[k]->v[i].t, env)) == NULL)
				return -1;
			if (kvlist_set(l[k], f[k]->v[i].key, v) == -1) {
				free(v);
				return -1;
			}
			free(v);
		}
	}
	return 0;
}

/*
 * Compound, as DFM does it: expressions joined by the operator words with
 * no parentheses (PromQL's own precedence applies), each annotation joined
 * the same way, and no labels from the shortcuts at all: a compound alert
 * is routed by the user's alertLabels only.
 */
static int
sc_expand_compound(const struct sc_part *parts, size_t nparts,
    struct sc_env *env, struct shortcut_expansion *out)
{
	struct buf expr = BUF_INIT;
	const struct sc_fields *f;
	size_t *last = NULL;		/* per annotation: last part holding it */
	size_t i, j, k, nlast = 0;
	const char *prev;
	char *v = NULL, *joined;
	int r = -1;

	for (i = 0; i < nparts; i++) {
		env->args = parts[i].args;
		env->nargs = parts[i].nargs;
		if (i > 0 && buf_printf(&expr, " %s ", parts[i].op) == -1)
			goto fail;
		if (sc_render(&parts[i].sc->expr, env, &expr) == -1)
			goto fail;
		f = &parts[i].sc->annotations;
		for (j = 0; j < f->n; j++) {
			if ((v = sc_render_str(&f->v[j].t, env)) == NULL)
				goto fail;
			for (k = 0; k < out->annotations.n; k++)
				if (strcmp(out->annotations.v[k].key,
				    f->v[j].key) == 0)
					break;
			if (k < out->annotations.n) {
				/* DFM's word: the operator right after the
				 * last part that had this annotation. */
				prev = out->annotations.v[k].value;
				if (asprintf(&joined, "%s %s %s", prev,
				    parts[last[k] + 1].op, v) < 0)
					goto fail;
				free(v);
				v = joined;
			} else {
				size_t *nl = realloc(last,
				    (nlast + 1) * sizeof(*nl));

				if (nl == NULL)
					goto fail;
				last = nl;
				nlast++;
			}
			if (kvlist_set(&out->annotations, f->v[j].key, v) == -1)
				goto fail;
			free(v);
			v = NULL;
			last[k] = i;
		}
	}
	if ((out->expr = buf_detach(&expr, NULL)) == NULL)
		goto fail;
	r = 0;
fail:
	free(v);
	free(last);
	buf_release(&expr);
	return r;
}

int
shortcuts_expand(const struct shortcuts *t, const char *alert_if,
    const char *service, const char *replicas,
    struct shortcut_expansion *out, char err[ERR_MAX])
{
	struct sc_part *parts = NULL, *np;
	struct sc_env env;
	char *copy = NULL, *p;
	const char *bad, *op;
	size_t nparts = 0, which;

	memset(out, 0, sizeof(*out));
	memset(&env, 0, sizeof(env));
	if (alert_if == NULL || alert_if[0] != '@') {
		snprintf(err, ERR_MAX, "\"%.100s\" is not a shortcut (no "
		    "leading @)", alert_if ? alert_if : "");
		return -1;
	}
	/* Both are checked upstream; checked again because they land inside
	 * label-value strings of the expression. */
	if (service == NULL || *service == '\0' ||
	    sc_bad_string(service) != NULL) {
		snprintf(err, ERR_MAX, "the service name is empty or holds "
		    "characters a shortcut cannot use");
		return -1;
	}
	if (replicas != NULL && (bad = sc_bad_string(replicas)) != NULL) {
		snprintf(err, ERR_MAX, "replicas holds %s", bad);
		return -1;
	}
	env.service = service;
	env.replicas = replicas;
	if ((copy = strdup(alert_if)) == NULL)
		goto nomem;

	/* Cut "@a:x_and_@b:y_or_@c" into parts, each after its '@'. */
	for (p = copy + 1, op = NULL; p != NULL; nparts++) {
		char *next;

		if ((np = realloc(parts, (nparts + 1) * sizeof(*np))) == NULL)
			goto nomem;
		parts = np;
		memset(&parts[nparts], 0, sizeof(parts[nparts]));
		parts[nparts].name = p;
		parts[nparts].op = op;
		if ((next = sc_next_op(p, &which)) != NULL) {
			*next = '\0';
			op = sc_ops[which];
			next += strlen(sc_ops[which]) + 3;
		}
		p = next;
	}
	/* An operator with nothing after it: "@a:0.8_and_". DFM rendered a
	 * dangling "and"; say so instead. */
	p = parts[nparts - 1].name;
	for (which = 0; which < SC_NOPS; which++) {
		size_t n = strlen(sc_ops[which]), len = strlen(p);

		if (len >= n + 2 && p[len - n - 2] == '_' && p[len - 1] == '_' &&
		    strncmp(p + len - n - 1, sc_ops[which], n) == 0) {
			snprintf(err, ERR_MAX, "no shortcut after _%s_ (write "
			    "_%s_@name)", sc_ops[which], sc_ops[which]);
			goto fail;
		}
	}
	for (which = 0; which < nparts; which++)
		if (sc_part_parse(t, &parts[which], &env, err) == -1)
			goto fail;
	if (nparts == 1) {
		if (sc_expand_single(&parts[0], &env, out) == -1)
			goto nomem;
	} else if (sc_expand_compound(parts, nparts, &env, out) == -1)
		goto nomem;
	sc_parts_free(parts, nparts);
	free(copy);
	return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	shortcut_expansion_release(out);
	sc_parts_free(parts, nparts);
	free(copy);
	return -1;
}

void
shortcut_expansion_release(struct shortcut_expansion *e)
{
	if (e == NULL)
		return;
	free(e->expr);
	e->expr = NULL;
	kvlist_release(&e->labels);
	kvlist_release(&e->annotations);
}
