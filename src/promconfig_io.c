/* promconfig_io.c: the IO at the edge of the config generator: reads the
 * scrape files of CONFIGS_DIR and writes prometheus.yml, both through the
 * store (its bounded reader, its atomic writer); the rest stays pure.
 * Start-up code only: allocation failure aborts. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "promconfig.h"
#include "store_io.h"

int
promconfig_add_configs_dir(struct promconfig *pc, const char *dir,
    char err[ERR_MAX])
{
	struct store_entry *v;
	char *path = NULL, *buf, why[ERR_MAX];
	size_t n, i, len;
	int ret = -1, saved;

	if (store_list_dir(dir, &v, &n, why) == -1) {
		if ((saved = errno) == ENOENT)
			return 0;
		snprintf(err, ERR_MAX, "CONFIGS_DIR %s: %s", dir,
		    strerror(saved));
		return -1;
	}
	for (i = 0; i < n; i++) {
		/* Docker secrets are files, Kubernetes' are symlinks. */
		if (strncmp(v[i].file, "scrape_", 7) != 0 ||
		    !S_ISREG(v[i].sb.st_mode))
			continue;
		free(path);
		if (asprintf(&path, "%s/%s", dir, v[i].file) < 0)
			abort();
		if (store_read_file(path, PROMCONFIG_FILE_MAX, &buf, &len,
		    why) == -1) {
			snprintf(err, ERR_MAX, "scrape file %.*s", ERR_MAX - 20,
			    why);
			goto out;
		}
		if (promconfig_add_scrape_file(pc, path, buf, len, err) == -1) {
			free(buf);
			goto out;
		}
		free(buf);
	}
	ret = 0;
out:
	free(path);
	store_entries_free(v, n);
	return ret;
}

int
promconfig_generate(char *const *envp, const char *data_dir,
    long shards, long shard, const char *path, char err[ERR_MAX])
{
	struct promconfig *pc;
	char *abs = NULL, *out = NULL;
	size_t len;
	int ret = -1;

	if ((pc = promconfig_from_env(envp, err)) == NULL)
		return -1;
	if (promconfig_set_shard(pc, shards, shard, err) == -1 ||
	    promconfig_add_configs_dir(pc, promconfig_configs_dir(envp),
	    err) == -1)
		goto out;
	/* Prometheus resolves relative paths against the config file's
	 * directory, not flowmon's: give it the data dir absolute. */
	if ((abs = realpath(data_dir, NULL)) == NULL) {
		char cwd[PATH_MAX];

		if (*data_dir == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
			abs = strdup(data_dir);
		else if (asprintf(&abs, "%s/%s", cwd, data_dir) < 0)
			abs = NULL;
		if (abs == NULL)
			abort();
	}
	if (promconfig_render(pc, abs, &out, &len, err) == -1)
		goto out;
	/* A config holding a secret is for its owner only, whatever the
	 * mode of the file it replaces; a Prometheus running as another user
	 * can read a config without one. */
	if (store_write_file(path, out, len, promconfig_holds_secret(out,
	    len) ? 0600 : STORE_MODE_KEEP, err) == -1)
		goto out;
	ret = 0;
out:
	free(out);
	free(abs);
	promconfig_free(pc);
	return ret;
}
