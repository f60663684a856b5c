/* mem.h: what flowmon asks of glibc's malloc, in one place: how it keeps
 * memory (mem_tune(), once at start) and giving back what was freed
 * (mem_trim(), after start-up, a whole scan, the last connection).
 *
 * A build with a sanitizer (make asan, the fuzz targets) has the
 * sanitizer's allocator instead: glibc's malloc is then never set up, and
 * malloc_trim() from two threads at once would set it up twice, racing
 * (a crash in mtrim). There both are no-ops; the sanitizer's heap is its
 * own. */
#ifndef FLOWMON_MEM_H
#define FLOWMON_MEM_H

#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MEM_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define MEM_SANITIZED	1
#endif
#endif

/* A daemon that lives long with a thread per connection: one arena (a
 * request's new record replaces the old one in the heap the old one
 * leaves; each thread's cache of small blocks keeps requests from
 * waiting on it), blocks of 128 kB and more (a /services answer, a scan's
 * listing) mapped on their own and given back when freed. */
static inline void
mem_tune(void)
{
#ifndef MEM_SANITIZED
	(void)mallopt(M_ARENA_MAX, 1);
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

/* Gives the pages freed memory left back to the system. */
static inline void
mem_trim(void)
{
#ifndef MEM_SANITIZED
	(void)malloc_trim(0);
#endif
}

#endif
