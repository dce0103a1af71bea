/* SPDX-License-Identifier: MIT */
/* State records: round trip, atomic replace, hostile files rejected, listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kernel/proc.h"
#include "lib/core/attach.h"
#include "lib/core/state.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/lj-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("LANJOIN_STATE_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void make_record(struct lj_record *rec, const char *key, const char *ifname)
{
	struct lj_step *s;

	memset(rec, 0, sizeof(*rec));
	lj_record_id(key, ifname, rec->id);
	strcpy(rec->way, "bridge");
	strcpy(rec->status, "attached");
	strcpy(rec->ifname, ifname);
	strcpy(rec->host_ifname, "ljv0123456789ab");
	rec->target_kind = LJ_TARGET_NETNS;
	strcpy(rec->target_spec, "netns:c1");
	strcpy(rec->target_name, "c1");
	rec->netns.dev = 4;
	rec->netns.ino = 4026532291;
	rec->created = 1700000000;
	rec->info = json_pack("{s:s}", "bridge", "br-em1");
	s = lj_plan_add(&rec->plan, &lj_step_veth, LJ_HOST, "create veth");
	strcpy(s->link, "ljv0123456789ab");
	strcpy(s->peer, ifname);
}

static void test_round_trip(void **state)
{
	struct lj_state *st;
	struct lj_record rec, back;
	json_t *a, *b;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:4026532291", "eth1");
	assert_int_equal(lj_state_save(st, &rec), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	a = lj_record_to_json(&rec);
	b = lj_record_to_json(&back);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	lj_record_free(&back);

	/* Replace atomically, then remove; removing twice is fine. */
	strcpy(rec.status, "applying");
	assert_int_equal(lj_state_save(st, &rec), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	assert_string_equal(back.status, "applying");
	lj_record_free(&back);
	assert_int_equal(lj_state_remove(st, rec.id), 0);
	assert_int_equal(lj_state_remove(st, rec.id), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), -ENOENT);
	lj_record_free(&rec);
	lj_state_close(st);
}

static int parse_edited(const struct lj_record *rec, void (*edit)(json_t *o),
			struct lj_record *ret);
static void edit_none(json_t *o);

static void edit_spec_string(json_t *o)
{
	json_object_set_new(o, "spec", json_string("bridge"));
}

/* The spec member: kept when there, optional (older records), an object or refused. */
static void test_spec(void **state)
{
	struct lj_record rec, back;
	json_t *a, *b;

	make_record(&rec, "ns:4:4026532291", "eth1");
	assert_int_equal(parse_edited(&rec, edit_none, &back), 0);
	assert_null(back.spec); /* a record without one loads */
	lj_record_free(&back);
	rec.spec = json_pack("{s:s, s:s, s:[s]}", "way", "bridge", "target", "netns:c1", "ip",
			     "198.51.100.117/24");
	assert_int_equal(parse_edited(&rec, edit_none, &back), 0);
	assert_true(json_equal(rec.spec, back.spec));
	a = lj_record_to_json(&rec);
	b = lj_record_to_json(&back);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	lj_record_free(&back);
	assert_int_equal(parse_edited(&rec, edit_spec_string, &back), -EBADMSG);
	lj_record_free(&rec);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/attachments/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_hostile(void **state)
{
	struct lj_state *st;
	struct lj_record rec, *recs;
	char path[256], target[256];
	size_t n, bad;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:1", "eth1");
	assert_int_equal(lj_state_save(st, &rec), 0);

	write_file("aaaaaaaaaaaa.json", "{\"format\":\"lanjoin-attachment/1\""); /* truncated */
	write_file("bbbbbbbbbbbb.json", "{\"format\":\"something-else\"}");
	write_file("cccccccccccc.json", "");
	write_file("not-a-record", "x");
	/* a symlink must never be followed */
	snprintf(path, sizeof(path), "%s/attachments/dddddddddddd.json", dir);
	snprintf(target, sizeof(target), "%s/attachments/%s.json", dir, rec.id);
	assert_int_equal(symlink(target, path), 0);

	assert_int_equal(lj_state_load(st, "aaaaaaaaaaaa", &rec), -EBADMSG);
	assert_int_equal(lj_state_load(st, "bbbbbbbbbbbb", &rec), -EBADMSG);
	assert_int_equal(lj_state_load(st, "cccccccccccc", &rec), -EBADMSG);
	assert_int_equal(lj_state_load(st, "dddddddddddd", &rec), -EBADMSG);
	assert_int_equal(lj_state_load(st, "../../etc/pa", &rec), -EINVAL);

	assert_int_equal(lj_state_list(st, &recs, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 5);
	lj_records_free(recs, n);
	lj_record_free(&rec);
	lj_state_close(st);
}

static void test_sweep_tmp(void **state)
{
	struct lj_state *st;
	struct lj_record rec, back;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:9", "eth1");
	assert_int_equal(lj_state_save(st, &rec), 0);
	write_file(".0123456789ab.tmp", "{\"format\":"); /* a write killed before rename */
	assert_int_equal(lj_state_sweep_tmp(st), 1);
	assert_int_equal(lj_state_sweep_tmp(st), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), 0); /* records stay */
	lj_record_free(&back);
	lj_record_free(&rec);
	lj_state_close(st);
}

/* The inode of file name in the attachments directory, 0 if there is none. */
static ino_t file_ino(const char *name)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/attachments/%s", dir, name);
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

/*
 * A transaction's saves (lj_state_save_more) keep the text they replace as the next save's
 * temporary file, swapped with the record: one inode reused, never a partial record; the
 * last save (lj_state_save) and lj_state_remove remove it.
 */
static void test_save_more(void **state)
{
	char json[32], tmp[32];
	struct lj_state *st;
	struct lj_record rec, back;
	ino_t first, second;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:11", "eth1");
	snprintf(json, sizeof(json), "%s.json", rec.id);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", rec.id);
	strcpy(rec.status, "applying");
	assert_int_equal(lj_state_save_more(st, &rec), 0); /* no record yet: renamed */
	assert_int_equal(file_ino(tmp), 0);
	first = file_ino(json);
	assert_true(first != 0);

	rec.plan.steps[0].i64 = 7; /* what a step learnt */
	assert_int_equal(lj_state_save_more(st, &rec), 0);
	second = file_ino(json);
	assert_true(second != first);
	assert_int_equal(file_ino(tmp), first); /* the old text, kept as the spare */
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	assert_int_equal(back.plan.steps[0].i64, 7);
	lj_record_free(&back);

	strcpy(rec.status, "attached");
	assert_int_equal(lj_state_save(st, &rec), 0);
	assert_int_equal(file_ino(json), first); /* the spare written again, swapped in */
	assert_int_equal(file_ino(tmp), 0);	 /* the last save drops the spare */
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	assert_string_equal(back.status, "attached");
	assert_int_equal(back.plan.steps[0].i64, 7);
	lj_record_free(&back);

	assert_int_equal(lj_state_save_more(st, &rec), 0);
	assert_int_equal(file_ino(tmp), first); /* kept again: the last one's old text */

	/* A kept file left when the record goes: removed with it. */
	rec.plan.steps[0].i64 = 0; /* a shorter text into the longer one's file */
	assert_int_equal(lj_state_save_more(st, &rec), 0);
	assert_int_equal(file_ino(json), first);
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	assert_int_equal(back.plan.steps[0].i64, 0);
	lj_record_free(&back);
	assert_int_equal(lj_state_remove(st, rec.id), 0);
	assert_int_equal(file_ino(tmp), 0);
	assert_int_equal(file_ino(json), 0);
	lj_record_free(&rec);
	lj_state_close(st);
}

/* A target's records share an id prefix: lj_state_list_target reads only those. */
static int index_names_in(const char *sub);

/* lj_state_list_target: a target's records, by name until the index by target is built (by
 * the first lookup: a state directory of lanjoin before has none), then from its bucket. */
static void test_list_target(void **state)
{
	static const char *const keys[] = {"ns:4:1", "ns:4:1", "ns:4:2", "ns:5:1"};
	static const char *const ifnames[] = {"eth1", "eth2", "eth1", "eth1"};
	struct lj_record rec, *recs;
	struct lj_state *st;
	char a[LJ_RECORD_ID_LEN], b[LJ_RECORD_ID_LEN];
	size_t n;

	lj_record_id("ns:4:1", "eth1", a);
	lj_record_id("ns:4:1", "eth2", b);
	assert_int_equal(strlen(a), LJ_RECORD_ID_LEN - 1);
	assert_memory_equal(a, b, LJ_RECORD_TARGET_LEN);
	assert_string_not_equal(a, b);
	lj_record_id("ns:4:2", "eth1", b);
	assert_memory_not_equal(a, b, LJ_RECORD_TARGET_LEN);

	assert_int_equal(lj_state_open(true, &st), 0);
	for (size_t i = 0; i < 4; i++) {
		make_record(&rec, keys[i], ifnames[i]);
		assert_int_equal(lj_state_save(st, &rec), 0);
		lj_record_free(&rec);
	}
	assert_int_equal(index_names_in("attachments-index-target"), -1); /* none yet */
	/* twice: by name (building the index), then through the index */
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(lj_state_list_target(st, "ns:4:1", &recs, &n), 0);
		assert_int_equal(n, 2);
		assert_memory_equal(recs[0].id, a, LJ_RECORD_TARGET_LEN);
		lj_records_free(recs, n);
		assert_int_equal(index_names_in("attachments-index-target"), 4);
		assert_int_equal(lj_state_list_target(st, "ns:5:1", &recs, &n), 0);
		assert_int_equal(n, 1);
		lj_records_free(recs, n);
		assert_int_equal(lj_state_list_target(st, "ns:9:9", &recs, &n), 0);
		assert_int_equal(n, 0);
		lj_records_free(recs, n);
	}
	/* a record saved and one removed once it is there: in it and gone from it */
	make_record(&rec, "ns:4:1", "eth3");
	assert_int_equal(lj_state_save(st, &rec), 0);
	lj_record_free(&rec);
	assert_int_equal(index_names_in("attachments-index-target"), 5);
	assert_int_equal(lj_state_remove(st, a), 0);
	assert_int_equal(index_names_in("attachments-index-target"), 4);
	assert_int_equal(lj_state_list_target(st, "ns:4:1", &recs, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(recs[i].id, a);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list(st, &recs, &n, NULL), 0);
	assert_int_equal(n, 4);
	lj_records_free(recs, n);
	lj_state_close(st);
}

/* lj_state_list_info finds records by a member of their info, without parsing the others;
 * lj_state_list_text by any of several strings. */
static void test_list_info(void **state)
{
	static const char *const any[] = {"\"parent\": \"em9\"", "\"parent\": \"em2\""};
	struct lj_record rec, *recs;
	struct lj_state *st;
	size_t n;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:1", "eth1");
	json_object_set_new(rec.info, "parent", json_string("em1"));
	assert_int_equal(lj_state_save(st, &rec), 0);
	lj_record_free(&rec);
	make_record(&rec, "ns:4:2", "eth1");
	json_object_set_new(rec.info, "parent", json_string("em2"));
	assert_int_equal(lj_state_save(st, &rec), 0);
	lj_record_free(&rec);
	write_file("eeeeeeeeeeee.json",
		   "{\"parent\": \"em1\", broken"); /* matches, does not parse */

	assert_int_equal(lj_state_list_info(st, "parent", "em1", &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(recs[0].info, "parent")), "em1");
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_info(st, "parent", "em3", &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);

	/* lj_state_list_text: any of several strings */
	assert_int_equal(lj_state_list_text(st, any, 2, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(recs[0].info, "parent")), "em2");
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_text(st, any, 0, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_state_close(st);
}

/* How many names flat index directory sub has (no buckets); -1 if it does not exist. */
static int flat_names_in(const char *sub)
{
	char path[160];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* How many names index directory sub has in its buckets (each a directory named by the last
 * two hex digits of the names' keys); -1 if it does not exist. */
static int index_names_in(const char *sub)
{
	char path[160], bpath[320];
	struct dirent *de, *be;
	int n = 0;
	DIR *d, *b;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		assert_int_equal(strlen(de->d_name), 2);
		snprintf(bpath, sizeof(bpath), "%s/%s", path, de->d_name);
		b = opendir(bpath);
		assert_non_null(b);
		while ((be = readdir(b))) {
			const char *dash = strchr(be->d_name, '-');

			if (be->d_name[0] == '.')
				continue;
			/* in the bucket of its key's last two digits */
			assert_non_null(dash);
			assert_memory_equal(dash - 2, de->d_name, 2);
			n++;
		}
		closedir(b);
	}
	closedir(d);
	return n;
}

static int index_names(void)
{
	return index_names_in("attachments-index-mac");
}

/* lj_state_list_mac: the records with a MAC, through the index by MAC once it is built. */
static void test_list_mac(void **state)
{
	static const uint8_t m1[LJ_MAC_LEN] = {2, 0, 0, 0, 0, 1},
			     m2[LJ_MAC_LEN] = {2, 0, 0, 0, 0, 2},
			     m3[LJ_MAC_LEN] = {2, 0, 0, 0, 0, 3};
	struct lj_record a, b, c, d, *recs;
	struct lj_state *st;
	uint8_t m[LJ_MAC_LEN];
	char path[128];
	size_t n;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&a, "ns:4:1", "eth1"); /* info.mac */
	json_object_set_new(a.info, "mac", json_string("02:00:00:00:00:01"));
	make_record(&b, "ns:4:2", "eth1"); /* the MAC its veth step asks for */
	memcpy(b.plan.steps[0].mac, m2, LJ_MAC_LEN);
	b.plan.steps[0].has_mac = true;
	make_record(&c, "ns:4:3", "eth1"); /* none */
	assert_true(lj_record_mac(&a, m) && memcmp(m, m1, LJ_MAC_LEN) == 0);
	assert_true(lj_record_mac(&b, m) && memcmp(m, m2, LJ_MAC_LEN) == 0);
	assert_false(lj_record_mac(&c, m));
	assert_int_equal(lj_state_save(st, &a), 0);
	assert_int_equal(lj_state_save(st, &b), 0);
	assert_int_equal(lj_state_save(st, &c), 0);
	assert_int_equal(index_names(), -1); /* none until a lookup builds it */
	/* the flat index of lanjoin before (names MAC-ID, no buckets): gone with the build */
	snprintf(path, sizeof(path), "%s/attachments-by-mac", dir);
	assert_int_equal(mkdir(path, 0700), 0);

	/* the first lookup reads the records' text and builds the index */
	assert_int_equal(lj_state_list_mac(st, m1, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, a.id);
	lj_records_free(recs, n);
	assert_int_equal(index_names(), 2);
	assert_int_equal(access(path, F_OK), -1);
	/* a MAC no record has: its bucket is not there, nothing read */
	assert_int_equal(lj_state_list_mac(st, m3, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_mac(st, m2, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, b.id);
	lj_records_free(recs, n);

	/* a record saved now is in it; one with the MAC in another namespace's record too */
	make_record(&d, "ns:4:4", "eth1");
	json_object_set_new(d.info, "mac", json_string("02:00:00:00:00:01"));
	d.created = a.created + 1;
	assert_int_equal(lj_state_save(st, &d), 0);
	assert_int_equal(index_names(), 3);
	assert_int_equal(lj_state_list_mac(st, m1, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].id, a.id); /* oldest first */
	assert_string_equal(recs[1].id, d.id);
	lj_records_free(recs, n);

	/* a removed record, or one with another MAC now, is not found; its name goes */
	assert_int_equal(lj_state_remove(st, a.id), 0);
	json_object_set_new(d.info, "mac", json_string("02:00:00:00:00:03"));
	assert_int_equal(lj_state_save(st, &d), 0);
	assert_int_equal(lj_state_list_mac(st, m1, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	assert_int_equal(index_names(), 2); /* b's, d's new one */
	assert_int_equal(lj_state_list_mac(st, m3, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, d.id);
	lj_records_free(recs, n);

	/* lj_state_remove takes the name with the record; gc drops the names of records
	 * removed otherwise */
	assert_int_equal(lj_state_remove(st, b.id), 0);
	assert_int_equal(index_names(), 1);
	assert_int_equal(lj_state_save(st, &b), 0); /* index name back */
	assert_int_equal(index_names(), 2);
	snprintf(path, sizeof(path), "%s/attachments/%s.json", dir, b.id);
	assert_int_equal(unlink(path), 0);
	lj_state_prune_index(st);
	assert_int_equal(index_names(), 1);
	lj_state_close(st);

	/* a shared look finds the same, and changes nothing */
	assert_int_equal(lj_state_open(false, &st), 0);
	assert_int_equal(lj_state_list_mac(st, m3, &recs, &n), 0);
	assert_int_equal(n, 1);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_mac(st, m2, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	lj_state_close(st);
	lj_record_free(&a);
	lj_record_free(&b);
	lj_record_free(&c);
	lj_record_free(&d);
}

/* lj_state_list_addr: the records holding an address (info.addresses), through the index by
 * address once it is built; an address added by a later save is found, a dropped one not. */
static void test_list_addr(void **state)
{
	struct lj_record a, b, *recs;
	struct lj_state *st;
	struct lj_ip ip1, ip2, ip6;
	char path[160];
	size_t n;

	assert_int_equal(lj_parse_ip("198.51.100.17", &ip1), 0);
	assert_int_equal(lj_parse_ip("198.51.100.1", &ip2), 0); /* a prefix of .17's text */
	assert_int_equal(lj_parse_ip("2001:db8::17", &ip6), 0);
	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&a, "ns:5:1", "eth1");
	json_object_set_new(a.info, "addresses",
			    json_pack("[ss]", "198.51.100.17/24", "2001:db8::17/64"));
	make_record(&b, "ns:5:2", "eth1");
	json_object_set_new(b.info, "addresses", json_pack("[s]", "198.51.100.18/24"));
	assert_int_equal(lj_state_save(st, &a), 0);
	assert_int_equal(lj_state_save(st, &b), 0);
	assert_int_equal(index_names_in("attachments-index-address"), -1);

	/* the first lookup reads the records' text and builds the index */
	assert_int_equal(lj_state_list_addr(st, &ip1, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, a.id);
	lj_records_free(recs, n);
	assert_int_equal(index_names_in("attachments-index-address"), 3);
	assert_int_equal(lj_state_list_addr(st, &ip6, &recs, &n), 0);
	assert_int_equal(n, 1);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_addr(st, &ip2, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);

	/* an address a later save adds (a DHCP lease) is found; one it drops is not */
	json_object_set_new(b.info, "addresses", json_pack("[s]", "198.51.100.1/24"));
	assert_int_equal(lj_state_save(st, &b), 0);
	assert_int_equal(lj_state_list_addr(st, &ip2, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, b.id);
	lj_records_free(recs, n);

	/* removed with the record; gc drops the names of a record removed otherwise */
	assert_int_equal(lj_state_remove(st, a.id), 0);
	assert_int_equal(lj_state_list_addr(st, &ip1, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	snprintf(path, sizeof(path), "%s/attachments/%s.json", dir, b.id);
	assert_int_equal(unlink(path), 0);
	lj_state_prune_index(st);
	assert_int_equal(index_names_in("attachments-index-address"), 0);
	lj_state_close(st);
	lj_record_free(&a);
	lj_record_free(&b);
}

/* lj_state_list_net: the records whose private network (info.private) or --to address
 * (info.to) overlaps a network, through the index by private network once it is built. */
static void test_list_net(void **state)
{
	struct lj_record a, b, c, *recs;
	struct lj_cidr n31, n24, far, n8;
	struct lj_state *st;
	size_t n;

	assert_int_equal(lj_parse_cidr("198.19.0.2/31", true, &n31), 0);
	assert_int_equal(lj_parse_cidr("198.19.0.0/24", true, &n24), 0);
	assert_int_equal(lj_parse_cidr("198.19.7.0/31", true, &far), 0);
	assert_int_equal(lj_parse_cidr("198.0.0.0/8", true, &n8), 0);
	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&a, "ns:7:1", "eth1");
	json_object_set_new(a.info, "private", json_string("198.19.0.2/31"));
	make_record(&b, "ns:7:2", "eth1");
	json_object_set_new(b.info, "to", json_string("198.19.0.77"));
	make_record(&c, "ns:7:3", "eth1"); /* neither */
	json_object_set_new(c.info, "addresses", json_pack("[s]", "198.19.0.2/24"));
	assert_int_equal(lj_state_save(st, &a), 0);
	assert_int_equal(lj_state_save(st, &b), 0);
	assert_int_equal(lj_state_save(st, &c), 0);
	assert_int_equal(flat_names_in("attachments-by-private"), -1);

	/* the first lookup reads the records' text and builds the index */
	assert_int_equal(lj_state_list_net(st, &n31, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, a.id);
	lj_records_free(recs, n);
	assert_int_equal(flat_names_in("attachments-by-private"), 2);
	/* through the index: a network holding both, one holding neither, all of them */
	assert_int_equal(lj_state_list_net(st, &n24, &recs, &n), 0);
	assert_int_equal(n, 2);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_net(st, &n8, &recs, &n), 0);
	assert_int_equal(n, 2);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_net(st, &far, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_net(st, NULL, &recs, &n), 0);
	assert_int_equal(n, 2);
	lj_records_free(recs, n);

	/* a network a later save gives is found, the old one not; removed with the record */
	json_object_set_new(a.info, "private", json_string("198.19.7.0/31"));
	assert_int_equal(lj_state_save(st, &a), 0);
	assert_int_equal(lj_state_list_net(st, &far, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, a.id);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_net(st, &n31, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_remove(st, b.id), 0);
	assert_int_equal(lj_state_list_net(st, &n24, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	lj_state_close(st);
	lj_record_free(&a);
	lj_record_free(&b);
	lj_record_free(&c);
}

/* lj_state_open_kept (a session's state directory): kept while the path leads to it; a
 * directory replaced under the path (or its attachments directory) is opened again, so that
 * records never go to a directory the path no longer names. */
static void test_open_kept(void **state)
{
	struct lj_state_keep k = {.top_fd = -1, .dir_fd = -1};
	struct lj_record a, got;
	struct lj_state *st;
	char old[96], sub[128];
	int top;

	make_record(&a, "ns:6:1", "eth1");
	assert_int_equal(lj_state_open_kept(&k, true, &st), 0);
	top = k.top_fd;
	assert_int_equal(lj_state_save(st, &a), 0);
	lj_state_close(st); /* the kept descriptors stay */
	assert_int_equal(fcntl(k.top_fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(lj_state_open_kept(&k, false, &st), 0);
	assert_int_equal(k.top_fd, top); /* kept */
	assert_int_equal(lj_state_load(st, a.id, &got), 0);
	lj_record_free(&got);
	lj_state_close(st);

	/* the attachments directory replaced: opened again, the old record is not seen */
	snprintf(sub, sizeof(sub), "%s/attachments", dir);
	snprintf(old, sizeof(old), "%s/old", dir);
	assert_int_equal(rename(sub, old), 0);
	assert_int_equal(lj_state_open_kept(&k, true, &st), 0);
	assert_int_equal(lj_state_load(st, a.id, &got), -ENOENT);
	assert_int_equal(lj_state_save(st, &a), 0);
	lj_state_close(st);
	snprintf(sub, sizeof(sub), "%s/attachments/%s.json", dir, a.id);
	assert_int_equal(access(sub, F_OK), 0);

	/* the state directory itself replaced: the same */
	snprintf(old, sizeof(old), "%s.old", dir);
	assert_int_equal(rename(dir, old), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(lj_state_open_kept(&k, true, &st), 0);
	assert_int_equal(lj_state_load(st, a.id, &got), -ENOENT);
	lj_state_close(st);
	lj_state_keep_close(&k);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", old);
	assert_int_equal(system(sub), 0);
	lj_record_free(&a);
}

/* Links: a name pointing at a record id, replaced atomically; markers; hostile entries. */
static void test_links(void **state)
{
	struct lj_state *st, *sub;
	char id[LJ_RECORD_ID_LEN], path[128];
	int fd;

	assert_int_equal(lj_state_open(true, &st), 0);
	assert_int_equal(lj_state_open_sibling(st, "cni", &sub), 0);
	assert_int_equal(lj_state_link_get(sub, "net:c1:eth1", id), -ENOENT);
	assert_int_equal(lj_state_link_set(sub, "net:c1:eth1", "0123456789ab"), 0);
	assert_int_equal(lj_state_link_get(sub, "net:c1:eth1", id), 0);
	assert_string_equal(id, "0123456789ab");
	/* an existing name is replaced, and no temporary file is left */
	assert_int_equal(lj_state_link_set(sub, "net:c1:eth1", "ba9876543210"), 0);
	assert_int_equal(lj_state_link_get(sub, "net:c1:eth1", id), 0);
	assert_string_equal(id, "ba9876543210");
	snprintf(path, sizeof(path), "%s/cni/.ba9876543210.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	/* bad names and ids */
	assert_int_equal(lj_state_link_set(sub, "a/b", "0123456789ab"), -EINVAL);
	assert_int_equal(lj_state_link_set(sub, ".hidden", "0123456789ab"), -EINVAL);
	assert_int_equal(lj_state_link_set(sub, "x", "../../etc/pw"), -EINVAL);
	assert_int_equal(lj_state_link_get(sub, "..", id), -EINVAL);
	/* a regular file or a link to anything but a record id is not a link */
	snprintf(path, sizeof(path), "%s/cni/plain", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lj_state_link_get(sub, "plain", id), -EBADMSG);
	snprintf(path, sizeof(path), "%s/cni/evil", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(lj_state_link_get(sub, "evil", id), -EBADMSG);
	snprintf(path, sizeof(path), "%s/cni/upper", dir);
	assert_int_equal(symlink("0123456789AB", path), 0);
	assert_int_equal(lj_state_link_get(sub, "upper", id), -EBADMSG);
	assert_int_equal(lj_state_link_remove(sub, "net:c1:eth1"), 0);
	assert_int_equal(lj_state_link_remove(sub, "net:c1:eth1"), 0);
	assert_int_equal(lj_state_link_get(sub, "net:c1:eth1", id), -ENOENT);
	/* markers start with a dot; a link of that name is no marker */
	assert_int_equal(lj_state_mark_get(sub, ".ready"), 0);
	assert_int_equal(lj_state_mark_set(sub, ".ready"), 0);
	assert_int_equal(lj_state_mark_set(sub, ".ready"), 0);
	assert_int_equal(lj_state_mark_get(sub, ".ready"), 1);
	assert_int_equal(lj_state_mark_set(sub, "ready"), -EINVAL);
	snprintf(path, sizeof(path), "%s/cni/.fake", dir);
	assert_int_equal(symlink("0123456789ab", path), 0);
	assert_int_equal(lj_state_mark_get(sub, ".fake"), 0);
	lj_state_close(sub);
	lj_state_close(st);
}

/* Cookies round-trip; a record of a namespace with our inode but another cookie is foreign. */
static void test_cookies(void **state)
{
	struct lj_record rec, back, *recs;
	struct lj_state *st;
	uint64_t me = 0;
	size_t n;

	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, "ns:4:4026532291", "eth1");
	rec.netns_cookie = 77;
	assert_int_equal(lj_netns_self_id(&rec.host_netns), 0);
	assert_int_equal(lj_netns_self_cookie(&me), 0);
	rec.host_netns_cookie = me;
	assert_int_equal(lj_state_save(st, &rec), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), 0);
	assert_true(back.netns_cookie == 77 && back.host_netns_cookie == me);
	lj_record_free(&back);
	assert_int_equal(lj_state_list_foreign(st, &recs, &n), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);

	/* The same inode number, a newer namespace: not ours. */
	rec.host_netns_cookie = me + 1;
	assert_int_equal(lj_state_save(st, &rec), 0);
	assert_int_equal(lj_state_load(st, rec.id, &back), -EXDEV);
	assert_int_equal(lj_state_list(st, &recs, &n, NULL), 0);
	assert_int_equal(n, 0);
	lj_records_free(recs, n);
	assert_int_equal(lj_state_list_foreign(st, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, rec.id);
	lj_records_free(recs, n);
	lj_record_free(&rec);
	lj_state_close(st);
}

static void test_unsafe_dir(void **state)
{
	struct lj_state *st;

	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(lj_state_open(true, &st), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(lj_state_open(false, &st), 0);
	lj_state_close(st);
}

/* Parse the JSON text of rec after edit (a jq-like tweak in C) as a record. */
static int parse_edited(const struct lj_record *rec, void (*edit)(json_t *o), struct lj_record *ret)
{
	json_t *o = lj_record_to_json(rec);
	char *text;
	int r;

	edit(o);
	text = json_dumps(o, 0);
	json_decref(o);
	assert_non_null(text);
	r = lj_record_parse(text, strlen(text), rec->id, ret);
	free(text);
	return r;
}

static void edit_none(json_t *o)
{
}
static void edit_drop_owner(json_t *o)
{
	json_object_del(o, "owner");
}
static void edit_status_attached(json_t *o)
{
	json_object_set_new(o, "status", json_string("attached"));
}
static void edit_status_bogus(json_t *o)
{
	json_object_set_new(o, "status", json_string("a b"));
}
static void edit_owner_pid_zero(json_t *o)
{
	json_object_set_new(json_object_get(o, "owner"), "pid", json_integer(0));
}
static void edit_owner_pid_string(json_t *o)
{
	json_object_set_new(json_object_get(o, "owner"), "pid", json_string("1"));
}
static void edit_owner_start_negative(json_t *o)
{
	json_object_set_new(json_object_get(o, "owner"), "start_time", json_integer(-1));
}
static void edit_owner_not_object(json_t *o)
{
	json_object_set_new(o, "owner", json_integer(5));
}

/* "settling" names the attaching process; old records ("applying", "attached", no owner)
 * still load; a settling record is live only while that very process runs. */
static void test_settling(void **state)
{
	struct lj_record rec, back;
	uint64_t start;

	make_record(&rec, "ns:4:7", "eth1");
	strcpy(rec.status, "settling");
	rec.owner_pid = getpid();
	assert_int_equal(lj_proc_start_time(getpid(), &start), 0);
	rec.owner_start = start;

	assert_int_equal(parse_edited(&rec, edit_none, &back), 0);
	assert_string_equal(back.status, "settling");
	assert_int_equal(back.owner_pid, getpid());
	assert_true(back.owner_start == start);
	assert_true(lj_record_settling_live(&back));
	back.owner_start = start + 1; /* another process under a reused PID */
	assert_false(lj_record_settling_live(&back));
	back.owner_start = start;
	strcpy(back.status, "attached");
	assert_false(lj_record_settling_live(&back));
	lj_record_free(&back);

	assert_int_equal(parse_edited(&rec, edit_drop_owner, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_status_attached, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_status_bogus, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_owner_pid_zero, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_owner_pid_string, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_owner_start_negative, &back), -EBADMSG);
	assert_int_equal(parse_edited(&rec, edit_owner_not_object, &back), -EBADMSG);

	/* records written before "settling": no owner */
	rec.owner_pid = 0;
	rec.owner_start = 0;
	strcpy(rec.status, "applying");
	assert_int_equal(parse_edited(&rec, edit_none, &back), 0);
	assert_int_equal(back.owner_pid, 0);
	assert_false(lj_record_settling_live(&back));
	lj_record_free(&back);
	strcpy(rec.status, "attached");
	assert_int_equal(parse_edited(&rec, edit_none, &back), 0);
	lj_record_free(&back);
	lj_record_free(&rec);
}

/* The default ifname: lan0 in a container, unless lanjoin holds a record of it as eth1 (made
 * by a version whose default that was); eth1 for the other targets. */
static void test_default_ifname(void **state)
{
	struct lj_target t = {.kind = LJ_TARGET_CONTAINER, .netns_fd = -1};
	char path[128];
	struct lj_state *st;
	struct lj_record rec;

	strcpy(t.key, "ns:4:4026532291");
	assert_string_equal(lj_default_ifname("netns:c1", NULL), "eth1");
	assert_string_equal(lj_default_ifname("pid:42", NULL), "eth1");
	assert_string_equal(lj_default_ifname("/run/netns/c1", NULL), "eth1");
	assert_string_equal(lj_default_ifname("web", NULL), "lan0");
	/* no state directory yet: none is made */
	assert_string_equal(lj_default_ifname("web", &t), "lan0");
	snprintf(path, sizeof(path), "%s/attachments", dir);
	assert_true(access(path, F_OK) < 0);
	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, t.key, "lan0");
	assert_int_equal(lj_state_save(st, &rec), 0);
	lj_record_free(&rec);
	lj_state_close(st); /* it takes the lock shared */
	assert_string_equal(lj_default_ifname("web", &t), "lan0");
	assert_int_equal(lj_state_open(true, &st), 0);
	make_record(&rec, t.key, "eth1");
	assert_int_equal(lj_state_save(st, &rec), 0);
	lj_state_close(st);
	assert_string_equal(lj_default_ifname("web", &t), "eth1");
	assert_string_equal(lj_default_ifname("web", NULL), "lan0");
	strcpy(t.key, "ns:4:4026532292"); /* another namespace */
	assert_string_equal(lj_default_ifname("web", &t), "lan0");
	lj_record_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_net, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_ifname, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
