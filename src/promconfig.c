/* promconfig.c: DFM's environment variables to Prometheus's main
 * configuration, checked against a schema of the sections DFM let users set.
 * The tree and its design note: promconfig_impl.h; YAML: promconfig_yaml.c. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promconfig.h"
#include "promconfig_impl.h"
#include "strv.h"
#include "url.h"
#include "values.h"

#define PC_INDEX_MAX	10000		/* largest _<n> of a variable */
#define PC_SEGS_MAX	32		/* levels of one variable */

/*
 * Schema: the parts of Prometheus 2.42's configuration reachable from the
 * variables. Scrape files are not checked against it (they may use any
 * service discovery); promtool or Prometheus judges them.
 */

struct pc_field {
	const char		*name;
	enum pc_type		 type;
	enum pc_type		 elem;		/* PT_LIST: item type */
	const struct pc_field	*sub;		/* keys of a struct (item) */
	const char *const	*choices;	/* PT_ENUM (item) values */
};

#define F(n, t)		{ n, t, PT_END, NULL, NULL }
#define F_ENUM(n, c)	{ n, PT_ENUM, PT_END, NULL, c }
#define F_STRUCT(n, s)	{ n, PT_STRUCT, PT_END, s, NULL }
#define F_INLINE(s)	{ "", PT_INLINE, PT_END, s, NULL }
#define F_LIST(n, e)	{ n, PT_LIST, e, NULL, NULL }
#define F_LISTOF(n, s)	{ n, PT_LIST, PT_STRUCT, s, NULL }
#define F_END		{ NULL, PT_END, PT_END, NULL, NULL }

static const char *const pc_schemes[] = { "http", "https", NULL };
static const char *const pc_tls_versions[] = {
	"TLS10", "TLS11", "TLS12", "TLS13", NULL
};
static const char *const pc_dns_types[] = { "SRV", "A", "AAAA", "MX", NULL };
static const char *const pc_api_versions[] = { "v1", "v2", NULL };
static const char *const pc_actions[] = {
	"replace", "keep", "drop", "hashmod", "labelmap", "labeldrop",
	"labelkeep", "lowercase", "uppercase", "keepequal", "dropequal", NULL
};

static const struct pc_field pc_tls[] = {
	F("ca_file", PT_STR), F("cert_file", PT_STR), F("key_file", PT_STR),
	F("server_name", PT_STR), F("insecure_skip_verify", PT_BOOL),
	F_ENUM("min_version", pc_tls_versions), F_END
};
static const struct pc_field pc_basic_auth[] = {
	F("username", PT_STR), F("password", PT_STR), F("password_file", PT_STR),
	F_END
};
static const struct pc_field pc_authorization[] = {
	F("type", PT_STR), F("credentials", PT_STR),
	F("credentials_file", PT_STR), F_END
};
static const struct pc_field pc_oauth2[] = {
	F("client_id", PT_STR), F("client_secret", PT_STR),
	F("client_secret_file", PT_STR), F_LIST("scopes", PT_STR),
	F("token_url", PT_URL), F("endpoint_params", PT_MAP),
	F_STRUCT("tls_config", pc_tls), F("proxy_url", PT_URL), F_END
};
static const struct pc_field pc_http[] = {
	F_STRUCT("basic_auth", pc_basic_auth),
	F_STRUCT("authorization", pc_authorization),
	F_STRUCT("oauth2", pc_oauth2),
	F("bearer_token", PT_STR), F("bearer_token_file", PT_STR),
	F("proxy_url", PT_URL), F_STRUCT("tls_config", pc_tls),
	F("follow_redirects", PT_BOOL), F("enable_http2", PT_BOOL), F_END
};
static const struct pc_field pc_static[] = {
	F_LIST("targets", PT_STR), F("labels", PT_LABELS), F_END
};
static const struct pc_field pc_dns_sd[] = {
	F_LIST("names", PT_STR), F_ENUM("type", pc_dns_types),
	F("port", PT_INT), F("refresh_interval", PT_DUR), F_END
};
static const struct pc_field pc_file_sd[] = {
	F_LIST("files", PT_STR), F("refresh_interval", PT_DUR), F_END
};
static const struct pc_field pc_http_sd[] = {
	F("url", PT_URL), F("refresh_interval", PT_DUR), F_INLINE(pc_http),
	F_END
};
static const struct pc_field pc_sd[] = {
	F_LISTOF("static_configs", pc_static),
	F_LISTOF("dns_sd_configs", pc_dns_sd),
	F_LISTOF("file_sd_configs", pc_file_sd),
	F_LISTOF("http_sd_configs", pc_http_sd), F_END
};
static const struct pc_field pc_relabel[] = {
	F_LIST("source_labels", PT_LABEL), F("separator", PT_STR),
	F("regex", PT_STR), F("modulus", PT_INT), F("target_label", PT_STR),
	F("replacement", PT_STR), F_ENUM("action", pc_actions), F_END
};
static const struct pc_field pc_scrape[] = {
	F("job_name", PT_STR), F("honor_labels", PT_BOOL),
	F("honor_timestamps", PT_BOOL), F("params", PT_PARAMS),
	F("scrape_interval", PT_DUR), F("scrape_timeout", PT_DUR),
	F("metrics_path", PT_STR), F_ENUM("scheme", pc_schemes),
	F("body_size_limit", PT_STR), F("sample_limit", PT_INT),
	F("target_limit", PT_INT), F("label_limit", PT_INT),
	F("label_name_length_limit", PT_INT),
	F("label_value_length_limit", PT_INT),
	F_INLINE(pc_sd), F_INLINE(pc_http),
	F_LISTOF("relabel_configs", pc_relabel),
	F_LISTOF("metric_relabel_configs", pc_relabel), F_END
};
static const struct pc_field pc_alertmanager[] = {
	F("timeout", PT_DUR), F_ENUM("api_version", pc_api_versions),
	F("path_prefix", PT_STR), F_ENUM("scheme", pc_schemes),
	F_INLINE(pc_sd), F_INLINE(pc_http),
	F_LISTOF("relabel_configs", pc_relabel), F_END
};
static const struct pc_field pc_alerting[] = {
	F_LISTOF("alert_relabel_configs", pc_relabel),
	F_LISTOF("alertmanagers", pc_alertmanager), F_END
};
static const struct pc_field pc_queue[] = {
	F("capacity", PT_INT), F("max_shards", PT_INT), F("min_shards", PT_INT),
	F("max_samples_per_send", PT_INT), F("batch_send_deadline", PT_DUR),
	F("min_backoff", PT_DUR), F("max_backoff", PT_DUR),
	F("retry_on_http_429", PT_BOOL), F_END
};
static const struct pc_field pc_metadata[] = {
	F("send", PT_BOOL), F("send_interval", PT_DUR),
	F("max_samples_per_send", PT_INT), F_END
};
static const struct pc_field pc_remote_write[] = {
	F("url", PT_URL), F("remote_timeout", PT_DUR), F("headers", PT_MAP),
	F_LISTOF("write_relabel_configs", pc_relabel), F("name", PT_STR),
	F("send_exemplars", PT_BOOL), F("send_native_histograms", PT_BOOL),
	F_INLINE(pc_http), F_STRUCT("queue_config", pc_queue),
	F_STRUCT("metadata_config", pc_metadata), F_END
};
static const struct pc_field pc_remote_read[] = {
	F("url", PT_URL), F("remote_timeout", PT_DUR), F("headers", PT_MAP),
	F("read_recent", PT_BOOL), F("name", PT_STR),
	F("required_matchers", PT_LABELS),
	F("filter_external_labels", PT_BOOL), F_INLINE(pc_http), F_END
};
static const struct pc_field pc_global[] = {
	F("scrape_interval", PT_DUR), F("scrape_timeout", PT_DUR),
	F("evaluation_interval", PT_DUR), F("external_labels", PT_LABELS),
	F("query_log_file", PT_STR), F_END
};

/* The top level, in PC_ORDER_* order (rule_files is flowmon's alone). */
static const struct {
	const char		*name;
	long			 order;
	struct pc_field		 field;
} pc_top[] = {
	{ "global", PC_ORDER_GLOBAL, F_STRUCT("global", pc_global) },
	{ "alerting", PC_ORDER_ALERTING, F_STRUCT("alerting", pc_alerting) },
	{ "scrape_configs", PC_ORDER_SCRAPE,
	  F_LISTOF("scrape_configs", pc_scrape) },
	{ "remote_write", PC_ORDER_REMOTE_WRITE,
	  F_LISTOF("remote_write", pc_remote_write) },
	{ "remote_read", PC_ORDER_REMOTE_READ,
	  F_LISTOF("remote_read", pc_remote_read) },
};

/*
 * Environment to tree.
 */

/* Finds key in fields (inline parts included); *order gets its position
 * in the flattened field list. */
static const struct pc_field *
pc_find(const struct pc_field *fields, const char *key, long *order)
{
	const struct pc_field *f, *found;

	for (f = fields; f->type != PT_END; f++) {
		if (f->type == PT_INLINE) {
			long sub = 0;

			if ((found = pc_find(f->sub, key, &sub)) != NULL) {
				*order += sub;
				return found;
			}
			*order += sub;
			continue;
		}
		if (strcmp(f->name, key) == 0)
			return f;
		(*order)++;
	}
	return NULL;
}

/* Splits "name_<n>" into name (into base) and n. -1 if seg has no such
 * suffix; *index is 0 for "name_0" (the caller refuses it). */
static int
pc_split_index(const char *seg, char *base, size_t basesz, long *index)
{
	const char *us = strrchr(seg, '_');
	size_t nd;

	if (us == NULL || us == seg || (nd = strspn(us + 1, "0123456789")) ==
	    0 || us[1 + nd] != '\0' || (size_t)(us - seg) >= basesz)
		return -1;
	memcpy(base, seg, (size_t)(us - seg));
	base[us - seg] = '\0';
	*index = nd > 6 ? PC_INDEX_MAX + 1 : strtol(us + 1, NULL, 10);
	return 0;
}

/* Sets one scalar member or item, refusing a second setter. */
static int
pc_put(struct pc_node *n, const char *var, const char *path, char *value,
    int plain, char err[ERR_MAX])
{
	if (n->src != NULL) {
		snprintf(err, ERR_MAX, "%s: %s is already set by %s", var, path,
		    n->src);
		free(value);
		return -1;
	}
	n->value = value;
	n->plain = plain;
	n->src = pc_xstrdup(var);
	return 0;
}

/* "k=v[,k=v...]" into map: an item without '=' continues the value before
 * it, so a value may hold commas. single: the whole value is one pair. */
static int
pc_put_pairs(struct pc_node *map, const char *var, const char *path,
    const char *value, int single, int labels, char err[ERR_MAX])
{
	char *copy = pc_xstrdup(value), *item, *next, *eq, *prev = NULL;
	struct pc_node *kid = NULL;
	int ret = -1;

	for (item = copy; item != NULL; item = next) {
		next = single ? NULL : strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		if ((eq = strchr(item, '=')) == NULL) {
			if (kid == NULL) {
				snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must "
				    "be name=value[,name=value...]", var, path,
				    value);
				goto out;
			}
			if (asprintf(&prev, "%s,%s", kid->value, item) < 0)
				abort();
			free(kid->value);
			kid->value = prev;
			continue;
		}
		*eq = '\0';
		if (labels ? !values_label_name_valid(item) : *item == '\0') {
			snprintf(err, ERR_MAX, "%s: \"%.100s\" in %s is not a "
			    "%s", var, item, path, labels ?
			    "label name ([a-zA-Z_][a-zA-Z0-9_]*)" : "key");
			goto out;
		}
		if (!values_utf8_valid(item) || !values_utf8_valid(eq + 1)) {
			snprintf(err, ERR_MAX, "%s: %s is not valid UTF-8",
			    var, path);
			goto out;
		}
		if ((kid = pc_by_key(map, item)) != NULL) {
			snprintf(err, ERR_MAX, "%s: %s.%s is already set by %s",
			    var, path, item, kid->src);
			goto out;
		}
		kid = pc_attach(map, pc_node_new(PC_SCALAR, item, 0));
		kid->value = pc_xstrdup(eq + 1);
		kid->src = pc_xstrdup(var);
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* "key_<n>=value" (or "key=value", item 1) into a params map. */
static int
pc_put_param(struct pc_node *map, const char *var, const char *path,
    const char *value, char err[ERR_MAX])
{
	char key[256], base[256];
	const char *eq = strchr(value, '=');
	struct pc_node *list;
	long index = 1;
	char sub[300];

	if (eq == NULL || eq == value || (size_t)(eq - value) >= sizeof(key)) {
		snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be "
		    "name_<n>=value", var, path, value);
		return -1;
	}
	memcpy(key, value, (size_t)(eq - value));
	key[eq - value] = '\0';
	if (pc_split_index(key, base, sizeof(base), &index) == 0)
		strcpy(key, base);
	if (index < 1 || index > PC_INDEX_MAX) {
		snprintf(err, ERR_MAX, "%s: %s: index of \"%.100s\" must be "
		    "from 1 to %d", var, path, value, PC_INDEX_MAX);
		return -1;
	}
	if (!values_utf8_valid(key) || !values_utf8_valid(eq + 1)) {
		snprintf(err, ERR_MAX, "%s: %s is not valid UTF-8", var, path);
		return -1;
	}
	list = pc_member(map, key, 0, PC_SEQ);
	snprintf(sub, sizeof(sub), "%.100s.%.100s[%ld]", path, key, index);
	return pc_put(pc_item(list, index, PC_SCALAR), var, sub,
	    pc_xstrdup(eq + 1), 0, err);
}

/* Walks segs (lower case) from the top of the tree along the schema and
 * stores value at the end of the path. */
static int
pc_set(struct promconfig *pc, const char *var, char *const *segs,
    size_t nseg, const char *value, char err[ERR_MAX])
{
	const struct pc_field *fields = NULL, *f;
	struct pc_node *node = pc->root, *list;
	char path[200] = "", base[128], *dash, *v;
	size_t i, k;
	long order, index;
	int plain, last, rc;

	for (i = 0; i < nseg; i++) {
		const char *seg = segs[i];
		char segbuf[128];

		last = i + 1 == nseg;
		f = NULL;
		order = 0;
		index = -1;
		if (*seg == '\0') {
			snprintf(err, ERR_MAX, "%s: empty key after %s", var,
			    *path ? path : "the prefix");
			return -1;
		}
		/* GLOBAL_EXTERNAL_LABELS-<NAME>=v means external_labels
		 * name=v (DFM's older form, name lower-cased). */
		if (last && (dash = strchr(seg, '-')) != NULL &&
		    (size_t)(dash - seg) < sizeof(segbuf)) {
			memcpy(segbuf, seg, (size_t)(dash - seg));
			segbuf[dash - seg] = '\0';
			if (fields != NULL &&
			    (f = pc_find(fields, segbuf, &order)) != NULL &&
			    f->type == PT_LABELS && dash[1] != '\0') {
				char *pair;

				if (asprintf(&pair, "%s=%s", dash + 1,
				    value) < 0)
					abort();
				node = pc_member(node, f->name, order, PC_MAP);
				snprintf(path + strlen(path), sizeof(path) -
				    strlen(path), ".%s", f->name);
				rc = pc_put_pairs(node, var, path, pair, 1, 1,
				    err);
				free(pair);
				return rc;
			}
			f = NULL;
			order = 0;
		}
		if (fields == NULL) {
			/* Top level. */
			for (k = 0; k < PC_NITEMS(pc_top); k++) {
				if (strcmp(seg, pc_top[k].name) == 0 ||
				    (pc_split_index(seg, base, sizeof(base),
				    &index) == 0 &&
				    strcmp(base, pc_top[k].name) == 0)) {
					f = &pc_top[k].field;
					order = pc_top[k].order;
					break;
				}
				index = -1;
			}
		} else if ((f = pc_find(fields, seg, &order)) == NULL &&
		    pc_split_index(seg, base, sizeof(base), &index) == 0) {
			order = 0;
			f = pc_find(fields, base, &order);
		}
		if (f == NULL || (index != -1 && f->type != PT_LIST)) {
			snprintf(err, ERR_MAX, "%s: unknown key \"%s\" in %s",
			    var, seg, *path ? path : "the top level "
			    "(global, alerting, scrape_configs_<n>, "
			    "remote_write_<n>, remote_read_<n>)");
			return -1;
		}
		if (f->type == PT_LIST && index == -1) {
			snprintf(err, ERR_MAX, "%s: %s%s%s is a list: give the "
			    "item as %s_<n> (n from 1)", var, path,
			    *path ? "." : "", f->name, f->name);
			return -1;
		}
		if (index == 0 || index > PC_INDEX_MAX) {
			snprintf(err, ERR_MAX, "%s: index %s in \"%s\": items "
			    "count from 1 (to %d)", var, index == 0 ? "0" :
			    "too large", seg, PC_INDEX_MAX);
			return -1;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "%s%s", *path ? "." : "", f->name);
		if (index > 0)
			snprintf(path + strlen(path), sizeof(path) -
			    strlen(path), "[%ld]", index);
		/* Sections need a key below them, values none. */
		if ((f->type == PT_STRUCT ||
		    (f->type == PT_LIST && f->elem == PT_STRUCT)) && last) {
			snprintf(err, ERR_MAX, "%s: %s is a section: name one of "
			    "its keys (%s__<KEY>)", var, path, var);
			return -1;
		}
		if (!(f->type == PT_STRUCT ||
		    (f->type == PT_LIST && f->elem == PT_STRUCT)) && !last) {
			snprintf(err, ERR_MAX, "%s: %s takes a value, not the "
			    "key \"%s\" below it", var, path, segs[i + 1]);
			return -1;
		}
		switch (f->type) {
		case PT_STRUCT:
			node = pc_member(node, f->name, order, PC_MAP);
			fields = f->sub;
			break;
		case PT_LIST:
			list = pc_member(node, f->name, order, PC_SEQ);
			if (f->elem == PT_STRUCT) {
				node = pc_item(list, index, PC_MAP);
				fields = f->sub;
				break;
			}
			if ((v = pc_scalar(var, path, f->elem, f->choices,
			    value, &plain, err)) == NULL)
				return -1;
			return pc_put(pc_item(list, index, PC_SCALAR), var,
			    path, v, plain, err);
		case PT_LABELS:
		case PT_MAP:
			node = pc_member(node, f->name, order, PC_MAP);
			return pc_put_pairs(node, var, path, value, 0,
			    f->type == PT_LABELS, err);
		case PT_PARAMS:
			node = pc_member(node, f->name, order, PC_MAP);
			return pc_put_param(node, var, path, value, err);
		default:
			if ((v = pc_scalar(var, path, f->type, f->choices,
			    value, &plain, err)) == NULL)
				return -1;
			return pc_put(pc_member(node, f->name, order,
			    PC_SCALAR), var, path, v, plain, err);
		}
	}
	return 0;
}

/* DFM's prefixes: only these variables are configuration. */
static const char *const pc_prefixes[] = {
	"GLOBAL_", "ALERTING_", "SCRAPE_CONFIGS_", "REMOTE_WRITE_",
	"REMOTE_READ_"
};

/* One configuration variable: DFM's older single-'_' forms rewritten as
 * DFM did, lower-cased, split on "__", stored. */
static int
pc_env(struct promconfig *pc, const char *var, const char *value,
    char err[ERR_MAX])
{
	char *key, *segs[PC_SEGS_MAX], *p;
	size_t nseg = 0;
	int ret = -1;

	if (strstr(var, "__") != NULL)
		key = pc_xstrdup(var);
	else if (strncmp(var, "GLOBAL_", 7) == 0) {
		if (asprintf(&key, "GLOBAL__%s", var + 7) < 0)
			abort();
	} else if (strncmp(var, "REMOTE_WRITE_", 13) == 0) {
		if (asprintf(&key, "REMOTE_WRITE_1__%s", var + 13) < 0)
			abort();
	} else if (strncmp(var, "REMOTE_READ_", 12) == 0) {
		if (asprintf(&key, "REMOTE_READ_1__%s", var + 12) < 0)
			abort();
	} else {
		snprintf(err, ERR_MAX, "%s: levels are separated by '__' "
		    "(like SCRAPE_CONFIGS_1__JOB_NAME, ALERTING__ALERTMANAGERS_1"
		    "__SCHEME)", var);
		return -1;
	}
	for (p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = key; nseg < PC_SEGS_MAX; ) {
		char *sep = strstr(p, "__");

		segs[nseg++] = p;
		if (sep == NULL)
			break;
		*sep = '\0';
		p = sep + 2;
	}
	if (nseg == PC_SEGS_MAX) {
		snprintf(err, ERR_MAX, "%s: more than %d levels", var,
		    PC_SEGS_MAX - 1);
		goto out;
	}
	ret = pc_set(pc, var, segs, nseg, value, err);
out:
	free(key);
	return ret;
}

/* One Alertmanager entry made from ARG_ALERTMANAGER_URL. */
struct pc_am {
	char	*scheme;
	char	*path;
	char	*userinfo;
	long	 index;
	long	 ntargets;
};

static int
pc_set_path(struct promconfig *pc, const char *var, const char *value,
    char err[ERR_MAX], size_t nseg, ...)
{
	char *segs[PC_SEGS_MAX];
	va_list ap;
	size_t i;

	va_start(ap, nseg);
	for (i = 0; i < nseg && i < PC_SEGS_MAX; i++)
		segs[i] = va_arg(ap, char *);
	va_end(ap);
	return pc_set(pc, var, segs, nseg, value, err);
}

/* ARG_ALERTMANAGER_URL: a comma list of URLs. URLs that share a scheme,
 * path and credentials become one alertmanagers entry with their hosts as
 * static targets (as DFM wrote it); the path is kept as path_prefix (DFM
 * dropped it) and user:password@ becomes basic_auth. The entries come
 * after any ALERTING__ALERTMANAGERS_<n>. */
static int
pc_alertmanager_urls(struct promconfig *pc, const char *list,
    char err[ERR_MAX])
{
	static const char var[] = "ARG_ALERTMANAGER_URL";
	struct pc_am *ams = NULL;
	struct pc_node *alerting, *seq;
	struct url *urls = NULL;
	char am[64], tg[64];
	size_t nams = 0, i, nurls = 0, k;
	long base = 0;
	int ret = -1;

	if ((alerting = pc_by_key(pc->root, "alerting")) != NULL &&
	    (seq = pc_by_key(alerting, "alertmanagers")) != NULL &&
	    seq->nkids > 0)
		base = seq->kids[seq->nkids - 1]->order;
	if (url_parse_list(list, URL_HTTP, var, &urls, &nurls, err) == -1)
		goto out;
	for (k = 0; k < nurls; k++) {
		struct url *u = &urls[k];
		char *path, *userinfo, *host;
		struct pc_am *a = NULL;

		if (u->query != NULL || u->fragment != NULL) {
			snprintf(err, ERR_MAX, "%s: \"%s\" has a query or "
			    "fragment, which Alertmanager URLs cannot use",
			    var, u->shown);
			goto out;
		}
		path = u->path;
		while (*path && path[strlen(path) - 1] == '/')
			path[strlen(path) - 1] = '\0';
		if (asprintf(&userinfo, "%s%s%s", u->user ? u->user : "",
		    u->password ? ":" : "", u->password ? u->password : "") < 0)
			abort();
		for (i = 0; i < nams; i++)
			if (strcmp(ams[i].scheme, u->scheme) == 0 &&
			    strcmp(ams[i].path, path) == 0 &&
			    strcmp(ams[i].userinfo, userinfo) == 0)
				break;
		free(userinfo);
		if (i == nams) {
			if ((ams = realloc(ams, (nams + 1) *
			    sizeof(*ams))) == NULL)
				abort();
			a = &ams[nams++];
			a->scheme = pc_xstrdup(u->scheme);
			a->path = pc_xstrdup(path);
			if (asprintf(&a->userinfo, "%s%s%s", u->user ? u->user :
			    "", u->password ? ":" : "", u->password ?
			    u->password : "") < 0)
				abort();
			a->index = base + (long)nams;
			a->ntargets = 0;
			snprintf(am, sizeof(am), "alertmanagers_%ld", a->index);
			if (pc_set_path(pc, var, a->scheme, err, 3, "alerting",
			    am, "scheme") == -1)
				goto out;
			if (*path && pc_set_path(pc, var, path, err, 3,
			    "alerting", am, "path_prefix") == -1)
				goto out;
			if (u->user != NULL || u->password != NULL) {
				char *user = pc_xstrdup(u->user ? u->user : "");
				char *pw = u->password ?
				    pc_xstrdup(u->password) : NULL;
				int bad;

				bad = pc_unescape(user) == -1 || (pw != NULL &&
				    pc_unescape(pw) == -1);
				if (bad)
					snprintf(err, ERR_MAX, "%s: bad %%-escape "
					    "in the credentials of an entry",
					    var);
				else if (pc_set_path(pc, var, user, err, 4,
				    "alerting", am, "basic_auth",
				    "username") == -1 || (pw != NULL &&
				    pc_set_path(pc, var, pw, err, 4,
				    "alerting", am, "basic_auth",
				    "password") == -1))
					bad = 1;
				free(user);
				if (pw != NULL)
					explicit_bzero(pw, strlen(pw));
				free(pw);
				if (bad)
					goto out;
			}
		}
		if (asprintf(&host, "%s%s%s", u->host, u->port ? ":" : "",
		    u->port ? u->port : "") < 0)
			abort();
		free(u->host);
		u->host = host;
		a = &ams[i];
		snprintf(am, sizeof(am), "alertmanagers_%ld", a->index);
		snprintf(tg, sizeof(tg), "targets_%ld", a->ntargets + 1);
		seq = pc_by_key(pc_by_key(pc->root, "alerting"),
		    "alertmanagers");
		seq = pc_by_order(seq, a->index);
		if ((seq = pc_by_key(seq, "static_configs")) != NULL &&
		    (seq = pc_by_order(seq, 1)) != NULL &&
		    (seq = pc_by_key(seq, "targets")) != NULL) {
			size_t t;

			for (t = 0; t < seq->nkids; t++)
				if (strcmp(seq->kids[t]->value, u->host) == 0)
					break;
			if (t < seq->nkids)
				continue;	/* the same host twice */
		}
		if (pc_set_path(pc, var, u->host, err, 4, "alerting", am,
		    "static_configs_1", tg) == -1)
			goto out;
		a->ntargets++;
	}
	ret = 0;
out:
	for (i = 0; i < nams; i++) {
		free(ams[i].scheme);
		free(ams[i].path);
		free(ams[i].userinfo);
	}
	free(ams);
	url_list_free(urls, nurls);
	return ret;
}

struct promconfig *
promconfig_from_env(char *const *envp, char err[ERR_MAX])
{
	struct promconfig *pc = pc_xalloc(sizeof(*pc));
	char **sorted = NULL, *name = NULL;
	const char *am = NULL;
	size_t n = 0, i, k;

	pc->root = pc_node_new(PC_MAP, NULL, 0);
	while (envp != NULL && envp[n] != NULL)
		n++;
	/* Sorted, so that which of two clashing variables a message names
	 * does not depend on the order of the environment. */
	sorted = pc_xalloc((n + 1) * sizeof(*sorted));
	memcpy(sorted, envp, n * sizeof(*sorted));
	strv_sort(sorted, n);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(sorted[i], '=');

		if (eq == NULL || eq[1] == '\0')
			continue;
		free(name);
		name = pc_xstrndup(sorted[i], (size_t)(eq - sorted[i]));
		if (strcmp(name, "ARG_ALERTMANAGER_URL") == 0) {
			am = eq + 1;
			continue;
		}
		for (k = 0; k < PC_NITEMS(pc_prefixes); k++)
			if (strncmp(name, pc_prefixes[k],
			    strlen(pc_prefixes[k])) == 0)
				break;
		if (k == PC_NITEMS(pc_prefixes))
			continue;
		if (pc_env(pc, name, eq + 1, err) == -1)
			goto fail;
	}
	if (am != NULL && pc_alertmanager_urls(pc, am, err) == -1)
		goto fail;
	free(name);
	free(sorted);
	return pc;
fail:
	free(name);
	free(sorted);
	promconfig_free(pc);
	return NULL;
}

void
promconfig_free(struct promconfig *pc)
{
	if (pc == NULL)
		return;
	pc_node_free(pc->root);
	free(pc);
}

const char *
promconfig_configs_dir(char *const *envp)
{
	size_t i;

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], "CONFIGS_DIR=", 12) == 0 &&
		    envp[i][12] != '\0')
			return envp[i] + 12;
	return PROMCONFIG_CONFIGS_DIR;
}

int
promconfig_set_shard(struct promconfig *pc, long shards, long shard,
    char err[ERR_MAX])
{
	if (shards < 1 || shard < 0 || shard >= shards) {
		snprintf(err, ERR_MAX, "shard %ld of %ld: need 1 or more "
		    "shards and 0 <= shard < shards", shard, shards);
		return -1;
	}
	pc->shards = shards;
	pc->shard = shard;
	return 0;
}
