/* lockstat.c: a measurement helper, not part of flowmon: an LD_PRELOAD
 * library that times every pthread mutex and rwlock flowmon takes, per
 * call site: how often, how often it had to wait, how long it waited and
 * how long it held the lock (to the matching unlock on the same thread).
 * At exit it writes one line per call site to $LOCKSTAT_OUT (default
 * stderr), the site as module+offset for addr2line:
 *
 *   cc -O2 -shared -fPIC -o build/bench/lockstat.so bench/lockstat.c -ldl
 *   LOCKSTAT_OUT=locks.txt LD_PRELOAD=$PWD/build/bench/lockstat.so \
 *       build/flowmon ...        # then SIGTERM
 *   bench/lockstat.sh locks.txt  # sorted, with function names
 *
 * Wall-clock figures: on a busy machine a wait includes the time the
 * holder was not scheduled. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SITES	4096	/* call sites kept (open addressing) */
#define HELD	32	/* locks one thread holds at once, at most */

/* No lock of its own (it would be timed too): slots are claimed with a
 * compare-and-swap of the key, counters are atomic adds. */
struct site {
	uintptr_t	 key;		/* return address | kind, 0: free */
	uint64_t	 n, waited, wait_ns, wait_max, hold_ns, hold_max;
};

static struct site sites[SITES];
static int (*real_lock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);
static int (*real_rd)(pthread_rwlock_t *);
static int (*real_tryrd)(pthread_rwlock_t *);
static int (*real_wr)(pthread_rwlock_t *);
static int (*real_trywr)(pthread_rwlock_t *);
static int (*real_rwunlock)(pthread_rwlock_t *);

/* What this thread holds: the lock, its site and since when. */
static __thread struct {
	void		*lock;
	struct site	*s;
	uint64_t	 t;
} held[HELD];
static __thread int nheld;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The real functions, looked up at the first call (a library may take a
 * lock before this library's constructor runs). */
__attribute__((constructor)) static void
lockstat_init(void)
{
	if (real_rwunlock != NULL)
		return;
	real_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
	real_trylock = dlsym(RTLD_NEXT, "pthread_mutex_trylock");
	real_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
	real_rd = dlsym(RTLD_NEXT, "pthread_rwlock_rdlock");
	real_tryrd = dlsym(RTLD_NEXT, "pthread_rwlock_tryrdlock");
	real_wr = dlsym(RTLD_NEXT, "pthread_rwlock_wrlock");
	real_trywr = dlsym(RTLD_NEXT, "pthread_rwlock_trywrlock");
	__atomic_store_n(&real_rwunlock, dlsym(RTLD_NEXT,
	    "pthread_rwlock_unlock"), __ATOMIC_RELEASE);
}

static struct site *
site_of(void *ra, int kind)
{
	uintptr_t key = (uintptr_t)ra << 2 | (uintptr_t)kind, cur;
	size_t h = (size_t)(key >> 2) * 31, i;
	struct site *s;

	for (i = 0; i < SITES; i++) {
		s = &sites[(h + i) % SITES];
		cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (cur == key)
			return s;
		if (cur == 0 && __atomic_compare_exchange_n(&s->key, &cur, key,
		    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return s;
		if (cur == key)
			return s;
	}
	return NULL;
}

static void
add(uint64_t *v, uint64_t d)
{
	__atomic_add_fetch(v, d, __ATOMIC_RELAXED);
}

static void
raise_max(uint64_t *v, uint64_t d)
{
	uint64_t cur = __atomic_load_n(v, __ATOMIC_RELAXED);

	while (d > cur && !__atomic_compare_exchange_n(v, &cur, d, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Books one acquisition of lock at s that waited wait ns. */
static void
acquired(void *lock, struct site *s, uint64_t wait, uint64_t t)
{
	if (s == NULL)
		return;
	add(&s->n, 1);
	if (wait > 0) {
		add(&s->waited, 1);
		add(&s->wait_ns, wait);
		raise_max(&s->wait_max, wait);
	}
	for (int i = 0; i < nheld; i++)
		if (held[i].lock == lock)
			held[i] = held[--nheld];
	if (nheld < HELD) {
		held[nheld].lock = lock;
		held[nheld].s = s;
		held[nheld].t = t;
		nheld++;
	}
}

/* A lock released by a condition variable's wait (inside glibc) is never
 * seen here: its entry is dropped once the thread takes it again. */
static void
released(void *lock)
{
	uint64_t hold;
	int i;

	for (i = nheld - 1; i >= 0; i--) {
		if (held[i].lock != lock)
			continue;
		hold = now_ns() - held[i].t;
		add(&held[i].s->hold_ns, hold);
		raise_max(&held[i].s->hold_max, hold);
		held[i] = held[--nheld];
		return;
	}
}

/* One interposed lock: try first, time only what has to wait. */
#define LOCK(fn, type, realfn, tryfn, kind)				\
int									\
fn(type *l)								\
{									\
	struct site *s;							\
	uint64_t t0, t1;						\
	int rc;								\
									\
	if (__atomic_load_n(&real_rwunlock, __ATOMIC_ACQUIRE) == NULL)	\
		lockstat_init();					\
	s = site_of(__builtin_return_address(0), kind);			\
	if (tryfn(l) == 0) {						\
		acquired(l, s, 0, now_ns());				\
		return 0;						\
	}								\
	t0 = now_ns();							\
	if ((rc = realfn(l)) == 0) {					\
		t1 = now_ns();						\
		acquired(l, s, t1 - t0 > 0 ? t1 - t0 : 1, t1);		\
	}								\
	return rc;							\
}

LOCK(pthread_mutex_lock, pthread_mutex_t, real_lock, real_trylock, 0)
LOCK(pthread_rwlock_rdlock, pthread_rwlock_t, real_rd, real_tryrd, 1)
LOCK(pthread_rwlock_wrlock, pthread_rwlock_t, real_wr, real_trywr, 2)

/* One interposed unlock: the hold ends here. */
#define UNLOCK(fn, type, realfn)					\
int									\
fn(type *l)								\
{									\
	if (__atomic_load_n(&real_rwunlock, __ATOMIC_ACQUIRE) == NULL)	\
		lockstat_init();					\
	released(l);							\
	return realfn(l);						\
}

UNLOCK(pthread_mutex_unlock, pthread_mutex_t, real_unlock)
UNLOCK(pthread_rwlock_unlock, pthread_rwlock_t, real_rwunlock)

__attribute__((destructor)) static void
lockstat_dump(void)
{
	static const char *const kinds[] = { "mutex", "read", "write" };
	const char *path = getenv("LOCKSTAT_OUT");
	FILE *f = path != NULL ? fopen(path, "w") : stderr;
	Dl_info info;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < SITES; i++) {
		const struct site *s = &sites[i];

		void *ra = (void *)(s->key >> 2);

		if (s->key == 0 || s->n == 0)
			continue;
		if (dladdr(ra, &info) == 0 || info.dli_fname == NULL)
			continue;
		/* The call is the instruction before the return address. */
		fprintf(f, "%s 0x%lx %s %lu %lu %.3f %.3f %.3f %.3f\n",
		    info.dli_fname, (unsigned long)((char *)ra -
		    (char *)info.dli_fbase - 1), kinds[s->key & 3],
		    (unsigned long)s->n, (unsigned long)s->waited,
		    s->wait_ns / 1e6, s->wait_max / 1e6, s->hold_ns / 1e6,
		    s->hold_max / 1e6);
	}
	if (f != stderr)
		fclose(f);
}
