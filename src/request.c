/* request.c: turns the parameters of a reconfigure into a validated service
 * record. Everything a request can get wrong is refused here, before any
 * file is touched, with a message naming the parameter and the reason. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "request.h"
#include "shortcuts.h"
#include "strv.h"
#include "values.h"

/* Parameters flowmon interprets, in DFM's spelling. Others are ignored
 * (swarm-listener sends every com.df.* label) and not kept in the record,
 * except those DF_SCRAPE_TARGET_LABELS names. */
static const char *const request_known[] = {
	"serviceName", "scrapePort", "scrapeInterval", "scrapeTimeout",
	"metricsPath", "scheme", "scrapeType", "scrapeNetwork", "nodeInfo",
	"targets", "replicas", "distribute",
};

/* The per-alert parameters; each also exists as <name>.N, N = 1..100. */
enum {
	A_NAME, A_IF, A_FOR, A_LABELS, A_ANNOTATIONS, A_PERSISTENT, A_NPARAMS
};
static const char *const request_alert_params[A_NPARAMS] = {
	"alertName", "alertIf", "alertFor", "alertLabels", "alertAnnotations",
	"alertPersistent",
};

/* The limits of a context without any (the flags' defaults). */
static const struct request_limits request_defaults = {
	REQUEST_MAX_PARAMS_DEFAULT,
	REQUEST_MAX_VALUE_DEFAULT,
	REQUEST_MAX_TARGETS_DEFAULT,
	{ QUOTA_MAX_ALERTS_DEFAULT, QUOTA_MAX_RULE_BYTES_DEFAULT,
	  QUOTA_MAX_TARGET_BYTES_DEFAULT },
};

const struct request_limits *
request_ctx_limits(const struct request_ctx *ctx)
{
	return ctx != NULL && ctx->limits != NULL ? ctx->limits :
	    &request_defaults;
}

int
request_check_count(const struct request_ctx *ctx, size_t n,
    char err[ERR_MAX])
{
	long max = request_ctx_limits(ctx)->max_params;

	if (max > 0 && n > (size_t)max) {
		snprintf(err, ERR_MAX, "the request has %zu parameters, more "
		    "than --max-params (%ld)", n, max);
		return -1;
	}
	return 0;
}

/* A host for a target: DNS name or IPv4 ([A-Za-z0-9._-]) or [IPv6]. */
static int
host_valid(const char *h, size_t len)
{
	size_t i;

	if (len == 0 || len > 253)
		return 0;
	if (h[0] == '[') {
		if (len < 3 || h[len - 1] != ']')
			return 0;
		for (i = 1; i < len - 1; i++)
			if (!(isxdigit((unsigned char)h[i]) || h[i] == ':' ||
			    h[i] == '.'))
				return 0;
		return 1;
	}
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '.' ||
		    h[i] == '-' || h[i] == '_'))
			return 0;
	return 1;
}

static int
task_cmp(const void *a, const void *b)
{
	const struct task *x = a, *y = b;
	int c;

	if ((c = strcmp(x->address, y->address)) != 0)
		return c;
	if ((c = strcmp(x->hostname, y->hostname)) != 0)
		return c;
	return strcmp(x->node_id, y->node_id);
}

int
request_parse_node_info(const char *json, struct task **tasks, size_t *ntasks,
    char err[ERR_MAX])
{
	cJSON *root = NULL, *entry;
	struct task *t = NULL;
	size_t n = 0, i, j;
	int count;

	*tasks = NULL;
	*ntasks = 0;
	/* cJSON turns \u0000 into the end of the string, which would cut a
	 * hostname short without a word: refuse it here. */
	if (strcasestr(json, "\\u0000") != NULL) {
		snprintf(err, ERR_MAX, "nodeInfo holds a NUL character "
		    "(\\u0000)");
		goto fail;
	}
	/* Trailing bytes after the array are malformed JSON too. */
	if ((root = cJSON_ParseWithOpts(json, NULL, 1)) == NULL ||
	    !cJSON_IsArray(root)) {
		snprintf(err, ERR_MAX, "nodeInfo is not a JSON array of "
		    "[hostname, address, nodeID] entries");
		goto fail;
	}
	count = cJSON_GetArraySize(root);
	if (count > 0 && (t = calloc((size_t)count, sizeof(*t))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	cJSON_ArrayForEach(entry, root) {
		cJSON *f[3] = { NULL, NULL, NULL }, *it;
		int nf = 0;

		if (!cJSON_IsArray(entry))
			goto bad_entry;
		cJSON_ArrayForEach(it, entry) {
			if (nf == 3 || !cJSON_IsString(it))
				goto bad_entry;
			f[nf++] = it;
		}
		if (nf < 2 || f[0]->valuestring[0] == '\0' ||
		    !host_valid(f[1]->valuestring, strlen(f[1]->valuestring)) ||
		    !values_utf8_valid(f[0]->valuestring) ||
		    (nf == 3 && !values_utf8_valid(f[2]->valuestring)))
			goto bad_entry;
		t[n].hostname = strdup(f[0]->valuestring);
		t[n].address = strdup(f[1]->valuestring);
		t[n].node_id = strdup(nf == 3 ? f[2]->valuestring : "");
		n++;
		if (!t[n - 1].hostname || !t[n - 1].address ||
		    !t[n - 1].node_id) {
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
		continue;
bad_entry:
		snprintf(err, ERR_MAX, "nodeInfo entry %zu is not "
		    "[hostname, address] or [hostname, address, nodeID] "
		    "strings with a valid address", n + 1);
		goto fail;
	}
	/* swarm-listener sends the set in random order, with repeats for
	 * several tasks on one node: sort and drop duplicates. */
	if (n > 1)
		qsort(t, n, sizeof(*t), task_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && task_cmp(&t[j - 1], &t[i]) == 0)
			task_release(&t[i]);
		else
			t[j++] = t[i];
	}
	cJSON_Delete(root);
	*tasks = t;
	*ntasks = j;
	return 0;
fail:
	for (i = 0; i < n; i++)
		task_release(&t[i]);
	free(t);
	cJSON_Delete(root);
	return -1;
}

/* The sorted task set as compact nodeInfo JSON: [hostname, address,
 * nodeID] entries, or [hostname, address] when the sender gave no ID. */
static char *
node_info_canonical(const struct task *t, size_t n)
{
	cJSON *root = cJSON_CreateArray(), *e;
	char *s = NULL;
	size_t i;

	if (root == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((e = cJSON_CreateArray()) == NULL ||
		    !cJSON_AddItemToArray(root, e)) {
			cJSON_Delete(e);
			goto out;
		}
		if (!cJSON_AddItemToArray(e, cJSON_CreateString(
		    t[i].hostname)) || !cJSON_AddItemToArray(e,
		    cJSON_CreateString(t[i].address)) ||
		    (t[i].node_id[0] != '\0' && !cJSON_AddItemToArray(e,
		    cJSON_CreateString(t[i].node_id))))
			goto out;
	}
	s = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return s;
}

/* targets=host:port,host:port into a sorted set. */
static int
parse_targets(const char *s, struct service *svc, char err[ERR_MAX])
{
	const char *p = s;
	size_t i, j;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *colon = NULL;
		char **nt;
		size_t k;

		for (k = len; k > 0; k--)
			if (p[k - 1] == ':') {
				colon = p + k - 1;
				break;
			}
		if (colon == NULL || !host_valid(p, (size_t)(colon - p)) ||
		    !values_port(colon + 1, (size_t)(p + len - colon - 1))) {
			snprintf(err, ERR_MAX, "targets item \"%.*s\" is not "
			    "host:port (port 1..65535)", (int)(len > 200 ? 200 :
			    len), p);
			return -1;
		}
		nt = realloc(svc->targets, (svc->ntargets + 1) * sizeof(*nt));
		if (nt == NULL || (nt[svc->ntargets] = strndup(p, len)) == NULL) {
			if (nt)
				svc->targets = nt;
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
		svc->targets = nt;
		svc->ntargets++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (svc->ntargets > 1)
		strv_sort(svc->targets, svc->ntargets);
	for (i = j = 0; i < svc->ntargets; i++) {
		if (j > 0 && strcmp(svc->targets[j - 1], svc->targets[i]) == 0)
			free(svc->targets[i]);
		else
			svc->targets[j++] = svc->targets[i];
	}
	svc->ntargets = j;
	return 0;
}

/* `k1=v1,k2=v2` into l; the value is everything after the first '='.
 * With labels, a rule's labels: Prometheus refuses __name__ among them
 * (the alert's name is its own), so it is refused here, naming param. */
static int
parse_pairs(const char *param, const char *s, int labels, struct kvlist *l,
    char err[ERR_MAX])
{
	const char *p = s;
	int item = 0;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		char *key, *value;
		int rc;

		item++;
		if (eq == NULL) {
			snprintf(err, ERR_MAX, "%s item %d \"%.*s\" has no '=' "
			    "(want key=value)", param, item,
			    (int)(len > 200 ? 200 : len), p);
			return -1;
		}
		key = strndup(p, (size_t)(eq - p));
		value = strndup(eq + 1, (size_t)(p + len - eq - 1));
		if (key == NULL || value == NULL) {
			free(key);
			free(value);
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
		if (!values_label_name_valid(key)) {
			snprintf(err, ERR_MAX, "%s item %d: \"%.200s\" is not a "
			    "valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", param,
			    item, key);
			free(key);
			free(value);
			return -1;
		}
		if (labels && strcmp(key, "__name__") == 0) {
			snprintf(err, ERR_MAX, "%s item %d: label __name__ is "
			    "reserved (Prometheus refuses it among a rule's "
			    "labels)", param, item);
			free(key);
			free(value);
			return -1;
		}
		rc = kvlist_set(l, key, value);
		free(key);
		free(value);
		if (rc == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Canonical spelling of a parameter name: a known name in DFM's spelling,
 * an indexed alert parameter as <name>.N, anything else as given. Returns
 * NULL with err for an alert parameter with a bad index. */
static const char *
canonical_name(const char *key, char buf[64], char err[ERR_MAX])
{
	const char *dot;
	size_t i;

	for (i = 0; i < sizeof(request_known) / sizeof(*request_known); i++)
		if (strcasecmp(key, request_known[i]) == 0)
			return request_known[i];
	for (i = 0; i < A_NPARAMS; i++)
		if (strcasecmp(key, request_alert_params[i]) == 0)
			return request_alert_params[i];
	if ((dot = strrchr(key, '.')) == NULL)
		return key;
	for (i = 0; i < A_NPARAMS; i++) {
		size_t bl = strlen(request_alert_params[i]);
		const char *n = dot + 1;
		int idx = 0;

		if ((size_t)(dot - key) != bl ||
		    strncasecmp(key, request_alert_params[i], bl) != 0)
			continue;
		if (*n == '0' || strlen(n) > 3)
			goto bad;
		for (; *n; n++) {
			if (!isdigit((unsigned char)*n))
				goto bad;
			idx = idx * 10 + (*n - '0');
		}
		if (idx < 1 || idx > SERVICE_ALERT_INDEX_MAX)
			goto bad;
		snprintf(buf, 64, "%s.%d", request_alert_params[i], idx);
		return buf;
bad:
		snprintf(err, ERR_MAX, "%.100s: alert index must be 1..%d",
		    key, SERVICE_ALERT_INDEX_MAX);
		return NULL;
	}
	return key;
}

static int
alert_param_name(char *buf, size_t size, int which, int idx)
{
	if (idx == 0)
		return snprintf(buf, size, "%s", request_alert_params[which]);
	return snprintf(buf, size, "%s.%d", request_alert_params[which], idx);
}

/* Builds the alert of index idx (0: the unindexed one) if it is given.
 * Returns 1 if built, 0 if that index is not used, -1 on error. */
/* Marks the alert indices some alert* parameter of p uses (0 for the
 * unindexed form), so parsing looks only at those instead of building and
 * looking up six names for each of the 101 indices. A superset is fine:
 * parse_alert() decides. */
static void
alert_indices(const struct kvlist *p, char used[SERVICE_ALERT_INDEX_MAX + 1])
{
	const char *k, *dot;
	char *end;
	long n;
	size_t i;

	memset(used, 0, SERVICE_ALERT_INDEX_MAX + 1);
	for (i = 0; i < p->n; i++) {
		k = p->v[i].key;
		if (strncasecmp(k, "alert", 5) != 0)
			continue;
		if ((dot = strchr(k, '.')) == NULL) {
			used[0] = 1;
			continue;
		}
		n = strtol(dot + 1, &end, 10);
		if (*end == '\0' && n >= 1 && n <= SERVICE_ALERT_INDEX_MAX)
			used[n] = 1;
	}
}

static int
parse_alert(const struct kvlist *p, int idx, const struct request_ctx *ctx,
    const char *svcname, const char *replicas, struct alert *a,
    char err[ERR_MAX])
{
	char names[A_NPARAMS][40];
	const char *v[A_NPARAMS];
	struct shortcut_expansion exp;
	char *n, *q;
	size_t i;
	int k, persistent = 0;

	memset(&exp, 0, sizeof(exp));
	for (k = 0; k < A_NPARAMS; k++) {
		alert_param_name(names[k], sizeof(names[k]), k, idx);
		v[k] = kvlist_get(p, names[k]);
	}
	if (v[A_NAME] == NULL && v[A_IF] == NULL) {
		for (k = 0; k < A_NPARAMS; k++) {
			if (v[k] != NULL) {
				snprintf(err, ERR_MAX, "%s is given without "
				    "%s and %s", names[k], names[A_NAME],
				    names[A_IF]);
				return -1;
			}
		}
		return 0;
	}
	if (v[A_NAME] == NULL || v[A_IF] == NULL) {
		snprintf(err, ERR_MAX, "%s is given without %s",
		    v[A_NAME] ? names[A_NAME] : names[A_IF],
		    v[A_NAME] ? names[A_IF] : names[A_NAME]);
		return -1;
	}
	for (q = (char *)v[A_NAME]; *q; q++) {
		if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '-' ||
		    *q == '.' || *q == ':')) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" may only hold "
			    "letters, digits, '_', '-', '.' and ':'",
			    names[A_NAME], v[A_NAME]);
			return -1;
		}
	}
	if (v[A_FOR] && !values_duration_valid(v[A_FOR])) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" is not a duration "
		    "(like 30s, 5m, 1h30m)", names[A_FOR], v[A_FOR]);
		return -1;
	}
	if (v[A_PERSISTENT] && values_bool(v[A_PERSISTENT],
	    &persistent) == -1) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be "
		    VALUES_BOOL_WORDS, names[A_PERSISTENT], v[A_PERSISTENT]);
		return -1;
	}

	/* DFM's alert name: service + "_" + alertName, every '-' removed. */
	if (asprintf(&n, "%s_%s", svcname, v[A_NAME]) < 0)
		goto nomem;
	for (i = 0, q = n; n[i]; i++)
		if (n[i] != '-')
			*q++ = n[i];
	*q = '\0';
	a->name = n;
	a->persistent = persistent;
	if (v[A_FOR] && (a->for_ = strdup(v[A_FOR])) == NULL)
		goto nomem;

	if (v[A_IF][0] == '@') {
		char sub[ERR_MAX];

		if (ctx->shortcuts == NULL) {
			snprintf(err, ERR_MAX, "%s \"%.100s\": shortcuts are "
			    "not available", names[A_IF], v[A_IF]);
			goto fail;
		}
		if (shortcuts_expand(ctx->shortcuts, v[A_IF], svcname,
		    replicas, &exp, sub) == -1) {
			/* At most 39 + 2 + 100 + 3 + 360 bytes: fits ERR_MAX. */
			snprintf(err, ERR_MAX, "%s \"%.100s\": %.360s",
			    names[A_IF], v[A_IF], sub);
			goto fail;
		}
		a->expr = exp.expr;
		exp.expr = NULL;
		/* The shortcut's labels and annotations first: the user's own
		 * keys, set below, win. */
		a->labels = exp.labels;
		a->annotations = exp.annotations;
		memset(&exp.labels, 0, sizeof(exp.labels));
		memset(&exp.annotations, 0, sizeof(exp.annotations));
	} else if ((a->expr = strdup(v[A_IF])) == NULL) {
		goto nomem;
	}
	if (v[A_LABELS] && parse_pairs(names[A_LABELS], v[A_LABELS], 1,
	    &a->labels, err) == -1)
		goto fail;
	if (v[A_ANNOTATIONS] && parse_pairs(names[A_ANNOTATIONS],
	    v[A_ANNOTATIONS], 0, &a->annotations, err) == -1)
		goto fail;
	kvlist_sort(&a->labels);
	kvlist_sort(&a->annotations);
	shortcut_expansion_release(&exp);
	return 1;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	shortcut_expansion_release(&exp);
	alert_release(a);
	return -1;
}

/* 1 when name (an alert parameter, canonical) is base or base.N. */
static int
alert_param_is(const char *name, const char *base)
{
	size_t bl = strlen(base);

	return strncmp(name, base, bl) == 0 &&
	    (name[bl] == '\0' || name[bl] == '.');
}

/* The length cap of a kept parameter (canonical name), and the flag that
 * sets it (NULL for a fixed cap). serviceName is bounded by its own
 * validation. */
static size_t
value_cap(const struct request_ctx *ctx, const char *cn, const char **flag)
{
	static const char *const shortv[] = {
		"scrapeInterval", "scrapeTimeout", "scheme", "scrapeType",
		"replicas", "distribute", "scrapePort",
	};
	size_t i;

	*flag = NULL;
	if (strcmp(cn, "metricsPath") == 0)
		return REQUEST_METRICS_PATH_MAX;
	if (strcmp(cn, "nodeInfo") == 0)
		return REQUEST_NODE_INFO_MAX;
	if (strcmp(cn, "serviceName") == 0 || strcmp(cn, "targets") == 0)
		return SIZE_MAX;	/* own validation, --max-targets */
	for (i = 0; i < sizeof(shortv) / sizeof(*shortv); i++)
		if (strcmp(cn, shortv[i]) == 0)
			return REQUEST_SHORT_MAX;
	if (alert_param_is(cn, "alertFor") ||
	    alert_param_is(cn, "alertPersistent"))
		return REQUEST_SHORT_MAX;
	if (alert_param_is(cn, "alertName"))
		return REQUEST_ALERT_NAME_MAX;
	if (alert_param_is(cn, "alertIf") || alert_param_is(cn, "alertLabels") ||
	    alert_param_is(cn, "alertAnnotations"))
		return REQUEST_ALERT_TEXT_MAX;
	/* scrapeNetwork and the DF_SCRAPE_TARGET_LABELS values. */
	*flag = "--max-value-bytes";
	return request_ctx_limits(ctx)->max_value_bytes > 0 ?
	    (size_t)request_ctx_limits(ctx)->max_value_bytes : SIZE_MAX;
}

/* 1 when k is one of the DF_SCRAPE_TARGET_LABELS names. */
static int
is_target_label(const struct request_ctx *ctx, const char *k)
{
	size_t i;

	for (i = 0; i < ctx->ntarget_labels; i++)
		if (strcasecmp(k, ctx->target_labels[i]) == 0)
			return 1;
	return 0;
}

/* Copies params into canonical form: known names in DFM's spelling, the
 * DF_SCRAPE_TARGET_LABELS ones as given, others dropped; empty values
 * dropped (DFM treats them as absent); each value within its cap; sorted.
 * Linear but for the final sort, whatever the number of parameters. */
static int
canonicalize(const struct kvlist *in, const struct request_ctx *ctx,
    struct kvlist *out, char err[ERR_MAX])
{
	size_t i, len, cap;

	if (request_check_count(ctx, in->n, err) == -1)
		return -1;
	for (i = 0; i < in->n; i++) {
		const char *k = in->v[i].key, *v = in->v[i].value, *cn, *flag;
		char buf[64];

		if (!values_utf8_valid(k) || !values_utf8_valid(v)) {
			snprintf(err, ERR_MAX, "parameter %.100s is not valid "
			    "UTF-8", values_utf8_valid(k) ? k : "name");
			return -1;
		}
		if (strcasecmp(k, "serviceName") != 0 && *v == '\0')
			continue;
		if ((cn = canonical_name(k, buf, err)) == NULL)
			return -1;
		if (cn == k && !is_target_label(ctx, k))
			continue;	/* unknown: ignored, as DFM does */
		cap = value_cap(ctx, cn, &flag);
		if ((len = strlen(v)) > cap) {
			if (flag != NULL)
				snprintf(err, ERR_MAX, "%.100s is %zu bytes, more "
				    "than %s (%zu)", cn, len, flag, cap);
			else
				snprintf(err, ERR_MAX, "%.100s is %zu bytes, more "
				    "than the %zu flowmon accepts", cn, len,
				    cap);
			return -1;
		}
		if (kvlist_add(out, cn, v) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
	}
	if (kvlist_dedupe_ci(out) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	kvlist_sort(out);
	return 0;
}

/*
 * The record, in named steps over the canonical parameters (out->params).
 * Each step fills its part of out, or says in err what is wrong.
 */

static int
scheme_valid(const char *v)
{
	return strcmp(v, "http") == 0 || strcmp(v, "https") == 0;
}

static int
scrape_type_valid(const char *v)
{
	return strcmp(v, "static_configs") == 0 ||
	    strcmp(v, "dns_sd_configs") == 0;
}

static int
replicas_valid(const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!isdigit((unsigned char)v[i]) || i > 9)
			return 0;
	return 1;
}

static int
port_valid(const char *v)
{
	return values_port(v, strlen(v)) != 0;
}

static int
path_valid(const char *v)
{
	const char *c;

	for (c = v; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return 0;
	return v[0] == '/';
}

#define NO_FIELD	((size_t)-1)

/* The scalar parameters: the check of each value, what a refusal says,
 * and the field of struct service that keeps a copy (NO_FIELD: none). */
static const struct scalar {
	const char	*name;
	int		(*valid)(const char *v);
	const char	*why;
	size_t		 field;
} request_scalars[] = {
	{ "scrapePort", port_valid, "is not a port (1..65535)", NO_FIELD },
	{ "scrapeInterval", values_duration_valid, "is not a duration (like "
	    "15s, 1m)", offsetof(struct service, scrape_interval) },
	{ "scrapeTimeout", values_duration_valid, "is not a duration (like "
	    "10s)", offsetof(struct service, scrape_timeout) },
	{ "metricsPath", path_valid, "must start with '/' and hold no space "
	    "or control character", offsetof(struct service, metrics_path) },
	{ "scheme", scheme_valid, "must be http or https",
	    offsetof(struct service, scheme) },
	{ "scrapeType", scrape_type_valid, "must be static_configs or "
	    "dns_sd_configs", NO_FIELD },
	{ "replicas", replicas_valid, "is not a number of replicas", NO_FIELD },
};

static int
parse_name(struct service *out, char err[ERR_MAX])
{
	const char *v = kvlist_get(&out->params, "serviceName");

	if (v == NULL) {
		snprintf(err, ERR_MAX, "serviceName is required");
		return -1;
	}
	if (!service_name_valid(v)) {
		snprintf(err, ERR_MAX, "serviceName \"%.100s\" must be 1..%d "
		    "of [A-Za-z0-9_.-] starting with a letter or digit", v,
		    SERVICE_NAME_MAX);
		return -1;
	}
	if ((out->name = strdup(v)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	return 0;
}

/* -1 with err when the timeout is longer than the interval: Prometheus
 * drops such a target, silently for whoever deployed it. */
static int
timeout_too_long(const struct service *out, char err[ERR_MAX])
{
	int64_t iv, to;

	if (out->scrape_interval == NULL || out->scrape_timeout == NULL)
		return 0;
	(void)values_duration_ms(out->scrape_interval, &iv);
	(void)values_duration_ms(out->scrape_timeout, &to);
	if (to <= iv)
		return 0;
	snprintf(err, ERR_MAX, "scrapeTimeout \"%.100s\" is longer than "
	    "scrapeInterval \"%.100s\"; Prometheus would drop the target",
	    out->scrape_timeout, out->scrape_interval);
	return -1;
}

/* The scalars of request_scalars, in their order; the timeout is held
 * to the interval as soon as both are known. */
static int
parse_scalars(struct service *out, char err[ERR_MAX])
{
	const struct scalar *sc;
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(request_scalars) / sizeof(*sc); i++) {
		sc = &request_scalars[i];
		if ((v = kvlist_get(&out->params, sc->name)) == NULL)
			continue;
		if (!sc->valid(v)) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" %s", sc->name, v,
			    sc->why);
			return -1;
		}
		if (sc->field != NO_FIELD && (*(char **)((char *)out +
		    sc->field) = strdup(v)) == NULL) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
		if (sc->field == offsetof(struct service, scrape_timeout) &&
		    timeout_too_long(out, err) == -1)
			return -1;
	}
	if ((v = kvlist_get(&out->params, "scrapePort")) != NULL)
		out->port = values_port(v, strlen(v));
	v = kvlist_get(&out->params, "scrapeType");
	out->static_config = v != NULL && strcmp(v, "static_configs") == 0;
	return 0;
}

/* targets and nodeInfo, each within --max-targets; nodeInfo recorded as
 * the set of tasks, not the order swarm-listener happened to send, so a
 * reordered nodeInfo is no change at all. */
static int
parse_target_sources(const struct request_ctx *ctx, struct service *out,
    char err[ERR_MAX])
{
	long max = request_ctx_limits(ctx)->max_targets;
	const char *v, *c;
	size_t items = 1;
	char *canon;
	int rc;

	if ((v = kvlist_get(&out->params, "targets")) != NULL) {
		for (c = v; *c; c++)
			items += *c == ',';
		if (max > 0 && items > (size_t)max) {
			snprintf(err, ERR_MAX, "targets has %zu items, more "
			    "than --max-targets (%ld)", items, max);
			return -1;
		}
		if (parse_targets(v, out, err) == -1)
			return -1;
	}
	if ((v = kvlist_get(&out->params, "nodeInfo")) == NULL)
		return 0;
	if (request_parse_node_info(v, &out->tasks, &out->ntasks, err) == -1)
		return -1;
	out->has_tasks = 1;
	if (max > 0 && out->ntasks > (size_t)max) {
		snprintf(err, ERR_MAX, "nodeInfo has %zu tasks, more than "
		    "--max-targets (%ld)", out->ntasks, max);
		return -1;
	}
	if ((canon = node_info_canonical(out->tasks, out->ntasks)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	rc = kvlist_set(&out->params, "nodeInfo", canon);
	free(canon);
	if (rc == -1)
		snprintf(err, ERR_MAX, "out of memory");
	return rc;
}

/* The alerts: the unindexed one, then .1 to .100; a gap skips nothing.
 * Room is made for the indices named, not for every index: each record
 * is parsed at every start and every change, and most have no alert or
 * one (zeroing room for 101 was an eighth of a start-up's CPU). */
static int
parse_alerts(const struct request_ctx *ctx, struct service *out,
    char err[ERR_MAX])
{
	const struct kvlist *p = &out->params;
	char used[SERVICE_ALERT_INDEX_MAX + 1];
	struct alert *a, *shrunk;
	size_t k, room = 0;
	int idx, rc;

	alert_indices(p, used);
	for (idx = 0; idx <= SERVICE_ALERT_INDEX_MAX; idx++)
		room += used[idx] != 0;
	if (room == 0)
		return 0;
	if ((out->alerts = calloc(room, sizeof(*out->alerts))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	for (idx = 0; idx <= SERVICE_ALERT_INDEX_MAX; idx++) {
		a = &out->alerts[out->nalerts];
		if (!used[idx] || (rc = parse_alert(p, idx, ctx, out->name,
		    kvlist_get(p, "replicas"), a, err)) == 0)
			continue;
		if (rc == -1)
			return -1;
		a->index = idx;
		out->nalerts++;
		for (k = 0; k + 1 < out->nalerts; k++) {
			if (strcmp(out->alerts[k].name, a->name) == 0) {
				snprintf(err, ERR_MAX, "alert name %.200s is "
				    "given twice (alertName and alertName.N "
				    "must differ)", a->name);
				return -1;
			}
		}
	}
	if (out->nalerts == 0) {
		free(out->alerts);
		out->alerts = NULL;
	} else if ((shrunk = realloc(out->alerts, out->nalerts *
	    sizeof(*out->alerts))) != NULL)
		out->alerts = shrunk;
	return 0;
}

int
request_parse(const struct kvlist *params, const struct request_ctx *ctx,
    struct service *out, char err[ERR_MAX])
{
	memset(out, 0, sizeof(*out));
	if (canonicalize(params, ctx, &out->params, err) == -1 ||
	    parse_name(out, err) == -1 ||
	    parse_scalars(out, err) == -1 ||
	    parse_target_sources(ctx, out, err) == -1)
		goto fail;
	/* A parameter like aws-region becomes label aws_region. */
	if (request_named_labels(&out->params, ctx->target_labels,
	    ctx->ntarget_labels, &out->target_labels) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	if (parse_alerts(ctx, out, err) == -1)
		goto fail;
	/* The rendered files are held to their bounds by the registry,
	 * which renders them (once). */
	return 0;
fail:
	service_release(out);
	return -1;
}

int
request_keep_tasks(const struct service *old, struct service *svc)
{
	const char *ni, *reps;
	size_t i;

	if (old == NULL || svc->has_tasks || !old->has_tasks ||
	    kvlist_get(&svc->params, "scrapeNetwork") == NULL ||
	    (ni = kvlist_get(&old->params, "nodeInfo")) == NULL)
		return 0;
	reps = kvlist_get(&svc->params, "replicas");
	if (reps != NULL && reps[strspn(reps, "0")] == '\0' && *reps != '\0') {
		if (kvlist_set(&svc->params, "nodeInfo", "[]") == -1)
			return -1;
		kvlist_sort(&svc->params);
		svc->has_tasks = 1;
		return 0;
	}
	if (kvlist_set(&svc->params, "nodeInfo", ni) == -1)
		return -1;
	kvlist_sort(&svc->params);
	if ((svc->tasks = calloc(old->ntasks ? old->ntasks : 1,
	    sizeof(*svc->tasks))) == NULL)
		return -1;
	for (i = 0; i < old->ntasks; i++) {
		svc->tasks[i].hostname = strdup(old->tasks[i].hostname);
		svc->tasks[i].address = strdup(old->tasks[i].address);
		svc->tasks[i].node_id = strdup(old->tasks[i].node_id);
		svc->ntasks++;
		if (!svc->tasks[i].hostname || !svc->tasks[i].address ||
		    !svc->tasks[i].node_id)
			return -1;
	}
	svc->has_tasks = 1;
	return 1;
}

const char *
request_service_name(const struct kvlist *params)
{
	return kvlist_get(params, "serviceName");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

int
request_decode_form(const char *buf, size_t len, struct kvlist *out,
    char err[ERR_MAX])
{
	const char *p = buf, *end = buf + len;
	char *dec = NULL;
	int rc = -1;

	if ((dec = malloc(len + 2)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *seg_end = amp ? amp : end;
		char *key = dec, *val = NULL, *w = dec;
		const char *s;

		if (seg_end == p) {
			p = seg_end + 1;
			continue;
		}
		for (s = p; s < seg_end; s++) {
			unsigned char c = (unsigned char)*s;

			if (c == '=' && val == NULL) {
				*w++ = '\0';
				val = w;
				continue;
			}
			if (c == '+') {
				c = ' ';
			} else if (c == '%') {
				if (end - s < 3 || !isxdigit((unsigned char)s[1]) ||
				    !isxdigit((unsigned char)s[2])) {
					/* In a value, the name is decoded:
					 * say which parameter it is. */
					snprintf(err, ERR_MAX, "request body: "
					    "%s%.100s%smalformed %%-escape at "
					    "byte %zu", val ? "parameter " : "",
					    val ? key : "", val ? ": " : "",
					    (size_t)(s - buf));
					goto out;
				}
				c = (unsigned char)(hexval(s[1]) << 4 |
				    hexval(s[2]));
				s += 2;
			}
			if (c == '\0') {
				snprintf(err, ERR_MAX, "request body: %s%.100s%s"
				    "NUL byte near byte %zu", val ? "parameter " :
				    "", val ? key : "", val ? " holds a " : "",
				    (size_t)(s - buf));
				goto out;
			}
			*w++ = (char)c;
		}
		*w = '\0';
		if (val == NULL)
			val = w;
		if (kvlist_add(out, key, val) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			goto out;
		}
		p = seg_end + 1;
	}
	/* One sort instead of a scan of every earlier key per key: a body
	 * of 100,000 distinct keys costs milliseconds, not minutes. */
	if (kvlist_dedupe_ci(out) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(dec);
	return rc;
}

int
request_named_labels(const struct kvlist *params, const char *const *names,
    size_t nnames, struct kvlist *out)
{
	size_t i;

	for (i = 0; i < nnames; i++) {
		const char *v = kvlist_get_ci(params, names[i]);
		char label[128], *c;

		if (v == NULL || *v == '\0')
			continue;
		snprintf(label, sizeof(label), "%s", names[i]);
		for (c = label; *c; c++)
			if (*c == '-')
				*c = '_';
		if (kvlist_set(out, label, v) == -1) {
			kvlist_release(out);
			return -1;
		}
	}
	kvlist_sort(out);
	return 0;
}

size_t
request_form_count(const char *buf, size_t len)
{
	const char *p = buf, *end, *amp;
	size_t n = 0;

	if (len == 0)
		return 0;
	for (end = buf + len; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		n += amp > p;
	}
	return n;
}

int
request_check_node_labels(const struct request_ctx *ctx,
    const struct kvlist *labels, char err[ERR_MAX])
{
	long lim = request_ctx_limits(ctx)->max_value_bytes;
	size_t i, len, max = lim > 0 ? (size_t)lim : SIZE_MAX;

	for (i = 0; i < labels->n; i++) {
		const char *k = labels->v[i].key, *v = labels->v[i].value;

		if (!values_utf8_valid(k) || !values_utf8_valid(v)) {
			snprintf(err, ERR_MAX, "node label %.100s is not valid "
			    "UTF-8", values_utf8_valid(k) ? k : "(its name)");
			errno = EINVAL;
			return -1;
		}
		/* Repeated in every target group of the node's tasks. */
		if ((len = strlen(v)) > max) {
			snprintf(err, ERR_MAX, "node label %.100s is %zu bytes, "
			    "more than --max-value-bytes (%zu)", k, len, max);
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

int
request_node_labels(const struct request_ctx *ctx,
    const struct kvlist *params, const char *const *names, size_t nnames,
    struct kvlist *out, char err[ERR_MAX])
{
	if (request_named_labels(params, names, nnames, out) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (request_check_node_labels(ctx, out, err) == -1) {
		kvlist_release(out);
		return -1;
	}
	return 0;
}
