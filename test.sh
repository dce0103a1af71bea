#!/usr/bin/env bash
# test.sh — build lanjoin and run the unit and integration tests: `sudo ./test.sh`.
#
#   ./test.sh [--sanitize | --both] [--no-unit] [--build-only] [--jobs N] [--filter REGEX]
#             [BATS_FILE_OR_DIR...]
#
#   --sanitize      build into build-asan with ASan+UBSan and test that binary; the unit suite
#                   "tree" and the integration files marked "# test.sh: plain pass only" (they
#                   check documents, the lab or the tree, not lanjoin's memory) run only in the
#                   plain pass, unless such a file is named on the command line
#   --both          the plain pass and the --sanitize pass in one run (what CI does): both
#                   builds, both unit runs, and the integration files of both passes in one
#                   queue, longest first, so that one pass's files fill the time the other's
#                   spend waiting (never a file's two passes at once); results are labelled
#                   "[asan]" for the sanitize pass
#   --no-unit       skip the unit tests
#   --build-only    only build (what the same options would test), then stop
#   --jobs N        run up to N integration files at once (default: LJ_JOBS, else the number
#                   of CPUs plus one, at least 2: the tests mostly wait on daemons, DHCP and
#                   timers). Each file is one bats process with its own lab; at most
#                   ceil(N/2) of them are heavy ones (Docker, Podman, valgrind) at a time;
#                   up to ceil(N/2) light ones (under a third of a CPU in
#                   tests/integration/durations) run beside the N (with N > 1).
#                   A file's TAP output is printed in one piece when it ends.
#   --filter REGEX  run only the integration tests whose name matches (bats -f)
#   BATS_FILE...    run only these integration test files (default: tests/integration)
#
# Environment: LJ_SKIP_DEPS=1 skips scripts/install-deps.sh; LJ_BUILD_DIR overrides the build
# directory; LANJOIN overrides the binary under test (not with --sanitize); BATS_TEST_TIMEOUT
# (seconds, default 300) bounds each integration test.
#
# Ends with one line "N passed, N failed" (", N skipped" when some were), counting unit test
# cases, integration tests, and the build and leak checks when they fail. Exits 1 if anything
# failed, 2 on bad usage.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO" || exit 2
# shellcheck source=tests/own-prefix.bash
. tests/own-prefix.bash

usage() { sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; }

sanitize=0 both=0 unit=1 filter='' build_only=0
jobs=${LJ_JOBS:-}
files=()
while (($# > 0)); do
  case $1 in
  --sanitize) sanitize=1 ;;
  --both) both=1 ;;
  --no-unit) unit=0 ;;
  --build-only) build_only=1 ;;
  --jobs)
    [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || {
      echo "test.sh: --jobs needs a positive number" >&2
      exit 2
    }
    jobs=$2
    shift
    ;;
  --filter)
    (($# >= 2)) || {
      usage >&2
      exit 2
    }
    filter=$2
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  -*)
    echo "test.sh: unknown option '$1'" >&2
    usage >&2
    exit 2
    ;;
  *)
    [[ -e $1 ]] || {
      echo "test.sh: no such test file or directory: $1" >&2
      exit 2
    }
    files+=("$1")
    ;;
  esac
  shift
done
((${#files[@]} > 0)) || files=(tests/integration)
if ((both && sanitize)); then
  echo "test.sh: --both already includes --sanitize" >&2
  exit 2
fi
if ((both)) && [[ -n ${LJ_BUILD_DIR:-} ]]; then
  echo "test.sh: LJ_BUILD_DIR names one build directory: not with --both" >&2
  exit 2
fi
if [[ -z $jobs ]]; then
  jobs=$(($(nproc 2>/dev/null || echo 1) + 1))
  ((jobs >= 2)) || jobs=2
fi
[[ $jobs =~ ^[1-9][0-9]*$ ]] || {
  echo "test.sh: LJ_JOBS must be a positive number" >&2
  exit 2
}

if ((EUID != 0)); then
  echo "test.sh: must run as root (the integration tests build network namespaces): sudo ./test.sh" >&2
  exit 2
fi

passed=0 failed=0 skipped=0
failures=()
fail() { # fail DESCRIPTION [DETAILS]
  failed=$((failed + 1))
  failures+=("$1${2:-}")
}
say() { echo "== $*"; }

LOGDIR=$(mktemp -d /tmp/lanjoin-test.XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT

# --- dependencies ---------------------------------------------------------------------------------
if [[ ${LJ_SKIP_DEPS:-0} != 1 ]]; then
  say "dependencies: scripts/install-deps.sh"
  scripts/install-deps.sh || fail "dependencies: scripts/install-deps.sh failed"
fi

# --- what exists before, for the leak check ---------------------------------------------------------
# Root-namespace links are compared with the start of the run. Namespaces, lab directories,
# processes and state directories are checked only when they belong to this run: helpers.bash
# records each lab prefix and state directory in $LJ_TEST_RECORD (other work on the machine may
# create namespaces of its own meanwhile).
root_links() { ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort; }
before_links=$(root_links)
# Host paths a test, the lab, a daemon or a DHCP client could leave behind (no Debian package
# ships them): each path, and the entries directly in it. A fresh machine has none of them, so a
# test that created one and relied on it would pass here and fail there.
HOST_PATHS=(/run/lanjoin /var/lib/lanjoin /etc/lanjoin /run/dhcpcd /var/lib/dhcpcd /var/lib/dhcp
  /var/lib/dhclient /var/db/dhcpcd /run/docker /run/docker.sock /var/lib/docker /run/containerd
  /var/lib/containerd /run/containers /var/lib/containers /run/libpod /var/lib/cni /run/cni
  /etc/cni/net.d
  /run/openvswitch /var/run/openvswitch /etc/openvswitch)
host_paths() {
  local p
  for p in "${HOST_PATHS[@]}"; do
    [[ -e $p || -L $p ]] || continue
    echo "$p"
    [[ -d $p && ! -L $p ]] && find "$p" -mindepth 1 -maxdepth 1 2>/dev/null
  done | sort
}
before_paths=$(host_paths)
export LJ_TEST_RECORD=$LOGDIR/record
: >"$LJ_TEST_RECORD"

# --- build ----------------------------------------------------------------------------------------
# A pass is "plain" or "sanitize"; --both runs both. pass_config PASS sets BUILD, setup_opts and
# the binary under test, PASS_LANJOIN[PASS].
passes=(plain)
((sanitize)) && passes=(sanitize)
((both)) && passes=(plain sanitize)
SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
declare -A PASS_LANJOIN=() PASS_BUILD=() PASS_BUILT=()
pass_config() { # PASS
  if [[ $1 == sanitize ]]; then
    BUILD=${LJ_BUILD_DIR:-build-asan}
    # shellcheck disable=SC2054 # the comma is meson's
    setup_opts=(-Db_sanitize=address,undefined -Db_lundef=false)
    PASS_LANJOIN[$1]=$BUILD/lanjoin
  else
    BUILD=${LJ_BUILD_DIR:-build}
    setup_opts=()
    PASS_LANJOIN[$1]=${LANJOIN:-$BUILD/lanjoin}
  fi
  [[ ${PASS_LANJOIN[$1]} == /* ]] || PASS_LANJOIN[$1]=$REPO/${PASS_LANJOIN[$1]}
  PASS_BUILD[$1]=$BUILD
}
if ((sanitize)); then # also for the unit tests and whatever a file starts with $LANJOIN
  export "${SAN_ENV[@]}"
fi

for pass in "${passes[@]}"; do
  pass_config "$pass"
  PASS_BUILT[$pass]=0
  if [[ ! -f meson.build ]]; then
    say "no meson.build yet: skipping the build and the unit tests"
    unit=0
    continue
  fi
  say "build: $BUILD${setup_opts[*]:+ (${setup_opts[*]})}"
  if [[ ! -f $BUILD/build.ninja ]]; then
    meson setup "$BUILD" "${setup_opts[@]}" || fail "build: meson setup $BUILD failed"
  fi
  if [[ -f $BUILD/build.ninja ]]; then
    if ninja -C "$BUILD"; then
      PASS_BUILT[$pass]=1
    else
      fail "build: ninja -C $BUILD failed"
    fi
  fi
done
if ((build_only)); then
  for pass in "${passes[@]}"; do
    if ((PASS_BUILT[$pass])); then
      echo "built: ${PASS_BUILD[$pass]}"
    else
      echo "build failed: ${PASS_BUILD[$pass]}"
    fi
  done
  ((failed == 0))
  exit
fi
for pass in "${passes[@]}"; do
  if [[ ! -x ${PASS_LANJOIN[$pass]} ]]; then
    say "note: no lanjoin binary at ${PASS_LANJOIN[$pass]}; tests that need it will fail"
  fi
done
export LANJOIN=${PASS_LANJOIN[${passes[0]}]}

# --- unit tests -----------------------------------------------------------------------------------
# Counts cmocka cases from each test program's output, in cmocka's default format ("[       OK ]",
# "[  FAILED  ]", "[  SKIPPED ]" inside a "Running N test(s)" block) or in TAP (cmocka 1.1 prints
# a skipped case as "not ok N # SKIP"); a program with neither counts as one case by its meson
# result. A program that fails without a failing case (a crash, a sanitizer report) counts as
# one more failure.
cmocka_cases() { # stdout of a test program -> "pass|fail|skip<TAB>case" lines
  awk '
    /^\[==========\] Running / { blk = 1; next }
    /^\[==========\] .* run\./ { blk = 0; next }
    blk && /^\[       OK \] /   { print "pass\t" substr($0, 14); next }
    blk && /^\[  FAILED  \] /   { print "fail\t" substr($0, 14); next }
    blk && /^\[  SKIPPED \] /   { print "skip\t" substr($0, 14); next }
    /^(not )?ok[ \t]/ {
      if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) print "skip\t" $0
      else if ($0 ~ /^not ok/) print "fail\t" $0
      else print "pass\t" $0
    }'
}

count_unit() {
  local log=$BUILD/meson-logs/testlog.json rec name result rc kind case nfail ncases
  [[ -s $log ]] || {
    fail "unit: no $log after meson test"
    return
  }
  while IFS= read -r rec; do
    name=$(jq -r .name <<<"$rec")
    result=$(jq -r .result <<<"$rec")
    rc=$(jq -r '.returncode // "?"' <<<"$rec")
    nfail=0 ncases=0
    while IFS=$'\t' read -r kind case; do
      ncases=$((ncases + 1))
      case $kind in
      pass) passed=$((passed + 1)) ;;
      skip) skipped=$((skipped + 1)) ;;
      fail)
        nfail=$((nfail + 1))
        fail "unit: $name: $case"
        ;;
      esac
    done < <(jq -r '.stdout // ""' <<<"$rec" | cmocka_cases)
    case $result in
    OK | EXPECTEDFAIL) ((ncases > 0)) || passed=$((passed + 1)) ;;
    SKIP) ((ncases > 0)) || skipped=$((skipped + 1)) ;;
    *) ((nfail > 0)) || fail "unit: $name: $result (exit status $rc)" ;;
    esac
  done <"$log"
}

if ((unit)); then
  for pass in "${passes[@]}"; do
    ((PASS_BUILT[$pass])) || continue
    BUILD=${PASS_BUILD[$pass]}
    say "unit tests: meson test -C $BUILD"
    unit_args=()
    pass_env=()
    if [[ $pass == sanitize ]]; then
      unit_args=(--no-suite tree) # the tree's own rules: the plain pass checks them
      pass_env=("${SAN_ENV[@]}")
    fi
    env "${pass_env[@]}" CMOCKA_MESSAGE_OUTPUT=TAP meson test -C "$BUILD" --print-errorlogs "${unit_args[@]}"
    count_unit
  done
fi

# --- integration tests ----------------------------------------------------------------------------
count_tap() { # count_tap TAPFILE LABEL
  local tap=$1 label=$2 line current='' plan=0 seen=0
  local -a detail=()
  flush() {
    if [[ -n $current ]]; then
      fail "$label: $current" "$(printf '\n    %s' "${detail[@]}")"
    fi
    current=
    detail=()
  }
  while IFS= read -r line; do
    case $line in
    1..*)
      plan=${line#1..}
      ;;
    "not ok "*)
      flush
      seen=$((seen + 1))
      current=${line#not ok }
      current=${current%"${current##*[! ]}"} # trailing blanks
      ;;
    "ok "*)
      flush
      seen=$((seen + 1))
      if [[ $line =~ \#\ [Ss][Kk][Ii][Pp] ]]; then
        skipped=$((skipped + 1))
      else
        passed=$((passed + 1))
      fi
      ;;
    "#"*)
      [[ -n $current ]] && detail+=("$line")
      ;;
    esac
  done <"$tap"
  flush
  if [[ $plan =~ ^[0-9]+$ ]] && ((seen < plan)); then
    fail "$label: only $seen of $plan tests reported (bats was interrupted?)"
  fi
  return 0
}

export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
bats_args=(--tap --timing --print-output-on-failure)
[[ -n $filter ]] && bats_args+=(--filter "$filter")

# The files, each run by a bats process of its own (its own lab, LAB_PREFIX from its PID). A
# job is "PASS:FILE".
bats_files=()
plain_only=()
for pass in "${passes[@]}"; do
  for f in "${files[@]}"; do
    if [[ -d $f ]]; then
      while IFS= read -r g; do
        if [[ $pass == sanitize ]] && grep -q '^# test.sh: plain pass only' "$g"; then
          plain_only+=("$(basename "$g")")
          continue
        fi
        bats_files+=("$pass:$g")
      done < <(find "$f" -maxdepth 1 -name '*.bats' | sort)
    else
      bats_files+=("$pass:$f")
    fi
  done
done
((${#plain_only[@]} == 0)) || say "plain pass only, not run under --sanitize: ${plain_only[*]}"
# Heavy files start real engines or valgrind: at most ceil(jobs/2) run at once. Longest first,
# so that the run does not end with one long file alone: the wall-clock and CPU seconds a file
# took in a full run are in tests/integration/durations ("WALL FILE.bats CPU" lines, the plain
# pass; a file's sanitize pass counts a quarter more; refresh it from the times this script
# prints when files change a lot); a file not listed there is estimated from its size. Light
# files (there, CPU * 3 <= WALL: they mostly wait on DHCP, timers, daemons) do not take one of
# the N --jobs slots: up to ceil(N/2) of them run beside those.
heavy_max=$(((jobs + 1) / 2))
light_max=$(((jobs + 1) / 2))
declare -A is_heavy=() is_light=() known_secs=() known_cpu=()
if [[ -f tests/integration/durations ]]; then
  while read -r secs name cpu; do
    [[ $secs =~ ^[0-9]+$ ]] || continue
    known_secs[$name]=$secs
    [[ $cpu =~ ^[0-9]+$ ]] && known_cpu[$name]=$cpu
  done <tests/integration/durations
fi
order=()
for j in "${bats_files[@]}"; do
  f=${j#*:}
  grep -qE '^load engine-helpers|valgrind' "$f" && is_heavy[$j]=1
  cpu=${known_cpu[$(basename "$f")]:-}
  [[ -n $cpu ]] && ((jobs > 1 && cpu * 3 <= ${known_secs[$(basename "$f")]})) && is_light[$j]=1
  w=${known_secs[$(basename "$f")]:-$((30 + $(wc -c <"$f") / 70))}
  [[ $j == sanitize:* ]] && w=$((w * 5 / 4))
  order+=("$w $j")
done
mapfile -t bats_files < <(printf '%s\n' "${order[@]}" | sort -k1,1nr -k2 | cut -d' ' -f2-)

# job_label PASS:FILE: the file's name, and "[asan]" for the sanitize pass when both run
job_label() {
  local l
  l=$(basename "${1#*:}")
  ((both)) && [[ $1 == sanitize:* ]] && l+=" [asan]"
  echo "$l"
}

int_start=$SECONDS
say "integration tests: ${#bats_files[@]} files, up to $jobs at once${filter:+ (filter: $filter)}"
declare -A job_file=() job_start=() file_secs=() file_cpu=() file_running=()
heavy_running=0 light_running=0
ndone=0
# Interrupted: end every running file's bats with all its processes (each is a session of its
# own), then go on to the leak check, which tears their labs down.
interrupted=0
stop_jobs() {
  local p
  interrupted=1
  for p in "${!job_file[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
}
trap stop_jobs INT TERM

start_file() { # PASS:FILE
  local j=$1 f=${1#*:} out
  out=$LOGDIR/tap.$(basename "$f" .bats).$RANDOM
  # bats, with the pass's binary and sanitizer options, under a shell that notes the CPU time
  # (user + system) of all it waited for
  (export LANJOIN=${PASS_LANJOIN[${j%%:*}]}
    unset ASAN_OPTIONS UBSAN_OPTIONS
    [[ $j == sanitize:* ]] && export "${SAN_ENV[@]}"
    exec setsid bash -c 'cpu=$1; shift; bats "$@"; rc=$?; times >"$cpu"; exit "$rc"' \
    bats-cpu "$out.cpu" "${bats_args[@]}" "$f") </dev/null >"$out" 2>&1 &
  job_file[$!]=$j
  job_start[$!]=$SECONDS
  job_out[$!]=$out
  file_running[$f]=1
  [[ -n ${is_heavy[$j]:-} ]] && heavy_running=$((heavy_running + 1))
  [[ -n ${is_light[$j]:-} ]] && light_running=$((light_running + 1))
  return 0
}
declare -A job_out=()

finish_file() { # PID RC
  local pid=$1 rc=$2 j=${job_file[$1]} out=${job_out[$1]} secs before label f
  f=${j#*:}
  label=$(job_label "$j")
  secs=$((SECONDS - job_start[$1]))
  file_secs[$j]=$secs
  # `times`: the shell's own, then its children's "0m12.340s 0m3.210s" -> 16
  file_cpu[$j]=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } }
    END { printf "%.0f", s }' "$out.cpu" 2>/dev/null)
  unset "job_file[$pid]" "job_start[$pid]" "job_out[$pid]" "file_running[$f]"
  [[ -n ${is_heavy[$j]:-} ]] && heavy_running=$((heavy_running - 1))
  [[ -n ${is_light[$j]:-} ]] && light_running=$((light_running - 1))
  ndone=$((ndone + 1))
  say "$f${label#"$(basename "$f")"} (${secs}s, ${file_cpu[$j]:-?}s CPU, exit status $rc; $ndone of ${#bats_files[@]} files done)"
  cat "$out"
  cat "$out" >>"$LOGDIR/bats.tap"
  before=$failed
  count_tap "$out" "$label"
  if ((rc != 0 && failed == before)); then
    fail "$label: bats exited with status $rc without a failing test"
  fi
}

pending=("${bats_files[@]}")
while ((${#job_file[@]} > 0)) || { ((${#pending[@]} > 0)) && ((!interrupted)); }; do
  # Start what may start: the first pending file in order that fits.
  while ((!interrupted && ${#pending[@]} > 0)); do
    pick=-1
    for i in "${!pending[@]}"; do
      j=${pending[i]}
      # never a file's two passes at once (a file may assume it is alone with its names)
      [[ -z ${file_running[${j#*:}]:-} ]] || continue
      if [[ -n ${is_light[$j]:-} ]]; then
        ((light_running < light_max)) || continue
      else
        ((${#job_file[@]} - light_running < jobs)) || continue
      fi
      if [[ -z ${is_heavy[$j]:-} ]] || ((heavy_running < heavy_max)); then
        pick=$i
        break
      fi
    done
    ((pick >= 0)) || break
    start_file "${pending[pick]}"
    unset "pending[pick]"
    pending=("${pending[@]}")
  done
  done_pid=''
  wait -n -p done_pid # (a trap that ran meanwhile leaves done_pid unset)
  rc=$?
  done_pid=${done_pid:-}
  if [[ -n $done_pid && -n ${job_file[$done_pid]:-} ]]; then
    finish_file "$done_pid" "$rc"
  elif [[ -z $done_pid ]]; then
    # wait was interrupted (a trap) and may have reaped a job silently: collect the dead ones
    for p in "${!job_file[@]}"; do
      if ! kill -0 "$p" 2>/dev/null; then
        wait "$p" 2>/dev/null
        finish_file "$p" "$?"
      fi
    done
  fi
done
trap - INT TERM
((interrupted)) && fail "integration: interrupted (${#pending[@]} files not run)"

if ((${#file_secs[@]} > 0)); then
  cpu_all=0
  for f in "${!file_cpu[@]}"; do cpu_all=$((cpu_all + ${file_cpu[$f]:-0})); done
  say "integration times (wall clock, ${jobs} at once): $((SECONDS - int_start))s in all;" \
    "CPU (user + system of each file's processes): ${cpu_all}s in all"
  for f in "${!file_secs[@]}"; do
    printf '%6ss %6ss CPU  %s\n' "${file_secs[$f]}" "${file_cpu[$f]:-?}" "$(job_label "$f")"
  done | sort -rn
  say "slowest tests"
  sed -nE 's/^(not )?ok [0-9]+ (.*) in ([0-9]+)ms.*/\3 \2/p' "$LOGDIR/bats.tap" 2>/dev/null |
    sort -rn | head -n 10 | awk '{ printf "%6.1fs  %s\n", $1 / 1000, substr($0, index($0, " ") + 1) }'
fi

# --- leaks ----------------------------------------------------------------------------------------
say "leak check"
# The processes with a lab's path in their command line, found with one grep (a grep per process
# and prefix took minutes on a busy machine).
mapfile -t lab_procs < <(grep -alF /run/lanjoin-lab/ /proc/[0-9]*/cmdline 2>/dev/null)
while read -r kind value; do
  case $kind in
  prefix)
    # Also catches sub-labs a test builds under "${LAB_PREFIX%-}x-"; never another run's lab.
    stem=${value%-}
    while read -r n; do
      ours "$n" "$value" || continue
      pids=$(ip netns pids "$n" 2>/dev/null | xargs)
      fail "leak: network namespace '$n'${pids:+ with processes $pids}"
    done < <(for f in /run/netns/*; do [[ -e $f || -L $f ]] && echo "${f##*/}"; done) # no opens
    for d in /run/lanjoin-lab/"$stem"*; do
      [[ -e $d ]] && ours "${d##*/}" "$value" || continue
      fail "leak: lab directory $d; tearing that lab down"
      LAB_PREFIX=${d##*/} lab/lab.sh down || true
    done
    for c in "${lab_procs[@]}"; do
      if grep -qE "/run/lanjoin-lab/${stem}[a-z]?-" "$c" 2>/dev/null; then
        c=${c%/cmdline}
        fail "leak: process ${c#/proc/} ($(tr '\0' ' ' 2>/dev/null <"$c/cmdline" | cut -c1-100))"
      fi
    done
    ;;
  statedir)
    [[ ! -e $value ]] || fail "leak: lanjoin state directory $value"
    ;;
  esac
done <"$LJ_TEST_RECORD"
while read -r l; do
  [[ -n $l ]] && fail "leak: link '$l' in the root network namespace"
done < <(comm -13 <(echo "$before_links") <(root_links))
while read -r l; do
  [[ -n $l ]] && fail "leak: host path '$l' appeared during the run"
done < <(comm -13 <(echo "$before_paths") <(host_paths))

# --- summary --------------------------------------------------------------------------------------
if ((${#failures[@]} > 0)); then
  echo
  echo "== failures"
  for f in "${failures[@]}"; do
    echo "FAIL $f"
  done
  echo
fi
summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
