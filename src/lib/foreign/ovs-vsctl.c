/* SPDX-License-Identifier: MIT */
/*
 * --dry-run for Open vSwitch: the ovs-vsctl command lines that make the same change as the
 * OVSDB transactions of ovs.c (one line, one transaction).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/foreign/ovs.h"
#include "shared/shquote.h"

#define CMD_MAX 48

/* An argv under construction: some strings borrowed, some owned. */
struct cmd {
	const char *argv[CMD_MAX + 1];
	char *owned[CMD_MAX];
	size_t n, n_owned;
	bool bad;
};

static void cmd_add(struct cmd *c, const char *s)
{
	if (c->n >= CMD_MAX || !s) {
		c->bad = true;
		return;
	}
	c->argv[c->n++] = s;
	c->argv[c->n] = NULL;
}

static void cmd_addf(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd_addf(struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || c->n >= CMD_MAX) {
		if (n >= 0)
			free(s);
		c->bad = true;
		return;
	}
	c->owned[c->n_owned++] = s;
	cmd_add(c, s);
}

static void cmd_free(struct cmd *c)
{
	for (size_t i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	c->n = c->n_owned = 0;
}

/* Start an ovs-vsctl command line, as a person would type it (no timeout). */
static void cmd_init(struct cmd *c, const char *db)
{
	memset(c, 0, sizeof(*c));
	cmd_add(c, "ovs-vsctl");
	cmd_addf(c, "--db=%s", db);
}

const char *lj_ovs_quote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return NULL;
	buf[n++] = '"';
	for (; *s; s++) {
		char ch = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		bool esc = ch == '"' || ch == '\\';
		if (n + esc + 1 + 2 > size)
			return NULL;
		if (esc)
			buf[n++] = '\\';
		buf[n++] = ch;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

static void build_bridge_add(struct cmd *c, const char *db, const char *name,
			     const char *datapath_type)
{
	cmd_init(c, db);
	cmd_add(c, "--");
	cmd_add(c, "add-br");
	cmd_add(c, name);
	cmd_add(c, "--");
	cmd_add(c, "set");
	cmd_add(c, "Bridge");
	cmd_add(c, name);
	if (datapath_type && *datapath_type)
		cmd_addf(c, "datapath_type=%s", datapath_type);
	cmd_add(c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
}

/* Delete bridge or port name: verb is "del-br" or "del-port"; --if-exists, so gone is fine. */
static void build_del(struct cmd *c, const char *db, const char *verb, const char *name)
{
	cmd_init(c, db);
	cmd_add(c, "--");
	cmd_add(c, "--if-exists");
	cmd_add(c, verb);
	cmd_add(c, name);
}

static void build_port_add(struct cmd *c, const char *db, const struct lj_ovs_port_opts *p)
{
	char q[LJ_OVS_VALUE_MAX * 2 + 3];

	cmd_init(c, db);
	if (p->replace) {
		cmd_add(c, "--");
		cmd_add(c, "--if-exists");
		cmd_add(c, "del-port");
		cmd_add(c, p->name);
	}
	cmd_add(c, "--");
	cmd_add(c, "add-port");
	cmd_add(c, p->bridge);
	cmd_add(c, p->name);
	if (p->tag)
		cmd_addf(c, "tag=%u", p->tag);
	cmd_add(c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
	if (p->target && *p->target) {
		char t[LJ_OVS_VALUE_MAX];
		/* Informational: long values are cut, never refused. */
		snprintf(t, sizeof(t), "%s", p->target);
		cmd_addf(c, "external_ids:" LJ_OVS_KEY_TARGET "=%s", lj_ovs_quote(t, q, sizeof(q)));
	}
	if (p->ifname && *p->ifname)
		cmd_addf(c, "external_ids:" LJ_OVS_KEY_IFNAME "=%s",
			 lj_ovs_quote(p->ifname, q, sizeof(q)));
}

/* A datapath_type goes into argv as a value: lower-case letters only (NULL = the default). */
/* --- describe --------------------------------------------------------------------------- */

static void print_cmd(FILE *f, struct cmd *c)
{
	for (size_t i = 0; i < c->n; i++) {
		fputs(i ? " " : "", f);
		lj_shell_word(f, c->argv[i]);
	}
	fputc('\n', f);
	cmd_free(c);
}

void lj_ovs_describe_bridge_add(FILE *f, const char *db, const char *name,
				const char *datapath_type)
{
	struct cmd c;

	build_bridge_add(&c, db, name, datapath_type);
	print_cmd(f, &c);
}

void lj_ovs_describe_bridge_del(FILE *f, const char *db, const char *name)
{
	struct cmd c;

	build_del(&c, db, "del-br", name);
	print_cmd(f, &c);
}

void lj_ovs_describe_port_add(FILE *f, const char *db, const struct lj_ovs_port_opts *p)
{
	struct cmd c;

	build_port_add(&c, db, p);
	print_cmd(f, &c);
}

void lj_ovs_describe_port_del(FILE *f, const char *db, const char *name)
{
	struct cmd c;

	build_del(&c, db, "del-port", name);
	print_cmd(f, &c);
}

static void build_bridge_add_hw(struct cmd *c, const char *db, const char *name,
				const char *datapath_type, const uint8_t *mac, uint32_t mtu,
				const char *uplink)
{
	build_bridge_add(c, db, name, datapath_type);
	if (mac)
		cmd_addf(c, "other-config:hwaddr=\"%02x:%02x:%02x:%02x:%02x:%02x\"", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
	if (uplink && *uplink)
		cmd_addf(c, "external_ids:lanjoin-uplink=%s", uplink);
	if (mtu) {
		cmd_add(c, "--");
		cmd_add(c, "set");
		cmd_add(c, "Interface");
		cmd_add(c, name);
		cmd_addf(c, "mtu_request=%u", mtu);
	}
}

void lj_ovs_describe_bridge_add_hw(FILE *f, const char *db, const char *name,
				   const char *datapath_type, const uint8_t *mac, uint32_t mtu,
				   const char *uplink)
{
	struct cmd c;

	build_bridge_add_hw(&c, db, name, datapath_type, mac, mtu, uplink);
	print_cmd(f, &c);
}
