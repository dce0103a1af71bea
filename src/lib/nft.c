/* SPDX-License-Identifier: MIT */
#include "lib/nft.h"

#include <errno.h>
#include <linux/capability.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

static void nft_freep(struct nft_ctx **p)
{
	if (*p)
		nft_ctx_free(*p);
}
#define _cleanup_nft_ _cleanup_(nft_freep)

bool lj_nft_name_valid(const char *s)
{
	size_t n = 0;

	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return n <= 63;
}

/*
 * libnftables reports errors only as text ("Error: Could not process rule: <strerror>").
 * Recover the errno from the strerror text; the first match in this order wins.
 */
static int errno_from_text(const char *text)
{
	static const int codes[] = {
		EPERM, ENOENT, EEXIST, EOPNOTSUPP, EPROTONOSUPPORT, EAFNOSUPPORT, EBUSY,
		ENOMEM, ENOSPC, E2BIG, EMLINK, ENOTEMPTY, ENOBUFS, EINVAL,
	};

	if (!text || !*text)
		return -EIO;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (strstr(text, strerror(codes[i])))
			return -codes[i];
	if (strstr(text, "you must be root"))
		return -EPERM;
	if (strstr(text, "syntax error"))
		return -EINVAL;
	return -EIO;
}

/* Copy the first line of nft's error text that says something ("Error: ..."). */
static void copy_error(const char *text, char *err, size_t errsize)
{
	const char *line, *nl;

	if (!err || !errsize)
		return;
	err[0] = '\0';
	if (!text)
		return;
	line = strstr(text, "Error: ");
	if (!line)
		line = text;
	nl = strchr(line, '\n');
	snprintf(err, errsize, "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
}

/*
 * libnftables prints to stderr when the kernel refuses its socket for lack of rights; ask
 * the kernel first whether this process has CAP_NET_ADMIN at all.
 */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return true; /* cannot tell: let nft try */
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

static int run(const char *cmds, bool check, bool json, json_t **ret, char *err, size_t errsize)
{
	_cleanup_nft_ struct nft_ctx *nft = NULL;
	unsigned flags = 0;
	int rc;

	if (!have_net_admin()) {
		if (err && errsize)
			snprintf(err, errsize, "the process lacks CAP_NET_ADMIN");
		return -EPERM;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0)
		return -ENOMEM;
	if (json)
		flags |= NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;
	nft_ctx_output_set_flags(nft, flags);
	nft_ctx_set_dry_run(nft, check);
	rc = nft_run_cmd_from_buffer(nft, cmds);
	if (rc != 0) {
		const char *text = nft_ctx_get_error_buffer(nft);
		copy_error(text, err, errsize);
		return errno_from_text(text);
	}
	if (ret) {
		const char *out = nft_ctx_get_output_buffer(nft);
		json_t *root, *arr;

		root = json_loads(out ? out : "", 0, NULL);
		arr = json_object_get(root, "nftables");
		if (!json_is_array(arr)) {
			json_decref(root);
			if (err && errsize)
				snprintf(err, errsize, "nft returned no JSON");
			return -EBADMSG;
		}
		*ret = json_incref(arr);
		json_decref(root);
	}
	return 0;
}

int lj_nft_run(const char *cmds, bool check, char *err, size_t errsize)
{
	return run(cmds, check, false, NULL, err, errsize);
}

int lj_nft_list(const char *cmd, json_t **ret, char *err, size_t errsize)
{
	return run(cmd, false, true, ret, err, errsize);
}
