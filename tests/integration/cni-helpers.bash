# tests/integration/cni-helpers.bash — shared by cni.bats and cni-hostile.bats (`load cni-helpers`
# after `load helpers`): the lab network "labnet", lanjoin and the reference plugins as CNI
# plugins in the host node, and the checks on their answers.

# shellcheck disable=SC2034,SC2154,SC2010,SC2012 # used by, and using, the .bats files (run)
VERSIONS=(0.3.0 0.3.1 0.4.0 1.0.0 1.1.0)
REF=/usr/lib/cni

# Each test hands out addresses from its own block of eight (RANGE_START..RANGE_END), so that
# no address of an earlier test is reused while the peer may still have its old MAC cached.
# The blocks are those of the LAN that nothing else uses (not the peer's .10, the host's .76,
# the DHCP pool .150-.199 or the gateway's .254), in turn; past the last block the first comes
# again, by then long unused.
BLOCK_STARTS=()
for _r in "11 75" "77 149" "200 253"; do
  read -r _lo _hi <<<"$_r"
  for ((_b = _lo; _b + 7 <= _hi; _b += 8)); do BLOCK_STARTS+=("$_b"); done
done
setup() {
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  CONF=$BATS_TEST_TMPDIR/conf.json
  local base=${BLOCK_STARTS[$(((BATS_TEST_NUMBER - 1) % ${#BLOCK_STARTS[@]}))]}
  RANGE_START=198.51.100.$base
  RANGE_END=198.51.100.$((base + 7))
}

# conf VERSION [JQ_FILTER] — the bridge network "labnet" on br-em1 with host-local IPAM
# (this test's block, gateway .254, a default route), edited by JQ_FILTER, into $CONF.
conf() {
  jq -n --arg v "$1" --arg dir "$IPAM_DIR" --arg start "$RANGE_START" --arg last "$RANGE_END" '{
    cniVersion: $v, name: "labnet", type: "lanjoin", mode: "bridge", bridge: "br-em1",
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start,
                      rangeEnd: $last, gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"${2:-.}" >"$CONF"
}

# cni COMMAND CONTAINER_ID NETNS [IFNAME] [CONF] — lanjoin as a CNI plugin in the host node
cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="${4:-eth0}" CNI_PATH="$REF" "$LANJOIN" <"${5:-$CONF}"
}

# ref_cni PLUGIN COMMAND CONTAINER_ID NETNS CONF — a Debian reference plugin, same way
ref_cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="$4" \
    CNI_IFNAME=eth0 CNI_PATH="$REF" "$REF/$1" <"$5"
}

ns() { echo "/run/netns/${LAB_PREFIX}$1"; }

# with_prev RESULT — $CONF plus prevResult (for CHECK and DEL)
with_prev() {
  jq --argjson p "$1" '. + {prevResult: $p}' "$CONF" >"$BATS_TEST_TMPDIR/prev.json"
  echo "$BATS_TEST_TMPDIR/prev.json"
}

# addresses host-local holds for labnet
ipam_ips() { ls "$IPAM_DIR/labnet" 2>/dev/null | grep -E '^[0-9]' || true; }
records() { ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null | wc -l; }

# expect_error CODE — the last `run --separate-stderr` failed with exit 1, one error JSON
# with CODE on stdout and one line on stderr
expect_error() {
  echo "status $status, stdout: $output, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = "$1" ]
  [ "$(jq -r '.msg | type' <<<"$output")" = string ]
  [ "${#lines[@]}" -eq 1 ]
  [ "$(wc -l <<<"$stderr")" -eq 1 ]
  [[ $stderr == lanjoin:* ]]
  [[ $stderr != *$'\e'* ]] # hostile values are not echoed as control characters
}
