/* udiff.h: a unified diff of two texts, line by line, as `diff -u` prints
 * it (Myers' O(ND) algorithm). Pure: two buffers in, one out; for `flowmon
 * plan`, which runs where no diff(1) may be installed. */
#ifndef FLOWMON_UDIFF_H
#define FLOWMON_UDIFF_H

#include <stddef.h>

/* Edits beyond which the changed middle is shown as removed and added
 * whole instead of line by line: bounds time and memory (O(D^2)). */
#define UDIFF_EDITS_MAX	1000

/* The diff of a (aname) to b (bname), "--- aname" and "+++ bname" first,
 * with context lines of context around each change; a last line without
 * a newline is marked "\ No newline at end of file". *out is malloc'd
 * (caller frees), NULL when a and b are equal. 0, or -1 on ENOMEM. */
int	 udiff(const char *a, size_t alen, const char *b, size_t blen,
	    const char *aname, const char *bname, int context, char **out,
	    size_t *outlen);

#endif
