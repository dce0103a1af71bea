/* SPDX-License-Identifier: MIT */
#include "lib/kernel/nft.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/kernel/netlink.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/*
 * libnftables is loaded with dlopen() on first use, as engine.c loads libcurl: linked, it and
 * what it pulls in (libxtables, libgmp) cost every lanjoin process ~0.3 ms of CPU and ~0.4 ms
 * of wall time in the dynamic loader (bench/, issue 11), and used, ~2 MiB of memory (its
 * pages, parser and cache); only `nft -j` listings need it (changes: nft-tx.c, libnftnl).
 * Only types and constants come from the header.
 */
static struct {
	bool loaded;
	__typeof__(&nft_ctx_new) ctx_new;
	__typeof__(&nft_ctx_free) ctx_free;
	__typeof__(&nft_ctx_buffer_output) buffer_output;
	__typeof__(&nft_ctx_buffer_error) buffer_error;
	__typeof__(&nft_ctx_output_set_flags) output_set_flags;
	__typeof__(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
	__typeof__(&nft_ctx_get_output_buffer) get_output_buffer;
	__typeof__(&nft_ctx_get_error_buffer) get_error_buffer;
} nf;

static int nft_load(char *err, size_t errsize)
{
	void *h;

	if (nf.loaded)
		return 0;
	h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		if (err && errsize)
			snprintf(err, errsize, "cannot load libnftables: %s", dlerror());
		return -EPROTONOSUPPORT;
	}
	/* POSIX's way to turn a dlsym() result into a function pointer. */
#define SYM(field, name) *(void **)(&nf.field) = dlsym(h, name)
	SYM(ctx_new, "nft_ctx_new");
	SYM(ctx_free, "nft_ctx_free");
	SYM(buffer_output, "nft_ctx_buffer_output");
	SYM(buffer_error, "nft_ctx_buffer_error");
	SYM(output_set_flags, "nft_ctx_output_set_flags");
	SYM(run_cmd_from_buffer, "nft_run_cmd_from_buffer");
	SYM(get_output_buffer, "nft_ctx_get_output_buffer");
	SYM(get_error_buffer, "nft_ctx_get_error_buffer");
#undef SYM
	if (!nf.ctx_new || !nf.ctx_free || !nf.buffer_output || !nf.buffer_error ||
	    !nf.output_set_flags || !nf.run_cmd_from_buffer || !nf.get_output_buffer ||
	    !nf.get_error_buffer) {
		dlclose(h);
		if (err && errsize)
			snprintf(err, errsize,
				 "the libnftables found lacks the functions lanjoin needs");
		return -EPROTONOSUPPORT;
	}
	nf.loaded = true; /* stays loaded for the life of the process */
	return 0;
}

static void nft_freep(struct nft_ctx **p)
{
	if (*p)
		nf.ctx_free(*p);
}
#define _cleanup_nft_ _cleanup_(nft_freep)

bool lj_nft_name_valid(const char *s)
{
	size_t n = 0;

	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return n <= 63;
}

/*
 * libnftables reports errors only as text ("Error: Could not process rule: <strerror>").
 * Recover the errno from the strerror text; the first match in this order wins.
 */
static int errno_from_text(const char *text)
{
	static const int codes[] = {
		EPERM,	ENOENT, EEXIST, EOPNOTSUPP, EPROTONOSUPPORT, EAFNOSUPPORT, EBUSY,
		ENOMEM, ENOSPC, E2BIG,	EMLINK,	    ENOTEMPTY,	     ENOBUFS,	   EINVAL,
	};

	if (!text || !*text)
		return -EIO;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (strstr(text, strerror(codes[i])))
			return -codes[i];
	if (strstr(text, "you must be root"))
		return -EPERM;
	if (strstr(text, "syntax error"))
		return -EINVAL;
	return -EIO;
}

/* Copy the first line of nft's error text that says something ("Error: ..."). */
static void copy_error(const char *text, char *err, size_t errsize)
{
	const char *line, *nl;

	if (!err || !errsize)
		return;
	err[0] = '\0';
	if (!text)
		return;
	line = strstr(text, "Error: ");
	if (!line)
		line = text;
	nl = strchr(line, '\n');
	snprintf(err, errsize, "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
}

/*
 * libnftables prints to stderr when the kernel refuses its socket for lack of rights; ask
 * the kernel first whether this process has CAP_NET_ADMIN at all.
 */
struct describe_delete {
	FILE *f;
	const char *fam, *chain, *comment;
	size_t n;
};

static void describe_delete_cb(uint64_t handle, const char *comment, void *data)
{
	struct describe_delete *d = data;

	if (!comment || strcmp(comment, d->comment) != 0)
		return;
	fprintf(d->f, "nft delete rule %s filter %s handle %" PRIu64 "\n", d->fam, LJ_SHQ(d->chain),
		handle);
	d->n++;
}

void lj_nft_describe_delete(FILE *f, uint8_t family, const char *chain, const char *comment)
{
	struct describe_delete d = {f, family == NFPROTO_IPV6 ? "ip6" : "ip", chain, comment, 0};
	int r = lj_nft_rules(family, "filter", chain, describe_delete_cb, &d);

	if (r == -ENOENT)
		fprintf(f, "# chain %s of table %s filter is gone, and its rules with it\n",
			LJ_SHC(chain), d.fam);
	else if (r < 0)
		fprintf(f,
			"# the kernel did not list chain %s of table %s filter (%s): delete "
			"the rules commented \"%s\" there\n",
			LJ_SHC(chain), d.fam, strerror(-r), LJ_SHC(comment));
	else if (d.n == 0)
		fprintf(f, "# no rule commented \"%s\" is left in chain %s of table %s filter\n",
			LJ_SHC(comment), LJ_SHC(chain), d.fam);
}

bool lj_nft_have_net_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return true; /* cannot tell: let nft try */
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

int lj_nft_list(const char *cmd, json_t **ret, char *err, size_t errsize)
{
	_cleanup_nft_ struct nft_ctx *nft = NULL;
	const char *out;
	json_t *root, *arr;
	int rc;

	if (!lj_nft_have_net_admin()) {
		if (err && errsize)
			snprintf(err, errsize, "the process lacks CAP_NET_ADMIN");
		return -EPERM;
	}
	rc = nft_load(err, errsize);
	if (rc < 0)
		return rc;
	nft = nf.ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return -ENOMEM;
	if (nf.buffer_output(nft) < 0 || nf.buffer_error(nft) < 0)
		return -ENOMEM;
	nf.output_set_flags(nft, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	rc = nf.run_cmd_from_buffer(nft, cmd);
	if (rc != 0) {
		const char *text = nf.get_error_buffer(nft);
		copy_error(text, err, errsize);
		return errno_from_text(text);
	}
	out = nf.get_output_buffer(nft);
	root = json_loads(out ? out : "", 0, NULL);
	arr = json_object_get(root, "nftables");
	if (!json_is_array(arr)) {
		json_decref(root);
		if (err && errsize)
			snprintf(err, errsize, "nft returned no JSON");
		return -EBADMSG;
	}
	*ret = json_incref(arr);
	json_decref(root);
	return 0;
}

static struct nlmsghdr *nft_msg(struct lj_nl *nl, uint16_t type, uint16_t flags, uint8_t family);

struct lookup_ctx {
	struct lj_nft_query *q;
};

static int lookup_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lookup_ctx *c = data;
	const struct nlattr *tb[NFTA_SET_MAX + 1];

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return MNL_CB_OK;
	switch (nlh->nlmsg_type & 0xff) {
	case NFT_MSG_NEWTABLE:
		c->q->found = true;
		break;
	case NFT_MSG_NEWCHAIN: {
		const struct nlattr *ch[NFTA_CHAIN_MAX + 1], *hk[NFTA_HOOK_MAX + 1];

		c->q->found = true;
		lj_nl_attrs(nlh, sizeof(struct nfgenmsg), ch, NFTA_CHAIN_MAX);
		if (ch[NFTA_CHAIN_HOOK]) {
			lj_nl_attrs_nested(ch[NFTA_CHAIN_HOOK], hk, NFTA_HOOK_MAX);
			if (hk[NFTA_HOOK_HOOKNUM] &&
			    mnl_attr_validate(hk[NFTA_HOOK_HOOKNUM], MNL_TYPE_U32) >= 0) {
				c->q->base = true;
				c->q->hooknum = ntohl(mnl_attr_get_u32(hk[NFTA_HOOK_HOOKNUM]));
			}
		}
		if (ch[NFTA_CHAIN_POLICY] &&
		    mnl_attr_validate(ch[NFTA_CHAIN_POLICY], MNL_TYPE_U32) >= 0) {
			c->q->has_policy = true;
			c->q->policy = ntohl(mnl_attr_get_u32(ch[NFTA_CHAIN_POLICY]));
		}
		break;
	}
	case NFT_MSG_NEWSET:
		c->q->found = true;
		lj_nl_attrs(nlh, sizeof(struct nfgenmsg), tb, NFTA_SET_MAX);
		if (tb[NFTA_SET_FLAGS] && mnl_attr_validate(tb[NFTA_SET_FLAGS], MNL_TYPE_U32) >= 0)
			c->q->set_flags = ntohl(mnl_attr_get_u32(tb[NFTA_SET_FLAGS]));
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

int lj_nft_lookup(uint8_t family, const char *table, struct lj_nft_query *q, size_t n)
{
	static const uint16_t type[] = {
		[LJ_NFT_TABLE] = NFT_MSG_GETTABLE,
		[LJ_NFT_CHAIN] = NFT_MSG_GETCHAIN,
		[LJ_NFT_SET] = NFT_MSG_GETSET,
	};
	struct lj_nl *nl = NULL;
	int r;

	r = lj_nl_open_proto(-1, NETLINK_NETFILTER, &nl);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct lookup_ctx c = {&q[i]};
		struct nlmsghdr *nlh;
		bool ok;

		q[i].found = q[i].base = q[i].has_policy = false;
		q[i].set_flags = q[i].hooknum = q[i].policy = 0;
		nlh = nft_msg(nl, type[q[i].kind], 0, q[i].family ? q[i].family : family);
		switch (q[i].kind) {
		case LJ_NFT_TABLE:
			ok = mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, NFTA_TABLE_NAME, table);
			break;
		case LJ_NFT_CHAIN:
			ok = mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, NFTA_CHAIN_TABLE,
						     table) &&
			     mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, NFTA_CHAIN_NAME,
						     q[i].name);
			break;
		default:
			ok = mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, NFTA_SET_TABLE, table) &&
			     mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, NFTA_SET_NAME, q[i].name);
			break;
		}
		if (!ok) {
			r = -EMSGSIZE;
			break;
		}
		r = lj_nl_transact(nl, nlh, lookup_cb, &c);
		if (r == -ENOENT)
			r = 0; /* the object or its table is missing: found stays false */
	}
	lj_nl_close(nl);
	return r < 0 ? r : 0;
}

/* Start an nf_tables request of type in nl's own buffer, for family. */
static struct nlmsghdr *nft_msg(struct lj_nl *nl, uint16_t type, uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type), flags);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/*
 * One nf_tables dump of message type (NFT_MSG_GET*) in family, on a socket of its own, with up
 * to two string attributes (attr 0: none) that make the kernel filter it; cb sees each answer.
 * Returns 0 or -errno (-EMSGSIZE when a name does not fit).
 */
static int nft_dump(uint8_t family, uint16_t type, uint16_t a1, const char *v1, uint16_t a2,
		    const char *v2, mnl_cb_t cb, void *data)
{
	struct lj_nl *nl = NULL;
	struct nlmsghdr *nlh;
	int r;

	r = lj_nl_open_proto(-1, NETLINK_NETFILTER, &nl);
	if (r < 0)
		return r;
	nlh = nft_msg(nl, type, NLM_F_DUMP, family);
	if ((!a1 || mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, a1, v1)) &&
	    (!a2 || mnl_attr_put_strz_check(nlh, LJ_NL_REQ_SIZE, a2, v2)))
		r = lj_nl_transact(nl, nlh, cb, data);
	else
		r = -EMSGSIZE;
	lj_nl_close(nl);
	return r;
}

struct chains_ctx {
	const char *table;
	void (*cb)(const char *name, void *data);
	void *data;
};

static const char *attr_str(const struct nlattr *a)
{
	return a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 ? mnl_attr_get_str(a) : NULL;
}

/* A dump the ruleset changed under is incomplete: -EINTR, the caller lists instead. */
static bool dump_interrupted(const struct nlmsghdr *nlh)
{
	if (!(nlh->nlmsg_flags & NLM_F_DUMP_INTR))
		return false;
	errno = EINTR;
	return true;
}

static int chains_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chains_ctx *c = data;
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1];
	const char *table, *name;

	if (dump_interrupted(nlh))
		return MNL_CB_ERROR;
	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWCHAIN ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(struct nfgenmsg), tb, NFTA_CHAIN_MAX);
	table = attr_str(tb[NFTA_CHAIN_TABLE]);
	name = attr_str(tb[NFTA_CHAIN_NAME]);
	if (table && name && strcmp(table, c->table) == 0)
		c->cb(name, c->data);
	return MNL_CB_OK;
}

int lj_nft_chains(uint8_t family, const char *table, void (*cb)(const char *name, void *data),
		  void *data)
{
	struct chains_ctx c = {table, cb, data};
	int r = nft_dump(family, NFT_MSG_GETCHAIN, 0, NULL, 0, NULL, chains_cb, &c);

	return r == -ENOENT ? 0 : r;
}

struct jumps_ctx {
	void (*cb)(const void *key, size_t keylen, const char *chain, void *data);
	void *data;
};

/* One element (NFTA_LIST_ELEM): its key and, if its value is a jump or goto, the chain. */
static void jump_elem(const struct nlattr *elem, struct jumps_ctx *c)
{
	const struct nlattr *e[NFTA_SET_ELEM_MAX + 1], *k[NFTA_DATA_MAX + 1], *d[NFTA_DATA_MAX + 1],
		*v[NFTA_VERDICT_MAX + 1];
	const char *chain;
	uint32_t code;

	lj_nl_attrs_nested(elem, e, NFTA_SET_ELEM_MAX);
	if (!e[NFTA_SET_ELEM_KEY] || !e[NFTA_SET_ELEM_DATA])
		return;
	lj_nl_attrs_nested(e[NFTA_SET_ELEM_KEY], k, NFTA_DATA_MAX);
	lj_nl_attrs_nested(e[NFTA_SET_ELEM_DATA], d, NFTA_DATA_MAX);
	if (!k[NFTA_DATA_VALUE] || !d[NFTA_DATA_VERDICT])
		return;
	lj_nl_attrs_nested(d[NFTA_DATA_VERDICT], v, NFTA_VERDICT_MAX);
	if (!v[NFTA_VERDICT_CODE] || mnl_attr_validate(v[NFTA_VERDICT_CODE], MNL_TYPE_U32) < 0)
		return;
	code = ntohl(mnl_attr_get_u32(v[NFTA_VERDICT_CODE]));
	chain = attr_str(v[NFTA_VERDICT_CHAIN]);
	if ((code == (uint32_t)NFT_JUMP || code == (uint32_t)NFT_GOTO) && chain)
		c->cb(mnl_attr_get_payload(k[NFTA_DATA_VALUE]),
		      mnl_attr_get_payload_len(k[NFTA_DATA_VALUE]), chain, c->data);
}

static int jumps_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1], *elem;

	if (dump_interrupted(nlh))
		return MNL_CB_ERROR;
	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(struct nfgenmsg), tb, NFTA_SET_ELEM_LIST_MAX);
	if (!tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		return MNL_CB_OK;
	mnl_attr_for_each_nested(elem, tb[NFTA_SET_ELEM_LIST_ELEMENTS])
	{
		if (mnl_attr_get_type(elem) == NFTA_LIST_ELEM)
			jump_elem(elem, data);
	}
	return MNL_CB_OK;
}

int lj_nft_map_jumps(uint8_t family, const char *table, const char *set,
		     void (*cb)(const void *key, size_t keylen, const char *chain, void *data),
		     void *data)
{
	struct jumps_ctx c = {cb, data};
	int r = nft_dump(family, NFT_MSG_GETSETELEM, NFTA_SET_ELEM_LIST_TABLE, table,
			 NFTA_SET_ELEM_LIST_SET, set, jumps_cb, &c);

	return r == -ENOENT ? 0 : r;
}

/* --- rules of a chain, from a dump ------------------------------------------------------- */

struct rules_ctx {
	const char *table, *chain;
	void (*cb)(uint64_t handle, const char *comment, void *data);
	void *data;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && v[len - 1] == '\0')
		*comment = v;
	return MNL_CB_OK;
}

/* The text of r's iptables -m comment match (an xt match), or NULL. */
static const char *xt_comment(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	const char *ret = NULL;

	for (struct nftnl_expr *e = it ? nftnl_expr_iter_next(it) : NULL; e && !ret;
	     e = nftnl_expr_iter_next(it)) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		const char *mt = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
		uint32_t len = 0;
		const char *info;

		if (!name || strcmp(name, "match") != 0 || !mt || strcmp(mt, "comment") != 0)
			continue;
		info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
		if (info && len > 0 && memchr(info, '\0', len))
			ret = info;
	}
	nftnl_expr_iter_destroy(it);
	return ret;
}

/*
 * The rule in a dump's answer nlh, parsed (*ret, nftnl_rule_free it), or *ret = NULL for an
 * answer that is not a rule or that this libnftnl cannot parse (not one of lanjoin's).
 * Returns MNL_CB_OK, or MNL_CB_ERROR (errno set) for an interrupted dump or no memory.
 */
static int dumped_rule(const struct nlmsghdr *nlh, struct nftnl_rule **ret)
{
	struct nftnl_rule *r;

	*ret = NULL;
	if (dump_interrupted(nlh))
		return MNL_CB_ERROR;
	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return MNL_CB_OK;
	r = nftnl_rule_alloc();
	if (!r) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
		nftnl_rule_free(r);
	else
		*ret = r;
	return MNL_CB_OK;
}

static int rules_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rules_ctx *c = data;
	struct nftnl_rule *r;
	const char *table, *chain, *comment = NULL;
	const void *ud;
	uint32_t udlen = 0;
	int cb = dumped_rule(nlh, &r);

	if (!r)
		return cb;
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (table && chain && strcmp(table, c->table) == 0 && strcmp(chain, c->chain) == 0 &&
	    nftnl_rule_is_set(r, NFTNL_RULE_HANDLE)) {
		ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udlen);
		if (ud && udlen)
			nftnl_udata_parse(ud, udlen, comment_cb, &comment);
		if (!comment)
			comment = xt_comment(r);
		c->cb(nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE), comment, c->data);
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int lj_nft_rules(uint8_t family, const char *table, const char *chain,
		 void (*cb)(uint64_t handle, const char *comment, void *data), void *data)
{
	struct rules_ctx c = {table, chain, cb, data};

	/* The kernel dumps only the rules of this table and chain (and says -ENOENT if either
	 * is missing); rules_cb checks the names anyway. */
	return nft_dump(family, NFT_MSG_GETRULE, NFTA_RULE_TABLE, table, NFTA_RULE_CHAIN, chain,
			rules_cb, &c);
}

struct jumps_to_ctx {
	const char *table, *target;
	int n;
};

static int jump_expr_cb(struct nftnl_expr *e, void *data)
{
	struct jumps_to_ctx *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const char *chain;
	int32_t verdict;

	if (!name || strcmp(name, "immediate") != 0 || !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		return MNL_CB_OK;
	verdict = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
	if ((verdict == NFT_JUMP || verdict == NFT_GOTO) && chain && strcmp(chain, c->target) == 0)
		c->n++;
	return MNL_CB_OK;
}

static int jumps_to_cb(const struct nlmsghdr *nlh, void *data)
{
	struct jumps_to_ctx *c = data;
	struct nftnl_rule *r;
	const char *table;
	int cb = dumped_rule(nlh, &r);

	if (!r)
		return cb;
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	if (table && strcmp(table, c->table) == 0)
		nftnl_expr_foreach(r, jump_expr_cb, c);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int lj_nft_jumps_to(uint8_t family, const char *table, const char *target)
{
	struct jumps_to_ctx c = {table, target, 0};
	int r = nft_dump(family, NFT_MSG_GETRULE, NFTA_RULE_TABLE, table, 0, NULL, jumps_to_cb, &c);

	return r < 0 ? r : c.n;
}
