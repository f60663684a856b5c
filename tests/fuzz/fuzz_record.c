/* fuzz_record.c: record_decode and record_node_decode, the readers of
 * flowmon's own state/ and nodes/ files at start-up (a file may be torn
 * by a dying disk or edited by hand). Oracle: a failure says why and
 * leaves nothing behind; a decoded record re-encodes to a record that
 * decodes to the same thing; a record whose params parse survives the
 * restart oracle (fuzz_check_service). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"

static void
service_record(const char *buf, size_t len)
{
	const struct request_ctx *ctx = fuzz_ctx();
	struct kvlist params = { 0 }, again = { 0 };
	struct service svc;
	char err[ERR_MAX], *rec;
	size_t rlen;
	int removed = -1, removed2 = -1;

	err[0] = '\0';
	if (record_decode(buf, len, &params, &removed, NULL, err) == -1) {
		if (err[0] == '\0' || params.n != 0)
			fuzz_fail("record_decode", "bad failure");
		return;
	}
	if (removed != 0 && removed != 1)
		fuzz_fail("record_decode", "removed is not 0 or 1");
	/* What flowmon does at start: the params parse, or the record is
	 * reported as broken. */
	if (request_parse(&params, ctx, &svc, err) == 0) {
		fuzz_check_service(&svc, ctx);
		if ((rec = record_encode(&svc, removed, &rlen)) == NULL)
			fuzz_fail("record_encode", "out of memory");
		if (record_decode(rec, rlen, &again, &removed2, NULL, err) == -1 ||
		    removed2 != removed || !kvlist_equal(&again, &svc.params))
			fuzz_fail("record round trip", rec);
		free(rec);
		service_release(&svc);
	}
	kvlist_release(&again);
	kvlist_release(&params);
}

static void
node_record(const char *buf, size_t len)
{
	struct kvlist labels = { 0 }, again = { 0 };
	char err[ERR_MAX], *id = NULL, *id2 = NULL, *rec;
	size_t rlen;

	err[0] = '\0';
	if (record_node_decode(buf, len, &id, &labels, err) == -1) {
		if (err[0] == '\0' || id != NULL || labels.n != 0)
			fuzz_fail("record_node_decode", "bad failure");
		return;
	}
	if (id == NULL || !service_name_valid(id))
		fuzz_fail("record_node_decode", "invalid id");
	if ((rec = record_node_encode(id, &labels, &rlen)) == NULL)
		fuzz_fail("record_node_encode", "out of memory");
	if (record_node_decode(rec, rlen, &id2, &again, err) == -1 ||
	    strcmp(id, id2) != 0 || !kvlist_equal(&labels, &again))
		fuzz_fail("node record round trip", rec);
	free(rec);
	free(id2);
	free(id);
	kvlist_release(&again);
	kvlist_release(&labels);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	service_record((const char *)data, size);
	node_record((const char *)data, size);
	return 0;
}
