/* ui.h: the status page, for people: GET / (every service, problems
 * first, with a filter and pages) and GET /ui/services/<name> (one
 * service: everything explain says, its rule file and its target
 * groups). Server-rendered HTML with one small embedded stylesheet: no
 * script, no external asset, readable on a phone; every value escaped
 * (html.h). Pure: facts in (explain.h), bytes out. */
#ifndef FLOWMON_UI_H
#define FLOWMON_UI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "explain.h"
#include "service.h"

/* Services per page of the overview. */
#define UI_PAGE_SIZE	100
/* Problems listed by name at the top (the table shows every one). */
#define UI_PROBLEMS_MAX	30
/* The Content-Security-Policy of every page: nothing but the inline
 * stylesheet may load, no script runs, forms go back to flowmon. */
#define UI_CSP	"default-src 'none'; style-src 'unsafe-inline'; " \
		"img-src 'none'; form-action 'self'; base-uri 'none'; " \
		"frame-ancestors 'none'"

/* Which services the overview lists (the state parameter). */
enum ui_filter {
	UI_ALL,		/* all */
	UI_PROBLEMS,	/* problems: any problem at all */
	UI_DOWN,	/* down: a target down */
	UI_ACTIVE,	/* active, invalid, rejected: the service's state */
	UI_INVALID,
	UI_REJECTED,
	UI_PENDING,	/* pending, loaded, none: the rule file's state */
	UI_LOADED,
	UI_NONE,
	UI_NFILTERS
};

struct ui_query {
	char		 name[SERVICE_NAME_MAX + 1];	/* q: part of the
							   name, any case */
	enum ui_filter	 state;
	size_t		 page;				/* from 1 */
};

/* The overview's query from its parameters q, state and page (others are
 * ignored). 0, or -1 with err naming the parameter and what it takes. */
int	 ui_query_parse(const struct kvlist *params, struct ui_query *q,
	    char err[ERR_MAX]);

/* The overview page for q into b. */
void	 ui_overview(struct buf *b, const struct explain_overview *ov,
	    const struct ui_query *q);
/* The page of one service (x from explain_one() with detail). */
void	 ui_service(struct buf *b, const struct explain *x, int64_t now_ms);
/* A page that says code and msg (an unknown service, a bad parameter). */
void	 ui_error(struct buf *b, int code, const char *msg);

#endif
