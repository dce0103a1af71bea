/* SPDX-License-Identifier: MIT */
/*
 * lj-bench-floor's ovs, nat and routed ways: the fewest requests that do the work of one
 * attach or detach of lanjoin's ovs, nat and routed ways (see doc/bench.md for what each
 * leaves out: the announcement, lanjoin's checks and state).
 *
 *   ovs DB NETNS_PATH HOSTIF IFNAME BRIDGE CIDR GATEWAY
 *       veth HOSTIF/IFNAME (IFNAME created in the namespace), HOSTIF up with IPv6 address
 *       generation off, TX checksum offload off on both ends (the netdev datapath needs it, as
 *       lanjoin does); one OVSDB transaction inserting Interface and Port HOSTIF (with
 *       external_ids, as lanjoin's) into BRIDGE and, sent in the same write, a wait operation
 *       that the server answers once ovs-vswitchd gave the interface an ofport (lanjoin's
 *       readiness); then IFNAME up, CIDR, default route in the namespace
 *   ovs-del DB HOSTIF
 *       the Port's uuid (select), the transaction dropping it from the bridges and bumping
 *       next_cfg, a wait until ovs-vswitchd applied it (cur_cfg; as lanjoin and ovs-vsctl);
 *       then the veth is deleted
 *   nat NETNS_PATH UPLINK LAN_CIDR HOSTIF IFNAME PRIVATE_HOST PRIVATE_PEER TABLE
 *       LAN_CIDR on UPLINK; veth HOSTIF/IFNAME, PRIVATE_HOST/31 on HOSTIF; one nf_tables
 *       transaction (a netlink batch built with libnftnl, as lanjoin's) in TABLE (made by the
 *       bench beforehand, with lanjoin's maps and base chains): the DNAT and SNAT chains and
 *       rules, the two map elements; then
 *       IFNAME up, PRIVATE_PEER/31, default via PRIVATE_HOST in the namespace
 *   nat-del UPLINK LAN_CIDR HOSTIF PRIVATE_PEER TABLE
 *       one nf_tables transaction (libnftnl) deleting the elements and chains; the veth; the
 *       address
 *   routed NETNS_PATH PARENT HOSTIF IFNAME ADDRESS
 *       veth HOSTIF/IFNAME, 169.254.0.1/32 on HOSTIF, the host route ADDRESS/32 via HOSTIF, a
 *       proxy ARP entry for ADDRESS on PARENT; IFNAME up, ADDRESS/32, default via 169.254.0.1
 *       onlink in the namespace
 *   routed-del PARENT HOSTIF ADDRESS      delete the veth (its routes go with it), the proxy entry
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "floor.h"

#define HOST_GW "169.254.0.1"

static void parse_cidr(const char *cidr, struct in_addr *ip, unsigned *plen)
{
	char a[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');

	if (!slash || (size_t)(slash - cidr) >= sizeof(a))
		die(cidr, EINVAL);
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = '\0';
	*plen = (unsigned)atoi(slash + 1);
	if (inet_pton(AF_INET, a, ip) != 1 || *plen > 32)
		die(cidr, EINVAL);
}

/* Add (or delete) cidr on dev in the current namespace; brd: with the broadcast address. */
static void addr(uint16_t type, const char *dev, const char *cidr, int brd)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct in_addr ip, b;
	unsigned plen;

	parse_cidr(cidr, &ip, &plen);
	nlh = msg(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*ifa));
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = ifindex(dev);
	mnl_attr_put(nlh, IFA_LOCAL, 4, &ip);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &ip);
	if (brd && plen < 31) {
		b.s_addr = ip.s_addr | htonl(plen ? 0xffffffffu >> plen : 0xffffffffu);
		mnl_attr_put(nlh, IFA_BROADCAST, 4, &b);
	}
	transact(nlh, type == RTM_NEWADDR ? "add address" : "delete address");
}

/* TX checksum offload off on dev (what `ethtool -K DEV tx off` does), current namespace. */
static void tx_off(const char *dev)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket", errno);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		die("ethtool tx off", errno);
	close(fd);
}

/* --- OVSDB (RFC 7047): JSON-RPC over the database's unix socket -------------------------- */

static int ovsdb_fd = -1;
static char rbuf[65536];
static size_t rlen;

static void ovsdb_connect(const char *db)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strncmp(db, "unix:", 5) != 0 || strlen(db + 5) >= sizeof(sa.sun_path))
		die(db, EINVAL);
	strcpy(sa.sun_path, db + 5);
	ovsdb_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ovsdb_fd < 0 || connect(ovsdb_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(db, errno);
}

/* A transact request with id and the operations ops (stolen), as text (the caller frees). */
static char *ovsdb_request(int id, json_t *ops)
{
	json_t *req;
	char *s;

	json_array_insert_new(ops, 0, json_string("Open_vSwitch"));
	req = json_pack("{s:s,s:o,s:i}", "method", "transact", "params", ops, "id", id);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		die("json", ENOMEM);
	return s;
}

static void ovsdb_send(const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(ovsdb_fd, text + off, len - off);
		if (n < 0)
			die("ovsdb write", errno);
		off += (size_t)n;
	}
}

/* The next reply (not an echo or notification): its result array (the caller's); dies on an
 * error of the request or of one of its operations. */
static json_t *ovsdb_reply(void)
{
	for (;;) {
		json_error_t err;
		json_t *j = rlen ? json_loadb(rbuf, rlen, JSON_DISABLE_EOF_CHECK, &err) : NULL;
		ssize_t n;

		if (j) {
			json_t *res = json_incref(json_object_get(j, "result")), *op;
			size_t i;

			memmove(rbuf, rbuf + err.position, rlen - err.position);
			rlen -= err.position;
			if (!json_is_null(json_object_get(j, "error")) || !json_is_array(res))
				die("ovsdb: the request failed", EIO);
			json_decref(j);
			json_array_foreach(res, i, op) if (json_object_get(op, "error"))
				die(json_string_value(json_object_get(op, "error")), EIO);
			return res;
		}
		if (rlen && json_error_code(&err) != json_error_premature_end_of_input)
			die("ovsdb: bad answer", EBADMSG);
		if (rlen == sizeof(rbuf))
			die("ovsdb: answer too long", EMSGSIZE);
		n = read(ovsdb_fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (n <= 0)
			die("ovsdb read", n ? errno : ECONNRESET);
		rlen += (size_t)n;
	}
}

static json_t *where_name(const char *name)
{
	return json_pack("[[s,s,s]]", "name", "==", name);
}

static void cmd_ovs(char **a)
{
	int nsfd = open_ns(a[1]);
	char *add, *wait, *both;
	json_t *ids;

	nl_open();
	veth(nsfd, a[2], a[3], NULL);
	tx_off(a[2]);

	ovsdb_connect(a[0]);
	ids = json_pack("[s,[[s,s],[s,s],[s,s]]]", "map", "lanjoin-owner", "bench",
			"lanjoin-target", a[1], "lanjoin-ifname", a[3]);
	add = ovsdb_request(1, json_pack("[{s:s,s:s,s:{s:s},s:s},{s:s,s:s,s:{s:s,s:[s,s],s:o},s:s},"
					 "{s:s,s:s,s:o,s:[[s,s,[s,[[s,s]]]]]}]",
					 "op", "insert", "table", "Interface", "row", "name", a[2],
					 "uuid-name", "i", "op", "insert", "table", "Port", "row",
					 "name", a[2], "interfaces", "named-uuid", "i",
					 "external_ids", ids, "uuid-name", "p", "op", "mutate",
					 "table", "Bridge", "where", where_name(a[4]), "mutations",
					 "ports", "insert", "set", "named-uuid", "p"));
	wait = ovsdb_request(2, json_pack("[{s:s,s:i,s:s,s:o,s:[s],s:s,s:[{s:[s,[]]}]}]", "op",
					  "wait", "timeout", 20000, "table", "Interface", "where",
					  where_name(a[2]), "columns", "ofport", "until",
					  "!=", "rows", "ofport", "set"));
	both = malloc(strlen(add) + strlen(wait) + 1);
	if (!both)
		die("malloc", ENOMEM);
	strcpy(stpcpy(both, add), wait);
	ovsdb_send(both); /* one write: the server answers the wait once the port is used */
	json_decref(ovsdb_reply());
	json_decref(ovsdb_reply());

	enter(nsfd);
	tx_off(a[3]);
	addressing(a[3], a[5], a[6], 0);
}

static void cmd_ovs_del(char **a)
{
	json_t *res, *uuid, *row;
	json_int_t want;
	char *s;

	ovsdb_connect(a[0]);
	s = ovsdb_request(1, json_pack("[{s:s,s:s,s:o,s:[s]}]", "op", "select", "table", "Port",
				       "where", where_name(a[1]), "columns", "_uuid"));
	ovsdb_send(s);
	free(s);
	res = ovsdb_reply();
	uuid = json_object_get(json_array_get(json_object_get(json_array_get(res, 0), "rows"), 0),
			       "_uuid");
	if (!json_is_array(uuid))
		die(a[1], ENOENT);
	s = ovsdb_request(
		2, json_pack("[{s:s,s:s,s:[],s:[[s,s,[s,[O]]]]},{s:s,s:s,s:[],s:[[s,s,i]]},"
			     "{s:s,s:s,s:[],s:[s]}]",
			     "op", "mutate", "table", "Bridge", "where", "mutations", "ports",
			     "delete", "set", uuid, "op", "mutate", "table", "Open_vSwitch",
			     "where", "mutations", "next_cfg", "+=", 1, "op", "select", "table",
			     "Open_vSwitch", "where", "columns", "next_cfg"));
	json_decref(res);
	ovsdb_send(s);
	free(s);
	res = ovsdb_reply();
	row = json_array_get(json_object_get(json_array_get(res, 2), "rows"), 0);
	if (!json_is_integer(json_object_get(row, "next_cfg")))
		die("ovsdb: no next_cfg", EBADMSG);
	want = json_integer_value(json_object_get(row, "next_cfg"));
	json_decref(res);
	/* as lanjoin and ovs-vsctl: return once ovs-vswitchd has applied it */
	s = ovsdb_request(3,
			  json_pack("[{s:s,s:i,s:s,s:[],s:[s],s:s,s:[{s:I}]}]", "op", "wait",
				    "timeout", 20000, "table", "Open_vSwitch", "where", "columns",
				    "cur_cfg", "until", "==", "rows", "cur_cfg", want));
	ovsdb_send(s);
	free(s);
	json_decref(ovsdb_reply());

	nl_open();
	del(a[1]);
}

/* --- nat ----------------------------------------------------------------------------------- */

/*
 * One nf_tables transaction, as lanjoin sends it: BATCH_BEGIN, the requests (libnftnl builds
 * them, each asking for an acknowledgement), BATCH_END, in one sendmsg on a NETLINK_NETFILTER
 * socket; then the acknowledgements.
 */
static struct {
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
	uint32_t n;
} tx;

static void tx_add(struct nlmsghdr *nlh)
{
	tx.len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (tx.len + 4096 > sizeof(tx.buf))
		die("nf_tables batch", EMSGSIZE);
}

static struct nlmsghdr *tx_msg(uint16_t type, uint16_t flags)
{
	tx.n++;
	return nftnl_nlmsg_build_hdr(tx.buf + tx.len, type, NFPROTO_IPV4, flags | NLM_F_ACK, tx.n);
}

static void tx_begin(void)
{
	memset(&tx, 0, sizeof(tx));
	tx_add(nftnl_batch_begin(tx.buf, 0));
}

static void tx_commit(void)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	char rx[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint32_t acked = 0;

	tx_add(nftnl_batch_end(tx.buf + tx.len, tx.n + 1));
	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(s, tx.buf, tx.len) < 0)
		die("nf_tables socket", errno);
	while (acked < tx.n) {
		ssize_t n = mnl_socket_recvfrom(s, rx, sizeof(rx));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rx;
		int left = (int)n;

		if (n < 0)
			die("nf_tables answer", errno);
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error)
				die("nf_tables transaction", -e->error);
			acked++;
		}
	}
	mnl_socket_close(s);
}

static void tx_chain(uint16_t type, uint16_t flags, const char *table, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = tx_msg(type, flags);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	tx_add(nlh);
}

/* add rule TABLE CHAIN [iifname IIF] dnat|snat to ADDR */
static void tx_nat_rule(const char *table, const char *chain, const char *iif, uint32_t type,
			const char *addr)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = tx_msg(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	struct nftnl_expr *e;
	struct in_addr ip;

	if (inet_pton(AF_INET, addr, &ip) != 1)
		die(addr, EINVAL);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if (iif) {
		char name[IFNAMSIZ] = {0};

		snprintf(name, sizeof(name), "%s", iif);
		e = nftnl_expr_alloc("meta");
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_IIFNAME);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
		nftnl_rule_add_expr(r, e);
		e = nftnl_expr_alloc("cmp");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, name, sizeof(name));
		nftnl_rule_add_expr(r, e);
	}
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &ip, sizeof(ip));
	nftnl_rule_add_expr(r, e);
	e = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	tx_add(nlh);
}

/* create element TABLE SET { KEY : jump CHAIN } (chain NULL: delete element TABLE SET { KEY }) */
static void tx_elem(const char *table, const char *set, const char *key, const char *chain)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	struct in_addr ip;

	if (inet_pton(AF_INET, key, &ip) != 1)
		die(key, EINVAL);
	nlh = chain ? tx_msg(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL)
		    : tx_msg(NFT_MSG_DELSETELEM, 0);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &ip, sizeof(ip));
	if (chain) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	tx_add(nlh);
}

static const char *addr_of(const char *cidr, char *buf, size_t size)
{
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);

	if (n >= size)
		die(cidr, EINVAL);
	memcpy(buf, cidr, n);
	buf[n] = '\0';
	return buf;
}

static void cmd_nat(char **a)
{
	int nsfd = open_ns(a[0]);
	char lan[INET_ADDRSTRLEN], cidr[64], dnat[IFNAMSIZ + 8], snat[IFNAMSIZ + 8];
	const char *h = a[3], *t = a[7];

	addr_of(a[2], lan, sizeof(lan));
	nl_open();
	addr(RTM_NEWADDR, a[1], a[2], 1);
	veth(nsfd, h, a[4], NULL);
	snprintf(cidr, sizeof(cidr), "%s/31", a[5]);
	addr(RTM_NEWADDR, h, cidr, 0);
	snprintf(dnat, sizeof(dnat), "%s_dnat", h);
	snprintf(snat, sizeof(snat), "%s_snat", h);
	tx_begin();
	tx_chain(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, t, dnat);
	tx_nat_rule(t, dnat, NULL, NFT_NAT_DNAT, a[6]);
	tx_chain(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, t, snat);
	tx_nat_rule(t, snat, h, NFT_NAT_SNAT, lan);
	tx_elem(t, "inbound", lan, dnat);
	tx_elem(t, "outbound", a[6], snat);
	tx_commit();

	enter(nsfd);
	snprintf(cidr, sizeof(cidr), "%s/31", a[6]);
	addressing(a[4], cidr, a[5], 0);
}

static void cmd_nat_del(char **a)
{
	char lan[INET_ADDRSTRLEN], dnat[IFNAMSIZ + 8], snat[IFNAMSIZ + 8];
	const char *h = a[2], *t = a[4];

	snprintf(dnat, sizeof(dnat), "%s_dnat", h);
	snprintf(snat, sizeof(snat), "%s_snat", h);
	tx_begin();
	tx_elem(t, "inbound", addr_of(a[1], lan, sizeof(lan)), NULL);
	tx_elem(t, "outbound", a[3], NULL);
	tx_chain(NFT_MSG_DELCHAIN, 0, t, dnat);
	tx_chain(NFT_MSG_DELCHAIN, 0, t, snat);
	tx_commit();
	nl_open();
	del(h);
	addr(RTM_DELADDR, a[0], a[1], 0);
}

/* --- routed -------------------------------------------------------------------------------- */

/* The host route ADDRESS/32 via dev (RTM_NEWROUTE), or the proxy entry on parent. */
static void host_route(const char *address, const char *dev)
{
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct in_addr ip;

	if (inet_pton(AF_INET, address, &ip) != 1)
		die(address, EINVAL);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = RT_SCOPE_LINK;
	mnl_attr_put(nlh, RTA_DST, 4, &ip);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex(dev));
	transact(nlh, "add host route");
}

static void proxy_neigh(uint16_t type, const char *address, const char *parent)
{
	struct nlmsghdr *nlh = msg(type, type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_EXCL : 0,
				   sizeof(struct ndmsg));
	struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct in_addr ip;

	if (inet_pton(AF_INET, address, &ip) != 1)
		die(address, EINVAL);
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)ifindex(parent);
	nd->ndm_state = NUD_PERMANENT;
	nd->ndm_flags = NTF_PROXY;
	mnl_attr_put(nlh, NDA_DST, 4, &ip);
	transact(nlh, type == RTM_NEWNEIGH ? "add proxy entry" : "delete proxy entry");
}

static void cmd_routed(char **a)
{
	int nsfd = open_ns(a[0]);
	char cidr[64];

	nl_open();
	veth(nsfd, a[2], a[3], NULL);
	addr(RTM_NEWADDR, a[2], HOST_GW "/32", 0);
	host_route(a[4], a[2]);
	proxy_neigh(RTM_NEWNEIGH, a[4], a[1]);
	enter(nsfd);
	snprintf(cidr, sizeof(cidr), "%s/32", a[4]);
	addressing(a[3], cidr, HOST_GW, 1);
}

static void cmd_routed_del(char **a)
{
	nl_open();
	del(a[1]);
	proxy_neigh(RTM_DELNEIGH, a[2], a[0]);
}

int floor_way(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		void (*fn)(char **a);
	} cmds[] = {
		{"ovs", 7, cmd_ovs},	   {"ovs-del", 2, cmd_ovs_del},
		{"nat", 8, cmd_nat},	   {"nat-del", 5, cmd_nat_del},
		{"routed", 5, cmd_routed}, {"routed-del", 3, cmd_routed_del},
	};

	if (argc < 1)
		return -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name) && argc - 1 == cmds[i].args) {
			cmds[i].fn(argv + 1);
			return 0;
		}
	return -1;
}
