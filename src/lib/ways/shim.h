/* SPDX-License-Identifier: MIT */
/*
 * The host shim on its own (`lanjoin shim add|del`): see macvlan-common.h for what a shim is.
 */
#pragma once

#include "lib/core/attach.h"
#include "shared/parse.h"

/*
 * Create (or pin) the host shim on parent with address ip, as `lanjoin shim add`: a shim so
 * made is kept until lj_shim_del. Takes the state lock. An existing shim of lanjoin's with
 * that address is pinned; one with another address is bad input. network: for a Docker
 * network's host_shim (lanjoin docker-plugin): pinned as the network's (LJ_SHIM_NETWORK_ALIAS,
 * only a shim made, or one "removed when unused"; one pinned otherwise stays so). Returns 0
 * (res->message says what was done) or -errno with res->message (res->bad_input,
 * res->rolled_back).
 */
int lj_shim_add(const char *parent, const struct lj_cidr *ip, bool network, struct lj_result *res);

/*
 * Remove parent's host shim as `lanjoin shim del`: deleted at once if no route goes through
 * it, else unpinned so that it goes away with the last container using it (res->message
 * says which). No shim is success. Takes the state lock. network: for the Docker network
 * that made it (its removal), which keeps a shim `shim add` pinned since; without, a
 * network's shim is bad input (-EINVAL). Returns 0 or -errno.
 */
int lj_shim_del(const char *parent, bool network, struct lj_result *res);
