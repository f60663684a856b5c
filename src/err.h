/* err.h: the kinds of failure that cross a module boundary. A function
 * that can fail in more than one way returns one of these (or stores it in
 * its result struct) and says what happened in the caller's
 * char err[ERR_MAX]; callers decide on the kind, never on the text. Only
 * the HTTP front turns a kind into a status code. */
#ifndef FLOWMON_ERR_H
#define FLOWMON_ERR_H

enum fm_err {
	FM_OK = 0,
	/* The input was refused: a request parameter, a quota, a rule file
	 * that promtool or flowmon's own checks reject, a reload Prometheus
	 * refuses (it cannot load a rule file). Changing the input helps;
	 * repeating it does not. */
	FM_REFUSED,
	/* Something stored is not valid: a record on disk that no longer
	 * parses, a rule file that is not what its record renders to.
	 * Needs an operator, or a request that replaces it. */
	FM_INVALID,
	/* A file could not be written, moved or removed (errno says why);
	 * the old file is intact and a later request retries. */
	FM_STORAGE,
	/* A transient failure: no answer, a timeout, a peer restarting, a
	 * tool that could not run. Asking again later may succeed. */
	FM_RETRY,
	/* Will not heal by itself: out of memory, a setup that is wrong
	 * (a reload URL answering 403 or 404). */
	FM_FATAL,
	/* The input collides with something another owner holds: a long
	 * service name whose shortened file name another service has.
	 * Repeating it does not help; another name does. */
	FM_CONFLICT
};

/* The kind's name in lower case, for logs and tests. */
static inline const char *
fm_err_name(enum fm_err k)
{
	switch (k) {
	case FM_OK:		return "ok";
	case FM_REFUSED:	return "refused";
	case FM_INVALID:	return "invalid";
	case FM_STORAGE:	return "storage";
	case FM_RETRY:		return "retry";
	case FM_FATAL:		return "fatal";
	case FM_CONFLICT:	return "conflict";
	}
	return "unknown";
}

#endif
