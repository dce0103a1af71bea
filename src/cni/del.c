/* SPDX-License-Identifier: MIT */
/*
 * CNI DEL and GC: undo attachments found by (network, container ID, ifname) in the state
 * records, whether or not the namespace still exists, and release their IPAM addresses.
 * Never fails because something is already gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "lib/core/orphan.h"

/*
 * No record (e.g. the state directory was lost): remove the host-side veth ends prevResult
 * names that the library can prove are this attachment's (lj_orphan_veth_remove: the name it
 * gives CNI_NETNS's ifname, still paired with ifname there). With the namespace gone, its veth
 * pairs went with it: what has the name now is not ours.
 */
static void del_from_prev_result(const json_t *prev, const char *netns, const char *ifname)
{
	const json_t *ifs = json_object_get(prev, "interfaces"), *v;
	size_t i;

	if (!json_is_array(ifs))
		return;
	json_array_foreach(ifs, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *sb = json_string_value(json_object_get(v, "sandbox"));
		int r;

		if (!name || (sb && *sb))
			continue;
		r = lj_orphan_veth_remove(netns, ifname, name);
		if (r == 0)
			fprintf(stderr,
				"lanjoin: DEL: no record; '%s' named in prevResult is not "
				"paired with '%s' in %s: left alone\n",
				name, ifname, netns && *netns ? netns : "(no namespace)");
		else if (r == 1)
			fprintf(stderr,
				"lanjoin: DEL: no record; removed '%s' named in prevResult\n",
				name);
		else if (r != -ENOENT)
			fprintf(stderr,
				"lanjoin: DEL: no record; cannot remove '%s' named in "
				"prevResult: %s\n",
				name, strerror(-r));
	}
}

int lj_cni_cmd_del(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err)
{
	struct lj_cni_key key = {conf->name, env->container_id, env->ifname, NULL};
	struct lj_cni_pending ipam = {0};
	struct lj_cni_err ierr = {0};
	struct lj_result res;
	size_t removed = 0;
	int r, ir = 0;

	/*
	 * A DHCP lease is released while the link exists (plugins#791); other IPAM after the
	 * undo, only once it succeeded. That plugin starts now and waits for its request while
	 * the link is deleted (mostly a wait in the kernel).
	 */
	if (conf->ipam_dhcp)
		ir = lj_cni_delegate(env, conf, conf->ipam_type, "DEL", NULL, NULL, NULL, &ierr);
	else if (conf->ipam_type[0])
		lj_cni_delegate_start(env, conf, conf->ipam_type, "DEL", &ipam);
	r = lj_cni_index_detach(&key, env->netns, &res, &removed);
	if (r < 0) {
		lj_cni_delegate_abort(&ipam);
		lj_cni_fail(err, LJ_CNI_E_DETACH, "failed to detach", "%s",
			    res.message[0] ? res.message : strerror(-r));
		lj_result_done(&res);
		return err->code;
	}
	lj_result_done(&res);
	if (!removed && conf->prev_result)
		del_from_prev_result(conf->prev_result, env->netns, env->ifname);
	if (conf->ipam_type[0] && !conf->ipam_dhcp)
		ir = lj_cni_delegate_finish(env, conf, &ipam, NULL, &ierr);
	if (ir) {
		*err = ierr;
		return ir;
	}
	return 0;
}

/* The index links of the stale attachments (info.cni objects) whose records are gone. */
static void drop_links(const json_t *stale, const char *network)
{
	size_t n = json_array_size(stale), i, k = 0;
	struct lj_cni_key *keys = calloc(n ? n : 1, sizeof(*keys));
	const struct lj_cni_key **kp = calloc(n ? n : 1, sizeof(*kp));
	const json_t *v;
	int r;

	if (keys && kp) {
		json_array_foreach(stale, i, v)
		{
			keys[k] = (struct lj_cni_key){
				.network = network,
				.container_id =
					json_string_value(json_object_get(v, "containerID")),
				.ifname = json_string_value(json_object_get(v, "ifname")),
			};
			if (keys[k].container_id && keys[k].ifname) {
				kp[k] = &keys[k];
				k++;
			}
		}
		r = lj_cni_index_drop(kp, k);
		if (r < 0)
			fprintf(stderr, "lanjoin: GC: cannot update the index in %s/cni: %s\n",
				lj_state_dir(), strerror(-r));
	}
	free(keys);
	free(kp);
}

int lj_cni_cmd_gc(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err)
{
	struct lj_cni_key key = {conf->name, NULL, NULL, conf->valid};
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct lj_result res;
	json_t *stale = json_array();
	size_t n = 0, i, removed = 0;
	json_t *v;
	int r, first = 0;

	if (!stale)
		return lj_cni_fail(err, LJ_CNI_E_IO, "out of memory", NULL);
	/* Which attachments go (for their IPAM release), then undo them. */
	r = lj_state_open(false, &st);
	if (r == 0) {
		r = lj_state_list(st, &recs, &n, NULL);
		lj_state_close(st);
	}
	if (r < 0) {
		json_decref(stale);
		return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "state directory %s: %s",
				   lj_state_dir(), lj_state_strerror(r));
	}
	for (i = 0; i < n; i++)
		if (lj_cni_key_match(&recs[i], &key))
			json_array_append(stale, json_object_get(recs[i].info, "cni"));
	lj_records_free(recs, n);

	r = lj_detach_matching(lj_cni_key_match, &key, &res, &removed);
	if (r < 0)
		first = lj_cni_fail(err, LJ_CNI_E_DETACH, "failed to detach", "%s",
				    res.message[0] ? res.message : strerror(-r));
	lj_result_done(&res);
	if (removed)
		fprintf(stderr, "lanjoin: GC: removed %zu stale attachment%s of network %s\n",
			removed, removed == 1 ? "" : "s", conf->name);
	drop_links(stale, conf->name);

	if (conf->ipam_type[0]) {
		json_array_foreach(stale, i, v)
		{
			struct lj_cni_err e = {0};
			const char *id = json_string_value(json_object_get(v, "containerID"));
			const char *ifn = json_string_value(json_object_get(v, "ifname"));
			if (id && ifn &&
			    lj_cni_delegate(env, conf, conf->ipam_type, "DEL", id, ifn, NULL, &e) &&
			    !first) {
				*err = e;
				first = e.code;
			}
		}
		/* Reference IPAM plugins before 1.1.0 do not know GC: they got DELs above. */
		if (lj_cni_delegate_speaks(env, conf, "1.1.0")) {
			struct lj_cni_err e = {0};
			if (lj_cni_delegate(env, conf, conf->ipam_type, "GC", NULL, NULL, NULL,
					    &e) &&
			    !first) {
				*err = e;
				first = e.code;
			}
		}
	}
	json_decref(stale);
	return first;
}
