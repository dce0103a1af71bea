/* SPDX-License-Identifier: MIT */
/*
 * CNI's index: the record of an attachment found by its key (network, container ID, ifname)
 * without reading every record. <state>/cni holds one link per key (lj_state_link_set),
 * named by the key and pointing at the record id; it is written before the record, under the
 * state lock, and removed after it. A link is a hint: the record it names is loaded and
 * checked against the key, so a stale link (the attach failed, `lanjoin detach` or `gc`
 * removed the record, a newer namespace's attachment took the record's id) means "none".
 * No link means no record: the first command that finds the index missing ".ready" links
 * every record an older lanjoin made (one read of them all, under the exclusive lock) and
 * then writes ".ready".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "lib/core/target.h"
#include "lib/kernel/netns.h"
#include "shared/name.h"

#define INDEX_SUBDIR "cni"
#define INDEX_READY ".ready"
#define NAME_MAX_LEN 255

/*
 * The link name of key k: "NETWORK:CONTAINERID:IFNAME" (none of the three may hold ':' or
 * '/', and the first character is a letter or digit), or, when that is longer than a file
 * name may be, '~' and 32 hex digits of two hashes of it (two keys then share a name with
 * odds of 2^-128, and lj_cni_index_claim refuses rather than mix them up). false if k cannot
 * be a key (a component empty or holding ':' or '/').
 */
static bool key_name(const struct lj_cni_key *k, char ret[NAME_MAX_LEN + 1])
{
	char full[512];
	int n;

	if (!k->network || !k->container_id || !k->ifname || !*k->network || !*k->container_id ||
	    !lj_ifname_valid(k->ifname) || strpbrk(k->network, ":/") ||
	    strpbrk(k->container_id, ":/") || k->network[0] == '.' || k->network[0] == '~')
		return false;
	n = snprintf(full, sizeof(full), "%s:%s:%s", k->network, k->container_id, k->ifname);
	if (n < 0 || (size_t)n >= sizeof(full))
		return false;
	if (n <= NAME_MAX_LEN) {
		memcpy(ret, full, (size_t)n + 1);
		return true;
	}
	/* FNV-1a twice, from different starting points: a prefix changes the whole state. */
	{
		char alt[sizeof(full) + 2];
		snprintf(alt, sizeof(alt), "#%s", full);
		snprintf(ret, NAME_MAX_LEN + 1, "~%016" PRIx64 "%016" PRIx64, lj_hash64(full),
			 lj_hash64(alt));
	}
	return true;
}

/* The key a record was made for (its info.cni), or false if it has none. */
static bool record_key(const struct lj_record *rec, struct lj_cni_key *ret)
{
	const json_t *cni = json_object_get(rec->info, "cni");

	*ret = (struct lj_cni_key){
		.network = json_string_value(json_object_get(cni, "network")),
		.container_id = json_string_value(json_object_get(cni, "containerID")),
		.ifname = json_string_value(json_object_get(cni, "ifname")),
	};
	return ret->network && ret->container_id && ret->ifname;
}

/* Link every CNI record of st (of any namespace) into idx; then mark idx ready. */
static int index_build(struct lj_state *st, struct lj_state *idx)
{
	for (int foreign = 0; foreign < 2; foreign++) {
		struct lj_record *recs = NULL;
		size_t n = 0;
		int r;

		r = foreign ? lj_state_list_foreign(st, &recs, &n)
			    : lj_state_list(st, &recs, &n, NULL);
		if (r < 0)
			return r;
		/* Sorted by creation: of two records with one key (none should), the newer wins. */
		for (size_t i = 0; i < n && r == 0; i++) {
			struct lj_cni_key k;
			char name[NAME_MAX_LEN + 1];

			if (record_key(&recs[i], &k) && key_name(&k, name))
				r = lj_state_link_set(idx, name, recs[i].id);
		}
		lj_records_free(recs, n);
		if (r < 0)
			return r;
	}
	return lj_state_mark_set(idx, INDEX_READY);
}

int lj_cni_index_open(struct lj_state *st, bool exclusive, struct lj_state **ret)
{
	struct lj_state *idx = NULL;
	int r;

	r = lj_state_open_sibling(st, INDEX_SUBDIR, &idx);
	if (r < 0)
		return r;
	r = lj_state_mark_get(idx, INDEX_READY);
	if (r == 0)
		r = exclusive ? index_build(st, idx) : -EAGAIN;
	if (r < 0) {
		lj_state_close(idx);
		return r;
	}
	*ret = idx;
	return 0;
}

/*
 * The record the link of k names, if it is k's: 0 and *ret (the caller's), or -ENOENT. With
 * ret_other (may be NULL), *ret_other is set when the link names a record of another key
 * whose link name is the same as k's (see key_name).
 */
static int lookup(struct lj_state *st, struct lj_state *idx, const struct lj_cni_key *k,
		  const char *name, struct lj_record *ret, bool *ret_other)
{
	struct lj_cni_key ok;
	struct lj_record rec;
	char id[LJ_RECORD_ID_LEN], oname[NAME_MAX_LEN + 1];
	int r;

	r = lj_state_link_get(idx, name, id);
	if (r == -EBADMSG)
		return -ENOENT; /* not ours to read: replaced by the next claim */
	if (r < 0)
		return r;
	r = lj_state_load(st, id, &rec);
	if (r == -EXDEV || r == -EBADMSG)
		return -ENOENT;
	if (r < 0)
		return r;
	if (lj_cni_key_match(&rec, (void *)k)) {
		*ret = rec;
		return 0;
	}
	if (ret_other && record_key(&rec, &ok) && key_name(&ok, oname) && strcmp(oname, name) == 0)
		*ret_other = true;
	lj_record_free(&rec);
	return -ENOENT;
}

int lj_cni_index_find(struct lj_state *st, struct lj_state *idx, const struct lj_cni_key *k,
		      struct lj_record *ret)
{
	char name[NAME_MAX_LEN + 1];

	if (!key_name(k, name))
		return -ENOENT;
	return lookup(st, idx, k, name, ret, NULL);
}

int lj_cni_index_claim(const struct lj_cni_key *k, const char *id, struct lj_record *ret_old)
{
	struct lj_state *st = NULL, *idx = NULL;
	char name[NAME_MAX_LEN + 1];
	bool other = false;
	int r;

	if (!key_name(k, name))
		return -EINVAL;
	r = lj_state_open(true, &st);
	if (r < 0)
		return r;
	r = lj_cni_index_open(st, true, &idx);
	if (r == 0) {
		r = lookup(st, idx, k, name, ret_old, &other);
		if (r == 0)
			r = -EEXIST;
		else if (r == -ENOENT && other)
			r = -ENOTUNIQ;
		else if (r == -ENOENT)
			r = lj_state_link_set(idx, name, id);
	}
	lj_state_close(idx);
	lj_state_close(st);
	return r;
}

/* Remove the link of k unless it names a record of k that is still there. */
static int drop_if_stale(struct lj_state *st, struct lj_state *idx, const struct lj_cni_key *k,
			 const char *name)
{
	struct lj_record rec;
	int r;

	r = lookup(st, idx, k, name, &rec, NULL);
	if (r == 0) {
		lj_record_free(&rec);
		return 0;
	}
	return r == -ENOENT ? lj_state_link_remove(idx, name) : r;
}

void lj_cni_index_release(const struct lj_cni_key *k)
{
	struct lj_state *st = NULL, *idx = NULL;
	char name[NAME_MAX_LEN + 1];

	if (!key_name(k, name) || lj_state_open(true, &st) < 0)
		return;
	if (lj_cni_index_open(st, true, &idx) == 0)
		drop_if_stale(st, idx, k, name);
	lj_state_close(idx);
	lj_state_close(st);
}

int lj_cni_index_drop(const struct lj_cni_key *const *keys, size_t n)
{
	struct lj_state *st = NULL, *idx = NULL;
	int r;

	if (!n)
		return 0;
	r = lj_state_open(true, &st);
	if (r < 0)
		return r;
	r = lj_cni_index_open(st, true, &idx);
	for (size_t i = 0; i < n && r == 0; i++) {
		char name[NAME_MAX_LEN + 1];
		if (key_name(keys[i], name))
			r = drop_if_stale(st, idx, keys[i], name);
	}
	lj_state_close(idx);
	lj_state_close(st);
	return r;
}

/*
 * No link: a record an older lanjoin wrote after the index was built (two versions in use at
 * once) is still found where that version put it, by CNI_NETNS's identity (an id is
 * lj_record_id of the namespace's key and the ifname), while that namespace lives.
 */
static bool netns_record_id(const char *netns, const char *ifname, char ret[LJ_RECORD_ID_LEN])
{
	struct lj_target t;
	bool ok;

	if (!netns || !*netns || lj_target_parse(netns, &t) < 0 || t.kind != LJ_TARGET_PATH ||
	    lj_target_open(&t) < 0)
		return false;
	ok = !lj_netns_is_current(t.netns_fd);
	if (ok)
		lj_record_id(t.key, ifname, ret);
	lj_target_close(&t);
	return ok;
}

int lj_cni_index_detach(const struct lj_cni_key *k, const char *netns, struct lj_result *res,
			size_t *ret_removed)
{
	struct lj_state *st = NULL, *idx = NULL;
	char name[NAME_MAX_LEN + 1], id[LJ_RECORD_ID_LEN], fb[LJ_RECORD_ID_LEN];
	const char *ids[1] = {id};
	size_t n = 0;
	int r;

	memset(res, 0, sizeof(*res));
	*ret_removed = 0;
	if (!key_name(k, name))
		return 0; /* not a key lanjoin ever attached */
	r = lj_state_open(true, &st);
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	r = lj_cni_index_open(st, true, &idx);
	if (r == 0) {
		r = lj_state_link_get(idx, name, id);
		n = r == 0;
		r = r == -ENOENT || r == -EBADMSG ? 0 : r;
	}
	if (r < 0) {
		lj_fail(res, r, "Failed to read the index in %s/%s: %s", lj_state_dir(),
			INDEX_SUBDIR, strerror(-r));
		goto out;
	}
	/* lj_detach_ids loads the record and undoes it only if it is k's. */
	r = lj_detach_ids(st, ids, n, lj_cni_key_match, (void *)k, res, ret_removed);
	if (r == 0 && *ret_removed == 0 && netns_record_id(netns, k->ifname, fb) &&
	    (n == 0 || strcmp(fb, id) != 0)) {
		ids[0] = fb;
		r = lj_detach_ids(st, ids, 1, lj_cni_key_match, (void *)k, res, ret_removed);
	}
	/* Everything of k is undone, or the link was stale: it goes (a failed undo keeps both). */
	if (r == 0 && n) {
		r = lj_state_link_remove(idx, name);
		if (r < 0)
			lj_fail(res, r, "Failed to remove the index link %s/%s/%s: %s",
				lj_state_dir(), INDEX_SUBDIR, name, strerror(-r));
	}
out:
	lj_state_close(idx);
	lj_state_close(st);
	return r;
}
