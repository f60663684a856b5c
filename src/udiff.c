/* udiff.c: unified diffs of two texts. The lines both share at the start
 * and the end are set aside, the middle goes through Myers' greedy
 * algorithm (the furthest-reaching path for each number of edits, kept per
 * step to walk back the shortest edit script), and the script is printed
 * in hunks with context, as diff -u does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "udiff.h"

struct line {
	const char	*p;
	size_t		 len;		/* without the newline */
	int		 nl;		/* ends in a newline */
	uint64_t	 h;
};

enum op { OP_EQ, OP_DEL, OP_INS };

struct edit {
	enum op		 op;
	size_t		 a, b;		/* the line in a (EQ, DEL), in b (EQ,
					   INS), from 0 */
};

struct script {
	struct edit	*v;
	size_t		 n;
	size_t		 cap;
};

/* The lines of buf into *lines; -1 on ENOMEM. */
static int
split(const char *buf, size_t len, struct line **lines, size_t *n)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t cap = 0;

	*n = 0;
	*lines = NULL;
	while (p < end) {
		struct line *l;

		if (BUF_ARRAY_GROW(*lines, *n, cap) == -1)
			return -1;
		l = &(*lines)[(*n)++];
		nl = memchr(p, '\n', (size_t)(end - p));
		l->p = p;
		l->len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		l->nl = nl != NULL;
		l->h = hash_bytes(HASH_INIT, p, l->len); /* compared first */
		p += l->len + (nl != NULL);
	}
	return 0;
}

static int
line_eq(const struct line *x, const struct line *y)
{
	return x->h == y->h && x->len == y->len && x->nl == y->nl &&
	    memcmp(x->p, y->p, x->len) == 0;
}

static int
push(struct script *s, enum op op, size_t a, size_t b)
{
	if (BUF_ARRAY_GROW(s->v, s->n, s->cap) == -1)
		return -1;
	s->v[s->n].op = op;
	s->v[s->n].a = a;
	s->v[s->n].b = b;
	s->n++;
	return 0;
}

/* The edits turning a[0..n) into b[0..m), backwards (last first), into s;
 * with more than UDIFF_EDITS_MAX edits, all of a removed and all of b
 * added. 0, or -1 on ENOMEM. */
static int
myers(const struct line *a, long n, const struct line *b, long m,
    size_t a0, size_t b0, struct script *s)
{
	long max = n + m, d, k, x, y, dmax = -1, cap;
	long **trace = NULL, *v = NULL;
	int rc = -1;

	cap = max < UDIFF_EDITS_MAX ? max : UDIFF_EDITS_MAX;
	if ((v = calloc((size_t)(2 * max + 3), sizeof(*v))) == NULL ||
	    (trace = calloc((size_t)cap + 1, sizeof(*trace))) == NULL)
		goto out;
	v += max + 1;		/* v[-max-1 .. max+1] */
	for (d = 0; d <= cap && dmax < 0; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[k - 1] < v[k + 1]))
				x = v[k + 1];
			else
				x = v[k - 1] + 1;
			y = x - k;
			while (x < n && y < m && line_eq(&a[x], &b[y]))
				x++, y++;
			v[k] = x;
			if (x >= n && y >= m)
				dmax = d;
		}
		if ((trace[d] = malloc((size_t)(2 * d + 1) *
		    sizeof(**trace))) == NULL)
			goto out;
		memcpy(trace[d], v - d, (size_t)(2 * d + 1) * sizeof(*v));
	}
	if (dmax < 0) {
		/* Too different: the whole middle, replaced. */
		for (y = m; y > 0; y--)
			if (push(s, OP_INS, a0 + (size_t)n, b0 + (size_t)y - 1))
				goto out;
		for (x = n; x > 0; x--)
			if (push(s, OP_DEL, a0 + (size_t)x - 1, b0))
				goto out;
		rc = 0;
		goto out;
	}
	x = n;
	y = m;
	for (d = dmax; d > 0; d--) {
		const long *pv = trace[d - 1] + (d - 1);	/* pv[k] */
		long pk, px, py, mx;

		k = x - y;
		pk = (k == -d || (k != d && pv[k - 1] < pv[k + 1])) ? k + 1 :
		    k - 1;
		px = pv[pk];
		py = px - pk;
		/* The snake after the one edit, walked back. */
		mx = pk == k + 1 ? px : px + 1;
		for (; x > mx; x--, y--)
			if (push(s, OP_EQ, a0 + (size_t)x - 1,
			    b0 + (size_t)y - 1))
				goto out;
		if (pk == k + 1) {	/* down: line py of b added */
			if (push(s, OP_INS, a0 + (size_t)px, b0 + (size_t)py))
				goto out;
		} else {		/* right: line px of a removed */
			if (push(s, OP_DEL, a0 + (size_t)px, b0 + (size_t)py))
				goto out;
		}
		x = px;
		y = py;
	}
	for (; x > 0 && y > 0; x--, y--)
		if (push(s, OP_EQ, a0 + (size_t)x - 1, b0 + (size_t)y - 1))
			goto out;
	rc = 0;
out:
	if (trace != NULL)
		for (d = 0; d <= cap; d++)
			free(trace[d]);
	free(trace);
	if (v != NULL)
		free(v - (max + 1));
	return rc;
}

static void
print_line(struct buf *f, char mark, const struct line *l)
{
	buf_add(f, &mark, 1);
	buf_add(f, l->p, l->len);
	buf_adds(f, "\n");
	if (!l->nl)
		buf_adds(f, "\\ No newline at end of file\n");
}

/* "-start,count" as diff -u writes a range: the count left out when it
 * is 1, the start the line before an empty range. */
static void
print_range(struct buf *f, char mark, size_t first, size_t count)
{
	if (count == 1)
		buf_printf(f, "%c%zu", mark, first + 1);
	else
		buf_printf(f, "%c%zu,%zu", mark, count ? first + 1 : first,
		    count);
}

/* The hunk of edits [lo, hi) of the script. */
static void
print_hunk(struct buf *f, const struct edit *e, size_t lo, size_t hi,
    const struct line *a, const struct line *b)
{
	size_t i, na = 0, nb = 0;

	for (i = lo; i < hi; i++) {
		na += e[i].op != OP_INS;
		nb += e[i].op != OP_DEL;
	}
	buf_adds(f, "@@ ");
	print_range(f, '-', e[lo].a, na);
	buf_adds(f, " ");
	print_range(f, '+', e[lo].b, nb);
	buf_adds(f, " @@\n");
	for (i = lo; i < hi; i++)
		print_line(f, e[i].op == OP_EQ ? ' ' : e[i].op == OP_DEL ?
		    '-' : '+', e[i].op == OP_INS ? &b[e[i].b] : &a[e[i].a]);
}

int
udiff(const char *abuf, size_t alen, const char *bbuf, size_t blen,
    const char *aname, const char *bname, int context, char **out,
    size_t *outlen)
{
	struct line *a = NULL, *b = NULL;
	struct script s = { NULL, 0, 0 };
	size_t na, nb, pre = 0, suf = 0, i, lo, hi, last;
	struct buf f = BUF_INIT;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (alen == blen && memcmp(abuf, bbuf, alen) == 0)
		return 0;
	if (split(abuf, alen, &a, &na) == -1 ||
	    split(bbuf, blen, &b, &nb) == -1)
		goto out;
	while (pre < na && pre < nb && line_eq(&a[pre], &b[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	    line_eq(&a[na - 1 - suf], &b[nb - 1 - suf]))
		suf++;
	/* Backwards: the shared end, the middle, the shared start. */
	for (i = 0; i < suf; i++)
		if (push(&s, OP_EQ, na - 1 - i, nb - 1 - i) == -1)
			goto out;
	/* An empty side has no lines (NULL): no offset is added to it. */
	if (myers(na > 0 ? a + pre : a, (long)(na - pre - suf),
	    nb > 0 ? b + pre : b, (long)(nb - pre - suf), pre, pre, &s) == -1)
		goto out;
	for (i = pre; i > 0; i--)
		if (push(&s, OP_EQ, i - 1, i - 1) == -1)
			goto out;
	for (i = 0; i < s.n / 2; i++) {
		struct edit t = s.v[i];

		s.v[i] = s.v[s.n - 1 - i];
		s.v[s.n - 1 - i] = t;
	}
	buf_printf(&f, "--- %s\n+++ %s\n", aname, bname);
	/* Hunks: changes closer than 2 * context lines share one. */
	for (i = 0; i < s.n; i = hi) {
		while (i < s.n && s.v[i].op == OP_EQ)
			i++;
		if (i == s.n)
			break;
		lo = i > (size_t)context ? i - (size_t)context : 0;
		for (last = hi = i; hi < s.n; hi++) {
			if (s.v[hi].op != OP_EQ)
				last = hi;
			else if (hi - last > 2 * (size_t)context)
				break;
		}
		hi = last + 1 + (size_t)context < s.n ?
		    last + 1 + (size_t)context : s.n;
		print_hunk(&f, s.v, lo, hi, a, b);
	}
	if ((*out = buf_detach(&f, outlen)) == NULL)
		goto out;
	rc = 0;
out:
	buf_release(&f);
	if (rc == -1)
		*outlen = 0;
	free(s.v);
	free(a);
	free(b);
	return rc;
}
