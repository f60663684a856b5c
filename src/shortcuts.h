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
 * labels}) and merges its entries over t (same name: replaced). A name may
 * be written with or without its '@'. Templates are compiled here; the only
 * words are {{ .Alert.ServiceName }}, {{ .Alert.Replicas }} and
 * {{ index .Values N }} (N < 100, any spacing inside the braces). An entry
 * that is malformed (expanded missing, an unknown key, a label or
 * annotation name Prometheus refuses) or uses another template word is
 * skipped and reported through warn(ctx, origin, entry, reason) (warn may
 * be NULL); the others load. Returns the number of entries loaded, or -1
 * with err (which starts with origin) if the document does not parse or
 * is not a map. */
typedef void (*shortcuts_warn_fn)(void *ctx, const char *origin,
	    const char *entry, const char *reason);
int	 shortcuts_merge_yaml(struct shortcuts *t, const char *buf, size_t len,
	    const char *origin, shortcuts_warn_fn warn, void *ctx,
	    char err[ERR_MAX]);

/* Expands alert_if (which starts with '@') for service and replicas
 * (replicas may be NULL): "@name" or "@name:arg0,arg1,..."; or a compound
 * "@a:x_and_@b:y", "_or_@", "_unless_@", chained left to right (an operator
 * counts only when an '@' follows it). A single shortcut gives its
 * annotations and labels, rendered; a compound joins the expressions and
 * each annotation with the operator word ("A and B") and gives no labels.
 * Returns 0, or -1 with err naming the problem but not the parameter (the
 * caller knows whether it was alertIf or alertIf.N): "unknown shortcut
 * @foo", "@resp_time_above needs 3 arguments, got 2", "@replicas_running
 * needs the replicas parameter", an empty part, or an argument holding a
 * quote, backslash, brace, backtick or control character (any of these
 * could end the string or template the argument lands in). */
int	 shortcuts_expand(const struct shortcuts *t, const char *alert_if,
	    const char *service, const char *replicas,
	    struct shortcut_expansion *out, char err[ERR_MAX]);
/* Frees what e holds (on failure shortcuts_expand leaves out empty). */
void	 shortcut_expansion_release(struct shortcut_expansion *e);

/* Number of entries in t. */
size_t	 shortcuts_count(const struct shortcuts *t);

/* IO (shortcuts_load.c): a new table from file (NULL: the built-in table),
 * then every regular file (symlinks followed) named alertif-* or alertif_*
 * (prefix in any case, as DFM) in secrets_dir (NULL or missing: none)
 * merged over it in name order (alphasort), later files winning. A secrets
 * file that cannot be read or parsed, and every refused entry, is logged
 * and skipped. NULL with err only if file itself cannot be read or parsed
 * (or is over 1 MiB). The caller frees the table with shortcuts_free(). */
struct shortcuts *shortcuts_load(const char *file, const char *secrets_dir,
	    char err[ERR_MAX]);

#endif
