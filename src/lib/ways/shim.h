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
 * that address is pinned; one with another address is bad input. Returns 0 (res->message
 * says what was done) or -errno with res->message (res->bad_input, res->rolled_back).
 */
int lj_shim_add(const char *parent, const struct lj_cidr *ip, struct lj_result *res);

/*
 * Remove parent's host shim as `lanjoin shim del`: deleted at once if no route goes through
 * it, else unpinned so that it goes away with the last container using it (res->message
 * says which). No shim is success. Takes the state lock. Returns 0 or -errno.
 */
int lj_shim_del(const char *parent, struct lj_result *res);
