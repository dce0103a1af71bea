/* SPDX-License-Identifier: MIT */
/* The indexes of the attachment records by MAC, by address, by private network and by target
 * (state.h: lj_state_list_mac, lj_state_list_addr, lj_state_list_net, lj_state_list_target). */
#include <arpa/inet.h>
#include <ctype.h>
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

bool lj_record_mac_is(const struct lj_record *rec, const char *text)
{
	uint8_t a[LJ_MAC_LEN], b[LJ_MAC_LEN];

	return text && lj_parse_mac(text, a) == 0 && lj_record_mac(rec, b) &&
	       memcmp(a, b, LJ_MAC_LEN) == 0;
}

/*
 * The indexes of the records by MAC and by address: directory MAC_INDEX (ADDR_INDEX) beside
 * the attachments directory (in the state directory, st->top_fd), in it a bucket directory
 * per the key's last two hex digits (made when first needed, kept), and in the bucket one
 * name "<key>-<id>" per record and key it has (key: its MAC, lj_record_mac, 12 hex digits; each of
 * its LAN addresses, info.addresses, as 8 or 32 hex digits): a hard link to that record as it was
 * first saved with it (a name, no inode of its own: nothing to allocate where the state is on
 * ext4); removed with the record. It may hold names whose record is gone or has another key
 * now (a record removed by other means, a record saved again with another MAC or address: a
 * lookup checks the record, gc drops them), never lack one: a record is linked before its
 * rename makes it visible, all under the exclusive lock, and the directory exists only once
 * it was built complete (index_build). lanjoin before it did not keep it: a record that such
 * a binary writes while the directory exists is missing from it. A lookup reads one bucket,
 * not every name: what an attach or a Join pays for it does not grow with the records (the
 * flat directories of lanjoin before, OLD_*, are removed when the index is built).
 */
#define MAC_INDEX "attachments-index-mac"
#define ADDR_INDEX "attachments-index-address"
#define OLD_MAC_INDEX "attachments-by-mac"
#define OLD_ADDR_INDEX "attachments-by-address"
/* The same for the IPv4 networks an attachment keeps off the LAN (the nat way's info.private, a
 * network, and info.to, an address): key "HHHHHHHHlN", the network's address in hex, 'l' and
 * its prefix length (no '-': the first '-' of a name ends its key). Flat, without buckets: its
 * lookups ask for every key that overlaps a network, not for one key. */
#define NET_INDEX "attachments-by-private"
/* The same by target (TARGET_INDEX/BB/KEY-ID): key the id's first LJ_RECORD_TARGET_LEN hex
 * digits, which name the target (lj_record_id), so that a detach by target without --ifname
 * reads one bucket, not the names of every record (issue 21). Without it (lanjoin before),
 * lj_state_list_target reads every name once more, and the first lookup with the exclusive
 * lock held builds it. */
#define TARGET_INDEX "attachments-index-target"
#define KEY_MAX 33 /* an IPv6 address in hex and its NUL */
#define KEYS_MAX 8

struct index_kind {
	const char *dir, *dir_new, *old; /* old: NULL, or lanjoin before's flat directory */
	bool flat;			 /* "DIR/KEY-ID", no buckets */
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

static void net_key(const struct lj_cidr *c, char key[KEY_MAX])
{
	ip_key(&c->ip, key);
	snprintf(key + 8, KEY_MAX - 8, "l%u", c->prefixlen);
}

static size_t net_keys(const struct lj_record *rec, char keys[KEYS_MAX][KEY_MAX])
{
	const char *priv = json_string_value(json_object_get(rec->info, "private"));
	const char *to = json_string_value(json_object_get(rec->info, "to"));
	struct lj_cidr c;
	size_t n = 0;

	if (priv && lj_parse_cidr(priv, true, &c) == 0 && c.ip.family == AF_INET)
		net_key(&c, keys[n++]);
	if (to && lj_parse_cidr(to, false, &c) == 0 && c.ip.family == AF_INET)
		net_key(&c, keys[n++]);
	return n;
}

static size_t target_keys(const struct lj_record *rec, char keys[KEYS_MAX][KEY_MAX])
{
	if (!lj_state_valid_id(rec->id))
		return 0;
	snprintf(keys[0], KEY_MAX, "%.*s", LJ_RECORD_TARGET_LEN, rec->id);
	return 1;
}

/* The network a key of NET_INDEX names; false if it is no such key. */
static bool net_of_key(const char *key, size_t len, struct lj_cidr *ret)
{
	char hex[9], *end;
	unsigned long a, plen;

	if (len < 10 || len > 11 || key[8] != 'l' || strspn(key, "0123456789abcdef") != 8)
		return false;
	memcpy(hex, key, 8);
	hex[8] = '\0';
	a = strtoul(hex, NULL, 16);
	plen = strtoul(key + 9, &end, 10);
	if (end != key + len || plen > 32 || !isdigit((unsigned char)key[9]))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->ip.family = AF_INET;
	ret->ip.v4.s_addr = htonl((uint32_t)a);
	ret->prefixlen = (unsigned)plen;
	return true;
}

static bool overlap4(const struct lj_cidr *a, const struct lj_cidr *b)
{
	unsigned len = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
	uint32_t m = len ? ~0u << (32 - len) : 0;

	return ((ntohl(a->ip.v4.s_addr) ^ ntohl(b->ip.v4.s_addr)) & m) == 0;
}

static const struct index_kind kinds[] = {
	{MAC_INDEX, "." MAC_INDEX ".new", OLD_MAC_INDEX, false, mac_keys},
	{ADDR_INDEX, "." ADDR_INDEX ".new", OLD_ADDR_INDEX, false, addr_keys},
	{NET_INDEX, "." NET_INDEX ".new", NULL, true, net_keys},
	{TARGET_INDEX, "." TARGET_INDEX ".new", NULL, false, target_keys},
};

/* The name of key's entry for record id in index directory dir: "DIR/BB/KEY-ID" (BB: the
 * key's last two hex digits; "DIR/KEY-ID" if flat); with id NULL, its bucket "DIR/BB" (flat:
 * "DIR"). */
static void entry_name(const char *dir, bool flat, const char *key, const char *id, char *buf,
		       size_t size)
{
	size_t len = strlen(key);
	const char *bb = len >= 2 ? key + len - 2 : "00";

	if (flat && id)
		snprintf(buf, size, "%s/%s-%s", dir, key, id);
	else if (flat)
		snprintf(buf, size, "%s", dir);
	else if (id)
		snprintf(buf, size, "%s/%s/%s-%s", dir, bb, key, id);
	else
		snprintf(buf, size, "%s/%s", dir, bb);
}

/* Remove the entries of directory fd (its bucket directories, depth levels deep, with
 * theirs) and close it. */
static void remove_entries(int fd, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		int sub;

		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0 || depth == 0)
			continue;
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			remove_entries(sub, depth - 1);
		unlinkat(fd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Remove index directory dir (NULL: none) of st with its buckets and names. */
static void index_remove(struct lj_state *st, const char *dir)
{
	int fd = st->top_fd < 0 || !dir
			 ? -1
			 : openat(st->top_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	remove_entries(fd, 1);
	unlinkat(st->top_fd, dir, AT_REMOVEDIR);
}

/* Link the record, file in the attachments directory (NULL: the unnamed file fd), as name
 * (entry_name, in dir) of st: its bucket made if the index exists but the bucket does not yet.
 * 0 or -1 with errno set (ENOENT: no index, or by descriptor not allowed to link it). */
static int link_entry(struct lj_state *st, int fd, const char *file, const char *dir, bool flat,
		      const char *key, const char *name)
{
	int from = file ? st->dir_fd : fd, flags = file ? 0 : AT_EMPTY_PATH;
	char bucket[PATH_MAX];

	if (!file)
		file = "";
	if (linkat(from, file, st->top_fd, name, flags) == 0)
		return 0;
	if (errno != ENOENT || flat) /* flat: ENOENT is no index */
		return -1;
	entry_name(dir, false, key, NULL, bucket, sizeof(bucket));
	/* ENOENT: no index (the bucket's parent is missing: not built, or not the attachments) */
	if (mkdirat(st->top_fd, bucket, 0700) < 0 && errno != EEXIST)
		return -1;
	return linkat(from, file, st->top_fd, name, flags);
}

int lj_state_mac_add(struct lj_state *st, const struct lj_record *rec, int fd, const char *file)
{
	char keys[KEYS_MAX][KEY_MAX], name[PATH_MAX];

	if (st->top_fd < 0)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t n = kinds[k].keys(rec, keys);

		for (size_t i = 0; i < n; i++) {
			entry_name(kinds[k].dir, kinds[k].flat, keys[i], rec->id, name,
				   sizeof(name));
			/* EEXIST: linked at an earlier save. ENOENT: no index (not built, or not
			 * the attachments), or by descriptor: not allowed to link it (where the
			 * index is there). Anything else: the index cannot be trusted any more. */
			if (link_entry(st, fd, file, kinds[k].dir, kinds[k].flat, keys[i], name) ==
				    0 ||
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
			entry_name(kinds[k].dir, kinds[k].flat, keys[i], id, name, sizeof(name));
			unlinkat(st->top_fd, name, 0);
		}
	}
	lj_record_free(&rec);
}

/* Drop the names of bucket fd (closed here) whose record is gone. */
static void prune_bucket(struct lj_state *st, int fd)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);

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

void lj_state_prune_index(struct lj_state *st)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		int fd = st->top_fd < 0 ? -1
					: openat(st->top_fd, kinds[k].dir,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		index_remove(st, kinds[k].old); /* lanjoin before: it is kept no more */
		if (fd < 0)
			continue;
		if (kinds[k].flat) {
			prune_bucket(st, fd); /* its names are in the directory itself */
			continue;
		}
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		while ((de = readdir(d))) {
			int b;

			if (de->d_name[0] == '.')
				continue;
			b = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (b >= 0)
				prune_bucket(st, b);
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
	index_remove(st, kind->old);	 /* lanjoin before: it is kept no more */
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
			entry_name(kind->dir_new, kind->flat, keys[i], id, name, sizeof(name));
			ok = link_entry(st, -1, de->d_name, kind->dir_new, kind->flat, keys[i],
					name) == 0 ||
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

/* The keys a lookup wants: key exactly, or (key NULL, NET_INDEX) those whose network overlaps
 * net (net NULL: every one). */
struct key_query {
	const char *key;
	const struct lj_cidr *net;
};

static bool key_wanted(const struct key_query *q, const char *key, size_t len)
{
	struct lj_cidr c;

	if (q->key)
		return strlen(q->key) == len && memcmp(q->key, key, len) == 0;
	return net_of_key(key, len, &c) && (!q->net || overlap4(&c, q->net));
}

/* Has rec a key of kind that q wants? */
static bool rec_wanted(const struct index_kind *kind, const struct lj_record *rec,
		       const struct key_query *q)
{
	char keys[KEYS_MAX][KEY_MAX];
	size_t n = kind->keys(rec, keys);

	for (size_t i = 0; i < n; i++)
		if (key_wanted(q, keys[i], strlen(keys[i])))
			return true;
	return false;
}

static bool have_id(const struct lj_record *recs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].id, id) == 0)
			return true;
	return false;
}

/* The records with a key of kind that q wants (see lj_state_list_mac), each once; needles:
 * their text's marks of such keys, for the search without an index. */
static int list_key(struct lj_state *st, const struct index_kind *kind, const struct key_query *q,
		    const char *const *needles, size_t n_needles, struct lj_record **ret,
		    size_t *ret_n)
{
	struct lj_record *recs = NULL;
	size_t n = 0, cap = 0, k = 0;
	char bucket[PATH_MAX];
	struct dirent *de;
	int fd, r;
	DIR *d;

	/* The key's bucket alone (a flat index: all of it); missing, while the index is there: no
	 * record has the key. */
	if (kind->flat || !q->key)
		snprintf(bucket, sizeof(bucket), "%s", kind->dir);
	else
		entry_name(kind->dir, false, q->key, NULL, bucket, sizeof(bucket));
	fd = st->top_fd < 0
		     ? (errno = ENOENT, -1)
		     : openat(st->top_fd, bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && st->top_fd >= 0 &&
	    faccessat(st->top_fd, kind->dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (fd < 0 && errno != ENOENT)
		return lj_negerrno();
	if (fd < 0 && !needles) {
		/* No index yet, and no needles: the caller lists otherwise (-ENOENT); the index
		 * for the next lookups. */
		if (st->exclusive && st->top_fd >= 0)
			index_build(st, kind);
		return -ENOENT;
	}
	if (fd < 0) {
		/* No index yet: the records whose text has a needle, then the index for the next
		 * lookups. */
		r = lj_state_list_text(st, needles, n_needles, &recs, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (rec_wanted(kind, &recs[i], q))
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
	while ((de = readdir(d))) {
		const char *dash = strchr(de->d_name, '-');
		char key[KEY_MAX];
		size_t klen;

		if (!dash || de->d_name[0] == '.' || !lj_state_valid_id(dash + 1))
			continue;
		klen = (size_t)(dash - de->d_name);
		if (klen >= KEY_MAX || !key_wanted(q, de->d_name, klen) ||
		    have_id(recs, n, dash + 1))
			continue;
		memcpy(key, de->d_name, klen);
		key[klen] = '\0';
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
		r = lj_state_load_as(st, dash + 1, false, &recs[n]);
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
	return list_key(st, &kinds[0], &(struct key_query){.key = key},
			(const char *const[]){needle}, 1, ret, ret_n);
}

int lj_state_list_addr(struct lj_state *st, const struct lj_ip *ip, struct lj_record **ret,
		       size_t *ret_n)
{
	char buf[LJ_IP_STRLEN], needle[LJ_IP_STRLEN + 2], key[KEY_MAX];

	/* As info.addresses holds it ("A/N"): the leading quote and the slash bound it. */
	snprintf(needle, sizeof(needle), "\"%s/", lj_ip_to_string(ip, buf, sizeof(buf)));
	ip_key(ip, key);
	return list_key(st, &kinds[1], &(struct key_query){.key = key},
			(const char *const[]){needle}, 1, ret, ret_n);
}

int lj_state_list_net(struct lj_state *st, const struct lj_cidr *net, struct lj_record **ret,
		      size_t *ret_n)
{
	/* As records hold them (JSON_INDENT); without an index, every record with either. */
	static const char *const needles[] = {"\"private\": \"", "\"to\": \""};

	if (net && net->ip.family != AF_INET)
		net = NULL;
	return list_key(st, &kinds[2], &(struct key_query){.net = net}, needles,
			ARRAY_SIZE(needles), ret, ret_n);
}

int lj_state_list_target_index(struct lj_state *st, const char *key, struct lj_record **ret,
			       size_t *ret_n)
{
	return list_key(st, &kinds[3], &(struct key_query){.key = key}, NULL, 0, ret, ret_n);
}
