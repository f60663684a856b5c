/* promconfig_yaml.c: promconfig's YAML, by libyaml: the jobs of scrape
 * files read into the tree, and the tree emitted as prometheus.yml. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "log.h"
#include "promconfig.h"
#include "promconfig_impl.h"
#include "url.h"
#include "values.h"
#include "yamlout.h"

#define PC_FILE_ORDER	1000000L	/* file jobs sort after env jobs */
#define PC_DEPTH_MAX	64		/* nesting of a scrape file */
#define PC_NODES_MAX	100000		/* nodes of one scrape file, aliases expanded */
#define PC_SHARD_LABEL	"__tmp_flowmon_shard"	/* dropped after relabelling */

/*
 * Scrape files.
 */

/* A libyaml document node as a tree node; plain scalars stay plain (typed
 * as the file had them), quoted ones stay strings. */
static struct pc_node *
pc_from_yaml(yaml_document_t *doc, yaml_node_t *y, const char *key,
    long order, size_t *budget, int depth)
{
	struct pc_node *n;
	yaml_node_item_t *it;
	yaml_node_pair_t *pair;
	long pos = 0;

	if (y == NULL || depth > PC_DEPTH_MAX || *budget == 0)
		return NULL;
	(*budget)--;
	switch (y->type) {
	case YAML_SCALAR_NODE:
		n = pc_node_new(PC_SCALAR, key, order);
		n->value = pc_xstrndup((const char *)y->data.scalar.value,
		    y->data.scalar.length);
		if (strlen(n->value) != y->data.scalar.length) {
			pc_node_free(n);
			return NULL;
		}
		/* The loader tags every untagged scalar !!str, so the
		 * style is all that tells 10 from "10". */
		n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return n;
	case YAML_SEQUENCE_NODE:
		n = pc_node_new(PC_SEQ, key, order);
		for (it = y->data.sequence.items.start;
		    it < y->data.sequence.items.top; it++) {
			struct pc_node *kid = pc_from_yaml(doc,
			    yaml_document_get_node(doc, *it), NULL, pos++,
			    budget, depth + 1);

			if (kid == NULL) {
				pc_node_free(n);
				return NULL;
			}
			pc_attach(n, kid);
		}
		return n;
	case YAML_MAPPING_NODE:
		n = pc_node_new(PC_MAP, key, order);
		for (pair = y->data.mapping.pairs.start;
		    pair < y->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);
			struct pc_node *kid;
			char *ks;

			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				pc_node_free(n);
				return NULL;
			}
			ks = pc_xstrndup((const char *)k->data.scalar.value,
			    k->data.scalar.length);
			kid = pc_from_yaml(doc, yaml_document_get_node(doc,
			    pair->value), ks, pos++, budget, depth + 1);
			free(ks);
			if (kid == NULL) {
				pc_node_free(n);
				return NULL;
			}
			pc_attach(n, kid);
		}
		return n;
	default:
		return NULL;
	}
}

/* The job_name of a job map, or NULL. */
static const char *
pc_job_name(const struct pc_node *job)
{
	const struct pc_node *n;

	if (job->kind != PC_MAP || (n = pc_by_key(job, "job_name")) == NULL ||
	    n->kind != PC_SCALAR || n->value == NULL || *n->value == '\0')
		return NULL;
	return n->value;
}

/* Adds the jobs of one YAML document. */
static int
pc_add_document(struct promconfig *pc, const char *name, yaml_document_t *doc,
    yaml_node_t *root, char err[ERR_MAX])
{
	yaml_node_t *jobs = root;
	yaml_node_item_t *it, *start, *top;
	struct pc_node *seq;
	size_t budget = PC_NODES_MAX, njob = 0;

	if (root->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *pair;

		for (pair = root->data.mapping.pairs.start;
		    pair < root->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);

			if (k != NULL && k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value,
			    "scrape_configs") == 0)
				jobs = yaml_document_get_node(doc, pair->value);
		}
	}
	if (jobs == NULL || (jobs->type != YAML_SEQUENCE_NODE &&
	    jobs->type != YAML_MAPPING_NODE)) {
		snprintf(err, ERR_MAX, "scrape file %s: not a list of scrape "
		    "configs", name);
		return -1;
	}
	if (jobs->type == YAML_MAPPING_NODE) {
		/* One job alone: the list is just the root. */
		start = NULL;
		top = NULL;
	} else {
		start = jobs->data.sequence.items.start;
		top = jobs->data.sequence.items.top;
	}
	seq = pc_member(pc->root, "scrape_configs", PC_ORDER_SCRAPE, PC_SEQ);
	for (it = start; start == NULL || it < top; it++) {
		yaml_node_t *y = start == NULL ? jobs :
		    yaml_document_get_node(doc, *it);
		struct pc_node *job;

		njob++;
		job = pc_from_yaml(doc, y, NULL, PC_FILE_ORDER +
		    pc->nfile_jobs, &budget, 0);
		if (job == NULL) {
			snprintf(err, ERR_MAX, "scrape file %s: job %zu is "
			    "too deep, too large or has a key that is not a "
			    "string", name, njob);
			return -1;
		}
		if (pc_job_name(job) == NULL) {
			snprintf(err, ERR_MAX, "scrape file %s: job %zu is "
			    "not a map with a job_name", name, njob);
			pc_node_free(job);
			return -1;
		}
		if (asprintf(&job->src, "scrape file %s", name) < 0)
			abort();
		pc->nfile_jobs++;
		pc_attach(seq, job);
		if (start == NULL)
			break;
	}
	return 0;
}

int
promconfig_add_scrape_file(struct promconfig *pc, const char *name,
    const char *buf, size_t len, char err[ERR_MAX])
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = -1, ndocs = 0;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, ERR_MAX, "scrape file %s: not YAML: %s "
			    "(line %zu)", name, parser.problem ? parser.problem :
			    "parse error", parser.problem_mark.line + 1);
			goto out;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		ndocs++;
		if (pc_add_document(pc, name, &doc, root, err) == -1) {
			yaml_document_delete(&doc);
			goto out;
		}
		yaml_document_delete(&doc);
	}
	if (ndocs == 0) {
		snprintf(err, ERR_MAX, "scrape file %s: holds no scrape job",
		    name);
		goto out;
	}
	ret = 0;
out:
	yaml_parser_delete(&parser);
	return ret;
}

/*
 * Emission.
 */

static int
pc_emit_node(yaml_emitter_t *em, const struct pc_node *n)
{
	size_t i;

	if (n->kind == PC_SCALAR)
		return yamlout_scalar(em, n->value, n->plain);
	if (yamlout_open(em, n->kind == PC_MAP) == -1)
		return -1;
	for (i = 0; i < n->nkids; i++) {
		if (n->kind == PC_MAP &&
		    yamlout_scalar(em, n->kids[i]->key, 0) == -1)
			return -1;
		if (pc_emit_node(em, n->kids[i]) == -1)
			return -1;
	}
	return yamlout_close(em, n->kind == PC_MAP);
}

/* key: [value] */
static int
pc_emit_list1(yaml_emitter_t *em, const char *key, const char *value)
{
	if (yamlout_scalar(em, key, 0) == -1 || yamlout_open(em, 0) == -1 ||
	    yamlout_scalar(em, value, 0) == -1 || yamlout_close(em, 0) == -1)
		return -1;
	return 0;
}

/* flowmon's own job: every target file of the data dir. With shards, a
 * hashmod of each target's address keeps this server's part only: every
 * server of the set computes the same hash, so the parts are disjoint and
 * together hold every target. */
static int
pc_emit_flowmon_job(yaml_emitter_t *em, const char *job, const char *glob,
    long shards, long shard)
{
	char mod[24], keep[24];

	if (yamlout_open(em, 1) == -1 ||
	    yamlout_scalar(em, "job_name", 0) == -1 ||
	    yamlout_scalar(em, job, 0) == -1 ||
	    yamlout_scalar(em, "file_sd_configs", 0) == -1 ||
	    yamlout_open(em, 0) == -1 || yamlout_open(em, 1) == -1 ||
	    pc_emit_list1(em, "files", glob) == -1 ||
	    yamlout_scalar(em, "refresh_interval", 0) == -1 ||
	    yamlout_scalar(em, "30s", 1) == -1 ||
	    yamlout_close(em, 1) == -1 || yamlout_close(em, 0) == -1)
		return -1;
	if (shards > 1) {
		snprintf(mod, sizeof(mod), "%ld", shards);
		snprintf(keep, sizeof(keep), "%ld", shard);
		if (yamlout_scalar(em, "relabel_configs", 0) == -1 ||
		    yamlout_open(em, 0) == -1 ||
		    yamlout_open(em, 1) == -1 ||
		    pc_emit_list1(em, "source_labels", "__address__") == -1 ||
		    yamlout_scalar(em, "modulus", 0) == -1 ||
		    yamlout_scalar(em, mod, 1) == -1 ||
		    yamlout_scalar(em, "target_label", 0) == -1 ||
		    yamlout_scalar(em, PC_SHARD_LABEL, 0) == -1 ||
		    yamlout_scalar(em, "action", 0) == -1 ||
		    yamlout_scalar(em, "hashmod", 0) == -1 ||
		    yamlout_close(em, 1) == -1 ||
		    yamlout_open(em, 1) == -1 ||
		    pc_emit_list1(em, "source_labels", PC_SHARD_LABEL) == -1 ||
		    yamlout_scalar(em, "regex", 0) == -1 ||
		    yamlout_scalar(em, keep, 0) == -1 ||
		    yamlout_scalar(em, "action", 0) == -1 ||
		    yamlout_scalar(em, "keep", 0) == -1 ||
		    yamlout_close(em, 1) == -1 || yamlout_close(em, 0) == -1)
			return -1;
	}
	return yamlout_close(em, 1);
}

/* What only the whole tree shows: required keys, job names used twice.
 * Fills job with a name for flowmon's job no other job has. */
static int
pc_check(const struct promconfig *pc, char *job, size_t jobsz,
    char err[ERR_MAX])
{
	static const struct {
		const char *list, *key, *var;
	} required[] = {
		{ "scrape_configs", "job_name", "SCRAPE_CONFIGS" },
		{ "remote_write", "url", "REMOTE_WRITE" },
		{ "remote_read", "url", "REMOTE_READ" },
	};
	const struct pc_node *seq, *jobs;
	size_t r, i, k;
	int suffix;

	for (r = 0; r < PC_NITEMS(required); r++) {
		if ((seq = pc_by_key(pc->root, required[r].list)) == NULL)
			continue;
		for (i = 0; i < seq->nkids; i++) {
			char up[32];

			if (pc_by_key(seq->kids[i], required[r].key) != NULL)
				continue;
			for (k = 0; required[r].key[k] && k + 1 < sizeof(up);
			    k++)
				up[k] = (char)toupper(
				    (unsigned char)required[r].key[k]);
			up[k] = '\0';
			snprintf(err, ERR_MAX, "%s_%ld__%s is missing: "
			    "%s_%ld needs a %s", required[r].var,
			    seq->kids[i]->order, up, required[r].var,
			    seq->kids[i]->order, required[r].key);
			return -1;
		}
	}
	jobs = pc_by_key(pc->root, "scrape_configs");
	for (i = 0; jobs != NULL && i < jobs->nkids; i++) {
		const char *a = pc_job_name(jobs->kids[i]);

		for (k = i + 1; a != NULL && k < jobs->nkids; k++) {
			const char *b = pc_job_name(jobs->kids[k]);
			const struct pc_node *na, *nb;

			if (b == NULL || strcmp(a, b) != 0)
				continue;
			na = pc_by_key(jobs->kids[i], "job_name");
			nb = pc_by_key(jobs->kids[k], "job_name");
			snprintf(err, ERR_MAX, "job_name \"%.100s\" is used "
			    "twice: by %s and by %s", a,
			    jobs->kids[i]->src ? jobs->kids[i]->src : na->src,
			    jobs->kids[k]->src ? jobs->kids[k]->src : nb->src);
			return -1;
		}
	}
	/* flowmon's job never takes a name the user's jobs have. */
	for (suffix = 1; ; suffix++) {
		if (suffix == 1)
			snprintf(job, jobsz, "flowmon");
		else
			snprintf(job, jobsz, "flowmon_%d", suffix);
		for (i = 0; jobs != NULL && i < jobs->nkids; i++) {
			const char *a = pc_job_name(jobs->kids[i]);

			if (a != NULL && strcmp(a, job) == 0)
				break;
		}
		if (jobs == NULL || i == jobs->nkids)
			return 0;
	}
}

int
promconfig_render(const struct promconfig *pc, const char *data_dir,
    char **out, size_t *outlen, char err[ERR_MAX])
{
	static const char header[] =
	    "# Written by flowmon at start from the environment (GLOBAL_*,\n"
	    "# ALERTING__*, SCRAPE_CONFIGS_*, REMOTE_WRITE_*, REMOTE_READ_*,\n"
	    "# ARG_ALERTMANAGER_URL) and the scrape_* files of CONFIGS_DIR.\n"
	    "# Edits are lost at the next start: change the environment.\n";
	struct buf buf = BUF_INIT;
	yaml_emitter_t em;
	char job[64], *dir, *targets = NULL, *rules = NULL;
	const struct pc_node *kid;
	size_t i, dl;
	int ret = -1, scrape_done = 0, rules_done = 0;

	*out = NULL;
	*outlen = 0;
	memset(&em, 0, sizeof(em));
	if (pc_check(pc, job, sizeof(job), err) == -1)
		return -1;
	dir = pc_xstrdup(data_dir);
	for (dl = strlen(dir); dl > 1 && dir[dl - 1] == '/'; )
		dir[--dl] = '\0';
	if (asprintf(&targets, "%s/targets/*.json", strcmp(dir, "/") == 0 ?
	    "" : dir) < 0 || asprintf(&rules, "%s/rules/*.yml",
	    strcmp(dir, "/") == 0 ? "" : dir) < 0)
		abort();
	if (!values_utf8_valid(targets)) {
		snprintf(err, ERR_MAX, "data dir %s is not valid UTF-8",
		    data_dir);
		goto out;
	}
	buf_add(&buf, header, sizeof(header) - 1);
	if (pc->shards > 1) {
		buf_printf(&buf, "# Shard %ld of %ld: job %s scrapes only the "
		    "targets whose address\n# hashes to %ld; rules see this "
		    "shard's series alone.\n", pc->shard, pc->shards, job,
		    pc->shard);
	}

	if (yamlout_begin(&em, &buf) == -1 || yamlout_open(&em, 1) == -1)
		goto emitfail;
	for (i = 0; i <= pc->root->nkids; i++) {
		kid = i < pc->root->nkids ? pc->root->kids[i] : NULL;
		if (!rules_done && (kid == NULL ||
		    kid->order > PC_ORDER_RULE_FILES)) {
			if (pc_emit_list1(&em, "rule_files", rules) == -1)
				goto emitfail;
			rules_done = 1;
		}
		if (!scrape_done && (kid == NULL ||
		    kid->order > PC_ORDER_SCRAPE)) {
			/* No job of the user's: flowmon's alone. */
			if (yamlout_scalar(&em, "scrape_configs", 0) == -1 ||
			    yamlout_open(&em, 0) == -1 ||
			    pc_emit_flowmon_job(&em, job, targets,
			    pc->shards, pc->shard) == -1 ||
			    yamlout_close(&em, 0) == -1)
				goto emitfail;
			scrape_done = 1;
		}
		if (kid == NULL)
			break;
		if (yamlout_scalar(&em, kid->key, 0) == -1)
			goto emitfail;
		if (kid->order == PC_ORDER_SCRAPE) {
			size_t j;

			if (yamlout_open(&em, 0) == -1)
				goto emitfail;
			for (j = 0; j < kid->nkids; j++)
				if (pc_emit_node(&em, kid->kids[j]) == -1)
					goto emitfail;
			if (pc_emit_flowmon_job(&em, job, targets,
			    pc->shards, pc->shard) == -1 ||
			    yamlout_close(&em, 0) == -1)
				goto emitfail;
			scrape_done = 1;
		} else if (pc_emit_node(&em, kid) == -1)
			goto emitfail;
	}
	if (yamlout_close(&em, 1) == -1 || yamlout_end(&em) == -1)
		goto emitfail;
	if ((*out = buf_detach(&buf, outlen)) == NULL)
		abort();	/* start-up only, like every allocation here */
	ret = 0;
	goto out;
emitfail:
	snprintf(err, ERR_MAX, "cannot emit the Prometheus config: %s",
	    em.problem != NULL ? em.problem : "emitter error");
out:
	yaml_emitter_delete(&em);
	buf_release(&buf);
	free(dir);
	free(targets);
	free(rules);
	return ret;
}

/* 1 when a rendered config holds a secret: a password, token or key
 * Prometheus reads inline (basic_auth password, authorization credentials,
 * bearer_token, oauth2 client_secret, sigv4 secret_key), or a URL with a
 * password. A false alarm only makes the file stricter. */
int
promconfig_holds_secret(const char *buf, size_t len)
{
	static const char *const keys[] = {
		"password:", "credentials:", "bearer_token:", "client_secret:",
		"secret_key:",
	};
	const char *p;
	char *copy, *shown;
	size_t i;
	int changed;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		for (p = buf; (p = strstr(p, keys[i])) != NULL; p++)
			if (p == buf || p[-1] == ' ' || p[-1] == '\n' ||
			    p[-1] == '{' || p[-1] == '-')
				return 1;
	copy = pc_xstrdup(buf);
	if ((shown = malloc(len + 1)) == NULL)
		abort();
	changed = strcmp(url_redact_text(copy, shown, len + 1), copy) != 0;
	free(shown);
	free(copy);
	return changed;
}
