/* SPDX-License-Identifier: MIT */
/*
 * Firewall coexistence for bridged traffic. With br_netfilter active
 * (net.bridge.bridge-nf-call-iptables=1) frames bridged between the LAN and containers on BR
 * traverse the iptables FORWARD chain; Docker sets its policy to DROP, which silently cuts
 * containers off. The bridged-accept step inserts "iifname BR oifname BR accept" where Docker
 * expects user rules (chain DOCKER-USER, else FORWARD) of the iptables-nft table, marked with
 * a comment; its undo deletes the rules carrying that comment.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/steps/uplink-fw.h"

#include "lib/core/status.h"
#include "lib/kernel/nft.h"
#include "shared/macro.h"
#include "shared/shquote.h"

#define NFPROTO_IPV4_ 2
#define NFPROTO_IPV6_ 10

static const char *fam_name(uint32_t f)
{
	return f == NFPROTO_IPV6_ ? "ip6" : "ip";
}

static bool read_flag(const char *path)
{
	char c = 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd >= 0 && read(fd, &c, 1) == 1 && c == '1';
}

static bool chain_ok(const char *c)
{
	return c && (strcmp(c, "DOCKER-USER") == 0 || strcmp(c, "FORWARD") == 0);
}

void lj_uplink_fw_needs(bool need[2], char chain[2][16])
{
	static const uint8_t fams[2] = {NFPROTO_IPV4_, NFPROTO_IPV6_};
	static const char *const knobs[2] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
					     "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
	struct lj_nft_query q[2];
	size_t n = 0, at[2];

	for (size_t i = 0; i < 2; i++) {
		need[i] = false;
		snprintf(chain[i], 16, "FORWARD");
		at[i] = SIZE_MAX;
		/* br_netfilter absent or off: bridged frames skip iptables */
		if (read_flag(knobs[i])) {
			at[i] = n;
			q[n++] = (struct lj_nft_query){
				.kind = LJ_NFT_CHAIN, .name = "FORWARD", .family = fams[i]};
		}
	}
	/* One nf_tables request per chain (libnftables would load its cache for milliseconds,
	 * on every bridge attach), both families on one socket. */
	if (!n || lj_nft_lookup(0, "filter", q, n) < 0)
		return;
	for (size_t i = 0; i < 2; i++)
		need[i] = at[i] != SIZE_MAX && q[at[i]].found && q[at[i]].has_policy &&
			  q[at[i]].policy == NF_DROP;
	n = 0;
	for (size_t i = 0; i < 2; i++) {
		at[i] = SIZE_MAX;
		if (need[i]) {
			at[i] = n;
			q[n++] = (struct lj_nft_query){
				.kind = LJ_NFT_CHAIN, .name = "DOCKER-USER", .family = fams[i]};
		}
	}
	if (!n || lj_nft_lookup(0, "filter", q, n) < 0)
		return;
	for (size_t i = 0; i < 2; i++)
		if (at[i] != SIZE_MAX && q[at[i]].found)
			snprintf(chain[i], 16, "DOCKER-USER");
}

/* The comment that marks our rule: per bridge (adoption), or per port (attach bridge). */
static void tag(const char *br, const char *port, char *buf, size_t size)
{
	if (port && *port)
		snprintf(buf, size, "lanjoin: bridged on %s for %s", br, port);
	else
		snprintf(buf, size, "lanjoin: bridged on %s", br);
}

struct has_rule {
	const char *tag;
	bool found;
};

static void has_rule_cb(uint64_t handle, const char *comment, void *data)
{
	struct has_rule *h = data;

	h->found |= comment && strcmp(comment, h->tag) == 0;
}

int lj_uplink_fw_has_rule(uint32_t fam, const char *chain, const char *br)
{
	char t[64];
	struct has_rule h = {t, false};

	if (!chain_ok(chain))
		return -EINVAL;
	tag(br, NULL, t, sizeof(t));
	/* One dump of the chain's rules (libnftables would load its cache first). */
	if (lj_nft_rules((uint8_t)fam, "filter", chain, has_rule_cb, &h) < 0)
		return 0;
	return h.found;
}

static int fw_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char t[64], err[256] = "";
	struct lj_nft_tx *tx = NULL;
	int r;

	if (!chain_ok(s->text) || (s->u32 != NFPROTO_IPV4_ && s->u32 != NFPROTO_IPV6_))
		return -EINVAL;
	tag(s->link, s->peer, t, sizeof(t));
	r = lj_nft_tx_new((uint8_t)s->u32, &tx);
	if (r < 0)
		return r;
	/* insert rule FAM filter CHAIN iifname BR oifname BR counter accept comment TAG */
	lj_nft_tx_rule(tx, true, "filter", s->text,
		       &(struct lj_nft_rule){.iifname = s->link,
					     .oifname = s->link,
					     .counter = true,
					     .action = LJ_NFT_ACCEPT,
					     .comment = t});
	r = lj_nft_tx_commit(tx, false, err, sizeof(err));
	lj_nft_tx_free(tx);
	if (r < 0)
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	return r;
}

struct fw_delete {
	struct lj_nft_tx *tx;
	const char *chain, *tag;
};

static void fw_delete_cb(uint64_t handle, const char *comment, void *data)
{
	struct fw_delete *d = data;

	if (comment && strcmp(comment, d->tag) == 0)
		lj_nft_tx_rule_delete(d->tx, "filter", d->chain, handle);
}

static int fw_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char t[64], err[256] = "";
	struct lj_nft_tx *tx = NULL;
	int r;

	if (!chain_ok(s->text) || (s->u32 != NFPROTO_IPV4_ && s->u32 != NFPROTO_IPV6_))
		return -EINVAL;
	tag(s->link, s->peer, t, sizeof(t));
	r = lj_nft_tx_new((uint8_t)s->u32, &tx);
	if (r < 0)
		return r;
	/* The rules carrying our comment, from one dump of the chain; one transaction. */
	r = lj_nft_rules((uint8_t)s->u32, "filter", s->text, fw_delete_cb,
			 &(struct fw_delete){tx, s->text, t});
	if (r == 0)
		r = lj_nft_tx_commit(tx, false, err, sizeof(err));
	lj_nft_tx_free(tx);
	if (r == -ENOENT)
		return 0; /* the chain is gone, and our rule with it */
	if (r < 0 && err[0])
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	return r;
}

/*
 * The nft command that inserts the step's rule, one shell word after "nft": BR (and the
 * comment that names it) as nft strings, in double quotes. A name holding a '"' (or ending in
 * '*', a wildcard there) cannot be written in nft's syntax (lanjoin itself adds the rule
 * through netlink): a comment says so.
 */
static void fw_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char t[64], cmd[256];

	tag(s->link, s->peer, t, sizeof(t));
	size_t len = strlen(s->link);

	/* a '"' ends nft's string; a trailing '*' makes it a wildcard ("br*": every br...) */
	if (strchr(t, '"') || strchr(t, '\\') || (len && s->link[len - 1] == '*')) {
		fprintf(f,
			"# nft insert rule %s filter %s iifname BR oifname BR counter accept "
			"(BR: %s, a name nft's syntax cannot write)\n",
			fam_name(s->u32), s->text ? s->text : "?", LJ_SHC(s->link));
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "insert rule %s filter %s iifname \"%s\" oifname \"%s\" counter accept comment "
		 "\"%s\"",
		 fam_name(s->u32), s->text ? s->text : "?", s->link, s->link, t);
	fputs("nft ", f);
	lj_shell_word(f, cmd);
	fputc('\n', f);
}

/* What fw_undo does now: delete the rules carrying the tag, by their handles. */
static void fw_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char t[64];

	if (!chain_ok(s->text) || (s->u32 != NFPROTO_IPV4_ && s->u32 != NFPROTO_IPV6_))
		return;
	tag(s->link, s->peer, t, sizeof(t));
	lj_nft_describe_delete(f, (uint8_t)s->u32, s->text, t);
}

/* The accept rule (commented with its tag) is still in its chain: one listing per chain. */
static int fw_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		     size_t size)
{
	const char *tool = s->u32 == NFPROTO_IPV6_ ? "ip6tables" : "iptables";
	char cmd[128], t[64];
	json_t *a = NULL, *o;
	bool found = false;
	size_t i;
	int r;

	if (!chain_ok(s->text) || (s->u32 != NFPROTO_IPV4_ && s->u32 != NFPROTO_IPV6_))
		return -EBADMSG;
	tag(s->link, s->peer, t, sizeof(t));
	snprintf(cmd, sizeof(cmd), "list chain %s filter %s", fam_name(s->u32), s->text);
	r = lj_status_nft(v->host, cmd, &a, why, size);
	if (r == -ENOENT) {
		snprintf(why, size, "%s chain %s (table %s filter) is missing", tool, s->text,
			 fam_name(s->u32));
		return LJ_VERIFY_DRIFTED;
	}
	if (r < 0)
		return r;
	json_array_foreach(a, i, o)
	{
		const char *c =
			json_string_value(json_object_get(json_object_get(o, "rule"), "comment"));
		found |= c && strcmp(c, t) == 0;
	}
	if (found)
		return 0;
	snprintf(why, size,
		 "%s accept rule for bridge %s (comment \"%s\") is missing from chain %s", tool,
		 s->link, t, s->text);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_bridged_accept = {
	.id = "bridged-accept",
	.verify = fw_verify,
	.apply = fw_apply,
	.undo = fw_undo,
	.describe = fw_describe,
	.describe_undo = fw_describe_undo,
	.nft = LJ_STEP_NFT_FOREIGN,
};
