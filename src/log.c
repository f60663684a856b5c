/* log.c: logfmt lines on stderr, one write(2) per line so threads never
 * interleave. Every value goes through url.h's redaction: whatever a
 * caller passes (an error quoting a URL, a parameter), no user name or
 * password of a URL reaches the log. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "url.h"

static volatile int log_threshold = LOG_INFO;
static const char *const log_names[] = { "debug", "info", "warn", "error" };

int
log_set_level(const char *name)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			log_threshold = i;
			return 0;
		}
	}
	return -1;
}

static int
log_enabled(enum log_level level)
{
	return (int)level >= log_threshold;
}

/* Appends s to buf at *off, quoted when it holds a space, '=' or '"'. */
static void
log_append(char *buf, size_t size, size_t *off, const char *s, int maybe_quote)
{
	int quote = 0;
	const char *p;

	if (maybe_quote) {
		quote = *s == '\0';
		for (p = s; *p && !quote; p++)
			quote = *p == ' ' || *p == '=' || *p == '"' ||
			    (unsigned char)*p < 0x20;
	}
	if (quote && *off < size - 1)
		buf[(*off)++] = '"';
	for (p = s; *p && *off < size - 3; p++) {
		unsigned char c = (unsigned char)*p;

		if (quote && (c == '"' || c == '\\')) {
			buf[(*off)++] = '\\';
			buf[(*off)++] = (char)c;
		} else if (c == '\n') {
			buf[(*off)++] = '\\';
			buf[(*off)++] = 'n';
		} else if (c < 0x20) {
			buf[(*off)++] = '?';
		} else {
			buf[(*off)++] = (char)c;
		}
	}
	if (quote && *off < size - 1)
		buf[(*off)++] = '"';
}

/* log_append of a value, the secrets of its URLs hidden. */
static void
log_append_shown(char *buf, size_t size, size_t *off, const char *v)
{
	struct buf b = BUF_INIT;

	if (!url_text_may_hide(v, strlen(v))) {
		log_append(buf, size, off, v, 1);
		return;
	}
	if (url_redact_buf(&b, v, strlen(v)) == 0)
		log_append(buf, size, off, b.p, 1);
	else
		log_append(buf, size, off, "(hidden: out of memory)", 1);
	buf_release(&b);
}

void
log_kv(enum log_level level, const char *msg, ...)
{
	char buf[4096], t[32];
	size_t off = 0;
	const char *k, *v;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	clock_rfc3339(clock_wall_ms(), t);
	n = snprintf(buf, sizeof(buf), "ts=%s level=%s msg=", t,
	    log_names[level]);
	off = (size_t)n;
	log_append(buf, sizeof(buf), &off, msg, 1);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (off < sizeof(buf) - 2)
			buf[off++] = ' ';
		log_append(buf, sizeof(buf), &off, k, 0);
		if (off < sizeof(buf) - 2)
			buf[off++] = '=';
		log_append_shown(buf, sizeof(buf), &off, v ? v : "");
	}
	va_end(ap);
	buf[off++] = '\n';
	(void)!write(STDERR_FILENO, buf, off);
}
