/* promconfig.c: DFM's environment variables to Prometheus's main
 * configuration, checked against a schema of the sections DFM let users set.
 *
 * Design note. The environment is folded into a small tree of maps, lists
 * and scalars. Every node carries its order among its siblings: the schema
 * position for keys the schema knows, the index for list items, the file
 * position for what a scrape file said, and 0 (then the key) for label
 * maps. Emission walks the tree in that order, so the bytes depend on the
 * input alone, never on the order of environ or of a directory. Start-up
 * code only: allocation failure aborts. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "log.h"
#include "promconfig.h"
#include "values.h"

#define PC_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define PC_INDEX_MAX	10000		/* largest _<n> of a variable */
#define PC_FILE_ORDER	1000000L	/* file jobs sort after env jobs */
#define PC_SEGS_MAX	32		/* levels of one variable */
#define PC_DEPTH_MAX	64		/* nesting of a scrape file */
#define PC_NODES_MAX	100000		/* nodes of one scrape file, aliases expanded */
#define PC_SHARD_LABEL	"__tmp_flowmon_shard"	/* dropped after relabelling */

/* Top-level keys, in the order Prometheus documents them (and DFM wrote). */
enum {
	PC_ORDER_GLOBAL, PC_ORDER_ALERTING, PC_ORDER_RULE_FILES,
	PC_ORDER_SCRAPE, PC_ORDER_REMOTE_WRITE, PC_ORDER_REMOTE_READ
};

/*
 * Schema: the parts of Prometheus 2.42's configuration reachable from the
 * variables. Scrape files are not checked against it (they may use any
 * service discovery); promtool or Prometheus judges them.
 */

enum pc_type {
	PT_END,
	PT_STR, PT_BOOL, PT_INT, PT_DUR, PT_URL, PT_LABEL, PT_ENUM, /* scalars */
	PT_STRUCT,	/* a map of known keys */
	PT_INLINE,	/* known keys spliced into the enclosing map */
	PT_LIST,	/* items name_1, name_2, ... of type elem */
	PT_LABELS,	/* label name -> value, set as name=value[,name=value] */
	PT_MAP,		/* any key -> value, same form */
	PT_PARAMS	/* key -> list of values, set as key_<n>=value */
};

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
 * The tree.
 */

enum pc_kind { PC_MAP, PC_SEQ, PC_SCALAR };

struct pc_node {
	enum pc_kind	  kind;
	char		 *key;		/* member of a map: its key */
	long		  order;	/* sort key among siblings */
	char		 *value;	/* PC_SCALAR */
	int		  plain;	/* PC_SCALAR: typed, written plain */
	char		 *src;		/* variable or file that set it */
	struct pc_node	**kids;
	size_t		  nkids;
};

struct promconfig {
	struct pc_node	*root;
	long		 nfile_jobs;
	long		 shards;	/* 0 or 1: no sharding */
	long		 shard;
};

static void *
pc_xalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL)
		abort();
	return p;
}

static char *
pc_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static char *
pc_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

static struct pc_node *
pc_node_new(enum pc_kind kind, const char *key, long order)
{
	struct pc_node *n = pc_xalloc(sizeof(*n));

	n->kind = kind;
	n->key = key != NULL ? pc_xstrdup(key) : NULL;
	n->order = order;
	return n;
}

static void
pc_node_free(struct pc_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		pc_node_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->value);
	free(n->src);
	free(n);
}

static int
pc_before(const struct pc_node *a, const struct pc_node *b)
{
	if (a->order != b->order)
		return a->order < b->order;
	if (a->key != NULL && b->key != NULL)
		return strcmp(a->key, b->key) < 0;
	return 0;
}

/* Adds kid to parent, keeping the kids sorted (stable for equal keys). */
static struct pc_node *
pc_attach(struct pc_node *parent, struct pc_node *kid)
{
	struct pc_node **kids;
	size_t at;

	kids = realloc(parent->kids, (parent->nkids + 1) * sizeof(*kids));
	if (kids == NULL)
		abort();
	parent->kids = kids;
	for (at = parent->nkids; at > 0 && pc_before(kid, kids[at - 1]); at--)
		kids[at] = kids[at - 1];
	kids[at] = kid;
	parent->nkids++;
	return kid;
}

static struct pc_node *
pc_by_key(const struct pc_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->nkids; i++)
		if (map->kids[i]->key != NULL &&
		    strcmp(map->kids[i]->key, key) == 0)
			return map->kids[i];
	return NULL;
}

static struct pc_node *
pc_by_order(const struct pc_node *seq, long order)
{
	size_t i;

	for (i = 0; i < seq->nkids; i++)
		if (seq->kids[i]->order == order)
			return seq->kids[i];
	return NULL;
}

/* The member key of map, created as kind if missing. */
static struct pc_node *
pc_member(struct pc_node *map, const char *key, long order,
    enum pc_kind kind)
{
	struct pc_node *n = pc_by_key(map, key);

	return n != NULL ? n : pc_attach(map, pc_node_new(kind, key, order));
}

/* Item index of seq, created as kind if missing. */
static struct pc_node *
pc_item(struct pc_node *seq, long index, enum pc_kind kind)
{
	struct pc_node *n = pc_by_order(seq, index);

	return n != NULL ? n : pc_attach(seq, pc_node_new(kind, NULL, index));
}

/*
 * Values.
 */

/* A parsed URL. */
struct pc_url {
	char	scheme[16];	/* lower case */
	char	userinfo[512];	/* "" if none (still %-encoded) */
	int	has_userinfo;
	char	host[512];	/* host[:port] */
	char	path[1024];	/* "" or from the first '/' to '?' or '#' */
	int	query;		/* a '?' or '#' follows */
};

/* Parses scheme://[userinfo@]host[:port][/path][?query]. -1 with why (a
 * phrase for a message) when it is no such URL, the scheme is not in
 * schemes, the host is empty or the port is not 1..65535. */
static int
pc_url_parse(const char *s, const char *const *schemes, struct pc_url *u,
    const char **why)
{
	const char *p, *auth, *end, *at, *hp, *colon;
	size_t n, i;

	memset(u, 0, sizeof(*u));
	*why = "is not a URL (scheme://host[:port][/path])";
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "holds a space or a control character";
			return -1;
		}
	if ((p = strstr(s, "://")) == NULL || p == s ||
	    (size_t)(p - s) >= sizeof(u->scheme))
		return -1;
	for (n = 0; s + n < p; n++) {
		if (!isalnum((unsigned char)s[n]) && s[n] != '+' &&
		    s[n] != '-' && s[n] != '.')
			return -1;
		u->scheme[n] = (char)tolower((unsigned char)s[n]);
	}
	for (i = 0; schemes[i] != NULL; i++)
		if (strcmp(u->scheme, schemes[i]) == 0)
			break;
	if (schemes[i] == NULL) {
		*why = schemes[2] == NULL ? "must start with http:// or "
		    "https://" : "must start with http://, https:// or "
		    "socks5://";
		return -1;
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	hp = auth;
	if (at != NULL) {
		if ((size_t)(at - auth) >= sizeof(u->userinfo)) {
			*why = "has credentials that are too long";
			return -1;
		}
		memcpy(u->userinfo, auth, (size_t)(at - auth));
		u->has_userinfo = 1;
		hp = at + 1;
	}
	if (hp == end || *hp == ':') {
		*why = "has no host";
		return -1;
	}
	if ((size_t)(end - hp) >= sizeof(u->host) ||
	    strcspn(end, "?#") >= sizeof(u->path)) {
		*why = "is too long";
		return -1;
	}
	memcpy(u->host, hp, (size_t)(end - hp));
	memcpy(u->path, end, strcspn(end, "?#"));
	u->query = end[strcspn(end, "?#")] != '\0';
	colon = u->host;
	if (*u->host == '[' && (colon = strchr(u->host, ']')) == NULL) {
		*why = "has an unclosed '[' in its host";
		return -1;
	}
	if ((colon = strchr(colon, ':')) != NULL) {
		if (values_port(colon + 1, strlen(colon + 1)) == 0) {
			*why = "has a port that is not a number from 1 to 65535";
			return -1;
		}
	}
	return 0;
}

/* %XX-decodes s in place; -1 on a bad escape or a NUL. */
static int
pc_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if (!isxdigit((unsigned char)s[1]) ||
		    !isxdigit((unsigned char)s[2]))
			return -1;
		*w = (char)((isdigit((unsigned char)s[1]) ? s[1] - '0' :
		    (tolower((unsigned char)s[1]) - 'a' + 10)) << 4);
		*w |= (char)(isdigit((unsigned char)s[2]) ? s[2] - '0' :
		    (tolower((unsigned char)s[2]) - 'a' + 10));
		if (*w == '\0')
			return -1;
		w++;
		s += 2;
	}
	*w = '\0';
	return 0;
}

/* Checks value v of type t for variable var at path; *plain says whether
 * it is typed (bool, number, duration: written plain). Returns the value to
 * store (normalised for bools), malloc'd, or NULL with err. */
static char *
pc_scalar(const char *var, const char *path, enum pc_type t,
    const char *const *choices, const char *v, int *plain, char err[ERR_MAX])
{
	static const char *const url_schemes[] = {
		"http", "https", "socks5", NULL
	};
	struct pc_url u;
	const char *why;
	size_t i;
	long n;
	int b;

	*plain = 0;
	if (!values_utf8_valid(v)) {
		snprintf(err, ERR_MAX, "%s: the value of %s is not valid "
		    "UTF-8", var, path);
		return NULL;
	}
	switch (t) {
	case PT_BOOL:
		if (values_bool(v, &b) == -1) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be "
			    VALUES_BOOL_WORDS, var, path, v);
			return NULL;
		}
		*plain = 1;
		return pc_xstrdup(b ? "true" : "false");
	case PT_INT:
		if (values_count(v, 0, 999999999999999999L, &n) == -1) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be a "
			    "whole number", var, path, v);
			return NULL;
		}
		*plain = 1;
		break;
	case PT_DUR:
		if (!values_duration_valid(v)) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" is not a "
			    "duration (like 15s, 1m30s, 500ms)", var, path, v);
			return NULL;
		}
		*plain = 1;
		break;
	case PT_URL:
		if (pc_url_parse(v, url_schemes, &u, &why) == -1) {
			snprintf(err, ERR_MAX, "%s: %s \"%.200s\" %s", var,
			    path, v, why);
			return NULL;
		}
		break;
	case PT_LABEL:
		if (!values_label_name_valid(v)) {
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" is not a "
			    "label name ([a-zA-Z_][a-zA-Z0-9_]*)", var, path, v);
			return NULL;
		}
		break;
	case PT_ENUM:
		for (i = 0; choices[i] != NULL; i++)
			if (strcmp(v, choices[i]) == 0)
				break;
		if (choices[i] == NULL) {
			char list[256] = "";

			for (i = 0; choices[i] != NULL; i++)
				snprintf(list + strlen(list), sizeof(list) -
				    strlen(list), "%s%s", i ? ", " : "",
				    choices[i]);
			snprintf(err, ERR_MAX, "%s: %s \"%.100s\" must be one "
			    "of %s", var, path, v, list);
			return NULL;
		}
		break;
	default:
		break;
	}
	return pc_xstrdup(v);
}

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
	static const char *const schemes[] = { "http", "https", NULL };
	static const char var[] = "ARG_ALERTMANAGER_URL";
	struct pc_am *ams = NULL;
	struct pc_node *alerting, *seq;
	char *copy = pc_xstrdup(list), *item, *next, am[64], tg[64];
	size_t nams = 0, i;
	long base = 0;
	int ret = -1;

	if ((alerting = pc_by_key(pc->root, "alerting")) != NULL &&
	    (seq = pc_by_key(alerting, "alertmanagers")) != NULL &&
	    seq->nkids > 0)
		base = seq->kids[seq->nkids - 1]->order;
	for (item = copy; item != NULL; item = next) {
		struct pc_url u;
		const char *why;
		char *path;
		struct pc_am *a = NULL;

		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		item += strspn(item, " \t");
		for (path = item + strlen(item); path > item &&
		    (path[-1] == ' ' || path[-1] == '\t'); )
			*--path = '\0';
		if (*item == '\0') {
			snprintf(err, ERR_MAX, "%s: empty entry in \"%.200s\"",
			    var, list);
			goto out;
		}
		if (pc_url_parse(item, schemes, &u, &why) == -1) {
			snprintf(err, ERR_MAX, "%s: \"%.200s\" %s", var, item,
			    why);
			goto out;
		}
		if (u.query) {
			snprintf(err, ERR_MAX, "%s: \"%.200s\" has a query or "
			    "fragment, which Alertmanager URLs cannot use",
			    var, item);
			goto out;
		}
		path = u.path;
		while (*path && path[strlen(path) - 1] == '/')
			path[strlen(path) - 1] = '\0';
		for (i = 0; i < nams; i++)
			if (strcmp(ams[i].scheme, u.scheme) == 0 &&
			    strcmp(ams[i].path, path) == 0 &&
			    strcmp(ams[i].userinfo, u.userinfo) == 0)
				break;
		if (i == nams) {
			if ((ams = realloc(ams, (nams + 1) *
			    sizeof(*ams))) == NULL)
				abort();
			a = &ams[nams++];
			a->scheme = pc_xstrdup(u.scheme);
			a->path = pc_xstrdup(path);
			a->userinfo = pc_xstrdup(u.userinfo);
			a->index = base + (long)nams;
			a->ntargets = 0;
			snprintf(am, sizeof(am), "alertmanagers_%ld", a->index);
			if (pc_set_path(pc, var, a->scheme, err, 3, "alerting",
			    am, "scheme") == -1)
				goto out;
			if (*path && pc_set_path(pc, var, path, err, 3,
			    "alerting", am, "path_prefix") == -1)
				goto out;
			if (u.has_userinfo) {
				char *pw = strchr(u.userinfo, ':');

				if (pw != NULL)
					*pw++ = '\0';
				if (pc_unescape(u.userinfo) == -1 ||
				    (pw != NULL && pc_unescape(pw) == -1)) {
					snprintf(err, ERR_MAX, "%s: bad %%-escape "
					    "in the credentials of an entry",
					    var);
					goto out;
				}
				if (pc_set_path(pc, var, u.userinfo, err, 4,
				    "alerting", am, "basic_auth",
				    "username") == -1 || (pw != NULL &&
				    pc_set_path(pc, var, pw, err, 4,
				    "alerting", am, "basic_auth",
				    "password") == -1))
					goto out;
			}
		}
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
				if (strcmp(seq->kids[t]->value, u.host) == 0)
					break;
			if (t < seq->nkids)
				continue;	/* the same host twice */
		}
		if (pc_set_path(pc, var, u.host, err, 4, "alerting", am,
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
	free(copy);
	return ret;
}

static int
pc_env_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	qsort(sorted, n, sizeof(*sorted), pc_env_cmp);
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

/*
 * Scrape files.
 */

/* A libyaml document node as a tree node; plain scalars stay plain (typed
 * as the file had them), quoted ones stay strings. */
static struct pc_node *
pc_from_yaml(yaml_document_t *doc, yaml_node_t *y, const char *key,
    long order, size_t *budget, int depth)
{
	struct pc_node *n;
	yaml_node_item_t *it;
	yaml_node_pair_t *pair;
	long pos = 0;

	if (y == NULL || depth > PC_DEPTH_MAX || *budget == 0)
		return NULL;
	(*budget)--;
	switch (y->type) {
	case YAML_SCALAR_NODE:
		n = pc_node_new(PC_SCALAR, key, order);
		n->value = pc_xstrndup((const char *)y->data.scalar.value,
		    y->data.scalar.length);
		if (strlen(n->value) != y->data.scalar.length) {
			pc_node_free(n);
			return NULL;
		}
		/* The loader tags every untagged scalar !!str, so the
		 * style is all that tells 10 from "10". */
		n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return n;
	case YAML_SEQUENCE_NODE:
		n = pc_node_new(PC_SEQ, key, order);
		for (it = y->data.sequence.items.start;
		    it < y->data.sequence.items.top; it++) {
			struct pc_node *kid = pc_from_yaml(doc,
			    yaml_document_get_node(doc, *it), NULL, pos++,
			    budget, depth + 1);

			if (kid == NULL) {
				pc_node_free(n);
				return NULL;
			}
			pc_attach(n, kid);
		}
		return n;
	case YAML_MAPPING_NODE:
		n = pc_node_new(PC_MAP, key, order);
		for (pair = y->data.mapping.pairs.start;
		    pair < y->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);
			struct pc_node *kid;
			char *ks;

			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				pc_node_free(n);
				return NULL;
			}
			ks = pc_xstrndup((const char *)k->data.scalar.value,
			    k->data.scalar.length);
			kid = pc_from_yaml(doc, yaml_document_get_node(doc,
			    pair->value), ks, pos++, budget, depth + 1);
			free(ks);
			if (kid == NULL) {
				pc_node_free(n);
				return NULL;
			}
			pc_attach(n, kid);
		}
		return n;
	default:
		return NULL;
	}
}

/* The job_name of a job map, or NULL. */
static const char *
pc_job_name(const struct pc_node *job)
{
	const struct pc_node *n;

	if (job->kind != PC_MAP || (n = pc_by_key(job, "job_name")) == NULL ||
	    n->kind != PC_SCALAR || n->value == NULL || *n->value == '\0')
		return NULL;
	return n->value;
}

/* Adds the jobs of one YAML document. */
static int
pc_add_document(struct promconfig *pc, const char *name, yaml_document_t *doc,
    yaml_node_t *root, char err[ERR_MAX])
{
	yaml_node_t *jobs = root;
	yaml_node_item_t *it, *start, *top;
	struct pc_node *seq;
	size_t budget = PC_NODES_MAX, njob = 0;

	if (root->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *pair;

		for (pair = root->data.mapping.pairs.start;
		    pair < root->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);

			if (k != NULL && k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value,
			    "scrape_configs") == 0)
				jobs = yaml_document_get_node(doc, pair->value);
		}
	}
	if (jobs == NULL || (jobs->type != YAML_SEQUENCE_NODE &&
	    jobs->type != YAML_MAPPING_NODE)) {
		snprintf(err, ERR_MAX, "scrape file %s: not a list of scrape "
		    "configs", name);
		return -1;
	}
	if (jobs->type == YAML_MAPPING_NODE) {
		/* One job alone: the list is just the root. */
		start = NULL;
		top = NULL;
	} else {
		start = jobs->data.sequence.items.start;
		top = jobs->data.sequence.items.top;
	}
	seq = pc_member(pc->root, "scrape_configs", PC_ORDER_SCRAPE, PC_SEQ);
	for (it = start; start == NULL || it < top; it++) {
		yaml_node_t *y = start == NULL ? jobs :
		    yaml_document_get_node(doc, *it);
		struct pc_node *job;

		njob++;
		job = pc_from_yaml(doc, y, NULL, PC_FILE_ORDER +
		    pc->nfile_jobs, &budget, 0);
		if (job == NULL) {
			snprintf(err, ERR_MAX, "scrape file %s: job %zu is "
			    "too deep, too large or has a key that is not a "
			    "string", name, njob);
			return -1;
		}
		if (pc_job_name(job) == NULL) {
			snprintf(err, ERR_MAX, "scrape file %s: job %zu is "
			    "not a map with a job_name", name, njob);
			pc_node_free(job);
			return -1;
		}
		if (asprintf(&job->src, "scrape file %s", name) < 0)
			abort();
		pc->nfile_jobs++;
		pc_attach(seq, job);
		if (start == NULL)
			break;
	}
	return 0;
}

int
promconfig_add_scrape_file(struct promconfig *pc, const char *name,
    const char *buf, size_t len, char err[ERR_MAX])
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = -1, ndocs = 0;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, ERR_MAX, "scrape file %s: not YAML: %s "
			    "(line %zu)", name, parser.problem ? parser.problem :
			    "parse error", parser.problem_mark.line + 1);
			goto out;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		ndocs++;
		if (pc_add_document(pc, name, &doc, root, err) == -1) {
			yaml_document_delete(&doc);
			goto out;
		}
		yaml_document_delete(&doc);
	}
	if (ndocs == 0) {
		snprintf(err, ERR_MAX, "scrape file %s: holds no scrape job",
		    name);
		goto out;
	}
	ret = 0;
out:
	yaml_parser_delete(&parser);
	return ret;
}

/*
 * Emission.
 */

struct pc_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
pc_write_cb(void *data, unsigned char *bytes, size_t size)
{
	struct pc_buf *b = data;

	if (b->len + size + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + size + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, bytes, size);
	b->len += size;
	b->p[b->len] = '\0';
	return 1;
}

static int
pc_emit_scalar(yaml_emitter_t *em, const char *s, int plain)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t ev;

	if (plain)
		style = YAML_PLAIN_SCALAR_STYLE;
	else if (values_yaml_ambiguous(s) || values_odd_break(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
	    (int)strlen(s), 1, 1, style))
		return -1;
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
pc_emit_start(yaml_emitter_t *em, int map)
{
	yaml_event_t ev;
	int ok = map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE) :
	    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE);

	return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
pc_emit_end(yaml_emitter_t *em, int map)
{
	yaml_event_t ev;
	int ok = map ? yaml_mapping_end_event_initialize(&ev) :
	    yaml_sequence_end_event_initialize(&ev);

	return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int
pc_emit_node(yaml_emitter_t *em, const struct pc_node *n)
{
	size_t i;

	if (n->kind == PC_SCALAR)
		return pc_emit_scalar(em, n->value, n->plain);
	if (pc_emit_start(em, n->kind == PC_MAP) == -1)
		return -1;
	for (i = 0; i < n->nkids; i++) {
		if (n->kind == PC_MAP &&
		    pc_emit_scalar(em, n->kids[i]->key, 0) == -1)
			return -1;
		if (pc_emit_node(em, n->kids[i]) == -1)
			return -1;
	}
	return pc_emit_end(em, n->kind == PC_MAP);
}

/* key: [value] */
static int
pc_emit_list1(yaml_emitter_t *em, const char *key, const char *value)
{
	if (pc_emit_scalar(em, key, 0) == -1 || pc_emit_start(em, 0) == -1 ||
	    pc_emit_scalar(em, value, 0) == -1 || pc_emit_end(em, 0) == -1)
		return -1;
	return 0;
}

/* flowmon's own job: every target file of the data dir. With shards, a
 * hashmod of each target's address keeps this server's part only: every
 * server of the set computes the same hash, so the parts are disjoint and
 * together hold every target. */
static int
pc_emit_flowmon_job(yaml_emitter_t *em, const char *job, const char *glob,
    long shards, long shard)
{
	char mod[24], keep[24];

	if (pc_emit_start(em, 1) == -1 ||
	    pc_emit_scalar(em, "job_name", 0) == -1 ||
	    pc_emit_scalar(em, job, 0) == -1 ||
	    pc_emit_scalar(em, "file_sd_configs", 0) == -1 ||
	    pc_emit_start(em, 0) == -1 || pc_emit_start(em, 1) == -1 ||
	    pc_emit_list1(em, "files", glob) == -1 ||
	    pc_emit_scalar(em, "refresh_interval", 0) == -1 ||
	    pc_emit_scalar(em, "30s", 1) == -1 ||
	    pc_emit_end(em, 1) == -1 || pc_emit_end(em, 0) == -1)
		return -1;
	if (shards > 1) {
		snprintf(mod, sizeof(mod), "%ld", shards);
		snprintf(keep, sizeof(keep), "%ld", shard);
		if (pc_emit_scalar(em, "relabel_configs", 0) == -1 ||
		    pc_emit_start(em, 0) == -1 ||
		    pc_emit_start(em, 1) == -1 ||
		    pc_emit_list1(em, "source_labels", "__address__") == -1 ||
		    pc_emit_scalar(em, "modulus", 0) == -1 ||
		    pc_emit_scalar(em, mod, 1) == -1 ||
		    pc_emit_scalar(em, "target_label", 0) == -1 ||
		    pc_emit_scalar(em, PC_SHARD_LABEL, 0) == -1 ||
		    pc_emit_scalar(em, "action", 0) == -1 ||
		    pc_emit_scalar(em, "hashmod", 0) == -1 ||
		    pc_emit_end(em, 1) == -1 ||
		    pc_emit_start(em, 1) == -1 ||
		    pc_emit_list1(em, "source_labels", PC_SHARD_LABEL) == -1 ||
		    pc_emit_scalar(em, "regex", 0) == -1 ||
		    pc_emit_scalar(em, keep, 0) == -1 ||
		    pc_emit_scalar(em, "action", 0) == -1 ||
		    pc_emit_scalar(em, "keep", 0) == -1 ||
		    pc_emit_end(em, 1) == -1 || pc_emit_end(em, 0) == -1)
			return -1;
	}
	return pc_emit_end(em, 1);
}

/* What only the whole tree shows: required keys, job names used twice.
 * Fills job with a name for flowmon's job no other job has. */
static int
pc_check(const struct promconfig *pc, char *job, size_t jobsz,
    char err[ERR_MAX])
{
	static const struct {
		const char *list, *key, *var;
	} required[] = {
		{ "scrape_configs", "job_name", "SCRAPE_CONFIGS" },
		{ "remote_write", "url", "REMOTE_WRITE" },
		{ "remote_read", "url", "REMOTE_READ" },
	};
	const struct pc_node *seq, *jobs;
	size_t r, i, k;
	int suffix;

	for (r = 0; r < PC_NITEMS(required); r++) {
		if ((seq = pc_by_key(pc->root, required[r].list)) == NULL)
			continue;
		for (i = 0; i < seq->nkids; i++) {
			char up[32];

			if (pc_by_key(seq->kids[i], required[r].key) != NULL)
				continue;
			for (k = 0; required[r].key[k] && k + 1 < sizeof(up);
			    k++)
				up[k] = (char)toupper(
				    (unsigned char)required[r].key[k]);
			up[k] = '\0';
			snprintf(err, ERR_MAX, "%s_%ld__%s is missing: "
			    "%s_%ld needs a %s", required[r].var,
			    seq->kids[i]->order, up, required[r].var,
			    seq->kids[i]->order, required[r].key);
			return -1;
		}
	}
	jobs = pc_by_key(pc->root, "scrape_configs");
	for (i = 0; jobs != NULL && i < jobs->nkids; i++) {
		const char *a = pc_job_name(jobs->kids[i]);

		for (k = i + 1; a != NULL && k < jobs->nkids; k++) {
			const char *b = pc_job_name(jobs->kids[k]);
			const struct pc_node *na, *nb;

			if (b == NULL || strcmp(a, b) != 0)
				continue;
			na = pc_by_key(jobs->kids[i], "job_name");
			nb = pc_by_key(jobs->kids[k], "job_name");
			snprintf(err, ERR_MAX, "job_name \"%.100s\" is used "
			    "twice: by %s and by %s", a,
			    jobs->kids[i]->src ? jobs->kids[i]->src : na->src,
			    jobs->kids[k]->src ? jobs->kids[k]->src : nb->src);
			return -1;
		}
	}
	/* flowmon's job never takes a name the user's jobs have. */
	for (suffix = 1; ; suffix++) {
		if (suffix == 1)
			snprintf(job, jobsz, "flowmon");
		else
			snprintf(job, jobsz, "flowmon_%d", suffix);
		for (i = 0; jobs != NULL && i < jobs->nkids; i++) {
			const char *a = pc_job_name(jobs->kids[i]);

			if (a != NULL && strcmp(a, job) == 0)
				break;
		}
		if (jobs == NULL || i == jobs->nkids)
			return 0;
	}
}

int
promconfig_render(const struct promconfig *pc, const char *data_dir,
    char **out, size_t *outlen, char err[ERR_MAX])
{
	static const char header[] =
	    "# Written by flowmon at start from the environment (GLOBAL_*,\n"
	    "# ALERTING__*, SCRAPE_CONFIGS_*, REMOTE_WRITE_*, REMOTE_READ_*,\n"
	    "# ARG_ALERTMANAGER_URL) and the scrape_* files of CONFIGS_DIR.\n"
	    "# Edits are lost at the next start: change the environment.\n";
	struct pc_buf buf = { NULL, 0, 0 };
	yaml_emitter_t em;
	yaml_event_t ev;
	char job[64], *dir, *targets = NULL, *rules = NULL;
	const struct pc_node *kid;
	size_t i, dl;
	int em_init = 0, ret = -1, scrape_done = 0, rules_done = 0;

	*out = NULL;
	*outlen = 0;
	if (pc_check(pc, job, sizeof(job), err) == -1)
		return -1;
	dir = pc_xstrdup(data_dir);
	for (dl = strlen(dir); dl > 1 && dir[dl - 1] == '/'; )
		dir[--dl] = '\0';
	if (asprintf(&targets, "%s/targets/*.json", strcmp(dir, "/") == 0 ?
	    "" : dir) < 0 || asprintf(&rules, "%s/rules/*.yml",
	    strcmp(dir, "/") == 0 ? "" : dir) < 0)
		abort();
	if (!values_utf8_valid(targets)) {
		snprintf(err, ERR_MAX, "data dir %s is not valid UTF-8",
		    data_dir);
		goto out;
	}
	pc_write_cb(&buf, (unsigned char *)header, sizeof(header) - 1);
	if (pc->shards > 1) {
		char note[256];
		int n = snprintf(note, sizeof(note), "# Shard %ld of %ld: job %s "
		    "scrapes only the targets whose address\n# hashes to %ld; "
		    "rules see this shard's series alone.\n", pc->shard,
		    pc->shards, job, pc->shard);

		pc_write_cb(&buf, (unsigned char *)note, (size_t)n);
	}

	if (!yaml_emitter_initialize(&em))
		abort();
	em_init = 1;
	yaml_emitter_set_output(&em, pc_write_cb, &buf);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev) ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev) || pc_emit_start(&em, 1) == -1)
		goto emitfail;
	for (i = 0; i <= pc->root->nkids; i++) {
		kid = i < pc->root->nkids ? pc->root->kids[i] : NULL;
		if (!rules_done && (kid == NULL ||
		    kid->order > PC_ORDER_RULE_FILES)) {
			if (pc_emit_list1(&em, "rule_files", rules) == -1)
				goto emitfail;
			rules_done = 1;
		}
		if (!scrape_done && (kid == NULL ||
		    kid->order > PC_ORDER_SCRAPE)) {
			/* No job of the user's: flowmon's alone. */
			if (pc_emit_scalar(&em, "scrape_configs", 0) == -1 ||
			    pc_emit_start(&em, 0) == -1 ||
			    pc_emit_flowmon_job(&em, job, targets,
			    pc->shards, pc->shard) == -1 ||
			    pc_emit_end(&em, 0) == -1)
				goto emitfail;
			scrape_done = 1;
		}
		if (kid == NULL)
			break;
		if (pc_emit_scalar(&em, kid->key, 0) == -1)
			goto emitfail;
		if (kid->order == PC_ORDER_SCRAPE) {
			size_t j;

			if (pc_emit_start(&em, 0) == -1)
				goto emitfail;
			for (j = 0; j < kid->nkids; j++)
				if (pc_emit_node(&em, kid->kids[j]) == -1)
					goto emitfail;
			if (pc_emit_flowmon_job(&em, job, targets,
			    pc->shards, pc->shard) == -1 ||
			    pc_emit_end(&em, 0) == -1)
				goto emitfail;
			scrape_done = 1;
		} else if (pc_emit_node(&em, kid) == -1)
			goto emitfail;
	}
	if (pc_emit_end(&em, 1) == -1 ||
	    !yaml_document_end_event_initialize(&ev, 1) ||
	    !yaml_emitter_emit(&em, &ev) ||
	    !yaml_stream_end_event_initialize(&ev) ||
	    !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto emitfail;
	*out = buf.p;
	*outlen = buf.len;
	buf.p = NULL;
	ret = 0;
	goto out;
emitfail:
	snprintf(err, ERR_MAX, "cannot emit the Prometheus config: %s",
	    em.problem != NULL ? em.problem : "emitter error");
out:
	if (em_init)
		yaml_emitter_delete(&em);
	free(buf.p);
	free(dir);
	free(targets);
	free(rules);
	return ret;
}

/* 1 when a rendered config holds a secret: a password, token or key
 * Prometheus reads inline (basic_auth password, authorization credentials,
 * bearer_token, oauth2 client_secret, sigv4 secret_key), or a URL with a
 * password. A false alarm only makes the file stricter. */
int
promconfig_holds_secret(const char *buf, size_t len)
{
	static const char *const keys[] = {
		"password:", "credentials:", "bearer_token:", "client_secret:",
		"secret_key:",
	};
	const char *p;
	char *copy, *shown;
	size_t i;
	int changed;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		for (p = buf; (p = strstr(p, keys[i])) != NULL; p++)
			if (p == buf || p[-1] == ' ' || p[-1] == '\n' ||
			    p[-1] == '{' || p[-1] == '-')
				return 1;
	copy = pc_xstrdup(buf);
	if ((shown = malloc(len + 1)) == NULL)
		abort();
	changed = strcmp(log_redact(copy, shown, len + 1), copy) != 0;
	free(shown);
	free(copy);
	return changed;
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
