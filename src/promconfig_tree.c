/* promconfig_tree.c: the tree promconfig builds (maps, lists and scalars
 * kept in their siblings' order) and the checks of the values put in it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promconfig_impl.h"
#include "url.h"
#include "values.h"

/*
 * The tree.
 */

void *
pc_xalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL)
		abort();
	return p;
}

char *
pc_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

char *
pc_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

struct pc_node *
pc_node_new(enum pc_kind kind, const char *key, long order)
{
	struct pc_node *n = pc_xalloc(sizeof(*n));

	n->kind = kind;
	n->key = key != NULL ? pc_xstrdup(key) : NULL;
	n->order = order;
	return n;
}

void
pc_node_free(struct pc_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		pc_node_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->value);
	free(n->src);
	free(n);
}

static int
pc_before(const struct pc_node *a, const struct pc_node *b)
{
	if (a->order != b->order)
		return a->order < b->order;
	if (a->key != NULL && b->key != NULL)
		return strcmp(a->key, b->key) < 0;
	return 0;
}

/* Adds kid to parent, keeping the kids sorted (stable for equal keys). */
struct pc_node *
pc_attach(struct pc_node *parent, struct pc_node *kid)
{
	struct pc_node **kids;
	size_t at;

	kids = realloc(parent->kids, (parent->nkids + 1) * sizeof(*kids));
	if (kids == NULL)
		abort();
	parent->kids = kids;
	for (at = parent->nkids; at > 0 && pc_before(kid, kids[at - 1]); at--)
		kids[at] = kids[at - 1];
	kids[at] = kid;
	parent->nkids++;
	return kid;
}

struct pc_node *
pc_by_key(const struct pc_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->nkids; i++)
		if (map->kids[i]->key != NULL &&
		    strcmp(map->kids[i]->key, key) == 0)
			return map->kids[i];
	return NULL;
}

struct pc_node *
pc_by_order(const struct pc_node *seq, long order)
{
	size_t i;

	for (i = 0; i < seq->nkids; i++)
		if (seq->kids[i]->order == order)
			return seq->kids[i];
	return NULL;
}

/* The member key of map, created as kind if missing. */
struct pc_node *
pc_member(struct pc_node *map, const char *key, long order,
    enum pc_kind kind)
{
	struct pc_node *n = pc_by_key(map, key);

	return n != NULL ? n : pc_attach(map, pc_node_new(kind, key, order));
}

/* Item index of seq, created as kind if missing. */
struct pc_node *
pc_item(struct pc_node *seq, long index, enum pc_kind kind)
{
	struct pc_node *n = pc_by_order(seq, index);

	return n != NULL ? n : pc_attach(seq, pc_node_new(kind, NULL, index));
}

/*
 * Values.
 */

/* %XX-decodes s in place; -1 on a bad escape or a NUL. */
int
pc_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if (!isxdigit((unsigned char)s[1]) ||
		    !isxdigit((unsigned char)s[2]))
			return -1;
		*w = (char)((isdigit((unsigned char)s[1]) ? s[1] - '0' :
		    (tolower((unsigned char)s[1]) - 'a' + 10)) << 4);
		*w |= (char)(isdigit((unsigned char)s[2]) ? s[2] - '0' :
		    (tolower((unsigned char)s[2]) - 'a' + 10));
		if (*w == '\0')
			return -1;
		w++;
		s += 2;
	}
	*w = '\0';
	return 0;
}

/* Checks value v of type t for variable var at path; *plain says whether
 * it is typed (bool, number, duration: written plain). Returns the value to
 * store (normalised for bools), malloc'd, or NULL with err. */
char *
pc_scalar(const char *var, const char *path, enum pc_type t,
    const char *const *choices, const char *v, int *plain, char err[ERR_MAX])
{
	static const char *const url_schemes[] = {
		"http", "https", "socks5", NULL
	};
	struct url u;
	char what[256];
	size_t i;
	long n;
	int b;

	*plain = 0;
	if (!values_utf8_valid(v)) {
		snprintf(err, ERR_MAX, "%s: the value of %s is not valid "
		    "UTF-8", var, path);
		return NULL;
	}
	switch (t) {
	case PT_BOOL:
		if (values_bool(v, &b) == -1) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be "
			    VALUES_BOOL_WORDS, var, path, v);
			return NULL;
		}
		*plain = 1;
		return pc_xstrdup(b ? "true" : "false");
	case PT_INT:
		if (values_count(v, 0, 999999999999999999L, &n) == -1) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be a "
			    "whole number", var, path, v);
			return NULL;
		}
		*plain = 1;
		break;
	case PT_DUR:
		if (!values_duration_valid(v)) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" is not a "
			    "duration (like 15s, 1m30s, 500ms)", var, path, v);
			return NULL;
		}
		*plain = 1;
		break;
	case PT_URL:
		/* Refused, it is named redacted: it may hold a password. */
		snprintf(what, sizeof(what), "%s: %s", var, path);
		if (url_parse(&u, v, url_schemes, what, err) == -1)
			return NULL;
		url_release(&u);
		break;
	case PT_LABEL:
		if (!values_label_name_valid(v)) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" is not a "
			    "label name ([a-zA-Z_][a-zA-Z0-9_]*)", var, path, v);
			return NULL;
		}
		break;
	case PT_ENUM:
		for (i = 0; choices[i] != NULL; i++)
			if (strcmp(v, choices[i]) == 0)
				break;
		if (choices[i] == NULL) {
			char list[256] = "";

			for (i = 0; choices[i] != NULL; i++)
				snprintf(list + strlen(list), sizeof(list) -
				    strlen(list), "%s%s", i ? ", " : "",
				    choices[i]);
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be one "
			    "of %s", var, path, v, list);
			return NULL;
		}
		break;
	default:
		break;
	}
	return pc_xstrdup(v);
}
