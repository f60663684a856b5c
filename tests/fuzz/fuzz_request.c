/* fuzz_request.c: request_parse, a reconfigure's parameters to a service
 * record, with the built-in shortcuts. Input: "key=value" lines (raw bytes,
 * no escapes), as the HTTP front hands them over after decoding. Oracle:
 * every accepted request renders, reads back and survives a restart
 * (fuzz_check_service); every refused one says why. */
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
	if (fuzz_params(data, size, &params) == -1)
		fuzz_fail("fuzz_params", "out of memory");
	err[0] = '\0';
	if (request_parse(&params, ctx, &svc, err) == -1) {
		if (err[0] == '\0')
			fuzz_fail("request_parse", "-1 without a message");
	} else {
		fuzz_check_service(&svc, ctx);
		service_release(&svc);
	}
	kvlist_release(&params);
	return 0;
}
