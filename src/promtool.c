/* promtool.c: `promtool check rules` as child processes, with the rule
 * files waiting at the same moment checked by one process.
 *
 * Runs. A run is one promtool process started with many arguments
 * /dev/fd/3, /dev/fd/4, ..., each the read end of a pipe whose write end
 * flowmon keeps. promtool checks its arguments in order: it prints
 * "Checking <arg>", then blocks reading that pipe until flowmon writes a
 * rule file into it and closes it; then it prints the verdict ("  SUCCESS:
 * N rules found" on stdout, or "  FAILED:" and the reasons, each line
 * prefixed by "<arg>: ", on stderr) and goes on to the next argument. So
 * one process serves many files, fed batch after batch, and starting it
 * (most of a check's time and CPU) is paid once per run instead of once per
 * file. Verdicts are read from stdout alone, which never carries rule text,
 * so a reason quoting a rule cannot fake another file's verdict. When its
 * last argument is used the process exits and is reaped; a process that
 * loses flowmon reads end-of-file on every pipe left and exits too.
 *
 * Group commit. Callers queue their files and wait. A caller that finds
 * the queue non-empty and a run free takes as many queued files as the run
 * has slots left, whoever they belong to, feeds them, reads the verdicts
 * and wakes their callers; the rest wait. Under load the queue grows while
 * a batch is checked, and the next batch takes all of it. At most
 * max_procs processes exist (one per core, up to PROMTOOL_MAX_PROCS), all
 * started ahead of need; a run that used up its arguments is replaced at
 * once, and batches go to runs that are ready, not to one still starting,
 * unless nothing else is free.
 *
 * Nothing is written to disk: rule files travel through pipes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "metrics.h"
#include "promtool.h"

#define PROMTOOL_TIMEOUT_MS	20000	/* one batch, feeding to verdicts */
#define PROMTOOL_SLOTS_MIN	8	/* files per process, at least */
#define PROMTOOL_SLOTS_MAX	256	/* and at most */
#define PROMTOOL_MAX_PROCS	4
#define PROMTOOL_FD0		3	/* the child's first input fd */
#define PROMTOOL_ERR_MAX	(64 * 1024)	/* stderr kept per batch */

extern char **environ;

/* One promtool process and its pipes. */
struct run {
	struct run	*next;		/* idle list */
	pid_t		 pid;
	int		 out;		/* its stdout, stderr (read ends) */
	int		 errfd;
	int		 nslots;
	int		*in;		/* write ends; -1 once fed */
	char		**arg;		/* its arguments */
	int		*ok;		/* the slot's "SUCCESS" was seen */
	int		 fed;		/* slots fed so far */
	int		 seen;		/* index of the last "Checking" + 1 */
	char		 line[1024];	/* stdout's partial line */
	size_t		 llen;
	int		 dead;		/* exited or given up on */
};

/* A caller waiting for its files; woken alone, when they are all in or
 * when it may lead the next batch. */
struct waiter {
	pthread_cond_t		 cond;
	size_t			 left;		/* its files not checked yet */
};

/* A file waiting in the queue. */
struct item {
	struct item		*next;
	struct promtool_file	*f;
	struct waiter		*w;
};

struct promtool {
	char		*path;
	int		 max_procs;
	int		 slots;		/* files per process */
	pthread_mutex_t	 lock;
	struct item	*head, *tail;	/* the queue */
	struct run	*idle;		/* runs with slots left, not in use */
	int		 nprocs;	/* processes alive or being started */
	int		 busy;		/* runs being fed */
};

/* Moves fd to low or above, out of the range the child's fds are mapped
 * to, so no dup2 of the spawn overwrites a source still to be mapped. */
static int
fd_high(int fd, int low)
{
	int h;

	if (fd == -1 || fd >= low)
		return fd;
	h = fcntl(fd, F_DUPFD_CLOEXEC, low);
	close(fd);
	return h;
}

static void
run_free(struct run *run)
{
	int i, status;

	if (run == NULL)
		return;
	for (i = 0; i < run->nslots; i++) {
		if (run->in != NULL && run->in[i] != -1)
			close(run->in[i]);
		if (run->arg != NULL)
			free(run->arg[i]);
	}
	free(run->in);
	free(run->arg);
	free(run->ok);
	if (run->out != -1)
		close(run->out);
	if (run->errfd != -1)
		close(run->errfd);
	if (run->pid > 0) {
		if (run->dead || run->fed < run->nslots)
			kill(run->pid, SIGKILL);
		while (waitpid(run->pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	free(run);
}

/* Starts promtool on nslots pipes it reads in turn. NULL with err when it
 * cannot be started. */
static struct run *
run_start(const char *promtool, int nslots, char err[ERR_MAX])
{
	posix_spawn_file_actions_t fa;
	char **argv = NULL;
	int *rd = NULL, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	struct run *run;
	int i, rc = -1, e, low = PROMTOOL_FD0 + nslots + 1;

	if ((run = calloc(1, sizeof(*run))) == NULL ||
	    (run->in = calloc((size_t)nslots, sizeof(*run->in))) == NULL ||
	    (run->arg = calloc((size_t)nslots, sizeof(*run->arg))) == NULL ||
	    (run->ok = calloc((size_t)nslots, sizeof(*run->ok))) == NULL ||
	    (rd = calloc((size_t)nslots, sizeof(*rd))) == NULL ||
	    (argv = calloc((size_t)nslots + 4, sizeof(*argv))) == NULL) {
		if (run != NULL)
			run->nslots = 0;
		run_free(run);
		free(rd);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	run->nslots = nslots;
	run->out = run->errfd = -1;
	for (i = 0; i < nslots; i++)
		run->in[i] = rd[i] = -1;
	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < nslots; i++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) == -1)
			goto sys;
		rd[i] = fd_high(p[0], low);
		run->in[i] = fd_high(p[1], low);
		if (rd[i] == -1 || run->in[i] == -1)
			goto sys;
		if (asprintf(&run->arg[i], "/dev/fd/%d", PROMTOOL_FD0 + i) < 0)
			run->arg[i] = NULL;
		posix_spawn_file_actions_adddup2(&fa, rd[i], PROMTOOL_FD0 + i);
		if (run->arg[i] == NULL) {
			errno = ENOMEM;
			goto sys;
		}
	}
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
	    (po[1] = fd_high(po[1], low)) == -1 ||
	    (pe[1] = fd_high(pe[1], low)) == -1)
		goto sys;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	argv[0] = (char *)promtool;
	argv[1] = (char *)"check";
	argv[2] = (char *)"rules";
	for (i = 0; i < nslots; i++)
		argv[3 + i] = run->arg[i];
	argv[3 + nslots] = NULL;
	if ((e = posix_spawn(&run->pid, promtool, &fa, NULL, argv,
	    environ)) != 0) {
		run->pid = 0;
		snprintf(err, ERR_MAX, "cannot run %.200s: %s", promtool,
		    strerror(e));
		goto out;
	}
	run->out = po[0];
	run->errfd = pe[0];
	po[0] = pe[0] = -1;
	/* The parent reads and writes without blocking (see feed()). */
	fcntl(run->out, F_SETFL, O_NONBLOCK);
	fcntl(run->errfd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < nslots; i++)
		if (run->in[i] != -1)
			fcntl(run->in[i], F_SETFL, O_NONBLOCK);
	metrics_promtool_run();
	rc = 0;
	goto out;
sys:
	snprintf(err, ERR_MAX, "cannot run promtool: %s", strerror(errno));
out:
	posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < nslots; i++)
		if (rd[i] != -1)
			close(rd[i]);
	free(rd);
	free(argv);
	if (po[0] != -1)
		close(po[0]);
	if (po[1] != -1)
		close(po[1]);
	if (pe[0] != -1)
		close(pe[0]);
	if (pe[1] != -1)
		close(pe[1]);
	if (rc == -1) {
		run_free(run);
		return NULL;
	}
	return run;
}

/* One complete stdout line. Only our own arguments and counts appear on
 * stdout, so this is exact. */
static void
stdout_line(struct run *run, const char *line)
{
	int i;

	if (strncmp(line, "Checking ", 9) == 0) {
		for (i = run->seen; i < run->nslots; i++) {
			if (strcmp(line + 9, run->arg[i]) == 0) {
				run->seen = i + 1;
				break;
			}
		}
	} else if (strncmp(line, "  SUCCESS:", 10) == 0 && run->seen > 0)
		run->ok[run->seen - 1] = 1;
}

/* Reads what stdout has; 1 at end of file, 0 otherwise, -1 on error. */
static int
read_stdout(struct run *run)
{
	char buf[4096];
	ssize_t n;
	size_t i;

	for (;;) {
		if ((n = read(run->out, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		if (n == 0)
			return 1;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n') {
				if (run->llen < sizeof(run->line) - 1)
					run->line[run->llen++] = buf[i];
				continue;
			}
			run->line[run->llen] = '\0';
			stdout_line(run, run->line);
			run->llen = 0;
		}
	}
}

/* Appends what stderr has to *eb (bounded). 1 at end of file, 0, -1. */
static int
read_stderr(struct run *run, char *eb, size_t *elen)
{
	char sink[4096];
	ssize_t n;

	for (;;) {
		size_t room = PROMTOOL_ERR_MAX - *elen;

		if (room > 0)
			n = read(run->errfd, eb + *elen, room);
		else
			n = read(run->errfd, sink, sizeof(sink));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		if (n == 0)
			return 1;
		if (room > 0)
			*elen += (size_t)n;
	}
}

/* The reason of the file in slot, from stderr's lines "<arg>: ..." (and
 * the lines that continue them), with <arg> replaced by its shown name,
 * joined by "; ". Empty when stderr names it nowhere. */
static void
reason_of(const struct run *run, int slot, const char *eb, size_t elen,
    const char *shown, char out[ERR_MAX])
{
	const char *arg = run->arg[slot], *p = eb, *end = eb + elen, *nl;
	size_t alen = strlen(arg), used = 0;
	int mine = 0, i;

	out[0] = '\0';
	for (; p < end; p = nl + 1) {
		size_t len;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len == 0 || (len == 7 && memcmp(p, "FAILED:", 7) == 0))
			continue;
		/* A line naming an argument starts that file's reasons. */
		for (i = 0; i < run->nslots; i++) {
			size_t l = strlen(run->arg[i]);

			if (len > l && memcmp(p, run->arg[i], l) == 0 &&
			    p[l] == ':')
				break;
		}
		if (i < run->nslots)
			mine = i == slot;
		if (!mine || used >= ERR_MAX - 1)
			continue;
		if (used > 0)
			used += (size_t)snprintf(out + used, ERR_MAX - used,
			    "; ");
		if (i == slot) {
			used += (size_t)snprintf(out + used, ERR_MAX - used,
			    "%s", shown);
			p += alen;
			len -= alen;
		}
		if (used < ERR_MAX - 1)
			used += (size_t)snprintf(out + used, ERR_MAX - used,
			    "%.*s", (int)len, p);
		if (used > ERR_MAX - 1)
			used = ERR_MAX - 1;
	}
}

/* Feeds files[0..n) to the next n slots of run and fills their verdicts.
 * The run is dead afterwards when promtool ended (its last slot was used,
 * or it went away) or took too long. */
static void
feed(struct run *run, struct promtool_file **files, int n)
{
	struct pollfd pfd[3];
	char *eb;
	size_t elen = 0, off = 0;
	int64_t deadline = clock_ms() + PROMTOOL_TIMEOUT_MS;
	int first = run->fed, last = run->fed + n, i, rc;
	int out_eof = 0, err_eof = 0, status;
	const char *why = NULL;

	if ((eb = malloc(PROMTOOL_ERR_MAX)) == NULL) {
		why = "out of memory";
		run->dead = 1;
		goto verdicts;
	}
	/* Done when stdout says promtool moved past our last file (it then
	 * waits on the next slot), or when it ended. */
	while (!out_eof && run->seen <= last) {
		int np = 0, wi = -1, oi, ei = -1, left;

		/* A path argument needs no feeding: promtool reads it. */
		while (run->fed < last && run->in[run->fed] == -1)
			run->fed++;
		if ((left = (int)(deadline - clock_ms())) <= 0) {
			why = "promtool did not answer within 20 s";
			run->dead = 1;
			break;
		}
		if (run->fed < last) {
			wi = np;
			pfd[np].fd = run->in[run->fed];
			pfd[np++].events = POLLOUT;
		}
		oi = np;
		pfd[np].fd = run->out;
		pfd[np++].events = POLLIN;
		if (!err_eof) {
			ei = np;
			pfd[np].fd = run->errfd;
			pfd[np++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)np, left) == -1) {
			if (errno == EINTR)
				continue;
			why = "cannot wait for promtool";
			run->dead = 1;
			break;
		}
		if (wi != -1 && pfd[wi].revents != 0) {
			const struct promtool_file *f = files[run->fed - first];
			ssize_t w = 0;

			if (f->len > off && (w = write(run->in[run->fed],
			    f->buf + off, f->len - off)) == -1 &&
			    errno != EAGAIN && errno != EINTR) {
				/* EPIPE: promtool is gone. */
				why = "promtool stopped reading";
				run->dead = 1;
				break;
			}
			if (w > 0)
				off += (size_t)w;
			if (off >= f->len) {
				close(run->in[run->fed]);
				run->in[run->fed++] = -1;
				off = 0;
			}
		}
		if (ei != -1 && pfd[ei].revents != 0 &&
		    read_stderr(run, eb, &elen) != 0)
			err_eof = 1;
		if (pfd[oi].revents != 0 && (rc = read_stdout(run)) != 0) {
			out_eof = 1;
			if (rc == -1)
				why = "cannot read promtool's output";
		}
	}
	/* What stderr holds for our files was written before stdout moved
	 * on: take it all. */
	if (!err_eof)
		(void)read_stderr(run, eb, &elen);
	if (out_eof) {
		run->dead = 1;
		while (waitpid(run->pid, &status, 0) == -1 && errno == EINTR)
			;
		run->pid = 0;
		if ((!WIFEXITED(status) || WEXITSTATUS(status) > 1) &&
		    why == NULL)
			why = "promtool failed";
	}
verdicts:
	for (i = 0; i < n; i++) {
		struct promtool_file *f = files[i];
		int slot = first + i;

		f->rule = 0;
		f->reason[0] = '\0';
		if (slot < run->seen && run->ok[slot]) {
			f->verdict = FM_OK;
			continue;
		}
		/* Checked (promtool went past it, or ended after it) and no
		 * success: its reasons are on stderr. */
		if (eb != NULL && (slot + 1 < run->seen ||
		    (slot + 1 == run->seen && out_eof))) {
			reason_of(run, slot, eb, elen, f->shown, f->reason);
			if (f->reason[0] != '\0') {
				f->verdict = FM_REFUSED;
				f->rule = promtool_rule_of(f->reason);
				continue;
			}
		}
		f->verdict = FM_RETRY;
		snprintf(f->reason, ERR_MAX, "%s", why != NULL ? why :
		    "promtool gave no verdict");
	}
	free(eb);
}

struct promtool *
promtool_new(const char *path, int max_procs, char err[ERR_MAX])
{
	struct promtool *pt;
	struct rlimit rl;
	long slots;

	if ((pt = calloc(1, sizeof(*pt))) == NULL ||
	    (pt->path = strdup(path)) == NULL) {
		free(pt);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	if (max_procs <= 0) {
		max_procs = (int)sysconf(_SC_NPROCESSORS_ONLN);
		if (max_procs > PROMTOOL_MAX_PROCS)
			max_procs = PROMTOOL_MAX_PROCS;
	}
	pt->max_procs = max_procs < 1 ? 1 : max_procs;
	/* A quarter of the descriptors this process may open, shared by its
	 * runs (each holds one pipe end per slot). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1024;
	slots = (long)(rl.rlim_cur / 4) / pt->max_procs - 2;
	pt->slots = slots < PROMTOOL_SLOTS_MIN ? PROMTOOL_SLOTS_MIN :
	    slots > PROMTOOL_SLOTS_MAX ? PROMTOOL_SLOTS_MAX : (int)slots;
	pthread_mutex_init(&pt->lock, NULL);
	/* One run started ahead, so the first check does not wait for it;
	 * if promtool cannot run, the checks say so. */
	if ((pt->idle = run_start(pt->path, pt->slots, err)) != NULL)
		pt->nprocs = 1;
	err[0] = '\0';
	return pt;
}

void
promtool_free(struct promtool *pt)
{
	struct run *run;

	if (pt == NULL)
		return;
	/* No check is under way: the owner stops its callers first. */
	while ((run = pt->idle) != NULL) {
		pt->idle = run->next;
		run->dead = 1;
		run_free(run);
	}
	pthread_mutex_destroy(&pt->lock);
	free(pt->path);
	free(pt);
}

/* Takes up to room items off the queue (lock held). */
static int
take(struct promtool *pt, struct item **batch, int room)
{
	int n = 0;

	while (pt->head != NULL && n < room) {
		batch[n++] = pt->head;
		pt->head = pt->head->next;
	}
	if (pt->head == NULL)
		pt->tail = NULL;
	return n;
}

/* Takes an idle run off the list (lock held), preferring one that is
 * ready: it printed "Checking" for its next slot, so its start-up (most of
 * a check's cost) is behind it. NULL when none is idle. */
static struct run *
pick(struct promtool *pt)
{
	struct run **rp, **best = NULL, *run;

	for (rp = &pt->idle; (run = *rp) != NULL;) {
		if (run->seen <= run->fed && read_stdout(run) != 0) {
			/* It went away while idle (killed?): forget it. */
			*rp = run->next;
			run->dead = 1;
			run_free(run);
			pt->nprocs--;
			continue;
		}
		if (best == NULL || run->seen > run->fed)
			best = rp;
		if (run->seen > run->fed)
			break;
		rp = &run->next;
	}
	if (best == NULL)
		return NULL;
	run = *best;
	*best = run->next;
	return run;
}

/* Whether a caller should lead a batch now (lock held): there is work
 * and a ready run, or nothing is being checked and a run is idle or may be
 * started. A run still starting is left alone while another is busy: the
 * busy one is done sooner. */
static int
may_lead(struct promtool *pt)
{
	struct run *run;

	if (pt->head == NULL)
		return 0;
	for (run = pt->idle; run != NULL; run = run->next) {
		if (run->seen <= run->fed)
			(void)read_stdout(run);
		if (run->seen > run->fed)
			return 1;
	}
	return pt->busy == 0 && (pt->idle != NULL ||
	    pt->nprocs < pt->max_procs);
}

/* Puts a run back on the idle list (lock held); NULL gives its process
 * slot back. */
static void
park_run(struct promtool *pt, struct run *run)
{
	if (run == NULL) {
		pt->nprocs--;
		return;
	}
	run->next = pt->idle;
	pt->idle = run;
}

/* Runs one batch as leader: lock held on entry and on return. */
static void
lead(struct promtool *pt)
{
	struct item *batch[PROMTOOL_SLOTS_MAX];
	struct promtool_file *files[PROMTOOL_SLOTS_MAX];
	struct run *run = pick(pt), *next = NULL;
	char err[ERR_MAX];
	int n, i, spawn = run == NULL, extra = 0, failed = 0;

	pt->busy++;
	if (spawn)
		pt->nprocs++;
	/* Keep a spare process warm while there is room for one. */
	if (pt->nprocs < pt->max_procs) {
		pt->nprocs++;
		extra = 1;
	}
	n = take(pt, batch, spawn ? pt->slots : run->nslots - run->fed);
	pthread_mutex_unlock(&pt->lock);

	for (i = 0; i < n; i++)
		files[i] = batch[i]->f;
	if (spawn && (run = run_start(pt->path, pt->slots, err)) == NULL) {
		failed = 1;
		for (i = 0; i < n; i++) {
			files[i]->verdict = FM_RETRY;
			files[i]->rule = 0;
			snprintf(files[i]->reason, ERR_MAX, "%s", err);
		}
	} else {
		feed(run, files, n);
		metrics_promtool_batch((size_t)n);
	}
	if (run != NULL && (run->dead || run->fed == run->nslots)) {
		run_free(run);
		run = NULL;
		extra++;	/* its successor, in its process slot */
	}

	/* The verdicts first; then the spares, which take a while. */
	pthread_mutex_lock(&pt->lock);
	pt->busy--;
	for (i = 0; i < n; i++)
		if (--batch[i]->w->left == 0)
			pthread_cond_signal(&batch[i]->w->cond);
	if (run != NULL)
		park_run(pt, run);
	if (failed)
		pt->nprocs--;
	if (pt->head != NULL)
		pthread_cond_signal(&pt->head->w->cond);
	pthread_mutex_unlock(&pt->lock);
	/* Process slots for these were counted above: the retired run's,
	 * or the one reserved for a spare. */
	for (i = 0; i < extra; i++) {
		next = run_start(pt->path, pt->slots, err);
		pthread_mutex_lock(&pt->lock);
		park_run(pt, next);
		if (pt->head != NULL)
			pthread_cond_signal(&pt->head->w->cond);
		pthread_mutex_unlock(&pt->lock);
	}
	pthread_mutex_lock(&pt->lock);
}

void
promtool_check(struct promtool *pt, struct promtool_file *files, size_t n)
{
	struct waiter w;
	struct item *items;
	size_t i;

	if (n == 0)
		return;
	if ((items = calloc(n, sizeof(*items))) == NULL) {
		for (i = 0; i < n; i++) {
			files[i].verdict = FM_RETRY;
			files[i].rule = 0;
			snprintf(files[i].reason, ERR_MAX, "out of memory");
		}
		return;
	}
	pthread_cond_init(&w.cond, NULL);
	w.left = n;
	pthread_mutex_lock(&pt->lock);
	for (i = 0; i < n; i++) {
		items[i].f = &files[i];
		items[i].w = &w;
		if (pt->tail != NULL)
			pt->tail->next = &items[i];
		else
			pt->head = &items[i];
		pt->tail = &items[i];
	}
	while (w.left > 0) {
		/* Lead a batch when the queue has work and a run is free or
		 * may be started; else wait for a leader to finish. */
		if (may_lead(pt))
			lead(pt);
		else
			pthread_cond_wait(&w.cond, &pt->lock);
	}
	pthread_mutex_unlock(&pt->lock);
	pthread_cond_destroy(&w.cond);
	free(items);
}

int
promtool_rule_of(const char *reason)
{
	const char *p = reason;
	long n;

	/* rulefmt's wording: `group "<name>", rule <N>, "<alert>": ...`;
	 * the group name is flowmon's service name, which holds no '"'. */
	while ((p = strstr(p, "\", rule ")) != NULL) {
		char *end;

		p += strlen("\", rule ");
		n = strtol(p, &end, 10);
		if (end != p && n >= 1 && n <= 1000000 && *end == ',')
			return (int)n;
	}
	return 0;
}
