/* check_compose.c: stack files read as docker stack deploy reads them
 * (compose.c): anchors and merge keys, variables, labels as a map or a
 * list, YAML 1.1 scalars, several files merged, the modes, and the files
 * docker would refuse. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "testutil.h"

/* A fixed environment: A=a, EMPTY="", PORT=9100; the rest unset. */
static const char *
env(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "A") == 0)
		return "a";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "PORT") == 0)
		return "9100";
	return NULL;
}

static void
read_ok(struct compose *c, const char *yaml)
{
	char err[ERR_MAX];

	if (compose_read(c, yaml, strlen(yaml), env, NULL, err) == -1)
		ck_abort_msg("compose_read: %s\n%s", err, yaml);
}

static void
read_fails(const char *yaml, const char *want)
{
	struct compose c = { 0 };
	char err[ERR_MAX];

	ck_assert_msg(compose_read(&c, yaml, strlen(yaml), env, NULL,
	    err) == -1, "accepted:\n%s", yaml);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"",
	    err, want);
	compose_release(&c);
}

static const struct compose_service *
svc(const struct compose *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	ck_abort_msg("no service %s", name);
	return NULL;
}

static void
expect_label(const struct kvlist *l, const char *k, const char *v)
{
	const char *got = kvlist_get(l, k);

	ck_assert_msg(got != NULL, "no label %s", k);
	ck_assert_msg(strcmp(got, v) == 0, "label %s is \"%s\", not \"%s\"",
	    k, got, v);
}

START_TEST(labels_map_and_list)
{
	struct compose c = { 0 };

	read_ok(&c,
	    "services:\n"
	    "  web:\n"
	    "    image: x\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        com.df.notify: true\n"
	    "        com.df.scrapePort: 8080\n"
	    "        com.df.alertIf: '@service_mem_limit:0.8'\n"
	    "        empty:\n"
	    "  api:\n"
	    "    labels:\n"
	    "      - com.df.notify=true\n"
	    "      - com.df.alertLabels=a=b,c=d\n"
	    "      - bare\n"
	    "    deploy:\n"
	    "      labels: [\"com.df.notify=true\", \"com.df.scrapePort=9\"]\n");
	ck_assert_uint_eq(c.n, 2);
	/* Sorted by name. */
	ck_assert_str_eq(c.v[0].name, "api");
	ck_assert_str_eq(c.v[1].name, "web");
	expect_label(&svc(&c, "web")->deploy_labels, "com.df.notify", "true");
	expect_label(&svc(&c, "web")->deploy_labels, "com.df.scrapePort",
	    "8080");
	expect_label(&svc(&c, "web")->deploy_labels, "com.df.alertIf",
	    "@service_mem_limit:0.8");
	expect_label(&svc(&c, "web")->deploy_labels, "empty", "");
	ck_assert_uint_eq(svc(&c, "web")->labels.n, 0);
	expect_label(&svc(&c, "api")->labels, "com.df.alertLabels", "a=b,c=d");
	expect_label(&svc(&c, "api")->labels, "bare", "");
	expect_label(&svc(&c, "api")->deploy_labels, "com.df.scrapePort", "9");
	compose_release(&c);
}
END_TEST

START_TEST(scalars_as_yaml_v2)
{
	struct compose c = { 0 };
	const struct kvlist *l;

	read_ok(&c,
	    "services:\n"
	    "  s:\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        \"yes\": yes\n"
	    "        'on': On\n"
	    "        \"no\": NO\n"
	    "        quoted: 'yes'\n"
	    "        hex: 0x1F\n"
	    "        oct: 0755\n"
	    "        eight: 08\n"
	    "        under: 1_000\n"
	    "        float: 0.80\n"
	    "        big: 1e6\n"
	    "        small: 0.00001\n"
	    "        exp: 123456.5\n"
	    "        inf: .inf\n"
	    "        tilde: ~\n"
	    "        date: 2001-12-14\n"
	    "        neg: -12\n");
	l = &svc(&c, "s")->deploy_labels;
	/* Quoted keys are strings; the values are booleans. */
	expect_label(l, "yes", "true");
	expect_label(l, "on", "true");
	expect_label(l, "no", "false");
	expect_label(l, "quoted", "yes");
	expect_label(l, "hex", "31");
	expect_label(l, "oct", "493");
	expect_label(l, "eight", "8");
	expect_label(l, "under", "1000");
	expect_label(l, "float", "0.8");
	expect_label(l, "big", "1e+06");
	expect_label(l, "small", "1e-05");
	expect_label(l, "exp", "123456.5");
	expect_label(l, "inf", "+Inf");
	expect_label(l, "tilde", "");
	expect_label(l, "date", "2001-12-14");
	expect_label(l, "neg", "-12");
	compose_release(&c);
}
END_TEST

START_TEST(plain_text)
{
	char buf[64];
	int is_string;

	ck_assert_str_eq(compose_plain_text("1234567", buf, &is_string),
	    "1234567");
	ck_assert_int_eq(is_string, 0);
	ck_assert_str_eq(compose_plain_text("1234567.0", buf, &is_string),
	    "1.234567e+06");
	ck_assert_str_eq(compose_plain_text("0.0001", buf, &is_string),
	    "0.0001");
	ck_assert_str_eq(compose_plain_text(".5", buf, &is_string), "0.5");
	ck_assert_str_eq(compose_plain_text("-0.0", buf, &is_string), "-0");
	ck_assert_str_eq(compose_plain_text("0b101", buf, &is_string), "5");
	ck_assert_str_eq(compose_plain_text("0o17", buf, &is_string), "15");
	ck_assert_str_eq(compose_plain_text("18446744073709551615", buf,
	    &is_string), "18446744073709551615");
	ck_assert_str_eq(compose_plain_text("1.2.3", buf, &is_string),
	    "1.2.3");
	ck_assert_int_eq(is_string, 1);
	ck_assert_str_eq(compose_plain_text("@service_down", buf, &is_string),
	    "@service_down");
	ck_assert_int_eq(is_string, 1);
	ck_assert_str_eq(compose_plain_text("NULL", buf, &is_string), "");
	ck_assert_int_eq(is_string, 0);
}
END_TEST

START_TEST(anchors_and_merge_keys)
{
	struct compose c = { 0 };
	const struct kvlist *l;

	read_ok(&c,
	    "x-base: &base\n"
	    "  com.df.notify: \"true\"\n"
	    "  com.df.scrapePort: \"8080\"\n"
	    "  com.df.alertFor: 1m\n"
	    "x-extra: &extra\n"
	    "  com.df.alertFor: 5m\n"
	    "  com.df.scheme: https\n"
	    "x-deploy: &deploy\n"
	    "  mode: global\n"
	    "  labels: *base\n"
	    "services:\n"
	    "  one:\n"
	    "    deploy: *deploy\n"
	    "  two:\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        <<: *base\n"
	    "        com.df.scrapePort: \"9090\"\n"
	    "  three:\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        <<: [*extra, *base]\n"
	    "  four:\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        com.df.scrapePort: \"1\"\n"
	    "        <<: *base\n"
	    "  five:\n"
	    "    deploy:\n"
	    "      <<: *deploy\n"
	    "      mode: replicated\n"
	    "      replicas: 3\n");
	l = &svc(&c, "one")->deploy_labels;
	expect_label(l, "com.df.scrapePort", "8080");
	ck_assert_int_eq(svc(&c, "one")->mode, COMPOSE_GLOBAL);
	/* A key after the merge overrides it. */
	expect_label(&svc(&c, "two")->deploy_labels, "com.df.scrapePort",
	    "9090");
	expect_label(&svc(&c, "two")->deploy_labels, "com.df.alertFor", "1m");
	/* A list of maps: the earlier one wins. */
	l = &svc(&c, "three")->deploy_labels;
	expect_label(l, "com.df.alertFor", "5m");
	expect_label(l, "com.df.scheme", "https");
	expect_label(l, "com.df.notify", "true");
	/* yaml.v2 applies a merge where it stands: after a key, it wins. */
	expect_label(&svc(&c, "four")->deploy_labels, "com.df.scrapePort",
	    "8080");
	ck_assert_int_eq(svc(&c, "five")->mode, COMPOSE_REPLICATED);
	ck_assert_int_eq(svc(&c, "five")->has_replicas, 1);
	ck_assert_uint_eq(svc(&c, "five")->replicas, 3);
	expect_label(&svc(&c, "five")->deploy_labels, "com.df.notify", "true");
	compose_release(&c);
}
END_TEST

START_TEST(variables)
{
	struct compose c = { 0 };
	const struct kvlist *l;

	read_ok(&c,
	    "services:\n"
	    "  s:\n"
	    "    deploy:\n"
	    "      replicas: ${PORT}\n"
	    "      labels:\n"
	    "        set: ${A}\n"
	    "        bare: $A-$A\n"
	    "        soft_unset: ${NOPE:-d}\n"
	    "        soft_empty: ${EMPTY:-d}\n"
	    "        hard_unset: ${NOPE-d}\n"
	    "        hard_empty: \"[${EMPTY-d}]\"\n"
	    "        unset: \"[${NOPE}]\"\n"
	    "        dollar: \"$$A costs $$5\"\n"
	    "        port: \"${PORT}\"\n"
	    "        required: ${A:?needed}\n"
	    "        default_literal: ${NOPE:-${A}}\n"
	    "        ${A}: keys are not interpolated\n");
	l = &svc(&c, "s")->deploy_labels;
	expect_label(l, "set", "a");
	/* Bare $A-... takes the rest as a default, as docker does. */
	expect_label(l, "bare", "a");
	expect_label(l, "soft_unset", "d");
	expect_label(l, "soft_empty", "d");
	expect_label(l, "hard_unset", "d");
	expect_label(l, "hard_empty", "[]");
	expect_label(l, "unset", "[]");
	expect_label(l, "dollar", "$A costs $5");
	expect_label(l, "port", "9100");
	expect_label(l, "required", "a");
	/* No nesting: the default is taken up to the first '}'. */
	expect_label(l, "default_literal", "${A}");
	expect_label(l, "${A}", "keys are not interpolated");
	ck_assert_uint_eq(svc(&c, "s")->replicas, 9100);
	compose_release(&c);
}
END_TEST

START_TEST(interpolate_errors)
{
	char err[ERR_MAX], *out;

	ck_assert_int_eq(compose_interpolate("a ${A", env, NULL, &out, err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid interpolation format"));
	ck_assert_int_eq(compose_interpolate("$1", env, NULL, &out, err), -1);
	ck_assert_int_eq(compose_interpolate("${A:+x}", env, NULL, &out, err),
	    -1);
	ck_assert_int_eq(compose_interpolate("${NOPE:?set it}", env, NULL,
	    &out, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "required variable NOPE is missing "
	    "a value: set it"));
	ck_assert_int_eq(compose_interpolate("${EMPTY:?x}", env, NULL, &out,
	    err), -1);
	ck_assert_int_eq(compose_interpolate("${EMPTY?x}", env, NULL, &out,
	    err), 0);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_int_eq(compose_interpolate("no variable", env, NULL, &out,
	    err), 0);
	ck_assert_str_eq(out, "no variable");
	free(out);
	/* Anywhere in the file, as docker interpolates it all. */
	read_fails("services:\n  s:\n    image: \"x:${TAG:?tag it}\"\n",
	    "services.s.image: required variable TAG is missing a value");
	read_fails("x-note: cost $5\nservices: {}\n", "line 1: x-note: "
	    "invalid interpolation format");
}
END_TEST

START_TEST(merge_files)
{
	struct compose c = { 0 };
	const struct compose_service *s;

	read_ok(&c,
	    "services:\n"
	    "  web:\n"
	    "    labels: [com.df.x=1]\n"
	    "    deploy:\n"
	    "      replicas: 2\n"
	    "      labels:\n"
	    "        com.df.notify: \"true\"\n"
	    "        com.df.scrapePort: \"8080\"\n"
	    "        com.df.alertFor: 1m\n"
	    "  db:\n"
	    "    image: x\n");
	read_ok(&c,
	    "services:\n"
	    "  web:\n"
	    "    deploy:\n"
	    "      labels:\n"
	    "        - com.df.scrapePort=9090\n"
	    "        - com.df.alertName=down\n"
	    "  cache:\n"
	    "    deploy:\n"
	    "      mode: global\n");
	read_ok(&c,
	    "services:\n"
	    "  web:\n"
	    "    deploy:\n"
	    "      mode: global\n");
	ck_assert_uint_eq(c.n, 3);
	s = svc(&c, "web");
	expect_label(&s->deploy_labels, "com.df.notify", "true");
	expect_label(&s->deploy_labels, "com.df.scrapePort", "9090");
	expect_label(&s->deploy_labels, "com.df.alertFor", "1m");
	expect_label(&s->deploy_labels, "com.df.alertName", "down");
	expect_label(&s->labels, "com.df.x", "1");
	ck_assert_int_eq(s->mode, COMPOSE_GLOBAL);
	ck_assert_int_eq(s->has_replicas, 1);
	ck_assert_int_eq(svc(&c, "cache")->mode, COMPOSE_GLOBAL);
	ck_assert_int_eq(svc(&c, "db")->mode, COMPOSE_UNSET);
	ck_assert_int_eq(svc(&c, "db")->has_replicas, 0);
	/* A file refused halfway leaves what the others gave. */
	{
		const char *bad = "services:\n  aaa: {}\n  web:\n    deploy:\n"
		    "      labels: {com.df.scrapePort: '1'}\n  zzz: 3\n";
		char err[ERR_MAX];

		ck_assert_int_eq(compose_read(&c, bad, strlen(bad), env, NULL,
		    err), -1);
		ck_assert_ptr_nonnull(strstr(err, "services.zzz must be a map"));
		ck_assert_uint_eq(c.n, 3);
		expect_label(&svc(&c, "web")->deploy_labels,
		    "com.df.scrapePort", "9090");
	}
	compose_release(&c);
}
END_TEST

START_TEST(refused_files)
{
	read_fails("", "empty");
	read_fails("- a\n- b\n", "the top level must be a map");
	read_fails("services: [a]\n", "services must be a map");
	read_fails("services:\n  web:\n", "services.web must be a map");
	read_fails("services:\n  web:\n    deploy:\n      mode: both\n",
	    "must be replicated, global, replicated-job or global-job");
	read_fails("services:\n  web:\n    deploy:\n      replicas: \"3\"\n",
	    "replicas must be a whole number");
	read_fails("services:\n  web:\n    deploy:\n      replicas: -1\n",
	    "replicas must be a whole number");
	read_fails("services:\n  web:\n    deploy:\n      labels: [1, 2]\n",
	    "every item of a list must be a string");
	read_fails("services:\n  web:\n    deploy:\n      labels:\n"
	    "        a: [1]\n", "services.web.deploy.labels.a must be a "
	    "string, a number or a boolean");
	read_fails("services:\n  web:\n    deploy:\n      labels:\n"
	    "        <<: 3\n", "a merge key (<<) needs a map");
	read_fails("services:\n  1: {}\n", "non-string key 1");
	/* yaml.v2 reads a plain yes as true: not a string key. */
	read_fails("services:\n  s:\n    deploy:\n      labels:\n"
	    "        yes: 1\n", "non-string key yes");
	read_fails("services:\n  web: {\n", "not YAML");
}
END_TEST

START_TEST(alias_bomb_refused)
{
	/* Each level merges the one below ten times: 10^9 keys if
	 * expanded. Refused after a bounded amount of work. */
	const char *yaml =
	    "a: &a {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7}\n"
	    "b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
	    "c: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n"
	    "d: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}\n"
	    "e: &e {<<: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n"
	    "f: &f {<<: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]}\n"
	    "g: &g {<<: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]}\n"
	    "h: &h {<<: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]}\n"
	    "services:\n  web:\n    deploy:\n      labels: *h\n";

	read_fails(yaml, "merge keys expand to more than");
	/* A map that merges itself. */
	read_fails("services:\n  web:\n    deploy:\n      labels: &l\n"
	    "        a: b\n        <<: *l\n", "nested too deep");
}
END_TEST

static Suite *
compose_suite(void)
{
	Suite *s = suite_create("compose");
	TCase *tc = tcase_create("compose");

	tcase_add_test(tc, labels_map_and_list);
	tcase_add_test(tc, scalars_as_yaml_v2);
	tcase_add_test(tc, plain_text);
	tcase_add_test(tc, anchors_and_merge_keys);
	tcase_add_test(tc, variables);
	tcase_add_test(tc, interpolate_errors);
	tcase_add_test(tc, merge_files);
	tcase_add_test(tc, refused_files);
	tcase_add_test(tc, alias_bomb_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(compose_suite());
}
