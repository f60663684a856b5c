/* html.c: the status page's escaping (html.h). Well-formedness comes from
 * values_utf8_repair(), the one UTF-8 check flowmon has; this adds the
 * character references and drops control characters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "values.h"

/* U+FFFD, the replacement character. */
#define HTML_FFFD	"\xef\xbf\xbd"

/* Appends the n bytes at s, escaped; s is well-formed UTF-8. */
static void
escape(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	const char *ref;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '&':
			ref = "&amp;";
			break;
		case '<':
			ref = "&lt;";
			break;
		case '>':
			ref = "&gt;";
			break;
		case '"':
			ref = "&quot;";
			break;
		case '\'':
			ref = "&#39;";
			break;
		default:
			ref = (c < 0x20 && c != '\t' && c != '\n' &&
			    c != '\r') || c == 0x7f ? HTML_FFFD : NULL;
			break;
		}
		if (ref == NULL)
			continue;
		buf_add(b, s + run, i - run);
		buf_adds(b, ref);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
}

void
html_text_cut(struct buf *b, const char *s, size_t max)
{
	char *ok, more[48];
	size_t n;

	if (s == NULL)
		return;
	if ((ok = values_utf8_repair(s)) == NULL) {
		b->failed = 1;
		return;
	}
	if ((n = strlen(ok)) <= max) {
		escape(b, ok, n);
		free(ok);
		return;
	}
	/* Back to the start of a character. */
	while (max > 0 && ((unsigned char)ok[max] & 0xc0) == 0x80)
		max--;
	escape(b, ok, max);
	snprintf(more, sizeof(more), " ... (%zu more bytes)", n - max);
	buf_adds(b, more);
	free(ok);
}

void
html_text(struct buf *b, const char *s)
{
	html_text_cut(b, s, (size_t)-1);
}

void
html_url(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char pct[3];

	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_add(b, s, 1);
			continue;
		}
		pct[0] = '%';
		pct[1] = hex[c >> 4];
		pct[2] = hex[c & 15];
		buf_add(b, pct, 3);
	}
}
