/* log.h: logfmt lines on stderr: `ts=... level=warn msg="..." key=value`,
 * and the redaction of secrets in URLs for logs and answers. */
#ifndef FLOWMON_LOG_H
#define FLOWMON_LOG_H

#include <stddef.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
};

/* Sets the threshold; "debug", "info", "warn" or "error". -1 if unknown. */
int	 log_set_level(const char *name);
int	 log_enabled(enum log_level level);

/* Logs msg with key/value pairs given as a NULL-terminated list of const
 * char * (key, value, key, value, ..., NULL). Values are quoted and escaped
 * as logfmt needs. Thread-safe (one write(2) per line). */
void	 log_kv(enum log_level level, const char *msg, ...);

/* Copies text (a URL, a list of them, or a message quoting them) into out
 * with the password of every URL's userinfo shown as ***:
 * "http://user:pw@host/x" becomes "http://user:***@host/x". The one place
 * that decides how a secret in a URL looks in logs and answers; use it for
 * every URL logged or returned. out (not text: *** may be longer than the
 * password) is always NUL-terminated, cut short if outsz is too small,
 * never in the middle of a secret. Returns out. */
char	*log_redact(const char *text, char *out, size_t outsz);

#define log_debug(...)	log_kv(LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define log_info(...)	log_kv(LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define log_warn(...)	log_kv(LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define log_error(...)	log_kv(LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
