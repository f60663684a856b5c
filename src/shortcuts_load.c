/* shortcuts_load.c: reads the shortcut table from disk: the built-in or
 * --shortcuts file, then the alertif-* secrets merged over it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "shortcuts.h"
#include "store_io.h"

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

static int
shortcuts_merge_file(struct shortcuts *t, const char *path, char err[ERR_MAX])
{
	char *buf, count[32];
	size_t len;
	int n;

	if (store_read_file(path, SHORTCUTS_FILE_MAX, &buf, &len, err) == -1)
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
shortcuts_secret_name(const char *name)
{
	return strncasecmp(name, "alertif-", 8) == 0 ||
	    strncasecmp(name, "alertif_", 8) == 0;
}

/* Merges the alertif-* files of dir over t, in name order. A file that
 * cannot be read or parsed is logged and skipped: one broken secret must
 * not cost the others. */
static void
shortcuts_merge_secrets(struct shortcuts *t, const char *dir)
{
	struct store_entry *v;
	char path[4096], err[ERR_MAX];
	size_t n, i;
	int saved;

	if (store_list_dir(dir, &v, &n, err) == -1) {
		saved = errno;
		if (saved != ENOENT && saved != ENOTDIR)
			log_warn("cannot read secrets dir", "path", dir,
			    "error", strerror(saved));
		return;
	}
	for (i = 0; i < n; i++) {
		/* Links followed: Docker secrets may be links to files. */
		if (!shortcuts_secret_name(v[i].file) ||
		    !S_ISREG(v[i].sb.st_mode) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    v[i].file) >= sizeof(path))
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
	store_entries_free(v, n);
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
