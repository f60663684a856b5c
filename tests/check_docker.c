/* check_docker.c: the pure parts of the Docker source: Engine API services,
 * tasks and nodes into swarm-listener's parameters (dockermap.c), event
 * lines, and --docker-host URLs. The source against a (fake) engine is
 * tests/it_docker.sh. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "advice.h"
#include "docker.h"
#include "dockermap.h"
#include "request.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The list as "k=v&k=v" (it is sorted by the mapping). */
static char *
kv_str(const struct kvlist *l)
{
	char *s = strdup(""), *n;
	size_t i;

	for (i = 0; i < l->n; i++) {
		ck_assert_int_ge(asprintf(&n, "%s%s%s=%s", s, i ? "&" : "",
		    l->v[i].key, l->v[i].value), 0);
		free(s);
		s = n;
	}
	return s;
}

static cJSON *
json(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	ck_assert_msg(j != NULL, "test JSON does not parse: %s", s);
	return j;
}

/* Maps service (JSON text) with tasks and nodes (JSON text or NULL);
 * returns the params as "k=v&..." ("-" when not notified). */
static char *
map(const char *svc, const char *tasks, const char *nodes, const char *label)
{
	cJSON *s = json(svc), *t = tasks ? json(tasks) : NULL;
	cJSON *n = nodes ? json(nodes) : NULL;
	struct kvlist out = { 0 };
	char err[ERR_MAX] = "", *r;
	int rc;

	rc = dockermap_service(s, t, n, label ? label : "com.df.notify", &out,
	    err);
	ck_assert_msg(rc >= 0, "%s", err);
	r = rc == 1 ? kv_str(&out) : strdup("-");
	if (rc == 0)
		ck_assert_int_eq((int)out.n, 0);
	kvlist_release(&out);
	cJSON_Delete(s);
	cJSON_Delete(t);
	cJSON_Delete(n);
	return r;
}

#define SVC(labels, mode) "{\"ID\": \"sid1\", \"Version\": {\"Index\": 12}," \
	"\"Spec\": {\"Name\": \"go-demo_main\", \"Labels\": {" labels "}," \
	"\"Mode\": " mode "}}"
#define REPL(n)	"{\"Replicated\": {\"Replicas\": " #n "}}"
#define GLOBAL	"{\"Global\": {}}"

START_TEST(test_notify_label)
{
	char *s;

	/* absent, false, TRUE (not "true"), then true */
	ck_assert_str_eq(s = map(SVC("\"com.df.scrapePort\": \"8080\"",
	    REPL(2)), NULL, NULL, NULL), "-");
	free(s);
	ck_assert_str_eq(s = map(SVC("\"com.df.notify\": \"false\"",
	    REPL(2)), NULL, NULL, NULL), "-");
	free(s);
	ck_assert_str_eq(s = map(SVC("\"com.df.notify\": \"TRUE\"",
	    REPL(2)), NULL, NULL, NULL), "-");
	free(s);
	ck_assert_str_eq(s = map(SVC("\"com.df.notify\": \"true\"",
	    REPL(2)), NULL, NULL, NULL),
	    "distribute=true&replicas=2&serviceName=go-demo_main");
	free(s);
	/* Another notify label: com.df.notify is then an ordinary label. */
	ck_assert_str_eq(s = map(SVC("\"com.df.notify\": \"true\"",
	    REPL(1)), NULL, NULL, "acme.monitor"), "-");
	free(s);
	ck_assert_str_eq(s = map(SVC("\"com.df.notify\": \"true\", "
	    "\"acme.monitor\": \"true\"", REPL(1)), NULL, NULL, "acme.monitor"),
	    "distribute=true&notify=true&replicas=1&serviceName=go-demo_main");
	free(s);
}
END_TEST

START_TEST(test_labels_replicated)
{
	char *s;

	/* Every com.df.* label but the notify one, prefix stripped, verbatim
	 * (no trimming, no comma split); "com.df." alone and other labels
	 * dropped; serviceName and replicas overwrite their labels. */
	s = map(SVC("\"com.df.notify\": \"true\", "
	    "\"com.df.scrapePort\": \"8080\", "
	    "\"com.df.alertName.1\": \"mem\", "
	    "\"com.df.alertIf.1\": \"@service_mem_limit:0.8\", "
	    "\"com.df.alertLabels.1\": \" a=b,c=d \", "
	    "\"com.df.\": \"x\", \"com.df.serviceName\": \"other\", "
	    "\"com.df.replicas\": \"9\", \"com.docker.stack.namespace\": "
	    "\"go-demo\", \"traefik.port\": \"80\"", REPL(3)), NULL, NULL, NULL);
	ck_assert_str_eq(s, "alertIf.1=@service_mem_limit:0.8&"
	    "alertLabels.1= a=b,c=d &alertName.1=mem&distribute=true&"
	    "replicas=3&scrapePort=8080&serviceName=go-demo_main");
	free(s);
	/* replicas 0 is still sent; distribute label verbatim. */
	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.distribute\": "
	    "\"false\"", REPL(0)), NULL, NULL, NULL);
	ck_assert_str_eq(s, "distribute=false&replicas=0&"
	    "serviceName=go-demo_main");
	free(s);
}
END_TEST

/* The mapping from a label list, as `flowmon plan` calls it for a stack
 * file's service: the same rules as from Docker's JSON. */
START_TEST(test_params_from_labels)
{
	struct dockermap_spec spec;
	struct kvlist labels = { 0 }, out = { 0 };
	char err[ERR_MAX], *s;

	ck_assert_int_eq(kvlist_set(&labels, "com.df.notify", "true"), 0);
	ck_assert_int_eq(kvlist_set(&labels, "com.df.scrapePort", "9100"), 0);
	ck_assert_int_eq(kvlist_set(&labels, "com.df.shortName", "True"), 0);
	ck_assert_int_eq(kvlist_set(&labels, "com.docker.stack.namespace",
	    "mon"), 0);
	kvlist_sort(&labels);
	memset(&spec, 0, sizeof(spec));
	spec.name = "mon_node";
	spec.labels = &labels;
	spec.mode = DOCKERMAP_GLOBAL;
	ck_assert_int_eq(dockermap_params(&spec, "com.df.notify", &out, err),
	    1);
	/* shortName drops the stack; global sends no replicas. */
	ck_assert_str_eq(s = kv_str(&out), "distribute=true&scrapePort=9100&"
	    "serviceName=node&shortName=True");
	free(s);
	kvlist_release(&out);
	spec.mode = DOCKERMAP_REPLICATED;
	spec.replicas = 4;
	spec.node_info = "[]";
	ck_assert_int_eq(dockermap_params(&spec, "com.df.notify", &out, err),
	    1);
	ck_assert_str_eq(s = kv_str(&out), "distribute=true&nodeInfo=[]&"
	    "replicas=4&scrapePort=9100&serviceName=node&shortName=True");
	free(s);
	kvlist_release(&out);
	/* Not "true": nothing. */
	ck_assert_int_eq(dockermap_params(&spec, "acme.notify", &out, err), 0);
	ck_assert_uint_eq(out.n, 0);
	kvlist_release(&labels);
}
END_TEST

START_TEST(test_global_and_no_mode)
{
	char *s;

	/* Global: no replicas, so a com.df.replicas label passes. */
	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.replicas\": \"5\"",
	    GLOBAL), NULL, NULL, NULL);
	ck_assert_str_eq(s, "distribute=true&replicas=5&"
	    "serviceName=go-demo_main");
	free(s);
	s = map(SVC("\"com.df.notify\": \"true\"", GLOBAL), NULL, NULL, NULL);
	ck_assert_str_eq(s, "distribute=true&serviceName=go-demo_main");
	free(s);
	/* Neither mode: replicas=0, as swarm-listener. */
	s = map(SVC("\"com.df.notify\": \"true\"", "{}"), NULL, NULL, NULL);
	ck_assert_str_eq(s, "distribute=true&replicas=0&"
	    "serviceName=go-demo_main");
	free(s);
}
END_TEST

START_TEST(test_short_name)
{
	static const struct { const char *labels, *name; } c[] = {
		{ "\"com.docker.stack.namespace\": \"go-demo\", "
		  "\"com.df.shortName\": \"true\"", "main" },
		{ "\"com.docker.stack.namespace\": \"go-demo\", "
		  "\"com.df.shortName\": \"True\"", "main" },
		{ "\"com.docker.stack.namespace\": \"go-demo\", "
		  "\"com.df.shortName\": \"false\"", "go-demo_main" },
		{ "\"com.df.shortName\": \"true\"", "go-demo_main" },
		{ "\"com.docker.stack.namespace\": \"\", "
		  "\"com.df.shortName\": \"true\"", "go-demo_main" },
		/* the prefix is <stack>_, not just <stack> */
		{ "\"com.docker.stack.namespace\": \"go\", "
		  "\"com.df.shortName\": \"true\"", "go-demo_main" },
	};
	size_t i;

	for (i = 0; i < nitems(c); i++) {
		char svc[1024], *s, *p;

		snprintf(svc, sizeof(svc), SVC("\"com.df.notify\": \"true\", "
		    "%s", REPL(1)), c[i].labels);
		s = map(svc, NULL, NULL, NULL);
		p = strstr(s, "serviceName=");
		ck_assert_ptr_nonnull(p);
		p += 12;
		ck_assert_msg(strncmp(p, c[i].name, strlen(c[i].name)) == 0 &&
		    strchr("&", p[strlen(c[i].name)]) != NULL, "case %zu: %s",
		    i, s);
		free(s);
	}
}
END_TEST

static const char nodes[] = "["
    "{\"ID\": \"n1\", \"Description\": {\"Hostname\": \"node-1\"}},"
    "{\"ID\": \"n2\", \"Description\": {\"Hostname\": \"node-2\"}}]";

#define TASK(id, svc, node, desired, state, atts) \
	"{\"ID\": \"" id "\", \"ServiceID\": \"" svc "\", \"NodeID\": \"" \
	node "\", \"DesiredState\": \"" desired "\", \"Status\": " \
	"{\"State\": \"" state "\"}, \"NetworksAttachments\": [" atts "]}"
#define ATT(net, addr) "{\"Network\": {\"Spec\": {\"Name\": \"" net "\"}}," \
	"\"Addresses\": [\"" addr "\"]}"

START_TEST(test_node_info)
{
	const char *tasks = "["
	    /* ingress first, monitor second: the named network is picked */
	    TASK("t1", "sid1", "n2", "running", "running",
		ATT("ingress", "10.255.0.7/16") "," ATT("monitor", "10.0.1.6/24"))
	    ","
	    TASK("t2", "sid1", "n1", "running", "running",
		ATT("monitor", "10.0.1.5/24"))
	    ","
	    /* a second task on n1: its own entry, same hostname and id */
	    TASK("t3", "sid1", "n1", "running", "running",
		ATT("monitor", "10.0.1.9/24"))
	    ","
	    /* skipped: not on monitor, not running yet, shutting down,
	     * another service, an unknown node, no address */
	    TASK("t4", "sid1", "n1", "running", "running",
		ATT("ingress", "10.255.0.8/16"))
	    ","
	    TASK("t5", "sid1", "n1", "running", "starting",
		ATT("monitor", "10.0.1.10/24"))
	    ","
	    TASK("t6", "sid1", "n1", "shutdown", "running",
		ATT("monitor", "10.0.1.11/24"))
	    ","
	    TASK("t7", "sid2", "n1", "running", "running",
		ATT("monitor", "10.0.1.12/24"))
	    ","
	    TASK("t8", "sid1", "n9", "running", "running",
		ATT("monitor", "10.0.1.13/24"))
	    ","
	    TASK("t9", "sid1", "n1", "running", "running",
		"{\"Network\": {\"Spec\": {\"Name\": \"monitor\"}}, "
		"\"Addresses\": []}")
	    ","
	    /* an exact duplicate collapses */
	    TASK("t10", "sid1", "n1", "running", "running",
		ATT("monitor", "10.0.1.5/24"))
	    "]";
	char *s;

	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.scrapeNetwork\": "
	    "\"monitor\", \"com.df.nodeInfo\": \"ignored\"", REPL(3)), tasks,
	    nodes, NULL);
	ck_assert_str_eq(s, "distribute=true&nodeInfo="
	    "[[\"node-1\",\"10.0.1.5\",\"n1\"],[\"node-1\",\"10.0.1.9\",\"n1\"],"
	    "[\"node-2\",\"10.0.1.6\",\"n2\"]]&replicas=3&"
	    "scrapeNetwork=monitor&serviceName=go-demo_main");
	free(s);
	/* No task qualifies: [] (the list is authoritative). */
	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.scrapeNetwork\": "
	    "\"other\"", REPL(3)), tasks, nodes, NULL);
	ck_assert_ptr_nonnull(strstr(s, "nodeInfo=[]&"));
	free(s);
	/* Tasks not read: no nodeInfo at all; without scrapeNetwork none
	 * either, and a com.df.nodeInfo label passes as it is. */
	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.scrapeNetwork\": "
	    "\"monitor\"", REPL(3)), NULL, nodes, NULL);
	ck_assert_ptr_null(strstr(s, "nodeInfo"));
	free(s);
	s = map(SVC("\"com.df.notify\": \"true\", \"com.df.nodeInfo\": "
	    "\"[]\"", REPL(3)), tasks, nodes, NULL);
	ck_assert_str_eq(s, "distribute=true&nodeInfo=[]&replicas=3&"
	    "serviceName=go-demo_main");
	free(s);
}
END_TEST

/* The params parse as a reconfigure: nodeInfo becomes the task set. */
START_TEST(test_params_parse)
{
	const char *tasks = "["
	    TASK("t1", "sid1", "n1", "running", "running",
		ATT("monitor", "10.0.1.5/24")) "]";
	cJSON *s = json(SVC("\"com.df.notify\": \"true\", "
	    "\"com.df.scrapeNetwork\": \"monitor\", \"com.df.scrapePort\": "
	    "\"8080\", \"com.df.alertName\": \"up\", \"com.df.alertIf\": "
	    "\"up == 0\"", REPL(1)));
	cJSON *t = json(tasks), *n = json(nodes);
	struct request_ctx ctx = { 0 };
	struct kvlist out = { 0 };
	struct service svc;
	char err[ERR_MAX] = "";

	ck_assert_int_eq(dockermap_service(s, t, n, "com.df.notify", &out,
	    err), 1);
	ck_assert_msg(request_parse(&out, &ctx, &svc, err) == 0, "%s", err);
	ck_assert_str_eq(svc.name, "go-demo_main");
	ck_assert_int_eq(svc.port, 8080);
	ck_assert_int_eq((int)svc.ntasks, 1);
	ck_assert_str_eq(svc.tasks[0].address, "10.0.1.5");
	ck_assert_str_eq(svc.tasks[0].hostname, "node-1");
	ck_assert_str_eq(svc.tasks[0].node_id, "n1");
	ck_assert_int_eq((int)svc.nalerts, 1);
	ck_assert_str_eq(svc.alerts[0].name, "godemo_main_up");
	service_release(&svc);
	kvlist_release(&out);
	cJSON_Delete(s);
	cJSON_Delete(t);
	cJSON_Delete(n);
}
END_TEST

START_TEST(test_not_a_service)
{
	struct kvlist out = { 0 };
	char err[ERR_MAX] = "";
	cJSON *s = json("{\"Spec\": {\"Name\": \"x\"}}");

	ck_assert_int_eq(dockermap_service(s, NULL, NULL, "com.df.notify",
	    &out, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "ID"));
	cJSON_Delete(s);
	s = json("[1, 2]");
	ck_assert_int_eq(dockermap_service(s, NULL, NULL, "com.df.notify",
	    &out, err), -1);
	cJSON_Delete(s);
	ck_assert_int_eq((int)out.n, 0);
}
END_TEST

START_TEST(test_converged)
{
	const char *two = "["
	    TASK("t1", "sid1", "n1", "running", "running", "") ","
	    TASK("t2", "sid1", "n2", "running", "running", "") ","
	    TASK("t3", "sid1", "n2", "running", "preparing", "") "]";
	cJSON *svc = json(SVC("", REPL(2))), *svc3 = json(SVC("", REPL(3)));
	cJSON *glob = json(SVC("", GLOBAL)), *t = json(two);
	cJSON *upd = json("{\"ID\": \"sid1\", \"Spec\": {\"Mode\": "
	    REPL(1) "}, \"UpdateStatus\": {\"State\": \"updating\"}}");

	ck_assert_int_eq(dockermap_converged(svc, t), 1);
	ck_assert_int_eq(dockermap_converged(svc3, t), 0);
	ck_assert_int_eq(dockermap_converged(glob, t), 1);
	ck_assert_int_eq(dockermap_converged(upd, t), 0);
	cJSON_Delete(svc);
	cJSON_Delete(svc3);
	cJSON_Delete(glob);
	cJSON_Delete(t);
	cJSON_Delete(upd);
}
END_TEST

START_TEST(test_node_params)
{
	cJSON *n = json("{\"ID\": \"nodeID\", \"Version\": {\"Index\": 10},"
	    "\"Spec\": {\"Labels\": {\"com.df.wow\": \"yup\", "
	    "\"com.df.world\": \"round\", \"com.df.hostname\": \"label\", "
	    "\"other\": \"x\"}, \"Role\": \"worker\", "
	    "\"Availability\": \"active\"},"
	    "\"Description\": {\"Hostname\": \"nodehostname\", \"Engine\": "
	    "{\"Labels\": {\"com.df.wow\": \"engine\", \"com.df.zone\": "
	    "\"eu\"}}},"
	    "\"Status\": {\"State\": \"ready\", \"Addr\": \"nodeaddr\"}}");
	cJSON *down = json("{\"ID\": \"n2\", \"Status\": {\"State\": "
	    "\"down\"}}");
	struct kvlist out = { 0 };
	char err[ERR_MAX] = "", *s;

	ck_assert_msg(dockermap_node(n, &out, err) == 0, "%s", err);
	/* swarm-listener's own example, plus the engine label zone; spec
	 * labels beat engine labels, fixed keys beat both. */
	ck_assert_str_eq(s = kv_str(&out), "address=nodeaddr&"
	    "availability=active&hostname=nodehostname&id=nodeID&role=worker&"
	    "state=ready&versionIndex=10&world=round&wow=yup&zone=eu");
	free(s);
	ck_assert_int_eq(dockermap_node_down(n), 0);
	ck_assert_int_eq(dockermap_node_down(down), 1);
	kvlist_release(&out);
	cJSON_Delete(n);
	n = json("{\"Spec\": {}}");
	ck_assert_int_eq(dockermap_node(n, &out, err), -1);
	cJSON_Delete(n);
	cJSON_Delete(down);
}
END_TEST

START_TEST(test_events)
{
	static const struct {
		const char *line;
		enum dockermap_event_kind kind;
		const char *id;
	} c[] = {
		{ "{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":"
		  "\"sid1\",\"Attributes\":{\"name\":\"web\"}},\"scope\":"
		  "\"swarm\",\"time\":1}", DOCKERMAP_EV_SERVICE, "sid1" },
		{ "{\"Type\":\"service\",\"Action\":\"remove\",\"Actor\":{\"ID\":"
		  "\"sid2\"}}", DOCKERMAP_EV_SERVICE, "sid2" },
		{ "{\"Type\":\"node\",\"Action\":\"update\",\"Actor\":{\"ID\":"
		  "\"n1\",\"Attributes\":{\"state.new\":\"down\"}}}",
		  DOCKERMAP_EV_NODE, "n1" },
		{ "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
		  "\"c1\",\"Attributes\":{\"com.docker.swarm.service.id\":"
		  "\"sid3\"}}}", DOCKERMAP_EV_SERVICE, "sid3" },
		{ "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":"
		  "\"c1\",\"Attributes\":{\"com.docker.swarm.service.id\":"
		  "\"sid3\"}}}", DOCKERMAP_EV_SERVICE, "sid3" },
		/* not a task's container, not an action of interest */
		{ "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
		  "\"c2\",\"Attributes\":{}}}", DOCKERMAP_EV_NONE, "" },
		{ "{\"Type\":\"container\",\"Action\":\"exec_start\",\"Actor\":{"
		  "\"Attributes\":{\"com.docker.swarm.service.id\":\"s\"}}}",
		  DOCKERMAP_EV_NONE, "" },
		{ "{\"Type\":\"network\",\"Action\":\"create\",\"Actor\":{\"ID\":"
		  "\"x\"}}", DOCKERMAP_EV_NONE, "" },
		{ "{\"Type\":\"service\",\"Action\":\"update\"}",
		  DOCKERMAP_EV_NONE, "" },
		{ "{\"Type\":\"service\"", DOCKERMAP_EV_NONE, "" },
		{ "", DOCKERMAP_EV_NONE, "" },
	};
	struct dockermap_event ev;
	size_t i;

	for (i = 0; i < nitems(c); i++) {
		dockermap_event(c[i].line, strlen(c[i].line), &ev);
		ck_assert_msg(ev.kind == c[i].kind, "case %zu: kind %d", i,
		    (int)ev.kind);
		ck_assert_str_eq(ev.id, c[i].id);
	}
}
END_TEST

START_TEST(test_host_parse)
{
	static const struct { const char *in, *base, *sock; } ok[] = {
		{ "unix:///var/run/docker.sock", "http://localhost",
		  "/var/run/docker.sock" },
		{ "tcp://127.0.0.1:2375", "http://127.0.0.1:2375", NULL },
		{ "tcp://127.0.0.1:2375/", "http://127.0.0.1:2375", NULL },
		{ "http://[::1]:2375", "http://[::1]:2375", NULL },
		{ "HTTP://127.0.0.1:2375", "http://127.0.0.1:2375", NULL },
	};
	static const char *const bad[] = {
		"", "/var/run/docker.sock", "unix://", "unix://rel.sock",
		"https://127.0.0.1:2376", "tcp://", "http://", "ssh://host",
		"tcp://a b", "http://u@host:1", "http://h:1/?x",
	};
	char err[ERR_MAX], *base, *sock;
	size_t i;

	for (i = 0; i < nitems(ok); i++) {
		ck_assert_msg(docker_host_parse(ok[i].in, &base, &sock,
		    err) == 0, "%s: %s", ok[i].in, err);
		ck_assert_str_eq(base, ok[i].base);
		if (ok[i].sock == NULL)
			ck_assert_ptr_null(sock);
		else
			ck_assert_str_eq(sock, ok[i].sock);
		free(base);
		free(sock);
	}
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(docker_host_parse(bad[i], &base, &sock,
		    err) == -1, "%s accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "--docker-host"));
		ck_assert_ptr_null(base);
		ck_assert_ptr_null(sock);
	}
}
END_TEST

/* What a person should hear about a service (the explain API and the
 * status page show it). */
START_TEST(test_remarks)
{
	static const struct {
		const char	*svc;
		enum dockermap_remark want;
		const char	*says;
	} cases[] = {
		/* No com.df.* label anywhere: nothing to say. */
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": {\"x\": \"1\"}}}",
		  DOCKERMAP_REMARK_NONE, "" },
		/* Notified, all on the service: fine. */
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": {\"com.df.notify\": "
		  "\"true\", \"com.df.scrapePort\": \"80\"}, \"TaskTemplate\": "
		  "{\"ContainerSpec\": {\"Labels\": {\"com.df.scrapePort\": "
		  "\"80\"}}}}}", DOCKERMAP_REMARK_NONE, "" },
		/* Notified, but the alert sits on the container. */
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": {\"com.df.notify\": "
		  "\"true\"}, \"TaskTemplate\": {\"ContainerSpec\": {\"Labels\": "
		  "{\"com.df.alertIf\": \"@service_down\", \"other\": \"x\"}}}}}",
		  DOCKERMAP_REMARK_WARN, "com.df.alertIf is a container label" },
		/* Everything on the container: skipped, and why. */
		{ "{\"Spec\": {\"Name\": \"a\", \"TaskTemplate\": "
		  "{\"ContainerSpec\": {\"Labels\": {\"com.df.notify\": \"true\", "
		  "\"com.df.scrapePort\": \"80\"}}}}}", DOCKERMAP_REMARK_IGNORED,
		  "com.df.notify, com.df.scrapePort are container labels" },
		/* Labels on the service without the notify label. */
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": {\"com.df.scrapePort\": "
		  "\"80\", \"com.df.alertIf\": \"x\"}}}", DOCKERMAP_REMARK_IGNORED,
		  "2 com.df.* labels but no com.df.notify=true" },
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": {\"com.df.notify\": "
		  "\"yes\", \"com.df.scrapePort\": \"80\"}}}",
		  DOCKERMAP_REMARK_IGNORED, "com.df.notify=yes, not true" },
		/* Shapes Docker never sends count as absent. */
		{ "{\"Spec\": {\"Name\": \"a\", \"Labels\": [\"com.df.x\"], "
		  "\"TaskTemplate\": {\"ContainerSpec\": {\"Labels\": 3}}}}",
		  DOCKERMAP_REMARK_NONE, "" },
	};
	char out[ADVICE_MAX];
	size_t i;
	cJSON *s;

	for (i = 0; i < nitems(cases); i++) {
		s = json(cases[i].svc);
		ck_assert_int_eq(dockermap_remark(s, "com.df.notify", out),
		    cases[i].want);
		ck_assert_msg(strstr(out, cases[i].says) != NULL, "%zu: %s", i,
		    out);
		if (cases[i].want == DOCKERMAP_REMARK_NONE)
			ck_assert_str_eq(out, "");
		cJSON_Delete(s);
	}
}
END_TEST

/* Engine answers recorded from Debian 12's docker.io 20.10 (API 1.41)
 * while `docker service update --update-parallelism 1 --update-delay 20s`
 * replaced the tasks of rec-web (2 replicas: one running, its successor
 * "ready"), beside the global rec-agent on the one node. */
#define ENGINE_DIR	"tests/golden/engine/"

static cJSON *
engine(const char *file)
{
	char *text = tu_slurp(file);
	cJSON *j;

	ck_assert_msg(text != NULL, "cannot read %s", file);
	j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "%s does not parse", file);
	free(text);
	return j;
}

static const cJSON *
named(const cJSON *svcs, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, svcs) {
		const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(s,
		    "Spec"), "Name");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return s;
	}
	ck_abort_msg("no service %s in the recorded answer", name);
	return NULL;
}

START_TEST(test_swarm_status_recorded)
{
	cJSON *svcs = engine(ENGINE_DIR "services-status-updating.json");
	struct swarm_status st;

	/* status=true: Docker's own counts, whatever tasks say. */
	dockermap_swarm_status(named(svcs, "rec-web"), NULL, &st);
	ck_assert_int_eq(st.desired, 2);
	ck_assert_int_eq(st.running, 1);
	ck_assert_str_eq(st.update, "updating");
	ck_assert_str_eq(st.message, "update in progress");
	ck_assert_str_eq(st.image, "debian:12-slim");
	ck_assert(swarm_status_deploying(&st));
	ck_assert(dockermap_deploying(named(svcs, "rec-web")));
	ck_assert(!dockermap_converged(named(svcs, "rec-web"), NULL));
	/* A global service never updated. */
	dockermap_swarm_status(named(svcs, "rec-agent"), NULL, &st);
	ck_assert_int_eq(st.desired, 1);
	ck_assert_int_eq(st.running, 1);
	ck_assert_str_eq(st.update, "");
	ck_assert_str_eq(st.message, "");
	ck_assert(!swarm_status_deploying(&st));
	ck_assert(!dockermap_deploying(named(svcs, "rec-agent")));
	cJSON_Delete(svcs);
}
END_TEST

START_TEST(test_swarm_status_counted)
{
	cJSON *svcs = engine(ENGINE_DIR "services-status-updating.json");
	cJSON *tasks = engine(ENGINE_DIR "tasks-updating.json"), *s;
	struct swarm_status st;

	/* The same answer as an engine before 1.41 gives it: no
	 * ServiceStatus. Counted from the tasks meant to run, as Docker
	 * counts: the same figures. */
	cJSON_ArrayForEach(s, svcs)
		cJSON_DeleteItemFromObject(s, "ServiceStatus");
	dockermap_swarm_status(named(svcs, "rec-web"), tasks, &st);
	ck_assert_int_eq(st.desired, 2);
	ck_assert_int_eq(st.running, 1);
	ck_assert_str_eq(st.update, "updating");
	dockermap_swarm_status(named(svcs, "rec-agent"), tasks, &st);
	ck_assert_int_eq(st.desired, 1);
	ck_assert_int_eq(st.running, 1);
	/* No status and no tasks: unknown. */
	dockermap_swarm_status(named(svcs, "rec-web"), NULL, &st);
	ck_assert_int_eq(st.desired, -1);
	ck_assert_int_eq(st.running, -1);
	ck_assert_str_eq(st.update, "updating");
	/* Others' tasks do not count; a rollback is a deploy too. */
	s = json(SVC("\"com.df.notify\": \"true\"", REPL(3)));
	cJSON_AddItemToObject(s, "UpdateStatus", json("{\"State\": "
	    "\"rollback_started\", \"Message\": \"rollback: update paused "
	    "\"}"));
	dockermap_swarm_status(s, tasks, &st);
	ck_assert_int_eq(st.desired, 3);
	ck_assert_int_eq(st.running, 0);
	ck_assert_str_eq(st.update, "rollback_started");
	ck_assert(dockermap_deploying(s));
	cJSON_Delete(s);
	cJSON_Delete(tasks);
	cJSON_Delete(svcs);
}
END_TEST

static Suite *
docker_suite(void)
{
	Suite *s = suite_create("docker");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, test_notify_label);
	tcase_add_test(tc, test_labels_replicated);
	tcase_add_test(tc, test_global_and_no_mode);
	tcase_add_test(tc, test_params_from_labels);
	tcase_add_test(tc, test_short_name);
	tcase_add_test(tc, test_node_info);
	tcase_add_test(tc, test_params_parse);
	tcase_add_test(tc, test_not_a_service);
	tcase_add_test(tc, test_converged);
	tcase_add_test(tc, test_node_params);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_host_parse);
	tcase_add_test(tc, test_remarks);
	tcase_add_test(tc, test_swarm_status_recorded);
	tcase_add_test(tc, test_swarm_status_counted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(docker_suite());
}
