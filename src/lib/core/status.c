/* SPDX-License-Identifier: MIT */
/*
 * status: each record's steps compared, by their step types' verify, against one dump of the
 * links, addresses and routes of each namespace involved (lanjoin's own once, each target's
 * once however many attachments it has). Reads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/ctx.h"
#include "lib/core/handed.h"
#include "lib/core/status.h"
#include "lib/core/undo.h"
#include "lib/kernel/netns.h"
#include "lib/kernel/nft.h"
#include "lib/kernel/sysctl.h"

/* One value kept by lj_status_cached. */
struct lj_status_cache {
	struct lj_status_cache *next;
	char key[128];
	void *data;
	void (*drop)(void *data);
	int error;
	char why[256];
};

struct lj_status_caches {
	int netns_fd; /* owned; -1: this process's namespace */
	struct lj_status_cache *head;
};

static void caches_free(struct lj_status_caches *c)
{
	if (!c)
		return;
	while (c->head) {
		struct lj_status_cache *e = c->head;

		c->head = e->next;
		if (e->data && e->drop)
			e->drop(e->data);
		free(e);
	}
	if (c->netns_fd >= 0)
		close(c->netns_fd);
	free(c);
}

/* Run fill in the namespace netns_fd (-1: here). */
static int fill_in(int netns_fd, int (*fill)(void *arg, void **ret, char *why, size_t size),
		   void *arg, void **ret, char *why, size_t size)
{
	int orig = -1, r;

	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0) {
			snprintf(why, size, "cannot enter the namespace: %s", strerror(-r));
			return r;
		}
	}
	r = fill(arg, ret, why, size);
	if (netns_fd >= 0)
		lj_netns_leave(orig);
	return r;
}

int lj_status_cached(const struct lj_status_ns *ns, const char *key,
		     int (*fill)(void *arg, void **ret, char *why, size_t size), void *arg,
		     void (*drop)(void *data), void **ret, char *why, size_t size)
{
	struct lj_status_caches *c = ns ? ns->caches : NULL;
	struct lj_status_cache *e;

	*ret = NULL;
	if (!c) {
		snprintf(why, size, "no namespace read");
		return -EOPNOTSUPP;
	}
	for (e = c->head; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->drop = drop;
		e->error = fill_in(c->netns_fd, fill, arg, &e->data, e->why, sizeof(e->why));
		if (e->error < 0 && e->data && drop) {
			drop(e->data);
			e->data = NULL;
		}
		e->next = c->head;
		c->head = e;
	}
	if (e->error < 0) {
		snprintf(why, size, "%s", e->why);
		return e->error;
	}
	*ret = e->data;
	return 0;
}

static int nft_fill(void *arg, void **ret, char *why, size_t size)
{
	char err[256] = "";
	json_t *a = NULL;
	int r = lj_nft_list(arg, &a, err, sizeof(err));

	if (r < 0) {
		snprintf(why, size, "nft: %s", err[0] ? err : strerror(-r));
		return r;
	}
	*ret = a;
	return 0;
}

static void nft_drop(void *data)
{
	json_decref(data);
}

int lj_status_nft(const struct lj_status_ns *ns, const char *cmd, json_t **ret, char *why,
		  size_t size)
{
	void *data;
	int r = lj_status_cached(ns, cmd, nft_fill, (void *)cmd, nft_drop, &data, why, size);

	if (r < 0)
		return r;
	*ret = data;
	return 0;
}

static int sysctl_fill(void *arg, void **ret, char *why, size_t size)
{
	char buf[128];
	int r = lj_sysctl_read(arg, buf, sizeof(buf));

	if (r < 0) {
		snprintf(why, size, "cannot read sysctl %s: %s", (const char *)arg, strerror(-r));
		return r;
	}
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int lj_status_sysctl(const struct lj_status_ns *ns, const char *key, char *buf, size_t size)
{
	char k[128], why[256];
	void *data;
	int r;

	snprintf(k, sizeof(k), "sysctl %s", key);
	r = lj_status_cached(ns, k, sysctl_fill, (void *)key, free, &data, why, sizeof(why));
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", (const char *)data);
	return 0;
}

const struct lj_link *lj_status_link(const struct lj_status_ns *ns, const char *name)
{
	for (size_t i = 0; ns && i < ns->n_links; i++)
		if (strcmp(ns->links[i].name, name) == 0)
			return &ns->links[i];
	return NULL;
}

const struct lj_link *lj_status_link_index(const struct lj_status_ns *ns, int ifindex)
{
	for (size_t i = 0; ns && i < ns->n_links; i++)
		if (ns->links[i].ifindex == ifindex)
			return &ns->links[i];
	return NULL;
}

bool lj_status_has_addr(const struct lj_status_ns *ns, int ifindex, const struct lj_cidr *c)
{
	for (size_t i = 0; ns && i < ns->n_addrs; i++) {
		const struct lj_addr_info *a = &ns->addrs[i];

		if (a->ifindex == ifindex && a->cidr.prefixlen == c->prefixlen &&
		    lj_ip_equal(&a->cidr.ip, &c->ip))
			return true;
	}
	return false;
}

bool lj_status_has_route(const struct lj_status_ns *ns, const struct lj_cidr *dst,
			 const struct lj_ip *via, int oif, uint32_t table)
{
	uint32_t want = table ? table : 254; /* RT_TABLE_MAIN */

	for (size_t i = 0; ns && i < ns->n_routes; i++) {
		const struct lj_route_entry *e = &ns->routes[i];

		if (e->oif != oif || e->table != want || e->dst.prefixlen != dst->prefixlen ||
		    e->dst.ip.family != dst->ip.family)
			continue;
		if (dst->prefixlen && !lj_ip_equal(&e->dst.ip, &dst->ip))
			continue;
		if (via && via->family != AF_UNSPEC && !lj_ip_equal(&e->via, via))
			continue;
		return true;
	}
	return false;
}

const struct lj_link *lj_status_need_link(const struct lj_status_view *v, enum lj_where where,
					  const char *name, bool up, char *why, size_t size)
{
	const struct lj_link *l = lj_status_link(lj_status_where(v, where), name);
	const char *side = where == LJ_TARGET ? "in the target" : "on the host";

	if (!l) {
		snprintf(why, size, "link %s is missing %s", name, side);
		return NULL;
	}
	if (up && !(l->flags & IFF_UP)) {
		snprintf(why, size, "link %s is down %s", name, side);
		if (v->foreign_down &&
		    (where != LJ_HOST || !v->rec || strcmp(name, v->rec->host_ifname) != 0))
			*v->foreign_down = where == LJ_HOST;
		return NULL;
	}
	return l;
}

int lj_status_mac_kept(const struct lj_link *l, const struct lj_step *s, enum lj_where where,
		       char *why, size_t size)
{
	char a[LJ_MAC_STRLEN], b[LJ_MAC_STRLEN];

	if (!s->has_mac || !l->has_mac || memcmp(l->mac, s->mac, LJ_MAC_LEN) == 0)
		return 0;
	snprintf(why, size, "%s %s has MAC %s, not %s", l->name,
		 where == LJ_TARGET ? "in the target" : "on the host",
		 lj_mac_to_string(l->mac, a, sizeof(a)), lj_mac_to_string(s->mac, b, sizeof(b)));
	return LJ_VERIFY_DRIFTED;
}

int lj_status_verify_bridge(const struct lj_status_view *v, const struct lj_step *s, char *why,
			    size_t size)
{
	const struct lj_link *l = lj_status_need_link(v, LJ_HOST, s->link, true, why, size);

	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (strcmp(l->kind, "bridge") != 0) {
		snprintf(why, size, "%s is no longer a bridge", s->link);
		return LJ_VERIFY_DRIFTED;
	}
	return lj_status_mac_kept(l, s, LJ_HOST, why, size);
}

const char *lj_status_kind_str(enum lj_status_kind k)
{
	switch (k) {
	case LJ_STATUS_OK:
		return "ok";
	case LJ_STATUS_DRIFTED:
		return "drifted";
	case LJ_STATUS_TARGET_GONE:
		return "target-gone";
	case LJ_STATUS_TARGET_RESTARTED:
		return "target-restarted";
	case LJ_STATUS_SETTLING:
		return "settling";
	}
	return "?";
}

void lj_status_ns_free(struct lj_status_ns *ns)
{
	free(ns->links);
	free(ns->addrs);
	free(ns->routes);
	caches_free(ns->caches);
	memset(ns, 0, sizeof(*ns));
}

int lj_status_ns_dump(struct lj_nl *nl, int netns_fd, struct lj_status_ns *ns)
{
	struct lj_route_entry *r6 = NULL, *all;
	size_t n6 = 0;
	int r;

	memset(ns, 0, sizeof(*ns));
	ns->caches = calloc(1, sizeof(*ns->caches));
	if (!ns->caches)
		return -ENOMEM;
	ns->caches->netns_fd = -1;
	if (netns_fd >= 0) {
		ns->caches->netns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
		if (ns->caches->netns_fd < 0) {
			r = -errno;
			lj_status_ns_free(ns);
			return r;
		}
	}
	r = lj_link_list(nl, &ns->links, &ns->n_links);
	if (r == 0)
		r = lj_addr_dump(nl, AF_UNSPEC, 0, &ns->addrs, &ns->n_addrs);
	if (r == 0)
		r = lj_route_list(nl, AF_INET, &ns->routes, &ns->n_routes);
	if (r == 0)
		r = lj_route_list(nl, AF_INET6, &r6, &n6);
	if (r == 0 && n6) {
		all = realloc(ns->routes, (ns->n_routes + n6) * sizeof(*all));
		if (!all) {
			r = -ENOMEM;
		} else {
			memcpy(all + ns->n_routes, r6, n6 * sizeof(*all));
			ns->routes = all;
			ns->n_routes += n6;
		}
	}
	free(r6);
	if (r < 0)
		lj_status_ns_free(ns);
	return r;
}

/* The target namespaces dumped so far, by identity. */
struct ns_cache {
	struct {
		struct lj_netns_id id;
		struct lj_status_ns ns;
		int error;
	} * v;
	size_t n, cap;
};

static void ns_cache_free(struct ns_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		lj_status_ns_free(&c->v[i].ns);
	free(c->v);
}

/* The dump of t's namespace, made now if it is the first record there. -errno on failure. */
static int ns_cache_get(struct ns_cache *c, struct lj_nl *host, const struct lj_target *t,
			const struct lj_status_ns **ret)
{
	struct lj_ctx ctx;
	int r;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].id.dev == t->id.dev && c->v[i].id.ino == t->id.ino) {
			*ret = &c->v[i].ns;
			return c->v[i].error;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *v = realloc(c->v, cap * sizeof(*c->v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].id = t->id;
	r = lj_ctx_open(&ctx, host, t);
	if (r == 0)
		r = ctx.target ? lj_status_ns_dump(ctx.target, ctx.target_fd, &c->v[c->n].ns)
			       : -ENOENT;
	lj_ctx_close(&ctx);
	c->v[c->n].error = r;
	*ret = &c->v[c->n].ns;
	c->n++;
	return r;
}

/* Append "; text" (or text) to e->what, unless it says text already (several steps of
 * one link find it missing: once is enough), also with or without a closing remark in
 * parentheses ("link br0 is down on the host" and "... (the bridge)" are one fault). */
static void add_what(struct lj_status_entry *e, const char *text)
{
	size_t len = strlen(e->what), n = strlen(text);
	const char *paren = strstr(text, " (");
	char core[sizeof(e->what)];

	if (paren && n && text[n - 1] == ')')
		n = (size_t)(paren - text); /* compare without the remark */
	snprintf(core, sizeof(core), "%.*s", (int)n, text);
	for (const char *p = e->what; (p = strstr(p, core)); p += n)
		if ((p == e->what || (p >= e->what + 2 && p[-2] == ';' && p[-1] == ' ')) &&
		    (p[n] == '\0' || p[n] == ';' || (p[n] == ' ' && p[n + 1] == '(')))
			return;

	snprintf(e->what + len, sizeof(e->what) - len, "%s%s", len ? "; " : "", text);
}

/* The file of a named namespace target ("netns:NAME" → LJ_NETNS_RUN_DIR/NAME), or spec. */
static const char *netns_file(const char *spec, char *buf, size_t size)
{
	if (strncmp(spec, "netns:", 6) != 0)
		return spec;
	snprintf(buf, size, "%s/%s", LJ_NETNS_RUN_DIR, spec + 6);
	return buf;
}

/* Is rec for the TARGET the user named (netns:NAME and its file LJ_NETNS_RUN_DIR/NAME are one)? */
static bool target_matches(const struct lj_record *rec, const char *target)
{
	char a[LJ_TARGET_SPEC_MAX + 32], b[LJ_TARGET_SPEC_MAX + 32];

	return !target || strcmp(rec->target_spec, target) == 0 ||
	       strcmp(rec->target_name, target) == 0 ||
	       (rec->container_id[0] && strcmp(rec->container_id, target) == 0) ||
	       strcmp(netns_file(rec->target_spec, a, sizeof(a)),
		      netns_file(target, b, sizeof(b))) == 0;
}

/*
 * Is rec an attachment of want, the TARGET resolved now: its container by ID (renamed since
 * the record was made, or named by another ID prefix) or its network namespace (a container
 * that shares another's, --network container:NAME; a pid: in it), as detach finds it. A link
 * handed to an engine is recorded in lanjoin's own namespace: not by namespace.
 */
static bool resolved_matches(const struct lj_record *rec, const struct lj_target *want)
{
	if (want->container_id[0] && strcmp(rec->container_id, want->container_id) == 0)
		return true;
	if (rec->netns.dev == rec->host_netns.dev && rec->netns.ino == rec->host_netns.ino)
		return false;
	return lj_record_in_netns(rec, want);
}

/*
 * Is rec a Docker plugin endpoint of target (a container, resolved through its engine, once,
 * into *owner: its sandbox and endpoints; or a namespace, by identity)? Its record names the
 * sandbox, not the container the user knows it by.
 */
static bool handed_matches(const struct lj_record *rec, const char *target,
			   struct lj_handed_owner **owner)
{
	if (!target || !lj_record_handed(rec))
		return false;
	if (!*owner) {
		*owner = calloc(1, sizeof(**owner));
		if (!*owner)
			return false;
		lj_handed_owner_get(target, *owner); /* on failure: known false, matches none */
	}
	return lj_handed_owned(*owner, rec, NULL);
}

/* What the target of a record is now, as far as it can be told without its recorded
 * namespace: one question to a container's engine at most. */
enum target_now {
	TARGET_UNKNOWN, /* not asked, or no answer that decides */
	TARGET_SAME,	/* the same namespace as recorded */
	TARGET_OTHER,	/* another namespace: the container restarted, the name made again */
	TARGET_STOPPED, /* its engine says the container exists and is stopped */
};

/*
 * Where is the target of rec now? For a netns name or path: the namespace the name leads to.
 * For a container: its engine's answer (one inspect). Only the container's own engine can
 * say "stopped" of its 64-digit ID (-ESRCH); "no such container" may be another engine's
 * answer, and so may an engine that cannot be asked: both are TARGET_UNKNOWN, and the
 * recorded namespace then decides. Docker releases a stopped container's sandbox a moment
 * after its die event, and a restarted one's old namespace may live on a moment too.
 * On TARGET_SAME, *ret is the target, open (the caller closes it); else ret->netns_fd is -1.
 */
static enum target_now target_now(const struct lj_record *rec, struct lj_target *ret,
				  char name[LJ_TARGET_SPEC_MAX])
{
	struct lj_target t = {.netns_fd = -1};
	enum target_now now;
	int r;

	/* A link handed to an engine: the target is lanjoin's own namespace, the spec names
	 * the engine's sandbox (another namespace by design). */
	if (rec->netns.dev == rec->host_netns.dev && rec->netns.ino == rec->host_netns.ino)
		return TARGET_UNKNOWN;
	if (rec->target_kind == LJ_TARGET_NETNS || rec->target_kind == LJ_TARGET_PATH) {
		if (lj_target_parse(rec->target_spec, &t) < 0 || lj_target_open(&t) < 0)
			return TARGET_UNKNOWN;
	} else if (rec->target_kind == LJ_TARGET_CONTAINER && rec->container_id[0]) {
		r = lj_target_reopen(rec->target_spec, rec->container_id, 0, &t);
		if ((r == 0 || r == -ESRCH) && t.kind == LJ_TARGET_CONTAINER)
			snprintf(name, LJ_TARGET_SPEC_MAX, "%s", t.name);
		if (r < 0) {
			lj_target_close(&t);
			return r == -ESRCH ? TARGET_STOPPED : TARGET_UNKNOWN;
		}
		if (t.kind != LJ_TARGET_CONTAINER) {
			lj_target_close(&t);
			return TARGET_UNKNOWN;
		}
	} else {
		return TARGET_UNKNOWN;
	}
	/* the cookie too: a new namespace can get the inode number the old one had */
	now = t.id.dev != rec->netns.dev || t.id.ino != rec->netns.ino ||
			      (rec->netns_cookie && t.cookie && t.cookie != rec->netns_cookie)
		      ? TARGET_OTHER
		      : TARGET_SAME;
	if (now == TARGET_SAME)
		*ret = t;
	else
		lj_target_close(&t);
	return now;
}

/* Compare e->rec's steps against the dumps. */
static void verify_record(struct lj_status_entry *e, const struct lj_status_ns *host,
			  const struct lj_status_ns *target)
{
	bool foreign_down = false, down = false, other = e->what[0] != '\0';
	struct lj_status_view v = {
		.host = host, .target = target, .rec = &e->rec, .foreign_down = &foreign_down};

	for (size_t i = 0; i < e->rec.plan.n; i++) {
		const struct lj_step *s = &e->rec.plan.steps[i];
		char why[256] = "";
		int r;

		if (!s->type->verify) {
			e->unchecked++;
			continue;
		}
		foreign_down = false;
		r = s->type->verify(&v, s, why, sizeof(why));
		if (r == LJ_VERIFY_DRIFTED && foreign_down)
			down = true;
		else if (r != 0)
			other = true;
		if (r == LJ_VERIFY_TARGET_GONE) {
			e->kind = LJ_STATUS_TARGET_GONE;
			add_what(e, why[0] ? why : s->what);
			return;
		}
		if (r == LJ_VERIFY_DRIFTED) {
			e->kind = LJ_STATUS_DRIFTED;
			add_what(e, why[0] ? why : s->what);
		} else if (r < 0) {
			char buf[320];

			e->kind = LJ_STATUS_DRIFTED;
			snprintf(buf, sizeof(buf), "cannot check '%s': %s", s->what,
				 why[0] ? why : strerror(-r));
			add_what(e, buf);
		}
	}
	e->waits_for_link = down && !other;
}

/*
 * A gone target's nat rules that forward to an address of its own (--to, an engine network's
 * address): the engine gives that address to the next container, and the rules forward the
 * LAN address to it until the record is undone. Say so, if the rules are still in place.
 */
static void gone_forward(struct lj_status_entry *e, const struct lj_status_ns *host)
{
	const char *to = json_string_value(json_object_get(e->rec.info, "to"));
	const char *addr = json_string_value(json_object_get(e->rec.info, "address"));
	struct lj_status_view v = {.host = host, .rec = &e->rec};

	if (!to || !addr)
		return;
	for (size_t i = 0; i < e->rec.plan.n; i++) {
		const struct lj_step *s = &e->rec.plan.steps[i];
		char why[256] = "", buf[512];

		if (s->where != LJ_HOST || !(s->type->nft & LJ_STEP_NFT_OWN) || !s->type->verify ||
		    s->type->verify(&v, s, why, sizeof(why)) != 0)
			continue;
		snprintf(buf, sizeof(buf),
			 "its NAT rules still forward %s to %s, an address the engine may have "
			 "given to another container ('lanjoin reconcile' or 'lanjoin gc' removes "
			 "them)",
			 addr, to);
		add_what(e, buf);
		return;
	}
}

/*
 * A nat attachment with --to: the target answers a LAN host through the route it has to the
 * LAN (its best route to the LAN address, as to any host of that subnet). On another link
 * than the one holding the forward's address and not through the host (directly, or via a
 * router that is not one of the host's addresses), e.g. a macvlan on the same LAN (a lanjoin
 * Docker network beside Docker's bridge), the replies leave there untranslated (from the
 * private address, to the LAN host directly) and the LAN host drops them; Docker's -p breaks
 * alike. (Via the host, through another of its engine networks, conntrack translates them
 * all the same.) Nothing drifted and a repair changes nothing: a warning, naming the way out.
 */
static void nat_reply_path(struct lj_status_entry *e, const struct lj_status_ns *host,
			   const struct lj_status_ns *tns)
{
	const char *to = json_string_value(json_object_get(e->rec.info, "to"));
	const char *addr = json_string_value(json_object_get(e->rec.info, "address"));
	const struct lj_route_entry *best = NULL;
	const struct lj_link *out, *in;
	char d[LJ_CIDR_STRLEN];
	struct lj_cidr lan;
	struct lj_ip ip;
	int toif = 0;

	if (!tns || strcmp(e->rec.way, "nat") != 0 || !to || !addr || lj_parse_ip(to, &ip) < 0 ||
	    lj_parse_cidr(addr, true, &lan) < 0)
		return;
	for (size_t i = 0; i < tns->n_addrs && !toif; i++)
		if (lj_ip_equal(&tns->addrs[i].cidr.ip, &ip))
			toif = tns->addrs[i].ifindex;
	if (!toif)
		return; /* drift: the rules' check says so */
	for (size_t i = 0; i < tns->n_routes; i++) {
		const struct lj_route_entry *r = &tns->routes[i];

		if (r->table != RT_TABLE_MAIN || r->type != RTN_UNICAST || !r->oif ||
		    !lj_cidr_contains(&r->dst, &lan.ip))
			continue;
		if (!best || r->dst.prefixlen > best->dst.prefixlen)
			best = r;
	}
	if (!best || best->oif == toif)
		return;
	/* a source route of lanjoin's (an attachment beside it that set the default route) sends
	 * replies from that address back through their own link: they reach the host */
	for (size_t i = 0; i < tns->n_routes; i++)
		if (tns->routes[i].table >= LJ_SRC_TABLE_BASE &&
		    tns->routes[i].table < LJ_SRC_TABLE_END && tns->routes[i].oif == toif &&
		    lj_cidr_contains(&tns->routes[i].dst, &lan.ip))
			return;
	for (size_t i = 0; best->via.family != AF_UNSPEC && i < host->n_addrs; i++)
		if (lj_ip_equal(&host->addrs[i].cidr.ip, &best->via))
			return; /* back through the host */
	out = lj_status_link_index(tns, best->oif);
	in = lj_status_link_index(tns, toif);
	snprintf(e->warning, sizeof(e->warning),
		 "its replies to the LAN leave the target through %s (its route %s), not "
		 "through %s where the forward's address %.46s is: they go out untranslated and "
		 "LAN hosts drop them (a link on the same LAN, e.g. a macvlan or a lanjoin "
		 "Docker network; Docker's -p breaks alike): reach it at its own LAN address "
		 "there, or take that link away (docker network disconnect NETWORK %.128s)",
		 out ? out->name : "another link",
		 best->dst.prefixlen ? lj_cidr_to_string(&best->dst, d, sizeof(d)) : "default",
		 in ? in->name : "the link", to,
		 e->rec.target_name[0] ? e->rec.target_name : e->rec.target_spec);
}

/*
 * Append the uplink adoptions recorded from this namespace (state subdirectory "uplinks"; with
 * target, only the one of that bridge) to *out (k entries so far): their steps checked against
 * the host's dump like an attachment's (the bridge, its MAC, DEV its port). *ret_bad: how
 * many adoption records could not be read. 0 or -errno.
 */
static int add_uplinks(const char *target, const struct lj_status_ns *host,
		       struct lj_status_entry **out, size_t *k, size_t *ret_bad)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct stat me;
	size_t n = 0, bad = 0;
	void *grown;
	int r;

	if (stat("/proc/self/ns/net", &me) < 0)
		return -errno;
	r = lj_state_open_read("uplinks", &st);
	if (r == 0)
		r = lj_state_list(st, &recs, &n, &bad);
	lj_state_close(st);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	*ret_bad = bad;
	grown = realloc(*out, (*k + n + 1) * sizeof(**out));
	if (!grown) {
		lj_records_free(recs, n);
		return -ENOMEM;
	}
	*out = grown;
	for (size_t i = 0; i < n; i++) {
		struct lj_status_entry *e = &(*out)[*k];

		if ((target && strcmp(recs[i].ifname, target) != 0) ||
		    recs[i].netns.dev != me.st_dev || recs[i].netns.ino != me.st_ino) {
			lj_record_free(&recs[i]);
			continue;
		}
		memset(e, 0, sizeof(*e));
		e->rec = recs[i];
		e->adoption = true;
		(*k)++;
		if (strcmp(e->rec.status, "adopted") != 0 && strcmp(e->rec.status, "attached") != 0)
			add_what(e, "an adoption did not finish (run 'lanjoin gc')");
		verify_record(e, host, NULL);
		if (e->what[0])
			e->kind = LJ_STATUS_DRIFTED;
	}
	free(recs);
	return 0;
}

bool lj_status_gone(const struct lj_status_ns *host, const struct lj_record *rec, char *why,
		    size_t size)
{
	struct lj_status_view v = {.host = host, .rec = rec};

	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];

		why[0] = '\0';
		if (s->type->verify && s->where == LJ_HOST &&
		    s->type->verify(&v, s, why, size) == LJ_VERIFY_TARGET_GONE)
			return true;
	}
	why[0] = '\0';
	return false;
}

bool lj_record_alive(const struct lj_record *rec)
{
	struct lj_status_ns host = {0};
	struct lj_netns_id self;
	struct lj_nl *nl = NULL;
	char why[512];
	struct stat st;
	bool gone;

	if (!lj_record_handed(rec))
		return lj_target_alive(rec->target_spec, &rec->netns, rec->netns_cookie);
	if (rec->target_spec[0] == '/' && lstat(rec->target_spec, &st) < 0 && errno == ENOENT)
		return false;
	/* A Join in progress, or a record of another namespace's links: not judged here. */
	if (strcmp(rec->status, "attached") != 0 || lj_netns_self_id(&self) < 0 ||
	    (rec->host_netns.ino &&
	     (rec->host_netns.dev != self.dev || rec->host_netns.ino != self.ino)))
		return true;
	if (lj_nl_open(-1, &nl) < 0)
		return true;
	if (lj_status_ns_dump(nl, -1, &host) < 0) {
		lj_nl_close(nl);
		return true;
	}
	gone = lj_status_gone(&host, rec, why, sizeof(why));
	lj_status_ns_free(&host);
	lj_nl_close(nl);
	return !gone;
}

int lj_status(const char *target, struct lj_status_entry **ret, size_t *ret_n,
	      struct lj_result *res)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct lj_status_entry *out;
	struct lj_status_ns host = {0};
	struct ns_cache cache = {0};
	struct lj_handed_owner *owner = NULL;	  /* target's, for the Docker plugin's endpoints */
	struct lj_target want = {.netns_fd = -1}; /* target resolved, once */
	struct lj_ctx hctx;
	size_t n = 0, k = 0;
	int r;

	memset(res, 0, sizeof(*res));
	*ret = NULL;
	*ret_n = 0;
	r = lj_undo_load_records(false, NULL, NULL, &st, &recs, &n, res);
	if (r < 0)
		return r;
	lj_state_close(st); /* the targets' engines may be slow: no lock held meanwhile */
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		lj_records_free(recs, n);
		return lj_fail(res, -ENOMEM, "Out of memory");
	}
	r = lj_ctx_open(&hctx, NULL, NULL);
	if (r == 0)
		r = lj_status_ns_dump(hctx.host, -1, &host);
	if (r < 0) {
		lj_ctx_close(&hctx);
		lj_records_free(recs, n);
		free(out);
		return lj_fail(res, r,
			       "Failed to read this namespace's links, addresses and routes: %s",
			       strerror(-r));
	}
	if (n && target && lj_target_parse(target, &want) == 0 && lj_target_open(&want) < 0)
		lj_target_close(&want); /* gone or stopped: its container ID may still match */
	for (size_t i = 0; i < n; i++) {
		struct lj_status_entry *e;
		struct lj_target t = {.netns_fd = -1};
		const struct lj_status_ns *tns = NULL;
		enum target_now now;

		if (!target_matches(&recs[i], target) && !resolved_matches(&recs[i], &want) &&
		    !handed_matches(&recs[i], target, &owner)) {
			lj_record_free(&recs[i]);
			continue;
		}
		e = &out[k++];
		e->rec = recs[i];
		if (lj_record_settling_live(&e->rec)) {
			char buf[128];

			/* its attach is still at work (a DHCP lease, DAD): what it made is its
			 * own to finish or roll back, no drift */
			e->kind = LJ_STATUS_SETTLING;
			snprintf(buf, sizeof(buf),
				 "its attach (PID %" PRId64 ") still waits for its addresses",
				 e->rec.owner_pid);
			add_what(e, buf);
			continue;
		}
		if (strcmp(e->rec.status, "attached") != 0) {
			e->kind = LJ_STATUS_DRIFTED;
			if (lj_record_detach_interrupted(&e->rec))
				add_what(e, "detaching: interrupted, run 'lanjoin detach' or "
					    "'lanjoin gc'");
			else if (strcmp(e->rec.status, "detaching") == 0)
				add_what(e, "detaching: its detach is running");
			if (strcmp(e->rec.status, "detaching") == 0)
				continue; /* going: what is left of it is no drift */
			else
				add_what(e, "an attach did not finish (run 'lanjoin gc')");
		}
		if (json_is_string(json_object_get(e->rec.info, "repair_failed"))) {
			char buf[400];

			/* lanjoin reconcile could not repair it: say why */
			e->kind = LJ_STATUS_DRIFTED;
			snprintf(buf, sizeof(buf), "its repair failed: %s",
				 json_string_value(json_object_get(e->rec.info, "repair_failed")));
			add_what(e, buf);
		}
		now = target_now(&e->rec, &t, e->container_name); /* one inspect per container */
		if (now == TARGET_STOPPED) {
			e->kind = LJ_STATUS_TARGET_GONE;
			gone_forward(e, &host);
			continue;
		}
		if (now != TARGET_SAME && !lj_undo_open_alive(&e->rec, &t)) {
			e->kind = now == TARGET_OTHER ? LJ_STATUS_TARGET_RESTARTED
						      : LJ_STATUS_TARGET_GONE;
			gone_forward(e, &host);
			continue;
		}
		/* The engine may release a restarted container's old namespace a moment after
		 * its start event: still there is not still used. */
		if (now == TARGET_OTHER) {
			lj_target_close(&t);
			e->kind = LJ_STATUS_TARGET_RESTARTED;
			continue;
		}
		r = ns_cache_get(&cache, hctx.host, &t, &tns);
		lj_target_close(&t);
		if (r < 0) {
			char buf[128];

			e->kind = LJ_STATUS_DRIFTED;
			snprintf(buf, sizeof(buf), "cannot read the target's network: %s",
				 strerror(-r));
			add_what(e, buf);
			continue;
		}
		verify_record(e, &host, tns);
		nat_reply_path(e, &host, tns);
	}
	free(recs);
	lj_target_close(&want);
	lj_handed_owner_free(owner);
	free(owner);
	r = add_uplinks(target, &host, &out, &k, &res->bad_uplinks);
	ns_cache_free(&cache);
	lj_status_ns_free(&host);
	lj_ctx_close(&hctx);
	lj_undo_netns_index_drop();
	if (r < 0) {
		lj_status_free(out, k);
		return lj_fail(res, r,
			       "Failed to read the uplink adoption records in %s/uplinks: %s",
			       lj_state_dir(), strerror(-r));
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

void lj_status_free(struct lj_status_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_record_free(&e[i].rec);
	free(e);
}
