/* fuzz_compose.c: compose_read, the reader of stack files (`flowmon
 * plan`), on one or two files (the input split at a line "---8<---", the
 * second merged over the first), and every service through the mapping,
 * the parser and the renderer as plan takes it. Oracle: a refusal says
 * why; the services come sorted, named, unique; a service whose labels
 * map and parse renders files that read back (fuzz_check_service). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "dockermap.h"
#include "fuzz.h"

static const char *
env(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "A") == 0)
		return "a";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "PORT") == 0 || strcmp(name, "API_PORT") == 0)
		return "9100";
	if (strcmp(name, "API_REPLICAS") == 0)
		return "3";
	return NULL;
}

static void
check_services(const struct compose *c)
{
	struct kvlist params = { 0 };
	struct dockermap_spec spec;
	struct service svc;
	char err[ERR_MAX], name[600];
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct compose_service *s = &c->v[i];

		if (s->name == NULL)
			fuzz_fail("compose_read", "a service without a name");
		if (i > 0 && strcmp(c->v[i - 1].name, s->name) >= 0)
			fuzz_fail("compose_read", "services not sorted, unique");
		snprintf(name, sizeof(name), "fz_%.500s", s->name);
		memset(&spec, 0, sizeof(spec));
		spec.name = name;
		spec.labels = &s->deploy_labels;
		spec.mode = s->mode == COMPOSE_GLOBAL ? DOCKERMAP_GLOBAL :
		    DOCKERMAP_REPLICATED;
		spec.replicas = s->has_replicas ? s->replicas : 1;
		if (dockermap_params(&spec, "com.df.notify", &params,
		    err) == 1) {
			memset(&svc, 0, sizeof(svc));
			if (request_parse(&params, fuzz_ctx(), &svc, err) == 0) {
				fuzz_check_service(&svc, fuzz_ctx());
				service_release(&svc);
			}
		}
		kvlist_release(&params);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cut[] = "\n---8<---\n";
	struct compose c = { 0 };
	const char *buf = (const char *)data, *second;
	char err[ERR_MAX];
	size_t n1;

	if (size > 64 * 1024)
		return 0;
	second = memmem(buf, size, cut, sizeof(cut) - 1);
	n1 = second != NULL ? (size_t)(second - buf) : size;
	err[0] = '\0';
	if (compose_read(&c, buf, n1, env, NULL, err) == -1) {
		if (err[0] == '\0')
			fuzz_fail("compose_read", "refused without a reason");
	} else if (second != NULL) {
		second += sizeof(cut) - 1;
		if (compose_read(&c, second, size - (size_t)(second - buf), env,
		    NULL, err) == -1 && err[0] == '\0')
			fuzz_fail("compose_read", "refused without a reason");
	}
	check_services(&c);
	compose_release(&c);
	return 0;
}
