/* SPDX-License-Identifier: MIT */
/* The ip-forward step of the nat and routed ways: IPv4 forwarding on while they need it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/core/status.h"
#include "lib/kernel/neigh.h"
#include "lib/kernel/sysctl.h"
#include "lib/steps/nat.h"
#include "lib/steps/routed.h"
#include "shared/macro.h"

/* --- ip-forward: set net.ipv4.ip_forward to 1 while NAT attachments need it -------------- */

/*
 * <state dir>/nat-ip_forward holds the value lanjoin found before it first turned
 * forwarding on; it exists exactly while lanjoin owns the setting. The undo of whichever
 * attachment is the last NAT user restores the value and removes the file. Steps run under
 * the state lock, so the file needs no lock of its own.
 */
static void forward_file(char *buf, size_t size)
{
	snprintf(buf, size, "%s/nat-ip_forward", lj_state_dir());
}

/* The value kept, "0" or "1"; -ENOENT: lanjoin does not own the setting (lj_sysctl_owner_read:
 * an empty file an older lanjoin left too, removed when drop_empty). */
static int forward_file_read(char *val, size_t size, bool drop_empty)
{
	char path[512];
	int r;

	forward_file(path, sizeof(path));
	r = lj_sysctl_owner_read(path, val, size, drop_empty);
	if (r < 0)
		return r;
	if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
		return -EBADMSG;
	return 0;
}

static int forward_file_write(const char *val)
{
	char path[512];

	forward_file(path, sizeof(path));
	return lj_sysctl_owner_write(path, val);
}

#define IP_FORWARD "net/ipv4/ip_forward"

static int ip_forward_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char cur[16], saved[16], path[512];
	int r;

	r = lj_sysctl_read(IP_FORWARD, cur, sizeof(cur));
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot read /proc/sys/" IP_FORWARD);
		return r;
	}
	if (strcmp(cur, "1") == 0)
		return 0;
	r = forward_file_read(saved, sizeof(saved), true);
	if (r == -ENOENT) {
		/* First to need it: remember what it was, then turn it on. */
		r = forward_file_write(cur);
		if (r < 0) {
			lj_ctx_detail(ctx, "cannot write %s/nat-ip_forward", lj_state_dir());
			return r;
		}
		s->created = true;
	} else if (r < 0) {
		lj_ctx_detail(ctx, "%s/nat-ip_forward is unreadable or malformed", lj_state_dir());
		return r;
	}
	r = lj_sysctl_write(IP_FORWARD, "1");
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot write /proc/sys/" IP_FORWARD);
		if (s->created) {
			forward_file(path, sizeof(path));
			unlink(path);
			s->created = false;
		}
	}
	return r;
}

static int ip_forward_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char saved[16], err[256], path[512];
	int r, users;

	r = forward_file_read(saved, sizeof(saved), true);
	if (r == -ENOENT)
		return 0; /* lanjoin does not own the setting */
	if (r < 0) {
		lj_ctx_detail(ctx, "%s/nat-ip_forward is unreadable or malformed", lj_state_dir());
		return r;
	}
	/* This step's own NAT rules are gone already (they come later in the plan). */
	users = lj_nat_users(err, sizeof(err));
	if (users < 0) {
		lj_ctx_detail(ctx, "nft: %s", err);
		return users;
	}
	if (users > 0)
		return 0;
	/* The routed way's IPv4 proxy entries (on any link) need forwarding as well; this
	 * attachment's are gone already (they come later in its plan). */
	users = lj_neigh_proxy_count(ctx->host, AF_INET, 0, NULL, NULL);
	if (users < 0)
		return lj_ctx_nl_error(ctx, ctx->host, users);
	if (users > 0)
		return 0;
	r = lj_sysctl_write(IP_FORWARD, saved);
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot write /proc/sys/" IP_FORWARD);
		return r;
	}
	forward_file(path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return lj_negerrno();
	return 0;
}

static void ip_forward_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "sysctl -w net.ipv4.ip_forward=1  # if 0; lanjoin remembers the old value\n");
}

/* What ip_forward_undo does now: the value lanjoin found, if it owns the setting and no other
 * NAT or routed attachment needs forwarding (those of this detach's plan gone). */
static void ip_forward_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char saved[16];
	int nat, proxies;

	if (forward_file_read(saved, sizeof(saved), false) < 0) {
		fprintf(f, "# net.ipv4.ip_forward stays: lanjoin did not turn it on\n");
		return;
	}
	nat = lj_nat_users_besides(ctx->describing);
	proxies = nat == 0 ? lj_routed_proxies_besides(ctx, AF_INET, 0) : 0;
	if (!ctx->describing || nat != 0 || proxies != 0) {
		fprintf(f, "# net.ipv4.ip_forward stays: %s\n",
			nat > 0 || proxies > 0 ? "other attachments need it"
					       : "cannot tell whether other attachments need it");
		return;
	}
	fprintf(f, "sysctl -qw net.ipv4.ip_forward=%s   # the value lanjoin found\n", saved);
}

/* NAT needs IPv4 forwarding on, whoever turned it on. */
static int ip_forward_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			     size_t size)
{
	char cur[32];
	int r = lj_status_sysctl(v->host, IP_FORWARD, cur, sizeof(cur));

	if (r < 0)
		return r;
	if (strcmp(cur, "1") == 0)
		return 0;
	snprintf(why, size, "sysctl net.ipv4.ip_forward is %s, not 1", cur);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_ip_forward = {
	.id = "ip-forward",
	.verify = ip_forward_verify,
	.apply = ip_forward_apply,
	.undo = ip_forward_undo,
	.describe = ip_forward_describe,
	.describe_undo = ip_forward_describe_undo,
};
