/* dockermap.c: Docker Engine API objects into swarm-listener's parameters.
 *
 * The rules are swarm-listener's (shared/reference/swarm-listener-mapping.md
 * 2.3, 2.4 and 4), so a service reads the same whether swarm-listener sends
 * it or flowmon's own Docker source lists it. Everything here works on
 * parsed JSON; a field of the wrong type counts as absent, never as an
 * error, since Docker adds fields from one version to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "advice.h"
#include "dockermap.h"

#define PREFIX_LEN	(sizeof(DOCKERMAP_LABEL_PREFIX) - 1)

/* obj.a.b... as an object member, or NULL. */
static const cJSON *
path(const cJSON *obj, const char *a, const char *b, const char *c)
{
	const char *keys[3] = { a, b, c };
	size_t i;

	for (i = 0; i < 3 && keys[i] != NULL && obj != NULL; i++)
		obj = cJSON_IsObject(obj) ?
		    cJSON_GetObjectItemCaseSensitive(obj, keys[i]) : NULL;
	return obj;
}

/* The string at obj.a.b.c, or NULL. */
static const char *
str(const cJSON *obj, const char *a, const char *b, const char *c)
{
	const cJSON *v = path(obj, a, b, c);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A label of a labels object, or NULL. */
static const char *
label(const cJSON *labels, const char *key)
{
	return str(labels, key, NULL, NULL);
}

const char *
dockermap_id(const cJSON *obj)
{
	return str(obj, "ID", NULL, NULL);
}

const char *
dockermap_name(const cJSON *service)
{
	return str(service, "Spec", "Name", NULL);
}

int
dockermap_notified(const cJSON *service, const char *notify_label)
{
	const char *v = label(path(service, "Spec", "Labels", NULL),
	    notify_label);

	return v != NULL && strcmp(v, "true") == 0;
}

int
dockermap_scrape_network(const cJSON *service)
{
	return label(path(service, "Spec", "Labels", NULL),
	    DOCKERMAP_LABEL_PREFIX "scrapeNetwork") != NULL;
}

/* The com.df.* keys of container (a stack file's labels:, Docker's
 * ContainerSpec.Labels) that labels (the service's) lack, into keys (at
 * most max, borrowed): those swarm-listener never sees. */
static size_t
container_only(const struct kvlist *labels, const struct kvlist *container,
    const char **keys, size_t max)
{
	size_t i, n = 0;

	for (i = 0; container != NULL && i < container->n; i++) {
		const char *k = container->v[i].key;

		if (strncmp(k, DOCKERMAP_LABEL_PREFIX, PREFIX_LEN) != 0 ||
		    (labels != NULL && kvlist_get(labels, k) != NULL))
			continue;
		if (n < max)
			keys[n] = k;
		n++;
	}
	return n < max ? n : max;
}

enum dockermap_remark
dockermap_remark_labels(const struct kvlist *labels,
    const struct kvlist *container, const char *notify_label, char *out)
{
	const char *keys[16], *notify;
	size_t nkeys = container_only(labels, container, keys, 16), n = 0, i;
	int notified;

	notify = labels != NULL ? kvlist_get(labels, notify_label) : NULL;
	notified = notify != NULL && strcmp(notify, "true") == 0;
	out[0] = '\0';
	if (nkeys > 0) {
		advice_container_labels(out, keys, nkeys);
		return notified ? DOCKERMAP_REMARK_WARN :
		    DOCKERMAP_REMARK_IGNORED;
	}
	if (notified)
		return DOCKERMAP_REMARK_NONE;
	for (i = 0; labels != NULL && i < labels->n; i++)
		if (strncmp(labels->v[i].key, DOCKERMAP_LABEL_PREFIX,
		    PREFIX_LEN) == 0 && strcmp(labels->v[i].key,
		    notify_label) != 0)
			n++;
	if (n == 0)
		return DOCKERMAP_REMARK_NONE;
	advice_no_notify(out, notify_label, notify, n);
	return DOCKERMAP_REMARK_IGNORED;
}

/* The hostname of node id in nodes, or NULL. */
static const char *
node_hostname(const cJSON *nodes, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes) {
		const char *nid = dockermap_id(n);

		if (nid != NULL && strcmp(nid, id) == 0)
			return str(n, "Description", "Hostname", NULL);
	}
	return NULL;
}

/* 1 when task is one of service_id's tasks, meant to run and running. */
static int
task_running(const cJSON *task, const char *service_id)
{
	const char *sid = str(task, "ServiceID", NULL, NULL);
	const char *desired = str(task, "DesiredState", NULL, NULL);
	const char *state = str(task, "Status", "State", NULL);

	return sid != NULL && strcmp(sid, service_id) == 0 &&
	    desired != NULL && strcmp(desired, "running") == 0 &&
	    state != NULL && strcmp(state, "running") == 0;
}

/* The address of task on the network named net, "/prefix" dropped, into
 * buf; 0, or -1 when it has none. */
static int
task_address(const cJSON *task, const char *net, char *buf, size_t size)
{
	const cJSON *att;

	cJSON_ArrayForEach(att, path(task, "NetworksAttachments", NULL, NULL)) {
		const char *name = str(att, "Network", "Spec", "Name");
		const cJSON *addrs = path(att, "Addresses", NULL, NULL);
		const cJSON *first;
		size_t len;

		if (name == NULL || strcmp(name, net) != 0)
			continue;
		first = cJSON_IsArray(addrs) ? addrs->child : NULL;
		if (!cJSON_IsString(first) || *first->valuestring == '\0')
			return -1;
		len = strcspn(first->valuestring, "/");
		if (len >= size)
			return -1;
		memcpy(buf, first->valuestring, len);
		buf[len] = '\0';
		return 0;
	}
	return -1;
}

struct triple {
	const char	*host;
	char		 addr[64];
	const char	*id;
};

static int
triple_cmp(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;
	int c;

	if ((c = strcmp(x->host, y->host)) != 0)
		return c;
	if ((c = strcmp(x->addr, y->addr)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

/* nodeInfo of service_id's running tasks on net, as compact JSON. */
static char *
node_info(const cJSON *tasks, const cJSON *nodes, const char *service_id,
    const char *net)
{
	struct triple *v;
	const cJSON *t;
	cJSON *arr = NULL;
	char *json = NULL;
	size_t n = 0, i;
	int count = cJSON_GetArraySize(tasks);

	if ((v = calloc((size_t)count + 1, sizeof(*v))) == NULL)
		return NULL;
	cJSON_ArrayForEach(t, tasks) {
		const char *nid = str(t, "NodeID", NULL, NULL), *host;

		if (!task_running(t, service_id) || nid == NULL ||
		    (host = node_hostname(nodes, nid)) == NULL ||
		    task_address(t, net, v[n].addr, sizeof(v[n].addr)) == -1)
			continue;
		v[n].host = host;
		v[n].id = nid;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), triple_cmp);
	if ((arr = cJSON_CreateArray()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *s[3] = { v[i].host, v[i].addr, v[i].id };
		cJSON *e;

		if (i > 0 && triple_cmp(&v[i - 1], &v[i]) == 0)
			continue;	/* a set: duplicates collapse */
		if ((e = cJSON_CreateStringArray(s, 3)) == NULL ||
		    !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto out;
		}
	}
	json = cJSON_PrintUnformatted(arr);
out:
	cJSON_Delete(arr);
	free(v);
	return json;
}

/* Every com.df.* label of labels but skip, prefix stripped, into out. */
static int
add_label_list(const struct kvlist *labels, const char *skip,
    struct kvlist *out)
{
	size_t i;

	for (i = 0; labels != NULL && i < labels->n; i++) {
		const char *k = labels->v[i].key;

		if (strncmp(k, DOCKERMAP_LABEL_PREFIX, PREFIX_LEN) != 0 ||
		    k[PREFIX_LEN] == '\0' ||
		    (skip != NULL && strcmp(k, skip) == 0))
			continue;
		/* As the HTTP front collects a query: names are matched
		 * case-insensitively, a later one wins. */
		if (kvlist_set_ci(out, k + PREFIX_LEN, labels->v[i].value) == -1)
			return -1;
	}
	return 0;
}

int
dockermap_params(const struct dockermap_spec *spec, const char *notify_label,
    struct kvlist *out, char err[ERR_MAX])
{
	const struct kvlist *labels = spec->labels;
	const char *name = spec->name, *stack, *shortname, *notify;
	char num[32];

	notify = labels != NULL ? kvlist_get(labels, notify_label) : NULL;
	if (notify == NULL || strcmp(notify, "true") != 0)
		return 0;
	/* 1. labels */
	if (add_label_list(labels, notify_label, out) == -1)
		goto nomem;
	/* 2. serviceName, over any com.df.serviceName label */
	stack = kvlist_get(labels, "com.docker.stack.namespace");
	shortname = kvlist_get(labels, DOCKERMAP_LABEL_PREFIX "shortName");
	if (stack != NULL && *stack != '\0' && shortname != NULL &&
	    strcasecmp(shortname, "true") == 0 &&
	    strncmp(name, stack, strlen(stack)) == 0 &&
	    name[strlen(stack)] == '_')
		name += strlen(stack) + 1;
	if (kvlist_set_ci(out, "serviceName", name) == -1)
		goto nomem;
	/* 3. replicas: the desired count; none for a global service */
	if (spec->mode == DOCKERMAP_REPLICATED ||
	    spec->mode == DOCKERMAP_NO_MODE) {
		snprintf(num, sizeof(num), "%llu", spec->mode ==
		    DOCKERMAP_REPLICATED ? spec->replicas : 0ULL);
		if (kvlist_set_ci(out, "replicas", num) == -1)
			goto nomem;
	}
	/* 4. distribute */
	if (kvlist_get(labels, DOCKERMAP_LABEL_PREFIX "distribute") == NULL &&
	    kvlist_set_ci(out, "distribute", "true") == -1)
		goto nomem;
	/* 5. nodeInfo, over any com.df.nodeInfo label */
	if (spec->node_info != NULL &&
	    kvlist_set_ci(out, "nodeInfo", spec->node_info) == -1)
		goto nomem;
	kvlist_sort(out);
	return 1;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
	kvlist_release(out);
	return -1;
}

/* A labels object as a list, every string label, in the object's order
 * (Docker's JSON has them sorted by key). 0, or -1 on ENOMEM. */
static int
label_list(const cJSON *labels, struct kvlist *out)
{
	const cJSON *it;

	if (!cJSON_IsObject(labels))
		return 0;
	cJSON_ArrayForEach(it, labels)
		if (cJSON_IsString(it) && it->string != NULL &&
		    kvlist_add(out, it->string, it->valuestring) == -1)
			return -1;
	return 0;
}

/* Every com.df.* label of a labels object, prefix stripped, into out. */
static int
add_labels(const cJSON *labels, struct kvlist *out)
{
	struct kvlist l = { 0 };
	int rc;

	rc = label_list(labels, &l) == -1 ? -1 :
	    add_label_list(&l, NULL, out);
	kvlist_release(&l);
	return rc;
}

int
dockermap_service(const cJSON *service, const cJSON *tasks,
    const cJSON *nodes, const char *notify_label, struct kvlist *out,
    char err[ERR_MAX])
{
	const cJSON *mode = path(service, "Spec", "Mode", NULL);
	const cJSON *reps = path(mode, "Replicated", "Replicas", NULL);
	struct dockermap_spec spec;
	struct kvlist labels = { 0 };
	const char *id = dockermap_id(service), *net;
	char *ni = NULL;
	int rc = -1;

	memset(&spec, 0, sizeof(spec));
	spec.name = str(service, "Spec", "Name", NULL);
	if (id == NULL || spec.name == NULL || *spec.name == '\0') {
		snprintf(err, ERR_MAX, "a service without ID or Spec.Name");
		return -1;
	}
	if (!dockermap_notified(service, notify_label))
		return 0;
	if (label_list(path(service, "Spec", "Labels", NULL), &labels) == -1)
		goto nomem;
	spec.labels = &labels;
	if (path(mode, "Replicated", NULL, NULL) != NULL) {
		spec.mode = DOCKERMAP_REPLICATED;
		spec.replicas = cJSON_IsNumber(reps) && reps->valuedouble >= 0 ?
		    (unsigned long long)reps->valuedouble : 0;
	} else if (path(mode, "Global", NULL, NULL) != NULL ||
	    path(mode, "GlobalJob", NULL, NULL) != NULL) {
		spec.mode = DOCKERMAP_GLOBAL;
	} else {
		spec.mode = DOCKERMAP_NO_MODE;
	}
	net = label(path(service, "Spec", "Labels", NULL),
	    DOCKERMAP_LABEL_PREFIX "scrapeNetwork");
	if (net != NULL && tasks != NULL &&
	    (spec.node_info = ni = node_info(tasks, nodes, id, net)) == NULL)
		goto nomem;
	rc = dockermap_params(&spec, notify_label, out, err);
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
out:
	cJSON_free(ni);
	kvlist_release(&labels);
	return rc;
}

enum dockermap_remark
dockermap_remark(const cJSON *service, const char *notify_label, char *out)
{
	struct kvlist labels = { 0 }, container = { 0 };
	enum dockermap_remark r = DOCKERMAP_REMARK_NONE;

	out[0] = '\0';
	if (label_list(path(service, "Spec", "Labels", NULL), &labels) == 0 &&
	    label_list(path(path(service, "Spec", "TaskTemplate",
	    "ContainerSpec"), "Labels", NULL, NULL), &container) == 0)
		r = dockermap_remark_labels(&labels, &container, notify_label,
		    out);
	kvlist_release(&labels);
	kvlist_release(&container);
	return r;
}

int
dockermap_converged(const cJSON *service, const cJSON *tasks)
{
	const char *id = dockermap_id(service);
	const cJSON *reps = path(service, "Spec", "Mode", "Replicated");
	const cJSON *t;
	double running = 0;

	if (dockermap_deploying(service))
		return 0;
	if (reps == NULL || id == NULL)
		return 1;	/* global: no count to reach */
	cJSON_ArrayForEach(t, tasks)
		if (task_running(t, id))
			running++;
	reps = path(reps, "Replicas", NULL, NULL);
	return !cJSON_IsNumber(reps) || running >= reps->valuedouble;
}

/* The number at obj.a.b, or -1 when absent or not a count. */
static long
count(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = path(obj, a, b, NULL);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e15 ? (long)v->valuedouble : -1;
}

/* At most size - 1 bytes of s (NULL: "") into buf, cut at a character
 * boundary. */
static void
copy_text(char *buf, size_t size, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len >= size)
		for (len = size - 1; len > 0 &&
		    ((unsigned char)s[len] & 0xc0) == 0x80; len--)
			;
	if (len > 0)
		memcpy(buf, s, len);
	buf[len] = '\0';
}

void
dockermap_swarm_status(const cJSON *service, const cJSON *tasks,
    struct swarm_status *out)
{
	const cJSON *mode = path(service, "Spec", "Mode", NULL);
	const cJSON *t;
	const char *id = dockermap_id(service);
	long meant = 0, running = 0;

	memset(out, 0, sizeof(*out));
	out->desired = out->running = -1;
	copy_text(out->update, sizeof(out->update),
	    str(service, "UpdateStatus", "State", NULL));
	copy_text(out->message, sizeof(out->message),
	    str(service, "UpdateStatus", "Message", NULL));
	copy_text(out->image, sizeof(out->image), str(path(service, "Spec",
	    "TaskTemplate", "ContainerSpec"), "Image", NULL, NULL));
	if (cJSON_IsObject(path(service, "ServiceStatus", NULL, NULL))) {
		out->desired = count(service, "ServiceStatus", "DesiredTasks");
		out->running = count(service, "ServiceStatus", "RunningTasks");
		return;
	}
	if (tasks == NULL || id == NULL)
		return;
	cJSON_ArrayForEach(t, tasks) {
		const char *sid = str(t, "ServiceID", NULL, NULL);
		const char *desired = str(t, "DesiredState", NULL, NULL);

		if (sid == NULL || strcmp(sid, id) != 0 || desired == NULL ||
		    strcmp(desired, "running") != 0)
			continue;
		meant++;
		if (task_running(t, id))
			running++;
	}
	out->running = running;
	if (path(mode, "Replicated", NULL, NULL) != NULL)
		out->desired = count(path(mode, "Replicated", NULL, NULL),
		    "Replicas", NULL);
	else if (path(mode, "Global", NULL, NULL) != NULL)
		out->desired = meant;
}

int
dockermap_deploying(const cJSON *service)
{
	const char *us = str(service, "UpdateStatus", "State", NULL);

	return us != NULL && (strcmp(us, "updating") == 0 ||
	    strcmp(us, "rollback_started") == 0);
}

int
dockermap_node(const cJSON *node, struct kvlist *out, char err[ERR_MAX])
{
	static const struct {
		const char *param, *a, *b, *c;
	} fixed[] = {
		{ "hostname", "Description", "Hostname", NULL },
		{ "address", "Status", "Addr", NULL },
		{ "state", "Status", "State", NULL },
		{ "role", "Spec", "Role", NULL },
		{ "availability", "Spec", "Availability", NULL },
	};
	const cJSON *vi = path(node, "Version", "Index", NULL);
	const char *id = dockermap_id(node), *v;
	char num[32];
	size_t i;

	if (id == NULL || *id == '\0') {
		snprintf(err, ERR_MAX, "a node without ID");
		return -1;
	}
	/* Spec labels (docker node update --label-add) win over engine ones;
	 * the fixed keys win over both. */
	if (add_labels(path(node, "Description", "Engine", "Labels"), out) ==
	    -1 || add_labels(path(node, "Spec", "Labels", NULL), out) == -1 ||
	    kvlist_set_ci(out, "id", id) == -1)
		goto nomem;
	for (i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
		v = str(node, fixed[i].a, fixed[i].b, fixed[i].c);
		if (kvlist_set_ci(out, fixed[i].param, v ? v : "") == -1)
			goto nomem;
	}
	snprintf(num, sizeof(num), "%.0f", cJSON_IsNumber(vi) ?
	    vi->valuedouble : 0);
	if (kvlist_set_ci(out, "versionIndex", num) == -1)
		goto nomem;
	kvlist_sort(out);
	return 0;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
	kvlist_release(out);
	return -1;
}

int
dockermap_node_down(const cJSON *node)
{
	const char *s = str(node, "Status", "State", NULL);

	return s != NULL && strcmp(s, "down") == 0;
}

void
dockermap_event(const char *line, size_t len, struct dockermap_event *ev)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const char *type, *action, *id;

	memset(ev, 0, sizeof(*ev));
	if (o == NULL)
		return;
	type = str(o, "Type", NULL, NULL);
	action = str(o, "Action", NULL, NULL);
	if (type == NULL || action == NULL)
		goto out;
	snprintf(ev->action, sizeof(ev->action), "%s", action);
	if (strcmp(type, "service") == 0) {
		id = str(o, "Actor", "ID", NULL);
		ev->kind = DOCKERMAP_EV_SERVICE;
	} else if (strcmp(type, "node") == 0) {
		id = str(o, "Actor", "ID", NULL);
		ev->kind = DOCKERMAP_EV_NODE;
	} else if (strcmp(type, "container") == 0 &&
	    (strcmp(action, "start") == 0 || strcmp(action, "die") == 0)) {
		id = str(o, "Actor", "Attributes",
		    "com.docker.swarm.service.id");
		ev->kind = DOCKERMAP_EV_SERVICE;
	} else {
		goto out;
	}
	if (id == NULL || *id == '\0' || strlen(id) >= sizeof(ev->id)) {
		ev->kind = DOCKERMAP_EV_NONE;
		goto out;
	}
	memcpy(ev->id, id, strlen(id) + 1);
out:
	cJSON_Delete(o);
}
