/* SPDX-License-Identifier: MIT */
/*
 * lj_nft_tx: nf_tables changes as one netlink batch, built with libnftnl (see nft.h). The
 * requests are those nft sends for the same commands, so that nft lists the result the same.
 */
#include "lib/kernel/nft.h"

#include <errno.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/netlink.h"

/* --- changes: one transaction ------------------------------------------------------------ */

/* What one request does, for error messages: "add chain ip lanjoin lj1_dnat". */
struct tx_what {
	char text[112];
};

struct lj_nft_tx {
	uint8_t family;
	int error; /* the first request that could not be built */
	char *buf; /* BATCH_BEGIN, the requests (sequence numbers set on commit) */
	size_t len, cap;
	struct tx_what *what; /* one per request */
	size_t n;
	uint32_t set_id; /* for maps made in this transaction */
};

/* Room for the largest request lanjoin builds (a rule is a few hundred bytes). */
#define TX_MSG_MAX 4096

static int tx_grow(struct lj_nft_tx *tx)
{
	if (tx->len + TX_MSG_MAX > tx->cap) {
		size_t cap = tx->cap * 2;
		char *b = realloc(tx->buf, cap);
		if (!b)
			return -ENOMEM;
		tx->buf = b;
		tx->cap = cap;
	}
	if (tx->n % 16 == 0) {
		struct tx_what *w = realloc(tx->what, (tx->n + 16) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		tx->what = w;
	}
	return 0;
}

int lj_nft_tx_new(uint8_t family, struct lj_nft_tx **ret)
{
	struct lj_nft_tx *tx = calloc(1, sizeof(*tx));
	struct nlmsghdr *nlh;

	if (!tx)
		return -ENOMEM;
	tx->family = family;
	tx->cap = 16384;
	tx->buf = malloc(tx->cap);
	if (!tx->buf) {
		free(tx);
		return -ENOMEM;
	}
	/* Zeroed where libnftnl leaves alignment padding: the whole batch goes to the kernel. */
	memset(tx->buf, 0, TX_MSG_MAX);
	nlh = nftnl_batch_begin(tx->buf, 0);
	tx->len = NLMSG_ALIGN(nlh->nlmsg_len);
	*ret = tx;
	return 0;
}

void lj_nft_tx_free(struct lj_nft_tx *tx)
{
	if (!tx)
		return;
	free(tx->buf);
	free(tx->what);
	free(tx);
}

size_t lj_nft_tx_size(const struct lj_nft_tx *tx)
{
	return tx->n;
}

static int tx_fail(struct lj_nft_tx *tx, int r)
{
	if (!tx->error)
		tx->error = r;
	return r;
}

/*
 * Start request type (NFT_MSG_*) with flags in tx, described by the printf-style fmt. Returns
 * its header, or NULL (tx->error set).
 */
__attribute__((format(printf, 4, 5))) static struct nlmsghdr *
tx_msg(struct lj_nft_tx *tx, uint16_t type, uint16_t flags, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (tx->error)
		return NULL;
	r = tx_grow(tx);
	if (r < 0) {
		tx_fail(tx, r);
		return NULL;
	}
	memset(tx->buf + tx->len, 0, TX_MSG_MAX);
	va_start(ap, fmt);
	vsnprintf(tx->what[tx->n].text, sizeof(tx->what[tx->n].text), fmt, ap);
	va_end(ap);
	return nftnl_nlmsg_build_hdr(tx->buf + tx->len, type, tx->family,
				     (uint16_t)(flags | NLM_F_ACK), 0);
}

/* The request started with tx_msg is complete. */
static int tx_done(struct lj_nft_tx *tx, struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > TX_MSG_MAX)
		abort(); /* libnftnl wrote past the room tx_grow made: a bug here */
	tx->len += NLMSG_ALIGN(nlh->nlmsg_len);
	tx->n++;
	return 0;
}

static const char *family_name(uint8_t family)
{
	return family == NFPROTO_IPV6 ? "ip6" : "ip";
}

static const char *op_name(enum lj_nft_op op)
{
	return op == LJ_NFT_DELETE ? "delete" : op == LJ_NFT_CREATE ? "create" : "add";
}

static uint16_t op_flags(enum lj_nft_op op)
{
	return op == LJ_NFT_DELETE   ? 0
	       : op == LJ_NFT_CREATE ? NLM_F_CREATE | NLM_F_EXCL
				     : NLM_F_CREATE;
}

int lj_nft_tx_table(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table))
		return tx_fail(tx, -EINVAL);
	nlh = tx_msg(tx, op == LJ_NFT_DELETE ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE, op_flags(op),
		     "%s table %s %s", op_name(op), family_name(tx->family), table);
	if (!nlh)
		return tx->error;
	t = nftnl_table_alloc();
	if (!t)
		return tx_fail(tx, -ENOMEM);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	if (op != LJ_NFT_DELETE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return tx_done(tx, nlh);
}

/* nft's datatype of IPv4 addresses (TYPE_IPADDR) and its byte order tag (BYTEORDER_BIG_ENDIAN). */
#define NFT_TYPE_IPADDR 7
#define NFT_BYTEORDER_BIG_ENDIAN 2

int lj_nft_tx_vmap(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *name)
{
	struct nftnl_udata_buf *ud;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table) || !lj_nft_name_valid(name) || op == LJ_NFT_DELETE)
		return tx_fail(tx, -EINVAL);
	nlh = tx_msg(tx, NFT_MSG_NEWSET, op_flags(op), "%s map %s %s %s", op_name(op),
		     family_name(tx->family), table, name);
	if (!nlh)
		return tx->error;
	s = nftnl_set_alloc();
	ud = nftnl_udata_buf_alloc(64);
	if (!s || !ud) {
		nftnl_set_free(s);
		if (ud)
			nftnl_udata_buf_free(ud);
		return tx_fail(tx, -ENOMEM);
	}
	/* What nft itself sends for `type ipv4_addr : verdict`, so that nft lists it the same. */
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(struct in_addr));
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++tx->set_id);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(ud);
	return tx_done(tx, nlh);
}

int lj_nft_tx_chain(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *name,
		    const struct lj_nft_hook *hook)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table) || !lj_nft_name_valid(name) ||
	    (hook && (op == LJ_NFT_DELETE || !lj_nft_name_valid(hook->type))))
		return tx_fail(tx, -EINVAL);
	nlh = tx_msg(tx, op == LJ_NFT_DELETE ? NFT_MSG_DELCHAIN : NFT_MSG_NEWCHAIN, op_flags(op),
		     "%s chain %s %s %s", op_name(op), family_name(tx->family), table, name);
	if (!nlh)
		return tx->error;
	c = nftnl_chain_alloc();
	if (!c)
		return tx_fail(tx, -ENOMEM);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, hook->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook->hooknum);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, hook->prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return tx_done(tx, nlh);
}

int lj_nft_tx_jump(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *set,
		   const struct lj_ip *key, const char *chain)
{
	char a[LJ_IP_STRLEN];
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table) || !lj_nft_name_valid(set) || key->family != AF_INET ||
	    op == LJ_NFT_ADD || (op != LJ_NFT_DELETE && !lj_nft_name_valid(chain)))
		return tx_fail(tx, -EINVAL);
	lj_ip_to_string(key, a, sizeof(a));
	if (op == LJ_NFT_DELETE)
		nlh = tx_msg(tx, NFT_MSG_DELSETELEM, 0, "delete element %s %s %s { %s }",
			     family_name(tx->family), table, set, a);
	else
		nlh = tx_msg(tx, NFT_MSG_NEWSETELEM, op_flags(op),
			     "create element %s %s %s { %s : jump %s }", family_name(tx->family),
			     table, set, a, chain);
	if (!nlh)
		return tx->error;
	s = nftnl_set_alloc();
	e = nftnl_set_elem_alloc();
	if (!s || !e) {
		nftnl_set_free(s);
		if (e)
			nftnl_set_elem_free(e);
		return tx_fail(tx, -ENOMEM);
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key->v4, sizeof(key->v4));
	if (op != LJ_NFT_DELETE) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e); /* s owns e now */
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return tx_done(tx, nlh);
}

/* Add expression e (NULL: out of memory) to r; false if it could not be made. */
static bool add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return false;
	nftnl_rule_add_expr(r, e);
	return true;
}

static struct nftnl_expr *expr_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *expr_payload(uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return e;
}

static struct nftnl_expr *expr_cmp_eq(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

static struct nftnl_expr *expr_immediate(uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return e;
}

/* meta iifname/oifname == name: the whole IFNAMSIZ bytes, as nft compares a quoted name. */
static bool match_ifname(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[IFNAMSIZ] = {0};

	memcpy(buf, name, strlen(name));
	return add_expr(r, expr_meta(key)) && add_expr(r, expr_cmp_eq(buf, sizeof(buf)));
}

/* ip[6] saddr/daddr == ip */
static bool match_addr(struct nftnl_rule *r, const struct lj_ip *ip, bool saddr)
{
	bool v6 = ip->family == AF_INET6;
	uint32_t len = v6 ? 16 : 4;
	uint32_t off =
		v6 ? (saddr ? offsetof(struct ip6_hdr, ip6_src) : offsetof(struct ip6_hdr, ip6_dst))
		   : (saddr ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));

	return add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, off, len)) &&
	       add_expr(r, expr_cmp_eq(ip->bytes, len));
}

/*
 * -m conntrack --ctstate: the xt match iptables-nft makes (nft_compat), not nft's own ct
 * expression, so that iptables-nft (and Docker with it) can still list and edit the chain.
 */
static bool match_xt_ctstate(struct nftnl_rule *r, uint16_t states)
{
	struct xt_conntrack_mtinfo3 *info = calloc(1, XT_ALIGN(sizeof(*info)));
	struct nftnl_expr *e = nftnl_expr_alloc("match");

	if (!info || !e) {
		free(info);
		if (e)
			nftnl_expr_free(e);
		return false;
	}
	info->match_flags = XT_CONNTRACK_STATE;
	info->state_mask = states;
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "conntrack");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, info, XT_ALIGN(sizeof(*info))); /* e owns info */
	return add_expr(r, e);
}

/* -m comment --comment: the xt match iptables-nft makes of it (nft lists no text for it). */
static bool match_xt_comment(struct nftnl_rule *r, const char *comment)
{
	struct xt_comment_info *info = calloc(1, XT_ALIGN(sizeof(*info)));
	struct nftnl_expr *e = nftnl_expr_alloc("match");

	if (!info || !e) {
		free(info);
		if (e)
			nftnl_expr_free(e);
		return false;
	}
	snprintf(info->comment, sizeof(info->comment), "%s", comment);
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "comment");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 0);
	nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, info, XT_ALIGN(sizeof(*info))); /* e owns info */
	return add_expr(r, e);
}

static bool rule_valid(const struct lj_nft_tx *tx, const struct lj_nft_rule *x)
{
	int fam = tx->family == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
	bool nat = x->action == LJ_NFT_DNAT || x->action == LJ_NFT_SNAT;

	return (!x->iifname || (x->iifname[0] && strlen(x->iifname) < IFNAMSIZ)) &&
	       (!x->oifname || (x->oifname[0] && strlen(x->oifname) < IFNAMSIZ)) &&
	       (!x->saddr || x->saddr->family == fam) && (!x->daddr || x->daddr->family == fam) &&
	       (!x->dport || x->l4proto == IPPROTO_TCP || x->l4proto == IPPROTO_UDP) &&
	       (x->action != LJ_NFT_VMAP || (fam == AF_INET && lj_nft_name_valid(x->vmap))) &&
	       (!nat || (fam == AF_INET && x->nat && x->nat->family == AF_INET)) &&
	       (!x->comment || strlen(x->comment) < 128);
}

/* r's expressions: what nft makes of the rule (see struct lj_nft_rule). */
static bool rule_exprs(struct nftnl_rule *r, const struct lj_nft_rule *x)
{
	struct nftnl_expr *e;
	uint32_t verdict = NF_ACCEPT;

	if (x->iifname && !match_ifname(r, NFT_META_IIFNAME, x->iifname))
		return false;
	if (x->oifname && !match_ifname(r, NFT_META_OIFNAME, x->oifname))
		return false;
	if (x->saddr && !match_addr(r, x->saddr, true))
		return false;
	if (x->daddr && !match_addr(r, x->daddr, false))
		return false;
	if (x->dport) {
		uint16_t port = htons(x->dport);
		if (!add_expr(r, expr_meta(NFT_META_L4PROTO)) ||
		    !add_expr(r, expr_cmp_eq(&x->l4proto, 1)) ||
		    !add_expr(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER,
					      offsetof(struct tcphdr, dest), 2)) ||
		    !add_expr(r, expr_cmp_eq(&port, 2)))
			return false;
	}
	if (x->xt_ctstate && !match_xt_ctstate(r, x->xt_ctstate))
		return false;
	if (x->xt_comment && x->comment && !match_xt_comment(r, x->comment))
		return false;
	if (x->counter && !add_expr(r, nftnl_expr_alloc("counter")))
		return false;
	switch (x->action) {
	case LJ_NFT_VMAP:
		if (!add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER,
					      x->vmap_by_saddr ? offsetof(struct iphdr, saddr)
							       : offsetof(struct iphdr, daddr),
					      4)))
			return false;
		e = nftnl_expr_alloc("lookup");
		if (!add_expr(r, e))
			return false;
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, x->vmap);
		break;
	case LJ_NFT_ACCEPT:
		e = nftnl_expr_alloc("immediate");
		if (!add_expr(r, e))
			return false;
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
		break;
	case LJ_NFT_DNAT:
	case LJ_NFT_SNAT: {
		uint16_t port = htons(x->nat_port);

		if (!add_expr(r, expr_immediate(NFT_REG_1, &x->nat->v4, 4)) ||
		    (x->nat_port && !add_expr(r, expr_immediate(NFT_REG_2, &port, 2))))
			return false;
		e = nftnl_expr_alloc("nat");
		if (!add_expr(r, e))
			return false;
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE,
				   x->action == LJ_NFT_DNAT ? NFT_NAT_DNAT : NFT_NAT_SNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		if (x->nat_port) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
		}
		break;
	}
	default:
		break;
	}
	return true;
}

int lj_nft_tx_rule(struct lj_nft_tx *tx, bool insert, const char *table, const char *chain,
		   const struct lj_nft_rule *rule)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table) || !lj_nft_name_valid(chain) || !rule_valid(tx, rule))
		return tx_fail(tx, -EINVAL);
	nlh = tx_msg(tx, NFT_MSG_NEWRULE, NLM_F_CREATE | (insert ? 0 : NLM_F_APPEND),
		     "%s rule %s %s %s", insert ? "insert" : "add", family_name(tx->family), table,
		     chain);
	if (!nlh)
		return tx->error;
	r = nftnl_rule_alloc();
	if (!r)
		return tx_fail(tx, -ENOMEM);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if (!rule_exprs(r, rule))
		goto nomem;
	if (rule->comment && !rule->xt_comment) {
		ud = nftnl_udata_buf_alloc(256);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, rule->comment))
			goto nomem;
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return tx_done(tx, nlh);
nomem:
	if (ud)
		nftnl_udata_buf_free(ud);
	nftnl_rule_free(r);
	return tx_fail(tx, -ENOMEM);
}

int lj_nft_tx_rule_delete(struct lj_nft_tx *tx, const char *table, const char *chain,
			  uint64_t handle)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	if (!lj_nft_name_valid(table) || !lj_nft_name_valid(chain))
		return tx_fail(tx, -EINVAL);
	nlh = tx_msg(tx, NFT_MSG_DELRULE, 0, "delete rule %s %s %s handle %llu",
		     family_name(tx->family), table, chain, (unsigned long long)handle);
	if (!nlh)
		return tx->error;
	r = nftnl_rule_alloc();
	if (!r)
		return tx_fail(tx, -ENOMEM);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return tx_done(tx, nlh);
}

int lj_nft_tx_commit(struct lj_nft_tx *tx, bool check, char *err, size_t errsize)
{
	struct lj_nl *nl = NULL;
	struct nlmsghdr *nlh;
	uint32_t first, seq = 0, i = 0;
	size_t off, len0 = tx->len;
	int r;

	if (err && errsize)
		err[0] = '\0';
	if (tx->error) {
		if (err && errsize)
			snprintf(err, errsize, "cannot build the nf_tables requests: %s",
				 strerror(-tx->error));
		return tx->error;
	}
	if (tx->n == 0)
		return 0;
	if (!lj_nft_have_net_admin()) {
		if (err && errsize)
			snprintf(err, errsize, "the process lacks CAP_NET_ADMIN");
		return -EPERM;
	}
	r = tx_grow(tx);
	if (r < 0)
		return r;
	/* Without BATCH_END the kernel checks every request and then aborts (nft -c). */
	if (!check) {
		memset(tx->buf + tx->len, 0, NLMSG_HDRLEN + sizeof(struct nfgenmsg));
		nlh = nftnl_batch_end(tx->buf + tx->len, 0);
		tx->len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	r = lj_nl_open_proto(-1, NETLINK_NETFILTER, &nl);
	if (r < 0) {
		if (err && errsize)
			snprintf(err, errsize, "cannot open an nf_tables socket: %s", strerror(-r));
		goto out;
	}
	first = lj_nl_seq_reserve(nl, (uint32_t)tx->n + 2);
	for (off = 0; off < tx->len; off += NLMSG_ALIGN(nlh->nlmsg_len)) {
		nlh = (struct nlmsghdr *)(tx->buf + off);
		nlh->nlmsg_seq = first + i++;
	}
	r = lj_nl_transact_batch(nl, tx->buf, tx->len, (uint32_t)tx->n, &seq);
	if (r < 0 && err && errsize) {
		const char *ext = lj_nl_extack(nl);
		uint32_t k = seq - first; /* 0: BATCH_BEGIN, the transaction as a whole */
		const char *what =
			k >= 1 && k <= tx->n ? tx->what[k - 1].text : "nf_tables transaction";

		snprintf(err, errsize, "%s: %s%s%s%s", what, strerror(-r), *ext ? " (" : "", ext,
			 *ext ? ")" : "");
	}
out:
	lj_nl_close(nl);
	tx->len = len0; /* as it was built: it can be sent again */
	return r;
}
