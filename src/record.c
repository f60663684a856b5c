/* record.c: encoding and decoding of the records kept under state/ and
 * nodes/. The record is the source of truth: target and rule files are
 * rendered from it, so it holds the request's canonical parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "record.h"

static char *
print_nl(cJSON *root, size_t *len)
{
	char *s = cJSON_Print(root), *t;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((t = realloc(s, n + 2)) == NULL) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return t;
}

static cJSON *
kv_object(const struct kvlist *l)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		if (cJSON_AddStringToObject(o, l->v[i].key,
		    l->v[i].value) == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* Parses buf[0..len) as one JSON value followed by nothing but white
 * space: a record with bytes after it was not written by flowmon. */
static cJSON *
parse_exact(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if ((root = cJSON_ParseWithLengthOpts(buf, len, &end, 0)) == NULL)
		return NULL;
	for (; end < buf + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' &&
		    *end != '\r') {
			cJSON_Delete(root);
			return NULL;
		}
	}
	return root;
}

/* Every member of obj must be a string; copies them into l. */
static int
kv_from_object(const cJSON *obj, struct kvlist *l, const char *what,
    char err[ERR_MAX])
{
	const cJSON *it;

	if (!cJSON_IsObject(obj)) {
		snprintf(err, ERR_MAX, "%s is not an object", what);
		return -1;
	}
	cJSON_ArrayForEach(it, obj) {
		if (!cJSON_IsString(it) || it->string == NULL) {
			snprintf(err, ERR_MAX, "%s holds a non-string value",
			    what);
			return -1;
		}
		if (kvlist_set(l, it->string, it->valuestring) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
	}
	kvlist_sort(l);
	return 0;
}

char *
record_encode(const struct service *svc, int removed, size_t *len)
{
	cJSON *root, *params;
	char *s = NULL;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "service", svc->name) == NULL ||
	    cJSON_AddBoolToObject(root, "removed", removed) == NULL ||
	    (service_source_name(svc->source) != NULL &&
	    cJSON_AddStringToObject(root, "source",
	    service_source_name(svc->source)) == NULL) ||
	    (params = kv_object(&svc->params)) == NULL)
		goto out;
	cJSON_AddItemToObject(root, "params", params);
	s = print_nl(root, len);
out:
	cJSON_Delete(root);
	return s;
}

int
record_decode(const char *buf, size_t len, struct kvlist *params,
    int *removed, enum service_source *source, char err[ERR_MAX])
{
	cJSON *root;
	const cJSON *rm, *src;
	int rc = -1;

	if ((root = parse_exact(buf, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(err, ERR_MAX, "not a JSON object");
		goto out;
	}
	rm = cJSON_GetObjectItemCaseSensitive(root, "removed");
	if (rm != NULL && !cJSON_IsBool(rm)) {
		snprintf(err, ERR_MAX, "removed is not a boolean");
		goto out;
	}
	*removed = cJSON_IsTrue(rm);
	/* Older records name no source; an unknown word counts as none. */
	src = cJSON_GetObjectItemCaseSensitive(root, "source");
	if (source != NULL)
		*source = service_source_parse(cJSON_IsString(src) ?
		    src->valuestring : NULL);
	if (kv_from_object(cJSON_GetObjectItemCaseSensitive(root, "params"),
	    params, "params", err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		kvlist_release(params);
	cJSON_Delete(root);
	return rc;
}

char *
record_node_encode(const char *id, const struct kvlist *labels, size_t *len)
{
	cJSON *root, *l;
	char *s = NULL;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(root, "id", id) == NULL ||
	    (l = kv_object(labels)) == NULL)
		goto out;
	cJSON_AddItemToObject(root, "labels", l);
	s = print_nl(root, len);
out:
	cJSON_Delete(root);
	return s;
}

int
record_node_decode(const char *buf, size_t len, char **id,
    struct kvlist *labels, char err[ERR_MAX])
{
	cJSON *root;
	const cJSON *jid;
	int rc = -1;

	*id = NULL;
	if ((root = parse_exact(buf, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(err, ERR_MAX, "not a JSON object");
		goto out;
	}
	jid = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!cJSON_IsString(jid) || !service_name_valid(jid->valuestring)) {
		snprintf(err, ERR_MAX, "id is missing or not a node id");
		goto out;
	}
	if (kv_from_object(cJSON_GetObjectItemCaseSensitive(root, "labels"),
	    labels, "labels", err) == -1)
		goto out;
	if ((*id = strdup(jid->valuestring)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		kvlist_release(labels);
	cJSON_Delete(root);
	return rc;
}
