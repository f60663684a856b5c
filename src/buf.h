/* buf.h: the growable byte buffer every module builds text in (the
 * /metrics exposition, rendered YAML and JSON, expanded alertIf). */
#ifndef FLOWMON_BUF_H
#define FLOWMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Zero-initialised is empty ({ 0 } or BUF_INIT). p is NUL-terminated after
 * len once anything was added (NULL before). An allocation that fails
 * leaves the bytes as they were and sets failed, which stays set: a
 * writer may append many pieces and check once at the end. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

#define BUF_INIT	{ NULL, 0, 0, 0 }

/* Appends n bytes of s. 0, or -1 on ENOMEM (or once failed). */
int	 buf_add(struct buf *b, const void *s, size_t n);
/* Appends the string s. */
int	 buf_adds(struct buf *b, const char *s);
/* Appends printf-style text. */
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Room for n more bytes (and the NUL) without another allocation. */
int	 buf_reserve(struct buf *b, size_t n);
/* Empties b, keeping its memory (and clearing failed). */
void	 buf_clear(struct buf *b);
/* Hands the bytes over: a malloc'd NUL-terminated string ("" when empty)
 * that the caller frees, *len (if not NULL) its length; b is empty after.
 * NULL (b released) when b failed or on ENOMEM. */
char	*buf_detach(struct buf *b, size_t *len);
/* Frees what b holds; b is empty after. */
void	 buf_release(struct buf *b);

/* Growable arrays: 0 when the array v (cap elements allocated) has room
 * for element n, growing it (cap doubled, 16 at first) when full; -1 on
 * ENOMEM or overflow, v and cap unchanged. v is any T * lvalue (every
 * object pointer has the one representation, as POSIX requires). */
#define BUF_ARRAY_GROW(v, n, cap) ((n) < (cap) ? 0 :			\
	buf_array_grow((void *)&(v), &(cap), sizeof(*(v))))
int	 buf_array_grow(void *vp, size_t *cap, size_t size);

/* A libyaml write handler (yaml_emitter_set_output's, with data a struct
 * buf): 1 on success, 0 on ENOMEM, as libyaml wants. */
int	 buf_yaml_write(void *data, unsigned char *bytes, size_t size);

#endif
