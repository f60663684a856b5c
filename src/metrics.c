/* metrics.c: request, file and error counters and their text exposition. */
#include <stdio.h>

#include "expo.h"
#include "metrics.h"

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

/* One counter family with a series per file kind. */
static void
file_family(struct buf *b, const char *name, const char *help,
    uint64_t counters[M_FILE_COUNT])
{
	int i;

	expo_family(b, name, EXPO_COUNTER, help);
	for (i = 0; i < M_FILE_COUNT; i++)
		expo_sample(b, name, (long long)__atomic_load_n(&counters[i],
		    __ATOMIC_RELAXED), "kind", m_file_names[i], NULL);
}

/* One counter family over targets/ and rules/, labelled dir as
 * flowmon_files is. */
static void
dir_family(struct buf *b, const char *name, const char *help,
    uint64_t counters[M_FILE_COUNT])
{
	static const enum metrics_file dirs[] = { M_FILE_TARGETS,
	    M_FILE_RULES };
	size_t i;

	expo_family(b, name, EXPO_COUNTER, help);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		expo_sample(b, name, (long long)__atomic_load_n(
		    &counters[dirs[i]], __ATOMIC_RELAXED), "dir",
		    m_file_names[dirs[i]], NULL);
}

static long long
counter(uint64_t *c)
{
	return (long long)__atomic_load_n(c, __ATOMIC_RELAXED);
}

int
metrics_render(struct buf *b)
{
	size_t e, i;

	expo_family(b, "flowmon_http_requests_total", EXPO_COUNTER, "HTTP "
	    "requests answered, by endpoint and status code.");
	for (e = 0; e < M_EP_COUNT; e++) {
		for (i = 0; i <= M_NCODES; i++) {
			long long v = counter(&m_requests[e][i]);
			char code[8];

			if (v == 0)
				continue;
			if (i < M_NCODES)
				snprintf(code, sizeof(code), "%d",
				    metrics_codes[i]);
			else
				snprintf(code, sizeof(code), "other");
			expo_sample(b, "flowmon_http_requests_total", v,
			    "endpoint", m_ep_names[e], "code", code, NULL);
		}
	}
	file_family(b, "flowmon_files_written_total",
	    "Files durably written (fsync'd and renamed), by kind.", m_written);
	file_family(b, "flowmon_files_removed_total",
	    "Files removed, by kind.", m_removed);
	file_family(b, "flowmon_write_errors_total",
	    "Failed writes or removes in the data dir, by kind.", m_errors);
	dir_family(b, "flowmon_files_healed_total",
	    "Files of flowmon's found missing and written again from their "
	    "records, by directory.", m_healed);
	dir_family(b, "flowmon_files_edited_total",
	    "Files of flowmon's found edited by hand (replaced at the next "
	    "reconfigure of their service), by directory.", m_edited);
	expo_counter(b, "flowmon_promtool_runs_total", "promtool processes "
	    "started for rule checks.", counter(&m_promtool_runs));
	expo_counter(b, "flowmon_promtool_files_total", "Rule files checked "
	    "by promtool (many per process).", counter(&m_promtool_files));
	expo_counter(b, "flowmon_promtool_batches_total", "Batches of rule "
	    "files waiting at the same moment, each checked in one go.",
	    counter(&m_promtool_batches));
	return b->failed ? -1 : 0;
}
