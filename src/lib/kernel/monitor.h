/* SPDX-License-Identifier: MIT */
/*
 * Netlink multicast listeners for long-running front ends (lanjoin watch): link changes
 * (rtnetlink RTNLGRP_LINK) and nf_tables ruleset changes (NFNLGRP_NFTABLES), in the caller's
 * network namespace. The socket is non-blocking: the front end waits on lj_monitor_fd() in its
 * own event loop and calls the read function when it is readable. Nothing here polls.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/kernel/link.h"

struct lj_monitor;

enum lj_monitor_kind {
	LJ_MONITOR_LINK, /* RTM_NEWLINK / RTM_DELLINK */
	LJ_MONITOR_NFT,	 /* nf_tables objects added, changed or deleted */
};

/* A link appeared, changed (flags, master, name) or was deleted. */
struct lj_link_event {
	bool deleted;
	struct lj_link link; /* as the message says; on deletion, what it was */
};

#define LJ_NFT_TABLE_MAX 64

/*
 * One nf_tables notification. The kernel sends the messages of one committed transaction
 * and then one NFT_MSG_NEWGEN naming the process that committed it (gen_pid, gen_proc).
 */
struct lj_nft_event {
	uint16_t msg;	/* NFT_MSG_* */
	uint8_t family; /* NFPROTO_* of the table */
	bool ipv4;	/* family is NFPROTO_IPV4 ("table ip ...") */
	bool newgen;	/* msg is NFT_MSG_NEWGEN: a transaction's end */
	bool deletion;	/* a table, chain, rule, set, element, object or flowtable went */
	char table[LJ_NFT_TABLE_MAX]; /* the table it is in; "" for NEWGEN */
	pid_t gen_pid;		      /* NEWGEN: the committing process, 0 if not said */
	char gen_proc[32];	      /* NEWGEN: its name, "" if not said */
};

/*
 * Open a listener of kind in the caller's namespace. *ret is freed with lj_monitor_close.
 * Errors: -errno of socket/bind (-EPERM without CAP_NET_ADMIN for nf_tables).
 */
int lj_monitor_open(enum lj_monitor_kind kind, struct lj_monitor **ret);

/* The socket to wait on (readable: call the read function). Owned by m. */
int lj_monitor_fd(const struct lj_monitor *m);

/* Close and free; NULL is fine. */
void lj_monitor_close(struct lj_monitor *m);

/*
 * Read every queued notification of a LJ_MONITOR_LINK listener without blocking and call cb
 * for each (cb returns 0 to go on, -errno to stop: returned as is). Returns 0 when the
 * queue is empty, -ENOBUFS when the kernel dropped notifications (the receive buffer
 * overflowed: the caller must assume anything changed), or -errno.
 */
int lj_monitor_read_links(struct lj_monitor *m,
			  int (*cb)(const struct lj_link_event *e, void *data), void *data);

/* The same for a LJ_MONITOR_NFT listener. */
int lj_monitor_read_nft(struct lj_monitor *m, int (*cb)(const struct lj_nft_event *e, void *data),
			void *data);

/*
 * Parse one notification of kind (the unit tests and fuzzers call this). Returns 1 and
 * fills the event for a message of interest, 0 for any other message, -EBADMSG for a
 * malformed one.
 */
int lj_monitor_parse_link(const struct nlmsghdr *nlh, struct lj_link_event *ret);
int lj_monitor_parse_nft(const struct nlmsghdr *nlh, struct lj_nft_event *ret);
