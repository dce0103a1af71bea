/* SPDX-License-Identifier: MIT */
/* Writing and removing the attachment records (state.h): each write atomic for readers. */
#include "lib/core/state.h"
#include "lib/core/state-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"

/*
 * Where the state is on ext4 (these machines' /run), a new file costs an inode allocation,
 * whose search skips the inodes deleted moments ago (recently_deleted), and rewriting a file
 * is a flush of its blocks when a rename replaces it or when it was truncated to 0 first
 * (auto_da_alloc): 0.15-0.6 ms per record write here (issue 21). So a transaction's saves
 * swap one temporary file with the record (RENAME_EXCHANGE), written again from its start
 * and cut to its new length, never truncated to 0. Rewriting a file another process may have
 * read is safe because every reader holds the state lock (shared) and every writer holds it
 * exclusively (lj_state_open): no reader has a record open while it is rewritten.
 */

/* The name of record id's temporary file (a write in progress, or the kept one). */
static void tmp_name(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, ".%s.tmp", id);
}

/*
 * Write rec's text to its temporary file, then swap it in. more: another save of the record
 * follows soon (lj_state_save_more).
 */
static int save(struct lj_state *st, const struct lj_record *rec, bool more)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	char name[LJ_RECORD_ID_LEN + 8], tmp[LJ_RECORD_ID_LEN + 16];
	json_t *o;
	size_t len, off = 0;
	int r;

	o = lj_record_to_json(rec);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	snprintf(name, sizeof(name), "%s.json", rec->id);
	tmp_name(rec->id, tmp, sizeof(tmp));
	/* The file an earlier save of this record kept (lj_state_save_more), else a new one. */
	fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return lj_negerrno();
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = lj_negerrno();
			unlinkat(st->dir_fd, tmp, 0);
			return r;
		}
		off += (size_t)n;
	}
	/* the end of an older, longer text (cut after the write: not to 0, see above) */
	if (ftruncate(fd, (off_t)len) < 0) {
		r = lj_negerrno();
		unlinkat(st->dir_fd, tmp, 0);
		return r;
	}
	/*
	 * No fsync: the rename alone makes the record atomic for readers and against a crash of
	 * lanjoin. fsync would only add durability across a power loss, after which the kernel
	 * state the record describes is gone anyway (gc drops such records). Where /run is not
	 * tmpfs (ext4 on these machines), fsync forced a journal commit per save: it doubled the
	 * wall time of an attach and made it depend on other disk writers (bench/, issue 11).
	 */
	lj_state_mac_add(st, rec, tmp);
	/*
	 * Swapped with the record it replaces (as atomic for readers as a rename): the old text
	 * stays as the temporary file, for the next save (more) or removed. No record yet
	 * (ENOENT), or a file system without the exchange (EINVAL): renamed.
	 */
	if (renameat2(st->dir_fd, tmp, st->dir_fd, name, RENAME_EXCHANGE) == 0) {
		if (!more)
			unlinkat(st->dir_fd, tmp, 0);
		return 0;
	}
	if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) {
		r = lj_negerrno();
		unlinkat(st->dir_fd, tmp, 0);
		return r;
	}
	if (renameat(st->dir_fd, tmp, st->dir_fd, name) < 0) {
		r = lj_negerrno();
		unlinkat(st->dir_fd, tmp, 0);
		return r;
	}
	return 0;
}

int lj_state_save(struct lj_state *st, const struct lj_record *rec)
{
	return save(st, rec, false);
}

int lj_state_save_more(struct lj_state *st, const struct lj_record *rec)
{
	return save(st, rec, true);
}

void lj_state_drop_spare(struct lj_state *st, const char *id)
{
	char tmp[LJ_RECORD_ID_LEN + 16];

	if (!lj_state_valid_id(id))
		return;
	tmp_name(id, tmp, sizeof(tmp));
	unlinkat(st->dir_fd, tmp, 0);
}

int lj_state_remove(struct lj_state *st, const char *id)
{
	char name[LJ_RECORD_ID_LEN + 8];

	if (!lj_state_valid_id(id))
		return -EINVAL;
	lj_state_mac_forget(st, id);
	lj_state_drop_spare(st, id);
	snprintf(name, sizeof(name), "%s.json", id);
	if (unlinkat(st->dir_fd, name, 0) < 0 && errno != ENOENT)
		return lj_negerrno();
	return 0;
}
