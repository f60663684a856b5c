/* listener.c: start-up reconcile with swarm-listener over libcurl, and the
 * static services of SCRAPE_PORT_<n> / SERVICE_NAME_<n>.
 *
 * Why in the background: DFM asked the listener once at start and, when it
 * was not up yet, ran with nothing. flowmon already serves its data dir, so
 * the reconcile only brings it up to date: each source (every listener
 * address, the nodes URL) is asked until it answers once, with backoff
 * 1 s, 2 s, 4 s ... 30 s. Rows go through the same parser and registry
 * upsert as a reconfigure, so a row is exactly as good as a request.
 *
 * Pruning is the one destructive step, so it waits until every listener has
 * answered (a partial list would remove live services), and spares services
 * changed after the first answer was asked for (a create that came in
 * meanwhile is newer than the list) and the static services. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "bounds.h"
#include "httpbody.h"
#include "listener.h"
#include "log.h"
#include "parser.h"
#include "url.h"
#include "registry.h"
#include "request.h"
#include "values.h"
#include "worker.h"

#define LISTENER_CONNECT_MS	2000
#define LISTENER_TOTAL_MS	30000

struct listener {
	struct registry		*r;
	struct parser		*parser;
	char			**urls;		/* get-services URLs */
	int			*answered;
	size_t			 nurls;
	char			*nodes_url;
	int			 nodes_answered;
	int			 prune;
	int			 pruned;
	char			**statics;	/* static service names, sorted */
	size_t			 nstatics;
	char			**listed;	/* names the listeners listed */
	size_t			 nlisted;
	uint64_t		 gen0;		/* generation before 1st answer */
	int			 have_gen0;
	long			 retry_min_ms;
	long			 retry_max_ms;
	struct worker		 w;
	int			 done;		/* atomic */
};

/*
 * Pure parts.
 */

char *
listener_services_url(const char *item, const char *what, char err[ERR_MAX])
{
	const char *s = item, *e, *host_end, *p;
	char *url = NULL, *full = NULL, shown[ERR_MAX / 2];
	struct url u;
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	len = (size_t)(e - s);
	if (len == 0) {
		snprintf(err, ERR_MAX, "%s is empty", what);
		return NULL;
	}
	if ((full = strndup(s, len)) == NULL)
		goto nomem;
	if (strstr(full, "://") == NULL) {
		/* A bare host, a host:port, or [v6] / [v6]:port. */
		if (*s == '[') {
			if ((host_end = memchr(s, ']', len)) == NULL)
				goto bad;
			host_end++;
		} else if ((host_end = memchr(s, ':', len)) == NULL)
			host_end = e;
		if (host_end < e) {
			if (*host_end != ':' || host_end + 1 == e)
				goto bad;
			for (p = host_end + 1; p < e; p++)
				if (!isdigit((unsigned char)*p))
					goto bad;
		}
		if (strpbrk(full, "/@?#") != NULL)
			goto bad;
		free(full);
		if (asprintf(&full, "http://%.*s%s", (int)len, s, host_end < e ?
		    "" : ":8080") < 0) {
			full = NULL;
			goto nomem;
		}
	}
	/* A URL: its base, or already the get-services URL. */
	if (url_parse(&u, full, URL_HTTP, what, err) == -1)
		goto fail;
	if (u.query != NULL || u.fragment != NULL) {
		snprintf(err, ERR_MAX, "%s \"%s\" has a query or fragment",
		    what, u.shown);
		url_release(&u);
		goto fail;
	}
	url = url_join(u.text, LISTENER_SERVICES_PATH, LISTENER_SERVICES_PATH,
	    err);
	url_release(&u);
	free(full);
	return url;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
	goto fail;
bad:
	/* A '@' may follow a secret: shown as url_redact() shows it. */
	snprintf(err, ERR_MAX, "%s \"%s\" is not a host, host:port or "
	    "http(s) URL", what, url_redact(full, shown, sizeof(shown)));
fail:
	free(full);
	return NULL;
}

void
listener_rows_free(struct kvlist *rows, size_t nrows)
{
	size_t i;

	for (i = 0; i < nrows; i++)
		kvlist_release(&rows[i]);
	free(rows);
}

int
listener_parse_rows(const char *json, size_t len, struct kvlist **rows,
    size_t *nrows, char err[ERR_MAX])
{
	cJSON *root, *row, *it;
	struct kvlist *v = NULL;
	size_t n = 0;
	int count;

	*rows = NULL;
	*nrows = 0;
	if ((root = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsArray(root)) {
		snprintf(err, ERR_MAX, "the answer is not a JSON array");
		cJSON_Delete(root);
		return -1;
	}
	count = cJSON_GetArraySize(root);
	if (count > 0 && (v = calloc((size_t)count, sizeof(*v))) == NULL)
		goto nomem;
	cJSON_ArrayForEach(row, root) {
		if (!cJSON_IsObject(row)) {
			snprintf(err, ERR_MAX, "item %zu of the answer is not "
			    "an object", n + 1);
			goto fail;
		}
		cJSON_ArrayForEach(it, row) {
			char buf[64], *text = NULL;
			const char *val = buf;
			int rc;

			if (cJSON_IsString(it)) {
				val = it->valuestring;
			} else if (cJSON_IsBool(it)) {
				val = cJSON_IsTrue(it) ? "true" : "false";
			} else if (cJSON_IsNumber(it)) {
				double d = it->valuedouble;

				if (d == (double)(long long)d)
					snprintf(buf, sizeof(buf), "%lld",
					    (long long)d);
				else
					snprintf(buf, sizeof(buf), "%.17g", d);
			} else if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
				/* nodeInfo as JSON rather than as a string */
				if ((text = cJSON_PrintUnformatted(it)) == NULL)
					goto nomem;
				val = text;
			} else {
				continue;	/* null */
			}
			rc = kvlist_add(&v[n], it->string, val);
			cJSON_free(text);
			if (rc == -1)
				goto nomem;
		}
		/* One sort per row, not a scan per field. */
		if (kvlist_dedupe_ci(&v[n]) == -1)
			goto nomem;
		n++;
	}
	cJSON_Delete(root);
	*rows = v;
	*nrows = n;
	return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	/* calloc'd: the rows not reached are empty lists. */
	listener_rows_free(v, v != NULL ? (size_t)count : 0);
	cJSON_Delete(root);
	return -1;
}

static int
row_cmp(const void *a, const void *b)
{
	return strcmp(kvlist_get(a, "serviceName"),
	    kvlist_get(b, "serviceName"));
}

int
listener_static_rows(char *const *envp, struct kvlist **rows, size_t *nrows,
    char err[ERR_MAX])
{
	static const char pp[] = "SCRAPE_PORT_", np[] = "SERVICE_NAME_";
	struct kvlist *v = NULL, *nv;
	size_t n = 0, i, j;

	*rows = NULL;
	*nrows = 0;
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *e = envp[i], *eq = strchr(e, '='), *port, *name;
		size_t slen;

		if (eq == NULL || strncmp(e, pp, sizeof(pp) - 1) != 0)
			continue;
		slen = (size_t)(eq - e) - (sizeof(pp) - 1);
		port = eq + 1;
		name = NULL;
		for (j = 0; envp[j] != NULL; j++) {
			if (strncmp(envp[j], np, sizeof(np) - 1) == 0 &&
			    strncmp(envp[j] + sizeof(np) - 1,
			    e + sizeof(pp) - 1, slen) == 0 &&
			    envp[j][sizeof(np) - 1 + slen] == '=')
				name = envp[j] + sizeof(np) + slen;
		}
		if (values_port(port, strlen(port)) == 0) {
			snprintf(err, ERR_MAX, "%.*s \"%.50s\" is not a port "
			    "(1..65535)", (int)(eq - e > 100 ? 100 : eq - e), e,
			    port);
			goto fail;
		}
		if (name == NULL || !service_name_valid(name)) {
			snprintf(err, ERR_MAX, "%.*s needs %s%.*s, a service "
			    "name ([A-Za-z0-9_.-])", (int)(eq - e > 100 ? 100 :
			    eq - e), e, np, (int)(slen > 80 ? 80 : slen),
			    e + sizeof(pp) - 1);
			goto fail;
		}
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto nomem;
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		n++;
		if (kvlist_set(&v[n - 1], "serviceName", name) == -1 ||
		    kvlist_set(&v[n - 1], "scrapePort", port) == -1 ||
		    kvlist_set(&v[n - 1], "scrapeType", "static_configs") == -1)
			goto nomem;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), row_cmp);
	*rows = v;
	*nrows = n;
	return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	listener_rows_free(v, n);
	return -1;
}

/*
 * Applying rows.
 */

int
listener_try_service(struct registry *r, struct parser *parser,
    const struct kvlist *row, const char *source, int *wrote,
    enum fm_err *kind, char err[ERR_MAX])
{
	struct registry_result res;
	struct service *svc;
	const char *name = kvlist_get_ci(row, "serviceName");

	*wrote = 0;
	*kind = FM_OK;
	if ((svc = calloc(1, sizeof(*svc))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		*kind = FM_FATAL;
		return -1;
	}
	if (parser_parse(parser, row, svc, err) == -1) {
		free(svc);
		registry_refused(r, name, service_source_parse(source), err);
		*kind = FM_REFUSED;
		return -1;
	}
	svc->source = service_source_parse(source);
	/* The registry takes svc over. */
	if (registry_upsert(r, svc, &res, err) == -1) {
		*kind = res.fail == FM_CONFLICT || res.fail == FM_INVALID ?
		    FM_REFUSED : res.fail;
		return -1;
	}
	*wrote = res.wrote_state || res.wrote_targets || res.wrote_rules;
	return 0;
}

int
listener_apply_service(struct registry *r, struct parser *parser,
    const struct kvlist *row, const char *source, const char *origin)
{
	const char *name = kvlist_get_ci(row, "serviceName");
	char err[ERR_MAX], msg[96];
	enum fm_err kind;
	int wrote;

	if (listener_try_service(r, parser, row, source, &wrote, &kind,
	    err) == -1) {
		snprintf(msg, sizeof(msg), kind == FM_REFUSED ?
		    "service from %s refused" : "cannot apply service from %s",
		    source);
		if (kind == FM_REFUSED)
			log_warn(msg, "from", origin, "service", name ? name :
			    "", "error", err);
		else
			log_error(msg, "from", origin, "service", name ? name :
			    "", "error", err);
		return -1;
	}
	if (wrote)
		log_info("service reconciled", "from", origin, "service",
		    name ? name : "");
	return 0;
}

int
listener_apply_node(struct registry *r, struct parser *parser,
    const struct kvlist *row, const char *source)
{
	struct kvlist labels = { 0 };
	struct registry_result res;
	const char *id = kvlist_get_ci(row, "id");
	char err[ERR_MAX], msg[96];
	int rc;

	if (id == NULL || !service_name_valid(id)) {
		snprintf(msg, sizeof(msg), "node from %s refused", source);
		log_warn(msg, "id", id ? id : "", "error",
		    "id missing or not a node ID");
		return -1;
	}
	if (parser_node(parser, row, &labels, err) != FM_OK) {
		snprintf(msg, sizeof(msg), "node from %s refused", source);
		log_warn(msg, "id", id, "error", err);
		return -1;
	}
	if ((rc = registry_node_upsert(r, id, &labels, &res, err)) == -1) {
		snprintf(msg, sizeof(msg), "cannot apply node from %s", source);
		log_error(msg, "node", id, "error", err);
	}
	kvlist_release(&labels);
	return rc;
}

/*
 * The reconcile thread.
 */

static int
stopping(struct listener *l)
{
	return worker_stopping(&l->w);
}

/* GETs raw. 0 with the body, or -1 with err (the URL redacted). */
static int
fetch(struct listener *l, const char *raw, struct httpbody *b, char err[ERR_MAX])
{
	char url[ERR_MAX / 2];
	CURL *c;
	CURLcode cc;
	long code;

	url_redact(raw, url, sizeof(url));
	memset(b, 0, sizeof(*b));
	b->max = BOUND_ANSWER_MAX;
	if ((c = httpbody_easy("http,https", LISTENER_CONNECT_MS,
	    LISTENER_TOTAL_MS, worker_stop_flag(&l->w), NULL)) == NULL) {
		snprintf(err, ERR_MAX, "GET %s: cannot create a curl handle",
		    url);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, raw);
	cc = httpbody_perform(c, b, &code);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		snprintf(err, ERR_MAX, "GET %s: %s", url, b->too_big ?
		    "answer larger than 64 MiB" : curl_easy_strerror(cc));
		goto fail;
	}
	if (code != 200) {
		snprintf(err, ERR_MAX, "GET %s answered %ld", url, code);
		goto fail;
	}
	if (buf_add(&b->body, "", 0) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	return 0;
fail:
	buf_release(&b->body);
	return -1;
}

/* Asks one source; rows on success. */
static int
ask(struct listener *l, const char *raw, struct kvlist **rows, size_t *n)
{
	struct httpbody b;
	char err[ERR_MAX], url[ERR_MAX / 2];
	int rc;

	url_redact(raw, url, sizeof(url));
	if (fetch(l, raw, &b, err) == -1) {
		if (!stopping(l))
			log_warn("swarm-listener not answering, will retry",
			    "url", url, "error", err);
		return -1;
	}
	rc = listener_parse_rows(b.body.p, b.body.len, rows, n, err);
	buf_release(&b.body);
	if (rc == -1)
		log_warn("swarm-listener answer refused, will retry", "url",
		    url, "error", err);
	return rc;
}

static void
apply_nodes(struct listener *l, const struct kvlist *rows, size_t n)
{
	size_t i, applied = 0;
	char num[32], shown[ERR_MAX / 2];

	for (i = 0; i < n; i++)
		if (listener_apply_node(l->r, l->parser, &rows[i],
		    "listener") == 0)
			applied++;
	snprintf(num, sizeof(num), "%zu", applied);
	log_info("nodes reconciled", "url", url_redact(l->nodes_url, shown,
	    sizeof(shown)), "nodes", num);
}

static void
prune(struct listener *l)
{
	char **names = NULL, num[32];
	size_t n = 0, i, removed = 0;

	strv_sort(l->listed, l->nlisted);
	if (registry_active_names(l->r, l->gen0, &names, &n) == -1) {
		log_error("listener prune: out of memory");
		return;
	}
	/* Every listener answering an empty list while services exist is
	 * far likelier a listener that lost its view of the swarm (started
	 * before the manager, wrong network) than a swarm without services:
	 * pruning would take all monitoring down. */
	for (i = 0; l->nlisted == 0 && i < n; i++)
		if (!strv_has_sorted(l->statics, l->nstatics, names[i]))
			break;
	if (l->nlisted == 0 && i < n) {
		snprintf(num, sizeof(num), "%zu", n);
		log_warn("listener prune skipped: every swarm-listener listed "
		    "no service; not removing them all", "services", num);
		strv_free(names, n);
		return;
	}
	for (i = 0; i < n && !stopping(l); i++) {
		struct registry_result res;
		char err[ERR_MAX];

		if (strv_has_sorted(l->listed, l->nlisted, names[i]) ||
		    strv_has_sorted(l->statics, l->nstatics, names[i]))
			continue;
		if (registry_remove(l->r, names[i], &res, err) == -1) {
			log_error("listener prune: cannot remove service",
			    "service", names[i], "error", err);
			continue;
		}
		log_info("service pruned: no listener lists it", "service",
		    names[i]);
		removed++;
	}
	strv_free(names, n);
	snprintf(num, sizeof(num), "%zu", removed);
	log_info("listener prune done", "removed", num);
}

/* Asks every source that has not answered yet, once. Returns how many
 * still have not. */
static size_t
reconcile_round(struct listener *l)
{
	struct kvlist *rows;
	size_t nrows, i, j, left = 0;
	char shown[ERR_MAX / 2];	/* a URL as logged (url_redact) */

	if (l->nodes_url != NULL && !l->nodes_answered && !stopping(l)) {
		if (ask(l, l->nodes_url, &rows, &nrows) == 0) {
			apply_nodes(l, rows, nrows);
			listener_rows_free(rows, nrows);
			l->nodes_answered = 1;
		}
	}
	if (l->nodes_url != NULL && !l->nodes_answered)
		left++;
	for (i = 0; i < l->nurls; i++) {
		uint64_t gen;
		size_t ok = 0;
		char num[32], bad[32];

		if (l->answered[i])
			continue;
		if (stopping(l) || (gen = registry_generation(l->r),
		    ask(l, l->urls[i], &rows, &nrows) == -1)) {
			left++;
			continue;
		}
		if (!l->have_gen0) {
			l->gen0 = gen;
			l->have_gen0 = 1;
		}
		for (j = 0; j < nrows; j++) {
			const char *name = kvlist_get_ci(&rows[j],
			    "serviceName");

			if (name != NULL && *name != '\0' &&
			    strv_push(&l->listed, &l->nlisted, name) == -1)
				log_error("out of memory");
			if (listener_apply_service(l->r, l->parser,
			    &rows[j], "listener", url_redact(l->urls[i], shown,
			    sizeof(shown))) == 0)
				ok++;
		}
		snprintf(num, sizeof(num), "%zu", ok);
		snprintf(bad, sizeof(bad), "%zu", nrows - ok);
		log_info("services reconciled from swarm-listener", "url",
		    url_redact(l->urls[i], shown, sizeof(shown)), "services",
		    num, "refused", bad);
		listener_rows_free(rows, nrows);
		l->answered[i] = 1;
	}
	for (i = 0; i < l->nurls; i++)
		if (!l->answered[i])
			return left;
	if (l->prune && l->nurls > 0 && !l->pruned && !stopping(l)) {
		prune(l);
		l->pruned = 1;
	}
	return left;
}

static void *
listener_thread(void *arg)
{
	struct listener *l = arg;
	long backoff = l->retry_min_ms;

	for (;;) {
		if (reconcile_round(l) == 0) {
			__atomic_store_n(&l->done, 1, __ATOMIC_RELAXED);
			break;
		}
		if (worker_sleep(&l->w, backoff) == -1)
			break;
		backoff = backoff * 2 > l->retry_max_ms ? l->retry_max_ms :
		    backoff * 2;
	}
	return NULL;
}

static void
listener_free(struct listener *l)
{
	size_t i;

	for (i = 0; i < l->nurls; i++)
		free(l->urls[i]);
	free(l->urls);
	free(l->answered);
	free(l->nodes_url);
	strv_free(l->statics, l->nstatics);
	strv_free(l->listed, l->nlisted);
	worker_release(&l->w);
	free(l);
}

struct listener *
listener_start(const struct listener_options *o, struct registry *r,
    struct parser *parser, char err[ERR_MAX])
{
	struct listener *l;
	struct kvlist *rows = NULL;
	size_t nrows = 0, i;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto nomem;
	l->r = r;
	l->parser = parser;
	l->prune = o->prune;
	l->retry_min_ms = o->retry_min_ms > 0 ? o->retry_min_ms : 1000;
	l->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 30000;
	if (l->retry_max_ms < l->retry_min_ms)
		l->retry_max_ms = l->retry_min_ms;
	if (worker_init(&l->w, err) == -1) {
		free(l);
		return NULL;
	}
	if (o->addresses != NULL) {
		const char *p = o->addresses;

		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			char *item, *url;

			if ((item = strndup(p, len)) == NULL)
				goto nomem;
			url = listener_services_url(item, "listener address",
			    err);
			free(item);
			if (url == NULL)
				goto fail;
			rc = strv_push(&l->urls, &l->nurls, url);
			free(url);
			if (rc == -1)
				goto nomem;
			p += len;
			if (*p == ',')
				p++;
		}
		if ((l->answered = calloc(l->nurls + 1, sizeof(int))) == NULL)
			goto nomem;
	}
	if (o->nodes_url != NULL && *o->nodes_url != '\0') {
		struct url u;

		if (url_parse(&u, o->nodes_url, URL_HTTP, "DF_GET_NODES_URL",
		    err) == -1)
			goto fail;
		l->nodes_url = strdup(u.text);
		url_release(&u);
		if (l->nodes_url == NULL)
			goto nomem;
	}

	/* Static services: local, so applied before returning. */
	if (listener_static_rows(o->envp, &rows, &nrows, err) == -1)
		goto fail;
	for (i = 0; i < nrows; i++) {
		const char *name = kvlist_get(&rows[i], "serviceName");

		if (strv_push(&l->statics, &l->nstatics, name) == -1)
			goto nomem;
		listener_apply_service(r, parser, &rows[i], "listener",
		    "environment");
	}
	listener_rows_free(rows, nrows);
	rows = NULL;
	nrows = 0;

	if (l->nurls == 0 && l->nodes_url == NULL) {
		l->done = 1;
		return l;
	}
	if (worker_start(&l->w, listener_thread, l, "listener", err) == -1)
		goto fail;
	return l;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	listener_rows_free(rows, nrows);
	if (l != NULL)
		listener_free(l);
	return NULL;
}

int
listener_done(struct listener *l)
{
	return __atomic_load_n(&l->done, __ATOMIC_RELAXED);
}

void
listener_stop(struct listener *l)
{
	if (l == NULL)
		return;
	worker_stop(&l->w);
	listener_free(l);
}
