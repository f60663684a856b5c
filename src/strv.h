/* strv.h: a vector of owned strings, kept as a char ** with its count
 * (size_t n) side by side: the names, IDs and addresses modules collect. */
#ifndef FLOWMON_STRV_H
#define FLOWMON_STRV_H

#include <stddef.h>

/* Appends a copy of s (strv_pushn: of its first len bytes). 0, or -1 on
 * ENOMEM (v unchanged). The vector's room is implied by n: n rounded up
 * to a power of two, STRV_MIN at least, so n pushes cost log n
 * reallocations; push only onto an empty vector or one built by pushes
 * (never onto strv_sorted_set()'s, which has no room to spare). */
#define STRV_MIN	8
int	 strv_push(char ***v, size_t *n, const char *s);
int	 strv_pushn(char ***v, size_t *n, const char *s, size_t len);
/* Frees the strings and the vector; NULL is fine. */
void	 strv_free(char **v, size_t n);

/* 1 when s is in v, a vector sorted with strv_sort() (binary search). */
int	 strv_has_sorted(char *const *v, size_t n, const char *s);

/* The qsort comparator of char * elements (strcmp order). */
int	 strv_cmp(const void *a, const void *b);
/* Sorts v in place (strcmp order). */
void	 strv_sort(char **v, size_t n);
/* A sorted copy of v without repeats into *out (malloc'd, strv_free()).
 * 0, or -1 on ENOMEM (*out NULL). */
int	 strv_sorted_set(char *const *v, size_t n, char ***out, size_t *nout);

#endif
