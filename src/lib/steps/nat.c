/* SPDX-License-Identifier: MIT */
/*
 * Plan steps of the nat way that are not rtnetlink: gratuitous ARP, the IPv4 forwarding
 * sysctl, the NAT rules in lanjoin's own nft table (the accept rules in Docker's filter chains:
 * fw-accept.c).
 */
#include "lib/steps/nat.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/arp.h"
#include "lib/kernel/nft.h"
#include "lib/core/status.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/* --- garp: link = uplink, cidr = address; apply only ------------------------------------- */

static int garp_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int r = lj_arp_announce(s->where == LJ_TARGET ? ctx->target_fd : -1, s->link, &s->cidr.ip,
				s->has_mac ? s->mac : NULL);

	if (r < 0)
		lj_ctx_detail(ctx, "cannot send a gratuitous ARP on '%s'", s->link);
	return r;
}

static void garp_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char a[LJ_IP_STRLEN];

	fprintf(f, "%sbusybox arping -q -U -c 1 -I %s %s   # gratuitous ARP\n",
		s->where == LJ_TARGET ? "# in the target: " : "", LJ_SHQ(s->link),
		lj_ip_to_string(&s->cidr.ip, a, sizeof(a)));
}

static int garp_again(struct lj_ctx *ctx, const struct lj_step *s)
{
	return lj_arp_announce(s->where == LJ_TARGET ? ctx->target_fd : -1, s->link, &s->cidr.ip,
			       s->has_mac ? s->mac : NULL);
}

/* Nothing to check of an announcement, but the uplink it was sent on must still be up. */
static int garp_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		       size_t size)
{
	size_t len;

	if (s->where != LJ_HOST || lj_status_need_link(v, LJ_HOST, s->link, true, why, size))
		return 0;
	len = strlen(why);
	snprintf(why + len, size - len, " (the uplink)");
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_garp = {
	.id = "garp",
	.apply = garp_apply,
	.verify = garp_verify,
	.describe = garp_describe,
	.announce = garp_again,
};

/* --- lanjoin's nft table ------------------------------------------------------------------ */

/*
 * table ip lanjoin: two verdict maps and three base chains, made by the first attachment and
 * removed with the last; each attachment adds two regular chains and one element per map:
 *
 *   map inbound { ipv4_addr : verdict }   LAN address       -> jump lj<id>_dnat
 *   map outbound { ipv4_addr : verdict }   private address   -> jump lj<id>_snat
 *   prerouting, output (nat, -110):  ip daddr vmap @inbound   (before dstnat, -100)
 *   postrouting        (nat,   90):  ip saddr vmap @outbound   (before srcnat, 100)
 *
 * Attaching and detaching thus never register or unregister netfilter hooks (each costs the
 * kernel an RCU grace period), and a packet costs one map lookup however many are attached.
 */
#define NAT_TABLE "lanjoin"
#define NAT_PRIO_DNAT (-110)
#define NAT_PRIO_SNAT 90

static const char nat_skeleton[] =
	"add table ip " NAT_TABLE "\n"
	"add map ip " NAT_TABLE " inbound { type ipv4_addr : verdict; }\n"
	"add map ip " NAT_TABLE " outbound { type ipv4_addr : verdict; }\n"
	"add chain ip " NAT_TABLE
	" prerouting { type nat hook prerouting priority -110; policy accept; }\n"
	"add chain ip " NAT_TABLE " output { type nat hook output priority -110; policy accept; }\n"
	"add chain ip " NAT_TABLE
	" postrouting { type nat hook postrouting priority 90; policy accept; }\n"
	"add rule ip " NAT_TABLE " prerouting ip daddr vmap @inbound\n"
	"add rule ip " NAT_TABLE " output ip daddr vmap @inbound\n"
	"add rule ip " NAT_TABLE " postrouting ip saddr vmap @outbound\n";

/* What the table holds now (from `nft -j list table ip lanjoin`). */
struct nat_table {
	bool exists;
	bool skeleton; /* both maps and the three base chains are there */
	json_t *objs;  /* the listing (owned) */
};

static void nat_table_done(struct nat_table *t)
{
	json_decref(t->objs);
	t->objs = NULL;
}

static bool has_object(json_t *objs, const char *kind, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(objs, i, o)
	{
		const char *n =
			json_string_value(json_object_get(json_object_get(o, kind), "name"));
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* t from a listing of the table (objs: a reference is taken; NULL: the table is missing). */
static void nat_table_from(struct nat_table *t, json_t *objs)
{
	memset(t, 0, sizeof(*t));
	if (!objs)
		return;
	t->objs = json_incref(objs);
	t->exists = true;
	t->skeleton = has_object(t->objs, "map", "inbound") &&
		      has_object(t->objs, "map", "outbound") &&
		      has_object(t->objs, "chain", "prerouting") &&
		      has_object(t->objs, "chain", "output") &&
		      has_object(t->objs, "chain", "postrouting");
}

static int nat_table_read(struct nat_table *t, char *err, size_t errsize)
{
	json_t *objs = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = lj_nft_list("list table ip " NAT_TABLE, &objs, err, errsize);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	nat_table_from(t, objs);
	json_decref(objs);
	return 0;
}

/*
 * Whether the table and its skeleton exist (t->objs stays NULL), with one nf_tables request
 * per object: a listing grows with every attachment (two chains, two elements each). When the
 * kernel does not answer (no rights, no nf_tables), the listing says why.
 */
static int nat_table_probe(struct nat_table *t, char *err, size_t errsize)
{
	struct lj_nft_query q[] = {
		{.kind = LJ_NFT_TABLE, .name = NAT_TABLE},
		{.kind = LJ_NFT_SET, .name = "inbound"},
		{.kind = LJ_NFT_SET, .name = "outbound"},
		{.kind = LJ_NFT_CHAIN, .name = "prerouting"},
		{.kind = LJ_NFT_CHAIN, .name = "output"},
		{.kind = LJ_NFT_CHAIN, .name = "postrouting"},
	};
	int r;

	memset(t, 0, sizeof(*t));
	if (lj_nft_lookup(NFPROTO_IPV4, NAT_TABLE, q, ARRAY_SIZE(q)) < 0) {
		r = nat_table_read(t, err, errsize);
		nat_table_done(t);
		return r;
	}
	t->exists = q[0].found;
	t->skeleton = t->exists;
	for (size_t i = 1; i < ARRAY_SIZE(q); i++)
		t->skeleton &=
			q[i].found && (q[i].kind != LJ_NFT_SET || (q[i].set_flags & NFT_SET_MAP));
	return 0;
}

int lj_nat_table_read(bool *ret_exists, bool *ret_skeleton, char *err, size_t errsize)
{
	struct nat_table t;
	int r = nat_table_probe(&t, err, errsize);

	if (r < 0)
		return r;
	*ret_exists = t.exists;
	*ret_skeleton = t.skeleton;
	nat_table_done(&t);
	return 0;
}

/* True if chain name is "lj…<suffix>". */
static bool attachment_chain(const char *name, const char *suffix)
{
	size_t len = strlen(name), slen = strlen(suffix);

	return strncmp(name, "lj", 2) == 0 && len > slen + 2 &&
	       strcmp(name + len - slen, suffix) == 0;
}

/* The number of attachments with NAT rules (one "lj…_snat" chain each) in t. */
static int count_users(const struct nat_table *t)
{
	json_t *o;
	size_t i;
	int users = 0;

	json_array_foreach(t->objs, i, o)
	{
		const char *n =
			json_string_value(json_object_get(json_object_get(o, "chain"), "name"));
		if (n && attachment_chain(n, "_snat"))
			users++;
	}
	return users;
}

/* The table's chains as nf_tables dumps them (no listing): users, and the two asked for. */
struct nat_chains {
	const char *dnat, *snat; /* NULL: not asked */
	bool has_dnat, has_snat;
	int users;
};

static void nat_chain_cb(const char *name, void *data)
{
	struct nat_chains *c = data;

	c->users += attachment_chain(name, "_snat");
	c->has_dnat |= c->dnat && strcmp(name, c->dnat) == 0;
	c->has_snat |= c->snat && strcmp(name, c->snat) == 0;
}

int lj_nat_users(char *err, size_t errsize)
{
	struct nat_chains c = {0};
	struct nat_table t;
	int r;

	if (lj_nft_chains(NFPROTO_IPV4, NAT_TABLE, nat_chain_cb, &c) == 0)
		return c.users;
	r = nat_table_read(&t, err, errsize);

	if (r < 0)
		return r;
	r = count_users(&t);
	nat_table_done(&t);
	return r;
}

/* Whether chain name is "<base>_snat" of one of p's nft-nat steps (p NULL: none). */
static bool own_snat(const struct lj_plan *p, const char *name)
{
	size_t len;

	for (size_t i = 0; p && i < p->n; i++) {
		const struct lj_step *s = &p->steps[i];

		if (s->type != &lj_step_nat_rules)
			continue;
		len = strlen(s->link);
		if (strncmp(name, s->link, len) == 0 && strcmp(name + len, "_snat") == 0)
			return true;
	}
	return false;
}

struct users_besides {
	const struct lj_plan *p;
	int users;
};

static void users_besides_cb(const char *name, void *data)
{
	struct users_besides *u = data;

	u->users += attachment_chain(name, "_snat") && !own_snat(u->p, name);
}

int lj_nat_users_besides(const struct lj_plan *p)
{
	struct users_besides u = {p, 0};
	int r = lj_nft_chains(NFPROTO_IPV4, NAT_TABLE, users_besides_cb, &u);

	return r == -ENOENT ? 0 : r < 0 ? r : u.users;
}

/* --- nat-rules: link = chain base "lj<id>", cidr = LAN address, via = DNAT target,
 *     text = published ports ("tcp/80:80 udp/53:5353") or NULL for all ---------------- */

static int parse_publish_list(const char *text, struct lj_publish *v, size_t max, size_t *ret_n)
{
	char buf[64];
	size_t n = 0;
	const char *p = text;

	while (p && *p) {
		size_t len = strcspn(p, " ");
		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(buf) || n == max)
			return -EINVAL;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (lj_parse_publish(buf, &v[n]) < 0)
			return -EINVAL;
		n++;
		p += len;
	}
	*ret_n = n;
	return 0;
}

bool lj_nat_iif_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@+") ==
	       n;
}

static int nat_step_check(const struct lj_step *s)
{
	if (!lj_nft_name_valid(s->link) || strlen(s->link) > 40 || s->cidr.ip.family != AF_INET ||
	    s->via.family != AF_INET || (s->master[0] && !lj_nat_iif_valid(s->master)))
		return -EBADMSG;
	return 0;
}

int lj_nat_rules_text(const struct lj_step *s, bool skeleton, char **ret)
{
	struct lj_publish pub[64];
	char a[LJ_IP_STRLEN], c[LJ_IP_STRLEN];
	char *buf = NULL;
	size_t size = 0, n = 0;
	FILE *f;

	if (nat_step_check(s) < 0 || parse_publish_list(s->text, pub, ARRAY_SIZE(pub), &n) < 0)
		return -EBADMSG;
	lj_ip_to_string(&s->cidr.ip, a, sizeof(a));
	lj_ip_to_string(&s->via, c, sizeof(c));
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	if (skeleton)
		fputs(nat_skeleton, f);
	fprintf(f, "create chain ip " NAT_TABLE " %s_dnat\n", s->link);
	if (n == 0)
		fprintf(f, "add rule ip " NAT_TABLE " %s_dnat dnat to %s\n", s->link, c);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "add rule ip " NAT_TABLE " %s_dnat %s dport %u dnat to %s:%u\n", s->link,
			pub[i].proto == IPPROTO_UDP ? "udp" : "tcp", pub[i].port, c, pub[i].cport);
	fprintf(f, "create chain ip " NAT_TABLE " %s_snat\n", s->link);
	/*
	 * The source address alone does not say who sent it (a raw socket sends with any):
	 * only what arrives on the attachment's own interface leaves as its LAN address.
	 * Records made before the interface was recorded match by the address alone.
	 */
	if (s->master[0])
		fprintf(f, "add rule ip " NAT_TABLE " %s_snat iifname \"%s\" snat to %s\n", s->link,
			s->master, a);
	else
		fprintf(f, "add rule ip " NAT_TABLE " %s_snat snat to %s\n", s->link, a);
	fprintf(f, "create element ip " NAT_TABLE " inbound { %s : jump %s_dnat }\n", a, s->link);
	fprintf(f, "create element ip " NAT_TABLE " outbound { %s : jump %s_snat }\n", c, s->link);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static const struct lj_nft_hook hook_prerouting = {"nat", NF_INET_PRE_ROUTING, NAT_PRIO_DNAT},
				hook_output = {"nat", NF_INET_LOCAL_OUT, NAT_PRIO_DNAT},
				hook_postrouting = {"nat", NF_INET_POST_ROUTING, NAT_PRIO_SNAT};

/* The requests of nat_skeleton (the same objects, in the same order). */
static void skeleton_tx(struct lj_nft_tx *tx)
{
	const struct lj_nft_rule in = {.action = LJ_NFT_VMAP, .vmap = "inbound"},
				 out = {.action = LJ_NFT_VMAP,
					.vmap = "outbound",
					.vmap_by_saddr = true};

	lj_nft_tx_table(tx, LJ_NFT_ADD, NAT_TABLE);
	lj_nft_tx_vmap(tx, LJ_NFT_ADD, NAT_TABLE, "inbound");
	lj_nft_tx_vmap(tx, LJ_NFT_ADD, NAT_TABLE, "outbound");
	lj_nft_tx_chain(tx, LJ_NFT_ADD, NAT_TABLE, "prerouting", &hook_prerouting);
	lj_nft_tx_chain(tx, LJ_NFT_ADD, NAT_TABLE, "output", &hook_output);
	lj_nft_tx_chain(tx, LJ_NFT_ADD, NAT_TABLE, "postrouting", &hook_postrouting);
	lj_nft_tx_rule(tx, false, NAT_TABLE, "prerouting", &in);
	lj_nft_tx_rule(tx, false, NAT_TABLE, "output", &in);
	lj_nft_tx_rule(tx, false, NAT_TABLE, "postrouting", &out);
}

/* The requests of lj_nat_rules_text (the same objects, in the same order) into tx. */
static int nat_rules_tx(const struct lj_step *s, bool skeleton, struct lj_nft_tx *tx)
{
	struct lj_publish pub[64];
	char dnat[64], snat[64];
	size_t n = 0;

	if (nat_step_check(s) < 0 || parse_publish_list(s->text, pub, ARRAY_SIZE(pub), &n) < 0)
		return -EBADMSG;
	snprintf(dnat, sizeof(dnat), "%s_dnat", s->link);
	snprintf(snat, sizeof(snat), "%s_snat", s->link);
	if (skeleton)
		skeleton_tx(tx);
	lj_nft_tx_chain(tx, LJ_NFT_CREATE, NAT_TABLE, dnat, NULL);
	if (n == 0)
		lj_nft_tx_rule(tx, false, NAT_TABLE, dnat,
			       &(struct lj_nft_rule){.action = LJ_NFT_DNAT, .nat = &s->via});
	for (size_t i = 0; i < n; i++)
		lj_nft_tx_rule(tx, false, NAT_TABLE, dnat,
			       &(struct lj_nft_rule){.l4proto = (uint8_t)pub[i].proto,
						     .dport = pub[i].port,
						     .action = LJ_NFT_DNAT,
						     .nat = &s->via,
						     .nat_port = pub[i].cport});
	lj_nft_tx_chain(tx, LJ_NFT_CREATE, NAT_TABLE, snat, NULL);
	/* Only what arrives on the attachment's own interface (see lj_nat_rules_text). */
	lj_nft_tx_rule(tx, false, NAT_TABLE, snat,
		       &(struct lj_nft_rule){.iifname = s->master[0] ? s->master : NULL,
					     .action = LJ_NFT_SNAT,
					     .nat = &s->cidr.ip});
	lj_nft_tx_jump(tx, LJ_NFT_CREATE, NAT_TABLE, "inbound", &s->cidr.ip, dnat);
	return lj_nft_tx_jump(tx, LJ_NFT_CREATE, NAT_TABLE, "outbound", &s->via, snat);
}

int lj_nat_rules_commit(const struct lj_step *s, bool skeleton, bool check, char *err,
			size_t errsize)
{
	struct lj_nft_tx *tx = NULL;
	int r;

	r = lj_nft_tx_new(NFPROTO_IPV4, &tx);
	if (r < 0)
		return r;
	r = nat_rules_tx(s, skeleton, tx);
	if (r != -EBADMSG)
		r = lj_nft_tx_commit(tx, check, err, errsize);
	lj_nft_tx_free(tx);
	return r;
}

static int nat_rules_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct nat_table t;
	char err[256];
	int r;

	r = nat_table_probe(&t, err, sizeof(err));
	if (r < 0) {
		lj_ctx_detail(ctx, "nft: %s", err);
		return r;
	}
	if (t.exists && !t.skeleton) {
		lj_ctx_detail(ctx, "table ip " NAT_TABLE " lacks its maps or base chains; it was "
				   "changed by hand");
		return -EBADMSG;
	}
	r = lj_nat_rules_commit(s, !t.exists, false, err, sizeof(err));
	if (r < 0 && r != -EBADMSG)
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	return r;
}

/*
 * Call cb(key, ip, data) for each element of map (as listed in t) that jumps to chain and whose
 * key is an IPv4 or IPv6 address: [key, {"jump": {"target": chain}}]. Stops when cb returns
 * true; returns whether one did.
 */
static bool foreach_jump_element(const struct nat_table *t, const char *map, const char *chain,
				 bool (*cb)(const char *key, const struct lj_ip *ip, void *data),
				 void *data)
{
	json_t *o, *e;
	size_t i, k;

	json_array_foreach(t->objs, i, o)
	{
		json_t *m = json_object_get(o, "map");
		const char *name = json_string_value(json_object_get(m, "name"));

		if (!name || strcmp(name, map) != 0)
			continue;
		json_array_foreach(json_object_get(m, "elem"), k, e)
		{
			const char *key = json_string_value(json_array_get(e, 0));
			const char *target = json_string_value(json_object_get(
				json_object_get(json_array_get(e, 1), "jump"), "target"));
			struct lj_ip ip;

			if (key && target && strcmp(target, chain) == 0 &&
			    lj_parse_ip(key, &ip) == 0 && cb(key, &ip, data))
				return true;
		}
	}
	return false;
}

struct delete_ctx {
	struct lj_nft_tx *tx;
	const char *map;
};

static bool tx_delete(const char *key, const struct lj_ip *ip, void *data)
{
	struct delete_ctx *d = data;

	if (ip->family == AF_INET)
		lj_nft_tx_jump(d->tx, LJ_NFT_DELETE, NAT_TABLE, d->map, ip, NULL);
	return false;
}

/* Delete the elements of map that jump to chain (as listed in t). */
static void delete_elements(struct lj_nft_tx *tx, const struct nat_table *t, const char *map,
			    const char *chain)
{
	struct delete_ctx d = {tx, map};

	foreach_jump_element(t, map, chain, tx_delete, &d);
}

struct jump_delete {
	struct lj_nft_tx *tx;
	const char *map, *chain;
};

static void jump_delete_cb(const void *key, size_t keylen, const char *chain, void *data)
{
	struct jump_delete *d = data;
	struct lj_ip ip = {.family = AF_INET};

	if (keylen != 4 || strcmp(chain, d->chain) != 0)
		return;
	memcpy(&ip.v4, key, 4);
	lj_nft_tx_jump(d->tx, LJ_NFT_DELETE, NAT_TABLE, d->map, &ip, NULL);
}

/*
 * The requests that remove the rules of chains dnat and snat, into tx, from what nf_tables
 * dumps (chain names, the maps' elements) rather than a listing of the whole table as JSON.
 * Returns 0 (tx empty: nothing to remove), or -errno when the kernel did not answer.
 */
static int nat_undo_tx(const char *dnat, const char *snat, struct lj_nft_tx *tx)
{
	struct nat_chains c = {.dnat = dnat, .snat = snat};
	struct jump_delete in = {tx, "inbound", dnat}, out = {tx, "outbound", snat};
	int r;

	r = lj_nft_chains(NFPROTO_IPV4, NAT_TABLE, nat_chain_cb, &c);
	if (r < 0)
		return r;
	if (!c.has_dnat && !c.has_snat)
		return 0;
	if (c.users <= (c.has_snat ? 1 : 0)) {
		/* The last attachment: the table goes, in the same transaction. */
		lj_nft_tx_table(tx, LJ_NFT_DELETE, NAT_TABLE);
		return 0;
	}
	r = lj_nft_map_jumps(NFPROTO_IPV4, NAT_TABLE, "inbound", jump_delete_cb, &in);
	if (r == 0)
		r = lj_nft_map_jumps(NFPROTO_IPV4, NAT_TABLE, "outbound", jump_delete_cb, &out);
	if (c.has_dnat)
		lj_nft_tx_chain(tx, LJ_NFT_DELETE, NAT_TABLE, dnat, NULL);
	if (c.has_snat)
		lj_nft_tx_chain(tx, LJ_NFT_DELETE, NAT_TABLE, snat, NULL);
	return r;
}

/* The same from a listing of the table (t): when the kernel did not answer the dumps. */
static void nat_undo_tx_listed(const struct nat_table *t, const char *dnat, const char *snat,
			       struct lj_nft_tx *tx)
{
	bool has_dnat = has_object(t->objs, "chain", dnat);
	bool has_snat = has_object(t->objs, "chain", snat);

	if (!has_dnat && !has_snat)
		return;
	if (count_users(t) <= (has_snat ? 1 : 0)) {
		lj_nft_tx_table(tx, LJ_NFT_DELETE, NAT_TABLE);
		return;
	}
	delete_elements(tx, t, "inbound", dnat);
	delete_elements(tx, t, "outbound", snat);
	if (has_dnat)
		lj_nft_tx_chain(tx, LJ_NFT_DELETE, NAT_TABLE, dnat, NULL);
	if (has_snat)
		lj_nft_tx_chain(tx, LJ_NFT_DELETE, NAT_TABLE, snat, NULL);
}

static int nat_rules_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char err[256], dnat[64], snat[64];
	struct lj_nft_tx *tx = NULL;
	struct nat_table t;
	int r;

	if (!lj_nft_name_valid(s->link) || strlen(s->link) > 40)
		return -EBADMSG;
	snprintf(dnat, sizeof(dnat), "%s_dnat", s->link);
	snprintf(snat, sizeof(snat), "%s_snat", s->link);
	r = lj_nft_tx_new(NFPROTO_IPV4, &tx);
	if (r < 0)
		return r;
	if (nat_undo_tx(dnat, snat, tx) < 0) {
		/* The kernel did not answer the dumps: the listing (and nft's words for why). */
		lj_nft_tx_free(tx);
		tx = NULL;
		r = nat_table_read(&t, err, sizeof(err));
		if (r < 0) {
			lj_ctx_detail(ctx, "nft: %s", err);
			return r;
		}
		r = lj_nft_tx_new(NFPROTO_IPV4, &tx);
		if (r == 0)
			nat_undo_tx_listed(&t, dnat, snat, tx);
		nat_table_done(&t);
		if (r < 0)
			return r;
	}
	r = lj_nft_tx_commit(tx, false, err, sizeof(err));
	if (r < 0)
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	lj_nft_tx_free(tx);
	return r;
}

/* The number of rules of chain in t. */
static size_t count_rules(const struct nat_table *t, const char *chain)
{
	json_t *o;
	size_t i, n = 0;

	json_array_foreach(t->objs, i, o)
	{
		const char *c =
			json_string_value(json_object_get(json_object_get(o, "rule"), "chain"));
		if (c && strcmp(c, chain) == 0)
			n++;
	}
	return n;
}

static bool ip_is(const char *key, const struct lj_ip *ip, void *data)
{
	return lj_ip_equal(ip, data);
}

/* Whether map holds the element key -> jump chain (as listed in t). */
static bool has_element(const struct nat_table *t, const char *map, const struct lj_ip *key,
			const char *chain)
{
	return foreach_jump_element(t, map, chain, ip_is, (void *)key);
}

static const char *const base[] = {"prerouting", "output", "postrouting"};

/* Whether every base chain of t has its rule; if not, *ret_i is the first without. */
static bool base_rules(const struct nat_table *t, int *ret_i)
{
	for (size_t i = 0; i < ARRAY_SIZE(base); i++)
		if (count_rules(t, base[i]) == 0) {
			*ret_i = (int)i;
			return false;
		}
	return true;
}

/* lj_nat_rules_verify against t (a listing of the table, done here). */
static int rules_verify_in(const struct lj_step *s, struct nat_table *t, char *why, size_t whysize)
{
	struct lj_publish pub[64];
	char dnat[64], snat[64], a[LJ_IP_STRLEN], c[LJ_IP_STRLEN];
	size_t n = 0;
	int r, b = 0;

	if (nat_step_check(s) < 0 || parse_publish_list(s->text, pub, ARRAY_SIZE(pub), &n) < 0) {
		nat_table_done(t);
		return -EBADMSG;
	}
	snprintf(dnat, sizeof(dnat), "%s_dnat", s->link);
	snprintf(snat, sizeof(snat), "%s_snat", s->link);
	lj_ip_to_string(&s->cidr.ip, a, sizeof(a));
	lj_ip_to_string(&s->via, c, sizeof(c));
	r = 0;
	if (!t->exists)
		snprintf(why, whysize, "table ip " NAT_TABLE " is missing");
	else if (!t->skeleton)
		snprintf(why, whysize, "table ip " NAT_TABLE " lacks its maps or base chains");
	else if (!base_rules(t, &b))
		snprintf(why, whysize, "base chain %s of table ip " NAT_TABLE " has no rule",
			 base[b]);
	else if (!has_object(t->objs, "chain", dnat) || !has_object(t->objs, "chain", snat))
		snprintf(why, whysize, "chain %s or %s is missing from table ip " NAT_TABLE, dnat,
			 snat);
	else if (count_rules(t, dnat) != (n ? n : 1) || count_rules(t, snat) != 1)
		snprintf(why, whysize,
			 "the rules of chains %s and %s in table ip " NAT_TABLE " were changed",
			 dnat, snat);
	else if (!has_element(t, "inbound", &s->cidr.ip, dnat))
		snprintf(why, whysize, "map inbound of table ip " NAT_TABLE " has no element %s",
			 a);
	else if (!has_element(t, "outbound", &s->via, snat))
		snprintf(why, whysize, "map outbound of table ip " NAT_TABLE " has no element %s",
			 c);
	else
		r = 1;
	nat_table_done(t);
	return r;
}

int lj_nat_rules_verify(const struct lj_step *s, char *why, size_t whysize)
{
	struct nat_table t;
	char err[256];
	int r = nat_table_read(&t, err, sizeof(err));

	if (r < 0) {
		snprintf(why, whysize, "nft: %s", err);
		return r;
	}
	return rules_verify_in(s, &t, why, whysize);
}

static void nat_rules_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	_cleanup_free_ char *cmds = NULL;

	if (lj_nat_rules_text(s, false, &cmds) < 0)
		return;
	/* The table and its skeleton are made by the first attachment only. */
	fprintf(f,
		"nft list table ip " NAT_TABLE " >/dev/null 2>&1 || nft -f - <<'EOF'\n%s"
		"EOF\nnft -f - <<'EOF'\n%sEOF\n",
		nat_skeleton, cmds);
}

/*
 * What nat_rules_undo does now: nothing when the chains are gone, the whole table when this is
 * the last attachment with rules in it (from the kernel, as the undo looks), else the
 * attachment's elements and chains.
 */
static void nat_rules_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char a[LJ_IP_STRLEN], c[LJ_IP_STRLEN], dnat[64], snat[64];
	struct nat_chains ch = {.dnat = dnat, .snat = snat};
	int r;

	if (!lj_nft_name_valid(s->link) || strlen(s->link) > 40)
		return;
	snprintf(dnat, sizeof(dnat), "%s_dnat", s->link);
	snprintf(snat, sizeof(snat), "%s_snat", s->link);
	r = lj_nft_chains(NFPROTO_IPV4, NAT_TABLE, nat_chain_cb, &ch);
	if (r == -ENOENT || (r == 0 && !ch.has_dnat && !ch.has_snat)) {
		fprintf(f, "# chains %s and %s of table ip " NAT_TABLE " are gone already\n", dnat,
			snat);
		return;
	}
	if (r == 0 && ch.users <= (ch.has_snat ? 1 : 0)) {
		fprintf(f, "nft delete table ip " NAT_TABLE
			   "   # the last attachment with rules in it\n");
		return;
	}
	if (r < 0)
		fprintf(f,
			"# the kernel did not list table ip " NAT_TABLE " (%s): as when other "
			"attachments use it\n",
			strerror(-r));
	fprintf(f, "nft delete element ip " NAT_TABLE " inbound '{ %s }'\n",
		lj_ip_to_string(&s->cidr.ip, a, sizeof(a)));
	fprintf(f, "nft delete element ip " NAT_TABLE " outbound '{ %s }'\n",
		lj_ip_to_string(&s->via, c, sizeof(c)));
	fprintf(f, "nft delete chain ip " NAT_TABLE " %s\n", dnat);
	fprintf(f, "nft delete chain ip " NAT_TABLE " %s\n", snat);
}

/* Is ip an address of the target (on any of its links)? */
static bool target_holds(const struct lj_status_view *v, const struct lj_ip *ip)
{
	for (size_t i = 0; i < v->target->n_addrs; i++)
		if (lj_ip_equal(&v->target->addrs[i].cidr.ip, ip))
			return true;
	return false;
}

/*
 * lanjoin's nft table, its chains and map elements for the attachment (lj_nat_rules_verify),
 * and for --to, that the target still holds the address the rules forward to.
 */
static int nat_rules_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			    size_t size)
{
	struct nat_table t;
	json_t *objs = NULL;
	int r;

	/*
	 * --to: the forward's address must still be the target's. Docker gives a container's
	 * address to the next one once the container left the network (docker rm, network
	 * disconnect): the rules would forward the LAN address to that one, and give its
	 * outbound traffic the LAN address. (A private link's address is its addr step's.)
	 */
	if (v->target && v->rec && json_object_get(v->rec->info, "to") &&
	    !target_holds(v, &s->via)) {
		const char *net = json_string_value(json_object_get(v->rec->info, "to_network"));
		char a[LJ_IP_STRLEN];

		if (net)
			snprintf(why, size,
				 "the forward's address %s (--to) is no longer an address of the "
				 "target (its address on engine network '%s': the container "
				 "left it, or the address went to another container?)",
				 lj_ip_to_string(&s->via, a, sizeof(a)), net);
		else
			snprintf(why, size,
				 "the forward's address %s (--to) is no longer an address of the "
				 "target (given to another container?)",
				 lj_ip_to_string(&s->via, a, sizeof(a)));
		return LJ_VERIFY_DRIFTED;
	}
	/* one listing of the table per status run, shared by every nat attachment */
	r = lj_status_nft(v->host, "list table ip " NAT_TABLE, &objs, why, size);
	if (r < 0 && r != -ENOENT)
		return r;
	nat_table_from(&t, r == -ENOENT ? NULL : objs);
	why[0] = '\0';
	r = rules_verify_in(s, &t, why, size);
	return r == 1 ? 0 : r == 0 ? LJ_VERIFY_DRIFTED : r;
}

const struct lj_step_type lj_step_nat_rules = {
	.id = "nft-nat",
	.verify = nat_rules_verify,
	.apply = nat_rules_apply,
	.undo = nat_rules_undo,
	.describe = nat_rules_describe,
	.describe_undo = nat_rules_describe_undo,
	.nft = LJ_STEP_NFT_OWN,
};
