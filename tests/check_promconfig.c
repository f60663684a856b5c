/* check_promconfig.c: Prometheus's main config from DFM's environment.
 * Golden files: every tests/golden/<name>.env (one KEY=VALUE a line, '#'
 * comments; a relative CONFIGS_DIR is taken from tests/golden) must render
 * byte for byte to tests/golden/<name>.yml, and each output must pass
 * `promtool check config` when promtool is on PATH. FLOWMON_GOLDEN_UPDATE=1
 * rewrites the .yml files instead (review the diff before committing).
 * Then the refusals, each naming its variable, and the atomic write. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "promconfig.h"
#include "testutil.h"

#define GOLDEN_DIR	"tests/golden"
#define DATA_DIR	"/var/lib/flowmon"

/*
 * Helpers.
 */

/* The lines of an env file as a NULL-terminated array (caller frees with
 * env_free); a relative CONFIGS_DIR is made relative to dir. */
static char **
env_read(const char *path, const char *dir)
{
	char *text = tu_slurp(path), *line, *save = NULL, **env;
	size_t n = 0;

	ck_assert_msg(text != NULL, "cannot read %s", path);
	env = calloc(1, sizeof(*env));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *item;

		if (*line == '#' || *line == '\0')
			continue;
		if (strncmp(line, "CONFIGS_DIR=", 12) == 0 && line[12] != '/') {
			if (asprintf(&item, "CONFIGS_DIR=%s/%s", dir,
			    line + 12) < 0)
				abort();
		} else if ((item = strdup(line)) == NULL)
			abort();
		env = realloc(env, (n + 2) * sizeof(*env));
		ck_assert_ptr_nonnull(env);
		env[n++] = item;
		env[n] = NULL;
	}
	free(text);
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Renders env the way flowmon does at start, CONFIGS_DIR only if set,
 * FLOWMON_SHARDS and FLOWMON_SHARD as the daemon's options would give
 * them. Returns the YAML, or NULL with err. */
static char *
render_env(char *const *env, char err[ERR_MAX])
{
	struct promconfig *pc;
	char *out = NULL;
	size_t len, i;
	long shards = 1, shard = 0;

	if ((pc = promconfig_from_env(env, err)) == NULL)
		return NULL;
	for (i = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], "FLOWMON_SHARDS=", 15) == 0)
			shards = strtol(env[i] + 15, NULL, 10);
		else if (strncmp(env[i], "FLOWMON_SHARD=", 14) == 0)
			shard = strtol(env[i] + 14, NULL, 10);
	}
	if (promconfig_set_shard(pc, shards, shard, err) == -1)
		goto out;
	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "CONFIGS_DIR=", 12) == 0 &&
		    promconfig_add_configs_dir(pc, env[i] + 12, err) == -1)
			goto out;
	if (promconfig_render(pc, DATA_DIR, &out, &len, err) == -1)
		out = NULL;
	else
		ck_assert_uint_eq(strlen(out), len);
out:
	promconfig_free(pc);
	return out;
}

/* Renders the lines given (NULL-terminated). */
static char *
render_lines(const char *const *lines, char err[ERR_MAX])
{
	return render_env((char *const *)lines, err);
}

/* The refusal of lines must mention every one of wants. */
static void
expect_refused(const char *const *lines, const char *want, const char *want2)
{
	char err[ERR_MAX] = "", *out;

	out = render_lines(lines, err);
	ck_assert_msg(out == NULL, "accepted %s:\n%s", lines[0],
	    out ? out : "");
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" does not "
	    "mention \"%s\"", err, want);
	if (want2 != NULL)
		ck_assert_msg(strstr(err, want2) != NULL, "error \"%s\" does "
		    "not mention \"%s\"", err, want2);
}

/* `promtool check config` on yaml written to a temp file: 0 when it
 * exits 0 (warnings about file_sd files that do not exist are fine);
 * otherwise its output goes to stderr. */
static int
promtool_check(const char *promtool, const char *name, const char *yaml)
{
	char *dir = tu_tmpdir(), *file, *log, *cmd, *text;
	int status;

	if (asprintf(&file, "%s/prometheus.yml", dir) < 0 ||
	    asprintf(&log, "%s/promtool.log", dir) < 0 ||
	    asprintf(&cmd, "'%s' check config '%s' >'%s' 2>&1", promtool,
	    file, log) < 0)
		abort();
	tu_spit(file, yaml);
	status = system(cmd);
	if (status != 0) {
		text = tu_slurp(log);
		fprintf(stderr, "promtool check config %s (%s): status %d\n%s\n",
		    name, file, status, text ? text : "");
		free(text);
	}
	free(cmd);
	free(log);
	free(file);
	tu_rmrf(dir);
	free(dir);
	return status == 0 ? 0 : -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Golden files.
 */

START_TEST(test_golden)
{
	const char *update = getenv("FLOWMON_GOLDEN_UPDATE");
	char *promtool, **names = NULL;
	struct dirent *de;
	size_t n = 0, i;
	int failed = 0;
	DIR *d;

	d = opendir(GOLDEN_DIR);
	ck_assert_msg(d != NULL, "cannot open %s (run from the repository "
	    "root)", GOLDEN_DIR);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".env") == 0) {
			names = realloc(names, (n + 1) * sizeof(*names));
			ck_assert_ptr_nonnull(names);
			names[n++] = strndup(de->d_name, l - 4);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	ck_assert_uint_ge(n, 8);
	/* Without promtool the outputs are still compared with the golden
	 * files; only promtool's check of them is skipped (and said). */
	promtool = tu_require("test_golden (promtool check config of the "
	    "outputs)", "promtool", "prometheus");
	for (i = 0; i < n; i++) {
		char err[ERR_MAX] = "", *envp, *ymlp, **env, *out, *want;

		if (asprintf(&envp, "%s/%s.env", GOLDEN_DIR, names[i]) < 0 ||
		    asprintf(&ymlp, "%s/%s.yml", GOLDEN_DIR, names[i]) < 0)
			abort();
		env = env_read(envp, GOLDEN_DIR);
		out = render_env(env, err);
		if (out == NULL) {
			fprintf(stderr, "%s: refused: %s\n", envp, err);
			failed++;
		} else if (update != NULL && strcmp(update, "1") == 0) {
			tu_spit(ymlp, out);
			fprintf(stderr, "%s: written\n", ymlp);
		} else if ((want = tu_slurp(ymlp)) == NULL) {
			fprintf(stderr, "%s: missing (FLOWMON_GOLDEN_UPDATE=1 "
			    "writes it)\n", ymlp);
			failed++;
		} else {
			if (strcmp(want, out) != 0) {
				fprintf(stderr, "%s: output differs; got:\n%s\n",
				    ymlp, out);
				failed++;
			}
			free(want);
		}
		if (out != NULL && promtool != NULL &&
		    promtool_check(promtool, names[i], out) == -1)
			failed++;
		free(out);
		env_free(env);
		free(envp);
		free(ymlp);
		free(names[i]);
	}
	free(names);
	free(promtool);
	ck_assert_msg(failed == 0, "%d golden check(s) failed (see above)",
	    failed);
}
END_TEST

/* The order of the environment does not matter, only its content. */
START_TEST(test_order_independent)
{
	char **env = env_read(GOLDEN_DIR "/dfm-alerting.env", GOLDEN_DIR);
	char err[ERR_MAX] = "", *a, *b;
	size_t n, i;

	a = render_env(env, err);
	ck_assert_msg(a != NULL, "%s", err);
	for (n = 0; env[n] != NULL; n++)
		;
	for (i = 0; i < n / 2; i++) {
		char *t = env[i];

		env[i] = env[n - 1 - i];
		env[n - 1 - i] = t;
	}
	b = render_env(env, err);
	ck_assert_msg(b != NULL, "%s", err);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	env_free(env);
}
END_TEST

/* Nothing set: rule glob and flowmon's job alone; other variables and
 * empty values are ignored. */
START_TEST(test_minimal)
{
	static const char *const env[] = {
		"PATH=/usr/bin", "GLOBAL__SCRAPE_TIMEOUT=", "HOME=/root",
		"SCRAPE_PORT_1=9100", NULL
	};
	static const char want[] =
	    "rule_files:\n"
	    "- /var/lib/flowmon/rules/*.yml\n"
	    "scrape_configs:\n"
	    "- job_name: flowmon\n"
	    "  file_sd_configs:\n"
	    "  - files:\n"
	    "    - /var/lib/flowmon/targets/*.json\n"
	    "    refresh_interval: 30s\n";
	char err[ERR_MAX] = "", *out = render_lines(env, err);

	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, want));
	ck_assert_ptr_null(strstr(out, "global"));
	ck_assert_msg(out[0] == '#', "no header comment");
	free(out);
}
END_TEST

/*
 * Refusals: every one names the variable.
 */

START_TEST(test_refuse_index_zero)
{
	static const char *const e1[] = {
		"SCRAPE_CONFIGS_0__JOB_NAME=x", NULL };
	static const char *const e2[] = {
		"REMOTE_WRITE_1__WRITE_RELABEL_CONFIGS_0__ACTION=drop",
		"REMOTE_WRITE_1__URL=http://x/", NULL };
	static const char *const e3[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=x",
		"SCRAPE_CONFIGS_1__STATIC_CONFIGS_1__TARGETS_0=a:1", NULL };

	expect_refused(e1, "SCRAPE_CONFIGS_0__JOB_NAME", "index 0");
	expect_refused(e2, "REMOTE_WRITE_1__WRITE_RELABEL_CONFIGS_0__ACTION",
	    "index 0");
	expect_refused(e3, "SCRAPE_CONFIGS_1__STATIC_CONFIGS_1__TARGETS_0",
	    "index 0");
}
END_TEST

START_TEST(test_refuse_unknown_key)
{
	static const char *const e1[] = {
		"GLOBAL__SCRAPE_INTERVALL=10s", NULL };
	/* DFM's TargetGroup had "source"; Prometheus has not. */
	static const char *const e2[] = {
		"ALERTING__ALERTMANAGERS_1__STATIC_CONFIGS_1__SOURCE=x", NULL };
	/* Removed from Prometheus long ago, still in DFM's tests. */
	static const char *const e3[] = {
		"REMOTE_WRITE_1__URL=http://x/",
		"REMOTE_WRITE_1__QUEUE_CONFIG__MAX_RETRIES=5", NULL };
	static const char *const e4[] = {
		"GLOBAL_FOO_BAR=1", NULL };
	static const char *const e5[] = {
		"ALERTING_ALERTMANAGERS_1_SCHEME=http", NULL };
	static const char *const e6[] = {
		"SCRAPE_CONFIGS__JOB_NAME=x", NULL };
	static const char *const e7[] = {
		"GLOBAL__EXTERNAL_LABELS__CLUSTER=swarm", NULL };

	expect_refused(e1, "GLOBAL__SCRAPE_INTERVALL", "unknown key "
	    "\"scrape_intervall\" in global");
	expect_refused(e2, "ALERTING__ALERTMANAGERS_1__STATIC_CONFIGS_1__SOURCE",
	    "unknown key \"source\"");
	expect_refused(e3, "REMOTE_WRITE_1__QUEUE_CONFIG__MAX_RETRIES",
	    "\"max_retries\"");
	expect_refused(e4, "GLOBAL_FOO_BAR", "unknown key \"foo_bar\"");
	expect_refused(e5, "ALERTING_ALERTMANAGERS_1_SCHEME", "'__'");
	expect_refused(e6, "SCRAPE_CONFIGS__JOB_NAME", "is a list");
	expect_refused(e7, "GLOBAL__EXTERNAL_LABELS__CLUSTER", "takes a value");
}
END_TEST

START_TEST(test_refuse_bad_url)
{
	static const char *const e1[] = {
		"ARG_ALERTMANAGER_URL=alert-manager:9093", NULL };
	static const char *const e2[] = {
		"ARG_ALERTMANAGER_URL=http://am:9093,ftp://am2", NULL };
	static const char *const e3[] = {
		"ARG_ALERTMANAGER_URL=http://:9093", NULL };
	static const char *const e4[] = {
		"ARG_ALERTMANAGER_URL=http://am:99999", NULL };
	static const char *const e5[] = {
		"REMOTE_WRITE_1__URL=acme.com/write", NULL };
	static const char *const e6[] = {
		"ARG_ALERTMANAGER_URL=http://am:9093,,http://b", NULL };
	static const char *const e7[] = {
		"ARG_ALERTMANAGER_URL=http://am:9093/x?y=1", NULL };
	static const char *const e8[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__PROXY_URL=localhost1", NULL };

	expect_refused(e1, "ARG_ALERTMANAGER_URL", "alert-manager:9093");
	expect_refused(e2, "ARG_ALERTMANAGER_URL", "ftp://am2");
	expect_refused(e3, "ARG_ALERTMANAGER_URL", "no host");
	expect_refused(e4, "ARG_ALERTMANAGER_URL", "port");
	expect_refused(e5, "REMOTE_WRITE_1__URL", "not a URL");
	expect_refused(e6, "ARG_ALERTMANAGER_URL", "empty entry");
	expect_refused(e7, "ARG_ALERTMANAGER_URL", "query");
	expect_refused(e8, "SCRAPE_CONFIGS_1__PROXY_URL", "localhost1");
}
END_TEST

START_TEST(test_refuse_bad_values)
{
	static const char *const e1[] = {
		"GLOBAL_SCRAPE_INTERVAL=10 seconds", NULL };
	static const char *const e2[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__HONOR_LABELS=maybe", NULL };
	static const char *const e3[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__SAMPLE_LIMIT=-1", NULL };
	static const char *const e4[] = {
		"GLOBAL__EXTERNAL_LABELS=cluster", NULL };
	static const char *const e5[] = {
		"GLOBAL__EXTERNAL_LABELS=my-cluster=swarm", NULL };
	static const char *const e6[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__SCHEME=ftp", NULL };
	static const char *const e7[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__RELABEL_CONFIGS_1__ACTION=anaction", NULL };
	static const char *const e8[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a",
		"SCRAPE_CONFIGS_1__METRIC_RELABEL_CONFIGS_1__SOURCE_LABELS_1=a-b",
		NULL };
	static const char *const e9[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=a\xff", NULL };

	expect_refused(e1, "GLOBAL_SCRAPE_INTERVAL", "not a duration");
	expect_refused(e2, "SCRAPE_CONFIGS_1__HONOR_LABELS", "true or false");
	expect_refused(e3, "SCRAPE_CONFIGS_1__SAMPLE_LIMIT", "whole number");
	expect_refused(e4, "GLOBAL__EXTERNAL_LABELS", "name=value");
	expect_refused(e5, "GLOBAL__EXTERNAL_LABELS", "label name");
	expect_refused(e6, "SCRAPE_CONFIGS_1__SCHEME", "http, https");
	expect_refused(e7, "SCRAPE_CONFIGS_1__RELABEL_CONFIGS_1__ACTION",
	    "anaction");
	expect_refused(e8, "SOURCE_LABELS_1", "label name");
	expect_refused(e9, "SCRAPE_CONFIGS_1__JOB_NAME", "UTF-8");
}
END_TEST

/* Two variables for one value, required keys, names used twice. */
START_TEST(test_refuse_conflicts)
{
	static const char *const e1[] = {
		"GLOBAL_SCRAPE_INTERVAL=10s", "GLOBAL__SCRAPE_INTERVAL=15s",
		NULL };
	static const char *const e2[] = {
		"REMOTE_WRITE_URL=http://a/", "REMOTE_WRITE_1__URL=http://b/",
		NULL };
	static const char *const e3[] = {
		"GLOBAL_EXTERNAL_LABELS-CLUSTER=a",
		"GLOBAL__EXTERNAL_LABELS=cluster=b", NULL };
	static const char *const e4[] = {
		"SCRAPE_CONFIGS_2__SCRAPE_INTERVAL=10s", NULL };
	static const char *const e5[] = {
		"REMOTE_READ_3__REMOTE_TIMEOUT=10s", NULL };
	static const char *const e6[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=web",
		"SCRAPE_CONFIGS_7__JOB_NAME=web", NULL };
	static const char *const e7[] = {
		"GLOBAL__SCRAPE_INTERVAL", "GLOBAL", NULL };
	char err[ERR_MAX], *out;

	expect_refused(e1, "GLOBAL__SCRAPE_INTERVAL", "GLOBAL_SCRAPE_INTERVAL");
	expect_refused(e2, "REMOTE_WRITE_URL", "REMOTE_WRITE_1__URL");
	expect_refused(e3, "GLOBAL_EXTERNAL_LABELS-CLUSTER",
	    "GLOBAL__EXTERNAL_LABELS");
	expect_refused(e4, "SCRAPE_CONFIGS_2__JOB_NAME", "missing");
	expect_refused(e5, "REMOTE_READ_3__URL", "missing");
	expect_refused(e6, "SCRAPE_CONFIGS_1__JOB_NAME",
	    "SCRAPE_CONFIGS_7__JOB_NAME");
	/* No '=' at all: not a variable, ignored. */
	out = render_lines(e7, err);
	ck_assert_msg(out != NULL, "%s", err);
	free(out);
}
END_TEST

/*
 * Scrape files.
 */

static char *
render_file(const char *text, char err[ERR_MAX])
{
	static char *const env[] = { NULL };
	struct promconfig *pc = promconfig_from_env(env, err);
	char *out = NULL;
	size_t len;

	ck_assert_ptr_nonnull(pc);
	if (promconfig_add_scrape_file(pc, "scrape_x", text, strlen(text),
	    err) == 0 && promconfig_render(pc, DATA_DIR, &out, &len,
	    err) == -1)
		out = NULL;
	promconfig_free(pc);
	return out;
}

START_TEST(test_scrape_file_forms)
{
	char err[ERR_MAX] = "", *out;

	/* One job as a map. */
	out = render_file("job_name: one\nstatic_configs: [{targets: "
	    "['a:1']}]\n", err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, "- job_name: one\n"));
	free(out);
	/* A scrape_configs map, as a whole prometheus.yml would have. */
	out = render_file("scrape_configs:\n- job_name: two\n"
	    "- job_name: three\n", err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, "- job_name: two\n- job_name: "
	    "three\n- job_name: flowmon\n"));
	free(out);
	/* Several documents. */
	out = render_file("- job_name: a\n---\n- job_name: b\n", err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, "- job_name: a\n- job_name: b\n"));
	free(out);
	/* Types survive: a quoted number stays a string, a plain one not. */
	out = render_file("- job_name: \"123\"\n  sample_limit: 10\n"
	    "  params: {v: ['true', yes]}\n", err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, "job_name: \"123\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "sample_limit: 10\n"));
	ck_assert_ptr_nonnull(strstr(out, "- \"true\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "- yes\n"));
	free(out);
}
END_TEST

START_TEST(test_scrape_file_refused)
{
	char err[ERR_MAX] = "", *out;
	static const char bomb[] =
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "job_name: bomb\n";

	out = render_file("- job_name: [a\n", err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "scrape_x"));
	ck_assert_ptr_nonnull(strstr(err, "not YAML"));
	out = render_file("- metrics_path: /m\n", err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "job_name"));
	out = render_file("", err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "no scrape job"));
	out = render_file("just a string\n", err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "not a list"));
	out = render_file(bomb, err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
}
END_TEST

/* A job of a file named like an env job: refused, naming both. */
START_TEST(test_scrape_file_duplicate)
{
	static const char *const env[] = {
		"SCRAPE_CONFIGS_1__JOB_NAME=web", NULL
	};
	char err[ERR_MAX] = "", *out = NULL;
	struct promconfig *pc = promconfig_from_env((char *const *)env, err);
	size_t len;

	ck_assert_msg(pc != NULL, "%s", err);
	ck_assert_int_eq(promconfig_add_scrape_file(pc, "/run/secrets/"
	    "scrape_web", "- job_name: web\n", 16, err), 0);
	ck_assert_int_eq(promconfig_render(pc, DATA_DIR, &out, &len, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "SCRAPE_CONFIGS_1__JOB_NAME"));
	ck_assert_ptr_nonnull(strstr(err, "/run/secrets/scrape_web"));
	promconfig_free(pc);
}
END_TEST

/*
 * The file on disk: written by the store (store_write_file, whose tests
 * are in check_store.c); this is the whole start-up path.
 */

/* What main runs: CONFIGS_DIR from the environment, a relative data dir
 * made absolute, the file written. */
START_TEST(test_generate)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *cfgdir, *path, *envdir,
	    *text, cwd[4096], *want;
	const char *env[3];

	if (asprintf(&cfgdir, "%s/secrets", dir) < 0 ||
	    asprintf(&path, "%s/out/prometheus.yml", dir) < 0 ||
	    asprintf(&envdir, "CONFIGS_DIR=%s", cfgdir) < 0)
		abort();
	ck_assert_int_eq(mkdir(cfgdir, 0755), 0);
	{
		char *f;

		if (asprintf(&f, "%s/scrape_node", cfgdir) < 0)
			abort();
		tu_spit(f, "- job_name: node\n  static_configs:\n"
		    "  - targets: ['node:9100']\n");
		free(f);
	}
	env[0] = envdir;
	env[1] = "GLOBAL_SCRAPE_INTERVAL=5s";
	env[2] = NULL;
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(mkdir("data", 0755), 0);
	ck_assert_msg(promconfig_generate((char *const *)env, "data", 1, 0,
	    path, err) == 0, "%s", err);
	ck_assert_int_eq(chdir(cwd), 0);
	text = tu_slurp(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "scrape_interval: 5s\n"));
	ck_assert_ptr_nonnull(strstr(text, "- job_name: node\n"));
	if (asprintf(&want, "- %s/data/targets/*.json\n", dir) < 0)
		abort();
	/* tu_tmpdir() may sit under a symlink: compare the real path. */
	{
		char *real = realpath(dir, NULL), *w2;

		ck_assert_ptr_nonnull(real);
		if (asprintf(&w2, "- %s/data/targets/*.json\n", real) < 0)
			abort();
		ck_assert_msg(strstr(text, want) != NULL ||
		    strstr(text, w2) != NULL, "no absolute glob in:\n%s", text);
		free(w2);
		free(real);
	}
	free(want);
	free(text);
	free(envdir);
	free(path);
	free(cfgdir);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Shards: a bad pair is refused; N shards give N configs that differ only
 * in the kept hash, and one shard adds no relabelling at all. */
START_TEST(test_shards)
{
	static const char *const lines[] = { "GLOBAL_SCRAPE_INTERVAL=5s", NULL };
	const long bad[][2] = { { 0, 0 }, { 2, 2 }, { 2, -1 }, { 3, 7 } };
	char err[ERR_MAX], *one, *two[2], want[64];
	struct promconfig *pc;
	size_t len, i;

	pc = promconfig_from_env((char *const *)lines, err);
	ck_assert_msg(pc != NULL, "%s", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(promconfig_set_shard(pc, bad[i][0], bad[i][1],
		    err), -1);
		ck_assert_msg(strstr(err, "shard") != NULL, "%s", err);
	}
	ck_assert_int_eq(promconfig_set_shard(pc, 1, 0, err), 0);
	ck_assert_int_eq(promconfig_render(pc, DATA_DIR, &one, &len, err), 0);
	ck_assert_ptr_null(strstr(one, "hashmod"));
	ck_assert_ptr_null(strstr(one, "relabel_configs"));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(promconfig_set_shard(pc, 2, (long)i, err), 0);
		ck_assert_int_eq(promconfig_render(pc, DATA_DIR, &two[i], &len,
		    err), 0);
		ck_assert_ptr_nonnull(strstr(two[i], "    modulus: 2\n"
		    "    target_label: __tmp_flowmon_shard\n"
		    "    action: hashmod\n"));
		snprintf(want, sizeof(want), "    regex: \"%zu\"\n"
		    "    action: keep\n", i);
		ck_assert_msg(strstr(two[i], want) != NULL, "no %s in:\n%s",
		    want, two[i]);
	}
	ck_assert_str_ne(two[0], two[1]);
	free(one);
	free(two[0]);
	free(two[1]);
	promconfig_free(pc);
}
END_TEST

static Suite *
promconfig_suite(void)
{
	Suite *s = suite_create("promconfig");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_order_independent);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_refuse_index_zero);
	tcase_add_test(tc, test_refuse_unknown_key);
	tcase_add_test(tc, test_refuse_bad_url);
	tcase_add_test(tc, test_refuse_bad_values);
	tcase_add_test(tc, test_refuse_conflicts);
	tcase_add_test(tc, test_scrape_file_forms);
	tcase_add_test(tc, test_scrape_file_refused);
	tcase_add_test(tc, test_scrape_file_duplicate);
	tcase_add_test(tc, test_generate);
	tcase_add_test(tc, test_shards);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(promconfig_suite());
}
