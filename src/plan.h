/* plan.h: `flowmon plan`, what a stack file would do to monitoring before
 * it is deployed: the stack files read as docker stack deploy reads them
 * (compose.h), each service announced as swarm-listener would announce it
 * (dockermap.h), parsed, rendered and judged as a reconfigure is
 * (request.h, render.h, verdict.h), then compared with what
 * runs: a data dir, read only, or a running flowmon, through its API
 * (plan_live.c). It writes nothing, anywhere. */
#ifndef FLOWMON_PLAN_H
#define FLOWMON_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "service.h"

struct request_ctx;

/* One service that runs now (in the data dir or the running flowmon). */
struct plan_live {
	char		*name;
	struct service	*svc;		/* its record parsed; NULL: invalid */
	char		*invalid;	/* why the record does not load */
	char		*rules;		/* the rule file in force, NULL: none */
	size_t		 rlen;
	char		*settings;	/* render_settings() of the record, NULL:
					   unknown (the record does not load) */
	size_t		 slen;
	int		 rejected;	/* Prometheus refused the version
					   the record renders to: it is kept
					   out (rule state rejected) */
	uint64_t	 h_rejected;	/* hash_content() of it */
	char		*why_rejected;	/* its reason, when known */
};

struct plan_lives {
	struct plan_live *v;		/* sorted by name */
	size_t		  n;
	size_t		  cap;		/* v's room */
};

/* Which live services the plan needs: want(ctx, base) is 1 for a file
 * base name (store_base()) or service name it must look at. */
typedef int (*plan_want_fn)(void *ctx, const char *base);

/* The services of the data dir dir (records in state/ not removed) that
 * want selects, with their rule files from rules/ and their rule state
 * (rule_load(), the lifecycle's own reading of rejected/). Opens the
 * data dir read only (store_open_ro): no lock, no write, nothing created.
 * Records are parsed with rctx. 0, or -1 with err when dir cannot be
 * read. */
int	 plan_live_dir(const char *dir, const struct request_ctx *rctx,
	    plan_want_fn want, void *ctx, struct plan_lives *out,
	    char err[ERR_MAX]);

/* The same from the flowmon answering at url, through GET
 * <url>/v1/docker-flow-monitor/services (with the credentials of
 * auth_file, as for --reload-auth-file, when not NULL): the rule file of
 * each service rendered from the alerts it answers, the target settings
 * from its parameters. 0, or -1 with err (no answer, not 200, not the
 * services JSON). */
int	 plan_live_api(const char *url, const char *auth_file,
	    const struct request_ctx *rctx, plan_want_fn want, void *ctx,
	    struct plan_lives *out, char err[ERR_MAX]);

void	 plan_lives_release(struct plan_lives *l);

/* `flowmon plan [options] STACKFILE...`: argv[0] is "plan". Returns the
 * exit status: 0 nothing would change, 1 something would change, 2
 * something would be refused, or a file or the live state cannot be
 * read. */
int	 plan_main(int argc, char **argv);

#endif
