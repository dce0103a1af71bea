/* SPDX-License-Identifier: MIT */
/*
 * Open vSwitch, through its database: an OVSDB client (foreign/ovsdb.c, RFC 7047 over the
 * database's unix socket, one connection per struct lj_ovs) and no process started. Every
 * change is one transaction; reads are select operations. A change returns once ovs-vswitchd
 * has acted on it, as the database shows: an added interface has its ofport (an OpenFlow port
 * number), a deletion's next_cfg is reached by ovs-vswitchd's cur_cfg. The step types
 * (steps/ovs.c) change OVS only through this API, and the builders and gc of the ways
 * (ways/ovs.c, ways/uplink.c) look and remove orphans through it too. --dry-run prints the
 * equivalent ovs-vsctl command lines (foreign/ovs-vsctl.c).
 *
 * lanjoin marks what it creates with external_ids: lanjoin-owner=lanjoin on bridges and ports,
 * and on ports also lanjoin-target=TARGET and lanjoin-ifname=IFNAME, so that detach, gc and
 * other tools can tell whose a row is.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define LJ_OVS_KEY_OWNER "lanjoin-owner"
#define LJ_OVS_KEY_TARGET "lanjoin-target"
#define LJ_OVS_KEY_IFNAME "lanjoin-ifname"
#define LJ_OVS_OWNER "lanjoin"

/* The database socket when neither --ovsdb nor $OVS_RUNDIR says otherwise. */
#define LJ_OVS_DEFAULT_RUNDIR "/var/run/openvswitch"
/* Seconds a call may wait for ovsdb-server, and a change for ovs-vswitchd to act on it. */
#define LJ_OVS_TIMEOUT 10

#define LJ_OVS_DB_MAX 256    /* "unix:" + a path, bytes with the NUL */
#define LJ_OVS_ERROR_MAX 512 /* bytes kept of an error message */
#define LJ_OVS_VALUE_MAX 256 /* bytes kept of an external_ids value */

struct lj_ovs;

/*
 * Prepare to talk to the OVSDB at db ("unix:/PATH"), or when db is NULL or "" at
 * $OVS_RUNDIR/db.sock, else LJ_OVS_DEFAULT_RUNDIR/db.sock. Checks that Open vSwitch is
 * installed: ovs-vsctl exists ($LANJOIN_OVS_VSCTL if set, an absolute path; else /usr/bin,
 * /usr/sbin, /bin, /sbin; it is never run). Connects on the first call. On success *ret is the
 * caller's (lj_ovs_close). Errors: -EINVAL (db is not "unix:/PATH" or too long), -ENOENT (no
 * ovs-vsctl: Open vSwitch is not installed), -ENOMEM.
 */
int lj_ovs_open(const char *db, struct lj_ovs **ret);

/* Free (and disconnect); NULL is fine. */
void lj_ovs_close(struct lj_ovs *o);

/*
 * Bound each call and each wait for ovs-vswitchd to timeout_ms (default LJ_OVS_TIMEOUT s),
 * before the first call only.
 */
void lj_ovs_set_timeout(struct lj_ovs *o, int timeout_ms);

/* The database in use, "unix:/PATH" (for messages and --dry-run). */
const char *lj_ovs_db(const struct lj_ovs *o);

/* The resolved database for db as lj_ovs_open would use it, into buf; returns buf or NULL. */
const char *lj_ovs_resolve_db(const char *db, char *buf, size_t size);

/*
 * Why the last call failed: the database server's error ("constraint violation: ...") or
 * lanjoin's own explanation, one line; "" if none.
 */
const char *lj_ovs_error(const struct lj_ovs *o);

/*
 * Check that the daemons are up: the database socket exists and ovs-vswitchd runs (its pid
 * file ovs-vswitchd.pid in the socket's directory names a live ovs-vswitchd process).
 * Returns 0, -ECONNREFUSED (ovsdb-server: no socket), -ESRCH (ovs-vswitchd not running);
 * lj_ovs_error says which and where it looked. *ret_pid (may be NULL) gets ovs-vswitchd's PID.
 */
int lj_ovs_check_running(struct lj_ovs *o, pid_t *ret_pid);

struct lj_ovs_bridge {
	char name[IFNAMSIZ];
	char datapath_type[16]; /* "" = the default ("system") */
	bool ours;		/* external_ids:lanjoin-owner=lanjoin */
	size_t n_ports;		/* rows in its ports column, its own internal port included */
};

struct lj_ovs_port {
	char name[IFNAMSIZ];
	uint32_t tag; /* access VLAN, 0 = none */
	bool ours;
	char target[LJ_OVS_VALUE_MAX]; /* external_ids:lanjoin-target, "" if none */
	char ifname[IFNAMSIZ];	       /* external_ids:lanjoin-ifname, "" if none */
};

/* What attach needs to decide, read in one transaction. */
struct lj_ovs_survey {
	struct lj_ovs_bridge *bridges; /* every bridge, name and datapath_type only (ours and
					  n_ports unset; owned; lj_ovs_survey_free) */
	size_t n_bridges;
	bool has_port;		 /* a Port row named port exists ... */
	struct lj_ovs_port port; /* ... and this is it */
	bool name_is_iface;	 /* an Interface row is named like the bridge asked for */
};

/*
 * Read every bridge, the Port row named port (if any) and whether an Interface named
 * iface exists. Errors: -ECONNREFUSED (database connection failed), -ECONNRESET (the
 * server hung up), -ETIMEDOUT, -EIO (the server's error: lj_ovs_error), -EBADMSG or -EMSGSIZE
 * (an answer that is not OVSDB's), -ENOMEM.
 */
int lj_ovs_survey(struct lj_ovs *o, const char *port, const char *iface, struct lj_ovs_survey *ret);
void lj_ovs_survey_free(struct lj_ovs_survey *s);

/* Look up bridge name. -ENODEV if there is none; other errors as lj_ovs_survey. */
int lj_ovs_bridge_get(struct lj_ovs *o, const char *name, struct lj_ovs_bridge *ret);

/*
 * Create bridge name (without --may-exist: an existing bridge is an error, -EEXIST, never
 * adopted: a bridge, port or interface of that name exists) with datapath_type (NULL or "" =
 * the default) and marked as lanjoin's, in one transaction, then wait until ovs-vswitchd has
 * its internal interface. If it does not within the timeout (-ETIMEDOUT) or fails to (-EIO,
 * -ENODEV), the row is removed again.
 */
int lj_ovs_bridge_add(struct lj_ovs *o, const char *name, const char *datapath_type);

/*
 * Delete bridge name (a missing bridge is success) and wait until ovs-vswitchd has (else
 * -ETIMEDOUT; the row is gone from the database anyway).
 */
int lj_ovs_bridge_del(struct lj_ovs *o, const char *name);

/* What lj_ovs_port_add creates. Strings are borrowed. */
struct lj_ovs_port_opts {
	const char *bridge;
	const char *name;   /* the port and its interface (a host link of that name) */
	uint32_t tag;	    /* access VLAN 1-4094, 0 = none */
	const char *target; /* for external_ids:lanjoin-target (sanitised to printable ASCII) */
	const char *ifname; /* for external_ids:lanjoin-ifname */
	bool replace;	    /* first delete a (stale) row of that name, in the same transaction */
};

/*
 * Add port o->name to o->bridge as lanjoin's, in one transaction (no --may-exist: a port of
 * that name is an error, -EEXIST, unless replace), then wait until ovs-vswitchd uses the
 * interface (its ofport > 0). If it does not, the row is removed again. Errors: -EEXIST,
 * -ENODEV (no such bridge, or no such device for ovs-vswitchd), -ETIMEDOUT (ovs-vswitchd did
 * not act in time), -EIO (its error), as lj_ovs_survey.
 */
int lj_ovs_port_add(struct lj_ovs *o, const struct lj_ovs_port_opts *p);

/* Delete port name wherever it is (a missing port is success), as lj_ovs_bridge_del. */
int lj_ovs_port_del(struct lj_ovs *o, const char *name);

/*
 * Every Port marked as lanjoin's (*ret: array owned by the caller, free()), and every bridge
 * marked as lanjoin's (*ret_br, may be NULL). Errors as lj_ovs_survey.
 */
int lj_ovs_list_ours(struct lj_ovs *o, struct lj_ovs_port **ret, size_t *ret_n,
		     struct lj_ovs_bridge **ret_br, size_t *ret_n_br);

/* --dry-run: print the ovs-vsctl command lines the calls above would run (each ends in \n). */
void lj_ovs_describe_bridge_add(FILE *f, const char *db, const char *name,
				const char *datapath_type);
void lj_ovs_describe_bridge_del(FILE *f, const char *db, const char *name);
void lj_ovs_describe_port_add(FILE *f, const char *db, const struct lj_ovs_port_opts *p);
void lj_ovs_describe_port_del(FILE *f, const char *db, const char *name);

/*
 * Quote s as an OVSDB string value ("..." with \" and \\ escaped); characters outside
 * printable ASCII become '?'. Writes at most size bytes (NUL included); returns buf, or
 * NULL if it does not fit.
 */
const char *lj_ovs_quote(const char *s, char *buf, size_t size);

/*
 * lj_ovs_bridge_add with, in the same transaction, other-config:hwaddr=mac (the bridge keeps
 * that MAC address whatever ports join; NULL = OVS's choice), its internal interface's
 * mtu_request=mtu (0 = none) and external_ids:lanjoin-uplink=uplink (NULL = none). For uplink
 * adoption (the ovs-uplink-bridge step, steps/ovs.c).
 */
int lj_ovs_bridge_add_hw(struct lj_ovs *o, const char *name, const char *datapath_type,
			 const uint8_t *mac, uint32_t mtu, const char *uplink);
void lj_ovs_describe_bridge_add_hw(FILE *f, const char *db, const char *name,
				   const char *datapath_type, const uint8_t *mac, uint32_t mtu,
				   const char *uplink);
