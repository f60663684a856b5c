/* fuzz_udiff.c: udiff, the unified diffs of `flowmon plan`, on two texts
 * (the input split at its first NUL byte, or in halves). Oracle: equal
 * texts give no diff; otherwise the diff, applied to the first text as
 * patch(1) would (hunks in order, context and '-' lines checked against
 * it), gives back the second, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "udiff.h"

/* The next line of *p (up to end) as [s, s + n), newline excluded. */
static int
next_line(const char **p, const char *end, const char **s, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return 1;
}

/* The offset in a of the start of line no (from 0). */
static size_t
line_off(const char *a, size_t alen, size_t no)
{
	size_t off = 0;

	while (no > 0 && off < alen) {
		const char *nl = memchr(a + off, '\n', alen - off);

		off = nl ? (size_t)(nl - a) + 1 : alen;
		no--;
	}
	return off;
}

/* d applied to a, into out. */
static void
apply(const char *a, size_t alen, const char *d, size_t dlen,
    struct buf *out)
{
	const char *p = d, *end = d + dlen, *s;
	size_t n, at = 0, line = 0;	/* a's bytes and lines used */
	char *last = NULL;		/* the line just written */

	if (!next_line(&p, end, &s, &n) || n < 4 || memcmp(s, "--- ", 4) ||
	    !next_line(&p, end, &s, &n) || n < 4 || memcmp(s, "+++ ", 4))
		fuzz_fail("udiff", "no --- and +++ header");
	while (next_line(&p, end, &s, &n)) {
		unsigned long start, cnt = 1;
		size_t off;

		if (n >= 2 && s[0] == '@' && s[1] == '@') {
			if (sscanf(s, "@@ -%lu,%lu", &start, &cnt) < 1)
				fuzz_fail("udiff", "bad hunk header");
			/* Unchanged lines up to the hunk. */
			if (start > 0 && cnt > 0)
				start--;
			if (start < line)
				fuzz_fail("udiff", "hunks out of order");
			off = line_off(a, alen, start);
			if (off < at)
				fuzz_fail("udiff", "hunk before what was used");
			buf_add(out, a + at, off - at);
			at = off;
			line = start;
			continue;
		}
		if (n > 0 && s[0] == '\\') {
			/* The line before has no newline: take it back. */
			if (last == NULL)
				fuzz_fail("udiff", "no-newline mark first");
			if (out->len > 0 && last[0] != '-')
				out->len--;
			free(last);
			last = NULL;
			continue;
		}
		if (n == 0 || (s[0] != ' ' && s[0] != '-' && s[0] != '+'))
			fuzz_fail("udiff", "a line that is no diff line");
		if (s[0] != '+') {
			/* Must match a's next line. */
			off = line_off(a, alen, line + 1);
			if (off - at < n - 1 || memcmp(a + at, s + 1, n - 1))
				fuzz_fail("udiff", "context or '-' line is not "
				    "the first text's");
			at = off;
			line++;
		}
		if (s[0] != '-') {
			buf_add(out, s + 1, n - 1);
			buf_add(out, "\n", 1);
		}
		free(last);
		last = strndup(s, 1);
	}
	free(last);
	buf_add(out, a + at, alen - at);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a = (const char *)data, *cut;
	const char *b;
	size_t alen, blen, dlen;
	struct buf out = BUF_INIT;
	char *d;

	cut = memchr(a, '\0', size);
	alen = cut ? (size_t)(cut - a) : size / 2;
	b = a + alen + (cut != NULL);
	blen = size - alen - (cut != NULL);
	if (udiff(a, alen, b, blen, "a", "b", 3, &d, &dlen) == -1)
		fuzz_fail("udiff", "out of memory");
	if (d == NULL) {
		if (alen != blen || memcmp(a, b, alen) != 0)
			fuzz_fail("udiff", "no diff of different texts");
		return 0;
	}
	apply(a, alen, d, dlen, &out);
	if (out.failed || out.len != blen || (blen > 0 &&
	    memcmp(out.p, b, blen) != 0))
		fuzz_fail("udiff", "the diff applied does not give the second "
		    "text");
	buf_release(&out);
	free(d);
	return 0;
}
