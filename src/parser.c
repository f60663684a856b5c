/* parser.c: the parser context every source shares (see parser.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parser.h"
#include "shortcuts.h"

struct parser {
	pthread_rwlock_t	 lock;		/* guards sc (ctx.shortcuts) */
	struct shortcuts	*sc;
	struct request_ctx	 ctx;
	struct request_limits	 limits;
	const struct config	*cfg;
};

struct parser *
parser_new(const struct config *cfg, struct shortcuts *sc)
{
	struct parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    pthread_rwlock_init(&p->lock, NULL) != 0) {
		free(p);
		shortcuts_free(sc);
		return NULL;
	}
	p->cfg = cfg;
	p->sc = sc;
	p->limits.max_params = cfg->max_params;
	p->limits.max_value_bytes = cfg->max_value_bytes;
	p->limits.max_targets = cfg->max_targets;
	p->limits.quota.max_alerts = cfg->max_alerts;
	p->limits.quota.max_rule_bytes = cfg->max_rule_bytes;
	p->limits.quota.max_target_bytes = cfg->max_target_bytes;
	p->ctx.shortcuts = sc;
	p->ctx.target_labels = (const char *const *)cfg->target_labels;
	p->ctx.ntarget_labels = cfg->ntarget_labels;
	p->ctx.limits = &p->limits;
	return p;
}

void
parser_set_shortcuts(struct parser *p, struct shortcuts *sc)
{
	struct shortcuts *old;

	pthread_rwlock_wrlock(&p->lock);
	old = p->sc;
	p->sc = sc;
	p->ctx.shortcuts = sc;
	pthread_rwlock_unlock(&p->lock);
	shortcuts_free(old);
}

int
parser_parse(struct parser *p, const struct kvlist *params,
    struct service *out, char err[ERR_MAX])
{
	int rc;

	pthread_rwlock_rdlock(&p->lock);
	rc = request_parse(params, &p->ctx, out, err);
	pthread_rwlock_unlock(&p->lock);
	return rc;
}

enum fm_err
parser_node(struct parser *p, const struct kvlist *params,
    struct kvlist *labels, char err[ERR_MAX])
{
	if (request_node_labels(&p->ctx, params, (const char *const *)
	    p->cfg->node_labels, p->cfg->nnode_labels, labels, err) == 0)
		return FM_OK;
	return errno == ENOMEM ? FM_FATAL : FM_REFUSED;
}

const struct request_limits *
parser_limits(const struct parser *p)
{
	return &p->limits;
}

const struct request_ctx *
parser_ctx(const struct parser *p)
{
	return &p->ctx;
}

void
parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	shortcuts_free(p->sc);
	pthread_rwlock_destroy(&p->lock);
	free(p);
}
