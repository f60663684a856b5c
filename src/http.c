/* http.c: routes, parameter decoding (query string and form body) and the
 * answers (their DFM-shaped bodies are replies.c's). Turns module errors
 * into status codes. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <cJSON.h>
#include <microhttpd.h>

#include "advice.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "docker.h"
#include "explain.h"
#include "files.h"
#include "expo.h"
#include "http.h"
#include "http_guard.h"
#include "log.h"
#include "metrics.h"
#include "parser.h"
#include "promapi.h"
#include "registry.h"
#include "reloader.h"
#include "replies.h"
#include "request.h"
#include "silence.h"
#include "swarmstate.h"
#include "ui.h"
#include "views.h"

#define API "/v1/docker-flow-monitor"
#define UI_SERVICE "/ui/services/"

struct http {
	struct MHD_Daemon	*mhd;
	const struct config	*cfg;
	struct registry		*reg;
	struct reloader		*rl;
	struct files		*files;		/* atomic: set once, may be NULL */
	struct parser		*parser;	/* main's; NULL in a standby */
	time_t			 started;
	struct http_guard	 guard;		/* auth, limits, TLS */
	struct taskdns		*td;		/* atomic: set once, may be NULL */
	struct swarmstate	*ss;		/* atomic: set once, may be NULL */
	struct silencer		*sil;		/* atomic: set once, may be NULL */
	/* The explain API and the status page (atomic: set once). */
	struct history		*hist;
	struct promapi		*prom;
	int			 prom_none;	/* --prometheus-url none */
	/* Read-locked by a request while it reads the Docker source's
	 * remarks, so that http_set_docker(h, NULL) can wait for it before
	 * the source stops. */
	pthread_rwlock_t	 dklock;
	struct docker		*docker;
};

/* Per-request state: the request body, bounded by cfg->max_body. */
struct conn {
	struct buf body;
	int	 too_big;
	int	 started;	/* the handler's first call is done */
	int	 nul_path;	/* the path holds %00 */
	enum metrics_endpoint ep;	/* route_admit()'s, on the first call */
};

/* A reply under construction. */
struct reply {
	int	 code;
	char	*body;		/* malloc'd */
	const char *type;
	const char *extra_header;
	const char *extra_value;
	int	 page;		/* the status page: its security headers */
};

static void
reply_json(struct reply *r, int code, cJSON *o)
{
	r->code = code;
	r->type = "application/json";
	r->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
}

/* A JSON text already printed (NULL: out of memory, a 500). */
static void
reply_json_text(struct reply *r, int code, char *text)
{
	r->code = code;
	r->type = "application/json";
	r->body = text;
}

static void
reply_error(struct reply *r, int code, const char *msg, const char *name)
{
	cJSON *o = status_json(code, msg);

	if (o != NULL && name != NULL)
		cJSON_AddStringToObject(o, "serviceName", name);
	reply_json(r, code, o);
}

/* A storage error names the errno, so operators see ENOSPC/EROFS. */
static void
add_errno(cJSON *o, int errnum)
{
	const char *en = strerrorname_np(errnum);

	if (o != NULL)
		cJSON_AddStringToObject(o, "Errno", en ? en : "unknown");
}

/* The one place that maps a module's error kind to a status code:
 * refused input is a 400, a transient failure a 503, the rest (storage,
 * an invalid record, memory) a 500, which names the errno. */
static int
fail_code(enum fm_err kind)
{
	switch (kind) {
	case FM_REFUSED:
		return 400;
	case FM_CONFLICT:
		return 409;
	case FM_RETRY:
		return 503;
	default:
		return 500;
	}
}

/* Collects query arguments; refuses a value holding a NUL byte. */
struct collect {
	struct kvlist	*params;
	char		 err[ERR_MAX];
	int		 failed;
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct collect *c = cls;

	(void)kind;
	if (value == NULL) {
		value = "";
		value_size = 0;
	}
	if (strlen(key) != key_size || strlen(value) != value_size) {
		snprintf(c->err, ERR_MAX, "parameter %.100s holds a NUL byte",
		    key);
		c->failed = 1;
		return MHD_NO;
	}
	/* Appended as they come; request_params() dedupes once. */
	if (kvlist_add(c->params, key, value) == -1) {
		snprintf(c->err, ERR_MAX, "out of memory");
		c->failed = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* Query parameters, then form-body parameters (the body wins). */
static int
request_params(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    struct kvlist *params, char err[ERR_MAX])
{
	struct collect c = { params, "", 0 };
	const char *ct;

	MHD_get_connection_values_n(mc, MHD_GET_ARGUMENT_KIND, collect_arg,
	    &c);
	if (c.failed) {
		snprintf(err, ERR_MAX, "%s", c.err);
		return -1;
	}
	/* Counted before anything is decoded (--max-params). */
	if (request_check_count(h->parser != NULL ? parser_ctx(h->parser) :
	    NULL, params->n +
	    request_form_count(cs->body.p, cs->body.len), err) == -1)
		return -1;
	if (cs->body.len == 0) {
		if (kvlist_dedupe_ci(params) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
		return 0;
	}
	ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0) {
		snprintf(err, ERR_MAX, "request body must be "
		    "application/x-www-form-urlencoded, not %.100s", ct);
		return -1;
	}
	return request_decode_form(cs->body.p, cs->body.len, params, err);
}

/* A refused or failed reconfigure or remove, in DFM's shape. */
static void
reply_service_error(struct reply *rp, int code, const char *msg,
    const char *name, int errnum)
{
	cJSON *o = dfm_service_json(code, msg, NULL, name, 0);

	if (errnum != 0)
		add_errno(o, errnum);
	reply_json(rp, code, o);
}

static void
reply_node_error(struct reply *rp, int code, const char *msg,
    const char *id, int errnum)
{
	cJSON *o = dfm_node_json(code, msg, id, NULL);

	if (errnum != 0)
		add_errno(o, errnum);
	reply_json(rp, code, o);
}

static void
do_reconfigure(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    struct reply *rp)
{
	struct kvlist params = { 0 };
	struct registry_result res;
	struct service *svc = NULL;
	char err[ERR_MAX], name[SERVICE_NAME_MAX + 1];
	const char *result;
	cJSON *o;
	int rc;

	if (request_params(h, mc, cs, &params, err) == -1) {
		reply_service_error(rp, 400, err, NULL, 0);
		goto out;
	}
	if ((svc = calloc(1, sizeof(*svc))) == NULL) {
		reply_service_error(rp, 500, "out of memory", NULL, 0);
		goto out;
	}
	if (parser_parse(h->parser, &params, svc, err) == -1) {
		log_info("reconfigure refused", "service",
		    kvlist_get_ci(&params, "serviceName"), "error", err);
		registry_refused(h->reg, kvlist_get_ci(&params, "serviceName"),
		    SERVICE_SOURCE_WEBHOOK, err);
		reply_service_error(rp, 400, err, kvlist_get_ci(&params,
		    "serviceName"), 0);
		goto out;
	}
	svc->source = SERVICE_SOURCE_WEBHOOK;
	/* Built before the registry takes svc over. */
	if ((o = dfm_service_json(200, "", svc, svc->name, 0)) == NULL) {
		reply_service_error(rp, 500, "out of memory", svc->name, 0);
		goto out;
	}
	snprintf(name, sizeof(name), "%s", svc->name);
	rc = registry_upsert(h->reg, svc, &res, err);
	svc = NULL;
	if (rc == -1 && (res.fail == FM_REFUSED || res.fail == FM_CONFLICT)) {
		cJSON_Delete(o);
		log_info("reconfigure refused", "service", name, "error", err);
		reply_service_error(rp, fail_code(res.fail), err, name, 0);
		goto out;
	}
	if (rc == -1) {
		int saved = errno;

		cJSON_Delete(o);
		log_error("cannot apply reconfigure", "service", name, "error",
		    err);
		reply_service_error(rp, fail_code(res.fail), err, name, saved);
		goto out;
	}
	result = res.wrote_state || res.wrote_targets || res.wrote_rules ?
	    "service configured" : "no change";
	log_info("reconfigure", "service", name, "result", result, "rules",
	    rule_state_name(res.rules));
	result_json(o, result, &res);
	reply_json(rp, 200, o);
out:
	service_free(svc);
	kvlist_release(&params);
}

/* Copies the record's parameters of a known, active service. */
static int
copy_params(void *ctx, struct registry *r, const struct registry_view *v)
{
	(void)r;
	if (v->svc == NULL || v->removed)
		return 0;
	return kvlist_copy(ctx, &v->svc->params) == -1 ? -1 : 0;
}

/* The service as the registry has it now (NULL if unknown, removed or
 * unreadable), parsed again from its record, for the remove answer. */
static struct service *
service_before_remove(struct http *h, const char *name)
{
	struct kvlist params = { 0 };
	struct service *svc = NULL;
	char err[ERR_MAX];

	if (registry_view_one(h->reg, name, copy_params, &params) != 1 ||
	    params.n == 0)
		goto out;
	if ((svc = calloc(1, sizeof(*svc))) != NULL &&
	    parser_parse(h->parser, &params, svc, err) == -1) {
		free(svc);
		svc = NULL;
	}
out:
	kvlist_release(&params);
	return svc;
}

static void
do_remove(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    struct reply *rp)
{
	struct kvlist params = { 0 };
	struct registry_result res;
	struct service *old = NULL;
	const char *name, *result;
	char err[ERR_MAX];
	cJSON *o;

	if (request_params(h, mc, cs, &params, err) == -1) {
		reply_service_error(rp, 400, err, NULL, 0);
		goto out;
	}
	if ((name = kvlist_get_ci(&params, "serviceName")) == NULL ||
	    *name == '\0') {
		reply_service_error(rp, 400, "serviceName is required", NULL,
		    0);
		goto out;
	}
	if (!service_name_valid(name)) {
		snprintf(err, ERR_MAX, "serviceName \"%.100s\" must be 1..%d "
		    "of [A-Za-z0-9_.-] starting with a letter or digit", name,
		    SERVICE_NAME_MAX);
		reply_service_error(rp, 400, err, NULL, 0);
		goto out;
	}
	old = service_before_remove(h, name);
	if (registry_remove(h->reg, name, &res, err) == -1) {
		int saved = errno;

		log_error("cannot remove service", "service", name, "error",
		    err);
		reply_service_error(rp, fail_code(res.fail), err, name, saved);
		goto out;
	}
	result = res.unknown ? "service was not known" : "service removed";
	log_info("remove", "service", name, "result", res.unknown ?
	    "unknown" : "removed");
	o = dfm_service_json(200, "", res.unknown ? NULL : old, name, 1);
	result_json(o, result, &res);
	reply_json(rp, 200, o);
out:
	service_free(old);
	kvlist_release(&params);
}

static void
do_node(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    struct reply *rp, int remove)
{
	struct kvlist params = { 0 }, labels = { 0 };
	struct registry_result res;
	const char *id, *result;
	char err[ERR_MAX];
	enum fm_err k;
	int rc, saved;
	cJSON *o;

	if (request_params(h, mc, cs, &params, err) == -1) {
		reply_node_error(rp, 400, err, NULL, 0);
		goto out;
	}
	if ((id = kvlist_get_ci(&params, "id")) == NULL || *id == '\0') {
		reply_node_error(rp, 400, "id is required (the node's ID)",
		    NULL, 0);
		goto out;
	}
	if (!service_name_valid(id)) {
		snprintf(err, ERR_MAX, "id \"%.100s\" is not a node ID "
		    "([A-Za-z0-9_.-], at most %d)", id, SERVICE_NAME_MAX);
		reply_node_error(rp, 400, err, NULL, 0);
		goto out;
	}
	/* Only the labels named in DF_NODE_TARGET_LABELS, '-' made '_',
	 * each within --max-value-bytes. */
	if (!remove && (k = parser_node(h->parser, &params, &labels,
	    err)) != FM_OK) {
		reply_node_error(rp, k == FM_REFUSED ? 400 : 500, err, id, 0);
		goto out;
	}
	/* A remove answers with the labels that go. */
	if (remove && registry_node_labels(h->reg, id, &labels) == -1) {
		reply_node_error(rp, 500, "out of memory", id, 0);
		goto out;
	}
	rc = remove ? registry_node_remove(h->reg, id, &res, err) :
	    registry_node_upsert(h->reg, id, &labels, &res, err);
	if (rc == -1) {
		saved = errno;
		log_error("cannot apply node change", "node", id, "error", err);
		reply_node_error(rp, fail_code(res.fail), err, id, saved);
		goto out;
	}
	log_info(remove ? "node remove" : "node reconfigure", "node", id);
	result = remove ? (res.unknown ? "node was not known" :
	    "node removed") : "node configured";
	o = dfm_node_json(200, "", id, &labels);
	result_json(o, result, &res);
	reply_json(rp, 200, o);
out:
	kvlist_release(&labels);
	kvlist_release(&params);
}

static void
do_metrics(struct http *h, struct reply *rp)
{
	struct buf b = BUF_INIT;
	struct files *fw = __atomic_load_n(&h->files, __ATOMIC_ACQUIRE);
	struct swarmstate *ss = __atomic_load_n(&h->ss, __ATOMIC_ACQUIRE);
	struct silencer *sil = __atomic_load_n(&h->sil, __ATOMIC_ACQUIRE);
	size_t services, removed, nodes, rules[RULE_NSTATES];
	int i;

	metrics_render(&b);
	registry_counts(h->reg, &services, &removed, &nodes);
	registry_rule_counts(h->reg, rules);
	expo_family(&b, "flowmon_services", EXPO_GAUGE, "Services flowmon "
	    "manages, by state.");
	expo_sample(&b, "flowmon_services", (long long)services, "state",
	    "active", NULL);
	expo_sample(&b, "flowmon_services", (long long)removed, "state",
	    "removed_persistent", NULL);
	expo_gauge(&b, "flowmon_nodes", "Nodes with stored labels.",
	    (long long)nodes);
	expo_gauge(&b, "flowmon_rules_rejected", "Services whose rule file "
	    "Prometheus refused, kept in rejected/.",
	    (long long)rules[RULE_REJECTED]);
	expo_family(&b, "flowmon_rule_files", EXPO_GAUGE, "Services by the "
	    "state of their rule file (none, pending, loaded, rejected).");
	for (i = 0; i < RULE_NSTATES; i++)
		expo_sample(&b, "flowmon_rule_files", (long long)rules[i],
		    "state", rule_state_name((enum rule_state)i), NULL);
	if (h->rl) {
		struct reloader_stats s;

		reloader_stats(h->rl, &s);
		reloader_expo(&b, "flowmon_", &s);
		expo_counter(&b, "flowmon_reload_triggers_total", "Rule "
		    "changes that asked for a reload.", (long long)s.triggers);
	}
	if (fw != NULL)
		files_metrics(fw, &b);
	if (ss != NULL)
		swarmstate_metrics(ss, &b);
	if (sil != NULL)
		silence_metrics(sil, &b);
	expo_process(&b, "daemon", (long long)h->started);
	if ((rp->body = buf_detach(&b, NULL)) == NULL) {
		reply_error(rp, 500, "out of memory", NULL);
		return;
	}
	rp->code = 200;
	rp->type = EXPO_CONTENT_TYPE;
}

static int
method_is(const char *m, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(m, *list) == 0)
			return 1;
	return 0;
}

static const char *const m_any[] = { "GET", "POST", "PUT", "DELETE", NULL };
static const char *const m_read[] = { "GET", "HEAD", NULL };

/* Everything decided before a body is read: the endpoint, the method, and
 * the guard (standby, connection count, credentials). Returns the
 * endpoint; rp->code is set when the request is refused. */
static enum metrics_endpoint
route_admit(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    const char *url, const char *method, struct reply *rp)
{
	enum metrics_endpoint ep = M_EP_OTHER;
	const char *const *allowed = m_read;

	if (cs->nul_path) {
		reply_error(rp, 400, "the request path holds a NUL byte (%00)",
		    NULL);
		return ep;
	}
	if (strcmp(url, API "/reconfigure") == 0) {
		ep = M_EP_RECONFIGURE;
		allowed = m_any;
	} else if (strcmp(url, API "/remove") == 0) {
		ep = M_EP_REMOVE;
		allowed = m_any;
	} else if (strcmp(url, API "/node/reconfigure") == 0) {
		ep = M_EP_NODE_RECONFIGURE;
		allowed = m_any;
	} else if (strcmp(url, API "/node/remove") == 0) {
		ep = M_EP_NODE_REMOVE;
		allowed = m_any;
	} else if (strcmp(url, API "/ping") == 0) {
		ep = M_EP_PING;
	} else if (strcmp(url, API "/services") == 0 ||
	    strncmp(url, API "/services/", sizeof(API "/services/") - 1) == 0) {
		ep = M_EP_SERVICES;
	} else if (strcmp(url, "/metrics") == 0) {
		ep = M_EP_METRICS;
	} else if (strcmp(url, API "/sd") == 0) {
		ep = M_EP_SD;
	} else if (strcmp(url, API "/files") == 0) {
		ep = M_EP_FILES;
	} else if (strncmp(url, API "/explain/",
	    sizeof(API "/explain/") - 1) == 0) {
		ep = M_EP_EXPLAIN;
	} else if (strcmp(url, "/") == 0 || strncmp(url, UI_SERVICE,
	    sizeof(UI_SERVICE) - 1) == 0) {
		ep = M_EP_UI;
	} else {
		char msg[ERR_MAX];

		snprintf(msg, sizeof(msg), "no such endpoint: %.200s", url);
		reply_error(rp, 404, msg, NULL);
		return ep;
	}
	if (!method_is(method, allowed)) {
		char msg[ERR_MAX];

		snprintf(msg, sizeof(msg), "method %.20s not allowed on %.200s",
		    method, url);
		reply_error(rp, 405, msg, NULL);
		rp->extra_header = MHD_HTTP_HEADER_ALLOW;
		rp->extra_value = allowed == m_any ? "GET, POST, PUT, DELETE" :
		    "GET, HEAD";
		return ep;
	}
	{
		char msg[ERR_MAX];
		int code = http_guard_check(&h->guard, mc, ep, msg);

		if (code != 0) {
			reply_error(rp, code, msg, NULL);
			return ep;
		}
	}
	return ep;
}

/* Where the explain API and the status page take their facts from; with
 * the Docker source's lock read-locked until explain_ctx_done(). The
 * Prometheus snapshot is taken first (when facts will be gathered:
 * gather), with no lock held: asking may take seconds, and shutdown's
 * http_set_docker() waits for that lock. */
static void
explain_ctx(struct http *h, struct explain_ctx *c, int gather)
{
	memset(c, 0, sizeof(*c));
	c->reg = h->reg;
	c->rl = h->rl;
	c->files = __atomic_load_n(&h->files, __ATOMIC_ACQUIRE);
	c->hist = __atomic_load_n(&h->hist, __ATOMIC_ACQUIRE);
	c->prom = __atomic_load_n(&h->prom, __ATOMIC_ACQUIRE);
	c->prom_none = __atomic_load_n(&h->prom_none, __ATOMIC_ACQUIRE);
	if (c->prom != NULL && gather)
		c->ps = promapi_state(c->prom);
	pthread_rwlock_rdlock(&h->dklock);
	c->docker = h->docker;
}

static void
explain_ctx_done(struct http *h, struct explain_ctx *c)
{
	pthread_rwlock_unlock(&h->dklock);
	promstate_put(c->ps);
	c->ps = NULL;
}

/* GET /explain/<name>: 404 for a service flowmon does not know. */
static void
do_explain(struct http *h, const char *name, struct reply *rp)
{
	struct explain_ctx c;
	struct explain x;
	char msg[ERR_MAX], why[ADVICE_MAX];
	int rc = 0;

	explain_ctx(h, &c, service_name_valid(name));
	if (service_name_valid(name))
		rc = explain_one(&c, name, 0, &x);
	/* A service the Docker source skips: say why it is not known. */
	if (rc == 0 && c.docker != NULL && service_name_valid(name) &&
	    docker_skipped(c.docker, name, why, sizeof(why)))
		snprintf(msg, sizeof(msg), "service %.80s is not known: the "
		    "Docker source skips it: %.360s", name, why);
	else
		snprintf(msg, sizeof(msg), "service %.255s is not known", name);
	explain_ctx_done(h, &c);
	if (rc == -1) {
		reply_error(rp, 500, "out of memory", name);
		return;
	}
	if (rc == 0) {
		reply_error(rp, 404, msg, NULL);
		return;
	}
	reply_json(rp, 200, explain_json(&x));
	explain_release(&x);
}

/* An HTML page of the status page (ui.h) as the reply. */
static void
reply_page(struct reply *rp, int code, struct buf *b)
{
	rp->code = code;
	rp->type = "text/html; charset=utf-8";
	rp->page = 1;
	rp->body = buf_detach(b, NULL);
}

static void
reply_page_error(struct reply *rp, int code, const char *msg)
{
	struct buf b = BUF_INIT;

	ui_error(&b, code, msg);
	reply_page(rp, code, &b);
}

/* GET / (with q, state, page) and GET /ui/services/<name>. */
static void
do_ui(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    const char *url, struct reply *rp)
{
	struct kvlist params = { 0 };
	struct explain_overview ov;
	struct explain_ctx c;
	struct ui_query q;
	struct explain x;
	struct buf b = BUF_INIT;
	const char *name = url + sizeof(UI_SERVICE) - 1;
	char err[ERR_MAX];
	int rc = 0;

	if (strcmp(url, "/") == 0 && (request_params(h, mc, cs, &params,
	    err) == -1 || ui_query_parse(&params, &q, err) == -1)) {
		reply_page_error(rp, 400, err);
		goto out;
	}
	explain_ctx(h, &c, strcmp(url, "/") == 0 || service_name_valid(name));
	if (strcmp(url, "/") == 0 && (rc = explain_overview(&c, &ov)) == 0) {
		ui_overview(&b, &ov, &q);
		explain_overview_release(&ov);
	} else if (strcmp(url, "/") != 0 && service_name_valid(name) &&
	    (rc = explain_one(&c, name, 1, &x)) == 1) {
		ui_service(&b, &x, clock_wall_ms());
		explain_release(&x);
	}
	explain_ctx_done(h, &c);
	if (rc == -1) {
		buf_release(&b);
		reply_page_error(rp, 500, "out of memory");
	} else if (b.len == 0) {
		snprintf(err, sizeof(err), "service %.255s is not known", name);
		reply_page_error(rp, 404, err);
	} else
		reply_page(rp, 200, &b);
out:
	kvlist_release(&params);
}

/* Serves a request route_admit() let in on its first call. */
static enum metrics_endpoint
route(struct http *h, struct MHD_Connection *mc, struct conn *cs,
    const char *url, struct reply *rp)
{
	enum metrics_endpoint ep = cs->ep;

	if (cs->too_big) {
		char msg[ERR_MAX];

		snprintf(msg, sizeof(msg), "request body is larger than "
		    "--max-body (%ld bytes)", h->cfg->max_body);
		reply_error(rp, 413, msg, NULL);
		return ep;
	}
	if (cs->body.failed) {
		reply_error(rp, 500, "out of memory", NULL);
		return ep;
	}
	switch (ep) {
	case M_EP_RECONFIGURE:
		do_reconfigure(h, mc, cs, rp);
		break;
	case M_EP_REMOVE:
		do_remove(h, mc, cs, rp);
		break;
	case M_EP_NODE_RECONFIGURE:
	case M_EP_NODE_REMOVE:
		do_node(h, mc, cs, rp, ep == M_EP_NODE_REMOVE);
		break;
	case M_EP_PING: {
		cJSON *o = status_json(200, "pong");

		/* A standby is healthy too; it says what it is. */
		if (o != NULL && http_guard_standby(&h->guard))
			cJSON_AddBoolToObject(o, "standby", 1);
		reply_json(rp, 200, o);
		break;
	}
	case M_EP_SERVICES:
		if (url[sizeof(API "/services") - 1] == '\0') {
			reply_json_text(rp, 200, views_services(h->reg,
			    __atomic_load_n(&h->td, __ATOMIC_ACQUIRE)));
		} else {
			const char *name = url + sizeof(API "/services/") - 1;
			cJSON *o = service_name_valid(name) ?
			    views_service(h->reg, __atomic_load_n(&h->td,
			    __ATOMIC_ACQUIRE), h->rl, name) : NULL;
			char msg[ERR_MAX];

			if (o != NULL) {
				reply_json(rp, 200, o);
				break;
			}
			snprintf(msg, sizeof(msg), "service %.255s is not "
			    "known", name);
			reply_error(rp, 404, msg, NULL);
		}
		break;
	case M_EP_METRICS:
		do_metrics(h, rp);
		break;
	case M_EP_EXPLAIN:
		do_explain(h, url + sizeof(API "/explain/") - 1, rp);
		break;
	case M_EP_UI:
		do_ui(h, mc, cs, url, rp);
		break;
	case M_EP_SD:
		/* http_sd: the same groups as the target files. */
		reply_json_text(rp, 200, views_sd(h->reg));
		break;
	case M_EP_FILES: {
		struct files *fw = __atomic_load_n(&h->files, __ATOMIC_ACQUIRE);

		if (fw != NULL)
			reply_json(rp, 200, files_json(fw));
		else
			reply_error(rp, 503, "the file watcher is not running",
			    NULL);
		break;
	}
	default:
		break;
	}
	return ep;
}

/* Queues rp (taking its body) and counts it. */
static enum MHD_Result
respond(struct http *h, struct MHD_Connection *mc, enum metrics_endpoint ep,
    struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (rp->body == NULL && rp->code != 0 && rp->type != NULL &&
	    strcmp(rp->type, "application/json") == 0)
		rp->code = 500;	/* cJSON ran out of memory */
	if (rp->body == NULL) {
		rp->body = strdup("{\"Status\":500,\"Message\":\"out of "
		    "memory\"}");
		rp->type = "application/json";
		if (rp->code == 0)
			rp->code = 500;
	}
	if (rp->body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(rp->body), rp->body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(rp->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rp->type);
	if (rp->page) {
		/* Values on the page are escaped; this is the second fence:
		 * no script, no foreign asset, no framing, no sniffing. */
		MHD_add_response_header(resp, "Content-Security-Policy",
		    UI_CSP);
		MHD_add_response_header(resp, "X-Content-Type-Options",
		    "nosniff");
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-store");
	}
	if (rp->extra_header)
		MHD_add_response_header(resp, rp->extra_header,
		    rp->extra_value);
	http_guard_headers(&h->guard, resp, rp->code);
	ret = MHD_queue_response(mc, (unsigned int)rp->code, resp);
	MHD_destroy_response(resp);
	metrics_request(ep, rp->code);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct conn *cs = *con_cls;
	struct reply rp = { 0, NULL, NULL, NULL, NULL, 0 };
	enum metrics_endpoint ep;

	(void)version;
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return MHD_NO;
		*con_cls = cs;
	}
	if (!cs->started) {
		const char *cl = MHD_lookup_connection_value(mc,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		cs->started = 1;
		/* Admission (credentials above all) is decided before the
		 * body is read, and so is a declared body over --max-body:
		 * answering now sends no 100 Continue, and MHD closes the
		 * connection after the answer instead of taking the body. */
		cs->ep = route_admit(h, mc, cs, url, method, &rp);
		if (rp.code != 0)
			return respond(h, mc, cs->ep, &rp);
		if (cl == NULL || strtoull(cl, NULL, 10) <=
		    (unsigned long long)h->cfg->max_body)
			return MHD_YES;
		cs->too_big = 1;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (!cs->too_big && !cs->body.failed) {
			if (cs->body.len + n > (size_t)h->cfg->max_body) {
				cs->too_big = 1;
				buf_release(&cs->body);
			} else {
				buf_add(&cs->body, upload_data, n);
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	ep = route(h, mc, cs, url, &rp);
	return respond(h, mc, ep, &rp);
}

/* MHD_OPTION_URI_LOG_CALLBACK: sees the request-target before it is
 * decoded (logged at debug level) and returns the request's initial
 * state. libmicrohttpd hands the
 * handler the decoded path as a C string, so a "%00" in it would silently
 * end it there (services/a%00b would answer for a, reconfigure%00x would
 * reconfigure): note it here, refuse it in route(). */
static void *
uri_seen(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct conn *cs = calloc(1, sizeof(*cs));
	size_t plen = strcspn(uri, "?");

	(void)cls;
	(void)mc;
	if (cs != NULL)
		cs->nul_path = memmem(uri, plen, "%00", 3) != NULL;
	/* What a client sent, as sent (swarm-listener's calls, for one);
	 * the line is cut at 4 KiB. */
	log_debug("http request", "uri", uri);
	return cs;
}

static void
completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cs = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (cs != NULL) {
		buf_release(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_warn("http server", "error", buf);
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" to an address. */
int
http_listen_addr(const char *spec, struct sockaddr_storage *ss,
    char err[ERR_MAX])
{
	struct addrinfo hints, *res = NULL;
	char host[256], *port;
	const char *colon;
	int rc;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    (size_t)(colon - spec) >= sizeof(host))
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	port = (char *)colon + 1;
	if (*port == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		snprintf(err, ERR_MAX, "--listen \"%.200s\": %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, ERR_MAX, "--listen \"%.200s\" is not HOST:PORT", spec);
	return -1;
}

struct http *
http_start(const struct config *cfg, struct registry *reg,
    struct reloader *rl, struct parser *parser, char err[ERR_MAX])
{
	struct sockaddr_storage ss;
	struct http *h;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_POLL;

	if (http_listen_addr(cfg->listen, &ss, err) == -1)
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	h->cfg = cfg;
	h->reg = reg;
	h->rl = rl;
	h->parser = parser;
	h->started = time(NULL);
	if (http_guard_init(&h->guard, cfg, err) == -1) {
		free(h);
		return NULL;
	}
	/* Without a registry yet: a standby until http_activate(). */
	http_guard_set_standby(&h->guard, reg == NULL);
	flags |= http_guard_flags(&h->guard);
	pthread_rwlock_init(&h->dklock, NULL);
	/* The memory limit bounds one request's headers and request line
	 * (--max-header-bytes): swarm-listener sends request lines of 64 KiB
	 * for services with hundreds of tasks. */
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header_bytes,
	    MHD_OPTION_CONNECTION_LIMIT, http_guard_mhd_limit(&h->guard),
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)((cfg->connection_timeout_ms + 999) / 1000),
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, &h->guard,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_seen, h,
	    MHD_OPTION_ARRAY, http_guard_options(&h->guard),
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, ERR_MAX, "cannot listen on %.200s (address in "
		    "use or not local?%s)", cfg->listen, h->guard.cert ?
		    " or TLS set-up failed: see the http server error above" :
		    "");
		http_guard_release(&h->guard);
		pthread_rwlock_destroy(&h->dklock);
		free(h);
		return NULL;
	}
	return h;
}

void
http_set_files(struct http *h, struct files *files)
{
	__atomic_store_n(&h->files, files, __ATOMIC_RELEASE);
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	http_guard_release(&h->guard);
	pthread_rwlock_destroy(&h->dklock);
	free(h);
}

void
http_set_taskdns(struct http *h, struct taskdns *td)
{
	__atomic_store_n(&h->td, td, __ATOMIC_RELEASE);
}

void
http_set_explain(struct http *h, struct history *hist, struct promapi *prom,
    int prom_none)
{
	__atomic_store_n(&h->prom_none, prom_none, __ATOMIC_RELEASE);
	__atomic_store_n(&h->hist, hist, __ATOMIC_RELEASE);
	__atomic_store_n(&h->prom, prom, __ATOMIC_RELEASE);
}

void
http_set_docker(struct http *h, struct docker *dk)
{
	if (h == NULL)
		return;
	pthread_rwlock_wrlock(&h->dklock);
	h->docker = dk;
	pthread_rwlock_unlock(&h->dklock);
}

void
http_set_swarm(struct http *h, struct swarmstate *ss, struct silencer *sil)
{
	__atomic_store_n(&h->ss, ss, __ATOMIC_RELEASE);
	__atomic_store_n(&h->sil, sil, __ATOMIC_RELEASE);
}

void
http_activate(struct http *h, struct registry *reg, struct reloader *rl,
    struct parser *parser)
{
	h->reg = reg;
	h->rl = rl;
	h->parser = parser;
	/* Release: a request admitted after this sees reg and rl. */
	http_guard_set_standby(&h->guard, 0);
}
