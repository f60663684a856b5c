/* fuzz_expand.c: shortcuts_expand on alertIf strings against the built-in
 * table. Input: the alertIf ("@name:args", compounds with _and_/_or_/
 * _unless_), then optionally a line with the service name and one with
 * replicas. Oracle: an expansion gives a non-empty expression and only
 * valid label and annotation names; a refusal says why and leaves the
 * expansion empty. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shortcuts.h"
#include "values.h"

static int
valid_kvlist(const struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!values_label_name_valid(l->v[i].key) ||
		    l->v[i].value == NULL)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shortcut_expansion e;
	char err[ERR_MAX], *buf, *line[3] = { NULL, NULL, NULL }, *p;
	const char *service, *replicas;
	int i;

	if (size > 16 * 1024)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		fuzz_fail("malloc", "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0, p = buf; i < 3 && p != NULL; i++) {
		line[i] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	service = line[1] != NULL && line[1][0] != '\0' ? line[1] :
	    "go-demo_main";
	replicas = line[2];
	err[0] = '\0';
	if (shortcuts_expand(fuzz_shortcuts(), line[0], service, replicas, &e,
	    err) == -1) {
		if (err[0] == '\0' || e.expr != NULL || e.labels.n != 0 ||
		    e.annotations.n != 0)
			fuzz_fail("shortcuts_expand", "bad failure");
	} else {
		if (e.expr == NULL || e.expr[0] == '\0')
			fuzz_fail("shortcuts_expand", "empty expression");
		if (!valid_kvlist(&e.labels) || !valid_kvlist(&e.annotations))
			fuzz_fail("shortcuts_expand", "invalid label name");
		shortcut_expansion_release(&e);
	}
	/* The same without replicas, which some shortcuts need. */
	if (shortcuts_expand(fuzz_shortcuts(), line[0], service, NULL, &e,
	    err) == 0)
		shortcut_expansion_release(&e);
	free(buf);
	return 0;
}
