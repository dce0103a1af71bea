/* SPDX-License-Identifier: MIT */
/*
 * Step types of the routed way (steps/routed.c; see plan.h for the step fields):
 *
 *   proxy-neigh     link = DEV, cidr = a container address: a proxy neighbour entry for it
 *                   on DEV (`ip neigh add proxy ADDR dev DEV`); undo deletes it.
 *   ndp-probe       link = DEV, cidr = an IPv6 address: neighbour solicitations for it from
 *                   DEV; fails (-EADDRINUSE) if anyone answers. Nothing to undo.
 *   proxy-announce  link = DEV, cidr = a container address: a gratuitous ARP (IPv4) or an
 *                   unsolicited neighbour advertisement (IPv6) for it with DEV's MAC.
 *   routed-sysctl   text = key under /proc/sys (host), u32 = value, master = DEV,
 *                   cidr.ip.family = the family of the proxy entries that need it,
 *                   link = DEV when the key is DEV's own ("" for a global key),
 *                   i64 = the value it must have to be changed (-1: any other value).
 *                   Apply writes the value and, the first time, keeps the value it found in
 *                   <state dir>/routed-sysctl-<key>; the undo that finds no proxy entry of
 *                   that family left (on DEV for DEV's keys, anywhere for global ones) writes
 *                   the kept value back and removes the file.
 */
#pragma once

#include "lib/core/plan.h"

extern const struct lj_step_type lj_step_proxy_neigh;
extern const struct lj_step_type lj_step_ndp_probe;
extern const struct lj_step_type lj_step_proxy_announce;
extern const struct lj_step_type lj_step_routed_sysctl;

/*
 * Whether lanjoin keeps an old value of sysctl key (a routed-sysctl step changed it and it is
 * not restored yet). For status and the builders.
 */
bool lj_routed_sysctl_owned(const char *key);

/*
 * The proxy entries of family on link ifindex (0: any) other than those of the plan
 * ctx->describing's proxy-neigh steps (for a detach's --dry-run). Returns the count or -errno.
 */
int lj_routed_proxies_besides(const struct lj_ctx *ctx, int family, int ifindex);
