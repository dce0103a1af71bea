/* SPDX-License-Identifier: MIT */
/*
 * Container engines: the Docker Engine API (and Podman's compatible API) over a unix socket.
 * A container name, ID or unique ID prefix → its full ID, name, PID and network addresses,
 * and its network namespace opened without a PID race.
 *
 * libcurl is loaded with dlopen() on the first request only: linking it costs every lanjoin
 * process ~4 ms of dynamic loading, and only container targets need it.
 *
 * Which socket (first that applies):
 *   1. lj_engine_set_socket() (the CLI's --engine-socket PATH)
 *   2. $LANJOIN_ENGINE_SOCKET (a path)
 *   3. $DOCKER_HOST, if set and not empty: only "unix:///PATH" is supported
 *   4. /var/run/docker.sock if it exists, else /run/podman/podman.sock if it exists
 *   5. none: -ECONNREFUSED, the message names the sockets tried
 *
 * Every function that can fail for a reason a user must read fills a struct lj_engine_err
 * with one sentence (no trailing period) naming the socket and the container. Errors:
 *   -ECONNREFUSED  no socket, or nothing listens on it
 *   -EACCES        permission denied on the socket
 *   -EPROTONOSUPPORT  DOCKER_HOST is not unix://, or libcurl cannot be loaded
 *   -ENOENT        no such container (the engine's text is passed through)
 *   -ENOTUNIQ      the name is an ambiguous ID prefix (the candidates are named)
 *   -ESRCH         the container is not running (PID 0)
 *   -ESTALE        the container restarted while its namespace was being opened
 *   -EPROTO        the engine answered an error (its text is passed through) or malformed JSON
 *   -ETIMEDOUT     the engine did not answer in time (10 s); such an engine is not asked
 *                  again by this process (the same -ETIMEDOUT at once)
 *   -EINVAL        invalid name; other -errno
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/parse.h"

#define LJ_ENGINE_ID_LEN 64    /* hex digits of a full container ID */
#define LJ_ENGINE_NAME_MAX 256 /* bytes, with the NUL */
#define LJ_ENGINE_NET_NAME_MAX 128
#define LJ_ENGINE_MAX_NETS 16
#define LJ_ENGINE_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) */

#define LJ_ENGINE_DOCKER_SOCKET "/var/run/docker.sock"
#define LJ_ENGINE_PODMAN_SOCKET "/run/podman/podman.sock"

/* One network a container is on, as the engine reports it. */
struct lj_engine_net {
	char name[LJ_ENGINE_NET_NAME_MAX];
	struct lj_cidr ipv4;   /* ip.family AF_UNSPEC when none */
	struct lj_cidr ipv6;   /* ip.family AF_UNSPEC when none */
	struct lj_ip gateway;  /* AF_UNSPEC when none */
	struct lj_ip gateway6; /* AF_UNSPEC when none */
	uint8_t mac[LJ_MAC_LEN];
	bool has_mac;
	char network_id[LJ_ENGINE_ID_LEN + 1];	/* NetworkID (hex), "" when not one */
	char endpoint_id[LJ_ENGINE_ID_LEN + 1]; /* EndpointID (hex), "" when not connected */
};

/* What inspecting a container tells. */
struct lj_engine_container {
	char id[LJ_ENGINE_ID_LEN + 1]; /* full ID, lowercase hex */
	char name[LJ_ENGINE_NAME_MAX]; /* without Docker's leading '/' */
	char status[32];	       /* "running", "exited", "created", "paused", ... */
	bool running;
	pid_t pid;	     /* 0 when not running */
	char started_at[64]; /* State.StartedAt as the engine wrote it */
	/* NetworkSettings.SandboxKey: the path of its network namespace as the engine names it
	 * (what a network driver's Join is given), "" when none (not running) */
	char sandbox_key[LJ_ENGINE_NAME_MAX];
	struct lj_engine_net nets[LJ_ENGINE_MAX_NETS]; /* in the engine's order */
	size_t n_nets;
};

/* Why something failed, for the user (one sentence). */
struct lj_engine_err {
	char msg[512];
};

/*
 * Use path (absolute, < 108 bytes) for every later request of this process; NULL returns to
 * the automatic choice. The string is copied. -EINVAL for a relative or overlong path.
 */
int lj_engine_set_socket(const char *path);

/*
 * Ask again an engine that let a request time out (a long-running process calls this when
 * the engine came back, its event stream reconnected, and before each round of work).
 */
void lj_engine_forget_hung(void);

/*
 * The socket the next request will use, into buf (size bytes, at least
 * LJ_ENGINE_SOCKET_MAX). Returns 0, or the error of the list in the header comment
 * (-ECONNREFUSED when no socket exists, -EPROTONOSUPPORT for a non-unix DOCKER_HOST).
 */
int lj_engine_socket(char *buf, size_t size, struct lj_engine_err *err);

/*
 * Parse a DOCKER_HOST value: "unix:///PATH" → PATH into buf (size bytes). -EPROTONOSUPPORT
 * for another scheme (tcp://, ssh://, fd://), -EINVAL for an empty or overlong path.
 */
int lj_engine_parse_docker_host(const char *value, char *buf, size_t size);

/*
 * Parse the body of GET /containers/{id}/json (untrusted input: every field used is checked
 * for type, length and syntax; unknown fields are ignored; more than LJ_ENGINE_MAX_NETS
 * networks is an error). Writes *ret only on success. -EPROTO with err->msg naming the
 * field.
 */
int lj_engine_parse_inspect(const char *json, size_t size, struct lj_engine_container *ret,
			    struct lj_engine_err *err);

/*
 * Inspect container name (a name, full ID or unique ID prefix: [A-Za-z0-9][A-Za-z0-9_.-]*,
 * < 256 bytes). Running or not; see the header comment for errors.
 */
int lj_engine_inspect(const char *name, struct lj_engine_container *ret, struct lj_engine_err *err);

/*
 * Resolve name and open its network namespace race-free: the PID from the engine is pinned
 * with a pidfd, the namespace is opened through /proc, then the container is inspected
 * again by its full ID and must still be running with the same PID and start time, and the
 * pidfd must still be alive (so the PID was not reused by another process). A container that
 * restarts meanwhile is retried twice, then -ESTALE. On success *ret describes the
 * container and *ret_fd is the caller's (O_CLOEXEC); on failure no fd is left open. On
 * -ESRCH (the container exists but is not running) *ret is filled too.
 */
int lj_engine_open_container(const char *name, struct lj_engine_container *ret, int *ret_fd,
			     struct lj_engine_err *err);

/*
 * The address of container name (name, ID or unique prefix) on one of its engine networks,
 * for the nat way's `--to docker`. family is AF_INET or AF_INET6. network NULL means "the
 * only one": the container must have exactly one address of that family over all its
 * networks (else -ENOTUNIQ naming them, or -EADDRNOTAVAIL when it has none). With a network
 * name, the address on that network (-EADDRNOTAVAIL if it has none there, -ENONET if the
 * container is not on it, the message naming the ones it is on). Writes *ret (the address with its
 * prefix length) and, when ret_network is not NULL, the name of the network it is on there, only on
 * success.
 */
int lj_engine_container_address(const char *name, const char *network, int family,
				struct lj_cidr *ret, char ret_network[LJ_ENGINE_NET_NAME_MAX],
				struct lj_engine_err *err);

/* The same, from an already inspected container (no request), without the network's name. */
int lj_engine_pick_address(const struct lj_engine_container *c, const char *network, int family,
			   struct lj_cidr *ret, struct lj_engine_err *err);

/* One endpoint of a running container, as the engine lists them. */
struct lj_engine_endpoint {
	char endpoint_id[LJ_ENGINE_ID_LEN + 1]; /* lowercase hex */
	char container[LJ_ENGINE_NAME_MAX];	/* its name, without Docker's leading '/' */
};

/*
 * Parse the body of GET /containers/json (untrusted input): each container's first name and
 * the EndpointID of each of its networks into *ret (n in *ret_n; the caller's to free). An
 * entry whose name or ID is not valid is skipped. 0, or -EPROTO (not an array), -ENOMEM.
 */
int lj_engine_parse_endpoints(const char *json, size_t size, struct lj_engine_endpoint **ret,
			      size_t *ret_n);

/* The endpoints of the engine's running containers (one request), as parsed above. */
int lj_engine_list_endpoints(struct lj_engine_endpoint **ret, size_t *ret_n,
			     struct lj_engine_err *err);

/* True if s is a valid container name/ID/prefix as Docker defines them. */
bool lj_engine_name_valid(const char *s);

/* True if s can be an engine network's name (a container name's syntax, shorter than
 * LJ_ENGINE_NET_NAME_MAX bytes). */
bool lj_engine_network_name_valid(const char *s);
