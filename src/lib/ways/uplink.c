/* SPDX-License-Identifier: MIT */
/*
 * Uplink adoption and release. The order of an adoption keeps the window without connectivity
 * as short as the kernel allows, and its reverse (the release) keeps it at zero:
 *
 *   1. bridge BR, down, with DEV's MAC (kept: given explicitly) and MTU; DEV's per-link sysctls
 *   2. every address of DEV copied onto BR (IPv6 without duplicate detection: it is ours)
 *   3. DEV enslaved, BR up                    <- incoming traffic now lands on BR, which has the
 *                                                addresses: the only gap is between these two
 *   4. every route through DEV switched to BR with NLM_F_REPLACE (atomic per route)
 *   5. addresses removed from DEV (the kernel keeps sockets: the addresses live on, on BR)
 *   6. IPv6 flags as they were on DEV; then the probe, whose failure undoes 1-6.
 *
 * Release replays the undo in reverse: addresses back on DEV, routes back, DEV out of BR (from
 * here DEV answers itself), addresses off BR, BR deleted.
 */
#include "lib/ways/uplink.h"
#include "lib/ways/uplink-facts.h"
#include "lib/ways/uplink-users.h"

#include <dirent.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/status.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netns.h"
#include "lib/foreign/ovs.h"
#include "lib/steps/ovs.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink-fw.h"
#include "lib/steps/uplink.h"
#include "lib/core/interrupt.h"
#include "lib/core/state.h"
#include "lib/core/txn.h"
#include "shared/macro.h"

/* Identity of lanjoin's own network namespace. */
static int own_netns(struct lj_netns_id *ret)
{
	_cleanup_close_ int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return lj_negerrno();
	return lj_netns_get_id(fd, ret);
}

/*
 * Was rec (an adoption) made in lanjoin's own network namespace? By inode, and by cookie when
 * both are known: a namespace made after the recorded one died may have its inode number.
 */
bool lj_uplink_own_record(const struct lj_record *rec)
{
	struct lj_netns_id me;
	uint64_t cookie;

	if (own_netns(&me) < 0)
		return true; /* cannot tell: as before namespaces were recorded */
	if (me.dev != rec->netns.dev || me.ino != rec->netns.ino)
		return false;
	return !rec->netns_cookie || lj_netns_self_cookie(&cookie) < 0 ||
	       cookie == rec->netns_cookie;
}

static void record_init(struct lj_record *rec, const char *bridge, const char *dev, bool ovs)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id(UPLINK_KEY, bridge, rec->id);
	snprintf(rec->way, sizeof(rec->way), "%s", ovs ? "uplink-ovs" : "uplink");
	snprintf(rec->status, sizeof(rec->status), "adopting");
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", bridge);
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", dev);
	rec->target_kind = LJ_TARGET_PATH;
	snprintf(rec->target_spec, sizeof(rec->target_spec), "/proc/self/ns/net");
	snprintf(rec->target_name, sizeof(rec->target_name), "host");
	own_netns(&rec->netns);
	if (lj_netns_self_cookie(&rec->netns_cookie) < 0)
		rec->netns_cookie = 0;
	rec->created = (int64_t)time(NULL);
	rec->info = json_object();
}

static struct lj_step *add_text_step(struct lj_plan *plan, const struct lj_step_type *t, char *text,
				     const char *what)
{
	struct lj_step *s;

	if (!text)
		return NULL;
	s = lj_plan_add(plan, t, LJ_HOST, "%s", what);
	if (!s) {
		free(text);
		return NULL;
	}
	s->text = text;
	return s;
}

static int build(const struct lj_uplink_opts *o, struct lj_ctx *ctx, struct lj_uplink_facts *f,
		 struct lj_plan *plan, struct lj_result *res)
{
	char b[LJ_CIDR_STRLEN], what[128], chains[2][16];
	size_t crash_at = lj_test_hook("LANJOIN_FAULT_CRASH");
	bool need[2] = {false, false};
	uint8_t mode;
	struct lj_step *s;

	if (crash_at > 1000)
		crash_at = 0;

	s = lj_plan_add(plan, o->ovs ? &lj_step_ovs_uplink_bridge : &lj_step_uplink_bridge, LJ_HOST,
			"create %sbridge '%s' with the MAC address of '%s'", o->ovs ? "OVS " : "",
			o->bridge, o->dev);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	if (o->ovs) {
		snprintf(s->peer, sizeof(s->peer), "%s", o->dev);
		if (!(s->text = strdup(f->ovsdb)))
			return -ENOMEM;
		if (f->ovs_netdev)
			s->flags |= LJ_STEP_F_OVS_NETDEV;
	}
	memcpy(s->mac, f->dev.mac, LJ_MAC_LEN);
	s->has_mac = true;
	s->mtu = f->dev.mtu;
	/* Same IPv6 link-local address as DEV: EUI-64 makes it from the MAC; other modes (which
	 * hash the link name) would make another one, so they get none and the moved one stays. */
	if (lj_link_get_addr_gen_mode(ctx->host, f->dev.ifindex, &mode) == 0)
		s->u32 = 1u + (mode == IN6_ADDR_GEN_MODE_EUI64 ? IN6_ADDR_GEN_MODE_EUI64
							       : IN6_ADDR_GEN_MODE_NONE);

	{
		char *text = lj_uplink_sysctl_text(o->dev);
		if (!text)
			return -ENOMEM;
		if (*text) {
			s = add_text_step(plan, &lj_step_sysctl_copy, text,
					  "copy the IPv4/IPv6 "
					  "settings of the uplink to the bridge");
			if (!s)
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		} else {
			free(text);
		}
	}

	for (size_t i = 0; i < f->n_addrs; i++) {
		struct lj_addr_full a = f->addrs[i];
		char label[IFNAMSIZ];

		if (lj_uplink_move_label(a.label, o->dev, o->bridge, label) < 0)
			return lj_bad_input(res, "Address label '%s' would be too long on '%s'",
					    a.label, o->bridge);
		memcpy(a.label, label, sizeof(a.label));
		snprintf(what, sizeof(what), "add %s to '%s'",
			 lj_cidr_to_string(&a.local, b, sizeof(b)), o->bridge);
		s = add_text_step(plan, &lj_step_addr_copy, lj_addr_full_to_text(&a), what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		if (a.local.ip.family == AF_INET6 && !(a.flags & IFA_F_NODAD))
			s->flags |= LJ_STEP_F_NODAD_FIRST;
	}

	s = lj_plan_add(plan, o->ovs ? &lj_step_ovs_enslave : &lj_step_enslave, LJ_HOST,
			"make '%s' a port of '%s'", o->dev, o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->dev);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	if (o->ovs && !(s->text = strdup(f->ovsdb)))
		return -ENOMEM;

	s = lj_plan_add(plan, &lj_step_link_up, LJ_HOST, "bring '%s' up", o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	s->skip_undo = true; /* the bridge goes away as a whole */

	for (size_t i = 0; i < f->n_routes; i++) {
		FILE *m = fmemopen(what, sizeof(what), "w");
		if (m) {
			fprintf(m, "move route ");
			lj_route_info_print(&f->routes[i], o->bridge, m);
			fclose(m);
		}
		s = add_text_step(plan, &lj_step_route_move, lj_route_info_to_text(&f->routes[i]),
				  what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->dev);
		snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	}

	/* Removed in reverse: secondaries before their primary (which would take them along). */
	for (size_t i = f->n_addrs; i-- > 0;) {
		snprintf(what, sizeof(what), "remove %s from '%s'",
			 lj_cidr_to_string(&f->addrs[i].local, b, sizeof(b)), o->dev);
		s = add_text_step(plan, &lj_step_addr_move, lj_addr_full_to_text(&f->addrs[i]),
				  what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->dev);
		snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	}

	if (o->ovs && f->ovs_netdev) {
		/*
		 * The userspace datapath reads DEV with a packet socket, so the host's stack
		 * still gets every frame DEV receives as well: keep DEV out of it (no IPv6, IPv4
		 * dropped by the reverse-path check, no ARP answers), or the host answers twice.
		 */
		static const struct {
			const char *key, *value;
		} quiet[] = {
			{"ipv6.disable_ipv6", "1"},
			{"ipv4.rp_filter", "1"},
			{"ipv4.arp_ignore", "8"},
		};
		char text[160] = "", old[32];
		size_t len = 0;

		for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
			if (lj_uplink_sysctl_read(quiet[i].key, o->dev, old, sizeof(old)) == 0 &&
			    old[0] && strlen(old) < 12)
				len += (size_t)snprintf(text + len, sizeof(text) - len,
							"%s=%s/%s\n", quiet[i].key, quiet[i].value,
							old);
		if (len) {
			s = lj_plan_add(plan, &lj_step_sysctl_set, LJ_HOST,
					"keep '%s' out of the "
					"host's IP stack (userspace datapath)",
					o->dev);
			if (!s || !(s->text = strdup(text)))
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", o->dev);
		}
	}

	if (!o->ovs)
		lj_uplink_fw_needs(need, chains);
	for (uint32_t i = 0, fam = 2; i < 2 && !o->ovs; i++, fam += 8) {
		const char *chain = chains[i];
		if (!need[i])
			continue;
		s = lj_plan_add(plan, &lj_step_bridged_accept, LJ_HOST,
				"accept traffic bridged on '%s' "
				"in %s filter %s (br_netfilter, policy drop)",
				o->bridge, fam == 2 ? "ip" : "ip6", chain);
		if (!s || !(s->text = strdup(chain)))
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		s->u32 = fam;
	}

	for (size_t i = 0; i < f->n_addrs; i++) {
		struct lj_addr_full a = f->addrs[i];
		char label[IFNAMSIZ];

		if (a.local.ip.family != AF_INET6 || (a.flags & IFA_F_NODAD))
			continue;
		lj_uplink_move_label(a.label, o->dev, o->bridge, label);
		memcpy(a.label, label, sizeof(a.label));
		snprintf(what, sizeof(what), "restore the flags of %s on '%s'",
			 lj_cidr_to_string(&a.local, b, sizeof(b)), o->bridge);
		s = add_text_step(plan, &lj_step_addr_flags, lj_addr_full_to_text(&a), what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	}

	if (f->probe.family != AF_UNSPEC) {
		s = lj_plan_add(plan, &lj_step_probe, LJ_HOST, "probe %s through '%s'",
				lj_ip_to_string(&f->probe, b, sizeof(b)), o->bridge);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		s->via = f->probe;
		s->u32 = o->timeout_ms ? o->timeout_ms : LJ_UPLINK_TIMEOUT_DEFAULT_MS;
		if (f->probe_onlink)
			s->flags |= LJ_STEP_F_PROBE_ONLINK;
	}

	if (crash_at && crash_at <= plan->n) {
		/* Tests: die before step crash_at, as if killed (the record says "adopting"). */
		s = lj_plan_add(plan, &lj_step_test_crash, LJ_HOST, "test crash");
		if (!s)
			return -ENOMEM;
		struct lj_step tmp = *s;
		memmove(&plan->steps[crash_at], &plan->steps[crash_at - 1],
			(plan->n - crash_at) * sizeof(*s));
		plan->steps[crash_at - 1] = tmp;
	}
	return 0;
}

static json_t *adoption_json(const struct lj_uplink_opts *o, const struct lj_uplink_facts *f)
{
	char b[256], mac[LJ_MAC_STRLEN];
	json_t *info = json_object(), *addrs = json_array(), *routes = json_array();

	json_object_set_new(info, "bridge", json_string(o->bridge));
	json_object_set_new(info, "uplink", json_string(o->dev));
	json_object_set_new(info, "kind", json_string(o->ovs ? "openvswitch" : "bridge"));
	json_object_set_new(info, "mac",
			    json_string(lj_mac_to_string(f->dev.mac, mac, sizeof(mac))));
	json_object_set_new(info, "mtu", json_integer(f->dev.mtu));
	for (size_t i = 0; i < f->n_addrs; i++)
		json_array_append_new(
			addrs, json_string(lj_cidr_to_string(&f->addrs[i].local, b, sizeof(b))));
	for (size_t i = 0; i < f->n_routes; i++) {
		FILE *m = fmemopen(b, sizeof(b), "w");
		if (!m)
			continue;
		lj_route_info_print(&f->routes[i], o->bridge, m);
		fclose(m);
		json_array_append_new(routes, json_string(b));
	}
	json_object_set_new(info, "addresses", addrs);
	json_object_set_new(info, "routes", routes);
	if (f->probe.family != AF_UNSPEC)
		json_object_set_new(info, "probe",
				    json_string(lj_ip_to_string(&f->probe, b, sizeof(b))));
	if (f->dhcp)
		json_object_set_new(info, "dhcp", json_true());
	return info;
}

static int check_namespace(const struct lj_record *rec, struct lj_result *res)
{
	if (!lj_uplink_own_record(rec))
		return lj_bad_input(
			res, "'%s' was adopted in another network namespace; run lanjoin there",
			rec->ifname);
	return 0;
}

/* Is the adoption of rec whole right now: BR exists and DEV is its port? */
static bool adoption_live(struct lj_ctx *ctx, const struct lj_record *rec)
{
	struct lj_link br, dev;

	return lj_link_get(ctx->host, rec->ifname, &br) == 0 &&
	       lj_link_get(ctx->host, rec->host_ifname, &dev) == 0 && dev.master == br.ifindex;
}

/* What the adoption's existing-record policy needs. */
struct existing_data {
	const struct lj_uplink_opts *o;
	bool recovered; /* an interrupted adoption was rolled back */
};

/*
 * The adoption's policy for a record of the same bridge (lj_txn_existing): a whole adoption is
 * kept (the same uplink: nothing to do; another: refused); one a crash interrupted (or that
 * events overtook) is rolled back first.
 */
static int existing_policy(struct lj_txn *txn, const struct lj_record *old, int load_error,
			   void *data, struct lj_result *res)
{
	struct existing_data *d = data;
	const struct lj_uplink_opts *o = d->o;
	struct lj_ctx *ctx = txn->ctx;
	size_t failed = 0;
	int r;

	if (load_error < 0)
		return lj_fail(res, load_error, "Failed to read the state record %s/%s/%s.json: %s",
			       lj_state_dir(), UPLINK_SUBDIR, txn->rec->id, strerror(-load_error));
	r = check_namespace(old, res);
	if (r < 0)
		return r;
	if (strcmp(old->status, "adopted") == 0 && adoption_live(ctx, old)) {
		if (strcmp(old->host_ifname, o->dev) != 0)
			return lj_bad_input(res, "'%s' already holds uplink '%s'", o->bridge,
					    old->host_ifname);
		/* Not this command's adoption: it relies on it from now on (a give-back of
		 * the attach that made it must leave it), decided under this lock. */
		r = lj_uplink_claim(txn->st, old, !o->for_attach);
		if (r < 0)
			return lj_fail(res, r, "Failed to write the state record of '%s': %s",
				       o->bridge, strerror(-r));
		snprintf(res->message, sizeof(res->message),
			 "'%s' already holds '%s' (adopted by lanjoin); nothing to do", o->bridge,
			 o->dev);
		res->unchanged = true;
		return LJ_TXN_KEEP;
	}
	/* Interrupted (or overtaken by events): put everything back first. */
	ctx->rollback = true;
	r = lj_plan_undo_all(ctx, &old->plan, &failed);
	ctx->rollback = false;
	if (failed)
		return lj_fail(res, r,
			       "Failed to roll back the interrupted adoption of '%s': %s; run "
			       "'lanjoin uplink release %s'",
			       o->bridge, ctx->detail, o->bridge);
	d->recovered = true;
	memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
	ctx->detail[0] = '\0';
	return LJ_TXN_REPLACE;
}

int lj_uplink_adopt(const struct lj_uplink_opts *o, struct lj_result *res)
{
	struct lj_uplink_facts f = {0};
	struct lj_plan plan = {0};
	struct lj_record rec = {0};
	struct lj_txn txn = {.plan = &plan, .rec = &rec};
	struct existing_data ed = {.o = o};
	struct lj_ctx *ctx = NULL;
	struct lj_nl *dump = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(o->bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", o->bridge);
	if (!lj_ifname_valid(o->dev))
		return lj_bad_input(res, "Invalid interface name '%s'", o->dev);
	if (strcmp(o->bridge, o->dev) == 0)
		return lj_bad_input(res, "The bridge and the uplink must differ");
	if (o->timeout_ms > LJ_UPLINK_TIMEOUT_MAX_S * 1000u)
		return lj_bad_input(res, "Timeout above %u s", LJ_UPLINK_TIMEOUT_MAX_S);

	f.warnings = json_array();
	r = lj_ctx_new(NULL, NULL, &ctx);
	if (r == 0)
		r = lj_nl_open(-1, &dump);
	if (r < 0) {
		lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
		goto out;
	}
	lj_nl_set_strict(dump); /* best effort: the callbacks filter too */
	txn.ctx = ctx;

	if (!o->dry_run) {
		r = lj_state_open_sub(UPLINK_SUBDIR, true, &txn.st);
		if (r < 0) {
			lj_result_state_failed(res, r); /* also: interrupted, waiting for it */
			goto out;
		}
		record_init(&rec, o->bridge, o->dev, o->ovs);
		r = lj_txn_existing(&txn, UPLINK_SUBDIR, existing_policy, &ed, res);
		if (r == LJ_TXN_KEEP) {
			r = 0; /* whole already: res->message says so */
			goto out;
		}
		if (r < 0)
			goto out;
	}

	r = lj_uplink_gather(ctx, dump, txn.st, o, &f, res);
	if (r < 0)
		goto out;
	r = build(o, ctx, &f, &plan, res);
	if (r < 0)
		goto out;
	if (ed.recovered)
		lj_uplink_warn(f.warnings, "An interrupted adoption of '%s' was rolled back first",
			       o->bridge);

	if (o->dry_run) {
		res->dry_plan = plan;
		memset(&plan, 0, sizeof(plan));
		res->dry_ctx = ctx;
		ctx = NULL;
		res->json = adoption_json(o, &f);
		json_object_set(res->json, "warnings", f.warnings);
		r = 0;
		goto out;
	}

	json_decref(rec.info);
	rec.info = adoption_json(o, &f);
	if (!o->for_attach) /* asked for: never given back by a failed attach */
		json_object_set_new(rec.info, "explicit", json_true());
	r = lj_txn_apply(&txn, res);
	if (r < 0) {
		const struct lj_step *s;

		if (txn.step == SIZE_MAX)
			goto out;
		s = &plan.steps[txn.step];
		if (r == -EINTR && lj_interrupted()) {
			/* Ctrl-C, SIGTERM, SIGHUP (a dropped SSH session): rolled back */
			res->interrupted = lj_interrupted();
			lj_fail(res, r,
				"Interrupted (%s) while adopting '%s' into '%s', at step %zu of "
				"%zu, %s%s%s%s",
				lj_interrupt_name(res->interrupted), o->dev, o->bridge,
				txn.step + 1, plan.n, s->what,
				txn.undo_failed ? ". Could not undo: " : "", txn.undo_detail,
				txn.undo_failed ? "; the record is kept: run 'lanjoin uplink "
						  "release' on the bridge"
						: "");
			goto out;
		}
		lj_fail(res, r,
			"Failed to adopt '%s' into '%s', step %zu of %zu, %s: %s%s%s%s%s%s%s",
			o->dev, o->bridge, txn.step + 1, plan.n, s->what,
			r == -ETIMEDOUT ? "no answer" : strerror(-r), txn.detail[0] ? " (" : "",
			txn.detail, txn.detail[0] ? ")" : "",
			txn.undo_failed ? ". Could not undo: " : "", txn.undo_detail,
			txn.undo_failed ? "; the record is kept: run 'lanjoin uplink release' "
					  "on the bridge"
					: "");
		goto out;
	}
	r = lj_txn_commit(&txn, "adopted", false, res);
	if (r < 0) {
		lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
		goto out;
	}
	res->json = json_incref(rec.info);
	json_object_set(res->json, "warnings", f.warnings);
	r = 0;
out:
	lj_uplink_facts_free(&f);
	lj_record_free(&rec);
	lj_plan_free(&plan);
	lj_state_close(txn.st);
	lj_nl_close(dump);
	lj_ctx_free(ctx);
	return r;
}

/* --- release ---------------------------------------------------------------------------- */

/* An OVS bridge of an adoption: refuse (bad input) when it has ports beyond DEV and itself. */
static int ovs_other_ports(const struct lj_record *rec, struct lj_result *res)
{
	const char *db = NULL;
	struct lj_ovs_bridge b;
	struct lj_ovs *o;
	int r;

	for (size_t i = 0; i < rec->plan.n; i++)
		if (rec->plan.steps[i].type == &lj_step_ovs_uplink_bridge)
			db = rec->plan.steps[i].text;
	if (lj_ovs_open(db, &o) < 0)
		return 0; /* nothing to ask: the undo says what is wrong */
	r = lj_ovs_bridge_get(o, rec->ifname, &b);
	lj_ovs_close(o);
	if (r == 0 && b.n_ports > 2)
		return lj_bad_input(res,
				    "OVS bridge '%s' still has %zu other port%s: containers are "
				    "attached to it; detach them first, or use --force to release "
				    "anyway (they lose the LAN)",
				    rec->ifname, b.n_ports - 2, b.n_ports == 3 ? "" : "s");
	return 0;
}

/*
 * release BRIDGE found no adoption into BRIDGE: say so (0: nothing to do, also when no such
 * link exists: a release done twice stays a success); when BRIDGE is the uplink of an
 * adoption (its port), refuse and name the bridge to release instead (-EINVAL).
 */
static int not_adopted(struct lj_ctx *ctx, struct lj_state *st, const char *bridge,
		       struct lj_result *res)
{
	struct lj_record *recs = NULL;
	struct lj_link l;
	size_t n = 0;
	int r = 0;

	if (st && lj_state_list(st, &recs, &n, NULL) == 0)
		for (size_t i = 0; i < n && r == 0; i++)
			if (strcmp(recs[i].host_ifname, bridge) == 0)
				r = lj_bad_input(res,
						 "'%s' is the uplink lanjoin adopted into bridge "
						 "'%s': release the bridge (lanjoin uplink release "
						 "%s); nothing was changed",
						 bridge, recs[i].ifname, recs[i].ifname);
	lj_records_free(recs, n);
	if (r < 0)
		return r;
	if (lj_link_get(ctx->host, bridge, &l) == -ENODEV)
		snprintf(res->message, sizeof(res->message),
			 "No such device '%s', and no uplink adoption names it; nothing to do",
			 bridge);
	else
		snprintf(res->message, sizeof(res->message),
			 "No uplink was adopted into '%s' by lanjoin; nothing to do", bridge);
	return 0;
}

/* lj_uplink_release; with unused_only, lj_uplink_give_back (returns 1 when kept). */
static int release(const char *bridge, bool force, bool dry_run, bool unused_only,
		   struct lj_result *res)
{
	struct lj_state *st = NULL;
	struct lj_record rec = {0};
	struct lj_plan plan = {0};
	struct lj_ctx *ctx = NULL;
	struct lj_txn txn;
	struct lj_link br;
	char moved[400] = "", dropped[sizeof(moved)] = "";
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", bridge);
	r = lj_ctx_new(NULL, NULL, &ctx);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	/* A dry run creates nothing: without a state directory, nothing was adopted. */
	r = dry_run ? lj_state_open_read(UPLINK_SUBDIR, &st)
		    : lj_state_open_sub(UPLINK_SUBDIR, true, &st);
	if (r < 0 && !(r == -ENOENT && dry_run)) {
		lj_result_state_failed(res, r); /* also: interrupted, waiting for it */
		goto out;
	}
	if (st) {
		char id[LJ_RECORD_ID_LEN];
		lj_record_id(UPLINK_KEY, bridge, id);
		r = lj_state_load(st, id, &rec);
	}
	if (r == -ENOENT) {
		r = not_adopted(ctx, st, bridge, res);
		goto out;
	}
	if (r < 0) {
		lj_fail(res, r, "Failed to read the state record of '%s': %s", bridge,
			r == -EBADMSG ? "it is malformed or not lanjoin's" : strerror(-r));
		goto out;
	}
	r = check_namespace(&rec, res);
	if (r < 0)
		goto out;
	/* Decided under the lock the release then holds: nobody can start relying on it. */
	if (unused_only) {
		char why[300];

		r = lj_uplink_in_use(st, &rec, why, sizeof(why));
		if (r < 0) {
			lj_fail(res, r, "Failed to read the state directory %s: %s", lj_state_dir(),
				lj_state_strerror(r));
			goto out;
		}
		if (r > 0) {
			snprintf(res->message, sizeof(res->message), "'%s' stays adopted: %s",
				 bridge, why);
			goto out;
		}
	}
	/* Not even with --force: the addresses of nat attachments would outlive them on DEV. */
	r = lj_uplink_check_users(ctx, st, bridge,
				  lj_link_get(ctx->host, bridge, &br) == 0 ? br.ifindex : 0, bridge,
				  rec.host_ifname, res);
	if (r < 0)
		goto out;

	if (!force && strcmp(rec.way, "uplink-ovs") == 0) {
		r = ovs_other_ports(&rec, res);
		if (r < 0)
			goto out;
	} else if (!force && lj_link_get(ctx->host, bridge, &br) == 0) {
		struct lj_link *ports = NULL;
		struct lj_state *ast = NULL;
		struct lj_record *recs = NULL;
		char names[512] = "";
		size_t n = 0, others = 0, len = 0, n_recs = 0;

		r = lj_link_list_ports(ctx->host, br.ifindex, &ports, &n);
		if (r < 0) {
			lj_fail(res, r, "Failed to list the ports of '%s': %s", bridge,
				strerror(-r));
			goto out;
		}
		/* a port lanjoin made is named with its attachment (target and ifname) */
		if (lj_state_open_sibling(st, "attachments", &ast) < 0 ||
		    lj_state_list(ast, &recs, &n_recs, NULL) < 0)
			n_recs = 0;
		for (size_t i = 0; i < n; i++) {
			const struct lj_record *a = NULL;

			if (strcmp(ports[i].name, rec.host_ifname) == 0)
				continue;
			others++;
			for (size_t k = 0; k < n_recs && !a; k++)
				if (strcmp(recs[k].host_ifname, ports[i].name) == 0)
					a = &recs[k];
			if (len < sizeof(names) - IFNAMSIZ - 8)
				len += (size_t)snprintf(names + len, sizeof(names) - len,
							"%s%s%s%.*s%s%s", len ? ", " : "",
							ports[i].name, a ? " of " : "", a ? 128 : 0,
							a ? a->target_spec : "", a ? " as " : "",
							a ? a->ifname : "");
		}
		lj_records_free(recs, n_recs);
		lj_state_close(ast);
		free(ports);
		if (others) {
			r = lj_bad_input(res,
					 "'%s' still has %zu other port%s (%s): containers are "
					 "attached to it; detach them first, or use --force to "
					 "release anyway (they lose the LAN)",
					 bridge, others, others == 1 ? "" : "s", names);
			goto out;
		}
	}

	/* What BR holds now goes back, not only what it held at the adoption. */
	if (strcmp(rec.status, "adopted") == 0 && adoption_live(ctx, &rec)) {
		r = lj_uplink_release_current(ctx, bridge, rec.host_ifname, &rec.plan, moved,
					      dropped, sizeof(moved), res);
		if (r < 0)
			goto out;
	}

	if (dry_run) {
		lj_result_dry_plan(res, ctx, &rec.plan, true, "release '%s' (uplink '%s')", bridge,
				   rec.host_ifname);
		r = 0;
		goto out;
	}

	plan = rec.plan; /* the transaction lends it to the record for each save */
	rec.plan = (struct lj_plan){0};
	txn = (struct lj_txn){.st = st, .ctx = ctx, .rec = &rec, .plan = &plan};
	ctx->finish = unused_only; /* the rollback of an interrupted attach: not interrupted */
	r = lj_txn_undo_atomic(&txn, "releasing", res);
	if (r < 0 && txn.step != SIZE_MAX) {
		const struct lj_step *s = &plan.steps[txn.step];
		if (r == -EINTR && lj_interrupted()) {
			res->interrupted = lj_interrupted();
			lj_fail(res, r,
				"Interrupted (%s) while releasing '%s', before undoing step "
				"%zu (%s). %s%s",
				lj_interrupt_name(res->interrupted), bridge, txn.step + 1, s->what,
				txn.undo_failed
					? "Could not restore the adoption either: "
					: "The adoption is whole again (nothing was released)",
				txn.undo_detail);
			goto out;
		}
		lj_fail(res, r, "Failed to release '%s', undoing step %zu (%s): %s%s%s%s. %s%s",
			bridge, txn.step + 1, s->what, strerror(-r), txn.detail[0] ? " (" : "",
			txn.detail, txn.detail[0] ? ")" : "",
			txn.undo_failed ? "Could not restore the adoption either: "
					: "The adoption is "
					  "whole again (nothing was released)",
			txn.undo_detail);
		goto out;
	}
	snprintf(res->message, sizeof(res->message),
		 "Released '%s': its addresses and routes are back on '%s'%s%s%s%s%s%s", bridge,
		 rec.host_ifname,
		 moved[0] ? "; with what was added on it since the adoption: " : "", moved,
		 dropped[0] ? "; not put back (removed from '" : "", dropped[0] ? bridge : "",
		 dropped[0] ? "' since the adoption): " : "", dropped);
out:
	lj_plan_free(&plan);
	lj_record_free(&rec);
	lj_state_close(st);
	lj_ctx_free(ctx);
	return r;
}

int lj_uplink_release(const char *bridge, bool force, bool dry_run, struct lj_result *res)
{
	return release(bridge, force, dry_run, false, res);
}

int lj_uplink_give_back(const char *bridge, struct lj_result *res)
{
	return release(bridge, true, false, true, res);
}

int lj_uplink_plan(struct lj_ctx *ctx, const char *bridge, const char *dev, struct lj_plan *plan,
		   uint32_t *ret_mtu, struct lj_result *res)
{
	struct lj_uplink_opts o = {.dry_run = true};
	struct lj_uplink_facts f = {0};
	struct lj_nl *dump = NULL;
	int r;

	snprintf(o.bridge, sizeof(o.bridge), "%s", bridge);
	snprintf(o.dev, sizeof(o.dev), "%s", dev);
	f.warnings = json_array();
	r = lj_nl_open(-1, &dump);
	if (r < 0) {
		lj_uplink_facts_free(&f);
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	}
	lj_nl_set_strict(dump);
	r = lj_uplink_gather(ctx, dump, ctx->state, &o, &f, res);
	if (r == 0)
		r = build(&o, ctx, &f, plan, res);
	if (r == 0)
		*ret_mtu = f.dev.mtu;
	lj_nl_close(dump);
	lj_uplink_facts_free(&f);
	return r;
}

int lj_uplink_gc(const struct lj_state *st, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL;
	struct lj_ovs_port *ports = NULL;
	struct lj_state *ust = NULL;
	struct lj_ctx *ctx = NULL;
	struct lj_ovs *o = NULL;
	size_t n = 0, n_ports = 0;
	int r, first = 0;

	r = lj_state_open_sibling(st, UPLINK_SUBDIR, &ust);
	if (r == 0)
		r = lj_state_list(ust, &recs, &n, NULL);
	if (r == 0)
		r = lj_ctx_new(NULL, NULL, &ctx);
	if (r < 0) {
		lj_fail(res, r, "Failed to read the uplink records: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t failed = 0;

		if (!lj_uplink_own_record(&recs[i])) {
			/* Its namespace is gone, and with it the bridge and the uplink: drop it. */
			if (lj_netns_exists(NULL, &recs[i].netns, recs[i].netns_cookie) ||
			    lj_state_remove(ust, recs[i].id) < 0)
				continue;
			lj_result_note(res,
				       "Removed uplink adoption %s %s: dropped its record, the "
				       "network namespace it was adopted in no longer exists",
				       recs[i].ifname, recs[i].host_ifname);
			snprintf(recs[i].status, sizeof(recs[i].status), "gone");
			(*ret_removed)++;
			continue;
		}
		if (strcmp(recs[i].status, "adopted") == 0)
			continue;
		/* A crash in the middle of an adopt or release: put the uplink back. */
		ctx->detail[0] = '\0';
		memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
		lj_plan_undo_all(ctx, &recs[i].plan, &failed);
		if (failed) {
			if (!first)
				first = lj_fail(
					res, -EIO,
					"Failed to roll back the interrupted adoption of '%s': %s",
					recs[i].ifname, ctx->detail);
			continue;
		}
		lj_state_remove(ust, recs[i].id);
		lj_result_note(res,
			       "Removed uplink adoption %s %s: rolled back the %s an interrupted "
			       "run left half-done",
			       recs[i].ifname, recs[i].host_ifname,
			       recs[i].status[0] == 'r' ? "release" : "adoption");
		snprintf(recs[i].status, sizeof(recs[i].status), "gone");
		(*ret_removed)++;
	}

	/* OVS uplink ports no adoption explains. */
	if (lj_ovs_open(NULL, &o) < 0 || lj_ovs_check_running(o, NULL) < 0 ||
	    lj_ovs_list_ours(o, &ports, &n_ports, NULL, NULL) < 0)
		goto out;
	for (size_t i = 0; i < n_ports; i++) {
		bool claimed = false;

		if (strcmp(ports[i].target, "uplink") != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			claimed |= strcmp(recs[j].status, "gone") != 0 &&
				   strcmp(recs[j].host_ifname, ports[i].name) == 0;
		if (claimed)
			continue;
		r = lj_ovs_port_del(o, ports[i].name);
		if (r < 0 && !first)
			first = lj_fail(res, r, "Failed to take stale uplink '%s' out of OVS: %s",
					ports[i].name, lj_ovs_error(o));
		else if (r == 0) {
			lj_result_note(res,
				       "Removed OVS uplink port %s: no uplink adoption explains it",
				       ports[i].name);
			(*ret_removed)++;
		}
	}
out:
	free(ports);
	lj_ovs_close(o);
	lj_ctx_free(ctx);
	lj_records_free(recs, n);
	lj_state_close(ust);
	return first ? first : r < 0 ? r : 0;
}

int lj_uplink_adopted_dev(const struct lj_state *st, const char *bridge, char ret_dev[IFNAMSIZ])
{
	struct lj_state *ust = NULL;
	struct lj_record rec;
	char id[LJ_RECORD_ID_LEN];
	int r;

	lj_record_id(UPLINK_KEY, bridge, id);
	r = lj_state_open_sibling(st, UPLINK_SUBDIR, &ust);
	if (r == 0)
		r = lj_state_load(ust, id, &rec);
	lj_state_close(ust);
	if (r < 0)
		return r == -EXDEV ? -ENOENT : r;
	if (lj_uplink_own_record(&rec) && strcmp(rec.status, "adopted") == 0 &&
	    strcmp(rec.ifname, bridge) == 0)
		snprintf(ret_dev, IFNAMSIZ, "%s", rec.host_ifname);
	else
		r = -ENOENT;
	lj_record_free(&rec);
	return r;
}

int lj_uplink_repair_fw(const char *id, struct lj_result *res)
{
	struct lj_state *st = NULL, *ust = NULL;
	struct lj_ctx *ctx = NULL;
	struct lj_record rec = {0};
	int r, put = 0;

	memset(res, 0, sizeof(*res));
	r = lj_state_open(true, &st);
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	r = lj_state_open_sibling(st, UPLINK_SUBDIR, &ust);
	if (r == 0)
		r = lj_state_load(ust, id, &rec);
	if (r == 0 && (!lj_uplink_own_record(&rec) || strcmp(rec.status, "adopted") != 0))
		r = -ENOENT; /* another namespace's, or not (or no longer) an adoption */
	if (r == 0)
		r = lj_ctx_new(NULL, NULL, &ctx);
	for (size_t i = 0; r == 0 && i < rec.plan.n; i++) {
		struct lj_step *s = &rec.plan.steps[i];

		if (s->type != &lj_step_bridged_accept || !s->text)
			continue;
		/* only a missing rule is inserted again: a second copy would do no harm, but
		 * undo deletes each rule with the tag, so it is not needed either */
		r = lj_uplink_fw_has_rule(s->u32, s->text, s->link);
		if (r == 0) {
			r = s->type->apply(ctx, s);
			put += r == 0;
		}
		if (r > 0)
			r = 0;
		if (r < 0)
			lj_fail(res, r,
				"Failed to put back the accept rule for bridge %s in chain %s: "
				"%s%s%s",
				s->link, s->text, strerror(-r), ctx->detail[0] ? ": " : "",
				ctx->detail);
	}
	if (r == -ENOENT && !res->message[0])
		r = 0; /* nothing of it left to repair */
	lj_ctx_free(ctx);
	lj_record_free(&rec);
	lj_state_close(ust);
	lj_state_close(st);
	return r < 0 ? r : put;
}
