/* check_registry.c: the registry over a real store in a temp data dir: which
 * files each upsert, remove and node change writes (and which it leaves
 * alone), restart from the data dir, and concurrent upserts. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "fixture.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "registry.h"
#include "reloader.h"
#include "request.h"
#include "store.h"
#include "views.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct request_ctx no_ctx = { 0 };

#define upsert		fx_upsert
#define remove_svc	fx_remove

static void
assert_res(const struct registry_result *res, int state, int targets,
    int rules)
{
	ck_assert_msg(res->wrote_state == state && res->wrote_targets ==
	    targets && res->wrote_rules == rules, "wrote state %d targets %d "
	    "rules %d, want %d %d %d", res->wrote_state, res->wrote_targets,
	    res->wrote_rules, state, targets, rules);
}

/* What a file is on disk: a rename gives a new inode, so an unchanged
 * inode and mtime mean the file was not written. */
struct fstate {
	int		exists;
	ino_t		ino;
	struct timespec	mtim;
	char		*bytes;
};

static struct fstate
fstate(const char *path)
{
	struct fstate fs;
	struct stat sb;

	memset(&fs, 0, sizeof(fs));
	if (stat(path, &sb) == -1) {
		ck_assert_int_eq(errno, ENOENT);
		return fs;
	}
	fs.exists = 1;
	fs.ino = sb.st_ino;
	fs.mtim = sb.st_mtim;
	ck_assert_ptr_nonnull(fs.bytes = tu_slurp(path));
	return fs;
}

static void
assert_unchanged(const struct fstate *a, const char *path)
{
	struct fstate b = fstate(path);

	ck_assert_msg(a->exists == b.exists, "%s: %s", path, b.exists ?
	    "appeared" : "vanished");
	if (a->exists) {
		ck_assert_msg(a->ino == b.ino && a->mtim.tv_sec ==
		    b.mtim.tv_sec && a->mtim.tv_nsec == b.mtim.tv_nsec,
		    "%s was rewritten", path);
		ck_assert_str_eq(a->bytes, b.bytes);
	}
	free(b.bytes);
}

static void
fstate_release(struct fstate *fs)
{
	free(fs->bytes);
	fs->bytes = NULL;
}

/* The three files of a service. */
struct files {
	char	*state;
	char	*targets;
	char	*rules;
};

static struct files
files_of(const struct fixture *fx, const char *name)
{
	struct files f;

	f.state = fx_path(fx, "state", name, ".json");
	f.targets = fx_path(fx, "targets", name, ".json");
	f.rules = fx_path(fx, "rules", name, ".yml");
	return f;
}

static void
files_release(struct files *f)
{
	free(f->state);
	free(f->targets);
	free(f->rules);
}

static char *
services_text(struct registry *reg)
{
	char *text = views_services(reg, NULL), *s;
	cJSON *j;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(j = cJSON_Parse(text));
	free(text);
	ck_assert_ptr_nonnull(s = cJSON_Print(j));
	cJSON_Delete(j);
	return s;
}

static uint64_t
triggers(const struct fixture *fx)
{
	struct reloader_stats rs;

	reloader_stats(fx->rl, &rs);
	return rs.triggers;
}

/* Waits (polling, bounded) until the reloader has nothing pending and
 * made at least want reloads. */
static void
wait_reloads(struct fixture *fx, int want)
{
	struct reloader_stats rs;
	int64_t deadline = clock_ms() + 5000;

	for (;;) {
		reloader_stats(fx->rl, &rs);
		if (!rs.pending && __atomic_load_n(&fx->reloads,
		    __ATOMIC_SEQ_CST) >= want)
			return;
		ck_assert_msg(clock_ms() < deadline, "reloads %d, want %d",
		    __atomic_load_n(&fx->reloads, __ATOMIC_SEQ_CST), want);
		usleep(2000);
	}
}

#define FULL	"serviceName=web&scrapePort=8080&targets=10.0.0.1:8080," \
		"10.0.0.2:8080&metricsPath=%2Fm&alertName=down&alertIf=up+%3D%3D+0" \
		"&alertFor=1m&alertLabels=severity=page"

/*
 * Upsert.
 */

START_TEST(test_upsert_writes_three)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;
	char *t, *r, *s;

	fx_open(&fx);
	f = files_of(&fx, "web");
	res = upsert(&fx, FULL);
	assert_res(&res, 1, 1, 1);
	ck_assert_int_eq(res.unknown, 0);
	ck_assert_int_eq(res.kept_tasks, 0);

	ck_assert_ptr_nonnull(s = tu_slurp(f.state));
	ck_assert_ptr_nonnull(strstr(s, "\"scrapePort\""));
	ck_assert_ptr_nonnull(t = tu_slurp(f.targets));
	ck_assert_ptr_nonnull(strstr(t, "\"10.0.0.1:8080\""));
	ck_assert_ptr_nonnull(strstr(t, "\"__metrics_path__\""));
	ck_assert_ptr_nonnull(strstr(t, "\"job\":\t\"web\""));
	ck_assert_ptr_nonnull(r = tu_slurp(f.rules));
	ck_assert_ptr_nonnull(strstr(r, "web_down"));
	ck_assert_ptr_nonnull(strstr(r, "up == 0"));
	free(s);
	free(t);
	free(r);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

START_TEST(test_upsert_identical_writes_nothing)
{
	struct fixture fx;
	struct registry_result res;
	struct fstate s, t, r;
	struct files f;
	uint64_t n;

	fx_open_reloading(&fx);
	f = files_of(&fx, "web");
	res = upsert(&fx, FULL);
	assert_res(&res, 1, 1, 1);
	ck_assert_uint_eq(n = triggers(&fx), 1);
	s = fstate(f.state);
	t = fstate(f.targets);
	r = fstate(f.rules);
	ck_assert(s.exists && t.exists && r.exists);

	/* The same request, parameters in another order and case: the same
	 * desired state, so nothing is written and no reload asked. */
	res = upsert(&fx, FULL);
	assert_res(&res, 0, 0, 0);
	res = upsert(&fx, "SCRAPEPORT=8080&alertfor=1m&alertLabels=severity=page"
	    "&alertIf=up+%3D%3D+0&alertName=down&metricsPath=%2Fm"
	    "&targets=10.0.0.2:8080,10.0.0.1:8080,10.0.0.1:8080"
	    "&serviceName=web");
	assert_res(&res, 1, 0, 0);	/* targets spelled differently */
	fstate_release(&s);
	s = fstate(f.state);
	res = upsert(&fx, "SCRAPEPORT=8080&alertfor=1m&alertLabels=severity=page"
	    "&alertIf=up+%3D%3D+0&alertName=down&metricsPath=%2Fm"
	    "&targets=10.0.0.2:8080,10.0.0.1:8080,10.0.0.1:8080"
	    "&serviceName=web");
	assert_res(&res, 0, 0, 0);
	assert_unchanged(&s, f.state);
	assert_unchanged(&t, f.targets);
	assert_unchanged(&r, f.rules);
	ck_assert_uint_eq(triggers(&fx), n);

	/* A target-only change writes targets (and state), never rules,
	 * and asks no reload. */
	res = upsert(&fx, FULL "&scrapeInterval=30s");
	assert_res(&res, 1, 1, 0);
	assert_unchanged(&r, f.rules);
	ck_assert_uint_eq(triggers(&fx), n);

	/* A rule change asks for one. */
	res = upsert(&fx, FULL "&scrapeInterval=30s&alertFor=2m");
	assert_res(&res, 1, 0, 1);
	ck_assert_uint_eq(triggers(&fx), n + 1);
	wait_reloads(&fx, 1);

	fstate_release(&s);
	fstate_release(&t);
	fstate_release(&r);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

START_TEST(test_drop_alerts_removes_rules)
{
	struct fixture fx;
	struct registry_result res;
	struct fstate t;
	struct files f;
	char *s;

	fx_open_reloading(&fx);
	f = files_of(&fx, "web");
	res = upsert(&fx, FULL);
	t = fstate(f.targets);
	ck_assert(tu_exists(f.rules));

	/* The labels were removed from the service: its alerts go. */
	res = upsert(&fx, "serviceName=web&scrapePort=8080&targets="
	    "10.0.0.1:8080,10.0.0.2:8080&metricsPath=%2Fm");
	assert_res(&res, 1, 0, 1);
	ck_assert(!tu_exists(f.rules));
	assert_unchanged(&t, f.targets);
	ck_assert_uint_eq(triggers(&fx), 2);
	ck_assert_ptr_nonnull(s = tu_slurp(f.state));
	ck_assert_ptr_null(strstr(s, "alertName"));
	free(s);

	/* And once gone, staying gone writes nothing. */
	res = upsert(&fx, "serviceName=web&scrapePort=8080&targets="
	    "10.0.0.1:8080,10.0.0.2:8080&metricsPath=%2Fm");
	assert_res(&res, 0, 0, 0);
	ck_assert_uint_eq(triggers(&fx), 2);

	fstate_release(&t);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

START_TEST(test_no_targets_no_file)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;

	fx_open(&fx);
	f = files_of(&fx, "alerts-only");
	res = upsert(&fx, "serviceName=alerts-only&alertName=a&alertIf=up");
	assert_res(&res, 1, 0, 1);
	ck_assert(tu_exists(f.state));
	ck_assert(!tu_exists(f.targets));
	ck_assert(tu_exists(f.rules));

	/* Targets, then none again: the file comes and goes. */
	res = upsert(&fx, "serviceName=alerts-only&alertName=a&alertIf=up"
	    "&scrapePort=9&scrapeType=static_configs");
	assert_res(&res, 1, 1, 0);
	ck_assert(tu_exists(f.targets));
	res = upsert(&fx, "serviceName=alerts-only&alertName=a&alertIf=up");
	assert_res(&res, 1, 1, 0);
	ck_assert(!tu_exists(f.targets));
	files_release(&f);

	/* Neither targets nor alerts: only the record. */
	f = files_of(&fx, "bare");
	res = upsert(&fx, "serviceName=bare");
	assert_res(&res, 1, 0, 0);
	ck_assert(tu_exists(f.state));
	ck_assert(!tu_exists(f.targets));
	ck_assert(!tu_exists(f.rules));

	/* Removing it deletes only what there was. */
	res = remove_svc(&fx, "bare");
	assert_res(&res, 1, 0, 0);
	ck_assert(!tu_exists(f.state));
	files_release(&f);
	res = remove_svc(&fx, "alerts-only");
	assert_res(&res, 1, 0, 1);
	fx_done(&fx);
}
END_TEST

START_TEST(test_names_do_not_collide)
{
	struct fixture fx;
	struct registry_result res;
	struct fstate t2, r2;
	struct files f, f2;

	/* DFM's bug: reconfiguring go-demo deleted go-demo2's alerts. */
	fx_open(&fx);
	f = files_of(&fx, "go-demo");
	f2 = files_of(&fx, "go-demo2");
	upsert(&fx, "serviceName=go-demo2&alertName=a&alertIf=up"
	    "&targets=h:1");
	t2 = fstate(f2.targets);
	r2 = fstate(f2.rules);
	res = upsert(&fx, "serviceName=go-demo&alertName=a&alertIf=up"
	    "&targets=h:2");
	assert_res(&res, 1, 1, 1);
	res = upsert(&fx, "serviceName=go-demo");
	assert_res(&res, 1, 1, 1);
	res = remove_svc(&fx, "go-demo");
	assert_unchanged(&t2, f2.targets);
	assert_unchanged(&r2, f2.rules);
	ck_assert(!tu_exists(f.state));
	fstate_release(&t2);
	fstate_release(&r2);
	files_release(&f);
	files_release(&f2);
	fx_done(&fx);
}
END_TEST

/*
 * Remove.
 */

/*
 * All or nothing: a change that fails at one of its writes leaves every
 * file, and the registry, as they were.
 */

/* Makes the directory path immutable (on 1) or not: then nobody, root
 * included, creates, renames or removes an entry there (a file: nobody
 * replaces, links or removes it). -1 where the file system (or the
 * caller) cannot. */
static int
set_immutable(const char *path, int on)
{
	int fd, flags, rc = -1;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

/* Temp files (kept versions among them) left in the kind dirs. */
static int
temp_files(const struct fixture *fx)
{
	static const char *const kinds[] = { "state", "targets", "rules",
	    "accepted", "rejected", "nodes" };
	struct dirent *de;
	char path[4096];
	size_t i;
	int n = 0;
	DIR *d;

	for (i = 0; i < nitems(kinds); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, kinds[i]);
		ck_assert_ptr_nonnull(d = opendir(path));
		while ((de = readdir(d)) != NULL)
			n += strstr(de->d_name, ".tmp.") != NULL;
		closedir(d);
	}
	return n;
}

/* The files of web, db and fresh, as they are now. */
struct snapshot {
	struct fstate	 fs[9];
	char		*paths[9];
	char		*services;
};

static void
snapshot_take(struct fixture *fx, struct snapshot *sn)
{
	static const char *const names[] = { "web", "db", "fresh" };
	size_t i;

	for (i = 0; i < nitems(names); i++) {
		struct files f = files_of(fx, names[i]);

		sn->paths[3 * i] = f.state;
		sn->paths[3 * i + 1] = f.targets;
		sn->paths[3 * i + 2] = f.rules;
	}
	for (i = 0; i < nitems(sn->fs); i++)
		sn->fs[i] = fstate(sn->paths[i]);
	sn->services = services_text(fx->reg);
}

static void
snapshot_check_release(struct fixture *fx, struct snapshot *sn)
{
	char *now = services_text(fx->reg);
	size_t i;

	for (i = 0; i < nitems(sn->fs); i++) {
		assert_unchanged(&sn->fs[i], sn->paths[i]);
		fstate_release(&sn->fs[i]);
		free(sn->paths[i]);
	}
	ck_assert_str_eq(now, sn->services);
	free(now);
	free(sn->services);
}

#define WEB2	"serviceName=web&targets=10.0.0.9:8080&alertName=down" \
		"&alertIf=up+%3D%3D+0&alertFor=5m"
#define FRESH	"serviceName=fresh&targets=10.0.0.7:8080&alertName=down" \
		"&alertIf=up+%3D%3D+0"
#define DB	"serviceName=db&targets=10.0.0.3:8080&alertName=down" \
		"&alertIf=up+%3D%3D+0"

START_TEST(test_failed_change_changes_nothing)
{
	static const char *const kinds[] = { "state", "targets", "rules" };
	struct registry_result res;
	struct snapshot sn;
	struct fixture fx;
	char err[ERR_MAX], *dir;
	uint64_t trig;
	size_t k;
	int rc, saved;

	fx_open_reloading(&fx);
	upsert(&fx, FULL);
	upsert(&fx, DB);
	wait_reloads(&fx, 1);
	dir = fx_path(&fx, "state", "", "");
	if (set_immutable(dir, 1) == -1) {
		tu_skip("test_failed_change_changes_nothing", "no immutable "
		    "directories here (chattr +i: needs CAP_LINUX_IMMUTABLE "
		    "and ext4, tmpfs or the like)");
		free(dir);
		fx_done(&fx);
		return;
	}
	ck_assert_int_eq(set_immutable(dir, 0), 0);
	free(dir);
	trig = triggers(&fx);
	for (k = 0; k < nitems(kinds); k++) {
		dir = fx_path(&fx, kinds[k], "", "");
		/* A new service, an update, a remove: each fails at the
		 * write into kinds[k]. */
		for (int what = 0; what < 3; what++) {
			snapshot_take(&fx, &sn);
			ck_assert_int_eq(set_immutable(dir, 1), 0);
			errno = 0;
			if (what == 2)
				rc = registry_remove(fx.reg, "db", &res, err);
			else
				rc = fx_try_upsert(&fx, what == 0 ? FRESH :
				    WEB2, &res, err);
			saved = errno;
			ck_assert_int_eq(set_immutable(dir, 0), 0);
			ck_assert_msg(rc == -1, "%s/ immutable, change %d: %d",
			    kinds[k], what, rc);
			ck_assert_int_eq(saved, EPERM);
			ck_assert_int_eq(res.fail, FM_STORAGE);
			ck_assert_msg(strstr(err, kinds[k]) != NULL, "err: %s",
			    err);
			assert_res(&res, 0, 0, 0);
			snapshot_check_release(&fx, &sn);
			ck_assert_int_eq(temp_files(&fx), 0);
		}
		free(dir);
	}
	/* No reload for changes that did not happen. */
	ck_assert_uint_eq(triggers(&fx), trig);

	/* A restart finds the records as they were: nothing to rewrite. */
	snapshot_take(&fx, &sn);
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	snapshot_check_release(&fx, &sn);

	/* And the same changes go through once the disk takes them. */
	res = upsert(&fx, FRESH);
	assert_res(&res, 1, 1, 1);
	res = upsert(&fx, WEB2);
	assert_res(&res, 1, 1, 1);
	res = remove_svc(&fx, "db");
	assert_res(&res, 1, 1, 1);
	fx_done(&fx);
}
END_TEST

START_TEST(test_remove_deletes_both)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;

	fx_open_reloading(&fx);
	f = files_of(&fx, "web");
	upsert(&fx, FULL);
	res = remove_svc(&fx, "web");
	ck_assert_int_eq(res.unknown, 0);
	assert_res(&res, 1, 1, 1);
	ck_assert(!tu_exists(f.state));
	ck_assert(!tu_exists(f.targets));
	ck_assert(!tu_exists(f.rules));
	ck_assert_ptr_null(views_service(fx.reg, NULL, NULL, "web"));
	ck_assert_uint_eq(triggers(&fx), 2);

	/* Removing again is a success that changes nothing. */
	res = remove_svc(&fx, "web");
	ck_assert_int_eq(res.unknown, 1);
	assert_res(&res, 0, 0, 0);
	ck_assert_uint_eq(triggers(&fx), 2);

	/* And it can come back. */
	res = upsert(&fx, FULL);
	assert_res(&res, 1, 1, 1);
	ck_assert(tu_exists(f.rules));
	files_release(&f);
	fx_done(&fx);
}
END_TEST

START_TEST(test_remove_unknown)
{
	struct fixture fx;
	struct registry_result res;

	fx_open_reloading(&fx);
	res = remove_svc(&fx, "never-seen");
	ck_assert_int_eq(res.unknown, 1);
	assert_res(&res, 0, 0, 0);
	ck_assert_uint_eq(triggers(&fx), 0);
	ck_assert_ptr_null(views_service(fx.reg, NULL, NULL, "never-seen"));
	fx_done(&fx);
}
END_TEST

START_TEST(test_remove_keeps_persistent)
{
	struct fixture fx;
	struct registry_result res;
	struct fstate r;
	struct files f;
	cJSON *j;
	char *rules, *state;
	size_t services, removed, nodes;

	fx_open_reloading(&fx);
	f = files_of(&fx, "db");
	upsert(&fx, "serviceName=db&targets=db:9187&alertName=gone"
	    "&alertIf=up+%3D%3D+0&alertName.2=keep&alertIf.2=absent(up)"
	    "&alertPersistent.2=true");
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(services, 1);
	ck_assert_uint_eq(removed, 0);

	res = remove_svc(&fx, "db");
	ck_assert_int_eq(res.unknown, 0);
	assert_res(&res, 1, 1, 1);
	ck_assert(!tu_exists(f.targets));
	/* The rule file stays, with only the persistent alert. */
	ck_assert_ptr_nonnull(rules = tu_slurp(f.rules));
	ck_assert_ptr_nonnull(strstr(rules, "db_keep"));
	ck_assert_ptr_null(strstr(rules, "db_gone"));
	free(rules);
	ck_assert_ptr_nonnull(state = tu_slurp(f.state));
	ck_assert_ptr_nonnull(strstr(state, "\"removed\":\ttrue"));
	free(state);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, "db"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "removed");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")),
	    1);
	cJSON_Delete(j);
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(services, 0);
	ck_assert_uint_eq(removed, 1);

	/* Removing again writes nothing. */
	r = fstate(f.rules);
	res = remove_svc(&fx, "db");
	assert_res(&res, 0, 0, 0);
	assert_unchanged(&r, f.rules);
	fstate_release(&r);

	/* The service coming back gets all its alerts and targets again. */
	res = upsert(&fx, "serviceName=db&targets=db:9187&alertName=gone"
	    "&alertIf=up+%3D%3D+0&alertName.2=keep&alertIf.2=absent(up)"
	    "&alertPersistent.2=true");
	assert_res(&res, 1, 1, 1);
	ck_assert_ptr_nonnull(rules = tu_slurp(f.rules));
	ck_assert_ptr_nonnull(strstr(rules, "db_gone"));
	free(rules);
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(services, 1);
	ck_assert_uint_eq(removed, 0);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

/*
 * Restart.
 */

START_TEST(test_load_rebuilds_and_heals)
{
	struct fixture fx;
	struct files w, d;
	struct fstate ws;
	char err[ERR_MAX] = "", *before, *after, *wt, *wr, *dr, *s;

	fx_open(&fx);
	w = files_of(&fx, "web");
	d = files_of(&fx, "db");
	upsert(&fx, FULL "&scrapeTimeout=5s&env=prod");
	upsert(&fx, "serviceName=db&targets=db:9187&alertName=gone"
	    "&alertIf=up+%3D%3D+0&alertName.2=keep&alertIf.2=absent(up)"
	    "&alertPersistent.2=true");
	upsert(&fx, "serviceName=tmp&alertName=x&alertIf=up");
	remove_svc(&fx, "db");
	remove_svc(&fx, "tmp");
	upsert(&fx, "serviceName=bare");
	before = services_text(fx.reg);
	ck_assert_ptr_nonnull(wt = tu_slurp(w.targets));
	ck_assert_ptr_nonnull(wr = tu_slurp(w.rules));
	ck_assert_ptr_nonnull(dr = tu_slurp(d.rules));
	fx_close(&fx);

	/* A crash between two writes, or an operator's hands: one output
	 * gone, one garbled. The records are the truth. */
	ck_assert_int_eq(unlink(w.targets), 0);
	tu_spit(w.rules, "groups: [ {\n");
	ws = fstate(w.state);

	fx.with_reloader = 1;
	fx_start(&fx);
	ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s", err);
	after = services_text(fx.reg);
	ck_assert_str_eq(after, before);
	ck_assert_ptr_nonnull(s = tu_slurp(w.targets));
	ck_assert_str_eq(s, wt);
	free(s);
	ck_assert_ptr_nonnull(s = tu_slurp(w.rules));
	ck_assert_str_eq(s, wr);
	free(s);
	ck_assert_ptr_nonnull(s = tu_slurp(d.rules));
	ck_assert_str_eq(s, dr);
	free(s);
	ck_assert(!tu_exists(d.targets));
	/* Healing rules asks for a reload; the record was not rewritten. */
	ck_assert_uint_eq(triggers(&fx), 1);
	assert_unchanged(&ws, w.state);
	fstate_release(&ws);
	free(after);

	/* A second start on the healed dir writes nothing at all. */
	ws = fstate(w.rules);
	fx_close(&fx);
	fx.with_reloader = 1;
	fx_start(&fx);
	ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s", err);
	ck_assert_uint_eq(triggers(&fx), 0);
	assert_unchanged(&ws, w.rules);
	after = services_text(fx.reg);
	ck_assert_str_eq(after, before);
	fstate_release(&ws);

	/* The removed service with persistent alerts is still removed:
	 * another remove writes nothing, an upsert revives it. */
	{
		struct registry_result res = remove_svc(&fx, "db");

		assert_res(&res, 0, 0, 0);
		ck_assert_int_eq(res.unknown, 0);
		res = remove_svc(&fx, "tmp");
		ck_assert_int_eq(res.unknown, 1);
	}

	free(after);
	free(before);
	free(wt);
	free(wr);
	free(dr);
	files_release(&w);
	files_release(&d);
	fx_done(&fx);
}
END_TEST

START_TEST(test_load_invalid_record)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;
	struct fstate t;
	char err[ERR_MAX] = "";
	cJSON *j;

	fx_open(&fx);
	f = files_of(&fx, "web");
	upsert(&fx, FULL);
	fx_close(&fx);
	tu_spit(f.state, "{\"params\": {\"serviceName\": \"web\", "
	    "\"scrapePort\": \"abc\"}}\n");
	t = fstate(f.targets);

	/* A record that no longer parses: its files are left alone and the
	 * services API says why. */
	fx.with_reloader = 0;
	fx_start(&fx);
	ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s", err);
	assert_unchanged(&t, f.targets);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, "web"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "invalid");
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(j,
	    "error")->valuestring, "scrapePort"));
	cJSON_Delete(j);
	ck_assert_int_eq(registry_remove(fx.reg, "web", &res, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "web"));
	assert_unchanged(&t, f.targets);

	/* A good reconfigure replaces it. */
	res = upsert(&fx, FULL);
	assert_res(&res, 1, 0, 0);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, "web"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "active");
	cJSON_Delete(j);
	fstate_release(&t);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

/*
 * Concurrency.
 */

#define NTHREADS	8
#define NROUNDS		40

/* Every worker starts each round together, so that the last round too is
 * a race and not one worker finishing alone. */
static pthread_barrier_t round_start;

struct worker {
	struct fixture	*fx;
	int		 id;
	const char	*name;
	int		 failed;
	char		 err[ERR_MAX];
};

/* The value a worker's k-th request carries: unique over all requests. */
static int
req_value(int id, int k)
{
	return 1000 + id * 100 + k;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	int k;

	for (k = 0; k < NROUNDS; k++) {
		struct kvlist params = { 0 };
		struct registry_result res;
		struct service *svc = calloc(1, sizeof(*svc));
		char *body;
		int v = req_value(w->id, k);

		pthread_barrier_wait(&round_start);
		if (w->failed) {
			free(svc);
			continue;
		}
		if (svc == NULL || asprintf(&body, "serviceName=%s"
		    "&scrapePort=%d&targets=h:%d&alertName=a&alertIf=up+%%3E+%d",
		    w->name, v, v, v) < 0)
			abort();
		if (request_decode_form(body, strlen(body), &params,
		    w->err) == -1 || request_parse(&params, &no_ctx, svc,
		    w->err) == -1 || registry_upsert(w->fx->reg, svc, &res,
		    w->err) == -1)
			w->failed = 1;
		kvlist_release(&params);
		free(body);
	}
	return NULL;
}

/* The value v of which all three files of name are the rendering; fails
 * if they disagree. */
static int
disk_value(const struct fixture *fx, const char *name)
{
	struct kvlist params = { 0 };
	struct files f = files_of(fx, name);
	char err[ERR_MAX], *s, *t, *r, want[64];
	int removed, v;

	ck_assert_ptr_nonnull(s = tu_slurp(f.state));
	ck_assert_int_eq(record_decode(s, strlen(s), &params, &removed, NULL,
	    err), 0);
	ck_assert_int_eq(removed, 0);
	v = atoi(kvlist_get(&params, "scrapePort"));
	ck_assert_ptr_nonnull(t = tu_slurp(f.targets));
	snprintf(want, sizeof(want), "\"h:%d\"", v);
	ck_assert_msg(strstr(t, want) != NULL, "targets of %s are not of "
	    "%d:\n%s", name, v, t);
	ck_assert_ptr_nonnull(r = tu_slurp(f.rules));
	snprintf(want, sizeof(want), "up > %d", v);
	ck_assert_msg(strstr(r, want) != NULL, "rules of %s are not of %d:\n%s",
	    name, v, r);
	free(s);
	free(t);
	free(r);
	kvlist_release(&params);
	files_release(&f);
	return v;
}

START_TEST(test_concurrent_same_service)
{
	struct fixture fx;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	char err[ERR_MAX] = "", *before, *after;
	int i, v, last = 0;
	cJSON *j;

	fx_open_reloading(&fx);
	ck_assert_int_eq(pthread_barrier_init(&round_start, NULL, NTHREADS),
	    0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fx = &fx;
		w[i].id = i;
		w[i].name = "shared";
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(!w[i].failed, "worker %d: %s", i, w[i].err);
	}
	pthread_barrier_destroy(&round_start);
	/* Each worker's requests were acknowledged in order, so what stays
	 * is the last request of some worker; state, targets and rules all
	 * belong to that one request, and memory agrees with the disk. */
	v = disk_value(&fx, "shared");
	for (i = 0; i < NTHREADS; i++)
		last |= v == req_value(i, NROUNDS - 1);
	ck_assert_msg(last, "the files hold request %d, which is not the last "
	    "of any worker", v);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, "shared"));
	ck_assert_int_eq(atoi(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
	    "params"), "scrapePort")->valuestring), v);
	cJSON_Delete(j);

	/* One more request after all were acknowledged wins. */
	upsert(&fx, "serviceName=shared&scrapePort=7&targets=h:7"
	    "&alertName=a&alertIf=up+%3E+7");
	ck_assert_int_eq(disk_value(&fx, "shared"), 7);

	/* And a restart sees the same. */
	before = services_text(fx.reg);
	fx_close(&fx);
	fx.with_reloader = 0;
	fx_start(&fx);
	ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s", err);
	after = services_text(fx.reg);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	fx_done(&fx);
}
END_TEST

START_TEST(test_concurrent_many_services)
{
	static const char *const names[NTHREADS] = {
		"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
	};
	struct fixture fx;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	size_t services, removed, nodes;
	int i;

	fx_open(&fx);
	ck_assert_int_eq(pthread_barrier_init(&round_start, NULL, NTHREADS),
	    0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fx = &fx;
		w[i].id = i;
		w[i].name = names[i];
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(!w[i].failed, "worker %d: %s", i, w[i].err);
	}
	pthread_barrier_destroy(&round_start);
	/* One writer per service: each ends with its own last request. */
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(disk_value(&fx, names[i]),
		    req_value(i, NROUNDS - 1));
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(services, NTHREADS);
	fx_done(&fx);
}
END_TEST

/*
 * Nodes.
 */

START_TEST(test_node_upsert_rerenders_its_services)
{
	struct fixture fx;
	struct registry_result res;
	struct kvlist labels = { 0 };
	struct files fa, fb, fc;
	struct fstate tb, tc, ra, node;
	char err[ERR_MAX] = "", *s, *np;
	size_t services, removed, nodes;

	fx_open_reloading(&fx);
	fa = files_of(&fx, "on-n1");
	fb = files_of(&fx, "on-n2");
	fc = files_of(&fx, "static");
	np = fx_path(&fx, "nodes", "n1", ".json");
	upsert(&fx, "serviceName=on-n1&scrapePort=80&alertName=a&alertIf=up"
	    "&nodeInfo=[[%22host1%22,%2210.0.1.1%22,%22n1%22],"
	    "[%22host2%22,%2210.0.1.2%22,%22n2%22]]");
	upsert(&fx, "serviceName=on-n2&scrapePort=80"
	    "&nodeInfo=[[%22host2%22,%2210.0.1.2%22,%22n2%22]]");
	upsert(&fx, "serviceName=static&scrapePort=80&targets=x:1");
	tb = fstate(fb.targets);
	tc = fstate(fc.targets);
	ra = fstate(fa.rules);
	ck_assert_uint_eq(triggers(&fx), 1);

	ck_assert_int_eq(kvlist_set(&labels, "zone", "eu-1a"), 0);
	ck_assert_msg(registry_node_upsert(fx.reg, "n1", &labels, &res,
	    err) == 0, "%s", err);
	assert_res(&res, 1, 1, 0);
	ck_assert(tu_exists(np));
	/* The task on n1 carries the node's label, the one on n2 not. */
	ck_assert_ptr_nonnull(s = tu_slurp(fa.targets));
	ck_assert_ptr_nonnull(strstr(s, "\"zone\":\t\"eu-1a\""));
	ck_assert_ptr_null(strstr(strstr(s, "\"zone\"") + 1, "\"zone\""));
	free(s);
	/* Services without a task on n1 are not touched; no rule changed,
	 * so no reload. */
	assert_unchanged(&tb, fb.targets);
	assert_unchanged(&tc, fc.targets);
	assert_unchanged(&ra, fa.rules);
	ck_assert_uint_eq(triggers(&fx), 1);
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(nodes, 1);

	/* The same labels again: nothing at all. */
	node = fstate(np);
	ck_assert_int_eq(registry_node_upsert(fx.reg, "n1", &labels, &res,
	    err), 0);
	assert_res(&res, 0, 0, 0);
	assert_unchanged(&node, np);
	fstate_release(&node);

	/* A restart keeps the node labels: the file is not rewritten. */
	{
		struct fstate ta = fstate(fa.targets);

		fx_close(&fx);
		fx.with_reloader = 1;
		fx_start(&fx);
		ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s",
		    err);
		assert_unchanged(&ta, fa.targets);
		fstate_release(&ta);
	}

	/* Node remove: the label goes from exactly that service. */
	ck_assert_msg(registry_node_remove(fx.reg, "n1", &res, err) == 0, "%s",
	    err);
	assert_res(&res, 1, 1, 0);
	ck_assert(!tu_exists(np));
	ck_assert_ptr_nonnull(s = tu_slurp(fa.targets));
	ck_assert_ptr_null(strstr(s, "zone"));
	free(s);
	assert_unchanged(&tb, fb.targets);
	assert_unchanged(&tc, fc.targets);
	ck_assert_int_eq(registry_node_remove(fx.reg, "n1", &res, err), 0);
	ck_assert_int_eq(res.unknown, 1);
	assert_res(&res, 0, 0, 0);

	kvlist_release(&labels);
	fstate_release(&tb);
	fstate_release(&tc);
	fstate_release(&ra);
	free(np);
	files_release(&fa);
	files_release(&fb);
	files_release(&fc);
	fx_done(&fx);
}
END_TEST

/*
 * A node change is all or nothing too: the node record and the target
 * file of every service with a task on the node.
 */

/* What a node change may touch, as it is now: nodes/n1.json, the target
 * files of a, b, c (tasks on n1) and of other (on n2), the labels of n1
 * in memory, the http_sd view and /services. */
struct node_snapshot {
	struct fstate	 fs[5];
	char		*paths[5];
	char		*labels;
	char		*sd;
	char		*services;
};

static char *
node_labels_text(struct fixture *fx)
{
	struct kvlist l = { 0 };
	char *s;
	int rc = registry_node_labels(fx->reg, "n1", &l);

	ck_assert_int_ge(rc, 0);
	if (asprintf(&s, "%d %s", rc, rc == 1 && l.n > 0 ?
	    kvlist_get(&l, "zone") : "-") < 0)
		abort();
	kvlist_release(&l);
	return s;
}

static char *
sd_text(struct fixture *fx)
{
	char *s = views_sd(fx->reg);

	ck_assert_ptr_nonnull(s);
	return s;
}

static void
node_snapshot_take(struct fixture *fx, struct node_snapshot *sn)
{
	static const char *const names[] = { "a", "b", "c", "other" };
	size_t i;

	sn->paths[0] = fx_path(fx, "nodes", "n1", ".json");
	for (i = 0; i < nitems(names); i++)
		sn->paths[i + 1] = fx_path(fx, "targets", names[i], ".json");
	for (i = 0; i < nitems(sn->fs); i++)
		sn->fs[i] = fstate(sn->paths[i]);
	sn->labels = node_labels_text(fx);
	sn->sd = sd_text(fx);
	sn->services = services_text(fx->reg);
}

static void
node_snapshot_check_release(struct fixture *fx, struct node_snapshot *sn)
{
	char *labels = node_labels_text(fx), *sd = sd_text(fx),
	    *services = services_text(fx->reg);
	size_t i;

	for (i = 0; i < nitems(sn->fs); i++) {
		assert_unchanged(&sn->fs[i], sn->paths[i]);
		fstate_release(&sn->fs[i]);
		free(sn->paths[i]);
	}
	ck_assert_str_eq(labels, sn->labels);
	ck_assert_str_eq(sd, sn->sd);
	ck_assert_str_eq(services, sn->services);
	free(labels);
	free(sd);
	free(services);
	free(sn->labels);
	free(sn->sd);
	free(sn->services);
}

/* One node change with path (a directory or a file) immutable: it must
 * fail with EPERM at a write there and leave everything as it was. */
static void
node_change_fails(struct fixture *fx, const char *path, int remove)
{
	struct kvlist labels = { 0 };
	struct registry_result res;
	struct node_snapshot sn;
	char err[ERR_MAX] = "";
	int rc, saved;

	ck_assert_int_eq(kvlist_set(&labels, "zone", "us-2b"), 0);
	node_snapshot_take(fx, &sn);
	ck_assert_int_eq(set_immutable(path, 1), 0);
	errno = 0;
	rc = remove ? registry_node_remove(fx->reg, "n1", &res, err) :
	    registry_node_upsert(fx->reg, "n1", &labels, &res, err);
	saved = errno;
	ck_assert_int_eq(set_immutable(path, 0), 0);
	ck_assert_msg(rc == -1, "%s immutable, node %s: %d", path, remove ?
	    "remove" : "upsert", rc);
	ck_assert_int_eq(saved, EPERM);
	ck_assert_int_eq(res.fail, FM_STORAGE);
	assert_res(&res, 0, 0, 0);
	node_snapshot_check_release(fx, &sn);
	ck_assert_int_eq(temp_files(fx), 0);
	kvlist_release(&labels);
}

#define ON_N1(name, ip)	"serviceName=" name "&scrapePort=80&alertName=x" \
		"&alertIf=up&nodeInfo=[[%22h1%22,%22" ip "%22,%22n1%22]]"

START_TEST(test_failed_node_change_changes_nothing)
{
	static const char *const names[] = { "a", "b", "c" };
	struct kvlist labels = { 0 };
	struct registry_result res;
	struct node_snapshot sn;
	struct fixture fx;
	char err[ERR_MAX] = "", *dir, *file;
	uint64_t trig;
	size_t i;

	fx_open_reloading(&fx);
	upsert(&fx, ON_N1("a", "10.0.1.1"));
	upsert(&fx, ON_N1("b", "10.0.1.2"));
	upsert(&fx, ON_N1("c", "10.0.1.3"));
	upsert(&fx, "serviceName=other&scrapePort=80"
	    "&nodeInfo=[[%22h2%22,%2210.0.2.1%22,%22n2%22]]");
	ck_assert_int_eq(kvlist_set(&labels, "zone", "eu-1a"), 0);
	ck_assert_msg(registry_node_upsert(fx.reg, "n1", &labels, &res,
	    err) == 0, "%s", err);
	wait_reloads(&fx, 1);
	dir = fx_path(&fx, "nodes", "", "");
	if (set_immutable(dir, 1) == -1) {
		tu_skip("test_failed_node_change_changes_nothing", "no "
		    "immutable files here (chattr +i: needs "
		    "CAP_LINUX_IMMUTABLE and ext4, tmpfs or the like)");
		free(dir);
		kvlist_release(&labels);
		fx_done(&fx);
		return;
	}
	ck_assert_int_eq(set_immutable(dir, 0), 0);
	trig = triggers(&fx);

	/* At the node record: nothing was written yet. */
	node_change_fails(&fx, dir, 0);
	node_change_fails(&fx, dir, 1);
	free(dir);
	/* At the first target file: the node record is put back. */
	dir = fx_path(&fx, "targets", "", "");
	node_change_fails(&fx, dir, 0);
	node_change_fails(&fx, dir, 1);
	free(dir);
	/* At each target file in turn, so also after others were written
	 * (whichever order the registry takes them in): all put back. */
	for (i = 0; i < nitems(names); i++) {
		file = fx_path(&fx, "targets", names[i], ".json");
		node_change_fails(&fx, file, 0);
		node_change_fails(&fx, file, 1);
		free(file);
	}
	ck_assert_uint_eq(triggers(&fx), trig);

	/* A restart finds the node and the target files as they were. */
	node_snapshot_take(&fx, &sn);
	fx_close(&fx);
	fx.with_reloader = 1;
	fx_start(&fx);
	fx_load(&fx);
	node_snapshot_check_release(&fx, &sn);

	/* Writable: the change goes through, to every service on n1. */
	kvlist_release(&labels);
	ck_assert_int_eq(kvlist_set(&labels, "zone", "us-2b"), 0);
	ck_assert_msg(registry_node_upsert(fx.reg, "n1", &labels, &res,
	    err) == 0, "%s", err);
	assert_res(&res, 1, 1, 0);
	for (i = 0; i < nitems(names); i++) {
		char *t;

		file = fx_path(&fx, "targets", names[i], ".json");
		ck_assert_ptr_nonnull(t = tu_slurp(file));
		ck_assert_msg(strstr(t, "us-2b") != NULL, "%s: %s", file, t);
		free(t);
		free(file);
	}
	ck_assert_msg(registry_node_remove(fx.reg, "n1", &res, err) == 0,
	    "%s", err);
	ck_assert_int_eq(temp_files(&fx), 0);
	kvlist_release(&labels);
	fx_done(&fx);
}
END_TEST

START_TEST(test_create_without_node_info_keeps_tasks)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;
	struct fstate s, t;
	char *txt;

	fx_open(&fx);
	f = files_of(&fx, "net");
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon"
	    "&nodeInfo=[[%22h1%22,%2210.0.1.1%22,%22n1%22],"
	    "[%22h3%22,%2210.0.1.3%22,%22n3%22]]");
	assert_res(&res, 1, 1, 0);
	s = fstate(f.state);
	t = fstate(f.targets);

	/* swarm-listener's start-up round: the same create without
	 * nodeInfo keeps the tasks, and so writes nothing. */
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon");
	ck_assert_int_eq(res.kept_tasks, 1);
	assert_res(&res, 0, 0, 0);
	assert_unchanged(&s, f.state);
	assert_unchanged(&t, f.targets);

	/* The same set in another order, with a repeat: no change. */
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon"
	    "&nodeInfo=[[%22h3%22,%2210.0.1.3%22,%22n3%22],"
	    "[%22h1%22,%2210.0.1.1%22,%22n1%22],"
	    "[%22h3%22,%2210.0.1.3%22,%22n3%22]]");
	assert_res(&res, 0, 0, 0);
	assert_unchanged(&s, f.state);
	assert_unchanged(&t, f.targets);

	/* A create with nodeInfo replaces them. */
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon"
	    "&nodeInfo=[[%22h2%22,%2210.0.1.2%22,%22n2%22]]");
	ck_assert_int_eq(res.kept_tasks, 0);
	assert_res(&res, 1, 1, 0);
	ck_assert_ptr_nonnull(txt = tu_slurp(f.targets));
	ck_assert_ptr_nonnull(strstr(txt, "10.0.1.2:80"));
	ck_assert_ptr_null(strstr(txt, "10.0.1.1:80"));
	free(txt);

	/* Scaled to 0, swarm-listener omits nodeInfo: no task to keep. */
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon"
	    "&replicas=0");
	ck_assert_int_eq(res.kept_tasks, 0);
	assert_res(&res, 1, 1, 0);
	ck_assert(!tu_exists(f.targets));
	ck_assert_ptr_nonnull(txt = tu_slurp(f.state));
	ck_assert_ptr_nonnull(strstr(txt, "\"nodeInfo\":\t\"[]\""));
	free(txt);
	/* Scaled up again: its new tasks. */
	res = upsert(&fx, "serviceName=net&scrapePort=80&scrapeNetwork=mon"
	    "&replicas=1&nodeInfo=[[%22h2%22,%2210.0.1.4%22,%22n2%22]]");
	assert_res(&res, 1, 1, 0);
	ck_assert_ptr_nonnull(txt = tu_slurp(f.targets));
	ck_assert_ptr_nonnull(strstr(txt, "10.0.1.4:80"));
	free(txt);

	/* Without scrapeNetwork there is nothing to keep. */
	res = upsert(&fx, "serviceName=net&scrapePort=80");
	ck_assert_int_eq(res.kept_tasks, 0);
	ck_assert(!tu_exists(f.targets));

	fstate_release(&s);
	fstate_release(&t);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

struct node_worker {
	struct fixture	*fx;
	int		 id;
	int		 failed;
	char		 err[ERR_MAX];
};

static void *
node_worker_run(void *arg)
{
	struct node_worker *w = arg;
	struct registry_result res;
	int k;

	for (k = 0; k < NROUNDS; k++) {
		struct kvlist labels = { 0 };
		char v[32];

		pthread_barrier_wait(&round_start);
		if (w->failed)
			continue;
		snprintf(v, sizeof(v), "%d", req_value(w->id, k));
		if (kvlist_set(&labels, "zone", v) == -1)
			abort();
		if (registry_node_upsert(w->fx->reg, "n1", &labels, &res,
		    w->err) == -1)
			w->failed = 1;
		kvlist_release(&labels);
	}
	return NULL;
}

START_TEST(test_concurrent_node_upserts)
{
	struct fixture fx;
	struct node_worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct kvlist labels = { 0 };
	char err[ERR_MAX] = "", *np, *buf, *id, *t, want[64];
	int i, last = 0, v;
	struct files f;

	fx_open(&fx);
	f = files_of(&fx, "svc");
	np = fx_path(&fx, "nodes", "n1", ".json");
	upsert(&fx, "serviceName=svc&scrapePort=80"
	    "&nodeInfo=[[%22host1%22,%2210.0.1.1%22,%22n1%22]]");
	ck_assert_int_eq(pthread_barrier_init(&round_start, NULL, NTHREADS),
	    0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fx = &fx;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, node_worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(!w[i].failed, "worker %d: %s", i, w[i].err);
	}
	pthread_barrier_destroy(&round_start);
	/* The node record, the labels in memory (what the target file is
	 * rendered from) and the target file are all of one request, the
	 * last of some worker. */
	ck_assert_ptr_nonnull(buf = tu_slurp(np));
	ck_assert_int_eq(record_node_decode(buf, strlen(buf), &id, &labels,
	    err), 0);
	v = atoi(kvlist_get(&labels, "zone"));
	for (i = 0; i < NTHREADS; i++)
		last |= v == req_value(i, NROUNDS - 1);
	ck_assert_msg(last, "node record holds request %d, not the last of "
	    "any worker", v);
	ck_assert_ptr_nonnull(t = tu_slurp(f.targets));
	snprintf(want, sizeof(want), "\"zone\":\t\"%d\"", v);
	ck_assert_msg(strstr(t, want) != NULL, "node record says zone %d, "
	    "target file says:\n%s", v, t);
	free(t);
	free(id);
	free(buf);
	kvlist_release(&labels);

	/* And a restart renders the same file. */
	fx_close(&fx);
	fx.with_reloader = 0;
	fx_start(&fx);
	ck_assert_msg(registry_load(fx.reg, &no_ctx, err) == 0, "%s", err);
	ck_assert_ptr_nonnull(t = tu_slurp(f.targets));
	ck_assert_msg(strstr(t, want) != NULL, "after restart:\n%s", t);
	free(t);
	free(np);
	files_release(&f);
	fx_done(&fx);
}
END_TEST


/*
 * Hardening (issue 13): --max-services, entries freed, long-name
 * collisions, self-healing.
 */

/* A body for service name: one target, one alert. */
static char *
body_of(const char *name, int v)
{
	char *b;

	ck_assert_int_gt(asprintf(&b, "serviceName=%s&targets=h:%d"
	    "&alertName=a&alertIf=up+%%3E+%d", name, v, v), 0);
	return b;
}

/* --max-target-bytes: the target file is measured as rendered (node
 * labels in), once, before anything is written. 100 tasks with a
 * 400-byte path: about 50 KB of target file. */
START_TEST(test_max_target_bytes)
{
	struct quota q = { 100, 1 << 20, 32768 };
	struct fixture fx;
	struct registry_result res;
	struct files fs;
	char err[ERR_MAX] = "", *ni, *b;

	fx_open(&fx);
	fx_load(&fx);
	registry_set_checks(fx.reg, NULL, &q);
	fs = files_of(&fx, "s");
	ni = tu_node_info_form(100);
	ck_assert_int_ne(asprintf(&b, "serviceName=s&scrapePort=9100"
	    "&metricsPath=/%0400d&nodeInfo=%s", 0, ni), -1);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_REFUSED);
	assert_res(&res, 0, 0, 0);
	ck_assert_msg(strstr(err, "target file of s") && strstr(err, "more "
	    "than --max-target-bytes (32768)"), "%s", err);
	ck_assert(!tu_exists(fs.state));
	ck_assert(!tu_exists(fs.targets));
	free(b);
	ck_assert_int_ne(asprintf(&b, "serviceName=s&scrapePort=9100"
	    "&nodeInfo=%s", ni), -1);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 0);
	free(b);
	free(ni);
	files_release(&fs);
	fx_done(&fx);
}
END_TEST

START_TEST(test_max_services)
{
	struct fixture fx;
	struct registry_result res;
	struct files fc;
	char err[ERR_MAX] = "", *b;

	fx_open(&fx);
	registry_set_max_services(fx.reg, 2);
	fc = files_of(&fx, "c");
	b = body_of("a", 1);
	upsert(&fx, b);
	free(b);
	b = body_of("b", 2);
	upsert(&fx, b);
	free(b);

	/* A third is refused, naming the limit and its flag, and nothing
	 * of it is written or kept. */
	b = body_of("c", 3);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_REFUSED);
	assert_res(&res, 0, 0, 0);
	ck_assert_msg(strstr(err, "serviceName c: a new service would exceed "
	    "--max-services 2 (FLOWMON_MAX_SERVICES)") != NULL, "%s", err);
	ck_assert(!tu_exists(fc.state));
	ck_assert(!tu_exists(fc.targets));
	ck_assert(!tu_exists(fc.rules));
	ck_assert_uint_eq(registry_entries(fx.reg), 2);

	/* Known services still change. */
	free(b);
	b = body_of("a", 10);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 1);
	free(b);

	/* A removal makes room. */
	remove_svc(&fx, "b");
	b = body_of("c", 3);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 1);
	free(b);

	/* A removed service kept for its persistent alerts still counts;
	 * it may come back. */
	remove_svc(&fx, "a");
	upsert(&fx, "serviceName=p&targets=h:1&alertName=keep"
	    "&alertIf=absent(up)&alertPersistent=true");
	remove_svc(&fx, "p");
	b = body_of("d", 4);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_REFUSED);
	free(b);
	upsert(&fx, "serviceName=p&targets=h:2&alertName=keep"
	    "&alertIf=absent(up)&alertPersistent=true");

	/* After a restart the records on disk count. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	registry_set_max_services(fx.reg, 2);
	b = body_of("d", 4);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_REFUSED);
	free(b);
	b = body_of("c", 30);
	upsert(&fx, b);
	free(b);
	files_release(&fc);
	fx_done(&fx);
}
END_TEST

/* Removing a service for good frees its entry; a removed service kept
 * for its persistent alerts keeps one; a refused request leaves none. */
START_TEST(test_remove_frees_entries)
{
	struct fixture fx;
	struct registry_result res;
	char name[32], err[ERR_MAX] = "", *b;
	size_t services, removed, nodes;
	int i, round;

	fx_open(&fx);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "svc-%d-%d", round, i);
			b = body_of(name, i + 1);
			upsert(&fx, b);
			free(b);
		}
		ck_assert_uint_eq(registry_entries(fx.reg), 300);
		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "svc-%d-%d", round, i);
			res = remove_svc(&fx, name);
			ck_assert_int_eq(res.unknown, 0);
		}
		ck_assert_uint_eq(registry_entries(fx.reg), 0);
	}
	/* Removing an unknown name creates nothing either. */
	remove_svc(&fx, "never-seen");
	ck_assert_uint_eq(registry_entries(fx.reg), 0);

	upsert(&fx, "serviceName=db&targets=db:1&alertName=keep"
	    "&alertIf=absent(up)&alertPersistent=true");
	remove_svc(&fx, "db");
	ck_assert_uint_eq(registry_entries(fx.reg), 1);
	registry_counts(fx.reg, &services, &removed, &nodes);
	ck_assert_uint_eq(removed, 1);

	/* A refused request leaves no entry. */
	registry_set_max_services(fx.reg, 1);
	ck_assert_int_eq(fx_try_upsert(&fx, "serviceName=bad&targets=h:1",
	    &res, err), -1);
	ck_assert_int_eq(res.fail, FM_REFUSED);
	ck_assert_uint_eq(registry_entries(fx.reg), 1);
	fx_done(&fx);
}
END_TEST

/* Threads creating and removing while others read every entry: no entry
 * is freed under a reader (ASan and valgrind would say), and at the end
 * nothing is left. */
struct churner {
	struct fixture	*fx;
	int		 id;
	int		 stop;		/* readers: atomic */
	int		 failed;
};

static void *
churn_run(void *arg)
{
	struct churner *c = arg;
	struct registry_result res;
	char name[32], err[ERR_MAX], *b;
	int i;

	for (i = 0; i < 200; i++) {
		/* Two workers share names: creates and removes race. */
		snprintf(name, sizeof(name), "c%d-%d", c->id / 2, i % 7);
		b = body_of(name, i + 1);
		if (fx_try_upsert(c->fx, b, &res, err) == -1 ||
		    registry_remove(c->fx->reg, name, &res, err) == -1)
			c->failed = 1;
		free(b);
	}
	return NULL;
}

static int
count_view(void *ctx, struct registry *r, const struct registry_view *v)
{
	(void)r;
	if (v->name != NULL && v->name[0] != '\0')
		(*(size_t *)ctx)++;
	return 0;
}

static void *
churn_read(void *arg)
{
	struct churner *c = arg;
	char **names;
	size_t n, seen;

	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		seen = 0;
		if (registry_view_all(c->fx->reg, count_view, &seen) == -1 ||
		    registry_active_names(c->fx->reg, UINT64_MAX, &names,
		    &n) == -1)
			c->failed = 1;
		else
			strv_free(names, n);
		(void)registry_file_owner(c->fx->reg, 0, "c0-1", "[]", 2, 0);
	}
	return NULL;
}

START_TEST(test_concurrent_create_remove)
{
	struct fixture fx;
	struct churner w[4], rd;
	pthread_t th[4], rth;
	int i;

	fx_open(&fx);
	memset(&rd, 0, sizeof(rd));
	rd.fx = &fx;
	ck_assert_int_eq(pthread_create(&rth, NULL, churn_read, &rd), 0);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fx = &fx;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, churn_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(w[i].failed, 0);
	}
	__atomic_store_n(&rd.stop, 1, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(pthread_join(rth, NULL), 0);
	ck_assert_int_eq(rd.failed, 0);
	ck_assert_uint_eq(registry_entries(fx.reg), 0);
	fx_done(&fx);
}
END_TEST

/* A long name of n bytes: c then digits. */
static char *
long_name(char c, int n, int tail)
{
	char *s = malloc((size_t)n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, (size_t)n);
	snprintf(s + n - 4, 5, "%04d", tail);
	return s;
}

/* Two long names whose shortened file names are equal cannot be made
 * (the hash would have to collide), so the collision is staged: a record
 * under the long name's file name that names another service. */
START_TEST(test_long_name_collision)
{
	struct fixture fx;
	struct registry_result res;
	struct files f;
	struct fstate st0;
	char err[ERR_MAX] = "", base[214], *name, *b, *owner;
	cJSON *j;

	name = long_name('a', 240, 1);
	store_base(name, base);
	ck_assert_str_ne(base, name);
	fx_open(&fx);
	f = files_of(&fx, base);
	tu_spit(f.state, "{\"service\": \"other\", \"removed\": false, "
	    "\"params\": {\"serviceName\": \"other\", \"targets\": \"h:1\"}}\n");
	st0 = fstate(f.state);

	/* A record appeared on disk under its file name. */
	b = body_of(name, 1);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_CONFLICT);
	ck_assert_str_eq(fm_err_name(res.fail), "conflict");
	assert_res(&res, 0, 0, 0);
	ck_assert_msg(strstr(err, "service other has that file name already")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "differs in its first 196 bytes") != NULL,
	    "%s", err);
	assert_unchanged(&st0, f.state);
	ck_assert(!tu_exists(f.targets));
	ck_assert(!tu_exists(f.rules));
	ck_assert_uint_eq(registry_entries(fx.reg), 0);

	/* Known at start (kept as an invalid record under its file name):
	 * refused from memory too. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_CONFLICT);
	assert_unchanged(&st0, f.state);
	ck_assert(!tu_exists(f.targets));

	/* A record that does not parse under that name: not taken over. */
	tu_spit(f.state, "garbage\n");
	fx_close(&fx);
	fx_start(&fx);
	ck_assert_int_eq(fx_try_upsert(&fx, b, &res, err), -1);
	ck_assert_int_eq(res.fail, FM_CONFLICT);
	ck_assert_msg(strstr(err, "a record that does not parse") != NULL,
	    "%s", err);

	/* Gone: the name is free, and its own record does not block it
	 * (reconfigure again, after a restart too). */
	ck_assert_int_eq(unlink(f.state), 0);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 1);
	ck_assert_ptr_nonnull(owner = tu_slurp(f.state));
	ck_assert_ptr_nonnull(strstr(owner, name));
	free(owner);
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	free(b);
	b = body_of(name, 2);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 1);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, name));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "active");
	cJSON_Delete(j);

	/* Its own record that no longer parses (kept under its name, not
	 * its file name): a reconfigure replaces it, one entry. */
	fx_close(&fx);
	ck_assert_ptr_nonnull(owner = tu_slurp(f.state));
	{
		/* "targets": "h:N" becomes "scrapePort": "h:N", no port. */
		char *p = strstr(owner, "\"targets\":"), *bad;

		ck_assert_ptr_nonnull(p);
		*p = '\0';
		ck_assert_int_gt(asprintf(&bad, "%s\"scrapePort\":%s", owner,
		    p + strlen("\"targets\":")), 0);
		tu_spit(f.state, bad);
		free(bad);
	}
	free(owner);
	fx_start(&fx);
	fx_load(&fx);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, name));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "invalid");
	cJSON_Delete(j);
	free(b);
	b = body_of(name, 4);
	res = upsert(&fx, b);
	ck_assert_int_eq(res.wrote_state, 1);
	ck_assert_uint_eq(registry_entries(fx.reg), 1);
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, name));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "active");
	cJSON_Delete(j);

	/* Another long name with the same first bytes but another hash has
	 * a file name of its own. */
	free(b);
	free(name);
	name = long_name('a', 240, 2);
	b = body_of(name, 3);
	res = upsert(&fx, b);
	assert_res(&res, 1, 1, 1);
	free(b);
	free(name);
	fstate_release(&st0);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

/* The listing registry_heal() is given: every file but those named in
 * gone[]. */
struct listing {
	const char	*gone[4];
};

static int
listing_has(void *ctx, int rules, const char *file)
{
	const struct listing *l = ctx;
	char want[300];
	size_t i;

	for (i = 0; i < 4 && l->gone[i] != NULL; i++) {
		snprintf(want, sizeof(want), "%s/%s", rules ? "rules" :
		    "targets", file);
		if (strcmp(l->gone[i], want) == 0)
			return 0;
	}
	return 1;
}

START_TEST(test_heal)
{
	struct fixture fx;
	struct registry_result res;
	struct listing l;
	struct files f;
	struct fstate t, r;
	struct buf mb = BUF_INIT;
	char err[ERR_MAX] = "", *t0, *r0, *t1, *r1, *sentinel;
	size_t healed[2];

	fx_open_reloading(&fx);
	fx_load(&fx);
	f = files_of(&fx, "web");
	upsert(&fx, FULL);
	wait_reloads(&fx, 1);
	ck_assert_ptr_nonnull(t0 = tu_slurp(f.targets));
	ck_assert_ptr_nonnull(r0 = tu_slurp(f.rules));

	/* Both deleted by hand: written again, the same bytes, one reload. */
	ck_assert_int_eq(unlink(f.targets), 0);
	ck_assert_int_eq(unlink(f.rules), 0);
	memset(&l, 0, sizeof(l));
	l.gone[0] = "targets/web.json";
	l.gone[1] = "rules/web.yml";
	ck_assert_msg(registry_heal(fx.reg, listing_has, &l, healed, err) == 0,
	    "%s", err);
	ck_assert_uint_eq(healed[0], 1);
	ck_assert_uint_eq(healed[1], 1);
	ck_assert_ptr_nonnull(t1 = tu_slurp(f.targets));
	ck_assert_ptr_nonnull(r1 = tu_slurp(f.rules));
	ck_assert_str_eq(t1, t0);
	ck_assert_str_eq(r1, r0);
	free(t1);
	free(r1);
	wait_reloads(&fx, 2);
	ck_assert_int_eq(metrics_render(&mb), 0);
	ck_assert_ptr_nonnull(strstr(mb.p,
	    "flowmon_files_healed_total{dir=\"targets\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(mb.p,
	    "flowmon_files_healed_total{dir=\"rules\"} 1\n"));
	buf_release(&mb);

	/* A listing older than a write: the file is there, nothing is
	 * written. */
	t = fstate(f.targets);
	r = fstate(f.rules);
	ck_assert_int_eq(registry_heal(fx.reg, listing_has, &l, healed, err),
	    0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	assert_unchanged(&t, f.targets);
	assert_unchanged(&r, f.rules);
	fstate_release(&t);
	fstate_release(&r);

	/* The sentinel too. */
	sentinel = fx_path(&fx, "targets", "_flowmon", ".json");
	ck_assert_int_eq(unlink(sentinel), 0);
	memset(&l, 0, sizeof(l));
	l.gone[0] = "targets/_flowmon.json";
	ck_assert_int_eq(registry_heal(fx.reg, listing_has, &l, healed, err),
	    0);
	ck_assert_uint_eq(healed[0], 1);
	ck_assert(tu_exists(sentinel));
	free(sentinel);

	/* A hand edit is not a vanished file; once reported, its hash is
	 * dropped and the same reconfigure writes it again. */
	tu_spit(f.targets, "[]");
	ck_assert_int_eq(registry_file_owner(fx.reg, 0, "web", "[]", 2, 1),
	    REGISTRY_OWNER_EDITED);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(registry_heal(fx.reg, listing_has, &l, healed, err),
	    0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	res = upsert(&fx, FULL);
	assert_res(&res, 0, 1, 0);
	ck_assert_ptr_nonnull(t1 = tu_slurp(f.targets));
	ck_assert_str_eq(t1, t0);
	free(t1);
	res = upsert(&fx, FULL);
	assert_res(&res, 0, 0, 0);

	/* A removed service's files are not brought back. */
	remove_svc(&fx, "web");
	memset(&l, 0, sizeof(l));
	l.gone[0] = "targets/web.json";
	l.gone[1] = "rules/web.yml";
	ck_assert_int_eq(registry_heal(fx.reg, listing_has, &l, healed, err),
	    0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	ck_assert(!tu_exists(f.targets));
	ck_assert(!tu_exists(f.rules));
	free(t0);
	free(r0);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

/* A look at one named file (an inotify event): only that file of its
 * service is written again; the other, not looked at, is left alone. */
START_TEST(test_heal_file)
{
	struct fixture fx;
	struct files f;
	struct fstate r;
	char err[ERR_MAX] = "", *t0, *t1, *sentinel;
	size_t healed[2];

	fx_open_reloading(&fx);
	fx_load(&fx);
	f = files_of(&fx, "web");
	upsert(&fx, FULL);
	wait_reloads(&fx, 1);
	ck_assert_ptr_nonnull(t0 = tu_slurp(f.targets));
	r = fstate(f.rules);
	ck_assert_int_eq(unlink(f.targets), 0);
	ck_assert_msg(registry_heal_file(fx.reg, 0, "web.json", healed,
	    err) == 0, "%s", err);
	ck_assert_uint_eq(healed[0], 1);
	ck_assert_uint_eq(healed[1], 0);
	ck_assert_ptr_nonnull(t1 = tu_slurp(f.targets));
	ck_assert_str_eq(t1, t0);
	free(t1);
	assert_unchanged(&r, f.rules);
	/* There: nothing written. Not a service's, another extension, the
	 * sentinel. */
	ck_assert_int_eq(registry_heal_file(fx.reg, 0, "web.json", healed,
	    err), 0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	ck_assert_int_eq(registry_heal_file(fx.reg, 0, "nobody.json", healed,
	    err), 0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	ck_assert_int_eq(registry_heal_file(fx.reg, 1, "web.json", healed,
	    err), 0);
	ck_assert_uint_eq(healed[0] + healed[1], 0);
	sentinel = fx_path(&fx, "targets", "_flowmon", ".json");
	ck_assert_int_eq(unlink(sentinel), 0);
	ck_assert_int_eq(registry_heal_file(fx.reg, 0, "_flowmon.json",
	    healed, err), 0);
	ck_assert_uint_eq(healed[0], 1);
	ck_assert(tu_exists(sentinel));
	/* The rule file, by its name. */
	ck_assert_int_eq(unlink(f.rules), 0);
	ck_assert_int_eq(registry_heal_file(fx.reg, 1, "web.yml", healed,
	    err), 0);
	ck_assert_uint_eq(healed[1], 1);
	ck_assert(tu_exists(f.rules));
	free(sentinel);
	free(t0);
	fstate_release(&r);
	files_release(&f);
	fx_done(&fx);
}
END_TEST

static Suite *
registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc;

	tc = tcase_create("upsert");
	tcase_add_test(tc, test_upsert_writes_three);
	tcase_add_test(tc, test_upsert_identical_writes_nothing);
	tcase_add_test(tc, test_drop_alerts_removes_rules);
	tcase_add_test(tc, test_no_targets_no_file);
	tcase_add_test(tc, test_names_do_not_collide);
	tcase_add_test(tc, test_create_without_node_info_keeps_tasks);
	suite_add_tcase(s, tc);

	tc = tcase_create("remove");
	tcase_add_test(tc, test_remove_deletes_both);
	tcase_add_test(tc, test_remove_unknown);
	tcase_add_test(tc, test_remove_keeps_persistent);
	tcase_add_test(tc, test_failed_change_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_rebuilds_and_heals);
	tcase_add_test(tc, test_load_invalid_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, test_concurrent_same_service);
	tcase_add_test(tc, test_concurrent_many_services);
	tcase_add_test(tc, test_concurrent_node_upserts);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("nodes");
	tcase_add_test(tc, test_node_upsert_rerenders_its_services);
	tcase_add_test(tc, test_failed_node_change_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("hardening");
	tcase_add_test(tc, test_max_services);
	tcase_add_test(tc, test_max_target_bytes);
	tcase_add_test(tc, test_remove_frees_entries);
	tcase_add_test(tc, test_concurrent_create_remove);
	tcase_add_test(tc, test_long_name_collision);
	tcase_add_test(tc, test_heal);
	tcase_add_test(tc, test_heal_file);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level("error");
	return tu_run(registry_suite());
}
