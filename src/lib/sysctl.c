/* SPDX-License-Identifier: MIT */
#include "lib/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/netns.h"
#include "shared/macro.h"

int lj_sysctl_key_valid(const char *key)
{
	const char *p = key;

	if (!key || strncmp(key, "net/", 4) != 0 || strlen(key) > 200)
		return 0;
	for (; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '/' || c == '@'))
			return 0;
		if (c == '/' && (p[1] == '/' || p[1] == '\0'))
			return 0;
		if ((p == key || p[-1] == '/') && c == '.' && (p[1] == '.' || p[1] == '/'))
			return 0;
	}
	return 1;
}

static int open_in(int netns_fd, const char *key, int flags)
{
	char path[256];
	int orig = -1, fd, r;

	if (!lj_sysctl_key_valid(key))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0)
			return r;
	}
	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	r = fd < 0 ? lj_negerrno() : fd;
	if (netns_fd >= 0)
		lj_netns_leave(orig);
	return r;
}

int lj_sysctl_read(int netns_fd, const char *key, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_in(netns_fd, key, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	if (size < 2)
		return -EINVAL;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return lj_negerrno();
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int lj_sysctl_write(int netns_fd, const char *key, const char *value)
{
	_cleanup_close_ int fd = open_in(netns_fd, key, O_WRONLY);
	size_t len = strlen(value);

	if (fd < 0)
		return fd;
	if (write(fd, value, len) != (ssize_t)len)
		return lj_negerrno();
	return 0;
}
