/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests lanjoin sends, built without a socket and parsed back with libmnl:
 * message type, flags, family header and every attribute (none missing, none extra). Every
 * request is also built into heap buffers of each size below its length: the builder must
 * refuse with -EMSGSIZE and write nothing past the buffer (the sanitizer build sees that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/addr-msg.h"
#include "lib/kernel/link.h"
#include "lib/kernel/link-msg.h"
#include "lib/kernel/neigh-msg.h"
#include "lib/kernel/route.h"
#include "lib/kernel/route-msg.h"
#include "lib/kernel/rule.h"
#include "lib/kernel/rule-msg.h"

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

static char buf[LJ_NL_REQ_SIZE] __attribute__((aligned(8)));

/*
 * Build fn(buf, size, ...) in the test buffer, then into heap buffers of every size up to the
 * request's length: each smaller one is refused with -EMSGSIZE, the exact one gives the same
 * bytes. Leaves the request in buf.
 */
#define BUILD(fn, ...)                                                                             \
	do {                                                                                       \
		size_t len_;                                                                       \
		assert_int_equal(fn(buf, sizeof(buf), __VA_ARGS__), 0);                            \
		len_ = ((const struct nlmsghdr *)buf)->nlmsg_len;                                  \
		assert_true(len_ <= sizeof(buf));                                                  \
		for (size_t size_ = 0; size_ <= len_; size_++) {                                   \
			void *small_ = malloc(size_ ? size_ : 1);                                  \
			assert_non_null(small_);                                                   \
			assert_int_equal(fn(small_, size_, __VA_ARGS__),                           \
					 size_ < len_ ? -EMSGSIZE : 0);                            \
			if (size_ == len_)                                                         \
				assert_memory_equal(small_, buf, len_);                            \
			free(small_);                                                              \
		}                                                                                  \
	} while (0)

#define MAX_TYPE 128

/* The attributes of one level, by type; each type at most once. */
struct attrs {
	const struct nlattr *tb[MAX_TYPE];
	unsigned n;	/* how many */
	size_t covered; /* bytes they take, padding included */
};

static int collect_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type < MAX_TYPE);
	assert_null(a->tb[type]);
	a->tb[type] = attr;
	a->n++;
	a->covered += MNL_ALIGN(attr->nla_len);
	return MNL_CB_OK;
}

/* The request in buf: its type and flags (NLM_F_REQUEST added), no sequence number yet. */
static const struct nlmsghdr *msg(uint16_t type, uint16_t flags)
{
	const struct nlmsghdr *nlh = (const void *)buf;

	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | flags);
	assert_int_equal(nlh->nlmsg_seq, 0);
	return nlh;
}

/* Parse the attributes after the family header (hdr_size bytes): n of them, filling it all. */
static void parse(const struct nlmsghdr *nlh, size_t hdr_size, unsigned n, struct attrs *a)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(mnl_attr_parse(nlh, (unsigned)hdr_size, collect_cb, a), MNL_CB_OK);
	assert_int_equal(a->covered, nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(hdr_size));
	assert_int_equal(a->n, n);
}

/* The same inside nest (after skip bytes of a header of its own). */
static void parse_nested(const struct nlattr *nest, size_t skip, unsigned n, struct attrs *a)
{
	size_t len;

	assert_non_null(nest);
	len = mnl_attr_get_payload_len(nest) - MNL_ALIGN(skip);
	memset(a, 0, sizeof(*a));
	assert_int_equal(
		mnl_attr_parse_payload((const char *)mnl_attr_get_payload(nest) + MNL_ALIGN(skip),
				       len, collect_cb, a),
		MNL_CB_OK);
	assert_int_equal(a->covered, len);
	assert_int_equal(a->n, n);
}

static void expect_u32(const struct attrs *a, uint16_t type, uint32_t v)
{
	assert_non_null(a->tb[type]);
	assert_int_equal(mnl_attr_validate(a->tb[type], MNL_TYPE_U32), 0);
	assert_int_equal(mnl_attr_get_u32(a->tb[type]), v);
}

static void expect_u8(const struct attrs *a, uint16_t type, uint8_t v)
{
	assert_non_null(a->tb[type]);
	assert_int_equal(mnl_attr_validate(a->tb[type], MNL_TYPE_U8), 0);
	assert_int_equal(mnl_attr_get_u8(a->tb[type]), v);
}

static void expect_str(const struct attrs *a, uint16_t type, const char *s)
{
	assert_non_null(a->tb[type]);
	assert_int_equal(mnl_attr_validate(a->tb[type], MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(a->tb[type]), s);
}

static void expect_bytes(const struct attrs *a, uint16_t type, const void *bytes, size_t len)
{
	assert_non_null(a->tb[type]);
	assert_int_equal(mnl_attr_get_payload_len(a->tb[type]), len);
	assert_memory_equal(mnl_attr_get_payload(a->tb[type]), bytes, len);
}

static struct lj_ip ip(const char *s)
{
	struct lj_ip r;

	assert_int_equal(lj_parse_ip(s, &r), 0);
	return r;
}

static struct lj_cidr cidr(const char *s)
{
	struct lj_cidr c;

	assert_int_equal(lj_parse_cidr(s, true, &c), 0);
	return c;
}

static const uint8_t mac[LJ_MAC_LEN] = {0x02, 0x42, 0xc6, 0x33, 0x64, 0x75};

/* The ifinfomsg of the request in buf. */
static const struct ifinfomsg *ifi_of(const struct nlmsghdr *nlh, int index, unsigned flags,
				      unsigned change)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, index);
	assert_int_equal(ifi->ifi_flags, flags);
	assert_int_equal(ifi->ifi_change, change);
	return ifi;
}

static void test_link_get_dump(void **state)
{
	struct attrs a;
	const struct nlmsghdr *nlh;

	BUILD(lj_link_msg_get, "em1", 0);
	nlh = msg(RTM_GETLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "em1");
	expect_u32(&a, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

	BUILD(lj_link_msg_get, NULL, 7);
	nlh = msg(RTM_GETLINK, 0);
	ifi_of(nlh, 7, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_u32(&a, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

	BUILD(lj_link_msg_dump, 0);
	nlh = msg(RTM_GETLINK, NLM_F_DUMP);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_u32(&a, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

	BUILD(lj_link_msg_dump, 5);
	nlh = msg(RTM_GETLINK, NLM_F_DUMP);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_u32(&a, IFLA_MASTER, 5);
	expect_u32(&a, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);

	BUILD(lj_link_msg_get_nsid, 9);
	nlh = msg(RTM_GETNSID, 0);
	assert_int_equal(((const struct rtgenmsg *)mnl_nlmsg_get_payload(nlh))->rtgen_family,
			 AF_UNSPEC);
	parse(nlh, sizeof(struct rtgenmsg), 1, &a);
	expect_u32(&a, NETNSA_FD, 9);

	assert_int_equal(lj_link_msg_dump_nsids(buf, sizeof(buf)), 0);
	nlh = msg(RTM_GETNSID, NLM_F_DUMP);
	parse(nlh, sizeof(struct rtgenmsg), 0, &a);

	BUILD(lj_link_msg_dump_in, 3);
	nlh = msg(RTM_GETLINK, NLM_F_DUMP);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_u32(&a, IFLA_TARGET_NETNSID, 3);
	expect_u32(&a, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
}

static void test_link_add_veth(void **state)
{
	struct lj_veth_opts o = {
		.name = "ljv3f2a91c0",
		.peer_name = "eth1",
		.peer_netns_fd = 9,
		.mtu = 1400,
		.peer_mtu = 1450,
		.peer_mac = mac,
		.master = 4,
		.up = true, /* neither up nor no_ipv6 is part of the creating request */
		.no_ipv6 = true,
	};
	struct attrs a, info, data, peer;
	const struct nlmsghdr *nlh;

	BUILD(lj_link_msg_add_veth, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 4, &a);
	expect_str(&a, IFLA_IFNAME, "ljv3f2a91c0");
	expect_u32(&a, IFLA_MTU, 1400);
	expect_u32(&a, IFLA_MASTER, 4);
	parse_nested(a.tb[IFLA_LINKINFO], 0, 2, &info);
	expect_str(&info, IFLA_INFO_KIND, "veth");
	parse_nested(info.tb[IFLA_INFO_DATA], 0, 1, &data);
	assert_non_null(data.tb[VETH_INFO_PEER]);
	/* The peer: its own ifinfomsg, then its attributes. */
	assert_true(mnl_attr_get_payload_len(data.tb[VETH_INFO_PEER]) >= sizeof(struct ifinfomsg));
	assert_int_equal(((const struct ifinfomsg *)mnl_attr_get_payload(data.tb[VETH_INFO_PEER]))
				 ->ifi_family,
			 AF_UNSPEC);
	parse_nested(data.tb[VETH_INFO_PEER], sizeof(struct ifinfomsg), 4, &peer);
	expect_str(&peer, IFLA_IFNAME, "eth1");
	expect_u32(&peer, IFLA_MTU, 1450);
	expect_bytes(&peer, IFLA_ADDRESS, mac, LJ_MAC_LEN);
	expect_u32(&peer, IFLA_NET_NS_FD, 9);

	/* The least: two names, the peer in the caller's namespace. */
	o = (struct lj_veth_opts){.name = "ljv0", .peer_name = "ljv0p", .peer_netns_fd = -1};
	BUILD(lj_link_msg_add_veth, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "ljv0");
	parse_nested(a.tb[IFLA_LINKINFO], 0, 2, &info);
	parse_nested(info.tb[IFLA_INFO_DATA], 0, 1, &data);
	parse_nested(data.tb[VETH_INFO_PEER], sizeof(struct ifinfomsg), 1, &peer);
	expect_str(&peer, IFLA_IFNAME, "ljv0p");
}

static void test_link_add_bridge(void **state)
{
	struct lj_bridge_opts o = {
		.name = "br-lan",
		.alias = "lanjoin", /* set by a second request: not in this one */
		.mtu = 9000,
		.mac = mac,
		.up = true,
	};
	struct attrs a, info;
	const struct nlmsghdr *nlh;

	BUILD(lj_link_msg_add_bridge, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi_of(nlh, 0, IFF_UP, IFF_UP);
	parse(nlh, sizeof(struct ifinfomsg), 4, &a);
	expect_str(&a, IFLA_IFNAME, "br-lan");
	expect_u32(&a, IFLA_MTU, 9000);
	expect_bytes(&a, IFLA_ADDRESS, mac, LJ_MAC_LEN);
	parse_nested(a.tb[IFLA_LINKINFO], 0, 1, &info);
	expect_str(&info, IFLA_INFO_KIND, "bridge");

	o = (struct lj_bridge_opts){.name = "br0"};
	BUILD(lj_link_msg_add_bridge, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "br0");
	parse_nested(a.tb[IFLA_LINKINFO], 0, 1, &info);
	expect_str(&info, IFLA_INFO_KIND, "bridge");
}

static void test_link_add_macvlan(void **state)
{
	struct lj_macvlan_opts o = {
		.name = "eth1",
		.parent = 3,
		.netns_fd = 8,
		.mtu = 1500,
		.mac = mac,
		.up = true,
	};
	struct attrs a, info, data;
	const struct nlmsghdr *nlh;

	BUILD(lj_link_msg_add_macvlan, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi_of(nlh, 0, IFF_UP, IFF_UP);
	parse(nlh, sizeof(struct ifinfomsg), 6, &a);
	expect_str(&a, IFLA_IFNAME, "eth1");
	expect_u32(&a, IFLA_LINK, 3);
	expect_u32(&a, IFLA_NET_NS_FD, 8);
	expect_u32(&a, IFLA_MTU, 1500);
	expect_bytes(&a, IFLA_ADDRESS, mac, LJ_MAC_LEN);
	parse_nested(a.tb[IFLA_LINKINFO], 0, 2, &info);
	expect_str(&info, IFLA_INFO_KIND, "macvlan");
	parse_nested(info.tb[IFLA_INFO_DATA], 0, 1, &data);
	expect_u32(&data, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE); /* mode 0 means bridge */

	/* A host shim: in the caller's namespace, down, another mode. */
	o = (struct lj_macvlan_opts){
		.name = "ljs-em1", .parent = 2, .netns_fd = -1, .mode = MACVLAN_MODE_PASSTHRU};
	BUILD(lj_link_msg_add_macvlan, &o);
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 3, &a);
	expect_str(&a, IFLA_IFNAME, "ljs-em1");
	expect_u32(&a, IFLA_LINK, 2);
	parse_nested(a.tb[IFLA_LINKINFO], 0, 2, &info);
	parse_nested(info.tb[IFLA_INFO_DATA], 0, 1, &data);
	expect_u32(&data, IFLA_MACVLAN_MODE, MACVLAN_MODE_PASSTHRU);
}

/* The request in buf sets the IPv6 address generation mode of name to mode. */
static void expect_gen_mode(const struct nlmsghdr *nlh, const char *name, uint8_t mode)
{
	struct attrs a, af, in6;

	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, name);
	parse_nested(a.tb[IFLA_AF_SPEC], 0, 1, &af);
	parse_nested(af.tb[AF_INET6], 0, 1, &in6);
	expect_u8(&in6, IFLA_INET6_ADDR_GEN_MODE, mode);
}

static void test_link_set(void **state)
{
	const struct nlmsghdr *nlh;
	struct attrs a;

	BUILD(lj_link_msg_setup, "ljv0", true, true);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, IFF_UP, IFF_UP);
	expect_gen_mode(nlh, "ljv0", IN6_ADDR_GEN_MODE_NONE);

	BUILD(lj_link_msg_setup, "ljv0", false, false);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_str(&a, IFLA_IFNAME, "ljv0");

	BUILD(lj_link_msg_set_addr_gen_mode, "em1", IN6_ADDR_GEN_MODE_STABLE_PRIVACY);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	expect_gen_mode(nlh, "em1", IN6_ADDR_GEN_MODE_STABLE_PRIVACY);

	/* arp_notify through IFLA_AF_SPEC: AF_INET: IFLA_INET_CONF, typed by IPV4_DEVCONF_ index */
	BUILD(lj_link_msg_set_arp_notify, "eth1", true);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	{
		struct attrs af, in, conf;

		parse(nlh, sizeof(struct ifinfomsg), 2, &a);
		expect_str(&a, IFLA_IFNAME, "eth1");
		parse_nested(a.tb[IFLA_AF_SPEC], 0, 1, &af);
		parse_nested(af.tb[AF_INET], 0, 1, &in);
		parse_nested(in.tb[IFLA_INET_CONF], 0, 1, &conf);
		expect_u32(&conf, IPV4_DEVCONF_ARP_NOTIFY, 1);
	}

	{
		static const uint8_t m[6] = {0x02, 0, 0, 0, 0x01, 0x17};

		BUILD(lj_link_msg_set_mac, "eth1", m);
		nlh = msg(RTM_NEWLINK, 0);
		ifi_of(nlh, 0, 0, 0);
		parse(nlh, sizeof(struct ifinfomsg), 2, &a);
		expect_str(&a, IFLA_IFNAME, "eth1");
		expect_bytes(&a, IFLA_ADDRESS, m, sizeof(m));
	}

	BUILD(lj_link_msg_set_up, "ljv0", true);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, IFF_UP, IFF_UP);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_str(&a, IFLA_IFNAME, "ljv0");

	BUILD(lj_link_msg_set_up, "ljv0", false);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, IFF_UP);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);

	BUILD(lj_link_msg_set_alias, "br-lan", "lanjoin");
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "br-lan");
	expect_str(&a, IFLA_IFALIAS, "lanjoin");

	BUILD(lj_link_msg_set_master, "em1", 6);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "em1");
	expect_u32(&a, IFLA_MASTER, 6);

	BUILD(lj_link_msg_set_master, "em1", 0); /* leave the bridge */
	nlh = msg(RTM_NEWLINK, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_u32(&a, IFLA_MASTER, 0);

	BUILD(lj_link_msg_set_group, "ljv0", 0x4c4a0001u);
	nlh = msg(RTM_NEWLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 2, &a);
	expect_str(&a, IFLA_IFNAME, "ljv0");
	expect_u32(&a, IFLA_GROUP, 0x4c4a0001u);
}

static void test_link_del(void **state)
{
	const struct nlmsghdr *nlh;
	struct attrs a;

	BUILD(lj_link_msg_del, "ljv0");
	nlh = msg(RTM_DELLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_str(&a, IFLA_IFNAME, "ljv0");

	BUILD(lj_link_msg_del_group, 0x4c4a0001u);
	nlh = msg(RTM_DELLINK, 0);
	ifi_of(nlh, 0, 0, 0);
	parse(nlh, sizeof(struct ifinfomsg), 1, &a);
	expect_u32(&a, IFLA_GROUP, 0x4c4a0001u);
}

/* The ifaddrmsg of the request in buf. */
static void ifa_of(const struct nlmsghdr *nlh, int family, int prefixlen, int index, int scope,
		   int flags)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(ifa->ifa_family, family);
	assert_int_equal(ifa->ifa_prefixlen, prefixlen);
	assert_int_equal(ifa->ifa_index, index);
	assert_int_equal(ifa->ifa_scope, scope);
	assert_int_equal(ifa->ifa_flags, flags);
}

static void test_addr(void **state)
{
	struct lj_cidr c = cidr("198.51.100.117/24");
	struct lj_ip brd = ip("198.51.100.255");
	const struct nlmsghdr *nlh;
	struct attrs a;

	BUILD(lj_addr_msg_add, 5, &c, IFA_F_NODAD);
	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa_of(nlh, AF_INET, 24, 5, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 4, &a);
	expect_bytes(&a, IFA_LOCAL, c.ip.bytes, 4);
	expect_bytes(&a, IFA_ADDRESS, c.ip.bytes, 4);
	expect_bytes(&a, IFA_BROADCAST, brd.bytes, 4);
	expect_u32(&a, IFA_FLAGS, IFA_F_NODAD);

	/* /31 and /32 have no broadcast address; no flags, no IFA_FLAGS. */
	c = cidr("198.51.100.117/32");
	BUILD(lj_addr_msg_add, 5, &c, 0);
	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa_of(nlh, AF_INET, 32, 5, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 2, &a);
	expect_bytes(&a, IFA_LOCAL, c.ip.bytes, 4);
	expect_bytes(&a, IFA_ADDRESS, c.ip.bytes, 4);

	c = cidr("2001:db8:1::117/64");
	BUILD(lj_addr_msg_add, 6, &c, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa_of(nlh, AF_INET6, 64, 6, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 3, &a);
	expect_bytes(&a, IFA_LOCAL, c.ip.bytes, 16);
	expect_bytes(&a, IFA_ADDRESS, c.ip.bytes, 16);
	expect_u32(&a, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);

	BUILD(lj_addr_msg_del, 6, &c);
	nlh = msg(RTM_DELADDR, 0);
	ifa_of(nlh, AF_INET6, 64, 6, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 2, &a);
	expect_bytes(&a, IFA_LOCAL, c.ip.bytes, 16);
	expect_bytes(&a, IFA_ADDRESS, c.ip.bytes, 16);

	BUILD(lj_addr_msg_dump, AF_UNSPEC, 0);
	nlh = msg(RTM_GETADDR, NLM_F_DUMP);
	ifa_of(nlh, AF_UNSPEC, 0, 0, 0, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 0, &a);

	BUILD(lj_addr_msg_dump, AF_INET6, 4);
	nlh = msg(RTM_GETADDR, NLM_F_DUMP);
	ifa_of(nlh, AF_INET6, 0, 4, 0, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 0, &a);
}

static void test_addr_full(void **state)
{
	struct lj_addr_full f = {
		.local = cidr("198.51.100.76/24"),
		.peer = ip("198.51.100.1"),
		.broadcast = ip("198.51.100.255"),
		.label = "em1:0",
		.scope = RT_SCOPE_UNIVERSE,
		.flags = IFA_F_NOPREFIXROUTE | IFA_F_PERMANENT, /* PERMANENT is not settable */
		.valid_lft = 100,
		.preferred_lft = 200, /* more than valid: cut to valid */
		.rt_priority = 50,
		.proto = 4,
	};
	uint32_t flags = IFA_F_NOPREFIXROUTE | IFA_F_NODAD;
	const struct ifa_cacheinfo *ci;
	const struct nlmsghdr *nlh;
	struct attrs a;
	unsigned n = 8;

#ifndef IFA_PROTO
	n = 7;
#endif
	BUILD(lj_addr_msg_add_full, 3, &f, "br-lan", IFA_F_NODAD, true);
	nlh = msg(RTM_NEWADDR, NLM_F_REPLACE);
	ifa_of(nlh, AF_INET, 24, 3, RT_SCOPE_UNIVERSE, (uint8_t)flags);
	parse(nlh, sizeof(struct ifaddrmsg), n, &a);
	expect_bytes(&a, IFA_LOCAL, f.local.ip.bytes, 4);
	expect_bytes(&a, IFA_ADDRESS, f.peer.bytes, 4);
	expect_bytes(&a, IFA_BROADCAST, f.broadcast.bytes, 4);
	expect_str(&a, IFA_LABEL, "br-lan");
	expect_u32(&a, IFA_FLAGS, flags);
	assert_non_null(a.tb[IFA_CACHEINFO]);
	assert_int_equal(mnl_attr_get_payload_len(a.tb[IFA_CACHEINFO]), sizeof(*ci));
	ci = mnl_attr_get_payload(a.tb[IFA_CACHEINFO]);
	assert_int_equal(ci->ifa_valid, 100);
	assert_int_equal(ci->ifa_prefered, 100);
	expect_u32(&a, IFA_RT_PRIORITY, 50);
#ifdef IFA_PROTO
	expect_u8(&a, IFA_PROTO, 4);
#endif

	/* IPv6, forever, no label: the address twice and the flags, created exclusively. */
	f = (struct lj_addr_full){
		.local = cidr("2001:db8:1::76/64"),
		.scope = RT_SCOPE_LINK,
		.valid_lft = UINT32_MAX,
		.preferred_lft = UINT32_MAX,
	};
	BUILD(lj_addr_msg_add_full, 3, &f, NULL, 0, false);
	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa_of(nlh, AF_INET6, 64, 3, RT_SCOPE_LINK, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 3, &a);
	expect_bytes(&a, IFA_LOCAL, f.local.ip.bytes, 16);
	expect_bytes(&a, IFA_ADDRESS, f.local.ip.bytes, 16);
	expect_u32(&a, IFA_FLAGS, 0);

	/* A lifetime of 0 left is sent as 1 s (0 would mean "expired"). */
	f.valid_lft = 0;
	f.preferred_lft = 0;
	BUILD(lj_addr_msg_add_full, 3, &f, NULL, 0, false);
	parse((const void *)buf, sizeof(struct ifaddrmsg), 4, &a);
	ci = mnl_attr_get_payload(a.tb[IFA_CACHEINFO]);
	assert_int_equal(ci->ifa_valid, 1);
	assert_int_equal(ci->ifa_prefered, 0);

	BUILD(lj_addr_msg_del_full, 3, &f);
	nlh = msg(RTM_DELADDR, 0);
	ifa_of(nlh, AF_INET6, 64, 3, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 1, &a);
	expect_bytes(&a, IFA_LOCAL, f.local.ip.bytes, 16);

	f = (struct lj_addr_full){.local = cidr("198.51.100.76/24"), .peer = ip("198.51.100.1")};
	BUILD(lj_addr_msg_del_full, 3, &f);
	nlh = msg(RTM_DELADDR, 0);
	ifa_of(nlh, AF_INET, 24, 3, RT_SCOPE_UNIVERSE, 0);
	parse(nlh, sizeof(struct ifaddrmsg), 2, &a);
	expect_bytes(&a, IFA_LOCAL, f.local.ip.bytes, 4);
	expect_bytes(&a, IFA_ADDRESS, f.peer.bytes, 4);
}

/* The rtmsg of the request in buf. */
static const struct rtmsg *rtm_of(const struct nlmsghdr *nlh, int family, int dst_len, int table,
				  int protocol, int scope, int type, unsigned flags)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(rtm->rtm_family, family);
	assert_int_equal(rtm->rtm_dst_len, dst_len);
	assert_int_equal(rtm->rtm_table, table);
	assert_int_equal(rtm->rtm_protocol, protocol);
	assert_int_equal(rtm->rtm_scope, scope);
	assert_int_equal(rtm->rtm_type, type);
	assert_int_equal(rtm->rtm_flags, flags);
	return rtm;
}

static void test_route(void **state)
{
	static const struct {
		enum lj_route_op op;
		uint16_t type, flags;
	} ops[] = {
		{LJ_ROUTE_ADD, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL},
		{LJ_ROUTE_APPEND, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND},
		{LJ_ROUTE_REPLACE, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE},
		{LJ_ROUTE_DEL, RTM_DELROUTE, 0},
	};
	struct lj_route rt = {
		.dst = cidr("0.0.0.0/0"),
		.via = ip("198.51.100.254"),
		.oif = 7,
		.metric = 100,
		.onlink = true,
	};
	const struct nlmsghdr *nlh;
	struct attrs a;

	/* A default route through a gateway on the link, in the main table. */
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		bool del = ops[i].op == LJ_ROUTE_DEL;
		BUILD(lj_route_msg, ops[i].op, &rt);
		nlh = msg(ops[i].type, ops[i].flags);
		rtm_of(nlh, AF_INET, 0, RT_TABLE_MAIN, RTPROT_STATIC,
		       del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE, RTN_UNICAST, RTNH_F_ONLINK);
		parse(nlh, sizeof(struct rtmsg), 3, &a);
		expect_bytes(&a, RTA_GATEWAY, rt.via.bytes, 4);
		expect_u32(&a, RTA_OIF, 7);
		expect_u32(&a, RTA_PRIORITY, 100);
	}

	/* A connected host route in a table above 255: RTA_TABLE says which. */
	rt = (struct lj_route){.dst = cidr("2001:db8:1::117/128"), .oif = 9, .table = 1000};
	BUILD(lj_route_msg, LJ_ROUTE_ADD, &rt);
	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm_of(nlh, AF_INET6, 128, RT_TABLE_UNSPEC, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST, 0);
	parse(nlh, sizeof(struct rtmsg), 3, &a);
	expect_u32(&a, RTA_TABLE, 1000);
	expect_bytes(&a, RTA_DST, rt.dst.ip.bytes, 16);
	expect_u32(&a, RTA_OIF, 9);

	/* Table 200 fits the header. */
	rt = (struct lj_route){
		.dst = cidr("203.0.113.0/24"), .via = ip("198.51.100.254"), .table = 200};
	BUILD(lj_route_msg, LJ_ROUTE_DEL, &rt);
	nlh = msg(RTM_DELROUTE, 0);
	rtm_of(nlh, AF_INET, 24, 200, RTPROT_STATIC, RT_SCOPE_NOWHERE, RTN_UNICAST, 0);
	parse(nlh, sizeof(struct rtmsg), 2, &a);
	expect_bytes(&a, RTA_DST, rt.dst.ip.bytes, 4);
	expect_bytes(&a, RTA_GATEWAY, rt.via.bytes, 4);
}

static void test_route_info(void **state)
{
	struct lj_route_info rt = {
		.family = AF_INET6,
		.dst_len = 64,
		.src_len = 56,
		.protocol = RTPROT_RA,
		.scope = RT_SCOPE_UNIVERSE,
		.type = RTN_UNICAST,
		.flags = RTNH_F_ONLINK | RTM_F_CLONED, /* only ONLINK is sent again */
		.table = RT_TABLE_MAIN,
		.dst = ip("2001:db8:1::"),
		.src = ip("2001:db8:2::"),
		.gateway = ip("fe80::1"),
		.prefsrc = ip("2001:db8:1::76"),
		.has_priority = true,
		.priority = 1024,
		.flow = 3,
		.has_pref = true,
		.pref = 1,
		.expires = 1800,
		.metrics_mask = 1u << RTAX_MTU | 1u << RTAX_HOPLIMIT,
	};
	const struct nlmsghdr *nlh;
	struct attrs a, m;

	rt.metrics[RTAX_MTU] = 1400;
	rt.metrics[RTAX_HOPLIMIT] = 64;
	BUILD(lj_route_msg_info, LJ_ROUTE_REPLACE, &rt, 11);
	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(rtm_of(nlh, AF_INET6, 64, RT_TABLE_MAIN, RTPROT_RA, RT_SCOPE_UNIVERSE,
				RTN_UNICAST, RTNH_F_ONLINK)
				 ->rtm_src_len,
			 56);
	parse(nlh, sizeof(struct rtmsg), 11, &a);
	expect_u32(&a, RTA_TABLE, RT_TABLE_MAIN);
	expect_bytes(&a, RTA_DST, rt.dst.bytes, 16);
	expect_bytes(&a, RTA_SRC, rt.src.bytes, 16);
	expect_bytes(&a, RTA_GATEWAY, rt.gateway.bytes, 16);
	expect_u32(&a, RTA_OIF, 11);
	expect_u32(&a, RTA_PRIORITY, 1024);
	expect_bytes(&a, RTA_PREFSRC, rt.prefsrc.bytes, 16);
	expect_u32(&a, RTA_FLOW, 3);
	expect_u8(&a, RTA_PREF, 1);
	expect_u32(&a, RTA_EXPIRES, 1800);
	parse_nested(a.tb[RTA_METRICS], 0, 2, &m);
	expect_u32(&m, RTAX_MTU, 1400);
	expect_u32(&m, RTAX_HOPLIMIT, 64);

	/* A delete names the route only: table, destination, source, gateway, link, metric. */
	BUILD(lj_route_msg_info, LJ_ROUTE_DEL, &rt, 11);
	nlh = msg(RTM_DELROUTE, 0);
	parse(nlh, sizeof(struct rtmsg), 6, &a);
	expect_u32(&a, RTA_TABLE, RT_TABLE_MAIN);
	expect_u32(&a, RTA_OIF, 11);

	/* IPv4 in table 1000, no gateway, no metric: the header's table is UNSPEC. */
	rt = (struct lj_route_info){.family = AF_INET,
				    .dst_len = 24,
				    .protocol = RTPROT_KERNEL,
				    .scope = RT_SCOPE_LINK,
				    .type = RTN_UNICAST,
				    .table = 1000,
				    .dst = ip("198.51.100.0"),
				    .expires = 60 /* IPv6 only */};
	BUILD(lj_route_msg_info, LJ_ROUTE_ADD, &rt, 2);
	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm_of(nlh, AF_INET, 24, RT_TABLE_UNSPEC, RTPROT_KERNEL, RT_SCOPE_LINK, RTN_UNICAST, 0);
	parse(nlh, sizeof(struct rtmsg), 3, &a);
	expect_u32(&a, RTA_TABLE, 1000);
	expect_bytes(&a, RTA_DST, rt.dst.bytes, 4);
	expect_u32(&a, RTA_OIF, 2);
}

static void test_route_dump_get(void **state)
{
	struct lj_ip dst = ip("203.0.113.1"), none = {.family = AF_UNSPEC};
	const struct nlmsghdr *nlh;
	struct attrs a;

	BUILD(lj_route_msg_dump, AF_INET6, 0);
	nlh = msg(RTM_GETROUTE, NLM_F_DUMP);
	rtm_of(nlh, AF_INET6, 0, 0, 0, 0, 0, 0);
	parse(nlh, sizeof(struct rtmsg), 0, &a);

	BUILD(lj_route_msg_dump, AF_INET, 7);
	nlh = msg(RTM_GETROUTE, NLM_F_DUMP);
	rtm_of(nlh, AF_INET, 0, 0, 0, 0, 0, 0);
	parse(nlh, sizeof(struct rtmsg), 1, &a);
	expect_u32(&a, RTA_OIF, 7);

	BUILD(lj_route_msg_get, &dst);
	nlh = msg(RTM_GETROUTE, 0);
	rtm_of(nlh, AF_INET, 32, 0, 0, 0, 0, 0);
	parse(nlh, sizeof(struct rtmsg), 1, &a);
	expect_bytes(&a, RTA_DST, dst.bytes, 4);

	assert_int_equal(lj_route_msg_get(buf, sizeof(buf), &none), -EAFNOSUPPORT);
}

static void test_rule(void **state)
{
	struct lj_rule rule = {.src = ip("198.51.100.117"), .table = 1000, .priority = 32000};
	const struct fib_rule_hdr *frh;
	const struct nlmsghdr *nlh;
	struct attrs a;

	BUILD(lj_rule_msg, RTM_NEWRULE, &rule);
	nlh = msg(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->src_len, 32);
	assert_int_equal(frh->dst_len, 0);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	parse(nlh, sizeof(*frh), 3, &a);
	expect_bytes(&a, FRA_SRC, rule.src.bytes, 4);
	expect_u32(&a, FRA_TABLE, 1000);
	expect_u32(&a, FRA_PRIORITY, 32000);

	rule = (struct lj_rule){.src = ip("2001:db8:1::117"), .table = 200, .priority = 100};
	BUILD(lj_rule_msg, RTM_DELRULE, &rule);
	nlh = msg(RTM_DELRULE, 0);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	assert_int_equal(frh->src_len, 128);
	assert_int_equal(frh->table, 200);
	parse(nlh, sizeof(*frh), 3, &a);
	expect_bytes(&a, FRA_SRC, rule.src.bytes, 16);
	expect_u32(&a, FRA_TABLE, 200);
	expect_u32(&a, FRA_PRIORITY, 100);

	BUILD(lj_rule_msg_dump, AF_INET6);
	nlh = msg(RTM_GETRULE, NLM_F_DUMP);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	parse(nlh, sizeof(*frh), 0, &a);

	rule.src.family = AF_UNSPEC;
	assert_int_equal(lj_rule_msg(buf, sizeof(buf), RTM_NEWRULE, &rule), -EAFNOSUPPORT);
}

static void test_neigh(void **state)
{
	static const uint16_t types[] = {RTM_GETNEIGH, RTM_DELNEIGH};
	struct lj_ip addrs[] = {ip("198.51.100.117"), ip("2001:db8:1::117")};
	const struct nlmsghdr *nlh;
	const struct ndmsg *ndm;
	struct attrs a;

	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < 2; i++) {
			BUILD(lj_neigh_msg, types[t], 4, &addrs[i]);
			nlh = msg(types[t], 0);
			ndm = mnl_nlmsg_get_payload(nlh);
			assert_int_equal(ndm->ndm_family, addrs[i].family);
			assert_int_equal(ndm->ndm_ifindex, 4);
			assert_int_equal(ndm->ndm_state, 0);
			parse(nlh, sizeof(*ndm), 1, &a);
			expect_bytes(&a, NDA_DST, addrs[i].bytes, lj_ip_len(addrs[i].family));
		}
}

/* A bridge's forwarding entry of a MAC: AF_BRIDGE, the MAC and the bridge, no flags or state
 * (the kernel refuses an fdb get with any). */
static void test_neigh_fdb_get(void **state)
{
	const struct nlmsghdr *nlh;
	const struct ndmsg *ndm;
	struct attrs a;

	BUILD(lj_neigh_fdb_get_msg, 7, mac);
	nlh = msg(RTM_GETNEIGH, 0);
	ndm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ndm->ndm_family, AF_BRIDGE);
	assert_int_equal(ndm->ndm_ifindex, 0);
	assert_int_equal(ndm->ndm_flags, 0);
	assert_int_equal(ndm->ndm_state, 0);
	parse(nlh, sizeof(*ndm), 2, &a);
	expect_bytes(&a, NDA_LLADDR, mac, LJ_MAC_LEN);
	expect_u32(&a, NDA_MASTER, 7);
}

/* Proxy entries: add (created, exclusive, permanent), delete, and a dump of a family. */
static void test_neigh_proxy(void **state)
{
	struct lj_ip addrs[] = {ip("198.51.100.117"), ip("2001:db8:1::117")};
	const struct nlmsghdr *nlh;
	const struct ndmsg *ndm;
	struct attrs a;

	for (size_t i = 0; i < 2; i++) {
		BUILD(lj_neigh_proxy_msg, RTM_NEWNEIGH, 0, 4, &addrs[i]);
		nlh = msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL);
		ndm = mnl_nlmsg_get_payload(nlh);
		assert_int_equal(ndm->ndm_family, addrs[i].family);
		assert_int_equal(ndm->ndm_ifindex, 4);
		assert_int_equal(ndm->ndm_flags, NTF_PROXY);
		assert_int_equal(ndm->ndm_state, NUD_PERMANENT);
		parse(nlh, sizeof(*ndm), 1, &a);
		expect_bytes(&a, NDA_DST, addrs[i].bytes, lj_ip_len(addrs[i].family));

		BUILD(lj_neigh_proxy_msg, RTM_DELNEIGH, 0, 4, &addrs[i]);
		nlh = msg(RTM_DELNEIGH, 0);
		ndm = mnl_nlmsg_get_payload(nlh);
		assert_int_equal(ndm->ndm_flags, NTF_PROXY);
		assert_int_equal(ndm->ndm_state, 0);
	}
	BUILD(lj_neigh_proxy_msg, RTM_GETNEIGH, AF_INET6, 0, NULL);
	nlh = msg(RTM_GETNEIGH, NLM_F_DUMP);
	ndm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ndm->ndm_family, AF_INET6);
	assert_int_equal(ndm->ndm_flags, NTF_PROXY);
	parse(nlh, sizeof(*ndm), 0, &a);
}

/* A request too large for the socket's buffer is refused before anything is sent. */
static void test_too_large_not_sent(void **state)
{
	char alias[LJ_NL_REQ_SIZE + 1];
	struct lj_nl *nl;

	memset(alias, 'x', sizeof(alias) - 1);
	alias[sizeof(alias) - 1] = '\0';
	assert_int_equal(lj_link_msg_set_alias(buf, sizeof(buf), "em1", alias), -EMSGSIZE);
	if (lj_nl_open(-1, &nl) < 0)
		skip();
	/* Sent, the kernel would answer -EPERM (no root) or -ENODEV: -EMSGSIZE means unsent. */
	assert_int_equal(lj_link_set_alias(nl, "lj-no-such-link", alias), -EMSGSIZE);
	assert_string_equal(lj_nl_extack(nl), "");
	lj_nl_close(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_get_dump),
		cmocka_unit_test(test_link_add_veth),
		cmocka_unit_test(test_link_add_bridge),
		cmocka_unit_test(test_link_add_macvlan),
		cmocka_unit_test(test_link_set),
		cmocka_unit_test(test_link_del),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_full),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_info),
		cmocka_unit_test(test_route_dump_get),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_neigh_proxy),
		cmocka_unit_test(test_neigh_fdb_get),
		cmocka_unit_test(test_too_large_not_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
