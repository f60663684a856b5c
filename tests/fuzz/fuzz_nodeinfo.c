/* fuzz_nodeinfo.c: request_parse_node_info, swarm-listener's nodeInfo JSON
 * (a list of [hostname, address(, nodeID)]). Oracle: an accepted list is a
 * sorted set of tasks with valid strings, and the service built from it
 * renders one target group per task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct request_ctx *ctx = fuzz_ctx();
	struct kvlist params = { 0 };
	struct task *t = NULL;
	struct service svc;
	char err[ERR_MAX], *json;
	size_t n = 0, i;

	if (size > 64 * 1024)
		return 0;
	if ((json = malloc(size + 1)) == NULL)
		fuzz_fail("malloc", "out of memory");
	memcpy(json, data, size);
	json[size] = '\0';
	err[0] = '\0';
	if (request_parse_node_info(json, &t, &n, err) == -1) {
		if (err[0] == '\0' || t != NULL || n != 0)
			fuzz_fail("request_parse_node_info", "bad failure");
		free(json);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (t[i].hostname == NULL || t[i].address == NULL ||
		    t[i].node_id == NULL || t[i].hostname[0] == '\0' ||
		    t[i].address[0] == '\0')
			fuzz_fail("request_parse_node_info", "empty field");
		if (i > 0 && strcmp(t[i - 1].address, t[i].address) > 0)
			fuzz_fail("request_parse_node_info", "not sorted");
	}
	for (i = 0; i < n; i++)
		task_release(&t[i]);
	free(t);

	/* The same list through a whole reconfigure. */
	if (kvlist_set(&params, "serviceName", "go-demo_main") == -1 ||
	    kvlist_set(&params, "scrapePort", "8080") == -1 ||
	    kvlist_set(&params, "nodeInfo", json) == -1)
		fuzz_fail("kvlist_set", "out of memory");
	if (request_parse(&params, ctx, &svc, err) == -1) {
		/* Raw bytes cJSON skipped (after a bad \u escape) may be
		 * invalid UTF-8: request_parse refuses such a parameter
		 * before it reads it as JSON. */
		if (strstr(err, "UTF-8") == NULL)
			fuzz_fail("request_parse refused a nodeInfo that "
			    "request_parse_node_info accepted", err);
		kvlist_release(&params);
		free(json);
		return 0;
	}
	if (svc.ntasks != n)
		fuzz_fail("request_parse", "task count differs");
	fuzz_check_service(&svc, ctx);
	service_release(&svc);
	kvlist_release(&params);
	free(json);
	return 0;
}
