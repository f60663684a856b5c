/* fixture.h: one data dir with its store, a registry (with, if asked, a
 * reloader whose back end only counts) and the task DNS bookkeeping, for
 * the Check suites that drive the registry as the daemon does: registry,
 * dns, listener, swarm, quarantine. */
#ifndef FLOWMON_FIXTURE_H
#define FLOWMON_FIXTURE_H

#include <stdint.h>
#include <time.h>

#include "registry.h"
#include "reloader.h"
#include "request.h"
#include "store.h"
#include "taskdns.h"
#include "testutil.h"

struct fixture {
	char		*dir;
	struct store	 st;
	struct registry	*reg;
	struct reloader	*rl;		/* NULL unless fx_open_reloading() */
	struct taskdns	*td;
	int		 with_reloader;
	int		 reloads;	/* atomic: counted by the back end */
};

static inline enum fm_err
fx_count_reload(void *arg, char err[ERR_MAX])
{
	struct fixture *fx = arg;

	(void)err;
	__atomic_add_fetch(&fx->reloads, 1, __ATOMIC_SEQ_CST);
	return FM_OK;
}

/* Opens store, reloader (with_reloader), registry and task DNS over
 * fx->dir; nothing is loaded (fx_load()). */
static inline void
fx_start(struct fixture *fx)
{
	static const struct reload_backend counting = {
		"counting", fx_count_reload, NULL, NULL
	};
	char err[ERR_MAX] = "";

	ck_assert_msg(store_open(&fx->st, fx->dir, err) == 0, "store: %s",
	    err);
	if (fx->with_reloader) {
		fx->rl = reloader_new(&counting, fx, 20, 0, NULL, err);
		ck_assert_msg(fx->rl != NULL, "reloader: %s", err);
	}
	ck_assert_ptr_nonnull(fx->reg = registry_new(&fx->st, fx->rl));
	ck_assert_ptr_nonnull(fx->td = taskdns_new(fx->reg));
}

/* A fresh data dir, without a reloader. */
static inline void
fx_open(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = tu_tmpdir();
	fx_start(fx);
}

/* A fresh data dir, with the counting reloader (20 ms quiet time). */
static inline void
fx_open_reloading(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = tu_tmpdir();
	fx->with_reloader = 1;
	fx_start(fx);
}

/* Rebuilds the index from the data dir; must succeed. */
static inline void
fx_load(struct fixture *fx)
{
	static const struct request_ctx no_ctx = { NULL, NULL, 0 };
	char err[ERR_MAX] = "";

	ck_assert_msg(registry_load(fx->reg, &no_ctx, err) == 0, "%s", err);
}

/* Frees everything but the data dir, which fx_start() opens again (a
 * restart). */
static inline void
fx_close(struct fixture *fx)
{
	taskdns_free(fx->td);
	registry_free(fx->reg);
	reloader_free(fx->rl);
	store_release(&fx->st);
	fx->td = NULL;
	fx->reg = NULL;
	fx->rl = NULL;
}

static inline void
fx_done(struct fixture *fx)
{
	fx_close(fx);
	tu_rmrf(fx->dir);
	free(fx->dir);
}

/* <dir>/<kind>/<name><ext>, malloc'd. */
static inline char *
fx_path(const struct fixture *fx, const char *kind, const char *name,
    const char *ext)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s%s", fx->dir, kind, name, ext) < 0)
		abort();
	return p;
}

/* Parses a form body into a service and upserts it: rc of the upsert. */
static inline int
fx_try_upsert(struct fixture *fx, const char *body,
    struct registry_result *res, char err[ERR_MAX])
{
	static const struct request_ctx no_ctx = { NULL, NULL, 0 };
	struct kvlist params = { 0 };
	struct service *svc = calloc(1, sizeof(*svc));

	ck_assert_ptr_nonnull(svc);
	ck_assert_msg(request_decode_form(body, strlen(body), &params, err) ==
	    0, "%s: %s", body, err);
	ck_assert_msg(request_parse(&params, &no_ctx, svc, err) == 0, "%s: %s",
	    body, err);
	kvlist_release(&params);
	memset(res, 0xa5, sizeof(*res));
	return registry_upsert(fx->reg, svc, res, err);
}

/* The same, and it must succeed. */
static inline struct registry_result
fx_upsert(struct fixture *fx, const char *body)
{
	struct registry_result res;
	char err[ERR_MAX] = "";

	ck_assert_msg(fx_try_upsert(fx, body, &res, err) == 0,
	    "upsert %s: %s", body, err);
	ck_assert_int_eq(res.fail, FM_OK);
	return res;
}

/* Removes a service; must succeed. */
static inline struct registry_result
fx_remove(struct fixture *fx, const char *name)
{
	struct registry_result res;
	char err[ERR_MAX] = "";

	memset(&res, 0xa5, sizeof(res));
	ck_assert_msg(registry_remove(fx->reg, name, &res, err) == 0,
	    "remove %s: %s", name, err);
	return res;
}

static inline int64_t
fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
