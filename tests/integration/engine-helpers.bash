# tests/integration/engine-helpers.bash — real Docker and Podman for the integration tests.
#
# Load after helpers.bash (`load helpers` then `load engine-helpers`) and start the engines once
# the lab is up, typically in setup_file:
#     setup_file() { lab_setup_file --bridge-host; docker_start || true; podman_start || true; }
#     teardown_file() { podman_stop; docker_stop; lab_teardown_file; }
# Nothing is started globally: each engine runs INSIDE the lab's host namespace
# (${LAB_PREFIX}host), with its state under $LAB_DIR, its API on a private socket, and its
# bridge, iptables rules and FORWARD DROP policy in that namespace only. The root namespace, the
# system's /var/lib/docker and /var/run/docker.sock are never touched.
#
#   docker_start     dockerd (with its own containerd) entered with nsenter --net (not
#                    `ip netns exec`, which remounts /sys and hides the cgroup mounts dockerd
#                    needs); storage vfs, default bridge docker0 198.18.0.1/24, no userland proxy.
#                    Imports the test image. Returns 1 if it cannot start; engine_skip_reason
#                    docker then says why (the tests skip with it).
#                    With DOCKER_PLUGIN_DIR set, dockerd (in a private mount namespace) finds
#                    its plugins' sockets in that directory instead of /run/docker/plugins.
#                    With DOCKER_LIVE_RESTORE=1, live-restore is on in its daemon.json.
#   docker_live_restore on|off   set live-restore in daemon.json and reload it (SIGHUP)
#   docker_daemon_stop [KILL] / docker_daemon_start / docker_restart [KILL]   stop dockerd
#                    (SIGTERM, or SIGKILL) and start it again on the same state, containers and
#                    all (what happens to running ones is live-restore's business)
#   docker_stop      remove every container, stop the daemons, unmount and delete the state.
#                    Idempotent; never fails.
#   podman_start     podman with runc, cgroupfs, vfs, its own --root/--runroot/--tmpdir under
#                    $LAB_DIR/podman, its default network "podman" on 198.18.2.0/24 (bridge
#                    cni-podman0, IPAM state under $LAB_DIR/podman), and `podman system
#                    service` on a socket for the API. Every podman (and conmon, and the
#                    cleanup podman conmon starts) runs in a mount namespace of the lab's whose
#                    /var/lib is an overlay in $LAB_DIR/podman/varlib (podman_mntns_start):
#                    nothing lands in the host's /var/lib/containers or /var/lib/cni.
#   podman_stop      like docker_stop.
#   podman_mntns_start DIR / podman_mntns_stop DIR / podman_nsenter DIR CMD...  that mount
#                    namespace, for a podman set up by hand (cni.bats)
#   docker_allow_bridge BR  accept frames bridged through BR despite Docker's FORWARD DROP
#                    (br_netfilter); see the function
#   dk ARGS...       the docker client against the test daemon
#   pm ARGS...       podman with the test's storage, run inside ${LAB_PREFIX}host
#   podman_network_create NAME BRIDGE SUBNET GATEWAY   a podman network whose IPAM state stays
#                    in the lab (not `pm network create`, whose state goes to /var/lib/cni)
#   engine_sock ENGINE            print the API socket of ENGINE (docker|podman)
#   engine_run ENGINE NAME [ARGS...]  run container NAME from the test image, detached, serving
#                    /www/hello.html ("Hello world") with busybox httpd on :80; ARGS go to
#                    `run` before the image (e.g. --network none). Sets CONTAINER_ID (the full
#                    ID); the container is removed by the test's teardown (defer), so do not
#                    call it inside $(...).
#   engine_inspect ENGINE NAME JQ  jq JQ over `docker inspect NAME` / `podman inspect NAME`
#   engine_skip_reason ENGINE     print why ENGINE is unavailable ("" when it runs)
#   require_engine ENGINE         skip the current test, with the reason, if ENGINE is not running
#
# The image "lanjoin-test/busybox:1" is made here: a rootfs of busybox-static with
# /www/hello.html, imported with `docker import` / `podman import`.

# shellcheck disable=SC2034
ENGINE_IMAGE=lanjoin-test/busybox:1
DOCKER_BIN=/usr/bin/docker
[[ -x $DOCKER_BIN ]] || DOCKER_BIN=docker

_engine_dir() { echo "$LAB_DIR/$1"; }
engine_sock() { echo "$LAB_DIR/$1/$1.sock"; }
engine_skip_reason() {
  local f="$LAB_DIR/$1.skip"
  if [[ -f $f ]]; then cat "$f"; elif [[ ! -S $(engine_sock "$1") ]]; then echo "$1 was not started"; fi
}
require_engine() {
  local why
  why=$(engine_skip_reason "$1")
  [[ -z $why ]] || skip "$why"
}

# Run "$@" detached, no inherited fds beyond 0-2 (bats waits on fd 3), output to $1.
_engine_spawn() {
  local log=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@"
  ) </dev/null >>"$log" 2>&1 &
}

# Like "$@" but without fds beyond 0-2 (podman run leaves conmon behind).
_no_extra_fds() {
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@"
  )
}

_engine_wait() { # SECONDS CMD...
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

_engine_fail() { # ENGINE REASON: record why, clean up, return 1
  echo "$2" >"$LAB_DIR/$1.skip"
  echo "# $1: $2" >&3 2>/dev/null || echo "# $1: $2" >&2
  "${1}_stop"
  echo "$2" >"$LAB_DIR/$1.skip"
  return 1
}

# The test image's rootfs tar (made once per lab).
_engine_rootfs() {
  local d=$LAB_DIR/engine-image
  if [[ ! -f $d/rootfs.tar ]]; then
    rm -rf "$d"
    mkdir -p "$d/root/bin" "$d/root/www" "$d/root/etc" "$d/root/tmp" "$d/root/proc" \
      "$d/root/sys" "$d/root/dev"
    cp /bin/busybox "$d/root/bin/busybox"
    local l
    for l in sh httpd ip sleep cat; do
      ln -s busybox "$d/root/bin/$l"
    done
    printf 'Hello world\n' >"$d/root/www/hello.html"
    tar -C "$d/root" -cf "$d/rootfs.tar.tmp" . && mv "$d/rootfs.tar.tmp" "$d/rootfs.tar"
  fi
  echo "$d/rootfs.tar"
}

# Kill processes still in the cgroups of containers whose IDs are directories under $@.
_engine_kill_container_procs() {
  local dir id p cg pids=()
  for dir in "$@"; do
    [[ -d $dir ]] || continue
    for id in "$dir"/*; do
      id=${id##*/}
      [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
      for p in /proc/[0-9]*; do
        # read, not grep: a process for each process on the machine is slow
        cg=
        { read -r -d '' cg <"$p/cgroup"; } 2>/dev/null
        if [[ $cg == *"$id"* ]]; then
          pids+=("${p#/proc/}")
        fi
      done
    done
  done
  if ((${#pids[@]} > 0)); then
    kill -KILL "${pids[@]}" 2>/dev/null
  fi
  return 0
}

# Kill processes whose command line names $1 (our daemons, shims, conmon).
_engine_kill_ours() {
  local p pids=()
  local -a args
  for p in /proc/[0-9]*; do
    { mapfile -d '' args <"$p/cmdline"; } 2>/dev/null || continue
    [[ ${args[*]} == *"$1/"* ]] && pids+=("${p#/proc/}")
  done
  ((${#pids[@]} > 0)) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  if ! _engine_wait 20 _engine_none_alive "${pids[@]}"; then
    kill -KILL "${pids[@]}" 2>/dev/null
    _engine_wait 5 _engine_none_alive "${pids[@]}" || true
  fi
  return 0
}
_engine_none_alive() {
  local p s
  for p in "$@"; do
    { read -r s <"/proc/$p/stat"; } 2>/dev/null || continue
    s=${s##*) }
    [[ ${s:0:1} == Z ]] || return 1
  done
  return 0
}

# Unmount everything at or below $1 (deepest first) and delete it.
_engine_remove_dir() {
  local d=$1 m
  [[ -n $d && $d == "$LAB_DIR"/* ]] || return 0
  while read -r m; do
    [[ -n $m ]] && umount -l "$m" 2>/dev/null
  done < <(findmnt -rn -o TARGET | awk -v d="$d" 'index($0, d "/") == 1 || $0 == d' | sort -r)
  rm -rf "$d"
}

# --- Docker -----------------------------------------------------------------------------------

dk() { "$DOCKER_BIN" -H "unix://$(engine_sock docker)" "$@"; }

# Empty directories dockerd and containerd create outside their --exec-root/--data-root (shim
# sockets, plugin sockets); removed afterwards (rmdir: only while empty) if a test's dockerd
# made them. Tests run in parallel, so several test dockerds may share them: under a lock,
# docker_start adds the missing ones to one list for all labs (_DOCKER_CREATED), and the
# docker_stop of the last test dockerd (no other lab has a docker directory left) removes them.
_DOCKER_SYSTEM_DIRS=(/run/containerd/s /run/containerd /run/docker/plugins /run/docker)
_DOCKER_CREATED=/run/lanjoin-lab/docker-created-system-dirs

_docker_system_dirs_lock() { # CMD...: CMD under the lock of _DOCKER_CREATED
  mkdir -p "${_DOCKER_CREATED%/*}" && flock -w 60 "${_DOCKER_CREATED%/*}" "$@"
}
_docker_record_system_dirs() {
  local s
  for s in "${_DOCKER_SYSTEM_DIRS[@]}"; do
    [[ -e $s ]] || grep -qxF "$s" "$_DOCKER_CREATED" 2>/dev/null || echo "$s" >>"$_DOCKER_CREATED"
  done
}
_docker_release_system_dirs() { # OUR_DOCKER_DIR
  local other s
  for other in /run/lanjoin-lab/*/docker; do
    [[ -d $other && $other != "$1" ]] && return 0 # another test's dockerd still needs them
  done
  [[ -f $_DOCKER_CREATED ]] || return 0
  while read -r s; do
    [[ -z $s ]] || rmdir "$s" 2>/dev/null || true
  done <"$_DOCKER_CREATED"
  rm -f "$_DOCKER_CREATED"
}

docker_start() {
  local d
  d=$(_engine_dir docker)
  rm -f "$LAB_DIR/docker.skip"
  command -v dockerd >/dev/null || _engine_fail docker "dockerd is not installed (apt-get install docker.io)" || return
  command -v "$DOCKER_BIN" >/dev/null || _engine_fail docker "the docker client is not installed" || return
  [[ -e /run/netns/${LAB_PREFIX}host ]] || _engine_fail docker "the lab is not up" || return
  mkdir -p "$d/data" "$d/exec"
  _docker_system_dirs_lock bash -c "$(declare -p _DOCKER_SYSTEM_DIRS _DOCKER_CREATED; declare -f _docker_record_system_dirs)
    _docker_record_system_dirs"
  _docker_config "$d"
  if ! _docker_spawn "$d"; then
    _engine_fail docker "dockerd did not start: $(tail -n 3 "$d/dockerd.log" 2>/dev/null | tr '\n' ' ')"
    return
  fi
  dk import "$(_engine_rootfs)" "$ENGINE_IMAGE" >/dev/null ||
    _engine_fail docker "docker import of the test image failed" || return
  # docker0's IPv6 link-local address: let DAD finish so that snapshots are stable.
  _engine_wait 10 _engine_no_tentative || true
}

# The daemon's configuration file: DOCKER_LIVE_RESTORE=1 turns live-restore on.
_docker_config() { # DIR
  local live=false
  [[ ${DOCKER_LIVE_RESTORE:-0} != 1 ]] || live=true
  # deprecated-key-path: dockerd 20.10 otherwise writes /etc/docker/key.json.
  printf '{"deprecated-key-path": "%s/key.json", "live-restore": %s}\n' "$1" "$live" >"$1/daemon.json"
}

# Start dockerd on the state in DIR and wait until it answers (60 s). Returns 1 if it does not.
_docker_spawn() { # DIR
  local d=$1 wrap=() pid
  # DOCKER_PLUGIN_DIR=DIR: dockerd finds network plugins there. It only looks in
  # /run/docker/plugins, so it runs in a mount namespace of its own with DIR bound over that
  # (the host's /run/docker/plugins is never written). The namespace is held by a process of
  # its own, so that it outlives a dockerd: the network namespaces of its containers are
  # mounted in it, and a dockerd started again (live-restore) finds them there.
  if [[ -n ${DOCKER_PLUGIN_DIR:-} ]]; then
    pid=$(_docker_mntns_pid "$d" || true)
    if [[ -z $pid ]]; then
      mkdir -p /run/docker/plugins
      rm -f "$d/mntns.pid"
      # shellcheck disable=SC2016 # expanded by the inner bash
      _engine_spawn "$d/mntns.log" unshare --mount --propagation private -- bash -euc '
        mount --bind "$2" /run/docker/plugins
        echo $$ >"$1/mntns.pid.tmp"
        mv "$1/mntns.pid.tmp" "$1/mntns.pid"
        exec -a "lj-docker-mntns:$1/" sleep infinity' lj-docker-mntns "$d" "$DOCKER_PLUGIN_DIR"
      disown $! 2>/dev/null || true
      _engine_wait 10 _docker_mntns_pid "$d" || return 1
      pid=$(_docker_mntns_pid "$d" || true)
    fi
    wrap=(--mount="/proc/$pid/ns/mnt")
  fi
  _engine_spawn "$d/dockerd.log" nsenter "${wrap[@]}" "--net=/run/netns/${LAB_PREFIX}host" dockerd \
    --config-file "$d/daemon.json" --storage-driver vfs --bip 198.18.0.1/24 \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" --exec-root "$d/exec" \
    --data-root "$d/data" --userland-proxy=false
  disown $! 2>/dev/null || true # no job notice when a test kills it
  # (each try bounded: the client waits as long as a daemon that has the socket takes)
  local end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    timeout 10 "$DOCKER_BIN" -H "unix://$d/docker.sock" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# The PID of the holder of dockerd's mount namespace in DIR ("" if there is none); docker_stop
# ends it with the other processes of DIR.
_docker_mntns_pid() {
  local pid='' cmd
  { read -r pid <"$1/mntns.pid"; } 2>/dev/null || true
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)
  [[ $cmd == "lj-docker-mntns:$1/ "* ]] || return 1
  echo "$pid"
}

# The PID of the test's dockerd ("" if it does not run).
_docker_pid() {
  local pid='' cmd
  # (the pid files have no newline at the end: read fails at EOF but sets the variable)
  { read -r pid <"$(_engine_dir docker)/docker.pid"; } 2>/dev/null || true
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)
  [[ $cmd == "dockerd "*"$(_engine_dir docker)/"* ]] && echo "$pid"
  return 0
}

# docker_live_restore on|off: set live-restore in the daemon's configuration and have the
# running dockerd reload it (SIGHUP; live-restore is one of the options it reloads). Waits until
# `docker info` shows it. Returns 1 if dockerd does not run or does not take it.
docker_live_restore() {
  local d pid want=false
  d=$(_engine_dir docker)
  [[ $1 == on ]] && want=true
  pid=$(_docker_pid)
  [[ -n $pid ]] || return 1
  DOCKER_LIVE_RESTORE=$([[ $want == true ]] && echo 1 || echo 0) _docker_config "$d"
  kill -HUP "$pid"
  _engine_wait 10 _docker_live_restore_is "$want"
}
_docker_live_restore_is() { [[ $(dk info --format '{{.LiveRestoreEnabled}}') == "$1" ]]; }

# docker_daemon_stop [KILL]: stop the test's dockerd as `systemctl stop docker` does (SIGTERM;
# with KILL, SIGKILL: a crash) and wait until it and the containerd it started are gone (the
# containers' shims live on).
# What happens to the containers is dockerd's business: live-restore off stops them, on keeps
# them running. docker_daemon_start starts it again on the same state and configuration (the
# containers with a restart policy start again). Both return 1 on failure (60 s each).
docker_daemon_stop() {
  local d pid ctd=
  d=$(_engine_dir docker)
  pid=$(_docker_pid)
  [[ -n $pid ]] || return 1
  { read -r ctd <"$d/exec/containerd/containerd.pid"; } 2>/dev/null || true
  kill "-${1:-TERM}" "$pid"
  _engine_wait 60 _engine_none_alive "$pid" || return 1
  if [[ ${1:-TERM} == TERM && $ctd =~ ^[0-9]+$ ]]; then
    _engine_wait 60 _engine_none_alive "$ctd" || return 1
  elif [[ $ctd =~ ^[0-9]+$ ]]; then
    # dockerd 20.10 gives its containerd a parent-death signal: let it finish dying, so that
    # the next dockerd does not take over a containerd on its way out; and until it is reaped:
    # dockerd takes a containerd.pid that kill(0) answers (a zombie does) for a running one and
    # waits for its socket, in vain
    _engine_wait 10 _engine_none_alive "$ctd" || true
    _engine_wait 10 test ! -e "/proc/$ctd" || true
  fi
}
docker_daemon_start() {
  _docker_spawn "$(_engine_dir docker)" && return
  echo "# dockerd did not start again:" >&2
  tail -n 20 "$(_engine_dir docker)/dockerd.log" >&2
  return 1
}
docker_restart() { docker_daemon_stop "$@" && docker_daemon_start; } # [KILL]

_docker0_settled() { # docker0 has ports and is up, or has none and is down
  local ports state
  ports=$(ip -n "${LAB_PREFIX}host" -o link show master docker0 2>/dev/null)
  state=$(ip -n "${LAB_PREFIX}host" -j link show docker0 2>/dev/null | jq -r '.[0].operstate')
  [[ -z $state ]] || { [[ -n $ports ]] && [[ $state == UP ]]; } || { [[ -z $ports ]] && [[ $state == DOWN ]]; }
}

_engine_no_tentative() { [[ -z $(ip -n "${LAB_PREFIX}host" -6 addr show tentative) ]]; }

# docker_allow_bridge BR: accept traffic bridged through BR in Docker's DOCKER-USER chain.
# Docker turns on br_netfilter (bridge-nf-call-iptables=1) and sets the FORWARD policy to DROP
# in the namespace it runs in, which drops frames bridged between the LAN uplink and a container
# on any other bridge. Docker's documented remedy; removed by docker_stop with the daemon's rules.
docker_allow_bridge() {
  nsenter "--net=/run/netns/${LAB_PREFIX}host" iptables -I DOCKER-USER -i "$1" -o "$1" -j ACCEPT
}

docker_stop() {
  local d ids
  d=$(_engine_dir docker)
  [[ -d $d ]] || return 0
  if [[ -S $d/docker.sock ]] && ids=$(timeout 20 "$DOCKER_BIN" -H "unix://$d/docker.sock" ps -aq 2>/dev/null) &&
    [[ -n $ids ]]; then
    # shellcheck disable=SC2086
    timeout 60 "$DOCKER_BIN" -H "unix://$d/docker.sock" rm -f $ids >/dev/null 2>&1
  fi
  _engine_kill_ours "$d" # dockerd first (TERM: it stops containerd), then shims
  _engine_kill_container_procs "$d/data/containers"
  _engine_remove_dir "$d"
  _docker_system_dirs_lock bash -c "$(declare -p _DOCKER_CREATED; declare -f _docker_release_system_dirs)
    _docker_release_system_dirs $(printf %q "$d")"
  rm -f "$LAB_DIR/docker.skip"
  return 0
}

# --- Podman -----------------------------------------------------------------------------------

_podman_args() {
  local d
  d=$(_engine_dir podman)
  echo --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp" --runtime runc \
    --cgroup-manager cgroupfs --storage-driver vfs --events-backend file \
    --network-config-dir "$d/netconf"
}

pm() {
  _podman_nsenter_argv "$(_engine_dir podman)" || return 127
  # shellcheck disable=SC2046 # the arguments are paths without spaces (checked in podman_start)
  _no_extra_fds "${_PODMAN_NSENTER[@]}" podman $(_podman_args) "$@"
}

# Podman's own mount namespace. Whatever its flags and configuration say, podman 4.3 writes to
# fixed host paths: the blob-info cache of an image copy (`podman import`) to
# /var/lib/containers/cache, and the CNI result cache (every run, and the `podman container
# cleanup` conmon starts) to /var/lib/cni. So every podman of a test runs in a mount namespace
# of the test's own in which /var/lib is an overlay whose upper layer is DIR/varlib: what podman
# writes there lands in DIR and goes with it, the host's /var/lib is never written, and tests
# running in parallel do not share it. conmon and the cleanup processes it starts are podman's
# children and stay inside. The host's /run/netns mount stays a peer (--propagation unchanged),
# so the network namespaces podman mounts there are the host's; the mounts holding /var/lib are
# made slaves first, so that the overlay never propagates to the host. A holder process (a
# sleep whose argv[0] names DIR, so that killing "the processes of DIR" ends it) keeps the
# namespace until podman_mntns_stop; the namespace goes when its last process does.
podman_mntns_start() { # DIR
  local d=$1
  mkdir -p "$d/varlib/upper" "$d/varlib/work" || return
  rm -f "$d/mntns.pid"
  # shellcheck disable=SC2016 # expanded by the inner bash
  _engine_spawn "$d/mntns.log" unshare --mount --propagation unchanged -- bash -euc '
    mount --make-slave /
    m=$(findmnt -n -o TARGET -T /var/lib)
    [[ $m == / ]] || mount --make-slave "$m"
    mount -t overlay lj-podman-varlib \
      -o "lowerdir=/var/lib,upperdir=$1/varlib/upper,workdir=$1/varlib/work" /var/lib
    echo $$ >"$1/mntns.pid.tmp"
    mv "$1/mntns.pid.tmp" "$1/mntns.pid"
    exec -a "lj-podman-mntns:$1/" sleep infinity' lj-podman-mntns "$d"
  _engine_wait 10 _podman_mntns_pid "$d"
}

_podman_mntns_pid() { # DIR: print the holder's PID if it runs
  local pid='' cmd
  # (no failing command inside $(...): bats' ERR trap would fail the test from the subshell)
  [[ -f $1/mntns.pid ]] && read -r pid <"$1/mntns.pid" && [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)
  [[ $cmd == "lj-podman-mntns:$1/ "* ]] || return 1
  echo "$pid"
}

# podman_nsenter DIR CMD...: CMD in podman's mount namespace of DIR and the lab's host network
# namespace, in the current directory. Fails (127) if the namespace is not there: podman must
# never run outside it.
podman_nsenter() {
  _podman_nsenter_argv "$1" || return 127
  shift
  "${_PODMAN_NSENTER[@]}" "$@"
}
_podman_nsenter_argv() { # DIR: set _PODMAN_NSENTER to the nsenter command line
  local pid
  pid=$(_podman_mntns_pid "$1") || {
    echo "podman_nsenter: no podman mount namespace for $1" >&2
    return 1
  }
  _PODMAN_NSENTER=(nsenter "--mount=/proc/$pid/ns/mnt" "--net=/run/netns/${LAB_PREFIX}host"
    "--wd=$PWD")
}

# podman_mntns_stop DIR: end every process of DIR (the holder, any podman or conmon left).
podman_mntns_stop() { _engine_kill_ours "$1"; }

# A podman network (CNI bridge) defined as a file in the test's --network-config-dir, with its
# host-local IPAM state under $LAB_DIR: `podman network create` would leave that state in
# /var/lib/cni/networks/NAME on the host. Remove it with `pm network rm -f NAME`.
podman_network_create() { # NAME BRIDGE SUBNET GATEWAY
  local d
  d=$(_engine_dir podman)
  mkdir -p "$d/cni-ipam"
  cat >"$d/netconf/$1.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$1",
  "plugins": [
    { "type": "bridge", "bridge": "$2", "isGateway": true, "ipMasq": true,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$d/cni-ipam",
                "routes": [ { "dst": "0.0.0.0/0" } ],
                "ranges": [ [ { "subnet": "$3", "gateway": "$4" } ] ] } },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall" },
    { "type": "tuning" }
  ]
}
EOF
}

# Podman's default network ("podman"): an address range of the lab's (198.18.2.0/24, inside
# 198.18.0.0/15; podman's built-in default is 10.88.0.0/16), IPAM state under $LAB_DIR.
_podman_default_network() {
  podman_network_create podman cni-podman0 198.18.2.0/24 198.18.2.1
}

podman_start() {
  local d
  d=$(_engine_dir podman)
  rm -f "$LAB_DIR/podman.skip"
  command -v podman >/dev/null || _engine_fail podman "podman is not installed (apt-get install podman)" || return
  command -v runc >/dev/null || _engine_fail podman "runc is not installed" || return
  [[ -e /run/netns/${LAB_PREFIX}host ]] || _engine_fail podman "the lab is not up" || return
  [[ $d != *[[:space:]]* ]] || _engine_fail podman "the lab directory has spaces" || return
  mkdir -p "$d/root" "$d/runroot" "$d/tmp" "$d/netconf"
  _podman_default_network
  podman_mntns_start "$d" ||
    _engine_fail podman "no mount namespace for podman: $(tail -n 3 "$d/mntns.log" 2>/dev/null | tr '\n' ' ')" || return
  _podman_nsenter_argv "$d" || _engine_fail podman "podman's mount namespace is gone" || return
  # shellcheck disable=SC2046
  _engine_spawn "$d/service.log" "${_PODMAN_NSENTER[@]}" podman \
    $(_podman_args) system service --time 0 "unix://$d/podman.sock"
  if ! _engine_wait 30 curl -sf --unix-socket "$d/podman.sock" http://d/_ping; then
    _engine_fail podman "podman system service did not start: $(tail -n 3 "$d/service.log" 2>/dev/null | tr '\n' ' ')"
    return
  fi
  pm import "$(_engine_rootfs)" "localhost/$ENGINE_IMAGE" >/dev/null 2>"$d/import.log" ||
    _engine_fail podman "podman import of the test image failed: $(tail -n 2 "$d/import.log")" || return
}

podman_stop() {
  local d
  d=$(_engine_dir podman)
  [[ -d $d ]] || return 0
  if [[ -d $d/root && -e /run/netns/${LAB_PREFIX}host ]] && _podman_mntns_pid "$d" >/dev/null; then
    pm rm -f -t 0 -a >/dev/null 2>&1
  fi
  podman_mntns_stop "$d" # the API service, any conmon left, the mount namespace's holder
  _engine_kill_container_procs "$d/root/vfs-containers"
  _engine_remove_dir "$d"
  rm -f "$LAB_DIR/podman.skip"
  return 0
}

# --- both -------------------------------------------------------------------------------------

engine_cli() { # ENGINE ARGS...
  local e=$1
  shift
  case $e in
  docker) dk "$@" ;;
  podman) pm "$@" ;;
  *) return 2 ;;
  esac
}

engine_run() { # ENGINE NAME [RUN-ARGS...]: sets CONTAINER_ID (not in $(...): it defers)
  local e=$1 name=$2 img=$ENGINE_IMAGE
  shift 2
  local extra=()
  if [[ $e == podman ]]; then
    img=localhost/$ENGINE_IMAGE
    # This VM cannot raise rlimits (podman's default nofile is higher than the hard limit).
    extra=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
  fi
  defer engine_rm "$e" "$name"
  CONTAINER_ID=$(engine_cli "$e" run -d --name "$name" "${extra[@]}" "$@" "$img" \
    /bin/httpd -f -p 80 -h /www) || return
  CONTAINER_ID=${CONTAINER_ID##*$'\n'}
}

engine_rm() { # ENGINE NAME: remove, idempotent (httpd as PID 1 ignores SIGTERM: kill at once)
  if [[ $1 == podman ]]; then
    pm rm -f -t 0 "$2" >/dev/null 2>&1
  else
    dk rm -f "$2" >/dev/null 2>&1
    # The kernel reports docker0's carrier loss a moment after its last port goes: wait, so
    # that the next snapshot of the host does not see it change.
    _engine_wait 5 _docker0_settled || true
  fi
  return 0
}

# The engine's own command-line inspect (podman's reads its storage directly, not the API).
engine_inspect() { # ENGINE NAME JQ
  engine_cli "$1" inspect "$2" | jq -r ".[0] | $3"
}
