#!/usr/bin/env bats
# Containers on their engine's DEFAULT network (issue 15, section 2): Docker's docker0
# (198.18.0.1/24) and Podman's default network (198.18.2.0/24, engine-helpers.bash), each container with a published port
# (`-p 8080:80`, which the engine DNATs to the container's engine-side address). lanjoin must
# leave that network working: the published port answers the LAN peer and the outside host
# before, during and after an attach (with and without --gateway, static and DHCP) and after
# detach; --gateway replaces the engine's default route and detach puts it back exactly; the
# container's routes and rules are as before.

load helpers
load engine-helpers

setup_file() {
  lab_setup_file --bridge-host
  docker_start || true
  podman_start || true
  # Docker's FORWARD policy DROP (same namespace) would drop what Podman's port mapping DNATs
  # to its default network: Podman's CNI firewall rules accept only replies. Not lanjoin's
  # concern; gone with the lab.
  on host iptables -I FORWARD -d 198.18.2.0/24 -j ACCEPT
}

teardown_file() {
  podman_stop || true
  docker_stop || true
  lab_teardown_file
}

lje() { # ENGINE ARGS...
  local e=$1
  shift
  lj "$@" --engine-socket "$(engine_sock "$e")"
}

no_records() { [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]; }

# The container's routes (all tables, both families), rules and addresses, sorted (jq), in the
# namespace of PID.
csnap() { # PID
  local -a n=(nsenter "--net=/proc/$1/ns/net")
  {
    "${n[@]}" ip -j -4 route show table all | jq -S 'map(del(.expires)) | sort_by(tostring)'
    "${n[@]}" ip -j -6 route show table all | jq -S 'map(del(.expires)) | sort_by(tostring)'
    "${n[@]}" ip -j -4 rule
    "${n[@]}" ip -j -6 rule
    "${n[@]}" ip -j addr | jq -S 'map(del(.stats, .stats64) | .addr_info |= map(del(.valid_life_time, .preferred_life_time)))'
  }
}

# The host's published port, from the LAN peer and from the outside host.
PUB_URL=http://198.51.100.76:8080/hello.html
published_ok() {
  [ "$(curl_from peer "$PUB_URL")" = "Hello world" ] &&
    [ "$(curl_from out "$PUB_URL")" = "Hello world" ]
}

# One run: ENGINE NAME OCTET MODE (gateway | nogateway | dhcp CLIENT | dhcp-nodefault CLIENT)
defaultnet_run() {
  local e=$1 name=$2 octet=$3 mode=$4 client=${5:-} pid before def
  require_engine "$e"
  engine_run "$e" "$name" -p 8080:80
  pid=$(engine_inspect "$e" "$name" .State.Pid)
  # the container is on the engine's default network, with its default route
  def=$(nsenter --net="/proc/$pid/ns/net" ip -j -4 route show default | jq -r '.[0].dev')
  [ "$def" = eth0 ]
  published_ok
  csnap "$pid" >"$BATS_TEST_TMPDIR/c.before"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"

  # Frames bridged through br-em1 must not pass the host's iptables/conntrack (Docker turns
  # br_netfilter on): it would un-DNAT a reply that wrongly left by lan0 on its way to the peer
  # and hide the very fault this checks (as a LAN switch elsewhere would not).
  on host sysctl -qw net.bridge.bridge-nf-call-iptables=0
  defer on host sysctl -qw net.bridge.bridge-nf-call-iptables=1
  local -a args=(--bridge br-em1)
  case $mode in
  gateway) args+=(--ip "198.51.100.$octet/24" --gateway 198.51.100.254) ;;
  nogateway) args+=(--ip "198.51.100.$octet/24") ;;
  dhcp) args+=(--dhcp --dhcp-client "$client") ;;
  dhcp-nodefault) args+=(--dhcp --dhcp-client "$client" --no-default-route) ;;
  esac
  run lje "$e" attach bridge "$name" "${args[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  defer lje "$e" detach "$name"
  local lanip
  lanip=$(nsenter --net="/proc/$pid/ns/net" ip -j -4 addr show dev lan0 | jq -r '.[0].addr_info[0].local')
  [[ $lanip == 198.51.100.* ]]

  # during: the published port still answers both, the container answers on its LAN address
  published_ok
  [ "$(curl_from peer "http://$lanip/hello.html")" = "Hello world" ]
  local via
  via=$(nsenter --net="/proc/$pid/ns/net" ip -j -4 route show default | jq -r '.[] | "\(.gateway) \(.dev)"')
  case $mode in
  gateway | dhcp)
    # the LAN's gateway replaced the engine's route, and the output said so
    [ "$via" = "198.51.100.254 lan0" ]
    [[ $output == *"the default route via 198.18."[02]".1 dev eth0; detach puts it back"* ]]
    # the container leaves through the LAN with its LAN address
    [ "$(engine_cli "$e" exec "$name" /bin/busybox wget -qO- http://203.0.113.1/cgi-bin/ip)" = "$lanip" ]
    # and the outside reaches its LAN address
    [ "$(curl_from out "http://$lanip/hello.html")" = "Hello world" ]
    ;;
  *)
    # the engine's default route is untouched
    [[ $via == *" eth0" ]]
    [[ $output != *"default route"* ]]
    ;;
  esac

  run lje "$e" detach "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  no_records
  # after: the container's routes, rules and addresses exactly as before, the port answers
  diff -u "$BATS_TEST_TMPDIR/c.before" <(csnap "$pid")
  published_ok
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "docker: --gateway on a default-network container replaces the engine's default route, detach restores it, the published port answers throughout" {
  defaultnet_run docker lj-dn-gw 141 gateway
}

@test "podman: --gateway on a default-network container replaces the engine's default route, detach restores it, the published port answers throughout" {
  defaultnet_run podman lj-pn-gw 142 gateway
}

@test "docker: without --gateway, the published port keeps answering the LAN peer (replies leave by the engine's interface)" {
  defaultnet_run docker lj-dn-nogw 143 nogateway
}

@test "podman: without --gateway, the published port keeps answering the LAN peer" {
  defaultnet_run podman lj-pn-nogw 144 nogateway
}

@test "docker: --dhcp (udhcpc) replaces the default route and detach puts the engine's back" {
  defaultnet_run docker lj-dn-udhcpc 0 dhcp udhcpc
}

@test "docker: --dhcp (dhclient) replaces the default route and detach puts the engine's back" {
  command -v dhclient >/dev/null || skip "dhclient is not installed"
  defaultnet_run docker lj-dn-dhclient 0 dhcp dhclient
}

@test "docker: --dhcp (dhcpcd) replaces the default route and detach puts the engine's back" {
  command -v dhcpcd >/dev/null || skip "dhcpcd is not installed"
  defaultnet_run docker lj-dn-dhcpcd 0 dhcp dhcpcd
}

@test "podman: --dhcp (udhcpc) replaces the default route and detach puts the engine's back" {
  defaultnet_run podman lj-pn-udhcpc 0 dhcp udhcpc
}

@test "docker: --dhcp --no-default-route keeps the engine's default route (each client)" {
  local c
  for c in udhcpc dhclient dhcpcd; do
    command -v "$c" >/dev/null || [[ $c == udhcpc ]] || continue
    defaultnet_run docker "lj-dn-nd-$c" 0 dhcp-nodefault "$c"
    lab_teardown
  done
}

# Without --ifname, lanjoin's interface in an engine container is lan0, a name the engine never
# picks: it names the interface of each network it connects eth0, eth1, ... (lanjoin's default
# was eth1, and 'docker network connect' after an attach failed: "file exists").
connect_after_attach() { # ENGINE
  local e=$1 name=cn-$1 net=ljsecond pid ip2
  require_engine "$e"
  # the network is removed after the container (cleanups run last first)
  if [[ $e == docker ]]; then
    dk network create --subnet 198.18.5.0/24 --gateway 198.18.5.1 "$net" >/dev/null
    defer dk network rm "$net"
  else
    podman_network_create "$net" cni-ljsecond 198.18.6.0/24 198.18.6.1
    defer pm network rm -f "$net"
  fi
  engine_run "$e" "$name" -p 8080:80
  pid=$(engine_inspect "$e" "$name" .State.Pid)
  on host sysctl -qw net.bridge.bridge-nf-call-iptables=0
  defer on host sysctl -qw net.bridge.bridge-nf-call-iptables=1

  run lje "$e" attach bridge "$name" --bridge br-em1 --ip 198.51.100.142/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lje "$e" detach "$name"
  local attached=$output

  # the engine connects a second network: its interface is eth1, with the network's address
  run engine_cli "$e" network connect "$net" "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $attached == *"Attached $name as lan0 "* ]]
  nsenter --net="/proc/$pid/ns/net" ip -o -4 addr show dev lan0 | grep -q ' 198.51.100.142/24 '
  ip2=$(nsenter --net="/proc/$pid/ns/net" ip -j -4 addr show dev eth1 | jq -r '.[0].addr_info[0].local')
  [[ $ip2 == 198.18.[56].* ]]
  # each interface works: the LAN peer through lan0, the host through the second network's
  # bridge, and the published port through the default network's eth0
  [ "$(curl_from peer http://198.51.100.142/hello.html)" = "Hello world" ]
  [ "$(curl_from host "http://$ip2/hello.html")" = "Hello world" ]
  published_ok
  run lje "$e" status "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *" lan0 "*"bridge"*" ok"* ]]
  if [[ $e == docker ]]; then
    # the default network, disconnected and connected again, comes back beside lan0 (status
    # then says the reply rule's eth0 is gone: the engine reconnect test's business)
    dk network disconnect bridge "$name"
    run dk network connect bridge "$name"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $(engine_inspect docker "$name" .NetworkSettings.Networks.bridge.IPAddress) == 198.18.0.* ]]
  fi
  [ "$(curl_from peer http://198.51.100.142/hello.html)" = "Hello world" ]

  run lje "$e" detach "$name"
  [ "$status" -eq 0 ]
  ! nsenter --net="/proc/$pid/ns/net" ip link show lan0 || false
  # the engine's own interface stays
  [ "$(curl_from host "http://$ip2/hello.html")" = "Hello world" ]
}

@test "docker: attached without --ifname (lan0), the container connects to a second Docker network and the default bridge again, each interface working" {
  connect_after_attach docker
}

@test "podman: attached without --ifname (lan0), the container connects to a second Podman network, each interface working" {
  connect_after_attach podman
}

@test "docker: --dry-run shows the route it replaces as ip route replace, and the source rule" {
  require_engine docker
  engine_run docker lj-dn-dry -p 8080:80
  run lje docker attach bridge lj-dn-dry --bridge br-em1 --ip 198.51.100.145/24 \
    --gateway 198.51.100.254 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"# replaces: default via 198.18.0.1 dev eth0"*"(detach puts it back)"* ]]
  [[ $output == *"route replace default via 198.51.100.254 dev lan0"* ]]
  [[ $output == *"rule add from 198.18.0."*" lookup 1818886144 priority 32700"* ]]
  no_records
}

# The README's Docker block ("Docker and Podman containers"): "CMD" for each "# CMD" line
# (continuations joined, trailing comments dropped) and "> LINE" for each output line shown.
readme_docker_block() {
  awk '/^### Docker and Podman containers/ {s = 1} s && /^```console/ {b = 1; next} b && /^```/ {exit} b' \
    "$REPO/README.md" | sed -e ':a' -e '/\\$/{N;s/\\\n *//;ba' -e '}' |
    sed -E -e 's/^# (.*[^ ])[[:space:]]+# .*$/\1/' -e 's/^# //;t' -e 's/^/> /'
}

# The man page's first example (.EX block under EXAMPLES), one command per line.
man_first_example() {
  awk '/^\.SH EXAMPLES/ {s = 1} s && /^\.EX/ {b = 1; next} b && /^\.EE/ {exit} b' "$REPO/doc/lanjoin.8" |
    sed -e 's/\\-/-/g' -e 's/\\e/\\/g' | sed -e ':a' -e '/\\$/{N;s/\\\n *//;ba' -e '}'
}

# What legitimately differs from the README's output: MACs, the PID, the engine-side address.
readme_normalise() {
  sed -E -e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g' -e 's/^[0-9]+$/PID/' -e 's/198\.18\.0\.[0-9]+/198.18.0.X/g'
}

# The stock busybox image, as far as the documents need it: the test image's busybox without
# its /www (Docker Hub's busybox has no web root).
STOCK_IMAGE=lanjoin-test/busybox-stock:1
stock_image() {
  dk image inspect "$STOCK_IMAGE" >/dev/null 2>&1 && return
  tar -C "$LAB_DIR/engine-image/root" --exclude=./www -cf - . | dk import - "$STOCK_IMAGE" >/dev/null
}

# Run one line of a document in the lab: docker (the test daemon, the stock image for
# busybox), lanjoin (in the lab's host, Docker's socket from the environment), curl (from the
# LAN peer; a published port also from the outside host).
doc_line() {
  local cmd=$1
  case $cmd in
  "docker "*)
    cmd=${cmd#docker }
    eval "dk ${cmd/ busybox / $STOCK_IMAGE }"
    ;;
  "lanjoin "*) eval "lj ${cmd#lanjoin }" ;;
  "curl "*)
    curl_from peer "${cmd#curl }"
    if [[ $cmd == *:8080/* ]]; then
      [ "$(curl_from out "${cmd#curl }")" = "Hello world" ]
    fi
    ;;
  *)
    echo "a command this test does not know: $cmd" >&2
    return 1
    ;;
  esac
}

@test "docker: the README's Docker block runs as written (stock busybox image, default bridge, published port) and prints what it shows" {
  require_engine docker
  export LANJOIN_ENGINE_SOCKET
  LANJOIN_ENGINE_SOCKET=$(engine_sock docker)
  defer engine_rm docker web
  stock_image
  local line cmd="" got want=""
  local -a lines
  mapfile -t lines < <(readme_docker_block)
  [[ ${lines[0]} == "docker run -d --name web -p 8080:80 busybox sh -c "* ]]
  lines+=("") # the end: check the last command's output
  for line in "${lines[@]}"; do
    if [[ $line == "> "* ]]; then
      want+="${line#> }"$'\n'
      continue
    fi
    if [[ -n $cmd ]]; then
      echo "\$ $cmd"
      echo "$got"
      if [[ -n $want ]]; then
        diff -u --label README <(printf '%s' "$want" | readme_normalise) --label "$cmd" \
          <(echo "$got" | readme_normalise)
      fi
    fi
    cmd=$line want=""
    [[ -z $cmd ]] && break
    got=$(doc_line "$cmd" 2>&1) || {
      echo "$got"
      echo "failed: $cmd"
      return 1
    }
    case $cmd in
    "docker run "*)
      got="" # the container ID
      # the host once docker0 has its port and its IPv6 address
      _engine_wait 5 _docker0_settled || true
      _engine_wait 10 _engine_no_tentative || true
      snapshot host >"$BATS_TEST_TMPDIR/host.before"
      ;;
    "lanjoin ip web --json") [ "$(jq -r '.addresses[] | select(.source == "lanjoin") | .via' <<<"$got")" = br-em1 ] ;;
    "lanjoin detach web")
      no_records
      assert_same_state host "$BATS_TEST_TMPDIR/host.before"
      ;;
    esac
  done
  [[ $cmd == "" && $got == web ]] # it ended with docker rm -f web
}

@test "docker: the man page's first example runs as written" {
  require_engine docker
  export LANJOIN_ENGINE_SOCKET
  LANJOIN_ENGINE_SOCKET=$(engine_sock docker)
  defer engine_rm docker web
  stock_image
  local cmd out
  local -a cmds
  mapfile -t cmds < <(man_first_example)
  [[ ${cmds[0]} == "docker run -d --name web --network none busybox "* ]]
  for cmd in "${cmds[@]}"; do
    echo "\$ $cmd"
    out=$(doc_line "$cmd" 2>&1) || {
      echo "$out"
      echo "failed: $cmd"
      return 1
    }
    echo "$out"
  done
  no_records
}

@test "docker: an old record (route step for the default route) still loads and detaches" {
  require_engine docker
  engine_run docker lj-dn-old
  local pid
  pid=$(engine_inspect docker lj-dn-old .State.Pid)
  # as old lanjoin did it: no default route to replace (it would have failed), plain steps
  nsenter --net="/proc/$pid/ns/net" ip route del default
  csnap "$pid" >"$BATS_TEST_TMPDIR/c.before"
  run lje docker attach bridge lj-dn-old --bridge br-em1 --ip 198.51.100.146/24 --ifname eth1
  [ "$status" -eq 0 ]
  defer lje docker detach lj-dn-old
  # rewrite the record the way the old code wrote a gateway: a "route" step, skip_undo
  local f
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  nsenter --net="/proc/$pid/ns/net" ip route add default via 198.51.100.254 dev eth1
  jq '.plan += [{"type":"route","where":"target","what":"add IPv4 default route via 198.51.100.254","skip_undo":true,"link":"eth1","cidr":"0.0.0.0/0","via":"198.51.100.254"}]' "$f" >"$f.new"
  mv "$f.new" "$f"
  run lj list
  [ "$status" -eq 0 ]
  run lje docker detach lj-dn-old
  echo "$output"
  [ "$status" -eq 0 ]
  diff -u "$BATS_TEST_TMPDIR/c.before" <(csnap "$pid")
}

@test "docker: a second nat --to attach is refused, the first one stays; the output says no interface was created" {
  require_engine docker
  engine_run docker lj-dn-nat
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje docker attach nat lj-dn-nat --uplink br-em1 --address 198.51.100.147/24 --to docker
  echo "$output"
  [ "$status" -eq 0 ]
  defer lje docker detach lj-dn-nat
  [[ $output != *"as lan0"* ]]
  [[ $output == *"no new interface"*"198.18.0."*"198.51.100.147/24"* ]]
  run lje docker attach nat lj-dn-nat --uplink br-em1 --address 198.51.100.148/24 --to docker
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"* ]]
  # the first attachment still works, the second address was never added
  [ "$(curl_from peer http://198.51.100.147/hello.html)" = "Hello world" ]
  ! on host ip -4 addr show | grep -q 198.51.100.148 || false
  run lje docker detach lj-dn-nat
  [ "$status" -eq 0 ]
  no_records
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "docker: nat on a container with addresses on two engine networks asks which (--to), makes no interface" {
  require_engine docker
  engine_run docker lj-dn-two
  run dk network create --subnet 198.18.5.0/24 lj-dn-other
  [ "$status" -eq 0 ]
  defer dk network rm lj-dn-other
  dk network connect lj-dn-other lj-dn-two
  defer dk network disconnect -f lj-dn-other lj-dn-two
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje docker attach nat lj-dn-two --uplink br-em1 --address 198.51.100.149/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"has IPv4 addresses on several networks"*"lj-dn-other"*"--to ADDRESS"* ]]
  [[ $output != *"choose another --ifname"* ]]
  no_records
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  # saying which works
  run lje docker attach nat lj-dn-two --uplink br-em1 --address 198.51.100.149/24 \
    --to "$(dk inspect --format '{{(index .NetworkSettings.Networks "lj-dn-other").IPAddress}}' lj-dn-two)"
  echo "$output"
  [ "$status" -eq 0 ]
  run lje docker detach lj-dn-two
  [ "$status" -eq 0 ]
  no_records
}

@test "attach nat --help names --to docker" {
  run lj attach nat --help
  [ "$status" -eq 0 ]
  [[ $output == *"--to docker"* ]]
}

@test "an IPv6 default route is replaced and put back with all its attributes (netns target)" {
  add_container c6
  local ns=${LAB_PREFIX}c6
  # an "engine" link of its own with IPv4 and IPv6 default routes carrying extra attributes
  # (its outer end in the lab's host node, not the root namespace: files run in parallel)
  ip -n "${LAB_PREFIX}host" link add ljdn6h type veth peer name eth0 netns "$ns"
  defer ip -n "${LAB_PREFIX}host" link del ljdn6h
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add 198.18.7.2/24 dev eth0
  ip -n "$ns" -6 addr add 2001:db8:7::2/64 dev eth0 nodad
  ip -n "$ns" route add default via 198.18.7.1 dev eth0 proto static mtu 1400
  ip -n "$ns" -6 route add default via 2001:db8:7::1 dev eth0 metric 1024 pref high hoplimit 33
  local pid
  pid=$(lab container pid c6)
  csnap "$pid" >"$BATS_TEST_TMPDIR/c.before"
  run lj attach bridge "netns:$ns" --bridge br-em1 --ip 198.51.100.149/24 \
    --ip 2001:db8:1::149/64 --gateway 198.51.100.254 --gateway 2001:db8:1::1 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:$ns"
  [[ $output == *"Replaced the default route via 198.18.7.1 dev eth0; detach puts it back"* ]]
  [[ $output == *"Replaced the default route via 2001:db8:7::1 dev eth0 metric 1024; detach puts it back"* ]]
  [ "$(ip -n "$ns" -j -6 route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "2001:db8:1::1 eth1" ]
  [ "$(ip -n "$ns" -j -4 route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 eth1" ]
  run lj detach "netns:$ns"
  [ "$status" -eq 0 ]
  diff -u "$BATS_TEST_TMPDIR/c.before" <(csnap "$pid")
}

@test "--gateway with --no-default-route is refused (exit 2)" {
  add_container c7
  run lj attach bridge "netns:${LAB_PREFIX}c7" --bridge br-em1 --ip 198.51.100.150/24 \
    --gateway 198.51.100.254 --no-default-route
  [ "$status" -eq 2 ]
  [[ $output == *"--gateway 198.51.100.254 and --no-default-route exclude each other"* ]]
  no_records
}

@test "dhcpcd: classless static routes (option 121) and the interface MTU (option 26) are not applied" {
  command -v dhcpcd >/dev/null || skip "dhcpcd is not installed"
  # a DHCP server of its own on a bridge of its own, sending both options (and the old static
  # routes, 33) whether asked for or not
  add_container c8
  add_container srv8
  local ns=${LAB_PREFIX}srv8 d=$BATS_TEST_TMPDIR
  ip -n "${LAB_PREFIX}host" link add br-t121 type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-t121
  ip -n "${LAB_PREFIX}host" link set br-t121 up
  ip -n "${LAB_PREFIX}host" link add ljt121 type veth peer name eth0 netns "$ns"
  ip -n "${LAB_PREFIX}host" link set ljt121 master br-t121 up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add 198.18.8.1/24 dev eth0
  ip netns exec "$ns" dnsmasq --user=root --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
    --pid-file="$d/dnsmasq.pid" --interface=eth0 --bind-interfaces --dhcp-authoritative \
    --no-ping --dhcp-range=198.18.8.100,198.18.8.150,2m --dhcp-option=option:router,198.18.8.1 \
    --dhcp-option-force=121,203.0.113.0/24,198.18.8.1 --dhcp-option-force=26,1400 \
    --dhcp-option-force=option:static-route,203.0.113.1,198.18.8.1 \
    --dhcp-leasefile="$d/dnsmasq.leases" --log-facility="$d/dnsmasq.log" --log-dhcp 3>&-
  defer kill "$(cat "$d/dnsmasq.pid")"
  local c=${LAB_PREFIX}c8
  run lj attach bridge "netns:$c" --bridge br-t121 --dhcp --dhcp-client dhcpcd
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:$c"
  # the lease's address and router only: no 203.0.113.0/24 route, the MTU lanjoin set
  [ "$(ip -n "$c" -j -4 route show default | jq -r '.[0].gateway')" = 198.18.8.1 ]
  [ -z "$(ip -n "$c" -4 route show 203.0.113.0/24)" ]
  [ -z "$(ip -n "$c" -4 route show 203.0.113.1)" ]
  [ "$(ip -n "$c" -j link show eth1 | jq -r '.[0].mtu')" = 1500 ]
  [ "$(ip -n "$c" -j -4 route show table all dev eth1 | jq '[.[] | select(.metrics)] | length')" = 0 ]
}

@test "docker: a failure at any step of a --gateway attach on a default-network container leaves its routes and rules as they were" {
  require_engine docker
  engine_run docker lj-dn-fault -p 8080:80
  local pid n i
  pid=$(engine_inspect docker lj-dn-fault .State.Pid)
  csnap "$pid" >"$BATS_TEST_TMPDIR/c.before"
  local -a args=(--bridge br-em1 --ip 198.51.100.153/24 --gateway 198.51.100.254)
  n=$(lje docker attach bridge lj-dn-fault "${args[@]}" --dry-run --json | jq '.steps | length')
  ((n > 5))
  for ((i = 1; i <= n; i++)); do
    run env LANJOIN_FAULT_STEP=$i ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
      lj-dn-fault "${args[@]}" --engine-socket "$(engine_sock docker)"
    [ "$status" -eq 1 ] || { echo "step $i: $output"; false; }
    diff -u "$BATS_TEST_TMPDIR/c.before" <(csnap "$pid")
    no_records
  done
  published_ok
}

# Two --gateway attachments of one target (bridge way, br-em1), then detach in ORDER (fifo: eth1
# first, lifo: eth2 first, target: plain `detach TARGET`, all: detach --all): the target's
# default route is exactly its own again, whatever the order.
two_gateways_detach() {
  local order=$1 ns=${LAB_PREFIX}r_$1
  add_container "r_$1"
  ns=${LAB_PREFIX}r_$1
  # an "engine" link of its own with the original default route (the outer end in the lab's
  # host node, not the root namespace: files run in parallel)
  ip -n "${LAB_PREFIX}host" link add "ljdr$order" type veth peer name va netns "$ns"
  defer ip -n "${LAB_PREFIX}host" link del "ljdr$order"
  ip -n "$ns" link set va up
  ip -n "$ns" addr add 203.0.113.2/24 dev va
  ip -n "$ns" route add default via 203.0.113.1 dev va
  local before rules_before
  before=$(ip -n "$ns" -j route show default)
  rules_before=$(ip -n "$ns" rule)
  [ "$(jq -r '.[] | "\(.gateway) \(.dev)"' <<<"$before")" = "203.0.113.1 va" ]
  defer lj detach "netns:$ns"
  run lj attach bridge "netns:$ns" --bridge br-em1 --ip 198.51.100.135/24 \
    --gateway 198.51.100.254 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Replaced the default route via 203.0.113.1 dev va; detach puts it back"* ]]
  run lj attach bridge "netns:$ns" --bridge br-em1 --ifname eth2 --ip 198.51.100.136/24 \
    --gateway 198.51.100.254 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Replaced the default route via 198.51.100.254 dev eth1; detach puts it back"* ]]
  [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 eth2" ]
  case $order in
  fault)
    # eth1's undo fails after the hand-down (its record is kept, as after a crash there):
    # both records hold the original route; detach again, then eth2, puts it back
    LANJOIN_FAULT_UNDO=1 run lj detach "netns:$ns" --ifname eth1
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$(state_records | jq -r '.[].ifname' | sort | xargs)" = "eth1 eth2" ]
    state_records | jq -e '.[] | select(.ifname == "eth2") | .undo[]
      | select(.type == "default-route") | .text | fromjson | map(.dev) == ["va"]'
    run lj detach "netns:$ns" --ifname eth1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 eth2" ]
    run lj detach "netns:$ns" --ifname eth2
    ;;
  fifo | lifo)
    local first=eth1 second=eth2
    [[ $order == lifo ]] && first=eth2 second=eth1
    if [[ $order == fifo ]]; then
      # --dry-run says what detach does: va's source rule goes to eth2, eth1's own rule goes
      run lj detach "netns:$ns" --ifname eth1 --dry-run
      echo "$output"
      [ "$status" -eq 0 ]
      [[ $output == *"# hands down to eth2 (its detach removes it): rule from 203.0.113.2 lookup "* ]]
      [[ $output == *"rule del from 198.51.100.135 lookup "* ]]
      [[ $output != *"rule del from 203.0.113.2 "* ]]
    fi
    run lj detach "netns:$ns" --ifname "$first"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *Warning* ]]
    # the latest attachment's route stays while it is attached
    ip -n "$ns" route show default
    [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 $second" ]
    # replies from va's address still leave by va (its source rule and table stay while a
    # replacing attachment remains); the departed one's rule is gone
    ip -n "$ns" rule
    src_rule_ok "/run/netns/$ns" 203.0.113.2 va
    if [[ $order == fifo ]]; then
      ! ip -n "$ns" rule | grep -q 'from 198.51.100.135 ' || false
      run lj status "netns:$ns"
      echo "$output"
      [ "$status" -eq 0 ]
    fi
    if [[ $order == fifo ]]; then
      # eth2's record now holds what eth1's held: the original route through va
      state_records | jq -e '.[] | select(.ifname == "eth2") | .undo[]
        | select(.type == "default-route") | .text | fromjson | map(.dev) == ["va"]'
    fi
    run lj detach "netns:$ns" --ifname "$second"
    ;;
  target) run lj detach "netns:$ns" ;;
  all) run lj detach --all ;;
  esac
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *Warning* ]]
  ip -n "$ns" route
  [ "$(ip -n "$ns" -j route show default)" = "$before" ]
  [ "$(ip -n "$ns" route show table all | grep -c default)" -eq 1 ]
  [ "$(ip -n "$ns" rule)" = "$rules_before" ]
}

# The source rule for ADDR (NS's engine-side address) looks up a table whose default route
# leaves by DEV, and exactly one rule names ADDR.
src_rule_ok() { # NETNS-PATH ADDR DEV
  local t
  local -a n=(nsenter "--net=$1")
  [ "$("${n[@]}" ip -j rule | jq "[.[] | select(.src == \"$2\")] | length")" -eq 1 ]
  t=$("${n[@]}" ip -j rule | jq -r ".[] | select(.src == \"$2\") | .table")
  [ "$("${n[@]}" ip -j route show table "$t" default | jq -r '.[0].dev')" = "$3" ]
}

@test "two --gateway attachments of one target: detached eth1 first, the original default route comes back" {
  two_gateways_detach fifo
}

@test "two --gateway attachments of one target: detached eth2 first, the original default route comes back" {
  two_gateways_detach lifo
}

@test "two --gateway attachments of one target: detach TARGET and detach --all put the original default route back" {
  two_gateways_detach target
  two_gateways_detach all
}

@test "two --gateway attachments of one target: eth1's detach failing after the hand-down, detaching again puts the original back" {
  two_gateways_detach fault
}

@test "detach warns, naming the route, when the default route it replaced cannot be put back" {
  add_container r_lost
  local ns=${LAB_PREFIX}r_lost
  ip -n "${LAB_PREFIX}host" link add ljdrl type veth peer name va netns "$ns"
  ip -n "$ns" link set va up
  ip -n "$ns" addr add 203.0.113.2/24 dev va
  ip -n "$ns" route add default via 203.0.113.1 dev va
  defer lj detach "netns:$ns"
  run lj attach bridge "netns:$ns" --bridge br-em1 --ip 198.51.100.137/24 \
    --gateway 198.51.100.254 --no-conflict-check
  [ "$status" -eq 0 ]
  ip -n "${LAB_PREFIX}host" link del ljdrl
  # status does not say ok: the route detach would put back has lost its link
  run lj status "netns:$ns"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"the default route it replaced (via 'va') cannot be put back: that link is gone"* ]]
  run lj detach "netns:$ns"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Warning: netns:$ns (eth1): cannot put back the default route 'default via 203.0.113.1 dev va"*"': its link 'va' is gone"* ]]
}

# A Docker container on the default network (-p 8080:80) with two attachments that each set its
# default route (FIRST, SECOND: bridge | macvlan | routed, all with the LAN's gateway), then
# detach in ORDER (fifo: lan1 first, lifo: lan2 first): the published port answers throughout,
# the source rule for eth0's address stays while an attachment remains, the departed one's rule
# goes, status is ok in between, and the last detach leaves the container as it was.
defaultnet_two() { # FIRST SECOND ORDER
  local first=$1 second=$2 order=$3 name=w2$1$2$3 pid eth0ip i
  require_engine docker
  engine_run docker "$name" -p 8080:80
  pid=$(engine_inspect docker "$name" .State.Pid)
  eth0ip=$(nsenter --net="/proc/$pid/ns/net" ip -j -4 addr show dev eth0 | jq -r '.[0].addr_info[0].local')
  published_ok
  csnap "$pid" >"$BATS_TEST_TMPDIR/c.before"
  on host sysctl -qw net.bridge.bridge-nf-call-iptables=0
  defer on host sysctl -qw net.bridge.bridge-nf-call-iptables=1
  defer lje docker detach "$name"
  local -a ways=("$first" "$second")
  # macvlan's parent: em1 is br-em1's port here, so a veth of the host node plugged into it
  if [[ " ${ways[*]} " == *" macvlan "* ]]; then
    on host ip link add "ljm$order" type veth peer name "ljm${order}p"
    defer on host ip link del "ljm$order"
    on host ip link set "ljm${order}p" master br-em1 up
    on host ip link set "ljm$order" up
  fi
  for i in 1 2; do
    local -a args=()
    case ${ways[i - 1]} in
    bridge) args=(bridge "$name" --bridge br-em1 --gateway 198.51.100.254) ;;
    macvlan) args=(macvlan "$name" --parent "ljm$order" --gateway 198.51.100.254) ;;
    routed) args=(routed "$name" --parent br-em1) ;;
    esac
    run lje docker attach "${args[@]}" --ip "198.51.100.$((130 + i))/24" --ifname "lan$i" \
      --no-conflict-check
    echo "$output"
    [ "$status" -eq 0 ]
    published_ok
  done
  local gone=lan1 stays=lan2
  [[ $order == lifo ]] && gone=lan2 stays=lan1
  run lje docker detach "$name" --ifname "$gone"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *Warning* ]]
  nsenter --net="/proc/$pid/ns/net" ip rule
  # the published port still answers: replies from eth0's address leave by eth0
  published_ok
  src_rule_ok "/proc/$pid/ns/net" "$eth0ip" eth0
  # no rule is left for the departed attachment's address
  ! nsenter --net="/proc/$pid/ns/net" ip rule | grep -q "from 198.51.100.13${gone#lan} " || false
  run lje docker status "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  run lje docker detach "$name" --ifname "$stays"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *Warning* ]]
  no_records
  diff -u "$BATS_TEST_TMPDIR/c.before" <(csnap "$pid")
  published_ok
  engine_rm docker "$name"
}

@test "docker: two attachments setting the default route (bridge then macvlan), detached in either order, keep the published port and the rules right" {
  defaultnet_two bridge macvlan fifo
  defaultnet_two bridge macvlan lifo
}

@test "docker: two attachments setting the default route (macvlan then routed), detached in either order, keep the published port and the rules right" {
  defaultnet_two macvlan routed fifo
  defaultnet_two macvlan routed lifo
}

@test "docker: after the engine reconnects a --gateway container (its eth0 replaced), status is not ok and detach warns that the saved route's link is gone" {
  require_engine docker
  engine_run docker wrc -p 8080:80
  local pid
  pid=$(engine_inspect docker wrc .State.Pid)
  defer lje docker detach wrc
  run lje docker attach bridge wrc --bridge br-em1 --ip 198.51.100.133/24 \
    --gateway 198.51.100.254 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  dk network disconnect bridge wrc
  # Docker's own default route cannot go in beside lanjoin's: it may refuse ("file exists")
  run dk network connect bridge wrc
  echo "connect: $status $output"
  nsenter --net="/proc/$pid/ns/net" ip -br link
  run lje docker status wrc
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"the default route it replaced (via 'eth0') cannot be put back"* ]]
  run lje docker detach wrc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Warning: wrc (lan0): cannot put back the default route"*"dev eth0"* ]]
  nsenter --net="/proc/$pid/ns/net" ip route
}
