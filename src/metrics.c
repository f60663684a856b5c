/* metrics.c: request, file and error counters and their text exposition. */
#include <stdio.h>

#include "expo.h"
#include "metrics.h"

/* Status codes are folded into a few buckets so the table stays fixed. */
static const int metrics_codes[] = { 200, 400, 401, 404, 405, 409, 413, 429,
	500, 503 };
#define M_NCODES (sizeof(metrics_codes) / sizeof(*metrics_codes))

static uint64_t m_requests[M_EP_COUNT][M_NCODES + 1];
static uint64_t m_files[M_FEV_COUNT][M_FILE_COUNT];
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
metrics_file(enum metrics_file_event ev, enum metrics_file kind)
{
	__atomic_add_fetch(&m_files[ev][kind], 1, __ATOMIC_RELAXED);
}

static long long
counter(uint64_t *c)
{
	return (long long)__atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The counter family of each file event: a series per kind, or per
 * directory (targets/ and rules/, labelled dir as flowmon_files is). */
static void
file_families(struct buf *b)
{
	static const struct {
		const char	*name, *help;
		int		 dirs;
	} fam[M_FEV_COUNT] = {
		{ "flowmon_files_written_total", "Files durably written "
		  "(fsync'd and renamed), by kind.", 0 },
		{ "flowmon_files_removed_total", "Files removed, by kind.", 0 },
		{ "flowmon_write_errors_total", "Failed writes or removes in "
		  "the data dir, by kind.", 0 },
		{ "flowmon_files_healed_total", "Files of flowmon's found "
		  "missing and written again from their records, by "
		  "directory.", 1 },
		{ "flowmon_files_edited_total", "Files of flowmon's found "
		  "edited by hand (replaced at the next reconfigure of their "
		  "service), by directory.", 1 },
	};
	int ev, k;

	for (ev = 0; ev < M_FEV_COUNT; ev++) {
		expo_family(b, fam[ev].name, EXPO_COUNTER, fam[ev].help);
		for (k = 0; k <= (fam[ev].dirs ? M_FILE_RULES : M_FILE_NODES);
		    k++)
			expo_sample(b, fam[ev].name, counter(&m_files[ev][k]),
			    fam[ev].dirs ? "dir" : "kind", m_file_names[k],
			    NULL);
	}
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
	file_families(b);
	expo_counter(b, "flowmon_promtool_runs_total", "promtool processes "
	    "started for rule checks.", counter(&m_promtool_runs));
	expo_counter(b, "flowmon_promtool_files_total", "Rule files checked "
	    "by promtool (many per process).", counter(&m_promtool_files));
	expo_counter(b, "flowmon_promtool_batches_total", "Batches of rule "
	    "files waiting at the same moment, each checked in one go.",
	    counter(&m_promtool_batches));
	return b->failed ? -1 : 0;
}
