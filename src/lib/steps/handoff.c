/* SPDX-License-Identifier: MIT */
/* Step types of a link handed to a container engine (see handoff.h). */
#include "lib/steps/handoff.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "lib/core/status.h"
#include "lib/kernel/link.h"
#include "lib/steps/macvlan.h"
#include "shared/shquote.h"

/* --- the handed end back ----------------------------------------------------------------- */

/* An attached record older than this whose handed end is still in lanjoin's namespace was
 * let go by its engine (which moves the link at once after the Join), seconds. */
#define HANDOFF_SETTLED_S 30

/*
 * Is rec's sandbox (its target spec, the engine's SandboxKey) gone: the file is missing from a
 * directory that is there (the engine removes the file when it drops the sandbox)? An empty
 * file (the engine's mounts in a private mount namespace) or an unreadable one is not gone.
 */
static bool sandbox_gone(const struct lj_record *rec)
{
	char dir[LJ_TARGET_SPEC_MAX];
	struct stat st;
	char *slash;

	if (rec->target_spec[0] != '/' || lstat(rec->target_spec, &st) == 0 || errno != ENOENT)
		return false;
	snprintf(dir, sizeof(dir), "%s", rec->target_spec);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return false;
	*slash = '\0';
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Is rec's sandbox file there but no network namespace here (nothing of type nsfs mounted on
 * it)? The engine mounts the namespace on it after the Join and unmounts it when it drops the
 * sandbox, but it may mount it in a mount namespace of its own (then it never is one here):
 * a hint, which only the handed link gone from every namespace makes proof.
 */
static bool sandbox_unmounted(const struct lj_record *rec)
{
	struct statfs sf;

	return rec->target_spec[0] == '/' && statfs(rec->target_spec, &sf) == 0 &&
	       sf.f_type != NSFS_MAGIC;
}

/* The links of every namespace lanjoin's knows by a number, its own last (status cache). */
struct peer_links {
	struct lj_link *v;
	size_t n;
};

static void peer_links_drop(void *data)
{
	struct peer_links *p = data;

	free(p->v);
	free(p);
}

static int peer_links_fill(void *arg, void **ret, char *why, size_t size)
{
	struct peer_links *p = calloc(1, sizeof(*p));
	struct lj_nl *nl = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = lj_nl_open(-1, &nl);
	if (r == 0)
		r = lj_link_peer_links(nl, &p->v, &p->n);
	lj_nl_close(nl);
	if (r < 0) {
		snprintf(why, size, "cannot read the links of the other namespaces: %s",
			 strerror(-r));
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/*
 * Is the macvlan of s (by its MAC) in no namespace lanjoin's knows by a number? The kernel
 * numbers the namespace a link of this one is moved into (the engine moving the handed link
 * into its sandbox), and forgets the number when that namespace is gone: a handed macvlan in
 * none of them went with its sandbox's namespace. False when that cannot be read.
 */
static bool macvlan_nowhere(const struct lj_status_view *v, const struct lj_step *s)
{
	struct peer_links *p;
	char why[128];

	if (!s->has_mac ||
	    lj_status_cached(v->host, "handoff: links of the numbered namespaces", peer_links_fill,
			     NULL, peer_links_drop, (void **)&p, why, sizeof(why)) < 0)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].kind, "macvlan") == 0 && p->v[i].has_mac &&
		    memcmp(p->v[i].mac, s->mac, LJ_MAC_LEN) == 0)
			return false;
	return true;
}

/*
 * The handed end, found back in lanjoin's namespace without other proof (a veth's host end
 * that had carrier), was let go by the engine: the Join finished long ago (an engine moves the
 * link at once). A sandbox file that is missing is no proof: Docker makes it after the Join
 * (runc makes the namespace, the libnetwork-setkey hook binds it), so that every new
 * container's link is beside lanjoin's end, its sandbox missing, until it is moved. A Join in
 * progress (the record not attached yet) never is.
 */
static bool let_go(const struct lj_record *rec)
{
	return (int64_t)time(NULL) - rec->created >= HANDOFF_SETTLED_S;
}

static bool attached(const struct lj_status_view *v)
{
	return v->rec && strcmp(v->rec->status, "attached") == 0;
}

static void why_back(const struct lj_status_view *v, const struct lj_link *l, char *why,
		     size_t size)
{
	char mac[LJ_MAC_STRLEN];

	snprintf(why, size,
		 "the container end (ifindex %d, MAC %s, named %s) is back in lanjoin's "
		 "namespace: %s",
		 l->ifindex, lj_mac_to_string(l->mac, mac, sizeof(mac)), l->name,
		 sandbox_gone(v->rec) ? "its sandbox is gone" : "the engine let it go");
}

/* --- handoff-veth ------------------------------------------------------------------------ */

static int hveth_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_veth_opts o = {
		.name = s->link,
		.peer_name = s->peer,
		.peer_netns_fd = -1, /* beside the host end: the engine moves it */
		.mtu = s->mtu,
		.peer_mtu = s->peer_mtu,
		.peer_mac = s->has_mac ? s->mac : NULL,
		.up = true,
		.no_ipv6 = !s->mtu || s->mtu >= 1280,
	};
	struct lj_link l;
	int r;

	if (!s->has_mac)
		return -EINVAL; /* the mark of the pair until the commit records its ifindex */
	if (s->master[0]) {
		r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
		if (r < 0) {
			lj_ctx_detail(ctx, "bridge '%s' is gone", s->master);
			return r;
		}
		o.master = r;
		s->u32 = (uint32_t)r;
	}
	r = lj_link_add_veth_echo(ctx->host, &o, &l);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "a link named '%s' or '%s' exists", s->link, s->peer);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (l.ifindex > 0) {
		s->i64 = l.ifindex;
		return 0;
	}
	r = lj_link_get(ctx->host, s->link, &l); /* a kernel that does not echo (before 6.3) */
	if (r == 0)
		s->i64 = l.ifindex;
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

/*
 * Is the host link named s->link the host end s made? By the recorded ifindex; a run killed
 * before it was recorded, by the mark: a veth whose peer, beside it, is s->peer with s->mac
 * (set in the creating request). 1 yes, 0 no (or gone), -errno.
 */
static int hveth_ours(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l, p;
	int r;

	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (strcmp(l.kind, "veth") != 0)
		return 0;
	if (s->i64)
		return l.ifindex == s->i64;
	if (!s->has_mac || lj_link_get_by_index(ctx->host, l.parent, &p) < 0)
		return 0;
	return strcmp(p.name, s->peer) == 0 && p.has_mac && memcmp(p.mac, s->mac, LJ_MAC_LEN) == 0;
}

static int hveth_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r = hveth_ours(ctx, s);

	if (r > 0)
		r = lj_link_del(ctx->host, s->link); /* deletes the peer too, wherever it is */
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	lj_ctx_forget(ctx, LJ_HOST, s->peer);
	return r == -ENODEV || r > 0 ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

/* The host end still a port of the bridge it joined (u32 = its ifindex then). */
static int hveth_check(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l;
	int r;

	if (!s->master[0] || !s->u32)
		return 0;
	r = lj_link_get(ctx->host, s->link, &l);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (l.master != (int)s->u32) {
		lj_ctx_detail(ctx, "'%s' is no longer a port of bridge '%s'", s->link, s->master);
		return -ENOLINK;
	}
	return 0;
}

static void hveth_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];

	fprintf(f, "ip link add %s", LJ_SHQ(s->link));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type veth peer name %s", LJ_SHQ(s->peer));
	if (s->peer_mtu)
		fprintf(f, " mtu %u", s->peer_mtu);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	fputc('\n', f);
	fprintf(f, "ip link set %s%s%s up\n", LJ_SHQ(s->link), s->master[0] ? " master " : "",
		s->master[0] ? LJ_SHQ(s->master) : "");
}

static void hveth_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", LJ_SHQ(s->link));
}

/* The host end is there, up, the very link made (ifindex), a port of its bridge. The end
 * handed over is the engine's: it renamed and moved it (not back in lanjoin's namespace, see
 * why_back). */
static int hveth_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			size_t size)
{
	const struct lj_link *h, *p, *br;

	/* The pair by its record: the host end's ifindex, the container end's MAC. */
	h = s->i64 ? lj_status_link_index(v->host, (int)s->i64) : NULL;
	if (h && strcmp(h->kind, "veth") != 0)
		h = NULL;
	p = h && h->parent ? lj_status_link_index(v->host, h->parent) : NULL;
	/* Back beside the host end after the engine had it: the host end had carrier once (only
	 * the engine brings the container end up), or see let_go. */
	if (attached(v) && p && strcmp(p->kind, "veth") == 0 && p->parent == h->ifindex &&
	    s->has_mac && p->has_mac && memcmp(p->mac, s->mac, LJ_MAC_LEN) == 0 &&
	    (h->carrier_up > 0 || let_go(v->rec))) {
		why_back(v, p, why, size);
		return LJ_VERIFY_TARGET_GONE;
	}
	if (attached(v) && s->i64 && !h && sandbox_gone(v->rec)) {
		snprintf(why, size, "its sandbox is gone, and the veth pair with it (ifindex %lld)",
			 (long long)s->i64);
		return LJ_VERIFY_TARGET_GONE;
	}
	/* Both ends gone (a pair dies as one) and the sandbox file no namespace here: the
	 * namespace died with its container (a dockerd killed -9 drops the endpoint unsaid). */
	if (attached(v) && s->i64 && !h && sandbox_unmounted(v->rec)) {
		snprintf(why, size,
			 "the veth pair (ifindex %lld) is gone and its sandbox file is no network "
			 "namespace here: gone with the container's namespace",
			 (long long)s->i64);
		return LJ_VERIFY_TARGET_GONE;
	}
	h = lj_status_need_link(v, LJ_HOST, s->link, true, why, size);
	if (!h)
		return LJ_VERIFY_DRIFTED;
	if (s->i64 && h->ifindex != s->i64) {
		snprintf(why, size, "%s on the host is another link (ifindex %d, was %lld)",
			 s->link, h->ifindex, (long long)s->i64);
		return LJ_VERIFY_DRIFTED;
	}
	if (s->master[0]) {
		br = lj_status_link(v->host, s->master);
		if (!br || h->master != br->ifindex) {
			snprintf(why, size, "%s is no longer a port of %s", s->link, s->master);
			return LJ_VERIFY_DRIFTED;
		}
	}
	return 0;
}

const struct lj_step_type lj_step_handoff_veth = {
	.id = "handoff-veth",
	.apply = hveth_apply,
	.check = hveth_check,
	.verify = hveth_verify,
	.undo = hveth_undo,
	.describe = hveth_describe,
	.describe_undo = hveth_describe_undo,
	/* No save after it: its ifindex is recorded with the commit; until then the record's mark
	 * (the peer's name and MAC, hveth_ours) tells the pair. */
};

/* --- handoff-macvlan --------------------------------------------------------------------- */

static int hmacvlan_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_macvlan_opts o = {
		.name = s->link,
		.netns_fd = -1,
		.mode = s->u32,
		.mtu = s->mtu,
		.mac = s->mac,
	};
	struct lj_link l;
	int r;

	if (!s->has_mac)
		return -EINVAL; /* the mark until its ifindex is recorded */
	r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
	if (r < 0) {
		lj_ctx_detail(ctx, "parent '%s' is gone", s->master);
		return r;
	}
	o.parent = r;
	r = lj_link_add_macvlan(ctx->host, &o);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "a link named '%s' exists", s->link);
	else if (r == -EBUSY)
		lj_ctx_detail(ctx, "'%s' is a port of a bridge or bond", s->master);
	else if (r == -EADDRINUSE)
		lj_ctx_detail(ctx, "another macvlan on '%s' has that MAC address", s->master);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == 0)
		s->i64 = l.ifindex;
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

/*
 * Is the link named s->link (back in lanjoin's namespace) the one s made? By the recorded
 * ifindex or else by the mark: a macvlan on the parent with s->mac (a parent's macvlans never
 * share a MAC; the engine may have moved the link out and back, which can renumber it).
 */
static int hmacvlan_ours(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l;
	int r, parent;

	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (strcmp(l.kind, "macvlan") != 0)
		return 0;
	if (s->i64 && l.ifindex == s->i64)
		return 1;
	parent = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
	return parent > 0 && l.parent == parent && s->has_mac && l.has_mac &&
	       memcmp(l.mac, s->mac, LJ_MAC_LEN) == 0;
}

/*
 * The macvlan s made, still in another namespace (one the kernel numbers from lanjoin's: the
 * engine moved it there) though its engine dropped it: a namespace something else still holds
 * (a process, a mount; or the kernel still tearing it down) keeps it up on the parent with
 * its MAC, and the next endpoint given that address (and so that MAC) cannot come up there
 * ("address already in use"). Deleted only if it is s's exactly: the recorded ifindex (a link
 * keeps it when moved into a namespace where it is free), MAC and parent. 0 or -errno.
 */
static int hmacvlan_undo_elsewhere(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link want = {.ifindex = (int)s->i64, .has_mac = s->has_mac};
	int r;

	if (!s->i64 || !s->has_mac)
		return 0;
	r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
	if (r <= 0)
		return 0; /* no parent, no macvlan of it */
	want.parent = r;
	memcpy(want.mac, s->mac, LJ_MAC_LEN);
	snprintf(want.kind, sizeof(want.kind), "macvlan");
	r = lj_link_del_elsewhere(ctx->host, &want);
	return r < 0 ? lj_ctx_nl_error(ctx, ctx->host, r) : 0;
}

static int hmacvlan_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r = hmacvlan_ours(ctx, s);

	if (r > 0)
		r = lj_link_del(ctx->host, s->link);
	else if (r == 0)
		r = hmacvlan_undo_elsewhere(ctx, s);
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	return r == -ENODEV || r > 0 ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void hmacvlan_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];

	fprintf(f, "ip link add link %s name %s", LJ_SHQ(s->master), LJ_SHQ(s->link));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	fprintf(f, " type macvlan mode %s\n", lj_macvlan_mode_name(s->u32));
}

static void hmacvlan_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", LJ_SHQ(s->link));
}

/* The parent is there and up; the macvlan itself is in the engine's sandbox (not back in
 * lanjoin's namespace, see why_back). */
static int hmacvlan_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			   size_t size)
{
	const struct lj_link *par = lj_status_link(v->host, s->master), *l = NULL;

	/* The macvlan by its record: its ifindex or its parent, and its MAC. */
	for (size_t i = 0; attached(v) && s->has_mac && i < v->host->n_links && !l; i++) {
		const struct lj_link *c = &v->host->links[i];

		if (strcmp(c->kind, "macvlan") == 0 && c->has_mac &&
		    memcmp(c->mac, s->mac, LJ_MAC_LEN) == 0 &&
		    ((s->i64 && c->ifindex == s->i64) || (par && c->parent == par->ifindex)))
			l = c;
	}
	if (l && let_go(v->rec)) {
		why_back(v, l, why, size);
		return LJ_VERIFY_TARGET_GONE;
	}
	if (!l && attached(v) && sandbox_gone(v->rec)) {
		snprintf(why, size, "its sandbox is gone, and the macvlan with it");
		return LJ_VERIFY_TARGET_GONE;
	}
	if (!l && attached(v) && sandbox_unmounted(v->rec) && macvlan_nowhere(v, s)) {
		char mac[LJ_MAC_STRLEN];

		snprintf(why, size,
			 "the macvlan (MAC %s) is in no namespace and its sandbox file is no "
			 "network namespace here: gone with the container's namespace",
			 lj_mac_to_string(s->mac, mac, sizeof(mac)));
		return LJ_VERIFY_TARGET_GONE;
	}
	if (!lj_status_need_link(v, LJ_HOST, s->master, true, why, size)) {
		size_t len = strlen(why);

		snprintf(why + len, size - len, " (the parent)");
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_handoff_macvlan = {
	.id = "handoff-macvlan",
	.apply = hmacvlan_apply,
	.verify = hmacvlan_verify,
	.undo = hmacvlan_undo,
	.describe = hmacvlan_describe,
	.describe_undo = hmacvlan_describe_undo,
	/* No save for the ifindex alone: until the commit saves it, the mark (a macvlan of the
	 * parent with s->mac: a parent's macvlans never share a MAC) finds the link, and the
	 * ifindex is only a hint (the engine's move out and back can renumber it). */
};

bool lj_handoff_ifname_in(const struct lj_record *rec, const struct lj_link *host, size_t n_host,
			  const struct lj_link *others, size_t n_others, char ret[IFNAMSIZ])
{
	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];
		bool veth = s->type == &lj_step_handoff_veth;
		int parent = 0;

		if ((!veth && s->type != &lj_step_handoff_macvlan) || !s->has_mac)
			continue;
		if (veth) {
			parent = (int)s->i64; /* the peer of the container end: the host end */
		} else {
			for (size_t k = 0; k < n_host; k++)
				if (strcmp(host[k].name, s->master) == 0)
					parent = host[k].ifindex;
		}
		if (parent <= 0)
			return false;
		for (size_t k = 0; k < n_others; k++) {
			const struct lj_link *l = &others[k];

			if (strcmp(l->kind, veth ? "veth" : "macvlan") == 0 && l->has_mac &&
			    memcmp(l->mac, s->mac, LJ_MAC_LEN) == 0 && l->parent == parent) {
				snprintf(ret, IFNAMSIZ, "%s", l->name);
				return true;
			}
		}
		return false;
	}
	return false;
}
