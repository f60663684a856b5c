/* fixture.h: what the Check suites share beyond testutil.h:
 * - one data dir with its store, a registry (with, if asked, a reloader
 *   whose back end only counts) and the task DNS bookkeeping, for the
 *   suites that drive the registry as the daemon does (fx_*);
 * - the clock: waiting for a condition with a deadline (FX_WAIT);
 * - one fake HTTP server on 127.0.0.1 or a unix socket, whose handler
 *   answers each request as the test wants (fh_*). */
#ifndef FLOWMON_FIXTURE_H
#define FLOWMON_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "lifecycle.h"
#include "parser.h"
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
	struct parser	*parser;	/* no labels, no limits, no shortcuts */
	int		 with_reloader;
	/* A back end of the test's for the reloader, set before fx_start():
	 * then its quiet time is never reached, so only the test reloads,
	 * unless backend_delay_ms sets one (the reloader's own attempts,
	 * with its hooks, then follow each trigger). */
	const struct reload_backend *backend;
	void		*backend_arg;
	long		 backend_delay_ms;
	int		 reloads;	/* atomic: counted by the back end */
};

/* A configuration of nothing: what fx->parser is made from. */
static const struct config fx_config;

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
	if (fx->backend != NULL) {
		fx->rl = reloader_new(fx->backend, fx->backend_arg,
		    fx->backend_delay_ms > 0 ? fx->backend_delay_ms : 3600000L,
		    0, NULL, err);
		ck_assert_msg(fx->rl != NULL, "reloader: %s", err);
	} else if (fx->with_reloader) {
		fx->rl = reloader_new(&counting, fx, 20, 0, NULL, err);
		ck_assert_msg(fx->rl != NULL, "reloader: %s", err);
	}
	ck_assert_ptr_nonnull(fx->reg = registry_new(&fx->st, fx->rl));
	ck_assert_ptr_nonnull(fx->td = taskdns_new(fx->reg));
	ck_assert_ptr_nonnull(fx->parser = parser_new(&fx_config, NULL));
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
	static const struct request_ctx no_ctx = { 0 };
	char err[ERR_MAX] = "";

	ck_assert_msg(registry_load(fx->reg, &no_ctx, err) == 0, "%s", err);
}

/* Frees everything but the data dir, which fx_start() opens again (a
 * restart). */
static inline void
fx_close(struct fixture *fx)
{
	/* The reloader first: its thread may be in a hook that reads the
	 * registry (as in the daemon). */
	reloader_free(fx->rl);
	parser_free(fx->parser);
	taskdns_free(fx->td);
	registry_free(fx->reg);
	store_release(&fx->st);
	fx->td = NULL;
	fx->parser = NULL;
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
	static const struct request_ctx no_ctx = { 0 };
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

static inline int
fx_loaded_one(void *mark, const struct registry_rule *x)
{
	int linked = 0;

	rule_reload_succeeded(x->rf, x->st, x->name, *(uint64_t *)mark,
	    &linked);
	return 0;
}

/* A reload succeeded now, as the lifecycle books one: every rule file
 * written so far is what Prometheus runs (loaded). */
static inline void
fx_reload_succeeded(struct fixture *fx)
{
	uint64_t mark = registry_rules_mark(fx->reg);

	ck_assert_int_eq(registry_rules_each(fx->reg, 0, fx_loaded_one,
	    &mark), 0);
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

/*
 * The clock: clock_ms() (clock.h), and a poll of a condition until a
 * deadline, never a fixed sleep.
 */

/* Polls cond every 5 ms until it holds; fails the test with the message
 * when ms pass first. */
#define FX_WAIT(cond, ms, ...) do {					\
	int64_t fx_deadline_ = clock_ms() + (ms);			\
									\
	while (!(cond)) {						\
		ck_assert_msg(clock_ms() < fx_deadline_, __VA_ARGS__);	\
		usleep(5000);						\
	}								\
} while (0)

/*
 * The fake HTTP server: one thread, one connection at a time. Each
 * request (its head, and a body of Content-Length bytes) goes to the
 * test's handler with the connection; the handler writes what it wants:
 * an answer (fh_reply), raw bytes (fh_write), or nothing at all. The
 * connection is closed after the handler returns.
 */

struct fh_request {
	char	 method[16];
	char	 path[1024];
	char	 head[4096];	/* the request line and the headers */
	char	*body;		/* NUL-terminated, body_len bytes */
	size_t	 body_len;
};

typedef void (*fh_fn)(void *arg, int fd, const struct fh_request *rq);

struct fakehttp {
	int		 fd;		/* listening */
	int		 port;		/* TCP: the port it listens on */
	char		 url[64];	/* TCP: http://127.0.0.1:<port> */
	fh_fn		 fn;
	void		*arg;
	int		 served;	/* atomic: requests handled */
	char		 last[1024];	/* the last request line */
	pthread_t	 thread;
};

/* Writes all of s (n bytes); a client that went is no error. */
static inline void
fh_write(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* A whole answer: status, Content-Type (NULL: text/plain), the body,
 * Connection: close. */
static inline void
fh_reply(int fd, int status, const char *type, const char *body)
{
	char head[256];

	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    type != NULL ? type : "text/plain", strlen(body));
	fh_write(fd, head, strlen(head));
	fh_write(fd, body, strlen(body));
}

/* Reads one request from c into rq (body malloc'd). 0, or -1 when the
 * client sent none. */
static inline int
fh_read(int c, struct fh_request *rq)
{
	size_t len = 0, want = 0, have;
	const char *cl, *end = NULL;
	ssize_t r;

	memset(rq, 0, sizeof(*rq));
	while (end == NULL && len < sizeof(rq->head) - 1) {
		if ((r = read(c, rq->head + len, sizeof(rq->head) - 1 -
		    len)) <= 0)
			return -1;
		len += (size_t)r;
		rq->head[len] = '\0';
		end = strstr(rq->head, "\r\n\r\n");
	}
	if (end == NULL)
		return -1;
	if ((cl = strcasestr(rq->head, "\r\nContent-Length:")) != NULL &&
	    cl < end)
		want = strtoul(cl + 17, NULL, 10);
	have = len - (size_t)(end + 4 - rq->head);
	ck_assert_ptr_nonnull(rq->body = calloc(1, want + have + 1));
	memcpy(rq->body, end + 4, have);
	rq->head[end + 2 - rq->head] = '\0';
	while (have < want && (r = read(c, rq->body + have, want - have)) > 0)
		have += (size_t)r;
	rq->body_len = have;
	sscanf(rq->head, "%15s %1023s", rq->method, rq->path);
	return 0;
}

static inline void *
fh_run(void *arg)
{
	struct fakehttp *f = arg;
	struct fh_request rq;
	int c;

	/* fh_stop() shuts the socket down: accept() fails, the loop ends. */
	while ((c = accept(f->fd, NULL, NULL)) >= 0) {
		if (fh_read(c, &rq) == 0) {
			snprintf(f->last, sizeof(f->last), "%.*s",
			    (int)strcspn(rq.head, "\r\n"), rq.head);
			/* Counted before the answer: a client that has its
			 * answer sees the count that includes it. */
			__atomic_add_fetch(&f->served, 1, __ATOMIC_RELEASE);
			f->fn(f->arg, c, &rq);
			free(rq.body);
		} else
			__atomic_add_fetch(&f->served, 1, __ATOMIC_RELEASE);
		close(c);
	}
	return NULL;
}

static inline void
fh_listen(struct fakehttp *f, fh_fn fn, void *arg)
{
	f->fn = fn;
	f->arg = arg;
	ck_assert_int_eq(listen(f->fd, 16), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fh_run, f), 0);
}

/* Serves on 127.0.0.1:port (f->port, f->url); port 0 picks a free
 * one, a port given again serves where an earlier fake did. */
static inline void
fh_start_at(struct fakehttp *f, int port, fh_fn fn, void *arg)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int on = 1;

	memset(f, 0, sizeof(*f));
	ck_assert_int_ge(f->fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	fh_listen(f, fn, arg);
}

/* Serves on 127.0.0.1 on a free port. */
static inline void
fh_start(struct fakehttp *f, fh_fn fn, void *arg)
{
	fh_start_at(f, 0, fn, arg);
}

/* Serves on the unix socket path (as dockerd does). */
static inline void
fh_start_unix(struct fakehttp *f, const char *path, fh_fn fn, void *arg)
{
	struct sockaddr_un sun;

	memset(f, 0, sizeof(*f));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	ck_assert_int_ge(f->fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fh_listen(f, fn, arg);
}

/* Requests handled so far (counted once the connection is closed: a
 * client may see its answer first). */
static inline int
fh_served(struct fakehttp *f)
{
	return __atomic_load_n(&f->served, __ATOMIC_ACQUIRE);
}

/* Stops the server once the connection being handled is over. */
static inline void
fh_stop(struct fakehttp *f)
{
	shutdown(f->fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->fd);
}

#endif
