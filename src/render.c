/* render.c: a service record to the bytes of its target file (file_sd JSON,
 * through cJSON) and its rule file (Prometheus rule YAML, through libyaml). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <yaml.h>

#include "buf.h"
#include "render.h"
#include "yamlout.h"
#include "strv.h"
#include "values.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Targets.
 */

/* host:port. An IPv6 literal is bracketed, else Prometheus cannot tell the
 * port from the address. */
static char *
render_hostport(const char *host, int port)
{
	char *s;
	int r;

	if (strchr(host, ':') != NULL && strchr(host, '[') == NULL)
		r = asprintf(&s, "[%s]:%d", host, port);
	else
		r = asprintf(&s, "%s:%d", host, port);
	return r < 0 ? NULL : s;
}

/* The labels of one group, set lowest precedence first so that a later
 * kvlist_set wins; job and the __*__ scrape settings come last because a
 * target or node label must never redirect the scrape or rename the job. */
static int
render_labels(struct kvlist *l, const struct service *svc,
    const struct task *task, render_node_labels_fn node_labels, void *ctx)
{
	const struct kvlist *nl;
	size_t i;

	if (kvlist_copy(l, &svc->target_labels) == -1)
		return -1;
	if (task != NULL && kvlist_set(l, "node", task->hostname) == -1)
		return -1;
	if (kvlist_set(l, "service", svc->name) == -1)
		return -1;
	if (task != NULL && node_labels != NULL && task->node_id != NULL &&
	    task->node_id[0] != '\0' &&
	    (nl = node_labels(ctx, task->node_id)) != NULL) {
		for (i = 0; i < nl->n; i++)
			if (kvlist_set(l, nl->v[i].key, nl->v[i].value) == -1)
				return -1;
	}
	if (kvlist_set(l, "job", svc->name) == -1)
		return -1;
	if (svc->metrics_path != NULL &&
	    kvlist_set(l, "__metrics_path__", svc->metrics_path) == -1)
		return -1;
	if (svc->scheme != NULL &&
	    kvlist_set(l, "__scheme__", svc->scheme) == -1)
		return -1;
	if (svc->scrape_interval != NULL &&
	    kvlist_set(l, "__scrape_interval__", svc->scrape_interval) == -1)
		return -1;
	if (svc->scrape_timeout != NULL &&
	    kvlist_set(l, "__scrape_timeout__", svc->scrape_timeout) == -1)
		return -1;
	/* Sorted so the same record always gives the same bytes. */
	kvlist_sort(l);
	return 0;
}

/* Appends {"targets": [...], "labels": {...}} to groups. */
static int
render_group(cJSON *groups, char *const *targets, size_t n,
    const struct kvlist *labels)
{
	cJSON *g, *arr, *obj, *s;
	size_t i;

	if ((g = cJSON_CreateObject()) == NULL)
		return -1;
	if (!cJSON_AddItemToArray(groups, g)) {
		cJSON_Delete(g);
		return -1;
	}
	/* From here on g belongs to groups, freed with it. */
	if ((arr = cJSON_AddArrayToObject(g, "targets")) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((s = cJSON_CreateString(targets[i])) == NULL)
			return -1;
		if (!cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			return -1;
		}
	}
	if ((obj = cJSON_AddObjectToObject(g, "labels")) == NULL)
		return -1;
	for (i = 0; i < labels->n; i++)
		if (cJSON_AddStringToObject(obj, labels->v[i].key,
		    labels->v[i].value) == NULL)
			return -1;
	return 0;
}

size_t
render_target_count(const struct service *svc, const char *const *addrs,
    size_t naddrs)
{
	size_t i, n = 0;

	if (svc->ntargets > 0)
		return svc->ntargets;
	if (svc->port <= 0)
		return 0;
	if (svc->static_config)
		return 1;
	if (svc->has_tasks)
		return svc->ntasks;
	for (i = 0; i < naddrs; i++)
		if (i == 0 || strcmp(addrs[i], addrs[i - 1]) != 0)
			n++;
	return n;
}

int
render_targets(const struct service *svc, const char *const *addrs,
    size_t naddrs, render_node_labels_fn node_labels, void *ctx,
    char **out, size_t *outlen, char err[ERR_MAX])
{
	struct kvlist labels = { 0 };
	cJSON *groups = NULL;
	const char **sorted = NULL;
	char **tv = NULL;
	char *json = NULL;
	size_t ntv = 0, i, len;
	int ret = -1;

	*out = NULL;
	*outlen = 0;
	if ((groups = cJSON_CreateArray()) == NULL)
		goto fail;

	if (svc->ntargets > 0) {
		if (render_labels(&labels, svc, NULL, NULL, NULL) == -1 ||
		    render_group(groups, svc->targets, svc->ntargets,
		    &labels) == -1)
			goto fail;
	} else if (svc->static_config) {
		if (svc->port > 0) {
			if ((tv = calloc(1, sizeof(*tv))) == NULL ||
			    (tv[0] = render_hostport(svc->name,
			    svc->port)) == NULL)
				goto fail;
			ntv = 1;
			if (render_labels(&labels, svc, NULL, NULL, NULL) ==
			    -1 || render_group(groups, tv, ntv, &labels) == -1)
				goto fail;
		}
	} else if (svc->has_tasks) {
		for (i = 0; svc->port > 0 && i < svc->ntasks; i++) {
			char *hp;
			int r;

			kvlist_release(&labels);
			if (render_labels(&labels, svc, &svc->tasks[i],
			    node_labels, ctx) == -1)
				goto fail;
			if ((hp = render_hostport(svc->tasks[i].address,
			    svc->port)) == NULL)
				goto fail;
			r = render_group(groups, &hp, 1, &labels);
			free(hp);
			if (r == -1)
				goto fail;
		}
	} else if (naddrs > 0 && svc->port > 0) {
		/* DNS answers come in any order; sort them, and drop repeats,
		 * so an unchanged service does not rewrite its file. */
		if ((sorted = calloc(naddrs, sizeof(*sorted))) == NULL ||
		    (tv = calloc(naddrs, sizeof(*tv))) == NULL)
			goto fail;
		memcpy(sorted, addrs, naddrs * sizeof(*sorted));
		qsort(sorted, naddrs, sizeof(*sorted), strv_cmp);
		for (i = 0; i < naddrs; i++) {
			if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
				continue;
			if ((tv[ntv] = render_hostport(sorted[i],
			    svc->port)) == NULL)
				goto fail;
			ntv++;
		}
		if (render_labels(&labels, svc, NULL, NULL, NULL) == -1 ||
		    render_group(groups, tv, ntv, &labels) == -1)
			goto fail;
	}

	if (cJSON_GetArraySize(groups) > 0) {
		if ((json = cJSON_Print(groups)) == NULL)
			goto fail;
		len = strlen(json);
		if ((*out = malloc(len + 2)) == NULL)
			goto fail;
		memcpy(*out, json, len);
		(*out)[len] = '\n';
		(*out)[len + 1] = '\0';
		*outlen = len + 1;
	}
	ret = 0;
fail:
	if (ret == -1)
		snprintf(err, ERR_MAX, "service %s: cannot render targets: "
		    "out of memory", svc->name);
	cJSON_free(json);
	for (i = 0; i < ntv; i++)
		free(tv[i]);
	free(tv);
	free(sorted);
	cJSON_Delete(groups);
	kvlist_release(&labels);
	return ret;
}

/* value quoted as Prometheus quotes a label value. */
static void
settings_quoted(struct buf *b, const char *v)
{
	buf_adds(b, "\"");
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_adds(b, "\\");
		if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_add(b, v, 1);
	}
	buf_adds(b, "\"");
}

int
render_settings(const struct service *svc, char **out, size_t *outlen,
    char err[ERR_MAX])
{
	struct kvlist labels = { 0 };
	struct buf b = BUF_INIT;
	char *hp = NULL;
	size_t i;

	if (svc->port > 0)
		buf_printf(&b, "port: %d\n", svc->port);
	else
		buf_adds(&b, "port: none\n");
	/* Where the targets come from, as render_targets() decides, without
	 * the addresses of tasks (known only once they run). */
	if (svc->ntargets > 0) {
		for (i = 0; i < svc->ntargets; i++)
			buf_printf(&b, "target %s\n", svc->targets[i]);
	} else if (svc->static_config && svc->port > 0) {
		if ((hp = render_hostport(svc->name, svc->port)) == NULL)
			b.failed = 1;
		else
			buf_printf(&b, "target %s\n", hp);
	} else if (svc->port > 0) {
		buf_printf(&b, "targets: each task, <address>:%d\n", svc->port);
	} else {
		buf_adds(&b, "targets: none\n");
	}
	if (render_labels(&labels, svc, NULL, NULL, NULL) == -1)
		b.failed = 1;
	for (i = 0; i < labels.n; i++) {
		buf_printf(&b, "label %s=", labels.v[i].key);
		settings_quoted(&b, labels.v[i].value);
		buf_adds(&b, "\n");
	}
	free(hp);
	kvlist_release(&labels);
	if ((*out = buf_detach(&b, outlen)) == NULL) {
		*outlen = 0;
		snprintf(err, ERR_MAX, "service %s: cannot render target "
		    "settings: out of memory", svc->name);
		return -1;
	}
	return 0;
}

/*
 * Rules.
 */




/* key: value with a user-supplied value. */
static int
rules_pair(yaml_emitter_t *em, const char *key, const char *value)
{
	if (yamlout_scalar(em, key, 1) == -1 || yamlout_scalar(em, value, 0) == -1)
		return -1;
	return 0;
}

/* key: {k: v, ...} as a block mapping, in l's (sorted) order; nothing when
 * l is empty, so the file carries no "labels: {}". */
static int
rules_kvlist(yaml_emitter_t *em, const char *key, const struct kvlist *l)
{
	size_t i;

	if (l->n == 0)
		return 0;
	if (yamlout_scalar(em, key, 1) == -1 || yamlout_open(em, 1) == -1)
		return -1;
	for (i = 0; i < l->n; i++)
		if (yamlout_scalar(em, l->v[i].key, 0) == -1 ||
		    yamlout_scalar(em, l->v[i].value, 0) == -1)
			return -1;
	return yamlout_close(em, 1);
}

static int
rules_alert(yaml_emitter_t *em, const struct alert *a)
{
	if (yamlout_open(em, 1) == -1 ||
	    rules_pair(em, "alert", a->name) == -1 ||
	    rules_pair(em, "expr", a->expr) == -1)
		return -1;
	if (a->for_ != NULL && rules_pair(em, "for", a->for_) == -1)
		return -1;
	if (rules_kvlist(em, "labels", &a->labels) == -1 ||
	    rules_kvlist(em, "annotations", &a->annotations) == -1)
		return -1;
	return yamlout_close(em, 1);
}

/* Names the first string of a that libyaml would refuse, or NULL. */
static const char *
rules_bad_utf8(const struct alert *a)
{
	size_t i;

	if (!values_utf8_valid(a->name))
		return "name";
	if (!values_utf8_valid(a->expr))
		return "expression";
	if (a->for_ != NULL && !values_utf8_valid(a->for_))
		return "for";
	for (i = 0; i < a->labels.n; i++)
		if (!values_utf8_valid(a->labels.v[i].key) ||
		    !values_utf8_valid(a->labels.v[i].value))
			return "labels";
	for (i = 0; i < a->annotations.n; i++)
		if (!values_utf8_valid(a->annotations.v[i].key) ||
		    !values_utf8_valid(a->annotations.v[i].value))
			return "annotations";
	return NULL;
}

int
render_rules(const struct service *svc, int persistent_only, char **out,
    size_t *outlen, char err[ERR_MAX])
{
	struct buf buf = BUF_INIT;
	yaml_emitter_t em;
	const char *bad;
	size_t i, n = 0;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < svc->nalerts; i++) {
		if (persistent_only && !svc->alerts[i].persistent)
			continue;
		if ((bad = rules_bad_utf8(&svc->alerts[i])) != NULL) {
			snprintf(err, ERR_MAX, "service %s: alert %s: %s is "
			    "not valid UTF-8", svc->name, svc->alerts[i].name,
			    bad);
			return -1;
		}
		n++;
	}
	if (n == 0)
		return 0;

	memset(&em, 0, sizeof(em));
	if (yamlout_begin(&em, &buf) == -1 || yamlout_open(&em, 1) == -1 ||
	    yamlout_scalar(&em, "groups", 1) == -1 ||
	    yamlout_open(&em, 0) == -1 ||
	    yamlout_open(&em, 1) == -1 ||
	    rules_pair(&em, "name", svc->name) == -1 ||
	    yamlout_scalar(&em, "rules", 1) == -1 ||
	    yamlout_open(&em, 0) == -1)
		goto fail;
	for (i = 0; i < svc->nalerts; i++) {
		if (persistent_only && !svc->alerts[i].persistent)
			continue;
		if (rules_alert(&em, &svc->alerts[i]) == -1)
			goto fail;
	}
	if (yamlout_close(&em, 0) == -1 || yamlout_close(&em, 1) == -1 ||
	    yamlout_close(&em, 0) == -1 || yamlout_close(&em, 1) == -1 ||
	    yamlout_end(&em) == -1 || buf.p == NULL)
		goto fail;
	yaml_emitter_delete(&em);
	*out = buf_detach(&buf, outlen);
	return *out != NULL ? 0 : -1;
fail:
	/* The emitter's own problem text, when it has one, says more than
	 * "out of memory" (an emitter error is a bug in the event order). */
	snprintf(err, ERR_MAX, "service %s: cannot render rules: %s",
	    svc->name, em.problem != NULL ? em.problem : "out of memory");
	yaml_emitter_delete(&em);
	buf_release(&buf);
	return -1;
}
