/* values.c: one parser per kind of value (boolean, duration, port, count,
 * label name, UTF-8) and the checks on YAML scalars, shared by the option
 * table, the request parser, the file checkers and the config generator. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "values.h"

int
values_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "t" };
	static const char *const no[] = { "false", "no", "off", "0", "f" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

int
values_duration_ms(const char *s, int64_t *ms)
{
	/* Prometheus's units, largest first; each may appear once, in order. */
	static const char *const units[] = {
		"y", "w", "d", "h", "m", "s", "ms"
	};
	static const uint64_t unit_ms[] = {
		365ULL * 86400000, 7ULL * 86400000, 86400000, 3600000, 60000,
		1000, 1
	};
	/* Prometheus refuses a duration past int64 nanoseconds ("duration
	 * out of range"), and one bad `for` fails the whole rule file. */
	const uint64_t max_ms = (uint64_t)INT64_MAX / 1000000;
	uint64_t total = 0, v;
	size_t next = 0, i;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		const char *start = s;

		for (v = 0; isdigit((unsigned char)*s); s++)
			if (s - start < 18)
				v = v * 10 + (uint64_t)(*s - '0');
		if (s == start || s - start > 18)
			return -1;
		for (i = next; i < 7; i++) {
			/* "m" must not swallow the "m" of "ms". */
			if (strncmp(s, units[i], strlen(units[i])) == 0 &&
			    !(i == 4 && s[1] == 's'))
				break;
		}
		if (i == 7)
			return -1;
		if (v > max_ms / unit_ms[i] || (total += v * unit_ms[i]) > max_ms)
			return -1;
		s += strlen(units[i]);
		next = i + 1;
	}
	*ms = (int64_t)total;
	return 0;
}

int
values_duration_valid(const char *s)
{
	int64_t ms;

	return values_duration_ms(s, &ms) == 0;
}

int
values_port(const char *s, size_t len)
{
	int port = 0;
	size_t i;

	if (len == 0 || len > 5 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		port = port * 10 + (s[i] - '0');
	}
	return port <= 65535 ? port : 0;
}

int
values_count(const char *s, long min, long max, long *out)
{
	long n = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		if (n > (LONG_MAX - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
values_label_name_valid(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* Saying "not valid UTF-8" beats libyaml's bare failure and Prometheus's
 * refusal of the whole file. */
/* The length of the well-formed UTF-8 character at p (1 to 4), or 0 when
 * the bytes there are not one. */
static size_t
utf8_char(const unsigned char *p)
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

int
values_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p != '\0'; p += n)
		if ((n = utf8_char(p)) == 0)
			return 0;
	return 1;
}

char *
values_utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t n;

	if ((out = malloc(3 * strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *p != '\0'; p += n ? n : 1) {
		if ((n = utf8_char(p)) == 0) {
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

/* A scalar that a YAML 1.1 resolver (PyYAML, Go yaml.v2) or a 1.2 one
 * (yaml.v3) would read as null, a bool, a number, a timestamp or a merge
 * key is written double-quoted, so Prometheus gets the string it was
 * given. Erring on the quoting side costs nothing; erring the other way
 * turns "1" into 1 and "null" into "". */
int
values_yaml_ambiguous(const char *s)
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

/* libyaml may write LS and PS raw inside single quotes, followed by
 * indentation; a YAML 1.1 parser drops that indentation, a 1.2 one (NEL,
 * LS, PS are no line breaks there) keeps it. Escaped in double quotes,
 * both agree. */
int
values_odd_break(const char *s)
{
	return strchr(s, '\r') != NULL || strstr(s, "\xc2\x85") != NULL ||
	    strstr(s, "\xe2\x80\xa8") != NULL ||
	    strstr(s, "\xe2\x80\xa9") != NULL;
}
