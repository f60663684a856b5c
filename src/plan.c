/* plan.c: `flowmon plan`, the reconfigure path without the write.
 *
 * The stack files become services (compose.c); each service whose notify
 * label is "true" becomes the parameters swarm-listener would send
 * (dockermap_params(), the Docker source's own mapping); those are parsed
 * (request_parse()), rendered (render_rules(), render_settings()) and
 * judged by the daemon's verdict (verdict_rules(), one batch for promtool);
 * what comes out is compared with what runs (plan_live.c) and printed,
 * per service, as unchanged, new, changed, removed or refused, with a
 * unified diff (udiff.c). Nothing is written: the data dir is opened read
 * only, a running flowmon is only asked GET /services. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "advice.h"
#include "bounds.h"
#include "buf.h"
#include "compose.h"
#include "config.h"
#include "dockermap.h"
#include "hash.h"
#include "plan.h"
#include "parser.h"
#include "promtool.h"
#include "quota.h"
#include "render.h"
#include "request.h"
#include "shortcuts.h"
#include "store.h"
#include "strv.h"
#include "udiff.h"
#include "url.h"
#include "verdict.h"

#define PLAN_CONTEXT	3		/* lines around a change */

enum plan_status {
	PLAN_UNCHANGED,
	PLAN_NEW,
	PLAN_CHANGED,
	PLAN_REMOVED,
	PLAN_REFUSED
};

static const char *const status_words[] = { "unchanged", "new", "changed",
	"removed", "refused" };

/* One service of the plan: from the files, or live and gone from them. */
struct item {
	char		*name;		/* serviceName, or Spec.Name when the
					   service is not announced */
	int		 announced;
	struct kvlist	 params;	/* what swarm-listener would send */
	struct service	*svc;		/* parsed; NULL: refused, not
					   announced, or removed */
	char		*rules;		/* render_rules(svc), NULL: none */
	size_t		 rlen;
	char		*settings;	/* render_settings(svc) */
	size_t		 slen;
	uint64_t	 h_rules;	/* hash_content() of rules as
					   rendered, before redact() */
	const struct plan_live *live;	/* what runs under that name */
	enum plan_status status;
	char		**warnings;
	size_t		 nwarnings;
	char		**reasons;
	size_t		 nreasons;
	struct buf	 diff;		/* unified diffs, rules then targets */
};

struct plan {
	const struct config	*cfg;
	int			 json;		/* --format json */
	char			**errors;	/* what stopped the plan */
	size_t			 nerrors;
	struct parser		*parser;	/* the daemon's limits and table */
	char			*stack;		/* the stack's name */
	char			 prefix[SERVICE_NAME_MAX + 2];	/* "<stack>_" */
	struct compose		 compose;
	struct item		*v;
	size_t			 n;
	size_t			 cap;		/* v's room */
	struct plan_lives	 lives;
};

/* What stops the plan: said on standard error, and kept for the JSON
 * object (a CI parser gets JSON whatever happened). Returns -1. */
static int
plan_error(struct plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
plan_error(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	fprintf(stderr, "flowmon plan: %s\n", s != NULL ? s : "out of memory");
	if (s == NULL || strv_push(&p->errors, &p->nerrors, s) == -1)
		(void)strv_push(&p->errors, &p->nerrors, "out of memory");
	free(s);
	return -1;
}

static int
oom(struct plan *p)
{
	return plan_error(p, "out of memory");
}

static int
add_text(char ***v, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
add_text(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	r = strv_push(v, n, s);
	free(s);
	return r;
}

static struct item *
item_add(struct plan *p, const char *name)
{
	struct item *nv;

	if (BUF_ARRAY_GROW(p->v, p->n, p->cap) == -1)
		return NULL;
	nv = &p->v[p->n];
	memset(nv, 0, sizeof(*nv));
	if ((nv->name = strdup(name)) == NULL)
		return NULL;
	p->n++;
	return nv;
}

static void
item_release(struct item *it)
{
	free(it->name);
	kvlist_release(&it->params);
	service_free(it->svc);
	free(it->rules);
	free(it->settings);
	strv_free(it->warnings, it->nwarnings);
	strv_free(it->reasons, it->nreasons);
	buf_release(&it->diff);
}

/*
 * The stack files.
 */

static const char *
lookup_env(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static int
read_files(struct plan *p)
{
	char err[ERR_MAX], *buf;
	size_t i, len;

	for (i = 0; i < p->cfg->nargs; i++) {
		const char *file = p->cfg->args[i];

		if (store_read_file(file, BOUND_STACK_FILE_MAX, &buf, &len,
		    err) == -1)
			return plan_error(p, "%s", err);
		if (compose_read(&p->compose, buf, len, lookup_env, NULL,
		    err) == -1) {
			free(buf);
			return plan_error(p, "%s: %s", file, err);
		}
		free(buf);
	}
	return 0;
}

/* The name docker compose makes of the directory holding file: lower
 * case, [a-z0-9_-] only, not starting with '_' or '-'. NULL when there is
 * none (or on ENOMEM). */
static char *
dir_stack_name(const char *file)
{
	char *copy, *real = NULL, *out = NULL, *o;
	const char *s;

	if ((copy = strdup(file)) == NULL ||
	    (real = realpath(dirname(copy), NULL)) == NULL ||
	    (out = malloc(strlen(real) + 1)) == NULL)
		goto out;
	for (s = strrchr(real, '/') + 1, o = out; *s != '\0'; s++) {
		char c = (char)tolower((unsigned char)*s);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    ((c == '_' || c == '-') && o > out))
			*o++ = c;
	}
	*o = '\0';
	if (*out == '\0' || strlen(out) >= SERVICE_NAME_MAX) {
		free(out);
		out = NULL;
	}
out:
	free(real);
	free(copy);
	return out;
}

/* --stack, else the name of the first file's directory. */
static int
stack_name(struct plan *p)
{
	const char *given = p->cfg->stack;

	if (given != NULL && (!service_name_valid(given) ||
	    strlen(given) >= SERVICE_NAME_MAX))
		return plan_error(p, "--stack \"%.100s\" must be a name of "
		    "[A-Za-z0-9_.-] starting with a letter or digit", given);
	p->stack = given != NULL ? strdup(given) :
	    dir_stack_name(p->cfg->args[0]);
	if (p->stack == NULL)
		return plan_error(p, "no stack name from the directory of %s: "
		    "give --stack NAME (as to docker stack deploy)",
		    p->cfg->args[0]);
	snprintf(p->prefix, sizeof(p->prefix), "%s_", p->stack);
	return 0;
}

/* What a stack file's service shows in the wrong place, in the words
 * the explain API and the Docker source use (dockermap_remark_labels(),
 * advice.h): com.df.* labels on the containers, or without the notify
 * label. */
static int
warn_labels(struct item *it, const struct compose_service *s,
    const char *notify_label)
{
	char out[ADVICE_MAX];

	if (dockermap_remark_labels(&s->deploy_labels, &s->labels,
	    notify_label, out) == DOCKERMAP_REMARK_NONE)
		return 0;
	return strv_push(&it->warnings, &it->nwarnings, out);
}

/* Each service of the files as swarm-listener would announce it. */
static int
announce(struct plan *p)
{
	const char *notify_label = p->cfg->docker_notify_label;
	char err[ERR_MAX], name[2 * SERVICE_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < p->compose.n; i++) {
		const struct compose_service *s = &p->compose.v[i];
		struct dockermap_spec spec;
		struct kvlist labels = { 0 }, params = { 0 };
		struct item *it;
		int rc;

		snprintf(name, sizeof(name), "%s%s", p->prefix, s->name);
		/* Docker labels a stack's services with their stack. */
		if (kvlist_copy(&labels, &s->deploy_labels) == -1 ||
		    kvlist_set(&labels, "com.docker.stack.namespace",
		    p->stack) == -1)
			return oom(p);
		kvlist_sort(&labels);
		memset(&spec, 0, sizeof(spec));
		spec.name = name;
		spec.labels = &labels;
		spec.mode = s->mode == COMPOSE_GLOBAL ||
		    s->mode == COMPOSE_GLOBAL_JOB ? DOCKERMAP_GLOBAL :
		    s->mode == COMPOSE_REPLICATED_JOB ? DOCKERMAP_NO_MODE :
		    DOCKERMAP_REPLICATED;
		/* Docker runs one replica when none is given. */
		spec.replicas = s->has_replicas ? s->replicas : 1;
		rc = dockermap_params(&spec, notify_label, &params, err);
		kvlist_release(&labels);
		if (rc == -1)
			return oom(p);
		if ((it = item_add(p, rc == 1 ? kvlist_get(&params,
		    "serviceName") : name)) == NULL) {
			kvlist_release(&params);
			return oom(p);
		}
		it->announced = rc == 1;
		it->params = params;
		if (warn_labels(it, s, notify_label) == -1)
			return oom(p);
	}
	return 0;
}

/*
 * What runs.
 */

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name,
	    ((const struct item *)b)->name);
}

/* The live services the plan looks at: those under the stack's prefix
 * and those its services are named (com.df.shortName drops the
 * prefix). */
static int
want(void *ctx, const char *base)
{
	struct plan *p = ctx;
	struct item key;

	if (strncmp(base, p->prefix, strlen(p->prefix)) == 0)
		return 1;
	key.name = (char *)base;
	return p->n > 0 && bsearch(&key, p->v, p->n, sizeof(*p->v),
	    item_cmp) != NULL;
}

static int
live_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan_live *)a)->name,
	    ((const struct plan_live *)b)->name);
}

static const struct plan_live *
live_of(const struct plan *p, const char *name)
{
	struct plan_live key;

	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	return p->lives.n == 0 ? NULL : bsearch(&key, p->lives.v, p->lives.n,
	    sizeof(*p->lives.v), live_cmp);
}

static int
load_lives(struct plan *p)
{
	char err[ERR_MAX];
	int rc = 0;

	if (p->cfg->data_dir != NULL)
		rc = plan_live_dir(p->cfg->data_dir, parser_ctx(p->parser), want,
		    p, &p->lives, err);
	else if (p->cfg->against != NULL)
		rc = plan_live_api(p->cfg->against, p->cfg->reload_auth_file,
		    parser_ctx(p->parser), want, p, &p->lives, err);
	if (rc == -1)
		return plan_error(p, "%s", err);
	return rc;
}

/*
 * The verdict.
 */

/* A refusal's reason, shown as everything is (url.h): a message may
 * quote a value with a URL's password in it. */
static int
refuse(struct item *it, const char *why)
{
	char *shown;
	int rc;

	it->status = PLAN_REFUSED;
	if ((shown = url_redact_dup(why)) == NULL)
		return -1;
	rc = strv_push(&it->reasons, &it->nreasons, shown);
	free(shown);
	return rc;
}

/* Parses and renders an announced service as a reconfigure does. */
static int
parse_one(struct plan *p, struct item *it)
{
	char err[ERR_MAX];

	if ((it->svc = calloc(1, sizeof(*it->svc))) == NULL)
		return -1;
	if (request_parse(&it->params, parser_ctx(p->parser), it->svc,
	    err) == -1) {
		free(it->svc);
		it->svc = NULL;
		return refuse(it, err);
	}
	if (render_rules(it->svc, 0, &it->rules, &it->rlen, err) == -1 ||
	    render_settings(it->svc, &it->settings, &it->slen, err) == -1)
		return refuse(it, err);
	return 0;
}

/* Every announced service parsed, rendered and judged. */
static int
judge(struct plan *p, struct promtool *pt)
{
	struct verdict *v;
	size_t i, n = 0;
	int rc = -1;

	if ((v = calloc(p->n + 1, sizeof(*v))) == NULL)
		return oom(p);
	for (i = 0; i < p->n; i++) {
		struct item *it = &p->v[i];

		if (!it->announced)
			continue;
		if (i > 0 && p->v[i - 1].announced &&
		    strcmp(p->v[i - 1].name, it->name) == 0) {
			if (refuse(it, "another service of the stack is "
			    "announced under this name too") == -1)
				goto out;
			continue;
		}
		if (parse_one(p, it) == -1)
			goto out;
		if (it->svc == NULL || it->status == PLAN_REFUSED)
			continue;
		it->live = live_of(p, it->name);
		snprintf(v[n].shown, sizeof(v[n].shown), "rules/%.200s.yml",
		    it->name);
		v[n].svc = it->svc;
		v[n].buf = it->rules;
		v[n].len = it->rlen;
		/* As the daemon: a file like the one on disk (judged when it
		 * was written) or the very version rejected (kept out) gets
		 * its bounds checked only. */
		v[n].bounds_only = it->rules == NULL || (it->live != NULL &&
		    ((it->live->rules != NULL && it->live->rlen == it->rlen &&
		    memcmp(it->live->rules, it->rules, it->rlen) == 0) ||
		    (it->live->rejected && it->live->h_rejected ==
		    hash_content(it->rules, it->rlen))));
		n++;
	}
	/* The one verdict of a rule file before it is written, as
	 * registry_upsert() runs it, all the plan's files in one batch. */
	verdict_rules(pt, &parser_limits(p->parser)->quota, v, n);
	for (i = n = 0; i < p->n; i++) {
		struct item *it = &p->v[i];

		if (it->svc == NULL || it->status == PLAN_REFUSED ||
		    !it->announced)
			continue;
		if (v[n].kind != FM_OK && refuse(it, v[n].reason) == -1)
			goto out;
		n++;
	}
	rc = 0;
out:
	if (rc == -1)
		oom(p);
	free(v);
	return rc;
}

/*
 * The comparison.
 */

/* *s (*n bytes, NULL: none) as flowmon shows it (url.h): no URL's user
 * name or password. 0, or -1 on ENOMEM. */
static int
shown_text(char **s, size_t *n)
{
	struct buf b = BUF_INIT;

	if (*s == NULL || !url_text_may_hide(*s, *n))
		return 0;
	if (url_redact_buf(&b, *s, *n) == -1) {
		buf_release(&b);
		return -1;
	}
	free(*s);
	return (*s = buf_detach(&b, n)) != NULL ? 0 : -1;
}

/* What is compared and shown, both sides alike, as flowmon shows it: the
 * API answers the running services redacted (/services), and a plan's
 * output goes to CI logs. So a change within a URL's password alone
 * plans as unchanged. */
static int
redact(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct item *it = &p->v[i];

		if (it->rules != NULL)
			it->h_rules = hash_content(it->rules, it->rlen);
		if (shown_text(&it->rules, &it->rlen) == -1 ||
		    shown_text(&it->settings, &it->slen) == -1)
			return oom(p);
	}
	for (i = 0; i < p->lives.n; i++)
		if (shown_text(&p->lives.v[i].rules, &p->lives.v[i].rlen) ==
		    -1 || shown_text(&p->lives.v[i].settings,
		    &p->lives.v[i].slen) == -1)
			return oom(p);
	return 0;
}

/* Appends the diff of one file (a -> b, either NULL: none) to it->diff:
 * the rule file (rules 1, "rules/<name>.yml") or the target settings
 * ("targets/<name>.settings"). */
static int
diff_one(struct item *it, int rules, const char *a, size_t alen,
    const char *b, size_t blen)
{
	char an[SERVICE_NAME_MAX + 64], bn[SERVICE_NAME_MAX + 64];
	const char *kind = rules ? "rules" : "targets";
	const char *ext = rules ? "yml" : "settings";
	char *d;
	size_t dlen;
	int rc;

	if (a != NULL)
		snprintf(an, sizeof(an), "live/%s/%s.%s", kind, it->name, ext);
	else
		snprintf(an, sizeof(an), "/dev/null");
	if (b != NULL)
		snprintf(bn, sizeof(bn), "plan/%s/%s.%s", kind, it->name, ext);
	else
		snprintf(bn, sizeof(bn), "/dev/null");
	if (udiff(a ? a : "", a ? alen : 0, b ? b : "", b ? blen : 0, an, bn,
	    PLAN_CONTEXT, &d, &dlen) == -1)
		return -1;
	if (d == NULL)
		return 0;
	rc = buf_add(&it->diff, d, dlen);
	free(d);
	return rc;
}

/* An announced service against what runs under its name. */
static int
compare_one(struct item *it)
{
	const struct plan_live *l = it->live;
	char rname[SERVICE_NAME_MAX + 8];

	snprintf(rname, sizeof(rname), "%s.yml", it->name);
	/* The file set aside (a data dir's) or the version the API shows
	 * rejected (rendered from its redacted answer). */
	if (l != NULL && l->rejected && it->rules != NULL &&
	    (l->h_rejected == it->h_rules ||
	    l->h_rejected == hash_content(it->rules, it->rlen))) {
		/* The daemon keeps this very file set aside. */
		it->status = PLAN_REFUSED;
		return add_text(&it->reasons, &it->nreasons, "Prometheus "
		    "refused this very rule file (rejected/%s)%s%.300s: it "
		    "stays out until the alerts change", rname,
		    l->why_rejected ? ": " : "", l->why_rejected ?
		    l->why_rejected : "");
	}
	if (l == NULL)
		it->status = PLAN_NEW;
	else if (l->settings == NULL)
		it->status = PLAN_CHANGED;	/* the live record is invalid */
	else if ((l->rules == NULL) != (it->rules == NULL) || (l->rules &&
	    (l->rlen != it->rlen || memcmp(l->rules, it->rules, it->rlen))) ||
	    l->slen != it->slen || memcmp(l->settings, it->settings,
	    it->slen) != 0)
		it->status = PLAN_CHANGED;
	else
		return 0;	/* unchanged */
	if (l != NULL && l->invalid != NULL && l->settings == NULL &&
	    add_text(&it->reasons, &it->nreasons, "the running record does "
	    "not load: %.400s", l->invalid) == -1)
		return -1;
	if (diff_one(it, 1, l ? l->rules : NULL, l ? l->rlen : 0,
	    it->rules, it->rlen) == -1 ||
	    diff_one(it, 0, l ? l->settings : NULL, l ? l->slen : 0,
	    it->settings, it->slen) == -1)
		return -1;
	return 0;
}

/* A live service the files no longer announce: its targets go, and its
 * rule file keeps only its persistent alerts (if any). */
static int
compare_removed(struct item *it, const struct plan_live *l)
{
	char err[ERR_MAX], *after = NULL;
	size_t alen = 0;
	int rc;

	it->status = PLAN_REMOVED;
	it->live = l;
	if (l->svc != NULL && (render_rules(l->svc, 1, &after, &alen,
	    err) == -1 || shown_text(&after, &alen) == -1)) {
		free(after);
		return -1;
	}
	rc = diff_one(it, 1, l->rules, l->rlen, after, alen) == -1 ||
	    diff_one(it, 0, l->settings, l->slen, NULL, 0) == -1 ?
	    -1 : 0;
	free(after);
	return rc;
}

static int
compare(struct plan *p)
{
	size_t i, n = p->n;

	for (i = 0; i < n; i++) {
		struct item *it = &p->v[i];
		const struct plan_live *l;

		if (it->status == PLAN_REFUSED)
			continue;
		if (it->announced) {
			if (compare_one(it) == -1)
				return oom(p);
		} else if ((l = live_of(p, it->name)) != NULL) {
			if (add_text(&it->reasons, &it->nreasons, "not "
			    "announced any more (%s is not \"true\")",
			    p->cfg->docker_notify_label) == -1 ||
			    compare_removed(it, l) == -1)
				return oom(p);
		}
	}
	/* Live under the stack's prefix, in no file. */
	for (i = 0; i < p->lives.n; i++) {
		const struct plan_live *l = &p->lives.v[i];
		struct item key, *it;

		key.name = l->name;
		if (strncmp(l->name, p->prefix, strlen(p->prefix)) != 0 ||
		    (n > 0 && bsearch(&key, p->v, n, sizeof(*p->v),
		    item_cmp) != NULL))
			continue;
		if ((it = item_add(p, l->name)) == NULL ||
		    compare_removed(it, l) == -1)
			return oom(p);
	}
	if (p->n > 0)
		qsort(p->v, p->n, sizeof(*p->v), item_cmp);
	return 0;
}

/*
 * Output.
 */

/* A service the output shows: announced, removed, or warned about. */
static int
shown(const struct item *it)
{
	return it->announced || it->status != PLAN_UNCHANGED ||
	    it->nwarnings > 0;
}

static void
print_text(const struct plan *p, FILE *out)
{
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		const struct item *it = &p->v[i];

		if (!shown(it))
			continue;
		fprintf(out, "%s: %s", it->name, status_words[it->status]);
		for (k = 0; k < it->nreasons; k++)
			fprintf(out, "%s%s", k == 0 ? ": " : "; ",
			    it->reasons[k]);
		fputc('\n', out);
		for (k = 0; k < it->nwarnings; k++)
			fprintf(out, "%s: warning: %s\n", it->name,
			    it->warnings[k]);
		if (it->diff.p != NULL)
			fwrite(it->diff.p, 1, it->diff.len, out);
	}
}

static cJSON *
strings_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* The contract's object: {"services": [...], "errors": [...]}, the
 * services only once the plan was made (complete), the errors that
 * stopped it (none when it was made). 0, or -1 on ENOMEM. */
static int
print_json(const struct plan *p, int complete, FILE *out)
{
	cJSON *o = cJSON_CreateObject(), *arr, *s;
	char *text = NULL;
	size_t i;
	int rc = -1;

	if (o == NULL || (arr = cJSON_AddArrayToObject(o, "services")) == NULL)
		goto out;
	for (i = 0; complete && i < p->n; i++) {
		const struct item *it = &p->v[i];

		if (!shown(it))
			continue;
		if ((s = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			goto out;
		}
		if (cJSON_AddStringToObject(s, "serviceName", it->name) ==
		    NULL || cJSON_AddStringToObject(s, "status",
		    status_words[it->status]) == NULL ||
		    !cJSON_AddItemToObject(s, "warnings",
		    strings_json(it->warnings, it->nwarnings)) ||
		    !cJSON_AddItemToObject(s, "reasons",
		    strings_json(it->reasons, it->nreasons)) ||
		    cJSON_AddStringToObject(s, "diff", it->diff.p ?
		    it->diff.p : "") == NULL)
			goto out;
	}
	if (!cJSON_AddItemToObject(o, "errors", strings_json(p->errors,
	    p->nerrors)) || (text = cJSON_Print(o)) == NULL)
		goto out;
	fprintf(out, "%s\n", text);
	rc = 0;
out:
	cJSON_free(text);
	cJSON_Delete(o);
	return rc;
}

/* The JSON object of a plan that could not be made. */
static void
print_json_failed(const struct plan *p, FILE *out)
{
	if (print_json(p, 0, out) == -1)
		fprintf(out, "{\"services\": [], \"errors\": [\"out of "
		    "memory\"]}\n");
	fflush(out);
}

/* 1 when argv asks for --format json (for a command line config_parse
 * refused, so that its error comes as JSON too). */
static int
argv_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--format=json") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "json") == 0))
			return 1;
	return 0;
}

/* The summary on standard error, and the exit status. */
static int
summary(const struct plan *p)
{
	size_t count[5] = { 0 }, warnings = 0, i;

	for (i = 0; i < p->n; i++) {
		if (!shown(&p->v[i]))
			continue;
		count[p->v[i].status]++;
		warnings += p->v[i].nwarnings;
	}
	fprintf(stderr, "flowmon plan: stack %s: %zu new, %zu changed, %zu "
	    "unchanged, %zu removed, %zu refused; %zu warning%s\n", p->stack,
	    count[PLAN_NEW], count[PLAN_CHANGED], count[PLAN_UNCHANGED],
	    count[PLAN_REMOVED], count[PLAN_REFUSED], warnings,
	    warnings == 1 ? "" : "s");
	if (count[PLAN_REFUSED] > 0)
		return 2;
	return count[PLAN_NEW] + count[PLAN_CHANGED] + count[PLAN_REMOVED] >
	    0 ? 1 : 0;
}

/*
 * The command.
 */

static int
plan_setup(struct plan *p, struct shortcuts **sc, struct promtool **pt)
{
	char err[ERR_MAX];

	if (p->cfg->nargs == 0)
		return plan_error(p, "no stack file given (see flowmon plan "
		    "--help)");
	if (p->cfg->data_dir != NULL && p->cfg->against != NULL)
		return plan_error(p, "--data-dir and --against go alone: "
		    "compare with one or the other");
	/* The daemon's limits, the daemon's shortcut table. */
	if ((*sc = shortcuts_load(p->cfg->shortcuts, p->cfg->secrets_dir,
	    err)) == NULL)
		return plan_error(p, "cannot load the shortcuts: %s", err);
	if ((p->parser = parser_new(p->cfg, *sc)) == NULL)
		return oom(p);
	*sc = NULL;	/* the parser's now */
	if (p->cfg->promtool == NULL)
		fprintf(stderr, "note: no promtool (--promtool): rule files "
		    "are checked by flowmon's own parser only\n");
	else if ((*pt = promtool_new(p->cfg->promtool, 0, err)) == NULL)
		return plan_error(p, "cannot set up promtool: %s", err);
	return 0;
}

int
plan_main(int argc, char **argv)
{
	struct shortcuts *sc = NULL;
	struct promtool *pt = NULL;
	struct config cfg;
	struct plan p;
	char err[ERR_MAX];
	size_t i;
	int rc, curl_ok = 0;

	memset(&p, 0, sizeof(p));
	if ((rc = config_parse(&cfg, CONFIG_PLAN, argc, argv, err)) != 0) {
		if (rc == -1) {
			plan_error(&p, "%s", err);
			if (argv_json(argc, argv))
				print_json_failed(&p, stdout);
		}
		strv_free(p.errors, p.nerrors);
		config_release(&cfg);
		return rc == 1 ? 0 : 2;
	}
	p.cfg = &cfg;
	p.json = strcmp(cfg.format, "json") == 0;
	rc = 2;
	if (plan_setup(&p, &sc, &pt) == -1 || read_files(&p) == -1 ||
	    stack_name(&p) == -1 || announce(&p) == -1)
		goto out;
	if (p.n > 0)
		qsort(p.v, p.n, sizeof(*p.v), item_cmp);
	if (cfg.against != NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			plan_error(&p, "libcurl initialisation failed");
			goto out;
		}
		curl_ok = 1;
	}
	if (load_lives(&p) == -1 || judge(&p, pt) == -1 ||
	    redact(&p) == -1 || compare(&p) == -1)
		goto out;
	if (p.json) {
		if (print_json(&p, 1, stdout) == -1) {
			oom(&p);
			goto out;
		}
	} else {
		print_text(&p, stdout);
	}
	fflush(stdout);
	rc = summary(&p);
out:
	if (rc == 2 && p.nerrors > 0 && p.json)
		print_json_failed(&p, stdout);
	strv_free(p.errors, p.nerrors);
	for (i = 0; i < p.n; i++)
		item_release(&p.v[i]);
	free(p.v);
	plan_lives_release(&p.lives);
	compose_release(&p.compose);
	free(p.stack);
	promtool_free(pt);
	parser_free(p.parser);
	shortcuts_free(sc);
	if (curl_ok)
		curl_global_cleanup();
	config_release(&cfg);
	return rc;
}
