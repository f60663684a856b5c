/* filecheck.h: would Prometheus read this file? The one checker of a
 * file_sd target file and the one checker of a rule file, on buffers (no
 * IO), as Prometheus 2.42 applies them when it reads the file. Every
 * reader uses them: the daemon before it writes (rulecheck_yaml builds
 * its comparison with the record on filecheck_rules_doc), the watcher and
 * GET /files, and `flowmon check`. Also the one set of libyaml helpers for
 * reading rule files. */
#ifndef FLOWMON_FILECHECK_H
#define FLOWMON_FILECHECK_H

#include <stddef.h>

#include <yaml.h>

#include "service.h"

/* Both checkers read len bytes of buf, which need not end in a NUL. */

/* A file_sd target file: a JSON array (and nothing after it, no NUL byte)
 * of {"targets": [strings], "labels": {name: string}} with no other key
 * (either may be null or absent), every label name valid
 * ([a-zA-Z_][a-zA-Z0-9_]*), every string UTF-8, and every target one
 * Prometheus keeps: non-empty host or host:port, no space, control
 * character or '/', a port 1..65535. 0, or -1 with err naming the group
 * (from 1) and what is wrong. */
int	 filecheck_targets(const char *buf, size_t len, char err[ERR_MAX]);

/* A rule file: groups: [{name, interval?, limit?, rules: [{alert | record,
 * expr, for?, keep_firing_for?, labels?, annotations?}]}], strict like
 * Prometheus (an unknown or repeated key, a group name used twice, a
 * `for` on a recording rule are errors), durations, label and annotation
 * names valid, every value a string. An empty file is valid. The
 * expressions are not parsed: promtool does that. 0, or -1 with err. */
int	 filecheck_rules(const char *buf, size_t len, char err[ERR_MAX]);

/* A rule file parsed by filecheck_rules_doc(). */
struct filecheck_doc {
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
};

/* filecheck_rules, keeping the parsed document for a closer look: on 0
 * the caller releases fd with filecheck_doc_release(); on -1 nothing is
 * left to release. */
int	 filecheck_rules_doc(const char *buf, size_t len,
	    struct filecheck_doc *fd, char err[ERR_MAX]);
void	 filecheck_doc_release(struct filecheck_doc *fd);

/* libyaml helpers. The text of a scalar node that holds no NUL byte
 * (libyaml keeps the length apart), else NULL. */
const char *filecheck_text(yaml_node_t *n);
/* The value of key in mapping m (NULL if absent or m is no mapping). */
yaml_node_t *filecheck_get(yaml_document_t *d, yaml_node_t *m,
	    const char *key);
/* 1 for a YAML null: no node, an empty plain scalar, "~" or "null". */
int	 filecheck_null(yaml_node_t *n);
/* The first key of mapping m that is not one of keys (NULL-terminated),
 * "" for a key that is not a string, or NULL when every key is. */
const char *filecheck_other_key(yaml_document_t *d, yaml_node_t *m,
	    const char *const *keys);

#endif
