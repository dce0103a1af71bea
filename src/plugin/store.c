/* SPDX-License-Identifier: MIT */
/*
 * The docker-plugin's own state directory: DIR/networks/ID.json and DIR/endpoints/ID.json, each
 * written whole (a temporary file renamed over it), and DIR/addresses/NID-ADDRESS, an index of
 * the endpoints by network and address (hard links to their files). See driver.c for what they
 * hold.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/plugin.h"
#include "shared/parse.h"
#include "shared/macro.h"

static char state_dir[PATH_MAX - 256]; /* room for /endpoints/ID.json.tmp */

/*
 * Spare files: the files of forgotten endpoints, kept as DIR/spare/N (N < SPARE_MAX) for the
 * next endpoint file to be written into. On ext4 a new inode costs the allocator a walk past
 * the inodes freed in the last seconds (find_inode_bit, recently_deleted: the plugin's largest
 * own share of a Join at 100 endpoints), and freeing one costs its eviction; a spare costs a
 * rename each way. spare_mask: which N exist (the one thread serving requests owns it).
 */
#define SPARE_MAX 16
static unsigned spare_mask;

static void spare_path(unsigned n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/spare/%u", state_dir, n);
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The subdirectories of the state directory. */
static const char *const subdirs[] = {"networks", "endpoints", "leases", "addresses", "spare"};

int lj_plugin_state_init(const char *dir)
{
	char sub[PATH_MAX];
	int r;

	if (snprintf(state_dir, sizeof(state_dir), "%s", dir) >= (int)sizeof(state_dir))
		return -ENAMETOOLONG;
	r = mkdir_p(dir);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", state_dir, subdirs[i]);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	spare_mask = 0;
	for (unsigned n = 0; n < SPARE_MAX; n++) {
		struct stat st;

		spare_path(n, sub, sizeof(sub));
		if (lstat(sub, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
			spare_mask |= 1u << n;
	}
	return 0;
}

void lj_plugin_state_unmake(void)
{
	char sub[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", state_dir, subdirs[i]);
		rmdir(sub);
	}
}

/* --- records ------------------------------------------------------------------------- */

static void record_path(const char *kind, const char *id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s.json", state_dir, kind, id);
}

/*
 * Write j as kind/id.json, atomically (a temporary file renamed over it). Networks and leases
 * are synced before the rename: they must outlive a reboot (a network's adopted uplink or shim
 * is undone at DeleteNetwork, a lease is released). Endpoints are not: one is written per
 * CreateEndpoint, and nothing it says outlives a power loss (its link and its attachment
 * record in /run are gone, and dockerd deletes the endpoints of its old sandboxes when it
 * starts); a crash of the plugin alone loses nothing written (the page cache stays), and the
 * rename keeps the file whole. An endpoint file a power loss left empty is treated as gone.
 */
int lj_store_save(const char *kind, const char *id, const json_t *j)
{
	bool sync = strcmp(kind, "endpoints") != 0;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t len, off = 0;
	char *text;
	ssize_t n;
	int fd, r = 0;

	/* Dumped whole, then written at once (json_dumpfd writes each token with a call). */
	text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* over the terminator: the length is known */
	len++;
	record_path(kind, id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = -1;
	if (!sync && spare_mask) { /* an endpoint: into a spare file, renamed into place */
		unsigned k = (unsigned)__builtin_ctz(spare_mask);

		spare_mask &= ~(1u << k);
		spare_path(k, tmp, sizeof(tmp));
		fd = open(tmp, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	}
	if (fd < 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	while (r == 0 && off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n == 0)
			r = -EIO;
		else if (n > 0)
			off += (size_t)n;
	}
	free(text);
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* kind/id.json, or NULL if there is none (or it cannot be read: *ret_err says). */
json_t *lj_store_load(const char *kind, const char *id, int *ret_err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *j;
	FILE *f;

	record_path(kind, id, path, sizeof(path));
	*ret_err = 0;
	f = fopen(path, "re"); /* missing: not known (no access() first: read at every call) */
	if (!f) {
		*ret_err = errno == ENOENT ? 0 : -errno;
		return NULL;
	}
	j = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		*ret_err = -EBADMSG;
		return NULL;
	}
	return j;
}

int lj_store_remove(const char *kind, const char *id)
{
	char path[PATH_MAX], spare[PATH_MAX];
	unsigned n = (unsigned)__builtin_ctz(~spare_mask);
	struct stat st;

	record_path(kind, id, path, sizeof(path));
	/* An endpoint's file becomes a spare, unless other names hold it (the address index's
	 * entries that could not be removed: they stay what they were). */
	if (strcmp(kind, "endpoints") == 0 && n < SPARE_MAX && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_nlink == 1) {
		spare_path(n, spare, sizeof(spare));
		if (rename(path, spare) == 0) {
			spare_mask |= 1u << n;
			return 0;
		}
	}
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int lj_store_spares_clear(void)
{
	char path[PATH_MAX];
	int r = 0;

	for (unsigned n = 0; n < SPARE_MAX; n++) {
		spare_path(n, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT)
			r = -errno;
	}
	spare_mask = 0;
	return r;
}

/* A Docker object ID: 1 to 64 lower-case hex digits. */
bool lj_store_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > LJ_STORE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int lj_store_each(const char *kind, int (*fn)(const char *id, json_t *j, void *data), void *data)
{
	char path[PATH_MAX], id[LJ_STORE_ID_MAX + 1];
	struct dirent *d;
	json_t *j;
	DIR *dir;
	int r = 0, e;

	snprintf(path, sizeof(path), "%s/%s", state_dir, kind);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (r == 0 && (d = readdir(dir))) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] == '.' || len < 6 || len - 5 > LJ_STORE_ID_MAX ||
		    strcmp(d->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(len - 5), d->d_name);
		j = lj_store_load(kind, id, &e);
		if (j)
			r = fn(id, j, data);
		json_decref(j);
	}
	closedir(dir);
	return r;
}

struct of_network {
	const char *nid;
	int (*fn)(const char *id, json_t *ep, void *data);
	void *data;
};

static int endpoint_of_network(const char *id, json_t *ep, void *data)
{
	const struct of_network *o = data;
	const char *nid = json_string_value(json_object_get(ep, "network"));

	if (!lj_store_id_valid(id) || !nid || strcmp(nid, o->nid) != 0)
		return 0;
	int r = o->fn(id, ep, o->data);

	return r > 0 ? 0 : r;
}

int lj_store_each_endpoint(const char *nid, int (*fn)(const char *id, json_t *ep, void *data),
			   void *data)
{
	struct of_network o = {.nid = nid, .fn = fn, .data = data};
	int r = lj_store_each("endpoints", endpoint_of_network, &o);

	return r < 0 ? r : 0;
}

/* --- the address index: addresses/NID-IP, a hard link to the endpoint file that has IP ------ */

/* The index entry of address (a CIDR as an endpoint keeps it) on network nid. */
static int addr_path(const char *nid, const char *address, char *buf, size_t size)
{
	char ip[LJ_IP_STRLEN];
	struct lj_cidr c;

	if (!lj_store_id_valid(nid) || !address || lj_parse_cidr(address, true, &c) < 0)
		return -EINVAL;
	snprintf(buf, size, "%s/addresses/%s-%s", state_dir, nid,
		 lj_ip_to_string(&c.ip, ip, sizeof(ip)));
	return 0;
}

int lj_store_addr_find(const char *nid, const char *address, char ret_id[LJ_STORE_ID_MAX + 1])
{
	char path[PATH_MAX];
	json_error_t jerr;
	const char *id;
	json_t *j;
	int r;

	r = addr_path(nid, address, path, sizeof(path));
	if (r < 0)
		return r;
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return access(path, F_OK) < 0 && errno == ENOENT ? -ENOENT : -EBADMSG;
	id = json_string_value(json_object_get(j, "id"));
	r = lj_store_id_valid(id) ? 0 : -EBADMSG;
	if (r == 0)
		snprintf(ret_id, LJ_STORE_ID_MAX + 1, "%s", id);
	json_decref(j);
	return r;
}

int lj_store_addr_add(const char *nid, const char *address, const char *eid)
{
	char path[PATH_MAX], file[PATH_MAX];
	int r;

	r = addr_path(nid, address, path, sizeof(path));
	if (r < 0)
		return r;
	record_path("endpoints", eid, file, sizeof(file));
	if (link(file, path) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* One request at a time (server.c): no one links it between these two. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return link(file, path) < 0 ? -errno : 0;
}

int lj_store_addr_remove(const char *nid, const char *address, const char *eid)
{
	char path[PATH_MAX], id[LJ_STORE_ID_MAX + 1];
	int r;

	r = lj_store_addr_find(nid, address, id);
	if (r == -ENOENT || r == -EINVAL || (r == 0 && strcmp(id, eid) != 0))
		return 0;
	addr_path(nid, address, path, sizeof(path));
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int lj_store_addr_clear(const char *nid)
{
	size_t n = nid ? strlen(nid) : 0;
	char path[PATH_MAX];
	struct dirent *d;
	int fd, r = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/addresses", state_dir);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	fd = dirfd(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' &&
		    (!nid || (strncmp(d->d_name, nid, n) == 0 && d->d_name[n] == '-')) &&
		    unlinkat(fd, d->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	closedir(dir);
	return r;
}

bool lj_store_addr_newer(const char *nid, const char *address, const char *eid)
{
	char path[PATH_MAX], file[PATH_MAX];
	struct stat a, b;

	if (addr_path(nid, address, path, sizeof(path)) < 0 || stat(path, &b) < 0)
		return true;
	record_path("endpoints", eid, file, sizeof(file));
	if (stat(file, &a) < 0)
		return false;
	return a.st_mtim.tv_sec > b.st_mtim.tv_sec ||
	       (a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec > b.st_mtim.tv_nsec);
}
