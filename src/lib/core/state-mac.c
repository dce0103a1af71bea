/* SPDX-License-Identifier: MIT */
/* The indexes of the attachment records by MAC and by address (state.h: lj_state_list_mac,
 * lj_state_list_addr). */
#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/core/state-internal.h"
#include "shared/macro.h"
#include "shared/name.h"

bool lj_record_mac(const struct lj_record *rec, uint8_t ret[LJ_MAC_LEN])
{
	const char *m = json_string_value(json_object_get(rec->info, "mac"));

	if (m)
		return lj_parse_mac(m, ret) == 0;
	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];
		if (s->has_mac && (s->type == &lj_step_veth || s->type == &lj_step_macvlan)) {
			memcpy(ret, s->mac, LJ_MAC_LEN);
			return true;
		}
	}
	return false;
}

/*
 * The indexes of the records by MAC and by address: directory MAC_INDEX (ADDR_INDEX) beside
 * the attachments directory (in the state directory, st->top_fd), one name "<key>-<id>" per
 * record and key it has (key: its MAC, lj_record_mac, 12 hex digits; each of its LAN
 * addresses, info.addresses, as 8 or 32 hex digits): a hard link to that record as it was
 * first saved with it (a name, no inode of its own: nothing to allocate where the state is on
 * ext4); removed with the record. It may hold names whose record is gone or has another key
 * now (a record removed by other means, a record saved again with another MAC or address: a
 * lookup checks the record, gc drops them), never lack one: a record is linked before its
 * rename makes it visible, all under the exclusive lock, and the directory exists only once
 * it was built complete (index_build). lanjoin before it did not keep it: a record that such
 * a binary writes while the directory exists is missing from it.
 */
#define MAC_INDEX "attachments-by-mac"
#define ADDR_INDEX "attachments-by-address"
#define KEY_MAX 33 /* an IPv6 address in hex and its NUL */
#define KEYS_MAX 8

struct index_kind {
	const char *dir, *dir_new;
	/* rec's keys into keys (at most KEYS_MAX), their number */
	size_t (*keys)(const struct lj_record *rec, char keys[KEYS_MAX][KEY_MAX]);
};

static size_t mac_keys(const struct lj_record *rec, char keys[KEYS_MAX][KEY_MAX])
{
	uint8_t m[LJ_MAC_LEN];

	if (!lj_record_mac(rec, m))
		return 0;
	snprintf(keys[0], KEY_MAX, "%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return 1;
}

static void ip_key(const struct lj_ip *ip, char key[KEY_MAX])
{
	const uint8_t *b = ip->bytes;
	size_t len = ip->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < len; i++)
		snprintf(key + 2 * i, 3, "%02x", b[i]);
}

static size_t addr_keys(const struct lj_record *rec, char keys[KEYS_MAX][KEY_MAX])
{
	const json_t *a = json_object_get(rec->info, "addresses"), *v;
	struct lj_cidr c;
	size_t i, n = 0;

	json_array_foreach(a, i, v)
	{
		if (n < KEYS_MAX && json_is_string(v) &&
		    lj_parse_cidr(json_string_value(v), true, &c) == 0)
			ip_key(&c.ip, keys[n++]);
	}
	return n;
}

static const struct index_kind kinds[] = {
	{MAC_INDEX, "." MAC_INDEX ".new", mac_keys},
	{ADDR_INDEX, "." ADDR_INDEX ".new", addr_keys},
};

/* Remove index directory dir of st with its names. */
static void index_remove(struct lj_state *st, const char *dir)
{
	int fd = st->top_fd < 0
			 ? -1
			 : openat(st->top_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	unlinkat(st->top_fd, dir, AT_REMOVEDIR);
}

int lj_state_mac_add(struct lj_state *st, const struct lj_record *rec, int fd, const char *file)
{
	char keys[KEYS_MAX][KEY_MAX], name[PATH_MAX];

	if (st->top_fd < 0)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t n = kinds[k].keys(rec, keys);

		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s/%s-%s", kinds[k].dir, keys[i], rec->id);
			/* EEXIST: linked at an earlier save. ENOENT: no index (not built, or not
			 * the attachments), or by descriptor: not allowed to link it (where the
			 * index is there). Anything else: the index cannot be trusted any more. */
			if (linkat(file ? st->dir_fd : fd, file ? file : "", st->top_fd, name,
				   file ? 0 : AT_EMPTY_PATH) == 0 ||
			    errno == EEXIST)
				continue;
			if (errno == ENOENT) {
				if (!file && faccessat(st->top_fd, kinds[k].dir, F_OK,
						       AT_SYMLINK_NOFOLLOW) == 0)
					return -ENOENT;
				break;
			}
			index_remove(st, kinds[k].dir);
			break;
		}
	}
	return 0;
}

void lj_state_mac_forget(struct lj_state *st, const char *id)
{
	char keys[KEYS_MAX][KEY_MAX], name[PATH_MAX];
	bool any = false;
	struct lj_record rec;
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(kinds) && st->top_fd >= 0; k++)
		any |= faccessat(st->top_fd, kinds[k].dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (!any)
		return;
	r = lj_state_load_as(st, id, false, &rec);
	if (r == -EXDEV)
		r = lj_state_load_as(st, id, true, &rec);
	if (r < 0)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t n = kinds[k].keys(&rec, keys);

		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s/%s-%s", kinds[k].dir, keys[i], id);
			unlinkat(st->top_fd, name, 0);
		}
	}
	lj_record_free(&rec);
}

void lj_state_prune_index(struct lj_state *st)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		int fd = st->top_fd < 0 ? -1
					: openat(st->top_fd, kinds[k].dir,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		if (fd < 0)
			continue;
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		while ((de = readdir(d))) {
			char name[LJ_RECORD_ID_LEN + 8];
			const char *dash = strchr(de->d_name, '-');

			if (de->d_name[0] == '.' || !dash || !lj_state_valid_id(dash + 1))
				continue;
			snprintf(name, sizeof(name), "%s.json", dash + 1);
			if (faccessat(st->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
			    errno == ENOENT)
				unlinkat(fd, de->d_name, 0);
		}
		closedir(d);
	}
}

/*
 * Build index kind from every record (the first lookup with the exclusive lock held, where
 * there is none yet): in its dir_new, renamed to its dir once complete.
 */
static void index_build(struct lj_state *st, const struct index_kind *kind)
{
	struct dirent *de;
	bool ok = true;
	DIR *d;

	index_remove(st, kind->dir_new); /* a build that was killed */
	if (st->top_fd < 0 || mkdirat(st->top_fd, kind->dir_new, 0700) < 0 ||
	    lj_state_dir_stream(st, &d) < 0)
		return;
	while (ok && (de = readdir(d))) {
		char id[LJ_RECORD_ID_LEN], name[PATH_MAX], keys[KEYS_MAX][KEY_MAX];
		size_t len = strlen(de->d_name), n;
		struct lj_record rec;
		int r;

		if (de->d_name[0] == '.' || len != LJ_RECORD_ID_LEN - 1 + 5 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, de->d_name, LJ_RECORD_ID_LEN - 1);
		id[LJ_RECORD_ID_LEN - 1] = '\0';
		/* Those of lanjoin in other namespaces too: they look up here too. */
		r = lj_state_load_as(st, id, false, &rec);
		if (r == -EXDEV)
			r = lj_state_load_as(st, id, true, &rec);
		if (r < 0)
			continue; /* unreadable: no lookup reads it either */
		n = kind->keys(&rec, keys);
		for (size_t i = 0; i < n && ok; i++) {
			snprintf(name, sizeof(name), "%s/%s-%s", kind->dir_new, keys[i], id);
			ok = linkat(st->dir_fd, de->d_name, st->top_fd, name, 0) == 0 ||
			     errno == EEXIST || errno == ENOENT; /* ENOENT: removed meanwhile */
		}
		lj_record_free(&rec);
	}
	closedir(d);
	if (!ok || renameat(st->top_fd, kind->dir_new, st->top_fd, kind->dir) < 0)
		index_remove(st, kind->dir_new);
}

/* Does rec have key among its keys of kind? */
static bool has_key(const struct index_kind *kind, const struct lj_record *rec, const char *key)
{
	char keys[KEYS_MAX][KEY_MAX];
	size_t n = kind->keys(rec, keys);

	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

/* The records with key of kind (see lj_state_list_mac); needle: their text's mark of it, for
 * the search without an index. */
static int list_key(struct lj_state *st, const struct index_kind *kind, const char *key,
		    const char *needle, struct lj_record **ret, size_t *ret_n)
{
	struct lj_record *recs = NULL;
	size_t n = 0, cap = 0, k = 0, plen = strlen(key) + 1;
	char prefix[KEY_MAX + 1];
	struct dirent *de;
	int fd, r;
	DIR *d;

	fd = st->top_fd < 0 ? (errno = ENOENT, -1)
			    : openat(st->top_fd, kind->dir,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return lj_negerrno();
	if (fd < 0) {
		/* No index yet: the records whose text has needle, then the index for the next
		 * lookups. */
		r = lj_state_list_text(st, (const char *const[]){needle}, 1, &recs, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (has_key(kind, &recs[i], key))
				recs[k++] = recs[i];
			else
				lj_record_free(&recs[i]);
		}
		if (st->exclusive && st->top_fd >= 0)
			index_build(st, kind);
		*ret = recs;
		*ret_n = k;
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		r = lj_negerrno();
		close(fd);
		return r;
	}
	snprintf(prefix, sizeof(prefix), "%s-", key);
	while ((de = readdir(d))) {
		const char *id = de->d_name + plen;

		if (strncmp(de->d_name, prefix, plen) != 0 || !lj_state_valid_id(id))
			continue;
		if (n == cap) {
			struct lj_record *nr = realloc(recs, (cap ? cap * 2 : 4) * sizeof(*nr));
			if (!nr) {
				closedir(d);
				lj_records_free(recs, n);
				return -ENOMEM;
			}
			recs = nr;
			cap = cap ? cap * 2 : 4;
		}
		r = lj_state_load_as(st, id, false, &recs[n]);
		if (r == 0 && has_key(kind, &recs[n], key)) {
			n++;
			continue;
		}
		if (r == 0)
			lj_record_free(&recs[n]);
		/* A name whose record is gone or has another key now: dropped (with the lock
		 * held exclusively; a shared one leaves it for later). */
		if ((r == 0 || r == -ENOENT) && st->exclusive)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	if (n)
		qsort(recs, n, sizeof(*recs), lj_record_cmp_created);
	*ret = recs;
	*ret_n = n;
	return 0;
}

int lj_state_list_mac(struct lj_state *st, const uint8_t mac[LJ_MAC_LEN], struct lj_record **ret,
		      size_t *ret_n)
{
	char text[LJ_MAC_STRLEN], needle[LJ_MAC_STRLEN + 16], key[KEY_MAX];

	/* the MAC as info.mac or as the link step's "mac" holds it */
	lj_mac_to_string(mac, text, sizeof(text));
	snprintf(needle, sizeof(needle), "\"mac\": \"%s\"", text);
	snprintf(key, sizeof(key), "%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return list_key(st, &kinds[0], key, needle, ret, ret_n);
}

int lj_state_list_addr(struct lj_state *st, const struct lj_ip *ip, struct lj_record **ret,
		       size_t *ret_n)
{
	char buf[LJ_IP_STRLEN], needle[LJ_IP_STRLEN + 2], key[KEY_MAX];

	/* As info.addresses holds it ("A/N"): the leading quote and the slash bound it. */
	snprintf(needle, sizeof(needle), "\"%s/", lj_ip_to_string(ip, buf, sizeof(buf)));
	ip_key(ip, key);
	return list_key(st, &kinds[1], key, needle, ret, ret_n);
}
