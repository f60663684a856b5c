/* promconfig.h: Prometheus's main configuration (prometheus.yml) from
 * Docker Flow Monitor's environment variables, plus flowmon's own file_sd
 * job and rule glob, emitted by libyaml. promconfig.c, promconfig_tree.c
 * and promconfig_yaml.c are pure (buffers in, a buffer out); reading
 * CONFIGS_DIR and writing the file is IO at its edge (promconfig_io.c),
 * through the store.
 *
 * Variables read (names as DFM documents them; keys are lower-cased, `__`
 * goes one level down, a `_<n>` suffix is item n of a list, from 1):
 *   GLOBAL__<KEY>, GLOBAL_<KEY> (legacy), GLOBAL_EXTERNAL_LABELS-<NAME>
 *   ALERTING__<KEY>...
 *   SCRAPE_CONFIGS_<n>__<KEY>...
 *   REMOTE_WRITE_<n>__<KEY>..., REMOTE_WRITE_<KEY> (legacy: item 1)
 *   REMOTE_READ_<n>__<KEY>...,  REMOTE_READ_<KEY>  (legacy: item 1)
 *   ARG_ALERTMANAGER_URL       comma list of Alertmanager URLs
 *   CONFIGS_DIR                its scrape_* files add scrape jobs
 * Keys are checked against the Prometheus 2.42 schema: an unknown key, a
 * list index 0, a value of the wrong type or an unparsable URL is refused
 * with a message that names the variable. */
#ifndef FLOWMON_PROMCONFIG_H
#define FLOWMON_PROMCONFIG_H

#include <stddef.h>

#include "service.h"

/* DFM's default for CONFIGS_DIR. */
#define PROMCONFIG_CONFIGS_DIR	"/run/secrets"
/* Largest scrape_* file read from CONFIGS_DIR. */
#define PROMCONFIG_FILE_MAX	(1024 * 1024)

struct promconfig;

/* Builds the configuration tree from envp, a NULL-terminated array of
 * "KEY=VALUE" strings (environ, or a test's own). Pure: reads nothing
 * else. A variable with an empty value counts as unset. Returns NULL with
 * err naming the variable on a bad one; free the result with
 * promconfig_free(). */
struct promconfig *promconfig_from_env(char *const *envp, char err[ERR_MAX]);

/* Adds every scrape job of one scrape file (a YAML list of scrape
 * configs, a single scrape config, or a map with a scrape_configs list),
 * keeping its keys and values as written. name is used in messages. Pure.
 * -1 with err when the text is not YAML or a job has no job_name. */
int	 promconfig_add_scrape_file(struct promconfig *pc, const char *name,
	    const char *buf, size_t len, char err[ERR_MAX]);

/* Adds the jobs of every regular file named scrape_* in dir, in name
 * order. A missing dir is no error (DFM's /run/secrets often is). IO
 * (promconfig_io.c), through the store. */
int	 promconfig_add_configs_dir(struct promconfig *pc, const char *dir,
	    char err[ERR_MAX]);

/* CONFIGS_DIR from envp (borrowed), or PROMCONFIG_CONFIGS_DIR. */
const char *promconfig_configs_dir(char *const *envp);

/* Emits the YAML: global, alerting, rule_files (the *.yml of
 * <data_dir>/rules), scrape_configs (the environment's jobs by index, the
 * files' jobs, then flowmon's file_sd job over the *.json of
 * <data_dir>/targets, refresh_interval 30s, named "flowmon"
 * or the first of "flowmon_2", "flowmon_3"... no other job uses, with the
 * hashmod relabelling of promconfig_set_shard() when sharded),
 * remote_write, remote_read. Map keys come in schema order (label maps
 * sorted), lists by index: the same input gives the same bytes. Checks
 * what only the whole tree shows (a job without job_name, a job name used
 * twice, remote_write without url). *out is malloc'd, NUL-terminated, and
 * the caller's. Does not change pc. */
int	 promconfig_render(const struct promconfig *pc, const char *data_dir,
	    char **out, size_t *outlen, char err[ERR_MAX]);

void	 promconfig_free(struct promconfig *pc);

/* Makes flowmon's job keep shard `shard` of `shards` (a hashmod relabel on
 * __address__, so each of N servers given the same targets scrapes a
 * disjoint part and together all); 1 shard, the default, adds nothing.
 * -1 with err unless shards >= 1 and 0 <= shard < shards. */
int	 promconfig_set_shard(struct promconfig *pc, long shards, long shard,
	    char err[ERR_MAX]);

/* All of it, for start-up (IO, promconfig_io.c): envp, the scrape files
 * of its CONFIGS_DIR, shard `shard` of `shards` (1, 0: no sharding),
 * render for data_dir (made absolute), then store_write_file(path): an
 * atomic replace that keeps the file's mode (0644 if new) and leaves
 * identical content alone. */
int	 promconfig_generate(char *const *envp, const char *data_dir,
	    long shards, long shard, const char *path, char err[ERR_MAX]);

/* 1 when a rendered config (buf, len) holds a secret: a password, token
 * or key Prometheus reads inline, or a URL with a password. Such a file
 * is written 0600. */
int	 promconfig_holds_secret(const char *buf, size_t len);

#endif
