/* promapi.c: the Prometheus API client behind the explain API and the
 * status page. One snapshot (promstate.h) is cached; the thread that finds
 * it stale fetches the next one without any lock held, while other
 * threads go on with the stale one (or, when there is none yet, wait for
 * it).
 *
 * A fetch asks every server for its targets and its rules at once, on one
 * libcurl multi handle, each bounded in size (BOUND_PROMETHEUS_ANSWER_MAX)
 * and all of them together in time (PROMAPI_TIMEOUT_MS): a Prometheus
 * that accepts connections and never answers costs one timeout, not one
 * per question. An answer counts only when it is a 2xx that parses: a
 * 401 from a Prometheus behind basic auth is said, never taken for an
 * answer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "auth.h"
#include "bounds.h"
#include "clock.h"
#include "httpbody.h"
#include "promapi.h"
#include "url.h"

/* What each server is asked, in this order. */
static const struct {
	const char	*path;
	int		(*add)(struct promstate *, const char *, size_t,
			    char[ERR_MAX]);
} questions[] = {
	{ "/api/v1/targets?state=active", promstate_add_targets },
	{ "/api/v1/rules?type=alert", promstate_add_rules },
};
#define NQUESTIONS	(sizeof(questions) / sizeof(*questions))

struct server {
	char		*url[NQUESTIONS];	/* with its credentials */
	int		 creds;		/* send the reload credentials */
};

struct promapi {
	struct server		*servers;
	size_t			 nservers;
	char			*shown;		/* the list, passwords hidden */
	char			*userpwd;	/* --reload-auth-file's, */
	char			*bearer;	/* or NULL */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct promstate	*cached;	/* NULL: none yet */
	int			 fetching;
};

char *
promapi_url_from_reload(const char *reload_urls, char err[ERR_MAX])
{
	size_t n = strcspn(reload_urls, ","), len;
	char *first, *out = NULL;
	struct url u;

	if ((first = strndup(reload_urls, n)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	if (url_parse(&u, first, URL_HTTP, "--reload-url", err) == 0) {
		out = url_join(u.text, "/-/reload", "", err);
		url_release(&u);
	}
	free(first);
	/* The root is shown as the user wrote it: no trailing '/'. */
	if (out != NULL && (len = strlen(out)) > 0 && out[len - 1] == '/')
		out[len - 1] = '\0';
	return out;
}

/* The port of u, its scheme's when none is given. */
static const char *
port_of(const struct url *u)
{
	if (u->port != NULL)
		return u->port;
	return strcmp(u->scheme, "https") == 0 ? "443" : "80";
}

/* 1 when u is served where one of v (n) is: same scheme, host, port. */
static int
same_server(const struct url *u, const struct url *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(u->scheme, v[i].scheme) == 0 &&
		    strcasecmp(u->host, v[i].host) == 0 &&
		    strcmp(port_of(u), port_of(&v[i])) == 0)
			return 1;
	return 0;
}

void
promapi_free(struct promapi *p)
{
	size_t i, k;

	if (p == NULL)
		return;
	for (i = 0; i < p->nservers; i++)
		for (k = 0; k < NQUESTIONS; k++) {
			if (p->servers[i].url[k] != NULL)
				explicit_bzero(p->servers[i].url[k],
				    strlen(p->servers[i].url[k]));
			free(p->servers[i].url[k]);
		}
	free(p->servers);
	if (p->userpwd != NULL)
		explicit_bzero(p->userpwd, strlen(p->userpwd));
	if (p->bearer != NULL)
		explicit_bzero(p->bearer, strlen(p->bearer));
	free(p->userpwd);
	free(p->bearer);
	free(p->shown);
	promstate_put(p->cached);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

/* The servers of urls into p, each with the reload credentials when it
 * has none of its own and is where a reload URL (reload, n) points. */
static int
servers(struct promapi *p, const char *urls, const struct url *reload,
    size_t nreload, char err[ERR_MAX])
{
	struct url *v = NULL;
	size_t n, i, k;
	int rc = -1;

	if (url_parse_list(urls, URL_HTTP, "--prometheus-url", &v, &n,
	    err) == -1)
		return -1;
	if ((p->servers = calloc(n, sizeof(*p->servers))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		struct server *s = &p->servers[p->nservers++];

		s->creds = v[i].user == NULL && v[i].password == NULL &&
		    same_server(&v[i], reload, nreload);
		for (k = 0; k < NQUESTIONS; k++)
			if ((s->url[k] = url_join(v[i].text, NULL,
			    questions[k].path, err)) == NULL)
				goto out;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
out:
	url_list_free(v, n);
	return rc;
}

struct promapi *
promapi_new(const char *urls, const char *reload_urls, const char *auth_file,
    char err[ERR_MAX])
{
	struct promapi *p;
	struct url *reload = NULL;
	size_t nreload = 0;
	char shown[ERR_MAX];

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (strspn(urls, ", \t") == strlen(urls)) {
		snprintf(err, ERR_MAX, "--prometheus-url: no URL given");
		goto fail;
	}
	if (reload_urls != NULL && auth_file != NULL &&
	    (url_parse_list(reload_urls, URL_HTTP, "--reload-url", &reload,
	    &nreload, err) == -1 || auth_client_read(auth_file,
	    "--reload-auth-file", &p->userpwd, &p->bearer, err) == -1))
		goto fail;
	if (servers(p, urls, reload, nreload, err) == -1)
		goto fail;
	if ((p->shown = strdup(url_redact_list(urls, shown,
	    sizeof(shown)))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	url_list_free(reload, nreload);
	return p;
fail:
	url_list_free(reload, nreload);
	promapi_free(p);
	return NULL;
}

const char *
promapi_shown(const struct promapi *p)
{
	return p->shown;
}

/* One question to one server, on the multi handle. */
struct ask {
	CURL		*c;
	struct httpbody	 b;
	const char	*url;
	long		 status;
	CURLcode	 cc;
	int		 done;
};

/* Asks every question of every server at once; each ask done (one
 * libcurl could not take: CURLE_OUT_OF_MEMORY), or
 * CURLE_OPERATION_TIMEDOUT when the time ran out. -1 when libcurl cannot
 * even start (out of memory): then nothing was asked. */
static int
ask_all(struct promapi *p, struct ask *v, size_t n)
{
	int64_t deadline;
	CURLMsg *msg;
	CURLM *m;
	size_t i;
	long left;
	int running = 1, queued;

	if ((m = curl_multi_init()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		struct server *s = &p->servers[i / NQUESTIONS];

		v[i].url = s->url[i % NQUESTIONS];
		v[i].b.max = BOUND_PROMETHEUS_ANSWER_MAX;
		v[i].cc = CURLE_OPERATION_TIMEDOUT;
		if ((v[i].c = httpbody_easy("http,https", PROMAPI_CONNECT_MS,
		    PROMAPI_TIMEOUT_MS, NULL, NULL)) == NULL) {
			v[i].cc = CURLE_OUT_OF_MEMORY;
			v[i].done = 1;
			continue;
		}
		curl_easy_setopt(v[i].c, CURLOPT_URL, v[i].url);
		httpbody_collect(v[i].c, &v[i].b);
		curl_easy_setopt(v[i].c, CURLOPT_PRIVATE, (void *)&v[i]);
		if (s->creds)
			httpbody_credentials(v[i].c, p->userpwd, p->bearer);
		/* Not added (out of memory): not asked, so no time-out. */
		if (curl_multi_add_handle(m, v[i].c) != CURLM_OK) {
			curl_easy_cleanup(v[i].c);
			v[i].c = NULL;
			v[i].cc = CURLE_OUT_OF_MEMORY;
			v[i].done = 1;
		}
	}
	/* Each transfer has PROMAPI_TIMEOUT_MS of its own, and all started
	 * together; the deadline only stops a loop libcurl would not. */
	deadline = clock_ms() + PROMAPI_TIMEOUT_MS + 500;
	while (running > 0 && clock_ms() < deadline) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
			struct ask *a = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&a);
			a->cc = msg->data.result;
			a->done = 1;
			curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE,
			    &a->status);
		}
		left = (long)(deadline - clock_ms());
		if (running > 0 && left > 0)
			curl_multi_poll(m, NULL, 0, left > 1000 ? 1000 :
			    (int)left, NULL);
	}
	for (i = 0; i < n; i++)
		if (v[i].c != NULL) {
			curl_multi_remove_handle(m, v[i].c);
			curl_easy_cleanup(v[i].c);
			v[i].c = NULL;
		}
	curl_multi_cleanup(m);
	return 0;
}

/* What was wrong with a's answer, into err: 0 when it is a 2xx that
 * question k's add() took into ps. */
static int
take(struct promstate *ps, struct ask *a, size_t k, char err[ERR_MAX])
{
	char shown[ERR_MAX / 2], why[ERR_MAX];

	url_redact(a->url, shown, sizeof(shown));
	if (a->cc != CURLE_OK || buf_add(&a->b.body, "", 0) == -1) {
		/* curl's reason, lower case like flowmon's own. */
		snprintf(why, sizeof(why), "%s", a->b.too_big ? "answer "
		    "larger than the bound of 64 MiB" : a->cc == CURLE_OK ?
		    "out of memory" : curl_easy_strerror(a->cc));
		if (why[0] >= 'A' && why[0] <= 'Z')
			why[0] = (char)(why[0] - 'A' + 'a');
		snprintf(err, ERR_MAX, "GET %.250s: %.250s", shown, why);
		return -1;
	}
	if (a->status < 200 || a->status > 299) {
		snprintf(err, ERR_MAX, "GET %.250s answered %ld%s", shown,
		    a->status, a->status == 401 || a->status == 403 ?
		    " (credentials: user:password@ in --prometheus-url, or "
		    "--reload-auth-file for the server of --reload-url)" : "");
		return -1;
	}
	if (questions[k].add(ps, a->b.body.p, a->b.body.len, why) == -1) {
		snprintf(err, ERR_MAX, "GET %.250s: %.250s", shown, why);
		return -1;
	}
	return 0;
}

/* Appends s to dst (size bytes, NUL-terminated), "; " between, cut to
 * fit. */
static void
text_add(char *dst, size_t size, const char *s)
{
	size_t used = strlen(dst), n = strlen(s);

	if (used > 0 && used + 2 < size) {
		memcpy(dst + used, "; ", 2);
		used += 2;
	}
	if (n > size - 1 - used)
		n = size - 1 - used;
	memcpy(dst + used, s, n);
	dst[used + n] = '\0';
}

/* A fresh snapshot; NULL only on ENOMEM. Every server's answers are put
 * together: the targets of vmagent cluster members add up, and a
 * vmalert's 404 for targets is no error when another server answers
 * them. */
static struct promstate *
fetch(struct promapi *p)
{
	size_t n = p->nservers * NQUESTIONS, i, k;
	char err[ERR_MAX], why[NQUESTIONS][ERR_MAX];
	int took[NQUESTIONS] = { 0 };
	struct promstate *ps;
	struct ask *v;

	if ((ps = promstate_new()) == NULL)
		return NULL;
	if ((v = calloc(n, sizeof(*v))) == NULL || ask_all(p, v, n) == -1) {
		free(v);
		promstate_put(ps);
		return NULL;
	}
	memset(why, 0, sizeof(why));
	/* Server by server, in the order given, for each question. */
	for (k = 0; k < NQUESTIONS; k++)
		for (i = k; i < n; i += NQUESTIONS) {
			if (take(ps, &v[i], k, err) == 0) {
				took[k] = 1;
				continue;
			}
			text_add(why[k], sizeof(why[k]), err);
		}
	for (k = 0; k < NQUESTIONS; k++)
		if (!took[k])
			text_add(ps->error, sizeof(ps->error), why[k]);
	for (i = 0; i < n; i++)
		buf_release(&v[i].b.body);
	free(v);
	for (k = 0; k < NQUESTIONS; k++)
		ps->reachable |= took[k];
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
