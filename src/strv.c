/* strv.c: vectors of owned strings (see strv.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

int
strv_pushn(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv, *copy;
	size_t room = *n == 0 ? STRV_MIN : *n * 2;

	if ((copy = strndup(s, len)) == NULL)
		return -1;
	/* The room is implied by n (strv.h): full at 0 and at each power of
	 * two from STRV_MIN on. */
	if (*n == 0 || (*n >= STRV_MIN && (*n & (*n - 1)) == 0)) {
		if (room > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(*v, room * sizeof(*nv))) == NULL) {
			free(copy);
			return -1;
		}
		*v = nv;
	}
	(*v)[(*n)++] = copy;
	return 0;
}

int
strv_push(char ***v, size_t *n, const char *s)
{
	return strv_pushn(v, n, s, strlen(s));
}

void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
strv_has_sorted(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), strv_cmp) != NULL;
}

void
strv_sort(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), strv_cmp);
}

int
strv_sorted_set(char *const *v, size_t n, char ***out, size_t *nout)
{
	char **s;
	size_t i, j;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((s = calloc(n, sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((s[i] = strdup(v[i])) == NULL) {
			strv_free(s, i);
			return -1;
		}
	}
	strv_sort(s, n);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(s[j - 1], s[i]) == 0)
			free(s[i]);
		else
			s[j++] = s[i];
	}
	*out = s;
	*nout = j;
	return 0;
}
