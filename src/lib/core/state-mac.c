/* SPDX-License-Identifier: MIT */
/* The index of the attachment records by MAC (state.h: lj_state_list_mac). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
 * The index of the records by MAC: directory MAC_INDEX beside the attachments directory (in
 * the state directory, st->top_fd), one name "<mac>-<id>" (12 hex digits each) per record
 * and the MAC it has (lj_record_mac): a hard link to that record as it was first saved with
 * it (a name, no inode of its own: nothing to allocate where the state is on ext4); removed
 * with the record. It may hold names whose record is gone or has another MAC now (a record
 * removed by other means, a record saved again with another MAC: a lookup checks the record,
 * gc drops them), never lack one: a record is linked before its rename makes it visible, all
 * under the exclusive lock, and the directory exists only once it was built complete
 * (mac_index_build). lanjoin before it did not keep it: a record that such a binary writes
 * while the directory exists is missing from it.
 */
#define MAC_INDEX "attachments-by-mac"
#define MAC_INDEX_NEW ".attachments-by-mac.new"

/* The name of record id with mac in index directory dir, as a path from the state dir. */
static void mac_index_name(const char *dir, const uint8_t mac[LJ_MAC_LEN], const char *id,
			   char *buf, size_t size)
{
	snprintf(buf, size, "%s/%02x%02x%02x%02x%02x%02x-%s", dir, mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5], id);
}

/* Remove index directory dir (MAC_INDEX or MAC_INDEX_NEW) of st with its names. */
static void mac_index_remove(struct lj_state *st, const char *dir)
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

void lj_state_mac_add(struct lj_state *st, const struct lj_record *rec, const char *file)
{
	uint8_t mac[LJ_MAC_LEN];
	char name[64];

	if (st->top_fd < 0 || !lj_record_mac(rec, mac))
		return;
	mac_index_name(MAC_INDEX, mac, rec->id, name, sizeof(name));
	/* EEXIST: linked at an earlier save. ENOENT: no index (not built, or not the
	 * attachments). Anything else: the index cannot be trusted any more. */
	if (linkat(st->dir_fd, file, st->top_fd, name, 0) < 0 && errno != EEXIST && errno != ENOENT)
		mac_index_remove(st, MAC_INDEX);
}

void lj_state_mac_forget(struct lj_state *st, const char *id)
{
	struct lj_record rec;
	uint8_t mac[LJ_MAC_LEN];
	char name[64];
	int r;

	if (st->top_fd < 0 || faccessat(st->top_fd, MAC_INDEX, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	r = lj_state_load_as(st, id, false, &rec);
	if (r == -EXDEV)
		r = lj_state_load_as(st, id, true, &rec);
	if (r < 0)
		return;
	if (lj_record_mac(&rec, mac)) {
		mac_index_name(MAC_INDEX, mac, id, name, sizeof(name));
		unlinkat(st->top_fd, name, 0);
	}
	lj_record_free(&rec);
}

void lj_state_prune_index(struct lj_state *st)
{
	int fd = st->top_fd < 0 ? -1
				: openat(st->top_fd, MAC_INDEX,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		char name[LJ_RECORD_ID_LEN + 8];
		const char *dash = strchr(de->d_name, '-');

		if (de->d_name[0] == '.' || !dash || !lj_state_valid_id(dash + 1))
			continue;
		snprintf(name, sizeof(name), "%s.json", dash + 1);
		if (faccessat(st->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
}

/*
 * Build the index from every record (the first lookup by MAC with the exclusive lock held,
 * where there is none yet): in MAC_INDEX_NEW, renamed to MAC_INDEX once complete.
 */
static void mac_index_build(struct lj_state *st)
{
	struct dirent *de;
	bool ok = true;
	DIR *d;

	mac_index_remove(st, MAC_INDEX_NEW); /* a build that was killed */
	if (st->top_fd < 0 || mkdirat(st->top_fd, MAC_INDEX_NEW, 0700) < 0 ||
	    lj_state_dir_stream(st, &d) < 0)
		return;
	while (ok && (de = readdir(d))) {
		char id[LJ_RECORD_ID_LEN], name[64];
		size_t len = strlen(de->d_name);
		struct lj_record rec;
		uint8_t mac[LJ_MAC_LEN];
		int r;

		if (de->d_name[0] == '.' || len != LJ_RECORD_ID_LEN - 1 + 5 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, de->d_name, LJ_RECORD_ID_LEN - 1);
		id[LJ_RECORD_ID_LEN - 1] = '\0';
		/* Those of lanjoin in other namespaces too: they look up by MAC here too. */
		r = lj_state_load_as(st, id, false, &rec);
		if (r == -EXDEV)
			r = lj_state_load_as(st, id, true, &rec);
		if (r < 0)
			continue; /* unreadable: no lookup reads it either */
		if (lj_record_mac(&rec, mac)) {
			mac_index_name(MAC_INDEX_NEW, mac, id, name, sizeof(name));
			ok = linkat(st->dir_fd, de->d_name, st->top_fd, name, 0) == 0 ||
			     errno == EEXIST || errno == ENOENT; /* ENOENT: removed meanwhile */
		}
		lj_record_free(&rec);
	}
	closedir(d);
	if (!ok || renameat(st->top_fd, MAC_INDEX_NEW, st->top_fd, MAC_INDEX) < 0)
		mac_index_remove(st, MAC_INDEX_NEW);
}

int lj_state_list_mac(struct lj_state *st, const uint8_t mac[LJ_MAC_LEN], struct lj_record **ret,
		      size_t *ret_n)
{
	struct lj_record *recs = NULL;
	char prefix[16], text[LJ_MAC_STRLEN], needle[LJ_MAC_STRLEN + 16];
	size_t n = 0, cap = 0, k = 0;
	struct dirent *de;
	int fd, r;
	DIR *d;

	fd = st->top_fd < 0 ? (errno = ENOENT, -1)
			    : openat(st->top_fd, MAC_INDEX,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return lj_negerrno();
	if (fd < 0) {
		/* No index yet: the records whose text names the MAC (as info.mac or as their
		 * link step's "mac"), then the index for the next lookups. */
		lj_mac_to_string(mac, text, sizeof(text));
		snprintf(needle, sizeof(needle), "\"mac\": \"%s\"", text);
		r = lj_state_list_text(st, (const char *const[]){needle}, 1, &recs, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			uint8_t m[LJ_MAC_LEN];
			if (lj_record_mac(&recs[i], m) && memcmp(m, mac, LJ_MAC_LEN) == 0)
				recs[k++] = recs[i];
			else
				lj_record_free(&recs[i]);
		}
		if (st->exclusive && st->top_fd >= 0)
			mac_index_build(st);
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
	snprintf(prefix, sizeof(prefix), "%02x%02x%02x%02x%02x%02x-", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	while ((de = readdir(d))) {
		const char *id = de->d_name + strlen(prefix);
		uint8_t m[LJ_MAC_LEN];

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || !lj_state_valid_id(id))
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
		if (r == 0 && lj_record_mac(&recs[n], m) && memcmp(m, mac, LJ_MAC_LEN) == 0) {
			n++;
			continue;
		}
		if (r == 0)
			lj_record_free(&recs[n]);
		/* A name whose record is gone or has another MAC now: dropped (with the lock
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
