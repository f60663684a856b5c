/* regfix.h: a registry over a fresh temp data dir, without a reloader, for
 * the Check suites that drive the registry as the daemon does. */
#ifndef FLOWMON_REGFIX_H
#define FLOWMON_REGFIX_H

#include "registry.h"
#include "store.h"
#include "testutil.h"

struct fixture {
	char		*dir;
	struct store	 st;
	struct registry	*reg;
};

static inline void
fx_open(struct fixture *fx)
{
	char err[ERR_MAX] = "";

	memset(fx, 0, sizeof(*fx));
	fx->dir = tu_tmpdir();
	ck_assert_msg(store_open(&fx->st, fx->dir, err) == 0, "%s", err);
	ck_assert_ptr_nonnull(fx->reg = registry_new(&fx->st, NULL));
}

static inline void
fx_done(struct fixture *fx)
{
	registry_free(fx->reg);
	store_release(&fx->st);
	tu_rmrf(fx->dir);
	free(fx->dir);
}

#endif
