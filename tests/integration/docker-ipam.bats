#!/usr/bin/env bats
# lanjoin docker-plugin as an IPAM driver (issue 19): `--ipam-driver lanjoin` gives a
# container the address the LAN's DHCP server (the lab's dnsmasq on gw) leases to its MAC; a
# supervised client holds the lease for the container's life and releases it when the
# container stops. One dockerd and one plugin for the file, as docker-plugin.bats starts them.

load helpers
load engine-helpers

# The plugin runs in dockerd's mount namespace (engine-helpers gives dockerd one of its own),
# as it does on a host where both are system services: Docker's SandboxKey, the container's
# namespace mounted where the lease's holding client finds it, is a mount of that namespace.
plugin_start() {
  local dir=$LAB_DIR/dplugin mnt=()
  mkdir -p "$dir/plugins"
  [[ -s $LAB_DIR/docker/docker.pid ]] && mnt=("--mount=/proc/$(cat "$LAB_DIR/docker/docker.pid")/ns/mnt")
  _engine_spawn "$dir/plugin.log" nsenter "${mnt[@]}" "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" "$LANJOIN" docker-plugin \
    --socket "$dir/plugins/lanjoin.sock" --state-dir "$dir/state"
  disown $! 2>/dev/null || true
  _engine_wait 10 curl -sf --unix-socket "$dir/plugins/lanjoin.sock" -X POST http://plugin/Plugin.Activate
}

plugin_pid() { pgrep -f -- "--socket $LAB_DIR/dplugin/plugins/lanjoin.sock" || true; }

plugin_stop() {
  local p
  p=$(plugin_pid)
  [[ -z $p ]] || kill -TERM $p
  _engine_wait 10 test -z "$(plugin_pid)" || true
}

setup_file() {
  lab_setup_file
  export DOCKER_PLUGIN_DIR=$LAB_DIR/dplugin/plugins
  mkdir -p "$DOCKER_PLUGIN_DIR"
  docker_start || true
  plugin_start # found when a network first names it
}

teardown_file() {
  docker_stop || true
  plugin_stop
  lab_teardown_file
}

SOCK() { echo "$LAB_DIR/dplugin/plugins/lanjoin.sock"; }

call() { # CALL [BODY]: POST to the plugin; prints the body, then the HTTP status on a line
  curl -sS --max-time 20 --unix-socket "$(SOCK)" -X POST \
    -H 'Content-Type: application/vnd.docker.plugins.v1.2+json' \
    ${2:+--data-binary "$2"} -w '\n%{http_code}' "http://plugin/$1"
}
err_of() { head -n1 <<<"$output" | jq -r .Err; }

# Nothing in the plugin's state (networks, endpoints, leases) nor in lanjoin's records.
state_empty() {
  [ -z "$(find "$LAB_DIR/dplugin/state" -type f ! -name plugin.lock)" ] &&
    [ "$(lj list --json | jq length)" -eq 0 ] &&
    [ -z "$(find "$LANJOIN_STATE_DIR" -name "*.json" -o -path "*/dhcp/*" -type f)" ]
}
no_plugin_links() { [[ -z $(on host ip -o link show | grep -E ': lj[dhs][0-9a-f]') ]]; }
net_rm() { dk network rm "$1" >/dev/null 2>&1 || true; }

# dnsmasq's view (lab.sh: its log and lease file under $LAB_DIR)
dnsmasq_acks() { grep -c "DHCPACK(eth0) .* $1" "$LAB_DIR/dnsmasq.log" || true; }
more_acks() { [ "$(dnsmasq_acks "$1")" -gt "$2" ]; }
leased() { grep -q " $1 $2 " "$LAB_DIR/dnsmasq.leases"; } # MAC IP
not_leased() { ! grep -q " $1 " "$LAB_DIR/dnsmasq.leases"; }
lease_file() { echo "$LAB_DIR/dplugin/state/leases/$1.json"; }
# The PID of the DHCP client (udhcpc, ...) under supervisor $1.
client_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1; }
holder_up() { [[ -n $(client_of "$1") ]]; }

create_dhcp_net() { # NAME
  run dk network create -d lanjoin --ipam-driver lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 "$1"
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm "$1"
}

@test "ipam protocol: Activate lists IpamDriver; capabilities and address spaces" {
  run call Plugin.Activate
  [ "$(head -n1 <<<"$output" | jq -c .Implements)" = '["NetworkDriver","IpamDriver"]' ]
  run call IpamDriver.GetCapabilities
  [ "$(head -n1 <<<"$output" | jq -c .)" = '{"RequiresMACAddress":true}' ]
  run call IpamDriver.GetDefaultAddressSpaces
  [ "$(head -n1 <<<"$output" | jq -r .LocalDefaultAddressSpace)" = lanjoin ]
  run call IpamDriver.RequestPool '{"AddressSpace":"lanjoin","Pool":"198.51.100.0/24"}'
  [ "$(head -n1 <<<"$output" | jq -c .)" = '{"PoolID":"dhcp4/198.51.100.0/24","Pool":"198.51.100.0/24","Data":{}}' ]
  run call IpamDriver.ReleasePool '{"PoolID":"dhcp4/198.51.100.0/24"}'
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call IpamDriver.DiscoverNew '{"DiscoveryType":1}'
  [ "$(head -n1 <<<"$output")" = '{}' ]
}

@test "ipam protocol: malformed and hostile requests get a clear Err and the plugin lives on" {
  local pid
  pid=$(plugin_pid)
  run call IpamDriver.RequestPool '{"AddressSpace":"lanjoin"}'
  [ "$(err_of)" = "lanjoin's IPAM driver needs the LAN's subnet: --subnet" ]
  run call IpamDriver.RequestPool '{"Pool":"198.51.100.0/24","V6":true}'
  [[ $(err_of) == *"IPv4 addresses by DHCP only"* ]]
  run call IpamDriver.RequestPool '{"Pool":"2001:db8::/64"}'
  [[ $(err_of) == *"IPv4 addresses by DHCP only"* ]]
  run call IpamDriver.RequestPool '{"Pool":"198.51.100.0/24","SubPool":"198.51.100.128/25"}'
  [[ $(err_of) == *"no --ip-range"* ]]
  run call IpamDriver.RequestPool '{"Pool":"198.51.100.0/99"}'
  [ "$(err_of)" = "invalid IPv4 subnet '198.51.100.0/99'" ]
  run call IpamDriver.RequestPool '{"Pool":"198.51.100.0/24","Options":["x"]}'
  [ "$(err_of)" = "Options is not an object" ]
  run call IpamDriver.RequestPool '{"Pool":"198.51.100.0/24","Options":{"a":1}}'
  [ "$(err_of)" = "option 'a' is not a string" ]
  run call IpamDriver.RequestPool
  [ "$(tail -n1 <<<"$output")" = 400 ]
  run call IpamDriver.RequestAddress '{"PoolID":"../../etc/passwd"}'
  [[ $(err_of) == "PoolID '../../etc/passwd' is not one of lanjoin's"* ]]
  run call IpamDriver.RequestAddress '{"PoolID":7}'
  [[ $(err_of) == "PoolID '' is not one of lanjoin's"* ]]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Address":"203.0.113.5"}'
  [ "$(err_of)" = "address '203.0.113.5' is not in the subnet 198.51.100.0/24" ]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Address":"198.51.100.20"}'
  [[ $(err_of) == *"--ip and --aux-address are not taken"* ]]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Options":{"RequestAddressType":"com.docker.network.gateway"}}'
  [ "$(err_of)" = "a DHCP network needs --gateway (the LAN's router)" ]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Address":"198.51.100.254","Options":{"RequestAddressType":"com.docker.network.gateway"}}'
  [ "$(head -n1 <<<"$output" | jq -r .Address)" = 198.51.100.254/24 ]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24"}'
  [[ $(err_of) == "RequestAddress needs the endpoint's MAC address"* ]]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Options":{"com.docker.network.endpoint.macaddress":"zz:00"}}'
  [[ $(err_of) == "RequestAddress needs the endpoint's MAC address"* ]]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Options":{"com.docker.network.endpoint.macaddress":"02:00:00:00:00:01"}}'
  [[ $(err_of) == "no lanjoin network has the subnet 198.51.100.0/24"* ]]
  run call IpamDriver.ReleaseAddress '{"PoolID":"dhcp4/198.51.100.0/24"}'
  [ "$(err_of)" = "ReleaseAddress needs an Address" ]
  run call IpamDriver.ReleaseAddress '{"PoolID":"dhcp4/198.51.100.0/24","Address":"198.51.100.77"}'
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call IpamDriver.Nonsense '{}'
  [ "$(tail -n1 <<<"$output")" = 404 ]
  run call IpamDriver.RequestAddress '{not json'
  [ "$(tail -n1 <<<"$output")" = 400 ]
  [ "$(plugin_pid)" = "$pid" ]
  state_empty
}

@test "ipam protocol: a DHCP network of another mode is refused at RequestAddress" {
  local nid
  nid=$(printf '5%.0s' {1..64})
  on host ip link add br-ipam type bridge
  defer on host ip link del br-ipam
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$nid\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-ipam\"}},\"IPv4Data\":[{\"AddressSpace\":\"lanjoin\",\"Pool\":\"198.51.100.0/24\",\"Gateway\":\"198.51.100.254/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call IpamDriver.RequestAddress '{"PoolID":"dhcp4/198.51.100.0/24","Options":{"com.docker.network.endpoint.macaddress":"02:00:00:00:00:01"}}'
  [ "$(err_of)" = "lanjoin's IPAM driver serves mode=macvlan networks (this one is mode=bridge)" ]
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$nid\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  state_empty
}

@test "ipam protocol: RequestAddress leases for the MAC, ReleaseAddress releases; a restarted plugin releases a lease no endpoint took" {
  local nid pool='"PoolID":"dhcp4/198.51.100.0/24"' m1=02:00:00:00:00:0a m2=02:00:00:00:00:0b
  nid=$(printf '6%.0s' {1..64})
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$nid\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\"}},\"IPv4Data\":[{\"AddressSpace\":\"lanjoin\",\"Pool\":\"198.51.100.0/24\",\"Gateway\":\"198.51.100.254/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call IpamDriver.RequestAddress "{$pool,\"Options\":{\"com.docker.network.endpoint.macaddress\":\"$m1\"}}"
  a1=$(head -n1 <<<"$output" | jq -r .Address)
  [[ $a1 =~ ^198\.51\.100\.1[5-9][0-9]/24$ ]]
  leased "$m1" "${a1%/*}"
  sup=$(jq -r .scratch.pid "$(lease_file "${a1%/*}")")
  kill -0 "$sup"
  run call IpamDriver.ReleaseAddress "{$pool,\"Address\":\"${a1%/*}\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  wait_until 10 not_leased "$m1"
  pid_gone "$sup"
  [ ! -e "$(lease_file "${a1%/*}")" ]
  # a lease Docker never made an endpoint for (it gave up while the plugin was down)
  run call IpamDriver.RequestAddress "{$pool,\"Options\":{\"com.docker.network.endpoint.macaddress\":\"$m2\"}}"
  a2=$(head -n1 <<<"$output" | jq -r .Address)
  leased "$m2" "${a2%/*}"
  kill -KILL "$(plugin_pid)"
  _engine_wait 10 test -z "$(plugin_pid)"
  plugin_start
  wait_until 10 not_leased "$m2"
  [ ! -e "$(lease_file "${a2%/*}")" ]
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$nid\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  state_empty
}

@test "docker: a DHCP network; the lease is held, renewed and released on stop, rm and network rm" {
  require_engine docker
  create_dhcp_net dhcp
  engine_run docker web --network dhcp
  ip=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.IPAddress')
  mac=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.MacAddress')
  echo "ip $ip mac $mac"
  # an address of dnsmasq's range, leased to the container's MAC
  [[ $ip =~ ^198\.51\.100\.(1[5-9][0-9])$ ]]
  leased "$mac" "$ip"
  # the container's default route is the lease's router (Join's Gateway)
  run dk exec web ip -4 route show default
  [[ $output == "default via 198.51.100.254 dev eth0"* ]]
  run curl_from peer "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  # the lease's record names the client that holds it, which runs on the container's link
  hold=$(jq -r .hold.pid "$(lease_file "$ip")")
  [ "$(jq -r .scratch "$(lease_file "$ip")")" = null ]
  wait_until 10 holder_up "$hold"
  client=$(client_of "$hold")
  [ "$(readlink /proc/"$client"/ns/net)" = "$(readlink /proc/"$(engine_inspect docker web .State.Pid)"/ns/net)" ]
  # renewed: the client asked to renew now (udhcpc: SIGUSR1) gets a new ACK from dnsmasq
  acks=$(dnsmasq_acks "$mac")
  kill -USR1 "$client"
  wait_until 10 more_acks "$mac" "$acks"
  leased "$mac" "$ip"
  # docker stop: released (dnsmasq forgets it), the client is gone, so is the record
  dk stop -t 0 web
  wait_until 10 not_leased "$mac"
  grep -q "DHCPRELEASE(eth0) $ip $mac" "$LAB_DIR/dnsmasq.log"
  pid_gone "$hold"
  [ ! -e "$(lease_file "$ip")" ]
  # docker start: a new endpoint, a new lease (Docker makes a new MAC)
  dk start web
  ip2=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.IPAddress')
  mac2=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.MacAddress')
  leased "$mac2" "$ip2"
  run curl_from peer "http://$ip2/hello.html"
  [ "$output" = "Hello world" ]
  hold=$(jq -r .hold.pid "$(lease_file "$ip2")")
  # docker rm -f and docker network rm: nothing left
  dk rm -f web
  wait_until 10 not_leased "$mac2"
  pid_gone "$hold"
  dk network rm dhcp
  no_plugin_links
  state_empty
}

@test "docker: refusals show the plugin's message; a container whose start fails gives its lease back" {
  require_engine docker
  run dk network create -d lanjoin --ipam-driver lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 nogw
  [ "$status" -ne 0 ]
  [[ $output == *"a DHCP network needs --gateway (the LAN's router)"* ]]
  create_dhcp_net dhcp
  # --ip is Docker's default IPAM's: refused with the plugin's message
  run dk run -d --name bad --network dhcp --ip 198.51.100.20 "$ENGINE_IMAGE" /bin/true
  defer engine_rm docker bad
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"--ip and --aux-address are not taken"* ]]
  dk rm -f bad
  # the image has no such command: the endpoint and its lease come and go
  local rc=0
  dk run -d --name bad --network dhcp "$ENGINE_IMAGE" /no/such/command || rc=$?
  [ "$rc" -ne 0 ]
  dk rm -f bad
  [ -z "$(find "$LAB_DIR/dplugin/state/leases" -type f)" ]
  [ -z "$(find "$LANJOIN_STATE_DIR/dhcp" -type f 2>/dev/null)" ]
  dk network rm dhcp
  state_empty
}

@test "docker: the plugin killed -9 while a DHCP container runs; the restarted one releases the lease at stop" {
  require_engine docker
  create_dhcp_net dhcp
  engine_run docker web --network dhcp
  ip=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.IPAddress')
  mac=$(engine_inspect docker web '.NetworkSettings.Networks.dhcp.MacAddress')
  hold=$(jq -r .hold.pid "$(lease_file "$ip")")
  wait_until 10 holder_up "$hold"
  kill -KILL "$(plugin_pid)"
  _engine_wait 10 test -z "$(plugin_pid)"
  # the holding client lives on (its own session) and the lease with it
  kill -0 "$hold"
  plugin_start
  [ -e "$(lease_file "$ip")" ]
  run curl_from peer "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  dk stop -t 0 web
  wait_until 10 not_leased "$mac"
  pid_gone "$hold"
  dk rm -f web
  dk network rm dhcp
  no_plugin_links
  state_empty
}
