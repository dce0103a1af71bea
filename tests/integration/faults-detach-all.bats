#!/usr/bin/env bats
# Fault injection (issue 10), part: detach --all over three ways.
# The walks and what each checks: faults-helpers.bash.

load faults-helpers

@test "faults: detach --all over three ways, with the undo of step k failing in every record" {
  add_container da
  add_container dm
  add_container dn
  take_snapshots da dm dn
  local k L fired=0
  attach_three() {
    lj attach bridge "netns:${LAB_PREFIX}da" --bridge br-all --create-bridge --ip 198.51.100.140/24 >/dev/null &&
      lj attach macvlan "netns:${LAB_PREFIX}dm" --parent em1 --ip 198.51.100.141/24 \
        --host-shim 198.51.100.149/24 >/dev/null &&
      lj attach nat "netns:${LAB_PREFIX}dn" --uplink em1 --address 198.51.100.142/24 \
        --publish 80 >/dev/null
  }
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  attach_three
  L=$(state_records | jq '[.[].undo | length] | max')
  for ((k = 1; k <= L; k++)); do
    ((k == 1)) || attach_three
    LANJOIN_FAULT_UNDO=$k run lj detach --all
    echo "detach --all, undo $k failing -> $status: $output"
    if [ "$status" -ne 0 ]; then
      [ "$status" -eq 1 ]
      [[ $output == *"the record is kept"* ]]
      [ "$(records)" -ge 1 ]
      run lj detach --all
      echo "detach --all again -> $status: $output"
      [ "$status" -eq 0 ]
      fired=$((fired + 1))
      case_covered "detach--all" detach-undo "$k"
    fi
    [ "$(records)" -eq 0 ]
    assert_unchanged
  done
  [ "$fired" -gt 3 ]
}
