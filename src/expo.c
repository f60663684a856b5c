/* expo.c: the Prometheus text exposition format (see expo.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "values.h"

void
expo_family(struct buf *b, const char *name, enum expo_type type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type == EXPO_COUNTER ? "counter" : "gauge");
}

void
expo_sample(struct buf *b, const char *name, long long v, ...)
{
	const char *label, *value;
	char esc[EXPO_LABEL_MAX];
	va_list ap;
	int first = 1;

	buf_adds(b, name);
	va_start(ap, v);
	while ((label = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		buf_printf(b, "%s%s=\"%s\"", first ? "{" : ",", label,
		    expo_label_escape(value, esc, sizeof(esc)));
		first = 0;
	}
	va_end(ap);
	buf_printf(b, "%s %lld\n", first ? "" : "}", v);
}

void
expo_counter(struct buf *b, const char *name, const char *help, long long v)
{
	expo_family(b, name, EXPO_COUNTER, help);
	expo_sample(b, name, v, NULL);
}

void
expo_gauge(struct buf *b, const char *name, const char *help, long long v)
{
	expo_family(b, name, EXPO_GAUGE, help);
	expo_sample(b, name, v, NULL);
}

void
expo_process(struct buf *b, const char *what, long long started)
{
	char help[64];

	expo_family(b, "flowmon_build_info", EXPO_GAUGE, "flowmon's version.");
	expo_sample(b, "flowmon_build_info", 1, "version", FLOWMON_VERSION,
	    NULL);
	snprintf(help, sizeof(help), "Start time of the %s.", what);
	expo_gauge(b, "flowmon_start_time_seconds", help, started);
}

char *
expo_label_escape(const char *s, char *out, size_t outsz)
{
	char *fixed = values_utf8_repair(s);
	const char *p = fixed != NULL ? fixed : "";
	size_t o = 0, n;

	if (outsz == 0) {
		free(fixed);
		return out;
	}
	for (; *p != '\0'; p += n) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" :
		    *p == '\n' ? "\\n" : NULL;

		/* One character (or its escape) whole, or nothing. */
		for (n = 1; (p[n] & 0xc0) == 0x80; n++)
			;
		if (esc != NULL) {
			if (o + 2 >= outsz)
				break;
			memcpy(out + o, esc, 2);
			o += 2;
		} else {
			if (o + n >= outsz)
				break;
			memcpy(out + o, p, n);
			o += n;
		}
	}
	out[o] = '\0';
	free(fixed);
	return out;
}
