/* fuzz_rulecheck.c: rulecheck_yaml, the reader of rule files (flowmon's own
 * before they enter rules/, and any file `flowmon check` finds there).
 * Input: a rule file. It is checked for shape alone, then against a fixed
 * service record (the comparison path). Oracle: a refusal says why; a file
 * that matches the record also passes the shape check. */
#include <string.h>

#include "fuzz.h"
#include "rulecheck.h"

static const struct service *
record(void)
{
	static struct service svc;
	static int done;
	static const char *const p[][2] = {
		{ "serviceName", "s" },
		{ "alertName", "a" }, { "alertIf", "up == 0" },
		{ "alertFor", "30s" }, { "alertLabels", "severity=page" },
		{ "alertName.1", "m" },
		{ "alertIf.1", "@service_mem_limit:0.8" },
		{ "alertPersistent.1", "true" },
	};
	struct kvlist params = { 0 };
	char err[ERR_MAX];
	size_t i;

	if (done)
		return &svc;
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (kvlist_set(&params, p[i][0], p[i][1]) == -1)
			fuzz_fail("kvlist_set", "out of memory");
	if (request_parse(&params, fuzz_ctx(), &svc, err) == -1)
		fuzz_fail("request_parse of the fixed record", err);
	kvlist_release(&params);
	done = 1;
	return &svc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct service *svc = record();
	const char *buf = (const char *)data;
	char err[ERR_MAX];
	int shape, full, persistent;

	if (size > 64 * 1024)
		return 0;
	err[0] = '\0';
	if ((shape = rulecheck_yaml(buf, size, NULL, 0, err)) == -1 &&
	    err[0] == '\0')
		fuzz_fail("rulecheck_yaml", "-1 without a message");
	err[0] = '\0';
	if ((full = rulecheck_yaml(buf, size, svc, 0, err)) == -1 &&
	    err[0] == '\0')
		fuzz_fail("rulecheck_yaml", "-1 without a message");
	persistent = rulecheck_yaml(buf, size, svc, 1, err);
	if ((full == 0 || persistent == 0) && shape != 0)
		fuzz_fail("rulecheck_yaml", "matches the record, fails shape");
	return 0;
}
