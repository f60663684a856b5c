/* values.h: the one parser of each kind of value flowmon reads: booleans,
 * durations, ports, counts, label names, UTF-8, and the YAML scalar checks.
 * Flags, environment variables, requests and the config generator all use
 * these, so a value means the same wherever it is given. Pure. */
#ifndef FLOWMON_VALUES_H
#define FLOWMON_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* The boolean vocabulary, for messages: every boolean (a flag's value, a
 * variable, alertPersistent, a DFM variable of the config generator) is
 * one of these words, in any case. t and f are Go's strconv.ParseBool
 * spellings, which DFM read its variables with. */
#define VALUES_BOOL_WORDS \
	"true or false (also yes/no, on/off, 1/0, t/f)"

/* *out = 1 for true, yes, on, 1, t; 0 for false, no, off, 0, f (ASCII
 * case ignored). Returns 0, or -1 (out untouched) for anything else,
 * including "" and NULL. */
int	 values_bool(const char *s, int *out);

/* A Prometheus duration: "0", or one or more <digits><unit> with the
 * units y, w, d, h, m, s, ms, each at most once and largest first (15s,
 * 1m30s, 500ms, 1d12h). Like Prometheus, refuses a duration past int64
 * nanoseconds. Returns 0 with *ms, or -1. */
int	 values_duration_ms(const char *s, int64_t *ms);
/* 1 when s is such a duration, else 0. */
int	 values_duration_valid(const char *s);

/* A TCP port: 1..65535 in plain decimal, no sign, no leading zero, the len
 * bytes at s (need not end there). Returns the port, or 0. */
int	 values_port(const char *s, size_t len);

/* A decimal count: one or more ASCII digits (no sign, no space) whose
 * value is in [min, max]. Returns 0 with *out, or -1. */
int	 values_count(const char *s, long min, long max, long *out);

/* 1 when s is a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
int	 values_label_name_valid(const char *s);

/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * past U+10FFFF), as Go's utf8.ValidString and libyaml's emitter want. */
int	 values_utf8_valid(const char *s);
/* A copy of s in which every byte that is not part of well-formed UTF-8
 * is replaced by U+FFFD, so it can go into JSON or a Prometheus label
 * (file names are bytes, not text). malloc'd (caller frees), NULL on
 * allocation failure. */
char	*values_utf8_repair(const char *s);

/* 1 when s, written as a plain YAML scalar, would be read back by a YAML
 * 1.1 or 1.2 resolver as something other than this string (null, a bool, a
 * number, a timestamp, a merge key): such a scalar must be quoted. */
int	 values_yaml_ambiguous(const char *s);

/* 1 when s holds a line break other than '\n' (CR, NEL, LS, PS), which only
 * double quotes carry the same way to every YAML reader. */
int	 values_odd_break(const char *s);

#endif
