/* SPDX-License-Identifier: MIT */
/* Writing and removing the attachment records (state.h): each write atomic for readers. */
#include "lib/core/state.h"
#include "lib/core/state-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/core/plan.h"
#include "shared/macro.h"

/*
 * Where the state is on ext4 (these machines' /run), a new file costs an inode allocation,
 * whose search skips the inodes deleted moments ago (recently_deleted, on a file system
 * without a journal), and rewriting a file is a flush of its blocks when a rename replaces it
 * or when it was truncated to 0 first (auto_da_alloc): 0.15-0.6 ms per record write here
 * (issue 21). So:
 * - a record's first save (none exists) writes an unnamed file (O_TMPFILE) and links it in
 *   under the record's name: one new file, no name of its own to make, rename and remove; a
 *   process killed before the link leaves nothing. Where the file system has no O_TMPFILE, or
 *   the process may not link a file by its descriptor (CAP_DAC_READ_SEARCH), or a record
 *   exists after all, the file gets the temporary name as below;
 * - a later save writes the record's temporary file and swaps it with the record
 *   (RENAME_EXCHANGE): the text it replaces stays as the temporary file, for the next save of
 *   the transaction (lj_state_save_more), which writes it again from its start and cuts it to
 *   its new length, never truncated to 0; else it is removed.
 * Rewriting a file another process may have read is safe because every reader holds the
 * state lock (shared) and every writer holds it exclusively (lj_state_open): no reader has a
 * record open while it is rewritten. The state remembers the record it saved or read last
 * (known, and whether its temporary file is kept: spare), which tells a save of a record that
 * exists from a first one; where it does not know, a first save finds the record (EEXIST).
 */

_Static_assert(sizeof(((struct lj_state *)0)->known) == LJ_RECORD_ID_LEN, "known: a record id");

/* The name of record id's temporary file (a write in progress, or the kept one). */
static void tmp_name(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, ".%s.tmp", id);
}

/* May this process link a file by its descriptor (linkat AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH, in the initial user namespace before Linux 6.10)? Asked once; a link
 * refused after all (ENOENT) sets it false. */
static int can_link = -1;

static bool can_link_fd(void)
{
	int can = can_link;

	if (can < 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {0};

		can = syscall(SYS_capget, &h, d) == 0 &&
		      (d[CAP_DAC_READ_SEARCH / 32].effective & (1u << (CAP_DAC_READ_SEARCH % 32)));
		/* Test hook: as on a file system without O_TMPFILE (the fallback's tests). */
		if (lj_test_hook("LANJOIN_TEST_NO_TMPFILE"))
			can = 0;
		can_link = can;
	}
	return can;
}

/* Write len bytes of text to fd. 0 or -errno. */
static int write_all(int fd, const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return lj_negerrno();
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * A first save of rec (text of len bytes) as an unnamed file linked in under name. 0 when
 * the record is saved; 1 when it was not, and *ret_fd holds the written file under the
 * temporary name tmp (a record exists); -EAGAIN to save it as a later save does (no
 * O_TMPFILE here, or the temporary name exists); another -errno on failure.
 */
static int save_first(struct lj_state *st, const struct lj_record *rec, const char *text,
		      size_t len, const char *name, const char *tmp, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!can_link_fd())
		return -EAGAIN;
	fd = openat(st->dir_fd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0)
		return -EAGAIN; /* EOPNOTSUPP, EISDIR (kernels before it), EINVAL ... */
	r = write_all(fd, text, len);
	if (r < 0)
		return r;
	/* As a rename does: in the indexes before its name makes the record visible. A link
	 * refused (ENOENT: the directory is there) is no first save's here. */
	if (lj_state_mac_add(st, rec, fd, NULL) == -ENOENT)
		goto refused;
	if (linkat(fd, "", st->dir_fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == ENOENT)
		goto refused;
	if (errno != EEXIST)
		return lj_negerrno();
	/* A record is there: exchanged with it under the temporary name. */
	if (linkat(fd, "", st->dir_fd, tmp, AT_EMPTY_PATH) < 0)
		return errno == EEXIST ? -EAGAIN : lj_negerrno();
	*ret_fd = TAKE_FD(fd);
	return 1;
refused:
	can_link = 0;
	return -EAGAIN;
}

/*
 * Write rec's text, as a first save or to its temporary file, then swap it in. more: another
 * save of the record follows soon (lj_state_save_more).
 */
static int save(struct lj_state *st, const struct lj_record *rec, bool more)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	char name[LJ_RECORD_ID_LEN + 8], tmp[LJ_RECORD_ID_LEN + 16];
	bool ours = strcmp(st->known, rec->id) == 0, kept = ours && st->spare;
	json_t *o;
	size_t len;
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
	st->known[0] = '\0';
	st->spare = st->tmp_gone = false;
	r = ours ? -EAGAIN : save_first(st, rec, text, len, name, tmp, &fd);
	if (r == 0)
		goto saved;
	if (r < 0 && r != -EAGAIN)
		return r;
	if (r < 0) {
		/* The file an earlier save of this record kept, else a new one: one left by a
		 * killed process (O_EXCL fails) is written again as a kept one. */
		fd = kept ? -1
			  : openat(st->dir_fd, tmp,
				   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (!kept && errno != EEXIST)
				return lj_negerrno();
			kept = true;
			fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				    0600);
			if (fd < 0)
				return lj_negerrno();
		}
		r = write_all(fd, text, len);
		/* the end of an older, longer text (cut after the write: not to 0, see above) */
		if (r == 0 && kept && ftruncate(fd, (off_t)len) < 0)
			r = lj_negerrno();
		if (r < 0) {
			unlinkat(st->dir_fd, tmp, 0);
			return r;
		}
		lj_state_mac_add(st, rec, -1, tmp);
	}
	/*
	 * No fsync: the rename alone makes the record atomic for readers and against a crash of
	 * lanjoin. fsync would only add durability across a power loss, after which the kernel
	 * state the record describes is gone anyway (gc drops such records). Where /run is not
	 * tmpfs (ext4 on these machines), fsync forced a journal commit per save: it doubled the
	 * wall time of an attach and made it depend on other disk writers (bench/, issue 11).
	 *
	 * Swapped with the record it replaces (as atomic for readers as a rename): the old text
	 * stays as the temporary file, for the next save (more) or removed. No record yet
	 * (ENOENT), or a file system without the exchange (EINVAL): renamed.
	 */
	if (renameat2(st->dir_fd, tmp, st->dir_fd, name, RENAME_EXCHANGE) == 0) {
		if (!more)
			st->tmp_gone = unlinkat(st->dir_fd, tmp, 0) == 0;
		st->spare = more;
		goto saved;
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
	st->tmp_gone = true;
saved:
	snprintf(st->known, sizeof(st->known), "%s", rec->id);
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
	bool ours;

	if (!lj_state_valid_id(id))
		return;
	ours = strcmp(st->known, id) == 0;
	if (ours && st->tmp_gone)
		return;
	tmp_name(id, tmp, sizeof(tmp));
	if ((unlinkat(st->dir_fd, tmp, 0) == 0 || errno == ENOENT) && ours) {
		st->spare = false;
		st->tmp_gone = true;
	}
}

int lj_state_remove(struct lj_state *st, const char *id)
{
	char name[LJ_RECORD_ID_LEN + 8];

	if (!lj_state_valid_id(id))
		return -EINVAL;
	lj_state_mac_forget(st, id);
	lj_state_drop_spare(st, id);
	if (strcmp(st->known, id) == 0)
		st->known[0] = '\0';
	snprintf(name, sizeof(name), "%s.json", id);
	if (unlinkat(st->dir_fd, name, 0) < 0 && errno != ENOENT)
		return lj_negerrno();
	return 0;
}
