/* SPDX-License-Identifier: MIT */
#include "lib/core/target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/foreign/engine.h"
#include "shared/macro.h"
#include "shared/shquote.h"
#include "shared/name.h"
#include "shared/parse.h"

int lj_target_parse(const char *spec, struct lj_target *ret)
{
	struct lj_target t = {.netns_fd = -1};
	uint64_t pid;

	if (!spec || !*spec || strlen(spec) >= LJ_TARGET_SPEC_MAX)
		return -EINVAL;
	for (const char *p = spec; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	snprintf(t.spec, sizeof(t.spec), "%s", spec);

	if (strncmp(spec, "pid:", 4) == 0) {
		if (lj_parse_uint(spec + 4, 1, 0x3fffffff, &pid) < 0)
			return -EINVAL;
		t.kind = LJ_TARGET_PID;
		t.pid = (pid_t)pid;
		snprintf(t.name, sizeof(t.name), "%" PRIu64, pid);
	} else if (strncmp(spec, "netns:", 6) == 0) {
		const char *n = spec + 6;
		if (!*n || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			return -EINVAL;
		t.kind = LJ_TARGET_NETNS;
		snprintf(t.name, sizeof(t.name), "%s", n);
	} else if (strchr(spec, '/')) {
		t.kind = LJ_TARGET_PATH;
		snprintf(t.name, sizeof(t.name), "%s", spec);
	} else {
		/* Docker's rule for names and IDs: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
		for (const char *p = spec; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') ||
			      (p != spec && (*p == '_' || *p == '.' || *p == '-'))))
				return -EINVAL;
		t.kind = LJ_TARGET_CONTAINER;
		snprintf(t.name, sizeof(t.name), "%s", spec);
	}
	*ret = t;
	return 0;
}

static int open_container(struct lj_target *t, int *ret_fd)
{
	_cleanup_free_ struct lj_engine_container *c = NULL;
	struct lj_engine_err err = {""};
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = lj_engine_open_container(t->name, c, ret_fd, &err);
	if (r == 0 || r == -ESRCH) {
		snprintf(t->container_id, sizeof(t->container_id), "%s", c->id);
		snprintf(t->name, sizeof(t->name), "%s", c->name);
	}
	if (r < 0) {
		snprintf(t->error, sizeof(t->error), "%s", err.msg);
		return r;
	}
	t->pid = c->pid;
	return 0;
}

int lj_target_open(struct lj_target *t)
{
	int r = lj_target_open_ns(t);

	if (r == 0 && lj_netns_cookie(t->netns_fd, &t->cookie) < 0)
		t->cookie = 0; /* an old kernel: identity by inode alone */
	return r;
}

int lj_target_open_ns(struct lj_target *t)
{
	int fd = -1, r;

	switch (t->kind) {
	case LJ_TARGET_PID:
		r = lj_netns_open_pid(t->pid, &fd);
		break;
	case LJ_TARGET_NETNS:
		r = lj_netns_open_name(t->name, &fd);
		break;
	case LJ_TARGET_PATH:
		r = lj_netns_open_path(t->name, &fd);
		break;
	case LJ_TARGET_CONTAINER:
		r = open_container(t, &fd);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	r = lj_netns_get_id(fd, &t->id);
	if (r < 0) {
		close(fd);
		return r;
	}
	t->netns_fd = fd;
	t->cookie = 0;
	snprintf(t->key, sizeof(t->key), "ns:%" PRIu64 ":%" PRIu64, t->id.dev, t->id.ino);
	return 0;
}

int lj_target_reopen(const char *spec, const char *container_id, pid_t pid, struct lj_target *ret)
{
	struct lj_target t;
	int r;

	if (!container_id || !*container_id) {
		r = lj_target_parse(spec, &t);
		if (r < 0)
			return r;
		r = lj_target_open(&t);
		*ret = t;
		return r;
	}
	r = lj_target_parse(container_id, &t);
	if (r < 0)
		return r;
	snprintf(t.spec, sizeof(t.spec), "%s", spec);
	r = lj_target_open(&t);
	/* The engine said the container is gone or stopped: that is the answer. */
	if (r == 0 || r == -ENOENT || r == -ESRCH || pid <= 0) {
		*ret = t;
		return r;
	}
	/* The engine cannot be asked (down, restarting): the recorded PID tells. */
	t.kind = LJ_TARGET_PID;
	t.pid = pid;
	t.error[0] = '\0';
	r = lj_target_open(&t);
	*ret = t;
	return r;
}

void lj_target_host_ifname(const struct lj_target *t, const char *prefix, const char *ifname,
			   char ret[IFNAMSIZ])
{
	char key[LJ_TARGET_SPEC_MAX + IFNAMSIZ + 64];

	if (t->cookie)
		snprintf(key, sizeof(key), "nsc:%" PRIu64 "/%s", t->cookie, ifname);
	else
		snprintf(key, sizeof(key), "%s/%s", t->key, ifname);
	lj_name_hashed(prefix, key, ret);
}

int lj_target_dup(const struct lj_target *t, struct lj_target *ret)
{
	int fd;

	ret->netns_fd = -1;
	ret->error[0] = '\0';
	if (t->netns_fd < 0)
		return -EBADF;
	fd = fcntl(t->netns_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*ret = *t;
	ret->netns_fd = fd;
	return 0;
}

void lj_target_close(struct lj_target *t)
{
	if (t->netns_fd >= 0)
		close(t->netns_fd);
	t->netns_fd = -1;
}

bool lj_target_alive(const char *spec, const struct lj_netns_id *id, uint64_t cookie)
{
	struct lj_target t;
	bool alive;

	if (lj_target_parse(spec, &t) < 0 || lj_target_open(&t) < 0)
		return false;
	alive = t.id.dev == id->dev && t.id.ino == id->ino &&
		(!cookie || !t.cookie || t.cookie == cookie);
	lj_target_close(&t);
	return alive;
}

const char *lj_target_exec_prefix(const struct lj_target *t, char *buf, size_t size)
{
	if (!t)
		snprintf(buf, size, "# the target's namespace is gone, nothing to do there:");
	else if (t->kind == LJ_TARGET_NETNS)
		snprintf(buf, size, "ip netns exec %s", LJ_SHQ(t->name));
	else if (t->kind == LJ_TARGET_PATH)
		snprintf(buf, size, "nsenter --net=%s", LJ_SHQ(t->name));
	else
		snprintf(buf, size, "nsenter -t %d -n", (int)t->pid);
	return buf;
}

const char *lj_target_ip_prefix(const struct lj_target *t, char *buf, size_t size)
{
	if (t && t->kind == LJ_TARGET_NETNS)
		snprintf(buf, size, "ip -n %s", LJ_SHQ(t->name));
	else {
		char pre[LJ_SHQ_MAX + 32];
		snprintf(buf, size, "%s ip", lj_target_exec_prefix(t, pre, sizeof(pre)));
	}
	return buf;
}

const char *lj_target_kind_str(enum lj_target_kind k)
{
	static const char *const names[] = {
		[LJ_TARGET_PID] = "pid",
		[LJ_TARGET_NETNS] = "netns",
		[LJ_TARGET_PATH] = "path",
		[LJ_TARGET_CONTAINER] = "container",
	};
	return k < ARRAY_SIZE(names) ? names[k] : "?";
}
