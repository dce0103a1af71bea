/* SPDX-License-Identifier: MIT */
/*
 * The nft-fw-accept step: accept rules for a nat or routed container in the chain of
 * iptables-nft's table filter that Docker's (or any) FORWARD policy of DROP goes through.
 */
#include "lib/steps/nat.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/state.h"
#include "lib/core/status.h"
#include "lib/kernel/nft.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/* --- fw-accept: master = chain of table ip filter (iptables-nft), link = host-side link
 *     ("" = any), via = the container's address, text = rule comment ------------------- */

/* The nft family of the step's tables and matches: "ip", or "ip6" for an IPv6 address. */
static const char *fw_family(const struct lj_step *s)
{
	return s->via.family == AF_INET6 ? "ip6" : "ip";
}

static int fw_check(const struct lj_step *s)
{
	if (!lj_nft_name_valid(s->master) || (s->link[0] && !lj_nft_name_valid(s->link)) ||
	    (s->via.family != AF_INET && s->via.family != AF_INET6) || !s->text ||
	    strncmp(s->text, "lanjoin:", 8) != 0 || strlen(s->text + 8) != LJ_RECORD_ID_LEN - 1 ||
	    strspn(s->text + 8, "0123456789abcdef") != LJ_RECORD_ID_LEN - 1)
		return -EBADMSG;
	return 0;
}

/* The conntrack states of a nat way's inbound rules, in their order: published ports, replies. */
static const uint16_t fw_nat_states[] = {
	XT_CONNTRACK_STATE_DNAT,
	XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) | XT_CONNTRACK_STATE_BIT(IP_CT_RELATED),
};
static const char *const fw_nat_states_text[] = {"DNAT", "RELATED,ESTABLISHED"};

/* The number of rules step s makes. */
static size_t fw_rules(const struct lj_step *s)
{
	return s->flags & LJ_STEP_F_FW_NAT ? 3 : 2;
}

int lj_fw_accept_text(const struct lj_step *s, char **ret)
{
	char c[LJ_IP_STRLEN], in[64] = "", out[64] = "";
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (fw_check(s) < 0)
		return -EBADMSG;
	lj_ip_to_string(&s->via, c, sizeof(c));
	if (s->link[0]) {
		snprintf(in, sizeof(in), "iifname \"%s\" ", s->link);
		snprintf(out, sizeof(out), "oifname \"%s\" ", s->link);
	}
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	/* The shape iptables-nft itself uses (it shows them as -i/-s ... -m comment -j ACCEPT). */
	fprintf(f, "insert rule %s filter %s %s%s saddr %s counter accept comment \"%s\"\n",
		fw_family(s), s->master, in, fw_family(s), c, s->text);
	if (!(s->flags & LJ_STEP_F_FW_NAT))
		fprintf(f, "insert rule %s filter %s %s%s daddr %s counter accept comment \"%s\"\n",
			fw_family(s), s->master, out, fw_family(s), c, s->text);
	else
		for (size_t i = 0; i < ARRAY_SIZE(fw_nat_states); i++)
			fprintf(f,
				"%s -w -I %s%s%s -d %s -m conntrack --ctstate %s -m comment "
				"--comment %s -j ACCEPT\n",
				s->via.family == AF_INET6 ? "ip6tables" : "iptables", s->master,
				s->link[0] ? " -o " : "", s->link, c, fw_nat_states_text[i],
				s->text);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int lj_fw_accept_commit(const struct lj_step *s, bool check, char *err, size_t errsize)
{
	struct lj_nft_tx *tx = NULL;
	uint8_t fam = s->via.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	const char *link = s->link[0] ? s->link : NULL;
	int r;

	if (fw_check(s) < 0)
		return -EBADMSG;
	r = lj_nft_tx_new(fam, &tx);
	if (r < 0)
		return r;
	/* lj_fw_accept_text's rules, in its order (each goes to the top of the chain). */
	lj_nft_tx_rule(tx, true, "filter", s->master,
		       &(struct lj_nft_rule){.iifname = link,
					     .saddr = &s->via,
					     .counter = true,
					     .action = LJ_NFT_ACCEPT,
					     .comment = s->text});
	for (size_t i = 0; i < fw_rules(s) - 1; i++)
		lj_nft_tx_rule(tx, true, "filter", s->master,
			       &(struct lj_nft_rule){.oifname = link,
						     .daddr = &s->via,
						     .xt_ctstate = s->flags & LJ_STEP_F_FW_NAT
									   ? fw_nat_states[i]
									   : 0,
						     .xt_comment = s->flags & LJ_STEP_F_FW_NAT,
						     .counter = true,
						     .action = LJ_NFT_ACCEPT,
						     .comment = s->text});
	r = lj_nft_tx_commit(tx, check, err, errsize);
	lj_nft_tx_free(tx);
	return r;
}

static int fw_accept_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char err[256];
	int r;

	r = lj_fw_accept_commit(s, false, err, sizeof(err));
	if (r < 0 && r != -EBADMSG)
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	return r;
}

struct fw_delete {
	struct lj_nft_tx *tx;
	const struct lj_step *s;
};

static void fw_delete_cb(uint64_t handle, const char *comment, void *data)
{
	struct fw_delete *d = data;

	if (comment && strcmp(comment, d->s->text) == 0)
		lj_nft_tx_rule_delete(d->tx, "filter", d->s->master, handle);
}

static int fw_accept_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nft_tx *tx = NULL;
	char err[256];
	int r;

	if (fw_check(s) < 0)
		return -EBADMSG;
	r = lj_nft_tx_new(s->via.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4, &tx);
	if (r < 0)
		return r;
	/* The rules carrying the comment, from a dump of the chain's rules. */
	r = lj_nft_rules(s->via.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4, "filter",
			 s->master, fw_delete_cb, &(struct fw_delete){tx, s});
	if (r == 0)
		r = lj_nft_tx_commit(tx, false, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot read chain %s of table %s filter: %s", s->master,
			 fw_family(s), strerror(-r));
	lj_nft_tx_free(tx);
	if (r == -ENOENT)
		return 0; /* the chain is gone, and the rules with it */
	if (r < 0)
		lj_ctx_detail(ctx, "nf_tables: %s", err);
	return r;
}

static void fw_accept_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	_cleanup_free_ char *cmds = NULL;

	if (lj_fw_accept_text(s, &cmds) < 0)
		return;
	for (char *line = strtok(cmds, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "insert ", 7) != 0) {
			/* an iptables command: its words (names, the comment) one shell word each
			 */
			const char *sep = "";
			for (char *w = line, *end; *w; w = end, sep = " ") {
				end = w + strcspn(w, " ");
				if (*end)
					*end++ = '\0';
				fputs(sep, f);
				lj_shell_word(f, w);
			}
			fputc('\n', f);
			continue;
		}
		fputs("nft ", f);
		lj_shell_word(f, line);
		fputc('\n', f);
	}
}

/* What fw_accept_undo does now: delete the rules carrying the comment, by their handles. */
static void fw_accept_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	if (fw_check(s) == 0)
		lj_nft_describe_delete(f, s->via.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4,
				       s->master, s->text);
}

/* Whether nft's JSON of a rule's expressions has {"match": {"left": {KEY...}, "right": value}}
 * (KEY: {"meta": {"key": what}} or {"payload": {"field": what}}). */
static bool json_rule_matches(json_t *exprs, const char *key, const char *what, const char *value)
{
	size_t i;
	json_t *e;

	json_array_foreach(exprs, i, e)
	{
		json_t *m = json_object_get(e, "match");
		json_t *k = json_object_get(json_object_get(m, "left"), key);
		const char *w = json_string_value(
			json_object_get(k, strcmp(key, "meta") == 0 ? "key" : "field"));
		const char *r = json_string_value(json_object_get(m, "right"));

		if (w && r && strcmp(w, what) == 0 && strcmp(r, value) == 0)
			return true;
	}
	return false;
}

/* Whether nft's JSON of a rule's expressions has iptables' xt match name. */
static bool json_rule_xt(json_t *exprs, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(exprs, i, e)
	{
		const char *n =
			json_string_value(json_object_get(json_object_get(e, "xt"), "name"));
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/*
 * One of a nat step's inbound rules, as nft's JSON shows it: iptables' comment match has no
 * text there, so the rule's matches tell it (oifname, daddr, conntrack and comment).
 */
static bool fw_nat_inbound(const struct lj_step *s, json_t *rule)
{
	json_t *exprs = json_object_get(rule, "expr");
	char c[LJ_IP_STRLEN];

	lj_ip_to_string(&s->via, c, sizeof(c));
	return (s->flags & LJ_STEP_F_FW_NAT) && json_rule_xt(exprs, "conntrack") &&
	       json_rule_xt(exprs, "comment") &&
	       (!s->link[0] || json_rule_matches(exprs, "meta", "oifname", s->link)) &&
	       json_rule_matches(exprs, "payload", "daddr", c);
}

/*
 * The accept rules (source and destination, commented s->text) are still in their chain of
 * the iptables-nft table: one listing of the chain per family and status run.
 */
static int fw_accept_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			    size_t size)
{
	const char *tool = s->via.family == AF_INET6 ? "ip6tables" : "iptables";
	char cmd[128], c[LJ_IP_STRLEN];
	json_t *arr = NULL, *o;
	size_t i, found = 0;
	int r;

	if (fw_check(s) < 0)
		return -EBADMSG;
	snprintf(cmd, sizeof(cmd), "list chain %s filter %s", fw_family(s), s->master);
	r = lj_status_nft(v->host, cmd, &arr, why, size);
	if (r == -ENOENT) {
		snprintf(why, size, "%s chain %s (table %s filter) is missing", tool, s->master,
			 fw_family(s));
		return LJ_VERIFY_DRIFTED;
	}
	if (r < 0)
		return r;
	json_array_foreach(arr, i, o)
	{
		const char *comment =
			json_string_value(json_object_get(json_object_get(o, "rule"), "comment"));

		found += (comment && strcmp(comment, s->text) == 0) ||
			 (!comment && fw_nat_inbound(s, json_object_get(o, "rule")));
	}
	if (found >= fw_rules(s))
		return 0;
	snprintf(why, size, "%s accept rule for %s (comment \"%s\") is missing from chain %s", tool,
		 lj_ip_to_string(&s->via, c, sizeof(c)), s->text, s->master);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_fw_accept = {
	.id = "nft-fw-accept",
	.verify = fw_accept_verify,
	.apply = fw_accept_apply,
	.undo = fw_accept_undo,
	.describe = fw_accept_describe,
	.describe_undo = fw_accept_describe_undo,
	.nft = LJ_STEP_NFT_FOREIGN,
};
