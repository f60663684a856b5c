/* fuzz_filecheck.c: the readers of target and rule files someone else may
 * have written: filecheck_targets and filecheck_rules (the /files view and
 * the watcher), audit_targets_json (`flowmon check`), audit_temp_name. The
 * input is handed over NUL-terminated, as store_read and the audit's reader
 * do. Oracle: a refusal says why; a rule file flowmon's own read-back
 * accepts for a service is also accepted by filecheck_rules. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "filecheck.h"
#include "fuzz.h"
#include "rulecheck.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX], *buf, *name;
	long pid;
	int own;

	if (size > 64 * 1024)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		fuzz_fail("malloc", "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';

	err[0] = '\0';
	if (filecheck_targets(buf, size, err) == -1 && err[0] == '\0')
		fuzz_fail("filecheck_targets", "-1 without a message");
	err[0] = '\0';
	if (audit_targets_json(buf, size, err) == -1 && err[0] == '\0')
		fuzz_fail("audit_targets_json", "-1 without a message");
	err[0] = '\0';
	if (filecheck_rules(buf, size, err) == -1) {
		if (err[0] == '\0')
			fuzz_fail("filecheck_rules", "-1 without a message");
		/* rulecheck's shape check is stricter on names, but a file
		 * it takes must not be one Prometheus refuses. */
		own = memchr(buf, '\0', size) == NULL &&
		    rulecheck_yaml(buf, size, NULL, 0, err) == 0;
		if (own)
			fuzz_fail("rulecheck_yaml accepts a rule file "
			    "filecheck_rules refuses", buf);
	}

	/* The first line as a file name. */
	name = strndup(buf, strcspn(buf, "\n"));
	if (name == NULL)
		fuzz_fail("strndup", "out of memory");
	pid = -1;
	if (audit_temp_name(name, &pid) == 1 && pid < 0)
		fuzz_fail("audit_temp_name", "negative pid");
	free(name);
	free(buf);
	return 0;
}
