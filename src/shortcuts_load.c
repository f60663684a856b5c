/* shortcuts_load.c: reads the shortcut table from disk: the built-in or
 * --shortcuts file, then the alertif-* secrets merged over it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "shortcuts.h"

/* A shortcut file is a few kilobytes; anything this big is a mistake. */
#define SHORTCUTS_FILE_MAX	(1024 * 1024)

static void
shortcuts_log_refused(void *ctx, const char *origin, const char *entry,
    const char *reason)
{
	(void)ctx;
	log_warn("shortcut refused", "file", origin, "entry", entry,
	    "reason", reason);
}

/* Reads all of path into a malloc'd buffer. 0, or -1 with err. */
static int
shortcuts_read(const char *path, char **out, size_t *outlen,
    char err[ERR_MAX])
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd, saved;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, ERR_MAX, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, ERR_MAX, "%s: cannot stat: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, ERR_MAX, "%s: not a regular file", path);
		goto fail;
	}
	if (sb.st_size > SHORTCUTS_FILE_MAX) {
		snprintf(err, ERR_MAX, "%s: larger than %d bytes", path,
		    SHORTCUTS_FILE_MAX);
		goto fail;
	}
	/* Read to end of file, not st_size bytes: it may grow meanwhile. */
	cap = (size_t)sb.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto nomem;
	for (;;) {
		if (len == cap) {
			char *nb;

			if (len > SHORTCUTS_FILE_MAX)
				break;
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, ERR_MAX, "%s: cannot read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SHORTCUTS_FILE_MAX) {
		snprintf(err, ERR_MAX, "%s: larger than %d bytes", path,
		    SHORTCUTS_FILE_MAX);
		goto fail;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
nomem:
	snprintf(err, ERR_MAX, "%s: out of memory", path);
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

static int
shortcuts_merge_file(struct shortcuts *t, const char *path, char err[ERR_MAX])
{
	char *buf, count[32];
	size_t len;
	int n;

	if (shortcuts_read(path, &buf, &len, err) == -1)
		return -1;
	n = shortcuts_merge_yaml(t, buf, len, path, shortcuts_log_refused,
	    NULL, err);
	free(buf);
	if (n == -1)
		return -1;
	snprintf(count, sizeof(count), "%d", n);
	log_info("shortcut file loaded", "path", path, "entries", count);
	return 0;
}

/* DFM matched the prefix case-insensitively; so does flowmon, so that a
 * secret named alertIf-mine keeps working. */
static int
shortcuts_secret_name(const struct dirent *de)
{
	return strncasecmp(de->d_name, "alertif-", 8) == 0 ||
	    strncasecmp(de->d_name, "alertif_", 8) == 0;
}

/* Merges the alertif-* files of dir over t, in name order. A file that
 * cannot be read or parsed is logged and skipped: one broken secret must
 * not cost the others. */
static void
shortcuts_merge_secrets(struct shortcuts *t, const char *dir)
{
	struct dirent **names = NULL;
	struct stat sb;
	char path[4096], err[ERR_MAX];
	int n, i;

	if ((n = scandir(dir, &names, shortcuts_secret_name,
	    alphasort)) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("cannot read secrets dir", "path", dir,
			    "error", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) >= sizeof(path))
			continue;
		/* stat, not lstat: Docker secrets may be symlinks to files. */
		if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (shortcuts_merge_file(t, path, err) == -1) {
			const char *e = err;
			size_t len = strlen(path);

			/* err starts with the path, already in the line. */
			if (strncmp(e, path, len) == 0 && e[len] == ':')
				e += len + 2;
			log_warn("cannot load shortcut file", "path", path,
			    "error", e);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

struct shortcuts *
shortcuts_load(const char *file, const char *secrets_dir, char err[ERR_MAX])
{
	struct shortcuts *t;

	if ((t = shortcuts_new()) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	if (file == NULL) {
		if (shortcuts_merge_yaml(t, shortcuts_builtin,
		    shortcuts_builtin_len, "built-in shortcuts",
		    shortcuts_log_refused, NULL, err) == -1)
			goto fail;
	} else if (shortcuts_merge_file(t, file, err) == -1)
		goto fail;
	if (secrets_dir != NULL)
		shortcuts_merge_secrets(t, secrets_dir);
	return t;
fail:
	shortcuts_free(t);
	return NULL;
}
