/* SPDX-License-Identifier: MIT */
/*
 * /run/lanjoin (or $LANJOIN_STATE_DIR): one JSON record per attachment, holding what was
 * done and how to undo it (its plan). Records are written atomically (temp file, rename)
 * before the kernel changes they describe, and only under the state lock.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/core/plan.h"
#include "lib/core/target.h"

#define LJ_STATE_DIR_DEFAULT "/run/lanjoin"
#define LJ_RECORD_ID_LEN 13 /* 12 hex digits + NUL */

struct lj_record {
	char id[LJ_RECORD_ID_LEN];  /* file name stem; see lj_record_id() */
	char way[16];		    /* "bridge", "macvlan", "ovs", "nat" */
	char status[16];	    /* "applying" (steps being applied, under the lock: a crash
				       window), "settling" (applied; attach waits for a DHCP
				       lease or DAD without the lock), "attached" or
				       "detaching" (a detach undoes it; left by one that was
				       killed or whose undo failed) */
	char ifname[IFNAMSIZ];	    /* inside the target */
	char host_ifname[IFNAMSIZ]; /* host side link, "" if none */
	enum lj_target_kind target_kind;
	char target_spec[LJ_TARGET_SPEC_MAX];
	char target_name[LJ_TARGET_SPEC_MAX];
	int64_t target_pid;
	char container_id[65];
	struct lj_netns_id netns;
	uint64_t netns_cookie;	       /* the target namespace's cookie (lj_netns_cookie); 0 in
					  records from before it was recorded */
	int64_t created;	       /* seconds since the epoch */
	struct lj_netns_id host_netns; /* the namespace lanjoin ran in (whose links it changed);
					  {0,0} in records from before it was recorded */
	uint64_t host_netns_cookie;    /* its cookie, 0 if not recorded */
	int64_t owner_pid;	       /* "settling": the attaching process; "detaching": the
					  detaching one; 0 otherwise */
	uint64_t owner_start;	       /* its start time (clock ticks since boot, /proc/PID/stat
					  field 22), so that a reused PID is not taken for it */
	bool drop_spec;		       /* "detaching": the attachment's stored spec (--persist)
					  goes too, once its undo is done (lj_spec_forget) */
	json_t *info;		       /* way-specific facts shown by list (owned object) */
	json_t *spec;		       /* what the user asked (the attach options by their long
					  names, see src/cli/spec.h; owned object), or NULL in
					  records from before specs were recorded */
	struct lj_plan plan;	       /* the undo plan (owned) */
};

struct lj_state;

/*
 * The MAC rec's interface has: info.mac (the address as attach found it), or failing that the
 * one its plan's veth or macvlan step asked for. false if neither.
 */
bool lj_record_mac(const struct lj_record *rec, uint8_t ret[LJ_MAC_LEN]);

/* Whether text (a MAC as "02:00:5e:00:00:01", any case; NULL: false) is rec's (lj_record_mac). */
bool lj_record_mac_is(const struct lj_record *rec, const char *text);

/*
 * Open the state directory (created 0700 if missing; refused unless owned by root and not
 * writable by others) and take its lock: exclusive when exclusive is true, else shared.
 * Errors: -errno; -EPERM for an unsafe directory.
 */
int lj_state_open(bool exclusive, struct lj_state **ret);

/*
 * The state directory and its attachments directory, opened once and kept (a session's,
 * core/session.h): top_fd and dir_fd -1 when none is kept; path is the LANJOIN_STATE_DIR they
 * were opened for.
 */
struct lj_state_keep {
	int top_fd, dir_fd;
	char *path;
};

/*
 * lj_state_open through k: the kept directories when the state directory's path still leads
 * to them (the same inodes, the attachments directory still linked in it, both still safe as
 * lj_state_open asks), else opened by path as lj_state_open does and kept in k. The lock is
 * opened and taken each time. The lj_state borrows k's descriptors (lj_state_close leaves
 * them). Returns 0 or -errno as lj_state_open.
 */
int lj_state_open_kept(struct lj_state_keep *k, bool exclusive, struct lj_state **ret);

/* Close what k keeps (k stays usable: the next lj_state_open_kept opens them again). */
void lj_state_keep_close(struct lj_state_keep *k);

/*
 * How a front end hears that a command waits for the state lock (another lanjoin holds it: an
 * attach waiting for an STP bridge port to forward keeps it up to a minute). Once an
 * lj_state_open* call has waited LJ_STATE_LOCK_NOTICE_MS, fn(lock, holders) is called once,
 * from another thread, while the call waits on: lock is the lock file's path, holders names
 * whoever holds it as lj_state_lock_holders does, or is "" when that cannot be told. One hook
 * for the process (as interrupt.h's pipe); NULL, the default, waits in silence. fn must be
 * safe to call from another thread (printing one line to stderr is).
 */
#define LJ_STATE_LOCK_NOTICE_MS 1000
typedef void (*lj_state_lock_notice_fn)(const char *lock, const char *holders);
void lj_state_set_lock_notice(lj_state_lock_notice_fn fn);

/*
 * Make the next wait for the state lock (only the next: later ones, e.g. to roll back, wait as
 * long as it takes) end at once with -EINTR when lj_interrupt_raise is called while the lock
 * is busy, nothing taken: for a front end's first lock of a command, before anything changed
 * (interrupt.h's pipe must be set up). Without it, a signal is seen once the lock is had.
 */
void lj_state_lock_interruptible_once(void);

/*
 * Who holds a lock on the file fd is open on, for a message: "lanjoin attach bridge (PID
 * 1234)", several separated by ", " (at most three named, then " and N more"), each checked
 * to hold it (lj_proc_describe_holder); "" when none can be named. Into buf (size bytes).
 */
void lj_state_lock_holders(int fd, char *buf, size_t size);

/* Why lj_state_open failed with r, for messages (-EPERM: the directory is unsafe). */
const char *lj_state_strerror(int r);

/*
 * The same for another kind of record, kept in subdirectory sub of the state directory (e.g.
 * "uplinks") under the same lock. lj_state_open is lj_state_open_sub("attachments", ...).
 */
int lj_state_open_sub(const char *sub, bool exclusive, struct lj_state **ret);

/*
 * lj_state_open_sub with a shared lock for a read-only command (list, status, uplink list):
 * creates nothing. -ENOENT when the state directory, sub or its lock file does not exist
 * (nothing was ever recorded: read as no records).
 */
int lj_state_open_read(const char *sub, struct lj_state **ret);

/*
 * The records of subdirectory sub, under the lock that st already holds (for a caller that
 * must see both kinds at once, e.g. gc). Free the result with lj_state_close; it releases
 * nothing.
 */
int lj_state_open_sibling(const struct lj_state *st, const char *sub, struct lj_state **ret);

/* Release the lock and free. NULL is fine. */
void lj_state_close(struct lj_state *st);

/* The directory in use (for messages). */
const char *lj_state_dir(void);

/*
 * Open (creating it 0700 if missing) the directory at the absolute path dir with the state
 * directory's checks: it is a real directory owned by lanjoin's user and writable by no one
 * else, and every directory above it is root's and not writable by others (see
 * lj_state_strerror for -EPERM, -EACCES; -EDESTADDRREQ for a relative path). *ret is an
 * O_DIRECTORY fd the caller closes.
 */
int lj_state_open_dir(const char *dir, int *ret);

/*
 * lj_state_open_dir, creating the missing directories above dir too (0700: lanjoin's own,
 * e.g. /var/lib/lanjoin for its spec directory); each is then checked as a parent.
 */
int lj_state_make_dir(const char *dir, int *ret);

/*
 * Compute the record id of (target key, ifname) into ret: LJ_RECORD_TARGET_LEN hex digits of a
 * hash of the target key, then digits of a hash of the pair.
 */
#define LJ_RECORD_TARGET_LEN 6
void lj_record_id(const char *target_key, const char *ifname, char ret[LJ_RECORD_ID_LEN]);

/*
 * Load record id into ret (caller frees with lj_record_free). -ENOENT if there is none,
 * -EBADMSG if it is malformed, truncated, a symlink or not lanjoin's.
 */
int lj_state_load(struct lj_state *st, const char *id, struct lj_record *ret);

/*
 * Parse and validate a record's text (size bytes, need not be NUL-terminated) as record id.
 * -EBADMSG for anything that is not a well-formed lanjoin record.
 */
int lj_record_parse(const char *buf, size_t size, const char *id, struct lj_record *ret);

/* Write rec atomically under its id. */
int lj_state_save(struct lj_state *st, const struct lj_record *rec);

/*
 * lj_state_save, when another save of rec follows soon (a transaction's progress): the text
 * it replaces stays as the record's temporary file (".ID.tmp"), which the next save writes
 * again instead of making a new file (state-save.c). lj_state_save and lj_state_remove
 * remove it, as lj_state_drop_spare does; one left by a killed process is swept as any
 * other (gc).
 */
int lj_state_save_more(struct lj_state *st, const struct lj_record *rec);

/* Remove the temporary file lj_state_save_more kept for record id, if there is one. */
void lj_state_drop_spare(struct lj_state *st, const char *id);

/* Remove record id; -ENOENT is success. */
int lj_state_remove(struct lj_state *st, const char *id);

/*
 * Records belong to the network namespace lanjoin ran in: lj_state_load returns -EXDEV and
 * lj_state_list skips (counting them in *ret_other) the records written from another one,
 * so that detach and gc never undo, in this namespace, what was done in another.
 *
 * Load every record, sorted by creation time. *ret is an array the caller frees with
 * lj_records_free. *ret_bad counts files that were rejected (may be NULL).
 */
int lj_state_list(struct lj_state *st, struct lj_record **ret, size_t *ret_n, size_t *ret_bad);

/* A file of the state directory that lj_state_list counts as bad: its name and why (-errno:
 * -EINVAL: not a record's file name; -EBADMSG: malformed, truncated, a symlink or not
 * lanjoin's), and why in words for people ("truncated", "malformed JSON", "a symlink",
 * "not a record file name", ..., or the system's error text; a static string). */
struct lj_state_unreadable {
	char name[256];
	int error;
	const char *why;
};

/*
 * The files lj_state_list counts in *ret_bad, sorted by name (for a front end to name them;
 * it reads every record again, so call it only when there are some). Free *ret with free().
 * 0 or -errno.
 */
int lj_state_list_unreadable(struct lj_state *st, struct lj_state_unreadable **ret, size_t *ret_n);

/*
 * The opposite of lj_state_list: only the records written from another network namespace than
 * the caller's (for gc, which drops those of namespaces that no longer exist). Free *ret with
 * lj_records_free.
 */
int lj_state_list_foreign(struct lj_state *st, struct lj_record **ret, size_t *ret_n);

/*
 * Remove temporary files of record writes that never completed (a process killed between
 * write and rename). Only with the exclusive lock held. Returns how many, or -errno.
 */
int lj_state_sweep_tmp(struct lj_state *st);

/*
 * Drop the names of the indexes by MAC, address and private network (lj_state_list_mac,
 * lj_state_list_addr, lj_state_list_net) whose record is gone (removed by
 * other means than lj_state_remove). Reads the whole index: for gc and detach --all. Only
 * with the exclusive lock held.
 */
void lj_state_prune_index(struct lj_state *st);

/*
 * Like lj_state_list, but read only the records named with target_key's id prefix: every
 * record of that target, and rarely another's (24-bit prefix): callers check the identity.
 * Found through the index by target (state-mac.c: one bucket, not every name); where there
 * is none yet (lanjoin before), by their names, and the index built when st is held
 * exclusively. Records written before ids had a target prefix are not found (use
 * lj_state_list).
 */
int lj_state_list_target(struct lj_state *st, const char *target_key, struct lj_record **ret,
			 size_t *ret_n);

/*
 * Like lj_state_list, but only the records whose text has the member "key": "value" (a
 * string), found before parsing: a way that looks for its peers (e.g. macvlan attachments of
 * one parent) does not pay for parsing every other record. Callers still check the parsed
 * record.
 */
int lj_state_list_info(struct lj_state *st, const char *key, const char *value,
		       struct lj_record **ret, size_t *ret_n);

/*
 * Links: a name in st's directory that points at a record id, for a front end that finds its
 * attachments by a key of its own (CNI: network, container ID, ifname) instead of reading
 * every record. Kept in a sibling directory (lj_state_open_sibling), under the state lock
 * (exclusive to change one). A link is a hint: the caller loads the record it names and checks
 * that it is the one its key means. name: 1-255 bytes, no '/', not starting with '.'.
 *
 * lj_state_link_set points name at id (an existing name is replaced atomically);
 * lj_state_link_get reads it into ret (-ENOENT: no such name; -EBADMSG: not a link to a
 * record id); lj_state_link_remove removes it (-ENOENT is success). Errors: -errno, -EINVAL for
 * a bad name or id.
 */
int lj_state_link_set(struct lj_state *st, const char *name, const char *id);
int lj_state_link_get(struct lj_state *st, const char *name, char ret[LJ_RECORD_ID_LEN]);
int lj_state_link_remove(struct lj_state *st, const char *name);

/*
 * A marker: an empty file in st's directory whose name (1-255 bytes, no '/') starts with '.',
 * so that it is never a link's (e.g. ".ready"). lj_state_mark_set creates it (idempotent);
 * lj_state_mark_get says whether it is there (1, 0 or -errno). -EINVAL for a bad name.
 */
int lj_state_mark_set(struct lj_state *st, const char *name);
int lj_state_mark_get(struct lj_state *st, const char *name);

/*
 * Like lj_state_list_info, but the records whose text has any of the n strings in needles
 * (each as it appears in a record written with JSON_INDENT, e.g. "\"to\": \"198.51.100.7\"";
 * borrowed): a way that knows every value a conflicting record could hold reads the others'
 * files but parses none of them. n == 0: none. Callers still check the parsed records.
 */
int lj_state_list_text(struct lj_state *st, const char *const *needles, size_t n,
		       struct lj_record **ret, size_t *ret_n);

/*
 * The records (of lanjoin in this network namespace, as lj_state_list) whose interface has mac
 * (lj_record_mac), oldest first. Through the state directory's index of the records by MAC:
 * what it costs does not grow with the number of records. Where there is no index yet, the
 * records' text is searched, and with the exclusive lock held the index is built from every
 * record. With the exclusive lock, names of the index that no longer hold are dropped.
 */
int lj_state_list_mac(struct lj_state *st, const uint8_t mac[LJ_MAC_LEN], struct lj_record **ret,
		      size_t *ret_n);

/*
 * The same for the records whose info.addresses hold ip (any prefix length), through the
 * index of the records by address (attachments-by-address/). Callers still check the rest
 * (segment, liveness).
 */
int lj_state_list_addr(struct lj_state *st, const struct lj_ip *ip, struct lj_record **ret,
		       size_t *ret_n);

/*
 * The same for the records whose IPv4 info.private (a network) or info.to (an address) overlaps
 * net (NULL, or not IPv4: every record with either), through the index of the records by
 * private network (attachments-by-private/): the nat way's overlap checks read those records
 * only. Callers still check the parsed records (way, self).
 */
int lj_state_list_net(struct lj_state *st, const struct lj_cidr *net, struct lj_record **ret,
		      size_t *ret_n);

void lj_record_free(struct lj_record *rec);
void lj_records_free(struct lj_record *recs, size_t n);

/*
 * Is rec an attachment whose attach is still waiting (status "settling") in a live process
 * (owner_pid runs and started at owner_start)? False for any other status.
 */
bool lj_record_settling_live(const struct lj_record *rec);

/*
 * Is rec an attachment whose detach was interrupted (status "detaching", its owner, the
 * detaching process, no longer running as the one that started at owner_start)? A detach
 * holds the state lock throughout, so under the lock any "detaching" record is one; without
 * it (status, reconcile) a live detach may still be at work.
 */
bool lj_record_detach_interrupted(const struct lj_record *rec);

/* The record as JSON (new reference), as list --json shows it. */
json_t *lj_record_to_json(const struct lj_record *rec);
