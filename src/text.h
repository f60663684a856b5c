/* text.h: string checks shared by the writers of YAML and the parsers of
 * requests. Pure. */
#ifndef FLOWMON_TEXT_H
#define FLOWMON_TEXT_H

/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * past U+10FFFF). */
int	 text_utf8_valid(const char *s);

/* 1 when s, written as a plain YAML scalar, would be read back by a YAML
 * 1.1 or 1.2 resolver as something other than this string (null, a bool, a
 * number, a timestamp, a merge key): such a scalar must be quoted. */
int	 text_yaml_ambiguous(const char *s);

/* 1 when s holds a line break other than '\n' (CR, NEL, LS, PS), which only
 * double quotes carry the same way to every YAML reader. */
int	 text_odd_break(const char *s);

/* A copy of s in which every byte that is not part of well-formed UTF-8
 * is replaced by U+FFFD, so it can go into JSON or a Prometheus label
 * (file names are bytes, not text). malloc'd (caller frees), NULL on
 * allocation failure. */
char	*text_utf8_repair(const char *s);

#endif
