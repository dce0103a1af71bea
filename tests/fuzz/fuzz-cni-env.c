/* SPDX-License-Identifier: MIT */
/*
 * The CNI runtime's environment (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
 * CNI_PATH, CNI_ARGS): input = "NAME=VALUE" lines, made the process environment for one call
 * of lj_cni_env_parse. Anything is refused with the spec's code 4 and a message, or accepted
 * only within the limits the rest of lanjoin relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern char **environ;

static bool id_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (p == s || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[8192], *vars[65], **saved = environ, *line, *save = NULL;
	struct lj_cni_env env;
	struct lj_cni_err err;
	size_t n = 0;
	int r;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && n < 64; line = strtok_r(NULL, "\n", &save))
		vars[n++] = line;
	vars[n] = NULL;
	environ = vars;
	memset(&err, 0, sizeof(err));
	r = lj_cni_env_parse(&env, &err);
	environ = saved;
	if (r != 0) {
		if (r != LJ_CNI_E_ENV || err.code != LJ_CNI_E_ENV || !err.msg[0])
			abort();
		return 0;
	}
	if (env.cmd == LJ_CNI_ADD || env.cmd == LJ_CNI_DEL || env.cmd == LJ_CNI_CHECK) {
		if (!id_ok(env.container_id) || !lj_ifname_valid(env.ifname) ||
		    (env.netns[0] && env.netns[0] != '/') ||
		    (env.cmd != LJ_CNI_DEL && !env.netns[0]))
			abort();
		if (env.has_args_mac && (env.args_mac[0] & 1))
			abort(); /* a multicast MAC */
	}
	return 0;
}
