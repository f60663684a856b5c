/* check_config.c: the one option table (config.h): defaults, a variable
 * beating the default, a flag beating its variable, refusals that name the
 * option, and each command taking its own options and no others. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "parser.h"
#include "request.h"
#include "shortcuts.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

extern char **environ;

/*
 * Helpers.
 */

/* Unsets every variable the table may read, so the machine's environment
 * does not leak into a test. */
static void
clear_env(void)
{
	static const char *const prefixes[] = {
		"FLOWMON_", "DF_", "LISTENER_ADDRESS",
	};
	char name[256];
	size_t i;
	int again = 1;

	while (again) {
		again = 0;
		for (char **e = environ; e != NULL && *e != NULL; e++) {
			size_t n = strcspn(*e, "=");

			for (i = 0; i < nitems(prefixes); i++)
				if (strncmp(*e, prefixes[i],
				    strlen(prefixes[i])) == 0)
					break;
			if (i == nitems(prefixes) || n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = 1;	/* environ changed under us */
			break;
		}
	}
}

/* config_parse of cmd with the arguments after cmd (NULL-terminated). */
static int
parse(struct config *c, enum config_cmd cmd, char err[ERR_MAX], ...)
{
	char *argv[32];
	va_list ap;
	int argc = 0, rc;

	argv[argc++] = (char *)(cmd == CONFIG_RELOADER ? "reloader" :
	    cmd == CONFIG_CHECK ? "check" : cmd == CONFIG_PLAN ? "plan" :
	    "flowmon");
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	err[0] = '\0';
	rc = config_parse(c, cmd, argc, argv, err);
	return rc;
}

/* cmd with the arguments must be accepted. */
#define ACCEPT(c, cmd, ...) do {					\
	char err_[ERR_MAX];						\
	ck_assert_msg(parse((c), (cmd), err_, __VA_ARGS__, NULL) == 0,	\
	    "refused: %s", err_);					\
} while (0)

/* cmd with the arguments must be refused with a message holding each of
 * the (up to two) words. */
static void
refused(enum config_cmd cmd, const char *w1, const char *w2,
    const char *const *args)
{
	struct config c;
	char err[ERR_MAX] = "";
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"flowmon";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	ck_assert_msg(config_parse(&c, cmd, argc, argv, err) == -1,
	    "accepted (%s)", argc > 1 ? argv[1] : "no argument");
	ck_assert_msg(strstr(err, w1) != NULL, "\"%s\" does not name %s", err,
	    w1);
	if (w2 != NULL)
		ck_assert_msg(strstr(err, w2) != NULL, "\"%s\" does not say %s",
		    err, w2);
	config_release(&c);
}

#define REFUSED(cmd, w1, w2, ...) do {					\
	const char *const args_[] = { __VA_ARGS__, NULL };		\
	refused((cmd), (w1), (w2), args_);				\
} while (0)

/*
 * Precedence: flag, then variable, then default.
 */

START_TEST(test_defaults)
{
	struct config c;
	char err[ERR_MAX];

	clear_env();
	ck_assert_int_eq(parse(&c, CONFIG_DAEMON, err, NULL), 0);
	ck_assert_str_eq(c.listen, "0.0.0.0:8080");
	ck_assert_str_eq(c.data_dir, "/var/lib/flowmon");
	ck_assert_ptr_null(c.reload_url);
	ck_assert_int_eq(c.reload_delay_ms, 1000);
	ck_assert_int_eq(c.reload_timeout_ms, 300000);
	ck_assert_ptr_null(c.shortcuts);
	ck_assert_str_eq(c.secrets_dir, "/run/secrets");
	ck_assert_str_eq(c.task_dns, "tasks.%s");
	ck_assert_ptr_null(c.listener_address);
	ck_assert_int_eq(c.listener_prune, 0);
	ck_assert_int_eq(c.dns_refresh_ms, 30000);
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_int_eq(c.max_body, 1048576);
	ck_assert_int_eq(c.auth_reads, 0);
	ck_assert_ptr_null(c.tls_cert);
	ck_assert_int_eq(c.max_header_bytes, 262144);
	ck_assert_int_eq(c.max_connections, 512);
	ck_assert_int_eq(c.connection_timeout_ms, 30000);
	ck_assert_int_eq(c.max_alerts, 100);
	ck_assert_int_eq(c.max_rule_bytes, 1048576);
	ck_assert_uint_eq(c.ntarget_labels, 0);
	config_release(&c);

	ck_assert_int_eq(parse(&c, CONFIG_RELOADER, err, NULL), 0);
	ck_assert_str_eq(c.listen, "0.0.0.0:8081");
	ck_assert_str_eq(c.data_dir, "/var/lib/flowmon");
	ck_assert_int_eq(c.poll_ms, 15000);
	ck_assert_int_eq(c.reload_delay_ms, 1000);
	ck_assert_int_eq(c.reload_timeout_ms, 300000);
	ck_assert_int_eq(c.no_inotify, 0);
	/* Options of other commands stay unset. */
	ck_assert_ptr_null(c.task_dns);
	ck_assert_int_eq(c.max_body, 0);
	config_release(&c);
}
END_TEST

START_TEST(test_env_beats_default)
{
	struct config c;
	char err[ERR_MAX];

	clear_env();
	setenv("FLOWMON_LISTEN", "127.0.0.1:9999", 1);
	setenv("FLOWMON_RELOAD_DELAY", "5s", 1);
	setenv("FLOWMON_MAX_ALERTS", "7", 1);
	setenv("FLOWMON_TASK_DNS", "none", 1);
	setenv("FLOWMON_LISTENER_PRUNE", "yes", 1);
	setenv("FLOWMON_AUTH_READS", "ON", 1);
	setenv("DF_SCRAPE_TARGET_LABELS", " env , aws-region,,", 1);
	ck_assert_msg(parse(&c, CONFIG_DAEMON, err, NULL) == 0, "%s", err);
	ck_assert_str_eq(c.listen, "127.0.0.1:9999");
	ck_assert_int_eq(c.reload_delay_ms, 5000);
	ck_assert_int_eq(c.max_alerts, 7);
	ck_assert_ptr_null(c.task_dns);
	ck_assert_int_eq(c.listener_prune, 1);
	ck_assert_int_eq(c.auth_reads, 1);
	ck_assert_uint_eq(c.ntarget_labels, 2);
	ck_assert_str_eq(c.target_labels[0], "env");
	/* Kept in the parameter's spelling; '-' becomes '_' in the label. */
	ck_assert_str_eq(c.target_labels[1], "aws-region");
	config_release(&c);

	/* The reloader's own variables; the daemon's --listen variable is
	 * not the reloader's. */
	setenv("FLOWMON_RELOADER_LISTEN", "none", 1);
	setenv("FLOWMON_POLL_INTERVAL", "250ms", 1);
	setenv("FLOWMON_NO_INOTIFY", "1", 1);
	setenv("FLOWMON_RELOAD_TIMEOUT", "10m", 1);
	ck_assert_msg(parse(&c, CONFIG_RELOADER, err, NULL) == 0, "%s", err);
	ck_assert_int_eq(c.reload_timeout_ms, 600000);
	ck_assert_ptr_null(c.listen);
	ck_assert_int_eq(c.poll_ms, 250);
	ck_assert_int_eq(c.no_inotify, 1);
	ck_assert_int_eq(c.reload_delay_ms, 5000);
	config_release(&c);
}
END_TEST

START_TEST(test_flag_beats_env)
{
	struct config c;

	clear_env();
	setenv("FLOWMON_LISTEN", "127.0.0.1:9999", 1);
	setenv("FLOWMON_RELOAD_DELAY", "5s", 1);
	setenv("FLOWMON_AUTH_READS", "true", 1);
	setenv("FLOWMON_LISTENER_PRUNE", "false", 1);
	setenv("FLOWMON_DATA_DIR", "/env/dir", 1);
	ACCEPT(&c, CONFIG_DAEMON, "--listen", "[::1]:8000", "--reload-delay",
	    "250ms", "--auth-reads=false", "--listener-prune",
	    "--data-dir=/flag/dir");
	ck_assert_str_eq(c.listen, "[::1]:8000");
	ck_assert_int_eq(c.reload_delay_ms, 250);
	ck_assert_int_eq(c.auth_reads, 0);
	ck_assert_int_eq(c.listener_prune, 1);
	ck_assert_str_eq(c.data_dir, "/flag/dir");
	config_release(&c);

	setenv("FLOWMON_RELOAD_TIMEOUT", "10m", 1);
	ACCEPT(&c, CONFIG_DAEMON, "--reload-timeout", "90s");
	ck_assert_int_eq(c.reload_timeout_ms, 90000);
	config_release(&c);

	/* The last of a repeated flag wins. */
	ACCEPT(&c, CONFIG_DAEMON, "--max-alerts", "3", "--max-alerts", "4");
	ck_assert_int_eq(c.max_alerts, 4);
	config_release(&c);

	/* The same for the reloader's switch. */
	setenv("FLOWMON_NO_INOTIFY", "yes", 1);
	ACCEPT(&c, CONFIG_RELOADER, "--no-inotify=no");
	ck_assert_int_eq(c.no_inotify, 0);
	config_release(&c);
}
END_TEST

START_TEST(test_overridden_env_not_read)
{
	struct config c;

	/* A variable a flag overrides is not even parsed. */
	clear_env();
	setenv("FLOWMON_MAX_BODY", "lots", 1);
	setenv("FLOWMON_LISTENER_PRUNE", "maybe", 1);
	ACCEPT(&c, CONFIG_DAEMON, "--max-body", "2048", "--listener-prune");
	ck_assert_int_eq(c.max_body, 2048);
	config_release(&c);
	/* Nor a variable of another command. */
	setenv("FLOWMON_POLL_INTERVAL", "often", 1);
	ACCEPT(&c, CONFIG_CHECK, "--data-dir", "/x");
	config_release(&c);
}
END_TEST

START_TEST(test_empty_env_is_unset)
{
	struct config c;
	char err[ERR_MAX];

	clear_env();
	setenv("FLOWMON_TASK_DNS", "", 1);
	setenv("FLOWMON_RELOAD_DELAY", "", 1);
	setenv("FLOWMON_LISTEN", "", 1);
	setenv("FLOWMON_AUTH_READS", "", 1);
	setenv("DF_SCRAPE_TARGET_LABELS", "", 1);
	ck_assert_msg(parse(&c, CONFIG_DAEMON, err, NULL) == 0, "%s", err);
	ck_assert_str_eq(c.task_dns, "tasks.%s");
	ck_assert_int_eq(c.reload_delay_ms, 1000);
	ck_assert_str_eq(c.listen, "0.0.0.0:8080");
	ck_assert_int_eq(c.auth_reads, 0);
	ck_assert_uint_eq(c.ntarget_labels, 0);
	config_release(&c);
}
END_TEST

/*
 * Refusals name the option and the reason.
 */

START_TEST(test_unknown_flag)
{
	clear_env();
	REFUSED(CONFIG_DAEMON, "\"--bogus\"", "unknown option", "--bogus");
	REFUSED(CONFIG_DAEMON, "\"--bogus=1\"", "unknown option",
	    "--listen", "127.0.0.1:1", "--bogus=1");
	REFUSED(CONFIG_DAEMON, "\"-x\"", "unknown option", "-x");
	REFUSED(CONFIG_DAEMON, "--listen", "no value", "--listen");
	REFUSED(CONFIG_DAEMON, "\"extra\"", "unexpected argument", "extra");
	REFUSED(CONFIG_DAEMON, "\"--help=1\"", "takes no value", "--help=1");
	REFUSED(CONFIG_RELOADER, "\"--reload-delay\"", "no value",
	    "--reload-delay");
	/* A switch's value must be a boolean too. */
	REFUSED(CONFIG_DAEMON, "--auth-reads", "true or false",
	    "--auth-reads=sometimes");
}
END_TEST

START_TEST(test_bad_boolean)
{
	clear_env();
	/* The four copies of old: each variable takes the one vocabulary
	 * and refuses anything else, naming itself. */
	setenv("FLOWMON_LISTENER_PRUNE", "maybe", 1);
	REFUSED(CONFIG_DAEMON, "FLOWMON_LISTENER_PRUNE", "true or false",
	    NULL);
	unsetenv("FLOWMON_LISTENER_PRUNE");
	setenv("FLOWMON_AUTH_READS", "2", 1);
	REFUSED(CONFIG_DAEMON, "FLOWMON_AUTH_READS", "\"2\"", NULL);
	unsetenv("FLOWMON_AUTH_READS");
	setenv("FLOWMON_NO_INOTIFY", "please", 1);
	REFUSED(CONFIG_RELOADER, "FLOWMON_NO_INOTIFY", "true or false", NULL);
}
END_TEST

START_TEST(test_good_booleans)
{
	static const char *const yes[] = { "true", "yes", "YES", "on", "1" };
	static const char *const no[] = { "false", "no", "Off", "0" };
	struct config c;
	char err[ERR_MAX];
	size_t i;

	clear_env();
	for (i = 0; i < nitems(yes); i++) {
		setenv("FLOWMON_LISTENER_PRUNE", yes[i], 1);
		setenv("FLOWMON_AUTH_READS", yes[i], 1);
		setenv("FLOWMON_NO_INOTIFY", yes[i], 1);
		ck_assert_msg(parse(&c, CONFIG_DAEMON, err, NULL) == 0, "%s",
		    err);
		ck_assert_int_eq(c.listener_prune, 1);
		ck_assert_int_eq(c.auth_reads, 1);
		config_release(&c);
		ck_assert_msg(parse(&c, CONFIG_RELOADER, err, NULL) == 0, "%s",
		    err);
		ck_assert_int_eq(c.no_inotify, 1);
		config_release(&c);
	}
	for (i = 0; i < nitems(no); i++) {
		setenv("FLOWMON_LISTENER_PRUNE", no[i], 1);
		setenv("FLOWMON_AUTH_READS", no[i], 1);
		ck_assert_msg(parse(&c, CONFIG_DAEMON, err, "--auth-reads=",
		    NULL) == -1, "--auth-reads= accepted");
		config_release(&c);
		ck_assert_msg(parse(&c, CONFIG_DAEMON, err, NULL) == 0, "%s",
		    err);
		ck_assert_int_eq(c.listener_prune, 0);
		ck_assert_int_eq(c.auth_reads, 0);
		config_release(&c);
	}
}
END_TEST

START_TEST(test_bad_duration)
{
	clear_env();
	REFUSED(CONFIG_DAEMON, "--reload-delay", "not a duration",
	    "--reload-delay", "10");
	REFUSED(CONFIG_DAEMON, "--dns-refresh", "at least", "--dns-refresh",
	    "0");
	REFUSED(CONFIG_DAEMON, "--connection-timeout", "from 1s to 1h",
	    "--connection-timeout", "2h");
	REFUSED(CONFIG_DAEMON, "--connection-timeout", "from 1s to 1h",
	    "--connection-timeout", "999ms");
	REFUSED(CONFIG_RELOADER, "--poll-interval", "at least 100ms",
	    "--poll-interval", "99ms");
	REFUSED(CONFIG_RELOADER, "--poll-interval", "not a duration",
	    "--poll-interval", "1");
	REFUSED(CONFIG_DAEMON, "--reload-timeout", "at least 1s",
	    "--reload-timeout", "500ms");
	REFUSED(CONFIG_RELOADER, "--reload-timeout", "not a duration",
	    "--reload-timeout", "300");
	setenv("FLOWMON_RELOAD_DELAY", "soon", 1);
	REFUSED(CONFIG_RELOADER, "FLOWMON_RELOAD_DELAY", "\"soon\"", NULL);
}
END_TEST

START_TEST(test_bad_port)
{
	clear_env();
	REFUSED(CONFIG_DAEMON, "--listen", "port 1..65535", "--listen",
	    "127.0.0.1:0");
	REFUSED(CONFIG_DAEMON, "--listen", "port 1..65535", "--listen",
	    "127.0.0.1:65536");
	REFUSED(CONFIG_DAEMON, "--listen", "port 1..65535", "--listen",
	    "127.0.0.1");
	REFUSED(CONFIG_DAEMON, "--listen", "port 1..65535", "--listen",
	    "[::1]");
	REFUSED(CONFIG_RELOADER, "--listen", "port 1..65535", "--listen",
	    "host:http");
	setenv("FLOWMON_LISTEN", "localhost:99999", 1);
	REFUSED(CONFIG_DAEMON, "FLOWMON_LISTEN", "\"localhost:99999\"", NULL);
}
END_TEST

START_TEST(test_bad_values)
{
	clear_env();
	REFUSED(CONFIG_DAEMON, "--max-body", "at least 1024", "--max-body",
	    "1023");
	REFUSED(CONFIG_DAEMON, "--max-connections", "from 1 to 65536",
	    "--max-connections", "0");
	REFUSED(CONFIG_DAEMON, "--max-alerts", "whole number", "--max-alerts",
	    "-1");
	REFUSED(CONFIG_DAEMON, "--task-dns", "one %s", "--task-dns", "tasks");
	REFUSED(CONFIG_DAEMON, "--task-dns", "one %s", "--task-dns",
	    "%s.%s");
	REFUSED(CONFIG_DAEMON, "--log-level", "debug, info", "--log-level",
	    "loud");
	REFUSED(CONFIG_DAEMON, "--promtool", "not an executable",
	    "--promtool", "/nonexistent/promtool");
	REFUSED(CONFIG_DAEMON, "--tls-cert and --tls-key", NULL,
	    "--tls-cert", "/c.pem");
	setenv("DF_SCRAPE_TARGET_LABELS", "env,a.b", 1);
	REFUSED(CONFIG_DAEMON, "DF_SCRAPE_TARGET_LABELS", "\"a.b\"", NULL);
	REFUSED(CONFIG_CHECK, "DF_SCRAPE_TARGET_LABELS", "label name", NULL);
}
END_TEST

/* URLs go through url.c: refused ones named, never with their password;
 * none (as --help says) means no reload; the default promtool missing
 * from PATH is said (main.c warns), an explicit none is not. */
START_TEST(test_urls_and_none)
{
	static const char *const bad[] = {
		"http://admin:s3cr/t@127.0.0.1:9090/-/reload",
		"http://admin:s3cr#t@127.0.0.1:9090/-/reload",
		"http://admin:s3cr?t@127.0.0.1:9090/-/reload",
		"http://admin:s3cr@t@127.0.0.1:9090/-/reload",
		"http://admin:1/s3cr/t@127.0.0.1:9090/-/reload",
		"ftp://s3cr3t@127.0.0.1/",
		"http://127.0.0.1/-/reload,,http://TOKEN@h/",
	};
	struct config c;
	char err[ERR_MAX], *path;
	size_t i;

	clear_env();
	for (i = 0; i < nitems(bad); i++) {
		memset(&c, 0, sizeof(c));
		ck_assert_msg(parse(&c, CONFIG_DAEMON, err, "--reload-url",
		    bad[i], NULL) == -1, "%s accepted", bad[i]);
		ck_assert_msg(strstr(err, "--reload-url") != NULL, "%s", err);
		ck_assert_msg(strstr(err, "s3cr") == NULL &&
		    strstr(err, "TOKEN") == NULL, "%s", err);
		config_release(&c);
		memset(&c, 0, sizeof(c));
		setenv("DF_GET_NODES_URL", bad[i], 1);
		ck_assert_int_eq(parse(&c, CONFIG_DAEMON, err, NULL), -1);
		ck_assert_msg(strstr(err, "DF_GET_NODES_URL") != NULL &&
		    strstr(err, "s3cr") == NULL, "%s", err);
		unsetenv("DF_GET_NODES_URL");
		config_release(&c);
	}
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--reload-url", "none");
	ck_assert_ptr_null(c.reload_url);
	config_release(&c);
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--reload-url",
	    "http://a:s%2F3%23@h:9090/-/reload, https://h2/-/reload");
	ck_assert_ptr_nonnull(c.reload_url);
	config_release(&c);

	/* promtool: the default missing is said; none is not. */
	path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", "/nonexistent", 1);
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--log-level", "info");
	ck_assert_ptr_null(c.promtool);
	ck_assert_int_eq(c.promtool_missing, 1);
	config_release(&c);
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--promtool", "none");
	ck_assert_int_eq(c.promtool_missing, 0);
	config_release(&c);
	if (path != NULL)
		setenv("PATH", path, 1);
	free(path);
}
END_TEST

/* Every URL option fails the same way at start: refused by config_parse
 * (flowmon exits 2 with the message, before anything starts), the option
 * or variable named, no secret shown. --listener-address and
 * --prometheus-url were only read once the daemon had started. */
START_TEST(test_every_url_option)
{
	static const struct {
		enum config_cmd	 cmd;
		const char	*flag, *env, *bad;
	} v[] = {
		{ CONFIG_DAEMON, "--reload-url", "FLOWMON_RELOAD_URL",
		  "http://u:s3cr/t@h/-/reload" },
		{ CONFIG_DAEMON, "--get-nodes-url", "DF_GET_NODES_URL",
		  "ftp://u:s3cr3t@h/" },
		{ CONFIG_DAEMON, "--alertmanager-url", "FLOWMON_ALERTMANAGER_URL",
		  "http://am:9093,nope" },
		{ CONFIG_DAEMON, "--docker-host", "FLOWMON_DOCKER_HOST",
		  "http://u:s3cr#t@docker:2375" },
		{ CONFIG_DAEMON, "--listener-address", "LISTENER_ADDRESS",
		  "sl,sl/x" },
		{ CONFIG_DAEMON, "--listener-address", "LISTENER_ADDRESS",
		  "http://u:s3cr/t@sl:8080" },
		{ CONFIG_DAEMON, "--listener-address", "LISTENER_ADDRESS",
		  "sl:8080,,sl2" },
		{ CONFIG_DAEMON, "--listener-address", "LISTENER_ADDRESS",
		  "ftp://sl" },
		{ CONFIG_DAEMON, "--prometheus-url", "FLOWMON_PROMETHEUS_URL",
		  "prometheus:9090" },
		{ CONFIG_DAEMON, "--prometheus-url", "FLOWMON_PROMETHEUS_URL",
		  "http://u:s3cr?t@prom:9090,http://vmalert:8880" },
		{ CONFIG_PLAN, "--against", NULL, "flowmon:8080" },
		{ CONFIG_PLAN, "--against", NULL, "http://u:s3cr/t@fm:8080" },
	};
	struct config c;
	char err[ERR_MAX];
	size_t i;

	clear_env();
	for (i = 0; i < nitems(v); i++) {
		memset(&c, 0, sizeof(c));
		ck_assert_msg(parse(&c, v[i].cmd, err, v[i].flag, v[i].bad,
		    NULL) == -1, "%s %s accepted", v[i].flag, v[i].bad);
		ck_assert_msg(strncmp(err, v[i].flag, strlen(v[i].flag)) == 0,
		    "%s %s: %s", v[i].flag, v[i].bad, err);
		ck_assert_msg(strstr(err, "s3cr") == NULL, "%s", err);
		config_release(&c);
		if (v[i].env == NULL)
			continue;
		memset(&c, 0, sizeof(c));
		setenv(v[i].env, v[i].bad, 1);
		ck_assert_msg(parse(&c, v[i].cmd, err, NULL) == -1,
		    "%s=%s accepted", v[i].env, v[i].bad);
		ck_assert_msg(strncmp(err, v[i].env, strlen(v[i].env)) == 0 &&
		    strstr(err, "s3cr") == NULL, "%s", err);
		unsetenv(v[i].env);
		config_release(&c);
	}
	/* The good ones: names, ports, URLs; "none" kept for Prometheus. */
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--listener-address",
	    "sl, sl:9000,[::1]:8080,http://u:p%2F@sl:8080/base",
	    "--prometheus-url", "none");
	ck_assert_str_eq(c.listener_address,
	    "sl, sl:9000,[::1]:8080,http://u:p%2F@sl:8080/base");
	ck_assert_str_eq(c.prometheus_url, "none");
	config_release(&c);
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_DAEMON, "--prometheus-url",
	    "http://u:p@prom:9090/pre, http://vmalert:8880");
	ck_assert_str_eq(c.prometheus_url,
	    "http://u:p@prom:9090/pre, http://vmalert:8880");
	config_release(&c);
	memset(&c, 0, sizeof(c));
	ACCEPT(&c, CONFIG_PLAN, "--against", "http://fm:8080", "x.yml");
	ck_assert_str_eq(c.against, "http://fm:8080");
	config_release(&c);
}
END_TEST

/*
 * Each command takes its own options.
 */

START_TEST(test_commands_own_options)
{
	struct config c;

	clear_env();
	ACCEPT(&c, CONFIG_RELOADER, "--data-dir", "/d", "--reload-url",
	    "http://127.0.0.1:9090/-/reload", "--listen", "none",
	    "--poll-interval", "1s", "--reload-delay", "2s", "--no-inotify",
	    "--log-level", "warn");
	ck_assert_str_eq(c.data_dir, "/d");
	ck_assert_str_eq(c.reload_url, "http://127.0.0.1:9090/-/reload");
	ck_assert_ptr_null(c.listen);
	ck_assert_int_eq(c.poll_ms, 1000);
	ck_assert_int_eq(c.reload_delay_ms, 2000);
	ck_assert_int_eq(c.no_inotify, 1);
	ck_assert_str_eq(c.log_level, "warn");
	config_release(&c);

	ACCEPT(&c, CONFIG_CHECK, "--data-dir", "/d", "--promtool", "none",
	    "--shortcuts", "/s.yaml", "--secrets-dir", "/sec");
	ck_assert_str_eq(c.data_dir, "/d");
	ck_assert_ptr_null(c.promtool);
	ck_assert_str_eq(c.shortcuts, "/s.yaml");
	ck_assert_str_eq(c.secrets_dir, "/sec");
	config_release(&c);

	ACCEPT(&c, CONFIG_DAEMON, "--listen", "127.0.0.1:1", "--promtool",
	    "none", "--shortcuts", "", "--reload-url", "http://a:1/-/reload",
	    "--task-dns", "none", "--max-body", "4096", "--tls-cert", "/c",
	    "--tls-key", "/k", "--prometheus-config", "/p.yml");
	ck_assert_ptr_null(c.promtool);
	ck_assert_ptr_null(c.shortcuts);
	ck_assert_ptr_null(c.task_dns);
	ck_assert_str_eq(c.prometheus_config, "/p.yml");
	config_release(&c);

	/* And refuses the others', naming them. */
	REFUSED(CONFIG_DAEMON, "\"--poll-interval\"", "unknown option",
	    "--poll-interval", "1s");
	REFUSED(CONFIG_DAEMON, "\"--no-inotify\"", "unknown option",
	    "--no-inotify");
	REFUSED(CONFIG_RELOADER, "\"--max-body\"", "flowmon reloader --help",
	    "--max-body", "2048");
	REFUSED(CONFIG_RELOADER, "\"--promtool\"", "unknown option",
	    "--promtool", "none");
	REFUSED(CONFIG_CHECK, "\"--listen\"", "flowmon check --help",
	    "--listen", "127.0.0.1:1");
	REFUSED(CONFIG_CHECK, "\"--poll-interval\"", "unknown option",
	    "--poll-interval", "1s");
}
END_TEST

/* `flowmon plan`: its own options, the daemon's it needs, and operands
 * (the stack files), which no other command takes. */
START_TEST(test_plan_options)
{
	struct config c;

	clear_env();
	/* The daemon's data dir variable does not choose plan's. */
	setenv("FLOWMON_DATA_DIR", "/var/lib/flowmon", 1);
	ACCEPT(&c, CONFIG_PLAN, "a.yml", "--stack", "demo", "--promtool",
	    "none", "b.yml", "--max-alerts", "3", "--docker-notify-label",
	    "com.acme.notify");
	ck_assert_uint_eq(c.nargs, 2);
	ck_assert_str_eq(c.args[0], "a.yml");
	ck_assert_str_eq(c.args[1], "b.yml");
	ck_assert_str_eq(c.stack, "demo");
	ck_assert_str_eq(c.format, "text");
	ck_assert_ptr_null(c.data_dir);
	ck_assert_ptr_null(c.against);
	ck_assert_int_eq(c.max_alerts, 3);
	ck_assert_str_eq(c.docker_notify_label, "com.acme.notify");
	config_release(&c);
	unsetenv("FLOWMON_DATA_DIR");

	ACCEPT(&c, CONFIG_PLAN, "--against", "http://127.0.0.1:8080",
	    "--format", "json", "--reload-auth-file", "/a", "s.yml");
	ck_assert_str_eq(c.against, "http://127.0.0.1:8080");
	ck_assert_str_eq(c.format, "json");
	ck_assert_str_eq(c.reload_auth_file, "/a");
	config_release(&c);

	REFUSED(CONFIG_PLAN, "--format", "text or json", "--format", "yaml");
	REFUSED(CONFIG_PLAN, "\"--listen\"", "flowmon plan --help",
	    "--listen", "127.0.0.1:1");
	REFUSED(CONFIG_CHECK, "unexpected argument", "s.yml", "s.yml");
}
END_TEST

/* --help prints cmd's rows of the table, and only those: returns the text
 * (static). */
static const char *
help_of(enum config_cmd cmd)
{
	static char text[16384];
	struct config c;
	char err[ERR_MAX], path[] = "/tmp/flowmon-help.XXXXXX";
	FILE *f;
	size_t n;
	int fd, saved;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	fflush(stdout);
	ck_assert_int_ne(saved = dup(STDOUT_FILENO), -1);
	ck_assert_int_ne(dup2(fd, STDOUT_FILENO), -1);
	ck_assert_int_eq(parse(&c, cmd, err, "--help", NULL), 1);
	fflush(stdout);
	ck_assert_int_ne(dup2(saved, STDOUT_FILENO), -1);
	close(saved);
	config_release(&c);
	ck_assert_ptr_nonnull(f = fdopen(fd, "r"));
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

START_TEST(test_help_from_table)
{
	const char *h;

	clear_env();
	/* A bad variable does not stop --help. */
	setenv("FLOWMON_MAX_BODY", "lots", 1);
	h = help_of(CONFIG_DAEMON);
	ck_assert_ptr_nonnull(strstr(h, "usage: flowmon [options]"));
	ck_assert_ptr_nonnull(strstr(h, "--listen HOST:PORT"));
	ck_assert_ptr_nonnull(strstr(h, "env FLOWMON_LISTEN, default "
	    "0.0.0.0:8080"));
	ck_assert_ptr_nonnull(strstr(h, "env FLOWMON_AUTH_READS, default "
	    "false"));
	ck_assert_ptr_nonnull(strstr(h, "--version"));
	ck_assert_ptr_null(strstr(h, "--poll-interval"));
	ck_assert_ptr_null(strstr(h, "FLOWMON_RELOADER_LISTEN"));

	h = help_of(CONFIG_RELOADER);
	ck_assert_ptr_nonnull(strstr(h, "usage: flowmon reloader"));
	ck_assert_ptr_nonnull(strstr(h, "--listen HOST:PORT|none"));
	ck_assert_ptr_nonnull(strstr(h, "env FLOWMON_RELOADER_LISTEN, "
	    "default 0.0.0.0:8081"));
	ck_assert_ptr_nonnull(strstr(h, "env FLOWMON_POLL_INTERVAL, default "
	    "15s"));
	ck_assert_ptr_nonnull(strstr(h, "--no-inotify"));
	ck_assert_ptr_null(strstr(h, "--max-body"));
	ck_assert_ptr_null(strstr(h, "FLOWMON_LISTEN,"));

	h = help_of(CONFIG_CHECK);
	ck_assert_ptr_nonnull(strstr(h, "usage: flowmon check"));
	ck_assert_ptr_nonnull(strstr(h, "--promtool PATH"));
	ck_assert_ptr_null(strstr(h, "--listen"));

	h = help_of(CONFIG_PLAN);
	ck_assert_ptr_nonnull(strstr(h, "usage: flowmon plan [--stack NAME] "
	    "[--data-dir DIR | --against URL]"));
	ck_assert_ptr_nonnull(strstr(h, "--format text|json"));
	ck_assert_ptr_nonnull(strstr(h, "--reload-auth-file FILE"));
	ck_assert_ptr_nonnull(strstr(h, "DF_SCRAPE_TARGET_LABELS"));
	ck_assert_ptr_null(strstr(h, "--listen"));
	ck_assert_ptr_null(strstr(h, "FLOWMON_DATA_DIR"));
}
END_TEST

/*
 * The parser context (parser.h): what every source parses with.
 */

START_TEST(test_parser_ctx)
{
	const struct request_ctx *ctx;
	struct kvlist params = { 0 }, labels = { 0 };
	struct shortcuts *sc;
	struct service svc;
	struct parser *p;
	struct config c;
	char err[ERR_MAX];

	clear_env();
	setenv("DF_SCRAPE_TARGET_LABELS", "env,aws-region", 1);
	setenv("DF_NODE_TARGET_LABELS", "zone", 1);
	ck_assert_msg(parse(&c, CONFIG_DAEMON, err, "--max-value-bytes", "64",
	    "--max-params", "20", NULL) == 0, "%s", err);
	ck_assert_ptr_nonnull(sc = shortcuts_new());
	ck_assert_ptr_nonnull(p = parser_new(&c, sc));
	ctx = parser_ctx(p);
	ck_assert_ptr_eq(ctx->shortcuts, sc);
	ck_assert_uint_eq(ctx->ntarget_labels, 2);
	ck_assert_str_eq(ctx->target_labels[0], "env");
	ck_assert_str_eq(ctx->target_labels[1], "aws-region");
	ck_assert_ptr_eq(ctx->limits, parser_limits(p));
	ck_assert_int_eq(parser_limits(p)->max_params, 20);
	ck_assert_int_eq(parser_limits(p)->max_value_bytes, 64);
	ck_assert_int_eq(parser_limits(p)->quota.max_target_bytes,
	    c.max_target_bytes);
	/* A new table replaces the old one (freed). */
	parser_set_shortcuts(p, NULL);
	ck_assert_ptr_null(parser_ctx(p)->shortcuts);
	/* Services and nodes, with the labels and the limits. */
	ck_assert_int_eq(kvlist_set(&params, "serviceName", "web"), 0);
	ck_assert_int_eq(kvlist_set(&params, "env", "prod"), 0);
	ck_assert_int_eq(kvlist_set(&params, "zone", "a"), 0);
	ck_assert_msg(parser_parse(p, &params, &svc, err) == 0, "%s", err);
	ck_assert_str_eq(kvlist_get(&svc.target_labels, "env"), "prod");
	service_release(&svc);
	ck_assert_int_eq(parser_node(p, &params, &labels, err), FM_OK);
	ck_assert_uint_eq(labels.n, 1);
	ck_assert_str_eq(kvlist_get(&labels, "zone"), "a");
	kvlist_release(&labels);
	ck_assert_int_eq(kvlist_set(&params, "zone", "0123456789012345678901"
	    "23456789012345678901234567890123456789012345"), 0);
	ck_assert_int_eq(parser_node(p, &params, &labels, err), FM_REFUSED);
	ck_assert_msg(strstr(err, "zone is 66 bytes, more than "
	    "--max-value-bytes (64)") != NULL, "%s", err);
	ck_assert_uint_eq(labels.n, 0);
	kvlist_release(&params);
	parser_free(p);
	config_release(&c);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("precedence");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_env_beats_default);
	tcase_add_test(tc, test_flag_beats_env);
	tcase_add_test(tc, test_overridden_env_not_read);
	tcase_add_test(tc, test_empty_env_is_unset);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, test_unknown_flag);
	tcase_add_test(tc, test_bad_boolean);
	tcase_add_test(tc, test_good_booleans);
	tcase_add_test(tc, test_bad_duration);
	tcase_add_test(tc, test_bad_port);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_urls_and_none);
	tcase_add_test(tc, test_every_url_option);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_add_test(tc, test_commands_own_options);
	tcase_add_test(tc, test_plan_options);
	tcase_add_test(tc, test_help_from_table);
	tcase_add_test(tc, test_parser_ctx);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(config_suite());
}
