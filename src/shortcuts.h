/* shortcuts.h: DFM's @shortcuts for alertIf: the table (built in, or read
 * from DFM-syntax YAML files) and the expansion of `@name:args`, including
 * the _and_/_or_/_unless_ compound forms. Pure: no IO (see shortcuts_load.c
 * for reading files). */
#ifndef FLOWMON_SHORTCUTS_H
#define FLOWMON_SHORTCUTS_H

#include <stddef.h>

#include "service.h"

/* etc/shortcuts.yaml, compiled in (build/gen/shortcuts_builtin.c). */
extern const char shortcuts_builtin[];
extern const size_t shortcuts_builtin_len;

struct shortcuts;

/* The result of expanding one alertIf. All owned by the caller. */
struct shortcut_expansion {
	char		*expr;
	struct kvlist	 labels;	/* shortcut labels (none for compounds) */
	struct kvlist	 annotations;	/* summary, ... */
};

/* An empty table. NULL on allocation failure. */
struct shortcuts *shortcuts_new(void);
void	 shortcuts_free(struct shortcuts *t);

/* Parses a DFM-syntax shortcut document ("@name": {expanded, annotations,
 * labels}) and merges its entries over t (same name: replaced). An entry
 * that is malformed or uses an unsupported template word is skipped and
 * reported through warn(ctx, entry, reason); the others load. Returns the
 * number of entries loaded, or -1 with err if the document does not parse. */
typedef void (*shortcuts_warn_fn)(void *ctx, const char *origin,
	    const char *entry, const char *reason);
int	 shortcuts_merge_yaml(struct shortcuts *t, const char *buf, size_t len,
	    const char *origin, shortcuts_warn_fn warn, void *ctx,
	    char err[ERR_MAX]);

/* Expands alert_if (which starts with '@') for service and replicas
 * (replicas may be NULL). Returns 0, or -1 with err naming the problem:
 * unknown shortcut, too few arguments, bad compound. */
int	 shortcuts_expand(const struct shortcuts *t, const char *alert_if,
	    const char *service, const char *replicas,
	    struct shortcut_expansion *out, char err[ERR_MAX]);
void	 shortcut_expansion_release(struct shortcut_expansion *e);

/* Number of entries in t. */
size_t	 shortcuts_count(const struct shortcuts *t);

/* IO (shortcuts_load.c): a new table from file (NULL: the built-in table),
 * then every regular file named alertif-* or alertif_* in secrets_dir
 * (NULL or missing: none) merged over it in name order. Problems are logged;
 * NULL with err only if file itself cannot be read or parsed. */
struct shortcuts *shortcuts_load(const char *file, const char *secrets_dir,
	    char err[ERR_MAX]);

#endif
