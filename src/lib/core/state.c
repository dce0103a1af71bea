/* SPDX-License-Identifier: MIT */
#include "lib/core/state.h"
#include "lib/core/state-internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kernel/proc.h"
#include "shared/macro.h"
#include "shared/name.h"

#define RECORD_MAX_SIZE (1 << 20)
#define RECORD_FORMAT "lanjoin-attachment/1"

const char *lj_state_dir(void)
{
	const char *d = getenv("LANJOIN_STATE_DIR");

	/* A relative or empty path is returned as given: opening it fails (see open_state_dir). */
	return d ? d : LJ_STATE_DIR_DEFAULT;
}

static int safe_dir(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return lj_negerrno();
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

/* create false: a missing directory is -ENOENT, nothing is made (read-only commands). */
static int open_dir_in(int at, const char *path, bool create, int *ret)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (create && mkdirat(at, path, 0700) < 0 && errno != EEXIST)
		return lj_negerrno();
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : lj_negerrno();
	r = safe_dir(fd);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fd);
	return 0;
}

static int open_dir(int at, const char *path, int *ret)
{
	return open_dir_in(at, path, true, ret);
}

/*
 * A directory above the state directory must not let anyone but root change what the path
 * leads to: a real directory (not a symlink), owned by root (or lanjoin's own user), and not
 * writable by group or others, unless it is sticky and root's (like /tmp: others may add
 * entries there but not rename or remove root's, so the root-owned entry below stays put).
 */
static int safe_parent(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return lj_negerrno();
	if (!S_ISDIR(st.st_mode))
		return -EACCES;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -EACCES;
	if ((st.st_mode & 022) && !((st.st_mode & S_ISVTX) && st.st_uid == 0))
		return -EACCES;
	return 0;
}

/*
 * open_dir of lj_state_dir(), which must be an absolute path. Every directory above it is
 * walked from "/" one component at a time without following symlinks and checked with
 * safe_parent (-EACCES); "." and ".." components are refused (-EACCES).
 */
static int open_state_dir(int *ret)
{
	return lj_state_open_dir(lj_state_dir(), ret);
}

static int open_dir_path(const char *d, bool parents, bool create, int *ret);

int lj_state_open_dir(const char *d, int *ret)
{
	return open_dir_path(d, false, true, ret);
}

int lj_state_make_dir(const char *d, int *ret)
{
	return open_dir_path(d, true, true, ret);
}

/* lj_state_open_dir; parents: create missing directories above d too (0700); create false:
 * create nothing, not even d (-ENOENT if it is missing). */
static int open_dir_path(const char *d, bool parents, bool create, int *ret)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int at = -1;
	char *p, *next, *last = NULL;
	int r;

	if (d[0] != '/')
		return -EDESTADDRREQ;
	copy = strdup(d);
	if (!copy)
		return -ENOMEM;
	at = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (at < 0)
		return lj_negerrno();
	r = safe_parent(at);
	if (r < 0)
		return r;
	for (p = copy; p; p = next) {
		int fd;

		while (*p == '/')
			p++;
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (!*p)
			break;
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			return -EACCES;
		/* Is there a further component? Then p is a parent, else the state dir itself. */
		while (next && *next == '/')
			next++;
		if (!next || !*next) {
			last = p;
			break;
		}
		if (parents && create && mkdirat(at, p, 0700) < 0 && errno != EEXIST)
			return lj_negerrno();
		fd = openat(at, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			/* a symlink: ELOOP, or ENOTDIR with O_PATH|O_DIRECTORY on some kernels */
			return errno == ELOOP || errno == ENOTDIR ? -EACCES : lj_negerrno();
		close(at);
		at = fd;
		r = safe_parent(at);
		if (r < 0)
			return r;
	}
	if (!last)
		return -EPERM; /* "/" itself */
	return open_dir_in(at, last, create, ret);
}

int lj_state_open(bool exclusive, struct lj_state **ret)
{
	return lj_state_open_sub("attachments", exclusive, ret);
}

static int open_sub(const char *sub, bool exclusive, bool create, struct lj_state **ret)
{
	_cleanup_close_ int top = -1, dir = -1;
	struct lj_state *st;
	int r;

	if (!sub || !*sub || strchr(sub, '/') || sub[0] == '.')
		return -EINVAL;
	r = open_dir_path(lj_state_dir(), false, create, &top);
	if (r < 0)
		return r;
	r = open_dir_in(top, sub, create, &dir);
	if (r < 0)
		return r;
	r = lj_state_new_locked(top, exclusive, create, &st);
	if (r < 0)
		return r;
	st->dir_fd = TAKE_FD(dir);
	st->top_fd = strcmp(sub, "attachments") == 0 ? TAKE_FD(top) : -1;
	*ret = st;
	return 0;
}

int lj_state_new_locked(int top, bool exclusive, bool create, struct lj_state **ret)
{
	_cleanup_close_ int lock = -1;
	struct lj_state *st;
	int r;

	lock = openat(top, "lock", (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	if (lock < 0)
		return lj_negerrno();
	r = lj_state_lock_wait(lock, exclusive ? LOCK_EX : LOCK_SH);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->dir_fd = st->top_fd = -1;
	lj_netns_self_id(&st->self);
	if (lj_netns_self_cookie(&st->self_cookie) < 0)
		st->self_cookie = 0;
	st->lock_fd = TAKE_FD(lock);
	st->exclusive = exclusive;
	*ret = st;
	return 0;
}

int lj_state_safe_dir(int fd)
{
	return safe_dir(fd);
}

int lj_state_open_subdir(int at, const char *name, int *ret)
{
	return open_dir(at, name, ret);
}

int lj_state_open_sub(const char *sub, bool exclusive, struct lj_state **ret)
{
	return open_sub(sub, exclusive, true, ret);
}

int lj_state_open_read(const char *sub, struct lj_state **ret)
{
	return open_sub(sub, false, false, ret);
}

const char *lj_state_strerror(int r)
{
	if (r == -EDESTADDRREQ)
		return "LANJOIN_STATE_DIR must be an absolute path";
	if (r == -EPERM)
		return "it and its subdirectories must be real directories (not symlinks) "
		       "owned by root and writable by no one else (lanjoin creates them with mode "
		       "0700)";
	if (r == -EACCES)
		return "every directory above it must be a real directory (not a symlink), owned "
		       "by root, and not writable by group or others unless sticky and root's "
		       "(like /tmp); no '.' or '..' in the path";
	return strerror(-r);
}

int lj_state_open_sibling(const struct lj_state *st, const char *sub, struct lj_state **ret)
{
	_cleanup_close_ int top = -1, dir = -1;
	struct lj_state *s;
	int r;

	if (!st || !sub || !*sub || strchr(sub, '/') || sub[0] == '.')
		return -EINVAL;
	r = open_state_dir(&top);
	if (r < 0)
		return r;
	r = open_dir(top, sub, &dir);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir_fd = TAKE_FD(dir);
	s->top_fd = strcmp(sub, "attachments") == 0 ? TAKE_FD(top) : -1;
	s->lock_fd = -1; /* the lock is st's */
	s->exclusive = st->exclusive;
	s->self = st->self;
	s->self_cookie = st->self_cookie;
	*ret = s;
	return 0;
}

void lj_state_close(struct lj_state *st)
{
	if (!st)
		return;
	if (!st->borrowed) {
		close(st->dir_fd);
		if (st->top_fd >= 0)
			close(st->top_fd);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the lock */
	free(st);
}

void lj_record_id(const char *target_key, const char *ifname, char ret[LJ_RECORD_ID_LEN])
{
	char key[128];

	/* The target's digits first: lj_state_list_target finds its records by name alone. */
	snprintf(key, sizeof(key), "%s/%s", target_key, ifname);
	snprintf(ret, LJ_RECORD_ID_LEN, "%0*llx%0*llx", LJ_RECORD_TARGET_LEN,
		 (unsigned long long)(lj_hash64(target_key) >> (64 - 4 * LJ_RECORD_TARGET_LEN)),
		 LJ_RECORD_ID_LEN - 1 - LJ_RECORD_TARGET_LEN,
		 (unsigned long long)(lj_hash64(key) >>
				      (64 - 4 * (LJ_RECORD_ID_LEN - 1 - LJ_RECORD_TARGET_LEN))));
}

bool lj_state_valid_id(const char *id)
{
	if (strlen(id) != LJ_RECORD_ID_LEN - 1)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void lj_record_free(struct lj_record *rec)
{
	if (!rec)
		return;
	json_decref(rec->info);
	rec->info = NULL;
	json_decref(rec->spec);
	rec->spec = NULL;
	lj_plan_free(&rec->plan);
}

void lj_records_free(struct lj_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_record_free(&recs[i]);
	free(recs);
}

json_t *lj_record_to_json(const struct lj_record *rec)
{
	json_t *o = json_object(), *t = json_object();

	if (!o || !t) {
		json_decref(o);
		json_decref(t);
		return NULL;
	}
	json_object_set_new(o, "format", json_string(RECORD_FORMAT));
	json_object_set_new(o, "id", json_string(rec->id));
	json_object_set_new(o, "way", json_string(rec->way));
	json_object_set_new(o, "status", json_string(rec->status));
	json_object_set_new(o, "ifname", json_string(rec->ifname));
	if (rec->host_ifname[0])
		json_object_set_new(o, "host_ifname", json_string(rec->host_ifname));
	json_object_set_new(t, "kind", json_string(lj_target_kind_str(rec->target_kind)));
	json_object_set_new(t, "spec", json_string(rec->target_spec));
	json_object_set_new(t, "name", json_string(rec->target_name));
	if (rec->target_pid > 0)
		json_object_set_new(t, "pid", json_integer(rec->target_pid));
	if (rec->container_id[0])
		json_object_set_new(t, "container_id", json_string(rec->container_id));
	json_object_set_new(t, "netns_dev", json_integer((json_int_t)rec->netns.dev));
	json_object_set_new(t, "netns_ino", json_integer((json_int_t)rec->netns.ino));
	if (rec->netns_cookie)
		json_object_set_new(t, "netns_cookie", json_integer((json_int_t)rec->netns_cookie));
	json_object_set_new(o, "target", t);
	json_object_set_new(o, "created", json_integer(rec->created));
	if (rec->owner_pid > 0) {
		json_t *w = json_object();
		json_object_set_new(w, "pid", json_integer(rec->owner_pid));
		json_object_set_new(w, "start_time", json_integer((json_int_t)rec->owner_start));
		json_object_set_new(o, "owner", w);
	}
	if (rec->drop_spec)
		json_object_set_new(o, "drop_spec", json_true());
	if (rec->host_netns.ino) {
		json_t *h = json_object();
		json_object_set_new(h, "dev", json_integer((json_int_t)rec->host_netns.dev));
		json_object_set_new(h, "ino", json_integer((json_int_t)rec->host_netns.ino));
		if (rec->host_netns_cookie)
			json_object_set_new(h, "cookie",
					    json_integer((json_int_t)rec->host_netns_cookie));
		json_object_set_new(o, "host_netns", h);
	}
	json_object_set_new(o, "info", rec->info ? json_incref(rec->info) : json_object());
	if (rec->spec)
		json_object_set_new(o, "spec", json_incref(rec->spec));
	json_object_set_new(o, "undo", lj_plan_to_json(&rec->plan));
	return o;
}

bool lj_record_settling_live(const struct lj_record *rec)
{
	return strcmp(rec->status, "settling") == 0 &&
	       lj_proc_alive((pid_t)rec->owner_pid, rec->owner_start);
}

bool lj_record_detach_interrupted(const struct lj_record *rec)
{
	return strcmp(rec->status, "detaching") == 0 &&
	       !(rec->owner_start && lj_proc_alive((pid_t)rec->owner_pid, rec->owner_start));
}

static int get_string(const json_t *o, const char *k, char *buf, size_t size, bool required)
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		return required ? -EBADMSG : 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EBADMSG;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int record_from_json(const json_t *o, const char *id, struct lj_record *ret)
{
	struct lj_record rec = {0};
	const json_t *t, *v;
	char format[32] = "", kind[16] = "";
	int r;

	if (!json_is_object(o))
		return -EBADMSG;
	if (get_string(o, "format", format, sizeof(format), true) < 0 ||
	    strcmp(format, RECORD_FORMAT) != 0)
		return -EBADMSG;
	snprintf(rec.id, sizeof(rec.id), "%s", id);
	if (get_string(o, "way", rec.way, sizeof(rec.way), true) < 0 ||
	    get_string(o, "status", rec.status, sizeof(rec.status), true) < 0 ||
	    get_string(o, "ifname", rec.ifname, sizeof(rec.ifname), true) < 0 ||
	    get_string(o, "host_ifname", rec.host_ifname, sizeof(rec.host_ifname), false) < 0)
		return -EBADMSG;
	if (!lj_ifname_valid(rec.ifname) ||
	    (rec.host_ifname[0] && !lj_ifname_valid(rec.host_ifname)))
		return -EBADMSG;
	t = json_object_get(o, "target");
	if (!json_is_object(t) || get_string(t, "kind", kind, sizeof(kind), true) < 0 ||
	    get_string(t, "spec", rec.target_spec, sizeof(rec.target_spec), true) < 0 ||
	    get_string(t, "name", rec.target_name, sizeof(rec.target_name), true) < 0 ||
	    get_string(t, "container_id", rec.container_id, sizeof(rec.container_id), false) < 0)
		return -EBADMSG;
	for (r = LJ_TARGET_PID; r <= LJ_TARGET_CONTAINER; r++)
		if (strcmp(kind, lj_target_kind_str((enum lj_target_kind)r)) == 0)
			break;
	if (r > LJ_TARGET_CONTAINER)
		return -EBADMSG;
	rec.target_kind = (enum lj_target_kind)r;
	v = json_object_get(t, "pid");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		return -EBADMSG;
	rec.target_pid = v ? json_integer_value(v) : 0;
	v = json_object_get(t, "netns_dev");
	if (!json_is_integer(v))
		return -EBADMSG;
	rec.netns.dev = (uint64_t)json_integer_value(v);
	v = json_object_get(t, "netns_ino");
	if (!json_is_integer(v))
		return -EBADMSG;
	rec.netns.ino = (uint64_t)json_integer_value(v);
	v = json_object_get(t, "netns_cookie"); /* absent in records of older versions */
	if (v && !json_is_integer(v))
		return -EBADMSG;
	rec.netns_cookie = v ? (uint64_t)json_integer_value(v) : 0;
	v = json_object_get(o, "created");
	rec.created = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(o, "host_netns");
	if (v) {
		const json_t *dev = json_object_get(v, "dev"), *ino = json_object_get(v, "ino");
		const json_t *cookie = json_object_get(v, "cookie");
		if (!json_is_integer(dev) || !json_is_integer(ino) ||
		    (cookie && !json_is_integer(cookie)))
			return -EBADMSG;
		rec.host_netns.dev = (uint64_t)json_integer_value(dev);
		rec.host_netns.ino = (uint64_t)json_integer_value(ino);
		rec.host_netns_cookie = cookie ? (uint64_t)json_integer_value(cookie) : 0;
	}
	/* A word: "applying", "settling", "attached", "detaching"; uplink records (same
	 * format) have their own ("adopting", "adopted", ...). Records from before "settling"
	 * have no owner. */
	if (!rec.status[0] ||
	    strspn(rec.status, "abcdefghijklmnopqrstuvwxyz") != strlen(rec.status))
		return -EBADMSG;
	v = json_object_get(o, "owner");
	if (v) {
		const json_t *pid = json_object_get(v, "pid"),
			     *start = json_object_get(v, "start_time");
		if (!json_is_object(v) || !json_is_integer(pid) || !json_is_integer(start) ||
		    json_integer_value(pid) <= 0 || json_integer_value(pid) > INT32_MAX ||
		    json_integer_value(start) < 0)
			return -EBADMSG;
		rec.owner_pid = json_integer_value(pid);
		rec.owner_start = (uint64_t)json_integer_value(start);
	}
	/* a settling record names its owner, a detaching one may; no other one does */
	if (strcmp(rec.status, "detaching") != 0 &&
	    (strcmp(rec.status, "settling") == 0) != (rec.owner_pid > 0))
		return -EBADMSG;
	v = json_object_get(o, "drop_spec"); /* only a detaching record says so */
	if (v && (!json_is_boolean(v) || (json_is_true(v) && strcmp(rec.status, "detaching"))))
		return -EBADMSG;
	rec.drop_spec = json_is_true(v);
	v = json_object_get(o, "info");
	if (v && !json_is_object(v))
		return -EBADMSG;
	if (json_object_get(o, "spec") && !json_is_object(json_object_get(o, "spec")))
		return -EBADMSG; /* absent in records of older versions */
	r = lj_plan_from_json(json_object_get(o, "undo"), &rec.plan);
	if (r < 0)
		return r;
	rec.info = v ? json_incref((json_t *)v) : json_object();
	rec.spec = json_incref(json_object_get(o, "spec"));
	*ret = rec;
	return 0;
}

/*
 * lj_state_load, but -ENOENT without parsing when the file's text does not contain needle;
 * with foreign, the other way round: only a record from another namespace is returned (-EXDEV
 * for one from this namespace).
 */
/* Strings a record's text must have one of (n == 0: no condition). */
struct needles {
	const char *const *v;
	size_t n;
	/* optional (NULL: each needle is searched for alone): head[i] is the length of v[i]'s
	 * head (up to '": "' and one more byte, e.g. '"to": "'); lead[i]: no v[k < i] has the
	 * same head. The file is searched once per distinct head. */
	const size_t *head;
	const bool *lead;
};

static int load_if(struct lj_state *st, const char *id, const struct needles *needles, bool foreign,
		   struct lj_record *ret);

int lj_state_load(struct lj_state *st, const char *id, struct lj_record *ret)
{
	return load_if(st, id, NULL, false, ret);
}

/* Was rec written by lanjoin running in another network namespace than st's? */
static bool foreign_record(const struct lj_state *st, const struct lj_record *rec)
{
	if (!rec->host_netns.ino)
		return false; /* from before the namespace was recorded */
	if (rec->host_netns.ino != st->self.ino || rec->host_netns.dev != st->self.dev)
		return true;
	/* The same inode number, but a newer namespace that got it again (see netns.h). */
	return rec->host_netns_cookie && st->self_cookie &&
	       rec->host_netns_cookie != st->self_cookie;
}

static bool has_any(const char *buf, size_t n, const struct needles *nd)
{
	const char *end = buf + n;

	for (size_t i = 0; i < nd->n; i++) {
		size_t head = nd->head ? nd->head[i] : strlen(nd->v[i]);

		if (nd->head && !nd->lead[i])
			continue;
		/* Every occurrence of a needle starts with its head: look at each. */
		for (const char *p = buf;
		     p < end && (p = memmem(p, (size_t)(end - p), nd->v[i], head)); p++)
			for (size_t k = i; k < nd->n; k++) {
				size_t len = strlen(nd->v[k]);

				if ((k == i || (nd->head && nd->head[k] == head &&
						memcmp(nd->v[k], nd->v[i], head) == 0)) &&
				    len <= (size_t)(end - p) && memcmp(p, nd->v[k], len) == 0)
					return true;
				if (!nd->head)
					break;
			}
	}
	return false;
}

static int load_if(struct lj_state *st, const char *id, const struct needles *needles, bool foreign,
		   struct lj_record *ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char name[LJ_RECORD_ID_LEN + 8];
	struct stat s;
	ssize_t n;
	int r;

	if (!lj_state_valid_id(id))
		return -EINVAL;
	snprintf(name, sizeof(name), "%s.json", id);
	fd = openat(st->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : errno == ELOOP ? -EBADMSG : lj_negerrno();
	/* It exists: a save of it is no first save (state-save.c). */
	if (strcmp(st->known, id) != 0) {
		snprintf(st->known, sizeof(st->known), "%s", id);
		st->spare = st->tmp_gone = false;
	}
	if (fstat(fd, &s) < 0)
		return lj_negerrno();
	if (!S_ISREG(s.st_mode) || s.st_size <= 0 || s.st_size > RECORD_MAX_SIZE ||
	    s.st_uid != geteuid())
		return -EBADMSG;
	buf = malloc((size_t)s.st_size + 1);
	if (!buf)
		return -ENOMEM;
	n = read(fd, buf, (size_t)s.st_size);
	if (n != s.st_size)
		return -EBADMSG;
	buf[n] = '\0';
	/* Parsing is most of a record's cost: skip records that cannot match. */
	if (needles && needles->n && !has_any(buf, (size_t)n, needles))
		return -ENOENT;
	r = lj_record_parse(buf, (size_t)n, id, ret);
	if (r == 0 && foreign_record(st, ret) != foreign) {
		lj_record_free(ret);
		return -EXDEV; /* written by lanjoin running in another network namespace */
	}
	return r;
}

int lj_state_load_as(struct lj_state *st, const char *id, bool foreign, struct lj_record *ret)
{
	return load_if(st, id, NULL, foreign, ret);
}

int lj_record_parse(const char *buf, size_t size, const char *id, struct lj_record *ret)
{
	json_error_t jerr;
	json_t *o;
	int r;

	if (!lj_state_valid_id(id) || size > RECORD_MAX_SIZE)
		return -EBADMSG;
	o = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return -EBADMSG;
	r = record_from_json(o, id, ret);
	json_decref(o);
	return r;
}

int lj_record_cmp_created(const void *a, const void *b)
{
	const struct lj_record *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A directory stream over the state directory, from its start (closedir it). */
int lj_state_dir_stream(struct lj_state *st, DIR **ret)
{
	int fd = dup(st->dir_fd);

	if (fd < 0)
		return lj_negerrno();
	*ret = fdopendir(fd);
	if (!*ret) {
		int r = lj_negerrno();
		close(fd);
		return r;
	}
	rewinddir(*ret);
	return 0;
}

/* Whether name is a record's file name, "<id>.json": its id into id. */
static bool record_file_id(const char *name, char id[LJ_RECORD_ID_LEN])
{
	size_t len = strlen(name);

	if (len != LJ_RECORD_ID_LEN - 1 + 5 || strcmp(name + len - 5, ".json") != 0)
		return false;
	memcpy(id, name, LJ_RECORD_ID_LEN - 1);
	id[LJ_RECORD_ID_LEN - 1] = '\0';
	return true;
}

/* Load the records whose id starts with prefix ("" = all). */
static int list(struct lj_state *st, const char *prefix, const struct needles *needles,
		bool foreign, struct lj_record **ret, size_t *ret_n, size_t *ret_bad)
{
	size_t plen = strlen(prefix);
	struct lj_record *recs = NULL;
	size_t n = 0, cap = 0, bad = 0;
	struct dirent *de;
	DIR *d;
	int r;

	r = lj_state_dir_stream(st, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		char id[LJ_RECORD_ID_LEN];

		if (de->d_name[0] == '.')
			continue;
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		if (!record_file_id(de->d_name, id)) {
			bad++;
			continue;
		}
		if (n == cap) {
			struct lj_record *nr = realloc(recs, (cap ? cap * 2 : 16) * sizeof(*nr));
			if (!nr) {
				closedir(d);
				lj_records_free(recs, n);
				return -ENOMEM;
			}
			recs = nr;
			cap = cap ? cap * 2 : 16;
		}
		r = load_if(st, id, needles, foreign, &recs[n]);
		if (r == 0)
			n++;
		else if (r != -EXDEV && r != -ENOENT)
			bad++;
	}
	closedir(d);
	if (n)
		qsort(recs, n, sizeof(*recs), lj_record_cmp_created);
	*ret = recs;
	*ret_n = n;
	if (ret_bad)
		*ret_bad = bad;
	return 0;
}

int lj_state_sweep_tmp(struct lj_state *st)
{
	struct dirent *de;
	int r, removed = 0;
	DIR *d;

	r = lj_state_dir_stream(st, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		/* ".<id>.tmp": a record write that a killed process never renamed. */
		if (de->d_name[0] == '.' && len > 5 && strcmp(de->d_name + len - 4, ".tmp") == 0 &&
		    unlinkat(st->dir_fd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static int cmp_unreadable(const void *a, const void *b)
{
	return strcmp(((const struct lj_state_unreadable *)a)->name,
		      ((const struct lj_state_unreadable *)b)->name);
}

/* Why file name of st is no record that can be read (r: load_if's -errno), in words. */
static const char *unreadable_why(struct lj_state *st, const char *name, int r)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	json_error_t jerr;
	struct stat s;
	size_t len;
	json_t *o;

	if (r == -EINVAL)
		return "not a record file name";
	if (r != -EBADMSG)
		return strerror(-r);
	if (fstatat(st->dir_fd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return strerror(errno);
	if (S_ISLNK(s.st_mode))
		return "a symlink";
	if (!S_ISREG(s.st_mode))
		return "not a regular file";
	if (s.st_uid != geteuid())
		return "owned by another user";
	if (s.st_size == 0)
		return "empty";
	if (s.st_size > RECORD_MAX_SIZE)
		return "too large";
	fd = openat(st->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	buf = malloc((size_t)s.st_size);
	if (fd < 0 || !buf || read(fd, buf, (size_t)s.st_size) != s.st_size)
		return "malformed, truncated, a symlink or not lanjoin's"; /* changed meanwhile */
	/* without a newline after the cut (a string cut short ends at it, not at the end) */
	len = (size_t)s.st_size;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return json_error_code(&jerr) == json_error_premature_end_of_input
			       ? "truncated"
			       : "malformed JSON";
	json_decref(o);
	return "not a lanjoin record"; /* JSON, but not a record's members */
}

int lj_state_list_unreadable(struct lj_state *st, struct lj_state_unreadable **ret, size_t *ret_n)
{
	struct lj_state_unreadable *v = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int r;

	r = lj_state_dir_stream(st, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		char id[LJ_RECORD_ID_LEN];
		struct lj_record rec;
		void *grown;

		if (de->d_name[0] == '.')
			continue;
		r = record_file_id(de->d_name, id) ? load_if(st, id, NULL, false, &rec) : -EINVAL;
		if (r == 0)
			lj_record_free(&rec);
		if (r == 0 || r == -EXDEV || r == -ENOENT)
			continue;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown) {
			closedir(d);
			free(v);
			return -ENOMEM;
		}
		v = grown;
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].error = r;
		v[n++].why = unreadable_why(st, de->d_name, r);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_unreadable);
	*ret = v;
	*ret_n = n;
	return 0;
}

int lj_state_list(struct lj_state *st, struct lj_record **ret, size_t *ret_n, size_t *ret_bad)
{
	return list(st, "", NULL, false, ret, ret_n, ret_bad);
}

int lj_state_list_foreign(struct lj_state *st, struct lj_record **ret, size_t *ret_n)
{
	return list(st, "", NULL, true, ret, ret_n, NULL);
}

int lj_state_list_target(struct lj_state *st, const char *target_key, struct lj_record **ret,
			 size_t *ret_n)
{
	char id[LJ_RECORD_ID_LEN];

	int r;

	lj_record_id(target_key, "", id);
	id[LJ_RECORD_TARGET_LEN] = '\0';
	r = lj_state_list_target_index(st, id, ret, ret_n);
	return r == -ENOENT ? list(st, id, NULL, false, ret, ret_n, NULL) : r;
}

int lj_state_list_info(struct lj_state *st, const char *key, const char *value,
		       struct lj_record **ret, size_t *ret_n)
{
	_cleanup_free_ char *needle = NULL, *v = NULL;
	json_t *j = json_string(value);

	/* Records are written with JSON_INDENT: a member reads '"key": "value"'. */
	v = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!v || asprintf(&needle, "\"%s\": %s", key, v) < 0)
		return -ENOMEM;
	return list(st, "", &(struct needles){(const char *const[]){needle}, 1, NULL, NULL}, false,
		    ret, ret_n, NULL);
}

int lj_state_list_text(struct lj_state *st, const char *const *needles, size_t n,
		       struct lj_record **ret, size_t *ret_n)
{
	_cleanup_free_ size_t *head = NULL;
	_cleanup_free_ bool *lead = NULL;

	if (n == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	head = calloc(n, sizeof(*head));
	lead = calloc(n, sizeof(*lead));
	if (!head || !lead)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *sep = strstr(needles[i], "\": ");

		head[i] = sep && sep[3] ? (size_t)(sep - needles[i]) + 4 : strlen(needles[i]);
		lead[i] = true;
		for (size_t k = 0; k < i && lead[i]; k++)
			lead[i] = !(head[k] == head[i] &&
				    memcmp(needles[k], needles[i], head[i]) == 0);
	}
	return list(st, "", &(struct needles){needles, n, head, lead}, false, ret, ret_n, NULL);
}

/* A link's or marker's name: one path component, not "." or "..". */
static bool entry_name_valid(const char *name, bool dot)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n <= 255 && !strchr(name, '/') && (name[0] != '.') != dot &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int lj_state_link_set(struct lj_state *st, const char *name, const char *id)
{
	char tmp[32];

	if (!entry_name_valid(name, false) || !lj_state_valid_id(id))
		return -EINVAL;
	/* A new name is one syscall; an existing one is replaced through a temporary name. */
	if (symlinkat(id, st->dir_fd, name) == 0)
		return 0;
	if (errno != EEXIST)
		return lj_negerrno();
	snprintf(tmp, sizeof(tmp), ".%s.tmp", id);
	if (symlinkat(id, st->dir_fd, tmp) < 0 &&
	    (errno != EEXIST || unlinkat(st->dir_fd, tmp, 0) < 0 ||
	     symlinkat(id, st->dir_fd, tmp) < 0))
		return lj_negerrno();
	if (renameat(st->dir_fd, tmp, st->dir_fd, name) < 0) {
		int r = lj_negerrno();
		unlinkat(st->dir_fd, tmp, 0);
		return r;
	}
	return 0;
}

int lj_state_link_get(struct lj_state *st, const char *name, char ret[LJ_RECORD_ID_LEN])
{
	char buf[LJ_RECORD_ID_LEN + 1];
	ssize_t n;

	if (!entry_name_valid(name, false))
		return -EINVAL;
	n = readlinkat(st->dir_fd, name, buf, sizeof(buf));
	if (n < 0)
		return errno == ENOENT ? -ENOENT : errno == EINVAL ? -EBADMSG : lj_negerrno();
	if (n != LJ_RECORD_ID_LEN - 1)
		return -EBADMSG;
	buf[n] = '\0';
	if (!lj_state_valid_id(buf))
		return -EBADMSG;
	memcpy(ret, buf, LJ_RECORD_ID_LEN);
	return 0;
}

int lj_state_link_remove(struct lj_state *st, const char *name)
{
	if (!entry_name_valid(name, false))
		return -EINVAL;
	if (unlinkat(st->dir_fd, name, 0) < 0 && errno != ENOENT)
		return lj_negerrno();
	return 0;
}

int lj_state_mark_set(struct lj_state *st, const char *name)
{
	int fd;

	if (!entry_name_valid(name, true))
		return -EINVAL;
	fd = openat(st->dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return lj_negerrno();
	close(fd);
	return 0;
}

int lj_state_mark_get(struct lj_state *st, const char *name)
{
	struct stat s;

	if (!entry_name_valid(name, true))
		return -EINVAL;
	if (fstatat(st->dir_fd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : lj_negerrno();
	return S_ISREG(s.st_mode) && s.st_uid == geteuid();
}
