/* reload_http.c: the HTTP reload back end: an empty POST to every configured
 * URL (Prometheus's /-/reload), with each answer sorted into a kind for the
 * reloader: loaded, refused (Prometheus cannot load the rules), retry or
 * give up. The status codes of Prometheus's answers stay in this file; so
 * does the verify step for a server that answers before it has reloaded
 * (vmalert), which reads the outcome from its /metrics. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "clock.h"
#include "httpbody.h"
#include "log.h"
#include "reloader.h"
#include "url.h"
#include "worker.h"

#define RELOAD_HTTP_CONNECT_MS	2000
#define RELOAD_HTTP_BODY_MAX	200

/* What the server behind a reload URL is, learnt from its /metrics at the
 * first reload. */
enum reload_http_kind {
	RELOAD_HTTP_UNKNOWN,	/* not asked yet, or it did not answer */
	RELOAD_HTTP_SYNC,	/* its answer is the outcome (Prometheus) */
	RELOAD_HTTP_VMALERT,	/* 200 at once, the outcome in /metrics later */
};

struct reload_http {
	struct url *urls;	/* parsed (url.h): text to use, shown to say */
	size_t	  n;
	/* --reload-auth-file: one of them, wiped when freed. */
	char	 *userpwd;	/* user:password for basic auth */
	char	 *bearer;	/* a bearer token */
	/* Per URL: <base>/metrics when the URL ends in /-/reload (else text
	 * NULL: never verified) and what answers there. Used by the
	 * reloader's thread only, so no lock. */
	struct url *metrics;
	enum reload_http_kind *kinds;
	long	 *took;		/* ms the last verified reload took, 0: none */
	int	  cancelled;	/* atomic: stop waiting, flowmon stops */
	/* --reload-timeout: how long one reload may take. Prometheus answers
	 * /-/reload only once the new rules are loaded (seconds to minutes
	 * for thousands of rule files); vmalert reports its end in /metrics
	 * (reload_http_verify). */
	long	  timeout_ms;
	/* No thread of its own: cancelled (flowmon stops) ends its waits
	 * and transfers. */
	struct worker w;
};

/* The head of an answer's body, enough to say why a reload was refused. */
struct reload_http_body {
	char	 buf[RELOAD_HTTP_BODY_MAX + 1];
	size_t	 len;
	int	 truncated;
};

static int	 reload_http_metrics_url(const struct url *u,
		    struct url *out);
static enum fm_err reload_http_one(struct reload_http *h, size_t i,
		    char err[ERR_MAX]);

static void
reload_http_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
reload_http_free(void *arg)
{
	struct reload_http *h = arg;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; h->metrics != NULL && i < h->n; i++)
		url_release(&h->metrics[i]);
	url_list_free(h->urls, h->n);
	reload_http_wipe(h->userpwd);
	reload_http_wipe(h->bearer);
	free(h->metrics);
	free(h->kinds);
	free(h->took);
	worker_release(&h->w);
	free(h);
}

void *
reload_http_new(const char *urls, long timeout_ms, char err[ERR_MAX])
{
	struct reload_http *h = NULL;
	size_t i;

	if (timeout_ms <= 0) {
		snprintf(err, ERR_MAX, "reload timeout must be positive");
		return NULL;
	}
	if (urls == NULL || urls[strspn(urls, " \t")] == '\0') {
		snprintf(err, ERR_MAX, "reload URL list is empty");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, ERR_MAX, "cannot allocate the reload URL list");
		return NULL;
	}
	if (worker_init(&h->w, err) == -1) {
		free(h);
		return NULL;
	}
	h->timeout_ms = timeout_ms;
	if (url_parse_list(urls, URL_HTTP, "reload URL", &h->urls, &h->n,
	    err) == -1)
		goto fail;
	if ((h->metrics = calloc(h->n, sizeof(*h->metrics))) == NULL ||
	    (h->kinds = calloc(h->n, sizeof(*h->kinds))) == NULL ||
	    (h->took = calloc(h->n, sizeof(*h->took))) == NULL) {
		snprintf(err, ERR_MAX, "cannot allocate the reload URL list");
		goto fail;
	}
	for (i = 0; i < h->n; i++) {
		if (reload_http_metrics_url(&h->urls[i],
		    &h->metrics[i]) == -1) {
			snprintf(err, ERR_MAX,
			    "cannot allocate the reload URL list");
			goto fail;
		}
	}
	return h;

fail:
	reload_http_free(h);
	return NULL;
}

static size_t
reload_http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reload_http_body *b = arg;
	size_t n = size * nmemb, room = RELOAD_HTTP_BODY_MAX - b->len;

	if (n > room) {
		b->truncated = 1;
		n = room;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	/* Swallow the rest: a short count would make curl fail the transfer
	 * and hide the status. */
	return size * nmemb;
}

/* The body as one trimmed line, cut at a UTF-8 character boundary so the
 * message can go into JSON as is. */
static const char *
reload_http_body_text(struct reload_http_body *b)
{
	size_t i, len = b->len, lead, need;
	char *s = b->buf;

	if (b->truncated && len > 0) {
		for (lead = len; lead > 0 &&
		    ((unsigned char)s[lead - 1] & 0xc0) == 0x80; lead--)
			;
		if (lead > 0 && (unsigned char)s[lead - 1] >= 0xc0) {
			need = (unsigned char)s[lead - 1] >= 0xf0 ? 4 :
			    (unsigned char)s[lead - 1] >= 0xe0 ? 3 : 2;
			if (len - (lead - 1) < need)
				len = lead - 1;
		}
	}
	s[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			s[i] = ' ';
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	while (*s == ' ')
		s++;
	return s;
}

/* curl's reason, lower case like every other flowmon message. */
static void
reload_http_reason(CURL *c, CURLcode cc, const char *cerr, char *out,
    size_t size)
{
	long oserr = 0;
	char buf[256];

	if (cc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK &&
	    oserr != 0)
		snprintf(out, size, "%s",
		    strerror_r((int)oserr, buf, sizeof(buf)));
	else if (cerr[0] != '\0')
		snprintf(out, size, "%s", cerr);
	else
		snprintf(out, size, "%s", curl_easy_strerror(cc));
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

/* A curl handle with what every request of the back end shares: no
 * signals, the connect and total timeouts, the cancel check, the user
 * agent and the --reload-auth-file credentials. NULL on ENOMEM. */
static CURL *
reload_http_easy(struct reload_http *h, char cerr[CURL_ERROR_SIZE],
    long timeout_ms)
{
	CURL *c;

	if ((c = httpbody_easy(NULL, RELOAD_HTTP_CONNECT_MS, timeout_ms,
	    worker_stop_flag(&h->w), cerr)) == NULL)
		return NULL;
	httpbody_credentials(c, h->userpwd, h->bearer);
	return c;
}

/* One POST to raw: FM_OK on 2xx, FM_REFUSED on 500 (Prometheus failed to
 * load the configuration), FM_RETRY when retrying may help, FM_FATAL when
 * not. err shows the URL redacted: it becomes reload.lastError in the
 * API. */
static enum fm_err
reload_http_post(struct reload_http *h, const struct url *u,
    char err[ERR_MAX])
{
	struct reload_http_body body;
	char cerr[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 64];
	const char *text, *url = u->shown;
	CURLcode cc;
	CURL *c;
	curl_off_t connected = 0;
	long status = 0;

	memset(&body, 0, sizeof(body));
	/* A fresh handle per attempt: no connection kept to a Prometheus that
	 * may have restarted since, and no state shared between threads. */
	if ((c = reload_http_easy(h, cerr, h->timeout_ms)) == NULL) {
		snprintf(err, ERR_MAX, "POST %s: cannot create a curl handle",
		    url);
		return FM_RETRY;
	}
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reload_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if ((cc = curl_easy_setopt(c, CURLOPT_URL, u->text)) == CURLE_OK)
		cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		reload_http_reason(c, cc, cerr, why, sizeof(why));
	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
	curl_easy_cleanup(c);

	if (cc == CURLE_OPERATION_TIMEDOUT && connected > 0) {
		/* Prometheus may still be loading many rule files. */
		snprintf(err, ERR_MAX, "POST %.200s: no answer within "
		    "--reload-timeout (%lds): %.200s", url, h->timeout_ms / 1000,
		    why);
		return FM_RETRY;
	}
	if (cc != CURLE_OK) {
		snprintf(err, ERR_MAX, "POST %.200s: %.300s", url, why);
		/* Refused, reset, timed out, unresolved: Prometheus may be
		 * starting or moving; only a URL curl cannot use is final. */
		return cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL ? FM_FATAL : FM_RETRY;
	}
	if (status >= 200 && status <= 299)
		return FM_OK;
	text = reload_http_body_text(&body);
	snprintf(err, ERR_MAX, "POST %s answered %ld%s%s", url, status,
	    *text ? ": " : "", text);
	/* 500 is Prometheus's answer to a configuration it cannot load (a
	 * rule file it refuses): retried, and worth a diagnosis. Other 5xx
	 * (busy, a proxy in between) may pass. 4xx (403 without
	 * --web.enable-lifecycle, 404 for a wrong path) stays until someone
	 * changes the setup. */
	if (status == 500)
		return FM_REFUSED;
	if (status > 500 || status == 408 || status == 429)
		return FM_RETRY;
	return FM_FATAL;
}

/* Of two outcomes, the one most worth acting on: a refusal (a diagnosis
 * may fix it), then a retry, then a final failure. */
static enum fm_err
reload_http_worst(enum fm_err a, enum fm_err b)
{
	static const enum fm_err order[] = { FM_REFUSED, FM_RETRY, FM_FATAL };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return FM_OK;
}

/* Posts to every URL even after a failure, so the healthy replicas get
 * their reload; the result is the one most worth acting on. */
static enum fm_err
reload_http_reload(void *arg, char err[ERR_MAX])
{
	struct reload_http *h = arg;
	char one[ERR_MAX];
	size_t i, off = 0;
	enum fm_err rc = FM_OK, r;

	err[0] = '\0';
	for (i = 0; i < h->n; i++) {
		if ((r = reload_http_one(h, i, one)) == FM_OK)
			continue;
		/* A retry heals the replica that failed for a reason that
		 * passes; the others are posted again, harmlessly. */
		rc = reload_http_worst(rc, r);
		if (off < ERR_MAX - 1)
			off += (size_t)snprintf(err + off, ERR_MAX - off,
			    "%s%s", off ? "; " : "", one);
	}
	return rc;
}

/*
 * The verify step. vmalert answers POST /-/reload with 200 at once and
 * reloads afterwards, on its own goroutine: a rule file it cannot parse
 * shows only in its /metrics, where
 *   vmalert_config_last_reload_total          +1 when a reload starts
 *   vmalert_config_last_reload_errors_total   +1 when one fails
 *   vmalert_config_last_reload_successful     0 after a failure, 1 after a
 *                                             success (also when nothing
 *                                             changed)
 *   vmalert_config_last_reload_success_timestamp_seconds
 *                                             set (in seconds) when changed
 *                                             rules were applied
 * and the page lags the state by up to a second. So the counters are read
 * before the POST and polled after it until the reload is over: an error
 * counted means the rules were refused (FM_REFUSED, the outcome Prometheus
 * gives as a 500); a new success time, or success after a failure, means
 * applied.
 * Unchanged rules show neither: then a second POST serves as a barrier,
 * as vmalert reloads one at a time: once the second has started, the
 * first is over, and its error would be counted. This assumes flowmon is
 * the only one reloading that vmalert.
 */

#define RELOAD_HTTP_POLL_MS	250
#define RELOAD_HTTP_SCRAPE_MS	10000
#define RELOAD_HTTP_LINE_MAX	256

enum {
	VM_TOTAL = 1 << 0, VM_ERRORS = 1 << 1, VM_OK = 1 << 2, VM_TS = 1 << 3,
	VM_ALL = VM_TOTAL | VM_ERRORS | VM_OK | VM_TS,
	PROM_OK = 1 << 4, PROM_TS = 1 << 5, PROM_ALL = PROM_OK | PROM_TS
};

/* The reload series of vmalert, or of Prometheus (reload_signal() below),
 * read from one answer of /metrics. */
struct reload_http_vm {
	double	 total, errors, ok, ts;	/* vmalert's */
	double	 pok, pts;		/* Prometheus's */
	unsigned seen;		/* VM_* and PROM_* read */
	/* The line being read; a longer line (not ours) is skipped. */
	char	 line[RELOAD_HTTP_LINE_MAX];
	size_t	 len;
	int	 skip;
};

static const struct {
	const char	*name;
	unsigned	 bit;
} reload_http_vm_series[] = {
	{ "vmalert_config_last_reload_total", VM_TOTAL },
	{ "vmalert_config_last_reload_errors_total", VM_ERRORS },
	{ "vmalert_config_last_reload_successful", VM_OK },
	{ "vmalert_config_last_reload_success_timestamp_seconds", VM_TS },
	{ "prometheus_config_last_reload_successful", PROM_OK },
	{ "prometheus_config_last_reload_success_timestamp_seconds",
	    PROM_TS },
};

/* Every series of vmalert's, or of Prometheus's, was read. */
static int
reload_http_vm_done(const struct reload_http_vm *v)
{
	return (v->seen & VM_ALL) == VM_ALL || (v->seen & PROM_ALL) == PROM_ALL;
}

/* <base>/metrics for <base>/-/reload (also under a path prefix); NULL in
 * *out for any other URL: it is posted, never verified. -1 on ENOMEM. */
static int
reload_http_metrics_url(const struct url *u, struct url *out)
{
	static const char suffix[] = "/-/reload";
	size_t len = strlen(u->text), sl = sizeof(suffix) - 1;
	char *text = NULL, err[ERR_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (u->query != NULL || u->fragment != NULL || len <= sl ||
	    strcmp(u->text + len - sl, suffix) != 0)
		return 0;
	if (asprintf(&text, "%.*s/metrics", (int)(len - sl), u->text) < 0)
		return -1;
	rc = url_parse(out, text, URL_HTTP, "metrics URL", err);
	explicit_bzero(text, strlen(text));
	free(text);
	/* Made of a URL that parsed: only memory can fail here. */
	return rc;
}

static void
reload_http_cancel(void *arg)
{
	struct reload_http *h = arg;

	if (h != NULL)
		worker_cancel(&h->w);
}

/* Sleeps ms unless cancelled meanwhile: 0, or -1 once cancelled. */
static int
reload_http_sleep(struct reload_http *h, long ms)
{
	return worker_sleep(&h->w, ms);
}

/* One line of the exposition format: "name[{labels}] value [time]". */
static void
reload_http_vm_line(struct reload_http_vm *v)
{
	const char *name = v->line, *val;
	char *end;
	size_t i, nl;
	double d;

	v->line[v->len] = '\0';
	nl = strcspn(name, " {");
	if (name[nl] == '{' && (val = strchr(name + nl, '}')) != NULL)
		val++;
	else
		val = name + nl;
	d = strtod(val, &end);
	if (end == val)
		return;
	for (i = 0; i < sizeof(reload_http_vm_series) /
	    sizeof(reload_http_vm_series[0]); i++) {
		if (strlen(reload_http_vm_series[i].name) != nl ||
		    strncmp(name, reload_http_vm_series[i].name, nl) != 0)
			continue;
		switch (reload_http_vm_series[i].bit) {
		case VM_TOTAL:
			v->total = d;
			break;
		case VM_ERRORS:
			v->errors = d;
			break;
		case VM_OK:
			v->ok = d;
			break;
		case VM_TS:
			v->ts = d;
			break;
		case PROM_OK:
			v->pok = d;
			break;
		default:
			v->pts = d;
			break;
		}
		v->seen |= reload_http_vm_series[i].bit;
	}
}

/* curl's write callback for /metrics: lines as they come, and an early end
 * (a short count) once vmalert's four series, or Prometheus's two, were
 * seen: a vmalert with 10,000 groups serves megabytes after them. */
static size_t
reload_http_vm_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reload_http_vm *v = arg;
	size_t n = size * nmemb, i;

	for (i = 0; i < n; i++) {
		if (data[i] == '\n') {
			if (!v->skip)
				reload_http_vm_line(v);
			v->len = 0;
			v->skip = 0;
			if (reload_http_vm_done(v))
				return 0;
		} else if (v->len + 1 < sizeof(v->line))
			v->line[v->len++] = data[i];
		else
			v->skip = 1;
	}
	return n;
}

/* GET url (a /metrics) into v. 0 when it answered 2xx (v says what was
 * found), 1 on no answer, -1 on another status; err says which. */
static int
reload_http_vm_read(struct reload_http *h, const struct url *u,
    struct reload_http_vm *v, char err[ERR_MAX])
{
	char cerr[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 64];
	const char *url = u->shown;
	CURLcode cc;
	CURL *c;
	long status = 0;

	memset(v, 0, sizeof(*v));
	if ((c = reload_http_easy(h, cerr, RELOAD_HTTP_SCRAPE_MS)) == NULL) {
		snprintf(err, ERR_MAX, "GET %s: cannot create a curl handle",
		    url);
		return 1;
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reload_http_vm_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, v);
	if ((cc = curl_easy_setopt(c, CURLOPT_URL, u->text)) == CURLE_OK)
		cc = curl_easy_perform(c);
	/* Our own early end is no failure. */
	if (cc == CURLE_WRITE_ERROR && reload_http_vm_done(v))
		cc = CURLE_OK;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		reload_http_reason(c, cc, cerr, why, sizeof(why));
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		snprintf(err, ERR_MAX, "GET %.200s: %.250s", url, why);
		return 1;
	}
	if (status < 200 || status > 299) {
		snprintf(err, ERR_MAX, "GET %s answered %ld", url, status);
		return -1;
	}
	return 0;
}

/* Before a verified POST: vmalert stamps a success with a whole second of
 * its clock, read through a cache that may lag a second. A reload applied
 * within two seconds of the previous one could show the same stamp, so
 * such a POST waits for the clock to move on (at most 3 s, in case the
 * clocks differ). -1 when cancelled. */
static int
reload_http_after_stamp(struct reload_http *h, double stamp)
{
	double wait = stamp + 2 - (double)clock_wall_ms() / 1e3;

	if (wait <= 0 || wait > 3)
		return 0;
	return reload_http_sleep(h, (long)(wait * 1000) + 1);
}

/* After vmalert answered the POST of URL i (sent at posted, monotonic ms)
 * with 200: polls its counters until the reload that POST started is over.
 * FM_OK applied; FM_REFUSED when vmalert could not load the rules (as a
 * Prometheus 500); FM_RETRY when the end was not seen in time, or flowmon
 * stops. */
static enum fm_err
reload_http_verify(struct reload_http *h, size_t i, int64_t posted,
    const struct reload_http_vm *before, char err[ERR_MAX])
{
	const char *url = h->urls[i].shown, *murl = h->metrics[i].shown;
	struct reload_http_vm now;
	char why[ERR_MAX];
	int64_t deadline = posted + h->timeout_ms, t;
	long grace;
	enum fm_err k;
	int barrier = 0;

	/* Unchanged rules give no sign of the end but the next reload's
	 * start: the barrier is sent once the reload took longer than twice
	 * the last one did (a slow parse of changed rules shows its end
	 * meanwhile, and needs none). */
	grace = h->took[i] > 0 ? 2 * h->took[i] + 1000 : 2000;
	why[0] = '\0';
	for (;;) {
		if (reload_http_sleep(h, RELOAD_HTTP_POLL_MS) == -1) {
			snprintf(err, ERR_MAX, "POST %s: stopped while waiting "
			    "for vmalert's reload", url);
			return FM_RETRY;
		}
		if ((t = clock_ms()) > deadline)
			break;
		if (reload_http_vm_read(h, &h->metrics[i], &now, why) != 0)
			continue;	/* restarting? ask until the deadline */
		if ((now.seen & VM_ALL) != VM_ALL) {
			snprintf(why, sizeof(why), "%s no longer shows "
			    "vmalert's reload counters", murl);
			continue;
		}
		if (now.total <= before->total)
			continue;	/* not started yet */
		if (now.errors > before->errors) {
			h->took[i] = (long)(t - posted);
			snprintf(err, ERR_MAX, "POST %s: vmalert refused the "
			    "new rules: it answered 200, then "
			    "vmalert_config_last_reload_errors_total rose from "
			    "%.0f to %.0f (vmalert's log names the file)", url,
			    before->errors, now.errors);
			return FM_REFUSED;
		}
		if (now.ts != before->ts || (before->ok == 0 && now.ok == 1) ||
		    (barrier && now.total >= before->total + 2)) {
			h->took[i] = (long)(t - posted);
			return FM_OK;
		}
		if (!barrier && t - posted >= grace) {
			if ((k = reload_http_post(h, &h->urls[i], err)) !=
			    FM_OK)
				return k;
			barrier = 1;
		}
	}
	/* why names the URL it could not read: a part of it is enough. */
	snprintf(err, ERR_MAX, "POST %s answered 200 but vmalert did not "
	    "report the reload over within --reload-timeout (%lds)%s%.200s",
	    url, h->timeout_ms / 1000, why[0] ? ": " : "", why);
	return FM_RETRY;
}

/* One URL: learn what answers there (first time only), read vmalert's
 * counters, POST, verify. A server that is not vmalert gets the plain POST
 * it always got. */
static enum fm_err
reload_http_one(struct reload_http *h, size_t i, char err[ERR_MAX])
{
	struct reload_http_vm before;
	char why[ERR_MAX];
	enum fm_err k;
	int64_t posted;
	int r, verify = 0;

	if (h->metrics[i].text != NULL && h->kinds[i] != RELOAD_HTTP_SYNC) {
		r = reload_http_vm_read(h, &h->metrics[i], &before, why);
		if (r == 0 && (before.seen & VM_ALL) == VM_ALL) {
			if (h->kinds[i] != RELOAD_HTTP_VMALERT)
				log_info("reload URL is vmalert: each reload "
				    "is verified in its /metrics", "url",
				    h->urls[i].shown);
			h->kinds[i] = RELOAD_HTTP_VMALERT;
			verify = 1;
		} else if (h->kinds[i] == RELOAD_HTTP_VMALERT) {
			/* Without the counters before, the outcome after
			 * cannot be told: try again later. */
			if (r == 0)
				snprintf(err, ERR_MAX, "GET %s: vmalert's "
				    "reload counters are missing",
				    h->metrics[i].shown);
			else
				snprintf(err, ERR_MAX, "%s", why);
			return FM_RETRY;
		} else if (r == 0 || r == -1) {
			/* It answered, and not as vmalert: its answer to
			 * the POST is the outcome, as it always was. */
			h->kinds[i] = RELOAD_HTTP_SYNC;
		}
	}
	if (verify && reload_http_after_stamp(h, before.ts) == -1) {
		snprintf(err, ERR_MAX, "POST %s: stopped", h->urls[i].shown);
		return FM_RETRY;
	}
	posted = clock_ms();
	if ((k = reload_http_post(h, &h->urls[i], err)) != FM_OK || !verify)
		return k;
	return reload_http_verify(h, i, posted, &before, err);
}

/*
 * Reloads by signal. Prometheus started without --web.enable-lifecycle
 * reloads on SIGHUP (supervisor.c sends it to its child) and says nothing
 * to the sender; its own /metrics tells how the reload went:
 *   prometheus_config_last_reload_successful       1 after a success, 0
 *                                                   after a failure (0
 *                                                   too before the first
 *                                                   load at start)
 *   prometheus_config_last_reload_success_timestamp_seconds
 *                                                   set, to the
 *                                                   microsecond, when a
 *                                                   load succeeded
 * So both are read before the signal, and polled after it:
 *   - a success time past the moment the signal was sent (wall clock,
 *     to the microsecond, taken just before it, so a reload that ends
 *     later is one that began after it) is a success: a reload that read
 *     rules/ after the signal, or a child started since, which read all
 *     of it (a step of the wall clock back in between delays the verdict
 *     to --reload-timeout, a retry);
 *   - the gauge fallen from 1 to 0, the success time unchanged, is a
 *     refusal (FM_REFUSED, as Prometheus's 500 for a POST): no reload but
 *     ours ran since (flowmon is the one reloading its child). A child
 *     started since shows 0 with another success time (0) until its load,
 *     so it is not taken for one.
 * The gauge already 0 before the signal (the last reload failed too,
 * while the diagnosis tests, or Prometheus stays refused) leaves a
 * refusal with no sign at all. The choice: a success is awaited for a
 * grace time, three times the longest reload this Prometheus was seen
 * to take plus a second (2 s at least, 10 s before any was seen, never
 * past --reload-timeout), and its absence then is a refusal. Waiting out
 * --reload-timeout (5 minutes) instead would make every failing test of
 * a diagnosis cost that long; calling it a retry would leave the
 * diagnosis never run. A reload slower than the grace is taken for
 * refused: the diagnosis then reloads again (each of its test reloads is
 * verified afresh), and a later success moves every file it read to
 * loaded anyway; the cost is a rejection of a good file only if such a
 * slow reload also lands on the last step of a search by halves. What
 * the log says of the reload is never read: its wording and format
 * (--log.format) vary.
 */

#define RELOAD_SIGNAL_GRACE_MIN_MS	2000
#define RELOAD_SIGNAL_GRACE_NEW_MS	10000

void *
reload_signal_new(const char *base, long timeout_ms, char err[ERR_MAX])
{
	char *url;
	void *h;

	if (asprintf(&url, "%s/-/reload", base) < 0) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	/* Never posted to: its /metrics is the one read. */
	h = reload_http_new(url, timeout_ms, err);
	free(url);
	return h;
}

/* After the signal, sent at sent (wall clock, seconds) and posted
 * (monotonic ms): polls Prometheus's gauges until they tell. */
static enum fm_err
reload_signal_verify(struct reload_http *h, int64_t posted, double sent,
    const struct reload_http_vm *before, char err[ERR_MAX])
{
	const char *murl = h->metrics[0].shown;
	struct reload_http_vm now;
	char why[ERR_MAX];
	int64_t deadline = posted + h->timeout_ms, t;
	long grace = h->took[0] > 0 ? 3 * h->took[0] + 1000 :
	    RELOAD_SIGNAL_GRACE_NEW_MS;

	if (grace < RELOAD_SIGNAL_GRACE_MIN_MS)
		grace = RELOAD_SIGNAL_GRACE_MIN_MS;
	if (grace > h->timeout_ms)
		grace = h->timeout_ms;
	why[0] = '\0';
	for (t = posted; t < deadline;) {
		if (reload_http_sleep(h, RELOAD_HTTP_POLL_MS / 2) == -1) {
			snprintf(err, ERR_MAX, "stopped while waiting for "
			    "Prometheus's reload");
			return FM_RETRY;
		}
		t = clock_ms();
		if (reload_http_vm_read(h, &h->metrics[0], &now, why) != 0 ||
		    (now.seen & PROM_ALL) != PROM_ALL)
			continue;	/* restarting? ask until the deadline */
		if (now.pts > sent) {
			h->took[0] = (long)((now.pts - sent) * 1000) + 1;
			return FM_OK;
		}
		if (before->pok == 1 && now.pok == 0 &&
		    now.pts == before->pts) {
			h->took[0] = (long)(t - posted);
			snprintf(err, ERR_MAX, "Prometheus refused the reload: "
			    "prometheus_config_last_reload_successful fell to "
			    "0 in %s (Prometheus's log names the file)", murl);
			return FM_REFUSED;
		}
		if (before->pok == 0 && t - posted >= grace) {
			snprintf(err, ERR_MAX, "Prometheus refused the reload: "
			    "its last reload had failed and none succeeded "
			    "within %ldms of the signal (%s; Prometheus's log "
			    "names the file)", grace, murl);
			return FM_REFUSED;
		}
	}
	snprintf(err, ERR_MAX, "Prometheus did not report the reload over "
	    "within --reload-timeout (%lds)%s%.200s", h->timeout_ms / 1000,
	    why[0] ? ": " : "", why);
	return FM_RETRY;
}

enum fm_err
reload_signal(void *arg, reload_send_fn send, void *ctx, char err[ERR_MAX])
{
	struct reload_http *h = arg;
	struct reload_http_vm before;
	char why[ERR_MAX];
	enum fm_err k;
	int64_t posted;
	double sent;
	int r;

	if ((r = reload_http_vm_read(h, &h->metrics[0], &before, why)) == 1) {
		snprintf(err, ERR_MAX, "%s", why);
		return FM_RETRY;
	}
	if (r == -1 || (before.seen & PROM_ALL) != PROM_ALL) {
		/* Behind authentication, or not Prometheus: sent as it
		 * always was, unverified. */
		if (h->kinds[0] != RELOAD_HTTP_SYNC)
			log_warn("cannot read Prometheus's reload gauges: "
			    "reloads by signal are not verified", "url",
			    h->metrics[0].shown, "error", r == -1 ? why :
			    "no prometheus_config_last_reload_* series");
		h->kinds[0] = RELOAD_HTTP_SYNC;
		return send(ctx, err);
	}
	h->kinds[0] = RELOAD_HTTP_UNKNOWN;
	/* Just before the signal, to the microsecond, as Prometheus's time
	 * (a small reload takes a few hundred). */
	sent = (double)clock_wall_us() / 1e6;
	posted = clock_ms();
	if ((k = send(ctx, err)) != FM_OK)
		return k;
	return reload_signal_verify(h, posted, sent, &before, err);
}

const struct reload_backend reload_http_backend = {
	.name = "http",
	.reload = reload_http_reload,
	.free = reload_http_free,
	.cancel = reload_http_cancel,
};

int
reload_http_set_auth(void *arg, const char *file, char err[ERR_MAX])
{
	struct reload_http *h = arg;
	char *userpwd, *bearer;

	if (auth_client_read(file, "--reload-auth-file", &userpwd, &bearer,
	    err) == -1)
		return -1;
	reload_http_wipe(h->userpwd);
	reload_http_wipe(h->bearer);
	h->userpwd = userpwd;
	h->bearer = bearer;
	return 0;
}
