/* check_yamlout.c: YAML written with libyaml into a buffer (yamlout.h):
 * the document frame, block collections, plain keys, and the values that
 * would not read back as the same string quoted; the output parses back
 * (libyaml) to the very strings given. */
#include <check.h>
#include <string.h>
#include <yaml.h>

#include "testutil.h"
#include "yamlout.h"

/* A mapping of the given key/value pairs, as yamlout writes it. */
static char *
emit_map(const char *const *kv, size_t n)
{
	yaml_emitter_t em;
	struct buf b = BUF_INIT;
	size_t i;

	memset(&em, 0, sizeof(em));
	ck_assert_int_eq(yamlout_begin(&em, &b), 0);
	ck_assert_int_eq(yamlout_open(&em, 1), 0);
	for (i = 0; i < n; i += 2) {
		ck_assert_int_eq(yamlout_scalar(&em, kv[i], 1), 0);
		ck_assert_int_eq(yamlout_scalar(&em, kv[i + 1], 0), 0);
	}
	ck_assert_int_eq(yamlout_close(&em, 1), 0);
	ck_assert_int_eq(yamlout_end(&em), 0);
	yaml_emitter_delete(&em);
	ck_assert_int_eq(b.failed, 0);
	return buf_detach(&b, NULL);
}

START_TEST(test_document)
{
	static const char *const kv[] = { "name", "web", "for", "5m" };
	yaml_emitter_t em;
	struct buf b = BUF_INIT;
	char *s;

	s = emit_map(kv, 4);
	ck_assert_str_eq(s, "name: web\nfor: 5m\n");
	free(s);
	/* A sequence in a mapping, appended to what the buffer holds. */
	buf_adds(&b, "# head\n");
	memset(&em, 0, sizeof(em));
	ck_assert_int_eq(yamlout_begin(&em, &b), 0);
	ck_assert_int_eq(yamlout_open(&em, 1), 0);
	ck_assert_int_eq(yamlout_scalar(&em, "rule_files", 1), 0);
	ck_assert_int_eq(yamlout_open(&em, 0), 0);
	ck_assert_int_eq(yamlout_scalar(&em, "/data/rules/*.yml", 0), 0);
	ck_assert_int_eq(yamlout_close(&em, 0), 0);
	ck_assert_int_eq(yamlout_close(&em, 1), 0);
	ck_assert_int_eq(yamlout_end(&em), 0);
	yaml_emitter_delete(&em);
	ck_assert_str_eq(b.p, "# head\nrule_files:\n- /data/rules/*.yml\n");
	buf_release(&b);
}
END_TEST

/* Values the resolver would take for something else are quoted, and every
 * value reads back as the string it was. */
START_TEST(test_values_read_back)
{
	static const char *const values[] = {
		"true", "no", "~", "null", "0x1F", "1e3", "- x", "a: b",
		"# no", "up == 0", "line\nbreak", "tab\there", "caf\xc3\xa9",
		"'quoted'", "\"dq\"", "",
	};
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *kv[2] = { "v", values[i] };
		yaml_parser_t p;
		yaml_document_t doc;
		yaml_node_t *root, *val;
		char *s = emit_map(kv, 2);

		ck_assert(yaml_parser_initialize(&p));
		yaml_parser_set_input_string(&p, (unsigned char *)s, strlen(s));
		ck_assert_msg(yaml_parser_load(&p, &doc), "%s", s);
		ck_assert_ptr_nonnull(root = yaml_document_get_root_node(&doc));
		ck_assert_int_eq(root->type, YAML_MAPPING_NODE);
		val = yaml_document_get_node(&doc,
		    root->data.mapping.pairs.start->value);
		ck_assert_int_eq(val->type, YAML_SCALAR_NODE);
		ck_assert_msg(strcmp((char *)val->data.scalar.value,
		    values[i]) == 0, "%s: read back as %s", values[i],
		    (char *)val->data.scalar.value);
		/* Resolver words stay strings: quoted, not plain. */
		if (strcmp(values[i], "true") == 0 ||
		    strcmp(values[i], "~") == 0)
			ck_assert_int_ne(val->data.scalar.style,
			    YAML_PLAIN_SCALAR_STYLE);
		yaml_document_delete(&doc);
		yaml_parser_delete(&p);
		free(s);
	}
}
END_TEST

static Suite *
yamlout_suite(void)
{
	Suite *s = suite_create("yamlout");
	TCase *tc = tcase_create("yaml");

	tcase_add_test(tc, test_document);
	tcase_add_test(tc, test_values_read_back);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(yamlout_suite());
}
