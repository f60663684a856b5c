/* promconfig_impl.h: the insides of promconfig, shared by its files and by
 * no other module: promconfig.c (the schema, environment to tree, the
 * public entry points), promconfig_tree.c (the tree and the checks of
 * scalar values) and promconfig_yaml.c (scrape files in, YAML out).
 *
 * Design note. The environment is folded into a small tree of maps, lists
 * and scalars. Every node carries its order among its siblings: the schema
 * position for keys the schema knows, the index for list items, the file
 * position for what a scrape file said, and 0 (then the key) for label
 * maps. Emission walks the tree in that order, so the bytes depend on the
 * input alone, never on the order of environ or of a directory. Start-up
 * code only: allocation failure aborts. */
#ifndef FLOWMON_PROMCONFIG_IMPL_H
#define FLOWMON_PROMCONFIG_IMPL_H

#include <stddef.h>

#include "promconfig.h"

#define PC_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Top-level keys, in the order Prometheus documents them (and DFM wrote). */
enum {
	PC_ORDER_GLOBAL, PC_ORDER_ALERTING, PC_ORDER_RULE_FILES,
	PC_ORDER_SCRAPE, PC_ORDER_REMOTE_WRITE, PC_ORDER_REMOTE_READ
};

/* Types of the schema (promconfig.c); pc_scalar() checks the scalars. */
enum pc_type {
	PT_END,
	PT_STR, PT_BOOL, PT_INT, PT_DUR, PT_URL, PT_LABEL, PT_ENUM, /* scalars */
	PT_STRUCT,	/* a map of known keys */
	PT_INLINE,	/* known keys spliced into the enclosing map */
	PT_LIST,	/* items name_1, name_2, ... of type elem */
	PT_LABELS,	/* label name -> value, set as name=value[,name=value] */
	PT_MAP,		/* any key -> value, same form */
	PT_PARAMS	/* key -> list of values, set as key_<n>=value */
};

enum pc_kind { PC_MAP, PC_SEQ, PC_SCALAR };

struct pc_node {
	enum pc_kind	  kind;
	char		 *key;		/* member of a map: its key */
	long		  order;	/* sort key among siblings */
	char		 *value;	/* PC_SCALAR */
	int		  plain;	/* PC_SCALAR: typed, written plain */
	char		 *src;		/* variable or file that set it */
	struct pc_node	**kids;
	size_t		  nkids;
};

struct promconfig {
	struct pc_node	*root;
	long		 nfile_jobs;
	long		 shards;	/* 0 or 1: no sharding */
	long		 shard;
};


/* calloc, strdup, strndup that abort on allocation failure. */
void	*pc_xalloc(size_t n);
char	*pc_xstrdup(const char *s);
char	*pc_xstrndup(const char *s, size_t n);

/* A new node of kind with a copy of key (or NULL) and its order; free it
 * (and its kids) with pc_node_free(), which accepts NULL. */
struct pc_node	*pc_node_new(enum pc_kind kind, const char *key, long order);
void		 pc_node_free(struct pc_node *n);
/* Adds kid to parent, which owns it from then on, keeping the kids sorted
 * (stable for equal keys). Returns kid. */
struct pc_node	*pc_attach(struct pc_node *parent, struct pc_node *kid);
/* The member key of map, the item of seq with that order: borrowed, or
 * NULL. */
struct pc_node	*pc_by_key(const struct pc_node *map, const char *key);
struct pc_node	*pc_by_order(const struct pc_node *seq, long order);
/* The member key of map, item index of seq, created as kind if missing;
 * borrowed from the parent. */
struct pc_node	*pc_member(struct pc_node *map, const char *key, long order,
		    enum pc_kind kind);
struct pc_node	*pc_item(struct pc_node *seq, long index, enum pc_kind kind);

/* %XX-decodes s in place; -1 on a bad escape or a NUL. */
int	 pc_unescape(char *s);
/* Checks value v of type t (choices: a PT_ENUM's values) for variable var
 * at path; *plain says whether it is typed (bool, number, duration:
 * written plain). Returns the value to store (normalised for bools),
 * malloc'd and the caller's, or NULL with err. */
char	*pc_scalar(const char *var, const char *path, enum pc_type t,
	    const char *const *choices, const char *v, int *plain,
	    char err[ERR_MAX]);

#endif
