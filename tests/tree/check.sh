#!/usr/bin/env bash
# tests/tree/check.sh SRCROOT — the tree's own rules (doc/architecture.md), checked on every
# `meson test` (suite "tree"). Prints one line per violation and exits 1 if there is any.
#
#   format     every C file is as clang-format (.clang-format) writes it
#   layers     core knows no way (includes nothing from lib/ways or lib/steps); steps know no
#              way; kernel and foreign include nothing from ways or steps
#   circles    no include circle between modules (a .c and its .h are one module)
#   size       at most one file under src/ over 1000 lines
#   stdout     nothing below src/cli prints to stdout (printf, puts, fputs/fprintf to stdout)
#   cni        no netlink socket opened in src/cni (the library does that)
set -uo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root" || exit 2
bad=0
say() {
  echo "tree: $*"
  bad=1
}

mapfile -t csrc < <(find src tests bench -name '*.[ch]' -not -path '*/build*' | sort)
mapfile -t libsrc < <(find src/lib -name '*.[ch]' | sort)

# format
if command -v clang-format >/dev/null; then
  # one process for the whole tree; the files it names are the ones that differ
  if ! out=$(clang-format --dry-run --Werror "${csrc[@]}" 2>&1); then
    while read -r f; do
      say "format: $f differs from clang-format's output (clang-format -i $f)"
    done < <(sed -n 's/^\([^:]*\.[ch]\):[0-9]*:[0-9]*: .*/\1/p' <<<"$out" | sort -u)
  fi
else
  say "format: clang-format is not installed (scripts/install-deps.sh installs it)"
fi

# layers: lines "FILE: lib/LAYER/x.h"
includes() { grep -Ho '^#include "lib/[a-z]*/[a-z0-9_-]*\.h"' "$@" 2>/dev/null | sed 's/#include "//; s/"$//'; }
while IFS=: read -r f inc; do
  layer=${f#src/lib/}
  layer=${layer%%/*}
  to=${inc#lib/}
  to=${to%%/*}
  case $layer/$to in
  core/ways | core/steps) say "layers: $f includes $inc (the engine knows no way)" ;;
  steps/ways) say "layers: $f includes $inc (a step type knows no way)" ;;
  kernel/ways | kernel/steps | foreign/ways | foreign/steps) say "layers: $f includes $inc (kernel objects and foreign programs are below the ways and steps)" ;;
  esac
done < <(includes "${libsrc[@]}")

# circles: module = path without .c/.h; edges module -> included module (other than itself)
edges=$(for f in $(find src -name '*.[ch]' | sort); do
  m=${f%.[ch]}
  grep -o '^#include "[a-z]*/[a-z/0-9_-]*\.h"' "$f" | sed 's/#include "//; s/\.h"$//' |
    while read -r inc; do
      [[ src/$inc == "$m" ]] || echo "$m src/$inc"
    done
done | sort -u)
if ! out=$(tsort <<<"$edges" 2>&1 >/dev/null); then
  say "circles: $(tr '\n' ' ' <<<"$out")"
fi

# size
big=$(find src -name '*.[ch]' -exec wc -l {} + | awk '$2 != "total" && $1 > 1000 {print $2 " (" $1 ")"}')
if (($(grep -c . <<<"$big") > 1)); then
  say "size: more than one file over 1000 lines: $(tr '\n' ' ' <<<"$big")"
fi

# stdout below src/cli
if hits=$(grep -nE '(^|[^a-z_])(printf|puts|putchar|vprintf)\(|(fputs|fprintf|fwrite|fputc|vfprintf)\([^;]*\bstdout\b' \
  -r src/lib src/shared 2>/dev/null | grep -vE ':\s*(\*|//)'); then
  while read -r h; do say "stdout: $h"; done <<<"$hits"
fi

# no netlink socket in src/cni
if hits=$(grep -nE 'mnl_socket_open|lj_nl_open|AF_NETLINK|NETLINK_ROUTE' -r src/cni); then
  while read -r h; do say "cni: $h"; done <<<"$hits"
fi

exit "$bad"
