/* SPDX-License-Identifier: MIT */
#include "lib/kernel/netlink.h"
#include "lib/core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/netns.h"
#include "shared/macro.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

struct lj_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	bool strict; /* lj_nl_set_strict was called */
	char extack[256];
	/* Requests are small; answers (dumps) may be large. */
	char tx[LJ_NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	char rx[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int nl_open(int netns_fd, int proto, unsigned groups, struct lj_nl **ret);

int lj_nl_open(int netns_fd, struct lj_nl **ret)
{
	return nl_open(netns_fd, NETLINK_ROUTE, 0, ret);
}

int lj_nl_open_proto(int netns_fd, int proto, struct lj_nl **ret)
{
	return nl_open(netns_fd, proto, 0, ret);
}

int lj_nl_open_groups(int netns_fd, unsigned groups, struct lj_nl **ret)
{
	return nl_open(netns_fd, NETLINK_ROUTE, groups, ret);
}

static int nl_open(int netns_fd, int proto, unsigned groups, struct lj_nl **ret)
{
	struct lj_nl *nl;
	int orig = -1, one = 1, r = 0;

	/* Not calloc: zeroing the buffers would touch (fault in) 10 pages nobody reads. */
	nl = malloc(sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = NULL;
	nl->strict = false;
	nl->extack[0] = '\0';

	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0)
			goto fail;
	}
	nl->sock = mnl_socket_open2(proto, SOCK_CLOEXEC);
	if (!nl->sock)
		r = lj_negerrno();
	if (netns_fd >= 0)
		lj_netns_leave(orig);
	if (r < 0)
		goto fail;

	/* Best effort: older kernels lack these options. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
		r = lj_negerrno();
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*ret = nl;
	return 0;
fail:
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
	return r;
}

void lj_nl_close(struct lj_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

struct nlmsghdr *lj_nl_msg_start(void *buf, size_t size, uint16_t type, uint16_t flags,
				 size_t hdr_size)
{
	struct nlmsghdr *nlh;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr_size))
		return NULL;
	/* Zeroed whole: libmnl before 1.0.5 leaves attribute padding as it finds it. */
	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	if (hdr_size)
		mnl_nlmsg_put_extra_header(nlh, hdr_size);
	return nlh;
}

void *lj_nl_req(struct lj_nl *nl)
{
	return nl->tx;
}

struct nlmsghdr *lj_nl_msg(struct lj_nl *nl, uint16_t type, uint16_t flags)
{
	return lj_nl_msg_start(nl->tx, sizeof(nl->tx), type, flags, 0);
}

struct attrs_ctx {
	const struct nlattr **tb;
	uint16_t max;
};

static int attrs_cb(const struct nlattr *attr, void *data)
{
	struct attrs_ctx *c = data;

	if (mnl_attr_type_valid(attr, c->max) > 0)
		c->tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

void lj_nl_attrs(const struct nlmsghdr *nlh, size_t hdr_size, const struct nlattr **tb,
		 uint16_t max)
{
	struct attrs_ctx c = {.tb = tb, .max = max};

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	mnl_attr_parse(nlh, (unsigned)hdr_size, attrs_cb, &c);
}

void lj_nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, uint16_t max)
{
	struct attrs_ctx c = {.tb = tb, .max = max};

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	mnl_attr_parse_nested(nest, attrs_cb, &c);
}

struct transact_ctx {
	struct lj_nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct lj_nl *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
		snprintf(nl->extack, sizeof(nl->extack), "%s", mnl_attr_get_str(attr));
		/* Strip a trailing newline some messages carry. */
		size_t n = strlen(nl->extack);
		if (n && nl->extack[n - 1] == '\n')
			nl->extack[n - 1] = '\0';
	}
	return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct transact_ctx *t = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)off, extack_attr_cb, t->nl);
	}
	errno = -err->error;
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	/* A dump's end may carry an error code (e.g. a filtered dump the kernel refused). */
	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
		int err = *(const int *)mnl_nlmsg_get_payload(nlh);
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct transact_ctx *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

int lj_nl_transact(struct lj_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct transact_ctx t = {.nl = nl, .cb = cb, .data = data};
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint32_t seq;
	ssize_t n;
	int r;

	nl->extack[0] = '\0';
	seq = nlh->nlmsg_seq = ++nl->seq;
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return lj_negerrno();

	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->rx, sizeof(nl->rx));
		if (n < 0)
			return lj_negerrno();
		errno = 0;
		r = mnl_cb_run2(nl->rx, (size_t)n, seq, nl->portid, data_cb, &t, ctl,
				ARRAY_SIZE(ctl));
		if (r == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

uint32_t lj_nl_seq_reserve(struct lj_nl *nl, uint32_t n)
{
	uint32_t first = nl->seq + 1;

	nl->seq += n;
	return first;
}

int lj_nl_transact_batch(struct lj_nl *nl, const void *buf, size_t len, uint32_t nacks,
			 uint32_t *ret_seq)
{
	uint32_t acked = 0;
	ssize_t n;

	nl->extack[0] = '\0';
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return lj_negerrno();
	while (acked < nacks) {
		const struct nlmsghdr *nlh;
		int left;

		n = mnl_socket_recvfrom(nl->sock, nl->rx, sizeof(nl->rx));
		if (n < 0)
			return lj_negerrno();
		nlh = (const struct nlmsghdr *)nl->rx;
		for (left = (int)n; lj_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_pid != nl->portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
				return -EBADMSG;
			if (err->error == 0) {
				acked++;
				continue;
			}
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
				size_t off = sizeof(*err);
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
				if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
					mnl_attr_parse(nlh, (unsigned)off, extack_attr_cb, nl);
			}
			*ret_seq = nlh->nlmsg_seq;
			return err->error < 0 ? err->error : -EIO;
		}
	}
	return 0;
}

const char *lj_nl_extack(const struct lj_nl *nl)
{
	return nl ? nl->extack : "";
}

int lj_nl_wait(struct lj_nl *nl, int timeout_ms, mnl_cb_t cb, void *data)
{
	struct pollfd pfd[2] = {
		{.fd = mnl_socket_get_fd(nl->sock), .events = POLLIN},
		{.fd = lj_interrupt_fd(), .events = POLLIN},
	};
	ssize_t n;
	int r;

	if (lj_interrupted())
		return -EINTR;
	r = poll(pfd, 2, timeout_ms);
	if (lj_interrupted())
		return -EINTR;
	if (r < 0)
		return errno == EINTR ? 0 : lj_negerrno();
	if (r == 0 || !(pfd[0].revents & POLLIN))
		return 0;
	n = recv(pfd[0].fd, nl->rx, sizeof(nl->rx), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : lj_negerrno();
	errno = 0;
	/* Notifications carry seq 0 and portid 0: no sequence/port check. */
	r = mnl_cb_run(nl->rx, (size_t)n, 0, 0, cb, data);
	if (r == MNL_CB_ERROR)
		return errno ? -errno : -EIO;
	return 1;
}

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

int lj_nl_netns_cookie(struct lj_nl *nl, uint64_t *ret)
{
	return lj_netns_socket_cookie(mnl_socket_get_fd(nl->sock), ret);
}

void lj_nl_drain(struct lj_nl *nl)
{
	while (recv(mnl_socket_get_fd(nl->sock), nl->rx, sizeof(nl->rx), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR)
		;
}

void lj_nl_note_self_cookie(struct lj_nl *nl)
{
	lj_netns_self_cookie_from(mnl_socket_get_fd(nl->sock));
}

int lj_nl_set_strict(struct lj_nl *nl)
{
	int one = 1;

	if (mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
		return lj_negerrno();
	nl->strict = true;
	return 0;
}

int lj_nl_transact_filtered(struct lj_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	int one = 1, zero = 0, r;
	size_t len = nlh->nlmsg_len;
	char copy[LJ_NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (nl->strict)
		return lj_nl_transact(nl, nlh, cb, data);
	if (len > sizeof(copy) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
		return lj_nl_transact(nl, nlh, cb, data); /* before Linux 4.20: unfiltered */
	memcpy(copy, nlh, len);				  /* for a second try */
	r = lj_nl_transact(nl, nlh, cb, data);
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &zero, sizeof(zero));
	/* A family that refuses the filter (strict checking rejects what it does not know):
	 * the whole dump, unfiltered. */
	if (r == -EINVAL)
		r = lj_nl_transact(nl, (struct nlmsghdr *)copy, cb, data);
	return r;
}
