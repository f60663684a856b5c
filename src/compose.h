/* compose.h: Compose and stack files read as `docker stack deploy` reads
 * them, as far as monitoring goes: each service's name, its deploy labels
 * (what swarm-listener sees), its container labels (which it never sees),
 * its mode and replicas. Pure: a buffer and a variable lookup in, services
 * out; `flowmon plan` reads the files.
 *
 * What docker stack deploy does, and so does this reader:
 * - YAML 1.1 as Go's yaml.v2 reads it: anchors and aliases, merge keys
 *   (`<<: *x`, or a list of maps, earlier ones winning), applied in the
 *   order they stand among the keys (a key after the merge overrides it);
 *   a plain scalar is null, a boolean (true, yes, on... in three cases), a
 *   number (decimal, 0x, 0o, 0b, leading-0 octal, '_' ignored; floats) or
 *   a string; a label value that is not a string is written as Go's
 *   fmt.Sprint writes it (yes -> "true", 0x1F -> "31", 1e6 -> "1e+06",
 *   null -> "").
 * - Variables in every string value of the file (never in keys), as
 *   docker's template package has them: $$ is a '$'; $VAR and ${VAR}; a
 *   default after ":-" (VAR unset or empty) or "-" (VAR unset); ":?MSG"
 *   and "?MSG" refuse an unset (or empty) VAR; anything else after a '$'
 *   is an error. Defaults are not interpolated again.
 * - Labels as a map (values as above) or a list of "key=value" strings
 *   ("key" alone is ""); a later key wins.
 * - Several files merged in order: a service is merged key by key (labels
 *   and deploy labels by label, mode when given, replicas when given).
 */
#ifndef FLOWMON_COMPOSE_H
#define FLOWMON_COMPOSE_H

#include <stddef.h>

#include "service.h"

/* deploy.mode */
enum compose_mode {
	COMPOSE_UNSET,			/* not given: replicated */
	COMPOSE_REPLICATED,
	COMPOSE_GLOBAL,
	COMPOSE_REPLICATED_JOB,
	COMPOSE_GLOBAL_JOB
};

/* One service of the stack. */
struct compose_service {
	char			*name;		/* its key under services: */
	struct kvlist		 deploy_labels;	/* deploy.labels: the
						   service's labels */
	struct kvlist		 labels;	/* labels: the containers' */
	enum compose_mode	 mode;
	int			 has_replicas;
	unsigned long long	 replicas;	/* deploy.replicas */
};

/* The services of one or more files, sorted by name. */
struct compose {
	struct compose_service	*v;
	size_t			 n;
	size_t			 cap;
};

/* A variable's value, or NULL when it is unset (not the same as ""). */
typedef const char *(*compose_lookup_fn)(void *ctx, const char *name);

/* Reads one file's bytes (buf, len) and merges its services into c (zeroed
 * before the first file), later files overriding earlier ones as
 * described above. 0, or -1 with err ("line N: services.web.deploy.labels:
 * ...") when the file is not a stack file docker would deploy, or on
 * ENOMEM; c then holds what the earlier files gave. */
int	 compose_read(struct compose *c, const char *buf, size_t len,
	    compose_lookup_fn lookup, void *ctx, char err[ERR_MAX]);
void	 compose_release(struct compose *c);

/* Interpolates the variables of s as docker stack deploy does. *out is
 * malloc'd (caller frees). 0, or -1 with err (an invalid '$' form, a
 * required variable unset, ENOMEM). */
int	 compose_interpolate(const char *s, compose_lookup_fn lookup,
	    void *ctx, char **out, char err[ERR_MAX]);

/* The text a plain (unquoted, untagged) YAML scalar becomes as a label
 * value: "" for null, "true"/"false", a number as fmt.Sprint writes it, or
 * s itself (returned as is). buf holds a formatted value. *is_string is 1
 * when s resolves to a string. */
const char *compose_plain_text(const char *s, char buf[64], int *is_string);

#endif
