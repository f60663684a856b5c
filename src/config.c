/* config.c: the option table of every command (flag, variable, default,
 * parser, help, which commands take it) and the one parse through it. */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bounds.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "request.h"
#include "url.h"
#include "values.h"

struct opt;

/* Parses v (never NULL) into c for option o. what names where v came
 * from (the flag or the variable); NULL when v is o's default. */
typedef int (*opt_parse_fn)(struct config *c, const struct opt *o,
	    const char *v, const char *what, char err[ERR_MAX]);

/* What the field at off is, so config_release frees it. */
enum opt_field { F_NONE, F_STR, F_INT, F_LONG, F_NAMES };

struct opt {
	const char	*flag;	/* without "--"; NULL: a variable only */
	const char	*arg;	/* shown in --help; NULL: a switch */
	const char	*env;	/* NULL: a flag only */
	const char	*def;	/* default as parsed, NULL: none */
	unsigned	 cmds;	/* CONFIG_* taking it */
	opt_parse_fn	 parse;	/* NULL: --help or --version */
	enum opt_field	 field;
	size_t		 off;	/* the field in struct config */
	size_t		 off_n;	/* F_NAMES: its count */
	long		 min;	/* counts; durations in ms */
	long		 max;
	const char	*help;	/* a default that is not a value (def NULL)
				   is said here: "(default ...)" */
};

static int opt_text(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_maybe(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_bool(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_duration(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_count(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_names(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_promtool(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_task_dns(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_log_level(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_listen(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_docker_host(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_urls(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_prometheus_url(struct config *, const struct opt *,
    const char *, const char *, char[ERR_MAX]);
static int opt_listener_address(struct config *, const struct opt *,
    const char *, const char *, char[ERR_MAX]);
static int opt_label_key(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);
static int opt_format(struct config *, const struct opt *, const char *,
    const char *, char[ERR_MAX]);

/* The parser and the field of a row. */
#define OFF(f)		offsetof(struct config, f)
#define TEXT(f)		opt_text, F_STR, OFF(f), 0, 0, 0	/* "" kept */
#define MAYBE(f)	opt_maybe, F_STR, OFF(f), 0, 0, 0	/* "": NULL */
#define BOOL(f)		opt_bool, F_INT, OFF(f), 0, 0, 0
#define DURATION(f, lo, hi) opt_duration, F_LONG, OFF(f), 0, lo, hi
#define COUNT(f, lo, hi) opt_count, F_LONG, OFF(f), 0, lo, hi
#define NAMES(f)	opt_names, F_NAMES, OFF(f), OFF(n##f), 0, 0
#define CUSTOM(fn, f)	fn, F_STR, OFF(f), 0, 0, 0
#define ACTION		NULL, F_NONE, 0, 0, 0, 0

#define D	CONFIG_DAEMON
#define R	CONFIG_RELOADER
#define C	CONFIG_CHECK
#define P	CONFIG_PLAN
#define ALL	(D | R | C | P)

/* One row per option; --help lists a command's rows in this order. A new
 * option is one row here and its field in struct config. */
static const struct opt opts[] = {
	{ "listen", "HOST:PORT", "FLOWMON_LISTEN", "0.0.0.0:8080", D,
	  CUSTOM(opt_listen, listen), "address to serve the API on" },
	{ "listen", "HOST:PORT|none", "FLOWMON_RELOADER_LISTEN",
	  "0.0.0.0:8081", R, CUSTOM(opt_listen, listen),
	  "address to serve /metrics on, none: no HTTP" },
	{ "data-dir", "DIR", "FLOWMON_DATA_DIR", "/var/lib/flowmon", D | R | C,
	  TEXT(data_dir), "shared volume: targets/, rules/, state/" },
	{ "data-dir", "DIR", NULL, NULL, P, MAYBE(data_dir),
	  "compare with this data dir (read only)" },
	{ "against", "URL", NULL, NULL, P, CUSTOM(opt_urls, against),
	  "compare with the flowmon answering at URL (its API)" },
	{ "stack", "NAME", NULL, NULL, P, MAYBE(stack),
	  "stack name, as in docker stack deploy (default: the first file's "
	  "directory)" },
	{ "format", "text|json", NULL, "text", P, CUSTOM(opt_format, format),
	  "output for people, or one JSON object" },
	{ "reload-url", "URL[,URL]", "FLOWMON_RELOAD_URL", NULL, D | R,
	  CUSTOM(opt_urls, reload_url),
	  "Prometheus reload endpoints (POST), none: no reload" },
	{ "reload-delay", "DURATION", "FLOWMON_RELOAD_DELAY", "1s", D | R,
	  DURATION(reload_delay_ms, 0, LONG_MAX),
	  "quiet time before a reload" },
	{ "reload-max-delay", "DURATION", "FLOWMON_RELOAD_MAX_DELAY", NULL,
	  D | R, DURATION(reload_max_delay_ms, 1, LONG_MAX),
	  "longest wait of a pending reload (default 10 x --reload-delay)" },
	{ "reload-timeout", "DURATION", "FLOWMON_RELOAD_TIMEOUT", "5m", D | R,
	  DURATION(reload_timeout_ms, 1000, LONG_MAX),
	  "longest one reload may take (Prometheus answers once loaded)" },
	{ "promtool", "PATH", "FLOWMON_PROMTOOL", "promtool", D | C | P,
	  CUSTOM(opt_promtool, promtool),
	  "promtool for rule checks (if on PATH), 'none' disables" },
	{ "shortcuts", "FILE", "FLOWMON_SHORTCUTS", NULL, D | C | P,
	  MAYBE(shortcuts), "shortcut table replacing the built-in one" },
	{ "secrets-dir", "DIR", "FLOWMON_SECRETS_DIR", "/run/secrets", D | C | P,
	  TEXT(secrets_dir), "alertif-* shortcut files merged over the table" },
	{ "task-dns", "TEMPLATE", "FLOWMON_TASK_DNS", "tasks.%s", D,
	  CUSTOM(opt_task_dns, task_dns),
	  "DNS name of a service's tasks (%s: service name), none: off" },
	{ "listener-address", "ADDR[,ADDR]", "LISTENER_ADDRESS", NULL, D,
	  CUSTOM(opt_listener_address, listener_address),
	  "swarm-listener(s) to reconcile from at start" },
	{ "listener-prune", NULL, "FLOWMON_LISTENER_PRUNE", "false", D,
	  BOOL(listener_prune),
	  "after reconciling, remove services no listener lists" },
	{ "get-nodes-url", "URL", "DF_GET_NODES_URL", NULL, D,
	  CUSTOM(opt_urls, get_nodes_url),
	  "swarm-listener get-nodes URL to load node labels from at start" },
	{ "dns-refresh", "DURATION", "FLOWMON_DNS_REFRESH", "30s", D,
	  DURATION(dns_refresh_ms, 1, LONG_MAX),
	  "how often task DNS names are resolved again" },
	{ "log-level", "LEVEL", "FLOWMON_LOG_LEVEL", "info", ALL,
	  CUSTOM(opt_log_level, log_level), "debug, info, warn or error" },
	{ "max-body", "BYTES", "FLOWMON_MAX_BODY", "1048576", D,
	  COUNT(max_body, 1024, LONG_MAX), "largest request body accepted" },
	{ "basic-auth-file", "FILE", "FLOWMON_BASIC_AUTH_FILE", NULL, D,
	  MAYBE(basic_auth_file),
	  "user:password lines; mutating endpoints need one of them" },
	{ "bearer-token-file", "FILE", "FLOWMON_BEARER_TOKEN_FILE", NULL, D,
	  MAYBE(bearer_token_file),
	  "bearer tokens, one a line; mutating endpoints accept them" },
	{ "auth-reads", NULL, "FLOWMON_AUTH_READS", "false", D,
	  BOOL(auth_reads),
	  "deprecated, ignored: reads need credentials unless --open-reads" },
	{ "tls-cert", "FILE", "FLOWMON_TLS_CERT", NULL, D, MAYBE(tls_cert),
	  "PEM certificate (chain): serve HTTPS instead of HTTP" },
	{ "tls-key", "FILE", "FLOWMON_TLS_KEY", NULL, D, MAYBE(tls_key),
	  "PEM private key of --tls-cert (unencrypted)" },
	{ "max-header-bytes", "BYTES", "FLOWMON_MAX_HEADER_BYTES", "262144", D,
	  COUNT(max_header_bytes, 16384, 16L << 20),
	  "largest request line plus headers (431 beyond)" },
	{ "max-connections", "N", "FLOWMON_MAX_CONNECTIONS", "512", D,
	  COUNT(max_connections, 1, 65536),
	  "concurrent connections served (429 beyond)" },
	{ "connection-timeout", "DURATION", "FLOWMON_CONNECTION_TIMEOUT", "30s",
	  D, DURATION(connection_timeout_ms, 1000, 3600000),
	  "idle time after which a connection is closed" },
	{ "max-alerts", "N", "FLOWMON_MAX_ALERTS", "100", D | P,
	  COUNT(max_alerts, 0, SERVICE_ALERT_INDEX_MAX + 1),
	  "alerts one service may define (400 beyond)" },
	{ "max-rule-bytes", "BYTES", "FLOWMON_MAX_RULE_BYTES", "1048576", D | P,
	  COUNT(max_rule_bytes, 1024, BOUND_FILE_MAX),
	  "largest rule file of one service (400 beyond)" },
	{ "max-services", "N", "FLOWMON_MAX_SERVICES", "100000", D,
	  COUNT(max_services, 1, 100000000L),
	  "services kept at most (400 for a new one beyond)" },
	{ "prometheus-config", "FILE", "FLOWMON_PROMETHEUS_CONFIG", NULL, D,
	  MAYBE(prometheus_config),
	  "write Prometheus's config here at start from DFM's variables" },
	{ "run-prometheus", "PATH", "FLOWMON_RUN_PROMETHEUS", NULL, D,
	  MAYBE(run_prometheus),
	  "run and supervise Prometheus, ARG_* as its flags" },
	{ "poll-interval", "DURATION", "FLOWMON_POLL_INTERVAL", "15s", R,
	  DURATION(poll_ms, 100, LONG_MAX),
	  "rescan period of rules/, for NFS" },
	{ "no-inotify", NULL, "FLOWMON_NO_INOTIFY", "false", R,
	  BOOL(no_inotify), "poll only, as on NFS" },
	{ "docker-host", "URL", "FLOWMON_DOCKER_HOST", NULL, D,
	  CUSTOM(opt_docker_host, docker_host),
	  "read services, tasks and nodes from Docker itself "
	  "(unix:///var/run/docker.sock)" },
	{ "docker-notify-label", "KEY", "FLOWMON_DOCKER_NOTIFY_LABEL",
	  "com.df.notify", D | P, CUSTOM(opt_label_key, docker_notify_label),
	  "service label that must be \"true\" for a service to be announced "
	  "(swarm-listener's DF_NOTIFY_LABEL)" },
	{ "docker-poll", "DURATION", "FLOWMON_DOCKER_POLL", "30s", D,
	  DURATION(docker_poll_ms, 1000, LONG_MAX),
	  "full reconcile with Docker this often" },
	{ "alertmanager-url", "URL[,URL]", "FLOWMON_ALERTMANAGER_URL", NULL, D,
	  CUSTOM(opt_urls, alertmanager_url),
	  "Alertmanager API bases (API v2) for deploy silences" },
	{ "silence-deploys", NULL, "FLOWMON_SILENCE_DEPLOYS", "false", D,
	  BOOL(silence_deploys),
	  "silence a service's alerts while Docker updates it (needs "
	  "--docker-host and --alertmanager-url)" },
	{ "silence-ttl", "DURATION", "FLOWMON_SILENCE_TTL", "3m", D,
	  DURATION(silence_ttl_ms, 15000, 3600000),
	  "a deploy silence ends this long after its last renewal (renewed "
	  "every third of it)" },
	{ "max-params", "N", "FLOWMON_MAX_PARAMS", "1000", D | C | P,
	  COUNT(max_params, 16, 1000000),
	  "parameters one request may carry (400 beyond)" },
	{ "max-value-bytes", "BYTES", "FLOWMON_MAX_VALUE_BYTES", "1024", D | C | P,
	  COUNT(max_value_bytes, 64, 1L << 20),
	  "longest label value: target and node labels (400 beyond)" },
	{ "max-targets", "N", "FLOWMON_MAX_TARGETS", "5000", D | C | P,
	  COUNT(max_targets, 1, 1000000),
	  "targets (nodeInfo tasks or targets items) per service (400 beyond)" },
	{ "max-target-bytes", "BYTES", "FLOWMON_MAX_TARGET_BYTES", "4194304",
	  D | C | P, COUNT(max_target_bytes, 1024, BOUND_FILE_MAX),
	  "largest target file of one service (400 beyond)" },
	{ "max-connections-per-client", "N",
	  "FLOWMON_MAX_CONNECTIONS_PER_CLIENT", "128", D,
	  COUNT(max_conns_per_client, 0, 65536),
	  "concurrent connections from one address, 0: no cap" },
	{ "reload-auth-file", "FILE", "FLOWMON_RELOAD_AUTH_FILE", NULL,
	  D | R | P, MAYBE(reload_auth_file),
	  "user:password (basic) or a bearer token for the reload URLs "
	  "(plan: for --against)" },
	{ "open-reads", NULL, "FLOWMON_OPEN_READS", "false", D,
	  BOOL(open_reads),
	  "with an auth file, read endpoints and /metrics need no credentials" },
	{ "standby", NULL, "FLOWMON_STANDBY", "false", D, BOOL(standby),
	  "wait as a hot standby while another flowmon holds the data dir" },
	{ "prometheus-url", "URL[,URL]", "FLOWMON_PROMETHEUS_URL", NULL, D,
	  CUSTOM(opt_prometheus_url, prometheus_url),
	  "Prometheus (vmagent, vmalert) API asked by the status page and "
	  "explain (default from --reload-url or --run-prometheus), none: "
	  "off" },
	{ "shards", "N", "FLOWMON_SHARDS", "1", D,
	  COUNT(shards, 1, CONFIG_SHARDS_MAX),
	  "--prometheus-config: Prometheus servers sharing the targets" },
	{ "shard", "I", "FLOWMON_SHARD", "0", D,
	  COUNT(shard, 0, CONFIG_SHARDS_MAX - 1),
	  "--prometheus-config: this server's shard, 0 to N-1" },
	/* Variables without a flag (DFM's). */
	{ NULL, NULL, "DF_SCRAPE_TARGET_LABELS", NULL, D | C | P,
	  NAMES(target_labels), "request parameters copied as target labels" },
	{ NULL, NULL, "DF_NODE_TARGET_LABELS", NULL, D, NAMES(node_labels),
	  "node parameters kept as node labels" },
	{ "help", NULL, NULL, NULL, ALL, ACTION, "show this help" },
	{ "version", NULL, NULL, NULL, ALL, ACTION, "show the version" },
};
#define NOPTS	(sizeof(opts) / sizeof(*opts))
/* getopt_long's value of row i: clear of '?', ':' and short options. */
#define OPT_VAL(i)	(256 + (int)(i))

#define FIELD(c, o, type)	((type *)(void *)((char *)(c) + (o)->off))

/* The name of an option in a message: the flag or variable it came from,
 * else (a default) the flag. */
static const char *
opt_name(const struct opt *o, const char *what, char buf[64])
{
	if (what != NULL)
		return what;
	snprintf(buf, 64, "default of %s%s", o->flag ? "--" : "",
	    o->flag ? o->flag : o->env);
	return buf;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (v != NULL && (*dst = strdup(v)) == NULL)
		abort();
}

static int
opt_text(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	(void)what;
	(void)err;
	set_str(FIELD(c, o, char *), v);
	return 0;
}

static int
opt_maybe(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	(void)what;
	(void)err;
	set_str(FIELD(c, o, char *), *v != '\0' ? v : NULL);
	return 0;
}

/* HOST:PORT, [V6]:PORT or :PORT (every address); the host is resolved
 * when the server starts. A row whose arg allows it takes none (or "")
 * for no server at all. */
static int
opt_listen(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	const char *port = strrchr(v, ':'), *end = strchr(v, ']');
	char buf[64];

	if (strstr(o->arg, "none") != NULL && (*v == '\0' ||
	    strcmp(v, "none") == 0)) {
		set_str(FIELD(c, o, char *), NULL);
		return 0;
	}
	if (port == NULL || (end != NULL && end > port) ||
	    values_port(port + 1, strlen(port + 1)) == 0) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" is not %s (port "
		    "1..65535)", opt_name(o, what, buf), v, o->arg);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

static int
opt_bool(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64];

	if (values_bool(v, FIELD(c, o, int)) == -1) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be "
		    VALUES_BOOL_WORDS, opt_name(o, what, buf), v);
		return -1;
	}
	return 0;
}

/* "1s" for 1000, "0" for 0: the bounds in a message. */
static void
ms_text(long ms, char *buf, size_t size)
{
	if (ms == 0)
		snprintf(buf, size, "0");
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%ldh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%ldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%lds", ms / 1000);
	else
		snprintf(buf, size, "%ldms", ms);
}

static int
opt_duration(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64], lo[32], hi[32];
	int64_t ms;

	if (values_duration_ms(v, &ms) == -1) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" is not a duration (like "
		    "500ms, 30s, 1m30s)", opt_name(o, what, buf), v);
		return -1;
	}
	if (ms < o->min || ms > o->max) {
		ms_text(o->min, lo, sizeof(lo));
		ms_text(o->max, hi, sizeof(hi));
		if (o->max == LONG_MAX)
			snprintf(err, ERR_MAX, "%s \"%.100s\" is not a "
			    "duration of at least %s", opt_name(o, what, buf),
			    v, lo);
		else
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be a "
			    "duration from %s to %s", opt_name(o, what, buf), v,
			    lo, hi);
		return -1;
	}
	*FIELD(c, o, long) = (long)ms;
	return 0;
}

static int
opt_count(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64];

	if (values_count(v, o->min, o->max, FIELD(c, o, long)) == -1) {
		if (o->max == LONG_MAX)
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be a whole "
			    "number of at least %ld", opt_name(o, what, buf), v,
			    o->min);
		else
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be a whole "
			    "number from %ld to %ld", opt_name(o, what, buf), v,
			    o->min, o->max);
		return -1;
	}
	return 0;
}

/* A comma list of request parameter names, each a valid label name once
 * '-' is '_'; kept in the parameter's spelling for the lookups. */
static int
opt_names(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char ***out = FIELD(c, o, char **);
	size_t *n = (size_t *)(void *)((char *)c + o->off_n);
	char *copy, *tok, *save = NULL, buf[64];

	if ((copy = strdup(v)) == NULL)
		abort();
	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		char *t = tok, *p, *label;

		while (isspace((unsigned char)*t))
			t++;
		for (p = t + strlen(t); p > t && isspace((unsigned char)p[-1]);)
			*--p = '\0';
		if (*t == '\0')
			continue;
		if ((label = strdup(t)) == NULL)
			abort();
		for (p = label; *p; p++)
			if (*p == '-')
				*p = '_';
		if (!values_label_name_valid(label)) {
			snprintf(err, ERR_MAX, "%s: \"%.100s\" is not a valid "
			    "label name", opt_name(o, what, buf), t);
			free(label);
			free(copy);
			return -1;
		}
		free(label);
		if (strv_push(out, n, t) == -1)
			abort();
	}
	free(copy);
	return 0;
}

/* Resolves a bare command name on PATH; NULL if not found. */
static char *
which(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? strdup(name) : NULL;
	if (path == NULL || (copy = strdup(path)) == NULL)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, name) < 0)
			break;
		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

/* The default is used only when it is on PATH; an explicit path must
 * exist; "none" (or "") turns the check off. */
static int
opt_promtool(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char **dst = FIELD(c, o, char *), *p;

	free(*dst);
	*dst = NULL;
	c->promtool_missing = 0;
	if (*v == '\0' || strcmp(v, "none") == 0)
		return 0;
	p = which(v);
	if (p == NULL && what != NULL) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" is not an executable",
		    what, v);
		return -1;
	}
	/* The default, not found: checks are off though nobody said so. */
	c->promtool_missing = p == NULL;
	*dst = p;
	return 0;
}

/* A template with exactly one %s, or none (no task DNS at all). */
static int
opt_task_dns(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	const char *s = strstr(v, "%s");
	char buf[64];

	if (strcmp(v, "none") == 0) {
		set_str(FIELD(c, o, char *), NULL);
		return 0;
	}
	if (s == NULL || strchr(v, '%') != s || strchr(s + 2, '%') != NULL) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must hold one %%s (or be "
		    "none)", opt_name(o, what, buf), v);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

/* http(s) URLs, parsed by url.c (which never quotes a password); a list
 * when the row's arg says URL[,URL]; "" or none: none. */
static int
opt_urls(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	struct url *urls;
	const char *name;
	size_t n;
	char buf[64];

	if (*v == '\0' || strcmp(v, "none") == 0) {
		set_str(FIELD(c, o, char *), NULL);
		return 0;
	}
	name = opt_name(o, what, buf);
	if (url_parse_list(v, URL_HTTP, name, &urls, &n, err) == -1)
		return -1;
	url_list_free(urls, n);
	if (n > 1 && strchr(o->arg, ',') == NULL) {
		snprintf(err, ERR_MAX, "%s takes one URL, not a list", name);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

/* --prometheus-url: http(s) URLs as opt_urls, but "none" is kept (it
 * says the API is not to be asked, where NULL derives it). */
static int
opt_prometheus_url(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	if (strcmp(v, "none") == 0) {
		set_str(FIELD(c, o, char *), v);
		return 0;
	}
	return opt_urls(c, o, v, what, err);
}

/* Swarm-listener addresses: each item a host, host:port or http(s) URL,
 * read as the listener reconcile reads it (listener.h); "": none. */
static int
opt_listener_address(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	const char *p = v, *name;
	char buf[64], *item, *url;
	size_t len;

	name = opt_name(o, what, buf);
	for (p = v; *v != '\0'; p += len + 1) {
		len = strcspn(p, ",");
		if (strspn(p, " \t") >= len) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" has an empty "
			    "entry", name, v);
			return -1;
		}
		if ((item = strndup(p, len)) == NULL)
			abort();
		url = listener_services_url(item, name, err);
		free(item);
		if (url == NULL)
			return -1;
		free(url);
		if (p[len] == '\0')
			break;
	}
	set_str(FIELD(c, o, char *), *v != '\0' ? v : NULL);
	return 0;
}

/* unix:///path, tcp://HOST:PORT or http://HOST:PORT; "": off. */
static int
opt_docker_host(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	static const char *const schemes[] = { "unix", "tcp", "http", NULL };
	struct url u;
	char buf[64];

	if (*v != '\0' && url_parse(&u, v, schemes, opt_name(o, what, buf),
	    err) == -1)
		return -1;
	if (*v != '\0')
		url_release(&u);
	set_str(FIELD(c, o, char *), *v != '\0' ? v : NULL);
	return 0;
}

/* A label key: not empty, no blank and no '='. */
static int
opt_label_key(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64];

	if (*v == '\0' || strpbrk(v, " \t\r\n=") != NULL) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be a label key "
		    "(not empty, no space or '=')", opt_name(o, what, buf), v);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

static int
opt_format(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64];

	if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be text or json",
		    opt_name(o, what, buf), v);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

static int
opt_log_level(struct config *c, const struct opt *o, const char *v,
    const char *what, char err[ERR_MAX])
{
	char buf[64];

	if (log_set_level(v) == -1) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be debug, info, "
		    "warn or error", opt_name(o, what, buf), v);
		return -1;
	}
	set_str(FIELD(c, o, char *), v);
	return 0;
}

static const char *
cmd_name(enum config_cmd cmd)
{
	return cmd == CONFIG_RELOADER ? "flowmon reloader" :
	    cmd == CONFIG_CHECK ? "flowmon check" :
	    cmd == CONFIG_PLAN ? "flowmon plan" : "flowmon";
}

static void
usage(enum config_cmd cmd)
{
	size_t i, n;

	switch (cmd) {
	case CONFIG_RELOADER:
		printf("usage: flowmon reloader --data-dir DIR --reload-url "
		    "URL [options]\n\n"
		    "Watches DIR/rules/*.yml (inotify and polling) and POSTs "
		    "URL\n(Prometheus's /-/reload) when the rule files' names "
		    "or contents\nchanged, after a quiet delay, retrying while "
		    "it fails.\n--reload-url is required.\n\noptions:\n");
		break;
	case CONFIG_CHECK:
		printf("usage: flowmon check [--data-dir DIR] [options]\n\n"
		    "Audits a data dir without changing it: one line per "
		    "problem,\nexit 0 clean, 1 problems found, 2 the check "
		    "could not run.\n\noptions:\n");
		break;
	case CONFIG_PLAN:
		printf("usage: flowmon plan [--stack NAME] [--data-dir DIR | "
		    "--against URL]\n"
		    "                    [--format text|json] [--promtool "
		    "PATH|none] STACKFILE...\n\n"
		    "Reads stack files as docker stack deploy does, renders the "
		    "rule file\nand target settings of every service "
		    "swarm-listener would announce,\nchecks them as a "
		    "reconfigure would, and compares them with a data dir\n"
		    "or a running flowmon, writing nothing. Per service: "
		    "unchanged, new,\nchanged (with a unified diff), removed or "
		    "refused. Exit 0 nothing would\nchange, 1 something would "
		    "change, 2 something would be refused or a\nfile cannot be "
		    "read.\n\noptions:\n");
		break;
	default:
		printf("usage: flowmon [options]\n"
		    "       flowmon reloader --data-dir DIR --reload-url URL\n"
		    "       flowmon check [--data-dir DIR]\n"
		    "       flowmon plan [options] STACKFILE...\n\n"
		    "Writes Prometheus file_sd targets and rule files for "
		    "services\nannounced by Docker Flow Swarm Listener.\n\n"
		    "options:\n");
		break;
	}
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char flag[64];

		if (o->flag == NULL || !(o->cmds & cmd))
			continue;
		snprintf(flag, sizeof(flag), "--%s%s%s", o->flag,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-32s %s\n", flag, o->help);
		if (o->env)
			printf("  %-32s env %s, default %s\n", "", o->env,
			    o->def ? o->def : strstr(o->help, "(default ") ?
			    "as said above" : "none");
	}
	printf("\nA switch also takes =BOOL. A boolean is true or false (also "
	    "yes/no,\non/off, 1/0, t/f), in any case. A flag beats its "
	    "variable, which beats\nthe default; an empty variable counts as "
	    "unset.\n");
	/* The variables without a flag, then those other modules read. */
	for (i = n = 0; i < NOPTS; i++)
		if (opts[i].flag == NULL && (opts[i].cmds & cmd))
			printf("%s %s", n++ == 0 ? "\nenvironment also read:" :
			    ",", opts[i].env);
	if (cmd == CONFIG_DAEMON)
		printf(",\n  SCRAPE_PORT_<n> with SERVICE_NAME_<n> (a static "
		    "service <name>:<port>);\n  for --prometheus-config: "
		    "GLOBAL_*, ALERTING__*, SCRAPE_CONFIGS_<n>__*,\n  "
		    "REMOTE_WRITE_*, REMOTE_READ_*, ARG_ALERTMANAGER_URL, "
		    "CONFIGS_DIR;\n  for --run-prometheus: ARG_* (Prometheus's "
		    "flags)");
	if (n > 0)
		printf("\n");
}

int
config_parse(struct config *c, enum config_cmd cmd, int argc, char **argv,
    char err[ERR_MAX])
{
	struct option longopts[NOPTS + 1];
	const char *given[NOPTS];
	size_t i, n = 0;
	int ch;

	memset(c, 0, sizeof(*c));
	memset(longopts, 0, sizeof(longopts));
	memset(given, 0, sizeof(given));
	for (i = 0; i < NOPTS; i++) {
		if (opts[i].flag == NULL || !(opts[i].cmds & cmd))
			continue;
		longopts[n].name = opts[i].flag;
		/* A switch: --auth-reads alone, or --auth-reads=false to beat
		 * its variable. */
		longopts[n].has_arg = opts[i].arg != NULL ? required_argument :
		    opts[i].parse != NULL ? optional_argument : no_argument;
		longopts[n].val = OPT_VAL(i);
		n++;
	}
	/* The flags first: the last of a repeated flag wins. optind 0 makes
	 * glibc start afresh, whatever an earlier parse left behind. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		const char *bad = optopt > 0 && optopt < 256 ? NULL :
		    argv[optind - 1];

		if (ch == '?' && optopt >= OPT_VAL(0)) {
			snprintf(err, ERR_MAX, "option \"%.100s\" takes no "
			    "value", bad);
			return -1;
		}
		if (ch == '?' || ch == ':') {
			if (bad == NULL)
				snprintf(err, ERR_MAX, "%s \"-%c\" (see %s "
				    "--help)", ch == ':' ? "no value for" :
				    "unknown option", optopt, cmd_name(cmd));
			else
				snprintf(err, ERR_MAX, "%s \"%.100s\" (see %s "
				    "--help)", ch == ':' ? "no value for" :
				    "unknown option", bad, cmd_name(cmd));
			return -1;
		}
		i = (size_t)(ch - OPT_VAL(0));
		if (opts[i].parse == NULL) {
			if (strcmp(opts[i].flag, "help") == 0)
				usage(cmd);
			else
				printf("flowmon %s\n", FLOWMON_VERSION);
			return 1;
		}
		given[i] = optarg != NULL ? optarg : "true";
	}
	if (optind < argc && cmd != CONFIG_PLAN) {
		snprintf(err, ERR_MAX, "unexpected argument \"%.100s\"",
		    argv[optind]);
		return -1;
	}
	for (; optind < argc; optind++)
		if (strv_push(&c->args, &c->nargs, argv[optind]) == -1)
			abort();
	/* Then each option once, from the flag, its variable or its
	 * default: a variable a flag overrides is not even read. */
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *v = given[i], *what = NULL, *e;
		char flag[64];

		if (!(o->cmds & cmd) || o->parse == NULL)
			continue;
		if (v != NULL) {
			snprintf(flag, sizeof(flag), "--%s", o->flag);
			what = flag;
		} else if (o->env != NULL && (e = getenv(o->env)) != NULL &&
		    *e != '\0') {
			v = e;
			what = o->env;
		} else if ((v = o->def) == NULL) {
			continue;
		}
		if (o->parse(c, o, v, what, err) == -1)
			return -1;
	}
	/* --reload-max-delay's default follows --reload-delay. */
	if (c->reload_max_delay_ms == 0)
		c->reload_max_delay_ms = 10 * c->reload_delay_ms;
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		snprintf(err, ERR_MAX, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (cmd == CONFIG_DAEMON && c->silence_deploys &&
	    (c->docker_host == NULL || c->alertmanager_url == NULL)) {
		snprintf(err, ERR_MAX, "--silence-deploys (FLOWMON_SILENCE_DEPLOYS) "
		    "needs --docker-host (FLOWMON_DOCKER_HOST), which says when "
		    "a service is updated, and --alertmanager-url "
		    "(FLOWMON_ALERTMANAGER_URL), where the silences go");
		return -1;
	}
	if (cmd == CONFIG_DAEMON && c->shard >= c->shards) {
		snprintf(err, ERR_MAX, "shard %ld (--shard, FLOWMON_SHARD) must "
		    "be below the shard count %ld (--shards, FLOWMON_SHARDS): "
		    "shards are numbered from 0", c->shard, c->shards);
		return -1;
	}
	return 0;
}

void
config_release(struct config *c)
{
	size_t i;

	/* Two rows may share a field (--listen): freed once, then NULL. */
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];

		if (o->field == F_STR) {
			free(*FIELD(c, o, char *));
			*FIELD(c, o, char *) = NULL;
		} else if (o->field == F_NAMES) {
			char ***v = FIELD(c, o, char **);
			size_t *n = (size_t *)(void *)((char *)c + o->off_n);

			strv_free(*v, *n);
			*v = NULL;
			*n = 0;
		}
	}
	strv_free(c->args, c->nargs);
	memset(c, 0, sizeof(*c));
}
