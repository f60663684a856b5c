/* promapi.c: the Prometheus API client behind the explain API and the
 * status page. One snapshot (promstate.h) is cached; the thread that finds
 * it stale fetches the next one without any lock held, while other
 * threads go on with the stale one (or, when there is none yet, wait for
 * it). A fetch is two GETs per server, each bounded in time
 * (PROMAPI_TIMEOUT_MS) and size (BOUND_PROMETHEUS_ANSWER_MAX). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "bounds.h"
#include "clock.h"
#include "httpbody.h"
#include "log.h"
#include "promapi.h"
#include "strv.h"
#include "url.h"

struct promapi {
	char			**urls;		/* API bases, no trailing '/' */
	size_t			 nurls;
	char			*shown;		/* the list, passwords hidden */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct promstate	*cached;	/* NULL: none yet */
	int			 fetching;
};

/* out (malloc'd) with s appended; NULL (out freed) on ENOMEM. */
static char *
api_append(char *out, const char *s)
{
	char *n = NULL;

	if (asprintf(&n, "%s%s", out, s) < 0)
		n = NULL;
	free(out);
	return n;
}

/* s without a trailing "/-/reload" and '/'s, a path "" for none. */
static void
trim_path(char *s)
{
	size_t n = strlen(s);

	if (n >= 9 && strcmp(s + n - 9, "/-/reload") == 0)
		s[n -= 9] = '\0';
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* One URL, parsed by url.c (libcurl's URL API): http or https, a host,
 * the query and fragment dropped, the path trimmed. malloc'd, or NULL
 * with err naming what (the URL redacted). */
static char *
api_base(const char *item, const char *what, char err[ERR_MAX])
{
	struct url u;
	char *out = NULL;

	if (url_parse(&u, item, URL_HTTP, what, err) == -1)
		return NULL;
	/* ".../-/reload/": the slash, then the reload path. */
	trim_path(u.path);
	trim_path(u.path);
	if (asprintf(&out, "%s://%s%s%s%s%s%s%s", u.scheme, u.user ? u.user :
	    "", u.password ? ":" : "", u.password ? u.password : "",
	    u.user || u.password ? "@" : "", u.host, u.port ? ":" : "",
	    u.port ? u.port : "") < 0 || (out != NULL && u.path[0] != '\0' &&
	    (out = api_append(out, u.path)) == NULL)) {
		out = NULL;
		snprintf(err, ERR_MAX, "out of memory");
	}
	url_release(&u);
	return out;
}

char *
promapi_url_from_reload(const char *reload_urls, char err[ERR_MAX])
{
	size_t n = strcspn(reload_urls, ",");
	char *first, *out;

	if ((first = strndup(reload_urls, n)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	out = api_base(first, "--reload-url", err);
	free(first);
	return out;
}

void
promapi_free(struct promapi *p)
{
	if (p == NULL)
		return;
	strv_free(p->urls, p->nurls);
	free(p->shown);
	promstate_put(p->cached);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

struct promapi *
promapi_new(const char *urls, char err[ERR_MAX])
{
	struct promapi *p;
	char *copy = NULL, *tok, *save = NULL, *base, shown[ERR_MAX];

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (copy = strdup(urls)) == NULL) {
		free(p);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((base = api_base(tok, "--prometheus-url", err)) == NULL)
			goto fail;
		if (strv_push(&p->urls, &p->nurls, base) == -1) {
			free(base);
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
		free(base);
	}
	if (p->nurls == 0) {
		snprintf(err, ERR_MAX, "--prometheus-url: no URL given");
		goto fail;
	}
	if ((p->shown = strdup(url_redact_list(urls, shown,
	    sizeof(shown)))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	free(copy);
	return p;
fail:
	free(copy);
	promapi_free(p);
	return NULL;
}

const char *
promapi_shown(const struct promapi *p)
{
	return p->shown;
}

typedef int (*promapi_add_fn)(struct promstate *, const char *, size_t,
    char[ERR_MAX]);

/* GETs url into b: 0, or -1 with err (the URL's password hidden). */
static int
get(const char *url, struct httpbody *b, long *status, char err[ERR_MAX])
{
	char shown[ERR_MAX / 2], why[CURL_ERROR_SIZE];
	CURLcode cc;
	CURL *c;

	url_redact(url, shown, sizeof(shown));
	memset(b, 0, sizeof(*b));
	b->max = BOUND_PROMETHEUS_ANSWER_MAX;
	if ((c = httpbody_easy("http,https", PROMAPI_CONNECT_MS,
	    PROMAPI_TIMEOUT_MS, NULL, NULL)) == NULL) {
		snprintf(err, ERR_MAX, "GET %s: cannot create a curl handle",
		    shown);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	cc = httpbody_perform(c, b, status);
	curl_easy_cleanup(c);
	if (cc == CURLE_OK && buf_add(&b->body, "", 0) == 0)
		return 0;
	/* curl's reason, lower case like flowmon's own. */
	snprintf(why, sizeof(why), "%s", b->too_big ? "answer larger than "
	    "the bound of 64 MiB" : cc == CURLE_OK ? "out of memory" :
	    curl_easy_strerror(cc));
	if (why[0] >= 'A' && why[0] <= 'Z')
		why[0] = (char)(why[0] - 'A' + 'a');
	snprintf(err, ERR_MAX, "GET %.250s: %.250s", shown, why);
	buf_release(&b->body);
	return -1;
}

/* Asks every server for path and adds each answer add() takes: the
 * targets of vmagent cluster members add up, and a vmalert's 404 for
 * targets is no error when another server answers them. 1 when one
 * answered, else 0 with the reasons appended to ps->error; *answered set
 * when any server answered at all. */
static int
ask(struct promapi *p, struct promstate *ps, const char *path,
    promapi_add_fn add, int *answered)
{
	struct httpbody b;
	char url[2048], err[ERR_MAX], why[ERR_MAX], shown[ERR_MAX / 2];
	size_t i, used = 0;
	long status;
	int rc, took = 0;

	why[0] = '\0';
	for (i = 0; i < p->nurls; i++) {
		snprintf(url, sizeof(url), "%s%s", p->urls[i], path);
		if (get(url, &b, &status, err) == 0) {
			*answered = 1;
			/* An API error is JSON too: let add() say what. */
			rc = add(ps, b.body.p, b.body.len, err);
			if (rc == -1 && status != 200) {
				url_redact(url, shown, sizeof(shown));
				snprintf(err, ERR_MAX, "GET %s answered %ld",
				    shown, status);
			}
			buf_release(&b.body);
			if (rc == 0) {
				took = 1;
				continue;
			}
		}
		if (used + 2 < sizeof(why))
			snprintf(why + used, sizeof(why) - used, "%s%.*s",
			    used ? "; " : "", (int)(sizeof(why) - used - 3),
			    err);
		used = strlen(why);
	}
	if (!took) {
		used = strlen(ps->error);
		snprintf(ps->error + used, sizeof(ps->error) - used, "%s%s",
		    used ? "; " : "", why);
	}
	return took;
}

/* A fresh snapshot; NULL only on ENOMEM. */
static struct promstate *
fetch(struct promapi *p)
{
	struct promstate *ps;
	int answered = 0;

	if ((ps = promstate_new()) == NULL)
		return NULL;
	(void)ask(p, ps, "/api/v1/targets?state=active",
	    promstate_add_targets, &answered);
	(void)ask(p, ps, "/api/v1/rules?type=alert", promstate_add_rules,
	    &answered);
	ps->reachable = answered;
	promstate_finish(ps);
	ps->fetched_ms = clock_ms();
	return ps;
}

struct promstate *
promapi_state(struct promapi *p)
{
	struct promstate *ps, *old;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		ps = p->cached;
		if (ps != NULL && clock_ms() - ps->fetched_ms <
		    PROMAPI_TTL_MS)
			goto out;	/* fresh */
		if (!p->fetching)
			break;
		if (ps != NULL)
			goto out;	/* another thread fetches: stale one */
		pthread_cond_wait(&p->cond, &p->lock);
	}
	p->fetching = 1;
	pthread_mutex_unlock(&p->lock);
	ps = fetch(p);
	pthread_mutex_lock(&p->lock);
	p->fetching = 0;
	pthread_cond_broadcast(&p->cond);
	if (ps != NULL) {
		old = p->cached;
		p->cached = ps;
		promstate_put(old);
	} else
		ps = p->cached;	/* out of memory: the old one, if any */
out:
	ps = promstate_ref(ps);
	pthread_mutex_unlock(&p->lock);
	return ps;
}
