/* SPDX-License-Identifier: MIT */
/* lanjoin attach WAY TARGET [OPTIONS] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/state.h"
#include "lib/core/way.h"
#include "lib/foreign/ovs.h"
#include "shared/macro.h"
#include "shared/name.h"
#include "shared/shquote.h"

enum {
	OPT_BRIDGE = 0x100,
	OPT_UPLINK,
	OPT_VLAN,
	OPT_OVSDB,
	OPT_PARENT,
	OPT_MODE,
	OPT_HOST_SHIM,
	OPT_ADDRESS,
	OPT_PUBLISH,
	OPT_PRIVATE,
	OPT_TO,
	OPT_IP,
	OPT_GATEWAY,
	OPT_DHCP,
	OPT_DHCP6,
	OPT_DHCP_CLIENT,
	OPT_DHCP_TIMEOUT,
	OPT_SLAAC,
	OPT_IFNAME,
	OPT_MAC,
	OPT_MTU,
	OPT_ROUTE,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_NO_CONFLICT_CHECK,
	OPT_HELP,
	OPT_ENGINE_SOCKET,
	OPT_MAC_FROM,
	OPT_CREATE_BRIDGE,
	OPT_NO_DEFAULT_ROUTE,
	OPT_ONLINK,
	OPT_PERSIST,
	OPT_REPLACE,
	OPT_FORCE,
};

/* The options, each with the spec option it sets: the way table says which ways take it. */
static const struct {
	struct option opt;
	enum lj_spec_opt spec;
} options[] = {
	{{"bridge", required_argument, NULL, OPT_BRIDGE}, LJ_OPT_BRIDGE},
	{{"uplink", required_argument, NULL, OPT_UPLINK}, LJ_OPT_UPLINK},
	{{"create-bridge", no_argument, NULL, OPT_CREATE_BRIDGE}, LJ_OPT_CREATE_BRIDGE},
	{{"vlan", required_argument, NULL, OPT_VLAN}, LJ_OPT_VLAN},
	{{"ovsdb", required_argument, NULL, OPT_OVSDB}, LJ_OPT_OVSDB},
	{{"parent", required_argument, NULL, OPT_PARENT}, LJ_OPT_PARENT},
	{{"mode", required_argument, NULL, OPT_MODE}, LJ_OPT_MODE},
	{{"host-shim", required_argument, NULL, OPT_HOST_SHIM}, LJ_OPT_HOST_SHIM},
	{{"force", no_argument, NULL, OPT_FORCE}, LJ_OPT_MODE},
	{{"address", required_argument, NULL, OPT_ADDRESS}, LJ_OPT_ADDRESS},
	{{"publish", required_argument, NULL, OPT_PUBLISH}, LJ_OPT_PUBLISH},
	{{"private", required_argument, NULL, OPT_PRIVATE}, LJ_OPT_PRIVATE},
	{{"to", required_argument, NULL, OPT_TO}, LJ_OPT_TO},
	{{"ip", required_argument, NULL, OPT_IP}, LJ_OPT_ADDRESSING},
	{{"gateway", required_argument, NULL, OPT_GATEWAY}, LJ_OPT_ADDRESSING},
	{{"dhcp", no_argument, NULL, OPT_DHCP}, LJ_OPT_ADDRESSING},
	{{"dhcp6", no_argument, NULL, OPT_DHCP6}, LJ_OPT_ADDRESSING},
	{{"dhcp-client", required_argument, NULL, OPT_DHCP_CLIENT}, LJ_OPT_ADDRESSING},
	{{"dhcp-timeout", required_argument, NULL, OPT_DHCP_TIMEOUT}, LJ_OPT_ADDRESSING},
	{{"slaac", no_argument, NULL, OPT_SLAAC}, LJ_OPT_ADDRESSING},
	{{"no-default-route", no_argument, NULL, OPT_NO_DEFAULT_ROUTE}, LJ_OPT_ADDRESSING},
	{{"onlink", no_argument, NULL, OPT_ONLINK}, LJ_OPT_ADDRESSING},
	{{"no-conflict-check", no_argument, NULL, OPT_NO_CONFLICT_CHECK}, LJ_OPT_COMMON},
	{{"ifname", required_argument, NULL, OPT_IFNAME}, LJ_OPT_COMMON},
	{{"mac", required_argument, NULL, OPT_MAC}, LJ_OPT_COMMON},
	{{"mac-from", required_argument, NULL, OPT_MAC_FROM}, LJ_OPT_COMMON},
	{{"mtu", required_argument, NULL, OPT_MTU}, LJ_OPT_COMMON},
	{{"route", required_argument, NULL, OPT_ROUTE}, LJ_OPT_COMMON},
	{{"dry-run", no_argument, NULL, OPT_DRY_RUN}, LJ_OPT_COMMON},
	{{"json", no_argument, NULL, OPT_JSON}, LJ_OPT_COMMON},
	{{"help", no_argument, NULL, OPT_HELP}, LJ_OPT_COMMON},
	{{"engine-socket", required_argument, NULL, OPT_ENGINE_SOCKET}, LJ_OPT_COMMON},
	{{"persist", no_argument, NULL, OPT_PERSIST}, LJ_OPT_COMMON},
	{{"replace", no_argument, NULL, OPT_REPLACE}, LJ_OPT_COMMON},
};

/* The options that are the command's own, not part of what is asked (no spec member). */
static bool not_spec(int c)
{
	return c == OPT_DRY_RUN || c == OPT_JSON || c == OPT_HELP || c == OPT_ENGINE_SOCKET ||
	       c == OPT_REPLACE;
}

static const char usage_ways[] =
	"  lanjoin attach bridge  TARGET --bridge BR [--uplink DEV | --create-bridge] [ADDRESSING] "
	"[COMMON]\n"
	"  lanjoin attach ovs     TARGET --bridge BR [--create-bridge] [--vlan TAG] [--ovsdb "
	"unix:PATH]\n"
	"                                [ADDRESSING] [COMMON]\n"
	"  lanjoin attach macvlan TARGET --parent DEV [--mode {modes|} [--force]]\n"
	"                                [--host-shim CIDR]                      [ADDRESSING] "
	"[COMMON]\n"
	"  lanjoin attach nat     TARGET --uplink DEV --address CIDR [--publish "
	"[tcp|udp/]PORT[:CPORT]]...\n"
	"                                [--private CIDR | --to ADDR | --to docker[:NETWORK]] "
	"[COMMON]\n"
	"  lanjoin attach routed  TARGET --parent DEV --ip CIDR... [--no-default-route] [COMMON]\n";

/* Each way's own synopsis and options (attach WAY --help, help attach WAY). */
static const char *const usage_way[] = {
	[LJ_WAY_BRIDGE] =
		"Usage: lanjoin attach bridge TARGET --bridge BR [--uplink DEV | --create-bridge]\n"
		"                             [ADDRESSING] [COMMON]\n"
		"A veth pair: one end a port of the Linux bridge BR, the other in the target.\n"
		"\n"
		"  --bridge BR       the Linux bridge to join; it must exist (e.g. made by\n"
		"                    'lanjoin uplink adopt BR DEV'), unless:\n"
		"  --uplink DEV      BR missing: create it by adopting DEV, as 'lanjoin uplink "
		"adopt BR DEV'\n"
		"                    does (DEV's addresses and routes move onto BR; 'lanjoin "
		"uplink release\n"
		"                    BR' gives them back). BR there already: DEV is not looked at\n"
		"  --create-bridge   BR missing: create an empty bridge (it reaches no LAN until "
		"it has an\n"
		"                    uplink); removed again with its last lanjoin port\n",
	[LJ_WAY_OVS] =
		"Usage: lanjoin attach ovs TARGET --bridge BR [--create-bridge] [--vlan TAG]\n"
		"                          [--ovsdb unix:PATH] [ADDRESSING] [COMMON]\n"
		"A veth pair: one end a port of the Open vSwitch bridge BR, the other in the "
		"target.\n"
		"\n"
		"  --bridge BR       the OVS bridge to join; it must exist (e.g. made by\n"
		"                    'lanjoin uplink adopt BR DEV --ovs'), unless:\n"
		"  --create-bridge   BR missing: create an empty OVS bridge (it reaches no LAN "
		"until it has\n"
		"                    an uplink); removed again with its last lanjoin port\n"
		"  --vlan TAG        make the port an access port of VLAN TAG (1-4094)\n"
		"  --ovsdb unix:PATH the OVS database socket (default $OVS_RUNDIR/db.sock, else\n"
		"                    /var/run/openvswitch/db.sock); the one used is kept in\n"
		"                    the spec, so that watch and reconcile use it too\n",
	[LJ_WAY_MACVLAN] =
		"Usage: lanjoin attach macvlan TARGET --parent DEV [--mode {modes|} [--force]]\n"
		"                              [--host-shim CIDR] [ADDRESSING] [COMMON]\n"
		"A macvlan child of DEV, created in the target.\n"
		"\n"
		"  --parent DEV      the host link the child is made on (the LAN uplink)\n"
		"  --mode MODE       macvlan mode: {modes,}\n"
		"  --force           passthru on a DEV that carries the host's addresses (the\n"
		"                    host's uplink): refused without it, as the host loses the "
		"LAN\n"
		"                    until detach\n"
		"  --host-shim CIDR  also a host-side macvlan on DEV with this address and a host "
		"route to\n"
		"                    the container's addresses (a macvlan child cannot reach its "
		"parent's\n"
		"                    host otherwise)\n",
	[LJ_WAY_NAT] =
		"Usage: lanjoin attach nat TARGET --uplink DEV --address CIDR\n"
		"                          [--publish [tcp|udp/]PORT[:CPORT]]...\n"
		"                          [--private CIDR | --to ADDR | --to docker[:NETWORK]] "
		"[COMMON]\n"
		"The LAN address CIDR on DEV, translated to and from the container (nftables "
		"DNAT/SNAT).\n"
		"\n"
		"  --uplink DEV      the host's LAN link that gets the address\n"
		"  --address CIDR    the LAN address claimed for the container, e.g. "
		"198.51.100.117/24\n"
		"  --publish SPEC    forward only this port ([tcp|udp/]PORT[:CPORT], repeatable); "
		"none:\n"
		"                    every port\n"
		"  --private CIDR    the private veth link's network (default: the first free /31 "
		"of\n"
		"                    198.18.0.0/15)\n"
		"  --to ADDR         no private link (no interface is created): translate to ADDR, "
		"an\n"
		"                    address the container has already (its MTU stays: no --mtu)\n"
		"  --to docker[:NETWORK]\n"
		"                    the same, to the container's address on engine network "
		"NETWORK (as\n"
		"                    'docker network ls' names it; podman: the same), asked from "
		"the\n"
		"                    engine; without :NETWORK on its only one (also the default "
		"for a\n"
		"                    container with exactly one IPv4 address there); the network "
		"is kept\n",
	[LJ_WAY_ROUTED] =
		"Usage: lanjoin attach routed TARGET --parent DEV --ip CIDR... "
		"[--no-default-route]\n"
		"                             [COMMON]\n"
		"The container's own LAN addresses, routed by the host through a veth pair: the\n"
		"host answers ARP and neighbour solicitations for them on DEV (proxy entries), so\n"
		"the LAN only sees DEV's MAC (works on Wi-Fi and on ports that allow one MAC).\n"
		"\n"
		"  --parent DEV      the host's LAN link that answers for the addresses\n"
		"  --ip CIDR         a LAN address of the container (repeatable, IPv4/IPv6); it\n"
		"                    holds it as /32 or /128, the prefix length is not used\n"
		"  --no-default-route keep the target's default routes; only --route routes and\n"
		"                    the addresses go through the host\n"
		"  --no-conflict-check  do not probe the LAN (nor read the other attachments' "
		"records)\n"
		"                       for the addresses first\n"
		"The container's next hop is 169.254.0.1 (onlink) and fe80::1 on the host end.\n",
};

static const char usage_addressing[] =
	"ADDRESSING (none: the interface comes up with no address, e.g. to address it later):\n"
	"            --ip CIDR (repeatable, IPv4/IPv6, not link-local) [--gateway ADDR]...\n"
	"            [--onlink] |\n"
	"            --dhcp [--dhcp-client NAME] [--dhcp-timeout S]; [--dhcp6] [--slaac]\n"
	"            [--no-conflict-check] [--no-default-route]\n"
	"            --dhcp6: a stateful DHCPv6 address (/128) and DNS servers from dhcpcd -6,\n"
	"            beside --dhcp or --ip; the IPv6 routes come from router advertisements.\n"
	"            The gateway (or the lease's router) replaces the target's default route\n"
	"            (e.g. its engine's); detach puts that back. --no-default-route keeps it\n"
	"            (no gateway is installed). Replies from the engine-side address keep\n"
	"            leaving through the engine's interface (published ports keep working).\n"
	"            A --gateway must lie in an --ip's subnet of its family (IPv6 link-local\n"
	"            ones aside); --onlink takes one outside it as on the link all the same.\n"
	"            An --ip on none of the subnets of the bridge's or parent's addresses is\n"
	"            attached with a warning (a LAN the host has no address on is fine).\n";

static const char usage_common[] =
	"COMMON:     --ifname NAME (in the target; default lan0 in a Docker/Podman container,\n"
	"            eth1 in a netns, pid: or path target) --mac MAC | --mac-from NAME\n"
	"            (a stable MAC derived from NAME, e.g. for a stable DHCP lease) --mtu N\n"
	"            --route CIDR[@VIA] (repeatable) --dry-run --json\n"
	"            --persist (keep the spec in $LANJOIN_SPEC_DIR, default\n"
	"            /var/lib/lanjoin/specs, for 'lanjoin reconcile'; a MAC derived from the\n"
	"            target and ifname unless --mac is given) --replace (swap a different\n"
	"            attachment of the same target and ifname; the old one comes back if the\n"
	"            new one fails)\n"
	"            --engine-socket PATH (Docker/Podman API socket; default\n"
	"            $LANJOIN_ENGINE_SOCKET, $DOCKER_HOST, /var/run/docker.sock, then\n"
	"            /run/podman/podman.sock)\n"
	"\n"
	"Exit status: 0 attached (or already attached as asked: nothing changes); 1 failed and\n"
	"rolled back (nothing left behind); 2 bad usage or input (also: the target is attached\n"
	"as ifname otherwise, the fields that differ are named; a link named that does not\n"
	"exist is named as such first).\n"
	"SIGINT, SIGTERM or SIGHUP during attach (e.g. while it waits for a DHCP lease) roll it\n"
	"back the same way (exit status 1); while it still waits for the state lock, they stop\n"
	"the wait at once, nothing done (exit status 128 + the signal: 130 for Ctrl-C).\n"
	"An address of an attachment whose container or namespace is gone is free: that\n"
	"dead record is undone and removed first, as 'lanjoin gc' would (said on stderr); a\n"
	"live attachment's address is refused (exit status 2).\n";

_Static_assert(ARRAY_SIZE(usage_way) == LJ_WAY_COUNT, "every way has its help");

/*
 * Print a help text with the macvlan modes from the way table in place of "{modes|}"
 * ("bridge|vepa|private|passthru") and "{modes,}" ("bridge (default), vepa, private or
 * passthru").
 */
static void put_help(const char *text, FILE *f)
{
	static const char pipe[] = "{modes|}", comma[] = "{modes,}";
	const char *p;

	while ((p = strstr(text, "{modes"))) {
		char buf[128];
		fwrite(text, 1, (size_t)(p - text), f);
		if (strncmp(p, pipe, strlen(pipe)) == 0) {
			fputs(lj_way_modes_text(LJ_WAY_MACVLAN, buf, sizeof(buf), "|", "|"), f);
			text = p + strlen(pipe);
		} else if (strncmp(p, comma, strlen(comma)) == 0) {
			const struct lj_way_ops *mv = lj_way_get(LJ_WAY_MACVLAN);
			for (size_t i = 0; i < mv->n_modes; i++) /* the first is the default */
				fprintf(f, "%s%s%s",
					i == 0		       ? ""
					: i + 1 == mv->n_modes ? " or "
							       : ", ",
					mv->modes[i].name, i == 0 ? " (default)" : "");
			text = p + strlen(comma);
		} else {
			fputc(*p, f);
			text = p + 1;
		}
	}
	fputs(text, f);
}

/* The help of one way (way >= 0) or of attach as a whole (-1). */
static void usage(FILE *f, int way)
{
	if (way >= 0) {
		put_help(usage_way[way], f);
		fputs("\nTARGET: a Docker/Podman container name or ID, pid:N, netns:NAME, or a "
		      "netns "
		      "file path.\n",
		      f);
		if (way != LJ_WAY_NAT && way != LJ_WAY_ROUTED)
			fputs(usage_addressing, f);
		fputs(usage_common, f);
		return;
	}
	fputs("Usage:\n", f);
	put_help(usage_ways, f);
	fputs("\n"
	      "TARGET: a Docker/Podman container name or ID, pid:N, netns:NAME, or a netns file "
	      "path.\n",
	      f);
	fputs(usage_addressing, f);
	fputs(usage_common, f);
	fputs("\nRun 'lanjoin help attach WAY' for a way's own options.\n", f);
}

static int copy_ifname(const char *what, const char *v, char ret[IFNAMSIZ])
{
	if (!lj_ifname_valid(v)) {
		lj_err("Invalid %s '%s': " LJ_IFNAME_RULE, what, v);
		return -1;
	}
	snprintf(ret, IFNAMSIZ, "%s", v);
	return 0;
}

/* Whether s is printable ASCII (spaces allowed): no control or 8-bit bytes. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Parse one option into o. Returns 0, or -1 after printing why. */
static int parse_option(int c, const char *v, struct lj_attach_opts *o, struct cli_attach_flags *f)
{
	uint64_t n;

	switch (c) {
	case OPT_BRIDGE:
		return copy_ifname("bridge name", v, o->bridge);
	case OPT_UPLINK:
		return copy_ifname("uplink name", v, o->uplink);
	case OPT_CREATE_BRIDGE:
		o->create_bridge = true;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_PARENT:
		return copy_ifname("parent name", v, o->parent);
	case OPT_IFNAME:
		return copy_ifname("interface name", v, o->ifname);
	case OPT_VLAN:
		if (lj_parse_uint(v, 1, 4094, &n) < 0) {
			lj_err("Invalid VLAN tag '%s': expected 1-4094", v);
			return -1;
		}
		o->vlan = (uint32_t)n;
		return 0;
	case OPT_OVSDB:
		if (strncmp(v, "unix:", 5) != 0 || v[5] != '/' || strlen(v) >= LJ_OVS_DB_MAX ||
		    !printable(v)) {
			lj_err("Invalid --ovsdb '%s': expected unix:/PATH (printable, under %d "
			       "bytes)",
			       LJ_SHC(v), LJ_OVS_DB_MAX);
			return -1;
		}
		o->ovsdb = v;
		return 0;
	case OPT_MODE:
		if (lj_way_mode_find(LJ_WAY_MACVLAN, v, &o->macvlan_mode) < 0) {
			char modes[128];
			lj_err("Invalid macvlan mode '%s': expected %s", v,
			       lj_way_modes_text(LJ_WAY_MACVLAN, modes, sizeof(modes), ", ",
						 " or "));
			return -1;
		}
		return 0;
	case OPT_HOST_SHIM:
		if (lj_parse_cidr(v, true, &o->host_shim) < 0) {
			lj_err("Invalid --host-shim '%s': expected ADDRESS/PREFIX", v);
			return -1;
		}
		if (lj_ip_link_local(&o->host_shim.ip)) {
			lj_err("Invalid --host-shim '%s': " LJ_LINK_LOCAL_WHY, v);
			return -1;
		}
		return 0;
	case OPT_ADDRESS:
		if (lj_parse_cidr(v, true, &o->address) < 0) {
			lj_err("Invalid --address '%s': expected ADDRESS/PREFIX", v);
			return -1;
		}
		return 0;
	case OPT_PUBLISH:
		if (o->n_publish == LJ_MAX_PUBLISH) {
			lj_err("Too many --publish (at most %d)", LJ_MAX_PUBLISH);
			return -1;
		}
		if (lj_parse_publish(v, &o->publish[o->n_publish]) < 0) {
			lj_err("Invalid --publish '%s': expected [tcp|udp/]PORT[:CPORT], ports "
			       "1-65535",
			       v);
			return -1;
		}
		for (size_t i = 0; i < o->n_publish; i++)
			if (o->publish[i].proto == o->publish[o->n_publish].proto &&
			    o->publish[i].port == o->publish[o->n_publish].port) {
				lj_err("Duplicate --publish '%s'", v);
				return -1;
			}
		o->n_publish++;
		return 0;
	case OPT_PRIVATE:
		if (lj_parse_cidr(v, true, &o->private_net) < 0) {
			lj_err("Invalid --private '%s': expected ADDRESS/PREFIX", v);
			return -1;
		}
		return 0;
	case OPT_TO:
		return cli_attach_parse_to(v, o);
	case OPT_IP:
		if (o->n_ips == LJ_MAX_IPS) {
			lj_err("Too many --ip (at most %d)", LJ_MAX_IPS);
			return -1;
		}
		if (lj_parse_cidr(v, true, &o->ips[o->n_ips]) < 0) {
			lj_err("Invalid --ip '%s': expected ADDRESS/PREFIX, e.g. 198.51.100.117/24",
			       v);
			return -1;
		}
		/* every way alike, and an apply checks it before anything changes */
		if (lj_ip_link_local(&o->ips[o->n_ips].ip)) {
			lj_err("Invalid --ip '%s': " LJ_LINK_LOCAL_WHY, v);
			return -1;
		}
		if (o->ips[o->n_ips].prefixlen == 0) {
			lj_err("Invalid --ip '%s': a /0 prefix would put every address on the "
			       "link; "
			       "give the LAN's prefix, e.g. /24 or /64",
			       v);
			return -1;
		}
		o->n_ips++;
		return 0;
	case OPT_GATEWAY: {
		struct lj_ip gw;
		if (lj_parse_ip(v, &gw) < 0) {
			lj_err("Invalid --gateway '%s': expected an IPv4 or IPv6 address", v);
			return -1;
		}
		for (size_t i = 0; i < o->n_gateways; i++)
			if (o->gateways[i].family == gw.family) {
				lj_err("Only one --gateway per address family");
				return -1;
			}
		o->gateways[o->n_gateways++] = gw;
		return 0;
	}
	case OPT_DHCP:
		o->dhcp = true;
		return 0;
	case OPT_DHCP6:
		o->dhcp6 = true;
		return 0;
	case OPT_DHCP_CLIENT:
		if (strcmp(v, "udhcpc") && strcmp(v, "dhclient") && strcmp(v, "dhcpcd")) {
			lj_err("Invalid --dhcp-client '%s': expected udhcpc, dhclient or dhcpcd",
			       v);
			return -1;
		}
		o->dhcp_client = v;
		return 0;
	case OPT_DHCP_TIMEOUT:
		if (lj_parse_uint(v, 1, 3600, &n) < 0) {
			lj_err("Invalid --dhcp-timeout '%s': expected 1-3600 seconds", v);
			return -1;
		}
		o->dhcp_timeout = (unsigned)n;
		return 0;
	case OPT_NO_DEFAULT_ROUTE:
		o->no_default_route = true;
		return 0;
	case OPT_ONLINK:
		o->onlink = true;
		return 0;
	case OPT_SLAAC:
		o->slaac = true;
		return 0;
	case OPT_NO_CONFLICT_CHECK:
		o->no_conflict_check = true;
		return 0;
	case OPT_MAC:
		if (o->has_mac) {
			lj_err("--mac and --mac-from exclude each other");
			return -1;
		}
		if (lj_parse_mac(v, o->mac) < 0) {
			lj_err("Invalid --mac '%s': expected a unicast aa:bb:cc:dd:ee:ff", v);
			return -1;
		}
		o->has_mac = true;
		return 0;
	case OPT_MAC_FROM:
		if (o->has_mac) {
			lj_err("--mac and --mac-from exclude each other");
			return -1;
		}
		if (lj_mac_from_name(v, o->mac) < 0) {
			lj_err("Invalid --mac-from '%s': 1-255 printable characters", v);
			return -1;
		}
		o->has_mac = true;
		return 0;
	case OPT_MTU:
		if (lj_parse_uint(v, 68, 65535, &n) < 0) {
			lj_err("Invalid --mtu '%s': expected 68-65535", v);
			return -1;
		}
		o->mtu = (uint32_t)n;
		return 0;
	case OPT_ROUTE:
		if (o->n_routes == LJ_MAX_ROUTES) {
			lj_err("Too many --route (at most %d)", LJ_MAX_ROUTES);
			return -1;
		}
		if (lj_parse_route(v, &o->routes[o->n_routes]) < 0) {
			lj_err("Invalid --route '%s': expected CIDR[@VIA] (network address, same "
			       "family)",
			       v);
			return -1;
		}
		o->n_routes++;
		return 0;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case OPT_JSON:
		f->json = true;
		return 0;
	case OPT_PERSIST:
		f->persist = true;
		return 0;
	case OPT_REPLACE:
		f->replace = true;
		return 0;
	case OPT_ENGINE_SOCKET:
		return lj_cli_engine_socket(v);
	}
	return -1;
}

/* Does option c take no value? */
static bool options_flag(int c)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].opt.val == c)
			return options[i].opt.has_arg == no_argument;
	return false;
}

static const char *option_name(int c)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (options[i].opt.val == c)
			return options[i].opt.name;
	return "?";
}

/* Whether way takes the option c (getopt's value). */
static bool option_applies(int c, enum lj_way way)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (options[i].opt.val == c)
			return lj_way_takes(way, options[i].spec);
	return false;
}

int cli_attach_check(const struct lj_attach_opts *o)
{
	struct lj_result res = {0};

	/* the way's own (the way table's static checks) */
	if (lj_way_check(o, &res) < 0) {
		lj_err("%s", res.message);
		return -1;
	}
	if (o->dhcp && o->n_ips) {
		for (size_t i = 0; i < o->n_ips; i++)
			if (o->ips[i].ip.family == AF_INET) {
				lj_err("--dhcp and an IPv4 --ip exclude each other");
				return -1;
			}
	}
	if (o->dhcp_client && !o->dhcp) {
		lj_err("--dhcp-client needs --dhcp");
		return -1;
	}
	return 0;
}

const char *cli_attach_idle_option(const struct lj_attach_opts *o)
{
	if (o->way == LJ_WAY_NAT && o->mtu && (o->to.family != AF_UNSPEC || o->to_engine))
		return "--mtu does not apply with --to: no interface is made (the target's own "
		       "interface keeps its MTU)";
	return NULL;
}

/* getopt's value of the long option name, or -1. */
static int option_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].opt.name, name) == 0)
			return options[i].opt.val;
	return -1;
}

int cli_attach_option_is_flag(const char *name)
{
	int c = option_find(name);

	if (c < 0)
		return -ENOENT;
	if (not_spec(c))
		return -EPERM; /* an option of the command (--dry-run, --json), not a field */
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].opt.val == c)
			return options[i].opt.has_arg == no_argument;
	return -ENOENT;
}

int cli_attach_option(const char *name, const char *value, struct lj_attach_opts *o,
		      struct cli_attach_flags *f, json_t *spec)
{
	int c = option_find(name);

	if (c < 0 || not_spec(c))
		return -ENOENT;
	if (!option_applies(c, o->way)) {
		lj_err("--%s does not apply to the %s way", name, lj_way_name(o->way));
		return -EINVAL;
	}
	if (parse_option(c, value, o, f) < 0)
		return -EINVAL;
	if (spec && cli_spec_add(spec, name, value) < 0) {
		lj_err("Out of memory");
		return -EINVAL;
	}
	return 0;
}

/*
 * The spec recorded for the attachment of o->target as ifname (NULL if none, or no
 * record), read under a shared lock: for --replace and its restore.
 */
static json_t *recorded_spec(const struct lj_attach_opts *o)
{
	struct lj_target t;
	struct lj_state *st = NULL;
	struct lj_record rec;
	char id[LJ_RECORD_ID_LEN];
	json_t *spec = NULL;

	if (lj_target_parse(o->target, &t) < 0 || lj_target_open(&t) < 0)
		return NULL;
	lj_record_id(t.key, o->ifname[0] ? o->ifname : LJ_DEFAULT_IFNAME, id);
	lj_target_close(&t);
	if (lj_state_open(false, &st) < 0)
		return NULL;
	if (lj_state_load(st, id, &rec) == 0) {
		spec = json_incref(rec.spec);
		lj_record_free(&rec);
	}
	lj_state_close(st);
	return spec;
}

/*
 * --replace: detach the attachment of o->target as o->ifname (its spec old, not NULL and
 * not o's), attach o; if that fails, attach old again. Returns attach's result (res).
 */
static int replace(const struct lj_attach_opts *o, json_t *old, struct lj_result *res)
{
	struct lj_attach_opts oo;
	struct cli_attach_flags of;
	struct lj_result dres, rres;
	int r;

	r = lj_detach(o->target, o->ifname[0] ? o->ifname : LJ_DEFAULT_IFNAME, 0, &dres);
	if (r < 0) {
		*res = dres;
		return r;
	}
	lj_result_done(&dres);
	r = lj_attach(o, res);
	if (r >= 0)
		return r;
	/* put the old one back, through the same attach */
	if (cli_spec_to_opts(old, "the replaced attachment's spec", &oo, &of, NULL) < 0) {
		lj_result_append(res, "; the replaced attachment could not be restored (its spec "
				      "is not valid any more)");
		return r;
	}
	oo.spec = old;
	if (lj_attach(&oo, &rres) < 0)
		lj_result_append(res, "; restoring the replaced attachment failed too: %s",
				 rres.message);
	else
		lj_result_append(res, "; the replaced attachment was restored");
	lj_result_done(&rres);
	return r;
}

static const char *spec_ifname(const struct lj_attach_opts *o)
{
	return o->ifname[0] ? o->ifname : LJ_DEFAULT_IFNAME;
}

/* Roll back the attachment just made (its spec could not be stored). */
static void unattach(const struct lj_attach_opts *o)
{
	struct lj_result dres;

	if (lj_detach(o->target, spec_ifname(o), 0, &dres) < 0)
		lj_err("Rolling back the attachment failed too: %s", dres.message);
	else
		lj_err("The attachment was rolled back");
	lj_result_done(&dres);
}

int lj_cmd_attach(int argc, char **argv)
{
	static const char hint[] = "; see 'lanjoin attach --help'";
	struct option longopts[sizeof(options) / sizeof(options[0]) + 1];
	struct lj_attach_opts o = {0};
	struct cli_attach_flags f = {0};
	struct lj_result res = {0};
	struct lj_target pt = {.netns_fd = -1};
	json_t *spec = NULL, *old = NULL, *note;
	size_t k;
	char ways[64], ovsdb[LJ_OVS_DB_MAX];
	bool json = false;
	int c, r, code = LJ_EXIT_OK;

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		longopts[i] = options[i].opt;
	memset(&longopts[sizeof(options) / sizeof(options[0])], 0, sizeof(struct option));

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, -1);
		return LJ_EXIT_OK;
	}
	lj_way_names_text(ways, sizeof(ways), ", ", " or ", NULL, 0);
	if (argc < 2)
		return lj_usage_error(hint, "Missing WAY: %s", ways);
	if (lj_way_find(argv[1], &o.way) < 0)
		return lj_usage_error(hint, "Unknown way '%s': expected %s", argv[1], ways);
	if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		usage(stdout, (int)o.way);
		return LJ_EXIT_OK;
	}
	if (argc < 3)
		return lj_usage_error(hint, "Missing TARGET after 'attach %s'", argv[1]);
	if (argv[2][0] == '-')
		return lj_usage_error(hint,
				      "Missing TARGET after 'attach %s': it must come right after "
				      "the way, before the options (saw the option '%s' there): "
				      "lanjoin attach %s TARGET [OPTIONS]",
				      argv[1], LJ_SHC(argv[2]), argv[1]);
	o.target = argv[2];

	/* The spec: what is asked, each option in canonical form as it is parsed. */
	bool pid_target = lj_target_parse(o.target, &pt) == 0 && pt.kind == LJ_TARGET_PID;
	spec = cli_spec_new(o.way, pid_target ? NULL : o.target, NULL);
	if (!spec)
		return LJ_EXIT_FAILED;

	optind = 3;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			json_decref(spec);
			return lj_getopt_error(c, argc, argv, hint);
		}
		if (c == OPT_HELP) {
			json_decref(spec);
			usage(stdout, (int)o.way);
			return LJ_EXIT_OK;
		}
		if (!option_applies(c, o.way)) {
			lj_err("--%s does not apply to the %s way", option_name(c),
			       lj_way_name(o.way));
			json_decref(spec);
			return LJ_EXIT_USAGE;
		}
		if (parse_option(c, optarg, &o, &f) < 0 ||
		    (!not_spec(c) && c != OPT_MAC && c != OPT_MAC_FROM &&
		     cli_spec_add(spec, option_name(c), options_flag(c) ? NULL : optarg) < 0)) {
			json_decref(spec);
			return LJ_EXIT_USAGE;
		}
	}
	json = f.json;
	if (optind < argc) {
		json_decref(spec);
		return lj_usage_error(hint, "Unexpected argument '%s'", argv[optind]);
	}
	if (cli_attach_check(&o) < 0) {
		json_decref(spec);
		return LJ_EXIT_USAGE;
	}
	if (cli_attach_idle_option(&o)) {
		json_decref(spec);
		return lj_usage_error(hint, "%s", cli_attach_idle_option(&o));
	}
	if (f.persist && pid_target) {
		json_decref(spec);
		return lj_usage_error(hint, "--persist needs a lasting identity: a container, "
					    "netns:NAME or a netns path, not a PID");
	}
	/* no --ifname: lan0 in a container, eth1 elsewhere; the container opened for it is
	 * handed on (one engine query) */
	cli_default_ifname(&o, spec, &pt);
	if (pt.netns_fd >= 0)
		o.resolved = &pt;
	/* The OVS database used ($OVS_RUNDIR's, else the default) is part of what is asked: a
	 * spec brought back by a watch or reconcile started elsewhere (a systemd unit without
	 * $OVS_RUNDIR) must reach the same ovsdb-server. */
	if (o.way == LJ_WAY_OVS && !o.ovsdb) {
		o.ovsdb = lj_ovs_resolve_db(NULL, ovsdb, sizeof(ovsdb));
		if (!o.ovsdb || cli_spec_add(spec, "ovsdb", o.ovsdb) < 0) {
			json_decref(spec);
			lj_target_close(&pt);
			return lj_usage_error(hint, "$OVS_RUNDIR is too long for an OVS database "
						    "socket path");
		}
	}
	if (o.has_mac) {
		char mac[LJ_MAC_STRLEN];
		cli_spec_add(spec, "mac", lj_mac_to_string(o.mac, mac, sizeof(mac)));
	}
	/* --replace of a persistent attachment keeps it persistent: its stored spec becomes the
	 * new one once the new attachment stands (a failed replace leaves the old spec), so
	 * that list and a restart agree with what is attached. */
	if (f.replace && !f.persist && !o.dry_run && !pid_target &&
	    cli_spec_stored(o.target, spec_ifname(&o)))
		f.persist = true;
	/* A persistent attachment comes back with the same MAC: one derived from its identity
	 * (not part of what is asked: an attachment with another MAC is still as asked). */
	if (f.persist && !o.has_mac) {
		cli_spec_mac(o.target, o.ifname[0] ? o.ifname : LJ_DEFAULT_IFNAME, o.mac);
		o.has_mac = true;
	}
	o.spec = spec;
	/* --persist: where the spec goes must exist before anything is changed */
	if (f.persist && !o.dry_run && (r = cli_spec_dir_make()) < 0) {
		lj_err("Failed to create the spec directory %s: %s", cli_spec_dir(),
		       cli_spec_strerror(r));
		json_decref(spec);
		lj_target_close(&pt);
		return LJ_EXIT_FAILED;
	}
	if (f.replace && !o.dry_run) {
		old = recorded_spec(&o);
		if (old && json_equal(old, spec)) {
			json_decref(old);
			old = NULL;
		}
	}

	/* --persist of a container that exists but is stopped: its spec is stored, waiting */
	if (f.persist && !o.dry_run && !old && pt.netns_fd < 0 &&
	    cli_spec_wait(spec, o.mac, f.replace, "", json, &code))
		goto out;
	/* Ctrl-C, SIGTERM or SIGHUP must not leave a half-done attachment: roll back instead. */
	if (!o.dry_run && lj_catch_interrupts() < 0)
		lj_err("warning: cannot catch SIGINT/SIGTERM: an interrupted attach may leave a "
		       "record for 'lanjoin gc'");
	else if (!o.dry_run && !old)
		lj_state_lock_interruptible_once(); /* its first lock: nothing changed yet */
	r = old ? replace(&o, old, &res) : lj_attach(&o, &res);
	/* what it did first (a dead attachment's record removed), on stderr */
	json_array_foreach(json_object_get(res.json, "notes"), k, note)
		fprintf(stderr, "%s\n", json_string_value(note));
	if (r < 0) {
		code = lj_report_failure(&res, r);
		goto out;
	}
	if (!o.dry_run)
		cli_note_id_prefix(&res); /* "4": a container's ID prefix, as Docker takes it */
	if (f.persist && !o.dry_run) {
		bool stored = res.unchanged && cli_spec_stored(o.target, spec_ifname(&o));

		r = cli_spec_save(spec, cli_attach_live_mac(&res, o.mac),
				  cli_attach_live_network(&res), cli_spec_container_id(&res));
		if (r < 0) {
			lj_err("Failed to store the spec in %s: %s", cli_spec_dir(),
			       cli_spec_strerror(r));
			if (!res.unchanged)
				unattach(&o);
			code = LJ_EXIT_FAILED;
			goto out;
		}
		if (res.unchanged && !stored)
			cli_attach_say_stored(&res);
	}
	if (res.unchanged) {
		if (json)
			lj_print_attach_json(&res);
		else
			printf("%s\n", res.message);
	} else if (o.dry_run && json) {
		code = lj_print_dry_run_json(
			&res,
			json_pack("{s:s, s:s}", "way", lj_way_name(o.way), "target", o.target));
		if (code != LJ_EXIT_OK)
			goto out;
	} else if (o.dry_run) {
		printf("# lanjoin attach %s %s: %zu steps (nothing is changed)\n",
		       lj_way_name(o.way), LJ_SHC(o.target), res.dry_plan.n);
		lj_plan_describe(res.dry_ctx, &res.dry_plan, false, stdout);
	} else if (json) {
		lj_print_attach_json(&res);
	} else {
		json_t *info = json_object_get(res.json, "info");
		json_t *addrs = json_object_get(info, "addresses");
		const char *mac = json_string_value(json_object_get(info, "mac"));
		size_t i;
		json_t *a;

		const char *to = json_string_value(json_object_get(info, "to"));
		const char *shim = json_string_value(json_object_get(info, "host_shim"));
		bool shim_new = json_is_true(json_object_get(info, "host_shim_created"));

		if (to)
			/* --to: no interface is created, the LAN address is translated to one the
			 * target already has. */
			printf("Attached %s (nat way, no new interface: translated to its address "
			       "%s)",
			       o.target, to);
		else
			printf("Attached %s as %s", o.target,
			       json_string_value(json_object_get(res.json, "ifname")));
		if (mac && !to)
			printf(" (%s)", mac);
		if (o.bridge[0])
			printf(" to %s bridge %s", o.way == LJ_WAY_OVS ? "OVS" : "Linux", o.bridge);
		else if (!to)
			printf(" (%s way)", lj_way_name(o.way));
		json_array_foreach(addrs, i, a)
			printf("%s%s", i ? ", " : ": ", json_string_value(a));
		putchar('\n');
		if (json_object_get(res.json, "adopted_uplink"))
			printf("Adopted %s into %s first: %s's addresses and routes moved onto %s; "
			       "give them back with 'lanjoin uplink release %s'\n",
			       o.uplink, o.bridge, o.uplink, o.bridge, o.bridge);
		if (shim)
			printf("%s host shim %s (%s) on %s: the host reaches the container "
			       "through it\n",
			       shim_new ? "Created" : "Reused", shim,
			       json_string_value(json_object_get(info, "host_shim_address")),
			       o.parent);
		json_array_foreach(json_object_get(info, "replaced_default_routes"), i, a) printf(
			"%s the default route %s; detach puts it back\n",
			o.dhcp ? "The lease's router replaces" : "Replaced", json_string_value(a));
	}
out:
	lj_result_done(&res);
	lj_target_close(&pt);
	json_decref(old);
	json_decref(spec);
	return code;
}
