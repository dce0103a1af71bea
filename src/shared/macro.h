/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every file: cleanup attributes, ownership transfer, array size. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void lj_freep(void *p)
{
	free(*(void **)p);
}

static inline void lj_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(lj_freep)
#define _cleanup_close_ _cleanup_(lj_closep)

/* Take ownership of a pointer/fd out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

/* Convert a libc-style -1/errno result into -errno. */
static inline int lj_negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}
