/* SPDX-License-Identifier: MIT */
/* What state.c shares with state-mac.c (the index of the records by MAC): not for others. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/kernel/netns.h"

struct lj_record;

struct lj_state {
	int dir_fd; /* the attachments directory */
	int top_fd; /* the state directory, for the attachments' index by MAC; else -1 */
	int lock_fd;
	bool exclusive;		 /* lock_fd is held exclusively */
	bool borrowed;		 /* dir_fd and top_fd are a session's (lj_state_open_kept) */
	struct lj_netns_id self; /* the namespace lanjoin runs in */
	uint64_t self_cookie;	 /* its cookie, 0 if unknown */
	/* A record this state knows to exist (it saved or read it last; state-save.c), else "",
	 * whether its temporary file is kept (lj_state_save_more), and whether there is none
	 * (this state's save or drop_spare removed it). */
	char known[13]; /* LJ_RECORD_ID_LEN (state.h; checked in state-save.c) */
	bool spare, tmp_gone;
};

/* A new state (free it as lj_state_close does) holding the lock file of the state directory
 * top (created with create) shared or exclusively, its dir_fd and top_fd -1 for the caller to
 * fill. 0 or -errno. */
int lj_state_new_locked(int top, bool exclusive, bool create, struct lj_state **ret);

/* Is fd a directory lanjoin may keep records in (owned by its user, writable by no one
 * else)? 0 or -errno (-EPERM). */
int lj_state_safe_dir(int fd);

/* Open (created 0700 if missing) the directory name in at, checked as lj_state_safe_dir. */
int lj_state_open_subdir(int at, const char *name, int *ret);

/* Whether id is a record id (12 lowercase hex digits). */
bool lj_state_valid_id(const char *id);

/* Load record id; with foreign, only one written by lanjoin in another network namespace
 * (else -EXDEV for those), as lj_state_load does for this namespace's. */
int lj_state_load_as(struct lj_state *st, const char *id, bool foreign, struct lj_record *ret);

/* A stream of st's directory from its start (closedir it). */
int lj_state_dir_stream(struct lj_state *st, DIR **ret);

/* qsort order of records: oldest first. */
int lj_record_cmp_created(const void *a, const void *b);

/* Link file (a record of rec written in st's directory, not yet renamed; NULL: the file open
 * as fd, not yet linked, an O_TMPFILE) into the indexes by MAC and by address, if there are
 * some (lj_state_save). 0, or -ENOENT if fd may not be linked by its descriptor (linkat
 * AT_EMPTY_PATH) where an index is there: link it by a name then. */
int lj_state_mac_add(struct lj_state *st, const struct lj_record *rec, int fd, const char *file);

/* Before record id is removed: its name in the index by MAC (lj_state_remove). */
void lj_state_mac_forget(struct lj_state *st, const char *id);

/* The records whose id starts with key (LJ_RECORD_TARGET_LEN hex digits: a target's), from
 * the index by target (state-mac.c), oldest first: 0, or -ENOENT where there is no index yet
 * (built now if st is held exclusively): list them by name then; another -errno on failure. */
int lj_state_list_target_index(struct lj_state *st, const char *key, struct lj_record **ret,
			       size_t *ret_n);

/* Take the lock file fd's flock (op: LOCK_EX or LOCK_SH), waiting as long as it takes; once the
 * wait has lasted LJ_STATE_LOCK_NOTICE_MS, the hook of lj_state_set_lock_notice (if any) hears
 * of it once, from another thread. 0 or -errno. */
int lj_state_lock_wait(int fd, int op);
