/* SPDX-License-Identifier: MIT */
/* A TARGET's handed links (Docker plugin endpoints): see handed.h. */
#include "lib/core/handed.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/core/target.h"
#include "lib/kernel/netlink.h"

bool lj_record_handed(const struct lj_record *rec)
{
	return json_is_true(json_object_get(rec->info, "handoff"));
}

const char *lj_record_who(const struct lj_record *rec, char *buf, size_t size)
{
	const json_t *d = json_object_get(rec->info, "docker");
	const char *nid = json_string_value(json_object_get(d, "network"));
	const char *eid = json_string_value(json_object_get(d, "endpoint"));

	if (lj_record_handed(rec) && nid && eid)
		snprintf(buf, size, "Docker endpoint %.12s on network %.12s (sandbox %s)", eid, nid,
			 rec->target_spec);
	else
		snprintf(buf, size, "%s ('%s')", rec->target_spec, rec->ifname);
	return buf;
}

int lj_handed_owner_get(const char *target, struct lj_handed_owner *ret)
{
	struct lj_engine_container *c;
	struct lj_engine_err err;
	struct lj_target t;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = lj_target_parse(target, &t);
	if (r < 0)
		return r;
	if (t.kind != LJ_TARGET_CONTAINER) {
		r = lj_target_open_ns(&t);
		if (r < 0)
			return r;
		struct lj_nl *nl = NULL, *host = NULL;

		ret->id = t.id;
		ret->has_id = ret->known = true;
		/* its links and lanjoin's own: one dump each (lj_handed_owned) */
		if (lj_nl_open(t.netns_fd, &nl) == 0 && lj_nl_open(-1, &host) == 0 &&
		    lj_link_list(nl, &ret->links, &ret->n_links) == 0 &&
		    lj_link_list(host, &ret->host, &ret->n_host) < 0) {
			free(ret->links);
			ret->links = NULL;
			ret->n_links = 0;
		}
		lj_nl_close(nl);
		lj_nl_close(host);
		lj_target_close(&t);
		return 0;
	}
	/* An inspect alone: its namespace is not entered, only named (SandboxKey), and a
	 * stopped container's endpoints are none of a running sandbox's. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = lj_engine_inspect(t.name, c, &err);
	if (r == 0) {
		snprintf(ret->container, sizeof(ret->container), "%s", c->name);
		snprintf(ret->sandbox_key, sizeof(ret->sandbox_key), "%s", c->sandbox_key);
		memcpy(ret->nets, c->nets, c->n_nets * sizeof(c->nets[0]));
		ret->n_nets = c->n_nets;
		ret->known = true;
	}
	free(c);
	return r;
}

void lj_handed_owner_free(struct lj_handed_owner *o)
{
	if (!o)
		return;
	free(o->links);
	free(o->host);
	o->links = o->host = NULL;
	o->n_links = o->n_host = 0;
}

/* The ifindex of link name among o's host links, 0 if none. */
static int host_index(const struct lj_handed_owner *o, const char *name)
{
	for (size_t i = 0; name && i < o->n_host; i++)
		if (strcmp(o->host[i].name, name) == 0)
			return o->host[i].ifindex;
	return 0;
}

/*
 * The link of o's namespace that is rec's handed link: one with its MAC (info.mac) whose lower
 * link is the recorded one in lanjoin's namespace (a macvlan's parent, a veth's host end);
 * NULL if none.
 */
static const struct lj_link *held_link(const struct lj_handed_owner *o, const struct lj_record *rec)
{
	const char *mac = json_string_value(json_object_get(rec->info, "mac"));
	const char *parent = json_string_value(json_object_get(rec->info, "parent"));
	int lower = parent ? host_index(o, parent) : host_index(o, rec->host_ifname);
	uint8_t m[LJ_MAC_LEN];

	if (!mac || lj_parse_mac(mac, m) < 0 || lower <= 0)
		return NULL;
	for (size_t i = 0; i < o->n_links; i++) {
		const struct lj_link *l = &o->links[i];

		if (l->has_mac && memcmp(l->mac, m, LJ_MAC_LEN) == 0 && l->parent == lower &&
		    strcmp(l->kind, parent ? "macvlan" : "veth") == 0)
			return l;
	}
	return NULL;
}

static bool holds_link(const struct lj_handed_owner *o, const struct lj_record *rec)
{
	return held_link(o, rec) != NULL;
}

int lj_handed_owner_links(struct lj_handed_owner *o, int netns_fd)
{
	struct lj_nl *nl = NULL, *host = NULL;
	int r;

	if (o->links)
		return 0;
	r = lj_nl_open(netns_fd, &nl);
	if (r == 0)
		r = lj_nl_open(-1, &host);
	if (r == 0)
		r = lj_link_list(nl, &o->links, &o->n_links);
	if (r == 0)
		r = lj_link_list(host, &o->host, &o->n_host);
	if (r < 0) {
		free(o->links);
		o->links = NULL;
		o->n_links = 0;
	}
	lj_nl_close(nl);
	lj_nl_close(host);
	return r;
}

bool lj_handed_named(const struct lj_handed_owner *o, const struct lj_record *rec,
		     const char *ifname)
{
	const struct lj_link *l = lj_record_handed(rec) ? held_link(o, rec) : NULL;

	return l && strcmp(l->name, ifname) == 0;
}

/* The namespace identity of the file at path, if it is one (nsfs) here. */
static bool sandbox_id(const char *path, struct lj_netns_id *ret)
{
	struct statfs sf;
	struct stat st;

	if (path[0] != '/' || statfs(path, &sf) < 0 || sf.f_type != NSFS_MAGIC ||
	    stat(path, &st) < 0)
		return false;
	ret->dev = (uint64_t)st.st_dev;
	ret->ino = (uint64_t)st.st_ino;
	return true;
}

bool lj_handed_owned(const struct lj_handed_owner *o, const struct lj_record *rec,
		     const char **ret_network)
{
	const json_t *d = json_object_get(rec->info, "docker");
	const char *nid = json_string_value(json_object_get(d, "network"));
	const char *eid = json_string_value(json_object_get(d, "endpoint"));
	struct lj_netns_id id;
	bool mine = false;

	if (ret_network)
		*ret_network = NULL;
	if (!o->known || !lj_record_handed(rec))
		return false;
	for (size_t i = 0; i < o->n_nets; i++) {
		const struct lj_engine_net *n = &o->nets[i];
		bool ep = eid && n->endpoint_id[0] && strcmp(n->endpoint_id, eid) == 0;

		if (ep || (nid && n->network_id[0] && strcmp(n->network_id, nid) == 0 &&
			   o->sandbox_key[0] && strcmp(o->sandbox_key, rec->target_spec) == 0)) {
			if (ret_network)
				*ret_network = n->name;
			return true;
		}
	}
	if (o->sandbox_key[0] && strcmp(o->sandbox_key, rec->target_spec) == 0)
		mine = true;
	else if (o->has_id && sandbox_id(rec->target_spec, &id))
		mine = id.dev == o->id.dev && id.ino == o->id.ino;
	else if (o->has_id)
		mine = holds_link(o, rec);
	return mine;
}
