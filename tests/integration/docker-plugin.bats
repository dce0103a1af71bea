#!/usr/bin/env bats
# lanjoin docker-plugin (issue 19): the libnetwork remote driver protocol on a unix socket,
# driven directly with curl and by a real dockerd of the lab (engine-helpers.bash), which finds
# the plugin's socket through a private mount namespace (DOCKER_PLUGIN_DIR), never through the
# host's /run/docker/plugins.

load helpers
load engine-helpers
load docker-plugin-helpers
load watch-helpers

setup_file() { plugin_docker_setup_file; }
setup() { no_leftover_networks; }
teardown_file() { plugin_docker_teardown_file; }

NID=1111111111111111111111111111111111111111111111111111111111111111
EID=2222222222222222222222222222222222222222222222222222222222222222

@test "protocol: Activate, capabilities, discovery, unsupported calls" {
  run call Plugin.Activate
  [ "$status" -eq 0 ]
  [ "$(head -n1 <<<"$output" | jq -c .Implements)" = '["NetworkDriver","IpamDriver"]' ]
  run call NetworkDriver.GetCapabilities
  [ "$(head -n1 <<<"$output" | jq -r .Scope)" = local ]
  run call NetworkDriver.DiscoverNew '{"DiscoveryType":1,"DiscoveryData":{}}'
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call NetworkDriver.AllocateNetwork '{}'
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"local-scope driver"* ]]
  run call NetworkDriver.Nonsense '{}'
  [ "$(tail -n1 <<<"$output")" = 404 ]
}

@test "protocol: malformed and hostile requests get an Err and the plugin lives on" {
  run call NetworkDriver.CreateNetwork '{not json'
  [ "$(tail -n1 <<<"$output")" = 400 ]
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "request body is not JSON"* ]]
  run call NetworkDriver.CreateNetwork '[1,2]'
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"not a JSON object"* ]]
  run call NetworkDriver.CreateNetwork '{"NetworkID":"../../etc/passwd"}'
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"not an ID"* ]]
  run call NetworkDriver.CreateNetwork '{"NetworkID":1}'
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"not an ID"* ]]
  run call NetworkDriver.CreateNetwork '{"a":1,"a":2}'
  [ "$(tail -n1 <<<"$output")" = 400 ]
  run call NetworkDriver.Join
  [ "$(tail -n1 <<<"$output")" = 400 ]
  # a body past the limit, deep nesting, a NUL byte
  run bash -c "head -c 200000 /dev/zero | tr '\\0' ' ' | curl -sS --unix-socket '$(SOCK)' -X POST --data-binary @- -w '\\n%{http_code}' http://plugin/NetworkDriver.Join"
  [ "$(tail -n1 <<<"$output")" = 413 ]
  run call NetworkDriver.Join "$(printf '%.0s[' {1..5000})"
  [ "$(tail -n1 <<<"$output")" = 400 ]
  run bash -c "printf '{\"NetworkID\":\"a\\0\"}' | curl -sS --unix-socket '$(SOCK)' -X POST --data-binary @- -w '\\n%{http_code}' http://plugin/NetworkDriver.CreateNetwork"
  [ "$(tail -n1 <<<"$output")" = 400 ]
  run curl -sS --unix-socket "$(SOCK)" -w '\n%{http_code}' http://plugin/Plugin.Activate
  [ "$(tail -n1 <<<"$output")" = 405 ]
  # options: each bad one named, the way the CLI does
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"tunnel\"}}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "unknown mode 'tunnel' (bridge, ovs, macvlan)" ]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\"}}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "mode macvlan needs -o parent=LINK" ]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"nosuch0\"}}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"nosuch0"* ]]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"colour\":\"red\"}}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "unknown option 'colour'"* ]]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"host_shim\":\"nope\"}}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid host_shim 'nope'"* ]]
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"host_shim\":\"fe80::1/64\"}}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid host_shim 'fe80::1/64': a link-local address (fe80::/10)"* ]]
  # the CLI's words for a subnet off the parent's LAN, a shim address in use or the host's own
  gen() { echo "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{$1}},\"IPv4Data\":[{\"Pool\":\"${2:-198.51.100.0/24}\"}]}"; }
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"macvlan","parent":"em1"' 198.18.9.0/24)"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "subnet 198.18.9.0/24 does not match the addresses of 'em1' (198.51.100.76/24): the containers would not be on its LAN" ]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"macvlan","parent":"em1","host_shim":"198.51.100.10/24"')"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "Failed to create host shim 'ljs"*"198.51.100.10 is already in use on the LAN by"* ]]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"macvlan","parent":"em1","host_shim":"198.51.100.76/24"')"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "Host shim address 198.51.100.76 is the host's own address on 'em1'"* ]]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"nat"')"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "mode 'nat' is not served by the Docker plugin yet"* ]]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"bridge","bridge":"br-nope"')"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "bridge 'br-nope' does not exist: create it, or give -o uplink=DEV to adopt DEV into it" ]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"ovs","bridge":"br-x","vlan":"5000"')"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "invalid VLAN tag '5000': expected 1-4094" ]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"bridge","bridge":"br-x","parent":"em1"')"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = "option parent is not for mode=bridge" ]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"macvlan","parent":"em1","bridge":["x"]')"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"not a string"* ]]
  run call NetworkDriver.CreateNetwork "$(gen '"mode":"macvlan","parent":"../../x"')"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid parent name"* ]]
  # hostile endpoint fields: a SandboxKey that is not a path, a MAC and address that are not
  run call NetworkDriver.Join "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"SandboxKey\":\"rel\\n\"}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "SandboxKey is not an absolute path"* ]]
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"MacAddress\":\"zz\"}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid MAC address 'zz'" ]]
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"Address\":\"1.2.3.4/99\"}}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "invalid IPv4 address '1.2.3.4/99'" ]]
  [ -z "$(on host ip -o link show | grep -E ': ljs[0-9a-f]')" ]
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"not a lanjoin network"* ]]
  # still serving, nothing recorded
  run call Plugin.Activate
  [ "$(tail -n1 <<<"$output")" = 200 ]
  state_empty
}

@test "protocol: a macvlan endpoint's link is made at Join and removed with the endpoint; the plugin's log has a line per call" {
  local log0
  log0=$(wc -l <"$LAB_DIR/dplugin/plugin.log")
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NID\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\"}},\"IPv4Data\":[{\"Pool\":\"198.51.100.0/24\",\"Gateway\":\"198.51.100.254/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"Address\":\"198.51.100.140/24\"}}"
  mac=$(head -n1 <<<"$output" | jq -r .Interface.MacAddress)
  [[ $mac =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]]
  defer call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}"
  run call NetworkDriver.Join "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"SandboxKey\":\"/nonexistent\"}"
  echo "$output"
  link=$(head -n1 <<<"$output" | jq -r .InterfaceName.SrcName)
  [ "$(head -n1 <<<"$output" | jq -r .InterfaceName.DstPrefix)" = eth ]
  [ "$(head -n1 <<<"$output" | jq -r .Gateway)" = 198.51.100.254 ]
  run on host ip -j -d link show dev "$link"
  [ "$(jq -r '.[0].linkinfo.info_kind' <<<"$output")" = macvlan ]
  [ "$(jq -r '.[0].address' <<<"$output")" = "$mac" ]
  # an attachment record of lanjoin's: list and status see it
  rec=$(ep_record "$EID")
  [ "$(jq -r .way <<<"$rec")" = macvlan ]
  [ "$(jq -r .status <<<"$rec")" = attached ]
  [ "$(jq -r .ifname <<<"$rec")" = "$link" ]
  [ "$(jq -r .info.docker.network <<<"$rec")" = "$NID" ]
  [ "$(jq -r .target.spec <<<"$rec")" = /nonexistent ]
  [ "$(jq -c .addresses <<<"$rec")" = '["198.51.100.140/24"]' ]
  [ "$(lj status --json | jq -r '.attachments[0].status')" = ok ]
  # gc leaves a live endpoint alone: Docker's sandbox is not lanjoin's to judge
  run lj gc --json
  [ "$(jq ".removed | length" <<<"$output")" -eq 0 ]
  [ -n "$(ep_record "$EID")" ]
  # a restarted plugin answers for it
  plugin_stop KILL
  plugin_start
  run call NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}"
  [ "$(head -n1 <<<"$output" | jq -r .Value.link)" = "$link" ]
  [ "$(head -n1 <<<"$output" | jq -r .Value.status)" = attached ]
  run call NetworkDriver.Leave "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  ! on host ip link show dev "$link" || false
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NID\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  state_empty
  # the plugin's log: a line per call that changes something, IDs shortened, its result
  run call NetworkDriver.Join "{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"SandboxKey\":\"/nonexistent\"}"
  err=$(head -n1 <<<"$output" | jq -r .Err)
  [ -n "$err" ]
  log=$(grep -E '^lanjoin: (CreateNetwork|DeleteNetwork|CreateEndpoint|Join|Leave|DeleteEndpoint) ' \
    <(tail -n +"$((log0 + 1))" "$LAB_DIR/dplugin/plugin.log"))
  echo "$log"
  n=${NID:0:12} e=${EID:0:12}
  [ "$log" = "lanjoin: CreateNetwork network $n: ok
lanjoin: CreateEndpoint network $n endpoint $e: ok
lanjoin: Join network $n endpoint $e: ok (link $link)
lanjoin: Leave network $n endpoint $e: ok
lanjoin: DeleteEndpoint network $n endpoint $e: ok
lanjoin: DeleteNetwork network $n: ok
lanjoin: Join network $n endpoint $e: failed: $err" ]
}

# fault_plugin N: a second plugin on $dir/fault.sock whose plans fail at step N (0: none).
fault_plugin() {
  _engine_spawn "$dir/plugin.log" nsenter "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" "LANJOIN_FAULT_STEP=$1" "$LANJOIN" docker-plugin \
    --socket "$dir/fault.sock" --state-dir "$dir/state"
  FAULT_PID=$!
  disown "$FAULT_PID" 2>/dev/null || true
  defer kill_quietly "$FAULT_PID"
  _engine_wait 10 curl -sf --unix-socket "$dir/fault.sock" -X POST http://plugin/Plugin.Activate
}
fcall() { curl -sS --max-time 10 --unix-socket "$dir/fault.sock" -X POST --data-binary "$2" "http://plugin/$1"; }

@test "protocol: CreateNetwork or Join failing at any step of its plan leaves nothing and says why" {
  local dir=$LAB_DIR/dplugin/fault n id net ep done=0
  mkdir -p "$dir"
  net='"Options":{"com.docker.network.generic":{"mode":"macvlan","parent":"em1","host_shim":"198.51.100.91/24"}},"IPv4Data":[{"Pool":"198.51.100.0/24","Gateway":"198.51.100.254/24"}]'
  ep='"Interface":{"Address":"198.51.100.141/24"}'
  for ((n = 1; n <= 12 && !done; n++)); do # CreateNetwork (the host shim's plan)
    id=$(printf '3%.0s' {1..62})$(printf '%02d' $n)
    fault_plugin $n
    run fcall NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",$net}"
    echo "step $n: CreateNetwork: $output"
    if [[ $output != '{}' ]]; then
      [[ $(jq -r .Err <<<"$output") == *"fault injected"* ]]
    else
      done=1
      run fcall NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
      [ "$output" = '{}' ]
    fi
    no_plugin_links
    kill_quietly "$FAULT_PID"
    [ -z "$(find "$dir/state" -type f)" ]
  done
  ((done && n > 2))
  done=0
  for ((n = 1; n <= 12 && !done; n++)); do # Join (the macvlan and its shim route)
    id=$(printf '4%.0s' {1..62})$(printf '%02d' $n)
    fault_plugin 0
    run fcall NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",$net}"
    [ "$output" = '{}' ]
    run fcall NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",$ep}"
    kill_quietly "$FAULT_PID"
    fault_plugin $n
    run fcall NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"SandboxKey\":\"/x\"}"
    echo "step $n: Join: $output"
    if [[ $(jq -r .Err <<<"$output") != null ]]; then
      [[ $(jq -r .Err <<<"$output") == *"fault injected"* ]]
      no_plugin_links_but_shim
      [ -z "$(on host ip route show 198.51.100.141)" ]
    else
      done=1 # past the last step: the plan ran whole
    fi
    run fcall NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
    [ "$output" = '{}' ]
    run fcall NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
    [ "$output" = '{}' ]
    no_plugin_links
    kill_quietly "$FAULT_PID"
    [ -z "$(find "$dir/state" -type f)" ]
  done
  ((done && n > 2))
  # bridge mode: the veth pair
  on host ip link add br-df type bridge
  defer on host ip link del br-df
  net='"Options":{"com.docker.network.generic":{"mode":"bridge","bridge":"br-df"}}'
  ep='"Interface":{"Address":"198.18.6.20/24"}'
  done=0
  for ((n = 1; n <= 4 && !done; n++)); do
    id=$(printf '6%.0s' {1..62})$(printf '%02d' $n)
    fault_plugin 0
    run fcall NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",$net}"
    [ "$output" = '{}' ]
    run fcall NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",$ep}"
    kill_quietly "$FAULT_PID"
    fault_plugin $n
    run fcall NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"SandboxKey\":\"/x\"}"
    echo "step $n: Join (bridge): $output"
    if [[ $(jq -r .Err <<<"$output") != null ]]; then
      [[ $(jq -r .Err <<<"$output") == *"fault injected"* ]]
      no_plugin_links
      [ "$(lj list --json | jq length)" -eq 0 ]
    else
      done=1
      [ -n "$(on host ip -o link show master br-df)" ]
    fi
    run fcall NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
    [ "$output" = '{}' ]
    run fcall NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
    [ "$output" = '{}' ]
    no_plugin_links
    kill_quietly "$FAULT_PID"
    [ -z "$(find "$dir/state" -type f)" ]
    [ "$(lj list --json | jq length)" -eq 0 ]
  done
  ((done && n > 2))
}

@test "protocol: a Join killed midway is undone from its record; a link with only its name is left alone" {
  local dir=$LAB_DIR/dplugin/crash id pid rec host link
  id=$(printf '5%.0s' {1..64})
  mkdir -p "$dir"
  on host ip link add br-dk type bridge
  defer on host ip link del br-dk
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-dk\"}}}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"Interface\":{\"Address\":\"198.18.6.10/24\"}}"
  defer call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
  # the plugin again on the same state (one plugin per state directory: the first stops),
  # each step 3 s late: killed -9 inside its Join
  plugin_stop TERM
  _engine_spawn "$dir/plugin.log" nsenter "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" LANJOIN_STEP_DELAY_MS=3000 "$LANJOIN" docker-plugin \
    --socket "$dir/slow.sock" --state-dir "$LAB_DIR/dplugin/state"
  pid=$!
  disown "$pid" 2>/dev/null || true
  defer kill_quietly "$pid"
  _engine_wait 10 curl -sf --unix-socket "$dir/slow.sock" -X POST http://plugin/Plugin.Activate
  curl -s --max-time 20 --unix-socket "$dir/slow.sock" -X POST \
    --data-binary "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"SandboxKey\":\"/x\"}" \
    http://plugin/NetworkDriver.Join >/dev/null 2>&1 &
  _engine_wait 10 grep -rlq '"applying"' "$LANJOIN_STATE_DIR/attachments"
  kill -KILL "$pid"
  kill_quietly "$pid"
  # recorded before the first change, and list sees it unfinished
  rec=$(ep_record "$id")
  [ "$(jq -r .status <<<"$rec")" = applying ]
  host=$(jq -r .host_ifname <<<"$rec")
  link=$(jq -r .ifname <<<"$rec")
  # a pair that only bears the names lanjoin gives (not its MAC, no recorded ifindex)
  on host ip link add "$host" type veth peer name "$link"
  defer on host ip link del "$host"
  # the plugin started again undoes the unfinished attachment from its record (as gc would)
  plugin_stop TERM
  plugin_start
  on host ip link show dev "$host" # not lanjoin's: still there
  [ -z "$(ep_record "$id")" ]
  grep -q "undid 1 Join a killed plugin left unfinished" "$LAB_DIR/dplugin/plugin.log"
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  on host ip link show dev "$host"
}

@test "docker: a macvlan network; the LAN peer and the host (shim) reach the container; restart keeps its address and MAC (lanjoin watch running)" {
  require_engine docker
  # a watch beside the plugin leaves its endpoints to Docker (it dropped each one while Docker
  # moved it into the sandbox: no container could start)
  docker_watch
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o host_shim=198.51.100.90/24 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 lan
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm lan
  engine_run docker web --network lan --ip 198.51.100.131
  run curl_from peer http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  # lanjoin's records: the endpoint, attached, and the container's link as status sees it
  ep=$(engine_inspect docker web '.NetworkSettings.Networks.lan.EndpointID')
  rec=$(ep_record "$ep")
  [ "$(jq -r .way <<<"$rec")" = macvlan ]
  [ "$(jq -r .status <<<"$rec")" = attached ]
  [ "$(jq -r .target.spec <<<"$rec")" = "$(engine_inspect docker web .NetworkSettings.SandboxKey)" ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  mac=$(engine_inspect docker web '.NetworkSettings.Networks.lan.MacAddress')
  run dk restart -t 0 web
  [ "$status" -eq 0 ]
  [ "$(engine_inspect docker web '.NetworkSettings.Networks.lan.IPAddress')" = 198.51.100.131 ]
  [ "$(engine_inspect docker web '.NetworkSettings.Networks.lan.MacAddress')" = "$mac" ]
  dk stop -t 0 web
  no_plugin_links_but_shim
  dk start web
  [ "$(engine_inspect docker web '.NetworkSettings.Networks.lan.IPAddress')" = 198.51.100.131 ]
  [ "$(engine_inspect docker web '.NetworkSettings.Networks.lan.MacAddress')" = "$mac" ]
  run curl_from peer http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  dk rm -f web
  dk network rm lan
  no_plugin_links
  [ -z "$(on host ip route show 198.51.100.131)" ]
  state_empty
}

@test "docker: a bridge network on an existing bridge; the plugin killed and restarted keeps answering" {
  require_engine docker
  on host ip link add br-dp type bridge
  defer on host ip link del br-dp
  on host ip addr add 198.18.5.1/24 dev br-dp
  on host ip link set br-dp up
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-dp \
    --subnet 198.18.5.0/24 --gateway 198.18.5.1 brnet
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm brnet
  engine_run docker bweb --network brnet --ip 198.18.5.10
  run curl_from host http://198.18.5.10/hello.html
  [ "$output" = "Hello world" ]
  [ -n "$(on host ip -o link show master br-dp)" ]
  # Docker's endpoint: detach --all leaves it (record, link, address) and says so
  run lj detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"1 endpoint of the Docker plugin left: docker network disconnect removes it"* ]]
  run curl_from host http://198.18.5.10/hello.html
  [ "$output" = "Hello world" ]
  [ "$(lj list --json | jq length)" -eq 1 ]
  plugin_stop KILL
  plugin_start
  dk rm -f bweb
  [ -z "$(on host ip -o link show master br-dp)" ]
  dk network rm brnet
  no_plugin_links
  state_empty
}

@test "docker: a bad option is refused with the plugin's one-line message" {
  require_engine docker
  run dk network create -d lanjoin -o mode=macvlan lan2
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"mode macvlan needs -o parent=LINK"* ]]
  run dk network create -d lanjoin -o mode=macvlan -o parent=nosuch0 lan2
  [ "$status" -ne 0 ]
  [[ $output == *"nosuch0"* ]]
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 --subnet 198.18.9.0/24 lan2
  [ "$status" -ne 0 ]
  [[ $output == *"subnet 198.18.9.0/24 does not match the addresses of 'em1' (198.51.100.76/24)"* ]]
  # a bridge as the parent: the network to create instead, in the plugin's options
  on host ip link add br-mv type bridge
  defer on host ip link del br-mv
  run dk network create -d lanjoin -o mode=macvlan -o parent=br-mv lan2
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"create the network with -o mode=bridge -o bridge=br-mv"* ]]
  [[ $output != *"lanjoin attach"* ]]
}

@test "protocol: conflict_check=true on a bridge network: Join probes from the bridge, fails for an address a namespace on it holds and leaves nothing" {
  local id=$(printf '6%.0s' {1..64}) e1=$(printf 'a%.0s' {1..64}) e2=$(printf 'b%.0s' {1..64}) mac
  add_container ccb >/dev/null
  on host ip link add br-cp type bridge
  defer on host ip link del br-cp
  on host ip addr add 198.18.11.1/24 dev br-cp
  on host ip link set br-cp up
  # a namespace on the bridge holds .5
  on host ip link add vccb type veth peer name eth0 netns "${LAB_PREFIX}ccb"
  on host ip link set vccb master br-cp up
  on ccb ip addr add 198.18.11.5/24 dev eth0
  on ccb ip link set eth0 up
  mac=$(on ccb cat /sys/class/net/eth0/address)
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-cp\",\"conflict_check\":\"true\"}},\"IPv4Data\":[{\"Pool\":\"198.18.11.0/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e1\",\"Interface\":{\"Address\":\"198.18.11.5/24\"}}"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  # the port forwards only after the bridge's forward delay (0 here: at once)
  wait_until 5 test "$(on host cat /sys/class/net/vccb/brport/state)" = 3
  run call NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e1\",\"SandboxKey\":\"/nonexistent\"}"
  echo "$output"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"198.18.11.5 is already in use on the LAN by $mac"* ]]
  [ -z "$(ep_record "$e1")" ]
  no_plugin_links
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e1\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  # a free address: probed, joined
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e2\",\"Interface\":{\"Address\":\"198.18.11.6/24\"}}"
  run call NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e2\",\"SandboxKey\":\"/nonexistent\"}"
  echo "$output"
  [ "$(head -n1 <<<"$output" | jq -r .Err)" = null ]
  [ "$(jq -r .status <<<"$(ep_record "$e2")")" = attached ]
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$e2\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  no_plugin_links
  state_empty
}

@test "docker: conflict_check=true probes the LAN at Join: an address a LAN host holds fails docker run with lanjoin's message; without it the container starts" {
  require_engine docker
  local mac nid
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o conflict_check=maybe lan2
  [ "$status" -ne 0 ]
  [[ $output == *"invalid conflict_check 'maybe': expected true or false"* ]]
  # the LAN peer holds .161 too
  on peer ip addr add 198.51.100.161/24 dev eth0
  defer on peer ip addr del 198.51.100.161/24 dev eth0
  mac=$(on peer cat /sys/class/net/eth0/address)
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o conflict_check=true \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 ccnet
  [ "$status" -eq 0 ]
  defer net_rm ccnet
  defer rm_quietly cc1 cc2 cc3
  run dk run -d --name cc1 --network ccnet --ip 198.51.100.161 "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"198.51.100.161 is already in use on the LAN by $mac"* ]]
  [[ $output == *"ARP probe"* ]]
  [ "$(lj list --json | jq length)" -eq 0 ]
  no_plugin_links
  # a free address: probed and joined
  engine_run docker cc2 --network ccnet --ip 198.51.100.162
  wait_until 20 curl_from peer http://198.51.100.162/hello.html
  run curl_from peer http://198.51.100.162/hello.html
  [ "$output" = "Hello world" ]
  # without the option (Docker's own macvlan driver's way): no probe, the container starts
  rm_quietly cc1 cc2
  dk network rm ccnet >/dev/null
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 ccnet
  [ "$status" -eq 0 ]
  engine_run docker cc1 --network ccnet --ip 198.51.100.161
  [ "$(engine_inspect docker cc1 .State.Running)" = true ]
  rm_quietly cc1
  dk network rm ccnet >/dev/null
  no_plugin_links
  state_empty
}

@test "docker: a bridge network adopts its uplink into the missing bridge and gives it back" {
  require_engine docker
  local before
  before=$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-up -o uplink=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 uplan
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm uplan
  # em1's address is on the bridge now; the adoption is lanjoin's uplink record
  [ "$(on host ip -j addr show dev br-up | jq -r '.[0].addr_info[] | select(.family == "inet") | .local')" = 198.51.100.76 ]
  [ "$(on host ip -j link show dev em1 | jq -r '.[0].master')" = br-up ]
  [ "$(lj uplink list --json | jq -r '.[0].bridge')" = br-up ]
  docker_allow_bridge br-up
  engine_run docker uweb --network uplan --ip 198.51.100.133
  run curl_from peer http://198.51.100.133/hello.html
  [ "$output" = "Hello world" ]
  [ "$(ep_record "$(engine_inspect docker uweb '.NetworkSettings.Networks.uplan.EndpointID')" | jq -r .host_ifname)" != "" ]
  dk rm -f uweb
  dk network rm uplan
  ! on host ip link show dev br-up || false
  [ "$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')" = "$before" ]
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  no_plugin_links
  state_empty
}

@test "protocol: a bridge network whose adopted bridge a CLI attachment still uses: DeleteNetwork forgets the network, leaves the adoption (said); uplink release gives it back later" {
  local id before
  id=$(printf 'b%.0s' {1..64})
  before=$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')
  add_container bcli
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-dn\",\"uplink\":\"em1\"}},\"IPv4Data\":[{\"Pool\":\"198.51.100.0/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer lj uplink release br-dn --force
  [ "$(on host ip -j link show dev em1 | jq -r '.[0].master')" = br-dn ]
  run lj attach bridge "netns:${LAB_PREFIX}bcli" --bridge br-dn --ip 198.51.100.207/24 --no-conflict-check
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}bcli"
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  # the network is forgotten (Docker forgets it whatever the answer), the adoption stays for
  # the attachment, and the plugin's log says so
  [ -z "$(find "$LAB_DIR/dplugin/state/networks" -name "$id*" 2>/dev/null)" ]
  [ "$(on host ip -j link show dev em1 | jq -r '.[0].master')" = br-dn ]
  grep -q "bridge 'br-dn' stays adopted" "$LAB_DIR/dplugin/plugin.log"
  run lj detach "netns:${LAB_PREFIX}bcli"
  [ "$status" -eq 0 ]
  run lj uplink release br-dn
  [ "$status" -eq 0 ]
  ! on host ip link show dev br-dn || false
  [ "$(on host ip -j addr show dev em1 | jq -c '[.[0].addr_info[] | select(.family == "inet") | .local]')" = "$before" ]
  state_empty
}

@test "docker: an ovs network; the host reaches the container through the OVS bridge" {
  require_engine docker
  command -v ovs-vsctl >/dev/null || skip "Open vSwitch is not installed"
  "$LAB" ovs start >/dev/null
  defer "$LAB" ovs stop
  eval "$("$LAB" ovs env)"
  ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 add-br br-ov -- set bridge br-ov datapath_type=netdev
  defer ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 --if-exists del-br br-ov
  on host ip addr add 198.18.7.1/24 dev br-ov
  on host ip link set br-ov up
  run dk network create -d lanjoin -o mode=ovs -o bridge=br-nope -o "ovsdb=$LAB_OVSDB" ovsbad
  [ "$status" -ne 0 ]
  [[ $output == *"OVS bridge 'br-nope' does not exist"* ]]
  run dk network create -d lanjoin -o mode=ovs -o bridge=br-ov -o "ovsdb=$LAB_OVSDB" \
    --subnet 198.18.7.0/24 --gateway 198.18.7.1 ovsnet
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm ovsnet
  engine_run docker oweb --network ovsnet --ip 198.18.7.10
  run curl_from host http://198.18.7.10/hello.html
  [ "$output" = "Hello world" ]
  host=$(ep_record "$(engine_inspect docker oweb '.NetworkSettings.Networks.ovsnet.EndpointID')" | jq -r .host_ifname)
  [ "$(ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 port-to-br "$host")" = br-ov ]
  [ "$(lj status --json | jq -r .ok)" = true ]
  dk rm -f oweb
  dk network rm ovsnet
  [ -z "$(ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 list-ports br-ov)" ]
  no_plugin_links
  state_empty
}

# A stand-in on the plugin's socket while the plugin is down, with a state of its own: it
# answers Docker at once (Leave: an Err, DeleteEndpoint: nothing to do), so that Docker drops
# the endpoint without the plugin as it does after retrying a dead socket (~46 s), but cheaply.
standin_start() {
  local dir=$LAB_DIR/dplugin/standin
  mkdir -p "$dir/lj"
  _engine_spawn "$dir/plugin.log" nsenter "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$dir/lj" "$LANJOIN" docker-plugin \
    --socket "$(SOCK)" --state-dir "$dir/state"
  STANDIN_PID=$!
  disown "$STANDIN_PID" 2>/dev/null || true
  defer kill_quietly "$STANDIN_PID"
  _engine_wait 10 curl -sf --unix-socket "$(SOCK)" -X POST http://plugin/Plugin.Activate
}
standin_stop() { kill_quietly "$STANDIN_PID"; rm -rf "$LAB_DIR/dplugin/standin"; }

@test "docker: a plugin killed while its container is removed: status says target-gone, the restarted plugin undoes the record" {
  require_engine docker
  local ep rec link host st
  on host ip link add br-pk type bridge
  defer on host ip link del br-pk
  on host ip addr add 198.18.7.1/24 dev br-pk
  on host ip link set br-pk up
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-pk \
    --subnet 198.18.7.0/24 --gateway 198.18.7.1 pknet
  [ "$status" -eq 0 ]
  defer net_rm pknet
  engine_run docker pk2 --network pknet --ip 198.18.7.34
  ep=$(engine_inspect docker pk2 '.NetworkSettings.Networks.pknet.EndpointID')
  rec=$(ep_record "$ep")
  link=$(jq -r .ifname <<<"$rec")
  host=$(jq -r .host_ifname <<<"$rec")
  [ "$(status_of "$link" | jq -r .status)" = ok ]
  plugin_stop KILL
  standin_start
  dk rm -f pk2
  standin_stop
  # the container end came back beside the host end; the record stays, seen as gone
  on host ip link show dev "$link"
  on host ip link show dev "$host"
  [ -n "$(ep_record "$ep")" ]
  st=$(status_of "$link")
  echo "$st"
  [ "$(jq -r .status <<<"$st")" = target-gone ]
  [[ $(jq -r .what <<<"$st") == *"container end"*"back in lanjoin's namespace"* ]]
  [ "$(lj status --json | jq -r .ok)" = false ]
  plugin_start
  [ -z "$(ep_record "$ep")" ]
  no_plugin_links
  grep -q "undid 1 Join a killed plugin left unfinished or whose endpoint Docker dropped" \
    "$LAB_DIR/dplugin/plugin.log"
  dk network rm pknet
  state_empty
}

@test "docker: lanjoin gc undoes an endpoint Docker dropped while the plugin was down, not a live one" {
  require_engine docker
  local ep live rec link host
  on host ip link add br-pg type bridge
  defer on host ip link del br-pg
  on host ip addr add 198.18.8.1/24 dev br-pg
  on host ip link set br-pg up
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-pg \
    --subnet 198.18.8.0/24 --gateway 198.18.8.1 pgnet
  [ "$status" -eq 0 ]
  defer net_rm pgnet
  engine_run docker pg3 --network pgnet --ip 198.18.8.33
  engine_run docker pg4 --network pgnet --ip 198.18.8.34
  live=$(engine_inspect docker pg3 '.NetworkSettings.Networks.pgnet.EndpointID')
  ep=$(engine_inspect docker pg4 '.NetworkSettings.Networks.pgnet.EndpointID')
  rec=$(ep_record "$ep")
  link=$(jq -r .ifname <<<"$rec")
  host=$(jq -r .host_ifname <<<"$rec")
  plugin_stop KILL
  standin_start
  dk rm -f pg4
  standin_stop
  [ "$(status_of "$link" | jq -r .status)" = target-gone ]
  [ "$(status_of "$(jq -r .ifname <<<"$(ep_record "$live")")" | jq -r .status)" = ok ]
  run lj gc --json
  echo "$output"
  [ "$(jq ".removed | length" <<<"$output")" -eq 1 ]
  [ -z "$(ep_record "$ep")" ]
  ! on host ip link show dev "$link" || false
  ! on host ip link show dev "$host" || false
  # the live endpoint: untouched
  [ -n "$(ep_record "$live")" ]
  run curl_from host http://198.18.8.33/hello.html
  [ "$output" = "Hello world" ]
  plugin_start
  dk rm -f pg3
  dk network rm pgnet
  no_plugin_links
  state_empty
}

@test "protocol: status and DeleteNetwork judge a joined endpoint by its record: its sandbox gone, the container end back" {
  local id=$(printf '7%.0s' {1..64}) sbx=$LAB_DIR/dplugin/sbx rec link host st
  mkdir -p "$sbx"
  : >"$sbx/key"
  on host ip link add br-dn type bridge
  defer on host ip link del br-dn
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-dn\"}}}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"Interface\":{\"Address\":\"198.18.6.30/24\"}}"
  run call NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"SandboxKey\":\"$sbx/key\"}"
  link=$(head -n1 <<<"$output" | jq -r .InterfaceName.SrcName)
  host=$(jq -r .host_ifname <<<"$(ep_record "$id")")
  # just joined, the container end not moved yet, its sandbox there: ok, and gc leaves it
  [ "$(status_of "$link" | jq -r .status)" = ok ]
  run lj gc --json
  [ "$(jq ".removed | length" <<<"$output")" -eq 0 ]
  # its sandbox file missing, the container end never up: Docker (runc and its setkey hook)
  # makes the file after the Join and only then moves the link: a new container, not a gone one
  rm "$sbx/key"
  [ "$(status_of "$link" | jq -r .status)" = ok ]
  # the sandbox gone (Docker dropped the endpoint) with the container end beside the host end,
  # after Docker had it up in the sandbox (the host end had carrier)
  on host ip link set dev "$link" up
  st=$(status_of "$link")
  echo "$st"
  [ "$(jq -r .status <<<"$st")" = target-gone ]
  [[ $(jq -r .what <<<"$st") == *"its sandbox is gone"* ]]
  # a link that only bears the names is not the record's: renamed away, a stranger takes them
  on host ip link set dev "$host" name ljxkeep0
  on host ip link set dev "$link" name ljxkeep1
  on host ip link add "$host" type veth peer name "$link"
  defer on host ip link del "$host"
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  [ -z "$(ep_record "$id")" ]
  on host ip link show dev "$host" # the stranger stays
  on host ip link del ljxkeep0
  rm -rf "$sbx"
  state_empty
}

@test "protocol: detach --all, detach and gc leave a joined endpoint to Docker: its record, its link in the container, its address" {
  local id=$(printf '8%.0s' {1..64}) link rec
  add_container dpw >/dev/null
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\"}},\"IPv4Data\":[{\"Pool\":\"198.51.100.0/24\",\"Gateway\":\"198.51.100.254/24\"}]}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"Interface\":{\"Address\":\"198.51.100.141/24\"}}"
  defer call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
  run call NetworkDriver.Join "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\",\"SandboxKey\":\"/run/netns/${LAB_PREFIX}dpw\"}"
  link=$(head -n1 <<<"$output" | jq -r .InterfaceName.SrcName)
  # what Docker does after Join: the link into the sandbox, renamed, its address, up
  on host ip link set dev "$link" netns "${LAB_PREFIX}dpw"
  on dpw ip link set dev "$link" name eth0
  on dpw ip addr add 198.51.100.141/24 dev eth0
  on dpw ip link set eth0 up
  ping_from peer 198.51.100.141

  run lj detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached 0 attachments"* ]]
  [[ $output == *"1 endpoint of the Docker plugin left: docker network disconnect removes it"* ]]
  rec=$(ep_record "$id")
  [ "$(jq -r .status <<<"$rec")" = attached ]
  on dpw ip link show dev eth0
  ping_from peer 198.51.100.141
  # by its sandbox, or lanjoin's own namespace (where its record says it was made): refused
  run lj detach "/run/netns/${LAB_PREFIX}dpw"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Docker plugin"*"docker network disconnect"* ]]
  run lj detach /proc/self/ns/net
  echo "$output"
  [ "$status" -eq 2 ]
  [ -n "$(ep_record "$id")" ]
  run lj gc --json
  [ "$(jq ".removed | length" <<<"$output")" -eq 0 ]
  [ -n "$(ep_record "$id")" ]
  ping_from peer 198.51.100.141
  run lj status --json
  [ "$(jq -r '.attachments[0].status' <<<"$output")" = ok ]

  # Docker's Leave moves the link back; DeleteEndpoint then removes it and the record
  on dpw ip link set dev eth0 down
  on dpw ip link set dev eth0 name "$link"
  on dpw ip link set dev "$link" netns "${LAB_PREFIX}host"
  run call NetworkDriver.Leave "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
  run call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  ! on host ip link show dev "$link" || false
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  state_empty
}

@test "protocol: a network's host_shim that a CLI attachment made goes with the last of them, whichever goes first (not kept for good)" {
  local id shim
  id=$(printf '9%.0s' {1..64})
  add_container shc
  shimnet() { echo "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"host_shim\":\"198.51.100.95/24\"}}}"; }
  shim=$(on host ip -j link show | jq -r '[.[] | select(.ifname | startswith("ljs"))][0].ifname // empty')
  [ -z "$shim" ]
  # the CLI attachment first makes the shim ("removed when unused")
  run lj attach macvlan "netns:${LAB_PREFIX}shc" --parent em1 --ip 198.51.100.206/24 \
    --host-shim 198.51.100.95/24 --no-conflict-check
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}shc"
  shim=$(lj list --json | jq -r '.[0].info.host_shim')
  [ "$(on host ip -j link show dev "$shim" | jq -r '.[0].ifalias')" = "lanjoin: created, removed when unused" ]
  # the network with the same shim, then removed: the shim stays for the attachment, unpinned
  run call NetworkDriver.CreateNetwork "$(shimnet)"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  [ "$(on host ip -j link show dev "$shim" | jq -r '.[0].ifalias')" = "lanjoin: created, removed when unused" ]
  on host ip route show dev "$shim" | grep -q '^198\.51\.100\.206 '
  # the attachment goes last: the shim with it
  run lj detach "netns:${LAB_PREFIX}shc"
  [ "$status" -eq 0 ]
  ! on host ip link show dev "$shim" || false
  # the other order: the attachment goes first, the network's removal takes the shim
  run lj attach macvlan "netns:${LAB_PREFIX}shc" --parent em1 --ip 198.51.100.206/24 \
    --host-shim 198.51.100.95/24 --no-conflict-check
  [ "$status" -eq 0 ]
  run call NetworkDriver.CreateNetwork "$(shimnet)"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  run lj detach "netns:${LAB_PREFIX}shc"
  [ "$status" -eq 0 ]
  on host ip link show dev "$shim" >/dev/null # the network's now
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  ! on host ip link show dev "$shim" || false
  state_empty
}

@test "protocol: the host shim a network made is the network's: shim del refuses it, shim add keeps it after the network" {
  local id shim
  id=$(printf '6%.0s' {1..64})
  shimnet() { echo "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\",\"host_shim\":\"198.51.100.96/24\"}}}"; }
  run call NetworkDriver.CreateNetwork "$(shimnet)"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  shim=$(on host ip -j link show | jq -r '[.[] | select(.ifname | startswith("ljs"))][0].ifname // empty')
  [ -n "$shim" ]
  run lj shim del em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"belongs to a Docker network"*"docker network rm"* ]]
  on host ip -4 addr show dev "$shim" | grep -q 198.51.100.96/32
  # removed with the network
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  ! on host ip link show dev "$shim" || false
  # pinned by shim add while the network stands: kept after it, until shim del
  run call NetworkDriver.CreateNetwork "$(shimnet)"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  run lj shim add em1 --ip 198.51.100.96/24
  echo "$output"
  [ "$status" -eq 0 ]
  run call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  on host ip link show dev "$shim" >/dev/null
  run lj shim del em1
  [ "$status" -eq 0 ]
  ! on host ip link show dev "$shim" || false
  state_empty
}

@test "protocol and docker: an address the host or another lanjoin attachment holds is refused (CreateEndpoint, Join; macvlan and bridge)" {
  local id eid
  id=$(printf '7%.0s' {1..64})
  eid=$(printf '8%.0s' {1..64})
  add_container other
  # another attachment of the LAN: the routed way on em1 (.203)
  run lj attach routed "netns:${LAB_PREFIX}other" --parent em1 --ip 198.51.100.203/24
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}other"
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$id\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"macvlan\",\"parent\":\"em1\"}}}"
  [ "$(head -n1 <<<"$output")" = '{}' ]
  defer call NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$id\"}"
  # the host's own address (em1 .76): CreateEndpoint refuses it, records nothing
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$eid\",\"Interface\":{\"Address\":\"198.51.100.76/24\"}}"
  echo "$output"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"198.51.100.76 is the host's own address on 'em1'"* ]]
  [ -z "$(find "$LAB_DIR/dplugin/state/endpoints" -name "$eid*" 2>/dev/null)" ]
  # the routed attachment's
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$eid\",\"Interface\":{\"Address\":\"198.51.100.203/24\"}}"
  echo "$output"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == *"198.51.100.203 is the address of netns:${LAB_PREFIX}other ('eth1'), attached the routed way on 'em1'"* ]]
  # a free one goes (Join checks again, under the state lock)
  run call NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$eid\",\"Interface\":{\"Address\":\"198.51.100.204/24\"}}"
  [ "$(jq -r .Err <<<"$(head -n1 <<<"$output")")" = null ]
  defer call NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$id\",\"EndpointID\":\"$eid\"}"
  run lj attach macvlan "netns:${LAB_PREFIX}other" --ifname eth2 --parent em1 --ip 198.51.100.205/24 --no-conflict-check
  [ "$status" -eq 0 ]
  run lj attach macvlan "netns:${LAB_PREFIX}other" --ifname eth3 --parent em1 --ip 198.51.100.205/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.205 is the address of netns:${LAB_PREFIX}other ('eth2')"* ]]

  require_engine docker
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 lanx
  [ "$status" -eq 0 ]
  defer net_rm lanx
  for ip in 198.51.100.76 198.51.100.203 198.51.100.205; do
    run dk run -d --name "bad${ip##*.}" --network lanx --ip "$ip" "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www
    echo "$output"
    [ "$status" -ne 0 ]
    [[ $output == *"$ip is the "* ]]
    dk rm -f "bad${ip##*.}" >/dev/null 2>&1 || true
  done
  dk network rm lanx
  # a bridge network: the bridge's own address
  on host ip link add br-dq type bridge
  defer on host ip link del br-dq
  on host ip addr add 198.18.7.1/24 dev br-dq
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-dq \
    --subnet 198.18.7.0/24 --gateway 198.18.7.254 lany
  [ "$status" -eq 0 ]
  defer net_rm lany
  run dk run -d --name bad1 --network lany --ip 198.18.7.1 "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"198.18.7.1 is the host's own address on 'br-dq'"* ]]
  dk rm -f bad1 >/dev/null 2>&1 || true
  [ -z "$(lj list --json | jq -r '.[] | select(.info.docker) | .id')" ]
}

# lanjoin with the lab's dockerd as its engine (status, detach by a container's name)
ljd() { DOCKER_HOST=unix://$(engine_sock docker) lj "$@"; }

@test "docker: status, list, ip and detach (also --ifname) by the container's name find its plugin endpoints (macvlan, bridge); IFNAME is the name Docker gave it in the container" {
  require_engine docker
  local ep link pid
  on host ip link add br-du type bridge
  defer on host ip link del br-du
  on host ip addr add 198.18.6.1/24 dev br-du
  on host ip link set br-du up
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 -o host_shim=198.51.100.91/24 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 lanu
  [ "$status" -eq 0 ]
  defer net_rm lanu
  run dk network create -d lanjoin -o mode=bridge -o bridge=br-du \
    --subnet 198.18.6.0/24 --gateway 198.18.6.1 bru
  [ "$status" -eq 0 ]
  defer net_rm bru
  engine_run docker webu --network lanu --ip 198.51.100.135
  ep=$(engine_inspect docker webu '.NetworkSettings.Networks.lanu.EndpointID')
  link=$(jq -r .ifname <<<"$(ep_record "$ep")")
  [[ $link == ljd* ]]
  # by its name: the endpoint, named as in the container (eth0), ok
  run ljd status webu
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *" eth0 "*"macvlan"*" ok "* ]]
  [[ $output != *"$link"* ]]
  run ljd status webu --json
  [ "$(jq -r '.attachments | length' <<<"$output")" -eq 1 ]
  [ "$(jq -r '.attachments[0].container_ifname' <<<"$output")" = eth0 ]
  [ "$(jq -r '.attachments[0].ifname' <<<"$output")" = "$link" ]
  # by its ID and by its PID too; another container's name finds none
  run ljd status "$CONTAINER_ID"
  [ "$status" -eq 0 ]
  [[ $output == *" eth0 "* ]]
  pid=$(engine_inspect docker webu .State.Pid)
  run ljd status "pid:$pid"
  [ "$status" -eq 0 ]
  [[ $output == *" eth0 "* ]]
  run ljd status nosuchu
  [ "$status" -eq 1 ]
  [[ $output == *"no attachment of nosuchu"* ]]
  # list: the name in the container; --json keeps the link's own name as ifname
  run lj list
  echo "$output"
  [[ $output == *" eth0 "*"macvlan"* ]]
  [ "$(lj list --json | jq -r --arg e "$ep" '.[] | select(.info.docker.endpoint == $e) | .container_ifname')" = eth0 ]
  # with the engine: the container's name as TARGET (list and status), the network's host
  # shim as the host side
  run ljd list
  echo "$output"
  [[ $output == *$'\n'"webu "*" eth0 "*" macvlan "*" ljs"*" em1 "*"198.51.100.135/24"* ]]
  [ "$(ljd list --json | jq -r --arg e "$ep" '.[] | select(.info.docker.endpoint == $e) | .container')" = webu ]
  run ljd status webu
  echo "$output"
  [[ ${lines[1]} == "webu "*" eth0 "*" ok "* ]]
  [ "$(ljd status --json | jq -r '.attachments[0].container')" = webu ]
  # ip: the endpoint's address, lanjoin's, named as in the container
  run ljd ip webu
  echo "$output"
  [[ $output == *"198.51.100.135/24 eth0 (lanjoin macvlan em1, Docker network 'lanu')"* ]]
  # once: not also bare, as the engine's address on that network
  [ "$(grep -c '198\.51\.100\.135' <<<"$output")" -eq 1 ]
  # detach --ifname eth0, the endpoint's name in the container: refused as Docker's
  run ljd detach webu --ifname eth0
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"webu's eth0 is on Docker network 'lanu' through the lanjoin Docker plugin"*"(run: docker network disconnect lanu webu; or remove the container)"* ]]
  [ -n "$(ep_record "$ep")" ]
  # a second network, bridge mode (a veth): eth1 in the container, found by the name too
  run dk network connect --ip 198.18.6.10 bru webu
  [ "$status" -eq 0 ]
  run ljd status webu
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *" eth0 "*"macvlan"*" ok "* ]]
  [[ $output == *" eth1 "*"bridge"*" ok "* ]]
  nsenter --net=/proc/$pid/ns/net ip -o link show eth1
  # detach by the name: Docker's endpoints, refused (exit 2) naming the networks and what to
  # run; nothing changed
  run ljd detach webu
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"webu is on Docker networks "*"'lanu'"*"'bru'"*"docker network disconnect NETWORK webu"* ]]
  [[ $output != *"not attached"* ]]
  run dk network disconnect bru webu
  [ "$status" -eq 0 ]
  run ljd detach webu
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"webu is on Docker network 'lanu' through the lanjoin Docker plugin"*"(run: docker network disconnect lanu webu; or remove the container)"* ]]
  [ -n "$(ep_record "$ep")" ]
  run curl_from peer http://198.51.100.135/hello.html
  [ "$output" = "Hello world" ]
  # an attachment of lanjoin's beside it: detach by the name detaches that, leaves the endpoint
  run ljd attach bridge webu --bridge br-du --ifname eth5 --ip 198.18.6.20/24 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  run ljd detach webu
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached webu (eth5)"* ]]
  [[ $output == *"1 endpoint of the Docker plugin left (Docker network 'lanu')"* ]]
  [ -n "$(ep_record "$ep")" ]
  dk rm -f webu
  dk network rm lanu bru
  no_plugin_links
  state_empty
}

@test "docker: attach asking for a live plugin endpoint's address is refused (exit 2, naming the endpoint and network) and leaves its record; also for a container on Docker's default bridge too" {
  require_engine docker
  local nid ep ip n
  add_container othera
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 lana
  [ "$status" -eq 0 ]
  defer net_rm lana
  nid=$(dk network inspect -f '{{.Id}}' lana)
  engine_run docker weba --network lana --ip 198.51.100.136
  # on Docker's default bridge first, then connected to the lanjoin network
  engine_run docker webb
  run dk network connect --ip 198.51.100.137 lana webb
  [ "$status" -eq 0 ]
  for n in a b; do
    ip=198.51.100.13$([[ $n == a ]] && echo 6 || echo 7)
    ep=$(engine_inspect docker "web$n" '.NetworkSettings.Networks.lana.EndpointID')
    [ "$(jq -r .status <<<"$(ep_record "$ep")")" = attached ]
    for way in macvlan routed; do
      run lj attach "$way" "netns:${LAB_PREFIX}othera" --parent em1 --ip "$ip/24"
      echo "$output"
      [ "$status" -eq 2 ]
      [[ $output == *"$ip is the address of Docker endpoint ${ep:0:12} on network ${nid:0:12}"* ]]
      [[ $output != *"Removed attachment"* ]]
      [ "$(jq -r .status <<<"$(ep_record "$ep")")" = attached ]
    done
    run curl_from peer "http://$ip/hello.html"
    [ "$output" = "Hello world" ]
    run ljd status "web$n"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *" ok "* ]]
  done
  [ "$(lj list --json | jq length)" -eq 2 ]
  [ -z "$(on othera ip -o addr show | grep 198.51.100.13)" ]
  dk rm -f weba webb
  dk network rm lana
  no_plugin_links
  state_empty
}
