/* SPDX-License-Identifier: MIT */
/* The state directory kept open across calls (state.h: lj_state_open_kept; a session's). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/core/state-internal.h"
#include "shared/macro.h"

void lj_state_keep_close(struct lj_state_keep *k)
{
	if (k->top_fd >= 0)
		close(k->top_fd);
	if (k->dir_fd >= 0)
		close(k->dir_fd);
	k->top_fd = k->dir_fd = -1;
	free(k->path);
	k->path = NULL;
}

/*
 * Are k's directories still what lj_state_open would open now? The state directory's path
 * leads to the kept top directory (stat follows the path as open_dir_path walks it: a parent
 * swapped or a directory replaced shows as another inode), its "attachments" is the kept one,
 * and both are still safe_dir. A parent made unsafe since (writable by others) does not count:
 * the path is only compared, never used to reach the records, so no one who could redirect it
 * can redirect what is written.
 */
static bool keep_valid(const struct lj_state_keep *k, const char *d)
{
	struct stat path, top, sub, dir;

	return k->top_fd >= 0 && k->path && strcmp(k->path, d) == 0 && stat(d, &path) == 0 &&
	       fstat(k->top_fd, &top) == 0 && path.st_dev == top.st_dev &&
	       path.st_ino == top.st_ino &&
	       fstatat(k->top_fd, "attachments", &sub, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstat(k->dir_fd, &dir) == 0 && sub.st_dev == dir.st_dev &&
	       sub.st_ino == dir.st_ino && lj_state_safe_dir(k->top_fd) == 0 &&
	       lj_state_safe_dir(k->dir_fd) == 0;
}

int lj_state_open_kept(struct lj_state_keep *k, bool exclusive, struct lj_state **ret)
{
	const char *d = lj_state_dir();
	struct lj_state *st;
	int r;

	if (!keep_valid(k, d)) {
		lj_state_keep_close(k);
		k->path = strdup(d);
		if (!k->path)
			return -ENOMEM;
		r = lj_state_open_dir(d, &k->top_fd);
		if (r == 0)
			r = lj_state_open_subdir(k->top_fd, "attachments", &k->dir_fd);
		if (r < 0) {
			lj_state_keep_close(k);
			return r;
		}
	}
	r = lj_state_new_locked(k->top_fd, exclusive, true, &st);
	if (r < 0)
		return r;
	st->dir_fd = k->dir_fd;
	st->top_fd = k->top_fd;
	st->borrowed = true;
	*ret = st;
	return 0;
}
