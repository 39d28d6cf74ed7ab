#!/usr/bin/env bash
# Runs the benchmarks: all of them, or those named (converge | io | generate | host).
#   npm run bench                 # generate, io, converge, host (fastest first; host last: it waits
#                                 # for the host-wide VM lock)
#   npm run bench -- io           # one benchmark
# Each prints its table, writes bench/results/<name>.json and <name>.svg and replaces its section of
# bench/results/REPORT.md. Benchmarks measure; they never fail on a timing. converge and io boot a
# QEMU guest (root needed for virtiofsd); host defines libvirt domains under the VM lock; see
# bench/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: bash bench/run.sh [converge|io|generate|host]..." >&2
}

run_one() {
  case $1 in
    converge) bash bench/converge/run.sh ;;
    io) bash bench/io/run.sh ;;
    host) bash bench/host/run.sh ;;
    generate) npx --no-install tsx bench/generate/run.ts ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(generate io converge host)
for n in "${names[@]}"; do
  case $n in converge | io | generate | host | -h | --help) ;; *)
    echo "unknown benchmark '$n'" >&2
    usage
    exit 2
    ;;
  esac
done
failed=()
for n in "${names[@]}"; do
  echo "=== bench: $n" >&2
  t0=$SECONDS
  if run_one "$n"; then
    echo "=== bench: $n done in $((SECONDS - t0)) s" >&2
  else
    echo "=== bench: $n FAILED after $((SECONDS - t0)) s (the report keeps its previous section)" >&2
    failed+=("$n")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
