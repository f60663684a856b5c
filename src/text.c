/* text.c: checks on strings that several writers share: UTF-8
 * well-formedness (the YAML emitter and Prometheus insist on it) and
 * whether a YAML scalar must be quoted to be read back as the same string. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* The length of the well-formed UTF-8 character at p (1 to 4), or 0 when
 * the bytes there are not one. */
static size_t
text_utf8_char(const unsigned char *p)
{
	unsigned int cp, min;
	size_t n, i;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 1;
		cp = *p & 0x1f;
		min = 0x80;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 2;
		cp = *p & 0x0f;
		min = 0x800;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 3;
		cp = *p & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	/* A NUL ends the string: it fails the continuation test. */
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* 1 when s is well-formed UTF-8, which the YAML emitter insists on; saying
 * so beats libyaml's bare failure. */
int
text_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p != '\0'; p += n)
		if ((n = text_utf8_char(p)) == 0)
			return 0;
	return 1;
}

char *
text_utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t n;

	if ((out = malloc(3 * strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *p != '\0'; p += n ? n : 1) {
		if ((n = text_utf8_char(p)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	return out;
}

/* 1 when s, written plain, would be read back as something other than a
 * string by a YAML 1.1 resolver (PyYAML, Go yaml.v2) or a 1.2 one (yaml.v3):
 * null, a bool, a number, a timestamp, a merge key. Such a scalar is written
 * double-quoted so Prometheus gets the string it was given. Erring on the
 * quoting side costs nothing; erring the other way turns "1" into 1 and
 * "null" into "". */
int
text_yaml_ambiguous(const char *s)
{
	static const char *const words[] = {
		"", "~", "null", "true", "false", "yes", "no", "on", "off",
		"y", "n", "<<", "=",
	};
	const char *p = s, *q;
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	/* 2001-12-14 and the like: a timestamp in YAML 1.1. */
	if (strspn(s, "0123456789") == 4 && s[4] == '-')
		return 1;
	if (*p == '+' || *p == '-')
		p++;
	if (strcasecmp(p, ".inf") == 0 || strcasecmp(p, ".nan") == 0)
		return 1;
	/* 0x1f, 0o17, 0b101. */
	if (p[0] == '0' && p[1] != '\0' && strchr("xXoObB", p[1]) != NULL &&
	    p[2] != '\0' && p[2 + strspn(p + 2, "0123456789abcdefABCDEF_")] ==
	    '\0')
		return 1;
	/* 1, 1_000, 0.8, .5, 1:30 (base 60), 1e3, 1.5E-3. */
	if ((n = strspn(p, "0123456789_.:")) == 0)
		return 0;
	if (p[n] == '\0')
		return 1;
	if (p[n] != 'e' && p[n] != 'E')
		return 0;
	q = p + n + 1;
	if (*q == '+' || *q == '-')
		q++;
	return (n = strspn(q, "0123456789")) > 0 && q[n] == '\0';
}

/* 1 when s holds a line break other than '\n' (CR, NEL, LS, PS). libyaml
 * may write LS and PS raw inside single quotes, followed by indentation; a
 * YAML 1.1 parser drops that indentation, a 1.2 one (NEL, LS, PS are no
 * line breaks there) keeps it. Escaped in double quotes, both agree. */
int
text_odd_break(const char *s)
{
	return strchr(s, '\r') != NULL || strstr(s, "\xc2\x85") != NULL ||
	    strstr(s, "\xe2\x80\xa8") != NULL ||
	    strstr(s, "\xe2\x80\xa9") != NULL;
}
