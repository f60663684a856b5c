/* config.h: flags and environment into one struct, read once at start. A
 * flag beats its environment variable, which beats the default. */
#ifndef FLOWMON_CONFIG_H
#define FLOWMON_CONFIG_H

#include <stddef.h>

#include "service.h"

struct config {
	char	*listen;		/* HOST:PORT */
	char	*data_dir;
	char	*reload_url;		/* comma list, NULL: no reload */
	long	 reload_delay_ms;
	char	*promtool;		/* path, NULL: no pre-check */
	char	*shortcuts;		/* NULL: built-in table */
	char	*secrets_dir;
	char	*task_dns;		/* NULL: no task DNS lookups */
	char	*listener_address;	/* comma list, NULL: none */
	int	 listener_prune;	/* remove services no listener lists */
	char	*get_nodes_url;		/* DF_GET_NODES_URL, NULL: none */
	long	 dns_refresh_ms;	/* task DNS refresh period */
	char	*log_level;
	long	 max_body;		/* bytes */
	/* Operator surface (auth.h, limits.h): credential files, TLS
	 * material and the limits of the HTTP front. NULL: off. */
	char	*basic_auth_file;
	char	*bearer_token_file;
	int	 auth_reads;		/* read endpoints need credentials */
	char	*tls_cert;
	char	*tls_key;
	long	 max_header_bytes;	/* MHD per-connection memory */
	long	 max_connections;
	long	 connection_timeout_ms;
	long	 max_alerts;		/* alerts per service */
	long	 max_rule_bytes;	/* one rendered rule file */
	/* Drop-in Docker Flow Monitor (promconfig.h, supervisor.h). */
	char	*prometheus_config;	/* prometheus.yml to write, NULL: none */
	char	*run_prometheus;	/* Prometheus to supervise, NULL: none */
	/* DF_SCRAPE_TARGET_LABELS, DF_NODE_TARGET_LABELS split on ','. */
	char	**target_labels;
	size_t	 ntarget_labels;
	char	**node_labels;
	size_t	 nnode_labels;
	long	 reload_max_delay_ms;	/* longest wait of a pending reload */
};

/* Fills c from argv and the environment. Returns 0 to run, 1 when --help
 * or --version was printed (exit 0), -1 with err on a bad option. */
int	 config_parse(struct config *c, int argc, char **argv,
	    char err[ERR_MAX]);
void	 config_release(struct config *c);

/* A Prometheus-style duration (500ms, 1s, 1m30s) in milliseconds, or -1. */
long	 config_duration_ms(const char *s);

#endif
