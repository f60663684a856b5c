/* metrics.c: request, file and error counters and their text exposition. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "values.h"

/* Status codes are folded into a few buckets so the table stays fixed. */
static const int metrics_codes[] = { 200, 400, 401, 404, 405, 409, 413, 429,
	500, 503 };
#define M_NCODES (sizeof(metrics_codes) / sizeof(*metrics_codes))

static uint64_t m_requests[M_EP_COUNT][M_NCODES + 1];
static uint64_t m_written[M_FILE_COUNT];
static uint64_t m_removed[M_FILE_COUNT];
static uint64_t m_errors[M_FILE_COUNT];
static uint64_t m_healed[M_FILE_COUNT];
static uint64_t m_edited[M_FILE_COUNT];
static uint64_t m_promtool_runs;
static uint64_t m_promtool_files;
static uint64_t m_promtool_batches;

static const char *const m_ep_names[M_EP_COUNT] = {
	"reconfigure", "remove", "node_reconfigure", "node_remove", "ping",
	"services", "files", "sd", "metrics", "explain", "ui", "other",
};
static const char *const m_file_names[M_FILE_COUNT] = {
	"targets", "rules", "state", "nodes",
};

void
metrics_promtool_run(void)
{
	__atomic_add_fetch(&m_promtool_runs, 1, __ATOMIC_RELAXED);
}

void
metrics_promtool_batch(size_t n)
{
	__atomic_add_fetch(&m_promtool_files, (uint64_t)n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m_promtool_batches, 1, __ATOMIC_RELAXED);
}

const char *
metrics_endpoint_name(enum metrics_endpoint ep)
{
	return m_ep_names[ep];
}

void
metrics_request(enum metrics_endpoint ep, int code)
{
	size_t i;

	for (i = 0; i < M_NCODES; i++)
		if (metrics_codes[i] == code)
			break;
	__atomic_add_fetch(&m_requests[ep][i], 1, __ATOMIC_RELAXED);
}

void
metrics_file_written(enum metrics_file kind)
{
	__atomic_add_fetch(&m_written[kind], 1, __ATOMIC_RELAXED);
}

void
metrics_file_removed(enum metrics_file kind)
{
	__atomic_add_fetch(&m_removed[kind], 1, __ATOMIC_RELAXED);
}

void
metrics_write_error(enum metrics_file kind)
{
	__atomic_add_fetch(&m_errors[kind], 1, __ATOMIC_RELAXED);
}

void
metrics_file_healed(enum metrics_file kind)
{
	__atomic_add_fetch(&m_healed[kind], 1, __ATOMIC_RELAXED);
}

void
metrics_file_edited(enum metrics_file kind)
{
	__atomic_add_fetch(&m_edited[kind], 1, __ATOMIC_RELAXED);
}

int
metrics_append(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL,
		    b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *s;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			if ((s = realloc(b->s, cap)) == NULL)
				return -1;
			b->s = s;
			b->cap = cap;
		}
	}
}

/* One counter family with a series per file kind. */
static int
file_family(struct metrics_buf *b, const char *name, const char *help,
    uint64_t counters[M_FILE_COUNT])
{
	int rc, i;

	rc = metrics_append(b, "# HELP %s %s\n# TYPE %s counter\n", name, help,
	    name);
	for (i = 0; i < M_FILE_COUNT; i++)
		rc |= metrics_append(b, "%s{kind=\"%s\"} %llu\n", name,
		    m_file_names[i], (unsigned long long)
		    __atomic_load_n(&counters[i], __ATOMIC_RELAXED));
	return rc;
}

/* One counter family over targets/ and rules/, labelled dir as
 * flowmon_files is. */
static int
dir_family(struct metrics_buf *b, const char *name, const char *help,
    uint64_t counters[M_FILE_COUNT])
{
	static const enum metrics_file dirs[] = { M_FILE_TARGETS,
	    M_FILE_RULES };
	size_t i;
	int rc;

	rc = metrics_append(b, "# HELP %s %s\n# TYPE %s counter\n", name, help,
	    name);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rc |= metrics_append(b, "%s{dir=\"%s\"} %llu\n", name,
		    m_file_names[dirs[i]], (unsigned long long)
		    __atomic_load_n(&counters[dirs[i]], __ATOMIC_RELAXED));
	return rc;
}

int
metrics_render(struct metrics_buf *b)
{
	size_t e, i;
	int rc = 0;

	rc |= metrics_append(b, "# HELP flowmon_http_requests_total HTTP "
	    "requests answered, by endpoint and status code.\n"
	    "# TYPE flowmon_http_requests_total counter\n");
	for (e = 0; e < M_EP_COUNT; e++) {
		for (i = 0; i <= M_NCODES; i++) {
			uint64_t v = __atomic_load_n(&m_requests[e][i],
			    __ATOMIC_RELAXED);
			char code[8];

			if (v == 0)
				continue;
			if (i < M_NCODES)
				snprintf(code, sizeof(code), "%d",
				    metrics_codes[i]);
			else
				snprintf(code, sizeof(code), "other");
			rc |= metrics_append(b, "flowmon_http_requests_total{"
			    "endpoint=\"%s\",code=\"%s\"} %llu\n", m_ep_names[e],
			    code, (unsigned long long)v);
		}
	}
	rc |= file_family(b, "flowmon_files_written_total",
	    "Files durably written (fsync'd and renamed), by kind.", m_written);
	rc |= file_family(b, "flowmon_files_removed_total",
	    "Files removed, by kind.", m_removed);
	rc |= file_family(b, "flowmon_write_errors_total",
	    "Failed writes or removes in the data dir, by kind.", m_errors);
	rc |= dir_family(b, "flowmon_files_healed_total",
	    "Files of flowmon's found missing and written again from their "
	    "records, by directory.", m_healed);
	rc |= dir_family(b, "flowmon_files_edited_total",
	    "Files of flowmon's found edited by hand (replaced at the next "
	    "reconfigure of their service), by directory.", m_edited);
	rc |= metrics_append(b, "# HELP flowmon_promtool_runs_total promtool "
	    "processes started for rule checks.\n"
	    "# TYPE flowmon_promtool_runs_total counter\n"
	    "flowmon_promtool_runs_total %llu\n"
	    "# HELP flowmon_promtool_files_total Rule files checked by "
	    "promtool (many per process).\n"
	    "# TYPE flowmon_promtool_files_total counter\n"
	    "flowmon_promtool_files_total %llu\n"
	    "# HELP flowmon_promtool_batches_total Batches of rule files "
	    "waiting at the same moment, each checked in one go.\n"
	    "# TYPE flowmon_promtool_batches_total counter\n"
	    "flowmon_promtool_batches_total %llu\n",
	    (unsigned long long)__atomic_load_n(&m_promtool_runs,
	    __ATOMIC_RELAXED), (unsigned long long)__atomic_load_n(
	    &m_promtool_files, __ATOMIC_RELAXED), (unsigned long long)
	    __atomic_load_n(&m_promtool_batches, __ATOMIC_RELAXED));
	return rc ? -1 : 0;
}

char *
metrics_label_escape(const char *s, char *out, size_t outsz)
{
	char *fixed = values_utf8_repair(s);
	const char *p = fixed != NULL ? fixed : "";
	size_t o = 0, n;

	if (outsz == 0) {
		free(fixed);
		return out;
	}
	for (; *p != '\0'; p += n) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" :
		    *p == '\n' ? "\\n" : NULL;

		/* One character (or its escape) whole, or nothing. */
		for (n = 1; (p[n] & 0xc0) == 0x80; n++)
			;
		if (esc != NULL) {
			if (o + 2 >= outsz)
				break;
			memcpy(out + o, esc, 2);
			o += 2;
		} else {
			if (o + n >= outsz)
				break;
			memcpy(out + o, p, n);
			o += n;
		}
	}
	out[o] = '\0';
	free(fixed);
	return out;
}
