/* fuzz_filecheck.c: the readers of target and rule files someone else may
 * have written: filecheck_targets and filecheck_rules (the daemon, the
 * /files view, the watcher and `flowmon check` alike), and the store's
 * temp-name rule. The input is handed over NUL-terminated, as the store's
 * reader does. Oracle: a refusal says why; rulecheck_yaml without a record
 * is exactly filecheck_rules. */
#include <stdlib.h>
#include <string.h>

#include "filecheck.h"
#include "fuzz.h"
#include "rulecheck.h"
#include "store.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX], *buf, *name;
	long pid;
	int shape;

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
	shape = filecheck_rules(buf, size, err);
	if (shape == -1 && err[0] == '\0')
		fuzz_fail("filecheck_rules", "-1 without a message");
	/* One shape check of rule files: rulecheck's is filecheck's. */
	if (rulecheck_yaml(buf, size, NULL, 0, err) != shape)
		fuzz_fail("rulecheck_yaml and filecheck_rules disagree", buf);

	/* The first line as a file name. */
	name = strndup(buf, strcspn(buf, "\n"));
	if (name == NULL)
		fuzz_fail("strndup", "out of memory");
	pid = -1;
	if (store_temp_name(name, &pid) == 1 && pid < 0)
		fuzz_fail("store_temp_name", "negative pid");
	free(name);
	free(buf);
	return 0;
}
