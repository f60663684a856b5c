/* fuzz_shortcuts_yaml.c: shortcuts_merge_yaml, the reader of --shortcuts
 * files and /run/secrets/alertif-* (DFM's YAML syntax). Oracle: the count
 * it returns is what the table holds, a refusal says why, and every entry
 * it loaded expands (with enough arguments and replicas) to a non-empty
 * expression. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shortcuts.h"
#include "values.h"

static int nwarn;

static void
warn(void *ctx, const char *origin, const char *entry, const char *reason)
{
	(void)ctx;
	if (origin == NULL || entry == NULL || reason == NULL ||
	    reason[0] == '\0')
		fuzz_fail("shortcuts_merge_yaml", "warning without a reason");
	nwarn++;
}

/* Tries "@name:a0,...,a99" for every top-level key that looks like a
 * shortcut name in the input (a line starting with a name and a ':'). */
static void
expand_names(const struct shortcuts *t, const char *buf)
{
	struct shortcut_expansion e;
	char err[ERR_MAX], name[128], alert_if[1024];
	const char *p = buf, *s;
	size_t n, i, off;
	int tried = 0;

	for (; p != NULL && *p != '\0' && tried < 8;
	    p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		s = p;
		if (*s == '"' || *s == '\'')
			s++;
		if (*s == '@')
			s++;
		for (n = 0; n < sizeof(name) - 1 && (isalnum((unsigned char)s[n])
		    || s[n] == '_' || s[n] == '-' || s[n] == '.'); n++)
			name[n] = s[n];
		name[n] = '\0';
		if (n == 0)
			continue;
		off = (size_t)snprintf(alert_if, sizeof(alert_if), "@%s:", name);
		for (i = 0; i < 100 && off < sizeof(alert_if) - 8; i++)
			off += (size_t)snprintf(alert_if + off,
			    sizeof(alert_if) - off, "%s%zu", i ? "," : "", i);
		tried++;
		if (shortcuts_expand(t, alert_if, "svc", "3", &e, err) == 0) {
			if (e.expr == NULL || e.expr[0] == '\0')
				fuzz_fail("expanding a loaded shortcut",
				    "empty expression");
			for (i = 0; i < e.labels.n; i++)
				if (!values_label_name_valid(e.labels.v[i].key))
					fuzz_fail("expanding a loaded shortcut",
					    "invalid label name");
			shortcut_expansion_release(&e);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shortcuts *t;
	char err[ERR_MAX], *buf;
	int n;

	if (size > 64 * 1024)
		return 0;
	if ((t = shortcuts_new()) == NULL || (buf = malloc(size + 1)) == NULL)
		fuzz_fail("malloc", "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	nwarn = 0;
	err[0] = '\0';
	n = shortcuts_merge_yaml(t, buf, size, "fuzz", warn, NULL, err);
	if (n == -1) {
		if (strncmp(err, "fuzz", 4) != 0)
			fuzz_fail("shortcuts_merge_yaml", "error without origin");
		if (shortcuts_count(t) != 0)
			fuzz_fail("shortcuts_merge_yaml", "failed but loaded");
	} else {
		/* Entries of the same name replace each other. */
		if ((size_t)n < shortcuts_count(t))
			fuzz_fail("shortcuts_merge_yaml", "count too low");
		expand_names(t, buf);
	}
	shortcuts_free(t);
	free(buf);
	return 0;
}
