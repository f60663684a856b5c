/* config.h: the one option table of the daemon, `flowmon reloader`,
 * `flowmon check` and `flowmon plan`: flags and environment into one struct, read once at
 * start. A flag beats its environment variable, which beats the default;
 * an empty variable counts as unset. */
#ifndef FLOWMON_CONFIG_H
#define FLOWMON_CONFIG_H

#include <stddef.h>

#include "service.h"

/* Largest --shards. */
#define CONFIG_SHARDS_MAX	1000

struct request_ctx;
struct shortcuts;

/* The commands an option belongs to (a mask in the table). */
enum config_cmd {
	CONFIG_DAEMON	= 1 << 0,	/* flowmon [options] */
	CONFIG_RELOADER	= 1 << 1,	/* flowmon reloader */
	CONFIG_CHECK	= 1 << 2,	/* flowmon check */
	CONFIG_PLAN	= 1 << 3,	/* flowmon plan */
};

struct config {
	char	*listen;		/* HOST:PORT; reloader: NULL is none */
	char	*data_dir;
	char	*reload_url;		/* comma list, NULL: no reload */
	long	 reload_delay_ms;
	char	*promtool;		/* path, NULL: no pre-check */
	int	 promtool_missing;	/* the default promtool is not on PATH
					   (checks off though not asked) */
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
	int	 auth_reads;		/* deprecated no-op (see open_reads) */
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
	/* `flowmon reloader` (reloader_cmd.h). */
	long	 poll_ms;		/* rescan period of rules/ */
	int	 no_inotify;		/* poll only */
	/* The Docker source (docker.h). docker_host NULL: off. */
	char	*docker_host;
	char	*docker_notify_label;
	long	 docker_poll_ms;
	/* Deploy silences (silence.h). */
	char	*alertmanager_url;	/* comma list, NULL: none */
	int	 silence_deploys;
	long	 silence_ttl_ms;
	/* Hardening (issue 13): request limits, the connection cap per
	 * client, reload credentials, read access, the data-dir lock. */
	long	 max_params;		/* parameters per request */
	long	 max_value_bytes;	/* a label value */
	long	 max_targets;		/* targets per service */
	long	 max_target_bytes;	/* one rendered target file */
	long	 max_conns_per_client;	/* 0: no cap */
	char	*reload_auth_file;	/* user:password or a token */
	int	 open_reads;		/* reads need no credentials */
	int	 standby;		/* wait for the data-dir lock */
	/* Hashmod sharding of flowmon's job in --prometheus-config. */
	long	 shards;		/* servers sharing the targets, >= 1 */
	long	 shard;			/* this one, 0 .. shards - 1 */
	/* Services kept at most (registry_set_max_services). */
	long	 max_services;
	long	 reload_max_delay_ms;	/* longest wait of a pending reload */
	long	 reload_timeout_ms;	/* longest one reload may take */
	/* `flowmon plan` (plan.h): its own options and its operands. */
	char	*stack;			/* NULL: from the first file's dir */
	char	*against;		/* a running flowmon's URL, NULL: none */
	char	*format;		/* "text" or "json" */
	char	**args;			/* the stack files */
	size_t	 nargs;
	/* The status page and explain (promapi.h): NULL derives it from
	 * reload_url, "none" turns it off. */
	char	*prometheus_url;
};

/* Fills c for command cmd from argv (argv[0] is the program or the
 * sub-command's name) and the environment, through the option table: only
 * cmd's options are accepted, and operands only by `flowmon plan` (into
 * c->args). Returns 0 to run, 1 when --help or --version was printed
 * (exit 0), -1 with err naming the option on a bad one. c is filled (and
 * needs config_release) in every case. */
int	 config_parse(struct config *c, enum config_cmd cmd, int argc,
	    char **argv, char err[ERR_MAX]);
void	 config_release(struct config *c);

#endif
