/* expo.h: the Prometheus text exposition format (version 0.0.4), written
 * once: the HELP and TYPE lines of a family, samples with escaped label
 * values. flowmon's /metrics and `flowmon reloader`'s are built with it. */
#ifndef FLOWMON_EXPO_H
#define FLOWMON_EXPO_H

#include <stddef.h>

#include "buf.h"

/* The Content-Type of the text. */
#define EXPO_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* A label value longer than this (escaped) is cut at a character. */
#define EXPO_LABEL_MAX		4096

enum expo_type {
	EXPO_COUNTER,
	EXPO_GAUGE
};

/* "# HELP name help" and "# TYPE name counter|gauge". help is one line
 * of plain text (no backslash, no line feed). */
void	 expo_family(struct buf *b, const char *name, enum expo_type type,
	    const char *help);
/* One sample, "name{l1="v1",...} v": the arguments after v are label
 * name and value pairs, ended by NULL; each value is escaped
 * (expo_label_escape). */
void	 expo_sample(struct buf *b, const char *name, long long v, ...)
	    __attribute__((sentinel));
/* A family with one sample without labels. */
void	 expo_counter(struct buf *b, const char *name, const char *help,
	    long long v);
void	 expo_gauge(struct buf *b, const char *name, const char *help,
	    long long v);
/* flowmon_build_info{version} and flowmon_start_time_seconds (started,
 * Unix time) of what ("daemon", "reloader"). */
void	 expo_process(struct buf *b, const char *what, long long started);
/* Errors show in b->failed (buf.h): check it once at the end. */

/* s as a label value into out: backslash, double quote and line feed
 * escaped, every byte that is not well-formed UTF-8 shown as U+FFFD
 * (Prometheus refuses the whole scrape otherwise), cut at a character
 * boundary to fit outsz. Returns out. */
char	*expo_label_escape(const char *s, char *out, size_t outsz);

#endif
