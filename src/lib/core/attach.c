/* SPDX-License-Identifier: MIT */
/* The attach entry: resolve the target once, refuse what cannot work, build the way's plan
 * and run it through the transaction (txn.h); extend a live attachment with more steps. */
#include "lib/core/attach.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/handed.h"
#include "lib/core/status.h"
#include "lib/core/interrupt.h"
#include "lib/core/session.h"
#include "lib/core/spec-view.h"
#include "lib/core/txn.h"
#include "lib/core/undo.h"
#include "lib/core/way.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/route.h"
#include "shared/macro.h"
#include "shared/name.h"

static void record_init(struct lj_record *rec, const struct lj_target *t, const char *ifname,
			const char *way)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id(t->key, ifname, rec->id);
	snprintf(rec->way, sizeof(rec->way), "%s", way);
	snprintf(rec->status, sizeof(rec->status), "applying");
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", ifname);
	rec->target_kind = t->kind;
	snprintf(rec->target_spec, sizeof(rec->target_spec), "%s", t->spec);
	snprintf(rec->target_name, sizeof(rec->target_name), "%s", t->name);
	rec->target_pid = t->pid;
	snprintf(rec->container_id, sizeof(rec->container_id), "%s", t->container_id);
	rec->netns = t->id;
	rec->netns_cookie = t->cookie;
	rec->created = (int64_t)time(NULL);
	lj_netns_self_id(&rec->host_netns);
	if (lj_netns_self_cookie(&rec->host_netns_cookie) < 0)
		rec->host_netns_cookie = 0;
	rec->info = json_object();
}

/* Describe a target for messages: "netns:c1" as given. */
static const char *tname(const struct lj_target *t)
{
	return t->spec;
}

/*
 * old is a live attachment of target t as ifname: an attach that still waits for its
 * addresses, or an attached record of this very namespace whose interface is there. Then a
 * second attach is refused (the returned -EINVAL, res says why), or, when spec (not NULL) is
 * the one old records, it is LJ_TXN_KEEP (res->unchanged); else 0.
 */
static int refuse_live(struct lj_ctx *ctx, const struct lj_target *t, const char *ifname,
		       const struct lj_record *old, const json_t *spec, struct lj_result *res)
{
	struct lj_link l;

	if (lj_record_settling_live(old))
		return lj_bad_input(
			res,
			"%s is being attached as '%s' by lanjoin (PID %" PRId64 "), "
			"which waits for its addresses; wait for it, or detach it first",
			tname(t), ifname, old->owner_pid);
	/* nat --to creates no interface in the target: its record is live as long as the
	 * namespace is the same one. */
	bool no_link = strcmp(old->way, "nat") == 0 && json_object_get(old->info, "to");

	if (strcmp(old->status, "attached") == 0 &&
	    (!old->netns_cookie || !t->cookie || old->netns_cookie == t->cookie) &&
	    (no_link || lj_link_get(ctx->target, ifname, &l) == 0)) {
		char diff[256] = "";

		/* t shares another container's namespace (docker run --network container:X) */
		if (t->container_id[0] && old->container_id[0] &&
		    strcmp(old->container_id, t->container_id) != 0 &&
		    strcmp(old->target_spec, t->spec) != 0)
			return lj_bad_input(
				res,
				"%s and container %s share one network namespace (one runs "
				"with --network container:OTHER): '%s' there is %s's "
				"attachment; give this one another name with --ifname, or "
				"attach %s",
				tname(t), old->target_spec, ifname, old->target_spec,
				old->target_spec);
		json_t *va =
			spec && old->spec ? lj_spec_view(old->spec, spec, LJ_DEFAULT_IFNAME) : NULL;
		json_t *vb = va ? lj_spec_view(spec, spec, LJ_DEFAULT_IFNAME) : NULL;
		/* a stored spec names the MAC the interface got; this record's asked for none */
		if (va && !json_object_get(old->spec, "mac") &&
		    lj_record_mac_is(old, json_string_value(json_object_get(spec, "mac"))))
			json_object_set(va, "mac", json_object_get(vb, "mac"));
		/* and the engine network lanjoin took its address from: as asked by --to
		 * docker:NETWORK naming it */
		const char *ato = json_string_value(json_object_get(spec, "to"));
		const char *net = json_string_value(json_object_get(old->info, "to_network"));

		if (va && lj_spec_to_names_network(ato) && net && strcmp(ato + 7, net) == 0 &&
		    lj_spec_to_unnamed(json_string_value(json_object_get(va, "to"))))
			json_object_set_new(va, "to", json_string(ato));
		bool same = va && vb && json_equal(va, vb);

		if (va && vb && !same)
			lj_spec_diff(va, vb, diff, sizeof(diff));
		json_decref(va);
		json_decref(vb);
		if (same) {
			res->unchanged = true;
			lj_result_add_record(res, old);
			snprintf(res->message, sizeof(res->message),
				 "%s is already attached as '%s' as asked (way %s): nothing to do",
				 tname(t), ifname, old->way);
			return LJ_TXN_KEEP;
		}
		const char *way = json_string_value(json_object_get(spec, "way"));

		/* another way (a nat attachment that makes no interface beside a macvlan, say):
		 * both can stand under two names; --replace would remove the old one */
		if (spec && old->spec && way && strcmp(way, old->way) != 0)
			return lj_bad_input(
				res,
				"%s is already attached as '%s' (way %s) otherwise: %s %s; to keep "
				"it and attach this one beside it, give this one another name with "
				"--ifname (e.g. --ifname %s0); or detach it first, or use "
				"--replace (which removes it)",
				tname(t), ifname, old->way, diff,
				strchr(diff, ',') ? "differ" : "differs", way);
		if (spec && old->spec)
			return lj_bad_input(res,
					    "%s is already attached as '%s' (way %s) otherwise: "
					    "%s %s; detach it first, or use --replace",
					    tname(t), ifname, old->way, diff,
					    strchr(diff, ',') ? "differ" : "differs");
		if (no_link)
			return lj_bad_input(
				res, "%s is already attached (way nat, --to %s); detach it first",
				tname(t), json_string_value(json_object_get(old->info, "to")));
		return lj_bad_input(res, "%s is already attached as '%s' (way %s); detach it first",
				    tname(t), ifname, old->way);
	}
	return 0;
}

/* Why old, a record under the id of target t's attachment but not live (refuse_live), is
 * stale, for the note saying that it was removed. */
static const char *stale_why(const struct lj_record *old, const struct lj_target *t)
{
	if (old->netns_cookie && t->cookie && old->netns_cookie != t->cookie)
		return "its namespace (or container) is gone";
	if (strcmp(old->status, "attached") != 0)
		return "an attach of it did not finish";
	return "its interface is gone";
}

/* What an attach's existing-record policy needs. */
struct existing_data {
	const struct lj_attach_opts *o;
	const struct lj_target *t;
	const char *ifname;
	const json_t *spec;
};

/*
 * The attach's policy for an existing record of the same target and ifname (lj_txn_existing):
 * if the interface is still there, it is a second attach (refused); otherwise the record is
 * stale (e.g. left by a crash) and is undone first.
 */
static int existing_policy(struct lj_txn *txn, const struct lj_record *old, int load_error,
			   void *data, struct lj_result *res)
{
	const struct existing_data *d = data;
	const struct lj_target *t = d->t;
	struct lj_ctx *ctx = txn->ctx;
	size_t failed = 0;
	int r;

	if (load_error == -EXDEV)
		return lj_bad_input(res,
				    "%s is already attached as '%s' by lanjoin running in another "
				    "network namespace; detach it there",
				    tname(t), d->ifname);
	r = lj_attach_check_links(ctx, d->o, res);
	if (r < 0)
		return r;
	r = refuse_live(ctx, t, d->ifname, old, d->spec, res);
	if (r != 0)
		return r;
	if (old->netns_cookie && t->cookie && old->netns_cookie != t->cookie) {
		/*
		 * The record's namespace died and this newer one got its inode number (and so the
		 * record's id): undo the host side alone, never in this namespace.
		 */
		struct lj_ctx host_only;

		r = lj_ctx_open(&host_only, ctx->host, NULL);
		if (r == 0)
			r = lj_plan_undo_all(&host_only, &old->plan, &failed);
		if (r < 0)
			snprintf(ctx->detail, sizeof(ctx->detail), "%s", host_only.detail);
		lj_ctx_close(&host_only);
	} else {
		r = lj_plan_undo_all(ctx, &old->plan, &failed);
	}
	if (r < 0)
		return lj_fail(res, r, "Failed to clean up a stale attachment of %s as '%s': %s",
			       tname(t), d->ifname, ctx->detail);
	lj_result_note(res, "Removed attachment %s %s (%s way): %s", old->target_spec, old->ifname,
		       old->way, stale_why(old, t));
	return LJ_TXN_REPLACE;
}

/*
 * --dry-run: say what the attach would say about a live attachment of the same target and
 * ifname (read-only; the stale cases existing_policy cleans up are left to the real run).
 */
static int dry_run_existing(struct lj_ctx *ctx, const struct lj_attach_opts *o,
			    const struct lj_target *t, const char *ifname, const char *id,
			    const json_t *spec, struct lj_result *res)
{
	struct lj_state *ro = NULL;
	struct lj_record old;
	char path[PATH_MAX];
	int r = 0;

	/* No record, nothing to say; and a dry run creates no state directory. */
	snprintf(path, sizeof(path), "%s/attachments/%s.json", lj_state_dir(), id);
	if (lj_state_dir()[0] != '/' || access(path, F_OK) < 0)
		return 0;
	if (lj_state_open(false, &ro) < 0)
		return 0; /* the real run reports it */
	if (lj_state_load(ro, id, &old) == 0) {
		r = lj_attach_check_links(ctx, o, res);
		if (r == 0)
			r = refuse_live(ctx, t, ifname, &old, spec, res);
		if (r == 0)
			lj_result_note(res, "Would remove attachment %s %s (%s way) first: %s",
				       old.target_spec, old.ifname, old.way, stale_why(&old, t));
		lj_record_free(&old);
	}
	lj_state_close(ro);
	return r;
}

/* info.mac: the interface's MAC now (lj_attach_check_mac_users compares it), set before the
 * record is saved, so that list shows it too. */
static void record_mac(struct lj_ctx *ctx, const char *ifname, struct lj_record *rec)
{
	uint8_t m[LJ_MAC_LEN];
	char mac[LJ_MAC_STRLEN];

	/* As the steps' lookup of it saw it (nothing since changes a MAC): no request more. */
	if (ctx->target && lj_ctx_mac(ctx, LJ_TARGET, ifname, m) == 0)
		json_object_set_new(rec->info, "mac",
				    json_string(lj_mac_to_string(m, mac, sizeof(mac))));
}

static void fill_result(struct lj_ctx *ctx, const char *ifname, struct lj_record *rec,
			struct lj_result *res)
{
	json_t *notes = json_incref(json_object_get(res->json, "notes"));

	json_decref(res->json);
	res->json = lj_record_to_json(rec);
	/* what was done first (a dead attachment's record removed) */
	if (notes && json_is_object(res->json))
		json_object_set(res->json, "notes", notes);
	json_decref(notes);
	lj_result_add_record(res, rec);
}

/* Keep of recs (n) the records of way whose info.key is value and whose target lives;
 * returns how many, at the start of recs (the others freed). */
static size_t keep_live(struct lj_record *recs, size_t n, const char *way, const char *key,
			const char *value)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(recs[i].info, key));

		/* The kernel removed the links of a namespace that is gone. */
		if (strcmp(recs[i].way, way) != 0 || !v || strcmp(v, value) != 0 ||
		    !lj_record_alive(&recs[i])) {
			lj_record_free(&recs[i]);
			continue;
		}
		recs[k++] = recs[i];
	}
	return k;
}

/*
 * *st, or with *st NULL (--dry-run, a front end's early check: no lock is held) the state
 * directory opened with a shared lock into *st and *own (the caller's to lj_state_close;
 * NULL otherwise). 0 or -errno (res says why).
 */
static int state_or_shared(struct lj_state **st, struct lj_state **own, struct lj_result *res)
{
	int r;

	*own = NULL;
	if (*st)
		return 0;
	r = lj_state_open(false, own);
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	*st = *own;
	return 0;
}

/*
 * The records (of st, or with st NULL of a shared look: --dry-run holds no lock) with the
 * member "key": "value", kept as keep_live says.
 */
static int live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			struct lj_record **ret, size_t *ret_n, struct lj_result *res)
{
	struct lj_state *own = NULL;
	struct lj_record *recs = NULL;
	size_t n = 0;
	int r;

	r = state_or_shared(&st, &own, res);
	if (r < 0)
		return r;
	r = lj_state_list_info(st, key, value, &recs, &n);
	lj_state_close(own);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	*ret = recs;
	*ret_n = keep_live(recs, n, way, key, value);
	return 0;
}

int lj_attach_live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			   struct lj_record **ret, size_t *ret_n, struct lj_result *res)
{
	return live_records(st, way, key, value, ret, ret_n, res);
}

int lj_attach_check_mac_users(struct lj_state *st, const char *way, const char *key,
			      const char *value, const uint8_t mac[LJ_MAC_LEN], const char *what,
			      struct lj_result *res)
{
	struct lj_state *own = NULL;
	struct lj_record *recs = NULL;
	char buf[LJ_MAC_STRLEN], who[LJ_TARGET_SPEC_MAX + 96];
	size_t n = 0;
	int r;

	r = state_or_shared(&st, &own, res);
	if (r < 0)
		return r;
	/* Only the records with this MAC (the index by MAC) are read, their targets looked at. */
	r = lj_state_list_mac(st, mac, &recs, &n);
	lj_state_close(own);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	n = keep_live(recs, n, way, key, value);
	lj_mac_to_string(mac, buf, sizeof(buf));
	if (n)
		r = lj_bad_input(res, "MAC %s is already used on %s by %s", buf, what,
				 lj_record_who(&recs[0], who, sizeof(who)));
	lj_records_free(recs, n);
	return r;
}

bool lj_attach_record_has_ip(const struct lj_record *rec, const struct lj_ip *ip)
{
	const json_t *a = json_object_get(rec->info, "addresses"), *v;
	struct lj_cidr c;
	size_t i;

	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && lj_parse_cidr(json_string_value(v), true, &c) == 0 &&
		    lj_ip_equal(&c.ip, ip))
			return true;
	}
	return false;
}

/* The keys of a record's info that name the link its way reaches the LAN through. */
static const char *const segment_keys[] = {"parent", "uplink", "bridge"};

/* Does rec reach the LAN through segment (one of segment_keys is it)? */
static bool record_on_segment(const struct lj_record *rec, const char *segment)
{
	for (size_t k = 0; k < ARRAY_SIZE(segment_keys); k++) {
		const char *v = json_string_value(json_object_get(rec->info, segment_keys[k]));

		if (!segment || (v && strcmp(v, segment) == 0)) /* NULL: any */
			return true;
	}
	return false;
}

int lj_attach_check_ip_users(struct lj_state *st, const char *self_id, const char *segment,
			     const struct lj_ip *ip, const char *opt, struct lj_result *res)
{
	struct lj_state *own = NULL;
	struct lj_record *recs = NULL;
	char buf[LJ_IP_STRLEN], how[IFNAMSIZ + 48], dir[PATH_MAX], who[LJ_TARGET_SPEC_MAX + 96];
	size_t n = 0;
	int r;

	/* No state directory, no records (a dry run, an early check, creates none). */
	snprintf(dir, sizeof(dir), "%s/attachments", lj_state_dir());
	if (!st && (lj_state_dir()[0] != '/' || access(dir, F_OK) < 0))
		return 0;
	r = state_or_shared(&st, &own, res);
	if (r < 0)
		return r;
	/* Through the index by address: only the records that hold ip are read (usually none),
	 * what a Join or an attach pays for it does not grow with the records. */
	r = lj_state_list_addr(st, ip, &recs, &n);
	lj_state_close(own);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct lj_record *rec = &recs[i];
		const char *seg =
			segment ?: json_string_value(json_object_get(rec->info, "uplink"));

		if ((self_id && strcmp(rec->id, self_id) == 0) ||
		    !record_on_segment(rec, segment) || !lj_attach_record_has_ip(rec, ip) ||
		    !lj_record_alive(rec))
			continue;
		if (strcmp(rec->way, "macvlan") == 0)
			snprintf(how, sizeof(how), "a macvlan of '%s'", seg ?: "?");
		else
			snprintf(how, sizeof(how), "attached the %s way on '%s'", rec->way,
				 seg ?: "?");
		r = lj_bad_input(res, "%s%s%s is the address of %s, %s", opt ? opt : "",
				 opt && opt[0] ? " " : "", lj_ip_to_string(ip, buf, sizeof(buf)),
				 lj_record_who(rec, who, sizeof(who)), how);
	}
	lj_records_free(recs, n);
	return r;
}

int lj_attach_host_holds(struct lj_ctx *ctx, int family, const struct lj_cidr *ips, size_t n_ips,
			 size_t *ret_i, char ret_link[IFNAMSIZ])
{
	const struct lj_addr_entry *addrs = NULL;
	size_t n = 0;
	int r;

	r = lj_ctx_host_addrs(ctx, family, &addrs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_ips; i++) {
		if (lj_ip_link_local(&ips[i].ip)) /* per link */
			continue;
		for (size_t k = 0; k < n; k++) {
			struct lj_link l;

			if (!lj_ip_equal(&ips[i].ip, &addrs[k].cidr.ip))
				continue;
			snprintf(ret_link, IFNAMSIZ, "?");
			if (lj_link_get_by_index(ctx->host, addrs[k].ifindex, &l) == 0)
				snprintf(ret_link, IFNAMSIZ, "%s", l.name);
			*ret_i = i;
			return 1;
		}
	}
	return 0;
}

int lj_attach_host_routes(struct lj_ctx *ctx, const struct lj_ip *ip, char ret_link[IFNAMSIZ],
			  char *ret_what, size_t what_size)
{
	struct lj_route_entry m;
	struct lj_link l;

	if (lj_ctx_route_match(ctx, ip, &m) < 0 || m.table != RT_TABLE_MAIN ||
	    m.type != RTN_UNICAST || m.dst.prefixlen != (ip->family == AF_INET ? 32 : 128) ||
	    !lj_ip_equal(&m.dst.ip, ip))
		return 0;
	snprintf(ret_link, IFNAMSIZ, "?");
	snprintf(ret_what, what_size, "a host route of its own");
	if (m.oif && lj_link_get_by_index(ctx->host, m.oif, &l) == 0) {
		snprintf(ret_link, IFNAMSIZ, "%s", l.name);
		if (strcmp(l.kind, "macvlan") == 0)
			snprintf(ret_what, what_size,
				 "a host route through the host shim '%s' to a macvlan container: "
				 "'lanjoin list' and 'docker network ls' show whose; 'lanjoin gc' "
				 "drops one whose container is gone",
				 l.name);
		else if (strcmp(l.kind, "veth") == 0)
			snprintf(ret_what, what_size,
				 "a host route of its own: a routed attachment's");
	}
	return 1;
}

int lj_attach_check_ips_free(struct lj_ctx *ctx, const char *self_id, const char *segment,
			     const struct lj_cidr *ips, size_t n_ips, bool records,
			     struct lj_result *res)
{
	char buf[LJ_IP_STRLEN], name[IFNAMSIZ], what[256];
	int r, named, family = AF_UNSPEC;
	size_t which;

	if (n_ips == 0)
		return 0;
	/* Only the families of the addresses asked about are dumped (the host's addresses of
	 * one family: half the dump when all are IPv4; none when all are link-local, which
	 * lj_attach_host_holds skips). */
	for (size_t i = 0; i < n_ips; i++) {
		int f = ips[i].ip.family;

		if (!lj_ip_link_local(&ips[i].ip))
			family = family == AF_UNSPEC || family == f ? f : -1; /* -1: both */
	}
	if (family < 0)
		family = AF_UNSPEC;
	else if (family == AF_UNSPEC)
		n_ips = 0; /* all link-local */
	r = ctx->host && n_ips ? lj_attach_host_holds(ctx, family, ips, n_ips, &which, name) : 0;
	if (r < 0)
		return lj_fail(res, r, "Failed to list the host's addresses: %s", strerror(-r));
	if (r > 0 && (named = lj_attach_check_ip_users(ctx->state, self_id, NULL, &ips[which].ip,
						       "", res)) < 0)
		return named;
	if (r > 0) /* not a nat attachment's address on its uplink: the host's own */
		return lj_bad_input(res,
				    "%s is the host's own address on '%s': give the container an "
				    "address of its own",
				    lj_ip_to_string(&ips[which].ip, buf, sizeof(buf)), name);
	for (size_t i = 0; i < n_ips && records && segment && segment[0]; i++) {
		if (lj_ip_link_local(&ips[i].ip))
			continue;
		r = lj_attach_check_ip_users(ctx->state, self_id, segment, &ips[i].ip, "", res);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_ips && ctx->host; i++)
		if (!lj_ip_link_local(&ips[i].ip) &&
		    lj_attach_host_routes(ctx, &ips[i].ip, name, what, sizeof(what)) > 0)
			return lj_bad_input(res,
					    "%s is routed by the host to '%s' (%s): give the "
					    "container an address of its own",
					    lj_ip_to_string(&ips[i].ip, buf, sizeof(buf)), name,
					    what);
	return 0;
}

/* What settle step s waits for, for messages: "a DHCP lease on 'eth1'". */
static const char *settle_what(const struct lj_step *s, char *buf, size_t size)
{
	char ip[LJ_IP_STRLEN];

	if (s->type == &lj_step_dhcp)
		snprintf(buf, size, "a DHCP lease on '%s'", s->link);
	else if (s->type == &lj_step_dhcp6)
		snprintf(buf, size, "a DHCPv6 lease on '%s'", s->link);
	else if (s->type == &lj_step_slaac)
		snprintf(buf, size, "a SLAAC address on '%s'", s->link);
	else if (s->type == &lj_step_announce)
		snprintf(buf, size, "duplicate address detection of %s on '%s'",
			 lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)), s->link);
	else
		snprintf(buf, size, "%s", s->what);
	return buf;
}

static int attach_one(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * A way may act before the transaction and finish after it (the bridge way adopts --uplink
 * DEV into a missing bridge, as its own record, and gives it back if the attach then fails,
 * so that a failed attach leaves nothing).
 */
int lj_attach(const struct lj_attach_opts *o, struct lj_result *res)
{
	const struct lj_way_ops *way = lj_way_get(o->way);
	bool done = false;
	int r;

	memset(res, 0, sizeof(*res));
	if (way && way->before && !o->dry_run) {
		r = way->before(o, res, &done);
		if (r < 0)
			return r;
		lj_result_done(res);
	}
	r = attach_one(o, res);
	if (done && way->after)
		way->after(o, r, res);
	return r;
}

/* res->message for a failed lj_txn_apply of an attach (txn.step is the failed step). */
static void apply_failed(const struct lj_txn *txn, const struct lj_target *t, const char *ifname,
			 const struct lj_attach_opts *o, int r, struct lj_result *res)
{
	const struct lj_step *s = &txn->plan->steps[txn->step];

	if (r == -EINTR && lj_interrupted()) {
		res->interrupted = lj_interrupted();
		snprintf(res->message, sizeof(res->message),
			 "Interrupted (%s) while attaching %s (%s way), before step %zu of %zu, "
			 "%s%s",
			 lj_interrupt_name(res->interrupted), tname(t), lj_way_name(o->way),
			 txn->step + 1, txn->plan->n, s->what,
			 txn->undo_failed ? ". Could not undo: " : "");
	} else {
		snprintf(res->message, sizeof(res->message),
			 "Failed to attach %s (%s way), step %zu of %zu, %s: %s%s%s%s%s", tname(t),
			 lj_way_name(o->way), txn->step + 1, txn->plan->n, s->what, strerror(-r),
			 txn->detail[0] ? " (" : "", txn->detail, txn->detail[0] ? ")" : "",
			 txn->undo_failed ? ". Could not undo: " : "");
	}
	if (txn->undo_failed)
		lj_result_append(res, "%s; the record is kept: run 'lanjoin detach %s --ifname %s'",
				 txn->undo_detail, tname(t), ifname);
}

/* res->message for a failed lj_txn_settle of an attach. */
static int settle_failed(const struct lj_txn *txn, const struct lj_target *t, const char *ifname,
			 const struct lj_attach_opts *o, int r, struct lj_result *res)
{
	const struct lj_step *s;
	char waited[128];

	if (txn->step == SIZE_MAX) {
		if (!txn->st) /* the lock could not be taken again */
			lj_result_append(res, "; run 'lanjoin detach %s --ifname %s'", tname(t),
					 ifname);
		else if (r == -ECANCELED && txn->ours == false)
			lj_fail(res, r, "%s as '%s' was detached while attach waited for it",
				tname(t), ifname);
		return r;
	}
	s = &txn->plan->steps[txn->step];
	if (!txn->ours && !(r == -EINTR && lj_interrupted()))
		return lj_fail(res, -ECANCELED,
			       "%s as '%s' was detached while attach waited "
			       "for it (then %s: %s)",
			       tname(t), ifname, s->what, strerror(-r));
	res->rolled_back = true;
	res->undo_failed = txn->undo_failed;
	if (r == -EINTR && lj_interrupted()) {
		res->interrupted = lj_interrupted();
		snprintf(res->message, sizeof(res->message),
			 "Interrupted (%s) while waiting for %s%s",
			 lj_interrupt_name(res->interrupted),
			 settle_what(s, waited, sizeof(waited)),
			 txn->undo_failed
				 ? "; some steps could not be undone: run 'lanjoin detach' again"
				 : "");
		return r;
	}
	snprintf(res->message, sizeof(res->message),
		 "Failed to attach %s (%s way), step %zu of %zu, %s: %s%s%s%s%s", tname(t),
		 lj_way_name(o->way), txn->step + 1, txn->plan->n, s->what, strerror(-r),
		 txn->detail[0] ? " (" : "", txn->detail, txn->detail[0] ? ")" : "",
		 txn->undo_failed ? "; some steps could not be undone: run 'lanjoin detach' again"
				  : "");
	return r;
}

/*
 * Resolve and open o->target into *t. Returns 0, or -EINVAL with res saying why (nothing to
 * close then).
 */
static int open_target(const struct lj_attach_opts *o, struct lj_target *t, struct lj_result *res)
{
	int r;

	if (o->resolved)
		r = lj_target_dup(o->resolved, t); /* CNI resolved it already */
	else if (lj_target_parse(o->target, t) < 0)
		return lj_bad_input(res,
				    "Invalid target '%s': expected a container name, pid:N, "
				    "netns:NAME or a path to a netns file",
				    o->target);
	else
		r = lj_target_open_ns(t); /* its cookie comes with the context (lj_ctx_open) */
	if (r < 0) {
		if (t->error[0])
			return lj_bad_input(res, "%s", t->error);
		if (r == -EPROTONOSUPPORT)
			return lj_bad_input(res,
					    "Cannot resolve container '%s': no Docker or "
					    "Podman engine support yet",
					    o->target);
		return lj_bad_input(
			res, "Target %s: %s", o->target,
			r == -ENOENT || r == -ESRCH ? "no such namespace or process"
			: r == -EINVAL		    ? "not a network namespace"
			: (r == -EACCES || r == -EPERM) && t->kind == LJ_TARGET_PID
				? "the kernel refuses to open its network namespace (the "
				  "process is protected, e.g. not dumpable or in another "
				  "user namespace)"
				: strerror(-r));
	}
	if (lj_netns_is_current(t->netns_fd)) {
		lj_target_close(t);
		return lj_bad_input(res, "Target %s is lanjoin's own network namespace", o->target);
	}
	return 0;
}

/*
 * The records of attachments whose target is gone but that still hold an address o asks for
 * (its --ip, nat's --address) are garbage in its way (two rows in list, a detach run twice,
 * the host's leftovers of it): undone and removed first, as gc would, each with a note in res
 * (lj_undo_stale_holders). --dry-run only notes them (txn->st NULL: a shared look). 0 or
 * -errno with res set.
 */
static int drop_stale_holders(struct lj_txn *txn, const struct lj_attach_opts *o,
			      struct lj_result *res)
{
	struct lj_cidr ips[LJ_MAX_IPS + 1];
	struct lj_state *st = txn->st, *own = NULL;
	char dir[PATH_MAX];
	size_t n = 0, removed;
	int r;

	for (size_t i = 0; i < o->n_ips && n < LJ_MAX_IPS; i++)
		ips[n++] = o->ips[i];
	if (o->address.ip.family != AF_UNSPEC)
		ips[n++] = o->address;
	snprintf(dir, sizeof(dir), "%s/attachments", lj_state_dir());
	if (n == 0 || (!st && (lj_state_dir()[0] != '/' || access(dir, F_OK) < 0)))
		return 0; /* a dry run creates no state directory */
	if (!st && lj_state_open(false, &own) < 0)
		return 0; /* the real run reports it */
	r = lj_undo_stale_holders(st ? st : own, txn->rec->id, ips, n, !st, res, &removed);
	lj_state_close(own);
	return r;
}

static int attach_one(const struct lj_attach_opts *o, struct lj_result *res)
{
	const char *ifname = o->ifname[0] ? o->ifname : NULL; /* NULL: the default, below */
	struct lj_plan plan = {0};
	struct lj_record rec = {0};
	struct lj_txn txn = {.plan = &plan, .rec = &rec};
	struct existing_data ed;
	struct lj_target t;
	struct lj_ctx *ctx = NULL;
	lj_build_fn build;
	int r;

	memset(res, 0, sizeof(*res));
	build = lj_way_get(o->way) ? lj_way_get(o->way)->build : NULL;
	if (!build)
		return lj_fail(res, -EOPNOTSUPP, "The %s way is not implemented yet",
			       lj_way_name(o->way));
	if (ifname && !lj_ifname_valid(ifname))
		return lj_bad_input(res, "Invalid interface name '%s'", ifname);
	r = open_target(o, &t, res);
	if (r < 0)
		return r;
	ifname = ifname ?: lj_default_ifname(o->target, &t);

	r = lj_ctx_new(lj_session_host(o->session), &t, &ctx);
	if (r < 0) {
		lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
		goto out;
	}
	t.cookie = ctx->tgt->cookie; /* read from the context's socket in the target */
	txn.ctx = ctx;
	if (!o->dry_run) {
		r = lj_session_state_open(o->session, true, &txn.st);
		if (r < 0) {
			lj_result_state_failed(res, r); /* also: interrupted, waiting for it */
			goto out;
		}
	}
	record_init(&rec, &t, ifname, lj_way_name(o->way));
	if (o->extra_info && json_object_update(rec.info, o->extra_info) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (o->spec)
		rec.spec = json_deep_copy(o->spec);
	/* A runtime's attachment (CNI's "owner") is not compared: its runtime keys it. */
	const json_t *cmp = o->spec && !json_object_get(o->spec, "owner") ? o->spec : NULL;
	ed = (struct existing_data){.o = o, .t = &t, .ifname = ifname, .spec = cmp};
	if (txn.st)
		r = lj_txn_existing(&txn, "attachments", existing_policy, &ed, res);
	else
		r = dry_run_existing(ctx, o, &t, ifname, rec.id, cmp, res);
	if (r == LJ_TXN_KEEP) {
		r = 0; /* already attached as asked: res->unchanged, res->message */
		goto out;
	}
	if (r < 0)
		goto out;
	r = drop_stale_holders(&txn, o, res);
	if (r < 0)
		goto out;

	ctx->state = txn.st;
	r = build(ctx, o, ifname, &plan, &rec, res);
	if (r < 0)
		goto out;

	if (o->dry_run) {
		/* Hand the plan and its context to the caller for printing. */
		res->dry_plan = plan;
		memset(&plan, 0, sizeof(plan));
		res->dry_ctx = ctx;
		ctx = NULL;
		r = 0;
		goto out;
	}

	r = lj_txn_apply(&txn, res);
	if (r < 0) {
		if (txn.step != SIZE_MAX)
			apply_failed(&txn, &t, ifname, o, r, res);
		goto out;
	}
	record_mac(ctx, ifname, &rec);
	r = lj_txn_settle(&txn, res);
	ctx->state = txn.st;
	if (r < 0) {
		r = settle_failed(&txn, &t, ifname, o, r, res);
		goto out;
	}
	r = lj_txn_commit(&txn, "attached", true, res);
	if (r < 0) {
		lj_fail(res, r, "Failed to attach %s (%s way): %s", tname(&t), lj_way_name(o->way),
			txn.detail);
		if (txn.undo_failed)
			lj_result_append(res,
					 "; some steps could not be undone: the record is kept: "
					 "run 'lanjoin detach %s --ifname %s'",
					 tname(&t), ifname);
		goto out;
	}
	rec.plan = plan;
	fill_result(ctx, ifname, &rec, res);
	rec.plan = (struct lj_plan){0};
	r = 0;
out:
	lj_record_free(&rec);
	lj_plan_free(&plan);
	lj_state_close(txn.st);
	lj_ctx_free(ctx);
	lj_target_close(&t);
	return r;
}

int lj_attach_extend(const struct lj_target *t, const char *ifname, struct lj_plan *steps,
		     struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_record rec = {0};
	struct lj_txn txn = {.plan = &plan, .rec = &rec};
	struct lj_ctx *ctx = NULL;
	char id[LJ_RECORD_ID_LEN];
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(ifname))
		return lj_bad_input(res, "Invalid interface name '%s'", ifname);
	if (t->netns_fd < 0)
		return lj_bad_input(res, "Target %s is not open", tname(t));
	if (lj_txn_settles(steps))
		return lj_bad_input(res, "Steps that wait cannot extend an attachment");
	r = lj_ctx_new(NULL, t, &ctx);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	txn.ctx = ctx;
	r = lj_state_open(true, &txn.st);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			lj_state_strerror(r));
		goto out;
	}
	lj_record_id(t->key, ifname, id);
	r = lj_state_load(txn.st, id, &rec);
	if (r == 0 && (strcmp(rec.status, "attached") != 0 ||
		       (rec.netns_cookie && t->cookie && rec.netns_cookie != t->cookie)))
		r = -ENOENT; /* being attached, half done, or another namespace's */
	if (r < 0) {
		lj_fail(res, r, "Failed to extend the attachment of %s as '%s': %s", tname(t),
			ifname, r == -ENOENT ? "it is not attached" : strerror(-r));
		goto out;
	}
	plan = rec.plan; /* the transaction lends it to the record for each save */
	rec.plan = (struct lj_plan){0};
	txn.from = plan.n;
	r = lj_plan_append(&plan, steps);
	if (r < 0)
		goto out;
	ctx->state = txn.st;
	r = lj_txn_apply(&txn, res);
	if (r < 0) {
		if (txn.step != SIZE_MAX)
			lj_fail(res, r,
				"Failed to configure '%s' in %s, step %zu of %zu, %s: %s%s%s%s%s%s",
				ifname, tname(t), txn.step + 1, plan.n, plan.steps[txn.step].what,
				strerror(-r), txn.detail[0] ? " (" : "", txn.detail,
				txn.detail[0] ? ")" : "",
				txn.undo_failed ? ". Could not undo: " : "", txn.undo_detail);
		goto out;
	}
	r = lj_txn_commit(&txn, "attached", false, res);
	if (r < 0)
		lj_fail(res, r, "Failed to configure '%s' in %s: %s", ifname, tname(t), txn.detail);
out:
	lj_plan_free(&plan);
	lj_record_free(&rec);
	lj_state_close(txn.st);
	lj_ctx_free(ctx);
	return r;
}
