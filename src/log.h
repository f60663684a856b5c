/* log.h: logfmt lines on stderr: `ts=... level=warn msg="..." key=value`.
 * Values are redacted (url.h): no URL's user name or password shows. */
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

/* Logs msg with key/value pairs given as a NULL-terminated list of const
 * char * (key, value, key, value, ..., NULL). Values are quoted and escaped
 * as logfmt needs. Thread-safe (one write(2) per line). */
void	 log_kv(enum log_level level, const char *msg, ...);

#define log_debug(...)	log_kv(LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define log_info(...)	log_kv(LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define log_warn(...)	log_kv(LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define log_error(...)	log_kv(LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
