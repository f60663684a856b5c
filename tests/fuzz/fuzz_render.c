/* fuzz_render.c: the render round trip on real request bodies. Input: a
 * query string or form body, exactly as swarm-listener sends it, decoded
 * by request_decode_form and parsed by request_parse. Oracle: a request
 * flowmon accepts renders to a rule file that rulecheck_yaml reads back
 * as exactly its alerts, a target file that is a JSON array, and a record
 * that gives the same files after a restart (fuzz_check_service). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct request_ctx *ctx = fuzz_ctx();
	struct kvlist params = { 0 };
	struct service svc;
	char err[ERR_MAX];

	if (size > 64 * 1024)
		return 0;
	if (request_decode_form((const char *)data, size, &params, err) == 0 &&
	    request_parse(&params, ctx, &svc, err) == 0) {
		fuzz_check_service(&svc, ctx);
		service_release(&svc);
	}
	kvlist_release(&params);
	return 0;
}
