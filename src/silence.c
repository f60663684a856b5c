/* silence.c: the deploy silences of silence.h: Alertmanager's API v2 over
 * libcurl, and the thread that keeps each Alertmanager's silences in step
 * with the deploys the swarm state shows.
 *
 * Each round (every tick) the thread lists the deploys under way and, for
 * each, the alert names of the service's record. Then, per Alertmanager,
 * what it holds is brought to that want:
 *
 *   wanted, not held     GET the silences first (another flowmon, or this
 *                        one before a restart, may have made it: adopted),
 *                        then POST a new one
 *   held, matchers or    POST it again under its ID, with its own start
 *   comment changed,     and a new end: Alertmanager updates it in place
 *   or a third of the
 *   ttl gone
 *   held, not wanted     DELETE /api/v2/silence/<id> (expire it)
 *
 * Why a new silence starts a second from now: Alertmanager keeps a start
 * in the future as given (to the millisecond), while one in the past
 * becomes its own clock's nanosecond, which its API shows only to the
 * millisecond. A renewal must repeat the start exactly, or Alertmanager
 * expires the silence and makes a new one; a start flowmon chose is one
 * it can repeat, after a restart too.
 *
 * A failure (no answer, an error status, a body that does not parse)
 * forgets what this Alertmanager was thought to hold: the next attempt,
 * after a pause that doubles up to retry_max_ms, starts with a GET. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "expo.h"
#include "httpbody.h"
#include "log.h"
#include "registry.h"
#include "silence.h"
#include "strv.h"
#include "url.h"
#include "worker.h"

#define SILENCE_CONNECT_MS	3000
#define SILENCE_TOTAL_MS	15000
#define SILENCE_LEAD_MS		1000		/* a new silence starts then */

/* A silence an Alertmanager holds for a service. */
struct held {
	char		*service;
	char		*id;
	char		*regex;
	char		*comment;
	char		 starts[32];
	long long	 ends_ms;	/* Unix ms */
};

/* One Alertmanager. */
struct am {
	char		*base;		/* no trailing '/' */
	char		*shown;		/* redacted, for logs and metrics */
	struct held	*held;
	size_t		 nheld;
	size_t		 heldcap;	/* held's room */
	size_t		 nheld_shown;	/* atomic, for /metrics */
	unsigned long long errors;	/* atomic */
	int		 synced;	/* held is what it holds */
	int		 failing;
	long		 backoff_ms;
	long long	 retry_at;	/* monotonic ms */
};

/* A silence the deploys want. */
struct want {
	char		*service;
	char		*regex;
	char		 comment[1024];	/* holds every part whole */
};

struct silencer {
	struct swarmstate	*ss;
	struct registry		*r;
	struct am		*ams;
	size_t			 nams;
	size_t			 amscap;	/* ams's room */
	long			 ttl_ms;
	long			 tick_ms;
	long			 retry_min_ms;
	long			 retry_max_ms;
	struct worker		 w;		/* the thread */
};

static int
stopping(struct silencer *s)
{
	return worker_stopping(&s->w);
}

/*
 * The pure parts.
 */

char *
silence_regex(const char *const *names, size_t n)
{
	size_t i, len = sizeof("^(?:)$");
	char *out, *o;
	const char *p;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++)
		len += 2 * strlen(names[i]) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	o = out;
	o += sprintf(o, "^(?:");
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = '|';
		for (p = names[i]; *p; p++) {
			if (strchr("\\.+*?()|[]{}^$", *p) != NULL)
				*o++ = '\\';
			*o++ = *p;
		}
	}
	strcpy(o, ")$");
	return out;
}

void
silence_comment(const char *service, const struct swarm_status *st,
    char *buf, size_t size)
{
	snprintf(buf, size, SILENCE_COMMENT_PREFIX "%s is being deployed "
	    "(Docker: %s%s%s%s%s); its alerts are held until the update "
	    "ends", service, *st->update ? st->update : "unknown",
	    *st->message ? ", " : "", st->message, *st->image ? ", image " :
	    "", st->image);
}

cJSON *
silence_body(const char *id, const char *regex, const char *starts,
    const char *ends, const char *comment)
{
	cJSON *o = cJSON_CreateObject(), *ms, *m;

	if (o == NULL)
		return NULL;
	if ((id != NULL && cJSON_AddStringToObject(o, "id", id) == NULL) ||
	    (ms = cJSON_AddArrayToObject(o, "matchers")) == NULL ||
	    (m = cJSON_CreateObject()) == NULL)
		goto fail;
	cJSON_AddItemToArray(ms, m);
	if (cJSON_AddStringToObject(m, "name", "alertname") == NULL ||
	    cJSON_AddStringToObject(m, "value", regex) == NULL ||
	    cJSON_AddBoolToObject(m, "isRegex", 1) == NULL ||
	    cJSON_AddBoolToObject(m, "isEqual", 1) == NULL ||
	    cJSON_AddStringToObject(o, "startsAt", starts) == NULL ||
	    cJSON_AddStringToObject(o, "endsAt", ends) == NULL ||
	    cJSON_AddStringToObject(o, "createdBy", SILENCE_CREATED_BY) ==
	    NULL || cJSON_AddStringToObject(o, "comment", comment) == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* The string member key of o, or NULL. */
static const char *
member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ?
	    cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
silence_owned(const cJSON *sil, char *service, size_t size)
{
	const char *by = member(sil, "createdBy");
	const char *comment = member(sil, "comment");
	const char *state = member(cJSON_GetObjectItemCaseSensitive(sil,
	    "status"), "state");
	const char *name;
	size_t len;

	if (by == NULL || strcmp(by, SILENCE_CREATED_BY) != 0 ||
	    comment == NULL || state == NULL || (strcmp(state, "active") != 0 &&
	    strcmp(state, "pending") != 0) ||
	    strncmp(comment, SILENCE_COMMENT_PREFIX,
	    sizeof(SILENCE_COMMENT_PREFIX) - 1) != 0)
		return 0;
	name = comment + sizeof(SILENCE_COMMENT_PREFIX) - 1;
	len = strcspn(name, " ");
	if (len == 0 || len >= size)
		return 0;
	memcpy(service, name, len);
	service[len] = '\0';
	return 1;
}

/* RFC 3339 (as Alertmanager writes it) into Unix ms; -1 if unreadable. */
static long long
parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	long long ms = 0;
	int n = 0, div = 1000;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			div /= 10;
			ms += (*p - '0') * div;
		}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* Alertmanager answers in UTC ("Z"); an offset is not expected. */
	return (long long)timegm(&tm) * 1000 + ms;
}

/*
 * What each Alertmanager holds.
 */

static void
held_release(struct held *h)
{
	free(h->service);
	free(h->id);
	free(h->regex);
	free(h->comment);
}

static void
am_forget(struct am *a)
{
	size_t i;

	for (i = 0; i < a->nheld; i++)
		held_release(&a->held[i]);
	free(a->held);
	a->held = NULL;
	a->nheld = 0;
	a->heldcap = 0;
	a->synced = 0;
	__atomic_store_n(&a->nheld_shown, 0, __ATOMIC_RELAXED);
}

static struct held *
held_find(struct am *a, const char *service)
{
	size_t i;

	for (i = 0; i < a->nheld; i++)
		if (strcmp(a->held[i].service, service) == 0)
			return &a->held[i];
	return NULL;
}

/* Adds an empty entry for service; NULL on ENOMEM. */
static struct held *
held_add(struct am *a, const char *service)
{
	struct held *nv;

	if (BUF_ARRAY_GROW(a->held, a->nheld, a->heldcap) == -1)
		return NULL;
	nv = a->held;
	memset(&nv[a->nheld], 0, sizeof(*nv));
	if ((nv[a->nheld].service = strdup(service)) == NULL)
		return NULL;
	__atomic_store_n(&a->nheld_shown, a->nheld + 1, __ATOMIC_RELAXED);
	return &nv[a->nheld++];
}

static void
held_drop(struct am *a, struct held *h)
{
	held_release(h);
	*h = a->held[--a->nheld];
	__atomic_store_n(&a->nheld_shown, a->nheld, __ATOMIC_RELAXED);
}

/* Replaces *dst by a copy of src; -1 on ENOMEM (dst unchanged). */
static int
set_text(char **dst, const char *src)
{
	char *c = strdup(src);

	if (c == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

/*
 * Alertmanager's API.
 */

/* method base+path with body (NULL: none); the answer into b (the
 * caller's, to buf_release) and *code. 0, or -1 with err when nothing
 * usable came back. */
static int
am_call(struct silencer *s, struct am *a, const char *method,
    const char *path, const char *body, struct httpbody *b, long *code,
    char err[ERR_MAX])
{
	struct curl_slist *hdr = NULL;
	char *url = NULL;
	CURL *c = NULL;
	CURLcode cc;

	memset(b, 0, sizeof(*b));
	b->max = BOUND_ANSWER_MAX;
	*code = 0;
	if ((url = url_join(a->base, NULL, path, err)) == NULL ||
	    (c = httpbody_easy("http,https", SILENCE_CONNECT_MS,
	    SILENCE_TOTAL_MS, worker_stop_flag(&s->w), NULL)) == NULL) {
		free(url);
		snprintf(err, ERR_MAX, "%s %s%s: out of memory", method,
		    a->shown, path);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (body != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cc = httpbody_perform(c, b, code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	free(url);
	if (cc != CURLE_OK || buf_add(&b->body, "", 0) == -1) {
		snprintf(err, ERR_MAX, "%s %s%s: %s", method, a->shown, path,
		    cc == CURLE_OK ? "out of memory" : b->too_big ?
		    "answer too large" : curl_easy_strerror(cc));
		buf_release(&b->body);
		return -1;
	}
	return 0;
}

/* The head of an error answer, for a message. */
static const char *
answer_head(const struct httpbody *b, char *buf, size_t size)
{
	size_t i;

	snprintf(buf, size, "%s", b->body.p != NULL ? b->body.p : "");
	for (i = 0; buf[i]; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	return buf;
}

/* GET every silence and take flowmon's deploy silences as held; a second
 * one for the same service (two flowmons raced, or a crash between a POST
 * and its answer) is expired. 0, or -1 with err. */
static int
am_sync(struct silencer *s, struct am *a, char err[ERR_MAX])
{
	struct httpbody b;
	const cJSON *sil;
	cJSON *arr = NULL;
	char name[SERVICE_NAME_MAX + 1], head[200];
	long code;
	int rc = -1;

	am_forget(a);
	if (am_call(s, a, "GET", "/api/v2/silences", NULL, &b, &code,
	    err) == -1)
		return -1;
	if (code != 200 ||
	    !cJSON_IsArray(arr = cJSON_ParseWithLength(b.body.p, b.body.len))) {
		snprintf(err, ERR_MAX, "GET %s/api/v2/silences answered %ld: "
		    "%s", a->shown, code, code == 200 ? "not a JSON array" :
		    answer_head(&b, head, sizeof(head)));
		goto out;
	}
	cJSON_ArrayForEach(sil, arr) {
		const char *id = member(sil, "id"), *re = NULL;
		const cJSON *m = cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(sil, "matchers"), 0);
		struct held *h;

		if (id == NULL || !silence_owned(sil, name, sizeof(name)))
			continue;
		if (held_find(a, name) != NULL) {
			struct httpbody db;
			char *path = NULL;

			if (asprintf(&path, "/api/v2/silence/%s", id) >= 0 &&
			    am_call(s, a, "DELETE", path, NULL, &db, &code,
			    err) == 0) {
				log_info("deploy silence expired", "reason",
				    "a second one for the service", "service",
				    name, "alertmanager", a->shown, "id", id);
				buf_release(&db.body);
			}
			free(path);
			continue;
		}
		re = member(m, "value");
		if ((h = held_add(a, name)) == NULL ||
		    set_text(&h->id, id) == -1 ||
		    set_text(&h->regex, re != NULL ? re : "") == -1 ||
		    set_text(&h->comment, member(sil, "comment")) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			goto out;
		}
		snprintf(h->starts, sizeof(h->starts), "%s",
		    member(sil, "startsAt") ? member(sil, "startsAt") : "");
		h->ends_ms = parse_time(member(sil, "endsAt"));
		log_debug("deploy silence found", "service", name,
		    "alertmanager", a->shown, "id", id);
	}
	a->synced = 1;
	rc = 0;
out:
	cJSON_Delete(arr);
	buf_release(&b.body);
	if (rc == -1)
		am_forget(a);
	return rc;
}

/* POSTs w's silence: h's again (h not NULL) or a new one; h (or a new
 * entry) then records it. 0, or -1 with err. */
static int
am_post(struct silencer *s, struct am *a, struct held *h,
    const struct want *w, long long now, char err[ERR_MAX])
{
	struct httpbody b;
	cJSON *body, *ans = NULL;
	const char *id;
	char ends[32], starts[32], head[200], *json = NULL;
	long code;
	int rc = -1, fresh = h == NULL || strcmp(h->regex, w->regex) != 0 ||
	    h->starts[0] == '\0';

	clock_rfc3339(now + s->ttl_ms, ends);
	/* A renewal repeats the start; anything new starts a second ahead
	 * (see the top of the file). */
	if (fresh)
		clock_rfc3339(now + SILENCE_LEAD_MS, starts);
	else
		snprintf(starts, sizeof(starts), "%s", h->starts);
	if ((body = silence_body(h != NULL ? h->id : NULL, w->regex, starts,
	    ends, w->comment)) == NULL ||
	    (json = cJSON_PrintUnformatted(body)) == NULL) {
		cJSON_Delete(body);
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	cJSON_Delete(body);
	if (am_call(s, a, "POST", "/api/v2/silences", json, &b, &code,
	    err) == -1)
		goto out;
	if (code == 404 && h != NULL) {
		/* Alertmanager lost it (restarted without its data): a new
		 * one, next round. */
		log_info("deploy silence gone from alertmanager", "service",
		    w->service, "alertmanager", a->shown, "id", h->id);
		held_drop(a, h);
		rc = 0;
		goto out;
	}
	ans = code == 200 ? cJSON_ParseWithLength(b.body.p, b.body.len) :
	    NULL;
	if ((id = member(ans, "silenceID")) == NULL) {
		snprintf(err, ERR_MAX, "POST %s/api/v2/silences for %s answered "
		    "%ld: %s", a->shown, w->service, code, code == 200 ?
		    "no silenceID" : answer_head(&b, head, sizeof(head)));
		goto out;
	}
	if (h == NULL) {
		if ((h = held_add(a, w->service)) == NULL)
			goto nomem;
		log_info("deploy silence created", "service", w->service,
		    "alertmanager", a->shown, "id", id, "matcher", w->regex);
	} else if (strcmp(h->id, id) != 0) {
		log_info("deploy silence replaced", "service", w->service,
		    "alertmanager", a->shown, "id", id, "old_id", h->id,
		    "matcher", w->regex);
	} else {
		log_debug("deploy silence renewed", "service", w->service,
		    "alertmanager", a->shown, "id", id, "ends", ends);
	}
	if (set_text(&h->id, id) == -1 || set_text(&h->regex, w->regex) == -1 ||
	    set_text(&h->comment, w->comment) == -1)
		goto nomem;
	snprintf(h->starts, sizeof(h->starts), "%s", starts);
	h->ends_ms = now + s->ttl_ms;
	rc = 0;
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
	/* Unsure what is held: ask again next time. */
	a->synced = 0;
out:
	cJSON_Delete(ans);
	buf_release(&b.body);
	free(json);
	return rc;
}

/* Expires h's silence and forgets it. 0, or -1 with err. */
static int
am_expire(struct silencer *s, struct am *a, struct held *h, char err[ERR_MAX])
{
	struct httpbody b;
	char *path = NULL, head[200];
	long code;
	int rc = -1;

	if (asprintf(&path, "/api/v2/silence/%s", h->id) < 0) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	if (am_call(s, a, "DELETE", path, NULL, &b, &code, err) == -1)
		goto out;
	/* 404: gone; 500 "already expired": someone was first. */
	if (code != 200 && code != 404 &&
	    strstr(b.body.p, "already expired") == NULL) {
		snprintf(err, ERR_MAX, "DELETE %s%s answered %ld: %s", a->shown,
		    path, code, answer_head(&b, head, sizeof(head)));
		goto out;
	}
	log_info("deploy silence expired", "reason", "the update ended",
	    "service", h->service, "alertmanager", a->shown, "id", h->id);
	held_drop(a, h);
	rc = 0;
out:
	buf_release(&b.body);
	free(path);
	return rc;
}

/* One Alertmanager brought to want[0..n-1]. 0, or -1 with err. */
static int
am_round(struct silencer *s, struct am *a, const struct want *want,
    size_t n, char err[ERR_MAX])
{
	long long now = clock_wall_ms();
	size_t i, k;

	/* Before anything new: what is there already. */
	for (i = 0; i < n && a->synced; i++)
		if (held_find(a, want[i].service) == NULL)
			a->synced = 0;
	if (!a->synced && am_sync(s, a, err) == -1)
		return -1;
	for (i = 0; i < n && !stopping(s); i++) {
		struct held *h = held_find(a, want[i].service);

		if (h != NULL && strcmp(h->regex, want[i].regex) == 0 &&
		    strcmp(h->comment, want[i].comment) == 0 &&
		    h->ends_ms - now > s->ttl_ms * 2 / 3)
			continue;
		if (am_post(s, a, h, &want[i], now, err) == -1)
			return -1;
	}
	k = a->nheld;
	while (k-- > 0 && !stopping(s)) {
		for (i = 0; i < n; i++)
			if (strcmp(want[i].service, a->held[k].service) == 0)
				break;
		if (i == n && am_expire(s, a, &a->held[k], err) == -1)
			return -1;
	}
	return 0;
}

/*
 * The thread.
 */

/* Collects a service's alert names (registry_view_one's callback). */
struct names {
	char	**v;
	size_t	  n;
	int	  oom;
};

static int
names_of(void *ctx, struct registry *r, const struct registry_view *v)
{
	struct names *nm = ctx;
	size_t i;

	(void)r;
	if (v->svc == NULL || v->removed)
		return 0;
	for (i = 0; i < v->svc->nalerts; i++)
		if (strv_push(&nm->v, &nm->n, v->svc->alerts[i].name) == -1)
			nm->oom = 1;
	return 0;
}

static void
wants_free(struct want *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(w[i].service);
		free(w[i].regex);
	}
	free(w);
}

/* The silences the deploys under way want. 0, or -1 on ENOMEM. */
static int
wants_collect(struct silencer *s, struct want **out, size_t *nout)
{
	struct swarm_deploy *d = NULL;
	struct want *w = NULL;
	size_t nd = 0, i, n = 0, cap = 0;
	int rc = -1;

	if (swarmstate_deploying(s->ss, &d, &nd) == -1)
		return -1;
	for (i = 0; i < nd; i++) {
		struct names nm = { NULL, 0, 0 };
		char *re;

		(void)registry_view_one(s->r, d[i].name, names_of, &nm);
		if (nm.oom) {
			strv_free(nm.v, nm.n);
			goto out;
		}
		/* No alerts: nothing to hold. */
		re = silence_regex((const char *const *)nm.v, nm.n);
		strv_free(nm.v, nm.n);
		if (re == NULL && nm.n > 0)
			goto out;
		if (re == NULL)
			continue;
		if (BUF_ARRAY_GROW(w, n, cap) == -1) {
			free(re);
			goto out;
		}
		w[n].regex = re;
		if ((w[n].service = strdup(d[i].name)) == NULL) {
			free(re);
			goto out;
		}
		silence_comment(d[i].name, &d[i].st, w[n].comment,
		    sizeof(w[n].comment));
		n++;
	}
	rc = 0;
out:
	swarm_deploys_free(d, nd);
	if (rc == -1) {
		wants_free(w, n);
		w = NULL;
		n = 0;
	}
	*out = w;
	*nout = n;
	return rc;
}

/* One round over every Alertmanager whose pause is over. */
static void
round_all(struct silencer *s)
{
	struct want *want = NULL;
	size_t n = 0, i;
	char err[ERR_MAX];

	/* Until the Docker source has listed everything once, a deploy
	 * missing from the state may still be under way: wait. */
	if (swarmstate_rounds(s->ss) == 0)
		return;
	if (wants_collect(s, &want, &n) == -1) {
		log_error("out of memory: deploy silences not updated");
		return;
	}
	for (i = 0; i < s->nams && !stopping(s); i++) {
		struct am *a = &s->ams[i];

		/* Nothing held, nothing wanted: nothing to ask. */
		if ((n == 0 && a->synced && a->nheld == 0) ||
		    clock_ms() < a->retry_at)
			continue;
		if (am_round(s, a, want, n, err) == 0) {
			if (a->failing)
				log_info("alertmanager answers again, deploy "
				    "silences resume", "alertmanager",
				    a->shown);
			a->failing = 0;
			a->backoff_ms = s->retry_min_ms;
			continue;
		}
		if (stopping(s))
			break;
		__atomic_add_fetch(&a->errors, 1, __ATOMIC_RELAXED);
		if (!a->failing)
			log_warn("deploy silences failed, will retry",
			    "alertmanager", a->shown, "error", err);
		else
			log_debug("deploy silences failed", "alertmanager",
			    a->shown, "error", err);
		a->failing = 1;
		a->synced = 0;
		a->retry_at = clock_ms() + a->backoff_ms;
		a->backoff_ms = a->backoff_ms * 2 > s->retry_max_ms ?
		    s->retry_max_ms : a->backoff_ms * 2;
	}
	wants_free(want, n);
}

static void *
silence_main(void *arg)
{
	struct silencer *s = arg;

	do
		round_all(s);
	while (worker_sleep(&s->w, s->tick_ms) == 0);
	return NULL;
}

/*
 * Life cycle.
 */

/* Adds one URL of the list, parsed (url.h): the Alertmanager API base. 0,
 * or -1 with err. */
static int
am_add(struct silencer *s, const struct url *u, char err[ERR_MAX])
{
	struct am *a;
	size_t tl, sl;

	if (u->query != NULL || u->fragment != NULL) {
		snprintf(err, ERR_MAX, "--alertmanager-url \"%s\" has a query "
		    "or fragment", u->shown);
		return -1;
	}
	if (BUF_ARRAY_GROW(s->ams, s->nams, s->amscap) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	a = &s->ams[s->nams];
	memset(a, 0, sizeof(*a));
	for (tl = strlen(u->text); tl > 0 && u->text[tl - 1] == '/'; tl--)
		;
	for (sl = strlen(u->shown); sl > 0 && u->shown[sl - 1] == '/'; sl--)
		;
	if ((a->base = strndup(u->text, tl)) == NULL ||
	    (a->shown = strndup(u->shown, sl)) == NULL) {
		free(a->base);
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	a->backoff_ms = s->retry_min_ms;
	s->nams++;
	return 0;
}

static void
silencer_free(struct silencer *s)
{
	size_t i;

	for (i = 0; i < s->nams; i++) {
		am_forget(&s->ams[i]);
		free(s->ams[i].base);
		free(s->ams[i].shown);
	}
	free(s->ams);
	worker_release(&s->w);
	free(s);
}

struct silencer *
silence_start(const struct silence_options *o, struct swarmstate *ss,
    struct registry *r, char err[ERR_MAX])
{
	struct silencer *s;
	struct url *urls = NULL;
	size_t nurls = 0, i;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	s->ss = ss;
	s->r = r;
	s->ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : 180000;
	s->tick_ms = o->tick_ms > 0 ? o->tick_ms : 1000;
	s->retry_min_ms = o->retry_min_ms > 0 ? o->retry_min_ms : 1000;
	s->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 30000;
	if (s->retry_max_ms < s->retry_min_ms)
		s->retry_max_ms = s->retry_min_ms;
	if (worker_init(&s->w, err) == -1) {
		free(s);
		return NULL;
	}
	if (url_parse_list(o->urls != NULL ? o->urls : "", URL_HTTP,
	    "--alertmanager-url", &urls, &nurls, err) == -1)
		goto fail;
	for (i = 0; i < nurls; i++)
		if (am_add(s, &urls[i], err) == -1)
			goto fail;
	url_list_free(urls, nurls);
	urls = NULL;
	nurls = 0;
	if (s->nams == 0) {
		snprintf(err, ERR_MAX, "--alertmanager-url is empty");
		goto fail;
	}
	if (worker_start(&s->w, silence_main, s, "deploy silence", err) == -1)
		goto fail;
	{
		char shown[ERR_MAX];

		log_info("deploy silences on", "alertmanagers",
		    url_redact_list(o->urls, shown, sizeof(shown)));
	}
	return s;
fail:
	url_list_free(urls, nurls);
	silencer_free(s);
	return NULL;
}

void
silence_stop(struct silencer *s)
{
	if (s == NULL)
		return;
	worker_stop(&s->w);
	silencer_free(s);
}

void
silence_metrics(struct silencer *s, struct buf *b)
{
	size_t i;

	expo_family(b, "flowmon_deploy_silences", EXPO_GAUGE, "Deploy "
	    "silences flowmon holds in an Alertmanager now.");
	for (i = 0; i < s->nams; i++)
		expo_sample(b, "flowmon_deploy_silences", (long long)
		    __atomic_load_n(&s->ams[i].nheld_shown, __ATOMIC_RELAXED),
		    "alertmanager", s->ams[i].shown, NULL);
	expo_family(b, "flowmon_deploy_silence_errors_total", EXPO_COUNTER,
	    "Rounds of deploy silences an Alertmanager failed (no answer, or "
	    "an error).");
	for (i = 0; i < s->nams; i++)
		expo_sample(b, "flowmon_deploy_silence_errors_total", (long long)
		    __atomic_load_n(&s->ams[i].errors, __ATOMIC_RELAXED),
		    "alertmanager", s->ams[i].shown, NULL);
}
