/* SPDX-License-Identifier: MIT */
/* lanjoin as a CNI plugin: environment, stdin, dispatch, the error JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni/cni.h"

#define STDIN_MAX (1 << 20)

/* Read all of stdin (at most STDIN_MAX bytes) into *ret (NUL-terminated, caller frees). */
static int read_stdin(char **ret, size_t *ret_size, struct lj_cni_err *err)
{
	size_t len = 0;
	char *buf = malloc(STDIN_MAX + 1);

	if (!buf)
		return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "out of memory");
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, STDIN_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "reading stdin: %s",
					   strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > STDIN_MAX) {
			free(buf);
			return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure",
					   "the network configuration is larger than %d bytes",
					   STDIN_MAX);
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_size = len;
	return 0;
}

static void print_error(const char *version, const struct lj_cni_err *err)
{
	json_t *j =
		json_pack("{sssiss}", "cniVersion", version[0] ? version : LJ_CNI_VERSION_LATEST,
			  "code", err->code, "msg", err->msg);

	if (j && err->details[0])
		json_object_set_new(j, "details", json_string(err->details));
	lj_cni_print(j);
}

static int cmd_version(const char *buf, size_t size)
{
	char version[16];

	lj_cni_peek_version(buf, size, version);
	lj_cni_print(json_pack("{soso}", "cniVersion",
			       json_string(version[0] ? version : LJ_CNI_VERSION_LATEST),
			       "supportedVersions", lj_cni_versions_json()));
	return 0;
}

int lj_cni_main(void)
{
	struct lj_cni_err err = {0};
	struct lj_cni_conf conf = {0};
	struct lj_cni_env env = {0};
	char version[16] = "";
	char *buf = NULL;
	size_t size = 0;
	int r;

	r = lj_cni_env_parse(&env, &err);
	if (r == 0 && env.cmd == LJ_CNI_VERSION && isatty(STDIN_FILENO))
		return cmd_version("", 0);
	if (r == 0)
		r = read_stdin(&buf, &size, &err);
	if (r == 0 && env.cmd == LJ_CNI_VERSION) {
		cmd_version(buf, size);
		free(buf);
		return 0;
	}
	if (r == 0) {
		lj_cni_peek_version(buf, size, version);
		r = lj_cni_conf_parse(buf, size, env.cmd, &env, &conf, &err);
	}
	if (r == 0) {
		switch (env.cmd) {
		case LJ_CNI_ADD:
			r = lj_cni_cmd_add(&env, &conf, &err);
			break;
		case LJ_CNI_DEL:
			r = lj_cni_cmd_del(&env, &conf, &err);
			break;
		case LJ_CNI_CHECK:
			r = lj_cni_cmd_check(&env, &conf, &err);
			break;
		case LJ_CNI_STATUS:
			r = lj_cni_cmd_status(&env, &conf, &err);
			break;
		case LJ_CNI_GC:
			r = lj_cni_cmd_gc(&env, &conf, &err);
			break;
		case LJ_CNI_VERSION:
			break;
		}
	}
	if (r) {
		const char *cmd = getenv("CNI_COMMAND");
		const char *id = env.container_id && *env.container_id ? env.container_id : NULL;
		const char *ifn = id && env.ifname ? env.ifname : NULL;
		char line[2048];

		print_error(version, &err);
		snprintf(line, sizeof(line), "lanjoin: CNI %s%s%s%s%s%s%s failed: %s%s%s",
			 cmd && strlen(cmd) < 16 ? cmd : "?", conf.name[0] ? " network " : "",
			 conf.name, id ? " container " : "", id ? id : "", ifn ? " ifname " : "",
			 ifn ? ifn : "", err.msg, err.details[0] ? ": " : "", err.details);
		/* Values quoted from hostile input must not reach a terminal or log as controls. */
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fprintf(stderr, "%s\n", line);
	}
	lj_cni_conf_free(&conf);
	free(buf);
	return r ? 1 : 0;
}
