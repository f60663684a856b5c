/* views.c: the API's JSON views, built from registry_view snapshots taken
 * under each service's lock (so a view never mixes two requests), plus the
 * task DNS state (taskdns.h) and the reloader's stats. Parameters and
 * alerts are shown as everything flowmon shows: no URL's user name or
 * password (url.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "registry.h"
#include "reloader.h"
#include "store.h"
#include "taskdns.h"
#include "url.h"
#include "views.h"

struct view_list;

struct view_ctx {
	struct taskdns	*td;
	struct reloader	*rl;
	int		 detail;
	cJSON		*out;		/* the one service (detail) */
	struct view_list *list;		/* every service */
	/* The list prints each service under its lock, before the view's
	 * strings can change: its tree borrows them instead of copying
	 * (/services at 10,000 services made 150,000 copies). */
	int		 borrow;
};

/* A string of the view (or a literal): borrowed when printed at once. */
static cJSON *
view_string(const struct view_ctx *vc, const char *s)
{
	if (s == NULL)
		return cJSON_CreateNull();
	return vc->borrow ? cJSON_CreateStringReference(s) :
	    cJSON_CreateString(s);
}

/* o[key] = s (NULL: null); key a literal or the view's, s the view's.
 * Shown as everything flowmon shows: no URL's user name or password
 * (url.h; a string holding a URL is redacted into a copy). */
static void
add_view_string(const struct view_ctx *vc, cJSON *o, const char *key,
    const char *s)
{
	cJSON *it;
	char *shown;

	if (s != NULL && url_text_may_hide(s, strlen(s))) {
		if ((shown = url_redact_dup(s)) == NULL)
			return;
		it = cJSON_CreateString(shown);
		free(shown);
	} else
		it = view_string(vc, s);
	if (vc->borrow ? !cJSON_AddItemToObjectCS(o, key, it) :
	    !cJSON_AddItemToObject(o, key, it))
		cJSON_Delete(it);
}

static cJSON *
kv_json(const struct view_ctx *vc, const struct kvlist *l)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && i < l->n; i++)
		add_view_string(vc, o, l->v[i].key, l->v[i].value);
	return o;
}

/* The task DNS state of a service: what was asked, the set in use (kept
 * while the name does not resolve) and the last error. Copied: taskdns's
 * answer is released here. */
static void
dns_json(cJSON *o, struct taskdns *td, const struct registry_view *v)
{
	struct taskdns_info info;
	cJSON *d = cJSON_AddObjectToObject(o, "dns"), *a;
	size_t i;

	if (d == NULL)
		return;
	memset(&info, 0, sizeof(info));
	if (td != NULL)
		taskdns_info(td, v->name, v->dns_epoch, &info);
	if (info.qname != NULL)
		cJSON_AddStringToObject(d, "name", info.qname);
	else
		cJSON_AddNullToObject(d, "name");
	a = cJSON_AddArrayToObject(d, "addresses");
	for (i = 0; a && i < v->naddrs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->addrs[i]));
	if (info.error != NULL)
		cJSON_AddStringToObject(d, "error", info.error);
	else
		cJSON_AddNullToObject(d, "error");
	cJSON_AddNumberToObject(d, "lastLookup", (double)info.time);
	cJSON_AddNumberToObject(d, "lookups", (double)info.lookups);
	taskdns_info_release(&info);
}

static cJSON *
alerts_json(const struct view_ctx *vc, const struct registry_view *v)
{
	cJSON *alerts = cJSON_CreateArray();
	size_t i;

	for (i = 0; alerts && i < v->svc->nalerts; i++) {
		const struct alert *a = &v->svc->alerts[i];
		cJSON *ja;

		if (v->removed && !a->persistent)
			continue;
		if ((ja = cJSON_CreateObject()) == NULL)
			break;
		add_view_string(vc, ja, "alert", a->name);
		add_view_string(vc, ja, "expr", a->expr);
		if (a->for_)
			add_view_string(vc, ja, "for", a->for_);
		cJSON_AddItemToObject(ja, "labels", kv_json(vc, &a->labels));
		cJSON_AddItemToObject(ja, "annotations",
		    kv_json(vc, &a->annotations));
		cJSON_AddBoolToObject(ja, "persistent", a->persistent);
		cJSON_AddItemToArray(alerts, ja);
	}
	return alerts;
}

static void
reload_json(const struct view_ctx *vc, cJSON *o, struct reloader *rl)
{
	struct reloader_stats rs;
	cJSON *jr = cJSON_AddObjectToObject(o, "reload");

	if (jr == NULL)
		return;
	reloader_stats(rl, &rs);
	cJSON_AddBoolToObject(jr, "lastSuccess", rs.last_success);
	cJSON_AddNumberToObject(jr, "lastTime", (double)rs.last_time);
	cJSON_AddBoolToObject(jr, "pending", rs.pending);
	add_view_string(vc, jr, "lastError", rs.last_error);
}

/* "rules": {"state": none|pending|loaded|rejected, "reason" when
 * rejected}: the rule lifecycle's word (lifecycle.h). */
static void
rules_json(const struct view_ctx *vc, cJSON *o, const struct registry_view *v)
{
	cJSON *jr = cJSON_AddObjectToObject(o, "rules");

	if (jr == NULL)
		return;
	add_view_string(vc, jr, "state", rule_state_name(v->rule_state));
	if (v->rule_reason != NULL)
		add_view_string(vc, jr, "reason", v->rule_reason);
}

/* files[key] = the path of name's file of kind if has, else null (a
 * path is made here: always copied). */
static void
add_path(cJSON *files, const char *key, struct store *st,
    enum store_kind kind, const char *name, int has)
{
	char path[4096];

	if (!has) {
		cJSON_AddNullToObject(files, key);
		return;
	}
	store_path(st, kind, name, path, sizeof(path));
	cJSON_AddStringToObject(files, key, path);
}

static cJSON *
service_json(struct registry *r, const struct view_ctx *vc,
    const struct registry_view *v)
{
	struct store *st = registry_store(r);
	cJSON *o = cJSON_CreateObject(), *files;

	if (o == NULL)
		return NULL;
	add_view_string(vc, o, "serviceName", v->name);
	if (v->svc == NULL) {
		add_view_string(vc, o, "status", "invalid");
		add_view_string(vc, o, "error", v->invalid);
		return o;
	}
	add_view_string(vc, o, "status", v->rule_reason != NULL ?
	    "rejected" : v->removed ? "removed" : "active");
	if (v->rule_reason != NULL)
		add_view_string(vc, o, "rejected", v->rule_reason);
	rules_json(vc, o, v);
	cJSON_AddItemToObject(o, "params", kv_json(vc, &v->svc->params));
	cJSON_AddItemToObject(o, "alerts", alerts_json(vc, v));
	files = cJSON_AddObjectToObject(o, "files");
	add_path(files, "targets", st, STORE_TARGETS, v->name,
	    v->has_targets);
	add_path(files, "rules", st, STORE_RULES, v->name, v->has_rules);
	if (v->dns_epoch != 0)
		dns_json(o, vc->td, v);
	if (vc->detail) {
		add_path(files, "state", st, STORE_STATE, v->name, 1);
		if (vc->rl != NULL)
			reload_json(vc, o, vc->rl);
	}
	return o;
}

/*
 * The lists (every service, every target group) are printed item by item
 * into one text, never built as one tree: at 10,000 services the tree of
 * /services was 18 MB of small blocks, whose freed memory the thread's
 * malloc arena kept, where the text is 2.3 MB, given back when sent.
 */
struct view_list {
	struct buf	 text;		/* "[" and the items so far */
	size_t		 n;
};

/* Appends item (taken over, NULL: out of memory) to l, printed straight
 * into the text's room. 0, or 1 to stop. */
static int
list_add(struct view_list *l, cJSON *item)
{
	size_t room = 1024;
	int ok = 0;

	buf_adds(&l->text, l->n++ > 0 ? "," : "[");
	while (item != NULL && !l->text.failed && room <= (size_t)INT_MAX) {
		if (buf_reserve(&l->text, room) == -1)
			break;
		if ((ok = cJSON_PrintPreallocated(item, l->text.p +
		    l->text.len, (int)room, 0)) != 0)
			break;
		room *= 4;
	}
	cJSON_Delete(item);
	if (!ok)
		return 1;
	l->text.len += strlen(l->text.p + l->text.len);
	return l->text.failed;
}

/* The list's text (malloc'd), or NULL on ENOMEM; l is empty after. */
static char *
list_end(struct view_list *l)
{
	buf_adds(&l->text, l->n > 0 ? "]" : "[]");
	return buf_detach(&l->text, NULL);
}

static int
add_service(void *arg, struct registry *r, const struct registry_view *v)
{
	struct view_ctx *vc = arg;

	if (vc->detail) {
		vc->out = service_json(r, vc, v);
		return 0;
	}
	return list_add(vc->list, service_json(r, vc, v));
}

char *
views_services(struct registry *r, struct taskdns *td)
{
	struct view_list l = { BUF_INIT, 0 };
	struct view_ctx vc = { td, NULL, 0, NULL, &l, 1 };

	if (registry_view_all(r, add_service, &vc) != 0) {
		buf_release(&l.text);
		return NULL;
	}
	return list_end(&l);
}

cJSON *
views_service(struct registry *r, struct taskdns *td, struct reloader *rl,
    const char *name)
{
	struct view_ctx vc = { td, rl, 1, NULL, NULL, 0 };

	if (registry_view_one(r, name, add_service, &vc) == 0)
		return NULL;
	return vc.out;
}

/* Appends the target groups of one active service; 1 stops on failure. */
static int
add_groups(void *arg, struct registry *r, const struct registry_view *v)
{
	struct view_list *l = arg;
	cJSON *groups, *g;
	char err[ERR_MAX], *buf = NULL;
	size_t len;

	if (v->svc == NULL || v->removed)
		return 0;
	if (registry_view_targets(r, v, &buf, &len, err) == -1)
		return 1;
	if (buf == NULL)
		return 0;	/* no target: no file, no group */
	groups = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (groups == NULL)
		return 1;
	while ((g = cJSON_DetachItemFromArray(groups, 0)) != NULL)
		if (list_add(l, g) != 0)
			break;
	cJSON_Delete(groups);
	return l->text.failed;
}

char *
views_sd(struct registry *r)
{
	struct view_list l = { BUF_INIT, 0 };

	if (registry_view_all(r, add_groups, &l) != 0) {
		buf_release(&l.text);
		return NULL;
	}
	return list_end(&l);
}
