/* SPDX-License-Identifier: MIT */
/*
 * lanjoin docker-plugin: a Docker network driver (libnetwork's remote driver protocol) on a
 * unix socket. server.c speaks HTTP (libmicrohttpd) and hands each request's JSON body to
 * driver.c, which answers it from the network options and endpoint addresses kept in its state
 * directory and makes each joined endpoint a lanjoin attachment (lib/ways/handoff.h).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/parse.h"

/* The largest request body accepted, in bytes. */
#define LJ_PLUGIN_MAX_BODY (64 * 1024)

/* Where the plugin listens and keeps its state unless told otherwise. */
#define LJ_PLUGIN_DEFAULT_SOCKET "/run/docker/plugins/lanjoin.sock"
#define LJ_PLUGIN_DEFAULT_STATE "/var/lib/lanjoin/docker-plugin"

/* endpoint-mac.c: the MAC of an endpoint Docker gives none (6 bytes into mac), from its
 * address (a4 or else a6, "ADDRESS/PREFIX" or NULL) and the network's parent or bridge;
 * from the network and endpoint IDs when it has no address. */
void lj_plugin_default_mac(const json_t *net, const char *nid, const char *eid, const char *a4,
			   const char *a6, uint8_t mac[LJ_MAC_LEN]);

/* --- options.c: a network's options ------------------------------------------------- */

/*
 * Check the generic options of CreateNetwork request req (Options."com.docker.network.generic":
 * mode and the options of that mode) and put them into net. NULL, or the error response.
 */
json_t *lj_plugin_take_options(const json_t *req, json_t *net);

/* The MACVLAN_MODE_* of macvlan_mode s ("bridge", "private", "vepa", "passthru") into *ret.
 * 0, or -EINVAL for another. */
int lj_plugin_macvlan_mode(const char *s, uint32_t *ret);

/* Use dir (created 0700 if missing) for networks and endpoints. Returns 0 or -errno. */
int lj_plugin_state_init(const char *dir);

/* After a start that failed, in a state directory that start made: remove the subdirectories
 * lj_plugin_state_init made there, those that are empty (rmdir). */
void lj_plugin_state_unmake(void);

/* --- store.c: the files of that directory; kind is "networks" or "endpoints" --------- */

/* The longest Docker object ID: 64 hex digits. */
#define LJ_STORE_ID_MAX 64

/* A Docker object ID: 1 to LJ_STORE_ID_MAX lower-case hex digits. */
bool lj_store_id_valid(const char *s);

/* Write j as kind/id.json, atomically. Returns 0 or -errno. */
int lj_store_save(const char *kind, const char *id, const json_t *j);

/* kind/id.json (a new reference), or NULL if there is none (*ret_err 0) or it cannot be read
 * (*ret_err -errno, -EBADMSG when it is not a JSON object). */
json_t *lj_store_load(const char *kind, const char *id, int *ret_err);

/* Remove kind/id.json (gone already is done; an endpoint's file may be kept as a spare for
 * the next one written, see store.c). Returns 0 or -errno. */
int lj_store_remove(const char *kind, const char *id);

/* Remove the spare files (when no network is left: a plugin with nothing keeps nothing).
 * Returns 0 or -errno. */
int lj_store_spares_clear(void);

/*
 * Call fn(id, j, data) for each kind/ID.json that is a JSON object (j borrowed; ID at most
 * LJ_STORE_ID_MAX characters), stopping at the first nonzero return, which it returns (0 when
 * all went through or the directory cannot be read). fn may remove the file it is given.
 */
int lj_store_each(const char *kind, int (*fn)(const char *id, json_t *j, void *data), void *data);

/*
 * Call fn(id, ep, data) for each endpoint file of network nid (ep borrowed), stopping at the
 * first negative return, which it returns (0 when all went through or the directory cannot be
 * read).
 */
int lj_store_each_endpoint(const char *nid, int (*fn)(const char *id, json_t *ep, void *data),
			   void *data);

/*
 * The address index (addresses/NID-IP): which endpoint of network nid holds address (a CIDR as
 * an endpoint file keeps it; the index is by its IP). Each entry is a hard link to that
 * endpoint's file (no inode of its own to allocate). lj_store_addr_find: the endpoint's ID
 * into ret_id; -ENOENT if none, -EBADMSG if the entry cannot be read, -EINVAL for an invalid
 * nid or address.
 */
int lj_store_addr_find(const char *nid, const char *address, char ret_id[LJ_STORE_ID_MAX + 1]);

/* Make endpoint eid's file (saved before) the entry of address on nid, replacing any. 0 or
 * -errno. */
int lj_store_addr_add(const char *nid, const char *address, const char *eid);

/* Remove the entry of address on nid if it is endpoint eid's (or unreadable). 0 or -errno. */
int lj_store_addr_remove(const char *nid, const char *address, const char *eid);

/* Remove every entry of network nid (NULL: of every network, before lj_plugin_index builds them
 * again). 0 or -errno. */
int lj_store_addr_clear(const char *nid);

/* Is endpoint eid's file newer than the one the entry of address on nid names (true when
 * there is none)? */
bool lj_store_addr_newer(const char *nid, const char *address, const char *eid);

/*
 * Build the address index again from the endpoint files (at start: what a killed plugin or
 * an older one left). Where two endpoints of a network hold one address, the newer file is
 * indexed (Docker gave it the address last). 0 or -errno.
 */
int lj_plugin_index(void);

/*
 * Undo the Joins a killed plugin left unfinished (their attachment records), saying so on
 * stderr. Returns 0 or -errno (said on stderr too).
 */
int lj_plugin_recover(void);

/*
 * Answer one call: path is the URL path ("/NetworkDriver.Join"), req the parsed body (an
 * object; NULL for an empty body). Returns a new reference to the response object (with
 * "Err" on failure); *ret_status gets the HTTP status (200, or 404 for an unknown call).
 */
json_t *lj_plugin_call(const char *path, const json_t *req, unsigned *ret_status);

/*
 * What the calls keep between them (lib/core/session.h): the rtnetlink socket, the state
 * directory; made at the first use. NULL while none could be made (each call then opens its
 * own). Only for the calls lj_plugin_call answers: server.c makes them on one thread.
 */
struct lj_session;
struct lj_session *lj_plugin_session(void);

/* A response {"Err": message}. New reference. */
json_t *lj_plugin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- the IPAM driver (ipam.c): IPv4 addresses from the LAN's DHCP server --- */

/* After lj_plugin_state_init (which makes DIR/leases): release and forget the leases a killed
 * plugin left that no container holds any more. 0 (a lease that cannot be ended is kept). */
int lj_plugin_ipam_init(void);

/* Answer an /IpamDriver.* call, as lj_plugin_call. */
json_t *lj_plugin_ipam_call(const char *path, const json_t *req, unsigned *ret_status);

/*
 * Join of endpoint ep (its "address", "mac"), before its link is made: if the IPAM driver
 * leased that address for that MAC, stop the client that got it (its scratch link goes
 * first, so nothing is released and the MAC is free on the parent) and start the one that
 * holds the lease for the container's life, on the link once it is up in sandbox (Docker's
 * SandboxKey). *ret_gateway gets the lease's router (a new JSON string) or NULL. Returns
 * NULL (also for an endpoint without a lease), or the error response.
 */
json_t *lj_plugin_ipam_join(const json_t *ep, const char *sandbox, json_t **ret_gateway);

/* Leave (or a Join that failed): stop ep's lease clients, releasing the lease (through the
 * link while it is in the sandbox), and forget the lease. NULL, or the error response. */
json_t *lj_plugin_ipam_leave(const json_t *ep);
