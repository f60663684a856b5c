/* yamlout.h: YAML written with libyaml into a buffer (buf.h), for the rule
 * files (render.c) and prometheus.yml (promconfig_yaml.c): one document of
 * block collections, each scalar in a style that reads back as the same
 * string, no folding (a long expression stays on one line). Pure. */
#ifndef FLOWMON_YAMLOUT_H
#define FLOWMON_YAMLOUT_H

#include <yaml.h>

#include "buf.h"

/* Sets em up to write into out (appended to what out holds) and starts
 * the stream and its document. 0, or -1 (em is set up either way: free
 * it with yaml_emitter_delete()). */
int	 yamlout_begin(yaml_emitter_t *em, struct buf *out);
/* A scalar: plain when it is one of ours (a fixed key), else libyaml's
 * own choice, double-quoted where the resolver or the folding of odd line
 * breaks would still change it. */
int	 yamlout_scalar(yaml_emitter_t *em, const char *s, int plain);
/* Opens or closes a block mapping (map set) or sequence. */
int	 yamlout_open(yaml_emitter_t *em, int map);
int	 yamlout_close(yaml_emitter_t *em, int map);
/* Ends the document and the stream and flushes into the buffer. */
int	 yamlout_end(yaml_emitter_t *em);

#endif
