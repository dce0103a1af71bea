/* SPDX-License-Identifier: MIT */
/*
 * The one place that talks netlink (rtnetlink) through libmnl: a socket bound in a given
 * network namespace and one request/acknowledge path that checks sequence numbers and ports,
 * returns -errno and keeps the kernel's extended-ack text.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lj_nl;

/*
 * Whether a message of at least a header, and no longer than the len bytes left, starts at
 * nlh. libmnl's mnl_nlmsg_ok() compares (int)nlmsg_len, so a length over INT_MAX passes it and
 * mnl_nlmsg_next() then jumps outside the buffer: walk bytes not built by the kernel with this.
 */
static inline bool lj_nlmsg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)len;
}

/*
 * Open a NETLINK_ROUTE socket inside the network namespace netns_fd (borrowed, not closed;
 * -1 means the caller's namespace). The thread's namespace is restored before returning.
 * On success *ret owns the socket (free with lj_nl_close). Errors: -errno of socket/setns.
 */
int lj_nl_open(int netns_fd, struct lj_nl **ret);

/*
 * The same for another netlink protocol (e.g. NETLINK_NETFILTER for a quick nf_tables query
 * where libnftables would cost milliseconds).
 */
int lj_nl_open_proto(int netns_fd, int proto, struct lj_nl **ret);

/* Close and free; NULL is fine. */
void lj_nl_close(struct lj_nl *nl);

/* Bytes of a socket's request buffer (lj_nl_req): every request lanjoin sends fits. */
#define LJ_NL_REQ_SIZE 4096

/*
 * Start a request in buf (size bytes, aligned for struct nlmsghdr; zeroed whole): a header of
 * type and NLM_F_REQUEST|flags, then a zeroed family header of hdr_size bytes (struct
 * ifinfomsg, rtmsg, ...; 0 for none) at mnl_nlmsg_get_payload(). Attributes go after it with
 * libmnl's bounded mnl_attr_put_*_check(nlh, size, ...). The sequence number is left 0:
 * lj_nl_transact gives each request its own. Returns the header, or NULL if size is too small.
 */
struct nlmsghdr *lj_nl_msg_start(void *buf, size_t size, uint16_t type, uint16_t flags,
				 size_t hdr_size);

/*
 * The socket's own request buffer, LJ_NL_REQ_SIZE bytes: build a request there (the
 * lj_*_msg_* builders) and pass it to lj_nl_transact. Valid until the next request is built.
 */
void *lj_nl_req(struct lj_nl *nl);

/*
 * Build a request with build(buf, size, ...) (an lj_*_msg_* builder) in nl's own buffer and,
 * if it fits, send it with lj_nl_transact(nl, request, cb, data). Evaluates to the builder's
 * error (-EMSGSIZE: nothing was sent) or to lj_nl_transact's result.
 */
#define LJ_NL_SEND(nl, cb, data, build, ...)                                                       \
	({                                                                                         \
		void *req_ = lj_nl_req(nl);                                                        \
		int r_ = build(req_, LJ_NL_REQ_SIZE, __VA_ARGS__);                                 \
		r_ < 0 ? r_ : lj_nl_transact(nl, req_, cb, data);                                  \
	})

/*
 * Start a request in the socket's own buffer (lj_nl_msg_start with no family header). The
 * buffer stays valid until the next request is built in it.
 */
struct nlmsghdr *lj_nl_msg(struct lj_nl *nl, uint16_t type, uint16_t flags);

/*
 * Index the attributes of message nlh that follow its family header of hdr_size bytes:
 * tb[type] is the last attribute of each type up to max (tb has max + 1 entries and is
 * cleared first); attributes of a higher type are skipped. The nested form indexes the
 * attributes inside nest. Nothing is validated: check each with mnl_attr_validate before use.
 */
void lj_nl_attrs(const struct nlmsghdr *nlh, size_t hdr_size, const struct nlattr **tb,
		 uint16_t max);
void lj_nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, uint16_t max);

/*
 * Send nlh under a fresh sequence number and read answers until the acknowledgement (or
 * NLMSG_DONE for dumps). Every data message is passed to cb (may be NULL) with data.
 * NLM_F_ACK is added for non-dump requests.
 * Returns 0, or -errno from the kernel (its extack text is then in lj_nl_extack()), or
 * -errno of the socket, or the error a callback set in errno when it returned MNL_CB_ERROR.
 */
int lj_nl_transact(struct lj_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Reserve n sequence numbers of nl for a batch (lj_nl_transact_batch): returns the first; the
 * batch's messages carry it and the n - 1 after it.
 */
uint32_t lj_nl_seq_reserve(struct lj_nl *nl, uint32_t n);

/*
 * Send buf (len bytes: several requests, e.g. an nfnetlink batch) in one sendmsg and read the
 * kernel's answers until nacks requests that asked for an acknowledgement (NLM_F_ACK) were
 * acknowledged. Returns 0, or the kernel's first error (-errno; its extack text is then in
 * lj_nl_extack()) with *ret_seq the sequence number of the request it answers; or -errno of
 * the socket.
 */
int lj_nl_transact_batch(struct lj_nl *nl, const void *buf, size_t len, uint32_t nacks,
			 uint32_t *ret_seq);

/* The kernel's extended-ack message for the last failed request, or "" if none. */
const char *lj_nl_extack(const struct lj_nl *nl);

/*
 * The cookie of the network namespace nl's socket lives in (lj_netns_socket_cookie): the
 * namespace's identity without a socket of its own. Errors: -errno (-ENOPROTOOPT before
 * Linux 5.14).
 */
int lj_nl_netns_cookie(struct lj_nl *nl, uint64_t *ret);

/*
 * Drop whatever is waiting unread on nl (the rest of an answer a caller stopped reading), so
 * that a socket kept across calls starts its next transaction clean. Never blocks.
 */
void lj_nl_drain(struct lj_nl *nl);

/* nl lives in this process's own namespace: remember its cookie (lj_netns_self_cookie_from). */
void lj_nl_note_self_cookie(struct lj_nl *nl);

/*
 * Ask the kernel to check dump requests strictly and honour their filters (ifindex, table,
 * output link; NETLINK_GET_STRICT_CHK, Linux 4.20). Returns 0 or -errno (then dumps are not
 * filtered by the kernel and callers must filter the answers themselves, which they do anyway).
 */
int lj_nl_set_strict(struct lj_nl *nl);

/*
 * lj_nl_transact for a dump request whose filters (ifindex, ...) the kernel should honour:
 * strict checking is on for this request alone (the socket is left as it was). A kernel that
 * refuses the request strictly checked (-EINVAL) gets it again unchecked: then the answers
 * are not filtered, and callbacks must filter them, as they do for any dump. Returns as
 * lj_nl_transact.
 */
int lj_nl_transact_filtered(struct lj_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Open a NETLINK_ROUTE socket in netns_fd (as lj_nl_open) that is also subscribed to the
 * multicast groups in groups (RTMGRP_* bits, e.g. RTMGRP_IPV6_IFADDR), for waiting on
 * notifications with lj_nl_wait. Subscribe before dumping the current state so that no
 * change falls between the two. Errors as lj_nl_open.
 */
int lj_nl_open_groups(int netns_fd, unsigned groups, struct lj_nl **ret);

/*
 * Wait up to timeout_ms (milliseconds; -1 forever) for notifications on a subscribed socket
 * and pass each message to cb with data. Returns 1 if messages were read, 0 on timeout, or
 * -errno (-ENOBUFS when the kernel dropped notifications: dump again), or the error a
 * callback set in errno when it returned MNL_CB_ERROR. A callback returning MNL_CB_STOP
 * makes it return 1 at once. -EINTR once lj_interrupted() (a signal the front end caught).
 */
int lj_nl_wait(struct lj_nl *nl, int timeout_ms, mnl_cb_t cb, void *data);
