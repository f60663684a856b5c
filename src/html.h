/* html.h: text into HTML, safely: every value the status page shows
 * (service names, labels, annotations, expressions, Prometheus's errors)
 * is user input, escaped here and nowhere else. Pure: strings in, bytes
 * appended to a buffer (buf.h); failures show in b->failed. */
#ifndef FLOWMON_HTML_H
#define FLOWMON_HTML_H

#include <stddef.h>

#include "buf.h"

/* Appends s with &, <, >, " and ' as character references, and every
 * byte that is not well-formed UTF-8 and every control character but tab,
 * line feed and carriage return as U+FFFD: safe in element text and in a
 * quoted attribute value alike. NULL appends nothing. */
void	 html_text(struct buf *b, const char *s);
/* The same for at most max bytes of s, cut at a character boundary and
 * followed by " ..." (and how many bytes were left out) when cut. */
void	 html_text_cut(struct buf *b, const char *s, size_t max);
/* Appends s percent-encoded for a URL's query value or path segment:
 * letters, digits and -._~ as they are, every other byte as %XX. The
 * result needs no HTML escaping. */
void	 html_url(struct buf *b, const char *s);

#endif
