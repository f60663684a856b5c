/* yamlout.c: YAML written with libyaml into a buffer (see yamlout.h). */
#include <stdint.h>
#include <string.h>

#include "values.h"
#include "yamlout.h"

/* The emitter owns the event from here, even when it fails. */
static int
emit(yaml_emitter_t *em, int ok, yaml_event_t *ev)
{
	return ok && yaml_emitter_emit(em, ev) ? 0 : -1;
}

int
yamlout_begin(yaml_emitter_t *em, struct buf *out)
{
	yaml_event_t ev;

	if (!yaml_emitter_initialize(em))
		return -1;
	yaml_emitter_set_output(em, buf_yaml_write, out);
	yaml_emitter_set_unicode(em, 1);
	yaml_emitter_set_width(em, -1);
	if (emit(em, yaml_stream_start_event_initialize(&ev,
	    YAML_UTF8_ENCODING), &ev) == -1)
		return -1;
	return emit(em, yaml_document_start_event_initialize(&ev, NULL, NULL,
	    NULL, 1), &ev);
}

int
yamlout_scalar(yaml_emitter_t *em, const char *s, int plain)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t ev;
	size_t len = strlen(s);

	if (len > INT32_MAX)
		return -1;
	if (plain)
		style = YAML_PLAIN_SCALAR_STYLE;
	else if (values_yaml_ambiguous(s) || values_odd_break(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return emit(em, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)len, 1, 1, style), &ev);
}

int
yamlout_open(yaml_emitter_t *em, int map)
{
	yaml_event_t ev;

	return emit(em, map ? yaml_mapping_start_event_initialize(&ev, NULL,
	    NULL, 1, YAML_BLOCK_MAPPING_STYLE) :
	    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE), &ev);
}

int
yamlout_close(yaml_emitter_t *em, int map)
{
	yaml_event_t ev;

	return emit(em, map ? yaml_mapping_end_event_initialize(&ev) :
	    yaml_sequence_end_event_initialize(&ev), &ev);
}

int
yamlout_end(yaml_emitter_t *em)
{
	yaml_event_t ev;

	if (emit(em, yaml_document_end_event_initialize(&ev, 1), &ev) == -1 ||
	    emit(em, yaml_stream_end_event_initialize(&ev), &ev) == -1)
		return -1;
	return yaml_emitter_flush(em) ? 0 : -1;
}
