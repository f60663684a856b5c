/* fuzz.h: helpers shared by the libFuzzer targets in tests/fuzz/: the
 * built-in shortcut table, the raw "k=v" line splitter, and the oracle
 * every parsed service must pass (render, read back, restart). */
#ifndef FLOWMON_FUZZ_H
#define FLOWMON_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "service.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The built-in table (etc/shortcuts.yaml), loaded once, never freed. */
const struct shortcuts *fuzz_shortcuts(void);

/* A request context with the built-in shortcuts and two
 * DF_SCRAPE_TARGET_LABELS names (env, aws-region). */
const struct request_ctx *fuzz_ctx(void);

/* Splits data into lines (\n), each line into key=value at its first '='
 * (no '=': an empty value), into out with kvlist_set_ci as the HTTP front
 * does. Bytes after a NUL in a line are dropped. 0, or -1 on allocation
 * failure. */
int	 fuzz_params(const uint8_t *data, size_t size, struct kvlist *out);

/* Aborts (so libFuzzer reports a crash) unless svc, which request_parse
 * accepted with ctx, survives everything flowmon does with it next:
 *  - its rule file renders and rulecheck_yaml reads it back as exactly its
 *    alerts (the persistent-only file too), else the daemon would refuse
 *    a request it has already validated;
 *  - its target file renders to a JSON array of groups;
 *  - its state record encodes, decodes to the same params, and parses
 *    again to a service that renders byte for byte the same files (what
 *    a restart does). */
void	 fuzz_check_service(const struct service *svc,
	    const struct request_ctx *ctx);

/* Prints what and the message, then aborts. */
_Noreturn void fuzz_fail(const char *what, const char *msg);

#endif
