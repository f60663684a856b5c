/* plan_live.c: what runs now, for `flowmon plan` to compare with: the
 * services of a data dir, read through the store opened read only (no
 * lock taken, nothing written, created or swept), or those of a running
 * flowmon, through GET /v1/docker-flow-monitor/services. Either way each
 * service comes with its rule file and its target settings, rendered by
 * the functions the daemon writes them with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "hash.h"
#include "httpbody.h"
#include "lifecycle.h"
#include "plan.h"
#include "record.h"
#include "render.h"
#include "request.h"
#include "store.h"
#include "url.h"

#define PLAN_CONNECT_MS		10000
#define PLAN_TOTAL_MS		120000
#define PLAN_API		"/v1/docker-flow-monitor"
#define PLAN_API_SERVICES	PLAN_API "/services"

static void
live_release(struct plan_live *l)
{
	free(l->name);
	service_free(l->svc);
	free(l->invalid);
	free(l->rules);
	free(l->settings);
	free(l->why_rejected);
	memset(l, 0, sizeof(*l));
}

void
plan_lives_release(struct plan_lives *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		live_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct plan_live *
lives_add(struct plan_lives *l, const char *name)
{
	struct plan_live *nv;

	if (BUF_ARRAY_GROW(l->v, l->n, l->cap) == -1)
		return NULL;
	nv = &l->v[l->n];
	memset(nv, 0, sizeof(*nv));
	if ((nv->name = strdup(name)) == NULL)
		return NULL;
	l->n++;
	return nv;
}

static int
live_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan_live *)a)->name,
	    ((const struct plan_live *)b)->name);
}

/* The target settings of a record's parameters: parsed without their
 * alerts (whose shortcuts this table may lack; settings do not depend on
 * them), then render_settings(). */
static int
live_settings(struct plan_live *l, const struct kvlist *params,
    const struct request_ctx *rctx)
{
	struct kvlist scrape = { 0 };
	struct service svc;
	char err[ERR_MAX];
	size_t i;
	int rc = -1;

	memset(&svc, 0, sizeof(svc));
	for (i = 0; i < params->n; i++)
		if (strncasecmp(params->v[i].key, "alert", 5) != 0 &&
		    kvlist_set(&scrape, params->v[i].key,
		    params->v[i].value) == -1)
			goto out;
	if (request_parse(&scrape, rctx, &svc, err) == -1) {
		if (l->invalid == NULL)
			l->invalid = strdup(err);
		rc = 0;		/* settings unknown */
		goto out;
	}
	rc = render_settings(&svc, &l->settings, &l->slen, err);
out:
	service_release(&svc);
	kvlist_release(&scrape);
	return rc;
}

/*
 * A data dir.
 */

/* One record of state/, file base: into out when it is live and wanted. */
static int
dir_one(struct store *st, const char *base, const struct request_ctx *rctx,
    struct plan_lives *out, char err[ERR_MAX])
{
	struct kvlist params = { 0 };
	struct rule_file rf;
	struct plan_live *l;
	char *buf = NULL, why[ERR_MAX];
	const char *name;
	size_t len;
	int removed, rc = -1;

	if (store_read(st, STORE_STATE, base, BOUND_RECORD_MAX, &buf, &len,
	    err) == -1) {
		rc = errno == ENOENT ? 0 : -1;	/* removed meanwhile */
		goto out;
	}
	if (record_decode(buf, len, &params, &removed, NULL, why) == -1 ||
	    (name = kvlist_get(&params, "serviceName")) == NULL) {
		/* Not a record flowmon could load: it names no service. */
		rc = 0;
		goto out;
	}
	if (removed) {
		rc = 0;		/* gone, only persistent alerts are kept */
		goto out;
	}
	if ((l = lives_add(out, name)) == NULL ||
	    (l->svc = calloc(1, sizeof(*l->svc))) == NULL)
		goto nomem;
	if (request_parse(&params, rctx, l->svc, why) == -1) {
		free(l->svc);
		l->svc = NULL;
		if ((l->invalid = strdup(why)) == NULL)
			goto nomem;
	}
	if (live_settings(l, &params, rctx) == -1)
		goto nomem;
	if (store_read(st, STORE_RULES, name, BOUND_FILE_MAX, &l->rules,
	    &l->rlen, err) == -1 && errno != ENOENT)
		goto out;
	/* The lifecycle reads rejected/ (its reason line, then the file). */
	memset(&rf, 0, sizeof(rf));
	rule_load(&rf, st, name, NULL);
	if (rf.state == RULE_REJECTED) {
		l->rejected = 1;
		l->h_rejected = rf.h_out;
		if (rf.reason != NULL && (l->why_rejected =
		    strdup(rf.reason)) == NULL) {
			rule_release(&rf);
			goto nomem;
		}
	}
	rule_release(&rf);
	rc = 0;
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
out:
	kvlist_release(&params);
	free(buf);
	return rc;
}

int
plan_live_dir(const char *dir, const struct request_ctx *rctx,
    plan_want_fn want, void *ctx, struct plan_lives *out, char err[ERR_MAX])
{
	struct store_entry *v = NULL;
	struct store st;
	size_t n = 0, i, e = strlen(store_ext(STORE_STATE));
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (store_open_ro(&st, dir, err) == -1)
		return -1;
	if (store_list(&st, STORE_STATE, &v, &n, err) == -1) {
		if (errno != ENOENT)
			goto out;
		n = 0;		/* no state/ yet: no service */
	}
	for (i = 0; i < n; i++) {
		char *base;
		size_t fl = strlen(v[i].file);

		if (v[i].file[0] == '.' || v[i].link ||
		    !S_ISREG(v[i].sb.st_mode) || fl <= e ||
		    strcmp(v[i].file + fl - e, store_ext(STORE_STATE)) != 0)
			continue;
		if ((base = strndup(v[i].file, fl - e)) == NULL) {
			snprintf(err, ERR_MAX, "out of memory");
			goto out;
		}
		if (store_base_valid(base) && want(ctx, base) &&
		    dir_one(&st, base, rctx, out, err) == -1) {
			free(base);
			goto out;
		}
		free(base);
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), live_cmp);
	rc = 0;
out:
	store_entries_free(v, n);
	store_release(&st);
	if (rc == -1)
		plan_lives_release(out);
	return rc;
}

/*
 * A running flowmon.
 */

/* <url>/v1/docker-flow-monitor/services (url_join()): url parsed by
 * url.c (http or https, a host), its query dropped; a url that already
 * ends in /v1/docker-flow-monitor (the API's base, as a user may copy it)
 * is taken as it is. malloc'd, NULL with err (the URL redacted). */
static char *
api_url(const char *url, char err[ERR_MAX])
{
	struct url parsed;
	char *full;

	if (url_parse(&parsed, url, URL_HTTP, "--against", err) == -1)
		return NULL;
	full = url_join(parsed.text, PLAN_API, PLAN_API_SERVICES, err);
	url_release(&parsed);
	return full;
}

/* GET url with the credentials of auth_file: the 200 answer's body in b. */
static int
api_get(const char *url, const char *auth_file, struct httpbody *b,
    char err[ERR_MAX])
{
	char cerr[CURL_ERROR_SIZE] = "", shown[ERR_MAX / 2];
	char *userpwd = NULL, *bearer = NULL;
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc = -1;

	url_redact(url, shown, sizeof(shown));
	if (auth_file != NULL && auth_client_read(auth_file,
	    "--reload-auth-file", &userpwd, &bearer, err) == -1)
		return -1;
	if ((c = httpbody_easy("http,https", PLAN_CONNECT_MS, PLAN_TOTAL_MS,
	    NULL, cerr)) == NULL) {
		snprintf(err, ERR_MAX, "GET %.200s: cannot create a curl handle",
		    shown);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	httpbody_credentials(c, userpwd, bearer);
	if ((cc = httpbody_perform(c, b, &status)) != CURLE_OK) {
		snprintf(err, ERR_MAX, "GET %.200s: %.250s", shown, b->too_big ?
		    "the answer is too large" : cerr[0] ? cerr :
		    curl_easy_strerror(cc));
		goto out;
	}
	if (status != 200) {
		snprintf(err, ERR_MAX, "GET %.200s: HTTP %ld%s", shown, status,
		    status == 401 ? " (credentials: --reload-auth-file, or "
		    "user:password in the URL)" : "");
		goto out;
	}
	rc = 0;
out:
	curl_easy_cleanup(c);
	if (userpwd != NULL)
		explicit_bzero(userpwd, strlen(userpwd));
	if (bearer != NULL)
		explicit_bzero(bearer, strlen(bearer));
	free(userpwd);
	free(bearer);
	return rc;
}

static const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON object of strings into l. */
static int
json_kvlist(const cJSON *o, struct kvlist *l)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o)
		if (cJSON_IsString(it) && it->string != NULL &&
		    kvlist_set(l, it->string, it->valuestring) == -1)
			return -1;
	return 0;
}

/* The alerts of a service as the API shows them (views.c) into svc:
 * what render_rules() needs to write its rule file again. */
static int
json_alerts(const cJSON *alerts, struct service *svc)
{
	const cJSON *ja;
	int n = cJSON_GetArraySize(alerts);

	if (n == 0)
		return 0;
	if ((svc->alerts = calloc((size_t)n, sizeof(*svc->alerts))) == NULL)
		return -1;
	cJSON_ArrayForEach(ja, alerts) {
		struct alert *a = &svc->alerts[svc->nalerts];
		const char *name = json_str(ja, "alert");
		const char *expr = json_str(ja, "expr");
		const char *f = json_str(ja, "for");

		if (name == NULL || expr == NULL)
			continue;
		svc->nalerts++;
		a->persistent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    ja, "persistent"));
		if ((a->name = strdup(name)) == NULL ||
		    (a->expr = strdup(expr)) == NULL ||
		    (f != NULL && (a->for_ = strdup(f)) == NULL) ||
		    json_kvlist(cJSON_GetObjectItemCaseSensitive(ja, "labels"),
		    &a->labels) == -1 ||
		    json_kvlist(cJSON_GetObjectItemCaseSensitive(ja,
		    "annotations"), &a->annotations) == -1)
			return -1;
	}
	return 0;
}

/* One object of GET /services into out, when it is live and wanted. */
static int
api_one(const cJSON *o, const struct request_ctx *rctx,
    struct plan_lives *out, char err[ERR_MAX])
{
	struct kvlist params = { 0 };
	const char *name = json_str(o, "serviceName");
	const char *status = json_str(o, "status");
	struct plan_live *l;
	int rc = -1;

	if ((l = lives_add(out, name)) == NULL)
		goto nomem;
	if (status != NULL && strcmp(status, "invalid") == 0) {
		const char *why = json_str(o, "error");

		if ((l->invalid = strdup(why ? why : "invalid record")) == NULL)
			goto nomem;
		return 0;
	}
	if (json_kvlist(cJSON_GetObjectItemCaseSensitive(o, "params"),
	    &params) == -1 || live_settings(l, &params, rctx) == -1 ||
	    (l->svc = calloc(1, sizeof(*l->svc))) == NULL ||
	    (l->svc->name = strdup(name)) == NULL ||
	    json_alerts(cJSON_GetObjectItemCaseSensitive(o, "alerts"),
	    l->svc) == -1 ||
	    render_rules(l->svc, 0, &l->rules, &l->rlen, err) == -1)
		goto nomem;
	if (status != NULL && strcmp(status, "rejected") == 0) {
		/* The API shows the record, so the file Prometheus refused,
		 * not the one it runs. */
		const char *why = json_str(o, "rejected");

		l->rejected = 1;
		l->h_rejected = hash_content(l->rules, l->rlen);
		free(l->rules);
		l->rules = NULL;
		l->rlen = 0;
		if (why != NULL && (l->why_rejected = strdup(why)) == NULL)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	if (err[0] == '\0')
		snprintf(err, ERR_MAX, "out of memory");
out:
	kvlist_release(&params);
	return rc;
}

int
plan_live_api(const char *url, const char *auth_file,
    const struct request_ctx *rctx, plan_want_fn want, void *ctx,
    struct plan_lives *out, char err[ERR_MAX])
{
	struct httpbody b = { BUF_INIT, BOUND_API_ANSWER_MAX, 0 };
	char *full = NULL, shown[ERR_MAX / 2];
	const cJSON *o;
	cJSON *arr = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if ((full = api_url(url, err)) == NULL ||
	    api_get(full, auth_file, &b, err) == -1)
		goto out;
	arr = cJSON_ParseWithLength(b.body.p != NULL ? b.body.p : "",
	    b.body.len);
	if (!cJSON_IsArray(arr)) {
		snprintf(err, ERR_MAX, "GET %s: the answer is not the JSON "
		    "array of services", url_redact(full, shown,
		    sizeof(shown)));
		goto out;
	}
	cJSON_ArrayForEach(o, arr) {
		const char *name = json_str(o, "serviceName");
		const char *status = json_str(o, "status");
		char base[214];

		if (name == NULL || (status != NULL &&
		    strcmp(status, "removed") == 0))
			continue;
		store_base(name, base);
		if (want(ctx, base) && api_one(o, rctx, out, err) == -1)
			goto out;
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), live_cmp);
	rc = 0;
out:
	if (rc == -1)
		plan_lives_release(out);
	cJSON_Delete(arr);
	buf_release(&b.body);
	free(full);
	return rc;
}
