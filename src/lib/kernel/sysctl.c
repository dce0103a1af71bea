/* SPDX-License-Identifier: MIT */
#include "lib/kernel/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/netns.h"
#include "shared/macro.h"

static int key_path(const char *key, char *path, size_t size)
{
	if (!key || !*key || key[0] == '/' || strstr(key, "..") || strlen(key) > 200)
		return -EINVAL;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_-./", *p)))
			return -EINVAL;
	snprintf(path, size, "/proc/sys/%s", key);
	return 0;
}

int lj_sysctl_read(const char *key, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	ssize_t n;
	int r;

	if (size < 2)
		return -EINVAL;
	r = key_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_negerrno();
	n = read(fd, buf, size - 1);
	if (n < 0)
		return lj_negerrno();
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int lj_sysctl_write(const char *key, const char *value)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	size_t len = strlen(value);
	int r;

	r = key_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_negerrno();
	if (write(fd, value, len) != (ssize_t)len)
		return lj_negerrno();
	return 0;
}

int lj_sysctl_read_in(int netns_fd, const char *key, char *buf, size_t size)
{
	int orig = -1, r;

	if (netns_fd < 0)
		return lj_sysctl_read(key, buf, size);
	r = lj_netns_enter(netns_fd, &orig);
	if (r < 0)
		return r;
	r = lj_sysctl_read(key, buf, size);
	lj_netns_leave(orig);
	return r;
}

int lj_sysctl_write_in(int netns_fd, const char *key, const char *value)
{
	int orig = -1, r;

	if (netns_fd < 0)
		return lj_sysctl_write(key, value);
	r = lj_netns_enter(netns_fd, &orig);
	if (r < 0)
		return r;
	r = lj_sysctl_write(key, value);
	lj_netns_leave(orig);
	return r;
}
