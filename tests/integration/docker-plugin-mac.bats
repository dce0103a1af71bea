#!/usr/bin/env bats
# The Docker plugin's MAC of an endpoint Docker gives none: derived from the address and the
# LAN's link (the parent, or the bridge), not from the network's ID, so that a network created
# again (`docker compose down; up -d`) gives the same --ip the same MAC and the LAN's ARP
# caches stay right; and a macvlan passthru network on the host's uplink needs force=true.

load helpers
load engine-helpers
load docker-plugin-helpers

setup_file() { plugin_docker_setup_file; }
setup() { no_leftover_networks; }
teardown_file() { plugin_docker_teardown_file; }

NID=3333333333333333333333333333333333333333333333333333333333333333
NID2=4444444444444444444444444444444444444444444444444444444444444444
EID=5555555555555555555555555555555555555555555555555555555555555555

# create_ep NID EID ADDR: CreateEndpoint with no MAC; prints the MAC the plugin chose
create_ep() {
  call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\",\"Interface\":{\"Address\":\"$3\"}}" |
    head -n1 | jq -r .Interface.MacAddress
}

@test "protocol: the same address gets the same MAC on a network created again, another on another LAN" {
  local net='"Options":{"com.docker.network.generic":{"mode":"macvlan","parent":"em1"}},"IPv4Data":[{"Pool":"198.51.100.0/24"}]'
  call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",$net}" >/dev/null
  local m1 m2 m3
  m1=$(create_ep "$NID" "$EID" 198.51.100.121/24)
  [[ $m1 =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]]
  # locally administered, unicast
  (( (0x${m1:0:2} & 3) == 2 ))
  call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}" >/dev/null
  call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID\"}" >/dev/null
  call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID2\",$net}" >/dev/null
  m2=$(create_ep "$NID2" "$EID" 198.51.100.121/24)
  call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NID2\",\"EndpointID\":\"$EID\"}" >/dev/null
  call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID2\"}" >/dev/null
  echo "$m1 $m2"
  [ "$m1" = "$m2" ]
  # the same address on another LAN (another parent) is another host: another MAC
  on host ip link add ljmv0 type veth peer name ljmv1
  defer on host ip link del ljmv0
  call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"ljmv0\"}}}" >/dev/null
  m3=$(create_ep "$NID" "$EID" 198.51.100.121/24)
  call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}" >/dev/null
  call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID\"}" >/dev/null
  echo "$m3"
  [ "$m3" != "$m1" ]
}

@test "protocol: macvlan_mode=passthru on the host's uplink is refused unless force=true" {
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"macvlan_mode\":\"passthru\"}}}"
  echo "$output"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"carries the host's address"*"force=true"* ]]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"macvlan_mode\":\"passthru\",\"force\":\"yes\"}}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid force 'yes'"* ]]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"macvlan_mode\":\"passthru\",\"force\":\"true\"}}}"
  echo "$output"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID\"}" >/dev/null
}

@test "docker: compose down; up -d (the network re-created) keeps the container's MAC" {
  require_engine docker
  local mac mac2
  dk network create -d lanjoin -o mode=macvlan -o parent=em1 --subnet 198.51.100.0/24 \
    --gateway 198.51.100.254 lan >/dev/null
  defer net_rm lan
  engine_run docker web --network lan --ip 198.51.100.132
  mac=$(engine_inspect docker web '.NetworkSettings.Networks.lan.MacAddress')
  dk rm -f web >/dev/null
  dk network rm lan >/dev/null
  dk network create -d lanjoin -o mode=macvlan -o parent=em1 --subnet 198.51.100.0/24 \
    --gateway 198.51.100.254 lan >/dev/null
  engine_run docker web --network lan --ip 198.51.100.132
  mac2=$(engine_inspect docker web '.NetworkSettings.Networks.lan.MacAddress')
  echo "$mac $mac2"
  [ -n "$mac" ] && [ "$mac" = "$mac2" ]
  run curl_from peer http://198.51.100.132/hello.html
  [ "$output" = "Hello world" ]
  dk rm -f web >/dev/null
  dk network rm lan >/dev/null
  no_plugin_links
  state_empty
}
