#!/usr/bin/env bats
# lanjoin docker-plugin (issue 19), the lifecycle around it: dockerd restarted (live-restore off
# and on) and the plugin killed -9 while containers run, many containers at once, Compose. Split
# from docker-plugin.bats for its time; the same lab, one plugin and one private dockerd for the
# file (setup_file), which finds the plugin through DOCKER_PLUGIN_DIR.

load helpers
load engine-helpers
load docker-plugin-helpers

setup_file() { plugin_docker_setup_file; }
setup() { no_leftover_networks; }
teardown_file() { plugin_docker_teardown_file; }

# The plugin's lanjoin records of Docker endpoints, as a count.
docker_records() { lj list --json | jq '[.[] | select(.info.docker)] | length'; }
running() { [[ $(engine_inspect docker "$1" .State.Running) == true ]]; }

@test "protocol: CreateEndpoint forgets an endpoint of its network that holds its address (one Docker dropped unsaid), through the address index" {
  local nid=$(printf '8%.0s' {1..64}) e1=$(printf 'a%.0s' {1..64}) e2=$(printf 'b%.0s' {1..64})
  local e3=$(printf 'c%.0s' {1..64}) e4=$(printf 'd%.0s' {1..64}) l1 l2 st=$LAB_DIR/dplugin/state
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$nid\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\"}},\"IPv4Data\":[{\"Pool\":\"198.51.100.0/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$nid\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\",\"Interface\":{\"Address\":\"198.51.100.146/24\"}}"
  run call NetworkDriver.Join "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\",\"SandboxKey\":\"/nonexistent\"}"
  l1=$(head -n1 <<<"$output" | jq -r .InterfaceName.SrcName)
  on host ip link show dev "$l1"
  # the index entry of the address is e1's file (a hard link)
  [ "$(stat -c %i "$st/addresses/$nid-198.51.100.146")" = "$(stat -c %i "$st/endpoints/$e1.json")" ]
  # a dockerd killed -9 dropped e1 without DeleteEndpoint ("key modified") and gave its address
  # (and so its MAC) to e2: e2's CreateEndpoint undoes e1's Join and forgets it, and says so
  local log0
  log0=$(wc -l <"$LAB_DIR/dplugin/plugin.log")
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e2\",\"Interface\":{\"Address\":\"198.51.100.146/24\"}}"
  echo "$output"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  tail -n +"$((log0 + 1))" "$LAB_DIR/dplugin/plugin.log" | grep -xF "lanjoin: CreateEndpoint network ${nid:0:12} endpoint ${e2:0:12}: endpoint ${e1:0:12}, which held 198.51.100.146/24, is undone and forgotten (Docker dropped it without DeleteEndpoint)"
  [ -z "$(ep_record "$e1")" ]
  [ ! -e "$st/endpoints/$e1.json" ]
  ! on host ip link show dev "$l1" || false
  [ "$(jq -r .id "$st/addresses/$nid-198.51.100.146")" = "$e2" ]
  run call NetworkDriver.Join "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e2\",\"SandboxKey\":\"/nonexistent\"}"
  echo "$output"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  l2=$(head -n1 <<<"$output" | jq -r .InterfaceName.SrcName)
  [ "$(jq -r .status <<<"$(ep_record "$e2")")" = attached ]
  # a restarted plugin builds the index again from the endpoint files (one lost here)
  plugin_stop TERM
  rm -f "$st/addresses/"*
  plugin_start
  [ "$(jq -r .id "$st/addresses/$nid-198.51.100.146")" = "$e2" ]
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e3\",\"Interface\":{\"Address\":\"198.51.100.146/24\"}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  [ -z "$(ep_record "$e2")" ]
  [ ! -e "$st/endpoints/$e2.json" ]
  ! on host ip link show dev "$l2" || false
  # an endpoint file a power loss left empty (endpoint files are not synced): DeleteEndpoint
  # forgets it (its index entry, the same inode, goes with the network), and an endpoint of
  # another address is not touched
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e4\",\"Interface\":{\"Address\":\"198.51.100.147/24\"}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  [ -e "$st/endpoints/$e3.json" ]
  : >"$st/endpoints/$e4.json"
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e4\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  [ ! -e "$st/endpoints/$e4.json" ]
  local ino=$(stat -c %i "$st/endpoints/$e3.json")
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e3\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  # its file is kept as a spare, and the next endpoint's file is written into it
  [ "$(stat -c %i "$st/spare/0")" = "$ino" ]
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\",\"Interface\":{\"Address\":\"198.51.100.148/24\"}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  [ "$(stat -c %i "$st/endpoints/$e1.json")" = "$ino" ]
  [ "$(jq -r .address "$st/endpoints/$e1.json")" = 198.51.100.148/24 ]
  [ ! -e "$st/spare/0" ]
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  [ -e "$st/spare/0" ]
  # the last network deleted: no spare kept (state_empty)
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$nid\"}"
  no_plugin_links
  state_empty
}

@test "dockerd restarted, live-restore off: the container stops and comes back with its address and MAC" {
  require_engine docker
  local ep mac pid rec
  docker_live_restore off
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 rsoff
  [ "$status" -eq 0 ]
  defer net_rm rsoff
  # killed at once when dockerd stops it (busybox httpd as PID 1 ignores SIGTERM)
  engine_run docker roff --network rsoff --ip 198.51.100.141 --restart always --stop-signal KILL
  wait_until 20 curl_from peer http://198.51.100.141/hello.html
  run curl_from peer http://198.51.100.141/hello.html
  [ "$output" = "Hello world" ]
  ep=$(engine_inspect docker roff '.NetworkSettings.Networks.rsoff.EndpointID')
  mac=$(engine_inspect docker roff '.NetworkSettings.Networks.rsoff.MacAddress')
  pid=$(engine_inspect docker roff .State.Pid)
  docker_daemon_stop
  # dockerd stopped the container and had the plugin delete its endpoint
  [ ! -d "/proc/$pid" ] || _engine_none_alive "$pid"
  [ -z "$(ep_record "$ep")" ]
  no_plugin_links
  docker_daemon_start
  # the restart policy brought it back: a new endpoint, the same address and MAC
  wait_until 30 running roff
  wait_until 20 curl_from peer http://198.51.100.141/hello.html
  [ "$(engine_inspect docker roff .State.Pid)" != "$pid" ]
  [ "$(engine_inspect docker roff '.NetworkSettings.Networks.rsoff.IPAddress')" = 198.51.100.141 ]
  [ "$(engine_inspect docker roff '.NetworkSettings.Networks.rsoff.MacAddress')" = "$mac" ]
  rec=$(ep_record "$(engine_inspect docker roff '.NetworkSettings.Networks.rsoff.EndpointID')")
  [ "$(jq -r .status <<<"$rec")" = attached ]
  [ "$(docker_records)" -eq 1 ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  run curl_from peer http://198.51.100.141/hello.html
  [ "$output" = "Hello world" ]
  dk rm -f roff >/dev/null
  dk network rm rsoff
  no_plugin_links
  state_empty
}

@test "dockerd restarted, live-restore on: the container runs and answers throughout; the plugin answers for it after" {
  require_engine docker
  local ep nid pid link
  docker_live_restore on
  defer docker_live_restore off
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o host_shim=198.51.100.92/24 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 rson
  [ "$status" -eq 0 ]
  defer net_rm rson
  engine_run docker ron --network rson --ip 198.51.100.142
  wait_until 20 curl_from peer http://198.51.100.142/hello.html
  nid=$(dk network inspect rson --format '{{.Id}}')
  ep=$(engine_inspect docker ron '.NetworkSettings.Networks.rson.EndpointID')
  link=$(jq -r .ifname <<<"$(ep_record "$ep")")
  pid=$(engine_inspect docker ron .State.Pid)
  docker_daemon_stop
  # no dockerd: the container, its link and record, the LAN's and the host's way to it stay
  [ -d "/proc/$pid" ]
  [ "$(jq -r .status <<<"$(ep_record "$ep")")" = attached ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  run curl_from peer http://198.51.100.142/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.142/hello.html
  [ "$output" = "Hello world" ]
  docker_daemon_start
  running ron
  [ "$(engine_inspect docker ron .State.Pid)" = "$pid" ]
  [ "$(engine_inspect docker ron '.NetworkSettings.Networks.rson.EndpointID')" = "$ep" ]
  run curl_from peer http://198.51.100.142/hello.html
  [ "$output" = "Hello world" ]
  # the plugin answers for the endpoint made before the restart
  run call NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$ep\"}"
  [ "$(head -n1 <<<"$output" | jq -r .Value.link)" = "$link" ]
  [ "$(head -n1 <<<"$output" | jq -r .Value.status)" = attached ]
  [ "$(docker_records)" -eq 1 ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  # and Docker removes it through the plugin as usual
  dk rm -f ron >/dev/null
  [ -z "$(ep_record "$ep")" ]
  [ -z "$(on host ip route show 198.51.100.142)" ]
  no_plugin_links_but_shim
  dk network rm rson
  no_plugin_links
  state_empty
}

@test "dockerd killed -9, live-restore off: the containers' endpoints it drops unsaid are target-gone, gc undoes them, a live one is left" {
  require_engine docker
  local nid e1 e2 e3 l1 l2 h2 l3 st
  docker_live_restore off
  on host ip link add br-kk type bridge
  defer on host ip link del br-kk
  on host ip link set br-kk up
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 kmv
  [ "$status" -eq 0 ]
  defer net_rm kmv
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-kk \
    --subnet 198.18.9.0/24 --gateway 198.18.9.1 kbr
  [ "$status" -eq 0 ]
  defer net_rm kbr
  defer rm_quietly k1 k2 k3
  engine_run docker k1 --network kmv --ip 198.51.100.151 --stop-signal KILL
  engine_run docker k2 --network kbr --ip 198.18.9.33 --stop-signal KILL
  nid=$(dk network inspect kmv --format '{{.Id}}')
  e1=$(engine_inspect docker k1 '.NetworkSettings.Networks.kmv.EndpointID')
  e2=$(engine_inspect docker k2 '.NetworkSettings.Networks.kbr.EndpointID')
  l1=$(jq -r .ifname <<<"$(ep_record "$e1")")
  l2=$(jq -r .ifname <<<"$(ep_record "$e2")")
  h2=$(jq -r .host_ifname <<<"$(ep_record "$e2")")
  [ "$(status_of "$l1" | jq -r .status)" = ok ]
  [ "$(status_of "$l2" | jq -r .status)" = ok ]
  docker_daemon_stop KILL
  docker_daemon_start
  # the new dockerd stopped the containers and dropped their endpoints without a word to the
  # plugin ("key modified"); the sandbox files stay, no namespace mounted on them
  wait_until 30 test "$(engine_inspect docker k1 .State.Status)" = exited
  wait_until 30 test "$(engine_inspect docker k2 .State.Status)" = exited
  # a container started since (its sandbox file is no namespace here either: dockerd mounts
  # it in a mount namespace of its own)
  engine_run docker k3 --network kmv --ip 198.51.100.152
  e3=$(engine_inspect docker k3 '.NetworkSettings.Networks.kmv.EndpointID')
  l3=$(jq -r .ifname <<<"$(ep_record "$e3")")
  wait_until 20 curl_from peer http://198.51.100.152/hello.html
  st=$(status_of "$l1")
  echo "$st"
  [ "$(jq -r .status <<<"$st")" = target-gone ]
  [[ $(jq -r .what <<<"$st") == *"macvlan (MAC "*") is in no namespace"*"gone with the container's namespace"* ]]
  st=$(status_of "$l2")
  echo "$st"
  [ "$(jq -r .status <<<"$st")" = target-gone ]
  [[ $(jq -r .what <<<"$st") == *"veth pair"*"is gone"*"gone with the container's namespace"* ]]
  [ "$(status_of "$l3" | jq -r .status)" = ok ]
  run lj list --json
  [ "$(jq -r --arg l "$l1" '.[] | select(.ifname == $l) | .status' <<<"$output")" = attached ]
  run lj gc --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq ".removed | length" <<<"$output")" -eq 2 ]
  [ -z "$(ep_record "$e1")" ]
  [ -z "$(ep_record "$e2")" ]
  ! on host ip link show dev "$h2" || false
  # the live one: untouched
  [ "$(status_of "$l3" | jq -r .status)" = ok ]
  run curl_from peer http://198.51.100.152/hello.html
  [ "$output" = "Hello world" ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  # a late Leave and DeleteEndpoint of a gone endpoint still answer
  run call NetworkDriver.Leave "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\"}"
  [ "$(tail -n1 <<<"$output")" = 200 ]
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$e1\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  # k1 starts again on its address (a new endpoint) and Docker removes everything as usual
  dk start k1 >/dev/null
  wait_until 20 curl_from peer http://198.51.100.151/hello.html
  # (k1 and k3 removed concurrently from kmv: net_rm_checked)
  dk rm -f k1 k2 k3 >/dev/null
  net_rm_checked kmv kbr
  no_plugin_links
  state_empty
}

@test "dockerd killed -9: the address of an endpoint it dropped unsaid is the CLI's to take (its record undone first), a live endpoint's still refused" {
  require_engine docker
  local e4 e5 l4
  docker_live_restore off
  add_container othera
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 kmv2
  [ "$status" -eq 0 ]
  defer net_rm kmv2
  defer rm_quietly k4 k5
  engine_run docker k4 --network kmv2 --ip 198.51.100.153 --stop-signal KILL
  e4=$(engine_inspect docker k4 '.NetworkSettings.Networks.kmv2.EndpointID')
  l4=$(jq -r .ifname <<<"$(ep_record "$e4")")
  docker_daemon_stop KILL
  docker_daemon_start
  wait_until 30 test "$(engine_inspect docker k4 .State.Status)" = exited
  engine_run docker k5 --network kmv2 --ip 198.51.100.154
  e5=$(engine_inspect docker k5 '.NetworkSettings.Networks.kmv2.EndpointID')
  # the dropped endpoint's record is still there (its sandbox file too): only its link is gone
  [ "$(jq -r .status <<<"$(ep_record "$e4")")" = attached ]
  [ "$(status_of "$l4" | jq -r .status)" = target-gone ]
  # the live endpoint's address: refused, naming it
  run lj attach macvlan "netns:${LAB_PREFIX}othera" --parent em1 --ip 198.51.100.154/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.154 is the address of Docker endpoint ${e5:0:12}"* ]]
  # the dropped one's: taken, its record undone first (as gc would); the live one left
  run lj attach macvlan "netns:${LAB_PREFIX}othera" --parent em1 --ip 198.51.100.153/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed attachment of Docker endpoint ${e4:0:12} "*"(macvlan way): a Docker endpoint whose link is gone with its container's namespace"* ]]
  [ -z "$(ep_record "$e4")" ]
  [ "$(jq -r .status <<<"$(ep_record "$e5")")" = attached ]
  run curl_from peer http://198.51.100.153/hello.html
  [ "$output" = "Hello world" ]
  wait_until 20 curl_from peer http://198.51.100.154/hello.html
  run lj detach "netns:${LAB_PREFIX}othera"
  [ "$status" -eq 0 ]
  dk rm -f k4 k5 >/dev/null
  net_rm_checked kmv2
  no_plugin_links
  state_empty
}

@test "dockerd killed -9 while a container's namespace outlives it: docker start gets its address (and MAC) back, the old macvlan deleted as its record names it" {
  require_engine docker
  local e1 pid keep=$LAB_DIR/keep-k6
  docker_live_restore off
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 kmv3
  [ "$status" -eq 0 ]
  defer net_rm kmv3
  defer rm_quietly k6
  engine_run docker k6 --network kmv3 --ip 198.51.100.156 --stop-signal KILL
  e1=$(engine_inspect docker k6 '.NetworkSettings.Networks.kmv3.EndpointID')
  pid=$(engine_inspect docker k6 .State.Pid)
  # something else holds the container's namespace (a process or mount lanjoin knows nothing
  # of; or the kernel still tearing it down): its macvlan, with the MAC of the address, lives on
  touch "$keep"
  mount --bind "/proc/$pid/ns/net" "$keep"
  defer rm -f "$keep"
  defer umount "$keep"
  docker_daemon_stop KILL
  docker_daemon_start
  wait_until 30 test "$(engine_inspect docker k6 .State.Status)" = exited
  nsenter "--net=$keep" ip -o link show
  run dk start k6
  echo "$output"
  [ "$status" -eq 0 ]
  wait_until 20 curl_from peer http://198.51.100.156/hello.html
  # the old one's macvlan is gone from the namespace that outlived it; the new one answers
  [ -z "$(nsenter "--net=$keep" ip -o link show type macvlan)" ]
  dk rm -f k6 >/dev/null
  net_rm_checked kmv3
  no_plugin_links
  state_empty
}

# The host's nftables tables and lanjoin's rules (commented "lanjoin ..."), without counters
# (Docker's own chains change as it pleases).
ruleset() {
  on host nft list ruleset | grep -iE '^table|lanjoin' | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

# kill_plugin_while NET NAME ADDR [HOST]: with container NAME of network NET at ADDR running, the
# plugin killed -9: NAME answers the LAN peer (and the host, with HOST) while it is down and after
# it is started again; then Docker removes NAME and NET through the new plugin.
kill_plugin_while() {
  local net=$1 name=$2 addr=$3 from
  engine_run docker "$name" --network "$net" --ip "$addr"
  wait_until 20 curl_from peer "http://$addr/hello.html" # httpd just started
  [ "$(docker_records)" -eq 1 ]
  plugin_stop KILL
  [ -z "$(plugin_pid)" ]
  for from in peer ${4:+host}; do
    run curl_from "$from" "http://$addr/hello.html"
    [ "$output" = "Hello world" ]
  done
  [ "$(lj status --json | jq -r .ok)" = true ]
  plugin_start
  run curl_from peer "http://$addr/hello.html"
  [ "$output" = "Hello world" ]
  [ "$(docker_records)" -eq 1 ]
  dk rm -f "$name" >/dev/null
  dk network rm "$net"
  no_plugin_links
  state_empty
  [ -z "$(on host ip route show "$addr")" ]
}

@test "the plugin killed -9 while containers run: they stay reachable; removing them and the networks leaves nothing" {
  require_engine docker
  local em1 nft
  em1=$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')
  nft=$(ruleset)
  # macvlan with the host shim
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o host_shim=198.51.100.93/24 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 pkmv
  [ "$status" -eq 0 ]
  defer net_rm pkmv
  kill_plugin_while pkmv pkm 198.51.100.143 host
  # bridge on em1 adopted into br-pk when the network was made, given back with it
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-pk -o uplink=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 pkbr
  [ "$status" -eq 0 ]
  defer net_rm pkbr
  docker_allow_bridge br-pk
  kill_plugin_while pkbr pkb 198.51.100.144
  on host iptables -D DOCKER-USER -i br-pk -o br-pk -j ACCEPT # the test's own
  ! on host ip link show dev br-pk || false
  [ "$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')" = "$em1" ]
  [ "$(on host ip -j link show dev em1 | jq -r '.[0].master // ""')" = "" ]
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  [ "$(ruleset)" = "$nft" ]
}

@test "24 containers started at once on one macvlan network: each reachable at its own address; removing them leaves nothing" {
  require_engine docker
  local i pids=() names=() addrs macs
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 --subnet 198.51.100.0/24 \
    --ip-range 198.51.100.128/26 --gateway 198.51.100.254 many
  [ "$status" -eq 0 ]
  defer net_rm many
  for i in {1..24}; do names+=("m$i"); done
  defer rm_quietly "${names[@]}"
  # addresses from Docker's IPAM (the range), all at once
  for i in "${names[@]}"; do
    dk run -d --name "$i" --network many "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  addrs=$(dk inspect --format '{{.NetworkSettings.Networks.many.IPAddress}}' "${names[@]}")
  macs=$(dk inspect --format '{{.NetworkSettings.Networks.many.MacAddress}}' "${names[@]}")
  [ "$(sort -u <<<"$addrs" | grep -c '^198\.51\.100\.')" -eq 24 ]
  [ "$(sort -u <<<"$macs" | grep -c .)" -eq 24 ]
  [ "$(docker_records)" -eq 24 ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  # each answers the LAN peer (one shell there for the 24 requests; a container just started
  # may not listen yet: up to 20 tries each)
  run on peer sh -c 'for a; do i=0; until curl -sf --max-time 2 "http://$a/hello.html"; do
      i=$((i + 1)); [ $i -lt 20 ] || { echo "no answer from $a"; break; }; sleep 0.2; done; done' sh $addrs
  echo "$output"
  [ "$(grep -c '^Hello world$' <<<"$output")" -eq 24 ]
  # (the client removes them concurrently)
  dk rm -f "${names[@]}" >/dev/null
  # each container's endpoint went with it (Leave, DeleteEndpoint): none left in Docker nor
  # lanjoin (nor a file of the plugin's), then the network goes (past dockerd's endpoint-count
  # drift that concurrent removals can leave, moby/moby#42119: said on the output)
  [ -z "$(plugin_endpoint_files)" ]
  net_rm_checked many
  no_plugin_links
  state_empty
}

@test "systemd: the plugin says READY=1 once its socket listens (its directory made), STOPPING=1 on SIGTERM" {
  command -v python3 >/dev/null || skip "python3 is not installed"
  local d=$LAB_DIR/dplugin/notify
  mkdir -p "$d"
  defer rm -rf "$d"
  # a notify socket as systemd's; the plugin's socket in directories that are not there yet
  run timeout 30 python3 -c '
import os, socket, subprocess, sys
d, lanjoin, state = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(d + "/notify")
s.settimeout(20)
p = subprocess.Popen([lanjoin, "docker-plugin", "--socket", d + "/run/plugins/lj.sock",
                      "--state-dir", d + "/state"], stderr=subprocess.DEVNULL,
                     env=dict(os.environ, NOTIFY_SOCKET=d + "/notify", LANJOIN_STATE_DIR=state))
try:
    print(s.recv(256).decode().replace("\n", " "))
    print("socket" if os.path.exists(d + "/run/plugins/lj.sock") else "no socket")
    p.terminate()
    print(s.recv(256).decode())
    print("exit", p.wait(timeout=20))
finally:
    p.kill()' "$d" "$LANJOIN" "$LANJOIN_STATE_DIR"
  echo "$output"
  [ "${lines[0]}" = "READY=1 STATUS=serving" ]
  [ "${lines[1]}" = socket ]
  [ "${lines[2]}" = STOPPING=1 ]
  [ "${lines[3]}" = "exit 0" ]
}


# docker-compose (v1) against the test's dockerd, with the project in $LAB_DIR/compose.
compose() {
  DOCKER_HOST="unix://$(engine_sock docker)" timeout 120 docker-compose -p ljc \
    -f "$LAB_DIR/compose/docker-compose.yml" "$@"
}
compose_down() { compose down -t 0 >/dev/null 2>&1 || true; } # idempotent, for defer

@test "compose: a service on a lanjoin network the Compose file makes; down leaves nothing" {
  require_engine docker
  command -v docker-compose >/dev/null || skip "docker-compose is not installed"
  local ep
  mkdir -p "$LAB_DIR/compose"
  defer rm -rf "$LAB_DIR/compose"
  cat >"$LAB_DIR/compose/docker-compose.yml" <<EOF
version: "2.4"
networks:
  lan:
    driver: lanjoin
    driver_opts: { mode: macvlan, parent: em1, host_shim: 198.51.100.94/24 }
    ipam:
      config: [ { subnet: 198.51.100.0/24, gateway: 198.51.100.254 } ]
services:
  web:
    image: $ENGINE_IMAGE
    command: [ /bin/httpd, -f, -p, "80", -h, /www ]
    networks: { lan: { ipv4_address: 198.51.100.145 } }
EOF
  defer compose_down
  run compose up -d
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(dk network inspect ljc_lan --format '{{.Driver}}')" = lanjoin ]
  wait_until 20 curl_from peer http://198.51.100.145/hello.html # httpd just started
  run curl_from peer http://198.51.100.145/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.145/hello.html
  [ "$output" = "Hello world" ]
  ep=$(engine_inspect docker ljc_web_1 '.NetworkSettings.Networks.ljc_lan.EndpointID')
  [ "$(jq -r .way <<<"$(ep_record "$ep")")" = macvlan ]
  run compose down -t 0
  echo "$output"
  [ "$status" -eq 0 ]
  ! dk network inspect ljc_lan >/dev/null 2>&1 || false
  no_plugin_links
  state_empty
  [ -z "$(on host ip route show 198.51.100.145)" ]
}
