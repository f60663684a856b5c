/* replies.c: the JSON bodies of the HTTP front's answers in DFM's exact
 * shapes (dfm-compat.md, section 5), built from records: pure, no IO, no
 * libmicrohttpd. The HTTP front chooses the status code; these only write
 * it where DFM puts it. */
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "registry.h"
#include "replies.h"

/* DFM's envelope: {"Status": code, "Message": msg}, Status being the HTTP
 * status code as a number (dfm-compat.md, section 5). */
cJSON *
status_json(int code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "Status", code);
	cJSON_AddStringToObject(o, "Message", msg);
	return o;
}

/* One alert of svc as DFM lists it in Alerts, keys in DFM's order:
 * alertAnnotations (when any), alertFor (when set), alertIf (the
 * expression as written to the rule file: a shortcut expanded, as DFM
 * expands it before answering), alertLabels (when any, the final ones),
 * alertName (the parameter as given), alertPersistent (boolean),
 * AlertNameFormatted, serviceName, replicas (a number). */
static cJSON *
dfm_alert_json(const struct service *svc, const struct alert *a)
{
	cJSON *o = cJSON_CreateObject(), *m;
	const char *name, *reps = kvlist_get(&svc->params, "replicas");
	char key[32];
	size_t k;

	if (o == NULL)
		return NULL;
	if (a->annotations.n > 0) {
		m = cJSON_AddObjectToObject(o, "alertAnnotations");
		for (k = 0; m != NULL && k < a->annotations.n; k++)
			cJSON_AddStringToObject(m, a->annotations.v[k].key,
			    a->annotations.v[k].value);
	}
	if (a->for_ != NULL)
		cJSON_AddStringToObject(o, "alertFor", a->for_);
	cJSON_AddStringToObject(o, "alertIf", a->expr);
	if (a->labels.n > 0) {
		m = cJSON_AddObjectToObject(o, "alertLabels");
		for (k = 0; m != NULL && k < a->labels.n; k++)
			cJSON_AddStringToObject(m, a->labels.v[k].key,
			    a->labels.v[k].value);
	}
	if (a->index > 0)
		snprintf(key, sizeof(key), "alertName.%d", a->index);
	else
		snprintf(key, sizeof(key), "alertName");
	name = kvlist_get(&svc->params, key);
	cJSON_AddStringToObject(o, "alertName", name ? name : "");
	cJSON_AddBoolToObject(o, "alertPersistent", a->persistent);
	cJSON_AddStringToObject(o, "AlertNameFormatted", a->name);
	cJSON_AddStringToObject(o, "serviceName", svc->name);
	cJSON_AddNumberToObject(o, "replicas", reps ? strtod(reps, NULL) : 0);
	return o;
}

/* The reconfigure and remove answer: the envelope, Alerts (always an
 * array; for a remove only the alerts that went, persistent ones stay),
 * then the service's scrape fields promoted to the top level, in DFM's
 * order and types (scrapePort a string; scrapeType and serviceName always
 * there; scrapeLabels and nodeInfo with the tasks of nodeInfo). svc NULL:
 * no service (a refusal, an unknown name). flowmon's own fields follow. */
cJSON *
dfm_service_json(int code, const char *msg, const struct service *svc,
    const char *name, int removed)
{
	cJSON *o = status_json(code, msg), *arr, *m;
	const char *type;
	char port[16];
	size_t i, k;

	if (o == NULL || (arr = cJSON_AddArrayToObject(o, "Alerts")) == NULL)
		goto fail;
	if (svc == NULL) {
		cJSON_AddStringToObject(o, "scrapeType", "");
		cJSON_AddStringToObject(o, "serviceName", name ? name : "");
		return o;
	}
	for (i = 0; i < svc->nalerts; i++) {
		cJSON *a;

		if (removed && svc->alerts[i].persistent)
			continue;
		if ((a = dfm_alert_json(svc, &svc->alerts[i])) == NULL ||
		    !cJSON_AddItemToArray(arr, a)) {
			cJSON_Delete(a);
			goto fail;
		}
	}
	if (svc->metrics_path != NULL)
		cJSON_AddStringToObject(o, "metricsPath", svc->metrics_path);
	if (svc->scrape_interval != NULL)
		cJSON_AddStringToObject(o, "scrapeInterval",
		    svc->scrape_interval);
	if (svc->ntasks > 0) {
		m = cJSON_AddObjectToObject(o, "scrapeLabels");
		for (k = 0; m != NULL && k < svc->target_labels.n; k++)
			cJSON_AddStringToObject(m, svc->target_labels.v[k].key,
			    svc->target_labels.v[k].value);
	}
	if (svc->port > 0) {
		snprintf(port, sizeof(port), "%d", svc->port);
		cJSON_AddStringToObject(o, "scrapePort", port);
	}
	if (svc->scrape_timeout != NULL)
		cJSON_AddStringToObject(o, "scrapeTimeout", svc->scrape_timeout);
	type = kvlist_get(&svc->params, "scrapeType");
	cJSON_AddStringToObject(o, "scrapeType", type ? type : "");
	cJSON_AddStringToObject(o, "serviceName", svc->name);
	if (svc->ntasks > 0) {
		m = cJSON_AddArrayToObject(o, "nodeInfo");
		for (i = 0; m != NULL && i < svc->ntasks; i++) {
			const char *t[3] = { svc->tasks[i].hostname,
			    svc->tasks[i].address, svc->tasks[i].node_id };

			cJSON_AddItemToArray(m, cJSON_CreateStringArray(t, 3));
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* The node endpoints' answer: {"Status", "NodeID", "Message",
 * "NodeLabel"}, NodeLabel always an object. */
cJSON *
dfm_node_json(int code, const char *msg, const char *id,
    const struct kvlist *labels)
{
	cJSON *o = cJSON_CreateObject(), *m;
	size_t k;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "Status", code);
	cJSON_AddStringToObject(o, "NodeID", id ? id : "");
	cJSON_AddStringToObject(o, "Message", msg);
	m = cJSON_AddObjectToObject(o, "NodeLabel");
	for (k = 0; m != NULL && labels != NULL && k < labels->n; k++)
		cJSON_AddStringToObject(m, labels->v[k].key,
		    labels->v[k].value);
	return o;
}

/* flowmon's own fields, after DFM's: what the request did. */
void
result_json(cJSON *o, const char *result, const struct registry_result *res)
{
	cJSON *w;

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "result", result);
	w = cJSON_AddObjectToObject(o, "written");
	cJSON_AddBoolToObject(w, "state", res->wrote_state);
	cJSON_AddBoolToObject(w, "targets", res->wrote_targets);
	cJSON_AddBoolToObject(w, "rules", res->wrote_rules);
}
