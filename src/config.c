/* config.c: the option table (flag, variable, default) and its parsing. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "request.h"

enum {
	O_LISTEN = 1, O_DATA_DIR, O_RELOAD_URL, O_RELOAD_DELAY, O_PROMTOOL,
	O_SHORTCUTS, O_SECRETS_DIR, O_TASK_DNS, O_LISTENER, O_LOG_LEVEL,
	O_MAX_BODY,
	O_BASIC_AUTH_FILE, O_BEARER_TOKEN_FILE, O_AUTH_READS, O_TLS_CERT,
	O_TLS_KEY, O_MAX_HEADER_BYTES, O_MAX_CONNECTIONS, O_CONNECTION_TIMEOUT,
	O_MAX_ALERTS, O_MAX_RULE_BYTES,
	O_HELP, O_VERSION,
	O_DNS_REFRESH, O_LISTENER_PRUNE, O_GET_NODES_URL,
	O_PROMETHEUS_CONFIG, O_RUN_PROMETHEUS,
	O_RELOAD_MAX_DELAY
};

/* --reload-max-delay's default, as --help shows it. */
#define RELOAD_MAX_DELAY_DEFAULT	"10x-reload-delay"

struct option_doc {
	int		 id;
	const char	*flag;
	const char	*arg;
	const char	*env;
	const char	*def;
	const char	*help;
};

static const struct option_doc config_docs[] = {
	{ O_LISTEN, "listen", "HOST:PORT", "FLOWMON_LISTEN", "0.0.0.0:8080",
	  "address to serve the API on" },
	{ O_DATA_DIR, "data-dir", "DIR", "FLOWMON_DATA_DIR",
	  "/var/lib/flowmon", "shared volume: targets/, rules/, state/" },
	{ O_RELOAD_URL, "reload-url", "URL[,URL]", "FLOWMON_RELOAD_URL", "",
	  "Prometheus reload endpoints (POST), none: no reload" },
	{ O_RELOAD_DELAY, "reload-delay", "DURATION", "FLOWMON_RELOAD_DELAY",
	  "1s", "quiet time before a reload" },
	{ O_PROMTOOL, "promtool", "PATH", "FLOWMON_PROMTOOL", "promtool",
	  "promtool for rule checks (if on PATH), 'none' disables" },
	{ O_SHORTCUTS, "shortcuts", "FILE", "FLOWMON_SHORTCUTS", "",
	  "shortcut table replacing the built-in one" },
	{ O_SECRETS_DIR, "secrets-dir", "DIR", "FLOWMON_SECRETS_DIR",
	  "/run/secrets", "alertif-* shortcut files merged over the table" },
	{ O_TASK_DNS, "task-dns", "TEMPLATE", "FLOWMON_TASK_DNS", "tasks.%s",
	  "DNS name of a service's tasks (%s: service name), none: off" },
	{ O_LISTENER, "listener-address", "ADDR[,ADDR]", "LISTENER_ADDRESS",
	  "", "swarm-listener(s) to reconcile from at start" },
	{ O_LISTENER_PRUNE, "listener-prune", NULL, "FLOWMON_LISTENER_PRUNE",
	  "false", "after reconciling, remove services no listener lists" },
	{ O_GET_NODES_URL, "get-nodes-url", "URL", "DF_GET_NODES_URL", "",
	  "swarm-listener get-nodes URL to load node labels from at start" },
	{ O_DNS_REFRESH, "dns-refresh", "DURATION", "FLOWMON_DNS_REFRESH",
	  "30s", "how often task DNS names are resolved again" },
	{ O_LOG_LEVEL, "log-level", "LEVEL", "FLOWMON_LOG_LEVEL", "info",
	  "debug, info, warn or error" },
	{ O_MAX_BODY, "max-body", "BYTES", "FLOWMON_MAX_BODY", "1048576",
	  "largest request body accepted" },
	{ O_BASIC_AUTH_FILE, "basic-auth-file", "FILE",
	  "FLOWMON_BASIC_AUTH_FILE", "",
	  "user:password lines; mutating endpoints need one of them" },
	{ O_BEARER_TOKEN_FILE, "bearer-token-file", "FILE",
	  "FLOWMON_BEARER_TOKEN_FILE", "",
	  "bearer tokens, one a line; mutating endpoints accept them" },
	{ O_AUTH_READS, "auth-reads", NULL, "FLOWMON_AUTH_READS", "false",
	  "read endpoints and /metrics need credentials too (ping never)" },
	{ O_TLS_CERT, "tls-cert", "FILE", "FLOWMON_TLS_CERT", "",
	  "PEM certificate (chain): serve HTTPS instead of HTTP" },
	{ O_TLS_KEY, "tls-key", "FILE", "FLOWMON_TLS_KEY", "",
	  "PEM private key of --tls-cert (unencrypted)" },
	{ O_MAX_HEADER_BYTES, "max-header-bytes", "BYTES",
	  "FLOWMON_MAX_HEADER_BYTES", "262144",
	  "largest request line plus headers (431 beyond)" },
	{ O_MAX_CONNECTIONS, "max-connections", "N", "FLOWMON_MAX_CONNECTIONS",
	  "512", "concurrent connections served (429 beyond)" },
	{ O_CONNECTION_TIMEOUT, "connection-timeout", "DURATION",
	  "FLOWMON_CONNECTION_TIMEOUT", "30s",
	  "idle time after which a connection is closed" },
	{ O_MAX_ALERTS, "max-alerts", "N", "FLOWMON_MAX_ALERTS", "100",
	  "alerts one service may define (400 beyond)" },
	{ O_MAX_RULE_BYTES, "max-rule-bytes", "BYTES",
	  "FLOWMON_MAX_RULE_BYTES", "1048576",
	  "largest rule file of one service (400 beyond)" },
	{ O_PROMETHEUS_CONFIG, "prometheus-config", "FILE",
	  "FLOWMON_PROMETHEUS_CONFIG", "",
	  "write Prometheus's config here at start from DFM's variables" },
	{ O_RUN_PROMETHEUS, "run-prometheus", "PATH", "FLOWMON_RUN_PROMETHEUS",
	  "", "run and supervise Prometheus, ARG_* as its flags" },
	{ O_RELOAD_MAX_DELAY, "reload-max-delay", "DURATION",
	  "FLOWMON_RELOAD_MAX_DELAY", RELOAD_MAX_DELAY_DEFAULT,
	  "longest wait of a pending reload" },
	{ O_HELP, "help", NULL, NULL, NULL, "show this help" },
	{ O_VERSION, "version", NULL, NULL, NULL, "show the version" },
};
#define NDOCS (sizeof(config_docs) / sizeof(*config_docs))

long
config_duration_ms(const char *s)
{
	static const struct { const char *u; long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	long total = 0;
	size_t i;

	if (!request_duration_valid(s) || strchr(s, 'y') || strchr(s, 'w'))
		return -1;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);

		if (*end == '\0')	/* "0" */
			return total + v;
		for (i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (strncmp(end, units[i].u, strlen(units[i].u)) == 0 &&
			    !(units[i].u[0] == 'm' && units[i].u[1] == '\0' &&
			    end[1] == 's'))
				break;
		if (i == sizeof(units) / sizeof(*units) || v > 100000000L)
			return -1;
		total += v * units[i].ms;
		s = end + strlen(units[i].u);
	}
	return total;
}

/* Splits a comma list of label names; each must be a valid name after
 * '-' becomes '_' when rename is set. */
static int
split_names(const char *var, const char *s, char ***out, size_t *n,
    char err[ERR_MAX])
{
	char *copy, *tok, *save = NULL;

	if (s == NULL || *s == '\0')
		return 0;
	if ((copy = strdup(s)) == NULL)
		abort();
	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		char *t = tok, *p;

		while (isspace((unsigned char)*t))
			t++;
		for (p = t + strlen(t); p > t && isspace((unsigned char)p[-1]);)
			*--p = '\0';
		if (*t == '\0')
			continue;
		if ((*out = realloc(*out, (*n + 1) * sizeof(**out))) == NULL ||
		    ((*out)[*n] = strdup(t)) == NULL)
			abort();
		(*n)++;
		for (p = (*out)[*n - 1]; *p; p++)
			if (*p == '-')
				*p = '_';
		if (!request_label_name_valid((*out)[*n - 1])) {
			snprintf(err, ERR_MAX, "%s: \"%.100s\" is not a valid "
			    "label name", var, t);
			free(copy);
			return -1;
		}
		/* Keep the spelling of the parameter for lookups. */
		free((*out)[*n - 1]);
		if (((*out)[*n - 1] = strdup(t)) == NULL)
			abort();
	}
	free(copy);
	return 0;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (v != NULL && (*dst = strdup(v)) == NULL)
		abort();
}

static void
usage(void)
{
	size_t i;

	printf("usage: flowmon [options]\n"
	    "       flowmon reloader --data-dir DIR --reload-url URL\n"
	    "       flowmon check [--data-dir DIR]\n\n"
	    "Writes Prometheus file_sd targets and rule files for services\n"
	    "announced by Docker Flow Swarm Listener.\n\noptions:\n");
	for (i = 0; i < NDOCS; i++) {
		char flag[64];

		snprintf(flag, sizeof(flag), "--%s%s%s", config_docs[i].flag,
		    config_docs[i].arg ? " " : "",
		    config_docs[i].arg ? config_docs[i].arg : "");
		printf("  %-32s %s\n", flag, config_docs[i].help);
		if (config_docs[i].env)
			printf("  %-32s env %s, default %s\n", "",
			    config_docs[i].env, *config_docs[i].def ?
			    config_docs[i].def : "none");
	}
	printf("\nenvironment also read: DF_SCRAPE_TARGET_LABELS, "
	    "DF_NODE_TARGET_LABELS,\n  SCRAPE_PORT_<n> with SERVICE_NAME_<n> "
	    "(a static service <name>:<port>);\n  for --prometheus-config: "
	    "GLOBAL_*, ALERTING__*, SCRAPE_CONFIGS_<n>__*,\n  REMOTE_WRITE_*, "
	    "REMOTE_READ_*, ARG_ALERTMANAGER_URL, CONFIGS_DIR;\n  for "
	    "--run-prometheus: ARG_* (Prometheus's flags)\n");
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

/* A decimal count in [min, max] into *out; -1 with err otherwise. */
static int
count_arg(const char *v, long min, long max, long *out, const char *what,
    const char *unit, char err[ERR_MAX])
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		snprintf(err, ERR_MAX, "%s \"%.100s\" must be a %s count "
		    "from %ld to %ld", what, v, unit, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

/* true/false, yes/no, 1/0, on/off; NULL (a bare flag) is true. */
static int
bool_arg(const char *v, int *out, const char *what, char err[ERR_MAX])
{
	static const char *const yes[] = { "true", "yes", "1", "on", NULL };
	static const char *const no[] = { "false", "no", "0", "off", "", NULL };
	size_t i;

	if (v == NULL) {
		*out = 1;
		return 0;
	}
	for (i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	snprintf(err, ERR_MAX, "%s \"%.100s\" must be true or false", what, v);
	return -1;
}

static int
apply(struct config *c, int id, const char *v, const char *what,
    char err[ERR_MAX])
{
	char *end;

	switch (id) {
	case O_LISTEN:
		set_str(&c->listen, v);
		break;
	case O_DATA_DIR:
		set_str(&c->data_dir, v);
		break;
	case O_RELOAD_URL:
		set_str(&c->reload_url, *v ? v : NULL);
		break;
	case O_RELOAD_DELAY:
		if ((c->reload_delay_ms = config_duration_ms(v)) < 0) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" is not a duration",
			    what, v);
			return -1;
		}
		break;
	case O_PROMTOOL:
		set_str(&c->promtool, v);
		break;
	case O_SHORTCUTS:
		set_str(&c->shortcuts, *v ? v : NULL);
		break;
	case O_SECRETS_DIR:
		set_str(&c->secrets_dir, v);
		break;
	case O_TASK_DNS:
		if (strcmp(v, "none") == 0) {	/* no task DNS at all */
			set_str(&c->task_dns, NULL);
			break;
		}
		if (strstr(v, "%s") == NULL || strchr(strstr(v, "%s") + 2,
		    '%') || strchr(v, '%') != strstr(v, "%s")) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" must hold one %%s "
			    "(or be none)", what, v);
			return -1;
		}
		set_str(&c->task_dns, v);
		break;
	case O_LISTENER:
		set_str(&c->listener_address, *v ? v : NULL);
		break;
	case O_LISTENER_PRUNE:
		/* The flag takes no argument (v NULL); the variable says
		 * true or false. */
		if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			c->listener_prune = 1;
		else if (*v == '\0' || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			c->listener_prune = 0;
		else {
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be true or "
			    "false", what, v);
			return -1;
		}
		break;
	case O_GET_NODES_URL:
		set_str(&c->get_nodes_url, *v ? v : NULL);
		break;
	case O_PROMETHEUS_CONFIG:
		set_str(&c->prometheus_config, *v ? v : NULL);
		break;
	case O_RUN_PROMETHEUS:
		set_str(&c->run_prometheus, *v ? v : NULL);
		break;
	case O_DNS_REFRESH:
		if ((c->dns_refresh_ms = config_duration_ms(v)) <= 0) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" is not a duration "
			    "above 0", what, v);
			return -1;
		}
		break;
	case O_LOG_LEVEL:
		if (log_set_level(v) == -1) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be debug, "
			    "info, warn or error", what, v);
			return -1;
		}
		set_str(&c->log_level, v);
		break;
	case O_MAX_BODY:
		c->max_body = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || c->max_body < 1024) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be a byte "
			    "count of at least 1024", what, v);
			return -1;
		}
		break;
	case O_BASIC_AUTH_FILE:
		set_str(&c->basic_auth_file, *v ? v : NULL);
		break;
	case O_BEARER_TOKEN_FILE:
		set_str(&c->bearer_token_file, *v ? v : NULL);
		break;
	case O_AUTH_READS:
		return bool_arg(v, &c->auth_reads, what, err);
	case O_TLS_CERT:
		set_str(&c->tls_cert, *v ? v : NULL);
		break;
	case O_TLS_KEY:
		set_str(&c->tls_key, *v ? v : NULL);
		break;
	case O_MAX_HEADER_BYTES:
		return count_arg(v, 16384, 16L << 20, &c->max_header_bytes,
		    what, "byte", err);
	case O_MAX_CONNECTIONS:
		return count_arg(v, 1, 65536, &c->max_connections, what,
		    "connection", err);
	case O_CONNECTION_TIMEOUT:
		c->connection_timeout_ms = config_duration_ms(v);
		if (c->connection_timeout_ms < 1000 ||
		    c->connection_timeout_ms > 3600000) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" must be a duration "
			    "from 1s to 1h", what, v);
			return -1;
		}
		break;
	case O_MAX_ALERTS:
		return count_arg(v, 0, SERVICE_ALERT_INDEX_MAX + 1,
		    &c->max_alerts, what, "alert", err);
	case O_MAX_RULE_BYTES:
		return count_arg(v, 1024, 64L << 20, &c->max_rule_bytes, what,
		    "byte", err);
	case O_RELOAD_MAX_DELAY:
		/* The default is settled in config_parse(), once
		 * --reload-delay is known. */
		if (strcmp(v, RELOAD_MAX_DELAY_DEFAULT) == 0)
			c->reload_max_delay_ms = -1;
		else if ((c->reload_max_delay_ms =
		    config_duration_ms(v)) <= 0) {
			snprintf(err, ERR_MAX, "%s \"%.100s\" is not a duration "
			    "above 0", what, v);
			return -1;
		}
		break;
	}
	return 0;
}

int
config_parse(struct config *c, int argc, char **argv, char err[ERR_MAX])
{
	struct option longopts[NDOCS + 1];
	size_t i;
	int ch;

	memset(c, 0, sizeof(*c));
	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < NDOCS; i++) {
		longopts[i].name = config_docs[i].flag;
		longopts[i].has_arg = config_docs[i].arg ? required_argument :
		    no_argument;
		longopts[i].val = config_docs[i].id;
	}
	/* Defaults, then the environment, then the flags. */
	for (i = 0; i < NDOCS; i++) {
		const char *env;

		if (config_docs[i].def == NULL)
			continue;
		if (config_docs[i].id != O_PROMTOOL &&
		    apply(c, config_docs[i].id, config_docs[i].def, "default",
		    err) == -1)
			return -1;
		if ((env = getenv(config_docs[i].env)) != NULL &&
		    apply(c, config_docs[i].id, env, config_docs[i].env,
		    err) == -1)
			return -1;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char what[64];

		if (ch == O_HELP) {
			usage();
			return 1;
		}
		if (ch == O_VERSION) {
			printf("flowmon %s\n", FLOWMON_VERSION);
			return 1;
		}
		if (ch == '?' || ch == ':') {
			snprintf(err, ERR_MAX, "bad option (see --help)");
			return -1;
		}
		for (i = 0; i < NDOCS && config_docs[i].id != ch; i++)
			;
		snprintf(what, sizeof(what), "--%s", config_docs[i].flag);
		if (apply(c, ch, optarg, what, err) == -1)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, ERR_MAX, "unexpected argument \"%.100s\"",
		    argv[optind]);
		return -1;
	}
	if (c->reload_max_delay_ms < 0)
		c->reload_max_delay_ms = 10 * c->reload_delay_ms;
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		snprintf(err, ERR_MAX, "--tls-cert and --tls-key go together");
		return -1;
	}
	/* promtool: an explicit path must exist; the default is used only
	 * when it is on PATH; "none" turns the check off. */
	if (c->promtool == NULL) {
		c->promtool = which("promtool");
	} else if (strcmp(c->promtool, "none") == 0 || *c->promtool == '\0') {
		set_str(&c->promtool, NULL);
	} else {
		char *p = which(c->promtool);

		if (p == NULL) {
			snprintf(err, ERR_MAX, "--promtool \"%.100s\" is not an "
			    "executable", c->promtool);
			return -1;
		}
		free(c->promtool);
		c->promtool = p;
	}
	if (split_names("DF_SCRAPE_TARGET_LABELS",
	    getenv("DF_SCRAPE_TARGET_LABELS"), &c->target_labels,
	    &c->ntarget_labels, err) == -1 ||
	    split_names("DF_NODE_TARGET_LABELS",
	    getenv("DF_NODE_TARGET_LABELS"), &c->node_labels,
	    &c->nnode_labels, err) == -1)
		return -1;
	return 0;
}

void
config_release(struct config *c)
{
	size_t i;

	free(c->listen);
	free(c->data_dir);
	free(c->reload_url);
	free(c->promtool);
	free(c->shortcuts);
	free(c->secrets_dir);
	free(c->task_dns);
	free(c->listener_address);
	free(c->get_nodes_url);
	free(c->prometheus_config);
	free(c->run_prometheus);
	free(c->log_level);
	free(c->basic_auth_file);
	free(c->bearer_token_file);
	free(c->tls_cert);
	free(c->tls_key);
	for (i = 0; i < c->ntarget_labels; i++)
		free(c->target_labels[i]);
	free(c->target_labels);
	for (i = 0; i < c->nnode_labels; i++)
		free(c->node_labels[i]);
	free(c->node_labels);
	memset(c, 0, sizeof(*c));
}
